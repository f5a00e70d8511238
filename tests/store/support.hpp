// Helpers of the store tests: a fresh store on the suite's backend, open it or fail the test,
// read verify's findings as text, and everything the store holds (to search it for a leak).
//
// One suite, two backends: the same test bodies (store_test.cpp, import_test.cpp,
// period_test.cpp) are compiled into dalil_tests, on SQLite, and with DALIL_STORE_TEST_PG into
// tests/pg's dalil_pg_store_suite, on PostgreSQL (a throwaway cluster: tests/pg/run.sh).
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "store/store.hpp"
#ifdef DALIL_STORE_TEST_PG
#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"
#endif

/// Catch prints a store result as its outcome (boost's operator<< needs one for the value).
namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, dalil::store::error>> {
  static std::string convert(const boost::system::result<T, dalil::store::error>& r) {
    return r.has_value() ? std::string("ok") : "error: " + r.error().message;
  }
};
}  // namespace Catch

namespace dalil::testing {

#ifdef DALIL_STORE_TEST_PG
inline constexpr const char* backend_name = "PostgreSQL";
#else
inline constexpr const char* backend_name = "SQLite";
#endif

/// Where a new, empty store of the suite's backend is: the file `name`.db in `dir` on SQLite
/// (`dir` is the test's own, new folder); on PostgreSQL a database named after `name` and the
/// process, dropped if it exists and created (the cluster from the PG* variables).
inline std::string fresh_db(const std::filesystem::path& dir, const std::string& name) {
#ifdef DALIL_STORE_TEST_PG
  (void)dir;
  if (std::getenv("PGHOST") == nullptr || std::getenv("PGPORT") == nullptr) {
    FAIL("PG* variables are not set: run this suite through tests/pg/run.sh (pg_virtualenv)");
  }
  // An identifier cannot be a bound parameter: the name is the test's constant and a number.
  const std::string database = "dalil_suite_" + name + "_" + std::to_string(::getpid());
  auto admin = store::pg::connection::open("dbname=postgres");
  INFO((admin ? std::string() : admin.error().message));
  REQUIRE(admin.has_value());
  auto dropped = admin->run("dropping a test database",
                            "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  INFO((dropped ? std::string() : dropped.error().message));
  REQUIRE(dropped.has_value());
  auto created = admin->run("creating a test database", "CREATE DATABASE " + database);
  INFO((created ? std::string() : created.error().message));
  REQUIRE(created.has_value());
  return "dbname=" + database;
#else
  return (dir / (name + ".db")).string();
#endif
}

/// The store `db` names (created or upgraded): a SQLite file, or a PostgreSQL connection string
/// (fresh_db); the test fails with the store's message otherwise.
/// `key`: the master key of an encrypted store (nullptr: none).
inline std::unique_ptr<store::store> open_store(const std::string& db,
                                                const store::crypto::master_key* key = nullptr) {
#ifdef DALIL_STORE_TEST_PG
  auto r = store::pg::open_store(db, store::open_mode::read_write, key);
#else
  auto r = store::open_sqlite(db, store::open_mode::read_write, key);
#endif
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r.has_value());
  return std::move(*r);
}

/// Everything the store `db` holds, as bytes to search for a value that must not be there: the
/// file and its WAL on SQLite; on PostgreSQL the text of every row of every table of the
/// database's own schema.
inline std::string store_contents(const std::string& db) {
#ifdef DALIL_STORE_TEST_PG
  auto c = store::pg::connection::open(db);
  REQUIRE(c.has_value());
  auto tables = c->query("listing the tables",
                         "SELECT quote_ident(table_name) FROM information_schema.tables "
                         "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'");
  REQUIRE(tables.has_value());
  REQUIRE(tables->size() > 0);
  std::string out;
  for (int i = 0; i < tables->size(); ++i) {
    const std::string t = tables->text(i, 0);
    auto rows = c->query("reading a table", "SELECT t::text FROM " + t + " AS t");
    REQUIRE(rows.has_value());
    for (int r = 0; r < rows->size(); ++r) out += rows->text(r, 0) + "\n";
  }
  return out;
#else
  std::string out;
  for (const std::string& p : {db, db + "-wal"}) {
    if (!std::filesystem::exists(p)) continue;
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    out += ss.str();
  }
  return out;
#endif
}

/// What verify finds, one line each ("" when the store is intact); a failure to verify at all
/// reads "verify failed: …".
inline std::string verify_problems(store::store& db, const std::string& head = "") {
  store::verify_options o;
  o.head = head;
  auto r = db.verify(o);
  if (!r) return "verify failed: " + r.error().message;
  std::string out;
  for (const auto& p : r->problems) out += "[" + p.kind + "] " + p.what + "\n";
  return out;
}

}  // namespace dalil::testing
