// Expression pass: names resolved, every operator, call, table and quantifier typed; decision
// tables analysed for overlaps and gaps.
#include "dsl/checker_passes.hpp"

#include <charconv>

#include "dsl/table_analysis.hpp"

namespace dalil::dsl::detail {

// ------------------------------------------------------------------ expressions

std::optional<type> checker::unify(const type& a, const type& b) const {
  if (a.k == kind::error || a.k == kind::any) return b;
  if (b.k == kind::error || b.k == kind::any) return a;
  if (a.k == kind::null_type) {
    type t = b;
    t.optional = true;
    return t;
  }
  if (b.k == kind::null_type) {
    type t = a;
    t.optional = true;
    return t;
  }
  type out = a;
  out.optional = a.optional || b.optional;
  if (a.k == b.k) {
    if ((a.k == kind::enumeration || a.k == kind::record) && a.ref != b.ref) return std::nullopt;
    if (a.k == kind::list && (a.element != b.element || a.ref != b.ref)) return std::nullopt;
    return out;
  }
  if (is_numeric(a.k) && is_numeric(b.k)) {
    out.k = kind::decimal;
    return out;
  }
  return std::nullopt;
}

bool checker::assignable(const type& to, const type& from) const {
  if (from.k == kind::error || from.k == kind::any || to.k == kind::error) return true;
  if (from.k == kind::null_type) return to.optional;
  if (to.k == kind::decimal && from.k == kind::integer) return true;
  if (to.k != from.k) return false;
  if (to.k == kind::enumeration || to.k == kind::record) return to.ref == from.ref;
  return true;
}

void checker::require_bool(std::uint32_t id, const char* what) {
  const expression& e = at(id);
  if (e.t.k == kind::boolean || e.t.k == kind::error || e.t.k == kind::any) return;
  error(codes::not_bool, e.span,
        std::string(what) + " must be bool, but this is " + type_name(p_, e.t));
}

std::uint32_t checker::check_expr(const ast::expr& e, scope& sc) {
  std::uint32_t lhs = check_operand(e.first, sc);
  bool previous_comparison = false;
  for (const ast::operation& o : e.rest) {
    std::uint32_t rhs = check_operand(o.rhs, sc);
    // Past the depth limit (reported once, E0310) the operands are still checked, but the chain
    // is not built further: nothing walks it, and a million operands need no million nodes.
    if (too_deep(lhs)) continue;
    source_span s{sc.file, at(lhs).span.begin, o.end};
    bool comparison = o.op == "==" || o.op == "!=" || o.op == "<" || o.op == "<=" || o.op == ">" ||
                      o.op == ">=" || o.op == "in";
    if (comparison && previous_comparison) {
      error(codes::syntax, span(sc.file, o), "comparisons do not chain; join them with 'and'");
      lhs = error_expr(s);
      continue;
    }
    previous_comparison = comparison;
    source_span op_span{sc.file, o.begin, o.begin + static_cast<std::uint32_t>(o.op.size())};
    lhs = binary(o.op, lhs, rhs, s, op_span);
  }
  return lhs;
}

std::uint32_t checker::binary(const std::string& o, std::uint32_t l, std::uint32_t r, source_span s,
                              source_span op_span) {
  type lt = at(l).t;
  type rt = at(r).t;
  expression e;
  e.span = s;
  e.args = {l, r};
  bool poisoned = lt.k == kind::error || rt.k == kind::error;
  bool optional = lt.optional || rt.optional;
  auto mismatch = [&](const char* code, const std::string& what) {
    if (!poisoned) {
      std::string hint;
      bool money_and_number = (lt.k == kind::money && is_numeric(rt.k) && o != "*" && o != "/") ||
                              (rt.k == kind::money && is_numeric(lt.k) && o != "*");
      if (money_and_number) hint = "; write amounts in MAD, such as 3000 MAD";
      if (lt.k == kind::date && is_numeric(rt.k)) hint = "; add a duration, such as 18 years";
      error(code, op_span,
            what + ": " + type_name(p_, lt) + " " + o + " " + type_name(p_, rt) +
                " is not defined" + hint);
    }
    return error_expr(s);
  };
  auto wild = [](const type& t) { return t.k == kind::any; };
  if (o == "and" || o == "or") {
    e.o = o == "and" ? op::and_ : op::or_;
    bool lb = lt.k == kind::boolean || wild(lt) || lt.k == kind::error;
    bool rb = rt.k == kind::boolean || wild(rt) || rt.k == kind::error;
    if (!lb || !rb) return mismatch(codes::bad_operands, "'" + o + "' takes two bool operands");
    e.t = simple(kind::boolean);
    return add(std::move(e));
  }
  if (o == "in") {
    if (at(r).o != op::list) return mismatch(codes::bad_operands, "'in' takes a list in brackets");
    e.o = op::in;
    e.t = simple(kind::boolean);
    for (std::uint32_t item : at(r).args) {
      if (!unify(lt, at(item).t) && !poisoned) {
        error(codes::bad_comparison, at(item).span,
              "list item of type " + type_name(p_, at(item).t) + " cannot be compared with " +
                  type_name(p_, lt));
      }
    }
    return add(std::move(e));
  }
  if (o == "==" || o == "!=" || o == "<" || o == "<=" || o == ">" || o == ">=") {
    static const std::map<std::string, op> ops = {{"==", op::eq}, {"!=", op::ne}, {"<", op::lt},
                                                  {"<=", op::le}, {">", op::gt},  {">=", op::ge}};
    e.o = ops.at(o);
    e.t = simple(kind::boolean);
    bool equality = o == "==" || o == "!=";
    if (lt.k == kind::null_type || rt.k == kind::null_type) {
      if (!equality) return mismatch(codes::bad_comparison, "only == and != compare with null");
      const type& other = lt.k == kind::null_type ? rt : lt;
      if (!other.optional && other.k != kind::null_type && other.k != kind::any &&
          other.k != kind::error) {
        error(codes::never_null, s,
              "a " + type_name(p_, other) +
                  " is never null (its type is not optional); to test whether it was given, "
                  "use known(…)");
        return error_expr(s);
      }
      return add(std::move(e));
    }
    auto u = unify(lt, rt);
    if (!u) return mismatch(codes::bad_comparison, "comparison between different types");
    kind k = u->k;
    if (!equality && !(is_numeric(k) || k == kind::money || k == kind::date ||
                       k == kind::duration || k == kind::any || k == kind::error)) {
      return mismatch(codes::bad_comparison,
                      "'" + o + "' orders numbers, money, dates and durations only");
    }
    if (k == kind::list || k == kind::record) {
      return mismatch(codes::bad_comparison, "lists and records cannot be compared");
    }
    return add(std::move(e));
  }
  // Arithmetic.
  kind a = wild(lt) ? rt.k : lt.k;
  kind b = wild(rt) ? lt.k : rt.k;
  std::optional<type> result;
  if (o == "+" || o == "-") {
    e.o = o == "+" ? op::add : op::sub;
    if (is_numeric(a) && is_numeric(b)) {
      result = simple(a == kind::integer && b == kind::integer ? kind::integer : kind::decimal);
    } else if (a == kind::money && b == kind::money) {
      result = simple(kind::money);
    } else if (a == kind::date && b == kind::duration) {
      result = simple(kind::date);
    } else if (a == kind::duration && b == kind::duration && o == "+") {
      result = simple(kind::duration);
    }
  } else if (o == "*") {
    e.o = op::mul;
    if (is_numeric(a) && is_numeric(b)) {
      result = simple(a == kind::integer && b == kind::integer ? kind::integer : kind::decimal);
    } else if ((a == kind::money && is_numeric(b)) || (is_numeric(a) && b == kind::money)) {
      result = simple(kind::money);
    }
  } else if (o == "/") {
    e.o = op::div;
    // A number divided by a number, or money by money, is a decimal; money by a number is money.
    if ((is_numeric(a) && is_numeric(b)) || (a == kind::money && b == kind::money)) {
      result = simple(kind::decimal);
    } else if (a == kind::money && is_numeric(b)) {
      result = simple(kind::money);
    }
  }
  if (!result) return mismatch(codes::bad_operands, "operator '" + o + "' does not apply");
  // A constant zero divisor makes every evaluation undetermined: a mistake, not a rule.
  if (e.o == op::div && at(r).o == op::constant) {
    const auto& v = at(r).value;
    const auto* i = std::get_if<std::int64_t>(&v);
    const auto* q = std::get_if<rational>(&v);
    if (((i != nullptr && *i == 0) || (q != nullptr && q->num == 0)) && !diags_.accepted_before()) {
      error(codes::bad_operands, at(r).span, "division by zero");
      return error_expr(s);
    }
  }
  if (wild(lt) && wild(rt)) result = simple(kind::any);
  result->optional = optional;
  e.t = *result;
  return add(std::move(e));
}

std::uint32_t checker::check_operand(const ast::operand& o, scope& sc) {
  struct visitor {
    checker& c;
    scope& sc;
    std::uint32_t operator()(const ast::literal& l) const { return c.check_literal(l, sc); }
    std::uint32_t operator()(const ast::path& p) const { return c.check_path(p, sc); }
    std::uint32_t operator()(const ast::unary& u) const {
      std::uint32_t inner = c.check_operand(u.rhs, sc);
      source_span s{sc.file, u.begin, u.end};
      type t = c.at(inner).t;
      expression e;
      e.span = s;
      e.args = {inner};
      if (u.op == "not") {
        e.o = op::not_;
        if (t.k != kind::boolean && t.k != kind::error && t.k != kind::any) {
          c.error(codes::bad_operands, s, "'not' takes a bool, but this is " + type_name(c.p_, t));
          return c.error_expr(s);
        }
        e.t = simple(kind::boolean);
        return c.add(std::move(e));
      }
      if (!(is_numeric(t.k) || t.k == kind::money || t.k == kind::error || t.k == kind::any)) {
        c.error(codes::bad_operands, s,
                "'-' takes a number or money, but this is " + type_name(c.p_, t));
        return c.error_expr(s);
      }
      const expression& ie = c.at(inner);
      if (ie.o == op::constant) {  // fold: -3 is a constant
        expression folded = ie;
        folded.span = s;
        if (auto* i = std::get_if<std::int64_t>(&folded.value)) *i = -*i;
        if (auto* r = std::get_if<rational>(&folded.value)) r->num = -r->num;
        return c.add(std::move(folded));
      }
      e.o = op::negate;
      e.t = t;
      return c.add(std::move(e));
    }
    std::uint32_t operator()(const ast::call& call) const { return c.check_call(call, sc); }
    std::uint32_t operator()(const ast::if_expr& i) const {
      std::uint32_t cond = c.check_expr(i.condition, sc);
      c.require_bool(cond, "the condition of 'if'");
      std::uint32_t a = c.check_expr(i.then_branch, sc);
      std::uint32_t b = c.check_expr(i.else_branch, sc);
      source_span s{sc.file, i.begin, i.end};
      auto u = c.unify(c.at(a).t, c.at(b).t);
      if (!u) {
        c.error(codes::different_types, s,
                "the branches of 'if' have different types: " + type_name(c.p_, c.at(a).t) +
                    " and " + type_name(c.p_, c.at(b).t));
        return c.error_expr(s);
      }
      expression e;
      e.o = op::if_;
      e.t = *u;
      e.span = s;
      e.args = {cond, a, b};
      return c.add(std::move(e));
    }
    std::uint32_t operator()(const ast::table& t) const { return c.check_table(t, sc); }
    std::uint32_t operator()(const ast::list_expr& l) const {
      source_span s{sc.file, l.begin, l.end};
      expression e;
      e.span = s;
      e.o = l.kind == "any" ? op::any_of : (l.kind == "all" ? op::all_of : op::list);
      type elem = simple(kind::any);
      for (const ast::expr& item : l.items) {
        std::uint32_t id = c.check_expr(item, sc);
        e.args.push_back(id);
        if (e.o != op::list) {
          c.require_bool(id, ("an item of '" + l.kind + "'").c_str());
        } else if (auto u = c.unify(elem, c.at(id).t)) {
          elem = *u;
        } else {
          c.error(codes::different_types, c.at(id).span, "list items have different types");
        }
      }
      if (e.o == op::list) {
        e.t.k = kind::list;
        e.t.element = elem.k;
        e.t.ref = elem.ref;
      } else {
        e.t = simple(kind::boolean);
      }
      return c.add(std::move(e));
    }
    std::uint32_t operator()(const ast::quantifier& q) const {
      source_span s{sc.file, q.begin, q.end};
      std::uint32_t over = c.check_path(q.over, sc);
      type lt = c.at(over).t;
      if (lt.k != kind::list && lt.k != kind::error) {
        c.error(codes::bad_operands, c.at(over).span,
                "'" + q.kind + " … in' takes a list, but this is " + type_name(c.p_, lt));
        return c.error_expr(s);
      }
      type elem;
      elem.k = lt.element;
      elem.ref = lt.ref;
      sc.variables.push_back({q.variable.name, elem});
      std::uint32_t body = c.check_expr(q.body, sc);
      sc.variables.pop_back();
      c.require_bool(body, "the body of a quantifier");
      expression e;
      e.o = q.kind == "any" ? op::any_in : op::all_in;
      e.t = simple(kind::boolean);
      e.span = s;
      e.args = {over, body};
      e.ref = static_cast<std::uint32_t>(sc.variables.size());  // the variable's slot
      return c.add(std::move(e));
    }
    std::uint32_t operator()(const ast::expr& inner) const { return c.check_expr(inner, sc); }
  };
  return boost::apply_visitor(visitor{*this, sc}, o);
}

std::uint32_t checker::check_literal(const ast::literal& l, scope& sc) {
  source_span s{sc.file, l.begin, l.end};
  expression e;
  e.o = op::constant;
  e.span = s;
  switch (l.kind) {
    case ast::literal_kind::integer: {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(l.text.data(), l.text.data() + l.text.size(), v);
      if (ec != std::errc() || ptr != l.text.data() + l.text.size()) {
        error(codes::bad_literal, s, "integer " + l.text + " is out of range");
        return error_expr(s);
      }
      e.t = simple(kind::integer);
      e.value = v;
      break;
    }
    case ast::literal_kind::decimal:
    case ast::literal_kind::money: {
      std::string digits = l.text;
      if (l.kind == ast::literal_kind::money) {
        digits = digits.substr(0, digits.find_first_of(" \t\r\nM"));
      }
      auto r = parse_decimal(digits);
      if (!r) {
        error(codes::bad_literal, s, "number " + digits + " has too many digits to be exact");
        return error_expr(s);
      }
      e.t = simple(l.kind == ast::literal_kind::money ? kind::money : kind::decimal);
      e.value = *r;
      break;
    }
    case ast::literal_kind::date: {
      auto d = parse_date(l.text);
      if (!d) {
        error(codes::bad_literal, s, l.text + " is not a calendar date");
        return error_expr(s);
      }
      e.t = simple(kind::date);
      e.value = *d;
      break;
    }
    case ast::literal_kind::duration: {
      auto d = parse_duration(l.text);
      if (!d) {
        error(codes::bad_literal, s, "'" + l.text + "' is not a duration");
        return error_expr(s);
      }
      e.t = simple(kind::duration);
      e.value = *d;
      break;
    }
    case ast::literal_kind::text:
      e.t = simple(kind::text);
      e.value = unescape(l.text);
      break;
    case ast::literal_kind::boolean:
      e.t = simple(kind::boolean);
      e.value = l.text == "true";
      break;
    case ast::literal_kind::null:
      e.t = simple(kind::null_type);
      e.value = null_value{};
      break;
    case ast::literal_kind::not_encoded:
      e.o = op::not_encoded;
      e.t = simple(kind::any);
      // `not_encoded "…"` (one text for every language) or `not_encoded fr "…" ar "…" en "…"`;
      // the value is the English text where there is one (traces and JSON are in English).
      e.reason = read_reasons(l.text, s);  // the text starts with the keyword
      if (auto en = e.reason.find("en"); en != e.reason.end()) {
        e.value = en->second;
      } else if (!e.reason.empty()) {
        e.value = e.reason.begin()->second;
      } else {
        e.value = std::string();
      }
      break;
    case ast::literal_kind::otherwise:
      error(codes::misplaced_otherwise, s,
            "'otherwise' is only allowed as the condition of a table's last row");
      return error_expr(s);
  }
  return add(std::move(e));
}

std::uint32_t checker::check_path(const ast::path& p, scope& sc) {
  source_span s{sc.file, p.begin, p.end};
  std::uint32_t id = resolve_name(p.text, s, sc, true);
  return id == no_index ? error_expr(s) : id;
}

std::uint32_t checker::resolve_name(std::string_view text, source_span s, scope& sc, bool report) {
  std::vector<std::string_view> parts = split_path(text);
  auto part_span = [&](std::size_t i) {
    std::uint32_t off = s.begin;
    for (std::size_t k = 0; k < i; ++k) off += static_cast<std::uint32_t>(parts[k].size()) + 1;
    return source_span{s.file, off, off + static_cast<std::uint32_t>(parts[i].size())};
  };
  // Walks record fields from `t` through parts[from..]; fills `fields`.
  auto walk = [&](type t, std::size_t from, std::vector<std::uint32_t>& fields,
                  bool& optional) -> std::optional<type> {
    for (std::size_t i = from; i < parts.size(); ++i) {
      if (t.k == kind::error) return t;
      if (t.k != kind::record) {
        if (report) {
          error(codes::not_a_record, part_span(i),
                "'" + std::string(parts[i - 1]) + "' is " + type_name(p_, t) +
                    ", which has no fields");
        }
        return std::nullopt;
      }
      optional = optional || t.optional;
      const record_info& rec = p_.records[t.ref];
      auto f = field_of(t.ref, parts[i]);
      if (!f) {
        if (report) {
          error(codes::unknown_field, part_span(i),
                "record '" + rec.name + "' has no field '" + std::string(parts[i]) + "'" +
                    suggest_field(t.ref, parts[i]));
        }
        return std::nullopt;
      }
      fields.push_back(*f);
      t = rec.fields[*f].t;
    }
    if (optional) t.optional = true;
    return t;
  };

  const std::string first(parts[0]);
  // Quantifier variables, innermost first.
  for (std::size_t v = sc.variables.size(); v-- > 0;) {
    if (sc.variables[v].name != first) continue;
    expression e;
    e.o = op::variable;
    e.span = s;
    e.ref = static_cast<std::uint32_t>(v);
    bool optional = false;
    auto t = walk(sc.variables[v].t, 1, e.fields, optional);
    if (!t) return no_index;
    e.t = *t;
    return add(std::move(e));
  }
  if (first == p_.input_name && p_.input_record != no_index) {
    if (parts.size() == 1) {
      if (report)
        error(codes::not_a_record, s, "name a field of '" + first + "', such as " + first + ".id");
      return no_index;
    }
    std::vector<std::uint32_t> fields;
    bool optional = false;
    type root;
    root.k = kind::record;
    root.ref = p_.input_record;
    auto t = walk(root, 1, fields, optional);
    if (!t) return no_index;
    std::string path(text.substr(first.size() + 1));
    auto [it, inserted] = fact_by_path_.emplace(path, static_cast<std::uint32_t>(p_.facts.size()));
    if (inserted) {
      fact_info f;
      f.path = path;
      f.fields = fields;
      f.t = *t;
      // The last field's labels; its document, else that of the nearest field holding it.
      std::uint32_t rec = p_.input_record;
      for (std::uint32_t index : fields) {
        const field_info& fi = p_.records[rec].fields[index];
        if (fi.proof != no_index) f.proof = fi.proof;
        f.title = fi.title;
        f.constraint = fi.constraint;
        f.fixed = fi.fixed;
        rec = fi.t.ref;
      }
      p_.facts.push_back(std::move(f));
    }
    expression e;
    e.o = op::fact;
    e.span = s;
    e.t = *t;
    e.ref = it->second;
    return add(std::move(e));
  }
  if (text == "as_of") {
    expression e;
    e.o = op::as_of;
    e.span = s;
    e.t = simple(kind::date);
    return add(std::move(e));
  }
  auto value_ref = [&](const std::string& qualified) -> std::uint32_t {
    if (auto r = rule_by_name_.find(qualified); r != rule_by_name_.end()) {
      expression e;
      e.o = op::rule;
      e.span = s;
      e.t = p_.rules[r->second].t;
      e.ref = r->second;
      if (sc.rules_read) sc.rules_read->insert(r->second);
      return add(std::move(e));
    }
    if (auto q = param_by_name_.find(qualified); q != param_by_name_.end()) {
      expression e;
      e.o = op::parameter;
      e.span = s;
      e.t = p_.parameters[q->second].t;
      e.ref = q->second;
      if (sc.parameters_read) sc.parameters_read->insert(q->second);
      return add(std::move(e));
    }
    return no_index;
  };
  const std::string& here = p_.modules[sc.module].name;
  if (parts.size() == 1) {
    auto owners = case_owners_.find(first);
    if (auto id = value_ref(here + "." + first); id != no_index) {
      // A rule or parameter named like an enum's case: which one is meant cannot be told, and
      // taking either silently decides wrongly when the other was meant.
      if (owners != case_owners_.end() && report && diags_.accepted_before()) {
        diags_.warning(codes::bad_case, s,
                       "'" + first +
                           "' is both a rule or parameter and an enum case; in a stored "
                           "rule source it means the " +
                           std::string(at(id).o == op::rule ? "rule" : "parameter") +
                           ", as when it decided");
      } else if (owners != case_owners_.end() && report) {
        {
          const std::string kind_name = at(id).o == op::rule ? "rule" : "parameter";
          error(codes::bad_case, s,
                "'" + first + "' is both a " + kind_name + " of module '" + here +
                    "' and a case of enum '" + p_.enums[owners->second[0].enum_id].name +
                    "'; write " + here + "." + first + " or " +
                    p_.enums[owners->second[0].enum_id].name + "." + first);
        }
        return no_index;
      }
      return id;
    }
    if (owners != case_owners_.end()) {
      if (owners->second.size() > 1) {
        if (report) {
          std::string list = listing(owners->second.size(), [&](std::size_t k) {
            return p_.enums[owners->second[k].enum_id].name + "." + first;
          });
          error(codes::bad_case, s,
                "'" + first + "' is a case of several enums; write one of " + list);
        }
        return no_index;
      }
      expression e;
      e.o = op::constant;
      e.span = s;
      e.t = type{kind::enumeration, owners->second[0].enum_id, kind::error, false};
      e.value = owners->second[0];
      return add(std::move(e));
    }
  } else if (parts.size() == 2) {
    if (auto en = enum_by_name_.find(first); en != enum_by_name_.end()) {
      const enum_info& info = p_.enums[en->second];
      auto c = case_index_[en->second].find(std::string(parts[1]));
      if (c == case_index_[en->second].end()) {
        if (report) {
          auto names = [&] { return name_index(info.cases); };
          error(codes::bad_case, part_span(1),
                "enum '" + info.name + "' has no case '" + std::string(parts[1]) + "'" +
                    suggest(case_names_[en->second], names, parts[1]));
        }
        return no_index;
      }
      expression e;
      e.o = op::constant;
      e.span = s;
      e.t = type{kind::enumeration, en->second, kind::error, false};
      e.value = enum_value{en->second, c->second};
      return add(std::move(e));
    }
    if (auto m = module_by_name_.find(first); m != module_by_name_.end()) {
      bool visible = m->second == sc.module || imports_[sc.module].count(m->second);
      std::string q = first + "." + std::string(parts[1]);
      if (!visible) {
        if (report && (rule_by_name_.count(q) || param_by_name_.count(q))) {
          error(codes::module_not_imported, s,
                "module '" + first + "' is not imported; add 'import " + first +
                    "' after the module header");
          return no_index;
        }
      } else if (auto id = value_ref(q); id != no_index) {
        return id;
      }
    }
  }
  if (report && !unparsed(text)) {
    auto names = [&] {
      std::vector<std::string> out;
      for (const auto& [q, _] : rule_by_name_) {
        if (q.rfind(here + ".", 0) == 0) out.push_back(q.substr(here.size() + 1));
        out.push_back(q);
      }
      for (const auto& [q, _] : param_by_name_) {
        if (q.rfind(here + ".", 0) == 0) out.push_back(q.substr(here.size() + 1));
        out.push_back(q);
      }
      for (const auto& [c, _] : case_owners_) out.push_back(c);
      return name_index(std::move(out));
    };
    error(
        codes::unknown_name, s,
        "unknown name '" + std::string(text) + "'" + suggest(value_names_[sc.module], names, text));
  }
  return no_index;
}

std::uint32_t checker::check_call(const ast::call& c, scope& sc) {
  source_span s{sc.file, c.begin, c.end};
  std::vector<std::uint32_t> args;
  for (const ast::expr& a : c.args) args.push_back(check_expr(a, sc));
  const std::string& fn = c.name.name;
  struct signature {
    op o;
    std::size_t arity;
  };
  static const std::map<std::string, signature> functions = {
      {"known", {op::known, 1}},
      {"age", {op::age, 1}},
      {"years_between", {op::years_between, 2}},
      {"months_between", {op::months_between, 2}},
      {"days_between", {op::days_between, 2}},
      {"min", {op::min, 2}},
      {"max", {op::max, 2}},
      {"round", {op::round, 2}},
      {"floor", {op::floor, 1}},
      {"count", {op::count, 1}}};
  auto f = functions.find(fn);
  if (f == functions.end()) {
    auto names = [&] {
      std::vector<std::string> out;
      out.reserve(functions.size());
      for (const auto& [n, _] : functions) out.push_back(n);
      return name_index(std::move(out));
    };
    error(codes::unknown_function, span(sc.file, c.name),
          "unknown function '" + fn + "'" + suggest(function_names_, names, fn));
    return error_expr(s);
  }
  if (args.size() != f->second.arity) {
    error(codes::bad_arguments, s,
          "'" + fn + "' takes " + std::to_string(f->second.arity) + " argument" +
              (f->second.arity == 1 ? "" : "s") + ", not " + std::to_string(args.size()));
    return error_expr(s);
  }
  expression e;
  e.o = f->second.o;
  e.span = s;
  e.args = args;
  auto arg_type = [&](std::size_t i) { return at(args[i]).t; };
  auto bad = [&](const std::string& what) {
    bool poisoned = false;
    for (std::uint32_t a : args) poisoned = poisoned || at(a).t.k == kind::error;
    if (!poisoned) error(codes::bad_arguments, s, "'" + fn + "' " + what);
    return error_expr(s);
  };
  auto is = [&](std::size_t i, std::initializer_list<kind> ks) {
    kind k = arg_type(i).k;
    if (k == kind::any) return true;
    return std::find(ks.begin(), ks.end(), k) != ks.end();
  };
  bool optional = false;
  for (std::uint32_t a : args) optional = optional || at(a).t.optional;
  switch (e.o) {
    case op::known:
      e.t = simple(kind::boolean);
      break;
    case op::age:
      if (!is(0, {kind::date})) return bad("takes a date (a birth date)");
      e.t = simple(kind::integer);
      break;
    case op::years_between:
    case op::months_between:
    case op::days_between:
      if (!is(0, {kind::date}) || !is(1, {kind::date})) return bad("takes two dates");
      e.t = simple(kind::integer);
      break;
    case op::min:
    case op::max: {
      auto u = unify(arg_type(0), arg_type(1));
      if (!u || !(is_numeric(u->k) || u->k == kind::money || u->k == kind::date)) {
        return bad("takes two numbers, two amounts or two dates of one type");
      }
      e.t = *u;
      break;
    }
    case op::round:
      if (!is(0, {kind::integer, kind::decimal, kind::money}))
        return bad("rounds a number or money");
      if (at(args[1]).o != op::constant || at(args[1]).t.k != kind::integer) {
        return bad("takes a constant number of decimal places as its second argument");
      }
      // The engine rounds exactly to 0-18 places (its decimals hold 18); any other count would
      // be a different rounding than written.
      if (const auto* places = std::get_if<std::int64_t>(&at(args[1]).value);
          places == nullptr || *places < 0 || *places > 18) {
        if (!diags_.accepted_before()) return bad("rounds to 0 to 18 decimal places");
        diags_.warning(codes::bad_arguments, s,
                       "'round' to places outside 0-18 in a stored rule source: rounded to the "
                       "nearest of 0 and 18, as when it decided");
      }
      e.t = arg_type(0);
      break;
    case op::floor:
      if (!is(0, {kind::integer, kind::decimal, kind::money}))
        return bad("rounds a number or money");
      e.t = arg_type(0);
      break;
    case op::count:
      if (!is(0, {kind::list})) return bad("counts the items of a list");
      e.t = simple(kind::integer);
      break;
    default:
      break;
  }
  if (e.o != op::known && optional) e.t.optional = true;
  return add(std::move(e));
}

std::uint32_t checker::check_table(const ast::table& t, scope& sc) {
  source_span s{sc.file, t.begin, t.end};
  expression e;
  e.o = op::table;
  e.span = s;
  e.ref = t.policy == "unique" ? 1 : 0;
  std::optional<type> result = simple(kind::any);
  bool has_otherwise = false;
  bool ok = true;
  std::vector<source_span> row_spans;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const ast::table_row& row = t.rows[i];
    source_span rs{sc.file, row.begin, row.end};
    row_spans.push_back(rs);
    std::uint32_t cond = 0;
    const ast::literal* lit = ast::single_literal(row.condition);
    if (lit && lit->kind == ast::literal_kind::otherwise) {
      if (has_otherwise) {
        error(codes::misplaced_otherwise, span(sc.file, *lit),
              "a table has one 'otherwise' row at most");
        ok = false;
      } else if (i + 1 != t.rows.size()) {
        error(codes::misplaced_otherwise, span(sc.file, *lit),
              "'otherwise' must be the last row of the table");
        ok = false;
      }
      has_otherwise = true;
      expression always;
      always.o = op::constant;
      always.t = simple(kind::boolean);
      always.value = true;
      always.span = span(sc.file, *lit);
      cond = add(std::move(always));
    } else {
      cond = check_expr(row.condition, sc);
      require_bool(cond, "a table row's condition");
    }
    std::uint32_t value = check_expr(row.value, sc);
    auto u = unify(*result, at(value).t);
    if (!u) {
      error(codes::different_types, at(value).span,
            "table rows give different types: " + type_name(p_, *result) + " and " +
                type_name(p_, at(value).t));
      ok = false;
    } else {
      result = u;
    }
    e.args.push_back(cond);
    e.args.push_back(value);
  }
  if (!ok) return error_expr(s);
  e.t = *result;
  // Overlaps and gaps, where the rows compare one expression with constants. A condition too
  // deep to walk has been reported already (E0310).
  std::vector<std::uint32_t> conditions;
  for (std::size_t i = 0; i + (has_otherwise ? 1 : 0) < t.rows.size(); ++i) {
    conditions.push_back(e.args[2 * i]);
    if (too_deep(e.args[2 * i])) return add(std::move(e));
  }
  table_report report = analyse_table(p_, conditions, e.ref == 1);
  std::vector<diagnostic> overlaps;
  // In a stored rule source (diagnostics::accepted_before) overlaps and gaps are warnings: the
  // analysis has been corrected since (a row past the largest whole number read as covering
  // every value), and what a table reports never changes what it decides.
  const severity table_severity = diags_.accepted_before() ? severity::warning : severity::error;
  for (const table_overlap& o : report.overlaps) {
    diagnostic d{table_severity,
                 codes::table_overlap,
                 row_spans[o.row],
                 "in a 'unique' table, rows " + std::to_string(o.other + 1) + " and " +
                     std::to_string(o.row + 1) + " can both match (" + o.example + ")",
                 {}};
    d.notes.push_back({row_spans[o.other], "the other row"});
    overlaps.push_back(std::move(d));
  }
  if (report.more_overlaps > 0) {
    overlaps.back().notes.push_back(
        {s, "and " + std::to_string(report.more_overlaps) +
                " more rows of this table can match together with an earlier row"});
  }
  for (diagnostic& d : overlaps) diags_.add(std::move(d));
  if (report.too_large) {
    diags_.warning(
        codes::table_too_large, s,
        "table too large to analyse exactly (" + std::to_string(conditions.size()) +
            " rows, limit " + std::to_string(limits::max_table_comparisons) +
            " comparisons of their conditions): rows that can both match may go unreported");
  }
  if (e.ref == 1 && !report.unread.empty()) {  // a unique table
    const std::size_t row = report.unread.front();
    diags_.warning(
        codes::table_unanalysed, row_spans[row],
        "in a 'unique' table, row " + std::to_string(row + 1) +
            " cannot be analysed for overlaps (it is not comparisons of values with constants"
            "): rows that can both match may go unreported, and the first that matches gives "
            "the value" +
            (report.unread.size() > 1
                 ? " (" + std::to_string(report.unread.size() - 1) + " more such rows)"
                 : std::string()));
  }
  if (!has_otherwise) {
    if (!report.analysable) {
      diags_.add({table_severity,
                  codes::table_gap,
                  s,
                  "this table has no 'otherwise' row and its rows cannot be shown to cover every "
                  "case; add '| otherwise => …'",
                  {}});
    } else if (!report.gap.empty()) {
      diags_.add({table_severity,
                  codes::table_gap,
                  s,
                  "no row covers " + report.gap + "; add a row or '| otherwise => …'",
                  {}});
    }
  }
  return add(std::move(e));
}

}  // namespace dalil::dsl::detail
