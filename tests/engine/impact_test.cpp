// engine::run_impact over an in-memory cohort (no store): the transition tables, the categories,
// the why of hand-made applicants (a moved parameter, a rewritten condition, a decision that
// becomes undetermined), the order of the flips across blocks, chunks and threads, and the
// pseudonyms (HMAC-SHA-256, RFC 4231 test case 1).
#include "engine/impact.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/packs.hpp"

namespace eng = dalil::engine;

namespace {

std::string pack(const char* ceiling, const char* age) {
  return std::string(R"dalil(module m
  title fr "t" ar "t" en "t"
  program "Programme"
  osp "OSP 1"

enum Category { poor, vulnerable }

record Applicant {
  income : money?
  age : int?
}

input applicant : Applicant

parameter ceiling : money
  source "s"
  from 2000-01-01 = )dalil") +
         ceiling + R"dalil( MAD

rule low_income : bool
  source "s"
  = applicant.income < ceiling

rule adult : bool
  source "s"
  = applicant.age >= )dalil" +
         age + R"dalil(

rule eligible : bool
  source "s"
  explain fr "e" ar "e" en "e"
  = low_income and adult

rule category : Category
  source "s"
  explain fr "c" ar "c" en "c"
  = if low_income then poor else vulnerable
)dalil";
}

class vector_source final : public eng::cohort_source {
 public:
  explicit vector_source(std::vector<eng::cohort_row> rows) : rows_(std::move(rows)) {}
  bool next(std::size_t limit, std::vector<eng::cohort_row>& out) override {
    out.clear();
    while (at_ < rows_.size() && out.size() < limit) out.push_back(rows_[at_++]);
    return true;
  }

 private:
  std::vector<eng::cohort_row> rows_;
  std::size_t at_ = 0;
};

struct collecting_sink final : eng::impact_sink {
  std::vector<eng::impact_flip> flips;
  bool flip(const eng::impact_flip& f) override {
    flips.push_back(f);
    return true;
  }
};

// The hand-made applicants, and what the revision (ceiling 1000 → 1500 MAD, adult 18 → 21) does.
const std::vector<std::string> records = {
    R"({"income":"1200.00","age":30})",  // a: low_income false → true
    R"({"income":"500.00","age":19})",   // b: adult true → false
    R"({"income":"500.00"})",            // c: undetermined in both
    R"({"age":30})",                     // d: undetermined in both
    R"({"income":"1200.00"})",           // e: false → undetermined
    R"({"income":"2000.00","age":40})",  // f: unchanged
};

/// The flips of `rows` from the pack `before` to `after` (texts).
std::vector<eng::impact_flip> flips_of(const std::string& before, const std::string& after,
                                       std::vector<eng::cohort_row> rows,
                                       const eng::impact_options& o) {
  auto old_pack = dalil::testing::load_pack_text(before);
  auto new_pack = dalil::testing::load_pack_text(after);
  vector_source source(std::move(rows));
  collecting_sink sink;
  eng::impact_summary s;
  REQUIRE(eng::run_impact(old_pack->rules, new_pack->rules, source, sink, o, s) ==
          eng::impact_status::done);
  return sink.flips;
}

std::map<std::string, std::int64_t> table(const eng::decision_impact& d) {
  std::map<std::string, std::int64_t> out;
  for (const auto& t : d.transitions) {
    out[t.from + " > " + t.to +
        (t.category ? " " + std::string(eng::category_id(*t.category)) : "")] += t.count;
  }
  return out;
}

}  // namespace

TEST_CASE("impact: transitions, categories and the why of hand-made applicants", "[impact]") {
  auto before = dalil::testing::load_pack_text(pack("1000", "18"));
  auto after = dalil::testing::load_pack_text(pack("1500", "21"));
  const int copies = GENERATE(1, 700);  // 700 × 6 rows: several blocks, chunks and threads
  std::vector<eng::cohort_row> rows;
  for (int k = 0; k < copies; ++k) {
    for (std::size_t i = 0; i < records.size(); ++i) {
      rows.push_back({std::string(1, static_cast<char>('a' + i)) + std::to_string(k), records[i]});
    }
  }
  vector_source source(rows);
  collecting_sink sink;
  eng::impact_options o;
  o.as_of = *dalil::parse_date("2024-01-01");
  o.threads = 3;
  o.chunk = 1000;
  eng::impact_summary s;
  REQUIRE(eng::run_impact(before->rules, after->rules, source, sink, o, s) ==
          eng::impact_status::done);
  const std::int64_t n = copies;
  CHECK(s.records == 6 * n);
  CHECK(s.compared == 6 * n);
  CHECK(s.applicants_flipped == 3 * n);  // a, b, e
  CHECK(s.flips == 5 * n);               // a and e twice (eligible, category), b once
  REQUIRE(s.decisions.size() == 2);
  CHECK(s.decisions[0].name == "m.eligible");
  CHECK(s.decisions[0].program == "Programme");
  CHECK(s.decisions[0].osp == "OSP 1");
  CHECK(table(s.decisions[0]) == std::map<std::string, std::int64_t>{
                                     {"false > true false_to_true", n},
                                     {"true > false true_to_false", n},
                                     {"undetermined > undetermined", 2 * n},
                                     {"false > undetermined decided_to_undetermined", n},
                                     {"false > false", n},
                                 });
  CHECK(table(s.decisions[1]) == std::map<std::string, std::int64_t>{
                                     {"\"vulnerable\" > \"poor\" value_change", 2 * n},  // a, e
                                     {"\"poor\" > \"poor\"", 2 * n},                     // b, c
                                     {"undetermined > undetermined", n},                 // d
                                     {"\"vulnerable\" > \"vulnerable\"", n},             // f
                                 });
  REQUIRE(sink.flips.size() == static_cast<std::size_t>(5 * n));
  // In the cohort's order, whatever thread evaluated which block.
  for (int k = 0; k < copies; k += 97) {
    const auto* f = &sink.flips[static_cast<std::size_t>(5 * k)];
    std::string suffix = std::to_string(k);
    CHECK(f[0].applicant_id == "a" + suffix);
    CHECK(f[1].applicant_id == "a" + suffix);
    CHECK(f[2].applicant_id == "b" + suffix);
    CHECK(f[3].applicant_id == "e" + suffix);
    CHECK(f[4].applicant_id == "e" + suffix);
  }
  const eng::impact_flip& a = sink.flips[0];
  CHECK(a.decision == 0);
  CHECK(a.category == eng::flip_category::false_to_true);
  CHECK(a.why_rule == "m.low_income");
  CHECK_THAT(a.why_before, Catch::Matchers::Contains(R"("value":"1000.00")"));
  CHECK_THAT(a.why_after, Catch::Matchers::Contains(R"("value":"1500.00")"));
  CHECK_THAT(a.why_before, Catch::Matchers::Contains(R"({"path":"income","value":"1200.00"})"));
  const eng::impact_flip& a2 = sink.flips[1];
  CHECK(a2.decision == 1);
  CHECK(a2.category == eng::flip_category::value_change);
  CHECK(a2.before.value == "\"vulnerable\"");
  CHECK(a2.after.value == "\"poor\"");
  CHECK(a2.why_rule == "m.low_income");
  // b: the condition of `adult` was rewritten: the first rule that differs is adult itself.
  const eng::impact_flip& b = sink.flips[2];
  CHECK(b.category == eng::flip_category::true_to_false);
  CHECK(b.why_rule == "m.adult");
  CHECK_THAT(b.why_before, Catch::Matchers::Contains(R"("value":true)"));
  CHECK_THAT(b.why_after, Catch::Matchers::Contains(R"("value":false)"));
  // e: undetermined under the new version: low_income is what changed, not the missing age.
  const eng::impact_flip& e = sink.flips[3];
  CHECK(e.category == eng::flip_category::decided_to_undetermined);
  CHECK_FALSE(e.after.decided);
  CHECK(e.why_rule == "m.low_income");
  CHECK(s.decisions[0].why ==
        std::vector<std::pair<std::string, std::int64_t>>{{"m.low_income", 2 * n}, {"m.adult", n}});
}

TEST_CASE("impact: a revision that changes nothing has no flip", "[impact]") {
  auto p = dalil::testing::load_pack_text(pack("1000", "18"));
  std::vector<eng::cohort_row> rows;
  for (std::size_t i = 0; i < records.size(); ++i) rows.push_back({std::to_string(i), records[i]});
  rows.push_back({"bad", R"({"income":"not money"})"});  // fits neither schema: counted
  vector_source source(rows);
  collecting_sink sink;
  eng::impact_options o;
  o.as_of = *dalil::parse_date("2024-01-01");
  eng::impact_summary s;
  REQUIRE(eng::run_impact(p->rules, p->rules, source, sink, o, s) == eng::impact_status::done);
  CHECK(s.records == 7);
  CHECK(s.compared == 6);
  CHECK(s.unreadable_old == 1);
  CHECK(s.unreadable_new == 1);
  CHECK(s.flips == 0);
  CHECK(sink.flips.empty());
}

TEST_CASE("impact: pseudonyms are HMAC-SHA-256 under the report's key", "[impact]") {
  eng::pseudonym_key key{};
  for (std::size_t i = 0; i < 20; ++i) key[i] = 0x0b;  // RFC 4231, test case 1 (zero-padded)
  CHECK(eng::pseudonym(key, "Hi There") == "b0344c61d8db3853");
  eng::pseudonym_key other = key;
  other[31] = 1;
  CHECK(eng::pseudonym(other, "Hi There") != eng::pseudonym(key, "Hi There"));
  CHECK(eng::pseudonym(key, "SYN-000001").size() == 16);
}

TEST_CASE("impact: categories only (an adviser's flips) leave out the record's own values",
          "[impact]") {
  // The hand-made pack (eligible, a yes or no; category, an enumeration) and one with an amount
  // computed from the record, explained by a rule of the pack's alone.
  const std::string amounts = R"dalil(module m
  title fr "t" ar "t" en "t"

record Applicant {
  income : money?
}

input applicant : Applicant

parameter ceiling : money
  source "s"
  from 2000-01-01 = )dalil";
  const auto amount_pack = [&](const char* ceiling) {
    return amounts + ceiling + R"dalil( MAD

rule top : money
  source "s"
  = ceiling

rule allowance : money
  source "s"
  explain fr "a" ar "a" en "a"
  = if applicant.income < top then top - applicant.income else 0 MAD
)dalil";
  };
  for (bool categories_only : {false, true}) {
    INFO((categories_only ? "categories only" : "every value"));
    eng::impact_options o;
    o.as_of = *dalil::parse_date("2024-01-01");
    o.categories_only = categories_only;
    {
      const auto flips = flips_of(pack("1000", "18"), pack("1500", "21"),
                                  {{"a", records[0]}, {"b", records[1]}}, o);
      REQUIRE(flips.size() == 3);
      const eng::impact_flip& a = flips[0];
      // The parameter and the rule's yes or no are kept; the income read is left out.
      CHECK_THAT(a.why_before, Catch::Matchers::Contains(R"("value":"1000.00")"));
      CHECK_THAT(a.why_before,
                 Catch::Matchers::Contains(R"({"rule":"m.low_income","value":false)"));
      CHECK(a.before.value == "false");
      const eng::impact_flip& a2 = flips[1];
      CHECK(a2.after.value == "\"poor\"");  // an enumeration's case: kept
      const eng::impact_flip& b = flips[2];
      if (categories_only) {
        CHECK_THAT(a.why_before, Catch::Matchers::Contains(R"({"path":"income"})"));
        CHECK_THAT(a.why_before, !Catch::Matchers::Contains("1200"));
        CHECK_THAT(b.why_before, Catch::Matchers::Contains(R"({"path":"age"})"));
        CHECK_THAT(b.why_before, !Catch::Matchers::Contains("19"));
      } else {
        CHECK_THAT(a.why_before,
                   Catch::Matchers::Contains(R"({"path":"income","value":"1200.00"})"));
        CHECK_THAT(b.why_before, Catch::Matchers::Contains(R"({"path":"age","value":19})"));
      }
    }
    {
      const auto flips =
          flips_of(amount_pack("1000"), amount_pack("1500"), {{"a", R"({"income":"1200.00"})"}}, o);
      REQUIRE(flips.size() == 1);
      const eng::impact_flip& f = flips[0];
      CHECK(f.category == eng::flip_category::value_change);
      CHECK(f.why_rule == "m.top");
      // The pack's own amount (read from the parameter alone) is kept either way…
      CHECK_THAT(f.why_before, Catch::Matchers::Contains(R"({"rule":"m.top","value":"1000.00")"));
      CHECK_THAT(f.why_after, Catch::Matchers::Contains(R"({"rule":"m.top","value":"1500.00")"));
      // …the allowance computed from the income only with every value.
      CHECK(f.before.value == (categories_only ? "" : "\"0.00\""));
      CHECK(f.after.value == (categories_only ? "" : "\"300.00\""));
    }
  }
}
