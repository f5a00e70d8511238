// The parts of a store that the server and the CLI open by their --db, whichever the database:
// a PostgreSQL connection string (store::pg::is_conninfo) or a SQLite file.
#pragma once

#include <memory>
#include <string>

#include "store/accounts.hpp"
#include "store/publications.hpp"
#include "store/result.hpp"

namespace dalil::store {

/// The identity tables of the store at `db` (creating and migrating its schema, as opening the
/// store does). The connection string is never part of an error.
result<std::unique_ptr<accounts>> open_accounts(const std::string& db);

/// The publications of the store at `db` (a SQLite file must have been opened once by
/// open_sqlite, which migrates it; a PostgreSQL database is migrated here).
result<std::unique_ptr<publication_store>> open_publications(const std::string& db);

}  // namespace dalil::store
