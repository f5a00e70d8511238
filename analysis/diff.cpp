// The semantic diff: structural changes read off the two checked programs, and per contract
// decision one solver query per interval of as-of dates in which neither version's parameters
// nor periods in force change. A model is a witness only once the evaluator reproduces it.
#include "analysis/diff.hpp"

#include <algorithm>
#include <charconv>
#include <compare>
#include <map>
#include <set>

#include "analysis/encode.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/logic.hpp"
#include "engine/record.hpp"
#include "engine/words.hpp"

namespace dalil::analysis {

using detail::ask;
using detail::encoder;
using detail::fact_space;
using detail::term;

std::string_view verdict_name(verdict v) {
  switch (v) {
    case verdict::same:
      return "same";
    case verdict::different:
      return "different";
    case verdict::unknown:
      return "unknown";
  }
  return "unknown";
}

bool diff_result::all_same() const {
  return std::all_of(decisions.begin(), decisions.end(),
                     [](const decision_diff& d) { return d.v == verdict::same; });
}

// ------------------------------------------------------------------ structural changes

namespace {

/// An expression as text with every reference by name, so that two programs compare.
void expression_text(const dsl::program& p, std::uint32_t id, std::string& out) {
  const dsl::expression& e = p.expressions[id];
  out += std::to_string(static_cast<int>(e.o));
  switch (e.o) {
    case dsl::op::constant:
      out += '=' + dsl::constant_text(p, e.value, e.t);
      break;
    case dsl::op::fact:
      out += ':' + p.facts[e.ref].path;
      break;
    case dsl::op::parameter:
      out += ':' + p.parameters[e.ref].qualified;
      break;
    case dsl::op::rule:
      out += ':' + p.rules[e.ref].qualified;
      break;
    case dsl::op::not_encoded:
      if (const auto* s = std::get_if<std::string>(&e.value)) out += ':' + *s;
      break;
    default:
      if (e.ref != dsl::no_index) out += '#' + std::to_string(e.ref);
      for (std::uint32_t f : e.fields) out += '.' + std::to_string(f);
      break;
  }
  out += '(';
  for (std::uint32_t a : e.args) {
    expression_text(p, a, out);
    out += ',';
  }
  out += ')';
}

std::string expression_text(const dsl::program& p, std::uint32_t id) {
  std::string out;
  expression_text(p, id, out);
  return out;
}

/// The tables under an expression, in order, as text.
std::vector<std::string> tables_of(const dsl::program& p, std::uint32_t root) {
  std::vector<std::string> out;
  std::vector<std::uint32_t> stack{root};
  while (!stack.empty()) {
    std::uint32_t id = stack.back();
    stack.pop_back();
    const dsl::expression& e = p.expressions[id];
    if (e.o == dsl::op::table) out.push_back(expression_text(p, id));
    for (auto it = e.args.rbegin(); it != e.args.rend(); ++it) stack.push_back(*it);
  }
  return out;
}

std::string period_text(const dsl::rule_info& r) {
  return (r.in_force_from ? to_string(*r.in_force_from) : std::string("…")) +
         (r.from_provisional ? " (provisional)" : "") + " – " +
         (r.in_force_until ? to_string(*r.in_force_until) : std::string("…")) +
         (r.until_provisional ? " (provisional)" : "");
}

std::string confidence_text(bool provisional) {
  return provisional ? "provisional" : "verified";
}

struct recorder {
  std::vector<change>& out;
  subject about = subject::rule;  // what the next changes are about
  std::string exception;
  void add(std::string kind, std::string what, std::string name, std::string detail = {},
           std::string from = {}, std::string old_value = {}, std::string new_value = {}) {
    out.push_back(change{std::move(kind), std::move(what), std::move(name), std::move(detail),
                         std::move(from), std::move(old_value), std::move(new_value), about,
                         exception});
  }
  void on(subject s, std::string x = {}) {
    about = s;
    exception = std::move(x);
  }
  void text(const char* kind, const std::string& name, const std::string& detail,
            const std::string& a, const std::string& b) {
    if (a != b) add(kind, "changed", name, detail, {}, a, b);
  }
  void texts(const char* kind, const std::string& name, const dsl::texts& a, const dsl::texts& b) {
    std::set<std::string> langs;
    for (const auto& [l, s] : a) langs.insert(l);
    for (const auto& [l, s] : b) langs.insert(l);
    for (const std::string& l : langs) {
      auto x = a.find(l);
      auto y = b.find(l);
      std::string sx = x == a.end() ? std::string() : x->second;
      std::string sy = y == b.end() ? std::string() : y->second;
      if (sx != sy)
        add(kind, sx.empty() ? "added" : sy.empty() ? "removed" : "changed", name, l, {}, sx, sy);
    }
  }
};

void rule_changes(recorder& rec, const dsl::program& op, const dsl::rule_info& a,
                  const dsl::program& np, const dsl::rule_info& b) {
  const std::string& name = a.qualified;
  rec.on(subject::rule);
  rec.text("rule", name, "type", dsl::type_name(op, a.t), dsl::type_name(np, b.t));
  std::string body_a = expression_text(op, a.body);
  std::string body_b = expression_text(np, b.body);
  if (body_a != body_b) {
    std::vector<std::string> ta = tables_of(op, a.body);
    std::vector<std::string> tb = tables_of(np, b.body);
    bool only_tables = ta.size() == tb.size() && !ta.empty();
    for (std::size_t i = 0; i < std::min(ta.size(), tb.size()); ++i) {
      if (ta[i] != tb[i]) {
        rec.add("table", "changed", name, "table " + std::to_string(i + 1));
      }
    }
    if (ta.size() != tb.size()) {
      rec.add("table", ta.size() < tb.size() ? "added" : "removed", name);
    }
    // A change outside the tables is a change of the formula itself.
    std::string rest_a = body_a;
    std::string rest_b = body_b;
    for (const std::string& t : ta) rest_a.replace(rest_a.find(t), t.size(), "T");
    for (const std::string& t : tb) rest_b.replace(rest_b.find(t), t.size(), "T");
    if (!only_tables || rest_a != rest_b) rec.add("rule", "changed", name, "formula");
  }
  rec.text("citation", name, "source", a.source, b.source);
  rec.text("confidence", name, "confidence", confidence_text(a.own_provisional),
           confidence_text(b.own_provisional));
  rec.texts("explanation", name, a.explain, b.explain);
  rec.texts("title", name, a.title, b.title);
  rec.text("period", name, "in force", period_text(a), period_text(b));
  std::string out_a = a.outside == dsl::no_index ? "" : expression_text(op, a.outside);
  std::string out_b = b.outside == dsl::no_index ? "" : expression_text(np, b.outside);
  if (out_a != out_b) rec.add("period", "changed", name, "otherwise");
  rec.texts("period", name, a.period, b.period);
  for (const dsl::exception_info& x : a.exceptions) {
    auto it = std::find_if(b.exceptions.begin(), b.exceptions.end(),
                           [&](const dsl::exception_info& y) { return y.name == x.name; });
    std::string xname = name + "." + x.name;
    rec.on(subject::exception, x.name);
    if (it == b.exceptions.end()) {
      rec.add("exception", "removed", xname);
      continue;
    }
    if (expression_text(op, x.condition) != expression_text(np, it->condition)) {
      rec.add("exception", "changed", xname, "condition");
    }
    if (expression_text(op, x.value) != expression_text(np, it->value)) {
      rec.add("exception", "changed", xname, "value");
    }
    rec.text("citation", xname, "source", x.source, it->source);
    rec.text("confidence", xname, "confidence", confidence_text(x.provisional),
             confidence_text(it->provisional));
    rec.texts("explanation", xname, x.explain, it->explain);
  }
  for (const dsl::exception_info& y : b.exceptions) {
    bool found = std::any_of(a.exceptions.begin(), a.exceptions.end(),
                             [&](const dsl::exception_info& x) { return x.name == y.name; });
    rec.on(subject::exception, y.name);
    if (!found) rec.add("exception", "added", name + "." + y.name);
  }
}

void parameter_changes(recorder& rec, const dsl::program& op, const dsl::parameter_info& a,
                       const dsl::program& np, const dsl::parameter_info& b) {
  const std::string& name = a.qualified;
  rec.on(subject::parameter);
  rec.text("parameter", name, "type", dsl::type_name(op, a.t), dsl::type_name(np, b.t));
  rec.text("citation", name, "source", a.source, b.source);
  rec.text("confidence", name, "confidence", confidence_text(a.provisional),
           confidence_text(b.provisional));
  std::map<date, std::pair<std::string, std::string>> values;
  for (const dsl::dated_constant& v : a.values) {
    values[v.from].first = dsl::constant_text(op, v.value, a.t);
  }
  for (const dsl::dated_constant& v : b.values) {
    values[v.from].second = dsl::constant_text(np, v.value, b.t);
  }
  for (const auto& [from, ov] : values) {
    if (ov.first == ov.second) continue;
    const char* what = ov.first.empty() ? "added" : ov.second.empty() ? "removed" : "changed";
    rec.add("parameter", what, name, "value", to_string(from), ov.first, ov.second);
  }
}

}  // namespace

std::vector<change> structural_changes(const dsl::program& op, const dsl::program& np) {
  std::vector<change> out;
  recorder rec{out, subject::module, {}};
  rec.on(subject::module);
  for (const dsl::module_info& m : op.modules) {
    auto it = std::find_if(np.modules.begin(), np.modules.end(),
                           [&](const dsl::module_info& x) { return x.name == m.name; });
    if (it == np.modules.end()) {
      rec.add("module", "removed", m.name);
      continue;
    }
    rec.text("citation", m.name, "source", m.source, it->source);
    rec.text("module", m.name, "program", m.program, it->program);
    rec.text("module", m.name, "osp", m.osp, it->osp);
    rec.texts("title", m.name, dsl::texts(m.title.begin(), m.title.end()),
              dsl::texts(it->title.begin(), it->title.end()));
  }
  for (const dsl::module_info& m : np.modules) {
    if (std::none_of(op.modules.begin(), op.modules.end(),
                     [&](const dsl::module_info& x) { return x.name == m.name; })) {
      rec.add("module", "added", m.name);
    }
  }
  // The schema: facts by path and type.
  rec.on(subject::field);
  for (const dsl::fact_info& f : op.facts) {
    auto it = std::find_if(np.facts.begin(), np.facts.end(),
                           [&](const dsl::fact_info& x) { return x.path == f.path; });
    if (it == np.facts.end()) {
      rec.add("schema", "removed", f.path);
    } else {
      rec.text("schema", f.path, "type", dsl::type_name(op, f.t), dsl::type_name(np, it->t));
    }
  }
  for (const dsl::fact_info& f : np.facts) {
    if (std::none_of(op.facts.begin(), op.facts.end(),
                     [&](const dsl::fact_info& x) { return x.path == f.path; })) {
      rec.add("schema", "added", f.path);
    }
  }
  rec.on(subject::enumeration);
  for (const dsl::enum_info& e : op.enums) {
    auto it = std::find_if(np.enums.begin(), np.enums.end(),
                           [&](const dsl::enum_info& x) { return x.name == e.name; });
    if (it != np.enums.end() && it->cases != e.cases) rec.add("schema", "changed", e.name, "cases");
  }
  rec.on(subject::parameter);
  for (const dsl::parameter_info& a : op.parameters) {
    auto it =
        std::find_if(np.parameters.begin(), np.parameters.end(),
                     [&](const dsl::parameter_info& x) { return x.qualified == a.qualified; });
    if (it == np.parameters.end()) {
      rec.add("parameter", "removed", a.qualified);
    } else {
      parameter_changes(rec, op, a, np, *it);
    }
  }
  rec.on(subject::parameter);
  for (const dsl::parameter_info& b : np.parameters) {
    if (!std::any_of(op.parameters.begin(), op.parameters.end(),
                     [&](const dsl::parameter_info& x) { return x.qualified == b.qualified; })) {
      rec.add("parameter", "added", b.qualified);
    }
  }
  for (const dsl::rule_info& a : op.rules) {
    auto r = np.find_rule(a.qualified);
    rec.on(subject::rule);
    if (!r) {
      rec.add("rule", "removed", a.qualified);
    } else {
      rule_changes(rec, op, a, np, np.rules[*r]);
    }
  }
  rec.on(subject::rule);
  for (const dsl::rule_info& b : np.rules) {
    if (!op.find_rule(b.qualified)) rec.add("rule", "added", b.qualified);
  }
  return out;
}

// ------------------------------------------------------------------ decisions

namespace {

/// The dates at which the instantiation of `rules` changes for the closure of rule `r`.
void breakpoints(const engine::ruleset& rules, std::uint32_t r, std::set<date>& out) {
  const dsl::program& p = rules.program();
  for (std::uint32_t q : rules.closure_of(r)) {
    const dsl::rule_info& info = p.rules[q];
    if (info.in_force_from) out.insert(*info.in_force_from);
    if (info.in_force_until && *info.in_force_until < max_date) {
      out.insert(date{info.in_force_until->days + 1});
    }
    for (std::uint32_t param : info.parameters_read) {
      for (const dsl::dated_constant& v : p.parameters[param].values) out.insert(v.from);
    }
  }
}

/// The rule's outcome on `record_json` as of `as_of`, by the ordinary evaluator; nullopt (and
/// `error` set) when the reader refuses the record.
std::optional<std::pair<outcome, engine::value>> evaluate(
    const std::shared_ptr<const engine::ruleset>& rules, std::uint32_t r, date as_of,
    const std::string& record_json, engine::record& rec, std::string& error, std::string& field) {
  const dsl::program& p = rules->program();
  engine::record_reader reader(p);
  reader.set_as_of(as_of);
  reader.set_intake(false);  // a record the analysis wrote (its texts are the model's)
  engine::record_error err;
  if (!reader.read(record_json, rec, err)) {
    field = err.field;
    error = "the witness is refused by the record reader (" +
            (err.field.empty() ? err.message : err.field + ": " + err.message) + ")";
    return std::nullopt;
  }
  auto inst = engine::instantiate(rules, as_of);
  engine::evaluator ev(inst);
  ev.set_record(rec);
  engine::value v = ev.rule(r);
  outcome o;
  o.in_force = inst->in_force[r] != 0;
  o.undetermined = v.unknown();
  if (o.undetermined) {
    o.value = "undetermined";
  } else {
    engine::append_value_json(o.value, p, p.rules[r].t, v);
  }
  for (engine::lang l : engine::languages) {
    o.words[static_cast<std::size_t>(l)] = engine::exact_value_words(p, p.rules[r].t, v, l);
  }
  return std::make_pair(o, v);
}

/// Whether rule `ro` of `op` valued `a` and rule `rn` of `np` valued `b` give the same decision.
/// Enum cases compare by name: each version numbers its own cases.
bool same_values(const dsl::program& op, std::uint32_t ro, const engine::value& a,
                 const dsl::program& np, std::uint32_t rn, const engine::value& b) {
  engine::logic::truth sa = engine::logic::state_of(a);
  engine::logic::truth sb = engine::logic::state_of(b);
  bool both_known = sa == engine::logic::K && sb == engine::logic::K && a.r == b.r;
  if (both_known && a.r == engine::rep::enumeration) {
    const auto& ca = op.enums[op.rules[ro].t.ref].cases;
    const auto& cb = np.enums[np.rules[rn].t.ref].cases;
    return ca.at(static_cast<std::size_t>(a.i)) == cb.at(static_cast<std::size_t>(b.i));
  }
  return engine::logic::same(sa, sb, both_known && engine::equal_values(a, b));
}

/// Whether two decisions' values compare: the same type; enums one enum (detail::same_enum),
/// whose cases may have been reordered, added or renamed (their values compare by name).
bool same_type(const dsl::program& op, const dsl::type& a, const dsl::program& np,
               const dsl::type& b) {
  if (a.k != b.k || a.optional != b.optional) return false;
  if (a.k == dsl::kind::enumeration) return detail::same_enum(op, a.ref, np, b.ref);
  return a.k != dsl::kind::list && a.k != dsl::kind::record;
}

/// The encoder's account of a construct it does not encode, as a code and its subject.
gap gap_of(const std::string& why, std::string& subject) {
  auto between = [&](std::string_view open, std::string_view close) {
    std::size_t at = why.find(open);
    if (at == std::string::npos) return false;
    at += open.size();
    std::size_t end = why.find(close, at);
    if (end == std::string::npos) return false;
    subject = why.substr(at, end - at);
    return true;
  };
  if (why.rfind("the fact ", 0) == 0 && between("the fact ", " is a list")) return gap::list_fact;
  if (why.rfind("the field ", 0) == 0 && between("the field ", " has another type")) {
    return gap::field_type;
  }
  if (why.find("quantifier") != std::string::npos) return gap::list_op;
  if (why.find("duration") != std::string::npos) return gap::duration;
  if (why.find("on a date") != std::string::npos) return gap::date_arith;
  if (why.find("64 rows") != std::string::npos) return gap::big_table;
  if (why.find("division") != std::string::npos) return gap::division;
  return gap::other;
}

constexpr std::int32_t days_per_year = 365;

/// The latest date either pack names (dated values, periods in force): the witnesses of a
/// period that contains it are looked for just after it, in the pack's present.
date anchor_of(const dsl::program& a, const dsl::program& b) {
  date out = fact_space::first_day();
  for (const dsl::program* p : {&a, &b}) {
    for (const dsl::parameter_info& x : p->parameters) {
      for (const dsl::dated_constant& v : x.values) out = std::max(out, v.from);
    }
    for (const dsl::rule_info& r : p->rules) {
      if (r.in_force_from) out = std::max(out, *r.in_force_from);
    }
  }
  return std::min(out, fact_space::last_day());
}

/// The largest money and decimal figures the packs set: ordinary amounts stay within a few
/// times them.
std::pair<rational, rational> figures_of(const dsl::program& a, const dsl::program& b) {
  rational money{100000, 1};
  rational dec{100, 1};
  for (const dsl::program* p : {&a, &b}) {
    for (const dsl::parameter_info& x : p->parameters) {
      for (const dsl::dated_constant& v : x.values) {
        const rational* q = std::get_if<rational>(&v.value);
        std::optional<rational> from_int;
        if (const auto* i = std::get_if<std::int64_t>(&v.value)) from_int = rational{*i, 1};
        if (q == nullptr && from_int) q = &*from_int;
        if (q == nullptr) continue;
        rational three = make_rational(static_cast<i128>(q->num) * 3, q->den).value_or(*q);
        if (x.t.k == dsl::kind::money && std::is_gt(compare(three, money))) money = three;
        if (x.t.k == dsl::kind::decimal && std::is_gt(compare(three, dec))) dec = three;
      }
    }
  }
  return {money, dec};
}

/// The whole-number facts either pack compares with a year (`regularized_in == 2014`, `… in
/// [2014, 2016]`, or with a parameter whose every value is a year): only those may take a year in
/// a witness; a household size stays small.
std::set<std::string> year_facts(const dsl::program& a, const dsl::program& b) {
  std::set<std::string> out;
  for (const dsl::program* p : {&a, &b}) {
    auto a_year = [](const dsl::constant& v) {
      const auto* i = std::get_if<std::int64_t>(&v);
      return i != nullptr && *i >= 1950 && *i <= 2099;
    };
    // A year constant, or a whole-number parameter whose every dated value is a year.
    auto is_year = [&](std::uint32_t id) {
      const dsl::expression& e = p->expressions[id];
      if (e.t.k != dsl::kind::integer) return false;
      if (e.o == dsl::op::constant) return a_year(e.value);
      if (e.o != dsl::op::parameter) return false;
      const auto& values = p->parameters[e.ref].values;
      return !values.empty() &&
             std::all_of(values.begin(), values.end(),
                         [&](const dsl::dated_constant& d) { return a_year(d.value); });
    };
    for (const dsl::expression& e : p->expressions) {
      if (e.o < dsl::op::eq || e.o > dsl::op::in) continue;  // comparisons and `in`
      bool year = false;
      for (std::uint32_t x : e.args) {
        const dsl::expression& arg = p->expressions[x];
        year = year || is_year(x) ||
               (arg.o == dsl::op::list && std::any_of(arg.args.begin(), arg.args.end(), is_year));
      }
      if (!year) continue;
      for (std::uint32_t x : e.args) {
        const dsl::expression& arg = p->expressions[x];
        if (arg.o == dsl::op::fact && arg.t.k == dsl::kind::integer) {
          out.insert(p->facts[arg.ref].path);
        }
      }
    }
  }
  return out;
}

/// The plausibility box of a witness (docs/advisers.md): each constraint on its own, so that
/// the ones that cannot hold together with a difference are dropped one core at a time.
std::vector<z3::expr> plausibility_box(fact_space& facts, const dsl::program& np,
                                       const dsl::program& op, date lo, date hi, date anchor,
                                       std::pair<rational, rational> figures,
                                       const std::set<std::string>& years) {
  z3::context& c = facts.ctx();
  std::vector<z3::expr> out;
  const z3::expr& as_of = facts.as_of();
  const std::int32_t span = 3 * days_per_year;
  // The as-of date near the change: after the pack's latest date when the period holds it, at
  // the end of the first period (whose start is only the domain's), else at a period's start.
  if (lo <= anchor && anchor <= hi) {
    out.push_back(as_of >= anchor.days && as_of <= std::min(hi.days, anchor.days + span));
  } else if (lo == fact_space::first_day()) {
    out.push_back(as_of >= std::max(lo.days, hi.days - span));
  } else {
    out.push_back(as_of <= std::min(hi.days, lo.days + span));
  }
  auto decimal_of = [&](rational q) {
    return c.real_val((std::to_string(q.num) + "/" + std::to_string(q.den)).c_str());
  };
  const fact_space::field_var* birth = nullptr;
  const fact_space::field_var* entry = nullptr;
  for (const auto& f : facts.fields()) {
    if (f->t.k != dsl::kind::date || !f->value || f->path.find('.') != std::string::npos) continue;
    if (f->path.find("birth") != std::string::npos) birth = f.get();
    if (f->path.find("entry") != std::string::npos) entry = f.get();
  }
  for (const auto& f : facts.fields()) {
    if (!f->value) continue;
    const z3::expr& v = *f->value;
    const z3::expr present = f->state == 2;
    switch (f->t.k) {
      case dsl::kind::date: {
        const dsl::field_info* info = dsl::field_at(np, f->path);
        if (info == nullptr) info = dsl::field_at(op, f->path);
        const bool past = info != nullptr && info->constraint.not_after_as_of;
        if (f.get() == birth) {
          // Ages 0 to 90 on the as-of date.
          out.push_back(z3::implies(present, v <= as_of && v >= as_of - 90 * days_per_year - 22));
        } else if (past) {
          // Events of the applicant's life: within four decades before the as-of date, after
          // the birth, and (filing, residence) after the entry.
          out.push_back(z3::implies(present, v <= as_of && v >= as_of - 40 * days_per_year - 10));
          if (birth != nullptr) {
            out.push_back(z3::implies(present && birth->state == 2, v >= *birth->value));
          }
          if (entry != nullptr && f.get() != entry &&
              (f->path.find("application") != std::string::npos ||
               f->path.find("resident") != std::string::npos)) {
            out.push_back(z3::implies(present && entry->state == 2, v >= *entry->value));
          }
        } else {
          // Dates to come (an expiry): within ten years either side of the as-of date.
          out.push_back(z3::implies(
              present, v >= as_of - 10 * days_per_year && v <= as_of + 10 * days_per_year));
        }
        break;
      }
      case dsl::kind::money:
        out.push_back(z3::implies(present, v >= 0 && v <= decimal_of(figures.first)));
        break;
      case dsl::kind::decimal:
        out.push_back(z3::implies(present, v >= 0 && v <= decimal_of(figures.second)));
        break;
      case dsl::kind::integer:
        // A count (0 to 100), or a year for a fact compared with one.
        out.push_back(z3::implies(
            present, years.count(f->path) != 0 ? v >= 1950 && v <= 2099 : v >= 0 && v <= 100));
        break;
      default:
        break;
    }
  }
  return out;
}

/// Whether the solver's last `unknown` was for want of time (or cut short by a halt).
bool out_of_time(const z3::solver& s) {
  const std::string reason = s.reason_unknown();
  return reason == "timeout" || reason == "canceled";
}

/// detail::ask, counting in `timeouts` the queries that ran out of time: a diff with one is an
/// answer of that moment's load, whatever its verdicts say (diff_result::timeouts).
template <class... A>
z3::check_result counted_ask(std::size_t& timeouts, const halt* h, z3::solver& s, A&... a) {
  const z3::check_result r = ask(h, s, a...);
  if (r == z3::unknown && !cut_short(h) && out_of_time(s)) ++timeouts;
  return r;
}

/// Looks for a model of `s` under as many of `wanted` as can hold together: each unsat core
/// drops its members, `rounds` at most (guards named from `names`). Returns the constraints kept
/// (all of `wanted` when they hold together) and fills `m`; nullopt when no round was satisfiable.
std::optional<std::vector<z3::expr>> prefer(z3::solver& s, const std::vector<z3::expr>& base,
                                            const std::vector<z3::expr>& wanted,
                                            std::optional<z3::model>& m, bool& all, unsigned& names,
                                            int rounds, const halt* stop, std::size_t& timeouts) {
  z3::context& c = s.ctx();
  std::vector<z3::expr> guards;
  std::vector<std::size_t> active;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    z3::expr g = c.bool_const(("prefer#" + std::to_string(names++)).c_str());
    s.add(z3::implies(g, wanted[i]));
    guards.push_back(g);
    active.push_back(i);
  }
  for (int round = 0; round < rounds; ++round) {
    z3::expr_vector assumptions(c);
    for (const z3::expr& b : base) assumptions.push_back(b);
    for (std::size_t i : active) assumptions.push_back(guards[i]);
    z3::check_result r = counted_ask(timeouts, stop, s, assumptions);
    if (r == z3::sat) {
      m = s.get_model();
      all = active.size() == wanted.size();
      std::vector<z3::expr> kept(base);
      for (std::size_t i : active) kept.push_back(guards[i]);
      return kept;
    }
    if (r != z3::unsat) return std::nullopt;
    z3::expr_vector core = s.unsat_core();
    std::vector<std::size_t> next;
    for (std::size_t i : active) {
      bool in_core = false;
      for (int k = 0; k < static_cast<int>(core.size()); ++k) {
        if (z3::eq(core[k], guards[i])) in_core = true;
      }
      if (!in_core) next.push_back(i);
    }
    if (next.size() == active.size()) return std::nullopt;  // the base alone conflicts
    active = std::move(next);
  }
  return std::nullopt;
}

/// What kept an interval from a proof or a witness.
struct unknown_why {
  ground why = ground::solver;
  gap code = gap::other;
  std::string subject;
  std::string detail;  // in English, for the JSON's "reason"
  std::optional<date> from;
  std::optional<date> until;
};

class decision_checker {
 public:
  decision_checker(const std::shared_ptr<const engine::ruleset>& o,
                   const std::shared_ptr<const engine::ruleset>& n, const diff_options& opt)
      : old_(o), new_(n), opt_(opt), watch_(opt.stop, ctx_) {}

  /// Solver queries that ran out of time, over every decision checked.
  std::size_t timeouts() const { return timeouts_; }

  decision_diff check(const std::string& name, std::uint32_t ro, std::uint32_t rn) {
    decision_diff d;
    d.decision = name;
    one_sided_.clear();
    const dsl::program& op = old_->program();
    const dsl::program& np = new_->program();
    if (!same_type(op, op.rules[ro].t, np, np.rules[rn].t)) {
      d.why = ground::type;
      d.detail = dsl::type_name(op, op.rules[ro].t) + " → " + dsl::type_name(np, np.rules[rn].t);
      d.reason = "the decision's type changed (" + d.detail + "): its values do not compare";
      return d;
    }
    // Intervals of as-of dates in which neither instantiation changes, within the dates the
    // terms cover.
    const date first = fact_space::first_day();
    const date last = fact_space::last_day();
    std::vector<std::pair<date, date>> intervals;
    if (opt_.as_of) {
      if (*opt_.as_of < first || *opt_.as_of > last) {
        d.why = ground::encoding;
        d.code = gap::dates;
        d.from = first;
        d.until = last;
        d.detail = "as-of dates before " + to_string(first) + " or after " + to_string(last);
        d.reason = "not encoded: " + d.detail;
        return d;
      }
      intervals.emplace_back(*opt_.as_of, *opt_.as_of);
    } else {
      std::set<date> points{first};
      breakpoints(*old_, ro, points);
      breakpoints(*new_, rn, points);
      std::vector<date> v(points.begin(), points.end());
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] < first || v[i] > last) continue;
        date hi = i + 1 < v.size() ? date{v[i + 1].days - 1} : last;
        intervals.emplace_back(v[i], std::min(hi, last));
      }
    }
    // After a halt every period is unknown (query, detail::ask): never a proof of a period not
    // queried.
    std::optional<unknown_why> open;
    for (const auto& [lo, hi] : intervals) {
      std::optional<unknown_why> why;
      if (query(d, ro, rn, lo, hi, why)) return d;
      if (why && !open) open = why;
    }
    if (open) {
      d.v = verdict::unknown;
      d.why = open->why;
      d.code = open->code;
      d.subject = open->subject;
      d.from = open->from;
      d.until = open->until;
      d.detail = open->detail;
      d.reason = (d.why == ground::solver     ? "the solver gave no answer: "
                  : d.why == ground::encoding ? "not encoded: "
                                              : "the solver's example was not confirmed: ") +
                 d.detail;
      return d;
    }
    d.v = verdict::same;
    d.why = opt_.as_of ? ground::proof_date : ground::proof_all;
    d.reason = opt_.as_of
                   ? "proved for every record of the schema's domain on " + to_string(*opt_.as_of)
                   : "proved for every record of the schema's domain and every as-of "
                     "date from " +
                         to_string(first) + " to " + to_string(last) + " (" +
                         std::to_string(intervals.size()) + " periods)";
    if (!one_sided_.empty()) {
      d.uncompared.assign(one_sided_.begin(), one_sided_.end());
      std::string list;
      for (const std::string& c : d.uncompared) list += (list.empty() ? "" : ", ") + c;
      d.reason += "; records holding a case that one version alone declares (" + list +
                  ") are not compared: the other version refuses them (dalil impact counts "
                  "them in a cohort)";
    }
    return d;
  }

 private:
  /// One interval: true when a reproduced witness was found (d filled); otherwise `why` says
  /// what kept the interval from a proof (empty: proved).
  bool query(decision_diff& d, std::uint32_t ro, std::uint32_t rn, date lo, date hi,
             std::optional<unknown_why>& why) {
    if (halted(opt_.stop)) {
      // Halted: not even encoded (every query would answer unknown, detail::ask).
      why.emplace(unknown_why{
          ground::solver, gap::solver_timeout, {}, "halted", std::nullopt, std::nullopt});
      return false;
    }
    try {
      fact_space facts(ctx_);
      facts.align_enums(old_->program(), new_->program());
      encoder eo(facts, engine::instantiate(old_, lo));
      encoder en(facts, engine::instantiate(new_, lo));
      term to = eo.rule(ro);
      term tn = en.rule(rn);
      std::string gap_text = !eo.unsupported().empty() ? eo.unsupported() : en.unsupported();
      // A witness is a record both versions read: an enum field one version alone reads holds
      // a case the other declares too.
      facts.restrict_to_schema(old_->program());
      facts.restrict_to_schema(new_->program());
      for (std::string& c : facts.one_sided_cases(old_->program(), new_->program())) {
        one_sided_.insert(std::move(c));
      }
      z3::solver s(ctx_);
      z3::params params(ctx_);
      params.set("timeout", opt_.timeout_ms);
      s.set(params);
      for (const z3::expr& c : facts.constraints()) s.add(c);
      s.add(facts.as_of() >= lo.days && facts.as_of() <= hi.days);
      if (eo.in_force(ro) == en.in_force(rn)) s.add(!detail::same(to, tn));
      // An example on which both versions decide reads best: looked for first.
      z3::expr decided = ctx_.bool_const(("decided#" + std::to_string(queries_++)).c_str());
      s.add(z3::implies(decided, !to.unk && !tn.unk));
      std::vector<z3::expr> base{decided};
      z3::expr_vector first(ctx_);
      first.push_back(decided);
      z3::check_result r = counted_ask(timeouts_, opt_.stop, s, first);
      if (r != z3::sat) {
        base.clear();
        r = counted_ask(timeouts_, opt_.stop, s);
      }
      if (r == z3::sat) {
        std::optional<z3::model> m = s.get_model();
        // A witness an adviser can read as a real applicant: the plausibility box, then as few
        // facts as the difference needs. Each is a preference; the example stays a witness
        // without them.
        const dsl::program& op = old_->program();
        const dsl::program& np = new_->program();
        std::vector<z3::expr> box = plausibility_box(facts, np, op, lo, hi, anchor_of(op, np),
                                                     figures_of(op, np), year_facts(op, np));
        bool all = false;
        std::vector<z3::expr> kept = base;
        if (auto k = prefer(s, base, box, m, all, queries_, 6, opt_.stop, timeouts_)) {
          kept = std::move(*k);
          std::vector<z3::expr> absent;
          for (const auto& f : facts.fields()) absent.push_back(f->state == 0);
          bool every = false;
          if (auto k2 = prefer(s, kept, absent, m, every, queries_, 16, opt_.stop, timeouts_)) {
            kept = std::move(*k2);
          }
        }
        d.plausible = all;
        if (!facts.decimals_writable(*m)) {
          for (const z3::expr& c : facts.hundredths()) s.add(c);
          z3::expr_vector assumptions(ctx_);
          for (const z3::expr& k : kept) assumptions.push_back(k);
          r = counted_ask(timeouts_, opt_.stop, s, assumptions);
          if (r != z3::sat) {
            d.plausible = false;
            r = counted_ask(timeouts_, opt_.stop, s);
          }
          if (r == z3::unknown && out_of_time(s)) {
            // Not a finding about decimals: the solver ran out of time looking.
            why.emplace(unknown_why{
                ground::solver,
                gap::solver_timeout,
                {},
                s.reason_unknown() + ", as of " + to_string(lo) + " to " + to_string(hi),
                lo,
                hi});
            return false;
          }
          if (r != z3::sat) {
            why.emplace(unknown_why{ground::unconfirmed,
                                    gap::decimals,
                                    {},
                                    "the only difference found needs decimals with no finite "
                                    "expansion",
                                    std::nullopt,
                                    std::nullopt});
            return false;
          }
          m = s.get_model();
        }
        std::string record = facts.record_json(*m);
        date as_of{static_cast<std::int32_t>(m->eval(facts.as_of(), true).get_numeral_int64())};
        if (!reproduce(d, ro, rn, as_of, record, why)) {
          // An example that does not reproduce where a construct was not encoded: the gap is
          // the reason (its terms stood for "undetermined"), not the evaluator.
          if (!gap_text.empty() && why && why->code == gap::same_outcome) {
            std::string subject;
            gap g = gap_of(gap_text, subject);
            why.emplace(
                unknown_why{ground::encoding, g, subject, gap_text, std::nullopt, std::nullopt});
          }
          return false;
        }
        for (const fact_space::entry& e : facts.record_entries(*m)) {
          witness_fact w;
          w.path = e.path;
          w.s = e.k == fact_space::entry::kind::null      ? witness_fact::state::null
                : e.k == fact_space::entry::kind::present ? witness_fact::state::present
                                                          : witness_fact::state::value;
          w.value = e.text;
          d.facts.push_back(std::move(w));
        }
        return true;
      }
      if (r == z3::unknown) {
        std::string reason = s.reason_unknown();
        why.emplace(unknown_why{
            ground::solver,
            reason == "timeout" || reason == "canceled" ? gap::solver_timeout : gap::solver_other,
            {},
            reason + ", as of " + to_string(lo) + " to " + to_string(hi),
            lo,
            hi});
        return false;
      }
      if (!gap_text.empty()) {
        std::string subject;
        gap g = gap_of(gap_text, subject);
        why.emplace(
            unknown_why{ground::encoding, g, subject, gap_text, std::nullopt, std::nullopt});
      }
      return false;
    } catch (const z3::exception& e) {
      why.emplace(unknown_why{ground::encoding,
                              gap::refused_terms,
                              {},
                              std::string("the solver refused the terms: ") + e.msg(),
                              std::nullopt,
                              std::nullopt});
      return false;
    }
  }

  bool reproduce(decision_diff& d, std::uint32_t ro, std::uint32_t rn, date as_of,
                 const std::string& record, std::optional<unknown_why>& why) {
    engine::record ro_rec;
    engine::record rn_rec;
    std::string error;
    std::string field;
    auto a = evaluate(old_, ro, as_of, record, ro_rec, error, field);
    auto b = a ? evaluate(new_, rn, as_of, record, rn_rec, error, field) : std::nullopt;
    if (!a || !b) {
      why.emplace(unknown_why{ground::unconfirmed, gap::reader_refused, field, error, std::nullopt,
                              std::nullopt});
      return false;
    }
    bool differ = a->first.in_force != b->first.in_force ||
                  !same_values(old_->program(), ro, a->second, new_->program(), rn, b->second);
    if (!differ) {
      why.emplace(
          unknown_why{ground::unconfirmed,
                      gap::same_outcome,
                      {},
                      "the evaluator gives both versions the same outcome on it (an encoding gap)",
                      std::nullopt,
                      std::nullopt});
      return false;
    }
    d.why = ground::witness;
    d.v = verdict::different;
    d.as_of = as_of;
    d.record = engine::canonical_json(record);
    d.old_outcome = a->first;
    d.new_outcome = b->first;
    d.reason = a->first.in_force != b->first.in_force ? "period in force" : "value";
    return true;
  }

  z3::context ctx_;
  unsigned queries_ = 0;
  std::size_t timeouts_ = 0;
  std::shared_ptr<const engine::ruleset> old_;
  std::shared_ptr<const engine::ruleset> new_;
  diff_options opt_;
  std::set<std::string> one_sided_;  // the decision's enum cases one version alone declares
  halt::watch watch_;                // after ctx_: it lets go of the context first
};

}  // namespace

diff_result diff(const std::shared_ptr<const engine::ruleset>& old_rules,
                 const std::shared_ptr<const engine::ruleset>& new_rules, const diff_options& opt) {
  diff_result out;
  out.as_of = opt.as_of;
  const dsl::program& op = old_rules->program();
  const dsl::program& np = new_rules->program();
  out.changes = structural_changes(op, np);
  decision_checker checker(old_rules, new_rules, opt);
  // The contract decisions: rules with an explanation, in either version.
  for (std::uint32_t r = 0; r < op.rules.size(); ++r) {
    if (op.rules[r].explain.empty()) continue;
    if (halted(opt.stop)) {
      out.halted = true;
      return out;
    }
    auto n = np.find_rule(op.rules[r].qualified);
    if (!n || np.rules[*n].explain.empty()) {
      decision_diff d;
      d.decision = op.rules[r].qualified;
      d.v = verdict::different;
      d.why = ground::removed;
      d.reason = "no longer a decision of the new version";
      out.decisions.push_back(std::move(d));
      continue;
    }
    out.decisions.push_back(checker.check(op.rules[r].qualified, r, *n));
  }
  // A stop asked during the last decision's queries, or a query skipped for the deadline: it
  // may have been cut short. (A deadline that passed as the last query ran cut nothing.)
  out.halted = cut_short(opt.stop);
  out.timeouts = checker.timeouts();
  for (const dsl::rule_info& b : np.rules) {
    if (b.explain.empty()) continue;
    auto o = op.find_rule(b.qualified);
    if (o && !op.rules[*o].explain.empty()) continue;
    decision_diff d;
    d.decision = b.qualified;
    d.v = verdict::different;
    d.why = ground::added;
    d.reason = "a new decision of the new version";
    out.decisions.push_back(std::move(d));
  }
  return out;
}

// ------------------------------------------------------------------ JSON

namespace {

void member(std::string& out, std::string_view key, std::string_view value, bool comma = true) {
  if (comma) out += ',';
  engine::append_json_string(out, key);
  out += ':';
  engine::append_json_string(out, value);
}

void append_outcome(std::string& out, const outcome& o) {
  out += "{\"value\":";
  out += o.undetermined ? "null" : o.value;
  out += ",\"status\":";
  out += o.undetermined ? "\"undetermined\"" : "\"decided\"";
  out += ",\"in_force\":";
  out += o.in_force ? "true" : "false";
  out += '}';
}

}  // namespace

std::string to_json(const diff_result& r) {
  std::string out = "{\"as_of\":";
  if (r.as_of) {
    engine::append_json_string(out, to_string(*r.as_of));
  } else {
    out += "null";
  }
  out += ",\"changes\":[";
  for (std::size_t i = 0; i < r.changes.size(); ++i) {
    const change& c = r.changes[i];
    if (i > 0) out += ',';
    out += '{';
    member(out, "kind", c.kind, false);
    member(out, "change", c.change);
    member(out, "name", c.name);
    if (!c.detail.empty()) member(out, "detail", c.detail);
    if (!c.from.empty()) member(out, "from", c.from);
    if (!c.old_value.empty() || !c.new_value.empty()) {
      // An added or removed text or value has no other side: null.
      for (const auto& [key, v] :
           {std::pair<std::string_view, const std::string&>{"old", c.old_value},
            {"new", c.new_value}}) {
        if (v.empty()) {
          out += ',';
          engine::append_json_string(out, key);
          out += ":null";
        } else {
          member(out, key, v);
        }
      }
    }
    out += '}';
  }
  out += "],\"decisions\":[";
  for (std::size_t i = 0; i < r.decisions.size(); ++i) {
    const decision_diff& d = r.decisions[i];
    if (i > 0) out += ',';
    out += '{';
    member(out, "decision", d.decision, false);
    member(out, "verdict", verdict_name(d.v));
    member(out, "reason", d.reason);
    if (!d.uncompared.empty()) {
      out += ",\"uncompared_cases\":[";
      for (std::size_t k = 0; k < d.uncompared.size(); ++k) {
        if (k > 0) out += ',';
        engine::append_json_string(out, d.uncompared[k]);
      }
      out += ']';
    }
    out += ",\"witness\":";
    if (d.v == verdict::different && d.as_of) {
      out += "{\"as_of\":";
      engine::append_json_string(out, to_string(*d.as_of));
      out += ",\"record\":" + d.record + ",\"plausible\":";
      out += d.plausible ? "true" : "false";
      out += "},\"old\":";
      append_outcome(out, d.old_outcome);
      out += ",\"new\":";
      append_outcome(out, d.new_outcome);
    } else {
      out += "null,\"old\":null,\"new\":null";
    }
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace dalil::analysis

// ------------------------------------------------------------------ text and Markdown

namespace dalil::analysis {

namespace {

using engine::msg;

msg kind_message(const change& ch) {
  const std::string& kind = ch.kind;
  if (kind == "module") return msg::diff_kind_module;
  if (kind == "rule") return msg::diff_kind_rule;
  if (kind == "parameter") return msg::diff_kind_parameter;
  if (kind == "table") return msg::diff_kind_table;
  if (kind == "exception") return msg::diff_kind_exception;
  if (kind == "explanation") return msg::diff_kind_explanation;
  if (kind == "title") return msg::diff_kind_title;
  if (kind == "citation") return msg::diff_kind_citation;
  if (kind == "confidence") return msg::diff_kind_confidence;
  if (kind == "period") return msg::diff_kind_period;
  if (ch.about == subject::field) return msg::diff_kind_field;
  if (ch.about == subject::enumeration) return msg::diff_kind_enum;
  return msg::diff_kind_schema;
}

/// Long texts (explanations, sources) are named, not quoted: the reader opens the pack.
std::string short_text(const std::string& s) {
  constexpr std::size_t limit = 80;
  if (s.size() <= limit) return s;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "…";
}

/// A witness fact's text as a run-time value of type `t` (`hold` keeps texts).
engine::value value_of(const dsl::program& p, const dsl::type& t, const std::string& text,
                       std::string& hold) {
  switch (t.k) {
    case dsl::kind::boolean:
      return engine::value::of_bool(text == "true");
    case dsl::kind::integer: {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size()) break;
      return engine::value::of_int(v);
    }
    case dsl::kind::money:
    case dsl::kind::decimal: {
      auto r = parse_decimal(text);
      if (!r) break;
      return engine::value::of_ratio(r->num, r->den);
    }
    case dsl::kind::date: {
      auto d = parse_date(text);
      if (!d) break;
      return engine::value::of_date(*d);
    }
    case dsl::kind::enumeration: {
      const auto& cases = p.enums[t.ref].cases;
      auto it = std::find(cases.begin(), cases.end(), text);
      if (it == cases.end()) break;
      return engine::value::of_enum(static_cast<std::uint32_t>(it - cases.begin()));
    }
    case dsl::kind::text:
      hold = text;
      return engine::value::of_text(hold);
    default:
      break;
  }
  return engine::value::unknown_value();
}

class text_writer {
 public:
  text_writer(const diff_result& r, const dsl::program& op, const dsl::program& np,
              const text_options& o, const engine::catalogue& c)
      : r_(r), op_(op), np_(np), o_(o), l_(o.lang), c_(c) {}

  std::string run() {
    std::string heading =
        c_.format(msg::diff_heading, l_, {{"old", o_.old_dir}, {"new", o_.new_dir}});
    line(o_.markdown ? "# " + heading : heading, 0);
    line(r_.as_of ? c_.format(msg::diff_scope_date, l_, {{"date", day(*r_.as_of)}})
                  : c_.text(msg::diff_scope_all, l_),
         0);
    if (o_.markdown) out_ += "\n";
    section(msg::diff_changes);
    if (r_.changes.empty()) line(c_.text(msg::diff_no_changes, l_), 2);
    for (const change& ch : r_.changes) line(change_words(ch), 2);
    if (o_.markdown) out_ += "\n";
    section(msg::diff_decisions);
    std::size_t same = 0;
    std::size_t different = 0;
    std::size_t unknown = 0;
    for (const decision_diff& d : r_.decisions) {
      std::string name = rule_name(d.decision);
      switch (d.v) {
        case verdict::same:
          ++same;
          line(c_.format(msg::diff_same, l_, {{"decision", name}}) + " — " + ground_words(d) +
                   uncompared_words(d),
               2);
          break;
        case verdict::different:
          ++different;
          if (d.as_of) {
            line(c_.format(msg::diff_different, l_, {{"decision", name}}), 2);
            witness(d);
          } else {
            line(c_.format(msg::diff_different, l_, {{"decision", name}}) + " — " + ground_words(d),
                 2);
          }
          break;
        case verdict::unknown:
          ++unknown;
          line(c_.format(msg::diff_unknown, l_, {{"decision", name}}) + " — " + ground_words(d), 2);
          break;
      }
    }
    if (o_.markdown) out_ += "\n";
    line(c_.format(
             msg::diff_summary, l_,
             {{"same", count(same)}, {"different", count(different)}, {"unknown", count(unknown)}}),
         0);
    return out_;
  }

 private:
  void line(const std::string& s, int indent) {
    if (o_.markdown) {
      out_ += (indent == 0   ? std::string()
               : indent == 2 ? std::string("- ")
                             : std::string(static_cast<std::size_t>(indent - 2), ' ') + "- ") +
              s + "\n";
    } else {
      out_ += engine::text_line(s, l_, indent);
    }
  }

  void section(msg m) {
    const std::string& t = c_.text(m, l_);
    line(o_.markdown ? "## " + t : t, 0);
  }

  std::string day(date d) const { return engine::date_words(d, l_, c_); }

  std::string count(std::size_t n) const {
    return engine::isolate_ltr(engine::integer_words(static_cast<std::int64_t>(n), l_, c_), l_);
  }

  std::string text_in(const dsl::texts& t) const {
    auto it = t.find(std::string(engine::lang_code(l_)));
    return it == t.end() ? std::string() : it->second;
  }

  /// An identifier of the pack, as code: kept left to right inside Arabic.
  std::string ident(const std::string& name) const {
    std::string s = o_.markdown ? "`" + name + "`" : name;
    return engine::isolate_ltr(s, l_);
  }

  std::string named(const std::string& title, const std::string& name) const {
    if (title.empty()) return ident(name);
    return c_.format(msg::diff_named, l_,
                     {{"title", title}, {"name", o_.markdown ? "`" + name + "`" : name}});
  }

  const dsl::rule_info* rule_in(const std::string& q) const {
    if (auto r = np_.find_rule(q)) return &np_.rules[*r];
    if (auto r = op_.find_rule(q)) return &op_.rules[*r];
    return nullptr;
  }

  std::string rule_name(const std::string& q) const {
    const dsl::rule_info* r = rule_in(q);
    return named(r == nullptr ? std::string() : text_in(r->title), q);
  }

  std::string module_name(const std::string& name) const {
    for (const dsl::program* p : {&np_, &op_}) {
      for (const dsl::module_info& m : p->modules) {
        if (m.name != name) continue;
        auto it = m.title.find(std::string(engine::lang_code(l_)));
        if (it != m.title.end() && !it->second.empty()) return named(it->second, name);
      }
    }
    return ident(name);
  }

  const dsl::field_info* field(const std::string& path) const {
    const dsl::field_info* f = dsl::field_at(np_, path);
    return f != nullptr ? f : dsl::field_at(op_, path);
  }

  std::string field_name(const std::string& path) const {
    const dsl::field_info* f = field(path);
    return named(f == nullptr ? std::string() : text_in(f->title), path);
  }

  std::string change_name(const change& ch) const {
    switch (ch.about) {
      case subject::module:
        return module_name(ch.name);
      case subject::rule:
        return rule_name(ch.name);
      case subject::exception: {
        std::string rule = ch.name.substr(0, ch.name.size() - ch.exception.size() - 1);
        return c_.format(msg::diff_exception_name, l_,
                         {{"exception", ident(ch.exception)}, {"rule", rule_name(rule)}});
      }
      case subject::field:
        return field_name(ch.name);
      case subject::parameter:
      case subject::enumeration:
        break;
    }
    return ident(ch.name);
  }

  std::string type_words(const dsl::program& p, const dsl::type& t) const {
    std::string s;
    switch (t.k) {
      case dsl::kind::boolean:
        s = c_.text(msg::diff_type_boolean, l_);
        break;
      case dsl::kind::integer:
        s = c_.text(msg::diff_type_integer, l_);
        break;
      case dsl::kind::decimal:
        s = c_.text(msg::diff_type_decimal, l_);
        break;
      case dsl::kind::money:
        s = c_.text(msg::diff_type_money, l_);
        break;
      case dsl::kind::date:
        s = c_.text(msg::diff_type_date, l_);
        break;
      case dsl::kind::duration:
        s = c_.text(msg::diff_type_duration, l_);
        break;
      case dsl::kind::enumeration:
        s = c_.format(msg::diff_type_enum, l_, {{"name", ident(p.enums[t.ref].name)}});
        break;
      case dsl::kind::record:
        s = c_.format(msg::diff_type_record, l_, {{"name", ident(p.records[t.ref].name)}});
        break;
      case dsl::kind::list: {
        dsl::type e{t.element, t.ref, dsl::kind::error, false};
        s = c_.format(msg::diff_type_list, l_, {{"type", type_words(p, e)}});
        break;
      }
      default:
        s = c_.text(msg::diff_type_text, l_);
        break;
    }
    return t.optional ? c_.format(msg::diff_type_optional, l_, {{"type", s}}) : s;
  }

  /// The type of what a change names, in one version.
  std::optional<dsl::type> type_in(const dsl::program& p, const change& ch) const {
    if (ch.about == subject::rule) {
      if (auto r = p.find_rule(ch.name)) return p.rules[*r].t;
    } else if (ch.about == subject::parameter) {
      for (const dsl::parameter_info& x : p.parameters) {
        if (x.qualified == ch.name) return x.t;
      }
    } else if (ch.about == subject::field) {
      if (const dsl::field_info* f = dsl::field_at(p, ch.name)) return f->t;
    }
    return std::nullopt;
  }

  std::string detail_words(const change& ch) const {
    const std::string& d = ch.detail;
    if (d == "value") {
      return c_.text(
          ch.kind == "exception" ? msg::diff_detail_exception_value : msg::diff_detail_value, l_);
    }
    if (d == "type") return c_.text(msg::diff_detail_type, l_);
    if (d == "formula") return c_.text(msg::diff_detail_formula, l_);
    if (d.rfind("table ", 0) == 0) {
      return c_.format(msg::diff_detail_table, l_, {{"n", engine::isolate_ltr(d.substr(6), l_)}});
    }
    if (d == "condition") return c_.text(msg::diff_detail_condition, l_);
    if (d == "otherwise") return c_.text(msg::diff_detail_otherwise, l_);
    if (d == "program") return c_.text(msg::diff_detail_program, l_);
    if (d == "osp") return c_.text(msg::diff_detail_osp, l_);
    if (d == "cases") return c_.text(msg::diff_detail_cases, l_);
    if (auto lang = engine::parse_lang(d)) return engine::language_name(*lang, l_, c_);
    return {};  // source, confidence, in force: the kind says it
  }

  /// A parameter's dated value in one version, in words.
  std::string parameter_value(const dsl::program& p, const change& ch, date from,
                              const std::string& raw) const {
    if (raw.empty()) return "—";
    for (const dsl::parameter_info& x : p.parameters) {
      if (x.qualified != ch.name) continue;
      for (const dsl::dated_constant& v : x.values) {
        if (v.from == from) return engine::constant_words(p, v.value, x.t, l_, c_);
      }
    }
    return engine::isolate_auto(raw, l_);
  }

  std::string period_words(const dsl::program& p, const std::string& rule) const {
    auto r = p.find_rule(rule);
    if (!r) return "—";
    const dsl::rule_info& info = p.rules[*r];
    if (info.in_force_from && info.in_force_until) {
      return c_.format(msg::doc_period_between, l_,
                       {{"from", day(*info.in_force_from)}, {"until", day(*info.in_force_until)}});
    }
    if (info.in_force_from) {
      return c_.format(msg::doc_period_from, l_, {{"from", day(*info.in_force_from)}});
    }
    if (info.in_force_until) {
      return c_.format(msg::doc_period_until, l_, {{"until", day(*info.in_force_until)}});
    }
    return c_.text(msg::diff_period_always, l_);
  }

  std::string confidence_words(const std::string& v) const {
    return c_.text(v == "provisional" ? msg::doc_provisional : msg::doc_verified, l_);
  }

  std::string change_words(const change& ch) const {
    std::string kind = c_.text(kind_message(ch), l_);
    std::string name = change_name(ch);
    std::string s;
    std::string detail = ch.change == "changed" ? detail_words(ch) : std::string();
    if (ch.change == "added" || ch.change == "removed") {
      s = c_.format(ch.change == "added" ? msg::diff_added : msg::diff_removed, l_,
                    {{"kind", kind}, {"name", name}});
      // A text added or removed in one language: say which (the same line three times otherwise).
      if (auto lang = engine::parse_lang(ch.detail)) {
        s += " (" + engine::language_name(*lang, l_, c_) + ")";
      }
    } else if (detail.empty()) {
      s = c_.format(msg::diff_changed_plain, l_, {{"kind", kind}, {"name", name}});
    } else {
      s = c_.format(msg::diff_changed, l_, {{"kind", kind}, {"name", name}, {"detail", detail}});
    }
    const std::string arrow = l_ == engine::lang::ar ? " ← " : " → ";
    // French puts a space before a colon.
    const std::string colon = l_ == engine::lang::fr ? " : " : ": ";
    if (!ch.from.empty()) {
      auto from = parse_date(ch.from);
      if (from) {
        s += " — " + c_.format(msg::diff_value, l_,
                               {{"from", day(*from)},
                                {"old", parameter_value(op_, ch, *from, ch.old_value)},
                                {"new", parameter_value(np_, ch, *from, ch.new_value)}});
      }
    } else if (ch.kind == "period" && ch.detail == "in force") {
      s += colon + period_words(op_, ch.name) + arrow + period_words(np_, ch.name);
    } else if (ch.kind == "confidence") {
      s += colon + confidence_words(ch.old_value) + arrow + confidence_words(ch.new_value);
    } else if (ch.detail == "type" && ch.change == "changed") {
      auto a = type_in(op_, ch);
      auto b = type_in(np_, ch);
      if (a && b) s += colon + type_words(op_, *a) + arrow + type_words(np_, *b);
    } else if ((ch.kind == "title" || ch.kind == "citation") && ch.change == "changed" &&
               ch.old_value.size() < 80 && ch.new_value.size() < 80) {
      s += colon + engine::isolate_auto(short_text(ch.old_value), l_) + arrow +
           engine::isolate_auto(short_text(ch.new_value), l_);
    }
    return s;
  }

  /// "; records holding Status.protected_person, …, not compared": a proof's limit, or "".
  std::string uncompared_words(const decision_diff& d) const {
    if (d.uncompared.empty()) return {};
    std::string list;
    for (const std::string& c : d.uncompared) {
      if (!list.empty()) list += c_.text(msg::list_separator, l_);
      list += engine::isolate_auto(c, l_);
    }
    return c_.format(msg::diff_uncompared, l_, {{"cases", list}});
  }

  std::string ground_words(const decision_diff& d) const {
    switch (d.why) {
      case ground::proof_all:
        return c_.text(msg::diff_why_proof_all, l_);
      case ground::proof_date:
        return c_.format(msg::diff_why_proof_date, l_,
                         {{"date", r_.as_of ? day(*r_.as_of) : std::string()}});
      case ground::solver:
        return c_.format(msg::diff_why_solver, l_, {{"detail", gap_words(d)}});
      case ground::encoding:
        return c_.format(msg::diff_why_encoding, l_, {{"detail", gap_words(d)}});
      case ground::unconfirmed:
        return c_.format(msg::diff_why_witness, l_, {{"detail", gap_words(d)}});
      case ground::type: {
        std::string s = c_.text(msg::diff_why_type, l_);
        auto a = op_.find_rule(d.decision);
        auto b = np_.find_rule(d.decision);
        if (a && b) {
          s += " (" + type_words(op_, op_.rules[*a].t) + (l_ == engine::lang::ar ? " ← " : " → ") +
               type_words(np_, np_.rules[*b].t) + ")";
        }
        return s;
      }
      case ground::added:
        return c_.text(msg::diff_why_added, l_);
      case ground::removed:
        return c_.text(msg::diff_why_removed, l_);
      case ground::witness:
        return {};
    }
    return {};
  }

  std::string gap_words(const decision_diff& d) const {
    const std::string from = d.from ? day(*d.from) : std::string();
    const std::string until = d.until ? day(*d.until) : std::string();
    switch (d.code) {
      case gap::list_fact:
        return c_.format(msg::diff_gap_list_fact, l_, {{"fact", field_name(d.subject)}});
      case gap::field_type:
        return c_.format(msg::diff_gap_field_type, l_, {{"fact", field_name(d.subject)}});
      case gap::list_op:
        return c_.text(msg::diff_gap_list_op, l_);
      case gap::duration:
        return c_.text(msg::diff_gap_duration, l_);
      case gap::date_arith:
        return c_.text(msg::diff_gap_date_arith, l_);
      case gap::big_table:
        return c_.text(msg::diff_gap_big_table, l_);
      case gap::division:
        return c_.text(msg::diff_gap_division, l_);
      case gap::dates:
        return c_.format(msg::diff_gap_dates, l_, {{"from", from}, {"until", until}});
      case gap::refused_terms:
        return c_.text(msg::diff_gap_refused, l_);
      case gap::solver_timeout:
        return c_.format(msg::diff_solver_timeout, l_, {{"from", from}, {"until", until}});
      case gap::solver_other:
        return c_.format(msg::diff_solver_other, l_, {{"from", from}, {"until", until}});
      case gap::reader_refused:
        // A refusal of the whole record (its size, its syntax) names no field.
        if (d.subject.empty()) return c_.text(msg::diff_unconfirmed_refused_record, l_);
        return c_.format(msg::diff_unconfirmed_refused, l_, {{"fact", field_name(d.subject)}});
      case gap::same_outcome:
        return c_.text(msg::diff_unconfirmed_same, l_);
      case gap::decimals:
        return c_.text(msg::diff_unconfirmed_decimals, l_);
      case gap::none:
      case gap::other:
        break;
    }
    return c_.text(msg::diff_gap_other, l_);
  }

  std::string outcome_words(const outcome& o) const {
    const std::string& v = o.words[static_cast<std::size_t>(l_)];
    return o.in_force ? v : c_.format(msg::diff_out_of_force, l_, {{"value", v}});
  }

  void witness(const decision_diff& d) {
    line(c_.format(msg::diff_witness_at, l_, {{"date", day(*d.as_of)}}), 4);
    if (!d.plausible) line(c_.text(msg::diff_witness_implausible, l_), 6);
    if (d.facts.empty()) line(c_.text(msg::diff_witness_empty, l_), 6);
    for (const witness_fact& w : d.facts) {
      const dsl::field_info* f = field(w.path);
      std::string title = f == nullptr ? std::string() : text_in(f->title);
      std::string fact = title.empty() ? ident(w.path) : title;
      std::string value;
      if (w.s == witness_fact::state::null) {
        value = c_.text(msg::none, l_);
      } else if (w.s == witness_fact::state::present || f == nullptr) {
        value = c_.text(msg::whatif_present, l_);
      } else {
        const dsl::program& p = dsl::field_at(np_, w.path) != nullptr ? np_ : op_;
        std::string hold;
        engine::value v = value_of(p, f->t, w.value, hold);
        value = v.unknown() ? engine::isolate_auto(w.value, l_)
                            : engine::exact_value_words(p, f->t, v, l_, c_);
      }
      line(c_.format(msg::diff_witness_fact, l_, {{"fact", fact}, {"value", value}}), 6);
    }
    line(c_.format(msg::diff_outcome, l_,
                   {{"old", outcome_words(d.old_outcome)}, {"new", outcome_words(d.new_outcome)}}),
         4);
  }

  const diff_result& r_;
  const dsl::program& op_;
  const dsl::program& np_;
  const text_options& o_;
  engine::lang l_;
  const engine::catalogue& c_;
  std::string out_;
};

}  // namespace

std::string to_text(const diff_result& r, const dsl::program& old_p, const dsl::program& new_p,
                    const text_options& o, const engine::catalogue& c) {
  return text_writer(r, old_p, new_p, o, c).run();
}

}  // namespace dalil::analysis
