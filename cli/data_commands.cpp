// Backup and restore: thin wrappers over store::backup_sqlite and store::restore_sqlite that
// print what was copied (the schema and the audit head of the copy, to compare with a head kept
// elsewhere); master keys created and checked (store/crypto.hpp). Nothing personal is printed,
// and never a key.
#include "cli/data_commands.hpp"

#include <unistd.h>

#include <exception>
#include <iostream>

#include "cli/store_commands.hpp"
#include "store/crypto.hpp"
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

int run_keys_init(const keys_options& o) {
  return guarded("keys init", [&] {
    if (o.key_file.empty() && o.db.empty()) {
      std::cerr << "error: dalil keys init needs --key-file FILE (the new key's file), or --db "
                   "STORE to bind a key to\n";
      return 2;
    }
    bool created = false;
    if (!o.key_file.empty() && (o.db.empty() || ::access(o.key_file.c_str(), F_OK) != 0)) {
      if (auto s = store::crypto::create_key_file(o.key_file); !s) {
        return report_store_error(s.error());
      }
      created = true;
    }
    auto key = store::crypto::load_master_key(o.key_file);
    if (!key) return report_store_error(key.error());
    std::string check = store::crypto::key_check(*key);
    if (created) {
      std::cout << "created " << o.key_file << " (mode 0600): key check value " << check
                << "\nkeep a copy of this file somewhere else: without it the encrypted data is "
                   "lost\n";
    }
    if (o.db.empty()) return 0;
    auto db = open_store(o.db, o.key_file);
    if (!db) return report_store_error(db.error());
    if (auto s = (*db)->init_keys(cli_actor()); !s) return report_store_error(s.error());
    std::cout << o.db << ": encrypted under the master key with check value " << check
              << " (its records are sealed from now on)\n";
    return 0;
  });
}

int run_keys_rotate(const rotate_options& o) {
  return guarded("keys rotate", [&] {
    if (::access(o.new_key_file.c_str(), F_OK) != 0) {
      if (auto s = store::crypto::create_key_file(o.new_key_file); !s) {
        return report_store_error(s.error());
      }
      std::cout << "created " << o.new_key_file << " (mode 0600)\n";
    }
    auto next = store::crypto::load_master_key(o.new_key_file);
    if (!next) return report_store_error(next.error());
    auto db = open_store(o.db, o.key_file);
    if (!db) return report_store_error(db.error());
    auto n = (*db)->rotate_key(*next, cli_actor());
    if (!n) return report_store_error(n.error());
    std::cout << o.db << ": " << *n << " data key(s) re-wrapped under the key with check value "
              << store::crypto::key_check(*next)
              << "; keep the old key until every backup made under it has expired\n";
    return 0;
  });
}

int run_erase(const erase_options& o) {
  return guarded("erase", [&] {
    auto db = open_store(o.db, o.key_file);
    if (!db) return report_store_error(db.error());
    auto n = (*db)->erase_applicant(o.applicant, o.reason, o.by);
    if (!n) return report_store_error(n.error());
    std::cout << "erased: the applicant's data key is destroyed; " << *n
              << " record(s) can no longer be read, with any key; their decisions stay "
                 "counted in stats\n";
    return 0;
  });
}

int run_keys_check(const keys_options& o) {
  return guarded("keys check", [&] {
    auto key = store::crypto::load_master_key(o.key_file);
    if (!key) return report_store_error(key.error());
    std::cout << "master key from "
              << (o.key_file.empty() ? std::string(store::crypto::master_key_variable) : o.key_file)
              << ": key check value " << store::crypto::key_check(*key) << "\n";
    return 0;
  });
}

}  // namespace dalil::cli
