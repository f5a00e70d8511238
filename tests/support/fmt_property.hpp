// The formatter's contract as one reusable check, free of Catch2 so that a libFuzzer target can
// link it: `dalil fmt` is idempotent and never changes what a source means.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/program.hpp"

namespace dalil::testing {

struct source_file {
  std::string name;  // as diagnostics print it
  std::string text;
};

/// Checks `dalil fmt` on one module given as text. Returns a description of the first
/// violation, or nothing when the property holds (or when the text does not parse, since fmt
/// never rewrites such a file). Checked: (a) the formatted text parses without error and
/// formats to itself; (b) it gives the same diagnostics (severity, code, message) as the
/// original and, when it checks clean, the same ruleset hash and the same program, compared
/// through program_dump (which does not go through the formatter).
std::optional<std::string> fmt_property_violation(std::string_view source_text);

/// The same for a pack of modules (imports resolved across them), each file formatted alone.
std::optional<std::string> fmt_property_violation(const std::vector<source_file>& pack);

/// A structural dump of a checked program without source positions: every declaration, and
/// each rule's, exception's and test's expression tree (ops, types, references, constants).
std::string program_dump(const dsl::program& p);

}  // namespace dalil::testing
