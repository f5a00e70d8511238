// The canonical layout of Dalil source: `dalil fmt` prints a parsed module with this, so that
// formatting formatted source changes nothing. Comments are kept, each on its own line.
#pragma once

#include <string>

#include "dsl/ast.hpp"
#include "dsl/source.hpp"

namespace dalil::dsl {

/// Formats `m`, parsed from file `f` of `sources` (the text is needed for the comments).
std::string format(const source_map& sources, const ast::module& m);

}  // namespace dalil::dsl
