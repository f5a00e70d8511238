// The semantic diff of two versions of a rule pack: what changed in the text (modules, rules,
// parameters, tables, exceptions, explanations, citations, confidence) and, for every contract
// decision, whether the two versions can decide differently: `different` with a witness re-checked
// by the evaluator, `same` with a solver's proof over the schema's domain, or `unknown` and why.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/halt.hpp"
#include "engine/catalogue.hpp"
#include "engine/ruleset.hpp"

namespace dalil::analysis {

/// What a change is about, so that a renderer names it by the pack's own titles.
enum class subject : std::uint8_t { module, rule, exception, parameter, field, enumeration };

/// One change of the text. `kind`: module, rule, parameter, table, exception, explanation,
/// title, citation, confidence, period, schema; `change`: added, removed, changed.
struct change {
  std::string kind;
  std::string change;
  std::string name;    // module, rule (module.name), parameter, or rule.exception
  std::string detail;  // what changed: "formula", "fr", "table 2", "value"…
  std::string from;    // a parameter value's date
  std::string old_value;
  std::string new_value;
  subject about = subject::rule;
  std::string exception;  // the exception's own name when `about` is an exception
};

enum class verdict : std::uint8_t { same, different, unknown };
std::string_view verdict_name(verdict v);

/// A decision's outcome on the witness: its value as `dalil eval` writes it, or "undetermined",
/// and whether the rule was in force.
struct outcome {
  std::string value;                 // JSON
  std::array<std::string, 3> words;  // in fr, ar, en (engine::value_words)
  bool undetermined = false;
  bool in_force = true;
};

/// Why a verdict: the scope of a proof, what kept one from being made, or how a decision is new.
enum class ground : std::uint8_t {
  proof_all,    // same: every record, every as-of date
  proof_date,   // same: every record, on the as-of date given
  witness,      // different: a reproduced witness
  solver,       // unknown: the solver gave no answer (detail: its reason, e.g. timeout)
  encoding,     // unknown: a construct not encoded (detail: which)
  unconfirmed,  // unknown: the solver's example did not reproduce (detail: how)
  type,         // unknown: the decision's type changed
  added,        // different: a decision of the new version only
  removed,      // different: a decision of the old version only
};

/// The detail of an `unknown` ground, as a code a renderer words in the adviser's language.
enum class gap : std::uint8_t {
  none,
  list_fact,       // subject: the fact, a list
  field_type,      // subject: a field whose type differs between the versions
  list_op,         // a list or a quantifier over a list
  duration,        // arithmetic, comparison or choice of durations
  date_arith,      // an operation on a date other than adding or subtracting a duration
  big_table,       // a table of more than 64 rows
  division,        // a whole-number division
  dates,           // an as-of date outside the domain (from, until: the domain)
  refused_terms,   // the solver refused the terms
  other,           // another construct
  solver_timeout,  // the time limit (from, until: the period queried)
  solver_other,    // the solver gave up for another reason (from, until)
  reader_refused,  // the record reader refused the example (subject: the field)
  same_outcome,    // the evaluator gives both versions the same outcome on the example
  decimals,        // the only difference needs decimals with no finite expansion
};

/// One fact of a witness, in record order: a value (as the record writes it, unquoted), null, or
/// a record present with nothing needed inside it.
struct witness_fact {
  enum class state : std::uint8_t { value, null, present };
  std::string path;  // "household.annual_income"
  state s = state::value;
  std::string value;  // "240000.01", "2001-02-01", "refugee", "true"…
};

struct decision_diff {
  std::string decision;  // module.name
  verdict v = verdict::unknown;
  ground why = ground::solver;
  std::string reason;  // the ground in English, with its detail (the JSON's "reason")
  std::string detail;
  gap code = gap::none;  // the detail as a code (unknown verdicts)
  std::string subject;   // the fact or field the detail names
  std::optional<date> from;
  std::optional<date> until;
  std::optional<date> as_of;
  std::string record;               // the witness (canonical JSON), for `different`
  std::vector<witness_fact> facts;  // the same witness, fact by fact
  /// `same`: the enum cases of the decision's facts that one version alone declares
  /// ("Status.protected_person"): a record holding one is refused by the other version, so it
  /// lies outside the proof.
  std::vector<std::string> uncompared;
  /// The witness lies in the plausibility box (ages 0–90, dates in life's order near the as-of
  /// date, ordinary amounts); false when only an unconstrained example exists.
  bool plausible = true;
  outcome old_outcome;
  outcome new_outcome;
};

struct diff_options {
  std::optional<date> as_of;    // only this as-of date (default: every date)
  unsigned timeout_ms = 10000;  // per solver query
  halt* stop = nullptr;         // a request to end early (a server that stops)
};

struct diff_result {
  std::vector<change> changes;
  std::vector<decision_diff> decisions;
  std::optional<date> as_of;
  /// Ended early at `diff_options::stop`: the decisions are incomplete (those checked when it
  /// came may read unknown), not a diff to show.
  bool halted = false;
  /// Solver queries that ran out of time (diff_options::timeout_ms), whichever verdict and
  /// reason their decision got: another run, less loaded, may decide more.
  std::size_t timeouts = 0;
  bool all_same() const;
};

/// Compares `old_rules` with `new_rules`. Never throws for a construct it cannot encode: the
/// decisions that depend on it are `unknown`, with the construct named.
diff_result diff(const std::shared_ptr<const engine::ruleset>& old_rules,
                 const std::shared_ptr<const engine::ruleset>& new_rules, const diff_options& opt);

/// The structural changes alone.
std::vector<change> structural_changes(const dsl::program& old_p, const dsl::program& new_p);

/// {"changes":[…],"decisions":[{"decision","verdict","reason","witness":{"as_of","record",
/// "plausible"},"old","new"}]}; `witness` is null unless the verdict is `different`.
std::string to_json(const diff_result& r);

struct text_options {
  engine::lang lang = engine::lang::fr;
  bool markdown = false;
  std::string old_dir;  // as the user named them, for the heading
  std::string new_dir;
};

/// The diff for an adviser (text) or a report (Markdown): every word from the catalogue `c`,
/// rules, modules and fields by the packs' own titles, amounts and dates as the officials' texts
/// write them (engine/words.hpp). `old_p` and `new_p` are the programs `r` was computed from.
std::string to_text(const diff_result& r, const dsl::program& old_p, const dsl::program& new_p,
                    const text_options& o,
                    const engine::catalogue& c = engine::builtin_catalogue());

}  // namespace dalil::analysis
