// Identity: Argon2id passwords, login and its rate limits, session expiry with an injected clock,
// CSRF, bearer tokens and their revocation, and the CLI that administers them (server/auth,
// store/accounts.hpp, cli/account_commands.cpp).
#include <catch2/catch.hpp>

#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "server/auth/auth.hpp"
#include "server/auth/credentials.hpp"
#include "store/accounts.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace Catch {
// How Catch2 shows a store result in a failed check: its error's message.
template <class T>
struct StringMaker<boost::system::result<T, dalil::store::error>> {
  static std::string convert(const boost::system::result<T, dalil::store::error>& r) {
    return r ? std::string("ok") : "error: " + r.error().message;
  }
};
}  // namespace Catch

using namespace dalil;
namespace fs = std::filesystem;
using std::chrono::seconds;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    static std::atomic<int> n{0};
    path = fs::temp_directory_path() /
           ("dalil-auth-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~temp_dir() { fs::remove_all(path); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string db() const { return (path / "store.db").string(); }
};

/// A clock the test moves by hand (shared by the authenticators of one test), in milliseconds.
struct test_clock {
  std::shared_ptr<std::atomic<std::int64_t>> t =
      std::make_shared<std::atomic<std::int64_t>>(1'800'000'000'000);
  std::function<std::chrono::system_clock::time_point()> fn() const {
    auto p = t;
    return
        [p] { return std::chrono::system_clock::time_point(std::chrono::milliseconds(p->load())); };
  }
  void advance(std::int64_t s) const { *t += s * 1000; }
  void advance_ms(std::int64_t ms) const { *t += ms; }
  void set_seconds(std::int64_t s) const { *t = s * 1000; }
};

constexpr std::string_view pw_alice = "correct horse battery";  // 21 characters
constexpr std::string_view pw_bob = "another-long-secret";

store::account user(const std::string& name, const std::string& role, const std::string& office,
                    std::string_view password) {
  store::account a;
  a.name = name;
  a.role = role;
  a.office = office;
  auto h = server::hash_password(password);
  REQUIRE(h);
  a.password_hash = *h;
  return a;
}

std::unique_ptr<store::accounts> open_accounts(const temp_dir& dir) {
  auto a = store::open_sqlite_accounts(dir.db());
  INFO((a ? std::string() : a.error().message));
  REQUIRE(a);
  return std::move(*a);
}

std::unique_ptr<server::authenticator> open_auth(const temp_dir& dir, const test_clock& clock,
                                                 server::auth_options o = {}) {
  o.clock = clock.fn();
  o.revocation_check = std::chrono::milliseconds(0);  // see every change at once in tests
  auto a = server::authenticator::open(dir.db(), std::move(o));
  INFO((a ? std::string() : a.error().message));
  REQUIRE(a);
  return std::move(*a);
}

/// Two officials of rabat, alice and bob, with pw_alice and pw_bob.
void add_alice_and_bob(const temp_dir& dir) {
  auto db = open_accounts(dir);
  REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
  REQUIRE(db->add_user(user("bob", "official", "rabat", pw_bob), "test"));
}

/// The rate limits of the limit tests: 3 failures in 10 minutes.
server::auth_options three_failures_in_ten_minutes() {
  server::auth_options o;
  o.max_failures = 3;
  o.failure_window = seconds(600);
  return o;
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// One number from the store, read through a connection of its own (as an auditor would).
std::int64_t query(const temp_dir& dir, const std::string& sql) {
  store::database db;
  std::string error;
  REQUIRE(db.open(dir.db(), error));
  auto q = db.prepare(sql, error);
  INFO(error);
  REQUIRE(q.ok());
  REQUIRE(q.step() == SQLITE_ROW);
  return q.int64(0);
}

std::int64_t count(const temp_dir& dir, const std::string& where) {
  return query(dir, "SELECT count(*) FROM audit WHERE " + where);
}

bool verified(const temp_dir& dir) {
  auto s = store::open_sqlite(dir.db());
  REQUIRE(s.has_value());
  auto report = (*s)->verify({});
  INFO((!report                    ? report.error().message
        : report->problems.empty() ? std::string()
                                   : report->problems.front().what));
  return report && report->problems.empty();
}

struct command_result {
  int status = -1;
  std::string out;
  std::string err;
};

/// Runs the dalil executable through the shell with `input` on its standard input (not a
/// terminal: a pipe, as a script gives it).
command_result run_dalil(const temp_dir& dir, const std::string& args, const std::string& input) {
  fs::path in = dir.path / "stdin.txt";
  fs::path err = dir.path / "stderr.txt";
  std::ofstream(in, std::ios::binary) << input;
  std::string cmd =
      std::string(DALIL_CLI) + " " + args + " <'" + in.string() + "' 2>'" + err.string() + "'";
  FILE* f = popen(cmd.c_str(), "r");
  REQUIRE(f != nullptr);
  command_result r;
  char buf[256];
  while (fgets(buf, sizeof buf, f) != nullptr) r.out += buf;
  int status = pclose(f);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = file_bytes(err);
  return r;
}

/// Runs dalil on a pseudo-terminal, as an administrator at a keyboard: each answer is typed once
/// its prompt is on the screen. Returns everything the terminal showed.
/// An answer of "\x03" is Ctrl-C, typed alone. `echo_after` tells whether the terminal echoes
/// once the program has ended.
std::string run_on_terminal(const std::vector<std::string>& args,
                            const std::vector<std::pair<std::string, std::string>>& dialogue,
                            int& status, bool* echo_after = nullptr) {
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::vector<char*> argv;
    std::string program = DALIL_CLI;
    argv.push_back(program.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  std::string screen;
  std::size_t next = 0;      // the next answer of the dialogue
  std::size_t consumed = 0;  // the screen up to the last prompt answered
  auto deadline = std::chrono::steady_clock::now() + seconds(60);
  for (;;) {
    if (next < dialogue.size()) {
      auto at = screen.find(dialogue[next].first, consumed);
      if (at != std::string::npos) {
        std::string line = dialogue[next].second;
        if (line != "\x03") line += "\n";
        REQUIRE(write(master, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
        consumed = at + dialogue[next].first.size();
        ++next;
      }
    }
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child has exited and closed the terminal
    screen.append(buf, static_cast<std::size_t>(n));
  }
  int raw = 0;
  waitpid(pid, &raw, 0);
  if (echo_after != nullptr) {
    termios t{};
    REQUIRE(tcgetattr(master, &t) == 0);
    *echo_after = (t.c_lflag & ECHO) != 0;
  }
  close(master);
  status = WIFEXITED(raw) ? WEXITSTATUS(raw) : (WIFSIGNALED(raw) ? 128 + WTERMSIG(raw) : -1);
  return screen;
}

}  // namespace

TEST_CASE("auth: passwords need 12 characters, counted as characters, not bytes", "[auth]") {
  CHECK_FALSE(server::hash_password("").has_value());
  auto eleven = server::hash_password("abcdefghijk");
  REQUIRE_FALSE(eleven);
  CHECK(eleven.error().code == store::errc::refused);
  CHECK(eleven.error().message.find("at least 12 characters") != std::string::npos);
  CHECK(eleven.error().message.find("abcdefghijk") == std::string::npos);
  // 11 Arabic letters are 22 bytes but 11 characters: refused; 12 are accepted.
  std::string ar11;
  for (int i = 0; i < 11; ++i) ar11 += "\xd8\xb3";  // U+0633
  CHECK_FALSE(server::hash_password(ar11).has_value());
  auto ar12 = server::hash_password(ar11 + "\xd8\xb3");
  REQUIRE(ar12);
  CHECK(server::verify_password(*ar12, ar11 + "\xd8\xb3"));
  CHECK_FALSE(server::hash_password("twelve chars\t1").has_value());  // control character
  CHECK_FALSE(server::hash_password(std::string(1025, 'x')).has_value());
}

TEST_CASE("auth: the store keeps Argon2id hashes, never a password or a token", "[auth]") {
  temp_dir dir;
  std::string token = server::new_token();
  {
    auto db = open_accounts(dir);
    REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
    store::account client;
    client.name = "caseworker-system";
    client.role = "official";
    client.office = "rabat";
    REQUIRE(db->add_token(client, server::secret_hash(token), "test"));
    auto alice = db->user("alice");
    REQUIRE(alice);
    CHECK(alice->password_hash.starts_with("$argon2id$v=19$m=65536,t=2,p=1$"));
    CHECK(server::verify_password(alice->password_hash, pw_alice));
    CHECK_FALSE(server::verify_password(alice->password_hash, pw_bob));
    // Two hashes of one password differ (a random salt each).
    auto again = server::hash_password(pw_alice);
    REQUIRE(again);
    CHECK(*again != alice->password_hash);
  }
  std::string bytes = file_bytes(dir.db()) + file_bytes(dir.db() + "-wal");
  CHECK(bytes.find("$argon2id$") != std::string::npos);
  CHECK(bytes.find(pw_alice) == std::string::npos);
  CHECK(bytes.find(token) == std::string::npos);
  CHECK(bytes.find(token.substr(server::token_prefix.size())) == std::string::npos);
  CHECK(token.starts_with("dalil_"));
  CHECK(token.size() == 49);
}

TEST_CASE("auth: login, one message for unknown user, wrong password and disabled user", "[auth]") {
  temp_dir dir;
  test_clock clock;
  {
    auto db = open_accounts(dir);
    REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
    REQUIRE(db->add_user(user("dora", "auditor", "", pw_bob), "test"));
    REQUIRE(db->disable_user("dora", "test"));
  }
  auto auth = open_auth(dir, clock);

  auto ok = auth->login("alice", pw_alice, "127.0.0.1");
  REQUIRE(ok);
  CHECK(ok->who.name == "alice");
  CHECK(ok->who.r == server::role::official);
  CHECK(ok->who.office == "rabat");
  CHECK(ok->who.lang == "fr");
  CHECK_FALSE(ok->who.machine);
  CHECK(ok->cookie_value.size() == 43);
  CHECK(ok->who.session.size() == 64);
  CHECK(ok->who.csrf.size() == 43);
  CHECK(ok->who.csrf != ok->cookie_value);
  CHECK(ok->who.session == server::secret_hash(ok->cookie_value).hex());

  auto wrong = auth->login("alice", pw_bob, "127.0.0.1");
  auto unknown = auth->login("mallory", pw_alice, "127.0.0.1");
  auto disabled = auth->login("dora", pw_bob, "127.0.0.1");
  auto malformed = auth->login("alice'; --", pw_alice, "127.0.0.1");
  for (const auto* r : {&wrong, &unknown, &disabled, &malformed}) {
    REQUIRE_FALSE(r->has_value());
    CHECK(r->error().code == store::errc::refused);
    CHECK(r->error().message == wrong.error().message);
    CHECK(r->error().message.find(pw_alice) == std::string::npos);
  }

  // Audited: the login with role, office and address class; the failures without a password.
  CHECK(count(dir,
              "action='login' AND actor='alice' AND subject='user alice' AND details LIKE "
              "'%\"role\":\"official\",\"office\":\"rabat\",\"address\":\"loopback\"%'") == 1);
  CHECK(count(dir, "action='login_failed'") == 4);
  CHECK(count(dir, "action='login_failed' AND details LIKE '%disabled%'") == 1);
  CHECK(count(dir, "details LIKE '%" + std::string(pw_alice) + "%' OR details LIKE '%" +
                       std::string(pw_bob) + "%'") == 0);
  CHECK(count(dir, "action='login_failed' AND subject='unknown user'") == 2);
  CHECK(verified(dir));
}

TEST_CASE("auth: failed logins are limited per account and per address, then allowed again",
          "[auth]") {
  temp_dir dir;
  test_clock clock;
  add_alice_and_bob(dir);
  server::auth_options o = three_failures_in_ten_minutes();
  o.concurrent_verifications = 2;

  SECTION("per account: the right password is refused too while limited, then accepted") {
    auto auth = open_auth(dir, clock, o);
    for (int i = 0; i < 3; ++i) {
      auto r = auth->login("alice", "wrong password " + std::to_string(i),
                           "192.0.2." + std::to_string(10 + i));
      REQUIRE_FALSE(r);
      CHECK(r.error().code == store::errc::refused);
      clock.advance(10);
    }
    auto limited = auth->login("alice", pw_alice, "192.0.2.99");
    REQUIRE_FALSE(limited);
    CHECK(limited.error().code == store::errc::busy);
    auto wait = server::retry_after_seconds(limited.error());
    REQUIRE(wait);
    CHECK(*wait == 600 - 30);  // the oldest of the three leaves the window then
    CHECK(limited.error().message.find(std::to_string(*wait) + " seconds") != std::string::npos);
    // Another account from the same addresses is not limited.
    CHECK(auth->login("bob", pw_bob, "192.0.2.10"));
    // The limits survive a restart: they are in the store.
    auth.reset();
    auto restarted = open_auth(dir, clock, o);
    auto still = restarted->login("alice", pw_alice, "192.0.2.99");
    REQUIRE_FALSE(still);
    CHECK(still.error().code == store::errc::busy);
    clock.advance(*wait);
    CHECK(restarted->login("alice", pw_alice, "192.0.2.99"));
  }

  SECTION("per address: many accounts from one address; a success elsewhere resets nothing") {
    auto auth = open_auth(dir, clock, o);
    REQUIRE_FALSE(auth->login("carol", "guess-number-one", "2001:db8:1:2::10"));
    REQUIRE_FALSE(auth->login("dave", "guess-number-two", "2001:db8:1:2::11"));
    // The attacker's own account succeeds from the same /64: the address's failures stay.
    REQUIRE(auth->login("bob", pw_bob, "2001:db8:1:2::12"));
    REQUIRE_FALSE(auth->login("erin", "guess-number-three", "2001:db8:1:2:ffff::1"));
    auto limited = auth->login("alice", pw_alice, "2001:db8:1:2::13");
    REQUIRE_FALSE(limited);
    CHECK(limited.error().code == store::errc::busy);
    REQUIRE(server::retry_after_seconds(limited.error()));
    // Alice from another network is not limited.
    CHECK(auth->login("alice", pw_alice, "2001:db8:9:9::1"));
    clock.advance(601);
    CHECK(auth->login("alice", pw_alice, "2001:db8:1:2::13"));
  }

  SECTION("parallel attempts cannot all pass: the place is reserved before verifying") {
    auto auth = open_auth(dir, clock, o);
    std::atomic<int> refused{0};
    std::atomic<int> busy{0};
    std::vector<std::thread> threads;
    threads.reserve(8);
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&, i] {
        auto r = auth->login("alice", "parallel-guess-" + std::to_string(i), "198.51.100.7");
        if (!r && r.error().code == store::errc::refused) ++refused;
        if (!r && r.error().code == store::errc::busy) ++busy;
      });
    }
    for (auto& t : threads) t.join();
    CHECK(refused == 3);
    CHECK(busy == 5);
  }

  SECTION("a success clears the account's own failures from that address") {
    auto auth = open_auth(dir, clock, o);
    REQUIRE_FALSE(auth->login("alice", "typo-typo-typo-1", "203.0.113.5"));
    REQUIRE_FALSE(auth->login("alice", "typo-typo-typo-2", "203.0.113.5"));
    REQUIRE(auth->login("alice", pw_alice, "203.0.113.5"));
    REQUIRE_FALSE(auth->login("alice", "typo-typo-typo-3", "203.0.113.5"));
    REQUIRE_FALSE(auth->login("alice", "typo-typo-typo-4", "203.0.113.5"));
    CHECK(auth->login("alice", pw_alice, "203.0.113.5"));
  }
  CHECK(verified(dir));
}

TEST_CASE(
    "auth: a browser a user signed in from is not kept out by others' failures, and is limited "
    "on its own",
    "[auth]") {
  temp_dir dir;
  test_clock clock;
  add_alice_and_bob(dir);
  server::auth_options o = three_failures_in_ten_minutes();
  o.device_lifetime = seconds(3600);
  o.concurrent_verifications = 2;
  auto auth = open_auth(dir, clock, o);
  const std::string office = "192.0.2.1";
  auto first = auth->login("alice", pw_alice, office);
  REQUIRE(first);
  const std::string device = first->device_cookie;
  REQUIRE(device.size() == 43);
  CHECK(device != first->cookie_value);
  CHECK(count(dir, "action='login' AND details LIKE '%\"device\":\"new\"%'") == 1);
  clock.advance(10);

  // Someone fails on alice's account from elsewhere, and from the office's own address on other
  // accounts: both of alice's shared limits are reached.
  for (int i = 0; i < 3; ++i) {
    REQUIRE_FALSE(
        auth->login("alice", "guess-" + std::to_string(i), "198.51.100." + std::to_string(i)));
    REQUIRE_FALSE(auth->login("nobody" + std::to_string(i), "guess-guess-guess", office));
  }
  auto shared = auth->login("alice", pw_alice, office);
  REQUIRE_FALSE(shared);
  CHECK(shared.error().code == store::errc::busy);
  // A cookie the store never issued, or a malformed one, is no device.
  const std::string forged(43, 'A');
  auto with_forged = auth->login("alice", pw_alice, office, forged);
  REQUIRE_FALSE(with_forged);
  CHECK(with_forged.error().code == store::errc::busy);
  CHECK_FALSE(auth->login("alice", pw_alice, office, "short"));

  SECTION("alice's own browser signs in, keeps its cookie, and is audited as a known device") {
    auto again = auth->login("alice", pw_alice, office, device);
    REQUIRE(again);
    CHECK(again->device_cookie == device);
    CHECK(count(dir, "action='login' AND details LIKE '%\"device\":\"known\"%'") == 1);
  }

  SECTION("the device's own failures are limited, apart from the account's") {
    for (int i = 0; i < 3; ++i) {
      auto r = auth->login("alice", "typo-typo-typo-" + std::to_string(i), office, device);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == store::errc::refused);
    }
    auto limited = auth->login("alice", pw_alice, office, device);
    REQUIRE_FALSE(limited);
    CHECK(limited.error().code == store::errc::busy);
    CHECK(count(dir, "action='login_failed' AND details LIKE '%\"device\":\"known\"%'") == 3);
    clock.advance(600);
    CHECK(auth->login("alice", pw_alice, office, device));
  }

  SECTION("a cookie issued for one user gives nothing for another, and is not adopted") {
    // Bob signs in presenting alice's cookie (copied from her browser): he gets a cookie of his
    // own, never hers; and a cookie issued to bob does not pass alice's limits.
    auto bob = auth->login("bob", pw_bob, "203.0.113.9", device);
    REQUIRE(bob);
    CHECK(bob->device_cookie.size() == 43);
    CHECK(bob->device_cookie != device);
    auto refused = auth->login("alice", pw_alice, office, bob->device_cookie);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == store::errc::busy);
    // Alice's own cookie still works for her.
    CHECK(auth->login("alice", pw_alice, office, device));
    CHECK(server::device_cookie_name("alice") != server::device_cookie_name("bob"));
  }

  SECTION("a new password, a disabled user or the lifetime's end forgets the device") {
    auto which = GENERATE(0, 1, 2);
    {
      auto db = open_accounts(dir);
      if (which == 0) {
        auto h = server::hash_password("a brand new password");
        REQUIRE(h);
        REQUIRE(db->set_password("alice", *h, "test"));
      } else if (which == 1) {
        REQUIRE(db->disable_user("alice", "test"));
        REQUIRE(db->enable_user("alice", "test"));
      }
    }
    INFO("case " << which);
    if (which == 2) {
      // An hour on, the device is forgotten; the account is limited again.
      clock.advance(3600);
      for (int i = 0; i < 3; ++i)
        REQUIRE_FALSE(auth->login("alice", "later-guess-" + std::to_string(i), "198.51.100.9"));
    }
    auto r = auth->login("alice", which == 0 ? "a brand new password" : std::string(pw_alice),
                         office, device);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == store::errc::busy);
  }
  CHECK(query(dir, "SELECT count(*) FROM login_devices WHERE length(device) <> 32") == 0);
  CHECK(verified(dir));
}

TEST_CASE("auth: logins refused past the limit are on the record, without flooding it", "[auth]") {
  temp_dir dir;
  test_clock clock;  // starts on a multiple of the 600 s window
  {
    auto db = open_accounts(dir);
    REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
  }
  server::auth_options o;
  o.max_failures = 3;
  o.failure_window = seconds(600);
  auto auth = open_auth(dir, clock, o);
  clock.advance(590);
  for (int i = 0; i < 3; ++i) {
    REQUIRE_FALSE(auth->login("alice", "wrong password " + std::to_string(i), "192.0.2.7"));
    clock.advance(1);
  }
  // 20 refusals past the limit (the right password among them): one entry, 20 counted.
  for (int i = 0; i < 20; ++i) {
    auto r = auth->login("alice", i == 5 ? std::string(pw_alice) : "hammering-" + std::to_string(i),
                         "192.0.2.7");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == store::errc::busy);
  }
  CHECK(count(dir, "action='login_throttled'") == 1);
  CHECK(count(dir,
              "action='login_throttled' AND subject='user alice' AND actor='unauthenticated' "
              "AND details LIKE '%\"limits\":[\"account\",\"address\"]%' AND details LIKE "
              "'%\"address\":\"192.0.2.7\"%'") == 1);
  CHECK(query(dir, "SELECT sum(refused) FROM login_throttles WHERE kind='account'") == 20);
  CHECK(query(dir, "SELECT sum(refused) FROM login_throttles WHERE kind='address'") == 20);
  // From another address, the account alone is over: already on the record in this window.
  REQUIRE_FALSE(auth->login("alice", "from-elsewhere-1", "198.51.100.1"));
  CHECK(count(dir, "action='login_throttled'") == 1);
  CHECK(query(dir, "SELECT sum(refused) FROM login_throttles WHERE kind='account'") == 21);
  // An unknown name tried from the limited address: the address was on the record already.
  REQUIRE_FALSE(auth->login("nobody-here", "whatever-it-is", "192.0.2.7"));
  CHECK(count(dir, "action='login_throttled'") == 1);
  // The next window (still limited): a new entry, with the previous window's count.
  clock.advance(10);
  REQUIRE_FALSE(auth->login("alice", "next-window-try", "192.0.2.7"));
  CHECK(count(dir, "action='login_throttled'") == 2);
  CHECK(count(dir,
              "action='login_throttled' AND details LIKE "
              "'%\"refused_in_previous_window\":{\"account\":21,\"address\":21}%'") == 1);
  // Never a password in the audit log, and the chain still verifies.
  for (const std::string& secret :
       {std::string(pw_alice), std::string("hammering-1"), std::string("next-window-try")}) {
    CHECK(count(dir, "details LIKE '%" + secret + "%' OR subject LIKE '%" + secret + "%'") == 0);
  }
  CHECK(verified(dir));
}

TEST_CASE("auth: sessions expire when idle and at their absolute age, idle slides", "[auth]") {
  temp_dir dir;
  test_clock clock;
  {
    auto db = open_accounts(dir);
    REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
  }
  server::auth_options o;
  o.session_idle = seconds(100);
  o.session_absolute = seconds(1000);
  auto auth = open_auth(dir, clock, o);
  auto ok = auth->login("alice", pw_alice, "::1");
  REQUIRE(ok);
  const std::string cookie = ok->cookie_value;

  SECTION("idle") {
    clock.advance(99);
    auto p = auth->from_cookie(cookie);
    REQUIRE(p);
    CHECK(p->name == "alice");
    CHECK(p->csrf == ok->who.csrf);
    CHECK(p->session == ok->who.session);
    clock.advance(99);  // 198 s after login, 99 s after the last use: slid
    REQUIRE(auth->from_cookie(cookie));
    // Another server process (a second authenticator on the store) sees the slide too: the
    // last use was written through (the throttle is a quarter of the idle time here).
    auto other = open_auth(dir, clock, o);
    clock.advance(60);
    REQUIRE(other->from_cookie(cookie));
    clock.advance(100);
    auto expired = auth->from_cookie(cookie);
    REQUIRE_FALSE(expired);
    CHECK(expired.error().code == store::errc::refused);
    CHECK_FALSE(other->from_cookie(cookie));
  }

  SECTION("absolute") {
    for (int i = 0; i < 10; ++i) {
      clock.advance(90);
      REQUIRE(auth->from_cookie(cookie));
    }
    clock.advance(99);  // 999 s
    REQUIRE(auth->from_cookie(cookie));
    clock.advance(1);
    CHECK_FALSE(auth->from_cookie(cookie));
  }

  SECTION("expired sessions leave the store at a later login, at most once a minute") {
    REQUIRE(auth->login("alice", pw_alice, "::1"));
    CHECK(query(dir, "SELECT count(*) FROM sessions") == 2);
    clock.advance(101);  // both idle past 100 s
    REQUIRE(auth->login("alice", pw_alice, "::1"));
    CHECK(query(dir, "SELECT count(*) FROM sessions") == 1);
    clock.advance(101);
    REQUIRE(auth->login("alice", pw_alice, "::1"));
    CHECK(query(dir, "SELECT count(*) FROM sessions") == 1);  // 202 s: a minute has passed
    CHECK_FALSE(auth->from_cookie(cookie));
  }

  SECTION("a session survives a restart of the server") {
    auth.reset();
    auto restarted = open_auth(dir, clock, o);
    clock.advance(50);
    auto p = restarted->from_cookie(cookie);
    REQUIRE(p);
    CHECK(p->csrf == ok->who.csrf);
  }

  SECTION("malformed and unknown cookies") {
    CHECK_FALSE(auth->from_cookie(""));
    CHECK_FALSE(auth->from_cookie(cookie.substr(1)));
    CHECK_FALSE(auth->from_cookie(cookie + "A"));
    CHECK_FALSE(auth->from_cookie(server::random_secret()));
    CHECK_FALSE(auth->from_cookie(std::string(43, '!')));
  }
}

TEST_CASE("auth: CSRF token per session, compared in constant time", "[auth]") {
  temp_dir dir;
  test_clock clock;
  {
    auto db = open_accounts(dir);
    REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
  }
  auto auth = open_auth(dir, clock);
  auto a = auth->login("alice", pw_alice, "127.0.0.1");
  auto b = auth->login("alice", pw_alice, "127.0.0.1");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->who.csrf != b->who.csrf);
  CHECK(server::authenticator::csrf_ok(a->who, a->who.csrf));
  CHECK_FALSE(server::authenticator::csrf_ok(a->who, b->who.csrf));
  CHECK_FALSE(server::authenticator::csrf_ok(a->who, ""));
  CHECK_FALSE(server::authenticator::csrf_ok(a->who, a->who.csrf.substr(1)));
  CHECK_FALSE(server::authenticator::csrf_ok(a->who, a->cookie_value));
  std::string flipped = a->who.csrf;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  CHECK_FALSE(server::authenticator::csrf_ok(a->who, flipped));
  server::principal machine;
  machine.machine = true;
  CHECK_FALSE(server::authenticator::csrf_ok(machine, ""));
  // The CSRF token a session is given is the one its cookie gives back later.
  auto p = auth->from_cookie(a->cookie_value);
  REQUIRE(p);
  CHECK(server::authenticator::csrf_ok(*p, a->who.csrf));
}

TEST_CASE("auth: logout ends the session and is audited, set_lang is stored", "[auth]") {
  temp_dir dir;
  test_clock clock;
  {
    auto db = open_accounts(dir);
    REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
  }
  auto auth = open_auth(dir, clock);
  auto a = auth->login("alice", pw_alice, "10.1.2.3");
  auto b = auth->login("alice", pw_alice, "10.1.2.3");
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(auth->set_lang(a->who, "ar"));
  auto pb = auth->from_cookie(b->cookie_value);
  REQUIRE(pb);
  CHECK(pb->lang == "ar");
  CHECK_FALSE(auth->set_lang(a->who, "de"));
  REQUIRE(auth->logout(a->who));
  CHECK_FALSE(auth->from_cookie(a->cookie_value));
  CHECK(auth->from_cookie(b->cookie_value));  // the other session lives on
  CHECK(auth->logout(a->who));                // twice is not an error
  auto fresh = auth->login("alice", pw_alice, "10.1.2.3");
  REQUIRE(fresh);
  CHECK(fresh->who.lang == "ar");
  CHECK(count(dir,
              "action='logout' AND actor='alice' AND details LIKE '%\"role\":\"official\"%'") == 1);
  CHECK(count(dir, "action='login' AND details LIKE '%\"address\":\"private\"%'") == 3);
  CHECK(verified(dir));
}

TEST_CASE("auth: disabling a user ends its sessions at once, in every server", "[auth]") {
  temp_dir dir;
  test_clock clock;
  auto db = open_accounts(dir);
  REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
  auto auth = open_auth(dir, clock);
  auto a = auth->login("alice", pw_alice, "127.0.0.1");
  REQUIRE(a);
  REQUIRE(auth->from_cookie(a->cookie_value));     // now cached
  auto ended = db->disable_user("alice", "test");  // as the CLI does, another connection
  REQUIRE(ended);
  CHECK(*ended == 1);
  CHECK_FALSE(auth->from_cookie(a->cookie_value));
  auto again = auth->login("alice", pw_alice, "127.0.0.1");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == store::errc::refused);
  REQUIRE(db->enable_user("alice", "test"));
  CHECK_FALSE(auth->from_cookie(a->cookie_value));  // enabling does not revive a session
  CHECK(auth->login("alice", pw_alice, "127.0.0.1"));
}

TEST_CASE("auth: bearer tokens verify from memory, a revoked token stops working", "[auth]") {
  temp_dir dir;
  test_clock clock;
  auto db = open_accounts(dir);
  std::string token = server::new_token();
  store::account client;
  client.name = "case-system";
  client.role = "official";
  client.office = "tanger";
  REQUIRE(db->add_token(client, server::secret_hash(token), "test"));

  server::auth_options o;
  o.clock = clock.fn();
  o.revocation_check = std::chrono::milliseconds(1000);
  auto opened = server::authenticator::open(dir.db(), o);
  REQUIRE(opened);
  auto& auth = *opened;

  auto p = auth->from_bearer(token);
  REQUIRE(p);
  CHECK(p->name == "case-system");
  CHECK(p->machine);
  CHECK(p->office == "tanger");
  CHECK(p->r == server::role::official);
  CHECK(p->session.empty());
  CHECK(p->csrf.empty());
  CHECK_FALSE(auth->logout(*p));
  CHECK_FALSE(auth->set_lang(*p, "ar"));

  CHECK_FALSE(auth->from_bearer(""));
  CHECK_FALSE(auth->from_bearer(token.substr(server::token_prefix.size())));
  CHECK_FALSE(auth->from_bearer(server::new_token()));
  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  CHECK_FALSE(auth->from_bearer(flipped));

  // A token created after the server started works at once (a miss asks the store).
  std::string second = server::new_token();
  client.name = "stats-robot";
  client.role = "adviser";
  client.office.clear();
  REQUIRE(db->add_token(client, server::secret_hash(second), "test"));
  auto q = auth->from_bearer(second);
  REQUIRE(q);
  CHECK(q->r == server::role::adviser);

  // Revoked by another process: refused after the next generation check (1 s here).
  REQUIRE(db->revoke_token("case-system", "test"));
  clock.advance(1);
  auto revoked = auth->from_bearer(token);
  REQUIRE_FALSE(revoked);
  CHECK(revoked.error().code == store::errc::refused);
  CHECK(auth->from_bearer(second));
  CHECK_FALSE(db->revoke_token("case-system", "test"));  // nothing active left to revoke

  // A new token for the same client replaces the revoked one; the old one stays dead.
  std::string third = server::new_token();
  client.name = "case-system";
  client.role = "official";
  client.office = "tanger";
  REQUIRE(db->add_token(client, server::secret_hash(third), "test"));
  CHECK(auth->from_bearer(third));
  CHECK_FALSE(auth->from_bearer(token));
  CHECK(verified(dir));
}

TEST_CASE("auth: bearer tokens expire (90 days unless given, at most 365), on every request",
          "[auth]") {
  temp_dir dir;
  test_clock clock;
  auto db = open_accounts(dir);
  const std::int64_t real_now =
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  clock.set_seconds(real_now);
  std::string token = server::new_token();
  store::account client;
  client.name = "case-system";
  client.role = "official";
  client.office = "tanger";
  client.expires = real_now + 3600;  // an hour
  REQUIRE(db->add_token(client, server::secret_hash(token), "test"));
  auto auth = open_auth(dir, clock);
  auto p = auth->from_bearer(token);
  REQUIRE(p);
  CHECK(p->expires == real_now + 3600);
  clock.advance(3599);
  CHECK(auth->from_bearer(token));  // from the server's map: checked there too
  clock.advance(1);
  auto expired = auth->from_bearer(token);
  REQUIRE_FALSE(expired);
  CHECK(expired.error().code == store::errc::refused);
  CHECK(server::token_expired(expired.error()));
  // A restarted server (the token read from the store) refuses it as well.
  auto restarted = open_auth(dir, clock);
  auto again = restarted->from_bearer(token);
  REQUIRE_FALSE(again);
  CHECK(server::token_expired(again.error()));
  // Unknown and revoked tokens are not "expired".
  auto unknown = auth->from_bearer(server::new_token());
  REQUIRE_FALSE(unknown);
  CHECK_FALSE(server::token_expired(unknown.error()));
  // The store refuses an expiry in the past or past 365 days; none given is 90 days.
  client.name = "late";
  client.expires = real_now - 1;
  CHECK_FALSE(db->add_token(client, server::secret_hash(server::new_token()), "test"));
  client.expires = real_now + 366 * 86400;
  CHECK_FALSE(db->add_token(client, server::secret_hash(server::new_token()), "test"));
  client.expires = 0;
  REQUIRE(db->add_token(client, server::secret_hash(server::new_token()), "test"));
  auto clients = db->clients();
  REQUIRE(clients);
  bool seen = false;
  for (const auto& c : *clients) {
    if (c.name != "late") continue;
    seen = true;
    CHECK(c.expires_recorded);
    CHECK(c.expires >= real_now + 90 * 86400 - 5);
    CHECK(c.expires <= real_now + 90 * 86400 + 5);
  }
  CHECK(seen);
  // A token made before tokens expired (no expiry recorded) expires 365 days after its creation.
  {
    store::database raw;
    std::string error;
    REQUIRE(raw.open(dir.db(), error));
    REQUIRE(
        raw.exec("UPDATE tokens SET expires=NULL, created_at='2020-01-01T00:00:00Z' WHERE "
                 "name='late'",
                 error));
  }
  clients = db->clients();
  REQUIRE(clients);
  for (const auto& c : *clients) {
    if (c.name == "late") {
      CHECK_FALSE(c.expires_recorded);
      CHECK(c.expires == 1577836800 + 365 * 86400);
    }
  }
  CHECK_FALSE(verified(dir));  // that edit is outside the tool: its entry no longer matches
}

TEST_CASE("auth: dalil token create --expires DAYS, shown by token list", "[auth]") {
  temp_dir dir;
  std::string db = " --db " + dir.db();
  auto made = run_dalil(dir, "token create robot --role adviser --expires 30" + db, "");
  INFO(made.err);
  REQUIRE(made.status == 0);
  CHECK(made.err.find("expires 20") != std::string::npos);
  // Out of range: a usage error, and no token.
  CHECK(run_dalil(dir, "token create r0 --role adviser --expires 0" + db, "").status != 0);
  CHECK(run_dalil(dir, "token create r1 --role adviser --expires 366" + db, "").status != 0);
  REQUIRE(run_dalil(dir, "token create r2 --role auditor" + db, "").status == 0);
  auto list = run_dalil(dir, "token list" + db, "");
  REQUIRE(list.status == 0);
  const std::int64_t now =
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  auto iso_day = [](std::int64_t t) {
    auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return std::string(buf);
  };
  INFO(list.out);
  // The day 30 (or 90) days ahead, or the next one if the test straddles midnight.
  auto shows = [&](const std::string& name, std::int64_t days) {
    std::string line = list.out.substr(list.out.find(name + "\t"));
    line = line.substr(0, line.find('\n'));
    return line.find("expires " + iso_day(now + days * 86400)) != std::string::npos ||
           line.find("expires " + iso_day(now + days * 86400 + 60)) != std::string::npos;
  };
  CHECK(shows("robot", 30));
  CHECK(shows("r2", 90));
  CHECK(list.out.find("r0\t") == std::string::npos);
  CHECK(list.out.find("r1\t") == std::string::npos);
  CHECK(verified(dir));
}

TEST_CASE("auth: names, roles and offices are checked by the store", "[auth]") {
  temp_dir dir;
  auto db = open_accounts(dir);
  auto hash = server::hash_password(pw_alice);
  REQUIRE(hash);
  auto make = [&](std::string name, std::string role, std::string office) {
    store::account a;
    a.name = std::move(name);
    a.role = std::move(role);
    a.office = std::move(office);
    a.password_hash = *hash;
    return a;
  };
  auto official_without_office = db->add_user(make("olga", "official", ""), "t");
  REQUIRE_FALSE(official_without_office);
  CHECK(official_without_office.error().code == store::errc::refused);
  CHECK_FALSE(db->add_user(make("ad", "admin", "rabat"), "t"));
  CHECK_FALSE(db->add_user(make("x", "superuser", ""), "t"));
  CHECK_FALSE(db->add_user(make("bad name", "auditor", ""), "t"));
  CHECK_FALSE(db->add_user(make("-lead", "auditor", ""), "t"));
  CHECK_FALSE(db->add_user(make(std::string(65, 'a'), "auditor", ""), "t"));
  CHECK_FALSE(db->add_user(make("nour", "official", "rabat casa"), "t"));
  auto first = db->add_user(make("nour", "official", "casa"), "t");
  REQUIRE(first);
  CHECK(first->created_office);
  auto second = db->add_user(make("sami", "official", "casa"), "t");
  REQUIRE(second);
  CHECK_FALSE(second->created_office);
  auto dup = db->add_user(make("nour", "auditor", ""), "t");
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == store::errc::conflict);
  // A machine client cannot take a user's name, nor the other way round.
  store::account client = make("nour", "official", "casa");
  client.machine = true;
  auto clash = db->add_token(client, server::secret_hash(server::new_token()), "t");
  REQUIRE_FALSE(clash);
  CHECK(clash.error().code == store::errc::conflict);
  client.name = "robot";
  REQUIRE(db->add_token(client, server::secret_hash(server::new_token()), "t"));
  CHECK_FALSE(db->add_user(make("robot", "auditor", ""), "t"));
  auto missing = db->disable_user("nobody", "t");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == store::errc::not_found);
  auto office = db->add_office("casa", "t");
  REQUIRE_FALSE(office);
  CHECK(office.error().code == store::errc::conflict);
  CHECK(db->add_office("fes", "t"));
}

TEST_CASE("auth: client addresses are classed, and IPv6 counted by /64", "[auth]") {
  using server::classify_address;
  CHECK(classify_address("127.0.0.1").kind == "loopback");
  CHECK(classify_address("::1").kind == "loopback");
  CHECK(classify_address("[::1]:8080").kind == "loopback");
  CHECK(classify_address("10.0.0.7").kind == "private");
  CHECK(classify_address("172.20.1.1").kind == "private");
  CHECK(classify_address("172.32.1.1").kind == "public");
  CHECK(classify_address("192.168.1.1:443").kind == "private");
  CHECK(classify_address("::ffff:192.168.1.1").key == "192.168.1.1");
  CHECK(classify_address("fd12:3456::1").kind == "private");
  CHECK(classify_address("fe80::1").kind == "link-local");
  CHECK(classify_address("8.8.8.8").kind == "public");
  CHECK(classify_address("2001:db8:1:2:3:4:5:6").key == "2001:db8:1:2::/64");
  CHECK(classify_address("2001:db8:1:2:ffff::").key == classify_address("2001:db8:1:2::9").key);
  CHECK(classify_address("not an address").kind == "unknown");
}

TEST_CASE("auth: dalil user add reads the password from stdin, token create prints it last",
          "[auth]") {
  temp_dir dir;
  std::string db = " --db '" + dir.db() + "'";

  auto added =
      run_dalil(dir, "user add alice --role official --office rabat" + db, "a-long-password-1\n");
  INFO(added.err);
  REQUIRE(added.status == 0);
  CHECK(added.out.find("added user alice") != std::string::npos);
  CHECK(added.err.find("office rabat did not exist and was created") != std::string::npos);
  CHECK(added.out.find("a-long-password-1") == std::string::npos);

  auto short_pw = run_dalil(dir, "user add bob --role adviser" + db, "only-eleven\n");
  CHECK(short_pw.status == 1);
  CHECK(short_pw.err.find("at least 12 characters") != std::string::npos);
  CHECK(short_pw.err.find("only-eleven") == std::string::npos);
  auto no_pw = run_dalil(dir, "user add bob --role adviser" + db, "");
  CHECK(no_pw.status == 1);
  CHECK(no_pw.err.find("no password on standard input") != std::string::npos);
  auto no_office = run_dalil(dir, "user add bob --role official" + db, "a-long-password-2\n");
  CHECK(no_office.status == 1);
  CHECK(no_office.err.find("give --office") != std::string::npos);
  auto bad_role = run_dalil(dir, "user add bob --role root" + db, "a-long-password-2\n");
  CHECK(bad_role.status != 0);
  // Windows line ends from a pasted file: the carriage return is not part of the password.
  REQUIRE(run_dalil(dir, "user add carla --role auditor --lang ar" + db, "a-long-password-3\r\n")
              .status == 0);

  auto token = run_dalil(dir, "token create case-system --role official --office rabat" + db, "");
  INFO(token.err);
  REQUIRE(token.status == 0);
  REQUIRE_FALSE(token.out.empty());
  REQUIRE(token.out.back() == '\n');
  std::string last = token.out.substr(0, token.out.size() - 1);
  last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
  CHECK(server::token_form(last));
  auto dup = run_dalil(dir, "token create case-system --role official --office rabat" + db, "");
  CHECK(dup.status == 1);
  CHECK(dup.out.find("dalil_") == std::string::npos);  // a refusal prints no token
  auto admin_token = run_dalil(dir, "token create ops --role admin" + db, "");
  CHECK(admin_token.status == 1);

  {
    test_clock clock;
    auto auth = open_auth(dir, clock);
    auto p = auth->from_bearer(last);
    REQUIRE(p);
    CHECK(p->name == "case-system");
    auto s = auth->login("alice", "a-long-password-1", "127.0.0.1");
    REQUIRE(s);
    auto carla = auth->login("carla", "a-long-password-3", "127.0.0.1");
    REQUIRE(carla);
    CHECK(carla->who.lang == "ar");
    CHECK(carla->who.r == server::role::auditor);

    auto disabled = run_dalil(dir, "user disable alice" + db, "");
    REQUIRE(disabled.status == 0);
    CHECK(disabled.out.find("1 session(s) ended") != std::string::npos);
    CHECK_FALSE(auth->from_cookie(s->cookie_value));
    REQUIRE(run_dalil(dir, "token revoke case-system" + db, "").status == 0);
    CHECK_FALSE(auth->from_bearer(last));
    CHECK(run_dalil(dir, "token revoke case-system" + db, "").status == 1);
  }
  auto list = run_dalil(dir, "user list" + db, "");
  CHECK(list.out.find("alice\tofficial\trabat\tfr\tdisabled") != std::string::npos);
  CHECK(list.out.find("$argon2id") == std::string::npos);

  // Every admin action is an audit entry by the OS user, marked unauthenticated, without a
  // secret; and the chain verifies.
  CHECK(count(dir, "action='user_add' AND actor LIKE 'cli:%@% (unauthenticated)'") == 2);
  CHECK(count(dir, "action='office_add' AND subject='office rabat'") == 1);
  CHECK(count(dir, "action='token_create' AND subject='client case-system'") == 1);
  CHECK(count(dir, "action='user_disable' AND details LIKE '{\"sessions_ended\":1,\"at\":%'") == 1);
  CHECK(count(dir, "action='token_revoke'") == 1);
  CHECK(count(dir, "details LIKE '%a-long-password%' OR details LIKE '%" + last + "%'") == 0);
  std::string bytes = file_bytes(dir.db()) + file_bytes(dir.db() + "-wal");
  CHECK(bytes.find("a-long-password") == std::string::npos);
  CHECK(bytes.find(last) == std::string::npos);
  auto verify = run_dalil(dir, "audit verify" + db, "");
  INFO(verify.out << verify.err);
  CHECK(verify.status == 0);

  // A backdoor: a user inserted with sqlite3, behind the tool's back. `dalil audit verify` (on a
  // read-only copy, as an auditor runs it) names it.
  fs::path copy = dir.path / "copy.db";
  {
    store::database raw;
    std::string error;
    REQUIRE(raw.open(dir.db(), error));
    REQUIRE(raw.exec("VACUUM INTO '" + copy.string() + "'", error));
  }
  {
    store::database raw;
    std::string error;
    REQUIRE(raw.open(copy.string(), error));
    REQUIRE(
        raw.exec("INSERT INTO users(name, role, lang, password_hash, created_at) SELECT "
                 "'mallory', 'auditor', 'fr', password_hash, created_at FROM users WHERE "
                 "name='carla'",
                 error));
  }
  fs::permissions(copy, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  auto tampered = run_dalil(dir, "audit verify --db '" + copy.string() + "'", "");
  INFO(tampered.out << tampered.err);
  CHECK(tampered.status == 1);
  CHECK((tampered.out + tampered.err).find("user mallory has no audit entry") != std::string::npos);
}

TEST_CASE("auth: identity rows changed behind the tool's back are found by verify", "[auth]") {
  temp_dir dir;
  test_clock clock;
  std::string token = server::new_token();
  {
    auto db = open_accounts(dir);
    REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
    REQUIRE(db->add_user(user("bob", "auditor", "", pw_bob), "test"));
    REQUIRE(db->disable_user("bob", "test"));
    store::account client;
    client.name = "robot";
    client.role = "adviser";
    REQUIRE(db->add_token(client, server::secret_hash(server::new_token()), "test"));
    REQUIRE(db->revoke_token("robot", "test"));
    REQUIRE(db->add_token(client, server::secret_hash(token), "test"));
    auto auth = open_auth(dir, clock);
    auto s = auth->login("alice", pw_alice, "127.0.0.1");
    REQUIRE(s);
    auto t = auth->login("alice", pw_alice, "127.0.0.1");
    REQUIRE(t);
    REQUIRE(auth->logout(t->who));
    REQUIRE(auth->set_lang(s->who, "en"));
    REQUIRE(db->set_password("alice", *server::hash_password("a brand new password"), "test"));
    REQUIRE(auth->login("alice", "a brand new password", "127.0.0.1"));  // one session stays
    REQUIRE(db->verify());
  }
  // Each change on a copy of the store (every connection is closed: the file is whole).
  REQUIRE_FALSE(fs::exists(dir.db() + "-wal"));
  auto tamper = [&](const std::string& sql) {
    fs::path copy = dir.path / "tampered.db";
    fs::remove(copy);
    fs::copy_file(dir.db(), copy);
    {
      store::database raw;
      std::string error;
      REQUIRE(raw.open(copy.string(), error));
      bool changed = raw.exec(sql, error);
      INFO(sql << ": " << error);
      REQUIRE(changed);
    }
    auto db = store::open_sqlite_accounts(copy.string());
    REQUIRE(db);
    return (*db)->verify();
  };
  auto damaged = [](const store::status& s, const std::string& says) {
    INFO("expected: " << says);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == store::errc::damaged);
    INFO(s.error().message);
    CHECK(s.error().message.find(says) != std::string::npos);
  };
  auto mallory_hash = *server::hash_password("mallory's own password");
  damaged(tamper("INSERT INTO users(name, role, lang, password_hash, created_at) VALUES("
                 "'mallory', 'auditor', 'fr', '" +
                 mallory_hash + "', 'x')"),
          "user mallory has no audit entry");
  damaged(tamper("UPDATE users SET password_hash='" + mallory_hash + "' WHERE name='alice'"),
          "user alice (its role, office, password hash or creation time) does not match");
  damaged(tamper("UPDATE users SET role='auditor', office=NULL WHERE name='alice'"), "user alice");
  damaged(tamper("UPDATE users SET disabled=0 WHERE name='bob'"), "user bob is enabled");
  damaged(tamper("DELETE FROM tokens WHERE token_id=2; UPDATE tokens SET revoked_at=NULL WHERE "
                 "token_id=1"),
          "token 1 of client robot is active");
  damaged(tamper("UPDATE tokens SET revoked_at='x' WHERE token_id=2"),
          "token 2 of client robot is revoked");
  damaged(tamper("UPDATE tokens SET role='official', office='rabat' WHERE token_id=2"),
          "token 2 of client robot does not match");
  // A token's expiry extended (or removed) behind the tool's back.
  damaged(tamper("UPDATE tokens SET expires=expires+86400 WHERE token_id=2"),
          "token 2 of client robot does not match");
  damaged(tamper("UPDATE tokens SET expires=NULL WHERE token_id=2"),
          "token 2 of client robot does not match");
  damaged(tamper("INSERT INTO tokens(name, role, token_hash, created_at) VALUES('robot2', "
                 "'auditor', randomblob(32), 'x')"),
          "client robot2 has no audit entry");
  damaged(tamper("INSERT INTO offices VALUES('shadow', 'x')"), "office shadow");
  damaged(tamper("INSERT INTO offices VALUES('shadow', 'x'); INSERT INTO offices VALUES('umbra', "
                 "'x')"),
          "(and 1 more identity rows)");
  damaged(tamper("INSERT INTO sessions SELECT randomblob(32), user_id, 1, 1 FROM users WHERE "
                 "name='alice'"),
          "a session of user alice");
  // Every column the tool writes is vouched for, times and language included.
  damaged(tamper("UPDATE users SET lang='ar' WHERE name='alice'"),
          "user alice has a language its audit entries never gave it");
  damaged(tamper("UPDATE users SET created_at='2020-01-01T00:00:00Z' WHERE name='alice'"),
          "user alice (its role, office, password hash or creation time) does not match");
  damaged(tamper("UPDATE users SET disabled_at='2020-01-01T00:00:00Z' WHERE name='bob'"),
          "user bob is disabled since 2020-01-01T00:00:00Z but");
  damaged(tamper("UPDATE tokens SET revoked_at='2020-01-01T00:00:00Z' WHERE token_id=1"),
          "token 1 of client robot is revoked but");
  damaged(tamper("UPDATE tokens SET created_at='2020-01-01T00:00:00Z' WHERE token_id=2"),
          "token 2 of client robot does not match");
  damaged(tamper("UPDATE offices SET created_at='2020-01-01T00:00:00Z'"),
          "office rabat does not match");
  REQUIRE(query(dir, "SELECT count(*) FROM sessions") == 1);
  damaged(tamper("UPDATE sessions SET created=created-3600"), "does not match its login entry");
  damaged(tamper("PRAGMA foreign_keys=OFF; DELETE FROM users WHERE name='bob'"),
          "user bob (audit entry 3) was deleted");
  damaged(tamper("DELETE FROM tokens WHERE token_id=2"), "a token of client robot (audit entry");
  damaged(tamper("PRAGMA foreign_keys=OFF; DELETE FROM offices"), "office rabat (audit entry 1)");
  damaged(tamper("PRAGMA foreign_keys=OFF; UPDATE users SET user_id=77 WHERE name='bob'"),
          "user bob (its role, office");
  damaged(tamper("UPDATE tokens SET token_id=9 WHERE token_id=2"),
          "token 9 of client robot does not match");
  // Only the last use slides, as it should.
  CHECK(tamper("UPDATE sessions SET last_seen=last_seen+60"));
}

TEST_CASE("auth: at a terminal the password is asked twice and never echoed", "[auth]") {
  temp_dir dir;
  int status = -1;
  std::string screen = run_on_terminal(
      {"user", "add", "tarik", "--role", "adviser", "--db", dir.db()},
      {{"Password for tarik", "typed at the keyboard"}, {"again", "typed at the keyboard"}},
      status);
  INFO(screen);
  CHECK(status == 0);
  CHECK(screen.find("added user tarik") != std::string::npos);
  CHECK(screen.find("typed at the keyboard") == std::string::npos);
  test_clock clock;
  CHECK(open_auth(dir, clock)->login("tarik", "typed at the keyboard", "127.0.0.1"));

  screen = run_on_terminal(
      {"user", "add", "yasmine", "--role", "auditor", "--db", dir.db()},
      {{"Password for yasmine", "first attempt here"}, {"again", "second attempt, different"}},
      status);
  CHECK(status == 1);
  CHECK(screen.find("the two passwords differ") != std::string::npos);
  CHECK(screen.find("attempt") == std::string::npos);
  CHECK(count(dir, "action='user_add'") == 1);

  // Ctrl-C at the prompt: the process dies of SIGINT and the terminal echoes again.
  bool echo = false;
  screen = run_on_terminal({"user", "add", "zaid", "--role", "auditor", "--db", dir.db()},
                           {{"Password for zaid", "\x03"}}, status, &echo);
  CHECK(status == 128 + SIGINT);
  CHECK(echo);
  CHECK(count(dir, "action='user_add'") == 1);
}

namespace {

/// Counts the store calls the authenticator makes (passing each through).
class counting_accounts final : public store::accounts {
 public:
  explicit counting_accounts(std::unique_ptr<store::accounts> inner) : in_(std::move(inner)) {}
  std::atomic<int> token_lookups{0};
  std::atomic<int> token_loads{0};
  std::atomic<int> generations{0};
  std::atomic<int> session_reads{0};
  std::atomic<int> touches{0};

  store::result<bool> add_office(const std::string& n, const std::string& a) override {
    return in_->add_office(n, a);
  }
  store::result<added> add_user(const store::account& u, const std::string& a) override {
    return in_->add_user(u, a);
  }
  store::result<std::int64_t> disable_user(const std::string& n, const std::string& a) override {
    return in_->disable_user(n, a);
  }
  store::status enable_user(const std::string& n, const std::string& a) override {
    return in_->enable_user(n, a);
  }
  store::result<std::int64_t> set_password(const std::string& n, const std::string& h,
                                           const std::string& a) override {
    return in_->set_password(n, h, a);
  }
  store::result<added> add_token(const store::account& c, const engine::digest& h,
                                 const std::string& a) override {
    return in_->add_token(c, h, a);
  }
  store::status revoke_token(const std::string& n, const std::string& a) override {
    return in_->revoke_token(n, a);
  }
  store::result<std::vector<store::account>> users() override { return in_->users(); }
  store::result<std::vector<store::account>> clients() override { return in_->clients(); }
  store::result<std::vector<std::string>> offices() override { return in_->offices(); }
  store::result<store::account> user(const std::string& n) override { return in_->user(n); }
  store::result<store::account> token(const engine::digest& h) override {
    ++token_lookups;
    return in_->token(h);
  }
  store::result<std::vector<std::pair<engine::digest, store::account>>> tokens() override {
    ++token_loads;
    return in_->tokens();
  }
  store::result<std::int64_t> generation() override {
    ++generations;
    return in_->generation();
  }
  std::atomic<bool> clock_down{false};          // now() fails, as when the database is unreachable
  std::atomic<std::int64_t> store_ahead_ms{0};  // the store's clock minus the caller's
  std::atomic<int> purges{0};
  std::atomic<int> reservations{0};
  std::atomic<int> clock_reads{0};
  std::atomic<int> clock_reads_by_requests{0};  // on request_thread
  std::atomic<std::thread::id> request_thread;
  /// Runs inside now() (a slow answer); the authenticator's thread may call now() meanwhile.
  void set_during_now(std::function<void()> f) {
    std::lock_guard lock(during_now_mutex_);
    during_now_ = std::move(f);
  }
  store::result<std::int64_t> now_ms(std::int64_t local_ms) override {
    ++clock_reads;
    if (std::this_thread::get_id() == request_thread.load()) ++clock_reads_by_requests;
    {
      std::lock_guard lock(during_now_mutex_);
      if (during_now_) during_now_();
    }
    if (clock_down) return store::fail(store::errc::failed, "the database is unreachable");
    auto t = in_->now_ms(local_ms);
    if (t) *t += store_ahead_ms;
    return t;
  }
  store::result<store::attempt_slot> reserve_attempt(const engine::digest& k, const std::string& a,
                                                     std::int64_t now, std::int64_t m,
                                                     std::int64_t w) override {
    ++reservations;
    return in_->reserve_attempt(k, a, now, m, w);
  }
  store::result<bool> login_throttled(const engine::digest& k, bool ko, const std::string& a,
                                      bool ao, std::int64_t start, std::int64_t w,
                                      const std::string& s) override {
    return in_->login_throttled(k, ko, a, ao, start, w, s);
  }
  store::status login_failed(const std::string& s, const std::string& d) override {
    return in_->login_failed(s, d);
  }
  store::result<store::device_trust> device(const engine::digest& d, const engine::digest& k,
                                            std::int64_t since) override {
    return in_->device(d, k, since);
  }
  store::result<bool> trust_device(const engine::digest& d, const engine::digest& k,
                                   const engine::digest& s, std::int64_t at, std::int64_t since,
                                   std::int64_t keep) override {
    return in_->trust_device(d, k, s, at, since, keep);
  }
  store::status login_succeeded(std::int64_t id, const engine::digest& k, const std::string& a,
                                const store::session_row& s, const std::string& d) override {
    return in_->login_succeeded(id, k, a, s, d);
  }
  store::result<store::session_row> session(const engine::digest& h) override {
    ++session_reads;
    return in_->session(h);
  }
  store::status touch_session(const engine::digest& h, std::int64_t t) override {
    ++touches;
    return in_->touch_session(h, t);
  }
  store::status end_session(const engine::digest& h, const std::string& u,
                            const std::string& d) override {
    return in_->end_session(h, u, d);
  }
  store::status expire_session(const engine::digest& h) override { return in_->expire_session(h); }
  store::result<std::int64_t> purge_sessions(std::int64_t n, std::int64_t i,
                                             std::int64_t a) override {
    ++purges;
    return in_->purge_sessions(n, i, a);
  }
  store::status set_lang(const std::string& u, const std::string& l) override {
    return in_->set_lang(u, l);
  }
  store::status verify() override { return in_->verify(); }

 private:
  std::unique_ptr<store::accounts> in_;
  std::mutex during_now_mutex_;
  std::function<void()> during_now_;
};

}  // namespace

TEST_CASE("auth: bearer tokens and sessions are answered from memory, the store written rarely",
          "[auth]") {
  temp_dir dir;
  test_clock clock;
  std::string token = server::new_token();
  {
    auto db = open_accounts(dir);
    REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
    store::account client;
    client.name = "case-system";
    client.role = "official";
    client.office = "rabat";
    REQUIRE(db->add_token(client, server::secret_hash(token), "test"));
  }
  auto counting = std::make_unique<counting_accounts>(open_accounts(dir));
  auto& calls = *counting;
  server::auth_options o;
  o.clock = clock.fn();
  o.revocation_check = std::chrono::milliseconds(1000);
  server::authenticator auth(std::move(counting), o);

  // 20,000 requests over 10 s from 4 threads: the tokens are loaded once per generation, the
  // generation read about once a second, and the store never asked for the token itself.
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        if (auth.from_bearer(token)) ++ok;
      }
    });
  }
  for (int s = 0; s < 10; ++s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    clock.advance(1);
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 20000);
  CHECK(calls.token_lookups == 0);
  CHECK(calls.token_loads == 1);
  CHECK(calls.generations <= 11);

  // A session used every second for 10 minutes is written about once a minute (idle 30 min).
  auto s = auth.login("alice", pw_alice, "127.0.0.1");
  REQUIRE(s);
  int reads_before = calls.session_reads;
  for (int i = 0; i < 600; ++i) {
    clock.advance(1);
    REQUIRE(auth.from_cookie(s->cookie_value));
  }
  CHECK(calls.touches >= 9);
  CHECK(calls.touches <= 11);
  CHECK(calls.session_reads == reads_before);  // answered from the cache throughout
}

TEST_CASE("auth: until the store's clock is read, nothing is counted, expired or purged by a guess",
          "[auth]") {
  temp_dir dir;
  test_clock clock;
  {
    auto db = open_accounts(dir);
    REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
  }
  auto counting = std::make_unique<counting_accounts>(open_accounts(dir));
  auto& calls = *counting;
  calls.clock_down = true;
  server::auth_options o;
  o.clock = clock.fn();
  server::authenticator auth(std::move(counting), o);

  // The database unreachable at start: a login fails as unavailable (not as a wrong password,
  // nor as throttled), reserves no attempt and purges nothing; asked again, not after a minute.
  auto down = auth.login("alice", pw_alice, "10.0.0.1");
  REQUIRE_FALSE(down);
  CHECK(down.error().code == store::errc::failed);
  CHECK(down.error().message.find("clock") != std::string::npos);
  CHECK(calls.reservations == 0);
  CHECK(calls.purges == 0);

  // An answer that took longer than a second (a lock waited on) is not taken either.
  calls.clock_down = false;
  calls.set_during_now([&clock] { clock.advance(5); });
  auto slow = auth.login("alice", pw_alice, "10.0.0.1");
  REQUIRE_FALSE(slow);
  CHECK(slow.error().code == store::errc::failed);
  CHECK(calls.reservations == 0);

  // A prompt answer: the login goes through, counted and purged by the store's time.
  calls.set_during_now(nullptr);
  auto ok = auth.login("alice", pw_alice, "10.0.0.1");
  REQUIRE(ok);
  CHECK(calls.reservations == 1);
  CHECK(calls.purges == 1);
  CHECK(auth.from_cookie(ok->cookie_value));

  // Known once, a later failure keeps the last offset (and is asked again within seconds).
  calls.clock_down = true;
  clock.advance(61);
  CHECK(auth.from_cookie(ok->cookie_value));
}

TEST_CASE("auth: the store's clock is measured by the authenticator's thread, never by a request",
          "[auth]") {
  temp_dir dir;
  test_clock clock;
  {
    auto db = open_accounts(dir);
    REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
  }
  auto counting = std::make_unique<counting_accounts>(open_accounts(dir));
  auto& calls = *counting;
  calls.request_thread = std::this_thread::get_id();
  server::auth_options o;
  o.clock = clock.fn();
  o.clock_check = std::chrono::milliseconds(5);
  server::authenticator auth(std::move(counting), o);
  const int at_start = calls.clock_reads_by_requests;  // the constructor's first reading
  CHECK(at_start == 1);

  // Minutes pass by this server's clock, each past a reading's due time: the requests answer
  // with the offset the thread keeps, and none of them asks the store for its time.
  auto in = auth.login("alice", pw_alice, "10.0.0.1");
  REQUIRE(in);
  for (int i = 0; i < 5; ++i) {
    clock.advance(61);
    CHECK(auth.from_cookie(in->cookie_value));
  }
  CHECK(calls.clock_reads_by_requests == at_start);
  // Meanwhile the thread measures it (every 5 ms here).
  auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (calls.clock_reads - calls.clock_reads_by_requests < 3) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(calls.clock_reads_by_requests == at_start);
}

TEST_CASE("auth: the store's clock is known to the millisecond, so that servers agree on a second",
          "[auth]") {
  // The store's clock 200 ms ahead of this one, read at .900 of a second of this one: in whole
  // seconds the offset came out a second (1001 - 1000), and this server counted every time a
  // second late by the store's clock, which the others on the store keep.
  temp_dir dir;
  test_clock clock;
  {
    auto db = open_accounts(dir);
    REQUIRE(db->add_user(user("alice", "official", "rabat", pw_alice), "test"));
  }
  clock.set_seconds(1'800'000'000);
  clock.advance_ms(900);
  auto counting = std::make_unique<counting_accounts>(open_accounts(dir));
  counting->store_ahead_ms = 200;
  server::auth_options o;
  o.clock = clock.fn();
  o.session_idle = std::chrono::seconds(2);
  server::authenticator auth(std::move(counting), o);

  // A login at 1,800,000,000.9 here, 1,800,000,001.1 by the store: last used at second ...001.
  auto in = auth.login("alice", pw_alice, "10.0.0.1");
  REQUIRE(in);
  auto seen = query(dir, "SELECT last_seen FROM sessions");
  CHECK(seen == 1'800'000'001);
  // At ...002.7 here (...002.9 by the store) it was last used one second before: still good.
  // A second too many in the offset made it ...003, two seconds: ended.
  clock.advance_ms(1800);
  CHECK(auth.from_cookie(in->cookie_value));
  // At ...004.85 here, ...005.05 by the store: idle since ...002 (the use above), three
  // seconds: ended.
  clock.advance_ms(2150);
  CHECK_FALSE(auth.from_cookie(in->cookie_value));
}
