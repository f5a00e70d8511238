// Which store a server's --db names: a SQLite file, or a PostgreSQL database given by a libpq
// connection string (store::pg::is_conninfo; docs/postgresql.md). The server opens its stores
// through here, so that the rest of it does not depend on the backend.
#pragma once

#include <memory>
#include <string>

#include "store/crypto.hpp"
#include "store/result.hpp"
#include "store/store.hpp"

namespace dalil::server {

/// Whether `db` is a PostgreSQL connection string (never printed: it may hold a password).
bool is_postgresql(const std::string& db);

/// Opens the store `db` names (creating and migrating it unless read-only), with the master key
/// of an encrypted store (nullptr: none; a key that is not the store's is refused at open).
store::result<std::unique_ptr<store::store>> open_database(
    const std::string& db, store::open_mode mode = store::open_mode::read_write,
    const store::crypto::master_key* key = nullptr);

}  // namespace dalil::server
