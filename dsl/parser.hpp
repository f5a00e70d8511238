// Parsing one source file into a syntax tree, with syntax errors collected as diagnostics.
#pragma once

#include <optional>

#include "dsl/ast.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/source.hpp"

namespace dalil::dsl {

/// Parses file `f` of `sources`. Syntax errors go to `diags` (E0001–E0005); after an error the
/// parser resumes at the next line that starts a declaration, so one run reports several. Returns
/// the module when the header parsed, even if some declarations did not (they are left out).
std::optional<ast::module> parse(const source_map& sources, file_id f, diagnostics& diags);

}  // namespace dalil::dsl
