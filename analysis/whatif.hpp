// What would make one applicant's decision reach a goal: minimal sets of fact changes (fewest
// facts moved, never a `fixed` one), each fact given as the range of values that works with the
// others, the earliest later as-of date at which the unchanged facts reach it, and for an
// undetermined decision which missing facts would settle it each way. Found with Z3 over the
// terms of analysis/encode.hpp; every answer is re-checked by the ordinary evaluator.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/halt.hpp"
#include "engine/catalogue.hpp"
#include "engine/ruleset.hpp"

namespace dalil::analysis {

/// One fact moved. Values are JSON as a record writes them (money and decimals as strings).
struct fact_change {
  std::string fact;  // path from the input record: "household.annual_income"
  dsl::type t;
  bool missing = false;  // the fact was not provided (under a null record it is null: `from` null)
  std::string from;      // its value (JSON), "null"; empty when missing
  /// Numbers and dates: the range of values that works with the other changes; an empty bound
  /// has no limit inside the schema's domain. Other types: `value` (JSON; "{}" for a record
  /// that becomes present).
  bool ranged = false;
  std::string value;
  std::vector<std::string> values;  // enums: every case that works (each evaluated), in order
  std::string min;
  std::string max;
  bool min_open = false;
  bool max_open = false;
};

struct alternative {
  std::vector<fact_change> changes;
  /// The time alternative: no fact moves; the earliest as-of date from which the goal holds.
  std::optional<date> from_date;
  /// Re-evaluated by the evaluator on a record inside the ranges (and at each closed end; for
  /// a date, also the day before, which must not reach the goal). Only verified ones are kept.
  bool verified = false;
  std::string record;  // the record checked (canonical JSON), at the solver's values
};

/// For an undetermined decision: missing facts that would settle it as `settles`.
struct ask_entry {
  std::string settles;  // the decision's value (JSON)
  alternative alt;
};

struct whatif_options {
  unsigned max = 3;             // alternatives by fact changes (the time one comes on top)
  unsigned timeout_ms = 10000;  // per solver query
  halt* stop = nullptr;         // a request to end early (a server that stops)
};

struct whatif_result {
  std::string decision;  // module.name
  std::string goal;      // JSON
  date as_of;
  std::string current;  // JSON, "null" when undetermined
  bool undetermined = false;
  bool reached = false;  // the decision already has the goal's value
  std::vector<alternative> alternatives;
  std::vector<ask_entry> ask_first;
  std::vector<std::string> fixed;  // the fixed facts the decision reads (never moved)
  std::string not_encoded;         // a construct the solver does not see: the search may miss some
  std::string solver;              // why the solver stopped early, if it did
  unsigned unconfirmed = 0;        // solver answers the evaluator did not confirm (left out)
  /// Ended early at `whatif_options::stop`: the search is incomplete, not an answer to show.
  bool halted = false;
  /// Exit status of `dalil whatif`: at least one alternative (or the goal already reached).
  bool any() const { return reached || !alternatives.empty(); }
};

/// Runs the search. Returns nullopt with `error` set for an unknown decision, a goal that is no
/// value of the decision's type, or a record the reader refuses (the error names the field and
/// the rule broken, never a value).
std::optional<whatif_result> whatif(const std::shared_ptr<const engine::ruleset>& rules,
                                    const std::string& decision, const std::string& goal,
                                    date as_of, const std::string& facts_json,
                                    const whatif_options& opt, std::string& error);

/// {"decision","goal","as_of","current":{"value","status"},"alternatives":[{"changes":[{"fact",
/// "from","range"|"value"(,"values")|"from_date"}],"verified","record"}],"ask_first":[{"settles",
/// "changes","verified"}],"fixed":[…],"notes":{…}}.
std::string to_json(const whatif_result& r);

/// The answer for an adviser in `l`: every word from the catalogue `c`, facts and values by the
/// pack's own titles.
std::string to_text(const whatif_result& r, const dsl::program& p, engine::lang l,
                    const engine::catalogue& c = engine::builtin_catalogue());

}  // namespace dalil::analysis
