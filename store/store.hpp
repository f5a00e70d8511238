// The store: applicants' versioned records, rulesets by hash, evaluation runs, decision sets,
// and the hash-chained audit log. `store` is the interface; SQLite is the embedded default.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/sha256.hpp"

namespace dalil::store {

struct stored_record {
  std::int64_t record_id = 0;
  std::string applicant_id;
  std::int64_t version = 0;
  std::string content_hash;
  std::string json;
};

enum class put_result : std::uint8_t { stored, new_version, unchanged };

struct run_info {
  std::int64_t run_id = 0;
  std::string ruleset_hash;
  std::string as_of;
  std::string filter;
  std::string status;  // running, complete
  bool resumed = false;
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
  engine::digest input_hash;        // the record's content hash
  std::string decisions_json;       // one compact entry per contract rule (decision_format)
  engine::digest decisions_digest;  // SHA-256 of decisions_json (computed by the worker)
  engine::digest trace_digest;      // SHA-256 of the traces of those decisions
  std::string trace_json;           // only with --store-traces
  int format = decision_format;     // of decisions_json
};

struct audit_problem {
  std::int64_t seq =
      0;  // first bad entry (0: the log itself is fine but a row it vouches for is not)
  std::string what;
};

/// A field filter for batch runs: `field.path = value` on the stored record.
struct record_filter {
  std::string path;  // e.g. "status" or "household.area"
  std::string value;
};

class store {
 public:
  virtual ~store() = default;

  /// A second connection to the same store, for a writer thread beside a reader.
  virtual std::unique_ptr<store> reopen(std::string& error) = 0;

  // Rulesets.
  virtual bool put_ruleset(const std::string& hash, const std::string& canonical_source,
                           std::string& error) = 0;
  virtual std::optional<std::string> ruleset_source(const std::string& hash) = 0;

  // Import.
  virtual std::int64_t begin_import(const std::string& file, const std::string& file_hash) = 0;
  virtual put_result put_record(std::int64_t import_id, const std::string& applicant_id,
                                const std::string& content_hash, const std::string& json,
                                std::string& error) = 0;
  virtual void reject(std::int64_t import_id, std::int64_t row, const std::string& field,
                      const std::string& reason) = 0;
  virtual bool finish_import(std::int64_t import_id, const std::string& file_hash,
                             std::int64_t rows, std::int64_t stored, std::int64_t unchanged,
                             std::int64_t rejected, std::string& error) = 0;

  // Runs.
  virtual std::optional<run_info> open_run(const std::string& ruleset_hash,
                                           const std::string& as_of,
                                           const std::vector<record_filter>& filter,
                                           std::string& error) = 0;
  virtual std::int64_t count_pending(std::int64_t run_id,
                                     const std::vector<record_filter>& filter) = 0;
  /// The next records (latest version of each applicant) without a decision set in the run.
  virtual bool next_pending(std::int64_t run_id, const std::vector<record_filter>& filter,
                            std::int64_t after_record_id, std::size_t limit,
                            std::vector<stored_record>& out, std::string& error) = 0;
  /// Writes one chunk's decision sets atomically, with the audit entry that vouches for them.
  virtual bool write_decisions(std::int64_t run_id, const std::vector<decision_set>& sets,
                               std::string& error) = 0;
  virtual bool finish_run(std::int64_t run_id, std::string& error) = 0;

  // Audit.
  virtual bool audit(const std::string& actor, const std::string& action,
                     const std::string& subject, const std::string& details,
                     std::string& error) = 0;
  virtual std::optional<audit_problem> verify(std::string& error) = 0;

  // Reads.
  virtual std::optional<stored_record> record(std::int64_t record_id) = 0;
  virtual std::optional<run_info> run(std::int64_t run_id) = 0;
  virtual std::optional<decision_set> decisions(std::int64_t run_id, std::int64_t record_id) = 0;
  /// Every decision set of a run, in record order, with the applicant id.
  virtual bool each_decision(
      std::int64_t run_id,
      const std::function<void(const std::string& applicant, const decision_set&)>& f,
      std::string& error) = 0;
  virtual std::vector<run_info> runs() = 0;
  virtual std::int64_t count_decisions(std::int64_t run_id) = 0;
  virtual std::int64_t count_records() = 0;
};

/// Opens (creating and migrating) a SQLite store. nullptr and `error` on failure.
std::unique_ptr<store> open_sqlite(const std::string& path, std::string& error);

/// The current UTC time as ISO 8601.
std::string now_utc();

}  // namespace dalil::store
