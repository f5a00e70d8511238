// The identity tables on PostgreSQL: the queries, the transactions and the locks under the
// accounts' one policy (store/accounts_core.hpp), shared by every server on the database; how the
// locks make that hold across processes is said at begin() and in docs/postgresql.md.
#include <optional>
#include <utility>

#include "store/accounts_check.hpp"
#include "store/accounts_core.hpp"
#include "store/pg/pg_checks.hpp"
#include "store/pg/pg_store.hpp"

namespace dalil::store::pg {

namespace {

using dalil::store::detail::account_backend;
using dalil::store::detail::client_row;

/// Serializes the reservations of login attempts (count, then insert) across every process.
constexpr std::int64_t login_lock_key = 0x64616c696c05;

/// A bytea parameter (libpq's text form of bytea).
std::string bytea(const engine::digest& d) {
  return "\\x" + d.hex();
}

engine::digest digest_of(std::string_view hex) {
  auto d = engine::digest::from_hex(hex);
  return d ? *d : engine::digest{};
}

param office_param(const std::string& office) {
  return office.empty() ? param() : param(office);
}

constexpr const char* user_columns =
    "SELECT user_id, name, role, coalesce(office, ''), lang, password_hash, disabled, created_at, "
    "coalesce(disabled_at, '') FROM users ";
constexpr const char* client_columns =
    "SELECT token_id, name, role, coalesce(office, ''), created_at, expires IS NOT NULL, "
    "coalesce(expires, 0), encode(token_hash, 'hex'), coalesce(revoked_at, '') FROM tokens ";

account user_at(const rows& r, int i) {
  account a;
  a.id = r.int64(i, 0);
  a.name = r.text(i, 1);
  a.role = r.text(i, 2);
  a.office = r.text(i, 3);
  a.lang = r.text(i, 4);
  a.password_hash = r.text(i, 5);
  a.disabled = r.int64(i, 6) != 0;
  a.created_at = r.text(i, 7);
  return a;
}

account client_at(const rows& r, int i) {
  return client_row(r.int64(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4),
                    r.view(i, 5) == "t", r.int64(i, 6));
}

class pg_backend final : public account_backend {
 public:
  explicit pg_backend(std::unique_ptr<pg_store> s) : pg_(std::move(s)) {}

  /// A write holds the chain's lock from its start (not only at the append): every account
  /// write is ordered after the one before it, so a check (a name taken, a user enabled) and
  /// the write it guards cannot interleave with another process's. A reservation holds the
  /// login lock: every server's reservations one at a time, each counting after the previous
  /// one committed its attempt (READ COMMITTED: a statement after the lock sees it), so that N
  /// parallel attempts on N servers cannot all find the count under the limit. A count of
  /// refusals holds no lock but its rows'.
  status begin(tx kind, std::string_view what) override {
    auto t = transaction::begin(c(), what);
    if (!t) return t.error();
    tx_ = std::move(*t);
    // A count of refusals takes no lock of its own: under a flood, the refusals after the first
    // of a window wait only on their rows' upserts, never behind the chain's lock, which the
    // first takes when it appends its entry.
    std::int64_t lock = 0;
    if (kind == tx::write) lock = chain_lock_key;
    if (kind == tx::attempts) lock = login_lock_key;
    if (lock != 0) {
      if (auto s = c().run(what, "SELECT pg_advisory_xact_lock($1)", {std::to_string(lock)}); !s) {
        tx_.rollback();
        return s.error();
      }
    }
    return {};
  }

  status commit(std::string_view what) override {
    auto s = tx_.commit(what);
    tx_ = transaction();
    return s;
  }

  void rollback() override { tx_.rollback(); }

  /// The database's clock, whatever the caller's (`local`) says: every server measures the
  /// windows and the sessions alike (clock_timestamp(): the time now, not the transaction's
  /// start, which a lock may have delayed).
  result<std::int64_t> now_ms(std::int64_t /*local_ms*/) override {
    auto q = c().query("reading the database's clock",
                       "SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint");
    if (!q) return q.error();
    return q->int64(0, 0);
  }

  result<std::int64_t> audit(const std::string& actor, const std::string& action,
                             const std::string& subject, const std::string& details) override {
    return pg_->append_in(actor, action, subject, details);
  }

  status bump() override {
    return c().run("bumping the accounts' generation",
                   "UPDATE accounts_generation SET generation=generation+1 WHERE id=1");
  }

  result<std::int64_t> generation() override {
    // Its own statement: it sees every change committed by any process until now.
    auto q = c().query("reading the accounts' generation",
                       "SELECT generation FROM accounts_generation WHERE id=1");
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::failed, "reading the accounts' generation: no row");
    return q->int64(0, 0);
  }

  result<bool> insert_office(const std::string& name, const std::string& at) override {
    auto q = c().query("storing the office",
                       "INSERT INTO offices VALUES($1, $2) ON CONFLICT DO NOTHING RETURNING 1",
                       {name, at});
    if (!q) return q.error();
    return q->size() > 0;
  }

  result<std::string> holder(const std::string& name) override {
    auto q = c().query("reading users",
                       "SELECT 'user' FROM users WHERE name=$1 UNION ALL SELECT 'client' FROM "
                       "tokens WHERE name=$1 LIMIT 1",
                       {name});
    if (!q) return q.error();
    if (q->size() == 0) return std::string();
    return q->text(0, 0);
  }

  result<std::int64_t> insert_user(const account& row) override {
    // Ids are max + 1 under the chain's lock, as SQLite's rowids are (a copy keeps them).
    auto q = c().query("adding user " + row.name,
                       "INSERT INTO users(user_id, name, role, office, lang, password_hash, "
                       "created_at) SELECT coalesce(max(user_id), 0) + 1, $1, $2, $3, $4, $5, "
                       "$6 FROM users RETURNING user_id",
                       {row.name, row.role, office_param(row.office), row.lang, row.password_hash,
                        row.created_at});
    if (!q) return q.error();
    return q->int64(0, 0);
  }

  result<account> user(const std::string& name) override {
    auto q = c().query("reading users", std::string(user_columns) + "WHERE name=$1", {name});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no user " + name);
    return user_at(*q, 0);
  }

  status set_disabled(std::int64_t user_id, const std::string& at) override {
    if (at.empty()) {
      return c().run("enabling the user",
                     "UPDATE users SET disabled=0, disabled_at=NULL WHERE user_id=$1",
                     {std::to_string(user_id)});
    }
    return c().run("disabling the user",
                   "UPDATE users SET disabled=1, disabled_at=$1 WHERE user_id=$2",
                   {at, std::to_string(user_id)});
  }

  status set_password(std::int64_t user_id, const std::string& password_hash) override {
    return c().run("storing the password hash",
                   "UPDATE users SET password_hash=$1 WHERE user_id=$2",
                   {password_hash, std::to_string(user_id)});
  }

  result<bool> set_lang(const std::string& user, const std::string& lang) override {
    auto q = c().query("storing the language", "UPDATE users SET lang=$1 WHERE name=$2 RETURNING 1",
                       {lang, user});
    if (!q) return q.error();
    return q->size() > 0;
  }

  result<std::int64_t> end_sessions_of(std::int64_t user_id) override {
    auto q = c().query("ending the user's sessions",
                       "WITH gone AS (DELETE FROM sessions WHERE user_id=$1 RETURNING 1) SELECT "
                       "count(*) FROM gone",
                       {std::to_string(user_id)});
    if (!q) return q.error();
    return q->int64(0, 0);
  }

  result<bool> has_active_token(const std::string& name) override {
    auto q = c().query("reading tokens",
                       "SELECT 1 FROM tokens WHERE name=$1 AND revoked_at IS NULL", {name});
    if (!q) return q.error();
    return q->size() > 0;
  }

  result<std::int64_t> insert_token(const account& row, const engine::digest& hash) override {
    auto q = c().query("storing the token's hash",
                       "INSERT INTO tokens(token_id, name, role, office, token_hash, created_at, "
                       "expires) SELECT coalesce(max(token_id), 0) + 1, $1, $2, $3, $4, $5, $6 "
                       "FROM tokens RETURNING token_id",
                       {row.name, row.role, office_param(row.office), bytea(hash), row.created_at,
                        std::to_string(row.expires)});
    if (!q) return q.error();
    return q->int64(0, 0);
  }

  result<bool> revoke_token(const std::string& name, const std::string& at) override {
    auto q = c().query("revoking the token",
                       "UPDATE tokens SET revoked_at=$1 WHERE name=$2 AND revoked_at IS NULL "
                       "RETURNING 1",
                       {at, name});
    if (!q) return q.error();
    return q->size() > 0;
  }

  result<std::vector<account>> users() override {
    auto q = c().query("reading users", std::string(user_columns) + "ORDER BY name COLLATE \"C\"");
    if (!q) return q.error();
    std::vector<account> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) out.push_back(user_at(*q, i));
    return out;
  }

  result<std::vector<account>> clients() override {
    auto q =
        c().query("reading tokens", std::string(client_columns) +
                                        "WHERE revoked_at IS NULL ORDER BY name COLLATE \"C\"");
    if (!q) return q.error();
    std::vector<account> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) out.push_back(client_at(*q, i));
    return out;
  }

  result<std::vector<std::string>> offices() override {
    auto q = c().query("reading offices", "SELECT name FROM offices ORDER BY name COLLATE \"C\"");
    if (!q) return q.error();
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) out.push_back(q->text(i, 0));
    return out;
  }

  result<account> token(const engine::digest& hash) override {
    auto q = c().query("reading tokens",
                       std::string(client_columns) + "WHERE token_hash=$1 AND revoked_at IS NULL",
                       {bytea(hash)});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no active token has this hash");
    return client_at(*q, 0);
  }

  result<std::vector<std::pair<engine::digest, account>>> tokens() override {
    auto q = c().query("reading tokens", std::string(client_columns) + "WHERE revoked_at IS NULL");
    if (!q) return q.error();
    std::vector<std::pair<engine::digest, account>> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i)
      out.emplace_back(digest_of(q->view(i, 7)), client_at(*q, i));
    return out;
  }

  status purge_attempts(std::int64_t at) override {
    // Purges skip the rows another transaction holds (a login deleting its own, another
    // purge): they never wait, so they cannot close a cycle of waits (SQLSTATE 40P01) with a
    // login's delete taking the same rows in another order; what they skip, the next one takes.
    return c().run("purging old login attempts",
                   "DELETE FROM login_attempts WHERE attempt_id IN (SELECT attempt_id FROM "
                   "login_attempts WHERE at <= $1 FOR UPDATE SKIP LOCKED)",
                   {std::to_string(at)});
  }

  result<std::int64_t> count_attempts(key k, const engine::digest& account_key,
                                      const std::string& address, std::int64_t since) override {
    auto n = c().query(
        "counting login attempts",
        std::string("SELECT count(*) FROM login_attempts WHERE ") + column(k) + "=$1 AND at > $2",
        {attempt_key(k, account_key, address), std::to_string(since)});
    if (!n) return n.error();
    return n->int64(0, 0);
  }

  result<std::int64_t> attempt_at(key k, const engine::digest& account_key,
                                  const std::string& address, std::int64_t since,
                                  std::int64_t offset) override {
    auto q = c().query(
        "reading login attempts",
        std::string("SELECT at FROM login_attempts WHERE ") + column(k) +
            "=$1 AND at > $2 ORDER BY at DESC LIMIT 1 OFFSET $3",
        {attempt_key(k, account_key, address), std::to_string(since), std::to_string(offset)});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::failed, "reading login attempts: none found");
    return q->int64(0, 0);
  }

  result<std::int64_t> insert_attempt(std::int64_t at, const engine::digest& account_key,
                                      const std::string& address) override {
    auto q = c().query("recording a login attempt",
                       "INSERT INTO login_attempts(at, account, address) VALUES($1, $2, $3) "
                       "RETURNING attempt_id",
                       {std::to_string(at), bytea(account_key), address});
    if (!q) return q.error();
    return q->int64(0, 0);
  }

  status clear_attempts(std::int64_t attempt_id, const engine::digest& account_key,
                        const std::string& address) override {
    return c().run("clearing login attempts",
                   "DELETE FROM login_attempts WHERE attempt_id=$1 OR (account=$2 AND "
                   "address=$3)",
                   {std::to_string(attempt_id), bytea(account_key), address});
  }

  status purge_refusals(std::int64_t window_start) override {
    // As purge_attempts: never waiting on a row another count holds.
    return c().run("purging old refusal counts",
                   "DELETE FROM login_throttles WHERE (kind, key, window_start) IN (SELECT kind, "
                   "key, window_start FROM login_throttles WHERE window_start < $1 FOR UPDATE "
                   "SKIP LOCKED)",
                   {std::to_string(window_start)});
  }

  result<std::int64_t> count_refusal(key k, const engine::digest& account_key,
                                     const std::string& address,
                                     std::int64_t window_start) override {
    auto q = c().query("counting a refused login",
                       "INSERT INTO login_throttles(kind, key, window_start, refused) "
                       "VALUES($1, $2, $3, 1) ON CONFLICT(kind, key, window_start) DO UPDATE "
                       "SET refused = login_throttles.refused + 1 RETURNING refused",
                       {std::string(column(k)), refusal_key(k, account_key, address),
                        std::to_string(window_start)});
    if (!q) return q.error();
    return q->int64(0, 0);
  }

  result<std::int64_t> refusals(key k, const engine::digest& account_key,
                                const std::string& address, std::int64_t window_start) override {
    auto q = c().query("reading refusal counts",
                       "SELECT refused FROM login_throttles WHERE kind=$1 AND key=$2 "
                       "AND window_start=$3",
                       {std::string(column(k)), refusal_key(k, account_key, address),
                        std::to_string(window_start)});
    if (!q) return q.error();
    return q->size() > 0 ? q->int64(0, 0) : 0;
  }

  result<device_trust> device(const engine::digest& device_hash, const engine::digest& account_key,
                              std::int64_t since) override {
    auto q = c().query("reading known devices",
                       "SELECT count(*), count(*) FILTER (WHERE account=$1) FROM login_devices "
                       "WHERE device=$2 AND last_login > $3",
                       {bytea(account_key), bytea(device_hash), std::to_string(since)});
    if (!q) return q.error();
    device_trust t;
    t.known = q->int64(0, 0) > 0;
    t.for_account = q->int64(0, 1) > 0;
    return t;
  }

  result<bool> keep_device(const engine::digest& device_hash, const engine::digest& account_key,
                           const engine::digest& session_hash, std::int64_t at) override {
    auto q = c().query(
        "remembering a device",
        "INSERT INTO login_devices(device, account, last_login) SELECT $1::bytea, "
        "$2::bytea, $3::bigint WHERE EXISTS (SELECT 1 FROM sessions WHERE "
        "id_hash=$4::bytea) ON CONFLICT(device, account) DO UPDATE SET "
        "last_login=greatest(login_devices.last_login, excluded.last_login) "
        "RETURNING 1",
        {bytea(device_hash), bytea(account_key), std::to_string(at), bytea(session_hash)});
    if (!q) return q.error();
    return q->size() > 0;
  }

  status purge_devices(std::int64_t since) override {
    // As purge_attempts: never waiting on a row another login holds.
    return c().run("forgetting old devices",
                   "DELETE FROM login_devices WHERE (device, account) IN (SELECT device, account "
                   "FROM login_devices WHERE last_login <= $1 FOR UPDATE SKIP LOCKED)",
                   {std::to_string(since)});
  }

  status trim_devices(const engine::digest& account_key, std::int64_t keep) override {
    // As purge_devices: never waiting on a row another login or a disable holds.
    return c().run("forgetting an account's oldest devices",
                   "DELETE FROM login_devices WHERE (device, account) IN (SELECT device, account "
                   "FROM login_devices WHERE account=$1 AND device NOT IN (SELECT device FROM "
                   "login_devices WHERE account=$1 ORDER BY last_login DESC, device LIMIT $2) FOR "
                   "UPDATE SKIP LOCKED)",
                   {bytea(account_key), std::to_string(keep)});
  }

  status forget_devices(const engine::digest& account_key) override {
    return c().run("forgetting an account's devices", "DELETE FROM login_devices WHERE account=$1",
                   {bytea(account_key)});
  }

  result<bool> insert_session(const session_row& session) override {
    auto q = c().query(
        "storing the session",
        "INSERT INTO sessions(id_hash, user_id, created, last_seen) SELECT $1, "
        "user_id, $2, $3 FROM users WHERE user_id=$4 AND disabled=0 AND "
        "password_hash=$5 RETURNING 1",
        {bytea(session.id_hash), std::to_string(session.created), std::to_string(session.last_seen),
         std::to_string(session.user.id), session.user.password_hash});
    if (!q) return q.error();
    return q->size() > 0;
  }

  result<session_row> session(const engine::digest& id_hash) override {
    auto q = c().query("reading sessions",
                       "SELECT s.created, s.last_seen, u.user_id, u.name, u.role, "
                       "coalesce(u.office, ''), u.lang, u.disabled FROM sessions s JOIN users u "
                       "USING(user_id) WHERE s.id_hash=$1",
                       {bytea(id_hash)});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no such session");
    session_row s;
    s.id_hash = id_hash;
    s.created = q->int64(0, 0);
    s.last_seen = q->int64(0, 1);
    s.user.id = q->int64(0, 2);
    s.user.name = q->text(0, 3);
    s.user.role = q->text(0, 4);
    s.user.office = q->text(0, 5);
    s.user.lang = q->text(0, 6);
    s.user.disabled = q->int64(0, 7) != 0;
    return s;
  }

  result<bool> touch_session(const engine::digest& id_hash, std::int64_t last_seen) override {
    auto q = c().query("updating the session",
                       "UPDATE sessions SET last_seen=greatest(last_seen, $1) WHERE id_hash=$2 "
                       "RETURNING 1",
                       {std::to_string(last_seen), bytea(id_hash)});
    if (!q) return q.error();
    return q->size() > 0;
  }

  result<bool> delete_session(const engine::digest& id_hash, std::string_view what) override {
    auto q = c().query(what, "DELETE FROM sessions WHERE id_hash=$1 RETURNING 1", {bytea(id_hash)});
    if (!q) return q.error();
    return q->size() > 0;
  }

  result<std::int64_t> purge_sessions(std::int64_t created, std::int64_t seen) override {
    // As purge_attempts: concurrent purges of several servers never wait on each other.
    auto q = c().query("deleting expired sessions",
                       "WITH gone AS (DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM "
                       "sessions WHERE created <= $1 OR last_seen <= $2 FOR UPDATE SKIP LOCKED) "
                       "RETURNING 1) SELECT count(*) FROM gone",
                       {std::to_string(created), std::to_string(seen)});
    if (!q) return q.error();
    return q->int64(0, 0);
  }

  result<std::vector<dalil::store::detail::account_problem>> check() override {
    constexpr std::string_view what = "reading the accounts";
    // One snapshot: the log and the tables as of the same moment.
    auto t = transaction::begin(c(), what, "ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (!t) return t.error();
    auto entries = c().query(what, std::string("SELECT seq, action, subject, details FROM audit "
                                               "WHERE action IN (") +
                                       dalil::store::detail::account_actions + ") ORDER BY seq");
    if (!entries) return entries.error();
    std::vector<dalil::store::detail::account_entry> list;
    list.reserve(static_cast<std::size_t>(entries->size()));
    for (int i = 0; i < entries->size(); ++i) {
      list.push_back(
          {entries->int64(i, 0), entries->text(i, 1), entries->text(i, 2), entries->text(i, 3)});
    }
    return detail::check_accounts(c(), list);
  }

 private:
  connection& c() { return pg_->conn(); }

  /// The column (login_attempts) or the kind (login_throttles) of a key.
  static const char* column(key k) { return k == key::account ? "account" : "address"; }

  /// A login attempt's key: the account's digest as bytea, or the address.
  static std::string attempt_key(key k, const engine::digest& account_key,
                                 const std::string& address) {
    return k == key::account ? bytea(account_key) : address;
  }

  /// A refusal count's key (text): the account's digest in hex, or the address as keyed.
  static std::string refusal_key(key k, const engine::digest& account_key,
                                 const std::string& address) {
    return k == key::account ? account_key.hex() : address;
  }

  std::unique_ptr<pg_store> pg_;
  transaction tx_;
};

}  // namespace

namespace detail {

result<std::vector<dalil::store::detail::account_problem>> check_accounts(
    connection& c, const std::vector<dalil::store::detail::account_entry>& entries) {
  constexpr std::string_view what = "reading the identity tables";
  dalil::store::detail::account_rows rows;
  auto offices = c.query(what, "SELECT name, created_at FROM offices ORDER BY name COLLATE \"C\"");
  if (!offices) return offices.error();
  for (int i = 0; i < offices->size(); ++i) {
    rows.offices.push_back({offices->text(i, 0), offices->text(i, 1)});
  }
  auto users = c.query(what, std::string(user_columns) + "ORDER BY user_id");
  if (!users) return users.error();
  for (int i = 0; i < users->size(); ++i) {
    rows.users.push_back({user_at(*users, i), users->text(i, 8)});
  }
  auto tokens = c.query(what, std::string(client_columns) + "ORDER BY token_id");
  if (!tokens) return tokens.error();
  for (int i = 0; i < tokens->size(); ++i) {
    rows.tokens.push_back({client_at(*tokens, i), tokens->text(i, 7), tokens->text(i, 8)});
  }
  auto sessions = c.query(what,
                          "SELECT encode(s.id_hash, 'hex'), u.name, s.created, s.last_seen FROM "
                          "sessions s JOIN users u USING(user_id) ORDER BY u.name COLLATE \"C\"");
  if (!sessions) return sessions.error();
  for (int i = 0; i < sessions->size(); ++i) {
    rows.sessions.push_back({digest_of(sessions->view(i, 0)), sessions->text(i, 1),
                             sessions->int64(i, 2), sessions->int64(i, 3)});
  }
  return dalil::store::detail::check_account_rows(rows, entries);
}

}  // namespace detail

result<std::unique_ptr<accounts>> open_accounts(const std::string& conninfo) {
  auto s = pg_store::open(conninfo);
  if (!s) return s.error();
  return dalil::store::detail::make_accounts(std::make_unique<pg_backend>(std::move(*s)));
}

}  // namespace dalil::store::pg
