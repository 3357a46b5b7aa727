// LineSim: the wiring of kaoko-line (line_sim.hpp).
#include "kaoko/sim/line_sim.hpp"

#include "kaoko/sim/line_routes.hpp"

namespace kaoko::sim {
namespace {

namespace asio = boost::asio;

LinePem OrSelfSigned(LinePem pem) {
  return pem.certificate.empty() || pem.private_key.empty() ? MakeSelfSignedCertificate() : pem;
}

asio::ssl::context ClientTls(const std::string& ca_file) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  if (ca_file.empty()) {
    ctx.set_default_verify_paths();
  } else {
    ctx.load_verify_file(ca_file);
  }
  return ctx;
}

}  // namespace

LineSim::LineSim(LineSimOptions options)
    : options_([&] {
        options.tls = OrSelfSigned(std::move(options.tls));
        return std::move(options);
      }()),
      server_tls_(LineServerTlsContext(options_.tls)),
      client_tls_(ClientTls(options_.webhook_ca_file)),
      platform_(options_.channel),
      webhook_(io_, platform_, options_.webhook_url, &client_tls_) {
  api_ = std::make_unique<LineHttpServer>(io_, options_.api_port, &server_tls_, [this](const LineRequest& r) {
    return RouteLineApi(platform_, webhook_, r);
  });
  control_ = std::make_unique<LineHttpServer>(io_, options_.control_port, nullptr, [this](const LineRequest& r) {
    return RouteLineControl(platform_, webhook_, r);
  });
}

LineSim::~LineSim() { Stop(); }

void LineSim::Start() {
  api_->Start();
  control_->Start();
  thread_ = std::thread([this] { io_.run(); });
}

void LineSim::Stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
  // The io_context no longer runs, so the acceptors are closed on this thread without a race.
  api_->Stop();
  control_->Stop();
}

}  // namespace kaoko::sim
