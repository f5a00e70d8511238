// The identity tables' one policy over either database (accounts.hpp): names, roles and offices
// checked, messages, audit entries and the rate limits' arithmetic written once in
// store/accounts_core.cpp, over a backend per engine that knows only its queries, its
// transactions and its locks (store/sqlite_accounts.cpp, store/pg/pg_accounts.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/sha256.hpp"
#include "store/accounts.hpp"
#include "store/accounts_check.hpp"
#include "store/result.hpp"

namespace dalil::store::detail {

/// One engine's queries, transactions and locks. The core calls it with its own mutex held, one
/// call at a time; the methods that change rows run inside the transaction the core opened.
/// Failures of the database are the backend's to word ("<what>: <the database's message>").
class account_backend {
 public:
  virtual ~account_backend() = default;

  /// What a transaction must be ordered against.
  enum class tx : std::uint8_t {
    write,     // after every other account write and chain append (SQLite: BEGIN IMMEDIATE;
               // PostgreSQL: the chain's lock from the transaction's start)
    attempts,  // after every other reservation of a login attempt (the counts, then the insert)
    counts,    // only the rows it touches (refusal counts; the chain's lock when it appends)
  };
  virtual status begin(tx kind, std::string_view what) = 0;
  virtual status commit(std::string_view what) = 0;
  virtual void rollback() = 0;

  /// Unix milliseconds of the clock the windows and sessions are measured in: `local_ms` (the
  /// caller's) on SQLite, the database's own on PostgreSQL (shared by every server).
  virtual result<std::int64_t> now_ms(std::int64_t local_ms) = 0;

  /// Appends an audit entry inside the open transaction.
  virtual result<std::int64_t> audit(const std::string& actor, const std::string& action,
                                     const std::string& subject, const std::string& details) = 0;
  /// Bumps the generation counter (a principal ended or altered).
  virtual status bump() = 0;
  virtual result<std::int64_t> generation() = 0;

  // Offices, users and tokens.
  /// Inserts the office unless it exists; whether it did.
  virtual result<bool> insert_office(const std::string& name, const std::string& at) = 0;
  /// Who holds `name`: "user", "client" (a token, even revoked) or "" for nobody.
  virtual result<std::string> holder(const std::string& name) = 0;
  /// Inserts a user row (its created_at given); its id.
  virtual result<std::int64_t> insert_user(const account& row) = 0;
  /// A user by name; errc::not_found "no user <name>".
  virtual result<account> user(const std::string& name) = 0;
  /// Disables the user as of `at`, or enables it when `at` is empty.
  virtual status set_disabled(std::int64_t user_id, const std::string& at) = 0;
  virtual status set_password(std::int64_t user_id, const std::string& password_hash) = 0;
  virtual result<bool> set_lang(const std::string& user, const std::string& lang) = 0;
  /// Deletes every session of the user; how many.
  virtual result<std::int64_t> end_sessions_of(std::int64_t user_id) = 0;
  virtual result<bool> has_active_token(const std::string& name) = 0;
  /// Inserts a token row (created_at and expires given); its id.
  virtual result<std::int64_t> insert_token(const account& row, const engine::digest& hash) = 0;
  /// Revokes the name's active token as of `at`; whether there was one.
  virtual result<bool> revoke_token(const std::string& name, const std::string& at) = 0;
  virtual result<std::vector<account>> users() = 0;
  virtual result<std::vector<account>> clients() = 0;
  virtual result<std::vector<std::string>> offices() = 0;
  virtual result<account> token(const engine::digest& hash) = 0;
  virtual result<std::vector<std::pair<engine::digest, account>>> tokens() = 0;

  // Login attempts and refusal counts, each keyed by the account's digest or by the address.
  enum class key : std::uint8_t { account, address };
  /// Deletes the attempts at or before `at`.
  virtual status purge_attempts(std::int64_t at) = 0;
  /// The attempts of the key after `since`.
  virtual result<std::int64_t> count_attempts(key k, const engine::digest& account_key,
                                              const std::string& address, std::int64_t since) = 0;
  /// The time of the key's attempt after `since` that `offset` later ones follow.
  virtual result<std::int64_t> attempt_at(key k, const engine::digest& account_key,
                                          const std::string& address, std::int64_t since,
                                          std::int64_t offset) = 0;
  /// Inserts an attempt; its id.
  virtual result<std::int64_t> insert_attempt(std::int64_t at, const engine::digest& account_key,
                                              const std::string& address) = 0;
  /// Deletes the attempt `attempt_id` and the attempts of (account_key, address).
  virtual status clear_attempts(std::int64_t attempt_id, const engine::digest& account_key,
                                const std::string& address) = 0;
  /// Deletes the refusal counts of windows starting before `window_start`.
  virtual status purge_refusals(std::int64_t window_start) = 0;
  /// Counts one refusal of the key in its window; the count, this one included.
  virtual result<std::int64_t> count_refusal(key k, const engine::digest& account_key,
                                             const std::string& address,
                                             std::int64_t window_start) = 0;
  /// The key's refusals in the window (0 when none).
  virtual result<std::int64_t> refusals(key k, const engine::digest& account_key,
                                        const std::string& address, std::int64_t window_start) = 0;

  // Known devices (login_devices).
  /// What the store knows of the device after `since` (store::accounts::device).
  virtual result<device_trust> device(const engine::digest& device_hash,
                                      const engine::digest& account_key, std::int64_t since) = 0;
  /// Inserts the (device, account) row at `at`, or raises its time to `at`, if the session
  /// `session_hash` exists; whether it did.
  virtual result<bool> keep_device(const engine::digest& device_hash,
                                   const engine::digest& account_key,
                                   const engine::digest& session_hash, std::int64_t at) = 0;
  /// Deletes the devices whose latest sign-in is at or before `since` (on PostgreSQL, those no
  /// other transaction holds: never waiting, as purge_attempts).
  virtual status purge_devices(std::int64_t since) = 0;
  /// Deletes the account's devices but its `keep` most recent (never waiting, as purge_devices).
  virtual status trim_devices(const engine::digest& account_key, std::int64_t keep) = 0;
  /// Deletes every device of the account.
  virtual status forget_devices(const engine::digest& account_key) = 0;

  // Sessions.
  /// Inserts the session if its user is still enabled and has the password hash
  /// `session.user.password_hash`; whether it did.
  virtual result<bool> insert_session(const session_row& session) = 0;
  virtual result<session_row> session(const engine::digest& id_hash) = 0;
  /// Raises last_seen to `last_seen`; whether the session exists.
  virtual result<bool> touch_session(const engine::digest& id_hash, std::int64_t last_seen) = 0;
  /// Deletes the session; whether it existed.
  virtual result<bool> delete_session(const engine::digest& id_hash, std::string_view what) = 0;
  /// Deletes the sessions created at or before `created`, or last seen at or before `seen`.
  virtual result<std::int64_t> purge_sessions(std::int64_t created, std::int64_t seen) = 0;

  /// The identity rows checked against the chain's entries, in one snapshot.
  virtual result<std::vector<account_problem>> check() = 0;
};

/// The accounts over `backend`: the one implementation of accounts.hpp.
std::unique_ptr<accounts> make_accounts(std::unique_ptr<account_backend> backend);

}  // namespace dalil::store::detail
