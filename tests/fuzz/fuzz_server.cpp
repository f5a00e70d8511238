// Fuzz target: the bytes of one HTTP connection to the server, answered by its real connection
// layer (Beast's request parser with the server's limits, the route table), its identity checks
// and its handlers (server/fuzz_entry.hpp), against a store made once per process and served the
// way `dalil serve --db` serves it (no --rules): two publications (the SNIA pack from 1901-01-01,
// the same pack with a new SMIG from 2027-01-01), a small cohort of stored records on which the
// second flips three decisions, an official (office rabat), an adviser and an auditor with bearer
// tokens, a user signed in for a browser session, and one decision to read and review. The
// advisers' diff (the solver) and impact (a read of the cohort) are slow beside the other routes:
// the cohort is kept small (27 records) and the corpus has few of their requests, so that
// fuzzing stays fast while reaching them.
//
// The input may name the session's secrets, which no fuzzer could guess: "@SESSION@" becomes the
// session cookie's value, "@CSRF@" its CSRF token, "@DECISION@" the stored decision's id. The
// bearer tokens are fixed (tests/fuzz/dicts/server.dict has them).
//
// Properties beyond "no crash, no hang, no leak":
// - every response is well-formed HTTP/1.1 that reads back as written (one message, its status,
//   its body, no header split by a value), with the headers every response carries;
// - its status is one the OpenAPI document gives for the operation (connection-level answers to
//   requests that reach no operation: 400, 404, 405, 413, 431);
// - an error is problem+json: type, title, the same status, detail, and field errors if any;
//   a JSON answer is valid JSON and valid UTF-8;
// - no error response and no log line holds a text value of the request's body (checked the
//   record target's way: a suspect value is reshaped and the input answered again; a
//   FIELD=VALUE text also with its value alone reshaped).
#include <algorithm>
#include <array>
#include <boost/beast/http/parser.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "engine/record.hpp"
#include "server/assets.hpp"
#include "server/auth/credentials.hpp"
#include "server/fuzz_entry.hpp"
#include "store/accounts.hpp"
#include "store/batch.hpp"
#include "store/publications.hpp"
#include "store/store.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace dalil;
using fuzz::violated;
namespace fs = std::filesystem;
namespace http = boost::beast::http;
namespace json = boost::json;

// The machine clients' bearer tokens: "dalil_" and 43 base64url characters, as new_token() makes.
constexpr std::string_view official_token = "dalil_fuzzofficialrabat00000000000000000000000000";
constexpr std::string_view adviser_token = "dalil_fuzzadviser00000000000000000000000000000000";
constexpr std::string_view auditor_token = "dalil_fuzzauditor00000000000000000000000000000000";
// A user the fuzzer may sign in as (the dictionary has the password), and the session's user,
// whose name is in no input (so that failed sign-ins cannot lock the session out).
constexpr std::string_view agent_user = "agent.rabat";
constexpr std::string_view agent_password = "fuzz-pass-phrase-2026";
constexpr std::string_view session_user = "session.holder.k7";
constexpr std::string_view session_password = "session-pass-phrase-7391";
constexpr std::string_view sample_record =
    R"({"id":"SYN-000001","sex":"female","birth_date":"1989-01-28","nationality":"CM",)"
    R"("status":"regular","residence_card":{"kind":"immatriculation","expires":"2022-08-20"},)"
    R"("entry_date":"1996-09-19","resident_since":"1996-09-19","born_in_morocco":false,)"
    R"("application_date":"2013-03-25","child_of_qualifying_spouse":false,)"
    R"("unaccompanied_minor":false,"work_contract":{"months":23},"professional_activity":false,)"
    R"("serious_illness":false,"regularized_in":null,"job_category":"artist_or_athlete",)"
    R"("household":{"size":8,"annual_income":"14421.03","area":"urban",)"
    R"("commune_poverty_rate":"8.2","socioeconomic_score":"11.65","rsu_score":"6.4008639"},)"
    R"("medical_coverage":false,"owns_property":false,"received_housing_aid":false,)"
    R"("housing":{"price":"784000.00"}})";
constexpr const char* client_address = "127.0.0.1";
// The second publication: the SNIA pack with a new hourly SMIG from 2027-01-01 (as the
// publications' server test revises it), in its canonical source.
constexpr std::string_view smig_now = "  from 2026-01-01 = 17.92 MAD\n";
constexpr std::string_view smig_revised =
    "  from 2026-01-01 = 17.92 MAD\n  from 2027-01-01 = 18.79 MAD\n";
// The stored cohort: lines of data/sample-cohort.jsonl (1-based), the first 24 and the three
// applicants whose housing.vit_140k the new SMIG flips on 2027-06-01, so that an impact has
// flips to list; small, because every impact request evaluates all of them twice.
constexpr int cohort_head = 24;
constexpr std::array<int, 3> cohort_flipping{91, 167, 212};
// The store grows with every decision and audited read (and audit/verify reads it all): begin
// again with a fresh one after this many inputs.
constexpr int inputs_per_store = 5000;

std::string token_text(std::string_view t) {
  if (!server::token_form(t)) violated("server", "a fixed token does not have a token's form");
  return std::string(t);
}

/// The log lines of the service, kept in memory to be checked like the responses.
struct log_capture {
  std::ostringstream text;
  std::shared_ptr<spdlog::logger> logger = std::make_shared<spdlog::logger>(
      "fuzz-serve", std::make_shared<spdlog::sinks::ostream_sink_mt>(text));
};

struct world {
  fs::path dir;
  std::string db;
  log_capture log;
  std::unique_ptr<server::service> svc;
  std::string cookie;
  std::string csrf;
  std::string decision_id;
  int inputs = 0;
};

[[noreturn]] void setup_failed(const std::string& what) {
  violated("setup", what);
}

/// One request's bytes on a fresh connection; the single answer it must get.
server::exchange one(world& w, const std::string& bytes) {
  auto xs = server::answer_connection(*w.svc, bytes, "192.0.2.10");
  if (xs.size() != 1)
    setup_failed("a set-up request got " + std::to_string(xs.size()) + " answers");
  return std::move(xs.front());
}

std::string post(std::string_view target, std::string_view auth, std::string_view body) {
  return std::string("POST ") + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" +
         std::string(auth) +
         "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

/// Signs the session's user in, through the server; keeps its cookie and CSRF token.
void sign_in(world& w) {
  auto x = one(w, post("/api/v1/login", "",
                       "{\"user\":\"" + std::string(session_user) + "\",\"password\":\"" +
                           std::string(session_password) + "\"}"));
  if (x.answer.status != http::status::ok) setup_failed("the session's user cannot sign in");
  const std::string& c = x.answer.set_cookie;
  auto eq = c.find('=');
  auto semi = c.find(';');
  if (eq == std::string::npos || semi == std::string::npos) setup_failed("no session cookie");
  w.cookie = c.substr(eq + 1, semi - eq - 1);
  w.csrf = std::string(json::parse(x.answer.body).as_object().at("csrf").as_string());
}

/// The two publications and the cohort (as `dalil publish` and `dalil import` store them).
void publish_and_import(world& w) {
  auto db = store::open_sqlite(w.db);
  if (!db) setup_failed("cannot open the store: " + db.error().message);
  const std::string& pack_source = fuzz::snia_canonical_source();
  std::string revised = pack_source;
  auto at = revised.find(smig_now);
  if (at == std::string::npos || revised.find(smig_now, at + 1) != std::string::npos) {
    setup_failed("the SNIA pack's SMIG of 2026 is not where the fuzz target revises it");
  }
  revised.replace(at, smig_now.size(), smig_revised);
  std::string why;
  auto revised_rules = store::stored_ruleset("fuzz-revised", revised, why);
  if (!revised_rules) setup_failed("the revised pack does not check:\n" + why);
  struct pub {
    std::string hash;
    const std::string* source;
    const char* from;
  };
  auto pubs = store::open_sqlite_publications(w.db);
  if (!pubs) setup_failed("cannot open the publications: " + pubs.error().message);
  for (const pub& p : {pub{fuzz::snia_pack()->hash(), &pack_source, "1901-01-01"},
                       pub{revised_rules->hash(), &revised, "2027-01-01"}}) {
    if (!(*db)->put_ruleset(p.hash, *p.source)) setup_failed("cannot store a ruleset");
    store::publication row;
    row.ruleset_hash = p.hash;
    row.approved_by = "Commission SNIA";
    row.effective_from = p.from;
    row.actor = "fuzz";
    if (!(*pubs)->publish(row)) setup_failed("cannot publish a ruleset");
  }
  std::ifstream in(DALIL_COHORT_FILE, std::ios::binary);
  std::string line;
  std::string cohort;
  for (int n = 1; std::getline(in, line); ++n) {
    if (n <= cohort_head ||
        std::find(cohort_flipping.begin(), cohort_flipping.end(), n) != cohort_flipping.end()) {
      cohort += line + "\n";
    }
  }
  if (cohort.empty()) setup_failed("cannot read the sample cohort");
  fs::path file = w.dir / "cohort.jsonl";
  std::ofstream(file, std::ios::binary) << cohort;
  store::import_summary summary;
  auto imported = store::import_file(**db, fuzz::snia_pack()->program(), file.string(), summary);
  if (!imported || summary.stored != cohort_head + static_cast<int>(cohort_flipping.size())) {
    setup_failed("the sample cohort is not imported whole");
  }
}

void open_world(world& w) {
  if (!server::sodium_ready()) setup_failed("libsodium cannot start");
  const char* base = std::getenv("TMPDIR");
  fs::path root = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::path(base ? base : "/tmp");
  std::string pattern = (root / "dalil-fuzz-server-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) setup_failed("cannot make a temporary folder");
  w.dir = pattern;
  w.db = (w.dir / "fuzz.db").string();
  {
    auto accounts = store::open_sqlite_accounts(w.db);
    if (!accounts) setup_failed("cannot open the store: " + accounts.error().message);
    auto user = [&](std::string_view name, std::string_view password) {
      store::account a;
      a.name = name;
      a.role = "official";
      a.office = "rabat";
      auto hash = server::hash_password(password);
      if (!hash) setup_failed("cannot hash a password");
      a.password_hash = *hash;
      if (!(*accounts)->add_user(a, "fuzz")) setup_failed("cannot add a user");
    };
    user(agent_user, agent_password);
    user(session_user, session_password);
    auto client = [&](std::string_view name, std::string_view role, std::string_view office,
                      std::string_view token) {
      store::account a;
      a.name = name;
      a.role = role;
      a.office = office;
      a.machine = true;
      a.expires = static_cast<std::int64_t>(std::time(nullptr)) + std::int64_t{300} * 24 * 60 * 60;
      if (!(*accounts)->add_token(a, server::secret_hash(token_text(token)), "fuzz")) {
        setup_failed("cannot add a token");
      }
    };
    client("counter.rabat", "official", "rabat", official_token);
    client("adviser.one", "adviser", "", adviser_token);
    client("auditor.one", "auditor", "", auditor_token);
  }
  publish_and_import(w);
  server::config c;
  c.db = w.db;  // no rules: the store's publications, the one in effect on each as-of date
  c.threads = 1;
  auto svc = server::service::open(c, w.log.logger);
  if (!svc) setup_failed("cannot open the service: " + svc.error().message);
  w.svc = std::move(*svc);
  sign_in(w);
  auto x = one(
      w, post("/api/v1/evaluate", "Authorization: Bearer " + std::string(official_token) + "\r\n",
              "{\"as_of\":\"2017-06-01\",\"trace\":false,\"applicant\":" +
                  std::string(sample_record) + "}"));
  if (x.answer.status != http::status::ok) setup_failed("the sample record is not decided");
  w.decision_id = x.answer.decision_id;
  w.log.text.str("");
}

void close_world(world& w) {
  w.svc->stop();
  w.svc.reset();
  std::error_code ec;
  fs::remove_all(w.dir, ec);
}

world& the_world() {
  static world* w = [] {
    auto* made = new world;
    open_world(*made);
    std::atexit([] { close_world(the_world()); });
    return made;
  }();
  return *w;
}

/// The statuses the OpenAPI document gives per operation ("POST /api/v1/login").
const std::map<std::string, std::set<int>>& documented() {
  static const std::map<std::string, std::set<int>> ops = [] {
    std::map<std::string, std::set<int>> out;
    auto doc = server::openapi_assets();
    if (doc.empty()) setup_failed("no OpenAPI document");
    json::value v = json::parse(doc[0].body());
    for (const auto& [path, item] : v.at("paths").as_object()) {
      for (const auto& [method, op] : item.as_object()) {
        if (!op.is_object() || !op.as_object().contains("responses")) continue;
        std::string key;
        for (char ch : std::string_view(method)) key += static_cast<char>(std::toupper(ch));
        key += ' ';
        key += std::string_view(path);
        for (const auto& [code, r] : op.at("responses").as_object()) {
          out[key].insert(std::atoi(std::string(code).c_str()));
        }
      }
    }
    return out;
  }();
  return ops;
}

/// The JSON string values of a body (not keys) long enough to be personal values.
std::vector<std::string> string_values(std::string_view body) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '"') continue;
    std::size_t j = i + 1;
    while (j < body.size() && body[j] != '"' && body[j] != '\\') ++j;
    if (j < body.size() && body[j] == '"') {
      std::size_t k = j + 1;
      while (k < body.size() && (body[k] == ' ' || body[k] == '\n' || body[k] == '\t')) ++k;
      bool is_key = k < body.size() && body[k] == ':';
      std::string text(body.substr(i + 1, j - i - 1));
      if (!is_key && text.size() >= 6 && fuzz::reshaped(text) != text) {
        out.push_back(std::move(text));
      }
    }
    i = j;
  }
  return out;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  if (from.empty()) return text;
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

/// Checks one response as sent; what it says is wrong, or "".
std::string check_response(const server::exchange& x) {
  const int status = static_cast<int>(x.answer.status);
  // Reads back as one message, the one written.
  http::response_parser<http::string_body> p;
  p.eager(true);
  p.body_limit(std::numeric_limits<std::uint64_t>::max());
  boost::system::error_code ec;
  std::size_t used = 0;
  while (!p.is_done()) {
    std::size_t n = p.put(boost::asio::buffer(x.wire.data() + used, x.wire.size() - used), ec);
    used += n;
    if (ec) return "the response does not read back as HTTP (" + ec.message() + ")";
    if (n == 0) return "the response does not read back as HTTP (it stops short)";
  }
  if (used != x.wire.size()) return "the response has bytes after its end";
  const auto& got = p.get();
  if (got.result_int() != static_cast<unsigned>(status)) return "the status line changed";
  if (got.body() != x.answer.body) return "the body read back differs";
  if (got[http::field::content_type] != x.answer.content_type) return "the Content-Type changed";
  if (got.count(http::field::set_cookie) > 1 || got.count(http::field::location) > 1) {
    return "a header value split into several headers";
  }
  if (got[http::field::set_cookie] != x.answer.set_cookie) return "the Set-Cookie changed";
  if (got[http::field::location] != x.answer.location) return "the Location changed";
  for (const char* h :
       {"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Cache-Control"}) {
    if (got.count(h) != 1) return std::string("the response has no single ") + h + " header";
  }
  // A status the API documents for the operation.
  std::set<int> allowed{400, 404, 405, 413, 431};  // reaching no operation
  if (x.handled && x.r != nullptr) {
    std::string key = std::string(http::to_string(x.r->method)) + " " + std::string(x.r->pattern);
    auto it = documented().find(key);
    if (it != documented().end()) {
      allowed = it->second;
    } else if (x.r->id == server::route_id::root || x.r->id == server::route_id::asset) {
      // The officials' page, outside the API document; a bearer token sent is checked there too.
      allowed = {200, 401, 404};
    } else {
      return "the route " + key + " is not in the OpenAPI document";
    }
  }
  if (allowed.count(status) == 0)
    return "the status " + std::to_string(status) + " is undocumented";
  if (status == 405 && x.answer.allow.empty()) return "a 405 without Allow";
  if ((status == 429 || status == 503) && x.answer.retry_after <= 0) {
    return "a 429 or 503 without Retry-After";
  }
  bool is_json = x.answer.content_type == "application/json" ||
                 x.answer.content_type == "application/problem+json";
  if (is_json && !fuzz::utf8_ok(x.answer.body)) return "a JSON body is not valid UTF-8";
  json::parse_options deep;
  deep.max_depth = 1024;
  if (status >= 400) {
    if (x.answer.content_type != "application/problem+json") return "an error is not problem+json";
    json::value v = json::parse(x.answer.body, ec, {}, deep);
    if (ec || !v.is_object()) return "an error body is not a JSON object";
    const json::object& o = v.as_object();
    const json::value* type = o.if_contains("type");
    if (!type || !type->is_string() ||
        !std::string_view(type->as_string()).starts_with("https://dalil.ma/problems/")) {
      return "a problem has no type";
    }
    const json::value* title = o.if_contains("title");
    const json::value* st = o.if_contains("status");
    const json::value* detail = o.if_contains("detail");
    if (!title || !title->is_string() || !detail || !detail->is_string()) {
      return "a problem has no title or detail";
    }
    if (!st || !st->is_int64() || st->as_int64() != status) return "a problem's status differs";
    if (const json::value* errors = o.if_contains("errors")) {
      if (!errors->is_array() || errors->as_array().empty()) return "a problem's errors are empty";
      for (const json::value& e : errors->as_array()) {
        if (!e.is_object() || !e.as_object().contains("pointer") || !e.at("pointer").is_string() ||
            !e.as_object().contains("detail")) {
          return "a problem's field error has no pointer or detail";
        }
        std::string_view ptr = e.at("pointer").as_string();
        if (!ptr.empty() && ptr.front() != '/') return "a field error's pointer is not a pointer";
      }
    }
  } else if (x.answer.content_type == "application/json" && !x.answer.body.empty()) {
    json::value v = json::parse(x.answer.body, ec, {}, deep);
    if (ec) return "a JSON answer is not valid JSON";
  }
  if (status == 204 && !x.answer.body.empty()) return "a 204 with a body";
  return {};
}

/// Answers the input on a connection; the session is signed in again when the input ended it.
std::vector<server::exchange> answer(world& w, const std::string& bytes) {
  auto xs = server::answer_connection(*w.svc, bytes, client_address);
  for (const auto& x : xs) {
    if (x.handled && x.r != nullptr && x.r->id == server::route_id::logout &&
        x.answer.status == http::status::no_content) {
      sign_in(w);
      break;
    }
  }
  return xs;
}

/// Whether an error response of `xs`, or the log, holds `text`.
bool echoed(const std::vector<server::exchange>& xs, const std::string& log,
            const std::string& text) {
  if (log.find(text) != std::string::npos) return true;
  for (const auto& x : xs) {
    if (static_cast<int>(x.answer.status) >= 400 && x.answer.body.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  world& w = the_world();
  if (++w.inputs > inputs_per_store) {
    close_world(w);
    w.inputs = 1;
    open_world(w);
  }
  std::string bytes(reinterpret_cast<const char*>(data), size);
  bytes = replace_all(std::move(bytes), "@SESSION@", w.cookie);
  bytes = replace_all(std::move(bytes), "@CSRF@", w.csrf);
  bytes = replace_all(std::move(bytes), "@DECISION@", w.decision_id);
  w.log.text.str("");
  auto xs = answer(w, bytes);
  std::string log = w.log.text.str();
  static const bool verbose = std::getenv("DALIL_FUZZ_VERBOSE") != nullptr;
  std::set<std::string> values;
  for (const auto& x : xs) {
    if (verbose) {
      std::fprintf(stderr, "  %d %s %s\n", static_cast<int>(x.answer.status),
                   x.r ? std::string(http::to_string(x.r->method)).c_str() : "-",
                   x.r ? std::string(x.r->pattern).c_str() : "(no route)");
    }
    if (std::string why = check_response(x); !why.empty()) {
      violated("server", why + " (answer " + std::to_string(static_cast<int>(x.answer.status)) +
                             " to " + (x.r ? std::string(x.r->pattern) : std::string("-")) + ")");
    }
    for (auto& v : string_values(x.body)) values.insert(std::move(v));
  }
  for (const std::string& v : values) {
    if (!echoed(xs, log, v)) continue;
    // Its own words, or the value? Answer the input again with that value reshaped: whole, and
    // for FIELD=VALUE (an impact's filter) after the '=' only, since a reshaped field name is
    // refused as no field before its value is ever used.
    std::vector<std::string> variants{fuzz::reshaped(v)};
    if (auto eq = v.find('='); eq != std::string::npos && eq + 1 < v.size()) {
      variants.push_back(v.substr(0, eq + 1) + fuzz::reshaped(std::string_view(v).substr(eq + 1)));
    }
    for (const std::string& r : variants) {
      if (r == v) continue;
      std::string other = replace_all(bytes, "\"" + v + "\"", "\"" + r + "\"");
      w.log.text.str("");
      auto again = answer(w, other);
      if (echoed(again, w.log.text.str(), r)) {
        violated("server", "an error response or a log line holds a value of the request body");
      }
    }
  }
  return 0;
}
