// Store subcommands: thin wrappers that parse options, call one store operation and print.
// No personal field is ever printed in a log line: rows are named by number, records by id.
#include "cli/store_commands.hpp"
#include "cli/pack.hpp"

#include <sys/resource.h>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>

#include "dsl/checker.hpp"
#include "dsl/parser.hpp"
#include "engine/decision.hpp"
#include "engine/record.hpp"
#include "engine/session.hpp"
#include "engine/sha256.hpp"
#include "store/batch.hpp"
#include "store/store.hpp"

namespace dalil::cli {

namespace {

/// Rebuilds a ruleset from the canonical source stored under its hash.
std::shared_ptr<const engine::ruleset> from_stored(const std::string& hash,
                                                   const std::string& source) {
  dsl::source_map sources;
  dsl::diagnostics diags;
  std::vector<dsl::ast::module> modules;
  std::size_t start = 0;
  int n = 0;
  while (start < source.size()) {
    std::size_t end = source.find('\0', start);
    if (end == std::string::npos) end = source.size();
    dsl::file_id f = sources.add("stored:" + hash.substr(0, 12) + "/" + std::to_string(n++),
                                 source.substr(start, end - start));
    auto m = dsl::parse(sources, f, diags);
    if (m) modules.push_back(std::move(*m));
    start = end + 1;
  }
  auto program = dsl::check(sources, modules, diags);
  if (!program) {
    std::cerr << dsl::render_all(sources, diags);
    return nullptr;
  }
  return engine::build_ruleset(sources, modules, std::move(*program));
}

/// The names of the contract decisions of a stored ruleset, in the order of its decision sets.
std::vector<std::string> decision_names(store::store& db, const std::string& hash) {
  static std::map<std::string, std::vector<std::string>> cache;
  auto it = cache.find(hash);
  if (it != cache.end()) return it->second;
  std::vector<std::string> names;
  if (auto source = db.ruleset_source(hash)) {
    if (auto rules = from_stored(hash, *source)) {
      for (std::uint32_t r : store::contract_rules(rules->program())) {
        names.push_back(rules->program().rules[r].qualified);
      }
    }
  }
  cache[hash] = names;
  return names;
}

std::unique_ptr<store::store> open(const std::string& path) {
  std::string error;
  auto db = store::open_sqlite(path, error);
  if (!db) std::cerr << "error: " << error << "\n";
  return db;
}

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

}  // namespace

int run_import(const import_options& o) {
  auto pack = load_pack(o.rules);
  if (!pack) return 1;
  auto db = open(o.db);
  if (!db) return 1;
  store::import_summary s;
  std::string error;
  if (!store::import_file(*db, pack->rules->program(), o.file, s, error)) {
    std::cerr << "error: " << error << "\n";
    return 1;
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
  return s.rows == s.stored + s.new_versions + s.unchanged + s.rejected ? 0 : 1;
}

int run_batch(const batch_options& o) {
  auto as_of = parse_date(o.as_of);
  if (!as_of) {
    std::cerr << "error: --as-of " << o.as_of << " is not a date (YYYY-MM-DD)\n";
    return 2;
  }
  auto pack = load_pack(o.rules);
  if (!pack) return 1;
  store::batch_options b;
  b.as_of = *as_of;
  b.threads = o.threads;
  b.store_traces = o.store_traces;
  b.progress = !o.quiet;
  b.chunk = std::max<std::size_t>(1, o.chunk);
  const dsl::program& p = pack->rules->program();
  for (const std::string& w : o.where) {
    auto eq = w.find('=');
    if (eq == std::string::npos) {
      std::cerr << "error: --where takes FIELD=VALUE, such as status=refugee\n";
      return 2;
    }
    std::string path = w.substr(0, eq);
    // The field must exist in the schema: walk the records.
    std::uint32_t rec = p.input_record;
    std::size_t start = 0;
    bool ok = rec != dsl::no_index;
    while (ok) {
      std::size_t dot = path.find('.', start);
      std::string part = path.substr(start, dot == std::string::npos ? path.npos : dot - start);
      auto f = p.records[rec].field(part);
      if (!f) {
        ok = false;
        break;
      }
      if (dot == std::string::npos) break;
      const dsl::type& t = p.records[rec].fields[*f].t;
      if (t.k != dsl::kind::record) {
        ok = false;
        break;
      }
      rec = t.ref;
      start = dot + 1;
    }
    if (!ok) {
      std::cerr << "error: --where " << path << ": no such field in the record schema\n";
      return 2;
    }
    b.filter.push_back({path, w.substr(eq + 1)});
  }
  auto db = open(o.db);
  if (!db) return 1;
  store::batch_summary s;
  std::string error;
  if (!store::run_batch(*db, pack->rules, pack->canonical, b, s, error)) {
    std::cerr << "error: " << error << "\n";
    return 1;
  }
  std::cout << "run " << s.run_id << (s.resumed ? " (resumed)" : "") << ": " << s.processed
            << " records evaluated in " << s.seconds << " s";
  if (s.seconds > 0) {
    std::cout << " (" << static_cast<long>(static_cast<double>(s.processed) / s.seconds)
              << " rec/s)";
  }
  std::cout << "; " << s.total << " decision sets in the run; peak memory " << peak_rss_mib()
            << " MiB\n";
  return 0;
}

int run_replay(const replay_options& o) {
  auto colon = o.decision.find(':');
  if (colon == std::string::npos) {
    std::cerr << "error: name a decision as RUN:RECORD, such as 3:1207\n";
    return 2;
  }
  std::int64_t run_id = std::stoll(o.decision.substr(0, colon));
  std::int64_t record_id = std::stoll(o.decision.substr(colon + 1));
  auto db = open(o.db);
  if (!db) return 1;
  auto run = db->run(run_id);
  auto stored = db->decisions(run_id, record_id);
  auto rec = db->record(record_id);
  if (!run || !stored || !rec) {
    std::cerr << "error: no decision " << o.decision << " in " << o.db << "\n";
    return 1;
  }
  std::string error;
  db->audit(o.actor, "read", "decision " + o.decision, "{\"purpose\":\"replay\"}", error);
  auto source = db->ruleset_source(run->ruleset_hash);
  if (!source) {
    std::cerr << "error: ruleset " << run->ruleset_hash << " is not in the store\n";
    return 1;
  }
  auto rules = from_stored(run->ruleset_hash, *source);
  if (!rules) return 1;
  if (rules->hash() != run->ruleset_hash) {
    std::cerr << "MISMATCH: the stored ruleset source hashes to " << rules->hash() << ", not "
              << run->ruleset_hash << "\n";
    return 1;
  }
  auto inst = engine::instantiate(rules, *parse_date(run->as_of));
  store::decision_set again =
      store::evaluate_record(inst, store::contract_rules(rules->program()), *rec, true);
  bool same_decisions = again.decisions_json == stored->decisions_json;
  bool same_digest = again.trace_digest == stored->trace_digest;
  bool same_bytes = stored->trace_json.empty() || stored->trace_json == again.trace_json;
  std::cout << "decision " << o.decision << ": ruleset " << run->ruleset_hash.substr(0, 12)
            << ", as of " << run->as_of << ", record " << rec->applicant_id << " v" << rec->version
            << "\n";
  std::cout << "  decisions: " << (same_decisions ? "identical" : "DIFFERENT") << "\n";
  std::cout << "  trace digest: " << (same_digest ? "identical" : "DIFFERENT") << " ("
            << again.trace_digest.hex() << ")\n";
  if (!stored->trace_json.empty()) {
    std::cout << "  stored trace bytes: " << (same_bytes ? "identical" : "DIFFERENT") << "\n";
  }
  auto show = [](const std::vector<store::difference>& diffs) {
    for (const store::difference& d : diffs) {
      std::cout << "    " << d.rule
                << "\n      stored:   " << (d.stored.empty() ? "(absent)" : d.stored)
                << "\n      replayed: " << (d.replayed.empty() ? "(absent)" : d.replayed) << "\n";
    }
  };
  if (!same_decisions) {
    std::cout << "  decisions that differ:\n";
    show(store::diff_decisions(stored->decisions_json, again.decisions_json,
                               decision_names(*db, run->ruleset_hash)));
  }
  if (!same_bytes) {
    std::cout << "  trace steps that differ:\n";
    show(store::diff_traces(stored->trace_json, again.trace_json));
  }
  return same_decisions && same_digest && same_bytes ? 0 : 1;
}

int run_audit_verify(const audit_options& o) {
  auto db = open(o.db);
  if (!db) return 1;
  std::string error;
  auto problem = db->verify(error);
  if (!error.empty()) {
    std::cerr << "error: " << error << "\n";
    return 1;
  }
  if (problem) {
    std::cout << "TAMPERED: " << problem->what << "\n";
    return 1;
  }
  std::cout << "audit log verified: every entry, record, ruleset and decision set is intact\n";
  return 0;
}

int run_export(const export_options& o) {
  auto db = open(o.db);
  if (!db) return 1;
  std::int64_t run_id = o.run;
  if (run_id == 0) {
    auto all = db->runs();
    if (all.empty()) {
      std::cerr << "error: no run in " << o.db << "\n";
      return 1;
    }
    run_id = all.back().run_id;
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (o.out != "-") {
    file.open(o.out, std::ios::binary | std::ios::trunc);
    out = &file;
  }
  std::string error;
  auto run = db->run(run_id);
  if (!run) {
    std::cerr << "error: no run " << run_id << "\n";
    return 1;
  }
  std::vector<std::string> names = decision_names(*db, run->ruleset_hash);
  db->audit(o.actor, "read", "run " + std::to_string(run_id), "{\"purpose\":\"export\"}", error);
  if (o.format == "csv") *out << "run,record,applicant,input_hash,trace_digest,decisions\n";
  std::string line;
  bool ok = db->each_decision(
      run_id,
      [&](const std::string& applicant, const store::decision_set& d) {
        line.clear();
        if (o.format == "csv") {
          line = std::to_string(run_id) + "," + std::to_string(d.record_id) + ",";
          auto quote = [&line](const std::string& s) {
            line += '"';
            for (char c : s) line += c == '"' ? std::string("\"\"") : std::string(1, c);
            line += '"';
          };
          quote(applicant);
          line += "," + d.input_hash.hex() + "," + d.trace_digest.hex() + ",";
          quote(store::expand_decisions(d.decisions_json, names));
        } else {
          line = "{\"run\":" + std::to_string(run_id) +
                 ",\"record\":" + std::to_string(d.record_id) + ",\"applicant\":";
          engine::append_json_string(line, applicant);
          line += ",\"input_hash\":\"" + d.input_hash.hex() + "\",\"trace_digest\":\"" +
                  d.trace_digest.hex() +
                  "\",\"decisions\":" + store::expand_decisions(d.decisions_json, names) + "}";
        }
        *out << line << "\n";
      },
      error);
  if (!ok) {
    std::cerr << "error: " << error << "\n";
    return 1;
  }
  return 0;
}

int run_stats(const stats_options& o) {
  std::optional<loaded_pack> pack;
  if (!o.rules.empty()) pack = load_pack(o.rules);
  auto db = open(o.db);
  if (!db) return 1;
  std::string error;
  for (const auto& run : db->runs()) {
    std::vector<std::string> names = decision_names(*db, run.ruleset_hash);
    std::map<std::string, std::map<std::string, std::int64_t>> counts;  // rule -> outcome -> n
    std::int64_t n = 0;
    db->each_decision(
        run.run_id,
        [&](const std::string&, const store::decision_set& d) {
          ++n;
          std::vector<std::string_view> items = store::split_json_array(d.decisions_json);
          for (std::size_t i = 0; i < items.size() && i < names.size(); ++i) {
            std::vector<std::string_view> f = store::split_json_array(items[i]);
            if (f.size() < 2) continue;
            counts[names[i]][f[0] == "\"d\"" ? std::string(f[1]) : "undetermined"]++;
          }
        },
        error);
    std::cout << "run " << run.run_id << " (as of " << run.as_of << ", ruleset "
              << run.ruleset_hash.substr(0, 12) << ", " << run.status << "): " << n
              << " applicants\n";
    std::string module;
    for (const auto& [rule, outcomes] : counts) {
      std::string m = rule.substr(0, rule.find('.'));
      if (m != module) {
        module = m;
        std::string program;
        if (pack) {
          for (const auto& mi : pack->rules->program().modules) {
            if (mi.name == m) program = mi.program + (mi.osp.empty() ? "" : ", " + mi.osp);
          }
        }
        std::cout << "  " << m << (program.empty() ? "" : " (" + program + ")") << "\n";
      }
      std::cout << "    " << rule << ":";
      for (const auto& [outcome, k] : outcomes) {
        std::cout << "  " << outcome << " " << k << " (" << std::fixed << std::setprecision(1)
                  << (n ? 100.0 * static_cast<double>(k) / static_cast<double>(n) : 0.0) << "%)";
      }
      std::cout << "\n";
    }
  }
  return 0;
}

int run_show(const show_options& o) {
  auto db = open(o.db);
  if (!db) return 1;
  std::string error;
  db->audit(o.actor, "read", "applicant " + o.applicant, "{\"purpose\":\"show\"}", error);
  bool found = false;
  for (const auto& run : db->runs()) {
    db->each_decision(
        run.run_id,
        [&](const std::string& applicant, const store::decision_set& d) {
          if (applicant != o.applicant) return;
          found = true;
          std::cout << "run " << run.run_id << " (as of " << run.as_of << "), decision "
                    << run.run_id << ":" << d.record_id << "\n";
          auto names = decision_names(*db, run.ruleset_hash);
          auto items = store::split_json_array(d.decisions_json);
          for (std::size_t i = 0; i < items.size() && i < names.size(); ++i) {
            auto f = store::split_json_array(items[i]);
            if (f.size() < 2) continue;
            std::cout << "  " << names[i] << " = " << (f[0] == "\"d\"" ? f[1] : "undetermined")
                      << "\n";
          }
        },
        error);
  }
  if (!found) std::cout << "no decision for this applicant\n";
  return found ? 0 : 1;
}

}  // namespace dalil::cli
