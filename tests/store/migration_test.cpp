// A store made by the previous release (schema 1: tests/store/fixtures/store-v1.db, made by the
// dalil of commit a0c23ac with make-store-v1.sh) is upgraded on open, verifies, replays
// identical with its stored ruleset, and takes decision sets of the current form beside its own.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "dsl/parser.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "engine/sha256.hpp"
#include "store/batch.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/store/support.hpp"
#include "tests/support/packs.hpp"

using namespace dalil;
namespace fs = std::filesystem;

namespace {

struct old_store {
  fs::path dir = fs::temp_directory_path() / ("dalil-migration-test-" + std::to_string(::getpid()));
  fs::path path = dir / "v1.db";
  old_store() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::copy_file(testing::source_path("tests/store/fixtures/store-v1.db"), path);
  }
  ~old_store() { fs::remove_all(dir); }
};

/// A number read by SQL, on a connection of its own.
std::int64_t query(const fs::path& db, const std::string& sql) {
  store::database d;
  std::string error;
  REQUIRE(d.open(db.string(), error));
  auto q = d.prepare(sql, error);
  INFO(sql << ": " << error);
  REQUIRE(q.ok());
  REQUIRE(q.step() == SQLITE_ROW);
  return q.int64(0);
}

void exec(const fs::path& db, const std::string& sql) {
  store::database d;
  std::string error;
  REQUIRE(d.open(db.string(), error));
  INFO(sql << ": " << error);
  REQUIRE(d.exec(sql, error));
}

struct stored_run {
  std::shared_ptr<const engine::ruleset> rules;
  std::string source;
};

stored_run ruleset_of(store::store& db, const store::run_info& run) {
  auto source = db.ruleset_source(run.ruleset_hash);
  REQUIRE(source);
  std::string diagnostics;
  auto rules = store::stored_ruleset(run.ruleset_hash, *source, diagnostics);
  INFO(diagnostics);
  REQUIRE(rules);
  REQUIRE(rules->hash() == run.ruleset_hash);
  return {rules, *source};
}

}  // namespace

TEST_CASE("migration: a store of schema 1 is upgraded on open, once, and still verifies",
          "[store][migration]") {
  old_store old;
  CHECK(query(old.path, "SELECT max(version) FROM schema_version") == 1);
  CHECK(query(old.path,
              "SELECT count(*) FROM pragma_table_info('decision_sets') WHERE "
              "name='format'") == 0);
  std::int64_t entries = query(old.path, "SELECT count(*) FROM audit");
  REQUIRE(entries == 17);
  {
    auto db = testing::open_store(old.path.string());
    CHECK(testing::verify_problems(*db).empty());
  }
  const std::int64_t version = store::current_schema_version();
  CHECK(query(old.path, "SELECT max(version) FROM schema_version") == version);
  CHECK(query(old.path, "SELECT count(*) FROM decision_sets WHERE format=1") == 124);
  CHECK(query(old.path, "SELECT count(*) FROM decision_sets WHERE format<>1") == 0);
  // Schema 3: generations numbered per batch key, each set's applicant filled in.
  CHECK(query(old.path, "SELECT count(*) FROM runs WHERE generation=1") == 4);
  CHECK(query(old.path,
              "SELECT count(*) FROM decision_sets d JOIN records r USING(record_id) "
              "WHERE d.applicant_id = r.applicant_id") == 124);
  // The upgrades are in the hash chain, after everything the old release wrote: one 'schema'
  // entry per migration, and the state the immutable-runs migration adopts (4 runs, 2 imports).
  CHECK(query(old.path, "SELECT count(*) FROM audit") == entries + (version - 1) + 6);
  CHECK(query(old.path, "SELECT count(*) FROM audit WHERE action='schema'") == version - 1);
  CHECK(query(old.path,
              "SELECT count(*) FROM audit WHERE seq=18 AND action='schema' AND "
              "subject='2' AND details='{\"from\":1,\"to\":2}'") == 1);
  CHECK(query(old.path, "SELECT count(*) FROM audit WHERE action='run_state'") == 4);
  CHECK(query(old.path, "SELECT count(*) FROM audit WHERE action='import_state'") == 2);
  // Opening it again changes nothing.
  REQUIRE(store::open_sqlite(old.path.string()));
  CHECK(query(old.path, "SELECT count(*) FROM audit") == entries + (version - 1) + 6);
  // A fresh store is created at the current schema, with no upgrade to record.
  fs::path fresh = old.dir / "fresh.db";
  REQUIRE(store::open_sqlite(fresh.string()));
  CHECK(query(fresh, "SELECT max(version) FROM schema_version") == version);
  CHECK(query(fresh, "SELECT count(*) FROM audit") == 0);
}

TEST_CASE("migration: two processes opening an old store at once upgrade it once",
          "[store][migration]") {
  old_store old;
  std::optional<store::result<std::unique_ptr<store::store>>> a;
  std::optional<store::result<std::unique_ptr<store::store>>> b;
  std::thread t([&] { a = store::open_sqlite(old.path.string()); });
  b = store::open_sqlite(old.path.string());
  t.join();
  INFO((*a ? std::string() : a->error().message)
       << " / " << (*b ? std::string() : b->error().message));
  REQUIRE(a->has_value());
  REQUIRE(b->has_value());
  CHECK(query(old.path, "SELECT count(*) FROM audit WHERE action='schema'") ==
        store::current_schema_version() - 1);
  CHECK(query(old.path, "SELECT count(*) FROM schema_version") == store::current_schema_version());
  CHECK(testing::verify_problems(***a).empty());
}

TEST_CASE("migration: runs stored before it replay identical with their stored ruleset",
          "[store][migration]") {
  old_store old;
  auto db = testing::open_store(old.path.string());
  std::size_t sets = 0;
  std::size_t out_of_force = 0;
  std::size_t traces = 0;
  std::size_t precise = 0;  // provisional by the rule-level flag, not by what decided the value
  auto runs = db->runs().value();
  REQUIRE(runs.size() == 4);
  for (const store::run_info& run : runs) {
    stored_run sr = ruleset_of(*db, run);
    auto inst = engine::instantiate(sr.rules, *parse_date(run.as_of));
    auto chosen = store::contract_rules(sr.rules->program());
    store::run_decisions described = store::describe_run(sr.rules, *parse_date(run.as_of));
    std::vector<store::stored_record> recs;
    std::vector<store::decision_set> stored;
    REQUIRE(db->each_decision(run.run_id, [&](const std::string&, const store::decision_set& d) {
      auto rec = db->record(d.record_id);
      REQUIRE(rec);
      recs.push_back(*rec);
      stored.push_back(*db->decisions(run.run_id, d.record_id));
    }));
    std::vector<store::decision_set> block(recs.size());
    store::evaluate_records(inst, chosen, recs.data(), recs.size(), block.data());
    for (std::size_t i = 0; i < recs.size(); ++i) {
      const store::decision_set& s = stored[i];
      INFO("run " << run.run_id << ", record " << s.record_id);
      REQUIRE(s.format == 1);
      store::decision_set again = store::evaluate_record(inst, chosen, recs[i], true);
      REQUIRE(again.format == store::decision_format);
      // The same decisions in the stored form: the current form adds in_force, and sets
      // provisional by what decided each value where format 1 has the rule-level flag.
      CHECK(store::to_format_1(again.decisions_json, described) == s.decisions_json);
      CHECK(store::to_format_1(block[i].decisions_json, described) == s.decisions_json);
      CHECK(block[i].decisions_json == again.decisions_json);
      CHECK(store::diff_decisions(s.decisions_json, s.format,
                                  store::to_format_1(again.decisions_json, described), s.format,
                                  described)
                .empty());
      CHECK(again.trace_digest == s.trace_digest);
      if (!s.trace_json.empty()) {
        CHECK(again.trace_json == s.trace_json);
        ++traces;
      }
      // What the old set implies about in_force (from its run) is what is recorded now.
      std::vector<store::decision_entry> was;
      std::vector<store::decision_entry> now;
      REQUIRE(store::read_decisions(s.decisions_json, s.format, described.in_force, was));
      REQUIRE(store::read_decisions(again.decisions_json, again.format, {}, now));
      REQUIRE(was.size() == now.size());
      for (std::size_t k = 0; k < was.size(); ++k) {
        CHECK(was[k].in_force == now[k].in_force);
        out_of_force += now[k].in_force ? 0 : 1;
        // What decided a value is among what its rule reads: never provisional where the
        // rule-level flag was not.
        CHECK((!now[k].provisional || was[k].provisional));
        precise += was[k].provisional && !now[k].provisional ? 1 : 0;
      }
      ++sets;
    }
  }
  CHECK(sets == 124);
  CHECK(traces == 4);
  CHECK(out_of_force > 0);
  CHECK(precise > 0);
}

TEST_CASE(
    "migration: an upgraded store takes a new generation of the current form beside the "
    "old runs",
    "[store][migration]") {
  old_store old;
  auto db = testing::open_store(old.path.string());
  auto run = db->run(2);  // as of 2017-06-01, every applicant
  REQUIRE(run);
  REQUIRE(db->count_decisions(2).value() == 40);
  stored_run sr = ruleset_of(*db, *run);
  // A new version of one applicant (imported with the stored pack), then the same batch again:
  // run 2 stays as it was; a new generation of its key decides every applicant, in the current
  // form.
  auto rec = db->record(5);
  REQUIRE(rec);
  std::string changed = rec->json;
  auto at = changed.find("\"application_date\":\"");
  REQUIRE(at != std::string::npos);
  changed.replace(at + 20, 10, "2017-05-03");
  fs::path file = old.dir / "changed.jsonl";
  std::ofstream(file) << changed << "\n";
  store::import_summary imported;
  REQUIRE(store::import_file(*db, sr.rules->program(), file.string(), imported));
  REQUIRE(imported.new_versions == 1);
  store::batch_options o;
  o.as_of = *parse_date(run->as_of);
  o.progress = false;
  store::batch_summary summary;
  REQUIRE(store::run_batch(*db, sr.rules, sr.source, o, summary));
  CHECK(summary.run_id == 5);
  CHECK(summary.generation == 2);
  CHECK(summary.processed == 40);
  CHECK(query(old.path, "SELECT count(*) FROM decision_sets WHERE run_id=2 AND format=1") == 40);
  CHECK(query(old.path, "SELECT count(*) FROM decision_sets WHERE run_id=2 AND format<>1") == 0);
  CHECK(query(old.path, "SELECT count(*) FROM decision_sets WHERE run_id=5 AND format=2") == 40);
  CHECK(testing::verify_problems(*db).empty());
  // Counted alike whatever their form: a rule out of force on the date is out of force in
  // every set of either run, recorded (format 2) or taken from the run (format 1).
  store::run_decisions described = store::describe_run(sr.rules, o.as_of);
  for (std::int64_t r : {2, 5}) {
    store::run_counts counts;
    REQUIRE(db->each_decision(r, [&](const std::string&, const store::decision_set& d) {
      counts.add(d, described.in_force);
    }));
    CHECK(counts.sets == 40);
    std::size_t ended = 0;
    for (std::size_t k = 0; k < described.names.size(); ++k) {
      INFO("run " << r << ", " << described.names[k]);
      const store::outcome_counts& c = counts.decisions[k];
      std::int64_t in_force = c.undetermined;
      for (const auto& [value, n] : c.values) in_force += n;
      CHECK(in_force + c.out_of_force == 40);
      CHECK(c.out_of_force == (described.in_force[k] ? 0 : 40));
      ended += described.in_force[k] ? 0 : 1;
    }
    CHECK(ended > 0);  // AMO Tadamon (from 1 December 2022) was not in force on 1 June 2017
  }
}

TEST_CASE("migration: the form of a stored set is vouched for by the audit log",
          "[store][migration]") {
  old_store old;
  REQUIRE(store::open_sqlite(old.path.string()));
  // An old set made to read as the current form would lose its in_force (taken from the run):
  // its chunk digest no longer matches.
  exec(old.path,
       "UPDATE decision_sets SET format=2 WHERE run_id=1 AND record_id=(SELECT "
       "min(record_id) FROM decision_sets WHERE run_id=1)");
  auto db = testing::open_store(old.path.string());
  CHECK(testing::verify_problems(*db).find("decision sets of run 1") != std::string::npos);
}

TEST_CASE("migration: a store of a newer schema is refused, saying so", "[store][migration]") {
  old_store old;
  REQUIRE(store::open_sqlite(old.path.string()));
  exec(old.path, "INSERT INTO schema_version VALUES(99)");
  auto db = store::open_sqlite(old.path.string());
  REQUIRE_FALSE(db);
  CHECK(db.error().code == store::errc::refused);
  CHECK(db.error().message.find("schema is version 99, newer than this dalil knows (" +
                                std::to_string(store::current_schema_version()) +
                                "): it was written by a newer dalil") != std::string::npos);
  // Read-only too (audit verify, export), not as a store that needs an upgrade.
  auto ro = store::open_sqlite(old.path.string(), store::open_mode::read_only);
  REQUIRE_FALSE(ro);
  CHECK(ro.error().message.find("it was written by a newer dalil") != std::string::npos);
  CHECK(query(old.path, "SELECT count(*) FROM audit WHERE action='schema'") ==
        store::current_schema_version() - 1);
}

TEST_CASE("migration: the mark of a resealed store is not a schema: an older one is upgraded",
          "[store][migration]") {
  // A store marked resealed (dalil keys reseal) while its schema was older than this dalil's:
  // the mark must not be read as the schema, else the migrations after it would be skipped.
  old_store old;
  const std::string mark = std::to_string(store::resealed_schema_mark());
  exec(old.path, "INSERT INTO schema_version VALUES(" + mark + ")");
  auto db = store::open_sqlite(old.path.string());
  INFO((db ? std::string() : db.error().message));
  REQUIRE(db);
  CHECK(query(old.path, "SELECT max(version) FROM schema_version WHERE version <> " + mark) ==
        store::current_schema_version());
  CHECK(query(old.path, "SELECT count(*) FROM schema_version WHERE version = " + mark) == 1);
  // A schema above this dalil's beside the mark is still refused as newer.
  exec(old.path, "INSERT INTO schema_version VALUES(99)");
  auto newer = store::open_sqlite(old.path.string());
  REQUIRE_FALSE(newer);
  CHECK(newer.error().message.find("schema is version 99") != std::string::npos);
}

TEST_CASE("migration: a stored ruleset an earlier dalil accepted still builds, meaning what it did",
          "[store][migration]") {
  // Checks added later refuse these in a new pack; a stored ruleset decided with them, and its
  // decisions must still open and replay as they were made (warnings, not errors).
  const std::string esc = "\x1b";
  const std::string source =
      "module m\n  title fr \"t\" ar \"t\" en \"t\"\n"
      "enum Sex { female, male }\n"
      "record A { sex : Sex\n  income : money\n  n : int }\ninput a : A\n"
      "rule female : Sex\n  source \"s" +
      esc +
      "\"\n  = Sex.male\n"
      "rule is_woman : bool\n  source \"s\"\n  = a.sex == female\n"
      "rule share : money\n  source \"s\"\n  = round(a.income / 3, 19)\n"
      "rule never : bool\n  source \"s\"\n  = a.income / 0 > 1 MAD\n"
      // Its gap was hidden by an overflow then (the second row read as covering every value).
      "rule band : int\n  source \"s\"\n  = table first\n    | a.n <= 10 => 1\n"
      "    | a.n > 9223372036854775807 => 2\n"
      // A literal continued on the next line by a '\' at the end of its first.
      "rule wrapped : bool\n  source \"line one\\\nline two\"\n  = true\n";
  std::string diagnostics;
  auto rules = store::stored_ruleset("0123456789abcdef", source, diagnostics);
  INFO(diagnostics);
  REQUIRE(rules);
  // The bare name meant the rule then (Sex.male), and still does: a woman is "not female".
  const auto& p = rules->program();
  const auto is_woman = p.find_rule("m.is_woman");
  REQUIRE(is_woman);
  dalil::engine::record_reader reader(p);
  dalil::engine::record rec;
  dalil::engine::record_error err;
  REQUIRE(reader.read(R"({"sex":"female","income":"300.00"})", rec, err));
  dalil::engine::evaluator ev(dalil::engine::instantiate(rules, *dalil::parse_date("2020-01-01")));
  ev.set_record(rec);
  dalil::engine::decision d = dalil::engine::decide(ev, *is_woman);
  CHECK(d.decided);
  CHECK_FALSE(d.v.is_true());
  CHECK(p.find_rule("m.wrapped"));
  CHECK(diagnostics.find("continued past its line") != std::string::npos);
  // A new pack with the same source is refused (dalil check, publish).
  dalil::dsl::source_map sources;
  dalil::dsl::diagnostics diags;
  auto f = sources.add("new.dalil", source);
  auto m = dalil::dsl::parse(sources, f, diags);
  CHECK(diags.has_errors());  // E0008 at the parse
  CHECK_FALSE(m);
}
