// What the server tests share: a real HTTP/1.1 client over a loopback connection, the CLI run
// as an administrator runs it, and a validator of the OpenAPI document's JSON Schema subset.
// (Every server test includes it: no test keeps its own client.)
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace dalil::test_support {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

/// Runs a shell command; its standard output (and whatever the command redirects to it).
/// REQUIREs exit status 0.
inline std::string run(const std::string& command) {
  std::string out;
  FILE* f = popen(command.c_str(), "r");
  REQUIRE(f);
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int rc = pclose(f);
  INFO(command << "\n" << out);
  REQUIRE(rc == 0);
  return out;
}

inline std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1);
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Runs a shell command; its exit status and output (nothing required).
inline int run_status(const std::string& command, std::string& out) {
  out.clear();
  FILE* f = popen(command.c_str(), "r");
  REQUIRE(f);
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int rc = pclose(f);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

struct response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; a repeated one: its first
  std::vector<std::string> cookies;            // every Set-Cookie, in order
  std::string body;
  json::value parsed() const {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    INFO(body.substr(0, 500));
    REQUIRE_FALSE(ec);
    return v;
  }
};

struct auth_header {
  std::string bearer;
  std::string cookie;
  std::string csrf;
  std::string device{};  // a known-device cookie, NAME=VALUE (__Secure-dalil-device-…)
};

/// A real HTTP/1.1 client over a new connection per request.
inline response call(std::uint16_t port, http::verb method, const std::string& target,
                     const std::string& body = {}, const auth_header& who = {},
                     const std::string& content_type = "application/json") {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req(method, target, 11);
  req.set(http::field::host, "localhost");
  if (!who.bearer.empty()) req.set(http::field::authorization, "Bearer " + who.bearer);
  std::string cookies;
  if (!who.cookie.empty()) cookies = "__Host-dalil=" + who.cookie;
  if (!who.device.empty()) {
    cookies += (cookies.empty() ? "" : "; ") + who.device;
  }
  if (!cookies.empty()) req.set(http::field::cookie, cookies);
  if (!who.csrf.empty()) req.set("X-CSRF-Token", who.csrf);
  if (!body.empty() || method == http::verb::post || method == http::verb::put) {
    req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
  }
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{64} * 1024 * 1024);
  http::read(stream, buffer, parser);
  response r;
  r.status = static_cast<int>(parser.get().result_int());
  for (const auto& f : parser.get()) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "set-cookie") r.cookies.emplace_back(f.value());
    r.headers.emplace(name, std::string(f.value()));
  }
  r.body = parser.get().body();
  return r;
}

// ---- A small validator of the JSON Schema subset the OpenAPI document uses -------------------

struct validator {
  const json::object& schemas;
  std::vector<std::string> errors;

  bool type_ok(const json::value& v, std::string_view t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "integer") return v.is_int64() || v.is_uint64();
    if (t == "number") return v.is_number();
    if (t == "boolean") return v.is_bool();
    if (t == "null") return v.is_null();
    return false;
  }
  void check(const json::value& v, const json::object& schema, const std::string& at) {
    if (auto* r = schema.if_contains("$ref")) {
      std::string name(r->as_string());
      name = name.substr(name.rfind('/') + 1);
      REQUIRE(schemas.contains(name));
      check(v, schemas.at(name).as_object(), at);
      return;
    }
    if (auto* t = schema.if_contains("type")) {
      bool ok = false;
      if (t->is_string()) {
        ok = type_ok(v, t->as_string());
      } else {
        for (const auto& x : t->as_array()) ok = ok || type_ok(v, x.as_string());
      }
      if (!ok) {
        errors.push_back(at + ": wrong type");
        return;
      }
    }
    if (auto* e = schema.if_contains("enum")) {
      bool found = false;
      for (const auto& x : e->as_array()) found = found || x == v;
      if (!found) errors.push_back(at + ": not one of the enum");
    }
    if (v.is_object()) {
      const json::object& o = v.as_object();
      if (auto* req = schema.if_contains("required")) {
        for (const auto& k : req->as_array()) {
          if (!o.contains(k.as_string()))
            errors.push_back(at + ": lacks " + std::string(k.as_string()));
        }
      }
      const json::object* props =
          schema.if_contains("properties") ? &schema.at("properties").as_object() : nullptr;
      for (const auto& kv : o) {
        std::string k(kv.key());
        if (props && props->contains(k)) {
          check(kv.value(), props->at(k).as_object(), std::string(at).append("/").append(k));
        } else if (auto* ap = schema.if_contains("additionalProperties")) {
          if (ap->is_bool() && !ap->as_bool()) {
            errors.push_back(
                std::string(at).append(": has ").append(k).append(", not in the document"));
          } else if (ap->is_object()) {
            check(kv.value(), ap->as_object(), std::string(at).append("/").append(k));
          }
        }
      }
    }
    if (v.is_array()) {
      if (auto* items = schema.if_contains("items")) {
        std::size_t i = 0;
        for (const auto& x : v.as_array())
          check(x, items->as_object(), at + "/" + std::to_string(i++));
      }
    }
  }
};

/// Checks a response against the document: the path and method exist, the status is listed,
/// and the body fits its schema.
inline void conforms(const json::value& doc, const std::string& path, const std::string& method,
                     const response& r) {
  INFO(method << " " << path << " → " << r.status << " " << r.body.substr(0, 300));
  const json::object& paths = doc.at("paths").as_object();
  REQUIRE(paths.contains(path));
  const json::object& op = paths.at(path).as_object().at(method).as_object();
  const json::object& responses = op.at("responses").as_object();
  std::string code = std::to_string(r.status);
  REQUIRE(responses.contains(code));
  const json::object& resp = responses.at(code).as_object();
  if (!resp.contains("content") || r.body.empty()) return;
  const json::object& content = resp.at("content").as_object();
  std::string ct = r.headers.count("content-type") ? r.headers.at("content-type") : "";
  REQUIRE(content.contains(ct));
  validator v{doc.at("components").as_object().at("schemas").as_object(), {}};
  v.check(r.parsed(), content.at(ct).as_object().at("schema").as_object(), "");
  for (const auto& e : v.errors) FAIL_CHECK(e);
}

}  // namespace dalil::test_support
