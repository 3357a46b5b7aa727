#include "kaoko/live/live.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>

#include "kaoko/common/log.hpp"

namespace kaoko::server {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using json = nlohmann::json;
namespace http = beast::http;

// One browser's WebSocket. Lives as long as an asynchronous operation holds its shared_ptr; the hub only keeps a
// raw pointer between Join (after the handshake) and Leave (in the destructor), both on the io_context's thread.
class LiveSession : public std::enable_shared_from_this<LiveSession> {
 public:
  LiveSession(asio::ip::tcp::socket&& socket, LiveHub& hub, LiveFilter filter)
      : ws_(std::move(socket)), hub_(hub), filter_(std::move(filter)) {}
  ~LiveSession() {
    if (joined_) hub_.Leave(this);
  }

  const LiveFilter& filter() const { return filter_; }

  void Run(http::request<http::string_body> request) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));  // pings idle clients
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "kaoko"); }));
    ws_.read_message_max(4096);
    req_ = std::move(request);
    ws_.async_accept(req_, beast::bind_front_handler(&LiveSession::OnAccept, shared_from_this()));
  }

  // Queues a frame; called on the io_context's thread by the hub. Post our work to the strand: the session's members
  // are then never touched concurrently.
  void Send(std::shared_ptr<const std::string> frame) {
    asio::post(ws_.get_executor(), beast::bind_front_handler(&LiveSession::OnSend, shared_from_this(), frame));
  }

 private:
  void OnAccept(beast::error_code ec) {
    if (ec) return;
    joined_ = true;
    hub_.Join(this);
    Send(std::make_shared<const std::string>(json{{"hello", filter_.user}}.dump()));
    Read();
  }
  // The pages send nothing; reading keeps the connection's close handshake and pings working.
  void Read() { ws_.async_read(buffer_, beast::bind_front_handler(&LiveSession::OnRead, shared_from_this())); }
  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) return;  // closed: the last shared_ptr goes with the pending write, if any
    buffer_.consume(buffer_.size());
    Read();
  }
  void OnSend(std::shared_ptr<const std::string> frame) {
    if (dropped_) return;
    if (queue_.size() >= LiveHub::kMaxQueuedFrames) {
      // A slow client (a phone on a bad line) is dropped rather than let it hold memory; it reconnects and reloads.
      dropped_ = true;
      queue_.clear();
      if (log::ShouldLog("live_slow")) log::Warn("live", "dropped the slow live client of {}", filter_.user);
      beast::get_lowest_layer(ws_).close();
      return;
    }
    queue_.push_back(std::move(frame));
    if (queue_.size() > 1) return;  // a write is in progress
    Write();
  }
  void Write() {
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()),
                    beast::bind_front_handler(&LiveSession::OnWrite, shared_from_this()));
  }
  void OnWrite(beast::error_code ec, std::size_t) {
    if (ec) {
      queue_.clear();
      return;
    }
    queue_.pop_front();
    if (!queue_.empty()) Write();
  }

  websocket::stream<beast::tcp_stream> ws_;
  LiveHub& hub_;
  LiveFilter filter_;
  http::request<http::string_body> req_;
  beast::flat_buffer buffer_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  bool joined_ = false;
  bool dropped_ = false;
};

LiveHub::LiveHub(const alerting::Network& /*network*/, std::function<std::optional<json>(std::int64_t)> incident_json,
                 Metrics& metrics)
    : incident_json_(std::move(incident_json)), metrics_(metrics) {}

void LiveHub::Accept(asio::ip::tcp::socket socket, http::request<http::string_body> request, LiveFilter filter) {
  std::make_shared<LiveSession>(std::move(socket), *this, std::move(filter))->Run(std::move(request));
}

namespace {
// {"data":…,"type":…}: one event of a frame, from its rendered data.
std::string EventText(std::string_view type, std::string_view data) {
  std::string out = R"({"data":)";
  out += data;
  out += R"(,"type":)";
  out += json(type).dump();
  out += '}';
  return out;
}
}  // namespace

void LiveHub::Broadcast(const std::vector<LiveEvent>& events) {
  if (sessions_.empty() || events.empty()) return;
  // Each event's text once, with whose it is; a session's frame is then the texts it may see, joined.
  struct Item {
    std::string text;
    const std::string* village;
    const std::string* user;
  };
  std::vector<std::string> incident_villages;  // the villages of incidents read here (Items point into it)
  incident_villages.reserve(events.size());
  std::vector<Item> items;
  items.reserve(events.size());
  for (const auto& e : events) {
    if (e.type != "incident") {
      items.push_back({EventText(e.type, e.json), &e.village, &e.user});
      continue;
    }
    // The incident as stored after the commit (what the pages show), not the event's bare id.
    auto full = incident_json_(e.incident);
    if (!full) continue;
    incident_villages.push_back(full->value("village", ""));
    items.push_back({EventText(e.type, full->dump(-1, ' ', false, json::error_handler_t::replace)),
                     &incident_villages.back(), &e.user});
  }
  std::string frame;
  for (LiveSession* s : sessions_) {
    const LiveFilter& f = s->filter();
    frame = R"({"events":[)";
    bool any = false;
    for (const auto& it : items) {
      if (!it.user->empty() && *it.user != f.user) continue;  // notifications reach only their person
      if (!f.all && it.user->empty() && *it.village != f.village) continue;
      if (any) frame += ',';
      frame += it.text;
      any = true;
    }
    if (!any) continue;
    frame += "]}";
    s->Send(std::make_shared<const std::string>(frame));
  }
}

}  // namespace kaoko::server
