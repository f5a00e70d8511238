// The checker's entry points: the pipeline of passes (checker::run; each pass in its own
// checker_*.cpp, sharing the class in checker_passes.hpp), loading, and checking after syntax
// errors.
#include "dsl/checker.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <set>
#include <sstream>

#include "dsl/checker_passes.hpp"
#include "dsl/parser.hpp"

namespace dalil::dsl {

namespace detail {

std::optional<program> checker::run() {
  declare_modules();
  declare_types();
  resolve_types();
  declare_values();
  check_parameters();
  check_rules();
  check_labels();
  check_cycles();
  check_evaluation_depth();
  check_trace_size();
  compute_provisional();
  check_tests();
  if (diags_.has_errors()) return std::nullopt;
  return std::move(p_);
}

}  // namespace detail

std::optional<program> check(const source_map& /*sources*/, const std::vector<ast::module>& modules,
                             diagnostics& diags) {
  // Spans carry their file; the source map is needed only to render the diagnostics.
  static const std::set<std::string> none;
  return detail::checker(modules, diags, none).run();
}

namespace {

/// The names a file declares, read from its text line by line (the first word of a line, then
/// a name): what its declarations would have defined had they all parsed. Enum cases too.
std::set<std::string> declared_names(std::string_view text) {
  static constexpr std::array<std::string_view, 8> keywords = {
      "module", "import", "enum", "record", "input", "parameter", "rule", "document"};
  std::set<std::string> out;
  auto is_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  auto word_at = [&](std::size_t& i) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < text.size() && is_name(text[i])) ++i;
    return text.substr(start, i - start);
  };
  std::size_t line = 0;
  while (line < text.size()) {
    std::size_t i = line;
    std::string_view keyword = word_at(i);
    bool declares = std::find(keywords.begin(), keywords.end(), keyword) != keywords.end();
    if (declares) {
      std::string_view name = word_at(i);
      if (!name.empty()) out.emplace(name);
      if (keyword == "enum") {
        // The cases, up to the closing brace or the next line that starts a declaration: one
        // forward scan (searching the rest of the file from every `enum` line was quadratic).
        std::size_t resume = std::string_view::npos;
        while (i < text.size() && text[i] != '}') {
          if (text[i] == '\n') {
            std::size_t j = i + 1;
            std::string_view first = word_at(j);
            if (std::find(keywords.begin(), keywords.end(), first) != keywords.end()) {
              resume = i + 1;
              break;
            }
            ++i;
          } else if (text[i] == '"') {  // a case's title: its words name nothing
            ++i;
            while (i < text.size() && text[i] != '"' && text[i] != '\n')
              i += text[i] == '\\' ? 2 : 1;
            if (i < text.size() && text[i] == '"') ++i;
          } else if (is_name(text[i])) {
            out.emplace(word_at(i));
          } else {
            ++i;
          }
        }
        if (resume != std::string_view::npos) {
          line = resume;
          continue;
        }
      }
    }
    std::size_t nl = text.find('\n', line);
    if (nl == std::string_view::npos) break;
    line = nl + 1;
  }
  return out;
}

}  // namespace

std::optional<program> load_and_check(const std::filesystem::path& root, source_map& sources,
                                      std::vector<ast::module>& modules, diagnostics& diags) {
  std::vector<file_id> files = load_sources(root, sources, diags);
  // Declarations that parsed are checked even when others did not; the names the broken ones
  // would have defined (read from the text of the files with syntax errors) are not reported
  // as unknown, so that one syntax error does not bring a cascade of unknown names.
  std::set<std::string> unparsed;
  for (file_id f : files) {
    std::size_t before = diags.error_count();
    auto m = parse(sources, f, diags);
    if (m) modules.push_back(std::move(*m));
    if (diags.error_count() != before) {
      std::set<std::string> names = declared_names(sources.text(f));
      unparsed.insert(names.begin(), names.end());
    }
  }
  auto program = detail::checker(modules, diags, unparsed).run();
  if (diags.has_errors()) return std::nullopt;
  return program;
}

}  // namespace dalil::dsl
