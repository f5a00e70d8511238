// What the connection layer (server.cpp) and the handlers (handlers.cpp) share: the reply of a
// handler, what is known of a request besides its bytes, and the service that answers it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <sodium.h>

#include "server/problem.hpp"
#include "server/router.hpp"
#include "server/server.hpp"
#include "store/result.hpp"

namespace spdlog {
class logger;
}

namespace dalil::server {

/// Bodies longer than this are refused (413) before they are read.
inline constexpr std::size_t max_body = std::size_t{1} << 20;
/// Request headers longer than this are refused (431).
inline constexpr std::size_t header_limit = std::size_t{8} * 1024;

struct reply {
  boost::beast::http::status status = boost::beast::http::status::ok;
  std::string body;
  std::string_view content_type = "application/json";
  std::string set_cookie;
  std::string device_cookie;  // a second Set-Cookie (the login's known device)
  std::string location;
  std::string_view allow;
  int retry_after = 0;
  std::string decision_id;  // for the access log
};

/// A problem as a reply (problem+json, Retry-After when it says so).
reply problem_reply(const problem& p, std::string_view instance = {});

struct request_info {
  boost::beast::http::verb method = boost::beast::http::verb::unknown;
  std::string_view path;
  std::string_view query;
  std::string address;  // the client's IP address (login rate limits)
  bool secure = false;
  std::size_t thread = 0;  // the I/O thread handling the request
  std::string who_name;    // the principal's name once known (access log)
};

/// The allocator of a request's header fields: zeroes what it frees. They hold the target (an
/// applicant's id in the path of a read), the bearer token and the session cookie, which would
/// otherwise stay in freed memory until it is reused.
template <class T>
struct zeroing_allocator {
  using value_type = T;
  zeroing_allocator() = default;
  template <class U>
  // NOLINTNEXTLINE(google-explicit-constructor): converting, as std::allocator's
  zeroing_allocator(const zeroing_allocator<U>& /*other*/) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    sodium_memzero(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const zeroing_allocator<U>& /*other*/) const noexcept {
    return true;
  }
};
using request_fields = boost::beast::http::basic_fields<zeroing_allocator<char>>;
using request = boost::beast::http::request<boost::beast::http::string_body, request_fields>;
using request_parser =
    boost::beast::http::request_parser<boost::beast::http::string_body, zeroing_allocator<char>>;
using response = boost::beast::http::response<boost::beast::http::string_body>;

/// The answer to a request that could not be read whole (`in_header`: while reading its header;
/// `late`: its deadline passed): a problem, or nullopt when the client has simply gone (end of
/// stream) and the connection closes without an answer.
std::optional<reply> read_failure(const boost::system::error_code& ec, bool in_header, bool late);

/// `r` as the HTTP response sent, with the headers every response carries (`api`: an API
/// route's answer, never cached; `secure`: over TLS). Takes `r`'s body (a counter answer is
/// 56 KB: it is moved, not copied).
void finish_response(response& res, reply& r, bool api, bool secure, bool keep_alive,
                     unsigned version);

class service {
 public:
  /// Opens the store (migrating it), stores the ruleset, opens identity, the writer and one
  /// reading connection per thread.
  static store::result<std::unique_ptr<service>> open(const config& c,
                                                      std::shared_ptr<spdlog::logger> log);
  virtual ~service() = default;
  /// Answers one request (identity, roles, CSRF, then the route's handler). Never throws.
  virtual boost::asio::awaitable<reply> handle(request& req, const route_match& m,
                                               request_info& info) = 0;
  /// The server begins to stop (no new connection; the requests in flight finish): long work
  /// under way, the advisers' reports, ends early and answers 503. From any thread; asked again
  /// while requests are in flight.
  virtual void stopping() = 0;
  /// Drains the writer and closes the store.
  virtual void stop() = 0;
};

}  // namespace dalil::server
