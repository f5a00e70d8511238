// Interval and case-set reasoning over decision-table rows.
#include "dsl/table_analysis.hpp"

#include <algorithm>
#include <compare>
#include <cstdint>
#include <optional>

#include "dsl/limits.hpp"

namespace dalil::dsl {

namespace {

struct bound {
  std::optional<rational> at;  // nullopt: unbounded
  bool inclusive = false;
};

struct constraint {
  enum class shape : std::uint8_t { interval, cases } s = shape::interval;
  bound lo;
  bound hi;
  std::vector<bool> cases;  // enum cases or {false, true}
};

struct subject_info {
  type t;
  std::string name;
};

using row_constraints = std::map<std::string, constraint>;

std::string key_of(const program& p, std::uint32_t id) {
  const expression& e = p.expressions[id];
  std::string k = std::to_string(static_cast<int>(e.o)) + ":" + std::to_string(e.ref);
  for (std::uint32_t f : e.fields) k += "." + std::to_string(f);
  if (e.o == op::constant) k += "=" + constant_text(p, e.value, e.t);
  k += "(";
  for (std::uint32_t a : e.args) k += key_of(p, a) + ",";
  return k + ")";
}

std::string name_of(const program& p, std::uint32_t id) {
  const expression& e = p.expressions[id];
  switch (e.o) {
    case op::fact:
      return p.input_name + "." + p.facts[e.ref].path;
    case op::rule:
      return p.rules[e.ref].qualified;
    case op::parameter:
      return p.parameters[e.ref].qualified;
    case op::as_of:
      return "as_of";
    default:
      return "the compared value";
  }
}

std::optional<rational> as_rational(const constant& c) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) return rational{*i, 1};
  if (const auto* r = std::get_if<rational>(&c)) return *r;
  if (const auto* d = std::get_if<date>(&c)) return rational{d->days, 1};
  return std::nullopt;
}

bool ordered(kind k) {
  return k == kind::integer || k == kind::decimal || k == kind::money || k == kind::date;
}

std::size_t case_count(const program& p, const type& t) {
  return t.k == kind::boolean ? 2 : p.enums[t.ref].cases.size();
}

constraint full(const program& p, const type& t) {
  constraint c;
  if (!ordered(t.k)) {
    c.s = constraint::shape::cases;
    c.cases.assign(case_count(p, t), true);
  }
  return c;
}

bool less_lo(const bound& a, const bound& b) {  // a is a tighter (greater) lower bound than b
  if (!b.at) return a.at.has_value();
  if (!a.at) return false;
  auto o = compare(*a.at, *b.at);
  return std::is_gt(o) || (std::is_eq(o) && !a.inclusive && b.inclusive);
}
bool less_hi(const bound& a, const bound& b) {  // a is a tighter (smaller) upper bound than b
  if (!b.at) return a.at.has_value();
  if (!a.at) return false;
  auto o = compare(*a.at, *b.at);
  return std::is_lt(o) || (std::is_eq(o) && !a.inclusive && b.inclusive);
}

constraint intersect(const constraint& a, const constraint& b) {
  constraint c = a;
  if (a.s == constraint::shape::cases) {
    for (std::size_t i = 0; i < c.cases.size(); ++i) c.cases[i] = a.cases[i] && b.cases[i];
    return c;
  }
  c.lo = less_lo(b.lo, a.lo) ? b.lo : a.lo;
  c.hi = less_hi(b.hi, a.hi) ? b.hi : a.hi;
  return c;
}

bool empty(const constraint& c) {
  if (c.s == constraint::shape::cases) {
    return std::none_of(c.cases.begin(), c.cases.end(), [](bool b) { return b; });
  }
  if (!c.lo.at || !c.hi.at) return false;
  auto o = compare(*c.lo.at, *c.hi.at);
  return std::is_gt(o) || (std::is_eq(o) && !(c.lo.inclusive && c.hi.inclusive));
}

std::string show(const type& t, rational v) {
  if (t.k == kind::money) return money_string(v) + " MAD";
  if (t.k == kind::date) return to_string(date{static_cast<std::int32_t>(v.num / v.den)});
  return to_string(v);
}

/// Integer subjects: turn strict and fractional bounds into inclusive integer bounds.
void normalise_integer(constraint& c) {
  // Past either end of the 64-bit range nothing is left: an empty constraint (one past the
  // end would overflow, and `x > 9223372036854775807` read as covering every value).
  constexpr std::int64_t top = INT64_MAX;
  constexpr std::int64_t bottom = INT64_MIN;
  const bool above_top = c.lo.at && !c.lo.inclusive && *c.lo.at == rational{top, 1};
  const bool below_bottom = c.hi.at && !c.hi.inclusive && *c.hi.at == rational{bottom, 1};
  if (above_top || below_bottom) {
    c.lo = {rational{top, 1}, true};
    c.hi = {rational{top - 1, 1}, true};
    return;
  }
  if (c.lo.at) {
    rational f = floor_rational(*c.lo.at);
    bool whole = f == *c.lo.at;
    std::int64_t v = whole ? f.num + (c.lo.inclusive ? 0 : 1) : f.num + 1;
    c.lo = {rational{v, 1}, true};
  }
  if (c.hi.at) {
    rational f = floor_rational(*c.hi.at);
    bool whole = f == *c.hi.at;
    std::int64_t v = whole ? f.num - (c.hi.inclusive ? 0 : 1) : f.num;
    c.hi = {rational{v, 1}, true};
  }
}

/// Adds the atom `subject op constant` to `row`; returns false when it is not analysable.
bool add_atom(const program& p, std::uint32_t id, row_constraints& row,
              std::map<std::string, subject_info>& subjects) {
  const expression& e = p.expressions[id];
  if (e.o == op::and_) {
    return add_atom(p, e.args[0], row, subjects) && add_atom(p, e.args[1], row, subjects);
  }
  auto constrain = [&](std::uint32_t subject, const constraint& c) {
    std::string k = key_of(p, subject);
    const type& t = p.expressions[subject].t;
    subjects.emplace(k, subject_info{t, name_of(p, subject)});
    auto it = row.find(k);
    row[k] = it == row.end() ? c : intersect(it->second, c);
    return true;
  };
  auto boolean_atom = [&](std::uint32_t subject, bool value) {
    const expression& s = p.expressions[subject];
    if (s.o != op::fact && s.o != op::rule) return false;
    constraint c;
    c.s = constraint::shape::cases;
    c.cases = {!value, value};
    return constrain(subject, c);
  };
  if (e.t.k == kind::boolean && (e.o == op::fact || e.o == op::rule)) return boolean_atom(id, true);
  if (e.o == op::not_) return boolean_atom(e.args[0], false);
  if (e.o == op::in) {
    std::uint32_t subject = e.args[0];
    const type& t = p.expressions[subject].t;
    if (t.k != kind::enumeration && t.k != kind::boolean) return false;
    constraint c = full(p, t);
    std::fill(c.cases.begin(), c.cases.end(), false);
    for (std::uint32_t item : p.expressions[e.args[1]].args) {
      const expression& ie = p.expressions[item];
      if (ie.o != op::constant) return false;
      if (const auto* ev = std::get_if<enum_value>(&ie.value)) c.cases[ev->index] = true;
      if (const auto* b = std::get_if<bool>(&ie.value)) c.cases[*b ? 1 : 0] = true;
    }
    return constrain(subject, c);
  }
  if (e.o != op::eq && e.o != op::ne && e.o != op::lt && e.o != op::le && e.o != op::gt &&
      e.o != op::ge) {
    return false;
  }
  std::uint32_t subject = e.args[0];
  std::uint32_t value = e.args[1];
  op o = e.o;
  if (p.expressions[subject].o == op::constant) {
    std::swap(subject, value);
    o = o == op::lt   ? op::gt
        : o == op::gt ? op::lt
        : o == op::le ? op::ge
        : o == op::ge ? op::le
                      : o;
  }
  const expression& ve = p.expressions[value];
  const expression& se = p.expressions[subject];
  if (ve.o != op::constant || se.o == op::constant) return false;
  const type& t = se.t;
  if (t.k == kind::enumeration || t.k == kind::boolean) {
    if (o != op::eq && o != op::ne) return false;
    constraint c = full(p, t);
    std::size_t index = 0;
    if (const auto* ev = std::get_if<enum_value>(&ve.value)) {
      index = ev->index;
    } else if (const auto* b = std::get_if<bool>(&ve.value)) {
      index = *b ? 1 : 0;
    } else {
      return false;
    }
    for (std::size_t i = 0; i < c.cases.size(); ++i) c.cases[i] = (o == op::eq) == (i == index);
    return constrain(subject, c);
  }
  if (!ordered(t.k) || o == op::ne) return false;
  auto v = as_rational(ve.value);
  if (!v) return false;
  constraint c;
  if (o == op::eq || o == op::ge || o == op::gt) c.lo = {*v, o != op::gt};
  if (o == op::eq || o == op::le || o == op::lt) c.hi = {*v, o != op::lt};
  if (t.k == kind::integer || t.k == kind::date) normalise_integer(c);
  return constrain(subject, c);
}

std::string describe(const subject_info& s, const constraint& c) {
  if (c.s == constraint::shape::cases) return {};
  std::string out;
  if (c.lo.at && c.hi.at && std::is_eq(compare(*c.lo.at, *c.hi.at))) {
    return s.name + " = " + show(s.t, *c.lo.at);
  }
  if (c.lo.at) out = s.name + (c.lo.inclusive ? " >= " : " > ") + show(s.t, *c.lo.at);
  if (c.hi.at) {
    out += (out.empty() ? s.name : " and " + s.name) + (c.hi.inclusive ? " <= " : " < ") +
           show(s.t, *c.hi.at);
  }
  return out.empty() ? "every " + s.name : out;
}

using rows_t = std::vector<std::optional<row_constraints>>;
using subjects_t = std::map<std::string, subject_info>;

/// Whether two constraints of one subject admit a common value (without building the
/// intersection, which for an enum would copy its cases).
bool meets(const constraint& a, const constraint& b) {
  if (a.s == constraint::shape::cases) {
    for (std::size_t i = 0; i < a.cases.size() && i < b.cases.size(); ++i) {
      if (a.cases[i] && b.cases[i]) return true;
    }
    return false;
  }
  constraint both;
  both.lo = less_lo(b.lo, a.lo) ? b.lo : a.lo;
  both.hi = less_hi(b.hi, a.hi) ? b.hi : a.hi;
  return !empty(both);
}

/// Whether rows `a` and `b` admit a common case; fills `example` ("both match …") if so. Adds
/// the work done to `work`: one per subject compared, and one per 64 cases of an enum.
bool rows_overlap(const program& p, const row_constraints& a, const row_constraints& b,
                  const subjects_t& subjects, std::string* example, std::size_t* work = nullptr) {
  // Only the subjects the two rows constrain matter: walk both (sorted) maps together, in the
  // subjects' order, rather than every subject of the table for every pair of rows.
  std::string out;
  auto ia = a.begin();
  auto ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    const bool take_a = ib == b.end() || (ia != a.end() && ia->first <= ib->first);
    const bool take_b = ia == a.end() || (ib != b.end() && ib->first <= ia->first);
    const std::string& k = take_a ? ia->first : ib->first;
    const constraint* ca = take_a ? &ia->second : nullptr;
    const constraint* cb = take_b ? &ib->second : nullptr;
    if (take_a) ++ia;
    if (take_b) ++ib;
    if (work != nullptr) *work += 1 + (ca != nullptr ? ca->cases.size() / 64 : 0);
    if (example == nullptr) {
      // A subject one row leaves open meets the other row's constraint unless it is empty.
      if (ca == nullptr || cb == nullptr) {
        if (empty(ca == nullptr ? *cb : *ca)) return false;
      } else if (!meets(*ca, *cb)) {
        return false;
      }
      continue;
    }
    const subject_info& info = subjects.at(k);
    constraint both =
        intersect(ca != nullptr ? *ca : full(p, info.t), cb != nullptr ? *cb : full(p, info.t));
    if (empty(both)) return false;
    if (both.s == constraint::shape::cases) {
      for (std::size_t i = 0; i < both.cases.size(); ++i) {
        if (!both.cases[i]) continue;
        std::string v =
            info.t.k == kind::boolean ? (i ? "true" : "false") : p.enums[info.t.ref].cases[i];
        out += (out.empty() ? "" : ", ") + info.name + " = " + v;
        break;
      }
    } else {
      out += (out.empty() ? "" : ", ") + describe(info, both);
    }
  }
  if (example != nullptr) *example = "both match " + out;
  return true;
}

/// One interval subject: rows in order, each looked up among the earlier rows whose lower bound
/// does not pass its upper bound (a prefix of the rows sorted by lower bound), of which the one
/// reaching highest overlaps it if any does. A Fenwick tree keeps that maximum: O(n log n).
void interval_overlaps(const std::vector<const constraint*>& c, std::vector<std::size_t>& partner) {
  const std::size_t n = c.size();
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < n; ++i) {
    if (c[i] != nullptr && !empty(*c[i])) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return less_lo(c[y]->lo, c[x]->lo); });
  std::vector<std::size_t> slot(n, 0);
  for (std::size_t k = 0; k < order.size(); ++k) slot[order[k]] = k;
  constexpr std::size_t none = SIZE_MAX;
  std::vector<std::size_t> tree(order.size() + 1, none);  // 1-based; row reaching highest
  auto higher = [&](std::size_t x, std::size_t y) {       // x reaches higher than y (or y is none)
    if (y == none) return x != none;
    if (x == none) return false;
    if (less_hi(c[y]->hi, c[x]->hi)) return true;
    if (less_hi(c[x]->hi, c[y]->hi)) return false;
    return x < y;
  };
  for (std::size_t b = 0; b < n; ++b) {
    if (c[b] == nullptr || empty(*c[b])) continue;
    // Rows whose lower bound still admits a value at or below b's upper bound.
    std::size_t lo = 0;
    std::size_t hi = order.size();
    while (lo < hi) {
      std::size_t mid = (lo + hi) / 2;
      constraint span_to;
      span_to.lo = c[order[mid]]->lo;
      span_to.hi = c[b]->hi;
      if (!empty(span_to)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    std::size_t best = none;
    for (std::size_t k = lo; k > 0; k -= k & (~k + 1)) {
      if (higher(tree[k], best)) best = tree[k];
    }
    if (best != none && !empty(intersect(*c[best], *c[b]))) partner[b] = best;
    for (std::size_t k = slot[b] + 1; k <= order.size(); k += k & (~k + 1)) {
      if (higher(b, tree[k])) tree[k] = b;
    }
  }
}

/// One enum or bool subject: the first row holding each case.
void case_overlaps(const std::vector<const constraint*>& c, std::vector<std::size_t>& partner) {
  constexpr std::size_t none = SIZE_MAX;
  std::vector<std::size_t> first;
  for (std::size_t b = 0; b < c.size(); ++b) {
    if (c[b] == nullptr) continue;
    const std::vector<bool>& cases = c[b]->cases;
    if (first.size() < cases.size()) first.resize(cases.size(), none);
    std::size_t best = none;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      if (!cases[i]) continue;
      if (first[i] == none) {
        first[i] = b;
      } else {
        best = std::min(best, first[i]);
      }
    }
    if (best != none) partner[b] = best;
  }
}

/// How many pairs of the (non-empty) intervals `c` meet: all pairs but those where one ends
/// before the other starts, counted by binary search over the upper bounds. O(n log n).
std::size_t meeting_pairs(const std::vector<const constraint*>& c) {
  std::vector<const constraint*> by_hi = c;
  std::stable_sort(by_hi.begin(), by_hi.end(),
                   [](const constraint* x, const constraint* y) { return less_hi(x->hi, y->hi); });
  std::size_t disjoint = 0;
  for (const constraint* b : c) {
    // Intervals ending before b starts form a prefix of by_hi.
    std::size_t lo = 0;
    std::size_t hi = by_hi.size();
    while (lo < hi) {
      std::size_t mid = (lo + hi) / 2;
      constraint between;
      between.lo = b->lo;
      between.hi = by_hi[mid]->hi;
      if (empty(between)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    disjoint += lo;
  }
  std::size_t n = c.size();
  return n * (n - 1) / 2 - disjoint;
}

/// Several subjects: candidate pairs are the rows whose intervals on the primary subject meet (rows
/// sorted by its lower bound), each checked on every subject; a row already known to overlap is not
/// checked again. Gives up past the comparison budget.
bool general_overlaps(const program& p, const rows_t& rows, const subjects_t& subjects,
                      std::vector<std::size_t>& partner) {
  constexpr std::size_t none = SIZE_MAX;
  const std::size_t n = rows.size();
  const constraint unbounded;
  // The primary subject: the interval subject on which the fewest pairs of rows meet, among the
  // few that most rows constrain (a row that leaves the subject open meets every other row on
  // it, so a subject few rows name is a poor primary; and trying every subject of a table whose
  // rows each name their own would cost subjects x rows).
  constexpr std::size_t candidates = 8;
  std::map<std::string, std::size_t> named;
  for (const auto& r : rows) {
    if (!r) continue;
    for (const auto& [k, con] : *r) {
      if (ordered(subjects.at(k).t.k)) ++named[k];
    }
  }
  std::vector<std::pair<std::size_t, std::string>> by_rows;
  by_rows.reserve(named.size());
  for (const auto& [k, count] : named) by_rows.emplace_back(count, k);
  std::stable_sort(by_rows.begin(), by_rows.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  if (by_rows.size() > candidates) by_rows.resize(candidates);
  std::string primary;
  std::size_t fewest = SIZE_MAX;
  for (const auto& [count, k] : by_rows) {
    std::vector<const constraint*> c;
    for (const auto& r : rows) {
      if (!r) continue;
      auto it = r->find(k);
      c.push_back(it == r->end() ? &unbounded : &it->second);
      if (empty(*c.back())) c.pop_back();
    }
    std::size_t pairs = meeting_pairs(c);
    if (pairs < fewest) {
      fewest = pairs;
      primary = k;
    }
  }
  std::vector<std::size_t> order;
  std::vector<const constraint*> c(n, nullptr);
  for (std::size_t i = 0; i < n; ++i) {
    if (!rows[i]) continue;
    auto it = primary.empty() ? rows[i]->end() : rows[i]->find(primary);
    c[i] = it == rows[i]->end() ? &unbounded : &it->second;
    if (!empty(*c[i])) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return less_lo(c[y]->lo, c[x]->lo); });
  std::size_t work = 0;
  for (std::size_t x = 0; x < order.size(); ++x) {
    for (std::size_t y = x + 1; y < order.size(); ++y) {
      // Sorted by lower bound: once y starts past x's end, no later row meets x either.
      constraint span_to;
      span_to.lo = c[order[y]]->lo;
      span_to.hi = c[order[x]]->hi;
      if (empty(span_to)) break;
      std::size_t a = std::min(order[x], order[y]);
      std::size_t b = std::max(order[x], order[y]);
      if (partner[b] != none && partner[b] < a) continue;
      if (work > limits::max_table_comparisons) return false;
      if (rows_overlap(p, *rows[a], *rows[b], subjects, nullptr, &work)) partner[b] = a;
    }
  }
  return true;
}

}  // namespace

table_report analyse_table(const program& p, const std::vector<std::uint32_t>& conditions,
                           bool find_overlaps) {
  table_report report;
  rows_t rows;
  subjects_t subjects;
  for (std::uint32_t c : conditions) {
    row_constraints row;
    if (add_atom(p, c, row, subjects)) {
      rows.emplace_back(std::move(row));
    } else {
      rows.emplace_back(std::nullopt);
      report.analysable = false;
      report.unread.push_back(rows.size() - 1);
    }
  }
  if (find_overlaps) {
    constexpr std::size_t none = SIZE_MAX;
    std::vector<std::size_t> partner(rows.size(), none);
    if (subjects.size() == 1) {
      const auto& [key, info] = *subjects.begin();
      std::vector<const constraint*> c(rows.size(), nullptr);
      for (std::size_t i = 0; i < rows.size(); ++i) {
        if (rows[i]) c[i] = &rows[i]->at(key);
      }
      if (ordered(info.t.k)) {
        interval_overlaps(c, partner);
      } else {
        case_overlaps(c, partner);
      }
    } else if (!subjects.empty()) {
      report.too_large = !general_overlaps(p, rows, subjects, partner);
    }
    for (std::size_t b = 0; b < rows.size(); ++b) {
      if (partner[b] == none) continue;
      if (report.overlaps.size() == limits::max_reports_per_construct) {
        ++report.more_overlaps;
        continue;
      }
      table_overlap o{b, partner[b], {}};
      rows_overlap(p, *rows[partner[b]], *rows[b], subjects, &o.example);
      report.overlaps.push_back(std::move(o));
    }
  }
  // Gaps: only for tables whose every row constrains the same single subject.
  if (!report.analysable) return report;
  if (subjects.size() != 1 || rows.empty()) {
    report.analysable = false;
    return report;
  }
  const auto& [key, info] = *subjects.begin();
  if (info.t.k == kind::enumeration || info.t.k == kind::boolean) {
    std::vector<bool> covered(case_count(p, info.t), false);
    for (const auto& r : rows) {
      const constraint& c = r->at(key);
      for (std::size_t i = 0; i < covered.size(); ++i) covered[i] = covered[i] || c.cases[i];
    }
    std::string missing;
    for (std::size_t i = 0; i < covered.size(); ++i) {
      if (covered[i]) continue;
      std::string v =
          info.t.k == kind::boolean ? (i ? "true" : "false") : p.enums[info.t.ref].cases[i];
      missing += (missing.empty() ? "" : ", ") + v;
    }
    if (!missing.empty()) report.gap = info.name + " = " + missing;
    return report;
  }
  std::vector<constraint> intervals;
  for (const auto& r : rows) {
    if (!empty(r->at(key))) intervals.push_back(r->at(key));
  }
  std::sort(intervals.begin(), intervals.end(),
            [](const constraint& a, const constraint& b) { return less_lo(b.lo, a.lo); });
  bool discrete = info.t.k == kind::integer || info.t.k == kind::date;
  // The ends of a discrete subject's domain: a row reaching one leaves nothing beyond it to
  // cover (one past either end overflowed, and a gap "past 9999-12-31" was reported).
  const std::int64_t domain_min = info.t.k == kind::date ? min_date.days : INT64_MIN;
  const std::int64_t domain_max = info.t.k == kind::date ? max_date.days : INT64_MAX;
  auto covers_min = [&](const bound& b) {
    if (!discrete || !b.at) return !b.at;
    const rational f = floor_rational(*b.at);
    return f == *b.at && b.inclusive && f.num <= domain_min;
  };
  auto covers_max = [&](const bound& b) {
    if (!discrete || !b.at) return !b.at;
    const rational f = floor_rational(*b.at);
    return f.num > domain_max || (f.num == domain_max && (b.inclusive || f != *b.at));
  };
  bound reach;  // covered up to here (nullopt at: nothing yet, from minus infinity)
  bool started = false;
  for (const constraint& c : intervals) {
    if (!started) {
      if (c.lo.at && !covers_min(c.lo)) {
        constraint g;
        g.hi = {c.lo.at, !c.lo.inclusive};
        if (discrete) normalise_integer(g);
        report.gap = describe(info, g);
        return report;
      }
      started = true;
      reach = c.hi;
      if (!reach.at || covers_max(reach)) return report;
      continue;
    }
    // Is c.lo contiguous with reach?
    bool contiguous = false;
    if (!c.lo.at) {
      contiguous = true;
    } else {
      auto o = compare(*c.lo.at, *reach.at);
      if (discrete) {
        auto next = add(*reach.at, rational{1, 1});
        contiguous = next && std::is_lteq(compare(*c.lo.at, *next));
      } else {
        contiguous = std::is_lt(o) || (std::is_eq(o) && (c.lo.inclusive || reach.inclusive));
      }
    }
    if (!contiguous) {
      constraint g;
      g.lo = {reach.at, !reach.inclusive};
      g.hi = {c.lo.at, !c.lo.inclusive};
      if (discrete) normalise_integer(g);
      report.gap = describe(info, g);
      return report;
    }
    if (!c.hi.at) return report;
    if (less_hi(reach, c.hi)) reach = c.hi;
    if (covers_max(reach)) return report;
  }
  if (started && covers_max(reach)) return report;  // not started: no row can match at all
  constraint g;
  g.lo = {reach.at, !reach.inclusive};
  if (discrete) normalise_integer(g);
  report.gap = describe(info, g);
  return report;
}

}  // namespace dalil::dsl
