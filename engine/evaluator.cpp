// The evaluator, one record at a time. The three-valued rules (null counts as false in
// conditions; any comparison with null is false except == null; an unknown operand makes the
// result unknown unless the other operand settles it) are engine/logic.hpp's, shared with the
// block evaluator; this file decides what to evaluate, and when (lazily, left to right).
#include "engine/evaluator.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "engine/arith.hpp"
#include "engine/logic.hpp"

namespace dalil::engine {

using dsl::op;

namespace {

using logic::K;
using logic::state_of;
using logic::truth;
using logic::U;

using logic::condition_state;
using logic::operand_state;

bool truthy(const value& v) {
  return logic::holds(condition_state(v));
}
bool falsy(const value& v) {
  return logic::fails(condition_state(v));
}
/// Two values give the same decision (logic::same).
bool same(const value& x, const value& y) {
  truth sx = state_of(x);
  truth sy = state_of(y);
  return logic::same(sx, sy, sx == K && sy == K && equal_values(x, y));
}

ratio as_ratio(const value& v) {
  return v.r == rep::integer ? ratio{v.i, 1} : v.q;
}

/// Why an operation on known operands gave no value: its reason among a decision's reasons.
reason arithmetic_failure(const node& n, const value& right) {
  if (n.k == dsl::kind::date) return {reason::kind::date_out_of_range};
  if (n.o == op::div && right.known() && as_ratio(right).num == 0) {
    return {reason::kind::division_by_zero};
  }
  return {reason::kind::arithmetic_overflow};
}

}  // namespace

std::string reason_english(const dsl::program& p, const reason& r) {
  switch (r.k) {
    case reason::kind::not_encoded: {
      const std::string* text = r.index < p.expressions.size()
                                    ? std::get_if<std::string>(&p.expressions[r.index].value)
                                    : nullptr;
      return "not encoded: " + (text != nullptr ? *text : std::string());
    }
    case reason::kind::not_in_force:
      return (r.index < p.rules.size() ? p.rules[r.index].qualified : std::string("a rule")) +
             " is not in force on " + to_string(r.on);
    case reason::kind::parameter_without_value:
      return "parameter " +
             (r.index < p.parameters.size() ? p.parameters[r.index].qualified : std::string()) +
             " has no value in force on " + to_string(r.on);
    case reason::kind::division_by_zero:
      return "division by zero";
    case reason::kind::date_out_of_range:
      return "date out of range";
    case reason::kind::arithmetic_overflow:
      return "arithmetic overflow";
  }
  return "";
}

std::vector<std::string> reasons_english(const dsl::program& p,
                                         const std::vector<reason>& reasons) {
  std::vector<std::string> out;
  for (const reason& r : reasons) {
    std::string text = reason_english(p, r);
    if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(std::move(text));
  }
  return out;
}

void sort_reasons(const dsl::program& p, std::vector<reason>& reasons) {
  std::vector<std::pair<std::string, reason>> keyed;
  keyed.reserve(reasons.size());
  for (const reason& r : reasons) keyed.emplace_back(reason_english(p, r), r);
  std::sort(keyed.begin(), keyed.end());
  for (std::size_t i = 0; i < keyed.size(); ++i) reasons[i] = keyed[i].second;
}

int compare_numbers(const value& a, const value& b) {
  if (a.r == rep::integer && b.r == rep::integer) return logic::compare_words(a.i, b.i);
  ratio x = as_ratio(a);
  ratio y = as_ratio(b);
  return logic::compare_fractions(x.num, x.den, y.num, y.den);
}

rational to_rational(const value& v) {
  ratio q = as_ratio(v);
  auto r = make_rational(q.num, q.den);
  return r ? *r : rational{q.num, q.den};
}

bool equal_values(const value& a, const value& b) {
  switch (a.r) {
    case rep::boolean:
      return a.b == b.b;
    case rep::integer:
    case rep::ratio:
      return compare_numbers(a, b) == 0;
    case rep::date:
    case rep::enumeration:
      return a.i == b.i;
    case rep::duration:
      return a.dur == b.dur;
    case rep::text:
      return a.as_text() == b.as_text();
    default:
      return false;
  }
}

evaluator::evaluator(std::shared_ptr<const instance> inst)
    : inst_(std::move(inst)), rules_(inst_->rules.get()) {
  std::size_t nr = rules_->program().rules.size();
  rule_value_.resize(nr);
  rule_gen_.assign(nr, 0);
  rule_exception_.assign(nr, -1);
  rule_prov_.assign(nr, 0);
  prov_gen_.assign(nr, 0);
  node_value_.resize(rules_->node_count());
  node_gen_.assign(rules_->node_count(), 0);
  arithmetic_error_.assign(rules_->node_count(), 0);
  variables_.assign(16, nullptr);
  as_of_civil_ = to_civil(inst_->as_of);
}

void evaluator::set_record(const record& r) {
  facts_ = r.facts.data();
  next_generation();
}

value evaluator::rule(std::uint32_t r) {
  // Evaluated without recording, `r` would leave missing_facts nothing to walk.
  if (recorded_gen_ == gen_ && rule_gen_[r] != gen_) recorded_gen_ = 0;
  return eval_rule<false>(r);
}

template <bool Record>
value evaluator::eval_rule(std::uint32_t r) {
  if (rule_gen_[r] == gen_) return rule_value_[r];
  const dsl::rule_info& info = rules_->program().rules[r];
  value v;
  std::int32_t fired = -1;
  if (inst_->in_force[r]) {
    v = operand<Record>(info.body);
    // Exceptions are tried in order. One whose condition is unknown might apply: the decision
    // stands only if it would give the same value as what is finally decided.
    std::uint32_t unknown_first = UINT32_MAX;
    bool undecided = false;
    for (std::size_t x = 0; x < info.exceptions.size(); ++x) {
      const dsl::exception_info& ex = info.exceptions[x];
      value c = eval<Record>(ex.condition);
      if (truthy(c)) {
        v = eval<Record>(ex.value);
        fired = static_cast<std::int32_t>(x);
        break;
      }
      if (c.unknown()) {
        if (unknown_first == UINT32_MAX) unknown_first = static_cast<std::uint32_t>(x);
      }
    }
    if (unknown_first != UINT32_MAX) {
      std::size_t stop = fired >= 0 ? static_cast<std::size_t>(fired) : info.exceptions.size();
      for (std::size_t x = unknown_first; x < stop && !undecided; ++x) {
        const dsl::exception_info& ex = info.exceptions[x];
        if (!eval<Record>(ex.condition).unknown()) continue;
        value alt = eval<Record>(ex.value);
        undecided = !same(v, alt);
      }
      if (undecided) {
        v = value{};
        fired = -1;
      }
    }
  } else if (info.outside != dsl::no_index) {
    // Outside its period: the value its `in_force … otherwise` gives (it reads nothing).
    v = eval<Record>(info.outside);
  }
  rule_value_[r] = v;
  rule_gen_[r] = gen_;
  rule_exception_[r] = fired;
  if (coverage_) {
    coverage_->rules[r] = 1;
    if (fired >= 0) coverage_->exceptions[r][static_cast<std::size_t>(fired)] = 1;
  }
  return v;
}

template <bool Record>
inline value evaluator::operand(std::uint32_t id) {
  const node& n = rules_->at(id);
  value v;
  if (n.o == op::fact) {
    v = facts_[n.ref];
  } else if (n.o == op::constant) {
    v = n.constant;
  } else if (n.o == op::rule && rule_gen_[n.ref] == gen_) {
    v = rule_value_[n.ref];
  } else {
    return eval<Record>(id);
  }
  if constexpr (Record) {
    node_value_[id] = v;
    node_gen_[id] = gen_;
  }
  return v;
}

template <bool Record>
value evaluator::eval(std::uint32_t id) {
  value v = eval_node<Record>(id);
  if constexpr (Record) {
    node_value_[id] = v;
    node_gen_[id] = gen_;
  }
  return v;
}

value evaluator::arithmetic(op o, bool whole, const value& a, const value& b) {
  value out;
  if (a.r == rep::date && b.r == rep::duration) {
    // Out of 0001-01-01 … 9999-12-31 the result is no date: unknown, "date out of range".
    date d{static_cast<std::int32_t>(a.i)};
    std::optional<date> r = o == op::add ? checked_add(d, b.dur) : checked_subtract(d, b.dur);
    return r ? value::of_date(*r) : value{};
  }
  if (a.r == rep::duration && b.r == rep::duration) {
    return value::of_duration(
        duration{a.dur.years + b.dur.years, a.dur.months + b.dur.months, a.dur.days + b.dur.days});
  }
  // Whole-number arithmetic (64 bits) for int results; exact fractions otherwise, even when a
  // decimal happens to hold a whole number: the type, not the representation, decides.
  if (whole && a.r == rep::integer && b.r == rep::integer && o != op::div) {
    std::int64_t r = 0;
    bool overflow = o == op::add   ? __builtin_add_overflow(a.i, b.i, &r)
                    : o == op::sub ? __builtin_sub_overflow(a.i, b.i, &r)
                                   : __builtin_mul_overflow(a.i, b.i, &r);
    if (overflow) return value{};
    return value::of_int(r);
  }
  ratio x = as_ratio(a);
  ratio y = as_ratio(b);
  bool ok = false;
  switch (o) {
    case op::add:
      ok = make_ratio(static_cast<i128>(x.num) * y.den + static_cast<i128>(y.num) * x.den,
                      static_cast<i128>(x.den) * y.den, out);
      break;
    case op::sub:
      ok = make_ratio(static_cast<i128>(x.num) * y.den - static_cast<i128>(y.num) * x.den,
                      static_cast<i128>(x.den) * y.den, out);
      break;
    case op::mul:
      ok = make_ratio(static_cast<i128>(x.num) * y.num, static_cast<i128>(x.den) * y.den, out);
      break;
    case op::div:
      if (y.num == 0) return value{};
      ok = make_ratio(static_cast<i128>(x.num) * y.den, static_cast<i128>(x.den) * y.num, out);
      break;
    default:
      break;
  }
  return ok ? out : value{};
}

template <bool Record>
value evaluator::table(const node& n, std::uint32_t id) {
  const std::uint32_t* a = rules_->args(n);
  std::uint32_t rows = n.nargs / 2;
  // Rows whose condition is unknown before the matching row: they might have matched instead.
  std::uint32_t pending[64];
  std::uint32_t npending = 0;
  bool overflow_pending = false;
  for (std::size_t i = 0; i < rows; ++i) {
    value c = operand<Record>(a[2 * i]);
    if (truthy(c)) {
      value v = operand<Record>(a[2 * i + 1]);
      if (coverage_) coverage_->rows[rules_->row_base(id) + i] = 1;
      if (overflow_pending) return value{};
      for (std::uint32_t k = 0; k < npending; ++k) {
        value alt = operand<Record>(a[2 * pending[k] + 1]);
        if (!same(alt, v)) return value{};
      }
      return v;
    }
    if (c.unknown()) {
      if (npending < 64) {
        pending[npending++] = static_cast<std::uint32_t>(i);
      } else {
        overflow_pending = true;
      }
    }
  }
  return value{};
}

template <bool Record>
value evaluator::quantify(const node& n, bool any) {
  const std::uint32_t* a = rules_->args(n);
  value over = operand<Record>(a[0]);
  if (over.s == state::null) return value::of_bool(!any);
  if (!over.known()) return value{};
  // any is a fold of or, all a fold of and, stopping at the first item that settles it.
  truth acc = any ? logic::F : logic::T;
  for (std::uint32_t i = 0; i < over.list->count; ++i) {
    const value& item = over.list->items[i];
    if (n.ref < variables_.size()) variables_[n.ref] = item.known() ? item.rec : nullptr;
    truth b = condition_state(operand<Record>(a[1]));
    acc = any ? logic::or_(acc, b) : logic::and_(acc, b);
    if (any ? logic::or_settled(b) : logic::and_settled(b)) break;
  }
  return logic::boolean_value(acc);
}

template <bool Record>
value evaluator::calendar(const node& n, std::uint32_t id) {
  (void)id;
  const std::uint32_t* a = rules_->args(n);
  switch (n.o) {
    case op::age:
    case op::years_between:
    case op::months_between:
    case op::days_between: {
      value x = operand<Record>(a[0]);
      value y = n.o == op::age ? value::of_date(inst_->as_of) : operand<Record>(a[1]);
      truth t = logic::strict(operand_state(x), operand_state(y));
      if (t == U) return value{};
      if (t != K) return value::null_value();
      date from{static_cast<std::int32_t>(x.i)};
      date to{static_cast<std::int32_t>(y.i)};
      if (n.o == op::age && from <= to) return value::of_int(age_on(from, as_of_civil_));
      if (n.o == op::days_between) return value::of_int(std::int64_t{to.days} - from.days);
      if (n.o == op::months_between) return value::of_int(months_between(from, to));
      return value::of_int(years_between(from, to));
    }
    default:
      return value{};
  }
}

template <bool Record>
value evaluator::numeric(const node& n, std::uint32_t id) {
  const std::uint32_t* a = rules_->args(n);
  switch (n.o) {
    case op::min:
    case op::max: {
      value x = operand<Record>(a[0]);
      value y = operand<Record>(a[1]);
      truth t = logic::strict(operand_state(x), operand_state(y));
      if (t == U) return value{};
      if (t != K) return value::null_value();
      int c = x.r == rep::date ? logic::compare_words(x.i, y.i) : compare_numbers(x, y);
      return (n.o == op::min) == (c <= 0) ? x : y;
    }
    case op::round:
    case op::floor: {
      value x = operand<Record>(a[0]);
      if (!x.known() || x.r == rep::integer) return x;
      rational q = to_rational(x);
      if (n.o == op::floor) {
        rational f = floor_rational(q);
        return value::of_ratio(f.num, f.den);
      }
      auto places = rules_->at(a[1]).constant.i;
      auto r = round_places(q, static_cast<int>(std::clamp<std::int64_t>(places, 0, 18)));
      if (!r) {
        arithmetic_error_[id] = 1;
        return value{};
      }
      return value::of_ratio(r->num, r->den);
    }
    case op::count: {
      value x = operand<Record>(a[0]);
      if (!x.known()) return x;
      return value::of_int(x.list->count);
    }
    default:
      return value{};
  }
}

// ------------------------------------------------------------------ dispatch
// One small function per operation, called through a table indexed by the op: each has only the
// frame it needs, where one big switch paid the largest case's prologue on every node.

template <bool Record>
struct evaluator_ops {
  using fn = value (*)(evaluator&, const node&, std::uint32_t);

  static const std::uint32_t* args(evaluator& e, const node& n) { return e.rules_->args(n); }

  static value constant(evaluator&, const node& n, std::uint32_t) { return n.constant; }
  static value fact(evaluator& e, const node& n, std::uint32_t) { return e.facts_[n.ref]; }
  static value variable(evaluator& e, const node& n, std::uint32_t) {
    const record_node* rec = n.ref < e.variables_.size() ? e.variables_[n.ref] : nullptr;
    if (rec == nullptr) return value{};
    value v;
    v.s = state::known;
    v.r = rep::record;
    v.rec = rec;
    const std::uint32_t* f = e.rules_->fields(n);
    for (std::uint32_t k = 0; k < n.nfields; ++k) {
      if (v.s != state::known) return v;
      v = v.rec->fields[f[k]];
    }
    return v;
  }
  static value parameter(evaluator& e, const node& n, std::uint32_t) {
    return e.inst_->parameters[n.ref].v;
  }
  static value rule(evaluator& e, const node& n, std::uint32_t) {
    return e.template eval_rule<Record>(n.ref);
  }
  static value as_of(evaluator& e, const node&, std::uint32_t) {
    return value::of_date(e.inst_->as_of);
  }
  static value not_(evaluator& e, const node& n, std::uint32_t) {
    value v = e.template operand<Record>(args(e, n)[0]);
    return logic::boolean_value(logic::not_(condition_state(v)));
  }
  // and / or evaluate their right operand only when the left one does not settle them.
  static value and_(evaluator& e, const node& n, std::uint32_t) {
    const std::uint32_t* a = args(e, n);
    truth l = condition_state(e.template operand<Record>(a[0]));
    if (logic::and_settled(l)) return logic::boolean_value(logic::and_(l, U));
    return logic::boolean_value(logic::and_(l, condition_state(e.template operand<Record>(a[1]))));
  }
  static value or_(evaluator& e, const node& n, std::uint32_t) {
    const std::uint32_t* a = args(e, n);
    truth l = condition_state(e.template operand<Record>(a[0]));
    if (logic::or_settled(l)) return logic::boolean_value(logic::or_(l, U));
    return logic::boolean_value(logic::or_(l, condition_state(e.template operand<Record>(a[1]))));
  }
  static value any_all(evaluator& e, const node& n, std::uint32_t) {
    // A fold of or (any) or and (all), stopping at the first operand that settles it.
    const std::uint32_t* a = args(e, n);
    const bool any = n.o == op::any_of;
    truth acc = any ? logic::F : logic::T;
    for (std::uint32_t i = 0; i < n.nargs; ++i) {
      truth v = condition_state(e.template operand<Record>(a[i]));
      acc = any ? logic::or_(acc, v) : logic::and_(acc, v);
      if (any ? logic::or_settled(v) : logic::and_settled(v)) break;
    }
    return logic::boolean_value(acc);
  }
  static value equality(evaluator& e, const node& n, std::uint32_t) {
    const std::uint32_t* a = args(e, n);
    value l = e.template operand<Record>(a[0]);
    value r = e.template operand<Record>(a[1]);
    // A known boolean is K here, its value its payload: equal_values compares it, which gives
    // what logic::eq gives over the states T and F.
    truth sl = operand_state(l);
    truth sr = operand_state(r);
    const bool eq = n.o == op::eq;
    if (sl == K && sr == K) {  // the common case: the states are constants the compiler folds
      bool payload = equal_values(l, r);
      return logic::boolean_value(eq ? logic::eq(K, K, payload) : logic::ne(K, K, payload));
    }
    return logic::boolean_value(eq ? logic::eq(sl, sr, false) : logic::ne(sl, sr, false));
  }
  static value order(evaluator& e, const node& n, std::uint32_t) {
    const std::uint32_t* a = args(e, n);
    value l = e.template operand<Record>(a[0]);
    value r = e.template operand<Record>(a[1]);
    truth sl = operand_state(l);
    truth sr = operand_state(r);
    if (sl != K || sr != K) return logic::boolean_value(logic::order(sl, sr, false));
    int c = 0;
    if (l.r == rep::date || (l.r == rep::integer && r.r == rep::integer)) {
      c = logic::compare_words(l.i, r.i);
    } else if (l.r == rep::duration) {
      c = logic::compare_durations(l.dur, r.dur);
    } else {
      c = compare_numbers(l, r);
    }
    bool holds = n.o == op::lt ? c < 0 : n.o == op::le ? c <= 0 : n.o == op::gt ? c > 0 : c >= 0;
    return logic::boolean_value(logic::order(K, K, holds));
  }
  static value in(evaluator& e, const node& n, std::uint32_t) {
    const std::uint32_t* a = args(e, n);
    value l = e.template operand<Record>(a[0]);
    truth sl = state_of(l);
    if (sl == U || sl == logic::N) return logic::boolean_value(logic::in(sl, false, false));
    const node& list = e.rules_->at(a[1]);
    const std::uint32_t* items = e.rules_->args(list);
    bool unknown = false;
    for (std::uint32_t i = 0; i < list.nargs; ++i) {
      value v = e.template operand<Record>(items[i]);
      truth sv = state_of(v);
      unknown |= sv == U;
      if (logic::in_candidate(sv) && equal_values(l, v)) {
        return logic::boolean_value(logic::in(sl, true, unknown));
      }
    }
    return logic::boolean_value(logic::in(sl, false, unknown));
  }
  static value arith(evaluator& e, const node& n, std::uint32_t id) {
    const std::uint32_t* a = args(e, n);
    value l = e.template operand<Record>(a[0]);
    value r = e.template operand<Record>(a[1]);
    truth t = logic::strict(operand_state(l), operand_state(r));
    if (t == U) return value{};
    if (t != K) return value::null_value();
    value v = e.arithmetic(n.o, n.k == dsl::kind::integer, l, r);
    if (v.unknown()) e.arithmetic_error_[id] = 1;
    return v;
  }
  static value negate(evaluator& e, const node& n, std::uint32_t) {
    value v = e.template operand<Record>(args(e, n)[0]);
    if (!v.known()) return v;
    if (v.r == rep::integer) return v.i == INT64_MIN ? value{} : value::of_int(-v.i);
    return value::of_ratio(-v.q.num, v.q.den);
  }
  static value if_(evaluator& e, const node& n, std::uint32_t) {
    const std::uint32_t* a = args(e, n);
    value c = e.template operand<Record>(a[0]);
    if (truthy(c)) return e.template operand<Record>(a[1]);
    if (falsy(c)) return e.template operand<Record>(a[2]);
    value x = e.template operand<Record>(a[1]);
    value y = e.template operand<Record>(a[2]);
    return same(x, y) ? x : value{};
  }
  static value table(evaluator& e, const node& n, std::uint32_t id) {
    return e.template table<Record>(n, id);
  }
  static value any_in(evaluator& e, const node& n, std::uint32_t) {
    return e.template quantify<Record>(n, true);
  }
  static value all_in(evaluator& e, const node& n, std::uint32_t) {
    return e.template quantify<Record>(n, false);
  }
  static value nothing(evaluator&, const node&, std::uint32_t) { return value{}; }
  static value known(evaluator& e, const node& n, std::uint32_t) {
    return logic::boolean_value(
        logic::known(operand_state(e.template operand<Record>(args(e, n)[0]))));
  }
  static value calendar(evaluator& e, const node& n, std::uint32_t id) {
    return e.template calendar<Record>(n, id);
  }
  static value numeric(evaluator& e, const node& n, std::uint32_t id) {
    return e.template numeric<Record>(n, id);
  }

  static constexpr std::array<fn, static_cast<std::size_t>(op::not_encoded) + 1> table_of() {
    std::array<fn, static_cast<std::size_t>(op::not_encoded) + 1> t{};
    auto set = [&t](op o, fn f) { t[static_cast<std::size_t>(o)] = f; };
    set(op::constant, constant);
    set(op::fact, fact);
    set(op::variable, variable);
    set(op::parameter, parameter);
    set(op::rule, rule);
    set(op::as_of, as_of);
    set(op::not_, not_);
    set(op::negate, negate);
    set(op::and_, and_);
    set(op::or_, or_);
    for (op o : {op::eq, op::ne}) set(o, equality);
    for (op o : {op::lt, op::le, op::gt, op::ge}) set(o, order);
    set(op::in, in);
    for (op o : {op::add, op::sub, op::mul, op::div}) set(o, arith);
    set(op::if_, if_);
    set(op::table, table);
    set(op::any_of, any_all);
    set(op::all_of, any_all);
    set(op::any_in, any_in);
    set(op::all_in, all_in);
    set(op::list, nothing);
    set(op::known, known);
    for (op o : {op::age, op::years_between, op::months_between, op::days_between}) {
      set(o, calendar);
    }
    for (op o : {op::min, op::max, op::round, op::floor, op::count}) set(o, numeric);
    set(op::not_encoded, nothing);
    return t;
  }
  static constexpr auto dispatch = table_of();
};

template <bool Record>
value evaluator::eval_node(std::uint32_t id) {
  const node& n = rules_->at(id);
  return evaluator_ops<Record>::dispatch[static_cast<std::size_t>(n.o)](*this, n, id);
}

// ------------------------------------------------------------------ provisional
// The deciding path of a value (docs/language.md, "Provisional, precisely"), walked over the
// values of this generation. A node that lazy evaluation skipped is evaluated when the path needs
// it: the second true operand of an `or` whose first one is provisional, the later conditions
// of a `unique` table. block.cpp computes the same flags by columns; the two must agree.

bool evaluator::walk_provisional(std::uint32_t r) {
  // Operands evaluated only for this walk are not what a test exercised.
  coverage* saved = coverage_;
  coverage_ = nullptr;
  bool p = rule_provisional(r);
  coverage_ = saved;
  return p;
}

const value& evaluator::ensure(std::uint32_t id) {
  if (node_gen_[id] != gen_) operand<true>(id);
  return node_value_[id];
}

void evaluator::forget(std::uint32_t id) {
  node_gen_[id] = 0;  // never a current generation
  const node& n = rules_->at(id);
  const std::uint32_t* a = rules_->args(n);
  for (std::uint32_t k = 0; k < n.nargs; ++k) forget(a[k]);
}

bool evaluator::rule_provisional(std::uint32_t r) {
  if (!rules_->rule_may_be_provisional(r)) return false;
  if (prov_gen_[r] == gen_) return rule_prov_[r] != 0;
  eval_rule<true>(r);
  const dsl::rule_info& info = rules_->program().rules[r];
  bool p = false;
  if (inst_->in_force[r]) {
    // Its own confidence; the exceptions tried up to the first whose condition holds (with the
    // values and confidence of those left unknown, which might have fired), then that one's
    // value and confidence, or the body when none holds.
    p = info.own_provisional;
    const std::size_t count = info.exceptions.size();
    std::size_t stop = count;
    for (std::size_t x = 0; x < count && !p; ++x) {
      const dsl::exception_info& ex = info.exceptions[x];
      truth c = condition_state(ensure(ex.condition));
      p = node_provisional(ex.condition);
      if (logic::holds(c)) {
        stop = x;
        break;
      }
      if (c == U) p = p || ex.provisional || node_provisional(ex.value);
    }
    if (!p) {
      p = stop < count
              ? info.exceptions[stop].provisional || node_provisional(info.exceptions[stop].value)
              : node_provisional(info.body);
    }
  } else {
    // Out of force: its `otherwise` reads nothing; it rests on the date of the period's side it
    // is on (`in_force from D provisional`).
    p = dsl::period_provisional(info, inst_->as_of);
  }
  rule_prov_[r] = p ? 1 : 0;
  prov_gen_[r] = gen_;
  return p;
}

bool evaluator::node_provisional(std::uint32_t id) {
  if (!rules_->may_be_provisional(id)) return false;
  const node& n = rules_->at(id);
  const std::uint32_t* a = rules_->args(n);
  switch (n.o) {
    case op::parameter:
      return rules_->program().parameters[n.ref].provisional;
    case op::rule:
      return rule_provisional(n.ref);
    case op::and_:
    case op::all_of:
    case op::or_:
    case op::any_of: {
      // Settled (or true, and false): the settling operands, one that is not provisional
      // sufficing; otherwise every operand, all of which were read.
      const bool is_or = n.o == op::or_ || n.o == op::any_of;
      auto settles = [is_or](truth t) { return is_or ? logic::holds(t) : logic::fails(t); };
      if (settles(condition_state(ensure(id)))) {
        for (std::uint32_t k = 0; k < n.nargs; ++k) {
          if (settles(condition_state(ensure(a[k]))) && !node_provisional(a[k])) return false;
        }
        return true;
      }
      for (std::uint32_t k = 0; k < n.nargs; ++k) {
        if (node_provisional(a[k])) return true;
      }
      return false;
    }
    case op::if_: {
      truth c = condition_state(ensure(a[0]));
      if (node_provisional(a[0])) return true;
      if (logic::holds(c)) return node_provisional(a[1]);
      if (logic::fails(c)) return node_provisional(a[2]);
      return node_provisional(a[1]) || node_provisional(a[2]);
    }
    case op::table: {
      // The conditions up to the matching row (all of them in a `unique` table), its value and
      // the values of the unknown rows before it; every condition when no row matches.
      const std::size_t rows = n.nargs / 2;
      for (std::size_t i = 0; i < rows; ++i) {
        truth c = condition_state(ensure(a[2 * i]));
        if (node_provisional(a[2 * i])) return true;
        if (!logic::holds(c)) continue;
        if (node_provisional(a[2 * i + 1])) return true;
        for (std::size_t k = 0; k < i; ++k) {
          if (node_value_[a[2 * k]].unknown() && node_provisional(a[2 * k + 1])) return true;
        }
        if (n.ref == 1) {  // unique
          for (std::size_t k = i + 1; k < rows; ++k) {
            if (node_provisional(a[2 * k])) return true;
          }
        }
        return false;
      }
      return false;
    }
    case op::any_in:
    case op::all_in: {
      // The list, then like or (any) and and (all) over the body evaluated for each item.
      const bool any = n.o == op::any_in;
      truth result = condition_state(ensure(id));
      if (node_provisional(a[0])) return true;
      const value over = node_value_[a[0]];
      if (!rules_->may_be_provisional(a[1]) || !over.known() || over.r != rep::list) return false;
      auto settles = [any](truth t) { return any ? logic::holds(t) : logic::fails(t); };
      bool sure = false;  // a settling item whose body is not provisional
      bool some = false;  // an item whose body is
      for (std::uint32_t i = 0; i < over.list->count; ++i) {
        const value& item = over.list->items[i];
        if (n.ref < variables_.size()) variables_[n.ref] = item.known() ? item.rec : nullptr;
        forget(a[1]);
        truth b = condition_state(operand<true>(a[1]));
        bool pb = node_provisional(a[1]);
        sure = sure || (settles(b) && !pb);
        some = some || pb;
      }
      return settles(result) ? !sure : some;
    }
    default:
      // Comparisons, arithmetic, calls, lists: every operand.
      for (std::uint32_t k = 0; k < n.nargs; ++k) {
        if (node_provisional(a[k])) return true;
      }
      return false;
  }
}

unknown_causes evaluator::causes(std::uint32_t r) {
  // Re-run with node values recorded (evaluation is deterministic), then walk the unknowns.
  std::fill(arithmetic_error_.begin(), arithmetic_error_.end(), 0);
  std::uint32_t previous = gen_;
  next_generation();
  eval_rule<true>(r);
  unknown_causes out;
  std::vector<std::uint8_t> seen(rules_->program().rules.size(), 0);
  collect_rule<true>(r, out, seen);
  // Rules already decided for this record keep their (identical) values: the re-run must not
  // make the decisions that follow evaluate them again.
  for (std::size_t i = 0; i < rule_gen_.size(); ++i) {
    if (rule_gen_[i] == previous) rule_gen_[i] = gen_;
  }
  return out;
}

void evaluator::missing_facts(std::uint32_t r, std::vector<std::uint32_t>& out) {
  if (recorded_gen_ != gen_) {  // values cached so far were not recorded: evaluate afresh
    next_generation();
    recorded_gen_ = gen_;
  }
  eval_rule<true>(r);
  unknown_causes found;
  seen_rules_.assign(rules_->program().rules.size(), 0);
  collect_rule<false>(r, found, seen_rules_);
  out.assign(found.facts.begin(), found.facts.end());
}

template <bool Reasons>
void evaluator::collect_rule(std::uint32_t r, unknown_causes& out,
                             std::vector<std::uint8_t>& seen) {
  if (seen[r]) return;
  seen[r] = 1;
  const dsl::rule_info& info = rules_->program().rules[r];
  if (!inst_->in_force[r]) {
    if (info.outside != dsl::no_index) {
      if (rule_value_[r].unknown()) collect<Reasons>(info.outside, out, seen);
    } else if constexpr (Reasons) {
      out.reasons.insert({reason::kind::not_in_force, r, inst_->as_of});
    }
    return;
  }
  if (rule_value_[r].s != state::unknown) return;
  if (int fired = rule_exception_[r]; fired >= 0) {
    collect<Reasons>(info.exceptions[static_cast<std::size_t>(fired)].value, out, seen);
    return;
  }
  collect<Reasons>(info.body, out, seen);
  for (const dsl::exception_info& ex : info.exceptions) {
    if (node_gen_[ex.condition] == gen_ && node_value_[ex.condition].unknown()) {
      collect<Reasons>(ex.condition, out, seen);
      collect<Reasons>(ex.value, out, seen);
    }
  }
}

template <bool Reasons>
void evaluator::collect(std::uint32_t id, unknown_causes& out, std::vector<std::uint8_t>& seen) {
  if (node_gen_[id] != gen_ || !node_value_[id].unknown()) return;
  const node& n = rules_->at(id);
  const std::uint32_t* a = rules_->args(n);
  switch (n.o) {
    case op::fact:
      out.facts.insert(n.ref);
      return;
    case op::parameter:
      if constexpr (Reasons) {
        out.reasons.insert({reason::kind::parameter_without_value, n.ref, inst_->as_of});
      }
      return;
    case op::rule:
      collect_rule<Reasons>(n.ref, out, seen);
      return;
    case op::not_encoded:
      if constexpr (Reasons) out.reasons.insert({reason::kind::not_encoded, id});
      return;
    case op::if_:
      if (node_value_[a[0]].unknown()) {
        collect<Reasons>(a[0], out, seen);
      } else {
        collect<Reasons>(a[node_value_[a[0]].is_true() ? 1 : 2], out, seen);
      }
      return;
    case op::any_in:
    case op::all_in: {
      // The body's nodes hold the values of the last item only: evaluate it again item by item,
      // recording, and walk every item that leaves it unknown (the order of the list must not
      // change what is asked for).
      const value& over = node_value_[a[0]];
      if (over.unknown()) {
        collect<Reasons>(a[0], out, seen);
        return;
      }
      if (!over.known() || over.r != rep::list) return;
      for (std::uint32_t i = 0; i < over.list->count; ++i) {
        const value& item = over.list->items[i];
        if (n.ref < variables_.size()) variables_[n.ref] = item.known() ? item.rec : nullptr;
        if (operand<true>(a[1]).unknown()) collect<Reasons>(a[1], out, seen);
      }
      return;
    }
    case op::table:
      for (std::size_t i = 0; i < n.nargs / 2; ++i) {
        if (node_gen_[a[2 * i]] != gen_) break;
        const value& c = node_value_[a[2 * i]];
        if (c.unknown()) collect<Reasons>(a[2 * i], out, seen);
        if (c.is_true()) {
          collect<Reasons>(a[2 * i + 1], out, seen);
          break;
        }
      }
      return;
    default:
      // A failed operation on known operands: the cause is the arithmetic, not a fact.
      if (arithmetic_error_[id] && n.nargs == 2 && !node_value_[a[0]].unknown() &&
          !node_value_[a[1]].unknown()) {
        if constexpr (Reasons) out.reasons.insert(arithmetic_failure(n, node_value_[a[1]]));
        return;
      }
      for (std::uint32_t i = 0; i < n.nargs; ++i) collect<Reasons>(a[i], out, seen);
      return;
  }
}

template value evaluator::eval_rule<false>(std::uint32_t);
template value evaluator::eval_rule<true>(std::uint32_t);

}  // namespace dalil::engine
