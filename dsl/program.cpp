// Type names and constant texts for messages, traces and the formatter.
#include "dsl/program.hpp"

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
