// The HTTP server of Dalil: the JSON API of officials, advisers and auditors, and the officials'
// page, over Boost.Beast with C++20 coroutines (one coroutine per connection, one io_context per
// thread), plain HTTP on loopback only and TLS otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/ruleset.hpp"
#include "store/crypto.hpp"
#include "store/result.hpp"

namespace dalil::server {

struct config {
  std::string db;  // the SQLite store (created and migrated)
  /// The master key of an encrypted store (`dalil keys init --db`; store::crypto::load_master_key)
  /// and where it came from ("": DALIL_MASTER_KEY), read again when the store's key is rotated
  /// while serving. An encrypted store without it is refused at start, as is a key for a plain
  /// store or one that is not the store's.
  std::optional<store::crypto::master_key> master_key;
  std::string key_file;
  /// The rule pack evaluated with on every date (--rules); nullptr: the store's publications,
  /// the one in effect on each as-of date (server/publications.hpp, `dalil publish`).
  std::shared_ptr<const engine::ruleset> rules;
  std::string canonical_source;  // its canonical source (stored by its hash)
  /// How often a server without `rules` looks for a new publication (one indexed read).
  std::chrono::milliseconds publication_poll{1000};
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see server::port)
  unsigned threads = 2;       // I/O and evaluation threads (the writer has its own)
  std::string tls_cert;       // PEM files; required unless `host` is a loopback address
  std::string tls_key;
  std::chrono::seconds session_idle{30 * 60};
  std::chrono::seconds session_absolute{12 * 60 * 60};
  std::string log_file;  // access and error log ("" = standard error)
  /// Deadlines against slow clients: the whole header, then the whole body, must arrive within
  /// these; a keep-alive connection may stay idle `idle_timeout` between requests.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::size_t instance_cache = 16;  // prepared (ruleset, as-of date) instances kept
  /// Connections served at once; past it, new ones wait in the listen queue until one closes.
  /// 0: the process's descriptor limit (RLIMIT_NOFILE) less 64 and 4 a thread, kept for the
  /// store, the log and the event loops; at least 16.
  std::size_t max_connections = 0;
  /// The clock that decides which months of the counter's statistics are released
  /// (server/stats.hpp, release_delay); empty: the store's clock (PostgreSQL's, as the sessions
  /// and tokens are timed: a server whose clock runs ahead releases no month early). For tests.
  std::function<std::chrono::system_clock::time_point()> stats_clock;
  /// How long an advisers' diff, impact or what-if may run, from when the reports' thread takes
  /// it up; past it the report stops and answers 503 without Retry-After (a diff's or a
  /// what-if's solver query under way runs to its own limit first). For tests.
  std::chrono::milliseconds reports_time_limit{120'000};
};

class server {
 public:
  /// Opens the store (migrating it), stores the ruleset, binds, and starts serving. Refuses a
  /// non-loopback address without a TLS certificate and key (errc::refused).
  static store::result<std::unique_ptr<server>> start(config c);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The port bound (useful with port 0).
  std::uint16_t port() const;
  /// Graceful stop: no new connection, requests in flight finish, idle connections close, the
  /// writer drains, the store closes. Safe from any thread, and from a signal handler's thread.
  void stop();
  /// Blocks until the server has stopped (after stop(), or SIGTERM/SIGINT when `signals`).
  void wait();
  /// Stops on SIGTERM and SIGINT.
  void handle_signals();

  struct impl;

 private:
  explicit server(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace dalil::server
