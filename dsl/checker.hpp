// Name resolution and type checking: turns parsed modules into a checked program, reporting
// every problem it finds (it never stops at the first one).
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "dsl/ast.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/loader.hpp"
#include "dsl/program.hpp"
#include "dsl/source.hpp"

namespace dalil::dsl {

/// Parses and checks the given files. Returns the program when there are no errors.
std::optional<program> check(const source_map& sources, const std::vector<ast::module>& modules,
                             diagnostics& diags);

/// Convenience: load, parse and check a rule pack. `modules` receives the syntax trees.
std::optional<program> load_and_check(const std::filesystem::path& root, source_map& sources,
                                      std::vector<ast::module>& modules, diagnostics& diags);

}  // namespace dalil::dsl
