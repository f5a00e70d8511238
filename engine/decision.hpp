// Decisions with their evidence: status, value, missing facts, sources, explanations in French,
// Arabic and English, and the deterministic JSON trace.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/evaluator.hpp"

namespace dalil::engine {

struct decision {
  std::uint32_t rule = 0;
  value v;
  bool decided = false;
  bool provisional = false;  // what decided the value is (docs/language.md, "Provisional")
  bool in_force = true;      // the rule's period covers the as-of date (else: its `otherwise`)
  int exception = -1;        // index of the exception that gave the value
  std::vector<std::string> missing;  // fact paths to ask for, sorted
  std::vector<reason> reasons;       // other causes of undetermined, sorted by English text
  /// The rules evaluated to reach this decision (its closure, dependencies first), taken when it
  /// was decided: later reads of the same evaluator do not change its trace or sources.
  std::vector<std::uint32_t> steps;
};

/// Decides rule `r` for the evaluator's current record. Without steps, the decision's trace
/// snapshot is left empty (batch work that digests one trace for the whole record).
decision decide(evaluator& ev, std::uint32_t r, bool with_steps = true);

/// A value as JSON: booleans and integers as JSON, money and decimals as exact decimal strings,
/// enums, dates and durations as strings, null and unknown as null.
void append_value_json(std::string& out, const dsl::program& p, const dsl::type& t, const value& v);
/// A value as words in a language ("fr", "ar", "en").
std::string value_words(const dsl::program& p, const dsl::type& t, const value& v,
                        const std::string& lang);

/// The explanation an official reads, in `lang`, from the rule's template.
std::string explain(evaluator& ev, const decision& d, const std::string& lang);

/// Legal sources behind the decision: the rule's, the exception's, and those of the rules and
/// parameters it read, without repetition.
std::vector<std::string> sources_of(evaluator& ev, const decision& d);

/// Appends the decision object of the `dalil eval` JSON contract.
void append_decision_json(std::string& out, evaluator& ev, const decision& d, bool with_trace);
/// Appends the trace alone: every rule evaluated for the decision, dependencies first. Without
/// sources, the legal texts are left out (the ruleset, stored by its hash, holds them): that is
/// the compact form whose digest the store keeps.
void append_trace_json(std::string& out, evaluator& ev, const decision& d,
                       bool with_sources = true);
/// The rules of `rule`'s closure that the evaluator has evaluated for the current record.
std::vector<std::uint32_t> evaluated_steps(const evaluator& ev, std::uint32_t rule);

}  // namespace dalil::engine
