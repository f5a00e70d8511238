// Test pass: `given` records against the schema (as canonical JSON), expectations against the
// rules.
#include "dsl/checker_passes.hpp"

#include <cstdio>

namespace dalil::dsl::detail {

// ------------------------------------------------------------------ tests

namespace {

/// YYYY-MM-DD in digits: a date as written, whether or not the calendar has it.
bool looks_like_date(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return false;
  for (std::size_t i : {0U, 1U, 2U, 3U, 5U, 6U, 8U, 9U}) {
    if (t[i] < '0' || t[i] > '9') return false;
  }
  return true;
}

std::string json_escape(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string checker::json_value_to_json(const ast::json_value& v, const type& t, file_id f,
                                        const std::string& path) {
  if (const auto* obj = boost::get<ast::x3::forward_ast<ast::json_object>>(&v.get())) {
    if (t.k != kind::record && t.k != kind::error) {
      error(codes::test_bad_record, span(f, obj->get()),
            "'" + path + "' is " + type_name(p_, t) + ", not a record");
      return "null";
    }
    return given_to_json(obj->get(), t.k == kind::record ? t.ref : no_index, f, path + ".");
  }
  if (const auto* arr = boost::get<ast::x3::forward_ast<ast::json_array>>(&v.get())) {
    if (t.k != kind::list) {
      error(codes::test_bad_record, span(f, arr->get()),
            "'" + path + "' is " + type_name(p_, t) + ", not a list");
      return "null";
    }
    type elem;
    elem.k = t.element;
    elem.ref = t.ref;
    std::string out = "[";
    for (std::size_t i = 0; i < arr->get().items.size(); ++i) {
      if (i) out += ",";
      out += json_value_to_json(arr->get().items[i], elem, f, path + "[" + std::to_string(i) + "]");
    }
    return out + "]";
  }
  const auto& lit = boost::get<ast::literal>(v.get());
  auto wrong = [&](const char* what) {
    error(codes::test_bad_record, span(f, lit),
          "'" + path + "' is " + type_name(p_, t) + ", but this is " + what);
    return std::string("null");
  };
  if (lit.kind == ast::literal_kind::null) {
    if (!t.optional && t.k != kind::error) return wrong("null (the field is not optional)");
    return "null";
  }
  if (t.k != kind::error) {
    bool fits = true;
    switch (t.k) {
      case kind::boolean:
        fits = lit.kind == ast::literal_kind::boolean;
        break;
      case kind::integer:
        fits = lit.kind == ast::literal_kind::integer;
        break;
      case kind::decimal:
      case kind::money:
        fits = lit.kind == ast::literal_kind::integer || lit.kind == ast::literal_kind::decimal ||
               lit.kind == ast::literal_kind::money ||
               (lit.kind == ast::literal_kind::text && parse_decimal(unescape(lit.text)));
        break;
      case kind::date:
        fits = lit.kind == ast::literal_kind::date ||
               (lit.kind == ast::literal_kind::text && parse_date(unescape(lit.text)));
        if (!fits && lit.kind == ast::literal_kind::text && looks_like_date(unescape(lit.text))) {
          return wrong("not a calendar date");
        }
        break;
      case kind::text:
        fits = lit.kind == ast::literal_kind::text;
        break;
      case kind::enumeration: {
        const auto& cases = p_.enums[t.ref].cases;
        fits = lit.kind == ast::literal_kind::text && case_index_[t.ref].count(unescape(lit.text));
        if (!fits && lit.kind == ast::literal_kind::text) {
          std::string list = listing(cases.size(), [&](std::size_t k) { return cases[k]; });
          return wrong(("\"" + unescape(lit.text) + "\", not one of " + list).c_str());
        }
        break;
      }
      default:
        fits = false;
    }
    if (!fits) return wrong("a value of another type");
  }
  switch (lit.kind) {
    case ast::literal_kind::text:
      return json_escape(unescape(lit.text));
    case ast::literal_kind::integer:
    case ast::literal_kind::decimal:
    case ast::literal_kind::boolean:
      return lit.text;
    case ast::literal_kind::money:
      return json_escape(lit.text.substr(0, lit.text.find_first_of(" \t\r\nM")));
    case ast::literal_kind::date:
      if (!parse_date(lit.text))
        error(codes::bad_literal, span(f, lit), lit.text + " is not a calendar date");
      return json_escape(lit.text);
    default:
      error(codes::test_bad_record, span(f, lit), "this value cannot appear in a test record");
      return "null";
  }
}

std::string checker::given_to_json(const ast::json_object& o, std::uint32_t record, file_id f,
                                   const std::string& prefix) {
  std::string out = "{";
  bool first = true;
  std::set<std::string> seen;
  for (const ast::json_member& m : o.members) {
    type t = simple(kind::error);
    if (record != no_index) {
      const record_info& rec = p_.records[record];
      auto fi = field_of(record, m.key.name);
      if (!fi) {
        error(codes::test_bad_record, span(f, m.key),
              "record '" + rec.name + "' has no field '" + m.key.name + "'" +
                  suggest_field(record, m.key.name));
        continue;
      }
      t = rec.fields[*fi].t;
    }
    if (!seen.insert(m.key.name).second) {
      error(codes::test_bad_record, span(f, m.key), "field '" + m.key.name + "' is given twice");
      continue;
    }
    if (!first) out += ",";
    first = false;
    out += json_escape(m.key.name) + ":" + json_value_to_json(m.value, t, f, prefix + m.key.name);
  }
  return out + "}";
}

void checker::check_tests() {
  for (auto& [decl, mod] : test_decls_) {
    file_id f = module_files_[mod];
    test_info info;
    info.module = mod;
    info.name = unescape(decl->name.text);
    info.span = span(f, decl->name);
    clause_set cs = read_clauses(decl->clauses, f, {"as_of"}, "a test");
    const ast::clause* as_of = cs.single["as_of"];
    if (!as_of) {
      error(codes::test_incomplete, info.span, "test " + decl->name.text + " has no 'as_of DATE'");
    } else if (as_of->args.size() != 1 || as_of->args[0].kind != ast::literal_kind::date) {
      error(codes::syntax, span(f, *as_of), "'as_of' takes one date");
    } else if (auto d = parse_date(as_of->args[0].text)) {
      info.as_of = *d;
    } else {
      error(codes::bad_literal, span(f, as_of->args[0]),
            as_of->args[0].text + " is not a calendar date");
    }
    if (p_.input_record == no_index) {
      // An input lost to an unknown type or a syntax error has been reported already.
      if (!lost_inputs_.empty() || !unparsed_.empty()) continue;
      error(codes::test_bad_record, info.span,
            "tests need an 'input' declaration to know the record's type");
    } else {
      info.given_json = given_to_json(decl->given, p_.input_record, f, "");
    }
    if (decl->expects.empty()) {
      error(codes::test_incomplete, info.span, "test " + decl->name.text + " has no 'expect'");
    }
    scope sc;
    sc.module = mod;
    sc.file = f;
    for (const ast::expectation& ex : decl->expects) {
      expectation_info xi;
      xi.span = span(f, ex);
      std::string q = ex.decision.text;
      if (q.find('.') == std::string::npos) q.insert(0, p_.modules[mod].name + ".");
      auto r = rule_by_name_.find(q);
      if (r == rule_by_name_.end()) {
        if (unparsed(ex.decision.text)) continue;
        auto names = [&] {
          std::vector<std::string> out;
          for (const auto& [n, _] : rule_by_name_) out.push_back(n);
          return name_index(std::move(out));
        };
        error(codes::test_unknown_rule, span(f, ex.decision),
              "test expects '" + ex.decision.text + "', which is not a rule" +
                  suggest(rule_names_, names, q));
        continue;
      }
      xi.rule = r->second;
      if (ex.tail.kind == "==") {
        xi.kind = expectation_info::kind_t::equals;
        std::uint32_t v = check_expr(ex.tail.value, sc);
        const expression& ve = at(v);
        if (ve.t.k == kind::error) continue;
        if (ve.o != op::constant) {
          error(codes::test_wrong_value, ve.span, "an expected value must be a constant");
          continue;
        }
        if (!assignable(p_.rules[xi.rule].t, ve.t)) {
          error(codes::test_wrong_value, ve.span,
                "'" + q + "' is " + type_name(p_, p_.rules[xi.rule].t) + ", but the test expects " +
                    type_name(p_, ve.t));
          continue;
        }
        xi.value = ve.value;
        if (p_.rules[xi.rule].t.k == kind::decimal) {
          if (auto* i = std::get_if<std::int64_t>(&xi.value)) xi.value = rational{*i, 1};
        }
      } else if (ex.tail.kind == "undetermined") {
        xi.kind = expectation_info::kind_t::undetermined;
      } else {
        xi.kind = expectation_info::kind_t::missing;
        for (const ast::path& mp : ex.tail.missing) {
          std::string path = mp.text;
          if (path.rfind(p_.input_name + ".", 0) == 0) path = path.substr(p_.input_name.size() + 1);
          std::uint32_t id = resolve_name(p_.input_name + "." + path, span(f, mp), sc, false);
          if (id == no_index) {
            error(codes::test_bad_record, span(f, mp),
                  "'" + mp.text + "' is not a field path of the record");
            continue;
          }
          xi.missing.push_back(path);
        }
        std::sort(xi.missing.begin(), xi.missing.end());
      }
      info.expects.push_back(std::move(xi));
    }
    p_.tests.push_back(std::move(info));
  }
}

}  // namespace dalil::dsl::detail
