// The checker's passes share one class, `checker`, whose passes live one file each and run in
// the order of checker::run (checker.cpp): declare (modules, types, values), parameters, rules
// (expressions and tables), the rule graph (cycles, evaluation depth, provisional), tests.
// Private to the checker: nothing outside dsl/checker*.cpp includes it.
#pragma once

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dsl/ast.hpp"
#include "dsl/codes.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/limits.hpp"
#include "dsl/program.hpp"
#include "dsl/suggest.hpp"

namespace dalil::dsl::detail {

inline constexpr std::array<std::string_view, 3> languages = {"fr", "ar", "en"};

inline std::string unescape(std::string_view quoted) {
  std::string out;
  if (quoted.size() >= 2) quoted = quoted.substr(1, quoted.size() - 2);
  for (std::size_t i = 0; i < quoted.size(); ++i) {
    if (quoted[i] == '\\' && i + 1 < quoted.size()) {
      char c = quoted[++i];
      out += c == 'n' ? '\n' : (c == 't' ? '\t' : c);
    } else {
      out += quoted[i];
    }
  }
  return out;
}

/// "a, b, c": at most limits::max_listed_names names, then "and N more".
template <typename F>
std::string listing(std::size_t count, F&& name_at) {
  std::string out;
  std::size_t shown = std::min(count, limits::max_listed_names);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i) out += ", ";
    out += name_at(i);
  }
  if (count > shown) out += " and " + std::to_string(count - shown) + " more";
  return out;
}

inline bool is_numeric(kind k) {
  return k == kind::integer || k == kind::decimal;
}

inline type simple(kind k) {
  return type{k, 0, kind::error, false};
}

inline std::vector<std::string_view> split_path(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = text.find('.', start);
    parts.push_back(text.substr(start, dot == std::string_view::npos ? text.npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

struct scope {
  std::uint32_t module = 0;
  file_id file = 0;
  struct variable {
    std::string name;
    type t;
  };
  std::vector<variable> variables;
  std::set<std::uint32_t>* rules_read = nullptr;
  std::set<std::uint32_t>* parameters_read = nullptr;
};

class checker {
 public:
  checker(const std::vector<ast::module>& modules, diagnostics& diags,
          const std::set<std::string>& unparsed)
      : modules_(modules), diags_(diags), unparsed_(unparsed) {}

  std::optional<program> run();

 private:
  source_span span(file_id f, const ast::node& n) const { return {f, n.begin, n.end}; }
  void error(const char* code, source_span s, std::string message) {
    diags_.error(code, s, std::move(message));
  }

  void declare_modules();
  void declare_types();
  void resolve_types();
  void declare_values();
  void check_parameters();
  void check_rules();
  void check_cycles();
  void check_evaluation_depth();
  void check_trace_size();
  void check_tests();
  void compute_provisional();
  void check_labels();

  /// Reads the clauses of a record field into `fi` (title, proof, constraints).
  void read_field_clauses(const ast::field_decl& fd, file_id f, field_info& fi);
  /// Warns (E0404) when `t` has some of fr, ar, en but not all; `what` names its owner.
  void check_languages(const texts& t, source_span s, const std::string& what);
  /// `in_force … otherwise EXPR`: checked as a value of the rule's type that reads nothing.
  std::uint32_t check_otherwise(const ast::expr& e, const rule_info& info, scope& sc);
  void check_period(const std::string& text, source_span s, const rule_info& info);
  /// The reasons per language of `not_encoded fr "…" ar "…" en "…"` (`reason` is the text after
  /// the keyword, starting at `begin` in its file).
  texts read_reasons(std::string_view reason, source_span s);

  std::optional<type> resolve_type(const ast::type_ref& t, file_id f);
  /// Adds a checked expression (its children are added before it, so ids grow upward). Reports
  /// E0310 at the node where the tree first gets deeper than limits::max_expression_depth.
  std::uint32_t add(expression e) {
    std::uint32_t d = 1;
    bool child_too_deep = false;
    for (std::uint32_t a : e.args) {
      d = std::max(d, depth_[a] + 1);
      child_too_deep = child_too_deep || depth_[a] > limits::max_expression_depth;
    }
    if (d > limits::max_expression_depth && !child_too_deep) {
      error(codes::expression_too_deep, e.span,
            "expression nested more than " + std::to_string(limits::max_expression_depth) +
                " levels deep (each operand of a chain of 'and', 'or', '+', '-', '*' or '/' is a "
                "level); split it into rules, or write a long 'and' as all [a, b, …] and a "
                "long 'or' as any [a, b, …]");
    }
    p_.expressions.push_back(std::move(e));
    depth_.push_back(d);
    return static_cast<std::uint32_t>(p_.expressions.size() - 1);
  }
  bool too_deep(std::uint32_t id) const { return depth_[id] > limits::max_expression_depth; }
  const expression& at(std::uint32_t id) const { return p_.expressions[id]; }
  std::uint32_t error_expr(source_span s) {
    expression e;
    e.o = op::constant;
    e.t = simple(kind::error);
    e.span = s;
    return add(std::move(e));
  }

  std::uint32_t check_expr(const ast::expr& e, scope& sc);
  std::uint32_t check_operand(const ast::operand& o, scope& sc);
  std::uint32_t check_literal(const ast::literal& l, scope& sc);
  std::uint32_t check_path(const ast::path& p, scope& sc);
  std::uint32_t check_call(const ast::call& c, scope& sc);
  std::uint32_t check_table(const ast::table& t, scope& sc);
  std::uint32_t binary(const std::string& o, std::uint32_t l, std::uint32_t r, source_span s,
                       source_span op_span);
  std::optional<type> unify(const type& a, const type& b) const;
  bool assignable(const type& to, const type& from) const;
  void require_bool(std::uint32_t id, const char* what);

  /// Resolves a dotted name; returns an expression id, or no_index after reporting (when
  /// `report` is false nothing is reported, for explanation placeholders).
  std::uint32_t resolve_name(std::string_view text, source_span s, scope& sc, bool report);

  struct clause_set {
    std::map<std::string, const ast::clause*> single;
    /// keyword (title, explain, period) -> language -> text; the span of each keyword's first.
    std::map<std::string, dsl::texts> text_of;
    std::map<std::string, source_span> text_span;
  };
  clause_set read_clauses(const std::vector<ast::clause>& clauses, file_id f,
                          const std::set<std::string>& allowed, const char* where);
  std::string text_arg(const ast::clause* c, file_id f);
  bool provisional_arg(const ast::clause* c, file_id f);
  void check_template(const std::string& tmpl, source_span s, scope& sc);
  std::string given_to_json(const ast::json_object& o, std::uint32_t record, file_id f,
                            const std::string& prefix);
  std::string json_value_to_json(const ast::json_value& v, const type& t, file_id f,
                                 const std::string& path);

  const std::vector<ast::module>& modules_;
  diagnostics& diags_;
  /// Names that declarations with syntax errors would have defined: not reported as unknown.
  const std::set<std::string>& unparsed_;
  /// Whether a name, or its first or last part, is one a broken declaration would have defined
  /// (a rule, a type, a module, an enum case, or an input whose type is unknown).
  bool unparsed(std::string_view text) const {
    if (unparsed_.empty() && lost_inputs_.empty()) return false;
    std::string_view first = text.substr(0, text.find('.'));
    std::string_view last = text.substr(text.rfind('.') + 1);
    auto has = [&](std::string_view n) {
      return unparsed_.count(std::string(n)) || lost_inputs_.count(std::string(n));
    };
    return has(text) || has(first) || has(last);
  }
  std::set<std::string> lost_inputs_;  // inputs whose type is unknown: their paths cascade
  program p_;
  std::vector<std::uint32_t> depth_;  // per expression: the levels of its tree
  bool has_cycle_ = false;
  bool chain_too_deep_ = false;  // E0702 reported: the trace bound would only repeat it
  /// Per rule: the expressions added while checking it, [first, second).
  std::vector<std::pair<std::uint32_t, std::uint32_t>> rule_expressions_;

  std::vector<file_id> module_files_;
  std::vector<source_span> module_name_spans_;
  std::vector<std::int64_t> module_index_of_;  // modules_ index -> p_.modules index or -1
  std::map<std::string, std::uint32_t> module_by_name_;
  std::vector<std::set<std::uint32_t>> imports_;
  std::map<std::string, std::uint32_t> enum_by_name_;
  std::map<std::string, std::uint32_t> record_by_name_;
  std::map<std::string, std::uint32_t> document_by_name_;
  std::vector<std::vector<source_span>> field_spans_;  // per record, per field: its name
  std::optional<name_index> document_names_;
  /// Texts (file, offset of their first clause) that had a language refused (E0802).
  std::set<std::pair<file_id, std::uint32_t>> language_refused_;
  std::map<std::string, std::vector<enum_value>> case_owners_;
  std::map<std::string, std::uint32_t> rule_by_name_;  // qualified
  std::map<std::string, std::uint32_t> param_by_name_;
  std::map<std::string, std::uint32_t> fact_by_path_;
  std::vector<std::pair<const ast::rule_decl*, std::uint32_t>> rule_decls_;
  std::vector<std::pair<const ast::parameter_decl*, std::uint32_t>> param_decls_;
  std::vector<std::pair<const ast::record_decl*, file_id>> record_decls_;
  std::vector<std::pair<const ast::input_decl*, file_id>> input_decls_;
  std::vector<std::pair<const ast::test_decl*, std::uint32_t>> test_decls_;

  // Lookups by name that would otherwise scan a declaration's list for every reference.
  std::vector<std::unordered_map<std::string, std::uint32_t>> case_index_;   // per enum
  std::vector<std::unordered_map<std::string, std::uint32_t>> field_index_;  // per record
  std::optional<std::uint32_t> field_of(std::uint32_t record, std::string_view name) const {
    const auto& index = field_index_[record];
    auto it = index.find(std::string(name));
    if (it == index.end()) return std::nullopt;
    return it->second;
  }

  // Candidates for "did you mean", built once per kind of name when first needed (every name
  // of that kind is declared by then).
  suggester suggester_;
  std::optional<name_index> module_names_;
  std::optional<name_index> type_names_;
  std::optional<name_index> function_names_;
  std::optional<name_index> rule_names_;
  std::vector<std::optional<name_index>> value_names_;  // per module: what a path may name
  std::vector<std::optional<name_index>> field_names_;  // per record
  std::vector<std::optional<name_index>> case_names_;   // per enum
  template <typename Build>
  std::string suggest(std::optional<name_index>& cache, Build&& build, std::string_view wrong) {
    if (!cache) cache.emplace(build());
    return suggester_.did_you_mean(*cache, wrong);
  }
  std::string suggest_field(std::uint32_t record, std::string_view wrong) {
    auto names = [&] {
      std::vector<std::string> out;
      for (const auto& fi : p_.records[record].fields) out.push_back(fi.name);
      return name_index(std::move(out));
    };
    return suggest(field_names_[record], names, wrong);
  }
};

}  // namespace dalil::dsl::detail
