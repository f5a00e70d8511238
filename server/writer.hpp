// The server's one writer: a thread with its own connection that group-commits the pending
// writes of many requests (counter decisions, reviews, audited reads) in one transaction (written
// again with a savepoint each when one of them failed), then completes each request. A request's
// answer leaves only after its write is committed (WAL, synchronous=NORMAL: it survives a killed
// process, not a power cut).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>

#include "store/counter_store.hpp"

namespace dalil::server {

/// One request's write. The request thread fills the input; the writer the result.
struct write_job {
  enum class kind : std::uint8_t { decision, review, audit };
  kind what = kind::audit;
  store::counter_decision decision;             // kind::decision (filled further by the store)
  store::review review;                         // kind::review
  std::string actor, action, subject, details;  // kind::audit
  store::status result;
};

class writer {
 public:
  /// Takes the writer's own connection; starts the thread.
  explicit writer(std::unique_ptr<store::counter_store> store);
  ~writer();
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  /// Queues `job`; completes (on the handler's executor) when its transaction has committed or
  /// failed: then job->result says which. After stop(), completes at once with a failure.
  template <class CompletionToken>
  auto async_write(std::shared_ptr<write_job> job, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void()>(
        [this](auto handler, std::shared_ptr<write_job> j) {
          boost::asio::any_io_executor ex = boost::asio::get_associated_executor(handler);
          enqueue(std::move(j), std::move(ex),
                  boost::asio::any_completion_handler<void()>(std::move(handler)));
        },
        token, std::move(job));
  }

  /// Writes what is queued, then ends the thread. Idempotent.
  void stop();

  /// Transactions committed and requests written so far (for the logs and the tests).
  std::uint64_t batches() const;
  std::uint64_t jobs() const;
  /// Those counts and the store's checkpoints, as a line for the log (no personal data).
  std::string summary() const;

 private:
  struct pending {
    std::shared_ptr<write_job> job;
    boost::asio::any_io_executor ex;  // the requesting connection's
    boost::asio::any_completion_handler<void()> done;
  };
  void enqueue(std::shared_ptr<write_job> job, boost::asio::any_io_executor ex,
               boost::asio::any_completion_handler<void()> done);
  void run();
  void write_batch(std::vector<pending>& batch);
  /// The batch again with a savepoint per request, but for those `failed` marks (already answered).
  void write_with_savepoints(std::vector<pending>& batch, const std::vector<std::uint8_t>& failed);

  std::unique_ptr<store::counter_store> store_;
  /// What the posted wake-ups touch, shared with them: one may run after the writer is gone.
  struct sync {
    std::mutex mutex;
    std::condition_variable wake;
    bool posted = false;  // a wake-up handler is posted and has not run yet
  };
  std::shared_ptr<sync> sync_ = std::make_shared<sync>();
  std::deque<pending> queue_;
  bool stopping_ = false;
  std::uint64_t batches_ = 0;
  std::uint64_t jobs_ = 0;
  std::thread thread_;
};

}  // namespace dalil::server
