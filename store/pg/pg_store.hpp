// A Dalil store in PostgreSQL (issue 17, docs/postgresql.md): the schema by numbered
// migrations, the audit chain appended by several processes at once, its verification, and the
// copy of a SQLite store. Not yet the whole `store` interface: the CLI refuses what is missing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/accounts.hpp"
#include "store/counter_store.hpp"
#include "store/pg/pg.hpp"
#include "store/publications.hpp"
#include "store/result.hpp"
#include "store/store.hpp"

namespace dalil::store::pg {

/// The number of PostgreSQL migrations this dalil knows (schema_migrations holds one row each).
std::int64_t schema_version();

/// The key of the transaction-level advisory lock that serializes the chain's appends
/// (pg_advisory_xact_lock): one writer of the chain at a time across every process and machine.
inline constexpr std::int64_t chain_lock_key = 0x64616c696c01;  // "dalil" 01

/// Serializes the writers of records and runs (imports, opening a run, the counter's
/// transactions): ids are max + 1 under it. Taken before the chain's lock, never after it.
inline constexpr std::int64_t writer_lock_key = 0x64616c696c03;

class pg_store {
 public:
  /// Connects (the string as libpq reads it, never echoed) and, unless `read_only`, applies the
  /// migrations missing. A read-only store's session refuses every write (errc::refused); its
  /// schema must be the current one (errc::refused otherwise, naming the versions).
  static result<std::unique_ptr<pg_store>> open(const std::string& conninfo,
                                                bool read_only = false);

  /// Applies the migrations the database lacks, each in its own transaction under an advisory
  /// lock (two processes starting together apply each once). Returns how many it applied:
  /// 0 for an up-to-date schema.
  result<int> migrate();
  /// The database's schema version (0: no Dalil schema).
  result<std::int64_t> version();

  /// Appends an entry to the chain in its own transaction (see append_in).
  result<std::int64_t> audit(const std::string& actor, const std::string& action,
                             const std::string& subject, const std::string& details);
  /// Appends an entry inside the caller's open transaction: takes the chain's advisory lock
  /// (held to the transaction's end: appends of other processes wait, busy after lock_timeout),
  /// reads the head, and inserts the entry hashed as the SQLite store hashes it
  /// (detail::entry_hash), so heads are the same whatever the database. One round trip when the
  /// head is the one this store saw last (its own last append), two otherwise.
  result<std::int64_t> append_in(const std::string& actor, const std::string& action,
                                 const std::string& subject, const std::string& details);
  /// What one statement that appends an entry (dalil_append, or a function of the schema that
  /// writes rows with their entry) did: whether it appended, and the chain's head it left or
  /// found.
  struct append_attempt {
    bool appended = false;
    audit_head head;
  };
  /// append_in's loop for a statement of the caller's that appends an entry along with rows of
  /// its own, in the caller's open transaction: `attempt(seq, prev)` hashes its entry as number
  /// `seq` after the entry hashed `prev` (the head this store saw last), runs its statement,
  /// which appends only when that is still the head (checked under the chain's lock), and
  /// returns what it did; when it did not append, it is called again against the head it found
  /// (at most 3 calls: errc::busy after); an attempt's error ends the loop. Returns the entry's
  /// number.
  result<std::int64_t> append_with(
      std::string_view what,
      const std::function<result<append_attempt>(std::int64_t seq, const std::string& prev)>&
          attempt);
  result<audit_head> head();
  /// The key check value of the store's master key ("": a plain store, no keyring row): a store
  /// migrated from an encrypted SQLite store keeps its keyring.
  result<std::string> key_check();
  /// Checks the chain in one snapshot: every entry's hash, its link to the one before, no gap,
  /// and `options.head` reached unchanged; and in the same snapshot the records and decision
  /// sets against the intact entries (of the current form) that vouch for them: each entry's
  /// rows recomputed (kind "record" or "decision_set"), and, when every such entry is of the
  /// current form, no row left unvouched; the rulesets, the imports, the identity tables
  /// (store/accounts_check.hpp) and the publications against their entries. Runs are not checked
  /// yet.
  /// (report.entries counts the entries; `problems` names each broken one.)
  result<verify_report> verify_chain(const verify_options& options);

  connection& conn() { return conn_; }

 private:
  /// The step of the migration that vouches for the months kept (pg_migration::vouch_kept_months):
  /// a counter_figures entry for each month's figures kept, in the order of the months.
  status vouch_kept_months(std::string_view what);
  explicit pg_store(connection c) : conn_(std::move(c)) {}
  connection conn_;
  audit_head seen_;  // the head as this store last saw it (append_in's guess; checked there)
};

/// The `store` interface on a PostgreSQL database (docs/postgresql.md): rulesets, imports, runs
/// under the writer lease, decision sets and their reads, with the SQLite store's audit entries.
/// `key`: the master key (nullptr: none), as open_sqlite takes it: an encrypted store (one
/// migrated from an encrypted SQLite store, or bound by `dalil keys init`) opened without it
/// still counts and verifies but refuses to import or to read records (errc::refused); a key
/// that is not the store's is refused at open. The connection string is kept for reopen() and
/// never part of a message.
result<std::unique_ptr<store>> open_store(const std::string& conninfo,
                                          open_mode mode = open_mode::read_write,
                                          const crypto::master_key* key = nullptr);

/// The identity tables on PostgreSQL (accounts.hpp; the migrations applied first): the SQLite
/// store's semantics and audit entries (one core, store/accounts_core.hpp), shared by every
/// process on the database. Each change is one transaction holding the chain's lock from its
/// start; a login attempt's reservation holds a lock of its own, so the rate limits count every
/// server's attempts; a refusal is counted without the chain's lock (the first of a window takes
/// it to append its entry); windows and sessions go by the database's clock
/// (docs/postgresql.md).
result<std::unique_ptr<accounts>> open_accounts(const std::string& conninfo);

/// The publications on PostgreSQL (publications.hpp; the migrations applied first).
result<std::unique_ptr<publication_store>> open_publications(const std::string& conninfo);

/// The counter store (store/counter_store.hpp) on a PostgreSQL database, its migrations applied
/// (counter_store::open calls it for a connection string, with its key and key file). An
/// encrypted store is read and written with `key` as the SQLite counter does; errc::refused when
/// the key is not the store's or the store is not encrypted.
result<std::unique_ptr<counter_store>> open_counter(const std::string& conninfo,
                                                    const crypto::master_key* key = nullptr,
                                                    const std::string& key_file = {});

/// Checks every counter decision and review against its audit entry (its digest, its record),
/// and that none lacks one, in the caller's transaction (verify_chain's snapshot, or the
/// counter's own): the first problem, nullopt when all hold. A failure to read sets `failure`.
std::optional<audit_problem> check_counter_rows(connection& c, std::string_view what,
                                                error* failure);

/// What `copy_from_sqlite` copied.
struct migrate_report {
  std::vector<std::pair<std::string, std::int64_t>> tables;  // table, rows
  audit_head head;
};

/// Copies a plain SQLite store (the tables of records, rulesets, imports, runs, decision sets,
/// counter decisions, reviews, retention, the identity tables, the publications and the audit
/// log) into an empty PostgreSQL store, in one snapshot of the source and one transaction of the
/// target, by COPY; then reads every copied table back and compares it, row by row through a
/// digest, with the source. errc::refused for an encrypted source or a target that is not empty
/// (a row in any of migrated_tables() but those the migrations put there);
/// errc::busy while a live batch holds the source's lease; errc::damaged when the source does not
/// verify or the copy differs.
result<migrate_report> copy_from_sqlite(const std::string& sqlite_path, pg_store& to);

/// The tables that copy_from_sqlite requires to hold nothing but what the migrations put there:
/// every table the migrations create but schema_migrations (a migration that adds a table adds
/// it to copy.cpp's lists; a test compares these with the schema).
std::vector<std::string> migrated_tables();

}  // namespace dalil::store::pg
