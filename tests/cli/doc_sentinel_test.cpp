// `dalil doc` in each language writes no word of its own: rendered through a catalogue whose
// every message is a marker ⟦id⟧, over a pack whose every text is a marker ⟪…⟫, what is left of
// both documents once markers, identifiers (code), markup, digits and spaces are taken out is
// nothing. And the Arabic page is set right to left with its left-to-right runs isolated.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "cli/doc.hpp"
#include "dsl/checker.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/parser.hpp"
#include "engine/catalogue.hpp"

namespace dsl = dalil::dsl;
namespace eng = dalil::engine;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using eng::lang;

namespace {

const std::string doc_pack = R"dalil(module m

enum Tier { low, high }

record Household {
  income : money
  size : int
}

record Applicant {
  minor : bool?
  tier : Tier?
  household : Household
}

input applicant : Applicant

parameter ceiling : money
  source "x"
  confidence provisional
  from 2015-01-01 = 20000.5 MAD
  from 2016-01-01 = 21000 MAD

parameter score : decimal
  source "x"
  from 2015-01-01 = 9.3264284

rule poor : bool
  source "x"
  = applicant.household.income <= ceiling

rule eligible : bool
  source "x"
  in_force from 2016-01-01 until 2016-12-31 otherwise false
  explain fr "x {value} {poor}" ar "x {value} {poor}" en "x {value} {poor}"
  = poor and applicant.tier == low
  exception minor_first
    source "x"
    when applicant.minor = true

rule later : bool
  source "x"
  in_force from 2017-01-01 otherwise not_encoded "x"
  = not_encoded "x"

rule earlier : Tier
  source "x"
  in_force until 2015-12-31
  = Tier.high
)dalil";

dsl::texts marked(const std::string& what) {
  return {{"fr", "⟪" + what + ":fr⟫"}, {"ar", "⟪" + what + ":ar⟫"}, {"en", "⟪" + what + ":en⟫"}};
}

/// Every text of the pack a marker; a document proving the household's fields, constraints.
void label(dsl::program& p) {
  for (dsl::module_info& m : p.modules) {
    m.title = {{"fr", "⟪M:fr⟫"}, {"ar", "⟪M:ar⟫"}, {"en", "⟪M:en⟫"}};
    m.program = "⟪program⟫";
    m.osp = "⟪osp⟫";
    m.source = "⟪source⟫";
  }
  p.documents.push_back({"income_statement", marked("D:income"), {}});
  for (dsl::record_info& r : p.records) {
    for (dsl::field_info& f : r.fields) {
      f.title = marked("F:" + f.name);
      if (f.name == "household") f.proof = 0;
      if (f.name == "income") f.constraint.at_least = dalil::rational{0, 1};
      if (f.name == "size") {
        f.constraint.at_least = dalil::rational{1, 1};
        f.constraint.at_most = dalil::rational{40, 1};
      }
    }
  }
  for (dsl::fact_info& f : p.facts) {
    f.title = marked("F:" + f.path);
    if (f.path.rfind("household.", 0) == 0) f.proof = 0;
  }
  for (dsl::enum_info& e : p.enums) {
    e.case_titles.clear();
    for (const std::string& c : e.cases) e.case_titles.push_back(marked("C:" + c));
  }
  for (dsl::parameter_info& q : p.parameters) q.source = "⟪S:" + q.name + "⟫";
  for (dsl::rule_info& r : p.rules) {
    r.source = "⟪S:" + r.name + "⟫";
    r.title = marked("R:" + r.name);
    if (r.name == "eligible") {
      r.explain = marked("E:" + r.name);
      r.period = marked("P:" + r.name);
    }
    for (dsl::exception_info& x : r.exceptions) {
      x.source = "⟪S:" + x.name + "⟫";
      x.explain = marked("X:" + x.name);
    }
  }
  for (dsl::expression& e : p.expressions) {
    if (e.o == dsl::op::not_encoded) e.reason = marked("N");
  }
}

struct checked {
  dsl::source_map sources;
  dsl::diagnostics diags;
  std::vector<dsl::ast::module> modules;
  std::optional<dsl::program> program;
};

std::unique_ptr<checked> check(const std::string& text) {
  auto c = std::make_unique<checked>();
  dsl::file_id f = c->sources.add("w.dalil", text);
  auto m = dsl::parse(c->sources, f, c->diags);
  INFO(dsl::render_all(c->sources, c->diags));
  REQUIRE((m.has_value() && !c->diags.has_errors()));
  c->modules.push_back(std::move(*m));
  c->program = dsl::check(c->sources, c->modules, c->diags);
  INFO(dsl::render_all(c->sources, c->diags));
  REQUIRE(c->program.has_value());
  label(*c->program);
  return c;
}

/// `s` without each span from `open` to the next `close` (both included).
std::string without(std::string s, std::string_view open, std::string_view close) {
  for (std::size_t at = 0; (at = s.find(open, at)) != std::string::npos;) {
    const std::size_t end = s.find(close, at + open.size());
    s.erase(at, end == std::string::npos ? std::string::npos : end + close.size() - at);
  }
  return s;
}

/// What is left once the markers, bidi isolates, digits, spaces and `allowed` are taken out.
std::string leftover(std::string s, std::string_view allowed) {
  s = without(std::move(s), "\u27E6", "\u27E7");
  s = without(std::move(s), "\u27EA", "\u27EB");
  for (const char* control : {"\u2066", "\u2067", "\u2068", "\u2069", "\u200F"}) {
    for (std::size_t at = 0; (at = s.find(control, at)) != std::string::npos;) s.erase(at, 3);
  }
  std::string out;
  for (char ch : s) {
    if ((ch >= '0' && ch <= '9') || ch == ' ' || ch == '\n' || ch == '-') continue;
    if (allowed.find(ch) != std::string_view::npos) continue;
    out.push_back(ch);
  }
  return out;
}

/// The HTML page's words: no style sheet, no code or formula, no tag, no entity.
std::string html_residue(const std::string& html) {
  std::string s = without(html, "<style>", "</style>");
  s = without(std::move(s), "<code", "</code>");
  s = without(std::move(s), "<pre", "</pre>");
  s = without(std::move(s), "<", ">");
  s = without(std::move(s), "&", ";");
  return leftover(std::move(s), "");
}

/// The Markdown's words: no code span or fence, no tag, no link target, no Markdown syntax.
std::string markdown_residue(const std::string& md) {
  std::string s = without(md, "```", "```");
  s = without(std::move(s), "`", "`");
  s = without(std::move(s), "](#", ")");
  s = without(std::move(s), "<", ">");
  return leftover(std::move(s), "#*|[]\\");
}

}  // namespace

TEST_CASE("doc: every word around the pack's texts comes from the catalogue", "[cli][doc]") {
  auto c = check(doc_pack);
  const eng::catalogue sentinel = eng::sentinel_catalogue();
  for (lang l : eng::languages) {
    INFO("language " << eng::lang_code(l));
    const dalil::cli::doc_pages pages =
        dalil::cli::render_doc(*c->program, c->sources, "rules", l, sentinel);
    INFO(pages.html);
    CHECK(html_residue(pages.html).empty());
    INFO(pages.markdown);
    CHECK(markdown_residue(pages.markdown).empty());
    // The pack's texts and the catalogue's messages are all there.
    for (const char* shown : {"⟪M:",
                              "⟪program⟫",
                              "⟪osp⟫",
                              "⟪source⟫",
                              "⟪D:income:",
                              "⟪F:income:",
                              "⟪C:low:",
                              "⟪S:ceiling⟫",
                              "⟪R:eligible:",
                              "⟪E:eligible:",
                              "⟪P:eligible:",
                              "⟪X:minor_first:",
                              "⟪N:",
                              "⟦doc_title⟧",
                              "⟦doc_period_between⟧",
                              "⟦doc_period_from⟧",
                              "⟦doc_period_until⟧",
                              "⟦doc_outside_value⟧",
                              "⟦doc_outside_not_encoded⟧",
                              "⟦doc_outside_undetermined⟧",
                              "⟦doc_from_value⟧",
                              "⟦doc_at_most⟧",
                              "⟦doc_where_formula⟧",
                              "⟦doc_exception_caption⟧"}) {
      CHECK_THAT(pages.html, Contains(shown));
    }
    // And the built-in catalogue does say something in those places.
    const dalil::cli::doc_pages words =
        dalil::cli::render_doc(*c->program, c->sources, "rules", l, eng::builtin_catalogue());
    CHECK_FALSE(html_residue(words.html).empty());
    CHECK_FALSE(markdown_residue(words.markdown).empty());
  }
}

TEST_CASE("doc: the Arabic page reads right to left, its left-to-right runs isolated",
          "[cli][doc]") {
  auto c = check(doc_pack);
  const dalil::cli::doc_pages ar =
      dalil::cli::render_doc(*c->program, c->sources, "rules", lang::ar);
  CHECK_THAT(ar.html, Contains("<html lang=\"ar\" dir=\"rtl\">"));
  CHECK_THAT(ar.html, Contains("<code dir=\"ltr\">") && !Contains("<code>") &&
                          Contains("<pre dir=\"ltr\">"));
  // A French text inside the Arabic page carries its language and direction.
  CHECK_THAT(ar.html, Contains("<span dir=\"ltr\" lang=\"fr\">⟪R:eligible:fr⟫</span>"));
  // The Arabic explanation, in its own page, has its placeholders isolated.
  CHECK_THAT(ar.html, Contains("⟪E:eligible:ar⟫"));
  CHECK_THAT(ar.markdown, StartsWith("<div dir=\"rtl\" lang=\"ar\">\n\n# "));
  // Dates in Arabic words, the exact figure with its decimals.
  CHECK_THAT(ar.html, Contains("يناير") && Contains("9,3264284"));
  const dalil::cli::doc_pages fr =
      dalil::cli::render_doc(*c->program, c->sources, "rules", lang::fr);
  CHECK_THAT(fr.html, Contains("<html lang=\"fr\" dir=\"ltr\">") &&
                          Contains("<span dir=\"rtl\" lang=\"ar\">⟪R:eligible:ar⟫</span>") &&
                          Contains("du 1er janvier 2016 au 31 décembre 2016 inclus") &&
                          Contains("20\u202F000,50 MAD") && Contains("9,3264284") &&
                          Contains("<dd>la décision vaut « non »</dd>"));
  const dalil::cli::doc_pages en =
      dalil::cli::render_doc(*c->program, c->sources, "rules", lang::en);
  CHECK_THAT(en.html, Contains("<h2 id=\"contents\">Contents</h2>") &&
                          Contains("from 1 January 2016 to 31 December 2016 inclusive") &&
                          Contains("at most 40") && !Contains("Sommaire"));
}
