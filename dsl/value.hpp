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

/// The range of dates the language accepts, as literals and in records: years 1 to 9999.
inline constexpr date min_date{-719162};  // 0001-01-01
inline constexpr date max_date{2932896};  // 9999-12-31
inline constexpr bool in_range(date d) {
  return d >= min_date && d <= max_date;
}

date from_civil(civil c);
/// Any 32-bit day count, in or out of range, gives its proleptic Gregorian day (no overflow).
civil to_civil(date d);
bool valid_civil(int year, unsigned month, unsigned day);
/// Parses YYYY-MM-DD and rejects impossible days (2014-02-30) and the year 0000: the result is
/// always in [min_date, max_date].
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

/// `d` + `p` when it lies in [min_date, max_date], or std::nullopt: the date does not exist for
/// the language ("date out of range"). Years and months are added first, then the days; a
/// date out of range after the first step is out of range. `d` itself must be in range.
std::optional<date> checked_add(date d, duration p);
/// `d` - `p` under the same rule as checked_add.
std::optional<date> checked_subtract(date d, duration p);
/// Unchecked forms of the above, only for a result known to be in range (out of it, the day
/// count is not a date of the language). The evaluators use checked_add / checked_subtract.
date add(date d, duration p);
date subtract(date d, duration p);
/// Whole months from `a` to `b`: the largest n with a + n months <= b (negative when b < a).
/// Exact for any two 32-bit day counts (no overflow).
std::int32_t months_between(date a, date b);
/// Whole years from `a` to `b`, under the same clamping rule (a birthday on 29 February is
/// reached on 28 February in common years). Exact for any two 32-bit day counts.
std::int32_t years_between(date a, date b);
std::string to_string(duration p);
/// Parses "5 years", "2 years 6 months", "1 day".
std::optional<duration> parse_duration(std::string_view text);

}  // namespace dalil
