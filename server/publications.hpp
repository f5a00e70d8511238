// Which ruleset the server decides with: one pack for every date (`dalil serve --rules DIR`,
// tests and development), or the store's publications (`dalil serve --db F` alone), where an
// as-of date gets the publication in effect then (store::in_effect). A new publication is seen
// without a restart: the publications' version (a count and the greatest id, one indexed read,
// never a source) is polled at most once per poll interval; compiled rulesets are kept by hash.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/ruleset.hpp"
#include "store/counter_store.hpp"
#include "store/publications.hpp"
#include "store/result.hpp"

namespace dalil::server {

/// A ruleset to decide with, and the publication it comes from (0: the --rules pack).
struct chosen_ruleset {
  std::shared_ptr<const engine::ruleset> rules;
  std::int64_t publication = 0;
};

class ruleset_choice {
 public:
  /// One pack for every date (--rules).
  explicit ruleset_choice(std::shared_ptr<const engine::ruleset> fixed);
  /// The publications of the store at `db` (already migrated), polled every `poll`.
  static store::result<std::unique_ptr<ruleset_choice>> published(
      const std::string& db, std::chrono::milliseconds poll = std::chrono::seconds(1));
  ~ruleset_choice();
  ruleset_choice(const ruleset_choice&) = delete;
  ruleset_choice& operator=(const ruleset_choice&) = delete;

  /// Whether the server serves the store's publications (no --rules).
  bool published_mode() const { return fixed_ == nullptr; }

  /// The ruleset for an as-of date: the --rules pack, or the publication in effect on it.
  /// errc::not_found (no publication in effect on that date: the no-ruleset problem);
  /// errc::damaged when the stored source no longer compiles; errc::failed on a store error.
  store::result<chosen_ruleset> for_date(date as_of);
  /// A publication's ruleset (errc::not_found when there is no such publication); in --rules
  /// mode every id is not found. May compile it (about 15 ms for the shipped pack): callers on
  /// an I/O thread check the id with ruleset_hash first and compile on a pool.
  store::result<chosen_ruleset> by_id(std::int64_t id);
  /// A publication's ruleset hash, without compiling it (errc::not_found as by_id). An id not
  /// seen yet makes the store be polled at once: it may have been published since.
  store::result<std::string> ruleset_hash(std::int64_t id);
  /// The publications as last polled (at most one poll interval old), oldest first.
  store::result<std::vector<store::publication>> list();
  /// A compiled ruleset of this hash if one is kept (the --rules pack, or a publication's).
  std::shared_ptr<const engine::ruleset> cached(const std::string& hash);

 private:
  ruleset_choice() = default;
  /// Polls the version when the interval has passed (or at once, `now_please`); reloads the
  /// list when it changed.
  store::status refresh(bool now_please = false);
  /// Two caches of compiled rulesets: the ones decisions are made with (for_date: the
  /// officials'), and the ones named by publication id (by_id: advisers' diffs and impacts), so
  /// that an adviser going through many publications never evicts the pack officials decide
  /// with (it would be compiled again, about 15 ms, on a request's thread).
  enum class use { deciding, comparing };
  /// The compiled ruleset of a stored hash (compiled once, kept in the cache of its use). Takes
  /// the locks it needs: the cache's only for a lookup, so that a compile (about 15 ms) never
  /// holds up the evaluations whose ruleset is kept.
  store::result<std::shared_ptr<const engine::ruleset>> compiled(const std::string& hash, use u);
  /// A kept ruleset of this hash, from either cache; when `touch`, made the most recent of the
  /// cache of `u` (put there too when only the other held it). Takes mutex_.
  std::shared_ptr<const engine::ruleset> kept(const std::string& hash, bool touch, use u);
  /// The cache of `u` (callers hold mutex_).
  std::list<std::shared_ptr<const engine::ruleset>>& cache(use u) {
    return u == use::deciding ? deciding_ : comparing_;
  }

  std::shared_ptr<const engine::ruleset> fixed_;
  std::chrono::milliseconds poll_{1000};
  std::atomic<std::int64_t> next_poll_{0};  // steady clock, nanoseconds
  std::mutex compile_mutex_;  // one compile at a time (two requests for one hash compile once)
  std::mutex store_mutex_;    // the store's connection and what a poll keeps:
  std::unique_ptr<store::publication_store> db_;
  store::publications_version version_;
  bool loaded_ = false;
  std::mutex mutex_;  // held briefly, never across a store read or a compile:
  std::vector<store::publication> list_;
  std::list<std::shared_ptr<const engine::ruleset>> deciding_;   // most recent first
  std::list<std::shared_ptr<const engine::ruleset>> comparing_;  // most recent first
};

/// The compact form a counter decision's answer digest covers: engine::compact_form, with
/// `"publication": ID` as its last member when a publication decided (decisions of --rules and
/// those stored before publications have none, so their digests are unchanged).
std::string decision_compact_form(const store::counter_decision& d);

}  // namespace dalil::server
