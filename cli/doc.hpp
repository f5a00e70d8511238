// `dalil doc`: the rule pack as a document for lawyers and officials (Markdown and a standalone
// HTML page) in French, Arabic or English, with every rule's sources, confidence, period in force
// and formula.
#pragma once

#include <string>
#include <string_view>

#include "dsl/program.hpp"
#include "dsl/source.hpp"
#include "engine/catalogue.hpp"

namespace dalil::cli {

struct doc_pages {
  std::string markdown;
  std::string html;
};

/// The two documents of a checked pack, every fixed word from `c` in language `l`: Arabic
/// pages right to left (`<html lang="ar" dir="rtl">`, a `<div dir="rtl">` around the Markdown),
/// identifiers, formulas and {placeholders} isolated left to right. `rules_dir` is named as given.
doc_pages render_doc(const dsl::program& program, const dsl::source_map& sources,
                     const std::string& rules_dir, engine::lang l,
                     const engine::catalogue& c = engine::builtin_catalogue());

/// Loads and checks the pack under `rules_dir`, then writes `out_dir/rules.md` and
/// `out_dir/rules.html` in language `l` (creating `out_dir`). Returns 0 on success, 1 when the
/// pack has errors (diagnostics go to std::cerr), 2 when a file or directory cannot be written.
int run_doc(const std::string& rules_dir, const std::string& out_dir,
            engine::lang l = engine::lang::fr);

/// `s` escaped for HTML text and attribute values (& < > " and ').
std::string html_escape(std::string_view s);

}  // namespace dalil::cli
