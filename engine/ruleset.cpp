// Compilation of a checked program into the flat node array, and instantiation for a date.
#include "engine/ruleset.hpp"

#include <algorithm>
#include <set>

namespace dalil::engine {

value to_value(const dsl::constant& c) {
  struct visitor {
    value operator()(dsl::null_value) const { return value::null_value(); }
    value operator()(bool b) const { return value::of_bool(b); }
    value operator()(std::int64_t i) const { return value::of_int(i); }
    value operator()(const rational& r) const { return value::of_ratio(r.num, r.den); }
    value operator()(date d) const { return value::of_date(d); }
    value operator()(duration d) const { return value::of_duration(d); }
    value operator()(const std::string& s) const { return value::of_text(s); }
    value operator()(dsl::enum_value e) const { return value::of_enum(e.index); }
  };
  return std::visit(visitor{}, c);
}

std::shared_ptr<const ruleset> ruleset::compile(dsl::program program, std::string source_hash) {
  auto rs = std::shared_ptr<ruleset>(new ruleset());
  rs->program_ = std::move(program);
  rs->hash_ = std::move(source_hash);
  const dsl::program& p = rs->program_;
  rs->nodes_.resize(p.expressions.size());
  rs->row_base_.assign(p.expressions.size(), 0);
  for (std::uint32_t i = 0; i < p.expressions.size(); ++i) {
    const dsl::expression& e = p.expressions[i];
    node& n = rs->nodes_[i];
    n.o = e.o;
    n.k = e.t.k;
    n.ref = e.ref;
    n.args = static_cast<std::uint32_t>(rs->args_.size());
    n.nargs = static_cast<std::uint32_t>(e.args.size());
    rs->args_.insert(rs->args_.end(), e.args.begin(), e.args.end());
    n.fields = static_cast<std::uint32_t>(rs->fields_.size());
    n.nfields = static_cast<std::uint32_t>(e.fields.size());
    rs->fields_.insert(rs->fields_.end(), e.fields.begin(), e.fields.end());
    if (e.o == dsl::op::constant) n.constant = to_value(e.value);
    if (e.o == dsl::op::table) {
      rs->row_base_[i] = rs->row_total_;
      rs->row_total_ += n.nargs / 2;
    }
  }
  // Facts read directly by each rule: walk its expressions, not entering other rules.
  rs->rule_facts_.resize(p.rules.size());
  for (std::uint32_t r = 0; r < p.rules.size(); ++r) {
    std::set<std::uint32_t> facts;
    dsl::for_each_expression(p, dsl::expression_roots(p.rules[r]), [&](std::uint32_t id) {
      if (p.expressions[id].o == dsl::op::fact) facts.insert(p.expressions[id].ref);
    });
    rs->rule_facts_[r].assign(facts.begin(), facts.end());
  }
  // Transitive closure of rules read, in dependency order: each closure walked once with a
  // stamp array, then ordered by position in rule_order. The checker bounds the sum of the
  // closures' sizes and of the readings walked (limits::max_trace_steps, E0703), so this is
  // linear in that bound, up to the sort.
  std::vector<std::uint32_t> position(p.rules.size(), 0);
  for (std::uint32_t i = 0; i < p.rule_order.size(); ++i) position[p.rule_order[i]] = i;
  rs->rule_closure_.resize(p.rules.size());
  std::vector<std::uint32_t> stamp(p.rules.size(), dsl::no_index);
  std::vector<std::uint32_t> pending;
  for (std::uint32_t r : p.rule_order) {
    std::vector<std::uint32_t>& out = rs->rule_closure_[r];
    stamp[r] = r;
    pending.assign(1, r);
    while (!pending.empty()) {
      std::uint32_t q = pending.back();
      pending.pop_back();
      out.push_back(q);
      for (std::uint32_t d : p.rules[q].rules_read) {
        if (stamp[d] != r) {
          stamp[d] = r;
          pending.push_back(d);
        }
      }
    }
    std::sort(out.begin(), out.end(),
              [&](std::uint32_t a, std::uint32_t b) { return position[a] < position[b]; });
  }
  rs->mark_provisional();
  return rs;
}

void ruleset::mark_provisional() {
  // Rules in dependency order, so that a rule read is marked before its readers; within a rule,
  // children before parents (post-order, iterative: expressions nest deeply).
  const dsl::program& p = program_;
  node_provisional_.assign(nodes_.size(), 0);
  rule_provisional_.assign(p.rules.size(), 0);
  std::vector<std::uint8_t> done(nodes_.size(), 0);
  std::vector<std::pair<std::uint32_t, bool>> stack;
  auto mark = [&](std::uint32_t root) {
    stack.assign(1, {root, false});
    while (!stack.empty()) {
      auto [id, expanded] = stack.back();
      stack.pop_back();
      if (done[id]) continue;
      const node& n = nodes_[id];
      const std::uint32_t* a = args(n);
      if (!expanded) {
        stack.emplace_back(id, true);
        for (std::uint32_t k = 0; k < n.nargs; ++k) {
          if (!done[a[k]]) stack.emplace_back(a[k], false);
        }
        continue;
      }
      bool prov = false;
      if (n.o == dsl::op::parameter) prov = p.parameters[n.ref].provisional;
      if (n.o == dsl::op::rule) prov = rule_provisional_[n.ref] != 0;
      for (std::uint32_t k = 0; k < n.nargs; ++k) prov = prov || node_provisional_[a[k]] != 0;
      node_provisional_[id] = prov ? 1 : 0;
      done[id] = 1;
    }
    return node_provisional_[root] != 0;
  };
  for (std::uint32_t r : p.rule_order) {
    const dsl::rule_info& info = p.rules[r];
    // Out of force on a side whose date is provisional, the decision rests on that date.
    bool prov = info.own_provisional || info.from_provisional || info.until_provisional;
    prov = mark(info.body) || prov;
    for (const dsl::exception_info& x : info.exceptions) {
      prov = x.provisional || prov;
      prov = mark(x.condition) || prov;
      prov = mark(x.value) || prov;
    }
    if (info.outside != dsl::no_index) mark(info.outside);  // reads nothing: never provisional
    rule_provisional_[r] = prov ? 1 : 0;
  }
}

std::vector<std::uint32_t> ruleset::closure_of(const std::vector<std::uint32_t>& rules) const {
  std::vector<std::uint8_t> wanted(program_.rules.size(), 0);
  for (std::uint32_t r : rules) {
    for (std::uint32_t q : rule_closure_[r]) wanted[q] = 1;
  }
  std::vector<std::uint32_t> out;
  for (std::uint32_t r : program_.rule_order) {
    if (wanted[r]) out.push_back(r);
  }
  return out;
}

std::shared_ptr<const instance> instantiate(std::shared_ptr<const ruleset> rules, date as_of) {
  auto inst = std::make_shared<instance>();
  const dsl::program& p = rules->program();
  inst->as_of = as_of;
  inst->parameters.resize(p.parameters.size());
  for (std::size_t i = 0; i < p.parameters.size(); ++i) {
    for (const dsl::dated_constant& dc : p.parameters[i].values) {
      if (dc.from <= as_of) {
        inst->parameters[i].v = to_value(dc.value);
        inst->parameters[i].from = dc.from;
      }
    }
  }
  inst->in_force.resize(p.rules.size());
  for (std::size_t r = 0; r < p.rules.size(); ++r) {
    const dsl::rule_info& info = p.rules[r];
    inst->in_force[r] =
        static_cast<std::uint8_t>((!info.in_force_from || *info.in_force_from <= as_of) &&
                                  (!info.in_force_until || as_of <= *info.in_force_until));
  }
  inst->rules = std::move(rules);
  return inst;
}

}  // namespace dalil::engine
