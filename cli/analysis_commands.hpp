// Advisers' reasoning from the command line: `dalil diff OLD_DIR NEW_DIR`, the semantic diff of
// two versions of a rule pack (analysis/diff.hpp), as text (fr, ar, en), Markdown or JSON.
#pragma once

#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace dalil::cli {

struct analysis_commands;  // the options and subcommands, registered on the app

/// Registers `diff` and `whatif` on `app`.
std::shared_ptr<analysis_commands> add_analysis_commands(CLI::App& app);

/// Runs the analysis subcommand that was parsed, if any; its exit status: diff: 0 when every
/// decision is proved the same, 1 when one differs or is unknown; whatif: 0 when an
/// alternative is found (or the goal is already reached), 1 when none; 2 on an error.
std::optional<int> run_analysis_commands(const analysis_commands& commands);

}  // namespace dalil::cli
