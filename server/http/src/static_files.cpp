// The people's pages: the static files of server/web (web_root) for every path outside /api/, with ETags, the
// pages' Content-Security-Policy, and no way out of the web root.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api.hpp"

namespace kaoko::server {
namespace {

struct ContentType {
  std::string_view ext;
  std::string_view type;
};
constexpr ContentType kContentTypes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
};

// The pages may talk to this service and to the broker's WebSocket listener (another port), nothing else.
constexpr const char* kPageCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; "
    "font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

// The file under the web root that `raw_path` names, with the friendly names of the screens ("/tao" → tao.html);
// nullopt when it may not be served (outside the root, hidden, encoded slashes).
std::optional<std::filesystem::path> WebFile(const std::string& web_root, const std::string& raw_path) {
  auto decoded = UrlDecode(raw_path);
  // Refuse anything that could step outside the web root: "..", ".", hidden files, backslashes, NULs, "%2f".
  if (!decoded || decoded->find('\0') != std::string::npos || decoded->find('\\') != std::string::npos) return {};
  if (raw_path.find("%2f") != std::string::npos || raw_path.find("%2F") != std::string::npos) return {};
  std::string rel;
  for (auto s : Segments(*decoded)) {
    if (s.empty() || s.front() == '.') return {};
    rel += "/";
    rel += s;
  }
  if (rel.empty()) rel = "/index.html";
  for (std::string_view page : {"/watcher", "/village", "/tao", "/login", "/province"}) {
    if (rel == page) rel += ".html";
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path root = fs::weakly_canonical(web_root, ec);
  fs::path file = fs::weakly_canonical(root / rel.substr(1), ec);
  auto [rend, fend] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  if (ec || rend != root.end()) return {};
  return file;
}

}  // namespace

Response StaticFile(ApiContext& ctx, const Request& req, const std::string& raw_path) {
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  if (ctx.web.web_root.empty())
    return ErrorJson(req, http::status::not_found, fmt::format("no such path: {}", raw_path));
  auto file = WebFile(ctx.web.web_root, raw_path);
  if (!file) return ErrorJson(req, http::status::bad_request, "bad path");
  struct stat st {};
  if (::stat(file->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return ErrorJson(req, http::status::not_found, fmt::format("no such path: {}", raw_path));
  }
  if (!get) return MethodNotAllowed(req, "GET", "GET, HEAD");
  std::string ext = file->extension().string();
  std::string_view type = "application/octet-stream";
  for (const auto& ct : kContentTypes) {
    if (ct.ext == ext) type = ct.type;
  }
  std::string etag = fmt::format(
      "\"{:x}-{:x}\"", static_cast<std::uint64_t>(st.st_size),
      static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
  Response res{http::status::ok, req.version()};
  res.keep_alive(req.keep_alive());
  // Small files that change with releases: revalidate each time (a 304 costs a weak line almost nothing).
  res.set(http::field::cache_control, "no-cache");
  res.set(http::field::etag, etag);
  res.set(http::field::content_type, std::string(type));
  SecurityHeaders(res);
  if (ext == ".html") res.set("Content-Security-Policy", kPageCsp);
  if (auto inm = req.find(http::field::if_none_match); inm != req.end() && inm->value() == etag) {
    res.result(http::status::not_modified);
    return res;
  }
  std::ifstream in(*file, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  res.body() = buf.str();
  res.prepare_payload();
  if (req.method() == http::verb::head) res.body().clear();
  return res;
}

}  // namespace kaoko::server
