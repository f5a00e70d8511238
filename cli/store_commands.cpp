// Store subcommands: thin wrappers that parse options, call one store operation and print.
// No personal field is ever printed in a log line: rows are named by number, records by id.
#include "cli/store_commands.hpp"
#include "cli/pack.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

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
/// run's date), cached by ruleset and date. Empty when the ruleset cannot be read.
const store::run_decisions& describe(store::store& db, const store::run_info& run) {
  static std::map<std::string, store::run_decisions> cache;
  std::string key = run.ruleset_hash + "@" + run.as_of;
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  store::run_decisions out;
  auto as_of = parse_date(run.as_of);
  if (auto source = db.ruleset_source(run.ruleset_hash); source && as_of) {
    if (auto rules = from_stored(run.ruleset_hash, *source))
      out = store::describe_run(rules, *as_of);
  }
  return cache[key] = std::move(out);
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
  const store::run_decisions& described = describe(*db, *run);
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
  const store::run_decisions& described = describe(*db, *run);
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
          quote(store::expand_decisions(d.decisions_json, d.format, described));
        } else {
          line = "{\"run\":" + std::to_string(run_id) +
                 ",\"record\":" + std::to_string(d.record_id) + ",\"applicant\":";
          engine::append_json_string(line, applicant);
          line += ",\"input_hash\":\"" + d.input_hash.hex() + "\",\"trace_digest\":\"" +
                  d.trace_digest.hex() + "\",\"decisions\":" +
                  store::expand_decisions(d.decisions_json, d.format, described) + "}";
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

int run_stats(const stats_options& o) {
  std::optional<loaded_pack> pack;
  if (!o.rules.empty()) {
    pack = load_pack(o.rules);
    if (!pack) return 1;
  }
  auto db = open(o.db);
  if (!db) return 1;
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
  for (const auto& run : db->runs()) {
    const store::run_decisions& described = describe(*db, run);
    store::run_counts counts;
    std::string error;
    if (!db->each_decision(
            run.run_id,
            [&](const std::string&, const store::decision_set& d) {
              counts.add(d, described.in_force);
            },
            error)) {
      std::cerr << "error: run " << run.run_id << ": " << error << "\n";
      return 1;
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
           run.ruleset_hash.substr(0, 12) + ", " + run.status + "): " + std::to_string(n) +
           " applicants\n";
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
          const store::run_decisions& described = describe(*db, run);
          std::vector<store::decision_entry> entries;
          if (!store::read_decisions(d.decisions_json, d.format, described.in_force, entries)) {
            std::cout << "  no decision: the record no longer fits the schema\n";
          }
          for (std::size_t i = 0; i < entries.size() && i < described.names.size(); ++i) {
            const store::decision_entry& e = entries[i];
            std::cout << "  " << described.names[i] << " = "
                      << (e.decided ? e.value : std::string_view("undetermined"))
                      << (e.in_force ? "" : " (out of force)") << "\n";
          }
        },
        error);
  }
  if (!found) std::cout << "no decision for this applicant\n";
  return found ? 0 : 1;
}

}  // namespace dalil::cli
