// A strict JSON scanner that keeps the raw text of each member (json_input.hpp).
#include "server/json_input.hpp"

#include <algorithm>

namespace dalil::server {

namespace {

struct scanner {
  std::string_view s;
  std::size_t i = 0;
  json_syntax_error& err;
  int max_depth;

  bool fail(std::string message) {
    err.offset = i;
    err.message = std::move(message);
    return false;
  }
  void space() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  static bool hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
  /// A string starting at s[i] == '"'; appends its unescaped bytes to `out` when given.
  bool string(std::string* out) {
    ++i;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') {
        ++i;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail("a control character inside a string");
      if (c == '\\') {
        if (++i >= s.size()) break;
        char e = s[i];
        if (e == 'u') {
          if (i + 4 >= s.size() || !hex(s[i + 1]) || !hex(s[i + 2]) || !hex(s[i + 3]) ||
              !hex(s[i + 4])) {
            return fail("a \\u escape needs four hexadecimal digits");
          }
          unsigned cp =
              static_cast<unsigned>(std::stoul(std::string(s.substr(i + 1, 4)), nullptr, 16));
          i += 5;
          if (out) {
            // Keys are ASCII names in this API; anything else only has to be unique.
            if (cp < 0x80) {
              *out += static_cast<char>(cp);
            } else {
              *out += "\\u" + std::string(s.substr(i - 4, 4));
            }
          }
          continue;
        }
        static constexpr std::string_view simple = "\"\\/bfnrt";
        static constexpr std::string_view meaning = "\"\\/\b\f\n\r\t";
        auto k = simple.find(e);
        if (k == std::string_view::npos) return fail("an unknown escape inside a string");
        if (out) *out += meaning[k];
        ++i;
        continue;
      }
      if (out) *out += c;
      ++i;
    }
    return fail("a string is not closed");
  }
  bool number() {
    std::size_t start = i;
    if (i < s.size() && s[i] == '-') ++i;
    if (i >= s.size() || !(s[i] >= '0' && s[i] <= '9')) return fail("a number has no digit");
    if (s[i] == '0') {
      ++i;
    } else {
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      if (i >= s.size() || !(s[i] >= '0' && s[i] <= '9'))
        return fail("a number has no digit after its point");
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      if (i >= s.size() || !(s[i] >= '0' && s[i] <= '9'))
        return fail("a number has no digit in its exponent");
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    }
    if (i - start > 64) return fail("a number is longer than 64 characters");
    return true;
  }
  bool literal(std::string_view word) {
    if (s.substr(i, word.size()) != word) return fail("not a JSON value");
    i += word.size();
    return true;
  }
  bool value(int depth) {
    space();
    if (i >= s.size()) return fail("the text ends where a value was expected");
    char c = s[i];
    if (c == '"') return string(nullptr);
    if (c == '{' || c == '[') {
      if (depth >= max_depth) return fail("values are nested too deeply");
      char close = c == '{' ? '}' : ']';
      ++i;
      space();
      if (i < s.size() && s[i] == close) {
        ++i;
        return true;
      }
      for (;;) {
        space();
        if (c == '{') {
          if (i >= s.size() || s[i] != '"') return fail("a member name (a string) was expected");
          if (!string(nullptr)) return false;
          space();
          if (i >= s.size() || s[i] != ':') return fail("':' was expected after a member name");
          ++i;
        }
        if (!value(depth + 1)) return false;
        space();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        if (i < s.size() && s[i] == close) {
          ++i;
          return true;
        }
        return fail(c == '{' ? "',' or '}' was expected" : "',' or ']' was expected");
      }
    }
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    return fail("not a JSON value");
  }
};

}  // namespace

bool split_object(std::string_view text, std::vector<json_member>& out, json_syntax_error& error,
                  int max_depth) {
  out.clear();
  scanner sc{text, 0, error, max_depth};
  sc.space();
  if (sc.i >= text.size() || text[sc.i] != '{') return sc.fail("the body is not a JSON object");
  ++sc.i;
  sc.space();
  if (sc.i < text.size() && text[sc.i] == '}') {
    ++sc.i;
  } else {
    for (;;) {
      sc.space();
      if (sc.i >= text.size() || text[sc.i] != '"')
        return sc.fail("a member name (a string) was expected");
      if (out.size() == max_request_members) {
        return sc.fail("more than " + std::to_string(max_request_members) +
                       " members: no request has that many");
      }
      json_member m;
      std::size_t key_at = sc.i;
      if (!sc.string(&m.key)) return false;
      for (const json_member& other : out) {
        if (other.key == m.key) {
          sc.i = key_at;
          return sc.fail("a member is given twice");
        }
      }
      sc.space();
      if (sc.i >= text.size() || text[sc.i] != ':')
        return sc.fail("':' was expected after a member name");
      ++sc.i;
      sc.space();
      std::size_t start = sc.i;
      if (!sc.value(1)) return false;
      m.offset = start;
      m.raw = text.substr(start, sc.i - start);
      out.push_back(std::move(m));
      sc.space();
      if (sc.i < text.size() && text[sc.i] == ',') {
        ++sc.i;
        continue;
      }
      if (sc.i < text.size() && text[sc.i] == '}') {
        ++sc.i;
        break;
      }
      return sc.fail("',' or '}' was expected");
    }
  }
  sc.space();
  if (sc.i != text.size()) return sc.fail("text follows the JSON object");
  return true;
}

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string field_pointer(std::string_view prefix, std::string_view field_path) {
  std::string out(prefix);
  if (field_path.empty()) return out;
  out += '/';
  for (char c : field_path) {
    if (c == '.' || c == '[') {
      if (out.back() != '/') out += '/';
    } else if (c == ']') {
      continue;
    } else if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace dalil::server
