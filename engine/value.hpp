// Run-time values: three-valued (unknown / null / known), exact, small and trivially copyable so
// that evaluation never allocates.
#pragma once

#include <cstdint>
#include <string_view>

#include "dsl/value.hpp"

namespace dalil::engine {

enum class state : std::uint8_t { unknown, null, known };
enum class rep : std::uint8_t {
  none,
  boolean,
  integer,
  ratio,
  date,
  duration,
  text,
  enumeration,
  list,
  record
};

struct record_node;
struct list_node;

/// A rational that is not normalised on every operation (den > 0); compared by cross-multiplying.
struct ratio {
  std::int64_t num;
  std::int64_t den;
};

/// A text inside a record's arena or a ruleset's constants (the value does not own it).
struct text_ref {
  const char* data;
  std::uint32_t size;
};

struct value {
  state s = state::unknown;
  rep r = rep::none;
  // One member is set (the constructor sets q); which one is read depends on `r`.
  union {  // NOLINT(cppcoreguidelines-pro-type-member-init)
    bool b;
    std::int64_t i;  // integer, enum case index, date (days since 1970-01-01)
    ratio q;
    duration dur;
    text_ref text;
    const list_node* list;
    const record_node* rec;
  };

  value() : q{0, 1} {}  // NOLINT(cppcoreguidelines-pro-type-member-init)
  bool known() const { return s == state::known; }
  bool is_null() const { return s == state::null; }
  bool unknown() const { return s == state::unknown; }
  bool is_true() const { return s == state::known && b; }
  bool is_false() const { return s == state::known && !b; }
  std::string_view as_text() const { return {text.data, text.size}; }

  static value unknown_value() { return value{}; }
  static value null_value() {
    value v;
    v.s = state::null;
    return v;
  }
  static value of_bool(bool x) {
    value v;
    v.s = state::known;
    v.r = rep::boolean;
    v.b = x;
    return v;
  }
  static value of_int(std::int64_t x) {
    value v;
    v.s = state::known;
    v.r = rep::integer;
    v.i = x;
    return v;
  }
  static value of_ratio(std::int64_t num, std::int64_t den) {
    value v;
    v.s = state::known;
    v.r = rep::ratio;
    v.q = {num, den};
    return v;
  }
  static value of_date(date d) {
    value v;
    v.s = state::known;
    v.r = rep::date;
    v.i = d.days;
    return v;
  }
  static value of_duration(duration d) {
    value v;
    v.s = state::known;
    v.r = rep::duration;
    v.dur = d;
    return v;
  }
  static value of_enum(std::uint32_t index) {
    value v;
    v.s = state::known;
    v.r = rep::enumeration;
    v.i = index;
    return v;
  }
  static value of_text(std::string_view t) {
    value v;
    v.s = state::known;
    v.r = rep::text;
    v.text = {t.data(), static_cast<std::uint32_t>(t.size())};
    return v;
  }
};

/// A record inside a list (children, household members): its fields by schema index.
struct record_node {
  const value* fields = nullptr;
  std::uint32_t count = 0;
};
struct list_node {
  const value* items = nullptr;  // each item a value (rep::record for records)
  std::uint32_t count = 0;
};

/// Exact comparison of two numeric values (integer or ratio); -1, 0 or 1.
int compare_numbers(const value& a, const value& b);
/// Normalised rational of a numeric value.
rational to_rational(const value& v);
/// Equality of two known values of the same type.
bool equal_values(const value& a, const value& b);

}  // namespace dalil::engine
