// Which store a server's --db names (server/databases.hpp).
#include "server/databases.hpp"

#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"

namespace dalil::server {

bool is_postgresql(const std::string& db) {
  return store::pg::is_conninfo(db);
}

store::result<std::unique_ptr<store::store>> open_database(const std::string& db,
                                                           store::open_mode mode,
                                                           const store::crypto::master_key* key) {
  if (is_postgresql(db)) return store::pg::open_store(db, mode, key);
  return store::open_sqlite(db, mode, key);
}

}  // namespace dalil::server
