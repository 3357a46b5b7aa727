// One HTTP connection (session.cpp), as the listener (listener.cpp) hands it on.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "kaoko/http/http.hpp"

namespace kaoko::server {

// Serves `socket` with `api` until the peer closes it or it idles out; a WebSocket upgrade of /api/v1/live goes to
// `hub` (when not null). Call on the socket's strand.
void ServeConnection(boost::asio::ip::tcp::socket socket, HttpApi& api, LiveHub* hub);

}  // namespace kaoko::server
