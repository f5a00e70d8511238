// The identity tables' policy, once for both databases (accounts_core.hpp): each change one
// transaction of the backend with its audit entry and, when it ends or alters a principal, a
// bump of the generation counter that servers poll.
#include "store/accounts_core.hpp"

#include <algorithm>
#include <mutex>

#include "store/store.hpp"

namespace dalil::store::detail {

namespace {

using key = account_backend::key;
using tx = account_backend::tx;

class account_core final : public accounts {
 public:
  explicit account_core(std::unique_ptr<account_backend> b) : b_(std::move(b)) {}

  result<bool> add_office(const std::string& name, const std::string& actor) override {
    if (!valid_account_name(name)) {
      return fail(errc::refused,
                  "the office name must be 1 to 64 of A-Z a-z 0-9 . _ - @, starting with a "
                  "letter or digit");
    }
    std::lock_guard lock(mutex_);
    return write<bool>(tx::write, "adding office " + name, [&]() -> result<bool> {
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
    return write<added>(tx::write, "adding user " + user.name, [&]() -> result<added> {
      auto holder = b_->holder(user.name);
      if (!holder) return holder.error();
      if (*holder == "user") return fail(errc::conflict, "user " + user.name + " exists already");
      if (!holder->empty()) {
        return fail(errc::conflict, "user " + user.name +
                                        ": a machine client has this name (a principal's "
                                        "name is unique among users and clients)");
      }
      account row = user;
      row.created_at = now_utc();
      added out;
      if (!user.office.empty()) {
        auto created = ensure_office(user.office, actor);
        if (!created) return created.error();
        out.created_office = *created;
      }
      auto id = b_->insert_user(row);
      if (!id) return id.error();
      row.id = *id;
      auto audited = b_->audit(actor, "user_add", "user " + user.name,
                               "{\"role\":\"" + user.role + "\",\"office\":\"" + user.office +
                                   "\",\"lang\":\"" + user.lang + "\",\"row\":\"" +
                                   account_row_digest(row, user.password_hash) + "\"}");
      if (!audited) return audited.error();
      return out;
    });
  }

  result<std::int64_t> disable_user(const std::string& name, const std::string& actor) override {
    std::lock_guard lock(mutex_);
    return write<std::int64_t>(tx::write, "disabling user " + name, [&]() -> result<std::int64_t> {
      auto found = b_->user(name);
      if (!found) return found.error();
      std::string at = now_utc();
      if (auto s = b_->set_disabled(found->id, at); !s) return s.error();
      auto ended = b_->end_sessions_of(found->id);
      if (!ended) return ended.error();
      if (auto s = b_->forget_devices(engine::sha256(name)); !s) return s.error();
      if (auto s = b_->bump(); !s) return s.error();
      auto audited =
          b_->audit(actor, "user_disable", "user " + name,
                    "{\"sessions_ended\":" + std::to_string(*ended) + ",\"at\":\"" + at + "\"}");
      if (!audited) return audited.error();
      return *ended;
    });
  }

  status enable_user(const std::string& name, const std::string& actor) override {
    std::lock_guard lock(mutex_);
    return write<void>(tx::write, "enabling user " + name, [&]() -> status {
      auto found = b_->user(name);
      if (!found) return found.error();
      if (auto s = b_->set_disabled(found->id, ""); !s) return s;
      if (auto s = b_->bump(); !s) return s;
      auto audited = b_->audit(actor, "user_enable", "user " + name, "{}");
      if (!audited) return audited.error();
      return {};
    });
  }

  result<std::int64_t> set_password(const std::string& name, const std::string& password_hash,
                                    const std::string& actor) override {
    if (password_hash.empty()) return fail(errc::refused, "user " + name + ": no password hash");
    std::lock_guard lock(mutex_);
    return write<std::int64_t>(
        tx::write, "changing the password of " + name, [&]() -> result<std::int64_t> {
          auto found = b_->user(name);
          if (!found) return found.error();
          if (auto s = b_->set_password(found->id, password_hash); !s) return s.error();
          auto ended = b_->end_sessions_of(found->id);
          if (!ended) return ended.error();
          // A new password (perhaps because the old one leaked) trusts no earlier browser.
          if (auto s = b_->forget_devices(engine::sha256(name)); !s) return s.error();
          if (auto s = b_->bump(); !s) return s.error();
          auto audited = b_->audit(actor, "user_password", "user " + name,
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
    return write<added>(tx::write, "adding client " + client.name, [&]() -> result<added> {
      auto holder = b_->holder(client.name);
      if (!holder) return holder.error();
      if (*holder == "user") {
        return fail(errc::conflict, "client " + client.name +
                                        ": a user has this name (a principal's name is "
                                        "unique among users and clients)");
      }
      auto active = b_->has_active_token(client.name);
      if (!active) return active.error();
      if (*active) {
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
      auto id = b_->insert_token(row, token_hash);
      if (!id) return id.error();
      row.id = *id;
      if (auto s = b_->bump(); !s) return s.error();
      auto audited = b_->audit(actor, "token_create", "client " + client.name,
                               "{\"role\":\"" + client.role + "\",\"office\":\"" + client.office +
                                   "\",\"expires\":" + std::to_string(row.expires) + ",\"row\":\"" +
                                   account_row_digest(row, token_hash.hex()) + "\"}");
      if (!audited) return audited.error();
      return out;
    });
  }

  status revoke_token(const std::string& name, const std::string& actor) override {
    std::lock_guard lock(mutex_);
    return write<void>(tx::write, "revoking the token of " + name, [&]() -> status {
      std::string at = now_utc();
      auto revoked = b_->revoke_token(name, at);
      if (!revoked) return revoked.error();
      if (!*revoked) return fail(errc::not_found, "client " + name + " has no active token");
      if (auto s = b_->bump(); !s) return s;
      auto audited = b_->audit(actor, "token_revoke", "client " + name, "{\"at\":\"" + at + "\"}");
      if (!audited) return audited.error();
      return {};
    });
  }

  result<std::vector<account>> users() override {
    std::lock_guard lock(mutex_);
    return b_->users();
  }

  result<std::vector<account>> clients() override {
    std::lock_guard lock(mutex_);
    return b_->clients();
  }

  result<std::vector<std::string>> offices() override {
    std::lock_guard lock(mutex_);
    return b_->offices();
  }

  result<account> user(const std::string& name) override {
    std::lock_guard lock(mutex_);
    return b_->user(name);
  }

  result<account> token(const engine::digest& token_hash) override {
    std::lock_guard lock(mutex_);
    return b_->token(token_hash);
  }

  result<std::vector<std::pair<engine::digest, account>>> tokens() override {
    std::lock_guard lock(mutex_);
    return b_->tokens();
  }

  result<std::int64_t> generation() override {
    std::lock_guard lock(mutex_);
    return b_->generation();
  }

  result<std::int64_t> now_ms(std::int64_t local_ms) override {
    std::lock_guard lock(mutex_);
    return b_->now_ms(local_ms);
  }

  result<attempt_slot> reserve_attempt(const engine::digest& account_key,
                                       const std::string& address, std::int64_t now,
                                       std::int64_t max_failures, std::int64_t window) override {
    std::lock_guard lock(mutex_);
    return write<attempt_slot>(
        tx::attempts, "recording a login attempt", [&]() -> result<attempt_slot> {
          const std::int64_t since = now - window;
          if (auto s = b_->purge_attempts(since); !s) return s.error();
          attempt_slot slot;
          // Failures in the window for one key; when at the limit, the wait until the oldest of
          // the last `max_failures` leaves the window.
          auto over = [&](key k) -> result<std::int64_t> {
            auto n = b_->count_attempts(k, account_key, address, since);
            if (!n) return n.error();
            if (k == key::account) slot.account_failures = *n;
            if (*n < max_failures) return std::int64_t{0};
            auto kth = b_->attempt_at(k, account_key, address, since, max_failures - 1);
            if (!kth) return kth.error();
            return std::max<std::int64_t>(1, *kth + window - now);
          };
          auto by_account = over(key::account);
          if (!by_account) return by_account.error();
          auto by_address = over(key::address);
          if (!by_address) return by_address.error();
          slot.account_over = *by_account > 0;
          slot.address_over = *by_address > 0;
          slot.retry_after = std::max(*by_account, *by_address);
          if (slot.retry_after > 0) return slot;  // the purge commits; nothing is reserved
          auto id = b_->insert_attempt(now, account_key, address);
          if (!id) return id.error();
          slot.attempt_id = *id;
          ++slot.account_failures;
          return slot;
        });
  }

  result<bool> login_throttled(const engine::digest& account_key, bool account_over,
                               const std::string& address, bool address_over,
                               std::int64_t window_start, std::int64_t window,
                               const std::string& subject) override {
    std::lock_guard lock(mutex_);
    return write<bool>(tx::counts, "counting a refused login", [&]() -> result<bool> {
      if (auto s = b_->purge_refusals(window_start - window); !s) return s.error();
      // For each key over its limit: this refusal counted; 1 means the first of the window.
      std::string first;     // the limits whose first refusal of the window this is
      std::string previous;  // how many each key had refused in its previous window
      auto count = [&](key k, const char* kind) -> status {
        auto n = b_->count_refusal(k, account_key, address, window_start);
        if (!n) return n.error();
        if (*n != 1) return {};
        auto before = b_->refusals(k, account_key, address, window_start - window);
        if (!before) return before.error();
        if (!first.empty()) {
          first += ',';
          previous += ',';
        }
        first += std::string("\"") + kind + "\"";
        previous += std::string("\"") + kind + "\":" + std::to_string(*before);
        return {};
      };
      if (account_over) {
        if (auto s = count(key::account, "account"); !s) return s.error();
      }
      if (address_over) {
        if (auto s = count(key::address, "address"); !s) return s.error();
      }
      if (first.empty()) return false;
      // No password, no secret: the limits, the address as keyed, the window.
      auto audited = b_->audit("unauthenticated", "login_throttled", subject,
                               throttled_details(first, previous, address, window_start, window));
      if (!audited) return audited.error();
      return true;
    });
  }

  status login_failed(const std::string& subject, const std::string& details) override {
    std::lock_guard lock(mutex_);
    return write<void>(tx::write, "recording a failed login", [&]() -> status {
      auto audited = b_->audit("unauthenticated", "login_failed", subject, details);
      if (!audited) return audited.error();
      return {};
    });
  }

  status login_succeeded(std::int64_t attempt_id, const engine::digest& account_key,
                         const std::string& address, const session_row& session,
                         const std::string& details) override {
    std::lock_guard lock(mutex_);
    return write<void>(tx::write, "storing a session", [&]() -> status {
      if (auto s = b_->clear_attempts(attempt_id, account_key, address); !s) return s;
      // Only for a user still enabled and with the password the login verified: a disable or a
      // new password committed since the password was read wins (it was ordered before this
      // transaction, so this statement sees it).
      auto stored = b_->insert_session(session);
      if (!stored) return stored.error();
      if (!*stored) {
        return fail(errc::refused,
                    "the user was disabled, or its password changed, during the login");
      }
      auto audited = b_->audit(session.user.name, "login", "user " + session.user.name, details);
      if (!audited) return audited.error();
      return {};
    });
  }

  result<device_trust> device(const engine::digest& device_hash, const engine::digest& account_key,
                              std::int64_t since) override {
    std::lock_guard lock(mutex_);
    return b_->device(device_hash, account_key, since);
  }

  result<bool> trust_device(const engine::digest& device_hash, const engine::digest& account_key,
                            const engine::digest& session_hash, std::int64_t at, std::int64_t since,
                            std::int64_t keep) override {
    std::lock_guard lock(mutex_);
    return write<bool>(tx::counts, "remembering a device", [&]() -> result<bool> {
      // The one write that may wait (on a login of the same device and user) comes first, while
      // the transaction holds nothing; the purge and the trim then skip what others hold.
      auto kept = b_->keep_device(device_hash, account_key, session_hash, at);
      if (!kept) return kept.error();
      if (auto s = b_->purge_devices(since); !s) return s.error();
      if (auto s = b_->trim_devices(account_key, std::max<std::int64_t>(1, keep)); !s) {
        return s.error();
      }
      return *kept;
    });
  }

  result<session_row> session(const engine::digest& id_hash) override {
    std::lock_guard lock(mutex_);
    return b_->session(id_hash);
  }

  status touch_session(const engine::digest& id_hash, std::int64_t last_seen) override {
    std::lock_guard lock(mutex_);
    auto touched = b_->touch_session(id_hash, last_seen);
    if (!touched) return touched.error();
    if (!*touched) return fail(errc::not_found, "no such session");
    return {};
  }

  status end_session(const engine::digest& id_hash, const std::string& user,
                     const std::string& details) override {
    std::lock_guard lock(mutex_);
    return write<void>(tx::write, "ending a session", [&]() -> status {
      auto ended = b_->delete_session(id_hash, "deleting the session");
      if (!ended) return ended.error();
      if (!*ended) return fail(errc::not_found, "no such session");
      if (auto s = b_->bump(); !s) return s;
      auto audited = b_->audit(user, "logout", "user " + user, details);
      if (!audited) return audited.error();
      return {};
    });
  }

  status expire_session(const engine::digest& id_hash) override {
    std::lock_guard lock(mutex_);
    auto ended = b_->delete_session(id_hash, "deleting an expired session");
    if (!ended) return ended.error();
    return {};
  }

  result<std::int64_t> purge_sessions(std::int64_t now, std::int64_t idle,
                                      std::int64_t absolute) override {
    std::lock_guard lock(mutex_);
    return b_->purge_sessions(now - absolute, now - idle);
  }

  status set_lang(const std::string& user, const std::string& lang) override {
    if (!is_lang(lang)) return fail(errc::refused, "the language must be fr, ar or en");
    std::lock_guard lock(mutex_);
    return write<void>(tx::write, "setting the language of " + user, [&]() -> status {
      auto changed = b_->set_lang(user, lang);
      if (!changed) return changed.error();
      if (!*changed) return fail(errc::not_found, "no user " + user);
      if (auto s = b_->bump(); !s) return s;
      auto audited = b_->audit(user, "user_lang", "user " + user, "{\"lang\":\"" + lang + "\"}");
      if (!audited) return audited.error();
      return {};
    });
  }

  status verify() override {
    std::lock_guard lock(mutex_);
    auto problems = b_->check();
    if (!problems) return problems.error();
    if (problems->empty()) return {};
    std::string what = problems->front().what;
    if (problems->size() > 1) {
      what += " (and " + std::to_string(problems->size() - 1) + " more identity rows)";
    }
    return fail(errc::damaged, what);
  }

 private:
  /// Runs `f` in one transaction of the backend: committed when it succeeds, rolled back
  /// otherwise.
  template <class T, class F>
  result<T> write(tx kind, const std::string& what, F&& f) {
    if (auto s = b_->begin(kind, what); !s) return s.error();
    result<T> r = f();
    if (!r) {
      b_->rollback();
      return r;
    }
    if (auto s = b_->commit(what); !s) {
      b_->rollback();
      return s.error();
    }
    return r;
  }

  /// Inside a write transaction: creates the office if it does not exist, with its audit entry.
  result<bool> ensure_office(const std::string& name, const std::string& actor) {
    std::string at = now_utc();
    auto inserted = b_->insert_office(name, at);
    if (!inserted) return inserted.error();
    if (!*inserted) return false;
    auto audited = b_->audit(actor, "office_add", "office " + name, "{\"at\":\"" + at + "\"}");
    if (!audited) return audited.error();
    return true;
  }

  std::mutex mutex_;
  std::unique_ptr<account_backend> b_;
};

}  // namespace

std::unique_ptr<accounts> make_accounts(std::unique_ptr<account_backend> backend) {
  return std::make_unique<account_core>(std::move(backend));
}

}  // namespace dalil::store::detail
