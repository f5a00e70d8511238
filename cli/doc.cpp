// `dalil doc`: one walk over the checked program drives two writers (Markdown, standalone HTML),
// so that the two documents always say the same thing.
#include "cli/doc.hpp"
#include "cli/pack.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string_view>
#include <system_error>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/program.hpp"
#include "engine/words.hpp"

namespace dalil::cli {

namespace {

// ------------------------------------------------------------------ rich text

enum class style : std::uint8_t { plain, code, rtl, warn, strong, br };

/// A piece of inline text; `href` (an anchor in the page) makes it a link.
struct run {
  std::string text;
  style s = style::plain;
  std::string href;
};
using line = std::vector<run>;

run plain(std::string t) {
  return {std::move(t), style::plain, {}};
}
run code(std::string t) {
  return {std::move(t), style::code, {}};
}
run warn(std::string t) {
  return {std::move(t), style::warn, {}};
}
run br() {
  return {{}, style::br, {}};
}

/// What a document format must know how to draw. Sections nest: module, then rule.
class writer {
 public:
  virtual ~writer() = default;
  virtual void begin(const std::string& title) = 0;
  virtual void end() = 0;
  virtual void begin_section(const std::string& cls) = 0;
  virtual void end_section() = 0;
  virtual void heading(int level, const std::string& anchor, const line& text) = 0;
  virtual void paragraph(const line& text) = 0;
  virtual void bullets(const std::vector<line>& items) = 0;
  virtual void begin_fields() = 0;
  virtual void field(const std::string& label, const line& value) = 0;
  virtual void end_fields() = 0;
  virtual void code_block(const std::string& caption, const std::string& text) = 0;
  virtual void table(const std::vector<std::string>& headers,
                     const std::vector<std::vector<line>>& rows) = 0;
  const std::string& text() const { return out_; }

 protected:
  std::string out_;
};

std::string html_escape(std::string_view s);

/// Right-to-left text whose {placeholders} are isolated: in HTML each in <bdi dir="ltr">
/// (the text escaped), in plain text each between U+2068 and U+2069.
std::string isolate_placeholders(std::string_view s, bool html) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t open = s.find('{', i);
    std::size_t close = open == std::string_view::npos ? open : s.find('}', open);
    if (close == std::string_view::npos) break;
    std::string_view before = s.substr(i, open - i);
    std::string_view name = s.substr(open, close - open + 1);
    if (html) {
      out += html_escape(before);
      out += "<bdi dir=\"ltr\">" + html_escape(name) + "</bdi>";
    } else {
      out += before;
      out += engine::fsi;
      out += name;
      out += engine::pdi;
    }
    i = close + 1;
  }
  std::string_view rest = s.substr(std::min(i, s.size()));
  out += html ? html_escape(rest) : std::string(rest);
  return out;
}

// ------------------------------------------------------------------ Markdown

std::string md_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '<':
      case '>':
      case '|':
      case '#':
      case '~':
        out.push_back('\\');
        out.push_back(c);
        break;
      case '\n':
      case '\r':
        out.push_back(' ');
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string md_code_span(std::string_view s) {
  std::string t;
  for (char c : s) t.push_back(c == '\n' ? ' ' : c);
  if (t.find('`') == std::string::npos) return "`" + t + "`";
  return "`` " + t + " ``";
}

class markdown_writer : public writer {
 public:
  void begin(const std::string& title) override { out_ += "# " + md_escape(title) + "\n\n"; }
  void end() override {}
  void begin_section(const std::string&) override {}
  void end_section() override {}
  void heading(int level, const std::string& anchor, const line& text) override {
    if (!anchor.empty()) out_ += "<a id=\"" + anchor + "\"></a>\n\n";
    out_ += std::string(static_cast<std::size_t>(level), '#') + " " + render(text) + "\n\n";
  }
  void paragraph(const line& text) override { out_ += render(text) + "\n\n"; }
  void bullets(const std::vector<line>& items) override {
    for (const line& l : items) out_ += "- " + render(l) + "\n";
    out_ += "\n";
  }
  void begin_fields() override {}
  void field(const std::string& label, const line& value) override {
    out_ += "- **" + md_escape(label) + " :** " + render(value) + "\n";
  }
  void end_fields() override { out_ += "\n"; }
  void code_block(const std::string& caption, const std::string& text) override {
    if (!caption.empty()) out_ += "*" + md_escape(caption) + "*\n\n";
    // The fence must be longer than any run of backticks inside (comments may hold some).
    std::size_t longest = 0;
    std::size_t current = 0;
    for (char c : text) {
      current = c == '`' ? current + 1 : 0;
      longest = std::max(longest, current);
    }
    std::string fence(std::max<std::size_t>(3, longest + 1), '`');
    out_ += fence + "\n" + text + "\n" + fence + "\n\n";
  }
  void table(const std::vector<std::string>& headers,
             const std::vector<std::vector<line>>& rows) override {
    out_ += "|";
    for (const std::string& h : headers) out_ += " " + md_escape(h) + " |";
    out_ += "\n|";
    for (std::size_t i = 0; i < headers.size(); ++i) out_ += " --- |";
    out_ += "\n";
    for (const auto& row : rows) {
      out_ += "|";
      for (const line& cell : row) out_ += " " + render(cell, true) + " |";
      out_ += "\n";
    }
    out_ += "\n";
  }

 private:
  static std::string render(const line& l, bool in_table = false) {
    std::string s;
    for (const run& r : l) {
      std::string piece;
      switch (r.s) {
        case style::plain:
          piece = md_escape(r.text);
          break;
        case style::rtl:
          // No dir attribute in Markdown: a right-to-left isolate around the run, and each
          // {placeholder} in a first-strong isolate, so that bidi does not scramble them.
          piece = std::string(engine::rli) + md_escape(isolate_placeholders(r.text, false)) +
                  std::string(engine::pdi);
          break;
        case style::code:
          piece = md_code_span(r.text);
          break;
        case style::warn:
        case style::strong:
          piece = "**" + md_escape(r.text) + "**";
          break;
        case style::br:
          piece = in_table ? "<br>" : "; ";
          break;
      }
      if (r.href.empty()) {
        s += piece;
      } else {
        s += '[';
        s += piece;
        s += "](#";
        s += r.href;
        s += ')';
      }
    }
    return s;
  }
};

// ------------------------------------------------------------------ HTML

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

constexpr std::string_view page_css = R"(
body { font-family: Georgia, "Times New Roman", serif; max-width: 54rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.45; color: #111; background: #fff; }
h1, h2, h3, h4 { font-family: "Helvetica Neue", Arial, sans-serif; line-height: 1.2; }
h2 { border-bottom: 2px solid #333; padding-bottom: .2rem; margin-top: 2.5rem; }
h3 { margin-top: 1.8rem; }
h4 { margin: 1.4rem 0 .3rem; padding-top: .6rem; border-top: 1px solid #bbb; }
code, pre { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .88em; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f4f4f4;
      border: 1px solid #ccc; padding: .5rem .7rem; margin: .3rem 0 .8rem; }
p.caption { margin: .6rem 0 0; font-style: italic; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9em; }
th, td { border: 1px solid #999; padding: .25rem .4rem; vertical-align: top; text-align: start; }
th { background: #eee; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .8rem; margin: .4rem 0; }
dt { font-weight: bold; }
dd { margin: 0; overflow-wrap: anywhere; }
.provisional { background: #fff3bf; border: 1px solid #b8860b; padding: 0 .25em;
               font-weight: bold; }
[dir="rtl"] { font-family: "Noto Naskh Arabic", Amiri, "Arial", serif; unicode-bidi: isolate; }
a { color: #0b3d91; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  a { color: inherit; text-decoration: none; }
  section.module { break-before: page; }
  h2, h3, h4 { break-after: avoid; }
  pre, tr, dl { break-inside: avoid; }
  .provisional, th, pre { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
)";

class html_writer : public writer {
 public:
  void begin(const std::string& title) override {
    out_ += "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n";
    out_ += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out_ += "<title>" + html_escape(title) + "</title>\n<style>";
    out_ += page_css;
    out_ += "</style>\n</head>\n<body>\n<h1>" + html_escape(title) + "</h1>\n";
  }
  void end() override { out_ += "</body>\n</html>\n"; }
  void begin_section(const std::string& cls) override {
    out_ += "<section class=\"" + html_escape(cls) + "\">\n";
  }
  void end_section() override { out_ += "</section>\n"; }
  void heading(int level, const std::string& anchor, const line& text) override {
    std::string h = "h" + std::to_string(level);
    out_ += "<" + h;
    if (!anchor.empty()) out_ += " id=\"" + html_escape(anchor) + "\"";
    out_ += ">" + render(text) + "</" + h + ">\n";
  }
  void paragraph(const line& text) override { out_ += "<p>" + render(text) + "</p>\n"; }
  void bullets(const std::vector<line>& items) override {
    out_ += "<ul>\n";
    for (const line& l : items) out_ += "<li>" + render(l) + "</li>\n";
    out_ += "</ul>\n";
  }
  void begin_fields() override { out_ += "<dl>\n"; }
  void field(const std::string& label, const line& value) override {
    out_ += "<dt>" + html_escape(label) + "</dt><dd>" + render(value) + "</dd>\n";
  }
  void end_fields() override { out_ += "</dl>\n"; }
  void code_block(const std::string& caption, const std::string& text) override {
    if (!caption.empty()) out_ += "<p class=\"caption\">" + html_escape(caption) + "</p>\n";
    out_ += "<pre>" + html_escape(text) + "</pre>\n";
  }
  void table(const std::vector<std::string>& headers,
             const std::vector<std::vector<line>>& rows) override {
    out_ += "<table>\n<thead><tr>";
    for (const std::string& h : headers) out_ += "<th>" + html_escape(h) + "</th>";
    out_ += "</tr></thead>\n<tbody>\n";
    for (const auto& row : rows) {
      out_ += "<tr>";
      for (const line& cell : row) out_ += "<td>" + render(cell) + "</td>";
      out_ += "</tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
  }

 private:
  static std::string render(const line& l) {
    std::string s;
    for (const run& r : l) {
      std::string piece;
      switch (r.s) {
        case style::plain:
          piece = html_escape(r.text);
          break;
        case style::code:
          piece = "<code>" + html_escape(r.text) + "</code>";
          break;
        case style::rtl:
          piece = "<span dir=\"rtl\" lang=\"ar\">" + isolate_placeholders(r.text, true) + "</span>";
          break;
        case style::warn:
          piece = "<span class=\"provisional\">" + html_escape(r.text) + "</span>";
          break;
        case style::strong:
          piece = "<strong>" + html_escape(r.text) + "</strong>";
          break;
        case style::br:
          piece = "<br>";
          break;
      }
      if (r.href.empty()) {
        s += piece;
      } else {
        s += "<a href=\"#";
        s += html_escape(r.href);
        s += "\">";
        s += piece;
        s += "</a>";
      }
    }
    return s;
  }
};

// ------------------------------------------------------------------ the pack

/// The source text of `s`, with its own relative indentation kept and the common indentation
/// removed; continuation lines are shifted right by the width of `prefix`, which starts the first.
std::string source_excerpt(const dsl::source_map& sources, dsl::source_span s,
                           std::string_view prefix) {
  const std::string& text = sources.text(s.file);
  std::size_t begin = std::min<std::size_t>(s.begin, text.size());
  std::size_t end = std::min<std::size_t>(std::max(s.begin, s.end), text.size());
  std::size_t line_start = begin;
  while (line_start > 0 && text[line_start - 1] != '\n') --line_start;
  // The first line starts mid-line: stand in spaces for what precedes it, so that its
  // continuation lines keep their alignment with it.
  std::string raw(begin - line_start, ' ');
  raw.append(text, begin, end - begin);

  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos <= raw.size()) {
    std::size_t nl = raw.find('\n', pos);
    if (nl == std::string::npos) nl = raw.size();
    std::string l = raw.substr(pos, nl - pos);
    while (!l.empty() && (l.back() == ' ' || l.back() == '\r' || l.back() == '\t')) l.pop_back();
    lines.push_back(std::move(l));
    pos = nl + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::size_t indent = std::string::npos;
  for (const std::string& l : lines) {
    if (l.empty()) continue;
    indent = std::min(indent, l.find_first_not_of(' '));
  }
  if (indent == std::string::npos) indent = 0;
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    if (lines[i].empty()) continue;
    out += i == 0 ? std::string(prefix) : std::string(prefix.size(), ' ');
    out += lines[i].substr(std::min(indent, lines[i].size()));
  }
  return out;
}

std::string location(const dsl::source_map& sources, dsl::source_span s) {
  dsl::line_column lc = sources.position(s.file, s.begin);
  return sources.name(s.file) + ":" + std::to_string(lc.line);
}

std::string module_anchor(const dsl::module_info& m) {
  return "m-" + m.name;
}
std::string rule_anchor(const dsl::rule_info& r) {
  return "r-" + r.qualified;
}

/// A `not_encoded` expression and where it stands.
struct gap {
  std::uint32_t rule = 0;
  std::string where;  // "formule" or "exception NAME"
  std::uint32_t expr = 0;
};

void collect_gaps(const dsl::program& p, std::uint32_t rule, std::uint32_t root,
                  const std::string& where, std::vector<gap>& out) {
  std::vector<std::uint32_t> stack{root};
  std::vector<std::uint32_t> found;
  while (!stack.empty()) {
    std::uint32_t e = stack.back();
    stack.pop_back();
    if (e >= p.expressions.size()) continue;
    const dsl::expression& x = p.expressions[e];
    if (x.o == dsl::op::not_encoded) found.push_back(e);
    for (std::uint32_t a : x.args) stack.push_back(a);
  }
  // Source order reads better than traversal order.
  std::sort(found.begin(), found.end(), [&](std::uint32_t a, std::uint32_t b) {
    return p.expressions[a].span.begin < p.expressions[b].span.begin;
  });
  found.erase(std::unique(found.begin(), found.end()), found.end());
  for (std::uint32_t e : found) out.push_back({rule, where, e});
}

std::string reason_of(const dsl::expression& x) {
  if (const auto* s = std::get_if<std::string>(&x.value)) return *s;
  return "";
}

/// Texts written per language, one per line ("fr : …"), the Arabic set right to left.
line texts_line(const dsl::texts& t) {
  line l;
  for (const char* lang : {"fr", "ar", "en"}) {
    auto it = t.find(lang);
    if (it == t.end() || it->second.empty()) continue;
    if (!l.empty()) l.push_back(br());
    l.push_back(plain(std::string(lang) + " : "));
    l.push_back({it->second, std::string_view(lang) == "ar" ? style::rtl : style::plain, {}});
  }
  return l;
}

std::string date_fr(dalil::date d) {
  return engine::date_words(d, engine::lang::fr);
}

/// A bound of a field's constraint, as its type reads (money with its currency).
std::string bound_fr(const dsl::type& t, const rational& v) {
  if (t.k == dsl::kind::money) return engine::money_words(v, engine::lang::fr);
  if (t.k == dsl::kind::integer && v.den == 1)
    return engine::integer_words(v.num, engine::lang::fr);
  return engine::number_words(v, 2, engine::lang::fr, engine::builtin_catalogue(), 0);
}

line constraint_line(const dsl::field_info& f) {
  line l;
  const dsl::value_constraint& c = f.constraint;
  if (c.at_least) l.push_back(plain("au moins " + bound_fr(f.t, *c.at_least)));
  if (c.at_most) {
    if (!l.empty()) l.push_back(br());
    l.push_back(plain("au plus " + bound_fr(f.t, *c.at_most)));
  }
  if (c.not_after_as_of) {
    if (!l.empty()) l.push_back(br());
    l.push_back(plain("pas après la date d'évaluation"));
  }
  return l;
}

class pack_document {
 public:
  pack_document(const dsl::program& p, const dsl::source_map& sources, std::string rules_dir)
      : p_(p), sources_(sources), rules_dir_(std::move(rules_dir)) {
    for (std::uint32_t r = 0; r < p_.rules.size(); ++r) {
      const dsl::rule_info& info = p_.rules[r];
      collect_gaps(p_, r, info.body, "formule", gaps_);
      for (const dsl::exception_info& x : info.exceptions) {
        collect_gaps(p_, r, x.condition, "exception " + x.name + " (condition)", gaps_);
        collect_gaps(p_, r, x.value, "exception " + x.name + " (valeur)", gaps_);
      }
    }
  }

  void write(writer& w) const {
    w.begin("Dalil — règles SNIA");
    intro(w);
    schema(w);
    for (std::uint32_t m = 0; m < p_.modules.size(); ++m) module_section(w, m);
    not_encoded(w);
    w.end();
  }

 private:
  void intro(writer& w) const {
    std::size_t provisional = 0;
    for (const auto& r : p_.rules) provisional += r.provisional ? 1 : 0;
    w.paragraph(
        {plain("Pack de règles "), code(rules_dir_),
         plain(" : " + std::to_string(p_.modules.size()) + " modules, " +
               std::to_string(p_.rules.size()) + " règles, " +
               std::to_string(p_.parameters.size()) + " paramètres, " +
               std::to_string(p_.tests.size()) + " tests ; " + std::to_string(provisional) +
               " règles provisoires, " + std::to_string(gaps_.size()) + " éléments non codés.")});
    w.paragraph({plain("Chaque décision de Dalil est une recommandation accompagnée de ses "
                       "preuves ; l'agent décide (loi 09-08, art. 11). Ce qui repose sur une "
                       "source non vérifiée est marqué "),
                 warn("provisoire"),
                 plain(". Ce que les sources ne tranchent pas n'est pas inventé : la section « "
                       "Non codé » en donne la liste et les raisons.")});
    std::vector<line> toc;
    for (const dsl::module_info& m : p_.modules) {
      run link = code(m.name);
      link.href = module_anchor(m);
      line l{link};
      if (auto it = m.title.find("fr"); it != m.title.end()) l.push_back(plain(" — " + it->second));
      toc.push_back(std::move(l));
    }
    run gaps_link = plain("Non codé (not encoded)");
    gaps_link.href = "not-encoded";
    toc.push_back({gaps_link});
    w.heading(2, "contents", {plain("Sommaire")});
    w.bullets(toc);
  }

  void schema(writer& w) const {
    w.heading(2, "record", {plain("Dossier du demandeur")});
    w.paragraph(
        {plain("Un champ absent est inconnu, jamais une valeur par défaut ; un champ "
               "marqué ? peut valoir null (on sait qu'il n'existe pas).")});
    std::vector<std::vector<line>> rows;
    if (p_.input_record < p_.records.size()) {
      record_rows(p_.input_record, "", dsl::no_index, 0, rows);
    }
    w.table(
        {"Champ", "Intitulé", "Type", "Pièce justificative", "Contraintes", "Lu par les règles"},
        rows);
    if (!p_.enums.empty()) {
      std::vector<std::vector<line>> enums;
      for (const dsl::enum_info& e : p_.enums) {
        line cases;
        for (std::size_t i = 0; i < e.cases.size(); ++i) {
          if (!cases.empty()) cases.push_back(br());
          cases.push_back(code(e.cases[i]));
          if (i < e.case_titles.size() && !e.case_titles[i].empty()) {
            cases.push_back(plain(" — "));
            bool first = true;
            for (const char* lang : {"fr", "ar", "en"}) {
              auto it = e.case_titles[i].find(lang);
              if (it == e.case_titles[i].end() || it->second.empty()) continue;
              if (!first) cases.push_back(plain(" / "));
              first = false;
              cases.push_back(
                  {it->second, std::string_view(lang) == "ar" ? style::rtl : style::plain, {}});
            }
          } else {
            cases.push_back(warn(" sans intitulé"));
          }
        }
        enums.push_back({{code(e.name)}, cases});
      }
      w.heading(3, "enums", {plain("Énumérations")});
      w.table({"Type", "Valeurs et intitulés (fr / ar / en)"}, enums);
    }
    if (!p_.documents.empty()) {
      std::vector<std::vector<line>> docs;
      for (std::uint32_t d = 0; d < p_.documents.size(); ++d) {
        line proves;
        for (const dsl::fact_info& f : p_.facts) {
          if (f.proof != d) continue;
          if (!proves.empty()) proves.push_back(plain(", "));
          proves.push_back(code(f.path));
        }
        docs.push_back({{code(p_.documents[d].name)},
                        texts_line(p_.documents[d].title),
                        proves.empty() ? line{plain("aucun champ lu")} : proves});
      }
      w.heading(3, "documents", {plain("Pièces justificatives")});
      w.paragraph(
          {plain("Une décision indéterminée demande ces pièces, regroupées ; un champ "
                 "sans pièce relève de la déclaration du demandeur.")});
      w.table({"Pièce", "Intitulé", "Prouve (champs lus par les règles)"}, docs);
    }
  }

  /// One row per field of the input record, nested records flattened into dotted paths.
  void record_rows(std::uint32_t rec, const std::string& prefix, std::uint32_t inherited, int depth,
                   std::vector<std::vector<line>>& rows) const {
    if (depth > 16) return;
    for (const dsl::field_info& f : p_.records[rec].fields) {
      std::string path = prefix + f.name;
      bool read = false;
      for (const dsl::fact_info& fact : p_.facts) {
        read = read || fact.path == path || fact.path.rfind(path + ".", 0) == 0;
      }
      // A field without its own `proof` takes its enclosing field's document.
      const std::uint32_t proof = f.proof < p_.documents.size() ? f.proof : inherited;
      line doc;
      if (proof < p_.documents.size()) {
        auto it = p_.documents[proof].title.find("fr");
        doc.push_back(plain(it != p_.documents[proof].title.end() ? it->second + " " : ""));
        doc.push_back(code(p_.documents[proof].name));
      } else {
        doc.push_back(plain("déclaration du demandeur"));
      }
      line title = texts_line(f.title);
      if (title.empty()) title.push_back(warn("sans intitulé"));
      rows.push_back({{code(path)},
                      title,
                      {code(dsl::type_name(p_, f.t))},
                      doc,
                      constraint_line(f),
                      {plain(read ? "oui" : "non")}});
      if (f.t.k == dsl::kind::record && f.t.ref < p_.records.size()) {
        record_rows(f.t.ref, path + ".", proof, depth + 1, rows);
      }
    }
  }

  void module_section(writer& w, std::uint32_t m) const {
    const dsl::module_info& info = p_.modules[m];
    w.begin_section("module");
    line head{plain("Module "), code(info.name)};
    if (auto it = info.title.find("fr"); it != info.title.end()) {
      head.push_back(plain(" — " + it->second));
    }
    w.heading(2, module_anchor(info), head);
    w.begin_fields();
    line titles;
    for (const char* lang : {"fr", "ar", "en"}) {
      auto it = info.title.find(lang);
      if (it == info.title.end()) continue;
      if (!titles.empty()) titles.push_back(br());
      titles.push_back(plain(std::string(lang) + " : "));
      titles.push_back(
          {it->second, std::string_view(lang) == "ar" ? style::rtl : style::plain, {}});
    }
    if (!titles.empty()) w.field("Titre", titles);
    w.field("Programme", {plain(info.program.empty() ? "non indiqué" : info.program)});
    w.field("Objectif spécifique (OSP)", {plain(info.osp.empty() ? "non indiqué" : info.osp)});
    w.field("Source", {plain(info.source.empty() ? "non indiquée" : info.source)});
    w.field("Fichier", {code(sources_.name(info.file))});
    w.end_fields();

    parameters(w, m);
    bool any_rule = false;
    for (std::uint32_t r = 0; r < p_.rules.size(); ++r) {
      if (p_.rules[r].module != m) continue;
      if (!any_rule) w.heading(3, "", {plain("Règles")});
      any_rule = true;
      rule_section(w, r);
    }
    w.end_section();
  }

  void parameters(writer& w, std::uint32_t m) const {
    std::vector<std::vector<line>> rows;
    for (const dsl::parameter_info& q : p_.parameters) {
      if (q.module != m) continue;
      line values;
      for (const dsl::dated_constant& v : q.values) {
        if (!values.empty()) values.push_back(br());
        std::string text = dsl::constant_text(p_, v.value, q.t);
        if (q.t.k == dsl::kind::money) text += " MAD";
        values.push_back(plain("à partir du " + date_fr(v.from) + " : "));
        values.push_back(code(text));
      }
      line confidence{q.provisional ? warn("provisoire") : plain("vérifiée")};
      rows.push_back(
          {{code(q.name)}, {code(dsl::type_name(p_, q.t))}, values, confidence, {plain(q.source)}});
    }
    if (rows.empty()) return;
    w.heading(3, "", {plain("Paramètres")});
    w.table({"Paramètre", "Type", "Valeurs datées", "Confiance", "Source"}, rows);
  }

  line in_force(const dsl::rule_info& r) const {
    if (r.in_force_from && r.in_force_until) {
      return {plain("du " + date_fr(*r.in_force_from) + " au " + date_fr(*r.in_force_until) +
                    " inclus")};
    }
    if (r.in_force_from) return {plain("à partir du " + date_fr(*r.in_force_from))};
    if (r.in_force_until) return {plain("jusqu'au " + date_fr(*r.in_force_until) + " inclus")};
    return {plain("sans période propre (les paramètres lus ont leurs propres dates)")};
  }

  void rule_section(writer& w, std::uint32_t index) const {
    const dsl::rule_info& r = p_.rules[index];
    w.begin_section("rule");
    line head{code(r.name), plain(" : "), code(dsl::type_name(p_, r.t))};
    if (r.provisional) {
      head.push_back(plain(" "));
      head.push_back(warn("provisoire"));
    }
    w.heading(4, rule_anchor(r), head);
    w.begin_fields();
    w.field("Nom", {code(r.qualified)});
    if (line title = texts_line(r.title); !title.empty()) w.field("Intitulé", title);
    w.field("Type", {code(dsl::type_name(p_, r.t)),
                     plain(r.explain.empty() ? " (règle intermédiaire)"
                                             : " (décision expliquée au demandeur)")});
    line confidence;
    if (r.own_provisional) {
      confidence.push_back(warn("provisoire"));
    } else {
      confidence.push_back(plain("vérifiée"));
      if (r.provisional) {
        confidence.push_back(plain(" ; "));
        confidence.push_back(warn("décision provisoire : elle lit un élément provisoire"));
      }
    }
    w.field("Confiance", confidence);
    w.field("En vigueur", in_force(r));
    if (r.in_force_from || r.in_force_until) {
      if (r.outside < p_.expressions.size()) {
        w.field("Hors période",
                {plain("la décision vaut "),
                 code(source_excerpt(sources_, p_.expressions[r.outside].span, ""))});
      } else {
        w.field("Hors période", {plain("indéterminée (règle non applicable)")});
      }
      if (line period = texts_line(r.period); !period.empty()) {
        w.field("Explication hors période", period);
      }
    }
    w.field("Source", {plain(r.source)});
    for (const char* lang : {"fr", "ar", "en"}) {
      auto it = r.explain.find(lang);
      if (it == r.explain.end()) continue;
      bool rtl = std::string_view(lang) == "ar";
      w.field(std::string("Explication (") + lang + ")",
              {{it->second, rtl ? style::rtl : style::plain, {}}});
    }
    line reads;
    for (std::uint32_t d : r.rules_read) {
      if (d >= p_.rules.size()) continue;
      if (!reads.empty()) reads.push_back(plain(", "));
      run link = code(p_.rules[d].qualified);
      link.href = rule_anchor(p_.rules[d]);
      reads.push_back(link);
    }
    for (std::uint32_t q : r.parameters_read) {
      if (q >= p_.parameters.size()) continue;
      if (!reads.empty()) reads.push_back(plain(", "));
      reads.push_back(code(p_.parameters[q].qualified));
    }
    if (!reads.empty()) w.field("Lit", reads);
    w.field("Définie dans", {code(location(sources_, r.span))});
    w.end_fields();
    w.code_block("Formule", source_excerpt(sources_, p_.expressions[r.body].span, "= "));

    for (const dsl::exception_info& x : r.exceptions) {
      w.begin_fields();
      w.field("Exception", {code(x.name)});
      w.field("Source", {plain(x.source)});
      w.field("Confiance", {x.provisional ? warn("provisoire") : plain("vérifiée")});
      if (line words = texts_line(x.explain); !words.empty()) {
        w.field("Dans l'explication", words);
      } else {
        w.field("Dans l'explication",
                {warn("sans texte propre"), plain(" (la phrase générique du catalogue)")});
      }
      w.end_fields();
      std::string text = source_excerpt(sources_, p_.expressions[x.condition].span, "when ");
      text += "\n" + source_excerpt(sources_, p_.expressions[x.value].span, "= ");
      w.code_block("Exception " + x.name +
                       " : elle remplace la formule quand sa condition est "
                       "vraie",
                   text);
    }
    w.end_section();
  }

  void not_encoded(writer& w) const {
    w.begin_section("module");
    w.heading(2, "not-encoded", {plain("Non codé (not encoded)")});
    w.paragraph(
        {plain("Critères que les sources consultées ne permettent pas d'écrire. Une "
               "décision qui les atteint est « indéterminée », avec la raison ; elle "
               "n'est jamais devinée.")});
    if (gaps_.empty()) {
      w.paragraph({plain("Aucun.")});
      w.end_section();
      return;
    }
    std::vector<std::vector<line>> rows;
    for (const gap& g : gaps_) {
      const dsl::rule_info& r = p_.rules[g.rule];
      const dsl::expression& x = p_.expressions[g.expr];
      run link = code(r.qualified);
      link.href = rule_anchor(r);
      line why = texts_line(x.reason);
      if (why.empty()) why.push_back(plain(reason_of(x)));
      rows.push_back({{link}, {plain(g.where)}, why, {code(location(sources_, x.span))}});
    }
    w.table({"Règle", "Où", "Pourquoi", "Position"}, rows);
    w.end_section();
  }

  const dsl::program& p_;
  const dsl::source_map& sources_;
  std::string rules_dir_;
  std::vector<gap> gaps_;
};

bool write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

int run_doc(const std::string& rules_dir, const std::string& out_dir) {
  dsl::source_map sources;
  std::vector<dsl::ast::module> modules;
  auto program = check_pack(rules_dir, sources, modules);
  if (!program) return 1;

  std::filesystem::path dir(out_dir.empty() ? std::string(".") : out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "error: cannot create " << dir.string() << ": " << ec.message() << "\n";
    return 2;
  }
  pack_document doc(*program, sources, rules_dir);
  markdown_writer md;
  doc.write(md);
  html_writer html;
  doc.write(html);
  for (const auto& [name, text] :
       {std::pair<const char*, const std::string*>{"rules.md", &md.text()},
        std::pair<const char*, const std::string*>{"rules.html", &html.text()}}) {
    std::filesystem::path path = dir / name;
    if (!write_file(path, *text)) {
      std::cerr << "error: cannot write " << path.string() << "\n";
      return 2;
    }
    std::cout << "wrote " << path.string() << "\n";
  }
  return 0;
}

}  // namespace dalil::cli
