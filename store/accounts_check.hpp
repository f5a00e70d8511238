// What both stores' identity tables share (store/sqlite_accounts.cpp, store/pg/pg_accounts.cpp):
// the rules a principal must follow, the digest an entry keeps of a row, and the check of the
// rows against the chain's entries, as a function of the rows each store reads: accounts::verify
// runs it, and so does each store's own verify.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sha256.hpp"
#include "store/accounts.hpp"
#include "store/result.hpp"
#include "store/sqlite.hpp"

namespace dalil::store::detail {

/// An audit entry as the check reads it (the chain's own check vouches for its hash).
struct account_entry {
  std::int64_t seq = 0;
  std::string action;
  std::string subject;
  std::string details;
};

/// The actions whose entries vouch for identity rows (what the check reads of the log).
inline constexpr const char* account_actions =
    "'office_add', 'user_add', 'user_password', 'user_disable', 'user_enable', 'token_create', "
    "'token_revoke', 'login', 'logout', 'user_lang'";

/// A row the entries do not vouch for: the entry concerned (0 if none) and the row, by name.
struct account_problem {
  std::int64_t seq = 0;
  std::string what;
};

/// The identity rows as a store reads them for the check, each table in its order.
struct account_rows {
  struct office {
    std::string name;
    std::string created_at;
  };
  struct user {
    account row;  // id, name, role, office ("" for none), lang, password_hash, disabled, created_at
    std::string disabled_at;  // "" for none
  };
  struct token {
    account row;             // as client_row builds it
    std::string token_hash;  // hex
    std::string revoked_at;  // "" for none
  };
  struct session {
    engine::digest id_hash;
    std::string user;
    std::int64_t created = 0;
    std::int64_t last_seen = 0;
  };
  std::vector<office> offices;              // by name
  std::vector<user> users;                  // by user_id
  std::vector<token> tokens;                // by token_id
  std::vector<session> sessions;            // by user name
  std::vector<account_problem> unreadable;  // a table that could not be read, named
};

/// Every office, user, token and session row checked against `entries` (in chain order; entries
/// of other actions are skipped): see accounts::verify.
std::vector<account_problem> check_account_rows(const account_rows& rows,
                                                const std::vector<account_entry>& entries);
/// The same, reading the rows of a SQLite store inside the caller's snapshot.
std::vector<account_problem> check_account_rows(database& db,
                                                const std::vector<account_entry>& entries);

bool is_role(std::string_view r);
bool is_lang(std::string_view l);
/// The digest an audit entry keeps of what grants access (the row's id, name, role, office and
/// secret's hash) and of when the row was made: a row changed behind the tool's back no longer
/// matches it.
std::string account_row_digest(const account& a, std::string_view secret_hash);
/// Unix seconds of an ISO 8601 UTC time as now_utc writes it (YYYY-MM-DDTHH:MM:SSZ); 0 if not.
std::int64_t unix_seconds(const std::string& iso);
/// The office rule shared by users and machine clients: an official works for one office, an
/// admin for none; advisers and auditors may name one. errc::refused, saying why.
status check_principal(const account& a, bool machine);
/// A token's row as both stores return it: `expires` NULL (a token made before tokens expired)
/// is legacy_token_lifetime after its creation.
account client_row(std::int64_t id, std::string name, std::string role, std::string office,
                   std::string created_at, bool expires_recorded, std::int64_t expires);
/// The details of a `login_throttled` entry (no secret: the limits, the address as keyed, the
/// window, and each key's refusals in its previous window).
std::string throttled_details(const std::string& first, const std::string& previous,
                              const std::string& address, std::int64_t window_start,
                              std::int64_t window);

}  // namespace dalil::store::detail
