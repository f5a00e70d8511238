// Backup and restore: thin wrappers over store::backup_sqlite and store::restore_sqlite that
// print what was copied (the schema and the audit head of the copy, to compare with a head kept
// elsewhere); master keys created and checked (store/crypto.hpp). Nothing personal is printed,
// and never a key.
#include "cli/data_commands.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <exception>
#include <iostream>

#include "cli/store_commands.hpp"
#include "dsl/value.hpp"
#include "engine/record.hpp"
#include "store/crypto.hpp"
#include "store/pg/pg.hpp"
#include "store/store.hpp"

namespace dalil::cli {

namespace {

constexpr int exit_usage = 2;

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
    std::cout << shown_db(o.db) << ": encrypted under the master key with check value " << check
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
    std::cout << shown_db(o.db) << ": " << *n
              << " data key(s) re-wrapped under the key with check value "
              << store::crypto::key_check(*next)
              << "; keep the old key until every backup made under it has expired\n";
    return 0;
  });
}

int run_keys_seal(const keys_options& o) {
  return guarded("keys seal", [&] {
    auto db = open_store(o.db, o.key_file);
    if (!db) return report_store_error(db.error());
    auto n = (*db)->seal_in_place(cli_actor());
    if (!n) return report_store_error(n.error());
    if (*n == 0) {
      std::cout << shown_db(o.db)
                << ": every decision set and counter decision keeps in plain only what its "
                   "rules' types allow; nothing changed\n";
    } else {
      std::cout << shown_db(o.db) << ": " << *n
                << " decision set(s) and counter decision(s) sealed in place (audited: "
                   "keys_seal); dalil audit verify checks them\n";
    }
    return 0;
  });
}

int run_keys_reseal(const reseal_options& o) {
  return guarded("keys reseal", [&] {
    auto db = open_store(o.db, o.key_file);
    if (!db) return report_store_error(db.error());
    auto r = (*db)->reseal_keys(cli_actor(), o.per_transaction);
    if (!r) return report_store_error(r.error());
    if (r->applicants == 0) {
      std::cout << shown_db(o.db)
                << ": every data key is of format 2 (AES-256-GCM) already; nothing "
                << "changed";
    } else {
      std::cout << shown_db(o.db) << ": " << r->applicants
                << " applicant(s) moved to a new data key of format 2 (AES-256-GCM) in "
                << r->transactions << " transaction(s): " << r->records << " record version(s) and "
                << r->decision_sets << " decision set(s) (" << r->traces
                << " stored trace(s)) re-encrypted, the old keys destroyed (audited: "
                   "keys_reseal); dalil audit verify checks them";
    }
    if (r->erased != 0) {
      std::cout << "; " << r->erased << " erased applicant(s) left erased";
    }
    std::cout << "\n";
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

namespace {

std::string ranges_json(const std::vector<std::int64_t>& ids) {
  std::string out = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

int retention(const retention_options& o) {
  int modes = (o.due ? 1 : 0) + (o.apply ? 1 : 0) + (o.set.empty() ? 0 : 1);
  if (modes != 1) {
    std::cerr << "error: dalil retention needs one of --due, --apply or --set KIND=DAYS\n";
    return exit_usage;
  }
  if ((o.apply || !o.set.empty()) && o.by.empty()) {
    std::cerr << "error: dalil retention " << (o.apply ? "--apply" : "--set")
              << " needs --by NAME (who decided it: it is audited)\n";
    return exit_usage;
  }
  if (o.format != "text" && o.format != "json") {
    std::cerr << "error: --format " << o.format << ": text or json\n";
    return exit_usage;
  }
  if (!o.kind.empty() && !o.apply) {
    std::cerr << "error: --kind is for --apply\n";
    return exit_usage;
  }
  if (!o.as_of.empty() && !o.due) {
    std::cerr << "error: --as-of is for --due (--apply erases what is due today)\n";
    return exit_usage;
  }
  std::vector<std::pair<std::string, std::int64_t>> sets;
  for (const auto& kv : o.set) {
    auto eq = kv.find('=');
    std::int64_t days = 0;
    const char* end = kv.data() + kv.size();
    if (eq == std::string::npos || std::from_chars(kv.data() + eq + 1, end, days).ptr != end ||
        eq + 1 == kv.size()) {
      std::cerr << "error: --set " << kv << ": KIND=DAYS (records=1825, traces=365)\n";
      return exit_usage;
    }
    sets.emplace_back(kv.substr(0, eq), days);
  }
  std::string as_of = o.as_of.empty() ? dalil::to_string(engine::utc_today()) : o.as_of;
  if (!dalil::parse_date(as_of)) {
    std::cerr << "error: --as-of " << as_of << " is not a date (YYYY-MM-DD)\n";
    return exit_usage;
  }
  auto db = open_store(o.db, o.key_file);
  if (!db) return report_store_error(db.error());
  if (!sets.empty()) {
    for (const auto& [kind, days] : sets) {
      if (auto s = (*db)->set_retention(kind, days, o.by); !s) {
        return report_store_error(s.error());
      }
      std::cout << shown_db(o.db) << ": " << kind << " kept " << days
                << " days (audited: retention_set)\n";
    }
    return 0;
  }
  if (o.apply) {
    auto done = (*db)->apply_retention(o.by, o.kind);
    if (!done) return report_store_error(done.error());
    std::cout << shown_db(o.db) << ": erased " << done->applicants << " applicant(s) ("
              << done->records << " record version(s), their data keys destroyed) and "
              << done->traces
              << " stored trace(s) due today (audited: retention, and an erase entry per "
                 "applicant)\n";
    return 0;
  }
  // --due names applicants (by pseudonym in an encrypted store): an audited read.
  store::retention_due due;
  std::string details = "{\"purpose\":\"retention_due\",\"as_of\":\"" + as_of + "\"}";
  auto read = (*db)->audited_read(cli_actor(), "retention", details, [&]() -> store::status {
    auto d = (*db)->due_for_erasure(as_of);
    if (!d) return d.error();
    due = std::move(*d);
    return {};
  });
  if (!read) return report_store_error(read.error());
  std::string out;
  if (o.format == "json") {
    out = "{\"as_of\":\"" + due.as_of + "\",\"encrypted\":";
    out += (*db)->encrypted() ? "true" : "false";
    out += ",\"periods\":{";
    for (std::size_t i = 0; i < due.periods.size(); ++i) {
      const auto& p = due.periods[i];
      if (i != 0) out += ',';
      engine::append_json_string(out, p.kind);
      out += ":{\"days\":" + std::to_string(p.days) + ",\"set_by\":";
      engine::append_json_string(out, p.set_by);
      out += ",\"set_at\":";
      engine::append_json_string(out, p.set_at);
      out += "}";
    }
    out += "},\"records\":{\"applicants\":" + std::to_string(due.applicants.size()) +
           ",\"versions\":" + std::to_string(due.records) + ",\"ids\":[";
    for (std::size_t i = 0; i < due.applicants.size(); ++i) {
      if (i != 0) out += ',';
      engine::append_json_string(out, due.applicants[i]);
    }
    out += "]},\"traces\":{\"count\":" + std::to_string(due.traces) +
           ",\"runs\":" + ranges_json(due.trace_runs) + "}}\n";
  } else {
    out = "due for erasure on " + due.as_of + " (";
    for (std::size_t i = 0; i < due.periods.size(); ++i) {
      out += (i != 0 ? ", " : "") + due.periods[i].kind + " kept " +
             std::to_string(due.periods[i].days) + " days";
    }
    out += "):\n  records: " + std::to_string(due.applicants.size()) + " applicant(s), " +
           std::to_string(due.records) + " record version(s)\n";
    for (const auto& a : due.applicants) out += "    " + a + "\n";
    out += "  traces: " + std::to_string(due.traces) + " stored trace(s)";
    if (!due.trace_runs.empty()) {
      out += " in run(s)";
      for (auto r : due.trace_runs) out += " " + std::to_string(r);
    }
    out += "\n";
    if (!due.applicants.empty() && !(*db)->encrypted()) {
      out += store::pg::is_conninfo(o.db)
                 ? std::string(
                       "this store is not encrypted: --apply will refuse to erase "
                       "records (a PostgreSQL store is encrypted by migrating an encrypted "
                       "SQLite store, or by dalil keys init on one without records; --apply "
                       "--kind traces erases the traces due)\n")
                 : "this store is not encrypted: --apply will refuse to erase records until it "
                   "is (dalil keys init --db " +
                       o.db + " --key-file FILE)\n";
    }
  }
  std::cout << out;
  return 0;
}

}  // namespace

int run_retention(const retention_options& o) {
  return guarded("retention", [&] { return retention(o); });
}

struct data_commands {
  retention_options retention;
  CLI::App* retention_cmd = nullptr;
};

std::shared_ptr<data_commands> add_data_commands(CLI::App& app) {
  auto c = std::make_shared<data_commands>();
  retention_options& r = c->retention;
  auto* cmd = app.add_subcommand(
      "retention", "Retention periods per kind of data; what is due for erasure; erase it");
  cmd->add_option("--db", r.db, "SQLite file")->required();
  cmd->add_option("--key-file", r.key_file,
                  "Master key file (default: the DALIL_MASTER_KEY variable, if set)");
  cmd->add_flag("--due", r.due, "List what is due for erasure (counts and store ids, no value)");
  cmd->add_flag("--apply", r.apply, "Erase what is due today (audited)");
  cmd->add_option("--set", r.set, "KIND=DAYS: a kind's period (records, traces), audited");
  cmd->add_option("--as-of", r.as_of, "With --due: the date (default today, UTC)");
  cmd->add_option("--format", r.format, "text or json (--due)");
  cmd->add_option("--by", r.by, "Who applies or sets it (--apply, --set)");
  cmd->add_option("--kind", r.kind, "With --apply: only this kind (records, traces)");
  c->retention_cmd = cmd;
  return c;
}

std::optional<int> run_data_commands(const data_commands& commands) {
  if (commands.retention_cmd->parsed()) return run_retention(commands.retention);
  return std::nullopt;
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
