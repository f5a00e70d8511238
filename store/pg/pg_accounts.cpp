// The identity tables on PostgreSQL (accounts.hpp): the SQLite store's semantics and audit
// entries, shared by every server on the database; how the locks make that hold across processes
// is said at write() and reserve_attempt(), and in docs/postgresql.md.
#include <mutex>
#include <utility>

#include "store/accounts_check.hpp"
#include "store/pg/pg_checks.hpp"
#include "store/pg/pg_store.hpp"

namespace dalil::store::pg {

namespace {

using dalil::store::detail::account_row_digest;
using dalil::store::detail::check_principal;
using dalil::store::detail::client_row;
using dalil::store::detail::unix_seconds;

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

class pg_accounts final : public accounts {
 public:
  explicit pg_accounts(std::unique_ptr<pg_store> s) : pg_(std::move(s)) {}

  result<bool> add_office(const std::string& name, const std::string& actor) override {
    if (!valid_account_name(name)) {
      return fail(errc::refused,
                  "the office name must be 1 to 64 of A-Z a-z 0-9 . _ - @, starting with a "
                  "letter or digit");
    }
    std::lock_guard lock(mutex_);
    return write<bool>("adding office " + name, [&]() -> result<bool> {
      auto created = ensure_office(name, actor);
      if (!created) return created.error();
      if (!*created) return fail(errc::conflict, "office " + name + " exists already");
      return true;
    });
  }

  result<added> add_user(const account& user, const std::string& actor) override {
    if (auto ok = check_principal(user, false); !ok) return ok.error();
    if (user.password_hash.empty()) {
      return fail(errc::refused, "user " + user.name + ": no password hash");
    }
    std::lock_guard lock(mutex_);
    const std::string what = "adding user " + user.name;
    return write<added>(what, [&]() -> result<added> {
      if (auto taken = name_taken(user.name); !taken) return taken.error();
      account row = user;
      row.created_at = now_utc();
      added out;
      if (!user.office.empty()) {
        auto created = ensure_office(user.office, actor);
        if (!created) return created.error();
        out.created_office = *created;
      }
      // Ids are max + 1 under the chain's lock, as SQLite's rowids are (a copy keeps them).
      auto q = c().query(what,
                         "INSERT INTO users(user_id, name, role, office, lang, password_hash, "
                         "created_at) SELECT coalesce(max(user_id), 0) + 1, $1, $2, $3, $4, $5, "
                         "$6 FROM users RETURNING user_id",
                         {user.name, user.role, office_param(user.office), user.lang,
                          user.password_hash, row.created_at});
      if (!q) return q.error();
      row.id = q->int64(0, 0);
      auto audited = audit(actor, "user_add", "user " + user.name,
                           "{\"role\":\"" + user.role + "\",\"office\":\"" + user.office +
                               "\",\"lang\":\"" + user.lang + "\",\"row\":\"" +
                               account_row_digest(row, user.password_hash) + "\"}");
      if (!audited) return audited.error();
      return out;
    });
  }

  result<std::int64_t> disable_user(const std::string& name, const std::string& actor) override {
    std::lock_guard lock(mutex_);
    const std::string what = "disabling user " + name;
    return write<std::int64_t>(what, [&]() -> result<std::int64_t> {
      auto id = user_id(name);
      if (!id) return id.error();
      std::string at = now_utc();
      if (auto s = c().run(what, "UPDATE users SET disabled=1, disabled_at=$1 WHERE user_id=$2",
                           {at, std::to_string(*id)});
          !s) {
        return s.error();
      }
      auto ended = end_sessions_of(*id);
      if (!ended) return ended.error();
      if (auto b = bump(); !b) return b.error();
      auto audited =
          audit(actor, "user_disable", "user " + name,
                "{\"sessions_ended\":" + std::to_string(*ended) + ",\"at\":\"" + at + "\"}");
      if (!audited) return audited.error();
      return *ended;
    });
  }

  status enable_user(const std::string& name, const std::string& actor) override {
    std::lock_guard lock(mutex_);
    const std::string what = "enabling user " + name;
    return write<void>(what, [&]() -> status {
      auto id = user_id(name);
      if (!id) return id.error();
      if (auto s = c().run(what, "UPDATE users SET disabled=0, disabled_at=NULL WHERE user_id=$1",
                           {std::to_string(*id)});
          !s) {
        return s;
      }
      if (auto b = bump(); !b) return b;
      auto audited = audit(actor, "user_enable", "user " + name, "{}");
      if (!audited) return audited.error();
      return {};
    });
  }

  result<std::int64_t> set_password(const std::string& name, const std::string& password_hash,
                                    const std::string& actor) override {
    if (password_hash.empty()) return fail(errc::refused, "user " + name + ": no password hash");
    std::lock_guard lock(mutex_);
    const std::string what = "changing the password of " + name;
    return write<std::int64_t>(what, [&]() -> result<std::int64_t> {
      auto found = user_locked(name);
      if (!found) return found.error();
      if (auto s = c().run(what, "UPDATE users SET password_hash=$1 WHERE user_id=$2",
                           {password_hash, std::to_string(found->id)});
          !s) {
        return s.error();
      }
      auto ended = end_sessions_of(found->id);
      if (!ended) return ended.error();
      if (auto b = bump(); !b) return b.error();
      auto audited = audit(actor, "user_password", "user " + name,
                           "{\"sessions_ended\":" + std::to_string(*ended) + ",\"row\":\"" +
                               account_row_digest(*found, password_hash) + "\"}");
      if (!audited) return audited.error();
      return *ended;
    });
  }

  result<added> add_token(const account& client, const engine::digest& token_hash,
                          const std::string& actor) override {
    if (auto ok = check_principal(client, true); !ok) return ok.error();
    std::lock_guard lock(mutex_);
    const std::string what = "adding client " + client.name;
    return write<added>(what, [&]() -> result<added> {
      auto user = c().query(what, "SELECT 1 FROM users WHERE name=$1", {client.name});
      if (!user) return user.error();
      if (user->size() > 0) {
        return fail(errc::conflict, "client " + client.name +
                                        ": a user has this name (a principal's name is "
                                        "unique among users and clients)");
      }
      auto active = c().query(what, "SELECT 1 FROM tokens WHERE name=$1 AND revoked_at IS NULL",
                              {client.name});
      if (!active) return active.error();
      if (active->size() > 0) {
        return fail(errc::conflict, "client " + client.name +
                                        " has an active token: revoke it first (dalil token "
                                        "revoke " +
                                        client.name + ")");
      }
      added out;
      if (!client.office.empty()) {
        auto created = ensure_office(client.office, actor);
        if (!created) return created.error();
        out.created_office = *created;
      }
      account row = client;
      row.created_at = now_utc();
      row.machine = true;
      row.expires_recorded = true;
      std::int64_t now = unix_seconds(row.created_at);
      if (row.expires == 0) row.expires = now + default_token_days * 24 * 60 * 60;
      if (row.expires <= now || row.expires > now + max_token_days * 24 * 60 * 60) {
        return fail(errc::refused, "client " + client.name +
                                       ": a token expires after now and at "
                                       "most " +
                                       std::to_string(max_token_days) + " days ahead");
      }
      auto q = c().query(what,
                         "INSERT INTO tokens(token_id, name, role, office, token_hash, created_at, "
                         "expires) SELECT coalesce(max(token_id), 0) + 1, $1, $2, $3, $4, $5, $6 "
                         "FROM tokens RETURNING token_id",
                         {client.name, client.role, office_param(client.office), bytea(token_hash),
                          row.created_at, std::to_string(row.expires)});
      if (!q) return q.error();
      row.id = q->int64(0, 0);
      if (auto b = bump(); !b) return b.error();
      auto audited = audit(actor, "token_create", "client " + client.name,
                           "{\"role\":\"" + client.role + "\",\"office\":\"" + client.office +
                               "\",\"expires\":" + std::to_string(row.expires) + ",\"row\":\"" +
                               account_row_digest(row, token_hash.hex()) + "\"}");
      if (!audited) return audited.error();
      return out;
    });
  }

  status revoke_token(const std::string& name, const std::string& actor) override {
    std::lock_guard lock(mutex_);
    const std::string what = "revoking the token of " + name;
    return write<void>(what, [&]() -> status {
      std::string at = now_utc();
      auto q = c().query(what,
                         "UPDATE tokens SET revoked_at=$1 WHERE name=$2 AND revoked_at IS NULL "
                         "RETURNING 1",
                         {at, name});
      if (!q) return q.error();
      if (q->size() == 0) return fail(errc::not_found, "client " + name + " has no active token");
      if (auto b = bump(); !b) return b;
      auto audited = audit(actor, "token_revoke", "client " + name, "{\"at\":\"" + at + "\"}");
      if (!audited) return audited.error();
      return {};
    });
  }

  result<std::vector<account>> users() override {
    std::lock_guard lock(mutex_);
    auto q = c().query("reading users", std::string(user_columns) + "ORDER BY name COLLATE \"C\"");
    if (!q) return q.error();
    std::vector<account> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) out.push_back(user_at(*q, i));
    return out;
  }

  result<std::vector<account>> clients() override {
    std::lock_guard lock(mutex_);
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
    std::lock_guard lock(mutex_);
    auto q = c().query("reading offices", "SELECT name FROM offices ORDER BY name COLLATE \"C\"");
    if (!q) return q.error();
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) out.push_back(q->text(i, 0));
    return out;
  }

  result<account> user(const std::string& name) override {
    std::lock_guard lock(mutex_);
    return user_locked(name);
  }

  result<account> token(const engine::digest& token_hash) override {
    std::lock_guard lock(mutex_);
    auto q = c().query("reading tokens",
                       std::string(client_columns) + "WHERE token_hash=$1 AND revoked_at IS NULL",
                       {bytea(token_hash)});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no active token has this hash");
    return client_at(*q, 0);
  }

  result<std::vector<std::pair<engine::digest, account>>> tokens() override {
    std::lock_guard lock(mutex_);
    auto q = c().query("reading tokens", std::string(client_columns) + "WHERE revoked_at IS NULL");
    if (!q) return q.error();
    std::vector<std::pair<engine::digest, account>> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i)
      out.emplace_back(digest_of(q->view(i, 7)), client_at(*q, i));
    return out;
  }

  result<std::int64_t> generation() override {
    std::lock_guard lock(mutex_);
    // Its own statement: it sees every change committed by any process until now.
    auto q = c().query("reading the accounts' generation",
                       "SELECT generation FROM accounts_generation WHERE id=1");
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::failed, "reading the accounts' generation: no row");
    return q->int64(0, 0);
  }

  result<attempt_slot> reserve_attempt(const engine::digest& account_key,
                                       const std::string& address, std::int64_t now,
                                       std::int64_t max_failures, std::int64_t window) override {
    std::lock_guard lock(mutex_);
    constexpr std::string_view what = "recording a login attempt";
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    // Every server's reservations, one at a time: each counts after the previous one committed
    // its attempt (READ COMMITTED: a statement after the lock sees it), so that N parallel
    // attempts on N servers cannot all find the count under the limit.
    if (auto s =
            c().run(what, "SELECT pg_advisory_xact_lock($1)", {std::to_string(login_lock_key)});
        !s) {
      return s.error();
    }
    const std::string since = std::to_string(now - window);
    if (auto s = c().run(what, "DELETE FROM login_attempts WHERE at <= $1", {since}); !s) {
      return s.error();
    }
    attempt_slot slot;
    auto over = [&](const char* column, const std::string& key) -> result<std::int64_t> {
      std::string where = std::string(" FROM login_attempts WHERE ") + column + "=$1 AND at > $2";
      auto n = c().query(what, "SELECT count(*)" + where, {key, since});
      if (!n) return n.error();
      std::int64_t count = n->int64(0, 0);
      if (column == std::string_view("account")) slot.account_failures = count;
      if (count < max_failures) return std::int64_t{0};
      auto kth = c().query(what, "SELECT at" + where + " ORDER BY at DESC LIMIT 1 OFFSET $3",
                           {key, since, std::to_string(max_failures - 1)});
      if (!kth) return kth.error();
      if (kth->size() == 0) return fail(errc::failed, "reading login attempts: none found");
      return std::max<std::int64_t>(1, kth->int64(0, 0) + window - now);
    };
    auto by_account = over("account", bytea(account_key));
    if (!by_account) return by_account.error();
    auto by_address = over("address", address);
    if (!by_address) return by_address.error();
    slot.account_over = *by_account > 0;
    slot.address_over = *by_address > 0;
    slot.retry_after = std::max(*by_account, *by_address);
    if (slot.retry_after == 0) {
      auto q = c().query(what,
                         "INSERT INTO login_attempts(at, account, address) VALUES($1, $2, $3) "
                         "RETURNING attempt_id",
                         {std::to_string(now), bytea(account_key), address});
      if (!q) return q.error();
      slot.attempt_id = q->int64(0, 0);
      ++slot.account_failures;
    }
    if (auto s = tx->commit(what); !s) return s.error();  // the purge commits either way
    return slot;
  }

  result<bool> login_throttled(const engine::digest& account_key, bool account_over,
                               const std::string& address, bool address_over,
                               std::int64_t window_start, std::int64_t window,
                               const std::string& subject) override {
    std::lock_guard lock(mutex_);
    constexpr std::string_view what = "counting a refused login";
    return write<bool>(std::string(what), [&]() -> result<bool> {
      if (auto s = c().run(what, "DELETE FROM login_throttles WHERE window_start < $1",
                           {std::to_string(window_start - window)});
          !s) {
        return s.error();
      }
      std::string first;
      std::string previous;
      // The key as text: an account's digest in hex, or the address as keyed.
      auto count = [&](const char* kind, const std::string& key) -> status {
        auto q = c().query(what,
                           "INSERT INTO login_throttles(kind, key, window_start, refused) "
                           "VALUES($1, $2, $3, 1) ON CONFLICT(kind, key, window_start) DO UPDATE "
                           "SET refused = login_throttles.refused + 1 RETURNING refused",
                           {std::string(kind), key, std::to_string(window_start)});
        if (!q) return q.error();
        if (q->int64(0, 0) != 1) return {};
        auto before = c().query(what,
                                "SELECT refused FROM login_throttles WHERE kind=$1 AND key=$2 "
                                "AND window_start=$3",
                                {std::string(kind), key, std::to_string(window_start - window)});
        if (!before) return before.error();
        if (!first.empty()) {
          first += ',';
          previous += ',';
        }
        first += std::string("\"") + kind + "\"";
        previous += std::string("\"") + kind +
                    "\":" + std::to_string(before->size() > 0 ? before->int64(0, 0) : 0);
        return {};
      };
      if (account_over) {
        if (auto s = count("account", account_key.hex()); !s) return s.error();
      }
      if (address_over) {
        if (auto s = count("address", address); !s) return s.error();
      }
      if (first.empty()) return false;
      auto audited = audit(
          "unauthenticated", "login_throttled", subject,
          dalil::store::detail::throttled_details(first, previous, address, window_start, window));
      if (!audited) return audited.error();
      return true;
    });
  }

  status login_failed(const std::string& subject, const std::string& details) override {
    std::lock_guard lock(mutex_);
    return write<void>("recording a failed login", [&]() -> status {
      auto audited = audit("unauthenticated", "login_failed", subject, details);
      if (!audited) return audited.error();
      return {};
    });
  }

  status login_succeeded(std::int64_t attempt_id, const engine::digest& account_key,
                         const std::string& address, const session_row& session,
                         const std::string& details) override {
    std::lock_guard lock(mutex_);
    constexpr std::string_view what = "storing a session";
    return write<void>(std::string(what), [&]() -> status {
      if (auto s = c().run(what,
                           "DELETE FROM login_attempts WHERE attempt_id=$1 OR (account=$2 AND "
                           "address=$3)",
                           {std::to_string(attempt_id), bytea(account_key), address});
          !s) {
        return s;
      }
      // Only for a user still enabled and with the password the login verified: a disable or a
      // new password committed since the password was read wins (it took the chain's lock
      // before this transaction did, so this statement sees it).
      auto q = c().query(what,
                         "INSERT INTO sessions(id_hash, user_id, created, last_seen) SELECT $1, "
                         "user_id, $2, $3 FROM users WHERE user_id=$4 AND disabled=0 AND "
                         "password_hash=$5 RETURNING 1",
                         {bytea(session.id_hash), std::to_string(session.created),
                          std::to_string(session.last_seen), std::to_string(session.user.id),
                          session.user.password_hash});
      if (!q) return q.error();
      if (q->size() == 0) {
        return fail(errc::refused,
                    "the user was disabled, or its password changed, during the login");
      }
      auto audited = audit(session.user.name, "login", "user " + session.user.name, details);
      if (!audited) return audited.error();
      return {};
    });
  }

  result<session_row> session(const engine::digest& id_hash) override {
    std::lock_guard lock(mutex_);
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

  status touch_session(const engine::digest& id_hash, std::int64_t last_seen) override {
    std::lock_guard lock(mutex_);
    auto q = c().query("updating the session",
                       "UPDATE sessions SET last_seen=greatest(last_seen, $1) WHERE id_hash=$2 "
                       "RETURNING 1",
                       {std::to_string(last_seen), bytea(id_hash)});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no such session");
    return {};
  }

  status end_session(const engine::digest& id_hash, const std::string& user,
                     const std::string& details) override {
    std::lock_guard lock(mutex_);
    constexpr std::string_view what = "ending a session";
    return write<void>(std::string(what), [&]() -> status {
      auto q =
          c().query(what, "DELETE FROM sessions WHERE id_hash=$1 RETURNING 1", {bytea(id_hash)});
      if (!q) return q.error();
      if (q->size() == 0) return fail(errc::not_found, "no such session");
      if (auto b = bump(); !b) return b;
      auto audited = audit(user, "logout", "user " + user, details);
      if (!audited) return audited.error();
      return {};
    });
  }

  status expire_session(const engine::digest& id_hash) override {
    std::lock_guard lock(mutex_);
    return c().run("deleting an expired session", "DELETE FROM sessions WHERE id_hash=$1",
                   {bytea(id_hash)});
  }

  result<std::int64_t> purge_sessions(std::int64_t now, std::int64_t idle,
                                      std::int64_t absolute) override {
    std::lock_guard lock(mutex_);
    auto q = c().query("deleting expired sessions",
                       "WITH gone AS (DELETE FROM sessions WHERE created <= $1 OR last_seen <= $2 "
                       "RETURNING 1) SELECT count(*) FROM gone",
                       {std::to_string(now - absolute), std::to_string(now - idle)});
    if (!q) return q.error();
    return q->int64(0, 0);
  }

  status set_lang(const std::string& user, const std::string& lang) override {
    if (!dalil::store::detail::is_lang(lang)) {
      return fail(errc::refused, "the language must be fr, ar or en");
    }
    std::lock_guard lock(mutex_);
    const std::string what = "setting the language of " + user;
    return write<void>(what, [&]() -> status {
      auto q = c().query(what, "UPDATE users SET lang=$1 WHERE name=$2 RETURNING 1", {lang, user});
      if (!q) return q.error();
      if (q->size() == 0) return fail(errc::not_found, "no user " + user);
      if (auto b = bump(); !b) return b;
      auto audited = audit(user, "user_lang", "user " + user, "{\"lang\":\"" + lang + "\"}");
      if (!audited) return audited.error();
      return {};
    });
  }

  status verify() override {
    std::lock_guard lock(mutex_);
    constexpr std::string_view what = "reading the accounts";
    // One snapshot: the log and the tables as of the same moment.
    auto tx = transaction::begin(c(), what, "ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (!tx) return tx.error();
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
    auto problems = detail::check_accounts(c(), list);
    if (!problems) return problems.error();
    if (problems->empty()) return {};
    std::string text = problems->front().what;
    if (problems->size() > 1) {
      text += " (and " + std::to_string(problems->size() - 1) + " more identity rows)";
    }
    return fail(errc::damaged, text);
  }

 private:
  connection& c() { return pg_->conn(); }

  /// Runs `f` in one transaction holding the chain's lock from its start: committed when it
  /// succeeds, rolled back otherwise. Taking the lock first (not only at the append) orders
  /// every account write after the one before it, so a check (a name taken, a user enabled)
  /// and the write it guards cannot interleave with another process's.
  template <class T, class F>
  result<T> write(const std::string& what, F&& f) {
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    if (auto s =
            c().run(what, "SELECT pg_advisory_xact_lock($1)", {std::to_string(chain_lock_key)});
        !s) {
      return s.error();
    }
    result<T> r = f();
    if (!r) return r;
    if (auto s = tx->commit(what); !s) return s.error();
    return r;
  }

  result<std::int64_t> audit(const std::string& actor, const std::string& action,
                             const std::string& subject, const std::string& details) {
    return pg_->append_in(actor, action, subject, details);
  }

  status bump() {
    return c().run("bumping the accounts' generation",
                   "UPDATE accounts_generation SET generation=generation+1 WHERE id=1");
  }

  result<bool> ensure_office(const std::string& name, const std::string& actor) {
    std::string at = now_utc();
    auto q = c().query("storing the office",
                       "INSERT INTO offices VALUES($1, $2) ON CONFLICT DO NOTHING RETURNING 1",
                       {name, at});
    if (!q) return q.error();
    if (q->size() == 0) return false;
    auto audited = audit(actor, "office_add", "office " + name, "{\"at\":\"" + at + "\"}");
    if (!audited) return audited.error();
    return true;
  }

  status name_taken(const std::string& name) {
    auto q = c().query("reading users",
                       "SELECT 'user' FROM users WHERE name=$1 UNION ALL SELECT 'client' FROM "
                       "tokens WHERE name=$1 LIMIT 1",
                       {name});
    if (!q) return q.error();
    if (q->size() == 0) return {};
    return fail(errc::conflict, q->view(0, 0) == "user"
                                    ? "user " + name + " exists already"
                                    : "user " + name +
                                          ": a machine client has this name (a principal's "
                                          "name is unique among users and clients)");
  }

  result<std::int64_t> user_id(const std::string& name) {
    auto q = c().query("reading users", "SELECT user_id FROM users WHERE name=$1", {name});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no user " + name);
    return q->int64(0, 0);
  }

  result<account> user_locked(const std::string& name) {
    auto q = c().query("reading users", std::string(user_columns) + "WHERE name=$1", {name});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no user " + name);
    return user_at(*q, 0);
  }

  result<std::int64_t> end_sessions_of(std::int64_t user) {
    auto q = c().query("ending the user's sessions",
                       "WITH gone AS (DELETE FROM sessions WHERE user_id=$1 RETURNING 1) SELECT "
                       "count(*) FROM gone",
                       {std::to_string(user)});
    if (!q) return q.error();
    return q->int64(0, 0);
  }

  std::mutex mutex_;
  std::unique_ptr<pg_store> pg_;
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
  return std::unique_ptr<accounts>(std::make_unique<pg_accounts>(std::move(*s)));
}

}  // namespace dalil::store::pg
