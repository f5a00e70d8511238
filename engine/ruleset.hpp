// The executable form of a checked program: a flat, immutable node array shared by threads,
// and its instantiation for one as-of date (parameters resolved once, rules out of force off).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsl/program.hpp"
#include "engine/value.hpp"

namespace dalil::engine {

struct node {
  dsl::op o = dsl::op::constant;
  dsl::kind k = dsl::kind::error;  // the static type of the result
  std::uint32_t args = 0;          // offset into ruleset::args
  std::uint32_t nargs = 0;
  std::uint32_t ref = dsl::no_index;
  std::uint32_t fields = 0;  // offset into ruleset::fields (variables' field chains)
  std::uint32_t nfields = 0;
  value constant;
};

class ruleset {
 public:
  /// Compiles a checked program. `source_hash` is the SHA-256 of the canonical source.
  static std::shared_ptr<const ruleset> compile(dsl::program program, std::string source_hash);

  const dsl::program& program() const { return program_; }
  const std::string& hash() const { return hash_; }
  const node& at(std::uint32_t id) const { return nodes_[id]; }
  const std::uint32_t* args(const node& n) const { return args_.data() + n.args; }
  const std::uint32_t* fields(const node& n) const { return fields_.data() + n.fields; }
  std::size_t node_count() const { return nodes_.size(); }
  /// Facts each rule reads directly (not through other rules), in fact order.
  const std::vector<std::uint32_t>& facts_of(std::uint32_t rule) const { return rule_facts_[rule]; }
  /// Rules transitively read by `rule` (itself included), dependencies first.
  const std::vector<std::uint32_t>& closure_of(std::uint32_t rule) const {
    return rule_closure_[rule];
  }
  /// Rules transitively read by any of `rules` (themselves included), in dependency order.
  std::vector<std::uint32_t> closure_of(const std::vector<std::uint32_t>& rules) const;
  /// Whether `rule`'s value can depend on the record: it or a rule it reads, at any depth,
  /// reads a fact. One that does not (a monthly SMIG from its hourly rate) is the pack's alone.
  bool reads_record(std::uint32_t rule) const {
    for (std::uint32_t r : rule_closure_[rule]) {
      if (!rule_facts_[r].empty()) return true;
    }
    return false;
  }
  /// Table rows: for table node `id`, the index of its first row in the coverage arrays.
  std::uint32_t row_base(std::uint32_t table_node) const { return row_base_[table_node]; }
  std::uint32_t row_count() const { return row_total_; }
  /// Whether node `id`'s value can rest on something provisional, whatever the record: it reads a
  /// provisional parameter, or a rule that may be provisional. Where it cannot, both evaluators
  /// skip the work of the precise (per record) flag.
  bool may_be_provisional(std::uint32_t id) const { return node_provisional_[id] != 0; }
  /// The same for rule `r`: its own confidence, its exceptions', or what its expressions read.
  bool rule_may_be_provisional(std::uint32_t r) const { return rule_provisional_[r] != 0; }

 private:
  void mark_provisional();

  dsl::program program_;
  std::string hash_;
  std::vector<node> nodes_;
  std::vector<std::uint32_t> args_;
  std::vector<std::uint32_t> fields_;
  std::vector<std::vector<std::uint32_t>> rule_facts_;
  std::vector<std::vector<std::uint32_t>> rule_closure_;
  std::vector<std::uint32_t> row_base_;
  std::uint32_t row_total_ = 0;
  std::vector<std::uint8_t> node_provisional_;
  std::vector<std::uint8_t> rule_provisional_;
};

/// A parameter as resolved for one date.
struct resolved_parameter {
  value v;                   // unknown when no value is in force yet
  std::optional<date> from;  // the date of the value in force
};

/// A ruleset instantiated for an as-of date; immutable and shared by threads.
struct instance {
  std::shared_ptr<const ruleset> rules;
  date as_of;
  std::vector<resolved_parameter> parameters;
  std::vector<std::uint8_t> in_force;  // per rule (bytes, not bits: read on the hot path)
};

std::shared_ptr<const instance> instantiate(std::shared_ptr<const ruleset> rules, date as_of);

/// A value of the program's constant type as a run-time value (text points into `c`).
value to_value(const dsl::constant& c);

}  // namespace dalil::engine
