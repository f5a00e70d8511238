// The SQLite store: schema and migrations, records with versions, runs, decision sets, and the
// hash-chained audit log with its verification.
#include <charconv>
#include <chrono>
#include <ctime>
#include <map>

#include "engine/record.hpp"
#include "engine/sha256.hpp"
#include "store/chain.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace dalil::store {

std::string now_utc() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

// Each migration brings the schema from version i to i + 1. Never edit one that has shipped.
const char* const migrations[] = {
    R"(CREATE TABLE rulesets(
         hash TEXT PRIMARY KEY,
         source TEXT NOT NULL,
         loaded_at TEXT NOT NULL) STRICT;
       CREATE TABLE imports(
         import_id INTEGER PRIMARY KEY,
         file TEXT NOT NULL,
         file_hash TEXT NOT NULL,
         started_at TEXT NOT NULL,
         rows INTEGER, stored INTEGER, unchanged INTEGER, rejected INTEGER) STRICT;
       CREATE TABLE applicants(applicant_id TEXT PRIMARY KEY) STRICT;
       CREATE TABLE records(
         record_id INTEGER PRIMARY KEY,
         applicant_id TEXT NOT NULL REFERENCES applicants(applicant_id),
         version INTEGER NOT NULL,
         content_hash TEXT NOT NULL,
         json TEXT NOT NULL,
         import_id INTEGER NOT NULL REFERENCES imports(import_id),
         latest INTEGER NOT NULL DEFAULT 1,
         UNIQUE(applicant_id, version)) STRICT;
       CREATE INDEX records_latest ON records(latest, record_id);
       CREATE INDEX records_applicant ON records(applicant_id, latest);
       CREATE TABLE rejections(
         import_id INTEGER NOT NULL REFERENCES imports(import_id),
         row INTEGER NOT NULL,
         field TEXT NOT NULL,
         reason TEXT NOT NULL) STRICT;
       CREATE TABLE runs(
         run_id INTEGER PRIMARY KEY,
         ruleset_hash TEXT NOT NULL REFERENCES rulesets(hash),
         as_of TEXT NOT NULL,
         filter TEXT NOT NULL,
         started_at TEXT NOT NULL,
         finished_at TEXT,
         status TEXT NOT NULL) STRICT;
       CREATE TABLE decision_sets(
         run_id INTEGER NOT NULL REFERENCES runs(run_id),
         record_id INTEGER NOT NULL REFERENCES records(record_id),
         input_hash BLOB NOT NULL,      -- SHA-256 bytes
         decisions TEXT NOT NULL,
         trace_digest BLOB NOT NULL,    -- SHA-256 bytes
         trace TEXT,
         PRIMARY KEY(run_id, record_id)) STRICT, WITHOUT ROWID;
       CREATE TABLE audit(
         seq INTEGER PRIMARY KEY,
         at TEXT NOT NULL,
         actor TEXT NOT NULL,
         action TEXT NOT NULL,
         subject TEXT NOT NULL,
         details TEXT NOT NULL,
         prev_hash TEXT NOT NULL,
         hash TEXT NOT NULL) STRICT;)",
    // 2: decision sets say which form of the compact entries they hold (store.hpp,
    // decision_format): those stored before (1) do not record whether each rule was in force.
    R"(ALTER TABLE decision_sets ADD COLUMN format INTEGER NOT NULL DEFAULT 1;)",
    // 3: identity (store/accounts.hpp, server/auth/): offices, users with Argon2id password
    // hashes, machine clients' bearer tokens and browser sessions (SHA-256 of the secret only),
    // failed logins for the rate limits, and one generation counter that every revoking change
    // bumps, so that servers caching principals notice it.
    R"(CREATE TABLE offices(
         name TEXT PRIMARY KEY,
         created_at TEXT NOT NULL) STRICT;
       CREATE TABLE users(
         user_id INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE,
         role TEXT NOT NULL CHECK(role IN ('official','adviser','auditor','admin')),
         office TEXT REFERENCES offices(name),
         lang TEXT NOT NULL CHECK(lang IN ('fr','ar','en')),
         password_hash TEXT NOT NULL,    -- crypto_pwhash_str (Argon2id), never the password
         disabled INTEGER NOT NULL DEFAULT 0,
         created_at TEXT NOT NULL,
         disabled_at TEXT) STRICT;
       CREATE TABLE tokens(
         token_id INTEGER PRIMARY KEY,
         name TEXT NOT NULL,             -- the machine client: its own principal
         role TEXT NOT NULL CHECK(role IN ('official','adviser','auditor')),
         office TEXT REFERENCES offices(name),
         token_hash BLOB NOT NULL UNIQUE,  -- SHA-256 of the bearer token, never the token
         created_at TEXT NOT NULL,
         revoked_at TEXT) STRICT;
       CREATE UNIQUE INDEX tokens_active ON tokens(name) WHERE revoked_at IS NULL;
       CREATE TABLE sessions(
         id_hash BLOB PRIMARY KEY,       -- SHA-256 of the cookie value, never the cookie
         user_id INTEGER NOT NULL REFERENCES users(user_id),
         created INTEGER NOT NULL,       -- Unix seconds
         last_seen INTEGER NOT NULL) STRICT, WITHOUT ROWID;
       CREATE INDEX sessions_user ON sessions(user_id);
       CREATE TABLE login_attempts(
         attempt_id INTEGER PRIMARY KEY,
         at INTEGER NOT NULL,            -- Unix seconds
         account BLOB NOT NULL,          -- SHA-256 of the name tried (it may be mistyped secret)
         address TEXT NOT NULL) STRICT;  -- the client address (an IPv6 /64), kept one window
       CREATE INDEX login_attempts_account ON login_attempts(account, at);
       CREATE INDEX login_attempts_address ON login_attempts(address, at);
       CREATE INDEX login_attempts_at ON login_attempts(at);
       CREATE TABLE accounts_generation(
         id INTEGER PRIMARY KEY CHECK(id = 1),
         generation INTEGER NOT NULL) STRICT;
       INSERT INTO accounts_generation VALUES(1, 1);)",
    // 4: the server's counter decisions and the officials' reviews over them
    // (store/counter_store.hpp); their records are versions of the applicants like imported ones.
    R"(CREATE TABLE counter_decisions(
         decision_id TEXT PRIMARY KEY,
         record_id INTEGER NOT NULL REFERENCES records(record_id),
         applicant_id TEXT NOT NULL REFERENCES applicants(applicant_id),
         office TEXT NOT NULL,
         actor TEXT NOT NULL,
         at TEXT NOT NULL,
         as_of TEXT NOT NULL,
         ruleset_hash TEXT NOT NULL REFERENCES rulesets(hash),
         input_hash TEXT NOT NULL,
         rules TEXT NOT NULL,
         outcomes TEXT NOT NULL,
         trace INTEGER NOT NULL,
         answer_digest TEXT NOT NULL) STRICT;
       CREATE INDEX counter_decisions_applicant ON counter_decisions(applicant_id, at);
       CREATE TABLE reviews(
         review_id TEXT PRIMARY KEY,
         decision_id TEXT NOT NULL REFERENCES counter_decisions(decision_id),
         seq INTEGER NOT NULL,
         supersedes TEXT REFERENCES reviews(review_id),
         at TEXT NOT NULL,
         user TEXT NOT NULL,
         decisions TEXT NOT NULL,
         observations TEXT NOT NULL,
         UNIQUE(decision_id, seq)) STRICT;)",
};

constexpr auto schema_version = static_cast<std::int64_t>(std::size(migrations));
static_assert(schema_version == 4 && decision_format == 2,
              "a new form of decision sets needs a migration (and the readers of the old ones)");

/// Reads `"key":value` from the flat JSON objects the store writes as audit details.
std::string detail(const std::string& details, const std::string& key) {
  std::string needle = "\"" + key + "\":";
  auto pos = details.find(needle);
  if (pos == std::string::npos) return {};
  pos += needle.size();
  if (pos < details.size() && details[pos] == '"') {
    auto end = details.find('"', pos + 1);
    return details.substr(pos + 1, end - pos - 1);
  }
  auto end = details.find_first_of(",}", pos);
  return details.substr(pos, end - pos);
}

std::string filter_text(const std::vector<record_filter>& filter) {
  std::string s;
  for (const auto& f : filter) s += (s.empty() ? "" : " and ") + f.path + "=" + f.value;
  return s;
}

/// The digest an audit entry keeps for a chunk of decision sets: one line per set,
/// "record_id:decisions digest:trace digest" in hex, hashed as a stream.
/// From decision format 2 on, the line ends with ":format" so that the form a set is read in is
/// vouched for too; the lines of format 1 sets are those their audit entries were written with.
class chunk_digest {
 public:
  void add(std::int64_t record_id, const engine::digest& decisions, const engine::digest& trace,
           std::int64_t format) {
    line_.clear();
    char number[24];
    auto end = std::to_chars(number, number + sizeof number, record_id).ptr;
    line_.append(number, end);
    line_ += ':';
    decisions.append_hex(line_);
    line_ += ':';
    trace.append_hex(line_);
    if (format != 1) {
      line_ += ':';
      end = std::to_chars(number, number + sizeof number, format).ptr;
      line_.append(number, end);
    }
    line_ += '\n';
    sha_.update(line_);
  }
  std::string hex() { return sha_.hex(); }

 private:
  engine::sha256_stream sha_;
  std::string line_;
};

class sqlite_store final : public store {
 public:
  bool open(const std::string& path, std::string& error) {
    path_ = path;
    if (!db_.open(path, error)) return false;
    if (!db_.exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL) STRICT;",
                  error)) {
      return false;
    }
    // One migration per transaction, the version read inside it: two processes opening an old
    // store at once upgrade it once. Upgrading a store that has an audit log (from version 1)
    // appends an entry saying so in the same transaction.
    std::int64_t found = -1;  // the version the store had when opened
    for (;;) {
      if (!db_.exec("BEGIN IMMEDIATE", error)) return false;
      std::int64_t version = 0;
      {
        auto q = db_.prepare("SELECT max(version) FROM schema_version", error);
        if (!q.ok()) return rollback(false);
        if (q.step() == SQLITE_ROW && !q.is_null(0)) version = q.int64(0);
      }
      if (found < 0) found = version;
      if (version > schema_version) {
        error = path + ": the store's schema is version " + std::to_string(version) +
                ", newer than this dalil knows (" + std::to_string(schema_version) +
                "): open it with a newer dalil";
        return rollback(false);
      }
      if (version == schema_version) return db_.exec("COMMIT", error);
      std::string to = std::to_string(version + 1);
      if (!db_.exec(migrations[version], error) ||
          !db_.exec("INSERT INTO schema_version VALUES(" + to + ")", error)) {
        std::string why = std::move(error);
        error = path;
        error += ": upgrading the store to schema version ";
        error += to;
        error += ": ";
        error += why;
        return rollback(false);
      }
      if (found >= 1 &&
          !audit_locked("dalil", "schema", to,
                        "{\"from\":" + std::to_string(version) + ",\"to\":" + to + "}", error)) {
        return rollback(false);
      }
      if (!db_.exec("COMMIT", error)) return rollback(false);
    }
  }

  bool put_ruleset(const std::string& hash, const std::string& source,
                   std::string& error) override {
    auto q = db_.prepare("INSERT OR IGNORE INTO rulesets VALUES(?,?,?)", error);
    if (!q.ok()) return false;
    q.bind(1, hash).bind(2, source).bind(3, now_utc());
    if (q.step() != SQLITE_DONE) {
      error = db_.message();
      return false;
    }
    if (sqlite3_changes(db_.handle()) == 0) return true;
    return audit("dalil", "ruleset", hash, "{\"bytes\":" + std::to_string(source.size()) + "}",
                 error);
  }

  std::optional<std::string> ruleset_source(const std::string& hash) override {
    std::string error;
    auto q = db_.prepare("SELECT source FROM rulesets WHERE hash=?", error);
    q.bind(1, hash);
    if (q.step() != SQLITE_ROW) return std::nullopt;
    return q.text(0);
  }

  std::int64_t begin_import(const std::string& file, const std::string& file_hash) override {
    std::string error;
    db_.exec("BEGIN IMMEDIATE", error);
    auto q = db_.prepare("INSERT INTO imports(file, file_hash, started_at) VALUES(?,?,?)", error);
    q.bind(1, file).bind(2, file_hash).bind(3, now_utc());
    q.step();
    return db_.last_insert_id();
  }

  put_result put_record(std::int64_t import_id, const std::string& applicant_id,
                        const std::string& content_hash, const std::string& json,
                        std::string& error) override {
    if (!latest_.ok()) {
      latest_ = db_.prepare(
          "SELECT record_id, version, content_hash FROM records WHERE applicant_id=? AND latest=1",
          error);
      insert_applicant_ = db_.prepare("INSERT OR IGNORE INTO applicants VALUES(?)", error);
      insert_record_ = db_.prepare(
          "INSERT INTO records(applicant_id, version, content_hash, json, import_id) "
          "VALUES(?,?,?,?,?)",
          error);
      unlatest_ = db_.prepare("UPDATE records SET latest=0 WHERE record_id=?", error);
    }
    latest_.reset();
    latest_.bind(1, applicant_id);
    std::int64_t version = 0;
    std::int64_t previous = 0;
    bool same = false;
    if (latest_.step() == SQLITE_ROW) {
      previous = latest_.int64(0);
      version = latest_.int64(1);
      same = latest_.text(2) == content_hash;
    }
    latest_.reset();  // never leave a statement pending: it would hold the connection's snapshot
    if (same) return put_result::unchanged;
    insert_applicant_.reset();
    insert_applicant_.bind(1, applicant_id).step();
    if (previous) {
      unlatest_.reset();
      unlatest_.bind(1, previous).step();
    }
    insert_record_.reset();
    insert_record_.bind(1, applicant_id)
        .bind(2, version + 1)
        .bind(3, content_hash)
        .bind(4, json)
        .bind(5, import_id);
    if (insert_record_.step() != SQLITE_DONE) error = db_.message();
    insert_record_.reset();
    insert_applicant_.reset();
    unlatest_.reset();
    return previous ? put_result::new_version : put_result::stored;
  }

  void reject(std::int64_t import_id, std::int64_t row, const std::string& field,
              const std::string& reason) override {
    std::string error;
    auto q = db_.prepare("INSERT INTO rejections VALUES(?,?,?,?)", error);
    q.bind(1, import_id).bind(2, row).bind(3, field).bind(4, reason).step();
  }

  bool finish_import(std::int64_t import_id, const std::string& file_hash, std::int64_t rows,
                     std::int64_t stored, std::int64_t unchanged, std::int64_t rejected,
                     std::string& error) override {
    auto q = db_.prepare(
        "UPDATE imports SET rows=?, stored=?, unchanged=?, rejected=?, file_hash=? WHERE "
        "import_id=?",
        error);
    q.bind(1, rows).bind(2, stored).bind(3, unchanged).bind(4, rejected).bind(5, file_hash);
    q.bind(6, import_id).step();
    std::int64_t count = 0;
    std::string digest = import_digest(import_id, count, error);
    std::string details =
        "{\"import\":" + std::to_string(import_id) + ",\"rows\":" + std::to_string(rows) +
        ",\"stored\":" + std::to_string(count) + ",\"unchanged\":" + std::to_string(unchanged) +
        ",\"rejected\":" + std::to_string(rejected) + ",\"digest\":\"" + digest + "\"}";
    if (!audit_locked("dalil", "import", std::to_string(import_id), details, error)) return false;
    return db_.exec("COMMIT", error);
  }

  std::optional<run_info> open_run(const std::string& ruleset_hash, const std::string& as_of,
                                   const std::vector<record_filter>& filter,
                                   std::string& error) override {
    std::string f = filter_text(filter);
    auto q = db_.prepare(
        "SELECT run_id, status FROM runs WHERE ruleset_hash=? AND as_of=? AND filter=? "
        "ORDER BY run_id DESC LIMIT 1",
        error);
    q.bind(1, ruleset_hash).bind(2, as_of).bind(3, f);
    run_info info{0, ruleset_hash, as_of, f, "running", false};
    if (q.step() == SQLITE_ROW) {
      // The same ruleset, date and filter: the same run, resumed (or extended to records
      // imported since it completed).
      info.run_id = q.int64(0);
      info.status = q.text(1);
      info.resumed = true;
      return info;
    }
    if (!db_.exec("BEGIN IMMEDIATE", error)) return std::nullopt;
    auto ins = db_.prepare(
        "INSERT INTO runs(ruleset_hash, as_of, filter, started_at, status) "
        "VALUES(?,?,?,?,'running')",
        error);
    ins.bind(1, ruleset_hash).bind(2, as_of).bind(3, f).bind(4, now_utc());
    if (ins.step() != SQLITE_DONE) {
      error = db_.message();
      rollback(false);
      return std::nullopt;
    }
    info.run_id = db_.last_insert_id();
    if (!audit_locked("dalil", "run", std::to_string(info.run_id),
                      "{\"ruleset\":\"" + ruleset_hash + "\",\"as_of\":\"" + as_of + "\"}",
                      error) ||
        !db_.exec("COMMIT", error)) {
      return std::nullopt;
    }
    return info;
  }

  std::string pending_sql(const std::vector<record_filter>& filter, bool count) {
    std::string sql = count ? "SELECT count(*) FROM records r WHERE r.latest=1"
                            : "SELECT r.record_id, r.applicant_id, r.version, r.content_hash, "
                              "r.json FROM records r WHERE r.latest=1 AND r.record_id > ?";
    for (std::size_t i = 0; i < filter.size(); ++i) {
      sql += " AND CAST(json_extract(r.json, ?) AS TEXT) = ?";
    }
    sql +=
        " AND NOT EXISTS (SELECT 1 FROM decision_sets d WHERE d.run_id=? AND "
        "d.record_id=r.record_id)";
    if (!count) sql += " ORDER BY r.record_id LIMIT ?";
    return sql;
  }

  int bind_filter(statement& q, int i, const std::vector<record_filter>& filter) {
    for (const auto& f : filter) {
      q.bind(i++, "$." + f.path);
      q.bind(i++, f.value);
    }
    return i;
  }

  std::int64_t count_pending(std::int64_t run_id,
                             const std::vector<record_filter>& filter) override {
    std::string error;
    auto q = db_.prepare(pending_sql(filter, true), error);
    int i = bind_filter(q, 1, filter);
    q.bind(i, run_id);
    return q.step() == SQLITE_ROW ? q.int64(0) : 0;
  }

  bool next_pending(std::int64_t run_id, const std::vector<record_filter>& filter,
                    std::int64_t after, std::size_t limit, std::vector<stored_record>& out,
                    std::string& error) override {
    // The records of `out` are overwritten in place: their strings keep their capacity from one
    // chunk to the next, so a batch does not allocate per record.
    std::size_t n = 0;
    auto q = db_.prepare(pending_sql(filter, false), error);
    if (!q.ok()) return false;
    q.bind(1, after);
    int i = bind_filter(q, 2, filter);
    q.bind(i, run_id).bind(i + 1, static_cast<std::int64_t>(limit));
    int rc = 0;
    while ((rc = q.step()) == SQLITE_ROW) {
      if (n == out.size()) out.emplace_back();
      stored_record& r = out[n++];
      r.record_id = q.int64(0);
      r.applicant_id = q.text_view(1);
      r.version = q.int64(2);
      r.content_hash = q.text_view(3);
      r.json = q.text_view(4);
    }
    out.resize(n);
    if (rc != SQLITE_DONE) {
      error = db_.message();
      return false;
    }
    return true;
  }

  bool write_decisions(std::int64_t run_id, const std::vector<decision_set>& sets,
                       std::string& error) override {
    if (sets.empty()) return true;
    if (!db_.exec("BEGIN IMMEDIATE", error)) return false;
    if (!insert_decisions_.ok()) {
      insert_decisions_ = db_.prepare(
          "INSERT INTO decision_sets(run_id, record_id, input_hash, decisions, trace_digest, "
          "trace, format) VALUES(?,?,?,?,?,?,?)",
          error);
      if (!insert_decisions_.ok()) return rollback(false);
    }
    statement& q = insert_decisions_;
    chunk_digest digest;
    for (const decision_set& d : sets) {
      q.reset();
      q.bind(1, run_id)
          .bind(2, d.record_id)
          .bind_static(3, d.input_hash)  // `sets` outlives the step
          .bind_static(4, d.decisions_json)
          .bind_static(5, d.trace_digest);
      if (d.trace_json.empty()) {
        q.bind_null(6);
      } else {
        q.bind_static(6, d.trace_json);
      }
      q.bind(7, std::int64_t{d.format});
      if (q.step() != SQLITE_DONE) {
        error = db_.message();
        q.reset();
        return rollback(false);
      }
      digest.add(d.record_id, d.decisions_digest, d.trace_digest, d.format);
    }
    q.reset();
    std::string details = "{\"run\":" + std::to_string(run_id) +
                          ",\"from\":" + std::to_string(sets.front().record_id) +
                          ",\"to\":" + std::to_string(sets.back().record_id) +
                          ",\"count\":" + std::to_string(sets.size()) + ",\"digest\":\"" +
                          digest.hex() + "\"}";
    if (!audit_locked("dalil", "decisions", std::to_string(run_id), details, error)) {
      return rollback(false);
    }
    return db_.exec("COMMIT", error);
  }

  /// Ends the open transaction without its changes; returns `result`.
  bool rollback(bool result) {
    std::string ignored;
    db_.exec("ROLLBACK", ignored);
    return result;
  }

  bool finish_run(std::int64_t run_id, std::string& error) override {
    if (!db_.exec("BEGIN IMMEDIATE", error)) return false;
    auto q = db_.prepare("UPDATE runs SET status='complete', finished_at=? WHERE run_id=?", error);
    q.bind(1, now_utc()).bind(2, run_id).step();
    std::string details = "{\"run\":" + std::to_string(run_id) +
                          ",\"decision_sets\":" + std::to_string(count_decisions(run_id)) + "}";
    if (!audit_locked("dalil", "run_complete", std::to_string(run_id), details, error)) {
      return rollback(false);
    }
    return db_.exec("COMMIT", error);
  }

  bool audit(const std::string& actor, const std::string& action, const std::string& subject,
             const std::string& details, std::string& error) override {
    if (!db_.exec("BEGIN IMMEDIATE", error)) return false;
    if (!audit_locked(actor, action, subject, details, error)) return rollback(false);
    return db_.exec("COMMIT", error);
  }

  /// Appends an entry; the caller holds the write transaction.
  bool audit_locked(const std::string& actor, const std::string& action, const std::string& subject,
                    const std::string& details, std::string& error) {
    auto seq = detail::append_audit(db_, actor, action, subject, details);
    if (!seq) {
      error = seq.error().message;
      return false;
    }
    return true;
  }

  std::string import_digest(std::int64_t import_id, std::int64_t& count, std::string& error) {
    auto q = db_.prepare(
        "SELECT record_id, applicant_id, version, content_hash FROM records WHERE import_id=? "
        "ORDER BY record_id",
        error);
    q.bind(1, import_id);
    engine::sha256_stream digest;  // streamed: memory stays flat for a national register
    count = 0;
    while (q.step() == SQLITE_ROW) {
      digest.update(std::to_string(q.int64(0)) + ':' + q.text(1) + ':' +
                    std::to_string(q.int64(2)) + ':' + q.text(3) + '\n');
      ++count;
    }
    return digest.hex();
  }

  std::optional<audit_problem> verify(std::string& error) override {
    // 1. The chain itself: contiguous sequence, each entry linked to and hashing as written.
    auto q = db_.prepare(
        "SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit ORDER BY seq",
        error);
    std::string prev = std::string(64, '0');
    std::int64_t expected_seq = 1;
    std::map<std::int64_t, std::int64_t> import_counts;         // import -> records
    std::map<std::int64_t, std::int64_t> run_counts;            // run -> decision sets
    std::vector<std::pair<std::int64_t, std::string>> imports;  // seq, details
    std::vector<std::pair<std::int64_t, std::string>> chunks;   // seq, details
    std::vector<std::pair<std::int64_t, std::string>> ruleset_entries;
    while (q.step() == SQLITE_ROW) {
      std::int64_t seq = q.int64(0);
      std::string details = q.text(5);
      if (seq != expected_seq) {
        return audit_problem{expected_seq, "audit entry " + std::to_string(expected_seq) +
                                               " is missing (the log jumps to " +
                                               std::to_string(seq) + ")"};
      }
      if (q.text(6) != prev) {
        return audit_problem{
            seq, "audit entry " + std::to_string(seq) + " does not link to the entry before it"};
      }
      std::string h = detail::entry_hash(prev, seq, q.text(1), q.text(2), q.text(3), q.text(4), details);
      if (h != q.text(7)) {
        return audit_problem{seq, "audit entry " + std::to_string(seq) + " (" + q.text(3) +
                                      ") was changed after it was written"};
      }
      prev = h;
      ++expected_seq;
      const std::string action = q.text(3);
      if (action == "import") imports.emplace_back(seq, details);
      if (action == "decisions") chunks.emplace_back(seq, details);
      if (action == "ruleset") ruleset_entries.emplace_back(seq, q.text(4));
    }
    // 2. What the entries vouch for: rulesets, imported records, decision sets.
    for (const auto& [seq, hash] : ruleset_entries) {
      auto src = ruleset_source(hash);
      if (!src || engine::sha256_hex(*src) != hash) {
        return audit_problem{seq, "ruleset " + hash.substr(0, 12) + " (audit entry " +
                                      std::to_string(seq) + ") was changed or deleted"};
      }
    }
    for (const auto& [seq, details] : imports) {
      std::int64_t id = std::stoll(detail(details, "import"));
      std::int64_t count = 0;
      std::string digest = import_digest(id, count, error);
      import_counts[id] = count;
      if (digest != detail(details, "digest")) {
        return audit_problem{seq, "records of import " + std::to_string(id) + " (audit entry " +
                                      std::to_string(seq) + ") were changed, deleted or inserted"};
      }
    }
    {
      auto c = db_.prepare(
          "SELECT record_id, import_id, content_hash, json FROM records ORDER BY record_id", error);
      while (c.step() == SQLITE_ROW) {
        if (!import_counts.count(c.int64(1))) {
          return audit_problem{0, "record " + std::to_string(c.int64(0)) +
                                      " belongs to no audited import: it was inserted behind the "
                                      "tool's back"};
        }
        if (engine::sha256_hex(c.text(3)) != c.text(2)) {
          return audit_problem{0, "record " + std::to_string(c.int64(0)) +
                                      " does not match its content hash: it was edited"};
        }
      }
    }
    for (const auto& [seq, details] : chunks) {
      std::int64_t run = std::stoll(detail(details, "run"));
      std::int64_t from = std::stoll(detail(details, "from"));
      std::int64_t to = std::stoll(detail(details, "to"));
      auto d = db_.prepare(
          "SELECT record_id, decisions, trace_digest, format FROM decision_sets WHERE run_id=? "
          "AND record_id BETWEEN ? AND ? ORDER BY record_id",
          error);
      d.bind(1, run).bind(2, from).bind(3, to);
      chunk_digest digest;
      std::int64_t rows = 0;
      while (d.step() == SQLITE_ROW) {
        digest.add(d.int64(0), engine::sha256(d.text_view(1)), d.digest(2), d.int64(3));
        ++rows;
      }
      run_counts[run] += rows;
      if (digest.hex() != detail(details, "digest")) {
        return audit_problem{seq, "decision sets of run " + std::to_string(run) + ", records " +
                                      std::to_string(from) + ".." + std::to_string(to) +
                                      " (audit entry " + std::to_string(seq) +
                                      ") were changed, deleted or inserted"};
      }
    }
    auto totals = db_.prepare("SELECT run_id, count(*) FROM decision_sets GROUP BY run_id", error);
    while (totals.step() == SQLITE_ROW) {
      if (totals.int64(1) != run_counts[totals.int64(0)]) {
        return audit_problem{0, "run " + std::to_string(totals.int64(0)) +
                                    " has decision sets that no audit entry vouches for"};
      }
    }
    return std::nullopt;
  }

  std::optional<stored_record> record(std::int64_t record_id) override {
    std::string error;
    auto q = db_.prepare(
        "SELECT record_id, applicant_id, version, content_hash, json FROM records WHERE "
        "record_id=?",
        error);
    q.bind(1, record_id);
    if (q.step() != SQLITE_ROW) return std::nullopt;
    return stored_record{q.int64(0), q.text(1), q.int64(2), q.text(3), q.text(4)};
  }

  std::optional<run_info> run(std::int64_t run_id) override {
    std::string error;
    auto q = db_.prepare(
        "SELECT run_id, ruleset_hash, as_of, filter, status FROM runs WHERE run_id=?", error);
    q.bind(1, run_id);
    if (q.step() != SQLITE_ROW) return std::nullopt;
    return run_info{q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4), false};
  }

  std::optional<decision_set> decisions(std::int64_t run_id, std::int64_t record_id) override {
    std::string error;
    auto q = db_.prepare(
        "SELECT record_id, input_hash, decisions, trace_digest, trace, format FROM "
        "decision_sets WHERE run_id=? AND record_id=?",
        error);
    q.bind(1, run_id).bind(2, record_id);
    if (q.step() != SQLITE_ROW) return std::nullopt;
    decision_set d;
    d.record_id = q.int64(0);
    d.input_hash = q.digest(1);
    d.decisions_json = q.text(2);
    d.decisions_digest = engine::sha256(d.decisions_json);
    d.trace_digest = q.digest(3);
    d.trace_json = q.text(4);
    d.format = static_cast<int>(q.int64(5));
    return d;
  }

  bool each_decision(std::int64_t run_id,
                     const std::function<void(const std::string&, const decision_set&)>& f,
                     std::string& error) override {
    auto q = db_.prepare(
        "SELECT d.record_id, d.input_hash, d.decisions, d.trace_digest, r.applicant_id, "
        "d.format FROM decision_sets d JOIN records r USING(record_id) WHERE d.run_id=? "
        "ORDER BY d.record_id",
        error);
    if (!q.ok()) return false;
    q.bind(1, run_id);
    while (q.step() == SQLITE_ROW) {
      decision_set d;
      d.record_id = q.int64(0);
      d.input_hash = q.digest(1);
      d.decisions_json = q.text(2);
      d.trace_digest = q.digest(3);
      d.format = static_cast<int>(q.int64(5));
      f(q.text(4), d);
    }
    return true;
  }

  std::vector<run_info> runs() override {
    std::string error;
    std::vector<run_info> out;
    auto q = db_.prepare(
        "SELECT run_id, ruleset_hash, as_of, filter, status FROM runs ORDER BY run_id", error);
    while (q.step() == SQLITE_ROW) {
      out.push_back({q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4), false});
    }
    return out;
  }

  std::int64_t count_decisions(std::int64_t run_id) override {
    std::string error;
    auto q = db_.prepare("SELECT count(*) FROM decision_sets WHERE run_id=?", error);
    q.bind(1, run_id);
    return q.step() == SQLITE_ROW ? q.int64(0) : 0;
  }

  std::int64_t count_records() override {
    std::string error;
    auto q = db_.prepare("SELECT count(*) FROM records WHERE latest=1", error);
    return q.step() == SQLITE_ROW ? q.int64(0) : 0;
  }

  std::unique_ptr<store> reopen(std::string& error) override {
    auto other = std::make_unique<sqlite_store>();
    if (!other->open(path_, error)) return nullptr;
    return other;
  }

 private:
  std::string path_;
  database db_;
  statement latest_;
  statement insert_applicant_;
  statement insert_record_;
  statement unlatest_;
  statement insert_decisions_;
};

}  // namespace

std::unique_ptr<store> open_sqlite(const std::string& path, std::string& error) {
  auto s = std::make_unique<sqlite_store>();
  if (!s->open(path, error)) return nullptr;
  return s;
}

}  // namespace dalil::store
