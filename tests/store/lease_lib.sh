#!/usr/bin/env bash
# Sourced by the lease tests (SQLite and PostgreSQL).
# This process space's identity, as store/lease.hpp names a lease's holder: the machine
# (/etc/machine-id, else the host name), the kernel's boot and the pid namespace.
machine_here() {
  local m ns
  if [ -s /etc/machine-id ]; then m="machine-id:$(tr -d ' \n' < /etc/machine-id)"; else m="host:$(hostname)"; fi
  if [ -r /proc/sys/kernel/random/boot_id ]; then m="$m/boot:$(tr -d ' \n' < /proc/sys/kernel/random/boot_id)"; fi
  ns=$(readlink /proc/self/ns/pid 2>/dev/null | tr -dc 0-9 || true)
  if [ -n "$ns" ]; then m="$m/pid-ns:$ns"; fi
  echo "$m"
}
