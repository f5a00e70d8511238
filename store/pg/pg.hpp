// A thin RAII layer over libpq: connections, results, parameterised queries, transactions and
// COPY. Failures are results (store/result.hpp); the connection string is never part of one.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/result.hpp"

namespace dalil::store::pg {

/// Whether a `--db` value names a PostgreSQL database rather than a SQLite file: a
/// `postgresql://` or `postgres://` URI, or a libpq keyword string (`host=… dbname=…`,
/// `service=…`, `password=… host=…`: a first word `keyword=`), leading white space ignored as
/// libpq ignores it. Anything else is a SQLite path (`./name=x.db` for a file whose name starts
/// with `word=`).
bool is_conninfo(std::string_view db);

/// The seconds a connection attempt waits (libpq's connect_timeout) when neither the connection
/// string, PGCONNECT_TIMEOUT nor a service (`service=`, PGSERVICE) chooses: libpq's own default
/// is to wait as long as the operating system does.
inline constexpr const char* default_connect_timeout = "10";

/// One parameter of a query: text, or SQL NULL.
using param = std::optional<std::string>;

/// A query's result (owns the PGresult).
class rows;

/// Row `row` of a result, read by column alone (as a SQLite statement reads its current row).
struct row_view {
  const rows& q;
  int row;
  [[nodiscard]] std::string text(int col) const;
  [[nodiscard]] std::int64_t int64(int col) const;
};

class rows {
 public:
  rows() = default;
  explicit rows(PGresult* r) : r_(r, &PQclear) {}
  int size() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) == 1; }
  std::string text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col),
            static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
  }
  std::string_view view(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col),
            static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
  }
  const PGresult* get() const { return r_.get(); }
  /// A column holding an integer (0 when it does not parse: the caller's SQL chose the type).
  std::int64_t int64(int row, int col) const;

 private:
  std::shared_ptr<PGresult> r_;
};

inline std::string row_view::text(int col) const {
  return q.text(row, col);
}
inline std::int64_t row_view::int64(int col) const {
  return q.int64(row, col);
}

/// A connection (owns the PGconn). Opened with the connection string passed to libpq as is, so
/// that libpq reads the PG* environment variables, the service file and the password file.
///
/// A connection that is lost (the server restarted, the backend was terminated, a failover) is
/// reset (PQreset: the same options, the same connect timeout) and the session's settings set
/// again (those of open() and set()): outside a transaction, the statement that found it lost is
/// run once more on the new connection; inside one, that statement and every later one fail
/// until rollback(), without a reset (no part of a transaction is ever replayed: the server
/// rolled it back with the connection), and the next statement after it starts on a reset
/// connection. The session holds nothing else (advisory locks are taken per transaction,
/// cursors live in transactions, no statement is prepared by name, nothing is LISTENed to).
/// An autocommit statement that the server committed but whose answer the loss swallowed would
/// run twice: the statements run outside transactions are reads, or writes that may run twice.
class connection {
 public:
  /// Connects. The error never holds the connection string nor the password: a string that does
  /// not parse is named as such; a server's refusal keeps libpq's reason (host, port, user, the
  /// server's message) with anything of the string scrubbed from it. errc::failed. An attempt
  /// waits default_connect_timeout seconds unless the string, the environment or a service
  /// chooses another.
  static result<connection> open(const std::string& conninfo);

  /// Runs one statement with its parameters bound (never spliced into the SQL). `what` names
  /// the step in the error: "<what>: <the server's message> (SQLSTATE xxxxx)", without the
  /// server's detail lines (they quote values).
  result<rows> query(std::string_view what, const std::string& sql,
                     const std::vector<param>& params = {});
  /// The same for a statement whose rows are not wanted.
  status run(std::string_view what, const std::string& sql, const std::vector<param>& params = {});
  /// Runs statements without parameters, several separated by semicolons (a migration's SQL).
  status script(std::string_view what, const char* sql);
  /// COPY … FROM STDIN: `sql` is the COPY statement; `feed` appends text-format lines to the
  /// piece it is given, which is then sent, and returns whether more follow. A feed's error ends
  /// the COPY with nothing of it kept, and is returned. Never run again after a loss (the feed
  /// is consumed).
  status copy_in(std::string_view what, const std::string& sql,
                 const std::function<result<bool>(std::string&)>& feed);
  /// Sets a parameter for the rest of the session (set_config(name, value, false)), and again
  /// on every reset connection.
  status set(std::string_view what, const std::string& name, const std::string& value);
  /// Ends the transaction open on the connection (ROLLBACK; nothing when none is open). After a
  /// loss inside the transaction, sends nothing: the server ended it; the next statement resets.
  void rollback();
  /// Whether a transaction is open on the connection (BEGIN sent, not yet ended).
  bool transaction_open() const;
  /// Whether the connection was found lost (the next statement resets it).
  bool was_lost() const;

  /// How many times the connection was reset since it was opened.
  std::int64_t resets() const;
  PGconn* handle() const;

 private:
  struct session;
  /// Resets the connection and sets the session's parameters again.
  status reset(std::string_view what);
  /// Before a statement: fails after a loss inside the transaction (until rollback), resets a
  /// lost connection outside one; returns whether a transaction is open.
  result<bool> ready(std::string_view what);
  /// Runs `send` (one statement, its result returned) with the rules above.
  result<rows> exec(std::string_view what, const std::function<PGresult*(PGconn*)>& send);
  std::shared_ptr<session> s_;
};

/// How many statements every connection of this process has sent to its server so far (each a
/// round trip; a COPY counted once): what tests and figures count a write's round trips by.
std::int64_t round_trips();

/// The error for a failed result (or a connection failure when `r` is null): SQLSTATE mapped to
/// the store's kinds — busy for serialization failures, deadlocks and lock timeouts (55P03,
/// 40001, 40P01, 57014), refused for read-only transactions and missing privileges, conflict for
/// integrity violations (23…), damaged for data corruption (XX001, XX002), failed otherwise.
error error_of(PGconn* conn, const PGresult* r, std::string_view what);

/// A transaction that rolls back unless committed (an early return never leaves one open).
class transaction {
 public:
  transaction() = default;
  ~transaction() { rollback(); }
  transaction(transaction&& o) noexcept : conn_(o.conn_) { o.conn_ = nullptr; }
  transaction& operator=(transaction&& o) noexcept {
    if (this != &o) {
      rollback();
      conn_ = o.conn_;
      o.conn_ = nullptr;
    }
    return *this;
  }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  /// BEGIN with `mode` ("" for the default READ COMMITTED, or e.g. "ISOLATION LEVEL REPEATABLE
  /// READ READ ONLY"); `what` names the change in errors.
  static result<transaction> begin(connection& c, std::string_view what,
                                   std::string_view mode = "");
  status commit(std::string_view what);
  void rollback();

 private:
  connection* conn_ = nullptr;
};

/// Text-format COPY escaping of one value (backslash, tab, newline, carriage return).
void append_copy_text(std::string& out, std::string_view value);

/// A bytea parameter in PostgreSQL's text input form (`\x` and hex digits).
std::string bytea_param(std::string_view bytes);
/// The bytes of a bytea column read in its text output form (`\x` and hex digits, as
/// bytea_output=hex, the default, writes it); "" for anything else.
std::string bytea_value(std::string_view text);

}  // namespace dalil::store::pg
