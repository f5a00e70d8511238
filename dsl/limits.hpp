// The bounds the checker puts on a rule pack, so that every later walker (evaluators, block
// planner, compiler, traces, documentation) recurses a bounded number of levels and the checker's
// own work stays near-linear. Documented in docs/language.md and docs/diagnostics.md.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dalil::dsl::limits {

/// Levels of one expression tree: every operand of an `and`, `or`, `+`, `-`, `*` or `/` chain
/// adds one, as do nested calls, `if`s, tables and lists (E0310).
inline constexpr std::uint32_t max_expression_depth = 256;

/// Levels of one evaluation: a rule's expression levels plus, at each rule it reads, the levels
/// of that rule, and so on down the chain (E0702). The evaluators recurse this deep at most.
inline constexpr std::uint32_t max_evaluation_depth = 2048;

/// "Did you mean" is computed for this many distinct unknown names per check; later ones get
/// none (each computation scans every candidate of its kind).
inline constexpr std::size_t max_suggestions = 256;

/// Diagnostics of one kind per table (overlapping rows) or per explanation (placeholders) before
/// one "and N more" note.
inline constexpr std::size_t max_reports_per_construct = 10;

/// Work the overlap analysis of one table may do where no sweep applies (rows comparing several
/// values): one unit per value compared between two rows, one more per 64 cases of an enum.
/// Past it the table gets an E0604 warning instead of an exact analysis.
inline constexpr std::size_t max_table_comparisons = 4'000'000;

/// Names listed in one message (enum cases, candidate cases) before "… and N more".
inline constexpr std::size_t max_listed_names = 12;

}  // namespace dalil::dsl::limits
