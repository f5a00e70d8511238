// Import and batch orchestration over the store interface; evaluation in worker threads.
#include "store/batch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "dsl/checker.hpp"
#include "dsl/loader.hpp"
#include "dsl/parser.hpp"
#include "engine/block.hpp"
#include "engine/csv.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/limits.hpp"
#include "engine/record.hpp"
#include "engine/session.hpp"
#include "engine/sha256.hpp"
#include "store/counter_store.hpp"

namespace dalil::store {

std::vector<std::uint32_t> contract_rules(const dsl::program& program) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t r = 0; r < program.rules.size(); ++r) {
    if (!program.rules[r].explain.empty()) out.push_back(r);
  }
  return out;
}

namespace {

/// Opens `path` for reading when it is a regular file (dsl::open_regular_file: no read, no
/// blocking on a directory, pipe or device).
int open_regular_file(const std::string& path, std::string& error) {
  dsl::regular_file file = dsl::open_regular_file(path.c_str());
  if (file.why == dsl::regular_file::failure::cannot_open) {
    error = path + ": " + file.reason();
  } else if (file.why != dsl::regular_file::failure::none) {
    error = path + ": " + file.not_regular_reason() + " (only a regular file can be imported)";
  }
  return file.fd;
}

struct fd_closer {
  int fd;
  ~fd_closer() { ::close(fd); }
};

/// The failure that stopped an import: a store error, or a message about the file (`error`).
struct error_code_holder {
  std::optional<dalil::store::error> e;
  void set(const dalil::store::error& x) { e = x; }
  dalil::store::error take(const std::string& message) const {
    return e ? *e : fail(errc::failed, message);
  }
};

/// The most record bytes an import holds for a batch (import_session::batch_size) before storing
/// it, whatever the batch's count.
constexpr std::size_t import_batch_bytes = std::size_t{8} << 20;

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t") == std::string_view::npos;
}

}  // namespace

status import_file(store& db, const dsl::program& program, const std::string& path,
                   import_summary& s, const import_options& options) {
  std::string error;
  int fd = open_regular_file(path, error);
  if (fd < 0) return fail(errc::failed, error);
  fd_closer closer{fd};
  // Streamed block by block and cut into records by a splitter whose memory is bounded by the
  // record limit, whatever the file holds. The file's hash is computed over its bytes as they
  // are read and recorded when the import finishes.
  // CSV by its extension, in any case (cohort.CSV from a spreadsheet too); JSONL otherwise.
  bool csv = path.size() > 4 && std::equal(path.end() - 4, path.end(), ".csv", [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
             });
  auto session = db.begin_import(path, options);
  if (!session) return session.error();
  import_session& import = **session;
  error_code_holder failure;
  engine::sha256_stream file_hash;
  engine::record_splitter splitter(csv ? engine::record_splitter::format::csv
                                       : engine::record_splitter::format::lines);
  engine::record_reader reader(program);
  reader.set_as_of(engine::utc_today());  // `not_after as_of`: no past event after today
  reader.set_member_place(true);          // an unknown member's rejection says where it stands
  reader.set_intake(true);                // a record entering the store
  engine::record rec;
  std::vector<std::string> header;
  std::vector<std::string> cells;
  std::string json;
  bool have_header = false;
  std::int64_t csv_rows = 0;
  // Valid records wait here until the session's batch is full (one record at a time unless the
  // backend looks them up by the batch); their counts are taken when they are stored.
  const std::size_t batch = std::max<std::size_t>(1, import.batch_size());
  std::vector<incoming_record> pending;
  std::vector<put_result> results;
  std::size_t pending_bytes = 0;
  auto put_pending = [&] {  // false: the import stops, with `failure`
    if (pending.empty()) return true;
    if (auto st = import.put_records(pending, results); !st) {
      failure.set(st.error());
      return false;
    }
    for (put_result pr : results) {
      if (pr == put_result::stored) ++s.stored;
      if (pr == put_result::new_version) ++s.new_versions;
      if (pr == put_result::unchanged) ++s.unchanged;
    }
    pending.clear();
    pending_bytes = 0;
    return true;
  };
  std::unordered_set<std::size_t> ids_seen;
  auto handle = [&](const engine::raw_record& r) {  // false: the import stops, with `error`
    if (r.status == engine::raw_record::ok && (r.text.empty() || (!csv && blank(r.text)))) {
      return true;  // blank lines between records
    }
    if (csv && !have_header) {
      std::string where = path + ": line " + std::to_string(r.line) + ": the CSV header";
      engine::csv_error herr;
      if (r.status == engine::raw_record::unterminated) {
        error = where + " has a quoted cell that is never closed";
      } else if (r.status == engine::raw_record::too_long) {
        error =
            where + " is longer than " + std::to_string(engine::limits::record_bytes) + " bytes";
      } else if (!engine::split_csv_record(r.text, header, herr)) {
        error = where + ": " + herr.message;
      } else if (std::vector<std::string> none(header.size());
                 !engine::csv_row_to_json(program, header, none, json, herr)) {
        error = where + (herr.field.empty() ? "" : ": column '" + herr.field + "'") + ": " +
                herr.message;
      } else {
        have_header = true;
        return true;
      }
      return false;
    }
    ++s.rows;
    // JSONL rows are named by their line; CSV rows are counted after the header, and since a
    // quoted cell may span lines, their reasons also give the line the row starts on.
    std::int64_t row = csv ? ++csv_rows : r.line;
    auto reject = [&](const std::string& field, const std::string& reason) {
      std::string full = csv ? reason + " (line " + std::to_string(r.line) + ")" : reason;
      ++s.rejected;
      if (auto st = import.reject(row, field, full); !st) {
        failure.set(st.error());
        return false;
      }
      if (s.rejections.size() < 20) s.rejections.push_back({row, field, full});
      return true;
    };
    if (r.status == engine::raw_record::too_long) {
      return reject("", "the record is longer than " +
                            std::to_string(engine::limits::record_bytes) +
                            " bytes (the limit of one record)");
    }
    if (r.status == engine::raw_record::unterminated) {
      return reject("", "a quoted cell is never closed: the record runs to the end of the file");
    }
    std::string_view text = r.text;
    if (csv) {
      engine::csv_error cerr;
      if (!engine::split_csv_record(text, cells, cerr) ||
          !engine::csv_row_to_json(program, header, cells, json, cerr)) {
        return reject(cerr.field, cerr.message);
      }
      text = json;
    }
    engine::record_error rerr;
    if (!reader.read(text, rec, rerr)) return reject(rerr.field, rerr.message);
    std::string id(rec.id());
    if (const char* why = engine::id_problem(id)) return reject("id", why);
    // The ids seen in this file, by a 64-bit hash (never the ids themselves kept).
    if (!ids_seen.insert(std::hash<std::string_view>{}(id)).second) ++s.repeated;
    std::string canonical = engine::canonical_json(text);
    std::string hash = engine::sha256_hex(canonical);
    pending_bytes += canonical.size();
    pending.push_back({std::move(id), std::move(hash), std::move(canonical)});
    return pending.size() < batch && pending_bytes < import_batch_bytes ? true : put_pending();
  };
  std::vector<char> block(std::size_t{1} << 16);
  engine::raw_record r;
  for (;;) {
    ssize_t n = ::read(fd, block.data(), block.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errc::failed, "cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    std::string_view bytes(block.data(), static_cast<std::size_t>(n));
    file_hash.update(bytes);
    splitter.feed(bytes);
    while (splitter.next(r)) {
      if (!handle(r)) return failure.take(error);
    }
  }
  if (splitter.finish(r) && !handle(r)) return failure.take(error);
  if (!put_pending()) return failure.take(error);
  // The session's guard rolls the import back on every return above.
  return import.finish(file_hash.hex(), s.rows, s.stored + s.new_versions, s.unchanged, s.rejected);
}

namespace {

/// A record that no longer fits the ruleset's schema: accounted for, never dropped.
void record_error_set(decision_set& out, const engine::record_error& err) {
  out.decisions_json = "{\"error\":{\"field\":";
  engine::append_json_string(out.decisions_json, err.field);
  out.decisions_json += ",\"message\":";
  engine::append_json_string(out.decisions_json, err.message);
  out.decisions_json += "}}";
  out.trace_digest = engine::sha256(out.decisions_json);
  out.decisions_digest = out.trace_digest;
  out.trace_json.clear();
}

/// Whether `d` is a set record_error_set wrote (no decision: the record no longer fits).
bool is_record_error_set(const decision_set& d) {
  return d.decisions_json.starts_with("{\"error\":");
}

/// The record's content hash as bytes. A stored hash that is not 64 hex digits was altered
/// behind the tool's back: the decision set says so rather than vouch for an unknown input.
bool read_content_hash(const stored_record& rec, decision_set& out) {
  if (auto d = engine::digest::from_hex(rec.content_hash)) {
    out.input_hash = *d;
    return true;
  }
  out.input_hash = engine::digest{};
  record_error_set(out, engine::record_error{"content_hash",
                                             "the stored content hash is not a SHA-256 (64 hex "
                                             "digits): the record was altered; run dalil audit "
                                             "verify"});
  return false;
}

void append_number(std::string& out, std::uint64_t n) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, n).ptr);
}

/// One [status, value, provisional, missing] entry of the compact form, with a 5th element 0
/// when the rule is not in force (decision_format 2).
void append_entry(std::string& out, const dsl::program& p, std::uint32_t rule, bool decided,
                  const engine::value& v, bool provisional, const std::vector<std::string>& missing,
                  bool in_force) {
  out += decided ? "[\"d\"," : "[\"u\",";
  engine::append_value_json(out, p, p.rules[rule].t, v);
  out += provisional ? ",1,[" : ",0,[";
  for (std::size_t m = 0; m < missing.size(); ++m) {
    if (m) out += ',';
    engine::append_json_string(out, missing[m]);
  }
  out += in_force ? "]]" : "],0]";
}

/// The rules a trace digest covers, with the label that names each one in the digest input.
struct covered_rules {
  std::vector<std::uint32_t> rules;
  std::vector<std::string> labels;  // "|index="

  explicit covered_rules(std::vector<std::uint32_t> covered) : rules(std::move(covered)) {
    for (std::uint32_t r : rules) {
      std::string label = "|";
      append_number(label, r);
      labels.push_back(label + '=');
    }
  }
};

/// The trace digest: the ruleset, the date and the record (whose facts and parameter values the
/// trace shows) bound to each covered rule's value and the exception that fired.
/// Format: hash|as_of|content_hash then |index=value[!exception] per covered rule.
template <typename Value, typename Fired>
engine::digest trace_digest(const engine::instance& inst, const engine::digest& content_hash,
                            const covered_rules& covered, Value&& value_of, Fired&& fired_of) {
  const dsl::program& p = inst.rules->program();
  thread_local std::string in;  // reused: the digest input is rebuilt for every record
  in.clear();
  in += inst.rules->hash();
  in += '|';
  in += to_string(inst.as_of);
  in += '|';
  content_hash.append_hex(in);
  // A rule is named by its index: the ruleset hash above fixes which rule each index is.
  for (std::size_t k = 0; k < covered.rules.size(); ++k) {
    std::uint32_t r = covered.rules[k];
    in += covered.labels[k];
    engine::append_value_json(in, p, p.rules[r].t, value_of(r));
    if (int x = fired_of(r); x >= 0) {
      in += '!';
      append_number(in, static_cast<std::uint64_t>(x));
    }
  }
  return engine::sha256(in);
}

/// For each of `rules`, the facts whose absence can leave it undetermined: those it reads and
/// those read by the rules it reads, stopping at rules not in force on the instance's date (their
/// cause is the date, never a fact). A record where none of these facts is unknown has an empty
/// list of missing facts, so the record-at-a-time evaluator need not look for them.
std::vector<std::vector<std::uint32_t>> facts_behind(const engine::instance& inst,
                                                     const std::vector<std::uint32_t>& rules) {
  const engine::ruleset& rs = *inst.rules;
  const dsl::program& p = rs.program();
  std::vector<std::vector<std::uint32_t>> reach(p.rules.size());
  for (std::uint32_t r : p.rule_order) {  // dependencies first
    if (!inst.in_force[r]) continue;
    std::vector<std::uint32_t> all = rs.facts_of(r);
    for (std::uint32_t d : p.rules[r].rules_read) {
      all.insert(all.end(), reach[d].begin(), reach[d].end());
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    reach[r] = std::move(all);
  }
  std::vector<std::vector<std::uint32_t>> out;
  out.reserve(rules.size());
  for (std::uint32_t r : rules) out.push_back(reach[r]);
  return out;
}

bool any_unknown(const engine::record& rec, const std::vector<std::uint32_t>& facts) {
  for (std::uint32_t f : facts) {
    if (rec.facts[f].unknown()) return true;
  }
  return false;
}

/// What a thread keeps from one call to the next for one instance and rule list, so that a run
/// builds it once: the record reader and buffers, the record-at-a-time evaluator, the rules the
/// trace digest covers, and (for block evaluation, on first use) the block evaluator.
struct scratch {
  std::shared_ptr<const engine::instance> inst;
  std::vector<std::uint32_t> rules;
  std::unique_ptr<engine::record_reader> reader;
  std::vector<engine::record> buffers;  // one per record of a block
  std::unique_ptr<engine::evaluator> ev;
  std::unique_ptr<covered_rules> covered;  // the contract rules and every rule they read
  std::unique_ptr<engine::block_evaluator> block;
  std::vector<std::vector<std::uint32_t>> behind;  // facts_behind(rules), with the block
  std::vector<std::uint32_t> missing;
  std::vector<std::string> paths;
};

scratch& scratch_for(const std::shared_ptr<const engine::instance>& inst,
                     const std::vector<std::uint32_t>& rules) {
  thread_local scratch s;
  if (s.inst != inst || s.rules != rules) {
    s = scratch{};
    s.inst = inst;
    s.rules = rules;
    s.reader = std::make_unique<engine::record_reader>(inst->rules->program());
    s.reader->set_intake(false);  // stored records, read as they were stored
    // No as-of date for the reader: stored records were checked against the import date
    // (`not_after as_of`), and a batch date is often a what-if date before recent events
    // ("who would have qualified in 2014?"); at_least and at_most are always checked.
    s.buffers.resize(engine::block_evaluator::block_size);
    s.ev = std::make_unique<engine::evaluator>(inst);
    s.covered = std::make_unique<covered_rules>(inst->rules->closure_of(rules));
  }
  return s;
}

}  // namespace

decision_set evaluate_record(const std::shared_ptr<const engine::instance>& inst,
                             const std::vector<std::uint32_t>& rules, const stored_record& rec,
                             bool keep_trace) {
  scratch& s = scratch_for(inst, rules);
  engine::evaluator& ev = *s.ev;
  engine::record& buffer = s.buffers[0];
  const dsl::program& p = inst->rules->program();
  decision_set out;
  out.record_id = rec.record_id;
  out.applicant_id = rec.applicant_id;
  out.format = decision_format;
  if (!read_content_hash(rec, out)) return out;
  engine::record_error err;
  if (!s.reader->read(rec.json, buffer, err)) {
    record_error_set(out, err);
    return out;
  }
  ev.set_record(buffer);
  // Compact: one [status, value, provisional, missing] per contract rule, in rule order; the
  // rule names come from the ruleset (expand_decisions gives the verbose form).
  out.decisions_json.reserve(32 * rules.size() + 64);
  out.decisions_json = "[";
  for (std::size_t i = 0; i < rules.size(); ++i) {
    engine::decision d = engine::decide(ev, rules[i], false);
    if (i) out.decisions_json += ',';
    append_entry(out.decisions_json, p, rules[i], d.decided, d.v, d.provisional, d.missing,
                 d.in_force);
  }
  out.decisions_json += ']';
  out.trace_digest = trace_digest(
      *inst, out.input_hash, *s.covered, [&](std::uint32_t r) { return ev.rule(r); },
      [&](std::uint32_t r) { return ev.fired_exception(r); });
  out.decisions_digest = engine::sha256(out.decisions_json);
  if (keep_trace) {
    // One trace for the whole decision set: every rule evaluated for the record, once each, in
    // dependency order (the decisions share most of their steps).
    engine::decision all;
    for (std::uint32_t r : p.rule_order) {
      if (ev.evaluated(r)) all.steps.push_back(r);
    }
    engine::append_trace_json(out.trace_json, ev, all, false);
  }
  return out;
}

void evaluate_records(const std::shared_ptr<const engine::instance>& inst,
                      const std::vector<std::uint32_t>& rules, const stored_record* recs,
                      std::size_t n, decision_set* out) {
  // The block evaluator gives every decided value; the record-at-a-time evaluator only what a
  // block cannot give: the missing facts of undetermined decisions.
  constexpr std::size_t B = engine::block_evaluator::block_size;
  scratch& s = scratch_for(inst, rules);
  if (!s.block) {
    s.block = std::make_unique<engine::block_evaluator>(inst, rules);
    s.behind = facts_behind(*inst, rules);
  }
  engine::block_evaluator& block = *s.block;
  const dsl::program& p = inst->rules->program();
  static const std::vector<std::string> none;
  const engine::value* rows[B];
  std::size_t index[B];
  for (std::size_t first = 0; first < n;) {
    std::size_t k = 0;
    for (; first < n && k < B; ++first) {
      decision_set& o = out[first];
      o.record_id = recs[first].record_id;
      o.applicant_id = recs[first].applicant_id;
      // The slot is reused from chunk to chunk: nothing of the last set's sealing stays.
      o.sealed_decisions.clear();
      o.values_sealed = false;
      o.format = decision_format;
      if (!read_content_hash(recs[first], o)) continue;
      engine::record_error err;
      if (!s.reader->read(recs[first].json, s.buffers[k], err)) {
        record_error_set(o, err);
        continue;
      }
      rows[k] = s.buffers[k].facts.data();
      index[k++] = first;
    }
    block.run(rows, k);
    for (std::size_t j = 0; j < k; ++j) {
      decision_set& o = out[index[j]];
      bool scalar_ready = false;
      o.decisions_json = "[";
      for (std::size_t i = 0; i < rules.size(); ++i) {
        if (i) o.decisions_json += ',';
        engine::value v = block.get(rules[i], j);
        bool provisional = block.provisional(rules[i], j);
        bool in_force = inst->in_force[rules[i]] != 0;
        if (!v.unknown() || !any_unknown(s.buffers[j], s.behind[i])) {
          append_entry(o.decisions_json, p, rules[i], !v.unknown(), v, provisional, none, in_force);
          continue;
        }
        if (!scalar_ready) {
          s.ev->set_record(s.buffers[j]);
          scalar_ready = true;
        }
        s.ev->missing_facts(rules[i], s.missing);
        // Listed by path, as decide() lists them.
        std::sort(s.missing.begin(), s.missing.end(), [&](std::uint32_t a, std::uint32_t b) {
          return p.facts[a].path < p.facts[b].path;
        });
        s.paths.clear();
        for (std::uint32_t f : s.missing) s.paths.push_back(p.facts[f].path);
        append_entry(o.decisions_json, p, rules[i], false, v, provisional, s.paths, in_force);
      }
      o.decisions_json += ']';
      o.trace_digest = trace_digest(
          *inst, o.input_hash, *s.covered, [&](std::uint32_t r) { return block.get(r, j); },
          [&](std::uint32_t r) { return block.fired_exception(r, j); });
      o.decisions_digest = engine::sha256(o.decisions_json);
      o.trace_json.clear();
    }
  }
}

namespace {

void show_progress(bool terminal, std::int64_t done, std::int64_t total, double seconds) {
  double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
  if (terminal) {
    int width = 30;
    int filled = total > 0 ? static_cast<int>(width * done / total) : width;
    std::fprintf(stderr, "\r[%-*s] %lld/%lld  %.0f rec/s  ETA %.0fs ", width,
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), rate, eta);
  } else {
    std::fprintf(stderr, "batch: %lld/%lld records, %.0f rec/s\n", static_cast<long long>(done),
                 static_cast<long long>(total), rate);
  }
}

}  // namespace

status run_batch(store& db, const std::shared_ptr<const engine::ruleset>& rules,
                 const std::string& canonical_source, const batch_options& o,
                 batch_summary& summary) {
  if (o.threads > max_batch_threads) {
    return fail(errc::refused, "--threads is " + std::to_string(o.threads) + ": at most " +
                                   std::to_string(max_batch_threads) + " evaluation threads");
  }
  std::vector<std::uint32_t> chosen = contract_rules(rules->program());
  if (chosen.empty()) {
    return fail(errc::refused,
                "the rule pack has no contract decision (no rule with an explanation): a run "
                "would decide nothing for anyone; check --rules");
  }
  auto matching = db.count_matching(o.filter);
  if (!matching) return matching.error();
  if (*matching == 0) {
    auto all = db.count_records();
    if (!all) return all.error();
    if (*all == 0) {
      return fail(errc::refused, "the store holds no applicant record: import a cohort first");
    }
    return fail(errc::refused, "no applicant matches --where on " + filter_fields(o.filter) +
                                   " (of " + std::to_string(*all) + " stored): no run was started");
  }
  if (auto s = db.put_ruleset(rules->hash(), canonical_source); !s) return s;
  auto opened = db.open_run(rules->hash(), to_string(o.as_of), o.filter, o.shard);
  if (!opened) return opened.error();
  const run_info& run = *opened;
  summary.run_id = run.run_id;
  summary.generation = run.generation;
  summary.resumed = run.resumed;
  if (run.status == "complete") {
    // The key's complete run still decides every latest matching record: nothing to do.
    summary.already_complete = true;
    auto total = db.count_decisions(run.run_id);
    if (!total) return total.error();
    summary.total = *total;
    return {};
  }
  // From here the lease is held: released on every failure (a killed process leaves it to expire).
  struct lease_guard {
    store& db;
    const run_info& run;
    bool done = false;
    ~lease_guard() {
      if (!done) (void)db.release_lease(run);
    }
  } guard{db, run};
  auto pending_count = db.count_pending(run.run_id, o.filter, o.shard);
  if (!pending_count) return pending_count.error();
  std::int64_t pending = *pending_count;
  auto inst = engine::instantiate(rules, o.as_of);
  // Which decisions' values an encrypted store may keep in plain, by their rules' types.
  const std::vector<std::uint8_t> plain_values = plain_value_mask(rules->program(), chosen);
  bool terminal = o.progress && isatty(STDERR_FILENO);
  unsigned threads = std::max(1u, o.threads);
  auto t0 = std::chrono::steady_clock::now();
  // A pipeline of three stages that overlap: this thread reads chunk k+1 while the workers
  // evaluate chunk k and a writer thread, on its own connection, commits chunk k-1. One chunk
  // waits for the writer at most: memory is flat whatever the cohort size.
  auto reopened = db.reopen();
  if (!reopened) return reopened.error();
  std::unique_ptr<store> writer_db = std::move(*reopened);
  std::mutex m;
  std::condition_variable cv;
  std::vector<decision_set> handoff;  // a chunk waiting for the writer
  bool handoff_full = false;
  bool closing = false;
  bool write_failed = false;
  dalil::store::error write_error;
  std::thread writer([&] {
    std::vector<decision_set> mine;
    while (true) {
      bool skip = false;
      {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return handoff_full || closing; });
        if (!handoff_full) return;
        mine.swap(handoff);
        handoff_full = false;
        // After a failed chunk nothing more is written: the run stops at its first gap, and a
        // resumed run starts from there.
        skip = write_failed;
      }
      cv.notify_all();
      if (skip) continue;
      status written = writer_db->write_decisions(run, mine);
      bool ok = written.has_value();
      std::int64_t unfit = 0;
      for (const decision_set& d : mine) unfit += is_record_error_set(d) ? 1 : 0;
      std::lock_guard<std::mutex> lock(m);
      if (!ok && !write_failed) {
        write_failed = true;
        write_error = written.error();
        cv.notify_all();  // the reading thread may be waiting to hand over the next chunk
      }
      if (ok) {
        summary.processed += static_cast<std::int64_t>(mine.size());
        summary.unfit += unfit;
      }
      if (o.progress) {
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        show_progress(terminal, summary.processed, pending, s);
      }
    }
  });
  auto hand_over = [&](std::vector<decision_set>& sets) {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return !handoff_full || write_failed; });
    if (write_failed) return false;
    handoff.swap(sets);
    handoff_full = true;
    cv.notify_all();
    return true;
  };
  auto finish_writer = [&] {
    {
      std::lock_guard<std::mutex> lock(m);
      closing = true;
    }
    cv.notify_all();
    writer.join();
  };
  std::vector<stored_record> current;
  std::vector<stored_record> next;
  std::vector<decision_set> sets;
  // Evaluation workers live for the whole run (their evaluators and buffers are built once) and
  // take blocks of records from the current chunk. This thread reads the next chunk meanwhile,
  // then takes blocks too: no core idles while there is evaluation left.
  std::atomic<std::size_t> next_block{0};
  std::optional<error> open_error;  // a record that did not open: the run stops before its chunk
  bool stopping = false;
  std::barrier<> start(static_cast<std::ptrdiff_t>(threads) + 1);
  std::barrier<> done(static_cast<std::ptrdiff_t>(threads) + 1);
  auto drain = [&] {
    constexpr std::size_t B = engine::block_evaluator::block_size;
    for (;;) {
      std::size_t begin = next_block.fetch_add(1, std::memory_order_relaxed) * B;
      if (begin >= current.size()) return;
      std::size_t end = std::min(current.size(), begin + B);
      // An encrypted store's records are opened here, by every evaluating thread.
      for (std::size_t i = begin; i < end; ++i) {
        if (current[i].sealed.empty()) continue;
        if (auto opened = db.open_record(current[i]); !opened) {
          std::lock_guard<std::mutex> lock(m);
          if (!open_error) open_error = opened.error();
          return;
        }
      }
      if (o.store_traces) {  // full traces come from the record-at-a-time evaluator
        for (std::size_t i = begin; i < end; ++i) {
          sets[i] = evaluate_record(inst, chosen, current[i], true);
        }
      } else {
        evaluate_records(inst, chosen, current.data() + begin, end - begin, sets.data() + begin);
      }
      // In an encrypted store, the trace and the decisions' values sealed under the applicant's
      // data key as their record is (a plain store's records have no wrapped key).
      for (std::size_t i = begin; i < end; ++i) {
        if (current[i].wrapped.empty()) continue;
        if (auto sealed = db.seal_decisions(current[i], run.run_id, sets[i], plain_values);
            !sealed) {
          std::lock_guard<std::mutex> lock(m);
          if (!open_error) open_error = sealed.error();
          return;
        }
      }
    }
  };
  std::vector<std::thread> workers;
  workers.reserve(threads);
  try {
    for (unsigned t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (;;) {
          start.arrive_and_wait();
          if (stopping) return;
          drain();
          done.arrive_and_wait();
        }
      });
    }
  } catch (const std::system_error& e) {
    // The system gave fewer threads than asked (a process limit): the ones started are let go
    // (the missing ones drop out of the barrier), the writer ends, nothing was written; the run
    // resumes with fewer --threads.
    stopping = true;
    for (std::size_t missing = workers.size(); missing < threads; ++missing) {
      start.arrive_and_drop();
    }
    start.arrive_and_wait();
    for (auto& w : workers) w.join();
    finish_writer();
    return fail(errc::failed, "starting evaluation thread " + std::to_string(workers.size() + 1) +
                                  " of " + std::to_string(threads) + " failed (" + e.what() +
                                  "): run the batch again with fewer --threads");
  }
  std::int64_t after = 0;
  status read = db.next_pending(run.run_id, o.filter, o.shard, after, o.chunk, current);
  while (read && !current.empty()) {
    sets.resize(current.size());  // overwritten in place: the strings keep their capacity
    next_block = 0;
    start.arrive_and_wait();
    after = current.back().record_id;
    read = db.next_pending(run.run_id, o.filter, o.shard, after, o.chunk, next);
    drain();
    done.arrive_and_wait();
    if (open_error) break;
    if (read && !hand_over(sets)) break;  // the writer failed: its error is reported
    current.swap(next);
  }
  stopping = true;
  start.arrive_and_wait();
  for (auto& w : workers) w.join();
  finish_writer();
  if (terminal) std::fprintf(stderr, "\n");
  if (write_failed) return write_error;
  if (open_error) return *open_error;
  if (!read) return read;
  // Every applicant (of the shard) decided? (A record imported past the lease would show here,
  // never doubled.)
  auto left = db.count_pending(run.run_id, o.filter, o.shard);
  if (!left) return left.error();
  if (*left != 0) {
    return fail(errc::failed, std::to_string(*left) +
                                  " records were left undecided (changed during the run?): run "
                                  "the batch again to finish run " +
                                  std::to_string(run.run_id));
  }
  auto finished = db.finish_run(run, o.filter);
  if (!finished) return finished.error();
  guard.done = true;
  summary.completed = *finished;
  auto total = db.count_decisions(run.run_id);
  if (!total) return total.error();
  summary.total = *total;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {};
}

}  // namespace dalil::store

namespace dalil::store {

namespace {

std::size_t skip_space(std::string_view t, std::size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  return i;
}

/// The end of the JSON value that starts at `i` (one past it; for a scalar, the white space,
/// ',' or closing bracket that follows it); t.size() when it does not end. The text is a stored
/// record or compact decisions: well formed.
std::size_t skip_value(std::string_view t, std::size_t i) {
  if (i >= t.size()) return t.size();
  if (t[i] == '"') {
    for (++i; i < t.size(); ++i) {
      if (t[i] == '\\') {
        ++i;
      } else if (t[i] == '"') {
        return i + 1;
      }
    }
    return t.size();
  }
  if (t[i] == '{' || t[i] == '[') {
    int depth = 0;
    bool in_string = false;
    for (; i < t.size(); ++i) {
      char c = t[i];
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return t.size();
  }
  while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\n' &&
         t[i] != '\t' && t[i] != '\r') {
    ++i;
  }
  return i;
}

}  // namespace

std::vector<std::uint8_t> plain_value_mask(const dsl::program& p,
                                           const std::vector<std::uint32_t>& rules) {
  std::vector<std::uint8_t> out;
  out.reserve(rules.size());
  for (std::uint32_t r : rules) {
    if (r >= p.rules.size()) {  // no such rule (dsl::no_index): no type known
      out.push_back(0);
      continue;
    }
    dsl::kind k = p.rules[r].t.k;
    out.push_back(
        k == dsl::kind::boolean || k == dsl::kind::enumeration || k == dsl::kind::null_type ? 1
                                                                                            : 0);
  }
  return out;
}

std::vector<std::uint8_t> plain_value_mask_of(std::string_view plain) {
  std::vector<std::uint8_t> out;
  for (std::string_view entry : split_json_array(plain)) {
    std::vector<std::string_view> f = split_json_array(entry);
    out.push_back(f.size() >= 2 && f[1] == "\"sealed\"" ? 0 : 1);
  }
  return out;
}

bool plain_decisions(std::string_view compact, std::string& out, std::string* values,
                     std::span<const std::uint8_t> plain_values) {
  const std::size_t n = compact.size();
  if (n < 2 || compact.front() != '[') return false;
  std::size_t copied = 0;  // compact[0, copied) is in `out`
  std::size_t i = 1;
  std::size_t index = 0;
  while (i < n && compact[i] == '[') {  // an entry: [status, value, …]
    std::size_t status_end = skip_value(compact, i + 1);
    if (status_end >= n || compact[status_end] != ',') return false;
    std::size_t start = status_end + 1;
    std::size_t end = skip_value(compact, start);
    if (end >= n) return false;
    std::string_view value = compact.substr(start, end - start);
    bool plain = value == "true" || value == "false" || value == "null" ||
                 (index < plain_values.size() && plain_values[index] != 0);
    if (!plain) {
      if (copied == 0) {
        out.clear();
        out.reserve(n);
        if (values != nullptr) values->assign(1, '[');
      }
      out.append(compact.substr(copied, start - copied));
      out += "\"sealed\"";
      copied = end;
      if (values != nullptr) {
        if (values->size() > 1) *values += ',';
        *values += '[';
        append_number(*values, static_cast<std::uint64_t>(index));
        *values += ',';
        values->append(value);
        *values += ']';
      }
    }
    // Past the entry: its closing bracket follows its last element.
    std::size_t rest = end;
    while (rest < n && compact[rest] == ',') rest = skip_value(compact, rest + 1);
    if (rest >= n || compact[rest] != ']') return false;
    i = rest + 1;
    ++index;
    if (i < n && compact[i] == ',') ++i;
  }
  if (copied == 0) return false;
  out.append(compact.substr(copied));
  if (values != nullptr) *values += ']';
  return true;
}

bool whole_decisions(std::string_view plain, std::string_view values, std::string& out) {
  std::vector<std::string_view> pairs = split_json_array(values);
  if (pairs.empty() || plain.size() < 2 || plain.front() != '[') return false;
  out.clear();
  out.reserve(plain.size() + values.size());
  std::size_t next = 0;  // the next pair to put back
  std::size_t copied = 0;
  std::size_t i = 1;
  std::size_t index = 0;
  const std::size_t n = plain.size();
  while (i < n && plain[i] == '[' && next < pairs.size()) {
    std::size_t status_end = skip_value(plain, i + 1);
    if (status_end >= n || plain[status_end] != ',') return false;
    std::size_t start = status_end + 1;
    std::size_t end = skip_value(plain, start);
    if (end >= n) return false;
    std::vector<std::string_view> pair = split_json_array(pairs[next]);
    if (pair.size() != 2) return false;
    if (pair[0] == std::to_string(index)) {
      if (plain.substr(start, end - start) != "\"sealed\"") return false;
      out.append(plain.substr(copied, start - copied));
      out.append(pair[1]);
      copied = end;
      ++next;
    }
    std::size_t rest = end;
    while (rest < n && plain[rest] == ',') rest = skip_value(plain, rest + 1);
    if (rest >= n || plain[rest] != ']') return false;
    i = rest + 1;
    ++index;
    if (i < n && plain[i] == ',') ++i;
  }
  if (next != pairs.size()) return false;
  out.append(plain.substr(copied));
  return true;
}

std::vector<std::string_view> split_json_array(std::string_view text) {
  std::vector<std::string_view> out;
  int depth = 0;
  bool in_string = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth == 1) start = i + 1;
    } else if (c == ']' || c == '}') {
      if (depth-- == 1 && i > start) out.push_back(text.substr(start, i - start));
    } else if (c == ',' && depth == 1) {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::shared_ptr<const engine::ruleset> stored_ruleset(const std::string& hash,
                                                      const std::string& source,
                                                      std::string& diagnostics) {
  dsl::source_map sources;
  dsl::diagnostics diags;
  diags.set_accepted_before(true);  // it decided once: what it meant then is what it means
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
  if (!program || diags.warning_count() > 0) diagnostics = dsl::render_all(sources, diags);
  if (!program) return nullptr;
  return engine::build_ruleset(sources, modules, std::move(*program));
}

run_decisions describe_run(const std::shared_ptr<const engine::ruleset>& rules, date as_of) {
  run_decisions out;
  auto inst = engine::instantiate(rules, as_of);
  for (std::uint32_t r : contract_rules(rules->program())) {
    out.names.push_back(rules->program().rules[r].qualified);
    out.in_force.push_back(inst->in_force[r]);
    out.rule_provisional.push_back(rules->program().rules[r].provisional ? 1 : 0);
  }
  return out;
}

bool read_decisions(std::string_view compact, int format, const std::vector<std::uint8_t>& in_force,
                    std::vector<decision_entry>& out) {
  out.clear();
  if (compact.empty() || compact.front() != '[') return false;  // {"error":…}
  std::vector<std::string_view> items = split_json_array(compact);
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::vector<std::string_view> f = split_json_array(items[i]);
    if (f.size() < 4 || f.size() > 5 || (f[0] != "\"d\"" && f[0] != "\"u\"")) return false;
    decision_entry e;
    e.decided = f[0] == "\"d\"";
    e.value = f[1];
    e.provisional = f[2] == "1";
    e.missing = f[3];
    if (format == 1) {
      if (f.size() != 4) return false;
      e.in_force = i >= in_force.size() || in_force[i] != 0;
    } else {
      if (f.size() == 5 && f[4] != "0") return false;
      e.in_force = f.size() == 4;
    }
    out.push_back(e);
  }
  return true;
}

std::string to_format_1(std::string_view compact, const run_decisions& run) {
  std::vector<decision_entry> entries;
  if (!read_decisions(compact, decision_format, {}, entries)) return std::string(compact);
  std::string out = "[";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const decision_entry& e = entries[i];
    if (i) out += ',';
    out += e.decided ? "[\"d\"," : "[\"u\",";
    out += e.value;
    bool provisional =
        i < run.rule_provisional.size() ? run.rule_provisional[i] != 0 : e.provisional;
    out += provisional ? ",1," : ",0,";
    out += e.missing;
    out += ']';
  }
  return out + "]";
}

std::string expand_decisions(std::string_view compact, int format, const run_decisions& run) {
  std::vector<decision_entry> entries;
  if (!read_decisions(compact, format, run.in_force, entries)) return std::string(compact);
  std::string out = "[";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const decision_entry& e = entries[i];
    if (i) out += ',';
    out += "{\"rule\":";
    engine::append_json_string(out, i < run.names.size() ? run.names[i] : "?");
    out += e.decided ? ",\"status\":\"decided\"" : ",\"status\":\"undetermined\"";
    out += ",\"value\":";
    out += e.value;
    out += e.provisional ? ",\"provisional\":true" : ",\"provisional\":false";
    out += e.in_force ? ",\"in_force\":true" : ",\"in_force\":false";
    out += ",\"missing\":";
    out += e.missing;
    out += "}";
  }
  return out + "]";
}

void run_counts::add(const decision_set& d, const std::vector<std::uint8_t>& in_force) {
  ++sets;
  thread_local std::vector<decision_entry> entries;
  if (!read_decisions(d.decisions_json, d.format, in_force, entries)) {
    ++errors;
    return;
  }
  if (decisions.size() < entries.size()) decisions.resize(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const decision_entry& e = entries[i];
    outcome_counts& c = decisions[i];
    if (e.in_force) {
      if (e.decided) {
        ++c.values[std::string(e.value)];
      } else {
        ++c.undetermined;
      }
    } else {
      ++c.out_of_force;
      if (e.decided) {
        ++c.out_of_force_values[std::string(e.value)];
      } else {
        ++c.out_of_force_undetermined;
      }
    }
  }
}

namespace {

/// The rule a trace step is about: the text of its leading "rule" member.
std::string_view step_rule(std::string_view step) {
  constexpr std::string_view key = "{\"rule\":\"";
  if (step.substr(0, key.size()) != key) return {};
  step.remove_prefix(key.size());
  return step.substr(0, step.find('"'));
}

std::string_view trace_steps(std::string_view trace) {
  for (std::string_view member : split_json_array(trace)) {
    constexpr std::string_view key = "\"steps\":";
    if (member.substr(0, key.size()) == key) return member.substr(key.size());
  }
  return {};
}

}  // namespace

std::vector<difference> diff_decisions(std::string_view stored, int stored_format,
                                       std::string_view replayed, int replayed_format,
                                       const run_decisions& run) {
  std::vector<difference> out;
  std::vector<decision_entry> ea;
  std::vector<decision_entry> eb;
  if (!read_decisions(stored, stored_format, run.in_force, ea) ||
      !read_decisions(replayed, replayed_format, run.in_force, eb)) {
    // A record that did not fit the schema on one side (or fits it on one side only): the whole
    // set differs, each side as it is.
    if (stored != replayed) {
      out.push_back(
          {"the whole decision set", std::string(stored), std::string(replayed),
           "the record does not fit the schema on one side (or not for the same reason)"});
    }
    return out;
  }
  // The views below point into these.
  const std::string sa = expand_decisions(stored, stored_format, run);
  const std::string sb = expand_decisions(replayed, replayed_format, run);
  std::vector<std::string_view> a = split_json_array(sa);
  std::vector<std::string_view> b = split_json_array(sb);
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    std::string_view x = i < a.size() ? a[i] : std::string_view();
    std::string_view y = i < b.size() ? b[i] : std::string_view();
    if (x == y) continue;
    std::string_view named = step_rule(x.empty() ? y : x);
    std::string what;
    if (i < ea.size() && i < eb.size()) {
      const decision_entry& p = ea[i];
      const decision_entry& q = eb[i];
      auto part = [&what](const std::string& text) { what += (what.empty() ? "" : "; ") + text; };
      auto flag = [](bool f) { return f ? std::string("true") : std::string("false"); };
      auto status = [](bool d) { return d ? std::string("decided") : std::string("undetermined"); };
      if (p.decided != q.decided) part("status " + status(p.decided) + " → " + status(q.decided));
      if (p.value != q.value) {
        part("value " + std::string(p.value) + " → " + std::string(q.value));
      }
      if (p.provisional != q.provisional) {
        part("provisional " + flag(p.provisional) + " → " + flag(q.provisional));
      }
      if (p.in_force != q.in_force) part("in_force " + flag(p.in_force) + " → " + flag(q.in_force));
      if (p.missing != q.missing) part("missing facts changed");
      if (p.decided == q.decided && p.value == q.value) part("value unchanged");
    }
    out.push_back({named.empty() ? "decision " + std::to_string(i + 1) : std::string(named),
                   std::string(x), std::string(y), what});
  }
  return out;
}

std::vector<difference> diff_traces(std::string_view stored, std::string_view replayed) {
  std::vector<std::string_view> a = split_json_array(trace_steps(stored));
  std::vector<std::string_view> b = split_json_array(trace_steps(replayed));
  std::vector<difference> out;
  std::vector<std::uint8_t> matched(b.size(), 0);
  for (std::string_view x : a) {
    std::string_view rule = step_rule(x);
    auto it =
        std::find_if(b.begin(), b.end(), [&](std::string_view y) { return step_rule(y) == rule; });
    if (it == b.end()) {
      out.push_back({std::string(rule), std::string(x), "", ""});
      continue;
    }
    matched[static_cast<std::size_t>(it - b.begin())] = 1;
    if (*it != x) out.push_back({std::string(rule), std::string(x), std::string(*it), ""});
  }
  for (std::size_t k = 0; k < b.size(); ++k) {
    if (!matched[k]) out.push_back({std::string(step_rule(b[k])), "", std::string(b[k]), ""});
  }
  return out;
}

namespace {

std::uint32_t hex4(std::string_view t, std::size_t i) {
  std::uint32_t v = 0;
  if (i + 4 > t.size() ||
      std::from_chars(t.data() + i, t.data() + i + 4, v, 16).ptr != t.data() + i + 4) {
    return 0xFFFD;
  }
  return v;
}

/// The text of a JSON string's inside (between its quotes), escapes resolved.
std::string unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\' || i + 1 >= raw.size()) {
      out += c;
      continue;
    }
    char e = raw[++i];
    switch (e) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        std::uint32_t cp = hex4(raw, i + 1);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < raw.size() && raw[i + 1] == '\\' &&
            raw[i + 2] == 'u') {
          std::uint32_t low = hex4(raw, i + 3);
          if (low >= 0xDC00 && low < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
          }
        }
        engine::append_utf8(out, cp);
        break;
      }
      default:
        out += e;  // \" \\ \/
    }
  }
  return out;
}

/// The value of member `key` of the JSON object `object`; nullopt when it has none.
std::optional<std::string_view> member(std::string_view object, std::string_view key) {
  std::size_t i = skip_space(object, 0);
  if (i >= object.size() || object[i] != '{') return std::nullopt;
  i = skip_space(object, i + 1);
  while (i < object.size() && object[i] == '"') {
    std::size_t key_end = skip_value(object, i);
    std::string_view raw = object.substr(i + 1, key_end - i - 2);
    bool same = raw.find('\\') == std::string_view::npos ? raw == key : unescape(raw) == key;
    i = skip_space(object, key_end);
    if (i >= object.size() || object[i] != ':') return std::nullopt;
    i = skip_space(object, i + 1);
    std::size_t value_end = skip_value(object, i);
    if (same) return object.substr(i, value_end - i);
    i = skip_space(object, value_end);
    if (i >= object.size() || object[i] != ',') return std::nullopt;
    i = skip_space(object, i + 1);
  }
  return std::nullopt;
}

/// A JSON number as SQLite's CAST(... AS TEXT) writes it: an integer's digits, else the real
/// as printf's "%!.15g" in SQLite (at least one digit after the point: "100.0", "1.0e+20").
std::string number_text(std::string_view n) {
  if (n.find_first_of(".eE") == std::string_view::npos) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (ec == std::errc() && end == n.data() + n.size()) return std::to_string(v);
  }
  // A real (or an integer beyond 64 bits, which SQLite reads as a real).
  std::string copy(n);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.15g", std::strtod(copy.c_str(), nullptr));
  std::string out = buf;
  if (out.find_first_of("in") != std::string::npos) return out;  // inf, nan: not JSON
  std::size_t e = out.find('e');
  std::string_view mantissa = std::string_view(out).substr(0, e);
  if (mantissa.find('.') == std::string_view::npos) {
    out.insert(e == std::string::npos ? out.size() : e, ".0");
  }
  return out;
}

}  // namespace

std::optional<std::string> filter_value(std::string_view json, std::string_view path) {
  std::string_view v = json;
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = path.find('.', start);
    auto m = member(v, path.substr(start, dot == std::string_view::npos ? path.npos : dot - start));
    if (!m) return std::nullopt;
    v = *m;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (v.empty() || v == "null") return std::nullopt;
  if (v.front() == '"') return unescape(v.substr(1, v.size() >= 2 ? v.size() - 2 : 0));
  if (v == "true") return std::string("1");
  if (v == "false") return std::string("0");
  if (v.front() == '{' || v.front() == '[') return std::string(v);
  return number_text(v);
}

namespace {

/// `text` for a terminal: a control character, or a character outside ASCII (a C1 control, a
/// bidi override), becomes one '?'.
std::string for_terminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i++]);
    if (c >= 0x80) {
      while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
      out += '?';
    } else {
      out += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

bool read_record_error(std::string_view set, std::string& field, std::string& message) {
  // The shape record_error_set writes; the reader's fields and reasons are ASCII, and a store
  // altered behind the tool's back must not drive the terminal the text is shown on.
  if (!set.starts_with("{\"error\":{") || !set.ends_with("}}")) return false;
  auto error = member(set, "error");
  auto f = error ? member(*error, "field") : std::nullopt;
  auto m = error ? member(*error, "message") : std::nullopt;
  auto quoted = [](const std::optional<std::string_view>& v) {
    return v && v->size() >= 2 && v->front() == '"' && v->back() == '"';
  };
  if (!quoted(f) || !quoted(m)) return false;
  field = for_terminal(unescape(f->substr(1, f->size() - 2)));
  message = for_terminal(unescape(m->substr(1, m->size() - 2)));
  return true;
}

bool filter_matches(std::string_view json, const std::vector<record_filter>& filter) {
  return std::all_of(filter.begin(), filter.end(), [&](const record_filter& f) {
    auto v = filter_value(json, f.path);
    return v && *v == f.value;
  });
}

}  // namespace dalil::store
