// The PostgreSQL implementation of the counter store (store/counter_store.hpp): counter decisions,
// their records as applicant versions, reviews, and the audit entries that vouch for each, the
// same rows, entries and digests as store/sqlite_counter.cpp writes. And counter_store::open,
// which chooses between the two.
//
// Several servers write one database: each write transaction takes the writer lock (record and
// import ids are max + 1 under it, as imports take them) and then the chain's lock, at its first
// write, and holds both to its end. Every transaction of the counter is therefore serialized
// against the others before it reads anything it decides on (the latest record of an applicant,
// the latest review of a decision), with the locks always in the order imports take them (no
// deadlock). UNIQUE(decision_id, seq) and the primary keys remain as a backstop (conflict).
#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "engine/record.hpp"
#include "engine/sha256.hpp"
#include "store/chain.hpp"
#include "store/counter_store.hpp"
#include "store/crypto.hpp"
#include "store/entry_format.hpp"
#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"
#include "store/sealing.hpp"

namespace dalil::store {

namespace pg {

namespace {

using dalil::store::detail::audit_field;

param text_or_null(const std::string& v) {
  return v.empty() ? param() : param(v);
}

counter_decision decision_from(const rows& q, int i) {
  counter_decision d;
  d.decision_id = q.text(i, 0);
  d.record_id = q.int64(i, 1);
  d.applicant_id = q.text(i, 2);
  d.office = q.text(i, 3);
  d.actor = q.text(i, 4);
  d.at = q.text(i, 5);
  d.as_of = q.text(i, 6);
  d.ruleset_hash = q.text(i, 7);
  d.input_hash = q.text(i, 8);
  d.rules = q.text(i, 9);
  d.outcomes = q.text(i, 10);
  d.trace = q.int64(i, 11) != 0;
  d.answer_digest = q.text(i, 12);
  d.record_json = q.text(i, 13);
  d.record_version = q.int64(i, 14);
  d.publication_id = q.null(i, 15) ? 0 : q.int64(i, 15);
  return d;
}

// Columns 16-21: the sealed record of an encrypted store, its applicant's data key (whether a
// row exists, whether it was destroyed, the wrapped key, its generation) and the keyring's
// generation now (0: none).
constexpr const char* decision_columns =
    "SELECT c.decision_id, c.record_id, c.applicant_id, c.office, c.actor, c.at, c.as_of, "
    "c.ruleset_hash, c.input_hash, c.rules, c.outcomes, c.trace, c.answer_digest, r.json, "
    "r.version, c.publication_id, r.sealed, k.applicant_id IS NOT NULL, k.wrapped IS NULL, "
    "k.wrapped, k.generation, coalesce((SELECT g.generation FROM keyring g WHERE g.id = 1), 0) "
    "FROM counter_decisions c JOIN records r USING(record_id) LEFT JOIN data_keys k ON "
    "r.sealed IS NOT NULL AND k.applicant_id = r.applicant_id ";

/// How messages name a PostgreSQL store (never by its connection string).
constexpr std::string_view pg_name = "the PostgreSQL store";

review review_from(const rows& q, int i) {
  return review_from_row(row_view{q, i});
}

// Columns 8-14: the sealed part of an encrypted store's review, its applicant, their data key
// and the keyring's generation now (as decision_columns' 16-21).
constexpr const char* review_columns =
    "SELECT v.review_id, v.decision_id, v.seq, v.supersedes, v.at, v.\"user\", v.decisions, "
    "v.observations, v.sealed, c.applicant_id, k.applicant_id IS NOT NULL, k.wrapped IS NULL, "
    "k.wrapped, k.generation, coalesce((SELECT g.generation FROM keyring g WHERE g.id = 1), 0)";
/// What review_columns read from: the reviews, their decisions and the data keys.
constexpr const char* review_tables =
    " FROM reviews v JOIN counter_decisions c USING(decision_id) LEFT JOIN data_keys k ON "
    "v.sealed IS NOT NULL AND k.applicant_id = c.applicant_id ";

}  // namespace

std::optional<audit_problem> check_counter_rows(connection& c, std::string_view what,
                                                error* failure) {
  auto failed = [&](const error& e) {
    *failure = e;
    return std::optional<audit_problem>();
  };
  // A store encrypted in place renamed its counter decisions and vouched for each again, and
  // keys seal retyping the outcomes an older dalil kept by their shape does the same (its
  // keys_seal entry then counts them): the entries before the last such entry are superseded
  // (as sqlite_counter.cpp reads them). Reviews sealed in place: the review entries before the
  // keys_init that counts them.
  auto k = c.query(what,
                   "SELECT coalesce(max(seq) FILTER (WHERE (action='keys_init' AND details LIKE "
                   "'%\"in_place\":%') OR (action='keys_seal' AND details LIKE "
                   "'%\"counter_decisions\":%')), 0), coalesce(max(seq) FILTER (WHERE "
                   "action='keys_init' AND details LIKE '%\"reviews\":%'), 0) FROM audit WHERE "
                   "action IN ('keys_init', 'keys_seal')");
  if (!k) return failed(k.error());
  // Reviews sealed again by keys reseal (a SQLite store migrated since): the entry that vouches
  // for one again names the one it replaces, which is then superseded (as sqlite_counter.cpp).
  std::map<std::int64_t, std::string> replaced;
  {
    auto r = c.query(what,
                     "SELECT seq, details FROM audit WHERE action='review' AND details LIKE "
                     "'%\"replaces\":%' AND seq > (SELECT min(seq) FROM audit "
                     "WHERE action IN ('keys_reseal', 'keys_seal'))");
    if (!r) return failed(r.error());
    for (int i = 0; i < r->size(); ++i) {
      const std::string d = r->text(i, 1);
      const std::string n = audit_field(d, "replaces");
      if (!n.empty() && n.size() < 19 &&
          std::all_of(n.begin(), n.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
          std::stoll(n) < r->int64(i, 0)) {
        replaced[std::stoll(n)] = audit_field(d, "review");
      }
    }
  }
  // Each entry with the row it names, read by a cursor (a store's whole counter is not held in
  // memory): a decision by the entry's subject, a review by its decision and the review id of
  // the entry's details (checked again below as the entry's own parser reads it).
  if (auto s = c.run(
          what,
          "DECLARE dalil_counter NO SCROLL CURSOR FOR SELECT a.seq, a.action, a.subject, "
          "a.details, d.decision_id, d.record_id, d.applicant_id, d.office, d.actor, d.at, "
          "d.as_of, d.ruleset_hash, d.input_hash, d.rules, d.outcomes, d.trace, d.answer_digest, "
          "d.publication_id, v.review_id, v.decision_id, v.seq, v.supersedes, v.at, v.\"user\", "
          "v.decisions, v.observations, v.sealed FROM audit a LEFT JOIN counter_decisions d ON "
          "a.action = 'counter_decision' AND d.decision_id = a.subject LEFT JOIN reviews v ON "
          "a.action = 'review' AND v.decision_id = a.subject AND v.review_id = "
          "(regexp_match(a.details, '\"review\":\"([^\"]*)\"'))[1] WHERE a.action IN "
          "('counter_decision', 'review') AND ((a.action = 'review' AND a.seq > $2) OR "
          "(a.action = 'counter_decision' AND a.seq > $1)) ORDER BY a.seq",
          {k->text(0, 0), k->text(0, 1)});
      !s) {
    return failed(s.error());
  }
  std::int64_t decisions_seen = 0;
  std::int64_t reviews_seen = 0;
  std::optional<audit_problem> found;
  while (!found) {
    auto batch = c.query(what, "FETCH 5000 FROM dalil_counter");
    if (!batch) return failed(batch.error());
    if (batch->size() == 0) break;
    const rows& q = *batch;
    for (int i = 0; i < q.size() && !found; ++i) {
      found = [&]() -> std::optional<audit_problem> {
        const std::int64_t seq = q.int64(i, 0);
        const std::string subject = q.text(i, 2);
        const std::string details = q.text(i, 3);
        const std::string entry = " (audit entry " + std::to_string(seq) + ") ";
        auto problem = [&](std::string noun, const std::string& id, const char* how) {
          noun += id;
          noun += entry;
          noun += how;
          return std::optional<audit_problem>(audit_problem{seq, std::move(noun)});
        };
        if (q.view(i, 1) == "counter_decision") {
          ++decisions_seen;
          if (q.null(i, 4)) return problem("counter decision ", subject, "was deleted");
          counter_decision d;
          d.decision_id = q.text(i, 4);
          d.record_id = q.int64(i, 5);
          d.applicant_id = q.text(i, 6);
          d.office = q.text(i, 7);
          d.actor = q.text(i, 8);
          d.at = q.text(i, 9);
          d.as_of = q.text(i, 10);
          d.ruleset_hash = q.text(i, 11);
          d.input_hash = q.text(i, 12);
          d.rules = q.text(i, 13);
          d.outcomes = q.text(i, 14);
          d.trace = q.int64(i, 15) != 0;
          d.answer_digest = q.text(i, 16);
          d.publication_id = q.null(i, 17) ? 0 : q.int64(i, 17);
          if (counter_digest(d) != audit_field(details, "digest") ||
              std::to_string(d.record_id) != audit_field(details, "record")) {
            return problem("counter decision ", subject, "was changed");
          }
        } else {
          const std::string id = audit_field(details, "review");
          if (auto it = replaced.find(seq); it != replaced.end()) {
            if (it->second != id) return problem("review ", id, "was replaced by another's entry");
            return std::nullopt;  // sealed again since (keys reseal): its replacement vouches
          }
          ++reviews_seen;
          if (q.null(i, 18) || q.view(i, 18) != id) return problem("review ", id, "was deleted");
          const review r = review_from_row(row_view{q, i}, 18);
          // The row as stored (verify needs no key: a sealed review by its sealed bytes).
          const std::string sealed = q.null(i, 26) ? std::string() : bytea_value(q.view(i, 26));
          if (!review_vouched(
                  details, r,
                  q.null(i, 26) ? std::nullopt : std::optional<std::string_view>(sealed))) {
            return problem("review ", id, "was changed");
          }
        }
        return std::nullopt;
      }();
    }
  }
  if (auto s = c.run(what, "CLOSE dalil_counter"); !s) return failed(s.error());
  if (found) return found;
  auto n = c.query(what,
                   "SELECT (SELECT count(*) FROM counter_decisions), (SELECT count(*) FROM "
                   "reviews)");
  if (!n) return failed(n.error());
  if (n->int64(0, 0) != decisions_seen) {
    return audit_problem{0,
                         "there are counter decisions that no audit entry vouches for (inserted "
                         "behind the tool's back)"};
  }
  if (n->int64(0, 1) != reviews_seen) {
    return audit_problem{
        0, "there are reviews that no audit entry vouches for (inserted behind the tool's back)"};
  }
  // Each month's figures kept since they were last dropped against the counter_figures entry
  // that vouches for them, and no row without one (as sqlite_counter.cpp checks them).
  auto f = c.query(what, dalil::store::detail::kept_months_sql());
  if (!f) return failed(f.error());
  dalil::store::detail::kept_months_check check;
  for (int i = 0; i < f->size(); ++i) {
    auto problem =
        check.entry(f->int64(i, 0), f->text(i, 1), f->text(i, 2),
                    f->null(i, 3) ? std::nullopt : std::optional<std::string_view>(f->view(i, 3)));
    if (problem) return *problem;
  }
  auto kept = c.query(what, "SELECT count(*) FROM counter_month_figures");
  if (!kept) return failed(kept.error());
  if (auto problem = check.rows(kept->int64(0, 0))) return *problem;
  return std::nullopt;
}

namespace {

/// The counter store on PostgreSQL: one connection (pg_store's). In an encrypted store (a key
/// bound by `dalil keys init`, or migrated from an encrypted SQLite store) it stores what
/// store/sqlite_counter.cpp stores: each record sealed under its applicant's data key and named
/// by pseudonym, the outcomes kept as plain_outcomes keeps them.
class pg_counter final : public counter_store {
 public:
  pg_counter(std::unique_ptr<pg_store> pg, const crypto::master_key* key, std::string key_file)
      : pg_(std::move(pg)), key_file_(std::move(key_file)) {
    if (key != nullptr) key_ = *key;
  }

  bool encrypted() const override { return encrypted_; }

  result<std::string> applicant_key(const std::string& applicant_id) override {
    if (!encrypted_) return applicant_id;
    if (auto s = need_key(); !s) return s.error();
    auto q = c().query("finding the applicant's pseudonym",
                       "SELECT applicant_id FROM pseudonyms WHERE lookup=$1",
                       {crypto::lookup_hash(*key_, applicant_id)});
    if (!q) return q.error();
    return q->size() == 1 ? q->text(0, 0) : std::string();
  }

  status begin() override {
    reset_import();
    locked_ = false;
    if (auto s =
            c().run("beginning the counter's transaction", "BEGIN ISOLATION LEVEL READ COMMITTED");
        !s)
      return s;
    in_tx_ = true;
    return {};
  }

  status commit() override {
    constexpr std::string_view what = "committing the counter's transaction";
    if (auto s = close_import(); !s) {
      rollback();
      return s;
    }
    if (auto s = c().run(what, "COMMIT"); !s) {
      rollback();
      return s;
    }
    in_tx_ = false;
    reset_import();
    return {};
  }

  void rollback() override {
    c().rollback();
    in_tx_ = false;
    reset_import();
  }

  status savepoint() override {
    // Locks taken after a savepoint are released when it is rolled back to.
    saved_locked_ = locked_;
    saved_import_id_ = import_id_;
    saved_lines_ = import_lines_.size();
    saved_count_ = import_count_;
    saved_next_record_ = next_record_;
    saved_last_pseudonym_ = last_pseudonym_;
    return c().run("starting a request's savepoint", "SAVEPOINT request");
  }

  status release() override {
    return c().run("ending a request's savepoint", "RELEASE SAVEPOINT request");
  }

  void rollback_to() override {
    // A failed statement leaves the transaction aborted until this: it is what clears it.
    (void)c().run("rolling a request back", "ROLLBACK TO SAVEPOINT request");
    (void)c().run("rolling a request back", "RELEASE SAVEPOINT request");
    locked_ = saved_locked_;
    import_id_ = saved_import_id_;
    import_lines_.resize(saved_lines_);
    import_count_ = saved_count_;
    next_record_ = saved_next_record_;
    last_pseudonym_ = saved_last_pseudonym_;
  }

  status put_decision(counter_decision& d) override {
    constexpr std::string_view what = "storing the counter decision";
    if (!in_tx_) return not_in_transaction();
    if (auto s = need_key(); !s) return s;
    d.at = now_utc();
    // One round trip (migrations 9 and 10): dalil_counter_decision takes the writer's and the
    // chain's locks and stores the record version, the decision and its entry, hashed here as
    // SQLite hashes it, against what this connection expects: the record id (the next after its
    // last new record), the chain's head (its last append), the keyring's generation and, in an
    // encrypted store, the applicant's pseudonym and version (a new applicant: the pseudonym
    // after the last this connection gave), which the record is sealed for. When any moved
    // (another server's writes, a record of the same content, a rollback, a key rotation or an
    // erasure by another process), it stores nothing and says what it found, against which the
    // record is sealed and the entry hashed again: the locks are held then (a rotation and an
    // erasure take the writer's), so the second call stores.
    sealed_for s;
    s.fresh = true;
    s.version = 1;
    d.record_id = next_record_;
    bool duplicate = false;
    std::string stored_outcomes;
    std::string sealed;
    auto appended = pg_->append_with(
        what, [&](std::int64_t seq, const std::string& prev) -> result<pg_store::append_attempt> {
          // The applicant as the store names them, the outcomes as it keeps them.
          std::string lookup;
          if (encrypted_) {
            if (auto st = need_key(); !st) return st.error();
            lookup = crypto::lookup_hash(*key_, d.applicant_id);
            if (s.who.empty()) {
              s.who = crypto::next_pseudonym(last_pseudonym_);
              s.dk = crypto::new_data_key();
            }
            stored_outcomes = plain_outcomes(d.outcomes, d.plain_values);
            sealed.clear();
            if (s.new_record) sealing::seal_record(*s.dk, s.who, s.version, d.record_json, sealed);
          }
          const std::string& who = encrypted_ ? s.who : d.applicant_id;
          const std::string& outcomes = encrypted_ ? stored_outcomes : d.outcomes;
          std::string details = "{\"record\":" + std::to_string(d.record_id) + ",\"office\":";
          engine::append_json_string(details, d.office);
          details += ",\"digest\":\"" + counter_digest(d, who, outcomes) + "\"}";
          std::string hash = dalil::store::detail::entry_hash(
              prev, seq, d.at, d.actor, "counter_decision", d.decision_id, details);
          param wrapped;
          if (encrypted_ && s.fresh) {
            wrapped = bytea_param(crypto::wrap(*key_, *s.dk, s.who, generation_));
          }
          auto r = c().query(
              what,
              "SELECT outcome, rec_id, rec_version, new_record, imp_id, head_seq, head_hash, "
              "found_generation, found_applicant, found_wrapped, found_key_generation, last_given "
              "FROM dalil_counter_decision($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,"
              "$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28)",
              {std::to_string(writer_lock_key),
               std::to_string(chain_lock_key),
               d.decision_id,
               who,
               d.office,
               d.actor,
               d.at,
               d.as_of,
               d.ruleset_hash,
               d.input_hash,
               d.rules,
               outcomes,
               d.trace ? "1" : "0",
               d.answer_digest,
               d.publication_id != 0 ? param(std::to_string(d.publication_id)) : param(),
               encrypted_ ? std::string() : d.record_json,
               std::to_string(d.record_id),
               std::to_string(import_id_),
               std::to_string(seq),
               details,
               prev,
               hash,
               std::to_string(generation_),
               encrypted_ ? param(lookup) : param(),
               last_pseudonym_,
               std::to_string(s.version),
               encrypted_ && s.new_record ? param(bytea_param(sealed)) : param(),
               wrapped});
          if (!r) return r.error();
          locked_ = true;  // the function took both locks, held to the transaction's end
          const rows& q = *r;
          if (q.view(0, 0) == "exists") {
            duplicate = true;
            return fail(errc::conflict, "counter decision " + d.decision_id + " exists already");
          }
          d.record_id = q.int64(0, 1);
          d.record_version = q.int64(0, 2);
          s.new_record = q.view(0, 3) == "t";
          import_id_ = q.int64(0, 4);
          pg_store::append_attempt done{q.view(0, 0) == "stored", {q.int64(0, 5), q.text(0, 6)}};
          if (done.appended) return done;
          // Moved: what the database holds now, under the locks.
          if (q.int64(0, 7) != generation_) {
            if (auto st = refresh_keyring(); !st) return st.error();
            if (auto st = need_key(); !st) return st.error();
          }
          if (encrypted_) {
            if (auto st = found(q, s); !st) return st.error();
          }
          s.version = d.record_version;
          return done;
        });
    if (!appended) {
      const error& e = appended.error();
      if (e.code == errc::conflict && !duplicate) {
        // A foreign key (a ruleset the store does not hold) is a conflict to libpq's mapping
        // too; the decision id was checked first under the locks.
        return fail(errc::conflict,
                    "counter decision " + d.decision_id + " was not stored: " + e.message);
      }
      return e;
    }
    if (encrypted_ && s.fresh) last_pseudonym_ = s.who;
    if (s.new_record) {
      next_record_ = d.record_id + 1;
      // The line SQLite's counter writes for its import's digest (verify recomputes it): a
      // sealed record's vouches for its ciphertext too.
      import_lines_ += std::to_string(d.record_id) + ':' + (encrypted_ ? s.who : d.applicant_id) +
                       ':' + std::to_string(d.record_version) + ':' + d.input_hash;
      if (encrypted_) import_lines_ += ':' + engine::sha256_hex(sealed);
      import_lines_ += '\n';
      ++import_count_;
    }
    return {};
  }

  status put_review(review& r) override {
    constexpr std::string_view what = "storing the review";
    // Under the locks: a review another server committed before is seen here, one it is
    // writing waits for them (its transaction holds them), so exactly one of two reviews
    // superseding the same one is stored; the other is a conflict.
    if (auto s = lock(); !s) return s;
    // The decision's applicant and their data key, and the keyring's generation, under the
    // writer's lock (which a rotation and an erasure take: neither moves them until the end).
    auto exists = c().query(
        what,
        "SELECT c.applicant_id, k.applicant_id IS NOT NULL, k.wrapped IS NULL, k.wrapped, "
        "k.generation, coalesce((SELECT g.generation FROM keyring g WHERE g.id = 1), 0) FROM "
        "counter_decisions c LEFT JOIN data_keys k ON k.applicant_id = c.applicant_id WHERE "
        "c.decision_id=$1",
        {r.decision_id});
    if (!exists) return exists.error();
    if (exists->size() == 0) return fail(errc::not_found, "no decision " + r.decision_id);
    if (exists->int64(0, 5) != generation_) {
      if (auto s = refresh_keyring(); !s) return s;
    }
    if (auto s = need_key(); !s) return s;
    auto latest = c().query(
        what, "SELECT review_id, seq FROM reviews WHERE decision_id=$1 ORDER BY seq DESC LIMIT 1",
        {r.decision_id});
    if (!latest) return latest.error();
    std::string last;
    std::int64_t seq = 0;
    if (latest->size() > 0) {
      last = latest->text(0, 0);
      seq = latest->int64(0, 1);
    }
    if (r.supersedes != last) {
      return fail(errc::conflict,
                  last.empty() ? "the decision has no review yet: supersedes must be null"
                               : "review " + last +
                                     " is the latest review of the decision: write against it");
    }
    r.seq = seq + 1;
    r.at = now_utc();
    // As the SQLite counter stores it: in an encrypted store only each decision's rule and
    // outcome in plain, the rest sealed under the applicant's data key, bound to this row.
    review stored;
    std::string sealed;
    if (encrypted_) {
      const rows& k = *exists;
      const std::string who = k.text(0, 0);
      if (k.view(0, 1) != "t") {
        return fail(errc::damaged, std::string(pg_name) + ": applicant " + who +
                                       " has no data key (run dalil audit verify)");
      }
      if (k.view(0, 2) == "t") {
        return fail(errc::refused, "this applicant was erased (their data key is destroyed)");
      }
      auto dk = crypto::unwrap(*key_, bytea_value(k.view(0, 3)), who, k.int64(0, 4));
      if (!dk) {
        return fail(errc::damaged,
                    std::string(pg_name) + ": applicant " + who + ": " + dk.error().message);
      }
      if (!sealing::plain_review(r, stored)) {
        return fail(errc::failed, "review " + r.review_id +
                                      ": its decisions are not an array of {rule, outcome, …}");
      }
      sealing::seal_review(*dk, who, r.review_id, r.decisions, r.observations, sealed);
    }
    const review& row = encrypted_ ? stored : r;
    if (auto s = c().run(what,
                         "INSERT INTO reviews(review_id, decision_id, seq, supersedes, at, "
                         "\"user\", decisions, observations, sealed) "
                         "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9)",
                         {r.review_id, r.decision_id, std::to_string(r.seq),
                          text_or_null(r.supersedes), r.at, r.user, row.decisions, row.observations,
                          encrypted_ ? param(bytea_param(sealed)) : param()});
        !s) {
      if (s.error().code == errc::conflict) {
        return fail(errc::conflict, "review " + r.review_id + " exists");
      }
      return s;
    }
    const std::string details = dalil::store::detail::review_details(
        r.review_id, r.seq, encrypted_ ? review_digest(row, sealed) : review_digest(r), encrypted_);
    auto entry = pg_->append_in(r.user, "review", r.decision_id, details);
    if (!entry) return entry.error();
    return {};
  }

  status audit(const std::string& actor, const std::string& action, const std::string& subject,
               const std::string& details) override {
    if (!in_tx_) {
      auto seq = pg_->audit(actor, action, subject, details);
      if (!seq) return seq.error();
      return {};
    }
    if (auto s = lock(); !s) return s;
    auto seq = pg_->append_in(actor, action, subject, details);
    if (!seq) return seq.error();
    return {};
  }

  result<counter_decision> decision(const std::string& decision_id,
                                    const std::string& office) override {
    // Another office's row is not even read (its record would be in this process's memory).
    auto q = c().query(
        "reading the decision",
        std::string(decision_columns) + "WHERE c.decision_id=$1 AND ($2::text='' OR c.office=$2)",
        {decision_id, office});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no decision " + decision_id);
    counter_decision d = decision_from(*q, 0);
    if (!q->null(0, 16)) {
      if (auto st = open_sealed(*q, 0, 17, d.applicant_id, d.record_id, d.record_version,
                                d.record_json, d.erased);
          !st) {
        return st.error();
      }
      d.sealed = true;
    }
    return d;
  }

  result<std::vector<review>> reviews(const std::string& decision_id) override {
    auto q = c().query(
        "reading the reviews",
        std::string(review_columns) + review_tables + "WHERE v.decision_id=$1 ORDER BY v.seq",
        {decision_id});
    if (!q) return q.error();
    std::vector<review> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) {
      out.push_back(review_from(*q, i));
      if (auto st = open_review_row(*q, i, out.back()); !st) return st.error();
    }
    return out;
  }

  result<std::vector<decision_summary>> applicant_decisions(const std::string& id,
                                                            const std::string& office) override {
    auto who = applicant_key(id);
    if (!who) return who.error();
    if (who->empty()) return std::vector<decision_summary>();  // unknown, or erased
    auto q = c().query(
        "reading the applicant's decisions",
        "SELECT c.decision_id, c.as_of, c.at, c.office, c.ruleset_hash, "
        "EXISTS(SELECT 1 FROM reviews v WHERE v.decision_id=c.decision_id), "
        "coalesce(c.publication_id, 0) FROM counter_decisions c WHERE c.applicant_id=$1 AND "
        "($2='' OR c.office=$2) ORDER BY c.at COLLATE \"C\", c.rowid",
        {*who, office});
    if (!q) return q.error();
    std::vector<decision_summary> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) {
      out.push_back({q->text(i, 0), q->text(i, 1), q->text(i, 2), q->text(i, 3), q->text(i, 4),
                     q->view(i, 5) == "t", q->int64(i, 6)});
    }
    return out;
  }

  result<stored_record> latest_record(const std::string& id, const std::string& office) override {
    auto who = applicant_key(id);
    if (!who) return who.error();
    if (who->empty()) return fail(errc::not_found, "no record for this applicant");
    // Columns 5-10 as decision_columns' 16-21. With an office: the record of its latest counter
    // decision for the applicant.
    auto q = c().query(
        "reading the record",
        "SELECT r.record_id, r.applicant_id, r.version, r.content_hash, r.json, r.sealed, "
        "k.applicant_id IS NOT NULL, k.wrapped IS NULL, k.wrapped, k.generation, "
        "coalesce((SELECT g.generation FROM keyring g WHERE g.id = 1), 0) FROM records r LEFT "
        "JOIN data_keys k ON r.sealed IS NOT NULL AND k.applicant_id = r.applicant_id WHERE "
        "r.applicant_id=$1 AND (CASE WHEN $2='' THEN r.latest=1 ELSE r.record_id=(SELECT "
        "c.record_id FROM counter_decisions c WHERE c.applicant_id=$1 AND c.office=$2 ORDER BY "
        "c.at COLLATE \"C\" DESC, c.rowid DESC LIMIT 1) END)",
        {*who, office});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no record for this applicant");
    stored_record r{q->int64(0, 0), q->text(0, 1), q->int64(0, 2), q->text(0, 3), q->text(0, 4)};
    if (!q->null(0, 5)) {
      bool erased = false;
      if (auto st = open_sealed(*q, 0, 6, r.applicant_id, r.record_id, r.version, r.json, erased);
          !st) {
        return st.error();
      }
      if (erased) return fail(errc::not_found, "no record for this applicant");
    }
    return r;
  }

  result<std::vector<review_row>> list_reviews(const review_filter& f) override {
    auto q = c().query("reading the reviews",
                       std::string(review_columns) + ", c.office" + review_tables +
                           "WHERE ($1='' OR c.office=$1) AND ($2='' OR v.\"user\"=$2) AND "
                           "($3='' OR v.at COLLATE \"C\" >= $3) AND ($4='' OR v.at COLLATE \"C\" "
                           "< $4) ORDER BY v.at COLLATE \"C\", v.rowid LIMIT $5::bigint",
                       {f.office, f.user, f.since, f.until, std::to_string(f.limit)});
    if (!q) return q.error();
    std::vector<review_row> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) {
      out.push_back({review_from(*q, i), q->text(i, 15)});
      if (auto st = open_review_row(*q, i, out.back().r); !st) return st.error();
    }
    return out;
  }

  result<std::vector<counter_cell>> outcome_counts(const time_span& span) override {
    // json (not jsonb): a value's text as the outcomes hold it, as SQLite's -> gives it. The
    // span's rows by counter_decisions_at (its collation: compared as SQLite compares text).
    auto q = c().query(
        "counting the counter decisions",
        "SELECT rule, status, value, in_force, count(*) FROM (SELECT o->>'rule' AS rule, "
        "o->>'status' AS status, CASE WHEN o->>'status'='decided' THEN (o->'value')::text "
        "ELSE '' END AS value, coalesce(o->>'in_force' = 'true', false) AS in_force FROM "
        "counter_decisions c, json_array_elements(c.outcomes::json) o WHERE c.at COLLATE \"C\" "
        ">= $1 AND c.at COLLATE \"C\" < $2) x GROUP BY 1, 2, 3, 4 "
        "ORDER BY rule COLLATE \"C\", in_force DESC, status COLLATE \"C\", value COLLATE "
        "\"C\"",
        {span.from, span.until});
    if (!q) return q.error();
    std::vector<counter_cell> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) {
      out.push_back(
          {q->text(i, 0), q->text(i, 1), q->text(i, 2), q->view(i, 3) == "t", q->int64(i, 4)});
    }
    return out;
  }

  result<std::vector<override_cell>> override_counts(const time_span& span) override {
    auto q = c().query(
        "counting the reviews",
        "SELECT rule, count(*), count(*) FILTER (WHERE outcome = 'overridden') FROM (SELECT "
        "o->>'rule' AS rule, o->>'outcome' AS outcome FROM reviews v, "
        "json_array_elements(v.decisions::json) o WHERE v.at COLLATE \"C\" >= $1 AND v.at "
        "COLLATE \"C\" < $2 AND v.seq = (SELECT max(seq) FROM reviews w WHERE w.decision_id = "
        "v.decision_id AND w.at COLLATE \"C\" < $2)) x GROUP BY rule ORDER BY rule COLLATE "
        "\"C\"",
        {span.from, span.until});
    if (!q) return q.error();
    std::vector<override_cell> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) {
      out.push_back({q->text(i, 0), q->int64(i, 1), q->int64(i, 2)});
    }
    return out;
  }

  result<std::int64_t> count_decisions() override {
    auto q = c().query("counting the counter decisions", "SELECT count(*) FROM counter_decisions");
    if (!q) return q.error();
    return q->int64(0, 0);
  }

  result<std::int64_t> count_decisions_within(const time_span& span) override {
    auto q = c().query("counting the counter decisions",
                       "SELECT count(*) FROM counter_decisions WHERE at COLLATE \"C\" >= $1 AND "
                       "at COLLATE \"C\" < $2",
                       {span.from, span.until});
    if (!q) return q.error();
    return q->int64(0, 0);
  }

  result<span_tally> tally_within(const time_span& span) override {
    constexpr std::string_view what = "counting a month's figures";
    if (in_tx_) return fail(errc::failed, std::string(what) + ": inside a write transaction");
    // One snapshot for the three counts (a read-only transaction of its own).
    auto t = transaction::begin(c(), what, "ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (!t) return t.error();
    auto tally = count_tally(span);
    t->rollback();  // read only: nothing to keep
    return tally;
  }

  result<std::string> first_counter_activity() override {
    auto q = c().query("reading the first counter decision",
                       "SELECT coalesce(least((SELECT min(at COLLATE \"C\") FROM "
                       "counter_decisions), (SELECT min(at COLLATE \"C\") FROM reviews)), '')");
    if (!q) return q.error();
    return q->text(0, 0);
  }

  result<std::string> month_figures(const std::string& month) override {
    auto q = c().query("reading a month's figures",
                       "SELECT figures FROM counter_month_figures WHERE month = $1", {month});
    if (!q) return q.error();
    return q->size() == 1 ? q->text(0, 0) : std::string();
  }

  result<std::string> keep_month_figures(const std::string& month,
                                         const std::string& figures) override {
    constexpr std::string_view what = "keeping a month's figures";
    if (in_tx_) return fail(errc::failed, std::string(what) + ": inside a write transaction");
    // The first process to keep a month's figures wins, and writes the counter_figures entry
    // that vouches for them in the same transaction; the others serve those.
    auto t = transaction::begin(c(), what);
    if (!t) return t.error();
    auto r = c().query(what,
                       "INSERT INTO counter_month_figures(month, figures, at) VALUES($1, $2, $3) "
                       "ON CONFLICT (month) DO NOTHING RETURNING month",
                       {month, figures, now_utc()});
    if (!r) return r.error();
    if (r->size() == 1) {
      const std::string details = dalil::store::detail::counter_figures_details(
          month, dalil::store::detail::counter_figures_digest(figures));
      if (auto seq = pg_->append_in("dalil", "counter_figures", month, details); !seq) {
        return seq.error();
      }
    }
    if (auto s = t->commit(what); !s) return s.error();
    return month_figures(month);
  }

  result<std::optional<audit_problem>> verify() override {
    constexpr std::string_view what = "verifying the counter decisions";
    // One snapshot (unless the caller's transaction is open: then in it).
    std::optional<transaction> t;
    if (!in_tx_) {
      auto b = transaction::begin(c(), what, "ISOLATION LEVEL REPEATABLE READ READ ONLY");
      if (!b) return b.error();
      t = std::move(*b);
    }
    error failure;
    auto found = check_counter_rows(c(), what, &failure);
    if (!failure.message.empty()) return failure;
    return found;
  }

  /// Reads the keyring (at open, and whenever the database holds another generation than the
  /// one this connection sealed for): a store encrypted since, a rotation by another process
  /// (the master key loaded again from where it came from; refused when the key the server
  /// holds is no longer the store's), as the SQLite counter reads it.
  status refresh_keyring() {
    auto q = c().query("reading the keyring",
                       "SELECT key_check, generation, lookup_key FROM keyring WHERE id = 1");
    if (!q) return q.error();
    if (q->size() == 0) {
      encrypted_ = false;
      generation_ = 0;
      return {};
    }
    encrypted_ = true;
    const std::int64_t gen = q->int64(0, 1);
    if (!key_) {
      generation_ = gen;
      return {};
    }
    const std::string check = q->text(0, 0);
    if (check == keyring_check_ && gen == generation_) return {};
    if (crypto::key_check(*key_) != check) {
      // Rotated by another process (`dalil keys rotate`): the new key, if its file holds it now.
      auto again = crypto::load_master_key(key_file_);
      if (!again || crypto::key_check(*again) != check) {
        return fail(errc::refused,
                    std::string(pg_name) +
                        ": the master key the server holds is not the store's (key check " +
                        crypto::key_check(*key_) + ", the store's " + check +
                        "): it was rotated (dalil keys rotate); give the server the new key (" +
                        (key_file_.empty()
                             ? std::string("restart it with the new ") + crypto::master_key_variable
                             : "write it to " + key_file_) +
                        ")");
      }
      key_ = std::move(*again);
    }
    if (auto s = sealing::open_keyring(*key_, check, bytea_value(q->view(0, 2)), gen, pg_name);
        !s) {
      return s;
    }
    keyring_check_ = check;
    generation_ = gen;
    return {};
  }

 private:
  /// What put_decision seals a record for: the applicant's pseudonym ("" until chosen) and data
  /// key, whether the applicant is new to the store (their pseudonym and data key are stored
  /// with the decision), and the version.
  struct sealed_for {
    std::string who;
    std::optional<crypto::data_key> dk;
    bool fresh = true;
    bool new_record = true;
    std::int64_t version = 1;
  };

  /// After dalil_counter_decision stored nothing (`q`: what it found), the applicant as the
  /// store holds them now: their pseudonym and data key, or, when it knows none (a new applicant,
  /// or one erased since), the pseudonym after the last given and a new data key.
  status found(const rows& q, sealed_for& s) {
    if (q.null(0, 8)) {
      last_pseudonym_ = q.text(0, 11);
      if (!s.fresh || s.who != crypto::next_pseudonym(last_pseudonym_)) {
        s.who = crypto::next_pseudonym(last_pseudonym_);
        s.dk = crypto::new_data_key();
      }
      s.fresh = true;
      return {};
    }
    s.who = q.text(0, 8);
    s.fresh = false;
    if (q.null(0, 9)) {
      return fail(errc::damaged, std::string(pg_name) + ": applicant " + s.who +
                                     " has a pseudonym but no data key (run dalil audit verify)");
    }
    auto dk = crypto::unwrap(*key_, bytea_value(q.view(0, 9)), s.who, q.int64(0, 10));
    if (!dk) {
      return fail(errc::damaged,
                  std::string(pg_name) + ": applicant " + s.who + ": " + dk.error().message);
    }
    s.dk = *dk;
    return {};
  }

  /// Opens the sealed record of row `i` of `q` (its sealed bytes in column `col` - 1, then the
  /// data key's columns and the keyring's generation, as decision_columns lists them) into
  /// `json`, or sets `erased`; nothing without the master key (verify and the statistics read
  /// the rest of the row). The keyring is read again first when its generation is not the one
  /// this connection holds (a rotation by another process).
  status open_sealed(const rows& q, int i, int col, const std::string& applicant,
                     std::int64_t record_id, std::int64_t version, std::string& json,
                     bool& erased) {
    json.clear();
    const bool has_key_row = q.view(i, col) == "t";
    if (has_key_row && q.view(i, col + 1) == "t") {
      erased = true;
      return {};
    }
    if (!key_) return {};
    if (!has_key_row) {
      return fail(errc::damaged, "record " + std::to_string(record_id) +
                                     " is sealed but its applicant has no data key");
    }
    if (q.int64(i, col + 4) != generation_) {
      if (auto s = refresh_keyring(); !s) return s;
    }
    stored_record r;
    r.record_id = record_id;
    r.applicant_id = applicant;
    r.version = version;
    if (auto s = sealing::open_record(*key_, r, bytea_value(q.view(i, col - 1)),
                                      bytea_value(q.view(i, col + 2)), false, q.int64(i, col + 3));
        !s) {
      return s;
    }
    json = std::move(r.json);
    return {};
  }

  /// Opens the review of row `i` of `q` (read with review_columns) when it is sealed
  /// (sealing::open_review), the keyring read again first when its generation is not the one
  /// this connection holds.
  status open_review_row(const rows& q, int i, review& r) {
    if (q.null(i, 8)) return {};
    const bool has_row = q.view(i, 10) == "t";
    const bool destroyed = has_row && q.view(i, 11) == "t";
    if (key_ && has_row && !destroyed && q.int64(i, 14) != generation_) {
      if (auto s = refresh_keyring(); !s) return s;
    }
    return sealing::open_review(key_ ? &*key_ : nullptr, q.view(i, 9), bytea_value(q.view(i, 8)),
                                has_row, destroyed, destroyed ? "" : bytea_value(q.view(i, 12)),
                                has_row && !destroyed ? q.int64(i, 13) : 0, r);
  }

  connection& c() { return pg_->conn(); }

  /// What storing or reading a record of an encrypted store needs: its master key (the SQLite
  /// counter's words).
  status need_key() const {
    if (encrypted_ && !key_) {
      return fail(errc::refused, std::string(pg_name) +
                                     " is encrypted: the counter needs its master key (--key-file "
                                     "FILE, or " +
                                     crypto::master_key_variable + ")");
    }
    return {};
  }

  status not_in_transaction() {
    return fail(errc::failed, "the counter writes in a transaction (begin() first)");
  }

  /// The transaction's locks, at its first write: the writer lock, then the chain's (the order
  /// imports take them), held to its end (put_decision's function takes them itself).
  status lock() {
    if (!in_tx_) return not_in_transaction();
    if (locked_) return {};
    if (auto s = c().run("locking the store for the counter",
                         "SELECT pg_advisory_xact_lock($1), pg_advisory_xact_lock($2)",
                         {std::to_string(writer_lock_key), std::to_string(chain_lock_key)});
        !s) {
      return s;
    }
    locked_ = true;
    return {};
  }

  /// The `import` audit entry of this transaction's new records, as SQLite's counter writes it,
  /// with the import row's counts, in one round trip (dalil_counter_import, migration 9).
  status close_import() {
    if (import_id_ == 0) return {};
    constexpr std::string_view what = "recording the counter's import";
    const std::string hex = engine::sha256_hex(import_lines_);
    const std::string id = std::to_string(import_id_);
    const std::string count = std::to_string(import_count_);
    const std::string details = "{\"import\":" + id + ",\"rows\":" + count +
                                ",\"stored\":" + count +
                                ",\"unchanged\":0,\"rejected\":0,\"digest\":\"" + hex + "\"}";
    auto seq = pg_->append_with(
        what, [&](std::int64_t seq, const std::string& prev) -> result<pg_store::append_attempt> {
          const std::string at = now_utc();
          std::string hash =
              dalil::store::detail::entry_hash(prev, seq, at, "dalil", "import", id, details);
          auto r = c().query(what,
                             "SELECT appended, head_seq, head_hash FROM "
                             "dalil_counter_import($1,$2,$3,$4,$5,$6,$7,$8,$9)",
                             {std::to_string(chain_lock_key), id, count, hex, std::to_string(seq),
                              at, details, prev, hash});
          if (!r) return r.error();
          return pg_store::append_attempt{r->view(0, 0) == "t", {r->int64(0, 1), r->text(0, 2)}};
        });
    if (!seq) return seq.error();
    return {};
  }

  void reset_import() {
    import_id_ = 0;
    import_lines_.clear();
    import_count_ = 0;
  }

  std::unique_ptr<pg_store> pg_;
  // Encryption at rest: whether the store has a keyring, the master key given (and where it came
  // from, to load it again after a rotation), the keyring's generation (0: none) and key check
  // as last read.
  bool encrypted_ = false;
  std::optional<crypto::master_key> key_;
  std::string key_file_;
  std::int64_t generation_ = 0;
  std::string keyring_check_;
  bool in_tx_ = false;
  bool locked_ = false;
  // The record id put_decision expects its next new record to have (checked by the database):
  // the one after this connection's last, kept from one transaction to the next; and the last
  // pseudonym it believes given (a new applicant's is the next).
  std::int64_t next_record_ = 0;
  std::string last_pseudonym_;
  std::int64_t import_id_ = 0;
  std::string import_lines_;
  std::int64_t import_count_ = 0;
  bool saved_locked_ = false;
  std::int64_t saved_import_id_ = 0;
  std::size_t saved_lines_ = 0;
  std::int64_t saved_count_ = 0;
  std::int64_t saved_next_record_ = 0;
  std::string saved_last_pseudonym_;
};

}  // namespace

result<std::unique_ptr<counter_store>> open_counter(const std::string& conninfo,
                                                    const crypto::master_key* key,
                                                    const std::string& key_file) {
  auto pg = pg_store::open(conninfo);
  if (!pg) return pg.error();
  auto check = (*pg)->key_check();
  if (!check) return check.error();
  if (key != nullptr) {
    // The key given must be the store's, now (not after a rotation: that is for a running
    // server to follow), in the SQLite counter's words.
    if (check->empty()) {
      return fail(errc::refused, std::string(pg_name) +
                                     " is not encrypted, but a master key was given: the "
                                     "counter would store its records in plain; encrypt the "
                                     "store first (dalil keys init --db, on a store without "
                                     "records), or give no key");
    }
    if (crypto::key_check(*key) != *check) {
      return fail(errc::refused, std::string(pg_name) +
                                     ": the master key given is not this store's (its check "
                                     "value is " +
                                     crypto::key_check(*key) + ", the store's " + *check +
                                     ": `dalil keys check` prints a key's)");
    }
  }
  auto counter = std::make_unique<pg_counter>(std::move(*pg), key, key_file);
  if (auto s = counter->refresh_keyring(); !s) return s.error();
  return std::unique_ptr<counter_store>(std::move(counter));
}

}  // namespace pg

result<std::unique_ptr<counter_store>> counter_store::open(const std::string& db,
                                                           const crypto::master_key* key,
                                                           const std::string& key_file) {
  if (pg::is_conninfo(db)) return pg::open_counter(db, key, key_file);
  return open_sqlite_counter(db, key, key_file);
}

}  // namespace dalil::store
