// CSV rows into applicant JSON: each header name is resolved against the input record, each cell
// checked against its field's type, and the cells nested back into records in schema order.
#include "engine/csv.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <system_error>

#include "dsl/value.hpp"
#include "engine/record.hpp"

namespace dalil::engine {

bool split_csv_line(std::string_view line, std::vector<std::string>& cells) {
  cells.clear();
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::size_t n = line.size();
  std::size_t i = 0;
  std::string cell;
  while (true) {
    cell.clear();
    if (i < n && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        if (line[i] == '"') {
          if (i + 1 < n && line[i + 1] == '"') {
            cell.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        cell.push_back(line[i++]);
      }
      if (!closed) return false;
      if (i < n && line[i] != ',') return false;  // text after the closing quote
    } else {
      while (i < n && line[i] != ',') {
        if (line[i] == '"') return false;  // RFC 4180: quotes only around a whole cell
        cell.push_back(line[i++]);
      }
    }
    cells.push_back(cell);
    if (i >= n) return true;
    ++i;  // the comma; a comma at the very end leaves one more, empty, cell
  }
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
      message =
          "unknown column: record '" + info.name + "' has no field '" + std::string(part) + "'";
      return false;
    }
    path.push_back(*f);
    t = info.fields[*f].t;
    if (dot == std::string_view::npos) return true;
    if (t.k != kind::record || t.ref >= p.records.size()) {
      message = "unknown column: '" + std::string(name.substr(0, dot)) + "' is not a record";
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
      message =
          "a record column holds only null (no such record) or nothing, found " + quoted(cell);
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
      message = "expected true or false, found " + quoted(cell);
      return false;
    case kind::integer: {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      if (ec != std::errc() || ptr != cell.data() + cell.size()) {
        message = "expected a whole number, found " + quoted(cell);
        return false;
      }
      out = std::to_string(v);
      return true;
    }
    case kind::decimal:
    case kind::money:
      if (!parse_decimal(cell)) {
        message =
            "expected an exact decimal amount such as 3767.50 (no exponent, no "
            "separators), found " +
            quoted(cell);
        return false;
      }
      append_json_string(out, cell);  // a string keeps the exact text
      return true;
    case kind::date:
      if (!parse_date(cell)) {
        message = quoted(cell) + " is not a calendar date (YYYY-MM-DD)";
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
        message = quoted(cell) + " is not one of " + list;
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
    if (i == 0 && name.substr(0, 3) == "\xEF\xBB\xBF") name.remove_prefix(3);
    name = trim(name);
    if (name.empty()) {
      return fail(error, "", "column " + std::to_string(i + 1) + " of the header has no name");
    }
    dsl::type t;
    if (!resolve(p, name, paths[i], t, message)) return fail(error, name, message);
    for (std::size_t k = 0; k < i; ++k) {
      if (paths[k] == paths[i]) return fail(error, name, "the column is given twice");
    }
    std::string_view cell = row[i];
    if (t.k != kind::text) cell = trim(cell);
    if (cell.empty()) continue;  // absent: unknown
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
