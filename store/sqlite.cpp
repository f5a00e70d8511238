// RAII wrappers over sqlite3 and sqlite3_stmt.
#include "store/sqlite.hpp"

#include <cstring>

namespace dalil::store {

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

std::string statement::text(int col) const {
  return std::string(text_view(col));
}

database::~database() {
  if (db_) sqlite3_close(db_);
}

bool database::open(const std::string& path, std::string& error) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    error = "cannot open " + path + ": " + message();
    return false;
  }
  sqlite3_busy_timeout(db_, 10000);
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

}  // namespace dalil::store
