// The server against a real HTTP client on a loopback port: roles on every route, sessions and
// CSRF, counter decisions and reviews stored and audited, problem+json for bad requests, the
// OpenAPI document matched to real responses, and no personal value in the log.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/loader.hpp"
#include "engine/evaluation.hpp"
#include "engine/session.hpp"
#include "server/auth/auth.hpp"
#include "server/server.hpp"
#include "server/stats.hpp"
#include "tests/server/pack.hpp"
#include "tests/server/support.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace dalil::test_support;  // NOLINT(google-build-using-namespace): test helpers

namespace {

/// A raw exchange: sends `bytes` (then waits `pause` and sends `more`), returns what came back
/// until the server closed the connection.
std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds pause = {}, const std::string& more = {}) {
  asio::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  boost::system::error_code ec;
  asio::write(s, asio::buffer(bytes), ec);
  if (pause.count() > 0) std::this_thread::sleep_for(pause);
  if (!more.empty()) asio::write(s, asio::buffer(more), ec);
  std::string out;
  char buf[4096];
  for (;;) {
    std::size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

/// A clock for the statistics under which this month's counter figures are released (a month's
/// are released a day after it ends, server/stats.hpp): most tests count the decisions they
/// have just made.
std::function<std::chrono::system_clock::time_point()> this_month_released() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const year_month_day today{floor<days>(now)};
  const sys_days next{(today.year() / today.month() / 1) + months(1)};
  const auto shift = next + days(1) + hours(1) - now;
  return [shift] { return system_clock::now() + shift; };
}

/// One store, users and tokens of every role, and a server on a free loopback port.
struct fixture {
  fs::path dir;
  std::string db;
  std::string log;
  std::map<std::string, std::string> tokens;  // official, official_casa, adviser, auditor
  std::unique_ptr<dalil::server::server> srv;
  std::uint16_t port = 0;
  std::vector<std::string> personal;  // every personal value the test sent

  explicit fixture(
      std::chrono::seconds idle = std::chrono::seconds(1800),
      std::chrono::milliseconds header_timeout = std::chrono::milliseconds(10000),
      std::function<std::chrono::system_clock::time_point()> stats_clock = this_month_released()) {
    char tmpl[] = "/tmp/dalil-server-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    dir = tmpl;
    db = (dir / "store.db").string();
    log = (dir / "server.log").string();
    const std::string dalil = DALIL_BINARY;
    auto token = [&](const std::string& name, const std::string& role, const std::string& office) {
      std::string cmd = dalil + " token create " + name + " --role " + role +
                        (office.empty() ? "" : " --office " + office) + " --db " + db + " 2>&1";
      tokens[name] = last_line(run(cmd));
    };
    token("official", "official", "rabat");
    token("official_casa", "official", "casablanca");
    token("adviser", "adviser", "");
    token("auditor", "auditor", "");
    run("printf '%s\\n' 'a-long-password-1' | " + dalil +
        " user add alice --role official --office rabat --db " + db + " 2>&1");
    run("printf '%s\\n' 'root-password-long' | " + dalil + " user add root --role admin --db " +
        db + " 2>&1");
    dalil::server::config c;
    c.db = db;
    c.rules = shipped_pack().rules;
    c.canonical_source = shipped_pack().canonical;
    c.port = 0;
    c.threads = 2;
    c.log_file = log;
    c.session_idle = idle;
    c.header_timeout = header_timeout;
    c.body_timeout = header_timeout;
    c.stats_clock = std::move(stats_clock);
    started = c;
    auto s = dalil::server::server::start(std::move(c));
    INFO((s ? std::string() : s.error().message));
    REQUIRE(s.has_value());
    srv = std::move(*s);
    port = srv->port();
  }
  ~fixture() {
    srv.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  auth_header bearer(const std::string& name) const { return {tokens.at(name), "", ""}; }
  /// Stops the server and starts another process's worth on the same store and settings.
  void restart() {
    srv->stop();
    srv.reset();
    auto s = dalil::server::server::start(started);
    INFO((s ? std::string() : s.error().message));
    REQUIRE(s.has_value());
    srv = std::move(*s);
    port = srv->port();
  }
  dalil::server::config started;  // what the server was started with

  /// The sample cohort's first applicant, its values remembered as personal.
  std::string applicant(int line = 0) {
    std::ifstream in(std::string(DALIL_SOURCE_DIR) + "/data/sample-cohort.jsonl");
    std::string rec;
    for (int i = 0; i <= line; ++i) std::getline(in, rec);
    json::object o = json::parse(rec).as_object();
    personal.emplace_back(o["id"].as_string());
    personal.emplace_back(o["birth_date"].as_string());
    personal.emplace_back(o["household"].as_object()["annual_income"].as_string());
    return rec;
  }
  std::string evaluate_body(const std::string& record, const std::string& as_of = "2017-06-01",
                            bool trace = false) {
    return "{\"as_of\":\"" + as_of + "\",\"applicant\":" + record +
           (trace ? "}" : ",\"trace\":false}");
  }
  /// The server's log so far; never holds a value the test sent.
  void check_log() {
    srv->stop();
    srv->wait();
    std::string text = slurp(log);
    REQUIRE_FALSE(text.empty());
    for (const std::string& v : personal) {
      INFO("a personal value in the log: " << v);
      CHECK(text.find(v) == std::string::npos);
    }
  }
};

}  // namespace

TEST_CASE("server: every role on every route, allowed or refused (deny by default)", "[server]") {
  fixture f;
  // A decision of the rabat office, to read and review.
  response ev = call(f.port, http::verb::post, "/api/v1/evaluate", f.evaluate_body(f.applicant()),
                     f.bearer("official"));
  REQUIRE(ev.status == 200);
  std::string id(ev.parsed().at("decision_id").as_string());
  std::string app(ev.parsed().at("applicant").as_string());
  const std::string review =
      R"({"supersedes":null,"decisions":[{"rule":"assistance.legal_aid","outcome":"accepted"}]})";
  struct route_case {
    http::verb method;
    std::string target;
    std::string body;
    std::set<std::string> allowed;  // principals answered 2xx; the others 401/403/404
  };
  const std::vector<route_case> routes = {
      {http::verb::get,
       "/healthz",
       "",
       {"none", "official", "official_casa", "adviser", "auditor"}},
      {http::verb::get,
       "/api/v1/openapi.json",
       "",
       {"none", "official", "official_casa", "adviser", "auditor"}},
      {http::verb::get,
       "/api/v1/schema?lang=ar",
       "",
       {"official", "official_casa", "adviser", "auditor"}},
      {http::verb::get,
       "/api/v1/rules?as_of=2017-06-01",
       "",
       {"official", "official_casa", "adviser", "auditor"}},
      {http::verb::get, "/api/v1/stats", "", {"adviser", "auditor"}},
      {http::verb::get, "/api/v1/reviews", "", {"auditor"}},
      {http::verb::get, "/api/v1/audit/verify", "", {"auditor"}},
      {http::verb::post,
       "/api/v1/evaluate",
       f.evaluate_body(f.applicant(1)),
       {"official", "official_casa"}},
      {http::verb::get, "/api/v1/decisions/" + id, "", {"official", "auditor"}},
      {http::verb::get, "/api/v1/applicants/" + app + "/decisions", "", {"official", "auditor"}},
      {http::verb::get, "/api/v1/applicants/" + app + "/record", "", {"official", "auditor"}},
      {http::verb::post, "/api/v1/decisions/" + id + "/review", review, {"official"}},
      // Browser sessions only: machine clients are refused.
      {http::verb::get, "/api/v1/session", "", {}},
      {http::verb::post, "/api/v1/logout", "", {}},
  };
  for (const route_case& rc : routes) {
    for (const std::string who : {"none", "official", "official_casa", "adviser", "auditor"}) {
      auth_header h = who == "none" ? auth_header{} : f.bearer(who);
      response r = call(f.port, rc.method, rc.target, rc.body, h);
      INFO(who << " " << rc.target << " → " << r.status << " " << r.body.substr(0, 200));
      if (rc.allowed.count(who)) {
        CHECK(r.status / 100 == 2);
      } else if (who == "none") {
        CHECK(r.status == 401);
      } else if (who == "official_casa" && (rc.target.find("/decisions/") != std::string::npos ||
                                            rc.target.find("/applicants/") != std::string::npos)) {
        CHECK(r.status == 404);  // another office's decision: not found, so ids do not leak
      } else {
        CHECK(r.status == 403);
      }
      if (r.status >= 400) CHECK(r.headers["content-type"] == "application/problem+json");
      CHECK(r.headers["x-content-type-options"] == "nosniff");
      CHECK(r.headers["referrer-policy"] == "no-referrer");
      CHECK(r.headers["content-security-policy"].find("default-src 'self'") != std::string::npos);
      if (rc.target.rfind("/api/", 0) == 0) CHECK(r.headers["cache-control"] == "no-store");
    }
  }
  // An administrator has no HTTP route: even signing in is refused.
  response admin = call(f.port, http::verb::post, "/api/v1/login",
                        R"({"user":"root","password":"root-password-long"})");
  CHECK(admin.status == 403);  // as documented; 401 before, as for a wrong password
  CHECK(admin.body.find("command line") != std::string::npos);
  CHECK(admin.headers.count("set-cookie") == 0);
  // With a wrong password, what any wrong password gets: nothing said of the account.
  response guess = call(f.port, http::verb::post, "/api/v1/login",
                        R"({"user":"root","password":"not-the-password"})");
  CHECK(guess.status == 401);
  f.check_log();
}

TEST_CASE("server: sessions — login, CSRF on unsafe requests, language, logout, expiry",
          "[server]") {
  // Idle expiry 5 s: every call below must come within it of the one before (2 s left too
  // little on a loaded machine under a sanitizer).
  fixture f(std::chrono::seconds(5));
  response bad = call(f.port, http::verb::post, "/api/v1/login",
                      R"({"user":"alice","password":"not-the-password"})");
  CHECK(bad.status == 401);
  response ok = call(f.port, http::verb::post, "/api/v1/login",
                     R"({"user":"alice","password":"a-long-password-1"})");
  REQUIRE(ok.status == 200);
  std::string cookie = ok.headers["set-cookie"];
  CHECK(cookie.find("__Host-dalil=") == 0);
  for (const char* attr : {"Path=/", "HttpOnly", "Secure", "SameSite=Strict"}) {
    CHECK(cookie.find(attr) != std::string::npos);
  }
  // The browser becomes a known device of alice's: a second cookie, sent back to the login only.
  REQUIRE(ok.cookies.size() == 2);
  const std::string& device = ok.cookies[1];
  // Named for alice: a browser holds one per user who signed in on it.
  const std::string device_name = dalil::server::device_cookie_name("alice");
  CHECK(device_name.size() == std::string("__Secure-dalil-device-").size() + 12);
  CHECK(device.find(device_name + "=") == 0);
  for (const char* attr : {"; Path=/api/v1/login;", "; Max-Age=7776000;", "; HttpOnly", "; Secure",
                           "; SameSite=Strict"}) {
    CHECK(device.find(attr) != std::string::npos);
  }
  const std::string device_value =
      device.substr(device.find('=') + 1, device.find(';') - device.find('=') - 1);
  CHECK(device_value.size() == 43);
  // Signing in again from that browser keeps its device cookie.
  auth_header from_device;
  from_device.device = device_name + "=" + device_value;
  response known = call(f.port, http::verb::post, "/api/v1/login",
                        R"({"user":"alice","password":"a-long-password-1"})", from_device);
  REQUIRE(known.status == 200);
  REQUIRE(known.cookies.size() == 2);
  CHECK(known.cookies[1].find(device_name + "=" + device_value + ";") == 0);
  std::string value = cookie.substr(13, cookie.find(';') - 13);
  std::string csrf(ok.parsed().at("csrf").as_string());
  auth_header session{"", value, ""};
  auth_header with_csrf{"", value, csrf};
  CHECK(call(f.port, http::verb::get, "/api/v1/session", "", session).status == 200);
  // Unsafe requests need the CSRF token.
  std::string body = f.evaluate_body(f.applicant());
  CHECK(call(f.port, http::verb::post, "/api/v1/evaluate", body, session).status == 403);
  response forged =
      call(f.port, http::verb::post, "/api/v1/evaluate", body, auth_header{"", value, "wrong"});
  CHECK(forged.status == 403);
  // Its own problem type, not the role's refusal.
  CHECK(forged.parsed().at("type") == "https://dalil.ma/problems/csrf");
  CHECK(forged.headers["content-type"] == "application/problem+json");
  CHECK(call(f.port, http::verb::post, "/api/v1/evaluate", body, with_csrf).status == 200);
  CHECK(
      call(f.port, http::verb::put, "/api/v1/session/lang", R"({"lang":"ar"})", with_csrf).status ==
      204);
  CHECK(
      call(f.port, http::verb::put, "/api/v1/session/lang", R"({"lang":"de"})", with_csrf).status ==
      400);
  CHECK(call(f.port, http::verb::get, "/api/v1/session", "", session).parsed().at("lang") == "ar");
  // Logout ends it.
  CHECK(call(f.port, http::verb::post, "/api/v1/logout", "", with_csrf).status == 204);
  CHECK(call(f.port, http::verb::get, "/api/v1/session", "", session).status == 401);
  // A new session expires when idle (5 s here).
  response again = call(f.port, http::verb::post, "/api/v1/login",
                        R"({"user":"alice","password":"a-long-password-1"})");
  REQUIRE(again.status == 200);
  std::string c2 = again.headers["set-cookie"];
  auth_header s2{"", c2.substr(13, c2.find(';') - 13), ""};
  CHECK(call(f.port, http::verb::get, "/api/v1/session", "", s2).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(6200));
  CHECK(call(f.port, http::verb::get, "/api/v1/session", "", s2).status == 401);
  // An expired token is refused with its own problem type (a token of 5 s: --expires-seconds is
  // the tests' way to a short expiry; administrators give --expires DAYS).
  std::string brief = last_line(run(std::string(DALIL_BINARY) +
                                    " token create brief --role adviser --expires-seconds 5 --db " +
                                    f.db + " 2>&1"));
  CHECK(call(f.port, http::verb::get, "/api/v1/stats", "", auth_header{brief, "", ""}).status ==
        200);
  std::this_thread::sleep_for(std::chrono::milliseconds(5100));
  response late = call(f.port, http::verb::get, "/api/v1/stats", "", auth_header{brief, "", ""});
  CHECK(late.status == 401);
  CHECK(late.headers["content-type"] == "application/problem+json");
  CHECK(late.parsed().at("type") == "https://dalil.ma/problems/token-expired");
  // A revoked token is refused at once (the CLI revokes; the server sees it).
  CHECK(call(f.port, http::verb::get, "/api/v1/stats", "", f.bearer("adviser")).status == 200);
  run(std::string(DALIL_BINARY) + " token revoke adviser --db " + f.db + " 2>&1");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(call(f.port, http::verb::get, "/api/v1/stats", "", f.bearer("adviser")).status == 401);
  f.check_log();
}

namespace {

/// "2026-12-06T21:14:00Z" as Unix seconds; -1 when it is not of that form (RFC 3339 UTC).
std::int64_t unix_of(const json::value& v) {
  if (!v.is_string()) return -1;
  std::string text(v.as_string());
  int y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  int h = 0;
  int mi = 0;
  int sec = 0;
  char z = 0;
  if (text.size() != 20 ||
      std::sscanf(text.c_str(), "%4d-%2u-%2uT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &z) != 7 ||
      z != 'Z') {
    return -1;
  }
  using namespace std::chrono;  // NOLINT(google-build-using-namespace): calendar types
  const sys_days date{year{y} / month{mo} / day{d}};
  return duration_cast<seconds>(date.time_since_epoch() + hours{h} + minutes{mi} + seconds{sec})
      .count();
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE("server: the session states its idle timeout and absolute end, for the page's warning",
          "[server]") {
  fixture f(std::chrono::seconds(90));
  const std::int64_t before = unix_now();
  response login = call(f.port, http::verb::post, "/api/v1/login",
                        R"({"user":"alice","password":"a-long-password-1"})");
  const std::int64_t after = unix_now();
  REQUIRE(login.status == 200);
  json::value me = login.parsed();
  CHECK(me.at("idle_timeout_s") == 90);
  // The absolute end: sign-in plus the configured lifetime, 12 h by default (within the
  // seconds the login took).
  const std::int64_t absolute = dalil::server::config{}.session_absolute.count();
  CHECK(absolute == std::int64_t{12} * 60 * 60);
  const std::int64_t ends = unix_of(me.at("expires_at"));
  CHECK(ends >= before + absolute - 2);
  CHECK(ends <= after + absolute + 2);
  const std::int64_t now = unix_of(me.at("now"));
  CHECK(now >= before - 2);
  CHECK(now <= after + 2);
  // GET /api/v1/session answers the same members; the absolute end does not move.
  std::string c = login.headers["set-cookie"];
  auth_header s{"", c.substr(13, c.find(';') - 13), ""};
  response again = call(f.port, http::verb::get, "/api/v1/session", "", s);
  REQUIRE(again.status == 200);
  CHECK(again.parsed().at("idle_timeout_s") == 90);
  CHECK(again.parsed().at("expires_at") == me.at("expires_at"));
  CHECK(unix_of(again.parsed().at("now")) >= now);
  // A bearer token has no session: the route refuses it, and no session member is sent.
  response token = call(f.port, http::verb::get, "/api/v1/session", "", f.bearer("official"));
  CHECK(token.status == 403);
  CHECK(token.body.find("idle_timeout_s") == std::string::npos);
  CHECK(token.body.find("expires_at") == std::string::npos);
  f.check_log();
}

TEST_CASE("server: asking for the session keeps it alive past its idle timeout", "[server]") {
  // Idle expiry 4 s: three GET /api/v1/session 2.5 s apart outlive it (the page's "stay signed
  // in"), and then it expires as any session does.
  fixture f(std::chrono::seconds(4));
  response login = call(f.port, http::verb::post, "/api/v1/login",
                        R"({"user":"alice","password":"a-long-password-1"})");
  REQUIRE(login.status == 200);
  CHECK(login.parsed().at("idle_timeout_s") == 4);
  std::string c = login.headers["set-cookie"];
  auth_header s{"", c.substr(13, c.find(';') - 13), ""};
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    INFO("request " << i << ", " << (i + 1) * 2.5 << " s after the login");
    response r = call(f.port, http::verb::get, "/api/v1/session", "", s);
    REQUIRE(r.status == 200);
    CHECK(r.parsed().at("expires_at") == login.parsed().at("expires_at"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5200));
  CHECK(call(f.port, http::verb::get, "/api/v1/session", "", s).status == 401);
  f.check_log();
}

TEST_CASE("server: a counter decision is the same object as dalil eval's, stored and replayed",
          "[server]") {
  fixture f;
  std::string rec = f.applicant(2);
  response r = call(f.port, http::verb::post, "/api/v1/evaluate",
                    f.evaluate_body(rec, "2017-06-01", true), f.bearer("official"));
  REQUIRE(r.status == 200);
  // Byte for byte the CLI's object, before the server's own members.
  fs::path facts = f.dir / "facts.json";
  std::ofstream(facts) << rec;
  std::string cli = run(std::string(DALIL_BINARY) + " eval --rules " + DALIL_SOURCE_DIR +
                        "/rules --as-of 2017-06-01 --facts " + facts.string());
  cli.pop_back();  // newline
  cli.pop_back();  // closing brace
  REQUIRE(r.body.substr(0, cli.size()) == cli);
  CHECK(r.body.substr(cli.size()).rfind(",\"decision_id\":", 0) == 0);
  json::value v = r.parsed();
  std::string id(v.at("decision_id").as_string());
  CHECK(v.at("office") == "rabat");
  // Read back: the same evaluation, plus reviews (none yet).
  response back =
      call(f.port, http::verb::get, "/api/v1/decisions/" + id, "", f.bearer("official"));
  REQUIRE(back.status == 200);
  CHECK(back.body.substr(0, cli.size()) == cli);
  CHECK(back.parsed().at("reviews").as_array().empty());
  // Reviews: appended beside the recommendation, superseding in order, conflicts refused.
  std::string first =
      R"({"supersedes":null,"decisions":[{"rule":"assistance.legal_aid","outcome":"overridden","value":true,"reason":"the applicant showed the document"}],"observations":"I disagree with the refusal"})";
  response r1 = call(f.port, http::verb::post, "/api/v1/decisions/" + id + "/review", first,
                     f.bearer("official"));
  REQUIRE(r1.status == 201);
  std::string rid(r1.parsed().at("review_id").as_string());
  CHECK(call(f.port, http::verb::post, "/api/v1/decisions/" + id + "/review", first,
             f.bearer("official"))
            .status == 409);
  std::string second = R"({"supersedes":")" + rid +
                       R"(","decisions":[{"rule":"assistance.legal_aid","outcome":"accepted"}]})";
  response r2 = call(f.port, http::verb::post, "/api/v1/decisions/" + id + "/review", second,
                     f.bearer("official"));
  REQUIRE(r2.status == 201);
  CHECK(call(f.port, http::verb::post, "/api/v1/decisions/" + id + "/review", second,
             f.bearer("official"))
            .status == 409);  // written against a review that is no longer the latest
  // An override needs a reason.
  std::string no_reason =
      R"({"supersedes":")" + std::string(r2.parsed().at("review_id").as_string()) +
      R"(","decisions":[{"rule":"assistance.legal_aid","outcome":"overridden","value":true}]})";
  response nr = call(f.port, http::verb::post, "/api/v1/decisions/" + id + "/review", no_reason,
                     f.bearer("official"));
  CHECK(nr.status == 400);
  CHECK(nr.parsed().at("errors").as_array()[0].at("pointer") == "/decisions/0/reason");
  // An override is a value of its decision's type, and supersedes names a review: each other is
  // refused, naming where, never echoing what was sent.
  {
    const std::string latest(r2.parsed().at("review_id").as_string());
    struct misfit {
      std::string decisions;
      std::string supersedes;
      std::string pointer;
    };
    const std::vector<misfit> misfits = {
        {R"([{"rule":"assistance.legal_aid","outcome":"overridden","value":"Secret-Zx9","reason":"r"}])",
         "\"" + latest + "\"", "/decisions/0/value"},
        {R"([{"rule":"assistance.legal_aid","outcome":"overridden","value":7,"reason":"r"}])",
         "\"" + latest + "\"", "/decisions/0/value"},
        {R"([{"rule":"health.ramed","outcome":"overridden","value":"Secret-Zx9","reason":"r"}])",
         "\"" + latest + "\"", "/decisions/0/value"},
        {R"([{"rule":"health.ramed","outcome":"overridden","value":12345678901234,"reason":"r"}])",
         "\"" + latest + "\"", "/decisions/0/value"},
        {R"([{"rule":"assistance.legal_aid","outcome":"accepted"}])", "\"\"", "/supersedes"},
    };
    for (const misfit& m : misfits) {
      const std::string body =
          "{\"supersedes\":" + m.supersedes + ",\"decisions\":" + m.decisions + "}";
      response bad = call(f.port, http::verb::post, "/api/v1/decisions/" + id + "/review", body,
                          f.bearer("official"));
      INFO(body << " → " << bad.body);
      CHECK(bad.status == 400);
      REQUIRE(bad.parsed().as_object().contains("errors"));
      CHECK(std::string(bad.parsed().at("errors").as_array()[0].at("pointer").as_string()) ==
            m.pointer);
      CHECK(bad.body.find("Secret-Zx9") == std::string::npos);
    }
    // A value of the type is taken: an enumeration's case, and null.
    const std::string cases =
        R"(","decisions":[{"rule":"health.ramed","outcome":"overridden","value":"vulnerable","reason":"r"}]})";
    response taken = call(f.port, http::verb::post, "/api/v1/decisions/" + id + "/review",
                          R"({"supersedes":")" + latest + cases, f.bearer("official"));
    REQUIRE(taken.status == 201);
    const std::string undecided =
        R"(","decisions":[{"rule":"assistance.legal_aid","outcome":"overridden","value":null,"reason":"r"}]})";
    CHECK(call(f.port, http::verb::post, "/api/v1/decisions/" + id + "/review",
               R"({"supersedes":")" + std::string(taken.parsed().at("review_id").as_string()) +
                   undecided,
               f.bearer("official"))
              .status == 201);
  }
  response after =
      call(f.port, http::verb::get, "/api/v1/decisions/" + id, "", f.bearer("auditor"));
  REQUIRE(after.status == 200);
  CHECK(after.body.substr(0, cli.size()) == cli);  // the recommendation is unchanged
  auto reviews = after.parsed().at("reviews").as_array();
  REQUIRE(reviews.size() == 4);
  CHECK(reviews[0].at("review_id").as_string() == rid);
  CHECK(reviews[1].at("supersedes").as_string() == rid);
  // The history, the record for a returning applicant, and the audit chain intact.
  response hist =
      call(f.port, http::verb::get,
           "/api/v1/applicants/" + std::string(v.at("applicant").as_string()) + "/decisions", "",
           f.bearer("official"));
  REQUIRE(hist.status == 200);
  CHECK(hist.parsed().at("decisions").as_array()[0].at("reviewed") == true);
  response record =
      call(f.port, http::verb::get,
           "/api/v1/applicants/" + std::string(v.at("applicant").as_string()) + "/record", "",
           f.bearer("official"));
  REQUIRE(record.status == 200);
  CHECK(record.parsed().at("id") == v.at("applicant"));
  response verify = call(f.port, http::verb::get, "/api/v1/audit/verify", "", f.bearer("auditor"));
  REQUIRE(verify.status == 200);
  CHECK(verify.parsed().at("ok") == true);
  response list = call(f.port, http::verb::get, "/api/v1/reviews?office=rabat&limit=10", "",
                       f.bearer("auditor"));
  REQUIRE(list.status == 200);
  CHECK(list.parsed().at("reviews").as_array().size() == 4);
  f.check_log();
  // After a clean stop: the CLI's verification agrees, and the reads and the review are audited.
  std::string verified = run(std::string(DALIL_BINARY) + " audit verify --db " + f.db + " 2>&1");
  CHECK(verified.find("intact") != std::string::npos);
}

TEST_CASE("server: a file number holding a slash, a space or Arabic letters is found again",
          "[server]") {
  fixture f;
  json::object rec = json::parse(f.applicant(1)).as_object();
  const std::string id = "RABAT/2017 42-\xd8\xa8%";  // '/', ' ', an Arabic letter, a '%'
  rec["id"] = id;
  response made = call(f.port, http::verb::post, "/api/v1/evaluate",
                       f.evaluate_body(json::serialize(rec)), f.bearer("official"));
  INFO(made.body);
  REQUIRE(made.status == 200);
  const std::string encoded = "RABAT%2F2017%2042-%D8%A8%25";  // as encodeURIComponent writes it
  response list = call(f.port, http::verb::get, "/api/v1/applicants/" + encoded + "/decisions", "",
                       f.bearer("official"));
  REQUIRE(list.status == 200);
  const json::value listed = list.parsed();
  CHECK(listed.at("decisions").as_array().size() == 1);
  response record = call(f.port, http::verb::get, "/api/v1/applicants/" + encoded + "/record", "",
                         f.bearer("official"));
  REQUIRE(record.status == 200);
  CHECK(std::string(record.parsed().at("id").as_string()) == id);
}

TEST_CASE(
    "server: an office reads only its own record of an applicant, the reviews' list is "
    "audited, a suppressed cell of an amount shows no value",
    "[server]") {
  fixture f;
  auto sql = [&](const std::string& q) { return run("sqlite3 " + f.db + " \"" + q + "\""); };
  // Rabat evaluates an applicant; Casablanca then evaluates the same applicant with another
  // nationality: rabat's read of the record is still the one it evaluated.
  std::string rec = f.applicant(3);
  json::object changed = json::parse(rec).as_object();
  const std::string id(changed["id"].as_string());
  const std::string was(changed["nationality"].as_string());
  const std::string other = was == "SN" ? "TN" : "SN";
  changed["nationality"] = other;
  REQUIRE(
      call(f.port, http::verb::post, "/api/v1/evaluate", f.evaluate_body(rec), f.bearer("official"))
          .status == 200);
  const std::string path = "/api/v1/applicants/" + id + "/record";
  // Before Casablanca decides, it reads nothing: the same answer as for an id never stored.
  response none = call(f.port, http::verb::get, path, "", f.bearer("official_casa"));
  response unknown = call(f.port, http::verb::get, "/api/v1/applicants/NOT-STORED-1/record", "",
                          f.bearer("official_casa"));
  CHECK(none.status == 404);
  CHECK(unknown.status == 404);
  CHECK(none.body == unknown.body);
  REQUIRE(call(f.port, http::verb::post, "/api/v1/evaluate",
               f.evaluate_body(json::serialize(changed)), f.bearer("official_casa"))
              .status == 200);
  response rabat = call(f.port, http::verb::get, path, "", f.bearer("official"));
  REQUIRE(rabat.status == 200);
  CHECK(std::string(rabat.parsed().at("nationality").as_string()) == was);
  response casa = call(f.port, http::verb::get, path, "", f.bearer("official_casa"));
  REQUIRE(casa.status == 200);
  CHECK(std::string(casa.parsed().at("nationality").as_string()) == other);
  response auditor = call(f.port, http::verb::get, path, "", f.bearer("auditor"));
  REQUIRE(auditor.status == 200);
  CHECK(std::string(auditor.parsed().at("nationality").as_string()) ==
        other);  // the latest, for an auditor

  // The auditors' list of reviews is a read of the officials' words: audited, with its filter.
  const std::string before = last_line(sql("SELECT count(*) FROM audit"));
  response list =
      call(f.port, http::verb::get, "/api/v1/reviews?office=rabat", "", f.bearer("auditor"));
  REQUIRE(list.status == 200);
  CHECK(last_line(sql("SELECT count(*) FROM audit")) == std::to_string(std::stoi(before) + 1));
  CHECK(last_line(sql("SELECT actor || ' ' || action || ' ' || subject FROM audit ORDER BY seq "
                      "DESC LIMIT 1")) == "auditor read reviews office=rabat (0)");
  // Its filters go into that entry: only what they can be, else 400 and nothing read.
  for (const char* q : {"since=garbage", "until=2026/12", "since=2026-12-01T08:00:00Z%0Ax",
                        "office=a%3Bb", "user=%1B%5B2J"}) {
    INFO(q);
    response refused =
        call(f.port, http::verb::get, std::string("/api/v1/reviews?") + q, "", f.bearer("auditor"));
    CHECK(refused.status == 400);
  }
  CHECK(call(f.port, http::verb::get, "/api/v1/reviews?since=2026-12&until=2099-01-01T00:00:00Z",
             "", f.bearer("auditor"))
            .status == 200);
  CHECK(last_line(sql("SELECT count(*) FROM audit")) == std::to_string(std::stoi(before) + 2));

  // Statistics: a rule of amounts asked for by one official, its cell suppressed, names no
  // value; a boolean's suppressed cell still says which value it counts.
  std::string body = "{\"as_of\":\"2017-06-01\",\"applicant\":" + f.applicant(1) +
                     ",\"rules\":[\"health.per_person_income\",\"status.lawful_stay\"],"
                     "\"trace\":false}";
  response asked = call(f.port, http::verb::post, "/api/v1/evaluate", body, f.bearer("official"));
  INFO(asked.body);
  REQUIRE(asked.status == 200);
  response st = call(f.port, http::verb::get, "/api/v1/stats", "", f.bearer("adviser"));
  REQUIRE(st.status == 200);
  bool income_seen = false;
  bool stay_seen = false;
  const json::value stats = st.parsed();  // kept: the loop reads into it
  for (const json::value& d : stats.at("decisions").as_array()) {
    for (const json::value& cell : d.at("in_force").at("values").as_array()) {
      if (!cell.at("suppressed").as_bool()) continue;
      if (d.at("decision") == "health.per_person_income") {
        CHECK(cell.at("value").is_null());
        income_seen = true;
      }
      if (d.at("decision") == "status.lawful_stay") {
        CHECK(cell.at("value").is_bool());
        stay_seen = true;
      }
    }
  }
  CHECK(income_seen);
  CHECK(stay_seen);
  f.check_log();
}

TEST_CASE("server: problem+json for a corpus of bad requests, never echoing what was sent",
          "[server]") {
  fixture f(std::chrono::seconds(1800), std::chrono::milliseconds(700));
  const std::string secret = "Zoubida-Secret-Value-77";
  f.personal.push_back(secret);
  struct bad {
    std::string name;
    http::verb method;
    std::string target;
    std::string body;
    std::string content_type;
    int status;
    std::string pointer;  // "" when no field error is expected
  };
  const std::string ok_rec = f.applicant();
  const std::vector<bad> corpus = {
      {"malformed JSON", http::verb::post, "/api/v1/evaluate", "{\"as_of\":", "application/json",
       400, ""},
      {"not an object", http::verb::post, "/api/v1/evaluate", "[1,2]", "application/json", 400, ""},
      {"unknown member", http::verb::post, "/api/v1/evaluate",
       "{\"as_of\":\"2017-06-01\",\"applicant\":" + ok_rec + ",\"" + secret + "\":1}",
       "application/json", 400, ""},
      {"wrong type", http::verb::post, "/api/v1/evaluate",
       "{\"as_of\":20170601,\"applicant\":" + ok_rec + "}", "application/json", 400, "/as_of"},
      {"not a date", http::verb::post, "/api/v1/evaluate",
       "{\"as_of\":\"" + secret + "\",\"applicant\":" + ok_rec + "}", "application/json", 400,
       "/as_of"},
      {"missing applicant", http::verb::post, "/api/v1/evaluate", "{\"as_of\":\"2017-06-01\"}",
       "application/json", 400, "/applicant"},
      {"field of the wrong type", http::verb::post, "/api/v1/evaluate",
       "{\"as_of\":\"2017-06-01\",\"applicant\":{\"id\":\"" + secret +
           "\",\"household\":{\"size\":\"" + secret + "\"}}}",
       "application/json", 400, "/applicant/household/size"},
      {"unknown field", http::verb::post, "/api/v1/evaluate",
       "{\"as_of\":\"2017-06-01\",\"applicant\":{\"id\":\"x1\",\"" + secret + "\":1}}",
       "application/json", 400, "/applicant"},
      {"unknown rule", http::verb::post, "/api/v1/evaluate",
       "{\"as_of\":\"2017-06-01\",\"applicant\":" + ok_rec + ",\"rules\":[\"no.such\"]}",
       "application/json", 400, "/rules/0"},
      {"an id with an escape character", http::verb::post, "/api/v1/evaluate",
       [&] {
         json::object r = json::parse(ok_rec).as_object();
         r["id"] = secret + "\x1b[2J";
         return "{\"as_of\":\"2017-06-01\",\"applicant\":" + json::serialize(r) + "}";
       }(),
       "application/json", 400, "/applicant/id"},
      {"a text fact with an escape character", http::verb::post, "/api/v1/evaluate",
       [&] {
         json::object r = json::parse(ok_rec).as_object();
         r["nationality"] = secret + "\x1b]0;title\x07";
         return "{\"as_of\":\"2017-06-01\",\"applicant\":" + json::serialize(r) + "}";
       }(),
       "application/json", 400, "/applicant/nationality"},
      {"more rules than a pack has, one error", http::verb::post, "/api/v1/evaluate",
       [&] {
         std::string many = "[";
         for (int i = 0; i < 100000; ++i) many += i ? ",1" : "1";
         return "{\"as_of\":\"2017-06-01\",\"applicant\":" + ok_rec + ",\"rules\":" + many + "]}";
       }(),
       "application/json", 400, "/rules"},
      {"a rule named twice", http::verb::post, "/api/v1/evaluate",
       "{\"as_of\":\"2017-06-01\",\"applicant\":" + ok_rec +
           ",\"rules\":[\"health.ramed\",\"status.lawful_stay\",\"health.ramed\"]}",
       "application/json", 400, "/rules/2"},
      {"more members than any request has", http::verb::post, "/api/v1/login",
       [] {
         std::string many = "{";
         for (int i = 0; i < 20000; ++i) many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
         return many + "}";
       }(),
       "application/json", 400, ""},
      {"duplicate member", http::verb::post, "/api/v1/evaluate",
       "{\"as_of\":\"2017-06-01\",\"as_of\":\"2017-06-01\",\"applicant\":" + ok_rec + "}",
       "application/json", 400, ""},
      {"record not an object", http::verb::post, "/api/v1/evaluate",
       "{\"as_of\":\"2017-06-01\",\"applicant\":5}", "application/json", 400, "/applicant"},
      {"empty body", http::verb::post, "/api/v1/evaluate", "", "application/json", 400, ""},
      {"nested too deeply", http::verb::post, "/api/v1/evaluate",
       "{\"as_of\":\"2017-06-01\",\"applicant\":" + std::string(100000, '[') +
           std::string(100000, ']') + "}",
       "application/json", 400, ""},
      {"wrong type of flag", http::verb::post, "/api/v1/evaluate",
       "{\"as_of\":\"2017-06-01\",\"applicant\":" + ok_rec + ",\"trace\":\"yes\"}",
       "application/json", 400, "/trace"},
      {"not JSON content", http::verb::post, "/api/v1/evaluate", f.evaluate_body(ok_rec),
       "text/plain", 415, ""},
      {"unknown path", http::verb::get, "/api/v1/nothing", "", "", 404, ""},
      {"wrong method", http::verb::delete_, "/api/v1/evaluate", "", "", 405, ""},
      {"unknown decision", http::verb::get, "/api/v1/decisions/0123456789abcdef", "", "", 404, ""},
      {"review of unknown decision", http::verb::post, "/api/v1/decisions/nope/review",
       R"({"supersedes":null,"decisions":[{"rule":"a.b","outcome":"accepted"}]})",
       "application/json", 404, ""},
      {"bad rules date", http::verb::get, "/api/v1/rules?as_of=2017-13-45", "", "", 400, ""},
      {"bad schema language", http::verb::get, "/api/v1/schema?lang=de", "", "", 400, ""},
      {"bad schema date", http::verb::get, "/api/v1/schema?lang=fr&as_of=2017-13-45", "", "", 400,
       ""},
      {"bad schema ruleset", http::verb::get, "/api/v1/schema?ruleset=zz", "", "", 400, ""},
      {"schema of an unknown ruleset", http::verb::get,
       "/api/v1/schema?ruleset=" + std::string(64, 'a'), "", "", 404, ""},
      {"schema by ruleset and date", http::verb::get,
       "/api/v1/schema?ruleset=" + std::string(64, 'a') + "&as_of=2017-06-01", "", "", 400, ""},
  };
  json::value doc = call(f.port, http::verb::get, "/api/v1/openapi.json").parsed();
  for (const bad& b : corpus) {
    response r = call(f.port, b.method, b.target, b.body, f.bearer("official"), b.content_type);
    INFO(b.name << " → " << r.status << " " << r.body);
    CHECK(r.status == b.status);
    CHECK(r.headers["content-type"] == "application/problem+json");
    json::value p = r.parsed();
    CHECK(p.at("status").as_int64() == b.status);
    CHECK(std::string(p.at("type").as_string()).rfind("https://dalil.ma/problems/", 0) == 0);
    CHECK(r.body.find(secret) == std::string::npos);
    if (!b.pointer.empty()) {
      REQUIRE(p.as_object().contains("errors"));
      CHECK(p.at("errors").as_array()[0].at("pointer").as_string() == b.pointer);
    }
    if (b.status == 405) CHECK(r.headers["allow"] == "POST");
    // One error a field at most: a request of 200 KB once made an answer of 7 MB.
    CHECK(r.body.size() < 4096);
  }
  // 10 MB body: 413 without reading it all.
  {
    std::string big =
        "{\"as_of\":\"2017-06-01\",\"applicant\":{\"id\":\"" + std::string(10 << 20, 'a') + "\"}}";
    std::string req =
        "POST /api/v1/evaluate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
        f.tokens["official"] +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(big.size()) +
        "\r\n\r\n";
    std::string got = raw_exchange(f.port, req);
    CHECK(got.rfind("HTTP/1.1 413", 0) == 0);
    CHECK(got.find("application/problem+json") != std::string::npos);
  }
  // A header over 8 KiB: 431.
  {
    std::string req =
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(9000, 'b') + "\r\n\r\n";
    CHECK(raw_exchange(f.port, req).rfind("HTTP/1.1 431", 0) == 0);
  }
  // Slow clients: a header or a body that does not arrive by its deadline (0.7 s here) after
  // some bytes came is answered 408 (problem+json) and the connection closed; nothing half-read
  // is handled, and the server goes on.
  {
    auto timed_out = [](const std::string& got) {
      INFO(got);
      CHECK(got.rfind("HTTP/1.1 408", 0) == 0);
      CHECK(got.find("Content-Type: application/problem+json") != std::string::npos);
      CHECK(got.find("Connection: close") != std::string::npos);
      CHECK(got.find("https://dalil.ma/problems/timeout") != std::string::npos);
    };
    // Answered by the fixture's deadline, not the default of 10 s (8 s: room for a loaded
    // machine under a sanitizer).
    auto t0 = std::chrono::steady_clock::now();
    timed_out(raw_exchange(f.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(8));
    std::string body_slow =
        "POST /api/v1/evaluate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
        f.tokens["official"] +
        "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"as_of\"";
    t0 = std::chrono::steady_clock::now();
    std::string got = raw_exchange(f.port, body_slow);
    timed_out(got);
    CHECK(got.find("body did not arrive") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(8));
    // A client that trickles its header past the deadline gets the same.
    t0 = std::chrono::steady_clock::now();
    got = raw_exchange(f.port, "GET /healthz HTTP/1.1\r\n", std::chrono::milliseconds(500),
                       "Host: x\r\n");
    timed_out(got);
    CHECK(got.find("header did not arrive") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(8));
    // A slow second request on a kept-alive connection: the first is answered, the second 408.
    got = raw_exchange(f.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n");
    CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(got.find("HTTP/1.1 408") != std::string::npos);
  }
  // Garbage bytes: a 400, and the server still answers.
  CHECK(raw_exchange(f.port, "\x01\x02 not http\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);
  CHECK(call(f.port, http::verb::get, "/healthz").status == 200);
  // Nothing was stored by any of them.
  response stats = call(f.port, http::verb::get, "/api/v1/stats", "", f.bearer("auditor"));
  CHECK(stats.parsed().at("counter_decisions").is_null());  // zero: below the suppression threshold
  f.check_log();
}

TEST_CASE("server: the OpenAPI document matches the real responses", "[server]") {
  fixture f;
  response d = call(f.port, http::verb::get, "/api/v1/openapi.json");
  REQUIRE(d.status == 200);
  json::value doc = d.parsed();
  CHECK(doc.at("openapi") == "3.1.0");
  auto off = f.bearer("official");
  auto aud = f.bearer("auditor");
  auto adv = f.bearer("adviser");
  conforms(doc, "/healthz", "get", call(f.port, http::verb::get, "/healthz"));
  for (const char* l : {"fr", "ar", "en"}) {
    conforms(doc, "/api/v1/schema", "get",
             call(f.port, http::verb::get, std::string("/api/v1/schema?lang=") + l, "", off));
  }
  conforms(doc, "/api/v1/rules", "get",
           call(f.port, http::verb::get, "/api/v1/rules?as_of=2017-06-01", "", adv));
  response ev = call(f.port, http::verb::post, "/api/v1/evaluate",
                     f.evaluate_body(f.applicant(), "2017-06-01", true), off);
  conforms(doc, "/api/v1/evaluate", "post", ev);
  std::string id(ev.parsed().at("decision_id").as_string());
  std::string app(ev.parsed().at("applicant").as_string());
  conforms(doc, "/api/v1/evaluate", "post",
           call(f.port, http::verb::post, "/api/v1/evaluate", "{}", off));
  conforms(doc, "/api/v1/evaluate", "post",
           call(f.port, http::verb::post, "/api/v1/evaluate", "{}"));
  response rv = call(
      f.port, http::verb::post, "/api/v1/decisions/" + id + "/review",
      R"({"supersedes":null,"decisions":[{"rule":"assistance.legal_aid","outcome":"accepted"}],"observations":""})",
      off);
  conforms(doc, "/api/v1/decisions/{id}/review", "post", rv);
  conforms(
      doc, "/api/v1/decisions/{id}/review", "post",
      call(
          f.port, http::verb::post, "/api/v1/decisions/" + id + "/review",
          R"({"supersedes":null,"decisions":[{"rule":"assistance.legal_aid","outcome":"accepted"}]})",
          off));
  conforms(doc, "/api/v1/decisions/{id}", "get",
           call(f.port, http::verb::get, "/api/v1/decisions/" + id, "", off));
  conforms(doc, "/api/v1/decisions/{id}", "get",
           call(f.port, http::verb::get, "/api/v1/decisions/" + id, "", f.bearer("official_casa")));
  conforms(doc, "/api/v1/applicants/{id}/decisions", "get",
           call(f.port, http::verb::get, "/api/v1/applicants/" + app + "/decisions", "", aud));
  conforms(doc, "/api/v1/applicants/{id}/record", "get",
           call(f.port, http::verb::get, "/api/v1/applicants/" + app + "/record", "", off));
  conforms(doc, "/api/v1/reviews", "get",
           call(f.port, http::verb::get, "/api/v1/reviews", "", aud));
  conforms(doc, "/api/v1/reviews", "get",
           call(f.port, http::verb::get, "/api/v1/reviews", "", off));
  conforms(doc, "/api/v1/audit/verify", "get",
           call(f.port, http::verb::get, "/api/v1/audit/verify", "", aud));
  // Enough decisions for unsuppressed cells in the statistics.
  for (int i = 0; i < 12; ++i) {
    response more = call(f.port, http::verb::post, "/api/v1/evaluate",
                         f.evaluate_body(f.applicant(i), "2026-06-01"), off);
    INFO(more.body);
    REQUIRE(more.status == 200);
  }
  response st = call(f.port, http::verb::get, "/api/v1/stats", "", adv);
  conforms(doc, "/api/v1/stats", "get", st);
  CHECK(st.parsed().at("counter_decisions").as_int64() == 13);
  response login = call(f.port, http::verb::post, "/api/v1/login",
                        R"({"user":"alice","password":"a-long-password-1"})");
  conforms(doc, "/api/v1/login", "post", login);
  conforms(doc, "/api/v1/login", "post",
           call(f.port, http::verb::post, "/api/v1/login",
                R"({"user":"alice","password":"wrong-password-x"})"));
  std::string c = login.headers["set-cookie"];
  auth_header s{"", c.substr(13, c.find(';') - 13), ""};
  conforms(doc, "/api/v1/session", "get", call(f.port, http::verb::get, "/api/v1/session", "", s));
  // Every route of the server is in the document, and nothing else.
  CHECK(doc.at("paths").as_object().size() == 20);  // with the advisers' four (publish, whatif)
  f.check_log();
}

/// The count of a stored run's cell: a number, or -1 when suppressed (null).
std::int64_t run_count(const json::value& v) {
  return v.is_null() ? -1 : v.as_int64();
}

/// The sample cohort imported into the fixture's store with the shipped pack, for batch runs.
void import_sample(const fixture& f) {
  run(std::string(DALIL_BINARY) + " import --db " + f.db + " --rules " + DALIL_SOURCE_DIR +
      "/rules " + DALIL_SOURCE_DIR + "/data/sample-cohort.jsonl 2>&1");
}

TEST_CASE("server: statistics carry the stored runs, small cells suppressed with a complement",
          "[server]") {
  fixture f;
  const std::string dalil = DALIL_BINARY;
  const std::string rules = std::string(DALIL_SOURCE_DIR) + "/rules";
  import_sample(f);
  run(dalil + " batch --db " + f.db + " --rules " + rules + " --as-of 2017-06-01 2>&1");
  json::value cli = json::parse(
      run(dalil + " stats --db " + f.db + " --rules " + rules + " --format json 2>/dev/null"));
  const json::array& cli_runs = cli.at("runs").as_array();
  REQUIRE(cli_runs.size() == 1);
  const json::object& expected = cli_runs[0].as_object();
  response st = call(f.port, http::verb::get, "/api/v1/stats", "", f.bearer("auditor"));
  REQUIRE(st.status == 200);
  conforms(call(f.port, http::verb::get, "/api/v1/openapi.json").parsed(), "/api/v1/stats", "get",
           st);
  json::value stats = st.parsed();
  const json::array& runs = stats.at("runs").as_array();
  REQUIRE(runs.size() == 1);
  const json::object& r = runs[0].as_object();
  CHECK(r.at("run") == expected.at("run"));
  CHECK(r.at("as_of") == "2017-06-01");
  CHECK(r.at("applicants") == expected.at("applicants"));
  std::int64_t total =
      r.at("applicants").as_int64() - r.at("records_not_fitting_schema").as_int64();
  const json::array& rows = r.at("decisions").as_array();
  REQUIRE(rows.size() == expected.at("decisions").as_array().size());
  int suppressed = 0;
  int missing_facts = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const json::object& row = rows[i].as_object();
    const json::object& want = expected.at("decisions").as_array()[i].as_object();
    INFO(json::serialize(row));
    REQUIRE(row.at("decision") == want.at("decision"));
    // Each cell shown is the CLI's count; none is under 10; a hidden one is never alone in a
    // partition whose total is known (values + undetermined + out of force = the records).
    std::vector<std::int64_t> top;
    const json::array& values = row.at("in_force").as_object().at("values").as_array();
    const json::array& want_values = want.at("in_force").as_object().at("values").as_array();
    REQUIRE(values.size() == want_values.size());
    for (std::size_t k = 0; k < values.size(); ++k) {
      top.push_back(run_count(values[k].at("count")));
      CHECK(values[k].at("suppressed").as_bool() == (top.back() < 0));
      if (top.back() >= 0) CHECK(top.back() == want_values[k].at("count").as_int64());
    }
    top.push_back(run_count(row.at("in_force").as_object().at("undetermined")));
    if (top.back() >= 0) {
      CHECK(top.back() == want.at("in_force").as_object().at("undetermined").as_int64());
    }
    const json::object& oof = row.at("out_of_force").as_object();
    top.push_back(run_count(oof.at("count")));
    if (top.back() >= 0) CHECK(top.back() == want.at("out_of_force").as_object().at("count"));
    int hidden = 0;
    std::int64_t shown = 0;
    for (std::int64_t n : top) {
      CHECK((n < 0 || n == 0 || n >= 10));
      if (n < 0) ++hidden;
      if (n > 0) shown += n;
    }
    suppressed += hidden;
    CHECK(hidden != 1);
    if (hidden == 0) CHECK(shown == total);
    // The facts behind the undetermined decisions: counted (never alone hidden), and none when
    // the undetermined count itself is hidden.
    const json::array& missing = row.at("in_force").as_object().at("missing").as_array();
    if (top[top.size() - 2] < 0) CHECK(missing.empty());
    if (top[top.size() - 2] > 0) CHECK_FALSE(missing.empty());
    int hidden_facts = 0;
    for (const auto& m : missing) {
      std::int64_t n = run_count(m.at("count"));
      CHECK((n < 0 || n >= 10));
      CHECK(n <= top[top.size() - 2]);
      if (n < 0) ++hidden_facts;
      ++missing_facts;
    }
    // (Facts need not add up to the undetermined count, but they are suppressed as if they did:
    // a hidden one is alone only when it is the only fact.)
    if (hidden_facts == 1) CHECK(missing.size() == 1);
  }
  CHECK(suppressed > 0);     // the sample cohort has small cells…
  CHECK(missing_facts > 0);  // …and undetermined decisions
  // An official has no statistics.
  CHECK(call(f.port, http::verb::get, "/api/v1/stats", "", f.bearer("official")).status == 403);
  f.check_log();
}

TEST_CASE(
    "server: a stored run's filter is said by its fields, and a run of a few lists no decision",
    "[server]") {
  fixture f;
  const std::string dalil = DALIL_BINARY;
  const std::string rules = std::string(DALIL_SOURCE_DIR) + "/rules";
  import_sample(f);
  // One applicant picked out by id (a value that is theirs), and the cohort's refugees born
  // abroad (27) filtered on two fields.
  f.personal.emplace_back("SYN-000001");
  run(dalil + " batch --db " + f.db + " --rules " + rules +
      " --as-of 2017-06-01 --where id=SYN-000001 2>&1");
  run(dalil + " batch --db " + f.db + " --rules " + rules +
      " --as-of 2017-06-01 --where status=refugee --where born_in_morocco=false 2>&1");
  response st = call(f.port, http::verb::get, "/api/v1/stats", "", f.bearer("adviser"));
  REQUIRE(st.status == 200);
  conforms(call(f.port, http::verb::get, "/api/v1/openapi.json").parsed(), "/api/v1/stats", "get",
           st);
  CHECK(st.body.find("SYN-0") == std::string::npos);  // no applicant's id, whole or in part
  json::value stats = st.parsed();
  std::map<std::string, const json::object*> by_filter;
  for (const json::value& r : stats.at("runs").as_array()) {
    by_filter[std::string(r.at("filter").as_string())] = &r.as_object();
  }
  REQUIRE(by_filter.size() == 2);
  REQUIRE(by_filter.count("id"));
  const json::object& one = *by_filter.at("id");
  CHECK(one.at("applicants").is_null());
  CHECK(one.at("decisions").as_array().empty());
  REQUIRE(by_filter.count("status=refugee, born_in_morocco=false"));
  const json::object& refugees = *by_filter.at("status=refugee, born_in_morocco=false");
  CHECK(refugees.at("applicants").as_int64() >= 10);
  CHECK_FALSE(refugees.at("decisions").as_array().empty());
  f.check_log();
}

TEST_CASE("stats: a run's filter names the schema's fields it holds, never a personal value",
          "[server]") {
  const dalil::dsl::program& p = dalil::test_support::shipped_pack().rules->program();
  using dalil::server::run_filter_fields;
  CHECK(run_filter_fields("", p).empty());
  CHECK(run_filter_fields("id=SYN-000001", p) == "id");
  CHECK(run_filter_fields("birth_date=1989-01-28", p) == "birth_date");
  // A closed set's value is a category, said: a yes or no, an enumeration's case.
  CHECK(run_filter_fields("status=refugee and household.area=urban", p) ==
        "status=refugee, household.area=urban");
  CHECK(run_filter_fields("born_in_morocco=0 and id=X", p) == "born_in_morocco=false, id");
  CHECK(run_filter_fields("born_in_morocco=1", p) == "born_in_morocco=true");
  // A value holding " and " or "=": only a field of the schema, or one of its cases, is ever
  // taken from it.
  CHECK(run_filter_fields("id=Ali and Bob=1 and sex=female", p) == "id, sex=female");
  CHECK(run_filter_fields("id=A=B and status=refugee", p) == "id, status=refugee");
  CHECK(run_filter_fields("id=x and status=yes and status=no", p) == "id, status");
  CHECK(run_filter_fields("status=refugee and status=refugee", p) == "status=refugee");
  CHECK(run_filter_fields("no_such_field=1", p).empty());
  CHECK(run_filter_fields("id", p).empty());  // no condition
}

/// "YYYY-MM" of a month `offset` months from the month of `t`.
std::string month_text(std::chrono::system_clock::time_point t, int offset) {
  using namespace std::chrono;
  const year_month_day d{floor<days>(t)};
  const year_month m = year_month(d.year(), d.month()) + months(offset);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", static_cast<int>(m.year()),
                static_cast<unsigned>(m.month()));
  return buf;
}

TEST_CASE(
    "server: the counter's figures are released by month, a day after it ends, and never "
    "change",
    "[server]") {
  using namespace std::chrono;
  // The statistics' clock, held still: the 10th of this month at noon, then the 2nd of the next.
  auto at = std::make_shared<std::atomic<std::int64_t>>();
  const auto now = system_clock::now();
  const year_month_day today{floor<days>(now)};
  const sys_days tenth{today.year() / today.month() / 10};
  at->store(duration_cast<seconds>((tenth + hours(12)).time_since_epoch()).count());
  fixture f(seconds(1800), milliseconds(10000),
            [at] { return system_clock::time_point(seconds(at->load())); });
  const std::string previous = month_text(now, -1);
  const std::string current = month_text(now, 0);
  auto sql = [&](const std::string& q) { return run("sqlite3 " + f.db + " \"" + q + "\""); };
  const auth_header adv = f.bearer("adviser");
  // 12 decisions now, 11 of them moved to the 15th of last month (as if made then).
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    response r = call(f.port, http::verb::post, "/api/v1/evaluate",
                      f.evaluate_body(f.applicant(i), "2026-06-01"), f.bearer("official"));
    INFO(r.body);
    REQUIRE(r.status == 200);
    ids.emplace_back(r.parsed().at("decision_id").as_string());
  }
  sql("UPDATE counter_decisions SET at = '" + previous + "-15T10:00:00Z' WHERE decision_id <> '" +
      ids.back() + "'");
  // The first decision reviewed last month (its review moved there), then again this month:
  // last month counts its review of then, this month the one of now.
  auto review = [&](const std::string& id, const std::string& supersedes, bool overridden) {
    std::string body = "{\"supersedes\":" + (supersedes.empty() ? "null" : '"' + supersedes + '"') +
                       ",\"decisions\":[{\"rule\":\"assistance.legal_aid\",\"outcome\":" +
                       (overridden ? R"("overridden","value":true,"reason":"a document shown")"
                                   : R"("accepted")") +
                       "}]}";
    response r = call(f.port, http::verb::post, "/api/v1/decisions/" + id + "/review", body,
                      f.bearer("official"));
    INFO(r.body);
    REQUIRE(r.status == 201);
    return std::string(r.parsed().at("review_id").as_string());
  };
  const std::string first_review = review(ids.front(), "", true);
  sql("UPDATE reviews SET at = '" + previous + "-20T10:00:00Z'");
  review(ids.front(), first_review, true);
  // This month, 12 decisions reviewed: 11 overridden, 1 accepted (a count under 10 that
  // reviewed minus overridden would give).
  for (std::size_t i = 1; i < ids.size(); ++i) review(ids[i], "", i + 1 < ids.size());

  // By default, the latest month released: last month, with its 11 decisions.
  response st = call(f.port, http::verb::get, "/api/v1/stats", "", adv);
  REQUIRE(st.status == 200);
  conforms(call(f.port, http::verb::get, "/api/v1/openapi.json").parsed(), "/api/v1/stats", "get",
           st);
  json::value v = st.parsed();
  CHECK(v.at("period").at("month").as_string() == previous);
  CHECK(v.at("period").at("from").as_string() == previous + "-01T00:00:00Z");
  CHECK(v.at("period").at("until").as_string() == current + "-01T00:00:00Z");
  CHECK(v.at("counter_decisions").as_int64() == 11);
  CHECK(v.at("months") == json::array{json::string(previous)});
  // Last month's review of the first decision, though a later one supersedes it.
  const json::array& before = v.at("overrides").as_array();
  REQUIRE(before.size() == 1);
  CHECK(before[0].at("decision").as_string() == "assistance.legal_aid");
  CHECK(before[0].at("reviewed").at("suppressed") == true);
  const std::string released_before = st.body;
  // This month is not released yet; months must be months.
  response early = call(f.port, http::verb::get, "/api/v1/stats?month=" + current, "", adv);
  CHECK(early.status == 404);
  CHECK(early.body.find("released a day after it ends") != std::string::npos);
  for (const char* bad : {"2026-13", "1999-12", "26-12", "2026-1", "2026-00", "x"}) {
    INFO(bad);
    CHECK(
        call(f.port, http::verb::get, std::string("/api/v1/stats?month=") + bad, "", adv).status ==
        400);
  }
  // A month before any decision: nothing counted.
  response old = call(f.port, http::verb::get, "/api/v1/stats?month=2015-03", "", adv);
  REQUIRE(old.status == 200);
  CHECK(old.parsed().at("counter_decisions").is_null());
  CHECK(old.parsed().at("decisions").as_array().empty());

  // A decision made since changes nothing released: no two releases differ by one applicant.
  response more = call(f.port, http::verb::post, "/api/v1/evaluate",
                       f.evaluate_body(f.applicant(12), "2026-06-01"), f.bearer("official"));
  REQUIRE(more.status == 200);
  CHECK(call(f.port, http::verb::get, "/api/v1/stats", "", adv).body == released_before);
  CHECK(call(f.port, http::verb::get, "/api/v1/stats?month=" + previous, "", adv).body ==
        released_before);
  // Nor one stamped into last month after its release, read by another process (a server
  // started since, or another one on the store): the figures first released are kept.
  sql("UPDATE counter_decisions SET at = '" + previous + "-28T10:00:00Z' WHERE decision_id = '" +
      std::string(more.parsed().at("decision_id").as_string()) + "'");
  f.restart();
  CHECK(call(f.port, http::verb::get, "/api/v1/stats?month=" + previous, "", adv).body ==
        released_before);
  CHECK(last_line(sql("SELECT group_concat(month) FROM (SELECT month FROM counter_month_figures "
                      "ORDER BY month)")) == "2015-03," + previous);

  // This month's decision holds, for a yes-or-no of today's pack, a value of another type (as
  // if the rule had been an amount when it decided): its suppressed cell does not name it.
  sql("UPDATE counter_decisions SET outcomes = (SELECT json_set(outcomes, '$[' || o.key || "
      "'].value', '1234.50', '$[' || o.key || '].status', 'decided') FROM json_each(outcomes) o "
      "WHERE json_extract(o.value, '$.rule') = 'assistance.legal_aid') WHERE decision_id = '" +
      ids.back() + "'");
  // The 2nd of next month: this month is released, with its own decisions and review only.
  const sys_days second = sys_days{(today.year() / today.month() / 1) + months(1)} + days(1);
  at->store(duration_cast<seconds>((second + hours(1)).time_since_epoch()).count());
  response now_released = call(f.port, http::verb::get, "/api/v1/stats", "", adv);
  REQUIRE(now_released.status == 200);
  json::value w = now_released.parsed();
  CHECK(w.at("period").at("month").as_string() == current);
  CHECK(w.at("counter_decisions").is_null());  // 1 (the other moved to last month): suppressed
  CHECK(w.at("months") == json::array{json::string(previous), json::string(current)});
  const json::array& overrides = w.at("overrides").as_array();
  REQUIRE(overrides.size() == 1);
  CHECK(overrides[0].at("decision").as_string() == "assistance.legal_aid");
  CHECK(overrides[0].at("reviewed").at("count").as_int64() == 12);
  // 11 overridden of 12: shown, it would say that 1 was accepted.
  CHECK(overrides[0].at("overridden").at("suppressed") == true);
  CHECK(overrides[0].at("rate").is_null());
  bool retyped_seen = false;
  for (const json::value& d : w.at("decisions").as_array()) {
    for (const json::value& c : d.at("in_force").at("values").as_array()) {
      CHECK(c.at("suppressed") == true);  // one decision: every cell under 10
      if (d.at("decision").as_string() != "assistance.legal_aid") continue;
      CHECK(c.at("value").is_null());  // not "1234.50"
      retyped_seen = true;
    }
  }
  CHECK(retyped_seen);
  CHECK(now_released.body.find("1234.50") == std::string::npos);
  f.check_log();
}

TEST_CASE("server: static assets are embedded from server/www at build time", "[server]") {
  fixture f;
  std::size_t served = 0;
  for (const auto& e :
       fs::recursive_directory_iterator(std::string(DALIL_SOURCE_DIR) + "/server/www")) {
    if (!e.is_regular_file()) continue;
    std::string rel =
        fs::relative(e.path(), std::string(DALIL_SOURCE_DIR) + "/server/www").string();
    if (rel.front() == '.' || rel.find("/.") != std::string::npos) continue;
    response r = call(f.port, http::verb::get, "/assets/" + rel);
    INFO(rel);
    CHECK(r.status == 200);
    CHECK(r.body == slurp(e.path()));
    CHECK(r.headers["content-security-policy"].find("frame-ancestors 'none'") != std::string::npos);
    ++served;
  }
  CHECK(served >= 1);
  CHECK(call(f.port, http::verb::get, "/assets/no-such-file.js").status == 404);
  CHECK(call(f.port, http::verb::get, "/assets/../server.cpp").status == 404);
  f.check_log();
}

TEST_CASE("server: the access lines reach the log while it runs, without a value sent",
          "[server]") {
  fixture f;
  // The lines are written once the I/O thread has run what was ready (not at the stop, not
  // one write per request): each request's line is in the file soon after its answer.
  auto line_in_log = [&](const std::string& part) {
    for (int i = 0; i < 1000; ++i) {  // at most 10 s
      if (slurp(f.log).find(part) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  CHECK(call(f.port, http::verb::get, "/healthz").status == 200);
  CHECK(line_in_log(" info GET /healthz 200 "));
  response r = call(f.port, http::verb::post, "/api/v1/evaluate", f.evaluate_body(f.applicant()),
                    f.bearer("official"));
  REQUIRE(r.status == 200);
  const std::string id(json::parse(r.body).at("decision_id").as_string());
  CHECK(line_in_log(" info POST /api/v1/evaluate 200 "));
  CHECK(line_in_log(" official " + id));
  f.check_log();
}

TEST_CASE("server: plain HTTP is refused off loopback without TLS", "[server]") {
  dalil::server::config c;
  c.db = "/nonexistent/never-opened.db";
  c.rules = shipped_pack().rules;
  c.host = "0.0.0.0";
  auto s = dalil::server::server::start(c);
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().message.find("needs TLS") != std::string::npos);
}

TEST_CASE("server: TLS and plain HTTP on one loopback port (detected), HSTS over TLS", "[server]") {
  char tmpl[] = "/tmp/dalil-tls-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  fs::path dir = tmpl;
  auto s = dalil::server::server::start(tls_config(dir));
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s.has_value());
  std::uint16_t port = (*s)->port();
  {
    asio::io_context ioc;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_verify_mode(asio::ssl::verify_none);  // a self-signed certificate
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    beast::get_lowest_layer(stream).connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream.handshake(asio::ssl::stream_base::client);
    http::request<http::string_body> req(http::verb::get, "/healthz", 11);
    req.set(http::field::host, "localhost");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    CHECK(res.result_int() == 200);
    CHECK(res.body() == "{\"status\":\"ok\"}");
    CHECK(res[http::field::strict_transport_security].find("max-age=") == 0);
  }
  CHECK(call(port, http::verb::get, "/healthz").status == 200);  // plain, on loopback
  (*s)->stop();
  (*s)->wait();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_CASE("server: stopping while logins run on their pool lets them end before the I/O goes",
          "[server]") {
  // A login runs on a pool of its own (Argon2id) and hands its end back to the I/O context of
  // the connection waiting for it. Stopped with logins still on the pool (the body deadline of
  // 50 ms passes first, and the I/O contexts stop), the server used to destroy its I/O
  // contexts before the pool was done: a login ending then touched a destroyed context (a
  // crash at shutdown, seen once in a few dozen runs of the role test on a loaded machine).
  fixture f(std::chrono::seconds(1800), std::chrono::milliseconds(50));
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 24; ++i) {
    clients.emplace_back([&] {
      try {
        response r = call(f.port, http::verb::post, "/api/v1/login",
                          R"({"user":"alice","password":"a-long-password-1"})");
        if (r.status / 100 == 2) ++answered;
      } catch (const std::exception&) {
        // the server stopped before answering: what this test is about
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  f.srv->stop();
  f.srv->wait();
  f.srv.reset();  // the contexts and the pools destroyed: nothing touches the one after the other
  for (std::thread& t : clients) t.join();
  // The path this test is about was taken: some logins were still on the pool when the server
  // stopped (were every login answered first, the test would prove nothing).
  CHECK(answered.load() < 24);
}

TEST_CASE("stats: a month is released a day after it ends", "[server]") {
  using namespace std::chrono;
  using dalil::server::last_released;
  using dalil::server::parse_month;
  using dalil::server::stats_month;
  auto at = [](int y, unsigned m, unsigned d, int h, int min, int sec) {
    return system_clock::time_point(sys_days{year{y} / month{m} / day{d}}) + hours(h) +
           minutes(min) + seconds(sec);
  };
  CHECK(last_released(at(2027, 1, 1, 23, 59, 59)) == stats_month{2026, 11});
  CHECK(last_released(at(2027, 1, 2, 0, 0, 0)) == stats_month{2026, 12});
  CHECK(last_released(at(2027, 3, 1, 12, 0, 0)) == stats_month{2027, 1});
  CHECK(last_released(at(2028, 3, 1, 23, 59, 59)) == stats_month{2028, 1});  // 29 February
  CHECK(last_released(at(2028, 3, 2, 0, 0, 0)) == stats_month{2028, 2});
  CHECK(dalil::server::span_of({2026, 12}).from == "2026-12-01T00:00:00Z");
  CHECK(dalil::server::span_of({2026, 12}).until == "2027-01-01T00:00:00Z");
  CHECK(parse_month("2000-01") == stats_month{2000, 1});
  CHECK(parse_month("9999-12") == stats_month{9999, 12});
  for (const char* bad : {"1999-12", "2026-13", "2026-00", "2026-1", "2026/12", "2026-12-01", ""}) {
    INFO(bad);
    CHECK_FALSE(parse_month(bad));
  }
}

TEST_CASE("stats: a suppressed cell names its value only when today's rule has it in a closed set",
          "[server]") {
  const auto& p = shipped_pack().rules->program();
  auto rule = [&](const char* name) { return &p.rules[*p.find_rule(name)]; };
  const dalil::dsl::rule_info* flag = rule("assistance.legal_aid");
  CHECK(dalil::server::closed_value(p, flag, "true"));
  CHECK(dalil::server::closed_value(p, flag, "false"));
  CHECK_FALSE(dalil::server::closed_value(p, flag, "\"1234.50\""));  // an amount, once
  const dalil::dsl::rule_info* category = rule("health.ramed");
  const auto& cases = p.enums[category->t.ref].cases;
  REQUIRE_FALSE(cases.empty());
  CHECK(dalil::server::closed_value(p, category, '"' + cases.front() + '"'));
  CHECK_FALSE(dalil::server::closed_value(p, category, '"' + cases.front() + "x\""));
  CHECK_FALSE(dalil::server::closed_value(p, category, "12"));
  CHECK_FALSE(dalil::server::closed_value(p, rule("health.per_person_income"), "\"12.00\""));
  CHECK_FALSE(dalil::server::closed_value(p, nullptr, "true"));
}
