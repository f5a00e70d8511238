// One suite of the counter store (store/counter_store.hpp) for both backends: each test case
// that includes it gives a backend (a SQLite file in tests/store/counter_test.cpp, a database of
// the pg_virtualenv cluster in tests/pg/pg_counter_test.cpp) and runs run_counter_suite, whose
// sections each start from a fresh, empty store.
#pragma once

#include <catch2/catch.hpp>

#include <atomic>
#include <latch>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/sha256.hpp"
#include "store/counter_store.hpp"
#include "store/store.hpp"

namespace counter_suite {

namespace store = dalil::store;

/// What the suite needs of a backend besides the counter store itself.
class backend {
 public:
  virtual ~backend() = default;
  /// A fresh, empty store (migrated), its `--db` value.
  virtual std::string fresh() = 0;
  /// The store interface over the same store (rulesets, the whole audit verify).
  virtual std::unique_ptr<store::store> open_store(const std::string& db) = 0;
  /// Runs SQL behind the tool's back (the same SQL on both backends).
  virtual void exec(const std::string& db, const std::string& sql) = 0;
};

template <class R>
bool ok(const R& r) {
  if (!r.has_value()) UNSCOPED_INFO("store error: " << r.error().message);
  return r.has_value();
}

constexpr std::string_view ruleset_source = "rule a: 1\n";
inline std::string ruleset_hash() {
  return dalil::engine::sha256_hex(ruleset_source);
}

inline store::counter_decision decision(const std::string& id, const std::string& applicant,
                                        const std::string& json, const std::string& office,
                                        const std::string& value = "1") {
  store::counter_decision d;
  d.decision_id = id;
  d.applicant_id = applicant;
  d.office = office;
  d.actor = "agent-" + office;
  d.as_of = "2026-12-01";
  d.ruleset_hash = ruleset_hash();
  d.record_json = json;
  d.input_hash = dalil::engine::sha256_hex(json);
  d.rules = R"(["a","b"])";
  d.outcomes = R"([{"rule":"a","status":"decided","value":)" + value +
               R"(,"missing":[],"in_force":true,"provisional":false},)"
               R"({"rule":"b","status":"undetermined","value":null,"missing":["x"],)"
               R"("in_force":false,"provisional":false}])";
  d.answer_digest = dalil::engine::sha256_hex(id);
  return d;
}

inline store::review review(const std::string& id, const std::string& decision_id,
                            const std::string& supersedes, const std::string& user,
                            const std::string& outcome = "confirmed") {
  store::review r;
  r.review_id = id;
  r.decision_id = decision_id;
  r.supersedes = supersedes;
  r.user = user;
  r.decisions = R"([{"rule":"a","outcome":")" + outcome + R"("}])";
  return r;
}

/// The store's whole audit verify: the chain, and the counter's rows among the rest.
inline std::vector<store::audit_problem> verify_all(backend& b, const std::string& db) {
  auto s = b.open_store(db);
  auto v = s->verify({});
  REQUIRE(ok(v));
  return v->problems;
}

/// Stores `d` in a transaction of its own; the error when it fails.
/// A filter of reviews (every field named, as -Wmissing-field-initializers wants).
inline store::review_filter filter(std::string office, std::string user, std::string since,
                                   std::string until, std::int64_t limit = 100) {
  return {std::move(office), std::move(user), std::move(since), std::move(until), limit};
}

inline store::status put_one(store::counter_store& cs, store::counter_decision d) {
  if (auto s = cs.begin(); !s) return s;
  if (auto s = cs.put_decision(d); !s) {
    cs.rollback();
    return s;
  }
  return cs.commit();
}

inline store::status review_one(store::counter_store& cs, store::review r) {
  if (auto s = cs.begin(); !s) return s;
  if (auto s = cs.put_review(r); !s) {
    cs.rollback();
    return s;
  }
  return cs.commit();
}

/// A store whose months' figures a dalil before counter_figures entries kept is upgraded on
/// open, each month then vouched for as found: `roll_back`, the SQL that takes a fresh store's
/// schema back to before those entries (the backend's own).
inline void upgrade_vouches_kept_months(backend& b, const std::string& roll_back) {
  const std::string db = b.fresh();
  b.exec(db, roll_back);
  b.exec(
      db,
      R"(INSERT INTO counter_month_figures(month, figures, at) VALUES('2026-10', '{"total":12}', '2026-11-02T00:00:00Z'))");
  b.exec(
      db,
      R"(INSERT INTO counter_month_figures(month, figures, at) VALUES('2026-11', '{"total":30}', '2026-12-02T00:00:00Z'))");
  CHECK(verify_all(b, db).empty());  // opening the store upgraded it
  {
    auto opened = store::counter_store::open(db);
    REQUIRE(ok(opened));
    auto clean = (*opened)->verify();
    REQUIRE(ok(clean));
    CHECK_FALSE(clean->has_value());
    CHECK(*(*opened)->month_figures("2026-10") == R"({"total":12})");
  }
  // Vouched for: a change is named.
  b.exec(db, R"(UPDATE counter_month_figures SET figures='{"total":13}' WHERE month='2026-11')");
  auto opened = store::counter_store::open(db);
  REQUIRE(ok(opened));
  auto problem = (*opened)->verify();
  REQUIRE(ok(problem));
  REQUIRE(problem->has_value());
  CHECK((*problem)->what.find("the figures kept for 2026-11") != std::string::npos);
  CHECK((*problem)->what.find("were changed") != std::string::npos);
}

inline void run_counter_suite(backend& b) {
  const std::string db = b.fresh();
  {
    auto s = b.open_store(db);
    REQUIRE(ok(s->put_ruleset(ruleset_hash(), std::string(ruleset_source))));
  }
  auto opened = store::counter_store::open(db);
  REQUIRE(ok(opened));
  store::counter_store& cs = **opened;
  CHECK_FALSE(cs.encrypted());

  SECTION("put_decision: a new version, an unchanged record, a duplicate id") {
    REQUIRE(ok(cs.begin()));
    auto d1 = decision("d1", "A1", R"({"id":"A1","n":1})", "rabat");
    REQUIRE(ok(cs.put_decision(d1)));
    CHECK(d1.record_version == 1);
    CHECK_FALSE(d1.at.empty());
    auto d2 = decision("d2", "A1", R"({"id":"A1","n":1})", "rabat");
    REQUIRE(ok(cs.put_decision(d2)));
    CHECK(d2.record_id == d1.record_id);  // the same content: no new version
    CHECK(d2.record_version == 1);
    auto d3 = decision("d3", "A1", R"({"id":"A1","n":2})", "fes", "2");
    d3.publication_id = 0;
    REQUIRE(ok(cs.put_decision(d3)));
    CHECK(d3.record_version == 2);
    CHECK(d3.record_id != d1.record_id);
    REQUIRE(ok(cs.savepoint()));
    auto again = decision("d1", "A2", R"({"id":"A2"})", "rabat");
    auto dup = cs.put_decision(again);
    REQUIRE_FALSE(dup.has_value());
    CHECK(dup.error().code == store::errc::conflict);
    cs.rollback_to();
    REQUIRE(ok(cs.commit()));

    auto latest = cs.latest_record("A1", "");
    REQUIRE(ok(latest));
    CHECK(latest->version == 2);
    CHECK(latest->json == R"({"id":"A1","n":2})");
    CHECK(cs.latest_record("A2", "").error().code == store::errc::not_found);
    // An office sees the record of its own latest decision: rabat evaluated version 1 (twice),
    // fes version 2; an office without a decision for the applicant, nothing.
    auto rabat = cs.latest_record("A1", "rabat");
    REQUIRE(ok(rabat));
    CHECK(rabat->version == 1);
    CHECK(rabat->json == R"({"id":"A1","n":1})");
    auto fes = cs.latest_record("A1", "fes");
    REQUIRE(ok(fes));
    CHECK(fes->version == 2);
    CHECK(cs.latest_record("A1", "casa").error().code == store::errc::not_found);
    auto back = cs.decision("d1", "");
    REQUIRE(ok(back));
    CHECK(back->applicant_id == "A1");
    CHECK(back->office == "rabat");
    CHECK(back->record_json == R"({"id":"A1","n":1})");
    CHECK(back->record_version == 1);
    CHECK(back->outcomes == d1.outcomes);
    CHECK(back->at == d1.at);
    CHECK(store::counter_digest(*back) == store::counter_digest(d1));
    CHECK(cs.decision("nope", "").error().code == store::errc::not_found);
    // Read for an office: its own decision; another office's is not found.
    CHECK(ok(cs.decision("d1", "rabat")));
    CHECK(cs.decision("d1", "fes").error().code == store::errc::not_found);
    CHECK(cs.decision("nope", "rabat").error().code == store::errc::not_found);
    auto n = cs.count_decisions();
    REQUIRE(ok(n));
    CHECK(*n == 3);
    auto problem = cs.verify();
    REQUIRE(ok(problem));
    CHECK_FALSE(problem->has_value());
    CHECK(verify_all(b, db).empty());
  }

  SECTION("a request rolled back to its savepoint, or a transaction rolled back, leaves nothing") {
    REQUIRE(ok(cs.begin()));
    REQUIRE(ok(cs.savepoint()));
    auto gone = decision("gone", "B1", R"({"id":"B1"})", "rabat");
    REQUIRE(ok(cs.put_decision(gone)));
    cs.rollback_to();
    REQUIRE(ok(cs.savepoint()));
    auto kept = decision("kept", "C1", R"({"id":"C1"})", "rabat");
    REQUIRE(ok(cs.put_decision(kept)));
    REQUIRE(ok(cs.release()));
    REQUIRE(ok(cs.commit()));
    REQUIRE(ok(cs.begin()));
    auto dropped = decision("dropped", "D1", R"({"id":"D1"})", "rabat");
    REQUIRE(ok(cs.put_decision(dropped)));
    cs.rollback();

    CHECK(cs.decision("gone", "").error().code == store::errc::not_found);
    CHECK(cs.decision("dropped", "").error().code == store::errc::not_found);
    CHECK(cs.latest_record("B1", "").error().code == store::errc::not_found);
    CHECK(cs.latest_record("D1", "").error().code == store::errc::not_found);
    CHECK(ok(cs.decision("kept", "")));
    CHECK(*cs.count_decisions() == 1);
    auto problem = cs.verify();
    REQUIRE(ok(problem));
    CHECK_FALSE(problem->has_value());
    CHECK(verify_all(b, db).empty());  // the import's digest is of the kept record alone
  }

  SECTION("reviews: a chain by supersedes, conflicts, reads and counts") {
    REQUIRE(ok(put_one(cs, decision("d1", "A1", R"({"id":"A1"})", "rabat"))));
    REQUIRE(ok(put_one(cs, decision("d2", "A2", R"({"id":"A2"})", "fes"))));
    REQUIRE(ok(put_one(cs, decision("d3", "A1", R"({"id":"A1","n":2})", "fes", "2"))));
    auto r1 = review("r1", "d1", "", "amina");
    REQUIRE(ok(cs.begin()));
    REQUIRE(ok(cs.put_review(r1)));
    CHECK(r1.seq == 1);
    auto second_first = review("r2", "d1", "", "amina");
    auto c1 = cs.put_review(second_first);
    REQUIRE_FALSE(c1.has_value());
    CHECK(c1.error().code == store::errc::conflict);
    auto r2 = review("r2", "d1", "r1", "karim", "overridden");
    REQUIRE(ok(cs.put_review(r2)));
    CHECK(r2.seq == 2);
    auto stale = review("r3", "d1", "r1", "amina");
    auto c2 = cs.put_review(stale);
    REQUIRE_FALSE(c2.has_value());
    CHECK(c2.error().code == store::errc::conflict);
    auto unknown = review("r4", "no-such", "", "amina");
    auto nf = cs.put_review(unknown);
    REQUIRE_FALSE(nf.has_value());
    CHECK(nf.error().code == store::errc::not_found);
    auto r5 = review("r5", "d2", "", "karim");
    REQUIRE(ok(cs.put_review(r5)));
    REQUIRE(ok(cs.commit()));

    auto rs = cs.reviews("d1");
    REQUIRE(ok(rs));
    REQUIRE(rs->size() == 2);
    CHECK((*rs)[0].review_id == "r1");
    CHECK((*rs)[0].supersedes.empty());
    CHECK((*rs)[1].review_id == "r2");
    CHECK((*rs)[1].supersedes == "r1");
    CHECK((*rs)[1].seq == 2);
    CHECK(store::review_digest((*rs)[1]) == store::review_digest(r2));

    auto all = cs.applicant_decisions("A1", "");
    REQUIRE(ok(all));
    REQUIRE(all->size() == 2);
    CHECK((*all)[0].decision_id == "d1");
    CHECK((*all)[0].reviewed);
    CHECK((*all)[1].decision_id == "d3");
    CHECK_FALSE((*all)[1].reviewed);
    auto fes = cs.applicant_decisions("A1", "fes");
    REQUIRE(ok(fes));
    REQUIRE(fes->size() == 1);
    CHECK((*fes)[0].decision_id == "d3");
    CHECK(cs.applicant_decisions("nobody", "")->empty());

    auto listed = cs.list_reviews({});
    REQUIRE(ok(listed));
    REQUIRE(listed->size() == 3);
    CHECK((*listed)[0].r.review_id == "r1");
    CHECK((*listed)[0].office == "rabat");
    auto by_office = cs.list_reviews(filter("fes", "", "", ""));
    REQUIRE(ok(by_office));
    REQUIRE(by_office->size() == 1);
    CHECK((*by_office)[0].r.review_id == "r5");
    auto by_user = cs.list_reviews(filter("", "karim", "", ""));
    REQUIRE(ok(by_user));
    CHECK(by_user->size() == 2);
    CHECK(cs.list_reviews(filter("", "", "2999-01-01", ""))->empty());
    CHECK(cs.list_reviews(filter("", "", "", "2000-01-01"))->empty());
    CHECK(cs.list_reviews(filter("", "", "2000-01-01", "2999-01-01"))->size() == 3);
    CHECK(cs.list_reviews(filter("", "", "", "", 2))->size() == 2);

    // The latest review of each decision: r2 (d1, overridden), r5 (d2, confirmed).
    const store::time_span always{"2000-01-01T00:00:00Z", "9999-12-31T00:00:00Z"};
    const store::time_span before{"2000-01-01T00:00:00Z", "2001-01-01T00:00:00Z"};
    CHECK(cs.override_counts(before)->empty());
    CHECK(cs.outcome_counts(before)->empty());
    CHECK(*cs.count_decisions_within(before) == 0);
    CHECK(*cs.count_decisions_within(always) == *cs.count_decisions());
    // The three in one snapshot: what each reads alone.
    auto tally = cs.tally_within(always);
    REQUIRE(ok(tally));
    CHECK(tally->total == *cs.count_decisions());
    {
      auto cells = cs.outcome_counts(always);
      REQUIRE(tally->cells.size() == cells->size());
      for (std::size_t i = 0; i < cells->size(); ++i) {
        const auto& [t, a] = std::pair(tally->cells[i], (*cells)[i]);
        CHECK(std::tie(t.rule, t.status, t.value, t.in_force, t.count) ==
              std::tie(a.rule, a.status, a.value, a.in_force, a.count));
      }
      auto overrides = cs.override_counts(always);
      REQUIRE(tally->overrides.size() == overrides->size());
      for (std::size_t i = 0; i < overrides->size(); ++i) {
        const auto& [t, a] = std::pair(tally->overrides[i], (*overrides)[i]);
        CHECK(std::tie(t.rule, t.reviewed, t.overridden) ==
              std::tie(a.rule, a.reviewed, a.overridden));
      }
    }
    CHECK(tally->total == 3);
    CHECK(cs.tally_within(before)->total == 0);
    CHECK(cs.tally_within(before)->cells.empty());
    auto first = cs.first_counter_activity();
    REQUIRE(ok(first));
    CHECK(first->size() == 20);  // YYYY-MM-DDTHH:MM:SSZ
    CHECK(*first <= store::now_utc());
    CHECK(*first > "2026-01-01");
    // A month's figures: the first kept are the month's, whoever keeps others later.
    CHECK(cs.month_figures("2026-11")->empty());
    CHECK(*cs.keep_month_figures("2026-11", "{\"first\":1}") == "{\"first\":1}");
    CHECK(*cs.keep_month_figures("2026-11", "{\"second\":2}") == "{\"first\":1}");
    CHECK(*cs.month_figures("2026-11") == "{\"first\":1}");
    CHECK(cs.month_figures("2026-10")->empty());
    auto overrides = cs.override_counts(always);
    REQUIRE(ok(overrides));
    REQUIRE(overrides->size() == 1);
    CHECK((*overrides)[0].rule == "a");
    CHECK((*overrides)[0].reviewed == 2);
    CHECK((*overrides)[0].overridden == 1);

    auto counts = cs.outcome_counts(always);
    REQUIRE(ok(counts));
    REQUIRE(counts->size() == 3);
    CHECK((*counts)[0].rule == "a");
    CHECK((*counts)[0].status == "decided");
    CHECK((*counts)[0].value == "1");
    CHECK((*counts)[0].in_force);
    CHECK((*counts)[0].count == 2);
    CHECK((*counts)[1].value == "2");
    CHECK((*counts)[1].count == 1);
    CHECK((*counts)[2].rule == "b");
    CHECK((*counts)[2].status == "undetermined");
    CHECK((*counts)[2].value.empty());
    CHECK_FALSE((*counts)[2].in_force);
    CHECK((*counts)[2].count == 3);

    auto problem = cs.verify();
    REQUIRE(ok(problem));
    CHECK_FALSE(problem->has_value());
    CHECK(verify_all(b, db).empty());
  }

  SECTION("two connections review one decision at once: exactly one wins") {
    constexpr int rounds = 8;
    for (int i = 0; i < rounds; ++i) {
      const std::string id = "d" + std::to_string(i);
      REQUIRE(ok(put_one(cs, decision(id, "A" + std::to_string(i), R"({"n":1})", "rabat"))));
    }
    auto other = store::counter_store::open(db);
    REQUIRE(ok(other));
    std::vector<store::counter_store*> conns = {&cs, other->get()};
    for (int i = 0; i < rounds; ++i) {
      const std::string id = "d" + std::to_string(i);
      std::latch go(2);
      std::vector<store::status> out(2);
      std::vector<std::thread> threads;
      threads.reserve(2);
      for (int k = 0; k < 2; ++k) {
        threads.emplace_back([&, k] {
          go.arrive_and_wait();
          out[k] = review_one(*conns[k], review("r" + std::to_string(i) + "-" + std::to_string(k),
                                                id, "", "official-" + std::to_string(k)));
        });
      }
      for (auto& t : threads) t.join();
      INFO("round " << i);
      CHECK(out[0].has_value() != out[1].has_value());
      for (const auto& s : out) {
        if (!s) CHECK(s.error().code == store::errc::conflict);
      }
      auto rs = cs.reviews(id);
      REQUIRE(ok(rs));
      CHECK(rs->size() == 1);
    }
    auto problem = cs.verify();
    REQUIRE(ok(problem));
    CHECK_FALSE(problem->has_value());
    CHECK(verify_all(b, db).empty());
  }

  SECTION("two connections store decisions at once: every one stored, verify clean") {
    constexpr std::int64_t per_thread = 15;
    auto other = store::counter_store::open(db);
    REQUIRE(ok(other));
    std::vector<store::counter_store*> conns = {&cs, other->get()};
    std::latch go(2);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    threads.reserve(2);
    for (int k = 0; k < 2; ++k) {
      threads.emplace_back([&, k] {
        go.arrive_and_wait();
        for (std::int64_t i = 0; i < per_thread; ++i) {
          // Three decisions a transaction; applicants shared by both threads (their versions
          // interleave) and one of this thread's own.
          store::counter_store& c = *conns[k];
          const std::string n = std::to_string(k) + "-" + std::to_string(i);
          bool stored = c.begin().has_value();
          for (const auto& d :
               {decision("s" + n, "shared-" + std::to_string(i % 3),
                         R"({"by":)" + n.substr(0, 1) + R"(,"i":)" + std::to_string(i) + "}",
                         "rabat"),
                decision("o" + n, "own-" + n, R"({"own":1})", "fes"),
                decision("u" + n, "shared-" + std::to_string(i % 3), R"({"same":1})", "fes")}) {
            auto copy = d;
            stored = stored && c.put_decision(copy).has_value();
          }
          stored = stored && c.commit().has_value();
          if (!stored) {
            c.rollback();
            ++failures;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    auto n = cs.count_decisions();
    REQUIRE(ok(n));
    CHECK(*n == 2 * per_thread * 3);
    auto problem = cs.verify();
    REQUIRE(ok(problem));
    CHECK_FALSE(problem->has_value());
    CHECK(verify_all(b, db).empty());  // the chain intact, every record vouched for
  }

  SECTION("verify names a decision or a review changed behind the tool's back") {
    REQUIRE(ok(put_one(cs, decision("d1", "A1", R"({"id":"A1"})", "rabat"))));
    REQUIRE(ok(review_one(cs, review("r1", "d1", "", "amina"))));
    SECTION("a decision's office") {
      b.exec(db, "UPDATE counter_decisions SET office='casablanca' WHERE decision_id='d1'");
      auto problem = cs.verify();
      REQUIRE(ok(problem));
      REQUIRE(problem->has_value());
      CHECK((*problem)->what.find("counter decision d1") != std::string::npos);
      CHECK((*problem)->what.find("was changed") != std::string::npos);
    }
    SECTION("a review's decisions") {
      b.exec(db, R"(UPDATE reviews SET decisions='[]' WHERE review_id='r1')");
      auto problem = cs.verify();
      REQUIRE(ok(problem));
      REQUIRE(problem->has_value());
      CHECK((*problem)->what.find("review r1") != std::string::npos);
      CHECK((*problem)->what.find("was changed") != std::string::npos);
    }
    SECTION("a review deleted") {
      b.exec(db, "DELETE FROM reviews WHERE review_id='r1'");
      auto problem = cs.verify();
      REQUIRE(ok(problem));
      REQUIRE(problem->has_value());
      CHECK((*problem)->what.find("review r1") != std::string::npos);
      CHECK((*problem)->what.find("was deleted") != std::string::npos);
    }
    auto all = verify_all(b, db);
    REQUIRE(all.size() == 1);
    CHECK(all[0].kind == "counter");
  }

  SECTION("a month's figures kept are vouched for: verify names them changed, deleted, inserted") {
    REQUIRE(ok(cs.keep_month_figures("2026-10", R"({"total":12})")));
    REQUIRE(ok(cs.keep_month_figures("2026-11", R"({"total":30})")));
    REQUIRE(ok(cs.keep_month_figures("2026-11", R"({"total":31})")));  // kept already: no entry
    auto clean = cs.verify();
    REQUIRE(ok(clean));
    CHECK_FALSE(clean->has_value());
    CHECK(verify_all(b, db).empty());
    auto expect = [&](std::string_view what) {
      auto problem = cs.verify();
      REQUIRE(ok(problem));
      REQUIRE(problem->has_value());
      INFO((*problem)->what);
      CHECK((*problem)->what.find(what) != std::string::npos);
      auto all = verify_all(b, db);
      REQUIRE(all.size() == 1);
      CHECK(all[0].kind == "counter");
    };
    SECTION("changed") {
      b.exec(db,
             R"(UPDATE counter_month_figures SET figures='{"total":13}' WHERE month='2026-10')");
      expect("the figures kept for 2026-10 (audit entry");
      expect("were changed");
    }
    SECTION("deleted (they would be counted again, late decisions included)") {
      b.exec(db, "DELETE FROM counter_month_figures WHERE month='2026-11'");
      expect("the figures kept for 2026-11 (audit entry");
      expect("were deleted");
    }
    SECTION("inserted") {
      b.exec(
          db,
          R"(INSERT INTO counter_month_figures(month, figures, at) VALUES('2026-09', '{"total":1}', '2026-10-02T00:00:00Z'))");
      expect("months' figures that no audit entry vouches for");
    }
    SECTION("moved to another month") {
      b.exec(db, "UPDATE counter_month_figures SET month='2026-09' WHERE month='2026-10'");
      expect("the figures kept for 2026-10 (audit entry");
      expect("were deleted");
    }
  }

  SECTION("a master key for a plain store is refused") {
    store::crypto::master_key key{};
    auto keyed = store::counter_store::open(db, &key);
    REQUIRE_FALSE(keyed.has_value());
    CHECK(keyed.error().code == store::errc::refused);
    CHECK(keyed.error().message.find("master key") != std::string::npos);
  }
}

}  // namespace counter_suite
