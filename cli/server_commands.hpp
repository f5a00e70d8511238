// `dalil serve`: the HTTP API and the officials' page over a store and a rule pack (--rules), or
// the store's publications, the one in effect on each as-of date (dalil publish).
#pragma once

#include <cstddef>
#include <string>

namespace dalil::cli {

struct serve_options {
  std::string db;
  std::string rules;  // "": the store's publications (dalil publish)
  std::string listen = "127.0.0.1:8080";
  unsigned threads = 2;
  std::size_t max_connections = 0;  // 0: from the descriptor limit
  std::string tls_cert;
  std::string tls_key;
  long session_idle = 30L * 60;           // seconds
  long session_absolute = 12L * 60 * 60;  // seconds
  std::string log;
  std::string key_file;  // an encrypted store's master key ("": DALIL_MASTER_KEY when set)
};
/// Serves until SIGTERM or SIGINT, then stops gracefully; exit 0, or 1 when it cannot start.
int run_serve(const serve_options& o);

}  // namespace dalil::cli
