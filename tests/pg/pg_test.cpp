// The PostgreSQL store against a throwaway cluster (tests/pg/run.sh starts it with pg_virtualenv
// and sets PG*): migrations, one audit chain appended by several processes at once, verify, the
// copy of a SQLite store, and connection strings kept out of every error.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "engine/sha256.hpp"
#include "store/accounts.hpp"
#include "store/chain.hpp"
#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"
#include "store/publications.hpp"
#include "store/store.hpp"

namespace pg = dalil::store::pg;
using dalil::store::errc;

namespace {

/// Whether a store result holds a value (Catch2 cannot print the results themselves).
template <class R>
bool ok(const R& r) {
  if (!r.has_value()) UNSCOPED_INFO("store error: " << r.error().message);
  return r.has_value();
}

/// A new, empty database for one test (its name a constant of the test: identifiers cannot be
/// bound as parameters). The cluster comes from the PG* variables run.sh's pg_virtualenv sets.
std::string fresh_database(const std::string& name) {
  if (std::getenv("PGHOST") == nullptr || std::getenv("PGPORT") == nullptr) {
    FAIL("PG* variables are not set: run these tests through tests/pg/run.sh (pg_virtualenv)");
  }
  auto admin = pg::connection::open("dbname=postgres");
  REQUIRE(ok(admin));
  REQUIRE(ok(admin->run("dropping a test database", "DROP DATABASE IF EXISTS " + name)));
  REQUIRE(ok(admin->run("creating a test database", "CREATE DATABASE " + name)));
  return "dbname=" + name;
}

/// Runs `body` in `n` child processes at once (each with its own connection) and returns how
/// many exited 0. The children start together: each waits for the parent's byte on a pipe.
template <class F>
int in_processes(int n, F body) {
  int go[2];
  REQUIRE(::pipe(go) == 0);
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(go[1]);
      char c = 0;
      if (::read(go[0], &c, 1) != 1) ::_exit(3);
      ::_exit(body(i) ? 0 : 1);
    }
    pids.push_back(pid);
  }
  ::close(go[0]);
  std::string start(static_cast<std::size_t>(n), 'g');
  REQUIRE(::write(go[1], start.data(), start.size()) == static_cast<ssize_t>(start.size()));
  ::close(go[1]);
  int ok = 0;
  for (pid_t pid : pids) {
    int st = 0;
    ::waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ++ok;
  }
  return ok;
}

}  // namespace

TEST_CASE("bytea parameters in PostgreSQL's hex form, and back", "[pg]") {
  CHECK(pg::bytea_param("") == "\\x");
  CHECK(pg::bytea_param(std::string("\x00\xff\x10\x9a", 4)) == "\\x00ff109a");
  std::string every;
  for (int b = 0; b < 256; ++b) every += static_cast<char>(b);
  const std::string hex = pg::bytea_param(every);
  CHECK(hex.size() == 2 + 512);
  CHECK(hex.substr(0, 8) == "\\x000102");
  CHECK(hex.substr(hex.size() - 4) == "feff");
  CHECK(pg::bytea_value(hex) == every);
}

TEST_CASE("a PostgreSQL conninfo is told from a SQLite path", "[pg]") {
  CHECK(pg::is_conninfo("postgresql://u@h/db"));
  CHECK(pg::is_conninfo("postgres://h/db?sslmode=verify-full"));
  CHECK(pg::is_conninfo("postgresql://"));
  CHECK(pg::is_conninfo("host=db.example dbname=dalil"));
  CHECK(pg::is_conninfo("service=dalil"));
  CHECK_FALSE(pg::is_conninfo("store.db"));
  CHECK_FALSE(pg::is_conninfo("/var/lib/dalil/host=1.db"));
  CHECK_FALSE(pg::is_conninfo("postgresql.db"));
  // Any first keyword, spaces around `=` and before the string: never a SQLite file named
  // after a string that holds a password.
  CHECK(pg::is_conninfo("password=secret host=db.example"));
  CHECK(pg::is_conninfo("sslmode=verify-full dbname=dalil"));
  CHECK(pg::is_conninfo("  host=db.example"));
  CHECK(pg::is_conninfo("dbname = dalil"));
  CHECK(pg::is_conninfo(" postgresql://h/db"));
  CHECK_FALSE(pg::is_conninfo("./password=1.db"));
  CHECK_FALSE(pg::is_conninfo("out/a=b.db"));
  CHECK_FALSE(pg::is_conninfo("my store.db"));
}

TEST_CASE("migrations apply once, twice is a no-op, and concurrent openers agree", "[pg]") {
  std::string db = fresh_database("dalil_t_migrations");
  // Four processes open the fresh database at once: each migration is applied exactly once.
  int done = in_processes(4, [&](int) { return static_cast<bool>(pg::pg_store::open(db)); });
  CHECK(done == 4);
  auto s = pg::pg_store::open(db);
  REQUIRE(ok(s));
  auto v = (*s)->version();
  REQUIRE(ok(v));
  CHECK(*v == pg::schema_version());
  auto again = (*s)->migrate();
  REQUIRE(ok(again));
  CHECK(*again == 0);
  auto rows = (*s)->conn().query("counting",
                                 "SELECT count(*), count(DISTINCT version) FROM "
                                 "schema_migrations");
  REQUIRE(ok(rows));
  CHECK(rows->int64(0, 0) == pg::schema_version());
  CHECK(rows->int64(0, 1) == pg::schema_version());
  // A read-only opening writes nothing and refuses writes.
  auto ro = pg::pg_store::open(db, true);
  REQUIRE(ok(ro));
  auto w = (*ro)->audit("test", "probe", "x", "{}");
  REQUIRE_FALSE(ok(w));
  CHECK(w.error().code == errc::refused);
}

TEST_CASE("several processes append to one chain at once: no fork, no gap", "[pg]") {
  std::string db = fresh_database("dalil_t_chain");
  REQUIRE(ok(pg::pg_store::open(db)));
  constexpr std::int64_t processes = 4;
  constexpr std::int64_t each = 100;
  int done = in_processes(static_cast<int>(processes), [&](int p) {
    auto s = pg::pg_store::open(db);
    if (!s) return false;
    for (std::int64_t i = 0; i < each; ++i) {
      std::string details =
          "{\"process\":" + std::to_string(p) + ",\"i\":" + std::to_string(i) + "}";
      if (!(*s)->audit("test:" + std::to_string(p), "probe", "chain", details)) return false;
    }
    return true;
  });
  CHECK(done == processes);
  auto s = pg::pg_store::open(db);
  REQUIRE(ok(s));
  auto report = (*s)->verify_chain({});
  REQUIRE(ok(report));
  CHECK(report->problems.empty());
  CHECK(report->entries == processes * each);
  auto h = (*s)->head();
  REQUIRE(ok(h));
  CHECK(h->seq == processes * each);
  CHECK(h->hash == report->head_hash);
  auto distinct = (*s)->conn().query("counting", "SELECT count(DISTINCT details) FROM audit");
  REQUIRE(ok(distinct));
  CHECK(distinct->int64(0, 0) == processes * each);
}

TEST_CASE("an append whose head another store moved, or a rollback undid, hashes again", "[pg]") {
  // Each store guesses the head it saw last (its own last append): two stores appending in turn
  // guess wrong every time, and so does one whose append was rolled back.
  std::string db = fresh_database("dalil_t_chain_guess");
  auto a = pg::pg_store::open(db);
  auto b = pg::pg_store::open(db);
  REQUIRE(ok(a));
  REQUIRE(ok(b));
  for (std::int64_t i = 1; i <= 6; i += 2) {
    auto x = (*a)->audit("test", "probe", "a", "{}");
    REQUIRE(ok(x));
    CHECK(*x == i);
    auto y = (*b)->audit("test", "probe", "b", "{}");
    REQUIRE(ok(y));
    CHECK(*y == i + 1);
  }
  {
    auto t = pg::transaction::begin((*a)->conn(), "a test's transaction");
    REQUIRE(ok(t));
    auto undone = (*a)->append_in("test", "probe", "undone", "{}");
    REQUIRE(ok(undone));
    CHECK(*undone == 7);
  }  // rolled back
  auto again = (*a)->audit("test", "probe", "a", "{}");
  REQUIRE(ok(again));
  CHECK(*again == 7);
  auto h = (*b)->head();
  REQUIRE(ok(h));
  auto v = (*b)->verify_chain({std::to_string(h->seq) + ":" + h->hash});
  REQUIRE(ok(v));
  CHECK(v->problems.empty());
  CHECK(v->entries == 7);
  auto undone =
      (*a)->conn().query("counting", "SELECT count(*) FROM audit WHERE subject = 'undone'");
  REQUIRE(ok(undone));
  CHECK(undone->int64(0, 0) == 0);
}

TEST_CASE("verify names a changed, a deleted and an unreached entry; the log is append-only",
          "[pg]") {
  std::string db = fresh_database("dalil_t_tamper");
  auto s = pg::pg_store::open(db);
  REQUIRE(ok(s));
  for (int i = 0; i < 5; ++i) {
    REQUIRE(ok((*s)->audit("test", "probe", "x", "{\"i\":" + std::to_string(i) + "}")));
  }
  auto h = (*s)->head();
  REQUIRE(ok(h));
  auto clean = (*s)->verify_chain({std::to_string(h->seq) + ":" + h->hash});
  REQUIRE(ok(clean));
  CHECK(clean->problems.empty());

  auto& c = (*s)->conn();
  auto refused = c.run("tampering", "UPDATE audit SET details = '{}' WHERE seq = 2");
  REQUIRE_FALSE(ok(refused));
  CHECK(refused.error().code == errc::refused);
  CHECK(refused.error().message.find("append-only") != std::string::npos);

  // An owner can still disable the trigger: verify is what catches it.
  REQUIRE(ok(c.run("tampering", "ALTER TABLE audit DISABLE TRIGGER USER")));
  REQUIRE(ok(c.run("tampering", "UPDATE audit SET details = '{\"i\":9}' WHERE seq = 2")));
  REQUIRE(ok(c.run("tampering", "DELETE FROM audit WHERE seq = 4")));
  auto r = (*s)->verify_chain({std::to_string(h->seq) + ":" + h->hash});
  REQUIRE(ok(r));
  REQUIRE(r->problems.size() >= 2);
  CHECK(r->problems[0].seq == 2);
  CHECK(r->problems[0].what.find("audit entry 2 (probe) was changed") != std::string::npos);
  bool gap = false;
  bool head = false;
  for (const auto& p : r->problems) {
    gap = gap || p.what.find("audit entry 4 is missing") != std::string::npos;
    head = head || p.kind == "head";
  }
  CHECK(gap);
  CHECK(head);
}

TEST_CASE("a SQLite store's chain copied to PostgreSQL keeps its head", "[pg]") {
  std::string db = fresh_database("dalil_t_copy");
  auto dir =
      std::filesystem::temp_directory_path() / ("dalil_pg_copy_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string file = (dir / "s.db").string();
  {
    auto lite = dalil::store::open_sqlite(file);
    REQUIRE(ok(lite));
    // Values that COPY's text format must escape: tab, newline, backslash, non-ASCII.
    REQUIRE(ok((*lite)->audit("cli:test", "probe", "a\tb", "{\"note\":\"line\\nnext \\\\ é ع\"}")));
    REQUIRE(ok((*lite)->audit("cli:test", "probe", "c\nd", "back\\slash\r")));
  }
  auto lite = dalil::store::open_sqlite(file, dalil::store::open_mode::read_only);
  REQUIRE(ok(lite));
  auto want = (*lite)->head();
  REQUIRE(ok(want));
  auto s = pg::pg_store::open(db);
  REQUIRE(ok(s));
  auto copied = pg::copy_from_sqlite(file, **s);
  REQUIRE(ok(copied));
  CHECK(copied->head.seq == want->seq);
  CHECK(copied->head.hash == want->hash);
  auto v = (*s)->verify_chain({std::to_string(want->seq) + ":" + want->hash});
  REQUIRE(ok(v));
  CHECK(v->problems.empty());
  // The chain goes on from the copied head, appended by PostgreSQL.
  auto next = (*s)->audit("test", "probe", "after", "{}");
  REQUIRE(ok(next));
  CHECK(*next == want->seq + 1);
  auto v2 = (*s)->verify_chain({std::to_string(want->seq) + ":" + want->hash});
  REQUIRE(ok(v2));
  CHECK(v2->problems.empty());
  // A second copy into a store that is not empty is refused, nothing changed.
  auto twice = pg::copy_from_sqlite(file, **s);
  REQUIRE_FALSE(ok(twice));
  CHECK(twice.error().code == errc::refused);
  std::filesystem::remove_all(dir);
}

TEST_CASE("migrate refuses a target holding a row of any table, and copies nothing", "[pg]") {
  // What the target holds: one row of a table that is neither the chain, a record, a ruleset
  // nor an import (they were the only ones checked once), or a row the migrations put there
  // changed.
  auto [name, sql] = GENERATE(table<std::string, std::string>({
      {"login_attempts",
       "INSERT INTO login_attempts(at, account, address) VALUES(1, '\\x00', 'a')"},
      {"login_throttles", "INSERT INTO login_throttles VALUES('address', 'a', 1, 1)"},
      {"login_devices", "INSERT INTO login_devices VALUES('\\x01', '\\x00', 1)"},
      {"offices", "INSERT INTO offices VALUES('rabat', '2026-01-01T00:00:00Z')"},
      {"lease",
       "INSERT INTO lease(name, token, run_id, pid, host, since, expires) VALUES('batch', "
       "'t', 1, 1, 'h', '2026-01-01T00:00:00Z', 1)"},
      {"retention", "UPDATE retention SET days = 30, set_by = 'admin' WHERE kind = 'traces'"},
      {"accounts_generation", "UPDATE accounts_generation SET generation = 2"},
  }));
  INFO(name);
  std::string db = fresh_database("dalil_t_copy_refused");
  auto dir = std::filesystem::temp_directory_path() /
             ("dalil_pg_copy_refused_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string file = (dir / "s.db").string();
  {
    auto lite = dalil::store::open_sqlite(file);
    REQUIRE(ok(lite));
    REQUIRE(ok((*lite)->audit("cli:test", "probe", "x", "{}")));
  }
  auto s = pg::pg_store::open(db);
  REQUIRE(ok(s));
  REQUIRE(ok((*s)->conn().run("a row behind the tool's back", sql)));
  auto copied = pg::copy_from_sqlite(file, **s);
  REQUIRE_FALSE(ok(copied));
  CHECK(copied.error().code == errc::refused);
  CHECK(copied.error().message.find("(rows in " + name + ")") != std::string::npos);
  auto n = (*s)->conn().query("counting", "SELECT count(*) FROM audit");
  REQUIRE(ok(n));
  CHECK(n->int64(0, 0) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("migrate checks every table the migrations create", "[pg]") {
  std::string db = fresh_database("dalil_t_copy_tables");
  auto s = pg::pg_store::open(db);
  REQUIRE(ok(s));
  auto q =
      (*s)->conn().query("listing the tables",
                         "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                         "AND tablename <> 'schema_migrations' ORDER BY tablename COLLATE \"C\"");
  REQUIRE(ok(q));
  std::vector<std::string> in_schema;
  in_schema.reserve(static_cast<std::size_t>(q->size()));
  for (int i = 0; i < q->size(); ++i) in_schema.push_back(q->text(i, 0));
  auto checked = pg::migrated_tables();
  std::sort(checked.begin(), checked.end());
  CHECK(checked == in_schema);
}

TEST_CASE("a SQLite store's identity tables and publications are copied and go on", "[pg]") {
  std::string db = fresh_database("dalil_t_copy_accounts");
  auto dir =
      std::filesystem::temp_directory_path() / ("dalil_pg_copy_acc_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string file = (dir / "s.db").string();
  const auto key = dalil::engine::sha256("alice");
  const std::int64_t t0 = 1'800'000'000;
  {
    auto a = dalil::store::open_sqlite_accounts(file);
    REQUIRE(ok(a));
    dalil::store::account alice;
    alice.name = "alice";
    alice.role = "official";
    alice.office = "rabat";
    alice.password_hash = "$argon2id$test";
    REQUIRE(ok((*a)->add_user(alice, "admin1")));
    dalil::store::account client;
    client.name = "c1";
    client.role = "auditor";
    REQUIRE(ok((*a)->add_token(client, dalil::engine::sha256("t"), "admin1")));
    alice = *(*a)->user("alice");
    // A session (and its login entry), an attempt still counted, and refusals counted for an
    // account (a digest's bytes in SQLite) and an address (text).
    auto slot = (*a)->reserve_attempt(key, "10.0.0.1", t0, 3, 900);
    REQUIRE(ok(slot));
    dalil::store::session_row session;
    session.id_hash = dalil::engine::sha256("cookie");
    session.user = alice;
    session.created = t0;
    session.last_seen = t0;
    REQUIRE(ok((*a)->login_succeeded(slot->attempt_id, key, "10.0.0.1", session,
                                     "{\"session\":\"" + session.id_hash.hex().substr(0, 16) +
                                         "\",\"created\":\"" + std::to_string(t0) + "\"}")));
    REQUIRE(ok((*a)->trust_device(dalil::engine::sha256("device"), key, session.id_hash, t0,
                                  t0 - 3600, 20)));
    REQUIRE(ok((*a)->reserve_attempt(key, "10.0.0.2", t0 + 1, 3, 900)));
    REQUIRE(ok((*a)->login_throttled(key, true, "10.0.0.9", true, t0, 900, "user alice")));
    REQUIRE(ok((*a)->login_throttled(key, true, "10.0.0.9", true, t0, 900, "user alice")));
    auto lite = dalil::store::open_sqlite(file);
    REQUIRE(ok(lite));
    const std::string source = "module a";
    REQUIRE(ok((*lite)->put_ruleset(dalil::engine::sha256_hex(source), source)));
    auto pubs = dalil::store::open_sqlite_publications(file);
    REQUIRE(ok(pubs));
    dalil::store::publication p;
    p.ruleset_hash = dalil::engine::sha256_hex(source);
    p.approved_by = "Direction";
    p.effective_from = "2017-01-01";
    p.actor = "admin1";
    REQUIRE(ok((*pubs)->publish(p)));
  }
  auto lite = dalil::store::open_sqlite(file, dalil::store::open_mode::read_only);
  REQUIRE(ok(lite));
  auto want = (*lite)->head();
  REQUIRE(ok(want));
  auto s = pg::pg_store::open(db);
  REQUIRE(ok(s));
  auto copied = pg::copy_from_sqlite(file, **s);
  REQUIRE(ok(copied));
  CHECK(copied->head.hash == want->hash);
  std::map<std::string, std::int64_t> rows(copied->tables.begin(), copied->tables.end());
  CHECK(rows["users"] == 1);
  CHECK(rows["tokens"] == 1);
  CHECK(rows["sessions"] == 1);
  CHECK(rows["login_attempts"] == 1);
  CHECK(rows["login_throttles"] == 2);
  CHECK(rows["login_devices"] == 1);
  CHECK(rows["publications"] == 1);
  auto v = (*s)->verify_chain({std::to_string(want->seq) + ":" + want->hash});
  REQUIRE(ok(v));
  for (const auto& p : v->problems) UNSCOPED_INFO(p.what);
  CHECK(v->problems.empty());

  // On PostgreSQL the copied state goes on: the session is there, the attempt still counts
  // (2 of 3 with this one), the refusals of the window too (no second login_throttled entry),
  // and a new attempt's id follows the copied one.
  auto a = pg::open_accounts(db);
  REQUIRE(ok(a));
  REQUIRE(ok((*a)->verify()));
  auto session = (*a)->session(dalil::engine::sha256("cookie"));
  REQUIRE(ok(session));
  CHECK(session->user.name == "alice");
  auto slot = (*a)->reserve_attempt(key, "10.0.0.3", t0 + 2, 3, 900);
  REQUIRE(ok(slot));
  CHECK(slot->account_failures == 2);
  // The copied attempt's id is 1 (SQLite gave the second attempt the first's, removed by the
  // login); the sequence goes on after it.
  CHECK(slot->attempt_id == 2);
  auto again = (*a)->login_throttled(key, true, "10.0.0.9", true, t0, 900, "user alice");
  REQUIRE(ok(again));
  CHECK_FALSE(*again);
  CHECK((*a)->token(dalil::engine::sha256("t"))->name == "c1");
  auto pubs = pg::open_publications(db);
  REQUIRE(ok(pubs));
  CHECK((*pubs)->list()->size() == 1);
  CHECK(*(*pubs)->ruleset_source((*pubs)->list()->front().ruleset_hash) == "module a");
  std::filesystem::remove_all(dir);
}

TEST_CASE("login attempts of several processes at once pass the rate limit exactly", "[pg]") {
  // Four processes (four servers), ten attempts each from one address, a limit of 6: the
  // reservations are serialized across processes, so exactly 6 are reserved, whatever the
  // interleaving.
  std::string db = fresh_database("dalil_t_limits");
  {
    auto a = pg::open_accounts(db);  // the schema, before the processes race
    REQUIRE(ok(a));
  }
  int done = in_processes(4, [&](int i) {
    auto a = pg::open_accounts(db);
    if (!a) return false;
    for (int k = 0; k < 10; ++k) {
      auto key = dalil::engine::sha256("user" + std::to_string(i * 10 + k));
      if (!(*a)->reserve_attempt(key, "192.0.2.7", 1'800'000'000, 6, 900)) return false;
    }
    return true;
  });
  CHECK(done == 4);
  auto c = pg::connection::open(db);
  REQUIRE(ok(c));
  auto n = c->query("counting", "SELECT count(*) FROM login_attempts WHERE address = '192.0.2.7'");
  REQUIRE(ok(n));
  CHECK(n->int64(0, 0) == 6);
}

TEST_CASE("a connection string never appears in an error", "[pg]") {
  const std::string secret = "Sup3rSecretPw";
  const std::string port = std::getenv("PGPORT") == nullptr ? "5432" : std::getenv("PGPORT");
  const std::vector<std::string> strings = {
      "postgresql://dalil:" + secret + "@127.0.0.1:1/dalil",         // nothing listens
      "postgresql://dalil:" + secret + "%zz@127.0.0.1/dalil",        // does not parse
      "host=127.0.0.1 port=1 password=" + secret + " dbname=dalil",  // keyword form
      "host=127.0.0.1 port=" + port + " user=postgres password=" + secret + " dbname=postgres",
      "postgresql://postgres:" + secret + "@127.0.0.1:" + port + "/postgres?bogus=" + secret,
  };
  for (const auto& s : strings) {
    auto c = pg::connection::open(s);
    REQUIRE_FALSE(ok(c));
    INFO(c.error().message);
    CHECK(c.error().message.find(secret) == std::string::npos);
    CHECK(c.error().message.find(s) == std::string::npos);
    CHECK(c.error().code == errc::failed);
  }
}

TEST_CASE("a connection waits 10 s at most unless told otherwise", "[pg]") {
  auto timeout_of = [](const std::string& conninfo) {
    auto c = pg::connection::open(conninfo);
    REQUIRE(ok(c));
    std::string value;
    PQconninfoOption* options = PQconninfo(c->handle());
    for (auto* o = options; o->keyword != nullptr; ++o) {
      if (std::string_view(o->keyword) == "connect_timeout" && o->val != nullptr) value = o->val;
    }
    PQconninfoFree(options);
    return value;
  };
  const std::string db = "postgresql:///postgres";
  CHECK(timeout_of(db) == pg::default_connect_timeout);
  CHECK(timeout_of("dbname=postgres") == pg::default_connect_timeout);
  CHECK(timeout_of(db + "?connect_timeout=3") == "3");
  CHECK(timeout_of("connect_timeout=4 dbname=postgres") == "4");
  // The environment's choice is kept too (libpq reads PGCONNECT_TIMEOUT when nothing overrides it).
  const char* before = std::getenv("PGCONNECT_TIMEOUT");
  REQUIRE(before == nullptr);
  ::setenv("PGCONNECT_TIMEOUT", "5", 1);
  const std::string from_env = timeout_of(db);
  ::unsetenv("PGCONNECT_TIMEOUT");
  CHECK(from_env == "5");
  // A service: its file's connect_timeout when it sets one, else the default.
  const auto file = std::filesystem::temp_directory_path() / "dalil_pg_service_test.conf";
  {
    std::ofstream out(file);
    out << "[timed]\ndbname=postgres\nconnect_timeout=7\n[untimed]\ndbname=postgres\n";
  }
  REQUIRE(std::getenv("PGSERVICEFILE") == nullptr);
  ::setenv("PGSERVICEFILE", file.c_str(), 1);
  const std::string timed = timeout_of("service=timed");
  const std::string untimed = timeout_of("service=untimed");
  const std::string timed_uri = timeout_of("postgresql:///postgres?service=timed");
  ::unsetenv("PGSERVICEFILE");
  std::filesystem::remove(file);
  CHECK(timed == "7");
  CHECK(untimed == pg::default_connect_timeout);
  CHECK(timed_uri == "7");
}

// Not run by default (hidden tag): appends per second with 1, 2 and 4 processes at once, for the
// figures in docs/postgresql.md. `dalil_pg_tests "[.pg-bench]"` under pg_virtualenv.
TEST_CASE("chain appends per second by processes at once", "[.pg-bench]") {
  std::string db = fresh_database("dalil_t_bench");
  REQUIRE(ok(pg::pg_store::open(db)));
  constexpr int total = 2000;
  for (int processes : {1, 2, 4}) {
    auto start = std::chrono::steady_clock::now();
    int done = in_processes(processes, [&](int p) {
      auto s = pg::pg_store::open(db);
      if (!s) return false;
      for (int i = 0; i < total / processes; ++i) {
        if (!(*s)->audit("bench", "probe", std::to_string(p), "{}")) return false;
      }
      return true;
    });
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    CHECK(done == processes);
    std::printf("%d process(es): %d appends in %.3f s, %.0f appends/s\n", processes, total,
                took.count(), total / took.count());
  }
  auto s = pg::pg_store::open(db);
  REQUIRE(ok(s));
  auto r = (*s)->verify_chain({});
  REQUIRE(ok(r));
  CHECK(r->problems.empty());
  CHECK(r->entries == std::int64_t{3} * total);
}
