// The server (server.hpp): listener, connections (plain or TLS, detected), request reading with
// bounded sizes and deadlines, identity and roles by the route table, and the access log.
// The handlers themselves are in handlers.cpp.
#include "server/server.hpp"

#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <sodium.h>
#include <sys/resource.h>

#include "server/context.hpp"
#include "server/problem.hpp"
#include "server/router.hpp"
#include "store/crypto.hpp"
#include "store/store.hpp"

namespace dalil::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

const char* const csp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

bool is_loopback(const std::string& host) {
  boost::system::error_code ec;
  auto a = asio::ip::make_address(host, ec);
  if (ec) return host == "localhost";
  return a.is_loopback();
}

/// Splits "path?query" and decodes nothing: routes compare raw segments; the handlers decode the
/// segments they read (an applicant's id: path_segment in handlers.cpp).
std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

}  // namespace

/// One connection: its coroutine state, for a graceful stop.
struct connection {
  // The socket under whichever stream serves the connection (null while none does), shut down
  // by a stop on the connection's thread. A plain pointer set by the session itself, not a lambda
  // capturing the coroutine's locals by reference: GCC 12 can capture such a local's address
  // outside the coroutine frame (ASan saw close() on garbage).
  tcp::socket* socket = nullptr;
  bool busy = false;  // a request is being handled: let it finish
  void close() const {
    if (socket == nullptr) return;
    boost::system::error_code e;
    socket->shutdown(tcp::socket::shutdown_both, e);
    socket->close(e);
  }
};

namespace {

/// A request's read deadline. Beast's own expiry closes the socket when it passes, which leaves
/// nothing to answer a slow client with; this one cancels the pending read instead, so that the
/// session can still send a 408. Shared by the session and its timer's handler, never a
/// coroutine local captured by a lambda: the handler touches the socket only while `armed`,
/// which is true only while the session is suspended on the read, and the session clears it
/// (and the socket) before its frame ends.
struct read_deadline {
  tcp::socket* socket = nullptr;
  bool armed = false;
  bool fired = false;  // the deadline passed during the read
};

/// Clears the deadline when the session's frame ends, however it ends.
struct read_deadline_guard {
  std::shared_ptr<read_deadline> d = std::make_shared<read_deadline>();
  read_deadline_guard() = default;
  read_deadline_guard(const read_deadline_guard&) = delete;
  read_deadline_guard& operator=(const read_deadline_guard&) = delete;
  ~read_deadline_guard() {
    d->armed = false;
    d->socket = nullptr;
  }
};

void arm(asio::steady_timer& timer, const std::shared_ptr<read_deadline>& d,
         std::chrono::milliseconds after) {
  d->armed = true;
  d->fired = false;
  timer.expires_after(after);
  timer.async_wait([d](const boost::system::error_code& ec) {
    if (ec || !d->armed || d->socket == nullptr) return;
    d->fired = true;
    boost::system::error_code ignored;
    d->socket->cancel(ignored);  // the read ends with operation_aborted; the socket stays open
  });
}

/// Ends the deadline of a read that has completed; true when it had passed during the read.
bool disarm(asio::steady_timer& timer, read_deadline& d) {
  d.armed = false;
  timer.cancel();
  return d.fired;
}

/// Zeroes every byte `buffer` held once none is left unread (a request's bytes: an applicant's
/// record among them); its storage stays for the next request. Bytes of a request sent behind
/// this one (pipelined) wait for the next call.
void wipe_read(beast::flat_buffer& buffer) {
  if (buffer.size() != 0) return;
  auto space = buffer.prepare(buffer.capacity());
  sodium_memzero(space.data(), space.size());
}

}  // namespace

struct server::impl {
  config cfg;
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<service> svc;
  // Sessions begun and not ended, across threads: declared before the contexts, whose
  // destruction ends the sessions still pending, each counting itself down.
  std::atomic<std::size_t> open_connections{0};
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::list<connection*>> connections;  // per context, touched only by its thread
  std::vector<std::thread> threads;
  std::unique_ptr<asio::ssl::context> tls;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::signal_set> signals;
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};          // requests being handled, across threads
  std::atomic<bool> flush_queued{false};  // a flush of the access log waits on an I/O context
  std::thread stopper;  // stops the I/O threads once the requests in flight are done
  std::atomic<std::size_t> next_context{0};
  std::size_t max_connections = 16;  // cfg.max_connections, resolved at start
  std::uint16_t bound_port = 0;
  std::mutex stop_mutex;
  bool joined = false;

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(tcp::socket socket, std::size_t index);
  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, beast::flat_buffer& buffer, connection& conn,
                              std::size_t index, bool secure, const std::string& address);
  void begin_stop();
  void join();
};

/// Writes a response with the headers every response carries. Takes the reply's body (the
/// answer is not copied: 56 KB for a counter answer).
void finish_response(response& res, reply& r, bool api, bool secure, bool keep_alive,
                     unsigned version) {
  res.version(version);
  res.result(r.status);
  res.set(http::field::server, "dalil");
  res.set(http::field::content_type, r.content_type);
  res.set("Content-Security-Policy", csp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set(http::field::cache_control, api ? "no-store" : "no-cache");
  if (secure) res.set(http::field::strict_transport_security, "max-age=31536000");
  if (!r.set_cookie.empty()) res.insert(http::field::set_cookie, r.set_cookie);
  if (!r.device_cookie.empty()) res.insert(http::field::set_cookie, r.device_cookie);
  if (!r.location.empty()) res.set(http::field::location, r.location);
  if (!r.allow.empty()) res.set(http::field::allow, r.allow);
  if (r.retry_after > 0) res.set(http::field::retry_after, std::to_string(r.retry_after));
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
}

std::optional<reply> read_failure(const boost::system::error_code& ec, bool in_header, bool late) {
  if (late) {
    return problem_reply(timed_out(in_header ? "the request header did not arrive in time"
                                             : "the request body did not arrive in time"));
  }
  if (ec == http::error::end_of_stream || ec == asio::error::eof) return std::nullopt;
  if (in_header && ec == http::error::header_limit) {
    return problem_reply(header_too_large("the request header is longer than 8 KiB"));
  }
  if (ec == http::error::body_limit) {
    return problem_reply(too_large("the body is longer than 1 MiB (1048576 bytes)"));
  }
  return problem_reply(bad_request(in_header ? "the request is not well-formed HTTP/1.1"
                                             : "the request body is not well-formed"));
}

template <class Stream>
asio::awaitable<void> server::impl::serve(Stream& stream, beast::flat_buffer& buffer,
                                          connection& conn, std::size_t index, bool secure,
                                          const std::string& address) {
  auto& lowest = beast::get_lowest_layer(stream);
  response res;
  read_deadline_guard guard;
  guard.d->socket = &lowest.socket();
  asio::steady_timer timer(lowest.get_executor());
  for (;;) {
    if (stopping) co_return;
    // Idle between requests: wait for the first byte within idle_timeout.
    if (buffer.size() == 0) {
      lowest.expires_after(cfg.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), tuple_awaitable);
      if (ec) co_return;
      buffer.commit(n);
    }
    conn.busy = true;
    ++in_flight;
    auto started = std::chrono::steady_clock::now();
    request_parser parser;
    // The request's body holds an applicant's record: zeroed before its memory is freed, on
    // every way out of this request (a body cut off by the client too), as the record and the
    // outcomes are.
    struct body_wipe {
      request_parser& p;
      ~body_wipe() { store::crypto::wipe(p.get().body()); }
    } wipe_body{parser};
    parser.header_limit(header_limit);
    parser.body_limit(max_body);
    // A header or body that does not arrive by its deadline (bytes have come: the idle wait
    // above saw the first) is answered 408 and the connection closed.
    lowest.expires_never();
    arm(timer, guard.d, cfg.header_timeout);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, tuple_awaitable);
    bool header_late = disarm(timer, *guard.d) && hec == asio::error::operation_aborted;
    reply r;
    bool close_after = false;
    std::string route_name = "-";
    request_info info;
    info.address = address;
    info.secure = secure;
    info.thread = index;
    if (hec) {
      auto failed = read_failure(hec, true, header_late);
      if (!failed) co_return;
      close_after = true;
      r = std::move(*failed);
    } else {
      arm(timer, guard.d, cfg.body_timeout);
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
      bool body_late = disarm(timer, *guard.d) && bec == asio::error::operation_aborted;
      if (body_late || bec) {
        auto failed = read_failure(bec, false, body_late);
        if (!failed) co_return;
        close_after = true;
        r = std::move(*failed);
      } else {
        auto& req = parser.get();
        info.method = req.method();
        auto [path, query] = split_target(req.target());
        info.path = path;
        info.query = query;
        route_match m = match(req.method(), path);
        if (m.r != nullptr) route_name = std::string(m.r->pattern);
        r = co_await svc->handle(req, m, info);
        close_after = !req.keep_alive();
      }
    }
    if (stopping) close_after = true;
    bool api = route_name.rfind("/api/", 0) == 0 || route_name == "/healthz" || route_name == "-";
    finish_response(res, r, api, secure, !close_after,
                    parser.get().version() ? parser.get().version() : 11);
    lowest.expires_after(cfg.body_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, tuple_awaitable);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
    // One line per request: never a body, an applicant id, a name or any value sent.
    log->info("{} {} {} {}us {} {}", hec ? "-" : std::string(http::to_string(info.method)),
              route_name, static_cast<unsigned>(r.status), micros,
              info.who_name.empty() ? "-" : info.who_name,
              r.decision_id.empty() ? "-" : r.decision_id);
    // The line reaches the file once this thread has run the handlers that were ready: at once
    // when the server is idle, one write for many lines when it is busy (a write per request
    // was 1-2% of the server's CPU at saturation). One flush queued at a time.
    if (!flush_queued.exchange(true)) {
      asio::post(co_await asio::this_coro::executor, [this] {
        flush_queued = false;
        log->flush();
      });
    }
    // The answer holds the applicant's values in words, the read buffer the request's bytes:
    // zeroed before their memory is freed or reused.
    store::crypto::wipe(res.body());
    wipe_read(buffer);
    conn.busy = false;
    --in_flight;
    res = {};
    if (wec || close_after) co_return;
  }
}

asio::awaitable<void> server::impl::session(tcp::socket socket, std::size_t index) {
  // Counted by accept_loop when it accepted the socket; uncounted however the session ends.
  struct counted {
    std::atomic<std::size_t>& n;
    explicit counted(std::atomic<std::size_t>& c) : n(c) {}
    counted(const counted&) = delete;
    counted& operator=(const counted&) = delete;
    ~counted() { --n; }
  } const count(open_connections);
  connection conn;
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::string address;
  {
    auto ep = socket.remote_endpoint(ignored);
    if (!ignored) address = ep.address().to_string();
  }
  beast::tcp_stream stream(std::move(socket));
  auto& list = connections[index];
  auto it = list.insert(list.end(), &conn);
  conn.socket = &stream.socket();
  beast::flat_buffer buffer;
  try {
    stream.expires_after(cfg.header_timeout);
    auto [dec, is_tls] = co_await beast::async_detect_ssl(stream, buffer, tuple_awaitable);
    if (!dec && is_tls && tls) {
      conn.socket = nullptr;
      beast::ssl_stream<beast::tcp_stream> ssl(std::move(stream), *tls);
      conn.socket = &beast::get_lowest_layer(ssl).socket();
      beast::get_lowest_layer(ssl).expires_after(cfg.header_timeout);
      auto [hec, used] = co_await ssl.async_handshake(asio::ssl::stream_base::server, buffer.data(),
                                                      tuple_awaitable);
      if (!hec) {
        buffer.consume(used);
        co_await serve(ssl, buffer, conn, index, true, address);
        // No TLS close_notify exchange: the client has gone or the server is stopping, and
        // waiting for a peer's reply here would hold the stop (and a stop during that wait
        // closed the socket under the TLS stream's pending operation: UBSan saw a null service).
        beast::get_lowest_layer(ssl).socket().shutdown(tcp::socket::shutdown_both, ignored);
      }
      conn.socket = nullptr;  // `ssl` ends here
    } else if (!dec && !is_tls && is_loopback(cfg.host)) {
      co_await serve(stream, buffer, conn, index, false, address);
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    // Otherwise: plain HTTP on a public address, or TLS without a certificate: closed.
  } catch (const std::exception& e) {
    log->error("connection failed: {}", e.what());
  }
  buffer.consume(buffer.size());  // what a closed connection left unread
  wipe_read(buffer);
  conn.socket = nullptr;
  list.erase(it);
}

asio::awaitable<void> server::impl::accept_loop() {
  // A failed accept (no descriptor left: EMFILE, ENFILE; no memory) fails again at once while
  // its cause lasts: each is followed by a pause, and logged at most once every 10 s with the
  // count since, not once per failure (which spun a core and wrote 100 MB of log a second).
  constexpr auto log_every = std::chrono::seconds(10);
  asio::steady_timer pause(co_await asio::this_coro::executor);
  auto last_line = std::chrono::steady_clock::now() - log_every;
  std::size_t failures = 0;
  auto last_limit_line = std::chrono::steady_clock::now() - log_every;
  std::size_t limits_reached = 0;
  for (;;) {
    // At the limit, new connections wait in the listen queue until one closes: descriptors
    // stay for the store and the log. Said at most once every 10 s, with the count since (a
    // client holding the limit would otherwise make a line of each connection it recycles).
    if (open_connections.load() >= max_connections) {
      ++limits_reached;
      if (const auto now = std::chrono::steady_clock::now(); now - last_limit_line >= log_every) {
        log->warn(
            "{} connections open, the limit (--max-connections): new ones wait ({} time{} "
            "since the last such line)",
            max_connections, limits_reached, limits_reached == 1 ? "" : "s");
        last_limit_line = now;
        limits_reached = 0;
      }
    }
    while (open_connections.load() >= max_connections) {
      if (stopping) co_return;
      pause.expires_after(std::chrono::milliseconds(10));
      co_await pause.async_wait(tuple_awaitable);
    }
    std::size_t index = next_context++ % contexts.size();
    auto [ec, socket] = co_await acceptor->async_accept(*contexts[index], tuple_awaitable);
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) co_return;
      ++failures;
      if (const auto now = std::chrono::steady_clock::now(); now - last_line >= log_every) {
        log->warn("accept failed: {} ({} time{} since the last such line); new connections wait",
                  ec.message(), failures, failures == 1 ? "" : "s");
        last_line = now;
        failures = 0;
      }
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(tuple_awaitable);
      continue;
    }
    ++open_connections;  // session() counts it down
    asio::co_spawn(*contexts[index], session(std::move(socket), index), asio::detached);
  }
}

void server::impl::begin_stop() {
  if (stopping.exchange(true)) return;
  log->info("stopping: no new connection; requests in flight finish");
  svc->stopping();  // the advisers' reports under way end early (503), not after minutes
  asio::post(*contexts[0], [this] {
    boost::system::error_code ignored;
    if (acceptor) acceptor->close(ignored);
    if (signals) signals->cancel(ignored);
  });
  // Idle keep-alive connections are not closed one by one: once no request is in flight (or the
  // body deadline has passed), the I/O contexts stop, and their sessions end with them.
  stopper = std::thread([this] {
    auto deadline = std::chrono::steady_clock::now() + cfg.body_timeout;
    while (in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      svc->stopping();  // again: Z3 can undo an interrupt that comes as a query starts
    }
    for (auto& c : contexts) c->stop();
  });
  guards.clear();
}

void server::impl::join() {
  std::lock_guard lock(stop_mutex);
  if (joined) return;
  for (auto& t : threads) t.join();
  if (stopper.joinable()) stopper.join();
  joined = true;
  svc->stop();  // the writer drains; the store's connections close
  log->info("stopped");
  log->flush();
}

server::server(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

server::~server() {
  stop();
  wait();
}

std::uint16_t server::port() const {
  return impl_->bound_port;
}

void server::stop() {
  impl_->begin_stop();
}

void server::wait() {
  impl_->join();
}

void server::handle_signals() {
  impl_->signals = std::make_unique<asio::signal_set>(*impl_->contexts[0], SIGINT, SIGTERM);
  impl_->signals->async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) impl_->begin_stop();
  });
}

store::result<std::unique_ptr<server>> server::start(config c) {
  if (!is_loopback(c.host) && (c.tls_cert.empty() || c.tls_key.empty())) {
    return store::fail(store::errc::refused,
                       "listening on " + c.host +
                           " (not a loopback address) needs TLS: give --tls-cert and --tls-key");
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return store::fail(store::errc::refused, "--tls-cert and --tls-key go together");
  }
  if (c.threads < 1) c.threads = 1;
  auto i = std::make_unique<impl>();
  try {
    if (c.log_file.empty()) {
      i->log = std::make_shared<spdlog::logger>("dalil-serve",
                                                std::make_shared<spdlog::sinks::stderr_sink_mt>());
    } else {
      i->log = std::make_shared<spdlog::logger>(
          "dalil-serve", std::make_shared<spdlog::sinks::basic_file_sink_mt>(c.log_file));
    }
  } catch (const spdlog::spdlog_ex& e) {
    return store::fail(store::errc::failed, std::string("cannot open the log: ") + e.what());
  }
  i->log->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
  // Warnings and errors reach the file at once; the access lines once the I/O thread has run
  // what was ready (serve), the others at the next of those flushes or at the stop.
  i->log->flush_on(spdlog::level::warn);
  if (!c.tls_cert.empty()) {
    i->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    i->tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    // Each record's plaintext cleansed once handed over: otherwise OpenSSL keeps it in the
    // connection's buffer until the next record overwrites it (and frees it unwiped), and
    // requests carry applicants' records and passwords.
    SSL_CTX_set_options(i->tls->native_handle(), SSL_OP_CLEANSE_PLAINTEXT);
    boost::system::error_code ec;
    i->tls->use_certificate_chain_file(c.tls_cert, ec);
    if (ec) {
      return store::fail(store::errc::failed,
                         c.tls_cert + ": cannot read the certificate: " + ec.message());
    }
    i->tls->use_private_key_file(c.tls_key, asio::ssl::context::pem, ec);
    if (ec) {
      return store::fail(store::errc::failed,
                         c.tls_key + ": cannot read the private key: " + ec.message());
    }
  }
  auto svc = service::open(c, i->log);
  if (!svc) return svc.error();
  i->svc = std::move(*svc);
  for (unsigned t = 0; t < c.threads; ++t) {
    i->contexts.push_back(std::make_unique<asio::io_context>(1));
    i->guards.push_back(asio::make_work_guard(*i->contexts.back()));
  }
  i->connections.resize(c.threads);
  i->max_connections = c.max_connections;
  if (i->max_connections == 0) {
    rlimit limit{};
    const rlim_t soft = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
    // Kept for the rest: the log, the listener, the writer's and the checkpointer's store
    // files, and per I/O thread its event loop and the store files it opens (about 24 open at
    // --threads 2, 52 at 16).
    const rlim_t kept = 64 + rlim_t{4} * c.threads;
    i->max_connections =
        soft == RLIM_INFINITY
            ? std::size_t{1} << 20
            : static_cast<std::size_t>(std::max<rlim_t>(soft > kept ? soft - kept : 0, 16));
  }
  try {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(c.host == "localhost" ? "127.0.0.1" : c.host, ec);
    if (ec) return store::fail(store::errc::refused, c.host + " is not an IP address");
    tcp::endpoint ep(addr, c.port);
    i->acceptor = std::make_unique<tcp::acceptor>(*i->contexts[0]);
    i->acceptor->open(ep.protocol());
    i->acceptor->set_option(asio::socket_base::reuse_address(true));
    i->acceptor->bind(ep);
    i->acceptor->listen(asio::socket_base::max_listen_connections);
    i->bound_port = i->acceptor->local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    return store::fail(store::errc::failed, "cannot listen on " + c.host + ":" +
                                                std::to_string(c.port) + ": " + e.code().message());
  }
  i->cfg = std::move(c);
  impl* raw = i.get();
  asio::co_spawn(*raw->contexts[0], raw->accept_loop(), asio::detached);
  for (std::size_t t = 0; t < raw->contexts.size(); ++t) {
    raw->threads.emplace_back([raw, t] {
      for (;;) {
        try {
          raw->contexts[t]->run();
          return;
        } catch (const std::exception& e) {
          // A bug in a handler: logged, and the thread goes on serving the others.
          raw->log->error("unexpected failure: {}", e.what());
        }
      }
    });
  }
  raw->log->info("listening on {}:{} ({}), {} threads", raw->cfg.host, raw->bound_port,
                 raw->tls ? "TLS" : "plain HTTP, loopback only", raw->contexts.size());
  raw->log->flush();  // scripts read the port from it
  return std::unique_ptr<server>(new server(std::move(i)));
}

}  // namespace dalil::server
