// The counter store's suite (tests/store/counter_suite.hpp) on SQLite: a fresh file for each
// section. tests/pg/pg_counter_test.cpp runs the same suite on PostgreSQL.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "store/sqlite.hpp"
#include "tests/store/counter_suite.hpp"

namespace {

class sqlite_backend final : public counter_suite::backend {
 public:
  sqlite_backend() {
    char tmpl[] = "/tmp/dalil-counter-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    dir_ = tmpl;
  }
  ~sqlite_backend() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  sqlite_backend(const sqlite_backend&) = delete;
  sqlite_backend& operator=(const sqlite_backend&) = delete;

  std::string fresh() override {
    std::string db = (dir_ / "store.db").string();
    REQUIRE(counter_suite::ok(dalil::store::open_sqlite(db)));  // the schema
    return db;
  }
  std::unique_ptr<dalil::store::store> open_store(const std::string& db) override {
    auto s = dalil::store::open_sqlite(db);
    REQUIRE(counter_suite::ok(s));
    return std::move(*s);
  }
  void exec(const std::string& db, const std::string& sql) override {
    dalil::store::database c;
    std::string e;
    REQUIRE(c.open(db, e));
    INFO(e);
    REQUIRE(c.exec(sql, e));
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace

TEST_CASE("the counter store on SQLite (the suite of both backends)", "[store][counter]") {
  sqlite_backend b;
  counter_suite::run_counter_suite(b);
}

namespace {

/// The counter store over `db` (fresh), the suite's ruleset stored.
std::unique_ptr<dalil::store::counter_store> counter_with_ruleset(sqlite_backend& b,
                                                                  const std::string& db) {
  {
    auto s = b.open_store(db);
    REQUIRE(counter_suite::ok(
        s->put_ruleset(counter_suite::ruleset_hash(), std::string(counter_suite::ruleset_source))));
  }
  auto opened = dalil::store::counter_store::open(db);
  REQUIRE(counter_suite::ok(opened));
  return std::move(*opened);
}

/// The first column of `sql`'s first row on the store `db`, read through a connection of its own.
std::int64_t scalar_of(const std::string& db, const std::string& sql) {
  dalil::store::database c;
  std::string e;
  REQUIRE(c.open(db, e));
  auto q = c.prepare(sql, e);
  INFO(e);
  REQUIRE(q.ok());
  REQUIRE(q.step() == SQLITE_ROW);
  return q.int64(0);
}

}  // namespace

// The applicants' index of counter decisions in two parts (migration 13): the decisions since
// the last merge in counter_applicants_recent, the others in counter_applicants. An applicant's
// history reads both; the writer's upkeep merges the recent part once it holds
// counter_index_merge_rows decisions (on a small store); verify names a row of either part missing
// or changed.
TEST_CASE("the counter's applicants' index: its recent part, the merge, verify",
          "[store][counter]") {
  namespace cs_ = counter_suite;
  sqlite_backend b;
  const std::string db = b.fresh();
  auto opened = counter_with_ruleset(b, db);
  dalil::store::counter_store& cs = *opened;
  auto one = [&](const std::string& sql) { return scalar_of(db, sql); };
  auto history = [&](const std::string& who, const std::string& office = "") {
    auto h = cs.applicant_decisions(who, office);
    REQUIRE(cs_::ok(h));
    std::vector<std::string> ids;
    for (const auto& d : *h) ids.push_back(d.decision_id);
    return ids;
  };
  // `n` decisions in transactions of 500, for applicants A0..A99 in turn (d<first>…).
  auto put_many = [&](int first, int n) {
    for (int i = first; i < first + n;) {
      REQUIRE(cs_::ok(cs.begin()));
      for (int end = std::min(first + n, i + 500); i < end; ++i) {
        const std::string who = "A" + std::to_string(i % 100);
        auto d = cs_::decision("d" + std::to_string(i), who, R"({"id":")" + who + R"("})",
                               i % 2 == 0 ? "rabat" : "fes");
        REQUIRE(cs_::ok(cs.put_decision(d)));
      }
      REQUIRE(cs_::ok(cs.commit()));
    }
  };
  auto expected = [](int who, int upto) {
    std::vector<std::string> ids;
    for (int i = who; i < upto; i += 100) ids.push_back("d" + std::to_string(i));
    return ids;
  };

  put_many(0, 300);
  cs.upkeep_due();  // too few to merge
  CHECK(one("SELECT count(*) FROM counter_applicants_recent") == 300);
  CHECK(one("SELECT count(*) FROM counter_applicants") == 0);
  CHECK(history("A7") == expected(7, 300));
  CHECK(history("A8", "rabat") == expected(8, 300));
  CHECK(history("A8", "fes").empty());

  // A transaction rolled back leaves nothing in either part.
  REQUIRE(cs_::ok(cs.begin()));
  auto gone = cs_::decision("gone", "A7", R"({"id":"A7"})", "rabat");
  REQUIRE(cs_::ok(cs.put_decision(gone)));
  cs.rollback();
  CHECK(history("A7") == expected(7, 300));

  const auto merge_at = static_cast<int>(dalil::store::counter_store::counter_index_merge_rows);
  const auto chunk = static_cast<int>(dalil::store::counter_store::counter_index_merge_chunk);
  put_many(300, merge_at - 300);
  // A round: one range of applicants per upkeep (of at least a chunk's rows, an applicant's rows
  // never cut), the first applicants in the index's order first: A0, A1, A10…A19, A2 (82 or 81
  // decisions each).
  cs.upkeep_due();
  const auto first = one("SELECT count(*) FROM counter_applicants");
  CHECK(first >= chunk);
  CHECK(first < chunk + 100);
  CHECK(one("SELECT count(*) FROM counter_applicants_recent") == merge_at - first);
  CHECK(one("SELECT count(*) FROM counter_applicants a WHERE applicant_id >= (SELECT "
            "min(applicant_id) FROM counter_applicants_recent)") == 0);
  CHECK(one("SELECT count(*) FROM counter_applicants_recent WHERE applicant_id='A10'") == 0);
  CHECK(one("SELECT count(*) FROM counter_applicants WHERE applicant_id='A7'") == 0);
  CHECK(history("A10") == expected(10, merge_at));
  CHECK(history("A7") == expected(7, merge_at));
  // Decisions made during the round wait for the next one (A10's among them: in both parts).
  put_many(merge_at, 250);
  for (int i = 0; i < 64 && one("SELECT count(*) FROM counter_applicants") < merge_at; ++i) {
    cs.upkeep_due();
  }
  CHECK(one("SELECT count(*) FROM counter_applicants") == merge_at);
  CHECK(one("SELECT count(*) FROM counter_applicants_recent") == 250);
  cs.upkeep_due();  // too few for a new round
  CHECK(one("SELECT count(*) FROM counter_applicants_recent") == 250);
  // An applicant's history across both parts, in the order of its decisions.
  CHECK(history("A7") == expected(7, merge_at + 250));
  CHECK(history("A42", "rabat") == expected(42, merge_at + 250));
  CHECK(history("A43", "fes") == expected(43, merge_at + 250));
  auto clean = cs.verify();
  REQUIRE(cs_::ok(clean));
  CHECK_FALSE(clean->has_value());

  // Each section runs the test case again from a fresh store.
  auto names_index = [&](const std::string& tamper) {
    b.exec(db, tamper);
    auto problem = cs.verify();
    REQUIRE(cs_::ok(problem));
    REQUIRE(problem->has_value());
    CHECK((*problem)->what.find("applicants' index of counter decisions") != std::string::npos);
  };
  SECTION("a merged row deleted") {
    names_index("DELETE FROM counter_applicants WHERE decision_id='d7'");
  }
  SECTION("a recent row moved to another applicant") {
    names_index("UPDATE counter_applicants_recent SET applicant_id='A8' WHERE decision_id='d" +
                std::to_string(merge_at + 7) + "'");
  }
  SECTION("a row in both parts") {
    names_index(
        "INSERT INTO counter_applicants_recent(applicant_id, at, decision_id) SELECT applicant_id, "
        "at, decision_id FROM counter_applicants WHERE decision_id='d7'");
  }
}

TEST_CASE("the counter's applicants' index merged behind the writer's back: nothing left to merge",
          "[store][counter]") {
  // The writer counts the recent part once, then keeps count; another connection (keys reseal,
  // keys init in place) may merge it meanwhile. The writer then finds nothing to plan.
  namespace cs_ = counter_suite;
  sqlite_backend b;
  const std::string db = b.fresh();
  auto opened = counter_with_ruleset(b, db);
  dalil::store::counter_store& cs = *opened;
  cs.upkeep_due();  // counted: empty
  const auto n = static_cast<int>(dalil::store::counter_store::counter_index_merge_rows);
  REQUIRE(cs_::ok(cs.begin()));
  for (int i = 0; i < n; ++i) {
    auto d = cs_::decision("d" + std::to_string(i), "A" + std::to_string(i % 50),
                           R"({"id":"A)" + std::to_string(i % 50) + R"("})", "rabat");
    REQUIRE(cs_::ok(cs.put_decision(d)));
  }
  REQUIRE(cs_::ok(cs.commit()));
  b.exec(db,
         "INSERT INTO counter_applicants SELECT applicant_id, at, decision_id FROM "
         "counter_applicants_recent; DELETE FROM counter_applicants_recent");
  cs.upkeep_due();  // plans a round over an empty recent part: nothing to do
  cs.upkeep_due();
  auto h = cs.applicant_decisions("A7", "");
  REQUIRE(cs_::ok(h));
  CHECK(h->size() == static_cast<std::size_t>(n / 50 + (7 < n % 50 ? 1 : 0)));
  auto clean = cs.verify();
  REQUIRE(cs_::ok(clean));
  CHECK_FALSE(clean->has_value());
}

// A round is sized to the main part: once a 32nd of its rows is more than
// counter_index_merge_rows, the merge waits for that many, and cuts them into about eight ranges
// (a round over a large index writes each of its pages about once, whatever the round's size).
TEST_CASE("the counter's applicants' index merged in rounds sized to the index",
          "[store][counter]") {
  using dalil::store::counter_store;
  static_assert(counter_store::counter_index_merge_due(0) ==
                counter_store::counter_index_merge_rows);
  static_assert(counter_store::counter_index_merge_due(262'144) ==
                counter_store::counter_index_merge_rows);
  static_assert(counter_store::counter_index_merge_due(1'000'000) == 31'250);
  static_assert(counter_store::counter_index_merge_due(10'000'000) == 312'500);
  namespace cs_ = counter_suite;
  sqlite_backend b;
  const std::string db = b.fresh();
  auto opened = counter_with_ruleset(b, db);
  counter_store& cs = *opened;
  auto one = [&](const std::string& sql) { return scalar_of(db, sql); };
  int made = 0;
  auto put_many = [&](int n) {
    REQUIRE(cs_::ok(cs.begin()));
    for (int end = made + n; made < end; ++made) {
      const std::string who = "A" + std::to_string(made % 50);
      auto d =
          cs_::decision("d" + std::to_string(made), who, R"({"id":")" + who + R"("})", "rabat");
      REQUIRE(cs_::ok(cs.put_decision(d)));
    }
    REQUIRE(cs_::ok(cs.commit()));
  };
  put_many(100);
  // As if about 400,000 decisions had been made (the threshold reads the highest row id): the
  // main part then counts as the highest row id less the recent part, 399,900 rows whatever is
  // added (nothing is merged meanwhile), so a merge waits for 399,900 / 32 = 12,496.
  b.exec(db,
         "UPDATE counter_decisions SET rowid=400000 WHERE rowid=(SELECT max(rowid) FROM "
         "counter_decisions)");
  const auto base = static_cast<int>(counter_store::counter_index_merge_rows);
  put_many(base);
  cs.upkeep_due();
  CHECK(one("SELECT count(*) FROM counter_applicants") == 0);  // not due: 8,292 < 12,496
  const int due = 399'900 / 32;
  put_many(due - 1 - made);
  cs.upkeep_due();
  CHECK(one("SELECT count(*) FROM counter_applicants") == 0);  // one short: the recount
  put_many(1);
  cs.upkeep_due();
  const auto first = one("SELECT count(*) FROM counter_applicants");
  const int chunk = made / 8;  // more than counter_index_merge_chunk
  CHECK(first >= chunk);
  CHECK(first < chunk + made / 50 + 1);  // a range ends with an applicant's last row
  int ranges = 1;
  while (one("SELECT count(*) FROM counter_applicants") < made && ranges < 64) {
    cs.upkeep_due();
    ++ranges;
  }
  CHECK(one("SELECT count(*) FROM counter_applicants") == made);
  CHECK(one("SELECT count(*) FROM counter_applicants_recent") == 0);
  CHECK(ranges >= 7);
  CHECK(ranges <= 9);
  auto h = cs.applicant_decisions("A7", "");
  REQUIRE(cs_::ok(h));
  CHECK(h->size() == static_cast<std::size_t>(made / 50 + (7 < made % 50 ? 1 : 0)));
}
