// Store subcommands: thin wrappers that parse options, call one store operation and print.
// No personal field is ever printed in a log line: rows are named by number, records by id.
#include "cli/store_commands.hpp"
#include "cli/csv.hpp"
#include "cli/pack.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/parser.hpp"
#include "engine/decision.hpp"
#include "engine/record.hpp"
#include "engine/session.hpp"
#include "engine/sha256.hpp"
#include "store/batch.hpp"
#include "store/entry_format.hpp"
#include "store/lease.hpp"
#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"
#include "store/store.hpp"

namespace dalil::cli {

std::string cli_actor() {
  std::string user;
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    user = pw->pw_name;
  } else if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') {
    user = u;
  } else {
    user = "uid" + std::to_string(geteuid());
  }
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown-host");
  return "cli:" + user + "@" + host + " (unauthenticated)";
}

int report_store_error(const store::error& e) {
  const char* prefix = e.code == store::errc::damaged   ? "error (damaged store): "
                       : e.code == store::errc::busy    ? "busy: "
                       : e.code == store::errc::refused ? "refused: "
                                                        : "error: ";
  std::cerr << prefix << e.message << "\n";
  switch (e.code) {
    case store::errc::refused:
      return 3;
    case store::errc::busy:
      return 4;
    default:
      return 1;
  }
}

namespace {

constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

int report(const store::error& e) {
  return report_store_error(e);
}

/// The one boundary of the store commands: a bug (an exception) is reported, never a crash.
template <class F>
int guarded(const char* command, F body) {
  try {
    return body();
  } catch (const store::store_exception& e) {
    return report(store::error{e.code, e.what()});
  } catch (const std::exception& e) {
    std::cerr << "error: dalil " << command << " failed unexpectedly: " << e.what() << "\n";
    return exit_failed;
  }
}

/// Rebuilds a ruleset from the canonical source stored under its hash; prints the diagnostics
/// when it no longer checks.
std::shared_ptr<const engine::ruleset> from_stored(const std::string& hash,
                                                   const std::string& source) {
  std::string diagnostics;
  auto rules = store::stored_ruleset(hash, source, diagnostics);
  if (!rules) std::cerr << diagnostics;
  return rules;
}

/// The contract decisions of a run's stored ruleset (names, and whether each was in force on the
/// run's date), cached by ruleset and date. An error when the ruleset cannot be read or checked:
/// never a decision named "?".
store::result<const store::run_decisions*> describe(store::store& db, const store::run_info& run) {
  static std::map<std::string, store::run_decisions> cache;
  std::string key = run.ruleset_hash + "@" + run.as_of;
  auto it = cache.find(key);
  if (it != cache.end()) return &it->second;
  auto as_of = parse_date(run.as_of);
  if (!as_of) {
    return store::fail(store::errc::damaged, "run " + std::to_string(run.run_id) +
                                                 " has no valid date (as_of is not YYYY-MM-DD)");
  }
  auto source = db.ruleset_source(run.ruleset_hash);
  if (!source) {
    return store::fail(
        source.error().code == store::errc::not_found ? store::errc::damaged : source.error().code,
        "run " + std::to_string(run.run_id) + ": " + source.error().message);
  }
  auto rules = from_stored(run.ruleset_hash, *source);
  if (!rules) {
    return store::fail(store::errc::failed, "run " + std::to_string(run.run_id) + ": ruleset " +
                                                run.ruleset_hash.substr(0, 12) +
                                                " no longer checks (diagnostics above)");
  }
  if (rules->hash() != run.ruleset_hash) {
    return store::fail(store::errc::damaged,
                       "run " + std::to_string(run.run_id) +
                           ": the stored ruleset source hashes to " + rules->hash().substr(0, 12) +
                           ", not " + run.ruleset_hash.substr(0, 12) + " (run dalil audit verify)");
  }
  return &(cache[key] = store::describe_run(rules, *as_of));
}

/// Opens the store: read-only when asked, or when the file (or its folder, which holds the
/// WAL files) cannot be written; read-write (creating, upgrading) otherwise. With the master key
/// from `key_file`, or from DALIL_MASTER_KEY when no file is given and it is set. Only an import
/// (`create`) makes a SQLite store that does not exist: for every other command a missing file
/// is a mistyped --db, said so, never an empty store read as "intact" or "no runs".
store::result<std::unique_ptr<store::store>> open(const std::string& path, bool read_only,
                                                  const std::string& key_file,
                                                  bool create = false) {
  std::optional<store::crypto::master_key> key;
  if (!key_file.empty() || std::getenv(store::crypto::master_key_variable) != nullptr) {
    auto k = store::crypto::load_master_key(key_file);
    if (!k) return k.error();
    key = std::move(*k);
  }
  // A PostgreSQL store (only for the commands run_pg_commands lets through): `path` is a
  // connection string, never printed; the master key from the same options as on SQLite.
  if (store::pg::is_conninfo(path)) {
    return store::pg::open_store(
        path, read_only ? store::open_mode::read_only : store::open_mode::read_write,
        key ? &*key : nullptr);
  }
  if (!create && ::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
    return store::fail(store::errc::not_found,
                       path + ": no such store (dalil import creates one; check --db)");
  }
  if (!read_only) {
    // Not writable: by permission, or by intent (no write bit for anyone: even root, which the
    // kernel lets write, is taken to mean "do not write this store").
    auto unwritable = [](const std::string& p) {
      struct stat st {};
      if (::stat(p.c_str(), &st) != 0) return false;
      return (st.st_mode & 0222) == 0 || ::access(p.c_str(), W_OK) != 0;
    };
    std::string dir =
        path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
    bool exists = ::access(path.c_str(), F_OK) == 0;
    read_only = exists && (unwritable(path) || unwritable(dir));
  }
  return store::open_sqlite(path,
                            read_only ? store::open_mode::read_only : store::open_mode::read_write,
                            key ? &*key : nullptr);
}

/// The runs a read shows: --run N, --all, or the current ones.
store::result<std::vector<store::run_info>> chosen_runs(store::store& db, std::int64_t run,
                                                        bool all) {
  if (run != 0) {
    auto r = db.run(run);
    if (!r) return r.error();
    return std::vector<store::run_info>{*r};
  }
  auto runs = db.runs();
  if (!runs) return runs.error();
  return all ? *runs : store::current_runs(*runs);
}

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

std::optional<std::int64_t> parse_id(std::string_view text) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

}  // namespace

int run_import(const import_options& o) {
  return guarded("import", [&] {
    auto pack = load_pack(o.rules);
    if (!pack) return exit_failed;
    auto db = open(o.db, false, o.key_file, true);
    if (!db) return report(db.error());
    store::import_summary s;
    store::import_options how{o.received, o.reason, o.by};
    if (!o.received.empty()) {
      auto d = parse_date(o.received);
      if (!d || *d > engine::utc_today()) {
        std::cerr << "error: --received " << o.received
                  << " is not a date (YYYY-MM-DD) on or before today\n";
        return exit_usage;
      }
    }
    if (!o.by.empty() && o.reason.empty()) {
      std::cerr << "error: --by names who made a correction: give its --reason too\n";
      return exit_usage;
    }
    if (!o.reason.empty() && how.by.empty()) how.by = cli_actor();
    if (auto st = store::import_file(**db, pack->rules->program(), o.file, s, how); !st) {
      std::cerr << "nothing of " << o.file << " was stored\n";
      return report(st.error());
    }
    std::cout << o.file << ": " << s.rows << " rows: " << s.stored << " new applicants, "
              << s.new_versions << " new versions, " << s.unchanged << " unchanged, " << s.rejected
              << " rejected\n";
    for (const auto& r : s.rejections) {
      std::cout << "  row " << r.row << ": "
                << (r.field.empty() ? std::string() : "field '" + r.field + "': ") << r.reason
                << "\n";
    }
    if (s.rejected > static_cast<std::int64_t>(s.rejections.size())) {
      std::cout << "  … " << s.rejected - static_cast<std::int64_t>(s.rejections.size())
                << " more rejections in the store (table rejections)\n";
    }
    if (s.repeated > 0) {
      std::cout << "note: " << s.repeated
                << " rows repeat the id of an earlier row of this file: each is a later version "
                   "of that applicant, and the file's last row of each is the one a batch "
                   "decides\n";
    }
    return s.rows == s.stored + s.new_versions + s.unchanged + s.rejected ? 0 : exit_failed;
  });
}

namespace {

/// I/N with 1 <= I <= N <= store::max_shards.
std::optional<store::shard_spec> parse_shard(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto i = parse_id(std::string_view(text).substr(0, slash));
  auto n = parse_id(std::string_view(text).substr(slash + 1));
  if (!i || !n || *i < 1 || *n < 1 || *i > *n || *n > store::max_shards) return std::nullopt;
  return store::shard_spec{*i, *n};
}

/// One run's shards, as --status prints them: counts, holders and states, no personal value.
int print_progress(store::store& db, const store::run_info& r) {
  auto p = db.progress(r.run_id);
  if (!p) return report(p.error());
  std::cout << "run " << r.run_id << " (ruleset " << r.ruleset_hash.substr(0, 12) << ", as of "
            << r.as_of << ", filter on " << (r.filter.empty() ? "nothing" : "some fields")
            << ", generation " << r.generation << "): " << r.status << ", " << r.shards
            << (r.shards == 1 ? " shard\n" : " shards\n");
  for (const store::shard_progress& s : *p) {
    std::cout << "  shard " << store::detail::shard_text(s.shard) << ": " << s.decided;
    if (s.total >= 0) {
      std::cout << "/" << s.total << " decided, " << std::max<std::int64_t>(0, s.total - s.decided)
                << " to decide";
    } else {
      std::cout << " decided";
    }
    std::string state;
    if (r.status == "complete" || (s.total >= 0 && s.decided >= s.total && !s.live)) {
      state = "done";
    } else if (s.has_holder) {
      state = s.live ? "live" : "expired";
    } else {
      state = s.decided == 0 ? "not started" : "stopped";
    }
    if (s.has_holder) {
      std::cout << "; pid " << s.holder.pid << " on " << s.holder.host << " (" << s.holder.machine
                << "), renewed "
                << store::utc_text(s.holder.expires - store::detail::lease_seconds);
    }
    std::cout << "; " << state << "\n";
  }
  return 0;
}

/// dalil batch --status: the run of the key given, or every unfinished run.
int batch_status(const batch_options& o) {
  if (!store::pg::is_conninfo(o.db)) {
    return report(store::fail(store::errc::refused,
                              "dalil batch --status shows the shards of a run on a PostgreSQL "
                              "store; a SQLite store's batch is one process, and its progress "
                              "is on that process's standard error"));
  }
  auto db = open(o.db, true, o.key_file);
  if (!db) return report(db.error());
  auto all = (*db)->runs();
  if (!all) return report(all.error());
  std::vector<store::run_info> shown;
  if (!o.as_of.empty()) {
    auto as_of = parse_date(o.as_of);
    if (!as_of) {
      std::cerr << "error: --as-of " << o.as_of << " is not a date (YYYY-MM-DD)\n";
      return exit_usage;
    }
    auto pack = load_pack(o.rules);
    if (!pack) return exit_failed;
    std::vector<store::record_filter> filter;
    if (!parse_where(pack->rules->program(), o.where, filter)) return exit_usage;
    const std::string f = store::filter_text(filter);
    const store::run_info* newest = nullptr;
    for (const auto& r : *all) {
      if (r.ruleset_hash == pack->rules->hash() && r.as_of == to_string(*as_of) && r.filter == f &&
          (newest == nullptr || r.generation > newest->generation)) {
        newest = &r;
      }
    }
    if (newest == nullptr) {
      std::cout << "no run of this ruleset, date and filter in the store\n";
      return 0;
    }
    shown.push_back(*newest);
  } else {
    for (const auto& r : *all) {
      if (r.status != "complete") shown.push_back(r);
    }
    if (shown.empty()) std::cout << "no unfinished run in the store\n";
  }
  for (const auto& r : shown) {
    if (int rc = print_progress(**db, r); rc != 0) return rc;
  }
  return 0;
}

int batch(const batch_options& o) {
  if (o.status) return batch_status(o);
  if (o.as_of.empty()) {
    std::cerr << "error: --as-of is required (the date of the decisions, YYYY-MM-DD)\n";
    return exit_usage;
  }
  std::optional<store::shard_spec> shard = store::shard_spec{};
  if (!o.shard.empty()) {
    shard = parse_shard(o.shard);
    if (!shard) {
      std::cerr << "error: --shard " << o.shard
                << " is not I/N with 1 <= I <= N <= " << store::max_shards << " (such as 2/3)\n";
      return exit_usage;
    }
  }
  auto as_of = parse_date(o.as_of);
  if (!as_of) {
    std::cerr << "error: --as-of " << o.as_of << " is not a date (YYYY-MM-DD)\n";
    return exit_usage;
  }
  auto pack = load_pack(o.rules);
  if (!pack) return 1;
  store::batch_options b;
  b.as_of = *as_of;
  b.threads = o.threads;
  b.store_traces = o.store_traces;
  b.progress = !o.quiet;
  b.chunk = std::max<std::size_t>(1, o.chunk);
  b.shard = *shard;
  if (!parse_where(pack->rules->program(), o.where, b.filter)) return exit_usage;
  auto db = open(o.db, false, o.key_file);
  if (!db) return report(db.error());
  store::batch_summary s;
  if (auto st = store::run_batch(**db, pack->rules, pack->canonical, b, s); !st) {
    return report(st.error());
  }
  if (s.already_complete) {
    std::cout << "run " << s.run_id << " (generation " << s.generation
              << ") is complete and decides every latest record: nothing to do; " << s.total
              << " decision sets in the run\n";
    return 0;
  }
  std::cout << "run " << s.run_id << " (generation " << s.generation
            << (s.resumed ? ", resumed" : "")
            << (b.shard.count > 1 ? ", shard " + store::detail::shard_text(b.shard) : "")
            << "): " << s.processed << " records evaluated in " << s.seconds << " s";
  if (s.seconds > 0) {
    std::cout << " (" << static_cast<long>(static_cast<double>(s.processed) / s.seconds)
              << " rec/s)";
  }
  std::cout << "; " << s.total << " decision sets in the run; peak memory " << peak_rss_mib()
            << " MiB\n";
  if (s.unfit > 0) {
    std::cout << "note: " << s.unfit << " of the " << s.processed
              << " records evaluated no longer fit the rule pack's schema: no decision for them "
                 "(dalil stats counts them, dalil export says where and why)\n";
  }
  if (b.shard.count > 1) {
    std::cout << (s.completed
                      ? "shard " + store::detail::shard_text(b.shard) + " finished last: run " +
                            std::to_string(s.run_id) + " is complete\n"
                      : "shard " + store::detail::shard_text(b.shard) + " is done; run " +
                            std::to_string(s.run_id) +
                            " is complete once every shard has finished (dalil batch "
                            "--status)\n");
  }
  return 0;
}

int replay(const replay_options& o) {
  auto colon = o.decision.find(':');
  auto run_number = colon == std::string::npos
                        ? std::nullopt
                        : parse_id(std::string_view(o.decision).substr(0, colon));
  auto record_number = colon == std::string::npos
                           ? std::nullopt
                           : parse_id(std::string_view(o.decision).substr(colon + 1));
  if (!run_number || !record_number) {
    std::cerr << "error: name a decision as RUN:RECORD (two positive numbers), such as 3:1207\n";
    return exit_usage;
  }
  std::int64_t run_id = *run_number;
  std::int64_t record_id = *record_number;
  auto opened = open(o.db, false, o.key_file);
  if (!opened) return report(opened.error());
  store::store& db = **opened;
  std::optional<store::run_info> run;
  std::optional<store::decision_set> stored;
  std::optional<store::stored_record> rec;
  std::optional<std::string> source;
  // Audited: the entry is committed before the read, or nothing is read.
  auto read = db.audited_read(o.actor, "decision " + o.decision, "{\"purpose\":\"replay\"}",
                              [&]() -> store::status {
                                auto r = db.run(run_id);
                                if (!r) return r.error();
                                auto d = db.decisions(run_id, record_id);
                                if (!d) return d.error();
                                auto c = db.record(record_id);
                                if (!c) return c.error();
                                auto src = db.ruleset_source(r->ruleset_hash);
                                if (!src) return src.error();
                                run = std::move(*r);
                                stored = std::move(*d);
                                rec = std::move(*c);
                                source = std::move(*src);
                                return {};
                              });
  if (!read) {
    if (read.error().code == store::errc::not_found) {
      // A PostgreSQL --db is a connection string, which may hold a password: never printed.
      std::cerr << "error: no decision " << o.decision << " in " << shown_db(o.db) << " ("
                << read.error().message << ")\n";
      return exit_failed;
    }
    return report(read.error());
  }
  auto rules = from_stored(run->ruleset_hash, *source);
  if (!rules) return exit_failed;
  if (rules->hash() != run->ruleset_hash) {
    std::cerr << "MISMATCH: the stored ruleset source hashes to " << rules->hash() << ", not "
              << run->ruleset_hash << "\n";
    return 1;
  }
  if (stored->format != 1 && stored->format != store::decision_format) {
    std::cerr << "error: decision " << o.decision << " is stored in decision format "
              << stored->format << ", which this dalil does not know (1 to "
              << store::decision_format << ")\n";
    return 1;
  }
  auto as_of = parse_date(run->as_of);
  if (!as_of) {
    std::cerr << "error: run " << run_id << " has no valid date (as_of is not YYYY-MM-DD)\n";
    return 1;
  }
  auto inst = engine::instantiate(rules, *as_of);
  store::decision_set again =
      store::evaluate_record(inst, store::contract_rules(rules->program()), *rec, true);
  // A set stored before schema 2 (format 1) is compared in that form: without in_force (which
  // depends on the ruleset and the date alone, both the stored run's) and with the rule-level
  // provisional flag it recorded. What the current form records beyond it is then listed.
  auto described_or = describe(db, *run);
  if (!described_or) return report(described_or.error());
  const store::run_decisions& described = **described_or;
  std::string replayed = stored->format == again.format
                             ? again.decisions_json
                             : store::to_format_1(again.decisions_json, described);
  bool same_decisions = replayed == stored->decisions_json;
  bool same_digest = again.trace_digest == stored->trace_digest;
  bool same_bytes = stored->trace_json.empty() || stored->trace_json == again.trace_json;
  std::cout << "decision " << o.decision << ": ruleset " << run->ruleset_hash.substr(0, 12)
            << ", as of " << run->as_of << ", record " << rec->applicant_id << " v" << rec->version
            << "\n";
  std::cout << "  decisions: " << (same_decisions ? "identical" : "DIFFERENT");
  if (stored->format == 1) {
    std::cout << " in decision format 1 (stored before in_force was recorded and before "
                 "provisional was set by what decided each value)\n";
    std::vector<store::decision_entry> now;
    std::vector<store::decision_entry> was;
    if (store::read_decisions(again.decisions_json, again.format, {}, now) &&
        store::read_decisions(stored->decisions_json, 1, described.in_force, was) &&
        now.size() == was.size()) {
      std::string ended;
      std::string precise;
      std::string newly;
      auto add = [&](std::string& list, std::size_t i) {
        list += (list.empty() ? "" : ", ") +
                (i < described.names.size() ? described.names[i] : std::to_string(i + 1));
      };
      for (std::size_t i = 0; i < now.size(); ++i) {
        bool same_value = now[i].decided == was[i].decided && now[i].value == was[i].value;
        if (!same_value) continue;  // listed among the differences below
        if (!now[i].in_force) add(ended, i);
        if (was[i].provisional && !now[i].provisional) add(precise, i);
        if (!was[i].provisional && now[i].provisional) add(newly, i);
      }
      if (!ended.empty()) {
        std::cout << "    now recorded not in force on " << run->as_of
                  << " (values unchanged): " << ended << "\n";
      }
      if (!precise.empty()) {
        std::cout << "    now recorded not provisional, as no provisional rule, parameter or "
                     "exception decided them (values unchanged): "
                  << precise << "\n";
      }
      if (!newly.empty()) {
        std::cout << "    now recorded provisional (values unchanged): " << newly << "\n";
      }
    }
  } else {
    std::cout << "\n";
  }
  std::cout << "  trace digest: " << (same_digest ? "identical" : "DIFFERENT") << " ("
            << again.trace_digest.hex() << ")\n";
  if (!stored->trace_json.empty()) {
    std::cout << "  stored trace bytes: " << (same_bytes ? "identical" : "DIFFERENT") << "\n";
  }
  auto show = [](const std::vector<store::difference>& diffs) {
    for (const store::difference& d : diffs) {
      std::cout << "    " << d.rule << (d.what.empty() ? "" : ": " + d.what)
                << "\n      stored:   " << (d.stored.empty() ? "(absent)" : d.stored)
                << "\n      replayed: " << (d.replayed.empty() ? "(absent)" : d.replayed) << "\n";
    }
  };
  if (!same_decisions) {
    std::cout << "  decisions that differ:\n";
    show(store::diff_decisions(stored->decisions_json, stored->format, replayed, stored->format,
                               described));
  }
  if (!same_bytes) {
    std::cout << "  trace steps that differ:\n";
    show(store::diff_traces(stored->trace_json, again.trace_json));
  }
  return same_decisions && same_digest && same_bytes ? 0 : 1;
}

}  // namespace

int run_batch(const batch_options& o) {
  return guarded("batch", [&] { return batch(o); });
}

int run_replay(const replay_options& o) {
  return guarded("replay", [&] { return replay(o); });
}

int run_audit_verify(const audit_options& o) {
  return guarded("audit verify", [&] {
    auto db = open(o.db, o.read_only, o.key_file);
    if (!db) return report(db.error());
    store::verify_options options;
    options.head = o.head;
    auto r = (*db)->verify(options);
    if (!r) return report(r.error());
    if (!r->problems.empty()) {
      for (const auto& p : r->problems) {
        bool damage = p.kind == "damaged_file" || p.kind == "unreadable";
        std::cout << (damage ? "DAMAGED: " : "TAMPERED: ") << p.what << "\n";
      }
      return exit_failed;
    }
    std::cout << "audit log verified: every entry, ruleset, import, rejection, record (and its "
                 "latest flag), run and decision set is intact";
    if (!o.head.empty()) std::cout << "; the log reaches head " << o.head << " unchanged";
    if (r->erased != 0) {
      std::cout << "; " << r->erased
                << " applicant(s) erased (their data keys destroyed by audited erasures: their "
                   "records are unreadable, their decisions still counted)";
    }
    if (r->traces_erased != 0) {
      std::cout << "; " << r->traces_erased
                << " stored trace(s) erased by retention (their hashes kept, every one accounted "
                   "for by a retention entry)";
    }
    if (r->encrypted_in_place) {
      std::cout << "; the store was encrypted in place (its records and decision sets are "
                   "vouched for again by the entries of that keys_init)";
    }
    std::cout << "\n";
    return 0;
  });
}

std::string shown_db(const std::string& db) {
  return store::pg::is_conninfo(db) ? std::string("the PostgreSQL store") : db;
}

store::result<std::unique_ptr<store::store>> open_store(const std::string& path,
                                                        const std::string& key_file) {
  return open(path, false, key_file, true);  // keys init, publish: may be a store's first command
}

int run_audit_head(const audit_options& o) {
  return guarded("audit head", [&] {
    auto db = open(o.db, o.read_only, o.key_file);
    if (!db) return report(db.error());
    auto h = (*db)->head();
    if (!h) return report(h.error());
    std::cout << h->seq << " " << h->hash << "\n";
    return 0;
  });
}

namespace {

/// Where an export is written until its read is complete: nothing is printed from a partial read.
struct staged_output {
  std::string path;
  std::FILE* file = nullptr;
  ~staged_output() {
    if (file != nullptr) std::fclose(file);
    if (!path.empty()) std::remove(path.c_str());
  }
};

/// Why the export may not be written at `o.out` (before anything is read), if it may not.
std::optional<std::string> export_target_refused(const export_options& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!store::pg::is_conninfo(o.db)) {
    // By name, whether the files exist or not (a journal appears only during a write; SQLite
    // resolves a symbolic link to the store and puts its WAL beside the target), and by identity
    // (a hard link to the store).
    // Absolute first: weakly_canonical leaves a relative path of which nothing exists as it is.
    auto full = [&ec](const fs::path& p) { return fs::weakly_canonical(fs::absolute(p, ec), ec); };
    const fs::path out = full(o.out);
    std::vector<std::string> stores = {o.db};
    if (auto real = fs::canonical(o.db, ec); !ec) stores.push_back(real.string());
    for (const std::string& db : stores) {
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        const fs::path part = db + suffix;
        std::error_code same_ec;
        if (full(part) == out || (fs::equivalent(part, o.out, same_ec) && !same_ec)) {
          return o.out + " is the store's own file: an export never overwrites the store";
        }
      }
    }
  }
  if (fs::exists(fs::symlink_status(o.out, ec)) && !o.force) {
    return o.out + " exists: nothing was written (--force replaces it)";
  }
  if (o.force && fs::is_directory(o.out, ec)) return o.out + " is a directory";
  return std::nullopt;
}

int export_run(const export_options& o) {
  auto opened = open(o.db, false, o.key_file);
  if (!opened) return report(opened.error());
  store::store& db = **opened;
  std::int64_t run_id = o.run;
  if (run_id == 0) {
    auto newest = db.newest_complete_run();
    if (!newest) return report(newest.error());
    run_id = newest->run_id;
  }
  staged_output staged;
  if (o.out != "-") {
    // Never over the store (its file, its WAL, its journal), and over another file only when
    // asked to: an export holds applicants' ids and decisions, readable by its owner only.
    if (auto refused = export_target_refused(o)) {
      std::cerr << "error: " << *refused << "\n";
      return exit_usage;
    }
    staged.path = o.out + ".partial-" + std::to_string(::getpid());
    int fd = ::open(staged.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      staged.file = ::fdopen(fd, "wb");
      if (staged.file == nullptr) ::close(fd);
    } else if (errno == EEXIST) {
      staged.path.clear();  // another's: left alone
      errno = EEXIST;
    }
  } else {
    staged.file = std::tmpfile();
  }
  if (staged.file == nullptr) {
    std::cerr << "error: cannot write " << (o.out == "-" ? "a temporary file" : o.out) << ": "
              << std::strerror(errno) << "\n";
    return exit_failed;
  }
  bool write_failed = false;
  auto put = [&](const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), staged.file) != text.size()) write_failed = true;
  };
  std::string details = "{\"purpose\":\"export\",\"format\":\"" + o.format + "\"}";
  auto read =
      db.audited_read(o.actor, "run " + std::to_string(run_id), details, [&]() -> store::status {
        auto run = db.run(run_id);
        if (!run) return run.error();
        if (run->status != "complete") {
          std::cerr << "note: run " << run_id << " is not complete: its decision sets so far\n";
        }
        auto described_or = describe(db, *run);
        if (!described_or) return described_or.error();
        const store::run_decisions& described = **described_or;
        if (o.format == "csv") put("run,record,applicant,input_hash,trace_digest,decisions\n");
        std::string line;
        bool told = false;
        return db.each_decision(
            run_id,
            [&](const std::string& applicant, const store::decision_set& d) {
              if (d.values_sealed && !told) {
                // Never a silent "sealed" where a value was: the reader is told why.
                told = true;
                std::cerr << "note: the store is encrypted and "
                          << (o.key_file.empty() &&
                                      std::getenv(store::crypto::master_key_variable) == nullptr
                                  ? "no master key was given (--key-file)"
                                  : "some applicants were erased")
                          << ": values other than flags and enumeration names are exported as "
                             "\"sealed\"\n";
              }
              line.clear();
              if (o.format == "csv") {
                line = std::to_string(run_id) + "," + std::to_string(d.record_id) + ",";
                append_csv_cell(line, applicant);
                line += "," + d.input_hash.hex() + "," + d.trace_digest.hex() + ",";
                append_csv_cell(line,
                                store::expand_decisions(d.decisions_json, d.format, described));
              } else {
                line = "{\"run\":" + std::to_string(run_id) +
                       ",\"record\":" + std::to_string(d.record_id) + ",\"applicant\":";
                engine::append_json_string(line, applicant);
                line += ",\"input_hash\":\"" + d.input_hash.hex() + "\",\"trace_digest\":\"" +
                        d.trace_digest.hex() + "\",\"decisions\":" +
                        store::expand_decisions(d.decisions_json, d.format, described) + "}";
              }
              line += '\n';
              put(line);
            },
            true);
      });
  if (!read) return report(read.error());
  if (write_failed || std::fflush(staged.file) != 0 || std::ferror(staged.file) != 0) {
    std::cerr << "error: writing the export failed: " << std::strerror(errno)
              << " (nothing was exported)\n";
    return exit_failed;
  }
  if (o.out != "-") {
    if (fsync(fileno(staged.file)) != 0 || std::fclose(staged.file) != 0) {
      staged.file = nullptr;
      std::cerr << "error: writing " << staged.path << " failed: " << std::strerror(errno) << "\n";
      return exit_failed;
    }
    staged.file = nullptr;
    // Without --force, a file that appeared meanwhile is not replaced either (link fails on it).
    if (o.force ? std::rename(staged.path.c_str(), o.out.c_str()) != 0
                : ::link(staged.path.c_str(), o.out.c_str()) != 0) {
      if (errno == EEXIST) {
        std::cerr << "error: " << o.out << " exists: nothing was written (--force replaces it)\n";
        return exit_usage;
      }
      std::cerr << "error: cannot write " << o.out << ": " << std::strerror(errno) << "\n";
      return exit_failed;
    }
    if (o.force) staged.path.clear();  // renamed; linked, the staged name is removed
    return 0;
  }
  std::rewind(staged.file);
  char buf[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, staged.file)) > 0) {
    if (std::fwrite(buf, 1, n, stdout) != n) {
      std::cerr << "error: writing to the standard output failed: " << std::strerror(errno) << "\n";
      return exit_failed;
    }
  }
  if (std::fflush(stdout) != 0) {
    std::cerr << "error: writing to the standard output failed: " << std::strerror(errno) << "\n";
    return exit_failed;
  }
  return 0;
}

}  // namespace

int run_export(const export_options& o) {
  return guarded("export", [&] { return export_run(o); });
}

namespace {

/// The decisions of a run in name order (their module first), as stats lists them.
std::vector<std::size_t> by_name(const std::vector<std::string>& names, std::size_t n) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < n && i < names.size(); ++i) order.push_back(i);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return names[a] < names[b]; });
  return order;
}

std::string percent(std::int64_t k, std::int64_t n) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1)
    << (n ? 100.0 * static_cast<double>(k) / static_cast<double>(n) : 0.0) << "%";
  return s.str();
}

void append_values_json(std::string& out, const std::map<std::string, std::int64_t>& values) {
  out += '[';
  bool first = true;
  for (const auto& [value, k] : values) {
    if (!first) out += ',';
    first = false;
    out += "{\"value\":" + value + ",\"count\":" + std::to_string(k) + "}";
  }
  out += ']';
}

}  // namespace

namespace {

int stats(const stats_options& o) {
  std::optional<loaded_pack> pack;
  if (!o.rules.empty()) {
    pack = load_pack(o.rules);
    if (!pack) return exit_failed;
  }
  auto opened = open(o.db, false, o.key_file);
  if (!opened) return report(opened.error());
  store::store& db = **opened;
  // One read transaction would be nicer; counts per run are consistent as complete runs never
  // change.
  auto runs = chosen_runs(db, o.run, o.all);
  if (!runs) return report(runs.error());
  auto program_of = [&](const std::string& module) {
    std::string program;
    if (pack) {
      for (const auto& mi : pack->rules->program().modules) {
        if (mi.name == module) program = mi.program + (mi.osp.empty() ? "" : ", " + mi.osp);
      }
    }
    return program;
  };
  bool json = o.format == "json";
  std::string out = json ? "{\"runs\":[" : "";
  bool first_run = true;
  for (const auto& run : *runs) {
    auto described_or = describe(db, run);
    if (!described_or) return report(described_or.error());
    const store::run_decisions& described = **described_or;
    store::run_counts counts;
    if (auto st = db.each_decision(run.run_id,
                                   [&](const std::string&, const store::decision_set& d) {
                                     counts.add(d, described.in_force);
                                   });
        !st) {
      return report(st.error());
    }
    std::int64_t n = counts.sets;
    std::vector<std::size_t> order = by_name(described.names, counts.decisions.size());
    if (json) {
      if (!first_run) out += ',';
      first_run = false;
      out += "{\"run\":" + std::to_string(run.run_id) + ",\"as_of\":";
      engine::append_json_string(out, run.as_of);
      out += ",\"ruleset\":";
      engine::append_json_string(out, run.ruleset_hash);
      out += ",\"filter\":";
      engine::append_json_string(out, run.filter);
      out += ",\"status\":";
      engine::append_json_string(out, run.status);
      out += ",\"generation\":" + std::to_string(run.generation);
      out += ",\"applicants\":" + std::to_string(n) +
             ",\"records_not_fitting_schema\":" + std::to_string(counts.errors) +
             ",\"decisions\":[";
      for (std::size_t k = 0; k < order.size(); ++k) {
        const std::string& rule = described.names[order[k]];
        const store::outcome_counts& c = counts.decisions[order[k]];
        if (k) out += ',';
        out += "{\"decision\":";
        engine::append_json_string(out, rule);
        if (std::string program = program_of(rule.substr(0, rule.find('.'))); !program.empty()) {
          out += ",\"program\":";
          engine::append_json_string(out, program);
        }
        out += ",\"in_force\":{\"values\":";
        append_values_json(out, c.values);
        out += ",\"undetermined\":" + std::to_string(c.undetermined) +
               "},\"out_of_force\":{\"count\":" + std::to_string(c.out_of_force) + ",\"values\":";
        append_values_json(out, c.out_of_force_values);
        out += ",\"undetermined\":" + std::to_string(c.out_of_force_undetermined) + "}}";
      }
      out += "]}";
      continue;
    }
    out += "run " + std::to_string(run.run_id) + " (as of " + run.as_of + ", ruleset " +
           run.ruleset_hash.substr(0, 12) + (run.filter.empty() ? "" : ", where " + run.filter) +
           ", generation " + std::to_string(run.generation) + ", " + run.status +
           "): " + std::to_string(n) + " applicants\n";
    if (counts.errors) {
      out += "  " + std::to_string(counts.errors) +
             " records no longer fit the schema: no decision (dalil export lists them)\n";
    }
    std::string module;
    for (std::size_t i : order) {
      const std::string& rule = described.names[i];
      const store::outcome_counts& c = counts.decisions[i];
      std::string m = rule.substr(0, rule.find('.'));
      if (m != module) {
        module = m;
        std::string program = program_of(m);
        out += "  " + m + (program.empty() ? "" : " (" + program + ")") + "\n";
      }
      // In force: the criteria applied (each value, or undetermined); out of force apart, so
      // that a period's end never reads as criteria not met.
      out += "    " + rule + ":";
      for (const auto& [value, k] : c.values) {
        out += "  " + value + " " + std::to_string(k) + " (" + percent(k, n) + ")";
      }
      if (c.undetermined) {
        out += "  undetermined " + std::to_string(c.undetermined) + " (" +
               percent(c.undetermined, n) + ")";
      }
      if (c.out_of_force) {
        out +=
            "  out of force " + std::to_string(c.out_of_force) + " (" + percent(c.out_of_force, n);
        if (!c.out_of_force_values.empty()) {
          // Decided by the rule's `otherwise` value: say which, and how many stayed undetermined.
          for (const auto& [value, k] : c.out_of_force_values) {
            out += ", " + value + " " + std::to_string(k);
          }
          if (c.out_of_force_undetermined) {
            out += ", undetermined " + std::to_string(c.out_of_force_undetermined);
          }
        }
        out += ")";
      }
      out += "\n";
    }
  }
  if (json) out += "]}\n";
  std::cout << out;
  return 0;
}

}  // namespace

int run_stats(const stats_options& o) {
  return guarded("stats", [&] { return stats(o); });
}

namespace {

int show(const show_options& o) {
  auto opened = open(o.db, false, o.key_file);
  if (!opened) return report(opened.error());
  store::store& db = **opened;
  std::string out;  // printed once the audited read is complete
  bool found = false;
  std::string details = "{\"purpose\":\"decisions\"}";
  // In an encrypted store the applicant is known (and audited) by their lookup hash only.
  auto who = db.applicant_key(o.applicant);
  if (!who) return report(who.error());
  auto read = db.audited_read(o.actor, "applicant " + *who, details, [&]() -> store::status {
    auto runs = chosen_runs(db, o.run, o.all);
    if (!runs) return runs.error();
    for (const auto& run : *runs) {
      auto d = db.applicant_decisions(run.run_id, *who);
      if (!d) {
        if (d.error().code == store::errc::not_found) continue;
        return d.error();
      }
      if (!found) {
        // The versions of the record, each with its import (a correction's reason and author).
        auto versions = db.versions(o.applicant);
        if (!versions) return versions.error();
        out += "record versions:\n";
        for (const auto& v : *versions) {
          out += "  v" + std::to_string(v.version) + ": record " + std::to_string(v.record_id) +
                 ", import " + std::to_string(v.import_id) + " at " + v.imported_at;
          if (!v.received.empty()) out += ", received " + v.received;
          if (!v.reason.empty()) out += ", correction by " + v.by + ": " + v.reason;
          out += v.latest ? " (latest)\n" : "\n";
        }
      }
      found = true;
      auto described_or = describe(db, run);
      if (!described_or) return described_or.error();
      const store::run_decisions& described = **described_or;
      out += "run " + std::to_string(run.run_id) + " (as of " + run.as_of +
             (run.filter.empty() ? "" : ", where " + run.filter) + ", generation " +
             std::to_string(run.generation) + (run.status == "complete" ? "" : ", " + run.status) +
             "), decision " + std::to_string(run.run_id) + ":" + std::to_string(d->record_id) +
             "\n";
      std::vector<store::decision_entry> entries;
      if (!store::read_decisions(d->decisions_json, d->format, described.in_force, entries)) {
        std::string field;
        std::string why;
        out += "  no decision: the record no longer fits the schema";
        if (store::read_record_error(d->decisions_json, field, why)) {
          out += ": ";
          if (!field.empty()) out += "field " + field + ": ";
          out += why;
        }
        out += '\n';
      }
      for (std::size_t i = 0; i < entries.size() && i < described.names.size(); ++i) {
        const store::decision_entry& e = entries[i];
        out += "  " + described.names[i] + " = " +
               std::string(e.decided ? e.value : std::string_view("undetermined")) +
               (e.in_force ? "" : " (out of force)") + "\n";
      }
    }
    return {};
  });
  if (!read) return report(read.error());
  if (!found) {
    std::cout << "no decision for this applicant"
              << (o.run != 0 ? " in run " + std::to_string(o.run)
                  : o.all    ? ""
                             : " in the current runs (--all for every run)")
              << "\n";
    return exit_failed;
  }
  std::cout << out;
  return 0;
}

}  // namespace

int run_show(const show_options& o) {
  return guarded("decisions", [&] { return show(o); });
}

bool parse_where(const dsl::program& p, const std::vector<std::string>& where,
                 std::vector<store::record_filter>& filter) {
  for (const std::string& w : where) {
    auto eq = w.find('=');
    if (eq == std::string::npos) {
      std::cerr << "error: --where takes FIELD=VALUE, such as status=refugee\n";
      return false;
    }
    std::string path = w.substr(0, eq);
    const dsl::field_info* field = dsl::field_at(p, path);
    if (field == nullptr) {
      std::cerr << "error: --where " << path << ": no such field in the record schema\n";
      return false;
    }
    // The value checked against the field's type (dsl::filter_value_refusal), never repeated.
    std::string value = w.substr(eq + 1);
    if (std::string why = dsl::filter_value_refusal(p, *field, path, value); !why.empty()) {
      std::cerr << "error: --where " << path << ": " << why << "\n";
      return false;
    }
    filter.push_back({path, value});
  }
  return true;
}

store::result<std::unique_ptr<store::store>> open_store(const std::string& path) {
  return open(path, false, std::string(), true);
}

}  // namespace dalil::cli
