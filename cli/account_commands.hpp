// Administration of identities from the command line (admin has no HTTP routes): `dalil user`,
// `dalil token` and `dalil office`. Each change is an audit entry whose actor is the OS user and
// host, marked unauthenticated.
#pragma once

#include <memory>
#include <optional>
#include <string>

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

/// The actor of the CLI's audited actions: "USER@HOST (unauthenticated)" from the OS (the CLI
/// does not authenticate; whoever can write the store file is trusted).
std::string cli_actor();

}  // namespace dalil::cli
