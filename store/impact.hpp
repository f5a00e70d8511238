// The store's side of `dalil impact`: the latest stored records as a cohort source, read in one
// audited read (one audit entry per impact run, no personal value in it).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/impact.hpp"
#include "store/store.hpp"

namespace dalil::store {

struct impact_request {
  /// Past this time the read stops (errc::busy, "time limit"): a server's bound on one request's
  /// work. The default never passes.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  /// Set to true when the read stopped at `deadline` (its errc::busy is the time limit's, not a
  /// busy store's or a stop's). Null: not told.
  bool* deadline_passed = nullptr;
  /// Set by another thread (a server that stops): the read stops at its next batch of records
  /// (errc::busy, "stopping"). Null: never.
  const std::atomic<bool>* stop = nullptr;
  std::string actor;  // who reads (cli_actor(), or a server's user)
  std::string by;     // the name the reader gave (--by), or ""
  std::vector<record_filter> filter;
  bool reveal_ids = false;  // the outputs name applicants by id (auditors), not by pseudonym
  /// Fewer stored records matching the filter than this: refused (errc::refused) before
  /// anything is read, with one answer for none and for a few, so that a filter cannot single
  /// out an applicant (the server's advisers: suppressed_below). 0: any number.
  std::int64_t min_records = 0;
  engine::impact_options options;
};

/// The change from `old_rules` to `new_rules` over the latest record of every stored applicant
/// matching the filter, as one audited read: the entry (action "read", subject "cohort",
/// details {"purpose":"impact", both ruleset hashes, as_of, filter, records, ids, by}) is
/// committed before anything is read. The entry's filter keeps a categorical value as given, an
/// id as the store's applicant key, and no other value (the field alone): the chain outlives
/// erasure. The matching records are counted first: when none matches, or fewer than
/// `min_records`, the same entry with `"refused"` is committed and errc::refused returned. Also
/// errc::refused on a read-only store (nothing read) or an empty store; errc::failed when the
/// sink failed (it keeps its own error).
status read_impact(store& db, const std::shared_ptr<const engine::ruleset>& old_rules,
                   const std::shared_ptr<const engine::ruleset>& new_rules,
                   const impact_request& request, engine::impact_sink& sink,
                   engine::impact_summary& summary);

/// The summary of an impact as `dalil impact --format json` prints it (without the final newline)
/// and `POST /api/v1/impact` answers it: counts and transitions, never a personal value.
std::string impact_summary_json(const engine::impact_summary& s, const std::string& filter,
                                bool reveal);

/// One flip as a line of flips.jsonl (without its newline), naming the applicant as `who` (a
/// pseudonym, or the id for auditors): {"applicant","decision","program","category","before",
/// "after","why":{"rule","before","after"}}. Holds the values the why's rules read.
void append_flip_json(std::string& out, const engine::impact_flip& f,
                      const engine::decision_impact& d, std::string_view who);

}  // namespace dalil::store
