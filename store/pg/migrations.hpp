// The PostgreSQL store's numbered migrations (migrations.cpp); pg_store applies them.
#pragma once

#include <span>

namespace dalil::store::pg::detail {

struct pg_migration {
  const char* name = nullptr;  // what it brings, recorded in schema_migrations
  const char* sql = nullptr;   // one or more statements, run in one transaction
};

/// Migration i + 1 is element i.
std::span<const pg_migration> migrations();

}  // namespace dalil::store::pg::detail
