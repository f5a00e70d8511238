// The server's in-process path of one counter answer (issue 14), without HTTP: what
// POST /api/v1/evaluate does between reading the body and sending the answer, in the same
// order and through the same functions as server/handlers.cpp:
//   read     the applicant's record (record_reader), its canonical JSON and SHA-256;
//   render   the evaluation object (engine::append_evaluation_json, with the compact form),
//            the digest of the compact form, the list of rules, the answer's last members;
//   store    the decisions group-committed through a counter store connection as the server's
//            writer does (BEGIN IMMEDIATE, put_decision for each, COMMIT; with --savepoints,
//            a savepoint per answer as the writer does when a request of the group failed).
// Prints, per stage, the median over the answers of each pass of the time it took, and the
// CPU time of the whole pass per answer (the thread's CPU clock), then their medians over the
// passes: the figure to compare before/after a change on a shared machine.
//
//   dalil_serve_path_bench --rules rules --cohort cohort.jsonl --db /tmp/x.db
//       [--lang fr|ar|en|all] [--no-trace] [--count 2000] [--passes 7] [--batch 16]
//       [--savepoints]
//
// The cohort is `dalil generate` JSONL; a first pass (not counted) stores every record, so that
// the timed passes, like the server under bench-serve.sh, store decisions for known records.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/pack.hpp"
#include "engine/evaluation.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "engine/sha256.hpp"
#include "store/counter_store.hpp"
#include "store/store.hpp"

using namespace dalil;

namespace {

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double now_us() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct options {
  std::string rules = "rules";
  std::string cohort;
  std::string db;
  std::string lang = "fr";
  bool trace = true;
  std::size_t count = 2000;
  std::size_t passes = 7;
  std::size_t batch = 16;
  bool savepoints = false;
};

int usage(const char* why) {
  std::cerr << "dalil_serve_path_bench: " << why
            << "\nusage: dalil_serve_path_bench --rules DIR --cohort FILE.jsonl --db FILE "
               "[--lang fr|ar|en|all] [--no-trace] [--count N] [--passes N] [--batch N] "
               "[--savepoints]\n";
  return 2;
}

struct stage_times {
  std::vector<double> read, render, store;  // per answer (store: its batch's share), µs
};

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (a == "--rules") {
      o.rules = next();
    } else if (a == "--cohort") {
      o.cohort = next();
    } else if (a == "--db") {
      o.db = next();
    } else if (a == "--lang") {
      o.lang = next();
    } else if (a == "--no-trace") {
      o.trace = false;
    } else if (a == "--count") {
      o.count = std::stoul(next());
    } else if (a == "--passes") {
      o.passes = std::stoul(next());
    } else if (a == "--savepoints") {
      o.savepoints = true;
    } else if (a == "--batch") {
      o.batch = std::max<std::size_t>(1, std::stoul(next()));
    } else {
      return usage(("unknown option " + a).c_str());
    }
  }
  if (o.cohort.empty() || o.db.empty()) return usage("--cohort and --db are required");
  std::optional<engine::lang> only;
  if (o.lang != "all") {
    only = engine::parse_lang(o.lang);
    if (!only) return usage("--lang must be fr, ar, en or all");
  }

  auto pack = cli::load_pack(o.rules);
  if (!pack) return 1;
  const auto& rules = pack->rules;
  std::vector<std::string> bodies;
  {
    std::ifstream in(o.cohort);
    std::string line;
    while (std::getline(in, line) && bodies.size() < o.count) {
      if (!line.empty()) bodies.push_back(line);
    }
  }
  if (bodies.empty()) return usage("the cohort has no record");
  std::string as_of;  // the latest application date, as bench-serve.sh's default
  for (const std::string& b : bodies) {
    auto k = b.find("\"application_date\":\"");
    if (k != std::string::npos) as_of = std::max(as_of, b.substr(k + 20, 10));
  }
  auto date = parse_date(as_of);
  if (!date) return usage("no application_date in the cohort");

  std::remove(o.db.c_str());
  for (const char* ext : {"-wal", "-shm"}) std::remove((o.db + ext).c_str());
  {
    auto db = store::open_sqlite(o.db);
    if (!db) return std::cerr << db.error().message << '\n', 1;
    if (auto s = (*db)->put_ruleset(rules->hash(), pack->canonical); !s) {
      return std::cerr << s.error().message << '\n', 1;
    }
  }
  auto cs = store::counter_store::open(o.db);
  if (!cs) return std::cerr << cs.error().message << '\n', 1;
  store::counter_store& w = **cs;

  std::string unknown;
  const std::vector<std::uint32_t> chosen =
      *engine::chosen_rules(rules->program(), {}, false, unknown);
  auto inst = engine::instantiate(rules, *date);
  engine::record_reader reader(rules->program());
  reader.set_as_of(*date);
  engine::record rec;
  engine::evaluator ev(inst);
  std::uint64_t next_id = 0;
  std::size_t answer_bytes = 0;

  auto run_pass = [&](stage_times& t) -> bool {
    std::vector<store::counter_decision> pending;
    std::vector<double> pending_start;
    auto flush = [&]() -> bool {
      const double t0 = now_us();
      bool ok = static_cast<bool>(w.begin());
      for (store::counter_decision& d : pending) {
        if (o.savepoints && !w.savepoint()) return false;
        if (auto s = w.put_decision(d); !s) {
          std::cerr << "put_decision: " << s.error().message << '\n';
          return false;
        }
        if (o.savepoints && !w.release()) return false;
      }
      ok = ok && static_cast<bool>(w.commit());
      const double share = (now_us() - t0) / static_cast<double>(pending.size());
      for (std::size_t i = 0; i < pending.size(); ++i) t.store.push_back(share);
      pending.clear();
      return ok;
    };
    for (const std::string& body : bodies) {
      const double t0 = now_us();
      engine::record_error err;
      if (!reader.read(body, rec, err)) {
        std::cerr << "a record does not read: " << err.field << ": " << err.message << '\n';
        return false;
      }
      store::counter_decision d;
      d.record_json = engine::canonical_json(body);
      d.input_hash = engine::sha256_hex(d.record_json);
      const double t1 = now_us();
      ev.set_record(rec);
      std::string out;
      out.reserve(o.trace ? 96 * 1024 : 48 * 1024);
      engine::evaluation_options eo;
      eo.with_trace = o.trace;
      eo.only = only;
      eo.compact_decisions = &d.outcomes;
      d.outcomes.reserve(chosen.size() * 160);
      engine::append_evaluation_json(out, ev, d.input_hash, chosen, eo);
      d.as_of = as_of;
      d.ruleset_hash = rules->hash();
      d.answer_digest = engine::sha256_hex(
          engine::compact_form(d.as_of, d.ruleset_hash, d.input_hash, d.outcomes));
      d.rules = "[";
      for (std::size_t i = 0; i < chosen.size(); ++i) {
        if (i) d.rules += ',';
        engine::append_json_string(d.rules, rules->program().rules[chosen[i]].qualified);
      }
      d.rules += ']';
      char id[40];
      std::snprintf(id, sizeof id, "%032llx", static_cast<unsigned long long>(++next_id));
      d.decision_id = id;
      d.applicant_id = std::string(rec.id());
      d.office = "bench";
      d.actor = "bench";
      d.trace = o.trace;
      out.pop_back();
      out += ",\"decision_id\":\"" + d.decision_id + "\",\"applicant\":";
      engine::append_json_string(out, d.applicant_id);
      out += ",\"office\":\"bench\"}";
      answer_bytes = out.size();
      const double t2 = now_us();
      t.read.push_back(t1 - t0);
      t.render.push_back(t2 - t1);
      pending.push_back(std::move(d));
      if (pending.size() >= o.batch && !flush()) return false;
    }
    return pending.empty() || flush();
  };

  stage_times warm;
  if (!run_pass(warm)) return 1;  // stores every record once
  std::vector<double> read_m, render_m, store_m, cpu_m;
  for (std::size_t p = 0; p < o.passes; ++p) {
    stage_times t;
    const double c0 = thread_cpu_us();
    if (!run_pass(t)) return 1;
    const double cpu = (thread_cpu_us() - c0) / static_cast<double>(bodies.size());
    read_m.push_back(median(t.read));
    render_m.push_back(median(t.render));
    store_m.push_back(median(t.store));
    cpu_m.push_back(cpu);
    std::printf(
        "pass %zu: read %.1f µs  render %.1f µs  store %.1f µs  (medians)  cpu %.1f µs/answer\n",
        p + 1, read_m.back(), render_m.back(), store_m.back(), cpu);
  }
  std::printf(
      "serve-path: %zu answers x %zu passes, lang %s, trace %s, batch %zu%s, answer %zu bytes\n"
      "median of passes: read %.1f µs, render %.1f µs, store %.1f µs, cpu %.1f µs/answer\n",
      bodies.size(), o.passes, o.lang.c_str(), o.trace ? "on" : "off", o.batch,
      o.savepoints ? " (a savepoint each)" : "", answer_bytes, median(read_m), median(render_m),
      median(store_m), median(cpu_m));
  return 0;
}
