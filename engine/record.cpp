// A schema-directed JSON reader: one pass over the text, no DOM, no allocation once the record's
// buffers have grown to size. Error messages name the field and the rule broken, never the
// value: they end up in import logs, and values are personal data.
#include "engine/record.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <map>

namespace dalil::engine {

void record::clear(std::size_t fact_count) {
  facts.assign(fact_count, value{});
  arena.clear();
  nested_used = 0;
  record_nodes.clear();
  list_nodes.clear();
}

std::string_view record::id() const {
  if (id_fact == dsl::no_index || id_fact >= facts.size() || !facts[id_fact].known()) return {};
  return facts[id_fact].as_text();
}

namespace {

/// The first byte from `p` that ends a plain run of string text (a quote, a backslash or a
/// control character), or `end`: eight bytes at a time (SWAR; the first flagged byte of each
/// test is exact, later ones may be false positives, so the lowest flag is the answer).
const char* plain_run_end(const char* p, const char* end) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  while (end - p >= 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    std::uint64_t q = w ^ (ones * '"');
    std::uint64_t b = w ^ (ones * '\\');
    std::uint64_t hit = ((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w);
    hit &= highs;
    if (hit != 0) return p + (__builtin_ctzll(hit) >> 3);
    p += 8;
  }
  while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20) ++p;
  return p;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  if (plain_run_end(s.data(), s.data() + s.size()) ==
      s.data() + s.size()) {  // the common case: one append, no per-character work
    out.push_back('"');
    out.append(s);
    out.push_back('"');
    return;
  }
  out.push_back('"');
  for (char c : s) {
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
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

namespace {

using dsl::kind;

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

/// Fields of one record type reached by a path from the root, with their fact slots.
struct path_node {
  std::uint32_t record = dsl::no_index;
  struct field {
    std::uint32_t index = 0;
    dsl::type t;
    std::uint32_t fact = dsl::no_index;      // fact slot when this path is a fact
    std::unique_ptr<path_node> child;        // for record-typed fields
    std::vector<std::uint32_t> facts_under;  // every fact slot below this field
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

  const field* find(std::string_view name) const {
    if (name.size() >= by_length.size()) return nullptr;
    for (std::uint16_t i : by_length[name.size()]) {
      if (std::memcmp(fields[i].first.data(), name.data(), name.size()) == 0) {
        return &fields[i].second;
      }
    }
    return nullptr;
  }
};

/// A field path built only when an error names it.
struct path_ref {
  const path_ref* parent = nullptr;
  std::string_view name;
  std::string str() const {
    std::string s = parent ? parent->str() : std::string();
    if (!s.empty() && !name.empty() && name.front() != '[') s += '.';
    return s + std::string(name);
  }
};

class cursor {
 public:
  cursor(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}
  void skip() {
    if (p_<end_&& static_cast<unsigned char>(*p_)> ' ') return;  // the common case
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool at_end() {
    skip();
    return p_ >= end_;
  }
  char peek() {
    skip();
    return p_ < end_ ? *p_ : '\0';
  }
  bool eat(char c) {
    if (peek() == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool literal(const char* word) {
    skip();
    std::size_t n = std::strlen(word);
    if (static_cast<std::size_t>(end_ - p_) >= n && std::memcmp(p_, word, n) == 0) {
      p_ += n;
      return true;
    }
    return false;
  }
  /// Reads a JSON string; unescaped into `out` (appended). Returns false if malformed.
  /// Reads a JSON string as a view into the input when it has no escapes (the common case),
  /// else unescaped into `fallback`.
  bool view(std::string_view& out, std::string& fallback) {
    if (!eat('"')) return false;
    const char* start = p_;
    p_ = plain_run_end(p_, end_);
    if (p_ < end_ && *p_ == '"') {
      out = std::string_view(start, static_cast<std::size_t>(p_ - start));
      ++p_;
      return true;
    }
    p_ = start - 1;  // escapes or an error: take the slow path from the opening quote
    fallback.clear();
    if (!string(fallback)) return false;
    out = fallback;
    return true;
  }

  bool string(std::string& out) {
    if (!eat('"')) return false;
    // Plain runs are copied in one append; only escapes go character by character.
    const char* run = plain_run_end(p_, end_);
    out.append(p_, static_cast<std::size_t>(run - p_));
    p_ = run;
    while (p_ < end_) {
      char c = *p_++;
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (p_ >= end_) return false;
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
          if (end_ - p_ < 4) return false;
          unsigned cp = 0;
          auto [ptr, ec] = std::from_chars(p_, p_ + 4, cp, 16);
          if (ec != std::errc() || ptr != p_ + 4) return false;
          p_ += 4;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // surrogate pair
            if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return false;
            unsigned lo = 0;
            auto [p2, ec2] = std::from_chars(p_ + 2, p_ + 6, lo, 16);
            if (ec2 != std::errc() || p2 != p_ + 6 || lo < 0xDC00 || lo > 0xDFFF) return false;
            p_ += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
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
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  /// The raw text of a JSON number.
  std::string_view number() {
    skip();
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    while (p_ < end_ && ((*p_ >= '0' && *p_ <= '9') || *p_ == '.' || *p_ == 'e' || *p_ == 'E' ||
                         *p_ == '+' || *p_ == '-')) {
      ++p_;
    }
    return {start, static_cast<std::size_t>(p_ - start)};
  }
  /// Skips any JSON value (used by canonical_json's callers for unknown shapes).
  const char* position() const { return p_; }

 private:
  const char* p_ = nullptr;
  const char* end_ = nullptr;
};

}  // namespace

struct record_reader::impl {
  const dsl::program& p;
  path_node root;
  std::uint32_t id_fact = dsl::no_index;
  std::size_t slot_count = 0;

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
      std::string path = prefix + f.name;
      if (auto it = fact_of.find(path); it != fact_of.end()) pf.fact = it->second;
      for (const auto& [fp, slot] : fact_of) {
        if (fp == path || fp.rfind(path + ".", 0) == 0) pf.facts_under.push_back(slot);
      }
      if (f.t.k == kind::record && depth < 16) {
        pf.child = std::make_unique<path_node>();
        build(*pf.child, f.t.ref, path + ".", fact_of, depth + 1);
      }
      n.fields.emplace_back(f.name, std::move(pf));
    }
    std::sort(n.fields.begin(), n.fields.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    n.index();
  }

  struct state {
    cursor c;
    record& out;
    record_error& error;
    std::string& scratch;
    int depth = 0;
  };

  bool fail(state& st, const path_ref& path, std::string message) const {
    st.error.field = path.str();
    st.error.message = std::move(message);
    return false;
  }

  /// Reads a scalar or nested value of type `t` into `v`.
  bool scalar(state& st, const dsl::type& t, const path_ref& path, value& v) const {
    cursor& c = st.c;
    char next = c.peek();
    if (c.literal("null")) {
      if (!t.optional) {
        return fail(st, path,
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
          return fail(st, path, "expected true or false");
        }
        return true;
      case kind::integer: {
        std::string_view num = c.number();
        std::int64_t i = 0;
        auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), i);
        if (num.empty() || ec != std::errc() || ptr != num.data() + num.size()) {
          return fail(st, path, "expected a whole number");
        }
        v = value::of_int(i);
        return true;
      }
      case kind::decimal:
      case kind::money: {
        std::string_view num;
        if (next == '"') {
          if (!c.view(num, st.scratch)) return fail(st, path, "malformed text");
        } else {
          num = c.number();
        }
        if (fast_decimal(num, v)) return true;
        auto r = parse_decimal(num);
        if (!r) {
          return fail(st, path, "expected an exact decimal amount such as 3767.50 (no exponent)");
        }
        v = value::of_ratio(r->num, r->den);
        return true;
      }
      case kind::date: {
        st.scratch.clear();
        if (next != '"' || !c.string(st.scratch))
          return fail(st, path, "expected a date \"YYYY-MM-DD\"");
        auto d = parse_date(st.scratch);
        if (!d) return fail(st, path, "is not a calendar date (YYYY-MM-DD)");
        v = value::of_date(*d);
        return true;
      }
      case kind::duration:
        return fail(st, path, "durations cannot be given in records");
      case kind::text: {
        if (next != '"') return fail(st, path, "expected text in double quotes");
        std::size_t start = st.out.arena.size();
        if (!c.string(st.out.arena)) return fail(st, path, "malformed text");
        v = value::of_text(std::string_view(st.out.arena).substr(start));
        return true;
      }
      case kind::enumeration: {
        std::string_view text;
        if (next != '"' || !c.view(text, st.scratch)) {
          return fail(st, path, "expected one of " + cases(t.ref));
        }
        const auto& cs = p.enums[t.ref].cases;
        auto it = std::find(cs.begin(), cs.end(), text);
        if (it == cs.end()) {
          return fail(st, path, "is not one of " + cases(t.ref));
        }
        v = value::of_enum(static_cast<std::uint32_t>(it - cs.begin()));
        return true;
      }
      case kind::record:
        return nested_record(st, t.ref, path, v, 0);
      case kind::list:
        return list(st, t, path, v);
      default:
        return fail(st, path, "cannot be read from a record");
    }
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

  bool nested_record(state& st, std::uint32_t rec, const path_ref& path, value& v,
                     int depth) const {
    if (depth > 16) return fail(st, path, "records nest too deeply");
    cursor& c = st.c;
    if (!c.eat('{')) return fail(st, path, "expected a record { … }");
    const dsl::record_info& info = p.records[rec];
    std::vector<value>& fields = nested_storage(st.out, info.fields.size());
    if (!c.eat('}')) {
      do {
        std::string key;
        if (!c.string(key)) return fail(st, path, "expected a field name in double quotes");
        path_ref sub{&path, key};
        if (!c.eat(':')) return fail(st, sub, "expected ':'");
        auto f = info.field(key);
        if (!f) return fail(st, sub, "record '" + info.name + "' has no field '" + key + "'");
        if (!scalar(st, info.fields[*f].t, sub, fields[*f])) return false;
      } while (c.eat(','));
      if (!c.eat('}')) return fail(st, path, "expected ',' or '}'");
    }
    // Deque elements never move, so the pointers stay valid while the record lives.
    st.out.record_nodes.push_back(std::make_unique<record_node>(
        record_node{fields.data(), static_cast<std::uint32_t>(fields.size())}));
    v.s = engine::state::known;
    v.r = rep::record;
    v.rec = st.out.record_nodes.back().get();
    return true;
  }

  bool list(state& st, const dsl::type& t, const path_ref& path, value& v) const {
    cursor& c = st.c;
    if (!c.eat('[')) return fail(st, path, "expected a list [ … ]");
    dsl::type elem;
    elem.k = t.element;
    elem.ref = t.ref;
    std::vector<value> items;
    if (!c.eat(']')) {
      do {
        value item;
        std::string index = "[" + std::to_string(items.size()) + "]";
        if (!scalar(st, elem, path_ref{&path, index}, item)) return false;
        items.push_back(item);
      } while (c.eat(','));
      if (!c.eat(']')) return fail(st, path, "expected ',' or ']'");
    }
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
    if (!c.eat('{')) return fail(st, path, "expected a record { … }");
    if (c.eat('}')) return true;
    // keys is sized once in read(), so references into it stay valid during recursion.
    if (static_cast<std::size_t>(st.depth) >= st.out.keys.size()) {
      return fail(st, path, "records nest too deeply");
    }
    do {
      std::string_view key;
      if (!c.view(key, st.out.keys[static_cast<std::size_t>(st.depth)])) {
        return fail(st, path, "expected a field name in double quotes");
      }
      path_ref sub{&path, key};
      if (!c.eat(':')) return fail(st, sub, "expected ':' after the field name");
      const path_node::field* f = n.find(key);
      if (f == nullptr) {
        return fail(
            st, sub,
            "record '" + p.records[n.record].name + "' has no field '" + std::string(key) + "'");
      }
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
          if (!nested_record(st, f->t.ref, sub, v, 0)) return false;
          st.out.facts[f->fact] = v;
          c = save;
        }
        ++st.depth;
        bool ok = object(st, *f->child, sub);
        --st.depth;
        if (!ok) return false;
        continue;
      }
      value v;
      if (!scalar(st, f->t, sub, v)) return false;
      if (f->fact != dsl::no_index) st.out.facts[f->fact] = v;
    } while (c.eat(','));
    if (!c.eat('}')) return fail(st, path, "expected ',' or '}'");
    return true;
  }
};

record_reader::record_reader(const dsl::program& program)
    : impl_(std::make_unique<impl>(program)) {}
record_reader::~record_reader() = default;

bool record_reader::read(std::string_view json, record& out, record_error& error) const {
  out.clear(impl_->slot_count);
  out.id_fact = impl_->id_fact;
  // Unescaped text is never longer than the JSON, and a record field that is itself a fact is
  // read twice, so twice the JSON's length means the arena never reallocates while values point
  // into it; at least 32 bytes keeps it off the small-string buffer, so moving the record does
  // not move the characters.
  out.arena.reserve(std::max<std::size_t>(2 * json.size(), 32));
  if (out.keys.size() < 18) out.keys.resize(18);
  impl::state st{cursor(json), out, error, out.scratch, 0};
  if (impl_->p.input_record == dsl::no_index) {
    error = {"", "the rule pack declares no input record"};
    return false;
  }
  if (!impl_->object(st, impl_->root, path_ref{})) return false;
  if (!st.c.at_end()) {
    error = {"", "unexpected text after the record"};
    return false;
  }
  return true;
}

// ------------------------------------------------------------------ canonical JSON

namespace {

bool canonical_value(cursor& c, std::string& out, int depth) {
  if (depth > 64) return false;
  char next = c.peek();
  if (next == '{') {
    c.eat('{');
    std::vector<std::pair<std::string, std::string>> members;
    if (!c.eat('}')) {
      do {
        std::string key;
        if (!c.string(key) || !c.eat(':')) return false;
        std::string v;
        if (!canonical_value(c, v, depth + 1)) return false;
        members.emplace_back(std::move(key), std::move(v));
      } while (c.eat(','));
      if (!c.eat('}')) return false;
    }
    std::sort(members.begin(), members.end());
    out.push_back('{');
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i) out.push_back(',');
      append_json_string(out, members[i].first);
      out.push_back(':');
      out += members[i].second;
    }
    out.push_back('}');
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
        if (!canonical_value(c, out, depth + 1)) return false;
      } while (c.eat(','));
      if (!c.eat(']')) return false;
    }
    out.push_back(']');
    return true;
  }
  if (next == '"') {
    std::string s;
    if (!c.string(s)) return false;
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
  std::string_view num = c.number();
  if (num.empty()) return false;
  out += num;
  return true;
}

}  // namespace

std::string canonical_json(std::string_view json) {
  cursor c(json);
  std::string out;
  if (!canonical_value(c, out, 0) || !c.at_end()) return {};
  return out;
}

}  // namespace dalil::engine
