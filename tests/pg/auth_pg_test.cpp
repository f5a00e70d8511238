// Two servers' authenticators on one PostgreSQL store (tests/pg/run.sh sets PG*): a session
// opened on one is the other's, a logout or a user disabled from a third connection (as `dalil
// user disable --db postgresql://…` does) ends it for both, and failed logins on either count
// towards one rate limit.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <string>

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

}  // namespace

TEST_CASE("two servers' authenticators share sessions, revocations and rate limits", "[pg]") {
  const std::string db = fresh("dalil_t_auth");
  const std::string password = "correct horse battery";
  {
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

  auto s = store::pg::pg_store::open(db);
  REQUIRE(ok(s));
  auto v = (*s)->verify_chain({});
  REQUIRE(ok(v));
  for (const auto& p : v->problems) UNSCOPED_INFO(p.what);
  CHECK(v->problems.empty());
}

TEST_CASE("servers whose clocks are hours apart measure sessions and rate limits alike", "[pg]") {
  const std::string db = fresh("dalil_t_skew");
  const std::string password = "correct horse battery";
  {
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

  auto s = store::pg::pg_store::open(db);
  REQUIRE(ok(s));
  auto v = (*s)->verify_chain({});
  REQUIRE(ok(v));
  for (const auto& p : v->problems) UNSCOPED_INFO(p.what);
  CHECK(v->problems.empty());
}
