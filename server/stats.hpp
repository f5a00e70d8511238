// Statistics without personal data (GET /api/v1/stats): small cells suppressed in the JSON
// itself, with complementary suppression so that no hidden cell can be recovered from a total
// minus the cells shown, and the figures of stored batch runs in `dalil stats --format json`'s
// shape.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/program.hpp"
#include "store/counter_store.hpp"
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

/// Whether `value` (the JSON of a counted value) is one of the closed set of values of rule `r`
/// in program `p`: true or false for a boolean, one of the enum's cases. The counter's months
/// are read with today's ruleset, whose rule of that name may have been an amount when the
/// month's decisions were made: a suppressed cell names its value only when it is one of these.
bool closed_value(const dsl::program& p, const dsl::rule_info* r, std::string_view value);

/// The counter's statistics are released by calendar month (UTC), each month on its own, once
/// `release_delay` has passed after its end. Figures that moved with every evaluation would let
/// whoever reads them before and after one applicant's evaluation learn that applicant's outcomes
/// by subtraction (a differencing attack), whatever the suppression of small cells: a month's
/// figures never change once released, and two months hold no decision in common, so no two
/// releases differ by a few decisions. The delay covers decisions committed around midnight and
/// servers whose clocks differ a little.
inline constexpr std::chrono::hours release_delay{24};

/// A calendar month of the statistics.
struct stats_month {
  int year = 0;
  int month = 0;  // 1-12
  [[nodiscard]] int index() const { return year * 12 + month; }
  friend bool operator==(const stats_month&, const stats_month&) = default;
  friend bool operator<(const stats_month& a, const stats_month& b) {
    return a.index() < b.index();
  }
  friend bool operator<=(const stats_month& a, const stats_month& b) { return !(b < a); }
  friend bool operator>(const stats_month& a, const stats_month& b) { return b < a; }
};

/// "YYYY-MM", from 2000-01 to 9999-12; nullopt otherwise.
std::optional<stats_month> parse_month(std::string_view text);
std::string to_string(const stats_month& m);
stats_month next_month(const stats_month& m);
/// The month of a store time (YYYY-MM-…); nullopt when it does not start with one.
std::optional<stats_month> month_of(std::string_view store_time);
/// The latest month whose figures are released at `now` (its end plus release_delay reached).
stats_month last_released(std::chrono::system_clock::time_point now);
/// The month as a span of store times: [YYYY-MM-01T00:00:00Z, the next month's first).
store::time_span span_of(const stats_month& m);

/// The counter's counts of one month, as the store gives them.
struct month_counts {
  std::vector<store::counter_cell> cells;
  std::vector<store::override_cell> overrides;
  std::int64_t total = 0;
};

/// The counts of released months: each counted once, by the first process that released it,
/// and kept in the store (counter_month_figures) and in memory; every process serves those, so
/// a released month never changes, whatever was stamped into it since. Thread-safe (one
/// computation at a time, on the server's reports pool: the first count of a month reads every
/// decision of it).
class counter_figures {
 public:
  explicit counter_figures(std::string db) : db_(std::move(db)) {}
  /// The counts of month `m`, which the caller has checked is released.
  store::result<std::shared_ptr<const month_counts>> counts(const stats_month& m);
  /// The month of the first counter decision or review; nullopt when there is none yet.
  store::result<std::optional<stats_month>> first_month();

 private:
  store::status connect();
  std::string db_;
  std::mutex mutex_;
  std::unique_ptr<store::counter_store> store_;
  std::map<stats_month, std::shared_ptr<const month_counts>> by_month_;
};

/// What a stored run's filter picks, without a personal value ("status=refugee, id"): a run's
/// filter is kept as the batch's --where gave it ("status=refugee and id=…", store::detail::
/// filter_text), and a value can be personal (an applicant's id, a date of birth). Only the
/// schema's own field paths are taken from it, each where a condition may start (the text's
/// start or after " and ") up to the next '=', so that no part of a value is ever taken for a
/// field; a field's value is said only when it is one of a closed set (a yes or no, an
/// enumeration's case), a category rather than a person's. A value holding " and status=…" can
/// add a field's name, or one of its cases, never a part of itself.
std::string run_filter_fields(std::string_view text, const dsl::program& p);

/// The figures of the current stored runs (of each batch key, the newest complete generation,
/// as `dalil stats` shows by default): {"run", "as_of", "ruleset", "filter", "status",
/// "generation", "applicants", "records_not_fitting_schema", "decisions": [{"decision",
/// "program", "osp", "in_force": {"values": [{"value", "count", "suppressed"}], "undetermined",
/// "missing": [{"fact", "count"}]}, "out_of_force": {"count", "values", "undetermined"}}]},
/// with a null count for every suppressed cell; "filter" says what the run picked without a
/// personal value (run_filter_fields), and a run of fewer than suppressed_below applicants lists
/// no decision. Complete runs never change: each run's JSON is
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
