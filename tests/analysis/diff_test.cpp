// Differential tests of `dalil diff` (analysis/diff.hpp): the shipped pack is copied and mutated
// (a threshold, a date, a table row, an `and` into `or`, an exception); the diff must find a
// witness, and the witness must reproduce here, through the ordinary evaluator. Equivalent
// rewrites must be proved the same, and the pack against itself is all `same`.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "analysis/diff.hpp"
#include "cli/pack.hpp"
#include "engine/evaluator.hpp"
#include "engine/logic.hpp"
#include "engine/record.hpp"

namespace fs = std::filesystem;
namespace an = dalil::analysis;
namespace eng = dalil::engine;

namespace {

/// The shipped pack.
fs::path shipped() {
  return fs::path(DALIL_SOURCE_DIR) / "rules";
}

/// A copy of the shipped pack in which `file` has its first `from` replaced by `to`.
struct mutated_pack {
  fs::path dir;
  mutated_pack(const std::string& file, const std::string& from, const std::string& to) {
    static int counter = 0;
    dir = fs::temp_directory_path() /
          ("dalil-diff-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::copy(shipped(), dir, fs::copy_options::recursive);
    fs::path f = dir / file;
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    std::size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    std::ofstream(f, std::ios::trunc) << text;
  }
  mutated_pack(const mutated_pack&) = delete;
  mutated_pack& operator=(const mutated_pack&) = delete;
  ~mutated_pack() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

std::shared_ptr<const eng::ruleset> load(const fs::path& dir) {
  auto pack = dalil::cli::load_pack(dir.string());
  REQUIRE(pack);
  return pack->rules;
}

/// The rule's value and whether it was in force, by the evaluator alone.
std::pair<eng::value, bool> evaluate(const std::shared_ptr<const eng::ruleset>& rules,
                                     const std::string& rule, dalil::date as_of,
                                     const std::string& json, eng::record& rec) {
  const auto& p = rules->program();
  auto r = p.find_rule(rule);
  REQUIRE(r);
  eng::record_reader reader(p);
  reader.set_as_of(as_of);
  eng::record_error err;
  INFO(err.field << ": " << err.message);
  REQUIRE(reader.read(json, rec, err));
  auto inst = eng::instantiate(rules, as_of);
  eng::evaluator ev(inst);
  ev.set_record(rec);
  return {ev.rule(*r), inst->in_force[*r] != 0};
}

bool same_outcome(const std::pair<eng::value, bool>& a, const std::pair<eng::value, bool>& b) {
  using namespace eng::logic;
  truth sa = state_of(a.first);
  truth sb = state_of(b.first);
  return a.second == b.second &&
         same(sa, sb, sa == K && sb == K && eng::equal_values(a.first, b.first));
}

const an::decision_diff* find(const an::diff_result& r, const std::string& name) {
  auto it = std::find_if(r.decisions.begin(), r.decisions.end(),
                         [&](const an::decision_diff& d) { return d.decision == name; });
  return it == r.decisions.end() ? nullptr : &*it;
}

/// The diff of the shipped pack against a mutation must find `decision` different, with a
/// witness that reproduces here.
void expect_witness(const mutated_pack& m, const std::string& decision) {
  auto old_rules = load(shipped());
  auto new_rules = load(m.dir);
  an::diff_options opt;
  an::diff_result r = an::diff(old_rules, new_rules, opt);
  const an::decision_diff* d = find(r, decision);
  REQUIRE(d != nullptr);
  INFO(d->reason);
  REQUIRE(d->v == an::verdict::different);
  REQUIRE(d->as_of);
  INFO("witness " << d->record << " as of " << dalil::to_string(*d->as_of));
  eng::record a;
  eng::record b;
  auto before = evaluate(old_rules, decision, *d->as_of, d->record, a);
  auto after = evaluate(new_rules, decision, *d->as_of, d->record, b);
  CHECK_FALSE(same_outcome(before, after));
  CHECK_FALSE(r.changes.empty());
  CHECK_FALSE(r.all_same());
}

void expect_same(const mutated_pack& m, const std::string& decision) {
  an::diff_result r = an::diff(load(shipped()), load(m.dir), an::diff_options{});
  const an::decision_diff* d = find(r, decision);
  REQUIRE(d != nullptr);
  INFO(d->reason);
  CHECK(d->v == an::verdict::same);
  CHECK(d->why == an::ground::proof_all);
}

}  // namespace

TEST_CASE("diff: a moved threshold has a witness that reproduces", "[diff]") {
  mutated_pack m("housing.dalil", "from 2013-01-01 = 20000 MAD", "from 2013-01-01 = 20500 MAD");
  expect_witness(m, "housing.middle_class");
  // The parameter's dated value is listed old → new, from when.
  an::diff_result r = an::diff(load(shipped()), load(m.dir), an::diff_options{});
  auto it = std::find_if(r.changes.begin(), r.changes.end(), [](const an::change& c) {
    return c.kind == "parameter" && c.name == "housing.middle_class_income_ceiling";
  });
  REQUIRE(it != r.changes.end());
  CHECK(it->from == "2013-01-01");
  CHECK(it->old_value == "20000.00");
  CHECK(it->new_value == "20500.00");
}

TEST_CASE("diff: a moved date in force has a witness in the month it moved", "[diff]") {
  mutated_pack m("housing.dalil", "in_force from 2015-01-01 otherwise false",
                 "in_force from 2015-02-01 otherwise false");
  expect_witness(m, "housing.social_250k");
  an::diff_result r = an::diff(load(shipped()), load(m.dir), an::diff_options{});
  const an::decision_diff* d = find(r, "housing.social_250k");
  REQUIRE(d != nullptr);
  REQUIRE(d->as_of);
  CHECK(*d->as_of >= *dalil::parse_date("2015-01-01"));
  CHECK(*d->as_of <= *dalil::parse_date("2015-01-31"));
}

TEST_CASE("diff: a changed table row has a witness", "[diff]") {
  mutated_pack m("housing.dalil",
                 "applicant.housing.price <= direct_aid_low_price_ceiling  => aid_70k",
                 "applicant.housing.price <= direct_aid_low_price_ceiling  => aid_100k");
  expect_witness(m, "housing.direct_aid_2024");
}

TEST_CASE("diff: `and` turned into `or` has a witness", "[diff]") {
  mutated_pack m("housing.dalil", "= status.lawful_stay and not_an_owner\n",
                 "= status.lawful_stay or not_an_owner\n");
  expect_witness(m, "housing.social_250k");
}

TEST_CASE("diff: a changed exception has a witness", "[diff]") {
  mutated_pack m("regularization_2014.dalil",
                 "when filed_in_window and (applicant.sex == female or minor_at_filing)",
                 "when filed_in_window and applicant.sex == female");
  expect_witness(m, "regularization_2014.eligible");
}

TEST_CASE("diff: `a and b` rewritten `b and a` is proved the same", "[diff]") {
  mutated_pack m("housing.dalil", "= status.lawful_stay and not_an_owner\n",
                 "= not_an_owner and status.lawful_stay\n");
  expect_same(m, "housing.social_250k");
}

TEST_CASE("diff: `x < 18` rewritten `not (x >= 18)` is proved the same", "[diff]") {
  // Equivalent only because the birth date cannot be null (null < 18 is false, not (null >= 18)
  // true): the proof rests on the schema.
  mutated_pack m("education.dalil", "= age(applicant.birth_date) < 18",
                 "= not (age(applicant.birth_date) >= 18)");
  expect_same(m, "education.school_access");
}

TEST_CASE("diff: the shipped pack against itself is all the same", "[diff]") {
  auto rules = load(shipped());
  auto start = std::chrono::steady_clock::now();
  an::diff_result r = an::diff(rules, load(shipped()), an::diff_options{});
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  CHECK(r.changes.empty());
  REQUIRE_FALSE(r.decisions.empty());
  for (const an::decision_diff& d : r.decisions) {
    INFO(d.decision << ": " << d.reason);
    CHECK(d.v == an::verdict::same);
  }
  CHECK(r.all_same());
  WARN("diff of the pack against itself: " << ms << " ms");
}

namespace {

/// A one-file pack under a fresh directory.
struct small_pack {
  fs::path dir;
  explicit small_pack(const std::string& text) {
    static int counter = 0;
    dir = fs::temp_directory_path() /
          ("dalil-diff-small-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "pack.dalil") << text;
  }
  small_pack(const small_pack&) = delete;
  small_pack& operator=(const small_pack&) = delete;
  ~small_pack() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

std::string list_pack(const std::string& age) {
  return "module family\n"
         "  title fr \"Famille\"\n"
         "        ar \"الأسرة\"\n"
         "        en \"Family\"\n\n"
         "record Child {\n"
         "  birth_date : date\n"
         "}\n\n"
         "record Applicant {\n"
         "  children : list Child\n"
         "}\n\n"
         "input applicant : Applicant\n\n"
         "rule has_minor_child : bool\n"
         "  source \"Code de la famille\"\n"
         "  explain en \"Minor child: {value}\"\n"
         "  = any c in applicant.children : age(c.birth_date) < " +
         age + "\n";
}

}  // namespace

TEST_CASE("diff: a decision over a list is unknown, the construct named, never guessed", "[diff]") {
  small_pack a(list_pack("18"));
  small_pack b(list_pack("17"));
  an::diff_result r = an::diff(load(a.dir), load(b.dir), an::diff_options{});
  REQUIRE(r.decisions.size() == 1);
  const an::decision_diff& d = r.decisions[0];
  INFO(d.reason);
  CHECK(d.v == an::verdict::unknown);
  CHECK(d.why == an::ground::encoding);
  CHECK(d.detail.find("list") != std::string::npos);
  CHECK_FALSE(r.all_same());
}

TEST_CASE("diff: --as-of restricts the proof to one date", "[diff]") {
  // The moved ceiling (from 2013) changes nothing on 2012-06-01, and something on 2016-01-01.
  mutated_pack m("housing.dalil", "from 2013-01-01 = 20000 MAD", "from 2013-01-01 = 20500 MAD");
  auto old_rules = load(shipped());
  auto new_rules = load(m.dir);
  an::diff_options before;
  before.as_of = dalil::parse_date("2012-06-01");
  an::diff_result r1 = an::diff(old_rules, new_rules, before);
  const an::decision_diff* d1 = find(r1, "housing.middle_class");
  REQUIRE(d1 != nullptr);
  CHECK(d1->v == an::verdict::same);
  CHECK(d1->why == an::ground::proof_date);
  an::diff_options after;
  after.as_of = dalil::parse_date("2016-01-01");
  an::diff_result r2 = an::diff(old_rules, new_rules, after);
  const an::decision_diff* d2 = find(r2, "housing.middle_class");
  REQUIRE(d2 != nullptr);
  REQUIRE(d2->v == an::verdict::different);
  REQUIRE(d2->as_of);
  CHECK(*d2->as_of == *after.as_of);
}

TEST_CASE("diff: JSON carries the verdicts, the witness and both outcomes", "[diff]") {
  mutated_pack m("housing.dalil", "= status.lawful_stay and not_an_owner\n",
                 "= status.lawful_stay or not_an_owner\n");
  an::diff_result r = an::diff(load(shipped()), load(m.dir), an::diff_options{});
  std::string json = an::to_json(r);
  CHECK_FALSE(eng::canonical_json(json).empty());  // well-formed
  CHECK(json.find("\"decision\":\"housing.social_250k\",\"verdict\":\"different\"") !=
        std::string::npos);
  CHECK(json.find("\"verdict\":\"same\"") != std::string::npos);
  CHECK(json.find("\"witness\":{\"as_of\":") != std::string::npos);
  CHECK(json.find("\"kind\":\"rule\",\"change\":\"changed\",\"name\":\"housing.social_250k\"") !=
        std::string::npos);
}
