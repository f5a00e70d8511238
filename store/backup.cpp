// Backup and restore of a SQLite store with SQLite's online backup API: one consistent snapshot,
// taken while writers go on, checked before it is put under its name (docs/operations.md).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace dalil::store {

namespace {

/// A plain connection (no WAL, no pragma that writes), closed on every path.
struct connection {
  sqlite3* db = nullptr;
  connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() {
    if (db != nullptr) sqlite3_close(db);
  }
};

status open_plain(connection& c, const std::string& path, int flags, std::string_view what) {
  int rc = sqlite3_open_v2(path.c_str(), &c.db, flags, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(c.db, rc, what);
  sqlite3_busy_timeout(c.db, 10000);
  sqlite3_extended_result_codes(c.db, 1);
  return {};
}

/// One integer from a query (`what` names the step).
result<std::int64_t> scalar(sqlite3* db, const char* sql, std::string_view what) {
  sqlite3_stmt* q = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &q, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db, rc, what);
  rc = sqlite3_step(q);
  std::int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
  sqlite3_finalize(q);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite_error(db, rc, what);
  return v;
}

/// Checks that `db` is a whole Dalil store this dalil can open, and says what it holds:
/// quick_check, the schema version, the audit log's head.
result<copy_report> check_copy(sqlite3* db, const std::string& name) {
  copy_report r;
  {
    sqlite3_stmt* q = nullptr;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &q, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db, rc, name + ": checking the file");
    std::string first;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(q, 0);
      first = t != nullptr ? reinterpret_cast<const char*>(t) : "";
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite_error(db, rc, name);
    if (first != "ok") {
      return fail(errc::damaged, name + ": the file is damaged (PRAGMA quick_check: " +
                                     first.substr(0, 200) + ")");
    }
  }
  auto tables = scalar(db,
                       "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name IN "
                       "('schema_version','audit')",
                       name + ": reading the schema");
  if (!tables) return tables.error();
  if (*tables != 2) {
    return fail(errc::refused, name + ": not a Dalil store (no schema version or audit log)");
  }
  const std::string schema_sql =
      "SELECT coalesce(max(version), 0) FROM schema_version WHERE "
      "version <> " +
      std::to_string(resealed_schema_mark());
  auto v = scalar(db, schema_sql.c_str(), name + ": reading the schema version");
  if (!v) return v.error();
  r.schema = *v;
  if (r.schema > current_schema_version()) {
    return fail(errc::refused, name + ": the store's schema is version " +
                                   std::to_string(r.schema) + ", newer than this dalil knows (" +
                                   std::to_string(current_schema_version()) +
                                   "): it was written by a newer dalil");
  }
  sqlite3_stmt* q = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", -1, &q,
                              nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db, rc, name + ": reading the audit log's head");
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    r.head.seq = sqlite3_column_int64(q, 0);
    const auto* t = sqlite3_column_text(q, 1);
    r.head.hash = t != nullptr ? reinterpret_cast<const char*>(t) : "";
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return sqlite_error(db, rc, name + ": reading the audit log's head");
  }
  auto pages = scalar(db, "PRAGMA page_count", name);
  auto size = scalar(db, "PRAGMA page_size", name);
  if (pages && size) r.bytes = *pages * *size;
  return r;
}

/// Runs the whole backup in one step: one read transaction on `src`, so the copy is one
/// snapshot (a step per batch of pages would restart whenever a writer commits).
status copy_all(sqlite3* dst, sqlite3* src, std::string_view what) {
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
  if (b == nullptr) return sqlite_error(dst, sqlite3_errcode(dst), what);
  int rc = SQLITE_OK;
  // A writer's commit (WAL) never blocks the read; a lock held in rollback mode or on the target
  // may: retry for the same 10 s as every other wait of the store.
  for (int tries = 0; tries < 100; ++tries) {
    rc = sqlite3_backup_step(b, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    sqlite3_sleep(100);
  }
  int fin = sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) {
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
      return fail(errc::busy,
                  std::string(what) + ": another process held the store's lock for more than 10 s");
    }
    return sqlite_error(dst, rc, what);
  }
  if (fin != SQLITE_OK) return sqlite_error(dst, fin, what);
  return {};
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

status sync_file(const std::string& path, std::string_view what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    int e = errno;
    if (fd >= 0) ::close(fd);
    return fail(errc::failed, std::string(what) + ": " + std::strerror(e));
  }
  ::close(fd);
  return {};
}

}  // namespace

result<copy_report> backup_sqlite(const std::string& path, const std::string& out) {
  std::string what = "backing up " + path + " to " + out;
  if (exists(out)) {
    return fail(errc::refused, out +
                                   " exists: a backup never overwrites a file (choose a new "
                                   "name, or remove the old backup first)");
  }
  if (!exists(path)) return fail(errc::not_found, path + ": no such store");
  database src;
  std::string error;
  if (!src.open_read_only(path, error)) return fail(errc::failed, error);
  if (auto c = check_copy(src.handle(), path); !c) return c.error();
  std::string partial = out + ".partial-" + std::to_string(::getpid());
  std::remove(partial.c_str());
  struct remove_partial {
    const std::string& p;
    ~remove_partial() { std::remove(p.c_str()); }
  } guard{partial};
  result<copy_report> report = copy_report{};
  {
    connection dst;
    if (auto s = open_plain(dst, partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, what); !s) {
      return s.error();
    }
    if (auto s = copy_all(dst.db, src.handle(), what); !s) return s.error();
    // A single self-contained file: the source's WAL flag is copied with its header.
    char* msg = nullptr;
    int rc = sqlite3_exec(dst.db, "PRAGMA journal_mode=DELETE", nullptr, nullptr, &msg);
    sqlite3_free(msg);
    if (rc != SQLITE_OK) return sqlite_error(dst.db, rc, what);
    report = check_copy(dst.db, out);
    if (!report) return report.error();
  }
  if (auto s = sync_file(partial, what); !s) return s.error();
  // link() never replaces: a file that appeared under `out` meanwhile is kept, and refused.
  if (::link(partial.c_str(), out.c_str()) != 0) {
    int e = errno;
    if (e == EEXIST) return fail(errc::refused, out + " appeared during the backup: not replaced");
    return fail(errc::failed, what + ": " + std::strerror(e));
  }
  return report;
}

result<copy_report> restore_sqlite(const std::string& from, const std::string& path, bool force) {
  std::string what = "restoring " + path + " from " + from;
  struct stat a {};
  struct stat b {};
  if (::stat(from.c_str(), &a) != 0) {
    return fail(errc::not_found, from + ": no such backup (" + std::strerror(errno) + ")");
  }
  bool target_exists = ::stat(path.c_str(), &b) == 0;
  if (target_exists && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
    return fail(errc::refused, from + " and " + path + " are the same file");
  }
  if (target_exists && !force) {
    return fail(errc::refused, path +
                                   " exists: restoring would replace it (give --force to "
                                   "replace it, or restore to a new file)");
  }
  database src;
  std::string error;
  if (!src.open_read_only(from, error)) return fail(errc::failed, error);
  auto checked = check_copy(src.handle(), from);
  if (!checked) return checked.error();
  if (target_exists) {
    // A batch writing the target would lose its run: refused while its lease is live.
    if (auto current = open_sqlite(path, open_mode::read_only); current) {
      if (auto l = (*current)->lease(); l) {
        return fail(errc::busy, path + ": a batch holds the store's lease (run " +
                                    std::to_string(l->run_id) + ", pid " + std::to_string(l->pid) +
                                    " on " + l->host +
                                    "): restore once it has finished or stopped");
      }
    }
  }
  connection dst;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (auto s = open_plain(dst, path, flags, what); !s) return s.error();
  if (auto s = copy_all(dst.db, src.handle(), what); !s) return s.error();
  // The store's own journal mode (database::open sets it again on every open).
  char* msg = nullptr;
  int rc = sqlite3_exec(dst.db, "PRAGMA journal_mode=WAL", nullptr, nullptr, &msg);
  sqlite3_free(msg);
  if (rc != SQLITE_OK) return sqlite_error(dst.db, rc, what);
  return check_copy(dst.db, path);
}

}  // namespace dalil::store
