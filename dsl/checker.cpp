// The checker: resolves names across modules, types every expression, checks clauses,
// parameters, decision tables, rule cycles, explanation templates and tests.
#include "dsl/checker.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <unordered_map>

#include "dsl/codes.hpp"
#include "dsl/limits.hpp"
#include "dsl/parser.hpp"
#include "dsl/suggest.hpp"
#include "dsl/table_analysis.hpp"

namespace dalil::dsl {

namespace {

constexpr std::array<std::string_view, 3> languages = {"fr", "ar", "en"};

std::string unescape(std::string_view quoted) {
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

bool is_numeric(kind k) {
  return k == kind::integer || k == kind::decimal;
}

type simple(kind k) {
  return type{k, 0, kind::error, false};
}

std::vector<std::string_view> split_path(std::string_view text) {
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

/// The literal an expression consists of, through the precedence levels, if it is one.
const ast::literal* single_literal(const ast::expr& e) {
  const ast::expr* cur = &e;
  while (cur->rest.empty()) {
    if (const auto* lit = boost::get<ast::literal>(&cur->first.get())) return lit;
    const auto* inner = boost::get<ast::x3::forward_ast<ast::expr>>(&cur->first.get());
    if (inner == nullptr) return nullptr;
    cur = &inner->get();
  }
  return nullptr;
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
  void check_tests();
  void compute_provisional();

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
    std::map<std::string, std::string> texts;  // language -> text (title, explain)
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
  /// Per rule: the expressions added while checking it, [first, second).
  std::vector<std::pair<std::uint32_t, std::uint32_t>> rule_expressions_;

  std::vector<file_id> module_files_;
  std::vector<source_span> module_name_spans_;
  std::vector<std::int64_t> module_index_of_;  // modules_ index -> p_.modules index or -1
  std::map<std::string, std::uint32_t> module_by_name_;
  std::vector<std::set<std::uint32_t>> imports_;
  std::map<std::string, std::uint32_t> enum_by_name_;
  std::map<std::string, std::uint32_t> record_by_name_;
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

// ------------------------------------------------------------------ declarations

void checker::declare_modules() {
  module_index_of_.assign(modules_.size(), -1);
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    const ast::module& m = modules_[i];
    file_id f = m.file;
    const std::string& name = m.header.name.name;
    if (auto it = module_by_name_.find(name); it != module_by_name_.end()) {
      diagnostic d{severity::error,
                   codes::duplicate_module,
                   span(f, m.header.name),
                   "module '" + name + "' is defined twice",
                   {}};
      d.notes.push_back({module_name_spans_[it->second], "the other definition"});
      diags_.add(std::move(d));
      continue;
    }
    module_info info;
    info.name = name;
    info.file = f;
    clause_set cs =
        read_clauses(m.header.clauses, f, {"title", "program", "osp", "source"}, "a module");
    info.title = cs.texts;
    info.program = text_arg(cs.single["program"], f);
    info.osp = text_arg(cs.single["osp"], f);
    info.source = text_arg(cs.single["source"], f);
    std::vector<std::string> absent;
    for (const char* lang : {"fr", "ar", "en"}) {
      if (!info.title.count(lang)) absent.emplace_back(lang);
    }
    if (!absent.empty()) {
      std::string message = "module '";
      message += name;
      message += "' has no title in ";
      for (std::size_t k = 0; k < absent.size(); ++k) {
        if (k) message += ", ";
        message += absent[k];
      }
      diags_.warning(codes::missing_title, span(f, m.header.name), message);
    }
    auto idx = static_cast<std::uint32_t>(p_.modules.size());
    module_by_name_[name] = idx;
    module_index_of_[i] = idx;
    module_files_.push_back(f);
    module_name_spans_.push_back(span(f, m.header.name));
    p_.modules.push_back(std::move(info));
  }
  imports_.resize(p_.modules.size());
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    if (module_index_of_[i] < 0) continue;
    auto idx = static_cast<std::uint32_t>(module_index_of_[i]);
    const ast::module& m = modules_[i];
    for (const ast::identifier& imp : m.header.imports) {
      if (imp.name == m.header.name.name) {
        error(codes::self_import, span(m.file, imp), "module '" + imp.name + "' imports itself");
        continue;
      }
      auto it = module_by_name_.find(imp.name);
      if (it == module_by_name_.end()) {
        if (unparsed(imp.name)) continue;
        auto names = [&] {
          std::vector<std::string> out;
          for (const auto& [n, _] : module_by_name_) out.push_back(n);
          return name_index(std::move(out));
        };
        error(codes::unknown_module, span(m.file, imp),
              "import of unknown module '" + imp.name + "'" +
                  suggest(module_names_, names, imp.name));
        continue;
      }
      imports_[idx].insert(it->second);
    }
  }
}

/// Names of values start lowercase, names of types uppercase (docs/language.md).
bool value_name(const std::string& n) {
  return !n.empty() && (std::islower(static_cast<unsigned char>(n[0])) || n[0] == '_');
}
bool type_like_name(const std::string& n) {
  return !n.empty() && std::isupper(static_cast<unsigned char>(n[0]));
}

void checker::declare_types() {
  for (const ast::module& m : modules_) {
    auto value = [&](const ast::identifier& id, const char* what) {
      if (!value_name(id.name)) {
        error(codes::syntax, span(m.file, id),
              std::string(what) + " names start with a lowercase letter: '" + id.name + "'");
      }
    };
    auto type_ = [&](const ast::identifier& id) {
      if (!type_like_name(id.name)) {
        error(codes::syntax, span(m.file, id),
              "type names start with an uppercase letter: '" + id.name + "'");
      }
    };
    value(m.header.name, "module");
    for (const ast::item& it : m.items) {
      if (const auto* e = boost::get<ast::enum_decl>(&it.get())) {
        type_(e->name);
        for (const auto& c : e->cases) value(c, "enum case");
      } else if (const auto* r = boost::get<ast::record_decl>(&it.get())) {
        type_(r->name);
        for (const auto& f : r->fields) value(f.name, "field");
      } else if (const auto* in = boost::get<ast::input_decl>(&it.get())) {
        value(in->name, "input");
      } else if (const auto* pd = boost::get<ast::parameter_decl>(&it.get())) {
        value(pd->name, "parameter");
      } else if (const auto* rd = boost::get<ast::rule_decl>(&it.get())) {
        value(rd->name, "rule");
        for (const auto& x : rd->exceptions) value(x.name, "exception");
      }
    }
  }
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    if (module_index_of_[i] < 0) continue;
    const ast::module& m = modules_[i];
    for (const ast::item& it : m.items) {
      if (const auto* e = boost::get<ast::enum_decl>(&it.get())) {
        if (enum_by_name_.count(e->name.name) || record_by_name_.count(e->name.name)) {
          error(codes::duplicate, span(m.file, e->name),
                "type '" + e->name.name + "' is declared twice");
          continue;
        }
        enum_info info{e->name.name, {}, span(m.file, *e)};
        auto id = static_cast<std::uint32_t>(p_.enums.size());
        std::set<std::string> seen;
        for (const ast::identifier& c : e->cases) {
          if (!seen.insert(c.name).second) {
            error(codes::duplicate, span(m.file, c),
                  "case '" + c.name + "' appears twice in enum '" + e->name.name + "'");
            continue;
          }
          case_owners_[c.name].push_back({id, static_cast<std::uint32_t>(info.cases.size())});
          info.cases.push_back(c.name);
        }
        enum_by_name_[info.name] = id;
        case_index_.emplace_back();
        for (std::uint32_t k = 0; k < info.cases.size(); ++k) case_index_.back()[info.cases[k]] = k;
        p_.enums.push_back(std::move(info));
      } else if (const auto* r = boost::get<ast::record_decl>(&it.get())) {
        if (enum_by_name_.count(r->name.name) || record_by_name_.count(r->name.name)) {
          error(codes::duplicate, span(m.file, r->name),
                "type '" + r->name.name + "' is declared twice");
          continue;
        }
        record_by_name_[r->name.name] = static_cast<std::uint32_t>(p_.records.size());
        p_.records.push_back(record_info{r->name.name, {}, span(m.file, *r)});
        record_decls_.emplace_back(r, m.file);
      } else if (const auto* in = boost::get<ast::input_decl>(&it.get())) {
        input_decls_.emplace_back(in, m.file);
      }
    }
  }
}

std::optional<type> checker::resolve_type(const ast::type_ref& t, file_id f) {
  static const std::map<std::string, kind> builtin = {
      {"bool", kind::boolean}, {"int", kind::integer}, {"decimal", kind::decimal},
      {"money", kind::money},  {"date", kind::date},   {"duration", kind::duration},
      {"text", kind::text}};
  type out;
  const std::string& n = t.name.name;
  if (auto b = builtin.find(n); b != builtin.end()) {
    out.k = b->second;
  } else if (auto e = enum_by_name_.find(n); e != enum_by_name_.end()) {
    out.k = kind::enumeration;
    out.ref = e->second;
  } else if (auto r = record_by_name_.find(n); r != record_by_name_.end()) {
    out.k = kind::record;
    out.ref = r->second;
  } else {
    if (unparsed(n)) return std::nullopt;
    auto names = [&] {
      std::vector<std::string> out;
      out.reserve(builtin.size() + enum_by_name_.size() + record_by_name_.size());
      for (const auto& [k, _] : builtin) out.push_back(k);
      for (const auto& [k, _] : enum_by_name_) out.push_back(k);
      for (const auto& [k, _] : record_by_name_) out.push_back(k);
      return name_index(std::move(out));
    };
    error(codes::unknown_type, span(f, t.name),
          "unknown type '" + n + "'" + suggest(type_names_, names, n));
    return std::nullopt;
  }
  if (t.is_list) {
    out.element = out.k;
    out.k = kind::list;
  }
  out.optional = t.optional;
  return out;
}

void checker::resolve_types() {
  field_index_.resize(p_.records.size());
  field_names_.resize(p_.records.size());
  case_names_.resize(p_.enums.size());
  value_names_.resize(p_.modules.size());
  for (auto& [decl, f] : record_decls_) {
    record_info& info = p_.records[record_by_name_[decl->name.name]];
    std::set<std::string> seen;
    for (const ast::field_decl& fd : decl->fields) {
      if (!seen.insert(fd.name.name).second) {
        error(codes::duplicate, span(f, fd.name),
              "field '" + fd.name.name + "' appears twice in record '" + decl->name.name + "'");
        continue;
      }
      auto t = resolve_type(fd.type, f);
      field_index_[record_by_name_[decl->name.name]].emplace(
          fd.name.name, static_cast<std::uint32_t>(info.fields.size()));
      info.fields.push_back({fd.name.name, t ? *t : simple(kind::error)});
    }
  }
  for (auto& [decl, f] : input_decls_) {
    if (!p_.input_name.empty()) {
      error(codes::duplicate, span(f, decl->name),
            "input '" + decl->name.name + "' declared, but the pack already has input '" +
                p_.input_name + "'");
      continue;
    }
    auto t = resolve_type(decl->type, f);
    if (!t) {
      // Every path from the input would be an unknown name: the type's error says it all.
      lost_inputs_.insert(decl->name.name);
      continue;
    }
    if (t->k != kind::record || t->optional) {
      lost_inputs_.insert(decl->name.name);
      error(codes::not_a_record, span(f, decl->type), "an input must be a record type");
      continue;
    }
    p_.input_name = decl->name.name;
    p_.input_record = t->ref;
  }
}

void checker::declare_values() {
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    if (module_index_of_[i] < 0) continue;
    auto mod = static_cast<std::uint32_t>(module_index_of_[i]);
    const ast::module& m = modules_[i];
    std::set<std::string> tests_seen;
    for (const ast::item& it : m.items) {
      // Rules and parameters share one namespace per module: the qualified name, or nullopt
      // (reported) when it is taken.
      auto claim = [&](const ast::identifier& name) -> std::optional<std::string> {
        std::string q = p_.modules[mod].name + "." + name.name;
        if (rule_by_name_.count(q) || param_by_name_.count(q)) {
          error(codes::duplicate, span(m.file, name),
                "'" + name.name + "' is declared twice in module '" + p_.modules[mod].name + "'");
          return std::nullopt;
        }
        return q;
      };
      if (const auto* r = boost::get<ast::rule_decl>(&it.get())) {
        auto q = claim(r->name);
        if (!q) continue;
        rule_info info;
        info.module = mod;
        info.name = r->name.name;
        info.qualified = *q;
        info.span = span(m.file, r->name);
        rule_by_name_[*q] = static_cast<std::uint32_t>(p_.rules.size());
        rule_decls_.emplace_back(r, static_cast<std::uint32_t>(p_.rules.size()));
        p_.rules.push_back(std::move(info));
      } else if (const auto* pd = boost::get<ast::parameter_decl>(&it.get())) {
        auto q = claim(pd->name);
        if (!q) continue;
        parameter_info info;
        info.module = mod;
        info.name = pd->name.name;
        info.qualified = *q;
        info.span = span(m.file, pd->name);
        param_by_name_[*q] = static_cast<std::uint32_t>(p_.parameters.size());
        param_decls_.emplace_back(pd, static_cast<std::uint32_t>(p_.parameters.size()));
        p_.parameters.push_back(std::move(info));
      } else if (const auto* t = boost::get<ast::test_decl>(&it.get())) {
        if (!tests_seen.insert(t->name.text).second) {
          error(codes::duplicate, span(m.file, t->name),
                "test " + t->name.text + " is declared twice");
          continue;
        }
        test_decls_.emplace_back(t, mod);
      }
    }
  }
}

// ------------------------------------------------------------------ clauses

checker::clause_set checker::read_clauses(const std::vector<ast::clause>& clauses, file_id f,
                                          const std::set<std::string>& allowed, const char* where) {
  clause_set out;
  for (const ast::clause& c : clauses) {
    if (!allowed.count(c.keyword)) {
      error(codes::syntax, span(f, c), "'" + c.keyword + "' is not allowed on " + where);
      continue;
    }
    if (c.keyword == "title" || c.keyword == "explain") {
      if (c.args.empty() || c.args.size() % 2 != 0) {
        error(
            codes::syntax, span(f, c),
            "'" + c.keyword + "' takes pairs of a language and a text: fr \"…\" ar \"…\" en \"…\"");
        continue;
      }
      for (std::size_t i = 0; i + 1 < c.args.size(); i += 2) {
        const ast::clause_arg& lang = c.args[i];
        const ast::clause_arg& text = c.args[i + 1];
        if (lang.kind != ast::literal_kind::null || text.kind != ast::literal_kind::text) {
          error(codes::syntax, span(f, lang),
                "expected a language (fr, ar, en) followed by a text");
          continue;
        }
        if (std::find(languages.begin(), languages.end(), lang.text) == languages.end()) {
          error(codes::unknown_language, span(f, lang),
                "unknown language '" + lang.text + "'; the languages are fr, ar and en");
          continue;
        }
        if (!out.texts.emplace(lang.text, unescape(text.text)).second) {
          error(codes::clause_twice, span(f, lang),
                "'" + c.keyword + "' gives language '" + lang.text + "' twice");
        }
      }
      continue;
    }
    if (!out.single.emplace(c.keyword, &c).second) {
      error(codes::clause_twice, span(f, c), "clause '" + c.keyword + "' is given twice");
    }
  }
  return out;
}

std::string checker::text_arg(const ast::clause* c, file_id f) {
  if (c == nullptr) return {};
  if (c->args.size() != 1 || c->args[0].kind != ast::literal_kind::text) {
    error(codes::syntax, span(f, *c), "'" + c->keyword + "' takes one text in double quotes");
    return {};
  }
  return unescape(c->args[0].text);
}

bool checker::provisional_arg(const ast::clause* c, file_id f) {
  if (c == nullptr) return false;
  if (c->args.size() == 1 && c->args[0].kind == ast::literal_kind::null) {
    if (c->args[0].text == "provisional") return true;
    if (c->args[0].text == "verified") return false;
  }
  error(codes::syntax, span(f, *c), "'confidence' takes 'verified' or 'provisional'");
  return false;
}

void checker::check_template(const std::string& tmpl, source_span s, scope& sc) {
  // Every placeholder's diagnostic has the text's span: past a few, one note counts the rest.
  std::vector<diagnostic> shown;
  std::size_t bad = 0;
  auto flag = [&](std::string message) {
    if (++bad <= limits::max_reports_per_construct) {
      shown.push_back({severity::error, codes::bad_placeholder, s, std::move(message), {}});
    }
  };
  std::size_t pos = 0;
  while ((pos = tmpl.find('{', pos)) != std::string::npos) {
    std::size_t close = tmpl.find('}', pos);
    if (close == std::string::npos) {
      flag("explanation has a '{' without a closing '}'");
      break;
    }
    std::string name = tmpl.substr(pos + 1, close - pos - 1);
    pos = close + 1;
    if (name == "value") continue;
    if (resolve_name(name, s, sc, false) == no_index) {
      flag("explanation placeholder '{" + name + "}' names nothing");
    }
  }
  if (bad > shown.size()) {
    shown.back().notes.push_back(
        {s, "and " + std::to_string(bad - shown.size()) + " more placeholders that name nothing"});
  }
  for (diagnostic& d : shown) diags_.add(std::move(d));
}

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
      e.value = unescape(l.text.substr(l.text.find('"')));
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
    if (inserted) p_.facts.push_back({path, fields, *t});
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
    if (auto id = value_ref(here + "." + first); id != no_index) return id;
    auto owners = case_owners_.find(first);
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
    const ast::literal* lit = single_literal(row.condition);
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
  for (const table_overlap& o : report.overlaps) {
    diagnostic d{severity::error,
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
  if (!has_otherwise) {
    if (!report.analysable) {
      error(codes::table_gap, s,
            "this table has no 'otherwise' row and its rows cannot be shown to cover every "
            "case; add '| otherwise => …'");
    } else if (!report.gap.empty()) {
      error(codes::table_gap, s,
            "no row covers " + report.gap + "; add a row or '| otherwise => …'");
    }
  }
  return add(std::move(e));
}

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
        read_clauses(decl->clauses, f, {"source", "confidence", "explain", "in_force"}, "a rule");
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
        if (a.kind == ast::literal_kind::null && i + 1 < c->args.size() &&
            c->args[i + 1].kind == ast::literal_kind::date) {
          auto d = parse_date(c->args[i + 1].text);
          if (!d) {
            error(codes::bad_literal, span(f, c->args[i + 1]),
                  c->args[i + 1].text + " is not a calendar date");
          } else if (a.text == "from") {
            from = d;
          } else {
            until = d;
          }
          ++i;
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
    info.explain = cs.texts;
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
      clause_set xcs = read_clauses(ex.clauses, f, {"source", "confidence"}, "an exception");
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

/// Depth-first over the rules read, with an explicit stack (a chain of rules may be as long as
/// the pack): every rule lands in rule_order after the rules it reads, and each edge back to a
/// rule on the current path is a cycle. Long cycles are shown by their ends; past
/// limits::max_reports_per_construct cycles, one note says how many more there are.
void checker::check_cycles() {
  enum class mark : std::uint8_t { none, active, done };
  const std::size_t n = p_.rules.size();
  std::vector<mark> marks(n, mark::none);
  std::vector<std::uint32_t> position(n, 0);  // index on `path` of an active rule
  std::vector<std::uint32_t> path;
  std::vector<std::size_t> next_read;  // per entry of `path`: the next rules_read to follow
  std::size_t cycles = 0;
  std::vector<diagnostic> shown;
  auto report = [&](std::uint32_t d) {
    ++cycles;
    if (cycles > limits::max_reports_per_construct) return;
    std::size_t from = position[d];
    std::size_t length = path.size() - from;
    std::string chain;
    for (std::size_t k = from; k < path.size(); ++k) {
      std::size_t i = k - from;
      if (length > 2 * limits::max_listed_names && i == limits::max_listed_names) {
        std::size_t skip = length - 2 * limits::max_listed_names;
        chain += "… (" + std::to_string(skip) + " more) -> ";
        k += skip - 1;
        continue;
      }
      chain += p_.rules[path[k]].qualified + " -> ";
    }
    chain += p_.rules[d].qualified;
    shown.push_back({severity::error,
                     codes::rule_cycle,
                     p_.rules[d].span,
                     "rules read each other in a cycle: " + chain,
                     {}});
  };
  for (std::uint32_t root = 0; root < n; ++root) {
    if (marks[root] != mark::none) continue;
    marks[root] = mark::active;
    position[root] = 0;
    path.push_back(root);
    next_read.push_back(0);
    while (!path.empty()) {
      std::uint32_t r = path.back();
      const std::vector<std::uint32_t>& reads = p_.rules[r].rules_read;
      if (next_read.back() < reads.size()) {
        std::uint32_t d = reads[next_read.back()++];
        if (marks[d] == mark::active) {
          report(d);
        } else if (marks[d] == mark::none) {
          marks[d] = mark::active;
          position[d] = static_cast<std::uint32_t>(path.size());
          path.push_back(d);
          next_read.push_back(0);
        }
        continue;
      }
      path.pop_back();
      next_read.pop_back();
      marks[r] = mark::done;
      p_.rule_order.push_back(r);
    }
  }
  if (cycles > shown.size()) {
    shown.back().notes.push_back(
        {shown.back().span,
         "and " + std::to_string(cycles - shown.size()) + " more cycles between rules"});
  }
  has_cycle_ = cycles > 0;
  for (diagnostic& d : shown) diags_.add(std::move(d));
}

/// The evaluators recurse through a rule's expression tree and, at each rule it reads, through
/// that rule's tree: bound the sum along every such path (E0702), reported once, at the first
/// rule of a chain that exceeds the limit. Iterative, in dependency order.
void checker::check_evaluation_depth() {
  if (has_cycle_) return;  // depths along a cycle mean nothing; E0701 says what to fix
  std::vector<std::uint32_t> rule_depth(p_.rules.size(), 0);
  std::vector<std::uint32_t> rule_via(p_.rules.size(), no_index);  // the rule on its deepest path
  std::vector<std::uint32_t> depth(p_.expressions.size(), 0);
  std::vector<std::uint32_t> via(p_.expressions.size(), no_index);
  const std::uint32_t limit = limits::max_evaluation_depth;
  for (std::uint32_t r : p_.rule_order) {
    auto [first, last] = rule_expressions_[r];
    for (std::uint32_t id = first; id < last; ++id) {
      const expression& x = at(id);
      std::uint32_t d = 1;
      std::uint32_t v = no_index;
      for (std::uint32_t a : x.args) {
        if (depth[a] + 1 > d) {
          d = depth[a] + 1;
          v = via[a];
        }
      }
      if (x.o == op::rule) {
        d = 1 + rule_depth[x.ref];
        v = x.ref;
      }
      depth[id] = d;
      via[id] = v;
    }
    for (std::uint32_t root : expression_roots(p_.rules[r])) {
      if (depth[root] > rule_depth[r]) {
        rule_depth[r] = depth[root];
        rule_via[r] = via[root];
      }
    }
    std::uint32_t next = rule_via[r];
    if (rule_depth[r] <= limit || (next != no_index && rule_depth[next] > limit)) continue;
    bool reported = false;  // an expression of the rule itself is too deep (E0310)
    for (std::uint32_t id = first; id < last && !reported; ++id) reported = too_deep(id);
    if (reported) continue;
    std::string chain = p_.rules[r].qualified;
    for (int shown = 0; next != no_index; next = rule_via[next]) {
      if (++shown > 4) {
        chain += " -> …";
        break;
      }
      chain += " -> " + p_.rules[next].qualified;
    }
    error(codes::rule_chain_too_deep, p_.rules[r].span,
          "rule '" + p_.rules[r].name + "' is evaluated through " + std::to_string(rule_depth[r]) +
              " nested levels of rules and operators (" + chain + "), more than the limit of " +
              std::to_string(limit) + "; shorten the chain of rules that read each other");
  }
}

void checker::compute_provisional() {
  for (std::uint32_t r : p_.rule_order) {
    rule_info& info = p_.rules[r];
    bool prov = info.own_provisional;
    for (std::uint32_t q : info.parameters_read) prov = prov || p_.parameters[q].provisional;
    for (std::uint32_t d : info.rules_read) prov = prov || p_.rules[d].provisional;
    for (const exception_info& x : info.exceptions) prov = prov || x.provisional;
    info.provisional = prov;
  }
}

// ------------------------------------------------------------------ tests

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

std::optional<program> checker::run() {
  declare_modules();
  declare_types();
  resolve_types();
  declare_values();
  check_parameters();
  check_rules();
  check_cycles();
  check_evaluation_depth();
  compute_provisional();
  check_tests();
  if (diags_.has_errors()) return std::nullopt;
  return std::move(p_);
}

}  // namespace

std::vector<file_id> load_sources(const std::filesystem::path& root, source_map& sources,
                                  diagnostics& diags) {
  std::vector<std::filesystem::path> paths;
  std::error_code ec;
  if (std::filesystem::is_directory(root, ec)) {
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().extension() == ".dalil") paths.push_back(it->path());
    }
    std::sort(paths.begin(), paths.end());
  } else {
    paths.push_back(root);
  }
  std::vector<file_id> files;
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      file_id f = sources.add(p.string(), "");
      diags.error("E0005", {f, 0, 0}, "cannot read " + p.string());
      continue;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    files.push_back(sources.add(p.string(), std::move(ss).str()));
  }
  return files;
}

std::optional<program> check(const source_map& /*sources*/, const std::vector<ast::module>& modules,
                             diagnostics& diags) {
  // Spans carry their file; the source map is needed only to render the diagnostics.
  static const std::set<std::string> none;
  return checker(modules, diags, none).run();
}

namespace {

/// The names a file declares, read from its text line by line (the first word of a line, then
/// a name): what its declarations would have defined had they all parsed. Enum cases too.
std::set<std::string> declared_names(std::string_view text) {
  static constexpr std::array<std::string_view, 7> keywords = {
      "module", "import", "enum", "record", "input", "parameter", "rule"};
  std::set<std::string> out;
  auto is_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  auto word_at = [&](std::size_t& i) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < text.size() && is_name(text[i])) ++i;
    return text.substr(start, i - start);
  };
  std::size_t line = 0;
  while (line < text.size()) {
    std::size_t i = line;
    std::string_view keyword = word_at(i);
    bool declares = std::find(keywords.begin(), keywords.end(), keyword) != keywords.end();
    if (declares) {
      std::string_view name = word_at(i);
      if (!name.empty()) out.emplace(name);
      if (keyword == "enum") {
        // The cases, up to the closing brace or the next line that starts a declaration.
        std::size_t end = text.find('}', i);
        std::size_t next = std::string_view::npos;
        for (std::string_view k : keywords)
          next = std::min(next, text.find("\n" + std::string(k) + " ", i));
        end = std::min(end, next);
        while (i < end && i < text.size()) {
          if (is_name(text[i])) {
            std::string_view c = word_at(i);
            out.emplace(c);
          } else {
            ++i;
          }
        }
      }
    }
    std::size_t nl = text.find('\n', line);
    if (nl == std::string_view::npos) break;
    line = nl + 1;
  }
  return out;
}

}  // namespace

std::optional<program> load_and_check(const std::filesystem::path& root, source_map& sources,
                                      std::vector<ast::module>& modules, diagnostics& diags) {
  std::vector<file_id> files = load_sources(root, sources, diags);
  // Declarations that parsed are checked even when others did not; the names the broken ones
  // would have defined (read from the text of the files with syntax errors) are not reported
  // as unknown, so that one syntax error does not bring a cascade of unknown names.
  std::set<std::string> unparsed;
  for (file_id f : files) {
    std::size_t before = diags.error_count();
    auto m = parse(sources, f, diags);
    if (m) modules.push_back(std::move(*m));
    if (diags.error_count() != before) {
      std::set<std::string> names = declared_names(sources.text(f));
      unparsed.insert(names.begin(), names.end());
    }
  }
  auto program = checker(modules, diags, unparsed).run();
  if (diags.has_errors()) return std::nullopt;
  return program;
}

}  // namespace dalil::dsl
