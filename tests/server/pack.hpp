// The shipped rule pack, loaded and checked once per test executable: what the server tests
// start their servers with (config::rules and config::canonical_source); and a TLS server's
// configuration with it.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/loader.hpp"
#include "engine/evaluation.hpp"
#include "engine/session.hpp"
#include "server/server.hpp"
#include "tests/server/support.hpp"

namespace dalil::test_support {

struct shipped {
  std::shared_ptr<const engine::ruleset> rules;
  std::string canonical;  // its canonical source (stored by its hash)
};

inline const shipped& shipped_pack() {
  static const shipped p = [] {
    dsl::source_map sources;
    std::vector<dsl::ast::module> modules;
    dsl::diagnostics diags;
    auto program =
        dsl::load_and_check(std::string(DALIL_SOURCE_DIR) + "/rules", sources, modules, diags);
    REQUIRE(program);
    std::string canonical = engine::canonical_source(sources, modules);
    return shipped{engine::build_ruleset(sources, modules, std::move(*program)),
                   std::move(canonical)};
  }();
  return p;
}

/// A server's configuration with its store and log in `dir`, the shipped pack, any free
/// loopback port, and a self-signed certificate for localhost, valid a day (openssl, in `dir`
/// too), for TLS.
inline server::config tls_config(const std::filesystem::path& dir) {
  std::string cert = (dir / "cert.pem").string();
  std::string key = (dir / "key.pem").string();
  run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
      " -days 1 -subj /CN=localhost 2>&1");
  server::config c;
  c.db = (dir / "store.db").string();
  c.rules = shipped_pack().rules;
  c.canonical_source = shipped_pack().canonical;
  c.port = 0;
  c.tls_cert = cert;
  c.tls_key = key;
  c.log_file = (dir / "log").string();
  return c;
}

}  // namespace dalil::test_support
