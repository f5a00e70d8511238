// Exact arithmetic shared by the record-at-a-time and the block evaluators, so that both give
// the same values bit for bit (the same normalisation, the same overflow limits).
#pragma once

#include <cstdint>

#include "dsl/value.hpp"
#include "engine/value.hpp"

namespace dalil::engine {

/// Ratios keep |num| and |den| below 2^62, so that a cross-multiplication fits in 128 bits.
inline constexpr std::int64_t ratio_limit = std::int64_t{1} << 62;

/// Normalises a 128-bit fraction into a ratio; false on overflow. Fractions that fit are kept
/// as they are (no gcd on the hot path); the others are reduced first.
inline bool make_ratio(i128 num, i128 den, std::int64_t& out_num, std::int64_t& out_den) {
  if (den < 0) {
    num = -num;
    den = -den;
  }
  auto fits = [](i128 x) { return x > -ratio_limit && x < ratio_limit; };
  if (!fits(num) || !fits(den)) {
    auto r = make_rational(num, den);
    if (!r || !fits(r->num) || !fits(r->den)) return false;
    out_num = r->num;
    out_den = r->den;
    return true;
  }
  out_num = static_cast<std::int64_t>(num);
  out_den = static_cast<std::int64_t>(den);
  return true;
}

inline bool make_ratio(i128 num, i128 den, value& out) {
  std::int64_t n = 0;
  std::int64_t d = 1;
  if (!make_ratio(num, den, n, d)) return false;
  out = value::of_ratio(n, d);
  return true;
}

/// Whole years from `birth` to the as-of date `t` (birth <= t): a 29 February birthday falls on
/// 28 February in common years (the clamping rule of years_between, computed without loops).
inline std::int64_t age_on(date birth, const civil& t) {
  civil b = to_civil(birth);
  unsigned bday = b.day;
  if (b.month == 2 && b.day == 29) {
    bool leap = (t.year % 4 == 0 && t.year % 100 != 0) || t.year % 400 == 0;
    if (!leap) bday = 28;
  }
  return t.year - b.year - ((t.month < b.month || (t.month == b.month && t.day < bday)) ? 1 : 0);
}

}  // namespace dalil::engine
