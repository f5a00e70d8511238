// The subcommands of `dalil`; each returns the process exit code.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace dalil::cli {

struct check_options {
  std::string path;
};
int run_check(const check_options& o);

struct fmt_options {
  std::vector<std::string> paths;
  bool check = false;
};
int run_fmt(const fmt_options& o);

struct eval_options {
  std::string rules;
  std::string as_of;
  std::string facts = "-";
  std::vector<std::string> only;
  std::string format = "json";
  std::string lang;  // text: fr when empty; json: explanations in this language alone, if set
  bool all = false;
  bool trace = true;
};
int run_eval(const eval_options& o);

struct test_options {
  std::string path;
  std::string filter;
  bool coverage = false;
};
int run_test(const test_options& o);

/// Reads a facts file (or standard input for "-") of at most one record's size limit; on
/// failure returns the reason (naming the file, never its content).
std::optional<std::string> read_facts(const std::string& path, std::string& out);

}  // namespace dalil::cli
