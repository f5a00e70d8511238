// The semantic diff of two versions of a rule pack: what changed in the text (modules, rules,
// parameters, tables, exceptions, explanations, citations, confidence) and, for every contract
// decision, whether the two versions can decide differently: `different` with a witness re-checked
// by the evaluator, `same` with a solver's proof over the schema's domain, or `unknown` and why.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/ruleset.hpp"

namespace dalil::analysis {

/// One change of the text. `kind`: module, rule, parameter, table, exception, explanation,
/// title, citation, confidence, period, schema; `change`: added, removed, changed.
struct change {
  std::string kind;
  std::string change;
  std::string name;    // module, rule (module.name), parameter, or rule.exception
  std::string detail;  // what changed: "body", "fr", a date…
  std::string from;    // a parameter value's date
  std::string old_value;
  std::string new_value;
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

struct decision_diff {
  std::string decision;  // module.name
  verdict v = verdict::unknown;
  ground why = ground::solver;
  std::string reason;  // the ground in English, with its detail (the JSON's "reason")
  std::string detail;
  std::optional<date> as_of;
  std::string record;  // the witness (canonical JSON), for `different`
  outcome old_outcome;
  outcome new_outcome;
};

struct diff_options {
  std::optional<date> as_of;    // only this as-of date (default: every date)
  unsigned timeout_ms = 10000;  // per solver query
};

struct diff_result {
  std::vector<change> changes;
  std::vector<decision_diff> decisions;
  std::optional<date> as_of;
  bool all_same() const;
};

/// Compares `old_rules` with `new_rules`. Never throws for a construct it cannot encode: the
/// decisions that depend on it are `unknown`, with the construct named.
diff_result diff(const std::shared_ptr<const engine::ruleset>& old_rules,
                 const std::shared_ptr<const engine::ruleset>& new_rules, const diff_options& opt);

/// The structural changes alone.
std::vector<change> structural_changes(const dsl::program& old_p, const dsl::program& new_p);

/// {"changes":[…],"decisions":[{"decision","verdict","reason","witness":{"as_of","record"},
/// "old","new"}]}; `witness` is null unless the verdict is `different`.
std::string to_json(const diff_result& r);

}  // namespace dalil::analysis
