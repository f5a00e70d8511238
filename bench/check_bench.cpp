// Parse + check time of a whole rule pack (default: rules/): loads, parses and checks it
// repeatedly and prints the median and best of the runs.
//
//   dalil_check_bench [DIR] [RUNS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "dsl/checker.hpp"

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : DALIL_RULES_DIR;
  int runs = argc > 2 ? std::stoi(argv[2]) : 30;
  std::vector<double> ms;
  std::size_t rules = 0;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    dalil::dsl::source_map sources;
    dalil::dsl::diagnostics diags;
    std::vector<dalil::dsl::ast::module> modules;
    auto program = dalil::dsl::load_and_check(dir, sources, modules, diags);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!program) {
      std::fprintf(stderr, "%s does not check\n", dir.c_str());
      return 1;
    }
    rules = program->rules.size();
  }
  std::sort(ms.begin(), ms.end());
  std::printf("parse+check %s (%zu rules): median %.2f ms, best %.2f ms, over %d runs\n",
              dir.c_str(), rules, ms[ms.size() / 2], ms.front(), runs);
  return 0;
}
