// Rendering of diagnostics with the source line and a caret under the span.
#include "dsl/diagnostics.hpp"

#include <algorithm>
#include <tuple>

#include "dsl/utf8.hpp"

namespace dalil::dsl {

void diagnostics::add(diagnostic d) {
  switch (d.level) {
    case severity::error:
      ++errors_;
      break;
    case severity::warning:
      ++warnings_;
      break;
    case severity::note:
      ++notes_;
      break;
  }
  if (items_.size() < max_kept) items_.push_back(std::move(d));
}

void diagnostics::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const diagnostic& a, const diagnostic& b) {
    return std::tie(a.span.file, a.span.begin, a.code) <
           std::tie(b.span.file, b.span.begin, b.code);
  });
}

namespace {

const char* label(severity s) {
  switch (s) {
    case severity::error:
      return "error";
    case severity::warning:
      return "warning";
    case severity::note:
      return "note";
  }
  return "error";
}

constexpr std::size_t long_line = 1000;  // bytes
constexpr std::size_t window = 60;       // code points shown on each side of the caret

/// The byte offset of code point `n` (0-based) of `s`, or s.size().
std::size_t byte_of(std::string_view s, std::size_t n) {
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == 0) return i;
      --n;
    }
  }
  return i;
}

/// `line` as it can be printed to a terminal (a source line, a message quoting a text literal, a
/// file name), one shown code point per source column: a tab
/// becomes a space (so that the caret lines up), another control character its Unicode control
/// picture (NUL is U+2400), and an ill-formed UTF-8 sequence U+FFFD.
std::string printable(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (std::size_t i = 0; i < line.size();) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c == '\t') {
      out += ' ';
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      unsigned picture = c == 0x7F ? 0x2421U : 0x2400U + c;  // three UTF-8 bytes: E2 90 xx
      out += static_cast<char>(0xE2);
      out += static_cast<char>(0x80 | ((picture >> 6U) & 0x3FU));
      out += static_cast<char>(0x80 | (picture & 0x3FU));
      ++i;
    } else if (std::size_t n = utf8_sequence_length(line.substr(i)); n > 0) {
      // A C1 control (U+0080-U+009F: C2 80-9F), which some terminals obey, and a bidirectional
      // embedding, override or isolate (U+202A-U+202E, U+2066-U+2069), which would reorder the
      // rest of the line, show as U+FFFD.
      out.append(hidden_control(utf8_code_point(line.substr(i, n)))
                     ? std::string_view("\xEF\xBF\xBD")
                     : line.substr(i, n));
      i += n;
    } else if ((c & 0xC0) == 0x80) {
      ++i;  // a stray continuation byte takes no column in the source map's count
    } else {
      out += "\xEF\xBF\xBD";  // one column, as the source map counts it: the lead byte
      ++i;
      while (i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) ++i;
    }
  }
  return out;
}

void render_snippet(std::string& out, const source_map& sources, source_span span) {
  if (span.file >= sources.size()) return;
  if (sources.text(span.file).empty()) return;  // a file that could not be read: nothing to show
  line_column start = sources.position(span.file, span.begin);
  std::string_view line = sources.line_text(span.file, start.line);
  std::string number = std::to_string(start.line);
  std::string gutter(number.size(), ' ');
  std::size_t width = 1;
  line_column end = sources.position(span.file, span.end);
  std::size_t column = start.column;  // 1-based, in code points of what is shown
  if (span.end > span.begin) {
    if (end.line == start.line) {
      width = std::max<std::size_t>(1, end.column - start.column);
    } else {
      width = std::max<std::size_t>(1, code_points(line) + 1 - start.column);
    }
  }
  // A very long line (a generated or hostile file) is shown as a window around the caret, so
  // that a thousand diagnostics on one megabyte-long line do not print a gigabyte.
  std::string shown;
  if (line.size() > long_line) {
    std::size_t first = start.column - 1 > window ? start.column - 1 - window : 0;
    std::size_t from = byte_of(line, first);
    std::size_t to = from + byte_of(line.substr(from), (start.column - 1 - first) + 2 * window);
    shown = (first > 0 ? "…" : "") + std::string(line.substr(from, to - from)) +
            (to < line.size() ? "…" : "");
    column = start.column - first + (first > 0 ? 1 : 0);
    width = std::min(width, 2 * window);
  } else {
    shown = line;
  }
  out += ' ' + number + " | " + printable(shown) + '\n';
  out += ' ' + gutter + " | ";
  out.append(column - 1, ' ');
  out += '^';
  out.append(width - 1, '~');
  out += '\n';
}

/// A message as printed: one that quotes a megabyte-long name or literal keeps its first and last
/// code points around an ellipsis.
std::string bounded(std::string_view message) {
  constexpr std::size_t head = 200;
  constexpr std::size_t tail = 60;
  std::size_t n = code_points(message);
  if (n <= head + tail + 1) return std::string(message);
  std::size_t cut = byte_of(message, head);
  std::size_t resume = byte_of(message, n - tail);
  return std::string(message.substr(0, cut)) + "…" + std::string(message.substr(resume));
}

}  // namespace

std::string render(const source_map& sources, const diagnostic& d) {
  std::string out;
  if (d.span.file < sources.size()) {
    line_column p = sources.position(d.span.file, d.span.begin);
    out += printable(sources.name(d.span.file)) + ':' + std::to_string(p.line) + ':' +
           std::to_string(p.column) + ": ";
  }
  out += std::string(label(d.level)) + '[' + d.code + "]: " + printable(bounded(d.message)) + '\n';
  render_snippet(out, sources, d.span);
  for (const note& n : d.notes) {
    if (n.span.file < sources.size()) {
      line_column p = sources.position(n.span.file, n.span.begin);
      out += printable(sources.name(n.span.file)) + ':' + std::to_string(p.line) + ':' +
             std::to_string(p.column) + ": ";
    }
    out += "note: " + printable(bounded(n.message)) + '\n';
    render_snippet(out, sources, n.span);
  }
  return out;
}

std::string render_all(const source_map& sources, const diagnostics& diags) {
  std::string out;
  for (const diagnostic& d : diags.all()) out += render(sources, d);
  std::size_t e = diags.error_count();
  std::size_t w = diags.warning_count();
  if (std::size_t more = diags.dropped()) {
    out += "too many diagnostics (" + std::to_string(more) + " more not shown)\n";
  }
  if (e + w > 0) {
    out += std::to_string(e) + (e == 1 ? " error" : " errors") + ", " + std::to_string(w) +
           (w == 1 ? " warning" : " warnings") + '\n';
  }
  return out;
}

}  // namespace dalil::dsl
