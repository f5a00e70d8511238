// The connection layer's answer to a connection's bytes, synchronously (fuzz_entry.hpp). It
// follows server::impl::serve step by step; the pieces that decide anything (the parser's
// limits, read_failure, match, the service, finish_response) are the server's own.
#include "server/fuzz_entry.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <optional>
#include <sstream>
#include <utility>

namespace dalil::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

/// A SyncReadStream over the connection's bytes: each read gets what fits, then end of file.
class bytes_stream {
 public:
  explicit bytes_stream(std::string_view bytes) : rest_(bytes) {}

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    if (rest_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    ec = {};
    std::size_t n = asio::buffer_copy(buffers, asio::buffer(rest_.data(), rest_.size()));
    rest_.remove_prefix(n);
    return n;
  }

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view rest_;
};

/// Runs the service's coroutine for one request to its end on this thread (the writer's thread
/// completes writes by posting to the context, which waits for them).
reply handle_now(service& svc, request& req, const route_match& m, request_info& info) {
  asio::io_context ioc(1);
  auto work = asio::make_work_guard(ioc);
  std::optional<reply> out;
  std::exception_ptr failure;
  asio::co_spawn(ioc, svc.handle(req, m, info), [&](std::exception_ptr e, reply r) {
    failure = std::move(e);
    out = std::move(r);
    work.reset();
  });
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*out);
}

}  // namespace

std::vector<exchange> answer_connection(service& svc, std::string_view bytes,
                                        const std::string& address) {
  std::vector<exchange> out;
  bytes_stream stream(bytes);
  beast::flat_buffer buffer;
  boost::system::error_code dec;
  // A TLS ClientHello on a server without a certificate, or too few bytes to tell: closed.
  bool is_tls = beast::detect_ssl(stream, buffer, dec);
  if (dec || is_tls) return out;
  for (;;) {
    if (buffer.size() == 0) {
      boost::system::error_code ec;
      std::size_t n = stream.read_some(buffer.prepare(4096), ec);
      if (ec) return out;
      buffer.commit(n);
    }
    request_parser parser;
    parser.header_limit(header_limit);
    parser.body_limit(max_body);
    exchange x;
    boost::system::error_code hec;
    http::read_header(stream, buffer, parser, hec);
    std::string route_name = "-";
    if (hec) {
      auto failed = read_failure(hec, true, false);
      if (!failed) return out;
      x.close = true;
      x.answer = std::move(*failed);
    } else {
      boost::system::error_code bec;
      http::read(stream, buffer, parser, bec);
      if (bec) {
        auto failed = read_failure(bec, false, false);
        if (!failed) return out;
        x.close = true;
        x.answer = std::move(*failed);
      } else {
        request& req = parser.get();
        request_info info;
        info.address = address;
        info.method = req.method();
        // As server.cpp's split_target: the path before '?', nothing decoded.
        std::string_view target = req.target();
        auto q = target.find('?');
        info.path = target.substr(0, q);
        info.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
        route_match m = match(req.method(), info.path);
        if (m.r != nullptr) route_name = std::string(m.r->pattern);
        x.handled = true;
        x.r = m.r;
        x.target = std::string(target);
        x.body = req.body();
        x.answer = handle_now(svc, req, m, info);
        x.close = !req.keep_alive();
      }
    }
    bool api = route_name.rfind("/api/", 0) == 0 || route_name == "/healthz" || route_name == "-";
    reply sent = x.answer;  // finish_response takes the body; the answer keeps its own
    finish_response(x.sent, sent, api, false, !x.close,
                    parser.get().version() ? parser.get().version() : 11);
    std::ostringstream wire;
    wire << x.sent;
    x.wire = std::move(wire).str();
    bool close = x.close;
    out.push_back(std::move(x));
    if (close) return out;
  }
}

}  // namespace dalil::server
