// The batch's writer lease, as both stores keep it: who holds it (host and process), until when,
// and how a refusal names the holder. Shared by the SQLite and PostgreSQL stores, so that a lease
// and its messages mean the same whatever the database.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <string>

#include "store/store.hpp"

namespace dalil::store::detail {

/// A lease not renewed for this long (seconds) is taken over by another batch.
inline constexpr std::int64_t lease_seconds = 60;

/// This machine's name, as a lease names its holder.
inline std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown-host";
  return buf;
}

/// Seconds since the Unix epoch: a lease's expiry.
inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Whether a process of this machine is alive (a lease held by a dead one is taken at once).
inline bool process_alive(std::int64_t pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

/// A Unix time as UTC text, 2026-12-03T14:05:00Z.
inline std::string time_text(std::int64_t unix_seconds) {
  std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// Who holds a lease, for a refusal: run, process, host, since and until when.
inline std::string held_by(const lease_info& l) {
  return "run " + std::to_string(l.run_id) + ", pid " + std::to_string(l.pid) + " on " + l.host +
         ", since " + l.since + ", renewed until " + time_text(l.expires);
}

}  // namespace dalil::store::detail
