// Strict UTF-8 validation: every class of ill-formed sequence is refused at its first byte.
#include "dsl/utf8.hpp"

#include <catch2/catch.hpp>
#include <string>

using dalil::dsl::first_invalid_utf8;

TEST_CASE("well-formed UTF-8 passes", "[dsl][utf8]") {
  const char* good[] = {
      "",
      "plain ascii text, longer than eight bytes",
      "\xC3\xA9t\xC3\xA9",                                 // été
      "\xD8\xA7\xD9\x84\xD9\x85\xD8\xBA\xD8\xB1\xD8\xA8",  // المغرب
      "\xE0\xA0\x80",      // U+0800, the first three-byte code point
      "\xED\x9F\xBF",      // U+D7FF, just below the surrogates
      "\xEE\x80\x80",      // U+E000, just above them
      "\xEF\xBB\xBF",      // U+FEFF (a byte-order mark is well formed)
      "\xF0\x90\x80\x80",  // U+10000
      "\xF4\x8F\xBF\xBF",  // U+10FFFF, the last code point
  };
  for (const char* s : good) {
    INFO(s);
    CHECK_FALSE(first_invalid_utf8(s).has_value());
  }
}

TEST_CASE("ill-formed UTF-8 is found at its first byte", "[dsl][utf8]") {
  struct ill {
    std::string text;
    std::size_t at;
  };
  const ill cases[] = {
      {"abc\x80", 3},           // lone continuation byte
      {"\xC0\xAF", 0},          // overlong '/'
      {"\xC1\xBF", 0},          // overlong
      {"\xE0\x80\xAF", 0},      // overlong three-byte '/'
      {"\xE0\x9F\xBF", 0},      // overlong U+07FF
      {"\xF0\x80\x80\xAF", 0},  // overlong four-byte
      {"\xF0\x8F\xBF\xBF", 0},  // overlong U+FFFF
      {"ok \xED\xA0\x80", 3},   // surrogate U+D800
      {"\xED\xBF\xBF", 0},      // surrogate U+DFFF
      {"\xF4\x90\x80\x80", 0},  // U+110000
      {"\xF5\x80\x80\x80", 0},  // lead byte past U+10FFFF
      {"\xFF", 0},
      {"x\xC3", 1},             // truncated at the end
      {"\xE2\x82", 0},          // truncated three-byte
      {"\xE2\x28\xA1", 0},      // bad continuation
      {"eight ok\xC3\x28", 8},  // found after an ASCII word
      {std::string("nul\0ok", 6) + "\x80", 6},
  };
  for (const ill& c : cases) {
    INFO(c.at);
    auto bad = first_invalid_utf8(c.text);
    REQUIRE(bad.has_value());
    CHECK(*bad == c.at);
  }
}

TEST_CASE("code points are counted as columns are, eight bytes at a time", "[dsl][utf8]") {
  using dalil::dsl::code_points;
  CHECK(code_points("") == 0);
  CHECK(code_points("abc") == 3);
  CHECK(code_points("caf\xC3\xA9 au lait, \xD8\xA7\xD9\x84\xD9\x85\xD8\xBA\xD8\xB1\xD8\xA8") == 20);
  CHECK(code_points("\xF0\x90\x80\x80\xF0\x90\x80\x80\xF0\x90\x80\x80") == 3);
  // Whatever the alignment of the multi-byte sequences against the eight-byte words.
  std::string s;
  for (int i = 0; i < 40; ++i) {
    s += (i % 3 == 0) ? "\xC3\xA9" : (i % 3 == 1 ? "x" : "\xE2\x82\xAC");
    CHECK(code_points(s) == static_cast<std::size_t>(i + 1));
  }
}
