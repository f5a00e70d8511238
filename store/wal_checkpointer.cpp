// Checkpoints off the writer's commits (wal_checkpointer.hpp).
#include "store/wal_checkpointer.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

namespace dalil::store {

result<std::unique_ptr<wal_checkpointer>> wal_checkpointer::attach(database& writer,
                                                                   const std::string& path,
                                                                   limits l) {
  std::unique_ptr<wal_checkpointer> c(new wal_checkpointer(writer, l));
  std::string e;
  if (!c->own_.open(path, e)) return fail(errc::failed, "the checkpoints' connection: " + e);
  sqlite3_wal_hook(writer.handle(), &wal_checkpointer::on_commit, c.get());
  c->thread_ = std::thread([p = c.get()] { p->run(); });
  return c;
}

wal_checkpointer::~wal_checkpointer() {
  sqlite3_wal_hook(writer_.handle(), nullptr, nullptr);
  sqlite3_wal_autocheckpoint(writer_.handle(), 1000);  // SQLite's default, as before
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

wal_checkpointer::counts wal_checkpointer::snapshot() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

int wal_checkpointer::on_commit(void* self, sqlite3* /*db*/, const char* /*schema*/, int frames) {
  static_cast<wal_checkpointer*>(self)->after_commit(frames);
  return SQLITE_OK;  // a checkpoint's failure is not the commit's: it stays committed
}

void wal_checkpointer::after_commit(int frames) {
  std::unique_lock lock(mutex_);
  if (frames < last_frames_ || frames < checkpointed_) {
    // The WAL started again from its beginning: what the thread copied was of the last one.
    ++generation_;
    ++counts_.restarts;
    closing_passes_ = 0;
    checkpointed_ = 0;
    retry_at_ = 0;
    counts_.frames += frames;
  } else {
    counts_.frames += frames - last_frames_;
  }
  last_frames_ = frames;
  counts_.largest_wal = std::max<std::int64_t>(counts_.largest_wal, frames);
  const std::int64_t left = frames - checkpointed_;
  const bool closing = frames >= limits_.start_frames;
  const std::int64_t finishable = finishable_frames();
  // (A pass under way is short then: run_due waits for its end.)
  const bool finish = closing && left <= finishable && frames >= retry_at_;
  const bool force = frames >= limits_.force_frames && frames >= retry_at_;
  if (!finish && !force) {
    // A pass of the thread: while the WAL is short, once a good number of frames wait; once it
    // is long, until few are left for the writer (each pass then shorter than the last). A
    // pass under way looks again when it ends.
    const bool pass = closing ? left > finishable : left >= limits_.pass_frames;
    if (!pass || requested_ || passing_) return;
    requested_ = true;
    lock.unlock();
    wake_.notify_one();
    return;
  }
  // The writer's checkpoint runs once the requests of this commit are answered (run_due); one
  // still due at the next commit (nobody called run_due) runs here.
  const bool overdue = due_ != due::none;
  due_ = force ? due::force : due::finish;
  due_left_ = left;
  if (overdue) {
    lock.unlock();
    run_due();
  }
}

void wal_checkpointer::run_due() {
  std::unique_lock lock(mutex_);
  const due what = std::exchange(due_, due::none);
  if (what == due::none) return;
  const std::int64_t left = due_left_;
  const int frames = last_frames_;
  // A pass of the thread under way ends first (short when a finish is due: few frames were
  // left), and none starts until this one is done: else each would find the other busy.
  holding_ = true;
  // A finish waits 2 ms at most: the thread is nicer than the writer and may be starved of the
  // core (a writer that waited for it would wait on the lowest priority); the next commit tries
  // again. A forced one waits as long as it takes: put off again and again on a saturated core,
  // the WAL grew to 2 GiB in a test and every read slowed down (each looks a page up in the
  // WAL's index first); while the writer waits, the requests stop and the thread gets the core.
  const auto ended = [this] { return !passing_; };
  if (what == due::force) {
    passed_.wait(lock, ended);
  } else if (!passed_.wait_for(lock, std::chrono::milliseconds(2), ended)) {
    holding_ = false;
    ++counts_.skipped;
    return;
  }
  lock.unlock();
  const auto started = std::chrono::steady_clock::now();
  // A few frames left (or the thread far behind): checkpoint here; PASSIVE, so that a pass of
  // the thread still running makes this one return busy rather than wait.
  int log = 0;
  int copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(writer_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           &log, &copied);
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  lock.lock();
  holding_ = false;
  counts_.longest_finish_us = std::max<std::int64_t>(counts_.longest_finish_us, took);
  if (what == due::finish) {
    ++counts_.finishes;
    counts_.largest_finish = std::max<std::int64_t>(counts_.largest_finish, left);
  } else {
    ++counts_.forced;
  }
  if (rc == SQLITE_OK && copied == log) ++counts_.completed;
  if (rc != SQLITE_OK || copied < log) {
    // Readers on older snapshots (or the thread) kept frames back: not again on every commit.
    retry_at_ = frames + std::max(limits_.finish_frames, 1);
    if (rc == SQLITE_OK && copied > checkpointed_) checkpointed_ = copied;
    requested_ = true;
  }
  const bool pass = requested_;
  lock.unlock();
  if (pass) wake_.notify_one();
}

std::int64_t wal_checkpointer::finishable_frames() const {
  // finish_frames, or four times as many once three passes of this WAL failed to leave fewer
  // (the commits come faster than a pass can shorten what is left), or whatever is left after
  // eight (the thread starved of the core, or a disk slower than the commits): a longer stall
  // once rather than passes without end.
  if (closing_passes_ >= 8) return std::numeric_limits<std::int64_t>::max();
  return closing_passes_ >= 3 ? 4 * std::int64_t{limits_.finish_frames} : limits_.finish_frames;
}

int wal_checkpointer::sync_database() {
  sqlite3_file* file = nullptr;
  int rc = sqlite3_file_control(own_.handle(), "main", SQLITE_FCNTL_FILE_POINTER, &file);
  if (rc != SQLITE_OK || file == nullptr || file->pMethods == nullptr) return rc;
  return file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
}

bool wal_checkpointer::idle() const {
  std::lock_guard lock(mutex_);
  return !requested_ && !passing_;
}

void wal_checkpointer::run() {
#ifdef __linux__
  // Ten steps nicer than the server: on a core the requests keep busy, the copies take about a
  // tenth of it (enough to keep up; none at all could leave the writer a huge forced one).
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, 0);
  if (errno == 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), std::min(nice + 10, 19));
#endif
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return (requested_ && !holding_) || stopping_; });
    if (stopping_) return;
    requested_ = false;
    passing_ = true;
    const std::uint64_t generation = generation_;
    lock.unlock();
    int log = 0;
    int copied = 0;
    int rc =
        sqlite3_wal_checkpoint_v2(own_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    // SQLite syncs the database file only after a checkpoint that reached the WAL's end: the
    // pages of the others would all wait for the writer's short one, which would then write
    // out tens of MiB (25-35 ms here). Synced here instead, in the background.
    if (rc == SQLITE_OK && copied > 0) rc = sync_database();
    lock.lock();
    passing_ = false;
    passed_.notify_all();
    ++counts_.passes;
    if (rc != SQLITE_OK) ++counts_.busy;
    if (rc == SQLITE_OK && generation == generation_) {
      checkpointed_ = copied;
      if (last_frames_ >= limits_.start_frames) ++closing_passes_;
    }
    // The commits made meanwhile: another pass at once when they call for one.
    const std::int64_t left = last_frames_ - checkpointed_;
    if (last_frames_ >= limits_.start_frames ? left > finishable_frames()
                                             : left >= limits_.pass_frames) {
      requested_ = true;
    }
  }
}

}  // namespace dalil::store
