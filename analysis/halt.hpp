// A request to end an analysis early, from another thread (a server that stops): the solver
// query under way is interrupted, and every later one answers "unknown" at once, so that the
// diff or the what-if ends within a moment instead of running its queries to their limits. A
// halted analysis says so (`diff_result::halted`, `whatif_result::halted`): its result is
// incomplete and is not to be shown as an answer. Never a false proof: an interrupted query is
// `unknown`, as a timeout is.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

namespace z3 {
class context;
}

namespace dalil::analysis {

class halt {
 public:
  halt() = default;
  halt(const halt&) = delete;
  halt& operator=(const halt&) = delete;

  /// From any thread; idempotent.
  void request();
  bool requested() const noexcept { return requested_.load(std::memory_order_acquire); }

  /// While alive, a request interrupts the query running in `c` (`h` may be null: nothing to
  /// watch). Made and destroyed on the analysis's thread, before `c` is destroyed.
  class watch {
   public:
    watch(halt* h, z3::context& c);
    ~watch();
    watch(const watch&) = delete;
    watch& operator=(const watch&) = delete;

   private:
    halt* h_;
    z3::context* c_;
  };

 private:
  std::atomic<bool> requested_{false};
  std::mutex mutex_;
  std::vector<z3::context*> watched_;
};

}  // namespace dalil::analysis
