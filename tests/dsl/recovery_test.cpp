// After a syntax error the checker still checks what parsed, without a cascade of unknown names
// for what the broken declarations would have defined (their names are read from the text).
#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dsl/checker.hpp"

namespace dsl = dalil::dsl;
namespace fs = std::filesystem;

namespace {

/// Checks the files (name, text) as one pack in a fresh folder; returns the codes reported.
std::vector<std::string> codes_of(const std::vector<std::pair<std::string, std::string>>& files,
                                  std::string* rendered) {
  fs::path dir = fs::temp_directory_path() / ("dalil_recovery_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& [name, text] : files) std::ofstream(dir / name) << text;
  dsl::source_map sources;
  dsl::diagnostics diags;
  std::vector<dsl::ast::module> modules;
  auto program = dsl::load_and_check(dir, sources, modules, diags);
  CHECK_FALSE(program.has_value());
  diags.sort();
  *rendered = dsl::render_all(sources, diags);
  fs::remove_all(dir);
  std::vector<std::string> out;
  for (const dsl::diagnostic& d : diags.all()) out.push_back(d.code);
  return out;
}

const char* const title = "  title fr \"E\" ar \"t\" en \"T\"\n";

}  // namespace

TEST_CASE("recovery: a broken enum's type and cases are not unknown names", "[dsl][recovery]") {
  std::string text = std::string("module m\n") + title +
                     "\nenum Tier { low high }\n\n"
                     "record A {\n  tier : Tier\n  n : int\n}\n\ninput a : A\n\n"
                     "rule r : bool\n  source \"s\"\n  = a.tier == Tier.low or a.tier == high\n\n"
                     "rule t : bool\n  source \"s\"\n  = a.n + true\n";
  std::string rendered;
  auto codes = codes_of({{"m.dalil", text}}, &rendered);
  INFO(rendered);
  // The syntax error, and the type error of a rule that does not involve the enum.
  CHECK(codes == std::vector<std::string>{"E0001", "E0301"});
}

TEST_CASE("recovery: a module whose header is broken is not an unknown import", "[dsl][recovery]") {
  std::string a = std::string("module housing\n") + title + "import status\n\n" +
                  "record A {\n  n : int\n}\n\ninput a : A\n\n" +
                  "rule r : bool\n  source \"s\"\n  = status.refugee and a.n > 1\n\n" +
                  "rule q : bool\n  source \"s\"\n  = unknown_thing\n";
  std::string b = std::string("module status\n") + title + "import\n";
  std::string rendered;
  auto codes = codes_of({{"a.dalil", a}, {"b.dalil", b}}, &rendered);
  INFO(rendered);
  CHECK(codes == std::vector<std::string>{"E0201", "E0001"});
}

TEST_CASE("recovery: an input of an unknown type does not make every path unknown",
          "[dsl][recovery]") {
  std::string text = std::string("module m\n") + title +
                     "\ninput a : Aplicant\n\n"
                     "rule r : bool\n  source \"s\"\n  = a.n > 1 and a.flag\n\n"
                     "test \"t\"\n  as_of 2020-01-01\n  given { n: 1 }\n  expect r == true\n";
  std::string rendered;
  auto codes = codes_of({{"m.dalil", text}}, &rendered);
  INFO(rendered);
  CHECK(codes == std::vector<std::string>{"E0203"});
}

TEST_CASE("recovery: the parser resumes at a declaration the error was found on",
          "[dsl][recovery]") {
  // Each case: a broken declaration, then what follows it; the codes reported, in order. The
  // record after the break holds `n : int`, and the rule `t` adds `true` to it (E0301): the
  // type error is reported only when the record is still read.
  const std::string rest =
      "record A {\n  n : int\n}\n\ninput a : A\n\n"
      "rule t : bool\n  source \"s\"\n  = a.n + true\n";
  auto [broken, codes] = GENERATE(table<std::string, std::vector<std::string>>({
      // An enum left open fails on the `record` that starts the next line: resumed there.
      {"enum T { a, b\n", {"E0001", "E0301"}},
      // The same with the next declaration indented, and after blank lines and a comment.
      {"enum T { a, b\n\n# note\n  ", {"E0001", "E0301"}},
      // A declaration keyword that fails on itself (no name): the line is skipped, no loop.
      {"rule\n", {"E0001", "E0301"}},
      // An error found on a keyword in the middle of a line: that line is skipped as before.
      {"enum T { a, b record C { x : int }\n", {"E0001", "E0301"}},
      // A keyword-like word that is not first on its line does not stop the skipping.
      {"enum T { a, b\n  = record\n", {"E0001", "E0301"}},
  }));
  INFO(broken);
  std::string text = std::string("module m\n") + title + "\n" + broken + rest;
  std::string rendered;
  auto got = codes_of({{"m.dalil", text}}, &rendered);
  INFO(rendered);
  CHECK(got == codes);
}
