// A place among at most `max` admitted at once: the reports that run on a pool of their own (the
// advisers' diffs, impacts and what-ifs; audit verification), one running and the rest waiting,
// so that a queue never grows past what a stop would wait for. Past it, the caller answers 503.
#pragma once

#include <atomic>

namespace dalil::server {

class admission {
 public:
  /// Takes a place when fewer than `max` are taken (see admitted()).
  admission(std::atomic<int>& taken, int max) : taken_(taken), admitted_(++taken <= max) {
    if (!admitted_) --taken_;
  }
  /// Gives the place back, however the request ends.
  ~admission() {
    if (admitted_) --taken_;
  }
  admission(const admission&) = delete;
  admission& operator=(const admission&) = delete;
  admission(admission&&) = delete;
  admission& operator=(admission&&) = delete;

  bool admitted() const { return admitted_; }

 private:
  std::atomic<int>& taken_;
  bool admitted_;
};

}  // namespace dalil::server
