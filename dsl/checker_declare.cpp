// Declaration passes: modules and imports, types, record fields and the input, rules,
// parameters and tests by name; clauses; explanation templates.
#include "dsl/checker_passes.hpp"

#include <cctype>

namespace dalil::dsl::detail {

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
    info.title = cs.text_of["title"];
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

namespace {

/// Names of values start lowercase, names of types uppercase (docs/language.md).
bool value_name(const std::string& n) {
  return !n.empty() && (std::islower(static_cast<unsigned char>(n[0])) || n[0] == '_');
}
bool type_like_name(const std::string& n) {
  return !n.empty() && std::isupper(static_cast<unsigned char>(n[0]));
}

}  // namespace

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
        for (const auto& c : e->cases) value(c.name, "enum case");
      } else if (const auto* r = boost::get<ast::record_decl>(&it.get())) {
        type_(r->name);
        for (const auto& f : r->fields) value(f.name, "field");
      } else if (const auto* in = boost::get<ast::input_decl>(&it.get())) {
        value(in->name, "input");
      } else if (const auto* d = boost::get<ast::document_decl>(&it.get())) {
        value(d->name, "document");
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
        enum_info info{e->name.name, {}, {}, span(m.file, *e)};
        auto id = static_cast<std::uint32_t>(p_.enums.size());
        std::set<std::string> seen;
        for (const ast::enum_case& ec : e->cases) {
          const ast::identifier& c = ec.name;
          if (!seen.insert(c.name).second) {
            error(codes::duplicate, span(m.file, c),
                  "case '" + c.name + "' appears twice in enum '" + e->name.name + "'");
            continue;
          }
          case_owners_[c.name].push_back({id, static_cast<std::uint32_t>(info.cases.size())});
          info.cases.push_back(c.name);
          clause_set cs = read_clauses(ec.clauses, m.file, {"title"}, "an enum case");
          check_languages(cs.text_of["title"], cs.text_span["title"],
                          "the title of case '" + c.name + "'");
          info.case_titles.push_back(cs.text_of["title"]);
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
      } else if (const auto* d = boost::get<ast::document_decl>(&it.get())) {
        // Documents are global to the pack, like types.
        if (auto prev = document_by_name_.find(d->name.name); prev != document_by_name_.end()) {
          diagnostic dd{severity::error,
                        codes::duplicate,
                        span(m.file, d->name),
                        "document '" + d->name.name + "' is declared twice",
                        {}};
          dd.notes.push_back({p_.documents[prev->second].span, "the other declaration"});
          diags_.add(std::move(dd));
          continue;
        }
        clause_set cs = read_clauses(d->clauses, m.file, {"title"}, "a document");
        document_info info;
        info.name = d->name.name;
        info.title = cs.text_of["title"];
        info.span = span(m.file, d->name);
        check_languages(info.title, cs.text_span["title"],
                        "the title of document '" + info.name + "'");
        document_by_name_[info.name] = static_cast<std::uint32_t>(p_.documents.size());
        p_.documents.push_back(std::move(info));
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
  field_spans_.resize(p_.records.size());
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
      field_info fi;
      fi.name = fd.name.name;
      fi.t = t ? *t : simple(kind::error);
      read_field_clauses(fd, f, fi);
      info.fields.push_back(std::move(fi));
      field_spans_[record_by_name_[decl->name.name]].push_back(span(f, fd.name));
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
    if (c.keyword == "title" || c.keyword == "explain" || c.keyword == "period") {
      if (c.args.empty() || c.args.size() % 2 != 0) {
        error(
            codes::syntax, span(f, c),
            "'" + c.keyword + "' takes pairs of a language and a text: fr \"…\" ar \"…\" en \"…\"");
        continue;
      }
      out.text_span.emplace(c.keyword, span(f, c));
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
          // Its text is one of those missing: not told again as a missing language (E0404).
          language_refused_.emplace(f, out.text_span[c.keyword].begin);
          continue;
        }
        if (!out.text_of[c.keyword].emplace(lang.text, unescape(text.text)).second) {
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
      // A name a declaration that did not parse would have made: that error was reported
      // already, once (docs/diagnostics.md: one mistake, one diagnostic).
      if (unparsed(name)) continue;
      // A module's name that is not imported says so, as an expression's does (E0205's words).
      const std::size_t dot = name.find('.');
      if (dot != std::string::npos) {
        if (auto m = module_by_name_.find(name.substr(0, dot));
            m != module_by_name_.end() && m->second != sc.module &&
            !imports_[sc.module].count(m->second) &&
            (rule_by_name_.count(name) || param_by_name_.count(name))) {
          flag("explanation placeholder '{" + name + "}': module '" + name.substr(0, dot) +
               "' is not imported; add 'import " + name.substr(0, dot) +
               "' after the module header");
          continue;
        }
      }
      flag("explanation placeholder '{" + name + "}' names nothing");
    }
  }
  if (bad > shown.size()) {
    shown.back().notes.push_back(
        {s, "and " + std::to_string(bad - shown.size()) + " more placeholders that name nothing"});
  }
  for (diagnostic& d : shown) diags_.add(std::move(d));
}

}  // namespace dalil::dsl::detail
