// Decision sets of a pack with periods in force: outside its period a rule with `otherwise` is
// decided with that value and recorded out of force, counted apart from the criteria not met;
// records imported with a date of today or before are read whatever the run's date (a what-if
// date may be before them), and a value below its bound is refused.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "engine/sha256.hpp"
#include "store/batch.hpp"
#include "store/store.hpp"
#include "tests/store/support.hpp"
#include "tests/support/packs.hpp"

using namespace dalil;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("dalil-period-test-" + std::to_string(::getpid()));
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

}  // namespace

namespace {

// A pack with a period in force answered outside it (`otherwise`), one without, and a date that
// cannot be after the as-of date.
const char* const period_pack = R"(module p
  title fr "Essai" ar "تجربة" en "Test"

enum Status { regular, refugee }

record Applicant {
  id : text
  status : Status
  birth_date : date
    not_after as_of
  size : int
    at_least 1
}

input applicant : Applicant

rule ramed : bool
  source "Décret 2-08-177"
  in_force from 2015-10-26 until 2022-11-30 otherwise false
  explain fr "RAMED : {value}" ar "راميد : {value}" en "RAMED: {value}"
  = applicant.size >= 2

rule school : bool
  source "Circulaire 13-487"
  in_force from 2013-10-09
  explain fr "école : {value}" ar "المدرسة : {value}" en "school: {value}"
  = applicant.status == refugee
)";

}  // namespace

TEST_CASE("batch: out of force decided by `otherwise`, counted apart, records read for the date",
          "[store]") {
  temp_dir dir;
  auto pk = testing::load_pack_text(period_pack);
  auto db = testing::open_store(testing::fresh_db(dir.path, "p"));
  write(dir.path / "a.jsonl", R"({"id":"A","status":"refugee","birth_date":"1990-01-01","size":3})"
                              "\n"
                              R"({"id":"B","status":"regular","birth_date":"1985-05-05","size":1})"
                              "\n"
                              R"({"id":"C","status":"refugee","birth_date":"2016-05-01","size":2})"
                              "\n"
                              R"({"id":"D","status":"refugee","birth_date":"2999-01-01","size":2})"
                              "\n"
                              R"({"id":"E","status":"refugee","birth_date":"1999-01-01","size":0})"
                              "\n");
  store::import_summary s;
  REQUIRE(store::import_file(*db, pk->rules->program(), (dir.path / "a.jsonl").string(), s));
  CHECK(s.stored == 3);
  // Refused at import: born after today, and a household of no one.
  REQUIRE(s.rejections.size() == 2);
  CHECK(s.rejections[0].field == "birth_date");
  CHECK(s.rejections[1].field == "size");
  // A record stored before the bound was written (by a pack without it) is refused when read.
  auto import = db->begin_import("older.jsonl");
  REQUIRE(import);
  std::string older = R"({"id":"F","status":"regular","birth_date":"1980-01-01","size":0})";
  REQUIRE((*import)->put_record("F", engine::sha256_hex(older), older).value() ==
          store::put_result::stored);
  REQUIRE((*import)->finish("", 1, 1, 0, 0));
  auto chosen = store::contract_rules(pk->rules->program());
  REQUIRE(chosen.size() == 2);
  for (const char* day : {"2014-06-01", "2016-06-01"}) {
    INFO("as of " << day);
    store::batch_options o;
    o.as_of = *parse_date(day);
    o.progress = false;
    store::batch_summary b;
    REQUIRE(store::run_batch(*db, pk->rules, pk->canonical, o, b));
    REQUIRE(b.total == 4);
    store::run_decisions described = store::describe_run(pk->rules, o.as_of);
    store::run_counts counts;
    std::map<std::string, std::string> sets;
    REQUIRE(db->each_decision(b.run_id,
                              [&](const std::string& applicant, const store::decision_set& d) {
                                counts.add(d, described.in_force);
                                sets[applicant] = d.decisions_json;
                              }));
    CHECK(counts.errors == 1);
    CHECK(sets["F"].find(R"({"error":{"field":"size")") == 0);
    const store::outcome_counts& ramed = counts.decisions[0];
    const store::outcome_counts& school = counts.decisions[1];
    // C, born in 2016, is read as of 2014 too: a what-if date before recent events.
    CHECK(school.values == std::map<std::string, std::int64_t>{{"false", 1}, {"true", 2}});
    if (std::string(day) == "2014-06-01") {
      // Before RAMED opened: decided `false` by its `otherwise`, not in force (nor provisional:
      // its confidence decided nothing), counted apart from the criteria not met.
      CHECK(sets["A"] == R"([["d",false,0,[],0],["d",true,0,[]]])");
      CHECK(ramed.values.empty());
      CHECK(ramed.undetermined == 0);
      CHECK(ramed.out_of_force == 3);
      CHECK(ramed.out_of_force_values == std::map<std::string, std::int64_t>{{"false", 3}});
      CHECK(ramed.out_of_force_undetermined == 0);
    } else {
      CHECK(sets["A"] == R"([["d",true,0,[]],["d",true,0,[]]])");
      CHECK(ramed.values == std::map<std::string, std::int64_t>{{"false", 1}, {"true", 2}});
      CHECK(ramed.out_of_force == 0);
    }
    CHECK(testing::verify_problems(*db).empty());
    // Block and record-at-a-time evaluation agree on these sets, byte for byte.
    auto inst = engine::instantiate(pk->rules, o.as_of);
    std::vector<store::stored_record> recs;
    for (std::int64_t id = 1; id <= 4; ++id) recs.push_back(*db->record(id));
    std::vector<store::decision_set> block(recs.size());
    store::evaluate_records(inst, chosen, recs.data(), recs.size(), block.data());
    for (std::size_t i = 0; i < recs.size(); ++i) {
      store::decision_set one = store::evaluate_record(inst, chosen, recs[i], false);
      CHECK(block[i].decisions_json == one.decisions_json);
      CHECK(block[i].trace_digest == one.trace_digest);
      CHECK(db->decisions(b.run_id, recs[i].record_id)->decisions_json == one.decisions_json);
    }
  }
}
