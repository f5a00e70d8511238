// The renderer resolves a rule's explanation template once per ruleset (a cache keyed by the
// ruleset's identity, engine/decision.cpp): two rulesets with the same rule names and other
// templates, rendered in turn on one thread, and a ruleset freed then replaced, each read their
// own texts, never another's.
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "tests/support/packs.hpp"

namespace eng = dalil::engine;

namespace {

std::string pack_text(const std::string& fr, const std::string& limit) {
  return R"dalil(module m
  title fr "Essai" ar "تجربة" en "Test"

record Applicant {
  id : text
  income : money
}

input applicant : Applicant

parameter ceiling : money
  source "Circulaire"
  from 2020-01-01 = )dalil" +
         limit + R"dalil( MAD

rule eligible : bool
  source "Circulaire"
  explain fr ")dalil" +
         fr + R"dalil(" ar "مؤهل: {value}" en "Eligible: {value}"
  = applicant.income <= ceiling
)dalil";
}

std::string explanation(const std::shared_ptr<const eng::ruleset>& rules) {
  const dalil::dsl::program& p = rules->program();
  auto day = dalil::parse_date("2024-06-01");
  REQUIRE(day.has_value());
  eng::record_reader reader(p);
  eng::record rec;
  eng::record_error err;
  REQUIRE(reader.read(R"({"id": "x", "income": "2500.00"})", rec, err));
  eng::evaluator ev(eng::instantiate(rules, *day));
  ev.set_record(rec);
  auto r = p.find_rule("m.eligible");
  REQUIRE(r.has_value());
  return eng::explain(ev, eng::decide(ev, *r), eng::lang::fr);
}

}  // namespace

TEST_CASE("render index: each ruleset renders its own templates", "[engine][render]") {
  auto a = dalil::testing::load_pack_text(pack_text("A : {value}, plafond {ceiling}", "3000"));
  auto b = dalil::testing::load_pack_text(pack_text("B : {value} sous {ceiling}", "2000"));
  for (int round = 0; round < 2; ++round) {
    CHECK(explanation(a->rules) == "A : oui, plafond 3\u202F000,00 MAD");
    CHECK(explanation(b->rules) == "B : non sous 2\u202F000,00 MAD");
  }
  // A ruleset freed, then another built (perhaps at the same address): its own texts.
  a.reset();
  auto c = dalil::testing::load_pack_text(pack_text("C : {value} ({ceiling})", "4000"));
  CHECK(explanation(c->rules) == "C : oui (4\u202F000,00 MAD)");
  CHECK(explanation(b->rules) == "B : non sous 2\u202F000,00 MAD");
}
