// The semantics both evaluators share, defined once: Kleene three-valued logic with null, and
// what ==, !=, <, in, arithmetic and known() give for unknown, null and known operands.
// evaluator.cpp applies these functions value by value; block.cpp's kernels apply the same
// functions element by element over columns of state bytes (they are branch-free bit arithmetic
// on purpose, so that the compiler vectorises them). google/cel-cpp's logic_step is the model.
#pragma once

#include <cstdint>

#include "dsl/value.hpp"
#include "engine/value.hpp"

namespace dalil::engine::logic {

/// The state of a value as the semantics see it. A boolean carries its value in its state, so
/// that the logic is arithmetic on one byte: bit 0 = true, bit 1 = false or null (null counts as
/// false in conditions), bit 3 = a known value that is not a boolean (its payload elsewhere).
using truth = std::uint8_t;
inline constexpr truth U = 0;  // unknown: the fact is missing, or an operation had no value
inline constexpr truth T = 1;  // known true
inline constexpr truth F = 2;  // known false
inline constexpr truth N = 6;  // null: a known absence
inline constexpr truth K = 8;  // known, not a boolean

/// The truth state of a run-time value.
constexpr truth state_of(const value& v) {
  if (v.s != state::known) return v.s == state::null ? N : U;
  if (v.r != rep::boolean) return K;
  return v.b ? T : F;
}
/// The same for a value of a boolean type (a condition, an operand of and / or / not): a known
/// value is T or F. One comparison fewer on the record-at-a-time evaluator's hot path.
constexpr truth condition_state(const value& v) {
  if (v.s != state::known) return v.s == state::null ? N : U;
  return v.b ? T : F;
}
/// The same for a value that is never a boolean (an operand of arithmetic, of an order, of a
/// calendar function) or whose boolean value does not matter (known()): U, N or K.
constexpr truth operand_state(const value& v) {
  return static_cast<truth>((0x080600u >> (8 * static_cast<unsigned>(v.s))) & 0xff);
}

/// The value of a boolean state (U, T, F or N).
inline value boolean_value(truth t) {
  if (static_cast<unsigned>(t) - 1u < 2u) return value::of_bool(t == T);  // T or F
  return t == N ? value::null_value() : value{};
}

// ---------------------------------------------------------------- conditions

/// A condition holds: known true.
constexpr bool holds(truth a) {
  return a == T;
}
/// A condition fails: known false, or null.
constexpr bool fails(truth a) {
  return (a & 2) != 0;
}

// ---------------------------------------------------------------- Kleene logic
// Over U, T, F and N; the results are U, T or F (never N: null has been read as false).

/// not: true -> false; false or null -> true; unknown stays unknown.
constexpr truth not_(truth a) {
  return static_cast<truth>(((a >> 1) & 1) | ((a & 1) << 1));
}
/// and: false when an operand fails (false or null), whatever the other; true when both are
/// true; unknown otherwise. Associative: and over n operands is a fold.
constexpr truth and_(truth a, truth b) {
  return static_cast<truth>((a & b & 1) | ((a | b) & 2));
}
/// or: true when an operand is true, whatever the other; false when both fail; unknown
/// otherwise. Associative.
constexpr truth or_(truth a, truth b) {
  return static_cast<truth>(((a | b) & 1) | (a & b & 2));
}
/// The left operand of and settles it without the right one (evaluated lazily).
constexpr bool and_settled(truth a) {
  return fails(a);
}
/// The left operand of or settles it without the right one.
constexpr bool or_settled(truth a) {
  return holds(a);
}
/// known(x): true unless x is unknown (null is known).
constexpr truth known(truth a) {
  return a != U ? T : F;
}

// ---------------------------------------------------------------- comparisons
// Over every state. `payload` is what comparing the two payloads gives; it is only read when
// both states are K.

/// Two values are the same (one decision whichever branch or row is taken): the same state and,
/// for known non-booleans, equal payloads. Unknown is the same as unknown here.
constexpr bool same(truth a, truth b, bool payload_equal) {
  return a == b && (a != K || payload_equal);
}
/// ==: unknown if either side is; null == null; null never equals a known value; booleans by
/// value; other known values by payload.
constexpr truth eq(truth a, truth b, bool payload_equal) {
  return a == U || b == U ? U : same(a, b, payload_equal) ? T : F;
}
/// !=: the negation of ==, unknown staying unknown.
constexpr truth ne(truth a, truth b, bool payload_equal) {
  return a == U || b == U ? U : same(a, b, payload_equal) ? F : T;
}
/// <, <=, >, >=: unknown if either side is; false if either is null; else what the payloads
/// give (`payload_holds`).
constexpr truth order(truth a, truth b, bool payload_holds) {
  return a == U || b == U ? U : (a == K && b == K && payload_holds) ? T : F;
}
/// x in [items]: unknown if x is; null is in no list; true if a known item equals x; else
/// unknown if an item is unknown, false otherwise. `found`: a known item equal to x.
constexpr truth in(truth x, bool found, bool unknown_item) {
  return x == U ? U : x == N ? F : found ? T : unknown_item ? U : F;
}
/// An item of `in` can equal x: the item is known (null items are skipped).
constexpr bool in_candidate(truth item) {
  return item != U && item != N;
}

// ---------------------------------------------------------------- operations on values
/// The state of an arithmetic, calendar or min/max result from its operands' states: unknown
/// if either is, null if either is null, known otherwise (the operation may still fail, which
/// makes it unknown: overflow, division by zero, date out of range).
constexpr truth strict(truth a, truth b) {
  return a == U || b == U ? U : (a == K && b == K) ? K : N;
}

// ---------------------------------------------------------------- payloads
// Numbers are compared exactly as fractions (an integer n is n/1), whatever their kinds: 2 ==
// 2.00 MAD, 1/3 < 0.34. Dates by day, enum cases by index, booleans by value, texts byte by
// byte (ordering is only for numbers, dates and durations: the checker says so).

/// x / xd against y / yd (denominators positive), by 128-bit cross-multiplication: -1, 0, 1.
constexpr int compare_fractions(std::int64_t x, std::int64_t xd, std::int64_t y, std::int64_t yd) {
  i128 l = static_cast<i128>(x) * yd;
  i128 r = static_cast<i128>(y) * xd;
  return (l > r) - (l < r);
}
constexpr bool equal_fractions(std::int64_t x, std::int64_t xd, std::int64_t y, std::int64_t yd) {
  return static_cast<i128>(x) * yd == static_cast<i128>(y) * xd;
}
/// Whole numbers, dates (days), enum cases (indices).
constexpr int compare_words(std::int64_t x, std::int64_t y) {
  return (x > y) - (x < y);
}
/// Durations: by whole months first (a year is 12 months), then by days.
constexpr int compare_durations(const duration& a, const duration& b) {
  std::int64_t am = std::int64_t{a.years} * 12 + a.months;
  std::int64_t bm = std::int64_t{b.years} * 12 + b.months;
  return am != bm ? compare_words(am, bm) : compare_words(a.days, b.days);
}

}  // namespace dalil::engine::logic
