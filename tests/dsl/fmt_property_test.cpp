// `dalil fmt` keeps meaning and is idempotent: the property of tests/support/fmt_property.hpp over
// every source of the repository and a table of tricky expressions, and the exact layout of the
// expressions whose parentheses were once dropped.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "dsl/formatter.hpp"
#include "dsl/parser.hpp"
#include "tests/support/fmt_property.hpp"

namespace fs = std::filesystem;
using dalil::testing::fmt_property_violation;
using dalil::testing::source_file;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The `.dalil` files of `root` (a file or a folder, recursively) as one pack.
std::vector<source_file> pack_of(const fs::path& root) {
  std::vector<source_file> out;
  if (fs::is_directory(root)) {
    std::vector<fs::path> paths;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (e.path().extension() == ".dalil") paths.push_back(e.path());
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) out.push_back({p.filename().string(), slurp(p)});
  } else {
    out.push_back({root.filename().string(), slurp(root)});
  }
  return out;
}

// NOLINTNEXTLINE(cert-err58-cpp)
const std::string header = R"(module m
  title fr "t" ar "t" en "t"

enum Sex { female, male }

record Child {
  age : int
  at_school : bool
}

record Applicant {
  sex : Sex
  birth_date : date
  income : money
  size : int
  ratio : decimal
  stay : duration
  flag : bool
  other : bool
  name : text
  children : list Child
}

input applicant : Applicant

parameter ceiling : money
  source "s"
  from 2014-01-01 = 3000 MAD
)";

/// A module with the schema of `header` and one rule `r : type = body`.
std::string module_with(const std::string& type, const std::string& body) {
  std::string text = header;
  text.append("\nrule r : ").append(type).append("\n  source \"s\"\n  = ").append(body);
  text += '\n';
  return text;
}

/// True when the property holds; otherwise false, with the violation shown by Catch.
bool holds(const std::optional<std::string>& violation) {
  if (!violation) return true;
  UNSCOPED_INFO(*violation);
  return false;
}

std::string format_expr(const std::string& type, const std::string& body) {
  std::string text = module_with(type, body);
  dalil::dsl::source_map sources;
  dalil::dsl::diagnostics diags;
  auto m = dalil::dsl::parse(sources, sources.add("t.dalil", text), diags);
  REQUIRE(m);
  REQUIRE_FALSE(diags.has_errors());
  std::string out = dalil::dsl::format(sources, *m);
  auto at = out.find("  = ");
  REQUIRE(at != std::string::npos);
  return out.substr(at + 4, out.size() - at - 5);
}

}  // namespace

TEST_CASE("fmt property: every source of the repository", "[dsl][fmt][property]") {
  std::vector<fs::path> roots = {fs::path(DALIL_SOURCE_DIR) / "rules",
                                 fs::path(DALIL_SOURCE_DIR) / "bench/v0"};
  for (const char* dir : {"tests/golden/format", "tests/golden/errors"}) {
    for (const auto& e : fs::directory_iterator(fs::path(DALIL_SOURCE_DIR) / dir)) {
      if (e.is_directory() || e.path().extension() == ".dalil") roots.push_back(e.path());
    }
  }
  std::sort(roots.begin(), roots.end());
  for (const fs::path& root : roots) {
    INFO(root.string());
    auto violation = fmt_property_violation(pack_of(root));
    CHECK(holds(violation));
  }
  CHECK(roots.size() > 100);
}

TEST_CASE("fmt property: tricky expressions", "[dsl][fmt][property]") {
  struct row {
    const char* type;
    const char* body;
  };
  const row rows[] = {
      {"bool", "(applicant.flag == applicant.other) == applicant.flag"},
      {"bool", "applicant.flag == (applicant.other == applicant.flag)"},
      {"bool", "(applicant.size in [1, 2]) != false"},
      {"bool", "false != (applicant.size in [1, 2])"},
      {"bool", "(applicant.size < 3) == (applicant.size > 1)"},
      {"bool", "applicant.size == 1 == true"},  // refused by the checker, before and after
      {"int", "applicant.size - (applicant.size - 1)"},
      {"int", "(applicant.size - applicant.size) - 1"},
      {"int", "-(applicant.size - 1)"},
      {"int", "- -applicant.size"},
      {"int", "-(-(applicant.size))"},
      {"int", "applicant.size * (2 + 3) / (4 - 1)"},
      {"int", "applicant.size / (2 * 3)"},
      {"int", "(applicant.size / 2) * 3"},
      {"int", "applicant.size - -3"},
      {"decimal", "applicant.ratio * (1.5 - 0.25)"},
      {"bool", "not (applicant.flag and applicant.other)"},
      {"bool", "not applicant.flag and applicant.other"},
      {"bool", "not (applicant.size > 3)"},
      {"bool", "(not applicant.flag) == applicant.other"},
      {"bool", "not not applicant.flag"},
      {"bool", "applicant.flag or applicant.other and applicant.flag"},
      {"bool", "(applicant.flag or applicant.other) and applicant.flag"},
      {"bool", "applicant.flag or (applicant.other or applicant.flag)"},
      {"bool", "(applicant.flag or applicant.other) or applicant.flag"},
      {"bool", "applicant.flag and (applicant.other and applicant.flag)"},
      {"bool", "applicant.flag and (applicant.other or not applicant.flag)"},
      {"int", "if applicant.flag then 1 else 2"},
      {"int", "(if applicant.flag then 1 else 2) + 3"},
      {"int", "3 + (if applicant.flag then 1 else 2)"},
      {"int", "if applicant.flag then if applicant.other then 1 else 2 else 3"},
      {"int", "if applicant.flag then 1 else if applicant.other then 2 else 3"},
      {"bool", "(if applicant.flag then applicant.other else false) or applicant.flag"},
      {"int", "table first | applicant.flag => 1 | otherwise => 2"},
      {"int", "(table first | applicant.flag => 1 | otherwise => 2) + 1"},
      {"int",
       "table first | applicant.flag => (table first | applicant.other => 1 | otherwise => 2) "
       "| otherwise => 3"},
      {"int",
       "table first | applicant.flag => (if applicant.other then 1 else table first | "
       "applicant.flag => 2 | otherwise => 4) | otherwise => 3"},
      {"int",
       "table first | applicant.flag => 0 | otherwise => table first | applicant.other => 1 | "
       "otherwise => 2"},
      {"int",
       "table unique | applicant.size > 2 and applicant.flag => 1 | applicant.size <= 2 => 2 | "
       "not applicant.flag => 3"},
      {"bool", "any c in applicant.children : c.age < 18 and c.at_school"},
      {"bool", "(any c in applicant.children : c.age < 18) and applicant.flag"},
      {"bool", "all [applicant.flag, applicant.other or applicant.flag]"},
      {"bool", "applicant.birth_date + 18 years <= 2014-01-01"},
      {"bool", "applicant.birth_date + (2 years 6 months) <= as_of"},
      {"bool", "age(applicant.birth_date) >= 18"},
      {"bool", "applicant.income / applicant.size <= 3767.50 MAD"},
      {"bool", "applicant.income - (ceiling - 100 MAD) > 0 MAD"},
      {"money", "max(applicant.income - 1 MAD, ceiling * 2)"},
      {"bool", "applicant.sex in [female, Sex.male]"},
      {"bool", "applicant.name == \"a \\\"b\\\" # not a comment\""},
      {"duration", "applicant.stay + 1 year 2 months 3 days"},
      {"bool", "applicant.flag # why\n    and applicant.other # and why not\n"},
      {"int",
       "table first # policy\n    | applicant.flag => 1 # one\n    # between\n"
       "    | otherwise => 2\n# at the end, without a line break"},
      {"int", "if applicant.flag # c\n then 1 else 2 # d"},
      {"text", "\"#\\\"# not a comment\" # a comment with \" a quote"},
      {"bool", "applicant.flag and\r\n  applicant.other # CRLF\r\n"},
  };
  for (const row& x : rows) {
    INFO(x.body);
    auto violation = fmt_property_violation(module_with(x.type, x.body));
    CHECK(holds(violation));
  }
}

TEST_CASE("fmt keeps the parentheses that precedence and associativity need",
          "[dsl][fmt][property]") {
  struct row {
    const char* type;
    const char* body;
    const char* formatted;
  };
  const row rows[] = {
      {"bool", "(applicant.flag == applicant.other) == applicant.flag",
       "(applicant.flag == applicant.other) == applicant.flag"},
      {"bool", "((applicant.size in [1, 2])) != false", "(applicant.size in [1, 2]) != false"},
      {"int", "applicant.size - (applicant.size - 1)", "applicant.size - (applicant.size - 1)"},
      {"int", "(applicant.size - applicant.size) - 1", "applicant.size - applicant.size - 1"},
      {"int", "-(applicant.size - 1)", "-(applicant.size - 1)"},
      {"int", "applicant.size / (2 * 3)", "applicant.size / (2 * 3)"},
      {"int",
       "table first | applicant.flag => (table first | applicant.other => 1 | otherwise => 2) "
       "| otherwise => 3",
       "table first\n    | applicant.flag => (table first | applicant.other => 1 | otherwise => "
       "2)\n    | otherwise      => 3"},
  };
  for (const row& x : rows) {
    INFO(x.body);
    CHECK(format_expr(x.type, x.body) == x.formatted);
  }
}

TEST_CASE("fmt property: at the nesting limit, parentheses for the reader give way",
          "[dsl][fmt][property]") {
  // `a or (b and c)` and `then (if …)` are parenthesized for the reader; at 63 enclosing levels
  // those parentheses would take a source that checks over the limit (E0003).
  auto nots = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "not ";
    return s;
  };
  const std::string bodies[] = {
      nots(63) + "(applicant.flag or applicant.other and applicant.flag)",
      nots(61) + "(applicant.flag or applicant.other and applicant.flag)",
      nots(62) + "(if applicant.flag then if applicant.other then true else false else true)",
      nots(60) +
          "(applicant.flag or (applicant.other and applicant.flag) or applicant.other and "
          "(applicant.flag or applicant.other and applicant.flag))",
  };
  for (const std::string& body : bodies) {
    INFO(body);
    CHECK(holds(fmt_property_violation(module_with("bool", body))));
  }
  CHECK(format_expr("bool", bodies[1]).find("(applicant.other and applicant.flag)") !=
        std::string::npos);
}

TEST_CASE("fmt property: random expressions with and without parentheses", "[dsl][fmt][property]") {
  std::uint32_t seed = 20261202;
  auto next = [&](std::uint32_t n) {
    seed = seed * 1664525U + 1013904223U;
    return (seed >> 8U) % n;
  };
  // Every composite is parenthesized, except at random: precedence then decides the tree.
  std::function<std::string(bool, int)> gen = [&](bool boolean, int depth) -> std::string {
    auto sub = [&](bool b) {
      std::string s = gen(b, depth + 1);
      return next(3) == 0 ? s : "(" + s + ")";
    };
    if (depth > 5) return boolean ? "applicant.flag" : "applicant.size";
    if (boolean) {
      switch (next(12)) {
        case 0:
          return "applicant.other";
        case 1:
          return "not " + sub(true);
        case 2:
          return sub(true) + (next(6) == 0 ? " and # c\n  " : " and ") + sub(true);
        case 3:
          return sub(true) + (next(6) == 0 ? " # c\n  or " : " or ") + sub(true);
        case 4:
          return sub(false) + " < " + sub(false);
        case 5:
          return sub(true) + " == " + sub(true);
        case 6:
          return sub(false) + " in [1, " + sub(false) + "]";
        case 7:
          return "if " + sub(true) + " then " + sub(true) + " else " + sub(true);
        case 8:
          return "table first | " + sub(true) + " => " + sub(true) + " | otherwise => " + sub(true);
        case 9:
          return "any c in applicant.children : c.age < " + sub(false);
        case 10:
          return sub(true) + " != " + sub(true);
        default:
          return "applicant.flag";
      }
    }
    switch (next(10)) {
      case 0:
        return "3";
      case 1:
        return "-" + sub(false);
      case 2:
        return sub(false) + " - " + sub(false);
      case 3:
        return sub(false) + " + " + sub(false);
      case 4:
        return sub(false) + " * " + sub(false);
      case 5:
        return "if " + sub(true) + " then " + sub(false) + " else " + sub(false);
      case 6:
        return "table first | " + sub(true) + " => " + sub(false) +
               (next(6) == 0 ? " # row\n | otherwise => " : " | otherwise => ") + sub(false);
      case 7:
        return "max(" + sub(false) + ", 2)";
      default:
        return "applicant.size";
    }
  };
  for (int i = 0; i < 1000; ++i) {
    bool boolean = next(2) == 0;
    std::string body = gen(boolean, 0);
    INFO(body);
    CHECK(holds(fmt_property_violation(module_with(boolean ? "bool" : "int", body))));
  }
}
