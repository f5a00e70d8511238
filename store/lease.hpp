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

/// The first line of a file, without trailing space; empty when unreadable.
inline std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) {
    line.pop_back();
  }
  return line;
}

/// The identity of the process space this process runs in, as a lease records its holder's:
/// a process id means the same process only inside it. /etc/machine-id (systemd's, unique per
/// installation; else the host name) is not enough: containers of one image, and machines cloned
/// from one disk, share it, and a lease of another container whose pid is free here would be
/// taken for a dead holder's and taken over while its batch still runs. So the kernel's boot id
/// (one per boot of a kernel: two hosts never share it) and the pid namespace (containers of one
/// kernel have their own) are part of it: "machine-id:…/boot:…/pid-ns:4026531836". A holder in
/// another space is respected until its lease expires; only one of this space whose process is
/// gone is taken over at once (after a reboot, the old boot's lease waits for its expiry).
inline std::string machine_id() {
  std::string id = first_line("/etc/machine-id");
  std::string out = id.empty() ? "host:" + host_name() : "machine-id:" + id;
  if (std::string boot = first_line("/proc/sys/kernel/random/boot_id"); !boot.empty()) {
    out += "/boot:" + boot;
  }
  char ns[64] = {};
  // "pid:[4026531836]": the namespace's inode number.
  if (ssize_t n = ::readlink("/proc/self/ns/pid", ns, sizeof ns - 1); n > 0) {
    std::string text(ns, static_cast<std::size_t>(n));
    auto open = text.find('[');
    auto close = text.find(']');
    if (open != std::string::npos && close != std::string::npos && close > open + 1) {
      out += "/pid-ns:" + text.substr(open + 1, close - open - 1);
    }
  }
  return out;
}

/// Whether a lease held by `holder` (its machine_id) is this process space's, so that its pid
/// can be checked here. Only with a pid namespace on both sides: without one (no /proc), two
/// containers of one image would look alike, so the holder is respected until its lease
/// expires. A lease written by a dalil before the pid namespace was part of the name is waited
/// out too (a batch or an import on it answers busy, exit 4, until it expires: 60 s at most).
inline bool same_process_space(const std::string& holder, const std::string& here) {
  return holder == here && here.find("/pid-ns:") != std::string::npos;
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
         l.since + ", renewed until " + utc_text(l.expires);
}

}  // namespace dalil::store::detail
