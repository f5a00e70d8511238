// Passes over the graph of rules read: cycles (and the dependency order), the depth of
// evaluation through chains of rules, provisional status.
#include "dsl/checker_passes.hpp"

namespace dalil::dsl::detail {

/// Depth-first over the rules read, with an explicit stack (a chain of rules may be as long as
/// the pack): every rule lands in rule_order after the rules it reads, and each edge back to a
/// rule on the current path is a cycle. Long cycles are shown by their ends; past
/// limits::max_reports_per_construct cycles, one note says how many more there are.
void checker::check_cycles() {
  enum class mark : std::uint8_t { none, active, done };
  const std::size_t n = p_.rules.size();
  std::vector<mark> marks(n, mark::none);
  std::vector<std::uint32_t> position(n, 0);  // index on `path` of an active rule
  std::vector<std::uint32_t> path;
  std::vector<std::size_t> next_read;  // per entry of `path`: the next rules_read to follow
  std::size_t cycles = 0;
  std::vector<diagnostic> shown;
  auto report = [&](std::uint32_t d) {
    ++cycles;
    if (cycles > limits::max_reports_per_construct) return;
    std::size_t from = position[d];
    std::size_t length = path.size() - from;
    std::string chain;
    for (std::size_t k = from; k < path.size(); ++k) {
      std::size_t i = k - from;
      if (length > 2 * limits::max_listed_names && i == limits::max_listed_names) {
        std::size_t skip = length - 2 * limits::max_listed_names;
        chain += "… (" + std::to_string(skip) + " more) -> ";
        k += skip - 1;
        continue;
      }
      chain += p_.rules[path[k]].qualified + " -> ";
    }
    chain += p_.rules[d].qualified;
    shown.push_back({severity::error,
                     codes::rule_cycle,
                     p_.rules[d].span,
                     "rules read each other in a cycle: " + chain,
                     {}});
  };
  for (std::uint32_t root = 0; root < n; ++root) {
    if (marks[root] != mark::none) continue;
    marks[root] = mark::active;
    position[root] = 0;
    path.push_back(root);
    next_read.push_back(0);
    while (!path.empty()) {
      std::uint32_t r = path.back();
      const std::vector<std::uint32_t>& reads = p_.rules[r].rules_read;
      if (next_read.back() < reads.size()) {
        std::uint32_t d = reads[next_read.back()++];
        if (marks[d] == mark::active) {
          report(d);
        } else if (marks[d] == mark::none) {
          marks[d] = mark::active;
          position[d] = static_cast<std::uint32_t>(path.size());
          path.push_back(d);
          next_read.push_back(0);
        }
        continue;
      }
      path.pop_back();
      next_read.pop_back();
      marks[r] = mark::done;
      p_.rule_order.push_back(r);
    }
  }
  if (cycles > shown.size()) {
    shown.back().notes.push_back(
        {shown.back().span,
         "and " + std::to_string(cycles - shown.size()) + " more cycles between rules"});
  }
  has_cycle_ = cycles > 0;
  for (diagnostic& d : shown) diags_.add(std::move(d));
}

/// The evaluators recurse through a rule's expression tree and, at each rule it reads, through
/// that rule's tree: bound the sum along every such path (E0702), reported once, at the first
/// rule of a chain that exceeds the limit. Iterative, in dependency order.
void checker::check_evaluation_depth() {
  if (has_cycle_) return;  // depths along a cycle mean nothing; E0701 says what to fix
  std::vector<std::uint32_t> rule_depth(p_.rules.size(), 0);
  std::vector<std::uint32_t> rule_via(p_.rules.size(), no_index);  // the rule on its deepest path
  std::vector<std::uint32_t> depth(p_.expressions.size(), 0);
  std::vector<std::uint32_t> via(p_.expressions.size(), no_index);
  const std::uint32_t limit = limits::max_evaluation_depth;
  for (std::uint32_t r : p_.rule_order) {
    auto [first, last] = rule_expressions_[r];
    for (std::uint32_t id = first; id < last; ++id) {
      const expression& x = at(id);
      std::uint32_t d = 1;
      std::uint32_t v = no_index;
      for (std::uint32_t a : x.args) {
        if (depth[a] + 1 > d) {
          d = depth[a] + 1;
          v = via[a];
        }
      }
      if (x.o == op::rule) {
        d = 1 + rule_depth[x.ref];
        v = x.ref;
      }
      depth[id] = d;
      via[id] = v;
    }
    for (std::uint32_t root : expression_roots(p_.rules[r])) {
      if (depth[root] > rule_depth[r]) {
        rule_depth[r] = depth[root];
        rule_via[r] = via[root];
      }
    }
    std::uint32_t next = rule_via[r];
    if (rule_depth[r] <= limit || (next != no_index && rule_depth[next] > limit)) continue;
    bool reported = false;  // an expression of the rule itself is too deep (E0310)
    for (std::uint32_t id = first; id < last && !reported; ++id) reported = too_deep(id);
    if (reported) continue;
    std::string chain = p_.rules[r].qualified;
    for (int shown = 0; next != no_index; next = rule_via[next]) {
      if (++shown > 4) {
        chain += " -> …";
        break;
      }
      chain += " -> " + p_.rules[next].qualified;
    }
    chain_too_deep_ = true;
    error(codes::rule_chain_too_deep, p_.rules[r].span,
          "rule '" + p_.rules[r].name + "' is evaluated through " + std::to_string(rule_depth[r]) +
              " nested levels of rules and operators (" + chain + "), more than the limit of " +
              std::to_string(limit) + "; shorten the chain of rules that read each other");
  }
}

/// A decision's trace has one step per rule of its closure (itself and every rule it reads,
/// directly or not), each step listing the facts and parameters that rule reads; the engine
/// builds each closure by walking the rules read within it. Bound the sum over all rules of
/// their closures' entries (a rule, its facts, its parameters, and one per
/// limits::trace_entry_bytes of names, sources and values shown), and of the readings of rules
/// walked, by limits::max_trace_steps (E0703), reported once, at the rule where the running
/// total passes it. In dependency order, each closure walked with a stamp array (no set per
/// rule); the pass stops at the first rule past the limit, so it does at most about
/// limits::max_trace_steps steps, plus one walk of that rule's closure for the message.
void checker::check_trace_size() {
  if (has_cycle_ || chain_too_deep_) return;  // E0701 or E0702 already says what to fix
  const std::size_t n = p_.rules.size();
  const std::uint64_t limit = limits::max_trace_steps;
  // The entries of each rule's own step: itself, the facts and the parameters it reads, and
  // one more per limits::trace_entry_bytes of the names, sources and values the step shows (a
  // chain of rules with kilobyte names, or a megabyte text read by many rules, would otherwise
  // print gigabytes within the bound). No operator builds text, so a rule's value holds at most
  // the text literals, parameter values and values of rules read that it could hold: saturated
  // sums of their lengths, in dependency order. (Text from the record is the record's bound.)
  const std::uint64_t saturated = limit * limits::trace_entry_bytes;
  auto text_bytes = [](const constant& c) -> std::uint64_t {
    const auto* t = std::get_if<std::string>(&c);
    return t == nullptr ? 0 : t->size();
  };
  auto holds_text = [](const type& t) {
    return t.k == kind::text || t.k == kind::list || t.k == kind::record;
  };
  std::vector<std::uint64_t> parameter_bytes(p_.parameters.size(), 0);  // its longest value
  for (std::size_t q = 0; q < p_.parameters.size(); ++q) {
    for (const dated_constant& v : p_.parameters[q].values) {
      parameter_bytes[q] = std::max(parameter_bytes[q], text_bytes(v.value));
    }
  }
  std::vector<std::uint64_t> value_bytes(n, 0);
  std::vector<std::uint64_t> entries(n, 1);
  std::vector<std::uint32_t> fact_stamp(p_.facts.size(), no_index);
  for (std::uint32_t r : p_.rule_order) {
    const rule_info& info = p_.rules[r];
    std::uint64_t listed = 1 + info.parameters_read.size();
    std::uint64_t bytes = info.qualified.size() + info.source.size();
    std::uint64_t literals = 0;
    for_each_expression(p_, expression_roots(info), [&](std::uint32_t id) {
      const expression& x = at(id);
      if (x.o == op::fact && fact_stamp[x.ref] != r) {
        fact_stamp[x.ref] = r;
        ++listed;
        bytes += p_.facts[x.ref].path.size();
      } else if (x.o == op::constant) {
        literals = std::min(saturated, literals + text_bytes(x.value));
      }
    });
    std::uint64_t value = literals;
    for (std::uint32_t q : info.parameters_read) {
      bytes +=
          p_.parameters[q].qualified.size() + p_.parameters[q].source.size() + parameter_bytes[q];
      value = std::min(saturated, value + parameter_bytes[q]);
    }
    for (const exception_info& x : info.exceptions) bytes += x.name.size() + x.source.size();
    for (std::uint32_t d : info.rules_read) {
      bytes += p_.rules[d].qualified.size();
      value = std::min(saturated, value + value_bytes[d]);
    }
    value_bytes[r] = holds_text(info.t) ? value : 0;
    bytes = std::min(saturated, bytes + value_bytes[r]);
    entries[r] = listed + bytes / limits::trace_entry_bytes;
  }
  std::vector<std::uint32_t> stamp(n, no_index);
  std::vector<std::uint32_t> pending;
  std::uint64_t steps = 0;  // entries of the closures so far
  std::uint64_t reads = 0;  // readings of rules walked so far
  for (std::uint32_t r : p_.rule_order) {
    std::uint64_t rules = 0;  // in r's closure, r included
    std::uint64_t own = 0;    // entries of r's closure
    stamp[r] = r;
    pending.assign(1, r);
    // A closure has at most every rule and every reading once: the walk of one is linear.
    while (!pending.empty()) {
      std::uint32_t q = pending.back();
      pending.pop_back();
      ++rules;
      own += entries[q];
      for (std::uint32_t d : p_.rules[q].rules_read) {
        ++reads;
        if (stamp[d] != r) {
          stamp[d] = r;
          pending.push_back(d);
        }
      }
    }
    steps += own;
    if (steps <= limit && reads <= limit) continue;
    const rule_info& info = p_.rules[r];
    std::string name = "'" + info.name + "'";
    std::string read = name + " reads " + std::to_string(rules - 1) + " rules";
    error(codes::trace_too_large, info.span,
          "rule " + name +
              (steps > limit ? " brings the traces of all decisions to " + std::to_string(steps) +
                                   " entries, past the limit of " + std::to_string(limit) +
                                   " (each lists every rule read, directly or not, with its "
                                   "facts and parameters: " +
                                   read + ")"
                             : " brings the readings of rules walked for all traces to " +
                                   std::to_string(reads) + ", past the limit of " +
                                   std::to_string(limit) + " (" + read + ")") +
              "; have fewer rules read long chains, or fold them");
    return;
  }
}

void checker::compute_provisional() {
  for (std::uint32_t r : p_.rule_order) {
    rule_info& info = p_.rules[r];
    // A period's provisional date counts too: outside the period on that side, the decision
    // rests on it.
    bool prov = info.own_provisional || info.from_provisional || info.until_provisional;
    for (std::uint32_t q : info.parameters_read) prov = prov || p_.parameters[q].provisional;
    for (std::uint32_t d : info.rules_read) prov = prov || p_.rules[d].provisional;
    for (const exception_info& x : info.exceptions) prov = prov || x.provisional;
    info.provisional = prov;
  }
}

}  // namespace dalil::dsl::detail
