// The parts of a not_encoded literal's source text: `not_encoded "…"` or `not_encoded fr "…" ar
// "…" en "…"`, with blanks and comments between (as the grammar accepted it). The checker reads
// the texts and places its diagnostics with these offsets; the formatter reprints them.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace dalil::dsl {

/// One `LANG "text"` of a reason, by offsets into the literal's source text. A one-text reason is
/// one part whose language is empty. The text runs from its opening quote to its closing one,
/// both included (still escaped).
struct reason_part {
  std::size_t lang_begin = 0;
  std::size_t lang_end = 0;
  std::size_t text_begin = 0;
  std::size_t text_end = 0;
  std::string_view lang(std::string_view raw) const {
    return raw.substr(lang_begin, lang_end - lang_begin);
  }
  std::string_view text(std::string_view raw) const {
    return raw.substr(text_begin, text_end - text_begin);
  }
};

/// The parts of `raw`, the literal's source text, which may start with the keyword.
std::vector<reason_part> reason_parts(std::string_view raw);

}  // namespace dalil::dsl
