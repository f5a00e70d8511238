// Hostile rule sources: ill-formed UTF-8, a byte-order mark, CR line endings, NUL bytes, nesting
// at the limit, floods of errors and huge tokens. Each is refused or read with right positions
// and bounded output; none crashes. (Time is not asserted here: tests/adversarial runs the same
// shapes through the CLI under a 20 s watchdog per case.)
#include <catch2/catch.hpp>

#include "dsl/checker.hpp"
#include "dsl/formatter.hpp"
#include "dsl/limits.hpp"
#include "dsl/parser.hpp"

using namespace dalil::dsl;

namespace {

struct parsed {
  source_map sources;
  diagnostics diags;
  std::optional<ast::module> module;
  std::optional<program> prog;
};

std::unique_ptr<parsed> parse_text(const std::string& text, bool and_check = true) {
  auto r = std::make_unique<parsed>();
  file_id f = r->sources.add("t.dalil", text);
  r->module = parse(r->sources, f, r->diags);
  if (and_check && r->module && !r->diags.has_errors()) {
    std::vector<ast::module> ms{*r->module};
    r->prog = check(r->sources, ms, r->diags);
  }
  return r;
}

/// "CODE line:col" of each diagnostic.
std::vector<std::string> where(const parsed& r) {
  std::vector<std::string> out;
  for (const diagnostic& d : r.diags.all()) {
    line_column p = r.sources.position(d.span.file, d.span.begin);
    out.push_back(d.code + " " + std::to_string(p.line) + ":" + std::to_string(p.column));
  }
  return out;
}

// NOLINTNEXTLINE(cert-err58-cpp)
const std::string header =
    "module m\n  title fr \"t\" ar \"t\" en \"t\"\n"
    "record A { x : int }\ninput a : A\n";  // 4 lines

}  // namespace

TEST_CASE("robustness: ill-formed UTF-8 in a literal or comment is E0005 at its position",
          "[dsl][parser][robustness]") {
  const char* bad[] = {
      "\xC0\xAF",          // overlong '/'
      "\xE0\x80\xAF",      // overlong, three bytes
      "\xF0\x80\x80\xAF",  // overlong, four bytes
      "\xED\xA0\x80",      // surrogate U+D800
      "\xED\xBF\xBF",      // surrogate U+DFFF
      "\xF4\x90\x80\x80",  // past U+10FFFF
      "\xE2\x82",          // truncated
      "\x80",              // lone continuation byte
      "\xFF",
  };
  for (const char* b : bad) {
    INFO(b);
    auto lit = parse_text(header + "rule r : text\n  source \"s\"\n  = \"ab" + b + "\"\n");
    CHECK(where(*lit) == std::vector<std::string>{"E0005 7:8"});
    auto comment = parse_text(header + "# " + b + "\n");
    CHECK(where(*comment) == std::vector<std::string>{"E0005 5:3"});
    std::string shown = render_all(lit->sources, lit->diags);
    CHECK(shown.find(b) == std::string::npos);  // the snippet shows U+FFFD, not the bytes
  }
  CHECK_FALSE(
      parse_text(header + "rule r : text\n  source \"\xF4\x8F\xBF\xBF \xED\x9F\xBF\"\n  = \"x\"\n")
          ->diags.has_errors());
}

TEST_CASE("robustness: a leading byte-order mark is skipped and takes no column",
          "[dsl][parser][robustness]") {
  const std::string bom = "\xEF\xBB\xBF";
  auto ok = parse_text(bom + header + "rule r : int\n  source \"s\"\n  = 1\n");
  CHECK(where(*ok).empty());
  CHECK(ok->prog.has_value());
  auto line1 = parse_text(bom + "modul m\n");
  CHECK(where(*line1) == std::vector<std::string>{"E0001 1:1"});
  std::string shown = render_all(line1->sources, line1->diags);
  CHECK(shown.find("found 'modul'") != std::string::npos);
  CHECK(shown.find(bom) == std::string::npos);
  auto later = parse_text(bom + "module m titl\n");
  CHECK(where(*later) == std::vector<std::string>{"E0001 1:10"});
  // A mark anywhere else is a character like another, named by its code point.
  auto inside = parse_text(header + bom + "rule r : int\n");
  CHECK(where(*inside) == std::vector<std::string>{"E0001 5:1"});
  CHECK(inside->diags.all()[0].message.find("U+FEFF") != std::string::npos);
}

TEST_CASE("robustness: CRLF positions are right, and a lone CR is refused where it stands",
          "[dsl][parser][robustness]") {
  auto crlf = parse_text(
      "module m\r\n  title fr \"t\" ar \"t\" en \"t\" # c\r\nrecord A { x : int }\r\n"
      "input a : A\r\nrule r : int\r\n  source \"s\"\r\n  = 1 +\r\n");
  CHECK(where(*crlf) == std::vector<std::string>{"E0001 8:1"});
  auto comment = parse_text(
      "module m\r\n  title fr \"t\" ar \"t\" en \"t\" # c\r\n"
      "record A { x : int }\r\ninput a : A\r\n");
  CHECK(where(*comment).empty());
  auto lone = parse_text("module m\n  title fr \"t\" ar \"t\" en \"t\" # c\rrule r : int\r\n");
  CHECK(where(*lone) == std::vector<std::string>{"E0007 2:33"});
  CHECK_FALSE(lone->module.has_value());
  std::string shown = render_all(lone->sources, lone->diags);
  CHECK(shown.find('\r') == std::string::npos);
}

TEST_CASE("robustness: a literal ending in '\\' before CRLF is refused at its quote, as before LF",
          "[dsl][parser][robustness]") {
  const std::string head =
      "module m\r\n  title fr \"t\" ar \"t\" en \"t\"\r\nrecord A { x : int }\r\n"
      "input a : A\r\nrule r : bool\r\n";
  // The '\' escaped the CR, and the literal ran on into the next line.
  auto crlf = parse_text(head + "  source \"C:\\\\dir\\\r\n  x\" = true\r\n");
  CHECK(where(*crlf) == std::vector<std::string>{"E0002 6:10"});
  const std::string shown = render_all(crlf->sources, crlf->diags);
  CHECK(shown.find("escapes the line break") != std::string::npos);
  CHECK(shown.find('\r') == std::string::npos);
  // A '\\' at the end (an escaped backslash) closes nothing early: the literal is closed.
  auto fine = parse_text(head + "  source \"C:\\\\dir\\\\\"\r\n  = true\r\n");
  CHECK(where(*fine).empty());
  // A comment holding a quote and a '\' at its line's end is no literal.
  auto comment = parse_text(head + "  source \"s\" # \"C:\\dir\\\r\n  = true\r\n");
  CHECK(where(*comment).empty());
}

TEST_CASE("robustness: NUL and control bytes are named, never printed raw",
          "[dsl][parser][robustness]") {
  auto r = parse_text(header + std::string("rule r : int\n  source \"s\"\n  = 1 ") + '\0' + " 2\n" +
                      "\x1b[2J");
  std::string shown = render_all(r->sources, r->diags);
  CHECK(shown.find('\0') == std::string::npos);
  CHECK(shown.find('\x1b') == std::string::npos);
  CHECK(shown.find("U+0000") != std::string::npos);
}

TEST_CASE("robustness: 64 levels of nesting are accepted, 65 are refused at the 65th",
          "[dsl][parser][robustness]") {
  const int n = limits::max_nesting;
  auto nest = [&](const std::string& open, const std::string& leaf, const std::string& close,
                  int levels) {
    std::string body;
    for (int i = 0; i < levels; ++i) body += open;
    body += leaf;
    for (int i = 0; i < levels; ++i) body += close;
    return header + "rule r : int\n  source \"s\"\n  = " + body + "\n";
  };
  struct row {
    std::string open, leaf, close;
    int width;  // columns per opening
  };
  const row rows[] = {
      {"(", "a.x", ")", 1},
      {"-", "a.x", "", 1},
      {"if true then 1 else ", "0", "", 20},
      {"max(1, ", "2", ")", 7},
  };
  for (const row& x : rows) {
    INFO(x.open);
    CHECK(where(*parse_text(nest(x.open, x.leaf, x.close, n))).empty());
    CHECK(where(*parse_text(nest(x.open, x.leaf, x.close, n + 1))) ==
          std::vector<std::string>{"E0003 7:" + std::to_string(5 + n * x.width)});
  }
  std::string nots = header + "rule r : bool\n  source \"s\"\n  = ";
  for (int i = 0; i < n; ++i) nots += "not ";
  CHECK(where(*parse_text(nots + "true\n")).empty());
  CHECK(where(*parse_text(nots + "not true\n")) ==
        std::vector<std::string>{"E0003 7:" + std::to_string(5 + n * 4)});
  auto deep = parse_text(nots + "not true\n");
  CHECK(deep->diags.all()[0].message == "nesting is too deep (more than 64 levels)");
}

TEST_CASE("robustness: diagnostics are capped, the rest counted", "[dsl][parser][robustness]") {
  std::string text = header;
  for (int i = 0; i < 100000; ++i) text += "rule r" + std::to_string(i) + " : bool = 1 +\n";
  auto r = parse_text(text, false);
  CHECK(r->diags.error_count() == 100000);
  CHECK(r->diags.all().size() == limits::max_diagnostics);
  std::string shown = render_all(r->sources, r->diags);
  CHECK(shown.find("too many diagnostics (99000 more not shown)\n100000 errors, 0 warnings\n") !=
        std::string::npos);
}

TEST_CASE("robustness: huge tokens and garbage parse with bounded output",
          "[dsl][parser][robustness]") {
  const std::size_t mb = 1 << 20;
  std::string garbage;
  const std::string alphabet = "rule table | => ( ) [ ] : = < + - \" # \n if then and not a 1 ";
  std::uint32_t seed = 7;
  while (garbage.size() < 4 * mb - header.size() - 1) {
    seed = seed * 1664525U + 1013904223U;
    garbage += alphabet[(seed >> 16U) % alphabet.size()];
  }
  const std::string rule = "rule r : text\n  source \"s\"\n  = ";
  const std::string cases[] = {
      header + garbage,
      header + rule + "\"" + std::string(mb, 'x') + "\"\n",
      header + rule + "a." + std::string(mb, 'x') + "\n",
      header + rule + std::string(mb, 'x') + " +\n",
      header + "#" + std::string(mb, 'x') + "\n" + rule + "\"x\"\n",
      header + rule + "\"" + std::string(mb, 'x'),  // unterminated at the end of file
      header + rule + std::string(mb, '9') + "\n",
  };
  for (const std::string& text : cases) {
    auto r = parse_text(text);
    std::string shown = render_all(r->sources, r->diags);
    CHECK(shown.size() < 400 * limits::max_diagnostics);  // a window of each long line
  }
}

TEST_CASE("robustness: out-of-range literals are errors, not crashes",
          "[dsl][parser][robustness]") {
  const char* bodies[] = {
      "99999999999999999999 MAD",    "999999999999999999999999999999",
      "99999999999999999999 years",  "1.9999999999999999999999999999999999999999",
      "9999-12-31 + 99999999 years",
  };
  for (const char* b : bodies) {
    INFO(b);
    auto r = parse_text(header + "rule r : int\n  source \"s\"\n  = " + b + "\n");
    CHECK(r->diags.has_errors());
  }
  auto date = parse_text(header + "parameter p : date\n  source \"s\"\n  from 99999-01-01 = 1\n");
  CHECK(where(*date) == std::vector<std::string>{"E0001 7:8"});
}

TEST_CASE("robustness: a chain of operators deeper than the limit is E0003, not a stack overflow",
          "[dsl][parser][robustness]") {
  auto chain = [](int operators, const char* op) {
    std::string body = "a.x";
    for (int i = 0; i < operators; ++i) body += std::string(" ") + op + " a.x";
    return header + "rule r : int\n  source \"s\"\n  = " + body + "\n";
  };
  const int n = limits::max_syntax_depth;
  // `a + … + a` with k operators is a tree k + 1 deep. At the parser's limit the tree is built,
  // and the checker refuses it for its own, lower limit (E0310).
  auto at_limit = parse_text(chain(n - 1, "+"));
  REQUIRE_FALSE(where(*at_limit).empty());
  CHECK(where(*at_limit)[0].rfind("E0310", 0) == 0);
  CHECK_FALSE(at_limit->prog.has_value());
  auto past = parse_text(chain(n, "*"));
  CHECK(where(*past) == std::vector<std::string>{"E0003 7:5"});
  CHECK(past->diags.all()[0].message ==
        "expression is too deep: its operators nest 2001 levels (at most 2000); split it into "
        "several rules");
  auto huge = parse_text(chain(200000, "-"));  // was a crash in the evaluator past ~60,000
  CHECK(where(*huge) == std::vector<std::string>{"E0003 7:5"});
  // Inside parentheses and a table row too: the deepest path counts.
  std::string nested =
      header + "rule r : int\n  source \"s\"\n  = table first\n    | a.x > 1 => (1";
  for (int i = 0; i < n; ++i) nested += " + a.x";
  nested += ")\n    | otherwise => 0\n";
  CHECK(where(*parse_text(nested)) == std::vector<std::string>{"E0003 7:5"});
}

TEST_CASE("robustness: a 100,000-row table parses and formats", "[dsl][parser][fmt][robustness]") {
  std::string text = header + "rule r : int\n  source \"s\"\n  = table first\n";
  for (int i = 0; i < 100000; ++i) {
    text += "    | a.x == " + std::to_string(i) + " => " + std::to_string(i) + "\n";
  }
  text += "    | otherwise => 0\n";
  auto r = parse_text(text, false);  // the checker's table analysis is not timed here
  REQUIRE(r->module);
  CHECK_FALSE(r->diags.has_errors());
  std::string formatted = format(r->sources, *r->module);
  CHECK(formatted.size() > text.size() / 2);
}

namespace {

/// The diagnostics of a file named `name` whose rule `r : int` is the text literal `literal`
/// (an error: a control character refused, E0008, else a text where an int is expected, quoted
/// in the message), as a terminal would be shown them.
std::string shown_for_text_rule(const std::string& name, const std::string& literal) {
  source_map sources;
  diagnostics diags;
  file_id f = sources.add(name, header + "rule r : int\n  source \"s\"\n  = \"" + literal + "\"\n");
  if (auto m = parse(sources, f, diags)) {
    std::vector<ast::module> ms{*m};
    check(sources, ms, diags);
  }
  REQUIRE(diags.has_errors());
  return render_all(sources, diags);
}

}  // namespace

TEST_CASE("robustness: a control character in a text literal or a file name is not printed raw",
          "[dsl][parser][robustness]") {
  std::string shown = shown_for_text_rule("evil\x1b]0;title\x07.dalil", "\x1b[2J");
  CHECK(shown.find('\x1b') == std::string::npos);
  CHECK(shown.find('\x07') == std::string::npos);
  CHECK(shown.find("error[E0008]: a control character (U+001B)") != std::string::npos);
  // A C1 control (U+009B, a CSI some terminals obey) shows as U+FFFD, and is refused.
  shown = shown_for_text_rule("m.dalil",
                              "\xC2\x9B"
                              "2J");
  CHECK(shown.find("\xC2\x9B") == std::string::npos);
  CHECK(shown.find("\xEF\xBF\xBD"
                   "2J") != std::string::npos);
  CHECK(shown.find("error[E0008]: a control character (U+009B)") != std::string::npos);
  // A right-to-left override (U+202E) would reorder the rest of the line: shown as U+FFFD,
  // and refused.
  shown = shown_for_text_rule("m.dalil",
                              "\xE2\x80\xAE"
                              "2J");
  CHECK(shown.find("\xE2\x80\xAE") == std::string::npos);
  CHECK(shown.find("error[E0008]: a bidirectional control character (U+202E)") !=
        std::string::npos);
  // A file name is shown the same way whatever the error: a text where an int is expected.
  shown = shown_for_text_rule("evil\x1b]0;title\x07.dalil", "plain");
  CHECK(shown.find('\x1b') == std::string::npos);
  CHECK(shown.find("error[E0305]") != std::string::npos);
}

TEST_CASE("robustness: a table reaching the end of a whole number's or a date's range has no gap",
          "[dsl][checker][robustness]") {
  // One past the largest int overflowed to the smallest, and one past 9999-12-31 was shown as
  // 9999-01-01: each table below covers every value and was refused with E0602.
  const std::string dated =
      "module m\n  title fr \"t\" ar \"t\" en \"t\"\n"
      "record A { x : int\n  d : date }\ninput a : A\n";
  for (const std::string rows :
       {"    | a.x <= 9223372036854775807 => 1\n", "    | a.x < 0 => 1\n    | a.x >= 0 => 2\n",
        "    | a.d <= 9999-12-31 => 1\n",
        "    | a.d < 2000-01-01 => 1\n    | a.d >= 2000-01-01 => 2\n",
        "    | a.d >= 0001-01-01 => 1\n"}) {
    INFO(rows);
    auto r = parse_text(dated + "rule r : int\n  source \"s\"\n  = table first\n" + rows);
    CHECK(where(*r).empty());
  }
  // A real gap at either end is still one, named in the range.
  auto top = parse_text(dated + "rule r : int\n  source \"s\"\n  = table first\n" +
                        "    | a.d < 9999-12-31 => 1\n");
  REQUIRE(where(*top) == std::vector<std::string>{"E0602 8:5"});
  CHECK(render_all(top->sources, top->diags).find("9999-12-31") != std::string::npos);
  // A row past the largest whole number matches nothing (it read as covering every value).
  auto past = parse_text(dated + "rule r : int\n  source \"s\"\n  = table first\n" +
                         "    | a.x > 9223372036854775807 => 1\n");
  CHECK(where(*past) == std::vector<std::string>{"E0602 8:5"});
  auto low = parse_text(dated + "rule r : int\n  source \"s\"\n  = table first\n" +
                        "    | a.d > 0001-01-01 => 1\n");
  REQUIRE(where(*low) == std::vector<std::string>{"E0602 8:5"});
  CHECK(render_all(low->sources, low->diags).find("0001-01-01") != std::string::npos);
}
