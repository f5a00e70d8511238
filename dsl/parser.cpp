// The parser driver: runs the X3 rules declaration by declaration, turns X3's expectation
// failures into diagnostics at one boundary, and resynchronises after an error.
#include "dsl/parser.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "dsl/codes.hpp"
#include "dsl/grammar.hpp"
#include "dsl/utf8.hpp"

namespace dalil::dsl {

namespace x3 = boost::spirit::x3;
using grammar::iterator_type;

namespace {

/// The opening quote of the first text literal whose line ends in a '\\' that escapes the line
/// break (read as the grammar reads literals: '#' starts a comment outside them, '\\' escapes
/// the next character, a line break ends an unclosed one); nullopt when there is none.
std::optional<std::size_t> backslash_line_break(std::string_view text) {
  std::optional<std::size_t> open;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!open) {
      if (c == '#') {
        while (i < text.size() && text[i] != '\n') ++i;
      } else if (c == '"') {
        open = i;
      }
    } else if (c == '\\') {
      if (i + 1 < text.size() && (text[i + 1] == '\n' || text[i + 1] == '\r')) return open;
      ++i;
    } else if (c == '"' || c == '\n' || c == '\r') {
      open.reset();
    }
  }
  return std::nullopt;
}

iterator_type skip_blank(iterator_type it, iterator_type end) {
  while (it < end) {
    if (std::isspace(static_cast<unsigned char>(*it))) {
      ++it;
    } else if (*it == '#') {
      while (it < end && *it != '\n') ++it;
    } else {
      break;
    }
  }
  return it;
}

bool starts_word(iterator_type it, iterator_type end, std::string_view word) {
  if (static_cast<std::size_t>(end - it) < word.size()) return false;
  if (std::string_view(it, word.size()) != word) return false;
  iterator_type after = it + word.size();
  return after == end || !(std::isalnum(static_cast<unsigned char>(*after)) || *after == '_');
}

constexpr std::array<std::string_view, 7> item_keywords = {"enum", "record", "input",   "parameter",
                                                           "rule", "test",   "document"};

bool starts_item(iterator_type it, iterator_type end) {
  for (std::string_view w : item_keywords) {
    if (starts_word(it, end, w)) return true;
  }
  return false;
}

/// Where to resume after a syntax error found at `at` in the declaration that starts at `start`:
/// at `at` itself when a declaration keyword starts there, first on its line (an unclosed
/// `enum T { a, b` fails on the `record` of the next line, which must not be lost); otherwise
/// at the next line whose first token starts a declaration. Always past `start`, so the driver
/// makes progress.
iterator_type resync(iterator_type start, iterator_type at, iterator_type end) {
  if (at > start && at < end && starts_item(at, end)) {
    iterator_type p = at;
    while (p > start && (p[-1] == ' ' || p[-1] == '\t')) --p;
    if (p > start && p[-1] == '\n') return at;
  }
  iterator_type it = std::max(start, at);
  while (it < end) {
    while (it < end && *it != '\n') ++it;
    if (it == end) break;
    ++it;
    iterator_type p = it;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) ++p;
    if (starts_item(p, end)) return p;
  }
  return end;
}

/// What stands at `where`, for "expected X, found Y": a word, or one character. Control and
/// invisible characters (NUL, a stray byte-order mark…) are named by code point, so that a
/// message never carries a byte a terminal would swallow or act on.
std::string describe_found(iterator_type where, iterator_type end) {
  if (where >= end) return "end of file";
  iterator_type p = where;
  if (std::isalnum(static_cast<unsigned char>(*p)) || *p == '_') {
    // Bounded: a megabyte-long word is named by its start.
    constexpr std::ptrdiff_t shown = 40;
    while (p < end && p - where < shown &&
           (std::isalnum(static_cast<unsigned char>(*p)) || *p == '_' || *p == '.')) {
      ++p;
    }
    bool cut = p < end && (std::isalnum(static_cast<unsigned char>(*p)) || *p == '_');
    return "'" + std::string(where, p) + (cut ? "…'" : "'");
  }
  std::size_t n =
      utf8_sequence_length(std::string_view(where, static_cast<std::size_t>(end - where)));
  if (n == 0) n = 1;
  std::uint32_t cp = static_cast<unsigned char>(*where);
  if (n > 1) {
    cp &= 0x3FU >> (n - 1);
    for (std::size_t k = 1; k < n; ++k)
      cp = (cp << 6U) | (static_cast<unsigned char>(where[k]) & 0x3FU);
  }
  bool invisible = cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0xFEFF ||
                   (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
                   (cp >= 0x2060 && cp <= 0x2069);
  if (invisible) {
    std::array<char, 16> buf{};
    std::snprintf(buf.data(), buf.size(), "U+%04X", static_cast<unsigned>(cp));
    return std::string("the invisible character ") + buf.data();
  }
  return "'" + std::string(where, where + n) + "'";
}

/// The depth of the tree the checker builds from an expression: a chain `a op b op c` folds to
/// the left, so its first operand sits as deep as it has operators. Recursion here follows the
/// syntax tree, whose nesting the grammar bounds; chains are loops.
int tree_depth(const ast::expr& e);

int tree_depth(const ast::operand& o) {
  struct visitor {
    int operator()(const ast::literal&) const { return 1; }
    int operator()(const ast::path&) const { return 1; }
    int operator()(const ast::unary& u) const { return 1 + tree_depth(u.rhs); }
    int operator()(const ast::call& c) const { return 1 + deepest(c.args); }
    int operator()(const ast::if_expr& i) const {
      return 1 + std::max({tree_depth(i.condition), tree_depth(i.then_branch),
                           tree_depth(i.else_branch)});
    }
    int operator()(const ast::table& t) const {
      int d = 0;
      for (const ast::table_row& r : t.rows) {
        d = std::max({d, tree_depth(r.condition), tree_depth(r.value)});
      }
      return 1 + d;
    }
    int operator()(const ast::list_expr& l) const { return 1 + deepest(l.items); }
    int operator()(const ast::quantifier& q) const { return 1 + tree_depth(q.body); }
    int operator()(const ast::expr& e) const { return tree_depth(e); }
    static int deepest(const std::vector<ast::expr>& xs) {
      int d = 0;
      for (const ast::expr& x : xs) d = std::max(d, tree_depth(x));
      return d;
    }
  };
  return boost::apply_visitor(visitor{}, o);
}

int tree_depth(const ast::expr& e) {
  auto k = static_cast<int>(e.rest.size());
  int d = k + tree_depth(e.first);
  for (int i = 0; i < k; ++i)
    d = std::max(d, k - i + tree_depth(e.rest[static_cast<std::size_t>(i)].rhs));
  return d;
}

/// The expressions of a declaration, for the depth bound.
std::vector<const ast::expr*> expressions_of(const ast::item& item) {
  struct visitor {
    std::vector<const ast::expr*> out;
    void operator()(const ast::enum_decl&) {}
    void operator()(const ast::record_decl&) {}
    void operator()(const ast::input_decl&) {}
    void operator()(const ast::document_decl&) {}
    void operator()(const ast::parameter_decl& p) {
      for (const ast::dated_value& v : p.values) out.push_back(&v.value);
    }
    void operator()(const ast::rule_decl& r) {
      for (const ast::clause& c : r.clauses) {
        for (const ast::expr& e : c.otherwise) out.push_back(&e);
      }
      out.push_back(&r.body);
      for (const ast::exception_decl& x : r.exceptions) {
        out.push_back(&x.condition);
        out.push_back(&x.value);
      }
    }
    void operator()(const ast::test_decl& t) {
      for (const ast::expectation& e : t.expects) {
        if (e.tail.kind == "==") out.push_back(&e.tail.value);
      }
    }
  } v;
  boost::apply_visitor(v, item);
  return std::move(v.out);
}

class driver {
 public:
  driver(const source_map& sources, file_id f, diagnostics& diags)
      : file_(f), diags_(diags), text_(sources.text(f)) {
    state_.base = text_.data();
  }

  source_span span_at(iterator_type where, iterator_type stop) const {
    auto b = static_cast<std::uint32_t>(where - text_.data());
    auto e = static_cast<std::uint32_t>(stop - text_.data());
    return {file_, b, e};
  }

  source_span token_span(iterator_type where) const {
    iterator_type end = text_.data() + text_.size();
    iterator_type p = where;
    if (p < end && (std::isalnum(static_cast<unsigned char>(*p)) || *p == '_')) {
      while (p < end && (std::isalnum(static_cast<unsigned char>(*p)) || *p == '_')) ++p;
    } else if (p < end) {
      ++p;
      while (p < end && (static_cast<unsigned char>(*p) & 0xC0) == 0x80) ++p;
    }
    return span_at(where, p);
  }

  /// The opening quote of the text literal left open at `where` (the end of its line): the
  /// line read from its start, quotes and escapes followed; `where` when none is found.
  iterator_type opening_quote(iterator_type where) const {
    iterator_type line = where;
    while (line != text_.data() && line[-1] != '\n' && line[-1] != '\r') --line;
    iterator_type open = nullptr;
    for (iterator_type p = line; p < where; ++p) {
      if (open == nullptr) {
        if (*p == '#') break;  // a comment: the literal is not after it
        if (*p == '"') open = p;
      } else if (*p == '\\') {
        ++p;
      } else if (*p == '"') {
        open = nullptr;
      }
    }
    return open != nullptr ? open : where;
  }

  /// Runs `rule` at `it`; returns true on success. On failure records one diagnostic.
  template <typename Rule, typename Attr>
  bool run(const Rule& rule, iterator_type& it, Attr& attr, const char* what) {
    iterator_type end = text_.data() + text_.size();
    state_.depth = 0;
    try {
      iterator_type start = it;
      bool ok = x3::phrase_parse(it, end, x3::with<grammar::state_tag>(state_)[rule],
                                 grammar::skipper, attr);
      if (!ok) {
        it = skip_blank(start, end);
        diags_.error(codes::syntax, token_span(it),
                     std::string("expected ") + what + ", found " + describe_found(it, end));
      }
      return ok;
    } catch (const x3::expectation_failure<iterator_type>& failure) {
      it = failure.where();
      iterator_type at = skip_blank(it, end);
      if (failure.which() == "closing '\"'") {
        // At the literal's opening quote, on its own line (not at the next line's first token,
        // which skipping blanks would reach).
        const iterator_type open = opening_quote(it);
        diags_.error(codes::unterminated_text, span_at(open, open),
                     "text literal is not closed before the end of line");
      } else {
        // Every committed parser is a named rule; a mangled type name would be a grammar bug,
        // so it is not shown to the author.
        std::string which = failure.which();
        if (which.rfind("N5boost", 0) == 0) which = "something else";
        diags_.error(codes::syntax, token_span(at),
                     "expected " + which + ", found " + describe_found(at, end));
      }
      return false;
    } catch (const grammar::nesting_too_deep& deep) {
      it = deep.where;
      diags_.error(codes::nesting_too_deep, token_span(skip_blank(it, end)),
                   "nesting is too deep (more than " +
                       std::to_string(grammar::parse_state::max_depth) + " levels)");
      return false;
    }
  }

  /// Whether an expression of `item` is deeper than limits::max_syntax_depth (reported).
  bool too_deep(const ast::item& item) {
    for (const ast::expr* e : expressions_of(item)) {
      int d = tree_depth(*e);
      if (d > limits::max_syntax_depth) {
        diags_.error(codes::nesting_too_deep,
                     span_at(text_.data() + e->begin, text_.data() + e->begin),
                     "expression is too deep: its operators nest " + std::to_string(d) +
                         " levels (at most " + std::to_string(limits::max_syntax_depth) +
                         "); split it into several rules");
        return true;
      }
    }
    return false;
  }

  std::optional<ast::module> module() {
    iterator_type it = text_.data();
    iterator_type end = it + text_.size();
    if (std::optional<std::size_t> bad = first_invalid_utf8(text_)) {
      diags_.error(codes::unreadable, span_at(it + *bad, it + *bad + 1),
                   "the file is not valid UTF-8");
      return std::nullopt;
    }
    // A lone CR would end a comment for X3 but not for line numbering: refuse it rather than
    // risk positions (or a comment's end) that differ between the two.
    for (std::size_t i = text_.find('\r'); i != std::string::npos; i = text_.find('\r', i + 1)) {
      if (i + 1 == text_.size() || text_[i + 1] != '\n') {
        diags_.error(codes::lone_carriage_return, span_at(it + i, it + i + 1),
                     "line break is a lone carriage return (CR); save the file with LF or CRLF "
                     "line endings");
        return std::nullopt;
      }
    }
    // A control character would reach a terminal as it is (in a diagnostic's quote, a title or
    // an explanation printed by dalil eval), and a bidirectional control would make the source
    // read in another order than it is checked ("Trojan source"): refused wherever it is.
    for (std::size_t i = 0; i < text_.size();) {
      const std::size_t n = dsl::utf8_sequence_length(std::string_view(text_).substr(i));
      const std::uint32_t cp = dsl::utf8_code_point(std::string_view(text_).substr(i, n));
      const bool control =
          (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || dsl::hidden_control(cp);
      if (control && diags_.accepted_before()) {
        diags_.warning(codes::control_character, span_at(it + i, it + i + n),
                       "a control character in a stored rule source (refused in a new one)");
        break;
      }
      if (control) {
        char code[16];
        std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(cp));
        diags_.error(codes::control_character, span_at(it + i, it + i + n),
                     std::string(cp >= 0x202A ? "a bidirectional control character ("
                                              : "a control character (") +
                         code + ") has no place in a rule source; remove it");
        return std::nullopt;
      }
      i += n;
    }
    // A '\\' at the end of a text literal's line escapes the line break, and the literal runs on
    // into the next line (an unclosed literal, or a Windows path ending in '\\', reported lines
    // later or not at all): refused at the literal's opening quote. A stored source keeps it.
    if (std::optional<std::size_t> open = backslash_line_break(text_)) {
      if (diags_.accepted_before()) {
        diags_.warning(codes::unterminated_text, span_at(it + *open, it + *open),
                       "a text literal continued past its line by a '\\' in a stored rule "
                       "source (refused in a new one)");
      } else {
        diags_.error(codes::unterminated_text, span_at(it + *open, it + *open),
                     "text literal is not closed before the end of line (the '\\' at its end "
                     "escapes the line break; write '\\\\' for a backslash)");
        return std::nullopt;
      }
    }
    // A UTF-8 byte-order mark is not part of the text; spans stay offsets into the whole file.
    if (has_bom(text_)) it += bom.size();
    ast::module result;
    result.file = file_;
    if (!run(grammar::module_header_rule(), it, result.header, "'module NAME'")) {
      return std::nullopt;
    }
    result.begin = result.header.begin;
    while (true) {
      it = skip_blank(it, end);
      if (it >= end) break;
      ast::item item;
      iterator_type start = it;
      if (run(grammar::item_rule(), it, item,
              "a declaration (enum, record, input, parameter, rule, test or document)")) {
        if (!too_deep(item)) result.items.push_back(std::move(item));
        continue;
      }
      it = resync(start, skip_blank(std::max(it, start), end), end);
    }
    result.end = static_cast<std::uint32_t>(text_.size());
    return result;
  }

 private:
  file_id file_;
  diagnostics& diags_;
  const std::string& text_;
  grammar::parse_state state_;
};

}  // namespace

std::optional<ast::module> parse(const source_map& sources, file_id f, diagnostics& diags) {
  return driver(sources, f, diags).module();
}

}  // namespace dalil::dsl
