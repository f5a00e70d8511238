// The identity tables over SQLite (accounts.hpp): one connection behind a mutex, each change one
// write transaction with its audit entry and, when it ends or alters a principal, a bump of the
// generation counter that servers poll.
#include "store/accounts.hpp"

#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <vector>

#include "store/accounts_check.hpp"
#include "store/chain.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace dalil::store {

namespace {

using detail::account_row_digest;
using detail::check_principal;
using detail::client_row;
using detail::is_lang;
using detail::unix_seconds;

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

class sqlite_accounts final : public accounts {
 public:
  status open(const std::string& path) {
    std::string error;
    // The store's own open creates and migrates the schema (and audits an upgrade).
    if (auto s = open_sqlite(path); !s) return s.error();
    if (!db_.open(path, error)) return fail(errc::failed, error);
    return {};
  }

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
    return write<added>("adding user " + user.name, [&]() -> result<added> {
      if (auto taken = name_taken(user.name); !taken) return taken.error();
      account row = user;
      row.created_at = now_utc();
      added out;
      if (!user.office.empty()) {
        auto created = ensure_office(user.office, actor);
        if (!created) return created.error();
        out.created_office = *created;
      }
      auto q = prepare(
          "INSERT INTO users(name, role, office, lang, password_hash, created_at) "
          "VALUES(?,?,?,?,?,?)");
      if (!q) return q.error();
      q->bind(1, user.name).bind(2, user.role).bind(4, user.lang).bind(5, user.password_hash);
      bind_office(*q, 3, user.office);
      q->bind(6, row.created_at);
      if (auto done = step_done(*q, "storing the user"); !done) return done.error();
      row.id = db_.last_insert_id();
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
    return write<std::int64_t>("disabling user " + name, [&]() -> result<std::int64_t> {
      auto id = user_id(name);
      if (!id) return id.error();
      auto q = prepare("UPDATE users SET disabled=1, disabled_at=? WHERE user_id=?");
      if (!q) return q.error();
      std::string at = now_utc();
      q->bind(1, at).bind(2, *id);
      if (auto done = step_done(*q, "disabling the user"); !done) return done.error();
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
    return write<void>("enabling user " + name, [&]() -> status {
      auto id = user_id(name);
      if (!id) return id.error();
      auto q = prepare("UPDATE users SET disabled=0, disabled_at=NULL WHERE user_id=?");
      if (!q) return q.error();
      q->bind(1, *id);
      if (auto done = step_done(*q, "enabling the user"); !done) return done.error();
      if (auto b = bump(); !b) return b.error();
      auto audited = audit(actor, "user_enable", "user " + name, "{}");
      if (!audited) return audited.error();
      return {};
    });
  }

  result<std::int64_t> set_password(const std::string& name, const std::string& password_hash,
                                    const std::string& actor) override {
    if (password_hash.empty()) return fail(errc::refused, "user " + name + ": no password hash");
    std::lock_guard lock(mutex_);
    return write<std::int64_t>("changing the password of " + name, [&]() -> result<std::int64_t> {
      auto found = user_locked(name);
      if (!found) return found.error();
      auto q = prepare("UPDATE users SET password_hash=? WHERE user_id=?");
      if (!q) return q.error();
      q->bind(1, password_hash).bind(2, found->id);
      if (auto done = step_done(*q, "storing the password hash"); !done) return done.error();
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
    return write<added>("adding client " + client.name, [&]() -> result<added> {
      {
        auto q = prepare("SELECT 1 FROM users WHERE name=?");
        if (!q) return q.error();
        q->bind(1, client.name);
        int rc = q->step();
        if (rc == SQLITE_ROW) {
          return fail(errc::conflict, "client " + client.name +
                                          ": a user has this name (a principal's name is "
                                          "unique among users and clients)");
        }
        if (rc != SQLITE_DONE) return failure("reading users");
      }
      {
        auto q = prepare("SELECT 1 FROM tokens WHERE name=? AND revoked_at IS NULL");
        if (!q) return q.error();
        q->bind(1, client.name);
        int rc = q->step();
        if (rc == SQLITE_ROW) {
          return fail(errc::conflict, "client " + client.name +
                                          " has an active token: revoke it first (dalil token "
                                          "revoke " +
                                          client.name + ")");
        }
        if (rc != SQLITE_DONE) return failure("reading tokens");
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
      auto q = prepare(
          "INSERT INTO tokens(name, role, office, token_hash, created_at, expires) "
          "VALUES(?,?,?,?,?,?)");
      if (!q) return q.error();
      q->bind(1, client.name).bind(2, client.role).bind_static(4, token_hash);
      q->bind(5, row.created_at).bind(6, row.expires);
      bind_office(*q, 3, client.office);
      if (auto done = step_done(*q, "storing the token's hash"); !done) return done.error();
      row.id = db_.last_insert_id();
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
    return write<void>("revoking the token of " + name, [&]() -> status {
      auto q = prepare("UPDATE tokens SET revoked_at=? WHERE name=? AND revoked_at IS NULL");
      if (!q) return q.error();
      std::string at = now_utc();
      q->bind(1, at).bind(2, name);
      if (auto done = step_done(*q, "revoking the token"); !done) return done.error();
      if (sqlite3_changes(db_.handle()) == 0) {
        return fail(errc::not_found, "client " + name + " has no active token");
      }
      if (auto b = bump(); !b) return b.error();
      auto audited = audit(actor, "token_revoke", "client " + name, "{\"at\":\"" + at + "\"}");
      if (!audited) return audited.error();
      return {};
    });
  }

  result<std::vector<account>> users() override {
    std::lock_guard lock(mutex_);
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
    std::lock_guard lock(mutex_);
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
    std::lock_guard lock(mutex_);
    auto q = prepare("SELECT name FROM offices ORDER BY name");
    if (!q) return q.error();
    std::vector<std::string> out;
    int rc = 0;
    while ((rc = q->step()) == SQLITE_ROW) out.push_back(q->text(0));
    if (rc != SQLITE_DONE) return failure("reading offices");
    return out;
  }

  result<account> user(const std::string& name) override {
    std::lock_guard lock(mutex_);
    return user_locked(name);
  }

  result<account> token(const engine::digest& token_hash) override {
    std::lock_guard lock(mutex_);
    auto q = prepare(
        "SELECT token_id, name, role, ifnull(office,''), created_at, expires FROM tokens WHERE "
        "token_hash=? AND revoked_at IS NULL");
    if (!q) return q.error();
    q->bind_static(1, token_hash);
    int rc = q->step();
    if (rc == SQLITE_DONE) return fail(errc::not_found, "no active token has this hash");
    if (rc != SQLITE_ROW) return failure("reading tokens");
    return client_from(*q);
  }

  result<std::vector<std::pair<engine::digest, account>>> tokens() override {
    std::lock_guard lock(mutex_);
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

  result<std::int64_t> generation() override {
    std::lock_guard lock(mutex_);
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

  result<attempt_slot> reserve_attempt(const engine::digest& account_key,
                                       const std::string& address, std::int64_t now,
                                       std::int64_t max_failures, std::int64_t window) override {
    std::lock_guard lock(mutex_);
    return write<attempt_slot>("recording a login attempt", [&]() -> result<attempt_slot> {
      {
        auto purge = prepare("DELETE FROM login_attempts WHERE at <= ?");
        if (!purge) return purge.error();
        purge->bind(1, now - window);
        if (auto done = step_done(*purge, "purging old login attempts"); !done) {
          return done.error();
        }
      }
      attempt_slot slot;
      // Failures in the window for one key; when at the limit, the wait until the oldest of the
      // last `max_failures` leaves the window.
      auto over = [&](const char* column, auto bind_key) -> result<std::int64_t> {
        std::string where = std::string(" FROM login_attempts WHERE ") + column + "=? AND at > ?";
        auto count = prepare("SELECT count(*)" + where);
        if (!count) return count.error();
        bind_key(*count);
        count->bind(2, now - window);
        if (count->step() != SQLITE_ROW) return failure("counting login attempts");
        std::int64_t n = count->int64(0);
        if (column == std::string_view("account")) slot.account_failures = n;
        if (n < max_failures) return std::int64_t{0};
        auto kth = prepare("SELECT at" + where + " ORDER BY at DESC LIMIT 1 OFFSET ?");
        if (!kth) return kth.error();
        bind_key(*kth);
        kth->bind(2, now - window).bind(3, max_failures - 1);
        if (kth->step() != SQLITE_ROW) return failure("reading login attempts");
        return std::max<std::int64_t>(1, kth->int64(0) + window - now);
      };
      auto by_account = over("account", [&](statement& s) { s.bind_static(1, account_key); });
      if (!by_account) return by_account.error();
      auto by_address = over("address", [&](statement& s) { s.bind(1, address); });
      if (!by_address) return by_address.error();
      slot.account_over = *by_account > 0;
      slot.address_over = *by_address > 0;
      slot.retry_after = std::max(*by_account, *by_address);
      if (slot.retry_after > 0) return slot;  // the purge commits; nothing is reserved
      auto q = prepare("INSERT INTO login_attempts(at, account, address) VALUES(?,?,?)");
      if (!q) return q.error();
      q->bind(1, now).bind_static(2, account_key).bind(3, address);
      if (auto done = step_done(*q, "recording a login attempt"); !done) return done.error();
      slot.attempt_id = db_.last_insert_id();
      ++slot.account_failures;
      return slot;
    });
  }

  result<bool> login_throttled(const engine::digest& account_key, bool account_over,
                               const std::string& address, bool address_over,
                               std::int64_t window_start, std::int64_t window,
                               const std::string& subject) override {
    std::lock_guard lock(mutex_);
    return write<bool>("counting a refused login", [&]() -> result<bool> {
      {
        auto purge = prepare("DELETE FROM login_throttles WHERE window_start < ?");
        if (!purge) return purge.error();
        purge->bind(1, window_start - window);
        if (auto done = step_done(*purge, "purging old refusal counts"); !done) {
          return done.error();
        }
      }
      // For each key over its limit: this refusal counted; 1 means the first of the window.
      std::string first;     // the limits whose first refusal of the window this is
      std::string previous;  // how many each key had refused in its previous window
      auto count = [&](const char* kind, auto bind_key) -> status {
        auto q = prepare(
            "INSERT INTO login_throttles(kind, key, window_start, refused) VALUES(?,?,?,1) "
            "ON CONFLICT(kind, key, window_start) DO UPDATE SET refused = refused + 1 "
            "RETURNING refused");
        if (!q) return q.error();
        q->bind(1, std::string_view(kind));
        bind_key(*q);
        q->bind(3, window_start);
        if (q->step() != SQLITE_ROW) return failure("counting a refused login");
        std::int64_t n = q->int64(0);
        q->reset();
        if (n != 1) return {};
        auto before = prepare(
            "SELECT refused FROM login_throttles WHERE kind=? AND key=? AND window_start=?");
        if (!before) return before.error();
        before->bind(1, std::string_view(kind));
        bind_key(*before);
        before->bind(3, window_start - window);
        int rc = before->step();
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failure("reading refusal counts");
        if (!first.empty()) {
          first += ',';
          previous += ',';
        }
        first += std::string("\"") + kind + "\"";
        previous += std::string("\"") + kind +
                    "\":" + std::to_string(rc == SQLITE_ROW ? before->int64(0) : 0);
        return {};
      };
      if (account_over) {
        auto s = count("account", [&](statement& q) { q.bind_static(2, account_key); });
        if (!s) return s.error();
      }
      if (address_over) {
        auto s = count("address", [&](statement& q) { q.bind(2, std::string_view(address)); });
        if (!s) return s.error();
      }
      if (first.empty()) return false;
      // No password, no secret: the limits, the address as keyed, the window.
      std::string details =
          detail::throttled_details(first, previous, address, window_start, window);
      auto audited = audit("unauthenticated", "login_throttled", subject, details);
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
    return write<void>("storing a session", [&]() -> status {
      {
        auto q =
            prepare("DELETE FROM login_attempts WHERE attempt_id=? OR (account=? AND address=?)");
        if (!q) return q.error();
        q->bind(1, attempt_id).bind_static(2, account_key).bind(3, address);
        if (auto done = step_done(*q, "clearing login attempts"); !done) return done.error();
      }
      // Only for a user still enabled and with the password the login verified: a disable or a
      // new password committed since the password was read wins.
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
      if (sqlite3_changes(db_.handle()) == 0) {
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

  status touch_session(const engine::digest& id_hash, std::int64_t last_seen) override {
    std::lock_guard lock(mutex_);
    auto q = prepare("UPDATE sessions SET last_seen=max(last_seen, ?) WHERE id_hash=?");
    if (!q) return q.error();
    q->bind(1, last_seen).bind_static(2, id_hash);
    if (auto done = step_done(*q, "updating the session"); !done) return done.error();
    if (sqlite3_changes(db_.handle()) == 0) return fail(errc::not_found, "no such session");
    return {};
  }

  status end_session(const engine::digest& id_hash, const std::string& user,
                     const std::string& details) override {
    std::lock_guard lock(mutex_);
    return write<void>("ending a session", [&]() -> status {
      auto q = prepare("DELETE FROM sessions WHERE id_hash=?");
      if (!q) return q.error();
      q->bind_static(1, id_hash);
      if (auto done = step_done(*q, "deleting the session"); !done) return done.error();
      if (sqlite3_changes(db_.handle()) == 0) return fail(errc::not_found, "no such session");
      if (auto b = bump(); !b) return b.error();
      auto audited = audit(user, "logout", "user " + user, details);
      if (!audited) return audited.error();
      return {};
    });
  }

  status expire_session(const engine::digest& id_hash) override {
    std::lock_guard lock(mutex_);
    auto q = prepare("DELETE FROM sessions WHERE id_hash=?");
    if (!q) return q.error();
    q->bind_static(1, id_hash);
    return step_done(*q, "deleting an expired session");
  }

  result<std::int64_t> purge_sessions(std::int64_t now, std::int64_t idle,
                                      std::int64_t absolute) override {
    std::lock_guard lock(mutex_);
    auto q = prepare("DELETE FROM sessions WHERE created <= ? OR last_seen <= ?");
    if (!q) return q.error();
    q->bind(1, now - absolute).bind(2, now - idle);
    if (auto done = step_done(*q, "deleting expired sessions"); !done) return done.error();
    return static_cast<std::int64_t>(sqlite3_changes(db_.handle()));
  }

  status set_lang(const std::string& user, const std::string& lang) override {
    if (!is_lang(lang)) return fail(errc::refused, "the language must be fr, ar or en");
    std::lock_guard lock(mutex_);
    return write<void>("setting the language of " + user, [&]() -> status {
      auto q = prepare("UPDATE users SET lang=? WHERE name=?");
      if (!q) return q.error();
      q->bind(1, lang).bind(2, user);
      if (auto done = step_done(*q, "storing the language"); !done) return done.error();
      if (sqlite3_changes(db_.handle()) == 0) return fail(errc::not_found, "no user " + user);
      if (auto b = bump(); !b) return b.error();
      auto audited = audit(user, "user_lang", "user " + user, "{\"lang\":\"" + lang + "\"}");
      if (!audited) return audited.error();
      return {};
    });
  }

  status verify() override {
    std::lock_guard lock(mutex_);
    // One read transaction: the log and the tables from the same snapshot.
    std::string error;
    if (!db_.exec("BEGIN", error)) return failure("reading the accounts");
    auto result = verify_locked();
    db_.exec("COMMIT", error);
    return result;
  }

  status verify_locked() {
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
    auto problems = detail::check_account_rows(db_, entries);
    if (problems.empty()) return {};
    std::string what = problems.front().what;
    if (problems.size() > 1) {
      what += " (and " + std::to_string(problems.size() - 1) + " more identity rows)";
    }
    return fail(errc::damaged, what);
  }

 private:
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

  static void bind_office(statement& q, int i, const std::string& office) {
    if (office.empty()) {
      q.bind_null(i);
    } else {
      q.bind(i, office);
    }
  }

  /// Runs `f` in one write transaction: committed when it succeeds, rolled back otherwise.
  template <class T, class F>
  result<T> write(const std::string& what, F&& f) {
    std::string error;
    if (!db_.exec("BEGIN IMMEDIATE", error)) return failure(what);
    result<T> r = f();
    if (!r) {
      db_.exec("ROLLBACK", error);
      return r;
    }
    if (!db_.exec("COMMIT", error)) {
      auto e = failure(what);
      db_.exec("ROLLBACK", error);
      return e;
    }
    return r;
  }

  result<std::int64_t> audit(const std::string& actor, const std::string& action,
                             const std::string& subject, const std::string& details) {
    return detail::append_audit(db_, actor, action, subject, details);
  }

  status bump() {
    auto q = prepare("UPDATE accounts_generation SET generation=generation+1 WHERE id=1");
    if (!q) return q.error();
    return step_done(*q, "bumping the accounts' generation");
  }

  /// Inside a write transaction: creates the office if it does not exist, with its audit entry.
  result<bool> ensure_office(const std::string& name, const std::string& actor) {
    auto q = prepare("INSERT OR IGNORE INTO offices VALUES(?,?)");
    if (!q) return q.error();
    std::string at = now_utc();
    q->bind(1, name).bind(2, at);
    if (auto done = step_done(*q, "storing the office"); !done) return done.error();
    if (sqlite3_changes(db_.handle()) == 0) return false;
    auto audited = audit(actor, "office_add", "office " + name, "{\"at\":\"" + at + "\"}");
    if (!audited) return audited.error();
    return true;
  }

  /// Refuses a name that a user or a client (even revoked: audit entries name it) has.
  status name_taken(const std::string& name) {
    auto q = prepare(
        "SELECT 'user' FROM users WHERE name=?1 UNION ALL SELECT 'client' FROM tokens WHERE "
        "name=?1 LIMIT 1");
    if (!q) return q.error();
    q->bind(1, name);
    int rc = q->step();
    if (rc == SQLITE_ROW) {
      return fail(errc::conflict, q->text(0) == "user"
                                      ? "user " + name + " exists already"
                                      : "user " + name +
                                            ": a machine client has this name (a principal's "
                                            "name is unique among users and clients)");
    }
    if (rc != SQLITE_DONE) return failure("reading users");
    return {};
  }

  result<std::int64_t> user_id(const std::string& name) {
    auto q = prepare("SELECT user_id FROM users WHERE name=?");
    if (!q) return q.error();
    q->bind(1, name);
    int rc = q->step();
    if (rc == SQLITE_DONE) return fail(errc::not_found, "no user " + name);
    if (rc != SQLITE_ROW) return failure("reading users");
    return q->int64(0);
  }

  result<account> user_locked(const std::string& name) {
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

  result<std::int64_t> end_sessions_of(std::int64_t user) {
    auto q = prepare("DELETE FROM sessions WHERE user_id=?");
    if (!q) return q.error();
    q->bind(1, user);
    if (auto done = step_done(*q, "ending the user's sessions"); !done) return done.error();
    return static_cast<std::int64_t>(sqlite3_changes(db_.handle()));
  }

  std::mutex mutex_;
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
  auto a = std::make_unique<sqlite_accounts>();
  if (auto ok = a->open(path); !ok) return ok.error();
  return std::unique_ptr<accounts>(std::move(a));
}

}  // namespace dalil::store
