// Implementations of the dalil subcommands.
#include "cli/commands.hpp"

#include <iostream>

#include <filesystem>
#include <fstream>

#include "dsl/checker.hpp"
#include "dsl/formatter.hpp"
#include "dsl/parser.hpp"

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
            << " rules, " << program->parameters.size() << " parameters, " << program->tests.size()
            << " tests\n";
  return 0;
}

int run_fmt(const fmt_options& o) {
  dsl::source_map sources;
  dsl::diagnostics diags;
  std::vector<dsl::file_id> files;
  for (const std::string& path : o.paths) {
    std::vector<dsl::file_id> more = dsl::load_sources(path, sources, diags);
    files.insert(files.end(), more.begin(), more.end());
  }
  int unformatted = 0;
  for (dsl::file_id f : files) {
    std::size_t before = diags.error_count();
    auto m = dsl::parse(sources, f, diags);
    if (!m || diags.error_count() != before) continue;  // never rewrite a file that did not parse
    std::string formatted = dsl::format(sources, *m);
    if (formatted == sources.text(f)) continue;
    ++unformatted;
    if (o.check) {
      std::cout << "not formatted: " << sources.name(f) << "\n";
      continue;
    }
    std::string tmp = sources.name(f) + ".fmt-tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << formatted;
      if (!out.flush()) {
        std::cerr << "error: cannot write " << tmp << "\n";
        return 1;
      }
    }
    std::filesystem::rename(tmp, sources.name(f));  // atomic: never a half-written rule file
    std::cout << "formatted: " << sources.name(f) << "\n";
  }
  diags.sort();
  std::cerr << dsl::render_all(sources, diags);
  if (diags.has_errors()) return 1;
  return o.check && unformatted > 0 ? 1 : 0;
}

}  // namespace dalil::cli
