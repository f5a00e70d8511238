// The libpq layer (pg.hpp): connections, parameterised queries, transactions, COPY, and the one
// place where libpq's errors become the store's, with the connection string kept out of them.
#include "store/pg/pg.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <sodium.h>

namespace dalil::store::pg {

bool is_conninfo(std::string_view db) {
  // libpq skips leading white space: so does this (a string given with a space before it must not
  // become a SQLite file named after it, password included).
  db.remove_prefix(std::min(db.find_first_not_of(" \t\n\r\f\v"), db.size()));
  if (db.starts_with("postgresql://") || db.starts_with("postgres://")) return true;
  // A keyword string: its first word is `keyword=` (libpq allows spaces around the `=`), any
  // keyword (`password=… host=…` and `sslmode=… dbname=…` too: libpq refuses the keywords it
  // does not know, and the message says the string is not valid without quoting it). A path
  // starts with `/` or `.`, or holds a character other than a keyword's before its first `=`;
  // a SQLite file whose name starts with `word=` is given as `./word=…`.
  const std::size_t eq = db.find('=');
  if (eq == std::string_view::npos) return false;
  std::string_view key = db.substr(0, eq);
  while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

namespace {

std::atomic<std::int64_t> statements_sent{0};

void count_round_trip() {
  statements_sent.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

std::int64_t round_trips() {
  return statements_sent.load(std::memory_order_relaxed);
}

std::int64_t rows::int64(int row, int col) const {
  auto v = view(row, col);
  std::int64_t out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

namespace {

/// Removes every occurrence of `secret` from `s` (nothing when it is empty).
void scrub(std::string& s, const std::string& secret) {
  if (secret.size() < 2) return;  // one character would mangle every message; none is secret
  for (auto p = s.find(secret); p != std::string::npos; p = s.find(secret, p)) {
    s.replace(p, secret.size(), "[hidden]");
  }
}

std::string trimmed(const char* m) {
  std::string s = m == nullptr ? std::string() : std::string(m);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  // libpq's connection failures may span lines (one per address tried): keep them on one.
  for (auto& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

void ignore_notice(void* /*arg*/, const char* /*message*/) {}

/// Whether the service file a connection string uses sets connect_timeout. libpq reads the
/// service file only to connect: PQconnectStart resolves every option (the string, the
/// environment, the service) and starts a non-blocking connection, which is closed at once
/// without a byte sent (the server logs nothing for it) once its options are read.
bool service_sets_timeout(const std::string& conninfo) {
  PGconn* probe = PQconnectStart(conninfo.c_str());
  if (probe == nullptr) return false;
  bool set = false;
  if (PQconninfoOption* options = PQconninfo(probe); options != nullptr) {
    for (auto* o = options; o->keyword != nullptr; ++o) {
      if (std::strcmp(o->keyword, "connect_timeout") == 0 && o->val != nullptr && *o->val != 0) {
        set = true;
      }
    }
    PQconninfoFree(options);
  }
  PQfinish(probe);
  return set;
}

}  // namespace

struct connection::session {
  PGconn* conn = nullptr;
  std::vector<std::string> secrets;  // scrubbed from libpq's messages: the string, a password
  std::vector<std::pair<std::string, std::string>> settings;  // set again after a reset
  bool lost_in_transaction = false;  // until rollback(): every statement fails, nothing resets
  bool needs_reset = false;          // the connection was found lost (or a reset failed)
  std::int64_t resets = 0;

  session() = default;
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  ~session() {
    if (conn != nullptr) PQfinish(conn);
  }

  /// libpq's message of the connection, on one line, the secrets scrubbed.
  std::string message() const {
    std::string m = trimmed(PQerrorMessage(conn));
    for (const auto& s : secrets) scrub(m, s);
    return m;
  }

  /// Sets the settings, in one statement (not through exec: a reset's own step).
  PGresult* apply() const {
    std::string sql = "SELECT ";
    std::vector<const char*> values;
    for (const auto& [name, value] : settings) {
      if (!values.empty()) sql += ", ";
      sql += "set_config($" + std::to_string(values.size() + 1) + ", $" +
             std::to_string(values.size() + 2) + ", false)";
      values.push_back(name.c_str());
      values.push_back(value.c_str());
    }
    count_round_trip();
    return PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                        nullptr, nullptr, 0);
  }
};

namespace {

/// Whether a failure means the connection is lost: libpq says so, or the server ended the
/// session (57P01 admin shutdown or a terminated backend, 57P02 crash shutdown, 57P03 cannot
/// connect now) or the connection failed (class 08).
bool lost(PGconn* conn, const PGresult* r) {
  if (PQstatus(conn) == CONNECTION_BAD) return true;
  const char* state = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
  if (state == nullptr) return false;
  const std::string_view s(state);
  return s == "57P01" || s == "57P02" || s == "57P03" || s.starts_with("08");
}

/// Whether the session is inside a transaction (one that a loss would roll back).
bool in_transaction(PGconn* conn) {
  const auto t = PQtransactionStatus(conn);
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

bool succeeded(const PGresult* r) {
  const auto st = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

}  // namespace

result<connection> connection::open(const std::string& conninfo) {
  // Parsed first, so that a malformed string is reported without libpq's message, which quotes
  // the part that did not parse (it may be the password).
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (options == nullptr) {
    if (parse_error != nullptr) PQfreemem(parse_error);
    return fail(errc::failed,
                "the PostgreSQL connection string does not parse (libpq's reason is not shown: it "
                "quotes the string, which may hold a password); see docs/postgresql.md");
  }
  auto s = std::make_shared<session>();
  bool timeout_chosen = std::getenv("PGCONNECT_TIMEOUT") != nullptr;
  bool service = std::getenv("PGSERVICE") != nullptr;
  for (auto* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::strcmp(o->keyword, "password") == 0) s->secrets.emplace_back(o->val);
    if (std::strcmp(o->keyword, "connect_timeout") == 0) timeout_chosen = true;
    if (std::strcmp(o->keyword, "service") == 0) service = true;
  }
  PQconninfoFree(options);
  s->secrets.push_back(conninfo);
  if (!timeout_chosen && service) timeout_chosen = service_sets_timeout(conninfo);

  // Without a timeout of its own, libpq waits for the operating system's (minutes, for a
  // server that does not answer): a batch or a counter would hang that long on a down database.
  // The string is given as dbname to be expanded after the default, so its own values win.
  // PQreset connects again with these same options.
  const std::array<const char*, 3> keywords{"connect_timeout", "dbname", nullptr};
  const std::array<const char*, 3> values{default_connect_timeout, conninfo.c_str(), nullptr};
  s->conn = timeout_chosen ? PQconnectdb(conninfo.c_str())
                           : PQconnectdbParams(keywords.data(), values.data(), 1);
  if (s->conn == nullptr) return fail(errc::failed, "connecting to PostgreSQL: out of memory");
  if (PQstatus(s->conn) != CONNECTION_OK) {
    return fail(errc::failed, "connecting to PostgreSQL: " + s->message());
  }
  PQsetNoticeProcessor(s->conn, ignore_notice, nullptr);  // kept by PQreset
  // Text is exchanged as UTF-8; a lock waited for longer than this is reported busy (55P03).
  s->settings = {{"client_encoding", "UTF8"}, {"lock_timeout", "30s"}};
  if (rows r(s->apply()); !succeeded(r.get())) {
    return error_of(s->conn, r.get(), "setting up the PostgreSQL session");
  }
  connection c;
  c.s_ = std::move(s);
  return c;
}

PGconn* connection::handle() const {
  return s_->conn;
}

std::int64_t connection::resets() const {
  return s_->resets;
}

status connection::reset(std::string_view what) {
  session& s = *s_;
  s.needs_reset = true;  // until this succeeds
  PQreset(s.conn);
  if (PQstatus(s.conn) != CONNECTION_OK) {
    return fail(errc::failed, std::string(what) +
                                  ": the connection to PostgreSQL was lost, and connecting "
                                  "again failed: " +
                                  s.message());
  }
  if (rows r(s.apply()); !succeeded(r.get())) {
    return error_of(s.conn, r.get(), std::string(what) + ": setting up the PostgreSQL session");
  }
  s.needs_reset = false;
  ++s.resets;
  return {};
}

result<bool> connection::ready(std::string_view what) {
  session& s = *s_;
  if (s.lost_in_transaction) {
    return fail(errc::failed, std::string(what) +
                                  ": the connection to PostgreSQL was lost inside the "
                                  "transaction, which the server rolled back");
  }
  const bool inside = in_transaction(s.conn);
  if (!inside && (s.needs_reset || PQstatus(s.conn) == CONNECTION_BAD)) {
    if (auto r = reset(what); !r) return r.error();
  }
  return inside;
}

result<rows> connection::exec(std::string_view what,
                              const std::function<PGresult*(PGconn*)>& send) {
  session& s = *s_;
  auto open = ready(what);
  if (!open) return open.error();
  const bool inside = *open;
  for (int attempt = 0;; ++attempt) {
    count_round_trip();
    rows out(send(s.conn));
    if (succeeded(out.get())) return out;
    if (!lost(s.conn, out.get())) return error_of(s.conn, out.get(), what);
    auto e = error_of(s.conn, out.get(), what);
    s.needs_reset = true;
    if (inside) {
      s.lost_in_transaction = true;
      return e;
    }
    if (attempt == 1) return e;
    if (auto r = reset(what); !r) return r.error();
  }
}

error error_of(PGconn* conn, const PGresult* r, std::string_view what) {
  std::string state;
  std::string message;
  if (r != nullptr) {
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    state = s == nullptr ? "" : s;
    message = trimmed(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
  }
  if (message.empty()) message = trimmed(PQerrorMessage(conn));
  errc code = errc::failed;
  if (state == "55P03" || state == "40001" || state == "40P01" || state == "57014") {
    code = errc::busy;
  } else if (state == "25006" || state == "42501") {
    code = errc::refused;
  } else if (state.starts_with("23")) {
    code = errc::conflict;
  } else if (state == "XX001" || state == "XX002") {
    code = errc::damaged;
  }
  if (state.starts_with("22")) {
    // Data exceptions quote the value that did not fit: never shown.
    message = "a value does not fit its column (its content is not shown)";
  }
  std::string out = std::string(what) + ": " + message;
  if (!state.empty()) out += " (SQLSTATE " + state + ")";
  return error{code, std::move(out)};
}

result<rows> connection::query(std::string_view what, const std::string& sql,
                               const std::vector<param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return exec(what, [&](PGconn* conn) {
    return PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                        nullptr, nullptr, 0);
  });
}

status connection::run(std::string_view what, const std::string& sql,
                       const std::vector<param>& params) {
  auto r = query(what, sql, params);
  if (!r) return r.error();
  return {};
}

status connection::script(std::string_view what, const char* sql) {
  // PQexec stops at the first statement that fails and returns its result.
  auto r = exec(what, [&](PGconn* conn) { return PQexec(conn, sql); });
  if (!r) return r.error();
  return {};
}

status connection::set(std::string_view what, const std::string& name, const std::string& value) {
  if (auto s = run(what, "SELECT set_config($1, $2, false)", {name, value}); !s) return s;
  auto& settings = s_->settings;
  auto same = [&](const auto& kv) { return kv.first == name; };
  settings.erase(std::remove_if(settings.begin(), settings.end(), same), settings.end());
  settings.emplace_back(name, value);
  return {};
}

bool connection::transaction_open() const {
  return s_->lost_in_transaction || ::dalil::store::pg::in_transaction(s_->conn);
}

bool connection::was_lost() const {
  return s_->needs_reset;
}

void connection::rollback() {
  session& s = *s_;
  if (s.lost_in_transaction || s.needs_reset || PQstatus(s.conn) == CONNECTION_BAD) {
    // The server ended the transaction with the connection: the next statement resets it.
    s.lost_in_transaction = false;
    s.needs_reset = true;
    return;
  }
  // After a failed statement the server is in an aborted transaction; ROLLBACK ends it either way.
  count_round_trip();
  PQclear(PQexec(s.conn, "ROLLBACK"));
  if (PQstatus(s.conn) == CONNECTION_BAD) s.needs_reset = true;
}

status connection::copy_in(std::string_view what, const std::string& sql,
                           const std::function<result<bool>(std::string&)>& feed) {
  session& s = *s_;
  auto open = ready(what);
  if (!open) return open.error();
  const bool inside = *open;
  PGconn* conn = s.conn;
  // A loss found here or below is not retried (the feed cannot be read twice): the caller's
  // next statement starts on a reset connection, or after its rollback inside a transaction.
  auto mark_lost = [&](const PGresult* r) {
    if (!lost(conn, r)) return;
    s.needs_reset = true;
    s.lost_in_transaction = inside;
  };
  count_round_trip();
  PGresult* started = PQexec(conn, sql.c_str());
  if (started == nullptr || PQresultStatus(started) != PGRES_COPY_IN) {
    auto e = error_of(conn, started, what);
    mark_lost(started);
    PQclear(started);
    return e;
  }
  PQclear(started);
  std::string piece;
  status out;
  bool sent = true;
  for (bool more = true; more;) {
    piece.clear();
    auto r = feed(piece);
    if (!r) {
      out = r.error();
      break;
    }
    more = *r;
    // In slices: PQputCopyData takes an int, and a piece may be larger than 2 GiB.
    constexpr std::size_t slice = std::size_t{1} << 20;
    for (std::size_t at = 0; sent && at < piece.size(); at += slice) {
      const std::size_t n = std::min(slice, piece.size() - at);
      sent = PQputCopyData(conn, piece.data() + at, static_cast<int>(n)) == 1;
    }
    if (!sent) break;
  }
  // A failed feed ends the COPY with an error, so that the server keeps none of its rows.
  bool ok = out && sent;
  PQputCopyEnd(conn, ok ? nullptr : "the rows could not all be read or sent");
  while (PGresult* r = PQgetResult(conn)) {
    if (ok && PQresultStatus(r) != PGRES_COMMAND_OK) {
      out = error_of(conn, r, what);
      ok = false;
    }
    mark_lost(r);
    PQclear(r);
  }
  mark_lost(nullptr);
  if (!sent && out) {
    out =
        fail(errc::failed, std::string(what) + ": sending rows: " + trimmed(PQerrorMessage(conn)));
  }
  return out;
}

result<transaction> transaction::begin(connection& c, std::string_view what,
                                       std::string_view mode) {
  // READ COMMITTED said, not left to the database's default: the writes take their advisory
  // locks and then read what they decide on, which must see what the lock's last holder
  // committed (under a default of REPEATABLE READ, set by a role or a database, the snapshot
  // would be taken before the lock was granted).
  std::string sql = "BEGIN ";
  sql += mode.empty() ? std::string_view("ISOLATION LEVEL READ COMMITTED") : mode;
  if (auto s = c.run(what, sql); !s) return s.error();
  transaction t;
  t.conn_ = &c;
  return t;
}

status transaction::commit(std::string_view what) {
  if (conn_ == nullptr) return fail(errc::failed, std::string(what) + ": no transaction is open");
  auto s = conn_->run(what, "COMMIT");
  if (!s) {
    const bool lost = conn_->was_lost();
    rollback();
    if (lost) {
      // The COMMIT may have been applied before its answer was lost: say so, never "rolled back".
      return fail(errc::failed, std::string(what) +
                                    ": the connection to PostgreSQL was lost while committing: "
                                    "whether the transaction was stored is not known (look "
                                    "before doing it again)");
    }
    return s;
  }
  conn_ = nullptr;
  return {};
}

void transaction::rollback() {
  if (conn_ == nullptr) return;
  conn_->rollback();
  conn_ = nullptr;
}

void append_copy_text(std::string& out, std::string_view value) {
  for (char ch : value) {
    switch (ch) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += ch;
    }
  }
}

std::string bytea_param(std::string_view bytes) {
  // \x and two lowercase hex digits a byte (libsodium's, in constant time: the bytes are
  // sealed records and wrapped keys); sodium_bin2hex writes a final NUL, taken off after.
  std::string out(2 + 2 * bytes.size() + 1, '\0');
  out[0] = '\\';
  out[1] = 'x';
  sodium_bin2hex(out.data() + 2, out.size() - 2,
                 reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  out.pop_back();
  return out;
}

std::string bytea_value(std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) return {};
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 2 - 1);
  for (std::size_t i = 2; i < text.size(); i += 2) {
    int hi = nibble(text[i]);
    int lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out += static_cast<char>((hi << 4) | lo);
  }
  return out;
}

}  // namespace dalil::store::pg
