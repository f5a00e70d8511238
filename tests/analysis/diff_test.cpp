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
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/diff.hpp"
#include "analysis/encode.hpp"
#include "cli/pack.hpp"
#include "engine/evaluator.hpp"
#include "engine/logic.hpp"
#include "engine/record.hpp"
#include "engine/words.hpp"
#include "tests/support/cubes_pack.hpp"

namespace fs = std::filesystem;
namespace an = dalil::analysis;
namespace eng = dalil::engine;

namespace {

/// The shipped pack.
fs::path shipped() {
  return fs::path(DALIL_SOURCE_DIR) / "rules";
}

/// One edit of a pack file: its first `from` replaced by `to`.
struct edit {
  std::string file;
  std::string from;
  std::string to;
};

/// A copy of the shipped pack in which `file` has its first `from` replaced by `to`.
struct mutated_pack {
  fs::path dir;
  mutated_pack(const std::string& file, const std::string& from, const std::string& to)
      : mutated_pack(std::vector<edit>{{file, from, to}}) {}
  explicit mutated_pack(const std::vector<edit>& edits) {
    static int counter = 0;
    dir = fs::temp_directory_path() /
          ("dalil-diff-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::copy(shipped(), dir, fs::copy_options::recursive);
    for (const edit& e : edits) {
      fs::path f = dir / e.file;
      std::ifstream in(f);
      std::stringstream ss;
      ss << in.rdbuf();
      std::string text = ss.str();
      std::size_t at = text.find(e.from);
      INFO(e.file << ": " << e.from);
      REQUIRE(at != std::string::npos);
      text.replace(at, e.from.size(), e.to);
      std::ofstream(f, std::ios::trunc) << text;
    }
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

/// The diff of the shipped pack against a mutation, which must find `decision` different with a
/// witness; the witness evaluated by each version, through the ordinary evaluator.
struct witnessed {
  std::shared_ptr<const eng::ruleset> old_rules;
  std::shared_ptr<const eng::ruleset> new_rules;
  an::diff_result r;
  const an::decision_diff* d = nullptr;
  eng::record a;
  eng::record b;
  std::pair<eng::value, bool> before;
  std::pair<eng::value, bool> after;
};

void witness_of(const mutated_pack& m, const std::string& decision, witnessed& w) {
  w.old_rules = load(shipped());
  w.new_rules = load(m.dir);
  w.r = an::diff(w.old_rules, w.new_rules, an::diff_options{});
  w.d = find(w.r, decision);
  REQUIRE(w.d != nullptr);
  INFO(w.d->reason);
  REQUIRE(w.d->v == an::verdict::different);
  REQUIRE(w.d->as_of);
  INFO("witness " << w.d->record << " as of " << dalil::to_string(*w.d->as_of));
  w.before = evaluate(w.old_rules, decision, *w.d->as_of, w.d->record, w.a);
  w.after = evaluate(w.new_rules, decision, *w.d->as_of, w.d->record, w.b);
}

/// The diff of the shipped pack against a mutation must find `decision` different, with a
/// witness that reproduces here.
void expect_witness(const mutated_pack& m, const std::string& decision) {
  witnessed w;
  witness_of(m, decision, w);
  CHECK_FALSE(same_outcome(w.before, w.after));
  CHECK_FALSE(w.r.changes.empty());
  CHECK_FALSE(w.r.all_same());
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
  mutated_pack m("housing.dalil", "in_force from 2015-01-01 provisional otherwise false",
                 "in_force from 2015-02-01 provisional otherwise false");
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

namespace {

// The shipped schema's enum blocks, for reordering and adding cases.
std::string regular_case() {
  return "  regular\n"
         "    title fr \"en séjour régulier\"\n"
         "          ar \"في وضعية إقامة قانونية\"\n"
         "          en \"regular resident\",\n";
}
std::string stateless_case() {
  return "  stateless\n"
         "    title fr \"apatride\"\n"
         "          ar \"عديم الجنسية\"\n"
         "          en \"stateless person\"\n}";
}
std::string aid_100k_case() {
  return "  aid_100k\n"
         "    title fr \"aide de 100 000 DH\"\n"
         "          ar \"دعم بقيمة 100 000 درهم\"\n"
         "          en \"aid of 100,000 MAD\",\n";
}
/// Status with `regular` moved last, DirectAid with `aid_100k` moved after `aid_70k`: every case
/// keeps its name, each moves to another position (the ordinal each version gives it).
std::vector<edit> reordered_enums() {
  std::string regular_last = regular_case().substr(0, regular_case().size() - 2) + "\n";
  const std::string aid_70k_end = "          en \"aid of 70,000 MAD\",\n";
  return {{"schema.dalil", regular_case(), ""},
          {"schema.dalil", stateless_case(),
           stateless_case().substr(0, stateless_case().size() - 2) + ",\n" + regular_last + "}"},
          {"schema.dalil", aid_100k_case(), ""},
          {"schema.dalil", aid_70k_end, aid_70k_end + aid_100k_case()}};
}

/// The case name of an enum decision's value, as the version that decided it names it.
std::string case_name(const std::shared_ptr<const eng::ruleset>& rules, const std::string& rule,
                      const eng::value& v) {
  const auto& p = rules->program();
  auto r = p.find_rule(rule);
  REQUIRE(r);
  REQUIRE(p.rules[*r].t.k == dalil::dsl::kind::enumeration);
  if (!v.known()) return v.unknown() ? "unknown" : "null";
  return p.enums[p.rules[*r].t.ref].cases.at(static_cast<std::size_t>(v.i));
}

}  // namespace

TEST_CASE("diff: enum cases reordered are proved the same, compared by name", "[diff]") {
  // Each version numbers its own cases: before, every decision reading Status or DirectAid
  // was unknown ("another type in the other version").
  mutated_pack m(reordered_enums());
  an::diff_result r = an::diff(load(shipped()), load(m.dir), an::diff_options{});
  REQUIRE_FALSE(r.decisions.empty());
  for (const an::decision_diff& d : r.decisions) {
    INFO(d.decision << ": " << d.reason);
    CHECK(d.v == an::verdict::same);
  }
  // The reordering itself is listed as a change of the schema.
  for (const char* name : {"Status", "DirectAid"}) {
    INFO(name);
    CHECK(std::any_of(r.changes.begin(), r.changes.end(),
                      [&](const an::change& c) { return c.kind == "schema" && c.name == name; }));
  }
  const an::decision_diff* lawful = find(r, "status.lawful_stay");
  REQUIRE(lawful != nullptr);
  CHECK(lawful->why == an::ground::proof_all);
  const an::decision_diff* aid = find(r, "housing.direct_aid_2024");
  REQUIRE(aid != nullptr);
  CHECK(aid->why == an::ground::proof_all);
}

TEST_CASE("diff: with enum cases reordered, a changed row still has a witness, by name", "[diff]") {
  std::vector<edit> edits = reordered_enums();
  edits.push_back({"housing.dalil",
                   "applicant.housing.price <= direct_aid_low_price_ceiling  => aid_70k",
                   "applicant.housing.price <= direct_aid_low_price_ceiling  => aid_100k"});
  mutated_pack m(edits);
  witnessed w;
  witness_of(m, "housing.direct_aid_2024", w);
  CHECK(case_name(w.old_rules, "housing.direct_aid_2024", w.before.first) == "aid_70k");
  CHECK(case_name(w.new_rules, "housing.direct_aid_2024", w.after.first) == "aid_100k");
  CHECK(w.d->old_outcome.value == "\"aid_70k\"");
  CHECK(w.d->new_outcome.value == "\"aid_100k\"");
  // Only that decision changed: the others, reading the reordered enums, are the same.
  for (const an::decision_diff& x : w.r.decisions) {
    if (x.decision == "housing.direct_aid_2024") continue;
    INFO(x.decision << ": " << x.reason);
    CHECK(x.v == an::verdict::same);
  }
}

namespace {

/// Every `from` in `file` replaced by `to`.
void replace_all(const fs::path& file, const std::string& from, const std::string& to) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  std::ofstream(file, std::ios::trunc) << text;
}

}  // namespace

TEST_CASE("diff: an enum renamed, its cases reordered, is the same enum", "[diff]") {
  // DirectAid becomes HousingAid (no enum of that name before, none named DirectAid after),
  // with aid_100k moved: the direct aid's values compare by case name.
  mutated_pack m(reordered_enums());
  replace_all(m.dir / "schema.dalil", "DirectAid", "HousingAid");
  replace_all(m.dir / "housing.dalil", "DirectAid", "HousingAid");
  an::diff_result r = an::diff(load(shipped()), load(m.dir), an::diff_options{});
  for (const an::decision_diff& d : r.decisions) {
    INFO(d.decision << ": " << d.reason);
    CHECK(d.v == an::verdict::same);
  }
  const an::decision_diff* aid = find(r, "housing.direct_aid_2024");
  REQUIRE(aid != nullptr);
  CHECK(aid->why == an::ground::proof_all);
}

TEST_CASE("diff: a case added to an enum compares the records both versions read", "[diff]") {
  // A record holding the new case is refused by the old version (the schema change lists it);
  // on every record both read, nothing else changed.
  mutated_pack m("schema.dalil", regular_case(),
                 "  protected_person\n"
                 "    title fr \"bénéficiaire de protection\"\n"
                 "          ar \"مستفيد من الحماية\"\n"
                 "          en \"protected person\",\n" +
                     regular_case());
  an::diff_result r = an::diff(load(shipped()), load(m.dir), an::diff_options{});
  CHECK(std::any_of(r.changes.begin(), r.changes.end(),
                    [](const an::change& c) { return c.kind == "schema" && c.name == "Status"; }));
  for (const an::decision_diff& d : r.decisions) {
    INFO(d.decision << ": " << d.reason);
    CHECK(d.v == an::verdict::same);
  }
  // The proofs that read the status say they leave the new case out.
  const an::decision_diff* lawful = find(r, "status.lawful_stay");
  REQUIRE(lawful != nullptr);
  CHECK(lawful->uncompared == std::vector<std::string>{"Status.protected_person"});
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

TEST_CASE("diff: a proof says which enum cases it leaves out, one version alone declaring them",
          "[diff]") {
  // Level.extra only in the old version: on the records both read the decision is the same, and
  // the verdict says records holding extra were not compared (the new version refuses them).
  const std::string head = "module m\n  title fr \"M\"\n        ar \"م\"\n        en \"M\"\n\n";
  const std::string rest =
      "record Applicant {\n  level : Level\n  x : int\n}\n\ninput applicant : Applicant\n\n"
      "rule r : bool\n  source \"x\"\n  explain en \"R: {value}\"\n";
  small_pack before(head + "enum Level {\n  low,\n  high,\n  extra\n}\n\n" + rest +
                    "  = applicant.level == extra or applicant.x > 5\n");
  small_pack after(head + "enum Level {\n  low,\n  high\n}\n\n" + rest +
                   "  = (applicant.level != low and applicant.level != high) or applicant.x > 5\n");
  auto old_rules = load(before.dir);
  auto new_rules = load(after.dir);
  an::diff_result r = an::diff(old_rules, new_rules, an::diff_options{});
  const an::decision_diff* d = find(r, "m.r");
  REQUIRE(d != nullptr);
  INFO(d->reason);
  CHECK(d->v == an::verdict::same);
  CHECK(d->uncompared == std::vector<std::string>{"Level.extra"});
  CHECK(d->reason.find("(Level.extra) are not compared") != std::string::npos);
  CHECK(an::to_json(r).find("\"uncompared_cases\":[\"Level.extra\"]") != std::string::npos);
  const std::pair<eng::lang, std::string> languages[] = {
      {eng::lang::fr, "une seule des deux versions"},
      {eng::lang::ar, "إحدى الصيغتين"},
      {eng::lang::en, "only one of the two versions"}};
  for (const auto& [lang, words] : languages) {
    an::text_options o;
    o.lang = lang;
    std::string text = an::to_text(r, old_rules->program(), new_rules->program(), o);
    INFO(text);
    CHECK(text.find("Level.extra") != std::string::npos);
    CHECK(text.find(words) != std::string::npos);
  }
}

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

namespace {

/// The standard mutations of the differential tests, with the decision each must change.
struct mutation {
  edit e;
  const char* decision;
};
const mutation standard_mutations[] = {
    {{"housing.dalil", "from 2013-01-01 = 20000 MAD", "from 2013-01-01 = 20500 MAD"},
     "housing.middle_class"},
    {{"housing.dalil", "in_force from 2015-01-01 provisional otherwise false",
      "in_force from 2015-02-01 provisional otherwise false"},
     "housing.social_250k"},
    {{"housing.dalil", "applicant.housing.price <= direct_aid_low_price_ceiling  => aid_70k",
      "applicant.housing.price <= direct_aid_low_price_ceiling  => aid_100k"},
     "housing.direct_aid_2024"},
    {{"housing.dalil", "= status.lawful_stay and not_an_owner\n",
      "= status.lawful_stay or not_an_owner\n"},
     "housing.social_250k"},
    {{"regularization_2014.dalil",
      "when filed_in_window and (applicant.sex == female or minor_at_filing)",
      "when filed_in_window and applicant.sex == female"},
     "regularization_2014.eligible"},
    {{"education.dalil", "= age(applicant.birth_date) < 18", "= age(applicant.birth_date) < 17"},
     "education.school_access"},
    // Income per person: the witness gives a household size (a count, never a year).
    {{"health.dalil", "from 2008-10-16 = 5650 MAD", "from 2008-10-16 = 5700 MAD"}, "health.ramed"},
};

}  // namespace

TEST_CASE("diff: the witnesses of the standard mutations are plausible applicants", "[diff]") {
  auto old_rules = load(shipped());
  // The box of docs/advisers.md, checked here on the witness itself (a year of 365 days, with
  // the leap days of 90 years as slack).
  constexpr std::int32_t year = 365;
  const auto money_bound = *dalil::parse_decimal("2100000");  // 3 x the largest price ceiling
  for (const mutation& m : standard_mutations) {
    mutated_pack pack(std::vector<edit>{m.e});
    auto new_rules = load(pack.dir);
    an::diff_result r = an::diff(old_rules, new_rules, an::diff_options{});
    const an::decision_diff* d = find(r, m.decision);
    REQUIRE(d != nullptr);
    INFO(m.decision << ": " << d->reason << "; witness " << d->record);
    REQUIRE(d->v == an::verdict::different);
    REQUIRE(d->as_of);
    const dalil::date as_of = *d->as_of;
    INFO("as of " << dalil::to_string(as_of));
    CHECK(d->plausible);
    CHECK(an::to_json(r).find("\"plausible\":true") != std::string::npos);
    // Near the change (the pack's dates lie in 2008-2026), not at the ends of the domain.
    CHECK(as_of >= *dalil::parse_date("2005-01-01"));
    CHECK(as_of <= *dalil::parse_date("2030-12-31"));
    std::optional<dalil::date> birth;
    std::optional<dalil::date> entry;
    for (const an::witness_fact& f : d->facts) {
      if (f.s != an::witness_fact::state::value) continue;
      if (f.path == "birth_date") birth = dalil::parse_date(f.value);
      if (f.path == "entry_date") entry = dalil::parse_date(f.value);
    }
    if (birth) {
      CHECK(birth->days <= as_of.days);
      CHECK(birth->days >= as_of.days - 90 * year - 23);
    }
    for (const an::witness_fact& f : d->facts) {
      INFO(f.path << " = " << f.value);
      if (f.s != an::witness_fact::state::value) continue;
      if (auto day = dalil::parse_date(f.value); day && f.value.size() == 10) {
        if (f.path == "residence_card.expires") {
          CHECK(day->days >= as_of.days - 10 * year);
          CHECK(day->days <= as_of.days + 10 * year);
        } else if (f.path != "birth_date") {
          CHECK(day->days <= as_of.days);
          CHECK(day->days >= as_of.days - 40 * year - 10);
          if (birth) CHECK(*day >= *birth);
          if (entry && (f.path == "application_date" || f.path == "resident_since")) {
            CHECK(*day >= *entry);
          }
        }
      } else if (auto q = dalil::parse_decimal(f.value);
                 q && f.value.find('.') != std::string::npos) {
        CHECK((dalil::compare(*q, dalil::rational{0, 1}) >= 0));
        CHECK((dalil::compare(*q, money_bound) <= 0));
      } else if (auto i = dalil::parse_decimal(f.value);
                 i && f.value.find('.') == std::string::npos) {
        const bool small = dalil::compare(*i, dalil::rational{100, 1}) <= 0 &&
                           dalil::compare(*i, dalil::rational{0, 1}) >= 0;
        const bool a_year = dalil::compare(*i, dalil::rational{1950, 1}) >= 0 &&
                            dalil::compare(*i, dalil::rational{2099, 1}) <= 0;
        // A year only for a fact the pack compares with a year (regularized_in == 2014): a
        // household size of 1,950 is no plausible applicant.
        INFO(f.path << " = " << f.value);
        CHECK((f.path == "regularized_in" ? a_year : small));
      }
    }
  }
}

namespace {

/// Whether `word` stands in `text` as a word of its own (letters, digits and `_` around it
/// would make it part of an identifier).
bool has_word(const std::string& text, const std::string& word) {
  std::regex re("(^|[^A-Za-z0-9_.`])" + word + "($|[^A-Za-z0-9_`])");
  return std::regex_search(text, re);
}

}  // namespace

namespace {

/// `year_by_parameter`: the year is a parameter's value, compared through the parameter.
std::string count_and_year_pack(const std::string& big, const std::string& year,
                                bool year_by_parameter = false) {
  const std::string compared = year_by_parameter ? "year_of_regularization" : year;
  const std::string parameter =
      year_by_parameter
          ? "parameter year_of_regularization : int\n  source \"x\"\n  from 2000-01-01 = " + year +
                "\n\n"
          : std::string();
  return "module m\n"
         "  title fr \"M\"\n"
         "        ar \"م\"\n"
         "        en \"M\"\n\n"
         "record Applicant {\n"
         "  household_size : int\n"
         "  regularized_in : int?\n"
         "}\n\n"
         "input applicant : Applicant\n\n" +
         parameter +
         "rule large_household : bool\n"
         "  source \"x\"\n"
         "  explain en \"Large household: {value}\"\n"
         "  = applicant.household_size > " +
         big +
         "\n\n"
         "rule regularized : bool\n"
         "  source \"x\"\n"
         "  explain en \"Regularized in that year: {value}\"\n"
         "  = applicant.regularized_in == " +
         compared + "\n";
}

}  // namespace

TEST_CASE("diff: a whole number takes a year only where the pack compares it with one", "[diff]") {
  // The box: a count from 0 to 100, a year (1950-2099) only for a fact compared with a year.
  // A household of 1,950 people is no plausible applicant: the difference between "> 100" and
  // "> 2500" has no witness inside the box, and says so (before, the box took 1,950 as a year).
  // The year written as a constant, or as a parameter's value (which the box missed before).
  const bool by_parameter = GENERATE(false, true);
  INFO("the year as a parameter: " << by_parameter);
  small_pack before(count_and_year_pack("100", "2014", by_parameter));
  small_pack after(count_and_year_pack("2500", "2016", by_parameter));
  an::diff_result r = an::diff(load(before.dir), load(after.dir), an::diff_options{});
  const an::decision_diff* large = find(r, "m.large_household");
  REQUIRE(large != nullptr);
  REQUIRE(large->v == an::verdict::different);
  CHECK_FALSE(large->plausible);
  const an::decision_diff* reg = find(r, "m.regularized");
  REQUIRE(reg != nullptr);
  REQUIRE(reg->v == an::verdict::different);
  CHECK(reg->plausible);
  for (const an::witness_fact& f : reg->facts) {
    if (f.path != "regularized_in" || f.s != an::witness_fact::state::value) continue;
    auto y = dalil::parse_decimal(f.value);
    REQUIRE(y);
    CHECK((dalil::compare(*y, dalil::rational{1950, 1}) >= 0 &&
           dalil::compare(*y, dalil::rational{2099, 1}) <= 0));
  }
}

TEST_CASE("diff: text and Markdown in French and Arabic carry no English detail word", "[diff]") {
  // A change of every kind: a dated value, a table row, a formula, an exception, a citation and
  // a confidence, a period in force, a title, a field of the schema, a new decision.
  mutated_pack m(std::vector<edit>{
      {"housing.dalil", "from 2013-01-01 = 20000 MAD", "from 2013-01-01 = 20500 MAD"},
      {"housing.dalil", "applicant.housing.price <= direct_aid_low_price_ceiling  => aid_70k",
       "applicant.housing.price <= direct_aid_low_price_ceiling  => aid_100k"},
      {"housing.dalil", "in_force from 2015-01-01 provisional otherwise false",
       "in_force from 2015-02-01 provisional otherwise false"},
      {"regularization_2014.dalil",
       "when filed_in_window and (applicant.sex == female or minor_at_filing)",
       "when filed_in_window and applicant.sex == female"},
      {"education.dalil", "= age(applicant.birth_date) < 18", "= age(applicant.birth_date) < 17"},
      {"education.dalil", "confidence provisional", "confidence verified"},
      {"education.dalil", "HCP (2019) : portée limitée aux pays du Sahel et subsahariens\"",
       "HCP (2019)\""},
      {"education.dalil", "title fr \"Accès à l'école\"", "title fr \"Accès à l'enseignement\""},
      {"schema.dalil", "    proof parent_residence_document\n}",
       "    proof parent_residence_document\n  disability : bool\n    title fr \"situation de "
       "handicap\"\n          ar \"في وضعية إعاقة\"\n          en \"disability\"\n    proof "
       "medical_certificate\n}"},
      {"education.dalil", "# --- Tests",
       "rule disability_support : bool\n  title fr \"Soutien scolaire adapté\"\n        ar "
       "\"الدعم المدرسي المكيف\"\n        en \"Adapted school support\"\n  source \"Circulaire "
       "n° 13-487\"\n  confidence verified\n  explain fr \"Soutien : {value}.\"\n          ar "
       "\"الدعم: {value}.\"\n          en \"Support: {value}.\"\n  = school_access and "
       "applicant.disability\n\n# --- Tests"},
  });
  auto old_rules = load(shipped());
  auto new_rules = load(m.dir);
  an::diff_result r = an::diff(old_rules, new_rules, an::diff_options{});
  // And backwards: the removed field and decision.
  an::diff_result back = an::diff(new_rules, old_rules, an::diff_options{});
  // The words the rendering used to leave in English or as the pack's internal names.
  const std::vector<std::string> english = {
      "value",   "formula", "confidence", "provisional", "verified", "in force", "otherwise",
      "cases",   "table",   "schema",     "true",        "false",    "null",     "timeout",
      "witness", "rule",    "added",      "removed",     "changed",  "body",     "title"};
  // Internal names of facts and enum cases that a witness used to show as JSON.
  const std::vector<std::string> internal = {"\"birth_date\"", "\"status\"", "asylum_seeker",
                                             "\"owns_property\"", "\"annual_income\""};
  for (const auto* res : {&r, &back}) {
    const auto& op = res == &r ? old_rules->program() : new_rules->program();
    const auto& np = res == &r ? new_rules->program() : old_rules->program();
    for (bool md : {false, true}) {
      for (eng::lang l : {eng::lang::fr, eng::lang::ar}) {
        an::text_options o;
        o.lang = l;
        o.markdown = md;
        o.old_dir = "old";
        o.new_dir = "new";
        std::string text = an::to_text(*res, op, np, o);
        INFO(text);
        for (const std::string& w : english) {
          INFO("English word: " << w);
          CHECK_FALSE(has_word(text, w));
        }
        for (const std::string& w : internal) {
          INFO("internal name: " << w);
          CHECK(text.find(w) == std::string::npos);
        }
      }
    }
  }
  an::text_options o;
  o.old_dir = "old";
  o.new_dir = "new";
  const auto& op = old_rules->program();
  const auto& np = new_rules->program();
  o.lang = eng::lang::fr;
  std::string fr = an::to_text(r, op, np, o);
  INFO(fr);
  // Amounts and dates as the officials' texts write them, rules and fields by their titles.
  CHECK(fr.find("à partir du 1er janvier 2013 : 20\u202F000,00 MAD → 20\u202F500,00 MAD") !=
        std::string::npos);
  CHECK(fr.find("« Logement de la classe moyenne » (housing.middle_class) : différente") !=
        std::string::npos);
  CHECK(fr.find("ajouté : champ du dossier « situation de handicap » (disability)") !=
        std::string::npos);
  CHECK(fr.find("fiabilité education.origin_covered : provisoire → vérifiée") != std::string::npos);
  CHECK(fr.find("à partir du 1er janvier 2015 → à partir du 1er février 2015") !=
        std::string::npos);
  CHECK(fr.find("tableau n° 1") != std::string::npos);
  CHECK(fr.find("date de naissance : ") != std::string::npos);
  o.lang = eng::lang::en;
  std::string en = an::to_text(r, op, np, o);
  INFO(en);
  // English keeps its own words: the same list then shows, so the check above can fail.
  CHECK(has_word(en, "formula"));
  CHECK(has_word(en, "provisional"));
  CHECK(en.find("from 1 January 2013: 20,000.00 MAD → 20,500.00 MAD") != std::string::npos);
  o.lang = eng::lang::ar;
  std::string ar = an::to_text(r, op, np, o);
  INFO(ar);
  CHECK(ar.find("«سكن الطبقة المتوسطة»") != std::string::npos);
  CHECK(ar.find("يناير") != std::string::npos);
  CHECK(ar.find("درهم") != std::string::npos);
}

TEST_CASE("diff: a text added or removed in one language says which", "[diff]") {
  // AMO Tadamon's period texts removed in all three languages: three lines, one per language,
  // that would otherwise read the same.
  mutated_pack m("health.dalil",
                 "  period fr \"L'AMO Tadamon n'existe que depuis le {from}, date à laquelle il a "
                 "remplacé le RAMED.\"\n         ar \"لم يُحدث التأمين الإجباري عن المرض «تضامن» "
                 "إلا في {from}، وهو تاريخ تعويضه لنظام المساعدة الطبية (راميد).\"\n         en "
                 "\"AMO Tadamon exists only since {from}, when it replaced RAMED.\"\n",
                 "");
  auto old_rules = load(shipped());
  auto new_rules = load(m.dir);
  an::diff_result r = an::diff(old_rules, new_rules, an::diff_options{});
  an::text_options o;
  o.old_dir = "old";
  o.new_dir = "new";
  o.lang = eng::lang::en;
  std::string en = an::to_text(r, old_rules->program(), new_rules->program(), o);
  INFO(en);
  for (const char* language : {"(English)", "(French)", "(Arabic)"}) {
    INFO(language);
    CHECK(en.find(std::string("(health.amo_tadamon) ") + language) != std::string::npos);
  }
  o.lang = eng::lang::fr;
  std::string fr = an::to_text(r, old_rules->program(), new_rules->program(), o);
  INFO(fr);
  CHECK(fr.find("(health.amo_tadamon) (arabe)") != std::string::npos);
}

TEST_CASE("diff: a halt interrupts the query under way and asks no other", "[diff]") {
  small_pack before(dalil::testing::cubes_pack(dalil::testing::cubes_formula));
  small_pack after(dalil::testing::cubes_pack("applicant.a < 0 and applicant.a > 0"));
  an::diff_options opt;
  opt.timeout_ms = 120000;  // two minutes a query: only the halt ends it sooner
  an::halt stop;
  opt.stop = &stop;
  auto old_rules = load(before.dir);
  auto new_rules = load(after.dir);
  an::diff_result r;
  const auto took = dalil::testing::run_halted(stop, std::chrono::milliseconds(300),
                                               [&] { r = an::diff(old_rules, new_rules, opt); });
  CHECK(r.halted);
  CHECK(took < std::chrono::seconds(60));  // the query's own limit would be 120 s
  // Asked to halt before it starts: no decision checked, said halted.
  an::diff_result again = an::diff(old_rules, new_rules, opt);
  CHECK(again.halted);
  CHECK(again.decisions.empty());
  // Without a halt, the same pair with a short limit: not halted (a witness with a missing
  // fact, or unknown past the limit, as the machine's speed goes), never a proof.
  an::diff_options plain;
  plain.timeout_ms = 200;
  an::diff_result unhalted = an::diff(old_rules, new_rules, plain);
  CHECK_FALSE(unhalted.halted);
  const an::decision_diff* cubes = find(unhalted, "m.cubes");
  REQUIRE(cubes != nullptr);
  CHECK(cubes->v != an::verdict::same);
}

TEST_CASE(
    "diff: a report's halt under the server's: the server's stop interrupts its query, its "
    "deadline stops it before the next one",
    "[diff]") {
  small_pack before(dalil::testing::cubes_pack(dalil::testing::cubes_formula));
  small_pack after(dalil::testing::cubes_pack("applicant.a < 0 and applicant.a > 0"));
  auto old_rules = load(before.dir);
  auto new_rules = load(after.dir);
  an::diff_options opt;
  opt.timeout_ms = 120000;  // two minutes a query: only a halt ends it sooner
  // The server's stop reaches the query under way through the report's halt.
  an::halt server;
  an::halt report(&server, std::chrono::steady_clock::time_point::max());
  opt.stop = &report;
  an::diff_result r;
  const auto took = dalil::testing::run_halted(server, std::chrono::milliseconds(300),
                                               [&] { r = an::diff(old_rules, new_rules, opt); });
  CHECK(r.halted);
  CHECK(took < std::chrono::seconds(60));
  CHECK_FALSE(report.deadline_passed());
  CHECK_FALSE(server.watching());  // the report's context is no longer watched by anyone
  // A deadline already passed: no decision checked, said halted, the server never asked.
  an::halt idle;
  an::halt late(&idle, std::chrono::steady_clock::now() - std::chrono::seconds(1));
  opt.stop = &late;
  an::diff_result out_of_time = an::diff(old_rules, new_rules, opt);
  CHECK(out_of_time.halted);
  CHECK(out_of_time.decisions.empty());
  CHECK_FALSE(late.stop_requested());  // out of time, not stopped
  // A deadline that has passed cuts an analysis short only once a query is skipped for it (one
  // that passed as the last query ran leaves a complete result).
  an::halt passed(&idle, std::chrono::steady_clock::now() - std::chrono::seconds(1));
  CHECK_FALSE(passed.cut_short());
  z3::context ctx;
  z3::solver solver(ctx);
  CHECK(an::detail::ask(&passed, solver) == z3::unknown);
  CHECK(passed.cut_short());
}
