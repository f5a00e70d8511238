// A counter decision in one language and its compact form: "lang" on POST /api/v1/evaluate gives
// the bytes of `dalil eval --lang L --format json`, the store keeps the outcomes (no wording)
// and their digest, a read regenerates the answer and checks it against them (`damaged` on any
// mismatch), and decisions stored before the compact form still read.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/loader.hpp"
#include "engine/evaluation.hpp"
#include "engine/record.hpp"
#include "engine/session.hpp"
#include "engine/sha256.hpp"
#include "server/server.hpp"
#include "store/counter_store.hpp"
#include "store/crypto.hpp"
#include "store/sqlite.hpp"
#include "tests/server/pack.hpp"
#include "tests/server/support.hpp"

namespace fs = std::filesystem;
namespace http = boost::beast::http;
namespace json = boost::json;
namespace ts = dalil::test_support;

namespace {

using answer = ts::response;

/// One request with an official's, an auditor's (any) bearer token.
answer exchange(std::uint16_t port, http::verb method, const std::string& target,
                const std::string& token, const std::string& body = {}) {
  return ts::call(port, method, target, body, ts::auth_header{token, {}, {}});
}

/// A store with an official's and an auditor's token, and a server over it; `encrypted`: a store
/// whose records are sealed (`dalil keys init`), with the server given its master key.
struct counter {
  fs::path dir;
  std::string db;
  std::string key_file;
  std::string official;
  std::string auditor;
  std::unique_ptr<dalil::server::server> srv;

  explicit counter(bool encrypted = false) {
    char tmpl[] = "/tmp/dalil-decision-form-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    dir = tmpl;
    db = (dir / "store.db").string();
    const std::string dalil = DALIL_BINARY;
    if (encrypted) {
      key_file = (dir / "master.key").string();
      ts::run(dalil + " keys init --key-file " + key_file + " --db " + db + " 2>&1");
    }
    official = ts::last_line(
        ts::run(dalil + " token create desk --role official --office rabat --db " + db + " 2>&1"));
    auditor =
        ts::last_line(ts::run(dalil + " token create audit --role auditor --db " + db + " 2>&1"));
    start();
  }
  void start() {
    dalil::server::config c;
    c.db = db;
    c.rules = ts::shipped_pack().rules;
    c.canonical_source = ts::shipped_pack().canonical;
    c.port = 0;
    c.threads = 2;
    c.log_file = (dir / "server.log").string();
    if (!key_file.empty()) {
      auto master = dalil::store::crypto::load_master_key(key_file);
      REQUIRE(master.has_value());
      c.master_key = std::move(*master);
      c.key_file = key_file;
    }
    auto s = dalil::server::server::start(std::move(c));
    INFO((s ? std::string() : s.error().message));
    REQUIRE(s.has_value());
    srv = std::move(*s);
  }
  void stop() {
    srv->stop();
    srv->wait();
    srv.reset();
  }
  ~counter() {
    if (srv) stop();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::uint16_t port() const { return srv->port(); }

  static std::string record(int line) {
    std::ifstream in(std::string(DALIL_SOURCE_DIR) + "/data/sample-cohort.jsonl");
    std::string rec;
    for (int i = 0; i <= line; ++i) std::getline(in, rec);
    return rec;
  }
  /// `dalil eval` of `rec` as JSON (with `--lang` when `lang` is not empty), without its
  /// closing brace and newline: the prefix of the server's answers.
  std::string cli_prefix(const std::string& rec, const std::string& lang, bool trace) const {
    fs::path facts = dir / "facts.json";
    std::ofstream(facts) << rec;
    std::string out =
        ts::run(std::string(DALIL_BINARY) + " eval --rules " + DALIL_SOURCE_DIR +
                "/rules --as-of 2017-06-01 --format json --facts " + facts.string() +
                (lang.empty() ? "" : " --lang " + lang) + (trace ? "" : " --no-trace"));
    out.pop_back();  // newline
    out.pop_back();  // closing brace
    return out;
  }
  std::string evaluate(const std::string& rec, const std::string& lang, bool trace,
                       std::string* body = nullptr) {
    std::string req = "{\"as_of\":\"2017-06-01\",\"applicant\":" + rec +
                      (lang.empty() ? "" : ",\"lang\":\"" + lang + "\"") +
                      (trace ? "" : ",\"trace\":false") + "}";
    answer a = exchange(port(), http::verb::post, "/api/v1/evaluate", official, req);
    INFO(a.body.substr(0, 400));
    REQUIRE(a.status == 200);
    if (body) *body = a.body;
    return std::string(a.parsed().at("decision_id").as_string());
  }
  dalil::store::counter_decision stored(const std::string& id) const {
    auto s = dalil::store::counter_store::open(db);
    REQUIRE(s.has_value());
    auto d = (*s)->decision(id, "");
    REQUIRE(d.has_value());
    return *d;
  }
  /// Changes the store behind the server's back (as damage or an attacker would).
  void tamper(const std::string& sql) const {
    dalil::store::database raw;
    std::string e;
    REQUIRE(raw.open(db, e));
    INFO(sql << ": " << e);
    REQUIRE(raw.exec(sql, e));
  }
};

std::string sql_text(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

}  // namespace

TEST_CASE(
    "server: evaluate with lang gives explanations in that language alone (the bytes of dalil eval "
    "--lang)",
    "[server]") {
  counter c;
  const std::string rec = counter::record(2);
  std::string some_id;
  for (const char* code : {"fr", "ar", "en"}) {
    const std::string lang = code;
    for (bool trace : {false, true}) {
      INFO("lang " << lang << (trace ? ", with traces" : ", without traces"));
      std::string body;
      std::string id = c.evaluate(rec, lang, trace, &body);
      some_id = id;
      const std::string cli = c.cli_prefix(rec, lang, trace);
      REQUIRE(body.substr(0, cli.size()) == cli);
      CHECK(body.substr(cli.size()).rfind(",\"decision_id\":", 0) == 0);
      json::value v = json::parse(body);
      for (const auto& d : v.at("decisions").as_array()) {
        const json::object& ex = d.at("explanation").as_object();
        REQUIRE(ex.size() == 1);
        CHECK(ex.contains(lang));
      }
      // Read back in the same language: the same bytes; in the three: dalil eval's default.
      answer back = exchange(c.port(), http::verb::get, "/api/v1/decisions/" + id + "?lang=" + lang,
                             c.official);
      REQUIRE(back.status == 200);
      CHECK(back.body.substr(0, cli.size()) == cli);
      if (trace) {
        answer all = exchange(c.port(), http::verb::get, "/api/v1/decisions/" + id, c.official);
        REQUIRE(all.status == 200);
        const std::string three = c.cli_prefix(rec, "", true);
        CHECK(all.body.substr(0, three.size()) == three);
      }
    }
  }
  // The explanation is the only member that changes with the language.
  const std::string fr = c.cli_prefix(rec, "fr", false);
  const std::string three = c.cli_prefix(rec, "", false);
  CHECK(fr.size() < three.size());
  json::value a = json::parse(fr + "}");
  json::value b = json::parse(three + "}");
  for (auto* v : {&a, &b}) {
    for (auto& d : v->at("decisions").as_array()) d.as_object().erase("explanation");
  }
  CHECK(a == b);
  // A language the server does not speak is refused, naming the member.
  answer bad = exchange(c.port(), http::verb::post, "/api/v1/evaluate", c.official,
                        "{\"as_of\":\"2017-06-01\",\"lang\":\"de\",\"applicant\":" + rec + "}");
  CHECK(bad.status == 400);
  CHECK(bad.body.find("/lang") != std::string::npos);
  answer bad_read =
      exchange(c.port(), http::verb::get, "/api/v1/decisions/" + some_id + "?lang=de", c.official);
  CHECK(bad_read.status == 400);
}

TEST_CASE(
    "server: a counter decision stores its compact form (its digest ignores the language asked)",
    "[server]") {
  counter c;
  const std::string rec = counter::record(3);
  std::string body;
  const std::string id_fr = c.evaluate(rec, "fr", true, &body);
  const std::string id_ar = c.evaluate(rec, "ar", false);
  const std::string id_all = c.evaluate(rec, "", true);
  auto fr = c.stored(id_fr);
  auto ar = c.stored(id_ar);
  auto all = c.stored(id_all);
  // The compact form: outcomes only, the same whatever the wording or the traces asked.
  CHECK(fr.outcomes == ar.outcomes);
  CHECK(fr.outcomes == all.outcomes);
  CHECK(fr.answer_digest == ar.answer_digest);
  CHECK(fr.answer_digest == dalil::engine::sha256_hex(dalil::engine::compact_form(
                                fr.as_of, fr.ruleset_hash, fr.input_hash, fr.outcomes)));
  // It says, per decision, what the answer said: rule, status, value, missing, in force,
  // provisional.
  json::value answered = json::parse(body);
  json::value outcomes = json::parse(fr.outcomes);
  const auto& given = answered.at("decisions").as_array();
  const auto& kept = outcomes.as_array();
  REQUIRE(given.size() == kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const json::object& k = kept[i].as_object();
    CHECK(k.size() == 6);
    for (const char* m : {"rule", "status", "value", "missing", "in_force", "provisional"}) {
      INFO(m);
      CHECK(k.at(m) == given[i].at(m));
    }
    // No wording is stored.
    CHECK_FALSE(k.contains("explanation"));
  }
  // Read back in a language other than the one asked: the same outcomes, so it reads.
  answer back =
      exchange(c.port(), http::verb::get, "/api/v1/decisions/" + id_ar + "?lang=en", c.auditor);
  REQUIRE(back.status == 200);
  json::value v = back.parsed();
  CHECK(v.at("decisions").as_array()[0].at("explanation").as_object().contains("en"));
  // audit verify agrees with what was stored.
  answer verify = exchange(c.port(), http::verb::get, "/api/v1/audit/verify", c.auditor);
  REQUIRE(verify.status == 200);
  CHECK(verify.parsed().at("ok") == true);
}

TEST_CASE("server: a stored decision that does not regenerate to its compact form reads as damaged",
          "[server]") {
  struct damage {
    const char* what;
    std::string (*sql)(const dalil::store::counter_decision& d);
  };
  const damage cases[] = {
      {"an outcome changed, its digest not",
       [](const dalil::store::counter_decision& d) {
         return "UPDATE counter_decisions SET outcomes=replace(outcomes,'\"in_force\":true',"
                "'\"in_force\":false') WHERE decision_id=" +
                sql_text(d.decision_id);
       }},
      {"an outcome and its digest changed together",
       [](const dalil::store::counter_decision& d) {
         std::string changed = d.outcomes;
         auto at = changed.find("\"in_force\":true");
         REQUIRE(at != std::string::npos);
         changed.replace(at, 15, "\"in_force\":false");
         std::string digest = dalil::engine::sha256_hex(
             dalil::engine::compact_form(d.as_of, d.ruleset_hash, d.input_hash, changed));
         return "UPDATE counter_decisions SET outcomes=" + sql_text(changed) + ", answer_digest='" +
                digest + "' WHERE decision_id=" + sql_text(d.decision_id);
       }},
      {"the record changed",
       [](const dalil::store::counter_decision& d) {
         return "UPDATE records SET json=json||' ' WHERE record_id=" + std::to_string(d.record_id);
       }},
      {"the input hash changed",
       [](const dalil::store::counter_decision& d) {
         return "UPDATE counter_decisions SET input_hash='" + std::string(64, '0') +
                "' WHERE decision_id=" + sql_text(d.decision_id);
       }},
  };
  for (const damage& k : cases) {
    DYNAMIC_SECTION(k.what) {
      counter c;
      const std::string id = c.evaluate(counter::record(2), "fr", false);
      REQUIRE(exchange(c.port(), http::verb::get, "/api/v1/decisions/" + id, c.official).status ==
              200);
      c.tamper(k.sql(c.stored(id)));
      answer a = exchange(c.port(), http::verb::get, "/api/v1/decisions/" + id, c.official);
      CHECK(a.status == 500);
      json::value p = a.parsed();
      CHECK(p.at("type") == "https://dalil.ma/problems/damaged");
      // Nothing of the decision is answered.
      CHECK_FALSE(p.as_object().contains("decisions"));
    }
  }
}

TEST_CASE(
    "server: a decision stored before the compact form (digest of the whole answer) still reads",
    "[server]") {
  counter c;
  const std::string rec = counter::record(2);
  const std::string id = c.evaluate(rec, "", true);
  auto d = c.stored(id);
  // What the previous server stored: outcomes without "missing", and the digest of the whole
  // answer in three languages.
  json::value outcomes = json::parse(d.outcomes);
  for (auto& o : outcomes.as_array()) o.as_object().erase("missing");
  const std::string old_outcomes = json::serialize(outcomes);
  const std::string whole = c.cli_prefix(rec, "", true) + "}";
  const std::string old_digest = dalil::engine::sha256_hex(whole);
  c.tamper("UPDATE counter_decisions SET outcomes=" + sql_text(old_outcomes) + ", answer_digest='" +
           old_digest + "' WHERE decision_id=" + sql_text(id));
  answer a = exchange(c.port(), http::verb::get, "/api/v1/decisions/" + id, c.official);
  INFO(a.body.substr(0, 300));
  REQUIRE(a.status == 200);
  CHECK(a.body.substr(0, whole.size() - 1) == whole.substr(0, whole.size() - 1));
  // …and an old decision whose answer no longer replays is damaged, as before.
  c.tamper("UPDATE counter_decisions SET answer_digest='" + std::string(64, 'a') +
           "' WHERE decision_id=" + sql_text(id));
  CHECK(exchange(c.port(), http::verb::get, "/api/v1/decisions/" + id, c.official).status == 500);
}

TEST_CASE(
    "server: another office's decision whose sealed record does not open is not found, as any "
    "other office's",
    "[server]") {
  counter c(true);
  const std::string id = c.evaluate(counter::record(2), "fr", false);
  const std::string fes = ts::last_line(ts::run(std::string(DALIL_BINARY) +
                                                " token create fes-desk --role official "
                                                "--office fes --db " +
                                                c.db + " 2>&1"));
  const std::string target = "/api/v1/decisions/" + id;
  answer unknown =
      exchange(c.port(), http::verb::get, "/api/v1/decisions/" + std::string(32, '0'), fes);
  REQUIRE(unknown.status == 404);
  CHECK(exchange(c.port(), http::verb::get, target, fes).body == unknown.body);
  // The sealed record damaged (its bytes zeroed): its own office is told it is
  // damaged; another office gets the answer of an id that does not exist, as before the damage.
  c.tamper(
      "UPDATE records SET sealed=zeroblob(length(sealed)) WHERE record_id=(SELECT record_id "
      "FROM counter_decisions WHERE decision_id=" +
      sql_text(id) + ")");
  answer own = exchange(c.port(), http::verb::get, target, c.official);
  CHECK(own.status == 500);
  CHECK(own.parsed().at("type") == "https://dalil.ma/problems/damaged");
  answer other = exchange(c.port(), http::verb::get, target, fes);
  CHECK(other.status == 404);
  CHECK(other.body == unknown.body);
  // An auditor reads any office's decision: the damage is told.
  CHECK(exchange(c.port(), http::verb::get, target, c.auditor).status == 500);
}
