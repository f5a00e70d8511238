// A request to end an analysis early, from another thread (a server that stops): the solver
// query under way is interrupted, and every later one answers "unknown" at once, so that the
// diff or the what-if ends within a moment instead of running its queries to their limits. A
// halted analysis says so (`diff_result::halted`, `whatif_result::halted`): its result is
// incomplete and is not to be shown as an answer. Never a false proof: an interrupted query is
// `unknown`, as a timeout is.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

namespace z3 {
class context;
}

namespace dalil::analysis {

class halt {
 public:
  halt() = default;
  /// The halt of one analysis: requested when `parent` is (a server's, which stops every
  /// analysis; the contexts watched here are watched by the parent too, so that its request
  /// interrupts them), or once `deadline` has passed. The deadline is tested before each query:
  /// the query under way runs to its own limit (the analysis's per-query timeout).
  halt(halt* parent, std::chrono::steady_clock::time_point deadline)
      : parent_(parent), deadline_(deadline) {}
  halt(const halt&) = delete;
  halt& operator=(const halt&) = delete;

  /// From any thread. Asked again, it interrupts the watched contexts again: Z3 4.8 can undo an
  /// interrupt that comes just as a query starts (it registers the interrupt, then clears its
  /// cancel flag), which leaves that query without any limit; whoever waits for the analysis
  /// asks again while watching() (advisers_api::stop).
  void request();
  bool requested() const noexcept { return stop_requested() || deadline_passed(); }
  /// Whether a stop was asked, of this halt or of one up the chain (not only a deadline passed).
  bool stop_requested() const noexcept {
    return requested_.load(std::memory_order_acquire) ||
           (parent_ != nullptr && parent_->requested());
  }
  /// Whether the analysis was cut short: a stop was asked, or a query was skipped or
  /// interrupted for the deadline (one that passed while the last query ran to its end cuts
  /// nothing short: that analysis is complete).
  bool cut_short() const noexcept {
    return stop_requested() || skipped_.load(std::memory_order_acquire);
  }
  /// Notes that a query was skipped or interrupted because the halt was requested.
  void skipped() const noexcept { skipped_.store(true, std::memory_order_release); }
  /// Whether the deadline has passed (an analysis halted for it ran out of time: it was not
  /// stopped).
  bool deadline_passed() const noexcept {
    return deadline_ && std::chrono::steady_clock::now() > *deadline_;
  }
  /// The flag itself, for work that tests it without Z3 (a server's impact): this halt's own
  /// requests only, neither its parent's nor its deadline.
  const std::atomic<bool>& flag() const noexcept { return requested_; }
  /// Whether an analysis watched by this halt (or by a halt under it) is under way.
  bool watching();

  /// While alive, a request interrupts the queries of `c` (`h` may be null: nothing to watch);
  /// made after a request, it interrupts `c` at once. Made and destroyed on the analysis's
  /// thread, before `c` is destroyed. An interrupt while no query runs leaves `c` cancelled:
  /// Z3's later model evaluations throw z3::exception (the what-if takes it as halted; the
  /// diff's query takes it as an encoding gap of that decision, the result being halted).
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
  void add(z3::context* c);
  void remove(z3::context* c);

  halt* parent_ = nullptr;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::atomic<bool> requested_{false};
  mutable std::atomic<bool> skipped_{false};
  std::mutex mutex_;
  std::vector<z3::context*> watched_;
};

/// Whether an analysis given `h` (null: none) has been asked to stop.
inline bool halted(const halt* h) noexcept {
  return h != nullptr && h->requested();
}

/// Whether an analysis given `h` (null: none) was cut short (halt::cut_short): its result is
/// incomplete.
inline bool cut_short(const halt* h) noexcept {
  return h != nullptr && h->cut_short();
}

}  // namespace dalil::analysis
