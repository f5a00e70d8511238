// Rendering of diagnostics with the source line and a caret under the span.
#include "dsl/diagnostics.hpp"

#include <algorithm>
#include <tuple>

#include "dsl/utf8.hpp"

namespace dalil::dsl {

void diagnostics::add(diagnostic d) {
  if (d.level == severity::error) ++errors_;
  items_.push_back(std::move(d));
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

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

void render_snippet(std::string& out, const source_map& sources, source_span span) {
  if (span.file >= sources.size()) return;
  line_column start = sources.position(span.file, span.begin);
  std::string_view line = sources.line_text(span.file, start.line);
  std::string number = std::to_string(start.line);
  std::string gutter(number.size(), ' ');
  // Tabs are shown as single spaces so that the caret lines up.
  std::string shown(line);
  std::replace(shown.begin(), shown.end(), '\t', ' ');
  out += ' ' + number + " | " + shown + '\n';
  out += ' ' + gutter + " | ";
  out.append(start.column - 1, ' ');
  std::size_t width = 1;
  line_column end = sources.position(span.file, span.end);
  if (span.end > span.begin) {
    if (end.line == start.line) {
      width = std::max<std::size_t>(1, end.column - start.column);
    } else {
      width = std::max<std::size_t>(1, code_points(line) + 1 - start.column);
    }
  }
  out += '^';
  out.append(width - 1, '~');
  out += '\n';
}

}  // namespace

std::string render(const source_map& sources, const diagnostic& d) {
  std::string out;
  if (d.span.file < sources.size()) {
    line_column p = sources.position(d.span.file, d.span.begin);
    out += sources.name(d.span.file) + ':' + std::to_string(p.line) + ':' +
           std::to_string(p.column) + ": ";
  }
  out += std::string(label(d.level)) + '[' + d.code + "]: " + d.message + '\n';
  render_snippet(out, sources, d.span);
  for (const note& n : d.notes) {
    if (n.span.file < sources.size()) {
      line_column p = sources.position(n.span.file, n.span.begin);
      out += sources.name(n.span.file) + ':' + std::to_string(p.line) + ':' +
             std::to_string(p.column) + ": ";
    }
    out += "note: " + n.message + '\n';
    render_snippet(out, sources, n.span);
  }
  // Messages quote what was found and snippets show source lines: neither may carry invalid
  // UTF-8 or terminal control sequences from a hostile file to the screen.
  return printable(out);
}

std::string render_all(const source_map& sources, const diagnostics& diags) {
  std::string out;
  for (const diagnostic& d : diags.all()) out += render(sources, d);
  std::size_t e = diags.error_count();
  std::size_t w = diags.warning_count();
  if (e + w > 0) {
    out += std::to_string(e) + (e == 1 ? " error" : " errors") + ", " + std::to_string(w) +
           (w == 1 ? " warning" : " warnings") + '\n';
  }
  return out;
}

}  // namespace dalil::dsl
