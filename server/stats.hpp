// Statistics without personal data (GET /api/v1/stats): small cells suppressed in the JSON
// itself, with complementary suppression so that no hidden cell can be recovered from a total
// minus the cells shown, and the figures of stored batch runs in `dalil stats --format json`'s
// shape.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "dsl/program.hpp"
#include "store/result.hpp"
#include "store/store.hpp"

namespace dalil::server {

/// Cells with fewer decisions than this are not shown.
inline constexpr std::int64_t suppressed_below = 10;

/// Which cells of one partition (cells that add up to a total) to hide: every cell of 1 to
/// suppressed_below - 1 (and 0 too when `hide_zero`), then, when exactly one non-zero cell is
/// hidden, the smallest non-zero cell shown as well — so that the total minus the cells shown
/// never gives a hidden cell. A partition of one non-zero cell that is hidden stays so (its
/// total is then a cell of the level above, which hides it).
std::vector<bool> suppress(const std::vector<std::int64_t>& counts, bool hide_zero = false);

/// Whether a suppressed cell of rule `r` may still name its value: only when the rule's values
/// form a closed set (a boolean, an enum's cases). A suppressed cell of a number, an amount, a
/// date or a text shows neither its count nor its value ("value": null): the value of a cell of
/// one or two applicants (an income divided by a household, say) is their personal data. Null
/// `r` (a rule the ruleset does not know): not closed.
bool values_closed(const dsl::rule_info* r);

/// The figures of the current stored runs (of each batch key, the newest complete generation,
/// as `dalil stats` shows by default): {"run", "as_of", "ruleset", "filter", "status",
/// "generation", "applicants", "records_not_fitting_schema", "decisions": [{"decision",
/// "program", "osp", "in_force": {"values": [{"value", "count", "suppressed"}], "undetermined",
/// "missing": [{"fact", "count"}]}, "out_of_force": {"count", "values", "undetermined"}}]},
/// with a null count for every suppressed cell. Complete runs never change: each run's JSON is
/// computed once and kept. Thread-safe (one computation at a time).
class run_figures {
 public:
  explicit run_figures(std::string db_path) : db_path_(std::move(db_path)) {}
  /// The JSON array of the current runs' figures.
  store::result<std::string> current_runs_json();

 private:
  std::string db_path_;
  std::mutex mutex_;
  std::unique_ptr<store::store> db_;
  std::map<std::int64_t, std::string> by_run_;  // run id → its figures (complete runs only)
};

}  // namespace dalil::server
