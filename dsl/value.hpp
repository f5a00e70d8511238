// Exact scalar values shared by the checker and the engine: rationals for decimal and money
// (no binary floating point anywhere), calendar dates and calendar durations.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dalil {

// 128-bit intermediates make 64-bit rational arithmetic exact; __extension__ keeps -Wpedantic
// quiet.
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/// An exact rational number, always normalised (den > 0, gcd(num, den) == 1).
/// Arithmetic returns std::nullopt on 64-bit overflow instead of wrapping.
struct rational {
  std::int64_t num = 0;
  std::int64_t den = 1;
  friend bool operator==(const rational&, const rational&) = default;
};

std::optional<rational> make_rational(i128 num, i128 den);
/// Parses "12", "-3", "3767.50" exactly; rejects exponents and anything else.
std::optional<rational> parse_decimal(std::string_view text);
std::optional<rational> add(rational a, rational b);
std::optional<rational> sub(rational a, rational b);
std::optional<rational> mul(rational a, rational b);
std::optional<rational> div(rational a, rational b);  // nullopt also for division by zero
std::strong_ordering compare(rational a, rational b);
/// Rounds half away from zero to `places` decimal places (places may be 0).
std::optional<rational> round_places(rational a, int places);
rational floor_rational(rational a);
/// Exact decimal text ("3767.5", "-2", "0.125"); a value with no finite decimal expansion is
/// written as a fraction ("1000/3").
std::string to_string(rational a);
/// Money text with at least two decimals ("3767.50").
std::string money_string(rational a);

/// A calendar day, as days since 1970-01-01 (proleptic Gregorian).
struct date {
  std::int32_t days = 0;
  // clang-tidy 14 takes the defaulted <=>'s comparison with 0 for a null pointer constant.
  friend auto operator<=>(const date&, const date&) = default;  // NOLINT(modernize-use-nullptr)
};

struct civil {
  int year = 1970;
  unsigned month = 1;
  unsigned day = 1;
};

date from_civil(civil c);
civil to_civil(date d);
bool valid_civil(int year, unsigned month, unsigned day);
/// Parses YYYY-MM-DD and rejects impossible days (2014-02-30).
std::optional<date> parse_date(std::string_view text);
std::string to_string(date d);

/// A calendar duration. Adding it to a date adds years and months first, clamping the day to
/// the end of the month (2016-02-29 + 1 year = 2017-02-28), then adds the days.
struct duration {
  std::int32_t years = 0;
  std::int32_t months = 0;
  std::int32_t days = 0;
  friend bool operator==(const duration&, const duration&) = default;
};

date add(date d, duration p);
date subtract(date d, duration p);
/// Whole months from `a` to `b`: the largest n with a + n months <= b (negative when b < a).
std::int32_t months_between(date a, date b);
/// Whole years from `a` to `b`, under the same clamping rule (a birthday on 29 February is
/// reached on 28 February in common years).
std::int32_t years_between(date a, date b);
std::string to_string(duration p);
/// Parses "5 years", "2 years 6 months", "1 day".
std::optional<duration> parse_duration(std::string_view text);

}  // namespace dalil
