// Personal data over its life (docs/operations.md): backup and restore of the store.
// Exit codes as the store commands: 0 done; 1 failed or damaged; 2 usage; 3 refused; 4 busy.
#pragma once

#include <string>

namespace dalil::cli {

struct backup_options {
  std::string db;
  std::string out;
};
/// `dalil backup --db FILE --out FILE`: one consistent snapshot, even while a batch runs.
int run_backup(const backup_options& o);

struct restore_options {
  std::string from;
  std::string db;
  bool force = false;  // replace an existing store
};
/// `dalil restore --from FILE --db FILE [--force]`.
int run_restore(const restore_options& o);

}  // namespace dalil::cli
