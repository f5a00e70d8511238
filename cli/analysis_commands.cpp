// `dalil diff`: loads both packs, runs analysis::diff and renders its result; `dalil whatif`: what
// would make one applicant's decision reach a goal (analysis/whatif.hpp). Every word around the
// packs' own names comes from the message catalogue (engine/catalogue.hpp).
#include "cli/analysis_commands.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "analysis/diff.hpp"
#include "analysis/whatif.hpp"
#include "cli/commands.hpp"
#include "cli/pack.hpp"
#include "engine/catalogue.hpp"
#include "engine/decision.hpp"

namespace dalil::cli {

struct analysis_commands {
  std::string old_dir;
  std::string new_dir;
  std::string as_of;
  std::string format = "text";
  std::string lang = "fr";
  unsigned timeout_ms = 10000;
  CLI::App* diff = nullptr;
  // whatif
  std::string rules;
  std::string facts;
  std::string goal;
  unsigned max = 3;
  CLI::App* whatif = nullptr;
};

namespace {

int run_diff(const analysis_commands& o) {
  analysis::diff_options opt;
  opt.timeout_ms = o.timeout_ms;
  if (!o.as_of.empty()) {
    opt.as_of = parse_date(o.as_of);
    if (!opt.as_of) {
      std::cerr << "error: --as-of " << o.as_of << " is not a date (YYYY-MM-DD)\n";
      return 2;
    }
  }
  auto old_pack = load_pack(o.old_dir);
  if (!old_pack) {
    std::cerr << "error: " << o.old_dir << ": the old rule pack does not check\n";
    return 2;
  }
  auto new_pack = load_pack(o.new_dir);
  if (!new_pack) {
    std::cerr << "error: " << o.new_dir << ": the new rule pack does not check\n";
    return 2;
  }
  analysis::diff_result r = analysis::diff(old_pack->rules, new_pack->rules, opt);
  const engine::lang l = engine::lang_or_en(o.lang);
  if (o.format == "json") {
    std::cout << analysis::to_json(r) << "\n";
  } else {
    analysis::text_options t;
    t.lang = l;
    t.markdown = o.format == "md";
    t.old_dir = o.old_dir;
    t.new_dir = o.new_dir;
    std::cout << analysis::to_text(r, old_pack->rules->program(), new_pack->rules->program(), t);
  }
  return r.all_same() ? 0 : 1;
}

int run_whatif(const analysis_commands& o) {
  auto as_of = parse_date(o.as_of);
  if (!as_of) {
    std::cerr << "error: --as-of " << o.as_of << " is not a date (YYYY-MM-DD)\n";
    return 2;
  }
  std::size_t eq = o.goal.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == o.goal.size()) {
    std::cerr << "error: --goal takes DECISION=VALUE, such as housing.direct_aid_2024=aid_70k\n";
    return 2;
  }
  if (o.max == 0) {
    std::cerr << "error: --max must be at least 1\n";
    return 2;
  }
  auto pack = load_pack(o.rules);
  if (!pack) {
    std::cerr << "error: " << o.rules << ": the rule pack does not check\n";
    return 2;
  }
  std::string facts;
  if (auto failure = read_facts(o.facts, facts)) {
    std::cerr << "error: " << o.facts << ": " << *failure << "\n";
    return 2;
  }
  analysis::whatif_options opt;
  opt.max = o.max;
  opt.timeout_ms = o.timeout_ms;
  std::string error;
  auto r = analysis::whatif(pack->rules, o.goal.substr(0, eq), o.goal.substr(eq + 1), *as_of, facts,
                            opt, error);
  if (!r) {
    std::cerr << "error: " << (error.rfind("the facts", 0) == 0 ? o.facts + ": " : "") << error
              << "\n";
    return 2;
  }
  if (o.format == "json") {
    std::cout << analysis::to_json(*r) << "\n";
  } else {
    std::cout << analysis::to_text(*r, pack->rules->program(), engine::lang_or_en(o.lang));
  }
  return r->any() ? 0 : 1;
}

}  // namespace

std::shared_ptr<analysis_commands> add_analysis_commands(CLI::App& app) {
  auto c = std::make_shared<analysis_commands>();
  c->diff = app.add_subcommand(
      "diff",
      "What two versions of a rule pack decide differently: per decision a checked example, a "
      "proof that none exists, or why neither was found; exit 0 when all are the same");
  c->diff->add_option("old", c->old_dir, "The old rule pack directory")->required();
  c->diff->add_option("new", c->new_dir, "The new rule pack directory")->required();
  c->diff->add_option("--as-of", c->as_of, "Only this as-of date (default: every date)");
  c->diff->add_option("--format", c->format, "text (default), md or json")
      ->check(CLI::IsMember({"text", "md", "json"}));
  c->diff->add_option("--lang", c->lang, "Language of the text and Markdown: fr (default), ar, en")
      ->check(CLI::IsMember({"fr", "ar", "en"}));
  c->diff->add_option("--timeout-ms", c->timeout_ms,
                      "Time limit of each solver query (default 10000); past it: unknown");
  c->whatif = app.add_subcommand(
      "whatif",
      "What would make one applicant's decision reach a goal: the fewest fact changes (each as "
      "the range that works, never a fixed fact), the earliest later date, and for an "
      "undetermined decision what to ask first; every answer checked by the evaluator; exit 0 "
      "when one is found, 1 when none");
  c->whatif->add_option("--rules", c->rules, "The rule pack directory")->required();
  c->whatif->add_option("--as-of", c->as_of, "The evaluation date (YYYY-MM-DD)")->required();
  c->whatif->add_option("--facts", c->facts, "The applicant's record (JSON file, - for stdin)")
      ->required();
  c->whatif->add_option("--goal", c->goal, "DECISION=VALUE, such as health.ramed=poor")->required();
  c->whatif->add_option("--max", c->max, "Alternatives by fact changes (default 3)");
  c->whatif->add_option("--format", c->format, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  c->whatif->add_option("--lang", c->lang, "Language of the text: fr (default), ar, en")
      ->check(CLI::IsMember({"fr", "ar", "en"}));
  c->whatif->add_option("--timeout-ms", c->timeout_ms,
                        "Time limit of each solver query (default 10000)");
  return c;
}

std::optional<int> run_analysis_commands(const analysis_commands& c) {
  if (c.diff != nullptr && c.diff->parsed()) return run_diff(c);
  if (c.whatif != nullptr && c.whatif->parsed()) return run_whatif(c);
  return std::nullopt;
}

}  // namespace dalil::cli
