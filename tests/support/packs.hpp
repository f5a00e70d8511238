// Rule packs for tests: parsed, checked and compiled, failing the test case (with the rendered
// diagnostics) when a pack does not check.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dsl/checker.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/parser.hpp"
#include "engine/ruleset.hpp"
#include "engine/session.hpp"

namespace dalil::testing {

/// A path inside the source tree (DALIL_SOURCE_DIR is set by tests/CMakeLists.txt).
inline std::string source_path(const std::string& relative) {
  return std::string(DALIL_SOURCE_DIR) + "/" + relative;
}

/// A compiled pack with everything its ruleset's program points into.
struct loaded_pack {
  dsl::source_map sources;
  dsl::diagnostics diags;
  std::vector<dsl::ast::module> modules;
  std::shared_ptr<const engine::ruleset> rules;
  std::string canonical;  // the canonical source, as the store keeps it
};

/// The pack in folder `dir` (one module per file).
inline std::unique_ptr<loaded_pack> load_pack_dir(const std::string& dir) {
  auto l = std::make_unique<loaded_pack>();
  auto program = dsl::load_and_check(dir, l->sources, l->modules, l->diags);
  INFO(dsl::render_all(l->sources, l->diags));
  REQUIRE(program.has_value());
  l->canonical = engine::canonical_source(l->sources, l->modules);
  l->rules = engine::build_ruleset(l->sources, l->modules, std::move(*program));
  return l;
}

/// A pack of one module given as text (named ops.dalil in diagnostics).
inline std::unique_ptr<loaded_pack> load_pack_text(const std::string& text) {
  auto l = std::make_unique<loaded_pack>();
  dsl::file_id f = l->sources.add("ops.dalil", text);
  auto m = dsl::parse(l->sources, f, l->diags);
  INFO(dsl::render_all(l->sources, l->diags));
  REQUIRE(m.has_value());
  l->modules.push_back(std::move(*m));
  auto program = dsl::check(l->sources, l->modules, l->diags);
  INFO(dsl::render_all(l->sources, l->diags));
  REQUIRE(program.has_value());
  l->canonical = engine::canonical_source(l->sources, l->modules);
  l->rules = engine::build_ruleset(l->sources, l->modules, std::move(*program));
  return l;
}

}  // namespace dalil::testing
