// Loading a rule pack for a subcommand: parse, check, print the diagnostics, compile.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsl/ast.hpp"
#include "dsl/program.hpp"
#include "dsl/source.hpp"
#include "engine/ruleset.hpp"

namespace dalil::cli {

/// Parses and checks the pack under `dir`, printing every diagnostic to stderr.
std::optional<dsl::program> check_pack(const std::string& dir, dsl::source_map& sources,
                                       std::vector<dsl::ast::module>& modules);

struct loaded_pack {
  std::shared_ptr<const engine::ruleset> rules;
  std::string canonical;  // the canonical source, stored with runs
};

/// Checks and compiles the pack under `dir`; nullopt (diagnostics printed) on errors.
std::optional<loaded_pack> load_pack(const std::string& dir);

}  // namespace dalil::cli
