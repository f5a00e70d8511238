// The writer's checkpoints in the background (store/wal_checkpointer.hpp): the WAL starts again
// from its beginning while a writer commits without pause, the writer only ever copies the few
// frames a pass left, a reader on an old snapshot holds the WAL back without losing anything, and
// every row committed is in the database afterwards.
#include "store/wal_checkpointer.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "store/sqlite.hpp"

namespace fs = std::filesystem;
using dalil::store::database;
using dalil::store::wal_checkpointer;

namespace {

struct scratch {
  scratch() {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("dalil-wal-ckpt-" + std::to_string(rd()));
    fs::create_directories(dir);
  }
  ~scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  fs::path dir;
};

/// One transaction of the writer: `rows` rows of 3 KB (a counter decision's size).
void commit_rows(database& db, dalil::store::statement& insert, int rows, int& next) {
  REQUIRE(db.run("BEGIN IMMEDIATE", "begin").has_value());
  const std::string payload(3000, 'x');
  for (int i = 0; i < rows; ++i) {
    insert.bind(1, static_cast<std::int64_t>(next++)).bind(2, std::string_view(payload));
    REQUIRE(insert.run("insert").has_value());
  }
  REQUIRE(db.run("COMMIT", "commit").has_value());
}

std::int64_t count_rows(database& db) {
  std::string e;
  auto q = db.prepare("SELECT count(*) FROM t", e);
  REQUIRE(q.ok());
  REQUIRE(q.step() == SQLITE_ROW);
  return q.int64(0);
}

/// What the checkpoints did, for a failed check's message.
std::string describe(const wal_checkpointer::counts& n) {
  return "passes " + std::to_string(n.passes) + ", finishes " + std::to_string(n.finishes) +
         ", forced " + std::to_string(n.forced) + ", restarts " + std::to_string(n.restarts) +
         ", largest WAL " + std::to_string(n.largest_wal) + ", largest finish " +
         std::to_string(n.largest_finish) + ", frames " + std::to_string(n.frames);
}

/// Waits until the thread has nothing left to do (at most 10 s).
void settle(const wal_checkpointer& c) {
  for (int i = 0; i < 10000 && !c.idle(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(c.idle());
}

void require_intact(database& db, int rows) {
  CHECK(count_rows(db) == rows);
  std::string e;
  auto check = db.prepare("PRAGMA integrity_check", e);
  REQUIRE(check.ok());
  REQUIRE(check.step() == SQLITE_ROW);
  CHECK(check.text(0) == "ok");
}

}  // namespace

TEST_CASE("the writer's checkpoints run in the background and the WAL starts again",
          "[store][wal]") {
  scratch s;
  const std::string path = (s.dir / "w.db").string();
  database db;
  std::string e;
  REQUIRE(db.open(path, e));
  REQUIRE(db.run("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)", "create").has_value());
  wal_checkpointer::limits l;
  l.pass_frames = 16;
  l.start_frames = 200;
  l.finish_frames = 8;
  l.force_frames = 2000;
  int next = 0;
  std::string ie;
  auto insert = db.prepare("INSERT INTO t(id, v) VALUES (?, ?)", ie);
  REQUIRE(insert.ok());
  auto c = wal_checkpointer::attach(db, path, l);
  REQUIRE(c.has_value());
  wal_checkpointer& ckpt = **c;

  SECTION("a writer that leaves the thread time: it never copies more than a pass left") {
    // As at a counter: between two commits the thread catches up (here it is waited for).
    for (int t = 0; t < 1500; ++t) {
      commit_rows(db, insert, 1 + t % 4, next);
      ckpt.run_due();
      settle(ckpt);
    }
    const auto n = ckpt.snapshot();
    INFO(describe(n));
    CHECK(n.passes > 0);
    CHECK(n.restarts > 2);
    CHECK(n.forced == 0);
    CHECK(n.largest_finish <= l.finish_frames);
    // The WAL starts again once it is long: it never grows far past start_frames.
    CHECK(n.largest_wal < l.start_frames + 2 * l.pass_frames);
  }
  SECTION("a writer that never pauses: past force_frames it checkpoints, the WAL stays bounded") {
    for (int t = 0; t < 3000; ++t) {
      commit_rows(db, insert, 1 + t % 4, next);
      ckpt.run_due();
    }
    const auto n = ckpt.snapshot();
    INFO(describe(n));
    CHECK(n.restarts > 0);
    CHECK(n.largest_wal < l.force_frames + 100);
    // What a starved thread leaves the writer is bounded by its limit, never the whole WAL.
    CHECK(n.largest_finish < l.force_frames);
  }
  c->reset();
  require_intact(db, next);
}

TEST_CASE("a reader on an old snapshot holds the WAL back, nothing is lost, and it starts again",
          "[store][wal]") {
  scratch s;
  const std::string path = (s.dir / "r.db").string();
  database db;
  std::string e;
  REQUIRE(db.open(path, e));
  REQUIRE(db.run("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)", "create").has_value());
  wal_checkpointer::limits l;
  l.pass_frames = 16;
  l.start_frames = 100;
  l.finish_frames = 8;
  l.force_frames = 400;
  auto c = wal_checkpointer::attach(db, path, l);
  REQUIRE(c.has_value());
  std::string ie;
  auto insert = db.prepare("INSERT INTO t(id, v) VALUES (?, ?)", ie);
  REQUIRE(insert.ok());
  int next = 0;
  commit_rows(db, insert, 10, next);
  database reader;
  REQUIRE(reader.open(path, e));
  REQUIRE(reader.run("BEGIN", "begin a read").has_value());
  const std::int64_t seen = count_rows(reader);  // the snapshot is taken here
  for (int t = 0; t < 600; ++t) {
    commit_rows(db, insert, 2, next);
    c.value()->run_due();
  }
  const auto held = c.value()->snapshot();
  // The reader's snapshot keeps every frame after it from being copied: the WAL grew past the
  // writer's limit, which tried (forced) but not on every commit.
  CHECK(held.largest_wal > l.force_frames);
  CHECK(held.forced > 0);
  CHECK(held.forced < 600);
  CHECK(count_rows(reader) == seen);
  REQUIRE(reader.run("COMMIT", "end the read").has_value());
  for (int t = 0; t < 600; ++t) {
    commit_rows(db, insert, 2, next);
    c.value()->run_due();
  }
  const auto after = c.value()->snapshot();
  INFO("restarts " << held.restarts << " then " << after.restarts << ", largest WAL "
                   << after.largest_wal);
  CHECK(after.restarts > held.restarts);
  CHECK(count_rows(db) == next);
}
