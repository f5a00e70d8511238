// Source files and positions: a source_map owns the text of every file and turns byte offsets
// into file:line:column lazily, so syntax nodes carry only a small span.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dalil::dsl {

using file_id = std::uint32_t;

/// The UTF-8 byte-order mark some editors write at the start of a file. It is skipped: it is not
/// part of the text and takes no column.
inline constexpr std::string_view bom = "\xEF\xBB\xBF";
inline bool has_bom(std::string_view text) {
  return text.substr(0, bom.size()) == bom;
}

/// A half-open byte range [begin, end) in one file.
struct source_span {
  file_id file = 0;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  friend bool operator==(const source_span&, const source_span&) = default;
};

struct line_column {
  std::uint32_t line = 0;    // 1-based
  std::uint32_t column = 0;  // 1-based, in Unicode code points
};

class source_map {
 public:
  /// Adds a file; `name` is what diagnostics print (usually the path given by the user).
  file_id add(std::string name, std::string text);
  const std::string& name(file_id f) const { return files_[f].name; }
  const std::string& text(file_id f) const { return files_[f].text; }
  std::size_t size() const { return files_.size(); }

  line_column position(file_id f, std::uint32_t offset) const;
  /// The text of line `line` (1-based) without its line break (nor a byte-order mark).
  std::string_view line_text(file_id f, std::uint32_t line) const;

 private:
  struct file {
    std::string name;
    std::string text;
    std::vector<std::uint32_t> line_starts;
  };
  std::vector<file> files_;
};

}  // namespace dalil::dsl
