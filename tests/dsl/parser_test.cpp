// Parser and checker behaviour that goldens do not show well: recovery, bounds, robustness.
#include "dsl/parser.hpp"
#include "dsl/checker.hpp"
#include "dsl/formatter.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace dalil::dsl;

namespace {

struct result {
  source_map sources;
  diagnostics diags;
  std::vector<ast::module> modules;
  std::optional<program> prog;
};

std::unique_ptr<result> check_text(const std::string& text) {
  auto r = std::make_unique<result>();
  file_id f = r->sources.add("t.dalil", text);
  auto m = parse(r->sources, f, r->diags);
  if (m) r->modules.push_back(std::move(*m));
  if (!r->diags.has_errors()) r->prog = check(r->sources, r->modules, r->diags);
  return r;
}

std::vector<std::string> codes(const diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& x : d.all()) out.push_back(x.code);
  return out;
}

const std::string header = R"(module m
  title fr "t" ar "t" en "t"
enum Sex { female, male }
record Applicant { sex : Sex  birth_date : date  income : money  size : int }
input applicant : Applicant
)";

}  // namespace

TEST_CASE("the parser resumes after a syntax error and reports the next one", "[dsl][parser]") {
  auto r = check_text(header + R"(
rule a : bool
  source "s"
  = applicant.income >
rule b : bool
  source "s"
  = if true 1 else 2
rule c : bool
  source "s"
  = true
)");
  REQUIRE(r->diags.error_count() == 2);
  CHECK(codes(r->diags) == std::vector<std::string>{"E0001", "E0001"});
}

TEST_CASE("nesting is bounded instead of overflowing the stack", "[dsl][parser]") {
  std::string deep = header + "rule a : bool\n  source \"s\"\n  = " + std::string(5000, '(') +
                     "true" + std::string(5000, ')') + "\n";
  auto r = check_text(deep);
  REQUIRE(r->diags.error_count() == 1);
  CHECK(r->diags.all()[0].code == "E0003");
  std::string nots = header + "rule a : bool\n  source \"s\"\n  = ";
  for (int i = 0; i < 5000; ++i) nots += "not ";
  auto r2 = check_text(nots + "true\n");
  CHECK(codes(r2->diags) == std::vector<std::string>{"E0003"});
}

TEST_CASE("precedence: and binds tighter than or, comparison tighter than not", "[dsl][parser]") {
  auto r = check_text(header + R"(
rule a : bool
  source "s"
  = not applicant.size > 3 or applicant.sex == female and applicant.income <= 3000 MAD
)");
  REQUIRE(r->prog);
  const program& p = *r->prog;
  const expression& top = p.expressions[p.rules[0].body];
  CHECK(top.o == op::or_);
  CHECK(p.expressions[top.args[0]].o == op::not_);
  CHECK(p.expressions[p.expressions[top.args[0]].args[0]].o == op::gt);
  CHECK(p.expressions[top.args[1]].o == op::and_);
}

TEST_CASE("money arithmetic types", "[dsl][checker]") {
  struct row {
    const char* expr;
    const char* code;  // empty: valid
  };
  const row rows[] = {
      {"applicant.income / 12 <= 3000 MAD", ""},
      {"applicant.income / applicant.size < 3767 MAD", ""},
      {"applicant.income * 2 > 0 MAD", ""},
      {"applicant.income / applicant.income > 1", ""},
      {"applicant.income * applicant.income > 0 MAD", "E0301"},
      {"applicant.income + applicant.birth_date > 0 MAD", "E0301"},
      {"applicant.income > 3000", "E0302"},
      {"applicant.birth_date + 5 years <= as_of", ""},
      {"applicant.birth_date + 5 years <= 2014-01-01", ""},
      {"applicant.sex == null", "E0309"},
      {"applicant.sex < female", "E0302"},
      {"if applicant.size then true else false", "E0303"},
  };
  for (const row& x : rows) {
    auto r = check_text(header + "rule a : bool\n  source \"s\"\n  = " + x.expr + "\n");
    INFO(x.expr);
    if (*x.code == 0) {
      CHECK_FALSE(r->diags.has_errors());
    } else {
      CHECK(codes(r->diags) == std::vector<std::string>{x.code});
    }
  }
}

TEST_CASE("random bytes never crash the parser or the checker", "[dsl][parser][fuzz]") {
  std::mt19937 rng(20261123);
  const std::string alphabet =
      "module rule table first | => ( ) [ ] { } : = < > + - * / \" # \n"
      "if then else and or not a b 1 2.5 2014-01-01 MAD years ";
  for (int i = 0; i < 300; ++i) {
    std::string text = header;
    std::uniform_int_distribution<std::size_t> len(0, 200);
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::size_t n = len(rng);
    for (std::size_t k = 0; k < n; ++k) text += alphabet[pick(rng)];
    auto r = check_text(text);
    for (const auto& d : r->diags.all()) {
      CHECK(d.span.end <= r->sources.text(0).size());
      CHECK_FALSE(render(r->sources, d).empty());
    }
  }
}

TEST_CASE("a precedence level of one operand costs no node of its own", "[dsl][parser]") {
  // `a.x` passes through or, and, comparison, sum and product: one expression holds the path,
  // instead of five nested heap-allocated ones (a 3 MB pack took 150 MB to parse and format).
  source_map sources;
  diagnostics diags;
  auto m =
      parse(sources,
            sources.add("t.dalil", header + "rule a : int\n  source \"s\"\n  = applicant.size\n"
                                            "rule b : int\n  source \"s\"\n  = (applicant.size)\n"),
            diags);
  REQUIRE(m);
  REQUIRE(m->items.size() == 5);
  for (std::size_t i = 3; i < 5; ++i) {
    const auto& r = boost::get<ast::rule_decl>(m->items[i]);
    CHECK(r.body.rest.empty());
    CHECK(boost::get<ast::path>(&r.body.first.get()) != nullptr);
  }
}
