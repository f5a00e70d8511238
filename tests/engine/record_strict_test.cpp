// The record reader at the input boundary: strict UTF-8 and escapes, duplicate keys, JSON number
// syntax, money in centimes, calendar dates, the limits of engine/limits.hpp, hostile shapes, and
// error messages that name the field and never echo the value.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/limits.hpp"
#include "engine/record.hpp"
#include "tests/support/packs.hpp"

using namespace dalil;
using Catch::Matchers::Contains;

namespace {

/// The SNIA pack: the schema every import and batch reads.
const dsl::program& snia() {
  static const auto pack = testing::load_pack_dir(testing::source_path("rules"));
  return pack->rules->program();
}

struct outcome {
  bool ok = false;
  engine::record_error error;
  std::string id;  // the record's id text when read
};

outcome read(const dsl::program& p, const std::string& json, bool placed = false) {
  engine::record_reader reader(p);
  reader.set_member_place(placed);
  reader.set_intake(true);
  engine::record rec;
  outcome o;
  o.ok = reader.read(json, rec, o.error);
  if (o.ok) o.id = std::string(rec.id());
  return o;
}

struct bad_case {
  const char* what;
  std::string json;
  const char* field;
  const char* message_part;
  const char* value;  // text of the bad value, which must not appear in the error
};

/// Each case refused, naming its field, never its value; `placed`: by a reader that places
/// unknown members (as an import's does).
void check_refused(const dsl::program& p, const std::vector<bad_case>& cases, bool placed = false) {
  for (const bad_case& c : cases) {
    INFO(c.what << ": " << c.json);
    outcome o = read(p, c.json, placed);
    CHECK_FALSE(o.ok);
    CHECK(o.error.field == c.field);
    CHECK_THAT(o.error.message, Contains(c.message_part));
    if (c.value != nullptr && *c.value != '\0') {
      CHECK_THAT(o.error.message, !Contains(c.value));
      CHECK_THAT(o.error.field, !Contains(c.value));
    }
  }
}

}  // namespace

TEST_CASE("record reader: ill-formed UTF-8 is refused, naming the field", "[engine][record]") {
  const dsl::program& p = snia();
  check_refused(
      p,
      {
          {"a stray continuation byte", "{\"id\":\"Fatima\x80\"}", "id", "UTF-8", "Fatima"},
          {"an invalid byte", "{\"id\":\"Fatima\xff\"}", "id", "UTF-8", "Fatima"},
          {"an overlong slash", "{\"id\":\"Fatima\xc0\xaf\"}", "id", "UTF-8", "Fatima"},
          {"a UTF-8 encoded surrogate", "{\"id\":\"Fatima\xed\xa0\x80\"}", "id", "UTF-8", "Fatima"},
          {"past U+10FFFF", "{\"id\":\"Fatima\xf4\x90\x80\x80\"}", "id", "UTF-8", "Fatima"},
          {"a truncated sequence", "{\"id\":\"Fatima\xc3\"}", "id", "UTF-8", "Fatima"},
          {"in an enum value", "{\"status\":\"refugee\xff\"}", "status", "UTF-8", "refugee\xff"},
          {"in a date", "{\"birth_date\":\"1990-01-0\xc3\"}", "birth_date", "UTF-8", "1990-01-0"},
          {"in a nested text", "{\"spouse\":{\"nationality\":\"M\xe0\"}}", "spouse.nationality",
           "UTF-8", nullptr},
          {"in a field name", "{\"st\xffus\":\"refugee\"}", "", "UTF-8", nullptr},
      });
}

TEST_CASE("record reader: well-formed UTF-8 and \\u escapes are read exactly", "[engine][record]") {
  const dsl::program& p = snia();
  struct good_case {
    std::string json_id;  // the id as written between the quotes
    std::string id;       // as read
  };
  const good_case cases[] = {
      {"Zo\xc3\xab", "Zo\xc3\xab"},
      {"\xd9\x81\xd8\xa7\xd8\xb7\xd9\x85\xd8\xa9", "\xd9\x81\xd8\xa7\xd8\xb7\xd9\x85\xd8\xa9"},
      {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
      {"\\u00e9", "\xc3\xa9"},
      {"\\u0627", "\xd8\xa7"},
      {"\\ud83d\\ude00", "\xf0\x9f\x98\x80"},  // a surrogate pair: U+1F600
      {"\\uDBFF\\uDFFF", "\xf4\x8f\xbf\xbf"},  // the last code point, upper-case hex
      {"a\\u007eb", "a~b"},  // the last code point before DEL (control characters: below)
  };
  for (const good_case& c : cases) {
    INFO(c.json_id);
    outcome o = read(p, "{\"id\":\"" + c.json_id + "\"}");
    REQUIRE(o.ok);
    CHECK(o.id == c.id);
  }
}

TEST_CASE("record reader: lone or misordered surrogates and \\u0000 are refused",
          "[engine][record]") {
  const dsl::program& p = snia();
  check_refused(
      p, {
             {"a lone high surrogate", R"({"id":"A\ud800"})", "id", "surrogate", ""},
             {"a high surrogate then text", R"({"id":"A\ud800xyz"})", "id", "surrogate", ""},
             {"a lone low surrogate", R"({"id":"A\udc00"})", "id", "surrogate", ""},
             {"low before high", R"({"id":"A\ude00\ud83d"})", "id", "surrogate", ""},
             {"high then a non-surrogate", R"({"id":"A\ud800\u0041"})", "id", "surrogate", ""},
             {"high then high", R"({"id":"A\ud800\ud800"})", "id", "surrogate", ""},
             {"NUL", R"({"id":"A\u0000B"})", "id", "\\u0000", ""},
             {"a short escape", R"({"id":"A\u12"})", "id", "malformed", ""},
             {"a bad hex digit", R"({"id":"A\u12g4"})", "id", "malformed", ""},
             {"a raw NUL byte", std::string("{\"id\":\"A\0B\"}", 11), "id", "malformed", ""},
             {"a raw line break", "{\"id\":\"A\nB\"}", "id", "malformed", ""},
         });
}

TEST_CASE("record reader: control and bidirectional characters are refused, naming the field",
          "[engine][record]") {
  // Each would reach a terminal (dalil eval --format text) or an official's page as it is: ESC
  // and the C1 controls rewrite a terminal, the bidirectional controls reorder a line.
  const dsl::program& p = snia();
  check_refused(
      p,
      {
          {"ESC, escaped", R"({"nationality":"Fatima\u001b[2J"})", "nationality", "control",
           "Fatima"},
          {"BEL, escaped", R"({"nationality":"Fatima\u0007"})", "nationality", "control", "Fatima"},
          {"a lone carriage return, escaped", R"({"nationality":"Fatima\rX"})", "nationality",
           "control", "Fatima"},
          {"a carriage return last", R"({"nationality":"Fatima\r"})", "nationality", "control",
           "Fatima"},
          {"a backspace, escaped", R"({"nationality":"Fatima\bX"})", "nationality", "control",
           "Fatima"},
          {"DEL, raw", "{\"nationality\":\"Fatima\x7f\"}", "nationality", "control", "Fatima"},
          {"DEL, escaped", R"({"nationality":"Fatima\u007f"})", "nationality", "control", "Fatima"},
          {"a C1 control, raw (NEL)", "{\"nationality\":\"Fatima\xc2\x85\"}", "nationality",
           "control", "Fatima"},
          {"a C1 control, escaped (CSI)", R"({"nationality":"Fatima\u009b"})", "nationality",
           "control", "Fatima"},
          {"a right-to-left override, raw", "{\"nationality\":\"Fatima\xe2\x80\xae\"}",
           "nationality", "bidirectional", "Fatima"},
          {"a right-to-left override, escaped", R"({"nationality":"Fatima\u202e"})", "nationality",
           "bidirectional", "Fatima"},
          {"a first-strong isolate, escaped", R"({"nationality":"Fatima\u2068"})", "nationality",
           "bidirectional", "Fatima"},
          {"in an id", R"({"id":"A\u001b"})", "id", "control", ""},
          {"in a nested text", R"({"spouse":{"nationality":"M\u0085"}})", "spouse.nationality",
           "control", nullptr},
      });
  SECTION("on by default; a stored record is read as it was stored") {
    // A reader checks what enters unless told that it reads what is stored (a way in added
    // later is checked); stored before the check, every stored decision still opens and
    // replays.
    const std::string json = R"({"nationality":"Fatima\u001b[2J\u202e"})";
    engine::record rec;
    engine::record_error err;
    engine::record_reader fresh(p);
    CHECK_FALSE(fresh.read(json, rec, err));
    CHECK(err.field == "nationality");
    engine::record_reader stored(p);
    stored.set_intake(false);
    CHECK(stored.read(json, rec, err));
  }
  SECTION("other marks and letters are read as written") {
    // Right-to-left and left-to-right marks, a no-break space, Arabic letters, U+2029, the code
    // points just past the refused ranges, and a text on several lines (a CSV cell may be).
    for (const std::string value :
         {"\u200f\u0641\u0627\u0637\u0645\u0629\u200e", "A\u00a0B", "A\u00a0\u2029\u202f\u206a",
          "A \u00e9 B", "two\\r\\nlines", "two\\nlines\\tand a tab"}) {
      INFO(value);
      outcome o = read(p, R"({"nationality":")" + value + R"("})");
      CHECK(o.ok);
    }
  }
}

TEST_CASE("record reader: a field given twice is refused at any depth", "[engine][record]") {
  const dsl::program& p = snia();
  check_refused(
      p, {
             {"top level", R"({"status":"refugee","id":"A","status":"regular"})", "status", "twice",
              nullptr},
             {"top level, the second escaped", R"({"status":"refugee","st\u0061tus":"regular"})",
              "status", "twice", nullptr},
             {"a nested record", R"({"household":{"size":2,"area":"urban","size":3}})",
              "household.size", "twice", nullptr},
             {"a record given twice", R"({"household":{"size":2},"household":{"size":3}})",
              "household", "twice", nullptr},
             {"a record read as a fact", R"({"spouse":{"nationality":"MA","nationality":"SN"}})",
              "spouse.nationality", "twice", nullptr},
             {"a null then a value", R"({"spouse":null,"spouse":{"nationality":"MA"}})", "spouse",
              "twice", nullptr},
         });
  SECTION("the same name in two records, and siblings, are not duplicates") {
    CHECK(read(p, R"({"id":"A","residence_card":{"kind":"residence","expires":"2020-01-01"},)"
                  R"("household":{"size":2,"area":"urban"},"housing":{"price":"1.00"}})")
              .ok);
  }
  SECTION("a reader refuses the duplicate however many records it read before") {
    engine::record_reader reader(p);
    engine::record rec;
    engine::record_error err;
    for (int i = 0; i < 1000; ++i) {
      REQUIRE(reader.read(R"({"id":"A","household":{"size":2,"area":"urban"}})", rec, err));
    }
    CHECK_FALSE(reader.read(R"({"id":"A","household":{"size":2,"size":2}})", rec, err));
    CHECK(err.field == "household.size");
  }
}

TEST_CASE("record reader: numbers follow JSON's syntax and the field's type", "[engine][record]") {
  const dsl::program& p = snia();
  const std::string long_digits(5000, '7');
  auto size = [](const std::string& n) { return R"({"household":{"size":)" + n + "}}"; };
  auto income = [](const std::string& n) { return R"({"household":{"annual_income":)" + n + "}}"; };
  check_refused(
      p, {
             {"an exponent for an int", size("1e400"), "household.size", "whole number", "1e400"},
             {"a fraction for an int", size("1.5"), "household.size", "whole number", "1.5"},
             {"1.0 for an int", size("1.0"), "household.size", "whole number", nullptr},
             {"a leading zero", size("00012"), "household.size", "start with 0", "00012"},
             {"a minus alone", size("-"), "household.size", "whole number", nullptr},
             {"out of range", size("99999999999999999999"), "household.size", "out of range",
              "99999999999999999999"},
             {"5,000 digits", size(long_digits), "household.size", "longer than 40", "7777777777"},
             {"text for an int", size("\"3\""), "household.size", "whole number", nullptr},
             {"an exponent for money", income("1e400"), "household.annual_income", "exponent",
              "1e400"},
             {"three decimals", income("\"3767.505\""), "household.annual_income", "centimes",
              "3767.505"},
             {"a leading zero in money", income("\"0012.50\""), "household.annual_income",
              "start with 0", "0012.50"},
             {"a plus sign", income("\"+12.50\""), "household.annual_income", "exact decimal",
              "+12.50"},
             {"5,000 digits of money", income("\"" + long_digits + "\""), "household.annual_income",
              "longer than 40", "7777777777"},
             {"money out of range", income("\"99999999999999999999.99\""),
              "household.annual_income", "out of range", "99999999999999999999"},
         });
  SECTION("-0 and trailing zeros are plain values") {
    CHECK(read(p, R"({"work_contract":{"months":-0}})").ok);  // 0: household.size is at least 1
    CHECK(read(p, income("\"3767.500\"")).ok);
    CHECK(read(p, income("3767.5")).ok);
    CHECK(read(p, R"({"household":{"commune_poverty_rate":"9.3264284"}})").ok);  // a decimal
  }
}

TEST_CASE("record reader: dates are calendar days of years 0001 to 9999", "[engine][record]") {
  const dsl::program& p = snia();
  auto born = [](const char* d) { return std::string(R"({"birth_date":")") + d + "\"}"; };
  check_refused(
      p,
      {
          {"29 February of a common year", born("2017-02-29"), "birth_date", "calendar date",
           "2017-02-29"},
          {"a five-digit year", born("10000-01-01"), "birth_date", "calendar date", "10000-01-01"},
          {"year zero", born("0000-01-01"), "birth_date", "calendar date", "0000-01-01"},
          {"day 32", born("1983-07-32"), "birth_date", "calendar date", "1983-07-32"},
      });
  CHECK(read(p, born("2016-02-29")).ok);
  CHECK(read(p, born("0001-01-01")).ok);
  CHECK(read(p, born("9999-12-31")).ok);
}

TEST_CASE("record reader: hostile shapes get an error, never a crash", "[engine][record]") {
  const dsl::program& p = snia();
  const char* refused[] = {
      "",
      "  ",
      "[]",
      "42",
      "\"text\"",
      "null",
      "true",
      R"({"id":"A",})",
      R"({"id":"A"},)",
      R"({,"id":"A"})",
      "\xef\xbb\xbf{\"id\":\"A\"}",  // a byte order mark is the file's business
      R"({"id":"A"} {"id":"B"})",
  };
  for (const char* json : refused) {
    INFO(json);
    outcome o = read(p, json);
    CHECK_FALSE(o.ok);
    CHECK_FALSE(o.error.message.empty());
  }
  SECTION("deeply nested arrays and objects stop at the first wrong shape") {
    std::string arrays = R"({"household":)" + std::string(100000, '[');
    CHECK_FALSE(read(p, arrays).ok);
    std::string objects = R"({"household":{"size":)" + std::string(100000, '{');
    CHECK_FALSE(read(p, objects).ok);
  }
  SECTION("a field name longer than the message allows is cut") {
    std::string name(10000, 'k');
    outcome o = read(p, "{\"" + name + "\":1}");
    CHECK_FALSE(o.ok);
    CHECK(o.error.field.size() < 2 * engine::limits::name_bytes);
    CHECK(o.error.message.size() < 4 * engine::limits::name_bytes);
  }
  SECTION("control characters in an unknown field name are not written to a terminal") {
    outcome o = read(p, R"({"a\u001b[2Jb":1})");
    CHECK_FALSE(o.ok);
    CHECK(o.error.field.find('\x1b') == std::string::npos);
    CHECK(o.error.message.find('\x1b') == std::string::npos);
  }
  SECTION("the offset points at the error") {
    std::string json = "{\"id\":\"A\",\n \"household\":{\"size\":\"x\"}}";
    outcome o = read(p, json);
    REQUIRE_FALSE(o.ok);
    CHECK(json.substr(o.error.offset, 3) == "\"x\"");
  }
}

TEST_CASE("record reader: an unknown member is placed by its rank and the field before it",
          "[engine][record]") {
  // Its name is never shown (a careless export may put a value there): where it stands is,
  // when the reader is asked to (an import: a file a person mends).
  const dsl::program& p = snia();
  check_refused(
      p,
      {{"third member", R"({"id":"A","sex":"male","Fatima Zahra":"blue"})", "",
        "has no field of that name (member 3 of the record, after 'sex')", "Fatima Zahra"},
       {"first member", R"({"Fatima Zahra":1,"id":"A"})", "",
        "has no field of that name (the record's first member)", "Fatima Zahra"},
       {"inside a record field", R"({"id":"A","household":{"size":2,"Fatima":1}})", "household",
        "has no field of that name (member 2 of the record, after 'size')", "Fatima"},
       {"a typo", R"({"id":"A","sexe":"male"})", "",
        "did you mean 'sex'? (member 2 of the record, after 'id')", nullptr}},
      true);
  // Not asked (a batch reading a stored record, whose members are sorted): the error is the one
  // earlier versions stored, which `dalil replay` compares.
  outcome o = read(p, R"({"id":"A","sex":"male","Fatima Zahra":"blue"})");
  REQUIRE_FALSE(o.ok);
  CHECK(o.error.message == "record 'Applicant' has no field of that name");
}

TEST_CASE("record reader: the limits of one record", "[engine][record]") {
  const dsl::program& p = snia();
  using engine::limits::text_bytes;
  SECTION("text") {
    CHECK(read(p, R"({"id":")" + std::string(text_bytes, 'a') + "\"}").ok);
    outcome o = read(p, R"({"id":")" + std::string(text_bytes + 1, 'a') + "\"}");
    CHECK_FALSE(o.ok);
    CHECK(o.error.field == "id");
    CHECK_THAT(o.error.message, Contains(std::to_string(text_bytes)));
  }
  SECTION("record bytes") {
    std::string json = R"({"id":"A")" + std::string(engine::limits::record_bytes, ' ') + "}";
    outcome o = read(p, json);
    CHECK_FALSE(o.ok);
    CHECK_THAT(o.error.message, Contains(std::to_string(engine::limits::record_bytes)));
  }
  SECTION("list items") {
    auto pack = testing::load_pack_text(R"(module m
  title fr "t" ar "t" en "t"
record Applicant {
  id : text
  tags : list text
}
input applicant : Applicant
)");
    const dsl::program& lp = pack->rules->program();
    auto tags = [](std::size_t n) {
      std::string json = R"({"tags":[)";
      for (std::size_t i = 0; i < n; ++i) json += i ? ",\"t\"" : "\"t\"";
      return json + "]}";
    };
    CHECK(read(lp, tags(engine::limits::list_items)).ok);
    outcome o = read(lp, tags(engine::limits::list_items + 1));
    CHECK_FALSE(o.ok);
    CHECK(o.error.field == "tags");
    CHECK_THAT(o.error.message, Contains(std::to_string(engine::limits::list_items)));
    outcome item = read(lp, R"({"tags":["a","b",3]})");
    CHECK_FALSE(item.ok);
    CHECK(item.error.field == "tags[2]");
  }
  SECTION("nesting depth") {
    // Records R0 … R19, each holding the next: a schema deeper than the limit.
    std::string text = "module m\n  title fr \"t\" ar \"t\" en \"t\"\n";
    for (int i = 19; i >= 0; --i) {
      text += "record R" + std::to_string(i) + " {\n  v : int\n";
      if (i < 19) text += "  r : R" + std::to_string(i + 1) + "\n";
      text += "}\n";
    }
    text += "input applicant : R0\n";
    auto pack = testing::load_pack_text(text);
    const dsl::program& np = pack->rules->program();
    auto nested = [](int depth) {
      std::string json;
      for (int i = 1; i < depth; ++i) json += R"({"r":)";
      json += R"({"v":1})";
      for (int i = 1; i < depth; ++i) json += "}";
      return json;
    };
    CHECK(read(np, nested(engine::limits::nesting_depth)).ok);
    outcome o = read(np, nested(engine::limits::nesting_depth + 1));
    CHECK_FALSE(o.ok);
    CHECK_THAT(o.error.message, Contains("nest more than"));
  }
}

TEST_CASE("canonical JSON accepts only numbers JSON allows", "[engine][record]") {
  // Found by fuzzing (tests/fuzz/regressions/json): canonical_json kept "00" as written, so the
  // canonical form of a text was not JSON.
  for (const char* bad : {R"({"a":00})", R"({"a":-01})", R"({"a":1.})", R"({"a":.5})",
                          R"({"a":1e})", R"({"a":--1})", R"({"a":1-2})", R"([+1])"}) {
    INFO(bad);
    CHECK(dalil::engine::canonical_json(bad).empty());
  }
  for (const char* good : {R"({"a":0})", R"({"a":-0.5})", R"({"a":1e400})", R"({"a":10E-2})"}) {
    INFO(good);
    CHECK(dalil::engine::canonical_json(good) == good);
  }
}
