// The shared semantics (engine/logic.hpp): its truth tables spelled out for every combination of
// true, false, unknown and null (and known non-booleans), then both evaluators checked against
// the header, rule by rule, on a pack with one rule per operator over every combination of its
// operands' states.
#include "engine/logic.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/block.hpp"
#include "engine/evaluator.hpp"
#include "engine/session.hpp"
#include "tests/support/packs.hpp"

namespace eng = dalil::engine;
namespace logic = dalil::engine::logic;
using logic::F;
using logic::K;
using logic::N;
using logic::T;
using logic::truth;
using logic::U;

namespace {

constexpr truth booleans[] = {T, F, U, N};

const char* name(truth t) {
  switch (t) {
    case T:
      return "true";
    case F:
      return "false";
    case U:
      return "unknown";
    case N:
      return "null";
    case K:
      return "known";
    default:
      return "?";
  }
}

/// A table over two operands: want[i][j] for booleans[i] op booleans[j].
using table2 = truth[4][4];

template <typename Op>
void check_table(const char* op_name, const table2& want, Op op) {
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      INFO(name(booleans[i]) << " " << op_name << " " << name(booleans[j]));
      CHECK(name(op(booleans[i], booleans[j])) == std::string(name(want[i][j])));
    }
  }
}

}  // namespace

TEST_CASE("logic: not, and, or over true, false, unknown and null", "[engine][logic]") {
  // Rows and columns: true, false, unknown, null. Null counts as false; results are never null.
  const truth not_want[4] = {F, T, U, T};
  for (std::size_t i = 0; i < 4; ++i) {
    INFO("not " << name(booleans[i]));
    CHECK(name(logic::not_(booleans[i])) == std::string(name(not_want[i])));
  }
  const table2 and_want = {
      /* true    */ {T, F, U, F},
      /* false   */ {F, F, F, F},
      /* unknown */ {U, F, U, F},
      /* null    */ {F, F, F, F},
  };
  check_table("and", and_want, logic::and_);
  const table2 or_want = {
      /* true    */ {T, T, T, T},
      /* false   */ {T, F, U, F},
      /* unknown */ {T, U, U, U},
      /* null    */ {T, F, U, F},
  };
  check_table("or", or_want, logic::or_);
  // The left operand settles and / or exactly when the result no longer depends on the right.
  for (truth a : booleans) {
    INFO("left " << name(a));
    bool and_fixed = true;
    bool or_fixed = true;
    for (truth b : booleans) {
      and_fixed &= logic::and_(a, b) == logic::and_(a, U);
      or_fixed &= logic::or_(a, b) == logic::or_(a, U);
    }
    CHECK(logic::and_settled(a) == and_fixed);
    CHECK(logic::or_settled(a) == or_fixed);
  }
  // Conditions: only true holds; false and null fail; unknown does neither.
  const bool holds_want[4] = {true, false, false, false};
  const bool fails_want[4] = {false, true, false, true};
  for (std::size_t i = 0; i < 4; ++i) {
    INFO(name(booleans[i]));
    CHECK(logic::holds(booleans[i]) == holds_want[i]);
    CHECK(logic::fails(booleans[i]) == fails_want[i]);
  }
  CHECK_FALSE(logic::holds(K));
  CHECK_FALSE(logic::fails(K));
}

TEST_CASE("logic: known() over every state", "[engine][logic]") {
  CHECK(logic::known(T) == T);
  CHECK(logic::known(F) == T);
  CHECK(logic::known(U) == F);
  CHECK(logic::known(N) == T);
  CHECK(logic::known(K) == T);
}

TEST_CASE("logic: == and != over booleans, unknown and null", "[engine][logic]") {
  // Booleans compare by value (their state); null equals only null; unknown gives unknown.
  const table2 eq_want = {
      /* true    */ {T, F, U, F},
      /* false   */ {F, T, U, F},
      /* unknown */ {U, U, U, U},
      /* null    */ {F, F, U, T},
  };
  const table2 ne_want = {
      /* true    */ {F, T, U, T},
      /* false   */ {T, F, U, T},
      /* unknown */ {U, U, U, U},
      /* null    */ {T, T, U, F},
  };
  // The payload flag is irrelevant when neither side is a known non-boolean.
  for (bool payload : {false, true}) {
    INFO("payloads equal: " << payload);
    check_table("==", eq_want, [&](truth a, truth b) { return logic::eq(a, b, payload); });
    check_table("!=", ne_want, [&](truth a, truth b) { return logic::ne(a, b, payload); });
  }
}

TEST_CASE("logic: comparisons of known values with unknown and null", "[engine][logic]") {
  struct row {
    truth a;
    truth b;
    bool payload;
    truth eq;
    truth ne;
    truth order;
  };
  const row rows[] = {
      {K, K, true, T, F, T}, {K, K, false, F, T, F}, {K, N, true, F, T, F},  {N, K, true, F, T, F},
      {N, N, true, T, F, F}, {N, N, false, T, F, F}, {K, U, true, U, U, U},  {U, K, true, U, U, U},
      {U, U, true, U, U, U}, {N, U, false, U, U, U}, {U, N, false, U, U, U}, {K, N, false, F, T, F},
  };
  for (const row& x : rows) {
    INFO(name(x.a) << " vs " << name(x.b) << ", payloads " << (x.payload ? "agree" : "differ"));
    CHECK(name(logic::eq(x.a, x.b, x.payload)) == std::string(name(x.eq)));
    CHECK(name(logic::ne(x.a, x.b, x.payload)) == std::string(name(x.ne)));
    CHECK(name(logic::order(x.a, x.b, x.payload)) == std::string(name(x.order)));
  }
  // Two values give the same decision: same state, and equal payloads when known non-booleans.
  CHECK(logic::same(U, U, false));
  CHECK(logic::same(N, N, false));
  CHECK(logic::same(T, T, false));
  CHECK_FALSE(logic::same(T, F, true));
  CHECK_FALSE(logic::same(K, U, true));
  CHECK(logic::same(K, K, true));
  CHECK_FALSE(logic::same(K, K, false));
}

TEST_CASE("logic: in, and the state of arithmetic results", "[engine][logic]") {
  struct row {
    truth x;
    bool found;
    bool unknown_item;
    truth want;
  };
  const row rows[] = {
      {U, false, false, U}, {U, true, false, U},  {N, false, false, F}, {N, false, true, F},
      {K, true, false, T},  {K, true, true, T},   {K, false, true, U},  {K, false, false, F},
      {T, true, false, T},  {F, false, false, F}, {T, false, true, U},
  };
  for (const row& r : rows) {
    INFO(name(r.x) << " in: found " << r.found << ", unknown item " << r.unknown_item);
    CHECK(name(logic::in(r.x, r.found, r.unknown_item)) == std::string(name(r.want)));
  }
  CHECK(logic::in_candidate(K));
  CHECK(logic::in_candidate(T));
  CHECK(logic::in_candidate(F));
  CHECK_FALSE(logic::in_candidate(U));
  CHECK_FALSE(logic::in_candidate(N));
  // Operands of + - * /, min, max and the calendar functions: unknown wins over null.
  const truth operands[] = {K, U, N};
  const truth strict_want[3][3] = {{K, U, N}, {U, U, U}, {N, U, N}};
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 3; ++j) {
      INFO(name(operands[i]) << " op " << name(operands[j]));
      CHECK(name(logic::strict(operands[i], operands[j])) == std::string(name(strict_want[i][j])));
    }
  }
}

TEST_CASE("logic: payload comparisons are exact across numeric kinds", "[engine][logic]") {
  CHECK(logic::compare_fractions(2, 1, 200, 100) == 0);  // 2 == 2.00
  CHECK(logic::equal_fractions(2, 1, 200, 100));
  CHECK(logic::compare_fractions(1, 3, 34, 100) == -1);  // 1/3 < 0.34
  CHECK(logic::compare_fractions(-1, 3, -34, 100) == 1);
  // Products past 64 bits.
  CHECK(logic::compare_fractions(INT64_MAX, 3, INT64_MAX - 1, 3) == 1);
  CHECK(logic::compare_fractions(INT64_MAX, INT64_MAX - 1, 1, 1) == 1);
  CHECK_FALSE(logic::equal_fractions(INT64_MAX, INT64_MAX - 1, 1, 1));
  CHECK(logic::compare_words(-5, 3) == -1);
  CHECK(logic::compare_durations({1, 0, 0}, {0, 12, 0}) == 0);
  CHECK(logic::compare_durations({1, 0, 1}, {0, 12, 0}) == 1);
  CHECK(logic::compare_durations({0, 11, 400}, {1, 0, 0}) == -1);  // months before days
}

// ------------------------------------------------------------------ both evaluators

namespace {

const char* const pack_text = R"(module m
  source "test"

record P {
  a : bool?
  b : bool?
  x : int?
  y : decimal?
  z : int?
}

input p : P

rule not_a : bool
  source "test"
  = not p.a

rule a_and_b : bool
  source "test"
  = p.a and p.b

rule a_or_b : bool
  source "test"
  = p.a or p.b

rule any_ab : bool
  source "test"
  = any [p.a, p.b]

rule all_ab : bool
  source "test"
  = all [p.a, p.b]

rule a_eq_b : bool
  source "test"
  = p.a == p.b

rule a_ne_b : bool
  source "test"
  = p.a != p.b

rule known_a : bool
  source "test"
  = known(p.a)

rule a_then_b : bool
  source "test"
  = if p.a then p.b else true

rule x_eq_y : bool
  source "test"
  = p.x == p.y

rule x_ne_y : bool
  source "test"
  = p.x != p.y

rule x_lt_y : bool
  source "test"
  = p.x < p.y

rule x_le_y : bool
  source "test"
  = p.x <= p.y

rule x_gt_y : bool
  source "test"
  = p.x > p.y

rule x_ge_y : bool
  source "test"
  = p.x >= p.y

rule x_in : bool
  source "test"
  = p.x in [1, p.z]

rule x_plus_z_known : bool
  source "test"
  = known(p.x + p.z)
)";

eng::value of(truth t) {
  switch (t) {
    case T:
      return eng::value::of_bool(true);
    case F:
      return eng::value::of_bool(false);
    case N:
      return eng::value::null_value();
    default:
      return eng::value{};
  }
}

/// A numeric operand: unknown, null, or a known value (an integer for x and z, n/d for y).
struct number {
  truth s;
  std::int64_t num;
  std::int64_t den;
};

}  // namespace

TEST_CASE("logic: both evaluators agree with the header on every combination",
          "[engine][logic][block]") {
  auto pack = dalil::testing::load_pack_text(pack_text);
  const dalil::dsl::program& p = pack->rules->program();
  auto fact = [&](const char* path) {
    for (std::uint32_t f = 0; f < p.facts.size(); ++f) {
      if (p.facts[f].path == path) return f;
    }
    FAIL("no fact " << path);
    return std::uint32_t{0};
  };
  const std::uint32_t fa = fact("a"), fb = fact("b"), fx = fact("x"), fy = fact("y"),
                      fz = fact("z");
  // x against y: smaller, equal across kinds (2 and 2.00), larger; z equal to x or not.
  const number xs[] = {{U, 0, 1}, {N, 0, 1}, {K, 1, 1}, {K, 2, 1}, {K, 3, 1}};
  const number ys[] = {{U, 0, 1}, {N, 0, 1}, {K, 200, 100}, {K, 5, 2}};
  const number zs[] = {{U, 0, 1}, {N, 0, 1}, {K, 2, 1}, {K, 7, 1}};
  struct combination {
    truth a, b;
    number x, y, z;
  };
  std::vector<combination> all;
  std::vector<std::vector<eng::value>> rows;
  for (truth a : booleans) {
    for (truth b : booleans) {
      for (const number& x : xs) {
        for (const number& y : ys) {
          for (const number& z : zs) {
            all.push_back({a, b, x, y, z});
            std::vector<eng::value> row(p.facts.size());
            row[fa] = of(a);
            row[fb] = of(b);
            auto num = [](const number& n, bool integer) {
              if (n.s != K) return n.s == N ? eng::value::null_value() : eng::value{};
              return integer ? eng::value::of_int(n.num) : eng::value::of_ratio(n.num, n.den);
            };
            row[fx] = num(x, true);
            row[fy] = num(y, false);
            row[fz] = num(z, true);
            rows.push_back(std::move(row));
          }
        }
      }
    }
  }
  // What the header says, from the operands' states and payloads alone.
  auto expected = [](const std::string& rule, const combination& c) -> truth {
    const int cmp = logic::compare_fractions(c.x.num, c.x.den, c.y.num, c.y.den);
    const bool x_is_1 = c.x.s == K && c.x.num == 1;
    const bool x_is_z = c.x.s == K && c.z.s == K && c.x.num == c.z.num;
    if (rule == "not_a") return logic::not_(c.a);
    if (rule == "a_and_b" || rule == "all_ab") return logic::and_(c.a, c.b);
    if (rule == "a_or_b" || rule == "any_ab") return logic::or_(c.a, c.b);
    if (rule == "a_eq_b") return logic::eq(c.a, c.b, false);
    if (rule == "a_ne_b") return logic::ne(c.a, c.b, false);
    if (rule == "known_a") return logic::known(c.a);
    if (rule == "a_then_b") {
      if (logic::holds(c.a)) return c.b;
      if (logic::fails(c.a)) return T;
      return logic::same(c.b, T, false) ? c.b : U;
    }
    if (rule == "x_eq_y") return logic::eq(c.x.s, c.y.s, cmp == 0);
    if (rule == "x_ne_y") return logic::ne(c.x.s, c.y.s, cmp == 0);
    if (rule == "x_lt_y") return logic::order(c.x.s, c.y.s, cmp < 0);
    if (rule == "x_le_y") return logic::order(c.x.s, c.y.s, cmp <= 0);
    if (rule == "x_gt_y") return logic::order(c.x.s, c.y.s, cmp > 0);
    if (rule == "x_ge_y") return logic::order(c.x.s, c.y.s, cmp >= 0);
    if (rule == "x_in") return logic::in(c.x.s, x_is_1 || x_is_z, c.z.s == U);
    if (rule == "x_plus_z_known") return logic::known(logic::strict(c.x.s, c.z.s));
    FAIL("no expectation for " << rule);
    return U;
  };
  for (const char* as_of : {"2014-01-01", "2024-02-29"}) {
    auto inst = eng::instantiate(pack->rules, *dalil::parse_date(as_of));
    std::vector<std::uint32_t> rules(p.rules.size());
    for (std::uint32_t r = 0; r < rules.size(); ++r) rules[r] = r;
    eng::block_evaluator block(inst, rules);
    REQUIRE(block.scalar_rule_count() == 0);  // every rule by columns
    eng::evaluator scalar(inst);
    const std::size_t per_block = eng::block_evaluator::block_size;
    for (std::size_t first = 0; first < rows.size(); first += per_block) {
      const std::size_t n = std::min(per_block, rows.size() - first);
      std::vector<const eng::value*> ptrs(n);
      for (std::size_t i = 0; i < n; ++i) ptrs[i] = rows[first + i].data();
      block.run(ptrs.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        const combination& c = all[first + i];
        scalar.set_facts(rows[first + i].data());
        for (std::uint32_t r : rules) {
          const std::string rule = p.rules[r].qualified.substr(2);  // without "m."
          const truth want = expected(rule, c);
          INFO(rule << ": a " << name(c.a) << ", b " << name(c.b) << ", x " << name(c.x.s) << " "
                    << c.x.num << ", y " << name(c.y.s) << " " << c.y.num << "/" << c.y.den
                    << ", z " << name(c.z.s) << " " << c.z.num);
          CHECK(name(logic::state_of(scalar.rule(r))) == std::string(name(want)));
          CHECK(name(logic::state_of(block.get(r, i))) == std::string(name(want)));
        }
      }
    }
  }
}

TEST_CASE("logic: the states of run-time values, and back", "[engine][logic]") {
  const eng::value values[] = {eng::value{},
                               eng::value::null_value(),
                               eng::value::of_bool(true),
                               eng::value::of_bool(false),
                               eng::value::of_int(0),
                               eng::value::of_ratio(1, 3)};
  const truth want[] = {U, N, T, F, K, K};
  for (std::size_t i = 0; i < std::size(values); ++i) {
    INFO("value " << i);
    CHECK(name(logic::state_of(values[i])) == std::string(name(want[i])));
    // The shortcuts agree with state_of where they apply.
    if (values[i].r != eng::rep::integer && values[i].r != eng::rep::ratio) {
      CHECK(logic::condition_state(values[i]) == logic::state_of(values[i]));
    }
    if (values[i].r != eng::rep::boolean) {
      CHECK(logic::operand_state(values[i]) == logic::state_of(values[i]));
    }
  }
  for (truth t : booleans) {
    INFO(name(t));
    CHECK(logic::state_of(logic::boolean_value(t)) == t);
  }
}
