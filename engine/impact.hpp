// The change a rule revision makes over a cohort: every record through both versions with the
// block evaluator, a transition table per contract decision, and for each applicant whose
// decision changes, the first rule of the trace whose value differs (the "why"). Over abstract
// sources and sinks: the engine knows nothing of the store.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/ruleset.hpp"

namespace dalil::engine {

/// One applicant's record as a cohort source gives it.
struct cohort_row {
  std::string applicant_id;
  std::string json;
  /// Zeroes both (an applicant's id and record), keeping their buffers (engine::wipe_text).
  void wipe();
};

/// The cohort, read in order, chunk by chunk.
class cohort_source {
 public:
  virtual ~cohort_source() = default;
  /// Replaces `out` by the next rows (at most `limit`; the strings of `out` may be reused), and
  /// leaves it empty at the end. false: the source failed (it keeps its own error) and the run
  /// stops.
  virtual bool next(std::size_t limit, std::vector<cohort_row>& out) = 0;
};

/// How a contract decision changed for one applicant. Out of force is a category of its own:
/// a change of the rule's period is never mistaken for a change of its criteria.
enum class flip_category : std::uint8_t {
  true_to_false,
  false_to_true,
  decided_to_undetermined,
  undetermined_to_decided,
  value_change,  // a decided value to another (an enum case to another, an amount)
  in_force_to_out_of_force,
  out_of_force_to_in_force,
};
inline constexpr std::size_t flip_category_count = 7;
/// The stable identifier of a category ("true_to_false", …), used in every output.
std::string_view category_id(flip_category c);

/// What one version decided for one applicant.
struct decision_side {
  bool in_force = true;
  bool decided = false;
  std::string value;  // JSON (null when undetermined; empty when left out: categories_only)
};

/// One applicant whose contract decision changed, with why. Holds personal values (the why's
/// trace steps): for output files read by auditors, never for logs or error messages.
struct impact_flip {
  std::string applicant_id;
  std::uint32_t decision = 0;  // index into impact_summary::decisions
  flip_category category = flip_category::value_change;
  decision_side before;
  decision_side after;
  /// The first rule, in evaluation order (dependencies first), evaluated for this applicant by
  /// either version, present in both, whose value (or being in force) differs: the decision
  /// itself when nothing it reads changed.
  std::string why_rule;
  /// That rule's trace step under each version ({"rule","value","status","provisional",
  /// "in_force","facts","parameters","exception","reads"}): the values it read.
  std::string why_before;
  std::string why_after;
};

/// Receives the flips in the cohort's order, from one thread.
class impact_sink {
 public:
  virtual ~impact_sink() = default;
  /// false stops the run (the sink keeps its own error).
  virtual bool flip(const impact_flip& f) = 0;
};

/// A cell of a decision's transition table. `from` and `to` are the outcome under each version:
/// "out of force", "undetermined", the value (true, false, an enum case) for booleans and enums,
/// "decided" for other types (whose changes are counted as value_change).
struct transition {
  std::string from;
  std::string to;
  std::optional<flip_category> category;  // none: unchanged
  std::int64_t count = 0;
};

struct decision_impact {
  std::string name;                          // module.rule
  std::string module;                        // the module's name
  std::string program;                       // the module's SNIA program (its `program`), or ""
  std::string osp;                           // its OSP (`osp`), or ""
  std::map<std::string, std::string> title;  // language -> the decision's title (new version)
  /// For an enum decision: each case's label in the transitions ("\"poor\"") -> its titles by
  /// language, from both versions (the new one's where both have the case).
  std::map<std::string, std::map<std::string, std::string>> case_titles;
  std::vector<transition> transitions;  // unchanged cells first, then by count
  std::int64_t flips = 0;
  std::array<std::int64_t, flip_category_count> by_category{};
  std::vector<std::pair<std::string, std::int64_t>> why;  // rule -> flips it explains, most first
};

struct impact_summary {
  std::string old_hash;
  std::string new_hash;
  date as_of;
  std::int64_t records = 0;             // read from the source
  std::int64_t compared = 0;            // fit both versions' schemas
  std::int64_t unreadable_old = 0;      // do not fit the old version's schema
  std::int64_t unreadable_new = 0;      // do not fit the new version's schema
  std::int64_t applicants_flipped = 0;  // at least one decision changed
  std::int64_t flips = 0;               // applicant × decision
  /// The contract decisions of both versions, in the new version's rule order.
  std::vector<decision_impact> decisions;
  std::vector<std::string> only_old;  // contract decisions the new version no longer has
  std::vector<std::string> only_new;  // contract decisions the old version did not have
  double seconds = 0;
};

struct impact_options {
  date as_of;
  /// The flips keep, of the values a record gives or that are computed from it
  /// (ruleset::reads_record), only those that are categories (dsl::categorical: a yes or no, an
  /// enumeration's case): of the decisions, the why's rule, the facts and the rules it read; the
  /// others (amounts, dates, texts, numbers) are left out with their "value" member. For readers
  /// who must not see a record's values (a server's advisers); parameters, and rules computed
  /// from parameters alone, are the pack's and kept.
  bool categories_only = false;
  unsigned threads = 2;      // evaluation threads beside the reading thread
  std::size_t chunk = 5000;  // records read at a time: memory is flat whatever the cohort
};

enum class impact_status : std::uint8_t { done, source_failed, sink_failed };

/// Evaluates every record of `source` under both rule versions, as of `o.as_of`, with the
/// block evaluator in `o.threads` threads while the calling thread reads the next chunk; the
/// record-at-a-time evaluator is used only for the flips, to find their why. Contract decisions
/// (rules with an explanation) are matched by qualified name. A record that does not fit one
/// version's schema is counted, never compared.
impact_status run_impact(const std::shared_ptr<const ruleset>& old_rules,
                         const std::shared_ptr<const ruleset>& new_rules, cohort_source& source,
                         impact_sink& sink, const impact_options& o, impact_summary& out);

/// A key for one report's pseudonyms: 32 random bytes, never stored.
using pseudonym_key = std::array<std::uint8_t, 32>;
/// The pseudonym of an applicant id under `key`: HMAC-SHA-256, its first 16 hex digits. Stable
/// within one report, unlinkable across reports.
std::string pseudonym(const pseudonym_key& key, std::string_view applicant_id);

}  // namespace dalil::engine
