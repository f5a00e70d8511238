// `dalil doc`: one walk over the checked program drives two writers (Markdown, standalone HTML),
// so that the two documents always say the same thing, in the language asked for: every fixed
// word from the catalogue, Arabic pages right to left with their left-to-right runs isolated.
#include "cli/doc.hpp"
#include "cli/pack.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/program.hpp"
#include "engine/words.hpp"

namespace dalil::cli {

namespace {

using engine::lang;
using engine::msg;

// ------------------------------------------------------------------ rich text

/// plain: words in the page's language (the catalogue's, values in words); code: identifiers
/// and source text, left to right; text: a pack text in a known language (`tl`); source: a
/// pack text whose language is not stated (legal sources, as written).
enum class style : std::uint8_t { plain, code, text, source, warn, strong, br };

/// A piece of inline text; `href` (an anchor in the page) makes it a link.
struct run {
  std::string text;
  style s = style::plain;
  std::string href;
  lang tl = lang::fr;  // style::text: the text's language
};
using line = std::vector<run>;

run plain(std::string t) {
  return {std::move(t), style::plain, {}, lang::fr};
}
run code(std::string t) {
  return {std::move(t), style::code, {}, lang::fr};
}
run text_in(std::string t, lang tl) {
  return {std::move(t), style::text, {}, tl};
}
run source(std::string t) {
  return {std::move(t), style::source, {}, lang::fr};
}
run warn(std::string t) {
  return {std::move(t), style::warn, {}, lang::fr};
}
run br() {
  return {{}, style::br, {}, lang::fr};
}

using line_args = std::initializer_list<std::pair<std::string_view, line>>;

/// A catalogue message as a line: its words as plain runs, each {name} replaced by the runs
/// given for it (a name not given stays as written).
line message(const engine::catalogue& c, msg m, lang l, line_args args = {}) {
  const std::string& t = c.text(m, l);
  line out;
  std::size_t i = 0;
  while (i < t.size()) {
    const std::size_t open = t.find('{', i);
    const std::size_t close = open == std::string::npos ? open : t.find('}', open);
    if (close == std::string::npos) break;
    if (open > i) out.push_back(plain(t.substr(i, open - i)));
    const std::string_view name(t.data() + open + 1, close - open - 1);
    bool found = false;
    for (const auto& [k, v] : args) {
      if (k != name) continue;
      out.insert(out.end(), v.begin(), v.end());
      found = true;
      break;
    }
    if (!found) out.push_back(plain(t.substr(open, close - open + 1)));
    i = close + 1;
  }
  if (i < t.size()) out.push_back(plain(t.substr(i)));
  return out;
}

/// What a document format must know how to draw. Sections nest: module, then rule.
class writer {
 public:
  writer(lang l, const engine::catalogue& c) : l_(l), c_(c) {}
  virtual ~writer() = default;
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;
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
  virtual void code_block(const line& caption, const std::string& text) = 0;
  virtual void table(const std::vector<std::string>& headers,
                     const std::vector<std::vector<line>>& rows) = 0;
  const std::string& text() const { return out_; }

 protected:
  lang l_;
  const engine::catalogue& c_;
  std::string out_;
};

/// Arabic text whose {placeholders} are isolated: in HTML each in <bdi dir="ltr"> (the text
/// escaped), in plain text each between U+2068 and U+2069.
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

/// Markdown has no dir attribute: an Arabic document sits in a <div dir="rtl"> (CommonMark
/// reads the Markdown inside it after a blank line), and runs of the other direction sit between
/// the Unicode isolates, so that the bidi algorithm keeps them whole.
class markdown_writer : public writer {
 public:
  using writer::writer;
  void begin(const std::string& title) override {
    if (l_ == lang::ar) out_ += "<div dir=\"rtl\" lang=\"ar\">\n\n";
    out_ += "# " + md_escape(title) + "\n\n";
  }
  void end() override {
    if (l_ == lang::ar) out_ += "</div>\n";
  }
  void begin_section(const std::string&) override {}
  void end_section() override {}
  void heading(int level, const std::string& anchor, const line& text) override {
    if (!anchor.empty()) out_ += "<a id=\"" + anchor + "\"></a>\n\n";
    out_ += std::string(static_cast<std::size_t>(level), '#') + " " + render(text) + "\n\n";
  }
  void paragraph(const line& text) override { out_ += render(text) + "\n\n"; }
  void bullets(const std::vector<line>& items) override {
    for (const line& x : items) out_ += "- " + render(x) + "\n";
    out_ += "\n";
  }
  void begin_fields() override {}
  void field(const std::string& label, const line& value) override {
    out_ += "- **" + md_escape(c_.format(msg::doc_field_label, l_, {{"label", label}})) + "** " +
            render(value) + "\n";
  }
  void end_fields() override { out_ += "\n"; }
  void code_block(const line& caption, const std::string& text) override {
    if (!caption.empty()) out_ += "*" + render(caption) + "*\n\n";
    // The fence must be longer than any run of backticks inside (comments may hold some).
    std::size_t longest = 0;
    std::size_t current = 0;
    for (char ch : text) {
      current = ch == '`' ? current + 1 : 0;
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
  std::string isolated(std::string_view open, const std::string& s) const {
    return std::string(open) + s + std::string(engine::pdi);
  }

  std::string render(const line& x, bool in_table = false) const {
    std::string s;
    for (const run& r : x) {
      std::string piece;
      switch (r.s) {
        case style::plain:
          piece = md_escape(r.text);
          break;
        case style::text: {
          const bool rtl = r.tl == lang::ar;
          piece = rtl ? md_escape(isolate_placeholders(r.text, false)) : md_escape(r.text);
          if (r.tl != l_ && (rtl || l_ == lang::ar)) {
            piece = isolated(rtl ? engine::rli : engine::lri, piece);
          }
          break;
        }
        case style::source:
          piece = md_escape(r.text);
          if (l_ == lang::ar) piece = isolated(engine::fsi, piece);
          break;
        case style::code:
          piece = md_code_span(r.text);
          if (l_ == lang::ar) piece = isolated(engine::lri, piece);
          break;
        case style::warn:
        case style::strong:
          piece = "**" + md_escape(r.text) + "**";
          break;
        case style::br:
          // Inside a list item: a hard line break, the next line indented under the item.
          piece = in_table ? "<br>" : "  \n  ";
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
[dir="rtl"] { font-family: "Noto Naskh Arabic", Amiri, "Arial", serif; }
[dir="rtl"] [dir="ltr"], [dir="ltr"] [dir="rtl"], bdi { unicode-bidi: isolate; }
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

/// The page carries its language and direction; a run in the other direction carries its own
/// (`dir` isolates it), identifiers and formulas are set left to right.
class html_writer : public writer {
 public:
  using writer::writer;
  void begin(const std::string& title) override {
    out_ += "<!DOCTYPE html>\n<html lang=\"" + std::string(engine::lang_code(l_)) + "\" dir=\"" +
            (l_ == lang::ar ? "rtl" : "ltr") + "\">\n<head>\n<meta charset=\"utf-8\">\n";
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
    for (const line& x : items) out_ += "<li>" + render(x) + "</li>\n";
    out_ += "</ul>\n";
  }
  void begin_fields() override { out_ += "<dl>\n"; }
  void field(const std::string& label, const line& value) override {
    out_ += "<dt>" + html_escape(label) + "</dt><dd>" + render(value) + "</dd>\n";
  }
  void end_fields() override { out_ += "</dl>\n"; }
  void code_block(const line& caption, const std::string& text) override {
    if (!caption.empty()) out_ += "<p class=\"caption\">" + render(caption) + "</p>\n";
    out_ += "<pre dir=\"ltr\">" + html_escape(text) + "</pre>\n";
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
  std::string render(const line& x) const {
    std::string s;
    for (const run& r : x) {
      std::string piece;
      switch (r.s) {
        case style::plain:
          piece = html_escape(r.text);
          break;
        case style::code:
          piece = std::string(l_ == lang::ar ? "<code dir=\"ltr\">" : "<code>") +
                  html_escape(r.text) + "</code>";
          break;
        case style::text: {
          const bool rtl = r.tl == lang::ar;
          piece = rtl ? isolate_placeholders(r.text, true) : html_escape(r.text);
          if (r.tl != l_) {
            std::string span = "<span dir=\"";
            span += rtl ? "rtl" : "ltr";
            span += "\" lang=\"";
            span += engine::lang_code(r.tl);
            span += "\">";
            span += piece;
            span += "</span>";
            piece = std::move(span);
          }
          break;
        }
        case style::source:
          // Written in the language of its text (French, in this pack): its own direction.
          piece = l_ == lang::ar ? "<bdi>" + html_escape(r.text) + "</bdi>" : html_escape(r.text);
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
  enum class place : std::uint8_t { formula, condition, value };
  std::uint32_t rule = 0;
  place where = place::formula;
  std::string exception;  // the exception's name, for condition and value
  std::uint32_t expr = 0;
};

void collect_gaps(const dsl::program& p, std::uint32_t rule, std::uint32_t root, gap::place where,
                  const std::string& exception, std::vector<gap>& out) {
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
  for (std::uint32_t e : found) out.push_back({rule, where, exception, e});
}

std::string reason_of(const dsl::expression& x) {
  if (const auto* s = std::get_if<std::string>(&x.value)) return *s;
  return "";
}

class pack_document {
 public:
  pack_document(const dsl::program& p, const dsl::source_map& sources, std::string rules_dir,
                lang l, const engine::catalogue& c)
      : p_(p), sources_(sources), rules_dir_(std::move(rules_dir)), l_(l), c_(c) {
    for (std::uint32_t r = 0; r < p_.rules.size(); ++r) {
      const dsl::rule_info& info = p_.rules[r];
      collect_gaps(p_, r, info.body, gap::place::formula, "", gaps_);
      for (const dsl::exception_info& x : info.exceptions) {
        collect_gaps(p_, r, x.condition, gap::place::condition, x.name, gaps_);
        collect_gaps(p_, r, x.value, gap::place::value, x.name, gaps_);
      }
    }
  }

  void write(writer& w) const {
    w.begin(say(msg::doc_title));
    intro(w);
    schema(w);
    for (std::uint32_t m = 0; m < p_.modules.size(); ++m) module_section(w, m);
    not_encoded(w);
    w.end();
  }

 private:
  std::string say(msg m) const { return c_.text(m, l_); }
  line says(msg m, line_args args = {}) const { return message(c_, m, l_, args); }
  line words(std::string s) const { return {plain(std::move(s))}; }
  std::string count(std::size_t n) const {
    return engine::isolate_ltr(engine::integer_words(static_cast<std::int64_t>(n), l_, c_), l_);
  }
  std::string date(dalil::date d) const { return engine::date_words(d, l_, c_); }

  /// Texts written per language, one per line ("arabe : …"), the page's language first.
  line texts_line(const dsl::texts& t) const {
    line out;
    std::vector<lang> order{l_};
    for (lang x : engine::languages) {
      if (x != l_) order.push_back(x);
    }
    for (lang x : order) {
      auto it = t.find(std::string(engine::lang_code(x)));
      if (it == t.end() || it->second.empty()) continue;
      if (!out.empty()) out.push_back(br());
      line one = says(msg::doc_text_in, {{"lang", words(engine::language_name(x, l_, c_))},
                                         {"text", {text_in(it->second, x)}}});
      out.insert(out.end(), one.begin(), one.end());
    }
    return out;
  }

  /// The text of `t` in the page's language, as a run of that language; empty when not written
  /// (tables show that one; a rule's own fields show all three, for review).
  line text_here(const dsl::texts& t) const {
    auto it = t.find(std::string(engine::lang_code(l_)));
    if (it == t.end() || it->second.empty()) return {};
    return {text_in(it->second, l_)};
  }

  /// A bound of a field's constraint, as its type reads (money with its currency).
  std::string bound(const dsl::type& t, const rational& v) const {
    if (t.k == dsl::kind::money) return engine::money_words(v, l_, c_);
    if (t.k == dsl::kind::integer && v.den == 1) {
      return engine::isolate_ltr(engine::integer_words(v.num, l_, c_), l_);
    }
    return engine::isolate_ltr(engine::number_words(v, 2, l_, c_, 0), l_);
  }

  line constraint_line(const dsl::field_info& f) const {
    line out;
    const dsl::value_constraint& k = f.constraint;
    auto add = [&](line x) {
      if (!out.empty()) out.push_back(br());
      out.insert(out.end(), x.begin(), x.end());
    };
    if (k.at_least) add(says(msg::doc_at_least, {{"bound", words(bound(f.t, *k.at_least))}}));
    if (k.at_most) add(says(msg::doc_at_most, {{"bound", words(bound(f.t, *k.at_most))}}));
    if (k.not_after_as_of) add(says(msg::doc_not_after_as_of));
    if (f.fixed) add(says(msg::doc_fixed));
    return out;
  }

  void intro(writer& w) const {
    std::size_t provisional = 0;
    for (const auto& r : p_.rules) provisional += r.provisional ? 1 : 0;
    line head = says(msg::doc_pack, {{"dir", {code(rules_dir_)}}});
    head.push_back(plain(" "));
    line counts = says(msg::doc_counts, {{"modules", words(count(p_.modules.size()))},
                                         {"rules", words(count(p_.rules.size()))},
                                         {"parameters", words(count(p_.parameters.size()))},
                                         {"tests", words(count(p_.tests.size()))},
                                         {"provisional", words(count(provisional))},
                                         {"gaps", words(count(gaps_.size()))}});
    head.insert(head.end(), counts.begin(), counts.end());
    w.paragraph(head);
    w.paragraph(says(msg::doc_notice, {{"provisional", {warn(say(msg::doc_provisional))}},
                                       {"not_encoded", words(say(msg::doc_not_encoded))}}));
    std::vector<line> toc;
    for (const dsl::module_info& m : p_.modules) {
      run link = code(m.name);
      link.href = module_anchor(m);
      line title = text_here(m.title);
      toc.push_back(title.empty() ? line{link}
                                  : says(msg::doc_toc_entry, {{"name", {link}}, {"title", title}}));
    }
    run gaps_link = plain(say(msg::doc_not_encoded));
    gaps_link.href = "not-encoded";
    toc.push_back({gaps_link});
    w.heading(2, "contents", words(say(msg::doc_contents)));
    w.bullets(toc);
  }

  void schema(writer& w) const {
    w.heading(2, "record", words(say(msg::doc_record)));
    w.paragraph(says(msg::doc_record_note, {{"optional", {code("?")}}, {"null", {code("null")}}}));
    std::vector<std::vector<line>> rows;
    if (p_.input_record < p_.records.size()) {
      record_rows(p_.input_record, "", dsl::no_index, 0, rows);
    }
    w.table({say(msg::doc_col_field), say(msg::doc_col_label), say(msg::doc_col_type),
             say(msg::doc_col_document), say(msg::doc_col_constraints), say(msg::doc_col_read)},
            rows);
    if (!p_.enums.empty()) {
      std::vector<std::vector<line>> enums;
      for (const dsl::enum_info& e : p_.enums) {
        line cases;
        for (std::size_t i = 0; i < e.cases.size(); ++i) {
          if (!cases.empty()) cases.push_back(br());
          line titles;
          if (i < e.case_titles.size()) titles = text_here(e.case_titles[i]);
          if (titles.empty()) titles.push_back(warn(say(msg::doc_untitled)));
          line one = says(msg::doc_case, {{"case", {code(e.cases[i])}}, {"label", titles}});
          cases.insert(cases.end(), one.begin(), one.end());
        }
        enums.push_back({{code(e.name)}, cases});
      }
      w.heading(3, "enums", words(say(msg::doc_enums)));
      w.table({say(msg::doc_col_type), say(msg::doc_col_values)}, enums);
    }
    if (!p_.documents.empty()) {
      std::vector<std::vector<line>> docs;
      for (std::uint32_t d = 0; d < p_.documents.size(); ++d) {
        line proves;
        for (const dsl::fact_info& f : p_.facts) {
          if (f.proof != d) continue;
          if (!proves.empty()) proves.push_back(plain(say(msg::list_separator)));
          proves.push_back(code(f.path));
        }
        line title = text_here(p_.documents[d].title);
        if (title.empty()) title.push_back(warn(say(msg::doc_untitled)));
        docs.push_back({{code(p_.documents[d].name)},
                        title,
                        proves.empty() ? words(say(msg::doc_no_field_read)) : proves});
      }
      w.heading(3, "documents", words(say(msg::doc_documents)));
      w.paragraph(says(msg::doc_documents_note));
      w.table({say(msg::doc_col_document_name), say(msg::doc_col_label), say(msg::doc_col_proves)},
              docs);
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
        line title = text_here(p_.documents[proof].title);
        if (title.empty()) title.push_back(warn(say(msg::doc_untitled)));
        doc = says(msg::doc_document_cell,
                   {{"title", title}, {"name", {code(p_.documents[proof].name)}}});
      } else {
        doc = words(say(msg::applicant_statement));
      }
      line title = text_here(f.title);
      if (title.empty()) title.push_back(warn(say(msg::doc_untitled)));
      rows.push_back({{code(path)},
                      title,
                      {code(dsl::type_name(p_, f.t))},
                      doc,
                      constraint_line(f),
                      words(say(read ? msg::yes : msg::no))});
      if (f.t.k == dsl::kind::record && f.t.ref < p_.records.size()) {
        record_rows(f.t.ref, path + ".", proof, depth + 1, rows);
      }
    }
  }

  line given(const std::string& s) const {
    return s.empty() ? words(say(msg::doc_not_given)) : line{source(s)};
  }

  void module_section(writer& w, std::uint32_t m) const {
    const dsl::module_info& info = p_.modules[m];
    w.begin_section("module");
    line title = text_here(info.title);
    line head = title.empty()
                    ? says(msg::doc_module_untitled, {{"name", {code(info.name)}}})
                    : says(msg::doc_module, {{"name", {code(info.name)}}, {"title", title}});
    w.heading(2, module_anchor(info), head);
    w.begin_fields();
    if (line titles = texts_line(info.title); !titles.empty()) {
      w.field(say(msg::doc_field_title), titles);
    }
    w.field(say(msg::doc_field_program), given(info.program));
    w.field(say(msg::doc_field_osp), given(info.osp));
    w.field(say(msg::doc_field_source), given(info.source));
    w.field(say(msg::doc_field_file), {code(sources_.name(info.file))});
    w.end_fields();

    parameters(w, m);
    bool any_rule = false;
    for (std::uint32_t r = 0; r < p_.rules.size(); ++r) {
      if (p_.rules[r].module != m) continue;
      if (!any_rule) w.heading(3, "", words(say(msg::doc_rules)));
      any_rule = true;
      rule_section(w, r);
    }
    w.end_section();
  }

  line confidence(bool provisional) const {
    return {provisional ? warn(say(msg::doc_provisional)) : plain(say(msg::doc_verified))};
  }

  void parameters(writer& w, std::uint32_t m) const {
    std::vector<std::vector<line>> rows;
    for (const dsl::parameter_info& q : p_.parameters) {
      if (q.module != m) continue;
      line values;
      for (const dsl::dated_constant& v : q.values) {
        if (!values.empty()) values.push_back(br());
        line one = says(msg::doc_from_value,
                        {{"date", words(date(v.from))},
                         {"value", words(engine::constant_words(p_, v.value, q.t, l_, c_))}});
        values.insert(values.end(), one.begin(), one.end());
      }
      rows.push_back({{code(q.name)},
                      {code(dsl::type_name(p_, q.t))},
                      values,
                      confidence(q.provisional),
                      given(q.source)});
    }
    if (rows.empty()) return;
    w.heading(3, "", words(say(msg::doc_parameters)));
    w.table({say(msg::doc_col_parameter), say(msg::doc_col_type), say(msg::doc_col_dated_values),
             say(msg::doc_col_confidence), say(msg::doc_field_source)},
            rows);
  }

  line in_force(const dsl::rule_info& r) const {
    // A date of the period that rests on a source not found is marked provisional beside it.
    auto day = [&](dalil::date d, bool provisional) {
      line out = words(date(d));
      if (provisional) {
        out.push_back(plain(" "));
        out.push_back(warn(say(msg::doc_provisional)));
      }
      return out;
    };
    if (r.in_force_from && r.in_force_until) {
      return says(msg::doc_period_between,
                  {{"from", day(*r.in_force_from, r.from_provisional)},
                   {"until", day(*r.in_force_until, r.until_provisional)}});
    }
    if (r.in_force_from) {
      return says(msg::doc_period_from, {{"from", day(*r.in_force_from, r.from_provisional)}});
    }
    if (r.in_force_until) {
      return says(msg::doc_period_until, {{"until", day(*r.in_force_until, r.until_provisional)}});
    }
    return says(msg::doc_period_none);
  }

  void rule_section(writer& w, std::uint32_t index) const {
    const dsl::rule_info& r = p_.rules[index];
    w.begin_section("rule");
    line head = says(msg::doc_rule_heading,
                     {{"name", {code(r.name)}}, {"type", {code(dsl::type_name(p_, r.t))}}});
    if (r.provisional) {
      head.push_back(plain(" "));
      head.push_back(warn(say(msg::doc_provisional)));
    }
    w.heading(4, rule_anchor(r), head);
    w.begin_fields();
    w.field(say(msg::doc_field_name), {code(r.qualified)});
    if (line title = texts_line(r.title); !title.empty()) w.field(say(msg::doc_col_label), title);
    w.field(
        say(msg::doc_col_type),
        says(msg::doc_kind, {{"type", {code(dsl::type_name(p_, r.t))}},
                             {"kind", words(say(r.explain.empty() ? msg::doc_kind_intermediate
                                                                  : msg::doc_kind_decision))}}));
    line trust = confidence(r.own_provisional);
    if (!r.own_provisional && r.provisional) {
      trust = says(msg::doc_verified_but,
                   {{"verified", trust}, {"note", {warn(say(msg::doc_provisional_reads))}}});
    }
    w.field(say(msg::doc_col_confidence), trust);
    w.field(say(msg::doc_field_in_force), in_force(r));
    if (r.in_force_from || r.in_force_until) {
      if (r.outside < p_.expressions.size()) {
        w.field(say(msg::doc_field_outside), outside_value(p_.expressions[r.outside]));
      } else {
        w.field(say(msg::doc_field_outside), words(say(msg::doc_outside_undetermined)));
      }
      if (line period = texts_line(r.period); !period.empty()) {
        w.field(say(msg::doc_field_period_text), period);
      }
    }
    w.field(say(msg::doc_field_source), given(r.source));
    if (line explain = texts_line(r.explain); !explain.empty()) {
      w.field(say(msg::doc_field_explanation), explain);
    }
    line reads;
    for (std::uint32_t d : r.rules_read) {
      if (d >= p_.rules.size()) continue;
      if (!reads.empty()) reads.push_back(plain(say(msg::list_separator)));
      run link = code(p_.rules[d].qualified);
      link.href = rule_anchor(p_.rules[d]);
      reads.push_back(link);
    }
    for (std::uint32_t q : r.parameters_read) {
      if (q >= p_.parameters.size()) continue;
      if (!reads.empty()) reads.push_back(plain(say(msg::list_separator)));
      reads.push_back(code(p_.parameters[q].qualified));
    }
    if (!reads.empty()) w.field(say(msg::doc_field_reads), reads);
    w.field(say(msg::doc_field_defined), {code(location(sources_, r.span))});
    w.end_fields();
    w.code_block(words(say(msg::doc_formula)),
                 source_excerpt(sources_, p_.expressions[r.body].span, "= "));

    for (const dsl::exception_info& x : r.exceptions) {
      w.begin_fields();
      w.field(say(msg::doc_field_exception), {code(x.name)});
      w.field(say(msg::doc_field_source), given(x.source));
      w.field(say(msg::doc_col_confidence), confidence(x.provisional));
      if (line own = texts_line(x.explain); !own.empty()) {
        w.field(say(msg::doc_field_in_explanation), own);
      } else {
        line none{warn(say(msg::doc_no_own_text)), plain(" ")};
        none.push_back(plain(say(msg::doc_generic_sentence)));
        w.field(say(msg::doc_field_in_explanation), none);
      }
      w.end_fields();
      std::string text = source_excerpt(sources_, p_.expressions[x.condition].span, "when ");
      text += "\n" + source_excerpt(sources_, p_.expressions[x.value].span, "= ");
      w.code_block(says(msg::doc_exception_caption, {{"name", {code(x.name)}}}), text);
    }
    w.end_section();
  }

  /// What a rule answers outside its period: a value in words, or undetermined with the
  /// reason the pack writes; any other expression as written.
  line outside_value(const dsl::expression& x) const {
    if (x.o == dsl::op::not_encoded) {
      line why = texts_line(x.reason);
      if (why.empty()) why.push_back(source(reason_of(x)));
      line out = says(msg::doc_outside_not_encoded);
      out.push_back(br());
      out.insert(out.end(), why.begin(), why.end());
      return out;
    }
    if (x.o == dsl::op::constant) {
      return says(msg::doc_outside_value,
                  {{"value", words(engine::constant_words(p_, x.value, x.t, l_, c_))}});
    }
    return says(msg::doc_outside_value, {{"value", {code(source_excerpt(sources_, x.span, ""))}}});
  }

  line where(const gap& g) const {
    switch (g.where) {
      case gap::place::condition:
        return says(msg::doc_where_condition, {{"name", {code(g.exception)}}});
      case gap::place::value:
        return says(msg::doc_where_value, {{"name", {code(g.exception)}}});
      case gap::place::formula:
        break;
    }
    return words(say(msg::doc_where_formula));
  }

  void not_encoded(writer& w) const {
    w.begin_section("module");
    w.heading(2, "not-encoded", words(say(msg::doc_not_encoded)));
    w.paragraph(says(msg::doc_not_encoded_note));
    if (gaps_.empty()) {
      w.paragraph(says(msg::doc_none));
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
      if (why.empty()) why.push_back(source(reason_of(x)));
      rows.push_back({{link}, where(g), why, {code(location(sources_, x.span))}});
    }
    w.table({say(msg::doc_col_rule), say(msg::doc_col_where), say(msg::doc_col_why),
             say(msg::doc_col_position)},
            rows);
    w.end_section();
  }

  const dsl::program& p_;
  const dsl::source_map& sources_;
  std::string rules_dir_;
  lang l_;
  const engine::catalogue& c_;
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

doc_pages render_doc(const dsl::program& program, const dsl::source_map& sources,
                     const std::string& rules_dir, engine::lang l, const engine::catalogue& c) {
  pack_document doc(program, sources, rules_dir, l, c);
  markdown_writer md(l, c);
  doc.write(md);
  html_writer html(l, c);
  doc.write(html);
  return {md.text(), html.text()};
}

int run_doc(const std::string& rules_dir, const std::string& out_dir, engine::lang l) {
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
  const doc_pages pages = render_doc(*program, sources, rules_dir, l);
  for (const auto& [name, text] :
       {std::pair<const char*, const std::string*>{"rules.md", &pages.markdown},
        std::pair<const char*, const std::string*>{"rules.html", &pages.html}}) {
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
