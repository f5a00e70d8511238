// The subcommands over the store: import, batch, replay, audit, export, stats, decisions.
// Exit codes: 0 done; 1 failed (I/O, full disk, damage, tampering, not found); 2 usage;
// 3 refused (an audited read of a read-only store, nothing to decide, no such applicant match);
// 4 busy (another batch holds the store's lease, or another writer its lock).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dsl/program.hpp"
#include "store/store.hpp"

namespace dalil::cli {

/// Prints a store error as an operator reads it ("refused: …", "busy: …") and returns the
/// command's exit code (1 failed or damaged, 3 refused, 4 busy).
int report_store_error(const store::error& e);

/// The --db as a message may show it: never a PostgreSQL connection string (it may hold a
/// password): "the PostgreSQL store" for one, the SQLite file's path otherwise.
std::string shown_db(const std::string& db);

/// Opens a store as the store commands do (read-only when it cannot be written), with the master
/// key from `key_file`, or DALIL_MASTER_KEY when no file is given and it is set.
store::result<std::unique_ptr<store::store>> open_store(const std::string& path,
                                                        const std::string& key_file);

struct import_options {
  std::string db;
  std::string key_file;  // the master key ("" : DALIL_MASTER_KEY, if set)
  std::string rules = "rules";
  std::string file;
  std::string received;  // YYYY-MM-DD: when the data was collected (the retention clock)
  std::string reason;    // a correction's reason (stored and audited with the import)
  std::string by;        // who made the correction (the import entry's actor)
};
int run_import(const import_options& o);

struct batch_options {
  std::string db;
  std::string key_file;  // the master key ("" : DALIL_MASTER_KEY, if set)
  std::string rules = "rules";
  std::string as_of;
  unsigned threads = 2;
  std::vector<std::string> where;  // FIELD=VALUE
  bool store_traces = false;
  bool quiet = false;
  std::size_t chunk = 5000;
  std::string shard;    // --shard I/N ("" : the whole run, 1/1)
  bool status = false;  // --status: each shard's progress, nothing evaluated
};
int run_batch(const batch_options& o);

/// The reader the CLI records in the audit log: the OS user and host, unauthenticated
/// ("cli:USER@HOST (unauthenticated)").
std::string cli_actor();

struct replay_options {
  std::string db;
  std::string key_file;  // the master key ("" : DALIL_MASTER_KEY, if set)
  std::string decision;  // RUN:RECORD
  std::string actor = cli_actor();
};
int run_replay(const replay_options& o);

struct audit_options {
  std::string db;
  std::string key_file;    // the master key ("" : DALIL_MASTER_KEY, if set)
  std::string head;        // verify: an entry hash (or SEQ:HASH) kept elsewhere
  bool read_only = false;  // open SQLITE_OPEN_READONLY (also when the file is not writable)
};
int run_audit_verify(const audit_options& o);
/// Prints the head of the audit log: "SEQ HASH", to keep elsewhere (verify --head).
int run_audit_head(const audit_options& o);

struct export_options {
  std::string db;
  std::string key_file;  // the master key ("" : DALIL_MASTER_KEY, if set)
  std::int64_t run = 0;  // 0: the newest complete run
  std::string format = "jsonl";
  std::string out = "-";
  bool force = false;  // replace an existing --out (never the store's own file)
  std::string actor = cli_actor();
};
int run_export(const export_options& o);

struct stats_options {
  std::string db;
  std::string key_file;         // the master key ("" : DALIL_MASTER_KEY, if set)
  std::string rules;            // optional: only for the names of programs and OSPs
  std::string format = "text";  // text or json
  std::int64_t run = 0;         // 0: the newest complete generation of each batch key
  bool all = false;             // every run (superseded generations and unfinished runs too)
};
int run_stats(const stats_options& o);

struct show_options {
  std::string db;
  std::string key_file;  // the master key ("" : DALIL_MASTER_KEY, if set)
  std::string applicant;
  std::int64_t run = 0;  // 0: the newest complete generation of each batch key
  bool all = false;
  std::string actor = cli_actor();
};
int run_show(const show_options& o);

/// Opens a store as every store command does: read-only when the file or its folder cannot be
/// written (an audited read then refuses it), read-write otherwise.
store::result<std::unique_ptr<store::store>> open_store(const std::string& path);

/// Reads `--where FIELD=VALUE` options into filters; false (the error printed, without the
/// value) when one is not of that form, names no field of the schema, or gives a value of
/// another type than the field's (a case that is not the enumeration's, a yes-or-no other than
/// true or false, a malformed number or date, a group of fields). A yes-or-no is kept as 1 or 0
/// and a whole number without leading zeros: as the store compares them.
bool parse_where(const dsl::program& p, const std::vector<std::string>& where,
                 std::vector<store::record_filter>& filter);

}  // namespace dalil::cli
