// The bounds every rule source is held to, in one place: a hostile or broken pack is refused with
// a diagnostic instead of exhausting memory, the stack or the terminal. docs/language.md lists
// them.
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
/// The deepest expression tree one declaration may build (E0003): `a + b + … + z` with 2,000
/// operators is a tree 2,000 levels deep, which every later pass (checker, compiler, evaluators,
/// traces) walks. Parentheses are bounded above; this bounds long chains of operators.
inline constexpr int max_expression_depth = 2000;
/// The most diagnostics kept and shown for one run; the rest are counted.
inline constexpr std::size_t max_diagnostics = 1000;

}  // namespace dalil::dsl::limits
