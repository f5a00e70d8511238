#include "analysis/halt.hpp"

#include <z3++.h>

#include <algorithm>

namespace dalil::analysis {

void halt::request() {
  std::lock_guard lock(mutex_);
  requested_.store(true, std::memory_order_release);
  // Z3_interrupt may be called from another thread than the query's: it ends the check as a
  // timeout does. The analyses test requested() before each query as well (detail::ask).
  for (z3::context* c : watched_) c->interrupt();
}

bool halt::watching() {
  std::lock_guard lock(mutex_);
  return !watched_.empty();
}

void halt::add(z3::context* c) {
  std::lock_guard lock(mutex_);
  watched_.push_back(c);
  if (requested_.load(std::memory_order_acquire)) c->interrupt();
}

void halt::remove(z3::context* c) {
  std::lock_guard lock(mutex_);
  watched_.erase(std::find(watched_.begin(), watched_.end(), c));
}

halt::watch::watch(halt* h, z3::context& c) : h_(h), c_(&c) {
  // Watched by every halt up the chain: each one's request interrupts it.
  for (halt* up = h_; up != nullptr; up = up->parent_) up->add(c_);
  if (h_ != nullptr && h_->requested()) {  // its deadline, too
    c_->interrupt();
    h_->skipped();
  }
}

halt::watch::~watch() {
  for (halt* up = h_; up != nullptr; up = up->parent_) up->remove(c_);
}

}  // namespace dalil::analysis
