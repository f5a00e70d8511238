// Backup and restore: thin wrappers over store::backup_sqlite and store::restore_sqlite that
// print what was copied (the schema and the audit head of the copy, to compare with a head kept
// elsewhere). Nothing personal is printed.
#include "cli/data_commands.hpp"

#include <exception>
#include <iostream>

#include "cli/store_commands.hpp"
#include "store/store.hpp"

namespace dalil::cli {

namespace {

void print(const char* done, const std::string& file, const store::copy_report& r) {
  std::cout << done << " " << file << ": schema " << r.schema << ", " << r.bytes
            << " bytes, audit head " << r.head.seq << " " << r.head.hash << "\n";
}

template <class F>
int guarded(const char* command, F body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::cerr << "error: dalil " << command << " failed unexpectedly: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int run_backup(const backup_options& o) {
  return guarded("backup", [&] {
    auto r = store::backup_sqlite(o.db, o.out);
    if (!r) return report_store_error(r.error());
    print("backed up to", o.out, *r);
    return 0;
  });
}

int run_restore(const restore_options& o) {
  return guarded("restore", [&] {
    auto r = store::restore_sqlite(o.from, o.db, o.force);
    if (!r) return report_store_error(r.error());
    print("restored", o.db, *r);
    std::cout << "prove it whole: dalil audit verify --db " << o.db
              << " --head SEQ:HASH (a head taken before the backup)\n";
    return 0;
  });
}

}  // namespace dalil::cli
