// The rule pack's explanations read true for the applicant in front of the official: an adult is
// not said to be under 18, an unknown date of birth reads grammatically, the AMO Tadamon
// threshold is the figure the press source gives, and the text names each document once.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/catalogue.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "tests/support/packs.hpp"

namespace eng = dalil::engine;
using Catch::Matchers::Contains;
using dalil::testing::source_path;
using eng::lang;

namespace {

struct rendered {
  std::string explanation;
  std::string text;
};

rendered render(const dalil::testing::loaded_pack& pack, const std::string& rule,
                const std::string& as_of, const std::string& json, lang l) {
  const dalil::dsl::program& p = pack.rules->program();
  auto r = p.find_rule(rule);
  REQUIRE(r.has_value());
  auto day = dalil::parse_date(as_of);
  REQUIRE(day.has_value());
  eng::record_reader reader(p);
  reader.set_as_of(*day);
  eng::record rec;
  eng::record_error err;
  INFO("record " << json);
  REQUIRE(reader.read(json, rec, err));
  eng::evaluator ev(eng::instantiate(pack.rules, *day));
  ev.set_record(rec);
  const eng::decision d = eng::decide(ev, *r);
  rendered out;
  out.explanation = eng::explain(ev, d, l);
  eng::append_decision_text(out.text, ev, d, l);
  return out;
}

}  // namespace

TEST_CASE("pack words: an adult's school access never says under 18", "[engine][words][pack]") {
  auto pack = dalil::testing::load_pack_dir(source_path("rules"));
  struct row {
    const char* birth;
    lang l;
    const char* says;
  };
  const row rows[] = {
      {"1960-03-07", lang::fr, "moins de 18 ans : non"},
      {"1960-03-07", lang::en, "under 18: no"},
      {"1960-03-07", lang::ar, "دون 18 سنة: لا"},
      {"2014-03-15", lang::fr, "moins de 18 ans : oui"},
      {"2014-03-15", lang::en, "under 18: yes"},
  };
  for (const row& x : rows) {
    const std::string json = std::string(R"({"nationality": "SN", "birth_date": ")") + x.birth +
                             R"(", "status": "regular"})";
    const rendered r = render(*pack, "education.school_access", "2024-05-10", json, x.l);
    INFO(r.explanation);
    CHECK_THAT(r.explanation, Contains(x.says));
    CHECK_THAT(r.explanation, !Contains("(moins de 18 ans)") && !Contains("(under 18)") &&
                                  !Contains("(أقل من 18 سنة)"));
  }
  // Unknown birth date: a feminine label, then the invariable phrase; the age to be determined.
  const rendered u =
      render(*pack, "education.school_access", "2024-05-10", R"({"nationality": "SN"})", lang::fr);
  CHECK_THAT(u.explanation,
             Contains("Date de naissance : information non fournie ; moins de 18 ans : à "
                      "déterminer"));
}

TEST_CASE("pack words: the AMO Tadamon threshold as its source gives it", "[engine][words][pack]") {
  auto pack = dalil::testing::load_pack_dir(source_path("rules"));
  const std::string lawful = R"({"status": "refugee", "medical_coverage": false, "household": {)";
  // Not provided: the threshold alone, exactly.
  const rendered alone = render(*pack, "health.amo_tadamon", "2025-06-01", lawful + "}}", lang::fr);
  CHECK_THAT(alone.explanation, Contains("score RSU : information non fournie (seuil 9,3264284)"));
  // A score that would read 9,33 beside a threshold read 9,33: now 9,326 below 9,3264284.
  const rendered below = render(*pack, "health.amo_tadamon", "2025-06-01",
                                lawful + R"("rsu_score": "9.3264"}})", lang::fr);
  CHECK_THAT(below.explanation, Contains("score RSU : 9,326 (seuil 9,3264284)"));
  const rendered en = render(*pack, "health.amo_tadamon", "2025-06-01",
                             lawful + R"("rsu_score": "7.8228137"}})", lang::en);
  CHECK_THAT(en.explanation, Contains("RSU score: 7.82 (threshold 9.3264284)"));
}

TEST_CASE("pack words: an undetermined decision names its documents once",
          "[engine][words][pack]") {
  auto pack = dalil::testing::load_pack_dir(source_path("rules"));
  const dalil::dsl::program& p = pack->rules->program();
  for (lang l : eng::languages) {
    const rendered r = render(*pack, "regularization_2014.eligible", "2014-06-01", "{}", l);
    INFO(r.text);
    // Line 1: title and value; line 2: the explanation; then the documents, grouped.
    std::vector<std::string> lines;
    for (std::size_t at = 0; at < r.text.size();) {
      const std::size_t end = r.text.find('\n', at);
      lines.push_back(r.text.substr(at, end - at));
      at = end == std::string::npos ? r.text.size() : end + 1;
    }
    REQUIRE(lines.size() > 3);
    const std::string& explanation = lines[1];
    const std::string heading = eng::builtin_catalogue().text(eng::msg::heading_documents, l);
    REQUIRE_THAT(lines[2], Contains(heading));
    const std::string sources = eng::builtin_catalogue().text(eng::msg::heading_sources, l);
    std::size_t listed = 0;
    for (const auto& d : p.documents) {
      const std::string title = d.title.at(std::string(eng::lang_code(l)));
      bool in_list = false;
      for (std::size_t i = 3; i < lines.size() && lines[i].find(sources) == std::string::npos;
           ++i) {
        in_list = in_list || lines[i].find(title) != std::string::npos;
      }
      if (!in_list) continue;
      ++listed;
      INFO("document " << d.name);
      CHECK_THAT(explanation, !Contains(title));
    }
    CHECK(listed >= 3);
    CHECK_THAT(explanation,
               Contains(eng::builtin_catalogue().text(eng::msg::undetermined_ask_below, l)));
  }
}
