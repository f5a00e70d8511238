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
//   quotes and line breaks (the caller joins physical lines until the quoting is closed).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dsl/program.hpp"

namespace dalil::engine {

struct csv_error {
  std::string field;  // the column name ("" for the row itself)
  std::string message;
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
