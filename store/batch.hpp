// Importing cohorts and reprocessing them: streaming, parallel, resumable after a crash, with
// every input row accounted for.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
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
  struct rejection {
    std::int64_t row;
    std::string field;
    std::string reason;
  };
  std::vector<rejection> rejections;  // the first ones, for the terminal
};

/// Imports a JSONL or CSV file (by extension) of applicant records. Every non-empty row becomes a
/// stored record (new, new version or unchanged) or a rejection naming the row and the field.
bool import_file(store& db, const dsl::program& program, const std::string& path,
                 import_summary& summary, std::string& error);

struct batch_options {
  date as_of;
  unsigned threads = 2;
  std::vector<record_filter> filter;
  bool store_traces = false;
  bool progress = true;
  std::size_t chunk = 5000;
};

struct batch_summary {
  std::int64_t run_id = 0;
  bool resumed = false;
  std::int64_t processed = 0;  // in this invocation
  std::int64_t total = 0;      // decision sets in the run at the end
  double seconds = 0;
};

/// Evaluates every contract decision (rules with an explanation) for the latest record of every
/// applicant matching the filter, writing one decision set per record. Resumes an unfinished run
/// with the same ruleset, date and filter.
bool run_batch(store& db, const std::shared_ptr<const engine::ruleset>& rules,
               const std::string& canonical_source, const batch_options& options,
               batch_summary& summary, std::string& error);

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

/// The verbose form of a stored decision set: [{"rule","status","value","provisional",
/// "missing"},…], given the names of the run's contract rules.
std::string expand_decisions(const std::string& compact, const std::vector<std::string>& names);
/// The top-level elements of a JSON array or object text (no validation).
std::vector<std::string_view> split_json_array(std::string_view text);

/// A difference between a stored and a replayed decision set: what (`rule`) and both sides, as
/// JSON ("" when a side does not have it).
struct difference {
  std::string rule;
  std::string stored;
  std::string replayed;
};
/// The decisions that differ between two compact decision sets, named by `names` (verbose form).
std::vector<difference> diff_decisions(const std::string& stored, const std::string& replayed,
                                       const std::vector<std::string>& names);
/// The steps that differ between two traces ({"steps":[…]}), matched by rule: changed steps in
/// the stored trace's order, then steps that only one side has.
std::vector<difference> diff_traces(std::string_view stored, std::string_view replayed);

/// The contract decisions: rules with an explanation, in rule order.
std::vector<std::uint32_t> contract_rules(const dsl::program& program);

}  // namespace dalil::store
