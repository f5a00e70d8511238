// The group-committing writer (writer.hpp).
#include "server/writer.hpp"

#include <algorithm>
#include <chrono>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>

namespace dalil::server {

namespace {
/// Requests per transaction at most: a burst is written in a few transactions, each short.
constexpr std::size_t max_batch = 1024;
/// The longest the writer waits for a posted wake-up once a request is queued.
constexpr std::chrono::microseconds max_wake_delay{2000};
}  // namespace

writer::writer(std::unique_ptr<store::counter_store> store)
    : store_(std::move(store)), thread_([this] { run(); }) {}

writer::~writer() {
  stop();
}

void writer::enqueue(std::shared_ptr<write_job> job, boost::asio::any_io_executor ex,
                     boost::asio::any_completion_handler<void()> done) {
  {
    std::lock_guard lock(sync_->mutex);
    if (!stopping_) {
      queue_.push_back({std::move(job), std::move(ex), std::move(done)});
      // The writer is woken by a handler posted behind the work the requesting thread already
      // has ready (the requests read in the same turn of its event loop), not at once: on a
      // server with one core, waking it at once would commit each request alone (the writer
      // preempts the thread that would have queued the next ones). Alone, the thread runs the
      // wake-up right after this request suspends. One wake-up pending per writer at a time.
      if (!sync_->posted) {
        sync_->posted = true;
        boost::asio::post(queue_.back().ex, [sync = sync_] {
          std::lock_guard l(sync->mutex);
          sync->posted = false;
          sync->wake.notify_one();
        });
      }
      return;
    }
  }
  job->result = store::fail(store::errc::refused, "the server is stopping");
  boost::asio::post(ex, [d = std::move(done)]() mutable { std::move(d)(); });
}

void writer::stop() {
  {
    std::lock_guard lock(sync_->mutex);
    stopping_ = true;
    sync_->wake.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

std::uint64_t writer::batches() const {
  std::lock_guard lock(sync_->mutex);
  return batches_;
}

std::uint64_t writer::jobs() const {
  std::lock_guard lock(sync_->mutex);
  return jobs_;
}

std::string writer::summary() const {
  std::string s =
      std::to_string(batches()) + " transactions for " + std::to_string(jobs()) + " writes";
  if (std::string c = store_->checkpoint_summary(); !c.empty()) s += "; " + c;
  return s;
}

void writer::run() {
  std::vector<pending> batch;
  for (;;) {
    {
      std::unique_lock lock(sync_->mutex);
      // Woken by the posted wake-up (enqueue) or by stop(); the timeout only bounds the wait
      // for a queued request should its wake-up never run (an event loop stopped first).
      while (!stopping_ && (queue_.empty() || sync_->posted)) {
        if (queue_.empty()) {
          sync_->wake.wait(lock);
        } else if (sync_->wake.wait_for(lock, max_wake_delay) == std::cv_status::timeout) {
          break;
        }
      }
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && batch.size() < max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    write_batch(batch);
    {
      std::lock_guard lock(sync_->mutex);
      ++batches_;
      jobs_ += batch.size();
    }
    // Each request resumes on its own connection's thread, after the commit.
    for (pending& p : batch) {
      boost::asio::post(p.ex, [d = std::move(p.done)]() mutable { std::move(d)(); });
    }
    batch.clear();
    // The requests are on their way: an index merge or a short checkpoint due now delays none
    // of them.
    store_->upkeep_due();
  }
}

namespace {

/// Runs `j` on `store` (inside its open transaction).
store::status write_one(store::counter_store& store, write_job& j) {
  switch (j.what) {
    case write_job::kind::decision:
      return store.put_decision(j.decision);
    case write_job::kind::review:
      return store.put_review(j.review);
    case write_job::kind::audit:
      return store.audit(j.actor, j.action, j.subject, j.details);
  }
  return store::fail(store::errc::failed, "a write of no known kind");
}

}  // namespace

void writer::write_batch(std::vector<pending>& batch) {
  // Every request in one transaction without savepoints: a savepoint per request costs about a
  // quarter of the store's work (SQLite copies each page a request changes into the savepoint's
  // journal first, and opens and releases it). Should a request fail, nothing of that
  // transaction is kept, and the batch is written again without the requests that failed (their
  // failure is their answer: each failed on the batch's writes before it, which the next pass
  // writes again in the same order); after two such passes, with a savepoint per request. A
  // request that always fails (a review written against a superseded one) thus costs one pass
  // more, not a savepoint for every request of its batch.
  std::vector<std::uint8_t> failed(batch.size(), 0);
  for (int pass = 0; pass < 2; ++pass) {
    if (auto s = store_->begin(); !s) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (failed[i] == 0) batch[i].job->result = s;
      }
      return;
    }
    bool ok = true;
    for (std::size_t i = 0; i < batch.size() && ok; ++i) {
      if (failed[i] != 0) continue;
      write_job& j = *batch[i].job;
      j.result = write_one(*store_, j);
      if (!j.result) {
        failed[i] = 1;
        ok = false;
      }
    }
    if (ok) {
      if (auto s = store_->commit(); !s) {
        // Nothing of the batch is stored: every request of it fails (none was answered yet).
        for (std::size_t i = 0; i < batch.size(); ++i) {
          if (failed[i] == 0) batch[i].job->result = s;
        }
      }
      return;
    }
    store_->rollback();
    if (std::find(failed.begin(), failed.end(), 0) == failed.end()) return;  // all failed
  }
  write_with_savepoints(batch, failed);
}

void writer::write_with_savepoints(std::vector<pending>& batch,
                                   const std::vector<std::uint8_t>& failed) {
  if (auto s = store_->begin(); !s) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (failed[i] == 0) batch[i].job->result = s;
    }
    return;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (failed[i] != 0) continue;  // answered by its failure in an earlier pass
    write_job& j = *batch[i].job;
    if (auto s = store_->savepoint(); !s) {
      j.result = s;
      continue;
    }
    j.result = write_one(*store_, j);
    if (j.result) {
      if (auto s = store_->release(); !s) {
        j.result = s;
        store_->rollback_to();
      }
    } else {
      store_->rollback_to();  // this request leaves nothing; the others are kept
    }
  }
  if (auto s = store_->commit(); !s) {
    // Nothing of the batch is stored: every request of it fails (none was answered yet).
    for (pending& p : batch) {
      if (p.job->result) p.job->result = s;
    }
  }
}

}  // namespace dalil::server
