// Applicant records as CSV rows: RFC 4180 splitting, and conversion of one row into the JSON
// object that engine::record_reader reads (which then validates the record as for any JSON).
//
// The CSV convention (written by `dalil generate --format csv`, read back by csv_row_to_json):
// - The first line is a header of dotted field paths of the input record, one column per leaf
//   field: `id`, `residence_card.kind`, `household.size`, … Columns may come in any order and
//   any subset; an unknown or repeated column name is an error. A UTF-8 byte order mark before
//   the first name is ignored.
// - An empty cell means the field is absent: unknown, never a default.
// - The cell `null` means the field is null (known not to exist); the reader accepts it only for
//   fields declared `T?` (such as `regularized_in`), so the text "null" cannot be given.
// - An optional record (`residence_card`, `spouse`, `work_contract`) has a column of its own,
//   named by the record, holding `null` when the record is null and left empty otherwise; its
//   leaf columns must then be empty. When that cell is empty, the record is written when at least
//   one of its leaf cells is filled, and left out (unknown) when all are empty.
// - Cells are written as for JSON: int cells as whole numbers (`12`); money and decimal cells as
//   exact decimals with a point (`3767.50`, `9.3264284`; no exponent, no thousands separator);
//   bool cells `true` or `false`; dates `YYYY-MM-DD`; enum cells one of the declared cases; text
//   verbatim. Spaces around a non-text cell are ignored. Lists cannot be given in CSV.
// - Every row has exactly as many cells as the header. A quoted cell may hold commas, doubled
//   quotes and line breaks (record_splitter keeps such a record whole). Lines end with LF or
//   CRLF; the last record may have no line break; blank lines between records are skipped.
// - Errors name the row, its first physical line and the column, never a cell's value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/program.hpp"
#include "engine/limits.hpp"

namespace dalil::engine {

struct csv_error {
  std::string field;  // the column name ("" for the row itself)
  std::string message;
};

/// Splits one CSV record (RFC 4180; its quoted cells may hold line breaks) into cells. A final
/// line break is dropped. On malformed quoting (a quoted cell never closed, text after a closing
/// quote, a quote inside an unquoted cell) or more than limits::fields cells, returns false with
/// `error` naming the column by number; `cells` is then unspecified.
bool split_csv_record(std::string_view text, std::vector<std::string>& cells, csv_error& error);

/// One record of a JSONL or CSV file as record_splitter cuts it.
struct raw_record {
  enum kind : std::uint8_t {
    ok,
    too_long,      // longer than the limit: its bytes were dropped as they were read
    unterminated,  // (CSV) a quoted cell still open at the end of the input
  };
  kind status = ok;
  std::string_view text;  // without its line break (LF or CRLF); empty unless ok
  std::int64_t line = 0;  // the physical line it starts on, from 1
};

/// Cuts a stream of bytes, fed block by block, into records: one per line (JSONL), or one per
/// line break outside a quoted cell (CSV, RFC 4180). A UTF-8 byte order mark at the very start
/// is dropped. Memory is bounded by the limit whatever the input: a record longer than it is
/// reported as too long, and a quote never closed as unterminated, without being held.
class record_splitter {
 public:
  enum class format { lines, csv };
  explicit record_splitter(format f, std::size_t limit = limits::record_bytes);
  /// Hands over the next block; the previous one must be used up (next() returned false). The
  /// block must stay valid until then.
  void feed(std::string_view block);
  /// The next complete record of the input fed so far, or false when more input is needed.
  /// `out.text` is valid until the next call.
  bool next(raw_record& out);
  /// At the end of the input: the last record when it has no final line break, or false.
  bool finish(raw_record& out);

 private:
  enum class csv_state : std::uint8_t { cell_start, unquoted, quoted, quote_in_quoted };
  std::size_t scan(std::string_view span);
  void take(std::string_view span);
  bool emit(std::string_view text, bool unterminated, raw_record& out);

  format format_;
  std::size_t limit_;
  std::string_view block_;
  std::size_t pos_ = 0;
  std::string pending_;  // the beginning of a record that spans blocks (at most limit_ bytes)
  std::size_t bom_matched_ = 0;  // bytes of a byte order mark seen at the start
  bool started_ = false;         // a record has begun and not been emitted
  bool skipping_ = false;        // the current record passed the limit
  bool clear_pending_ = false;
  csv_state csv_ = csv_state::cell_start;
  std::int64_t line_ = 1;  // the physical line at pos_
  std::int64_t record_line_ = 1;
};

/// Splits one CSV line (RFC 4180 quoting: `"a, ""b"""` is the cell `a, "b"`) into cells. A final
/// line break (`\n`, `\r\n`) is dropped. Returns false on malformed quoting: an unterminated
/// quoted cell (which may mean the cell goes on over the next line), text after a closing quote,
/// or a quote inside an unquoted cell; `cells` is then unspecified.
bool split_csv_line(std::string_view line, std::vector<std::string>& cells);

/// Converts one CSV row into a JSON object text (fields in the schema's order), given the header,
/// using the program's input record to decide how each cell is written (see the convention
/// above). Returns false, with `error` naming the column, on an unknown or repeated column, a
/// cell that does not fit its column's type, a row whose length differs from the header's, or a
/// null record with a filled leaf cell; `json` is then unspecified.
bool csv_row_to_json(const dsl::program& p, const std::vector<std::string>& header,
                     const std::vector<std::string>& row, std::string& json, csv_error& error);

}  // namespace dalil::engine
