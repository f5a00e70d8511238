// Loading rule packs for the subcommands.
#include "cli/pack.hpp"

#include <iostream>

#include "dsl/checker.hpp"
#include "engine/session.hpp"

namespace dalil::cli {

std::optional<dsl::program> check_pack(const std::string& dir, dsl::source_map& sources,
                                       std::vector<dsl::ast::module>& modules) {
  dsl::diagnostics diags;
  auto program = dsl::load_and_check(dir, sources, modules, diags);
  diags.sort();
  std::cerr << dsl::render_all(sources, diags);
  return program;
}

std::optional<loaded_pack> load_pack(const std::string& dir) {
  dsl::source_map sources;
  std::vector<dsl::ast::module> modules;
  auto program = check_pack(dir, sources, modules);
  if (!program) return std::nullopt;
  std::string canonical = engine::canonical_source(sources, modules);
  return loaded_pack{engine::build_ruleset(sources, modules, std::move(*program)), canonical};
}

}  // namespace dalil::cli
