// The shipped rule pack, loaded and checked once per test executable: what the server tests
// start their servers with (config::rules and config::canonical_source).
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/loader.hpp"
#include "engine/evaluation.hpp"
#include "engine/session.hpp"

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

}  // namespace dalil::test_support
