// `dalil user`, `dalil token`, `dalil office`: thin wrappers over store::accounts and the secrets
// of server/auth. Passwords come from standard input (without echo on a terminal); a token is
// printed once, alone on standard output, and only its SHA-256 is stored.
#include "cli/account_commands.hpp"

#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <csignal>
#include <ctime>
#include <iostream>
#include <string>

#include "cli/store_commands.hpp"
#include "server/auth/auth.hpp"
#include "server/auth/credentials.hpp"
#include "store/accounts.hpp"
#include "store/pg/open.hpp"

namespace dalil::cli {

struct account_commands {
  std::string db;
  std::string name;
  std::string role;
  std::string office;
  std::string lang = "fr";
  std::int64_t expires_days = store::default_token_days;
  std::int64_t expires_seconds = 0;  // tests only: overrides expires_days
  CLI::App* user_add = nullptr;
  CLI::App* user_disable = nullptr;
  CLI::App* user_enable = nullptr;
  CLI::App* user_passwd = nullptr;
  CLI::App* user_list = nullptr;
  CLI::App* token_create = nullptr;
  CLI::App* token_revoke = nullptr;
  CLI::App* token_list = nullptr;
  CLI::App* office_add = nullptr;
  CLI::App* office_list = nullptr;
};

namespace {

const char* const name_help = "1 to 64 of A-Z a-z 0-9 . _ - @";

CLI::App* with_db(CLI::App* cmd, account_commands& c) {
  cmd->add_option("--db", c.db, "SQLite file or PostgreSQL connection string")->required();
  return cmd;
}

/// Zeroes a password when it leaves scope.
struct secret_text {
  std::string text;
  secret_text() = default;
  secret_text(const secret_text&) = delete;
  secret_text& operator=(const secret_text&) = delete;
  ~secret_text() {
    if (!text.empty()) server::wipe(text);
  }
};

/// The terminal's settings while echo is off, for the signal handler below.
termios echo_saved{};
volatile std::sig_atomic_t echo_off = 0;

/// Ctrl-C (or a hang-up, a kill) while the password is typed: the terminal gets its echo back
/// before the process dies of the signal, or the administrator's shell would stay blind.
extern "C" void restore_echo_and_die(int sig) {
  if (echo_off != 0) tcsetattr(STDIN_FILENO, TCSANOW, &echo_saved);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

/// Turns terminal echo off for its lifetime.
class no_echo {
 public:
  no_echo() {
    if (tcgetattr(STDIN_FILENO, &echo_saved) != 0) return;
    for (int sig : signals) {
      struct sigaction action {};
      action.sa_handler = restore_echo_and_die;
      sigemptyset(&action.sa_mask);
      sigaction(sig, &action, &previous_[index(sig)]);
    }
    termios quiet = echo_saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    // TCSANOW: what was typed ahead stays (TCSAFLUSH would drop it, and a password typed
    // before the prompt would then be read as the next line).
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
    echo_off = active_ ? 1 : 0;
  }
  ~no_echo() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &echo_saved);
    echo_off = 0;
    for (int sig : signals) sigaction(sig, &previous_[index(sig)], nullptr);
  }
  no_echo(const no_echo&) = delete;
  no_echo& operator=(const no_echo&) = delete;

 private:
  static constexpr std::array<int, 4> signals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  static std::size_t index(int sig) {
    for (std::size_t i = 0; i < signals.size(); ++i) {
      if (signals[i] == sig) return i;
    }
    return 0;
  }
  std::array<struct sigaction, 4> previous_{};
  bool active_ = false;
};

bool read_line(std::string& line) {
  if (!std::getline(std::cin, line)) return false;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

/// One line of standard input; on a terminal, asked twice without echo. Empty on failure (the
/// reason printed).
bool read_password(const std::string& user, secret_text& out) {
  if (isatty(STDIN_FILENO) == 0) {
    if (!read_line(out.text)) {
      std::cerr << "error: no password on standard input (give it as one line)\n";
      return false;
    }
    return true;
  }
  secret_text again;
  {
    no_echo quiet;
    std::cerr << "Password for " << user << " (at least " << server::min_password_chars
              << " characters): " << std::flush;
    bool ok = read_line(out.text);
    std::cerr << "\nThe same password again: " << std::flush;
    ok = ok && read_line(again.text);
    std::cerr << "\n";
    if (!ok) {
      std::cerr << "error: no password read\n";
      return false;
    }
  }
  if (!server::constant_time_equal(out.text, again.text) || out.text.empty()) {
    std::cerr << "error: the two passwords differ; nothing was changed\n";
    return false;
  }
  return true;
}

std::unique_ptr<store::accounts> open(const std::string& path) {
  auto a = store::open_accounts(path);
  if (!a) {
    std::cerr << "error: " << a.error().message << "\n";
    return nullptr;
  }
  return std::move(*a);
}

int report(const store::error& e) {
  std::cerr << "error: " << e.message << "\n";
  return 1;
}

void note_office(const store::accounts::added& a, const std::string& office) {
  if (a.created_office) {
    std::cerr << "note: office " << office
              << " did not exist and was created (dalil office list shows them all)\n";
  }
}

std::string office_text(const std::string& office) {
  return office.empty() ? std::string("no office") : "office " + office;
}

int user_add(const account_commands& c) {
  // Check the names before asking for a password, so that a typo costs nothing.
  store::account user;
  user.name = c.name;
  user.role = c.role;
  user.office = c.office;
  user.lang = c.lang;
  if (!store::valid_account_name(c.name)) {
    std::cerr << "error: the user name must be " << name_help
              << ", starting with a letter or digit\n";
    return 1;
  }
  if (c.role == "official" && c.office.empty()) {
    std::cerr << "error: user " << c.name << ": an official belongs to an office: give --office\n";
    return 1;
  }
  auto db = open(c.db);
  if (!db) return 1;
  secret_text password;
  if (!read_password(c.name, password)) return 1;
  if (auto problem = server::password_problem(password.text); !problem.empty()) {
    std::cerr << "error: user " << c.name << ": " << problem << "; nothing was stored\n";
    return 1;
  }
  auto hash = server::hash_password(password.text);
  if (!hash) return report(hash.error());
  user.password_hash = *hash;
  auto added = db->add_user(user, cli_actor());
  if (!added) return report(added.error());
  note_office(*added, c.office);
  std::cout << "added user " << c.name << " (" << c.role << ", " << office_text(c.office) << ", "
            << c.lang << ")\n";
  return 0;
}

int user_passwd(const account_commands& c) {
  auto db = open(c.db);
  if (!db) return 1;
  if (auto found = db->user(c.name); !found) return report(found.error());
  secret_text password;
  if (!read_password(c.name, password)) return 1;
  auto hash = server::hash_password(password.text);
  if (!hash) {
    std::cerr << "error: user " << c.name << ": " << hash.error().message
              << "; nothing was changed\n";
    return 1;
  }
  auto ended = db->set_password(c.name, *hash, cli_actor());
  if (!ended) return report(ended.error());
  std::cout << "changed the password of " << c.name << "; " << *ended << " session(s) ended\n";
  return 0;
}

int user_list(const account_commands& c) {
  auto db = open(c.db);
  if (!db) return 1;
  auto users = db->users();
  if (!users) return report(users.error());
  for (const auto& u : *users) {
    std::cout << u.name << '\t' << u.role << '\t' << (u.office.empty() ? "-" : u.office) << '\t'
              << u.lang << '\t' << (u.disabled ? "disabled" : "active") << '\t' << u.created_at
              << '\n';
  }
  return 0;
}

int token_create(const account_commands& c) {
  if (!server::sodium_ready()) {
    std::cerr << "error: libsodium cannot start (no entropy source?)\n";
    return 1;
  }
  auto db = open(c.db);
  if (!db) return 1;
  store::account client;
  client.name = c.name;
  client.role = c.role;
  client.office = c.office;
  client.machine = true;
  client.expires = static_cast<std::int64_t>(std::time(nullptr)) +
                   (c.expires_seconds > 0 ? c.expires_seconds : c.expires_days * 24 * 60 * 60);
  std::string token = server::new_token();
  auto added = db->add_token(client, server::secret_hash(token), cli_actor());
  if (!added) {
    server::wipe(token);
    return report(added.error());
  }
  note_office(*added, c.office);
  std::cerr << "created a token for client " << c.name << " (" << c.role << ", "
            << office_text(c.office) << ", expires " << store::utc_text(client.expires)
            << "); it is shown once, below, and only its SHA-256 is stored: keep it secret\n";
  std::cout << token << std::endl;
  server::wipe(token);
  return 0;
}

int token_list(const account_commands& c) {
  auto db = open(c.db);
  if (!db) return 1;
  auto clients = db->clients();
  if (!clients) return report(clients.error());
  for (const auto& t : *clients) {
    // The expiry is enforced on every request; past it the client gets 401 token-expired.
    std::cout << t.name << '\t' << t.role << '\t' << (t.office.empty() ? "-" : t.office) << '\t'
              << t.created_at << "\texpires " << store::utc_text(t.expires)
              << (t.expires <= std::time(nullptr) ? " (expired)" : "") << '\n';
  }
  return 0;
}

}  // namespace

std::shared_ptr<account_commands> add_account_commands(CLI::App& app) {
  auto c = std::make_shared<account_commands>();
  const auto roles = CLI::IsMember({"official", "adviser", "auditor", "admin"});

  auto* user = app.add_subcommand("user", "Users of the server (admin, from the CLI only)");
  user->require_subcommand(1);
  c->user_add = with_db(
      user->add_subcommand("add", "Add a user; the password (12+ characters) is read from stdin"),
      *c);
  c->user_add->add_option("name", c->name, "User name")->required();
  c->user_add->add_option("--role", c->role, "official, adviser, auditor or admin")
      ->required()
      ->check(roles);
  c->user_add->add_option("--office", c->office,
                          "The user's office (required for an official; created on first use)");
  c->user_add->add_option("--lang", c->lang, "fr, ar or en (default fr)")
      ->check(CLI::IsMember({"fr", "ar", "en"}));
  c->user_disable =
      with_db(user->add_subcommand("disable", "Disable a user and end its sessions"), *c);
  c->user_disable->add_option("name", c->name, "User name")->required();
  c->user_enable = with_db(user->add_subcommand("enable", "Enable a disabled user again"), *c);
  c->user_enable->add_option("name", c->name, "User name")->required();
  c->user_passwd = with_db(
      user->add_subcommand("passwd", "Set a user's password (from stdin); ends its sessions"), *c);
  c->user_passwd->add_option("name", c->name, "User name")->required();
  c->user_list = with_db(user->add_subcommand("list", "List the users (never a secret)"), *c);

  auto* token = app.add_subcommand("token", "Bearer tokens of machine clients (admin)");
  token->require_subcommand(1);
  c->token_create = with_db(
      token->add_subcommand("create", "Create a client's token; printed once, as the last line"),
      *c);
  c->token_create->add_option("name", c->name, "Machine client name (its own principal)")
      ->required();
  c->token_create->add_option("--role", c->role, "official, adviser or auditor")
      ->required()
      ->check(roles);
  c->token_create->add_option("--office", c->office,
                              "The client's office (required for an official)");
  c->token_create
      ->add_option("--expires", c->expires_days,
                   "Days until the token stops working (default 90, at most 365)")
      ->check(CLI::Range(std::int64_t{1}, store::max_token_days));
  // For tests of the expiry only (a token that expires in seconds); not in the help.
  c->token_create->add_option("--expires-seconds", c->expires_seconds)
      ->check(CLI::Range(std::int64_t{1}, store::max_token_days * 24 * 60 * 60))
      ->group("");
  c->token_revoke = with_db(token->add_subcommand("revoke", "Revoke a client's token at once"), *c);
  c->token_revoke->add_option("name", c->name, "Machine client name")->required();
  c->token_list =
      with_db(token->add_subcommand("list", "List the clients with an active token"), *c);

  auto* office = app.add_subcommand("office", "Offices (prefectures, counters)");
  office->require_subcommand(1);
  c->office_add = with_db(office->add_subcommand("add", "Add an office"), *c);
  c->office_add->add_option("name", c->name, "Office name")->required();
  c->office_list = with_db(office->add_subcommand("list", "List the offices"), *c);
  return c;
}

std::optional<int> run_account_commands(const account_commands& c) {
  if (c.user_add->parsed()) return user_add(c);
  if (c.user_passwd->parsed()) return user_passwd(c);
  if (c.user_list->parsed()) return user_list(c);
  if (c.token_create->parsed()) return token_create(c);
  if (c.token_list->parsed()) return token_list(c);
  if (c.user_disable->parsed()) {
    auto db = open(c.db);
    if (!db) return 1;
    auto ended = db->disable_user(c.name, cli_actor());
    if (!ended) return report(ended.error());
    std::cout << "disabled user " << c.name << "; " << *ended << " session(s) ended\n";
    return 0;
  }
  if (c.user_enable->parsed()) {
    auto db = open(c.db);
    if (!db) return 1;
    if (auto ok = db->enable_user(c.name, cli_actor()); !ok) return report(ok.error());
    std::cout << "enabled user " << c.name << "\n";
    return 0;
  }
  if (c.token_revoke->parsed()) {
    auto db = open(c.db);
    if (!db) return 1;
    if (auto ok = db->revoke_token(c.name, cli_actor()); !ok) return report(ok.error());
    std::cout << "revoked the token of client " << c.name
              << " (a running server refuses it within a second)\n";
    return 0;
  }
  if (c.office_add->parsed()) {
    auto db = open(c.db);
    if (!db) return 1;
    if (auto ok = db->add_office(c.name, cli_actor()); !ok) return report(ok.error());
    std::cout << "added office " << c.name << "\n";
    return 0;
  }
  if (c.office_list->parsed()) {
    auto db = open(c.db);
    if (!db) return 1;
    auto offices = db->offices();
    if (!offices) return report(offices.error());
    for (const auto& o : *offices) std::cout << o << '\n';
    return 0;
  }
  return std::nullopt;
}

}  // namespace dalil::cli
