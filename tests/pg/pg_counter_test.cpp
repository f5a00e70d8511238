// The counter store's suite (tests/store/counter_suite.hpp) on PostgreSQL: a fresh database of
// the pg_virtualenv cluster (tests/pg/run.sh) for each section; tests/store/counter_test.cpp
// runs the same suite on SQLite.
#include <cstdlib>

#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"
#include "tests/store/counter_suite.hpp"

namespace {

namespace pg = dalil::store::pg;

class pg_backend final : public counter_suite::backend {
 public:
  std::string fresh() override {
    if (std::getenv("PGHOST") == nullptr || std::getenv("PGPORT") == nullptr) {
      FAIL("PG* variables are not set: run these tests through tests/pg/run.sh (pg_virtualenv)");
    }
    auto admin = pg::connection::open("dbname=postgres");
    REQUIRE(counter_suite::ok(admin));
    REQUIRE(counter_suite::ok(
        admin->run("dropping a test database", "DROP DATABASE IF EXISTS dalil_counter_suite")));
    REQUIRE(counter_suite::ok(
        admin->run("creating a test database", "CREATE DATABASE dalil_counter_suite")));
    std::string db = "dbname=dalil_counter_suite";
    REQUIRE(counter_suite::ok(pg::pg_store::open(db)));  // the migrations
    return db;
  }
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
