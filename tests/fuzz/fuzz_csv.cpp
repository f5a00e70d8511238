// Fuzz target: CSV input as an import reads it: a header of field paths, then rows, each turned
// into the JSON object the record reader then checks against the SNIA pack's schema.
// Properties beyond "no crash, no hang": a refused row names its column and never quotes a cell
// (cells are personal data); an accepted row gives JSON that is valid UTF-8.
#include <string>
#include <string_view>
#include <vector>

#include "engine/csv.hpp"
#include "engine/record.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace dalil;
using fuzz::violated;

/// A cell long enough to be a personal value rather than a word a message may hold, and not
/// the name of a column (a message names columns).
bool echo_candidate(const std::string& cell, const std::vector<std::string>& header) {
  if (cell.size() < 6) return false;
  for (const std::string& h : header) {
    if (h.find(cell) != std::string::npos) return false;
  }
  return true;
}

void no_echo(const std::string& message, const std::vector<std::string>& cells,
             const std::vector<std::string>& header) {
  if (!fuzz::utf8_ok(message)) violated("csv", "a CSV error is not valid UTF-8");
  for (const std::string& c : cells) {
    if (echo_candidate(c, header) && message.find(c) != std::string::npos) {
      violated("csv", "a CSV error quotes a cell: " + message);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto rules = fuzz::snia_pack();
  static const engine::record_reader reader(rules->program());
  const dsl::program& p = rules->program();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> header;
  std::vector<std::string> cells;
  std::string json;
  std::string pending;  // physical lines of a row whose quoting is still open
  bool have_header = false;
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t eol = input.find('\n', pos);
    std::size_t next = eol == std::string_view::npos ? input.size() : eol + 1;
    pending.append(input.substr(pos, next - pos));
    pos = next;
    if (!engine::split_csv_line(pending, cells)) {
      if (pos < input.size()) continue;  // a quoted cell may go on over the next line
      return 0;
    }
    pending.clear();
    if (!have_header) {
      header = cells;
      have_header = true;
      continue;
    }
    engine::csv_error cerr;
    if (!engine::csv_row_to_json(p, header, cells, json, cerr)) {
      no_echo(cerr.message, cells, header);
      continue;
    }
    if (!fuzz::utf8_ok(json)) violated("csv", "a CSV row became JSON that is not valid UTF-8");
    engine::record rec;
    engine::record_error err;
    if (!reader.read(json, rec, err)) no_echo(err.message, cells, header);
  }
  return 0;
}
