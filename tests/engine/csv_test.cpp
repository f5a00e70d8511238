// CSV input: RFC 4180 splitting, and rows turned into the JSON that the record reader accepts,
// with errors that name the column.
#include "engine/csv.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/parser.hpp"
#include "engine/limits.hpp"
#include "engine/record.hpp"

using namespace dalil;

namespace {

struct checked {
  dsl::source_map sources;
  dsl::diagnostics diags;
  std::vector<dsl::ast::module> modules;
  std::optional<dsl::program> prog;
};

const std::string schema_text = R"(module m
  title fr "t" ar "t" en "t"
enum Sex { female, male }
enum CardKind { immatriculation, residence }
record Card { kind : CardKind  expires : date }
record Household { size : int  income : money  score : decimal }
record Applicant {
  id : text
  sex : Sex
  birth_date : date
  lawful : bool
  card : Card?
  household : Household
  regularized_in : int?
  tags : list text
}
input applicant : Applicant
)";

const dsl::program& program() {
  static const std::unique_ptr<checked> c = [] {
    auto r = std::make_unique<checked>();
    dsl::file_id f = r->sources.add("csv.dalil", schema_text);
    auto m = dsl::parse(r->sources, f, r->diags);
    if (m) r->modules.push_back(std::move(*m));
    if (!r->diags.has_errors()) r->prog = dsl::check(r->sources, r->modules, r->diags);
    return r;
  }();
  REQUIRE(c->prog);
  return *c->prog;
}

std::vector<std::string> split(std::string_view line) {
  std::vector<std::string> cells;
  REQUIRE(engine::split_csv_line(line, cells));
  return cells;
}

using cells = std::vector<std::string>;

}  // namespace

TEST_CASE("split_csv_line: plain, quoted and empty cells", "[engine][csv]") {
  struct split_case {
    std::string line;
    cells expected;
  };
  const split_case cases[] = {
      {"a,b,c", {"a", "b", "c"}},
      {"", {""}},
      {"a", {"a"}},
      {"a,,c", {"a", "", "c"}},
      {",", {"", ""}},
      {"a,b,", {"a", "b", ""}},
      {"a,b,\"\"", {"a", "b", ""}},
      {"\"a,b\",c", {"a,b", "c"}},
      {"\"say \"\"hi\"\"\",x", {"say \"hi\"", "x"}},
      {"\"\"\"\"", {"\""}},
      {"\"line\nbreak\",2", {"line\nbreak", "2"}},
      {"a,b\r\n", {"a", "b"}},
      {"a,b\n", {"a", "b"}},
      {"\"a\",\"\"\r\n", {"a", ""}},
      {" a , b ", {" a ", " b "}},
      {"Rabat,الرباط", {"Rabat", "الرباط"}},
  };
  for (const auto& c : cases) {
    INFO(c.line);
    CHECK(split(c.line) == c.expected);
  }
}

TEST_CASE("split_csv_line: malformed quoting", "[engine][csv]") {
  const char* bad[] = {"\"unterminated", "a,\"open",  "\"a\"b,c", "ab\"c,d",
                       "\"a\" ,b",       "x,\"y\"\"", "a\"\"b"};
  for (const char* line : bad) {
    INFO(line);
    std::vector<std::string> out;
    CHECK_FALSE(engine::split_csv_line(line, out));
  }
}

TEST_CASE("csv_row_to_json: every cell kind, in schema order", "[engine][csv]") {
  const dsl::program& p = program();
  cells header = {"household.income", "id",        "sex",           "birth_date",
                  "lawful",           "card.kind", "card.expires",  "household.size",
                  "household.score",  "card",      "regularized_in"};
  cells row = {"3767.50",    "SYN-1", "female",    "1990-02-28", "true", "residence",
               "2020-01-01", " 3 ",   "9.3264284", "",           "2014"};
  std::string json;
  engine::csv_error err;
  REQUIRE(engine::csv_row_to_json(p, header, row, json, err));
  CHECK(json ==
        R"({"id":"SYN-1","sex":"female","birth_date":"1990-02-28","lawful":true,)"
        R"("card":{"kind":"residence","expires":"2020-01-01"},)"
        R"("household":{"size":3,"income":"3767.50","score":"9.3264284"},"regularized_in":2014})");

  engine::record_reader reader(p);
  engine::record rec;
  engine::record_error rerr;
  CHECK(reader.read(json, rec, rerr));
}

TEST_CASE("csv_row_to_json: empty cells are unknown, null cells are null", "[engine][csv]") {
  const dsl::program& p = program();
  cells header = {"id", "card", "card.kind", "card.expires", "household.size", "regularized_in"};
  std::string json;
  engine::csv_error err;

  SECTION("a null record") {
    REQUIRE(engine::csv_row_to_json(p, header, {"x", "null", "", "", "", "null"}, json, err));
    CHECK(json == R"({"id":"x","card":null,"regularized_in":null})");
  }
  SECTION("a record with every leaf empty is left out") {
    REQUIRE(engine::csv_row_to_json(p, header, {"x", "", "", "", "", ""}, json, err));
    CHECK(json == R"({"id":"x"})");
  }
  SECTION("a record with some leaves is written with those") {
    REQUIRE(engine::csv_row_to_json(p, header, {"", "", "", "2030-12-31", "2", ""}, json, err));
    CHECK(json == R"({"card":{"expires":"2030-12-31"},"household":{"size":2}})");
  }
  SECTION("text is kept verbatim, quotes and spaces included") {
    REQUIRE(engine::csv_row_to_json(p, {"id"}, {" a \"b\" "}, json, err));
    CHECK(json == R"({"id":" a \"b\" "})");
  }
  SECTION("the header may start with a byte order mark") {
    REQUIRE(engine::csv_row_to_json(p, {"\xEF\xBB\xBFid", "lawful"}, {"x", "FALSE"}, json, err));
    CHECK(json == R"({"id":"x","lawful":false})");
  }
  SECTION("the record reader accepts null records and null optional fields") {
    REQUIRE(engine::csv_row_to_json(p, header, {"x", "null", "", "", "4", "null"}, json, err));
    engine::record_reader reader(p);
    engine::record rec;
    engine::record_error rerr;
    CHECK(reader.read(json, rec, rerr));
  }
}

TEST_CASE("csv_row_to_json: cells that do not fit name their column", "[engine][csv]") {
  const dsl::program& p = program();
  struct error_case {
    cells header;
    cells row;
    std::string field;
    std::string message_part;
  };
  const error_case cases[] = {
      {{"household.size"}, {"abc"}, "household.size", "whole number"},
      {{"household.size"}, {"2.5"}, "household.size", "whole number"},
      {{"household.income"}, {"3 767,50"}, "household.income", "exact decimal"},
      {{"household.income"}, {"1e5"}, "household.income", "exact decimal"},
      {{"household.score"}, {"abc"}, "household.score", "exact decimal"},
      {{"lawful"}, {"yes"}, "lawful", "true or false"},
      {{"birth_date"}, {"2014-02-30"}, "birth_date", "calendar date"},
      {{"birth_date"}, {"01/02/1990"}, "birth_date", "calendar date"},
      {{"sex"}, {"f"}, "sex", "not one of female, male"},
      {{"card.kind"}, {"passport"}, "card.kind", "not one of"},
      {{"card"}, {"yes"}, "card", "only null"},
      {{"tags"}, {"a"}, "tags", "lists"},
      // An unknown header name is never quoted (it may be a value): the column's number is.
      {{"nationality"}, {"SN"}, "", "column 1 of the header: unknown column"},
      {{"card.colour"}, {"red"}, "", "column 1 of the header: unknown column"},
      {{"id.more"}, {"x"}, "", "field 'id' is not a record"},
      {{"id", "id"}, {"a", ""}, "id", "twice"},
      {{"card", "card.kind"}, {"null", "residence"}, "card.kind", "is null"},
      {{"id", "sex"}, {"x"}, "", "header has 2"},
      {{"id"}, {"x", "y"}, "", "header has 1"},
      {{"id", ""}, {"x", ""}, "", "no name"},
  };
  for (const auto& c : cases) {
    INFO(c.header[0] << " / " << (c.row.empty() ? std::string() : c.row[0]));
    std::string json;
    engine::csv_error err;
    CHECK_FALSE(engine::csv_row_to_json(p, c.header, c.row, json, err));
    CHECK(err.field == c.field);
    CHECK_THAT(err.message, Catch::Matchers::Contains(c.message_part));
  }
}

TEST_CASE("csv_row_to_json: a null non-optional field is left for the reader to reject",
          "[engine][csv]") {
  const dsl::program& p = program();
  std::string json;
  engine::csv_error err;
  REQUIRE(engine::csv_row_to_json(p, {"household.size"}, {"null"}, json, err));
  CHECK(json == R"({"household":{"size":null}})");
  engine::record_reader reader(p);
  engine::record rec;
  engine::record_error rerr;
  CHECK_FALSE(reader.read(json, rec, rerr));
  CHECK(rerr.field == "household.size");
}

// ------------------------------------------------------------------ records of a stream

namespace {

/// Every record the splitter cuts from `input` fed in blocks of `block` bytes.
std::vector<engine::raw_record> split_stream(const std::string& input, std::size_t block,
                                             engine::record_splitter::format f,
                                             std::vector<std::string>& texts,
                                             std::size_t limit = engine::limits::record_bytes) {
  engine::record_splitter splitter(f, limit);
  std::vector<engine::raw_record> out;
  texts.clear();
  engine::raw_record r;
  for (std::size_t at = 0; at < input.size(); at += block) {
    splitter.feed(std::string_view(input).substr(at, block));
    while (splitter.next(r)) {
      out.push_back(r);
      texts.emplace_back(r.text);
    }
  }
  if (splitter.finish(r)) {
    out.push_back(r);
    texts.emplace_back(r.text);
  }
  return out;
}

}  // namespace

TEST_CASE("record_splitter: RFC 4180 records whatever the block size", "[engine][csv]") {
  using fmt = engine::record_splitter::format;
  const std::string input =
      "\xEF\xBB\xBFid,note\r\n"  // a byte order mark, CRLF
      "A,\"two\nlines\"\r\n"     // a quoted line break
      "B,\"say \"\"hi\"\"\"\n"   // doubled quotes
      "\n"                       // a blank line
      "C,\"a\r\n\r\nb\",x\n"     // quoted CRLFs and an empty line inside a cell
      "D,last";                  // no final line break
  for (std::size_t block : {std::size_t{1}, std::size_t{2}, std::size_t{7}, input.size()}) {
    INFO("block size " << block);
    std::vector<std::string> texts;
    auto records = split_stream(input, block, fmt::csv, texts);
    REQUIRE(records.size() == 6);
    CHECK(texts[0] == "id,note");
    CHECK(texts[1] == "A,\"two\nlines\"");
    CHECK(texts[2] == "B,\"say \"\"hi\"\"\"");
    CHECK(texts[3].empty());
    CHECK(texts[4] == "C,\"a\r\n\r\nb\",x");
    CHECK(texts[5] == "D,last");
    const std::int64_t lines[] = {1, 2, 4, 5, 6, 9};
    for (std::size_t i = 0; i < records.size(); ++i) {
      CHECK(records[i].line == lines[i]);
      CHECK(records[i].status == engine::raw_record::ok);
    }
    std::vector<std::string> cells;
    engine::csv_error err;
    REQUIRE(engine::split_csv_record(texts[2], cells, err));
    CHECK(cells == std::vector<std::string>{"B", "say \"hi\""});
    REQUIRE(engine::split_csv_record(texts[4], cells, err));
    CHECK(cells == std::vector<std::string>{"C", "a\r\n\r\nb", "x"});
  }
}

TEST_CASE("record_splitter: a quote never closed is an error, not a read to the end",
          "[engine][csv]") {
  using fmt = engine::record_splitter::format;
  std::vector<std::string> texts;
  auto records = split_stream("id,note\nA,\"open\nB,x\nC,y\n", 3, fmt::csv, texts);
  REQUIRE(records.size() == 2);
  CHECK(records[1].status == engine::raw_record::unterminated);
  CHECK(records[1].line == 2);
  SECTION("past the limit the record's bytes are not held") {
    std::string big = "id,note\nA,\"" + std::string(5000, 'x') + "\nB,x\n";
    auto r = split_stream(big, 64, fmt::csv, texts, 1000);
    REQUIRE(r.size() == 2);
    CHECK(r[1].status == engine::raw_record::unterminated);
    CHECK(r[1].text.empty());
  }
  SECTION("a record longer than the limit that does end is too long, and the next is read") {
    std::string big = "A,\"" + std::string(5000, 'x') + "\"\nB,y\n";
    auto r = split_stream(big, 64, fmt::csv, texts, 1000);
    REQUIRE(r.size() == 2);
    CHECK(r[0].status == engine::raw_record::too_long);
    CHECK(r[1].status == engine::raw_record::ok);
    CHECK(texts[1] == "B,y");
    CHECK(r[1].line == 2);
  }
  SECTION("a quote inside an unquoted cell does not open a quoted cell") {
    auto r = split_stream("A,ab\"c\nB,y\n", 4, fmt::csv, texts);
    REQUIRE(r.size() == 2);
    std::vector<std::string> cells;
    engine::csv_error err;
    CHECK_FALSE(engine::split_csv_record(texts[0], cells, err));
    CHECK_THAT(err.message, Catch::Matchers::Contains("column 2"));
    CHECK_THAT(err.message, Catch::Matchers::Contains("unquoted cell"));
  }
}

TEST_CASE("record_splitter: JSONL lines, long lines dropped as they are read", "[engine][csv]") {
  using fmt = engine::record_splitter::format;
  std::vector<std::string> texts;
  std::string input =
      "\xEF\xBB\xBF{\"a\":1}\r\n\n" + std::string(3000, 'z') + "\n{\"b\":\"x\\\"\"}";
  auto r = split_stream(input, 100, fmt::lines, texts, 1000);
  REQUIRE(r.size() == 4);
  CHECK(texts[0] == "{\"a\":1}");
  CHECK(texts[1].empty());
  CHECK(r[2].status == engine::raw_record::too_long);
  CHECK(r[2].line == 3);
  CHECK(texts[3] == "{\"b\":\"x\\\"\"}");
  CHECK(r[3].line == 4);
  SECTION("bytes that only begin like a byte order mark are kept") {
    auto b = split_stream("\xEF\xBBx\n", 1, fmt::lines, texts);
    REQUIRE(b.size() == 1);
    CHECK(texts[0] == "\xEF\xBBx");
  }
  SECTION("a quote has no meaning in JSONL") {
    auto q = split_stream("{\"a\":\"\n{}\n", 5, fmt::lines, texts);
    CHECK(q.size() == 2);
  }
}

TEST_CASE("csv_row_to_json: no message quotes a cell's value", "[engine][csv]") {
  const dsl::program& p = program();
  struct leak_case {
    std::string column;
    std::string cell;
    std::string value;  // what must not appear
  };
  const leak_case cases[] = {
      {"household.size", "12a45", "12a45"},
      {"household.income", "3 767,55", "767,55"},
      {"lawful", "Oui-Fatima", "Fatima"},
      {"birth_date", "1983-07-32", "1983-07-32"},
      {"sex", "Fatima", "Fatima"},
      {"card", "Fatima", "Fatima"},
      {"id", "Fatima\xff", "Fatima"},
      {"id", std::string("Fatima\0", 7), "Fatima"},
      {"id", "Fatima" + std::string(engine::limits::text_bytes, 'x'), "Fatima"},
  };
  for (const leak_case& c : cases) {
    INFO(c.column);
    std::string json;
    engine::csv_error err;
    CHECK_FALSE(engine::csv_row_to_json(p, {c.column}, {c.cell}, json, err));
    CHECK(err.field == c.column);
    CHECK_THAT(err.message, !Catch::Matchers::Contains(c.value));
  }
}
