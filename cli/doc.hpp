// `dalil doc`: the rule pack as a document for lawyers and officials (Markdown and a standalone
// HTML page), with every rule's sources, confidence, period in force and formula.
#pragma once

#include <string>

namespace dalil::cli {

/// Loads and checks the pack under `rules_dir`, then writes `out_dir/rules.md` and
/// `out_dir/rules.html` (creating `out_dir`). Returns 0 on success, 1 when the pack has errors
/// (diagnostics go to std::cerr), 2 when a file or directory cannot be written.
int run_doc(const std::string& rules_dir, const std::string& out_dir);

}  // namespace dalil::cli
