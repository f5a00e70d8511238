// The open-loop load generator's engine: the histogram, the schedule, the connection pool (one
// coroutine per keep-alive connection on a single-threaded io_context) and the two reports.
#include "bench/loadgen.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/optional/optional.hpp>
#include <charconv>
#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>

namespace dalil::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

// ------------------------------------------------------------------ histogram

histogram::histogram(std::uint64_t highest, unsigned sub_bits)
    : sub_bits_(std::clamp(sub_bits, 2U, 20U)), highest_(std::max<std::uint64_t>(highest, 1)) {
  counts_.assign(index_of(highest_) + 1, 0);
}

std::size_t histogram::index_of(std::uint64_t value) const {
  const std::uint64_t linear = std::uint64_t{1} << sub_bits_;
  if (value < linear) return static_cast<std::size_t>(value);
  // The top sub_bits bits of the value select the bucket within its power of two.
  const auto shift = static_cast<unsigned>(std::bit_width(value)) - sub_bits_;
  const std::uint64_t mantissa = value >> shift;  // in [linear / 2, linear)
  const std::uint64_t half = linear / 2;
  return static_cast<std::size_t>(linear + (shift - 1) * half + (mantissa - half));
}

std::uint64_t histogram::lowest_in_bucket(std::size_t index) const {
  const std::uint64_t linear = std::uint64_t{1} << sub_bits_;
  if (index < linear) return index;
  const std::uint64_t half = linear / 2;
  const std::uint64_t k = index - linear;
  const std::uint64_t shift = k / half + 1;
  const std::uint64_t mantissa = k % half + half;
  return mantissa << shift;
}

std::uint64_t histogram::highest_in_bucket(std::size_t index) const {
  const std::uint64_t linear = std::uint64_t{1} << sub_bits_;
  if (index < linear) return index;
  const std::uint64_t k = index - linear;
  const std::uint64_t shift = k / (linear / 2) + 1;
  return lowest_in_bucket(index) + (std::uint64_t{1} << shift) - 1;
}

void histogram::record(std::uint64_t value) {
  if (value > highest_) {
    value = highest_;
    ++saturated_;
  }
  ++counts_[index_of(value)];
  if (count_ == 0 || value < min_) min_ = value;
  max_ = std::max(max_, value);
  ++count_;
  sum_ += value;
}

void histogram::merge(const histogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < counts_.size() && i < other.counts_.size(); ++i) {
    counts_[i] += other.counts_[i];
  }
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
  saturated_ += other.saturated_;
}

std::uint64_t histogram::percentile(std::uint64_t per_million) const {
  if (count_ == 0) return 0;
  per_million = std::min<std::uint64_t>(per_million, 1'000'000);
  // The rank of the wanted value, rounded up, at least 1: ceil(count × p / 10^6) without
  // overflow for any count below 2^44.
  std::uint64_t rank = (count_ * per_million + 999'999) / 1'000'000;
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_in_bucket(i), max_);
  }
  return max_;
}

// ------------------------------------------------------------------ parsing

std::optional<url> parse_url(std::string_view text, std::string& error) {
  constexpr std::string_view scheme = "http://";
  if (text.substr(0, scheme.size()) != scheme) {
    error = "the URL must start with http:// (this client speaks plain HTTP/1.1 only)";
    return std::nullopt;
  }
  std::string_view rest = text.substr(scheme.size());
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  url u;
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "the URL's IPv6 address has no closing ']'";
      return std::nullopt;
    }
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') {
      error = "the URL has characters after its IPv6 address that are not a port";
      return std::nullopt;
    }
    u.port = authority.empty() ? "80" : std::string(authority.substr(1));
  } else {
    const std::size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    u.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) {
    error = "the URL has no host";
    return std::nullopt;
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(u.port.data(), u.port.data() + u.port.size(), port);
  if (ec != std::errc{} || end != u.port.data() + u.port.size() || port == 0 || port > 65535) {
    error = "the URL's port is not a number from 1 to 65535";
    return std::nullopt;
  }
  if (u.target.find_first_of(" \r\n") != std::string::npos) {
    error = "the URL's path contains a space or a line break";
    return std::nullopt;
  }
  return u;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::uint64_t factor = 1000;
  if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
    factor = 1;
    text.remove_suffix(2);
  } else if (text.size() > 1 && text.back() == 's') {
    text.remove_suffix(1);
  }
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if (n > 86'400'000 / factor) return std::nullopt;
  return std::chrono::milliseconds{static_cast<std::int64_t>(n * factor)};
}

// ------------------------------------------------------------------ CPU time

namespace {

cpu_use own_cpu() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return {};
  auto us = [](const timeval& t) {
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(t.tv_usec);
  };
  return {true, us(u.ru_utime), us(u.ru_stime)};
}

/// utime and stime (fields 14 and 15) of /proc/PID/stat, every thread of the process.
cpu_use process_cpu(int pid) {
  if (pid <= 0) return {};
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  const std::size_t paren = line.rfind(')');  // the command name may hold spaces and parens
  if (paren == std::string::npos) return {};
  std::istringstream fields(line.substr(paren + 1));
  std::string field;
  std::uint64_t utime = 0;
  std::uint64_t stime = 0;
  for (int i = 3; i <= 15 && (fields >> field); ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  if (ticks <= 0) return {};
  const auto per_tick = 1'000'000 / static_cast<std::uint64_t>(ticks);
  return {true, utime * per_tick, stime * per_tick};
}

/// The first line of /proc/stat: every core's time, in ticks, by kind.
cpu_use machine_cpu() {
  std::ifstream in("/proc/stat");
  std::string label;
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
  std::uint64_t steal = 0;
  if (!(in >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) ||
      label != "cpu") {
    return {};
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  if (ticks <= 0) return {};
  const auto per_tick = 1'000'000 / static_cast<std::uint64_t>(ticks);
  return {true, (user + nice) * per_tick, (system + irq + softirq) * per_tick, steal * per_tick};
}

cpu_use difference(const cpu_use& before, const cpu_use& after) {
  if (!before.known || !after.known) return {};
  return {true, after.user_us - before.user_us, after.system_us - before.system_us,
          after.steal_us - before.steal_us};
}

// ------------------------------------------------------------------ the run

constexpr auto nothrow = net::as_tuple(net::use_awaitable);
constexpr std::uint64_t nanos_per_second = 1'000'000'000;

std::uint64_t micros(clock_type::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}

enum class failure : std::uint8_t { connection, protocol, timeout, unsent };

/// A Beast body that counts the answer's bytes and keeps none of them: at 10,000 answers/s of
/// tens of kilobytes, copying every body into a string would make the client the bottleneck.
struct discard_body {
  using value_type = std::uint64_t;

  class reader {
   public:
    template <bool is_request, class Fields>
    reader(http::header<is_request, Fields>& /*header*/, value_type& bytes) : bytes_(bytes) {}
    void init(const boost::optional<std::uint64_t>& /*length*/, beast::error_code& ec) {
      bytes_ = 0;
      ec = {};
    }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      const std::size_t n = net::buffer_size(buffers);
      bytes_ += n;
      ec = {};
      return n;
    }
    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& bytes_;
  };
};

struct state {
  state(const options& opts, outcome& result) : o(opts), out(result) {}

  const options& o;
  outcome& out;
  tcp::resolver::results_type endpoints;
  std::vector<std::string> requests;  // one fully serialized request per body
  clock_type::time_point t0;
  std::uint64_t next = 0;            // the next request index to claim
  std::uint64_t first_measured = 0;  // the first index due at or after t0 + warmup
  std::uint64_t end = 0;             // one past the last index due before warmup + duration
  clock_type::time_point last_answer;
  cpu_use client_before;
  cpu_use server_before;
  cpu_use machine_before;
  clock_type::time_point cpu_start;

  /// Nanoseconds from t0 to request i's intended send time, exact for rates up to 10^9/s.
  [[nodiscard]] std::uint64_t offset_ns(std::uint64_t i) const {
    return i / o.rate * nanos_per_second + i % o.rate * nanos_per_second / o.rate;
  }
  [[nodiscard]] clock_type::time_point due(std::uint64_t i) const {
    return t0 + std::chrono::nanoseconds{static_cast<std::int64_t>(offset_ns(i))};
  }
  [[nodiscard]] bool measured(std::uint64_t i) const { return i >= first_measured; }
  outcome::second& second_of(std::uint64_t i) {
    const std::uint64_t warmup_ns = static_cast<std::uint64_t>(o.warmup.count()) * 1'000'000;
    const std::uint64_t k = (offset_ns(i) - warmup_ns) / nanos_per_second;
    return out.seconds[std::min<std::size_t>(k, out.seconds.size() - 1)];
  }

  void answered(std::uint64_t i, unsigned status, clock_type::time_point sent,
                clock_type::time_point done, std::size_t bytes) {
    const bool good = status >= 200 && status < 300;
    if (good) {
      ++out.all_ok;
    } else {
      ++out.all_errors;
    }
    if (!measured(i)) return;
    const clock_type::time_point intended = due(i);
    const std::uint64_t latency = micros(done - intended);
    ++out.answered;
    out.bytes_received += bytes;
    out.latency.record(latency);
    out.service.record(micros(done - sent));
    last_answer = std::max(last_answer, done);
    outcome::second& sec = second_of(i);
    sec.max_us = std::max(sec.max_us, latency);
    if (good) {
      ++out.ok;
      ++sec.ok;
    } else {
      ++out.non_2xx;
      ++out.by_status[status];
      ++sec.errors;
    }
  }

  void failed(std::uint64_t i, failure kind, const std::string& reason) {
    ++out.all_errors;
    if (!measured(i)) return;
    ++second_of(i).errors;
    switch (kind) {
      case failure::connection:
        ++out.connection_errors;
        ++out.connection_errors_by_reason[reason];
        break;
      case failure::protocol:
        ++out.protocol_errors;
        break;
      case failure::timeout:
        ++out.timeouts;
        break;
      case failure::unsent:
        ++out.unsent;
        break;
    }
  }
};

void rethrow(const std::exception_ptr& e) {
  if (e) std::rethrow_exception(e);
}

void set_no_delay(beast::tcp_stream& stream) {
  beast::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
}

net::awaitable<void> open(beast::tcp_stream& stream, const tcp::resolver::results_type& endpoints,
                          std::chrono::milliseconds timeout, beast::error_code& ec) {
  stream.expires_after(timeout);
  auto [e, endpoint] = co_await stream.async_connect(endpoints, nothrow);
  ec = e;
  if (!ec) set_no_delay(stream);
}

/// One keep-alive connection: claims the next request of the schedule, sleeps until it is due
/// (never sends early), sends it, waits for the whole answer, and claims again. While every
/// connection is busy, due requests wait unclaimed, and that wait is part of their latency.
net::awaitable<void> connection(state& s, beast::tcp_stream stream) {
  net::steady_timer timer(co_await net::this_coro::executor);
  // Beast reads at most the buffer's free capacity at a time (512 bytes when it is empty): a
  // large buffer makes one read per 64 KiB of answer instead of one per 512 bytes.
  beast::flat_buffer buffer;
  buffer.reserve(256U << 10U);
  bool connected = stream.socket().is_open();
  const auto close = [&] {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    buffer.clear();
    connected = false;
  };
  while (s.next < s.end) {
    const std::uint64_t i = s.next++;
    const clock_type::time_point intended = s.due(i);
    if (clock_type::now() < intended) {
      timer.expires_at(intended);
      co_await timer.async_wait(nothrow);
    }
    const clock_type::time_point sent = clock_type::now();
    if (sent - intended > s.o.timeout) {
      s.failed(i, failure::unsent, "");
      continue;
    }
    if (s.measured(i)) s.out.send_lag.record(micros(sent - intended));
    if (!connected) {
      beast::error_code ec;
      co_await open(stream, s.endpoints, s.o.timeout, ec);
      if (ec) {
        s.failed(i, failure::connection, "connect: " + ec.message());
        close();
        continue;
      }
      connected = true;
    }
    const std::string& request = s.requests[i % s.requests.size()];
    stream.expires_after(s.o.timeout);  // covers the write and the whole answer
    ++s.out.all_sent;
    auto [write_error, written] = co_await net::async_write(stream, net::buffer(request), nothrow);
    if (write_error) {
      s.failed(i, write_error == beast::error::timeout ? failure::timeout : failure::connection,
               "write: " + write_error.message());
      close();
      continue;
    }
    http::response_parser<discard_body> parser;
    parser.body_limit(64U << 20U);
    auto [read_error, read] = co_await http::async_read(stream, buffer, parser, nothrow);
    const clock_type::time_point done = clock_type::now();
    if (read_error) {
      if (read_error == beast::error::timeout) {
        s.failed(i, failure::timeout, "");
      } else if (read_error.category() ==
                     http::make_error_code(http::error::end_of_stream).category() &&
                 read_error != http::error::end_of_stream &&
                 read_error != http::error::partial_message) {
        s.failed(i, failure::protocol, "");
      } else {
        s.failed(i, failure::connection, "read: " + read_error.message());
      }
      close();
      continue;
    }
    s.answered(i, parser.get().result_int(), sent, done, read);
    if (!parser.get().keep_alive()) close();
  }
  if (connected) close();
}

/// Snapshots the CPU clocks when the measured window opens.
net::awaitable<void> open_window(state& s) {
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_at(s.t0 + s.o.warmup);
  co_await timer.async_wait(nothrow);
  s.cpu_start = clock_type::now();
  s.client_before = own_cpu();
  s.server_before = process_cpu(s.o.server_pid);
  s.machine_before = machine_cpu();
}

std::string serialize(const options& o, const std::string& body) {
  std::string r;
  r.reserve(body.size() + 256);
  r += o.method;
  r += ' ';
  r += o.target.target;
  r += " HTTP/1.1\r\nHost: ";
  r += o.target.host.find(':') == std::string::npos ? o.target.host : "[" + o.target.host + "]";
  if (o.target.port != "80") r += ":" + o.target.port;
  r += "\r\nUser-Agent: dalil-loadgen\r\nAccept: application/json\r\n";
  for (const auto& [name, value] : o.headers) {
    r += name;
    r += ": ";
    r += value;
    r += "\r\n";
  }
  if (o.method == "GET") return r + "\r\n";  // a GET carries no body
  r += "Content-Type: ";
  r += o.content_type;
  r += "\r\nContent-Length: ";
  r += std::to_string(body.size());
  r += "\r\n\r\n";
  r += body;
  return r;
}

}  // namespace

std::optional<outcome> run(const options& o, std::string& error) {
  if (o.rate == 0 || o.rate > 10'000'000) {
    error = "the rate must be from 1 to 10,000,000 requests per second";
    return std::nullopt;
  }
  if (o.duration.count() <= 0) {
    error = "the duration must be positive";
    return std::nullopt;
  }
  if (o.connections == 0 || o.connections > 10'000) {
    error = "the number of connections must be from 1 to 10,000";
    return std::nullopt;
  }
  if (o.bodies.empty()) {
    error = "no request body to send";
    return std::nullopt;
  }
  // The kernel's default 50 µs timer slack would delay each send: this client wants its wake-ups
  // on time (the request's lateness is charged to the server's latency).
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  outcome out;
  state s(o, out);
  s.requests.reserve(o.bodies.size());
  for (const std::string& body : o.bodies) s.requests.push_back(serialize(o, body));

  // The request indices due in [warmup, warmup + duration): i / rate >= warmup, rounded up.
  const auto ceil_div = [](std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; };
  s.first_measured = ceil_div(o.rate * static_cast<std::uint64_t>(o.warmup.count()), 1000);
  s.end = ceil_div(o.rate * static_cast<std::uint64_t>((o.warmup + o.duration).count()), 1000);
  out.scheduled = s.end - s.first_measured;
  out.seconds.resize(ceil_div(static_cast<std::uint64_t>(o.duration.count()), 1000));

  net::io_context ioc{1};
  beast::error_code ec;
  tcp::resolver resolver(ioc);
  s.endpoints = resolver.resolve(o.target.host, o.target.port, ec);
  if (ec) {
    error = "cannot resolve " + o.target.host + ": " + ec.message();
    return std::nullopt;
  }

  // Every connection is opened before the clock starts, so the first requests do not pay it.
  std::vector<beast::tcp_stream> streams;
  streams.reserve(o.connections);
  std::vector<beast::error_code> opened(o.connections);
  for (unsigned c = 0; c < o.connections; ++c) streams.emplace_back(ioc);
  for (unsigned c = 0; c < o.connections; ++c) {
    net::co_spawn(ioc, open(streams[c], s.endpoints, o.timeout, opened[c]), rethrow);
  }
  ioc.run();
  const auto bad = std::find_if(opened.begin(), opened.end(), [](auto& e) { return !!e; });
  if (bad != opened.end()) {
    error =
        "cannot connect to " + o.target.host + ":" + o.target.port + ": " + bad->message() + " (" +
        std::to_string(std::count_if(opened.begin(), opened.end(), [](auto& e) { return !!e; })) +
        " of " + std::to_string(o.connections) + " connections failed)";
    return std::nullopt;
  }
  ioc.restart();

  s.t0 = clock_type::now();
  out.t0 = s.t0;
  s.last_answer = s.t0 + o.warmup;
  net::co_spawn(ioc, open_window(s), rethrow);
  for (beast::tcp_stream& stream : streams) {
    net::co_spawn(ioc, connection(s, std::move(stream)), rethrow);
  }
  if (o.busy_poll) {
    // Never sleep in epoll_wait: a sleeping CPU wakes tens of µs late (a virtual machine's
    // timer and wake-up interrupts), and that delay would be charged to the server.
    while (!ioc.stopped()) ioc.poll();
  } else {
    ioc.run();
  }

  const clock_type::time_point stop = clock_type::now();
  out.client_cpu = difference(s.client_before, own_cpu());
  out.server_cpu = difference(s.server_before, process_cpu(o.server_pid));
  out.machine_cpu = difference(s.machine_before, machine_cpu());
  out.cpu_wall = stop - s.cpu_start;
  out.span = s.last_answer - (s.t0 + o.warmup);
  return out;
}

// ------------------------------------------------------------------ reports

namespace {

std::string json_string(std::string_view s) {
  std::string r = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      r += '\\';
      r += c;
    } else if (u < 0x20) {
      std::array<char, 8> hex{};
      std::snprintf(hex.data(), hex.size(), "\\u%04x", u);
      r += hex.data();
    } else {
      r += c;
    }
  }
  return r + "\"";
}

std::string fixed(double v, int places) {
  std::array<char, 64> b{};
  std::snprintf(b.data(), b.size(), "%.*f", places, v);
  return b.data();
}

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

double achieved_rate(const outcome& r) {
  return r.span.count() > 0 ? static_cast<double>(r.answered) / seconds(r.span) : 0.0;
}

double percent_of_core(const cpu_use& c, std::chrono::nanoseconds wall) {
  if (!c.known || wall.count() <= 0) return 0.0;
  return 100.0 * static_cast<double>(c.user_us + c.system_us) / 1e6 / seconds(wall);
}

struct quantile {
  const char* name;
  std::uint64_t per_million;
};
constexpr std::array<quantile, 5> quantiles{{{"p50", 500'000},
                                             {"p90", 900'000},
                                             {"p99", 990'000},
                                             {"p99_9", 999'000},
                                             {"p99_99", 999'900}}};

std::string histogram_json(const histogram& h) {
  std::string r = "{\"count\":" + std::to_string(h.count()) + ",\"min\":" + std::to_string(h.min());
  for (const quantile& q : quantiles) {
    r += ",\"" + std::string(q.name) + "\":" + std::to_string(h.percentile(q.per_million));
  }
  r += ",\"max\":" + std::to_string(h.max()) + ",\"mean\":" + std::to_string(h.mean());
  r += ",\"saturated\":" + std::to_string(h.saturated()) + "}";
  return r;
}

std::string cpu_json(const cpu_use& c, std::chrono::nanoseconds wall) {
  if (!c.known) return "null";
  return "{\"user_s\":" + fixed(static_cast<double>(c.user_us) / 1e6, 3) +
         ",\"system_s\":" + fixed(static_cast<double>(c.system_us) / 1e6, 3) +
         ",\"steal_s\":" + fixed(static_cast<double>(c.steal_us) / 1e6, 3) +
         ",\"wall_s\":" + fixed(seconds(wall), 3) +
         ",\"percent_of_core\":" + fixed(percent_of_core(c, wall), 1) + "}";
}

/// What neither the client nor the server used: other processes (a build) competing for cores.
double others_percent(const outcome& r) {
  if (!r.machine_cpu.known || !r.client_cpu.known) return 0.0;
  const double rest = percent_of_core(r.machine_cpu, r.cpu_wall) -
                      percent_of_core(r.client_cpu, r.cpu_wall) -
                      percent_of_core(r.server_cpu, r.cpu_wall);
  return std::max(rest, 0.0);
}

std::string histogram_line(const char* label, const histogram& h) {
  std::string r = label;
  for (const quantile& q : quantiles) {
    std::string name = q.name;
    std::replace(name.begin(), name.end(), '_', '.');
    r += "  " + name + " " + std::to_string(h.percentile(q.per_million));
  }
  r += "  max " + std::to_string(h.max()) + "  mean " + std::to_string(h.mean());
  return r + "\n";
}

}  // namespace

std::string to_json(const options& o, const outcome& r) {
  std::string j = "{";
  j += "\"url\":" + json_string("http://" + o.target.host + ":" + o.target.port + o.target.target);
  j += ",\"method\":" + json_string(o.method);
  j += ",\"rate\":" + std::to_string(o.rate);
  j += ",\"duration_ms\":" + std::to_string(o.duration.count());
  j += ",\"warmup_ms\":" + std::to_string(o.warmup.count());
  j += ",\"timeout_ms\":" + std::to_string(o.timeout.count());
  j += ",\"connections\":" + std::to_string(o.connections);
  j += std::string(",\"busy_poll\":") + (o.busy_poll ? "true" : "false");
  j += ",\"bodies\":" + std::to_string(o.bodies.size());
  j += ",\"scheduled\":" + std::to_string(r.scheduled);
  j += ",\"answered\":" + std::to_string(r.answered);
  j += ",\"ok\":" + std::to_string(r.ok);
  j += ",\"errors\":{\"total\":" + std::to_string(r.errors());
  j += ",\"non_2xx\":" + std::to_string(r.non_2xx) + ",\"by_status\":{";
  bool first = true;
  for (const auto& [status, n] : r.by_status) {
    j += (first ? "\"" : ",\"") + std::to_string(status) + "\":" + std::to_string(n);
    first = false;
  }
  j += "},\"connection\":" + std::to_string(r.connection_errors) + ",\"connection_reasons\":{";
  first = true;
  for (const auto& [reason, n] : r.connection_errors_by_reason) {
    j += (first ? "" : ",") + json_string(reason) + ":" + std::to_string(n);
    first = false;
  }
  j += "},\"protocol\":" + std::to_string(r.protocol_errors);
  j += ",\"timeouts\":" + std::to_string(r.timeouts);
  j += ",\"unsent\":" + std::to_string(r.unsent) + "}";
  j += ",\"achieved_rate\":" + fixed(achieved_rate(r), 1);
  j += ",\"span_s\":" + fixed(seconds(r.span), 3);
  j += ",\"latency_us\":" + histogram_json(r.latency);
  j += ",\"service_us\":" + histogram_json(r.service);
  j += ",\"send_lag_us\":" + histogram_json(r.send_lag);
  j += ",\"bytes_received\":" + std::to_string(r.bytes_received);
  j += ",\"all_phases\":{\"sent\":" + std::to_string(r.all_sent) +
       ",\"ok\":" + std::to_string(r.all_ok) + ",\"errors\":" + std::to_string(r.all_errors) + "}";
  j += ",\"client_cpu\":" + cpu_json(r.client_cpu, r.cpu_wall);
  j += ",\"server_cpu\":" + cpu_json(r.server_cpu, r.cpu_wall);
  j += ",\"machine_cpu\":" + cpu_json(r.machine_cpu, r.cpu_wall);
  j += ",\"others_cpu_percent\":" + fixed(others_percent(r), 1);
  j += ",\"per_second\":[";
  for (std::size_t k = 0; k < r.seconds.size(); ++k) {
    const outcome::second& s = r.seconds[k];
    j += (k == 0 ? "" : ",");
    j += "{\"ok\":" + std::to_string(s.ok) + ",\"errors\":" + std::to_string(s.errors) +
         ",\"max_us\":" + std::to_string(s.max_us) + "}";
  }
  j += "]}";
  return j;
}

std::string to_summary(const options& o, const outcome& r) {
  std::string t;
  const auto add = [&t](const char* key, const std::string& value) {
    t += (t.empty() ? "" : " ") + std::string(key) + "=" + value;
  };
  const auto n = [](std::uint64_t v) { return std::to_string(v); };
  const auto cpu = [&r](const cpu_use& c) {
    return c.known ? fixed(percent_of_core(c, r.cpu_wall), 1) : std::string("-1");
  };
  add("rate", n(o.rate));
  add("scheduled", n(r.scheduled));
  add("answered", n(r.answered));
  add("ok", n(r.ok));
  add("errors", n(r.errors()));
  add("non_2xx", n(r.non_2xx));
  add("connection", n(r.connection_errors));
  add("protocol", n(r.protocol_errors));
  add("timeouts", n(r.timeouts));
  add("unsent", n(r.unsent));
  add("all_ok", n(r.all_ok));
  add("all_errors", n(r.all_errors));
  add("achieved", fixed(achieved_rate(r), 1));
  for (const quantile& q : quantiles) add(q.name, n(r.latency.percentile(q.per_million)));
  add("max", n(r.latency.max()));
  add("mean", n(r.latency.mean()));
  add("service_p50", n(r.service.percentile(500'000)));
  add("service_p99", n(r.service.percentile(990'000)));
  add("lag_p99", n(r.send_lag.percentile(990'000)));
  add("bytes_per_answer", n(r.answered == 0 ? 0 : r.bytes_received / r.answered));
  add("client_cpu", cpu(r.client_cpu));
  add("server_cpu", cpu(r.server_cpu));
  const auto per_answer = [&r, &n](const cpu_use& c) {
    return c.known && r.answered > 0 ? n((c.user_us + c.system_us) / r.answered)
                                     : std::string("-1");
  };
  add("client_us_per_answer", per_answer(r.client_cpu));
  add("server_us_per_answer", per_answer(r.server_cpu));
  add("machine_cpu", cpu(r.machine_cpu));
  add("others_cpu", r.machine_cpu.known ? fixed(others_percent(r), 1) : std::string("-1"));
  return t;
}

std::string to_text(const options& o, const outcome& r) {
  std::string t;
  t += o.method + " http://" + o.target.host + ":" + o.target.port + o.target.target + " at " +
       std::to_string(o.rate) + " req/s for " +
       fixed(static_cast<double>(o.duration.count()) / 1e3, 1) + " s (warmup " +
       fixed(static_cast<double>(o.warmup.count()) / 1e3, 1) + " s), " +
       std::to_string(o.connections) + " connections, " + std::to_string(o.bodies.size()) +
       " bodies\n";
  t += "requests  " + std::to_string(r.scheduled) + " scheduled, " + std::to_string(r.answered) +
       " answered, " + std::to_string(r.ok) + " 2xx; errors: " + std::to_string(r.non_2xx) +
       " non-2xx";
  for (const auto& [status, n] : r.by_status) {
    t += " (" + std::to_string(status) + ": " + std::to_string(n) + ")";
  }
  t += ", " + std::to_string(r.connection_errors) + " connection, " +
       std::to_string(r.protocol_errors) + " protocol, " + std::to_string(r.timeouts) +
       " timeouts, " + std::to_string(r.unsent) + " unsent\n";
  for (const auto& [reason, n] : r.connection_errors_by_reason) {
    t += "          connection error \"" + reason + "\": " + std::to_string(n) + "\n";
  }
  t += "rate      " + fixed(achieved_rate(r), 1) + " answers/s over " + fixed(seconds(r.span), 3) +
       " s; " + std::to_string(r.bytes_received) + " bytes received\n";
  t += histogram_line("latency µs (from intended send)", r.latency);
  t += histogram_line("service µs (from actual send)  ", r.service);
  t += histogram_line("send lag µs (queue + client)   ", r.send_lag);
  if (r.latency.saturated() > 0) {
    t += "          " + std::to_string(r.latency.saturated()) +
         " latencies above the histogram's 60 s were counted at 60 s\n";
  }
  const auto cpu_line = [&](const char* who, const cpu_use& c) {
    if (!c.known) return;
    t += std::string(who) + fixed(percent_of_core(c, r.cpu_wall), 1) + "% of a core (user " +
         fixed(static_cast<double>(c.user_us) / 1e6, 2) + " s, system " +
         fixed(static_cast<double>(c.system_us) / 1e6, 2) + " s over " +
         fixed(seconds(r.cpu_wall), 2) + " s";
    if (r.answered > 0) {
      t += "; " + std::to_string((c.user_us + c.system_us) / r.answered) + " µs per answer";
    }
    t += ")\n";
  };
  cpu_line("client CPU ", r.client_cpu);
  cpu_line("server CPU ", r.server_cpu);
  if (r.machine_cpu.known) {
    t += "machine    " + fixed(percent_of_core(r.machine_cpu, r.cpu_wall), 1) +
         "% of a core busy in all, " + fixed(others_percent(r), 1) +
         "% by other processes, steal " +
         fixed(100.0 * static_cast<double>(r.machine_cpu.steal_us) / 1e6 / seconds(r.cpu_wall), 1) +
         "%\n";
  }
  return t;
}

}  // namespace dalil::bench
