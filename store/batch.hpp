// Importing cohorts and reprocessing them: streaming, parallel, resumable after a crash, with
// every input row accounted for.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/ruleset.hpp"
#include "store/store.hpp"

namespace dalil::store {

struct import_summary {
  std::int64_t rows = 0;
  std::int64_t stored = 0;        // new applicants
  std::int64_t new_versions = 0;  // changed records of known applicants
  std::int64_t unchanged = 0;
  std::int64_t rejected = 0;
  /// Rows whose id an earlier row of the same file had (each a new version or unchanged: the
  /// file's last row of an applicant is the one decided): told, as a file that repeats ids is
  /// often a broken export.
  std::int64_t repeated = 0;
  struct rejection {
    std::int64_t row;
    std::string field;
    std::string reason;
  };
  std::vector<rejection> rejections;  // the first ones, for the terminal
};

/// Imports a JSONL or CSV file (by extension) of applicant records. Every non-empty row becomes a
/// stored record (new, new version or unchanged) or a rejection naming the row and the field.
/// One transaction: on any failure nothing of the file is stored. errc::busy while a batch holds
/// the store's lease.
status import_file(store& db, const dsl::program& program, const std::string& path,
                   import_summary& summary, const import_options& options = {});

/// Evaluation threads a batch may ask for (more is refused before anything is written).
inline constexpr unsigned max_batch_threads = 256;

struct batch_options {
  date as_of;
  unsigned threads = 2;  // 1 to max_batch_threads (0 is taken as 1)
  std::vector<record_filter> filter;
  bool store_traces = false;
  bool progress = true;
  std::size_t chunk = 5000;
  shard_spec shard{};  // --shard I/N (PostgreSQL): this process decides shard I of N
};

struct batch_summary {
  std::int64_t run_id = 0;
  std::int64_t generation = 1;
  bool resumed = false;
  bool already_complete = false;  // the key's complete run still decides every latest record
  std::int64_t processed = 0;     // in this invocation
  std::int64_t total = 0;         // decision sets in the run at the end
  /// Of `processed`, the records that no longer fit the pack's schema (a set saying where and
  /// why, no decision): told, so that a run of errors never reads as a run of decisions.
  std::int64_t unfit = 0;
  /// This invocation completed the run (its run_complete entry); false for a shard that
  /// finished its part while other shards still have records to decide.
  bool completed = false;
  double seconds = 0;
};

/// Evaluates every contract decision (rules with an explanation) for the latest record of every
/// applicant matching the filter, writing one decision set per applicant. Resumes an unfinished
/// run with the same ruleset, date and filter; after new record versions, starts a new
/// generation of it (store::open_run). Refused (errc::refused) when the rule pack has no contract
/// decision or no stored record matches the filter; errc::busy when another batch holds the lease.
status run_batch(store& db, const std::shared_ptr<const engine::ruleset>& rules,
                 const std::string& canonical_source, const batch_options& options,
                 batch_summary& summary);

/// The decision set of one record, as the batch computes it (used by replay to compare).
decision_set evaluate_record(const std::shared_ptr<const engine::instance>& inst,
                             const std::vector<std::uint32_t>& rules, const stored_record& rec,
                             bool keep_trace);
/// The same decision sets (byte for byte, digests included) for `n` records at once, evaluated
/// block by block; the record-at-a-time evaluator is used only to list the missing facts of
/// undetermined decisions. Traces are not kept: use evaluate_record for those.
void evaluate_records(const std::shared_ptr<const engine::instance>& inst,
                      const std::vector<std::uint32_t>& rules, const stored_record* recs,
                      std::size_t n, decision_set* out);

/// The ruleset whose canonical source (modules separated by NUL) the store keeps under `hash`,
/// checked as when it decided (dsl::diagnostics::set_accepted_before); nullptr, with the rendered
/// diagnostics, when that source no longer checks. Built, with its warnings rendered when it has
/// any (checks added since that refuse it in a new pack), "" otherwise.
std::shared_ptr<const engine::ruleset> stored_ruleset(const std::string& hash,
                                                      const std::string& source,
                                                      std::string& diagnostics);

/// What the readers of a run's decision sets need from its ruleset: the contract decisions'
/// names, in the order of the entries, and whether each rule was in force on the run's date
/// (which sets of decision format 1 do not record: it depends on the ruleset and date alone).
struct run_decisions {
  std::vector<std::string> names;
  std::vector<std::uint8_t> in_force;
  /// The rule-level flag (the rule, or anything it reads, is provisional): what format 1 sets
  /// record as `provisional`; format 2 records what decided each value (RULE-PACK.md,
  /// "Provisional, precisely").
  std::vector<std::uint8_t> rule_provisional;
};
run_decisions describe_run(const std::shared_ptr<const engine::ruleset>& rules, date as_of);

/// One entry of a compact decision set, read in either form (store.hpp, decision_format).
/// The views point into the compact text.
struct decision_entry {
  bool decided = false;
  std::string_view value;  // JSON
  bool provisional = false;
  std::string_view missing;  // JSON array of fact paths
  bool in_force = true;      // format 1: from run_decisions::in_force
};
/// The entries of a compact decision set of `format`; false (and no entry) for the set of a
/// record that no longer fit the schema ({"error":…}) or a text in neither form.
bool read_decisions(std::string_view compact, int format, const std::vector<std::uint8_t>& in_force,
                    std::vector<decision_entry>& out);
/// The field and the reason of the set of a record that no longer fit the schema
/// ({"error":{"field","message"}}, as a batch stores it: a path and a reason, never a value);
/// false for any other set. Control characters and anything outside ASCII (which the writer
/// never puts there) come out as '?': the text is shown on a terminal.
bool read_record_error(std::string_view set, std::string& field, std::string& message);
/// A set of the current format as format 1 would have stored it: without in_force, and with
/// the rule-level provisional flag of `run`, to compare a replayed set with one stored before
/// schema 2. Unreadable text is returned unchanged.
std::string to_format_1(std::string_view compact, const run_decisions& run);

/// The verbose form of a stored decision set: [{"rule","status","value","provisional",
/// "in_force","missing"},…]; the set of a record that no longer fit the schema as stored.
std::string expand_decisions(std::string_view compact, int format, const run_decisions& run);
/// Which entries of a compact decision set (one per rule of `rules`, in order) may keep their
/// value in plain in an encrypted store, by the rule's declared result type: 1 for a flag or an
/// enumeration (its values are true, false, null or a case the ruleset declares: what stats
/// count), 0 for anything else (money, numbers, dates, durations, texts, lists, records: values
/// that may come from the facts, whatever they look like; 0 too for dsl::no_index, a rule not
/// found). Computed once per prepared instance.
std::vector<std::uint8_t> plain_value_mask(const dsl::program& p,
                                           const std::vector<std::uint32_t>& rules);
/// The mask a stored plain form was sealed with: 0 at the entries whose value it keeps as
/// "sealed", 1 elsewhere (a set stored by an older dalil keeps what that dalil kept).
std::vector<std::uint8_t> plain_value_mask_of(std::string_view plain);
/// The compact decisions as an encrypted store keeps them in plain (decision_sets.decisions):
/// the value of each entry that `plain_values` (plain_value_mask) does not mark, unless true,
/// false or null, replaced by the string "sealed" (an entry past its end is unmarked: with no
/// mask every value but a flag or null is sealed), as plain_outcomes does for the counter's
/// outcomes; statuses, provisional flags, missing facts' names and in-force marks kept (what
/// statistics count). Writes `out` (and, given `values`, the values replaced: [[entry index,
/// value JSON],…], what an encrypted store seals) and returns true when a value was replaced;
/// false (`out` and `values` untouched) when the set keeps nothing to seal, or is not an array
/// of entries (a record that no longer fit the schema: {"error":…}, which names a field and
/// never a value).
bool plain_decisions(std::string_view compact, std::string& out, std::string* values = nullptr,
                     std::span<const std::uint8_t> plain_values = {});
/// The inverse: `plain` (plain_decisions' form) with the `values` it gave put back, into `out`.
/// False when they do not fit (an index without a "sealed" value there, one left over).
bool whole_decisions(std::string_view plain, std::string_view values, std::string& out);
/// The top-level elements of a JSON array or object text (no validation).
std::vector<std::string_view> split_json_array(std::string_view text);

/// The outcomes of one contract decision over a run: in force (the criteria applied: each
/// value, or undetermined) apart from out of force (the rule's period did not cover the date).
struct outcome_counts {
  std::map<std::string, std::int64_t> values;  // decided in force, by value JSON
  std::int64_t undetermined = 0;               // in force
  std::int64_t out_of_force = 0;
  std::map<std::string, std::int64_t> out_of_force_values;  // decided by the `otherwise` value
  std::int64_t out_of_force_undetermined = 0;
};
struct run_counts {
  std::int64_t sets = 0;
  std::int64_t errors = 0;                // records that no longer fit the schema
  std::vector<outcome_counts> decisions;  // per contract decision, in entry order
  /// Counts one decision set (in_force: run_decisions::in_force, for format 1).
  void add(const decision_set& d, const std::vector<std::uint8_t>& in_force);
};

/// A difference between a stored and a replayed decision set: what (`rule`) and both sides, as
/// JSON ("" when a side does not have it).
struct difference {
  std::string rule;
  std::string stored;
  std::string replayed;
  /// For a decision present on both sides: which of its parts changed, stored → replayed, and
  /// whether its value is unchanged, e.g. "provisional true → false; value unchanged".
  std::string what;
};
/// The decisions that differ between two compact decision sets (each in its format), named by
/// `run` (verbose form, in_force included).
std::vector<difference> diff_decisions(std::string_view stored, int stored_format,
                                       std::string_view replayed, int replayed_format,
                                       const run_decisions& run);
/// The steps that differ between two traces ({"steps":[…]}), matched by rule: changed steps in
/// the stored trace's order, then steps that only one side has.
std::vector<difference> diff_traces(std::string_view stored, std::string_view replayed);

/// What SQLite's `CAST(json_extract(json, '$.' || path) AS TEXT)` gives for a record's JSON
/// text, the left side of a filter (--where) as a plain store applies it in SQL: a string's
/// unescaped text, "1" or "0" for true or false, an integer's digits, a real number as SQLite
/// writes one ("34.4", "1.0e+20"), an object's or array's JSON text; nullopt for null or a
/// missing field. `path` is dot-separated field names. An encrypted store applies its filters
/// with this, in memory, once a record is opened: never in SQL over plaintext.
std::optional<std::string> filter_value(std::string_view json, std::string_view path);
/// Whether a record's JSON text matches every filter (filter_value equal to the value).
bool filter_matches(std::string_view json, const std::vector<record_filter>& filter);

/// The contract decisions: rules with an explanation, in rule order.
std::vector<std::uint32_t> contract_rules(const dsl::program& program);

}  // namespace dalil::store
