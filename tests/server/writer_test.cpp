// The server's group-committing writer (server/writer.hpp): requests queued in one turn of the
// event loop are written in one transaction; a request that fails leaves nothing and the others
// of its transaction are kept.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <sqlite3.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "server/writer.hpp"
#include "store/store.hpp"

using namespace dalil;

namespace {

struct writer_fixture {
  std::filesystem::path dir;
  std::string db;

  writer_fixture() {
    char tmpl[] = "/tmp/dalil-writer-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    dir = tmpl;
    db = (dir / "store.db").string();
    auto created = store::open_sqlite(db);  // the schema
    REQUIRE(created.has_value());
  }
  ~writer_fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  writer_fixture(const writer_fixture&) = delete;
  writer_fixture& operator=(const writer_fixture&) = delete;

  /// The audit entries whose action starts with "test-", in order, as "action:subject".
  std::vector<std::string> test_entries() const {
    sqlite3* c = nullptr;
    REQUIRE(sqlite3_open_v2(db.c_str(), &c, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    REQUIRE(sqlite3_prepare_v2(c,
                               "SELECT action, subject FROM audit WHERE action LIKE 'test-%' "
                               "ORDER BY seq",
                               -1, &q, nullptr) == SQLITE_OK);
    std::vector<std::string> out;
    while (sqlite3_step(q) == SQLITE_ROW) {
      out.push_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 0))) + ":" +
                    reinterpret_cast<const char*>(sqlite3_column_text(q, 1)));
    }
    sqlite3_finalize(q);
    sqlite3_close(c);
    return out;
  }
};

std::shared_ptr<server::write_job> audit_job(const std::string& action,
                                             const std::string& subject) {
  auto j = std::make_shared<server::write_job>();
  j->what = server::write_job::kind::audit;
  j->actor = "tester";
  j->action = action;
  j->subject = subject;
  j->details = "{}";
  return j;
}

/// A review of a decision that does not exist: refused (not found).
std::shared_ptr<server::write_job> failing_job() {
  auto j = std::make_shared<server::write_job>();
  j->what = server::write_job::kind::review;
  j->review.review_id = "r-1";
  j->review.decision_id = "no-such-decision";
  j->review.user = "tester";
  j->review.decisions = "[]";
  return j;
}

/// Queues `jobs` in one turn of the event loop (so that the writer takes them as one batch,
/// unless the machine stalls this thread past the writer's wait), then runs the loop until
/// every one completed.
/// `io` outlives the writer's thread (declared before the writer): the writer posts a completion
/// and may still be signalling the context's scheduler when the handler has already run here.
void write_all(boost::asio::io_context& io, server::writer& w,
               const std::vector<std::shared_ptr<server::write_job>>& jobs) {
  io.restart();
  auto guard = boost::asio::make_work_guard(io);
  std::size_t done = 0;
  for (const auto& j : jobs) {
    w.async_write(j, boost::asio::bind_executor(io, [&done] { ++done; }));
  }
  while (done < jobs.size()) io.run_one();
}

}  // namespace

TEST_CASE("the writer keeps the other requests of a transaction when one fails", "[server]") {
  writer_fixture f;
  auto cs = store::counter_store::open(f.db);
  REQUIRE(cs.has_value());
  boost::asio::io_context io;  // destroyed after the writer has stopped
  server::writer w(std::move(*cs));

  SECTION("every request written") {
    std::vector<std::shared_ptr<server::write_job>> jobs = {audit_job("test-a", "1"),
                                                            audit_job("test-b", "2")};
    write_all(io, w, jobs);
    for (const auto& j : jobs) CHECK(j->result.has_value());
    CHECK(f.test_entries() == std::vector<std::string>{"test-a:1", "test-b:2"});
  }
  SECTION("one request of three fails") {
    // The retry is only taken when the three land in one transaction: tried until they do (a
    // stalled machine may split them), every try checked, at least one in one transaction.
    std::vector<std::string> want;
    bool together = false;
    for (int attempt = 1; attempt <= 20 && !together; ++attempt) {
      const std::string n = std::to_string(attempt);
      std::vector<std::shared_ptr<server::write_job>> jobs = {audit_job("test-a", n), failing_job(),
                                                              audit_job("test-c", n)};
      const auto before = w.batches();
      write_all(io, w, jobs);
      together = w.batches() == before + 1;
      CHECK(jobs[0]->result.has_value());
      REQUIRE_FALSE(jobs[1]->result.has_value());
      CHECK(jobs[1]->result.error().code == store::errc::not_found);
      CHECK(jobs[2]->result.has_value());
      want.push_back("test-a:" + n);
      want.push_back("test-c:" + n);
    }
    CHECK(together);
    CHECK(f.test_entries() == want);
  }
  SECTION("two requests of five fail, and three of four") {
    // Two failures take both passes without savepoints and then the savepoints; three of four
    // leave one request, written by the second pass. Tried until each lands in one transaction.
    std::vector<std::string> want;
    bool together = false;
    for (int attempt = 1; attempt <= 20 && !together; ++attempt) {
      const std::string n = std::to_string(attempt);
      std::vector<std::shared_ptr<server::write_job>> five = {audit_job("test-a", n), failing_job(),
                                                              audit_job("test-b", n), failing_job(),
                                                              audit_job("test-c", n)};
      std::vector<std::shared_ptr<server::write_job>> four = {
          failing_job(), failing_job(), audit_job("test-d", n), failing_job()};
      const auto before = w.batches();
      write_all(io, w, five);
      const bool five_together = w.batches() == before + 1;
      write_all(io, w, four);
      together = five_together && w.batches() == before + 2;
      for (std::size_t i : {0U, 2U, 4U}) CHECK(five[i]->result.has_value());
      for (std::size_t i : {1U, 3U}) {
        REQUIRE_FALSE(five[i]->result.has_value());
        CHECK(five[i]->result.error().code == store::errc::not_found);
      }
      for (std::size_t i : {0U, 1U, 3U}) CHECK_FALSE(four[i]->result.has_value());
      CHECK(four[2]->result.has_value());
      for (const char* k : {"test-a:", "test-b:", "test-c:", "test-d:"}) want.push_back(k + n);
    }
    CHECK(together);
    CHECK(f.test_entries() == want);
  }
  SECTION("the only request of a transaction fails") {
    write_all(io, w, {failing_job()});
    write_all(io, w, {audit_job("test-d", "4")});
    CHECK(f.test_entries() == std::vector<std::string>{"test-d:4"});
  }
  w.stop();
  auto check = store::counter_store::open(f.db);
  REQUIRE(check.has_value());
  auto problem = (*check)->verify();
  REQUIRE(problem.has_value());
  CHECK_FALSE(problem->has_value());  // the audit chain is intact
}
