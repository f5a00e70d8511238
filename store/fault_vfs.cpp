// A test VFS, as SQLite tests itself: it wraps the default VFS and fails the Nth write, sync or
// read of any file of the store (the database, its WAL, its journal) with a full disk or an I/O
// error, once. Enabled by DALIL_FAULT_INJECT=OP:N[:full|ioerr] (OP: write, sync, read) in
// builds with DALIL_FAULT_INJECTION (the default for development and CI builds); it says on
// stderr when it fires, so that a sweep knows when N has gone past the command's last operation.
#include "store/fault_vfs.hpp"

#include <sqlite3.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace dalil::store::detail {

#ifdef DALIL_FAULT_INJECTION

namespace {

enum class op : std::uint8_t { write, sync, read };

struct plan {
  op kind = op::write;
  long n = 0;
  int code = SQLITE_IOERR;
};

plan the_plan;
std::atomic<long> seen{0};
std::atomic<bool> fired{false};
sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs fault_vfs_object{};
sqlite3_io_methods fault_methods{};

struct fault_file {
  sqlite3_file base;
  sqlite3_file* real;  // follows this struct in the same allocation
};

sqlite3_file* real_of(sqlite3_file* f) {
  return reinterpret_cast<fault_file*>(f)->real;
}

/// True when this operation is the one to fail (the Nth of its kind, once).
bool strike(op kind) {
  if (kind != the_plan.kind) return false;
  if (seen.fetch_add(1) + 1 != the_plan.n) return false;
  fired = true;
  const char* names[] = {"write", "sync", "read"};
  std::fprintf(stderr, "dalil: fault injected: %s %ld fails with %s\n",
               names[static_cast<int>(kind)], the_plan.n,
               the_plan.code == SQLITE_FULL ? "SQLITE_FULL" : "SQLITE_IOERR");
  return true;
}

int x_close(sqlite3_file* f) {
  sqlite3_file* r = real_of(f);
  int rc = r->pMethods != nullptr ? r->pMethods->xClose(r) : SQLITE_OK;
  return rc;
}
int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  if (strike(op::read)) return SQLITE_IOERR_READ;
  return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}
int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (strike(op::write)) return the_plan.code == SQLITE_FULL ? SQLITE_FULL : SQLITE_IOERR_WRITE;
  return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
int x_sync(sqlite3_file* f, int flags) {
  if (strike(op::sync)) return SQLITE_IOERR_FSYNC;
  return real_of(f)->pMethods->xSync(real_of(f), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
int x_lock(sqlite3_file* f, int l) {
  return real_of(f)->pMethods->xLock(real_of(f), l);
}
int x_unlock(sqlite3_file* f, int l) {
  return real_of(f)->pMethods->xUnlock(real_of(f), l);
}
int x_check_reserved(sqlite3_file* f, int* out) {
  return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int x_file_control(sqlite3_file* f, int o, void* a) {
  return real_of(f)->pMethods->xFileControl(real_of(f), o, a);
}
int x_sector_size(sqlite3_file* f) {
  return real_of(f)->pMethods->xSectorSize(real_of(f));
}
int x_device(sqlite3_file* f) {
  return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** p) {
  return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, p);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) {
  real_of(f)->pMethods->xShmBarrier(real_of(f));
}
int x_shm_unmap(sqlite3_file* f, int del) {
  return real_of(f)->pMethods->xShmUnmap(real_of(f), del);
}
int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** p) {
  return real_of(f)->pMethods->xFetch(real_of(f), off, n, p);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

int x_open(sqlite3_vfs* /*vfs*/, const char* name, sqlite3_file* f, int flags, int* out) {
  auto* ff = reinterpret_cast<fault_file*>(f);
  ff->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + sizeof(fault_file));
  ff->base.pMethods = nullptr;
  int rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out);
  if (rc == SQLITE_OK && ff->real->pMethods != nullptr) ff->base.pMethods = &fault_methods;
  return rc;
}

std::optional<plan> read_plan(const char* text) {
  std::string_view s(text);
  plan p;
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view what = s.substr(0, colon);
  if (what == "write") {
    p.kind = op::write;
  } else if (what == "sync") {
    p.kind = op::sync;
  } else if (what == "read") {
    p.kind = op::read;
  } else {
    return std::nullopt;
  }
  s.remove_prefix(colon + 1);
  auto end = s.find(':');
  std::string_view number = s.substr(0, end);
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), p.n);
  if (ec != std::errc() || ptr != number.data() + number.size() || p.n < 1) return std::nullopt;
  if (end != std::string_view::npos) {
    std::string_view code = s.substr(end + 1);
    if (code == "full") {
      p.code = SQLITE_FULL;
    } else if (code != "ioerr") {
      return std::nullopt;
    }
  }
  return p;
}

}  // namespace

const char* fault_vfs_name() {
  static std::once_flag once;
  static const char* name = nullptr;
  std::call_once(once, [] {
    const char* env = std::getenv("DALIL_FAULT_INJECT");
    if (env == nullptr || *env == '\0') return;
    auto p = read_plan(env);
    if (!p) {
      std::fprintf(stderr,
                   "dalil: DALIL_FAULT_INJECT must be OP:N[:full|ioerr] with OP write, sync or "
                   "read: ignored\n");
      return;
    }
    the_plan = *p;
    real_vfs = sqlite3_vfs_find(nullptr);
    if (real_vfs == nullptr) return;
    fault_vfs_object = *real_vfs;
    fault_vfs_object.zName = "dalil-fault";
    fault_vfs_object.szOsFile = static_cast<int>(sizeof(fault_file)) + real_vfs->szOsFile;
    fault_vfs_object.xOpen = x_open;
    fault_vfs_object.pNext = nullptr;
    fault_methods.iVersion = 3;
    fault_methods.xClose = x_close;
    fault_methods.xRead = x_read;
    fault_methods.xWrite = x_write;
    fault_methods.xTruncate = x_truncate;
    fault_methods.xSync = x_sync;
    fault_methods.xFileSize = x_file_size;
    fault_methods.xLock = x_lock;
    fault_methods.xUnlock = x_unlock;
    fault_methods.xCheckReservedLock = x_check_reserved;
    fault_methods.xFileControl = x_file_control;
    fault_methods.xSectorSize = x_sector_size;
    fault_methods.xDeviceCharacteristics = x_device;
    fault_methods.xShmMap = x_shm_map;
    fault_methods.xShmLock = x_shm_lock;
    fault_methods.xShmBarrier = x_shm_barrier;
    fault_methods.xShmUnmap = x_shm_unmap;
    fault_methods.xFetch = x_fetch;
    fault_methods.xUnfetch = x_unfetch;
    if (sqlite3_vfs_register(&fault_vfs_object, 0) == SQLITE_OK) name = "dalil-fault";
  });
  return name;
}

#else

const char* fault_vfs_name() {
  return nullptr;
}

#endif

}  // namespace dalil::store::detail
