// `dalil serve` (server_commands.hpp).
#include "cli/server_commands.hpp"

#include <cstdlib>
#include <iostream>

#include "cli/pack.hpp"
#include "server/server.hpp"

namespace dalil::cli {

int run_serve(const serve_options& o) {
  // HOST:PORT, with [v6]:PORT for IPv6 addresses.
  auto colon = o.listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == o.listen.size()) {
    std::cerr << "error: --listen " << o.listen << " is not HOST:PORT\n";
    return 2;
  }
  std::string host = o.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(o.listen.substr(colon + 1), &used);
    if (used != o.listen.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    std::cerr << "error: --listen " << o.listen << ": the port must be a number from 0 to 65535\n";
    return 2;
  }
  if (o.session_idle <= 0 || o.session_absolute <= 0) {
    std::cerr << "error: --session-idle and --session-absolute must be positive (seconds)\n";
    return 2;
  }
  server::config c;
  c.db = o.db;
  // An encrypted store's master key: from a key file, or DALIL_MASTER_KEY (a service manager's
  // credential); never a value on the command line.
  if (!o.key_file.empty() || std::getenv(store::crypto::master_key_variable) != nullptr) {
    auto key = store::crypto::load_master_key(o.key_file);
    if (!key) {
      std::cerr << "error: " << key.error().message << "\n";
      return key.error().code == store::errc::refused ? 3 : 1;
    }
    c.master_key = std::move(*key);
    c.key_file = o.key_file;
  }
  if (!o.rules.empty()) {
    auto pack = load_pack(o.rules);
    if (!pack) return 1;
    c.rules = pack->rules;
    c.canonical_source = pack->canonical;
  }
  c.host = host;
  c.port = static_cast<std::uint16_t>(port);
  c.threads = o.threads;
  c.max_connections = o.max_connections;
  c.tls_cert = o.tls_cert;
  c.tls_key = o.tls_key;
  c.session_idle = std::chrono::seconds(o.session_idle);
  c.session_absolute = std::chrono::seconds(o.session_absolute);
  c.log_file = o.log;
  auto s = server::server::start(std::move(c));
  if (!s) {
    std::cerr << "error: " << s.error().message << "\n";
    return s.error().code == store::errc::refused ? 3 : 1;
  }
  (*s)->handle_signals();
  // The port bound, on standard output (scripts starting on port 0 read it).
  std::cout << "listening on " << host << ":" << (*s)->port() << std::endl;
  (*s)->wait();
  return 0;
}

}  // namespace dalil::cli
