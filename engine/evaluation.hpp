// One applicant's evaluation as JSON, the object `dalil eval --format json` prints and the
// server's POST /api/v1/evaluate answers: both front ends call this one function, so that the
// two objects are the same bytes for the same ruleset, record, date and language. And the
// evaluation's compact form: the outcomes alone, without any wording, which the store keeps
// for a counter decision and digests (wording can change; the outcomes must not).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/program.hpp"
#include "engine/catalogue.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"

namespace dalil::engine {

/// The rules an evaluation decides: those named (module.name), else every rule with an
/// explanation (the contract decisions), or every rule with `all`. On an unknown name returns
/// nullopt and sets `unknown` to it (a rule name is not personal data).
std::optional<std::vector<std::uint32_t>> chosen_rules(const dsl::program& p,
                                                       const std::vector<std::string>& names,
                                                       bool all, std::string& unknown);

/// The input hash of an evaluation: SHA-256 (hex) of the record's canonical JSON.
std::string input_hash(std::string_view record_json);

/// How the evaluation object is written.
struct evaluation_options {
  bool with_trace = true;
  /// Explanations in this language alone; nullopt: in French, Arabic and English (the
  /// contract's default, `dalil eval` without --lang).
  std::optional<lang> only;
  /// When set, receives the decisions of the compact form (append_compact_decision for each,
  /// as a JSON array), computed from the same decisions as the object.
  std::string* compact_decisions = nullptr;
};

/// Appends the evaluation object for the evaluator's current record:
/// {"as_of","ruleset":{"hash"},"input_hash","decisions":[…]<extra>} where `extra` (empty, or
/// members starting with a comma, such as `,"decision_id":"…"`) is written before the closing
/// brace. Decisions in the order of `rules`. No newline.
void append_evaluation_json(std::string& out, evaluator& ev, std::string_view input_hash,
                            const std::vector<std::uint32_t>& rules, const evaluation_options& o,
                            std::string_view extra = {});
/// The same with every language, traces when `with_trace`.
void append_evaluation_json(std::string& out, evaluator& ev, std::string_view input_hash,
                            const std::vector<std::uint32_t>& rules, bool with_trace,
                            std::string_view extra = {});

/// One decision of the compact form: {"rule","status","value","missing","in_force",
/// "provisional"}: what was decided, without explanation, sources or trace.
void append_compact_decision(std::string& out, const dsl::program& p, const decision& d);
/// The decisions of the compact form for the evaluator's current record (a JSON array), the
/// same as evaluation_options::compact_decisions gives, without rendering anything else.
std::string compact_decisions(evaluator& ev, const std::vector<std::uint32_t>& rules);
/// The compact form of an evaluation:
/// {"as_of","ruleset","input_hash","decisions":compact decisions}.
std::string compact_form(std::string_view as_of, std::string_view ruleset_hash,
                         std::string_view input_hash, std::string_view decisions);

}  // namespace dalil::engine
