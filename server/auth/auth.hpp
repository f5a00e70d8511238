// Who is asking: browser sessions (password login, server-side session, CSRF token) and machine
// clients (bearer tokens), over the store's identity tables, with the login rate limits.
// The server calls it; the store stays the truth, this keeps small caches in front of it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "engine/sha256.hpp"
#include "store/accounts.hpp"
#include "store/result.hpp"

namespace dalil::server {

enum class role : std::uint8_t { official, adviser, auditor, admin };

/// What login fails with (errc::refused) for an admin whose password matched: the server
/// answers it 403, as administration is from the command line only (any other refusal: 401).
inline constexpr std::string_view admin_refusal =
    "an admin has no web access: administer with the dalil command line";

std::string_view role_name(role r);
std::optional<role> role_from(std::string_view name);

struct principal {   // who is asking
  std::string name;  // user or machine-client name (never logged with applicant data)
  role r = role::official;
  std::string office;    // office may be empty (auditor, adviser)
  bool machine = false;  // bearer token, not a browser session
  std::string lang = "fr";
  std::string session;       // opaque session id hash (hex) ("" for tokens): for logout
  std::string csrf;          // the session's CSRF token ("" for tokens)
  std::int64_t expires = 0;  // a token's expiry (Unix seconds; 0 for a session's user)
  /// A session's absolute end: its creation plus auth_options::session_absolute (Unix seconds,
  /// the store's clock; 0 for tokens). The idle expiry slides; this one never moves.
  std::int64_t session_ends = 0;
  /// When this principal was checked, by the store's clock (Unix seconds): the "now" that
  /// session_ends and the idle expiry are counted from (0 when not checked against a clock).
  std::int64_t checked_at = 0;
};

struct login_ok {
  principal who;
  std::string cookie_value;  // opaque, 256 bits (43 base64url characters)
  /// The browser's device cookie to set (the one it sent when the store knows it, else a new
  /// one, of the same form); empty when known devices are off or the store could not remember it.
  std::string device_cookie;
};

struct auth_options {
  std::chrono::seconds session_idle{30 * 60};
  std::chrono::seconds session_absolute{12 * 60 * 60};
  /// Failed logins allowed per account and per client address in `failure_window`; one more is
  /// answered errc::busy until the oldest of them leaves the window (never a lockout).
  std::int64_t max_failures = 5;
  std::chrono::seconds failure_window{15 * 60};
  /// Known devices (docs/identity.md): a browser that signed in as a user stays known for this
  /// long after its latest sign-in, and its attempts as that user are counted under it alone, not
  /// under the account's and the address's shared limits. Zero: no known devices.
  std::chrono::seconds device_lifetime{90LL * 24 * 60 * 60};
  /// Known devices kept per user (the least recently used forgotten first).
  std::int64_t devices_per_user = 20;
  /// How often the store's generation counter is read: a token revoked or a user disabled by
  /// another process (the CLI) is seen within this time at worst. Zero: on every request.
  std::chrono::milliseconds revocation_check{250};
  /// Password verifications at once (each takes 64 MiB for ~50-100 ms); more logins wait.
  std::ptrdiff_t concurrent_verifications = 4;
  /// The wall clock; tests inject their own. Empty: std::chrono::system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock;
  /// How often a thread of the authenticator measures the store's clock (a failed or dropped
  /// reading is retried after 5 s, or this when shorter); never by a request once one succeeded.
  std::chrono::milliseconds clock_check{60 * 1000};
};

/// The name of the known-device cookie of `user` (docs/identity.md, "Known devices"): one cookie
/// per user a browser signed in as, so that a browser officials share is a device of each, and a
/// cookie is only ever presented for the user it was issued to.
std::string device_cookie_name(std::string_view user);

/// The seconds to wait that an errc::busy error of login() carries; nullopt for another error.
std::optional<std::int64_t> retry_after_seconds(const store::error& e);

/// Whether an error of from_bearer() says the token has expired (rather than unknown or revoked).
bool token_expired(const store::error& e);

/// Thread-safe; one per server, over store::accounts.
class authenticator {
 public:
  explicit authenticator(std::unique_ptr<store::accounts> accounts, auth_options options = {});
  /// Opens the identity tables of the store at `db_path` (a SQLite file or a PostgreSQL connection
  /// string: store/pg/open.hpp; migrating it) and checks that they can be read.
  static store::result<std::unique_ptr<authenticator>> open(const std::string& db_path,
                                                            auth_options options = {});
  ~authenticator();
  authenticator(const authenticator&) = delete;
  authenticator& operator=(const authenticator&) = delete;

  /// errors: errc::refused = bad credentials or disabled (one message for both, and for an
  /// unknown user); errc::busy = rate limited, with the seconds to wait in the message and in
  /// retry_after_seconds(); errc::failed = the store failed. Audited (never the password).
  /// `device_cookie`: the browser's device cookie, if it sent one (a malformed or unknown one
  /// counts as none).
  store::result<login_ok> login(std::string_view user, std::string_view password,
                                std::string_view client_address,
                                std::string_view device_cookie = {});
  /// The session's principal; errc::refused when the cookie is malformed, unknown, ended, idle
  /// past session_idle, older than session_absolute or its user disabled. Slides the idle expiry.
  /// The principal carries the session's absolute end and the time it was checked at.
  store::result<principal> from_cookie(std::string_view cookie_value);
  /// The token's client; errc::refused when malformed, unknown, revoked or expired (past its
  /// expiry by the store's clock, as sessions: token_expired() tells that case apart; errc::failed
  /// while the store's clock has never been read). No store access on the
  /// hot path: a map from the token's SHA-256 to its principal.
  store::result<principal> from_bearer(std::string_view token);
  /// Ends the session (audited); a session already gone is not an error.
  store::status logout(const principal&);
  /// Stores a user's language (fr, ar, en); errc::refused for a machine client or another value.
  store::status set_lang(const principal&, std::string_view lang);
  /// Whether the request's X-CSRF-Token matches the session's (constant time); always false for
  /// a principal without a session.
  static bool csrf_ok(const principal&, std::string_view header_value);

  const auth_options& options() const { return options_; }
  /// Now by the store's clock (PostgreSQL's, shared by every server; SQLite's is this one's):
  /// this clock plus the offset last measured; nullopt while the store's time is not known (as
  /// store_seconds: until a first measurement succeeds, each call measures).
  std::optional<std::chrono::system_clock::time_point> store_now();

 private:
  struct digest_hasher {
    std::size_t operator()(const engine::digest& d) const noexcept;
  };
  struct cached_session {
    principal who;
    std::int64_t created = 0;
    std::int64_t last_seen = 0;     // slid in memory on every request
    std::int64_t last_written = 0;  // what the store has
  };

  std::chrono::system_clock::time_point now() const;
  /// Unix seconds of `at` by the store's clock (store::accounts::now_ms: PostgreSQL's, shared
  /// by every server; SQLite's is this one): `at` plus the offset last measured (in
  /// milliseconds), floored to the second (what the windows and the expiries are counted in),
  /// which the clock thread measures again every
  /// options().clock_check: no request waits on a reading. Until a first measurement succeeds,
  /// every call measures, and nullopt says the store's time is not known: nothing is then
  /// counted, expired or purged by a guess from this clock.
  std::optional<std::int64_t> store_seconds(std::chrono::system_clock::time_point at);
  /// The clock thread: measures the offset every clock_check, a failed or dropped reading again
  /// after min(5 s, clock_check), until stopped.
  void watch_clock(const std::stop_token& stop);
  /// Measures the offset: this clock read before and after asking the store's; a sample whose
  /// question took more than a second (the store busy, a lock waited on) is dropped, so that a
  /// wait never enters the offset. Returns whether a sample was kept.
  bool measure_clock();
  /// Reads the generation counter when due; when it moved, reloads the tokens and empties the
  /// session cache. A store failure empties both (fail closed: lookups then ask the store).
  void refresh(std::chrono::system_clock::time_point now);
  /// Reads the generation and every active token (at construction).
  store::status load();
  store::status reload_tokens();
  void forget_sessions();

  std::unique_ptr<store::accounts> accounts_;
  auth_options options_;
  std::counting_semaphore<1024> verifications_;

  std::mutex refresh_mutex_;
  std::atomic<std::int64_t> next_check_ms_{0};
  std::int64_t generation_ = -1;               // under refresh_mutex_
  std::atomic<std::int64_t> next_purge_{0};    // when login next deletes expired sessions
  std::atomic<std::int64_t> clock_offset_{0};  // the store's clock minus this one, milliseconds
  std::atomic<bool> clock_known_{false};       // a measurement succeeded

  std::shared_mutex tokens_mutex_;
  std::unordered_map<engine::digest, principal, digest_hasher> tokens_;
  std::uint64_t tokens_epoch_ = 0;  // bumped by every reload: a lookup begun before stays out

  std::mutex sessions_mutex_;
  std::unordered_map<engine::digest, cached_session, digest_hasher> sessions_;
  std::uint64_t sessions_epoch_ = 0;

  std::mutex clock_mutex_;  // only for clock_wake_'s waits
  std::condition_variable_any clock_wake_;
  // Last: stopped and joined first, while the accounts it reads are still there.
  std::jthread clock_thread_;
};

}  // namespace dalil::server
