// The authenticator (auth.hpp): login with rate limits, sessions with idle and absolute expiry,
// bearer tokens from an in-memory map, and the generation counter that keeps the caches honest.
#include "server/auth/auth.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

#include "server/auth/credentials.hpp"
#include "store/pg/open.hpp"

namespace dalil::server {

namespace {

using store::errc;
using store::fail;

constexpr std::size_t max_cached_sessions = 100000;
constexpr std::string_view busy_prefix =
    "too many failed logins for this account or address: "
    "retry after ";
constexpr std::string_view refused_login =
    "the user name or the password is wrong, or the "
    "account is disabled";
constexpr std::string_view refused_session = "no valid session: log in again";
constexpr std::string_view expired_prefix = "the bearer token expired";
constexpr std::string_view unknown_clock =
    "the store's clock could not be read (the database is busy or unreachable): try again";

std::int64_t millis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

/// A short prefix of a session's id hash: enough for an auditor to pair a login with its logout.
std::string session_tag(const engine::digest& id_hash) {
  return id_hash.hex().substr(0, 16);
}

store::result<principal> principal_of(const store::account& a) {
  auto r = role_from(a.role);
  if (!r) return fail(errc::damaged, "account " + a.name + " has an unknown role");
  principal p;
  p.name = a.name;
  p.r = *r;
  p.office = a.office;
  p.machine = a.machine;
  if (!a.machine) p.lang = a.lang;
  if (a.machine) p.expires = a.expires;
  return p;
}

/// The principal of a token, unless the token has expired at `now` (Unix seconds, the store's).
store::result<principal> unexpired(const principal& p, std::int64_t now) {
  if (p.machine && now >= p.expires) {
    return fail(errc::refused, std::string(expired_prefix) +
                                   ": create a new one (dalil token "
                                   "revoke, then dalil token create)");
  }
  principal checked = p;
  checked.checked_at = now;
  return checked;
}

/// Holds one of the semaphore's places for a password verification.
class verification_slot {
 public:
  explicit verification_slot(std::counting_semaphore<1024>& s) : s_(s) { s_.acquire(); }
  ~verification_slot() { s_.release(); }
  verification_slot(const verification_slot&) = delete;
  verification_slot& operator=(const verification_slot&) = delete;

 private:
  std::counting_semaphore<1024>& s_;
};

}  // namespace

std::string_view role_name(role r) {
  switch (r) {
    case role::official:
      return "official";
    case role::adviser:
      return "adviser";
    case role::auditor:
      return "auditor";
    case role::admin:
      return "admin";
  }
  return "official";
}

std::optional<role> role_from(std::string_view name) {
  if (name == "official") return role::official;
  if (name == "adviser") return role::adviser;
  if (name == "auditor") return role::auditor;
  if (name == "admin") return role::admin;
  return std::nullopt;
}

std::optional<std::int64_t> retry_after_seconds(const store::error& e) {
  if (e.code != errc::busy || !e.message.starts_with(busy_prefix)) return std::nullopt;
  std::string_view rest = std::string_view(e.message).substr(busy_prefix.size());
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
  if (ec != std::errc() || end == rest.data()) return std::nullopt;
  return n;
}

bool token_expired(const store::error& e) {
  return e.code == errc::refused && e.message.starts_with(expired_prefix);
}

std::size_t authenticator::digest_hasher::operator()(const engine::digest& d) const noexcept {
  std::size_t h = 0;
  std::memcpy(&h, d.bytes.data(), sizeof h);  // SHA-256 bytes are uniform already
  return h;
}

authenticator::authenticator(std::unique_ptr<store::accounts> accounts, auth_options options)
    : accounts_(std::move(accounts)),
      options_(std::move(options)),
      verifications_(std::clamp<std::ptrdiff_t>(options_.concurrent_verifications, 1, 1024)) {
  sodium_ready();
  decoy_password_hash();  // made now, not during the first login of an unknown user
  (void)load();           // on failure the first request loads (and fails closed until then)
  (void)measure_clock();  // on failure the thread retries, and each request until one succeeds
  clock_thread_ = std::jthread([this](const std::stop_token& stop) { watch_clock(stop); });
}

authenticator::~authenticator() {
  clock_thread_.request_stop();
  if (clock_thread_.joinable()) clock_thread_.join();
}

void authenticator::watch_clock(const std::stop_token& stop) {
  const auto check = std::max(options_.clock_check, std::chrono::milliseconds(1));
  const auto retry = std::min(check, std::chrono::milliseconds(5000));
  auto wait = clock_known_.load(std::memory_order_acquire) ? check : retry;
  std::unique_lock lock(clock_mutex_);
  while (true) {
    // Woken early only by the stop request: nothing else notifies clock_wake_.
    (void)clock_wake_.wait_for(lock, stop, wait, [&stop] { return stop.stop_requested(); });
    if (stop.stop_requested()) return;
    lock.unlock();
    wait = measure_clock() ? check : retry;  // a dropped or failed reading keeps the last offset
    lock.lock();
  }
}

store::status authenticator::load() {
  std::lock_guard lock(refresh_mutex_);
  auto g = accounts_->generation();
  if (!g) return g.error();
  if (auto loaded = reload_tokens(); !loaded) return loaded.error();
  generation_ = *g;
  next_check_ms_.store(millis(now()) + options_.revocation_check.count(),
                       std::memory_order_release);
  return {};
}

store::result<std::unique_ptr<authenticator>> authenticator::open(const std::string& db_path,
                                                                  auth_options options) {
  if (!sodium_ready()) return fail(errc::failed, "libsodium cannot start (no entropy source?)");
  auto accounts = store::open_accounts(db_path);
  if (!accounts) return accounts.error();
  auto auth = std::make_unique<authenticator>(std::move(*accounts), std::move(options));
  if (auth->generation_ < 0) {
    if (auto loaded = auth->load(); !loaded) return loaded.error();
  }
  return auth;
}

std::chrono::system_clock::time_point authenticator::now() const {
  return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

bool authenticator::measure_clock() {
  // In milliseconds, against the middle of the round trip: whole seconds on both sides made the
  // offset a second off whenever a second began between the two readings (one server then
  // ended a session that another still held good).
  const std::int64_t before = millis(now());
  auto t = accounts_->now_ms(before);
  const std::int64_t after = millis(now());
  if (!t || after - before > 1000) return false;
  clock_offset_.store(*t - (before + (after - before) / 2), std::memory_order_relaxed);
  clock_known_.store(true, std::memory_order_release);
  return true;
}

std::optional<std::chrono::system_clock::time_point> authenticator::store_now() {
  if (!clock_known_.load(std::memory_order_acquire) && !measure_clock()) return std::nullopt;
  return now() + std::chrono::milliseconds(clock_offset_.load(std::memory_order_relaxed));
}

std::optional<std::int64_t> authenticator::store_seconds(std::chrono::system_clock::time_point at) {
  // Never a reading once one succeeded: the clock thread takes the next ones.
  if (!clock_known_.load(std::memory_order_acquire) && !measure_clock()) return std::nullopt;
  const std::int64_t ms = millis(at) + clock_offset_.load(std::memory_order_relaxed);
  return ms >= 0 ? ms / 1000 : -((999 - ms) / 1000);  // floor: Unix seconds of the store
}

store::status authenticator::reload_tokens() {
  auto all = accounts_->tokens();
  if (!all) return all.error();
  std::unordered_map<engine::digest, principal, digest_hasher> fresh;
  fresh.reserve(all->size());
  for (const auto& [hash, client] : *all) {
    auto p = principal_of(client);
    if (!p) return p.error();
    fresh.emplace(hash, std::move(*p));
  }
  std::unique_lock lock(tokens_mutex_);
  tokens_.swap(fresh);
  ++tokens_epoch_;
  return {};
}

void authenticator::forget_sessions() {
  std::lock_guard lock(sessions_mutex_);
  sessions_.clear();
  ++sessions_epoch_;
}

void authenticator::refresh(std::chrono::system_clock::time_point at) {
  std::int64_t ms = millis(at);
  if (ms < next_check_ms_.load(std::memory_order_acquire)) return;
  std::unique_lock lock(refresh_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // another thread is checking right now
  if (ms < next_check_ms_.load(std::memory_order_relaxed)) return;
  next_check_ms_.store(ms + options_.revocation_check.count(), std::memory_order_release);
  auto g = accounts_->generation();
  if (!g || *g != generation_) {
    bool reloaded = g && reload_tokens();
    if (!reloaded) {
      std::unique_lock tokens(tokens_mutex_);
      tokens_.clear();
      ++tokens_epoch_;
    }
    forget_sessions();
    generation_ = reloaded ? *g : -1;
  }
}

std::string device_cookie_name(std::string_view user) {
  return "__Secure-dalil-device-" + engine::sha256(user).hex().substr(0, 12);
}

store::result<login_ok> authenticator::login(std::string_view user, std::string_view password,
                                             std::string_view client_address,
                                             std::string_view device_cookie) {
  auto at = now();
  auto known = store_seconds(at);
  if (!known) return fail(errc::failed, std::string(unknown_clock));
  const std::int64_t t = *known;
  // Expired sessions leave the store at most once a minute, here: a login is slow anyway, and
  // the paths of ordinary requests never wait on this write.
  if (std::int64_t due = next_purge_.load(std::memory_order_relaxed);
      t >= due && next_purge_.compare_exchange_strong(due, t + 60)) {
    (void)accounts_->purge_sessions(t, options_.session_idle.count(),
                                    options_.session_absolute.count());
  }
  std::string name(user);
  auto address = classify_address(client_address);
  auto account_key = engine::sha256(name);
  // A browser that has signed in as this user before (a known device) is counted under its own
  // key, (device, user), for both limits: failures others cause on the account or from the
  // address (the same office's network) do not keep the user out of their own browser, and the
  // device's own failures are limited as an address's are.
  const std::int64_t device_since = t - options_.device_lifetime.count();
  std::optional<engine::digest> device_hash;
  store::device_trust device;
  if (options_.device_lifetime.count() > 0 && session_form(device_cookie)) {
    device_hash = secret_hash(device_cookie);
    auto d = accounts_->device(*device_hash, account_key, device_since);
    if (!d) return d.error();
    device = *d;
  }
  engine::digest attempt_key = account_key;
  std::string attempt_address = address.key;
  if (device.for_account) {
    attempt_key = engine::sha256("device\n" + device_hash->hex() + "\n" + name);
    attempt_address = "device " + attempt_key.hex().substr(0, 32);
  }
  const char* device_word = device.for_account ? "known" : "new";
  auto slot = accounts_->reserve_attempt(attempt_key, attempt_address, t, options_.max_failures,
                                         options_.failure_window.count());
  if (!slot) return slot.error();
  if (slot->retry_after > 0) {
    // On the record, without flooding it: the first refusal of each (account, window) and
    // (address, window) is audited, the others counted (store/accounts.hpp).
    std::int64_t window = std::max<std::int64_t>(1, options_.failure_window.count());
    store::result<store::account> known = fail(errc::not_found, "");
    if (store::valid_account_name(name)) known = accounts_->user(name);
    auto recorded = accounts_->login_throttled(attempt_key, slot->account_over, attempt_address,
                                               slot->address_over, t - t % window, window,
                                               known ? "user " + name : "unknown user");
    if (!recorded) return recorded.error();
    return fail(errc::busy,
                std::string(busy_prefix) + std::to_string(slot->retry_after) + " seconds");
  }

  // The password is verified whatever the name: an unknown user costs the same time.
  store::result<store::account> found = fail(errc::not_found, "");
  if (store::valid_account_name(name)) found = accounts_->user(name);
  if (!found && found.error().code != errc::not_found) return found.error();
  const std::string& hash = found ? found->password_hash : decoy_password_hash();
  bool match = false;
  {
    verification_slot held(verifications_);
    match = verify_password(hash, password);
  }

  std::string why;
  if (!found) {
    why = "unknown_user";
  } else if (!match) {
    why = "password";
  } else if (found->disabled) {
    why = "disabled";
  } else if (found->role == "admin") {
    why = "admin";
  }
  if (!why.empty()) {
    std::string details = "{\"reason\":\"" + why + "\",\"address\":\"" + std::string(address.kind) +
                          "\",\"device\":\"" + device_word +
                          "\",\"account_failures\":" + std::to_string(slot->account_failures) + "}";
    auto audited = accounts_->login_failed(found ? "user " + name : "unknown user", details);
    if (!audited) return audited.error();
    if (why == "admin") {
      // Only said once the password matched: it tells nothing to someone guessing.
      return fail(errc::refused, std::string(admin_refusal));
    }
    return fail(errc::refused, std::string(refused_login));
  }

  auto who = principal_of(*found);
  if (!who) return who.error();
  std::string cookie = random_secret();
  store::session_row row;
  row.id_hash = secret_hash(cookie);
  row.user = *found;
  row.created = t;
  row.last_seen = t;
  std::string details = "{\"role\":\"" + found->role + "\",\"office\":\"" + found->office +
                        "\",\"address\":\"" + std::string(address.kind) + "\",\"device\":\"" +
                        device_word + "\",\"session\":\"" + session_tag(row.id_hash) +
                        "\",\"created\":" + std::to_string(t) + "}";
  auto stored =
      accounts_->login_succeeded(slot->attempt_id, attempt_key, attempt_address, row, details);
  if (!stored) {
    if (stored.error().code == errc::refused)
      return fail(errc::refused, std::string(refused_login));
    return stored.error();
  }
  who->session = row.id_hash.hex();
  who->csrf = csrf_for(cookie);
  who->session_ends = t + options_.session_absolute.count();
  who->checked_at = t;
  {
    std::lock_guard lock(sessions_mutex_);
    if (sessions_.size() >= max_cached_sessions) sessions_.clear();
    sessions_[row.id_hash] = cached_session{*who, t, t, t};
  }
  // The browser becomes (or stays) a known device of the user: the cookie it sent for this user
  // when the store knows it so, a new one otherwise (a value the store never issued, or issued
  // for another user, is never adopted: a cookie copied from a colleague's browser gives nothing).
  // Remembered only while the login's session exists (a disable or a new password since then
  // forgot the user's devices). If that cannot be stored, the login stands and the browser is
  // simply not remembered.
  std::string device_value;
  if (options_.device_lifetime.count() > 0) {
    device_value = device.for_account ? std::string(device_cookie) : random_secret();
    auto kept = accounts_->trust_device(secret_hash(device_value), account_key, row.id_hash, t,
                                        device_since, options_.devices_per_user);
    if (!kept || !*kept) device_value.clear();
  }
  return login_ok{std::move(*who), std::move(cookie), std::move(device_value)};
}

store::result<principal> authenticator::from_cookie(std::string_view cookie_value) {
  if (!session_form(cookie_value)) return fail(errc::refused, std::string(refused_session));
  auto at = now();
  refresh(at);
  auto known = store_seconds(at);
  if (!known) return fail(errc::failed, std::string(unknown_clock));
  const std::int64_t t = *known;
  auto id_hash = secret_hash(cookie_value);

  cached_session s;
  bool cached = false;
  std::uint64_t epoch = 0;
  {
    std::lock_guard lock(sessions_mutex_);
    epoch = sessions_epoch_;
    if (auto it = sessions_.find(id_hash); it != sessions_.end()) {
      s = it->second;
      cached = true;
    }
  }
  if (!cached) {
    auto row = accounts_->session(id_hash);
    if (!row) {
      if (row.error().code == errc::not_found) {
        return fail(errc::refused, std::string(refused_session));
      }
      return row.error();
    }
    if (row->user.disabled) return fail(errc::refused, std::string(refused_session));
    auto who = principal_of(row->user);
    if (!who) return who.error();
    who->session = id_hash.hex();
    who->csrf = csrf_for(cookie_value);
    who->session_ends = row->created + options_.session_absolute.count();
    s = cached_session{std::move(*who), row->created, row->last_seen, row->last_seen};
  }

  auto expired = [&] {
    return t - s.created >= options_.session_absolute.count() ||
           t - s.last_seen >= options_.session_idle.count();
  };
  if (cached && expired()) {
    // This server's copy may be behind: another server kept the session alive since and wrote
    // its last use to the store (below). The store's last use decides.
    auto row = accounts_->session(id_hash);
    if (row) {
      s.last_seen = std::max(s.last_seen, row->last_seen);
      s.last_written = std::max(s.last_written, row->last_seen);
    } else if (row.error().code != errc::not_found) {
      return row.error();
    }
  }
  if (expired()) {
    {
      std::lock_guard lock(sessions_mutex_);
      sessions_.erase(id_hash);
    }
    (void)accounts_->expire_session(id_hash);
    return fail(errc::refused, std::string(refused_session));
  }

  // Slide the idle expiry in memory; write it to the store at most once a minute (or a quarter
  // of the idle time when that is shorter), so that other servers and a restart see it.
  s.last_seen = std::max(s.last_seen, t);
  std::int64_t throttle = std::clamp<std::int64_t>(options_.session_idle.count() / 4, 1, 60);
  if (s.last_seen - s.last_written >= throttle) {
    auto touched = accounts_->touch_session(id_hash, s.last_seen);
    if (!touched) {
      std::lock_guard lock(sessions_mutex_);
      sessions_.erase(id_hash);
      if (touched.error().code == errc::not_found) {
        return fail(errc::refused, std::string(refused_session));  // ended elsewhere
      }
      return touched.error();
    }
    s.last_written = s.last_seen;
  }
  {
    std::lock_guard lock(sessions_mutex_);
    if (sessions_epoch_ == epoch) {  // not emptied since the read: still the truth
      if (sessions_.size() >= max_cached_sessions) sessions_.clear();
      auto& entry = sessions_[id_hash];
      if (entry.last_seen <= s.last_seen) entry = s;
    }
  }
  s.who.checked_at = t;
  return std::move(s.who);
}

store::result<principal> authenticator::from_bearer(std::string_view token) {
  if (!token_form(token)) return fail(errc::refused, "not a dalil bearer token");
  auto at = now();
  refresh(at);
  // The expiry is compared with the store's clock, as sessions are: servers whose clocks differ
  // agree on whether a token has expired.
  auto known = store_seconds(at);
  if (!known) return fail(errc::failed, std::string(unknown_clock));
  const std::int64_t t = *known;
  auto hash = secret_hash(token);
  std::uint64_t epoch = 0;
  {
    std::shared_lock lock(tokens_mutex_);
    // Found by its SHA-256: timing reveals nothing about a token, only about a hash of it.
    if (auto it = tokens_.find(hash); it != tokens_.end()) return unexpired(it->second, t);
    epoch = tokens_epoch_;
  }
  // Not in the map: a token created since the last reload, or none. The store decides.
  auto client = accounts_->token(hash);
  if (!client) {
    if (client.error().code == errc::not_found) {
      return fail(errc::refused, "unknown or revoked bearer token");
    }
    return client.error();
  }
  auto p = principal_of(*client);
  if (!p) return p.error();
  std::unique_lock lock(tokens_mutex_);
  if (tokens_epoch_ == epoch) tokens_.emplace(hash, *p);
  return unexpired(*p, t);
}

store::status authenticator::logout(const principal& who) {
  if (who.machine || who.session.empty()) {
    return fail(errc::refused, "a bearer token has no session to end");
  }
  auto id_hash = engine::digest::from_hex(who.session);
  if (!id_hash) return fail(errc::refused, "not a session");
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(*id_hash);
  }
  std::string details = "{\"role\":\"" + std::string(role_name(who.r)) + "\",\"office\":\"" +
                        who.office + "\",\"session\":\"" + session_tag(*id_hash) + "\"}";
  auto ended = accounts_->end_session(*id_hash, who.name, details);
  if (!ended && ended.error().code != errc::not_found) return ended.error();
  return {};
}

store::status authenticator::set_lang(const principal& who, std::string_view lang) {
  if (who.machine) return fail(errc::refused, "a machine client has no stored language");
  if (lang != "fr" && lang != "ar" && lang != "en") {
    return fail(errc::refused, "the language must be fr, ar or en");
  }
  auto stored = accounts_->set_lang(who.name, std::string(lang));
  if (!stored) return stored.error();
  std::lock_guard lock(sessions_mutex_);
  for (auto& [hash, s] : sessions_) {
    if (s.who.name == who.name) s.who.lang = std::string(lang);
  }
  return {};
}

bool authenticator::csrf_ok(const principal& who, std::string_view header_value) {
  if (who.machine || who.csrf.empty()) return false;
  return constant_time_equal(who.csrf, header_value);
}

}  // namespace dalil::server
