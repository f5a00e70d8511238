// Values for reading: exact decimal rounding by long division, separators, dates and durations
// in words, and bidi isolation for Arabic text.
#include "engine/words.hpp"

#include <algorithm>
#include <array>
#include <compare>
#include <variant>

#include "engine/record.hpp"

namespace dalil::engine {

namespace {

/// The digits of |q| rounded half-even to `places` decimals: integer digits, then the
/// decimals; `negative` says whether the rounded value is below zero.
struct rounded {
  std::string whole;
  std::string decimals;
  bool negative = false;
};

rounded round_half_even(rational q, int places) {
  const bool negative = q.num < 0;
  const u128 magnitude = negative
                             ? static_cast<u128>(0) - static_cast<u128>(static_cast<i128>(q.num))
                             : static_cast<u128>(q.num);
  const u128 den = static_cast<u128>(q.den);
  u128 whole = magnitude / den;
  u128 rest = magnitude % den;
  std::string decimals;
  for (int i = 0; i < places; ++i) {
    rest *= 10;  // rest < den < 2^63: fits
    decimals.push_back(static_cast<char>('0' + static_cast<int>(rest / den)));
    rest %= den;
  }
  bool up = 2 * rest > den;
  if (2 * rest == den) {
    int last = decimals.empty() ? static_cast<int>(whole % 10) : decimals.back() - '0';
    up = last % 2 == 1;
  }
  if (up) {
    std::size_t i = decimals.size();
    bool carry = true;
    while (carry && i > 0) {
      --i;
      if (decimals[i] == '9') {
        decimals[i] = '0';
      } else {
        ++decimals[i];
        carry = false;
      }
    }
    if (carry) ++whole;
  }
  rounded out;
  do {
    out.whole.insert(out.whole.begin(), static_cast<char>('0' + static_cast<int>(whole % 10)));
    whole /= 10;
  } while (whole != 0);
  out.decimals = std::move(decimals);
  out.negative =
      negative && (out.whole != "0" || out.decimals.find_first_not_of('0') != std::string::npos);
  return out;
}

/// How two rounded values compare as read: sign, then the whole part, then the decimals
/// (the shorter padded with zeros).
std::strong_ordering compare_shown(const rounded& a, const rounded& b) {
  if (a.negative != b.negative) {
    return a.negative ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  std::strong_ordering magnitude = a.whole.size() <=> b.whole.size();
  if (magnitude == std::strong_ordering::equal) magnitude = a.whole.compare(b.whole) <=> 0;
  if (magnitude == std::strong_ordering::equal) {
    const std::size_t width = std::max(a.decimals.size(), b.decimals.size());
    std::string x = a.decimals;
    std::string y = b.decimals;
    x.resize(width, '0');
    y.resize(width, '0');
    magnitude = x.compare(y) <=> 0;
  }
  if (!a.negative) return magnitude;
  if (magnitude == std::strong_ordering::less) return std::strong_ordering::greater;
  if (magnitude == std::strong_ordering::greater) return std::strong_ordering::less;
  return magnitude;
}

/// |q| rounded half-even to `places` decimals (at most 18), as an integer count of
/// 10^-places, and whether the rounded value is below zero: what round_half_even gives, without
/// its digits (the exact quotient of |num| * 10^places, below 2^123, then half-even).
struct scaled {
  u128 magnitude = 0;
  bool negative = false;
};

constexpr int max_scaled_places = 18;

u128 power_of_ten(int places) {
  u128 p = 1;
  for (int i = 0; i < places; ++i) p *= 10;
  return p;
}

scaled round_scaled(rational q, int places) {
  const bool negative = q.num < 0;
  const u128 magnitude = negative
                             ? static_cast<u128>(0) - static_cast<u128>(static_cast<i128>(q.num))
                             : static_cast<u128>(q.num);
  const u128 den = static_cast<u128>(q.den);
  const u128 x = magnitude * power_of_ten(places);  // < 2^63 * 10^18 < 2^123
  scaled out;
  u128 rest = 0;
  if (x <= UINT64_MAX) {
    // The usual case (an amount to a few places): 64-bit division, not the 128-bit routine.
    const auto x64 = static_cast<std::uint64_t>(x);
    const auto den64 = static_cast<std::uint64_t>(den);  // 0 < den < 2^63
    out.magnitude = x64 / den64;
    rest = x64 % den64;
  } else {
    out.magnitude = x / den;
    rest = x % den;
  }
  bool up = 2 * rest > den;
  if (2 * rest == den) up = out.magnitude % 2 == 1;  // a tie: to the even last digit
  if (up) ++out.magnitude;
  out.negative = negative && out.magnitude != 0;
  return out;
}

/// compare_shown of round_half_even(a, pa) and round_half_even(b, pb), by integers when both
/// places are within 18 (no digits written, nothing allocated).
std::strong_ordering compare_rounded(rational a, int pa, rational b, int pb) {
  if (pa < 0 || pb < 0 || pa > max_scaled_places || pb > max_scaled_places) {
    return compare_shown(round_half_even(a, pa), round_half_even(b, pb));
  }
  const scaled x = round_scaled(a, pa);
  const scaled y = round_scaled(b, pb);
  if (x.negative != y.negative) {
    return x.negative ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  // The same places for both: the shorter padded with zeros, as compare_shown reads them.
  const int width = std::max(pa, pb);
  const u128 xm = x.magnitude * power_of_ten(width - pa);
  const u128 ym = y.magnitude * power_of_ten(width - pb);
  std::strong_ordering magnitude = xm <=> ym;
  if (!x.negative) return magnitude;
  if (magnitude == std::strong_ordering::less) return std::strong_ordering::greater;
  if (magnitude == std::strong_ordering::greater) return std::strong_ordering::less;
  return magnitude;
}

std::string group_digits(const std::string& digits, const std::string& sep, std::size_t from) {
  if (digits.size() < from) return digits;
  std::string out;
  std::size_t lead = digits.size() % 3;
  if (lead == 0) lead = 3;
  out.append(digits, 0, lead);
  for (std::size_t i = lead; i < digits.size(); i += 3) {
    out += sep;
    out.append(digits, i, 3);
  }
  return out;
}

std::string with_isolates(std::string_view open, std::string_view s) {
  std::string out(open);
  out += s;
  out += pdi;
  return out;
}

msg plural_message(msg one, plural k) {
  return static_cast<msg>(static_cast<std::size_t>(one) + static_cast<std::size_t>(k));
}
static_assert(static_cast<int>(msg::years_other) - static_cast<int>(msg::years_one) == 4);
static_assert(static_cast<int>(msg::months_other) - static_cast<int>(msg::months_one) == 4);
static_assert(static_cast<int>(msg::days_other) - static_cast<int>(msg::days_one) == 4);
static_assert(static_cast<int>(msg::items_other) - static_cast<int>(msg::items_one) == 4);

std::string counted(msg one, std::int64_t n, lang l, const catalogue& c) {
  return c.format(plural_message(one, plural_of(n, l)), l, {{"n", integer_words(n, l, c)}});
}

}  // namespace

std::string isolate_ltr(std::string_view s, lang l) {
  if (l != lang::ar) return std::string(s);
  return with_isolates(lri, s);
}

std::string isolate_auto(std::string_view s, lang l) {
  if (l != lang::ar) return std::string(s);
  return with_isolates(fsi, s);
}

int exact_places(rational q) {
  constexpr int max_places = 18;
  std::int64_t den = q.den < 0 ? -q.den : q.den;
  // A terminating decimal: the denominator (in lowest terms) has no prime factor but 2 and 5.
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
  if (den != 1) return -1;
  const int places = std::max(twos, fives);
  return places <= max_places ? places : -1;
}

std::vector<int> reading_places(const std::vector<rational>& values, int min_places) {
  return reading_places_with_figures(values, std::vector<bool>(values.size(), false), min_places);
}

std::vector<int> reading_places_with_figures(const std::vector<rational>& values,
                                             const std::vector<bool>& exact, int min_places) {
  std::vector<std::uint8_t> figures(values.size(), 0);
  for (std::size_t i = 0; i < values.size() && i < exact.size(); ++i) figures[i] = exact[i] ? 1 : 0;
  std::vector<int> out(values.size(), min_places);
  reading_places_into(values, figures, out, min_places);
  return out;
}

void reading_places_into(std::span<const rational> values, std::span<const std::uint8_t> exact,
                         std::span<int> out, int min_places) {
  constexpr int max_places = 18;
  const std::size_t n = std::min(values.size(), out.size());
  // Which places are fixed (figures shown exactly): on the stack for a few dozen values.
  constexpr std::size_t small = 64;
  std::array<std::uint8_t, small> fixed_small{};
  std::vector<std::uint8_t> fixed_big;
  if (n > small) fixed_big.assign(n, 0);
  std::uint8_t* fixed = n > small ? fixed_big.data() : fixed_small.data();
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = min_places;
    const int e = i < exact.size() && exact[i] != 0 ? exact_places(values[i]) : -1;
    if (e >= 0) {
      out[i] = std::max(e, min_places);
      fixed[i] = 1;
    }
  }
  // Places only grow, up to max_places: the walk ends. A pair reads wrong when its two values
  // as shown compare otherwise than the values do (equal, or in the wrong order).
  bool changed = true;
  while (changed) {
    changed = false;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        const std::strong_ordering want = compare(values[i], values[j]);
        if (compare_rounded(values[i], out[i], values[j], out[j]) == want) {
          continue;
        }
        const bool same = want == std::strong_ordering::equal;
        if (fixed[i] == 0 && fixed[j] == 0) {
          // Both rounded: the same places for both (equal values then read alike), one more
          // than either has where they differ.
          const int p =
              same ? std::max(out[i], out[j]) : std::min(std::max(out[i], out[j]) + 1, max_places);
          if (p > out[i] || p > out[j]) {
            out[i] = std::max(out[i], p);
            out[j] = std::max(out[j], p);
            changed = true;
          }
        } else if (fixed[i] == 0 || fixed[j] == 0) {
          // A figure shown exactly stays as it is; the rounded one takes its places when equal
          // to it, else one more place.
          const std::size_t k = fixed[i] != 0 ? j : i;
          const int p = same ? out[fixed[i] != 0 ? i : j] : std::min(out[k] + 1, max_places);
          if (p > out[k]) {
            out[k] = p;
            changed = true;
          }
        }
      }
    }
  }
}

std::string number_words(rational q, int places, lang l, const catalogue& c, int min_places) {
  std::string out;
  append_number_words(out, q, places, l, c, min_places);
  return out;
}

void append_number_words(std::string& out, rational q, int places, lang l, const catalogue& c,
                         int min_places) {
  places = std::max(places, 0);
  if (places <= max_scaled_places) {
    // The digits of the rounded integer of 10^-places, at least places + 1 of them: the same
    // whole part and decimals as round_half_even writes, without a division per digit, written
    // straight into the answer (no string per part).
    const scaled x = round_scaled(q, places);
    char buf[48];
    char* end = buf + sizeof buf;
    char* p = end;
    u128 m = x.magnitude;
    while (m > UINT64_MAX) {
      *--p = static_cast<char>('0' + static_cast<int>(m % 10));
      m /= 10;
    }
    // The rest in 64 bits (every amount to two places): no 128-bit division per digit.
    auto m64 = static_cast<std::uint64_t>(m);
    do {
      *--p = static_cast<char>('0' + static_cast<int>(m64 % 10));
      m64 /= 10;
    } while (m64 != 0);
    while (end - p < places + 1) *--p = '0';
    const std::string_view whole(p, static_cast<std::size_t>(end - p - places));
    std::size_t decimals = static_cast<std::size_t>(places);
    while (static_cast<int>(decimals) > min_places && *(end - places + decimals - 1) == '0') {
      --decimals;
    }
    const std::string& group = c.text(msg::group_separator_digits, l);
    if (x.negative) out += '-';
    if (whole.size() < 4) {  // group_digits(…, 4): grouped from four digits on
      out += whole;
    } else {
      std::size_t lead = whole.size() % 3;
      if (lead == 0) lead = 3;
      out.append(whole.substr(0, lead));
      for (std::size_t i = lead; i < whole.size(); i += 3) {
        out += group;
        out.append(whole.substr(i, 3));
      }
    }
    if (decimals != 0) {
      out += c.text(msg::decimal_separator, l);
      out.append(end - places, decimals);
    }
    return;
  }
  rounded r = round_half_even(q, places);
  while (static_cast<int>(r.decimals.size()) > min_places && r.decimals.back() == '0') {
    r.decimals.pop_back();
  }
  if (r.negative) out += '-';
  out += group_digits(r.whole, c.text(msg::group_separator_digits, l), 4);
  if (!r.decimals.empty()) {
    out += c.text(msg::decimal_separator, l);
    out += r.decimals;
  }
}

std::string integer_words(std::int64_t n, lang l, const catalogue& c) {
  const bool negative = n < 0;
  const std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
  std::string out = negative ? "-" : "";
  out += group_digits(std::to_string(magnitude), c.text(msg::group_separator_digits, l), 5);
  return out;
}

namespace {

/// A number between LRI and PDI in Arabic (isolate_ltr), appended.
void append_isolated_number(std::string& out, rational q, int places, lang l, const catalogue& c) {
  if (l == lang::ar) out += lri;
  append_number_words(out, q, places, l, c);
  if (l == lang::ar) out += pdi;
}

}  // namespace

std::string money_words(rational q, lang l, const catalogue& c, int places) {
  std::string out;
  append_money_words(out, q, l, c, places);
  return out;
}

void append_money_words(std::string& out, rational q, lang l, const catalogue& c, int places) {
  // The amount isolated (isolate_ltr), in the catalogue's sentence for an amount; the buffer
  // outlives the call, so it is zeroed after it: no amount kept.
  thread_local std::string amount;
  amount.clear();
  append_isolated_number(amount, q, places, l, c);
  c.append_format(out, msg::money, l, {{"amount", amount}});
  std::fill(amount.begin(), amount.end(), '\0');
}

std::string date_words(date d, lang l, const catalogue& c) {
  civil x = to_civil(d);
  std::string day =
      x.day == 1 ? c.text(msg::first_day, l) : std::to_string(static_cast<unsigned>(x.day));
  const msg month =
      static_cast<msg>(static_cast<std::size_t>(msg::month_1) + (x.month >= 1 ? x.month - 1 : 0));
  std::string words =
      c.format(msg::date_words, l,
               {{"day", day}, {"month", c.text(month, l)}, {"year", std::to_string(x.year)}});
  if (l != lang::ar) return words;
  return with_isolates(rli, words);
}

std::string duration_words(duration p, lang l, const catalogue& c) {
  std::vector<std::string> parts;
  if (p.years != 0) parts.push_back(counted(msg::years_one, p.years, l, c));
  if (p.months != 0) parts.push_back(counted(msg::months_one, p.months, l, c));
  if (p.days != 0 || parts.empty()) parts.push_back(counted(msg::days_one, p.days, l, c));
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += i + 1 == parts.size() ? c.text(msg::duration_and, l) : c.text(msg::list_separator, l);
    }
    out += parts[i];
  }
  if (l != lang::ar) return out;
  return with_isolates(rli, out);
}

namespace {

/// label and enum_words without a copy: the text itself (of the pack or of the catalogue).
const std::string& label_text(const dsl::texts& t, lang l, const catalogue& c, msg fallback) {
  auto it = t.find(std::string(lang_code(l)));
  if (it != t.end() && !it->second.empty()) return it->second;
  return c.text(fallback, l);
}

const std::string& enum_text(const dsl::program& p, std::uint32_t e, std::int64_t index, lang l,
                             const catalogue& c) {
  if (e < p.enums.size() && index >= 0) {
    const dsl::enum_info& info = p.enums[e];
    if (static_cast<std::size_t>(index) < info.case_titles.size()) {
      return label_text(info.case_titles[static_cast<std::size_t>(index)], l, c,
                        msg::untitled_value);
    }
  }
  return c.text(msg::untitled_value, l);
}

}  // namespace

std::string label(const dsl::texts& t, lang l, const catalogue& c, msg fallback) {
  return label_text(t, l, c, fallback);
}

std::string enum_words(const dsl::program& p, std::uint32_t e, std::int64_t index, lang l,
                       const catalogue& c) {
  return enum_text(p, e, index, l, c);
}

bool reads_as_decimal(const dsl::type& t, const value& v) {
  return v.known() && (v.r == rep::integer || v.r == rep::ratio) &&
         (t.k == dsl::kind::money || t.k == dsl::kind::decimal);
}

std::string value_words(const dsl::program& p, const dsl::type& t, const value& v, lang l,
                        const catalogue& c, int places) {
  std::string out;
  append_value_words(out, p, t, v, l, c, places);
  return out;
}

std::string exact_value_words(const dsl::program& p, const dsl::type& t, const value& v, lang l,
                              const catalogue& c) {
  int places = 2;
  if (reads_as_decimal(t, v)) {
    places =
        std::max(places, exact_places(v.r == rep::integer ? rational{v.i, 1} : to_rational(v)));
  }
  return value_words(p, t, v, l, c, places);
}

void append_value_words(std::string& out, const dsl::program& p, const dsl::type& t, const value& v,
                        lang l, const catalogue& c, int places) {
  if (v.unknown()) {
    out += c.text(msg::unknown, l);
    return;
  }
  if (v.is_null()) {
    out += c.text(msg::none, l);
    return;
  }
  switch (v.r) {
    case rep::boolean:
      out += c.text(v.b ? msg::yes : msg::no, l);
      return;
    case rep::integer:
    case rep::ratio: {
      const rational q = v.r == rep::integer ? rational{v.i, 1} : to_rational(v);
      if (t.k == dsl::kind::money) {
        append_money_words(out, q, l, c, places);
      } else if (t.k != dsl::kind::decimal && v.r == rep::integer) {
        out += isolate_ltr(integer_words(v.i, l, c), l);
      } else {
        append_isolated_number(out, q, places, l, c);
      }
      return;
    }
    case rep::date:
      out += date_words(date{static_cast<std::int32_t>(v.i)}, l, c);
      return;
    case rep::duration:
      out += duration_words(v.dur, l, c);
      return;
    case rep::text:
      out += isolate_auto(v.as_text(), l);
      return;
    case rep::enumeration:
      out += enum_text(p, t.k == dsl::kind::enumeration ? t.ref : dsl::no_index, v.i, l, c);
      return;
    case rep::list:
      out += counted(msg::items_one, v.list != nullptr ? v.list->count : 0, l, c);
      return;
    case rep::record:
    case rep::none:
      break;
  }
  out += c.text(msg::record_value, l);
}

std::string constant_words(const dsl::program& p, const dsl::constant& k, const dsl::type& t,
                           lang l, const catalogue& c) {
  struct visitor {
    const dsl::program& p;
    const dsl::type& t;
    lang l;
    const catalogue& c;
    std::string number(rational q) const {
      const int places = std::max(exact_places(q), 2);
      if (t.k == dsl::kind::money) return money_words(q, l, c, places);
      return isolate_ltr(number_words(q, places, l, c), l);
    }
    std::string operator()(dsl::null_value) const { return c.text(msg::none, l); }
    std::string operator()(bool b) const { return c.text(b ? msg::yes : msg::no, l); }
    std::string operator()(std::int64_t i) const {
      if (t.k == dsl::kind::money || t.k == dsl::kind::decimal) return number(rational{i, 1});
      return isolate_ltr(integer_words(i, l, c), l);
    }
    std::string operator()(rational q) const { return number(q); }
    std::string operator()(date d) const { return date_words(d, l, c); }
    std::string operator()(duration d) const { return duration_words(d, l, c); }
    std::string operator()(const std::string& s) const { return isolate_auto(s, l); }
    std::string operator()(dsl::enum_value e) const {
      return enum_words(p, e.enum_id, static_cast<std::int64_t>(e.index), l, c);
    }
  };
  return std::visit(visitor{p, t, l, c}, k);
}

std::string language_name(lang of, lang l, const catalogue& c) {
  switch (of) {
    case lang::fr:
      return c.text(msg::lang_name_fr, l);
    case lang::ar:
      return c.text(msg::lang_name_ar, l);
    case lang::en:
      break;
  }
  return c.text(msg::lang_name_en, l);
}

}  // namespace dalil::engine
