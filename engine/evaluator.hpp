// Evaluation of an instantiated ruleset against one record: Kleene three-valued logic, exact
// arithmetic, rule values cached per record, and no heap allocation on the hot path.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/reason.hpp"
#include "engine/record.hpp"
#include "engine/ruleset.hpp"

namespace dalil::engine {

template <bool Record>
struct evaluator_ops;

/// Which tests exercised what (for `dalil test --coverage`).
struct coverage {
  std::vector<std::uint8_t> rules;                    // per rule: evaluated
  std::vector<std::uint8_t> rows;                     // per table row: gave the table's value
  std::vector<std::vector<std::uint8_t>> exceptions;  // per rule, per exception: fired
};

/// Why a decision is undetermined: the facts to ask for and the other reasons.
struct unknown_causes {
  std::set<std::uint32_t> facts;  // fact indices
  std::set<reason> reasons;       // not encoded, not in force, parameter without value, …
};

class evaluator {
 public:
  explicit evaluator(std::shared_ptr<const instance> inst);

  /// Starts the evaluation of a new record; `r` must outlive the evaluation.
  void set_record(const record& r);
  /// Starts the evaluation of facts laid out by fact index (for records decoded in bulk into
  /// one contiguous array); `facts` must outlive the evaluation.
  void set_facts(const value* facts) {
    facts_ = facts;
    next_generation();
  }
  /// The value of rule `r` for the current record (computed once, then cached).
  value rule(std::uint32_t r);
  /// The exception that gave rule `r` its value, or -1.
  int fired_exception(std::uint32_t r) const { return rule_exception_[r]; }
  bool evaluated(std::uint32_t r) const { return rule_gen_[r] == gen_; }

  /// The value of rule `r`, recording the value of every node evaluated (for traces).
  value rule_recorded(std::uint32_t r) { return eval_rule<true>(r); }

  /// Whether the value of rule `r` for the current record rests on something provisional: the
  /// own confidence of a rule or exception that gave a value, or a provisional parameter, along
  /// the deciding path (docs/language.md, "Provisional, precisely"). Evaluates `r` if needed,
  /// and any operand the path needs that lazy evaluation skipped (a second true operand of an
  /// `or` whose first is provisional). Free for rules that read nothing provisional.
  bool provisional(std::uint32_t r) {
    return rules_->rule_may_be_provisional(r) && walk_provisional(r);
  }

  /// Re-evaluates rule `r` recording node values, then walks them to find what is missing.
  unknown_causes causes(std::uint32_t r);
  /// The facts of causes(r), without the other reasons, in fact order, into `out`. For batches
  /// that only list what to ask for: no text is built, and the record is evaluated (with node
  /// values recorded) once however many of its rules are asked about.
  void missing_facts(std::uint32_t r, std::vector<std::uint32_t>& out);

  void set_coverage(coverage* c) { coverage_ = c; }
  const instance& inst() const { return *inst_; }
  const ruleset& rules() const { return *rules_; }
  /// The facts of the current evaluation, by fact index.
  const value* facts() const { return facts_; }

 private:
  template <bool Record>
  friend struct evaluator_ops;

  template <bool Record>
  value eval(std::uint32_t id);
  /// Evaluates a child: leaves (facts, constants, cached rules, as_of) inline with predictable
  /// branches, everything else through the interpreter's switch.
  template <bool Record>
  value operand(std::uint32_t id);
  template <bool Record>
  value eval_node(std::uint32_t id);
  template <bool Record>
  value eval_rule(std::uint32_t r);
  // The rare and heavy cases are kept out of line, so that the main switch has a small frame.
  template <bool Record>
  [[gnu::noinline]] value table(const node& n, std::uint32_t id);
  template <bool Record>
  [[gnu::noinline]] value quantify(const node& n, bool any);
  template <bool Record>
  [[gnu::noinline]] value calendar(const node& n, std::uint32_t id);
  template <bool Record>
  [[gnu::noinline]] value numeric(const node& n, std::uint32_t id);
  [[gnu::noinline]] value arithmetic(dsl::op o, bool whole, const value& a, const value& b);
  /// Walks the recorded unknowns under `id`; without Reasons, only the facts are gathered.
  template <bool Reasons>
  void collect(std::uint32_t id, unknown_causes& out, std::vector<std::uint8_t>& seen_rules);
  bool walk_provisional(std::uint32_t r);
  bool rule_provisional(std::uint32_t r);
  bool node_provisional(std::uint32_t id);
  /// The value of node `id` in this generation, evaluated (and recorded) if it was not.
  const value& ensure(std::uint32_t id);
  /// Makes the recorded values of `id` and the nodes under it stale (a quantifier's body,
  /// before it is evaluated for another item).
  void forget(std::uint32_t id);
  template <bool Reasons>
  void collect_rule(std::uint32_t r, unknown_causes& out, std::vector<std::uint8_t>& seen_rules);

  std::shared_ptr<const instance> inst_;
  const ruleset* rules_;
  const value* facts_ = nullptr;
  civil as_of_civil_;
  /// Starts a generation: every cached rule value and recorded node value becomes stale. The
  /// stamps are cleared when the counter wraps, so an old stamp never passes for a new one.
  void next_generation() {
    if (++gen_ == 0) {
      std::fill(rule_gen_.begin(), rule_gen_.end(), 0);
      std::fill(node_gen_.begin(), node_gen_.end(), 0);
      std::fill(prov_gen_.begin(), prov_gen_.end(), 0);
      gen_ = 1;
    }
  }

  std::uint32_t gen_ = 1;           // stamps are 0 until a value is cached: never current
  std::uint32_t recorded_gen_ = 0;  // a generation in which every evaluation recorded node values
  std::vector<value> rule_value_;
  std::vector<std::uint32_t> rule_gen_;
  std::vector<std::int32_t> rule_exception_;
  std::vector<std::uint8_t> rule_prov_;  // rule_provisional(r), valid when prov_gen_[r] == gen_
  std::vector<std::uint32_t> prov_gen_;
  std::vector<value> node_value_;  // recorded only when explaining
  std::vector<std::uint32_t> node_gen_;
  std::vector<const record_node*> variables_;
  std::vector<std::uint8_t> arithmetic_error_;  // per node that failed (overflow, division by 0)
  std::vector<std::uint8_t> seen_rules_;        // scratch for missing_facts
  coverage* coverage_ = nullptr;
};

}  // namespace dalil::engine
