// The handlers of the API (context.hpp): each parses its request, calls one engine or store
// operation (writes through the group-committing writer, reads on the thread's own connection),
// and renders JSON. No handler touches SQLite directly.
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "dsl/program.hpp"
#include "dsl/value.hpp"
#include "engine/decision.hpp"
#include "engine/evaluation.hpp"
#include "engine/record.hpp"
#include "engine/sha256.hpp"
#include "server/admission.hpp"
#include "server/advisers_api.hpp"
#include "server/assets.hpp"
#include "server/auth/auth.hpp"
#include "server/context.hpp"
#include "server/databases.hpp"
#include "server/evaluation_service.hpp"
#include "server/ids.hpp"
#include "server/json_input.hpp"
#include "server/publications.hpp"
#include "server/stats.hpp"
#include "server/writer.hpp"
#include "store/accounts.hpp"
#include "store/batch.hpp"
#include "store/counter_store.hpp"
#include "store/crypto.hpp"
#include "store/store.hpp"

namespace dalil::server {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;

reply problem_reply(const problem& p, std::string_view instance) {
  reply r;
  r.status = static_cast<http::status>(p.status);
  r.body = problem_json(p, instance);
  r.content_type = "application/problem+json";
  r.retry_after = p.retry_after;
  return r;
}

namespace {

constexpr std::size_t observations_limit = std::size_t{16} * 1024;
constexpr std::size_t review_items_limit = 256;
/// The rules an evaluation may name (a pack holds tens): each bad one is one error in the answer.
constexpr std::size_t rules_limit = 256;

/// `t` is a number as the record reader takes one in text: an optional minus, no leading zero,
/// at most `places` decimals (money: 2, whole centimes), digits on both sides of the point.
bool decimal_text(std::string_view t, std::size_t places) {
  std::size_t i = !t.empty() && t[0] == '-' ? 1 : 0;
  const std::size_t digits = i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  if (i == digits || (t[digits] == '0' && i - digits > 1)) return false;
  // A negative zero ("-0", "-0.00") is written without its sign.
  if (digits == 1 && t.find_first_not_of("0.", 1) == std::string_view::npos) return false;
  if (i == t.size()) return true;
  if (t[i] != '.') return false;
  const std::size_t point = ++i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  return i == t.size() && i > point && i - point <= places;
}

/// Why `v`, an official's override, is no value of a decision of type `t` (nullptr: it is
/// one). The message names the type and its cases, never the value given.
const char* value_misfit(const dsl::program& p, const dsl::type& t, const json::value& v) {
  switch (t.k) {
    case dsl::kind::boolean:
      return v.is_bool() ? nullptr : "must be true or false (the decision is a yes or no)";
    case dsl::kind::integer:
      return v.is_int64() ? nullptr : "must be an integer (the decision is a whole number)";
    case dsl::kind::decimal:
      return (v.is_string() && decimal_text(v.as_string(), 18)) || v.is_int64()
                 ? nullptr
                 : "must be an exact decimal string, as 12.5 (the decision is a number)";
    case dsl::kind::money:
      return (v.is_string() && decimal_text(v.as_string(), 2)) || v.is_int64()
                 ? nullptr
                 : "must be an amount as an exact decimal string in whole centimes, as 1250.50 "
                   "(the decision is an amount)";
    case dsl::kind::date:
      return v.is_string() && dalil::parse_date(v.as_string())
                 ? nullptr
                 : "must be a date, YYYY-MM-DD (the decision is a date)";
    case dsl::kind::text:
      return v.is_string() ? nullptr : "must be a text (the decision is a text)";
    case dsl::kind::enumeration: {
      if (t.ref < p.enums.size() && v.is_string()) {
        const auto& cases = p.enums[t.ref].cases;
        if (std::find(cases.begin(), cases.end(), v.as_string()) != cases.end()) return nullptr;
      }
      return "must be one of the decision's cases (GET /api/v1/schema lists them)";
    }
    default:
      return nullptr;  // durations, lists, records: no rule of the packs decides one
  }
}

/// `t` is the start of an ISO 8601 time in UTC as the store writes them (2026-12-01T08:00:00Z):
/// at least the year, digits where digits go.
bool iso_time_prefix(std::string_view t) {
  constexpr std::string_view shape = "0000-00-00T00:00:00Z";
  if (t.size() < 4 || t.size() > shape.size()) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (shape[i] == '0' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i]) return false;
  }
  return true;
}

reply json_reply(std::string body, http::status s = http::status::ok) {
  reply r;
  r.status = s;
  r.body = std::move(body);
  return r;
}

void append_string(std::string& out, std::string_view s) {
  engine::append_json_string(out, s);
}

/// `raw` with its %XX escapes decoded (a '%' not followed by two hexadecimal digits stays as it
/// is), and '+' read as a space where `plus_is_space` (a query's form encoding).
std::string percent_decode(std::string_view raw, bool plus_is_space) {
  std::string out;
  out.reserve(raw.size());
  auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (plus_is_space && raw[i] == '+') {
      out += ' ';
    } else if (raw[i] == '%' && i + 2 < raw.size() &&
               std::isxdigit(static_cast<unsigned char>(raw[i + 1])) != 0 &&
               std::isxdigit(static_cast<unsigned char>(raw[i + 2])) != 0) {
      out += static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
      i += 2;
    } else {
      out += raw[i];
    }
  }
  return out;
}

/// A path segment as the client meant it: an applicant's file number may hold a '/', a space or
/// Arabic letters, which reach the route percent-encoded (the page encodes with
/// encodeURIComponent).
std::string path_segment(std::string_view raw) {
  return percent_decode(raw, false);
}

/// A query parameter, percent-decoded ("+" as a space); nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    return percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1),
                          true);
  }
  return std::nullopt;
}

bool is_json_content(const request& req) {
  auto ct = req[http::field::content_type];
  std::string lower;
  for (char c : ct.substr(0, ct.find(';'))) {
    if (c != ' ' && c != '\t')
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return lower == "application/json";
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return part.substr(name.size() + 1);
    }
  }
  return {};
}

/// The session as GET /api/v1/session and the login answer it. For a browser session, its idle
/// timeout (`idle`, which every request of the session slides) and its absolute end, which the
/// page warns of (docs/identity.md, "Sessions"); null for a bearer token, which has neither.
/// "now" is the server's time by the same clock: a page whose own clock is off places the end by
/// the difference, not by its clock.
std::string session_json(const principal& who, std::chrono::seconds idle) {
  std::string out = "{\"user\":";
  append_string(out, who.name);
  out += ",\"role\":";
  append_string(out, role_name(who.r));
  out += ",\"office\":";
  if (who.office.empty()) {
    out += "null";
  } else {
    append_string(out, who.office);
  }
  out += ",\"lang\":";
  append_string(out, who.lang);
  out += ",\"csrf\":";
  append_string(out, who.csrf);
  const bool session = !who.machine && who.session_ends > 0;
  out += ",\"idle_timeout_s\":";
  out += session ? std::to_string(idle.count()) : "null";
  out += ",\"expires_at\":";
  out += session ? '"' + store::utc_text(who.session_ends) + '"' : "null";
  out += ",\"now\":";
  out += who.checked_at > 0 ? '"' + store::utc_text(who.checked_at) + '"' : "null";
  out += '}';
  return out;
}

std::string text_in(const dsl::texts& t, const std::string& lang, const std::string& fallback) {
  if (auto it = t.find(lang); it != t.end() && !it->second.empty()) return it->second;
  if (auto it = t.find("fr"); it != t.end() && !it->second.empty()) return it->second;
  return fallback;
}

void append_texts(std::string& out, const dsl::texts& t) {
  out += '{';
  bool first = true;
  for (const auto& [l, s] : t) {
    if (!first) out += ',';
    first = false;
    append_string(out, l);
    out += ':';
    append_string(out, s);
  }
  out += '}';
}

std::string_view field_type(dsl::kind k) {
  switch (k) {
    case dsl::kind::boolean:
      return "bool";
    case dsl::kind::integer:
      return "int";
    case dsl::kind::money:
      return "money";
    case dsl::kind::decimal:
      return "decimal";
    case dsl::kind::date:
      return "date";
    case dsl::kind::enumeration:
      return "enum";
    case dsl::kind::record:
      return "record";
    case dsl::kind::list:
      return "list";
    default:
      return "text";
  }
}

/// One FIELD of the schema (see the API contract).
void append_field(std::string& out, const dsl::program& p, const dsl::field_info& f,
                  const dsl::type& t, const std::string& path, const std::string& lang, int depth) {
  out += "{\"name\":";
  append_string(out, f.name);
  out += ",\"path\":";
  append_string(out, path);
  dsl::kind k = t.k;
  out += ",\"type\":\"";
  out += field_type(k);
  out += "\",\"label\":";
  append_string(out, text_in(f.title, lang, f.name));
  out += ",\"optional\":";
  out += t.optional ? "true" : "false";
  out += ",\"document\":";
  if (f.proof < p.documents.size()) {
    append_string(out, p.documents[f.proof].name);
  } else {
    out += "null";
  }
  out += ",\"constraint\":{";
  bool first = true;
  dsl::type number_type = t;
  if (k == dsl::kind::list) number_type.k = t.element;
  if (f.constraint.at_least) {
    out += "\"at_least\":";
    append_string(out, dsl::constant_text(p, dsl::constant(*f.constraint.at_least), number_type));
    first = false;
  }
  if (f.constraint.at_most) {
    if (!first) out += ',';
    out += "\"at_most\":";
    append_string(out, dsl::constant_text(p, dsl::constant(*f.constraint.at_most), number_type));
    first = false;
  }
  if (f.constraint.not_after_as_of) {
    if (!first) out += ',';
    out += "\"not_after_as_of\":true";
  }
  out += '}';
  auto cases = [&](std::uint32_t e) {
    out += ",\"cases\":[";
    const dsl::enum_info& info = p.enums[e];
    for (std::size_t i = 0; i < info.cases.size(); ++i) {
      if (i) out += ',';
      out += "{\"value\":";
      append_string(out, info.cases[i]);
      out += ",\"label\":";
      append_string(out, i < info.case_titles.size()
                             ? text_in(info.case_titles[i], lang, info.cases[i])
                             : info.cases[i]);
      out += '}';
    }
    out += ']';
  };
  auto fields = [&](std::uint32_t rec, const std::string& prefix) {
    out += ",\"fields\":[";
    const dsl::record_info& r = p.records[rec];
    for (std::size_t i = 0; i < r.fields.size(); ++i) {
      if (i) out += ',';
      append_field(out, p, r.fields[i], r.fields[i].t, prefix + r.fields[i].name, lang, depth + 1);
    }
    out += ']';
  };
  if (depth > 16) {
    out += '}';
    return;
  }
  if (k == dsl::kind::enumeration) cases(t.ref);
  if (k == dsl::kind::record) fields(t.ref, path + ".");
  if (k == dsl::kind::list) {
    out += ",\"of\":{\"type\":\"";
    out += field_type(t.element);
    out += "\"";
    if (t.element == dsl::kind::enumeration) cases(t.ref);
    if (t.element == dsl::kind::record) fields(t.ref, path + "[].");
    out += '}';
  }
  out += '}';
}

std::string schema_json(const engine::ruleset& rules, const std::string& lang) {
  const dsl::program& p = rules.program();
  std::string out = "{\"lang\":";
  append_string(out, lang);
  out += ",\"ruleset\":{\"hash\":";
  append_string(out, rules.hash());
  out += "},\"fields\":[";
  if (p.input_record < p.records.size()) {
    const dsl::record_info& r = p.records[p.input_record];
    for (std::size_t i = 0; i < r.fields.size(); ++i) {
      if (i) out += ',';
      append_field(out, p, r.fields[i], r.fields[i].t, r.fields[i].name, lang, 0);
    }
  }
  out += "],\"documents\":[";
  for (std::size_t i = 0; i < p.documents.size(); ++i) {
    if (i) out += ',';
    out += "{\"name\":";
    append_string(out, p.documents[i].name);
    out += ",\"title\":";
    append_string(out, text_in(p.documents[i].title, lang, p.documents[i].name));
    out += '}';
  }
  // The programmes and the decisions an answer holds, in words, so that a page groups the
  // answer by programme and shows an enum value by its label rather than its code.
  out += "],\"modules\":[";
  for (std::size_t i = 0; i < p.modules.size(); ++i) {
    const dsl::module_info& m = p.modules[i];
    if (i) out += ',';
    out += "{\"name\":";
    append_string(out, m.name);
    out += ",\"title\":";
    append_string(out, text_in(m.title, lang, m.name));
    out += ",\"program\":";
    if (m.program.empty()) {
      out += "null";
    } else {
      append_string(out, m.program);
    }
    out += ",\"osp\":";
    if (m.osp.empty()) {
      out += "null";
    } else {
      append_string(out, m.osp);
    }
    out += '}';
  }
  out += "],\"decisions\":[";
  bool first = true;
  for (const dsl::rule_info& r : p.rules) {
    if (r.explain.empty()) continue;
    if (!first) out += ',';
    first = false;
    out += "{\"rule\":";
    append_string(out, r.qualified);
    out += ",\"module\":";
    append_string(out, p.modules[r.module].name);
    out += ",\"title\":";
    append_string(out, text_in(r.title, lang, r.qualified));
    out += ",\"type\":\"";
    out += field_type(r.t.k);
    out += '"';
    if (r.t.k == dsl::kind::enumeration && r.t.ref < p.enums.size()) {
      const dsl::enum_info& e = p.enums[r.t.ref];
      out += ",\"cases\":[";
      for (std::size_t k = 0; k < e.cases.size(); ++k) {
        if (k) out += ',';
        out += "{\"value\":";
        append_string(out, e.cases[k]);
        out += ",\"label\":";
        append_string(out, k < e.case_titles.size() ? text_in(e.case_titles[k], lang, e.cases[k])
                                                    : e.cases[k]);
        out += '}';
      }
      out += ']';
    }
    out += '}';
  }
  out += "]}";
  return out;
}

/// Reads a strict JSON object body into members; a problem on failure.
std::optional<problem> read_object(std::string_view body, std::vector<json_member>& members,
                                   std::initializer_list<std::string_view> allowed) {
  json_syntax_error err;
  if (!split_object(body, members, err)) {
    return malformed_json("at byte " + std::to_string(err.offset) + ": " + err.message);
  }
  std::vector<field_error> errors;
  for (const json_member& m : members) {
    if (std::find(allowed.begin(), allowed.end(), m.key) == allowed.end()) {
      // The key itself is never echoed: a careless client may have put a value there.
      std::string names;
      for (std::string_view a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      errors.push_back({"", "the body has a member that is not one of: " + names});
      break;
    }
  }
  if (!errors.empty()) return bad_request("the body has an unknown member", std::move(errors));
  return std::nullopt;
}

const json_member* member(const std::vector<json_member>& ms, std::string_view key) {
  for (const json_member& m : ms) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

/// A JSON string member's value; nullopt (and an error) when it is not a string.
std::optional<std::string> string_member(const json_member& m, std::vector<field_error>& errors) {
  boost::system::error_code ec;
  json::value v = json::parse(m.raw, ec);
  if (ec || !v.is_string()) {
    errors.push_back({"/" + pointer_token(m.key), "must be a string"});
    return std::nullopt;
  }
  return std::string(v.as_string());
}

/// Boost.JSON's memory for values that are secrets: every block zeroed before it is freed.
/// Plain operator new, as Boost.JSON's default resource does: its blocks never need more than
/// the default alignment, and it does not always free a block with the alignment it asked for
/// (AddressSanitizer saw a string allocated default-aligned and freed as 16-byte aligned).
class wiping_resource final : public json::memory_resource {
  void* do_allocate(std::size_t bytes, std::size_t /*alignment*/) override {
    return ::operator new(bytes);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t /*alignment*/) override {
    sodium_memzero(p, bytes);
    ::operator delete(p);
  }
  [[nodiscard]] bool do_is_equal(const memory_resource& other) const noexcept override {
    return this == &other;
  }
};

/// Storage for JSON values that hold secrets or an applicant's words (a password, a review's
/// reasons and observations): zeroed when freed.
json::storage_ptr secret_storage() {
  static wiping_resource wiping;
  return json::storage_ptr(&wiping);
}

/// A JSON string member that is a secret (a password) or personal (observations), unescaped
/// into `out`, which the caller wipes (store::crypto::wipe); no other copy is left unzeroed.
/// False (and an error) when it is not a string.
bool secret_member(const json_member& m, std::string& out, std::vector<field_error>& errors) {
  boost::system::error_code ec;
  json::value v = json::parse(m.raw, ec, secret_storage());
  if (ec || !v.is_string()) {
    errors.push_back({"/" + pointer_token(m.key), "must be a string"});
    return false;
  }
  const json::string& text = v.as_string();
  out.reserve(text.size());  // one buffer: no copy left behind by a growth
  out.assign(text.data(), text.size());
  return true;
}

/// Zeroes a thread's record (engine::record::wipe) at once with now(), or on the way out: the
/// record is reused by the thread's next request, and its values are an applicant's.
struct record_wipe {
  explicit record_wipe(engine::record& record) : r(record) {}
  engine::record& r;
  bool done = false;
  void now() {
    if (!done) r.wipe();
    done = true;
  }
  record_wipe(const record_wipe&) = delete;
  record_wipe& operator=(const record_wipe&) = delete;
  ~record_wipe() { now(); }
};

/// Zeroes a string (store::crypto::wipe) on the way out.
struct text_wipe {
  explicit text_wipe(std::string& text) : s(text) {}
  std::string& s;
  text_wipe(const text_wipe&) = delete;
  text_wipe& operator=(const text_wipe&) = delete;
  ~text_wipe() { store::crypto::wipe(s); }
};

/// `v` serialized into `out` (emptied first) without a copy left behind: reserved for `hint`
/// bytes and more (the text `v` was parsed from: the serialized form is never much longer),
/// written through a buffer that is zeroed after.
void serialize_into(const json::array& v, std::size_t hint, std::string& out) {
  out.clear();
  out.reserve(2 * hint + 64);
  json::serializer sr;
  sr.reset(&v);
  std::array<char, 1024> buf{};
  while (!sr.done()) out.append(sr.read(buf.data(), buf.size()));
  sodium_memzero(buf.data(), buf.size());
}

struct ruleset_cache {
  std::mutex mutex;
  std::list<std::shared_ptr<const engine::ruleset>> rulesets;  // most recent first, at most 4
};

class api_service final : public service {
 public:
  api_service(const config& c, std::shared_ptr<spdlog::logger> log)
      : cfg_(c), log_(std::move(log)), eval_(c.rules, c.instance_cache) {}

  store::status init() {
    auto db = open_database(cfg_.db);
    if (!db) return db.error();
    if (cfg_.rules) {
      if (auto s = (*db)->put_ruleset(cfg_.rules->hash(), cfg_.canonical_source); !s) {
        return store::fail(s.error().code, "storing the ruleset: " + s.error().message);
      }
      choice_ = std::make_unique<ruleset_choice>(cfg_.rules);
    } else {
      // No --rules: the store's publications, the one in effect on each as-of date.
      auto c = ruleset_choice::published(cfg_.db, cfg_.publication_poll);
      if (!c) return c.error();
      choice_ = std::move(*c);
    }
    auth_options ao;
    ao.session_idle = cfg_.session_idle;
    ao.session_absolute = cfg_.session_absolute;
#ifdef DALIL_TEST_HOOKS
    // Tests only: DALIL_TEST_CLOCK_OFFSET=SECONDS shifts the wall clock the authenticator reads,
    // as a server whose clock is wrong reads it (tests/pg/skew_test.sh);
    // DALIL_TEST_STATS_CLOCK_OFFSET=SECONDS the clock that releases the counter's monthly
    // figures (the store's), so that this month's can be read (the browser and shell tests'
    // figures).
    for (const char* name : {"DALIL_TEST_CLOCK_OFFSET", "DALIL_TEST_STATS_CLOCK_OFFSET"}) {
      const char* v = std::getenv(name);
      if (v == nullptr) continue;
      std::int64_t offset = 0;
      const std::string_view text(v);
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), offset);
      if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
        return store::fail(store::errc::refused,
                           std::string(name) +
                               " (a test hook) must be a whole number of seconds, such as "
                               "-172800");
      }
      const bool stats = std::string_view(name) == "DALIL_TEST_STATS_CLOCK_OFFSET";
      if (stats) {
        stats_shift_ = std::chrono::seconds(offset);
      } else {
        ao.clock = [offset] {
          return std::chrono::system_clock::now() + std::chrono::seconds(offset);
        };
      }
      log_->warn("test hook: {} is shifted by {} s ({})",
                 stats ? "the statistics' clock" : "this server's wall clock", offset, name);
    }
#endif
    auto a = authenticator::open(cfg_.db, ao);
    if (!a) return a.error();
    auth_ = std::move(*a);
    // An encrypted store (docs/operations.md): every connection holds the master key, seals
    // the records it stores and opens those it reads; refused without it.
    const store::crypto::master_key* key = cfg_.master_key ? &*cfg_.master_key : nullptr;
    auto w = store::counter_store::open(cfg_.db, key, cfg_.key_file);
    if (!w) return w.error();
    if ((*w)->encrypted() && key == nullptr) {
      // A PostgreSQL store is named, never its connection string (it may hold a password).
      return store::fail(store::errc::refused,
                         (is_postgresql(cfg_.db) ? std::string("the PostgreSQL store") : cfg_.db) +
                             " is encrypted: dalil serve needs its master key, to seal the "
                             "records it stores and open those it reads: --key-file FILE (mode "
                             "0600, e.g. a systemd credential: --key-file "
                             "${CREDENTIALS_DIRECTORY}/master.key) or " +
                             std::string(store::crypto::master_key_variable));
    }
    // The writer commits on the requests' path: its WAL checkpoints (two syncs and 16 MiB of
    // copies every 1,000 frames) go to a thread of their own (store/wal_checkpointer.hpp).
    if (auto c = (*w)->checkpoint_in_background(); !c) return c.error();
    writer_ = std::make_unique<writer>(std::move(*w));
    for (unsigned t = 0; t < std::max(1U, cfg_.threads); ++t) {
      auto r = store::counter_store::open(cfg_.db, key, cfg_.key_file);
      if (!r) return r.error();
      readers_.push_back(std::move(*r));
    }
    if (cfg_.rules) {
      for (const char* l : {"fr", "ar", "en"}) schemas_[l] = schema_json(*cfg_.rules, l);
    }
    advisers_ = std::make_unique<advisers_api>(cfg_, log_, *choice_, *writer_);
    return {};
  }

  void stopping() override {
    if (advisers_) advisers_->halt();
  }

  void stop() override {
    // The pools first, while the I/O contexts exist: a pool's job hands its end to the context
    // of the request that waits for it, and its thread lets go of that context's executor only
    // after; a context destroyed meanwhile was a crash at shutdown (a login finishing on the
    // pool while the server stopped). Their jobs may still submit to the writer: it stops last.
    login_pool_.join();
    reports_pool_.join();
    verify_pool_.join();
    if (advisers_) advisers_->stop();
    if (!writer_) return;
    writer_->stop();
    log_->info("writer: {}", writer_->summary());
  }

  asio::awaitable<reply> handle(request& req, const route_match& m, request_info& info) override {
    try {
      co_return co_await dispatch(req, m, info);
    } catch (const std::exception& e) {
      // A bug, not the client's doing: logged without any request data.
      log_->error("handler failed on {}: {}", m.r ? m.r->pattern : "-", e.what());
      co_return problem_reply(server_error("the server failed; the request was not stored"));
    }
  }

 private:
  asio::awaitable<reply> dispatch(request& req, const route_match& m, request_info& info) {
    if (!m.r) {
      if (m.path_known) {
        reply r = problem_reply(method_not_allowed("this path does not take this method"));
        r.allow = m.allow;
        co_return r;
      }
      co_return problem_reply(not_found());
    }
    const route& rt = *m.r;
    std::optional<principal> who;
    auto authz = req[http::field::authorization];
    if (authz.size() > 7 && boost::beast::iequals(authz.substr(0, 7), "Bearer ")) {
      auto p = auth_->from_bearer(authz.substr(7));
      if (!p && token_expired(p.error())) {
        co_return problem_reply(
            expired_token("the bearer token has expired: its client needs a new one"), rt.pattern);
      }
      if (!p && p.error().code != store::errc::refused) {
        // The store could not say (busy, unreachable, its clock unread, the token's row
        // damaged): a 401 would tell the client to drop a token that may be good. As on the
        // cookie's path, a public route is answered without a principal.
        log_->error("a bearer token could not be checked: {}", p.error().message);
        if (!rt.is_public) {
          co_return problem_reply(
              unavailable("the bearer token could not be checked (the store is busy, "
                          "unreachable or damaged): try again, or tell the administrator"),
              rt.pattern);
        }
      } else if (!p) {
        co_return problem_reply(unauthorized("the bearer token is not valid (unknown or revoked)"),
                                rt.pattern);
      } else {
        who = std::move(*p);
      }
    } else if (auto c = cookie_value(req[http::field::cookie], "__Host-dalil"); !c.empty()) {
      auto p = auth_->from_cookie(c);
      if (p) {
        who = std::move(*p);
      } else if (!rt.is_public && p.error().code != store::errc::refused) {
        // The store could not say (busy, unreachable, its clock unread): the session is kept.
        co_return problem_reply(
            unavailable("the session could not be checked (the store is busy or unreachable): "
                        "try again"),
            rt.pattern);
      } else if (!rt.is_public) {
        reply r = problem_reply(unauthorized("the session has expired or ended: sign in again"),
                                rt.pattern);
        r.set_cookie = "__Host-dalil=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0";
        co_return r;
      }
    }
    if (who) info.who_name = who->name;
    if (!rt.is_public) {
      if (!who) co_return problem_reply(unauthorized(), rt.pattern);
      unsigned bit = 1U << static_cast<unsigned>(who->r);
      if ((rt.roles & bit) == 0) {
        co_return problem_reply(
            forbidden("the role " + std::string(role_name(who->r)) + " may not use this route"),
            rt.pattern);
      }
      if (rt.session_only && who->machine) {
        co_return problem_reply(forbidden("this route is for browser sessions"), rt.pattern);
      }
      bool unsafe = rt.method != http::verb::get;
      if (unsafe && !who->machine && !authenticator::csrf_ok(*who, req["X-CSRF-Token"])) {
        co_return problem_reply(
            csrf_refused("the X-CSRF-Token header is missing or does not match the session"),
            rt.pattern);
      }
    }
    bool takes_body = rt.id == route_id::login || rt.id == route_id::evaluate ||
                      rt.id == route_id::review || rt.id == route_id::session_lang ||
                      rt.id == route_id::diff || rt.id == route_id::impact ||
                      rt.id == route_id::whatif;
    if (takes_body && !is_json_content(req)) {
      co_return problem_reply(unsupported_media_type("send the body as application/json"),
                              rt.pattern);
    }
    switch (rt.id) {
      case route_id::root: {
        const asset* a = find_asset("index.html");
        if (!a) co_return problem_reply(not_found("the page is not built into this server"));
        reply r = json_reply(std::string(a->body()));
        r.content_type = a->content_type;
        co_return r;
      }
      case route_id::asset: {
        const asset* a = find_asset(m.params[0]);
        if (!a) co_return problem_reply(not_found("no such asset"));
        reply r = json_reply(std::string(a->body()));
        r.content_type = a->content_type;
        co_return r;
      }
      case route_id::healthz:
        co_return json_reply("{\"status\":\"ok\"}");
      case route_id::openapi: {
        auto doc = openapi_assets();
        if (doc.empty()) co_return problem_reply(not_found("no OpenAPI document"));
        co_return json_reply(std::string(doc[0].body()));
      }
      case route_id::login: {
        // Argon2id takes ~50-100 ms and 64 MiB: on a small pool of its own, never on the I/O
        // thread, whose other connections would wait behind it.
        co_return co_await asio::co_spawn(
            login_pool_,
            [this, &req, &info]() -> asio::awaitable<reply> { co_return login(req, info); },
            asio::use_awaitable);
      }
      case route_id::logout: {
        if (auto s = auth_->logout(*who); !s) {
          co_return problem_reply(
              unavailable("the session could not be ended: " + s.error().message));
        }
        reply r;
        r.status = http::status::no_content;
        r.set_cookie = "__Host-dalil=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0";
        co_return r;
      }
      case route_id::session:
        co_return json_reply(session_json(*who, auth_->options().session_idle));
      case route_id::session_lang:
        co_return set_lang(req, *who);
      case route_id::schema: {
        std::string lang = query_param(info.query, "lang").value_or(who->lang);
        if (lang != "fr" && lang != "ar" && lang != "en") {
          co_return problem_reply(bad_request("lang must be fr, ar or en"), rt.pattern);
        }
        // The pack that decided an answer (its ruleset's hash: its override values and titles
        // are that pack's), or the pack in effect on a date, today by default.
        auto hash = query_param(info.query, "ruleset");
        auto text = query_param(info.query, "as_of");
        if (hash && text) {
          co_return problem_reply(bad_request("give ruleset or as_of, not both"), rt.pattern);
        }
        if (hash) co_return schema_of_ruleset(lang, std::string(*hash), rt.pattern);
        std::optional<dalil::date> on = text ? dalil::parse_date(*text) : engine::utc_today();
        if (!on)
          co_return problem_reply(bad_request("as_of must be a date (YYYY-MM-DD)"), rt.pattern);
        co_return schema(lang, *on, rt.pattern);
      }
      case route_id::evaluate:
        co_return co_await evaluate(req, *who, info);
      case route_id::decision:
        co_return co_await read_decision(std::string(m.params[0]), *who, info);
      case route_id::review:
        co_return co_await post_review(req, std::string(m.params[0]), *who, info);
      case route_id::applicant_decisions:
        co_return co_await applicant_decisions(path_segment(m.params[0]), *who, info);
      case route_id::applicant_record:
        co_return co_await applicant_record(path_segment(m.params[0]), *who, info);
      case route_id::reviews:
        co_return co_await list_reviews(*who, info);
      case route_id::rules:
        co_return rules(info);
      case route_id::stats:
        co_return co_await stats(info);
      case route_id::audit_verify:
        co_return co_await audit_verify(info);
      case route_id::publications:
      case route_id::diff:
      case route_id::impact:
      case route_id::whatif:
        co_return co_await advisers_->handle(rt.id, req, *who, info);
    }
    co_return problem_reply(not_found());
  }

  reply login(request& req, request_info& info) {
    std::vector<json_member> ms;
    if (auto p = read_object(req.body(), ms, {"user", "password"})) return problem_reply(*p);
    std::vector<field_error> errors;
    std::optional<std::string> user;
    std::string password;
    text_wipe wipe_password{password};  // on every way out, as the request's body is
    if (const json_member* u = member(ms, "user"))
      user = string_member(*u, errors);
    else
      errors.push_back({"/user", "is required"});
    if (const json_member* pw = member(ms, "password"))
      secret_member(*pw, password, errors);
    else
      errors.push_back({"/password", "is required"});
    if (!errors.empty()) return problem_reply(bad_request("the login is incomplete", errors));
    const std::string device_name = device_cookie_name(*user);
    auto ok = auth_->login(*user, password, info.address,
                           cookie_value(req[http::field::cookie], device_name));
    if (!ok) {
      const store::error& e = ok.error();
      if (e.code == store::errc::busy) {
        auto wait = retry_after_seconds(e).value_or(60);
        return problem_reply(too_many_requests("too many failed sign-ins: wait before trying again",
                                               static_cast<int>(wait)));
      }
      if (e.code == store::errc::refused && e.message == admin_refusal) {
        // Said only once the password matched: it tells nothing to someone guessing.
        return problem_reply(forbidden("administrators act from the command line only"));
      }
      if (e.code == store::errc::refused) {
        return problem_reply(unauthorized("the user name or the password is wrong"));
      }
      // The store's words can name the account (a damaged role, a locked row): logged (an
      // official's account name, as the access lines of signed-in requests carry), not
      // answered.
      log_->error("signing in failed: {}", e.message);
      return problem_reply(
          unavailable("signing in failed (the store is busy, unreachable or "
                      "damaged): try again, or tell the administrator"));
    }
    info.who_name = ok->who.name;
    reply r = json_reply(session_json(ok->who, auth_->options().session_idle));
    r.set_cookie =
        "__Host-dalil=" + ok->cookie_value + "; Path=/; HttpOnly; Secure; SameSite=Strict";
    if (!ok->device_cookie.empty()) {
      // Sent back to the login only (docs/identity.md, "Known devices").
      r.device_cookie = device_name + "=" + ok->device_cookie + "; Path=/api/v1/login; Max-Age=" +
                        std::to_string(auth_->options().device_lifetime.count()) +
                        "; HttpOnly; Secure; SameSite=Strict";
    }
    return r;
  }

  reply set_lang(request& req, const principal& who) {
    std::vector<json_member> ms;
    if (auto p = read_object(req.body(), ms, {"lang"})) return problem_reply(*p);
    std::vector<field_error> errors;
    const json_member* l = member(ms, "lang");
    std::optional<std::string> lang;
    if (l) lang = string_member(*l, errors);
    if (!l || (lang && *lang != "fr" && *lang != "ar" && *lang != "en")) {
      errors.push_back({"/lang", "must be fr, ar or en"});
    }
    if (!errors.empty()) return problem_reply(bad_request("the language is not valid", errors));
    if (auto s = auth_->set_lang(who, *lang); !s) {
      if (s.error().code == store::errc::refused)
        return problem_reply(forbidden(s.error().message));
      log_->error("the language could not be stored: {}", s.error().message);
      return problem_reply(
          unavailable("the language could not be stored (the store is busy or unreachable): try "
                      "again"));
    }
    reply r;
    r.status = http::status::no_content;
    return r;
  }

  /// Writes `job` through the group-committing writer; resumes once it is committed.
  asio::awaitable<void> write(const std::shared_ptr<write_job>& job) {
    co_await writer_->async_write(job, asio::use_awaitable);
  }

  asio::awaitable<store::status> audit_read(const principal& who, std::string subject,
                                            std::string purpose) {
    auto job = std::make_shared<write_job>();
    job->what = write_job::kind::audit;
    job->actor = who.name;
    job->action = "read";
    job->subject = std::move(subject);
    job->details = "{\"purpose\":\"" + purpose + "\"}";
    co_await write(job);
    co_return job->result;
  }

  store::counter_store& reader(const request_info& info) {
    return *readers_[info.thread % readers_.size()];
  }

  /// The ruleset for `as_of` (the --rules pack, or the publication in effect then), or the
  /// problem to answer: no-ruleset (409) when no publication is in effect on that date.
  store::result<chosen_ruleset> choose(dalil::date as_of, std::optional<problem>& p) {
    auto c = choice_->for_date(as_of);
    if (!c) {
      if (c.error().code == store::errc::not_found) {
        p = no_ruleset(c.error().message + ": publish a rule pack for it (dalil publish)");
      } else {
        log_->error("the ruleset in effect cannot be loaded: {}", c.error().message);
        p = server_error("the ruleset in effect cannot be loaded");
      }
    }
    return c;
  }

  /// The record's schema for forms: of the --rules pack, or of the publication in effect on
  /// `as_of`.
  reply schema(const std::string& lang, dalil::date as_of, std::string_view route) {
    if (!choice_->published_mode()) return json_reply(schemas_.at(lang));
    std::optional<problem> p;
    auto c = choose(as_of, p);
    if (!c) return problem_reply(*p, route);
    return cached_schema(*c->rules, lang);
  }

  /// The schema of `rules` in `lang`, kept by the ruleset's hash and the language.
  reply cached_schema(const engine::ruleset& rules, const std::string& lang) {
    std::string key = rules.hash() + "/" + lang;
    std::lock_guard lock(schema_cache_mutex_);
    if (auto it = schema_cache_.find(key); it != schema_cache_.end()) {
      return json_reply(it->second);
    }
    if (schema_cache_.size() >= 24) schema_cache_.clear();  // bounded: 8 rulesets × 3 languages
    return json_reply(schema_cache_[key] = schema_json(rules, lang));
  }

  /// The record's schema of a ruleset the store holds (or the --rules pack), by its hash: the
  /// one an answer names as the pack that decided it. A hash the store does not hold is 404.
  reply schema_of_ruleset(const std::string& lang, const std::string& hash,
                          std::string_view route) {
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return problem_reply(bad_request("ruleset must be a ruleset's hash (64 hexadecimal digits)"),
                           route);
    }
    const auto rules = ruleset_for(hash);  // kept compiled: found again without the store
    if (!rules) {
      if (rules.error().code == store::errc::not_found) {
        return problem_reply(not_found("the store holds no ruleset of that hash"), route);
      }
      log_->error("the schema of ruleset {} cannot be given: {}", hash.substr(0, 12),
                  rules.error().message);
      return problem_reply(server_error("the ruleset cannot be rebuilt"), route);
    }
    return cached_schema(**rules, lang);
  }

  /// A ruleset the store holds (or the --rules pack, or a publication kept compiled), by its
  /// hash, compiled once and kept (the 4 most recent). errc::not_found when the store has no
  /// ruleset of the hash; errc::damaged when its source no longer compiles. The lock is held for
  /// the cache only, never while the store is read or a source compiled.
  store::result<std::shared_ptr<const engine::ruleset>> ruleset_for(const std::string& hash) {
    if (auto kept = choice_->cached(hash)) return kept;
    // The most recent first; holds the cache's lock.
    auto find_kept = [&]() -> std::shared_ptr<const engine::ruleset> {
      for (auto it = rulesets_.rulesets.begin(); it != rulesets_.rulesets.end(); ++it) {
        if ((*it)->hash() == hash) {
          rulesets_.rulesets.splice(rulesets_.rulesets.begin(), rulesets_.rulesets, it);
          return rulesets_.rulesets.front();
        }
      }
      return nullptr;
    };
    {
      std::lock_guard lock(rulesets_.mutex);
      if (auto hit = find_kept()) return hit;
    }
    auto db = open_database(cfg_.db);
    if (!db) return db.error();
    auto source = (*db)->ruleset_source(hash);
    if (!source) return source.error();
    std::string why;
    auto rules = store::stored_ruleset(hash, *source, why);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    // The rendering's summary line ("1 error, 2 warnings"), not the diagnostics, which quote
    // the rule source at length.
    const std::string summary = why.substr(why.rfind('\n') + 1);
    if (!rules) {
      return store::fail(store::errc::damaged, "the stored ruleset " + hash.substr(0, 12) +
                                                   " no longer compiles: " + summary);
    }
    if (!why.empty()) {
      // Its warnings, checks added since it decided among them (which would refuse it in a new
      // pack; its decisions keep the meaning they had).
      log_->warn(
          "the stored ruleset {} was read as when it decided: {} (some may be checks added "
          "since; dalil check on its source lists them)",
          hash.substr(0, 12), summary);
    }
    std::lock_guard lock(rulesets_.mutex);
    if (auto hit = find_kept()) return hit;  // compiled meanwhile by another request
    rulesets_.rulesets.push_front(rules);
    while (rulesets_.rulesets.size() > 4) rulesets_.rulesets.pop_back();
    return rules;
  }

  asio::awaitable<reply> evaluate(request& req, const principal& who, request_info& info) {
    std::vector<json_member> ms;
    if (auto p = read_object(req.body(), ms, {"as_of", "applicant", "rules", "lang", "trace"})) {
      co_return problem_reply(*p, "/api/v1/evaluate");
    }
    std::vector<field_error> errors;
    std::optional<dalil::date> as_of;
    if (const json_member* a = member(ms, "as_of")) {
      if (auto s = string_member(*a, errors)) {
        as_of = dalil::parse_date(*s);
        if (!as_of) errors.push_back({"/as_of", "must be a date (YYYY-MM-DD)"});
      }
    } else {
      errors.push_back({"/as_of", "is required (the date of the decision, YYYY-MM-DD)"});
    }
    std::vector<std::string> names;
    if (const json_member* r = member(ms, "rules")) {
      boost::system::error_code ec;
      json::value v = json::parse(r->raw, ec);
      if (ec || !v.is_array()) {
        errors.push_back({"/rules", "must be an array of rule names (module.name)"});
      } else if (v.as_array().size() > rules_limit) {
        // One error, not one per item: a 1 MiB array of numbers made a 38 MB answer.
        errors.push_back(
            {"/rules", "names at most " + std::to_string(rules_limit) + " rules (a pack's rules)"});
      } else {
        // A rule named twice is refused: each is answered once (repeated, a small request
        // would make a large answer and stored decision).
        std::unordered_map<std::string_view, std::size_t> first;
        for (std::size_t i = 0; i < v.as_array().size(); ++i) {
          const json::value& n = v.as_array()[i];
          if (!n.is_string()) {
            errors.push_back({"/rules/" + std::to_string(i), "must be a rule name (module.name)"});
          } else if (auto [at, fresh] = first.try_emplace(n.as_string(), i); !fresh) {
            errors.push_back({"/rules/" + std::to_string(i),
                              "names the same rule as /rules/" + std::to_string(at->second)});
          } else {
            names.emplace_back(n.as_string());
          }
        }
      }
    }
    std::optional<engine::lang> lang;  // explanations in this language alone
    if (const json_member* l = member(ms, "lang")) {
      if (auto s = string_member(*l, errors)) {
        lang = engine::parse_lang(*s);
        if (!lang) errors.push_back({"/lang", "must be fr, ar or en"});
      }
    }
    bool trace = true;
    if (const json_member* t = member(ms, "trace")) {
      if (t->raw == "true" || t->raw == "false") {
        trace = t->raw == "true";
      } else {
        errors.push_back({"/trace", "must be true or false"});
      }
    }
    const json_member* applicant = member(ms, "applicant");
    if (!applicant) errors.push_back({"/applicant", "is required (the applicant's record)"});
    // The --rules pack, or the publication in effect on the as-of date (never a guess).
    chosen_ruleset in_effect;
    if (errors.empty()) {
      std::optional<problem> none;
      auto c = choose(*as_of, none);
      if (!c) co_return problem_reply(*none, "/api/v1/evaluate");
      in_effect = std::move(*c);
    }
    const std::shared_ptr<const engine::ruleset>& rules = in_effect.rules;
    std::vector<std::uint32_t> chosen;
    if (errors.empty()) {
      std::string unknown;
      auto picked = engine::chosen_rules(rules->program(), names, false, unknown);
      if (!picked) {
        for (std::size_t i = 0; i < names.size(); ++i) {
          if (names[i] == unknown) {
            errors.push_back(
                {"/rules/" + std::to_string(i), "no rule of that name (write module.name)"});
          }
        }
      } else {
        chosen = std::move(*picked);
      }
    }
    if (!errors.empty()) {
      co_return problem_reply(bad_request("the request is not valid", std::move(errors)),
                              "/api/v1/evaluate");
    }
    auto inst = eval_.instance(rules, *as_of);
    evaluation_service::thread_state& ts = eval_.local(rules);
    record_wipe wipe_record{ts.record};
    ts.reader->set_as_of(*as_of);
    ts.reader->set_intake(true);  // a record entering the store
    engine::record_error rerr;
    if (!ts.reader->read(applicant->raw, ts.record, rerr)) {
      // Where and why, never the value.
      co_return problem_reply(
          bad_request("the applicant's record does not fit the schema",
                      {{field_pointer("/applicant", rerr.field), rerr.message}}),
          "/api/v1/evaluate");
    }
    std::string applicant_id(ts.record.id());
    text_wipe wipe_id{applicant_id};
    if (const char* why = engine::id_problem(applicant_id)) {
      co_return problem_reply(
          bad_request(applicant_id.empty() ? "the applicant's record has no id"
                                           : "the applicant's id cannot be stored",
                      {{"/applicant/id", why}}),
          "/api/v1/evaluate");
    }
    engine::evaluator& ev = eval_.evaluator_for(ts, inst);
    ev.set_record(ts.record);
    auto job = std::make_shared<write_job>();
    job->what = write_job::kind::decision;
    store::counter_decision& d = job->decision;
    d.record_json = engine::canonical_json(applicant->raw);
    d.input_hash = engine::sha256_hex(d.record_json);
    std::string body;
    body.reserve(trace ? 96 * 1024 : 48 * 1024);
    engine::evaluation_options eo;
    eo.with_trace = trace;
    eo.only = lang;
    eo.compact_decisions = &d.outcomes;  // what is stored and digested: outcomes, no wording
    d.outcomes.reserve(chosen.size() * 160);
    engine::append_evaluation_json(body, ev, d.input_hash, chosen, eo);
    d.as_of = dalil::to_string(*as_of);
    d.ruleset_hash = rules->hash();
    d.publication_id = in_effect.publication;  // 0 with --rules
    d.answer_digest = engine::sha256_hex(decision_compact_form(d));
    const dsl::program& p = rules->program();
    d.rules = "[";
    d.rules.reserve(chosen.size() * 40);
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      if (i) d.rules += ',';
      append_string(d.rules, p.rules[chosen[i]].qualified);
    }
    d.rules += ']';
    // Which outcomes an encrypted store keeps in plain: by the rules' declared types.
    d.plain_values = store::plain_value_mask(p, chosen);
    d.decision_id = decision_id(std::chrono::system_clock::now());
    d.applicant_id = applicant_id;
    text_wipe wipe_decision_id{d.applicant_id};
    d.office = who.office;
    d.actor = who.name;
    d.trace = trace;
    wipe_record.now();  // rendered: the values are no longer needed
    co_await write(job);
    // The record and the whole outcomes are sealed (or were refused): not kept in memory.
    store::crypto::wipe(d.record_json);
    store::crypto::wipe(d.outcomes);
    if (!job->result) {
      log_->error("a counter decision could not be stored: {}", job->result.error().message);
      co_return problem_reply(unavailable("the decision could not be stored, so it is not given; "
                                          "try again"),
                              "/api/v1/evaluate");
    }
    body.pop_back();
    body += ",\"decision_id\":\"" + d.decision_id + "\",\"applicant\":";
    append_string(body, d.applicant_id);
    body += ",\"office\":";
    append_string(body, d.office);
    append_publication(body, d.publication_id);
    body += '}';
    reply r = json_reply(std::move(body));
    r.decision_id = d.decision_id;
    (void)info;
    co_return r;
  }

  /// `,"publication":ID` (null when the --rules pack decided).
  static void append_publication(std::string& out, std::int64_t id) {
    out += ",\"publication\":";
    out += id != 0 ? std::to_string(id) : std::string("null");
  }

  /// An upper bound of what append_review_json adds for `v` (escaping a byte takes at most 6):
  /// reserved first, so that no growth leaves a copy of the official's words behind.
  static std::size_t review_json_bound(const store::review& v) {
    return 256 +
           6 * (v.review_id.size() + v.decision_id.size() + v.supersedes.size() + v.at.size() +
                v.user.size() + v.observations.size()) +
           v.decisions.size();
  }

  static void append_review_json(std::string& out, const store::review& v,
                                 const std::string* office = nullptr) {
    out += "{\"review_id\":";
    append_string(out, v.review_id);
    out += ",\"decision_id\":";
    append_string(out, v.decision_id);
    out += ",\"supersedes\":";
    if (v.supersedes.empty()) {
      out += "null";
    } else {
      append_string(out, v.supersedes);
    }
    out += ",\"at\":";
    append_string(out, v.at);
    out += ",\"user\":";
    append_string(out, v.user);
    out += ",\"decisions\":";
    out += v.decisions;
    out += ",\"observations\":";
    append_string(out, v.observations);
    // An erased applicant's review (encrypted store): its sealed part, what the official wrote
    // and the observations, can never be read again; the rules and outcomes remain.
    if (v.erased) out += ",\"erased\":true";
    if (office) {
      out += ",\"office\":";
      append_string(out, *office);
    }
    out += '}';
  }

  static store::review& review_of(store::review& r) {
    return r;
  }
  static store::review& review_of(store::review_row& row) {
    return row.r;
  }

  /// Zeroes the official's words in `reviews` (their decisions, reasons and observations, of
  /// reviews or of the auditors' review rows) on every way out.
  template <class Review>
  struct reviews_wipe {
    explicit reviews_wipe(std::vector<Review>& r) : reviews(r) {}
    std::vector<Review>& reviews;
    reviews_wipe(const reviews_wipe&) = delete;
    reviews_wipe& operator=(const reviews_wipe&) = delete;
    ~reviews_wipe() {
      for (Review& v : reviews) {
        store::crypto::wipe(review_of(v).decisions);
        store::crypto::wipe(review_of(v).observations);
      }
    }
  };

  /// The office whose decisions and records a principal reads: an official's own; "" (every
  /// office) for an auditor. Anyone else, or an official without an office (the CLI refuses to
  /// make one), reads nothing: nullopt (deny by default, whatever the router lets through).
  static std::optional<std::string> office_scope(const principal& who) {
    if (who.r == role::auditor) return std::string();
    if (who.r != role::official || who.office.empty()) return std::nullopt;
    return who.office;
  }

  /// The decision as the official may see it: not found, or of another office (the same answer,
  /// so that ids of other offices do not leak).
  store::result<store::counter_decision> visible_decision(const std::string& id,
                                                          const principal& who,
                                                          const request_info& info) {
    // An official's read names the office: another office's decision is not found, and its
    // sealed record is not even opened (its damage would tell that it exists).
    const auto office = office_scope(who);
    if (!office) return store::fail(store::errc::not_found, "no decision " + id);
    return reader(info).decision(id, *office);
  }

  /// Why a stored counter decision does not vouch for its regenerated answer (nullptr: it
  /// does). `outcomes` are the regenerated compact decisions. Decisions stored before the
  /// compact form (their outcomes name no missing facts) kept the digest of the whole answer in
  /// three languages: they are checked that way, so old stores read as before.
  static const char* replay_damage(const store::counter_decision& d, const std::string& outcomes,
                                   engine::evaluator& ev, const engine::record& rec,
                                   const std::vector<std::uint32_t>& rules) {
    if (ev.rules().hash() != d.ruleset_hash) {
      return "the stored ruleset does not match its hash";
    }
    if (engine::sha256_hex(d.record_json) != d.input_hash) {
      return "the stored record does not match its input hash";
    }
    const bool legacy = d.outcomes.find("\"missing\":") == std::string::npos;
    if (legacy) {
      std::string whole;
      ev.set_record(rec);  // afresh: a trace lists the rules evaluated until its decision
      engine::append_evaluation_json(whole, ev, d.input_hash, rules, d.trace);
      return engine::sha256_hex(whole) == d.answer_digest
                 ? nullptr
                 : "the stored decision does not replay to the answer given";
    }
    if (d.sealed) {
      // An encrypted store keeps the values of outcomes its rules' types do not keep in plain
      // sealed (store::plain_outcomes): the regenerated outcomes must give the plain ones stored
      // (sealed where they say "sealed": decisions of an older dalil read as stored), and the
      // answer digest, which covers the whole outcomes.
      if (store::plain_outcomes(outcomes, store::outcome_mask_of(d.outcomes)) != d.outcomes) {
        return "the stored record does not replay to the outcomes given";
      }
      store::counter_decision whole = d;
      whole.outcomes = outcomes;
      if (engine::sha256_hex(decision_compact_form(whole)) != d.answer_digest) {
        return "the stored outcomes do not match their digest";
      }
      return nullptr;
    }
    if (engine::sha256_hex(decision_compact_form(d)) != d.answer_digest) {
      return "the stored outcomes do not match their digest";
    }
    if (outcomes != d.outcomes) return "the stored record does not replay to the outcomes given";
    return nullptr;
  }

  asio::awaitable<reply> read_decision(std::string id, const principal& who, request_info& info) {
    const char* route = "/api/v1/decisions/{id}";
    std::optional<engine::lang> lang;
    if (auto l = query_param(info.query, "lang")) {
      lang = engine::parse_lang(*l);
      if (!lang) {
        co_return problem_reply(bad_request("the query parameter lang must be fr, ar or en"),
                                route);
      }
    }
    auto d = visible_decision(id, who, info);
    if (!d) {
      if (d.error().code == store::errc::not_found)
        co_return problem_reply(not_found("no decision with this id"), route);
      if (d.error().code == store::errc::damaged) {
        log_->error("decision {} is damaged: {}", id, d.error().message);
        problem p = server_error(
            "the stored decision's sealed record does not open; nothing is answered from it "
            "(run audit verify)");
        p.slug = "damaged";
        p.title = "The stored decision is damaged";
        co_return problem_reply(p, route);
      }
      log_->error("decision {} cannot be read: {}", id, d.error().message);
      co_return problem_reply(unavailable("reading the decision failed"), route);
    }
    if (d->erased) {
      co_return problem_reply(
          erased("the applicant of this decision was erased (Law 09-08 art. 8): their record can "
                 "no longer be read, so the decision cannot be shown; it still counts in the "
                 "figures"),
          route);
    }
    auto found = ruleset_for(d->ruleset_hash);
    auto as_of = dalil::parse_date(d->as_of);
    if (!found || !as_of) {
      log_->error("decision {} cannot be replayed: {}", id,
                  found ? "its as-of date does not read" : found.error().message);
      co_return problem_reply(server_error("the decision's ruleset cannot be rebuilt"), route);
    }
    const std::shared_ptr<const engine::ruleset> rules = std::move(*found);
    // The answer is regenerated from the stored record (evaluation is deterministic) and its
    // outcomes checked against the stored compact form, whose digest the audit chain keeps: a
    // changed record, ruleset or outcome shows here as damage, never as a different answer;
    // a change of wording (explanations, titles) changes nothing that is checked.
    std::vector<std::string> names;
    {
      boost::system::error_code ec;
      json::value v = json::parse(d->rules, ec);
      if (!ec && v.is_array()) {
        for (const auto& n : v.as_array()) {
          if (n.is_string()) names.emplace_back(n.as_string());
        }
      }
    }
    std::string unknown;
    auto chosen = engine::chosen_rules(rules->program(), names, false, unknown);
    auto inst = eval_.instance(rules, *as_of);
    evaluation_service::thread_state& ts = eval_.local(rules);
    record_wipe wipe_record{ts.record};
    ts.reader->set_as_of(*as_of);
    ts.reader->set_intake(false);  // as it was stored, whatever the checks added since
    engine::record_error rerr;
    if (!chosen || !ts.reader->read(d->record_json, ts.record, rerr)) {
      co_return problem_reply(server_error("the stored record no longer reads under its ruleset"),
                              route);
    }
    engine::evaluator& ev = eval_.evaluator_for(ts, inst);
    ev.set_record(ts.record);
    text_wipe wipe_stored_record{d->record_json};
    std::string body;
    body.reserve(d->trace ? 96 * 1024 : 48 * 1024);  // the answer: no growth leaves a copy
    // The record's own id (the store names the applicant by pseudonym when encrypted), taken
    // now: the thread's record is another request's after the audited read below.
    std::string applicant_shown = d->sealed ? std::string(ts.record.id()) : d->applicant_id;
    text_wipe wipe_shown{applicant_shown};
    std::string outcomes;
    engine::evaluation_options eo;
    eo.with_trace = d->trace;
    eo.only = lang;
    eo.compact_decisions = &outcomes;
    engine::append_evaluation_json(body, ev, d->input_hash, *chosen, eo);
    if (const char* damage = replay_damage(*d, outcomes, ev, ts.record, *chosen)) {
      log_->error("decision {} is damaged: {}", id, damage);
      problem p = server_error(std::string("the stored decision is damaged: ") + damage +
                               "; nothing is answered from it (run audit verify)");
      p.slug = "damaged";
      p.title = "The stored decision is damaged";
      co_return problem_reply(p, route);
    }
    wipe_record.now();
    auto reviews = reader(info).reviews(id);
    if (!reviews) co_return problem_reply(unavailable("reading the reviews failed"), route);
    reviews_wipe wipe_reviews{*reviews};
    if (auto s = co_await audit_read(who, "decision " + id, "decision"); !s) {
      co_return problem_reply(unavailable("the read could not be audited, so it is refused"),
                              route);
    }
    body.pop_back();
    body += ",\"decision_id\":";
    append_string(body, d->decision_id);
    body += ",\"applicant\":";
    append_string(body, applicant_shown);
    body += ",\"office\":";
    append_string(body, d->office);
    body += ",\"at\":";
    append_string(body, d->at);
    append_publication(body, d->publication_id);
    std::size_t bound = body.size() + 16;
    for (const store::review& v : *reviews) bound += review_json_bound(v) + 1;
    body.reserve(bound);
    body += ",\"reviews\":[";
    for (std::size_t i = 0; i < reviews->size(); ++i) {
      if (i) body += ',';
      append_review_json(body, (*reviews)[i]);
    }
    body += "]}";
    reply r = json_reply(std::move(body));
    r.decision_id = id;
    co_return r;
  }

  asio::awaitable<reply> post_review(request& req, std::string id, const principal& who,
                                     request_info& info) {
    const char* route = "/api/v1/decisions/{id}/review";
    std::vector<json_member> ms;
    if (auto p = read_object(req.body(), ms, {"supersedes", "decisions", "observations"})) {
      co_return problem_reply(*p, route);
    }
    auto d = visible_decision(id, who, info);
    if (!d) {
      if (d.error().code == store::errc::not_found)
        co_return problem_reply(not_found("no decision with this id"), route);
      co_return problem_reply(unavailable("reading the decision failed"), route);
    }
    if (d->erased) {
      co_return problem_reply(
          erased("the applicant of this decision was erased (Law 09-08 art. 8): it can no "
                 "longer be reviewed"),
          route);
    }
    std::set<std::string> decided;
    {
      boost::system::error_code ec;
      json::value v = json::parse(d->rules, ec);
      if (!ec && v.is_array()) {
        for (const auto& n : v.as_array()) {
          if (n.is_string()) decided.emplace(n.as_string());
        }
      }
    }
    // The pack that decided: an override must be a value of its decision's type, and the
    // documents its documents.
    auto found = ruleset_for(d->ruleset_hash);
    if (!found) {
      log_->error("decision {} cannot be reviewed: {}", id, found.error().message);
      co_return problem_reply(server_error("the decision's ruleset cannot be rebuilt"), route);
    }
    const std::shared_ptr<const engine::ruleset> rules = std::move(*found);
    const dsl::program& pack = rules->program();
    std::vector<field_error> errors;
    auto job = std::make_shared<write_job>();
    job->what = write_job::kind::review;
    store::review& rv = job->review;
    // The official's reasons and the applicant's observations: every copy zeroed (the JSON
    // values through secret_storage, these on the way out), as the record's are.
    text_wipe wipe_decisions{rv.decisions};
    text_wipe wipe_observations{rv.observations};
    if (const json_member* s = member(ms, "supersedes")) {
      if (s->raw != "null") {
        if (auto v = string_member(*s, errors)) {
          if (v->empty()) {
            errors.push_back(
                {"/supersedes", "must be the latest review's id, or null for the first"});
          }
          rv.supersedes = *v;
        }
      }
    } else {
      errors.push_back(
          {"/supersedes", "is required: the latest review's id, or null for the first"});
    }
    if (const json_member* o = member(ms, "observations")) {
      if (secret_member(*o, rv.observations, errors) &&
          rv.observations.size() > observations_limit) {
        errors.push_back({"/observations", "is longer than 16384 bytes"});
      }
    }
    json::array out(secret_storage());
    const json_member* ds = member(ms, "decisions");
    if (!ds) {
      errors.push_back({"/decisions", "is required: the official's decision per program"});
    } else {
      boost::system::error_code ec;
      json::value v = json::parse(ds->raw, ec, secret_storage());
      if (ec || !v.is_array() || v.as_array().empty() || v.as_array().size() > review_items_limit) {
        errors.push_back({"/decisions", "must be a non-empty array of decisions"});
      } else {
        std::set<std::string> seen;
        for (std::size_t i = 0; i < v.as_array().size(); ++i) {
          std::string at = "/decisions/" + std::to_string(i);
          const json::value& item = v.as_array()[i];
          if (!item.is_object()) {
            errors.push_back({at, "must be an object {rule, outcome, …}"});
            continue;
          }
          const json::object& o = item.as_object();
          json::object clean(secret_storage());
          bool unknown_member = false;
          for (const auto& kv : o) {
            std::string_view k = kv.key();
            if (k != "rule" && k != "outcome" && k != "value" && k != "reason" &&
                k != "documents") {
              unknown_member = true;
            }
          }
          if (unknown_member) {
            errors.push_back(
                {at, "has a member that is not one of: rule, outcome, value, reason, documents"});
          }
          const json::value* rule = o.if_contains("rule");
          if (!rule || !rule->is_string()) {
            errors.push_back({at + "/rule", "must be a rule name (module.name)"});
          } else if (!decided.count(std::string(rule->as_string()))) {
            errors.push_back({at + "/rule", "is not a decision of this evaluation"});
          } else if (!seen.insert(std::string(rule->as_string())).second) {
            errors.push_back({at + "/rule", "is decided twice in this review"});
          } else {
            clean["rule"] = *rule;
          }
          const json::value* outcome = o.if_contains("outcome");
          bool overridden = false;
          if (!outcome || !outcome->is_string() ||
              (outcome->as_string() != "accepted" && outcome->as_string() != "overridden")) {
            errors.push_back({at + "/outcome", "must be accepted or overridden"});
          } else {
            overridden = outcome->as_string() == "overridden";
            clean["outcome"] = *outcome;
          }
          if (const json::value* value = o.if_contains("value")) {
            if (!overridden) {
              errors.push_back({at + "/value", "is only given with an override"});
            } else if (!(value->is_bool() || value->is_string() || value->is_int64() ||
                         value->is_uint64() || value->is_null())) {
              errors.push_back({at + "/value",
                                "must be true, false, null, an integer or a string "
                                "(money and decimals as exact decimal strings)"});
            } else if (const auto idx = rule && rule->is_string()
                                            ? pack.find_rule(rule->as_string())
                                            : std::nullopt;
                       idx && !value->is_null()) {
              if (const char* misfit = value_misfit(pack, pack.rules[*idx].t, *value)) {
                errors.push_back({at + "/value", misfit});
              } else {
                clean["value"] = *value;
              }
            } else {
              clean["value"] = *value;
            }
          } else if (overridden) {
            errors.push_back({at + "/value", "is required with an override: the official's value"});
          }
          const json::value* reason = o.if_contains("reason");
          if (reason && (!reason->is_string() || reason->as_string().size() > 4096)) {
            errors.push_back({at + "/reason", "must be a text of at most 4096 bytes"});
          } else if (overridden && (!reason || reason->as_string().empty())) {
            errors.push_back({at + "/reason", "is required with an override"});
          } else if (reason) {
            clean["reason"] = *reason;
          }
          if (const json::value* docs = o.if_contains("documents")) {
            bool ok = docs->is_array() && docs->as_array().size() <= 64;
            if (ok) {
              for (const auto& x : docs->as_array())
                ok = ok && x.is_string() && x.as_string().size() <= 256;
            }
            if (!ok) {
              errors.push_back({at + "/documents", "must be an array of document names"});
            } else {
              clean["documents"] = *docs;
            }
          }
          out.push_back(std::move(clean));
        }
      }
    }
    if (!errors.empty()) {
      co_return problem_reply(bad_request("the review is not valid", std::move(errors)), route);
    }
    rv.review_id = random_id();
    rv.decision_id = id;
    rv.user = who.name;
    serialize_into(out, ds->raw.size(), rv.decisions);
    co_await write(job);
    if (!job->result) {
      const store::error& e = job->result.error();
      if (e.code == store::errc::conflict) {
        co_return problem_reply(conflict(e.message + " (read the decision again)"), route);
      }
      if (e.code == store::errc::not_found)
        co_return problem_reply(not_found("no decision with this id"), route);
      log_->error("a review could not be stored: {}", e.message);
      co_return problem_reply(unavailable("the review could not be stored; try again"), route);
    }
    std::string answer;
    answer.reserve(review_json_bound(rv));
    append_review_json(answer, rv);
    reply r = json_reply(std::move(answer), http::status::created);
    r.location = "/api/v1/decisions/" + id;
    r.decision_id = id;
    co_return r;
  }

  asio::awaitable<reply> applicant_decisions(std::string applicant, const principal& who,
                                             request_info& info) {
    const char* route = "/api/v1/applicants/{id}/decisions";
    text_wipe wipe_id(applicant);  // the applicant's own id (from the path)
    const auto office = office_scope(who);
    if (!office) co_return problem_reply(not_found("no decision for this applicant"), route);
    auto list = reader(info).applicant_decisions(applicant, *office);
    if (!list) co_return problem_reply(unavailable("reading the decisions failed"), route);
    if (list->empty()) co_return problem_reply(not_found("no decision for this applicant"), route);
    // The audit entry names the applicant as the store does (the pseudonym when encrypted).
    auto key = reader(info).applicant_key(applicant);
    if (!key) co_return problem_reply(unavailable("reading the decisions failed"), route);
    if (auto s = co_await audit_read(who, "applicant " + *key, "history"); !s) {
      co_return problem_reply(unavailable("the read could not be audited, so it is refused"),
                              route);
    }
    // Reserved to its largest size first (a JSON string is at most 6 bytes a byte, quoted):
    // growing, the answer would free a buffer holding the applicant's id without zeroing it.
    std::size_t bound = 32 + 6 * applicant.size();
    for (const store::decision_summary& s : *list) {
      bound += 128 + 6 * (s.decision_id.size() + s.as_of.size() + s.at.size() + s.office.size() +
                          s.ruleset_hash.size());
    }
    std::string out;
    out.reserve(bound);
    out += "{\"applicant\":";
    append_string(out, applicant);
    out += ",\"decisions\":[";
    for (std::size_t i = 0; i < list->size(); ++i) {
      const store::decision_summary& s = (*list)[i];
      if (i) out += ',';
      out += "{\"decision_id\":";
      append_string(out, s.decision_id);
      out += ",\"as_of\":";
      append_string(out, s.as_of);
      out += ",\"at\":";
      append_string(out, s.at);
      out += ",\"office\":";
      append_string(out, s.office);
      out += ",\"ruleset\":";
      append_string(out, s.ruleset_hash);
      out += ",\"reviewed\":";
      out += s.reviewed ? "true" : "false";
      out += '}';
    }
    out += "]}";
    co_return json_reply(std::move(out));
  }

  asio::awaitable<reply> applicant_record(std::string applicant, const principal& who,
                                          request_info& info) {
    const char* route = "/api/v1/applicants/{id}/record";
    text_wipe wipe_id(applicant);  // the applicant's own id (from the path)
    // An official: the record of their office's latest decision for the applicant, never a
    // later version another office stored; not found when the office has decided nothing for
    // them (the same answer as for an applicant not stored at all).
    const auto office = office_scope(who);
    if (!office) co_return problem_reply(not_found("no record for this applicant"), route);
    auto rec = reader(info).latest_record(applicant, *office);
    if (!rec) {
      if (rec.error().code == store::errc::not_found)
        co_return problem_reply(not_found("no record for this applicant"), route);
      co_return problem_reply(unavailable("reading the record failed"), route);
    }
    if (auto s = co_await audit_read(who, "applicant " + rec->applicant_id, "record"); !s) {
      co_return problem_reply(unavailable("the read could not be audited, so it is refused"),
                              route);
    }
    co_return json_reply(std::move(rec->json));
  }

  /// The officials' reviews, for auditors: they hold the officials' reasons and the applicants'
  /// own observations, so the read is audited (`read` of `reviews` with the filter asked for)
  /// before the answer leaves, as every read of a decision is.
  asio::awaitable<reply> list_reviews(const principal& who, request_info& info) {
    const char* route = "/api/v1/reviews";
    store::review_filter f;
    f.office = query_param(info.query, "office").value_or("");
    f.user = query_param(info.query, "user").value_or("");
    f.since = query_param(info.query, "since").value_or("");
    f.until = query_param(info.query, "until").value_or("");
    // Each is written into the read's audit entry: only what it can be, never free text.
    for (const auto& [name, value] :
         {std::pair<const char*, const std::string*>{"office", &f.office}, {"user", &f.user}}) {
      if (!value->empty() && !store::valid_account_name(*value)) {
        co_return problem_reply(
            bad_request(std::string(name) + " must be a name as dalil gives them (A-Z a-z 0-9 . "
                                            "_ - @, 64 at most)"),
            route);
      }
    }
    for (const auto& [name, value] :
         {std::pair<const char*, const std::string*>{"since", &f.since}, {"until", &f.until}}) {
      if (!value->empty() && !iso_time_prefix(*value)) {
        co_return problem_reply(
            bad_request(std::string(name) +
                        " must be a date or a time in UTC, or its start (2026-12-01, "
                        "2026-12-01T08:00:00Z)"),
            route);
      }
    }
    if (auto l = query_param(info.query, "limit")) {
      std::int64_t n = 0;
      bool ok = !l->empty() && l->size() <= 4 &&
                std::all_of(l->begin(), l->end(), [](char c) { return c >= '0' && c <= '9'; });
      if (ok) n = std::stoll(*l);
      if (!ok || n < 1 || n > 1000) {
        co_return problem_reply(bad_request("limit must be a whole number from 1 to 1000"), route);
      }
      f.limit = n;
    }
    auto rows = reader(info).list_reviews(f);
    if (!rows) co_return problem_reply(unavailable("reading the reviews failed"), route);
    reviews_wipe wipe_rows{*rows};  // the officials' words and the applicants' observations
    // The subject names what was read: the filter (offices, officials' names and dates: no
    // applicant's value) and how many reviews it returned.
    std::string subject = "reviews";
    const std::array<std::pair<const char*, const std::string*>, 4> asked = {
        {{"office", &f.office}, {"user", &f.user}, {"since", &f.since}, {"until", &f.until}}};
    for (const auto& [name, value] : asked) {
      if (!value->empty()) subject += std::string(" ") + name + "=" + *value;
    }
    subject += " (" + std::to_string(rows->size()) + ")";
    if (auto s = co_await audit_read(who, std::move(subject), "reviews"); !s) {
      co_return problem_reply(unavailable("the read could not be audited, so it is refused"),
                              route);
    }
    std::size_t bound = 16;
    for (const auto& row : *rows) bound += review_json_bound(row.r) + 6 * row.office.size() + 16;
    std::string out;
    out.reserve(bound);  // no growth leaves a copy of the officials' words
    out += "{\"reviews\":[";
    for (std::size_t i = 0; i < rows->size(); ++i) {
      if (i) out += ',';
      append_review_json(out, (*rows)[i].r, &(*rows)[i].office);
    }
    out += "]}";
    co_return json_reply(std::move(out));
  }

  reply rules(request_info& info) {
    const char* route = "/api/v1/rules";
    auto text = query_param(info.query, "as_of");
    std::optional<dalil::date> as_of = text ? dalil::parse_date(*text) : engine::utc_today();
    if (!as_of) return problem_reply(bad_request("as_of must be a date (YYYY-MM-DD)"), route);
    std::optional<problem> none;
    auto in_effect = choose(*as_of, none);
    if (!in_effect) return problem_reply(*none, route);
    const std::shared_ptr<const engine::ruleset>& rules = in_effect->rules;
    auto inst = eval_.instance(rules, *as_of);
    const dsl::program& p = rules->program();
    std::string out = "{\"as_of\":\"" + dalil::to_string(*as_of) + "\",\"ruleset\":{\"hash\":";
    append_string(out, rules->hash());
    out += "},\"modules\":[";
    for (std::uint32_t mi = 0; mi < p.modules.size(); ++mi) {
      const dsl::module_info& m = p.modules[mi];
      if (mi) out += ',';
      out += "{\"name\":";
      append_string(out, m.name);
      out += ",\"title\":";
      append_texts(out, m.title);
      out += ",\"program\":";
      append_string(out, m.program);
      out += ",\"osp\":";
      append_string(out, m.osp);
      out += ",\"source\":";
      append_string(out, m.source);
      out += ",\"rules\":[";
      bool first = true;
      for (std::uint32_t r = 0; r < p.rules.size(); ++r) {
        const dsl::rule_info& ri = p.rules[r];
        if (ri.module != mi) continue;
        if (!first) out += ',';
        first = false;
        out += "{\"name\":";
        append_string(out, ri.qualified);
        out += ",\"title\":";
        append_texts(out, ri.title);
        out += ",\"source\":";
        append_string(out, ri.source);
        out += ",\"in_force\":";
        out += inst->in_force[r] ? "true" : "false";
        out += ",\"from\":";
        if (ri.in_force_from) {
          append_string(out, dalil::to_string(*ri.in_force_from));
        } else {
          out += "null";
        }
        out += ",\"until\":";
        if (ri.in_force_until) {
          append_string(out, dalil::to_string(*ri.in_force_until));
        } else {
          out += "null";
        }
        // Each date of the period: settled, or provisional (its source not found).
        out += ",\"from_confidence\":";
        out += !ri.in_force_from ? "null" : ri.from_provisional ? "\"provisional\"" : "\"settled\"";
        out += ",\"until_confidence\":";
        out += !ri.in_force_until     ? "null"
               : ri.until_provisional ? "\"provisional\""
                                      : "\"settled\"";
        out += ",\"confidence\":";
        out += ri.own_provisional ? "\"provisional\"" : "\"settled\"";
        out += ",\"decision\":";
        out += ri.explain.empty() ? "false" : "true";
        out += '}';
      }
      out += "],\"parameters\":[";
      first = true;
      for (std::uint32_t pi = 0; pi < p.parameters.size(); ++pi) {
        const dsl::parameter_info& pa = p.parameters[pi];
        if (pa.module != mi) continue;
        if (!first) out += ',';
        first = false;
        out += "{\"name\":";
        append_string(out, pa.qualified);
        out += ",\"source\":";
        append_string(out, pa.source);
        out += ",\"confidence\":";
        out += pa.provisional ? "\"provisional\"" : "\"settled\"";
        out += ",\"value\":";
        engine::append_value_json(out, p, pa.t, inst->parameters[pi].v);
        out += ",\"from\":";
        if (inst->parameters[pi].from) {
          append_string(out, dalil::to_string(*inst->parameters[pi].from));
        } else {
          out += "null";
        }
        out += ",\"values\":[";
        for (std::size_t k = 0; k < pa.values.size(); ++k) {
          if (k) out += ',';
          out += "{\"from\":";
          append_string(out, dalil::to_string(pa.values[k].from));
          out += ",\"value\":";
          engine::append_value_json(out, p, pa.t, engine::to_value(pa.values[k].value));
          out += '}';
        }
        out += "]}";
      }
      out += "]}";
    }
    out += "]}";
    return json_reply(std::move(out));
  }

  /// A cell of the statistics: {"count": n, "suppressed": false}, or a null count and
  /// "suppressed": true when hidden (stats.hpp: suppress); a hidden cell's value is null unless
  /// the rule's values are a closed set (`closed`, stats.hpp: values_closed).
  static void append_cell(std::string& out, std::int64_t n, bool hidden,
                          std::string_view value = {}, bool closed = false) {
    out += '{';
    if (!value.empty()) {
      out += "\"value\":";
      out += hidden && !closed ? std::string_view("null") : value;
      out += ',';
    }
    out += "\"count\":";
    out += hidden ? std::string("null") : std::to_string(n);
    out += hidden ? ",\"suppressed\":true}" : ",\"suppressed\":false}";
  }

  /// The counter's figures of one released month (stats.hpp: release_delay; `?month=YYYY-MM`,
  /// the latest released by default), then the stored runs'. Both are read on the reports pool
  /// (a month's first count reads every decision of it; a large run's first read takes a while).
  asio::awaitable<reply> stats(request_info& info) {
    const char* route = "/api/v1/stats";
    const auto now = release_clock();
    if (!now) {
      co_return problem_reply(
          unavailable("the store's clock could not be read: no month can be said released"), route);
    }
    const stats_month last = last_released(*now);
    stats_month month = last;
    if (auto text = query_param(info.query, "month")) {
      auto m = parse_month(*text);
      if (!m) {
        co_return problem_reply(
            bad_request("month must be a calendar month (YYYY-MM) from 2000-01"), route);
      }
      if (*m > last) {
        co_return problem_reply(
            not_found("the counter's figures of a month are released a day after it ends: the "
                      "latest released is " +
                      to_string(last)),
            route);
      }
      month = *m;
    }
    struct figures {
      store::result<std::optional<stats_month>> first = std::optional<stats_month>();
      store::result<std::shared_ptr<const month_counts>> counts =
          std::shared_ptr<const month_counts>();
      store::result<std::string> runs = std::string();
    };
    auto got = co_await asio::co_spawn(
        reports_pool_,
        [this, month]() -> asio::awaitable<figures> {
          figures f;
          f.first = counters_.first_month();
          if (f.first) f.counts = counters_.counts(month);
          if (f.first && f.counts) f.runs = runs_.current_runs_json();
          co_return f;
        },
        asio::use_awaitable);
    if (!got.first || !got.counts) {
      log_->error("stats: the counter's decisions could not be counted: {}",
                  (got.first ? got.counts.error() : got.first.error()).message);
      co_return problem_reply(unavailable("counting the decisions failed"), route);
    }
    if (!got.runs) {
      log_->error("stats: the stored runs could not be counted: {}", got.runs.error().message);
      co_return problem_reply(unavailable("counting the stored runs failed"), route);
    }
    std::string out = counter_stats(month, **got.counts);
    out.pop_back();  // the counter's closing brace
    // The released months, from the first counter decision's (none before it).
    out += ",\"months\":[";
    if (*got.first) {
      bool comma = false;
      for (stats_month m = **got.first; m <= last; m = next_month(m)) {
        if (comma) out += ',';
        comma = true;
        append_string(out, to_string(m));
      }
    }
    out += "],\"runs\":" + *got.runs + '}';
    co_return json_reply(std::move(out));
  }

  std::string counter_stats(const stats_month& month, const month_counts& counts) {
    const std::vector<store::counter_cell>& cells = counts.cells;
    const std::vector<store::override_cell>& overrides = counts.overrides;
    // Programmes and OSPs by the ruleset in effect today (none yet: named by the rule alone).
    std::optional<problem> none;
    auto today = choose(engine::utc_today(), none);
    auto module_of = [&](const std::string& rule) -> const dsl::module_info* {
      if (!today) return nullptr;
      std::string m = rule.substr(0, rule.find('.'));
      for (const auto& mi : today->rules->program().modules) {
        if (mi.name == m) return &mi;
      }
      return nullptr;
    };
    const store::time_span span = span_of(month);
    std::string out = "{\"period\":{\"month\":";
    append_string(out, to_string(month));
    out += ",\"from\":";
    append_string(out, span.from);
    out += ",\"until\":";
    append_string(out, span.until);
    out += "},\"counter_decisions\":";
    out += counts.total < suppressed_below ? std::string("null") : std::to_string(counts.total);
    out += ",\"suppressed_below\":" + std::to_string(suppressed_below) + ",\"decisions\":[";
    // Cells grouped by decision: in force (each value, undetermined) apart from out of force;
    // together they add up to the counter decisions that hold the rule, so small cells are
    // suppressed with a complementary cell (stats.hpp).
    std::size_t i = 0;
    bool first_rule = true;
    while (i < cells.size()) {
      const std::string rule = cells[i].rule;
      if (!first_rule) out += ',';
      first_rule = false;
      out += "{\"decision\":";
      append_string(out, rule);
      const dsl::module_info* mi = module_of(rule);
      const dsl::rule_info* ri = nullptr;
      if (today) {
        const dsl::program& program = today->rules->program();
        if (auto r = program.find_rule(rule)) ri = &program.rules[*r];
      }
      out += ",\"program\":";
      append_string(out, mi ? mi->program : std::string());
      out += ",\"osp\":";
      append_string(out, mi ? mi->osp : std::string());
      std::vector<const store::counter_cell*> values;
      std::int64_t undetermined = 0;
      std::int64_t out_of_force = 0;
      for (; i < cells.size() && cells[i].rule == rule; ++i) {
        const store::counter_cell& c = cells[i];
        if (!c.in_force) {
          out_of_force += c.count;
        } else if (c.status == "undetermined") {
          undetermined += c.count;
        } else {
          values.push_back(&c);
        }
      }
      std::vector<std::int64_t> counts;
      counts.reserve(values.size() + 2);
      for (const auto* c : values) counts.push_back(c->count);
      counts.push_back(undetermined);
      counts.push_back(out_of_force);
      std::vector<bool> hidden = suppress(counts, true);
      out += ",\"in_force\":{\"values\":[";
      for (std::size_t k = 0; k < values.size(); ++k) {
        if (k) out += ',';
        append_cell(out, values[k]->count, hidden[k], values[k]->value,
                    today && closed_value(today->rules->program(), ri, values[k]->value));
      }
      out += "],\"undetermined\":";
      append_cell(out, undetermined, hidden[values.size()]);
      out += "},\"out_of_force\":";
      append_cell(out, out_of_force, hidden[values.size() + 1]);
      out += '}';
    }
    out += "],\"overrides\":[";
    for (std::size_t k = 0; k < overrides.size(); ++k) {
      const store::override_cell& c = overrides[k];
      if (k) out += ',';
      out += "{\"decision\":";
      append_string(out, c.rule);
      // Reviewed is overridden plus accepted (accepted, their difference, is never shown):
      // overridden and accepted are suppressed as a partition, so that a small accepted count
      // is not reviewed minus overridden (12 and 11 would say 1).
      const std::vector<bool> parts = suppress({c.overridden, c.reviewed - c.overridden}, true);
      bool reviewed_hidden = c.reviewed < suppressed_below;
      bool overridden_hidden =
          reviewed_hidden || c.overridden < suppressed_below || parts[0] || parts[1];
      out += ",\"reviewed\":";
      append_cell(out, c.reviewed, reviewed_hidden);
      out += ",\"overridden\":";
      append_cell(out, c.overridden, overridden_hidden);
      out += ",\"rate\":";
      if (overridden_hidden) {
        out += "null";
      } else {
        // An exact decimal with four places, rounded half up: no binary floating point.
        std::int64_t scaled = (c.overridden * 20000 / c.reviewed + 1) / 2;
        std::string digits = std::to_string(scaled);
        while (digits.size() < 5) digits.insert(0, "0");
        out += "\"" + digits.substr(0, digits.size() - 4) + "." + digits.substr(digits.size() - 4) +
               "\"";
      }
      out += '}';
    }
    out += "]}";
    return out;
  }

  asio::awaitable<reply> audit_verify(request_info& info) {
    const char* route = "/api/v1/audit/verify";
    // The store's verify checks the file, the chain, and every row (the identity tables and the
    // counter's decisions and reviews through its row checkers): on a large store, a long while.
    // It runs on a thread of its own (on an I/O thread every connection of that thread would
    // wait for it; on the statistics' thread the figures would), one at a time, with one more
    // waiting at most: past that a 503, so that a stop never waits for a queue of them.
    admission slot(verifies_, max_verifies);
    if (!slot.admitted()) {
      co_return problem_reply(
          unavailable("an audit verification is under way: ask again once it has answered", 10),
          route);
    }
    // The store not opened, or its verification: apart (nothing captured by reference: a
    // coroutine's locals are not for another thread's lambda).
    struct verified {
      bool opened = true;
      store::result<store::verify_report> report = store::verify_report{};
    };
    verified v = co_await asio::co_spawn(
        verify_pool_,
        [this]() -> asio::awaitable<verified> {
          verified out;
          auto db = open_database(cfg_.db);
          if (!db) {
            out.opened = false;
            out.report = db.error();
            co_return out;
          }
          out.report = (*db)->verify({});
          co_return out;
        },
        asio::use_awaitable);
    if (!v.opened) {
      log_->error("audit verify: the store could not be opened: {}", v.report.error().message);
      co_return problem_reply(unavailable("opening the store failed"), route);
    }
    const store::result<store::verify_report>& report = v.report;
    if (!report) {
      co_return problem_reply(unavailable("verifying failed: " + report.error().message), route);
    }
    (void)info;
    std::optional<store::audit_problem> problem;
    if (!report->problems.empty()) problem = report->problems.front();
    std::string out = "{\"ok\":";
    out += problem ? "false" : "true";
    out += ",\"problem\":";
    if (problem) {
      out += "{\"seq\":" + std::to_string(problem->seq) + ",\"what\":";
      append_string(out, problem->what);
      out += '}';
    } else {
      out += "null";
    }
    out += '}';
    co_return json_reply(std::move(out));
  }

  config cfg_;
  std::shared_ptr<spdlog::logger> log_;
  evaluation_service eval_;
  std::unique_ptr<authenticator> auth_;
  std::unique_ptr<writer> writer_;
  std::vector<std::unique_ptr<store::counter_store>> readers_;
  std::map<std::string, std::string> schemas_;  // with --rules: the pack's, per language
  std::unique_ptr<ruleset_choice> choice_;      // the ruleset per as-of date
  std::unique_ptr<advisers_api> advisers_;      // publications, diff, impact
  std::mutex schema_cache_mutex_;
  std::map<std::string, std::string> schema_cache_;  // publications: hash/lang -> schema
  ruleset_cache rulesets_;
  asio::thread_pool login_pool_{2};
  run_figures runs_{cfg_.db};
  counter_figures counters_{cfg_.db};
  /// The DALIL_TEST_STATS_CLOCK_OFFSET test hook's shift of the clock that releases months.
  std::chrono::seconds stats_shift_{0};

  /// Now by the clock that decides which months of the counter's figures are released:
  /// config::stats_clock when set (tests), else the store's clock (the authenticator's reading
  /// of it: PostgreSQL's, shared by every server, so that a server whose own clock runs ahead
  /// releases no month early, and keeps no month's figures before it ends), shifted by the test
  /// hook. nullopt while the store's time is not known.
  std::optional<std::chrono::system_clock::time_point> release_clock() {
    if (cfg_.stats_clock) return cfg_.stats_clock() + stats_shift_;
    auto now = auth_->store_now();
    if (!now) return std::nullopt;
    return *now + stats_shift_;
  }
  asio::thread_pool reports_pool_{1};     // the figures, off the I/O threads
  asio::thread_pool verify_pool_{1};      // audit verification (a whole store's read), apart
  static constexpr int max_verifies = 2;  // one running, one waiting
  std::atomic<int> verifies_{0};
};

}  // namespace

store::result<std::unique_ptr<service>> service::open(const config& c,
                                                      std::shared_ptr<spdlog::logger> log) {
  auto s = std::make_unique<api_service>(c, std::move(log));
  if (auto st = s->init(); !st) return st.error();
  return std::unique_ptr<service>(std::move(s));
}

const asset* find_asset(std::string_view path) {
  for (const asset& a : www_assets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

}  // namespace dalil::server
