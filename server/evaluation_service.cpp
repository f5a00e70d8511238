// Cached instances and per-thread evaluators (evaluation_service.hpp).
#include "server/evaluation_service.hpp"

#include <atomic>

namespace dalil::server {

namespace {
std::atomic<std::uint64_t> next_service_id{1};

struct thread_cache {
  std::uint64_t owner = 0;  // the service these states belong to
  std::list<evaluation_service::thread_state> states;
};
thread_local thread_cache tl_cache;
}  // namespace

evaluation_service::evaluation_service(std::shared_ptr<const engine::ruleset> rules,
                                       std::size_t capacity)
    : rules_(std::move(rules)), capacity_(capacity < 1 ? 1 : capacity), id_(next_service_id++) {}

std::shared_ptr<const engine::instance> evaluation_service::instance(
    const std::shared_ptr<const engine::ruleset>& rules, date as_of) {
  {
    std::lock_guard lock(mutex_);
    for (auto it = lru_.begin(); it != lru_.end(); ++it) {
      if (it->as_of == as_of && it->hash == rules->hash()) {
        lru_.splice(lru_.begin(), lru_, it);
        return lru_.front().inst;
      }
    }
  }
  // Prepared outside the lock: two threads may both prepare a new date; one copy is kept.
  auto inst = engine::instantiate(rules, as_of);
  std::lock_guard lock(mutex_);
  for (auto it = lru_.begin(); it != lru_.end(); ++it) {
    if (it->as_of == as_of && it->hash == rules->hash()) {
      lru_.splice(lru_.begin(), lru_, it);
      return lru_.front().inst;
    }
  }
  lru_.push_front({rules->hash(), as_of, inst});
  while (lru_.size() > capacity_) lru_.pop_back();
  return inst;
}

std::size_t evaluation_service::cached() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

evaluation_service::thread_state& evaluation_service::local(
    const std::shared_ptr<const engine::ruleset>& rules) {
  thread_cache& c = tl_cache;
  if (c.owner != id_) {
    c.states.clear();
    c.owner = id_;
  }
  for (auto it = c.states.begin(); it != c.states.end(); ++it) {
    if (it->rules == rules) {
      c.states.splice(c.states.begin(), c.states, it);
      return c.states.front();
    }
  }
  thread_state& t = c.states.emplace_front();
  t.rules = rules;
  t.reader = std::make_unique<engine::record_reader>(rules->program());
  while (c.states.size() > 2) c.states.pop_back();  // the server's ruleset and one replayed
  return t;
}

engine::evaluator& evaluation_service::evaluator_for(
    thread_state& t, const std::shared_ptr<const engine::instance>& inst) {
  for (auto it = t.evaluators.begin(); it != t.evaluators.end(); ++it) {
    if (it->first == inst) {
      t.evaluators.splice(t.evaluators.begin(), t.evaluators, it);
      return *t.evaluators.front().second;
    }
  }
  t.evaluators.emplace_front(inst, std::make_unique<engine::evaluator>(inst));
  while (t.evaluators.size() > capacity_) t.evaluators.pop_back();
  return *t.evaluators.front().second;
}

}  // namespace dalil::server
