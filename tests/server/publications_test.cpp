// Publications and the advisers' API against a real server and the real CLI: `dalil publish`
// refusals, the server without --rules deciding with the publication in effect on each as-of
// date and seeing new ones without a restart, the no-ruleset problem, the publication recorded
// in counter decisions, and POST /api/v1/diff, /api/v1/impact and /api/v1/whatif answering what
// `dalil diff`, `dalil impact` and `dalil whatif` answer, for advisers and auditors only, the
// impact audited as a read, the what-if audited without a fact.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dsl/value.hpp"
#include "server/publications.hpp"
#include "server/server.hpp"
#include "tests/server/support.hpp"
#include "tests/support/cubes_pack.hpp"

namespace fs = std::filesystem;
using namespace dalil::test_support;  // NOLINT(google-build-using-namespace): test helpers

namespace {

const std::string dalil_cli = DALIL_BINARY;                             // NOLINT(cert-err58-cpp)
const std::string pack_dir = std::string(DALIL_SOURCE_DIR) + "/rules";  // NOLINT(cert-err58-cpp)

/// A store with the sample cohort, tokens of every role, an adviser with a password, and a
/// server without --rules (its store's publications, polled every 100 ms).
struct fixture {
  fs::path dir;
  std::string db;
  std::string log;
  std::string smig;     // the pack with a new SMIG from 2027-01-01 (its tests still pass)
  std::string failing;  // the pack with a moved RAMED ceiling (its own tests fail)
  std::map<std::string, std::string> tokens;
  std::unique_ptr<dalil::server::server> srv;
  std::uint16_t port = 0;

  /// `reports_limit`: the advisers' reports' time limit (the server's is 120 s).
  explicit fixture(std::chrono::milliseconds reports_limit = std::chrono::seconds(120)) {
    char tmpl[] = "/tmp/dalil-publications-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    dir = tmpl;
    db = (dir / "store.db").string();
    log = (dir / "server.log").string();
    smig = copy_pack("smig", "  from 2026-01-01 = 17.92 MAD\n",
                     "  from 2026-01-01 = 17.92 MAD\n  from 2027-01-01 = 18.79 MAD\n",
                     "housing.dalil");
    failing =
        copy_pack("failing", "  from 2008-10-16 = 5650 MAD\n",
                  "  from 2008-10-16 = 5650 MAD\n  from 2015-01-01 = 7000 MAD\n", "health.dalil");
    run(dalil_cli + " import --db " + db + " --rules " + pack_dir + " " + DALIL_SOURCE_DIR +
        "/data/sample-cohort.jsonl 2>&1");
    auto token = [&](const std::string& name, const std::string& role, const std::string& office) {
      tokens[name] =
          last_line(run(dalil_cli + " token create " + name + " --role " + role +
                        (office.empty() ? "" : " --office " + office) + " --db " + db + " 2>&1"));
    };
    token("official", "official", "rabat");
    token("adviser", "adviser", "");
    token("auditor", "auditor", "");
    run("printf '%s\\n' 'an-adviser-password' | " + dalil_cli +
        " user add ana --role adviser --db " + db + " 2>&1");
    dalil::server::config c;
    c.db = db;  // no rules: the publications
    c.port = 0;
    c.threads = 2;
    c.log_file = log;
    c.publication_poll = std::chrono::milliseconds(100);
    c.reports_time_limit = reports_limit;
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
  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;

  /// A copy of the shipped pack with one edit in `file`.
  std::string copy_pack(const std::string& name, const std::string& from, const std::string& to,
                        const std::string& file) {
    fs::path out = dir / name;
    fs::copy(pack_dir, out, fs::copy_options::recursive);
    std::string text = slurp(out / file);
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    std::ofstream(out / file, std::ios::binary | std::ios::trunc) << text;
    return out.string();
  }

  auth_header bearer(const std::string& name) const { return {tokens.at(name), "", ""}; }

  /// `dalil publish`; the publication's id.
  std::int64_t publish(const std::string& rules, const std::string& from) {
    std::string out = run(dalil_cli + " publish --db " + db + " --rules " + rules +
                          " --approved-by 'Commission SNIA' --from " + from + " 2>&1");
    std::smatch m;
    REQUIRE(std::regex_search(out, m, std::regex("published ([0-9]+): ruleset")));
    return std::stoll(m[1]);
  }

  std::string sql(const std::string& query) const {
    return run("sqlite3 " + db + " \"" + query + "\"");
  }

  std::string record(int line) const {
    std::ifstream in(std::string(DALIL_SOURCE_DIR) + "/data/sample-cohort.jsonl");
    std::string rec;
    for (int i = 0; i <= line; ++i) std::getline(in, rec);
    return rec;
  }

  response evaluate(const std::string& as_of, int line = 0) {
    return call(port, http::verb::post, "/api/v1/evaluate",
                "{\"as_of\":\"" + as_of + "\",\"applicant\":" + record(line) + ",\"trace\":false}",
                bearer("official"));
  }

  /// Evaluates until the answer's publication is `id` (the server polls every 100 ms): a new
  /// publication must be seen within 5 s, without a restart.
  response evaluate_until(const std::string& as_of, std::int64_t id) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);  // a loaded machine
    for (;;) {
      response r = evaluate(as_of);
      if (r.status == 200 && r.parsed().at("publication") == id) return r;
      if (std::chrono::steady_clock::now() > until) {
        INFO(r.status << " " << r.body.substr(0, 300));
        FAIL("the server did not take publication " << id << " for " << as_of);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
};

/// An applicant born in Morocco, in an irregular situation since 2024 (tests/analysis/
/// whatif_cli_test.sh holds the same): exempt from national preference from 2025-04-15.
const char* const whatif_facts =
    R"({"id":"T-1","sex":"female","birth_date":"1989-01-28","nationality":"CM",)"
    R"("status":"irregular","residence_card":null,"entry_date":"2024-10-15",)"
    R"("resident_since":"2024-10-15","born_in_morocco":true,"application_date":"2024-11-02",)"
    R"("spouse":null,"child_of_qualifying_spouse":false,"unaccompanied_minor":false,)"
    R"("work_contract":null,"professional_activity":false,"serious_illness":false,)"
    R"("regularized_in":null,"job_category":"none","household":{"size":2,)"
    R"("annual_income":"14421.03","area":"urban","commune_poverty_rate":"8.2",)"
    R"("socioeconomic_score":"11.65","rsu_score":"6.4008639"},"medical_coverage":false,)"
    R"("owns_property":false,"received_housing_aid":false,"housing":{"price":"200000.00"}})";

std::string whatif_body(const std::string& extra = "") {
  return std::string(R"({"facts":)") + whatif_facts +
         R"(,"as_of":"2025-01-01","goal":"employment.national_preference_exempt=true")" + extra +
         "}";
}

/// Whether a flip's value is a category (a yes or no, an enumeration's case such as "refugee",
/// null for undetermined, "(unknown)" for a missing fact), not an amount, a date or a number.
bool category_value(const json::value& v) {
  if (v.is_bool() || v.is_null()) return true;
  if (!v.is_string()) return false;
  const std::string s(v.as_string());
  return s == "(unknown)" || std::regex_match(s, std::regex("[a-z][a-z0-9_]*"));
}

/// `full` (an auditor's flip) as an adviser gets it: the values that are not categories left
/// out with their member; `withheld` counts them. Kept: a parameter's value, and that of a step
/// that reads neither a fact nor a rule (computed from parameters alone: the pack's, not the
/// applicant's). `key` is the member `full` is under.
json::value categories_only(const json::value& full, const std::string& key, int& withheld) {
  if (full.is_array()) {
    json::array out;
    for (const json::value& v : full.as_array()) out.push_back(categories_only(v, key, withheld));
    return out;
  }
  if (!full.is_object()) return full;
  const json::object& o = full.as_object();
  const bool packs_own = o.contains("facts") && o.at("facts").as_array().empty() &&
                         o.contains("reads") && o.at("reads").as_array().empty();
  json::object out;
  for (const auto& m : o) {
    if (m.key() == "value" && key != "parameters" && !packs_own && !category_value(m.value())) {
      ++withheld;
      continue;
    }
    out[m.key()] = categories_only(m.value(), std::string(m.key()), withheld);
  }
  return out;
}

/// A publication's ruleset hash, as a JSON string (to compare with answers).
json::value ruleset_of(const std::string& db, std::int64_t id) {
  return json::string(
      last_line(run("sqlite3 " + db + " \"SELECT ruleset_hash FROM publications WHERE " +
                    "publication_id=" + std::to_string(id) + "\"")));
}

}  // namespace

TEST_CASE("publish: refused for a pack that fails its tests, a bad date, a read-only store",
          "[publications]") {
  fixture f;
  std::string out;
  // The pack's own tests fail: nothing stored, nothing audited.
  CHECK(run_status(dalil_cli + " publish --db " + f.db + " --rules " + f.failing +
                       " --approved-by X --from 2020-01-01 2>&1",
                   out) == 1);
  CHECK(out.find("tests fail") != std::string::npos);
  CHECK(out.find("not published") != std::string::npos);
  CHECK(last_line(f.sql("SELECT count(*) FROM publications")) == "0");
  CHECK(last_line(f.sql("SELECT count(*) FROM audit WHERE action='publish'")) == "0");
  // A date that is not one, a missing approver: usage errors.
  CHECK(run_status(dalil_cli + " publish --db " + f.db + " --rules " + pack_dir +
                       " --approved-by X --from 2020-02-30 2>&1",
                   out) == 2);
  CHECK(run_status(dalil_cli + " publish --db " + f.db + " --rules " + pack_dir +
                       " --approved-by ' ' --from 2020-02-01 2>&1",
                   out) == 2);
  // A read-only store: refused (3), nothing written.
  fs::path ro = f.dir / "ro";
  fs::create_directory(ro);
  run("sqlite3 " + f.db + " \".backup " + (ro / "store.db").string() + "\"");
  fs::permissions(ro / "store.db",
                  fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                  fs::perm_options::remove);
  fs::permissions(ro, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                  fs::perm_options::remove);
  CHECK(run_status(dalil_cli + " publish --db " + (ro / "store.db").string() + " --rules " +
                       pack_dir + " --approved-by X --from 2020-01-01 2>&1",
                   out) == 3);
  CHECK(out.find("read-only") != std::string::npos);
  fs::permissions(ro, fs::perms::owner_all, fs::perm_options::add);
  CHECK(last_line(run("sqlite3 " + (ro / "store.db").string() +
                      " \"SELECT count(*) FROM publications\"")) == "0");
  // A good one: listed by the CLI as by the API (the same JSON).
  CHECK(f.publish(pack_dir, "2017-01-01") == 1);
  std::string listed = run(dalil_cli + " publications --db " + f.db + " --format json");
  // The server sees it within its poll interval (100 ms here), without a restart.
  response api;
  for (int i = 0; i < 200; ++i) {  // at most 10 s and more (a loaded machine)
    api = call(f.port, http::verb::get, "/api/v1/publications", "", f.bearer("adviser"));
    if (api.status == 200 && api.parsed().at("in_effect") == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(api.status == 200);
  CHECK(json::parse(listed) == api.parsed());
  CHECK(api.parsed().at("in_effect") == 1);
  CHECK(run(dalil_cli + " audit verify --db " + f.db).find("verified") != std::string::npos);
}

TEST_CASE("publications: the one in effect per as-of date, new ones seen without a restart",
          "[publications]") {
  fixture f;
  // Nothing published: every date answers the no-ruleset problem, never a guess.
  response none = f.evaluate("2017-06-01");
  CHECK(none.status == 409);
  CHECK(none.headers["content-type"] == "application/problem+json");
  CHECK(none.parsed().at("type") == "https://dalil.ma/problems/no-ruleset");
  CHECK(call(f.port, http::verb::get, "/api/v1/schema?lang=fr", "", f.bearer("official")).status ==
        409);
  CHECK(call(f.port, http::verb::get, "/api/v1/rules?as_of=2017-06-01", "", f.bearer("adviser"))
            .status == 409);
  CHECK(last_line(f.sql("SELECT count(*) FROM counter_decisions")) == "0");

  std::int64_t first = f.publish(pack_dir, "2017-01-01");
  response a = f.evaluate_until("2017-06-01", first);
  CHECK(a.parsed().at("ruleset").at("hash") == ruleset_of(f.db, first));
  CHECK(f.evaluate("2016-12-31").status == 409);  // before any publication takes effect
  // The schema and the rules of the one in effect.
  response schema =
      call(f.port, http::verb::get, "/api/v1/schema?lang=en", "", f.bearer("official"));
  REQUIRE(schema.status == 200);
  CHECK(schema.parsed().at("ruleset").at("hash") == ruleset_of(f.db, first));

  std::int64_t second = f.publish(f.smig, "2027-01-01");
  response b = f.evaluate_until("2027-06-01", second);
  CHECK(b.parsed().at("ruleset").at("hash") == ruleset_of(f.db, second));
  CHECK(ruleset_of(f.db, second) != ruleset_of(f.db, first));
  CHECK(f.evaluate("2026-12-31").parsed().at("publication") == first);
  CHECK(f.evaluate("2027-01-01").parsed().at("publication") == second);
  CHECK(call(f.port, http::verb::get, "/api/v1/rules?as_of=2027-02-01", "", f.bearer("adviser"))
            .parsed()
            .at("ruleset")
            .at("hash") == ruleset_of(f.db, second));
  // The schema of the pack in effect on a date: an answer's as_of names the pack that decided
  // it, whose values and titles the page offers for its review.
  auto schema_on = [&](const std::string& as_of) {
    return call(f.port, http::verb::get, "/api/v1/schema?lang=fr&as_of=" + as_of, "",
                f.bearer("official"));
  };
  CHECK(schema_on("2027-06-01").parsed().at("ruleset").at("hash") == ruleset_of(f.db, second));
  CHECK(schema_on("2017-06-01").parsed().at("ruleset").at("hash") == ruleset_of(f.db, first));
  CHECK(schema_on("2016-12-31").status == 409);  // none in effect: never another's
  CHECK(schema_on("2017-13-01").status == 400);
  CHECK(schema_on("").status == 400);
  // By the hash an answer names: exact, whichever publication is in effect on any date.
  auto schema_of = [&](const std::string& query) {
    return call(f.port, http::verb::get, "/api/v1/schema?lang=ar&" + query, "",
                f.bearer("adviser"));
  };
  auto hash_of = [&](std::int64_t id) { return std::string(ruleset_of(f.db, id).as_string()); };
  for (std::int64_t id : {first, second}) {
    response r = schema_of("ruleset=" + hash_of(id));
    REQUIRE(r.status == 200);
    CHECK(r.parsed().at("ruleset").at("hash") == ruleset_of(f.db, id));
    CHECK(r.parsed().at("lang") == "ar");
  }
  CHECK(schema_of("ruleset=" + std::string(64, '0')).status == 404);
  CHECK(schema_of("ruleset=" + hash_of(first).substr(0, 12)).status == 400);
  CHECK(schema_of("ruleset=" + hash_of(first) + "&as_of=2017-06-01").status == 400);
  // Two from the same date: the latest published wins.
  std::int64_t third = f.publish(pack_dir, "2027-01-01");
  f.evaluate_until("2027-06-01", third);
  CHECK(f.evaluate("2026-06-01").parsed().at("publication") == first);

  // The decision records its publication: stored, read back, and in audit verify's reach.
  std::string id(b.parsed().at("decision_id").as_string());
  response read = call(f.port, http::verb::get, "/api/v1/decisions/" + id, "", f.bearer("auditor"));
  REQUIRE(read.status == 200);
  CHECK(read.parsed().at("publication") == second);
  CHECK(last_line(f.sql("SELECT publication_id FROM counter_decisions WHERE decision_id='" + id +
                        "'")) == std::to_string(second));
  f.srv->stop();
  f.srv->wait();
  CHECK(run(dalil_cli + " audit verify --db " + f.db).find("verified") != std::string::npos);
  // Moving a decision to another publication is tampering (the row's digest holds the id).
  fs::path copy = f.dir / "tampered.db";
  run("sqlite3 " + f.db + " \".backup " + copy.string() + "\"");
  run("sqlite3 " + copy.string() + " \"UPDATE counter_decisions SET publication_id=" +
      std::to_string(first) + " WHERE decision_id='" + id + "'\"");
  std::string out;
  CHECK(run_status(dalil_cli + " audit verify --db " + copy.string() + " 2>&1", out) == 1);
  CHECK(out.find("counter decision " + id) != std::string::npos);
}

TEST_CASE("publications: a publication changed, deleted or inserted is caught by audit verify",
          "[publications]") {
  fixture f;
  f.publish(pack_dir, "2017-01-01");
  f.publish(f.smig, "2027-01-01");
  f.srv->stop();
  f.srv->wait();
  struct tamper {
    std::string sql;
    std::string named;
  };
  const std::vector<tamper> cases = {
      {"UPDATE publications SET effective_from='2016-01-01' WHERE publication_id=2",
       "publication 2 (audit entry"},
      {"UPDATE publications SET ruleset_hash=(SELECT ruleset_hash FROM publications WHERE "
       "publication_id=1) WHERE publication_id=2",
       "publication 2"},
      {"UPDATE publications SET approved_by='someone else' WHERE publication_id=1",
       "publication 1"},
      {"DELETE FROM publications WHERE publication_id=2", "publication 2 (audit entry"},
      {"INSERT INTO publications(ruleset_hash, approved_by, effective_from, published_at, actor) "
       "SELECT ruleset_hash, 'x', '2030-01-01', published_at, actor FROM publications WHERE "
       "publication_id=1",
       "publication 3 has no audit entry"},
  };
  for (const tamper& t : cases) {
    fs::path copy = f.dir / "tampered.db";
    fs::remove(copy);
    run("sqlite3 " + f.db + " \".backup " + copy.string() + "\"");
    run("sqlite3 " + copy.string() + " \"PRAGMA foreign_keys=OFF; " + t.sql + "\"");
    std::string out;
    INFO(t.sql);
    CHECK(run_status(dalil_cli + " audit verify --db " + copy.string() + " 2>&1", out) == 1);
    CHECK(out.find(t.named) != std::string::npos);
  }
  CHECK(run(dalil_cli + " audit verify --db " + f.db).find("verified") != std::string::npos);
}

TEST_CASE("advisers' API: roles, CSRF, bad requests, and the OpenAPI document", "[publications]") {
  fixture f;
  f.publish(pack_dir, "2017-01-01");
  f.publish(f.smig, "2027-01-01");
  const std::string diff = R"({"old":1,"new":2,"as_of":"2027-06-01","lang":"ar"})";
  const std::string impact = R"({"old":1,"new":2,"as_of":"2027-06-01"})";
  struct route_case {
    http::verb method;
    std::string target;
    std::string body;
  };
  const std::vector<route_case> routes = {{http::verb::get, "/api/v1/publications", ""},
                                          {http::verb::post, "/api/v1/diff", diff},
                                          {http::verb::post, "/api/v1/impact", impact},
                                          {http::verb::post, "/api/v1/whatif", whatif_body()}};
  for (const route_case& rc : routes) {
    for (const std::string who : {"none", "official", "adviser", "auditor"}) {
      response r = call(f.port, rc.method, rc.target, rc.body,
                        who == "none" ? auth_header{} : f.bearer(who));
      INFO(who << " " << rc.target << " → " << r.status << " " << r.body.substr(0, 200));
      if (who == "adviser" || who == "auditor") {
        CHECK(r.status == 200);
      } else {
        CHECK(r.status == (who == "none" ? 401 : 403));  // officials are refused
        CHECK(r.headers["content-type"] == "application/problem+json");
      }
    }
  }
  // A browser session: unsafe requests need the CSRF token.
  response login = call(f.port, http::verb::post, "/api/v1/login",
                        R"({"user":"ana","password":"an-adviser-password"})");
  REQUIRE(login.status == 200);
  std::string cookie = login.headers["set-cookie"];
  std::string value = cookie.substr(13, cookie.find(';') - 13);
  std::string csrf(login.parsed().at("csrf").as_string());
  response forged = call(f.port, http::verb::post, "/api/v1/diff", diff, {"", value, "wrong"});
  CHECK(forged.status == 403);
  CHECK(forged.parsed().at("type") == "https://dalil.ma/problems/csrf");
  CHECK(call(f.port, http::verb::post, "/api/v1/diff", diff, {"", value, csrf}).status == 200);
  CHECK(call(f.port, http::verb::get, "/api/v1/publications", "", {"", value, ""}).status == 200);

  // Bad requests: where and why, by pointer.
  auto adv = f.bearer("adviser");
  auto pointer_of = [&](const std::string& target, const std::string& body) {
    response r = call(f.port, http::verb::post, target, body, adv);
    INFO(target << " " << body << " → " << r.status << " " << r.body);
    CHECK(r.status == 400);
    const json::value v = r.parsed();
    return v.as_object().contains("errors")
               ? std::string(v.at("errors").at(0).at("pointer").as_string())
               : std::string("-");
  };
  CHECK(pointer_of("/api/v1/diff", R"({"new":2})") == "/old");
  CHECK(pointer_of("/api/v1/diff", R"({"old":"1","new":2})") == "/old");
  CHECK(pointer_of("/api/v1/diff", R"({"old":1,"new":2,"lang":"de"})") == "/lang");
  CHECK(pointer_of("/api/v1/diff", R"({"old":1,"new":2,"where":[]})").empty());  // unknown member
  CHECK(pointer_of("/api/v1/impact", R"({"old":1,"new":2})") == "/as_of");
  CHECK(pointer_of("/api/v1/impact",
                   R"({"old":1,"new":2,"as_of":"2027-06-01","where":["nofield=1"]})") ==
        "/where/0");
  CHECK(pointer_of("/api/v1/impact",
                   R"({"old":1,"new":2,"as_of":"2027-06-01","where":"status=refugee"})") ==
        "/where");
  CHECK(pointer_of("/api/v1/diff", "{") == "-");  // malformed JSON
  CHECK(pointer_of("/api/v1/whatif", R"({"as_of":"2025-01-01","goal":"health.ramed=poor"})") ==
        "/facts");
  CHECK(pointer_of("/api/v1/whatif", whatif_body(R"(,"max":9)")) == "/max");
  CHECK(pointer_of("/api/v1/whatif", whatif_body(R"(,"lang":"de")")) == "/lang");
  CHECK(pointer_of("/api/v1/whatif", std::string(R"({"facts":)") + whatif_facts +
                                         R"(,"as_of":"2025-01-01","goal":"health.ramed"})") ==
        "/goal");
  CHECK(pointer_of("/api/v1/whatif", std::string(R"({"facts":)") + whatif_facts +
                                         R"(,"as_of":"2025-01-01","goal":"health.nope=true"})") ==
        "/goal");
  CHECK(pointer_of("/api/v1/whatif", std::string(R"({"facts":)") + whatif_facts +
                                         R"(,"as_of":"2025-01-01","goal":"health.ramed=rich"})") ==
        "/goal");
  CHECK(pointer_of("/api/v1/whatif", std::string(R"({"facts":)") + whatif_facts +
                                         R"(,"as_of":"1850-01-01","goal":"health.ramed=poor"})") ==
        "/as_of");
  {
    // A fact the record reader refuses: its pointer and the rule broken, never its value.
    std::string bad = whatif_body();
    bad.replace(bad.find("\"14421.03\""), 10, "\"-77777.01\"");
    response r = call(f.port, http::verb::post, "/api/v1/whatif", bad, adv);
    CHECK(r.status == 400);
    CHECK(r.parsed().at("errors").at(0).at("pointer") == "/facts/household/annual_income");
    CHECK(r.body.find("77777") == std::string::npos);
  }
  response missing = call(f.port, http::verb::post, "/api/v1/diff", R"({"old":1,"new":7})", adv);
  CHECK(missing.status == 404);
  CHECK(missing.parsed().at("detail").as_string().find("no publication 7") != json::string::npos);
  response nobody =
      call(f.port, http::verb::post, "/api/v1/impact",
           R"({"old":1,"new":2,"as_of":"2027-06-01","where":["nationality=XX"]})", adv);
  CHECK(nobody.status == 409);
  // A value of another type than its field's: 400, naming the cases, never the value.
  response not_a_case = call(
      f.port, http::verb::post, "/api/v1/impact",
      R"({"old":1,"new":2,"as_of":"2027-06-01","where":["sex=female","status=tourist"]})", adv);
  CHECK(not_a_case.status == 400);
  CHECK(not_a_case.parsed().at("errors").at(0).at("pointer") == "/where/1");
  CHECK(not_a_case.body.find("not one of its cases (regular,") != std::string::npos);
  CHECK(not_a_case.body.find("tourist") == std::string::npos);
  response a_flag =
      call(f.port, http::verb::post, "/api/v1/impact",
           R"({"old":1,"new":2,"as_of":"2027-06-01","where":["born_in_morocco=yes"]})", adv);
  CHECK(a_flag.status == 400);
  CHECK(a_flag.body.find("takes true or false") != std::string::npos);
  CHECK(call(f.port, http::verb::post, "/api/v1/diff", diff, adv, "text/plain").status == 415);

  // The document lists the routes, and the answers fit it.
  json::value doc = call(f.port, http::verb::get, "/api/v1/openapi.json").parsed();
  conforms(doc, "/api/v1/publications", "get",
           call(f.port, http::verb::get, "/api/v1/publications", "", adv));
  conforms(doc, "/api/v1/diff", "post", call(f.port, http::verb::post, "/api/v1/diff", diff, adv));
  conforms(doc, "/api/v1/diff", "post", missing);
  conforms(doc, "/api/v1/impact", "post", not_a_case);
  conforms(doc, "/api/v1/impact", "post",
           call(f.port, http::verb::post, "/api/v1/impact", impact, adv));
  conforms(doc, "/api/v1/impact", "post", nobody);
  conforms(doc, "/api/v1/impact", "post",
           call(f.port, http::verb::post, "/api/v1/impact", impact, f.bearer("official")));
  conforms(doc, "/api/v1/whatif", "post",
           call(f.port, http::verb::post, "/api/v1/whatif", whatif_body(), adv));
  conforms(doc, "/api/v1/whatif", "post",
           call(f.port, http::verb::post, "/api/v1/whatif", whatif_body(), f.bearer("official")));
  conforms(doc, "/api/v1/evaluate", "post", f.evaluate("2016-01-01"));  // no-ruleset
  conforms(doc, "/api/v1/evaluate", "post", f.evaluate_until("2027-06-01", 2));
}

TEST_CASE("advisers' API: the diff and the impact answer what the CLI answers (impact audited)",
          "[publications]") {
  fixture f;
  f.publish(pack_dir, "2017-01-01");
  f.publish(f.smig, "2027-01-01");
  auto adv = f.bearer("adviser");
  auto aud = f.bearer("auditor");
  // The diff: `dalil diff`'s JSON, on the packs the publications hold (the same solver limit).
  // (exit 1: the versions differ)
  std::string cli_diff;
  CHECK(run_status(
            dalil_cli + " diff " + pack_dir + " " + f.smig + " --format json --timeout-ms 5000",
            cli_diff) == 1);
  response api_diff = call(f.port, http::verb::post, "/api/v1/diff", R"({"old":1,"new":2})", adv);
  REQUIRE(api_diff.status == 200);
  CHECK(api_diff.parsed() == json::parse(cli_diff));
  // It found the one decision the new SMIG changes.
  std::set<std::string> different;
  const json::value diff_json = api_diff.parsed();  // kept: the loop reads into it
  for (const auto& d : diff_json.at("decisions").as_array()) {
    if (d.at("verdict") == "different") different.emplace(d.at("decision").as_string());
  }
  CHECK(different == std::set<std::string>{"housing.vit_140k"});
  std::string cli_dated;
  CHECK(run_status(dalil_cli + " diff " + pack_dir + " " + f.smig +
                       " --format json --timeout-ms 5000 --as-of 2026-06-01",
                   cli_dated) == 0);  // the same on that date: proved
  CHECK(call(f.port, http::verb::post, "/api/v1/diff", R"({"old":1,"new":2,"as_of":"2026-06-01"})",
             adv)
            .parsed() == json::parse(cli_dated));

  // The impact: `dalil impact --format json`'s summary, plus the flips.
  std::string entries_before = last_line(f.sql("SELECT count(*) FROM audit"));
  response adviser = call(f.port, http::verb::post, "/api/v1/impact",
                          R"({"old":1,"new":2,"as_of":"2027-06-01"})", adv);
  REQUIRE(adviser.status == 200);
  response auditor = call(f.port, http::verb::post, "/api/v1/impact",
                          R"({"old":1,"new":2,"as_of":"2027-06-01"})", aud);
  REQUIRE(auditor.status == 200);
  fs::path out = f.dir / "impact-out";
  std::string cli =
      run(dalil_cli + " impact --db " + f.db + " --old " + pack_dir + " --new " + f.smig +
          " --as-of 2027-06-01 --format json --reveal-ids --out " + out.string() + " 2>/dev/null");
  std::string cli_pseudo =
      run(dalil_cli + " impact --db " + f.db + " --old " + pack_dir + " --new " + f.smig +
          " --as-of 2027-06-01 --format json 2>/dev/null");
  json::object a = adviser.parsed().as_object();
  json::object b = auditor.parsed().as_object();
  json::array adviser_flips = a.at("flip_list").as_array();
  json::array auditor_flips = b.at("flip_list").as_array();
  CHECK(a.at("flip_list_truncated") == false);
  CHECK(a.at("flip_values") == "categories");
  CHECK(b.at("flip_values") == "all");
  for (json::object* o : {&a, &b}) {
    o->erase("flip_list");
    o->erase("flip_list_truncated");
    o->erase("flip_values");
  }
  CHECK(json::value(a) == json::parse(cli_pseudo));
  CHECK(json::value(b) == json::parse(cli));
  CHECK(a.at("ids") == "pseudonymised");
  CHECK(b.at("ids") == "revealed");
  REQUIRE(a.at("flips").as_int64() > 0);
  CHECK(static_cast<std::int64_t>(adviser_flips.size()) == a.at("flips").as_int64());
  // The auditor's flips are flips.jsonl's lines; the adviser's the same with pseudonyms.
  std::ifstream lines(out / "flips.jsonl");
  std::vector<json::value> jsonl;
  for (std::string line; std::getline(lines, line);) jsonl.push_back(json::parse(line));
  REQUIRE(jsonl.size() == auditor_flips.size());
  std::set<std::string> ids;
  for (std::size_t i = 0; i < jsonl.size(); ++i) {
    CHECK(auditor_flips[i] == jsonl[i]);
    ids.emplace(jsonl[i].at("applicant").as_string());
  }
  // The adviser's: the same flips, each with a pseudonym, listed in the pseudonyms' order (not
  // the cohort's), and with the values that are not categories left out.
  int withheld = 0;
  std::vector<std::string> expected;
  std::vector<std::string> got;
  std::vector<std::string> pseudonyms;
  for (std::size_t i = 0; i < jsonl.size(); ++i) {
    json::object full = categories_only(jsonl[i], "", withheld).as_object();
    full["applicant"] = "";
    expected.push_back(json::serialize(full));
    json::object pseudo = adviser_flips[i].as_object();
    std::string who(pseudo.at("applicant").as_string());
    CHECK(std::regex_match(who, std::regex("[0-9a-f]{16}")));
    CHECK(ids.count(who) == 0);
    pseudonyms.push_back(who);
    CHECK(adviser.body.find(std::string(jsonl[i].at("applicant").as_string())) ==
          std::string::npos);
    pseudo["applicant"] = "";
    got.push_back(json::serialize(pseudo));
  }
  CHECK(std::is_sorted(pseudonyms.begin(), pseudonyms.end()));
  std::sort(expected.begin(), expected.end());
  std::sort(got.begin(), got.end());
  CHECK(got == expected);
  // The SMIG's flips are explained by the monthly SMIG, the pack's own amount: kept.
  CHECK(adviser.body.find(R"("rule":"housing.smig_monthly","value":"3588.89")") !=
        std::string::npos);
  // Each API impact is an audited read of the cohort, by its principal, saying how ids went.
  std::string reads = f.sql(
      "SELECT actor || ' ' || json_extract(details, '$.ids') || ' ' || json_extract(details, "
      "'$.records') FROM audit WHERE action='read' AND subject='cohort' AND seq > " +
      entries_before + " ORDER BY seq");
  CHECK(reads.find("adviser pseudonymised 300\nauditor revealed 300\n") == 0);
  // A filter narrows the cohort read (and the entry says so).
  response refugees =
      call(f.port, http::verb::post, "/api/v1/impact",
           R"({"old":1,"new":2,"as_of":"2027-06-01","where":["status=refugee"]})", adv);
  REQUIRE(refugees.status == 200);
  CHECK(refugees.parsed().at("filter") == "status=refugee");
  CHECK(refugees.parsed().at("records").as_int64() < 300);
  CHECK(last_line(f.sql("SELECT json_extract(details, '$.filter') FROM audit WHERE action='read' "
                        "AND actor='adviser' ORDER BY seq DESC LIMIT 1")) == "status=refugee");
  // An adviser cannot single an applicant out: no filter on the id (whether it exists or not),
  // and no cohort of fewer than 10 records (one answer for none and for a few; the attempt,
  // which counted the matching records, is audited with its count: nothing else is read).
  const std::string reads_before = last_line(f.sql("SELECT count(*) FROM audit"));
  for (const std::string& where : {std::string("SYN-000007"), std::string("NO-SUCH-ID")}) {
    response by_id =
        call(f.port, http::verb::post, "/api/v1/impact",
             R"({"old":1,"new":2,"as_of":"2027-06-01","where":["id=)" + where + R"("]})", adv);
    CHECK(by_id.status == 403);
    CHECK(by_id.body.find(where) == std::string::npos);
  }
  const std::string rare = last_line(
      f.sql("SELECT json_extract(json, '$.nationality') AS n FROM records WHERE latest=1 GROUP BY "
            "n HAVING count(*) BETWEEN 1 AND 9 ORDER BY n LIMIT 1"));
  REQUIRE_FALSE(rare.empty());
  response few = call(
      f.port, http::verb::post, "/api/v1/impact",
      R"({"old":1,"new":2,"as_of":"2027-06-01","where":["nationality=)" + rare + R"("]})", adv);
  response none = call(f.port, http::verb::post, "/api/v1/impact",
                       R"({"old":1,"new":2,"as_of":"2027-06-01","where":["nationality=QQ"]})", adv);
  CHECK(few.status == 409);
  CHECK(none.status == 409);
  CHECK(few.parsed().at("detail") == none.parsed().at("detail"));
  CHECK(few.body.find(rare) == std::string::npos);
  CHECK(std::stoll(last_line(f.sql("SELECT count(*) FROM audit"))) == std::stoll(reads_before) + 2);
  CHECK(
      f.sql("SELECT actor || ' ' || subject || ' ' || json_extract(details, '$.filter') || ' ' || "
            "json_extract(details, '$.refused') FROM audit WHERE action='read' AND seq > " +
            reads_before + " ORDER BY seq") ==
      "adviser cohort nationality too few records match\n"
      "adviser cohort nationality too few records match\n");
  // An auditor, who sees ids, may: the read is audited.
  response audited =
      call(f.port, http::verb::post, "/api/v1/impact",
           R"({"old":1,"new":2,"as_of":"2027-06-01","where":["id=SYN-000007"]})", aud);
  CHECK(audited.status == 200);
  CHECK(audited.parsed().at("records") == 1);
  // No applicant id in the server's log.
  f.srv->stop();
  f.srv->wait();
  std::string text = slurp(f.log);
  for (const std::string& id : ids) CHECK(text.find(id) == std::string::npos);
}

TEST_CASE("advisers' API: the what-if answers what dalil whatif answers, audited without a fact",
          "[publications]") {
  fixture f;
  f.publish(pack_dir, "2017-01-01");
  auto adv = f.bearer("adviser");
  fs::path facts = f.dir / "facts.json";
  std::ofstream(facts) << whatif_facts;
  std::string cli;
  CHECK(run_status(dalil_cli + " whatif --rules " + pack_dir + " --as-of 2025-01-01 --facts " +
                       facts.string() +
                       " --goal employment.national_preference_exempt=true --format json",
                   cli) == 0);
  std::string entries_before = last_line(f.sql("SELECT count(*) FROM audit"));
  response r =
      call(f.port, http::verb::post, "/api/v1/whatif", whatif_body(R"(,"lang":"en")"), adv);
  INFO(r.body.substr(0, 400));
  REQUIRE(r.status == 200);
  json::object answer = r.parsed().as_object();
  CHECK(answer.at("publication") == 1);
  CHECK(answer.at("lang") == "en");
  std::string text(answer.at("text").as_string());
  CHECK(text.find("from 15 April 2025") != std::string::npos);
  std::string cli_text;
  CHECK(run_status(dalil_cli + " whatif --rules " + pack_dir + " --as-of 2025-01-01 --facts " +
                       facts.string() +
                       " --goal employment.national_preference_exempt=true --lang en",
                   cli_text) == 0);
  CHECK(text == cli_text);
  answer.erase("publication");
  answer.erase("lang");
  answer.erase("text");
  CHECK(json::value(answer) == json::parse(cli));
  // The principal's language when none is asked (a token's principal: fr).
  response fr = call(f.port, http::verb::post, "/api/v1/whatif", whatif_body(), adv);
  REQUIRE(fr.status == 200);
  CHECK(fr.parsed().at("lang") == "fr");
  CHECK(std::string(fr.parsed().at("text").as_string()).find("15 avril 2025") != std::string::npos);
  // Two audited what-ifs: the decision, the goal, the date, the publication and the facts' hash,
  // never a fact (the income, the birth date, the id are nowhere in the entries).
  std::string entries = f.sql(
      "SELECT actor || ' ' || subject || ' ' || details FROM audit WHERE action='whatif' AND "
      "seq > " +
      entries_before + " ORDER BY seq");
  INFO(entries);
  CHECK(std::count(entries.begin(), entries.end(), '\n') == 2);
  CHECK(entries.find("adviser facts {\"decision\":\"employment.national_preference_exempt\","
                     "\"goal\":true,\"as_of\":\"2025-01-01\",\"publication\":1,\"input\":\"") == 0);
  for (const char* value : {"14421.03", "1989-01-28", "T-1", "6.4008639"}) {
    CHECK(entries.find(value) == std::string::npos);
  }
  // A goal that is not a category (an amount, which may be the applicant's own) is not kept.
  const std::string money_goal =
      std::string(R"({"facts":)") + whatif_facts +
      R"(,"as_of":"2025-01-01","goal":"housing.monthly_income=1234.56"})";
  response amount = call(f.port, http::verb::post, "/api/v1/whatif", money_goal, adv);
  REQUIRE(amount.status == 200);
  CHECK(amount.parsed().at("goal") == "1234.56");
  std::string money_entry =
      last_line(f.sql("SELECT details FROM audit WHERE action='whatif' ORDER BY seq DESC LIMIT 1"));
  CHECK(money_entry.find(
            R"({"decision":"housing.monthly_income","goal":null,"as_of":"2025-01-01")") == 0);
  CHECK(money_entry.find("1234") == std::string::npos);
  CHECK(run(dalil_cli + " audit verify --db " + f.db + " 2>&1").find("verified") !=
        std::string::npos);
  // No fact in the server's log.
  f.srv->stop();
  f.srv->wait();
  std::string log = slurp(f.log);
  for (const char* value : {"14421.03", "1989-01-28", "6.4008639"}) {
    CHECK(log.find(value) == std::string::npos);
  }
}

namespace {

/// The cubes pack (tests/support/cubes_pack.hpp) with three decisions, written under `dir`: a
/// diff between it and another runs three queries of 5 s each (the server's limit) unless halted.
std::string cubes_pack(const fs::path& dir, const std::string& formula) {
  fs::create_directories(dir);
  std::ofstream(dir / "m.dalil") << dalil::testing::cubes_pack(formula, {"one", "two", "three"});
  return dir.string();
}

}  // namespace

TEST_CASE(
    "advisers' API: a diff, an impact or a what-if past its time limit answers 503 without "
    "Retry-After (an impact's read audited)",
    "[publications]") {
  fixture f(std::chrono::milliseconds(0));  // the limit passed before the first query or record
  f.publish(pack_dir, "2017-01-01");
  f.publish(f.smig, "2027-01-01");
  const std::string before = last_line(f.sql("SELECT count(*) FROM audit"));
  auto out_of_time = [](const response& r) {
    INFO(r.body);
    CHECK(r.status == 503);
    CHECK(r.headers.count("retry-after") == 0);
    CHECK(std::string(r.parsed().at("detail").as_string()).find("time limit") != std::string::npos);
  };
  out_of_time(call(f.port, http::verb::post, "/api/v1/impact",
                   R"({"old":1,"new":2,"as_of":"2027-06-01"})", f.bearer("auditor")));
  // The read had begun: its entry is in the chain, as for any impact.
  CHECK(f.sql("SELECT actor || ' ' || json_extract(details, '$.records') FROM audit WHERE "
              "action='read' AND subject='cohort' AND seq > " +
              before) == "auditor 300\n");
  out_of_time(
      call(f.port, http::verb::post, "/api/v1/diff", R"({"old":1,"new":2})", f.bearer("adviser")));
  out_of_time(call(f.port, http::verb::post, "/api/v1/whatif", whatif_body(), f.bearer("adviser")));
  // Not kept: asked again, the diff runs again (and runs out of time again).
  out_of_time(
      call(f.port, http::verb::post, "/api/v1/diff", R"({"old":1,"new":2})", f.bearer("adviser")));
}

TEST_CASE("advisers' API: a stop during a diff answers it 503 at once", "[publications]") {
  fixture f;
  f.publish(cubes_pack(f.dir / "cubes-old", dalil::testing::cubes_formula), "2017-01-01");
  f.publish(cubes_pack(f.dir / "cubes-new", "applicant.a < 0 and applicant.a > 0"), "2027-01-01");
  response answer;
  std::thread asking([&] {
    try {
      answer = call(f.port, http::verb::post, "/api/v1/diff", R"({"old":1,"new":2})",
                    f.bearer("adviser"));
    } catch (const std::exception&) {
      answer.status = -1;  // no answer: the connection closed
    }
  });
  // The diff is under way (its first query alone takes 5 s); the server is asked to stop.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto stop_at = std::chrono::steady_clock::now();
  f.srv->stop();
  f.srv->wait();
  const auto stopped_in = std::chrono::steady_clock::now() - stop_at;
  asking.join();
  // Before the halt, the request held the stop until the diff ended, then answered 200.
  REQUIRE(answer.status == 503);
  CHECK(answer.headers["content-type"] == "application/problem+json");
  CHECK(answer.headers["retry-after"] == "5");
  CHECK(answer.parsed().at("detail").as_string().find("stopping") != std::string::npos);
  CHECK(stopped_in < std::chrono::seconds(10));  // the diff's three queries would take 15 s
  // The server's log says it stopped, with no error.
  std::string log = slurp(f.log);
  CHECK(log.find("stopped") != std::string::npos);
  CHECK(log.find("[error]") == std::string::npos);
}

TEST_CASE(
    "publications: rulesets chosen, compiled and polled from several threads at once (each gets "
    "its own)",
    "[publications]") {
  fixture f;
  // More publications than are kept compiled (8): cycling through them compiles again and again
  // while other threads look up, poll (every call: a poll interval of 0) and choose by date.
  constexpr int count = 10;
  std::vector<std::int64_t> ids;
  std::vector<std::string> hashes;
  std::vector<std::string> dates;
  for (int k = 0; k < count; ++k) {
    dates.push_back(std::to_string(2010 + k) + "-01-01");
    ids.push_back(f.publish(
        cubes_pack(f.dir / ("cubes-" + std::to_string(k)), "applicant.a > " + std::to_string(k)),
        dates.back()));
    hashes.push_back(
        last_line(f.sql("SELECT ruleset_hash FROM publications WHERE "
                        "publication_id=" +
                        std::to_string(ids.back()))));
  }
  REQUIRE(std::set<std::string>(hashes.begin(), hashes.end()).size() == count);
  auto choice = dalil::server::ruleset_choice::published(f.db, std::chrono::milliseconds(0));
  REQUIRE(choice.has_value());
  std::atomic<int> wrong{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const int k = (i * 3 + t) % count;
        if (i % 3 == 0) {
          auto c = (*choice)->for_date(*dalil::parse_date(dates[k]));
          if (!c || c->publication != ids[k] || c->rules->hash() != hashes[k]) ++wrong;
        } else if (i % 3 == 1) {
          auto c = (*choice)->by_id(ids[k]);
          if (!c || c->publication != ids[k] || c->rules->hash() != hashes[k]) ++wrong;
        } else {
          auto h = (*choice)->ruleset_hash(ids[k]);
          if (!h || *h != hashes[k]) ++wrong;
          auto none = (*choice)->ruleset_hash(1000 + k);
          if (none || none.error().code != dalil::store::errc::not_found) ++wrong;
        }
        ++done;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(done == 160);
  CHECK(wrong == 0);
  // What is kept compiled is found without the store, by hash.
  auto last = (*choice)->by_id(ids.back());
  REQUIRE(last.has_value());
  CHECK((*choice)->cached(hashes.back()) == last->rules);
  // The pack decisions are made with stays compiled while an adviser goes through every
  // publication by id (more than are kept for comparisons): it is never compiled again on a
  // request's thread.
  auto today = (*choice)->for_date(*dalil::parse_date("2030-01-01"));
  REQUIRE(today.has_value());
  CHECK(today->publication == ids.back());
  for (int round = 0; round < 2; ++round) {
    for (int k = 0; k < count - 1; ++k) REQUIRE((*choice)->by_id(ids[k]).has_value());
  }
  CHECK((*choice)->cached(hashes.back()) == today->rules);
  auto again = (*choice)->for_date(*dalil::parse_date("2030-01-01"));
  REQUIRE(again.has_value());
  CHECK(again->rules == today->rules);
}

TEST_CASE(
    "advisers' API: an impact's bad filter is refused at once while the pool is full, never told "
    "to wait",
    "[publications]") {
  fixture f;
  f.publish(cubes_pack(f.dir / "cubes-old", dalil::testing::cubes_formula), "2017-01-01");
  f.publish(cubes_pack(f.dir / "cubes-new", "applicant.a < 0 and applicant.a > 0"), "2027-01-01");
  // Two diffs hold the two places (each of their queries takes 5 s); a stop ends them.
  std::vector<std::thread> diffs;
  std::atomic<int> answered{0};
  for (const char* body : {R"({"old":1,"new":2})", R"({"old":2,"new":1})"}) {
    diffs.emplace_back([&f, &answered, body] {
      try {
        (void)call(f.port, http::verb::post, "/api/v1/diff", body, f.bearer("adviser"));
      } catch (const std::exception&) {
        // the connection closed at the stop
      }
      ++answered;
    });
  }
  const auto impact = [&](const std::string& where) {
    return call(f.port, http::verb::post, "/api/v1/impact",
                R"({"old":1,"new":2,"as_of":"2027-06-01","where":[)" + where + "]}",
                f.bearer("adviser"));
  };
  // Both diffs admitted: a valid impact is told to come back (503)…
  response busy;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    busy = impact(R"("a=1")");
    if (busy.status == 503) break;
  }
  REQUIRE(busy.status == 503);
  CHECK(answered == 0);
  // …but a filter on no field, a value of the wrong type, and an adviser's filter on the id are
  // refused for what they are.
  response nofield = impact(R"("nofield=1")");
  CHECK(nofield.status == 400);
  CHECK(nofield.body.find("/where/0") != std::string::npos);
  response badvalue = impact(R"("a=1","b=x")");
  CHECK(badvalue.status == 400);
  CHECK(badvalue.body.find("/where/1") != std::string::npos);
  CHECK(impact(R"("id=SYN-000001")").status == 403);
  CHECK(answered == 0);
  f.srv->stop();
  f.srv->wait();
  for (auto& t : diffs) t.join();
}

TEST_CASE(
    "advisers' API: an adviser's impact leaves out the records' own values, an auditor's has "
    "them",
    "[publications]") {
  fixture f;
  // Twelve applicants of a pack whose decision reads a number of theirs (a = 3): a > 0, then
  // a > 5. The why of each flip is the decision itself, and the fact it read is a = 3.
  const auto pack = [&](const std::string& name, const std::string& formula) {
    fs::path dir = f.dir / name;
    fs::create_directories(dir);
    std::ofstream(dir / "m.dalil")
        << "module m\n  title fr \"M\"\n        ar \"M\"\n        en \"M\"\n\nrecord Applicant "
           "{\n  id : text\n  a : int\n}\n\ninput applicant : Applicant\n\nrule one : bool\n  "
           "source \"x\"\n  explain en \"one: {value}\"\n  = "
        << formula << "\n";
    return dir.string();
  };
  const std::string before = pack("a-positive", "applicant.a > 0");
  const std::string after = pack("a-above-5", "applicant.a > 5");
  {
    std::ofstream cohort(f.dir / "numbers.jsonl");
    for (int i = 0; i < 12; ++i)
      cohort << R"({"id":"NUM-)" << i << R"(","a":3})"
             << "\n";
  }
  run(dalil_cli + " import --db " + f.db + " --rules " + before + " " +
      (f.dir / "numbers.jsonl").string() + " 2>&1");
  const std::int64_t old_id = f.publish(before, "2017-01-01");
  const std::int64_t new_id = f.publish(after, "2027-01-01");
  const std::string body = "{\"old\":" + std::to_string(old_id) +
                           ",\"new\":" + std::to_string(new_id) + R"(,"as_of":"2027-06-01"})";
  response adviser = call(f.port, http::verb::post, "/api/v1/impact", body, f.bearer("adviser"));
  response auditor = call(f.port, http::verb::post, "/api/v1/impact", body, f.bearer("auditor"));
  REQUIRE(adviser.status == 200);
  REQUIRE(auditor.status == 200);
  CHECK(adviser.parsed().at("flips") == 12);
  CHECK(adviser.parsed().at("flip_values") == "categories");
  CHECK(auditor.parsed().at("flip_values") == "all");
  // Each flip: the decision's yes or no in both; the number read only in the auditor's.
  CHECK(adviser.body.find(R"({"path":"a"})") != std::string::npos);
  CHECK(adviser.body.find(R"("value":3)") == std::string::npos);
  CHECK(auditor.body.find(R"({"path":"a","value":3})") != std::string::npos);
  const json::array flips = adviser.parsed().at("flip_list").as_array();
  REQUIRE(flips.size() == 12);
  int withheld = 0;
  const json::value full_answer = auditor.parsed();
  for (const json::value& v : full_answer.at("flip_list").as_array()) {
    json::object full = categories_only(v, "", withheld).as_object();
    CHECK(full.at("before").at("value") == true);
    CHECK(full.at("after").at("value") == false);
  }
  CHECK(withheld == 24);  // a = 3, in the why's step before and after
}
