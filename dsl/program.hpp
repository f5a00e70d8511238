// The checked program: every name resolved, every expression typed. This is what the checker
// hands to the engine's compiler; it holds no X3 types and no unresolved strings.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dsl/source.hpp"
#include "dsl/value.hpp"

namespace dalil::dsl {

enum class kind : std::uint8_t {
  error,  // a type error was reported; suppresses follow-on errors
  any,    // not_encoded: fits every type
  null_type,
  boolean,
  integer,
  decimal,
  money,
  date,
  duration,
  text,
  enumeration,
  record,
  list,
};

struct type {
  kind k = kind::error;
  std::uint32_t ref = 0;       // enum or record index (for lists: of the element)
  kind element = kind::error;  // for lists
  bool optional = false;       // may be null
  friend bool operator==(const type&, const type&) = default;
};

/// A value of this type is a category (a yes or no, an enumeration's case), not a person's own
/// value (an amount, a date, a text): what the reports of advisers may show of a record.
constexpr bool categorical(const type& t) {
  return t.k == kind::boolean || t.k == kind::enumeration;
}

constexpr std::uint32_t no_index = UINT32_MAX;

struct enum_value {
  std::uint32_t enum_id = 0;
  std::uint32_t index = 0;
  friend bool operator==(const enum_value&, const enum_value&) = default;
};
struct null_value {
  friend bool operator==(const null_value&, const null_value&) = default;
};
using constant =
    std::variant<null_value, bool, std::int64_t, rational, date, duration, std::string, enum_value>;

enum class op : std::uint8_t {
  constant,
  fact,
  variable,
  parameter,
  rule,
  as_of,
  not_,
  negate,
  and_,
  or_,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  in,
  add,
  sub,
  mul,
  div,
  if_,
  table,
  any_of,
  all_of,
  any_in,
  all_in,
  list,
  known,
  age,
  years_between,
  months_between,
  days_between,
  min,
  max,
  round,
  floor,
  count,
  not_encoded,
};

/// Text in each language of the pack: "fr", "ar", "en" -> text. Empty when not written.
using texts = std::map<std::string, std::string>;

struct expression {
  op o = op::constant;
  type t;
  source_span span;
  std::vector<std::uint32_t> args;    // child expressions; tables: condition, value pairs
  std::uint32_t ref = no_index;       // fact, parameter, rule or variable index; table policy
  std::vector<std::uint32_t> fields;  // variable: field chain from the bound record
  constant value;                     // constant value; not_encoded: the reason (text)
  texts reason;  // not_encoded written `not_encoded fr "…" ar "…" en "…"`: the reason per language
};

struct enum_info {
  std::string name;
  std::vector<std::string> cases;
  std::vector<texts> case_titles;  // one per case: `enum E { a title fr "…" ar "…" en "…", … }`
  source_span span;
};

/// A document an official asks the applicant for: `document NAME title fr "…" ar "…" en "…"`.
struct document_info {
  std::string name;
  texts title;
  source_span span;
};

/// What a known value of a field must satisfy (`at_least V`, `at_most V`, `not_after as_of`);
/// a record that breaks one is refused naming the field, never evaluated.
struct value_constraint {
  std::optional<rational> at_least;  // numbers and money
  std::optional<rational> at_most;
  bool not_after_as_of = false;  // dates of past events
};

struct field_info {
  std::string name;
  type t;
  texts title;                     // `title fr "…" ar "…" en "…"`
  std::uint32_t proof = no_index;  // `proof DOCUMENT`: index into program::documents
  value_constraint constraint;
  /// `fixed`: a fact of the applicant that no change can move (birth date, nationality…);
  /// `dalil whatif` never proposes to change it.
  bool fixed = false;
};

struct record_info {
  std::string name;
  std::vector<field_info> fields;
  source_span span;
  std::optional<std::uint32_t> field(std::string_view name) const {
    for (std::uint32_t i = 0; i < fields.size(); ++i) {
      if (fields[i].name == name) return i;
    }
    return std::nullopt;
  }
};

/// A fact: a path from the input record, such as `residence_card.expires`.
struct fact_info {
  std::string path;                   // without the input name
  std::vector<std::uint32_t> fields;  // field indices from the root record
  type t;
  texts title;                     // the last field's title
  std::uint32_t proof = no_index;  // the last field's document, else the nearest enclosing one
  value_constraint constraint;     // the last field's constraint
  bool fixed = false;              // the last field is `fixed`
};

struct module_info {
  std::string name;
  std::map<std::string, std::string> title;  // language -> text
  std::string program;
  std::string osp;
  std::string source;
  file_id file = 0;
};

struct exception_info {
  std::string name;
  std::string source;
  texts explain;  // what the explanation says when this exception gave the value
  bool provisional = false;
  std::uint32_t condition = 0;
  std::uint32_t value = 0;
  source_span span;
};

struct rule_info {
  std::uint32_t module = 0;
  std::string name;
  std::string qualified;  // module.name
  type t;
  std::string source;
  bool own_provisional = false;
  bool provisional = false;  // own, or through anything it reads (computed by the checker)
  texts title;  // `title fr "…" ar "…" en "…"`: how an official names the decision
  std::optional<date> in_force_from;
  std::optional<date> in_force_until;
  /// `in_force from D provisional`, `until D provisional`: the date rests on a source not found
  /// (RULE-PACK: "from 2015 … article not found: provisional"); a decision outside the period on
  /// that side is provisional (period_provisional).
  bool from_provisional = false;
  bool until_provisional = false;
  /// `in_force … otherwise EXPR`: the value outside the period (an expression that reads no
  /// fact: a constant, or not_encoded). no_index: undetermined, "not in force".
  std::uint32_t outside = no_index;
  texts period;   // `period fr "…"`: the explanation outside the period ({from}, {until})
  texts explain;  // language -> template
  std::uint32_t body = 0;
  std::vector<exception_info> exceptions;
  std::vector<std::uint32_t> rules_read;  // direct dependencies
  std::vector<std::uint32_t> parameters_read;
  source_span span;
};

/// Whether rule `r`, out of force at `as_of`, is so on a side whose date is provisional: before
/// a `from … provisional`, or after an `until … provisional`. False in force.
inline bool period_provisional(const rule_info& r, date as_of) {
  if (r.in_force_from && as_of < *r.in_force_from) return r.from_provisional;
  if (r.in_force_until && *r.in_force_until < as_of) return r.until_provisional;
  return false;
}

struct dated_constant {
  date from;
  constant value;
};

struct parameter_info {
  std::uint32_t module = 0;
  std::string name;
  std::string qualified;
  type t;
  std::string source;
  bool provisional = false;
  std::vector<dated_constant> values;  // increasing dates
  source_span span;
};

struct expectation_info {
  std::uint32_t rule = 0;
  enum class kind_t : std::uint8_t { equals, undetermined, missing } kind = kind_t::equals;
  constant value;
  std::vector<std::string> missing;
  source_span span;
};

struct test_info {
  std::uint32_t module = 0;
  std::string name;
  date as_of;
  std::string given_json;  // the `given` record as canonical JSON text
  std::vector<expectation_info> expects;
  source_span span;
};

struct program {
  std::vector<module_info> modules;
  std::vector<document_info> documents;
  std::vector<enum_info> enums;
  std::vector<record_info> records;
  std::string input_name;  // e.g. "applicant"
  std::uint32_t input_record = no_index;
  std::vector<fact_info> facts;
  std::vector<parameter_info> parameters;
  std::vector<rule_info> rules;
  std::vector<std::uint32_t> rule_order;  // every rule after the rules it reads
  std::vector<expression> expressions;
  std::vector<test_info> tests;

  std::optional<std::uint32_t> find_rule(std::string_view qualified) const {
    for (std::uint32_t i = 0; i < rules.size(); ++i) {
      if (rules[i].qualified == qualified) return i;
    }
    return std::nullopt;
  }
};

/// The field at a dotted `path` ("household.annual_income"), walking the records from the input
/// record; nullptr when the schema has none there.
const field_info* field_at(const program& p, std::string_view path);
/// Why `value` cannot filter records on `field` (at `path`: `dalil batch --where`, the advisers'
/// impact): "" when it can, and then `value` is written as the stores compare it (a yes-or-no as
/// 1 or 0, a whole number without leading zeros; an amount or a decimal is compared as the
/// record writes it, its places included). Refused: a case that is not the enumeration's
/// (the cases named), a yes-or-no other than true, false, 1 or 0, a malformed whole number,
/// amount or date, a group of fields or a list. A value of another form would match nobody, and
/// the run be refused as matching nothing without saying why. The reason never repeats the value
/// (it may be an applicant's).
std::string filter_value_refusal(const program& p, const field_info& field, std::string_view path,
                                 std::string& value);
/// The root expressions of a rule: its body, then each exception's condition and value.
std::vector<std::uint32_t> expression_roots(const rule_info& rule);
/// Calls `f(id)` for every expression reachable from `roots`, children included.
template <typename F>
void for_each_expression(const program& p, std::vector<std::uint32_t> roots, F&& f) {
  while (!roots.empty()) {
    std::uint32_t id = roots.back();
    roots.pop_back();
    f(id);
    const expression& e = p.expressions[id];
    roots.insert(roots.end(), e.args.begin(), e.args.end());
  }
}

std::string type_name(const program& p, const type& t);
/// Canonical text of a constant as the engine prints it (money with two decimals).
std::string constant_text(const program& p, const constant& c, const type& t);

}  // namespace dalil::dsl
