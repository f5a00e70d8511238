// The PostgreSQL store from the command line (docs/postgresql.md): `dalil migrate`, `dalil audit
// head|verify --db postgresql://…`, and the refusal of every other command given such a --db.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace dalil::cli {

struct pg_commands {
  CLI::App* migrate = nullptr;
  std::string from;
  std::string to;
};

/// Adds `dalil migrate --from FILE.db --to CONNINFO`.
pg_commands add_pg_commands(CLI::App& app);

/// Runs what the PostgreSQL store does today when the command line asks for it: `migrate`, or a
/// command whose --db is a PostgreSQL connection string (audit head and verify run; the others
/// are refused, exit 3). nullopt: not a PostgreSQL command (the SQLite path runs as before).
std::optional<int> run_pg_commands(const CLI::App& app, const pg_commands& cmds);

}  // namespace dalil::cli
