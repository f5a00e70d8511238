// What an official reads: numbers rounded half-even with the language's separators, dates and
// durations in words, the catalogue complete in three languages, explanations and the eval text
// rendering without identifiers, and a sentinel catalogue proving that no UI word is written
// outside the catalogue.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dsl/checker.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/parser.hpp"
#include "engine/catalogue.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "engine/ruleset.hpp"
#include "engine/session.hpp"
#include "engine/words.hpp"

namespace dsl = dalil::dsl;
namespace eng = dalil::engine;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using eng::lang;

namespace {

dalil::rational q(std::int64_t num, std::int64_t den = 1) {
  auto r = dalil::make_rational(num, den);
  REQUIRE(r.has_value());
  return *r;
}

dalil::date day(const std::string& text) {
  auto d = dalil::parse_date(text);
  REQUIRE(d.has_value());
  return *d;
}

const std::string nnbsp = "\u202F";

}  // namespace

TEST_CASE("words: numbers to two places, half-even, with the language's separators",
          "[engine][words]") {
  struct row {
    std::int64_t num;
    std::int64_t den;
    lang l;
    const char* expected;
  };
  const row rows[] = {
      {3250, 3, lang::fr, "1 083,33"},
      {3250, 3, lang::en, "1,083.33"},
      {3250, 3, lang::ar, "1 083,33"},
      {1, 8, lang::fr, "0,12"},             // 0.125: to even
      {27, 200, lang::fr, "0,14"},          // 0.135: to even (up)
      {-201, 200, lang::en, "-1.00"},       // -1.005: to even (down)
      {199999, 200, lang::fr, "1 000,00"},  // 999.995: carries into the thousands
      {-1, 1000, lang::en, "0.00"},         // no negative zero
      {1234567, 1, lang::en, "1,234,567.00"},
      {999, 1, lang::fr, "999,00"},
  };
  for (const row& x : rows) {
    INFO(x.num << "/" << x.den << " in " << eng::lang_code(x.l));
    std::string expected = x.expected;
    if (x.l != lang::en) {
      for (std::size_t at = 0; (at = expected.find(' ', at)) != std::string::npos;) {
        expected.replace(at, 1, nnbsp);
      }
    }
    CHECK(eng::number_words(q(x.num, x.den), 2, x.l) == expected);
  }
  CHECK(eng::money_words(q(1750, 3), lang::fr) == "583,33 MAD");
  CHECK(eng::money_words(q(3250, 3), lang::ar) ==
        "\u2066"
        "1" +
            nnbsp + "083,33\u2069 درهم");
  // Past 2^64 hundredths (the 128-bit path of the rounding and of the digits), and at 18
  // places: the same digits as the long division writes.
  CHECK(eng::number_words(q(INT64_MAX), 2, lang::en) == "9,223,372,036,854,775,807.00");
  CHECK(eng::number_words(q(-INT64_MAX, 3), 2, lang::en) == "-3,074,457,345,618,258,602.33");
  CHECK(eng::number_words(q(2, 3), 18, lang::en) == "0.666666666666666667");
  CHECK(eng::number_words(q(2, 3), 19, lang::en) == "0.6666666666666666667");
  CHECK(eng::integer_words(2015, lang::fr) == "2015");
  CHECK(eng::integer_words(12000, lang::fr) == "12" + nnbsp + "000");
  CHECK(eng::integer_words(-12000, lang::en) == "-12,000");
}

TEST_CASE("words: more places only where two different values would read alike",
          "[engine][words]") {
  // An income of 20000.004 against a ceiling of 20000: both read 20 000,00 at two places.
  std::vector<dalil::rational> values{q(5000001, 250), q(20000)};
  std::vector<int> places = eng::reading_places(values);
  REQUIRE(places == std::vector<int>{3, 3});
  CHECK(eng::number_words(values[0], places[0], lang::en) == "20,000.004");
  CHECK(eng::number_words(values[1], places[1], lang::en) == "20,000.00");
  // Equal values need nothing more; neither do values apart at two places.
  CHECK(eng::reading_places({q(1, 3), q(1, 3)}) == std::vector<int>{2, 2});
  CHECK(eng::reading_places({q(101, 100), q(102, 100), q(7)}) == std::vector<int>{2, 2, 2});
  // A third value close to one of them does not lengthen the others more than needed.
  places = eng::reading_places({q(1), q(100001, 100000), q(5)});
  CHECK(places == std::vector<int>{5, 5, 2});
  // More values than the stack holds (64): the same answer as for a few of them.
  std::vector<dalil::rational> many(70, q(7));
  many[3] = q(5000001, 250);
  many[69] = q(20000);
  places = eng::reading_places(many);
  CHECK(places[3] == 3);
  CHECK(places[69] == 3);
  CHECK(places[0] == 2);
}

TEST_CASE("words: a figure the texts set reads exactly, the values beside it in true order",
          "[engine][words]") {
  const dalil::rational threshold = q(93264284, 10000000);  // AMO Tadamon's RSU threshold
  CHECK(eng::exact_places(threshold) == 7);
  CHECK(eng::exact_places(q(7535, 2)) == 1);
  CHECK(eng::exact_places(q(11)) == 0);
  CHECK(eng::exact_places(q(1750, 3)) == -1);
  // Alone: all its decimals, never "9,33".
  CHECK(eng::reading_places_with_figures({threshold}, {true}) == std::vector<int>{7});
  CHECK(eng::number_words(threshold, 7, lang::fr) == "9,3264284");
  // A whole figure keeps the two places of money.
  CHECK(eng::reading_places_with_figures({q(11)}, {true}) == std::vector<int>{2});
  struct row {
    dalil::rational score;
    std::vector<int> expected;
  };
  const row rows[] = {
      {q(782, 100), {2, 7}},              // far below: two places
      {q(933, 100), {2, 7}},              // 9,33 is above 9,3264284, and reads so
      {q(93265, 10000), {2, 7}},          // above: 9,33 reads above too
      {q(93264, 10000), {3, 7}},          // below, but 9,33 would read above: 9,326
      {q(932642839, 100000000), {3, 7}},  // just below: 9,326 too
      {threshold, {7, 7}},                // equal: read alike
  };
  for (const row& x : rows) {
    INFO(x.score.num << "/" << x.score.den);
    CHECK(eng::reading_places_with_figures({x.score, threshold}, {false, true}) == x.expected);
  }
  // Two rounded values keep their order too: 1.0049 and 1.004 both read 1.00 at two places.
  CHECK(eng::reading_places({q(10049, 10000), q(1004, 1000)}) == std::vector<int>{3, 3});
}

TEST_CASE("words: dates and durations in words", "[engine][words]") {
  CHECK(eng::date_words(day("2015-10-26"), lang::fr) == "26 octobre 2015");
  CHECK(eng::date_words(day("2018-03-01"), lang::fr) == "1er mars 2018");
  CHECK(eng::date_words(day("2015-10-26"), lang::en) == "26 October 2015");
  CHECK(eng::date_words(day("2015-10-26"), lang::ar) ==
        "\u2067"
        "26 أكتوبر 2015\u2069");
  CHECK(eng::date_words(day("2022-12-01"), lang::ar) ==
        "\u2067"
        "1 دجنبر 2022\u2069");
  CHECK(eng::duration_words({2, 6, 0}, lang::fr) == "2 ans et 6 mois");
  CHECK(eng::duration_words({1, 0, 0}, lang::en) == "1 year");
  CHECK(eng::duration_words({5, 1, 3}, lang::en) == "5 years, 1 month and 3 days");
  CHECK(eng::duration_words({0, 0, 0}, lang::fr) == "0 jour");
  CHECK(eng::duration_words({2, 6, 0}, lang::ar) == "\u2067سنتان و6 أشهر\u2069");
  CHECK(eng::duration_words({0, 11, 0}, lang::ar) ==
        "\u2067"
        "11 شهرًا\u2069");
}

TEST_CASE("words: Arabic plural categories", "[engine][words]") {
  struct row {
    std::int64_t n;
    eng::plural expected;
  };
  const row rows[] = {{0, eng::plural::other},  {1, eng::plural::one},     {2, eng::plural::two},
                      {3, eng::plural::few},    {10, eng::plural::few},    {11, eng::plural::many},
                      {99, eng::plural::many},  {100, eng::plural::other}, {103, eng::plural::few},
                      {111, eng::plural::many}, {-2, eng::plural::two}};
  for (const row& x : rows) {
    INFO("n = " << x.n);
    CHECK(eng::plural_of(x.n, lang::ar) == x.expected);
  }
  CHECK(eng::plural_of(0, lang::fr) == eng::plural::one);
  CHECK(eng::plural_of(0, lang::en) == eng::plural::other);
}

namespace {

std::set<std::string> placeholders_of(const std::string& t) {
  std::set<std::string> out;
  std::size_t at = 0;
  while ((at = t.find('{', at)) != std::string::npos) {
    std::size_t close = t.find('}', at);
    if (close == std::string::npos) break;
    out.insert(t.substr(at + 1, close - at - 1));
    at = close + 1;
  }
  return out;
}

/// `s` without what lies between the isolates (U+2066..U+2068 ... U+2069).
std::string outside_isolates(const std::string& s) {
  std::string out;
  int depth = 0;
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, "\u2066") == 0 || s.compare(i, 3, "\u2067") == 0 ||
        s.compare(i, 3, "\u2068") == 0) {
      ++depth;
      i += 3;
    } else if (s.compare(i, 3, "\u2069") == 0) {
      depth = std::max(0, depth - 1);
      i += 3;
    } else {
      if (depth == 0) out.push_back(s[i]);
      ++i;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("catalogue: every message in three languages, with the same arguments",
          "[engine][words]") {
  const eng::catalogue& c = eng::builtin_catalogue();
  for (std::size_t i = 0; i < eng::message_count; ++i) {
    const auto m = static_cast<eng::msg>(i);
    INFO("message " << eng::message_id(m));
    const std::set<std::string> fr = placeholders_of(c.text(m, lang::fr));
    for (lang l : eng::languages) {
      INFO("language " << eng::lang_code(l));
      CHECK_FALSE(c.text(m, l).empty());
      // Arabic plural forms one and two say the number in words: no {n} there.
      const bool arabic_counted = l == lang::ar && (eng::message_id(m).ends_with("_one") ||
                                                    eng::message_id(m).ends_with("_two"));
      if (!arabic_counted) CHECK(placeholders_of(c.text(m, l)) == fr);
    }
    // Arabic messages hold no Latin letter outside an isolate and the arguments.
    std::string ar = outside_isolates(c.text(m, lang::ar));
    for (const std::string& name : placeholders_of(ar)) {
      const std::string marked_name = "{" + name + "}";
      for (std::size_t at = 0; (at = ar.find(marked_name)) != std::string::npos;) {
        ar.erase(at, marked_name.size());
      }
    }
    CHECK(std::none_of(ar.begin(), ar.end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    }));
  }
  CHECK(eng::parse_lang("fr") == lang::fr);
  CHECK_FALSE(eng::parse_lang("de").has_value());
}

// ------------------------------------------------------------------ explanations

namespace {

/// A pack of one module, compiled after `label` has written titles, documents, periods and
/// exception words into the checked program (the language's own syntax for them is tested
/// with the checker; here only what the renderers make of them matters).
struct labelled_pack {
  dsl::source_map sources;
  dsl::diagnostics diags;
  std::vector<dsl::ast::module> modules;
  std::shared_ptr<const eng::ruleset> rules;
};

std::unique_ptr<labelled_pack> compile_labelled(const std::string& text,
                                                const std::function<void(dsl::program&)>& label) {
  auto c = std::make_unique<labelled_pack>();
  dsl::file_id f = c->sources.add("w.dalil", text);
  auto m = dsl::parse(c->sources, f, c->diags);
  INFO(dsl::render_all(c->sources, c->diags));
  REQUIRE((m.has_value() && !c->diags.has_errors()));
  c->modules.push_back(std::move(*m));
  auto program = dsl::check(c->sources, c->modules, c->diags);
  INFO(dsl::render_all(c->sources, c->diags));
  REQUIRE(program.has_value());
  label(*program);
  c->rules = eng::build_ruleset(c->sources, c->modules, std::move(*program));
  return c;
}

// Pack texts are marked ⟪…⟫, so that a test can take them out of a rendering.
const std::string words_pack = R"dalil(module m
  title fr "Essai" ar "تجربة" en "Test"

enum Tier { low, mid, high }

record Spouse {
  nationality : text
  married_since : date
}

record Household {
  income : money
  score : decimal
}

record Applicant {
  minor : bool?
  tier : Tier?
  spouse : Spouse
  household : Household
}

input applicant : Applicant

parameter ceiling : money
  source "⟪S:ceiling⟫"
  from 2015-01-01 = 20000 MAD

parameter score_ceiling : decimal
  source "⟪S:score_ceiling⟫"
  from 2015-01-01 = 11

parameter rsu_ceiling : decimal
  source "⟪S:rsu_ceiling⟫"
  from 2015-01-01 = 9.3264284

rule rsu_ok : bool
  source "⟪S:rsu_ok⟫"
  explain fr "⟪U:fr⟫ {applicant.household.score} {rsu_ceiling}"
    ar "⟪U:ar⟫ {applicant.household.score} {rsu_ceiling}"
    en "⟪U:en⟫ {applicant.household.score} {rsu_ceiling}"
  = applicant.household.score <= rsu_ceiling

rule married : bool
  source "⟪S:married⟫"
  = applicant.spouse.married_since < 2016-01-01

rule eligible : bool
  source "⟪S:eligible⟫"
  explain fr "⟪E:fr⟫ {applicant.household.income} {ceiling} {married}"
    ar "⟪E:ar⟫ {applicant.household.income} {ceiling} {married}"
    en "⟪E:en⟫ {applicant.household.income} {ceiling} {married}"
  = applicant.household.income <= ceiling and married
  exception vulnerable_minor
    source "⟪S:vulnerable_minor⟫"
    when applicant.minor = true

rule score_ok : bool
  source "⟪S:score_ok⟫"
  explain fr "⟪Q:fr⟫ {applicant.household.score} {score_ceiling}"
    ar "⟪Q:ar⟫ {applicant.household.score} {score_ceiling}"
    en "⟪Q:en⟫ {applicant.household.score} {score_ceiling}"
  = applicant.household.score <= score_ceiling

rule tier : Tier
  source "⟪S:tier⟫"
  explain fr "⟪T:fr⟫ {value}" ar "⟪T:ar⟫ {value}" en "⟪T:en⟫ {value}"
  = applicant.tier

rule window : bool
  source "⟪S:window⟫"
  in_force from 2016-01-01 until 2016-12-31
  explain fr "⟪W:fr⟫" ar "⟪W:ar⟫" en "⟪W:en⟫"
  = true

rule window_plain : bool
  source "⟪S:window_plain⟫"
  in_force from 2016-01-01 until 2016-12-31
  explain fr "⟪V:fr⟫" ar "⟪V:ar⟫" en "⟪V:en⟫"
  = true

rule gap : bool
  source "⟪S:gap⟫"
  confidence provisional
  explain fr "⟪G:fr⟫" ar "⟪G:ar⟫" en "⟪G:en⟫"
  = not_encoded "⟪N⟫"
)dalil";

dsl::texts marked(const std::string& what) {
  return {{"fr", "⟪" + what + ":fr⟫"}, {"ar", "⟪" + what + ":ar⟫"}, {"en", "⟪" + what + ":en⟫"}};
}

void label_words_pack(dsl::program& p) {
  p.documents.push_back({"marriage_certificate", marked("D:marriage"), {}});
  p.documents.push_back({"income_statement", marked("D:income"), {}});
  for (dsl::fact_info& f : p.facts) {
    f.title = marked("F:" + f.path);
    if (f.path.rfind("spouse.", 0) == 0) f.proof = 0;
    if (f.path.rfind("household.", 0) == 0) f.proof = 1;
  }
  for (dsl::enum_info& e : p.enums) {
    e.case_titles.clear();
    for (const std::string& c : e.cases) e.case_titles.push_back(marked("C:" + c));
  }
  for (dsl::rule_info& r : p.rules) {
    r.title = marked("R:" + r.name);
    if (r.name == "window") {
      r.period = {{"fr", "⟪P:fr⟫ {from} {until}"},
                  {"ar", "⟪P:ar⟫ {from} {until}"},
                  {"en", "⟪P:en⟫ {from} {until}"}};
    }
    for (dsl::exception_info& x : r.exceptions) x.explain = marked("X:" + x.name);
  }
  for (dsl::expression& e : p.expressions) {
    if (e.o == dsl::op::not_encoded) e.reason = marked("N");
  }
}

struct run_result {
  std::shared_ptr<const eng::instance> inst;
  eng::record rec;
  std::unique_ptr<eng::evaluator> ev;
  eng::decision d;
};

std::unique_ptr<run_result> run(const labelled_pack& pack, const std::string& rule,
                                const std::string& as_of, const std::string& json) {
  auto out = std::make_unique<run_result>();
  const dsl::program& p = pack.rules->program();
  auto r = p.find_rule("m." + rule);
  REQUIRE(r.has_value());
  out->inst = eng::instantiate(pack.rules, day(as_of));
  eng::record_reader reader(p);
  eng::record_error err;
  INFO("record " << json);
  REQUIRE(reader.read(json, out->rec, err));
  out->ev = std::make_unique<eng::evaluator>(out->inst);
  out->ev->set_record(out->rec);
  out->d = eng::decide(*out->ev, *r);
  return out;
}

const char* const full_record =
    R"({"minor": false, "tier": "mid", "spouse": {"nationality": "MA", "married_since": "2012-05-01"},
        "household": {"income": "20000.00", "score": "11.004"}})";

std::string text_of(const labelled_pack& pack, const std::string& rule, const std::string& as_of,
                    const std::string& json, lang l, const eng::catalogue& c) {
  auto e = run(pack, rule, as_of, json);
  std::string out;
  eng::append_decision_text(out, *e->ev, e->d, l, c);
  return out;
}

}  // namespace

TEST_CASE("explain: values in words, exception by its words, never an identifier",
          "[engine][words]") {
  auto pack = compile_labelled(words_pack, label_words_pack);
  auto e = run(*pack, "eligible", "2016-06-01",
               R"({"minor": true, "spouse": {}, "household": {"income": "1750.5"}})");
  REQUIRE(e->d.decided);
  const std::string fr = eng::explain(*e->ev, e->d, lang::fr);
  CHECK(fr == "⟪E:fr⟫ 1" + nnbsp + "750,50 MAD 20" + nnbsp +
                  "000,00 MAD à déterminer Exception appliquée : ⟪X:vulnerable_minor:fr⟫.");
  for (lang l : eng::languages) {
    const std::string x = eng::explain(*e->ev, e->d, l);
    CHECK_THAT(x, !Contains("vulnerable_minor ") && !Contains("m.") && !Contains("married_since"));
  }
  // Without the exception's own words: the catalogue's phrase, not its name.
  auto bare = compile_labelled(words_pack, [](dsl::program& p) {
    label_words_pack(p);
    for (dsl::rule_info& r : p.rules) {
      for (dsl::exception_info& x : r.exceptions) x.explain.clear();
    }
  });
  auto b =
      run(*bare, "eligible", "2016-06-01", R"({"minor": true, "spouse": {}, "household": {}})");
  CHECK_THAT(eng::explain(*b->ev, b->d, lang::en),
             Contains("Exception applied: an exception provided for by the texts.") &&
                 !Contains("vulnerable"));
}

TEST_CASE("explain: values that would read alike get the places that tell them apart",
          "[engine][words]") {
  auto pack = compile_labelled(words_pack, label_words_pack);
  auto e = run(*pack, "score_ok", "2016-06-01", full_record);
  REQUIRE(e->d.decided);
  CHECK(eng::explain(*e->ev, e->d, lang::en) == "⟪Q:en⟫ 11.004 11.00");
  CHECK(eng::explain(*e->ev, e->d, lang::fr) == "⟪Q:fr⟫ 11,004 11,00");
  CHECK(eng::explain(*e->ev, e->d, lang::ar) ==
        "⟪Q:ar⟫ \u2066"
        "11,004\u2069 \u2066"
        "11,00\u2069");
}

TEST_CASE("explain: a threshold reads exactly, alone or beside a value", "[engine][words]") {
  auto pack = compile_labelled(words_pack, label_words_pack);
  // Alone (the score not provided): the figure as the texts set it, not "9,33".
  auto alone = run(*pack, "rsu_ok", "2016-06-01", R"({"spouse": {}, "household": {}})");
  CHECK_THAT(eng::explain(*alone->ev, alone->d, lang::fr),
             Contains("⟪U:fr⟫ information non fournie 9,3264284 "));
  CHECK_THAT(eng::explain(*alone->ev, alone->d, lang::en),
             Contains("⟪U:en⟫ not provided 9.3264284 "));
  // Beside a score just below it: the score takes the places that show it below.
  auto below =
      run(*pack, "rsu_ok", "2016-06-01", R"({"spouse": {}, "household": {"score": "9.3264"}})");
  CHECK(eng::explain(*below->ev, below->d, lang::fr) == "⟪U:fr⟫ 9,326 9,3264284");
  CHECK(eng::explain(*below->ev, below->d, lang::ar) ==
        "⟪U:ar⟫ \u2066"
        "9,326\u2069 \u2066"
        "9,3264284\u2069");
}

TEST_CASE("explain: an unknown fact reads the same after any label", "[engine][words]") {
  // "Date de naissance : non renseigné" breaks the agreement with a feminine label, and
  // "غير مُدلى به" with a feminine Arabic one: the phrase carries its own noun instead, so
  // that it agrees whatever words the template puts before it.
  const eng::catalogue& c = eng::builtin_catalogue();
  CHECK(c.text(eng::msg::unknown, lang::fr) == "information non fournie");
  CHECK(c.text(eng::msg::unknown, lang::ar) == "معلومة غير مُدلى بها");
  auto pack = compile_labelled(words_pack, label_words_pack);
  auto e = run(*pack, "eligible", "2016-06-01", R"({"spouse": {}, "household": {}})");
  const std::string fr = eng::explain(*e->ev, e->d, lang::fr);
  CHECK_THAT(fr, StartsWith("⟪E:fr⟫ information non fournie 20") && !Contains("renseign"));
}

TEST_CASE("explain: the eval text names each document to ask for once", "[engine][words]") {
  auto pack = compile_labelled(words_pack, label_words_pack);
  for (lang l : eng::languages) {
    const std::string text =
        text_of(*pack, "eligible", "2016-06-01", R"({"spouse": {}, "household": {}})", l,
                eng::builtin_catalogue());
    INFO(text);
    const std::string code(eng::lang_code(l));
    for (const std::string& doc : {"⟪D:marriage:" + code + "⟫", "⟪D:income:" + code + "⟫"}) {
      std::size_t count = 0;
      for (std::size_t at = 0; (at = text.find(doc, at)) != std::string::npos; at += doc.size()) {
        ++count;
      }
      CHECK(count == 1);
    }
    // The explanation points to the list below instead of naming them.
    CHECK_THAT(text, Contains(eng::builtin_catalogue().text(eng::msg::undetermined_ask_below, l)));
  }
}

TEST_CASE("explain: enum values by their case titles, else a phrase, never the case id",
          "[engine][words]") {
  auto pack = compile_labelled(words_pack, label_words_pack);
  auto e = run(*pack, "tier", "2016-06-01", full_record);
  CHECK(eng::explain(*e->ev, e->d, lang::fr) == "⟪T:fr⟫ ⟪C:mid:fr⟫");
  auto untitled = compile_labelled(words_pack, [](dsl::program& p) {
    label_words_pack(p);
    for (dsl::enum_info& en : p.enums) en.case_titles.clear();
  });
  auto u = run(*untitled, "tier", "2016-06-01", full_record);
  CHECK(eng::explain(*u->ev, u->d, lang::fr) == "⟪T:fr⟫ valeur sans libellé");
  CHECK(eng::value_words(untitled->rules->program(), untitled->rules->program().rules[u->d.rule].t,
                         u->d.v, "en") == "unlabelled value");
}

TEST_CASE("explain: outside the period, the rule's period text or the catalogue's sentence",
          "[engine][words]") {
  auto pack = compile_labelled(words_pack, label_words_pack);
  for (const char* as_of : {"2015-12-31", "2017-01-01"}) {
    INFO("as of " << as_of);
    auto e = run(*pack, "window", as_of, "{}");
    CHECK(eng::explain(*e->ev, e->d, lang::fr) == "⟪P:fr⟫ 1er janvier 2016 31 décembre 2016");
    CHECK(eng::explain(*e->ev, e->d, lang::ar) ==
          "⟪P:ar⟫ \u2067"
          "1 يناير 2016\u2069 \u2067"
          "31 دجنبر 2016\u2069");
    auto g = run(*pack, "window_plain", as_of, "{}");
    CHECK(eng::explain(*g->ev, g->d, lang::fr) ==
          "« ⟪R:window_plain:fr⟫ » ne s'applique que du 1er janvier 2016 au 31 décembre 2016.");
    CHECK(eng::explain(*g->ev, g->d, lang::en) ==
          "“⟪R:window_plain:en⟫” applies only from 1 January 2016 to 31 December 2016.");
    std::string json;
    eng::append_decision_json(json, *g->ev, g->d, false);
    CHECK_THAT(json, Contains(R"("in_force":false)"));
    std::string text;
    eng::append_decision_text(text, *g->ev, g->d, lang::fr);
    CHECK_THAT(text, Contains("[hors période d'application]") && !Contains("→") &&
                         !Contains("2016-01-01"));
  }
  auto inside = run(*pack, "window", "2016-01-01", "{}");
  CHECK(eng::explain(*inside->ev, inside->d, lang::fr) == "⟪W:fr⟫");
  std::string json;
  eng::append_decision_json(json, *inside->ev, inside->d, false);
  CHECK_THAT(json, Contains(R"("in_force":true)"));
}

TEST_CASE("explain: missing facts as the documents to ask for, grouped", "[engine][words]") {
  auto pack = compile_labelled(words_pack, label_words_pack);
  auto e = run(*pack, "eligible", "2016-06-01", R"({"spouse": {}, "household": {}})");
  REQUIRE_FALSE(e->d.decided);
  REQUIRE(e->d.missing ==
          std::vector<std::string>{"household.income", "minor", "spouse.married_since"});
  const dsl::program& p = pack->rules->program();
  std::vector<eng::document_request> docs = eng::documents_to_ask(p, e->d.missing);
  REQUIRE(docs.size() == 3);
  CHECK(docs[0].document == 0);  // marriage certificate, the pack's first document
  CHECK(docs[1].document == 1);
  CHECK(docs[2].document == dsl::no_index);  // the applicant's statement, last
  CHECK_THAT(eng::explain(*e->ev, e->d, lang::fr),
             Contains("Impossible de conclure pour l'instant ; à demander : ⟪D:marriage:fr⟫, "
                      "⟪D:income:fr⟫, déclaration du demandeur."));
  std::string text;
  eng::append_decision_text(text, *e->ev, e->d, lang::fr);
  CHECK_THAT(
      text,
      Contains("Documents à demander :\n    ⟪D:marriage:fr⟫ : ⟪F:spouse.married_since:fr⟫\n") &&
          Contains("    déclaration du demandeur : ⟪F:minor:fr⟫\n"));
  std::string json;
  eng::append_decision_json(json, *e->ev, e->d, false);
  CHECK_THAT(json, Contains(R"("missing":["household.income","minor","spouse.married_since"])"));
  CHECK_THAT(
      json,
      Contains(
          R"("documents":[{"document":"marriage_certificate","title":{"ar":"⟪D:marriage:ar⟫","en":"⟪D:marriage:en⟫","fr":"⟪D:marriage:fr⟫"},"facts":["spouse.married_since"]},)"));
  CHECK_THAT(
      json,
      Contains(
          R"({"document":null,"title":{"ar":"تصريح المعني بالأمر","en":"the applicant's statement","fr":"déclaration du demandeur"},"facts":["minor"]}])"));
  CHECK_THAT(
      json,
      Contains(
          R"("title":{"ar":"⟪R:eligible:ar⟫","en":"⟪R:eligible:en⟫","fr":"⟪R:eligible:fr⟫"})"));
}

TEST_CASE("explain: reasons in the reader's language", "[engine][words]") {
  auto pack = compile_labelled(words_pack, label_words_pack);
  auto e = run(*pack, "gap", "2016-06-01", "{}");
  REQUIRE_FALSE(e->d.decided);
  CHECK(eng::explain(*e->ev, e->d, lang::fr) ==
        "⟪G:fr⟫ Impossible de conclure pour l'instant. Motif : ⟪N:fr⟫. (décision provisoire : "
        "une source reste à confirmer)");
  CHECK_THAT(eng::explain(*e->ev, e->d, lang::ar), Contains("السبب: ⟪N:ar⟫."));
  std::string json;
  eng::append_decision_json(json, *e->ev, e->d, false);
  CHECK_THAT(
      json,
      Contains(
          R"("reasons":["not encoded: ⟪N⟫"],"reason_texts":{"ar":["⟪N:ar⟫"],"en":["⟪N:en⟫"],"fr":["⟪N:fr⟫"]})"));
  const dsl::program& p = pack->rules->program();
  using kind = eng::reason::kind;
  CHECK(eng::reason_words(p, {kind::parameter_without_value, 0, day("2014-12-31")}, lang::fr) ==
        "une valeur fixée par les textes (barème, plafond ou montant) n'est pas connue pour le 31 "
        "décembre 2014");
  auto window = p.find_rule("m.window");
  REQUIRE(window.has_value());
  CHECK(eng::reason_words(p, {kind::not_in_force, *window, day("2017-01-01")}, lang::en) ==
        "“⟪R:window:en⟫” does not apply on 1 January 2017");
  CHECK(eng::reason_words(p, {kind::division_by_zero, dsl::no_index, {}}, lang::fr) ==
        "un calcul prévu par la règle divise par zéro");
  CHECK(eng::reason_words(p, {kind::date_out_of_range, dsl::no_index, {}}, lang::ar) ==
        "يقع تاريخ محسوب بموجب القاعدة خارج نطاق التقويم");
}

// ------------------------------------------------------------------ the sentinel catalogue

namespace {

/// What is left of a rendering once the catalogue's markers ⟦…⟧, the pack's texts ⟪…⟫, digits,
/// spaces, punctuation and bidi controls are taken out: it must be nothing.
std::string residue(const std::string& s) {
  std::string out;
  std::size_t i = 0;
  auto skip_marked = [&](const char* open, const char* close) {
    if (s.compare(i, 3, open) != 0) return false;
    std::size_t end = s.find(close, i + 3);
    i = end == std::string::npos ? s.size() : end + 3;
    return true;
  };
  while (i < s.size()) {
    if (skip_marked("\u27E6", "\u27E7") || skip_marked("\u27EA", "\u27EB")) continue;
    bool control = false;
    for (const char* c : {"\u2066", "\u2067", "\u2068", "\u2069", "\u200F"}) {
      if (s.compare(i, 3, c) == 0) {
        i += 3;
        control = true;
        break;
      }
    }
    if (control) continue;
    const char ch = s[i++];
    if ((ch >= '0' && ch <= '9') || std::string_view(" \n-").find(ch) != std::string_view::npos) {
      continue;
    }
    out.push_back(ch);
  }
  return out;
}

}  // namespace

TEST_CASE("sentinel catalogue: every word around the pack's texts comes from the catalogue",
          "[engine][words]") {
  auto pack = compile_labelled(words_pack, label_words_pack);
  const eng::catalogue sentinel = eng::sentinel_catalogue();
  struct row {
    const char* rule;
    const char* as_of;
    const char* json;
  };
  const row rows[] = {
      {"eligible", "2016-06-01", full_record},
      {"eligible", "2016-06-01", R"({"minor": true, "spouse": {}, "household": {}})"},
      {"eligible", "2016-06-01", R"({"spouse": {}, "household": {}})"},
      {"score_ok", "2016-06-01", full_record},
      {"tier", "2016-06-01", full_record},
      {"tier", "2016-06-01", "{}"},
      {"window", "2015-12-31", "{}"},
      {"window_plain", "2017-01-01", "{}"},
      {"window_plain", "2016-03-01", "{}"},
      {"gap", "2016-06-01", "{}"},
      {"rsu_ok", "2016-06-01", R"({"spouse": {}, "household": {"score": "9.3264"}})"},
      {"rsu_ok", "2016-06-01", R"({"spouse": {}, "household": {}})"},
  };
  for (lang l : eng::languages) {
    const std::string header = eng::eval_text_header(day("2016-06-01"), "0123456789", l, sentinel);
    INFO(header);
    CHECK(residue(header).empty());
    for (const row& x : rows) {
      const std::string text = text_of(*pack, x.rule, x.as_of, x.json, l, sentinel);
      INFO(eng::lang_code(l) << " " << x.rule << " " << x.as_of << " " << x.json << "\n" << text);
      CHECK(residue(text).empty());
      // And the built-in catalogue does say something in those places.
      CHECK_FALSE(
          residue(text_of(*pack, x.rule, x.as_of, x.json, l, eng::builtin_catalogue())).empty());
    }
  }
}
