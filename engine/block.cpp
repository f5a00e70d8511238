// The block evaluator: a plan of column operations built once per instance (post-order over the
// rules' expressions, identical subexpressions merged), then run over blocks of records. The
// semantics are those of evaluator.cpp, operation by operation; the arithmetic is shared with it
// (engine/arith.hpp) so that both give the same representations.
#include "engine/block.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine/arith.hpp"
#include "engine/clones.hpp"
#include "engine/evaluator.hpp"
#include "engine/logic.hpp"

namespace dalil::engine {

using dsl::kind;
using dsl::op;

namespace {

constexpr std::size_t B = block_evaluator::block_size;
// A cell's state byte is logic::truth: booleans carry their value in it (T, F), null is N,
// unknown U, any other known value K with its payload in the x and d columns.
using logic::F;
using logic::K;
using logic::N;
using logic::state_of;
using logic::T;
using logic::U;

/// Kinds a column holds: a state byte, a 64-bit payload (boolean, integer, date in days, enum
/// case, or numerator) and a denominator (1 for integers).
bool columnar(kind k) {
  switch (k) {
    case kind::boolean:
    case kind::integer:
    case kind::decimal:
    case kind::money:
    case kind::date:
    case kind::enumeration:
    case kind::null_type:
    case kind::any:
      return true;
    default:
      return false;
  }
}

bool fractional(kind k) {
  return k == kind::decimal || k == kind::money;
}

enum class code : std::uint8_t {
  not_,      // a
  and_,      // a…
  or_,       // a…
  eq,        // a, b
  ne,        // a, b
  order,     // a, b; `o` says which
  in,        // a, items…
  arith,     // a, b; or a and the duration in `aux`
  negate,    // a
  if_,       // c, a, b
  table,     // (condition, value)…
  known,     // a
  calendar,  // a [, b]; `o` says which
  minmax,    // a, b
  round,     // a; places in `places`
  floor,     // a
  rule,      // body, (condition, value)… of the exceptions
};

struct step {
  code c = code::not_;
  op o = op::constant;
  bool numeric = false;  // compare, min/max, equal by cross-multiplying numerator and denominator
  bool rhs_constant = false;  // eq, ne, order: the right operand is the known constant kx / kd
  std::int64_t kx = 0;
  std::int64_t kd = 1;
  std::uint32_t dst = 0;
  std::uint32_t args = 0;  // offset into plan args
  std::uint32_t nargs = 0;
  std::uint32_t ref = 0;  // the rule (rule)
  std::int32_t places = 0;
  value aux;            // the duration of date arithmetic
  bool unique = false;  // table: the `unique` policy (all its conditions are on the deciding path)
  // The provisional flag of the result: its column (no_column: never provisional here) and the
  // flag columns of the operands (and / or, if, table, rule: one per operand, the zero column
  // for those never provisional; other operations: only those that can be, to OR together).
  std::uint32_t pdst = UINT32_MAX;
  std::uint32_t pargs = 0;
  std::uint32_t npargs = 0;
};

struct cell {
  std::uint8_t s;
  std::int64_t x;
  std::int64_t d;
};

/// logic::same over cells: the payloads are read only when both are known non-booleans.
bool equal_cells(bool numeric, const cell& a, const cell& b) {
  return logic::same(
      a.s, b.s,
      a.s == K && b.s == K && (numeric ? logic::equal_fractions(a.x, a.d, b.x, b.d) : a.x == b.x));
}

int compare_cells(bool numeric, const cell& a, const cell& b) {
  return numeric ? logic::compare_fractions(a.x, a.d, b.x, b.d) : logic::compare_words(a.x, b.x);
}

}  // namespace

struct block_evaluator::impl {
  std::shared_ptr<const instance> inst;
  const ruleset* rs;
  civil as_of_civil;
  std::vector<std::uint32_t> planned;

  // Columns: slot k holds s[k * B + i], x[k * B + i], d[k * B + i].
  std::vector<kind> slot_kind;
  std::vector<std::uint8_t> s;
  std::vector<std::int64_t> x;
  std::vector<std::int64_t> d;
  std::vector<step> steps;
  std::vector<std::uint32_t> args;
  struct fact_load {
    std::uint32_t fact;
    std::uint32_t slot;
    kind k;
  };
  std::vector<fact_load> loads;  // booleans, then fractions, then words
  std::size_t load_bools = 0;
  std::size_t load_fractions = 0;
  std::vector<std::uint32_t> fact_slot;
  // Text facts are only ever compared with texts known when planning (constants, parameters):
  // their column holds the index of the literal the record's text equals, or -1 for any other.
  struct text_load {
    std::uint32_t fact;
    std::uint32_t slot;
    std::vector<std::string> literals;
  };
  std::vector<text_load> text_loads;
  std::vector<std::uint32_t> fact_text;  // per fact: its text load, or none

  // Per rule: its column, or the index of its record-by-record values.
  static constexpr std::uint32_t none = UINT32_MAX;
  std::vector<std::uint32_t> rule_slot;
  std::vector<std::uint32_t> rule_scalar;
  std::vector<std::uint32_t> rule_fired;  // index into fired (rules with exceptions)
  std::vector<std::int8_t> fired;         // fired[index * B + i]
  std::vector<std::uint32_t> scalar_rules;
  std::vector<value> scalar_values;  // scalar_values[index * B + i]
  std::vector<std::int8_t> scalar_fired;
  std::unique_ptr<evaluator> scalar;

  // Provisional flags (docs/language.md, "Provisional, precisely"): one byte per record in flag
  // columns, pv[c * B + i], only for the nodes whose value can rest on something provisional
  // (ruleset::may_be_provisional); column 0 is all ones, column 1 all zeros.
  static constexpr std::uint32_t ones = 0;
  static constexpr std::uint32_t zeros = 1;
  std::vector<std::uint8_t> pv;
  std::uint32_t prov_columns = 2;
  std::vector<std::uint32_t> node_prov;  // per node: its flag column, or none
  std::vector<std::uint32_t> slot_prov;  // per slot computed by a step: its flag column, or none
  std::vector<std::uint32_t> rule_prov;  // per rule: its flag column, or none
  std::vector<std::uint32_t> pargs;
  std::vector<std::uint8_t> scalar_prov;  // scalar_prov[index * B + i]

  std::size_t last_n = 0;
  std::vector<std::uint32_t> node_slot;
  std::vector<std::int8_t> rule_ok;  // -1 unknown yet
  std::map<std::vector<std::int64_t>, std::uint32_t> merged;

  impl(std::shared_ptr<const instance> i, const std::vector<std::uint32_t>& rules);

  // ---- planning
  bool node_ok(std::uint32_t id);
  bool text_fact(std::uint32_t id) const;
  bool text_known(std::uint32_t id) const;
  std::uint32_t text_fact_slot(std::uint32_t fact);
  std::uint32_t text_literal_slot(std::uint32_t fact, std::uint32_t id);
  bool rule_columnar(std::uint32_t r);
  std::uint32_t new_slot(kind k);
  std::vector<std::uint8_t> slot_is_constant;
  std::vector<cell> slot_constant;
  /// Puts a known constant operand of a comparison on the right, where the kernels read it as
  /// a scalar.
  void constant_right(step& st, std::vector<std::uint32_t>& ab) const;
  std::uint32_t constant_slot(kind k, const value& v);
  std::uint32_t emit(step st, const std::vector<std::uint32_t>& a, kind k,
                     std::vector<std::uint32_t> pa = {});
  /// The flag columns of the operands of node `id` that can be provisional (for operations
  /// whose flag is the OR of their operands').
  std::vector<std::uint32_t> operand_prov(std::uint32_t id) const;
  void gather_prov(std::uint32_t id, std::vector<std::uint32_t>& out) const;
  /// The flag column of each of the operands `a[from]`, `a[from + 1]`, … of node `id` (the zero
  /// column for those never provisional); empty when none can be.
  std::vector<std::uint32_t> aligned_prov(std::uint32_t id, std::uint32_t from,
                                          std::uint32_t to) const;
  std::uint32_t plan_node(std::uint32_t id);
  std::uint32_t plan_rule(std::uint32_t r);
  std::uint32_t plan_age_comparison(std::uint32_t id);
  /// operand_prov(id), empty when it is only the ones column (no flag to compute).
  std::vector<std::uint32_t> computed_prov(std::uint32_t id) const {
    std::vector<std::uint32_t> pa = operand_prov(id);
    if (pa.size() == 1 && pa[0] == ones) pa.clear();
    return pa;
  }
  std::optional<std::int32_t> age_cutoff(std::int64_t years) const;

  // ---- running
  cell at(std::uint32_t slot, std::size_t i) const {
    std::size_t j = slot * B + i;
    return {s[j], x[j], d[j]};
  }
  void put(std::uint32_t slot, std::size_t i, const cell& c) {
    std::size_t j = slot * B + i;
    s[j] = c.s;
    x[j] = c.x;
    d[j] = c.d;
  }
  void load(const value* const* rows, std::size_t n);
  void exec(const step& st, std::size_t n);
  // One kernel per operation (see "kernels").
  struct frame;
  static void kernel_not_(const frame& f);
  static void kernel_and_or(const frame& f);
  static void kernel_equality(const frame& f);
  static void kernel_order(const frame& f);
  static void kernel_in(const frame& f);
  static void kernel_date_arith(const frame& f);
  static void kernel_arith(const frame& f);
  static void kernel_negate(const frame& f);
  static void kernel_if_(const frame& f);
  static void kernel_table(const frame& f);
  static void kernel_known(const frame& f);
  static void kernel_calendar(const frame& f);
  static void kernel_minmax(const frame& f);
  static void kernel_round_floor(const frame& f);
  static void kernel_rule(const frame& f);
  void exec_prov(const step& st, std::size_t n);
  value to_value(std::uint32_t slot, std::size_t i) const;
};

block_evaluator::impl::impl(std::shared_ptr<const instance> i,
                            const std::vector<std::uint32_t>& rules)
    : inst(std::move(i)), rs(inst->rules.get()), as_of_civil(to_civil(inst->as_of)) {
  const dsl::program& p = rs->program();
  node_slot.assign(rs->node_count(), none);
  fact_slot.assign(p.facts.size(), none);
  fact_text.assign(p.facts.size(), none);
  rule_slot.assign(p.rules.size(), none);
  rule_scalar.assign(p.rules.size(), none);
  rule_fired.assign(p.rules.size(), none);
  rule_ok.assign(p.rules.size(), -1);
  node_prov.assign(rs->node_count(), none);
  rule_prov.assign(p.rules.size(), none);
  planned = rs->closure_of(rules);
  for (std::uint32_t r : planned) plan_rule(r);
  auto order = [](const fact_load& l) {
    return l.k == kind::boolean ? 0 : fractional(l.k) ? 1 : 2;
  };
  std::stable_sort(loads.begin(), loads.end(),
                   [&](const fact_load& l, const fact_load& r) { return order(l) < order(r); });
  for (const fact_load& l : loads) {
    if (order(l) == 0) ++load_bools;
    if (order(l) == 1) ++load_fractions;
  }
  s.assign(slot_kind.size() * B, U);
  x.assign(slot_kind.size() * B, 0);
  d.assign(slot_kind.size() * B, 1);
  fired.assign(std::max<std::size_t>(1, steps.size()) * B, -1);
  scalar_values.resize(scalar_rules.size() * B);
  scalar_fired.assign(scalar_rules.size() * B, -1);
  scalar_prov.assign(scalar_rules.size() * B, 0);
  pv.assign(std::size_t{prov_columns} * B, 0);
  std::fill(pv.begin(), pv.begin() + B, 1);  // the ones column
  if (!scalar_rules.empty()) scalar = std::make_unique<evaluator>(inst);
  // Constant columns are filled once: they hold the same value in every block.
  for (const auto& [key, slot] : merged) {
    if (key[0] != -1) continue;
    for (std::size_t k = 0; k < B; ++k) {
      put(slot, k,
          cell{static_cast<std::uint8_t>(key[2]), static_cast<std::int64_t>(key[3]), key[4]});
    }
  }
}

bool block_evaluator::impl::rule_columnar(std::uint32_t r) {
  if (rule_ok[r] >= 0) return rule_ok[r] != 0;
  rule_ok[r] = 0;  // a cycle cannot happen (the checker rejects them); be safe anyway
  const dsl::rule_info& info = rs->program().rules[r];
  bool ok = columnar(info.t.k);
  if (ok && inst->in_force[r]) {
    ok = node_ok(info.body);
    for (const dsl::exception_info& ex : info.exceptions) {
      ok = ok && node_ok(ex.condition) && node_ok(ex.value);
    }
  } else if (ok && info.outside != dsl::no_index) {
    ok = node_ok(info.outside);
  }
  rule_ok[r] = ok ? 1 : 0;
  return ok;
}

bool block_evaluator::impl::node_ok(std::uint32_t id) {
  const node& n = rs->at(id);
  const std::uint32_t* a = rs->args(n);
  auto children = [&](std::uint32_t from) {
    for (std::uint32_t k = from; k < n.nargs; ++k) {
      if (!node_ok(a[k])) return false;
    }
    return true;
  };
  switch (n.o) {
    case op::constant:
    case op::fact:
    case op::parameter:
      return columnar(n.k);
    case op::as_of:
    case op::not_encoded:
      return true;
    case op::rule:
      return rule_columnar(n.ref);
    case op::eq:
    case op::ne:
      if ((text_fact(a[0]) && text_known(a[1])) || (text_known(a[0]) && text_fact(a[1]))) {
        return true;
      }
      return columnar(n.k) && children(0);
    case op::known:
      return text_fact(a[0]) || children(0);
    case op::not_:
    case op::and_:
    case op::or_:
    case op::any_of:
    case op::all_of:
    case op::if_:
    case op::table:
    case op::negate:
    case op::lt:
    case op::le:
    case op::gt:
    case op::ge:
    case op::age:
    case op::years_between:
    case op::months_between:
    case op::days_between:
    case op::min:
    case op::max:
    case op::floor:
      return columnar(n.k) && children(0);
    case op::round:
      return columnar(n.k) && node_ok(a[0]) && rs->at(a[1]).o == op::constant;
    case op::in: {
      bool text = text_fact(a[0]);
      if ((!text && !node_ok(a[0])) || rs->at(a[1]).o != op::list) return false;
      const node& list = rs->at(a[1]);
      const std::uint32_t* items = rs->args(list);
      for (std::uint32_t k = 0; k < list.nargs; ++k) {
        if (!(text ? text_known(items[k]) : node_ok(items[k]))) return false;
      }
      return true;
    }
    case op::add:
    case op::sub:
    case op::mul:
    case op::div: {
      if (!columnar(n.k)) return false;
      const node& right = rs->at(a[1]);
      if (n.k == kind::date) {
        // date ± duration: the duration must be known when planning (a constant or parameter)
        return node_ok(a[0]) && right.k == kind::duration &&
               (right.o == op::constant || right.o == op::parameter);
      }
      return children(0);
    }
    default:  // variables, quantifiers over lists, count, lists on their own
      return false;
  }
}

bool block_evaluator::impl::text_fact(std::uint32_t id) const {
  const node& n = rs->at(id);
  return n.o == op::fact && n.k == kind::text;
}

bool block_evaluator::impl::text_known(std::uint32_t id) const {
  const node& n = rs->at(id);
  return (n.o == op::constant || n.o == op::parameter) &&
         (n.k == kind::text || n.k == kind::null_type);
}

std::uint32_t block_evaluator::impl::text_fact_slot(std::uint32_t fact) {
  if (fact_text[fact] == none) {
    fact_text[fact] = static_cast<std::uint32_t>(text_loads.size());
    text_loads.push_back({fact, new_slot(kind::enumeration), {}});
  }
  return text_loads[fact_text[fact]].slot;
}

std::uint32_t block_evaluator::impl::text_literal_slot(std::uint32_t fact, std::uint32_t id) {
  const node& n = rs->at(id);
  value v = n.o == op::constant ? n.constant : inst->parameters[n.ref].v;
  if (!v.known() || v.r != rep::text) return constant_slot(kind::enumeration, v);
  text_fact_slot(fact);
  std::vector<std::string>& literals = text_loads[fact_text[fact]].literals;
  auto it = std::find(literals.begin(), literals.end(), v.as_text());
  if (it == literals.end()) it = literals.insert(literals.end(), std::string(v.as_text()));
  return constant_slot(kind::enumeration,
                       value::of_enum(static_cast<std::uint32_t>(it - literals.begin())));
}

std::uint32_t block_evaluator::impl::new_slot(kind k) {
  slot_kind.push_back(k);
  slot_prov.push_back(none);
  slot_is_constant.push_back(0);
  slot_constant.push_back(cell{U, 0, 1});
  return static_cast<std::uint32_t>(slot_kind.size() - 1);
}

std::uint32_t block_evaluator::impl::constant_slot(kind k, const value& v) {
  std::int64_t px = 0;
  std::int64_t pd = 1;
  if (v.known()) {
    switch (v.r) {
      case rep::boolean:
        break;
      case rep::ratio:
        px = v.q.num;
        pd = v.q.den;
        break;
      default:
        px = v.i;
        break;
    }
  }
  std::vector<std::int64_t> key = {-1, static_cast<std::int64_t>(k), state_of(v), px, pd};
  auto it = merged.find(key);
  if (it != merged.end()) return it->second;
  std::uint32_t slot = new_slot(k);
  merged.emplace(std::move(key), slot);
  slot_is_constant[slot] = 1;
  slot_constant[slot] = cell{state_of(v), px, pd};
  return slot;
}

std::uint32_t block_evaluator::impl::emit(step st, const std::vector<std::uint32_t>& a, kind k,
                                          std::vector<std::uint32_t> pa) {
  // Identical operations on identical columns are planned once (age(birth) read twice…).
  std::vector<std::int64_t> key = {static_cast<std::int64_t>(st.c),
                                   static_cast<std::int64_t>(st.o),
                                   st.rhs_constant,
                                   st.kx,
                                   st.kd,
                                   static_cast<std::int64_t>(k),
                                   st.ref,
                                   st.places,
                                   static_cast<std::int64_t>(st.aux.s),
                                   st.aux.dur.years,
                                   st.aux.dur.months,
                                   st.aux.dur.days};
  key.insert(key.end(), a.begin(), a.end());
  // Two nodes with the same operation on the same columns may still differ in their flags (a
  // provisional rule's value is its body's column): the flag columns are part of the key.
  if (!pa.empty()) {
    key.push_back(-2);
    key.insert(key.end(), pa.begin(), pa.end());
  }
  if (st.c != code::rule) {
    auto it = merged.find(key);
    if (it != merged.end()) return it->second;
  }
  st.dst = new_slot(k);
  st.args = static_cast<std::uint32_t>(args.size());
  st.nargs = static_cast<std::uint32_t>(a.size());
  args.insert(args.end(), a.begin(), a.end());
  if (!pa.empty()) {
    st.pdst = prov_columns++;
    st.pargs = static_cast<std::uint32_t>(pargs.size());
    st.npargs = static_cast<std::uint32_t>(pa.size());
    pargs.insert(pargs.end(), pa.begin(), pa.end());
    slot_prov[st.dst] = st.pdst;
  }
  steps.push_back(st);
  if (st.c != code::rule) merged.emplace(std::move(key), st.dst);
  return st.dst;
}

void block_evaluator::impl::gather_prov(std::uint32_t id, std::vector<std::uint32_t>& out) const {
  if (!rs->may_be_provisional(id)) return;
  if (node_slot[id] != none) {  // planned: its own column
    if (node_prov[id] != none) out.push_back(node_prov[id]);
    return;
  }
  // Not planned as a column of its own (a parameter compared with a text, the list of `in`, an
  // age fused with its comparison, the duration of date arithmetic): what it reads.
  const node& n = rs->at(id);
  if (n.o == op::parameter) {
    out.push_back(ones);  // may be provisional: it is
    return;
  }
  const std::uint32_t* a = rs->args(n);
  for (std::uint32_t k = 0; k < n.nargs; ++k) gather_prov(a[k], out);
}

std::vector<std::uint32_t> block_evaluator::impl::operand_prov(std::uint32_t id) const {
  std::vector<std::uint32_t> out;
  if (!rs->may_be_provisional(id)) return out;
  const node& n = rs->at(id);
  const std::uint32_t* a = rs->args(n);
  for (std::uint32_t k = 0; k < n.nargs; ++k) gather_prov(a[k], out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (!out.empty() && out.front() == ones) out.assign(1, ones);  // provisional whatever the rest
  return out;
}

std::vector<std::uint32_t> block_evaluator::impl::aligned_prov(std::uint32_t id, std::uint32_t from,
                                                               std::uint32_t to) const {
  std::vector<std::uint32_t> out;
  if (!rs->may_be_provisional(id)) return out;
  const std::uint32_t* a = rs->args(rs->at(id));
  bool any = false;
  for (std::uint32_t k = from; k < to; ++k) {
    std::uint32_t c = node_prov[a[k]];
    any = any || c != none;
    out.push_back(c == none ? zeros : c);
  }
  if (!any) out.clear();
  return out;
}

void block_evaluator::impl::constant_right(step& st, std::vector<std::uint32_t>& ab) const {
  auto known_constant = [&](std::uint32_t k) {
    return slot_is_constant[k] && slot_constant[k].s == K;
  };
  if (known_constant(ab[0]) && !known_constant(ab[1])) {
    std::swap(ab[0], ab[1]);
    st.o = st.o == op::lt   ? op::gt
           : st.o == op::le ? op::ge
           : st.o == op::gt ? op::lt
           : st.o == op::ge ? op::le
                            : st.o;
  }
  if (known_constant(ab[1])) {
    st.rhs_constant = true;
    st.kx = slot_constant[ab[1]].x;
    st.kd = slot_constant[ab[1]].d;
  }
}

std::uint32_t block_evaluator::impl::plan_node(std::uint32_t id) {
  if (node_slot[id] != none) return node_slot[id];
  const node& n = rs->at(id);
  const std::uint32_t* a = rs->args(n);
  std::uint32_t slot = none;
  step st;
  st.o = n.o;
  auto plan_args = [&](std::uint32_t from, std::uint32_t to) {
    std::vector<std::uint32_t> out;
    for (std::uint32_t k = from; k < to; ++k) out.push_back(plan_node(a[k]));
    return out;
  };
  auto any_fractional = [&](const std::vector<std::uint32_t>& slots) {
    return std::any_of(slots.begin(), slots.end(),
                       [&](std::uint32_t k) { return fractional(slot_kind[k]); });
  };
  switch (n.o) {
    case op::constant:
      slot = constant_slot(n.k, n.constant);
      break;
    case op::parameter:
      slot = constant_slot(n.k, inst->parameters[n.ref].v);
      break;
    case op::as_of:
      slot = constant_slot(kind::date, value::of_date(inst->as_of));
      break;
    case op::not_encoded:
      slot = constant_slot(kind::any, value{});
      break;
    case op::fact:
      if (fact_slot[n.ref] == none) {
        fact_slot[n.ref] = new_slot(n.k);
        loads.push_back({n.ref, fact_slot[n.ref], n.k});
      }
      slot = fact_slot[n.ref];
      break;
    case op::rule:
      slot = plan_rule(n.ref);
      break;
    case op::not_: {
      st.c = code::not_;
      std::vector<std::uint32_t> a0 = plan_args(0, 1);
      slot = emit(st, a0, kind::boolean, computed_prov(id));
      break;
    }
    case op::and_:
    case op::all_of:
    case op::or_:
    case op::any_of: {
      const bool is_and = n.o == op::and_ || n.o == op::all_of;
      st.c = is_and ? code::and_ : code::or_;
      st.o = is_and ? op::and_ : op::or_;
      std::vector<std::uint32_t> all = plan_args(0, n.nargs);
      slot = emit(st, all, kind::boolean, aligned_prov(id, 0, n.nargs));
      break;
    }
    case op::lt:
    case op::le:
    case op::gt:
    case op::ge:
      if (std::uint32_t fused = plan_age_comparison(id); fused != none) {
        slot = fused;
        break;
      }
      [[fallthrough]];
    case op::eq:
    case op::ne: {
      std::vector<std::uint32_t> ab;
      if (text_fact(a[0]) && text_known(a[1])) {
        ab = {text_fact_slot(rs->at(a[0]).ref), text_literal_slot(rs->at(a[0]).ref, a[1])};
      } else if (text_known(a[0]) && text_fact(a[1])) {
        ab = {text_literal_slot(rs->at(a[1]).ref, a[0]), text_fact_slot(rs->at(a[1]).ref)};
      } else {
        ab = plan_args(0, 2);
      }
      st.c = n.o == op::eq ? code::eq : n.o == op::ne ? code::ne : code::order;
      st.numeric = any_fractional(ab);
      constant_right(st, ab);
      slot = emit(st, ab, kind::boolean, computed_prov(id));
      break;
    }
    case op::in: {
      const node& list = rs->at(a[1]);
      const std::uint32_t* items = rs->args(list);
      std::vector<std::uint32_t> all;
      if (text_fact(a[0])) {
        std::uint32_t fact = rs->at(a[0]).ref;
        all.push_back(text_fact_slot(fact));
        for (std::uint32_t k = 0; k < list.nargs; ++k) {
          all.push_back(text_literal_slot(fact, items[k]));
        }
      } else {
        all.push_back(plan_node(a[0]));
        for (std::uint32_t k = 0; k < list.nargs; ++k) all.push_back(plan_node(items[k]));
      }
      st.c = code::in;
      st.numeric = any_fractional(all);
      slot = emit(st, all, kind::boolean, computed_prov(id));
      break;
    }
    case op::add:
    case op::sub:
    case op::mul:
    case op::div: {
      st.c = code::arith;
      if (n.k == kind::date) {
        const node& right = rs->at(a[1]);
        st.aux = right.o == op::constant ? right.constant : inst->parameters[right.ref].v;
        std::vector<std::uint32_t> a0 = plan_args(0, 1);
        slot = emit(st, a0, n.k, computed_prov(id));
      } else {
        auto ab = plan_args(0, 2);
        st.numeric = any_fractional(ab) || n.o == op::div;
        slot = emit(st, ab, n.k, computed_prov(id));
      }
      break;
    }
    case op::negate: {
      st.c = code::negate;
      std::vector<std::uint32_t> a0 = plan_args(0, 1);
      slot = emit(st, a0, n.k, computed_prov(id));
      break;
    }
    case op::if_: {
      auto abc = plan_args(0, 3);
      st.c = code::if_;
      st.numeric =
          fractional(n.k) || fractional(slot_kind[abc[1]]) || fractional(slot_kind[abc[2]]);
      slot = emit(st, abc, n.k, aligned_prov(id, 0, 3));
      break;
    }
    case op::table: {
      auto all = plan_args(0, n.nargs);
      st.c = code::table;
      st.unique = n.ref == 1;
      st.numeric = fractional(n.k);
      for (std::size_t k = 1; k < all.size(); k += 2) st.numeric |= fractional(slot_kind[all[k]]);
      slot = emit(st, all, n.k, aligned_prov(id, 0, n.nargs));
      break;
    }
    case op::known: {
      st.c = code::known;
      std::vector<std::uint32_t> a0 =
          text_fact(a[0]) ? std::vector<std::uint32_t>{text_fact_slot(rs->at(a[0]).ref)}
                          : plan_args(0, 1);
      slot = emit(st, a0, kind::boolean, computed_prov(id));
      break;
    }
    case op::age:
    case op::years_between:
    case op::months_between:
    case op::days_between: {
      st.c = code::calendar;
      std::vector<std::uint32_t> ab = plan_args(0, n.o == op::age ? 1 : 2);
      slot = emit(st, ab, kind::integer, computed_prov(id));
      break;
    }
    case op::min:
    case op::max: {
      auto ab = plan_args(0, 2);
      st.c = code::minmax;
      st.numeric = any_fractional(ab);
      slot = emit(st, ab, n.k, computed_prov(id));
      break;
    }
    case op::round:
    case op::floor: {
      st.c = n.o == op::round ? code::round : code::floor;
      if (n.o == op::round) {
        st.places =
            static_cast<std::int32_t>(std::clamp<std::int64_t>(rs->at(a[1]).constant.i, 0, 18));
      }
      std::vector<std::uint32_t> a0 = plan_args(0, 1);
      slot = emit(st, a0, n.k, computed_prov(id));
      break;
    }
    default:
      break;  // not columnar: node_ok said so before planning
  }
  node_slot[id] = slot;
  // The node's flag column: a rule's, a provisional parameter's (always), or its step's; an
  // operation whose only provisional operand is always so (ones) computes no flag of its own.
  if (n.o == op::rule) {
    node_prov[id] = rule_prov[n.ref];
  } else if (!rs->may_be_provisional(id) || slot == none) {
    node_prov[id] = none;
  } else if (n.o == op::parameter) {
    node_prov[id] = ones;
  } else if (slot_prov[slot] != none) {
    node_prov[id] = slot_prov[slot];
  } else {
    std::vector<std::uint32_t> pa = operand_prov(id);
    node_prov[id] = pa.size() == 1 && pa[0] == ones ? ones : none;
  }
  return slot;
}

std::optional<std::int32_t> block_evaluator::impl::age_cutoff(std::int64_t years) const {
  // The last birth date with age(b) >= years on the as-of date. Age never grows with the birth
  // date, so {b : age(b) >= years} is every date up to a cutoff: found by bisection, then
  // checked around the cutoff against the age function itself.
  const date as_of = inst->as_of;
  auto age = [&](std::int32_t b) -> std::int64_t {
    return date{b} <= as_of ? age_on(date{b}, as_of_civil) : years_between(date{b}, as_of);
  };
  std::int32_t lo = from_civil(civil{1, 1, 1}).days;
  std::int32_t hi = from_civil(civil{9999, 12, 31}).days;
  if (age(lo) < years || age(hi) >= years) return std::nullopt;
  while (hi - lo > 1) {  // age(lo) >= years > age(hi)
    std::int32_t mid = lo + (hi - lo) / 2;
    (age(mid) >= years ? lo : hi) = mid;
  }
  for (std::int32_t b = lo - 800; b <= lo + 800; ++b) {
    if ((age(b) >= years) != (b <= lo)) return std::nullopt;
  }
  return lo;
}

std::uint32_t block_evaluator::impl::plan_age_comparison(std::uint32_t id) {
  // age(b) compared with a known whole number of years is a comparison of b with a date,
  // computed once per instance: no calendar arithmetic per record.
  const node& n = rs->at(id);
  const std::uint32_t* a = rs->args(n);
  bool age_left = rs->at(a[0]).o == op::age;
  const node& age = rs->at(a[age_left ? 0 : 1]);
  const node& other = rs->at(a[age_left ? 1 : 0]);
  if (age.o != op::age) return none;
  value k = other.o == op::constant    ? other.constant
            : other.o == op::parameter ? inst->parameters[other.ref].v
                                       : value{};
  if (!k.known() || k.r != rep::integer || k.i <= INT32_MIN || k.i >= INT32_MAX) return none;
  op o = n.o;
  if (!age_left) {  // k < age is age > k, …
    o = o == op::lt ? op::gt : o == op::le ? op::ge : o == op::gt ? op::lt : op::le;
  }
  // age >= k: b <= c(k); age > k: b <= c(k + 1); age < k: b > c(k); age <= k: b > c(k + 1)
  std::int64_t years = (o == op::gt || o == op::le) ? k.i + 1 : k.i;
  auto cutoff = age_cutoff(years);
  if (!cutoff) return none;
  step st;
  st.c = code::order;
  st.o = (o == op::ge || o == op::gt) ? op::le : op::gt;
  std::uint32_t birth = plan_node(rs->args(age)[0]);
  std::uint32_t limit = constant_slot(kind::date, value::of_date(date{*cutoff}));
  std::vector<std::uint32_t> ab = {birth, limit};
  constant_right(st, ab);
  return emit(st, ab, kind::boolean, computed_prov(id));
}

std::uint32_t block_evaluator::impl::plan_rule(std::uint32_t r) {
  if (rule_slot[r] != none || rule_scalar[r] != none) return rule_slot[r];
  const dsl::rule_info& info = rs->program().rules[r];
  if (!rule_columnar(r)) {
    rule_scalar[r] = static_cast<std::uint32_t>(scalar_rules.size());
    scalar_rules.push_back(r);
    return none;
  }
  if (!inst->in_force[r]) {
    // Its `otherwise` value (it reads nothing: a constant column), or unknown; provisional when
    // the date of the period's side it is on is (`in_force from D provisional`).
    rule_slot[r] =
        info.outside != dsl::no_index ? plan_node(info.outside) : constant_slot(info.t.k, value{});
    if (dsl::period_provisional(info, inst->as_of)) rule_prov[r] = ones;
    return rule_slot[r];
  }
  // Its flag: always, for a rule of provisional confidence (in force); else its body's, or that
  // of its exceptions' step.
  const bool may = rs->rule_may_be_provisional(r);
  std::uint32_t body = plan_node(info.body);
  if (info.exceptions.empty()) {
    rule_slot[r] = body;
    rule_prov[r] = !may ? none : info.own_provisional ? ones : node_prov[info.body];
    return body;
  }
  std::vector<std::uint32_t> a = {body};
  std::vector<std::uint32_t> pa = {node_prov[info.body]};
  bool numeric = fractional(slot_kind[body]);
  for (const dsl::exception_info& ex : info.exceptions) {
    a.push_back(plan_node(ex.condition));
    pa.push_back(node_prov[ex.condition]);
    a.push_back(plan_node(ex.value));
    pa.push_back(ex.provisional ? ones : node_prov[ex.value]);
    numeric |= fractional(slot_kind[a.back()]);
  }
  // The flag of an exception's value carries the exception's own confidence (both count
  // together: when it fires, and when it is unknown and might).
  bool any = false;
  for (std::uint32_t& c : pa) {
    any = any || c != none;
    if (c == none) c = zeros;
  }
  if (!may || info.own_provisional || !any) pa.clear();
  step st;
  st.c = code::rule;
  st.o = op::rule;
  st.ref = r;
  st.numeric = numeric;
  rule_fired[r] = static_cast<std::uint32_t>(steps.size());
  rule_slot[r] = emit(st, a, slot_kind[body], pa);
  rule_prov[r] = !may ? none : info.own_provisional ? ones : slot_prov[rule_slot[r]];
  return rule_slot[r];
}

value block_evaluator::impl::to_value(std::uint32_t slot, std::size_t i) const {
  std::size_t j = slot * B + i;
  switch (s[j]) {
    case U:
      return value{};
    case N:
      return value::null_value();
    case T:
      return value::of_bool(true);
    case F:
      return value::of_bool(false);
    default:
      break;
  }
  switch (slot_kind[slot]) {
    case kind::integer:
      return value::of_int(x[j]);
    case kind::decimal:
    case kind::money:
      return value::of_ratio(x[j], d[j]);
    case kind::date:
      return value::of_date(date{static_cast<std::int32_t>(x[j])});
    case kind::enumeration:
      return value::of_enum(static_cast<std::uint32_t>(x[j]));
    default:
      return value{};
  }
}

// ------------------------------------------------------------------ running

void block_evaluator::impl::load(const value* const* rows, std::size_t n) {
  // One pass over each record's facts (a row is read once, while it is in cache), written to
  // the fact columns: booleans, fractions (numerator and denominator), the rest as one word.
  static constexpr std::uint8_t map[4] = {U, N, K, U};
  const fact_load* const bools = loads.data();
  const fact_load* const fractions = bools + load_bools;
  const fact_load* const words = fractions + load_fractions;
  const fact_load* const end = loads.data() + loads.size();
  for (std::size_t i = 0; i < n; ++i) {
    const value* row = rows[i];
    for (const fact_load* l = bools; l != fractions; ++l) {
      const value& v = row[l->fact];
      std::uint8_t st = map[static_cast<std::uint8_t>(v.s) & 3];
      s[l->slot * B + i] = st == K ? (v.b ? T : F) : st;
    }
    for (const fact_load* l = fractions; l != words; ++l) {
      const value& v = row[l->fact];
      std::size_t j = l->slot * B + i;
      bool q = v.r == rep::ratio;
      s[j] = map[static_cast<std::uint8_t>(v.s) & 3];
      x[j] = q ? v.q.num : v.i;
      d[j] = q ? v.q.den : 1;
    }
    for (const fact_load* l = words; l != end; ++l) {
      const value& v = row[l->fact];
      std::size_t j = l->slot * B + i;
      s[j] = map[static_cast<std::uint8_t>(v.s) & 3];
      x[j] = v.i;
    }
    for (const text_load& t : text_loads) {
      const value& v = row[t.fact];
      std::size_t j = t.slot * B + i;
      s[j] = map[static_cast<std::uint8_t>(v.s) & 3];
      std::int64_t id = -1;
      if (s[j] == K) {
        std::string_view text = v.as_text();
        for (std::size_t k = 0; k < t.literals.size(); ++k) {
          if (t.literals[k] == text) {
            id = static_cast<std::int64_t>(k);
            break;
          }
        }
      }
      x[j] = id;
    }
  }
}

// ------------------------------------------------------------------ kernels
// One kernel per operation, each over the n records of a block. The three-valued rules are
// engine/logic.hpp's functions, applied element by element (branch-free bit arithmetic on the
// state bytes, which the compiler vectorises); the kernels add only the payloads. They are
// always inlined into `exec`, which is compiled for AVX2 and for the baseline (below).

/// What a kernel reads and writes: the destination column and the argument columns of a step.
struct block_evaluator::impl::frame {
  impl& m;
  const step& st;
  const std::size_t n;
  const std::uint32_t* const a;
  std::uint8_t* __restrict const os;
  std::int64_t* __restrict const ox;
  std::int64_t* __restrict const od;

  frame(impl& m_, const step& st_, std::size_t n_)
      : m(m_),
        st(st_),
        n(n_),
        a(m_.args.data() + st_.args),
        os(m_.s.data() + st_.dst * B),
        ox(m_.x.data() + st_.dst * B),
        od(m_.d.data() + st_.dst * B) {}
  const std::uint8_t* S(std::uint32_t k) const { return m.s.data() + a[k] * B; }
  const std::int64_t* X(std::uint32_t k) const { return m.x.data() + a[k] * B; }
  const std::int64_t* D(std::uint32_t k) const { return m.d.data() + a[k] * B; }
  std::uint8_t state(std::uint32_t k, std::size_t i) const { return m.s[a[k] * B + i]; }
  cell at(std::uint32_t k, std::size_t i) const { return m.at(a[k], i); }
  void put(std::size_t i, const cell& c) const { m.put(st.dst, i, c); }
};

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_not_(const frame& f) {
  const std::uint8_t* __restrict as = f.S(0);
  for (std::size_t i = 0; i < f.n; ++i) f.os[i] = logic::not_(as[i]);
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_and_or(const frame& f) {
  // Kleene and / or over n operands: a fold (both are associative).
  const bool is_and = f.st.c == code::and_;
  const std::size_t n = f.n;
  std::uint8_t* __restrict os = f.os;
  const std::uint8_t* __restrict first = f.S(0);
  for (std::size_t i = 0; i < n; ++i) os[i] = first[i];
  for (std::uint32_t k = 1; k < f.st.nargs; ++k) {
    const std::uint8_t* __restrict as = f.S(k);
    if (is_and) {
      for (std::size_t i = 0; i < n; ++i) os[i] = logic::and_(os[i], as[i]);
    } else {
      for (std::size_t i = 0; i < n; ++i) os[i] = logic::or_(os[i], as[i]);
    }
  }
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_equality(const frame& f) {
  // logic::eq / logic::ne: for booleans and null the state is the value; other known values
  // are equal when their payloads are.
  const step& st = f.st;
  const std::size_t n = f.n;
  std::uint8_t* __restrict os = f.os;
  const std::uint8_t* __restrict as = f.S(0);
  const std::int64_t* __restrict ax = f.X(0);
  auto loop = [&](auto result) __attribute__((always_inline)) {
    if (st.rhs_constant && !st.numeric) {  // a known constant: only known values can equal it
      const std::int64_t k = st.kx;
      for (std::size_t i = 0; i < n; ++i) os[i] = result(as[i], K, ax[i] == k);
    } else if (st.rhs_constant) {
      const std::int64_t kx = st.kx, kd = st.kd;
      const std::int64_t* __restrict ad = f.D(0);
      for (std::size_t i = 0; i < n; ++i) {
        os[i] = result(as[i], K, logic::equal_fractions(ax[i], ad[i], kx, kd));
      }
    } else if (st.numeric) {
      const std::uint8_t* __restrict bs = f.S(1);
      const std::int64_t* __restrict bx = f.X(1);
      const std::int64_t* __restrict ad = f.D(0);
      const std::int64_t* __restrict bd = f.D(1);
      for (std::size_t i = 0; i < n; ++i) {
        os[i] = result(as[i], bs[i], logic::equal_fractions(ax[i], ad[i], bx[i], bd[i]));
      }
    } else {
      const std::uint8_t* __restrict bs = f.S(1);
      const std::int64_t* __restrict bx = f.X(1);
      for (std::size_t i = 0; i < n; ++i) os[i] = result(as[i], bs[i], ax[i] == bx[i]);
    }
  };
  if (st.c == code::eq) {
    loop([](std::uint8_t a, std::uint8_t b, bool p)
             __attribute__((always_inline)) { return logic::eq(a, b, p); });
  } else {
    loop([](std::uint8_t a, std::uint8_t b, bool p)
             __attribute__((always_inline)) { return logic::ne(a, b, p); });
  }
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_order(const frame& f) {
  // logic::order: unknown if either side is; false if either is null.
  const step& st = f.st;
  const std::size_t n = f.n;
  std::uint8_t* __restrict os = f.os;
  const std::uint8_t* __restrict as = f.S(0);
  const std::int64_t* __restrict ax = f.X(0);
  const std::int64_t* __restrict ad = f.D(0);
  auto loop = [&](auto holds) __attribute__((always_inline)) {
    if (st.rhs_constant && !st.numeric) {
      const std::int64_t k = st.kx;
      for (std::size_t i = 0; i < n; ++i) os[i] = logic::order(as[i], K, holds(ax[i], k));
    } else if (st.rhs_constant) {
      // x / d against kx / kd, both denominators positive: compare x * kd with kx * d
      const std::int64_t kx = st.kx, kd = st.kd;
      constexpr std::int64_t small = std::int64_t{1} << 31;
      std::int64_t widest = 0;
      for (std::size_t i = 0; i < n; ++i) widest |= ad[i];
      if (kd == 1 && kx > -small && kx < small && widest < small) {
        // Every product fits in 64 bits (|kx| and d below 2^31): no 128-bit arithmetic.
        for (std::size_t i = 0; i < n; ++i) {
          os[i] = logic::order(as[i], K, holds(ax[i], kx * ad[i]));
        }
        return;
      }
      for (std::size_t i = 0; i < n; ++i) {
        i128 l = kd == 1 ? i128{ax[i]} : static_cast<i128>(ax[i]) * kd;
        i128 r = static_cast<i128>(kx) * ad[i];
        os[i] = logic::order(as[i], K, holds(l, r));
      }
    } else if (st.numeric) {
      const std::uint8_t* __restrict bs = f.S(1);
      const std::int64_t* __restrict bx = f.X(1);
      const std::int64_t* __restrict bd = f.D(1);
      for (std::size_t i = 0; i < n; ++i) {
        int c = logic::compare_fractions(ax[i], ad[i], bx[i], bd[i]);
        os[i] = logic::order(as[i], bs[i], holds(c, 0));
      }
    } else {
      const std::uint8_t* __restrict bs = f.S(1);
      const std::int64_t* __restrict bx = f.X(1);
      for (std::size_t i = 0; i < n; ++i) os[i] = logic::order(as[i], bs[i], holds(ax[i], bx[i]));
    }
  };
  switch (st.o) {
    case op::lt:
      loop([](auto l, auto r) __attribute__((always_inline)) { return l < r; });
      break;
    case op::le:
      loop([](auto l, auto r) __attribute__((always_inline)) { return l <= r; });
      break;
    case op::gt:
      loop([](auto l, auto r) __attribute__((always_inline)) { return l > r; });
      break;
    default:
      loop([](auto l, auto r) __attribute__((always_inline)) { return l >= r; });
      break;
  }
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_in(const frame& f) {
  for (std::size_t i = 0; i < f.n; ++i) {
    cell l = f.at(0, i);
    bool found = false;
    bool unknown = false;
    if (l.s != N) {
      for (std::uint32_t k = 1; k < f.st.nargs && !found; ++k) {
        cell v = f.at(k, i);
        unknown |= v.s == U;
        found = logic::in_candidate(v.s) && equal_cells(f.st.numeric, l, v);
      }
    }
    f.os[i] = logic::in(l.s, found, unknown);
  }
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_date_arith(const frame& f) {
  // date ± a duration known when planning. Out of range: unknown, as in evaluator::arithmetic
  // ("date out of range").
  const std::uint8_t* as = f.S(0);
  const std::int64_t* ax = f.X(0);
  const value& p = f.st.aux;
  const std::uint8_t ps = logic::state_of(p);
  for (std::size_t i = 0; i < f.n; ++i) {
    const std::uint8_t s = logic::strict(as[i], ps);
    if (s != K) {
      f.os[i] = s;
      continue;
    }
    date from{static_cast<std::int32_t>(ax[i])};
    std::optional<date> r =
        f.st.o == op::add ? checked_add(from, p.dur) : checked_subtract(from, p.dur);
    f.os[i] = r ? K : U;
    f.ox[i] = r ? r->days : 0;
  }
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_arith(const frame& f) {
  const step& st = f.st;
  const std::size_t n = f.n;
  std::uint8_t* __restrict os = f.os;
  std::int64_t* __restrict ox = f.ox;
  std::int64_t* __restrict od = f.od;
  const std::uint8_t* as = f.S(0);
  const std::int64_t *ax = f.X(0), *ad = f.D(0);
  const std::uint8_t* bs = f.S(1);
  const std::int64_t *bx = f.X(1), *bd = f.D(1);
  if (st.o == op::div && st.numeric && f.m.slot_kind[f.a[1]] == kind::integer) {
    // Division by a whole number (per person, per month): when every divisor of the block
    // is in [1, 2^31) and every fraction small, make_ratio keeps x / (d * y) as it is.
    constexpr std::int64_t small = std::int64_t{1} << 31;
    constexpr std::uint64_t span = 2 * static_cast<std::uint64_t>(ratio_limit) - 1;
    bool fits = true;
    for (std::size_t i = 0; i < n; ++i) {
      bool both = as[i] == K && bs[i] == K;
      bool ok = bx[i] >= 1 && bx[i] < small && ad[i] < small &&
                static_cast<std::uint64_t>(ax[i]) + (ratio_limit - 1) < span;
      fits &= !both | ok;
    }
    if (fits) {
      for (std::size_t i = 0; i < n; ++i) {
        os[i] = logic::strict(as[i], bs[i]);
        ox[i] = ax[i];
        od[i] = ad[i] * (os[i] == K ? bx[i] : 1);
      }
      return;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t s = logic::strict(as[i], bs[i]);
    if (s != K) {
      os[i] = s;
      continue;
    }
    bool ok = false;
    std::int64_t rx = 0;
    std::int64_t rd = 1;
    if (!st.numeric) {
      ok = !(st.o == op::add   ? __builtin_add_overflow(ax[i], bx[i], &rx)
             : st.o == op::sub ? __builtin_sub_overflow(ax[i], bx[i], &rx)
                               : __builtin_mul_overflow(ax[i], bx[i], &rx));
    } else if (st.o == op::div && bd[i] == 1 && bx[i] > 0 &&
               !__builtin_mul_overflow(ad[i], bx[i], &rd) && rd < ratio_limit &&
               ax[i] > -ratio_limit && ax[i] < ratio_limit) {
      // By a positive whole number (per person, per month): what make_ratio would keep.
      ok = true;
      rx = ax[i];
    } else {
      i128 xn = ax[i], xd = ad[i], yn = bx[i], yd = bd[i];
      switch (st.o) {
        case op::add:
          ok = make_ratio(xn * yd + yn * xd, xd * yd, rx, rd);
          break;
        case op::sub:
          ok = make_ratio(xn * yd - yn * xd, xd * yd, rx, rd);
          break;
        case op::mul:
          ok = make_ratio(xn * yn, xd * yd, rx, rd);
          break;
        default:
          ok = yn != 0 && make_ratio(xn * yd, xd * yn, rx, rd);
          break;
      }
    }
    os[i] = ok ? K : U;  // overflow or division by zero: unknown
    ox[i] = rx;
    od[i] = rd;
  }
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_negate(const frame& f) {
  const std::uint8_t* as = f.S(0);
  const std::int64_t *ax = f.X(0), *ad = f.D(0);
  const bool integer = f.m.slot_kind[f.a[0]] == kind::integer;
  for (std::size_t i = 0; i < f.n; ++i) {
    bool overflow = as[i] == K && integer && ax[i] == INT64_MIN;
    f.os[i] = overflow ? U : as[i];
    f.ox[i] = as[i] == K && !overflow ? -ax[i] : ax[i];
    f.od[i] = ad[i];
  }
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_if_(const frame& f) {
  // An unknown condition decides only when both branches give the same value.
  for (std::size_t i = 0; i < f.n; ++i) {
    std::uint8_t c = f.state(0, i);
    if (logic::holds(c)) {
      f.put(i, f.at(1, i));
    } else if (logic::fails(c)) {
      f.put(i, f.at(2, i));
    } else {
      cell l = f.at(1, i);
      f.put(i, equal_cells(f.st.numeric, l, f.at(2, i)) ? l : cell{U, 0, 1});
    }
  }
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_table(const frame& f) {
  // First pass, by columns: the value of the first row whose condition is true. Records where a
  // condition was unknown before it (or no row matched) are done again one by one below, with
  // the rule for unknown rows.
  const step& st = f.st;
  const std::size_t n = f.n;
  std::uint8_t* __restrict os = f.os;
  std::int64_t* __restrict ox = f.ox;
  std::int64_t* __restrict od = f.od;
  const std::uint32_t rows_count = st.nargs / 2;
  // What the values carry besides the state: nothing (booleans), a word, or a fraction.
  int payload = f.m.slot_kind[st.dst] == kind::boolean ? 0 : 1;
  for (std::uint32_t r = 0; r < rows_count; ++r) {
    if (fractional(f.m.slot_kind[f.a[2 * r + 1]])) payload = 2;
  }
  std::uint8_t done[B];
  std::uint8_t again[B];
  for (std::size_t i = 0; i < n; ++i) {
    done[i] = 0;
    again[i] = 0;
    os[i] = U;
    ox[i] = 0;
    od[i] = 1;
  }
  for (std::uint32_t r = 0; r < rows_count; ++r) {
    const std::uint8_t* __restrict cs = f.S(2 * r);
    const std::uint8_t* __restrict vs = f.S(2 * r + 1);
    const std::int64_t* __restrict vx = f.X(2 * r + 1);
    const std::int64_t* __restrict vd = f.D(2 * r + 1);
    // Branch-free selects (the outcome of a row varies from record to record): masks of 0 or
    // all ones, bytes first, then the 64-bit payloads.
    std::uint8_t take[B];
    for (std::size_t i = 0; i < n; ++i) {
      std::uint8_t live = static_cast<std::uint8_t>(~done[i]);
      std::uint8_t t =
          static_cast<std::uint8_t>(live & -static_cast<std::uint8_t>(logic::holds(cs[i])));
      again[i] |= static_cast<std::uint8_t>(live & static_cast<std::uint8_t>(cs[i] == U));
      os[i] = static_cast<std::uint8_t>((vs[i] & t) | (os[i] & ~t));
      done[i] |= t;
      take[i] = t;
    }
    if (payload == 0) continue;                  // booleans: the state is the value
    if (f.m.slot_is_constant[f.a[2 * r + 1]]) {  // most rows give a constant: no column to read
      const std::int64_t cx = f.m.slot_constant[f.a[2 * r + 1]].x;
      for (std::size_t i = 0; i < n; ++i) {
        std::int64_t mask = -static_cast<std::int64_t>(take[i] & 1);  // 0 or all ones
        ox[i] = (cx & mask) | (ox[i] & ~mask);
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        std::int64_t mask = -static_cast<std::int64_t>(take[i] & 1);
        ox[i] = (vx[i] & mask) | (ox[i] & ~mask);
      }
    }
    if (payload == 2) {
      for (std::size_t i = 0; i < n; ++i) {
        std::int64_t mask = -static_cast<std::int64_t>(take[i] & 1);
        od[i] = (vd[i] & mask) | (od[i] & ~mask);
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!again[i]) continue;
    std::uint32_t pending[64];
    std::uint32_t npending = 0;
    bool overflow = false;
    cell out{U, 0, 1};
    for (std::uint32_t r = 0; r < rows_count; ++r) {
      std::uint8_t c = f.state(2 * r, i);
      if (logic::holds(c)) {
        out = f.at(2 * r + 1, i);
        if (overflow) out = cell{U, 0, 1};
        for (std::uint32_t k = 0; k < npending && out.s != U; ++k) {
          if (!equal_cells(st.numeric, f.at(2 * pending[k] + 1, i), out)) out = cell{U, 0, 1};
        }
        break;
      }
      if (c == U) {
        if (npending < 64) {
          pending[npending++] = r;
        } else {
          overflow = true;
        }
      }
    }
    f.put(i, out);
  }
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_known(const frame& f) {
  const std::uint8_t* __restrict as = f.S(0);
  for (std::size_t i = 0; i < f.n; ++i) f.os[i] = logic::known(as[i]);
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_calendar(const frame& f) {
  const step& st = f.st;
  const std::uint8_t* as = f.S(0);
  const std::int64_t* ax = f.X(0);
  const bool age = st.o == op::age;
  const std::uint8_t* bs = age ? nullptr : f.S(1);
  const std::int64_t* bx = age ? nullptr : f.X(1);
  const std::int64_t as_of = f.m.inst->as_of.days;
  for (std::size_t i = 0; i < f.n; ++i) {
    const std::uint8_t s = logic::strict(as[i], age ? K : bs[i]);
    if (s != K) {
      f.os[i] = s;
      continue;
    }
    date from{static_cast<std::int32_t>(ax[i])};
    date to{static_cast<std::int32_t>(age ? as_of : bx[i])};
    std::int64_t v = 0;
    if (age && from <= to) {
      v = age_on(from, f.m.as_of_civil);
    } else if (st.o == op::days_between) {
      v = std::int64_t{to.days} - from.days;
    } else if (st.o == op::months_between) {
      v = months_between(from, to);
    } else {
      v = years_between(from, to);
    }
    f.os[i] = K;
    f.ox[i] = v;
    f.od[i] = 1;
  }
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_minmax(const frame& f) {
  for (std::size_t i = 0; i < f.n; ++i) {
    cell l = f.at(0, i);
    cell r = f.at(1, i);
    const std::uint8_t s = logic::strict(l.s, r.s);
    if (s != K) {
      f.put(i, cell{s, 0, 1});
      continue;
    }
    int c = compare_cells(f.st.numeric, l, r);
    f.put(i, (f.st.o == op::min) == (c <= 0) ? l : r);
  }
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_round_floor(const frame& f) {
  const bool integer = f.m.slot_kind[f.a[0]] == kind::integer;
  for (std::size_t i = 0; i < f.n; ++i) {
    cell v = f.at(0, i);
    if (v.s != K || integer) {
      f.put(i, v);
      continue;
    }
    auto q = make_rational(v.x, v.d);
    rational exact = q ? *q : rational{v.x, v.d};
    if (f.st.c == code::floor) {
      rational fl = floor_rational(exact);
      f.put(i, cell{K, fl.num, fl.den});
    } else if (auto r = round_places(exact, f.st.places)) {
      f.put(i, cell{K, r->num, r->den});
    } else {
      f.put(i, cell{U, 0, 1});
    }
  }
}

[[gnu::always_inline]] inline void block_evaluator::impl::kernel_rule(const frame& f) {
  // Exceptions are tried in order; see evaluator::eval_rule for the unknown ones.
  const std::uint32_t count = (f.st.nargs - 1) / 2;
  std::int8_t* fired_out = f.m.fired.data() + f.m.rule_fired[f.st.ref] * B;
  for (std::size_t i = 0; i < f.n; ++i) {
    cell v = f.at(0, i);
    std::int32_t which = -1;
    std::uint32_t unknown_first = UINT32_MAX;
    for (std::uint32_t e = 0; e < count; ++e) {
      std::uint8_t c = f.state(1 + 2 * e, i);
      if (logic::holds(c)) {
        v = f.at(2 + 2 * e, i);
        which = static_cast<std::int32_t>(e);
        break;
      }
      if (c == U && unknown_first == UINT32_MAX) unknown_first = e;
    }
    if (unknown_first != UINT32_MAX) {
      std::uint32_t stop = which >= 0 ? static_cast<std::uint32_t>(which) : count;
      for (std::uint32_t e = unknown_first; e < stop; ++e) {
        if (f.state(1 + 2 * e, i) != U) continue;
        if (!equal_cells(f.st.numeric, v, f.at(2 + 2 * e, i))) {
          v = cell{U, 0, 1};
          which = -1;
          break;
        }
      }
    }
    f.put(i, v);
    fired_out[i] = static_cast<std::int8_t>(which);
  }
}

// On x86-64 GCC (engine/clones.hpp) compiled twice, for AVX2 (four 64-bit lanes, 64-bit
// compares) and for the baseline x86-64; the loader picks one for the machine it runs on. Every
// kernel is inlined into both.
DALIL_KERNEL_CLONES void block_evaluator::impl::exec(const step& st, std::size_t n) {
  const frame f(*this, st, n);
  switch (st.c) {
    case code::not_:
      return kernel_not_(f);
    case code::and_:
    case code::or_:
      return kernel_and_or(f);
    case code::eq:
    case code::ne:
      return kernel_equality(f);
    case code::order:
      return kernel_order(f);
    case code::in:
      return kernel_in(f);
    case code::arith:
      if (slot_kind[st.dst] == kind::date) return kernel_date_arith(f);
      return kernel_arith(f);
    case code::negate:
      return kernel_negate(f);
    case code::if_:
      return kernel_if_(f);
    case code::table:
      return kernel_table(f);
    case code::known:
      return kernel_known(f);
    case code::calendar:
      return kernel_calendar(f);
    case code::minmax:
      return kernel_minmax(f);
    case code::round:
    case code::floor:
      return kernel_round_floor(f);
    case code::rule:
      return kernel_rule(f);
  }
}

// ------------------------------------------------------------------ provisional flags
// The deciding path of each record's value, as evaluator::node_provisional walks it, from the
// operands' states and flags. Only the steps of nodes that can be provisional have a flag.

DALIL_KERNEL_CLONES void block_evaluator::impl::exec_prov(const step& st, std::size_t n) {
  std::uint8_t* __restrict out = pv.data() + std::size_t{st.pdst} * B;
  const std::uint32_t* pa = pargs.data() + st.pargs;
  const std::uint32_t* a = args.data() + st.args;
  auto P = [&](std::uint32_t k) -> const std::uint8_t* {
    return pv.data() + std::size_t{pa[k]} * B;
  };
  auto S = [&](std::uint32_t k) -> const std::uint8_t* { return s.data() + std::size_t{a[k]} * B; };
  switch (st.c) {
    case code::and_:
    case code::or_: {
      // Settled (or: true; and: false or null): provisional unless a settling operand is not;
      // otherwise when any operand is.
      const std::uint8_t* __restrict os = s.data() + std::size_t{st.dst} * B;
      const unsigned bit = st.c == code::or_ ? 0 : 1;  // T has bit 0; F and N have bit 1
      std::uint8_t sure[B];
      std::uint8_t some[B];
      for (std::size_t i = 0; i < n; ++i) sure[i] = some[i] = 0;
      for (std::uint32_t k = 0; k < st.npargs; ++k) {
        const std::uint8_t* __restrict ks = S(k);
        const std::uint8_t* __restrict kp = P(k);
        for (std::size_t i = 0; i < n; ++i) {
          sure[i] |= static_cast<std::uint8_t>(((ks[i] >> bit) & 1) & (kp[i] ^ 1));
          some[i] |= kp[i];
        }
      }
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t settled = (os[i] >> bit) & 1;
        out[i] = static_cast<std::uint8_t>(settled ? sure[i] ^ 1 : some[i]);
      }
      return;
    }
    case code::if_: {
      const std::uint8_t* __restrict cs = S(0);
      const std::uint8_t* __restrict pc = P(0), * __restrict p1 = P(1), * __restrict p2 = P(2);
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t c = cs[i];
        const std::uint8_t branch = logic::holds(c)   ? p1[i]
                                    : logic::fails(c) ? p2[i]
                                                      : (p1[i] | p2[i]);
        out[i] = static_cast<std::uint8_t>(pc[i] | branch);
      }
      return;
    }
    case code::table: {
      // The conditions up to the matching row (all of them under `unique`), its value and the
      // values of the unknown rows before it; every condition when no row matches.
      const std::uint32_t rows = st.nargs / 2;
      for (std::size_t i = 0; i < n; ++i) {
        std::uint8_t p = 0;
        std::uint8_t pending = 0;
        std::uint32_t stop = rows;
        for (std::uint32_t r = 0; r < rows; ++r) {
          const std::uint8_t c = S(2 * r)[i];
          p |= P(2 * r)[i];
          if (logic::holds(c)) {
            stop = r;
            break;
          }
          if (c == U) pending |= P(2 * r + 1)[i];
        }
        if (stop < rows) {
          p |= static_cast<std::uint8_t>(P(2 * stop + 1)[i] | pending);
          if (st.unique) {
            for (std::uint32_t r = stop + 1; r < rows; ++r) p |= P(2 * r)[i];
          }
        }
        out[i] = p;
      }
      return;
    }
    case code::rule: {
      // The exceptions tried up to the first whose condition holds (the values of the unknown
      // ones), then that one's value, or the body; an exception's value column carries its own
      // confidence.
      const std::uint32_t count = (st.nargs - 1) / 2;
      for (std::size_t i = 0; i < n; ++i) {
        std::uint8_t p = 0;
        std::uint32_t stop = count;
        for (std::uint32_t e = 0; e < count; ++e) {
          const std::uint8_t c = S(1 + 2 * e)[i];
          p |= P(1 + 2 * e)[i];
          if (logic::holds(c)) {
            stop = e;
            break;
          }
          if (c == U) p |= P(2 + 2 * e)[i];
        }
        p |= stop < count ? P(2 + 2 * stop)[i] : P(0)[i];
        out[i] = p;
      }
      return;
    }
    default: {
      // Comparisons, arithmetic, calls: every operand.
      const std::uint8_t* __restrict first = P(0);
      for (std::size_t i = 0; i < n; ++i) out[i] = first[i];
      for (std::uint32_t k = 1; k < st.npargs; ++k) {
        const std::uint8_t* __restrict kp = P(k);
        for (std::size_t i = 0; i < n; ++i) out[i] |= kp[i];
      }
      return;
    }
  }
}

// ------------------------------------------------------------------ public

block_evaluator::block_evaluator(std::shared_ptr<const instance> inst,
                                 const std::vector<std::uint32_t>& rules)
    : impl_(std::make_unique<impl>(std::move(inst), rules)) {}

block_evaluator::~block_evaluator() = default;

void block_evaluator::run(const value* const* rows, std::size_t n) {
  impl& m = *impl_;
  n = std::min(n, block_size);
  m.last_n = n;
  m.load(rows, n);
  for (const step& st : m.steps) {
    m.exec(st, n);
    if (st.pdst != UINT32_MAX) m.exec_prov(st, n);
  }
  if (m.scalar_rules.empty()) return;
  for (std::size_t i = 0; i < n; ++i) {
    m.scalar->set_facts(rows[i]);
    for (std::size_t k = 0; k < m.scalar_rules.size(); ++k) {
      std::uint32_t r = m.scalar_rules[k];
      m.scalar_values[k * B + i] = m.scalar->rule(r);
      m.scalar_fired[k * B + i] = static_cast<std::int8_t>(m.scalar->fired_exception(r));
      m.scalar_prov[k * B + i] = m.scalar->provisional(r) ? 1 : 0;
    }
  }
}

value block_evaluator::get(std::uint32_t r, std::size_t i) const {
  const impl& m = *impl_;
  if (m.rule_scalar[r] != impl::none) return m.scalar_values[m.rule_scalar[r] * B + i];
  if (m.rule_slot[r] == impl::none) return value{};
  return m.to_value(m.rule_slot[r], i);
}

void block_evaluator::get_all(std::uint32_t r, value* out, std::size_t stride) const {
  const impl& m = *impl_;
  if (m.rule_scalar[r] != impl::none || m.rule_slot[r] == impl::none) {
    for (std::size_t i = 0; i < m.last_n; ++i) out[i * stride] = get(r, i);
    return;
  }
  // Branch-free: the state byte gives the value's state and representation through tables.
  const std::uint32_t slot = m.rule_slot[r];
  const std::uint8_t* st = m.s.data() + slot * B;
  const std::int64_t* px = m.x.data() + slot * B;
  const std::int64_t* pd = m.d.data() + slot * B;
  rep known_rep = rep::none;
  switch (m.slot_kind[slot]) {
    case kind::integer:
      known_rep = rep::integer;
      break;
    case kind::decimal:
    case kind::money:
      known_rep = rep::ratio;
      break;
    case kind::date:
      known_rep = rep::date;
      break;
    case kind::enumeration:
      known_rep = rep::enumeration;
      break;
    default:
      break;
  }
  state states[16] = {};
  rep reps[16] = {};
  states[T] = states[F] = state::known;
  reps[T] = reps[F] = rep::boolean;
  states[N] = state::null;
  states[K] = state::known;
  reps[K] = known_rep;
  const bool fraction = known_rep == rep::ratio;
  for (std::size_t i = 0; i < m.last_n; ++i) {
    value& v = out[i * stride];
    const std::uint8_t c = st[i] & 15;
    v.s = states[c];
    v.r = reps[c];
    // the payload of a known non-boolean; a boolean's value; zero over one otherwise
    v.q.num = c == K ? px[i] : c == T ? 1 : 0;
    v.q.den = c == K && fraction ? pd[i] : 1;
  }
}

int block_evaluator::fired_exception(std::uint32_t r, std::size_t i) const {
  const impl& m = *impl_;
  if (m.rule_scalar[r] != impl::none) return m.scalar_fired[m.rule_scalar[r] * B + i];
  if (m.rule_fired[r] == impl::none) return -1;
  return m.fired[m.rule_fired[r] * B + i];
}

bool block_evaluator::provisional(std::uint32_t r, std::size_t i) const {
  const impl& m = *impl_;
  if (m.rule_scalar[r] != impl::none) return m.scalar_prov[m.rule_scalar[r] * B + i] != 0;
  if (m.rule_prov[r] == impl::none) return false;
  return m.pv[std::size_t{m.rule_prov[r]} * B + i] != 0;
}

const std::vector<std::uint32_t>& block_evaluator::planned() const {
  return impl_->planned;
}

std::size_t block_evaluator::scalar_rule_count() const {
  return impl_->scalar_rules.size();
}

const instance& block_evaluator::inst() const {
  return *impl_->inst;
}

}  // namespace dalil::engine
