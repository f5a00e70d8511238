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
#include <map>
#include <optional>
#include <utility>

#include "engine/record.hpp"
#include "engine/sha256.hpp"
#include "store/chain.hpp"
#include "store/counter_store.hpp"
#include "store/pg/pg.hpp"
#include "store/pg/pg_store.hpp"

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

constexpr const char* decision_columns =
    "SELECT c.decision_id, c.record_id, c.applicant_id, c.office, c.actor, c.at, c.as_of, "
    "c.ruleset_hash, c.input_hash, c.rules, c.outcomes, c.trace, c.answer_digest, r.json, "
    "r.version, c.publication_id FROM counter_decisions c JOIN records r USING(record_id) ";

review review_from(const rows& q, int i) {
  review r;
  r.review_id = q.text(i, 0);
  r.decision_id = q.text(i, 1);
  r.seq = q.int64(i, 2);
  r.supersedes = q.null(i, 3) ? std::string() : q.text(i, 3);
  r.at = q.text(i, 4);
  r.user = q.text(i, 5);
  r.decisions = q.text(i, 6);
  r.observations = q.text(i, 7);
  return r;
}

constexpr const char* review_columns =
    "SELECT v.review_id, v.decision_id, v.seq, v.supersedes, v.at, v.\"user\", v.decisions, "
    "v.observations";

}  // namespace

std::optional<audit_problem> check_counter_rows(connection& c, std::string_view what,
                                                error* failure) {
  auto failed = [&](const error& e) {
    *failure = e;
    return std::optional<audit_problem>();
  };
  // A SQLite store encrypted in place renamed its counter decisions and vouched for each again:
  // the entries before that keys_init are superseded (as sqlite_counter.cpp reads them).
  auto k = c.query(what,
                   "SELECT coalesce(max(seq), 0) FROM audit WHERE action='keys_init' AND details "
                   "LIKE '%\"in_place\":%'");
  if (!k) return failed(k.error());
  // Each entry with the row it names, read by a cursor (a store's whole counter is not held in
  // memory): a decision by the entry's subject, a review by its decision and the review id of
  // the entry's details (checked again below as the entry's own parser reads it).
  if (auto s = c.run(
          what,
          "DECLARE dalil_counter NO SCROLL CURSOR FOR SELECT a.seq, a.action, a.subject, "
          "a.details, d.decision_id, d.record_id, d.applicant_id, d.office, d.actor, d.at, "
          "d.as_of, d.ruleset_hash, d.input_hash, d.rules, d.outcomes, d.trace, d.answer_digest, "
          "d.publication_id, v.review_id, v.decision_id, v.seq, v.supersedes, v.at, v.\"user\", "
          "v.decisions, v.observations FROM audit a LEFT JOIN counter_decisions d ON "
          "a.action = 'counter_decision' AND d.decision_id = a.subject LEFT JOIN reviews v ON "
          "a.action = 'review' AND v.decision_id = a.subject AND v.review_id = "
          "(regexp_match(a.details, '\"review\":\"([^\"]*)\"'))[1] WHERE a.action IN "
          "('counter_decision', 'review') AND (a.action = 'review' OR a.seq > $1) ORDER BY a.seq",
          {k->text(0, 0)});
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
          ++reviews_seen;
          const std::string id = audit_field(details, "review");
          if (q.null(i, 18) || q.view(i, 18) != id) return problem("review ", id, "was deleted");
          review r;
          r.review_id = q.text(i, 18);
          r.decision_id = q.text(i, 19);
          r.seq = q.int64(i, 20);
          r.supersedes = q.null(i, 21) ? std::string() : q.text(i, 21);
          r.at = q.text(i, 22);
          r.user = q.text(i, 23);
          r.decisions = q.text(i, 24);
          r.observations = q.text(i, 25);
          if (review_digest(r) != audit_field(details, "digest")) {
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
  return std::nullopt;
}

namespace {

/// The counter store on PostgreSQL: one connection (pg_store's), plain values only.
class pg_counter final : public counter_store {
 public:
  explicit pg_counter(std::unique_ptr<pg_store> pg) : pg_(std::move(pg)) {}

  bool encrypted() const override { return false; }
  result<std::string> applicant_key(const std::string& applicant_id) override {
    return applicant_id;
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
  }

  status put_decision(counter_decision& d) override {
    constexpr std::string_view what = "storing the counter decision";
    if (!in_tx_) return not_in_transaction();
    d.at = now_utc();
    // One round trip (migration 9): dalil_counter_decision takes the writer's and the chain's
    // locks and stores the record version, the decision and its entry, hashed here as SQLite
    // hashes it, against the record id and the chain's head this connection expects (the next
    // id after its last new record, its last append). When either moved (another server's
    // writes, a record of the same content, a rollback), it stores nothing and says what it
    // found, against which the entry is hashed again: the locks are held then, so the second
    // call stores.
    d.record_id = next_record_;
    bool new_record = false;
    bool duplicate = false;
    auto appended = pg_->append_with(
        what, [&](std::int64_t seq, const std::string& prev) -> result<pg_store::append_attempt> {
          std::string details = "{\"record\":" + std::to_string(d.record_id) + ",\"office\":";
          engine::append_json_string(details, d.office);
          details += ",\"digest\":\"" + counter_digest(d) + "\"}";
          std::string hash = dalil::store::detail::entry_hash(
              prev, seq, d.at, d.actor, "counter_decision", d.decision_id, details);
          auto r = c().query(
              what,
              "SELECT outcome, rec_id, rec_version, new_record, imp_id, head_seq, head_hash FROM "
              "dalil_counter_decision($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,"
              "$18,$19,$20,$21,$22)",
              {std::to_string(writer_lock_key),
               std::to_string(chain_lock_key),
               d.decision_id,
               d.applicant_id,
               d.office,
               d.actor,
               d.at,
               d.as_of,
               d.ruleset_hash,
               d.input_hash,
               d.rules,
               d.outcomes,
               d.trace ? "1" : "0",
               d.answer_digest,
               d.publication_id != 0 ? param(std::to_string(d.publication_id)) : param(),
               d.record_json,
               std::to_string(d.record_id),
               std::to_string(import_id_),
               std::to_string(seq),
               details,
               prev,
               hash});
          if (!r) return r.error();
          locked_ = true;  // the function took both locks, held to the transaction's end
          if (r->view(0, 0) == "exists") {
            duplicate = true;
            return fail(errc::conflict, "counter decision " + d.decision_id + " exists already");
          }
          d.record_id = r->int64(0, 1);
          d.record_version = r->int64(0, 2);
          new_record = r->view(0, 3) == "t";
          import_id_ = r->int64(0, 4);
          return pg_store::append_attempt{r->view(0, 0) == "stored",
                                          {r->int64(0, 5), r->text(0, 6)}};
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
    if (new_record) {
      next_record_ = d.record_id + 1;
      // The line SQLite's counter writes for its import's digest (verify recomputes it).
      import_lines_ += std::to_string(d.record_id) + ':' + d.applicant_id + ':' +
                       std::to_string(d.record_version) + ':' + d.input_hash + '\n';
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
    auto exists =
        c().query(what, "SELECT 1 FROM counter_decisions WHERE decision_id=$1", {r.decision_id});
    if (!exists) return exists.error();
    if (exists->size() == 0) return fail(errc::not_found, "no decision " + r.decision_id);
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
    if (auto s = c().run(what,
                         "INSERT INTO reviews(review_id, decision_id, seq, supersedes, at, "
                         "\"user\", decisions, observations) VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
                         {r.review_id, r.decision_id, std::to_string(r.seq),
                          text_or_null(r.supersedes), r.at, r.user, r.decisions, r.observations});
        !s) {
      if (s.error().code == errc::conflict) {
        return fail(errc::conflict, "review " + r.review_id + " exists");
      }
      return s;
    }
    std::string details = "{\"review\":\"" + r.review_id + "\",\"seq\":" + std::to_string(r.seq) +
                          ",\"digest\":\"" + review_digest(r) + "\"}";
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

  result<counter_decision> decision(const std::string& decision_id) override {
    auto q = c().query("reading the decision",
                       std::string(decision_columns) + "WHERE c.decision_id=$1", {decision_id});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no decision " + decision_id);
    return decision_from(*q, 0);
  }

  result<std::vector<review>> reviews(const std::string& decision_id) override {
    auto q = c().query(
        "reading the reviews",
        std::string(review_columns) + " FROM reviews v WHERE v.decision_id=$1 ORDER BY v.seq",
        {decision_id});
    if (!q) return q.error();
    std::vector<review> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) out.push_back(review_from(*q, i));
    return out;
  }

  result<std::vector<decision_summary>> applicant_decisions(const std::string& applicant_id,
                                                            const std::string& office) override {
    auto q = c().query(
        "reading the applicant's decisions",
        "SELECT c.decision_id, c.as_of, c.at, c.office, c.ruleset_hash, "
        "EXISTS(SELECT 1 FROM reviews v WHERE v.decision_id=c.decision_id), "
        "coalesce(c.publication_id, 0) FROM counter_decisions c WHERE c.applicant_id=$1 AND "
        "($2='' OR c.office=$2) ORDER BY c.at COLLATE \"C\", c.rowid",
        {applicant_id, office});
    if (!q) return q.error();
    std::vector<decision_summary> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) {
      out.push_back({q->text(i, 0), q->text(i, 1), q->text(i, 2), q->text(i, 3), q->text(i, 4),
                     q->view(i, 5) == "t", q->int64(i, 6)});
    }
    return out;
  }

  result<stored_record> latest_record(const std::string& applicant_id) override {
    auto q = c().query("reading the record",
                       "SELECT record_id, applicant_id, version, content_hash, json FROM records "
                       "WHERE applicant_id=$1 AND latest=1",
                       {applicant_id});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no record for this applicant");
    return stored_record{q->int64(0, 0), q->text(0, 1), q->int64(0, 2), q->text(0, 3),
                         q->text(0, 4)};
  }

  result<std::vector<review_row>> list_reviews(const review_filter& f) override {
    auto q = c().query("reading the reviews",
                       std::string(review_columns) +
                           ", c.office FROM reviews v JOIN counter_decisions c USING(decision_id) "
                           "WHERE ($1='' OR c.office=$1) AND ($2='' OR v.\"user\"=$2) AND "
                           "($3='' OR v.at COLLATE \"C\" >= $3) AND ($4='' OR v.at COLLATE \"C\" "
                           "< $4) ORDER BY v.at COLLATE \"C\", v.rowid LIMIT $5::bigint",
                       {f.office, f.user, f.since, f.until, std::to_string(f.limit)});
    if (!q) return q.error();
    std::vector<review_row> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) out.push_back({review_from(*q, i), q->text(i, 8)});
    return out;
  }

  result<std::vector<counter_cell>> outcome_counts() override {
    // json (not jsonb): a value's text as the outcomes hold it, as SQLite's -> gives it.
    auto q = c().query(
        "counting the counter decisions",
        "SELECT rule, status, value, in_force, count(*) FROM (SELECT o->>'rule' AS rule, "
        "o->>'status' AS status, CASE WHEN o->>'status'='decided' THEN (o->'value')::text "
        "ELSE '' END AS value, coalesce(o->>'in_force' = 'true', false) AS in_force FROM "
        "counter_decisions c, json_array_elements(c.outcomes::json) o) x GROUP BY 1, 2, 3, 4 "
        "ORDER BY rule COLLATE \"C\", in_force DESC, status COLLATE \"C\", value COLLATE "
        "\"C\"");
    if (!q) return q.error();
    std::vector<counter_cell> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) {
      out.push_back(
          {q->text(i, 0), q->text(i, 1), q->text(i, 2), q->view(i, 3) == "t", q->int64(i, 4)});
    }
    return out;
  }

  result<std::vector<override_cell>> override_counts() override {
    auto q = c().query(
        "counting the reviews",
        "SELECT rule, count(*), count(*) FILTER (WHERE outcome = 'overridden') FROM (SELECT "
        "o->>'rule' AS rule, o->>'outcome' AS outcome FROM reviews v, "
        "json_array_elements(v.decisions::json) o WHERE v.seq = (SELECT max(seq) FROM reviews w "
        "WHERE w.decision_id = v.decision_id)) x GROUP BY rule ORDER BY rule COLLATE \"C\"");
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

 private:
  connection& c() { return pg_->conn(); }

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
  bool in_tx_ = false;
  bool locked_ = false;
  // The record id put_decision expects its next new record to have (checked by the database):
  // the one after this connection's last, kept from one transaction to the next.
  std::int64_t next_record_ = 0;
  std::int64_t import_id_ = 0;
  std::string import_lines_;
  std::int64_t import_count_ = 0;
  bool saved_locked_ = false;
  std::int64_t saved_import_id_ = 0;
  std::size_t saved_lines_ = 0;
  std::int64_t saved_count_ = 0;
  std::int64_t saved_next_record_ = 0;
};

}  // namespace

result<std::unique_ptr<counter_store>> open_counter(const std::string& conninfo,
                                                    const crypto::master_key* key) {
  if (key != nullptr) {
    return fail(errc::refused,
                "a master key was given for a PostgreSQL store: encryption at rest is not "
                "supported on PostgreSQL yet (docs/postgresql.md); the counter would store its "
                "records in plain; give no key");
  }
  auto pg = pg_store::open(conninfo);
  if (!pg) return pg.error();
  if (auto e = (*pg)->refuse_encrypted("the counter's evaluations (dalil serve)"); !e) {
    return e.error();
  }
  return std::unique_ptr<counter_store>(std::make_unique<pg_counter>(std::move(*pg)));
}

}  // namespace pg

result<std::unique_ptr<counter_store>> counter_store::open(const std::string& db,
                                                           const crypto::master_key* key,
                                                           const std::string& key_file) {
  if (pg::is_conninfo(db)) return pg::open_counter(db, key);
  return open_sqlite_counter(db, key, key_file);
}

}  // namespace dalil::store
