// Synthetic applicants for the SNIA rule pack: a seeded std::mt19937_64 mapped to integers by our
// own code (the standard distributions differ between libraries), so output is reproducible.
#include "cli/generate.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <random>
#include <string_view>
#include <vector>

#include "dsl/value.hpp"
#include "engine/record.hpp"

namespace dalil::cli {

namespace {

// ------------------------------------------------------------------ randomness

/// Integer draws from mt19937_64, whose output the standard fixes bit for bit.
class draw {
 public:
  explicit draw(std::uint64_t seed) : g_(seed) {}

  /// Uniform in [0, n), without modulo bias (rejection of the short last interval).
  std::uint64_t below(std::uint64_t n) {
    if (n <= 1) return 0;
    const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (true) {
      std::uint64_t x = g_();
      if (x >= threshold) return x % n;
    }
  }
  /// Uniform in [lo, hi], both inclusive; `lo` when hi < lo.
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    if (hi <= lo) return lo;
    std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo) + 1;
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + below(span));
  }
  bool percent(std::uint64_t p) { return below(100) < p; }
  date day(date lo, date hi) { return date{static_cast<std::int32_t>(between(lo.days, hi.days))}; }

  struct choice {
    const char* value;
    std::uint64_t weight;
  };
  const char* pick(std::initializer_list<choice> choices) {
    std::uint64_t total = 0;
    for (const choice& c : choices) total += c.weight;
    std::uint64_t x = below(total);
    for (const choice& c : choices) {
      if (x < c.weight) return c.value;
      x -= c.weight;
    }
    return choices.begin()->value;
  }
  template <class T>
  T pick_of(std::initializer_list<T> items) {
    return items.begin()[below(items.size())];
  }

 private:
  std::mt19937_64 g_;
};

date ymd(int y, unsigned m, unsigned d) {
  return from_civil(civil{y, m, d});
}
date plus_days(date d, std::int64_t n) {
  return date{static_cast<std::int32_t>(d.days + n)};
}
date plus_years(date d, int n) {
  return add(d, duration{n, 0, 0});
}
date minus_years(date d, int n) {
  return subtract(d, duration{n, 0, 0});
}
date clamp_day(date d, date lo, date hi) {
  return std::max(lo, std::min(d, hi));
}

/// As-of dates that the pack's tests and users often pick; birthdays and card expiries
/// gather around them so that "the day before / the day itself" cases occur.
date typical_as_of(draw& r) {
  return r.pick_of(
      {ymd(2015, 3, 1), ymd(2016, 6, 1), ymd(2020, 6, 1), ymd(2023, 6, 1), ymd(2024, 1, 1)});
}

// ------------------------------------------------------------------ the record, flattened

/// One column of the CSV (and one key path of the JSON). `record` marks the column of an
/// optional record itself (`spouse`), which holds `null` or nothing.
struct column_def {
  const char* path;
  bool record;
};

enum col : std::size_t {
  c_id,
  c_sex,
  c_birth_date,
  c_nationality,
  c_status,
  c_card,
  c_card_kind,
  c_card_expires,
  c_entry_date,
  c_resident_since,
  c_born_in_morocco,
  c_application_date,
  c_spouse,
  c_spouse_nationality,
  c_spouse_lawful_resident,
  c_spouse_married_since,
  c_child_of_qualifying_spouse,
  c_unaccompanied_minor,
  c_work_contract,
  c_work_contract_months,
  c_professional_activity,
  c_serious_illness,
  c_regularized_in,
  c_job_category,
  c_household_size,
  c_household_annual_income,
  c_household_area,
  c_household_commune_poverty_rate,
  c_household_socioeconomic_score,
  c_household_rsu_score,
  c_medical_coverage,
  c_owns_property,
  c_received_housing_aid,
  c_housing_price,
  c_count
};

// In the order of schema.dalil, so that the JSON keys come in the schema's order.
constexpr column_def columns[c_count] = {
    {"id", false},
    {"sex", false},
    {"birth_date", false},
    {"nationality", false},
    {"status", false},
    {"residence_card", true},
    {"residence_card.kind", false},
    {"residence_card.expires", false},
    {"entry_date", false},
    {"resident_since", false},
    {"born_in_morocco", false},
    {"application_date", false},
    {"spouse", true},
    {"spouse.nationality", false},
    {"spouse.lawful_resident", false},
    {"spouse.married_since", false},
    {"child_of_qualifying_spouse", false},
    {"unaccompanied_minor", false},
    {"work_contract", true},
    {"work_contract.months", false},
    {"professional_activity", false},
    {"serious_illness", false},
    {"regularized_in", false},
    {"job_category", false},
    {"household.size", false},
    {"household.annual_income", false},
    {"household.area", false},
    {"household.commune_poverty_rate", false},
    {"household.socioeconomic_score", false},
    {"household.rsu_score", false},
    {"medical_coverage", false},
    {"owns_property", false},
    {"received_housing_aid", false},
    {"housing.price", false},
};

struct cell {
  enum class kind_t : std::uint8_t { absent, null, text, literal } k = kind_t::absent;
  std::string v;
};

cell text(std::string s) {
  return {cell::kind_t::text, std::move(s)};
}
cell literal(std::string s) {
  return {cell::kind_t::literal, std::move(s)};
}
cell null_cell() {
  return {cell::kind_t::null, {}};
}
cell of_date(date d) {
  return text(to_string(d));
}
cell of_bool(bool b) {
  return literal(b ? "true" : "false");
}
cell of_int(std::int64_t v) {
  return literal(std::to_string(v));
}

/// `value / 10^places` as exact decimal text with exactly `places` decimals (value >= 0).
std::string fixed(std::int64_t value, int places) {
  std::int64_t scale = 1;
  for (int i = 0; i < places; ++i) scale *= 10;
  std::string frac = std::to_string(value % scale);
  if (places == 0) return std::to_string(value);
  frac.insert(0, static_cast<std::size_t>(places) - frac.size(), '0');
  return std::to_string(value / scale) + "." + frac;
}
cell of_money(std::int64_t cents) {
  return text(fixed(std::max<std::int64_t>(cents, 0), 2));
}

// ------------------------------------------------------------------ one applicant

/// Annual household income in cents, log-normal-ish between 5,000 and 400,000 MAD: the sum of
/// four uniform draws picks a step on a geometric scale (ratio 80 over 100 steps), then a cent
/// inside the step. Integer arithmetic only, so that every platform draws the same amounts.
std::int64_t income_cents(draw& r) {
  std::int64_t k = 0;
  for (int i = 0; i < 4; ++i) k += r.between(0, 25);
  std::int64_t v = 500000;
  for (std::int64_t i = 0; i < k; ++i) v = v * 104478 / 100000;
  std::int64_t next = v * 104478 / 100000;
  return v + r.between(0, next - v - 1);
}

const char* nationality(draw& r, bool protection) {
  if (protection) {
    return r.pick({{"SY", 34},
                   {"YE", 18},
                   {"CD", 20},
                   {"CM", 9},
                   {"CI", 6},
                   {"NG", 5},
                   {"ML", 5},
                   {"GN", 3}});
  }
  return r.pick({{"SN", 18},
                 {"CI", 16},
                 {"NG", 12},
                 {"CM", 12},
                 {"ML", 10},
                 {"GN", 12},
                 {"DZ", 6},
                 {"TN", 5},
                 {"SY", 4},
                 {"CD", 5}});
}

date application_date(draw& r) {
  std::uint64_t k = r.below(100);
  if (k < 28) return r.day(ymd(2014, 1, 1), ymd(2014, 12, 31));
  if (k < 56) return r.day(ymd(2016, 12, 15), ymd(2017, 12, 31));
  if (k < 90) {
    std::uint64_t w = r.below(4);
    if (w == 0) return r.day(ymd(2012, 6, 1), ymd(2013, 12, 31));
    if (w == 1) return r.day(ymd(2015, 1, 1), ymd(2016, 12, 14));
    return r.day(ymd(2018, 1, 1), ymd(2024, 12, 31));
  }
  // The edges of the two operations' windows and of the 2018 relaxed criteria.
  return r.pick_of({ymd(2013, 12, 31), ymd(2014, 1, 1), ymd(2014, 12, 31), ymd(2015, 1, 1),
                    ymd(2016, 12, 14), ymd(2016, 12, 15), ymd(2017, 12, 31), ymd(2018, 1, 1),
                    ymd(2018, 3, 26), ymd(2018, 3, 27)});
}

date birth_date(draw& r, date app) {
  const date earliest = ymd(1950, 1, 1);
  const date latest = std::min(ymd(2020, 12, 31), plus_days(app, -30));
  std::uint64_t k = r.below(100);
  date d;
  if (k < 3) {
    // 29 February of a leap year before the application year.
    int last_year = to_civil(app).year - 1;
    std::int64_t leaps = (last_year - 1952) / 4 + 1;
    d = ymd(1952 + 4 * static_cast<int>(r.between(0, leaps - 1)), 2, 29);
  } else if (k < 9) {
    d = plus_days(minus_years(app, 18), r.between(-3, 3));  // 18 at filing, give or take days
  } else if (k < 13) {
    date as_of = typical_as_of(r);  // one draw per statement: argument order is unspecified
    d = plus_days(minus_years(as_of, 18), r.between(-2, 2));
  } else if (k < 25) {
    // A minor at filing.
    d = r.day(plus_days(minus_years(app, 18), 1), std::min(minus_years(app, 1), latest));
  } else {
    d = r.day(earliest, plus_days(minus_years(app, 18), -1));  // an adult at filing
  }
  return clamp_day(d, earliest, latest);
}

std::vector<cell> applicant(draw& r, std::size_t index) {
  std::vector<cell> c(c_count);
  char id[32];
  std::snprintf(id, sizeof id, "SYN-%06zu", index + 1);
  c[c_id] = text(id);

  const std::string status = r.pick({{"regular", 55},
                                     {"refugee", 12},
                                     {"asylum_seeker", 8},
                                     {"irregular", 20},
                                     {"stateless", 5}});
  c[c_status] = text(status);
  const bool protection = status == "refugee" || status == "asylum_seeker";
  const bool female = r.percent(46);
  c[c_sex] = text(female ? "female" : "male");

  const date app = application_date(r);
  c[c_application_date] = of_date(app);
  const date birth = birth_date(r, app);
  c[c_birth_date] = of_date(birth);
  const bool minor = years_between(birth, app) < 18;

  // Stateless persons have no nationality to give: the field stays absent.
  const std::string nat = nationality(r, protection);
  if (status != "stateless") c[c_nationality] = text(nat);

  const bool born_here = r.percent(minor ? 25 : 6);
  c[c_born_in_morocco] = of_bool(born_here);
  date entry = birth;
  if (!born_here) {
    date hi = plus_days(app, -1);
    date lo = std::min(std::max(birth, ymd(1995, 1, 1)), hi);
    entry = r.day(lo, hi);
    if (r.percent(4)) {
      // Around the 2014 illness category's cut-off (entry before 2013-12-31).
      entry = clamp_day(plus_days(ymd(2013, 12, 31), r.between(-2, 2)), lo, hi);
    }
  }
  c[c_entry_date] = of_date(entry);
  date since = entry;
  std::uint64_t k = r.below(100);
  if (k < 8) {
    since = clamp_day(plus_days(minus_years(app, 5), r.between(-1, 1)), entry, app);
  } else if (k < 30) {
    since = r.day(entry, app);
  }
  c[c_resident_since] = of_date(since);

  // Residence title: most regular migrants hold one; some others hold an expired one.
  std::uint64_t card_share = status == "regular"         ? 92
                             : status == "refugee"       ? 55
                             : status == "asylum_seeker" ? 10
                             : status == "irregular"     ? 12
                                                         : 25;
  if (r.percent(card_share)) {
    std::uint64_t residence_share = status == "regular" ? 45 : 20;
    c[c_card_kind] = text(r.percent(residence_share) ? "residence" : "immatriculation");
    date expires = r.day(ymd(2014, 1, 1), ymd(2030, 12, 31));
    if (r.percent(10)) {
      date as_of = typical_as_of(r);
      expires = plus_days(as_of, r.between(-1, 1));
    }
    c[c_card_expires] = of_date(expires);
  } else {
    c[c_card] = null_cell();
  }

  // Spouse: absent (unknown) for 5%, so that the marriage categories can be undetermined.
  k = r.below(100);
  if (k < 5) {
    // unknown: nothing written
  } else if (minor || k >= 50) {
    c[c_spouse] = null_cell();
  } else {
    std::uint64_t s = r.below(100);
    std::string spouse_nat = s < 12 ? "MA" : s < 67 ? nat : nationality(r, false);
    c[c_spouse_nationality] = text(spouse_nat);
    c[c_spouse_lawful_resident] = of_bool(spouse_nat == "MA" || r.percent(45));
    date lo = std::min(plus_years(birth, 18), app);
    date married = r.day(lo, app);
    std::uint64_t m = r.below(100);
    if (m < 10) married = plus_days(minus_years(app, 2), r.between(-1, 1));
    if (m >= 10 && m < 18) married = plus_days(minus_years(app, 4), r.between(-1, 1));
    c[c_spouse_married_since] = of_date(clamp_day(married, lo, app));
  }

  c[c_child_of_qualifying_spouse] = of_bool(r.percent(minor ? 30 : 1));
  c[c_unaccompanied_minor] = of_bool(minor && r.percent(18));

  k = r.below(100);
  if (k < 5) {
    // unknown
  } else if (minor || k >= 40) {
    c[c_work_contract] = null_cell();
  } else {
    std::int64_t months = r.percent(20) ? r.between(23, 25) : r.between(0, 60);
    c[c_work_contract_months] = of_int(months);
  }
  c[c_professional_activity] = of_bool(r.percent(minor ? 2 : 25));
  c[c_serious_illness] = of_bool(r.percent(6));

  k = r.below(100);
  if (k < 4) {
    // unknown
  } else if (app >= ymd(2018, 1, 1) && k < 14) {
    c[c_regularized_in] = of_int(2016);
  } else if (app >= ymd(2015, 1, 1) && k < 30) {
    c[c_regularized_in] = of_int(2014);
  } else {
    c[c_regularized_in] = null_cell();
  }
  c[c_job_category] = text(r.pick({{"none", 88},
                                   {"company_manager", 5},
                                   {"short_mission_expert", 3},
                                   {"artist_or_athlete", 4}}));

  // Household sizes 1 to 9, small households first.
  constexpr std::uint64_t size_weights[9] = {20, 18, 17, 15, 12, 8, 5, 3, 2};
  std::uint64_t x = r.below(100);
  std::int64_t size = 1;
  for (std::uint64_t w : size_weights) {
    if (x < w) break;
    x -= w;
    ++size;
  }
  c[c_household_size] = of_int(size);
  std::int64_t income = income_cents(r);
  if (r.percent(5)) {
    // Exactly at a threshold of the pack, or one cent either side: RAMED's poverty line and
    // income ceiling per person, and the middle-class ceiling (20,000 a month).
    std::uint64_t t = r.below(3);
    std::int64_t at = t == 0 ? 376700 * size : t == 1 ? 565000 * size : 24000000;
    income = at + r.between(-1, 1);
  }
  c[c_household_annual_income] = of_money(income);
  c[c_household_area] = text(r.percent(85) ? "urban" : "rural");
  c[c_household_commune_poverty_rate] =
      text(fixed(r.percent(5) ? 300 + r.between(-1, 1) : r.between(5, 450), 1));
  c[c_household_socioeconomic_score] =
      text(fixed(r.percent(5) ? 1100 + r.between(-1, 1) : r.between(400, 1800), 2));
  c[c_household_rsu_score] =
      text(fixed(r.percent(8) ? 93264284 + r.between(-1, 1) : r.between(50000000, 140000000), 7));

  c[c_medical_coverage] = of_bool(r.percent(status == "regular" ? 35 : 12));
  c[c_owns_property] = of_bool(r.percent(7));
  c[c_received_housing_aid] = of_bool(r.percent(4));
  k = r.below(100);
  if (k < 25) {
    // At the direct aid's price ceilings, or one cent either side.
    c[c_housing_price] = of_money((k < 12 ? 30000000 : 70000000) + r.between(-1, 1));
  } else if (k < 92) {
    c[c_housing_price] = of_money(r.between(120, 1500) * 100000);
  }

  // About 5% lack one fact an official would have to ask for.
  if (r.percent(5)) {
    std::vector<std::size_t> askable;
    for (std::size_t a :
         {c_status, c_birth_date, c_application_date, c_nationality, c_card_expires, c_entry_date,
          c_resident_since, c_spouse_married_since, c_work_contract_months, c_household_size,
          c_household_annual_income, c_household_area, c_household_socioeconomic_score,
          c_household_rsu_score, c_medical_coverage, c_owns_property, c_serious_illness,
          c_housing_price}) {
      if (c[a].k == cell::kind_t::text || c[a].k == cell::kind_t::literal) askable.push_back(a);
    }
    if (!askable.empty()) c[askable[r.below(askable.size())]] = cell{};
  }
  return c;
}

// ------------------------------------------------------------------ output

void append_value(std::string& out, const cell& v) {
  switch (v.k) {
    case cell::kind_t::text:
      engine::append_json_string(out, v.v);
      break;
    case cell::kind_t::literal:
      out += v.v;
      break;
    case cell::kind_t::null:
    case cell::kind_t::absent:
      out += "null";
      break;
  }
}

bool in_group(std::string_view path, std::string_view group) {
  return path.size() > group.size() && path.substr(0, group.size()) == group &&
         path[group.size()] == '.';
}

/// One JSON object, keys in schema order. A record whose own column is empty and whose leaves
/// are all unknown is left out, exactly as the CSV reader reads the same row.
void append_json(std::string& out, const std::vector<cell>& c) {
  out += '{';
  bool first = true;
  auto key = [&](std::string_view k) {
    if (!first) out += ',';
    first = false;
    engine::append_json_string(out, k);
    out += ':';
  };
  std::size_t i = 0;
  while (i < c_count) {
    std::string_view path = columns[i].path;
    std::size_t dot = path.find('.');
    if (dot == std::string_view::npos && !columns[i].record) {
      if (c[i].k != cell::kind_t::absent) {
        key(path);
        append_value(out, c[i]);
      }
      ++i;
      continue;
    }
    std::string_view group = dot == std::string_view::npos ? path : path.substr(0, dot);
    bool is_null = columns[i].record && c[i].k == cell::kind_t::null;
    std::size_t leaves = columns[i].record ? i + 1 : i;
    std::size_t end = leaves;
    while (end < c_count && in_group(columns[end].path, group)) ++end;
    if (is_null) {
      key(group);
      out += "null";
    } else {
      bool any = false;
      for (std::size_t j = leaves; j < end; ++j) any = any || c[j].k != cell::kind_t::absent;
      if (any) {
        key(group);
        out += '{';
        bool first_leaf = true;
        for (std::size_t j = leaves; j < end; ++j) {
          if (c[j].k == cell::kind_t::absent) continue;
          if (!first_leaf) out += ',';
          first_leaf = false;
          std::string_view leaf = columns[j].path;
          engine::append_json_string(out, leaf.substr(group.size() + 1));
          out += ':';
          append_value(out, c[j]);
        }
        out += '}';
      }
    }
    i = end;
  }
  out += "}\n";
}

void append_csv_cell(std::string& out, const cell& v) {
  switch (v.k) {
    case cell::kind_t::absent:
      return;
    case cell::kind_t::null:
      out += "null";
      return;
    case cell::kind_t::literal:
    case cell::kind_t::text:
      break;
  }
  bool quote = v.v.find_first_of(",\"\r\n") != std::string::npos ||
               (!v.v.empty() && (v.v.front() == ' ' || v.v.back() == ' '));
  if (!quote) {
    out += v.v;
    return;
  }
  out += '"';
  for (char ch : v.v) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
}

void append_csv(std::string& out, const std::vector<cell>& c) {
  for (std::size_t i = 0; i < c_count; ++i) {
    if (i) out += ',';
    append_csv_cell(out, c[i]);
  }
  out += '\n';
}

}  // namespace

int run_generate(std::size_t count, std::uint64_t seed, const std::string& format,
                 const std::string& out_path) {
  if (format != "jsonl" && format != "csv") {
    std::cerr << "error: unknown format '" << format << "' (jsonl or csv)\n";
    return 2;
  }
  std::ofstream file;
  if (out_path != "-") {
    file.open(out_path, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "error: cannot write " << out_path << "\n";
      return 2;
    }
  }
  std::ostream& out = out_path == "-" ? std::cout : file;
  const bool csv = format == "csv";
  std::string buffer;
  if (csv) {
    for (std::size_t i = 0; i < c_count; ++i) {
      if (i) buffer += ',';
      buffer += columns[i].path;
    }
    buffer += '\n';
  }
  draw r(seed);
  for (std::size_t n = 0; n < count; ++n) {
    std::vector<cell> c = applicant(r, n);
    if (csv) {
      append_csv(buffer, c);
    } else {
      append_json(buffer, c);
    }
    if (buffer.size() >= (1u << 20)) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
      if (!out) break;
    }
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  out.flush();
  if (!out) {
    std::cerr << "error: cannot write " << (out_path == "-" ? "to stdout" : out_path) << "\n";
    return 2;
  }
  return 0;
}

}  // namespace dalil::cli
