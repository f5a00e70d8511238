// Type names and constant texts for messages, traces and the formatter.
#include "dsl/program.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include "dsl/value.hpp"

namespace dalil::dsl {

const field_info* field_at(const program& p, std::string_view path) {
  std::uint32_t rec = p.input_record;
  const field_info* f = nullptr;
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = path.find('.', start);
    std::string_view key = path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (rec >= p.records.size()) return nullptr;
    auto i = p.records[rec].field(key);
    if (!i) return nullptr;
    f = &p.records[rec].fields[*i];
    rec = f->t.k == kind::record ? f->t.ref : no_index;
    if (dot == std::string_view::npos) return f;
    start = dot + 1;
  }
}

namespace {

/// Whether `v` is a whole number (an optional '-', then digits).
bool whole_number(std::string_view v) {
  if (!v.empty() && v.front() == '-') v.remove_prefix(1);
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// Whether `v` is an exact decimal as a record writes one: a whole number without leading
/// zeros, then optionally '.' and digits.
bool decimal_number(std::string_view v) {
  const auto dot = v.find('.');
  const std::string_view whole = v.substr(0, dot);
  const std::string_view digits = whole.substr(whole.starts_with('-') ? 1 : 0);
  if (!whole_number(whole) || (digits.size() > 1 && digits.front() == '0')) return false;
  if (dot == std::string_view::npos) return true;
  const std::string_view places = v.substr(dot + 1);
  return !places.empty() &&
         std::all_of(places.begin(), places.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string filter_value_refusal(const program& p, const field_info& field, std::string_view path,
                                 std::string& value) {
  switch (field.t.k) {
    case kind::enumeration: {
      const auto& cases = p.enums.at(field.t.ref).cases;
      if (std::find(cases.begin(), cases.end(), value) != cases.end()) return {};
      std::string names;
      for (const auto& c : cases) names += (names.empty() ? "" : ", ") + c;
      return "not one of its cases (" + names + ")";
    }
    case kind::boolean:
      if (value == "true" || value == "1") {
        value = "1";
      } else if (value == "false" || value == "0") {
        value = "0";
      } else {
        return "takes true or false";
      }
      return {};
    case kind::integer: {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (!whole_number(value) || ec != std::errc() || end != value.data() + value.size()) {
        return "takes a whole number";
      }
      value = std::to_string(n);
      return {};
    }
    case kind::decimal:
    case kind::money:
      if (!decimal_number(value)) {
        return "takes a number, compared as the record writes it (1200.50 does not match "
               "1200.5)";
      }
      return {};
    case kind::date:
      if (!parse_date(value)) return "takes a date (YYYY-MM-DD)";
      return {};
    case kind::record: {
      const auto& fields = p.records.at(field.t.ref).fields;
      std::string why = "is a group of fields: name one of them";
      if (!fields.empty()) {
        why += " (such as ";
        why += path;
        why += '.';
        why += fields.front().name;
        why += ')';
      }
      return why;
    }
    case kind::list:
      return "is a list: a filter compares a single value";
    default:
      return {};
  }
}

std::vector<std::uint32_t> expression_roots(const rule_info& rule) {
  std::vector<std::uint32_t> roots = {rule.body};
  for (const exception_info& x : rule.exceptions) {
    roots.push_back(x.condition);
    roots.push_back(x.value);
  }
  return roots;
}

std::string type_name(const program& p, const type& t) {
  std::string base;
  kind k = t.k == kind::list ? t.element : t.k;
  switch (k) {
    case kind::error:
      base = "an erroneous value";
      break;
    case kind::any:
      base = "not_encoded";
      break;
    case kind::null_type:
      base = "null";
      break;
    case kind::boolean:
      base = "bool";
      break;
    case kind::integer:
      base = "int";
      break;
    case kind::decimal:
      base = "decimal";
      break;
    case kind::money:
      base = "money";
      break;
    case kind::date:
      base = "date";
      break;
    case kind::duration:
      base = "duration";
      break;
    case kind::text:
      base = "text";
      break;
    case kind::enumeration:
      base = t.ref < p.enums.size() ? p.enums[t.ref].name : "enum";
      break;
    case kind::record:
      base = t.ref < p.records.size() ? p.records[t.ref].name : "record";
      break;
    case kind::list:
      base = "list";
      break;
  }
  if (t.k == kind::list) base = "list " + base;
  if (t.optional) base += "?";
  return base;
}

std::string constant_text(const program& p, const constant& c, const type& t) {
  struct visitor {
    const program& p;
    const type& t;
    std::string operator()(null_value) const { return "null"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(rational r) const {
      return t.k == kind::money ? money_string(r) : to_string(r);
    }
    std::string operator()(date d) const { return to_string(d); }
    std::string operator()(duration d) const { return to_string(d); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(enum_value e) const {
      return e.enum_id < p.enums.size() ? p.enums[e.enum_id].cases[e.index] : "?";
    }
  };
  return std::visit(visitor{p, t}, c);
}

}  // namespace dalil::dsl
