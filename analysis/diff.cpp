// The semantic diff: structural changes read off the two checked programs, and per contract
// decision one solver query per interval of as-of dates in which neither version's parameters
// nor periods in force change. A model is a witness only once the evaluator reproduces it.
#include "analysis/diff.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "analysis/encode.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/logic.hpp"
#include "engine/record.hpp"

namespace dalil::analysis {

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
  return (r.in_force_from ? to_string(*r.in_force_from) : std::string("…")) + " – " +
         (r.in_force_until ? to_string(*r.in_force_until) : std::string("…"));
}

std::string confidence_text(bool provisional) {
  return provisional ? "provisional" : "verified";
}

struct recorder {
  std::vector<change>& out;
  void add(std::string kind, std::string what, std::string name, std::string detail = {},
           std::string from = {}, std::string old_value = {}, std::string new_value = {}) {
    out.push_back(change{std::move(kind), std::move(what), std::move(name), std::move(detail),
                         std::move(from), std::move(old_value), std::move(new_value)});
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
    if (!found) rec.add("exception", "added", name + "." + y.name);
  }
}

void parameter_changes(recorder& rec, const dsl::program& op, const dsl::parameter_info& a,
                       const dsl::program& np, const dsl::parameter_info& b) {
  const std::string& name = a.qualified;
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
  recorder rec{out};
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
  for (const dsl::enum_info& e : op.enums) {
    auto it = std::find_if(np.enums.begin(), np.enums.end(),
                           [&](const dsl::enum_info& x) { return x.name == e.name; });
    if (it != np.enums.end() && it->cases != e.cases) rec.add("schema", "changed", e.name, "cases");
  }
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
  for (const dsl::parameter_info& b : np.parameters) {
    if (!std::any_of(op.parameters.begin(), op.parameters.end(),
                     [&](const dsl::parameter_info& x) { return x.qualified == b.qualified; })) {
      rec.add("parameter", "added", b.qualified);
    }
  }
  for (const dsl::rule_info& a : op.rules) {
    auto r = np.find_rule(a.qualified);
    if (!r) {
      rec.add("rule", "removed", a.qualified);
    } else {
      rule_changes(rec, op, a, np, np.rules[*r]);
    }
  }
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
    const std::string& record_json, engine::record& rec, std::string& error) {
  const dsl::program& p = rules->program();
  engine::record_reader reader(p);
  reader.set_as_of(as_of);
  engine::record_error err;
  if (!reader.read(record_json, rec, err)) {
    error = "the witness is refused by the record reader (" + err.field + ": " + err.message + ")";
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
    o.words[static_cast<std::size_t>(l)] =
        engine::value_words(p, p.rules[r].t, v, std::string(engine::lang_code(l)));
  }
  return std::make_pair(o, v);
}

bool same_values(const engine::value& a, const engine::value& b) {
  engine::logic::truth sa = engine::logic::state_of(a);
  engine::logic::truth sb = engine::logic::state_of(b);
  return engine::logic::same(
      sa, sb,
      sa == engine::logic::K && sb == engine::logic::K && a.r == b.r && engine::equal_values(a, b));
}

bool same_type(const dsl::program& op, const dsl::type& a, const dsl::program& np,
               const dsl::type& b) {
  if (a.k != b.k || a.optional != b.optional) return false;
  if (a.k == dsl::kind::enumeration) return op.enums[a.ref].cases == np.enums[b.ref].cases;
  return a.k != dsl::kind::list && a.k != dsl::kind::record;
}

class decision_checker {
 public:
  decision_checker(const std::shared_ptr<const engine::ruleset>& o,
                   const std::shared_ptr<const engine::ruleset>& n, const diff_options& opt)
      : old_(o), new_(n), opt_(opt) {}

  decision_diff check(const std::string& name, std::uint32_t ro, std::uint32_t rn) {
    decision_diff d;
    d.decision = name;
    const dsl::program& op = old_->program();
    const dsl::program& np = new_->program();
    if (!same_type(op, op.rules[ro].t, np, np.rules[rn].t)) {
      d.why = ground::type;
      d.detail = dsl::type_name(op, op.rules[ro].t) + " → " + dsl::type_name(np, np.rules[rn].t);
      d.reason = "the decision's type changed (" + d.detail + "): its values do not compare";
      return d;
    }
    // Intervals of as-of dates in which neither instantiation changes.
    // Intervals of as-of dates in which neither instantiation changes, within the dates the
    // terms cover.
    const date first = fact_space::first_day();
    const date last = fact_space::last_day();
    std::vector<std::pair<date, date>> intervals;
    if (opt_.as_of) {
      if (*opt_.as_of < first || *opt_.as_of > last) {
        d.why = ground::encoding;
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
    std::optional<std::pair<ground, std::string>> open;
    for (const auto& [lo, hi] : intervals) {
      std::optional<std::pair<ground, std::string>> why;
      if (query(d, ro, rn, lo, hi, why)) return d;
      if (why && !open) open = why;
    }
    if (open) {
      d.v = verdict::unknown;
      d.why = open->first;
      d.detail = open->second;
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
    return d;
  }

 private:
  /// One interval: true when a reproduced witness was found (d filled); otherwise `why` says
  /// what kept the interval from a proof (empty: proved).
  bool query(decision_diff& d, std::uint32_t ro, std::uint32_t rn, date lo, date hi,
             std::optional<std::pair<ground, std::string>>& why) {
    try {
      fact_space facts(ctx_);
      encoder eo(facts, engine::instantiate(old_, lo));
      encoder en(facts, engine::instantiate(new_, lo));
      term to = eo.rule(ro);
      term tn = en.rule(rn);
      std::string gap = !eo.unsupported().empty() ? eo.unsupported() : en.unsupported();
      z3::solver s(ctx_);
      z3::params params(ctx_);
      params.set("timeout", opt_.timeout_ms);
      s.set(params);
      for (const z3::expr& c : facts.constraints()) s.add(c);
      s.add(facts.as_of() >= lo.days && facts.as_of() <= hi.days);
      if (eo.in_force(ro) == en.in_force(rn)) s.add(!detail::same(to, tn));
      // An example on which both versions decide reads best: looked for first.
      s.push();
      s.add(!to.unk && !tn.unk);
      z3::check_result r = s.check();
      if (r != z3::sat) {
        s.pop();
        r = s.check();
      }
      if (r == z3::sat) {
        z3::model m = s.get_model();
        if (!facts.decimals_writable(m)) {
          for (const z3::expr& c : facts.hundredths()) s.add(c);
          r = s.check();
          if (r != z3::sat) {
            why.emplace(ground::unconfirmed,
                        "the only difference found needs decimals with no finite expansion");
            return false;
          }
          m = s.get_model();
        }
        std::string record = facts.record_json(m);
        date as_of{static_cast<std::int32_t>(m.eval(facts.as_of(), true).get_numeral_int64())};
        return reproduce(d, ro, rn, as_of, record, why);
      }
      if (r == z3::unknown) {
        why.emplace(ground::solver,
                    s.reason_unknown() + ", as of " + to_string(lo) + " to " + to_string(hi));
        return false;
      }
      if (!gap.empty()) why.emplace(ground::encoding, gap);
      return false;
    } catch (const z3::exception& e) {
      why.emplace(ground::encoding, std::string("the solver refused the terms: ") + e.msg());
      return false;
    }
  }

  bool reproduce(decision_diff& d, std::uint32_t ro, std::uint32_t rn, date as_of,
                 const std::string& record, std::optional<std::pair<ground, std::string>>& why) {
    engine::record ro_rec;
    engine::record rn_rec;
    std::string error;
    auto a = evaluate(old_, ro, as_of, record, ro_rec, error);
    auto b = a ? evaluate(new_, rn, as_of, record, rn_rec, error) : std::nullopt;
    if (!a || !b) {
      why.emplace(ground::unconfirmed, error);
      return false;
    }
    bool differ = a->first.in_force != b->first.in_force || !same_values(a->second, b->second);
    if (!differ) {
      why.emplace(ground::unconfirmed,
                  "the evaluator gives both versions the same outcome on it (an encoding gap)");
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
  std::shared_ptr<const engine::ruleset> old_;
  std::shared_ptr<const engine::ruleset> new_;
  diff_options opt_;
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
    out += ",\"witness\":";
    if (d.v == verdict::different && d.as_of) {
      out += "{\"as_of\":";
      engine::append_json_string(out, to_string(*d.as_of));
      out += ",\"record\":" + d.record + "},\"old\":";
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
