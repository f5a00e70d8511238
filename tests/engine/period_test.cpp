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
      {"ramed", "2022-11-30", R"({"flag": false, "income": "5000.00"})", "\"vulnerable\"", true,
       {}},
      {"ramed", "2022-12-01", R"({})", "\"ineligible\"", false, {}},
      {"tadamon", "2022-11-30", R"({"flag": true})", "false", false, {}},
      {"tadamon", "2022-12-01", R"({"flag": true})", "true", true, {}},
      // not_encoded outside: undetermined with that reason, not "not in force".
      {"school", "2013-10-08", R"({})", "null", false, {"not encoded: before the circular"}},
      {"school", "2013-10-09", R"({})", "true", true, {}},
      // Without otherwise: undetermined, "not in force", as before.
      {"legacy", "2014-12-31", R"({"flag": true})", "null", false,
       {"m.legacy is not in force on 2014-12-31"}},
      // Readers decide with the otherwise value.
      {"covered", "2014-01-01", R"({})", "false", true, {}},
      {"covered", "2016-01-01", R"({"income": "100.00"})", "true", true, {}},
      {"schooled", "2013-01-01", R"({"flag": false})", "false", true, {}},
      {"schooled", "2013-01-01", R"({"flag": true})", "null", true,
       {"not encoded: before the circular"}},
  };
  for (const period_case& c : cases) {
    INFO(c.rule << " as of " << c.as_of << " on " << c.record);
    std::uint32_t r = *p.find_rule(std::string("m.") + c.rule);
    auto inst = eng::instantiate(pack->rules, *dalil::parse_date(c.as_of));
    eng::record_reader reader(p);
    eng::record rec;
    eng::record_error err;
    REQUIRE(reader.read(c.record, rec, err));
    eng::evaluator ev(inst);
    ev.set_record(rec);
    eng::decision d = eng::decide(ev, r);
    std::string value;
    eng::append_value_json(value, p, p.rules[r].t, d.v);
    CHECK(value == c.value);
    CHECK(d.decided == (std::string(c.value) != "null"));
    CHECK(d.in_force == c.in_force);
    CHECK(d.reasons == c.reasons);
    CHECK(d.missing.empty());
    if (!c.in_force) {
      CHECK(d.exception == -1);
      CHECK_FALSE(d.provisional);  // outside its period its confidence decides nothing
    }
    // The block evaluator gives the same value.
    eng::block_evaluator block(inst, {r});
    const eng::value* row = rec.facts.data();
    block.run(&row, 1);
    std::string block_value;
    eng::append_value_json(block_value, p, p.rules[r].t, block.get(r, 0));
    CHECK(static_cast<int>(block.get(r, 0).s) == static_cast<int>(d.v.s));
    CHECK(block_value == value);
    CHECK(block.fired_exception(r, 0) == d.exception);
    CHECK(block.provisional(r, 0) == d.provisional);
  }
}
