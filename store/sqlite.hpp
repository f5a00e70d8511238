// A thin RAII layer over the SQLite C API: connections, prepared statements, transactions.
// Errors are returned as results, with SQLite's message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/sha256.hpp"

namespace dalil::store {

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
  void reset();
  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const;
  /// A blob column as a digest (all zero bytes if it does not hold 32 bytes).
  engine::digest digest(int col) const;
  /// A text column without a copy, valid until the next step or reset.
  std::string_view text_view(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
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
  bool exec(std::string_view sql, std::string& error);
  statement prepare(std::string_view sql, std::string& error) { return statement(db_, sql, error); }
  sqlite3* handle() const { return db_; }
  std::string message() const { return db_ ? sqlite3_errmsg(db_) : "no database"; }
  std::int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace dalil::store
