// The bounds every rule source is held to, in one place: a hostile or broken pack is refused with
// a diagnostic instead of exhausting memory, the stack or the terminal, every later walker
// (evaluators, block planner, compiler, traces, documentation) recurses a bounded number of
// levels, and the checker's own work stays near-linear. docs/language.md and docs/diagnostics.md
// list them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dalil::dsl::limits {

/// The largest rule source file read (E0006). The SNIA pack's largest module is about 18 KiB.
inline constexpr std::uintmax_t max_file_bytes = std::uintmax_t{4} << 20U;  // 4 MiB
/// The largest rule pack read, all files together (E0006). The SNIA pack is about 110 KiB.
inline constexpr std::uintmax_t max_pack_bytes = std::uintmax_t{32} << 20U;  // 32 MiB
/// The most `.dalil` files one pack may hold (E0006).
inline constexpr std::size_t max_pack_files = 10000;
/// The deepest nesting of parentheses, `not`, unary minus, `if`, tables, lists, calls,
/// quantifiers and test records (E0003): 64 levels are accepted, 65 are refused.
inline constexpr int max_nesting = 64;
/// The deepest syntax tree the parser builds for one expression (E0003): `a + b + … + z` with
/// 2,000 operators is a tree 2,000 levels deep. It bounds what the parser hands to the formatter
/// and the checker; the checker then holds expressions to max_expression_depth (E0310).
inline constexpr int max_syntax_depth = 2000;
/// The most diagnostics kept and shown for one run; the rest are counted.
inline constexpr std::size_t max_diagnostics = 1000;

/// Levels of one expression tree: every operand of an `and`, `or`, `+`, `-`, `*` or `/` chain
/// adds one, as do nested calls, `if`s, tables and lists (E0310).
inline constexpr std::uint32_t max_expression_depth = 256;

/// Levels of one evaluation: a rule's expression levels plus, at each rule it reads, the levels
/// of that rule, and so on down the chain (E0702). The evaluators recurse this deep at most.
inline constexpr std::uint32_t max_evaluation_depth = 2048;

/// Entries of all decisions' traces together: over every rule, each rule of its closure (itself
/// and every rule it reads, directly or not), which its decision's trace lists, plus the facts
/// and parameters each of those reads; and, bounded separately by the same number, the readings
/// of rules walked within those closures to build them (E0703).
/// The SNIA pack totals 477 entries (bench/v0 29). At this limit, a chain of 1,000 rules read by
/// 1,495 others, with 50-character names, evaluates every decision of one record with its trace
/// in about 2 s, 520 MB of JSON; past it the output grows quadratically (20,000 rules: 3 GB in
/// 6.5 s; 900-character names in a chain: 2.9 GB in a minute from a 3 MB pack).
inline constexpr std::uint64_t max_trace_steps = 2'000'000;
/// For max_trace_steps, every this many bytes of the names, sources and text values a trace step
/// shows (the rule's name, source and value, its facts' paths, its parameters' names, sources and
/// values, its exceptions', and the names of the rules it reads) count as one more entry: long
/// names in a long chain, or a long text read by many rules, weigh what they print.
inline constexpr std::uint64_t trace_entry_bytes = 128;

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
