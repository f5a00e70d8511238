// `dalil publish`: a reviewed rule pack made the one in effect from a date on, with who approved
// it (store/publications.hpp); `dalil publications` lists them. Exit codes as the store commands:
// 0 done; 1 failed (a pack that does not check or fails its tests, I/O, damage); 2 usage;
// 3 refused (a read-only store); 4 busy.
#pragma once

#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace dalil::cli {

struct publish_commands;  // the options and subcommands, registered on the app

/// Registers `publish` and `publications` on `app`.
std::shared_ptr<publish_commands> add_publish_commands(CLI::App& app);

/// Runs the subcommand of these that was parsed, if any; its exit status.
std::optional<int> run_publish_commands(const publish_commands& commands);

}  // namespace dalil::cli
