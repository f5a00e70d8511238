// Exact rational arithmetic and the calendar rules documented in docs/language.md.
#include "dsl/value.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <numeric>

namespace dalil {

namespace {

constexpr i128 i64_min = INT64_MIN;
constexpr i128 i64_max = INT64_MAX;

i128 gcd128(i128 a, i128 b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b != 0) {
    i128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

}  // namespace

std::optional<rational> make_rational(i128 num, i128 den) {
  if (den == 0) return std::nullopt;
  if (den < 0) {
    num = -num;
    den = -den;
  }
  i128 g = gcd128(num, den);
  if (g > 1) {
    num /= g;
    den /= g;
  }
  if (num < i64_min || num > i64_max || den > i64_max) return std::nullopt;
  return rational{static_cast<std::int64_t>(num), static_cast<std::int64_t>(den)};
}

std::optional<rational> parse_decimal(std::string_view text) {
  bool negative = false;
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    negative = text[i] == '-';
    ++i;
  }
  i128 num = 0;
  i128 den = 1;
  bool any_digit = false;
  bool point = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    any_digit = true;
    num = num * 10 + (c - '0');
    if (point) den *= 10;
    if (num > i64_max * 10 || den > i64_max) return std::nullopt;
  }
  if (!any_digit || (point && text.back() == '.')) return std::nullopt;
  return make_rational(negative ? -num : num, den);
}

std::optional<rational> add(rational a, rational b) {
  return make_rational(static_cast<i128>(a.num) * b.den + static_cast<i128>(b.num) * a.den,
                       static_cast<i128>(a.den) * b.den);
}
std::optional<rational> sub(rational a, rational b) {
  return make_rational(static_cast<i128>(a.num) * b.den - static_cast<i128>(b.num) * a.den,
                       static_cast<i128>(a.den) * b.den);
}
std::optional<rational> mul(rational a, rational b) {
  return make_rational(static_cast<i128>(a.num) * b.num, static_cast<i128>(a.den) * b.den);
}
std::optional<rational> div(rational a, rational b) {
  if (b.num == 0) return std::nullopt;
  return make_rational(static_cast<i128>(a.num) * b.den, static_cast<i128>(a.den) * b.num);
}

std::strong_ordering compare(rational a, rational b) {
  if (a.den == b.den) return a.num <=> b.num;
  i128 l = static_cast<i128>(a.num) * b.den;
  i128 r = static_cast<i128>(b.num) * a.den;
  return l < r ? std::strong_ordering::less
               : (l > r ? std::strong_ordering::greater : std::strong_ordering::equal);
}

std::optional<rational> round_places(rational a, int places) {
  i128 scale = 1;
  for (int i = 0; i < places; ++i) scale *= 10;
  i128 scaled = static_cast<i128>(a.num) * scale;  // value * scale = scaled / den
  i128 q = scaled / a.den;
  i128 r = scaled % a.den;
  if (r < 0) r = -r;
  if (2 * r >= a.den) q += (scaled < 0 ? -1 : 1);
  return make_rational(q, scale);
}

rational floor_rational(rational a) {
  std::int64_t q = a.num / a.den;
  if (a.num % a.den != 0 && a.num < 0) --q;
  return {q, 1};
}

std::string to_string(rational a) {
  std::int64_t den = a.den;
  int twos = 0;
  int fives = 0;
  while (den % 2 == 0) {
    den /= 2;
    ++twos;
  }
  while (den % 5 == 0) {
    den /= 5;
    ++fives;
  }
  if (den != 1) return std::to_string(a.num) + "/" + std::to_string(a.den);
  int places = std::max(twos, fives);  // at most 63: the denominator is a 64-bit power of 2 and 5
  // Long division, digit by digit: exact for any 64-bit fraction (no power of ten to overflow).
  // The magnitude of the numerator fits in 64 unsigned bits, INT64_MIN included.
  const auto d = static_cast<std::uint64_t>(a.den);
  const bool negative = a.num < 0;
  const std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(a.num) : static_cast<std::uint64_t>(a.num);
  std::uint64_t rest = magnitude % d;
  char buf[96];  // sign, 20 digits, point, 63 places
  char* p = buf;
  if (negative) *p++ = '-';
  p = std::to_chars(p, buf + sizeof buf, magnitude / d).ptr;
  if (places > 0) {
    *p++ = '.';
    const bool narrow = d <= UINT64_MAX / 10;  // rest * 10 fits in 64 bits
    for (int i = 0; i < places; ++i) {
      if (narrow) {
        rest *= 10;
        *p++ = static_cast<char>('0' + rest / d);
        rest %= d;
      } else {
        u128 r = static_cast<u128>(rest) * 10;
        *p++ = static_cast<char>('0' + static_cast<int>(r / d));
        rest = static_cast<std::uint64_t>(r % d);
      }
    }
  }
  return std::string(buf, p);
}

std::string money_string(rational a) {
  std::string s = to_string(a);
  if (s.find('/') != std::string::npos) return s;
  std::size_t point = s.find('.');
  if (point == std::string::npos) return s + ".00";
  std::size_t decimals = s.size() - point - 1;
  if (decimals < 2) s.append(2 - decimals, '0');
  return s;
}

// Howard Hinnant's days_from_civil / civil_from_days, in 64 bits: a day count or a year far out
// of range (an intermediate of date arithmetic, a corrupt value) never overflows.
namespace {
struct civil64 {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  std::int64_t y = year - (month <= 2 ? 1 : 0);
  std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = static_cast<unsigned>(y - era * 400);
  unsigned mp = month > 2 ? month - 3 : month + 9;
  unsigned doy = (153 * mp + 2) / 5 + day - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// In `Int` arithmetic: int for days in range (the common case, cheaper), 64 bits otherwise.
template <typename Int>
civil64 civil_from_days(Int days) {
  Int z = days + 719468;
  Int era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  Int y = static_cast<Int>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned day = doy - (153 * mp + 2) / 5 + 1;
  unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {y + (month <= 2 ? 1 : 0), month, day};
}

civil64 civil_of(date d) {
  return in_range(d) ? civil_from_days<int>(d.days) : civil_from_days<std::int64_t>(d.days);
}

bool leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
unsigned last_day(std::int64_t y, unsigned m) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

/// `d` + `months` calendar months, the day clamped to the end of the month, as a 64-bit day
/// count (out of the date range for large inputs: the callers check).
std::int64_t add_months(date d, std::int64_t months) {
  civil64 c = civil_of(d);
  std::int64_t total = c.year * 12 + (c.month - 1) + months;
  std::int64_t y = total >= 0 ? total / 12 : (total - 11) / 12;
  auto m = static_cast<unsigned>(total - y * 12 + 1);
  return days_from_civil(y, m, std::min(c.day, last_day(y, m)));
}

bool days_in_range(std::int64_t days) {
  return days >= min_date.days && days <= max_date.days;
}

std::int64_t total_months(duration p) {
  return static_cast<std::int64_t>(p.years) * 12 + p.months;
}
}  // namespace

date from_civil(civil c) {
  return date{static_cast<std::int32_t>(days_from_civil(c.year, c.month, c.day))};
}

civil to_civil(date d) {
  civil64 c = civil_of(d);
  return {static_cast<int>(c.year), c.month, c.day};  // |year| < 6e6 for a 32-bit day count
}

bool valid_civil(int year, unsigned month, unsigned day) {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
         day <= last_day(year, month);
}

std::optional<date> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  auto m = static_cast<unsigned>((s[5] - '0') * 10 + (s[6] - '0'));
  auto d = static_cast<unsigned>((s[8] - '0') * 10 + (s[9] - '0'));
  if (!valid_civil(y, m, d)) return std::nullopt;
  return from_civil({y, m, d});
}

std::string to_string(date d) {
  civil c = to_civil(d);
  std::string s = "0000-00-00";
  auto y = static_cast<unsigned>(std::clamp(c.year, 0, 9999));
  s[0] = static_cast<char>('0' + y / 1000);
  s[1] = static_cast<char>('0' + y / 100 % 10);
  s[2] = static_cast<char>('0' + y / 10 % 10);
  s[3] = static_cast<char>('0' + y % 10);
  s[5] = static_cast<char>('0' + c.month / 10);
  s[6] = static_cast<char>('0' + c.month % 10);
  s[8] = static_cast<char>('0' + c.day / 10);
  s[9] = static_cast<char>('0' + c.day % 10);
  return s;
}

std::optional<date> checked_add(date d, duration p) {
  if (!in_range(d)) return std::nullopt;
  std::int64_t r = add_months(d, total_months(p));
  if (!days_in_range(r)) return std::nullopt;
  r += p.days;
  if (!days_in_range(r)) return std::nullopt;
  return date{static_cast<std::int32_t>(r)};
}

std::optional<date> checked_subtract(date d, duration p) {
  if (!in_range(d)) return std::nullopt;
  std::int64_t r = add_months(d, -total_months(p));
  if (!days_in_range(r)) return std::nullopt;
  r -= p.days;
  if (!days_in_range(r)) return std::nullopt;
  return date{static_cast<std::int32_t>(r)};
}

date add(date d, duration p) {
  return date{static_cast<std::int32_t>(add_months(d, total_months(p)) + p.days)};
}

date subtract(date d, duration p) {
  return date{static_cast<std::int32_t>(add_months(d, -total_months(p)) - p.days)};
}

std::int32_t months_between(date a, date b) {
  if (b < a) return -months_between(b, a);
  civil64 ca = civil_of(a);
  civil64 cb = civil_of(b);
  std::int64_t n = (cb.year - ca.year) * 12 + static_cast<std::int64_t>(cb.month) -
                   static_cast<std::int64_t>(ca.month);
  while (n > 0 && add_months(a, n) > b.days) --n;
  return static_cast<std::int32_t>(n);  // at most 2^32 days / 28: fits
}

std::int32_t years_between(date a, date b) {
  if (b < a) return -years_between(b, a);
  std::int64_t n = civil_of(b).year - civil_of(a).year;
  while (n > 0 && add_months(a, n * 12) > b.days) --n;
  return static_cast<std::int32_t>(n);
}

std::string to_string(duration p) {
  std::string out;
  auto part = [&out](std::int32_t n, const char* one, const char* many) {
    if (n == 0) return;
    if (!out.empty()) out += ' ';
    out += std::to_string(n) + ' ' + (n == 1 ? one : many);
  };
  part(p.years, "year", "years");
  part(p.months, "month", "months");
  part(p.days, "day", "days");
  return out.empty() ? "0 days" : out;
}

std::optional<duration> parse_duration(std::string_view s) {
  duration p;
  std::size_t i = 0;
  bool any = false;
  auto skip = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  while (true) {
    skip();
    if (i >= s.size()) break;
    std::int64_t n = 0;
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      n = n * 10 + (s[i] - '0');
      if (n > 100000) return std::nullopt;
      ++i;
    }
    if (i == start) return std::nullopt;
    skip();
    std::size_t w = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view unit = s.substr(w, i - w);
    auto v = static_cast<std::int32_t>(n);
    if (unit == "year" || unit == "years") {
      p.years += v;
    } else if (unit == "month" || unit == "months") {
      p.months += v;
    } else if (unit == "day" || unit == "days") {
      p.days += v;
    } else {
      return std::nullopt;
    }
    any = true;
  }
  if (!any) return std::nullopt;
  return p;
}

}  // namespace dalil
