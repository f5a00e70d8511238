// A schema-directed JSON reader: one pass over the text, no DOM, no allocation once the record's
// buffers have grown to size. Input is checked strictly at this boundary (UTF-8, escapes, number
// syntax, duplicate keys, engine/limits.hpp), so nothing downstream sees an ill-formed value.
// Error messages name the field and the rule broken, never the value: they end up in import
// logs, and values are personal data.
#include "engine/record.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <list>
#include <map>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dsl/suggest.hpp"
#include "dsl/utf8.hpp"
#include "engine/limits.hpp"

namespace dalil::engine {

// The writes land in memory the caller keeps, so none is a dead store.
void wipe_text(std::string& s) {
  s.assign(s.capacity(), '\0');
  s.clear();
}

void record::clear(std::size_t fact_count) {
  facts.assign(fact_count, value{});
  arena.clear();
  nested_used = 0;
  record_nodes.clear();
  list_nodes.clear();
}

void record::wipe() {
  wipe_text(arena);
  wipe_text(scratch);
  for (std::string& k : keys) wipe_text(k);
  std::fill(facts.begin(), facts.end(), value{});
  for (std::size_t i = 0; i < nested_used && i < nested.size(); ++i) {
    std::fill(nested[i]->begin(), nested[i]->end(), value{});
  }
  nested_used = 0;
  record_nodes.clear();
  list_nodes.clear();
}

std::string_view record::id() const {
  if (id_fact == dsl::no_index || id_fact >= facts.size() || !facts[id_fact].known()) return {};
  return facts[id_fact].as_text();
}

std::string no_such_field(const dsl::record_info& info, std::string_view name) {
  // The name is never shown: in a key or header position a careless export may have put a value
  // (an id, a name, a date: a CSV without its header row, a record keyed by applicant), and
  // values are personal data. A field of the schema near it is shown instead, when there is one.
  std::string out = "record '" + info.name + "' has no field of that name";
  std::string_view best;
  std::size_t best_d = 3;  // a typo, not a rewrite
  if (name.size() <= limits::name_bytes) {
    for (const dsl::field_info& f : info.fields) {
      std::size_t d = dsl::bounded_edit_distance(name, f.name, best_d - 1);
      if (d < best_d) {
        best_d = d;
        best = f.name;
      }
    }
  }
  if (!best.empty()) out += "; did you mean '" + std::string(best) + "'?";
  return out;
}

namespace {

/// Where an unknown key stands, without the key: its rank among the record's members and the
/// field before it ("member 3 of the record, after 'sex'"), so that the row can be mended.
std::string member_place(std::uint32_t member, std::string_view previous) {
  if (member == 1) return " (the record's first member)";
  return " (member " + std::to_string(member) + " of the record, after '" + std::string(previous) +
         "')";
}

/// The first byte from `p` that ends a plain run of string text (a quote, a backslash or a
/// control character, and with `stop_high` any byte of a multi-byte UTF-8 sequence), or `end`:
/// sixteen bytes at a time with SSE2 (every x86-64 has it; an explanation of 6 KB is quoted into
/// each answer), then eight at a time (SWAR; the first flagged byte of each test is exact, later
/// ones may be false positives, so the lowest flag is the answer).
template <bool stop_high>
const char* plain_run_end(const char* p, const char* end) {
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i control_max = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // A byte is a control character when the unsigned minimum of it and 0x1F is itself.
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, quote), _mm_cmpeq_epi8(w, backslash)),
                               _mm_cmpeq_epi8(_mm_min_epu8(w, control_max), w));
    int mask = _mm_movemask_epi8(hit);
    if constexpr (stop_high) mask |= _mm_movemask_epi8(w);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  while (end - p >= 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    std::uint64_t q = w ^ (ones * '"');
    std::uint64_t b = w ^ (ones * '\\');
    std::uint64_t hit = ((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w);
    if constexpr (stop_high) hit |= w;
    hit &= highs;
    if (hit != 0) return p + (__builtin_ctzll(hit) >> 3);
    p += 8;
  }
  while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20 &&
         (!stop_high || static_cast<unsigned char>(*p) < 0x80)) {
    ++p;
  }
  return p;
}

}  // namespace

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void append_json_string(std::string& out, std::string_view s) {
  const char* p = s.data();
  const char* const end = p + s.size();
  out.push_back('"');
  // Runs that need no escape are appended whole; the common case (no escape at all) is one run.
  for (;;) {
    const char* run = plain_run_end<false>(p, end);
    out.append(p, static_cast<std::size_t>(run - p));
    if (run == end) break;
    const char c = *run;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {  // another control character
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
        out += buf;
      }
    }
    p = run + 1;
  }
  out.push_back('"');
}

namespace {

using dsl::kind;

/// The shape of a number's text under JSON's grammar
/// (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?).
struct number_shape {
  bool valid = false;
  bool leading_zero = false;  // "012": JSON forbids it, and it reads as octal elsewhere
  bool fraction = false;
  bool exponent = false;
};

[[gnu::always_inline]] inline number_shape shape_of(std::string_view s) {
  number_shape r;
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto digits = [&] {
    std::size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < n && s[i] == '-') ++i;
  std::size_t int_start = i;
  std::size_t int_digits = digits();
  if (int_digits == 0) return r;
  if (int_digits > 1 && s[int_start] == '0') r.leading_zero = true;
  if (i < n && s[i] == '.') {
    ++i;
    r.fraction = true;
    if (digits() == 0) return r;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    r.exponent = true;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return r;
  }
  r.valid = i == n && !r.leading_zero;
  return r;
}

/// Plain decimals of up to 18 digits ("12345.67", "-3") as an exact, unnormalised ratio over a
/// power of ten: no 128-bit arithmetic and no gcd. Anything else goes to parse_decimal.
bool fast_decimal(std::string_view s, value& out) {
  std::size_t i = 0;
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    i = 1;
  }
  std::int64_t num = 0;
  std::int64_t den = 1;
  int digits = 0;
  bool point = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    if (c < '0' || c > '9' || ++digits > 18) return false;
    num = num * 10 + (c - '0');
    if (point) den *= 10;
  }
  if (digits == 0 || (point && s.back() == '.')) return false;
  out = value::of_ratio(negative ? -num : num, den);
  return true;
}

/// Whether a money amount is a whole number of centimes (7534.5, 7534.500; not 7534.505). The
/// common case, a denominator of 1, 10 or 100 straight from fast_decimal, costs no division.
bool whole_centimes(const value& v) {
  std::int64_t den = v.q.den;
  if (den == 1 || den == 10 || den == 100) return true;
  // Otherwise remove the factors of 100 from the denominator; the rest must divide the numerator.
  if (den % 4 == 0) {
    den /= 4;
  } else if (den % 2 == 0) {
    den /= 2;
  }
  if (den % 25 == 0) {
    den /= 25;
  } else if (den % 5 == 0) {
    den /= 5;
  }
  return v.q.num % den == 0;
}

/// Fields of one record type reached by a path from the root, with their fact slots.
struct path_node {
  std::uint32_t record = dsl::no_index;
  struct field {
    std::uint32_t index = 0;
    dsl::type t;
    std::uint32_t fact = dsl::no_index;                 // fact slot when this path is a fact
    const dsl::value_constraint* constraint = nullptr;  // when the field has one
    std::unique_ptr<path_node> child;                   // for record-typed fields
    std::vector<std::uint32_t> facts_under;             // every fact slot below this field
  };
  std::vector<std::pair<std::string, field>> fields;  // sorted by name
  // Field indices by name length: a lookup compares one or two names of the right length.
  std::array<std::vector<std::uint16_t>, 64> by_length;

  void index() {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      std::size_t len = fields[i].first.size();
      if (len < by_length.size()) by_length[len].push_back(static_cast<std::uint16_t>(i));
    }
  }

  /// The position of the field named `name` in `fields`, or -1.
  int find(std::string_view name) const {
    if (name.size() >= by_length.size()) return -1;
    for (std::uint16_t i : by_length[name.size()]) {
      if (std::memcmp(fields[i].first.data(), name.data(), name.size()) == 0) return i;
    }
    return -1;
  }
};

/// A field path built only when an error names it: a name, or a list index.
struct path_ref {
  const path_ref* parent = nullptr;
  std::string_view name;
  std::size_t index = 0;
  bool is_index = false;
  std::string str() const {
    std::string s = parent ? parent->str() : std::string();
    if (is_index) return s + "[" + std::to_string(index) + "]";
    if (!s.empty() && !name.empty()) s += '.';
    return s + std::string(name);
  }
};

/// Why a JSON string could not be read.
enum class fault : std::uint8_t { none, syntax, utf8, surrogate, nul };

class cursor {
 public:
  cursor(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}
  [[gnu::always_inline]] void skip() {
    if (p_<end_&& static_cast<unsigned char>(*p_)> ' ') return;  // the common case
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool at_end() {
    skip();
    return p_ >= end_;
  }
  [[gnu::always_inline]] char peek() {
    skip();
    return p_ < end_ ? *p_ : '\0';
  }
  [[gnu::always_inline]] bool eat(char c) {
    if (peek() == c) {
      ++p_;
      return true;
    }
    return false;
  }
  /// Steps over `word` (true, false, null) when it comes next; its length is known at compile
  /// time, so the comparison is one or two loads, with no call.
  template <std::size_t N>
  [[gnu::always_inline]] bool literal(const char (&word)[N]) {
    skip();
    constexpr std::size_t n = N - 1;
    if (static_cast<std::size_t>(end_ - p_) >= n && std::memcmp(p_, word, n) == 0) {
      p_ += n;
      return true;
    }
    return false;
  }
  /// Reads a JSON string as a view into the input when it is plain ASCII without escapes (the
  /// common case), else unescaped into `fallback`. Returns false if malformed (see fault()).
  [[gnu::always_inline]] bool view(std::string_view& out, std::string& fallback) {
    if (!eat('"')) return fail(fault::syntax);
    const char* start = p_;
    p_ = plain_run_end<true>(p_, end_);
    if (p_ < end_ && *p_ == '"') {
      out = std::string_view(start, static_cast<std::size_t>(p_ - start));
      ++p_;
      return true;
    }
    p_ = start - 1;  // escapes, UTF-8 or an error: take the slow path from the opening quote
    fallback.clear();
    if (!string(fallback)) return false;
    out = fallback;
    return true;
  }

  /// Reads a JSON string, unescaped into `out` (appended). Returns false if malformed: a raw
  /// control character, a bad escape, ill-formed UTF-8, a \u escape that is a lone or misordered
  /// surrogate, or \u0000 (which no text may hold); fault() says which.
  bool string(std::string& out) {
    if (!eat('"')) return fail(fault::syntax);
    while (p_ < end_) {
      // Plain runs are copied in one append; only escapes and UTF-8 go character by character.
      const char* run = plain_run_end<true>(p_, end_);
      out.append(p_, static_cast<std::size_t>(run - p_));
      p_ = run;
      if (p_ >= end_) break;
      auto u = static_cast<unsigned char>(*p_);
      if (u >= 0x80) {
        std::size_t n =
            dsl::utf8_sequence_length(std::string_view(p_, static_cast<std::size_t>(end_ - p_)));
        if (n == 0) return fail(fault::utf8);
        out.append(p_, n);
        p_ += n;
        continue;
      }
      ++p_;
      if (u == '"') return true;
      if (u < 0x20) return fail(fault::syntax);
      // A backslash.
      if (p_ >= end_) return fail(fault::syntax);
      char e = *p_++;
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          unsigned cp = 0;
          if (!hex4(cp)) return fail(fault::syntax);
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(fault::surrogate);  // low before high
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate: its low half must follow
            unsigned lo = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return fail(fault::surrogate);
            p_ += 2;
            if (!hex4(lo)) return fail(fault::syntax);
            if (lo < 0xDC00 || lo > 0xDFFF) return fail(fault::surrogate);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          if (cp == 0) return fail(fault::nul);
          append_utf8(out, cp);
          break;
        }
        default:
          return fail(fault::syntax);
      }
    }
    return fail(fault::syntax);
  }
  /// The raw text of a JSON number: the longest run of characters a number may hold, checked
  /// by the caller with shape_of.
  [[gnu::always_inline]] std::string_view number() {
    skip();
    const char* start = p_;
    while (p_ < end_ && ((*p_ >= '0' && *p_ <= '9') || *p_ == '.' || *p_ == 'e' || *p_ == 'E' ||
                         *p_ == '+' || *p_ == '-')) {
      ++p_;
    }
    return {start, static_cast<std::size_t>(p_ - start)};
  }
  const char* position() const { return p_; }
  fault last_fault() const { return fault_; }
  /// Steps over the character peek() returned.
  void advance() { ++p_; }

 private:
  bool fail(fault f) {
    fault_ = f;
    return false;
  }
  bool hex4(unsigned& cp) {
    if (end_ - p_ < 4) return false;
    for (int k = 0; k < 4; ++k) {
      char h = p_[k];
      unsigned d = 0;
      if (h >= '0' && h <= '9') {
        d = static_cast<unsigned>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        d = static_cast<unsigned>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        d = static_cast<unsigned>(h - 'A' + 10);
      } else {
        return false;
      }
      cp = cp * 16 + d;
    }
    p_ += 4;
    return true;
  }
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  fault fault_ = fault::none;
};

/// Why a text fact's value (well-formed UTF-8, unescaped) cannot be taken, or nullptr: a
/// control character (C0 other than a tab and a line break, LF or CRLF; DEL; C1) or a
/// bidirectional embedding, override or isolate (U+202A-U+202E, U+2066-U+2069). Each would
/// reach a terminal (dalil eval --format text) or an official's page as it is: ESC and the C1
/// controls rewrite a terminal, a lone CR or a backspace writes over what was shown, and the
/// bidirectional controls make a line read in another order than it is written. A text on
/// several lines (a CSV cell, RFC 4180) is read as written. Names no value.
const char* control_in_text(std::string_view t) {
  const auto* p = reinterpret_cast<const unsigned char*>(t.data());
  const std::size_t n = t.size();
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char b = p[i];
    const bool line = b == '\t' || b == '\n' || (b == '\r' && i + 1 < n && p[i + 1] == '\n');
    if (b < 0x20 && !line) {
      return "holds a control character (U+0000-U+001F but a tab or a line break, "
             "U+007F-U+009F), which no text may hold";
    }
    if (b < 0x7F) continue;
    // Well-formed UTF-8 here (the reader checked it): the code point, as the checker sees it.
    const std::size_t len = std::max<std::size_t>(dsl::utf8_sequence_length(t.substr(i)), 1);
    const std::uint32_t cp = dsl::utf8_code_point(t.substr(i, len));
    if (dsl::hidden_control(cp)) {
      return cp <= 0x9F ? "holds a control character (U+0000-U+001F but a tab or a line break, "
                          "U+007F-U+009F), which no text may hold"
                        : "holds a bidirectional control character (U+202A-U+202E, "
                          "U+2066-U+2069), which no text may hold";
    }
    i += len - 1;
  }
  return nullptr;
}

/// What is wrong with a string the cursor could not read, for an error message.
const char* fault_message(fault f) {
  switch (f) {
    case fault::utf8:
      return "is not valid UTF-8";
    case fault::surrogate:
      return "has a \\u escape that is half of a UTF-16 surrogate pair without its other half";
    case fault::nul:
      return "contains \\u0000, which no text may hold";
    default:
      return "malformed text (a raw control character, a bad escape or no closing quote)";
  }
}

}  // namespace

namespace {

bool constrained(const dsl::value_constraint& c) {
  return c.at_least || c.at_most || c.not_after_as_of;
}

/// -1, 0 or 1 as the known number `v` (an int or a ratio) compares with `bound`, exactly.
int compare_bound(const value& v, const rational& bound) {
  i128 num = v.r == rep::integer ? v.i : v.q.num;
  i128 den = v.r == rep::integer ? 1 : v.q.den;
  i128 lhs = num * bound.den;
  i128 rhs = static_cast<i128>(bound.num) * den;
  return lhs < rhs ? -1 : (lhs > rhs ? 1 : 0);
}

struct record_reader_options {
  std::optional<date> as_of;
  bool member_place = false;
  bool intake = true;
};

}  // namespace

struct record_reader::impl {
  const dsl::program& p;
  record_reader_options options;
  path_node root;
  std::uint32_t id_fact = dsl::no_index;
  std::size_t slot_count = 0;
  std::size_t max_fields = 1;  // of any record type: the width of a row of duplicate stamps

  explicit impl(const dsl::program& program) : p(program) {
    std::map<std::string, std::uint32_t> fact_of;
    for (std::uint32_t i = 0; i < p.facts.size(); ++i) fact_of[p.facts[i].path] = i;
    slot_count = p.facts.size();
    if (auto it = fact_of.find("id"); it != fact_of.end()) {
      id_fact = it->second;
    } else if (p.input_record != dsl::no_index && p.records[p.input_record].field("id")) {
      // Applicants are identified by `id` even when no rule reads it: give it an extra slot.
      id_fact = static_cast<std::uint32_t>(slot_count++);
      fact_of["id"] = id_fact;
    }
    for (const dsl::record_info& r : p.records) max_fields = std::max(max_fields, r.fields.size());
    if (p.input_record != dsl::no_index) build(root, p.input_record, "", fact_of, 0);
  }

  void build(path_node& n, std::uint32_t rec, const std::string& prefix,
             const std::map<std::string, std::uint32_t>& fact_of, int depth) {
    n.record = rec;
    for (std::uint32_t i = 0; i < p.records[rec].fields.size(); ++i) {
      const dsl::field_info& f = p.records[rec].fields[i];
      path_node::field pf;
      pf.index = i;
      pf.t = f.t;
      if (constrained(f.constraint)) pf.constraint = &f.constraint;
      std::string path = prefix + f.name;
      if (auto it = fact_of.find(path); it != fact_of.end()) pf.fact = it->second;
      for (const auto& [fp, slot] : fact_of) {
        if (fp == path || fp.rfind(path + ".", 0) == 0) pf.facts_under.push_back(slot);
      }
      if (f.t.k == kind::record && depth + 1 < limits::nesting_depth) {
        pf.child = std::make_unique<path_node>();
        build(*pf.child, f.t.ref, path + ".", fact_of, depth + 1);
      }
      n.fields.emplace_back(f.name, std::move(pf));
    }
    std::sort(n.fields.begin(), n.fields.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    n.index();
  }

  /// Duplicate-key detection: a row of stamps per nesting depth, one per field of the widest
  /// record type; each object takes a fresh stamp, so nothing is cleared between objects. One
  /// per thread, not per record: a batch cycles through hundreds of record buffers, and the
  /// stamps stay in cache.
  struct duplicate_stamps {
    std::vector<std::uint32_t> seen;
    std::uint32_t stamp = 0;
  };

  struct state {
    cursor c;
    record& out;
    record_error& error;
    std::string& scratch;
    const char* begin = nullptr;
    int depth = 0;  // objects and lists open around the cursor
    const char* value_at = nullptr;
    duplicate_stamps& dup;
  };

  bool fail(state& st, const path_ref& path, std::string message) const {
    st.error.field = path.str();
    st.error.message = std::move(message);
    st.error.offset = static_cast<std::size_t>(st.c.position() - st.begin);
    return false;
  }

  /// A scalar value that breaks a rule: the error points at the value's first character.
  bool fail_value(state& st, const path_ref& path, std::string message) const {
    fail(st, path, std::move(message));
    st.error.offset = static_cast<std::size_t>(st.value_at - st.begin);
    return false;
  }

  /// Opens an object or a list at the next depth; false when that would nest too deeply.
  [[gnu::always_inline]] bool enter(state& st, const path_ref& path) const {
    if (st.depth >= limits::nesting_depth) {
      return fail(
          st, path,
          "records and lists nest more than " + std::to_string(limits::nesting_depth) + " deep");
    }
    ++st.depth;
    return true;
  }

  /// A fresh stamp for the object opened at the current depth, and that depth's row of stamps:
  /// a field whose stamp already equals the object's was given twice. No clearing per object.
  [[gnu::always_inline]] std::uint32_t* stamps(state& st, std::uint32_t& mark) const {
    mark = ++st.dup.stamp;  // read() keeps it far from wrapping
    return st.dup.seen.data() + static_cast<std::size_t>(st.depth - 1) * max_fields;
  }

  bool duplicate(state& st, const path_ref& sub) const {
    return fail(st, sub, "the field is given twice in one record");
  }

  [[gnu::always_inline]] bool number_limit(state& st, const path_ref& path,
                                           std::string_view num) const {
    if (num.size() <= limits::number_chars) return true;
    return fail(
        st, path,
        "the number is longer than " + std::to_string(limits::number_chars) + " characters");
  }

  /// Reads a scalar or nested value of type `t` into `v`.
  bool scalar(state& st, const dsl::type& t, const path_ref& path, value& v) const {
    cursor& c = st.c;
    char next = c.peek();
    st.value_at = c.position();  // errors about the value point at its start
    if (c.literal("null")) {
      if (!t.optional) {
        return fail_value(
            st, path,
            "cannot be null (the field is not optional); leave it out when it is unknown");
      }
      v = value::null_value();
      return true;
    }
    switch (t.k) {
      case kind::boolean:
        if (c.literal("true")) {
          v = value::of_bool(true);
        } else if (c.literal("false")) {
          v = value::of_bool(false);
        } else {
          return fail_value(st, path, "expected true or false");
        }
        return true;
      case kind::integer: {
        std::string_view num = c.number();
        if (!number_limit(st, path, num)) return false;
        number_shape shape = shape_of(num);
        if (shape.leading_zero) {
          return fail_value(st, path, "a number may not start with 0 (JSON): write 12, not 012");
        }
        if (!shape.valid || shape.fraction || shape.exponent) {
          return fail_value(st, path, "expected a whole number (no decimal point, no exponent)");
        }
        std::int64_t i = 0;
        auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), i);
        if (ec != std::errc() || ptr != num.data() + num.size()) {
          return fail_value(st, path, "the whole number is out of range (64-bit)");
        }
        v = value::of_int(i);
        return true;
      }
      case kind::decimal:
      case kind::money: {
        std::string_view num;
        if (next == '"') {
          if (!c.view(num, st.scratch)) return fail_value(st, path, fault_message(c.last_fault()));
        } else {
          num = c.number();
        }
        if (!number_limit(st, path, num)) return false;
        number_shape shape = shape_of(num);
        if (shape.leading_zero) {
          return fail_value(st, path,
                            "a number may not start with 0 (JSON): write 12.50, not 012.50");
        }
        if (!shape.valid || shape.exponent) {
          return fail_value(st, path,
                            "expected an exact decimal amount such as 3767.50 (no exponent)");
        }
        if (!fast_decimal(num, v)) {
          auto r = parse_decimal(num);
          if (!r) return fail_value(st, path, "the amount is out of range (64-bit exact decimal)");
          v = value::of_ratio(r->num, r->den);
        }
        if (t.k == kind::money && !whole_centimes(v)) {
          return fail_value(st, path, "money is a whole number of centimes: at most two decimals");
        }
        return true;
      }
      case kind::date: {
        st.scratch.clear();
        if (next != '"') return fail_value(st, path, "expected a date \"YYYY-MM-DD\"");
        if (!c.string(st.scratch)) return fail_value(st, path, fault_message(c.last_fault()));
        auto d = parse_date(st.scratch);
        if (!d)
          return fail_value(st, path, "is not a calendar date (YYYY-MM-DD, years 0001 to 9999)");
        v = value::of_date(*d);
        return true;
      }
      case kind::duration:
        return fail_value(st, path, "durations cannot be given in records");
      case kind::text: {
        if (next != '"') return fail_value(st, path, "expected text in double quotes");
        std::size_t start = st.out.arena.size();
        if (!c.string(st.out.arena)) return fail_value(st, path, fault_message(c.last_fault()));
        if (st.out.arena.size() - start > limits::text_bytes) {
          return fail_value(
              st, path, "the text is longer than " + std::to_string(limits::text_bytes) + " bytes");
        }
        if (const char* why = options.intake
                                  ? control_in_text(std::string_view(st.out.arena).substr(start))
                                  : nullptr) {
          return fail_value(st, path, why);
        }
        v = value::of_text(std::string_view(st.out.arena).substr(start));
        return true;
      }
      case kind::enumeration: {
        std::string_view text;
        if (next != '"') return fail_value(st, path, "expected one of " + cases(t.ref));
        if (!c.view(text, st.scratch)) return fail_value(st, path, fault_message(c.last_fault()));
        const auto& cs = p.enums[t.ref].cases;
        auto it = std::find(cs.begin(), cs.end(), text);
        if (it == cs.end()) {
          return fail_value(st, path, "is not one of " + cases(t.ref));
        }
        v = value::of_enum(static_cast<std::uint32_t>(it - cs.begin()));
        return true;
      }
      case kind::record:
        return nested_record(st, t.ref, path, v);
      case kind::list:
        return list(st, t, path, v);
      default:
        return fail_value(st, path, "cannot be read from a record");
    }
  }

  /// Checks a known value against its field's constraint. The message names the bound broken
  /// (schema data) and never the value.
  bool within(state& st, const dsl::type& t, const dsl::value_constraint& c, const path_ref& path,
              const value& v) const {
    if (!v.known()) return true;
    auto bound_text = [&](const rational& b) {
      return t.k == kind::money ? money_string(b) + " MAD" : to_string(b);
    };
    if (v.r == rep::integer || v.r == rep::ratio) {
      if (c.at_least && compare_bound(v, *c.at_least) < 0) {
        return fail_value(
            st, path,
            "is below the field's lower bound (at_least " + bound_text(*c.at_least) + ")");
      }
      if (c.at_most && compare_bound(v, *c.at_most) > 0) {
        return fail_value(
            st, path, "is above the field's upper bound (at_most " + bound_text(*c.at_most) + ")");
      }
    } else if (v.r == rep::date && c.not_after_as_of && options.as_of &&
               v.i > options.as_of->days) {
      return fail_value(st, path,
                        "is after the as-of date " + to_string(*options.as_of) +
                            " (not_after as_of: the date of a past event)");
    }
    return true;
  }

  std::string cases(std::uint32_t e) const {
    std::string s;
    for (const auto& c : p.enums[e].cases) s += (s.empty() ? "" : ", ") + c;
    return s;
  }

  std::vector<value>& nested_storage(record& out, std::size_t n) const {
    if (out.nested_used == out.nested.size()) {
      out.nested.push_back(std::make_unique<std::vector<value>>());
    }
    std::vector<value>& v = *out.nested[out.nested_used++];
    v.assign(n, value{});
    return v;
  }

  /// Reads a field name and its colon; `sub` then names the field.
  [[gnu::always_inline]] bool key(state& st, const path_ref& path, std::string_view& name) const {
    if (st.c.peek() != '"') return fail(st, path, "expected a field name in double quotes");
    if (!st.c.view(name, st.out.keys[static_cast<std::size_t>(st.depth)])) {
      return fail(st, path, std::string("a field name ") + fault_message(st.c.last_fault()));
    }
    return true;
  }

  bool nested_record(state& st, std::uint32_t rec, const path_ref& path, value& v) const {
    cursor& c = st.c;
    if (c.peek() != '{') return fail(st, path, "expected a record { … }");
    if (!enter(st, path)) return false;
    c.advance();
    const dsl::record_info& info = p.records[rec];
    std::vector<value>& fields = nested_storage(st.out, info.fields.size());
    std::uint32_t mark = 0;
    std::uint32_t* seen = stamps(st, mark);
    std::uint32_t member = 0;
    std::string_view previous;
    if (!c.eat('}')) {
      do {
        std::string_view name;
        if (!key(st, path, name)) return false;
        ++member;
        // An unknown key is never put in a path or a message (see no_such_field).
        auto f = info.field(name);
        if (!f) {
          if (!c.eat(':')) return fail(st, path, "expected ':' after a key");
          return fail(st, path,
                      no_such_field(info, name) +
                          (options.member_place ? member_place(member, previous) : ""));
        }
        previous = info.fields[*f].name;
        path_ref sub{&path, name};
        if (!c.eat(':')) return fail(st, sub, "expected ':' after the field name");
        if (seen[*f] == mark) return duplicate(st, sub);
        seen[*f] = mark;
        const dsl::field_info& fi = info.fields[*f];
        if (!scalar(st, fi.t, sub, fields[*f])) return false;
        if (constrained(fi.constraint) && !within(st, fi.t, fi.constraint, sub, fields[*f])) {
          return false;
        }
      } while (c.eat(','));
      if (!c.eat('}')) return fail(st, path, "expected ',' or '}'");
    }
    --st.depth;
    st.out.record_nodes.push_back(std::make_unique<record_node>(
        record_node{fields.data(), static_cast<std::uint32_t>(fields.size())}));
    v.s = engine::state::known;
    v.r = rep::record;
    v.rec = st.out.record_nodes.back().get();
    return true;
  }

  bool list(state& st, const dsl::type& t, const path_ref& path, value& v) const {
    cursor& c = st.c;
    if (c.peek() != '[') return fail(st, path, "expected a list [ … ]");
    if (!enter(st, path)) return false;
    c.advance();
    dsl::type elem;
    elem.k = t.element;
    elem.ref = t.ref;
    std::vector<value> items;
    if (!c.eat(']')) {
      do {
        if (items.size() == limits::list_items) {
          return fail(st, path,
                      "the list has more than " + std::to_string(limits::list_items) + " items");
        }
        value item;
        path_ref at{&path, {}, items.size(), true};
        if (!scalar(st, elem, at, item)) return false;
        items.push_back(item);
      } while (c.eat(','));
      if (!c.eat(']')) return fail(st, path, "expected ',' or ']'");
    }
    --st.depth;
    std::vector<value>& storage = nested_storage(st.out, items.size());
    std::copy(items.begin(), items.end(), storage.begin());
    st.out.list_nodes.push_back(std::make_unique<list_node>(
        list_node{storage.data(), static_cast<std::uint32_t>(storage.size())}));
    v.s = engine::state::known;
    v.r = rep::list;
    v.list = st.out.list_nodes.back().get();
    return true;
  }

  /// Reads an object at a path of facts (the root record, or a record field of it).
  bool object(state& st, const path_node& n, const path_ref& path) const {
    cursor& c = st.c;
    if (c.peek() != '{') return fail(st, path, "expected a record { … }");
    if (!enter(st, path)) return false;
    c.advance();
    std::uint32_t mark = 0;
    std::uint32_t* seen = stamps(st, mark);
    std::uint32_t member = 0;
    std::string_view previous;
    if (!c.eat('}')) {
      do {
        std::string_view name;
        if (!key(st, path, name)) return false;
        ++member;
        // An unknown key is never put in a path or a message (see no_such_field).
        int at = n.find(name);
        if (at < 0) {
          if (!c.eat(':')) return fail(st, path, "expected ':' after a key");
          return fail(st, path,
                      no_such_field(p.records[n.record], name) +
                          (options.member_place ? member_place(member, previous) : ""));
        }
        previous = n.fields[static_cast<std::size_t>(at)].first;
        path_ref sub{&path, name};
        if (!c.eat(':')) return fail(st, sub, "expected ':' after the field name");
        if (seen[at] == mark) return duplicate(st, sub);
        seen[at] = mark;
        const path_node::field* f = &n.fields[static_cast<std::size_t>(at)].second;
        if (f->child) {
          if (c.literal("null")) {
            if (!f->t.optional) {
              return fail(st, sub,
                          "cannot be null (the field is not optional); leave it out when unknown");
            }
            for (std::uint32_t slot : f->facts_under) st.out.facts[slot] = value::null_value();
            continue;
          }
          if (f->fact != dsl::no_index) {
            // The record itself is a fact (e.g. known(applicant.spouse)): read it generically.
            cursor save = c;
            value v;
            if (!nested_record(st, f->t.ref, sub, v)) return false;
            st.out.facts[f->fact] = v;
            c = save;
          }
          if (!object(st, *f->child, sub)) return false;
          continue;
        }
        value v;
        if (!scalar(st, f->t, sub, v)) return false;
        if (f->constraint != nullptr && !within(st, f->t, *f->constraint, sub, v)) return false;
        if (f->fact != dsl::no_index) st.out.facts[f->fact] = v;
      } while (c.eat(','));
      if (!c.eat('}')) return fail(st, path, "expected ',' or '}'");
    }
    --st.depth;
    return true;
  }
};

record_reader::record_reader(const dsl::program& program)
    : impl_(std::make_unique<impl>(program)) {}
record_reader::~record_reader() = default;

date utc_today() {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  date d;
  d.days = static_cast<std::int32_t>(std::chrono::floor<std::chrono::days>(since_epoch).count());
  return d;
}

void record_reader::set_as_of(std::optional<date> as_of) {
  impl_->options.as_of = as_of;
}

void record_reader::set_member_place(bool on) {
  impl_->options.member_place = on;
}

void record_reader::set_intake(bool on) {
  impl_->options.intake = on;
}

bool record_reader::read(std::string_view json, record& out, record_error& error) const {
  out.clear(impl_->slot_count);
  out.id_fact = impl_->id_fact;
  error.offset = 0;
  if (json.size() > limits::record_bytes) {
    error = {"",
             "the record is longer than " + std::to_string(limits::record_bytes) +
                 " bytes (the limit of one record)",
             0};
    return false;
  }
  // Unescaped text is never longer than the JSON, and a record field that is itself a fact is
  // read twice, so twice the JSON's length means the arena never reallocates while values point
  // into it; at least 32 bytes keeps it off the small-string buffer, so moving the record does
  // not move the characters.
  out.arena.reserve(std::max<std::size_t>(2 * json.size(), 32));
  constexpr auto depths = static_cast<std::size_t>(limits::nesting_depth) + 1;
  if (out.keys.size() < depths) out.keys.resize(depths);
  thread_local impl::duplicate_stamps dup;
  if (dup.seen.size() < depths * impl_->max_fields) dup.seen.resize(depths * impl_->max_fields, 0);
  // A record of at most record_bytes opens fewer than a million objects: restarting the stamps
  // once past 2^31 means they never wrap during a read.
  if (dup.stamp > (1U << 31)) {
    std::fill(dup.seen.begin(), dup.seen.end(), 0);
    dup.stamp = 0;
  }
  impl::state st{cursor(json), out, error, out.scratch, json.data(), 0, nullptr, dup};
  if (impl_->p.input_record == dsl::no_index) {
    error = {"", "the rule pack declares no input record", 0};
    return false;
  }
  if (!impl_->object(st, impl_->root, path_ref{})) return false;
  if (!st.c.at_end()) {
    error = {"", "unexpected text after the record",
             static_cast<std::size_t>(st.c.position() - json.data())};
    return false;
  }
  return true;
}

// ------------------------------------------------------------------ canonical JSON

namespace {

/// A member of an object being made canonical: its key (unescaped: a view into the input, or
/// into a string of its own when the key had escapes or non-ASCII characters) and where its
/// canonical value was written.
struct canonical_member {
  std::string_view key;
  std::size_t at = 0;
  std::size_t size = 0;
};

/// What the objects of one document share: the members of the objects being read (each
/// object's at the end, taken off when it is written: a stack, not a vector per object), the
/// copy of an object's values while they are written again in order, and the keys that are not
/// views into the input.
struct canonical_state {
  std::vector<canonical_member> members;
  std::string values;
  std::list<std::string> unescaped;
};

bool canonical_value(cursor& c, std::string& out, canonical_state& st, int depth) {
  if (depth > 64) return false;
  char next = c.peek();
  if (next == '{') {
    c.eat('{');
    // Each member's value is written into `out` where it comes, then the members are written
    // again in order (by key, then by value text, as a sort of (key, value) pairs orders them):
    // no string per member, one copy of the object's values.
    const std::size_t start = out.size();
    const std::size_t first = st.members.size();
    if (!c.eat('}')) {
      do {
        canonical_member m;
        std::string fallback;
        if (!c.view(m.key, fallback)) return false;
        if (m.key.data() == fallback.data()) {
          st.unescaped.push_back(std::move(fallback));
          m.key = st.unescaped.back();
        }
        if (!c.eat(':')) return false;
        m.at = out.size();
        if (!canonical_value(c, out, st, depth + 1)) return false;
        m.size = out.size() - m.at;
        st.members.push_back(m);
      } while (c.eat(','));
      if (!c.eat('}')) return false;
    }
    const auto begin = st.members.begin() + static_cast<std::ptrdiff_t>(first);
    const std::string_view written(out);
    std::sort(begin, st.members.end(),
              [&written](const canonical_member& a, const canonical_member& b) {
                if (a.key != b.key) return a.key < b.key;
                return written.substr(a.at, a.size) < written.substr(b.at, b.size);
              });
    st.values.assign(out, start);
    out.resize(start);
    out.push_back('{');
    for (auto m = begin; m != st.members.end(); ++m) {
      if (m != begin) out.push_back(',');
      append_json_string(out, m->key);
      out.push_back(':');
      out.append(st.values, m->at - start, m->size);
    }
    out.push_back('}');
    st.members.resize(first);
    return true;
  }
  if (next == '[') {
    c.eat('[');
    out.push_back('[');
    if (!c.eat(']')) {
      bool first = true;
      do {
        if (!first) out.push_back(',');
        first = false;
        if (!canonical_value(c, out, st, depth + 1)) return false;
      } while (c.eat(','));
      if (!c.eat(']')) return false;
    }
    out.push_back(']');
    return true;
  }
  if (next == '"') {
    std::string_view s;
    std::string fallback;  // the unescaped text when it is not a view into the input
    if (!c.view(s, fallback)) return false;
    append_json_string(out, s);
    return true;
  }
  if (c.literal("true")) {
    out += "true";
    return true;
  }
  if (c.literal("false")) {
    out += "false";
    return true;
  }
  if (c.literal("null")) {
    out += "null";
    return true;
  }
  // Numbers are kept as written, so they must be written as JSON allows (no leading zero,
  // digits on both sides of a point): the canonical form is JSON that any parser reads.
  std::string_view num = c.number();
  if (!shape_of(num).valid) return false;
  out += num;
  return true;
}

}  // namespace

std::string canonical_json(std::string_view json) {
  cursor c(json);
  std::string out;
  out.reserve(json.size());
  // The thread keeps its state from one document to the next (no allocation once warm); the
  // copy of values is the record's, so all of it is zeroed after use.
  thread_local canonical_state st;
  const bool ok = canonical_value(c, out, st, 0) && c.at_end();
  wipe_text(st.values);
  st.members.clear();
  st.unescaped.clear();
  if (!ok) return {};
  return out;
}

}  // namespace dalil::engine
