// Golden files: every broken source in tests/golden/errors renders exactly the diagnostics in its
// `.expected` file (and at least the codes on its `# expect:` line); every source in
// tests/golden/format checks clean and is already in canonical layout, so that `dalil fmt` is a
// fixed point. DALIL_UPDATE_GOLDEN=1 rewrites the .expected files; review the diff.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "dsl/checker.hpp"
#include "dsl/formatter.hpp"
#include "dsl/parser.hpp"

namespace fs = std::filesystem;
using namespace dalil::dsl;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> cases(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory() || e.path().extension() == ".dalil") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// The codes named on `# expect:` lines of the case's files.
std::vector<std::string> expected_codes(const fs::path& c) {
  std::vector<fs::path> files;
  if (fs::is_directory(c)) {
    for (const auto& e : fs::directory_iterator(c)) files.push_back(e.path());
  } else {
    files.push_back(c);
  }
  std::vector<std::string> codes;
  std::regex code("E[0-9]{4}");
  for (const auto& f : files) {
    std::string text = slurp(f);
    auto pos = text.find("# expect:");
    if (pos == std::string::npos) continue;
    std::string line = text.substr(pos, text.find('\n', pos) - pos);
    for (std::sregex_iterator it(line.begin(), line.end(), code), end; it != end; ++it) {
      codes.push_back(it->str());
    }
  }
  return codes;
}

}  // namespace

TEST_CASE("golden: broken sources give their expected diagnostics", "[dsl][golden]") {
  const fs::path dir = fs::path(DALIL_SOURCE_DIR) / "tests/golden/errors";
  const bool update = std::getenv("DALIL_UPDATE_GOLDEN") != nullptr;
  std::size_t count = 0;
  for (const fs::path& c : cases(dir)) {
    ++count;
    DYNAMIC_SECTION(c.filename().string()) {
      fs::path old = fs::current_path();
      fs::current_path(dir);  // diagnostics name files relative to the golden folder
      source_map sources;
      diagnostics diags;
      std::vector<ast::module> modules;
      auto prog = load_and_check(c.filename(), sources, modules, diags);
      fs::current_path(old);
      diags.sort();
      std::string rendered = render_all(sources, diags);
      std::vector<std::string> codes = expected_codes(c);
      REQUIRE_FALSE(codes.empty());
      for (const std::string& code : codes) {
        INFO(rendered);
        CHECK(rendered.find("[" + code + "]") != std::string::npos);
      }
      // Every commit point of the grammar is a named rule: no message falls back to the
      // parser's placeholder for an unnamed one.
      CHECK(rendered.find("something else") == std::string::npos);
      // A case of warnings only (E0402, E0404-E0407) checks, and expects exactly its warnings;
      // any other case is refused.
      bool only_warnings = !diags.has_errors();
      if (only_warnings) {
        std::vector<std::string> got;
        for (const diagnostic& d : diags.all()) {
          CHECK(d.level == severity::warning);
          got.push_back(d.code);
        }
        CHECK(prog.has_value());
        CHECK(got == codes);
      } else {
        CHECK_FALSE(prog.has_value());
      }
      fs::path expected = c;
      expected += ".expected";
      if (update) {
        std::ofstream(expected, std::ios::binary) << rendered;
      } else {
        REQUIRE(fs::exists(expected));
        CHECK(rendered == slurp(expected));
      }
    }
  }
  CHECK(count >= 40);
}

TEST_CASE("golden: every construct checks clean and formats to itself", "[dsl][golden][fmt]") {
  const fs::path dir = fs::path(DALIL_SOURCE_DIR) / "tests/golden/format";
  for (const fs::path& c : cases(dir)) {
    DYNAMIC_SECTION(c.filename().string()) {
      source_map sources;
      diagnostics diags;
      std::vector<ast::module> modules;
      auto prog = load_and_check(c, sources, modules, diags);
      INFO(render_all(sources, diags));
      CHECK(prog.has_value());
      for (const ast::module& m : modules) {
        std::string formatted = format(sources, m);
        CHECK(formatted == sources.text(m.file));
        // Formatting is a fixed point even from the formatted text.
        source_map again;
        diagnostics d2;
        file_id f = again.add("again.dalil", formatted);
        auto m2 = parse(again, f, d2);
        REQUIRE(m2);
        CHECK(format(again, *m2) == formatted);
      }
    }
  }
}

TEST_CASE("the shipped rule pack checks clean and is formatted", "[dsl][golden][rules]") {
  source_map sources;
  diagnostics diags;
  std::vector<ast::module> modules;
  auto prog = load_and_check(fs::path(DALIL_SOURCE_DIR) / "rules", sources, modules, diags);
  INFO(render_all(sources, diags));
  REQUIRE(prog.has_value());
  CHECK(prog->modules.size() >= 10);
  for (const ast::module& m : modules) CHECK(format(sources, m) == sources.text(m.file));
}
