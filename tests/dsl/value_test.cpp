// Exact rationals and the calendar rules (29 February, month ends) that ages and windows rely on.
#include "dsl/value.hpp"

#include <cstdint>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

using namespace dalil;

namespace {
date d(const char* s) {
  return *parse_date(s);
}
rational r(const char* s) {
  return *parse_decimal(s);
}
}  // namespace

TEST_CASE("decimals are read exactly and compare exactly", "[dsl][value]") {
  CHECK(std::is_eq(compare(r("3767.00"), r("3767"))));
  CHECK(std::is_lt(compare(r("3766.99"), r("3767"))));
  CHECK(std::is_eq(compare(r("0.1"), r("0.10"))));
  CHECK(to_string(r("3767.50")) == "3767.5");
  CHECK(money_string(r("3767.5")) == "3767.50");
  CHECK(money_string(r("12")) == "12.00");
  CHECK(to_string(*div(r("1000"), r("3"))) == "1000/3");
  CHECK(to_string(*div(r("72000"), r("12"))) == "6000");
  CHECK_FALSE(parse_decimal("1e5"));
  CHECK_FALSE(parse_decimal(""));
  CHECK_FALSE(parse_decimal("3."));
  CHECK_FALSE(div(r("1"), r("0")));
}

TEST_CASE("income per person at the RAMED thresholds", "[dsl][value]") {
  // 7534 MAD for two people is exactly 3767 per person; one centime either side flips.
  CHECK(std::is_eq(compare(*div(r("7534.00"), r("2")), r("3767"))));
  CHECK(std::is_lt(compare(*div(r("7533.99"), r("2")), r("3767"))));
  CHECK(std::is_gt(compare(*div(r("7534.01"), r("2")), r("3767"))));
  // 1/3 of a centime is never rounded away.
  CHECK(std::is_eq(compare(*div(r("11301"), r("3")), r("3767"))));
  CHECK(std::is_lt(compare(*div(r("11300.99"), r("3")), r("3767"))));
}

TEST_CASE("explicit rounding is half away from zero", "[dsl][value]") {
  CHECK(*round_places(r("2.345"), 2) == r("2.35"));
  CHECK(*round_places(r("-2.345"), 2) == r("-2.35"));
  CHECK(*round_places(r("2.344"), 2) == r("2.34"));
  CHECK(*round_places(*div(r("1000"), r("3")), 2) == r("333.33"));
  CHECK(floor_rational(r("-1.5")) == r("-2"));
  CHECK(floor_rational(r("1.5")) == r("1"));
}

TEST_CASE("overflow is reported, never wrapped", "[dsl][value]") {
  rational big{INT64_MAX, 1};
  CHECK_FALSE(add(big, big));
  CHECK_FALSE(mul(big, rational{2, 1}));
}

TEST_CASE("fractions with long decimal expansions print exactly", "[dsl][value]") {
  // 1 / 2^40 has 40 decimal places: printing it must not scale by 10^40 in 128 bits.
  REQUIRE(to_string(rational{1, std::int64_t{1} << 40}) ==
          "0.0000000000009094947017729282379150390625");
  REQUIRE(to_string(rational{-3, std::int64_t{1} << 62}).size() == 65);  // "-0." and 62 digits
  REQUIRE(to_string(rational{-7, 4}) == "-1.75");
  REQUIRE(to_string(rational{10, 1}) == "10");
  REQUIRE(to_string(rational{1, 3}) == "1/3");
  // Denominators above 2^64 / 10 take the 128-bit digit path: 5^27 and 2^62.
  REQUIRE(to_string(rational{1, 7450580596923828125}) == "0.000000000000000000134217728");
  REQUIRE(to_string(rational{-3, std::int64_t{1} << 62}) ==
          "-0.00000000000000000065052130349130266040447168052196502685546875");
  // The extremes of the numerator: INT64_MIN has no 64-bit negation.
  REQUIRE(to_string(rational{INT64_MIN, 1}) == "-9223372036854775808");
  REQUIRE(to_string(rational{INT64_MAX, 8}) == "1152921504606846975.875");
  REQUIRE(money_string(rational{INT64_MIN, 100}) == "-92233720368547758.08");
}

TEST_CASE("dates are calendar days", "[dsl][value]") {
  CHECK(to_string(d("2016-02-29")) == "2016-02-29");
  CHECK_FALSE(parse_date("2015-02-29"));
  CHECK_FALSE(parse_date("2014-02-30"));
  CHECK_FALSE(parse_date("2014-13-01"));
  CHECK_FALSE(parse_date("2014-1-01"));
  CHECK(d("1970-01-01").days == 0);
  CHECK(d("2000-03-01").days - d("2000-02-28").days == 2);
}

TEST_CASE("adding years and months clamps to the end of the month", "[dsl][value]") {
  CHECK(add(d("2016-02-29"), duration{1, 0, 0}) == d("2017-02-28"));
  CHECK(add(d("2016-02-29"), duration{4, 0, 0}) == d("2020-02-29"));
  CHECK(add(d("2024-01-31"), duration{0, 1, 0}) == d("2024-02-29"));
  CHECK(add(d("2023-01-31"), duration{0, 1, 0}) == d("2023-02-28"));
  CHECK(add(d("2014-12-31"), duration{0, 0, 1}) == d("2015-01-01"));
  CHECK(subtract(d("2016-03-31"), duration{0, 1, 0}) == d("2016-02-29"));
}

TEST_CASE("whole years between dates follow the same clamping rule", "[dsl][value]") {
  // A birthday on 29 February is reached on 28 February in common years.
  CHECK(years_between(d("2008-02-29"), d("2026-02-27")) == 17);
  CHECK(years_between(d("2008-02-29"), d("2026-02-28")) == 18);
  CHECK(years_between(d("2008-02-29"), d("2028-02-28")) == 19);
  CHECK(years_between(d("2008-02-29"), d("2028-02-29")) == 20);
  CHECK(years_between(d("2006-01-02"), d("2024-01-01")) == 17);
  CHECK(years_between(d("2006-01-01"), d("2024-01-01")) == 18);
  CHECK(years_between(d("2024-01-01"), d("2006-01-01")) == -18);
  CHECK(months_between(d("2024-01-31"), d("2024-02-29")) == 1);
  CHECK(months_between(d("2024-01-31"), d("2024-02-28")) == 0);
  // Five years of residence less one day is not five years.
  CHECK(add(d("2009-01-01"), duration{5, 0, 0}) == d("2014-01-01"));
  CHECK(add(d("2009-01-02"), duration{5, 0, 0}) > d("2014-01-01"));
}

TEST_CASE("durations parse and print", "[dsl][value]") {
  CHECK(*parse_duration("2 years 6 months") == duration{2, 6, 0});
  CHECK(*parse_duration("1 day") == duration{0, 0, 1});
  CHECK(to_string(duration{5, 0, 0}) == "5 years");
  CHECK(to_string(duration{1, 1, 1}) == "1 year 1 month 1 day");
  CHECK_FALSE(parse_duration("5 weeks"));
}

TEST_CASE("the date range is the range of date literals", "[dsl][value]") {
  CHECK(d("0001-01-01") == min_date);
  CHECK(d("9999-12-31") == max_date);
  CHECK(from_civil({1, 1, 1}) == min_date);
  CHECK(from_civil({9999, 12, 31}) == max_date);
  CHECK_FALSE(parse_date("0000-12-31"));
  CHECK(in_range(min_date));
  CHECK(in_range(max_date));
  CHECK_FALSE(in_range(date{min_date.days - 1}));
  CHECK_FALSE(in_range(date{max_date.days + 1}));
}

TEST_CASE("checked date arithmetic: in range exactly, out of range never a wrong date",
          "[dsl][value]") {
  struct row {
    const char* from;
    duration p;
    const char* plus;   // from + p, or "" when out of range
    const char* minus;  // from - p, or "" when out of range
  };
  const row rows[] = {
      // the ends of the range
      {"9999-12-31", {0, 0, 1}, "", "9999-12-30"},
      {"9999-12-31", {0, 0, 0}, "9999-12-31", "9999-12-31"},
      {"9999-12-01", {0, 1, 0}, "", "9999-11-01"},
      {"9999-01-01", {1, 0, 0}, "", "9998-01-01"},
      {"9998-12-31", {0, 0, 1}, "9999-01-01", "9998-12-30"},
      {"9999-12-30", {0, 0, 1}, "9999-12-31", "9999-12-29"},
      {"0001-01-01", {0, 0, 1}, "0001-01-02", ""},
      {"0001-01-01", {2000, 0, 0}, "2001-01-01", ""},
      {"9996-02-29", {3, 10, 2}, "9999-12-31", "9992-04-27"},
      {"0001-01-31", {0, 1, 0}, "0001-02-28", ""},
      {"0001-12-31", {1, 0, 0}, "0002-12-31", ""},  // 0000-12-31: no such date
      {"0002-01-01", {1, 0, 0}, "0003-01-01", "0001-01-01"},
      {"0001-01-02", {0, 0, 1}, "0001-01-03", "0001-01-01"},
      {"2017-06-01", {9000, 0, 0}, "", ""},
      {"2017-06-01", {100000, 0, 0}, "", ""},
      {"2017-06-01", {0, 0, 100000}, "2291-03-17", "1743-08-17"},
      // 29 February
      {"2016-02-29", {1, 0, 0}, "2017-02-28", "2015-02-28"},
      {"2016-02-29", {4, 0, 0}, "2020-02-29", "2012-02-29"},
      {"2016-02-29", {100, 0, 0}, "2116-02-29", "1916-02-29"},
      {"2000-02-29", {100, 0, 0}, "2100-02-28", "1900-02-28"},
      {"2016-02-29", {0, 12, 1}, "2017-03-01", "2015-02-27"},
      {"9996-02-29", {3, 10, 3}, "", "9992-04-26"},
      // month ends
      {"2024-01-31", {0, 1, 0}, "2024-02-29", "2023-12-31"},
      {"2023-01-31", {0, 1, 0}, "2023-02-28", "2022-12-31"},
      {"2024-03-31", {0, 1, 0}, "2024-04-30", "2024-02-29"},
      {"2023-03-31", {0, 1, 0}, "2023-04-30", "2023-02-28"},
      {"2014-12-31", {0, 0, 1}, "2015-01-01", "2014-12-30"},
      {"2014-08-31", {0, 6, 0}, "2015-02-28", "2014-02-28"},
  };
  for (const row& x : rows) {
    INFO(x.from << " +/- " << to_string(x.p));
    std::optional<date> plus = checked_add(d(x.from), x.p);
    std::optional<date> minus = checked_subtract(d(x.from), x.p);
    CHECK((plus ? to_string(*plus) : "") == std::string(x.plus));
    CHECK((minus ? to_string(*minus) : "") == std::string(x.minus));
    // In range, the checked and unchecked forms agree.
    if (plus) CHECK(*plus == add(d(x.from), x.p));
    if (minus) CHECK(*minus == subtract(d(x.from), x.p));
  }
  // A date already out of range is not a starting point.
  CHECK_FALSE(checked_add(date{max_date.days + 1}, duration{}));
  CHECK_FALSE(checked_subtract(date{min_date.days - 1}, duration{}));
  // The largest durations a sum of parsed durations can reach do not overflow.
  CHECK_FALSE(checked_add(min_date, duration{INT32_MAX, INT32_MAX, INT32_MAX}));
  CHECK_FALSE(checked_subtract(max_date, duration{INT32_MAX, INT32_MAX, INT32_MAX}));
}

TEST_CASE("years and months between the ends of the range, and beyond, do not overflow",
          "[dsl][value]") {
  CHECK(years_between(min_date, max_date) == 9998);
  CHECK(years_between(max_date, min_date) == -9998);
  CHECK(months_between(min_date, max_date) == 9998 * 12 + 11);
  CHECK(months_between(max_date, min_date) == -(9998 * 12 + 11));
  CHECK(years_between(d("0004-02-29"), max_date) == 9995);
  // Any 32-bit day count is a proleptic Gregorian day: no overflow in the conversions.
  const date lo{INT32_MIN};
  const date hi{INT32_MAX};
  CHECK(to_civil(hi).year == 5881580);
  CHECK(to_civil(lo).year == -5877641);
  CHECK(years_between(lo, hi) >= 5881580 + 5877641 - 1);
  CHECK(years_between(lo, hi) <= 5881580 + 5877641);
  CHECK(months_between(lo, hi) > 0);
  CHECK(months_between(hi, lo) == -months_between(lo, hi));
}
