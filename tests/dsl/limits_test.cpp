// The checker bounds the work after it and keeps its own near-linear: generated packs far past
// every limit (80,000-operand chains, 20,000 rules reading each other, 10,000 unknown names,
// 20,000-row tables, long cycles, huge enums, templates and test records) check with a
// bounded number of diagnostics, and packs at the limits check and evaluate, on a worker thread
// too (the batch evaluates on threads, whose stacks are smaller than the main one).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/codes.hpp"
#include "dsl/limits.hpp"
#include "dsl/parser.hpp"
#include "dsl/suggest.hpp"
#include "engine/block.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "engine/session.hpp"

namespace dsl = dalil::dsl;
namespace eng = dalil::engine;

namespace {

// No wall-clock time is asserted (performance is measured, not asserted): these tests check
// the bounded results (one diagnostic, capped reports, work budgets), and tests/adversarial
// runs the same shapes through the CLI under a 20 s watchdog per case.

constexpr const char* head = R"(module m
  title fr "Essai" ar "تجربة" en "Test"

enum Status { refugee, asylum_seeker, other }

record Child {
  age : int
}

record Applicant {
  id : text
  flag : bool
  n : int
  income : money
  status : Status
  children : list Child
}

input applicant : Applicant

)";

std::string rule(const std::string& name, const std::string& type, const std::string& body) {
  return "rule " + name + " : " + type + "\n  source \"s\"\n  = " + body + "\n\n";
}

/// One checked pack: its diagnostics, and its ruleset when it checks.
struct checked {
  dsl::source_map sources;
  dsl::diagnostics diags;
  std::vector<dsl::ast::module> modules;
  std::optional<dsl::program> program;

  std::size_t count(std::string_view code) const {
    std::size_t n = 0;
    for (const dsl::diagnostic& d : diags.all()) n += d.code == code ? 1 : 0;
    return n;
  }
  std::string rendered() const {
    std::string out;
    for (const dsl::diagnostic& d : diags.all()) {
      out += d.code + ": " + d.message.substr(0, 300) + "\n";
      if (out.size() > 4000) break;
    }
    return out;
  }
};

std::unique_ptr<checked> check_files(const std::vector<std::string>& texts) {
  auto c = std::make_unique<checked>();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    dsl::file_id f = c->sources.add("m" + std::to_string(i) + ".dalil", texts[i]);
    auto m = dsl::parse(c->sources, f, c->diags);
    if (m) c->modules.push_back(std::move(*m));
  }
  // A syntax error (the parser's own bounds) is the result: nothing is checked.
  if (!c->diags.has_errors()) c->program = dsl::check(c->sources, c->modules, c->diags);
  return c;
}

std::unique_ptr<checked> check_text(const std::string& text) {
  return check_files({text});
}

/// Evaluates `rule_name` for `json` with both evaluators, on a thread of its own, and returns
/// the record evaluator's value as the JSON contract writes it, and the decision's JSON with
/// its trace (which walks the same chain again).
std::string evaluate_on_thread(checked& c, const std::string& rule_name, const std::string& json,
                               std::string* block_value = nullptr) {
  std::string out;
  std::string block_out;
  std::thread worker([&] {
    auto rules = eng::build_ruleset(c.sources, c.modules, std::move(*c.program));
    const dsl::program& p = rules->program();
    std::uint32_t r = *p.find_rule("m." + rule_name);
    auto inst = eng::instantiate(rules, *dalil::parse_date("2020-01-01"));
    eng::record_reader reader(p);
    eng::record rec;
    eng::record_error error;
    if (!reader.read(json, rec, error)) return;
    eng::evaluator ev(inst);
    ev.set_record(rec);
    eng::decision d = eng::decide(ev, r);
    eng::append_value_json(out, p, p.rules[r].t, ev.rule(r));
    std::string trace;
    eng::append_decision_json(trace, ev, d, true);
    out += trace.empty() ? "" : " traced";
    eng::block_evaluator block(inst, {r});
    const eng::value* row = rec.facts.data();
    block.run(&row, 1);
    eng::append_value_json(block_out, p, p.rules[r].t, block.get(r, 0));
  });
  worker.join();
  if (block_value != nullptr) *block_value = block_out;
  return out;
}

constexpr const char* record_json =
    R"({"id": "a", "flag": true, "n": 1, "income": "10.00", "status": "refugee", "children": []})";

std::string join(const std::string& operand, const std::string& op, std::size_t n) {
  std::string out;
  out.reserve(n * (operand.size() + op.size() + 2));
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += " " + op + " ";
    out += operand;
  }
  return out;
}

}  // namespace

TEST_CASE("limits: a chain past the depth limit is one E0310, of 80,000 operands one E0003",
          "[dsl][limits]") {
  // Past 256 levels the checker refuses the expression (E0310); past 2,000 the parser refuses it
  // before building the tree (E0003). Either way one diagnostic, and no recursion.
  auto [operands, code, limit] = GENERATE(
      table<int, std::string, std::string>({{1'000, dsl::codes::expression_too_deep, "256"},
                                            {80'000, dsl::codes::nesting_too_deep, "2000"}}));
  auto [op, operand, type] =
      GENERATE(table<std::string, std::string, std::string>({{"and", "applicant.flag", "bool"},
                                                             {"or", "applicant.flag", "bool"},
                                                             {"+", "applicant.n", "int"},
                                                             {"-", "applicant.n", "int"},
                                                             {"*", "applicant.n", "int"}}));
  INFO("operator " << op);
  std::string text = head + rule("big", type, join(operand, op, operands));
  auto c = check_text(text);
  INFO(c->rendered());
  CHECK_FALSE(c->program.has_value());
  REQUIRE(c->diags.all().size() == 1);
  const dsl::diagnostic& d = c->diags.all()[0];
  CHECK(d.code == code);
  // The span starts at the chain's first operand.
  CHECK(d.span.begin == text.find("= " + operand) + 2);
  CHECK(d.message.find(limit) != std::string::npos);
}

TEST_CASE("limits: a chain at the depth limit checks and evaluates, on a worker thread too",
          "[dsl][limits]") {
  const std::size_t n = dsl::limits::max_expression_depth;  // n operands: n levels
  auto [op, operand, type, expected] =
      GENERATE_COPY(table<std::string, std::string, std::string, std::string>(
          {{"and", "applicant.flag", "bool", "true"},
           {"or", "applicant.flag", "bool", "true"},
           {"+", "applicant.n", "int", std::to_string(n)},
           {"-", "applicant.n", "int", std::to_string(1 - static_cast<long>(n - 1))},
           {"*", "applicant.n", "int", "1"}}));
  INFO("operator " << op);
  auto c = check_text(head + rule("big", type, join(operand, op, n)));
  INFO(c->rendered());
  REQUIRE(c->program.has_value());
  std::string block_value;
  CHECK(evaluate_on_thread(*c, "big", record_json, &block_value) == expected + " traced");
  CHECK(block_value == expected);

  auto over = check_text(head + rule("big", type, join(operand, op, n + 1)));
  CHECK(over->count(dsl::codes::expression_too_deep) == 1);
}

TEST_CASE("limits: 20,000 rules each reading the previous one are one E0702", "[dsl][limits]") {
  std::string text = head + rule("r0", "bool", "applicant.flag");
  for (int i = 1; i < 20'000; ++i) {
    text +=
        rule("r" + std::to_string(i), "bool", "r" + std::to_string(i - 1) + " and applicant.flag");
  }
  auto c = check_text(text);
  INFO(c->rendered());
  CHECK_FALSE(c->program.has_value());
  REQUIRE(c->diags.all().size() == 1);
  const dsl::diagnostic& d = c->diags.all()[0];
  CHECK(d.code == dsl::codes::rule_chain_too_deep);
  // Each rule adds two levels (the reference and the 'and'): r1024 is the first past 2048.
  CHECK(d.message.find("rule 'r1024'") == 0);
  CHECK(d.span.begin == text.find("rule r1024 ") + 5);
}

TEST_CASE("limits: a chain of rules at the evaluation limit evaluates, on a worker thread",
          "[dsl][limits]") {
  // Every shape adds two levels per rule; 1024 rules and the top one make 2048 levels.
  auto shape = GENERATE(as<std::string>{}, "and", "if", "table", "not", "any");
  INFO("shape " << shape);
  std::string text = head + rule("r0", "bool", "applicant.flag");
  for (int i = 1; i < 1024; ++i) {
    std::string p = "r" + std::to_string(i - 1);
    std::string body = shape == "and"  ? p + " and applicant.flag"
                       : shape == "if" ? "if " + p + " then applicant.flag else false"
                       : shape == "table"
                           ? "table first\n    | " + p + " => true\n    | otherwise => false"
                       : shape == "not" ? "not " + p
                                        : "any [" + p + ", applicant.flag]";
    text += rule("r" + std::to_string(i), "bool", body);
  }
  text += rule("top", "bool", "r1023");
  auto c = check_text(text);
  INFO(c->rendered());
  REQUIRE(c->program.has_value());
  std::string expected = shape == "not" ? "false" : "true";  // 1023 negations of true
  std::string block_value;
  CHECK(evaluate_on_thread(*c, "top", record_json, &block_value) == expected + " traced");
  CHECK(block_value == expected);
  // Undetermined: the explanation of what is missing walks the whole chain.
  auto again = check_text(text);
  REQUIRE(again->program.has_value());
  std::string unknown_flag = R"({"id": "a", "n": 1, "income": "10.00", "status": "refugee"})";
  CHECK(evaluate_on_thread(*again, "top", unknown_flag) == "null traced");

  auto over = check_text(text + rule("over", "bool", "top and applicant.flag"));
  CHECK(over->count(dsl::codes::rule_chain_too_deep) == 1);
}

TEST_CASE("limits: 10,000 unknown names are counted, the first reported with suggestions",
          "[dsl][limits]") {
  std::string text = head;
  for (int i = 0; i < 10'000; ++i) {
    text += rule("rule_number_" + std::to_string(i), "bool",
                 "rule_numbr_" + std::to_string(i) + " and applicant.flag");
  }
  auto c = check_text(text);
  // All are counted; the first 1,000 are kept (limits::max_diagnostics).
  CHECK(c->diags.error_count() == 10'000);
  CHECK(c->count(dsl::codes::unknown_name) == dsl::limits::max_diagnostics);
  // The first ones carry their suggestion; past the cap, none is computed.
  std::size_t suggested = 0;
  for (const dsl::diagnostic& d : c->diags.all()) {
    suggested += d.message.find("did you mean") != std::string::npos ? 1 : 0;
  }
  CHECK(suggested == dsl::limits::max_suggestions);
  CHECK(c->diags.all()[0].message == "unknown name 'rule_numbr_0'; did you mean 'rule_number_0'?");
}

TEST_CASE("limits: bounded edit distance agrees with the full one", "[dsl][limits]") {
  auto full = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t prev = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t cur = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
        prev = cur;
      }
    }
    return row[b.size()];
  };
  const std::vector<std::string> words = {"",        "a",         "ab",          "income",
                                          "incom",   "incomes",   "outcome",     "household",
                                          "housing", "applicant", "application", "xyz"};
  for (const auto& a : words) {
    for (const auto& b : words) {
      for (std::size_t limit = 0; limit < 6; ++limit) {
        std::size_t d = full(a, b);
        INFO(a << " / " << b << " limit " << limit);
        CHECK(dsl::bounded_edit_distance(a, b, limit) == std::min(d, limit + 1));
      }
    }
  }
}

TEST_CASE("limits: 3,000 overlapping 'unique' rows give ten errors and one note",
          "[dsl][limits][table]") {
  std::string text = std::string(head) + "rule t : int\n  source \"s\"\n  = table unique\n";
  for (int i = 0; i < 3000; ++i) {
    text += "    | applicant.n >= " + std::to_string(i) + " => " + std::to_string(i) + "\n";
  }
  text += "    | otherwise => 0\n";
  auto c = check_text(text);
  INFO(c->rendered());
  REQUIRE(c->diags.all().size() == dsl::limits::max_reports_per_construct);
  for (std::size_t k = 0; k < c->diags.all().size(); ++k) {
    const dsl::diagnostic& d = c->diags.all()[k];
    CHECK(d.code == dsl::codes::table_overlap);
    // Row k + 2 is named once, with a row it overlaps.
    CHECK(d.message.find("rows 1 and " + std::to_string(k + 2) + " can both match") !=
          std::string::npos);
  }
  const dsl::diagnostic& last = c->diags.all().back();
  REQUIRE(last.notes.size() == 2);
  CHECK(last.notes[1].message ==
        "and 2989 more rows of this table can match together with an earlier row");
}

TEST_CASE("limits: 20,000-row tables of each kind check with bounded reports",
          "[dsl][limits][table]") {
  auto kind = GENERATE(as<std::string>{}, "unique interval", "first interval", "unique enum",
                       "unique two subjects", "first two subjects");
  INFO(kind);
  std::string policy = kind.substr(0, kind.find(' '));
  std::string text = std::string(head) + "rule t : int\n  source \"s\"\n  = table " + policy + "\n";
  for (int i = 0; i < 20'000; ++i) {
    std::string cond;
    if (kind.find("interval") != std::string::npos) {
      cond = "applicant.n >= " + std::to_string(i) + " and applicant.n < " + std::to_string(i + 1);
    } else if (kind.find("enum") != std::string::npos) {
      cond = i == 0 ? "applicant.status == refugee" : "applicant.status == other";
    } else {
      cond = "applicant.n == " + std::to_string(i / 100) +
             " and applicant.income >= " + std::to_string(i % 100) +
             " MAD and applicant.income < " + std::to_string(i % 100 + 1) + " MAD";
    }
    text += "    | " + cond + " => " + std::to_string(i) + "\n";
  }
  text += "    | otherwise => 0\n";
  auto c = check_text(text);
  INFO(c->rendered());
  if (kind == "unique enum") {
    // Rows 3 … 20,000 overlap row 2: ten of them reported, then a note.
    CHECK(c->count(dsl::codes::table_overlap) == dsl::limits::max_reports_per_construct);
    CHECK(c->diags.all().front().message.find("rows 2 and 3 can both match") != std::string::npos);
  } else {
    CHECK(c->diags.all().empty());
  }
}

TEST_CASE("limits: rows compared on several values past the budget give one E0604 warning",
          "[dsl][limits][table]") {
  // Two enum subjects: no sweep over an interval applies, and 3,000 rows make 4.5 million
  // pairs, each comparing 3,000 cases: past the budget.
  std::string cases;
  for (int i = 0; i < 3000; ++i) cases += (i ? ", k" : "k") + std::to_string(i);
  std::string text = "module m\n  title fr \"E\" ar \"t\" en \"T\"\n\nenum Code { " + cases +
                     " }\n\nrecord A {\n  flag : bool\n  code : Code\n}\n\ninput a : A\n\n" +
                     "rule t : int\n  source \"s\"\n  = table unique\n";
  for (int i = 0; i < 3000; ++i) {
    text += "    | a.flag and a.code == k" + std::to_string(i) + " => " + std::to_string(i) + "\n";
  }
  text += "    | otherwise => 0\n";
  auto c = check_text(text);
  INFO(c->rendered());
  REQUIRE(c->diags.all().size() == 1);
  CHECK(c->diags.all()[0].code == dsl::codes::table_too_large);
  CHECK(c->diags.all()[0].level == dsl::severity::warning);
  CHECK(c->diags.all()[0].message.find("(3000 rows, limit") != std::string::npos);
}

TEST_CASE("limits: rows on two values are swept on the one that separates them",
          "[dsl][limits][table]") {
  // Each row leaves `n` nearly open (every pair meets on it) but takes its own income band:
  // the sweep runs over the income, so the table is analysed exactly, and an overlap found.
  std::string text = std::string(head) + "rule t : int\n  source \"s\"\n  = table unique\n";
  for (int i = 0; i < 20'000; ++i) {
    text += "    | applicant.n >= " + std::to_string(i % 2) +
            " and applicant.income >= " + std::to_string(i) + " MAD and applicant.income < " +
            std::to_string(i + 1) + " MAD => " + std::to_string(i) + "\n";
  }
  text += "    | applicant.n >= 1 and applicant.income >= 19999.50 MAD => 0\n";
  text += "    | otherwise => 0\n";
  auto c = check_text(text);
  INFO(c->rendered());
  REQUIRE(c->diags.all().size() == 1);
  CHECK(c->diags.all()[0].message ==
        "in a 'unique' table, rows 20000 and 20001 can both match (both match applicant.n >= 1, "
        "applicant.income >= 19999.50 MAD and applicant.income < 20000.00 MAD)");
}

TEST_CASE("limits: cycles are found without recursion and reported a bounded number of times",
          "[dsl][limits]") {
  SECTION("one cycle of 10,000 rules") {
    std::string text = head;
    for (int i = 0; i < 10'000; ++i) {
      text += rule("r" + std::to_string(i), "bool",
                   "r" + std::to_string((i + 1) % 10'000) + " and applicant.flag");
    }
    auto c = check_text(text);
    INFO(c->rendered());
    REQUIRE(c->diags.all().size() == 1);
    const dsl::diagnostic& d = c->diags.all()[0];
    CHECK(d.code == dsl::codes::rule_cycle);
    CHECK(d.message.find("m.r0 -> m.r1 -> ") != std::string::npos);
    CHECK(d.message.find("(9976 more)") != std::string::npos);
    CHECK(d.message.size() < 1000);
  }
  SECTION("10,000 rules each in a cycle with the first") {
    std::string text = head + rule("r0", "bool", join("applicant.flag", "and", 1) + " and r1");
    for (int i = 1; i < 10'000; ++i) {
      text += rule("r" + std::to_string(i), "bool",
                   "r0 and r" + std::to_string(std::min(i + 1, 9'999)));
    }
    auto c = check_text(text);
    CHECK(c->count(dsl::codes::rule_cycle) == dsl::limits::max_reports_per_construct);
    CHECK(c->diags.all().back().notes.size() == 1);
  }
}

TEST_CASE("limits: hostile shapes check in linear time", "[dsl][limits]") {
  SECTION("1,000 modules importing each other in a cycle, and one importing itself") {
    std::vector<std::string> files;
    for (int i = 0; i < 1000; ++i) {
      std::string text = "module m" + std::to_string(i) + "\n  title fr \"E\" ar \"t\" en \"T\"\n";
      text += "import m" + std::to_string((i + 1) % 1000) + "\n\n";
      text += i == 0 ? std::string(head).substr(std::string(head).find("enum")) : std::string();
      text += rule("r", "bool",
                   i == 0 ? "applicant.flag" : "m" + std::to_string((i + 1) % 1000) + ".r");
      files.push_back(text);
    }
    // m1 reads m2.r … m999 reads m0.r: a chain of rules across modules, no rule cycle.
    auto c = check_files(files);
    INFO(c->rendered());
    CHECK(c->diags.all().empty());

    auto self = check_text("module m\n  title fr \"E\" ar \"t\" en \"T\"\nimport m\n");
    CHECK(self->count(dsl::codes::self_import) == 1);
  }
  SECTION("an enum of 10,000 cases, each read once, and a bad one in a test record") {
    std::string cases;
    for (int i = 0; i < 10'000; ++i) cases += (i ? ", c" : "c") + std::to_string(i);
    std::string text = std::string(head) + "enum Big { " + cases + " }\n\n";
    for (int i = 0; i < 10'000; ++i) {
      text += rule("r" + std::to_string(i), "bool",
                   "Big.c" + std::to_string(i) + " == Big.c" + std::to_string(9'999 - i));
    }
    text += "rule pick : Big\n  source \"s\"\n  = Big.c0\n\n";
    auto c = check_text(text);
    INFO(c->rendered());
    CHECK(c->diags.all().empty());
  }
  SECTION("500 parameters of 500 dated values each") {
    std::string text = head;
    for (int i = 0; i < 500; ++i) {
      text += "parameter p" + std::to_string(i) + " : int\n  source \"s\"\n";
      for (int k = 0; k < 500; ++k) {
        text += "  from " + std::to_string(1000 + k) + "-01-01 = " + std::to_string(k) + "\n";
      }
      text += "\n";
    }
    auto c = check_text(text);
    INFO(c->rendered());
    CHECK(c->diags.all().empty());
    REQUIRE(c->program.has_value());
    CHECK(c->program->parameters[499].values.size() == 500);
  }
  SECTION("an explanation of 100,000 placeholders") {
    std::string good;
    std::string bad;
    for (int i = 0; i < 100'000; ++i) {
      good += "{applicant.n} ";
      bad += "{nothing" + std::to_string(i) + "} ";
    }
    std::string text = std::string(head) + "rule r : bool\n  source \"s\"\n  explain fr \"" + good +
                       "\" ar \"x\" en \"" + bad + "\"\n  = applicant.flag\n";
    auto c = check_text(text);
    CHECK(c->count(dsl::codes::bad_placeholder) == dsl::limits::max_reports_per_construct);
    REQUIRE(c->diags.all().back().notes.size() == 1);
    CHECK(c->diags.all().back().notes[0].message ==
          "and 99990 more placeholders that name nothing");
  }
  SECTION("a test whose given record lists 100,000 children") {
    std::string children;
    for (int i = 0; i < 100'000; ++i)
      children += (i ? ", {age: " : "{age: ") + std::to_string(i % 18) + "}";
    std::string text = head + rule("r", "int", "count(applicant.children)") +
                       "test \"many\"\n  as_of 2020-01-01\n  given { id: \"a\", children: [" +
                       children + "] }\n  expect r == 100000\n";
    auto c = check_text(text);
    INFO(c->rendered());
    CHECK(c->diags.all().empty());
  }
}

TEST_CASE("codes: every code of dsl/codes.hpp is documented in docs/diagnostics.md",
          "[dsl][codes]") {
  std::ifstream in(std::string(DALIL_SOURCE_DIR) + "/docs/diagnostics.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const dsl::codes::code_info& c : dsl::codes::all) {
    std::string row = "| " + std::string(c.code) + " | " + (c.warning ? "warning" : "error") + " |";
    INFO(row);
    CHECK(doc.find(row) != std::string::npos);
  }
  // And the doc lists no code the header lacks.
  std::regex row("\\| (E[0-9]{4}) \\|");
  for (std::sregex_iterator it(doc.begin(), doc.end(), row), end; it != end; ++it) {
    std::string code = (*it)[1].str();
    INFO(code);
    CHECK(std::any_of(dsl::codes::all.begin(), dsl::codes::all.end(),
                      [&](const dsl::codes::code_info& c) { return c.code == code; }));
  }
}

namespace {

/// The entries of all traces as the engine lists them: for every rule, each rule of its closure
/// with the facts and parameters that rule reads, and one more per limits::trace_entry_bytes of
/// the names and sources its step shows.
std::uint64_t trace_entries(const eng::ruleset& rs) {
  const dsl::program& p = rs.program();
  std::vector<std::uint64_t> step(p.rules.size());
  for (std::uint32_t q = 0; q < p.rules.size(); ++q) {
    const dsl::rule_info& info = p.rules[q];
    std::uint64_t bytes = info.qualified.size() + info.source.size();
    for (std::uint32_t f : rs.facts_of(q)) bytes += p.facts[f].path.size();
    for (std::uint32_t k : info.parameters_read) {
      bytes += p.parameters[k].qualified.size() + p.parameters[k].source.size();
    }
    for (const dsl::exception_info& x : info.exceptions) bytes += x.name.size() + x.source.size();
    for (std::uint32_t d : info.rules_read) bytes += p.rules[d].qualified.size();
    step[q] = 1 + rs.facts_of(q).size() + info.parameters_read.size() +
              bytes / dsl::limits::trace_entry_bytes;
  }
  std::uint64_t total = 0;
  for (std::uint32_t r = 0; r < p.rules.size(); ++r) {
    for (std::uint32_t q : rs.closure_of(r)) total += step[q];
  }
  return total;
}

/// A chain of 1,000 rules (c0 reads a fact), then `wide` rules each reading its last one: the
/// chain's traces have 2 + 3 + … + 1001 = 501,500 entries, each wide rule's 1,002.
/// `stem` lengthens the chain's names.
std::string wide_pack(std::size_t wide, const std::string& stem = "c") {
  std::string text = head + rule(stem + "0", "int", "applicant.n");
  for (int i = 1; i < 1000; ++i) {
    text += rule(stem + std::to_string(i), "int", stem + std::to_string(i - 1) + " + 1");
  }
  for (std::size_t k = 0; k < wide; ++k) {
    text += "rule w" + std::to_string(k) +
            " : int\n  source \"s\"\n  explain en \"{value}\"\n  = " + stem + "999 + " +
            std::to_string(k) + "\n\n";
  }
  return text;
}

constexpr std::uint64_t chain_entries = 501'500;
constexpr std::uint64_t wide_entries = 1'002;
/// The most wide rules under the limit.
constexpr std::size_t wide_at_limit = (dsl::limits::max_trace_steps - chain_entries) / wide_entries;

}  // namespace

TEST_CASE("limits: rules reading long chains past the trace limit are one E0703, found fast",
          "[dsl][limits][trace]") {
  // 20,000 wide rules made traces of 20 million entries: 6.5 s and 3 GB of JSON for one record.
  auto c = check_text(wide_pack(2 * wide_at_limit));
  INFO(c->rendered());
  CHECK_FALSE(c->program.has_value());
  REQUIRE(c->diags.all().size() == 1);
  const dsl::diagnostic& d = c->diags.all()[0];
  CHECK(d.code == dsl::codes::trace_too_large);
  // Reported at the first wide rule past the limit, with the total then and the rule's reads.
  std::string first = "w" + std::to_string(wide_at_limit);
  std::uint64_t total = chain_entries + (wide_at_limit + 1) * wide_entries;
  CHECK(d.message ==
        "rule '" + first + "' brings the traces of all decisions to " + std::to_string(total) +
            " entries, past the limit of " + std::to_string(dsl::limits::max_trace_steps) +
            " (each lists every rule read, directly or not, with its facts and "
            "parameters: '" +
            first + "' reads 1000 rules); have fewer rules read long chains, or fold them");
  CHECK(d.span.begin == c->sources.text(0).find("rule " + first + " ") + 5);
}

TEST_CASE("limits: long names count in the trace limit", "[dsl][limits][trace]") {
  // The pack just under the limit, with the chain's names 900 characters long: each of its trace
  // steps shows about 1,800 bytes (its name and the name it reads), so it counts 15 entries;
  // accepted, its decisions printed 2.9 GB of JSON in more than a minute.
  auto c = check_text(wide_pack(wide_at_limit, "c" + std::string(900, 'x')));
  INFO(c->rendered());
  REQUIRE(c->diags.all().size() == 1);
  CHECK(c->diags.all()[0].code == dsl::codes::trace_too_large);
  // Well before the chain's end: the chain alone has 14 × 500,500 entries or so.
  CHECK(c->diags.all()[0].message.find("rule 'cxxx") == 0);
}

TEST_CASE("limits: long text values count in the trace limit", "[dsl][limits][trace]") {
  // A rule whose value is 200,000 characters of text, read by 2,000 rules: each of their traces
  // shows that value (it was 2 GB of JSON in 3 s for a 1 MB text). So does a parameter's value.
  const std::string big = "\"" + std::string(200'000, 'x') + "\"";
  // The first reader past the limit: each reader's trace shows the value once (1,563 entries of
  // 128 bytes), or twice when the rule it reads reads another that holds the text.
  auto [shape, first] = GENERATE(table<std::string, std::string>(
      {{"rule", "w1277"}, {"parameter", "w1278"}, {"rule of a rule", "w638"}}));
  INFO(shape);
  std::string text = head;
  if (shape == "parameter") {
    text += "parameter big : text\n  source \"s\"\n  from 2000-01-01 = " + big + "\n\n";
  } else if (shape == "rule") {
    text += rule("big", "text", big);
  } else {
    text += rule("inner", "text", big) + rule("big", "text", "inner");
  }
  for (int k = 0; k < 2000; ++k) text += rule("w" + std::to_string(k), "bool", "big == \"a\"");
  auto c = check_text(text);
  INFO(c->rendered());
  REQUIRE(c->diags.all().size() == 1);
  CHECK(c->diags.all()[0].code == dsl::codes::trace_too_large);
  CHECK(c->diags.all()[0].message.find("rule '" + first + "' ") == 0);
  // A bool rule's value holds no text: 2,000 rules reading a short text rule are far under.
  auto small =
      check_text(head + rule("big", "text", "\"short\"") + text.substr(text.find("rule w0")));
  INFO(small->rendered());
  CHECK(small->diags.all().empty());
}

TEST_CASE("limits: rules reading many rules that read many rules pass the trace limit on reads",
          "[dsl][limits][trace]") {
  // 300 rules each read the same 300 rules, and 30 rules read those 300: each of the 30 walks
  // 90,300 readings of rules for a closure of 601 rules. Too many readings, few entries.
  auto list = [](const std::string& prefix, int n) {
    std::string out = "all [";
    for (int i = 0; i < n; ++i) out += (i ? ", " : "") + prefix + std::to_string(i);
    return out + "]";
  };
  std::string text = head;
  for (int i = 0; i < 300; ++i) text += rule("b" + std::to_string(i), "bool", "applicant.flag");
  for (int i = 0; i < 300; ++i) text += rule("d" + std::to_string(i), "bool", list("b", 300));
  for (int i = 0; i < 30; ++i) text += rule("t" + std::to_string(i), "bool", list("d", 300));
  auto c = check_text(text);
  INFO(c->rendered());
  REQUIRE(c->diags.all().size() == 1);
  const dsl::diagnostic& d = c->diags.all()[0];
  CHECK(d.code == dsl::codes::trace_too_large);
  // 300 × 300 readings by the d rules, then 90,300 per t rule: t21 is the first past 2 million.
  CHECK(d.message.find("rule 't21' brings the readings of rules walked for all traces to ") == 0);
  CHECK(d.message.find("('t21' reads 600 rules)") != std::string::npos);
}

TEST_CASE("limits: a pack just under the trace limit checks and evaluates every decision",
          "[dsl][limits][trace]") {
  auto c = check_text(wide_pack(wide_at_limit));
  INFO(c->rendered());
  REQUIRE(c->program.has_value());
  auto rules = eng::build_ruleset(c->sources, c->modules, std::move(*c->program));
  // The engine's closures agree with the checker's count.
  std::uint64_t entries = trace_entries(*rules);
  CHECK(entries == chain_entries + wide_at_limit * wide_entries);
  CHECK(entries <= dsl::limits::max_trace_steps);
  CHECK(entries + wide_entries > dsl::limits::max_trace_steps);
  // Every rule decided with its trace, as `dalil eval --all` does.
  const dsl::program& p = rules->program();
  auto inst = eng::instantiate(rules, *dalil::parse_date("2020-01-01"));
  eng::record_reader reader(p);
  eng::record rec;
  eng::record_error error;
  REQUIRE(reader.read(record_json, rec, error));
  eng::evaluator ev(inst);
  ev.set_record(rec);
  std::size_t steps = 0;
  std::size_t bytes = 0;
  for (std::uint32_t r = 0; r < p.rules.size(); ++r) {
    eng::decision d = eng::decide(ev, r);
    steps += d.steps.size();
    std::string out;
    eng::append_decision_json(out, ev, d, true);
    bytes += out.size();
  }
  CHECK(steps == chain_entries - 1000 + wide_at_limit * (wide_entries - 1));  // rules only
  CHECK(bytes < std::size_t{1} << 30U);
}

TEST_CASE("limits: the SNIA pack's traces are far under the trace limit", "[dsl][limits][trace]") {
  for (const char* pack : {"rules", "bench/v0"}) {
    INFO(pack);
    dsl::source_map sources;
    dsl::diagnostics diags;
    std::vector<dsl::ast::module> modules;
    auto program =
        dsl::load_and_check(std::string(DALIL_SOURCE_DIR) + "/" + pack, sources, modules, diags);
    REQUIRE(program.has_value());
    auto rules = eng::build_ruleset(sources, modules, std::move(*program));
    std::uint64_t entries = trace_entries(*rules);
    INFO(entries);
    CHECK(entries > 0);
    CHECK(entries * 1000 < dsl::limits::max_trace_steps);
  }
}
