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
#include <fstream>
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

/// This machine's identity, as a lease records its holder's: /etc/machine-id (systemd's, unique
/// per installation), else the host name (two machines may share a host name, never a machine
/// id). Only a lease held on this machine is taken over at once when its process is gone.
inline std::string machine_id() {
  std::ifstream in("/etc/machine-id");
  std::string id;
  if (in && std::getline(in, id)) {
    while (!id.empty() && (id.back() == ' ' || id.back() == '\r' || id.back() == '\t')) {
      id.pop_back();
    }
    if (!id.empty()) return "machine-id:" + id;
  }
  return "host:" + host_name();
}

/// Seconds since the Unix epoch: a lease's expiry.
inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Whether a process of this machine is alive (a lease held by a dead one is taken at once). A
/// zombie is dead: it has exited and runs nothing, only its parent has not collected it (a batch
/// killed under `timeout -s KILL`, whose parent died too, stays one where nothing reaps orphans).
inline bool process_alive(std::int64_t pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  // /proc/PID/stat: "PID (COMMAND) STATE …"; COMMAND may hold spaces and parentheses, the
  // state follows the last ')'.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;  // no /proc: kill's answer stands
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return true;
  const char state = line[close + 2];
  return state != 'Z' && state != 'X';
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

/// A shard as the command line and the messages write it: 2/3.
inline std::string shard_text(const shard_spec& s) {
  return std::to_string(s.index) + "/" + std::to_string(s.count);
}

/// Who holds a lease, for a refusal: run (and shard), process, host, since and until when.
inline std::string held_by(const lease_info& l) {
  std::string shard;
  if (l.shard.count > 1) shard = " shard " + shard_text(l.shard);
  // run_id 0: not a batch but `dalil keys reseal` (store::reseal_keys).
  std::string holder = l.run_id == 0 ? "dalil keys reseal" : "run " + std::to_string(l.run_id);
  return holder + shard + ", pid " + std::to_string(l.pid) + " on " + l.host + ", since " +
         l.since + ", renewed until " + time_text(l.expires);
}

}  // namespace dalil::store::detail
