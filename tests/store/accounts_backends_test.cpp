// The identity tables and the publications, one suite run against each store: SQLite always
// (dalil_tests), and PostgreSQL too when compiled into dalil_pg_tests (DALIL_PG_BACKEND, run by
// tests/pg/run.sh inside pg_virtualenv). Each body takes a `backend` and never asks which it is.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/sha256.hpp"
#include "store/accounts.hpp"
#include "store/pg/open.hpp"
#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"
#include "store/publications.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"

#ifdef DALIL_PG_BACKEND
#define BACKEND_TAGS "[pg][accounts]"
#else
#define BACKEND_TAGS "[store][accounts]"
#endif

namespace fs = std::filesystem;
namespace store = dalil::store;
using store::errc;

namespace {

template <class R>
bool ok(const R& r) {
  if (!r.has_value()) UNSCOPED_INFO("store error: " << r.error().message);
  return r.has_value();
}

/// One empty store of one kind: a SQLite file in a temporary folder, or a new PostgreSQL
/// database on the cluster of the PG* variables.
class backend {
 public:
  backend(std::string kind, const std::string& test) : kind_(std::move(kind)) {
    if (kind_ == "sqlite") {
      std::random_device rd;
      dir_ = fs::temp_directory_path() / ("dalil-acc-" + std::to_string(rd()));
      fs::create_directories(dir_);
      db_ = (dir_ / "store.db").string();
      auto s = store::open_sqlite(db_);
      REQUIRE(ok(s));
      return;
    }
    if (std::getenv("PGHOST") == nullptr || std::getenv("PGPORT") == nullptr) {
      FAIL("PG* variables are not set: run these tests through tests/pg/run.sh (pg_virtualenv)");
    }
    auto admin = store::pg::connection::open("dbname=postgres");
    REQUIRE(ok(admin));
    const std::string name = "dalil_acc_" + test;
    REQUIRE(ok(admin->run("dropping a test database", "DROP DATABASE IF EXISTS " + name)));
    REQUIRE(ok(admin->run("creating a test database", "CREATE DATABASE " + name)));
    db_ = "dbname=" + name;
  }
  ~backend() {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  backend(const backend&) = delete;
  backend& operator=(const backend&) = delete;

  const std::string& kind() const { return kind_; }
  const std::string& db() const { return db_; }

  /// A new accounts object: its own connection, as another server process would have.
  std::unique_ptr<store::accounts> accounts() const {
    auto a = store::open_accounts(db_);
    REQUIRE(ok(a));
    return std::move(*a);
  }
  std::unique_ptr<store::publication_store> publications() const {
    auto p = store::open_publications(db_);
    REQUIRE(ok(p));
    return std::move(*p);
  }
  std::unique_ptr<store::store> whole() const {
    auto s = kind_ == "sqlite" ? store::open_sqlite(db_) : store::pg::open_store(db_);
    REQUIRE(ok(s));
    return std::move(*s);
  }

  /// A statement run behind the tool's back (SQL that both databases take).
  void sql(const std::string& statement) const {
    if (kind_ == "sqlite") {
      store::database d;
      std::string error;
      REQUIRE(d.open(db_, error));
      INFO(error);
      REQUIRE(d.exec(statement, error));
      return;
    }
    auto c = store::pg::connection::open(db_);
    REQUIRE(ok(c));
    REQUIRE(ok(c->run("tampering", statement)));
  }

  std::int64_t number(const std::string& query) const {
    if (kind_ == "sqlite") {
      store::database d;
      std::string error;
      REQUIRE(d.open(db_, error));
      auto q = d.prepare(query, error);
      INFO(error);
      REQUIRE(q.ok());
      REQUIRE(q.step() == SQLITE_ROW);
      return q.int64(0);
    }
    auto c = store::pg::connection::open(db_);
    REQUIRE(ok(c));
    auto r = c->query("reading", query);
    REQUIRE(ok(r));
    return r->int64(0, 0);
  }

  std::int64_t entries(const std::string& action) const {
    return number("SELECT count(*) FROM audit WHERE action = '" + action + "'");
  }

  /// The problems the store's own `audit verify` finds (the chain and every row check).
  std::vector<store::audit_problem> verify() const {
    if (kind_ == "sqlite") {
      auto s = store::open_sqlite(db_);
      REQUIRE(ok(s));
      auto r = (*s)->verify({});
      REQUIRE(ok(r));
      return r->problems;
    }
    auto s = store::pg::pg_store::open(db_);
    REQUIRE(ok(s));
    auto r = (*s)->verify_chain({});
    REQUIRE(ok(r));
    return r->problems;
  }

 private:
  std::string kind_;
  std::string db_;
  fs::path dir_;
};

std::vector<std::string> kinds() {
#ifdef DALIL_PG_BACKEND
  return {"sqlite", "postgresql"};
#else
  return {"sqlite"};
#endif
}

store::account person(const std::string& name, const std::string& role, const std::string& office) {
  store::account a;
  a.name = name;
  a.role = role;
  a.office = office;
  a.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$test-" + name;  // stored as given
  return a;
}

store::session_row session_of(const store::account& user, const std::string& cookie,
                              std::int64_t at) {
  store::session_row s;
  s.id_hash = dalil::engine::sha256(cookie);
  s.user = user;
  s.created = at;
  s.last_seen = at;
  return s;
}

bool names(const std::vector<store::audit_problem>& problems, const std::string& kind,
           const std::string& text) {
  for (const auto& p : problems) {
    UNSCOPED_INFO("problem (" << p.kind << "): " << p.what);
    if (p.kind == kind && p.what.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("users, tokens and offices: added, disabled, revoked, each with its entry",
          BACKEND_TAGS) {
  for (const auto& kind : kinds()) {
    SECTION(kind) {
      backend b(kind, "principals");
      auto a = b.accounts();
      auto added = a->add_user(person("alice", "official", "rabat"), "admin1");
      REQUIRE(ok(added));
      CHECK(added->created_office);
      CHECK(b.entries("office_add") == 1);
      CHECK(b.entries("user_add") == 1);
      CHECK(a->add_user(person("alice", "adviser", ""), "admin1").error().code == errc::conflict);
      CHECK(a->add_user(person("bob", "official", ""), "admin1").error().code == errc::refused);
      CHECK(a->add_office("rabat", "admin1").error().code == errc::conflict);
      REQUIRE(ok(a->add_office("fes", "admin1")));
      auto bob = person("bob", "adviser", "fes");
      auto bob_added = a->add_user(bob, "admin1");
      REQUIRE(ok(bob_added));
      CHECK_FALSE(bob_added->created_office);

      store::account client;
      client.name = "batch-client";
      client.role = "auditor";
      const auto token = dalil::engine::sha256("a bearer token");
      REQUIRE(ok(a->add_token(client, token, "admin1")));
      CHECK(a->add_token(client, dalil::engine::sha256("another"), "admin1").error().code ==
            errc::conflict);
      CHECK(a->add_token(person("alice", "auditor", ""), dalil::engine::sha256("x"), "admin1")
                .error()
                .code == errc::conflict);
      auto found = a->token(token);
      REQUIRE(ok(found));
      CHECK(found->name == "batch-client");
      CHECK(found->machine);
      CHECK(found->expires_recorded);
      REQUIRE(ok(a->tokens()));
      CHECK(a->tokens()->size() == 1);
      REQUIRE(ok(a->revoke_token("batch-client", "admin1")));
      CHECK(a->token(token).error().code == errc::not_found);
      CHECK(a->revoke_token("batch-client", "admin1").error().code == errc::not_found);
      CHECK(a->clients()->empty());
      // A revoked client may have a new token; its name stays a principal's.
      REQUIRE(ok(a->add_token(client, dalil::engine::sha256("a second token"), "admin1")));
      CHECK(a->add_user(person("batch-client", "adviser", ""), "admin1").error().code ==
            errc::conflict);

      auto ended = a->disable_user("bob", "admin1");
      REQUIRE(ok(ended));
      CHECK(*ended == 0);
      CHECK(a->user("bob")->disabled);
      REQUIRE(ok(a->enable_user("bob", "admin1")));
      CHECK_FALSE(a->user("bob")->disabled);
      REQUIRE(ok(a->set_password("bob", "$argon2id$new", "admin1")));
      CHECK(a->user("bob")->password_hash == "$argon2id$new");
      REQUIRE(ok(a->set_lang("bob", "ar")));
      CHECK(a->user("bob")->lang == "ar");
      CHECK(a->set_lang("nobody", "ar").error().code == errc::not_found);
      CHECK(a->disable_user("nobody", "admin1").error().code == errc::not_found);

      auto users = a->users();
      REQUIRE(ok(users));
      REQUIRE(users->size() == 2);
      CHECK((*users)[0].name == "alice");
      CHECK((*users)[1].office == "fes");
      CHECK(*a->offices() == std::vector<std::string>{"fes", "rabat"});
      CHECK(b.entries("office_add") == 2);
      CHECK(b.entries("user_add") == 2);
      CHECK(b.entries("token_create") == 2);
      CHECK(b.entries("token_revoke") == 1);
      CHECK(b.entries("user_disable") == 1);
      CHECK(b.entries("user_enable") == 1);
      CHECK(b.entries("user_password") == 1);
      CHECK(b.entries("user_lang") == 1);
      CHECK(ok(a->verify()));
      CHECK(b.verify().empty());
    }
  }
}

TEST_CASE("sessions: stored at login, touched, ended, expired and purged", BACKEND_TAGS) {
  for (const auto& kind : kinds()) {
    SECTION(kind) {
      backend b(kind, "sessions");
      auto a = b.accounts();
      REQUIRE(ok(a->add_user(person("alice", "adviser", ""), "admin1")));
      auto alice = *a->user("alice");
      const auto key = dalil::engine::sha256("alice");
      const std::int64_t t0 = 1'800'000'000;
      for (int i = 0; i < 3; ++i) {
        auto slot = a->reserve_attempt(key, "10.0.0.1", t0, 5, 900);
        REQUIRE(ok(slot));
        REQUIRE(slot->retry_after == 0);
        auto s = session_of(alice, "cookie-" + std::to_string(i), t0 + i);
        REQUIRE(
            ok(a->login_succeeded(slot->attempt_id, key, "10.0.0.1", s,
                                  "{\"session\":\"" + s.id_hash.hex().substr(0, 16) +
                                      "\",\"created\":\"" + std::to_string(s.created) + "\"}")));
      }
      CHECK(b.number("SELECT count(*) FROM login_attempts") == 0);
      CHECK(b.entries("login") == 3);
      const auto first = dalil::engine::sha256("cookie-0");
      auto s = a->session(first);
      REQUIRE(ok(s));
      CHECK(s->user.name == "alice");
      CHECK(s->created == t0);
      REQUIRE(ok(a->touch_session(first, t0 + 100)));
      REQUIRE(ok(a->touch_session(first, t0 + 50)));  // never backwards
      CHECK(a->session(first)->last_seen == t0 + 100);
      CHECK(ok(a->verify()));

      REQUIRE(ok(
          a->end_session(first, "alice", "{\"session\":\"" + first.hex().substr(0, 16) + "\"}")));
      CHECK(b.entries("logout") == 1);
      CHECK(a->session(first).error().code == errc::not_found);
      CHECK(a->end_session(first, "alice", "{}").error().code == errc::not_found);
      CHECK(a->touch_session(first, t0).error().code == errc::not_found);
      REQUIRE(ok(a->expire_session(dalil::engine::sha256("cookie-1"))));
      CHECK(a->session(dalil::engine::sha256("cookie-1")).error().code == errc::not_found);
      // cookie-2: created t0 + 2, idle limit 60 s: purged at t0 + 62, not at t0 + 61.
      CHECK(*a->purge_sessions(t0 + 61, 60, 3600) == 0);
      CHECK(*a->purge_sessions(t0 + 62, 60, 3600) == 1);
      CHECK(b.number("SELECT count(*) FROM sessions") == 0);

      // A session of a user disabled before the login committed is refused; disabling ends
      // the sessions a user has.
      auto slot = a->reserve_attempt(key, "10.0.0.1", t0, 5, 900);
      REQUIRE(ok(slot));
      auto late = session_of(alice, "cookie-late", t0);
      REQUIRE(ok(a->login_succeeded(slot->attempt_id, key, "10.0.0.1", late,
                                    "{\"session\":\"" + late.id_hash.hex().substr(0, 16) +
                                        "\",\"created\":\"" + std::to_string(t0) + "\"}")));
      CHECK(*a->disable_user("alice", "admin1") == 1);
      slot = a->reserve_attempt(key, "10.0.0.1", t0, 5, 900);
      REQUIRE(ok(slot));
      CHECK(a->login_succeeded(slot->attempt_id, key, "10.0.0.1",
                               session_of(alice, "cookie-refused", t0), "{}")
                .error()
                .code == errc::refused);
      CHECK(b.entries("login") == 4);
      // A login whose password was changed after it was read (`dalil user passwd` committed
      // between the login's read of the user and its session, on any server) is refused: the
      // new password ends the sessions of the old one, this one included.
      REQUIRE(ok(a->enable_user("alice", "admin1")));
      auto before_change = *a->user("alice");
      REQUIRE(ok(a->set_password("alice", before_change.password_hash + "-changed", "admin1")));
      slot = a->reserve_attempt(key, "10.0.0.1", t0, 5, 900);
      REQUIRE(ok(slot));
      CHECK(a->login_succeeded(slot->attempt_id, key, "10.0.0.1",
                               session_of(before_change, "cookie-stale", t0), "{}")
                .error()
                .code == errc::refused);
      CHECK(a->session(dalil::engine::sha256("cookie-stale")).error().code == errc::not_found);
      auto now_alice = *a->user("alice");
      REQUIRE(ok(a->login_succeeded(
          slot->attempt_id, key, "10.0.0.1", session_of(now_alice, "cookie-fresh", t0),
          "{\"session\":\"" + dalil::engine::sha256("cookie-fresh").hex().substr(0, 16) +
              "\",\"created\":\"" + std::to_string(t0) + "\"}")));
      CHECK(b.entries("login") == 5);
      CHECK(ok(a->verify()));
      CHECK(b.verify().empty());
    }
  }
}

TEST_CASE("known devices: remembered per user, the oldest trimmed, forgotten with the password",
          BACKEND_TAGS) {
  for (const auto& kind : kinds()) {
    SECTION(kind) {
      backend b(kind, "devices");
      auto a = b.accounts();
      REQUIRE(ok(a->add_user(person("alice", "official", "rabat"), "admin1")));
      REQUIRE(ok(a->add_user(person("bob", "official", "rabat"), "admin1")));
      const auto alice = dalil::engine::sha256("alice");
      const auto bob = dalil::engine::sha256("bob");
      const std::int64_t t0 = 1'800'000'000;
      // A device is remembered only with its login's session: one each.
      std::map<std::string, dalil::engine::digest> session_of_user;
      for (const char* name : {"alice", "bob"}) {
        const auto key = dalil::engine::sha256(name);
        auto slot = a->reserve_attempt(key, "10.0.0.1", t0, 5, 900);
        REQUIRE(ok(slot));
        auto s = session_of(*a->user(name), std::string("cookie-") + name, t0);
        REQUIRE(ok(a->login_succeeded(slot->attempt_id, key, "10.0.0.1", s,
                                      "{\"session\":\"" + s.id_hash.hex().substr(0, 16) +
                                          "\",\"created\":\"" + std::to_string(t0) + "\"}")));
        session_of_user[key.hex()] = s.id_hash;
      }
      auto dev = [](int i) { return dalil::engine::sha256("device-" + std::to_string(i)); };
      auto trust = [&](int i, const dalil::engine::digest& who, std::int64_t at) {
        auto kept = a->trust_device(dev(i), who, session_of_user.at(who.hex()), at, at - 1000, 3);
        return ok(kept) && *kept;
      };
      REQUIRE(trust(0, alice, t0));
      // Without the login's session (ended by a disable or a new password meanwhile): nothing.
      auto lost = a->trust_device(dev(8), alice, dalil::engine::sha256("no-session"), t0, 0, 3);
      REQUIRE(ok(lost));
      CHECK_FALSE(*lost);
      CHECK_FALSE(a->device(dev(8), alice, 0)->known);
      auto d = a->device(dev(0), alice, t0 - 1000);
      REQUIRE(ok(d));
      CHECK(d->known);
      CHECK(d->for_account);
      d = a->device(dev(0), bob, t0 - 1000);
      REQUIRE(ok(d));
      CHECK(d->known);              // a browser alice signed in from …
      CHECK_FALSE(d->for_account);  // … is not bob's until he signs in on it
      REQUIRE(trust(0, bob, t0 + 1));
      CHECK(a->device(dev(0), bob, t0 - 1000)->for_account);
      // Its time is the latest sign-in: after `since` it is known, at it no more.
      CHECK(a->device(dev(0), alice, t0)->known);              // bob's sign-in at t0 + 1
      CHECK_FALSE(a->device(dev(0), alice, t0)->for_account);  // alice's at t0 is not after t0
      CHECK_FALSE(a->device(dev(9), alice, t0 - 1000)->known);
      // At most 3 a user: the least recently used go first; bob's are his own.
      for (int i = 1; i <= 3; ++i) REQUIRE(trust(i, alice, t0 + 10 + i));
      CHECK(b.number("SELECT count(*) FROM login_devices") == 4);
      CHECK_FALSE(a->device(dev(0), alice, t0 - 1000)->for_account);
      CHECK(a->device(dev(0), bob, t0 - 1000)->for_account);
      // Signing in again raises a device's time, never lowers it.
      REQUIRE(
          ok(a->trust_device(dev(1), alice, session_of_user.at(alice.hex()), t0, t0 - 1000, 3)));
      CHECK(a->device(dev(1), alice, t0 + 10)->for_account);
      // Devices older than `since` are forgotten on the way (bob's, signed in at t0 + 1).
      REQUIRE(trust(3, alice, t0 + 1002));
      CHECK(b.number("SELECT count(*) FROM login_devices") == 3);
      CHECK_FALSE(a->device(dev(0), bob, 0)->known);
      // A new password, or a disable, forgets every device of that user.
      REQUIRE(ok(a->set_password("alice", "$argon2id$v=19$m=65536,t=2,p=1$new", "admin1")));
      CHECK(b.number("SELECT count(*) FROM login_devices") == 0);
      REQUIRE(trust(5, bob, t0 + 2000));
      REQUIRE(ok(a->disable_user("bob", "admin1")));
      CHECK(b.number("SELECT count(*) FROM login_devices") == 0);
      CHECK(ok(a->verify()));
    }
  }
}

TEST_CASE("the rate limit and the generation are shared by two servers on one store",
          BACKEND_TAGS) {
  for (const auto& kind : kinds()) {
    SECTION(kind) {
      backend b(kind, "shared");
      auto one = b.accounts();
      auto two = b.accounts();  // another server: its own connection
      REQUIRE(ok(one->add_user(person("alice", "adviser", ""), "admin1")));
      const auto key = dalil::engine::sha256("alice");
      const std::int64_t t0 = 1'800'000'000;

      // Attempts alternate between the servers: the limit (3 in 900 s) counts them all.
      for (int i = 0; i < 3; ++i) {
        auto& a = i % 2 == 0 ? one : two;
        auto slot = a->reserve_attempt(key, "10.0.0." + std::to_string(i), t0 + i, 3, 900);
        REQUIRE(ok(slot));
        CHECK(slot->retry_after == 0);
        CHECK(slot->account_failures == i + 1);
        REQUIRE(ok(a->login_failed("user alice", "{\"reason\":\"wrong password\"}")));
      }
      auto refused = two->reserve_attempt(key, "10.0.0.9", t0 + 10, 3, 900);
      REQUIRE(ok(refused));
      CHECK(refused->retry_after == 890);  // until the oldest of the 3 leaves the window
      CHECK(refused->account_over);
      CHECK_FALSE(refused->address_over);
      CHECK(refused->attempt_id == 0);
      // The first refusal of the window is audited, by whichever server saw it; the others are
      // only counted.
      CHECK(*one->login_throttled(key, true, "10.0.0.9", false, t0, 900, "user alice"));
      CHECK_FALSE(*two->login_throttled(key, true, "10.0.0.9", false, t0, 900, "user alice"));
      CHECK(b.entries("login_throttled") == 1);
      CHECK(b.number("SELECT refused FROM login_throttles") == 2);
      CHECK(b.entries("login_failed") == 3);
      // The window passes: the attempts are purged and the account may try again.
      auto later = one->reserve_attempt(key, "10.0.0.9", t0 + 905, 3, 900);
      REQUIRE(ok(later));
      CHECK(later->retry_after == 0);
      CHECK(later->account_failures == 1);

      // Parallel attempts on both servers (2 threads each, 10 attempts each thread, limit 6 for
      // a new address): exactly 6 reserved, whichever thread and connection.
      auto three = b.accounts();
      auto four = b.accounts();
      std::vector<store::accounts*> servers{one.get(), two.get(), three.get(), four.get()};
      std::atomic<int> reserved{0};
      std::atomic<int> failures{0};
      std::vector<std::thread> threads;
      threads.reserve(servers.size());
      for (auto* server : servers) {
        threads.emplace_back([&, server] {
          for (int i = 0; i < 10; ++i) {
            auto slot = server->reserve_attempt(dalil::engine::sha256("k" + std::to_string(i)),
                                                "192.0.2.1", t0 + 2000, 6, 900);
            if (!slot) {
              ++failures;
            } else if (slot->retry_after == 0) {
              ++reserved;
            }
          }
        });
      }
      for (auto& t : threads) t.join();
      CHECK(failures == 0);
      CHECK(reserved == 6);

      // One server's change moves the generation the other polls, and the other sees it.
      auto g = two->generation();
      REQUIRE(ok(g));
      REQUIRE(ok(one->disable_user("alice", "admin1")));
      CHECK(*two->generation() > *g);
      CHECK(two->user("alice")->disabled);
      g = two->generation();
      store::account client;
      client.name = "c1";
      client.role = "auditor";
      REQUIRE(ok(one->add_token(client, dalil::engine::sha256("t"), "admin1")));
      CHECK(*two->generation() > *g);
      CHECK(two->token(dalil::engine::sha256("t"))->name == "c1");
      CHECK(ok(two->verify()));
    }
  }
}

TEST_CASE("verify names a user or token edited, inserted or deleted behind the tool's back",
          BACKEND_TAGS) {
  for (const auto& kind : kinds()) {
    SECTION(kind) {
      backend b(kind, "tamper");
      auto a = b.accounts();
      REQUIRE(ok(a->add_user(person("alice", "adviser", ""), "admin1")));
      store::account client;
      client.name = "c1";
      client.role = "auditor";
      REQUIRE(ok(a->add_token(client, dalil::engine::sha256("t"), "admin1")));
      REQUIRE(ok(a->verify()));
      REQUIRE(b.verify().empty());

      SECTION("a role raised") {
        b.sql("UPDATE users SET role = 'admin' WHERE name = 'alice'");
        auto v = a->verify();
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == errc::damaged);
        CHECK(v.error().message.find("user alice") != std::string::npos);
        CHECK(names(b.verify(), "account", "user alice"));
      }
      SECTION("a user inserted") {
        b.sql(
            "INSERT INTO users(user_id, name, role, lang, password_hash, created_at) "
            "VALUES(99, 'mallory', 'admin', 'fr', 'x', '2026-01-01T00:00:00Z')");
        auto v = a->verify();
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().message.find("user mallory has no audit entry") != std::string::npos);
        CHECK(names(b.verify(), "account", "user mallory has no audit entry"));
      }
      SECTION("a token's expiry extended") {
        b.sql("UPDATE tokens SET expires = expires + 86400");
        CHECK_FALSE(a->verify().has_value());
        CHECK(names(b.verify(), "account", "of client c1 does not match"));
      }
      SECTION("a user deleted") {
        b.sql("DELETE FROM users WHERE name = 'alice'");
        CHECK_FALSE(a->verify().has_value());
        CHECK(names(b.verify(), "account", "user alice (audit entry"));
      }
    }
  }
}

TEST_CASE("publications: published, listed, versioned, and tampering named", BACKEND_TAGS) {
  for (const auto& kind : kinds()) {
    SECTION(kind) {
      backend b(kind, "publications");
      const std::string source = std::string("module a\0rule x : bool = true", 29);
      const std::string hash = dalil::engine::sha256_hex(source);
      REQUIRE(ok(b.whole()->put_ruleset(hash, source)));
      auto p = b.publications();
      auto v0 = p->version();
      REQUIRE(ok(v0));
      CHECK(v0->count == 0);

      store::publication first;
      first.ruleset_hash = hash;
      first.approved_by = "Direction";
      first.effective_from = "2017-01-01";
      first.actor = "admin1";
      REQUIRE(ok(p->publish(first)));
      CHECK(first.id == 1);
      CHECK_FALSE(first.published_at.empty());
      store::publication second = first;
      second.effective_from = "2018-01-01";
      second.note = "the 2018 ceilings";
      REQUIRE(ok(p->publish(second)));
      CHECK(second.id == 2);

      store::publication bad = first;
      bad.ruleset_hash = std::string(64, 'a');
      CHECK(p->publish(bad).error().code == errc::not_found);
      bad = first;
      bad.effective_from = "2018-13";
      CHECK(p->publish(bad).error().code == errc::refused);
      bad = first;
      bad.approved_by.clear();
      CHECK(p->publish(bad).error().code == errc::refused);

      auto list = p->list();
      REQUIRE(ok(list));
      REQUIRE(list->size() == 2);
      CHECK((*list)[1].note == "the 2018 ceilings");
      CHECK((*list)[0].published_at == first.published_at);
      CHECK(store::in_effect(*list, "2017-06-01")->id == 1);
      auto got = p->get(2);
      REQUIRE(ok(got));
      CHECK(got->effective_from == "2018-01-01");
      CHECK(p->get(3).error().code == errc::not_found);
      auto v = b.publications()->version();  // another connection sees them
      REQUIRE(ok(v));
      CHECK(*v == store::publications_version{2, 2});
      CHECK(*p->ruleset_source(hash) == source);
      CHECK(p->ruleset_source(std::string(64, 'b')).error().code == errc::not_found);
      CHECK(b.entries("publish") == 2);
      CHECK(b.verify().empty());

      SECTION("a row changed") {
        b.sql("UPDATE publications SET effective_from = '2016-01-01' WHERE publication_id = 2");
        CHECK(names(b.verify(), "publication", "publication 2 (audit entry"));
      }
      SECTION("a row inserted") {
        b.sql(
            "INSERT INTO publications(publication_id, ruleset_hash, approved_by, effective_from, "
            "published_at, actor, note) VALUES(3, '" +
            hash + "', 'nobody', '2010-01-01', '2026-01-01T00:00:00Z', 'x', '')");
        CHECK(names(b.verify(), "publication", "publication 3 has no audit entry"));
      }
      SECTION("a row deleted") {
        b.sql("DELETE FROM publications WHERE publication_id = 1");
        CHECK(names(b.verify(), "publication", "publication 1 (audit entry"));
      }
    }
  }
}
