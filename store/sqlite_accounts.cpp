// The identity tables over SQLite: the queries, the transactions (BEGIN IMMEDIATE: one writer at
// a time) and the local clock under the accounts' one policy (store/accounts_core.hpp).
#include <string_view>
#include <vector>

#include "store/accounts.hpp"
#include "store/accounts_check.hpp"
#include "store/accounts_core.hpp"
#include "store/chain.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace dalil::store {

namespace {

using detail::account_backend;
using detail::client_row;

account user_from(const statement& q) {
  account a;
  a.id = q.int64(0);
  a.name = q.text(1);
  a.role = q.text(2);
  a.office = q.text(3);
  a.lang = q.text(4);
  a.password_hash = q.text(5);
  a.disabled = q.int64(6) != 0;
  a.created_at = q.text(7);
  return a;
}

account client_from(const statement& q) {
  // Column 5: the recorded expiry, NULL for a token made before tokens expired.
  return client_row(q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4), !q.is_null(5),
                    q.is_null(5) ? 0 : q.int64(5));
}

class sqlite_backend final : public account_backend {
 public:
  status open(const std::string& path) {
    std::string error;
    // The store's own open creates and migrates the schema (and audits an upgrade).
    if (auto s = open_sqlite(path); !s) return s.error();
    if (!db_.open(path, error)) return fail(errc::failed, error);
    return {};
  }

  // Every transaction is BEGIN IMMEDIATE: SQLite has one writer at a time, which orders the
  // account writes, the reservations and the counts alike.
  status begin(tx /*kind*/, std::string_view what) override {
    std::string error;
    if (!db_.exec("BEGIN IMMEDIATE", error)) return failure(std::string(what));
    return {};
  }

  status commit(std::string_view what) override {
    std::string error;
    if (!db_.exec("COMMIT", error)) return failure(std::string(what));
    return {};
  }

  void rollback() override {
    std::string error;
    db_.exec("ROLLBACK", error);
  }

  result<std::int64_t> now_ms(std::int64_t local_ms) override { return local_ms; }

  result<std::int64_t> audit(const std::string& actor, const std::string& action,
                             const std::string& subject, const std::string& details) override {
    return detail::append_audit(db_, actor, action, subject, details);
  }

  status bump() override {
    auto q = prepare("UPDATE accounts_generation SET generation=generation+1 WHERE id=1");
    if (!q) return q.error();
    return step_done(*q, "bumping the accounts' generation");
  }

  result<std::int64_t> generation() override {
    if (!generation_.ok()) {
      std::string error;
      generation_ = db_.prepare("SELECT generation FROM accounts_generation WHERE id=1", error);
      if (!generation_.ok())
        return fail(errc::failed, "reading the accounts' generation: " + error);
    }
    generation_.reset();
    int rc = generation_.step();
    std::int64_t g = rc == SQLITE_ROW ? generation_.int64(0) : 0;
    generation_.reset();  // never leave a read pending: it would pin the WAL snapshot
    if (rc != SQLITE_ROW) return failure("reading the accounts' generation");
    return g;
  }

  result<bool> insert_office(const std::string& name, const std::string& at) override {
    auto q = prepare("INSERT OR IGNORE INTO offices VALUES(?,?)");
    if (!q) return q.error();
    q->bind(1, name).bind(2, at);
    if (auto done = step_done(*q, "storing the office"); !done) return done.error();
    return changed();
  }

  result<std::string> holder(const std::string& name) override {
    auto q = prepare(
        "SELECT 'user' FROM users WHERE name=?1 UNION ALL SELECT 'client' FROM tokens WHERE "
        "name=?1 LIMIT 1");
    if (!q) return q.error();
    q->bind(1, name);
    int rc = q->step();
    if (rc == SQLITE_ROW) return q->text(0);
    if (rc != SQLITE_DONE) return failure("reading users");
    return std::string();
  }

  result<std::int64_t> insert_user(const account& row) override {
    auto q = prepare(
        "INSERT INTO users(name, role, office, lang, password_hash, created_at) "
        "VALUES(?,?,?,?,?,?)");
    if (!q) return q.error();
    q->bind(1, row.name).bind(2, row.role).bind(4, row.lang).bind(5, row.password_hash);
    bind_office(*q, 3, row.office);
    q->bind(6, row.created_at);
    if (auto done = step_done(*q, "storing the user"); !done) return done.error();
    return db_.last_insert_id();
  }

  result<account> user(const std::string& name) override {
    auto q = prepare(
        "SELECT user_id, name, role, ifnull(office,''), lang, password_hash, disabled, "
        "created_at FROM users WHERE name=?");
    if (!q) return q.error();
    q->bind(1, name);
    int rc = q->step();
    if (rc == SQLITE_DONE) return fail(errc::not_found, "no user " + name);
    if (rc != SQLITE_ROW) return failure("reading users");
    return user_from(*q);
  }

  status set_disabled(std::int64_t user_id, const std::string& at) override {
    if (at.empty()) {
      auto q = prepare("UPDATE users SET disabled=0, disabled_at=NULL WHERE user_id=?");
      if (!q) return q.error();
      q->bind(1, user_id);
      return step_done(*q, "enabling the user");
    }
    auto q = prepare("UPDATE users SET disabled=1, disabled_at=? WHERE user_id=?");
    if (!q) return q.error();
    q->bind(1, at).bind(2, user_id);
    return step_done(*q, "disabling the user");
  }

  status set_password(std::int64_t user_id, const std::string& password_hash) override {
    auto q = prepare("UPDATE users SET password_hash=? WHERE user_id=?");
    if (!q) return q.error();
    q->bind(1, password_hash).bind(2, user_id);
    return step_done(*q, "storing the password hash");
  }

  result<bool> set_lang(const std::string& user, const std::string& lang) override {
    auto q = prepare("UPDATE users SET lang=? WHERE name=?");
    if (!q) return q.error();
    q->bind(1, lang).bind(2, user);
    if (auto done = step_done(*q, "storing the language"); !done) return done.error();
    return changed();
  }

  result<std::int64_t> end_sessions_of(std::int64_t user_id) override {
    auto q = prepare("DELETE FROM sessions WHERE user_id=?");
    if (!q) return q.error();
    q->bind(1, user_id);
    if (auto done = step_done(*q, "ending the user's sessions"); !done) return done.error();
    return static_cast<std::int64_t>(sqlite3_changes(db_.handle()));
  }

  result<bool> has_active_token(const std::string& name) override {
    auto q = prepare("SELECT 1 FROM tokens WHERE name=? AND revoked_at IS NULL");
    if (!q) return q.error();
    q->bind(1, name);
    int rc = q->step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failure("reading tokens");
    return rc == SQLITE_ROW;
  }

  result<std::int64_t> insert_token(const account& row, const engine::digest& hash) override {
    auto q = prepare(
        "INSERT INTO tokens(name, role, office, token_hash, created_at, expires) "
        "VALUES(?,?,?,?,?,?)");
    if (!q) return q.error();
    q->bind(1, row.name).bind(2, row.role).bind_static(4, hash);
    q->bind(5, row.created_at).bind(6, row.expires);
    bind_office(*q, 3, row.office);
    if (auto done = step_done(*q, "storing the token's hash"); !done) return done.error();
    return db_.last_insert_id();
  }

  result<bool> revoke_token(const std::string& name, const std::string& at) override {
    auto q = prepare("UPDATE tokens SET revoked_at=? WHERE name=? AND revoked_at IS NULL");
    if (!q) return q.error();
    q->bind(1, at).bind(2, name);
    if (auto done = step_done(*q, "revoking the token"); !done) return done.error();
    return changed();
  }

  result<std::vector<account>> users() override {
    auto q = prepare(
        "SELECT user_id, name, role, ifnull(office,''), lang, password_hash, disabled, "
        "created_at FROM users ORDER BY name");
    if (!q) return q.error();
    std::vector<account> out;
    int rc = 0;
    while ((rc = q->step()) == SQLITE_ROW) out.push_back(user_from(*q));
    if (rc != SQLITE_DONE) return failure("reading users");
    return out;
  }

  result<std::vector<account>> clients() override {
    auto q = prepare(
        "SELECT token_id, name, role, ifnull(office,''), created_at, expires FROM tokens WHERE "
        "revoked_at IS NULL ORDER BY name");
    if (!q) return q.error();
    std::vector<account> out;
    int rc = 0;
    while ((rc = q->step()) == SQLITE_ROW) out.push_back(client_from(*q));
    if (rc != SQLITE_DONE) return failure("reading tokens");
    return out;
  }

  result<std::vector<std::string>> offices() override {
    auto q = prepare("SELECT name FROM offices ORDER BY name");
    if (!q) return q.error();
    std::vector<std::string> out;
    int rc = 0;
    while ((rc = q->step()) == SQLITE_ROW) out.push_back(q->text(0));
    if (rc != SQLITE_DONE) return failure("reading offices");
    return out;
  }

  result<account> token(const engine::digest& hash) override {
    auto q = prepare(
        "SELECT token_id, name, role, ifnull(office,''), created_at, expires FROM tokens WHERE "
        "token_hash=? AND revoked_at IS NULL");
    if (!q) return q.error();
    q->bind_static(1, hash);
    int rc = q->step();
    if (rc == SQLITE_DONE) return fail(errc::not_found, "no active token has this hash");
    if (rc != SQLITE_ROW) return failure("reading tokens");
    return client_from(*q);
  }

  result<std::vector<std::pair<engine::digest, account>>> tokens() override {
    auto q = prepare(
        "SELECT token_id, name, role, ifnull(office,''), created_at, expires, token_hash FROM "
        "tokens WHERE revoked_at IS NULL");
    if (!q) return q.error();
    std::vector<std::pair<engine::digest, account>> out;
    int rc = 0;
    while ((rc = q->step()) == SQLITE_ROW) out.emplace_back(q->digest(6), client_from(*q));
    if (rc != SQLITE_DONE) return failure("reading tokens");
    return out;
  }

  status purge_attempts(std::int64_t at) override {
    auto q = prepare("DELETE FROM login_attempts WHERE at <= ?");
    if (!q) return q.error();
    q->bind(1, at);
    return step_done(*q, "purging old login attempts");
  }

  result<std::int64_t> count_attempts(key k, const engine::digest& account_key,
                                      const std::string& address, std::int64_t since) override {
    auto q = prepare(std::string("SELECT count(*) FROM login_attempts WHERE ") + column(k) +
                     "=? AND at > ?");
    if (!q) return q.error();
    bind_key(*q, 1, k, account_key, address);
    q->bind(2, since);
    if (q->step() != SQLITE_ROW) return failure("counting login attempts");
    return q->int64(0);
  }

  result<std::int64_t> attempt_at(key k, const engine::digest& account_key,
                                  const std::string& address, std::int64_t since,
                                  std::int64_t offset) override {
    auto q = prepare(std::string("SELECT at FROM login_attempts WHERE ") + column(k) +
                     "=? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?");
    if (!q) return q.error();
    bind_key(*q, 1, k, account_key, address);
    q->bind(2, since).bind(3, offset);
    if (q->step() != SQLITE_ROW) return failure("reading login attempts");
    return q->int64(0);
  }

  result<std::int64_t> insert_attempt(std::int64_t at, const engine::digest& account_key,
                                      const std::string& address) override {
    auto q = prepare("INSERT INTO login_attempts(at, account, address) VALUES(?,?,?)");
    if (!q) return q.error();
    q->bind(1, at).bind_static(2, account_key).bind(3, address);
    if (auto done = step_done(*q, "recording a login attempt"); !done) return done.error();
    return db_.last_insert_id();
  }

  status clear_attempts(std::int64_t attempt_id, const engine::digest& account_key,
                        const std::string& address) override {
    auto q = prepare("DELETE FROM login_attempts WHERE attempt_id=? OR (account=? AND address=?)");
    if (!q) return q.error();
    q->bind(1, attempt_id).bind_static(2, account_key).bind(3, address);
    return step_done(*q, "clearing login attempts");
  }

  status purge_refusals(std::int64_t window_start) override {
    auto q = prepare("DELETE FROM login_throttles WHERE window_start < ?");
    if (!q) return q.error();
    q->bind(1, window_start);
    return step_done(*q, "purging old refusal counts");
  }

  result<std::int64_t> count_refusal(key k, const engine::digest& account_key,
                                     const std::string& address,
                                     std::int64_t window_start) override {
    auto q = prepare(
        "INSERT INTO login_throttles(kind, key, window_start, refused) VALUES(?,?,?,1) "
        "ON CONFLICT(kind, key, window_start) DO UPDATE SET refused = refused + 1 "
        "RETURNING refused");
    if (!q) return q.error();
    q->bind(1, std::string_view(column(k)));
    bind_key(*q, 2, k, account_key, address);
    q->bind(3, window_start);
    if (q->step() != SQLITE_ROW) return failure("counting a refused login");
    std::int64_t n = q->int64(0);
    q->reset();
    return n;
  }

  result<std::int64_t> refusals(key k, const engine::digest& account_key,
                                const std::string& address, std::int64_t window_start) override {
    auto q =
        prepare("SELECT refused FROM login_throttles WHERE kind=? AND key=? AND window_start=?");
    if (!q) return q.error();
    q->bind(1, std::string_view(column(k)));
    bind_key(*q, 2, k, account_key, address);
    q->bind(3, window_start);
    int rc = q->step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failure("reading refusal counts");
    return rc == SQLITE_ROW ? q->int64(0) : 0;
  }

  result<device_trust> device(const engine::digest& device_hash, const engine::digest& account_key,
                              std::int64_t since) override {
    auto q = prepare(
        "SELECT count(*), ifnull(max(account=?), 0) FROM login_devices WHERE device=? AND "
        "last_login > ?");
    if (!q) return q.error();
    q->bind_static(1, account_key).bind_static(2, device_hash).bind(3, since);
    if (q->step() != SQLITE_ROW) return failure("reading known devices");
    device_trust t;
    t.known = q->int64(0) > 0;
    t.for_account = q->int64(1) != 0;
    return t;
  }

  result<bool> keep_device(const engine::digest& device_hash, const engine::digest& account_key,
                           const engine::digest& session_hash, std::int64_t at) override {
    auto q = prepare(
        "INSERT INTO login_devices(device, account, last_login) SELECT ?, ?, ? WHERE EXISTS "
        "(SELECT 1 FROM sessions WHERE id_hash=?) ON CONFLICT(device, account) DO UPDATE SET "
        "last_login=max(last_login, excluded.last_login)");
    if (!q) return q.error();
    q->bind_static(1, device_hash)
        .bind_static(2, account_key)
        .bind(3, at)
        .bind_static(4, session_hash);
    if (auto done = step_done(*q, "remembering a device"); !done) return done.error();
    return changed();
  }

  status purge_devices(std::int64_t since) override {
    auto q = prepare("DELETE FROM login_devices WHERE last_login <= ?");
    if (!q) return q.error();
    q->bind(1, since);
    return step_done(*q, "forgetting old devices");
  }

  status trim_devices(const engine::digest& account_key, std::int64_t keep) override {
    auto q = prepare(
        "DELETE FROM login_devices WHERE account=?1 AND device NOT IN (SELECT device FROM "
        "login_devices WHERE account=?1 ORDER BY last_login DESC, device LIMIT ?2)");
    if (!q) return q.error();
    q->bind_static(1, account_key).bind(2, keep);
    return step_done(*q, "forgetting an account's oldest devices");
  }

  status forget_devices(const engine::digest& account_key) override {
    auto q = prepare("DELETE FROM login_devices WHERE account=?");
    if (!q) return q.error();
    q->bind_static(1, account_key);
    return step_done(*q, "forgetting an account's devices");
  }

  result<bool> insert_session(const session_row& session) override {
    auto q = prepare(
        "INSERT INTO sessions(id_hash, user_id, created, last_seen) SELECT ?, user_id, ?, ? "
        "FROM users WHERE user_id=? AND disabled=0 AND password_hash=?");
    if (!q) return q.error();
    q->bind_static(1, session.id_hash)
        .bind(2, session.created)
        .bind(3, session.last_seen)
        .bind(4, session.user.id)
        .bind(5, session.user.password_hash);
    if (auto done = step_done(*q, "storing the session"); !done) return done.error();
    return changed();
  }

  result<session_row> session(const engine::digest& id_hash) override {
    auto q = prepare(
        "SELECT s.created, s.last_seen, u.user_id, u.name, u.role, ifnull(u.office,''), u.lang, "
        "u.disabled FROM sessions s JOIN users u USING(user_id) WHERE s.id_hash=?");
    if (!q) return q.error();
    q->bind_static(1, id_hash);
    int rc = q->step();
    if (rc == SQLITE_DONE) return fail(errc::not_found, "no such session");
    if (rc != SQLITE_ROW) return failure("reading sessions");
    session_row s;
    s.id_hash = id_hash;
    s.created = q->int64(0);
    s.last_seen = q->int64(1);
    s.user.id = q->int64(2);
    s.user.name = q->text(3);
    s.user.role = q->text(4);
    s.user.office = q->text(5);
    s.user.lang = q->text(6);
    s.user.disabled = q->int64(7) != 0;
    return s;
  }

  result<bool> touch_session(const engine::digest& id_hash, std::int64_t last_seen) override {
    auto q = prepare("UPDATE sessions SET last_seen=max(last_seen, ?) WHERE id_hash=?");
    if (!q) return q.error();
    q->bind(1, last_seen).bind_static(2, id_hash);
    if (auto done = step_done(*q, "updating the session"); !done) return done.error();
    return changed();
  }

  result<bool> delete_session(const engine::digest& id_hash, std::string_view what) override {
    auto q = prepare("DELETE FROM sessions WHERE id_hash=?");
    if (!q) return q.error();
    q->bind_static(1, id_hash);
    if (auto done = step_done(*q, std::string(what)); !done) return done.error();
    return changed();
  }

  result<std::int64_t> purge_sessions(std::int64_t created, std::int64_t seen) override {
    auto q = prepare("DELETE FROM sessions WHERE created <= ? OR last_seen <= ?");
    if (!q) return q.error();
    q->bind(1, created).bind(2, seen);
    if (auto done = step_done(*q, "deleting expired sessions"); !done) return done.error();
    return static_cast<std::int64_t>(sqlite3_changes(db_.handle()));
  }

  result<std::vector<detail::account_problem>> check() override {
    // One read transaction: the log and the tables from the same snapshot.
    std::string error;
    if (!db_.exec("BEGIN", error)) return failure("reading the accounts");
    auto problems = check_locked();
    db_.exec("COMMIT", error);
    return problems;
  }

 private:
  result<std::vector<detail::account_problem>> check_locked() {
    std::vector<detail::account_entry> entries;
    auto q =
        prepare(std::string("SELECT seq, action, subject, details FROM audit WHERE action IN (") +
                detail::account_actions + ") ORDER BY seq");
    if (!q) return q.error();
    int rc = 0;
    while ((rc = q->step()) == SQLITE_ROW) {
      entries.push_back({q->int64(0), q->text(1), q->text(2), q->text(3)});
    }
    if (rc != SQLITE_DONE) return failure("reading the audit log");
    return detail::check_account_rows(db_, entries);
  }

  /// A failure of SQLite, as busy when another writer held the database past the timeout.
  error failure(const std::string& what) const {
    int code = sqlite3_errcode(db_.handle());
    errc kind = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? errc::busy : errc::failed;
    return error{kind, what + ": " + db_.message()};
  }

  result<statement> prepare(std::string_view sql) {
    std::string error;
    auto q = db_.prepare(sql, error);
    if (!q.ok()) return fail(errc::failed, "preparing a query on the accounts: " + error);
    return q;
  }

  status step_done(statement& q, const std::string& what) {
    if (q.step() != SQLITE_DONE) return failure(what);
    return {};
  }

  bool changed() const { return sqlite3_changes(db_.handle()) != 0; }

  /// The column (login_attempts) or the kind (login_throttles) of a key.
  static const char* column(key k) { return k == key::account ? "account" : "address"; }

  /// An account's key is bound as its digest's bytes, an address as text.
  static void bind_key(statement& q, int i, key k, const engine::digest& account_key,
                       const std::string& address) {
    if (k == key::account) {
      q.bind_static(i, account_key);
    } else {
      q.bind(i, std::string_view(address));
    }
  }

  static void bind_office(statement& q, int i, const std::string& office) {
    if (office.empty()) {
      q.bind_null(i);
    } else {
      q.bind(i, office);
    }
  }

  database db_;
  statement generation_;
};

}  // namespace

namespace detail {

std::vector<account_problem> check_account_rows(database& db,
                                                const std::vector<account_entry>& entries) {
  account_rows rows;
  std::string error;
  auto unreadable = [&](const std::string& table) {
    rows.unreadable.push_back({0, "the " + table + " table cannot be read: " + error});
  };
  {
    auto q = db.prepare("SELECT name, created_at FROM offices ORDER BY name", error);
    if (!q.ok()) unreadable("offices");
    while (q.ok() && q.step() == SQLITE_ROW) rows.offices.push_back({q.text(0), q.text(1)});
  }
  {
    auto q = db.prepare(
        "SELECT user_id, name, role, ifnull(office,''), lang, password_hash, disabled, "
        "created_at, ifnull(disabled_at,'') FROM users ORDER BY user_id",
        error);
    if (!q.ok()) unreadable("users");
    while (q.ok() && q.step() == SQLITE_ROW) rows.users.push_back({user_from(q), q.text(8)});
  }
  {
    auto q = db.prepare(
        "SELECT token_id, name, role, ifnull(office,''), created_at, expires, token_hash, "
        "ifnull(revoked_at,'') FROM tokens ORDER BY token_id",
        error);
    if (!q.ok()) unreadable("tokens");
    while (q.ok() && q.step() == SQLITE_ROW) {
      rows.tokens.push_back({client_from(q), q.digest(6).hex(), q.text(7)});
    }
  }
  {
    auto q = db.prepare(
        "SELECT s.id_hash, u.name, s.created, s.last_seen FROM sessions s JOIN users u "
        "USING(user_id) ORDER BY u.name",
        error);
    if (!q.ok()) unreadable("sessions");
    while (q.ok() && q.step() == SQLITE_ROW) {
      rows.sessions.push_back({q.digest(0), q.text(1), q.int64(2), q.int64(3)});
    }
  }
  return check_account_rows(rows, entries);
}

}  // namespace detail

result<std::unique_ptr<accounts>> open_sqlite_accounts(const std::string& path) {
  auto b = std::make_unique<sqlite_backend>();
  if (auto ok = b->open(path); !ok) return ok.error();
  return detail::make_accounts(std::move(b));
}

}  // namespace dalil::store
