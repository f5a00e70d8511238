// The test runner: one instance per as-of date, one record per test, each expectation checked
// against the decision, with the trace of every failure.
#include "engine/test_runner.hpp"

#include <map>

#include "engine/decision.hpp"
#include "engine/record.hpp"

namespace dalil::engine {

namespace {

std::string trace_text(evaluator& ev, std::uint32_t rule) {
  const dsl::program& p = ev.rules().program();
  std::string out;
  for (std::uint32_t r : ev.rules().closure_of(rule)) {
    if (!ev.evaluated(r)) continue;
    const dsl::rule_info& info = p.rules[r];
    value v = ev.rule(r);
    std::string shown;
    append_value_json(shown, p, info.t, v);
    out += "      " + info.qualified + " = " + (v.unknown() ? "unknown" : shown);
    int x = ev.fired_exception(r);
    if (x >= 0) out += " (exception " + info.exceptions[static_cast<std::size_t>(x)].name + ")";
    std::string facts;
    for (std::uint32_t f : ev.rules().facts_of(r)) {
      std::string fv;
      const value& val = ev.facts()[f];
      if (val.unknown()) {
        fv = "unknown";
      } else {
        append_value_json(fv, p, p.facts[f].t, val);
      }
      facts += (facts.empty() ? "" : ", ") + p.facts[f].path + "=" + fv;
    }
    if (!facts.empty()) out += "   [" + facts + "]";
    out += '\n';
  }
  return out;
}

std::string expected_text(const dsl::program& p, const dsl::expectation_info& x) {
  const dsl::rule_info& r = p.rules[x.rule];
  switch (x.kind) {
    case dsl::expectation_info::kind_t::equals:
      return r.qualified + " == " + dsl::constant_text(p, x.value, r.t);
    case dsl::expectation_info::kind_t::undetermined:
      return r.qualified + " undetermined";
    case dsl::expectation_info::kind_t::missing: {
      std::string s;
      for (const auto& m : x.missing) s += (s.empty() ? "" : ", ") + m;
      return r.qualified + " missing [" + s + "]";
    }
  }
  return r.qualified;
}

}  // namespace

test_report run_tests(const std::shared_ptr<const ruleset>& rules, const std::string& filter,
                      bool measure_coverage) {
  const dsl::program& p = rules->program();
  test_report report;
  coverage cov;
  cov.rules.assign(p.rules.size(), 0);
  cov.rows.assign(rules->row_count(), 0);
  for (const auto& r : p.rules) cov.exceptions.emplace_back(r.exceptions.size(), 0);
  std::map<std::int32_t, std::shared_ptr<const instance>> instances;
  record_reader reader(p);
  reader.set_intake(true);  // a test's record, written in its source
  record rec;
  for (const dsl::test_info& t : p.tests) {
    if (!filter.empty() && t.name.find(filter) == std::string::npos) continue;
    test_outcome out;
    out.module = p.modules[t.module].name;
    out.name = t.name;
    auto& inst = instances[t.as_of.days];
    if (!inst) inst = instantiate(rules, t.as_of);
    record_error err;
    reader.set_as_of(t.as_of);
    if (!reader.read(t.given_json, rec, err)) {
      out.passed = false;
      out.failures.push_back("the record does not fit the schema: " + err.field + ": " +
                             err.message);
    } else {
      evaluator ev(inst);
      if (measure_coverage) ev.set_coverage(&cov);
      ev.set_record(rec);
      for (const dsl::expectation_info& x : t.expects) {
        decision d = decide(ev, x.rule);
        const dsl::rule_info& info = p.rules[x.rule];
        bool ok = false;
        switch (x.kind) {
          case dsl::expectation_info::kind_t::equals: {
            value want = to_value(x.value);
            ok = d.decided && d.v.s == want.s && (!want.known() || equal_values(d.v, want));
            break;
          }
          case dsl::expectation_info::kind_t::undetermined:
            ok = !d.decided;
            break;
          case dsl::expectation_info::kind_t::missing:
            ok = !d.decided && d.missing == x.missing;
            break;
        }
        if (ok) continue;
        out.passed = false;
        std::string got;
        append_value_json(got, p, info.t, d.v);
        std::string missing;
        for (const auto& m : d.missing) missing += (missing.empty() ? "" : ", ") + m;
        std::string reasons;
        for (const auto& m : reasons_english(p, d.reasons)) {
          reasons += (reasons.empty() ? "" : "; ") + m;
        }
        out.failures.push_back("expected " + expected_text(p, x) + "\n    actual   " +
                               info.qualified + " " +
                               (d.decided ? "== " + got
                                          : "undetermined, missing [" + missing + "]" +
                                                (reasons.empty() ? "" : ", because " + reasons)) +
                               "\n    trace:\n" + trace_text(ev, x.rule));
      }
    }
    (out.passed ? report.passed : report.failed) += 1;
    report.outcomes.push_back(std::move(out));
  }
  if (measure_coverage) {
    for (std::uint32_t r = 0; r < p.rules.size(); ++r) {
      if (!cov.rules[r]) report.uncovered.push_back("rule " + p.rules[r].qualified);
      for (std::size_t x = 0; x < p.rules[r].exceptions.size(); ++x) {
        if (!cov.exceptions[r][x]) {
          report.uncovered.push_back("exception " + p.rules[r].exceptions[x].name + " of " +
                                     p.rules[r].qualified);
        }
      }
    }
    // Table rows, attributed to the rule whose expressions contain the table.
    for (std::uint32_t r = 0; r < p.rules.size(); ++r) {
      dsl::for_each_expression(p, dsl::expression_roots(p.rules[r]), [&](std::uint32_t id) {
        const dsl::expression& e = p.expressions[id];
        if (e.o != dsl::op::table) return;
        for (std::uint32_t i = 0; i < e.args.size() / 2; ++i) {
          if (!cov.rows[rules->row_base(id) + i]) {
            report.uncovered.push_back("table row " + std::to_string(i + 1) + " of " +
                                       p.rules[r].qualified);
          }
        }
      });
    }
  }
  return report;
}

}  // namespace dalil::engine
