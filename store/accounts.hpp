// Identity in the store: offices, users (Argon2id password hashes), machine clients' bearer
// tokens, browser sessions and failed logins. The store keeps data and makes each change atomic
// with its audit entry; the policy (expiry, rate limits, caches) is server/auth's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/sha256.hpp"
#include "store/result.hpp"

namespace dalil::store {

/// A user or a machine client, as the authenticator and the CLI see it.
struct account {
  std::int64_t id = 0;  // users.user_id or tokens.token_id
  std::string name;
  std::string role;    // official, adviser, auditor, admin (users only)
  std::string office;  // "" when none
  std::string lang = "fr";
  std::string password_hash;  // users only: crypto_pwhash_str's string
  bool disabled = false;      // users: disabled; tokens: revoked
  bool machine = false;       // a bearer token's client
  std::string created_at;
  /// Tokens: when the token stops working (Unix seconds); 0 for users. A token made before
  /// tokens expired has none recorded (`expires_recorded` false): it expires
  /// legacy_token_lifetime after its creation.
  std::int64_t expires = 0;
  bool expires_recorded = false;
};

/// A token's lifetime: `dalil token create --expires DAYS`, 90 days unless given, at most 365.
inline constexpr std::int64_t default_token_days = 90;
inline constexpr std::int64_t max_token_days = 365;
inline constexpr std::int64_t legacy_token_lifetime = max_token_days * 24 * 60 * 60;  // seconds

/// A browser session row, joined with its user.
struct session_row {
  engine::digest id_hash;
  account user;
  std::int64_t created = 0;    // Unix seconds
  std::int64_t last_seen = 0;  // Unix seconds, written at most once a minute (server/auth)
};

/// What a login attempt found when it asked for its place under the rate limits.
struct attempt_slot {
  std::int64_t attempt_id = 0;        // the reserved row (counted as a failure until it succeeds)
  std::int64_t retry_after = 0;       // > 0: over the limit, nothing reserved; seconds to wait
  std::int64_t account_failures = 0;  // failures in the window, this one included
  bool account_over = false;          // retry_after > 0 because of the account's failures
  bool address_over = false;          // … or of the address's
};

/// What the store knows of a browser's device cookie (its SHA-256) at a login.
struct device_trust {
  bool known = false;        // it signed in, as any user, after the time asked about
  bool for_account = false;  // … as the account tried
};

/// The identity tables of a store. Thread-safe: one connection behind a mutex.
/// Every change is one write transaction with its audit entry; "not found" is errc::not_found,
/// an existing name errc::conflict, a malformed name or a wrong role errc::refused.
class accounts {
 public:
  virtual ~accounts() = default;

  // Administration (the CLI). Offices named by a user or a token are created on first use, with
  // their own audit entry; `created_office` says whether that happened.
  struct added {
    bool created_office = false;
  };
  virtual result<bool> add_office(const std::string& name, const std::string& actor) = 0;
  virtual result<added> add_user(const account& user, const std::string& actor) = 0;
  /// Disables a user and ends its sessions; returns how many sessions it ended.
  virtual result<std::int64_t> disable_user(const std::string& name, const std::string& actor) = 0;
  virtual status enable_user(const std::string& name, const std::string& actor) = 0;
  /// Replaces a user's password hash and ends its sessions; returns how many.
  virtual result<std::int64_t> set_password(const std::string& name,
                                            const std::string& password_hash,
                                            const std::string& actor) = 0;
  /// A machine client with its token's hash and its expiry (`client.expires`, Unix seconds,
  /// after now and at most max_token_days ahead, else refused; 0: default_token_days from now);
  /// conflict if it has an active token already or the name is a user's.
  virtual result<added> add_token(const account& client, const engine::digest& token_hash,
                                  const std::string& actor) = 0;
  virtual status revoke_token(const std::string& name, const std::string& actor) = 0;
  virtual result<std::vector<account>> users() = 0;
  virtual result<std::vector<account>> clients() = 0;  // active tokens only
  virtual result<std::vector<std::string>> offices() = 0;

  // Authentication (the server).
  virtual result<account> user(const std::string& name) = 0;
  /// The client of an active token.
  virtual result<account> token(const engine::digest& token_hash) = 0;
  /// Every active token, for the server's in-memory map.
  virtual result<std::vector<std::pair<engine::digest, account>>> tokens() = 0;
  /// Bumped by every change that ends or alters a principal (disable, revoke, logout, password,
  /// language): a server that caches principals compares it to drop what is stale.
  virtual result<std::int64_t> generation() = 0;

  /// Unix milliseconds by the store's clock, whose seconds are the ones to pass as `now`,
  /// `window_start` and a session's times below: `local_ms` (the caller's clock) on SQLite; on
  /// PostgreSQL the database's own, which every server on it shares whatever its own clock says
  /// (servers on several machines would otherwise disagree on the windows and the sessions'
  /// expiry). Milliseconds, so that a caller measuring its offset from this clock is not a
  /// second off when a second begins between its reading and the store's.
  virtual result<std::int64_t> now_ms(std::int64_t local_ms) = 0;

  /// Asks for a login attempt's place: counts the failures in (now - window, now] for the account
  /// key and for the address; at `max_failures` or more in either, reserves nothing and says when
  /// to retry; otherwise inserts the attempt (a failure until login_succeeded removes it), in one
  /// write transaction so that parallel attempts cannot all pass. Rows older than the window are
  /// purged on the way.
  virtual result<attempt_slot> reserve_attempt(const engine::digest& account_key,
                                               const std::string& address, std::int64_t now,
                                               std::int64_t max_failures, std::int64_t window) = 0;
  /// A login refused by the rate limits (reserve_attempt's retry_after > 0): counted for the
  /// account key and for the address (as the limiter keys it: IPv6 per /64), each over its
  /// limit, in the fixed window [window_start, window_start + window). The first refusal of
  /// each (key, window) is audited as `login_throttled` (`subject` as for login_failed; the
  /// limits hit, the address as keyed, the window, and how many that key had refused in its
  /// previous window); the later ones are only counted, so that a client hammering the login
  /// cannot flood the audit chain (nor queue behind its writers: on PostgreSQL only a refusal
  /// that writes an entry takes the chain's lock). Counts older than the previous window are
  /// purged on the way.
  /// Returns whether an entry was written.
  virtual result<bool> login_throttled(const engine::digest& account_key, bool account_over,
                                       const std::string& address, bool address_over,
                                       std::int64_t window_start, std::int64_t window,
                                       const std::string& subject) = 0;
  /// A failed login: the reserved attempt stays counted; the audit entry says why without any
  /// secret (`subject` names the user when it exists).
  virtual status login_failed(const std::string& subject, const std::string& details) = 0;
  /// A successful login: removes the attempt and the earlier failures of this account from this
  /// address (never those of other accounts), stores the session and audits the login.
  /// errc::refused when the user was disabled, or its password changed (session.user holds the
  /// hash the password was verified against), since the login read it.
  virtual status login_succeeded(std::int64_t attempt_id, const engine::digest& account_key,
                                 const std::string& address, const session_row& session,
                                 const std::string& details) = 0;
  /// Known devices (docs/identity.md): whether the device cookie whose SHA-256 is `device_hash`
  /// signed in after `since`, and whether as the account `account_key`.
  virtual result<device_trust> device(const engine::digest& device_hash,
                                      const engine::digest& account_key, std::int64_t since) = 0;
  /// Remembers that the device signed in as the account at `at` (its login entry says so: not
  /// audited again), if the login's session `session_hash` still exists: a disable or a new
  /// password committed since the login ended it, and forgot the user's devices, so the device
  /// is not remembered after them (returns false). Forgets, on the way, every device whose
  /// latest sign-in is at or before `since` and the account's devices beyond its `keep` most
  /// recent. A user disabled or given a new password loses its devices (disable_user,
  /// set_password).
  virtual result<bool> trust_device(const engine::digest& device_hash,
                                    const engine::digest& account_key,
                                    const engine::digest& session_hash, std::int64_t at,
                                    std::int64_t since, std::int64_t keep) = 0;
  virtual result<session_row> session(const engine::digest& id_hash) = 0;
  virtual status touch_session(const engine::digest& id_hash, std::int64_t last_seen) = 0;
  /// Logout (audited, with `details`) or expiry (not audited: nobody acted).
  virtual status end_session(const engine::digest& id_hash, const std::string& user,
                             const std::string& details) = 0;
  virtual status expire_session(const engine::digest& id_hash) = 0;
  /// Deletes the sessions expired at `now` (idle or absolute); returns how many. It waits on no
  /// row another transaction holds (a logout, another server's purge): those are the next
  /// purge's.
  virtual result<std::int64_t> purge_sessions(std::int64_t now, std::int64_t idle,
                                              std::int64_t absolute) = 0;
  virtual status set_lang(const std::string& user, const std::string& lang) = 0;

  /// Checks the identity tables against the audit log (whose own chain store::verify checks):
  /// every office, user and token row has the entry that created it; each user's and token's
  /// name, role, office and secret hash match the digest their latest entry vouches for; a
  /// user's disabled flag and a token's revocation match their latest entries; every session
  /// has the login entry that opened it and no logout. errc::damaged names the first row that
  /// does not (a user or token inserted or edited behind the tool's back: a backdoor).
  virtual status verify() = 0;
};

/// Opens (creating and migrating, as open_sqlite does) the identity tables of a SQLite store.
result<std::unique_ptr<accounts>> open_sqlite_accounts(const std::string& path);

/// Names of users, machine clients and offices: 1 to 64 of A-Z a-z 0-9 . _ - @, starting with a
/// letter or digit (they appear in audit entries and logs, so nothing else).
bool valid_account_name(std::string_view name);

}  // namespace dalil::store
