// One applicant's evaluation as JSON, the object `dalil eval --format json` prints and the
// server's POST /api/v1/evaluate answers: both front ends call this one function, so that the
// two objects are the same bytes for the same ruleset, record and date.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/program.hpp"
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

/// Appends the evaluation object for the evaluator's current record:
/// {"as_of","ruleset":{"hash"},"input_hash","decisions":[…]<extra>} where `extra` (empty, or
/// members starting with a comma, such as `,"decision_id":"…"`) is written before the closing
/// brace. Decisions in the order of `rules`; traces when `with_trace`. No newline.
void append_evaluation_json(std::string& out, evaluator& ev, std::string_view input_hash,
                            const std::vector<std::uint32_t>& rules, bool with_trace,
                            std::string_view extra = {});

}  // namespace dalil::engine
