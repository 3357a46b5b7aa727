// kaoko-smsc, the real Kannel and an HTTP recorder for the SMS integration tests (sms_support.hpp).
#include "sms_support.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "kaoko/testing/service.hpp"

namespace kaoko::testing {
namespace {

constexpr const char* kBearerbox = "/usr/sbin/bearerbox";
constexpr const char* kSmsbox = "/usr/sbin/smsbox";

int Listen(int& port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0) {
    close(fd);
    throw std::runtime_error(fmt::format("cannot listen on 127.0.0.1: {}", std::strerror(errno)));
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

Recorded ParseTarget(const std::string& target) {
  Recorded r;
  const auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q == std::string::npos) return r;
  std::istringstream in(target.substr(q + 1));
  std::string pair;
  while (std::getline(in, pair, '&')) {
    const auto eq = pair.find('=');
    r.query[UrlDecode(pair.substr(0, eq))] = eq == std::string::npos ? "" : UrlDecode(pair.substr(eq + 1));
  }
  return r;
}

// The inode numbers of the sockets a process has open.
std::set<std::string> SocketInodes(pid_t pid) {
  std::set<std::string> out;
  const std::string dir = fmt::format("/proc/{}/fd", pid);
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char link[256];
    const ssize_t n = readlink((dir + "/" + e->d_name).c_str(), link, sizeof link - 1);
    if (n <= 0) continue;
    const std::string target(link, static_cast<size_t>(n));
    if (target.rfind("socket:[", 0) == 0) out.insert(target.substr(8, target.size() - 9));
  }
  closedir(d);
  return out;
}

std::string HexToAddress(const std::string& hex) {
  const auto colon = hex.find(':');
  const std::string host = hex.substr(0, colon);
  const int port = std::stoi(hex.substr(colon + 1), nullptr, 16);
  if (host.size() == 8) {
    in_addr a{};
    a.s_addr = static_cast<in_addr_t>(std::stoul(host, nullptr, 16));
    return fmt::format("{}:{}", inet_ntoa(a), port);
  }
  in6_addr a6{};
  for (size_t i = 0; i < 4; ++i) {
    const uint32_t word = static_cast<uint32_t>(std::stoul(host.substr(i * 8, 8), nullptr, 16));
    std::memcpy(&a6.s6_addr[i * 4], &word, 4);
  }
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &a6, buf, sizeof buf);
  return fmt::format("[{}]:{}", buf, port);
}

}  // namespace

std::string UrlDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

size_t Utf8Length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

HttpRecorder::HttpRecorder() {
  listen_fd_ = Listen(port_);
  thread_ = std::thread([this] { Serve(); });
}

HttpRecorder::~HttpRecorder() {
  stop_ = true;
  thread_.join();
  close(listen_fd_);
}

void HttpRecorder::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::string request;
    char buf[4096];
    // Kannel's requests are GETs: the head is all there is. Bounded by a 5 s poll per read.
    while (request.find("\r\n\r\n") == std::string::npos) {
      pollfd c{fd, POLLIN, 0};
      if (poll(&c, 1, 5000) <= 0) break;
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    const auto sp1 = request.find(' ');
    const auto sp2 = request.find(' ', sp1 + 1);
    if (sp1 != std::string::npos && sp2 != std::string::npos) {
      std::lock_guard lock(mutex_);
      requests_.push_back(ParseTarget(request.substr(sp1 + 1, sp2 - sp1 - 1)));
    }
    const std::string answer =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    (void)!write(fd, answer.data(), answer.size());
    close(fd);
  }
}

std::vector<Recorded> HttpRecorder::Requests(const std::string& path) const {
  std::lock_guard lock(mutex_);
  std::vector<Recorded> out;
  for (const auto& r : requests_) {
    if (r.path == path) out.push_back(r);
  }
  return out;
}

std::string HttpRecorder::Dump() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& r : requests_) {
    out += r.path;
    for (const auto& [k, v] : r.query) out += fmt::format(" {}={}", k, v);
    out += '\n';
  }
  return out;
}

nlohmann::json SmscControl(int port, const std::string& line) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string out = line + "\n";
    (void)!write(fd, out.data(), out.size());
    char buf[4096];
    while (answer.find('\n') == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) break;
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      answer.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return answer.empty() ? nlohmann::json() : nlohmann::json::parse(answer, nullptr, false);
}

std::vector<std::string> ListeningAddresses(pid_t pid) {
  const auto inodes = SocketInodes(pid);
  std::vector<std::string> out;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the column names
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retr, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (state == "0A" && inodes.count(inode)) out.push_back(HexToAddress(local));  // 0A: LISTEN
    }
  }
  return out;
}

SmsRig::SmsRig(SmsRigOptions options) {
  std::set<int> taken = {http_.port()};
  if (options.sendsms_port != 0) {
    sendsms_port_ = options.sendsms_port;
    taken.insert(sendsms_port_);
  }
  for (int* port : {&smpp_port_, &control_port_, &admin_port_, &smsbox_port_, &sendsms_port_}) {
    if (*port != 0) continue;
    do {
      *port = FreePort();
    } while (!taken.insert(*port).second);  // FreePort may hand the same port out twice
  }
  { std::ofstream(dir() + "/phones.toml") << options.phones_toml; }
  WriteKannelConf(options);
  StartSmsc();
  StartKannel();
}

void SmsRig::KillKannel() {
  for (auto* p : {&smsbox_, &bearerbox_}) {
    if (!*p) continue;
    (*p)->Kill(SIGKILL);
    (*p)->Wait();
    p->reset();
  }
}

void SmsRig::StartKannel() {
  bearerbox_ =
      std::make_unique<Process>(std::vector<std::string>{kBearerbox, dir() + "/kannel.conf"}, dir() + "/bearerbox.out");
  if (!WaitFor([&] { return KannelBound(); }, std::chrono::seconds(20))) {
    throw std::runtime_error("bearerbox did not bind to kaoko-smsc within 20 s\n" + Logs());
  }
  smsbox_ = std::make_unique<Process>(std::vector<std::string>{kSmsbox, dir() + "/kannel.conf"}, dir() + "/smsbox.out");
  // smsbox answers on its sendsms port only after it has connected to bearerbox.
  const bool up = WaitFor([&] { return HttpRequest(sendsms_port_, "GET", "/").status != 0; }, std::chrono::seconds(20));
  if (!up) throw std::runtime_error("smsbox's sendsms port did not answer within 20 s\n" + Logs());
}

SmsRig::~SmsRig() {
  // A failed REQUIRE unwinds through here: say what the three processes and the listener saw.
  if (std::uncaught_exceptions() > 0) std::cerr << "sms rig in " << dir() << ":\n" << Logs();
  smsbox_.reset();
  bearerbox_.reset();
  smsc_.reset();
}

void SmsRig::WriteKannelConf(const SmsRigOptions& o) {
  const std::string d = dir();
  std::ofstream(d + "/kannel.conf") << fmt::format(
      R"(# Generated by tests/sms (sms_support.cpp): every port on 127.0.0.1.
group = core
admin-port = {admin}
admin-interface = 127.0.0.1
admin-password = test-admin
smsbox-port = {smsbox}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = "{d}/bearerbox.log"
log-level = 0
access-log = "{d}/access.log"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = sim
host = 127.0.0.1
port = {smpp}
transceiver-mode = true
smsc-username = kaoko
smsc-password = secret
system-type = ""
msg-id-type = {msg_id_type}
reconnect-delay = 1
enquire-link-interval = 5

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
log-file = "{d}/smsbox.log"
log-level = 0
mo-recode = true

group = sendsms-user
username = kaoko
password = secret
max-messages = 5
concatenation = true

group = sms-service
keyword = default
catch-all = true
get-url = "{get_url}"
max-messages = 0
)",
      fmt::arg("admin", admin_port_), fmt::arg("smsbox", smsbox_port_), fmt::arg("smpp", smpp_port_),
      fmt::arg("sendsms", sendsms_port_), fmt::arg("http", http_.port()), fmt::arg("d", d),
      fmt::arg("msg_id_type", o.msg_id_type),
      fmt::arg("get_url", o.get_url.empty() ? fmt::format("http://127.0.0.1:{}/mo?from=%p&to=%P&text=%b&coding=%c&"
                                                          "charset=%C&smsc=%i",
                                                          http_.port())
                                            : o.get_url));
}

void SmsRig::StartSmsc() {
  smsc_ = std::make_unique<Process>(
      std::vector<std::string>{KAOKO_SMSC_TOOL, "--config", dir() + "/phones.toml", "--port",
                               std::to_string(smpp_port_), "--control-port", std::to_string(control_port_)},
      dir() + "/kaoko-smsc.log");
  if (!WaitFor([&] { return !Control("status").is_null(); }, std::chrono::seconds(10))) {
    throw std::runtime_error("kaoko-smsc's control port did not answer within 10 s\n" + Logs());
  }
}

void SmsRig::KillSmsc() {
  smsc_->Kill(SIGKILL);
  smsc_->Wait();
}

bool SmsRig::KannelBound() const {
  const auto status = Control("status");
  if (status.is_null()) return false;
  for (const auto& link : status["links"]) {
    if (link["bound_as"] == "transceiver") return true;
  }
  return false;
}

std::pair<int, std::string> SmsRig::SendSms(const std::map<std::string, std::string>& params) {
  std::string target = "/cgi-bin/sendsms?username=kaoko&password=secret&from=KAOKO";
  for (const auto& [k, v] : params) target += "&" + k + "=" + UrlEncode(v);
  const auto res = HttpRequest(sendsms_port_, "GET", target);
  return {res.status, res.body};
}

nlohmann::json SmsRig::WaitForMessage(const std::string& number, size_t count,
                                      std::chrono::milliseconds timeout) const {
  nlohmann::json inbox;
  const bool arrived = WaitFor(
      [&] {
        inbox = Control("inbox " + number);
        if (inbox.is_null() || inbox["messages"].size() < count) return false;
        return inbox["messages"][count - 1]["complete"] == true;
      },
      timeout);
  return arrived ? inbox : nlohmann::json();
}

std::string SmsRig::DlrUrl(const std::string& tag) const {
  return fmt::format("http://127.0.0.1:{}/dlr?tag={}&type=%d&reply=%A&to=%p&smsc=%i", http_.port(), tag);
}

std::string SmsRig::Logs() const {
  std::string out;
  for (const char* name : {"kaoko-smsc.log", "bearerbox.log", "smsbox.log", "bearerbox.out", "smsbox.out"}) {
    out += fmt::format("--- {} ---\n{}\n", name, Tail(dir() + "/" + name, 25));
  }
  return out + "--- http requests ---\n" + http_.Dump();
}

}  // namespace kaoko::testing
