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

TEST_CASE("schema 16: the months' figures kept at schema 15 are vouched for on upgrade",
          "[store][counter][migration]") {
  sqlite_backend b;
  counter_suite::upgrade_vouches_kept_months(
      b, "DELETE FROM schema_version WHERE version >= 16; DROP TABLE counter_applicants_mid");
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

/// What the applicants' index tests read of a store `db` and its counter store: the rows of each
/// part of the index, an applicant's history (its decision ids, in order), and whether verify
/// finds nothing.
struct index_view {
  const std::string& db;
  dalil::store::counter_store& cs;
  std::int64_t rows(const std::string& part) const {
    return scalar_of(db, "SELECT count(*) FROM " + part);
  }
  std::int64_t main_rows() const { return rows("counter_applicants"); }
  std::int64_t mid_rows() const { return rows("counter_applicants_mid"); }
  std::int64_t recent_rows() const { return rows("counter_applicants_recent"); }
  std::vector<std::string> history(const std::string& who, const std::string& office = "") const {
    auto h = cs.applicant_decisions(who, office);
    REQUIRE(counter_suite::ok(h));
    std::vector<std::string> ids;
    for (const auto& d : *h) ids.push_back(d.decision_id);
    return ids;
  }
  bool verified() const {
    auto v = cs.verify();
    REQUIRE(counter_suite::ok(v));
    return !v->has_value();
  }
};

/// The decisions of applicant A<who> among d0…d<upto - 1>, made for A0..A99 in turn.
std::vector<std::string> expected_ids(int who, int upto) {
  std::vector<std::string> ids;
  for (int i = who; i < upto; i += 100) ids.push_back("d" + std::to_string(i));
  return ids;
}

/// `n` counter decisions d<first>… for applicants A0..A99 in turn, in transactions of 500, at
/// the office `office(i)` of each.
template <class Office>
void put_decisions(dalil::store::counter_store& cs, int first, int n, Office office) {
  for (int i = first; i < first + n;) {
    REQUIRE(counter_suite::ok(cs.begin()));
    for (const int end = std::min(first + n, i + 500); i < end; ++i) {
      const std::string who = "A" + std::to_string(i % 100);
      auto d = counter_suite::decision("d" + std::to_string(i), who, R"({"id":")" + who + R"("})",
                                       office(i));
      REQUIRE(counter_suite::ok(cs.put_decision(d)));
    }
    REQUIRE(counter_suite::ok(cs.commit()));
  }
}

}  // namespace

// The applicants' index of counter decisions in three parts (migrations 13 and 17): the
// decisions since the last merge in counter_applicants_recent, those merged since the last drain
// in counter_applicants_mid, the others in counter_applicants. An applicant's history reads all
// three; the writer's upkeep merges the recent part into the middle one once it holds
// counter_index_merge_rows decisions (on a small store); verify names a row of any part missing
// or changed.
TEST_CASE("the counter's applicants' index: its recent part, the merge, verify",
          "[store][counter]") {
  namespace cs_ = counter_suite;
  sqlite_backend b;
  const std::string db = b.fresh();
  auto opened = counter_with_ruleset(b, db);
  dalil::store::counter_store& cs = *opened;
  auto one = [&](const std::string& sql) { return scalar_of(db, sql); };
  const index_view v{db, cs};
  auto put_many = [&](int first, int n) {
    put_decisions(cs, first, n, [](int i) { return i % 2 == 0 ? "rabat" : "fes"; });
  };

  put_many(0, 300);
  cs.upkeep_due();  // too few to merge
  CHECK(one("SELECT count(*) FROM counter_applicants_recent") == 300);
  CHECK(one("SELECT count(*) FROM counter_applicants_mid") == 0);
  CHECK(one("SELECT count(*) FROM counter_applicants") == 0);
  CHECK(v.history("A7") == expected_ids(7, 300));
  CHECK(v.history("A8", "rabat") == expected_ids(8, 300));
  CHECK(v.history("A8", "fes").empty());

  // A transaction rolled back leaves nothing in either part.
  REQUIRE(cs_::ok(cs.begin()));
  auto gone = cs_::decision("gone", "A7", R"({"id":"A7"})", "rabat");
  REQUIRE(cs_::ok(cs.put_decision(gone)));
  cs.rollback();
  CHECK(v.history("A7") == expected_ids(7, 300));

  using dalil::store::counter_store;
  const auto merge_at = static_cast<int>(counter_store::counter_index_merge_rows);
  put_many(300, merge_at - 300);
  // A round, one short step per upkeep: its rows copied (a piece at a time), inserted into the
  // middle part in the index's order (a piece at a time), then cleared from the recent part.
  cs.upkeep_due();  // plans the round: nothing moved yet
  CHECK(v.mid_rows() == 0);
  int steps = 0;
  while (v.mid_rows() == 0 && steps < 1000) {
    cs.upkeep_due();
    ++steps;
  }
  const auto piece = counter_store::counter_index_merge_piece;
  CHECK(steps == (merge_at + piece - 1) / piece + 1);  // the copy's pieces, then an insert
  CHECK(v.mid_rows() == piece);
  CHECK(v.main_rows() == 0);
  // The lowest keys first: no row of the middle part above a row still only in the recent part.
  CHECK(one("SELECT count(*) FROM counter_applicants_mid WHERE applicant_id > (SELECT "
            "min(r.applicant_id) FROM counter_applicants_recent r WHERE NOT EXISTS (SELECT 1 FROM "
            "counter_applicants_mid a WHERE a.applicant_id = r.applicant_id AND a.at = r.at AND "
            "a.decision_id = r.decision_id))") == 0);
  // Until the round clears them, its rows are in both parts: each decision is in its
  // applicant's history once, and verify counts it once.
  CHECK(v.recent_rows() == merge_at);
  CHECK(one("SELECT count(*) FROM counter_applicants_mid WHERE applicant_id='A0'") > 0);
  CHECK(v.history("A0") == expected_ids(0, merge_at));
  CHECK(v.history("A7") == expected_ids(7, merge_at));
  auto mid = cs.verify();
  REQUIRE(cs_::ok(mid));
  CHECK_FALSE(mid->has_value());
  // Decisions made during the round wait for the next one.
  put_many(merge_at, 250);
  for (int i = 0; i < 1000 && v.recent_rows() > 250; ++i) cs.upkeep_due();
  CHECK(v.mid_rows() == merge_at);
  CHECK(v.recent_rows() == 250);
  CHECK(one("SELECT min(seq) FROM counter_applicants_recent") > merge_at);
  cs.upkeep_due();  // too few for a new round, and the middle part too small to drain
  CHECK(v.recent_rows() == 250);
  CHECK(v.mid_rows() == merge_at);
  CHECK(v.main_rows() == 0);
  // An applicant's history across both parts, in the order of its decisions.
  CHECK(v.history("A7") == expected_ids(7, merge_at + 250));
  CHECK(v.history("A42", "rabat") == expected_ids(42, merge_at + 250));
  CHECK(v.history("A43", "fes") == expected_ids(43, merge_at + 250));
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
    names_index("DELETE FROM counter_applicants_mid WHERE decision_id='d7'");
  }
  SECTION("a merged row moved to another applicant") {
    names_index("UPDATE counter_applicants_mid SET applicant_id='A8' WHERE decision_id='d7'");
  }
  SECTION("a recent row moved to another applicant") {
    names_index("UPDATE counter_applicants_recent SET applicant_id='A8' WHERE decision_id='d" +
                std::to_string(merge_at + 7) + "'");
  }
  SECTION("a decision in both parts under another time") {
    names_index(
        "INSERT INTO counter_applicants_recent(applicant_id, at, decision_id) SELECT applicant_id, "
        "'2001-01-01T00:00:00Z', decision_id FROM counter_applicants_mid WHERE decision_id='d7'");
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

TEST_CASE("the counter's applicants' index renamed during a round: nothing put back",
          "[store][counter]") {
  // A round keeps its rows in the connection's memory from one step to the next; another
  // connection (keys init in place) may meanwhile merge the recent part and rename the index's
  // applicants. The round's later steps then insert nothing of what it copied, and clear only
  // rows that the middle part holds.
  namespace cs_ = counter_suite;
  using dalil::store::counter_store;
  sqlite_backend b;
  const std::string db = b.fresh();
  auto opened = counter_with_ruleset(b, db);
  counter_store& cs = *opened;
  auto one = [&](const std::string& sql) { return scalar_of(db, sql); };
  const auto n = static_cast<int>(counter_store::counter_index_merge_rows);
  auto put = [&](int from, int count) {
    REQUIRE(cs_::ok(cs.begin()));
    for (int i = from; i < from + count; ++i) {
      auto d = cs_::decision("d" + std::to_string(i), "A" + std::to_string(i % 50),
                             R"({"id":"A)" + std::to_string(i % 50) + R"("})", "rabat");
      REQUIRE(cs_::ok(cs.put_decision(d)));
    }
    REQUIRE(cs_::ok(cs.commit()));
  };
  put(0, n);
  cs.upkeep_due();  // plans a round
  const auto piece = counter_store::counter_index_merge_piece;
  for (int i = 0; i < 3; ++i) cs.upkeep_due();  // three pieces copied, nothing inserted
  REQUIRE(one("SELECT count(*) FROM counter_applicants_mid") == 0);
  SECTION("merged, renamed, and new decisions with the round's sequence numbers") {
    b.exec(db,
           "INSERT INTO counter_applicants SELECT applicant_id, at, decision_id FROM "
           "counter_applicants_recent; DELETE FROM counter_applicants_recent; UPDATE "
           "counter_applicants SET applicant_id='Z' || substr(applicant_id, 2)");
    // The recent part starts again from sequence number 1: rows the round's copy went past.
    put(n, 10);
    REQUIRE(one("SELECT max(seq) FROM counter_applicants_recent") <= 3 * piece);
    for (int i = 0; i < 1000 && one("SELECT count(*) FROM counter_applicants_recent") > 0; ++i) {
      cs.upkeep_due();
    }
    CHECK(one("SELECT count(*) FROM counter_applicants WHERE applicant_id LIKE 'A%'") == 0);
    CHECK(one("SELECT count(*) FROM counter_applicants") == n);
    CHECK(one("SELECT count(*) FROM counter_applicants_mid") == 0);
    // The ten new rows were not copied by the round (their numbers were past): still recent.
    CHECK(one("SELECT count(*) FROM counter_applicants_recent") == 10);
  }
  SECTION("merged and renamed only") {
    b.exec(db,
           "INSERT INTO counter_applicants SELECT applicant_id, at, decision_id FROM "
           "counter_applicants_recent; DELETE FROM counter_applicants_recent; UPDATE "
           "counter_applicants SET applicant_id='Z' || substr(applicant_id, 2)");
    for (int i = 0; i < 1000; ++i) cs.upkeep_due();
    CHECK(one("SELECT count(*) FROM counter_applicants WHERE applicant_id LIKE 'A%'") == 0);
    CHECK(one("SELECT count(*) FROM counter_applicants") == n);
    CHECK(one("SELECT count(*) FROM counter_applicants_mid") == 0);
    CHECK(one("SELECT count(*) FROM counter_applicants_recent") == 0);
  }
}

// A round is sized to the index: once a 32nd of the main and middle parts' rows is more than
// counter_index_merge_rows, the merge waits for that many, and inserts them into the middle part
// counter_index_merge_piece at a time.
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
  const auto mid = [&] { return one("SELECT count(*) FROM counter_applicants_mid"); };
  cs.upkeep_due();
  CHECK(mid() == 0);  // not due: 8,292 < 12,496
  const int due = 399'900 / 32;
  put_many(due - 1 - made);
  cs.upkeep_due();
  CHECK(mid() == 0);  // one short: the recount
  put_many(1);
  cs.upkeep_due();  // due: plans the round
  int steps = 0;
  while (mid() == 0 && steps < 1000) {
    cs.upkeep_due();
    ++steps;
  }
  const auto piece = counter_store::counter_index_merge_piece;
  CHECK(mid() == piece);
  int inserts = 1;
  while (mid() < made && inserts < 1000) {
    cs.upkeep_due();
    ++inserts;
  }
  CHECK(inserts == (made + piece - 1) / piece);
  CHECK(mid() == made);
  for (int i = 0; i < 1000 && one("SELECT count(*) FROM counter_applicants_recent") > 0; ++i) {
    cs.upkeep_due();
  }
  CHECK(one("SELECT count(*) FROM counter_applicants_recent") == 0);
  // The middle part, under counter_index_drain_rows, is not drained (the quarter of the main
  // part: "drained at a quarter of the main part", below).
  for (int i = 0; i < 10; ++i) cs.upkeep_due();
  CHECK(mid() == made);
  CHECK(one("SELECT count(*) FROM counter_applicants") == 0);
  auto h = cs.applicant_decisions("A7", "");
  REQUIRE(cs_::ok(h));
  CHECK(h->size() == static_cast<std::size_t>(made / 50 + (7 < made % 50 ? 1 : 0)));
}

// The middle part drained into the main part once it holds counter_index_drain_due rows: its
// lowest keys first, counter_index_drain_piece at a time, each step inserting them into the
// main part and deleting them from the middle one in one transaction, so that an applicant's
// history and verify find each decision in exactly one part at every step; a drain that another
// connection (keys init in place) empties meanwhile ends without putting anything back.
TEST_CASE("the counter's applicants' index: its middle part drained into the main part",
          "[store][counter]") {
  using dalil::store::counter_store;
  sqlite_backend b;
  const std::string db = b.fresh();
  auto opened = counter_with_ruleset(b, db);
  counter_store& cs = *opened;
  auto one = [&](const std::string& sql) { return scalar_of(db, sql); };
  const index_view v{db, cs};
  // Enough decisions for one round that fills the middle part to its threshold.
  const auto n = static_cast<int>(counter_store::counter_index_drain_rows);
  put_decisions(cs, 0, n, [](int) { return "rabat"; });
  for (int i = 0; i < 5000 && v.recent_rows() > 0; ++i) cs.upkeep_due();
  REQUIRE(v.recent_rows() == 0);
  REQUIRE(v.mid_rows() == n);
  REQUIRE(v.main_rows() == 0);
  CHECK(v.verified());
  const auto step = counter_store::counter_index_drain_piece;
  cs.upkeep_due();  // plans the drain: nothing moved yet
  CHECK(v.main_rows() == 0);
  cs.upkeep_due();  // its first step
  CHECK(v.main_rows() == step);
  CHECK(v.mid_rows() == n - step);
  // The lowest keys first, and no row in both parts.
  CHECK(one("SELECT count(*) FROM counter_applicants a WHERE (a.applicant_id, a.at, "
            "a.decision_id) > (SELECT applicant_id, at, decision_id FROM counter_applicants_mid "
            "ORDER BY applicant_id, at, decision_id LIMIT 1)") == 0);
  CHECK(v.history("A0") == expected_ids(0, n));
  CHECK(v.history("A99") == expected_ids(99, n));
  CHECK(v.verified());

  SECTION("to its end, with decisions made meanwhile") {
    put_decisions(cs, n, 10, [](int) { return "fes"; });
    int steps = 1;
    while (v.mid_rows() > 0 && steps < 1000) {
      cs.upkeep_due();
      ++steps;
    }
    CHECK(steps == (n + step - 1) / step);  // the last step takes the rest (at most a step's rows)
    CHECK(v.main_rows() == n);
    CHECK(v.mid_rows() == 0);
    CHECK(v.recent_rows() == 10);
    CHECK(v.history("A7") == expected_ids(7, n + 10));
    CHECK(v.verified());
    for (int i = 0; i < 10; ++i) cs.upkeep_due();  // nothing due
    CHECK(v.main_rows() == n);
    CHECK(v.recent_rows() == 10);
    // verify names a row of the main part missing, moved to another applicant, or twice under
    // another time (each undone before the next: one store for the three).
    const std::string saved =
        "CREATE TABLE saved AS SELECT * FROM counter_applicants WHERE decision_id='d7'";
    b.exec(db, saved);
    for (const char* tamper :
         {"DELETE FROM counter_applicants WHERE decision_id='d7'",
          "UPDATE counter_applicants SET applicant_id='A8' WHERE decision_id='d7'",
          "INSERT INTO counter_applicants SELECT applicant_id, '2001-01-01T00:00:00Z', "
          "decision_id FROM counter_applicants WHERE decision_id='d7'"}) {
      INFO(tamper);
      b.exec(db, tamper);
      CHECK_FALSE(v.verified());
      b.exec(db,
             "DELETE FROM counter_applicants WHERE decision_id='d7'; INSERT INTO "
             "counter_applicants SELECT * FROM saved");
      CHECK(v.verified());
    }
  }
  SECTION("emptied by another connection meanwhile, and renamed") {
    b.exec(db,
           "INSERT OR IGNORE INTO counter_applicants SELECT applicant_id, at, decision_id FROM "
           "counter_applicants_mid; DELETE FROM counter_applicants_mid; UPDATE "
           "counter_applicants SET applicant_id='Z' || substr(applicant_id, 2)");
    for (int i = 0; i < 10; ++i) cs.upkeep_due();
    CHECK(one("SELECT count(*) FROM counter_applicants WHERE applicant_id LIKE 'A%'") == 0);
    CHECK(v.main_rows() == n);
    CHECK(v.mid_rows() == 0);
    CHECK(v.history("Z7") == expected_ids(7, n));
  }
}

// The middle part is drained once it holds a quarter of the main part's rows, when that is more
// than counter_index_drain_rows (the main part counted as the highest row id less the other two
// parts). The store is one a round of a dalil before schema 17 was stopped in: some rows in the
// main part and still in the recent part. A round then puts them in the middle part too, and the
// drain leaves them in the main part alone; verify and histories count each once throughout.
TEST_CASE("the counter's applicants' index drained at a quarter of the main part",
          "[store][counter]") {
  using dalil::store::counter_store;
  sqlite_backend b;
  const std::string db = b.fresh();
  auto opened = counter_with_ruleset(b, db);
  counter_store& cs = *opened;
  const index_view v{db, cs};
  int made = 0;
  auto put_many = [&](int n) {
    put_decisions(cs, made, n, [](int) { return "rabat"; });
    made += n;
  };
  auto history_of_a7 = [&] { return v.history("A7") == expected_ids(7, made); };
  // As if about 160,000 decisions had been made: the main part counts as 159,900 rows, so a
  // drain waits for 39,975 rows in the middle part.
  put_many(100);
  b.exec(db,
         "UPDATE counter_decisions SET rowid=160000 WHERE rowid=(SELECT max(rowid) FROM "
         "counter_decisions)");
  static_assert(counter_store::counter_index_drain_due(159'900) == 39'975);
  static_assert(counter_store::counter_index_drain_due(100'000) ==
                counter_store::counter_index_drain_rows);
  put_many(32'900);
  // As a round of a dalil at schema 16 stopped before its clear leaves a store: rows in the main
  // part and still in the recent part (here the first 3,000).
  b.exec(db,
         "INSERT INTO counter_applicants SELECT applicant_id, at, decision_id FROM "
         "counter_applicants_recent ORDER BY seq LIMIT 3000");
  CHECK(v.verified());
  CHECK(history_of_a7());
  for (int i = 0; i < 5000 && v.recent_rows() > 0; ++i) cs.upkeep_due();
  REQUIRE(v.recent_rows() == 0);
  CHECK(v.mid_rows() == 33'000);
  CHECK(v.main_rows() == 3'000);
  CHECK(v.verified());
  CHECK(history_of_a7());
  // 33,000 rows, more than counter_index_drain_rows but under a quarter of the main part: no
  // drain.
  for (int i = 0; i < 10; ++i) cs.upkeep_due();
  CHECK(v.mid_rows() == 33'000);
  CHECK(v.main_rows() == 3'000);
  // A round more: 41,192 rows, past 39,975. The drain follows the round.
  put_many(static_cast<int>(counter_store::counter_index_merge_rows));
  int steps = 0;
  while (v.main_rows() == 3'000 && steps < 5000) {
    cs.upkeep_due();
    ++steps;
  }
  CHECK(v.recent_rows() == 0);
  CHECK(v.main_rows() > 3'000);
  CHECK(v.verified());
  CHECK(history_of_a7());
  for (int i = 0; i < 1000 && v.mid_rows() > 0; ++i) cs.upkeep_due();
  CHECK(v.mid_rows() == 0);
  CHECK(v.main_rows() == made);
  CHECK(v.verified());
  CHECK(history_of_a7());
}
