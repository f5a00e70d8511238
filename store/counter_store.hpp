// Counter decisions and reviews: what an official's evaluation at the counter stores (the record
// as a version of the applicant, the answer's compact form and its digest) and the
// official's own decision over it (reviews, appended, never replacing the recommendation), each
// vouched for by an audit entry written in the same transaction (Law 09-08 art. 11).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/crypto.hpp"
#include "store/result.hpp"
#include "store/store.hpp"

namespace dalil::store {

/// One counter evaluation. The caller fills the first block; the store the second.
struct counter_decision {
  std::string decision_id;  // opaque, unguessable (the server draws 128 random bits)
  /// The record's `id` when stored (put_decision). Read back, the applicant as the store names
  /// them: the id in a plain store, the pseudonym in an encrypted one (the record's own `id`,
  /// once opened, is the plain id).
  std::string applicant_id;
  std::string office;        // the office of the official who asked (a prefecture)
  std::string actor;         // the principal's name
  std::string as_of;         // YYYY-MM-DD
  std::string ruleset_hash;  // a ruleset the store holds (put_ruleset)
  std::string record_json;   // the record, canonical JSON
  std::string input_hash;    // SHA-256 hex of record_json
  std::string rules;         // JSON array of the rule names decided, in answer order
  /// The decisions of the answer's compact form (engine::compact_decisions): a JSON array, one
  /// {"rule","status","value","missing","in_force","provisional"} per decided rule, what
  /// statistics read and what a read checks the regenerated answer against. Decisions stored
  /// before the compact form lack "missing".
  std::string outcomes;
  bool trace = true;  // the answer carried the traces
  /// SHA-256 hex of the compact form (engine::compact_form of as_of, ruleset_hash, input_hash
  /// and outcomes); before the compact form, of the whole evaluation object answered.
  std::string answer_digest;
  /// The publication that decided (store/publications.hpp); 0 for a server run with --rules
  /// and for decisions stored before publications. Part of the row's digest, and of the compact
  /// form the answer digest covers, when not 0.
  std::int64_t publication_id = 0;

  std::string at;  // UTC, ISO 8601
  std::int64_t record_id = 0;
  std::int64_t record_version = 0;
  /// Read back from an encrypted store: the record is sealed (record_json is its plaintext
  /// when the store was opened with the master key, "" without it)…
  bool sealed = false;
  /// …and its applicant was erased (`dalil erase`, retention): the data key is destroyed, the
  /// record can never be read again (record_json ""); the rest of the row still counts.
  bool erased = false;
  /// Not stored: which outcomes an encrypted store may keep in plain (store::plain_value_mask
  /// of the ruleset and the rules decided), set by who evaluated; empty: flags and null only.
  std::vector<std::uint8_t> plain_values;
};

/// The official's decision over a counter evaluation.
struct review {
  std::string review_id;     // opaque (drawn by the server)
  std::string decision_id;   // the counter decision reviewed
  std::string supersedes;    // the review it replaces ("" for the first)
  std::string user;          // the official
  std::string decisions;     // JSON array [{"rule","outcome","value"?,"reason"?,"documents"?}]
  std::string observations;  // the applicant's own observations ("" when none)

  std::string at;
  std::int64_t seq = 0;  // 1 for the first review of a decision, then 2, …
  /// Read back from an encrypted store: decisions and observations are sealed under the
  /// applicant's data key (opened with the master key; without it `decisions` holds only each
  /// decision's rule and outcome, sealing::review_projection, and `observations` is "")…
  bool sealed = false;
  /// …and the applicant was erased: what the official wrote can never be read again (the
  /// projection stays, for the override rates).
  bool erased = false;
};

/// A review from the eight columns both stores select for one, from column `first`: review_id,
/// decision_id, seq, supersedes (NULL read as ""), at, user, decisions and observations. `Row`
/// reads a column of the current row as `text(col)` and `int64(col)`: a SQLite statement, or
/// one row of a PostgreSQL result (pg::row_view).
template <class Row>
review review_from_row(const Row& q, int first = 0) {
  review r;
  r.review_id = q.text(first);
  r.decision_id = q.text(first + 1);
  r.seq = q.int64(first + 2);
  r.supersedes = q.text(first + 3);
  r.at = q.text(first + 4);
  r.user = q.text(first + 5);
  r.decisions = q.text(first + 6);
  r.observations = q.text(first + 7);
  return r;
}

/// One line of an applicant's history of counter decisions.
struct decision_summary {
  std::string decision_id;
  std::string as_of;
  std::string at;
  std::string office;
  std::string ruleset_hash;
  bool reviewed = false;
  std::int64_t publication_id = 0;  // 0: none (see counter_decision)
};

/// Which reviews an auditor lists; empty fields do not filter.
struct review_filter {
  std::string office;
  std::string user;
  std::string since;  // at >= since (ISO 8601 prefix such as 2026-12-01)
  std::string until;  // at < until
  std::int64_t limit = 100;
};

/// A review with the office of its decision (for the auditors' list).
struct review_row {
  review r;
  std::string office;
};

/// Counts for statistics, without personal data: per decided rule, per office-free cell.
struct counter_cell {
  std::string rule;
  std::string status;  // "decided", "undetermined"
  std::string value;   // JSON of the value when decided, "" otherwise
  bool in_force = true;
  std::int64_t count = 0;
};
struct override_cell {
  std::string rule;
  std::int64_t reviewed = 0;    // decisions whose latest review decides this rule
  std::int64_t overridden = 0;  // of which the official overrode the recommendation
};
/// What a month's statistics count (counter_store::tally_within), read in one snapshot.
struct span_tally {
  std::vector<counter_cell> cells;
  std::vector<override_cell> overrides;
  std::int64_t total = 0;  // the decisions made within the span
};
/// A span of time [from, until) in the store's UTC times (YYYY-MM-DDTHH:MM:SSZ, as now_utc
/// writes them; compared as text).
struct time_span {
  std::string from;
  std::string until;
};

/// One connection over the counter tables of a store: SQLite (store/sqlite_counter.cpp, a store
/// that open_sqlite has created and migrated) or PostgreSQL (store/pg/pg_counter.cpp, a database
/// that pg_store::open has migrated; docs/postgresql.md). Not thread-safe: the server's writer
/// thread has one, each reader thread its own. Both write the same rows, the same audit entries
/// and digests, so that `audit verify` checks them by the same rules.
///
/// An encrypted store (docs/operations.md, `dalil keys init --db`; docs/postgresql.md): with its
/// master key, the counter stores each record sealed under the applicant's data key (created,
/// wrapped at the keyring's generation, for a new applicant) and names the applicant by pseudonym
/// everywhere (records, counter decisions, audit entries); reads open the records. On SQLite each
/// transaction (and each read of a record) reads the keyring again, so that a key rotation or an
/// erasure by another process takes effect on the next request. Without the key, the counter
/// tables are readable (verify, statistics) but storing a decision or reading a record is
/// refused. On PostgreSQL the keyring is read again only when the database says its generation
/// is not the one the counter sealed for (dalil_counter_decision checks it under the writer's
/// lock, which a rotation and an erasure take) or a read finds another.
class counter_store {
 public:
  /// Opens a connection to the store at `db`: a PostgreSQL connection string
  /// (store::pg::is_conninfo; the database's migrations applied) or a SQLite path (already
  /// migrated by open_sqlite). `key`: the master key (nullptr: none); `key_file`: where it came
  /// from (crypto::load_master_key's argument: "" for DALIL_MASTER_KEY), read again when the
  /// store's key has changed (a rotation by `dalil keys rotate` while the server runs).
  /// errc::refused when the key is not the store's, or a key is given for a store that is not
  /// encrypted; errc::damaged when the keyring does not open with it.
  /// Defined with the PostgreSQL store (dalil::store_pg), which dispatches; open_sqlite_counter
  /// opens a SQLite file alone.
  static result<std::unique_ptr<counter_store>> open(const std::string& db,
                                                     const crypto::master_key* key = nullptr,
                                                     const std::string& key_file = {});
  /// Whether the store has a keyring (a master key bound to it).
  virtual bool encrypted() const = 0;
  /// The applicant as the store names them: the id in a plain store; in an encrypted one the
  /// pseudonym, "" when the store knows no such id (or the applicant was erased). errc::refused
  /// without the master key.
  virtual result<std::string> applicant_key(const std::string& applicant_id) = 0;
  virtual ~counter_store() = default;
  counter_store(const counter_store&) = delete;
  counter_store& operator=(const counter_store&) = delete;

  /// The writer's connection: its WAL checkpoints move to a thread of their own
  /// (store::wal_checkpointer: no commit waits for a checkpoint's copies and syncs). SQLite only;
  /// nothing to do on PostgreSQL.
  virtual status checkpoint_in_background() { return {}; }
  /// SQLite: the applicants' index of counter decisions is merged from its recent part (in the
  /// order decisions were made) into its middle part (in the applicants' order; below) once the
  /// recent part holds at least this many decisions (migration 13 in sqlite_store.cpp) ...
  static constexpr std::int64_t counter_index_merge_rows = 8192;
  /// ... and at least this fraction of the rows of the other two parts: a round writes every
  /// page of the part it goes into where one of its applicants is, which is nearly all of them
  /// once that part has more pages than a round has rows (about 200 rows a page of 16 KiB:
  /// 8,192 decisions wrote 4,606 pages of an index of a million, 0.56 a decision, as much as the
  /// decisions' own rows). A 32nd brings about six rows a page of the main part (measured in
  /// the server, when rounds went into the main part: about 0.25 pages a decision, the ranges'
  /// rewrites of the recent part included); the recent part that an applicant's history reads
  /// without an index then holds about a 32nd of the decisions (about 1 ms to read 27,000 rows),
  /// more while a drain (below) goes on, since no round starts before it ends.
  static constexpr std::int64_t counter_index_merge_ratio = 32;
  /// The recent part's size at which a merge is due, for `indexed` rows in the other parts.
  static constexpr std::int64_t counter_index_merge_due(std::int64_t indexed) {
    return std::max(counter_index_merge_rows, indexed / counter_index_merge_ratio);
  }
  /// ... one short step after each commit (upkeep_due; sqlite_counter.cpp, merge_due): the
  /// round's rows copied into the connection's memory in the index's order, then inserted into
  /// the middle part, then deleted from the recent part, this many rows a step. The copy and
  /// the clear take a range of the order decisions were made in (the recent part's contiguous
  /// pages), the insert a range of the index's order (a few pages of the middle part); steps of
  /// 128 rows take about 0.2-0.4 ms each at 2,000 requests/s, where ranges of 1,024 or more
  /// took up to 7 ms.
  static constexpr std::int64_t counter_index_merge_piece = 128;
  /// The middle part (migration 17): rounds of the recent part go into it, not into the main
  /// part, whose every page a round would write. It is in the applicants' order like the main
  /// part; once it holds this many rows ...
  static constexpr std::int64_t counter_index_drain_rows = 4 * counter_index_merge_rows;
  /// ... and at least this fraction of the main part's, it is drained into the main part, in
  /// the index's order: each page of the main part is written about once for a quarter of its
  /// rows brought in, where a round of the recent part wrote it once for a 32nd. Each row is
  /// inserted twice (into the middle part, then the main one); the pages the merges write were
  /// estimated to fall to a third, and measured to fall by half (docs/server-performance.md).
  static constexpr std::int64_t counter_index_drain_ratio = 4;
  /// The middle part's size at which a drain is due, for a main part of `indexed` rows.
  static constexpr std::int64_t counter_index_drain_due(std::int64_t indexed) {
    return std::max(counter_index_drain_rows, indexed / counter_index_drain_ratio);
  }
  /// A drain goes in steps of this many rows, each in a transaction of its own that inserts the
  /// middle part's lowest keys into the main part and deletes them from the middle part: at the
  /// drain's threshold (the middle part a quarter of the main part, about 200 rows a page),
  /// about 10 pages of the main part a step.
  static constexpr std::int64_t counter_index_drain_piece = 512;
  /// The writer's deferred work, run after its last commit's requests were answered (outside
  /// any transaction): SQLite's applicants' index merged once its recent part holds
  /// counter_index_merge_due decisions, and its middle part drained once it holds
  /// counter_index_drain_due rows (one short step per call, each in a transaction of its own;
  /// one that fails leaves its rows where reads find them, and what is due is planned again
  /// after the next commit), and the writer's share of the background checkpoints (a short
  /// one that its last commit made due). Nothing on PostgreSQL.
  virtual void upkeep_due() {}
  /// What the background checkpoints did so far, as a line for a log ("" when there are none).
  virtual std::string checkpoint_summary() const { return {}; }

  // Writing (the writer thread): one transaction per group of requests, a savepoint per request,
  // so that one request's failure leaves no half-written decision and does not undo the others.
  virtual status begin() = 0;
  /// Ends the transaction: writes the `import` audit entry for the records stored in it (the
  /// counter is a source of records, like a file: `audit verify` checks them the same way).
  virtual status commit() = 0;
  virtual void rollback() = 0;
  virtual status savepoint() = 0;
  virtual status release() = 0;
  virtual void rollback_to() = 0;

  /// Stores the record as a version of the applicant (unchanged when the latest version has the
  /// same content), the decision and its `counter_decision` audit entry. Fills at, record_id and
  /// record_version. errc::conflict when the decision id exists already. In an encrypted store
  /// the record is sealed and the rows name the pseudonym (`d.applicant_id` keeps the id).
  virtual status put_decision(counter_decision& d) = 0;
  /// Appends a review and its `review` audit entry. errc::not_found when the decision does not
  /// exist; errc::conflict when `supersedes` is not the latest review of the decision (or is
  /// empty while there is one), also when another connection reviewed it first. Fills at and
  /// seq.
  virtual status put_review(review& r) = 0;
  /// An audit entry of its own (an audited read).
  virtual status audit(const std::string& actor, const std::string& action,
                       const std::string& subject, const std::string& details) = 0;

  // Reading (any connection).
  /// The decision and its record (opened with the master key in an encrypted store; `erased`
  /// when the applicant's data key was destroyed). errc::damaged when a sealed record does not
  /// open with the store's key. With `office`, only a decision of that office: another's is
  /// not_found, its record never opened (so its damage is not told either).
  virtual result<counter_decision> decision(const std::string& decision_id,
                                            const std::string& office) = 0;
  /// Reviews of a decision, oldest first.
  virtual result<std::vector<review>> reviews(const std::string& decision_id) = 0;
  /// An applicant's counter decisions, oldest first; only those of `office` unless it is empty.
  /// `applicant_id` is the record's id (found through the pseudonyms in an encrypted store).
  virtual result<std::vector<decision_summary>> applicant_decisions(const std::string& applicant_id,
                                                                    const std::string& office) = 0;
  /// The latest stored record of an applicant (imported or from the counter); with `office`,
  /// the record of that office's latest counter decision for the applicant instead (an office
  /// sees the record it evaluated, not a later one another office stored), not_found when the
  /// office has none.
  virtual result<stored_record> latest_record(const std::string& applicant_id,
                                              const std::string& office) = 0;
  virtual result<std::vector<review_row>> list_reviews(const review_filter& f) = 0;
  /// Outcome counts of the counter decisions made within `span`, per rule, in force apart from
  /// out of force.
  virtual result<std::vector<counter_cell>> outcome_counts(const time_span& span) = 0;
  /// Per rule, of the decisions reviewed within `span`, how often the last review of each
  /// within it overrode the recommendation (a review written after `span` changes nothing).
  virtual result<std::vector<override_cell>> override_counts(const time_span& span) = 0;
  virtual result<std::int64_t> count_decisions() = 0;
  /// The counter decisions made within `span`.
  virtual result<std::int64_t> count_decisions_within(const time_span& span) = 0;
  /// outcome_counts, override_counts and count_decisions_within of `span`, read in one snapshot
  /// (a read transaction): a decision or review committed meanwhile is in all three or in none.
  virtual result<span_tally> tally_within(const time_span& span) = 0;
  /// The time of the first counter decision or review ("" when there is none).
  virtual result<std::string> first_counter_activity() = 0;
  /// The figures kept for `month` (YYYY-MM: the statistics' release of that month's counter
  /// decisions, server/stats.hpp), "" when none are kept yet.
  virtual result<std::string> month_figures(const std::string& month) = 0;
  /// Keeps `figures` for `month` unless figures are kept for it already (another process may
  /// have kept its own first); the figures kept, either way.
  virtual result<std::string> keep_month_figures(const std::string& month,
                                                 const std::string& figures) = 0;
  /// Checks every counter decision and review against its audit entry (and that none lacks
  /// one); nullopt when all hold. The chain itself is checked by store::verify.
  virtual result<std::optional<audit_problem>> verify() = 0;

 protected:
  counter_store() = default;
  /// tally_within's three counts, by this store's own reads (each backend calls it inside the
  /// read transaction that makes them one snapshot).
  result<span_tally> count_tally(const time_span& span) {
    auto cells = outcome_counts(span);
    if (!cells) return cells.error();
    auto overrides = override_counts(span);
    if (!overrides) return overrides.error();
    auto total = count_decisions_within(span);
    if (!total) return total.error();
    return span_tally{std::move(*cells), std::move(*overrides), *total};
  }
};

/// A connection to the counter tables of the SQLite store at `path` (counter_store::open
/// without the dispatch: what a SQLite store's own verify uses).
result<std::unique_ptr<counter_store>> open_sqlite_counter(const std::string& path,
                                                           const crypto::master_key* key = nullptr,
                                                           const std::string& key_file = {});

/// The outcomes as an encrypted store keeps them (counter_decision::outcomes): the value of each
/// decision that `plain_values` (store::plain_value_mask of the rules decided, in answer order)
/// does not mark, unless true, false or null, replaced by the string "sealed" (with no mask,
/// every value but a flag or null); rules, statuses, missing facts' names and flags kept (what
/// statistics count). The whole outcomes are regenerated from the sealed record on read and
/// checked against the answer digest, which covers them.
std::string plain_outcomes(std::string_view outcomes, std::span<const std::uint8_t> plain_values);
/// The mask stored outcomes were kept with: 0 for a decision whose value is "sealed", 1 for
/// any other (outcomes stored by an older dalil read as they were stored).
std::vector<std::uint8_t> outcome_mask_of(std::string_view plain);

/// The digest a `counter_decision` audit entry keeps of its row (SHA-256 hex of the fields).
std::string counter_digest(const counter_decision& d);
/// The same of the row an encrypted store keeps: `applicant` (the pseudonym) and `outcomes`
/// (plain_outcomes) in place of d's.
std::string counter_digest(const counter_decision& d, const std::string& applicant,
                           const std::string& outcomes);
/// The digest a `review` audit entry keeps of its row.
std::string review_digest(const review& r);
/// The same of the row an encrypted store keeps (the entry's sealed form,
/// detail::review_details): `r` as stored (its decisions the projection, no observations) and
/// its sealed part, by its hash, so that verify needs no key and an erasure breaks nothing.
std::string review_digest(const review& r, std::string_view sealed);
/// Whether the `review` entry of `details` vouches for the row `stored` as read back, in
/// plain (`sealed` nullopt) or sealed: its form must be the row's, its digest the row's.
bool review_vouched(std::string_view details, const review& stored,
                    std::optional<std::string_view> sealed);

}  // namespace dalil::store
