// The SQLite implementation of the counter store (counter_store.hpp): counter decisions, their
// records as applicant versions, reviews, and the audit entries that vouch for each.
#include "store/counter_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "engine/record.hpp"
#include "engine/sha256.hpp"
#include "store/chain.hpp"
#include "store/crypto.hpp"
#include "store/entry_format.hpp"
#include "store/sealing.hpp"
#include "store/sqlite.hpp"
#include "store/wal_checkpointer.hpp"

namespace dalil::store {

namespace {

void add_field(std::string& s, std::string_view f) {
  s += f;
  s += '\x1f';
}

/// The associated data of the keyring's wrapped lookup key (as sqlite_store.cpp wraps it).
constexpr std::string_view lookup_label = "keyring-lookup";

/// The digest of a decision row whose applicant and outcomes the store keeps as `applicant` and
/// `outcomes` (the pseudonym and the plain outcomes in an encrypted store).
std::string digest_of(const counter_decision& d, const std::string& applicant,
                      const std::string& outcomes) {
  std::string s;
  for (const std::string* f :
       {&d.decision_id, &applicant, &d.office, &d.actor, &d.at, &d.as_of, &d.ruleset_hash,
        &d.input_hash, &d.rules, &outcomes, &d.answer_digest}) {
    add_field(s, *f);
  }
  add_field(s, std::to_string(d.record_id));
  add_field(s, d.trace ? "1" : "0");
  // Decisions before publications (and those of a server run with --rules) have none: their
  // digest is unchanged.
  if (d.publication_id != 0) add_field(s, "publication:" + std::to_string(d.publication_id));
  return engine::sha256_hex(s);
}

}  // namespace

namespace {

/// Calls `each(index, start, end)` for the value of each decision of compact outcomes (the
/// engine's append_compact_decision: each value is followed by ,"missing":, a sequence a string
/// value cannot hold, its quotes being escaped), in order.
template <typename Each>
void each_outcome_value(std::string_view outcomes, Each&& each) {
  constexpr std::string_view value_key = "\"value\":";
  constexpr std::string_view next_key = ",\"missing\":";
  std::size_t pos = 0;
  for (std::size_t index = 0;; ++index) {
    std::size_t v = outcomes.find(value_key, pos);
    if (v == std::string_view::npos) return;
    std::size_t start = v + value_key.size();
    std::size_t end = outcomes.find(next_key, start);
    if (end == std::string_view::npos) return;
    each(index, start, end);
    pos = end;
  }
}

}  // namespace

std::string plain_outcomes(std::string_view outcomes, std::span<const std::uint8_t> plain_values) {
  std::string out;
  out.reserve(outcomes.size());
  std::size_t copied = 0;
  each_outcome_value(outcomes, [&](std::size_t index, std::size_t start, std::size_t end) {
    std::string_view value = outcomes.substr(start, end - start);
    bool plain = value == "true" || value == "false" || value == "null" ||
                 (index < plain_values.size() && plain_values[index] != 0);
    out.append(outcomes.substr(copied, start - copied));
    out.append(plain ? value : std::string_view("\"sealed\""));
    copied = end;
  });
  out.append(outcomes.substr(copied));
  return out;
}

std::vector<std::uint8_t> outcome_mask_of(std::string_view plain) {
  std::vector<std::uint8_t> out;
  each_outcome_value(plain, [&](std::size_t, std::size_t start, std::size_t end) {
    out.push_back(plain.substr(start, end - start) == "\"sealed\"" ? 0 : 1);
  });
  return out;
}

std::string counter_digest(const counter_decision& d) {
  return digest_of(d, d.applicant_id, d.outcomes);
}

std::string counter_digest(const counter_decision& d, const std::string& applicant,
                           const std::string& outcomes) {
  return digest_of(d, applicant, outcomes);
}

std::string review_digest(const review& r) {
  std::string s;
  for (const std::string* f : {&r.review_id, &r.decision_id, &r.supersedes, &r.user, &r.at,
                               &r.decisions, &r.observations}) {
    add_field(s, *f);
  }
  add_field(s, std::to_string(r.seq));
  return engine::sha256_hex(s);
}

std::string review_digest(const review& r, std::string_view sealed) {
  std::string s;
  for (const std::string* f : {&r.review_id, &r.decision_id, &r.supersedes, &r.user, &r.at,
                               &r.decisions, &r.observations}) {
    add_field(s, *f);
  }
  add_field(s, std::to_string(r.seq));
  add_field(s, "sealed:" + engine::sha256_hex(sealed));
  return engine::sha256_hex(s);
}

bool review_vouched(std::string_view details, const review& stored,
                    std::optional<std::string_view> sealed) {
  const std::string d(details);
  const bool sealed_form = detail::audit_field(d, "form") == "sealed";
  if (sealed_form != sealed.has_value()) return false;  // sealed, or unsealed, behind its back
  const std::string digest = sealed ? review_digest(stored, *sealed) : review_digest(stored);
  return digest == detail::audit_field(d, "digest");
}

namespace {

struct impl {
  database db;
  std::string path;
  // Encryption at rest: whether the store has a keyring, the master key given (and where it
  // came from, to load it again after a rotation), the keyring's generation and key check as
  // last read, and the statements of sealing.
  bool encrypted = false;
  std::optional<crypto::master_key> key;
  std::string key_file;
  std::int64_t generation = 0;
  std::string keyring_check;  // "" until the lookup key is opened
  std::string sealed;
  std::string outcomes;  // put_decision's plain outcomes (bound until its statement runs)
  statement read_keyring;
  statement find_pseudonym;
  statement insert_pseudonym;
  statement last_pseudonym;
  statement find_key;
  statement insert_key;
  // The import row of the open transaction's new records (0: none yet), and the lines of its
  // digest ("record_id:applicant:version:hash\n", as audit verify recomputes them), kept here
  // so that closing it reads nothing back.
  std::int64_t import_id = 0;
  std::string import_lines;
  std::int64_t import_count = 0;
  // The same as they were at the savepoint (restored when a request rolls back).
  std::int64_t saved_import_id = 0;
  std::size_t saved_lines = 0;
  std::int64_t saved_count = 0;
  statement begin_tx;
  statement commit_tx;
  statement savepoint_tx;
  statement release_tx;
  statement latest;
  statement insert_applicant;
  statement insert_record;
  statement unlatest;
  statement insert_decision;
  statement insert_recent;  // the applicants' index, its recent part (migration 13)
  statement insert_import;
  statement close_import_row;
  // Reviews, and reads: prepared on first use, then reset and reused.
  statement decision_exists;
  statement latest_review;
  statement insert_review;
  statement read_decision;
  statement read_reviews;
  // The applicants' index's merge (upkeep_due).
  statement count_recent;
  statement last_decision;
  statement copy_recent;
  statement plan_bound;
  statement insert_plan;
  statement drop_plan;
  statement insert_rest;
  statement drop_rest;
  statement empty_plan;
  statement clear_recent;
  statement count_mid;
  statement drain_bound;
  statement drain_insert;
  statement drain_delete;
  statement drain_insert_rest;
  statement drain_delete_rest;
  /// Rows in counter_applicants_recent as this connection last knew them (-1: to be counted,
  /// after a rollback or before the first merge check).
  std::int64_t recent_rows = -1;
  /// The recent part's size at which a merge is due, as last computed
  /// (counter_store::counter_index_merge_due).
  std::int64_t merge_at = counter_store::counter_index_merge_rows;
  /// Rows in counter_applicants_mid as this connection last knew them (-1: to be counted), and
  /// the size at which a drain into the main part is due (counter_index_drain_due).
  std::int64_t mid_rows = -1;
  std::int64_t drain_at = counter_store::counter_index_drain_rows;
  /// The merge round under way (merge_due): its phase, its rows (seq after merge_from up to
  /// merge_upto), where the copy or the clear goes on (merge_next, a seq), the insert's pieces.
  enum class phase { none, copy, insert, clear, drain };
  phase merge_phase = phase::none;
  statement plan_recent;
  std::int64_t merge_from = 0;
  std::int64_t merge_upto = 0;
  std::int64_t merge_next = 0;
  // The merges so far, for the server's log at its stop (checkpoint_summary).
  std::uint64_t merges = 0;
  std::uint64_t drains = 0;
  std::uint64_t merge_chunks = 0;
  std::uint64_t merges_failed = 0;
  std::int64_t longest_merge_us = 0;
  std::int64_t longest_drain_us = 0;  // the longest of the drains' steps
  // The audit chain's two statements, for this connection.
  detail::audit_appender audit;
  statement begin_read_tx;  // the read transaction of tally_within and verify

  /// Ends a read transaction: COMMIT, or ROLLBACK when that fails, so that the connection is
  /// never left inside one (every later BEGIN would fail).
  void end_read() {
    std::string e;
    if (!db.exec("COMMIT", e)) db.exec("ROLLBACK", e);
  }

  error sql_error(const std::string& what) const {
    return fail(errc::failed, what + ": " + db.message());
  }

  status exec(std::string_view sql) {
    std::string e;
    if (!db.exec(sql, e)) return fail(errc::failed, e);
    return {};
  }

  status prepare_writes() {
    if (insert_decision.ok()) return {};
    std::string e;
    latest = db.prepare(
        "SELECT record_id, version, content_hash FROM records WHERE applicant_id=? AND latest=1",
        e);
    insert_applicant = db.prepare("INSERT OR IGNORE INTO applicants VALUES(?)", e);
    insert_record = db.prepare(
        "INSERT INTO records(applicant_id, version, content_hash, json, import_id, sealed) "
        "VALUES(?,?,?,?,?,?)",
        e);
    unlatest = db.prepare("UPDATE records SET latest=0 WHERE record_id=?", e);
    insert_decision = db.prepare(
        "INSERT INTO counter_decisions(decision_id, record_id, applicant_id, office, actor, at, "
        "as_of, ruleset_hash, input_hash, rules, outcomes, trace, answer_digest, "
        "publication_id) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        e);
    insert_recent = db.prepare(
        "INSERT INTO counter_applicants_recent(applicant_id, at, decision_id) VALUES(?,?,?)", e);
    if (!insert_decision.ok() || !latest.ok() || !insert_record.ok() || !insert_recent.ok()) {
      return fail(errc::failed, "preparing the counter store's statements: " + e);
    }
    return {};
  }

  /// Reads the keyring again (each write transaction, each read of a record): a store
  /// encrypted since, a rotation (the master key loaded again from its file; refused when the
  /// key the server holds is no longer the store's) or nothing changed (one indexed read).
  status refresh_keyring() {
    statement& q = read_keyring;
    if (auto s = ready(q, "SELECT key_check, generation, lookup_key FROM keyring WHERE id=1"); !s) {
      return s;
    }
    int rc = q.step();
    if (rc == SQLITE_DONE) {
      q.reset();
      encrypted = false;
      return {};
    }
    if (rc != SQLITE_ROW) {
      q.reset();
      return sql_error("reading the keyring");
    }
    encrypted = true;
    if (!key) {
      q.reset();
      return {};
    }
    std::string check = q.text(0);
    std::int64_t gen = q.int64(1);
    std::string wrapped(q.blob_view(2));
    q.reset();
    if (check == keyring_check && gen == generation) return {};
    if (crypto::key_check(*key) != check) {
      // Rotated by another process (`dalil keys rotate`): the new key, if its file holds it now.
      auto again = crypto::load_master_key(key_file);
      if (!again || crypto::key_check(*again) != check) {
        return fail(errc::refused,
                    path + ": the master key the server holds is not the store's (key check " +
                        crypto::key_check(*key) + ", the store's " + check +
                        "): it was rotated (dalil keys rotate); give the server the new key (" +
                        (key_file.empty()
                             ? std::string("restart it with the new ") + crypto::master_key_variable
                             : "write it to " + key_file) +
                        ")");
      }
      key = std::move(*again);
    }
    auto lookup = crypto::unwrap(*key, wrapped, lookup_label, gen);
    if (!lookup) {
      return fail(errc::damaged, path +
                                     ": the keyring's lookup key does not open with the master "
                                     "key (changed behind the tool's back?)");
    }
    key->lookup = *lookup;
    keyring_check = std::move(check);
    generation = gen;
    return {};
  }

  /// What storing or reading a record of an encrypted store needs: its master key.
  status need_key() const {
    if (encrypted && !key) {
      return fail(errc::refused, path + " is encrypted: the counter needs its master key (" +
                                     "--key-file FILE, or " + crypto::master_key_variable + ")");
    }
    return {};
  }

  /// The pseudonym of `applicant_id` ("" when the store knows none).
  result<std::string> find(const std::string& applicant_id) {
    statement& q = find_pseudonym;
    if (auto s = ready(q, "SELECT applicant_id FROM pseudonyms WHERE lookup=?"); !s)
      return s.error();
    q.bind(1, crypto::lookup_hash(*key, applicant_id));
    int rc = q.step();
    std::string found = rc == SQLITE_ROW ? q.text(0) : std::string();
    q.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      return sql_error("finding the applicant's pseudonym");
    return found;
  }

  /// The pseudonym of `applicant_id`, or the next one (a new applicant, or one erased before:
  /// their old pseudonym was unlinked and is never given again).
  result<std::string> pseudonym(const std::string& applicant_id) {
    auto found = find(applicant_id);
    if (!found || !found->empty()) return found;
    statement& last = last_pseudonym;
    if (auto s = ready(last,
                       "SELECT coalesce(max(m), '') FROM (SELECT max(applicant_id) AS m FROM "
                       "pseudonyms UNION ALL SELECT max(applicant_id) FROM data_keys)");
        !s) {
      return s.error();
    }
    if (last.step() != SQLITE_ROW) {
      last.reset();
      return sql_error("finding the next pseudonym");
    }
    std::string name = crypto::next_pseudonym(last.text_view(0));
    last.reset();
    statement& q = insert_pseudonym;
    if (auto s = ready(q, "INSERT INTO pseudonyms VALUES(?,?)"); !s) return s.error();
    q.bind(1, crypto::lookup_hash(*key, applicant_id)).bind(2, name);
    int rc = q.step();
    q.reset();
    if (rc != SQLITE_DONE) return sql_error("storing the applicant's pseudonym");
    return name;
  }

  /// The data key of `who` (a pseudonym): unwrapped, or created and stored wrapped at the
  /// keyring's generation. errc::refused for an erased applicant.
  result<crypto::data_key> data_key(const std::string& who) {
    statement& q = find_key;
    if (auto s = ready(q, "SELECT wrapped, generation FROM data_keys WHERE applicant_id=?"); !s) {
      return s.error();
    }
    q.bind(1, who);
    int rc = q.step();
    if (rc == SQLITE_ROW) {
      if (q.is_null(0)) {
        q.reset();
        return fail(errc::refused, "this applicant was erased (their data key is destroyed)");
      }
      auto dk = crypto::unwrap(*key, q.blob_view(0), who, q.int64(1));
      q.reset();
      if (!dk) return fail(errc::damaged, "applicant " + who + ": " + dk.error().message);
      return dk;
    }
    q.reset();
    if (rc != SQLITE_DONE) return sql_error("reading the applicant's data key");
    crypto::data_key dk = crypto::new_data_key();
    statement& i = insert_key;
    if (auto s = ready(i, "INSERT INTO data_keys VALUES(?,?,?)"); !s) return s.error();
    i.bind(1, who).bind_blob(2, crypto::wrap(*key, dk, who, generation)).bind(3, generation);
    rc = i.step();
    i.reset();
    if (rc != SQLITE_DONE) return sql_error("storing the applicant's data key");
    return dk;
  }

  /// Opens the sealed record of a decision read back (`d.record_json` then holds it), or marks
  /// it erased; nothing without the master key (verify, statistics read the rest of the row).
  status open_record(counter_decision& d, std::string_view sealed_bytes, bool has_key_row,
                     bool key_destroyed, std::string_view wrapped, std::int64_t key_generation) {
    d.sealed = true;
    d.record_json.clear();
    if (has_key_row && key_destroyed) {
      d.erased = true;
      return {};
    }
    if (!key) return {};
    if (!has_key_row) {
      return fail(errc::damaged, "record " + std::to_string(d.record_id) +
                                     " is sealed but its applicant has no data key");
    }
    auto dk = crypto::unwrap(*key, wrapped, d.applicant_id, key_generation);
    if (!dk || !crypto::open(*dk, sealed_bytes, crypto::record_ad(d.applicant_id, d.record_version),
                             d.record_json)) {
      return fail(errc::damaged, "record " + std::to_string(d.record_id) +
                                     " does not open with the master key (its data key or "
                                     "sealed content was changed or moved)");
    }
    return {};
  }

  /// The import row that this transaction's records belong to, created on first use.
  status ensure_import() {
    if (import_id != 0) return {};
    statement& q = insert_import;
    if (auto s =
            ready(q, "INSERT INTO imports(file, file_hash, started_at) VALUES('counter', '', ?)");
        !s) {
      return s;
    }
    q.bind(1, now_utc());
    int rc = q.step();
    q.reset();
    if (rc != SQLITE_DONE) return sql_error("recording the counter's import");
    import_id = db.last_insert_id();
    return {};
  }

  /// The `import` audit entry of this transaction's new records: the digest `audit verify`
  /// checks. Nothing when every decision was for a record stored before.
  status close_import() {
    if (import_id == 0) return {};
    std::string hex = engine::sha256_hex(import_lines);
    statement& u = close_import_row;
    if (auto s = ready(u,
                       "UPDATE imports SET rows=?, stored=?, unchanged=0, rejected=0, "
                       "file_hash=? WHERE import_id=?");
        !s) {
      return s;
    }
    u.bind(1, import_count).bind(2, import_count).bind(3, hex).bind(4, import_id);
    int rc = u.step();
    u.reset();
    if (rc != SQLITE_DONE) return sql_error("recording the counter's import");
    std::string details = "{\"import\":" + std::to_string(import_id) +
                          ",\"rows\":" + std::to_string(import_count) +
                          ",\"stored\":" + std::to_string(import_count) +
                          ",\"unchanged\":0,\"rejected\":0,\"digest\":\"" + hex + "\"}";
    auto seq = audit.append(db, "dalil", "import", std::to_string(import_id), details);
    if (!seq) return seq.error();
    return {};
  }

  /// `q`, prepared on first use and reset (errc::failed when it does not prepare).
  status ready(statement& q, std::string_view sql) {
    if (!q.ok()) {
      std::string e;
      q = db.prepare(sql, e);
      if (!q.ok()) return fail(errc::failed, e);
    }
    q.reset();
    return {};
  }

  /// Runs a statement of no result, prepared once.
  status run(statement& q, const char* sql) {
    std::string e;
    if (!q.ok()) {
      q = db.prepare(sql, e);
      if (!q.ok()) return fail(errc::failed, e);
    }
    q.reset();
    int rc = q.step();
    q.reset();
    if (rc != SQLITE_DONE) return sql_error(sql);
    return {};
  }

  status open_review_row(const statement& q, review& r) const;

  /// A key of the applicants' index that bounds a step of the merge or the drain, read from a
  /// row (applicant_id, at, decision_id) and bound as ?1-?3; zeroed once the step is done (an
  /// applicant's id in a plain store).
  struct merge_key {
    std::string applicant, at, decision;
    merge_key() = default;
    merge_key(const merge_key&) = delete;
    merge_key& operator=(const merge_key&) = delete;
    ~merge_key() { crypto::wipe(applicant); }
    void take(const statement& q) {
      applicant.assign(q.text_view(0));
      at.assign(q.text_view(1));
      decision.assign(q.text_view(2));
    }
    void bind(statement& q) const {
      q.bind_static(1, applicant).bind_static(2, at).bind_static(3, decision);
    }
  };

  /// The bound of a step's piece: the key `rows` past the first of `sql`'s (an ordered query
  /// of keys with LIMIT 1 OFFSET ?1), read into `bound`. true when there is none: the piece is
  /// all that is left. `what` names the step in an error.
  result<bool> piece_bound(statement& q, std::string_view sql, std::int64_t rows, merge_key& bound,
                           const char* what) {
    if (auto s = ready(q, sql); !s) return s.error();
    q.bind(1, rows);
    const int rc = q.step();
    if (rc == SQLITE_ROW) bound.take(q);
    q.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sql_error(what);
    return rc == SQLITE_DONE;
  }

  /// A step's piece moved: `insert`, then `drop`, each bound to the piece's bound (?1-?3) unless
  /// it is the rest (nullptr). The rows each changed; `what` names the step in an error.
  result<std::pair<std::int64_t, std::int64_t>> piece_run(statement& insert, statement& drop,
                                                          const merge_key* bound,
                                                          const char* what) {
    std::pair<std::int64_t, std::int64_t> changed;
    for (statement* q : {&insert, &drop}) {
      if (bound != nullptr) bound->bind(*q);
      const int rc = q->step();
      q->reset();
      if (rc != SQLITE_DONE) return sql_error(what);
      (q == &insert ? changed.first : changed.second) = db.changes();
    }
    return changed;
  }

  /// The applicants' index's recent part merged into its middle part (counter_applicants_mid)
  /// once it holds counter_index_merge_due decisions (upkeep_due): the rows there then (a
  /// round), one short step per call, each in a transaction of its own, so that no commit of
  /// requests waits for more than a step (a step of the earlier merge, a range of applicants moved
  /// and deleted at once, took up to 4.8 ms at 1,000 requests/s and 7.7 ms at 10,000/s, and made
  /// most of the p99 at 2,000-3,000/s: docs/server-performance.md). A round:
  /// - copy: the round's rows, counter_index_merge_piece at a time in the order they were made
  ///   (a range of seq: contiguous pages), into temp.merge_plan, a table of this connection's
  ///   memory in the index's order;
  /// - insert: from merge_plan into counter_applicants_mid in the index's order,
  ///   counter_index_merge_piece rows at a time (a few pages of the middle part), each piece
  ///   removed from merge_plan;
  /// - clear: the round's rows deleted from the recent part, a range of seq at a time (its
  ///   first pages, freed), and only those found in counter_applicants_mid.
  /// Until a round is cleared its rows are in both parts: an applicant's history reads each
  /// decision once (IN), verify counts them once, and a round cut short (a failure, a stop) is
  /// planned again from what the recent part holds (INSERT OR IGNORE).
  /// Once the middle part holds counter_index_drain_due rows, it is drained into the main part
  /// (counter_applicants) before any new round: its lowest keys, counter_index_drain_piece at a
  /// time, inserted there and deleted from it in one transaction (drain_step), so that a drain
  /// leaves no row in both. (A store stopped in a round of a dalil before schema 17 has rows in
  /// the main and the recent part: its next round puts them in the middle part too, and the
  /// drain, by INSERT OR IGNORE, leaves them in the main part alone.)
  status merge_due() {
    if (merge_phase == phase::none) {
      if (recent_rows < 0) {
        if (auto s = ready(count_recent, "SELECT count(*) FROM counter_applicants_recent"); !s) {
          return s;
        }
        int rc = count_recent.step();
        recent_rows = rc == SQLITE_ROW ? count_recent.int64(0) : -1;
        count_recent.reset();
        if (rc != SQLITE_ROW) return sql_error("counting the applicants' recent decisions");
      }
      if (mid_rows < 0) {
        if (auto s = ready(count_mid, "SELECT count(*) FROM counter_applicants_mid"); !s) {
          return s;
        }
        int rc = count_mid.step();
        mid_rows = rc == SQLITE_ROW ? count_mid.int64(0) : -1;
        count_mid.reset();
        if (rc != SQLITE_ROW) return sql_error("counting the applicants' index's middle part");
      }
      if (recent_rows < merge_at && mid_rows < drain_at) return {};
      // Due by the last thresholds: the thresholds again from the parts' sizes now (the main
      // part's: the decisions in all, by the highest row id, less the other two; it only
      // grows).
      if (auto s = ready(last_decision, "SELECT coalesce(max(rowid), 0) FROM counter_decisions");
          !s) {
        return s;
      }
      int rc = last_decision.step();
      const std::int64_t decisions = rc == SQLITE_ROW ? last_decision.int64(0) : 0;
      last_decision.reset();
      if (rc != SQLITE_ROW) return sql_error("counting the counter decisions");
      const std::int64_t main_rows = std::max<std::int64_t>(decisions - recent_rows - mid_rows, 0);
      drain_at = counter_store::counter_index_drain_due(main_rows);
      if (mid_rows >= drain_at) {
        merge_phase = phase::drain;
        return {};
      }
      merge_at = counter_store::counter_index_merge_due(main_rows + mid_rows);
      if (recent_rows < merge_at) return {};
      return plan_merge();
    }
    const auto started = std::chrono::steady_clock::now();
    const bool draining = merge_phase == phase::drain;
    status step = merge_phase == phase::copy     ? copy_step()
                  : merge_phase == phase::insert ? insert_step()
                  : merge_phase == phase::clear  ? clear_step()
                                                 : drain_step();
    if (!step) {
      std::string ignored;
      db.exec("ROLLBACK", ignored);
      recent_rows = -1;
      mid_rows = -1;
      merge_phase = phase::none;  // planned again from what is there
      ++merges_failed;
      return step;
    }
    ++merge_chunks;
    const std::int64_t took = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count();
    longest_merge_us = std::max(longest_merge_us, took);
    if (draining) longest_drain_us = std::max(longest_drain_us, took);
    return {};
  }

  /// A round of merge_due: the recent part's rows now (seq from merge_from to merge_upto), with
  /// the phases' pieces counter_index_merge_piece rows each.
  status plan_merge() {
    if (auto s = ready(plan_recent,
                       "SELECT coalesce(min(seq), 0), coalesce(max(seq), 0), count(*) FROM "
                       "counter_applicants_recent");
        !s) {
      return s;
    }
    int rc = plan_recent.step();
    const std::int64_t low = rc == SQLITE_ROW ? plan_recent.int64(0) : 0;
    const std::int64_t high = rc == SQLITE_ROW ? plan_recent.int64(1) : 0;
    const std::int64_t rows = rc == SQLITE_ROW ? plan_recent.int64(2) : 0;
    plan_recent.reset();
    if (rc != SQLITE_ROW) return sql_error("planning the applicants' index merge");
    recent_rows = rows;
    if (rows < merge_at) return {};  // merged meanwhile by another connection (keys reseal)
    // This connection's own table (temp_store=MEMORY): empty at each round's start.
    std::string e;
    if (!db.exec("CREATE TEMP TABLE IF NOT EXISTS merge_plan(applicant_id TEXT NOT NULL, at TEXT "
                 "NOT NULL, decision_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY "
                 "KEY(applicant_id, at, decision_id)) WITHOUT ROWID",
                 e)) {
      return fail(errc::failed, "planning the applicants' index merge: " + e);
    }
    if (auto s = run(empty_plan, "DELETE FROM temp.merge_plan"); !s) return s;
    merge_from = low - 1;
    merge_upto = high;
    merge_next = merge_from;
    merge_phase = phase::copy;
    return {};
  }

  /// Runs `sql` (`q`, prepared once) over the next piece of the round's rows by seq (?1 < seq <=
  /// ?2), in a transaction of its own, and moves on past it.
  status seq_piece(statement& q, std::string_view sql) {
    const std::int64_t to =
        std::min(merge_next + counter_store::counter_index_merge_piece, merge_upto);
    if (auto s = run(begin_tx, "BEGIN IMMEDIATE"); !s) return s;
    if (auto s = ready(q, sql); !s) return s;
    q.bind(1, merge_next).bind(2, to);
    const int rc = q.step();
    q.reset();
    if (rc != SQLITE_DONE) return sql_error("merging the applicants' index");
    if (auto s = run(commit_tx, "COMMIT"); !s) return s;
    merge_next = to;
    return {};
  }

  /// The next piece of the round's rows, by seq, copied into merge_plan.
  status copy_step() {
    if (auto s = seq_piece(copy_recent,
                           "INSERT OR IGNORE INTO temp.merge_plan SELECT applicant_id, at, "
                           "decision_id, seq FROM counter_applicants_recent WHERE seq > ?1 AND "
                           "seq <= ?2");
        !s) {
      return s;
    }
    if (merge_next >= merge_upto) merge_phase = phase::insert;
    return {};
  }

  /// The next piece of merge_plan, in the index's order, into counter_applicants_mid.
  status insert_step() {
    merge_key bound;
    auto rest = piece_bound(plan_bound,
                            "SELECT applicant_id, at, decision_id FROM temp.merge_plan ORDER BY "
                            "applicant_id, at, decision_id LIMIT 1 OFFSET ?1",
                            counter_store::counter_index_merge_piece, bound,
                            "merging the applicants' index");
    if (!rest) return rest.error();
    if (auto s = run(begin_tx, "BEGIN IMMEDIATE"); !s) return s;
    // Only the rows still in the recent part as they were copied: another connection may
    // have merged it meanwhile and renamed the index's applicants (keys init in place). The
    // piece by the merge_plan's key (a range its primary key finds), the rest as a whole.
    statement& insert = *rest ? insert_rest : insert_plan;
    statement& drop = *rest ? drop_rest : drop_plan;
    if (auto s = *rest ? ready(insert,
                               "INSERT OR IGNORE INTO counter_applicants_mid SELECT "
                               "p.applicant_id, p.at, p.decision_id FROM temp.merge_plan p WHERE "
                               "EXISTS (SELECT 1 FROM counter_applicants_recent r WHERE r.seq = "
                               "p.seq AND r.applicant_id = p.applicant_id AND r.at = p.at AND "
                               "r.decision_id = p.decision_id) ORDER BY p.applicant_id, p.at, "
                               "p.decision_id")
                       : ready(insert,
                               "INSERT OR IGNORE INTO counter_applicants_mid SELECT "
                               "p.applicant_id, p.at, p.decision_id FROM temp.merge_plan p WHERE "
                               "(p.applicant_id, p.at, p.decision_id) < (?1, ?2, ?3) AND EXISTS "
                               "(SELECT 1 FROM counter_applicants_recent r WHERE r.seq = p.seq AND "
                               "r.applicant_id = p.applicant_id AND r.at = p.at AND r.decision_id "
                               "= p.decision_id) ORDER BY p.applicant_id, p.at, p.decision_id");
        !s) {
      return s;
    }
    if (auto s = *rest ? ready(drop, "DELETE FROM temp.merge_plan")
                       : ready(drop,
                               "DELETE FROM temp.merge_plan WHERE (applicant_id, at, decision_id) "
                               "< (?1, ?2, ?3)");
        !s) {
      return s;
    }
    auto changed =
        piece_run(insert, drop, *rest ? nullptr : &bound, "merging the applicants' index");
    if (!changed) return changed.error();
    if (mid_rows >= 0) mid_rows += changed->first;
    if (auto s = run(commit_tx, "COMMIT"); !s) return s;
    if (*rest) {
      merge_phase = phase::clear;
      merge_next = merge_from;
    }
    return {};
  }

  /// The next piece of the round's rows, by seq, deleted from the recent part: those found in
  /// counter_applicants_mid (a row another connection put there after the round began, with a
  /// seq the round covers, stays).
  status clear_step() {
    if (auto s = seq_piece(clear_recent,
                           "DELETE FROM counter_applicants_recent AS r WHERE seq > ?1 AND seq <= "
                           "?2 AND EXISTS (SELECT 1 FROM counter_applicants_mid a WHERE "
                           "a.applicant_id = r.applicant_id AND a.at = r.at AND a.decision_id = "
                           "r.decision_id)");
        !s) {
      return s;
    }
    if (merge_next >= merge_upto) {  // the round is over
      merge_phase = phase::none;
      recent_rows = -1;  // counted again: rows another connection merged meanwhile are gone
      // mid_rows is kept: rows another connection emptied from the middle part meanwhile at
      // most make a drain due early, which finds them gone and ends.
      ++merges;
    }
    return {};
  }

  /// The middle part's next piece in the index's order (its counter_index_drain_piece lowest
  /// keys; all of it when it holds no more) inserted into the main part and deleted from the middle
  /// part, in one transaction: an applicant's history finds each row in one of them at every
  /// commit. The piece is bounded by the first key past it, read inside the transaction, so that
  /// what another connection did meanwhile (keys init in place, which empties the middle part) is
  /// seen: a drain then ends.
  status drain_step() {
    if (auto s = run(begin_tx, "BEGIN IMMEDIATE"); !s) return s;
    merge_key bound;
    auto rest = piece_bound(drain_bound,
                            "SELECT applicant_id, at, decision_id FROM counter_applicants_mid "
                            "ORDER BY applicant_id, at, decision_id LIMIT 1 OFFSET ?1",
                            counter_store::counter_index_drain_piece, bound,
                            "draining the applicants' index's middle part");
    if (!rest) return rest.error();
    statement& insert = *rest ? drain_insert_rest : drain_insert;
    statement& drop = *rest ? drain_delete_rest : drain_delete;
    if (auto s = *rest
                     ? ready(insert,
                             "INSERT OR IGNORE INTO counter_applicants SELECT applicant_id, at, "
                             "decision_id FROM counter_applicants_mid ORDER BY applicant_id, at, "
                             "decision_id")
                     : ready(insert,
                             "INSERT OR IGNORE INTO counter_applicants SELECT applicant_id, at, "
                             "decision_id FROM counter_applicants_mid WHERE (applicant_id, at, "
                             "decision_id) < (?1, ?2, ?3) ORDER BY applicant_id, at, decision_id");
        !s) {
      return s;
    }
    if (auto s = *rest ? ready(drop, "DELETE FROM counter_applicants_mid")
                       : ready(drop,
                               "DELETE FROM counter_applicants_mid WHERE (applicant_id, at, "
                               "decision_id) < (?1, ?2, ?3)");
        !s) {
      return s;
    }
    auto changed = piece_run(insert, drop, *rest ? nullptr : &bound,
                             "draining the applicants' index's middle part");
    if (!changed) return changed.error();
    if (auto s = run(commit_tx, "COMMIT"); !s) return s;
    if (*rest) {
      merge_phase = phase::none;
      mid_rows = 0;
      ++drains;
    } else if (mid_rows >= 0) {
      mid_rows = std::max<std::int64_t>(mid_rows - changed->second, 0);
    }
    return {};
  }

  void reset_import() {
    import_id = 0;
    import_lines.clear();
    import_count = 0;
  }
};

/// The SQLite implementation (counter_store.hpp).
class sqlite_counter final : public counter_store {
 public:
  sqlite_counter() : impl_(std::make_unique<impl>()) {}
  impl& m() { return *impl_; }
  bool encrypted() const override;
  result<std::string> applicant_key(const std::string& applicant_id) override;
  status begin() override;
  status commit() override;
  void rollback() override;
  status savepoint() override;
  status release() override;
  void rollback_to() override;
  status put_decision(counter_decision& d) override;
  status put_review(review& r) override;
  status audit(const std::string& actor, const std::string& action, const std::string& subject,
               const std::string& details) override;
  result<counter_decision> decision(const std::string& decision_id,
                                    const std::string& office) override;
  result<std::vector<review>> reviews(const std::string& decision_id) override;
  result<std::vector<decision_summary>> applicant_decisions(const std::string& applicant_id,
                                                            const std::string& office) override;
  result<stored_record> latest_record(const std::string& applicant_id,
                                      const std::string& office) override;
  result<std::vector<review_row>> list_reviews(const review_filter& f) override;
  result<std::vector<counter_cell>> outcome_counts(const time_span& span) override;
  result<std::vector<override_cell>> override_counts(const time_span& span) override;
  result<std::int64_t> count_decisions() override;
  result<std::int64_t> count_decisions_within(const time_span& span) override;
  result<span_tally> tally_within(const time_span& span) override;
  result<std::string> first_counter_activity() override;
  result<std::string> month_figures(const std::string& month) override;
  result<std::string> keep_month_figures(const std::string& month,
                                         const std::string& figures) override;
  result<std::optional<audit_problem>> verify() override;
  status checkpoint_in_background() override {
    if (checkpoints_) return {};
    auto c = wal_checkpointer::attach(impl_->db, impl_->path);
    if (!c) return c.error();
    checkpoints_ = std::move(*c);
    return {};
  }
  void upkeep_due() override {
    // A step that fails leaves its rows where they were (a round's in the recent part, a
    // drain's in the middle part), where reads find them; what is due is planned again after
    // the next commit (a full disk, another process's write lock).
    const auto chunks = impl_->merge_chunks;
    const std::int64_t frames = checkpoints_ ? checkpoints_->snapshot().frames : 0;
    (void)impl_->merge_due();
    if (checkpoints_) {
      // The WAL frames of the merge's transaction (counted at its commit, on this thread).
      if (impl_->merge_chunks != chunks) merge_frames_ += checkpoints_->snapshot().frames - frames;
      checkpoints_->run_due();
    }
  }
  std::string checkpoint_summary() const override {
    if (!checkpoints_) return {};
    auto n = checkpoints_->snapshot();
    return "checkpoints: " + std::to_string(n.passes) + " in the background (" +
           std::to_string(n.busy) + " busy), " + std::to_string(n.finishes) +
           " finished by the writer (at most " + std::to_string(n.largest_finish) + " frames, " +
           std::to_string(n.longest_finish_us) + " µs), " + std::to_string(n.forced) + " forced, " +
           std::to_string(n.skipped) + " put off, " + std::to_string(n.completed) +
           " complete; the WAL started again " + std::to_string(n.restarts) +
           " times and held at most " + std::to_string(n.largest_wal) + " frames; " +
           std::to_string(n.frames) + " frames written; the applicants' index merged " +
           std::to_string(impl_->merges) + " times into its middle part and drained " +
           std::to_string(impl_->drains) + " times into its main part in " +
           std::to_string(impl_->merge_chunks) + " transactions (" + std::to_string(merge_frames_) +
           " of the frames, at most " + std::to_string(impl_->longest_merge_us) +
           " µs, a drain's " + std::to_string(impl_->longest_drain_us) + " µs, " +
           std::to_string(impl_->merges_failed) + " failed)";
  }

 private:
  /// verify's checks, in its read transaction.
  result<std::optional<audit_problem>> verify_rows();
  /// verify's check of the months' figures kept (counter_figures entries).
  result<std::optional<audit_problem>> verify_month_figures();

  std::unique_ptr<impl> impl_;
  std::unique_ptr<wal_checkpointer> checkpoints_;  // destroyed first: it uses impl_->db
  std::int64_t merge_frames_ = 0;                  // the WAL frames the merges wrote
};

}  // namespace

result<std::unique_ptr<counter_store>> open_sqlite_counter(const std::string& path,
                                                           const crypto::master_key* key,
                                                           const std::string& key_file) {
  auto s = std::make_unique<sqlite_counter>();
  impl& m = s->m();
  m.path = path;
  m.key_file = key_file;
  if (key != nullptr) m.key = *key;
  std::string e;
  if (!m.db.open(path, e)) return fail(errc::failed, e);
  auto q = m.db.prepare("SELECT count(*) FROM counter_decisions", e);
  if (!q.ok()) {
    return fail(errc::failed, path +
                                  ": the store has no counter tables (open it with "
                                  "open_sqlite first, which upgrades it): " +
                                  e);
  }
  q.reset();
  if (m.key) {
    // The key given must be the store's, now (not after a rotation: that is for a running
    // server to follow).
    auto k = m.db.prepare("SELECT key_check FROM keyring WHERE id=1", e);
    if (!k.ok()) return fail(errc::failed, path + ": reading the keyring: " + e);
    int rc = k.step();
    if (rc == SQLITE_DONE) {
      return fail(errc::refused, path +
                                     " is not encrypted, but a master key was given: the "
                                     "counter would store its records in plain; encrypt the "
                                     "store first (dalil keys init --db), or give no key");
    }
    if (rc != SQLITE_ROW) return m.sql_error(path + ": reading the keyring");
    if (crypto::key_check(*m.key) != k.text_view(0)) {
      return fail(errc::refused, path +
                                     ": the master key given is not this store's (its check "
                                     "value is " +
                                     crypto::key_check(*m.key) + ", the store's " + k.text(0) +
                                     ": `dalil keys check` prints a key's)");
    }
  }
  if (auto st = m.refresh_keyring(); !st) return st.error();
  return std::unique_ptr<counter_store>(std::move(s));
}

bool sqlite_counter::encrypted() const {
  return impl_->encrypted;
}

result<std::string> sqlite_counter::applicant_key(const std::string& applicant_id) {
  impl& m = *impl_;
  if (auto st = m.refresh_keyring(); !st) return st.error();
  if (!m.encrypted) return applicant_id;
  if (auto st = m.need_key(); !st) return st.error();
  return m.find(applicant_id);
}

status sqlite_counter::begin() {
  impl_->reset_import();
  if (auto s = impl_->run(impl_->begin_tx, "BEGIN IMMEDIATE"); !s) return s;
  // In the transaction: an erasure, a rotation or an encryption by another process committed
  // before it is seen by every request of it.
  if (auto s = impl_->refresh_keyring(); !s) {
    rollback();
    return s;
  }
  return {};
}

status sqlite_counter::commit() {
  if (auto s = impl_->close_import(); !s) {
    rollback();
    return s;
  }
  if (auto s = impl_->run(impl_->commit_tx, "COMMIT"); !s) {
    rollback();
    return s;
  }
  impl_->reset_import();
  return {};
}

void sqlite_counter::rollback() {
  std::string ignored;
  impl_->db.exec("ROLLBACK", ignored);
  impl_->reset_import();
  impl_->recent_rows = -1;
}

status sqlite_counter::savepoint() {
  impl_->saved_import_id = impl_->import_id;
  impl_->saved_lines = impl_->import_lines.size();
  impl_->saved_count = impl_->import_count;
  return impl_->run(impl_->savepoint_tx, "SAVEPOINT request");
}

status sqlite_counter::release() {
  return impl_->run(impl_->release_tx, "RELEASE request");
}

void sqlite_counter::rollback_to() {
  std::string ignored;
  impl_->db.exec("ROLLBACK TO request; RELEASE request", ignored);
  impl_->recent_rows = -1;
  impl_->import_id = impl_->saved_import_id;
  impl_->import_lines.resize(impl_->saved_lines);
  impl_->import_count = impl_->saved_count;
}

status sqlite_counter::put_decision(counter_decision& d) {
  impl& m = *impl_;
  if (auto s = m.prepare_writes(); !s) return s;
  if (auto s = m.need_key(); !s) return s;
  // The applicant as the store names them: the pseudonym in an encrypted store.
  std::string who = d.applicant_id;
  if (m.encrypted) {
    auto p = m.pseudonym(d.applicant_id);
    if (!p) return p.error();
    who = std::move(*p);
  }
  // The record: a new version of the applicant unless the latest has the same content.
  m.latest.reset();
  m.latest.bind(1, who);
  std::int64_t version = 0;
  std::int64_t previous = 0;
  bool same = false;
  int rc = m.latest.step();
  if (rc == SQLITE_ROW) {
    previous = m.latest.int64(0);
    version = m.latest.int64(1);
    same = m.latest.text_view(2) == d.input_hash;
  } else if (rc != SQLITE_DONE) {
    m.latest.reset();
    return m.sql_error("reading the applicant's latest record");
  }
  m.latest.reset();
  if (same) {
    d.record_id = previous;
    d.record_version = version;
  } else {
    if (auto s = m.ensure_import(); !s) return s;
    m.insert_applicant.reset();
    if (m.insert_applicant.bind(1, who).step() != SQLITE_DONE) {
      m.insert_applicant.reset();
      return m.sql_error("storing the applicant");
    }
    m.insert_applicant.reset();
    if (previous != 0) {
      m.unlatest.reset();
      if (m.unlatest.bind(1, previous).step() != SQLITE_DONE) {
        m.unlatest.reset();
        return m.sql_error("storing the record");
      }
      m.unlatest.reset();
    }
    m.insert_record.reset();
    m.insert_record.bind(1, who).bind(2, version + 1).bind(3, d.input_hash).bind(5, m.import_id);
    if (m.encrypted) {
      // Sealed under the applicant's data key, bound to its row; the plain JSON never stored.
      auto dk = m.data_key(who);
      if (!dk) return dk.error();
      crypto::seal(*dk, d.record_json, crypto::record_ad(who, version + 1), m.sealed);
      m.insert_record.bind(4, std::string_view("")).bind_static_blob(6, m.sealed);
    } else {
      m.insert_record.bind(4, d.record_json).bind_null(6);
    }
    if (m.insert_record.step() != SQLITE_DONE) {
      m.insert_record.reset();
      return m.sql_error("storing the record");
    }
    m.insert_record.reset();
    d.record_id = m.db.last_insert_id();
    d.record_version = version + 1;
    // A sealed record's line vouches for its ciphertext too (as verify recomputes it): verify
    // needs no key, and an erasure breaks nothing.
    m.import_lines += std::to_string(d.record_id) + ':' + who + ':' +
                      std::to_string(d.record_version) + ':' + d.input_hash;
    if (m.encrypted) m.import_lines += ':' + engine::sha256_hex(m.sealed);
    m.import_lines += '\n';
    ++m.import_count;
  }
  d.at = now_utc();
  // An encrypted store keeps the outcomes' values that may come from the facts sealed (they
  // are regenerated from the sealed record on read).
  if (m.encrypted) m.outcomes = plain_outcomes(d.outcomes, d.plain_values);
  statement& q = m.insert_decision;
  q.reset();
  q.bind(1, d.decision_id)
      .bind(2, d.record_id)
      .bind(3, who)
      .bind(4, d.office)
      .bind(5, d.actor)
      .bind(6, d.at)
      .bind(7, d.as_of)
      .bind(8, d.ruleset_hash)
      .bind(9, d.input_hash)
      .bind_static(10, d.rules)
      .bind_static(11, m.encrypted ? m.outcomes : d.outcomes)
      .bind(12, std::int64_t{d.trace ? 1 : 0})
      .bind(13, d.answer_digest);
  if (d.publication_id != 0) {
    q.bind(14, d.publication_id);
  } else {
    q.bind_null(14);
  }
  rc = q.step();
  q.reset();
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {  // extended result codes are on
    return fail(errc::conflict, "counter decision " + d.decision_id + " exists already");
  }
  if (rc != SQLITE_DONE) return m.sql_error("storing the counter decision");
  // The applicants' index: appended to its recent part (merged later, upkeep_due).
  m.insert_recent.reset();
  m.insert_recent.bind(1, who).bind(2, d.at).bind(3, d.decision_id);
  rc = m.insert_recent.step();
  m.insert_recent.reset();
  if (rc != SQLITE_DONE) return m.sql_error("indexing the counter decision");
  if (m.recent_rows >= 0) ++m.recent_rows;
  std::string details = "{\"record\":" + std::to_string(d.record_id) + ",\"office\":";
  engine::append_json_string(details, d.office);
  details += ",\"digest\":\"" + digest_of(d, who, m.encrypted ? m.outcomes : d.outcomes) + "\"}";
  auto seq = m.audit.append(m.db, d.actor, "counter_decision", d.decision_id, details);
  if (!seq) return seq.error();
  return {};
}

status sqlite_counter::put_review(review& r) {
  impl& m = *impl_;
  if (auto s = m.need_key(); !s) return s;
  std::string who;  // the decision's applicant as the store names them
  {
    statement& q = m.decision_exists;
    if (auto s = m.ready(q, "SELECT applicant_id FROM counter_decisions WHERE decision_id=?"); !s)
      return s;
    q.bind(1, r.decision_id);
    int rc = q.step();
    if (rc == SQLITE_ROW) who = q.text(0);
    q.reset();
    if (rc == SQLITE_DONE) return fail(errc::not_found, "no decision " + r.decision_id);
    if (rc != SQLITE_ROW) return m.sql_error("reading the decision");
  }
  std::string latest;
  std::int64_t seq = 0;
  {
    statement& q = m.latest_review;
    if (auto s = m.ready(
            q, "SELECT review_id, seq FROM reviews WHERE decision_id=? ORDER BY seq DESC LIMIT 1");
        !s) {
      return s;
    }
    q.bind(1, r.decision_id);
    int rc = q.step();
    if (rc == SQLITE_ROW) {
      latest = q.text(0);
      seq = q.int64(1);
    } else if (rc != SQLITE_DONE) {
      q.reset();
      return m.sql_error("reading the reviews");
    }
    q.reset();
  }
  if (r.supersedes != latest) {
    return fail(errc::conflict,
                latest.empty() ? "the decision has no review yet: supersedes must be null"
                               : "review " + latest +
                                     " is the latest review of the decision: write against it");
  }
  r.seq = seq + 1;
  r.at = now_utc();
  // An encrypted store keeps in plain only each decision's rule and outcome (the override
  // rates); the official's decisions whole and the applicant's observations are sealed together
  // under the applicant's data key (refused when they were erased), bound to this row.
  review stored;
  std::string sealed;
  bool seal = m.encrypted;
#ifdef DALIL_TEST_HOOKS
  // Tests only (tests/store/serve_reviews_test.sh): store reviews in plain on an encrypted store,
  // as a dalil before sealed reviews did, for keys seal to seal.
  if (const char* plain = std::getenv("DALIL_TEST_PLAIN_REVIEWS"); plain && *plain == '1') {
    seal = false;
  }
#endif
  if (seal) {
    if (!sealing::plain_review(r, stored)) {
      return fail(errc::failed, "review " + r.review_id +
                                    ": its decisions are not an array of "
                                    "{rule, outcome, …}");
    }
    auto dk = m.data_key(who);
    if (!dk) return dk.error();
    sealing::seal_review(*dk, who, r.review_id, r.decisions, r.observations, sealed);
  }
  const review& row = seal ? stored : r;
  statement& q = m.insert_review;
  if (auto s = m.ready(q,
                       "INSERT INTO reviews(review_id, decision_id, seq, supersedes, at, user, "
                       "decisions, observations, sealed) VALUES(?,?,?,?,?,?,?,?,?)");
      !s) {
    return s;
  }
  q.bind(1, r.review_id).bind(2, r.decision_id).bind(3, r.seq);
  if (r.supersedes.empty()) {
    q.bind_null(4);
  } else {
    q.bind(4, r.supersedes);
  }
  q.bind(5, r.at).bind(6, r.user).bind(7, row.decisions).bind(8, row.observations);
  if (seal) {
    q.bind_static_blob(9, sealed);
  } else {
    q.bind_null(9);
  }
  int rc = q.step();
  q.reset();
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    return fail(errc::conflict, "review " + r.review_id + " exists");
  if (rc != SQLITE_DONE) return m.sql_error("storing the review");
  const std::string details = detail::review_details(
      r.review_id, r.seq, seal ? review_digest(row, sealed) : review_digest(r), seal);
  auto entry = m.audit.append(m.db, r.user, "review", r.decision_id, details);
  if (!entry) return entry.error();
  return {};
}

status sqlite_counter::audit(const std::string& actor, const std::string& action,
                             const std::string& subject, const std::string& details) {
  auto seq = impl_->audit.append(impl_->db, actor, action, subject, details);
  if (!seq) return seq.error();
  return {};
}

namespace {

counter_decision decision_from(const statement& q) {
  counter_decision d;
  d.decision_id = q.text(0);
  d.record_id = q.int64(1);
  d.applicant_id = q.text(2);
  d.office = q.text(3);
  d.actor = q.text(4);
  d.at = q.text(5);
  d.as_of = q.text(6);
  d.ruleset_hash = q.text(7);
  d.input_hash = q.text(8);
  d.rules = q.text(9);
  d.outcomes = q.text(10);
  d.trace = q.int64(11) != 0;
  d.answer_digest = q.text(12);
  d.record_json = q.text(13);
  d.record_version = q.int64(14);
  d.publication_id = q.is_null(15) ? 0 : q.int64(15);
  return d;
}

// Columns 16-20: the sealed record of an encrypted store and its applicant's data key.
constexpr const char* decision_columns =
    "SELECT c.decision_id, c.record_id, c.applicant_id, c.office, c.actor, c.at, c.as_of, "
    "c.ruleset_hash, c.input_hash, c.rules, c.outcomes, c.trace, c.answer_digest, r.json, "
    "r.version, c.publication_id, r.sealed, k.applicant_id IS NOT NULL, k.wrapped IS NULL, "
    "k.wrapped, k.generation FROM counter_decisions c JOIN records r USING(record_id) LEFT "
    "JOIN data_keys k ON k.applicant_id = r.applicant_id ";

review review_from(const statement& q) {
  return review_from_row(q);
}

// Columns 8-13: the sealed part of an encrypted store's review, its applicant and their data key.
constexpr const char* review_columns =
    "SELECT v.review_id, v.decision_id, v.seq, v.supersedes, v.at, v.user, v.decisions, "
    "v.observations, v.sealed, c.applicant_id, k.applicant_id IS NOT NULL, k.wrapped IS NULL, "
    "k.wrapped, k.generation";
/// What review_columns read from: the reviews, their decisions and the data keys.
constexpr const char* review_tables =
    " FROM reviews v JOIN counter_decisions c USING(decision_id) LEFT JOIN data_keys k ON "
    "k.applicant_id = c.applicant_id ";

}  // namespace

result<counter_decision> sqlite_counter::decision(const std::string& decision_id,
                                                  const std::string& office) {
  // The keyring as it is now: a rotation by another process since the last read.
  if (impl_->key) {
    if (auto st = impl_->refresh_keyring(); !st) return st.error();
  }
  statement& q = impl_->read_decision;
  // Another office's row is not even read (its record would be in this process's memory).
  if (auto s = impl_->ready(
          q, std::string(decision_columns) + "WHERE c.decision_id=?1 AND (?2='' OR c.office=?2)");
      !s) {
    return s.error();
  }
  q.bind(1, decision_id);
  q.bind(2, office);
  int rc = q.step();
  if (rc == SQLITE_DONE) {
    q.reset();
    return fail(errc::not_found, "no decision " + decision_id);
  }
  if (rc != SQLITE_ROW) {
    auto e = impl_->sql_error("reading the decision");
    q.reset();
    return e;
  }
  counter_decision d = decision_from(q);
  status opened;
  if (!q.is_null(16)) {
    opened = impl_->open_record(d, q.blob_view(16), q.int64(17) != 0, q.int64(18) != 0,
                                q.blob_view(19), q.is_null(20) ? 0 : q.int64(20));
  }
  q.reset();
  if (!opened) return opened.error();
  return d;
}

/// The review of a row read with review_columns, opened when it is sealed (sealing::open_review).
status impl::open_review_row(const statement& q, review& r) const {
  r = review_from(q);
  if (q.is_null(8)) return {};
  return sealing::open_review(key ? &*key : nullptr, q.text_view(9), q.blob_view(8),
                              q.int64(10) != 0, q.int64(11) != 0, q.blob_view(12),
                              q.is_null(13) ? 0 : q.int64(13), r);
}

result<std::vector<review>> sqlite_counter::reviews(const std::string& decision_id) {
  if (impl_->key) {
    if (auto st = impl_->refresh_keyring(); !st) return st.error();
  }
  statement& q = impl_->read_reviews;
  if (auto s = impl_->ready(
          q, std::string(review_columns) + review_tables + "WHERE v.decision_id=? ORDER BY v.seq");
      !s) {
    return s.error();
  }
  q.bind(1, decision_id);
  std::vector<review> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    review r;
    if (auto st = impl_->open_review_row(q, r); !st) {
      q.reset();
      return st.error();
    }
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) {
    auto e = impl_->sql_error("reading the reviews");
    q.reset();
    return e;
  }
  q.reset();
  return out;
}

result<std::vector<decision_summary>> sqlite_counter::applicant_decisions(
    const std::string& id, const std::string& office) {
  auto who = applicant_key(id);
  if (!who) return who.error();
  if (who->empty()) return std::vector<decision_summary>();  // unknown, or erased
  const std::string& applicant_id = *who;
  std::string e;
  auto q = impl_->db.prepare(
      "SELECT c.decision_id, c.as_of, c.at, c.office, c.ruleset_hash, "
      "EXISTS(SELECT 1 FROM reviews v WHERE v.decision_id=c.decision_id), "
      "coalesce(c.publication_id, 0) FROM "
      "counter_decisions c WHERE c.decision_id IN (SELECT decision_id FROM counter_applicants "
      "WHERE applicant_id=?1 UNION ALL SELECT decision_id FROM counter_applicants_mid WHERE "
      "applicant_id=?1 UNION ALL SELECT decision_id FROM counter_applicants_recent WHERE "
      "applicant_id=?1) AND (?2='' OR c.office=?2) ORDER BY c.at, c.rowid",
      e);
  if (!q.ok()) return fail(errc::failed, e);
  q.bind(1, applicant_id).bind(2, office);
  std::vector<decision_summary> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back(
        {q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.int64(5) != 0, q.int64(6)});
  }
  if (rc != SQLITE_DONE) return impl_->sql_error("reading the applicant's decisions");
  return out;
}

result<stored_record> sqlite_counter::latest_record(const std::string& id,
                                                    const std::string& office) {
  auto who = applicant_key(id);
  if (!who) return who.error();
  if (who->empty()) return fail(errc::not_found, "no record for this applicant");
  std::string e;
  constexpr const char* columns =
      "SELECT r.record_id, r.applicant_id, r.version, r.content_hash, r.json, r.sealed, "
      "k.applicant_id IS NOT NULL, k.wrapped IS NULL, k.wrapped, k.generation FROM records r "
      "LEFT JOIN data_keys k ON k.applicant_id = r.applicant_id WHERE r.applicant_id=?1 AND ";
  auto q = impl_->db.prepare(
      std::string(columns) +
          (office.empty()
               ? "r.latest=1"
               : "r.record_id=(SELECT c.record_id FROM counter_decisions c WHERE c.decision_id IN "
                 "(SELECT decision_id FROM counter_applicants WHERE applicant_id=?1 UNION ALL "
                 "SELECT decision_id FROM counter_applicants_mid WHERE applicant_id=?1 UNION ALL "
                 "SELECT decision_id FROM counter_applicants_recent WHERE applicant_id=?1) AND "
                 "c.office=?2 ORDER BY c.at DESC, c.rowid DESC LIMIT 1)"),
      e);
  if (!q.ok()) return fail(errc::failed, e);
  q.bind(1, *who);
  if (!office.empty()) q.bind(2, office);
  int rc = q.step();
  if (rc == SQLITE_DONE) return fail(errc::not_found, "no record for this applicant");
  if (rc != SQLITE_ROW) return impl_->sql_error("reading the record");
  stored_record r{q.int64(0), q.text(1), q.int64(2), q.text(3), q.text(4)};
  if (!q.is_null(5)) {
    counter_decision d;
    d.applicant_id = r.applicant_id;
    d.record_id = r.record_id;
    d.record_version = r.version;
    if (auto st = impl_->open_record(d, q.blob_view(5), q.int64(6) != 0, q.int64(7) != 0,
                                     q.blob_view(8), q.is_null(9) ? 0 : q.int64(9));
        !st) {
      return st.error();
    }
    if (d.erased) return fail(errc::not_found, "no record for this applicant");
    r.json = std::move(d.record_json);
  }
  return r;
}

result<std::vector<review_row>> sqlite_counter::list_reviews(const review_filter& f) {
  if (impl_->key) {
    if (auto st = impl_->refresh_keyring(); !st) return st.error();
  }
  std::string e;
  auto q = impl_->db.prepare(
      std::string(review_columns) + ", c.office" + review_tables +
          "WHERE (?1='' OR c.office=?1) AND (?2='' OR v.user=?2) AND (?3='' OR v.at>=?3) AND "
          "(?4='' OR v.at<?4) ORDER BY v.at, v.rowid LIMIT ?5",
      e);
  if (!q.ok()) return fail(errc::failed, e);
  q.bind(1, f.office).bind(2, f.user).bind(3, f.since).bind(4, f.until).bind(5, f.limit);
  std::vector<review_row> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    review_row row;
    if (auto st = impl_->open_review_row(q, row.r); !st) return st.error();
    row.office = q.text(14);
    out.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return impl_->sql_error("reading the reviews");
  return out;
}

result<std::vector<counter_cell>> sqlite_counter::outcome_counts(const time_span& span) {
  std::string e;
  // counter_decisions_at (schema 15) finds the span's rows.
  auto q = impl_->db.prepare(
      "SELECT json_extract(o.value,'$.rule'), json_extract(o.value,'$.status'), "
      "CASE WHEN json_extract(o.value,'$.status')='decided' THEN o.value -> '$.value' "
      "ELSE '' END, json_extract(o.value,'$.in_force'), count(*) FROM "
      "counter_decisions c, json_each(c.outcomes) o WHERE c.at >= ?1 AND c.at < ?2 "
      "GROUP BY 1, 2, 3, 4 ORDER BY 1, 4 DESC, 2, 3",
      e);
  if (!q.ok()) return fail(errc::failed, e);
  q.bind(1, span.from).bind(2, span.until);
  std::vector<counter_cell> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back({q.text(0), q.text(1), q.text(2), q.int64(3) != 0, q.int64(4)});
  }
  if (rc != SQLITE_DONE) return impl_->sql_error("counting the counter decisions");
  return out;
}

result<std::vector<override_cell>> sqlite_counter::override_counts(const time_span& span) {
  std::string e;
  auto q = impl_->db.prepare(
      "SELECT json_extract(o.value,'$.rule'), count(*), "
      "sum(json_extract(o.value,'$.outcome')='overridden') FROM reviews v, "
      "json_each(v.decisions) o WHERE v.at >= ?1 AND v.at < ?2 AND v.seq=(SELECT max(seq) "
      "FROM reviews w WHERE w.decision_id=v.decision_id AND w.at < ?2) GROUP BY 1 ORDER BY 1",
      e);
  if (!q.ok()) return fail(errc::failed, e);
  q.bind(1, span.from).bind(2, span.until);
  std::vector<override_cell> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back({q.text(0), q.int64(1), q.int64(2)});
  if (rc != SQLITE_DONE) return impl_->sql_error("counting the reviews");
  return out;
}

result<std::int64_t> sqlite_counter::count_decisions() {
  std::string e;
  auto q = impl_->db.prepare("SELECT count(*) FROM counter_decisions", e);
  if (!q.ok()) return fail(errc::failed, e);
  if (q.step() != SQLITE_ROW) return impl_->sql_error("counting the counter decisions");
  return q.int64(0);
}

result<std::int64_t> sqlite_counter::count_decisions_within(const time_span& span) {
  std::string e;
  auto q =
      impl_->db.prepare("SELECT count(*) FROM counter_decisions WHERE at >= ?1 AND at < ?2", e);
  if (!q.ok()) return fail(errc::failed, e);
  q.bind(1, span.from).bind(2, span.until);
  if (q.step() != SQLITE_ROW) return impl_->sql_error("counting the counter decisions");
  return q.int64(0);
}

result<span_tally> sqlite_counter::tally_within(const time_span& span) {
  // A deferred transaction: its first read takes the snapshot (WAL) the other two read too.
  if (auto s = impl_->run(impl_->begin_read_tx, "BEGIN"); !s) return s.error();
  auto tally = count_tally(span);
  impl_->end_read();  // read only: nothing to keep
  return tally;
}

result<std::string> sqlite_counter::first_counter_activity() {
  std::string e;
  // Each min() is one step of its index (counter_decisions_at, reviews_at).
  auto q = impl_->db.prepare(
      "SELECT coalesce(min(at), '') FROM (SELECT min(at) AS at FROM counter_decisions "
      "UNION ALL SELECT min(at) FROM reviews)",
      e);
  if (!q.ok()) return fail(errc::failed, e);
  if (q.step() != SQLITE_ROW) return impl_->sql_error("reading the first counter decision");
  return q.text(0);
}

result<std::string> sqlite_counter::month_figures(const std::string& month) {
  std::string e;
  auto q = impl_->db.prepare("SELECT figures FROM counter_month_figures WHERE month = ?1", e);
  if (!q.ok()) return fail(errc::failed, e);
  q.bind(1, month);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return std::string();
  if (rc != SQLITE_ROW) return impl_->sql_error("reading a month's figures");
  return q.text(0);
}

result<std::string> sqlite_counter::keep_month_figures(const std::string& month,
                                                       const std::string& figures) {
  impl& m = *impl_;
  // Kept and vouched for in one transaction: the process that keeps the month first writes its
  // counter_figures entry (the figures' digest), which verify checks the row against.
  if (auto s = m.run(m.begin_tx, "BEGIN IMMEDIATE"); !s) return s.error();
  auto kept = [&]() -> status {
    std::string e;
    auto q = m.db.prepare(
        "INSERT INTO counter_month_figures(month, figures, at) VALUES(?1, ?2, ?3) "
        "ON CONFLICT(month) DO NOTHING",
        e);
    if (!q.ok()) return fail(errc::failed, e);
    q.bind(1, month).bind(2, figures).bind(3, now_utc());
    if (q.step() != SQLITE_DONE) return m.sql_error("keeping a month's figures");
    if (m.db.changes() == 1) {
      const std::string details =
          detail::counter_figures_details(month, detail::counter_figures_digest(figures));
      if (auto seq = m.audit.append(m.db, "dalil", "counter_figures", month, details); !seq) {
        return seq.error();
      }
    }
    return m.run(m.commit_tx, "COMMIT");
  }();
  if (!kept) {
    std::string ignored;
    m.db.exec("ROLLBACK", ignored);
    return kept.error();
  }
  return month_figures(month);
}

result<std::optional<audit_problem>> sqlite_counter::verify() {
  // Every check in one snapshot (a deferred read transaction, unless the caller's is open): a
  // decision, review or month's figures that a running server commits meanwhile is seen by all
  // of them or by none (a count read after the entries would name it inserted behind the
  // tool's back).
  const bool own = sqlite3_get_autocommit(impl_->db.handle()) != 0;
  if (own) {
    if (auto s = impl_->run(impl_->begin_read_tx, "BEGIN"); !s) return s.error();
  }
  auto found = verify_rows();
  if (own) impl_->end_read();
  return found;
}

result<std::optional<audit_problem>> sqlite_counter::verify_rows() {
  std::string e;
  // A store encrypted in place (`dalil keys init --db` with data) renamed its counter decisions
  // to pseudonyms and sealed their amounts, then vouched for each again; `dalil keys seal`
  // retyping outcomes an older dalil kept by their shape does the same (its keys_seal entry then
  // counts them): the counter_decision entries before the last such entry are superseded.
  std::int64_t superseded_before = 0;
  // The same for the reviews sealed in place (the in-place keys_init entry counts them).
  std::int64_t reviews_superseded_before = 0;
  {
    auto k = impl_->db.prepare(
        "SELECT max(seq) FROM audit WHERE (action='keys_init' AND details LIKE "
        "'%\"in_place\":%') OR (action='keys_seal' AND details LIKE '%\"counter_decisions\":%')",
        e);
    if (!k.ok()) return fail(errc::failed, e);
    if (k.step() == SQLITE_ROW && !k.is_null(0)) superseded_before = k.int64(0);
    auto r = impl_->db.prepare(
        "SELECT max(seq) FROM audit WHERE action='keys_init' AND details LIKE '%\"reviews\":%'", e);
    if (!r.ok()) return fail(errc::failed, e);
    if (r.step() == SQLITE_ROW && !r.is_null(0)) reviews_superseded_before = r.int64(0);
  }
  // Reviews sealed again by keys reseal: the entry that vouches for one again names the one it
  // replaces (after a keys_reseal or keys_seal entry), which is then superseded.
  std::map<std::int64_t, std::string> replaced;  // entry → the review its replacement names
  {
    auto r = impl_->db.prepare(
        "SELECT seq, details FROM audit WHERE action='review' AND details LIKE "
        "'%\"replaces\":%' AND seq > (SELECT min(seq) FROM audit WHERE "
        "action IN ('keys_reseal', 'keys_seal'))",
        e);
    if (!r.ok()) return fail(errc::failed, e);
    while (r.step() == SQLITE_ROW) {
      const std::string d = r.text(1);
      const std::string n = detail::audit_field(d, "replaces");
      if (!n.empty() &&
          std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
          n.size() < 19 && std::stoll(n) < r.int64(0)) {
        replaced[std::stoll(n)] = detail::audit_field(d, "review");
      }
    }
  }
  auto entries = impl_->db.prepare(
      "SELECT seq, action, subject, details FROM audit WHERE (action='counter_decision' AND seq "
      "> ?1) OR (action='review' AND seq > ?2) ORDER BY seq",
      e);
  if (!entries.ok()) return fail(errc::failed, e);
  entries.bind(1, superseded_before).bind(2, reviews_superseded_before);
  std::int64_t decisions = 0;
  std::int64_t reviews_seen = 0;
  int rc = 0;
  while ((rc = entries.step()) == SQLITE_ROW) {
    std::int64_t seq = entries.int64(0);
    std::string action = entries.text(1);
    std::string subject = entries.text(2);
    std::string details = entries.text(3);
    // "(audit entry N)": what each problem below names besides its row.
    std::string entry = " (audit entry " + std::to_string(seq) + ") ";
    auto problem = [&](std::string what, const std::string& id, const char* how) {
      what += id;
      what += entry;
      what += how;
      return std::optional<audit_problem>(audit_problem{seq, std::move(what)});
    };
    if (action == "counter_decision") {
      ++decisions;
      auto d = decision(subject, "");
      if (!d) {
        return problem("counter decision ", subject, "was deleted");
      }
      if (counter_digest(*d) != detail::audit_field(details, "digest") ||
          std::to_string(d->record_id) != detail::audit_field(details, "record")) {
        return problem("counter decision ", subject, "was changed");
      }
    } else {
      std::string id = detail::audit_field(details, "review");
      if (auto it = replaced.find(seq); it != replaced.end()) {
        if (it->second != id) return problem("review ", id, "was replaced by another's entry");
        continue;  // sealed again since (keys reseal): its replacement vouches for the row
      }
      ++reviews_seen;
      auto q = impl_->db.prepare(
          std::string(review_columns) + review_tables + "WHERE v.review_id=? AND v.decision_id=?",
          e);
      if (!q.ok()) return fail(errc::failed, e);
      q.bind(1, id).bind(2, subject);
      if (q.step() != SQLITE_ROW) {
        return problem("review ", id, "was deleted");
      }
      // The row as stored (verify needs no key: a sealed review by its sealed bytes).
      if (!review_vouched(
              details, review_from(q),
              q.is_null(8) ? std::nullopt : std::optional<std::string_view>(q.blob_view(8)))) {
        return problem("review ", id, "was changed");
      }
    }
  }
  if (rc != SQLITE_DONE) return impl_->sql_error("reading the audit log");
  auto count = [&](const char* sql) -> std::int64_t {
    auto q = impl_->db.prepare(sql, e);
    return q.ok() && q.step() == SQLITE_ROW ? q.int64(0) : -1;
  };
  if (count("SELECT count(*) FROM counter_decisions") != decisions) {
    return std::optional<audit_problem>(audit_problem{
        0,
        "there are counter decisions that no audit entry vouches for (inserted behind the "
        "tool's back)"});
  }
  // The applicants' index (its three parts, migrations 13 and 17) holds each decision once,
  // under its applicant and time: else a decision would be missing from its applicant's
  // history. A row in two parts is counted once: in the recent and the middle part, one a
  // round inserted and has not yet cleared (merge_due); in the main part and another, one a
  // round of a dalil before schema 17 inserted and did not clear, until the next drain.
  if (count("SELECT (SELECT count(*) FROM counter_applicants) + (SELECT count(*) FROM "
            "counter_applicants_mid m WHERE NOT EXISTS (SELECT 1 FROM counter_applicants a WHERE "
            "a.applicant_id = m.applicant_id AND a.at = m.at AND a.decision_id = m.decision_id)) "
            "+ (SELECT count(*) FROM counter_applicants_recent r WHERE NOT EXISTS (SELECT 1 FROM "
            "counter_applicants a WHERE a.applicant_id = r.applicant_id AND a.at = r.at AND "
            "a.decision_id = r.decision_id) AND NOT EXISTS (SELECT 1 FROM counter_applicants_mid "
            "m WHERE m.applicant_id = r.applicant_id AND m.at = r.at AND m.decision_id = "
            "r.decision_id))") != decisions ||
      count("SELECT count(*) FROM (SELECT applicant_id, at, decision_id FROM counter_decisions "
            "EXCEPT SELECT applicant_id, at, decision_id FROM counter_applicants EXCEPT SELECT "
            "applicant_id, at, decision_id FROM counter_applicants_mid EXCEPT SELECT "
            "applicant_id, at, decision_id FROM counter_applicants_recent)") != 0) {
    return std::optional<audit_problem>(audit_problem{
        0,
        "the applicants' index of counter decisions does not hold each decision once under its "
        "applicant (counter_applicants, counter_applicants_mid, counter_applicants_recent: "
        "changed behind the tool's back?): an applicant's history would miss some"});
  }
  if (count("SELECT count(*) FROM reviews") != reviews_seen) {
    return std::optional<audit_problem>(audit_problem{
        0, "there are reviews that no audit entry vouches for (inserted behind the tool's back)"});
  }
  return verify_month_figures();
}

result<std::optional<audit_problem>> sqlite_counter::verify_month_figures() {
  // Each month's figures kept since they were last dropped (figures_dropped_by) against the
  // counter_figures entry that vouches for them, and no row without one.
  std::string e;
  auto q = impl_->db.prepare(detail::kept_months_sql(), e);
  if (!q.ok()) return fail(errc::failed, e);
  detail::kept_months_check check;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    auto problem =
        check.entry(q.int64(0), q.text(1), q.text(2),
                    q.is_null(3) ? std::nullopt : std::optional<std::string_view>(q.text_view(3)));
    if (problem) return problem;
  }
  if (rc != SQLITE_DONE) return impl_->sql_error("reading the audit log");
  auto rows = impl_->db.prepare("SELECT count(*) FROM counter_month_figures", e);
  if (!rows.ok() || rows.step() != SQLITE_ROW) return impl_->sql_error("counting kept months");
  return check.rows(rows.int64(0));
}

}  // namespace dalil::store
