// Fuzz target: rule sources through parse → check → format → compile → evaluate.
// The input is one module, or several separated by lines starting with "#=== " (a comment to the
// language, so any single source is a valid seed). Properties checked beyond "no crash, no hang":
// - every diagnostic renders, and what is rendered is valid UTF-8;
// - `fmt` is a fixed point on what it prints (fmt(fmt(x)) == fmt(x)) and keeps a checked pack's
//   meaning: the formatted sources check with the same diagnostics and compile to the same
//   ruleset hash;
// - a pack that checks compiles, and the record-at-a-time and block evaluators agree, rule by
//   rule, on a record whose facts are all unknown, at three dates; every decision's JSON,
//   explanation (fr, ar, en) and trace is valid UTF-8.
#include <string>
#include <string_view>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/parser.hpp"
#include "engine/block.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "engine/session.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "tests/support/fmt_property.hpp"

namespace {

using namespace dalil;
using fuzz::violated;

std::vector<std::string> split_files(std::string_view input) {
  std::vector<std::string> files(1);
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t eol = input.find('\n', pos);
    std::size_t next = eol == std::string_view::npos ? input.size() : eol + 1;
    std::string_view line = input.substr(pos, next - pos);
    if (line.substr(0, 5) == "#=== " && !files.back().empty()) files.emplace_back();
    files.back().append(line);
    pos = next;
  }
  return files;
}

struct checked {
  dsl::source_map sources;
  dsl::diagnostics diags;
  std::vector<dsl::ast::module> modules;
  std::optional<dsl::program> program;
  bool parsed = true;
  std::string rendered;
};

void load(const std::vector<std::string>& files, checked& c) {
  for (std::size_t i = 0; i < files.size(); ++i) {
    dsl::file_id f = c.sources.add("fuzz" + std::to_string(i) + ".dalil", files[i]);
    std::size_t before = c.diags.error_count();
    auto m = dsl::parse(c.sources, f, c.diags);
    if (m) c.modules.push_back(std::move(*m));
    c.parsed = c.parsed && m.has_value() && c.diags.error_count() == before;
  }
  if (c.parsed) c.program = dsl::check(c.sources, c.modules, c.diags);
  c.diags.sort();
  c.rendered = dsl::render_all(c.sources, c.diags);
  if (!fuzz::utf8_ok(c.rendered)) violated("rules", "a diagnostic is not valid UTF-8");
}

void evaluate(const std::shared_ptr<const engine::ruleset>& rules) {
  const dsl::program& p = rules->program();
  std::vector<engine::value> facts(p.facts.size());  // every fact unknown
  const engine::value* row = facts.data();
  std::vector<std::uint32_t> all(p.rules.size());
  for (std::uint32_t r = 0; r < all.size(); ++r) all[r] = r;
  for (const char* day : {"2012-01-01", "2017-06-01", "2031-12-31"}) {
    auto inst = engine::instantiate(rules, *parse_date(day));
    engine::evaluator scalar(inst);
    engine::block_evaluator block(inst, all);
    block.run(&row, 1);
    for (std::uint32_t r : block.planned()) {
      scalar.set_facts(row);
      engine::value want = scalar.rule(r);
      engine::value got = block.get(r, 0);
      std::string a;
      std::string b;
      engine::append_value_json(a, p, p.rules[r].t, want);
      engine::append_value_json(b, p, p.rules[r].t, got);
      if (want.s != got.s || a != b || block.fired_exception(r, 0) != scalar.fired_exception(r)) {
        violated("rules", "the evaluators disagree on rule " + p.rules[r].qualified + " at " + day +
                              ": " + a + " against " + b);
      }
    }
    scalar.set_facts(row);
    for (std::uint32_t r = 0; r < p.rules.size(); ++r) {
      engine::decision d = engine::decide(scalar, r);
      std::string out;
      engine::append_decision_json(out, scalar, d, true);
      for (const char* lang : {"fr", "ar", "en"}) out += engine::explain(scalar, d, lang);
      if (!fuzz::utf8_ok(out)) violated("rules", "decision output is not valid UTF-8");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> files = split_files(input);
  checked original;
  load(files, original);
  if (!original.parsed) return 0;

  // fmt: parses back, is a fixed point, keeps the diagnostics, the ruleset hash and the checked
  // program (compared through a dump that does not go through the formatter).
  std::vector<testing::source_file> pack;
  for (std::size_t i = 0; i < files.size(); ++i) {
    pack.push_back({"fuzz" + std::to_string(i) + ".dalil", files[i]});
  }
  if (auto violation = testing::fmt_property_violation(pack)) violated("rules", *violation);
  if (!original.program) return 0;
  auto rules =
      engine::build_ruleset(original.sources, original.modules, std::move(*original.program));
  evaluate(rules);
  return 0;
}
