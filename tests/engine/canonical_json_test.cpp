// Canonical JSON (the form whose SHA-256 identifies a stored record): members sorted by their
// unescaped key, then by their canonical value text; strings re-escaped minimally; numbers as
// written. The writer sorts members in place (engine/record.cpp): nested objects, duplicate
// keys, escaped and non-ASCII keys must come out as a sort of (key, value) pairs gives them.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/record.hpp"

using dalil::engine::canonical_json;

TEST_CASE("canonical JSON: members sorted by key, then value, at every depth", "[engine][record]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({})", R"({})"},
      {R"( { } )", R"({})"},
      {R"({"b":1,"a":2})", R"({"a":2,"b":1})"},
      // Nested objects are sorted inside, then sorted among their siblings by key.
      {R"({"z":{"y":[{"d":1,"c":{"f":true,"e":null}}],"x":"s"},"a":{"q":0,"p":-1.5e3}})",
       R"({"a":{"p":-1.5e3,"q":0},"z":{"x":"s","y":[{"c":{"e":null,"f":true},"d":1}]}})"},
      // Duplicate keys: both kept, ordered by their canonical value text.
      {R"({"k":"b","k":"a","j":3})", R"({"j":3,"k":"a","k":"b"})"},
      {R"({"k":{"b":1},"k":{"a":2}})", R"({"k":{"a":2},"k":{"b":1}})"},
      {R"({"k":[2],"k":[1,5],"k":"x"})", R"({"k":"x","k":[1,5],"k":[2]})"},
      // Escaped keys sort by their unescaped text and are written minimally escaped.
      {R"({"a\u0063":1,"ab":2,"a\"":3})", R"({"a\"":3,"ab":2,"ac":1})"},
      {R"({"\u00e9":1,"z":2,"e":3})", "{\"e\":3,\"z\":2,\"\xc3\xa9\":1}"},
      {"{\"\xc3\xa9t\xc3\xa9\":\"\xe2\x80\xaf\",\"\xc3\xa9\":[]}",
       "{\"\xc3\xa9\":[],\"\xc3\xa9t\xc3\xa9\":\"\xe2\x80\xaf\"}"},
      // Strings: escapes that need none are written plainly, the others minimally.
      {R"({"s":"\u0041\/\t\n\"\\"})", R"({"s":"A/\t\n\"\\"})"},
      {R"(["a",{"b":"c","a":"\u00e9"}])", "[\"a\",{\"a\":\"\xc3\xa9\",\"b\":\"c\"}]"},
      // Control characters as \u escapes, and escapes between long runs that need none.
      {R"({"s":"\u0001x\u001fy"})", R"({"s":"\u0001x\u001fy"})"},
      {R"({"s":"abcdefghijklm\"nopqrstuvwxyz\\0123456789\rABCDEFGHIJ"})",
       R"({"s":"abcdefghijklm\"nopqrstuvwxyz\\0123456789\rABCDEFGHIJ"})"},
      // Sibling objects, each sorted on its own (the members of one object do not mix with the
      // next one's).
      {R"([{"b":1,"a":2},{"d":{"f":1,"e":2},"c":3},{}])",
       R"([{"a":2,"b":1},{"c":3,"d":{"e":2,"f":1}},{}])"},
      // An empty key, and keys that are prefixes of each other.
      {R"({"ab":1,"a":2,"":3})", R"({"":3,"a":2,"ab":1})"},
      // A long object (the values' offsets move as the object is rewritten).
      {R"({"m":"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm","l":{"k":"kkkkkkkkkkkkkkkkkkkkkkkkkkk","j":1},"i":[{"h":2,"g":3}]})",
       R"({"i":[{"g":3,"h":2}],"l":{"j":1,"k":"kkkkkkkkkkkkkkkkkkkkkkkkkkk"},"m":"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm"})"},
  };
  for (const auto& [in, want] : cases) {
    INFO(in);
    CHECK(canonical_json(in) == want);
    CHECK(canonical_json(want) == want);  // canonical text is its own canonical form
  }
}

TEST_CASE("canonical JSON: malformed objects give nothing", "[engine][record]") {
  for (const char* bad : {R"({"a":1,})", R"({"a" 1})", R"({a:1})", R"({"a":1)", R"({"a":{"b":})",
                          R"({"a\u":1})", "{\"a\":\"\x01\"}", R"({"a":1}})", R"({"\ud800":1})"}) {
    INFO(bad);
    CHECK(canonical_json(bad).empty());
    // Nothing of the failed document is left for the next one (the thread keeps its state).
    CHECK(canonical_json(R"({"b":{"d":1,"c":2},"a":[]})") == R"({"a":[],"b":{"c":2,"d":1}})");
  }
}

TEST_CASE("JSON strings: every byte that needs an escape is found wherever it sits",
          "[engine][record]") {
  // The scan goes sixteen bytes at a time, then eight, then one: a byte to escape at each place
  // of a 48-byte string (in each block and each tail), against a byte-by-byte reference.
  auto reference = [](std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      const char* named = c == '"'    ? "\\\""
                          : c == '\\' ? "\\\\"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                                      : nullptr;
      if (named != nullptr) {
        out += named;
      } else if (u < 0x20) {  // six characters: backslash, u00, two lowercase hex digits
        out += "\\u00";
        out += hex[u >> 4];
        out += hex[u & 15];
      } else {
        out += c;
      }
    }
    return out + "\"";
  };
  for (std::size_t size : {1U, 7U, 8U, 15U, 16U, 17U, 31U, 48U}) {
    for (std::size_t at = 0; at < size; ++at) {
      for (char special : {'"', '\\', '\n', '\x01', '\x1f', '\x7f', '\xc3'}) {
        std::string s(size, 'a');
        s[at] = special;
        if (special == '\xc3' && at + 1 < size) s[at + 1] = '\xa9';  // é: written as it is
        std::string out;
        dalil::engine::append_json_string(out, s);
        INFO("size " << size << ", byte " << static_cast<int>(special) << " at " << at);
        CHECK(out == reference(s));
        // The reader's scan (which stops at UTF-8 too) on the same text, escaped as JSON: the
        // same text back, or nothing when a lead byte ends the string (not UTF-8).
        const std::string doc = "{\"s\":" + out + "}";
        const bool utf8 = special != '\xc3' || at + 1 < size;
        CHECK(dalil::engine::canonical_json(doc) == (utf8 ? doc : std::string()));
      }
    }
  }
}
