// The PostgreSQL store's numbered migrations (migrations.cpp); pg_store applies them.
#pragma once

#include <span>

namespace dalil::store::pg::detail {

struct pg_migration {
  const char* name = nullptr;  // what it brings, recorded in schema_migrations
  const char* sql = nullptr;   // one or more statements, run in one transaction
  // After the statements, in the same transaction: a counter_figures entry for each month's
  // figures kept (pg_store::migrate), as SQLite's schema 16 writes them.
  bool vouch_kept_months = false;
};

/// Migration i + 1 is element i.
std::span<const pg_migration> migrations();

}  // namespace dalil::store::pg::detail
