// Evaluation for the server: instances prepared once per (ruleset hash, as-of date) in a bounded
// LRU cache (clients choosing dates cannot exhaust memory), and per-thread record readers and
// evaluators reused from request to request (the hot path does not rebuild anything).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "engine/ruleset.hpp"

namespace dalil::server {

class evaluation_service {
 public:
  /// `rules`: the ruleset the server evaluates with; `capacity`: instances kept at most.
  evaluation_service(std::shared_ptr<const engine::ruleset> rules, std::size_t capacity);

  const engine::ruleset& rules() const { return *rules_; }
  const std::shared_ptr<const engine::ruleset>& rules_ptr() const { return rules_; }

  /// The instance of `rules` for `as_of`, prepared on first use, the least recently used one
  /// dropped past the capacity (requests still holding it keep it alive).
  std::shared_ptr<const engine::instance> instance(
      const std::shared_ptr<const engine::ruleset>& rules, date as_of);

  /// What one thread reuses: a record reader and record per ruleset, evaluators per instance.
  struct thread_state {
    std::shared_ptr<const engine::ruleset> rules;
    std::unique_ptr<engine::record_reader> reader;
    engine::record record;
    std::list<std::pair<std::shared_ptr<const engine::instance>,
                        std::unique_ptr<engine::evaluator>>>
        evaluators;  // most recent first, at most the cache's capacity
  };
  /// This thread's state for `rules` (a thread keeps one per ruleset, the last used).
  thread_state& local(const std::shared_ptr<const engine::ruleset>& rules);
  /// This thread's evaluator for `inst`.
  engine::evaluator& evaluator_for(thread_state& t,
                                   const std::shared_ptr<const engine::instance>& inst);

  std::size_t cached() const;

 private:
  std::shared_ptr<const engine::ruleset> rules_;
  std::size_t capacity_;
  std::uint64_t id_;
  mutable std::mutex mutex_;
  struct entry {
    std::string hash;
    date as_of;
    std::shared_ptr<const engine::instance> inst;
  };
  std::list<entry> lru_;  // most recent first
};

}  // namespace dalil::server
