// The SQLite implementation of the counter store (counter_store.hpp): counter decisions, their
// records as applicant versions, reviews, and the audit entries that vouch for each.
#include "store/counter_store.hpp"

#include <utility>

#include "engine/record.hpp"
#include "engine/sha256.hpp"
#include "store/chain.hpp"
#include "store/sqlite.hpp"

namespace dalil::store {

namespace {

void add_field(std::string& s, std::string_view f) {
  s += f;
  s += '\x1f';
}

/// `"key":value` of the flat JSON objects the store writes as audit details ("" when absent).

}  // namespace

std::string counter_digest(const counter_decision& d) {
  std::string s;
  for (const std::string* f :
       {&d.decision_id, &d.applicant_id, &d.office, &d.actor, &d.at, &d.as_of, &d.ruleset_hash,
        &d.input_hash, &d.rules, &d.outcomes, &d.answer_digest}) {
    add_field(s, *f);
  }
  add_field(s, std::to_string(d.record_id));
  add_field(s, d.trace ? "1" : "0");
  // Decisions before publications (and those of a server run with --rules) have none: their
  // digest is unchanged.
  if (d.publication_id != 0) add_field(s, "publication:" + std::to_string(d.publication_id));
  return engine::sha256_hex(s);
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

struct counter_store::impl {
  database db;
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
  statement insert_import;
  statement close_import_row;
  // Reviews, and reads: prepared on first use, then reset and reused.
  statement decision_exists;
  statement latest_review;
  statement insert_review;
  statement read_decision;
  statement read_reviews;
  // The audit chain's two statements, for this connection.
  detail::audit_appender audit;

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
        "INSERT INTO records(applicant_id, version, content_hash, json, import_id) "
        "VALUES(?,?,?,?,?)",
        e);
    unlatest = db.prepare("UPDATE records SET latest=0 WHERE record_id=?", e);
    insert_decision = db.prepare(
        "INSERT INTO counter_decisions(decision_id, record_id, applicant_id, office, actor, at, "
        "as_of, ruleset_hash, input_hash, rules, outcomes, trace, answer_digest, "
        "publication_id) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        e);
    if (!insert_decision.ok() || !latest.ok() || !insert_record.ok()) {
      return fail(errc::failed, "preparing the counter store's statements: " + e);
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

  void reset_import() {
    import_id = 0;
    import_lines.clear();
    import_count = 0;
  }
};

counter_store::counter_store() : impl_(std::make_unique<impl>()) {}
counter_store::~counter_store() = default;

result<std::unique_ptr<counter_store>> counter_store::open(const std::string& path) {
  std::unique_ptr<counter_store> s(new counter_store());
  std::string e;
  if (!s->impl_->db.open(path, e)) return fail(errc::failed, e);
  auto q = s->impl_->db.prepare("SELECT count(*) FROM counter_decisions", e);
  if (!q.ok()) {
    return fail(errc::failed, path +
                                  ": the store has no counter tables (open it with "
                                  "open_sqlite first, which upgrades it): " +
                                  e);
  }
  // An encrypted store (docs/operations.md): the counter does not seal its records yet.
  auto k = s->impl_->db.prepare("SELECT 1 FROM keyring", e);
  if (k.ok() && k.step() == SQLITE_ROW) {
    return fail(errc::refused, path +
                                   " is encrypted: the server does not seal the records it "
                                   "stores yet, so it refuses an encrypted store");
  }
  return s;
}

status counter_store::begin() {
  impl_->reset_import();
  return impl_->run(impl_->begin_tx, "BEGIN IMMEDIATE");
}

status counter_store::commit() {
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

void counter_store::rollback() {
  std::string ignored;
  impl_->db.exec("ROLLBACK", ignored);
  impl_->reset_import();
}

status counter_store::savepoint() {
  impl_->saved_import_id = impl_->import_id;
  impl_->saved_lines = impl_->import_lines.size();
  impl_->saved_count = impl_->import_count;
  return impl_->run(impl_->savepoint_tx, "SAVEPOINT request");
}

status counter_store::release() {
  return impl_->run(impl_->release_tx, "RELEASE request");
}

void counter_store::rollback_to() {
  std::string ignored;
  impl_->db.exec("ROLLBACK TO request; RELEASE request", ignored);
  impl_->import_id = impl_->saved_import_id;
  impl_->import_lines.resize(impl_->saved_lines);
  impl_->import_count = impl_->saved_count;
}

status counter_store::put_decision(counter_decision& d) {
  impl& m = *impl_;
  if (auto s = m.prepare_writes(); !s) return s;
  // The record: a new version of the applicant unless the latest has the same content.
  m.latest.reset();
  m.latest.bind(1, d.applicant_id);
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
    if (m.insert_applicant.bind(1, d.applicant_id).step() != SQLITE_DONE) {
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
    m.insert_record.bind(1, d.applicant_id)
        .bind(2, version + 1)
        .bind(3, d.input_hash)
        .bind(4, d.record_json)
        .bind(5, m.import_id);
    if (m.insert_record.step() != SQLITE_DONE) {
      m.insert_record.reset();
      return m.sql_error("storing the record");
    }
    m.insert_record.reset();
    d.record_id = m.db.last_insert_id();
    d.record_version = version + 1;
    m.import_lines += std::to_string(d.record_id) + ':' + d.applicant_id + ':' +
                      std::to_string(d.record_version) + ':' + d.input_hash + '\n';
    ++m.import_count;
  }
  d.at = now_utc();
  statement& q = m.insert_decision;
  q.reset();
  q.bind(1, d.decision_id)
      .bind(2, d.record_id)
      .bind(3, d.applicant_id)
      .bind(4, d.office)
      .bind(5, d.actor)
      .bind(6, d.at)
      .bind(7, d.as_of)
      .bind(8, d.ruleset_hash)
      .bind(9, d.input_hash)
      .bind_static(10, d.rules)
      .bind_static(11, d.outcomes)
      .bind(12, std::int64_t{d.trace ? 1 : 0})
      .bind(13, d.answer_digest);
  if (d.publication_id != 0) {
    q.bind(14, d.publication_id);
  } else {
    q.bind_null(14);
  }
  rc = q.step();
  q.reset();
  if (rc == SQLITE_CONSTRAINT) {
    return fail(errc::conflict, "counter decision " + d.decision_id + " exists already");
  }
  if (rc != SQLITE_DONE) return m.sql_error("storing the counter decision");
  std::string details = "{\"record\":" + std::to_string(d.record_id) + ",\"office\":";
  engine::append_json_string(details, d.office);
  details += ",\"digest\":\"" + counter_digest(d) + "\"}";
  auto seq = m.audit.append(m.db, d.actor, "counter_decision", d.decision_id, details);
  if (!seq) return seq.error();
  return {};
}

status counter_store::put_review(review& r) {
  impl& m = *impl_;
  {
    statement& q = m.decision_exists;
    if (auto s = m.ready(q, "SELECT 1 FROM counter_decisions WHERE decision_id=?"); !s) return s;
    q.bind(1, r.decision_id);
    int rc = q.step();
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
  statement& q = m.insert_review;
  if (auto s = m.ready(q,
                       "INSERT INTO reviews(review_id, decision_id, seq, supersedes, at, user, "
                       "decisions, observations) VALUES(?,?,?,?,?,?,?,?)");
      !s) {
    return s;
  }
  q.bind(1, r.review_id).bind(2, r.decision_id).bind(3, r.seq);
  if (r.supersedes.empty()) {
    q.bind_null(4);
  } else {
    q.bind(4, r.supersedes);
  }
  q.bind(5, r.at).bind(6, r.user).bind(7, r.decisions).bind(8, r.observations);
  int rc = q.step();
  q.reset();
  if (rc == SQLITE_CONSTRAINT) return fail(errc::conflict, "review " + r.review_id + " exists");
  if (rc != SQLITE_DONE) return m.sql_error("storing the review");
  std::string details = "{\"review\":\"" + r.review_id + "\",\"seq\":" + std::to_string(r.seq) +
                        ",\"digest\":\"" + review_digest(r) + "\"}";
  auto entry = m.audit.append(m.db, r.user, "review", r.decision_id, details);
  if (!entry) return entry.error();
  return {};
}

status counter_store::audit(const std::string& actor, const std::string& action,
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

constexpr const char* decision_columns =
    "SELECT c.decision_id, c.record_id, c.applicant_id, c.office, c.actor, c.at, c.as_of, "
    "c.ruleset_hash, c.input_hash, c.rules, c.outcomes, c.trace, c.answer_digest, r.json, "
    "r.version, c.publication_id FROM counter_decisions c JOIN records r USING(record_id) ";

review review_from(const statement& q) {
  review r;
  r.review_id = q.text(0);
  r.decision_id = q.text(1);
  r.seq = q.int64(2);
  r.supersedes = q.is_null(3) ? std::string() : q.text(3);
  r.at = q.text(4);
  r.user = q.text(5);
  r.decisions = q.text(6);
  r.observations = q.text(7);
  return r;
}

constexpr const char* review_columns =
    "SELECT v.review_id, v.decision_id, v.seq, v.supersedes, v.at, v.user, v.decisions, "
    "v.observations";

}  // namespace

result<counter_decision> counter_store::decision(const std::string& decision_id) {
  statement& q = impl_->read_decision;
  if (auto s = impl_->ready(q, std::string(decision_columns) + "WHERE c.decision_id=?"); !s) {
    return s.error();
  }
  q.bind(1, decision_id);
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
  q.reset();
  return d;
}

result<std::vector<review>> counter_store::reviews(const std::string& decision_id) {
  statement& q = impl_->read_reviews;
  if (auto s = impl_->ready(
          q, std::string(review_columns) + " FROM reviews v WHERE v.decision_id=? ORDER BY v.seq");
      !s) {
    return s.error();
  }
  q.bind(1, decision_id);
  std::vector<review> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(review_from(q));
  if (rc != SQLITE_DONE) {
    auto e = impl_->sql_error("reading the reviews");
    q.reset();
    return e;
  }
  q.reset();
  return out;
}

result<std::vector<decision_summary>> counter_store::applicant_decisions(
    const std::string& applicant_id, const std::string& office) {
  std::string e;
  auto q = impl_->db.prepare(
      "SELECT c.decision_id, c.as_of, c.at, c.office, c.ruleset_hash, "
      "EXISTS(SELECT 1 FROM reviews v WHERE v.decision_id=c.decision_id), "
      "coalesce(c.publication_id, 0) FROM "
      "counter_decisions c WHERE c.applicant_id=? AND (?='' OR c.office=?) ORDER BY c.at, "
      "c.rowid",
      e);
  if (!q.ok()) return fail(errc::failed, e);
  q.bind(1, applicant_id).bind(2, office).bind(3, office);
  std::vector<decision_summary> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back(
        {q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.int64(5) != 0, q.int64(6)});
  }
  if (rc != SQLITE_DONE) return impl_->sql_error("reading the applicant's decisions");
  return out;
}

result<stored_record> counter_store::latest_record(const std::string& applicant_id) {
  std::string e;
  auto q = impl_->db.prepare(
      "SELECT record_id, applicant_id, version, content_hash, json FROM records WHERE "
      "applicant_id=? AND latest=1",
      e);
  if (!q.ok()) return fail(errc::failed, e);
  q.bind(1, applicant_id);
  int rc = q.step();
  if (rc == SQLITE_DONE) return fail(errc::not_found, "no record for this applicant");
  if (rc != SQLITE_ROW) return impl_->sql_error("reading the record");
  return stored_record{q.int64(0), q.text(1), q.int64(2), q.text(3), q.text(4)};
}

result<std::vector<review_row>> counter_store::list_reviews(const review_filter& f) {
  std::string e;
  auto q = impl_->db.prepare(
      std::string(review_columns) +
          ", c.office FROM reviews v JOIN counter_decisions c USING(decision_id) WHERE "
          "(?1='' OR c.office=?1) AND (?2='' OR v.user=?2) AND (?3='' OR v.at>=?3) AND "
          "(?4='' OR v.at<?4) ORDER BY v.at, v.rowid LIMIT ?5",
      e);
  if (!q.ok()) return fail(errc::failed, e);
  q.bind(1, f.office).bind(2, f.user).bind(3, f.since).bind(4, f.until).bind(5, f.limit);
  std::vector<review_row> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back({review_from(q), q.text(8)});
  if (rc != SQLITE_DONE) return impl_->sql_error("reading the reviews");
  return out;
}

result<std::vector<counter_cell>> counter_store::outcome_counts() {
  std::string e;
  auto q = impl_->db.prepare(
      "SELECT json_extract(o.value,'$.rule'), json_extract(o.value,'$.status'), "
      "CASE WHEN json_extract(o.value,'$.status')='decided' THEN o.value -> '$.value' "
      "ELSE '' END, json_extract(o.value,'$.in_force'), count(*) FROM "
      "counter_decisions c, json_each(c.outcomes) o GROUP BY 1, 2, 3, 4 ORDER BY 1, 4 DESC, 2, 3",
      e);
  if (!q.ok()) return fail(errc::failed, e);
  std::vector<counter_cell> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back({q.text(0), q.text(1), q.text(2), q.int64(3) != 0, q.int64(4)});
  }
  if (rc != SQLITE_DONE) return impl_->sql_error("counting the counter decisions");
  return out;
}

result<std::vector<override_cell>> counter_store::override_counts() {
  std::string e;
  auto q = impl_->db.prepare(
      "SELECT json_extract(o.value,'$.rule'), count(*), "
      "sum(json_extract(o.value,'$.outcome')='overridden') FROM reviews v, "
      "json_each(v.decisions) o WHERE v.seq=(SELECT max(seq) FROM reviews w WHERE "
      "w.decision_id=v.decision_id) GROUP BY 1 ORDER BY 1",
      e);
  if (!q.ok()) return fail(errc::failed, e);
  std::vector<override_cell> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back({q.text(0), q.int64(1), q.int64(2)});
  if (rc != SQLITE_DONE) return impl_->sql_error("counting the reviews");
  return out;
}

result<std::int64_t> counter_store::count_decisions() {
  std::string e;
  auto q = impl_->db.prepare("SELECT count(*) FROM counter_decisions", e);
  if (!q.ok()) return fail(errc::failed, e);
  if (q.step() != SQLITE_ROW) return impl_->sql_error("counting the counter decisions");
  return q.int64(0);
}

result<std::optional<audit_problem>> counter_store::verify() {
  std::string e;
  auto entries = impl_->db.prepare(
      "SELECT seq, action, subject, details FROM audit WHERE action IN ('counter_decision', "
      "'review') ORDER BY seq",
      e);
  if (!entries.ok()) return fail(errc::failed, e);
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
      auto d = decision(subject);
      if (!d) {
        return problem("counter decision ", subject, "was deleted");
      }
      if (counter_digest(*d) != detail::audit_field(details, "digest") ||
          std::to_string(d->record_id) != detail::audit_field(details, "record")) {
        return problem("counter decision ", subject, "was changed");
      }
    } else {
      ++reviews_seen;
      std::string id = detail::audit_field(details, "review");
      auto q = impl_->db.prepare(
          std::string(review_columns) + " FROM reviews v WHERE v.review_id=? AND v.decision_id=?",
          e);
      if (!q.ok()) return fail(errc::failed, e);
      q.bind(1, id).bind(2, subject);
      if (q.step() != SQLITE_ROW) {
        return problem("review ", id, "was deleted");
      }
      if (review_digest(review_from(q)) != detail::audit_field(details, "digest")) {
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
  if (count("SELECT count(*) FROM reviews") != reviews_seen) {
    return std::optional<audit_problem>(audit_problem{
        0, "there are reviews that no audit entry vouches for (inserted behind the tool's back)"});
  }
  return std::optional<audit_problem>();
}

}  // namespace dalil::store
