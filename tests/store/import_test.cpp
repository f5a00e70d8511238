// Import of hostile and broken exports: RFC 4180 CSV, byte order marks, CRLF, blank lines, NUL
// bytes, over-long records, unclosed quotes, files that are not files; every row accounted for,
// and no rejection (on the terminal or in the store's file) quoting the value it refuses.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/limits.hpp"
#include "store/batch.hpp"
#include "store/store.hpp"
#include "tests/store/support.hpp"
#include "tests/support/packs.hpp"

using namespace dalil;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("dalil-import-test-" + std::to_string(::getpid()));
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() { fs::remove_all(path); }
};

const dsl::program& snia() {
  static const auto pack = testing::load_pack_dir(testing::source_path("rules"));
  return pack->rules->program();
}

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

struct imported {
  bool ok = false;
  std::string error;
  store::import_summary s;
};

imported import(const std::string& db_name, const fs::path& file) {
  imported r;
  auto db = testing::open_store(db_name);
  auto st = store::import_file(*db, snia(), file.string(), r.s);
  r.ok = st.has_value();
  if (!r.ok) r.error = st.error().message;
  if (r.ok) CHECK(r.s.rows == r.s.stored + r.s.new_versions + r.s.unchanged + r.s.rejected);
  return r;
}

/// A bad record and the text of its bad value, which no rejection may quote. Each value is
/// distinctive (a character outside hex digits, or ten digits and more): the store file holds
/// hashes and timestamps that differ per run, and a short hex value such as "1e5" turns up in them
/// by chance.
struct leak_case {
  std::string record;
  std::string value;
};

}  // namespace

TEST_CASE("import: no rejection quotes the value it refuses, on screen or in the store",
          "[store][import]") {
  temp_dir dir;
  const std::string long_text = "LongNameQz" + std::string(engine::limits::text_bytes, 'x');
  SECTION("JSONL") {
    const leak_case cases[] = {
        {R"({"id":"J-1","birth_date":"1983-07-32"})", "1983-07-32"},
        {R"({"id":"J-2","spouse":{"married_since":"2017-02-29"}})", "2017-02-29"},
        {R"({"id":"J-3","residence_card":{"expires":"0000-01-01"}})", "0000-01-01"},
        {R"({"id":"J-4","household":{"annual_income":"3767.505"}})", "3767.505"},
        {R"({"id":"J-5","housing":{"price":"12,50"}})", "12,50"},
        {R"({"id":"J-6","household":{"size":"12aQ45"}})", "12aQ45"},
        {R"({"id":"J-7","household":{"size":7.5e+400}})", "7.5e+400"},
        {R"({"id":"J-8","regularized_in":2014.5})", "2014.5"},
        {R"({"id":"J-9","household":{"size":000123456789}})", "000123456789"},
        {R"({"id":"J-10","status":"touristQz"})", "touristQz"},
        {R"({"id":"J-11","sex":"femaleQz"})", "femaleQz"},
        {R"({"id":"J-12","born_in_morocco":"yesQz"})", "yesQz"},
        {R"({"id":987654321})", "987654321"},
        {R"({"id":")" + long_text + "\"}", "LongNameQz"},
        {"{\"id\":\"J-15\",\"nationality\":\"Amina\xff\"}", "Amina"},
        {R"({"id":"J-16","nationality":"Khadija\ud800"})", "Khadija"},
        {R"({"id":"J-17","nationality":"Zineb\u0000"})", "Zineb"},
        {R"({"id":"J-18","household":{"rsu_score":")" + std::string(5000, '7') + "\"}}",
         "7777777777"},
        {R"({"id":"J-19","household":{"area":"Oujda-Qz"}})", "Oujda-Qz"},
    };
    std::string file = R"({"id":"OK-1","status":"refugee"})"
                       "\n";
    for (const leak_case& c : cases) file += c.record + "\n";
    write(dir.path / "a.jsonl", file);
    const std::string db = testing::fresh_db(dir.path, "t");
    imported r = import(db, dir.path / "a.jsonl");
    REQUIRE(r.ok);
    CHECK(r.s.stored == 1);
    CHECK(r.s.rejected == static_cast<std::int64_t>(std::size(cases)));
    const std::string store_bytes = testing::store_contents(db);
    REQUIRE(store_bytes.find("OK-1") != std::string::npos);  // the file holds what was stored
    for (std::size_t i = 0; i < std::size(cases); ++i) {
      INFO(cases[i].record.substr(0, 80));
      REQUIRE(i < r.s.rejections.size());
      CHECK(r.s.rejections[i].row == static_cast<std::int64_t>(i) + 2);
      CHECK_FALSE(r.s.rejections[i].reason.empty());
      CHECK(r.s.rejections[i].reason.find(cases[i].value) == std::string::npos);
      CHECK(r.s.rejections[i].field.find(cases[i].value) == std::string::npos);
      CHECK(store_bytes.find(cases[i].value) == std::string::npos);
    }
  }
  SECTION("CSV") {
    const leak_case cases[] = {
        {"C-1,1983-07-32,,,,", "1983-07-32"},
        {"C-2,2017-02-29,,,,", "2017-02-29"},
        {"C-3,,touristQz,,,", "touristQz"},
        {"C-4,,,12aQ45,,", "12aQ45"},
        {"C-5,,,000123456789,,", "000123456789"},
        {"C-6,,,,3767.505,", "3767.505"},
        {"C-7,,,,\"3 767,50\",", "767,50"},
        {"C-8,,,,,Amina\xff", "Amina"},
        {std::string("C-9,,,,,Zineb") + '\0' + ",", "Zineb"},  // a NUL byte, then a cell too many
        {std::string("C-9b,,,,,Zineb") + '\0', "Zineb"},
        {"C-10,,,,," + long_text, "LongNameQz"},
        {"C-11,,,,,\"Fati\"ma\"", "Fati"},
        {"C-12,,,,1.5e+7,", "1.5e+7"},
        {"C-13,,,99999999999999999999,,", "99999999999999999999"},
    };
    std::string file =
        "id,birth_date,status,household.size,household.annual_income,nationality\n"
        "OK-2,,refugee,,,MA\n";
    for (const leak_case& c : cases) file += c.record + "\n";
    write(dir.path / "a.csv", file);
    const std::string db = testing::fresh_db(dir.path, "t");
    imported r = import(db, dir.path / "a.csv");
    REQUIRE(r.ok);
    CHECK(r.s.stored == 1);
    CHECK(r.s.rejected == static_cast<std::int64_t>(std::size(cases)));
    const std::string store_bytes = testing::store_contents(db);
    REQUIRE(store_bytes.find("OK-2") != std::string::npos);
    for (std::size_t i = 0; i < std::size(cases); ++i) {
      INFO(cases[i].record.substr(0, 80));
      REQUIRE(i < r.s.rejections.size());
      CHECK(r.s.rejections[i].row == static_cast<std::int64_t>(i) + 2);
      CHECK(r.s.rejections[i].reason.find(cases[i].value) == std::string::npos);
      CHECK(r.s.rejections[i].field.find(cases[i].value) == std::string::npos);
      CHECK(store_bytes.find(cases[i].value) == std::string::npos);
    }
  }
}

TEST_CASE("import: CSV as RFC 4180 writes it", "[store][import]") {
  temp_dir dir;
  // A byte order mark, CRLF line ends, a quoted line break, doubled quotes, a comma in a
  // quoted cell, a blank line, and a last row without a line break.
  write(dir.path / "a.csv",
        "\xEF\xBB\xBFid,nationality,status\r\n"
        "\"R-1, \"\"the first\"\"\",MA,refugee\r\n"
        "R-2,\"two\r\nlines\",regular\r\n"
        "\r\n"
        "R-3,SN,touristQz\r\n"
        "R-4,CM,irregular");
  const std::string db_name = testing::fresh_db(dir.path, "t");
  imported r = import(db_name, dir.path / "a.csv");
  REQUIRE(r.ok);
  CHECK(r.s.rows == 4);
  CHECK(r.s.stored == 3);
  REQUIRE(r.s.rejected == 1);
  CHECK(r.s.rejections[0].row == 3);  // the third row of data
  CHECK(r.s.rejections[0].field == "status");
  CHECK_THAT(r.s.rejections[0].reason, Catch::Matchers::EndsWith("(line 6)"));
  auto db = testing::open_store(db_name);
  auto first = db->record(1);
  REQUIRE(first);
  CHECK(first->applicant_id == "R-1, \"the first\"");
  auto second = db->record(2);
  REQUIRE(second);
  CHECK(second->applicant_id == "R-2");
  CHECK_THAT(second->json, Catch::Matchers::Contains(R"("nationality":"two\r\nlines")"));
}

TEST_CASE("import: broken and hostile files", "[store][import]") {
  temp_dir dir;
  const std::string db = testing::fresh_db(dir.path, "t");
  SECTION("an unclosed quote is one rejected row, and the rows before it are kept") {
    write(dir.path / "a.csv", "id,status\nU-1,refugee\nU-2,\"refugee\nU-3,regular\n");
    imported r = import(db, dir.path / "a.csv");
    REQUIRE(r.ok);
    CHECK(r.s.rows == 2);
    CHECK(r.s.stored == 1);
    REQUIRE(r.s.rejected == 1);
    CHECK(r.s.rejections[0].row == 2);
    CHECK_THAT(r.s.rejections[0].reason, Catch::Matchers::Contains("never closed"));
    CHECK_THAT(r.s.rejections[0].reason, Catch::Matchers::Contains("line 3"));
  }
  SECTION("a JSONL line over the record limit is rejected, and the next line read") {
    std::string big = R"({"id":"B-1","nationality":")" +
                      std::string(engine::limits::record_bytes + 10, 'x') + "\"}";
    write(dir.path / "a.jsonl", big + "\n" + R"({"id":"B-2"})" + "\n");
    imported r = import(db, dir.path / "a.jsonl");
    REQUIRE(r.ok);
    CHECK(r.s.rows == 2);
    CHECK(r.s.stored == 1);
    REQUIRE(r.s.rejected == 1);
    CHECK(r.s.rejections[0].row == 1);
    CHECK_THAT(r.s.rejections[0].reason,
               Catch::Matchers::Contains(std::to_string(engine::limits::record_bytes)));
  }
  SECTION("a byte order mark, CRLF, blank and space-only lines") {
    write(dir.path / "a.jsonl", "\xEF\xBB\xBF{\"id\":\"L-1\"}\r\n\r\n   \n\t\n{\"id\":\"L-2\"}");
    imported r = import(db, dir.path / "a.jsonl");
    REQUIRE(r.ok);
    CHECK(r.s.rows == 2);
    CHECK(r.s.stored == 2);
  }
  SECTION("NUL bytes, trailing commas and records that are not objects are rejected") {
    write(dir.path / "a.jsonl", std::string("{\"id\":\"N-1\"}\0\n", 14) +
                                    std::string("\0\0\0\n", 4) + "{\"id\":\"N-2\",}\n[]\n42\n" +
                                    "\"N-3\"\nnull\n{\"id\":\"N-4\"}\n");
    imported r = import(db, dir.path / "a.jsonl");
    REQUIRE(r.ok);
    CHECK(r.s.rows == 8);
    CHECK(r.s.stored == 1);
    CHECK(r.s.rejected == 7);
  }
  SECTION("an empty file imports nothing") {
    write(dir.path / "a.jsonl", "");
    write(dir.path / "b.csv", "");
    imported r = import(db, dir.path / "a.jsonl");
    REQUIRE(r.ok);
    CHECK(r.s.rows == 0);
    imported c = import(db, dir.path / "b.csv");
    REQUIRE(c.ok);
    CHECK(c.s.rows == 0);
  }
  SECTION("a CSV header with an unknown column stops the import") {
    write(dir.path / "a.csv", "id,statuss\nH-1,refugee\n");
    imported r = import(db, dir.path / "a.csv");
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Catch::Matchers::Contains("line 1"));
    CHECK_THAT(r.error, Catch::Matchers::Contains("column 2"));
    CHECK_THAT(r.error, Catch::Matchers::Contains("did you mean 'status'?"));
    CHECK_THAT(r.error, !Catch::Matchers::Contains("statuss"));
  }
  SECTION("a directory, a FIFO: refused at once") {
    fs::create_directories(dir.path / "d.jsonl");
    imported r = import(db, dir.path / "d.jsonl");
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Catch::Matchers::Contains("not a regular file"));
    REQUIRE(::mkfifo((dir.path / "f.jsonl").c_str(), 0600) == 0);
    imported f = import(db, dir.path / "f.jsonl");  // would block forever if opened for reading
    CHECK_FALSE(f.ok);
    CHECK_THAT(f.error, Catch::Matchers::Contains("not a regular file"));
    imported m = import(db, dir.path / "missing.jsonl");
    CHECK_FALSE(m.ok);
  }
}
