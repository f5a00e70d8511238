// The counter store's suite (tests/store/counter_suite.hpp) on PostgreSQL: a fresh database of
// the pg_virtualenv cluster (tests/pg/run.sh) for each section; tests/store/counter_test.cpp
// runs the same suite on SQLite.
#include <unistd.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <tuple>
#include <vector>

#include "server/writer.hpp"

#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"
#include "tests/store/counter_suite.hpp"

namespace {

namespace pg = dalil::store::pg;

using counter_suite::ok;

/// A new, empty database of the cluster (its name a constant of the test), migrated.
std::string fresh_database(const std::string& name) {
  if (std::getenv("PGHOST") == nullptr || std::getenv("PGPORT") == nullptr) {
    FAIL("PG* variables are not set: run these tests through tests/pg/run.sh (pg_virtualenv)");
  }
  auto admin = pg::connection::open("dbname=postgres");
  REQUIRE(ok(admin));
  REQUIRE(ok(admin->run("dropping a test database", "DROP DATABASE IF EXISTS " + name)));
  REQUIRE(ok(admin->run("creating a test database", "CREATE DATABASE " + name)));
  std::string db = "dbname=" + name;
  REQUIRE(ok(pg::pg_store::open(db)));  // the migrations
  return db;
}

class pg_backend final : public counter_suite::backend {
 public:
  std::string fresh() override { return fresh_database("dalil_counter_suite"); }
  std::unique_ptr<dalil::store::store> open_store(const std::string& db) override {
    auto s = pg::open_store(db);
    REQUIRE(counter_suite::ok(s));
    return std::move(*s);
  }
  void exec(const std::string& db, const std::string& sql) override {
    auto c = pg::connection::open(db);
    REQUIRE(counter_suite::ok(c));
    REQUIRE(counter_suite::ok(c->run("a change behind the tool's back", sql)));
  }
};

}  // namespace

TEST_CASE("the counter store on PostgreSQL (the suite of both backends)", "[pg][counter]") {
  pg_backend b;
  counter_suite::run_counter_suite(b);
}

TEST_CASE("the months' figures kept before their entries are vouched for on upgrade",
          "[pg][counter]") {
  pg_backend b;
  counter_suite::upgrade_vouches_kept_months(
      b,
      "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM "
      "schema_migrations)");
}

TEST_CASE("a SQLite store with counter decisions and reviews is copied and goes on",
          "[pg][counter]") {
  const std::string db = fresh_database("dalil_counter_copy");
  auto dir = std::filesystem::temp_directory_path() /
             ("dalil_pg_counter_copy_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "s.db").string();
  {
    auto lite = dalil::store::open_sqlite(file);
    REQUIRE(ok(lite));
    REQUIRE(ok((*lite)->put_ruleset(counter_suite::ruleset_hash(),
                                    std::string(counter_suite::ruleset_source))));
    auto cs = dalil::store::counter_store::open(file);
    REQUIRE(ok(cs));
    REQUIRE(ok(counter_suite::put_one(
        **cs, counter_suite::decision("d1", "A1", R"({"id":"A1"})", "rabat"))));
    REQUIRE(ok(counter_suite::put_one(
        **cs, counter_suite::decision("d2", "A1", R"({"id":"A1","n":2})", "fes", "2"))));
    REQUIRE(ok(counter_suite::review_one(**cs, counter_suite::review("r1", "d1", "", "amina"))));
    REQUIRE(ok(counter_suite::review_one(
        **cs, counter_suite::review("r2", "d1", "r1", "karim", "overridden"))));
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
  const std::string head = std::to_string(want->seq) + ":" + want->hash;
  auto v = (*s)->verify_chain({head});
  REQUIRE(ok(v));
  for (const auto& p : v->problems) UNSCOPED_INFO(p.what);
  CHECK(v->problems.empty());

  // The copy reads as the source, and the counter goes on there (rowids after the copied ones).
  auto cs = dalil::store::counter_store::open(db);
  REQUIRE(ok(cs));
  auto d1 = (*cs)->decision("d1", "");
  REQUIRE(ok(d1));
  CHECK(d1->record_json == R"({"id":"A1"})");
  auto rs = (*cs)->reviews("d1");
  REQUIRE(ok(rs));
  REQUIRE(rs->size() == 2);
  CHECK((*rs)[1].supersedes == "r1");
  REQUIRE(ok(counter_suite::put_one(
      **cs, counter_suite::decision("d3", "A1", R"({"id":"A1","n":3})", "rabat", "3"))));
  REQUIRE(ok(counter_suite::review_one(**cs, counter_suite::review("r3", "d1", "r2", "amina"))));
  auto history = (*cs)->applicant_decisions("A1", "");
  REQUIRE(ok(history));
  REQUIRE(history->size() == 3);
  CHECK((*history)[2].decision_id == "d3");
  auto latest = (*cs)->latest_record("A1", "");
  REQUIRE(ok(latest));
  CHECK(latest->version == 3);
  auto v2 = (*s)->verify_chain({head});
  REQUIRE(ok(v2));
  for (const auto& p : v2->problems) UNSCOPED_INFO(p.what);
  CHECK(v2->problems.empty());

  // A counter record changed behind the tool's back: its import's digest names it.
  REQUIRE(ok((*s)->conn().run("a change behind the tool's back",
                              "UPDATE records SET content_hash='0' WHERE record_id=1")));
  auto v3 = (*s)->verify_chain({head});
  REQUIRE(ok(v3));
  REQUIRE_FALSE(v3->problems.empty());
  CHECK(v3->problems.front().what.find("records of import") != std::string::npos);
  std::filesystem::remove_all(dir);
}

namespace {

std::shared_ptr<dalil::server::write_job> decision_job(const std::string& id,
                                                       const std::string& applicant,
                                                       const std::string& json) {
  auto j = std::make_shared<dalil::server::write_job>();
  j->what = dalil::server::write_job::kind::decision;
  j->decision = counter_suite::decision(id, applicant, json, "rabat");
  return j;
}

std::shared_ptr<dalil::server::write_job> review_job(const std::string& id,
                                                     const std::string& decision_id,
                                                     const std::string& supersedes) {
  auto j = std::make_shared<dalil::server::write_job>();
  j->what = dalil::server::write_job::kind::review;
  j->review = counter_suite::review(id, decision_id, supersedes, "official");
  return j;
}

}  // namespace

TEST_CASE("two servers' writers group-commit on one PostgreSQL store", "[pg][counter]") {
  const std::string db = fresh_database("dalil_counter_writers");
  {
    auto s = pg::open_store(db);
    REQUIRE(ok(s));
    REQUIRE(ok((*s)->put_ruleset(counter_suite::ruleset_hash(),
                                 std::string(counter_suite::ruleset_source))));
    auto cs = dalil::store::counter_store::open(db);
    REQUIRE(ok(cs));
    for (int i = 0; i < 4; ++i) {
      REQUIRE(ok(counter_suite::put_one(
          **cs, counter_suite::decision("base" + std::to_string(i), "B" + std::to_string(i),
                                        R"({"b":1})", "rabat"))));
    }
  }
  boost::asio::io_context io;  // outlives the writers' threads
  std::vector<std::unique_ptr<dalil::server::writer>> writers;
  for (int k = 0; k < 2; ++k) {
    auto cs = dalil::store::counter_store::open(db);
    REQUIRE(ok(cs));
    writers.push_back(std::make_unique<dalil::server::writer>(std::move(*cs)));
  }
  // Each writer's group: decisions (applicants shared by both, each writer's own), a review of
  // a decision that does not exist, and the first review of each base decision, which both
  // writers race for.
  std::vector<std::vector<std::shared_ptr<dalil::server::write_job>>> jobs(2);
  for (int k = 0; k < 2; ++k) {
    const std::string w = std::to_string(k);
    for (int i = 0; i < 6; ++i) {
      const std::string n = w + "-" + std::to_string(i);
      jobs[k].push_back(decision_job("d" + n, "shared-" + std::to_string(i % 2),
                                     R"({"w":)" + w + R"(,"i":)" + std::to_string(i) + "}"));
      jobs[k].push_back(decision_job("o" + n, "own-" + n, R"({"own":1})"));
    }
    jobs[k].push_back(review_job("missing-" + w, "no-such-decision", ""));
    for (int i = 0; i < 4; ++i) {
      jobs[k].push_back(
          review_job("r" + std::to_string(i) + "-" + w, "base" + std::to_string(i), ""));
    }
  }
  auto guard = boost::asio::make_work_guard(io);
  std::size_t done = 0;
  std::size_t total = 0;
  for (int k = 0; k < 2; ++k) {
    for (const auto& j : jobs[k]) {
      ++total;
      writers[static_cast<std::size_t>(k)]->async_write(
          j, boost::asio::bind_executor(io, [&done] { ++done; }));
    }
  }
  while (done < total) io.run_one();
  for (auto& w : writers) w->stop();

  for (int k = 0; k < 2; ++k) {
    for (std::size_t i = 0; i < 12; ++i) {
      INFO("writer " << k << ", job " << i);
      CHECK(ok(jobs[static_cast<std::size_t>(k)][i]->result));
    }
    const auto& missing = jobs[static_cast<std::size_t>(k)][12]->result;
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == dalil::store::errc::not_found);
  }
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& a = jobs[0][13 + i]->result;
    const auto& b = jobs[1][13 + i]->result;
    INFO("base decision " << i);
    CHECK(a.has_value() != b.has_value());
    for (const auto* r : {&a, &b}) {
      if (!r->has_value()) CHECK(r->error().code == dalil::store::errc::conflict);
    }
  }
  auto cs = dalil::store::counter_store::open(db);
  REQUIRE(ok(cs));
  auto n = (*cs)->count_decisions();
  REQUIRE(ok(n));
  CHECK(*n == 4 + 2 * 12);
  auto problem = (*cs)->verify();
  REQUIRE(ok(problem));
  CHECK_FALSE(problem->has_value());
  auto s = pg::open_store(db);
  REQUIRE(ok(s));
  auto v = (*s)->verify({});
  REQUIRE(ok(v));
  for (const auto& p : v->problems) UNSCOPED_INFO(p.what);
  CHECK(v->problems.empty());
}

namespace {

/// The statements sent to PostgreSQL while `f` runs (pg::round_trips: this thread's alone here).
template <class F>
std::int64_t round_trips_of(F&& f) {
  const std::int64_t before = pg::round_trips();
  f();
  return pg::round_trips() - before;
}

/// Stores `ds` in one counter transaction, each decision expected to be stored.
void put_group(dalil::store::counter_store& cs, std::vector<dalil::store::counter_decision> ds) {
  REQUIRE(ok(cs.begin()));
  for (auto& d : ds) REQUIRE(ok(cs.put_decision(d)));
  REQUIRE(ok(cs.commit()));
}

/// The whole audit verify of the store at `db`: no problem.
void check_verifies(const std::string& db) {
  auto s = pg::open_store(db);
  REQUIRE(ok(s));
  auto v = (*s)->verify({});
  REQUIRE(ok(v));
  for (const auto& p : v->problems) UNSCOPED_INFO(p.what);
  CHECK(v->problems.empty());
}

}  // namespace

TEST_CASE("a counter decision is one round trip to PostgreSQL", "[pg][counter]") {
  const std::string db = fresh_database("dalil_counter_trips");
  {
    auto s = pg::open_store(db);
    REQUIRE(ok(s));
    REQUIRE(ok((*s)->put_ruleset(counter_suite::ruleset_hash(),
                                 std::string(counter_suite::ruleset_source))));
  }
  auto cs = dalil::store::counter_store::open(db);
  REQUIRE(ok(cs));
  auto other = dalil::store::counter_store::open(db);
  REQUIRE(ok(other));
  auto decision = [](int i, const std::string& applicant, const std::string& json) {
    return counter_suite::decision("d" + std::to_string(i), applicant, json, "rabat");
  };
  // The connection's first decision expects a record id it cannot know yet: two calls.
  CHECK(round_trips_of([&] { put_group(**cs, {decision(1, "A1", R"({"n":1})")}); }) == 5);
  // Then BEGIN, the decision, the import's row and entry, COMMIT: 4 (11 before migration 9).
  CHECK(round_trips_of([&] { put_group(**cs, {decision(2, "A2", R"({"n":2})")}); }) == 4);
  // In a group, one more for each decision (3 each before).
  std::vector<dalil::store::counter_decision> group;
  for (int i = 3; i < 13; ++i) {
    group.push_back(decision(i, "A" + std::to_string(i), R"({"n":)" + std::to_string(i) + "}"));
  }
  CHECK(round_trips_of([&] { put_group(**cs, group); }) == 3 + 10);
  // A record of the same content as the applicant's latest: the entry names that record (the
  // first call, which expected a new one, stores nothing), and there is no import to close.
  auto same = decision(13, "A2", R"({"n":2})");
  CHECK(round_trips_of([&] { put_group(**cs, {same}); }) == 4);
  // Another server's decision moves both the next record id and the chain's head: the next
  // call stores nothing and the second stores against what the first found.
  REQUIRE(ok(counter_suite::put_one(**other, decision(14, "B1", R"({"n":14})"))));
  CHECK(round_trips_of([&] { put_group(**cs, {decision(15, "A15", R"({"n":15})")}); }) == 5);
  // A rolled back transaction leaves the connection's expectations behind it: the next one
  // stores all the same.
  REQUIRE(ok((*cs)->begin()));
  auto undone = decision(16, "A16", R"({"n":16})");
  REQUIRE(ok((*cs)->put_decision(undone)));
  (*cs)->rollback();
  put_group(**cs, {decision(17, "A17", R"({"n":17})")});

  auto d13 = (*cs)->decision("d13", "");
  REQUIRE(ok(d13));
  auto d2 = (*cs)->decision("d2", "");
  REQUIRE(ok(d2));
  CHECK(d13->record_id == d2->record_id);
  CHECK(d13->record_version == 1);
  auto d17 = (*cs)->decision("d17", "");
  REQUIRE(ok(d17));
  auto d15 = (*cs)->decision("d15", "");
  REQUIRE(ok(d15));
  CHECK(d17->record_id == d15->record_id + 1);  // d16's record was rolled back with it
  CHECK(ok((*cs)->decision("d16", "")) == false);
  auto n = (*cs)->count_decisions();
  REQUIRE(ok(n));
  CHECK(*n == 16);
  check_verifies(db);

  // The function itself: against a record id or a head that are not the database's, it
  // stores nothing and names what it found.
  auto c = pg::connection::open(db);
  REQUIRE(ok(c));
  auto head = c->query("reading the head", "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  REQUIRE(ok(head));
  const std::string next = std::to_string(head->int64(0, 0) + 1);
  const std::string h = std::string(64, 'a');
  for (const auto& [record, seq, prev] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"999", next, head->text(0, 1)}, {std::to_string(d17->record_id + 1), next, h}}) {
    REQUIRE(ok(c->run("a transaction", "BEGIN")));
    auto r = c->query(
        "calling dalil_counter_decision",
        "SELECT outcome, rec_id, head_seq, head_hash FROM dalil_counter_decision($1,$2,'dx','AX',"
        "'rabat','agent','2026-12-04T10:00:00Z','2026-12-01',$3,'h','[]','[]',1,'x',NULL,'{}',"
        "$4,0,$5,'{}',$6,$7,0,NULL,'',1,NULL,NULL)",
        {std::to_string(pg::writer_lock_key), std::to_string(pg::chain_lock_key),
         counter_suite::ruleset_hash(), record, seq, prev, h});
    REQUIRE(ok(r));
    CHECK(r->text(0, 0) == "moved");
    CHECK(r->int64(0, 1) == d17->record_id + 1);
    CHECK(r->int64(0, 2) == head->int64(0, 0));
    CHECK(r->text(0, 3) == head->text(0, 1));
    auto rows = c->query("counting",
                         "SELECT (SELECT count(*) FROM counter_decisions), "
                         "(SELECT count(*) FROM audit), (SELECT count(*) FROM records)");
    REQUIRE(ok(rows));
    CHECK(rows->int64(0, 0) == 16);
    CHECK(rows->int64(0, 1) == head->int64(0, 0));
    c->rollback();
  }
}

TEST_CASE("a request rolled back to its savepoint gives back the counter's locks",
          "[pg][counter]") {
  // Locks taken after a savepoint are released when it is rolled back to: the counter takes
  // them again for the next request of the transaction.
  const std::string db = fresh_database("dalil_counter_savepoint");
  {
    auto s = pg::open_store(db);
    REQUIRE(ok(s));
    REQUIRE(ok((*s)->put_ruleset(counter_suite::ruleset_hash(),
                                 std::string(counter_suite::ruleset_source))));
  }
  auto cs = dalil::store::counter_store::open(db);
  REQUIRE(ok(cs));
  REQUIRE(ok(counter_suite::put_one(**cs, counter_suite::decision("d1", "A1", "{}", "rabat"))));
  auto watcher = pg::connection::open(db);
  REQUIRE(ok(watcher));
  auto advisory_locks = [&] {
    auto q = watcher->query("reading the locks",
                            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                            "granted AND pid <> pg_backend_pid()");
    REQUIRE(ok(q));
    return q->int64(0, 0);
  };
  REQUIRE(ok((*cs)->begin()));
  REQUIRE(ok((*cs)->savepoint()));
  auto again = counter_suite::decision("d1", "A1", "{}", "rabat");
  auto refused = (*cs)->put_decision(again);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == dalil::store::errc::conflict);
  CHECK(advisory_locks() == 2);
  (*cs)->rollback_to();
  CHECK(advisory_locks() == 0);
  REQUIRE(ok((*cs)->savepoint()));
  auto r = counter_suite::review("r1", "d1", "", "amina");
  REQUIRE(ok((*cs)->put_review(r)));
  REQUIRE(ok((*cs)->release()));
  CHECK(advisory_locks() == 2);
  REQUIRE(ok((*cs)->commit()));
  CHECK(advisory_locks() == 0);
  check_verifies(db);
}

TEST_CASE("the counter on an encrypted PostgreSQL store follows a rotation and an erasure",
          "[pg][counter][crypto]") {
  // Another process rotates the master key, then erases an applicant, between two transactions
  // of a counter that holds the old key: dalil_counter_decision finds the keyring's generation,
  // or the applicant's pseudonym, not those the counter sealed for, stores nothing, and the
  // counter seals again (the new key read from its file; a new pseudonym and data key).
  const std::string db = fresh_database("dalil_counter_crypto");
  auto dir = std::filesystem::temp_directory_path() /
             ("dalil_pg_counter_crypto_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string key_file = (dir / "master.key").string();
  const std::string next_file = (dir / "next.key").string();
  REQUIRE(ok(dalil::store::crypto::create_key_file(key_file)));
  REQUIRE(ok(dalil::store::crypto::create_key_file(next_file)));
  auto key = dalil::store::crypto::load_master_key(key_file);
  REQUIRE(ok(key));
  auto next = dalil::store::crypto::load_master_key(next_file);
  REQUIRE(ok(next));
  {
    auto s = pg::open_store(db, dalil::store::open_mode::read_write, &*key);
    REQUIRE(ok(s));
    REQUIRE(ok((*s)->init_keys("test")));
    REQUIRE(ok((*s)->put_ruleset(counter_suite::ruleset_hash(),
                                 std::string(counter_suite::ruleset_source))));
  }
  auto cs = dalil::store::counter_store::open(db, &*key, key_file);
  REQUIRE(ok(cs));
  CHECK((*cs)->encrypted());
  auto c = pg::connection::open(db);
  REQUIRE(ok(c));
  auto one = [&](const std::string& q) {
    auto r = c->query("reading", q);
    REQUIRE(ok(r));
    return r->size() == 0 ? std::string() : r->text(0, 0);
  };
  auto put_group = [&](std::vector<dalil::store::counter_decision> ds) {
    REQUIRE(ok((*cs)->begin()));
    for (auto& d : ds) REQUIRE(ok((*cs)->put_decision(d)));
    REQUIRE(ok((*cs)->commit()));
  };
  auto decision = [](int n, const std::string& who, const std::string& json) {
    return counter_suite::decision("d" + std::to_string(n), who, json, "rabat");
  };
  put_group({decision(1, "A1", R"({"id":"A1","n":"4321.09"})"),
             decision(2, "A2", R"({"id":"A2","n":"2"})")});
  CHECK(one("SELECT string_agg(applicant_id, ',' ORDER BY rowid) FROM counter_decisions") ==
        "p0000000001,p0000000002");
  CHECK(one("SELECT count(*) FROM records WHERE json = '' AND sealed IS NOT NULL") == "2");
  // A new applicant costs the plain store's statements: BEGIN, the decision, the import, COMMIT.
  CHECK(round_trips_of([&] { put_group({decision(3, "A3", R"({"id":"A3"})")}); }) == 4);

  // Rotated by another process; the counter's key file then holds the new key.
  {
    auto s = pg::open_store(db, dalil::store::open_mode::read_write, &*key);
    REQUIRE(ok(s));
    REQUIRE(ok((*s)->rotate_key(*next, "test")));
  }
  std::filesystem::copy_file(next_file, key_file,
                             std::filesystem::copy_options::overwrite_existing);
  put_group({decision(4, "A4", R"({"id":"A4"})"), decision(5, "A1", R"({"id":"A1","n":"5"})")});
  CHECK(one("SELECT count(*) FROM data_keys WHERE generation <> 2") == "0");
  CHECK(one("SELECT applicant_id FROM counter_decisions WHERE decision_id = 'd5'") ==
        "p0000000001");
  auto d4 = (*cs)->decision("d4", "");
  REQUIRE(ok(d4));
  CHECK(d4->record_json == R"({"id":"A4"})");
  auto d5 = (*cs)->decision("d5", "");
  REQUIRE(ok(d5));
  CHECK(d5->record_version == 2);
  CHECK(d5->record_json == R"({"id":"A1","n":"5"})");

  // Erased by another process: the same id is then a new applicant (the next pseudonym).
  {
    auto s = pg::open_store(db, dalil::store::open_mode::read_write, &*next);
    REQUIRE(ok(s));
    REQUIRE(ok((*s)->erase_applicant("A2", "a request", "dpo")));
  }
  put_group({decision(6, "A2", R"({"id":"A2","n":"2"})")});
  CHECK(one("SELECT applicant_id FROM counter_decisions WHERE decision_id = 'd6'") ==
        "p0000000005");
  auto d2 = (*cs)->decision("d2", "");
  REQUIRE(ok(d2));
  CHECK(d2->erased);
  auto d6 = (*cs)->decision("d6", "");
  REQUIRE(ok(d6));
  CHECK(d6->record_version == 1);
  CHECK(d6->record_json == R"({"id":"A2","n":"2"})");
  auto history = (*cs)->applicant_decisions("A2", "");
  REQUIRE(ok(history));
  REQUIRE(history->size() == 1);
  CHECK(history->front().decision_id == "d6");
  auto latest = (*cs)->latest_record("A1", "");
  REQUIRE(ok(latest));
  CHECK(latest->json == R"({"id":"A1","n":"5"})");
  // No value of a record in plain anywhere in the tables the counter wrote.
  CHECK(one("SELECT count(*) FROM records WHERE position(convert_to('4321.09', 'UTF8') in "
            "sealed) > 0 OR json <> ''") == "0");
  CHECK(one("SELECT count(*) FROM counter_decisions WHERE applicant_id LIKE 'A%'") == "0");
  CHECK(one("SELECT count(*) FROM audit WHERE subject LIKE 'A%' OR details LIKE '%\"A%'") == "0");
  check_verifies(db);

  // The function itself: a generation the keyring does not have stores nothing.
  auto head = c->query("reading the head", "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  REQUIRE(ok(head));
  const std::string record = one("SELECT max(record_id) + 1 FROM records");
  REQUIRE(ok(c->run("a transaction", "BEGIN")));
  auto r = c->query(
      "calling dalil_counter_decision",
      "SELECT outcome, found_generation, found_applicant, last_given FROM "
      "dalil_counter_decision($1,$2,'dx','p0000000006','rabat','agent','2026-12-04T10:00:00Z',"
      "'2026-12-01',$3,'h','[]','[]',1,'x',NULL,'',$4,0,$5,'{}',$6,$7,1,'lookup-x',"
      "'p0000000005',1,'\\x00','\\x00')",
      {std::to_string(pg::writer_lock_key), std::to_string(pg::chain_lock_key),
       counter_suite::ruleset_hash(), record, std::to_string(head->int64(0, 0) + 1),
       head->text(0, 1), std::string(64, 'a')});
  REQUIRE(ok(r));
  CHECK(r->text(0, 0) == "moved");
  CHECK(r->int64(0, 1) == 2);
  CHECK(r->null(0, 2));
  CHECK(r->text(0, 3) == "p0000000005");
  c->rollback();
  CHECK(one("SELECT count(*) FROM pseudonyms WHERE applicant_id = 'p0000000006'") == "0");
  std::filesystem::remove_all(dir);
}

TEST_CASE("counter decisions per second, one a transaction and grouped", "[.pg-bench]") {
  // Not run by default: `dalil_pg_tests "[.pg-bench]"` inside pg_virtualenv. Each decision a new
  // applicant (a new record), as the server's writer stores them; times are the whole
  // transactions, commits included.
  // Each store plain, then encrypted (`keys init` on the empty store: records sealed, applicants
  // named by pseudonyms, each new applicant a new data key).
  const std::string pg_db = fresh_database("dalil_counter_bench");
  const std::string pg_enc = fresh_database("dalil_counter_bench_enc");
  auto dir = std::filesystem::temp_directory_path() /
             ("dalil_pg_counter_bench_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string lite_db = (dir / "s.db").string();
  const std::string lite_enc = (dir / "e.db").string();
  const std::string key_file = (dir / "master.key").string();
  REQUIRE(ok(dalil::store::crypto::create_key_file(key_file)));
  auto key = dalil::store::crypto::load_master_key(key_file);
  REQUIRE(ok(key));
  for (const std::string& db : {lite_db, pg_db, lite_enc, pg_enc}) {
    const bool encrypted = db == lite_enc || db == pg_enc;
    const dalil::store::crypto::master_key* k = encrypted ? &*key : nullptr;
    auto s = pg::is_conninfo(db)
                 ? pg::open_store(db, dalil::store::open_mode::read_write, k)
                 : dalil::store::open_sqlite(db, dalil::store::open_mode::read_write, k);
    REQUIRE(ok(s));
    if (encrypted) REQUIRE(ok((*s)->init_keys("bench")));
    REQUIRE(ok((*s)->put_ruleset(counter_suite::ruleset_hash(),
                                 std::string(counter_suite::ruleset_source))));
    auto cs = dalil::store::counter_store::open(db, k, key_file);
    REQUIRE(ok(cs));
    constexpr int n = 1000;
    for (int group : {1, 10, 50}) {
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < n; i += group) {
        REQUIRE(ok((*cs)->begin()));
        for (int k = i; k < i + group; ++k) {
          const std::string id = std::to_string(group) + "-" + std::to_string(k);
          auto d = counter_suite::decision("d" + id, "A" + id, R"({"id":")" + id + "\"}", "rabat");
          REQUIRE(ok((*cs)->put_decision(d)));
        }
        REQUIRE(ok((*cs)->commit()));
      }
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      WARN((pg::is_conninfo(db) ? "PostgreSQL" : "SQLite")
           << (encrypted ? " encrypted" : "") << ": " << n << " decisions in groups of " << group
           << ": " << took.count() << " s, " << static_cast<long>(n / took.count()) << "/s");
    }
  }
  std::filesystem::remove_all(dir);
}
