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

}  // namespace dalil::cli
