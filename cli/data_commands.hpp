// Personal data over its life (docs/operations.md): backup and restore of the store, master keys.
// Exit codes as the store commands: 0 done; 1 failed or damaged; 2 usage; 3 refused; 4 busy.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace dalil::cli {

struct backup_options {
  std::string db;
  std::string out;
};
/// `dalil backup --db FILE --out FILE`: one consistent snapshot, even while a batch runs.
int run_backup(const backup_options& o);

struct restore_options {
  std::string from;
  std::string db;
  bool force = false;  // replace an existing store
};
/// `dalil restore --from FILE --db FILE [--force]`.
int run_restore(const restore_options& o);

struct keys_options {
  std::string key_file;  // "": DALIL_MASTER_KEY
  std::string db;        // keys init: the store to bind the key to
};
/// `dalil keys init --key-file FILE`: a new master key in a new file (0600, never overwritten).
/// With `--db STORE`: binds the key (FILE, created if absent, or DALIL_MASTER_KEY) to a store
/// that holds no record yet: from then on its records are sealed (audited: keys_init).
int run_keys_init(const keys_options& o);
/// `dalil keys check [--key-file FILE]`: loads the master key as every command will (the file's
/// owner and mode checked, or DALIL_MASTER_KEY) and prints its key check value, never the key.
int run_keys_check(const keys_options& o);

struct rotate_options {
  std::string db;
  std::string key_file;      // the current master key ("": DALIL_MASTER_KEY)
  std::string new_key_file;  // the next one (created when absent)
};
/// `dalil keys rotate --db FILE --key-file OLD --new-key-file NEW`: re-wraps the data keys.
int run_keys_rotate(const rotate_options& o);
/// `dalil keys seal --db FILE [--key-file K]`: seals in place the decisions' values an older
/// dalil left in plain in an encrypted store (store::store::seal_in_place), audited.
int run_keys_seal(const keys_options& o);

struct reseal_options {
  std::string db;
  std::string key_file;  // "": DALIL_MASTER_KEY
  std::int64_t per_transaction = 5000;
};
/// `dalil keys reseal --db FILE [--key-file K] [--per-transaction N]`: every applicant whose data
/// key is of format 1 moved to a new format-2 key, their data re-encrypted under it
/// (store::store::reseal_keys), audited; resumable.
int run_keys_reseal(const reseal_options& o);

struct erase_options {
  std::string db;
  std::string key_file;
  std::string applicant;
  std::string reason;
  std::string by;
};
/// `dalil erase APPLICANT --reason TEXT --by NAME`: crypto-shredding, audited (erase).
int run_erase(const erase_options& o);

struct retention_options {
  std::string db;
  std::string key_file;
  bool due = false;              // list what is due (an audited read: it names applicants)
  bool apply = false;            // erase what is due today
  std::vector<std::string> set;  // KIND=DAYS
  std::string as_of;             // --due: the date (default today)
  std::string format = "text";   // text, json
  std::string by;                // --apply, --set: who
  std::string kind;              // --apply: only this kind (records, traces)
};
/// `dalil retention --db F (--due [--as-of DATE] [--format text|json] | --apply --by NAME |
/// --set KIND=DAYS… --by NAME)`: retention periods per kind of data (docs/operations.md).
int run_retention(const retention_options& o);

/// The `retention` subcommand, registered on `app`; run_data_commands runs it when parsed.
struct data_commands;
std::shared_ptr<data_commands> add_data_commands(CLI::App& app);
std::optional<int> run_data_commands(const data_commands& commands);

}  // namespace dalil::cli
