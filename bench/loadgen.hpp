// An open-loop HTTP/1.1 load generator (Boost.Beast): requests are due on a fixed schedule, and
// each latency is counted from the request's intended send time, so that a server that stalls is
// charged for every request that waited behind the stall (coordinated omission counted).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dalil::bench {

/// Log-linear histogram of non-negative integers (HdrHistogram's layout without its floating
/// point): values below 2^sub_bits are exact; above, every power of two is cut in 2^(sub_bits-1)
/// equal buckets, so a reported value is at most 2^-(sub_bits-1) above the true one (0.1% with
/// the default 11). Values above `highest` are counted at `highest` and in saturated().
class histogram {
 public:
  explicit histogram(std::uint64_t highest = 60'000'000, unsigned sub_bits = 11);

  void record(std::uint64_t value);
  void merge(const histogram& other);  ///< Both must have the same layout.

  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] std::uint64_t min() const { return count_ == 0 ? 0 : min_; }
  [[nodiscard]] std::uint64_t max() const { return max_; }
  [[nodiscard]] std::uint64_t mean() const { return count_ == 0 ? 0 : sum_ / count_; }
  [[nodiscard]] std::uint64_t saturated() const { return saturated_; }
  /// The smallest value v such that at least per_million / 1,000,000 of the values are <= v,
  /// reported as the top of v's bucket (never above max()); 0 when empty.
  [[nodiscard]] std::uint64_t percentile(std::uint64_t per_million) const;

  /// Bucket arithmetic, public for the tests.
  [[nodiscard]] std::size_t index_of(std::uint64_t value) const;
  [[nodiscard]] std::uint64_t highest_in_bucket(std::size_t index) const;
  [[nodiscard]] std::uint64_t lowest_in_bucket(std::size_t index) const;

 private:
  unsigned sub_bits_;
  std::uint64_t highest_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t saturated_ = 0;
};

/// http://HOST:PORT/TARGET (plain HTTP only; HOST may be a name, an IPv4 or a [IPv6] address).
struct url {
  std::string host;
  std::string port;
  std::string target;
};
/// Parses `text`; on failure returns nothing and says why in `error`.
std::optional<url> parse_url(std::string_view text, std::string& error);

/// "30", "30s", "500ms" → milliseconds; nothing when malformed or above a day.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

struct options {
  url target;
  std::string method = "POST";
  std::uint64_t rate = 1000;  ///< requests per second, > 0
  std::chrono::milliseconds duration{30'000};
  std::chrono::milliseconds warmup{0};
  /// An answer must be complete this long after it was sent; a request that could not be sent
  /// this long after its intended time is not sent and counts as a timeout too.
  std::chrono::milliseconds timeout{2'000};
  unsigned connections = 16;
  std::vector<std::string> bodies;  ///< request i sends bodies[i % size]; at least one
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type = "application/json";
  /// When non-zero, that process's CPU time (/proc/PID/stat) is measured over the same window.
  int server_pid = 0;
  /// Spin on the event loop instead of sleeping in it: one core at 100%, but no wake-up delay
  /// (tens of µs on a virtual machine) added to the send times and to reading the answers.
  bool busy_poll = false;
};

/// CPU time of a process, or of the whole machine, over the measured window, in microseconds.
struct cpu_use {
  bool known = false;
  std::uint64_t user_us = 0;    ///< user and nice
  std::uint64_t system_us = 0;  ///< system (for the machine: with interrupts)
  std::uint64_t steal_us = 0;   ///< the machine's only: taken by the hypervisor
};

/// Everything below counts requests whose intended send time lies in the measured window
/// [t0 + warmup, t0 + warmup + duration), except the `all_` counters, which cover warmup too.
struct outcome {
  std::uint64_t scheduled = 0;  ///< rate × duration
  std::uint64_t answered = 0;   ///< complete HTTP responses, any status
  std::uint64_t ok = 0;         ///< 2xx answers
  std::uint64_t non_2xx = 0;
  std::map<unsigned, std::uint64_t> by_status;  ///< non-2xx answers per status code
  std::uint64_t connection_errors = 0;          ///< connect, write or read failed
  std::map<std::string, std::uint64_t> connection_errors_by_reason;
  std::uint64_t protocol_errors = 0;  ///< the answer was not valid HTTP/1.1
  std::uint64_t timeouts = 0;         ///< no complete answer `timeout` after sending
  std::uint64_t unsent = 0;           ///< still queued `timeout` after its intended time

  histogram latency;   ///< µs from intended send time to the answer's last byte (answered only)
  histogram service;   ///< µs from actual send to the last byte (what a closed-loop tool sees)
  histogram send_lag;  ///< µs from intended to actual send: the queue (and the client's lag)

  /// From the start of the window to the last answer of a measured request.
  std::chrono::nanoseconds span{0};
  std::uint64_t bytes_received = 0;

  struct second {  ///< per second of intended send time in the window
    std::uint64_t ok = 0;
    std::uint64_t errors = 0;  ///< every failure kind above, non-2xx included
    std::uint64_t max_us = 0;
  };
  std::vector<second> seconds;

  std::uint64_t all_sent = 0;  ///< requests written, warmup included
  std::uint64_t all_ok = 0;    ///< 2xx answers, warmup included (what the server stored)
  std::uint64_t all_errors = 0;

  cpu_use client_cpu;                    ///< this process over the window
  cpu_use server_cpu;                    ///< options::server_pid over the window
  cpu_use machine_cpu;                   ///< every core (/proc/stat) over the window
  std::chrono::nanoseconds cpu_wall{0};  ///< wall time of the CPU window

  /// The schedule's origin: request i was due at t0 + i / rate.
  std::chrono::steady_clock::time_point t0;

  [[nodiscard]] std::uint64_t errors() const {
    return non_2xx + connection_errors + protocol_errors + timeouts + unsent;
  }
};

/// Connects `connections` keep-alive connections, then runs the schedule on one thread. Fails
/// (nothing returned, `error` says why) only when the target cannot be resolved or no
/// connection can be opened at the start; failures during the run are counted in the outcome.
std::optional<outcome> run(const options& o, std::string& error);

/// The outcome as one JSON object (the machine-readable report of dalil_loadgen --json).
std::string to_json(const options& o, const outcome& r);
/// The outcome as a few lines for a person.
std::string to_text(const options& o, const outcome& r);
/// The main figures as one line of space-separated key=value pairs, for shell scripts: rate
/// scheduled answered ok errors non_2xx connection protocol timeouts unsent all_ok all_errors
/// achieved p50 p90 p99 p99_9 p99_99 max mean (latency, µs) service_p50 service_p99 lag_p99
/// bytes_per_answer client_cpu server_cpu (% of one core) client_us_per_answer
/// server_us_per_answer (CPU µs over the window per measured answer) machine_cpu others_cpu
/// (% of one core); -1 when unknown.
std::string to_summary(const options& o, const outcome& r);

}  // namespace dalil::bench
