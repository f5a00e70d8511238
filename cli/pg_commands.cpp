// The PostgreSQL store's commands (pg_commands.hpp). The connection string is never printed:
// not in errors, not in the output; rows are named by number and tables by name.
#include "cli/pg_commands.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/store_commands.hpp"
#include "store/crypto.hpp"
#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"

namespace dalil::cli {

namespace {

constexpr int exit_failed = 1;
constexpr int exit_usage = 2;
constexpr int exit_refused = 3;

std::string option(const CLI::App& cmd, const char* name) {
  const CLI::Option* o = cmd.get_option_no_throw(name);
  return o == nullptr || o->count() == 0 ? std::string() : o->as<std::string>();
}

bool flag(const CLI::App& cmd, const char* name) {
  const CLI::Option* o = cmd.get_option_no_throw(name);
  return o != nullptr && o->count() > 0;
}

/// The master key given to audit head or verify (--key-file, else DALIL_MASTER_KEY), checked
/// against the store's key check value as the SQLite store checks it; neither command opens
/// anything sealed (verify checks the sealed bytes by their hashes). No key, or a plain store:
/// nothing to check.
store::status check_key(store::pg::pg_store& s, const std::string& key_file) {
  if (key_file.empty() && std::getenv(store::crypto::master_key_variable) == nullptr) return {};
  auto key = store::crypto::load_master_key(key_file);
  if (!key) return key.error();
  auto check = s.key_check();
  if (!check) return check.error();
  if (!check->empty() && store::crypto::key_check(*key) != *check) {
    return store::fail(store::errc::refused,
                       "the master key given is not this PostgreSQL store's (its check value is " +
                           store::crypto::key_check(*key) + ", the store's " + *check +
                           ": `dalil keys check` prints a key's)");
  }
  return {};
}

int audit_head(const std::string& db, bool read_only, const std::string& key_file) {
  auto s = store::pg::pg_store::open(db, read_only);
  if (!s) return report_store_error(s.error());
  if (auto k = check_key(**s, key_file); !k) return report_store_error(k.error());
  auto h = (*s)->head();
  if (!h) return report_store_error(h.error());
  std::cout << h->seq << " " << h->hash << "\n";
  return 0;
}

int audit_verify(const std::string& db, bool read_only, const std::string& head,
                 const std::string& key_file) {
  auto s = store::pg::pg_store::open(db, read_only);
  if (!s) return report_store_error(s.error());
  if (auto k = check_key(**s, key_file); !k) return report_store_error(k.error());
  store::verify_options options;
  options.head = head;
  auto r = (*s)->verify_chain(options);
  if (!r) return report_store_error(r.error());
  if (!r->problems.empty()) {
    for (const auto& p : r->problems) std::cout << "TAMPERED: " << p.what << "\n";
    return exit_failed;
  }
  std::cout << "audit log verified on PostgreSQL: " << r->entries
            << " entries, each one's hash and its link to the one before intact";
  if (!head.empty()) std::cout << "; the log reaches head " << head << " unchanged";
  std::cout << "; the rulesets, imports, records, decision sets, counter decisions and reviews the "
               "entries vouch for intact, each record's JSON against its content hash, the latest "
               "versions, the runs, the retention periods, and the publications, offices, users, "
               "tokens and sessions";
  if (r->erased != 0) {
    std::cout << "; " << r->erased
              << " applicant(s) erased (their data keys destroyed by audited erasures: their "
                 "records are unreadable, their decisions still counted)";
  }
  if (r->traces_erased != 0) {
    std::cout << "; " << r->traces_erased
              << " stored trace(s) erased by retention (their hashes kept, every one accounted "
                 "for by a retention entry)";
  }
  if (r->encrypted_in_place) {
    std::cout << "; the store was encrypted in place (its records and decision sets are "
                 "vouched for again by the entries of that keys_init)";
  }
  std::cout << " (on a store migrated from a SQLite store older than its schema 5, a record or "
               "decision set inserted behind the tool's back is not yet named on a PostgreSQL "
               "store: docs/postgresql.md)\n";
  return 0;
}

int migrate(const pg_commands& c) {
  if (!store::pg::is_conninfo(c.to)) {
    std::cerr << "error: --to must be a PostgreSQL connection string (postgresql://…, "
                 "postgres://… or host=… dbname=…); it is not shown here\n";
    return exit_usage;
  }
  if (::access(c.from.c_str(), R_OK) != 0) {
    std::cerr << "error: --from " << c.from << ": no readable SQLite store there\n";
    return exit_usage;
  }
  auto s = store::pg::pg_store::open(c.to);
  if (!s) return report_store_error(s.error());
  auto r = store::pg::copy_from_sqlite(c.from, **s);
  if (!r) return report_store_error(r.error());
  std::cout << c.from
            << " copied to PostgreSQL (one transaction, every table read back and "
               "compared):\n";
  for (const auto& [table, rows] : r->tables) std::cout << "  " << table << ": " << rows << "\n";
  std::cout << "audit head " << r->head.seq << " " << r->head.hash
            << " (dalil audit head on the source prints the same)\n";
  return 0;
}

}  // namespace

pg_commands add_pg_commands(CLI::App& app) {
  pg_commands c;
  c.migrate = app.add_subcommand(
      "migrate", "Copy a SQLite store, audit chain included, into an empty PostgreSQL store");
  c.migrate
      ->add_option(
          "--from", c.from,
          "The SQLite store (plain or encrypted: an encrypted one is copied sealed, no key needed)")
      ->required();
  c.migrate
      ->add_option("--to", c.to,
                   "PostgreSQL connection string (postgresql://…, or host=… dbname=…; the PG* "
                   "variables, service and password files are read: keep passwords out of it)")
      ->required();
  return c;
}

std::optional<int> run_pg_commands(const CLI::App& app, const pg_commands& cmds) {
  if (cmds.migrate->parsed()) return migrate(cmds);
  // The command that runs: the deepest parsed subcommand (audit verify, token create, …).
  const CLI::App* leaf = &app;
  std::string path;
  for (;;) {
    auto subs = leaf->get_subcommands();
    if (subs.empty()) break;
    leaf = subs.front();
    path += (path.empty() ? "" : " ") + leaf->get_name();
  }
  std::string db = option(*leaf, "--db");
  if (db.empty() || !store::pg::is_conninfo(db)) return std::nullopt;
  // The server opens its stores itself, with the master key of --key-file or DALIL_MASTER_KEY
  // (an encrypted store's counter, docs/postgresql.md; refused there without it).
  if (path == "serve") return std::nullopt;
  // audit head and verify take a master key (checked against the store's, nothing opened).
  if (path == "audit head") {
    return audit_head(db, flag(*leaf, "--read-only"), option(*leaf, "--key-file"));
  }
  if (path == "audit verify") {
    return audit_verify(db, flag(*leaf, "--read-only"), option(*leaf, "--head"),
                        option(*leaf, "--key-file"));
  }
  // Through the store interface, as on SQLite (store_commands.cpp opens the PostgreSQL store
  // with the master key of --key-file or DALIL_MASTER_KEY).
  if (path == "import" || path == "batch" || path == "export" || path == "stats" ||
      path == "replay" || path == "decisions" || path == "impact" || path == "retention" ||
      path == "erase" || path == "keys init" || path == "keys rotate" || path == "keys seal") {
    return std::nullopt;
  }
  if (!option(*leaf, "--key-file").empty()) {
    std::cerr << "refused: not yet supported on a PostgreSQL store: dalil " << path
              << " with a master key (--key-file; docs/postgresql.md)\n";
    return exit_refused;
  }
  // Over store/pg/open.hpp's accounts and publications, as on SQLite (account_commands.cpp,
  // publish_command.cpp).
  if (path == "user add" || path == "user disable" || path == "user enable" ||
      path == "user passwd" || path == "user list" || path == "token create" ||
      path == "token revoke" || path == "token list" || path == "office add" ||
      path == "office list" || path == "publish" || path == "publications" || path == "serve") {
    return std::nullopt;
  }
  std::cerr << "refused: not yet supported on a PostgreSQL store: dalil " << path
            << " (today: dalil migrate, import, batch, replay, decisions, impact, export, stats, "
               "retention, erase, keys init, keys rotate, keys seal, "
               "user, token, office, publish, publications, serve, audit head and audit verify; "
               "docs/postgresql.md)\n";
  return exit_refused;
}

}  // namespace dalil::cli
