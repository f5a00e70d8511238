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

  CLI11_PARSE(app, argc, argv);
  if (check_cmd->parsed()) return dalil::cli::run_check(check);
  if (fmt_cmd->parsed()) return dalil::cli::run_fmt(fmt);
  return 2;
}
