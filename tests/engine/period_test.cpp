// Periods in force with `in_force … otherwise EXPR`: outside its period a rule's value is EXPR's
// (a constant, an enum case, or not_encoded: undetermined with that reason), the decision says
// in_force false, and rules that read it decide with that value. Without `otherwise` the old
// meaning stays (undetermined, "not in force"). Both evaluators, on both sides of each edge.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/block.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "tests/support/packs.hpp"

namespace dsl = dalil::dsl;
namespace eng = dalil::engine;

namespace {

const char* const pack_text = R"dalil(module m
  title fr "t" ar "t" en "t"

enum Category { poor, vulnerable, ineligible }

record Applicant {
  flag : bool?
  income : money?
}

input applicant : Applicant

rule ramed : Category
  source "s"
  confidence provisional
  in_force from 2015-10-26 until 2022-11-30 otherwise Category.ineligible
  = if applicant.income < 3767 MAD then poor else vulnerable
  exception flagged
    source "s"
    when applicant.flag
    = poor

rule tadamon : bool
  source "s"
  in_force from 2022-12-01 otherwise false
  = applicant.flag

rule school : bool
  source "s"
  in_force from 2013-10-09 otherwise not_encoded fr "avant la circulaire" ar "قبل المذكرة" en "before the circular"
  = true

rule legacy : bool
  source "s"
  in_force from 2015-01-01
  = applicant.flag

rule covered : bool
  source "s"
  = tadamon or ramed != ineligible

rule schooled : bool
  source "s"
  = school and applicant.flag
)dalil";

/// Rule m.`rule` of `pack` as of `as_of` on `record`, by the scalar evaluator (its decision and
/// value as JSON) and by the block evaluator (its value as JSON, state, flag and exception).
struct both_evaluators {
  eng::decision d;
  std::string value;
  std::string block_value;
  int block_state = 0;
  bool block_provisional = false;
  int block_exception = -1;
};

both_evaluators evaluate_both(const dalil::testing::loaded_pack& pack, const char* rule,
                              const char* as_of, const char* record) {
  const dsl::program& p = pack.rules->program();
  std::uint32_t r = *p.find_rule(std::string("m.") + rule);
  auto inst = eng::instantiate(pack.rules, *dalil::parse_date(as_of));
  eng::record_reader reader(p);
  eng::record rec;
  eng::record_error err;
  REQUIRE(reader.read(record, rec, err));
  both_evaluators out;
  eng::evaluator ev(inst);
  ev.set_record(rec);
  out.d = eng::decide(ev, r);
  eng::append_value_json(out.value, p, p.rules[r].t, out.d.v);
  eng::block_evaluator block(inst, {r});
  const eng::value* row = rec.facts.data();
  block.run(&row, 1);
  eng::append_value_json(out.block_value, p, p.rules[r].t, block.get(r, 0));
  out.block_state = static_cast<int>(block.get(r, 0).s);
  out.block_provisional = block.provisional(r, 0);
  out.block_exception = block.fired_exception(r, 0);
  return out;
}

struct period_case {
  const char* rule;
  const char* as_of;
  const char* record;
  const char* value;  // JSON, "null" when undetermined
  bool in_force;
  std::vector<std::string> reasons;
};

}  // namespace

TEST_CASE("outside its period a rule takes its otherwise value", "[engine][period]") {
  auto pack = dalil::testing::load_pack_text(pack_text);
  const dsl::program& p = pack->rules->program();
  const period_case cases[] = {
      // The edges of health.ramed's period: the day before, the first and last days, the day
      // after. Outside, the exception does not apply either.
      {"ramed", "2015-10-25", R"({"flag": true, "income": "100.00"})", "\"ineligible\"", false, {}},
      {"ramed", "2015-10-26", R"({"flag": false, "income": "100.00"})", "\"poor\"", true, {}},
      {"ramed",
       "2022-11-30",
       R"({"flag": false, "income": "5000.00"})",
       "\"vulnerable\"",
       true,
       {}},
      {"ramed", "2022-12-01", R"({})", "\"ineligible\"", false, {}},
      {"tadamon", "2022-11-30", R"({"flag": true})", "false", false, {}},
      {"tadamon", "2022-12-01", R"({"flag": true})", "true", true, {}},
      // not_encoded outside: undetermined with that reason, not "not in force".
      {"school", "2013-10-08", R"({})", "null", false, {"not encoded: before the circular"}},
      {"school", "2013-10-09", R"({})", "true", true, {}},
      // Without otherwise: undetermined, "not in force", as before.
      {"legacy",
       "2014-12-31",
       R"({"flag": true})",
       "null",
       false,
       {"m.legacy is not in force on 2014-12-31"}},
      // Readers decide with the otherwise value.
      {"covered", "2014-01-01", R"({})", "false", true, {}},
      {"covered", "2016-01-01", R"({"income": "100.00"})", "true", true, {}},
      {"schooled", "2013-01-01", R"({"flag": false})", "false", true, {}},
      {"schooled",
       "2013-01-01",
       R"({"flag": true})",
       "null",
       true,
       {"not encoded: before the circular"}},
  };
  for (const period_case& c : cases) {
    INFO(c.rule << " as of " << c.as_of << " on " << c.record);
    both_evaluators b = evaluate_both(*pack, c.rule, c.as_of, c.record);
    const eng::decision& d = b.d;
    CHECK(b.value == c.value);
    CHECK(d.decided == (std::string(c.value) != "null"));
    CHECK(d.in_force == c.in_force);
    CHECK(eng::reasons_english(p, d.reasons) == c.reasons);
    CHECK(d.missing.empty());
    if (!c.in_force) {
      CHECK(d.exception == -1);
      CHECK_FALSE(d.provisional);  // outside its period its confidence decides nothing
    }
    // The block evaluator gives the same value.
    CHECK(b.block_state == static_cast<int>(d.v.s));
    CHECK(b.block_value == b.value);
    CHECK(b.block_exception == d.exception);
    CHECK(b.block_provisional == d.provisional);
  }
}

TEST_CASE("reasons are data: a kind and what they are about, worded in English on demand",
          "[engine][period]") {
  auto pack = dalil::testing::load_pack_text(pack_text);
  const dsl::program& p = pack->rules->program();
  eng::record_reader reader(p);
  eng::record rec;
  eng::record_error err;
  REQUIRE(reader.read(R"({"flag": true})", rec, err));
  // Before the circular: the not_encoded of school's otherwise, its texts in every language.
  {
    auto inst = eng::instantiate(pack->rules, *dalil::parse_date("2013-01-01"));
    eng::evaluator ev(inst);
    ev.set_record(rec);
    eng::decision d = eng::decide(ev, *p.find_rule("m.schooled"));
    REQUIRE(d.reasons.size() == 1);
    const eng::reason& r = d.reasons[0];
    CHECK(r.k == eng::reason::kind::not_encoded);
    REQUIRE(r.index < p.expressions.size());
    CHECK(p.expressions[r.index].reason.at("fr") == "avant la circulaire");
    CHECK(p.expressions[r.index].reason.at("ar") == "قبل المذكرة");
    CHECK(eng::reason_english(p, r) == "not encoded: before the circular");
  }
  // Out of force without otherwise: the rule and the date.
  {
    auto inst = eng::instantiate(pack->rules, *dalil::parse_date("2014-12-31"));
    eng::evaluator ev(inst);
    ev.set_record(rec);
    eng::decision d = eng::decide(ev, *p.find_rule("m.legacy"));
    REQUIRE(d.reasons.size() == 1);
    CHECK(d.reasons[0].k == eng::reason::kind::not_in_force);
    CHECK(d.reasons[0].index == *p.find_rule("m.legacy"));
    CHECK(d.reasons[0].on == *dalil::parse_date("2014-12-31"));
  }
}

TEST_CASE("reasons of every kind, in the order of their English texts", "[engine][period]") {
  auto pack = dalil::testing::load_pack_text(R"dalil(module m
  title fr "t" ar "t" en "t"

record Applicant {
  size : int?
  born : date?
}

input applicant : Applicant

parameter ceiling : money
  source "s"
  from 2020-01-01 = 100 MAD

rule late : bool
  source "s"
  in_force from 2030-01-01
  = true

rule gap : bool
  source "s"
  = not_encoded "z gap"

rule all_kinds : bool
  source "s"
  = 10 MAD / applicant.size > ceiling
    or applicant.born + 9000 years > as_of
    or 9000000000000000000 * (applicant.size + 2) > 1
    or late
    or gap
    or not_encoded "a gap"
)dalil");
  const dsl::program& p = pack->rules->program();
  eng::record_reader reader(p);
  eng::record rec;
  eng::record_error err;
  REQUIRE(reader.read(R"({"size": 0, "born": "2000-01-01"})", rec, err));
  auto inst = eng::instantiate(pack->rules, *dalil::parse_date("2019-06-01"));
  eng::evaluator ev(inst);
  ev.set_record(rec);
  eng::decision d = eng::decide(ev, *p.find_rule("m.all_kinds"));
  CHECK_FALSE(d.decided);
  std::vector<std::string> want = {"arithmetic overflow",
                                   "date out of range",
                                   "division by zero",
                                   "m.late is not in force on 2019-06-01",
                                   "not encoded: a gap",
                                   "not encoded: z gap",
                                   "parameter m.ceiling has no value in force on 2019-06-01"};
  CHECK(eng::reasons_english(p, d.reasons) == want);
  using k = eng::reason::kind;
  std::vector<k> kinds;
  for (const eng::reason& r : d.reasons) kinds.push_back(r.k);
  CHECK(kinds == std::vector<k>{k::arithmetic_overflow, k::date_out_of_range, k::division_by_zero,
                                k::not_in_force, k::not_encoded, k::not_encoded,
                                k::parameter_without_value});
  CHECK(d.reasons[3].index == *p.find_rule("m.late"));
  CHECK(d.reasons[6].index == 0);  // m.ceiling
}

TEST_CASE(
    "a period's date marked provisional makes the decision outside it on that side "
    "provisional, in both evaluators",
    "[engine][period]") {
  // RULE-PACK: housing "from 2015 (Finance Law 2015, article not found: provisional)": before
  // it, the refusal rests on that date. The other side, and the period itself, are untouched.
  auto pack = dalil::testing::load_pack_text(R"dalil(module m
  title fr "t" ar "t" en "t"

record Applicant {
  flag : bool?
}

input applicant : Applicant

rule opened : bool
  source "s"
  in_force from 2015-01-01 provisional until 2020-12-31 otherwise false
  = applicant.flag

rule closes : bool
  source "s"
  in_force from 2015-01-01 until 2020-12-31 provisional otherwise false
  = applicant.flag

rule either : bool
  source "s"
  = opened or applicant.flag
)dalil");
  const dsl::program& p = pack->rules->program();
  for (const char* name : {"m.opened", "m.closes", "m.either"}) {
    CHECK(p.rules[*p.find_rule(name)].provisional);  // may be, statically
  }
  CHECK(p.rules[*p.find_rule("m.opened")].from_provisional);
  CHECK_FALSE(p.rules[*p.find_rule("m.opened")].until_provisional);
  CHECK(p.rules[*p.find_rule("m.closes")].until_provisional);
  struct prov_case {
    const char* rule;
    const char* as_of;
    const char* record;
    const char* value;
    bool in_force;
    bool provisional;
  };
  const prov_case cases[] = {
      {"opened", "2014-12-31", R"({"flag": true})", "false", false, true},
      {"opened", "2015-01-01", R"({"flag": true})", "true", true, false},
      {"opened", "2020-12-31", R"({"flag": false})", "false", true, false},
      {"opened", "2021-01-01", R"({"flag": true})", "false", false, false},
      {"closes", "2014-12-31", R"({"flag": true})", "false", false, false},
      {"closes", "2021-01-01", R"({"flag": true})", "false", false, true},
      // A reader: false because both operands are, one resting on the provisional date; true
      // because of the flag alone, which is not provisional.
      {"either", "2014-12-31", R"({"flag": false})", "false", true, true},
      {"either", "2014-12-31", R"({"flag": true})", "true", true, false},
      {"either", "2016-01-01", R"({"flag": false})", "false", true, false},
  };
  for (const prov_case& c : cases) {
    INFO(c.rule << " as of " << c.as_of << " on " << c.record);
    both_evaluators b = evaluate_both(*pack, c.rule, c.as_of, c.record);
    CHECK(b.value == c.value);
    CHECK(b.d.in_force == c.in_force);
    CHECK(b.d.provisional == c.provisional);
    CHECK(b.block_value == b.value);
    CHECK(b.block_provisional == c.provisional);
  }
}

TEST_CASE("'provisional' in a period goes after the date it qualifies", "[engine][period]") {
  dsl::source_map sources;
  dsl::file_id f = sources.add("ops.dalil", R"dalil(module m
  title fr "t" ar "t" en "t"

record Applicant {
  flag : bool?
}

input applicant : Applicant

rule early : bool
  source "s"
  in_force provisional from 2015-01-01 otherwise false
  = applicant.flag
)dalil");
  dsl::diagnostics diags;
  auto m = dsl::parse(sources, f, diags);
  REQUIRE(m.has_value());
  std::vector<dsl::ast::module> modules;
  modules.push_back(std::move(*m));
  auto program = dsl::check(sources, modules, diags);
  CHECK_FALSE(program.has_value());
  const std::string all = dsl::render_all(sources, diags);
  CHECK(all.find("E0001") != std::string::npos);
  CHECK(all.find("'provisional' follows the date it qualifies") != std::string::npos);
}
