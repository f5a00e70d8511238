// dalil: check, format, test and evaluate rule packs; see `dalil --help`.
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Dalil: SNIA eligibility rules with the evidence for every decision"};
  app.require_subcommand(1);

  dalil::cli::check_options check;
  auto* check_cmd = app.add_subcommand("check", "Parse and check a rule pack; exit 1 on errors");
  check_cmd->add_option("path", check.path, "A .dalil file or a directory of them")->required();

  dalil::cli::fmt_options fmt;
  auto* fmt_cmd = app.add_subcommand("fmt", "Rewrite .dalil files in the canonical layout");
  fmt_cmd->add_option("paths", fmt.paths, ".dalil files or directories of them")->required();
  fmt_cmd->add_flag("--check", fmt.check, "Change nothing; exit 1 if a file is not formatted");

  dalil::cli::eval_options ev;
  auto* eval_cmd = app.add_subcommand("eval", "Decide for one applicant, with the evidence");
  eval_cmd->add_option("--rules", ev.rules, "Rule pack directory")->required();
  eval_cmd->add_option("--as-of", ev.as_of, "Date of the decision (YYYY-MM-DD)")->required();
  eval_cmd->add_option("--facts", ev.facts, "Applicant record (JSON file, or - for stdin)");
  eval_cmd->add_option("--rule", ev.only, "Decide only this rule (module.name); repeatable");
  eval_cmd->add_flag("--all", ev.all,
                     "Every rule, helpers included (default: rules with an explanation)");
  eval_cmd->add_option("--format", ev.format, "json or text")
      ->check(CLI::IsMember({"json", "text"}));
  eval_cmd->add_option("--lang", ev.lang, "Language of the text output")
      ->check(CLI::IsMember({"fr", "ar", "en"}));
  eval_cmd->add_flag("!--no-trace", ev.trace, "Leave the trace out of the JSON");

  dalil::cli::test_options test;
  auto* test_cmd = app.add_subcommand("test", "Run the tests written beside the rules");
  test_cmd->add_option("path", test.path, "Rule pack directory")->required();
  test_cmd->add_option("--filter", test.filter, "Only tests whose name contains this");
  test_cmd->add_flag("--coverage", test.coverage,
                     "List rules, table rows and exceptions no test exercised");

  CLI11_PARSE(app, argc, argv);
  if (eval_cmd->parsed()) return dalil::cli::run_eval(ev);
  if (test_cmd->parsed()) return dalil::cli::run_test(test);
  if (check_cmd->parsed()) return dalil::cli::run_check(check);
  if (fmt_cmd->parsed()) return dalil::cli::run_fmt(fmt);
  return 2;
}
