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

halt::watch::watch(halt* h, z3::context& c) : h_(h), c_(&c) {
  if (h_ == nullptr) return;
  std::lock_guard lock(h_->mutex_);
  h_->watched_.push_back(c_);
  if (h_->requested()) c_->interrupt();
}

halt::watch::~watch() {
  if (h_ == nullptr) return;
  std::lock_guard lock(h_->mutex_);
  auto& w = h_->watched_;
  w.erase(std::find(w.begin(), w.end(), c_));
}

}  // namespace dalil::analysis
