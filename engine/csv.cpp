// CSV rows into applicant JSON: each header name is resolved against the input record, each cell
// checked against its field's type, and the cells nested back into records in schema order.
#include "engine/csv.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <system_error>

#include "dsl/source.hpp"
#include "dsl/utf8.hpp"
#include "dsl/value.hpp"
#include "engine/limits.hpp"
#include "engine/record.hpp"

namespace dalil::engine {

bool split_csv_record(std::string_view text, std::vector<std::string>& cells, csv_error& error) {
  cells.clear();
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  const std::size_t n = text.size();
  std::size_t i = 0;
  std::string cell;
  auto bad = [&](const char* what) {
    error.field.clear();
    error.message = "column " + std::to_string(cells.size() + 1) + ": " + what;
    return false;
  };
  while (true) {
    if (cells.size() == limits::fields) {
      error.field.clear();
      error.message = "the record has more than " + std::to_string(limits::fields) + " cells";
      return false;
    }
    cell.clear();
    if (i < n && text[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            cell.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        cell.push_back(text[i++]);
      }
      if (!closed) return bad("a quoted cell is never closed");
      if (i < n && text[i] != ',') return bad("text after the closing quote of a quoted cell");
    } else {
      while (i < n && text[i] != ',') {
        if (text[i] == '"') {
          return bad("a quote inside an unquoted cell (quote the whole cell and double it)");
        }
        cell.push_back(text[i++]);
      }
    }
    cells.push_back(cell);
    if (i >= n) return true;
    ++i;  // the comma; a comma at the very end leaves one more, empty, cell
  }
}

bool split_csv_line(std::string_view line, std::vector<std::string>& cells) {
  csv_error ignored;
  return split_csv_record(line, cells, ignored);
}

// ------------------------------------------------------------------ record_splitter

record_splitter::record_splitter(format f, std::size_t limit) : format_(f), limit_(limit) {}

void record_splitter::feed(std::string_view block) {
  // A UTF-8 byte order mark at the very start is dropped, even when it comes in pieces; bytes
  // that only began like one are given back to the first record.
  using dsl::bom;
  while (bom_matched_ < bom.size() && !block.empty()) {
    if (block.front() != bom[bom_matched_]) {
      if (bom_matched_ > 0) {
        started_ = true;
        record_line_ = line_;
        take(bom.substr(0, bom_matched_));
      }
      bom_matched_ = bom.size();
      break;
    }
    block.remove_prefix(1);
    ++bom_matched_;
  }
  block_ = block;
  pos_ = 0;
}

std::size_t record_splitter::scan(std::string_view span) {
  if (format_ == format::lines) {
    const void* nl = std::memchr(span.data(), '\n', span.size());
    return nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - span.data()) : span.size();
  }
  // RFC 4180: a line break ends the record unless it is inside a quoted cell. A quote opens a
  // quoted cell only at the start of a cell; the splitter follows cells only as far as it must
  // to find line breaks (split_csv_record judges the quoting).
  for (std::size_t i = 0; i < span.size(); ++i) {
    char c = span[i];
    switch (csv_) {
      case csv_state::cell_start:
        if (c == '"') {
          csv_ = csv_state::quoted;
          break;
        }
        [[fallthrough]];
      case csv_state::unquoted:
        if (c == '\n') return i;
        csv_ = c == ',' ? csv_state::cell_start : csv_state::unquoted;
        break;
      case csv_state::quoted:
        if (c == '"') {
          csv_ = csv_state::quote_in_quoted;
        } else if (c == '\n') {
          ++line_;
        }
        break;
      case csv_state::quote_in_quoted:  // a doubled quote, or the closing one
        if (c == '"') {
          csv_ = csv_state::quoted;
        } else if (c == '\n') {
          return i;
        } else {
          csv_ = c == ',' ? csv_state::cell_start : csv_state::unquoted;
        }
        break;
    }
  }
  return span.size();
}

void record_splitter::take(std::string_view span) {
  if (skipping_) return;
  if (pending_.size() + span.size() > limit_) {
    skipping_ = true;  // the rest of this record is dropped as it is read: memory stays bounded
    pending_.clear();
    return;
  }
  pending_.append(span);
}

bool record_splitter::emit(std::string_view text, bool unterminated, raw_record& out) {
  out.line = record_line_;
  out.text = {};
  if (unterminated) {
    out.status = raw_record::unterminated;
  } else if (skipping_) {
    out.status = raw_record::too_long;
  } else {
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    out.status = raw_record::ok;
    out.text = text;
  }
  started_ = false;
  skipping_ = false;
  csv_ = csv_state::cell_start;
  clear_pending_ = true;
  return true;
}

bool record_splitter::next(raw_record& out) {
  if (clear_pending_) {
    pending_.clear();
    clear_pending_ = false;
  }
  if (pos_ >= block_.size()) return false;
  if (!started_) {
    started_ = true;
    record_line_ = line_;
  }
  std::string_view rest = block_.substr(pos_);
  std::size_t end = scan(rest);
  if (end == rest.size()) {  // the record goes on in the next block
    take(rest);
    pos_ = block_.size();
    return false;
  }
  std::string_view span = rest.substr(0, end);
  pos_ += end + 1;
  ++line_;  // the line break that ends the record
  if (pending_.empty() && !skipping_ && span.size() <= limit_) return emit(span, false, out);
  take(span);
  return emit(pending_, false, out);
}

bool record_splitter::finish(raw_record& out) {
  if (clear_pending_) {
    pending_.clear();
    clear_pending_ = false;
  }
  if (!started_) return false;
  bool open_quote = format_ == format::csv && csv_ == csv_state::quoted;
  return emit(pending_, open_quote, out);
}

namespace {

using dsl::kind;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool fail(csv_error& error, std::string_view field, std::string message) {
  error.field = std::string(field);
  error.message = std::move(message);
  return false;
}

/// Resolves a header name such as `household.size` into field indices from the input record.
bool resolve(const dsl::program& p, std::string_view name, std::vector<std::uint32_t>& path,
             dsl::type& t, std::string& message) {
  path.clear();
  std::uint32_t rec = p.input_record;
  if (rec >= p.records.size()) {
    message = "the rule pack declares no input record";
    return false;
  }
  std::size_t start = 0;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::string_view part =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    const dsl::record_info& info = p.records[rec];
    auto f = info.field(part);
    if (!f) {
      message = "unknown column: " + no_such_field(info, part);
      return false;
    }
    path.push_back(*f);
    t = info.fields[*f].t;
    if (dot == std::string_view::npos) return true;
    if (t.k != kind::record || t.ref >= p.records.size()) {
      message = "unknown column: its field '" + info.fields[*f].name + "' is not a record";
      return false;
    }
    rec = t.ref;
    start = dot + 1;
  }
}

std::string quoted(std::string_view s) {
  std::string out = "'";
  out += s;
  out += "'";
  return out;
}

/// Writes the JSON text of one non-empty cell of type `t` into `out`.
bool cell_json(const dsl::program& p, const dsl::type& t, std::string_view cell, std::string& out,
               std::string& message) {
  out.clear();
  if (cell == "null") {
    out = "null";
    return true;
  }
  switch (t.k) {
    case kind::record:
      message = "a record column holds only null (no such record) or nothing";
      return false;
    case kind::boolean:
      if (cell == "true" || cell == "TRUE" || cell == "True") {
        out = "true";
        return true;
      }
      if (cell == "false" || cell == "FALSE" || cell == "False") {
        out = "false";
        return true;
      }
      message = "expected true or false";
      return false;
    case kind::integer: {
      // Checked here only as far as safe JSON needs (a sign and digits, written as they are);
      // the record reader then applies JSON's number rules and the limits, as for JSONL.
      std::string_view digits = cell.substr(cell[0] == '-' ? 1 : 0);
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
        message = "expected a whole number (no decimal point, no exponent)";
        return false;
      }
      out.assign(cell);
      return true;
    }
    case kind::decimal:
    case kind::money:
      if (!parse_decimal(cell)) {
        message = "expected an exact decimal amount such as 3767.50 (no exponent, no separators)";
        return false;
      }
      append_json_string(out, cell);  // a string keeps the exact text
      return true;
    case kind::date:
      if (!parse_date(cell)) {
        message = "is not a calendar date (YYYY-MM-DD, years 0001 to 9999)";
        return false;
      }
      append_json_string(out, cell);
      return true;
    case kind::enumeration: {
      if (t.ref >= p.enums.size()) {
        message = "the column's enum is unknown";
        return false;
      }
      const auto& cases = p.enums[t.ref].cases;
      if (std::find(cases.begin(), cases.end(), cell) == cases.end()) {
        std::string list;
        for (const std::string& c : cases) list += (list.empty() ? "" : ", ") + c;
        message = "is not one of " + list;
        return false;
      }
      append_json_string(out, cell);
      return true;
    }
    case kind::text:
      append_json_string(out, cell);
      return true;
    case kind::list:
      message = "lists cannot be given in CSV";
      return false;
    default:
      message = "this field cannot be given in a record";
      return false;
  }
}

struct entry {
  std::vector<std::uint32_t> path;
  std::string json;
  std::string_view column;
};

/// Writes the entries [begin, end), which share their first `depth` path steps, as an object of
/// record `rec`.
bool emit(const dsl::program& p, const std::vector<entry>& es, std::size_t begin, std::size_t end,
          std::size_t depth, std::uint32_t rec, std::string& json, csv_error& error) {
  json.push_back('{');
  std::size_t i = begin;
  while (i < end) {
    std::uint32_t f = es[i].path[depth];
    std::size_t j = i;
    while (j < end && es[j].path[depth] == f) ++j;
    if (i != begin) json.push_back(',');
    const dsl::field_info& field = p.records[rec].fields[f];
    append_json_string(json, field.name);
    json.push_back(':');
    if (es[i].path.size() == depth + 1) {
      // Sorted paths put a record's own column before its leaves: it can only be `null` here.
      if (j - i > 1) {
        return fail(error, es[i + 1].column,
                    quoted(es[i].column) + " is null, so this column must be empty");
      }
      json += es[i].json;
    } else if (!emit(p, es, i, j, depth + 1, field.t.ref, json, error)) {
      return false;
    }
    i = j;
  }
  json.push_back('}');
  return true;
}

}  // namespace

bool csv_row_to_json(const dsl::program& p, const std::vector<std::string>& header,
                     const std::vector<std::string>& row, std::string& json, csv_error& error) {
  json.clear();
  if (header.size() > limits::fields) {
    return fail(error, "",
                "the header has more than " + std::to_string(limits::fields) + " columns");
  }
  if (row.size() != header.size()) {
    return fail(error, "",
                "the row has " + std::to_string(row.size()) + " cells but the header has " +
                    std::to_string(header.size()));
  }
  std::vector<entry> entries;
  std::vector<std::vector<std::uint32_t>> paths(header.size());
  std::string message;
  for (std::size_t i = 0; i < header.size(); ++i) {
    std::string_view name = header[i];
    if (i == 0 && dsl::has_bom(name)) name.remove_prefix(dsl::bom.size());
    name = trim(name);
    if (dsl::first_invalid_utf8(name)) {
      return fail(error, "",
                  "column " + std::to_string(i + 1) + " of the header is not valid UTF-8");
    }
    if (name.empty()) {
      return fail(error, "", "column " + std::to_string(i + 1) + " of the header has no name");
    }
    dsl::type t;
    if (!resolve(p, name, paths[i], t, message)) {
      return fail(error, "", "column " + std::to_string(i + 1) + " of the header: " + message);
    }
    for (std::size_t k = 0; k < i; ++k) {
      if (paths[k] == paths[i]) return fail(error, name, "the column is given twice");
    }
    std::string_view cell = row[i];
    if (t.k != kind::text) cell = trim(cell);
    if (cell.empty()) continue;  // absent: unknown
    // Checked before any conversion, so that no message can carry a broken or huge value.
    if (cell.find('\0') != std::string_view::npos) {
      return fail(error, name, "contains a NUL byte, which no cell may hold");
    }
    if (dsl::first_invalid_utf8(cell)) return fail(error, name, "is not valid UTF-8");
    if (cell.size() > limits::text_bytes) {
      return fail(error, name,
                  "the cell is longer than " + std::to_string(limits::text_bytes) + " bytes");
    }
    entry e;
    if (!cell_json(p, t, cell, e.json, message)) return fail(error, name, message);
    e.path = paths[i];
    e.column = name;
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(),
            [](const entry& a, const entry& b) { return a.path < b.path; });
  return emit(p, entries, 0, entries.size(), 0, p.input_record, json, error);
}

}  // namespace dalil::engine
