// The block evaluator against the record-at-a-time evaluator, which is the reference: for every
// rule of a pack, every record and several dates, both give the same state, the same value (the
// same JSON) and the same exception. Records are the shipped sample cohort plus random records
// drawn from the schema, with facts knocked out (unknown) or null, so that every branch of
// Kleene logic, tables, exceptions and arithmetic overflow is reached.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dsl/checker.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/parser.hpp"
#include "engine/block.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "engine/session.hpp"
#include "tests/support/packs.hpp"

namespace dsl = dalil::dsl;
namespace eng = dalil::engine;

namespace {

using dalil::testing::load_pack_dir;
using dalil::testing::load_pack_text;
using dalil::testing::source_path;

/// A small deterministic generator (the same sequence on every platform).
struct rng {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  std::int64_t in(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
};

/// Random facts for a program's schema, by fact index: each fact unknown, null (when optional)
/// or a value of its type, with edge cases (zero, 29 February, amounts that overflow, dates at
/// both ends of the range).
std::vector<eng::value> random_facts(const dsl::program& p, rng& g) {
  std::vector<eng::value> facts(p.facts.size());
  for (std::size_t f = 0; f < p.facts.size(); ++f) {
    const dsl::type& t = p.facts[f].t;
    std::int64_t roll = g.in(0, 9);
    if (roll == 0) continue;  // unknown
    if (roll == 1 && t.optional) {
      facts[f] = eng::value::null_value();
      continue;
    }
    switch (t.k) {
      case dsl::kind::boolean:
        facts[f] = eng::value::of_bool(g.in(0, 1) == 1);
        break;
      case dsl::kind::integer:
        facts[f] = eng::value::of_int(g.in(0, 6) == 0 ? 0 : g.in(-3, 40));
        break;
      case dsl::kind::decimal:
      case dsl::kind::money: {
        std::int64_t r = g.in(0, 9);
        if (r == 0) {
          facts[f] = eng::value::of_ratio(std::int64_t{1} << 61, 3);  // overflows when multiplied
        } else if (r == 1) {
          facts[f] = eng::value::of_int(g.in(0, 50000));  // a whole amount read as an integer
        } else {
          facts[f] = eng::value::of_ratio(g.in(-1000, 30000000), 100);
        }
        break;
      }
      case dsl::kind::date: {
        std::int64_t r = g.in(0, 9);
        dalil::civil c{static_cast<int>(g.in(1930, 2035)), static_cast<unsigned>(g.in(1, 12)),
                       static_cast<unsigned>(g.in(1, 28))};
        if (r == 0) c = {static_cast<int>(g.in(0, 30)) * 4 + 1940, 2, 29};
        if (r == 1) c = {static_cast<int>(g.in(2012, 2026)), static_cast<unsigned>(g.in(1, 12)), 1};
        // The ends of the range, where date arithmetic leaves it ("date out of range").
        if (r == 2) c = {9999, 12, static_cast<unsigned>(g.in(20, 31))};
        if (r == 3) c = {static_cast<int>(g.in(1, 2)), 1, static_cast<unsigned>(g.in(1, 10))};
        facts[f] = eng::value::of_date(dalil::from_civil(c));
        break;
      }
      case dsl::kind::enumeration:
        facts[f] = eng::value::of_enum(static_cast<std::uint32_t>(
            g.in(0, static_cast<std::int64_t>(p.enums[t.ref].cases.size()) - 1)));
        break;
      case dsl::kind::text: {
        // Literals of the test packs, texts that differ from them only in case or length, and
        // texts longer than a machine word.
        static constexpr std::string_view texts[] = {"x",
                                                     "X",
                                                     "xx",
                                                     "MA",
                                                     "SN",
                                                     "",
                                                     "a longer text than a word",
                                                     "a longer text than a wore"};
        facts[f] = eng::value::of_text(texts[g.in(0, std::size(texts) - 1)]);
        break;
      }
      default:
        break;  // records and lists stay unknown
    }
  }
  return facts;
}

std::string json_of(const dsl::program& p, std::uint32_t r, const eng::value& v) {
  std::string out;
  eng::append_value_json(out, p, p.rules[r].t, v);
  return out;
}

/// Evaluates `rows` with both evaluators at `as_of` and checks that every rule agrees.
void compare(const std::shared_ptr<const eng::ruleset>& rules, const std::string& as_of,
             const std::vector<std::vector<eng::value>>& rows, std::size_t block_records) {
  const dsl::program& p = rules->program();
  auto inst = eng::instantiate(rules, *dalil::parse_date(as_of));
  std::vector<std::uint32_t> all(p.rules.size());
  for (std::uint32_t r = 0; r < all.size(); ++r) all[r] = r;
  eng::block_evaluator block(inst, all);
  REQUIRE(block.planned().size() == p.rules.size());
  eng::evaluator scalar(inst);
  std::vector<eng::value> values(block_records);
  for (std::size_t first = 0; first < rows.size(); first += block_records) {
    std::size_t n = std::min(block_records, rows.size() - first);
    std::vector<const eng::value*> ptrs(n);
    for (std::size_t i = 0; i < n; ++i) ptrs[i] = rows[first + i].data();
    block.run(ptrs.data(), n);
    for (std::uint32_t r : block.planned()) {
      block.get_all(r, values.data(), 1);
      for (std::size_t i = 0; i < n; ++i) {
        scalar.set_facts(rows[first + i].data());
        eng::value want = scalar.rule(r);
        eng::value got = block.get(r, i);
        INFO("as of " << as_of << ", record " << first + i << ", rule " << p.rules[r].qualified);
        REQUIRE(static_cast<int>(got.s) == static_cast<int>(want.s));
        REQUIRE(json_of(p, r, got) == json_of(p, r, want));
        if (want.known()) REQUIRE(eng::equal_values(got, want));
        REQUIRE(block.fired_exception(r, i) == scalar.fired_exception(r));
        REQUIRE(block.provisional(r, i) == scalar.provisional(r));
        const eng::value& bulk = values[i];
        REQUIRE(static_cast<int>(bulk.s) == static_cast<int>(got.s));
        REQUIRE(json_of(p, r, bulk) == json_of(p, r, got));
      }
    }
  }
}

std::vector<std::vector<eng::value>> random_rows(const dsl::program& p, std::size_t count,
                                                 std::uint64_t seed) {
  rng g{seed};
  std::vector<std::vector<eng::value>> rows;
  for (std::size_t i = 0; i < count; ++i) rows.push_back(random_facts(p, g));
  return rows;
}

const char* const dates[] = {"2012-01-01", "2014-06-30", "2016-02-29", "2017-06-01",
                             "2023-03-01", "2024-02-29", "2031-12-31"};

}  // namespace

TEST_CASE("block evaluation equals record-at-a-time evaluation on the SNIA pack",
          "[engine][block]") {
  auto pack = load_pack_dir(source_path("rules"));
  const dsl::program& p = pack->rules->program();
  // The shipped sample cohort, then the same records with facts knocked out or null.
  std::ifstream in(source_path("data/sample-cohort.jsonl"));
  REQUIRE(in.good());
  eng::record_reader reader(p);
  std::vector<std::vector<eng::value>> rows;
  std::vector<eng::record> records;
  std::string line;
  while (std::getline(in, line)) {
    eng::record rec;
    eng::record_error err;
    REQUIRE(reader.read(line, rec, err));
    records.push_back(std::move(rec));
  }
  REQUIRE(records.size() >= 100);
  rng g{7};
  for (const eng::record& rec : records) {
    rows.push_back(rec.facts);
    std::vector<eng::value> knocked = rec.facts;
    for (std::size_t f = 0; f < knocked.size(); ++f) {
      std::int64_t roll = g.in(0, 5);
      if (roll == 0) knocked[f] = eng::value{};
      if (roll == 1 && f < p.facts.size() && p.facts[f].t.optional) {
        knocked[f] = eng::value::null_value();
      }
    }
    rows.push_back(std::move(knocked));
  }
  for (auto& r : random_rows(p, 600, 11)) rows.push_back(std::move(r));
  for (const char* d : dates) compare(pack->rules, d, rows, eng::block_evaluator::block_size);
  compare(pack->rules, "2017-06-01", rows, 37);  // partial blocks
}

TEST_CASE("block evaluation equals record-at-a-time evaluation on bench rule set v0",
          "[engine][block]") {
  auto pack = load_pack_dir(source_path("bench/v0"));
  auto rows = random_rows(pack->rules->program(), 3000, 5);
  for (const char* d : dates) compare(pack->rules, d, rows, eng::block_evaluator::block_size);
  // Every rule of the bench set is evaluated by columns, none record by record.
  auto inst = eng::instantiate(pack->rules, *dalil::parse_date("2024-01-01"));
  std::vector<std::uint32_t> all(pack->rules->program().rules.size());
  for (std::uint32_t r = 0; r < all.size(); ++r) all[r] = r;
  eng::block_evaluator block(inst, all);
  REQUIRE(block.scalar_rule_count() == 0);
}

TEST_CASE("block evaluation equals record-at-a-time evaluation, operation by operation",
          "[engine][block]") {
  // One rule per construct, with unknown rows in tables, unknown exception conditions,
  // overflow, division by zero, dates with durations (out of range too) and ages on both sides of
  // comparisons.
  auto pack = load_pack_text(R"(module m
  source "test"

enum Color { red, green, blue }

record Person {
  born : date
  since : date?
  size : int
  income : money
  share : decimal
  color : Color
  flag : bool
  other : bool?
  name : text
  alias : text?
}

input p : Person

parameter ceiling : money
  source "test"
  from 2014-01-01 = 3767 MAD
  from 2020-01-01 = 5650.50 MAD

parameter wait : duration
  source "test"
  from 2015-01-01 = 2 years 6 months

parameter min_age : int
  source "test"
  from 2000-01-01 = 18

parameter home : text
  source "test"
  from 2014-01-01 = "MA"

rule per_head : money
  source "test"
  = p.income / p.size

rule by_share : money
  source "test"
  = p.income / p.share

rule sum : money
  source "test"
  = p.income + p.income * p.share - 1.25 MAD

rule product : money
  source "test"
  = p.income * p.share * p.share * 1000000

rule whole : int
  source "test"
  = p.size * p.size - 7 + -p.size

rule negated : money
  source "test"
  = -p.income

rule grade : Color
  source "test"
  = table first
    | p.flag and p.other               => red
    | per_head < ceiling               => green
    | p.other                          => not_encoded "row not encoded"
    | p.color in [red, blue]           => blue
    | p.size == 0 or p.other == null   => green
    | otherwise                        => red

rule unknown_rows_agree : Color
  source "test"
  = table first
    | p.other                          => red
    | p.flag                           => red
    | otherwise                        => green

rule adult : bool
  source "test"
  = age(p.born) >= 18 and 30 > age(p.born) and age(p.born) <= min_age + 40
    and not (age(p.born) < min_age) and age(p.born) > 2

rule ages : int
  source "test"
  = age(p.born) + years_between(p.born, as_of) + months_between(p.born, as_of)
    + days_between(p.born, as_of)

rule waited : bool
  source "test"
  = p.since + wait <= as_of and p.since - 1 year < p.born + 40 years

rule day_after : date
  source "test"
  = p.born + 1 day

rule long_before : date
  source "test"
  = p.born - 2000 years + wait

rule out_of_range : bool
  source "test"
  = p.since + 1 month > p.born - 1 year or p.flag

rule mixed : bool
  source "test"
  = any [p.flag, p.other, not p.flag and p.size > 3]
    and all [known(p.other), p.since == null or p.since >= 2014-01-01, p.share in [0.5, 1, 2.25]]

rule choose : money
  source "test"
  = if p.other then max(p.income, ceiling) else min(p.income, per_head)

rule rounded : money
  source "test"
  = round(per_head, 1) + floor(by_share)

rule latest : date
  source "test"
  = max(p.born, p.since)

rule tagged : bool
  source "test"
  = p.name == "x" or p.flag

rule listed : bool
  source "test"
  = p.name in ["x", "MA", "a longer text than a word"]

rule not_x : bool
  source "test"
  = "x" != p.alias

rule named : bool
  source "test"
  = known(p.name) and known(p.alias)

rule no_alias : bool
  source "test"
  = p.alias == null

rule at_home : bool
  source "test"
  = p.name == home or p.alias in [home, "SN"]

rule same_name : bool
  source "test"
  = p.name == p.alias

rule old_rule : bool
  source "test"
  in_force from 2000-01-01 until 2015-12-31
  = p.flag

rule with_exceptions : money
  source "test"
  = per_head
  exception first_one
    source "test"
    when p.other
    = 10 MAD
  exception second_one
    source "test"
    when p.flag and p.size > 2
    = per_head
  exception third_one
    source "test"
    when old_rule
    = 0 MAD
)");
  auto rows = random_rows(pack->rules->program(), 4000, 3);
  for (const char* d : dates) compare(pack->rules, d, rows, eng::block_evaluator::block_size);
  // Two texts read from the record, compared with each other, are the only rule that needs the
  // record-at-a-time evaluator.
  auto inst = eng::instantiate(pack->rules, *dalil::parse_date("2024-01-01"));
  std::vector<std::uint32_t> all(pack->rules->program().rules.size());
  for (std::uint32_t r = 0; r < all.size(); ++r) all[r] = r;
  eng::block_evaluator block(inst, all);
  REQUIRE(block.scalar_rule_count() == 1);
}

TEST_CASE("block evaluation gives the provisional flags of record-at-a-time evaluation",
          "[engine][block][provisional]") {
  // Provisional parameters, rules and exceptions under every construct the block evaluates by
  // columns, with unknown and null facts: the deciding path (or / and / any / all with one or
  // several settling operands, if, tables first and unique with unknown rows, exceptions fired,
  // unknown or not), rules whose value is their body's column but whose own confidence differs,
  // and rules evaluated record by record (quantifiers over lists).
  auto pack = load_pack_text(R"(module m
  source "test"

enum Color { red, green, blue }

record Member {
  age : int?
}

record Person {
  born : date
  since : date?
  size : int
  income : money
  color : Color
  flag : bool?
  other : bool?
  third : bool?
  name : text
  members : list Member
}

input p : Person

parameter ceiling : money
  source "test"
  confidence provisional
  from 2014-01-01 = 3767 MAD

parameter floor_amount : money
  source "test"
  from 2014-01-01 = 100 MAD

parameter wait : duration
  source "test"
  confidence provisional
  from 2015-01-01 = 2 years 6 months

parameter min_age : int
  source "test"
  confidence provisional
  from 2000-01-01 = 18

parameter home : text
  source "test"
  confidence provisional
  from 2014-01-01 = "MA"

rule guess : bool
  source "test"
  confidence provisional
  = p.flag

rule sure : bool
  source "test"
  = p.flag

rule guess_other : bool
  source "test"
  confidence provisional
  = p.other

rule either : bool
  source "test"
  = guess or p.other

rule either_sure : bool
  source "test"
  = sure or p.other

rule both : bool
  source "test"
  = guess and p.other

rule both_sure : bool
  source "test"
  = p.flag and p.other

rule several : bool
  source "test"
  = any [guess, p.other, guess_other, p.third] and all [not p.flag, p.third or guess]

rule poor : bool
  source "test"
  = p.income / p.size < ceiling

rule poor_or_guess : bool
  source "test"
  = poor or sure

rule chosen : money
  source "test"
  = if sure then ceiling else if p.other then floor_amount else p.income

rule adult : bool
  source "test"
  = age(p.born) >= min_age and not (age(p.born) < 18)

rule waited : bool
  source "test"
  = p.since + wait <= as_of or p.flag

rule at_home : bool
  source "test"
  = p.name == home or p.name in ["SN", home]

rule grade : Color
  source "test"
  = table first
    | p.third and guess_other => red
    | sure                    => green
    | guess                   => green
    | p.other                 => if guess_other then blue else red
    | poor                    => blue
    | otherwise               => red

rule band : int
  source "test"
  = table unique
    | p.size == 1                 => 1
    | p.size == 2 and guess       => 2
    | p.size == 2 and not guess   => 3
    | p.size > 2 and p.size < 5   => if p.other then 4 else 5
    | otherwise                   => 6

rule relieved : money
  source "test"
  = if sure then p.income else floor_amount
  exception guessed
    source "test"
    confidence provisional
    when p.other
    = ceiling
  exception verified
    source "test"
    when p.third and sure
    = floor_amount
  exception reads_guess
    source "test"
    when guess_other
    = p.income

rule guessed_relief : bool
  source "test"
  confidence provisional
  = p.flag
  exception any_other
    source "test"
    when p.other
    = true

rule closed : bool
  source "test"
  confidence provisional
  in_force from 2015-01-01 until 2023-12-31 otherwise false
  = guess or p.other

rule closed_reader : bool
  source "test"
  = closed or sure

rule closed_unknown : Color
  source "test"
  in_force from 2016-01-01 otherwise not_encoded "before the circular"
  = if guess then red else blue

rule closed_reader_unknown : bool
  source "test"
  = closed_unknown == red and sure

rule some_adult : bool
  source "test"
  = any x in p.members : x.age >= min_age or guess

rule all_adult : bool
  source "test"
  = all x in p.members : x.age >= min_age and sure
)");
  const dsl::program& p = pack->rules->program();
  auto rows = random_rows(p, 3000, 17);
  // Records with lists (random rows leave them unknown), kept alive for their rows.
  eng::record_reader reader(p);
  std::vector<eng::record> records;
  const char* const lists[] = {R"([])", R"([{"age": 30}])", R"([{"age": 10}, {"age": 30}])",
                               R"([{"age": 10}, {}])", R"([{}, {"age": 19}])"};
  const char* const flags[] = {R"("flag": true)", R"("flag": false)", R"("other": null)"};
  for (const char* l : lists) {
    for (const char* f : flags) {
      eng::record rec;
      eng::record_error err;
      std::string json = std::string(R"({"members": )") + l + ", " + f + "}";
      INFO(json);
      REQUIRE(reader.read(json, rec, err));
      records.push_back(std::move(rec));
    }
  }
  for (const eng::record& rec : records) rows.push_back(rec.facts);
  for (const char* d : dates) compare(pack->rules, d, rows, eng::block_evaluator::block_size);
  compare(pack->rules, "2024-02-29", rows, 53);
  // The flags vary from record to record under every construct (or the comparison above could
  // not fail): each of these rules is provisional for some records and not for others.
  auto inst = eng::instantiate(pack->rules, *dalil::parse_date("2024-02-29"));
  eng::evaluator ev(inst);
  for (const char* name : {"either", "both", "several", "poor_or_guess", "chosen", "grade", "band",
                           "relieved", "guessed_relief", "some_adult", "all_adult", "waited"}) {
    std::uint32_t r = *p.find_rule(std::string("m.") + name);
    bool seen[2] = {false, false};
    for (const auto& row : rows) {
      ev.set_facts(row.data());
      seen[ev.provisional(r) ? 1 : 0] = true;
    }
    INFO(name);
    CHECK(seen[0] == (std::string(name) != "guessed_relief"));  // own confidence: always
    CHECK(seen[1]);
  }
}
