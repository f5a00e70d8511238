// The store: applicants' versioned records, rulesets by hash, evaluation runs, decision sets,
// and the hash-chained audit log. `store` is the interface; SQLite is the embedded default.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/sha256.hpp"
#include "store/crypto.hpp"
#include "store/result.hpp"

namespace dalil::store {

struct stored_record {
  std::int64_t record_id = 0;
  std::string applicant_id;  // in an encrypted store, the applicant's lookup hash
  std::int64_t version = 0;
  std::string content_hash;
  std::string json;  // decrypted when read from an encrypted store (next_pending: see sealed)
  /// Left by next_pending in an encrypted store for the batch's threads to open (open_record):
  /// the sealed content, the applicant's wrapped data key and its generation ("" when plain).
  std::string sealed{};
  std::string wrapped{};
  std::int64_t key_generation = 0;
  bool erased = false;  // the applicant's data key was destroyed
  /// The data key open_record unwrapped, for seal_decisions in the same thread (one unwrap per
  /// record); only for the record `opened_for` names (a reused slot holds another record).
  /// Never stored.
  crypto::data_key data_key{};
  std::int64_t opened_for = 0;
};

enum class put_result : std::uint8_t { stored, new_version, unchanged };

/// A batch's share of a run (`dalil batch --shard I/N`, PostgreSQL): the latest records whose
/// applicant falls in shard `index` of `count`, by a fixed function of the applicant id, the same
/// on every machine: the first 8 bytes of SHA-256 of the id (its UTF-8 bytes), read as an
/// unsigned big-endian integer, modulo `count`, plus 1. 1/1: every record.
struct shard_spec {
  std::int64_t index = 1;
  std::int64_t count = 1;
};
/// The largest shard count `--shard` accepts.
inline constexpr std::int64_t max_shards = 64;

struct run_info {
  std::int64_t run_id = 0;
  std::string ruleset_hash;
  std::string as_of;
  std::string filter;
  std::string status;  // running, complete
  /// The batch key (ruleset, as_of, filter) is run again after the records changed: a new run of
  /// the same key, one generation later, decides every latest record; complete runs never change.
  std::int64_t generation = 1;
  bool resumed = false;
  std::string lease;  // the lease's token while this process holds it (open_run)
  /// The shard this process decides (open_run), and the shard count the run is decided in (a
  /// run keeps the count it was started with: another count is refused).
  shard_spec shard{};
  std::int64_t shards = 1;
};

/// Of each batch key (ruleset, as_of, filter), the newest complete generation, in run order:
/// what `dalil stats`, `dalil decisions` and the server's figures show by default (superseded
/// generations and unfinished runs left out).
std::vector<run_info> current_runs(const std::vector<run_info>& all);

/// Who holds the store's writer lease (one batch at a time; imports wait for it).
/// On PostgreSQL one lease per (run, shard) of a batch run in shards.
struct lease_info {
  std::int64_t run_id = 0;
  std::int64_t pid = 0;
  std::string host;
  std::string since;         // ISO 8601
  std::int64_t expires = 0;  // Unix seconds: renewed with every chunk the batch commits
  std::string machine{};     // the holder's machine identity (lease.hpp, machine_id)
  shard_spec shard{};
  std::int64_t total = 0;  // PostgreSQL: the shard's records when its batch started
};

/// One shard of a run, as `dalil batch --status` shows it (no personal value).
struct shard_progress {
  shard_spec shard{};
  std::int64_t decided = 0;  // decision sets of the shard's applicants in the run
  std::int64_t total = -1;   // the shard's records to decide in all (-1: not known)
  bool has_holder = false;   // a lease row names the shard's last batch
  lease_info holder{};
  bool live = false;  // that batch holds its lease (renewed, not expired)
};

/// The form of the compact entries of a decision set, stored with each set (schema 2):
///   1: [status "d"|"u", value, provisional 0|1, [missing…]] (sets stored before schema 2):
///      whether the rule was in force is not recorded (readers take it from the run's ruleset
///      and date, which alone decide it), and `provisional` is the rule-level flag (the rule or
///      anything it reads is provisional);
///   2: the same, with a 5th element 0 when the rule was not in force on the run's date
///      ([status, value, provisional, [missing…], 0]; 4 elements when it was), and
///      `provisional` set by what decided the value (RULE-PACK.md, "Provisional, precisely").
/// A set for a record that no longer fits the schema is {"error":{"field","message"}} in both.
inline constexpr int decision_format = 2;

struct decision_set {
  std::int64_t record_id = 0;
  std::string applicant_id;         // the record's applicant: one set per applicant per run
  engine::digest input_hash;        // the record's content hash
  std::string decisions_json;       // one compact entry per contract rule (decision_format)
  engine::digest decisions_digest;  // SHA-256 of decisions_json (computed by the worker)
  engine::digest trace_digest;      // SHA-256 of the traces of those decisions
  std::string trace_json;           // only with --store-traces
  int format = decision_format;     // of decisions_json
  /// In an encrypted store (seal_decisions): the values plain_decisions replaced in
  /// decisions_json, sealed under the applicant's data key (binary; "" when nothing needed
  /// sealing); decisions_json then keeps plain_decisions' form.
  std::string sealed_decisions;
  /// Read: decisions_json is plain_decisions' form (values other than flags and enumeration
  /// names read "sealed"), its sealed whole not opened (no key asked, or its applicant erased).
  bool values_sealed = false;
};

/// One thing `verify` found wrong, named exactly: the kind of damage and the row.
struct audit_problem {
  std::int64_t seq = 0;  // the audit entry concerned (0: a row no entry vouches for, or the file)
  std::string what;      // names the table and the row (record id, run id, entry seq)
  std::string kind = "row";  // damaged_file, unreadable, chain, unreadable_entry, record, latest,
                             // import, rejection, ruleset, run, decision_set, applicant, schema,
                             // head, or what another part of the store reports (counter, account)
};

struct verify_options {
  std::string
      head;  // "" or an entry hash (64 hex) or SEQ:HASH kept elsewhere: it must be in the chain
};

struct verify_report {
  std::vector<audit_problem> problems;  // empty: intact
  std::int64_t entries = 0;
  std::string head_hash;           // the last entry's hash ("" for an empty log)
  std::int64_t erased = 0;         // applicants erased by `dalil erase` (their data keys destroyed)
  std::int64_t traces_erased = 0;  // stored traces erased by `dalil retention --apply`
  bool encrypted_in_place = false;  // a keys_init entry sealed the records a plain store held
};

/// Retention (schema 9, docs/operations.md): how long each kind of data is kept.
///   records: an applicant's records (every version), counted from the date the latest version
///            was received (import --received, else the day it was imported); erased by
///            destroying the applicant's data key (an encrypted store only);
///   traces:  stored traces (batch --store-traces), counted from their run's start.
struct retention_period {
  std::string kind;
  std::int64_t days = 0;
  std::string set_by;  // "default" until `dalil retention --set`
  std::string set_at;
};

/// What is due for erasure on a date (no personal value: store ids and counts).
struct retention_due {
  std::string as_of;
  std::vector<retention_period> periods;
  std::vector<std::string> applicants;   // the store's ids (pseudonyms when encrypted), due
  std::int64_t records = 0;              // their record versions
  std::int64_t traces = 0;               // stored traces due
  std::vector<std::int64_t> trace_runs;  // the runs holding them
};

/// What `apply_retention` erased.
struct retention_applied {
  std::int64_t applicants = 0;
  std::int64_t records = 0;
  std::int64_t traces = 0;
};

/// How an import is recorded (schema 9): the date its data was received (YYYY-MM-DD, "" for
/// the day of the import: the retention clock starts there), and for a correction its reason
/// and who made it (the import's audit entry names them; `by` is also its actor).
/// What `store::reseal_keys` did (dalil keys reseal).
struct reseal_report {
  std::int64_t applicants = 0;     // data keys moved from format 1 to format 2
  std::int64_t records = 0;        // record versions re-encrypted under them
  std::int64_t decision_sets = 0;  // decision sets whose sealed values or trace were
  std::int64_t traces = 0;         // stored traces among them
  std::int64_t transactions = 0;   // transactions committed (each with a keys_reseal entry)
  std::int64_t left = 0;           // data keys of format 1 left (0 once done)
  std::int64_t erased = 0;         // erased applicants: no key to move, left as they are
};

struct import_options {
  std::string received;
  std::string reason;
  std::string by;
  /// Records a backend that looks them up by the batch takes at once (0: its own, 10,000 on
  /// PostgreSQL); the tests set a small one to cross batches with a small file. Not recorded.
  std::size_t batch_records = 0;
};

/// One stored version of an applicant's record and the import that brought it.
struct record_version {
  std::int64_t record_id = 0;
  std::int64_t version = 0;
  bool latest = false;
  std::int64_t import_id = 0;
  std::string imported_at;
  std::string received;  // "" : the day it was imported
  std::string reason;    // a correction's reason ("" for none)
  std::string by;
};

struct audit_head {
  std::int64_t seq = 0;
  std::string hash;
};

/// A field filter for batch runs: `field.path = value` on the stored record.
struct record_filter {
  std::string path;  // e.g. "status" or "household.area"
  std::string value;
};
/// The fields a filter names ("status, household.area"), never their values: a filter may hold a
/// personal value (an id, a date of birth), and the messages that name it reach a terminal, a log
/// or the server's answer.
std::string filter_fields(const std::vector<record_filter>& filter);
/// A filter as a run's entry and row keep it ("status=refugee and household.area=urban"): it
/// holds the values, so it goes to the store and to those allowed to read it, never to a log.
std::string filter_text(const std::vector<record_filter>& filter);

/// One record for import_session::put_records.
struct incoming_record {
  std::string applicant_id;
  std::string content_hash;
  std::string json;
};

/// An import in progress: one write transaction from begin_import to finish, rolled back if the
/// object is destroyed before `finish` succeeds (an early return, a failed write, an exception).
class import_session {
 public:
  virtual ~import_session() = default;
  virtual std::int64_t id() const = 0;
  virtual result<put_result> put_record(const std::string& applicant_id,
                                        const std::string& content_hash,
                                        const std::string& json) = 0;
  /// How many records put_records takes at once: 1 (one by one, as put_record) unless the
  /// backend looks records up by the batch (PostgreSQL: one round trip for a batch instead of one
  /// per record, and no applicant's latest version kept in memory beyond the batch).
  virtual std::size_t batch_size() const { return 1; }
  /// Stores `records` in order, as put_record on each in turn would (a later record of an
  /// applicant sees the earlier ones); `out` gets their results, in the same order.
  virtual status put_records(std::span<const incoming_record> records,
                             std::vector<put_result>& out) {
    out.clear();
    for (const incoming_record& r : records) {
      auto p = put_record(r.applicant_id, r.content_hash, r.json);
      if (!p) return p.error();
      out.push_back(*p);
    }
    return {};
  }
  virtual status reject(std::int64_t row, const std::string& field, const std::string& reason) = 0;
  /// Records the counts and the audit entries that vouch for the import, then commits.
  virtual status finish(const std::string& file_hash, std::int64_t rows, std::int64_t stored,
                        std::int64_t unchanged, std::int64_t rejected) = 0;
};

/// Every operation returns result<T> or status (store/result.hpp): errc::not_found for a thing
/// that does not exist, errc::failed for the environment (I/O, full disk), errc::damaged for an
/// unreadable page or a tampered row, errc::busy when another process holds the lease or the
/// lock, errc::refused for what the store will not do (an audited read of a read-only store).
class store {
 public:
  virtual ~store() = default;

  /// A second connection to the same store, for a writer thread beside a reader.
  virtual result<std::unique_ptr<store>> reopen() = 0;
  virtual bool read_only() const = 0;

  // Encryption at rest (docs/operations.md).
  /// Whether the store's records are encrypted (a master key is bound to it).
  virtual bool encrypted() const = 0;
  /// Binds the master key the store was opened with to the store (from now on every record is
  /// sealed under a per-applicant data key, and applicants are named by a pseudonym), with a
  /// keys_init audit entry. A store that already holds plain records is encrypted in place in the
  /// same transaction (atomic): every record version sealed, applicants renamed to pseudonyms
  /// (records, decision sets), the rows re-vouched for by new entries, then VACUUM. errc::refused
  /// when the store is bound to a key already, holds stored traces or counter decisions;
  /// not_found without a key.
  virtual status init_keys(const std::string& actor) = 0;
  /// Erases an applicant of an encrypted store by destroying their data key (crypto-shredding)
  /// and unlinking their id from their pseudonym, with an `erase` audit entry naming who and why,
  /// in one transaction. Their records stay as unreadable ciphertext (verify still checks their
  /// hashes) and their decisions stay countable under the pseudonym. Returns the number of
  /// records made unreadable. errc::not_found for an applicant the store does not know;
  /// errc::refused on a plain store or without the master key.
  virtual result<std::int64_t> erase_applicant(const std::string& applicant_id,
                                               const std::string& reason,
                                               const std::string& by) = 0;
  /// Re-wraps every data key under `next` (the records are not re-encrypted), in one
  /// transaction with a `keys_rotate` audit entry; from then on only `next` opens the store.
  /// Returns the number of data keys re-wrapped. errc::refused on a plain store or without the
  /// current master key.
  virtual result<std::int64_t> rotate_key(const crypto::master_key& next,
                                          const std::string& actor) = 0;
  /// Seals in place, under each applicant's data key, the decisions' values that an encrypted
  /// store keeps in plain but its rules' declared types seal (plain_value_mask): those of
  /// decision sets written before schema 10 (all in plain) and those an older dalil kept by
  /// their shape (a text such as "abc_1"). An erased applicant's such values are dropped (its
  /// data key is gone: the values stay "sealed"). In one transaction with a `keys_seal` audit
  /// entry, then entries that vouch for every decision set again (verify takes them as
  /// superseding the earlier ones); the file is then compacted. Returns the number of decision
  /// sets changed (0: nothing written). errc::refused on a plain store, without the master
  /// key, or when the store does not verify; errc::busy while a batch holds the lease.
  virtual result<std::int64_t> seal_in_place(const std::string& actor) = 0;
  /// Moves every applicant whose data key is of format 1 (XChaCha20-Poly1305) to a new data key
  /// of format 2 (AES-256-GCM): their record versions, sealed decision values and stored traces
  /// opened under the old key and sealed under the new one, the old wrapped key overwritten.
  /// `per_transaction` applicants per transaction, each with a `keys_reseal` audit entry and
  /// entries that vouch again for the rows it changed (verify takes them as replacing the
  /// entries they name); a run interrupted leaves each applicant under exactly one key and is
  /// simply run again. Erased applicants stay erased (their key is gone; nothing is read). The
  /// store's batch lease is held while it runs. errc::refused on a plain store, without the
  /// master key, or when the store does not verify; errc::busy while a batch holds the lease.
  /// Only the SQLite store has encryption at rest: refused elsewhere.
  virtual result<reseal_report> reseal_keys(const std::string& actor,
                                            std::int64_t per_transaction) {
    (void)actor;
    (void)per_transaction;
    return fail(errc::refused, "re-sealing data keys: this store has no encryption at rest");
  }
  /// The id under which the store knows an applicant: the lookup hash in an encrypted store
  /// (errc::refused without the master key), the id itself otherwise.
  virtual result<std::string> applicant_key(const std::string& applicant_id) = 0;

  // Rulesets.
  virtual status put_ruleset(const std::string& hash, const std::string& canonical_source) = 0;
  virtual result<std::string> ruleset_source(const std::string& hash) = 0;

  // Import: refused (busy) while a live batch holds the lease.
  virtual result<std::unique_ptr<import_session>> begin_import(const std::string& file) = 0;
  /// The same, recorded with `options` (received date, a correction's reason and author).
  virtual result<std::unique_ptr<import_session>> begin_import(const std::string& file,
                                                               const import_options& options) = 0;
  /// Every stored version of an applicant's record, oldest first (not_found for none).
  virtual result<std::vector<record_version>> versions(const std::string& applicant_id) = 0;

  // Retention (schema 9).
  virtual result<std::vector<retention_period>> retention_periods() = 0;
  /// Sets a kind's period (records, traces), with a retention_set audit entry.
  virtual status set_retention(const std::string& kind, std::int64_t days,
                               const std::string& by) = 0;
  /// What is due for erasure on `as_of` (YYYY-MM-DD): due when received (records) or run
  /// (traces) on or before as_of minus the period.
  virtual result<retention_due> due_for_erasure(const std::string& as_of) = 0;
  /// Erases what is due today, in one transaction: each due applicant as `erase_applicant` does
  /// (an erase entry each, reason naming the retention period), each due trace (its hash kept),
  /// and a `retention` entry with the counts. errc::refused when records are due on a plain
  /// store (nothing erased: encrypt it first) or without the master key. `only`: one kind
  /// (records, traces), "" for every kind.
  virtual result<retention_applied> apply_retention(const std::string& by,
                                                    const std::string& only = "") = 0;

  // Runs.
  /// The latest records matching the filter (0: nothing for a batch to decide).
  virtual result<std::int64_t> count_matching(const std::vector<record_filter>& filter) = 0;
  /// The run of this batch key to work on, with the store's lease taken for it: the unfinished
  /// run of the key (resumed), a new run when none exists, or a new generation when the latest
  /// complete run of the key no longer decides every latest matching record (new versions or
  /// applicants since). A complete run that still decides them all is returned as is (status
  /// "complete", no lease: nothing to do). errc::busy when a live process holds the lease.
  /// With a shard of more than one (PostgreSQL only; errc::refused on SQLite), the lease is the
  /// (run, shard)'s: other shards of the same run run beside it, and a run started with another
  /// shard count is refused (errc::refused).
  virtual result<run_info> open_run(const std::string& ruleset_hash, const std::string& as_of,
                                    const std::vector<record_filter>& filter,
                                    const shard_spec& shard) = 0;
  /// Latest records (of the shard) whose applicant has no decision set in the run yet.
  virtual result<std::int64_t> count_pending(std::int64_t run_id,
                                             const std::vector<record_filter>& filter,
                                             const shard_spec& shard) = 0;
  /// The next records (latest version of each applicant of the shard, record id above
  /// `after_record_id`) whose applicant has no decision set in the run.
  virtual status next_pending(std::int64_t run_id, const std::vector<record_filter>& filter,
                              const shard_spec& shard, std::int64_t after_record_id,
                              std::size_t limit, std::vector<stored_record>& out) = 0;
  /// Opens a record that next_pending left sealed (`json` then holds its content; `sealed`
  /// emptied). Thread-safe: the batch's threads call it concurrently. errc::damaged when it
  /// does not open, errc::refused when its applicant was erased.
  virtual status open_record(stored_record& r) const = 0;
  /// In an encrypted store, seals the decision set `d` of the record `r` (as next_pending left
  /// it, with its wrapped data key) for run `run_id` under the applicant's data key, with one
  /// unwrap: its full trace in place (a stored trace then opens only with the master key, and
  /// dies with the applicant's erasure), and its compact decisions: `decisions_json` (and
  /// its digest) then holds plain_decisions' form, and `sealed_decisions` the values it
  /// replaced, sealed (whole_decisions puts them back). `plain_values` (plain_value_mask of
  /// the run's ruleset and contract rules, computed once per run) says which entries' values
  /// may stay in plain, by their rule's declared type.
  /// Nothing to do in a plain store. Thread-safe, as open_record.
  virtual status seal_decisions(const stored_record& r, std::int64_t run_id, decision_set& d,
                                std::span<const std::uint8_t> plain_values) const = 0;
  /// The next latest records matching the filter (record id above `after_record_id`), whatever
  /// any run decided: the cohort as an audited read of it sees it (dalil impact). They are the
  /// rows next_pending gives for a run that decides none of them (run ids start at 1), read and
  /// opened by the same path as the batch's (open_record, in this thread).
  status next_latest(const std::vector<record_filter>& filter, std::int64_t after_record_id,
                     std::size_t limit, std::vector<stored_record>& out) {
    if (auto s = next_pending(0, filter, shard_spec{}, after_record_id, limit, out); !s) return s;
    // An encrypted store's records are opened here (erased applicants are never listed).
    for (auto& r : out) {
      if (auto o = open_record(r); !o) return o;
    }
    return {};
  }
  /// Writes one chunk's decision sets atomically, with the audit entry that vouches for them,
  /// and renews the run's lease (errc::conflict when the lease was taken over).
  virtual status write_decisions(const run_info& run, const std::vector<decision_set>& sets) = 0;
  /// Marks the run complete (with its count in the audit log) when every latest matching record
  /// is decided, and releases the lease: of a run in shards, the shard that finishes last
  /// completes it, once (the others only release their lease). Returns whether this call
  /// completed the run.
  virtual result<bool> finish_run(const run_info& run,
                                  const std::vector<record_filter>& filter) = 0;
  /// Each shard's progress in a run (PostgreSQL; errc::refused on SQLite).
  virtual result<std::vector<shard_progress>> progress(std::int64_t run_id) = 0;
  /// Releases the lease without completing the run (a failed batch; it resumes later).
  virtual status release_lease(const run_info& run) = 0;
  /// The live lease's holder, or not_found when the store is free.
  virtual result<lease_info> lease() = 0;

  // Audit.
  virtual result<std::int64_t> audit(const std::string& actor, const std::string& action,
                                     const std::string& subject, const std::string& details) = 0;
  /// An audited read: appends the entry and commits it before anything is read, so nothing is
  /// read without its entry (errc::refused on a read-only store), then runs `read` in one read
  /// transaction (one snapshot, which holds the entry) and returns its status.
  virtual status audited_read(const std::string& actor, const std::string& subject,
                              const std::string& details, const std::function<status()>& read) = 0;
  /// Checks the file (PRAGMA quick_check), the chain, and every row the entries vouch for.
  /// Never throws; a failure to read at all is an error, damage found is in the report.
  virtual result<verify_report> verify(const verify_options& options) = 0;
  virtual result<audit_head> head() = 0;

  // Reads (a missing row is errc::not_found; an unreadable one errc::damaged).
  virtual result<stored_record> record(std::int64_t record_id) = 0;
  virtual result<run_info> run(std::int64_t run_id) = 0;
  /// A decision set, whole: in an encrypted store its sealed decisions opened with the master key
  /// (errc::refused without the key or when its applicant was erased, errc::damaged when they do
  /// not open).
  virtual result<decision_set> decisions(std::int64_t run_id, std::int64_t record_id) = 0;
  /// The applicant's decision set in the run (not_found when the run does not decide them). In
  /// an encrypted store opened whole when the store has the master key (else values_sealed).
  virtual result<decision_set> applicant_decisions(std::int64_t run_id,
                                                   const std::string& applicant_id) = 0;
  /// Every decision set of a run, in record order, with the applicant id. In an encrypted store,
  /// with `whole` and the master key, each set's sealed decisions are opened (errc::damaged when
  /// they do not open; an erased applicant's set stays values_sealed); otherwise each set is as
  /// stored (values_sealed when it has a sealed whole): what statistics count.
  virtual status each_decision(
      std::int64_t run_id,
      const std::function<void(const std::string& applicant, const decision_set&)>& f,
      bool whole = false) = 0;
  virtual result<std::vector<run_info>> runs() = 0;
  /// The newest complete run (not_found when no run is complete).
  virtual result<run_info> newest_complete_run() = 0;
  virtual result<std::int64_t> count_decisions(std::int64_t run_id) = 0;
  virtual result<std::int64_t> count_records() = 0;
};

enum class open_mode : std::uint8_t {
  read_write,  // creates and migrates
  read_only,   // an existing store of the current schema, never written (audit verify, stats)
};

/// Opens a SQLite store. Also ignores SIGXFSZ for the process (once): past a file-size limit a
/// write then fails with EFBIG and is reported, instead of the process dying by the signal.
/// `key`: the master key (nullptr: none). An encrypted store opened without it still verifies,
/// counts and backs up, but refuses to import or to read records (errc::refused); a key that is
/// not the store's is refused at open.
result<std::unique_ptr<store>> open_sqlite(const std::string& path,
                                           open_mode mode = open_mode::read_write,
                                           const crypto::master_key* key = nullptr);

/// What a backup or a restore copied: the schema version and the audit log's head of the copy.
struct copy_report {
  std::int64_t schema = 0;
  audit_head head;  // seq 0, "" for a store with an empty log
  std::int64_t bytes = 0;
};

/// Copies one consistent snapshot of the store at `path` to a new file `out` with SQLite's online
/// backup API, in one read transaction: a batch, an import or a server writing the store meanwhile
/// goes on, and the copy holds every transaction committed before it began and none after. The
/// store is opened read-only and never written. The copy is a single file (rollback journal,
/// no WAL), written beside `out` and linked into place only once complete and checked
/// (quick_check): nothing partial is ever left under `out`. errc::refused when `out` exists or
/// `path` is not a Dalil store; errc::damaged when the copy does not check.
result<copy_report> backup_sqlite(const std::string& path, const std::string& out);

/// Replaces (or creates) the store at `path` with the backup `from`, through SQLite's backup API
/// into the target's own connection (other connections see either the old or the new store,
/// never a mix). The backup is checked first (quick_check, a Dalil store of a schema this dalil
/// knows). errc::refused when `path` exists and `force` is false, or `from` and `path` are one
/// file; errc::busy while a batch holds the target's lease or another process its lock;
/// errc::damaged when the backup does not check.
result<copy_report> restore_sqlite(const std::string& from, const std::string& path, bool force);

/// The schema version this dalil creates and upgrades stores to (the number of migrations).
std::int64_t current_schema_version();

/// The row of schema_version that marks a store re-sealed by dalil keys reseal: far above any
/// schema number, so that a dalil older than reseal (which does not know the entries that vouch
/// again for re-sealed rows) refuses the store as written by a newer dalil instead of reporting
/// them as tampering, and never read as the store's schema (docs/operations.md).
std::int64_t resealed_schema_mark();

/// The current UTC time as ISO 8601.
std::string now_utc();
/// Unix seconds as ISO 8601 UTC, as the store writes its times: 2026-12-03T14:05:00Z.
std::string utc_text(std::int64_t unix_seconds);

}  // namespace dalil::store
