// A thin RAII layer over the SQLite C API: connections, prepared statements, transactions.
// Errors are returned as results, with SQLite's message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/sha256.hpp"
#include "store/result.hpp"

namespace dalil::store {

/// The kind of failure an SQLite result code is: damage (corrupt page, not a database), busy
/// (locked past the busy timeout), refused (read-only), or failed (I/O, full disk, anything else).
errc errc_of(int sqlite_code);
/// An error for `rc` on `db`: "<what>: <SQLite's message> (<the OS's reason, when there is one>)".
error sqlite_error(sqlite3* db, int rc, std::string_view what);

class statement {
 public:
  statement() = default;
  statement(sqlite3* db, std::string_view sql, std::string& error);
  ~statement();
  statement(statement&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  statement& operator=(statement&& o) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  statement& bind(int i, std::int64_t v);
  statement& bind(int i, std::string_view v);
  /// Bind text, or a digest as a 32-byte blob (hashes are stored as bytes), that stays valid and
  /// unchanged until the statement is reset: SQLite reads it in place.
  statement& bind_static(int i, std::string_view v);
  statement& bind_static(int i, const engine::digest& d);
  statement& bind_null(int i);
  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int step();
  /// The next row: true for a row, false at the end of the data; any other outcome (a damaged
  /// page, an I/O error) is an error, never taken for the end of the data. `what` names the read.
  result<bool> next(std::string_view what);
  /// Runs a statement that returns no row (an INSERT, UPDATE, DELETE) and resets it.
  status run(std::string_view what);
  void reset();
  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const;
  /// A blob column as a digest (all zero bytes if it does not hold 32 bytes).
  engine::digest digest(int col) const;
  /// A text column without a copy, valid until the next step or reset.
  std::string_view text_view(int col) const;
  /// A blob column's bytes without a copy ("" for NULL), valid until the next step or reset.
  std::string_view blob_view(int col) const;
  statement& bind_blob(int i, std::string_view v);
  /// A blob read in place until the statement is reset (as bind_static).
  statement& bind_static_blob(int i, std::string_view v);
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  friend class database;
  void adopt(sqlite3_stmt* s) { stmt_ = s; }
  sqlite3_stmt* stmt_ = nullptr;
};

class database {
 public:
  database() = default;
  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  /// Opens (creating if needed) with WAL, foreign keys and a busy timeout.
  bool open(const std::string& path, std::string& error);
  /// Opens an existing store for reading only (SQLITE_OPEN_READONLY, no migration, no pragma
  /// that writes). A WAL store in a read-only directory is opened immutable (`immutable=1`):
  /// meant for an auditor's copy, which nothing writes while it is read.
  bool open_read_only(const std::string& path, std::string& error);
  bool exec(std::string_view sql, std::string& error);
  /// The same as a status: SQLite's code mapped to errc (errc_of), `what` naming the step.
  status run(std::string_view sql, std::string_view what);
  /// A prepared statement, or the error that prevented it.
  result<statement> make(std::string_view sql, std::string_view what);
  bool read_only() const { return db_ != nullptr && sqlite3_db_readonly(db_, "main") == 1; }
  statement prepare(std::string_view sql, std::string& error) { return statement(db_, sql, error); }
  sqlite3* handle() const { return db_; }
  std::string message() const { return db_ ? sqlite3_errmsg(db_) : "no database"; }
  std::int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  /// Rows the last INSERT, UPDATE or DELETE changed.
  std::int64_t changes() const { return sqlite3_changes64(db_); }

 private:
  sqlite3* db_ = nullptr;
};

/// A write transaction (BEGIN IMMEDIATE) that rolls back unless it was committed: every write
/// path holds one, so that an early return never leaves a transaction open.
class transaction {
 public:
  transaction() = default;
  ~transaction() { rollback(); }
  transaction(transaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  transaction& operator=(transaction&& o) noexcept {
    if (this != &o) {
      rollback();
      db_ = o.db_;
      o.db_ = nullptr;
    }
    return *this;
  }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  /// BEGIN IMMEDIATE (the write lock now, or busy after the busy timeout); `what` names the change.
  static result<transaction> begin(database& db, std::string_view what);
  /// COMMIT; on failure the transaction is rolled back and the error returned.
  status commit(std::string_view what);
  /// ROLLBACK, if still open (errors ignored: the transaction ends either way).
  void rollback();
  bool open() const { return db_ != nullptr; }

 private:
  database* db_ = nullptr;
};

}  // namespace dalil::store
