// The evaluation object writes each trace step once and copies it for the later decisions that
// share it (step_memo, engine/decision.hpp): the object must be byte for byte what writing every
// step gives, for every golden case of the shipped pack, with and without a single language.
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/decision.hpp"
#include "engine/evaluation.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "tests/support/packs.hpp"

namespace eng = dalil::engine;
using dalil::testing::source_path;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct golden_case {
  std::string name;
  std::string as_of;
};

std::vector<golden_case> cases() {
  std::vector<golden_case> out;
  std::istringstream in(read_file(source_path("tests/golden/eval/cases.tsv")));
  std::string line;
  while (std::getline(in, line)) {
    std::size_t tab = line.find('\t');
    if (tab != std::string::npos) out.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  return out;
}

}  // namespace

TEST_CASE("step memo: the evaluation object equals writing every step", "[engine][render]") {
  auto pack = dalil::testing::load_pack_dir(source_path("rules"));
  const dalil::dsl::program& p = pack->rules->program();
  std::string unknown;
  const std::vector<std::uint32_t> chosen = *eng::chosen_rules(p, {}, false, unknown);
  const std::vector<golden_case> all = cases();
  REQUIRE(all.size() >= 5);
  std::size_t steps_written = 0;
  std::size_t steps_listed = 0;
  for (const golden_case& c : all) {
    auto day = dalil::parse_date(c.as_of);
    REQUIRE(day.has_value());
    eng::record_reader reader(p);
    reader.set_as_of(*day);
    eng::record rec;
    eng::record_error err;
    REQUIRE(reader.read(read_file(source_path("tests/golden/eval/" + c.name + ".facts.json")), rec,
                        err));
    auto inst = eng::instantiate(pack->rules, *day);
    for (std::optional<eng::lang> only :
         {std::optional<eng::lang>{}, std::optional<eng::lang>{eng::lang::ar}}) {
      INFO(c.name << " as of " << c.as_of << (only ? " in one language" : " in three"));
      // With the memo (append_evaluation_json).
      eng::evaluator ev(inst);
      ev.set_record(rec);
      std::string object;
      eng::evaluation_options o;
      o.only = only;
      eng::append_evaluation_json(object, ev, "h", chosen, o);
      // Every step written, on a fresh evaluator (the same order of evaluation, so the same
      // steps), with a memo of our own to count what it would copy.
      eng::evaluator fresh(inst);
      fresh.set_record(rec);
      std::string decisions;
      std::string memo_out;  // the traces alone, through a memo
      std::string traces;    // the same traces, every step written
      eng::step_memo memo;
      memo.reset(p.rules.size(), true);
      for (std::size_t i = 0; i < chosen.size(); ++i) {
        if (i) decisions += ',';
        eng::decision d = eng::decide(fresh, chosen[i]);
        eng::append_decision_json(decisions, fresh, d, true, only);
        eng::append_trace_json(memo_out, fresh, d, true, &memo);
        eng::append_trace_json(traces, fresh, d);
        steps_listed += d.steps.size();
      }
      for (std::uint32_t size : memo.size) steps_written += size != 0 ? 1 : 0;
      const std::size_t open = object.find("\"decisions\":[");
      REQUIRE(open != std::string::npos);
      CHECK(object.substr(open + 13, object.size() - open - 13 - 2) == decisions);
      // The traces written through the memo alone are those written step by step.
      CHECK(memo_out == traces);
    }
  }
  // The cases share steps between decisions, so the memo is exercised (copies happened).
  CHECK(steps_listed > steps_written);
  CHECK(steps_written > 0);
}

TEST_CASE("step memo: a memo of the other kind of step is not used", "[engine][render]") {
  auto pack = dalil::testing::load_pack_dir(source_path("rules"));
  const dalil::dsl::program& p = pack->rules->program();
  auto day = dalil::parse_date("2025-06-01");
  REQUIRE(day.has_value());
  eng::record_reader reader(p);
  reader.set_as_of(*day);
  eng::record rec;
  eng::record_error err;
  REQUIRE(reader.read(read_file(source_path("tests/golden/eval/case-03.facts.json")), rec, err));
  auto inst = eng::instantiate(pack->rules, *day);
  std::string unknown;
  const std::vector<std::uint32_t> chosen = *eng::chosen_rules(p, {}, false, unknown);
  // Steps with sources recorded, then traces without sources asked through the same memo:
  // written afresh, never copied with their sources.
  eng::evaluator ev(inst);
  ev.set_record(rec);
  eng::step_memo memo;
  memo.reset(p.rules.size(), true);
  std::string with;
  std::string without;
  std::string plain;
  for (std::uint32_t r : chosen) {
    eng::decision d = eng::decide(ev, r);
    eng::append_trace_json(with, ev, d, true, &memo);
    // Into the same string, so that a wrongly used memo would find its offsets valid.
    const std::size_t at = with.size();
    eng::append_trace_json(with, ev, d, false, &memo);
    without += with.substr(at);
    with.resize(at);
    eng::append_trace_json(plain, ev, d, false);
  }
  CHECK(without == plain);
  CHECK(without.find("\"source\":") == std::string::npos);
}
