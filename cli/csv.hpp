// CSV cells for files people open in a spreadsheet (exports, impact's flips).
#pragma once

#include <string>
#include <string_view>

namespace dalil::cli {

/// Whether a spreadsheet would read `text` as a formula: its first character is = or @, a tab
/// or a carriage return, or + or - not starting a plain number (OWASP, "CSV injection").
inline bool reads_as_formula(std::string_view text) {
  if (text.empty()) return false;
  const char c = text.front();
  if (c == '=' || c == '@' || c == '\t' || c == '\r') return true;
  if (c != '+' && c != '-') return false;
  // "-12", "-3.50", "+7/3": a number, which a spreadsheet reads as one and computes nothing from.
  std::string_view rest = text.substr(1);
  if (rest.empty()) return true;
  bool digit = false;
  int marks = 0;
  for (char d : rest) {
    if (d >= '0' && d <= '9') {
      digit = true;
    } else if ((d == '.' || d == '/') && ++marks <= 1) {
      continue;
    } else {
      return true;
    }
  }
  return !digit;
}

/// Appends `text` as a quoted cell (RFC 4180: quotes doubled). A cell that would read as a
/// formula starts with an apostrophe, which spreadsheets show as text and never evaluate; the
/// file's readers are told so (docs/operations.md).
inline void append_csv_cell(std::string& out, std::string_view text) {
  out += '"';
  if (reads_as_formula(text)) out += '\'';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace dalil::cli
