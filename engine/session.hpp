// Building a ruleset from checked sources: its identity is the SHA-256 of the canonical source
// (every module formatted, in module-name order), so layout and comments do not change it...
// except comments, which are part of what a lawyer reads and are kept in the hash on purpose.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dsl/ast.hpp"
#include "dsl/program.hpp"
#include "dsl/source.hpp"
#include "engine/ruleset.hpp"

namespace dalil::engine {

/// The canonical source text of a pack: each module formatted, in module-name order.
std::string canonical_source(const dsl::source_map& sources,
                             const std::vector<dsl::ast::module>& modules);

/// Compiles `program`, identified by the SHA-256 of the canonical source of `modules`.
std::shared_ptr<const ruleset> build_ruleset(const dsl::source_map& sources,
                                             const std::vector<dsl::ast::module>& modules,
                                             dsl::program program);

}  // namespace dalil::engine
