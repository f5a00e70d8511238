// Opening the accounts and the publications by --db (open.hpp): PostgreSQL for a connection
// string, SQLite otherwise.
#include "store/pg/open.hpp"

#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"

namespace dalil::store {

result<std::unique_ptr<accounts>> open_accounts(const std::string& db) {
  if (pg::is_conninfo(db)) return pg::open_accounts(db);
  return open_sqlite_accounts(db);
}

result<std::unique_ptr<publication_store>> open_publications(const std::string& db) {
  if (pg::is_conninfo(db)) return pg::open_publications(db);
  return open_sqlite_publications(db);
}

}  // namespace dalil::store
