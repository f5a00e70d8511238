// The audit chain's one writer: every part of the store that appends an entry (the batch, the
// import, the server's counter decisions and reviews) goes through append_audit, inside the
// write transaction of the change the entry vouches for. And the seam through which `verify`
// checks rows it does not know itself (verify_context, row_checker).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "store/result.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace dalil::store::detail {

/// The hash of an audit entry: SHA-256 (hex) of its fields joined by US (0x1f), the previous
/// entry's hash first.
std::string entry_hash(const std::string& prev, std::int64_t seq, const std::string& at,
                       const std::string& actor, const std::string& action,
                       const std::string& subject, const std::string& details);

/// Appends an entry linked to the last one; the caller holds the write transaction (BEGIN
/// IMMEDIATE) and commits or rolls back with the change. Returns the entry's sequence number.
result<std::int64_t> append_audit(database& db, const std::string& actor, const std::string& action,
                                  const std::string& subject, const std::string& details);

/// The same appending with its two statements prepared once: one per connection, owned beside
/// it (a connection's hot write path, such as the server's writer, appends many entries). The
/// statements belong to the first connection it appends on; destroy the appender before that
/// connection closes (SQLite does not close a connection with statements still prepared).
class audit_appender {
 public:
  /// As append_audit, on `db` (always the same connection).
  result<std::int64_t> append(database& db, const std::string& actor, const std::string& action,
                              const std::string& subject, const std::string& details);

 private:
  sqlite3* db_ = nullptr;  // the connection the statements belong to
  statement last_;
  statement insert_;
};

/// One entry of a chain that verified (its hash and links are intact): what checkers read.
struct audit_entry {
  std::int64_t seq = 0;
  std::string actor;
  std::string action;
  std::string subject;
  std::string details;
};

/// What a checker of rows gets from `verify`: the connection (inside verify's read snapshot),
/// the entries of the intact chain in order, and where to report what it finds.
struct verify_context {
  database& db;
  const std::vector<audit_entry>& entries;
  std::vector<audit_problem>& problems;
  /// Names the damage: `kind` (e.g. "counter_decision"), the entry that vouches for the row
  /// (0 if none), and the row (table and key), never a personal value.
  void problem(std::int64_t seq, std::string kind, std::string what) const {
    problems.push_back({seq, std::move(what), std::move(kind)});
  }
};

/// A check of rows that other parts of the store write and vouch for with their own entries
/// (the server's counter decisions and reviews, the accounts): it compares each row with the
/// entries and reports every row that was changed, deleted or inserted. Entries of actions no
/// checker knows are still covered: the chain hashes every entry.
using row_checker = std::function<void(verify_context&)>;

/// Adds a checker that every later `verify` runs after the store's own checks (the server calls
/// it once at start-up; sqlite_store.cpp lists the checkers of the tables it migrates, which
/// `dalil audit verify` runs too).
void add_verify_checker(row_checker checker);
/// The checkers verify runs: those of sqlite_store.cpp's list, then those added.
std::vector<row_checker> verify_checkers();

/// The value of `"key":` in the flat JSON object of an audit entry's details (a string's
/// contents, or a number's text); "" when absent.
std::string audit_field(const std::string& details, const std::string& key);

/// The fields of an audit entry's details, a flat JSON object of strings and integers (a
/// string's contents unescaped, a number's text).
using fields = std::map<std::string, std::string, std::less<>>;
/// The fields of `details`; nullopt when the text is not such an object (tampered).
std::optional<fields> parse_details(std::string_view details);
/// A field holding an integer; nullopt when absent or not one.
std::optional<std::int64_t> int_field(const fields& f, std::string_view key);
/// A field's text; "" when absent.
std::string text_field(const fields& f, std::string_view key);

/// Retention, as verify checks it on either backend: each period (`rows`, the retention table)
/// is its last retention_set entry's (or the default), and the `erased` traces are those the
/// retention entries account for. `entries`: the intact entries (others are skipped); each
/// finding goes to `problem(seq, kind, text)`.
void check_retention_rows(
    const std::vector<audit_entry>& entries, const std::vector<retention_period>& rows,
    std::int64_t erased,
    const std::function<void(std::int64_t, const char*, std::string)>& problem);

/// What a run's entries say of it: `run` (opened), `run_complete`, and the forms of older stores
/// (`run_state`, the run named as the subject before schema 5).
struct run_entry {
  std::int64_t seq = 0;  // its `run` entry (0: only a completion names it)
  std::string ruleset;
  std::string as_of;
  std::optional<std::string> filter;
  std::optional<std::int64_t> generation;
  std::optional<std::int64_t> shards;  // named by the entries of runs in shards (PostgreSQL)
  bool complete = false;
  std::optional<std::int64_t> decision_sets;  // from its completion (or the upgrade)
  std::int64_t complete_seq = 0;
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
};
/// Reads one run, run_state or run_complete entry (its parsed details `f`) into `runs`; false
/// when it names no run.
bool read_run_entry(std::map<std::int64_t, run_entry>& runs, std::int64_t seq,
                    std::string_view action, std::string_view subject, const fields& f);

/// A row of the runs table as verify compares it (`shards`: none on SQLite).
struct run_row {
  std::int64_t id = 0;
  std::string ruleset;
  std::string as_of;
  std::string filter;
  std::string status;
  std::int64_t generation = 0;
  std::string started_at;
  std::string finished_at;  // "" while running
  std::optional<std::int64_t> shards;
};
/// Every run against its entries, as verify checks it on either backend: its key, generation,
/// shard count (when its entry names one), times and status, as many decision sets
/// (`set_counts`, by run) as its completion vouches for; a run without an entry, an entry without
/// its run, decision sets of no run. Each finding goes to `problem(seq, kind, text)`.
void check_run_rows(const std::map<std::int64_t, run_entry>& runs, const std::vector<run_row>& rows,
                    const std::map<std::int64_t, std::int64_t>& set_counts,
                    const std::function<void(std::int64_t, const char*, std::string)>& problem);

/// What the intact entries of a chain say of encryption at rest, gathered entry by entry: the
/// key check value its last keys_init or keys_rotate entry bound (and that entry), and the
/// applicants (pseudonyms) its erase entries name.
struct key_entries {
  std::string bound;  // "": no keys_init entry (a plain store)
  std::int64_t bound_seq = 0;
  std::set<std::string, std::less<>> erased;
  /// Takes in one intact entry (any action: those of other actions are skipped).
  void add(std::int64_t seq, std::string_view action, std::string_view subject,
           const std::string& details);
};

/// What verify reads of the key tables, on either backend (each with its own SQL).
struct key_rows {
  std::optional<std::string> key_check;  // the keyring's; nullopt: no keyring row
  struct unkeyed_record {
    std::int64_t record_id = 0;
    bool deleted = false;   // no data_keys row (otherwise: its wrapped key is NULL, destroyed)
    std::string applicant;  // the record's applicant_id (a pseudonym)
  };
  /// The sealed records whose applicant's data key is deleted or destroyed, by record id.
  std::vector<unkeyed_record> unkeyed;
  std::int64_t orphan_pseudonyms = 0;  // pseudonyms of no applicant
  /// The applicants with sealed records and no pseudonym (each once).
  std::vector<std::string> unlinked;
  /// How many records are sealed: read only when `key_entries::bound` is empty (no keys_init).
  std::int64_t sealed = 0;
};

/// Encryption at rest, as verify checks it without the master key on either backend: the
/// keyring is the one the last keys_init or keys_rotate entry bound; every sealed record's
/// applicant has a data key, destroyed only by an erase entry, and a pseudonym unless erased; no
/// pseudonym names no applicant; no record is sealed in a store no keys_init entry encrypted.
/// Each finding goes to `problem(seq, kind, text)`, in that order.
void check_key_rows(const key_entries& chain, const key_rows& rows,
                    const std::function<void(std::int64_t, const char*, std::string)>& problem);

/// The refusal of a command that rewrites rows and their entries (keys init over plain records,
/// keys seal) on a store that does not verify: new entries would vouch for a change made behind
/// the tool's back. `problems` is verify's count; `why` follows it in the message.
status refuse_unverified(const std::string& what, std::size_t problems, std::string_view why);

}  // namespace dalil::store::detail
