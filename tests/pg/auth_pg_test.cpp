// Two servers' authenticators on one PostgreSQL store (tests/pg/run.sh sets PG*): a session
// opened on one is the other's, a logout or a user disabled from a third connection (as `dalil
// user disable --db postgresql://…` does) ends it for both, and failed logins on either count
// towards one rate limit. Servers whose clocks disagree go by the database's; a flood of refused
// logins does not queue behind the chain's lock; purges do not deadlock with logins.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "engine/sha256.hpp"

#include "server/auth/auth.hpp"
#include "server/auth/credentials.hpp"
#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"

namespace store = dalil::store;
namespace server = dalil::server;

namespace {

template <class R>
bool ok(const R& r) {
  if (!r.has_value()) UNSCOPED_INFO("store error: " << r.error().message);
  return r.has_value();
}

std::string fresh(const std::string& name) {
  if (std::getenv("PGHOST") == nullptr || std::getenv("PGPORT") == nullptr) {
    FAIL("PG* variables are not set: run these tests through tests/pg/run.sh (pg_virtualenv)");
  }
  auto admin = store::pg::connection::open("dbname=postgres");
  REQUIRE(ok(admin));
  REQUIRE(ok(admin->run("dropping a test database", "DROP DATABASE IF EXISTS " + name)));
  REQUIRE(ok(admin->run("creating a test database", "CREATE DATABASE " + name)));
  return "dbname=" + name;
}

/// A server whose clock is `skew` away from this machine's (another machine's, set wrong).
std::unique_ptr<server::authenticator> serve(const std::string& db,
                                             std::chrono::hours skew = std::chrono::hours(0)) {
  server::auth_options o;
  o.revocation_check = std::chrono::milliseconds(0);  // every change seen at once
  o.max_failures = 3;
  if (skew.count() != 0) o.clock = [skew] { return std::chrono::system_clock::now() + skew; };
  auto a = server::authenticator::open(db, o);
  REQUIRE(ok(a));
  return std::move(*a);
}

/// Alice, an official of rabat, with this password (as `dalil user add` stores her).
void add_alice(const std::string& db, const std::string& password) {
  auto admin = store::pg::open_accounts(db);
  REQUIRE(ok(admin));
  store::account alice;
  alice.name = "alice";
  alice.role = "official";
  alice.office = "rabat";
  auto h = server::hash_password(password);
  REQUIRE(ok(h));
  alice.password_hash = *h;
  REQUIRE(ok((*admin)->add_user(alice, "admin1")));
}

/// The store's verify finds every entry and identity row as it should be.
void check_chain(const std::string& db) {
  auto s = store::pg::pg_store::open(db);
  REQUIRE(ok(s));
  auto v = (*s)->verify_chain({});
  REQUIRE(ok(v));
  for (const auto& p : v->problems) UNSCOPED_INFO(p.what);
  CHECK(v->problems.empty());
}

}  // namespace

TEST_CASE("two servers' authenticators share sessions, revocations and rate limits", "[pg]") {
  const std::string db = fresh("dalil_t_auth");
  const std::string password = "correct horse battery";
  add_alice(db, password);
  auto one = serve(db);
  auto two = serve(db);

  auto in = one->login("alice", password, "10.0.0.1");
  REQUIRE(ok(in));
  auto seen = two->from_cookie(in->cookie_value);  // the session is the store's, not one server's
  REQUIRE(ok(seen));
  CHECK(seen->name == "alice");
  REQUIRE(ok(two->logout(*seen)));
  CHECK_FALSE(one->from_cookie(in->cookie_value).has_value());

  // Disabled from another connection (the CLI): both servers refuse the session at once.
  in = one->login("alice", password, "10.0.0.1");
  REQUIRE(ok(in));
  REQUIRE(ok(one->from_cookie(in->cookie_value)));
  REQUIRE(ok(two->from_cookie(in->cookie_value)));
  {
    auto cli = store::pg::open_accounts(db);
    REQUIRE(ok(cli));
    REQUIRE(ok((*cli)->disable_user("alice", "admin1")));
  }
  CHECK_FALSE(one->from_cookie(in->cookie_value).has_value());
  CHECK_FALSE(two->from_cookie(in->cookie_value).has_value());
  CHECK(one->login("alice", password, "10.0.0.1").error().code == store::errc::refused);
  {
    auto cli = store::pg::open_accounts(db);
    REQUIRE(ok(cli));
    REQUIRE(ok((*cli)->enable_user("alice", "admin1")));
  }

  // Failures on either server count towards one limit (3 for the account): the refused login
  // of the disabled user above, then a wrong password on each server.
  CHECK(one->login("alice", "wrong password 1", "10.0.0.2").error().code == store::errc::refused);
  CHECK(two->login("alice", "wrong password 2", "10.0.0.3").error().code == store::errc::refused);
  auto limited = two->login("alice", password, "10.0.0.5");
  REQUIRE_FALSE(limited.has_value());
  CHECK(limited.error().code == store::errc::busy);
  CHECK(server::retry_after_seconds(limited.error()).has_value());

  check_chain(db);
}

TEST_CASE("servers whose clocks are hours apart measure sessions and rate limits alike", "[pg]") {
  const std::string db = fresh("dalil_t_skew");
  const std::string password = "correct horse battery";
  add_alice(db, password);
  // Three machines: one three hours slow, one right, one five hours fast. The database's clock
  // is the one they all go by.
  auto slow = serve(db, std::chrono::hours(-3));
  auto right = serve(db);
  auto fast = serve(db, std::chrono::hours(5));

  // A session opened on the slow server is neither idle nor too old for the others.
  auto in = slow->login("alice", password, "10.0.0.1");
  REQUIRE(ok(in));
  CHECK(ok(right->from_cookie(in->cookie_value)));
  CHECK(ok(fast->from_cookie(in->cookie_value)));
  CHECK(ok(slow->from_cookie(in->cookie_value)));
  in = fast->login("alice", password, "10.0.0.1");
  REQUIRE(ok(in));
  CHECK(ok(slow->from_cookie(in->cookie_value)));

  // Failures on the slow and the fast server count in one window (3 for the account): none
  // is purged as old, or kept as recent, by another server's clock.
  CHECK(slow->login("alice", "wrong password 1", "10.0.1.1").error().code == store::errc::refused);
  CHECK(fast->login("alice", "wrong password 2", "10.0.1.2").error().code == store::errc::refused);
  CHECK(slow->login("alice", "wrong password 3", "10.0.1.3").error().code == store::errc::refused);
  for (auto* s : {right.get(), slow.get(), fast.get()}) {
    auto limited = s->login("alice", password, "10.0.1.4");
    REQUIRE_FALSE(limited.has_value());
    CHECK(limited.error().code == store::errc::busy);
  }
  // One refusal period for all three: one login_throttled entry, not one per clock.
  auto c = store::pg::connection::open(db);
  REQUIRE(ok(c));
  auto throttled = c->query("counting entries",
                            "SELECT count(*) FROM audit WHERE action = "
                            "'login_throttled'");
  REQUIRE(ok(throttled));
  CHECK(throttled->int64(0, 0) == 1);

  check_chain(db);
}

TEST_CASE("servers whose clocks are days apart agree on whether a bearer token has expired",
          "[pg]") {
  const std::string db = fresh("dalil_t_skew_token");
  auto cli = store::pg::open_accounts(db);
  REQUIRE(ok(cli));
  const std::int64_t local = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  auto db_now_ms = (*cli)->now_ms(local);
  REQUIRE(ok(db_now_ms));
  const std::int64_t db_now = *db_now_ms / 1000;
  // A token valid for one more day by the database's clock.
  const std::string token = server::new_token();
  store::account client;
  client.name = "case-system";
  client.role = "official";
  client.office = "rabat";
  client.expires = db_now + 86400;
  REQUIRE(ok((*cli)->add_token(client, server::secret_hash(token), "admin1")));

  // Machines two days slow, right and two days fast: the token is valid on each, from the
  // store (a first lookup) and from memory (a second).
  auto slow = serve(db, std::chrono::hours(-48));
  auto right = serve(db);
  auto fast = serve(db, std::chrono::hours(48));
  for (auto* s : {slow.get(), right.get(), fast.get()}) {
    for (int i = 0; i < 2; ++i) {
      auto p = s->from_bearer(token);
      if (!p) UNSCOPED_INFO("refused: " << p.error().message);
      CHECK(p.has_value());
    }
  }
}

TEST_CASE("a refused login after the first of its window does not wait for the chain's lock",
          "[pg]") {
  const std::string db = fresh("dalil_t_flood");
  auto a = store::pg::open_accounts(db);
  REQUIRE(ok(a));
  auto b = store::pg::open_accounts(db);  // another server
  REQUIRE(ok(b));
  const auto key = dalil::engine::sha256("alice");
  const std::string address = "10.0.0.9";
  const std::int64_t window = 900;
  const std::int64_t start = 1'999'999'800;
  auto refuse = [&](store::accounts& on, std::int64_t window_start) {
    return on.login_throttled(key, true, address, false, window_start, window, "user alice");
  };
  auto first = refuse(**a, start);
  REQUIRE(ok(first));
  CHECK(*first);

  // Another process appends to the chain and holds its lock meanwhile.
  auto holder = store::pg::connection::open(db);
  REQUIRE(ok(holder));
  REQUIRE(ok(holder->run("holding the chain's lock", "BEGIN")));
  REQUIRE(ok(holder->run("holding the chain's lock", "SELECT pg_advisory_xact_lock($1)",
                         {std::to_string(store::pg::chain_lock_key)})));
  // The later refusals of the window are only counted: they pass at once.
  auto later = std::async(std::launch::async, [&] {
    for (int i = 0; i < 9; ++i) {
      auto r = refuse(**a, start);
      if (!r || *r) return r;
    }
    return refuse(**a, start);
  });
  const bool prompt = later.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  // The first refusal of the next window writes its entry: that one waits for the lock.
  auto next = std::async(std::launch::async, [&] { return refuse(**b, start + window); });
  const bool waited = next.wait_for(std::chrono::milliseconds(500)) == std::future_status::timeout;
  REQUIRE(ok(holder->run("releasing the chain's lock", "COMMIT")));
  CHECK(prompt);
  CHECK(waited);
  auto counted = later.get();
  REQUIRE(ok(counted));
  CHECK_FALSE(*counted);
  auto entry = next.get();
  REQUIRE(ok(entry));
  CHECK(*entry);

  // The same entries and counts as before: one entry per window, every refusal counted.
  auto c = store::pg::connection::open(db);
  REQUIRE(ok(c));
  auto entries =
      c->query("counting entries", "SELECT count(*) FROM audit WHERE action = 'login_throttled'");
  REQUIRE(ok(entries));
  CHECK(entries->int64(0, 0) == 2);
  auto counts = c->query("reading counts",
                         "SELECT window_start, refused FROM login_throttles ORDER BY window_start");
  REQUIRE(ok(counts));
  REQUIRE(counts->size() == 2);
  CHECK(counts->int64(0, 1) == 11);
  CHECK(counts->int64(1, 1) == 1);
}

TEST_CASE("purges of old attempts and expired sessions neither deadlock with logins nor lose rows",
          "[pg]") {
  const std::string db = fresh("dalil_t_purge");
  {
    auto a = store::pg::open_accounts(db);  // the schema
    REQUIRE(ok(a));
  }
  auto c = store::pg::connection::open(db);
  REQUIRE(ok(c));
  // The plans of grown tables: a purge by the index on `at` (that order), a login's delete by id.
  REQUIRE(ok(c->run("planning as for a grown table",
                    "ALTER DATABASE dalil_t_purge SET enable_seqscan = off")));
  REQUIRE(ok(c->run("planning as for a grown table",
                    "ALTER DATABASE dalil_t_purge SET enable_bitmapscan = off")));
  const std::int64_t now = 2'000'000'000;
  const std::int64_t window = 900;
  const auto alice = dalil::engine::sha256("alice");
  const std::string alice_key = "\\x" + alice.hex();
  auto insert = [&](std::int64_t at) {
    auto q = c->query("inserting an attempt",
                      "INSERT INTO login_attempts(at, account, address) VALUES($1, $2, "
                      "'10.0.0.1') RETURNING attempt_id",
                      {std::to_string(at), alice_key});
    REQUIRE(ok(q));
    return q->text(0, 0);
  };
  // Two old failures of alice's, the older one stored second; one recent.
  const std::string older_first = insert(now - 2000);
  const std::string oldest = insert(now - 3000);
  const std::string recent = insert(now - 10);

  // Alice's login deletes her failures, one of them already; meanwhile another login's
  // reservation purges the old attempts; then alice's login deletes the other one.
  auto login = store::pg::connection::open(db);
  REQUIRE(ok(login));
  REQUIRE(ok(login->run("a login", "BEGIN")));
  REQUIRE(
      ok(login->run("a login", "DELETE FROM login_attempts WHERE attempt_id = $1", {older_first})));
  auto other = store::pg::open_accounts(db);
  REQUIRE(ok(other));
  auto reserved = std::async(std::launch::async, [&] {
    return (*other)->reserve_attempt(dalil::engine::sha256("bob"), "10.0.0.2", now, 3, window);
  });
  // Until the reservation is done or waits on a lock.
  for (int i = 0; i < 100; ++i) {
    if (reserved.wait_for(std::chrono::milliseconds(50)) == std::future_status::ready) break;
    auto waiting = c->query("reading locks",
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "'dalil_t_purge' AND wait_event_type = 'Lock'");
    REQUIRE(ok(waiting));
    if (waiting->int64(0, 0) > 0) break;
  }
  auto second = login->run("a login", "DELETE FROM login_attempts WHERE attempt_id = $1", {oldest});
  CHECK(ok(second));
  REQUIRE(ok(login->run("a login", "COMMIT")));
  auto slot = reserved.get();
  CHECK(ok(slot));  // not busy: no deadlock (SQLSTATE 40P01)

  // Nothing lost: the old attempts gone, the recent one and the reservation kept.
  auto left = c->query("reading attempts",
                       "SELECT attempt_id::text FROM login_attempts ORDER BY attempt_id");
  REQUIRE(ok(left));
  REQUIRE(left->size() == 2);
  CHECK(left->text(0, 0) == recent);
  if (slot) CHECK(left->text(1, 0) == std::to_string(slot->attempt_id));

  // Several servers purging sessions while others log in: no failure, and every expired
  // session purged, every live one kept.
  add_alice(db, "correct horse battery");
  constexpr int servers = 4;
  constexpr int rounds = 25;
  constexpr std::int64_t idle = 3600;
  constexpr std::int64_t absolute = std::int64_t{8} * 3600;
  std::vector<std::future<std::string>> runs;
  runs.reserve(servers);
  for (int s = 0; s < servers; ++s) {
    runs.push_back(std::async(std::launch::async, [&db, s] {
      auto a = store::pg::open_accounts(db);
      if (!a) return a.error().message;
      auto user = (*a)->user("alice");
      if (!user) return user.error().message;
      for (int i = 0; i < rounds; ++i) {
        std::string tag = std::to_string(s) + "-" + std::to_string(i);
        auto slot =
            (*a)->reserve_attempt(dalil::engine::sha256(tag), "10.1.0." + tag, now, 100, 900);
        if (!slot) return slot.error().message;
        store::session_row row;
        row.id_hash = dalil::engine::sha256("session " + tag);
        row.user = *user;
        // Every other one expired at once (idle), the others live.
        row.created = i % 2 == 0 ? now - 7200 : now;
        row.last_seen = row.created;
        auto in = (*a)->login_succeeded(slot->attempt_id, dalil::engine::sha256(tag),
                                        "10.1.0." + tag, row, "{}");
        if (!in) return in.error().message;
        auto purged = (*a)->purge_sessions(now, idle, absolute);
        if (!purged) return purged.error().message;
      }
      return std::string();
    }));
  }
  for (auto& r : runs) CHECK(r.get().empty());
  auto final_purge = (*other)->purge_sessions(now, idle, absolute);
  REQUIRE(ok(final_purge));
  auto sessions = c->query("reading sessions", "SELECT count(*) FROM sessions");
  REQUIRE(ok(sessions));
  CHECK(sessions->int64(0, 0) == std::int64_t{servers} * (rounds / 2));
}
