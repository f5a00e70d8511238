// Parameter and rule passes: clauses, dated values, periods in force, bodies and exceptions.
#include "dsl/checker_passes.hpp"

namespace dalil::dsl::detail {

// ------------------------------------------------------------------ parameters and rules

void checker::check_parameters() {
  for (auto& [decl, idx] : param_decls_) {
    parameter_info& info = p_.parameters[idx];
    file_id f = module_files_[info.module];
    clause_set cs = read_clauses(decl->clauses, f, {"source", "confidence"}, "a parameter");
    info.source = text_arg(cs.single["source"], f);
    if (!cs.single["source"]) {
      error(codes::no_source, info.span,
            "parameter '" + info.name + "' has no source: cite its legal text");
    }
    info.provisional = provisional_arg(cs.single["confidence"], f);
    auto t = resolve_type(decl->type, f);
    info.t = t ? *t : simple(kind::error);
    scope sc;
    sc.module = info.module;
    sc.file = f;
    std::optional<date> previous;
    for (const ast::dated_value& dv : decl->values) {
      auto d = parse_date(dv.date.text);
      if (!d) {
        error(codes::bad_literal, span(f, dv.date), dv.date.text + " is not a calendar date");
        continue;
      }
      if (previous && *d <= *previous) {
        error(codes::dates_not_increasing, span(f, dv.date),
              "dates of parameter '" + info.name + "' must increase: " + dv.date.text +
                  " comes after " + to_string(*previous));
      }
      previous = d;
      std::uint32_t v = check_expr(dv.value, sc);
      const expression& ve = at(v);
      if (ve.t.k == kind::error) continue;
      if (ve.o != op::constant) {
        error(codes::bad_parameter_value, ve.span, "a parameter's value must be a constant");
        continue;
      }
      if (!assignable(info.t, ve.t)) {
        error(codes::bad_parameter_value, ve.span,
              "parameter '" + info.name + "' is " + type_name(p_, info.t) + ", but this value is " +
                  type_name(p_, ve.t));
        continue;
      }
      constant c = ve.value;
      if (info.t.k == kind::decimal) {
        if (auto* i = std::get_if<std::int64_t>(&c)) c = rational{*i, 1};
      }
      info.values.push_back({*d, c});
    }
  }
}

void checker::check_rules() {
  rule_expressions_.assign(p_.rules.size(), {0, 0});
  // Types first, so that rules can read each other in any order.
  for (auto& [decl, idx] : rule_decls_) {
    rule_info& info = p_.rules[idx];
    auto t = resolve_type(decl->type, module_files_[info.module]);
    info.t = t ? *t : simple(kind::error);
  }
  for (auto& [decl, idx] : rule_decls_) {
    rule_info& info = p_.rules[idx];
    file_id f = module_files_[info.module];
    clause_set cs =
        read_clauses(decl->clauses, f,
                     {"source", "confidence", "explain", "in_force", "title", "period"}, "a rule");
    info.source = text_arg(cs.single["source"], f);
    if (!cs.single["source"]) {
      error(codes::no_source, info.span,
            "rule '" + info.name + "' has no source: cite its legal text");
    }
    info.own_provisional = provisional_arg(cs.single["confidence"], f);
    if (const ast::clause* c = cs.single["in_force"]) {
      std::optional<date> from;
      std::optional<date> until;
      for (std::size_t i = 0; i < c->args.size(); ++i) {
        const ast::clause_arg& a = c->args[i];
        if (a.kind == ast::literal_kind::null && a.text != "provisional" &&
            i + 1 < c->args.size() && c->args[i + 1].kind == ast::literal_kind::date) {
          auto d = parse_date(c->args[i + 1].text);
          // `provisional` after the date: that side of the period rests on a source not found.
          const bool provisional = i + 2 < c->args.size() &&
                                   c->args[i + 2].kind == ast::literal_kind::null &&
                                   c->args[i + 2].text == "provisional";
          if (!d) {
            error(codes::bad_literal, span(f, c->args[i + 1]),
                  c->args[i + 1].text + " is not a calendar date");
          } else if (a.text == "from") {
            from = d;
            info.from_provisional = provisional;
          } else {
            until = d;
            info.until_provisional = provisional;
          }
          i += provisional ? 2 : 1;
        } else if (a.kind == ast::literal_kind::null && a.text == "provisional") {
          error(codes::syntax, span(f, a),
                "'provisional' follows the date it qualifies: 'from DATE provisional'");
        } else {
          error(codes::syntax, span(f, a), "expected 'from DATE' or 'until DATE'");
        }
      }
      if (from && until && *until < *from) {
        error(codes::bad_period, span(f, *c),
              "rule '" + info.name + "' is in force until " + to_string(*until) +
                  ", before it starts on " + to_string(*from));
      }
      info.in_force_from = from;
      info.in_force_until = until;
    }
    info.title = cs.text_of["title"];
    check_languages(info.title, cs.text_span["title"], "the title of rule '" + info.name + "'");
    info.explain = cs.text_of["explain"];
    info.period = cs.text_of["period"];
    if (!info.period.empty()) {
      if (!cs.single["in_force"]) {
        error(codes::period_without_in_force, cs.text_span["period"],
              "rule '" + info.name +
                  "' has 'period' but no 'in_force': it is never outside a period to explain");
      } else {
        check_languages(info.period, cs.text_span["period"],
                        "the period of rule '" + info.name + "'");
        for (const ast::clause& c : decl->clauses) {
          if (c.keyword != "period") continue;
          for (std::size_t i = 1; i < c.args.size(); i += 2) {
            check_period(unescape(c.args[i].text), span(f, c.args[i]), info);
          }
        }
      }
    }
    if (const ast::clause* c = cs.single["in_force"]; c && !c->otherwise.empty()) {
      scope outside_scope;
      outside_scope.module = info.module;
      outside_scope.file = f;
      info.outside = check_otherwise(c->otherwise.front(), info, outside_scope);
    }
    rule_expressions_[idx].first = static_cast<std::uint32_t>(p_.expressions.size());
    std::set<std::uint32_t> rules_read;
    std::set<std::uint32_t> params_read;
    scope sc;
    sc.module = info.module;
    sc.file = f;
    sc.rules_read = &rules_read;
    sc.parameters_read = &params_read;
    for (const ast::clause& c : decl->clauses) {
      if (c.keyword != "explain") continue;
      for (std::size_t i = 1; i < c.args.size(); i += 2) {
        check_template(unescape(c.args[i].text), span(f, c.args[i]), sc);
      }
    }
    rules_read.clear();
    params_read.clear();
    info.body = check_expr(decl->body, sc);
    const expression& body = at(info.body);
    if (!assignable(info.t, body.t)) {
      error(codes::wrong_rule_type, body.span,
            "rule '" + info.name + "' is declared " + type_name(p_, info.t) +
                ", but its value is " + type_name(p_, body.t));
    }
    std::set<std::string> exception_names;
    for (const ast::exception_decl& ex : decl->exceptions) {
      exception_info xi;
      xi.name = ex.name.name;
      xi.span = span(f, ex.name);
      if (!exception_names.insert(xi.name).second) {
        error(codes::duplicate, xi.span, "exception '" + xi.name + "' is declared twice");
      }
      clause_set xcs =
          read_clauses(ex.clauses, f, {"source", "confidence", "explain"}, "an exception");
      xi.explain = xcs.text_of["explain"];
      check_languages(xi.explain, xcs.text_span["explain"],
                      "the explanation of exception '" + xi.name + "'");
      for (const ast::clause& c : ex.clauses) {
        if (c.keyword != "explain") continue;
        for (std::size_t i = 1; i < c.args.size(); i += 2) {
          check_template(unescape(c.args[i].text), span(f, c.args[i]), sc);
        }
      }
      xi.source = text_arg(xcs.single["source"], f);
      if (!xcs.single["source"]) {
        error(codes::no_source, xi.span,
              "exception '" + xi.name + "' has no source: cite its legal text");
      }
      xi.provisional = provisional_arg(xcs.single["confidence"], f);
      xi.condition = check_expr(ex.condition, sc);
      require_bool(xi.condition, "an exception's condition");
      xi.value = check_expr(ex.value, sc);
      if (!assignable(info.t, at(xi.value).t)) {
        error(codes::wrong_rule_type, at(xi.value).span,
              "rule '" + info.name + "' is declared " + type_name(p_, info.t) +
                  ", but exception '" + xi.name + "' gives " + type_name(p_, at(xi.value).t));
      }
      info.exceptions.push_back(std::move(xi));
    }
    rule_expressions_[idx].second = static_cast<std::uint32_t>(p_.expressions.size());
    info.rules_read.assign(rules_read.begin(), rules_read.end());
    info.parameters_read.assign(params_read.begin(), params_read.end());
  }
}

}  // namespace dalil::dsl::detail

namespace dalil::dsl::detail {

std::uint32_t checker::check_otherwise(const ast::expr& e, const rule_info& info, scope& sc) {
  std::set<std::uint32_t> rules_read;
  std::set<std::uint32_t> params_read;
  sc.rules_read = &rules_read;
  sc.parameters_read = &params_read;
  std::uint32_t id = check_expr(e, sc);
  sc.rules_read = nullptr;
  sc.parameters_read = nullptr;
  const expression& x = at(id);
  if (x.t.k == kind::error) return id;
  // Outside its period a rule reads nothing: the value is fixed by the text that closed it.
  const expression* reads = nullptr;
  for_each_expression(p_, {id}, [&](std::uint32_t k) {
    op o = at(k).o;
    if (reads == nullptr &&
        (o == op::fact || o == op::rule || o == op::parameter || o == op::variable)) {
      reads = &at(k);
    }
  });
  if (reads != nullptr) {
    const char* what = reads->o == op::fact        ? "a fact of the record"
                       : reads->o == op::rule      ? "a rule"
                       : reads->o == op::parameter ? "a parameter"
                                                   : "a variable";
    error(codes::otherwise_not_constant, reads->span,
          std::string("the value of rule '") + info.name + "' outside its period reads " + what +
              "; it must be a constant, an enum case or not_encoded \"…\"");
    return error_expr(x.span);
  }
  if (!assignable(info.t, x.t)) {
    error(codes::wrong_rule_type, x.span,
          "rule '" + info.name + "' is declared " + type_name(p_, info.t) +
              ", but its value outside its period is " + type_name(p_, x.t));
    return error_expr(x.span);
  }
  return id;
}

void checker::check_period(const std::string& text, source_span s, const rule_info& info) {
  std::size_t pos = 0;
  std::size_t bad = 0;
  while ((pos = text.find('{', pos)) != std::string::npos) {
    std::size_t close = text.find('}', pos);
    if (close == std::string::npos) {
      error(codes::bad_placeholder, s, "period has a '{' without a closing '}'");
      return;
    }
    std::string name = text.substr(pos + 1, close - pos - 1);
    pos = close + 1;
    std::string message;
    if (name == "from") {
      if (!info.in_force_from) message = "'{from}' but rule '" + info.name + "' has no 'from' date";
    } else if (name == "until") {
      if (!info.in_force_until) {
        message = "'{until}' but rule '" + info.name + "' has no 'until' date";
      }
    } else {
      message =
          "period placeholder '{" + name + "}' names nothing; a period knows {from} and {until}";
    }
    if (!message.empty() && ++bad <= limits::max_reports_per_construct) {
      error(codes::bad_placeholder, s, message);
    }
  }
}

}  // namespace dalil::dsl::detail
