// Import accounting and versioning, batch exactly-once, replay and audit over a temporary store.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>

#include "dsl/checker.hpp"
#include "engine/session.hpp"
#include "engine/sha256.hpp"
#include "store/batch.hpp"
#include "store/lease.hpp"
#include "store/store.hpp"
#include "tests/store/support.hpp"
#include "tests/support/packs.hpp"

using namespace dalil;
namespace fs = std::filesystem;

namespace {

using testing::source_path;

struct pack {
  std::shared_ptr<const engine::ruleset> rules;
  std::string canonical;
};

pack load_pack() {
  auto loaded = testing::load_pack_dir(source_path("rules"));
  return {loaded->rules, loaded->canonical};
}

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("dalil-store-test-" + std::to_string(::getpid()));
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

const char* const alice =
    R"({"id":"T-1","status":"refugee","sex":"female","birth_date":"1990-01-01"})";
const char* const alice_changed =
    R"({"id":"T-1","status":"refugee","sex":"female","birth_date":"1990-01-02"})";
const char* const bob = R"({"id":"T-2","status":"regular","residence_card":null})";

}  // namespace

TEST_CASE("import: every row is a record or a rejection, and re-import adds nothing", "[store]") {
  temp_dir dir;
  pack pk = load_pack();
  auto db = testing::open_store(testing::fresh_db(dir.path, "t"));
  const dsl::program& p = pk.rules->program();
  write(dir.path / "a.jsonl", std::string(alice) + "\n" + bob + "\n" +
                                  R"({"id":"T-3","sex":"femme"})" + "\n\n" +
                                  R"({"id":"T-4","household":{"sizee":2}})" + "\n" +
                                  R"({"status":"refugee"})" + "\n" + "{not json\n");
  store::import_summary s;
  REQUIRE(store::import_file(*db, p, (dir.path / "a.jsonl").string(), s));
  CHECK(s.rows == 6);
  CHECK(s.stored == 2);
  CHECK(s.rejected == 4);
  CHECK(s.rows == s.stored + s.new_versions + s.unchanged + s.rejected);
  REQUIRE(s.rejections.size() == 4);
  CHECK(s.rejections[0].row == 3);
  CHECK(s.rejections[0].field == "sex");
  CHECK(s.rejections[0].reason.find("femme") == std::string::npos);  // no value in logs
  CHECK(s.rejections[1].field == "household");  // the unknown key itself is never quoted
  CHECK(s.rejections[1].reason.find("sizee") == std::string::npos);
  CHECK(s.rejections[1].reason.find("did you mean 'size'?") != std::string::npos);
  CHECK(s.rejections[2].field == "id");

  store::import_summary again;
  REQUIRE(store::import_file(*db, p, (dir.path / "a.jsonl").string(), again));
  CHECK(again.stored == 0);
  CHECK(again.new_versions == 0);
  CHECK(again.unchanged == 2);
  CHECK(db->count_records().value() == 2);

  write(dir.path / "b.jsonl", std::string(alice_changed) + "\n" + bob + "\n");
  store::import_summary changed;
  REQUIRE(store::import_file(*db, p, (dir.path / "b.jsonl").string(), changed));
  CHECK(changed.new_versions == 1);
  CHECK(changed.unchanged == 1);
  CHECK(db->count_records().value() == 2);  // latest versions only
  CHECK(testing::verify_problems(*db).empty());
}

TEST_CASE(
    "import: a file of several batches: an applicant's later rows see their earlier ones, "
    "and ids that need quoting",
    "[store]") {
  temp_dir dir;
  pack pk = load_pack();
  const dsl::program& p = pk.rules->program();
  const bool encrypted = GENERATE(false, true);
  INFO((encrypted ? "an encrypted store" : "a plain store"));
  std::optional<store::crypto::master_key> key;
  if (encrypted) {
    const std::string file = (dir.path / "k.key").string();
    REQUIRE(store::crypto::create_key_file(file).has_value());
    auto k = store::crypto::load_master_key(file);
    REQUIRE(k.has_value());
    key = *k;
  }
  auto db = testing::open_store(testing::fresh_db(dir.path, encrypted ? "e" : "p"),
                                key ? &*key : nullptr);
  if (encrypted) REQUIRE(db->init_keys("test").has_value());
  // A file of three batches (of 1,000 here; 10,000 by default on PostgreSQL): A-1 again after
  // the first batch, changed, then the same; an id with a quote, a comma, braces and a backslash
  // (an array's text on PostgreSQL) twice, in different batches; A-2 again in the last batch.
  auto row = [](const std::string& id_json, const char* status) {
    return std::string(R"({"id":)") + id_json + R"(,"status":")" + status +
           R"(","residence_card":null})" + "\n";
  };
  const std::string odd = R"("S-\"q\",{b}\\s")";
  std::string file;
  for (int i = 1; i <= 1200; ++i) file += row("\"A-" + std::to_string(i) + "\"", "regular");
  file += row(R"("A-1")", "refugee");
  file += row(R"("A-1")", "refugee");
  file += row(odd, "regular");
  for (int i = 1201; i <= 2397; ++i) file += row("\"A-" + std::to_string(i) + "\"", "regular");
  file += row(odd, "regular");
  file += row(R"("A-2")", "regular");
  write(dir.path / "a.jsonl", file);
  store::import_options batches;
  batches.batch_records = 1000;
  store::import_summary s;
  auto first = store::import_file(*db, p, (dir.path / "a.jsonl").string(), s, batches);
  INFO((first ? std::string() : first.error().message));
  REQUIRE(first);
  CHECK(s.rows == 2402);
  CHECK(s.stored == 2398);
  CHECK(s.new_versions == 1);
  CHECK(s.unchanged == 3);
  CHECK(s.rejected == 0);
  CHECK(db->count_records().value() == 2398);

  // Again: A-1's first row differs from its latest version (refugee), its second from the first.
  store::import_summary again;
  REQUIRE(store::import_file(*db, p, (dir.path / "a.jsonl").string(), again, batches));
  CHECK(again.stored == 0);
  CHECK(again.new_versions == 2);
  CHECK(again.unchanged == 2400);
  CHECK(db->count_records().value() == 2398);
  auto versions = db->versions("A-1");
  REQUIRE(versions);
  REQUIRE(versions->size() == 4);
  CHECK(versions->back().latest);
  CHECK(versions->back().version == 4);
  auto odd_versions = db->versions("S-\"q\",{b}\\s");
  REQUIRE(odd_versions);
  CHECK(odd_versions->size() == 1);
  CHECK(testing::verify_problems(*db).empty());
}

TEST_CASE(
    "batch: one decision set per applicant, again does nothing, new versions, a new "
    "generation deciding everyone, replay matches",
    "[store]") {
  temp_dir dir;
  pack pk = load_pack();
  auto db = testing::open_store(testing::fresh_db(dir.path, "t"));
  write(dir.path / "a.jsonl", std::string(alice) + "\n" + bob + "\n");
  store::import_summary s;
  REQUIRE(store::import_file(*db, pk.rules->program(), (dir.path / "a.jsonl").string(), s));
  store::batch_options o;
  o.as_of = *parse_date("2017-06-01");
  o.progress = false;
  o.chunk = 1;
  store::batch_summary first;
  REQUIRE(store::run_batch(*db, pk.rules, pk.canonical, o, first));
  CHECK(first.processed == 2);
  CHECK(first.total == 2);
  store::batch_summary second;
  REQUIRE(store::run_batch(*db, pk.rules, pk.canonical, o, second));
  CHECK(second.run_id == first.run_id);
  CHECK(second.already_complete);
  CHECK(second.processed == 0);
  CHECK(db->count_decisions(first.run_id).value() == 2);

  // A changed record: the complete run stays as it was; a new generation decides everyone.
  write(dir.path / "b.jsonl", std::string(alice_changed) + "\n");
  REQUIRE(store::import_file(*db, pk.rules->program(), (dir.path / "b.jsonl").string(), s));
  store::batch_summary third;
  auto extended = store::run_batch(*db, pk.rules, pk.canonical, o, third);
  INFO((extended ? std::string() : extended.error().message));
  REQUIRE(extended);
  CHECK(third.run_id != first.run_id);
  CHECK(third.generation == 2);
  CHECK(third.processed == 2);
  CHECK(db->count_decisions(first.run_id).value() == 2);
  CHECK(db->count_decisions(third.run_id).value() == 2);
  CHECK(db->run(first.run_id)->status == "complete");
  CHECK(db->newest_complete_run()->run_id == third.run_id);

  auto rec = db->record(1);
  auto stored = db->decisions(first.run_id, 1);
  REQUIRE(rec);
  REQUIRE(stored);
  auto inst = engine::instantiate(pk.rules, o.as_of);
  store::decision_set again =
      store::evaluate_record(inst, store::contract_rules(pk.rules->program()), *rec, false);
  CHECK(again.decisions_json == stored->decisions_json);
  CHECK(again.trace_digest == stored->trace_digest);
  CHECK(testing::verify_problems(*db).empty());
}

TEST_CASE("decision sets expand to named decisions, in either form", "[store]") {
  store::run_decisions run{{"a.x", "b.y", "c.z"}, {1, 1, 0}, {}};
  // Format 2: in_force recorded, a 5th element 0 when the rule was not in force.
  std::string compact =
      R"([["d",true,1,[]],["u",null,0,["household.size","status"]],["d",false,0,[],0]])";
  std::string verbose = store::expand_decisions(compact, 2, run);
  CHECK(verbose == R"([{"rule":"a.x","status":"decided","value":true,"provisional":true,)"
                   R"("in_force":true,"missing":[]},)"
                   R"({"rule":"b.y","status":"undetermined","value":null,"provisional":false,)"
                   R"("in_force":true,"missing":["household.size","status"]},)"
                   R"({"rule":"c.z","status":"decided","value":false,"provisional":false,)"
                   R"("in_force":false,"missing":[]}])");
  // Format 2 records what it records: the run's in_force is not consulted.
  store::run_decisions all_in_force{run.names, {1, 1, 1}, {}};
  CHECK(store::expand_decisions(compact, 2, all_in_force) == verbose);
  // Format 1 (stored before schema 2) does not record in_force: it comes from the run.
  std::string old = R"([["d",true,1,[]],["u",null,0,[]],["u",null,0,[]]])";
  CHECK(store::expand_decisions(old, 1, run) ==
        R"([{"rule":"a.x","status":"decided","value":true,"provisional":true,)"
        R"("in_force":true,"missing":[]},)"
        R"({"rule":"b.y","status":"undetermined","value":null,"provisional":false,)"
        R"("in_force":true,"missing":[]},)"
        R"({"rule":"c.z","status":"undetermined","value":null,"provisional":false,)"
        R"("in_force":false,"missing":[]}])");
  // A 5th element in format 1, or one that is not 0 in format 2, is not a decision set.
  std::vector<store::decision_entry> entries;
  CHECK_FALSE(store::read_decisions(compact, 1, run.in_force, entries));
  CHECK_FALSE(store::read_decisions(R"([["d",true,1,[],1]])", 2, {}, entries));
  CHECK_FALSE(store::read_decisions(R"([["x",true,1,[]]])", 2, {}, entries));
  // A record that no longer fit the schema is exported as stored.
  std::string error = R"({"error":{"field":"sex","message":"not one of the cases"}})";
  CHECK_FALSE(store::read_decisions(error, 2, {}, entries));
  CHECK(store::expand_decisions(error, 2, run) == error);
}

TEST_CASE("a set of the current form reads as format 1: no in_force, rule-level provisional",
          "[store]") {
  store::run_decisions run{{"a.x", "b.y", "c.z"}, {1, 1, 0}, {1, 1, 0}};
  CHECK(
      store::to_format_1(R"([["d",true,0,[]],["u",null,1,["a.b","c"]],["d","x,y",0,[],0]])", run) ==
      R"([["d",true,1,[]],["u",null,1,["a.b","c"]],["d","x,y",0,[]]])");
  CHECK(store::to_format_1("[]", run) == "[]");
  std::string error = R"({"error":{"field":"sex","message":"m"}})";
  CHECK(store::to_format_1(error, run) == error);
}

TEST_CASE("stats count out-of-force decisions apart from the criteria not met", "[store]") {
  store::run_decisions run{{"a.x", "b.y"}, {1, 0}, {}};
  store::run_counts counts;
  auto add = [&](std::string json, int format) {
    store::decision_set d;
    d.decisions_json = std::move(json);
    d.format = format;
    counts.add(d, run.in_force);
  };
  add(R"([["d",false,0,[]],["d",false,0,[],0]])", 2);      // b.y: its `otherwise` value
  add(R"([["d",true,0,[]],["u",null,0,[],0]])", 2);        // b.y: out of force, no `otherwise`
  add(R"([["u",null,0,["status"]],["u",null,0,[]]])", 1);  // stored before: in_force from run
  add(R"({"error":{"field":"sex","message":"m"}})", 2);
  CHECK(counts.sets == 4);
  CHECK(counts.errors == 1);
  REQUIRE(counts.decisions.size() == 2);
  const store::outcome_counts& a = counts.decisions[0];
  CHECK(a.values == std::map<std::string, std::int64_t>{{"false", 1}, {"true", 1}});
  CHECK(a.undetermined == 1);
  CHECK(a.out_of_force == 0);
  const store::outcome_counts& b = counts.decisions[1];
  CHECK(b.values.empty());  // `false` outside the period is not "criteria not met"
  CHECK(b.undetermined == 0);
  CHECK(b.out_of_force == 3);
  CHECK(b.out_of_force_values == std::map<std::string, std::int64_t>{{"false", 1}});
  CHECK(b.out_of_force_undetermined == 2);
}

TEST_CASE("replay differences name the decisions and trace steps that changed", "[store]") {
  const store::run_decisions run{{"a.x", "b.y", "c.z"}, {1, 1, 1}, {}};
  std::string stored = R"([["d",true,1,[]],["u",null,0,["household.size"]],["d",false,0,[]]])";
  CHECK(store::diff_decisions(stored, 2, stored, 2, run).empty());
  std::string replayed = R"([["d",true,1,[]],["d",false,0,[]],["d",false,0,[]]])";
  auto d = store::diff_decisions(stored, 2, replayed, 2, run);
  REQUIRE(d.size() == 1);
  CHECK(d[0].rule == "b.y");
  CHECK(d[0].stored == R"({"rule":"b.y","status":"undetermined","value":null,"provisional":false,)"
                       R"("in_force":true,"missing":["household.size"]})");
  CHECK(d[0].replayed == R"({"rule":"b.y","status":"decided","value":false,"provisional":false,)"
                         R"("in_force":true,"missing":[]})");
  CHECK(d[0].what == "status undetermined → decided; value null → false; missing facts changed");
  // A change of provisional flag alone says so, and that the value is the same.
  auto f = store::diff_decisions(stored, 2,
                                 R"([["d",true,0,[]],["u",null,0,["household.size"]],)"
                                 R"(["d",false,0,[]]])",
                                 2, run);
  REQUIRE(f.size() == 1);
  CHECK(f[0].rule == "a.x");
  CHECK(f[0].what == "provisional true → false; value unchanged");
  // A format 1 set against the current form: in_force read from the run for the stored side.
  const store::run_decisions ended{{"a.x", "b.y", "c.z"}, {1, 1, 0}, {}};
  std::string before = R"([["d",true,1,[]],["d",false,0,[]],["u",null,0,[]]])";
  CHECK(store::diff_decisions(before, 1, R"([["d",true,1,[]],["d",false,0,[]],["u",null,0,[],0]])",
                              2, ended)
            .empty());
  auto e = store::diff_decisions(
      before, 1, R"([["d",true,1,[]],["d",false,0,[]],["d",false,0,[],0]])", 2, ended);
  REQUIRE(e.size() == 1);
  CHECK(e[0].rule == "c.z");
  CHECK(e[0].what == "status undetermined → decided; value null → false");
  CHECK(e[0].replayed == R"({"rule":"c.z","status":"decided","value":false,"provisional":false,)"
                         R"("in_force":false,"missing":[]})");
  // A record that no longer fits the schema: the whole set, each side as it is.
  std::string refused = R"({"error":{"field":"household.size","message":"below 1"}})";
  auto w = store::diff_decisions(stored, 2, refused, 2, run);
  REQUIRE(w.size() == 1);
  CHECK(w[0].rule == "the whole decision set");
  CHECK(w[0].stored == stored);
  CHECK(w[0].replayed == refused);
  CHECK(w[0].what == "the record does not fit the schema on one side (or not for the same reason)");

  std::string a = R"({"steps":[{"rule":"m.p","value":1,"reads":[]},)"
                  R"({"rule":"m.q","value":"x","reads":["m.p"]},{"rule":"m.r","value":true}]})";
  CHECK(store::diff_traces(a, a).empty());
  std::string b = R"({"steps":[{"rule":"m.p","value":2,"reads":[]},)"
                  R"({"rule":"m.r","value":true},{"rule":"m.s","value":null}]})";
  auto t = store::diff_traces(a, b);
  REQUIRE(t.size() == 3);
  CHECK(t[0].rule == "m.p");  // changed
  CHECK(t[0].stored == R"({"rule":"m.p","value":1,"reads":[]})");
  CHECK(t[0].replayed == R"({"rule":"m.p","value":2,"reads":[]})");
  CHECK(t[1].rule == "m.q");  // only in the stored trace
  CHECK(t[1].replayed.empty());
  CHECK(t[2].rule == "m.s");  // only in the replayed trace
  CHECK(t[2].stored.empty());
}

TEST_CASE("batch: block evaluation gives the decision sets of record-at-a-time evaluation",
          "[store][block]") {
  // Byte for byte: compact decisions (missing facts included), both digests, for the sample
  // cohort, the same records with one fact left out (so that some decisions are undetermined
  // for want of a fact, others in spite of one), and records that no longer fit the schema, at
  // dates before, during and after the programmes' periods in force.
  pack pk = load_pack();
  std::vector<store::stored_record> recs;
  std::ifstream in(source_path("data/sample-cohort.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    store::stored_record r;
    r.record_id = static_cast<std::int64_t>(recs.size()) + 1;
    r.json = line;
    r.content_hash = engine::sha256_hex(line);
    recs.push_back(std::move(r));
  }
  REQUIRE(recs.size() >= 100);
  const char* const left_out[] = {"status",         "nationality",    "birth_date",
                                  "entry_date",     "resident_since", "medical_coverage",
                                  "regularized_in", "owns_property",  "application_date"};
  std::size_t sample = recs.size();
  for (std::size_t i = 0; i < sample; ++i) {
    std::string key = left_out[i % std::size(left_out)];
    std::regex field("\"" + key + "\":(\"[^\"]*\"|[a-z0-9.-]+),");
    store::stored_record r = recs[i];
    r.record_id = static_cast<std::int64_t>(recs.size()) + 1;
    r.json = std::regex_replace(recs[i].json, field, "");
    if (r.json == recs[i].json) continue;  // the record had no such fact
    r.content_hash = engine::sha256_hex(r.json);
    recs.push_back(std::move(r));
  }
  REQUIRE(recs.size() > sample + sample / 2);
  recs[7].json = R"({"id":"bad","status":"martian"})";
  recs[11].content_hash = "not a hash";  // altered behind the tool's back
  recs[300 % recs.size()].json = R"({"id":"bad","birth_date":"1990-02-30"})";
  auto chosen = store::contract_rules(pk.rules->program());
  for (const char* d : {"2013-06-01", "2014-06-01", "2017-06-01", "2024-02-29"}) {
    auto inst = engine::instantiate(pk.rules, *parse_date(d));
    std::vector<store::decision_set> block(recs.size());
    store::evaluate_records(inst, chosen, recs.data(), recs.size(), block.data());
    for (std::size_t i = 0; i < recs.size(); ++i) {
      store::decision_set one = store::evaluate_record(inst, chosen, recs[i], false);
      INFO("as of " << d << ", record " << i);
      REQUIRE(block[i].record_id == one.record_id);
      REQUIRE(block[i].input_hash == one.input_hash);
      REQUIRE(block[i].decisions_json == one.decisions_json);
      REQUIRE(block[i].trace_digest == one.trace_digest);
      REQUIRE(block[i].decisions_digest == one.decisions_digest);
    }
    CHECK(block[11].decisions_json.rfind(R"({"error":{"field":"content_hash")", 0) == 0);
    // Each of these dates is outside some period in force (AMO Tadamon from 1 December 2022,
    // RAMED until 30 November 2022…): the entries record which, as the instance says.
    std::vector<store::decision_entry> entries;
    REQUIRE(store::read_decisions(block[0].decisions_json, block[0].format, {}, entries));
    std::size_t out_of_force = 0;
    for (std::uint32_t k = 0; k < chosen.size(); ++k) {
      CHECK(entries[k].in_force == (inst->in_force[chosen[k]] != 0));
      out_of_force += entries[k].in_force ? 0 : 1;
    }
    CHECK(out_of_force > 0);
    CHECK(block[11].input_hash == engine::digest{});
  }
}

TEST_CASE("lease: the holder is named by its process space, machine, boot and pid namespace",
          "[store][lease]") {
  // Containers of one image share /etc/machine-id: a pid means a process only in its own pid
  // namespace, so a lease whose pid is free here is another container's, alive there.
  namespace d = dalil::store::detail;
  const std::string here = d::machine_id();
  std::ifstream boot("/proc/sys/kernel/random/boot_id");
  std::string boot_id;
  if (boot && std::getline(boot, boot_id))
    CHECK(here.find("/boot:" + boot_id) != std::string::npos);
  std::error_code ec;
  std::string ns = std::filesystem::read_symlink("/proc/self/ns/pid", ec).string();
  if (!ec) {
    // "pid:[4026531836]"
    std::string inode = ns.substr(ns.find('[') + 1, ns.find(']') - ns.find('[') - 1);
    CHECK(here.ends_with("/pid-ns:" + inode));
    CHECK(d::same_process_space(here, here));
  }
  // Another pid namespace of this machine and boot: not this space.
  std::string other = here.substr(0, here.find("/pid-ns:")) + "/pid-ns:1";
  CHECK_FALSE(d::same_process_space(other, here));
  // A lease written by a dalil that named the machine alone: never taken for this space's.
  CHECK_FALSE(d::same_process_space(here.substr(0, here.find("/boot:")), here));
  // Without a pid namespace (no /proc), nobody's pid can be checked here: waited out.
  CHECK_FALSE(d::same_process_space("machine-id:abc/boot:x", "machine-id:abc/boot:x"));
}

TEST_CASE("a stored record error is read back for a terminal: field and reason, nothing else",
          "[store]") {
  std::string field;
  std::string why;
  // As a batch writes it (batch.cpp, record_error_set).
  REQUIRE(dalil::store::read_record_error(
      R"x({"error":{"field":"household.size","message":"below the bound (at_least 1000)"}})x",
      field, why));
  CHECK(field == "household.size");
  CHECK(why == "below the bound (at_least 1000)");
  // Escapes, raw controls, a C1 control (CSI, U+009B) and a bidi override (U+202E), as a store
  // altered behind the tool's back could hold: each comes out as one '?'.
  REQUIRE(dalil::store::read_record_error(
      "{\"error\":{\"field\":\"a\\u001b[2Jb\",\"message\":\"x\\ny\x1bz\xC2\x9B"
      "w\xE2\x80\xAEv \\\"q\\\" \\\\\"}}",
      field, why));
  CHECK(field == "a?[2Jb");
  CHECK(why == "x?y?z?w?v \"q\" \\");
  // Not a record error: a set of decisions, a truncated text, trailing bytes.
  CHECK_FALSE(dalil::store::read_record_error(R"([[1,true,0,[]]])", field, why));
  CHECK_FALSE(dalil::store::read_record_error(R"({"error":{"field":"a","message":"b)", field, why));
  CHECK_FALSE(
      dalil::store::read_record_error(R"({"error":{"field":"a","message":"b"}}x)", field, why));
}
