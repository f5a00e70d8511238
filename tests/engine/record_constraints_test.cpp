// Value constraints of the schema at the input boundary: `at_least` and `at_most` on int,
// decimal and money fields, `not_after as_of` on dates given the as-of date; exactly at a bound
// is accepted, one step past it is refused naming the field and the bound, never the value; the
// same through CSV rows and through `dalil test` records.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/csv.hpp"
#include "engine/record.hpp"
#include "engine/test_runner.hpp"
#include "tests/support/packs.hpp"

using namespace dalil;
using Catch::Matchers::Contains;

namespace {

const char* const schema = R"(module ops
  title fr "Essai" ar "تجربة" en "Test"

document civil_record title fr "état civil" ar "الحالة المدنية" en "civil record"

record Spouse {
  married_since : date proof civil_record not_after as_of
  monthly_income : money at_least 0 MAD
}

record Household {
  size : int at_least 1 at_most 40
  score : decimal at_least 0 at_most 9.3264284
  rent : money? at_least 0 MAD at_most 12345.67 MAD
  children : list Child
}

record Child {
  age : int at_least 0 at_most 17
}

record Applicant {
  id : text
  birth_date : date not_after as_of
  arrival_date : date
  debt : money at_most -0.01 MAD
  household : Household
  spouse : Spouse?
}

input applicant : Applicant

rule adult : bool
  source "test"
  = age(applicant.birth_date) >= 18

rule big : bool
  source "test"
  = applicant.household.size > 4 and applicant.household.score < 5
    and known(applicant.household.rent) and known(applicant.spouse.married_since)
    and applicant.spouse.monthly_income > 0 MAD and applicant.debt < 0 MAD
    and count(applicant.household.children) > 0
)";

const testing::loaded_pack& pack() {
  static const auto p = testing::load_pack_text(schema);
  return *p;
}

struct outcome {
  bool ok = false;
  engine::record_error error;
};

outcome read(const std::string& json, std::optional<date> as_of) {
  engine::record_reader reader(pack().rules->program());
  reader.set_as_of(as_of);
  engine::record rec;
  outcome o;
  o.ok = reader.read(json, rec, o.error);
  return o;
}

date day(const char* text) {
  return *parse_date(text);
}

}  // namespace

TEST_CASE("the checker carries constraints to fields and facts", "[engine][record][constraints]") {
  const dsl::program& p = pack().rules->program();
  auto household = std::find_if(p.records.begin(), p.records.end(),
                                [](const auto& r) { return r.name == "Household"; });
  REQUIRE(household != p.records.end());
  const dsl::record_info& h = *household;
  const dsl::field_info& size = h.fields[*h.field("size")];
  REQUIRE(size.constraint.at_least.has_value());
  CHECK(*size.constraint.at_least == rational{1, 1});
  CHECK(*size.constraint.at_most == rational{40, 1});
  const dsl::field_info& score = h.fields[*h.field("score")];
  CHECK(*score.constraint.at_most == *parse_decimal("9.3264284"));
  bool found = false;
  for (const dsl::fact_info& f : p.facts) {
    if (f.path == "spouse.married_since") {
      found = true;
      CHECK(f.constraint.not_after_as_of);
      REQUIRE(f.proof != dsl::no_index);
      CHECK(p.documents[f.proof].name == "civil_record");
    }
    if (f.path == "household.size") CHECK(f.constraint.at_least.has_value());
  }
  CHECK(found);
}

TEST_CASE("bounds: exactly at a bound is accepted, one step past is refused",
          "[engine][record][constraints]") {
  auto with = [](const std::string& household) {
    return R"({"id": "a1", "household": )" + household + "}";
  };
  struct accepted_case {
    const char* what;
    std::string json;
  };
  std::vector<accepted_case> accepted = {
      {"size at its lower bound", with(R"({"size": 1})")},
      {"size at its upper bound", with(R"({"size": 40})")},
      {"score at zero", with(R"({"score": 0})")},
      {"score exactly at its decimal upper bound", with(R"({"score": "9.3264284"})")},
      {"score at the bound written with more zeros", with(R"({"score": 9.32642840})")},
      {"rent at zero", with(R"({"rent": "0.00"})")},
      {"rent at its upper bound", with(R"({"rent": "12345.67"})")},
      {"rent null: a constraint bounds known values only", with(R"({"rent": null})")},
      {"a child at each bound", with(R"({"children": [{"age": 0}, {"age": 17}]})")},
      {"debt exactly at its negative upper bound", R"({"debt": "-0.01"})"},
      {"spouse income at zero", R"({"spouse": {"monthly_income": 0}})"},
      {"a field left out is unknown, never checked", R"({"id": "x"})"},
  };
  for (const auto& c : accepted) {
    INFO(c.what << ": " << c.json);
    outcome o = read(c.json, std::nullopt);
    CHECK(o.ok);
    INFO(o.error.field << ": " << o.error.message);
  }
  struct refused_case {
    const char* what;
    std::string json;
    const char* field;
    const char* bound;  // the bound the message names
    const char* value;  // the value's text, never in the message
  };
  std::vector<refused_case> refused = {
      {"size zero", with(R"({"size": 0})"), "household.size", "at_least 1", "0"},
      {"size negative", with(R"({"size": -73})"), "household.size", "at_least 1", "73"},
      {"size one past the top", with(R"({"size": 41})"), "household.size", "at_most 40", "41"},
      {"score one unit of the last place above", with(R"({"score": "9.3264285"})"),
       "household.score", "at_most 9.3264284", "9.3264285"},
      {"score negative", with(R"({"score": -0.5})"), "household.score", "at_least 0", "0.5"},
      {"rent one centime above", with(R"({"rent": "12345.68"})"), "household.rent",
       "at_most 12345.67 MAD", "12345.68"},
      {"rent one centime below zero", with(R"({"rent": "-0.01"})"), "household.rent",
       "at_least 0.00 MAD", "0.01"},
      {"a child too old, in a list", with(R"({"children": [{"age": 3}, {"age": 18}]})"),
       "household.children[1].age", "at_most 17", "18"},
      {"debt at zero", R"({"debt": "0.00"})", "debt", "at_most -0.01 MAD", "0.00"},
      {"spouse income negative", R"({"spouse": {"monthly_income": "-250.75"}})",
       "spouse.monthly_income", "at_least 0.00 MAD", "250.75"},
  };
  for (const auto& c : refused) {
    INFO(c.what << ": " << c.json);
    outcome o = read(c.json, std::nullopt);
    CHECK_FALSE(o.ok);
    CHECK(o.error.field == c.field);
    CHECK_THAT(o.error.message, Contains(c.bound));
    CHECK_THAT(o.error.message, !Contains(c.value));
  }
}

TEST_CASE("not_after as_of: the as-of date itself is accepted, the day after refused",
          "[engine][record][constraints]") {
  const date as_of = day("2016-03-01");
  CHECK(read(R"({"birth_date": "2016-03-01"})", as_of).ok);
  CHECK(read(R"({"birth_date": "1980-07-14"})", as_of).ok);
  outcome late = read(R"({"birth_date": "2016-03-02"})", as_of);
  CHECK_FALSE(late.ok);
  CHECK(late.error.field == "birth_date");
  CHECK_THAT(late.error.message, Contains("not_after as_of"));
  CHECK_THAT(late.error.message, Contains("2016-03-01"));
  CHECK_THAT(late.error.message, !Contains("2016-03-02"));
  // Nested: the spouse's date of marriage.
  outcome spouse = read(R"({"spouse": {"married_since": "2017-01-01"}})", as_of);
  CHECK_FALSE(spouse.ok);
  CHECK(spouse.error.field == "spouse.married_since");
  CHECK_THAT(spouse.error.message, !Contains("2017"));
  // A field without the constraint takes any date; without an as-of date nothing is compared.
  CHECK(read(R"({"arrival_date": "2030-01-01"})", as_of).ok);
  CHECK(read(R"({"birth_date": "2030-01-01"})", std::nullopt).ok);
  // The reader can be given another date, or none, between records.
  engine::record_reader reader(pack().rules->program());
  engine::record rec;
  engine::record_error err;
  reader.set_as_of(day("2029-12-31"));
  CHECK_FALSE(reader.read(R"({"birth_date": "2030-01-01"})", rec, err));
  reader.set_as_of(day("2030-01-01"));
  CHECK(reader.read(R"({"birth_date": "2030-01-01"})", rec, err));
  reader.set_as_of(std::nullopt);
  CHECK(reader.read(R"({"birth_date": "9999-12-31"})", rec, err));
}

TEST_CASE("utc_today is the current day", "[engine][record][constraints]") {
  date today = engine::utc_today();
  CHECK(today > day("2025-01-01"));
  CHECK(today < day("2200-01-01"));
}

TEST_CASE("CSV rows meet the same constraints", "[engine][record][constraints][csv]") {
  const dsl::program& p = pack().rules->program();
  std::vector<std::string> header = {"id", "household.size", "birth_date"};
  auto row = [&](const std::string& size, const std::string& birth) {
    std::string json;
    engine::csv_error cerr;
    REQUIRE(engine::csv_row_to_json(p, header, {"a1", size, birth}, json, cerr));
    return json;
  };
  const date as_of = day("2020-06-30");
  CHECK(read(row("1", "2020-06-30"), as_of).ok);
  outcome small = read(row("0", "2000-01-01"), as_of);
  CHECK_FALSE(small.ok);
  CHECK(small.error.field == "household.size");
  CHECK_THAT(small.error.message, Contains("at_least 1"));
  outcome future = read(row("3", "2020-07-01"), as_of);
  CHECK_FALSE(future.ok);
  CHECK(future.error.field == "birth_date");
}

TEST_CASE("dalil test: a given record that breaks a constraint fails the test",
          "[engine][record][constraints]") {
  std::string text = std::string(schema) + R"(
test "born after the as-of date"
  as_of 2016-03-01
  given { birth_date: "2016-03-02" }
  expect adult == false

test "born on the as-of date"
  as_of 2016-03-01
  given { birth_date: "2016-03-01" }
  expect adult == false

test "household of zero"
  as_of 2016-03-01
  given { household: { size: 0 } }
  expect adult undetermined
)";
  auto l = testing::load_pack_text(text);
  engine::test_report report = engine::run_tests(l->rules, "", false);
  REQUIRE(report.outcomes.size() == 3);
  CHECK_FALSE(report.outcomes[0].passed);
  REQUIRE(report.outcomes[0].failures.size() == 1);
  CHECK_THAT(report.outcomes[0].failures[0], Contains("birth_date"));
  CHECK_THAT(report.outcomes[0].failures[0], Contains("not_after as_of"));
  CHECK(report.outcomes[1].passed);
  CHECK_FALSE(report.outcomes[2].passed);
  CHECK_THAT(report.outcomes[2].failures[0], Contains("household.size"));
  CHECK_THAT(report.outcomes[2].failures[0], Contains("at_least 1"));
}
