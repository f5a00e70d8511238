// Connections that outlive their backend (issue 17), against run.sh's throwaway cluster: a
// store's backend terminated from a second connection (pg_terminate_backend) between two
// statements, or in the middle of a transaction; the session's settings after a reset.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "store/counter_store.hpp"
#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"
#include "tests/store/counter_suite.hpp"

namespace {

namespace pg = dalil::store::pg;
using counter_suite::ok;
using dalil::store::errc;

/// A new, empty database of the cluster, migrated.
std::string fresh_database(const std::string& name) {
  if (std::getenv("PGHOST") == nullptr || std::getenv("PGPORT") == nullptr) {
    FAIL("PG* variables are not set: run these tests through tests/pg/run.sh (pg_virtualenv)");
  }
  auto admin = pg::connection::open("dbname=postgres");
  REQUIRE(ok(admin));
  REQUIRE(ok(admin->run("dropping a test database", "DROP DATABASE IF EXISTS " + name)));
  REQUIRE(ok(admin->run("creating a test database", "CREATE DATABASE " + name)));
  std::string db = "dbname=" + name;
  REQUIRE(ok(pg::pg_store::open(db)));
  return db;
}

std::string backend_pid(pg::connection& c) {
  auto q = c.query("reading the backend's pid", "SELECT pg_backend_pid()");
  REQUIRE(ok(q));
  return q->text(0, 0);
}

/// Terminates the client backends of `db` but the admin connection's own, waiting until they
/// have ended; returns the pids of those it terminated.
std::vector<std::string> terminate_all(const std::string& db) {
  auto admin = pg::connection::open(db);
  REQUIRE(ok(admin));
  // OFFSET 0: the backends are chosen before any is terminated (never the admin's own).
  auto q = admin->query("terminating the backends",
                        "SELECT pid FROM (SELECT pid FROM pg_stat_activity WHERE datname = "
                        "current_database() AND backend_type = 'client backend' AND pid <> "
                        "pg_backend_pid() OFFSET 0) a WHERE pg_terminate_backend(pid, 10000)");
  REQUIRE(ok(q));
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(q->size()));
  for (int i = 0; i < q->size(); ++i) out.push_back(q->text(i, 0));
  return out;
}

bool has(const std::vector<std::string>& pids, const std::string& pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

std::string setting(pg::connection& c, const std::string& name) {
  auto q = c.query("reading a setting", "SELECT current_setting($1)", {name});
  REQUIRE(ok(q));
  return q->text(0, 0);
}

}  // namespace

TEST_CASE("a store whose backend was terminated reads and writes on a reset connection", "[pg]") {
  const std::string db = fresh_database("dalil_t_reconnect");
  auto s = pg::pg_store::open(db);
  REQUIRE(ok(s));
  REQUIRE(ok((*s)->audit("test", "probe", "x", "{\"i\":1}")));
  auto& c = (*s)->conn();
  const std::string first = backend_pid(c);

  REQUIRE(has(terminate_all(db), first));
  auto h = (*s)->head();  // the next read
  REQUIRE(ok(h));
  CHECK(h->seq == 1);
  CHECK(c.resets() == 1);
  const std::string second = backend_pid(c);
  CHECK(second != first);
  // The session's settings are those of the first connection, and the connect timeout.
  CHECK(setting(c, "lock_timeout") == "30s");
  CHECK(setting(c, "client_encoding") == "UTF8");
  std::string timeout;
  PQconninfoOption* options = PQconninfo(c.handle());
  for (auto* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "connect_timeout" && o->val != nullptr) timeout = o->val;
  }
  PQconninfoFree(options);
  CHECK(timeout == pg::default_connect_timeout);

  REQUIRE(has(terminate_all(db), second));
  auto w = (*s)->audit("test", "probe", "x", "{\"i\":2}");  // the next write
  REQUIRE(ok(w));
  CHECK(*w == 2);
  CHECK(c.resets() == 2);
  auto v = (*s)->verify_chain({});
  REQUIRE(ok(v));
  CHECK(v->problems.empty());
  CHECK(v->entries == 2);

  // A read-only store stays read-only on its new connection.
  auto ro = pg::pg_store::open(db, true);
  REQUIRE(ok(ro));
  const std::string ro_pid = backend_pid((*ro)->conn());
  REQUIRE(has(terminate_all(db), ro_pid));
  auto refused = (*ro)->audit("test", "probe", "x", "{}");
  REQUIRE_FALSE(ok(refused));
  CHECK(refused.error().code == errc::refused);
  CHECK((*ro)->conn().resets() == 1);
  auto read = (*ro)->head();
  REQUIRE(ok(read));
  CHECK(read->seq == 2);
}

TEST_CASE("a backend terminated in the middle of a transaction fails it, nothing half-written",
          "[pg]") {
  const std::string db = fresh_database("dalil_t_reconnect_tx");
  auto s = pg::pg_store::open(db);
  REQUIRE(ok(s));
  REQUIRE(ok((*s)->audit("test", "probe", "x", "{\"i\":1}")));
  auto& c = (*s)->conn();
  {
    auto t = pg::transaction::begin(c, "a test's transaction");
    REQUIRE(ok(t));
    REQUIRE(ok((*s)->append_in("test", "probe", "x", "{\"i\":2}")));
    REQUIRE(has(terminate_all(db), backend_pid(c)));
    auto after = (*s)->append_in("test", "probe", "x", "{\"i\":3}");
    REQUIRE_FALSE(ok(after));
    // No statement of the transaction ran on another connection, and none will until it ends.
    CHECK(c.resets() == 0);
    auto more = c.query("a test's read", "SELECT 1");
    REQUIRE_FALSE(ok(more));
    CHECK(more.error().message.find("lost inside the transaction") != std::string::npos);
    CHECK(c.resets() == 0);
    auto committed = t->commit("a test's transaction");
    REQUIRE_FALSE(ok(committed));
  }
  auto h = (*s)->head();  // the next statement: on a reset connection
  REQUIRE(ok(h));
  CHECK(h->seq == 1);
  CHECK(c.resets() == 1);
  auto next = (*s)->audit("test", "probe", "x", "{\"i\":4}");
  REQUIRE(ok(next));
  CHECK(*next == 2);
  auto v = (*s)->verify_chain({});
  REQUIRE(ok(v));
  CHECK(v->problems.empty());
  CHECK(v->entries == 2);
}

TEST_CASE("the counter's transaction cut by a terminated backend stores nothing; the next stores",
          "[pg][counter]") {
  const std::string db = fresh_database("dalil_t_reconnect_counter");
  {
    auto st = pg::open_store(db);
    REQUIRE(ok(st));
    REQUIRE(ok((*st)->put_ruleset(counter_suite::ruleset_hash(),
                                  std::string(counter_suite::ruleset_source))));
  }
  auto cs = dalil::store::counter_store::open(db);
  REQUIRE(ok(cs));
  REQUIRE(ok(counter_suite::put_one(
      **cs, counter_suite::decision("d0", "A0", R"({"id":"A0"})", "rabat"))));

  // Between two transactions: the next one begins on a reset connection.
  REQUIRE(!terminate_all(db).empty());
  REQUIRE(ok(counter_suite::put_one(
      **cs, counter_suite::decision("d1", "A1", R"({"id":"A1"})", "rabat"))));

  // In the middle of one: its decisions, its import and its entries are all gone.
  REQUIRE(ok((*cs)->begin()));
  auto d2 = counter_suite::decision("d2", "A2", R"({"id":"A2"})", "rabat");
  REQUIRE(ok((*cs)->put_decision(d2)));
  REQUIRE(!terminate_all(db).empty());
  auto d3 = counter_suite::decision("d3", "A3", R"({"id":"A3"})", "rabat");
  REQUIRE_FALSE(ok((*cs)->put_decision(d3)));
  REQUIRE_FALSE(ok((*cs)->commit()));  // what a writer does: it fails, rolled back

  REQUIRE(ok((*cs)->begin()));
  auto d4 = counter_suite::decision("d4", "A4", R"({"id":"A4"})", "rabat");
  REQUIRE(ok((*cs)->put_decision(d4)));
  REQUIRE(ok((*cs)->commit()));
  auto n = (*cs)->count_decisions();
  REQUIRE(ok(n));
  CHECK(*n == 3);
  CHECK((*cs)->decision("d2", "").error().code == errc::not_found);
  CHECK(ok((*cs)->decision("d4", "")));
  auto problem = (*cs)->verify();
  REQUIRE(ok(problem));
  CHECK_FALSE(problem->has_value());
  auto st = pg::open_store(db);
  REQUIRE(ok(st));
  auto v = (*st)->verify({});
  REQUIRE(ok(v));
  for (const auto& p : v->problems) UNSCOPED_INFO(p.what);
  CHECK(v->problems.empty());
}
