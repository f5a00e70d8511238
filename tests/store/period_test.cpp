// Decision sets of a pack with periods in force: outside its period a rule with `otherwise` is
// decided with that value and recorded out of force, counted apart from the criteria not met;
// records are read for the run's date (`not_after as_of`), as `eval` reads them.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "store/batch.hpp"
#include "store/store.hpp"
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

TEST_CASE("batch: out of force decided by `otherwise`, counted apart; records read for the date",
          "[store]") {
  temp_dir dir;
  auto pk = testing::load_pack_text(period_pack);
  std::string error;
  auto db = store::open_sqlite((dir.path / "p.db").string(), error);
  REQUIRE(db);
  write(dir.path / "a.jsonl", R"({"id":"A","status":"refugee","birth_date":"1990-01-01","size":3})"
                              "\n"
                              R"({"id":"B","status":"regular","birth_date":"1985-05-05","size":1})"
                              "\n"
                              R"({"id":"C","status":"refugee","birth_date":"2016-05-01","size":2})"
                              "\n");
  store::import_summary s;
  REQUIRE(store::import_file(*db, pk->rules->program(), (dir.path / "a.jsonl").string(), s, error));
  for (const auto& r : s.rejections)
    UNSCOPED_INFO("row " << r.row << ": " << r.field << ": " << r.reason);
  REQUIRE(s.stored == 3);
  auto chosen = store::contract_rules(pk->rules->program());
  REQUIRE(chosen.size() == 2);
  for (const char* day : {"2014-06-01", "2016-06-01"}) {
    INFO("as of " << day);
    store::batch_options o;
    o.as_of = *parse_date(day);
    o.progress = false;
    store::batch_summary b;
    REQUIRE(store::run_batch(*db, pk->rules, pk->canonical, o, b, error));
    REQUIRE(b.total == 3);
    store::run_decisions described = store::describe_run(pk->rules, o.as_of);
    store::run_counts counts;
    std::map<std::string, std::string> sets;
    REQUIRE(db->each_decision(
        b.run_id,
        [&](const std::string& applicant, const store::decision_set& d) {
          counts.add(d, described.in_force);
          sets[applicant] = d.decisions_json;
        },
        error));
    const store::outcome_counts& ramed = counts.decisions[0];
    const store::outcome_counts& school = counts.decisions[1];
    if (std::string(day) == "2014-06-01") {
      CHECK(school.values == std::map<std::string, std::int64_t>{{"false", 1}, {"true", 1}});
      // Born after the run's date: not a record of that date, as `eval` would say.
      CHECK(counts.errors == 1);
      CHECK(sets["C"].find(R"("field":"birth_date")") != std::string::npos);
      // Before RAMED opened: not in force, counted apart.
      CHECK(sets["A"].find("],0],") != std::string::npos);
      CHECK(ramed.values.empty());
      CHECK(ramed.undetermined == 0);
      CHECK(ramed.out_of_force == 2);
    } else {
      CHECK(school.values == std::map<std::string, std::int64_t>{{"false", 1}, {"true", 2}});
      CHECK(counts.errors == 0);
      CHECK(sets["A"] == R"([["d",true,0,[]],["d",true,0,[]]])");
      CHECK(ramed.values == std::map<std::string, std::int64_t>{{"false", 1}, {"true", 2}});
      CHECK(ramed.out_of_force == 0);
    }
    CHECK_FALSE(db->verify(error));
  }
}
