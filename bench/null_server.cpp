// dalil_null_server: answers every HTTP/1.1 request at once with 200 and a fixed JSON body of a
// chosen size, on one thread (Beast coroutines, keep-alive, TCP_NODELAY). It measures the floor
// of the server benchmark: what the load generator, the kernel's loopback and the wake-ups cost
// without any work behind them (scripts/bench-serve.sh --floor).
//
//   dalil_null_server --listen 127.0.0.1:8099 [--body-bytes 2048]
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <iostream>
#include <string>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
constexpr auto nothrow = net::as_tuple(net::use_awaitable);

net::awaitable<void> session(tcp::socket socket, const std::string& body) {
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  beast::flat_buffer buffer;
  while (true) {
    http::request<http::string_body> req;
    auto [read_error, n] = co_await http::async_read(socket, buffer, req, nothrow);
    if (read_error) break;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = body;
    res.prepare_payload();
    auto [write_error, w] = co_await http::async_write(socket, res, nothrow);
    if (write_error || !res.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_both, ignored);
}

net::awaitable<void> listen(tcp::acceptor& acceptor, const std::string& body) {
  while (true) {
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (ec == net::error::operation_aborted) co_return;
    if (!ec)
      net::co_spawn(acceptor.get_executor(), session(std::move(socket), body), net::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Answers every HTTP request with 200 and a fixed JSON body (the benchmark's floor)"};
  std::string listen_at;
  std::size_t body_bytes = 2;
  app.add_option("--listen", listen_at, "HOST:PORT (PORT 0: any; the port is printed)")->required();
  app.add_option("--body-bytes", body_bytes, "Size of the JSON body of every answer (min 2)");
  CLI11_PARSE(app, argc, argv);
  const std::size_t colon = listen_at.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "dalil_null_server: --listen must be HOST:PORT\n";
    return 2;
  }
  // {"pad":"xxx…"} of exactly body_bytes bytes when there is room for it, else {}.
  std::string body = "{}";
  if (body_bytes >= 11) body = "{\"pad\":\"" + std::string(body_bytes - 10, 'x') + "\"}";
  try {
    net::io_context ioc{1};
    const tcp::endpoint at(net::ip::make_address(listen_at.substr(0, colon)),
                           static_cast<unsigned short>(std::stoul(listen_at.substr(colon + 1))));
    tcp::acceptor acceptor(ioc, at);
    std::cout << "listening on " << acceptor.local_endpoint() << std::endl;
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const beast::error_code&, int) { ioc.stop(); });
    net::co_spawn(ioc, listen(acceptor, body), net::detached);
    ioc.run();
  } catch (const std::exception& e) {
    std::cerr << "dalil_null_server: cannot listen on " << listen_at << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
