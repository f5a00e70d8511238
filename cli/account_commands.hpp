// Administration of identities from the command line (admin has no HTTP routes): `dalil user`,
// `dalil token` and `dalil office`. Each change is an audit entry whose actor is the OS user and
// host, marked unauthenticated.
#pragma once

#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace dalil::cli {

struct account_commands;  // the options and subcommands, registered on the app

/// Registers `user add|disable|enable|passwd|list`, `token create|revoke|list` and
/// `office add|list` on `app`.
std::shared_ptr<account_commands> add_account_commands(CLI::App& app);

/// Runs the account subcommand that was parsed, if any; its exit status.
std::optional<int> run_account_commands(const account_commands& commands);

}  // namespace dalil::cli
