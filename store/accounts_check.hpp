// The check of the identity tables against the audit log, as a function of a connection and the
// chain's entries: accounts::verify runs it, and so can the store's own verify (a row checker).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/sqlite.hpp"

namespace dalil::store::detail {

/// An audit entry as the check reads it (the chain's own check vouches for its hash).
struct account_entry {
  std::int64_t seq = 0;
  std::string action;
  std::string subject;
  std::string details;
};

/// A row the entries do not vouch for: the entry concerned (0 if none) and the row, by name.
struct account_problem {
  std::int64_t seq = 0;
  std::string what;
};

/// Every office, user, token and session row checked against `entries` (in chain order; entries
/// of other actions are skipped): see accounts::verify. Reads inside the caller's snapshot.
std::vector<account_problem> check_account_rows(database& db,
                                                const std::vector<account_entry>& entries);

}  // namespace dalil::store::detail
