// fmt_property_violation: parse, format, re-parse, re-format, check both, compare.
#include "tests/support/fmt_property.hpp"

#include <memory>
#include <variant>

#include "dsl/checker.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/formatter.hpp"
#include "dsl/parser.hpp"
#include "engine/session.hpp"
#include "engine/sha256.hpp"

namespace dalil::testing {

namespace {

struct pass {
  dsl::source_map sources;
  dsl::diagnostics parse_diags;
  dsl::diagnostics check_diags;
  std::vector<dsl::ast::module> modules;
  std::optional<dsl::program> prog;
  bool parsed = false;
};

std::unique_ptr<pass> run(const std::vector<source_file>& pack) {
  auto r = std::make_unique<pass>();
  r->parsed = true;
  for (const source_file& s : pack) {
    dsl::file_id f = r->sources.add(s.name, s.text);
    std::size_t before = r->parse_diags.error_count();
    auto m = dsl::parse(r->sources, f, r->parse_diags);
    if (!m || r->parse_diags.error_count() != before) {
      r->parsed = false;
      continue;
    }
    r->modules.push_back(std::move(*m));
  }
  if (r->parsed) {
    r->prog = dsl::check(r->sources, r->modules, r->check_diags);
    r->check_diags.sort();
  }
  return r;
}

std::string diagnostic_list(const dsl::diagnostics& d) {
  std::string out;
  for (const dsl::diagnostic& x : d.all()) {
    out += (x.level == dsl::severity::error ? "error[" : "warning[") + x.code + "] " + x.message;
    for (const dsl::note& n : x.notes) out += " / note: " + n.message;
    out += '\n';
  }
  out += "(" + std::to_string(d.error_count()) + " errors, " + std::to_string(d.warning_count()) +
         " warnings)\n";
  return out;
}

std::string type_dump(const dsl::type& t) {
  return "T" + std::to_string(static_cast<int>(t.k)) + "." + std::to_string(t.ref) + "." +
         std::to_string(static_cast<int>(t.element)) + (t.optional ? "?" : "");
}

std::string constant_dump(const dsl::constant& c) {
  struct visitor {
    std::string operator()(dsl::null_value) const { return "null"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return "int " + std::to_string(i); }
    std::string operator()(rational r) const {
      return "rat " + std::to_string(r.num) + "/" + std::to_string(r.den);
    }
    std::string operator()(date d) const { return "date " + to_string(d); }
    std::string operator()(duration d) const { return "dur " + to_string(d); }
    std::string operator()(const std::string& s) const { return "text \"" + s + "\""; }
    std::string operator()(dsl::enum_value e) const {
      return "enum " + std::to_string(e.enum_id) + "." + std::to_string(e.index);
    }
  };
  return std::visit(visitor{}, c);
}

std::string texts_dump(const dsl::texts& t) {
  std::string out;
  for (const auto& [lang, text] : t) out += " " + lang + "=\"" + text + "\"";
  return out;
}

std::string constraint_dump(const dsl::value_constraint& c) {
  std::string out;
  if (c.at_least) out += " at_least=" + to_string(*c.at_least);
  if (c.at_most) out += " at_most=" + to_string(*c.at_most);
  if (c.not_after_as_of) out += " not_after_as_of";
  return out;
}

template <typename T>
std::string list(const std::vector<T>& xs) {
  std::string out = "[";
  for (const T& x : xs) out += std::to_string(x) + ",";
  return out + "]";
}

/// The tree under expression `id`, indented; children in order.
void expression_dump(const dsl::program& p, std::uint32_t id, int depth, std::string& out) {
  const dsl::expression& e = p.expressions.at(id);
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
  out += "op" + std::to_string(static_cast<int>(e.o)) + " " + type_dump(e.t) +
         " ref=" + std::to_string(e.ref) + " fields=" + list(e.fields) + " " +
         constant_dump(e.value) + texts_dump(e.reason) + "\n";
  for (std::uint32_t child : e.args) expression_dump(p, child, depth + 1, out);
}

}  // namespace

std::string program_dump(const dsl::program& p) {
  std::string out;
  for (const auto& m : p.modules) {
    out += "module " + m.name + " program=" + m.program + " osp=" + m.osp + " source=" + m.source;
    for (const auto& [lang, text] : m.title)
      out.append(" title.").append(lang).append("=").append(text);
    out += "\n";
  }
  for (const auto& d : p.documents) out += "document " + d.name + texts_dump(d.title) + "\n";
  for (const auto& e : p.enums) {
    out += "enum " + e.name;
    for (std::size_t i = 0; i < e.cases.size(); ++i) {
      out += " " + e.cases[i] + (i < e.case_titles.size() ? texts_dump(e.case_titles[i]) : "");
    }
    out += "\n";
  }
  for (const auto& r : p.records) {
    out += "record " + r.name;
    for (const auto& f : r.fields) {
      out += " " + f.name + ":" + type_dump(f.t) + texts_dump(f.title) +
             " proof=" + std::to_string(f.proof) + constraint_dump(f.constraint);
    }
    out += "\n";
  }
  out += "input " + p.input_name + " " + std::to_string(p.input_record) + "\n";
  for (const auto& f : p.facts)
    out += "fact " + f.path + " " + list(f.fields) + type_dump(f.t) + texts_dump(f.title) +
           " proof=" + std::to_string(f.proof) + constraint_dump(f.constraint) + "\n";
  for (const auto& x : p.parameters) {
    out += "parameter " + x.qualified + " " + std::to_string(x.module) + " " + type_dump(x.t) +
           " source=" + x.source + (x.provisional ? " provisional" : "") + "\n";
    for (const auto& v : x.values)
      out += "  from " + to_string(v.from) + " " + constant_dump(v.value) + "\n";
  }
  for (const auto& r : p.rules) {
    out += "rule " + r.qualified + " " + std::to_string(r.module) + " " + type_dump(r.t) +
           " source=" + r.source + (r.own_provisional ? " own_provisional" : "") +
           (r.provisional ? " provisional" : "") +
           " from=" + (r.in_force_from ? to_string(*r.in_force_from) : "-") +
           (r.from_provisional ? " provisional" : "") +
           " until=" + (r.in_force_until ? to_string(*r.in_force_until) : "-") +
           (r.until_provisional ? " provisional" : "") + " reads=" + list(r.rules_read) +
           " params=" + list(r.parameters_read) + "\n";
    for (const auto& [lang, text] : r.explain) {
      out.append("  explain.").append(lang).append("=").append(text).append("\n");
    }
    out += "  title" + texts_dump(r.title) + " period" + texts_dump(r.period) + "\n";
    if (r.outside != dsl::no_index) {
      out += "  outside\n";
      expression_dump(p, r.outside, 2, out);
    }
    expression_dump(p, r.body, 1, out);
    for (const auto& x : r.exceptions) {
      out += "  exception " + x.name + " source=" + x.source +
             (x.provisional ? " provisional" : "") + texts_dump(x.explain) + "\n";
      expression_dump(p, x.condition, 2, out);
      expression_dump(p, x.value, 2, out);
    }
  }
  out += "order " + list(p.rule_order) + "\n";
  for (const auto& t : p.tests) {
    out += "test " + std::to_string(t.module) + " " + t.name + " " + to_string(t.as_of) + " " +
           t.given_json + "\n";
    for (const auto& e : t.expects) {
      out += "  expect " + std::to_string(e.rule) + " " + std::to_string(static_cast<int>(e.kind)) +
             " " + constant_dump(e.value);
      for (const auto& m : e.missing) out += " " + m;
      out += "\n";
    }
  }
  return out;
}

std::optional<std::string> fmt_property_violation(std::string_view source_text) {
  return fmt_property_violation(std::vector<source_file>{{"t.dalil", std::string(source_text)}});
}

std::optional<std::string> fmt_property_violation(const std::vector<source_file>& pack) {
  auto original = run(pack);
  if (!original->parsed) return std::nullopt;  // fmt leaves a file that does not parse alone
  std::vector<source_file> formatted;
  for (const dsl::ast::module& m : original->modules) {
    formatted.push_back({original->sources.name(m.file), dsl::format(original->sources, m)});
  }
  auto again = run(formatted);
  if (!again->parsed) {
    again->parse_diags.sort();
    return "the formatted text does not parse:\n" +
           dsl::render_all(again->sources, again->parse_diags) + "formatted text:\n" +
           formatted.front().text;
  }
  for (std::size_t i = 0; i < again->modules.size(); ++i) {
    std::string twice = dsl::format(again->sources, again->modules[i]);
    if (twice != formatted[i].text) {
      return "fmt is not idempotent for " + formatted[i].name + ":\nonce:\n" + formatted[i].text +
             "twice:\n" + twice;
    }
  }
  std::string before = diagnostic_list(original->check_diags);
  std::string after = diagnostic_list(again->check_diags);
  if (before != after) {
    return "the formatted text gives other diagnostics:\noriginal:\n" + before + "formatted:\n" +
           after + "formatted text:\n" + formatted.front().text;
  }
  if (original->prog.has_value() != again->prog.has_value()) {
    return std::string("only one of the original and the formatted text checks clean");
  }
  if (!original->prog) return std::nullopt;
  std::string hash_before =
      engine::sha256_hex(engine::canonical_source(original->sources, original->modules));
  std::string hash_after =
      engine::sha256_hex(engine::canonical_source(again->sources, again->modules));
  if (hash_before != hash_after) {
    return "the ruleset hash changes: " + hash_before + " then " + hash_after;
  }
  std::string dump_before = program_dump(*original->prog);
  std::string dump_after = program_dump(*again->prog);
  if (dump_before != dump_after) {
    return "the checked program changes:\noriginal:\n" + dump_before + "formatted:\n" + dump_after +
           "formatted text:\n" + formatted.front().text;
  }
  return std::nullopt;
}

}  // namespace dalil::testing
