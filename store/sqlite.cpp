// RAII wrappers over sqlite3 and sqlite3_stmt.
#include "store/sqlite.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "store/fault_vfs.hpp"

namespace dalil::store {

namespace {

/// SQLite's process-wide settings, once, before its first connection: no memory statistics
/// (SQLite then counts every allocation and free under one process-wide mutex; nothing here
/// reads the counts). Too late when something opened a connection first: then as it was.
void configure_sqlite() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

errc errc_of(int sqlite_code) {
  switch (sqlite_code & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return errc::damaged;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return errc::busy;
    case SQLITE_READONLY:
      return errc::refused;
    case SQLITE_CONSTRAINT:
      return errc::conflict;
    default:
      return errc::failed;
  }
}

error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string m(what);
  m += ": ";
  m += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  // The OS's reason behind an I/O error (a full disk, a file-size limit: EFBIG) says what to do.
  // SQLite keeps errno as it was when it recorded the error, which later calls may have
  // changed: under a file-size limit, that limit is named whatever errno says.
  int primary = rc & 0xff;
  if (primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN) {
    int sys = db != nullptr ? sqlite3_system_errno(db) : 0;
    rlimit limit{};
    bool capped = primary != SQLITE_CANTOPEN && ::getrlimit(RLIMIT_FSIZE, &limit) == 0 &&
                  limit.rlim_cur != RLIM_INFINITY;
    if (capped) {
      m += " (";
      m += std::strerror(EFBIG);
      m += ": the file-size limit, ulimit -f, is " + std::to_string(limit.rlim_cur) +
           " bytes; the store cannot grow past it)";
    } else if (sys != 0) {
      m += " (";
      m += std::strerror(sys);
      m += ")";
    }
  }
  errc code = errc_of(rc);
  if (code == errc::damaged) m += ": the store file is damaged (run `dalil audit verify`)";
  return fail(code, std::move(m));
}

statement::statement(sqlite3* db, std::string_view sql, std::string& error) {
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) !=
      SQLITE_OK) {
    error = std::string(sqlite3_errmsg(db)) + " in: " + std::string(sql.substr(0, 120));
    stmt_ = nullptr;
  }
}

statement::~statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

statement& statement::operator=(statement&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

statement& statement::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

statement& statement::bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

statement& statement::bind_static(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}

statement& statement::bind_static(int i, const engine::digest& d) {
  sqlite3_bind_blob(stmt_, i, d.bytes.data(), static_cast<int>(d.bytes.size()), SQLITE_STATIC);
  return *this;
}

engine::digest statement::digest(int col) const {
  engine::digest d;
  const void* p = sqlite3_column_blob(stmt_, col);
  if (p != nullptr && sqlite3_column_bytes(stmt_, col) == static_cast<int>(d.bytes.size())) {
    std::memcpy(d.bytes.data(), p, d.bytes.size());
  }
  return d;
}

statement& statement::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

int statement::step() {
  return sqlite3_step(stmt_);
}

result<bool> statement::next(std::string_view what) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  error e = sqlite_error(sqlite3_db_handle(stmt_), rc, what);
  sqlite3_reset(stmt_);
  return e;
}

status statement::run(std::string_view what) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
    sqlite3_reset(stmt_);
    return {};
  }
  error e = sqlite_error(sqlite3_db_handle(stmt_), rc, what);
  sqlite3_reset(stmt_);
  return e;
}

void statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string_view statement::text_view(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return {reinterpret_cast<const char*>(p),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
}

std::string_view statement::blob_view(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  if (p == nullptr) return {};
  return {static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
}

statement& statement::bind_blob(int i, std::string_view v) {
  sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

statement& statement::bind_static_blob(int i, std::string_view v) {
  sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}

std::string statement::text(int col) const {
  return std::string(text_view(col));
}

database::~database() {
  if (db_) sqlite3_close(db_);
}

bool database::open(const std::string& path, std::string& error) {
  configure_sqlite();
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      detail::fault_vfs_name()) != SQLITE_OK) {
    error = "cannot open " + path + ": " + message();
    return false;
  }
  sqlite3_busy_timeout(db_, 10000);
  sqlite3_extended_result_codes(db_, 1);  // SQLITE_IOERR_WRITE, not a bare I/O error
  // 16 KiB pages: decision sets are a few hundred bytes each, and larger pages mean fewer page
  // writes per chunk. Takes effect only when the file is created.
  if (!exec("PRAGMA page_size=16384;", error)) return false;
  // WAL with synchronous=NORMAL: a commit survives a crash of the process (kill -9); a power
  // loss may lose the last commits but never corrupts the file. A 32 MiB page cache per
  // connection keeps large imports and batches off most read/write system calls.
  return exec(
      "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"
      "PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;",
      error);
}

bool database::open_read_only(const std::string& path, std::string& error) {
  configure_sqlite();
  auto try_open = [&](const std::string& name, int extra) {
    if (db_ != nullptr) {
      sqlite3_close(db_);
      db_ = nullptr;
    }
    int rc =
        sqlite3_open_v2(name.c_str(), &db_, SQLITE_OPEN_READONLY | extra, detail::fault_vfs_name());
    if (rc != SQLITE_OK) return rc;
    sqlite3_busy_timeout(db_, 10000);
    // The first read finds out whether the file can be read as it is (a WAL store needs its
    // -shm file, which a read-only directory cannot hold).
    char* msg = nullptr;
    rc = sqlite3_exec(db_, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, &msg);
    sqlite3_free(msg);
    return rc;
  };
  if (::access(path.c_str(), F_OK) != 0) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  int rc = try_open(path, 0);
  if (rc == SQLITE_OK) return true;
  // Immutable: SQLite reads the file without locks or a -shm file (an auditor's read-only copy).
  std::string uri = "file:";
  for (char c : path) {
    if (c == '?' || c == '#' || c == '%') {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      uri += hex;
    } else {
      uri += c;
    }
  }
  uri += "?immutable=1";
  rc = try_open(uri, SQLITE_OPEN_URI);
  if (rc == SQLITE_OK) return true;
  error = "cannot open " + path + " for reading: " + message();
  return false;
}

status database::run(std::string_view sql, std::string_view what) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db_, rc, what);
  return {};
}

result<statement> database::make(std::string_view sql, std::string_view what) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db_, rc, what);
  statement s;
  s.adopt(raw);
  return s;
}

bool database::exec(std::string_view sql, std::string& error) {
  char* msg = nullptr;
  std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    error = msg ? msg : "SQLite error";
    sqlite3_free(msg);
    return false;
  }
  return true;
}

result<transaction> transaction::begin(database& db, std::string_view what) {
  if (auto s = db.run("BEGIN IMMEDIATE", what); !s) return s.error();
  transaction t;
  t.db_ = &db;
  return t;
}

status transaction::commit(std::string_view what) {
  if (db_ == nullptr) return fail(errc::failed, std::string(what) + ": no open transaction");
  status s = db_->run("COMMIT", what);
  if (!s) {
    rollback();
    return s;
  }
  db_ = nullptr;
  return {};
}

void transaction::rollback() {
  if (db_ == nullptr) return;
  // A failed COMMIT or statement may already have ended the transaction.
  if (sqlite3_get_autocommit(db_->handle()) == 0) {
    sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  db_ = nullptr;
}

}  // namespace dalil::store
