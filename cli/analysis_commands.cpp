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

using engine::msg;

msg kind_message(const std::string& kind) {
  if (kind == "module") return msg::diff_kind_module;
  if (kind == "rule") return msg::diff_kind_rule;
  if (kind == "parameter") return msg::diff_kind_parameter;
  if (kind == "table") return msg::diff_kind_table;
  if (kind == "exception") return msg::diff_kind_exception;
  if (kind == "explanation") return msg::diff_kind_explanation;
  if (kind == "title") return msg::diff_kind_title;
  if (kind == "citation") return msg::diff_kind_citation;
  if (kind == "confidence") return msg::diff_kind_confidence;
  if (kind == "period") return msg::diff_kind_period;
  return msg::diff_kind_schema;
}

/// Long texts (explanations, sources) are named, not quoted: the reader opens the pack.
std::string short_text(const std::string& s) {
  constexpr std::size_t limit = 80;
  if (s.size() <= limit) return s;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "…";
}

std::string outcome_words(const analysis::outcome& o, engine::lang l) {
  const engine::catalogue& c = engine::builtin_catalogue();
  const std::string& v = o.words[static_cast<std::size_t>(l)];
  return o.in_force ? v : c.format(msg::diff_out_of_force, l, {{"value", v}});
}

std::string ground_words(const analysis::decision_diff& d, engine::lang l,
                         const std::string& as_of) {
  const engine::catalogue& c = engine::builtin_catalogue();
  switch (d.why) {
    case analysis::ground::proof_all:
      return c.text(msg::diff_why_proof_all, l);
    case analysis::ground::proof_date:
      return c.format(msg::diff_why_proof_date, l, {{"date", as_of}});
    case analysis::ground::solver:
      return c.format(msg::diff_why_solver, l, {{"detail", d.detail}});
    case analysis::ground::encoding:
      return c.format(msg::diff_why_encoding, l, {{"detail", d.detail}});
    case analysis::ground::unconfirmed:
      return c.format(msg::diff_why_witness, l, {{"detail", d.detail}});
    case analysis::ground::type:
      return c.text(msg::diff_why_type, l) + " (" + d.detail + ")";
    case analysis::ground::added:
      return c.text(msg::diff_why_added, l);
    case analysis::ground::removed:
      return c.text(msg::diff_why_removed, l);
    case analysis::ground::witness:
      return {};
  }
  return {};
}

/// Text (markdown = false) or Markdown for reports.
std::string render(const analysis::diff_result& r, const analysis_commands& o, engine::lang l,
                   bool markdown) {
  const engine::catalogue& c = engine::builtin_catalogue();
  std::string out;
  auto line = [&](const std::string& s, int indent) {
    if (markdown) {
      out += (indent == 0 ? std::string() : indent == 2 ? std::string("- ") : "  - ") + s + "\n";
    } else {
      out += engine::text_line(s, l, indent);
    }
  };
  std::string heading = c.format(msg::diff_heading, l, {{"old", o.old_dir}, {"new", o.new_dir}});
  line(markdown ? "# " + heading : heading, 0);
  std::string as_of = r.as_of ? to_string(*r.as_of) : std::string();
  line(r.as_of ? c.format(msg::diff_scope_date, l, {{"date", as_of}})
               : c.text(msg::diff_scope_all, l),
       0);
  if (markdown) out += "\n";
  line(markdown ? "## " + c.text(msg::diff_changes, l) : c.text(msg::diff_changes, l), 0);
  if (r.changes.empty()) line(c.text(msg::diff_no_changes, l), 2);
  for (const analysis::change& ch : r.changes) {
    std::string kind = c.text(kind_message(ch.kind), l);
    std::string name = markdown ? "`" + ch.name + "`" : ch.name;
    std::string s;
    if (ch.change == "added") {
      s = c.format(msg::diff_added, l, {{"kind", kind}, {"name", name}});
    } else if (ch.change == "removed") {
      s = c.format(msg::diff_removed, l, {{"kind", kind}, {"name", name}});
    } else {
      s = c.format(msg::diff_changed, l, {{"kind", kind}, {"name", name}, {"detail", ch.detail}});
    }
    if (!ch.from.empty()) {
      // A value added or removed has no other side: a dash stands for it.
      std::string before = ch.old_value.empty() ? "—" : ch.old_value;
      std::string after = ch.new_value.empty() ? "—" : ch.new_value;
      s += " — " +
           c.format(msg::diff_value, l, {{"from", ch.from}, {"old", before}, {"new", after}});
    } else if (ch.kind == "period" || ch.kind == "confidence" ||
               (ch.kind == "citation" && ch.change == "changed" && ch.old_value.size() < 80)) {
      s += ": " + short_text(ch.old_value) + " → " + short_text(ch.new_value);
    }
    line(s, 2);
  }
  if (markdown) out += "\n";
  line(markdown ? "## " + c.text(msg::diff_decisions, l) : c.text(msg::diff_decisions, l), 0);
  std::size_t same = 0;
  std::size_t different = 0;
  std::size_t unknown = 0;
  for (const analysis::decision_diff& d : r.decisions) {
    std::string name = markdown ? "`" + d.decision + "`" : d.decision;
    switch (d.v) {
      case analysis::verdict::same:
        ++same;
        line(c.format(msg::diff_same, l, {{"decision", name}}) + " — " + ground_words(d, l, as_of),
             2);
        break;
      case analysis::verdict::different: {
        ++different;
        std::string s = c.format(msg::diff_different, l, {{"decision", name}});
        if (d.as_of) {
          line(s, 2);
          std::string record = markdown ? "`" + d.record + "`" : d.record;
          line(c.format(msg::diff_witness, l, {{"date", to_string(*d.as_of)}, {"record", record}}),
               4);
          line(c.format(msg::diff_outcome, l,
                        {{"old", outcome_words(d.old_outcome, l)},
                         {"new", outcome_words(d.new_outcome, l)}}),
               4);
        } else {
          line(s + " — " + ground_words(d, l, as_of), 2);
        }
        break;
      }
      case analysis::verdict::unknown:
        ++unknown;
        line(c.format(msg::diff_unknown, l, {{"decision", name}}) + " — " +
                 ground_words(d, l, as_of),
             2);
        break;
    }
  }
  if (markdown) out += "\n";
  line(c.format(msg::diff_summary, l,
                {{"same", std::to_string(same)},
                 {"different", std::to_string(different)},
                 {"unknown", std::to_string(unknown)}}),
       0);
  return out;
}

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
    std::cout << render(r, o, l, o.format == "md");
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
