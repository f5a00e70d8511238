// Implementations of the dalil subcommands.
#include "cli/commands.hpp"

#include <iostream>

#include "dsl/checker.hpp"

namespace dalil::cli {

int run_check(const check_options& o) {
  dsl::source_map sources;
  dsl::diagnostics diags;
  std::vector<dsl::ast::module> modules;
  auto program = dsl::load_and_check(o.path, sources, modules, diags);
  diags.sort();
  std::cerr << dsl::render_all(sources, diags);
  if (!program) return 1;
  std::cout << "ok: " << program->modules.size() << " modules, " << program->rules.size()
            << " rules, " << program->parameters.size() << " parameters, "
            << program->tests.size() << " tests\n";
  return 0;
}

int run_fmt(const fmt_options&) { return 2; }

}  // namespace dalil::cli
