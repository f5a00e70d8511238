// The checks of the identity tables and the publications on PostgreSQL, inside the caller's
// snapshot: what accounts::verify and pg_store::verify_chain run (store/pg/pg_accounts.cpp,
// store/pg/pg_publications.cpp).
#pragma once

#include <vector>

#include "store/accounts_check.hpp"
#include "store/chain.hpp"
#include "store/pg/pg.hpp"
#include "store/result.hpp"

namespace dalil::store::pg::detail {

/// Reads the identity rows and checks them against `entries` (store/accounts_check.hpp).
result<std::vector<dalil::store::detail::account_problem>> check_accounts(
    connection& c, const std::vector<dalil::store::detail::account_entry>& entries);

/// Reads the publications and checks them against the `publish` entries of `entries`.
status check_publications(connection& c,
                          const std::vector<dalil::store::detail::audit_entry>& entries,
                          std::vector<audit_problem>& problems);

}  // namespace dalil::store::pg::detail
