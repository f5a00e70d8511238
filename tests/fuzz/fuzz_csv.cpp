// Fuzz target: a CSV file as `dalil import` reads it: cut into records by record_splitter (fed in
// blocks whose size the input's first byte chooses), split into cells, the first record taken as
// the header, each row turned into the JSON object the record reader checks against the SNIA
// pack's schema. Properties beyond "no crash, no hang": a refused header or row never quotes a
// cell (cells are personal data); an accepted row gives valid UTF-8 JSON.
#include <string>
#include <string_view>
#include <vector>

#include "engine/csv.hpp"
#include "engine/record.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace dalil;
using fuzz::violated;

/// A cell that may be a personal value: long enough, with a digit or a sign (an id, a date, an
/// amount), and not a column name (messages name columns).
bool echo_candidate(const std::string& cell, const std::vector<std::string>& header) {
  if (cell.size() < 5) return false;
  bool value_like = false;
  for (char c : cell) value_like = value_like || (c >= '0' && c <= '9') || c == '-';
  if (!value_like) return false;
  for (const std::string& h : header) {
    if (h == cell) return false;
  }
  return true;
}

/// Fails when `message` (what `produce` says of `cells`) quotes a cell: a cell whose text the
/// message holds is reshaped, and the message produced again; holding the reshaped text means
/// it echoes the cell, holding the original means the words are the message's own.
template <typename Produce>
void no_echo(const std::string& message, const std::vector<std::string>& cells,
             const std::vector<std::string>& header, Produce produce) {
  if (!fuzz::utf8_ok(message)) violated("csv", "a CSV error is not valid UTF-8");
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const std::string& c = cells[i];
    if (!echo_candidate(c, header) || message.find(c) == std::string::npos) continue;
    if (fuzz::reshaped(c) == c) continue;  // no letter or digit: punctuation, not a value
    std::vector<std::string> other = cells;
    other[i] = fuzz::reshaped(c);
    std::string again = produce(other);
    if (again.find(other[i]) != std::string::npos) {
      violated("csv", "a CSV error quotes a cell: " + again);
    }
  }
}

struct importer {
  const dsl::program& p;
  const engine::record_reader& reader;
  std::vector<std::string> header;
  std::vector<std::string> cells;
  std::string json;
  bool have_header = false;
  bool stopped = false;

  void row(const engine::raw_record& r) {
    if (stopped || r.status != engine::raw_record::ok || r.text.empty()) return;
    engine::csv_error cerr;
    if (!have_header) {
      if (!engine::split_csv_record(r.text, header, cerr)) {
        stopped = true;
        return;
      }
      std::vector<std::string> none(header.size());
      if (!engine::csv_row_to_json(p, header, none, json, cerr)) {
        // The header is refused: its names must not be quoted when they look like values.
        std::vector<std::string> no_header;
        no_echo(cerr.field + ": " + cerr.message, header, no_header,
                [&](const std::vector<std::string>& h) {
                  engine::csv_error e;
                  std::string j;
                  std::vector<std::string> blank(h.size());
                  engine::csv_row_to_json(p, h, blank, j, e);
                  return e.field + ": " + e.message;
                });
        stopped = true;
        return;
      }
      have_header = true;
      return;
    }
    auto convert = [&](const std::vector<std::string>& row) {
      engine::csv_error e;
      std::string j;
      engine::csv_row_to_json(p, header, row, j, e);
      return e.field + ": " + e.message;
    };
    if (!engine::split_csv_record(r.text, cells, cerr)) {
      if (!fuzz::utf8_ok(cerr.message)) violated("csv", "a CSV error is not valid UTF-8");
      return;
    }
    if (!engine::csv_row_to_json(p, header, cells, json, cerr)) {
      no_echo(cerr.field + ": " + cerr.message, cells, header, convert);
      return;
    }
    if (!fuzz::utf8_ok(json)) violated("csv", "a CSV row became JSON that is not valid UTF-8");
    engine::record rec;
    engine::record_error err;
    if (!reader.read(json, rec, err)) {
      no_echo(err.field + ": " + err.message, cells, header,
              [&](const std::vector<std::string>& row) {
                std::string j;
                engine::csv_error e;
                if (!engine::csv_row_to_json(p, header, row, j, e))
                  return e.field + ": " + e.message;
                engine::record r2;
                engine::record_error e2;
                reader.read(j, r2, e2);
                return e2.field + ": " + e2.message;
              });
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto rules = fuzz::snia_pack();
  static const engine::record_reader reader(rules->program());
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t block = input.empty() ? 1 : 1 + static_cast<unsigned char>(input[0]) % 64;
  engine::record_splitter splitter(engine::record_splitter::format::csv);
  importer imp{rules->program(), reader, {}, {}, {}};
  engine::raw_record r;
  for (std::size_t pos = 0; pos < input.size(); pos += block) {
    splitter.feed(input.substr(pos, block));
    while (splitter.next(r)) imp.row(r);
  }
  if (splitter.finish(r)) imp.row(r);
  return 0;
}
