// "Provisional, precisely": a decision is provisional when a rule, parameter or exception that
// decided its value is, along the deciding path (docs/language.md). Each case names the path it
// pins down; every case is checked on both evaluators (record at a time, and by columns), and in
// the decision that `decide()` gives.
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

/// Decides `rule` for the record `json` at `as_of` with both evaluators and checks that they
/// agree on the value and on the flag; returns the decision.
eng::decision decide_both(const std::shared_ptr<const eng::ruleset>& rules, const std::string& rule,
                          const std::string& json, const std::string& as_of = "2024-01-01") {
  const dsl::program& p = rules->program();
  std::optional<std::uint32_t> r = p.find_rule("m." + rule);
  INFO("rule m." << rule);
  REQUIRE(r.has_value());
  auto inst = eng::instantiate(rules, *dalil::parse_date(as_of));
  eng::record_reader reader(p);
  eng::record rec;
  eng::record_error err;
  INFO("record " << json);
  REQUIRE(reader.read(json, rec, err));
  eng::evaluator ev(inst);
  ev.set_record(rec);
  eng::decision d = eng::decide(ev, *r);
  eng::block_evaluator block(inst, {*r});
  const eng::value* row = rec.facts.data();
  block.run(&row, 1);
  eng::value bv = block.get(*r, 0);
  CHECK(static_cast<int>(bv.s) == static_cast<int>(d.v.s));
  CHECK(block.provisional(*r, 0) == d.provisional);
  // A fresh evaluator asked only for the flag gives it too (it evaluates what it needs).
  eng::evaluator fresh(inst);
  fresh.set_record(rec);
  CHECK(fresh.provisional(*r) == d.provisional);
  return d;
}

const char* const pack_text = R"dalil(module m
  title fr "t" ar "t" en "t"

enum Status { regular, refugee, stateless, irregular }

record Applicant {
  status : Status?
  regularized_in : int?
  flag : bool?
  other : bool?
  income : money?
  kind : int?
}

input applicant : Applicant

parameter ceiling : money
  source "s"
  confidence provisional
  from 2010-01-01 = 3000 MAD

parameter floor_amount : money
  source "s"
  from 2010-01-01 = 100 MAD

rule exempt_status : bool
  source "arrêtés (verified)"
  = applicant.status in [refugee, stateless]

rule regularized_2014 : bool
  source "COMCEC study (instrument not found)"
  confidence provisional
  = applicant.regularized_in == 2014

rule exempt : bool
  source "s"
  = any [exempt_status, regularized_2014]

rule exempt_provisional_first : bool
  source "s"
  = regularized_2014 or exempt_status

rule both : bool
  source "s"
  = exempt_status and regularized_2014

rule negated : bool
  source "s"
  = not regularized_2014

rule under_ceiling : bool
  source "s"
  = applicant.income <= ceiling

rule chosen : money
  source "s"
  = if applicant.flag then ceiling else floor_amount

rule tier_first : int
  source "s"
  = table first
    | applicant.flag   => 1
    | regularized_2014 => 2
    | otherwise        => 3

rule tier_unique : int
  source "s"
  = table unique
    | applicant.kind == 1                          => 1
    | applicant.kind == 2 and regularized_2014     => 2
    | applicant.kind == 2 and not regularized_2014 => 3
    | otherwise                                    => 4

rule relieved : bool
  source "s"
  = exempt_status
  exception provisional_relief
    source "s"
    confidence provisional
    when applicant.flag
    = true
  exception verified_relief
    source "s"
    when applicant.other
    = true

rule own_confidence : bool
  source "s"
  confidence provisional
  = applicant.flag

rule reads_own : bool
  source "s"
  = own_confidence or exempt_status

rule old_programme : bool
  source "s"
  confidence provisional
  in_force from 2010-01-01 until 2015-12-31
  = applicant.flag
)dalil";

struct flag_case {
  const char* rule;
  const char* record;
  const char* value;  // JSON of the value, "null" when undetermined
  bool provisional;
  const char* why;
};

}  // namespace

TEST_CASE("provisional follows the path that decided the value", "[engine][provisional]") {
  auto pack = dalil::testing::load_pack_text(pack_text);
  const flag_case cases[] = {
      // The contract's example: a refugee is exempt under the verified arrêtés, whatever the
      // provisional 2014 path says; exempt through 2014 alone, the decision is provisional.
      {"exempt", R"({"status": "refugee", "regularized_in": null})", "true", false,
       "true through the verified operand only"},
      {"exempt", R"({"status": "irregular", "regularized_in": 2014})", "true", true,
       "true through the provisional operand only"},
      {"exempt", R"({"status": "refugee", "regularized_in": 2014})", "true", false,
       "two true operands, one verified"},
      {"exempt", R"({"status": "irregular", "regularized_in": 2016})", "false", true,
       "false: every operand decided it"},
      {"exempt", R"({"regularized_in": 2016})", "null", true,
       "undetermined, having read a provisional rule"},
      {"exempt", R"({"status": "irregular"})", "null", true,
       "undetermined on the provisional operand"},
      // Lazy evaluation stops at the first true operand: the walk looks further.
      {"exempt_provisional_first", R"({"status": "refugee", "regularized_in": 2014})", "true",
       false, "a later true operand is verified"},
      {"exempt_provisional_first", R"({"status": "regular", "regularized_in": 2014})", "true", true,
       "the only true operand is provisional"},
      // and: dual of or.
      {"both", R"({"status": "regular", "regularized_in": 2014})", "false", false,
       "false through the verified operand"},
      {"both", R"({"status": "refugee", "regularized_in": 2016})", "false", true,
       "false through the provisional operand"},
      {"both", R"({"status": "refugee", "regularized_in": 2014})", "true", true,
       "true: every operand decided it"},
      {"negated", R"({"regularized_in": 2014})", "false", true, "not: its operand"},
      // Comparisons read every operand: a provisional parameter makes them provisional.
      {"under_ceiling", R"({"income": "2000.00"})", "true", true, "compared with ceiling"},
      {"under_ceiling", R"({})", "null", true, "undetermined, having read ceiling"},
      // if: the condition and the branch taken.
      {"chosen", R"({"flag": true})", "\"3000.00\"", true, "the branch with ceiling"},
      {"chosen", R"({"flag": false})", "\"100.00\"", false, "the verified branch"},
      {"chosen", R"({})", "null", true, "unknown condition: both branches read"},
      // table first: the conditions up to the matching row, and its value.
      {"tier_first", R"({"flag": true, "regularized_in": 2014})", "1", false,
       "the first row matches before the provisional condition"},
      {"tier_first", R"({"flag": false, "regularized_in": 2014})", "2", true,
       "the provisional row matches"},
      {"tier_first", R"({"flag": false, "regularized_in": 2016})", "3", true,
       "otherwise, after the provisional condition"},
      // table unique: every condition, and the matching value. The rows the checker proves
      // disjoint from the matching one fail through what proves it (kind == 2, verified).
      {"tier_unique", R"({"kind": 1, "regularized_in": 2014})", "1", false,
       "later conditions fail on a verified comparison"},
      {"tier_unique", R"({"kind": 5, "regularized_in": 2014})", "4", false,
       "every condition fails on a verified comparison"},
      {"tier_unique", R"({"kind": 2, "regularized_in": 2014})", "2", true,
       "the matching condition is true through a provisional rule"},
      {"tier_unique", R"({"kind": 2, "regularized_in": 2016})", "3", true,
       "an earlier condition fails through a provisional rule only"},
      {"tier_unique", R"({"kind": 2})", "null", true, "undetermined on a provisional rule"},
      // Exceptions: a fired exception's confidence, its condition and value; else the
      // conditions and the body.
      {"relieved", R"({"flag": true, "status": "refugee"})", "true", true,
       "the provisional exception fired"},
      {"relieved", R"({"flag": false, "other": true, "status": "irregular"})", "true", false,
       "the verified exception fired"},
      {"relieved", R"({"other": true, "status": "irregular"})", "true", true,
       "the provisional exception might have fired (same value)"},
      {"relieved", R"({"flag": false, "other": false, "status": "refugee"})", "true", false,
       "no exception: the verified body"},
      // A rule of provisional confidence is provisional whatever its value; so is a rule on
      // the path that reads it, but not one that decides without it.
      {"own_confidence", R"({"flag": false})", "false", true, "its own confidence"},
      {"reads_own", R"({"flag": true, "status": "irregular"})", "true", true,
       "true through the provisional rule"},
      {"reads_own", R"({"flag": true, "status": "refugee"})", "true", false,
       "true through the verified rule as well"},
      // Outside its period, a rule's body decides nothing: its confidence does not count.
      {"old_programme", R"({"flag": true})", "null", false, "not in force: nothing read"},
  };
  for (const flag_case& c : cases) {
    INFO(c.rule << " on " << c.record << ": " << c.why);
    eng::decision d = decide_both(pack->rules, c.rule, c.record);
    std::string value;
    eng::append_value_json(value, pack->rules->program(), pack->rules->program().rules[d.rule].t,
                           d.v);
    CHECK(value == c.value);
    CHECK(d.decided == (std::string(c.value) != "null"));
    CHECK(d.provisional == c.provisional);
  }
}

TEST_CASE("provisional in the decision JSON is the path's, not the closure's",
          "[engine][provisional]") {
  auto pack = dalil::testing::load_pack_text(pack_text);
  const dsl::program& p = pack->rules->program();
  // The closure of m.exempt holds a provisional rule, whatever the record.
  REQUIRE(p.rules[*p.find_rule("m.exempt")].provisional);
  auto inst = eng::instantiate(pack->rules, *dalil::parse_date("2024-01-01"));
  eng::record_reader reader(p);
  eng::record rec;
  eng::record_error err;
  REQUIRE(reader.read(R"({"status": "refugee", "regularized_in": null})", rec, err));
  eng::evaluator ev(inst);
  ev.set_record(rec);
  eng::decision d = eng::decide(ev, *p.find_rule("m.exempt"));
  std::string json;
  eng::append_decision_json(json, ev, d, false);
  CHECK_THAT(json, Catch::Matchers::Contains(R"("provisional":false)"));
  // The explanation carries no provisional notice either.
  CHECK_THAT(eng::explain(ev, d, "en"), !Catch::Matchers::Contains("provisional"));
}
