// Block-at-a-time evaluation for cohorts: every node of the ruleset is evaluated over a block of
// records at once, one typed column per node, so the interpreter's dispatch is paid once per
// block instead of once per record and node. It gives the same values as `evaluator`, bit for
// bit. Rules that read what columns cannot hold (lists, quantifiers, texts, computed durations)
// are evaluated record by record by an `evaluator`, inside the same call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/ruleset.hpp"
#include "engine/value.hpp"

namespace dalil::engine {

class block_evaluator {
 public:
  /// Records per block: a column of this many cells per node stays in the L1/L2 caches.
  static constexpr std::size_t block_size = 256;

  /// Plans the evaluation of `rules` (rule indices) and of every rule they read, for the
  /// instance's date: common subexpressions merged, constants and parameters filled once.
  /// Allocates everything it needs here: `run` never allocates.
  block_evaluator(std::shared_ptr<const instance> inst, const std::vector<std::uint32_t>& rules);
  ~block_evaluator();
  block_evaluator(const block_evaluator&) = delete;
  block_evaluator& operator=(const block_evaluator&) = delete;

  /// Evaluates the records whose facts, by fact index, are `rows[0]` … `rows[n - 1]`
  /// (n <= block_size). The rows must stay valid until the values have been read.
  void run(const value* const* rows, std::size_t n);

  /// The value of rule `r` for record `i` of the last block. `r` is one of the rules planned:
  /// those given to the constructor and those they read (`planned`).
  value get(std::uint32_t r, std::size_t i) const;
  /// The values of rule `r` for every record of the last block, to out[0], out[stride], …
  void get_all(std::uint32_t r, value* out, std::size_t stride) const;
  /// The exception that gave rule `r` its value for record `i`, or -1.
  int fired_exception(std::uint32_t r, std::size_t i) const;
  /// Whether the value of rule `r` for record `i` of the last block rests on something
  /// provisional (evaluator::provisional, computed by columns).
  bool provisional(std::uint32_t r, std::size_t i) const;
  /// The rules planned, dependencies first (the order of the program's `rule_order`).
  const std::vector<std::uint32_t>& planned() const;
  /// How many of them are evaluated record by record rather than by columns.
  std::size_t scalar_rule_count() const;

  const instance& inst() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace dalil::engine
