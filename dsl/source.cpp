// Line tables and offset-to-position conversion for source_map.
#include "dsl/source.hpp"

#include <algorithm>

#include "dsl/utf8.hpp"

namespace dalil::dsl {

file_id source_map::add(std::string name, std::string text) {
  file f{std::move(name), std::move(text), {0}};
  for (std::uint32_t i = 0; i < f.text.size(); ++i) {
    if (f.text[i] == '\n') f.line_starts.push_back(i + 1);
  }
  files_.push_back(std::move(f));
  return static_cast<file_id>(files_.size() - 1);
}

line_column source_map::position(file_id id, std::uint32_t offset) const {
  const file& f = files_[id];
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(f.text.size()));
  auto it = std::upper_bound(f.line_starts.begin(), f.line_starts.end(), offset);
  auto line = static_cast<std::uint32_t>(it - f.line_starts.begin());
  std::uint32_t start = f.line_starts[line - 1];
  if (line == 1 && has_bom(f.text)) start = std::min<std::uint32_t>(offset, bom.size());
  // Columns count code points, not bytes: UTF-8 continuation bytes do not start a column.
  auto column = static_cast<std::uint32_t>(
      1 + code_points(std::string_view(f.text).substr(start, offset - start)));
  return {line, column};
}

std::string_view source_map::line_text(file_id id, std::uint32_t line) const {
  const file& f = files_[id];
  if (line == 0 || line > f.line_starts.size()) return {};
  std::uint32_t start = f.line_starts[line - 1];
  std::uint32_t end = line < f.line_starts.size() ? f.line_starts[line] - 1
                                                  : static_cast<std::uint32_t>(f.text.size());
  std::string_view s(f.text.data() + start, end - start);
  if (line == 1 && has_bom(s)) s.remove_prefix(bom.size());
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

}  // namespace dalil::dsl
