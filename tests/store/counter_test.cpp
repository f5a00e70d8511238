// The counter store's suite (tests/store/counter_suite.hpp) on SQLite: a fresh file for each
// section. tests/pg/pg_counter_test.cpp runs the same suite on PostgreSQL.
#include <unistd.h>

#include <filesystem>

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
