// The SQLite store: schema and migrations, records with versions, runs (immutable once complete,
// one generation per re-run of a batch key) under a writer lease, decision sets (one per applicant
// per run, enforced by the schema), and the hash-chained audit log with its verification.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <tuple>

#include "engine/record.hpp"
#include "engine/sha256.hpp"
#include "store/accounts_check.hpp"
#include "store/batch.hpp"
#include "store/chain.hpp"
#include "store/counter_store.hpp"
#include "store/entry_format.hpp"
#include "store/in_place.hpp"
#include "store/lease.hpp"
#include "store/publications.hpp"
#include "store/sealing.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace dalil::store {

std::string utc_text(std::int64_t unix_seconds) {
  auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string now_utc() {
  return utc_text(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()));
}

namespace detail {

namespace {

/// Whether the store has rows in `table` or entries of `action`: a check of a part of the store
/// that was never used is skipped (and never fails a read-only copy for want of opening it).
bool used(verify_context& ctx, const char* table, const char* action) {
  auto q = ctx.db.make(std::string("SELECT (SELECT count(*) FROM ") + table +
                           ") + (SELECT count(*) FROM audit WHERE action='" + action + "')",
                       "verifying");
  if (!q) return true;
  auto row = q->next("verifying");
  return !row || !*row || q->int64(0) != 0;
}

}  // namespace

/// The row checkers of the tables this file migrates for other parts of the store: the server's
/// counter decisions and reviews, and the identity tables. Each opens its own connection to the
/// same file (its API takes a path); a failure to check is reported, never skipped.
std::vector<row_checker> builtin_checkers() {
  return {
      [](verify_context& ctx) {
        if (!used(ctx, "counter_decisions", "counter_decision") &&
            !used(ctx, "reviews", "review") &&
            !used(ctx, "counter_month_figures", "counter_figures")) {
          return;
        }
        std::string path = sqlite3_db_filename(ctx.db.handle(), "main");
        auto counter = open_sqlite_counter(path);
        if (!counter) {
          ctx.problem(0, "unreadable", "counter decisions: " + counter.error().message);
          return;
        }
        auto found = (*counter)->verify();
        if (!found) {
          ctx.problem(0, found.error().code == errc::damaged ? "damaged_file" : "unreadable",
                      "counter decisions: " + found.error().message);
        } else if (*found) {
          ctx.problem((*found)->seq, "counter", (*found)->what);
        }
      },
      // Publications (store/publications.hpp): each row against its `publish` entry.
      [](verify_context& ctx) { check_publication_rows(ctx); },
      // The identity tables, checked in verify's own snapshot against its intact entries
      // (store/accounts_check.hpp): every damaged row is reported, read-only copies included.
      [](verify_context& ctx) {
        std::vector<account_entry> entries;
        for (const auto& e : ctx.entries) {
          entries.push_back({e.seq, e.action, e.subject, e.details});
        }
        for (auto& p : check_account_rows(ctx.db, entries)) {
          ctx.problem(p.seq, "account", std::move(p.what));
        }
      },
  };
}

}  // namespace detail

namespace {

/// A migration: its SQL, and what to do after it in the same transaction (nullptr: nothing).
struct migration {
  const char* sql = nullptr;
  status (*after)(database& db, bool had_log) = nullptr;
  status (*before)(database& db) = nullptr;
};

status adopt_legacy_state(database& db, bool had_log);
status refuse_doubled_runs(database& db);
status vouch_kept_months(database& db, bool had_log);

// Each migration brings the schema from version i to i + 1. Never edit one that has shipped.
const migration migrations[] = {
    {R"(CREATE TABLE rulesets(
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
         hash TEXT NOT NULL) STRICT;)"},
    // 2: decision sets say which form of the compact entries they hold (store.hpp,
    // decision_format): those stored before (1) do not record whether each rule was in force.
    {R"(ALTER TABLE decision_sets ADD COLUMN format INTEGER NOT NULL DEFAULT 1;)"},
    // 3: identity (store/accounts.hpp, server/auth/): offices, users with Argon2id password
    // hashes, machine clients' bearer tokens and browser sessions (SHA-256 of the secret only),
    // failed logins for the rate limits, and one generation counter that every revoking change
    // bumps, so that servers caching principals notice it.
    {R"(CREATE TABLE offices(
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
       INSERT INTO accounts_generation VALUES(1, 1);)"},
    // 4: the server's counter decisions and the officials' reviews over them
    // (store/counter_store.hpp); their records are versions of the applicants like imported ones.
    {R"(CREATE TABLE counter_decisions(
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
       -- the records of one import (the counter writes one per transaction): audit verify
       -- digests them per import without reading every record
       CREATE INDEX records_import ON records(import_id, record_id);
       CREATE TABLE reviews(
         review_id TEXT PRIMARY KEY,
         decision_id TEXT NOT NULL REFERENCES counter_decisions(decision_id),
         seq INTEGER NOT NULL,
         supersedes TEXT REFERENCES reviews(review_id),
         at TEXT NOT NULL,
         user TEXT NOT NULL,
         decisions TEXT NOT NULL,
         observations TEXT NOT NULL,
         UNIQUE(decision_id, seq)) STRICT;)"},
    // 5: runs immutable once complete: a batch key (ruleset, date, filter) run again after new
    // record versions is a new run, one generation later; exactly one decision set per applicant
    // per run, enforced by a unique index; no change to a complete run and no decision set of one
    // deleted (triggers; a set added to a complete run is refused by the writer, which checks the
    // run's status in each chunk's transaction, and named by verify: a per-row insert trigger
    // would halve the batch's rate); the writer lease of a running batch. The state kept before
    // (runs, imports and their rejections) is vouched for by audit entries the upgrade appends.
    {R"(ALTER TABLE runs ADD COLUMN generation INTEGER NOT NULL DEFAULT 1;
        UPDATE runs SET generation = (SELECT count(*) FROM runs o WHERE
          o.ruleset_hash = runs.ruleset_hash AND o.as_of = runs.as_of AND o.filter = runs.filter
          AND o.run_id <= runs.run_id);
        CREATE UNIQUE INDEX runs_key ON runs(ruleset_hash, as_of, filter, generation);
        ALTER TABLE decision_sets ADD COLUMN applicant_id TEXT NOT NULL DEFAULT '';
        UPDATE decision_sets SET applicant_id = (SELECT r.applicant_id FROM records r
          WHERE r.record_id = decision_sets.record_id);
        CREATE UNIQUE INDEX decision_sets_applicant ON decision_sets(run_id, applicant_id);
        CREATE TRIGGER complete_run_frozen BEFORE UPDATE ON runs WHEN OLD.status = 'complete'
          BEGIN SELECT RAISE(ABORT, 'the run is complete: a complete run never changes'); END;
        CREATE TRIGGER complete_run_kept BEFORE DELETE ON decision_sets
          WHEN (SELECT status FROM runs WHERE run_id = OLD.run_id) = 'complete'
          BEGIN SELECT RAISE(ABORT, 'the run is complete: a complete run never changes'); END;
        CREATE TABLE lease(
          name TEXT PRIMARY KEY,
          token TEXT NOT NULL,
          run_id INTEGER NOT NULL,
          pid INTEGER NOT NULL,
          host TEXT NOT NULL,
          since TEXT NOT NULL,
          expires INTEGER NOT NULL) STRICT;)",
     adopt_legacy_state, refuse_doubled_runs},
    // 6: bearer tokens expire (Unix seconds; `dalil token create --expires DAYS`). A token made
    // before has none recorded: it expires 365 days after its creation (store/accounts.hpp).
    // Logins refused by the rate limits, counted per key (an account's or an address's) and
    // window: the first of each is audited, the others only counted here.
    {R"(ALTER TABLE tokens ADD COLUMN expires INTEGER;
        CREATE TABLE login_throttles(
          kind TEXT NOT NULL CHECK(kind IN ('account','address')),
          key ANY NOT NULL,              -- SHA-256 of the name typed, or the address as keyed
          window_start INTEGER NOT NULL, -- Unix seconds, a multiple of the window
          refused INTEGER NOT NULL,
          PRIMARY KEY(kind, key, window_start)) STRICT;)"},
    // 7: encryption at rest (docs/operations.md, store/crypto.hpp): the master key's check value
    // once a key is bound to the store (`dalil keys init --db`); each applicant's pseudonym
    // (the store's applicant id: p0000000001…, in import order, so that the batch's indexes keep
    // their locality) under the keyed hash of their id; one wrapped data key per applicant; and
    // each record's sealed content (its `json` then empty). A store without a keyring row keeps
    // plain records as before.
    {R"(CREATE TABLE keyring(
         id INTEGER PRIMARY KEY CHECK(id = 1),
         key_check TEXT NOT NULL,
         lookup_key BLOB NOT NULL,  -- the key of the id hashes, wrapped: it outlives rotations
         generation INTEGER NOT NULL,
         created_at TEXT NOT NULL) STRICT;
       CREATE TABLE pseudonyms(
         lookup TEXT PRIMARY KEY,
         applicant_id TEXT NOT NULL UNIQUE) STRICT, WITHOUT ROWID;
       CREATE TABLE data_keys(
         applicant_id TEXT PRIMARY KEY,
         wrapped BLOB,
         generation INTEGER NOT NULL) STRICT, WITHOUT ROWID;
       ALTER TABLE records ADD COLUMN sealed BLOB;)"},
    // 8: publications (store/publications.hpp, `dalil publish`): a stored ruleset made the one in
    // effect from a date on, with who approved it; each row vouched for by its `publish` entry.
    // A counter decision names the publication that decided it (NULL: a server run with
    // --rules, or a decision stored before).
    {R"(CREATE TABLE publications(
         publication_id INTEGER PRIMARY KEY,
         ruleset_hash TEXT NOT NULL REFERENCES rulesets(hash),
         approved_by TEXT NOT NULL,
         effective_from TEXT NOT NULL,  -- YYYY-MM-DD
         published_at TEXT NOT NULL,    -- UTC, ISO 8601
         actor TEXT NOT NULL,
         note TEXT NOT NULL DEFAULT '') STRICT;
       ALTER TABLE counter_decisions ADD COLUMN publication_id INTEGER
         REFERENCES publications(publication_id);)"},
    // 9: personal data over its life
    // (docs/operations.md). A retention period per kind of data (the defaults below, changed by
    // `dalil retention --set`, audited retention_set); the date an import's data was received
    // (the retention clock; NULL: the day it was imported), and a correction's reason and who
    // made it; a stored trace erased by retention keeps its hash (trace_erased), so that the
    // chain's line for its decision set still verifies.
    {R"(CREATE TABLE retention(
         kind TEXT PRIMARY KEY,
         days INTEGER NOT NULL CHECK(days >= 0),
         set_by TEXT NOT NULL,
         set_at TEXT NOT NULL) STRICT;
       INSERT INTO retention VALUES('records', 1825, 'default', ''), ('traces', 365, 'default', '');
       ALTER TABLE imports ADD COLUMN received TEXT;
       ALTER TABLE imports ADD COLUMN reason TEXT;
       ALTER TABLE imports ADD COLUMN corrected_by TEXT;
       ALTER TABLE decision_sets ADD COLUMN trace_erased TEXT;)"},
    // 10: in an encrypted store a decision set's compact decisions are kept in plain only as
    // plain_decisions leaves them (flags, enumeration names, statuses, missing facts: what stats
    // count); the values it replaced (amounts and dates derived from the facts), sealed under
    // the applicant's data key as a record is (NULL: nothing to seal, or a plain store).
    {R"(ALTER TABLE decision_sets ADD COLUMN sealed_decisions BLOB;)"},
    // 11: the batch lease names its holder's process space (store/lease.hpp, machine_id:
    // /etc/machine-id or the host name, the boot id and the pid namespace): only a lease of
    // this one is taken over at once when its process is gone. A lease written before names
    // none ('').
    {R"(ALTER TABLE lease ADD COLUMN machine TEXT NOT NULL DEFAULT '';)"},
    // 12: in an encrypted store a review keeps in plain only each decision's rule and outcome
    // (what the override rates count); the official's decisions whole (reasons, values,
    // documents) and the applicant's observations, sealed together under the applicant's data
    // key (store/sealing.hpp, seal_review; NULL: a plain store, whose reviews are as before).
    {R"(ALTER TABLE reviews ADD COLUMN sealed BLOB;)"},
    // 13: the applicants' index of counter decisions in two parts (store/counter_store.hpp,
    // upkeep_due): counter_applicants, in the applicants' order, and counter_applicants_recent,
    // the decisions made since it was last merged into it, in the order they were made. One index
    // over counter_decisions(applicant_id, at) changed a page in a random place of it for every
    // decision of a commit (applicants come to a counter in no order): at 10,000 decisions a
    // second, more pages written than the decisions themselves take. The recent part is appended
    // to, and merged by thousands of rows at a time, so that a page of the index is written once
    // for the many of its rows a merge brings (docs/server-performance.md).
    {R"(DROP INDEX counter_decisions_applicant;
        CREATE TABLE counter_applicants(
          applicant_id TEXT NOT NULL,
          at TEXT NOT NULL,
          decision_id TEXT NOT NULL,
          PRIMARY KEY(applicant_id, at, decision_id)) STRICT, WITHOUT ROWID;
        CREATE TABLE counter_applicants_recent(
          seq INTEGER PRIMARY KEY,
          applicant_id TEXT NOT NULL,
          at TEXT NOT NULL,
          decision_id TEXT NOT NULL) STRICT;
        INSERT INTO counter_applicants SELECT applicant_id, at, decision_id FROM counter_decisions;)"},
    // 14: the browsers a user has signed in from (docs/identity.md, "Known devices"): a device
    // cookie's SHA-256 (never the cookie) and the SHA-256 of the name it signed in as, with the
    // time of its latest sign-in. A login from a known device is counted under that device,
    // not the account's and the address's shared limits, so that somebody failing on purpose
    // cannot keep an official from signing in from their own browser.
    {R"(CREATE TABLE login_devices(
          device BLOB NOT NULL,
          account BLOB NOT NULL,
          last_login INTEGER NOT NULL,
          PRIMARY KEY(device, account)) STRICT, WITHOUT ROWID;
        CREATE INDEX login_devices_account ON login_devices(account, last_login);
        CREATE INDEX login_devices_last ON login_devices(last_login);)"},
    // 15: the counter's decisions and reviews by time, for the statistics of a month
    // (GET /api/v1/stats?month=: server/stats.hpp, counter_figures), and each month's figures
    // as first released, kept: every process, and every later start, serves those (a decision
    // stamped late into a released month changes no release). A time index is appended to at
    // its end, one page a commit.
    {R"(CREATE INDEX counter_decisions_at ON counter_decisions(at);
        CREATE INDEX reviews_at ON reviews(at);
        CREATE TABLE counter_month_figures(
          month TEXT PRIMARY KEY,
          figures TEXT NOT NULL,
          at TEXT NOT NULL) STRICT;)"},
    // 16: each month's figures kept is vouched for by a counter_figures entry (their digest,
    // written with the row: keep_month_figures), which verify checks; the months a dalil at
    // schema 15 kept are vouched for as found, by entries marked "upgrade".
    {"-- counter_figures entries for the months kept before (vouch_kept_months)",
     vouch_kept_months},
    // 17: the applicants' index of counter decisions gets a middle part (store/counter_store.hpp,
    // counter_index_drain_due), in the applicants' order: the recent part's rounds are merged
    // into it, and it is drained into counter_applicants once it holds a quarter as many rows.
    // A round wrote every page of counter_applicants for a 32nd of its rows; a drain writes
    // each page once for a quarter (docs/server-performance.md).
    {R"(CREATE TABLE counter_applicants_mid(
          applicant_id TEXT NOT NULL,
          at TEXT NOT NULL,
          decision_id TEXT NOT NULL,
          PRIMARY KEY(applicant_id, at, decision_id)) STRICT, WITHOUT ROWID;)"},
};

constexpr auto schema_version = static_cast<std::int64_t>(std::size(migrations));
/// The mark of a store re-sealed by dalil keys reseal (its audit entries that vouch again for
/// the rows it changed say which entry they replace, which a dalil before reseal reads as
/// tampering): a row of schema_version far above any schema number, so that a dalil before
/// reseal (which reads the highest row) refuses the store as newer than it knows, while this
/// dalil and later ones read the schema from the other rows: migrations keep their numbers.
constexpr std::int64_t resealed_mark = 1'000'000;
/// Where a store too new for this dalil is refused: what to say.
std::string newer_store(const std::string& path, std::int64_t version) {
  return path + ": the store's schema is version " + std::to_string(version) +
         ", newer than this dalil knows (" + std::to_string(schema_version) +
         "): it was written by a newer dalil; open it with that one";
}
static_assert(schema_version >= 5 && decision_format == 2,
              "a new form of decision sets needs a migration (and the readers of the old ones)");

/// The counter's applicants' index in one part (migrations 13 and 17): its middle and recent
/// rows merged into counter_applicants, as the server's writer does once they are many
/// (upkeep_due), so that an applicant's rows are all found by counter_applicants' key (INSERT
/// OR IGNORE: a row may be in two parts, as a round of the writer's left it). Inside the
/// caller's transaction.
status merge_counter_index(database& db, const std::string& what) {
  for (const char* sql :
       {"INSERT OR IGNORE INTO counter_applicants SELECT applicant_id, at, decision_id FROM "
        "counter_applicants_mid ORDER BY applicant_id, at, decision_id",
        "INSERT OR IGNORE INTO counter_applicants SELECT applicant_id, at, decision_id FROM "
        "counter_applicants_recent ORDER BY applicant_id, at, decision_id",
        "DELETE FROM counter_applicants_mid", "DELETE FROM counter_applicants_recent"}) {
    if (auto st = db.run(sql, what); !st) return st;
  }
  return {};
}

using detail::add_field;
using detail::decision_line;
using detail::details_version;
using detail::id_ranges;
using detail::record_line;
using detail::rejection_line;
using detail::row_digest;
using detail::rows_per_entry;
// The writer lease (store/lease.hpp): a lease not renewed for lease_seconds is taken over (a
// batch renews it with every chunk).
using detail::held_by;
using detail::host_name;
using detail::lease_seconds;
using detail::machine_id;
using detail::process_alive;
using detail::same_process_space;
using detail::unix_now;

/// Why a SQLite store refuses --shard: one file, one writer at a time.
constexpr const char* shards_refused =
    "a SQLite store is written by one process at a time: a batch in shards (--shard I/N) needs "
    "a PostgreSQL store (docs/postgresql.md); run the batch without --shard, with --threads";

// Audit details: flat JSON objects of strings and integers (store/chain.hpp).
using detail::fields;
using detail::int_field;
using detail::parse_details;
using detail::text_field;

std::optional<std::int64_t> to_int(std::string_view text) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<std::vector<std::int64_t>> parse_ranges(std::string_view text) {
  std::vector<std::int64_t> out;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    std::size_t dash = part.find('-', 1);
    auto a = to_int(part.substr(0, dash));
    auto b = dash == std::string_view::npos ? a : to_int(part.substr(dash + 1));
    if (!a || !b || *b < *a || *b - *a > 10'000'000) return std::nullopt;
    for (std::int64_t k = *a; k <= *b; ++k) out.push_back(k);
  }
  return out;
}

/// The associated data of the keyring's wrapped lookup key.
constexpr std::string_view lookup_label = sealing::lookup_label;

/// Encrypting a plain store in place (keys init --db over records) is one transaction, taken a
/// step at a time so that the memory it holds is one step's, whatever the store holds: the
/// records' ids read in_place_records at a time (the applicants first met among them sealed and
/// renamed), then the decision sets in_place_sets at a time (read, sealed, written back), or
/// fewer once their sealed traces and values reach in_place_set_bytes.
constexpr std::int64_t in_place_records = 2000;
constexpr std::int64_t in_place_sets = 1000;
constexpr std::size_t in_place_set_bytes = std::size_t{16} << 20;

/// The records and the decision sets a step of encrypting in place takes: in_place_records and
/// in_place_sets, or in test builds both DALIL_TEST_IN_PLACE_BATCH (tests/store/
/// encrypt_in_place_test.sh crosses many steps with a small cohort, as PostgreSQL's test does).
std::pair<std::int64_t, std::int64_t> in_place_steps() {
#ifdef DALIL_TEST_HOOKS
  if (const char* n = std::getenv("DALIL_TEST_IN_PLACE_BATCH"); n != nullptr && std::atoi(n) > 0) {
    return {std::atoi(n), std::atoi(n)};
  }
#endif
  return {in_place_records, in_place_sets};
}

/// The associated data that binds a sealed record to its applicant and version (its row).
std::string record_ad(std::string_view applicant, std::int64_t version) {
  return crypto::record_ad(applicant, version);
}

/// Upgrading to schema 5: what the store held before is vouched for from now on, by one entry
/// per run (its key, generation and status) and per import (its file, counts and rejections).
/// A store whose run decides an applicant twice (possible before schema 5) cannot be upgraded
/// without a decision: it is refused, naming the run.
status adopt_legacy_state(database& db, bool had_log) {
  if (!had_log) return {};
  std::vector<std::tuple<std::int64_t, std::string, std::string, std::string, std::int64_t,
                         std::string, std::int64_t, std::string, std::string>>
      runs;
  {
    auto q = db.make(
        "SELECT run_id, ruleset_hash, as_of, filter, generation, status, (SELECT count(*) FROM "
        "decision_sets d WHERE d.run_id = runs.run_id), started_at, coalesce(finished_at, '') "
        "FROM runs ORDER BY run_id",
        "upgrading the store: reading runs");
    if (!q) return q.error();
    for (;;) {
      auto row = q->next("upgrading the store: reading runs");
      if (!row) return row.error();
      if (!*row) break;
      runs.emplace_back(q->int64(0), q->text(1), q->text(2), q->text(3), q->int64(4), q->text(5),
                        q->int64(6), q->text(7), q->text(8));
    }
  }
  for (const auto& [id, ruleset, as_of, filter, generation, st, count, started, finished] : runs) {
    std::string d = "{";
    add_field(d, "v", details_version);
    add_field(d, "run", id);
    add_field(d, "ruleset", ruleset);
    add_field(d, "as_of", as_of);
    add_field(d, "filter", filter);
    add_field(d, "generation", generation);
    add_field(d, "status", st);
    add_field(d, "decision_sets", count);
    add_field(d, "started_at", started);
    add_field(d, "finished_at", finished);
    d += '}';
    if (auto r = detail::append_audit(db, "dalil", "run_state", std::to_string(id), d); !r) {
      return r.error();
    }
  }
  std::vector<std::tuple<std::int64_t, std::string, std::string, std::int64_t, std::int64_t,
                         std::int64_t, std::int64_t, std::string>>
      imports;
  {
    auto q = db.make(
        "SELECT import_id, file, file_hash, coalesce(rows, -1), coalesce(stored, -1), "
        "coalesce(unchanged, -1), coalesce(rejected, -1), started_at FROM imports ORDER BY "
        "import_id",
        "upgrading the store: reading imports");
    if (!q) return q.error();
    for (;;) {
      auto row = q->next("upgrading the store: reading imports");
      if (!row) return row.error();
      if (!*row) break;
      imports.emplace_back(q->int64(0), q->text(1), q->text(2), q->int64(3), q->int64(4),
                           q->int64(5), q->int64(6), q->text(7));
    }
  }
  for (const auto& [id, file, file_hash, rows, stored, unchanged, rejected, started] : imports) {
    engine::sha256_stream rej;
    auto q = db.make("SELECT row, field, reason FROM rejections WHERE import_id=? ORDER BY rowid",
                     "upgrading the store: reading rejections");
    if (!q) return q.error();
    q->bind(1, id);
    for (;;) {
      auto row = q->next("upgrading the store: reading rejections");
      if (!row) return row.error();
      if (!*row) break;
      rej.update(rejection_line(q->int64(0), q->text_view(1), q->text_view(2)));
    }
    std::string d = "{";
    add_field(d, "v", details_version);
    add_field(d, "import", id);
    add_field(d, "file", file);
    add_field(d, "file_hash", file_hash);
    add_field(d, "rows", rows);
    add_field(d, "stored", stored);
    add_field(d, "unchanged", unchanged);
    add_field(d, "rejected", rejected);
    add_field(d, "started_at", started);
    add_field(d, "rejections", rej.hex());
    d += '}';
    if (auto r = detail::append_audit(db, "dalil", "import_state", std::to_string(id), d); !r) {
      return r.error();
    }
  }
  return {};
}

/// Before schema 5 a run could decide an applicant twice (a finished run "resumed" after new
/// versions): such a store is not upgraded silently; the message names the run.
status refuse_doubled_runs(database& db) {
  auto q = db.make(
      "SELECT d.run_id, count(*) FROM decision_sets d JOIN records r USING(record_id) "
      "GROUP BY d.run_id, r.applicant_id HAVING count(*) > 1 LIMIT 1",
      "upgrading the store: looking for doubled decisions");
  if (!q) return q.error();
  auto row = q->next("upgrading the store: looking for doubled decisions");
  if (!row) return row.error();
  if (!*row) return {};
  return fail(errc::refused,
              "run " + std::to_string(q->int64(0)) +
                  " decides an applicant more than once (stored by a dalil before schema 5, "
                  "which resumed complete runs after new versions): this store cannot be "
                  "upgraded as it is; export what you need with that dalil and start a new store");
}

/// Schema 16: a counter_figures entry for each month's figures that a dalil at schema 15 kept
/// (no entry vouched for them then), in the order of the months, marked "upgrade".
status vouch_kept_months(database& db, bool /*had_log*/) {
  constexpr std::string_view what = "upgrading the store: vouching for the months' figures kept";
  std::vector<std::pair<std::string, std::string>> kept;  // month, digest
  {
    auto q = db.make("SELECT month, figures FROM counter_month_figures ORDER BY month", what);
    if (!q) return q.error();
    for (;;) {
      auto row = q->next(what);
      if (!row) return row.error();
      if (!*row) break;
      kept.emplace_back(q->text(0), detail::counter_figures_digest(q->text_view(1)));
    }
  }
  for (const auto& [month, digest] : kept) {
    if (auto a = detail::append_audit(db, "dalil", "counter_figures", month,
                                      detail::counter_figures_details(month, digest, true));
        !a) {
      return a.error();
    }
  }
  return {};
}

class sqlite_store;

/// An import: one write transaction, rolled back by the guard unless `finish` commits it.
class sqlite_import final : public import_session {
 public:
  /// `key`: the master key of an encrypted store (records sealed), nullptr for a plain one.
  sqlite_import(database& db, transaction tx, std::int64_t id, std::string file,
                std::string started_at, const crypto::master_key* key, std::int64_t generation,
                import_options options)
      : db_(db),
        tx_(std::move(tx)),
        id_(id),
        file_(std::move(file)),
        started_at_(std::move(started_at)),
        key_(key),
        generation_(generation),
        options_(std::move(options)) {}
  std::int64_t id() const override { return id_; }
  result<put_result> put_record(const std::string& applicant_id, const std::string& content_hash,
                                const std::string& json) override;
  status reject(std::int64_t row, const std::string& field, const std::string& reason) override;
  status finish(const std::string& file_hash, std::int64_t rows, std::int64_t stored,
                std::int64_t unchanged, std::int64_t rejected) override;

 private:
  status prepare();
  /// The applicant's pseudonym in an encrypted store: found by the keyed hash of their id, or
  /// the next one.
  result<std::string> pseudonym(const std::string& plain_id);
  /// The applicant's data key: unwrapped, or created and stored wrapped.
  result<crypto::data_key> data_key(const std::string& who);
  database& db_;
  transaction tx_;
  std::int64_t id_;
  std::string file_;
  std::string started_at_;
  const crypto::master_key* key_;
  std::int64_t generation_;
  import_options options_;
  std::string sealed_;
  std::string last_pseudonym_;  // the largest pseudonym given (read once, then counted on)
  statement find_pseudonym_;
  statement insert_pseudonym_;
  statement find_key_;
  statement insert_key_;
  statement latest_;
  statement insert_applicant_;
  statement insert_record_;
  statement unlatest_;
  statement insert_rejection_;
  engine::sha256_stream rejections_;
};

status sqlite_import::prepare() {
  if (latest_.ok()) return {};
  constexpr std::string_view what = "importing: preparing the statements";
  auto a = db_.make(
      "SELECT record_id, version, content_hash FROM records WHERE applicant_id=? AND latest=1",
      what);
  auto b = db_.make("INSERT OR IGNORE INTO applicants VALUES(?)", what);
  auto c = db_.make(
      "INSERT INTO records(applicant_id, version, content_hash, json, import_id, sealed) "
      "VALUES(?,?,?,?,?,?)",
      what);
  auto d = db_.make("UPDATE records SET latest=0 WHERE record_id=?", what);
  auto e = db_.make("INSERT INTO rejections VALUES(?,?,?,?)", what);
  auto f = db_.make("SELECT wrapped, generation FROM data_keys WHERE applicant_id=?", what);
  auto g = db_.make("INSERT INTO data_keys VALUES(?,?,?)", what);
  auto h = db_.make("SELECT applicant_id FROM pseudonyms WHERE lookup=?", what);
  auto i = db_.make("INSERT INTO pseudonyms VALUES(?,?)", what);
  for (auto* r : {&a, &b, &c, &d, &e, &f, &g, &h, &i}) {
    if (!*r) return r->error();
  }
  find_pseudonym_ = std::move(*h);
  insert_pseudonym_ = std::move(*i);
  find_key_ = std::move(*f);
  insert_key_ = std::move(*g);
  latest_ = std::move(*a);
  insert_applicant_ = std::move(*b);
  insert_record_ = std::move(*c);
  unlatest_ = std::move(*d);
  insert_rejection_ = std::move(*e);
  return {};
}

result<crypto::data_key> sqlite_import::data_key(const std::string& who) {
  find_key_.reset();
  find_key_.bind(1, who);
  auto row = find_key_.next("importing: reading the applicant's data key");
  if (!row) return row.error();
  if (*row) {
    if (find_key_.is_null(0)) {
      find_key_.reset();
      return fail(errc::refused,
                  "importing: this applicant was erased (their data key is destroyed): a new "
                  "record for them is refused");
    }
    auto dk = crypto::unwrap(*key_, find_key_.blob_view(0), who, find_key_.int64(1));
    find_key_.reset();
    if (!dk) return fail(errc::damaged, "importing: " + dk.error().message);
    return dk;
  }
  find_key_.reset();
  crypto::data_key dk = crypto::new_data_key();
  insert_key_.reset();
  insert_key_.bind(1, who).bind_blob(2, crypto::wrap(*key_, dk, who, generation_));
  insert_key_.bind(3, generation_);
  if (auto s = insert_key_.run("importing: storing a data key"); !s) return s.error();
  return dk;
}

result<std::string> sqlite_import::pseudonym(const std::string& plain_id) {
  constexpr std::string_view what = "importing: finding the applicant's pseudonym";
  std::string lookup = crypto::lookup_hash(*key_, plain_id);
  find_pseudonym_.reset();
  find_pseudonym_.bind(1, lookup);
  auto row = find_pseudonym_.next(what);
  if (!row) return row.error();
  if (*row) {
    std::string found = find_pseudonym_.text(0);
    find_pseudonym_.reset();
    return found;
  }
  find_pseudonym_.reset();
  if (last_pseudonym_.empty()) {
    // The largest given, erased applicants' included (their pseudonym rows are deleted, their
    // data key rows kept): a count would give an erased applicant's pseudonym again.
    auto n = db_.make(
        "SELECT coalesce(max(m), '') FROM (SELECT max(applicant_id) AS m FROM pseudonyms UNION "
        "ALL SELECT max(applicant_id) FROM data_keys)",
        what);
    if (!n) return n.error();
    if (auto r = n->next(what); !r) return r.error();
    last_pseudonym_ = n->text(0);
  }
  last_pseudonym_ = crypto::next_pseudonym(last_pseudonym_);
  insert_pseudonym_.reset();
  insert_pseudonym_.bind(1, lookup).bind(2, last_pseudonym_);
  if (auto s = insert_pseudonym_.run(what); !s) return s.error();
  return last_pseudonym_;
}

result<put_result> sqlite_import::put_record(const std::string& plain_id,
                                             const std::string& content_hash,
                                             const std::string& json) {
  if (auto p = prepare(); !p) return p.error();
  std::string applicant_id = plain_id;
  if (key_ != nullptr) {
    auto p = pseudonym(plain_id);
    if (!p) return p.error();
    applicant_id = std::move(*p);
  }
  latest_.reset();
  latest_.bind(1, applicant_id);
  std::int64_t version = 0;
  std::int64_t previous = 0;
  bool same = false;
  auto row = latest_.next("importing: reading the applicant's latest record");
  if (!row) return row.error();
  if (*row) {
    previous = latest_.int64(0);
    version = latest_.int64(1);
    same = latest_.text_view(2) == content_hash;
  }
  latest_.reset();  // never leave a statement pending: it would hold the connection's snapshot
  if (same) return put_result::unchanged;
  insert_applicant_.reset();
  insert_applicant_.bind(1, applicant_id);
  if (auto s = insert_applicant_.run("importing: storing an applicant"); !s) return s.error();
  if (previous) {
    unlatest_.reset();
    unlatest_.bind(1, previous);
    if (auto s = unlatest_.run("importing: replacing a record by its new version"); !s) {
      return s.error();
    }
  }
  insert_record_.reset();
  insert_record_.bind(1, applicant_id).bind(2, version + 1).bind(3, content_hash).bind(5, id_);
  if (key_ != nullptr) {
    auto dk = data_key(applicant_id);
    if (!dk) return dk.error();
    sealing::seal_record(*dk, applicant_id, version + 1, json, sealed_);
    insert_record_.bind(4, std::string_view("")).bind_static_blob(6, sealed_);
  } else {
    insert_record_.bind(4, json).bind_null(6);
  }
  if (auto s = insert_record_.run("importing: storing a record"); !s) return s.error();
  return previous ? put_result::new_version : put_result::stored;
}

status sqlite_import::reject(std::int64_t row, const std::string& field,
                             const std::string& reason) {
  if (auto p = prepare(); !p) return p.error();
  insert_rejection_.reset();
  insert_rejection_.bind(1, id_).bind(2, row).bind(3, field).bind(4, reason);
  if (auto s = insert_rejection_.run("importing: storing a rejection"); !s) return s.error();
  rejections_.update(rejection_line(row, field, reason));
  return {};
}

status sqlite_import::finish(const std::string& file_hash, std::int64_t rows, std::int64_t stored,
                             std::int64_t unchanged, std::int64_t rejected) {
  constexpr std::string_view what = "finishing the import";
  auto q = db_.make(
      "UPDATE imports SET rows=?, stored=?, unchanged=?, rejected=?, file_hash=? WHERE "
      "import_id=?",
      what);
  if (!q) return q.error();
  q->bind(1, rows).bind(2, stored).bind(3, unchanged).bind(4, rejected).bind(5, file_hash);
  q->bind(6, id_);
  if (auto s = q->run(what); !s) return s.error();
  // The records of the import, vouched for by entries of at most rows_per_entry rows each,
  // then the import itself (its file, counts, all its records and its rejections).
  auto r = db_.make(
      "SELECT record_id, applicant_id, version, content_hash, sealed FROM records WHERE "
      "import_id=? ORDER BY record_id",
      what);
  if (!r) return r.error();
  r->bind(1, id_);
  engine::sha256_stream all;
  std::int64_t count = 0;
  std::int64_t first = 0;
  std::int64_t last = 0;
  std::optional<row_digest> chunk;
  chunk.emplace();
  auto flush = [&]() -> status {
    if (chunk->size() == 0) return {};
    std::string d = "{";
    add_field(d, "v", details_version);
    add_field(d, "import", id_);
    add_field(d, "from", first);
    add_field(d, "to", last);
    chunk->write(d);
    d += '}';
    chunk.emplace();
    if (auto a = detail::append_audit(db_, "dalil", "records", std::to_string(id_), d); !a) {
      return a.error();
    }
    return {};
  };
  for (;;) {
    auto row = r->next(what);
    if (!row) return row.error();
    if (!*row) break;
    std::int64_t id = r->int64(0);
    std::string line =
        record_line(id, r->text_view(1), r->int64(2), r->text_view(3), id_, r->blob_view(4));
    all.update(line + '\n');
    if (chunk->size() == 0) first = id;
    last = id;
    chunk->add(id, line);
    ++count;
    if (chunk->size() == rows_per_entry) {
      if (auto s = flush(); !s) return s;
    }
  }
  if (auto s = flush(); !s) return s;
  const std::string d = detail::import_details(id_, file_, started_at_, options_, file_hash,
                                               {rows, stored, count, unchanged, rejected},
                                               all.hex(), rejections_.hex());
  const std::string actor = options_.by.empty() ? std::string("dalil") : options_.by;
  if (auto a = detail::append_audit(db_, actor, "import", std::to_string(id_), d); !a) {
    return a.error();
  }
  return tx_.commit(what);
}

class sqlite_store final : public store {
 public:
  status open(const std::string& path, open_mode mode, const crypto::master_key* key) {
    if (key != nullptr) key_ = *key;
    if (auto s = open_file(path, mode); !s) return s;
    return read_keyring();
  }

  /// Whether a master key is bound to the store, and whether the one given is it.
  status read_keyring() {
    auto q = db_.make("SELECT key_check, generation, lookup_key FROM keyring WHERE id=1",
                      path_ + ": reading the keyring");
    if (!q) return q.error();
    auto row = q->next(path_ + ": reading the keyring");
    if (!row) return row.error();
    encrypted_ = *row;
    if (!encrypted_) return {};
    generation_ = q->int64(1);
    if (!key_) return {};
    return sealing::open_keyring(*key_, q->text_view(0), q->blob_view(2), generation_, path_);
  }

  /// What an operation on records needs: the master key of an encrypted store.
  status need_key(std::string_view what) const {
    return sealing::need_key(encrypted_, key_.has_value(), path_, what);
  }

  bool encrypted() const override { return encrypted_; }

  result<std::string> applicant_key(const std::string& applicant_id) override {
    if (!encrypted_) return applicant_id;
    if (auto s = need_key("finding an applicant"); !s) return s.error();
    std::string lookup = crypto::lookup_hash(*key_, applicant_id);
    auto q = db_.make("SELECT applicant_id FROM pseudonyms WHERE lookup=?", "finding an applicant");
    if (!q) return q.error();
    q->bind(1, lookup);
    auto row = q->next("finding an applicant");
    if (!row) return row.error();
    // Unknown: a key no applicant has (every read then finds nothing).
    return *row ? q->text(0) : "unknown:" + lookup;
  }

  /// Refused, with nothing changed, unless the store verifies: what vouches anew for every
  /// record or decision set (keys init --db, keys seal) would vouch for a change made behind the
  /// tool's back. `why` follows the count of problems in the message.
  status refuse_unverified(const std::string& what, std::string_view why) {
    auto checked = verify(verify_options{});
    if (!checked) return checked.error();
    return detail::refuse_unverified(what, checked->problems.size(), why);
  }

  status init_keys(const std::string& actor) override {
    std::string what = path_ + ": binding a master key to the store";
    if (!key_) return fail(errc::not_found, what + ": no master key given");
    // Encrypting in place vouches anew for every record and decision set (their sealed forms):
    // a store that does not verify first would have a change made behind the tool's back
    // vouched for. It is refused, with nothing changed.
    if (auto st = refuse_unverified(what,
                                    "; a store is encrypted only when its audit log "
                                    "vouches for all it holds");
        !st) {
      return st;
    }
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    if (auto s = read_keyring(); !s) return s;
    if (encrypted_) {
      return fail(errc::refused, path_ +
                                     " is already encrypted under this master key (key check "
                                     "value " +
                                     crypto::key_check(*key_) + ")");
    }
    auto n = db_.make("SELECT count(*) FROM records", what);
    if (!n) return n.error();
    if (auto row = n->next(what); !row) return row.error();
    const std::int64_t plain = n->int64(0);
    n->reset();
    if (plain != 0) {
      if (auto st = can_encrypt_in_place(); !st) return st;
    }
    auto q = db_.make("INSERT INTO keyring VALUES(1,?,?,1,?)", what);
    if (!q) return q.error();
    std::string at = now_utc();
    crypto::data_key lookup = crypto::new_data_key();
    q->bind(1, crypto::key_check(*key_))
        .bind_blob(2, crypto::wrap(*key_, lookup, lookup_label, 1))
        .bind(3, at);
    if (auto s = q->run(what); !s) return s;
    std::string d = "{";
    add_field(d, "v", details_version);
    add_field(d, "key_check", crypto::key_check(*key_));
    add_field(d, "generation", 1);
    add_field(d, "at", at);
    if (plain != 0) add_field(d, "in_place", plain);
    // Reviews sealed in place (encrypt_reviews_in_place): the counter's verify takes the review
    // entries before this one as superseded. Absent without reviews: the entry as it was.
    auto reviews = plain != 0 ? count_reviews(what) : result<std::int64_t>(0);
    if (!reviews) return reviews.error();
    if (*reviews != 0) add_field(d, "reviews", *reviews);
    d += '}';
    if (auto a = detail::append_audit(db_, actor, "keys_init", "keyring", d); !a) {
      return a.error();
    }
    key_->lookup = lookup;
    if (plain != 0) {
      if (auto st = encrypt_in_place(what); !st) return st;
    }
    if (auto s = tx->commit(what); !s) return s;
    encrypted_ = true;
    generation_ = 1;
    if (plain != 0) {
      // The old plain pages leave the file (VACUUM rebuilds it from the live rows) and the WAL.
      if (auto st = vacuum_on_disk(what + ": compacting the file"); !st) return st;
      (void)db_.run("PRAGMA wal_checkpoint(TRUNCATE)", what);
    }
    return {};
  }

  /// VACUUM, its copy of the store built in a temporary file rather than in memory: VACUUM
  /// builds the new file in a temporary database, which the connection's temp_store=MEMORY
  /// (store/sqlite.cpp) would hold whole in memory, as large as the store. The file is in
  /// SQLite's temporary directory (SQLITE_TMPDIR, else TMPDIR, /var/tmp, /tmp), deleted when
  /// done; it holds what the store holds afterwards (docs/operations.md).
  status vacuum_on_disk(const std::string& what) {
    if (auto st = db_.run("PRAGMA temp_store=FILE", what); !st) return st;
    auto done = db_.run("VACUUM", what);
    if (auto st = db_.run("PRAGMA temp_store=MEMORY", what); !st && done) return st;
    return done;
  }

  /// What encrypting a plain store in place does not cover yet: refused, naming it.
  status can_encrypt_in_place() {
    std::string what = path_ + ": encrypting the store in place";
    auto live = live_lease();
    if (!live) return live.error();
    if (*live) {
      return fail(errc::busy, what + ": a batch holds the store's lease (" + held_by(**live) +
                                  "); encrypt once it has finished");
    }
    struct check {
      const char* sql;
      const char* why;
    };
    for (const check& c : {
             check{"SELECT count(*) FROM applicants WHERE applicant_id GLOB 'p[0-9]*' AND "
                   "length(applicant_id) = 11",
                   " applicant id(s) of the form of a pseudonym (p and 10 digits): they would "
                   "collide with the pseudonyms; create a new store, `dalil keys init --db NEW`, "
                   "and import the cohort into it"},
         }) {
      auto q = db_.make(c.sql, what);
      if (!q) return q.error();
      if (auto row = q->next(what); !row) return row.error();
      if (q->int64(0) != 0) {
        return fail(errc::refused, what + ": it holds " + std::to_string(q->int64(0)) + c.why +
                                       "; nothing changed");
      }
    }
    return {};
  }

  using ruleset_cache = in_place::kept_rulesets;

  /// Per run, which entries of its decision sets may keep their value in plain (plain_value_mask
  /// of its ruleset's contract rules); empty for a run whose ruleset cannot be read or checked:
  /// its sets then keep only flags and null in plain (privacy first).
  result<std::map<std::int64_t, std::vector<std::uint8_t>>> run_plain_values(
      const std::string& what) {
    std::map<std::int64_t, std::vector<std::uint8_t>> out;
    std::vector<std::pair<std::int64_t, std::string>> runs;
    {
      auto q = db_.make("SELECT run_id, ruleset_hash FROM runs", what);
      if (!q) return q.error();
      for (;;) {
        auto row = q->next(what);
        if (!row) return row.error();
        if (!*row) break;
        runs.emplace_back(q->int64(0), q->text(1));
      }
    }
    ruleset_cache cache(*this);
    for (const auto& [run, hash] : runs) {
      auto mask = cache.run_mask(hash);
      if (!mask.empty()) out[run] = std::move(mask);
    }
    return out;
  }

  /// Runs `page` (a SELECT whose first column is an integer key, `WHERE key > ? … ORDER BY key
  /// LIMIT ?`) `step` rows at a time from keys above `after`: `read(page)` takes each row of a
  /// step, then, with no read open over the rows, `write()` writes what the step changes. The
  /// first error ends it.
  template <typename Read, typename Write>
  static status in_steps(statement& page, std::int64_t step, std::int64_t after,
                         const std::string& what, Read&& read, Write&& write) {
    std::int64_t last = after;  // the key of the last row read
    for (;;) {
      page.reset();
      page.bind(1, last).bind(2, step);
      bool any = false;
      for (;;) {
        auto row = page.next(what);
        if (!row) return row.error();
        if (!*row) break;
        last = page.int64(0);
        any = true;
        if (auto st = read(page); !st) return st;
      }
      page.reset();  // no read stays open over the rows this step changes
      if (!any) return {};
      if (auto st = write(); !st) return st;
    }
  }

  /// The counter's decisions of a store encrypted in place (their records are sealed with the
  /// others, their applicants renamed to the pseudonyms): their outcomes' amounts sealed as an
  /// encrypted store's counter keeps them (plain_outcomes), each vouched for again by a
  /// `counter_decision` entry (the counter's verify takes the entries before the in-place keys_init
  /// as superseded).
  status encrypt_counter_in_place(std::int64_t step, const std::string& what) {
    // The statistics' months kept as released hold the values counted then, amounts among them:
    // dropped, to be counted again from the sealed outcomes (the same decisions, their amounts
    // now one "sealed" value: a merge of cells, which tells nothing more).
    if (auto st = db_.run("DELETE FROM counter_month_figures", what); !st) return st;
    ruleset_cache rulesets(*this);
    // `step` decisions at a time in the order they were written (as the other steps of
    // encrypt_in_place: the memory held is one step's rows, whatever the store holds).
    auto page = db_.make(
        "SELECT rowid, decision_id, record_id, applicant_id, office, actor, at, as_of, "
        "ruleset_hash, input_hash, rules, outcomes, trace, answer_digest, "
        "coalesce(publication_id, 0) FROM counter_decisions WHERE rowid > ? ORDER BY rowid "
        "LIMIT ?",
        what);
    auto u = db_.make("UPDATE counter_decisions SET outcomes=? WHERE decision_id=?", what);
    for (auto* st : {&page, &u}) {
      if (!*st) return st->error();
    }
    std::vector<counter_decision> rows;
    auto read = [&](statement& q) -> status {
      counter_decision& d = rows.emplace_back();
      d.decision_id = q.text(1);
      d.record_id = q.int64(2);
      d.applicant_id = q.text(3);
      d.office = q.text(4);
      d.actor = q.text(5);
      d.at = q.text(6);
      d.as_of = q.text(7);
      d.ruleset_hash = q.text(8);
      d.input_hash = q.text(9);
      d.rules = q.text(10);
      d.outcomes = plain_outcomes(q.text_view(11), rulesets.outcome_mask(d.ruleset_hash, d.rules));
      d.trace = q.int64(12) != 0;
      d.answer_digest = q.text(13);
      d.publication_id = q.int64(14);
      return {};
    };
    auto write = [&]() -> status {
      for (const counter_decision& d : rows) {
        u->reset();
        u->bind(1, d.outcomes).bind(2, d.decision_id);
        if (auto st = u->run(what); !st) return st;
        const std::string details =
            detail::counter_decision_details(d.record_id, d.office, counter_digest(d));
        if (auto a = detail::append_audit(db_, "dalil", "counter_decision", d.decision_id, details);
            !a) {
          return a.error();
        }
      }
      rows.clear();
      return {};
    };
    return in_steps(*page, step, 0, what, read, write);
  }

  /// How many reviews the store holds.
  result<std::int64_t> count_reviews(const std::string& what) {
    auto q = db_.make("SELECT count(*) FROM reviews", what);
    if (!q) return q.error();
    if (auto row = q->next(what); !row) return row.error();
    return q->int64(0);
  }

  /// The reviews of a store encrypted in place (their decisions' applicants renamed to the
  /// pseudonyms already): each sealed under its applicant's new data key as the counter of an
  /// encrypted store seals one (in_place::seal_review) and vouched for again by a `review` entry
  /// of the sealed form (the counter's verify takes the entries before the in-place keys_init,
  /// which counts them, as superseded). Inside init_keys' transaction, `step` reviews at a time
  /// in the order they were written (as encrypt_in_place's other steps: the memory held is one
  /// step's rows, a review's observations being up to 16 KiB), each data key unwrapped from the
  /// row seal_records_in_place wrote.
  status encrypt_reviews_in_place(std::int64_t step, const std::string& what) {
    auto page = db_.make(
        "SELECT v.rowid, v.review_id, v.decision_id, v.seq, coalesce(v.supersedes, ''), v.at, "
        "v.user, v.decisions, v.observations, c.applicant_id, k.wrapped FROM reviews v JOIN "
        "counter_decisions c USING(decision_id) LEFT JOIN data_keys k ON k.applicant_id = "
        "c.applicant_id WHERE v.rowid > ? ORDER BY v.rowid LIMIT ?",
        what);
    auto u = db_.make("UPDATE reviews SET decisions=?, observations='', sealed=? WHERE review_id=?",
                      what);
    for (auto* st : {&page, &u}) {
      if (!*st) return st->error();
    }
    struct sealed_review {
      review r;
      std::string sealed;
      std::string details;
    };
    std::vector<sealed_review> rows;
    auto read = [&](statement& q) -> status {
      sealed_review& s = rows.emplace_back();
      s.r = review_from_row(q, 1);
      review& r = s.r;
      const std::string applicant = q.text(9);
      if (q.is_null(10)) return fail(errc::damaged, what + ": a review of no applicant");
      auto dk = crypto::unwrap(*key_, q.blob_view(10), applicant, 1);
      if (!dk) {
        return fail(dk.error().code, what + ": review " + r.review_id + ": " + dk.error().message);
      }
      if (!in_place::seal_review(*dk, applicant, r, s.sealed, s.details)) {
        return fail(errc::damaged,
                    what + ": review " + r.review_id + " holds decisions that are not a review's");
      }
      return {};
    };
    auto write = [&]() -> status {
      for (const sealed_review& s : rows) {
        if (auto st = put_sealed_review(*u, s.r, s.sealed, s.details, what); !st) return st;
      }
      rows.clear();
      return {};
    };
    return in_steps(*page, step, 0, what, read, write);
  }

  /// A review sealed in place (in_place::seal_review) written back through `u` (the UPDATE of
  /// its decisions, observations and sealed part) and vouched for again by its `review` entry
  /// `details`: keys init in place and keys seal.
  status put_sealed_review(statement& u, const review& r, std::string_view sealed,
                           const std::string& details, const std::string& what) {
    u.reset();
    u.bind(1, r.decisions).bind_static_blob(2, sealed).bind(3, r.review_id);
    if (auto st = u.run(what); !st) return st;
    if (auto a = detail::append_audit(db_, "dalil", "review", r.decision_id, details); !a) {
      return a.error();
    }
    return {};
  }

  /// Seals every record of a plain store and renames its applicants to pseudonyms (in order of
  /// their first record: the batch's indexes keep their locality), seals the decision sets'
  /// stored traces and values, then vouches for the records and decision sets again, row by row
  /// (the keys_init entry just appended, with "in_place", tells verify that these entries
  /// supersede the earlier ones). Inside init_keys' transaction, a step at a time
  /// (in_place_steps), so that the memory it holds is one step's rows whatever the store holds:
  /// SQLite's page cache is bounded by cache_size (the pages changed beyond it spill into the
  /// WAL, which grows on disk with the transaction), and no statement sorts or collects the
  /// records, counter decisions or decision sets in temp storage (which is in memory:
  /// temp_store=MEMORY); only the applicants' index's recent part, a few thousand short rows
  /// that the server had not merged yet, is sorted once, to be merged (merge_counter_index).
  status encrypt_in_place(const std::string& what) {
    if (auto st = db_.run("PRAGMA secure_delete=ON", what); !st) return st;
    const auto [records_step, sets_step] = in_place_steps();
    if (auto st = seal_records_in_place(records_step, what); !st) return st;
    if (auto st = encrypt_counter_in_place(sets_step, what); !st) return st;
    if (auto st = encrypt_reviews_in_place(sets_step, what); !st) return st;
    if (auto st = seal_sets_in_place(sets_step, what); !st) return st;
    return revouch(what);
  }

  /// encrypt_in_place's records: each applicant, in the order of their first record, given the
  /// next pseudonym and a fresh data key (wrapped at generation 1), every version of their
  /// records sealed under it and renamed, their counter decisions renamed and their plain id's
  /// applicant row removed. The records are read `step` ids at a time in record order; an
  /// applicant is first met at a record whose id is not yet a pseudonym (no plain id has that
  /// form: can_encrypt_in_place refused such a store), so the applicants are taken in the order
  /// their first records come, and every later version of theirs is renamed already when a
  /// later step reads it.
  status seal_records_in_place(std::int64_t step, const std::string& what) {
    auto page = db_.make(
        "SELECT record_id, applicant_id, applicant_id GLOB 'p[0-9]*' AND length(applicant_id) = "
        "11 FROM records WHERE record_id > ? ORDER BY record_id LIMIT ?",
        what);
    auto ins_applicant = db_.make("INSERT INTO applicants VALUES(?)", what);
    auto ins_pseudonym = db_.make("INSERT INTO pseudonyms VALUES(?,?)", what);
    auto ins_key = db_.make("INSERT INTO data_keys VALUES(?,?,1)", what);
    auto read = db_.make("SELECT record_id, version, json FROM records WHERE applicant_id=?", what);
    auto seal =
        db_.make("UPDATE records SET applicant_id=?, json='', sealed=? WHERE record_id=?", what);
    auto del = db_.make("DELETE FROM applicants WHERE applicant_id=?", what);
    // The counter's decisions name their applicant (a foreign key): renamed before it goes,
    // and in the applicants' index, whose recent part is merged first (migration 13): an
    // applicant's rows are then all in counter_applicants, found by its key.
    if (auto st = merge_counter_index(db_, what); !st) return st;
    auto counter = db_.make(
        "UPDATE counter_decisions SET applicant_id=?1 WHERE decision_id IN (SELECT decision_id "
        "FROM counter_applicants WHERE applicant_id=?2)",
        what);
    auto counter_index =
        db_.make("UPDATE counter_applicants SET applicant_id=?1 WHERE applicant_id=?2", what);
    for (auto* st : {&page, &ins_applicant, &ins_pseudonym, &ins_key, &read, &seal, &del, &counter,
                     &counter_index}) {
      if (!*st) return st->error();
    }
    std::int64_t n = 0;                  // pseudonyms given
    std::vector<std::string> first_met;  // this step's new applicants, in order
    std::set<std::string, std::less<>> met;
    std::vector<std::tuple<std::int64_t, std::int64_t, std::string>> rows;  // one applicant's
    std::string sealed;
    auto take = [&](statement& q) -> status {
      if (q.int64(2) != 0) return {};  // renamed: its applicant was met in an earlier step
      std::string id = q.text(1);
      if (met.insert(id).second) first_met.push_back(std::move(id));
      return {};
    };
    auto write = [&]() -> status {
      for (const std::string& id : first_met) {
        const std::string pseudonym = in_place::pseudonym(++n);
        ins_applicant->reset();
        ins_applicant->bind(1, pseudonym);
        if (auto st = ins_applicant->run(what); !st) return st;
        ins_pseudonym->reset();
        ins_pseudonym->bind(1, crypto::lookup_hash(*key_, id)).bind(2, pseudonym);
        if (auto st = ins_pseudonym->run(what); !st) return st;
        const crypto::data_key dk = crypto::new_data_key();
        ins_key->reset();
        ins_key->bind(1, pseudonym).bind_blob(2, crypto::wrap(*key_, dk, pseudonym, 1));
        if (auto st = ins_key->run(what); !st) return st;
        rows.clear();
        read->reset();
        read->bind(1, id);
        for (;;) {
          auto row = read->next(what);
          if (!row) return row.error();
          if (!*row) break;
          rows.emplace_back(read->int64(0), read->int64(1), read->text(2));
        }
        read->reset();
        for (auto& [record, version, json] : rows) {
          crypto::seal(dk, json, record_ad(pseudonym, version), sealed);
          seal->reset();
          seal->bind(1, pseudonym).bind_static_blob(2, sealed).bind(3, record);
          if (auto st = seal->run(what); !st) return st;
        }
        for (auto* st : {&counter, &counter_index}) {
          (*st)->reset();
          (*st)->bind(1, pseudonym).bind(2, id);
          if (auto ran = (*st)->run(what); !ran) return ran;
        }
        del->reset();
        del->bind(1, id);
        if (auto st = del->run(what); !st) return st;
      }
      first_met.clear();
      met.clear();
      return {};
    };
    // From the lowest key on (a record id is never below it).
    return in_steps(*page, step, std::numeric_limits<std::int64_t>::min(), what, take, write);
  }

  /// encrypt_in_place's decision sets, once their records are renamed: each renamed to its
  /// record's pseudonym, and its stored trace and the values its run's types do not keep in plain
  /// (run_plain_values) sealed under that applicant's data key as a batch on an encrypted store
  /// seals them (in_place::seal_set, as PostgreSQL's). Read in primary-key order `step` at a
  /// time, or fewer once their sealed forms reach in_place_set_bytes, each set's data key
  /// unwrapped from the row just written; written back once the read is reset.
  status seal_sets_in_place(std::int64_t step, const std::string& what) {
    auto masks = run_plain_values(what);
    if (!masks) return masks.error();
    auto page = db_.make(
        "SELECT d.run_id, d.record_id, r.applicant_id, k.wrapped, coalesce(d.trace, ''), "
        "d.decisions FROM decision_sets d LEFT JOIN records r ON r.record_id = d.record_id LEFT "
        "JOIN data_keys k ON k.applicant_id = r.applicant_id WHERE (d.run_id, d.record_id) > (?, "
        "?) ORDER BY d.run_id, d.record_id LIMIT ?",
        what);
    // A set with nothing to seal (no trace, every value kept in plain) is renamed only.
    auto rename =
        db_.make("UPDATE decision_sets SET applicant_id=? WHERE run_id=? AND record_id=?", what);
    auto write = db_.make(
        "UPDATE decision_sets SET applicant_id=?, trace=coalesce(?, trace), "
        "decisions=coalesce(?, decisions), sealed_decisions=? WHERE run_id=? AND record_id=?",
        what);
    for (auto* st : {&page, &rename, &write}) {
      if (!*st) return st->error();
    }
    struct resealed {
      std::int64_t run = 0;
      std::int64_t record = 0;
      std::string applicant;
      bool sealed = false;       // false: renamed only
      in_place::sealed_set set;  // trace "": none; decisions "": unchanged
    };
    std::vector<resealed> sets;
    std::int64_t run = std::numeric_limits<std::int64_t>::min();  // the last set read
    std::int64_t record = std::numeric_limits<std::int64_t>::min();
    for (bool end = false; !end;) {
      sets.clear();
      std::size_t bytes = 0;
      page->reset();
      page->bind(1, run).bind(2, record).bind(3, step);
      end = true;
      for (;;) {
        auto row = page->next(what);
        if (!row) return row.error();
        if (!*row) break;
        resealed& s = sets.emplace_back();
        s.run = page->int64(0);
        s.record = page->int64(1);
        if (page->is_null(2) || page->is_null(3)) {
          return fail(errc::damaged, what + ": decision set " + std::to_string(s.run) + ":" +
                                         std::to_string(s.record) + " is of no applicant");
        }
        s.applicant = page->text(2);
        auto dk = crypto::unwrap(*key_, page->blob_view(3), s.applicant, 1);
        if (!dk) {
          return fail(dk.error().code, what + ": decision set " + std::to_string(s.run) + ":" +
                                           std::to_string(s.record) + ": " + dk.error().message);
        }
        auto mask = masks->find(s.run);
        s.sealed = in_place::seal_set(
            *dk, s.applicant, s.run, s.record, page->text_view(4), page->text_view(5),
            mask == masks->end() ? std::span<const std::uint8_t>() : mask->second, s.set);
        bytes += s.set.trace.size() + s.set.decisions.size() + s.set.sealed_decisions.size();
        if (static_cast<std::int64_t>(sets.size()) >= step || bytes >= in_place_set_bytes) {
          end = false;  // a step's worth: the next step reads on from here
          break;
        }
      }
      page->reset();  // no read stays open over the rows this step changes
      if (sets.empty()) break;
      run = sets.back().run;
      record = sets.back().record;
      for (const resealed& s : sets) {
        if (!s.sealed) {
          rename->reset();
          rename->bind(1, s.applicant).bind(2, s.run).bind(3, s.record);
          if (auto st = rename->run(what); !st) return st;
          continue;
        }
        write->reset();
        write->bind(1, s.applicant);
        if (s.set.trace.empty()) {
          write->bind_null(2);
        } else {
          write->bind_static(2, s.set.trace);
        }
        if (s.set.decisions.empty()) {
          write->bind_null(3);
          write->bind_null(4);
        } else {
          write->bind_static(3, s.set.decisions);
          write->bind_static_blob(4, s.set.sealed_decisions);
        }
        write->bind(5, s.run).bind(6, s.record);
        if (auto st = write->run(what); !st) return st;
      }
    }
    return {};
  }

  /// The entries that vouch again for every record (per import; unless `records` is false) and
  /// every decision set (per run), rows_per_entry rows each, in the form import and batch write
  /// them.
  status revouch(const std::string& what, bool records = true) {
    auto chunks = [&](const char* sql, bool of_records,
                      const std::function<void(statement&, std::string&)>& line_of) -> status {
      auto q = db_.make(sql, what);
      if (!q) return q.error();
      detail::revouch_chunks entries(
          of_records, [&](const char* action, std::int64_t owner, const std::string& d) -> status {
            if (auto a = detail::append_audit(db_, "dalil", action, std::to_string(owner), d); !a) {
              return a.error();
            }
            return {};
          });
      std::string line;
      for (;;) {
        auto row = q->next(what);
        if (!row) return row.error();
        if (!*row) break;
        line_of(*q, line);
        if (auto st = entries.add(q->int64(0), q->int64(1), line); !st) return st;
      }
      return entries.flush();
    };
    if (records) {
      if (auto st = chunks(
              "SELECT import_id, record_id, applicant_id, version, content_hash, sealed FROM "
              "records ORDER BY import_id, record_id",
              true,
              [](statement& q, std::string& line) {
                line = record_line(q.int64(1), q.text_view(2), q.int64(3), q.text_view(4),
                                   q.int64(0), q.blob_view(5));
              });
          !st) {
        return st;
      }
    }
    return chunks(
        "SELECT run_id, record_id, applicant_id, input_hash, decisions, trace_digest, format, "
        "coalesce(trace, ''), coalesce(trace_erased, ''), coalesce(sealed_decisions, '') FROM "
        "decision_sets ORDER BY run_id, record_id",
        false, [](statement& q, std::string& line) {
          decision_line(line, q.int64(1), q.text_view(2), q.digest(3),
                        engine::sha256(q.text_view(4)), q.digest(5), q.int64(6), q.text_view(7),
                        q.text_view(8), q.blob_view(9));
        });
  }

  /// Opens the record of an encrypted store in place (`json` then holds the plaintext).
  status open_sealed(stored_record& r, std::string_view sealed, std::string_view wrapped,
                     bool erased, std::int64_t generation) const {
    return sealing::open_record(*key_, r, sealed, wrapped, erased, generation);
  }

  result<std::int64_t> erase_applicant(const std::string& applicant_id, const std::string& reason,
                                       const std::string& by) override {
    std::string what = path_ + ": erasing an applicant";
    if (!encrypted_) {
      return fail(errc::refused, path_ +
                                     " is not encrypted: erasure destroys an applicant's data "
                                     "key, which a plain store does not have");
    }
    if (reason.empty() || by.empty()) {
      return fail(errc::refused, what + ": an erasure needs a reason and who asked for it");
    }
    auto who = applicant_key(applicant_id);
    if (!who) return who.error();
    // The destroyed key's bytes are overwritten in their page, not left in free space.
    if (auto st = db_.run("PRAGMA secure_delete=ON", what); !st) return st.error();
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    auto records = erase_in(*who, reason, by, what);
    if (!records) return records.error();
    if (auto st = tx->commit(what); !st) return st.error();
    // The WAL still holds the pages as they were: copied into the file (which has the key
    // overwritten) and truncated now, unless another connection reads (then at a later
    // checkpoint: docs/operations.md).
    (void)db_.run("PRAGMA wal_checkpoint(TRUNCATE)", what);
    return records;
  }

  /// Destroys the data key of `who` (the store's id) and unlinks their pseudonym, with an erase
  /// entry, inside the caller's transaction; the number of their records.
  result<std::int64_t> erase_in(const std::string& who, const std::string& reason,
                                const std::string& by, const std::string& what) {
    auto k = db_.make(
        "UPDATE data_keys SET wrapped=NULL WHERE applicant_id=? AND wrapped IS NOT "
        "NULL",
        what);
    if (!k) return k.error();
    k->bind(1, who);
    if (auto st = k->run(what); !st) return st.error();
    if (sqlite3_changes(db_.handle()) != 1) {
      return fail(errc::not_found, what +
                                       ": the store knows no such applicant (or they were "
                                       "erased already)");
    }
    auto p = db_.make("DELETE FROM pseudonyms WHERE applicant_id=?", what);
    if (!p) return p.error();
    p->bind(1, who);
    if (auto st = p->run(what); !st) return st.error();
    auto n = db_.make("SELECT count(*) FROM records WHERE applicant_id=?", what);
    if (!n) return n.error();
    n->bind(1, who);
    if (auto row = n->next(what); !row) return row.error();
    std::int64_t records = n->int64(0);
    const std::string d = detail::erase_details(reason, by, records, now_utc());
    if (auto a = detail::append_audit(db_, by, "erase", who, d); !a) return a.error();
    return records;
  }

  // Corrections and versions (schema 9).
  result<std::vector<record_version>> versions(const std::string& applicant_id) override {
    std::string what = "listing the applicant's record versions";
    auto who = applicant_key(applicant_id);
    if (!who) return who.error();
    auto q = db_.make(
        "SELECT r.record_id, r.version, r.latest, r.import_id, i.started_at, "
        "coalesce(i.received, ''), coalesce(i.reason, ''), coalesce(i.corrected_by, '') FROM "
        "records r JOIN imports i ON i.import_id = r.import_id WHERE r.applicant_id=? ORDER BY "
        "r.version",
        what);
    if (!q) return q.error();
    q->bind(1, *who);
    std::vector<record_version> out;
    for (;;) {
      auto row = q->next(what);
      if (!row) return row.error();
      if (!*row) break;
      out.push_back({q->int64(0), q->int64(1), q->int64(2) != 0, q->int64(3), q->text(4),
                     q->text(5), q->text(6), q->text(7)});
    }
    if (out.empty()) return fail(errc::not_found, what + ": the store has no such applicant");
    return out;
  }

  // Retention (schema 9).
  result<std::vector<retention_period>> retention_periods() override {
    std::string what = path_ + ": reading the retention periods";
    auto q = db_.make("SELECT kind, days, set_by, set_at FROM retention ORDER BY kind", what);
    if (!q) return q.error();
    std::vector<retention_period> out;
    for (;;) {
      auto row = q->next(what);
      if (!row) return row.error();
      if (!*row) break;
      out.push_back({q->text(0), q->int64(1), q->text(2), q->text(3)});
    }
    return out;
  }

  status set_retention(const std::string& kind, std::int64_t days, const std::string& by) override {
    std::string what = path_ + ": setting the retention period of " + kind;
    if (auto why = detail::retention_period_refusal(kind, days, by); !why.empty()) {
      return fail(errc::refused, what + ": " + why);
    }
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    auto old = db_.make("SELECT days FROM retention WHERE kind=?", what);
    if (!old) return old.error();
    old->bind(1, kind);
    auto row = old->next(what);
    if (!row) return row.error();
    if (!*row) return fail(errc::damaged, what + ": the retention table has no row for it");
    std::int64_t from = old->int64(0);
    old->reset();
    std::string at = now_utc();
    auto u = db_.make("UPDATE retention SET days=?, set_by=?, set_at=? WHERE kind=?", what);
    if (!u) return u.error();
    u->bind(1, days).bind(2, by).bind(3, at).bind(4, kind);
    if (auto st = u->run(what); !st) return st;
    const std::string d = detail::retention_set_details(kind, days, from, by, at);
    if (auto a = detail::append_audit(db_, by, "retention_set", kind, d); !a) return a.error();
    return tx->commit(what);
  }

  result<retention_due> due_for_erasure(const std::string& as_of) override { return due_on(as_of); }

  /// What is due on `as_of` (inside the caller's transaction when there is one).
  result<retention_due> due_on(const std::string& as_of) {
    std::string what = path_ + ": finding what is due for erasure on " + as_of;
    retention_due due;
    due.as_of = as_of;
    auto periods = retention_periods();
    if (!periods) return periods.error();
    due.periods = std::move(*periods);
    const auto [records_days, traces_days] = detail::retention_days(due.periods);
    // An applicant is due when the latest version of their record was received (or imported)
    // on or before as_of minus the period; erased applicants are never listed again.
    auto q = db_.make(
        "SELECT r.applicant_id, (SELECT count(*) FROM records x WHERE x.applicant_id = "
        "r.applicant_id) FROM records r JOIN imports i ON i.import_id = r.import_id LEFT JOIN "
        "data_keys k ON k.applicant_id = r.applicant_id WHERE r.latest = 1 AND (r.sealed IS NULL "
        "OR k.wrapped IS NOT NULL) AND coalesce(i.received, substr(i.started_at, 1, 10)) <= "
        "date(?1, '-' || ?2 || ' days') ORDER BY r.record_id",
        what);
    if (!q) return q.error();
    q->bind(1, as_of).bind(2, records_days);
    for (;;) {
      auto row = q->next(what);
      if (!row) return row.error();
      if (!*row) break;
      due.applicants.push_back(q->text(0));
      due.records += q->int64(1);
    }
    // A stored trace is due when its (complete) run started on or before as_of minus the period.
    auto t = db_.make(
        "SELECT d.run_id, count(*) FROM decision_sets d JOIN runs u ON u.run_id = d.run_id WHERE "
        "d.trace IS NOT NULL AND u.status = 'complete' AND substr(u.started_at, 1, 10) <= "
        "date(?1, '-' || ?2 || ' days') GROUP BY d.run_id ORDER BY d.run_id",
        what);
    if (!t) return t.error();
    t->bind(1, as_of).bind(2, traces_days);
    for (;;) {
      auto row = t->next(what);
      if (!row) return row.error();
      if (!*row) break;
      due.trace_runs.push_back(t->int64(0));
      due.traces += t->int64(1);
    }
    return due;
  }

  result<retention_applied> apply_retention(const std::string& by,
                                            const std::string& only) override {
    std::string what = path_ + ": erasing what retention says is due";
    if (by.empty()) return fail(errc::refused, what + ": say who applies it (--by)");
    if (!only.empty() && only != "records" && only != "traces") {
      return fail(errc::refused, what + ": no such kind of data '" + only + "' (records, traces)");
    }
    if (auto st = db_.run("PRAGMA secure_delete=ON", what); !st) return st.error();
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    std::string today = now_utc().substr(0, 10);
    auto due = due_on(today);
    if (!due) return due.error();
    if (only == "traces") due->applicants.clear();
    if (only == "records") due->trace_runs.clear();
    retention_applied done;
    if (!due->applicants.empty()) {
      if (!encrypted_) {
        return fail(errc::refused,
                    path_ + ": " + std::to_string(due->applicants.size()) +
                        " applicant(s) are due for erasure, but the store is not encrypted: "
                        "erasure destroys an applicant's data key, which a plain store does not "
                        "have. Encrypt it first (`dalil keys init --db " +
                        path_ +
                        " --key-file FILE`, which seals the records in place); nothing "
                        "was erased");
      }
      if (auto st = need_key("erasing the applicants due"); !st) return st.error();
    }
    const auto [records_days, traces_days] = detail::retention_days(due->periods);
    std::string reason = "retention: records kept " + std::to_string(records_days) +
                         " days after they were received (Law 09-08 art. 3), due on " + today;
    for (const auto& who : due->applicants) {
      auto n = erase_in(who, reason, by, what);
      if (!n) return n.error();
      ++done.applicants;
      done.records += *n;
    }
    if (!due->trace_runs.empty()) {
      // Each trace goes; its hash stays (trace_erased) for the chain's line of its set.
      auto q = db_.make(
          "SELECT record_id, trace FROM decision_sets WHERE run_id=? AND trace IS NOT NULL", what);
      auto u = db_.make(
          "UPDATE decision_sets SET trace=NULL, trace_erased=? WHERE run_id=? AND record_id=?",
          what);
      if (!q) return q.error();
      if (!u) return u.error();
      for (std::int64_t run : due->trace_runs) {
        std::vector<std::pair<std::int64_t, std::string>> hashes;
        q->reset();
        q->bind(1, run);
        for (;;) {
          auto row = q->next(what);
          if (!row) return row.error();
          if (!*row) break;
          hashes.emplace_back(q->int64(0), engine::sha256_hex(q->text_view(1)));
        }
        q->reset();
        for (const auto& [record, hash] : hashes) {
          u->reset();
          u->bind(1, hash).bind(2, run).bind(3, record);
          if (auto st = u->run(what); !st) return st.error();
          ++done.traces;
        }
      }
    }
    const std::string d = detail::retention_details(today, by, only, records_days, traces_days,
                                                    done, due->trace_runs);
    if (auto a = detail::append_audit(db_, by, "retention", today, d); !a) return a.error();
    if (auto st = tx->commit(what); !st) return st.error();
    (void)db_.run("PRAGMA wal_checkpoint(TRUNCATE)", what);
    return done;
  }

  result<std::int64_t> rotate_key(const crypto::master_key& next,
                                  const std::string& actor) override {
    std::string what = path_ + ": rotating the master key";
    if (!encrypted_) return fail(errc::refused, path_ + " is not encrypted: no key to rotate");
    if (auto st = need_key("rotating the master key"); !st) return st.error();
    std::string from = crypto::key_check(*key_);
    std::string to = crypto::key_check(next);
    if (from == to) return fail(errc::refused, what + ": the new key is the current one");
    // The old wrapped keys' bytes are overwritten in their pages, not left in free space.
    if (auto st = db_.run("PRAGMA secure_delete=ON", what); !st) return st.error();
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    if (auto st = read_keyring(); !st) return st.error();  // the generation, under the lock
    std::int64_t generation = generation_ + 1;
    std::vector<std::pair<std::string, std::string>> rewrapped;
    {
      auto q = db_.make(
          "SELECT applicant_id, wrapped, generation FROM data_keys WHERE wrapped IS "
          "NOT NULL ORDER BY applicant_id",
          what);
      if (!q) return q.error();
      for (;;) {
        auto row = q->next(what);
        if (!row) return row.error();
        if (!*row) break;
        std::string who = q->text(0);
        auto dk = crypto::unwrap(*key_, q->blob_view(1), who, q->int64(2));
        if (!dk) {
          std::string m = what;
          m += ": the data key of applicant ";
          m += who;
          m += " does not open (run dalil audit verify); nothing was rotated";
          return fail(errc::damaged, std::move(m));
        }
        rewrapped.emplace_back(who, crypto::wrap(next, *dk, who, generation));
      }
    }
    auto u = db_.make("UPDATE data_keys SET wrapped=?, generation=? WHERE applicant_id=?", what);
    if (!u) return u.error();
    for (const auto& [who, wrapped] : rewrapped) {
      u->reset();
      u->bind_blob(1, wrapped).bind(2, generation).bind(3, who);
      if (auto st = u->run(what); !st) return st.error();
    }
    crypto::master_key moved = next;
    moved.lookup = key_->lookup;  // the ids keep their hashes
    auto k =
        db_.make("UPDATE keyring SET key_check=?, generation=?, lookup_key=? WHERE id=1", what);
    if (!k) return k.error();
    k->bind(1, to).bind(2, generation);
    crypto::data_key lookup;  // not an AEAD key: wrapped in the preferred format
    static_cast<crypto::secret_key&>(lookup) = key_->lookup;
    lookup.alg = crypto::preferred_cipher();
    k->bind_blob(3, crypto::wrap(moved, lookup, lookup_label, generation));
    if (auto st = k->run(what); !st) return st.error();
    const std::string d = detail::keys_rotate_details(
        from, to, generation, static_cast<std::int64_t>(rewrapped.size()), now_utc());
    if (auto a = detail::append_audit(db_, actor, "keys_rotate", "keyring", d); !a) {
      return a.error();
    }
    if (auto st = tx->commit(what); !st) return st.error();
    key_ = moved;
    generation_ = generation;
    (void)db_.run("PRAGMA wal_checkpoint(TRUNCATE)", what);
    return static_cast<std::int64_t>(rewrapped.size());
  }

  result<std::int64_t> seal_in_place(const std::string& actor) override {
    std::string what = path_ + ": sealing decision sets in place";
    if (!encrypted_) {
      return fail(errc::refused, path_ +
                                     " is not encrypted: nothing to seal (dalil keys init --db "
                                     "encrypts a plain store)");
    }
    if (auto st = need_key("sealing decision sets"); !st) return st.error();
    auto live = live_lease();
    if (!live) return live.error();
    if (*live) {
      return fail(errc::busy, what + ": a batch holds the store's lease (" + held_by(**live) +
                                  "); seal once it has finished");
    }
    // As keys init --db: vouching anew for every decision set needs a store that verifies.
    if (auto st = refuse_unverified(what, ""); !st) return st.error();
    // The plain values' bytes are overwritten in their pages, not left in free space.
    if (auto st = db_.run("PRAGMA secure_delete=ON", what); !st) return st.error();
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    if (auto st = read_keyring(); !st) return st.error();
    auto masks = run_plain_values(what);
    if (!masks) return masks.error();
    struct resealed {
      std::int64_t run = 0;
      std::int64_t record = 0;
      std::string decisions;
      std::string sealed;  // "": the applicant was erased (the values are dropped)
    };
    std::vector<resealed> sets;
    std::int64_t dropped = 0;
    {
      auto q = db_.make(
          "SELECT d.run_id, d.record_id, d.applicant_id, d.decisions, "
          "coalesce(d.sealed_decisions, x''), k.applicant_id IS NOT NULL, coalesce(k.wrapped, "
          "x''), coalesce(k.generation, 0) FROM decision_sets d LEFT JOIN data_keys k ON "
          "k.applicant_id = d.applicant_id ORDER BY d.run_id, d.record_id",
          what);
      if (!q) return q.error();
      for (;;) {
        auto row = q->next(what);
        if (!row) return row.error();
        if (!*row) break;
        resealed r{q->int64(0), q->int64(1), {}, {}};
        std::string applicant = q->text(2);
        bool has_key = q->int64(5) != 0;
        std::string_view wrapped = q->blob_view(6);
        // Where and why: the set by run and record, never a value.
        auto damaged = [&](std::string_view why) {
          std::string m = what;
          m += ": decision set ";
          m += std::to_string(r.run);
          m += ':';
          m += std::to_string(r.record);
          m += why;
          return fail(errc::damaged, std::move(m));
        };
        auto mask = masks->find(r.run);
        std::span<const std::uint8_t> types;
        if (mask != masks->end()) types = mask->second;
        if (!has_key) return damaged(": its applicant has no data key");
        std::optional<crypto::data_key> dk;
        if (!wrapped.empty()) {
          auto unwrapped = crypto::unwrap(*key_, wrapped, applicant, q->int64(7));
          if (!unwrapped) return damaged(": its data key does not open with the master key");
          dk = *unwrapped;
        }
        switch (in_place::seal_again(dk ? &*dk : nullptr, applicant, r.run, r.record,
                                     q->text_view(3), q->blob_view(4), types, r.decisions,
                                     r.sealed)) {
          case in_place::sealed_again::damaged:
            return damaged(": its sealed decisions do not open with the master key");
          case in_place::sealed_again::dropped:
            ++dropped;
            sets.push_back(std::move(r));
            break;
          case in_place::sealed_again::sealed:
            sets.push_back(std::move(r));
            break;
          case in_place::sealed_again::unchanged:
            break;
        }
      }
    }
    // The counter's decisions whose outcomes an older dalil kept by their shape (a text such as
    // "ng" in plain): retyped by their rules' declared types, as the counter stores them now.
    auto counter = counter_to_retype(what);
    if (!counter) return counter.error();
    auto reviews = count_plain_reviews(what);
    if (!reviews) return reviews.error();
    if (sets.empty() && *counter == 0 && *reviews == 0) {
      return 0;  // nothing written: the transaction rolls back
    }
    auto u = db_.make(
        "UPDATE decision_sets SET decisions=?, sealed_decisions=? WHERE run_id=? AND record_id=?",
        what);
    if (!u) return u.error();
    for (const auto& r : sets) {
      u->reset();
      u->bind(1, r.decisions);
      if (r.sealed.empty()) {
        u->bind_null(2);
      } else {
        u->bind_blob(2, r.sealed);
      }
      u->bind(3, r.run).bind(4, r.record);
      if (auto st = u->run(what); !st) return st.error();
    }
    const std::string d = detail::keys_seal_details(static_cast<std::int64_t>(sets.size()), dropped,
                                                    *counter, now_utc(), *reviews);
    if (auto a = detail::append_audit(db_, actor, "keys_seal", "decision_sets", d); !a) {
      return a.error();
    }
    if (!sets.empty()) {
      if (auto st = revouch(what, false); !st) return st.error();
    }
    // Every counter decision retyped and vouched for again (as keys init --db does in place).
    if (*counter != 0) {
      if (auto st = encrypt_counter_in_place(in_place_steps().second, what); !st) {
        return st.error();
      }
    }
    if (*reviews != 0) {
      if (auto st = seal_plain_reviews(what); !st) return st.error();
    }
    if (auto st = tx->commit(what); !st) return st.error();
    // The old plain pages leave the file (VACUUM rebuilds it from the live rows) and the WAL.
    if (auto st = vacuum_on_disk(what + ": compacting the file"); !st) return st.error();
    (void)db_.run("PRAGMA wal_checkpoint(TRUNCATE)", what);
    return static_cast<std::int64_t>(sets.size()) + *counter + *reviews;
  }

  /// How many reviews an encrypted store keeps in plain (written by a dalil before reviews were
  /// sealed).
  result<std::int64_t> count_plain_reviews(const std::string& what) {
    auto q = db_.make("SELECT count(*) FROM reviews WHERE sealed IS NULL", what);
    if (!q) return q.error();
    if (auto row = q->next(what); !row) return row.error();
    return q->int64(0);
  }

  /// keys seal's step for the reviews an older dalil kept in plain on this encrypted store: each,
  /// checked against the entry that vouches for it, sealed as the counter seals one now
  /// (in_place::seal_review) under its applicant's data key, and vouched for again by a review
  /// entry naming the one it replaces (after the keys_seal entry, inside seal_in_place's
  /// transaction). An erased applicant's review is sealed under a key nobody keeps: its text is
  /// gone for good, and it reads as erased.
  status seal_plain_reviews(const std::string& what) {
    struct plain_review {
      review r;
      std::string applicant;
      bool has_key = false;
      std::string wrapped;  // "": erased
      std::int64_t generation = 0;
      std::int64_t vouched_by = 0;
    };
    std::vector<plain_review> rows;
    {
      auto q = db_.make(
          "SELECT v.review_id, v.decision_id, v.seq, coalesce(v.supersedes, ''), v.at, v.user, "
          "v.decisions, v.observations, c.applicant_id, k.applicant_id IS NOT NULL, "
          "coalesce(k.wrapped, x''), coalesce(k.generation, 0), (SELECT max(a.seq) FROM audit a "
          "WHERE a.action='review' AND a.subject=v.decision_id AND a.details LIKE "
          "'{\"review\":\"' || v.review_id || '\"%') FROM reviews v JOIN counter_decisions c "
          "USING(decision_id) LEFT JOIN data_keys k ON k.applicant_id = c.applicant_id WHERE "
          "v.sealed IS NULL ORDER BY v.rowid",
          what);
      if (!q) return q.error();
      for (;;) {
        auto row = q->next(what);
        if (!row) return row.error();
        if (!*row) break;
        plain_review p;
        p.r = review_from_row(*q);
        p.applicant = q->text(8);
        p.has_key = q->int64(9) != 0;
        p.wrapped = std::string(q->blob_view(10));
        p.generation = q->int64(11);
        p.vouched_by = q->is_null(12) ? 0 : q->int64(12);
        rows.push_back(std::move(p));
      }
    }
    auto entry = db_.make("SELECT details FROM audit WHERE seq=?", what);
    auto u = db_.make("UPDATE reviews SET decisions=?, observations='', sealed=? WHERE review_id=?",
                      what);
    if (!entry) return entry.error();
    if (!u) return u.error();
    std::string sealed;
    std::string details;
    for (plain_review& p : rows) {
      entry->reset();
      entry->bind(1, p.vouched_by);
      auto found = entry->next(what);
      if (!found) return found.error();
      if (!*found || !review_vouched(entry->text_view(0), p.r, std::nullopt)) {
        return fail(errc::damaged, what + ": review " + p.r.review_id +
                                       " changed since it was vouched for (run dalil audit "
                                       "verify); nothing changed");
      }
      if (!p.has_key) {
        return fail(errc::damaged, what + ": review " + p.r.review_id +
                                       ": its applicant has no data key; nothing changed");
      }
      crypto::data_key dk = crypto::new_data_key();  // erased: a key nobody keeps
      if (!p.wrapped.empty()) {
        auto opened = crypto::unwrap(*key_, p.wrapped, p.applicant, p.generation);
        if (!opened) {
          return fail(errc::damaged, what + ": review " + p.r.review_id +
                                         ": its applicant's data key does not open; nothing "
                                         "changed");
        }
        dk = *opened;
      }
      if (!in_place::seal_review(dk, p.applicant, p.r, sealed, details, p.vouched_by)) {
        return fail(errc::damaged, what + ": review " + p.r.review_id +
                                       " holds decisions that are not a review's; nothing "
                                       "changed");
      }
      if (auto st = put_sealed_review(*u, p.r, sealed, details, what); !st) return st;
    }
    return {};
  }

  /// How many of the counter's decisions keep in plain an outcome value their rules' declared
  /// types seal (plain_outcomes by kept_rulesets::outcome_mask): those an older dalil stored by the
  /// value's shape. keys seal retypes them (encrypt_counter_in_place).
  result<std::int64_t> counter_to_retype(const std::string& what) {
    ruleset_cache rulesets(*this);
    auto q = db_.make("SELECT ruleset_hash, rules, outcomes FROM counter_decisions", what);
    if (!q) return q.error();
    std::int64_t n = 0;
    for (;;) {
      auto row = q->next(what);
      if (!row) return row.error();
      if (!*row) break;
      std::string_view stored = q->text_view(2);
      if (plain_outcomes(stored, rulesets.outcome_mask(q->text(0), q->text(1))) != stored) {
        ++n;
      }
    }
    return n;
  }

  result<reseal_report> reseal_keys(const std::string& actor,
                                    std::int64_t per_transaction) override;

  /// The associated data of what is sealed in a decision set's row (`kind`: "trace" for its
  /// stored trace, "decisions" for its sealed decisions): the row and what it is.
  static std::string set_ad(std::string_view kind, std::string_view applicant, std::int64_t run_id,
                            std::int64_t record_id) {
    return sealing::set_ad(kind, applicant, run_id, record_id);
  }

  status seal_decisions(const stored_record& r, std::int64_t run_id, decision_set& d,
                        std::span<const std::uint8_t> plain_values) const override {
    if (!encrypted_ || r.wrapped.empty()) return {};
    return sealing::seal_decisions(key_ ? &*key_ : nullptr, path_, r, run_id, d, plain_values);
  }

  /// Opens the sealed decisions of the set `d` of run `run_id` (decisions_json then holds them
  /// whole), given its applicant's data key row (`has_row`: one exists; `wrapped` empty: the
  /// key was destroyed). Without the master key, or its applicant erased, `d` stays as stored,
  /// values_sealed, when `quiet`; else errc::refused. errc::damaged when they do not open.
  status open_decisions(decision_set& d, std::int64_t run_id, bool has_row,
                        std::string_view wrapped, std::int64_t generation, bool quiet) const {
    return sealing::open_decisions(key_ ? &*key_ : nullptr, path_, d, run_id, has_row, wrapped,
                                   generation, quiet);
  }

  /// Opens a stored trace that seal_decisions sealed (`trace` then holds it in plain).
  status open_trace(const std::string& applicant, std::int64_t run_id, std::int64_t record_id,
                    std::string& trace) {
    if (!sealing::sealed_trace(trace)) return {};
    std::string what = "decision set " + std::to_string(run_id) + ":" + std::to_string(record_id);
    if (auto s = need_key("reading a stored trace"); !s) return s;
    auto q = db_.make("SELECT wrapped, generation FROM data_keys WHERE applicant_id=?", what);
    if (!q) return q.error();
    q->bind(1, applicant);
    auto row = q->next(what);
    if (!row) return row.error();
    const bool erased = !*row || q->is_null(0);
    return sealing::open_trace(*key_, applicant, run_id, record_id,
                               erased ? std::string_view() : q->blob_view(0),
                               erased ? 0 : q->int64(1), trace);
  }

  status open_record(stored_record& r) const override {
    if (r.sealed.empty()) return {};
    if (auto s = need_key("reading records"); !s) return s;
    auto s = open_sealed(r, r.sealed, r.wrapped, r.erased, r.key_generation);
    r.sealed.clear();
    return s;
  }

  status open_file(const std::string& path, open_mode mode) {
    path_ = path;
    mode_ = mode;
    std::string error;
    if (mode == open_mode::read_only) {
      if (!db_.open_read_only(path, error)) return fail(errc::failed, error);
      auto v = stored_version();
      if (!v) return v.error();
      if (*v > schema_version) return fail(errc::refused, newer_store(path, *v));
      if (*v != schema_version) {
        return fail(errc::refused,
                    path + ": the store's schema is version " + std::to_string(*v) +
                        ", and this dalil reads version " + std::to_string(schema_version) +
                        " read-only: open a writable copy once with this dalil to upgrade it");
      }
      return {};
    }
    if (!db_.open(path, error)) {
      return fail(db_.read_only() ? errc::refused : errc::failed, error);
    }
    if (db_.read_only()) {
      // A file this process may not write: read it as it is, if it needs no upgrade.
      auto v = stored_version();
      if (!v) return v.error();
      if (*v > schema_version) return fail(errc::refused, newer_store(path, *v));
      if (*v != schema_version) {
        return fail(errc::refused, path + ": the store is read-only and needs an upgrade (schema " +
                                       std::to_string(*v) + " to " +
                                       std::to_string(schema_version) + ")");
      }
      return {};
    }
    if (auto s = db_.run("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL) "
                         "STRICT;",
                         path + ": creating the schema");
        !s) {
      return s;
    }
    // One migration per transaction, the version read inside it: two processes opening an old
    // store at once upgrade it once. Upgrading a store that has an audit log (from version 1)
    // appends an entry saying so in the same transaction.
    std::int64_t found = -1;  // the version the store had when opened
    for (;;) {
      auto tx = transaction::begin(db_, path + ": opening the store");
      if (!tx) return tx.error();
      auto v = stored_version();
      if (!v) return v.error();
      std::int64_t version = *v;
      if (found < 0) found = version;
      if (version > schema_version) return fail(errc::refused, newer_store(path, version));
      if (version == schema_version) return tx->commit(path + ": opening the store");
      std::string to = std::to_string(version + 1);
      std::string what = path;
      what += ": upgrading the store to schema version ";
      what += to;
      const migration& m = migrations[version];
      if (m.before != nullptr) {
        if (auto s = m.before(db_); !s)
          return fail(s.error().code, what + ": " + s.error().message);
      }
      if (auto s = db_.run(m.sql, what); !s) return s;
      if (auto s = db_.run("INSERT INTO schema_version VALUES(" + to + ")", what); !s) return s;
      if (m.after != nullptr) {
        if (auto s = m.after(db_, found >= 1); !s) {
          return fail(s.error().code, what + ": " + s.error().message);
        }
      }
      if (found >= 1) {
        std::string d = "{\"from\":" + std::to_string(version) + ",\"to\":" + to + "}";
        if (auto a = detail::append_audit(db_, "dalil", "schema", to, d); !a) return a.error();
      }
      if (auto s = tx->commit(what); !s) return s;
    }
  }

  result<std::int64_t> stored_version() {
    auto q =
        db_.make("SELECT (SELECT count(*) FROM sqlite_schema WHERE name='schema_version')", path_);
    if (!q) return q.error();
    auto row = q->next(path_ + ": reading the schema");
    if (!row) return row.error();
    if (q->int64(0) == 0) return std::int64_t{0};
    auto v = db_.make(
        "SELECT max(version) FROM schema_version WHERE version <> " + std::to_string(resealed_mark),
        path_);
    if (!v) return v.error();
    row = v->next(path_ + ": reading the schema version");
    if (!row) return row.error();
    return *row && !v->is_null(0) ? v->int64(0) : 0;
  }

  bool read_only() const override { return mode_ == open_mode::read_only || db_.read_only(); }

  result<std::unique_ptr<store>> reopen() override {
    auto other = std::make_unique<sqlite_store>();
    if (auto s = other->open(path_, mode_, key_ ? &*key_ : nullptr); !s) return s.error();
    return std::unique_ptr<store>(std::move(other));
  }

  status put_ruleset(const std::string& hash, const std::string& source) override {
    constexpr std::string_view what = "storing the ruleset";
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    auto q = db_.make("INSERT OR IGNORE INTO rulesets VALUES(?,?,?)", what);
    if (!q) return q.error();
    std::string at = now_utc();
    q->bind(1, hash).bind(2, source).bind(3, at);
    if (auto s = q->run(what); !s) return s;
    if (sqlite3_changes(db_.handle()) == 0) return tx->commit(what);
    std::string d = "{";
    add_field(d, "bytes", static_cast<std::int64_t>(source.size()));
    add_field(d, "loaded_at", at);
    d += '}';
    auto a = detail::append_audit(db_, "dalil", "ruleset", hash, d);
    if (!a) return a.error();
    return tx->commit(what);
  }

  result<std::string> ruleset_source(const std::string& hash) override {
    auto q = db_.make("SELECT source FROM rulesets WHERE hash=?", "reading a ruleset");
    if (!q) return q.error();
    q->bind(1, hash);
    auto row = q->next("reading ruleset " + hash.substr(0, 12));
    if (!row) return row.error();
    if (!*row)
      return fail(errc::not_found, "ruleset " + hash.substr(0, 12) + " is not in the store");
    return q->text(0);
  }

  /// The live lease (not expired, and not left by a dead process of this machine), if any.
  result<std::optional<lease_info>> live_lease(std::string* token = nullptr) {
    auto q = db_.make(
        "SELECT run_id, pid, host, since, expires, token, machine FROM lease WHERE name='writer'",
        "reading the store's lease");
    if (!q) return q.error();
    auto row = q->next("reading the store's lease");
    if (!row) return row.error();
    if (!*row) return std::optional<lease_info>();
    lease_info l{q->int64(0), q->int64(1), q->text(2), q->text(3), q->int64(4)};
    if (token != nullptr) *token = q->text(5);
    l.machine = q->text(6);
    bool dead = same_process_space(l.machine, machine_) && !process_alive(l.pid);
    if (l.expires <= unix_now() || dead) return std::optional<lease_info>();
    return std::optional<lease_info>(l);
  }

  result<std::unique_ptr<import_session>> begin_import(const std::string& file) override {
    return begin_import(file, import_options{});
  }

  result<std::unique_ptr<import_session>> begin_import(const std::string& file,
                                                       const import_options& options) override {
    std::string what = "importing " + file;
    if (auto s = need_key("importing"); !s) return s.error();
    if (!encrypted_ && key_) {
      return fail(errc::refused, path_ +
                                     " is not encrypted: its records would be stored in "
                                     "plain; bind the key first (`dalil keys init --db " +
                                     path_ + "`, on a store without records) or import without it");
    }
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    auto live = live_lease();
    if (!live) return live.error();
    if (*live) {
      return fail(errc::busy, "a batch holds the store's lease (" + held_by(**live) +
                                  "): records imported during a run would not be in it; import "
                                  "once the batch has finished (or its lease has expired)");
    }
    auto q = db_.make(
        "INSERT INTO imports(file, file_hash, started_at, received, reason, corrected_by) "
        "VALUES(?,?,?,?,?,?)",
        what);
    if (!q) return q.error();
    std::string at = now_utc();
    q->bind(1, file).bind(2, "").bind(3, at);
    auto text_or_null = [&](int i, const std::string& v) {
      if (v.empty()) {
        q->bind_null(i);
      } else {
        q->bind(i, v);
      }
    };
    text_or_null(4, options.received);
    text_or_null(5, options.reason);
    text_or_null(6, options.by);
    if (auto s = q->run(what); !s) return s.error();
    std::int64_t id = db_.last_insert_id();
    return std::unique_ptr<import_session>(std::make_unique<sqlite_import>(
        db_, std::move(*tx), id, file, at, encrypted_ ? &*key_ : nullptr, generation_, options));
  }

  std::string pending_sql(const std::vector<record_filter>& filter, const char* select,
                          const char* decided, bool after, bool limit) {
    std::string sql = select;
    // A count without a filter reads the applicant's id and the latest flag alone: the unary
    // plus keeps SQLite from searching records_latest (latest, record_id), which would read
    // every latest row of the table for its applicant, and lets it scan the covering index
    // records_applicant (applicant_id, latest) instead (1.6 MB against 80 MB for 100,000
    // records; a count took a third of the time).
    sql += (!after && filter.empty()) ? " FROM records r WHERE +r.latest=1"
                                      : " FROM records r WHERE r.latest=1";
    // Erased applicants are never decided. Not by a join with data_keys: a key lookup per record
    // was much of an encrypted store's slowdown, in the counts (whole-store scans) and in every
    // chunk. The counts exclude them here (the list of destroyed keys is read once per count, and
    // is short); next_pending, called once per chunk, drops them as it reads the chunk's keys
    // (attach_keys).
    if (after) {
      sql += " AND r.record_id > ?";
    } else {
      sql +=
          " AND r.applicant_id NOT IN (SELECT applicant_id FROM data_keys WHERE wrapped IS NULL)";
    }
    for (std::size_t i = 0; i < filter.size(); ++i) {
      sql += " AND CAST(json_extract(r.json, ?) AS TEXT) = ?";
    }
    if (decided != nullptr) {
      sql += " AND NOT EXISTS (SELECT 1 FROM decision_sets d WHERE d.run_id=? AND ";
      sql += decided;
      sql += ")";
    }
    if (limit) sql += " ORDER BY r.record_id LIMIT ?";
    return sql;
  }

  static int bind_filter(statement& q, int i, const std::vector<record_filter>& filter) {
    for (const auto& f : filter) {
      q.bind(i++, "$." + f.path);
      q.bind(i++, f.value);
    }
    return i;
  }

  result<std::int64_t> count_query(const std::string& sql, const std::vector<record_filter>& filter,
                                   std::optional<std::int64_t> run_id, std::string_view what) {
    auto q = db_.make(sql, what);
    if (!q) return q.error();
    int i = bind_filter(*q, 1, filter);
    if (run_id) q->bind(i, *run_id);
    auto row = q->next(what);
    if (!row) return row.error();
    if (!*row) return fail(errc::failed, std::string(what) + ": no count");
    return q->int64(0);
  }

  result<std::int64_t> count_matching(const std::vector<record_filter>& filter) override {
    if (auto s = need_key("a batch"); !s) return s.error();
    if (encrypted_ && !filter.empty()) {
      return count_in_memory(filter, 0, "d.applicant_id=r.applicant_id", false);
    }
    return count_query(pending_sql(filter, "SELECT count(*)", nullptr, false, false), filter,
                       std::nullopt, "counting the records to decide");
  }

  result<run_info> read_run(statement& q, std::string_view what) {
    auto row = q.next(what);
    if (!row) return row.error();
    if (!*row) return fail(errc::not_found, std::string(what) + ": no such run");
    return run_info{q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4), q.int64(5), false, {}};
  }

  static constexpr const char* run_columns =
      "SELECT run_id, ruleset_hash, as_of, filter, status, generation FROM runs ";

  result<run_info> open_run(const std::string& ruleset_hash, const std::string& as_of,
                            const std::vector<record_filter>& filter,
                            const shard_spec& shard) override {
    if (shard.count != 1 || shard.index != 1) {
      return fail(errc::refused, shards_refused);
    }
    std::string f = filter_text(filter);
    constexpr std::string_view what = "opening the run";
    auto tx = transaction::begin(db_, what);
    if (!tx) {
      if (tx.error().code == errc::busy) {
        return fail(errc::busy,
                    "another process is writing the store (an import or a batch) and did not "
                    "finish within 10 s: run the batch once it has finished");
      }
      return tx.error();
    }
    std::string old_token;
    auto live = live_lease(&old_token);
    if (!live) return live.error();
    if (*live) {
      return fail(errc::busy, "another batch holds the store's lease (" + held_by(**live) +
                                  "): wait for it to finish, or for its lease to expire if that "
                                  "process is gone");
    }
    auto q = db_.make(std::string(run_columns) +
                          "WHERE ruleset_hash=? AND as_of=? AND filter=? ORDER BY generation DESC "
                          "LIMIT 1",
                      what);
    if (!q) return q.error();
    q->bind(1, ruleset_hash).bind(2, as_of).bind(3, f);
    auto found = read_run(*q, what);
    q->reset();
    run_info info{0, ruleset_hash, as_of, f, "running", 1, false, {}};
    if (found) {
      info = *found;
      if (info.status == "complete") {
        // Does the complete run still decide every latest matching record?
        auto stale =
            encrypted_ && !filter.empty()
                ? count_in_memory(filter, info.run_id, "d.record_id=r.record_id", true)
                : count_query(pending_sql(filter, "SELECT count(*) FROM (SELECT 1",
                                          "d.record_id=r.record_id", false, false) +
                                  " LIMIT 1)",
                              filter, info.run_id, "comparing the run with the latest records");
        if (!stale) return stale.error();
        if (*stale == 0) {
          info.resumed = true;
          return info;  // nothing to do: the transaction rolls back
        }
        info = run_info{0, ruleset_hash, as_of, f, "running", found->generation + 1, false, {}};
      } else {
        info.resumed = true;
      }
    } else if (found.error().code != errc::not_found) {
      return found.error();
    }
    if (info.run_id == 0) {
      auto ins = db_.make(
          "INSERT INTO runs(ruleset_hash, as_of, filter, started_at, status, generation) "
          "VALUES(?,?,?,?,'running',?)",
          what);
      if (!ins) return ins.error();
      std::string started = now_utc();
      ins->bind(1, ruleset_hash).bind(2, as_of).bind(3, f).bind(4, started);
      ins->bind(5, info.generation);
      if (auto s = ins->run(what); !s) return s.error();
      info.run_id = db_.last_insert_id();
      const std::string d =
          detail::run_details(info.run_id, ruleset_hash, as_of, f, info.generation, started);
      if (auto a = detail::append_audit(db_, "dalil", "run", std::to_string(info.run_id), d); !a) {
        return a.error();
      }
    }
    // The lease: this process, renewed with every chunk.
    info.lease = host_ + ":" + std::to_string(::getpid()) + ":" + std::to_string(unix_now()) + ":" +
                 std::to_string(info.run_id);
    auto l = db_.make(
        "INSERT OR REPLACE INTO lease(name, token, run_id, pid, host, since, expires, machine) "
        "VALUES('writer',?,?,?,?,?,?,?)",
        what);
    if (!l) return l.error();
    l->bind(1, info.lease).bind(2, info.run_id).bind(3, std::int64_t{::getpid()}).bind(4, host_);
    l->bind(5, now_utc()).bind(6, unix_now() + lease_seconds).bind(7, machine_);
    if (auto s = l->run(what); !s) return s.error();
    if (auto s = tx->commit(what); !s) return s.error();
    return info;
  }

  result<std::int64_t> count_pending(std::int64_t run_id, const std::vector<record_filter>& filter,
                                     const shard_spec& shard) override {
    if (shard.count != 1) return fail(errc::refused, shards_refused);
    if (encrypted_ && !filter.empty()) {
      return count_in_memory(filter, run_id, "d.applicant_id=r.applicant_id", false);
    }
    return count_query(
        pending_sql(filter, "SELECT count(*)", "d.applicant_id=r.applicant_id", false, false),
        filter, run_id, "counting the records left to decide");
  }

  status next_pending(std::int64_t run_id, const std::vector<record_filter>& filter,
                      const shard_spec& shard, std::int64_t after, std::size_t limit,
                      std::vector<stored_record>& out) override {
    if (shard.count != 1) return fail(errc::refused, shards_refused);
    // An encrypted store's filters are applied in memory, to each record once opened (never in
    // SQL over plaintext): the SQL selects on the run alone.
    const bool in_memory = encrypted_ && !filter.empty();
    static const std::vector<record_filter> none;
    const std::vector<record_filter>& in_sql = in_memory ? none : filter;
    if (!pending_.ok() || pending_filter_ != filter_text(in_sql) ||
        pending_size_ != in_sql.size()) {
      auto q = db_.make(
          pending_sql(in_sql, pending_columns, "d.applicant_id=r.applicant_id", true, true),
          "reading the records to decide");
      if (!q) return q.error();
      pending_ = std::move(*q);
      pending_filter_ = filter_text(in_sql);
      pending_size_ = in_sql.size();
    }
    return read_chunk(pending_, run_id, in_sql, in_memory ? &filter : nullptr, after, limit, out);
  }

  static constexpr const char* pending_columns =
      "SELECT r.record_id, r.applicant_id, r.version, r.content_hash, r.json, r.sealed";

  /// The next `limit` records of `q` (a pending_sql query of pending_columns, with `in_sql` as
  /// its filter) after the record `after`, in `out`: with their data keys in an encrypted store,
  /// those of erased applicants dropped, and, with `in_memory`, opened here and kept only when
  /// they match it. The records of `out` are overwritten in place: their strings keep their
  /// capacity from one chunk to the next, so a batch does not allocate per record.
  status read_chunk(statement& q, std::int64_t run_id, const std::vector<record_filter>& in_sql,
                    const std::vector<record_filter>* in_memory, std::int64_t after,
                    std::size_t limit, std::vector<stored_record>& out) {
    constexpr std::string_view what = "reading the records to decide";
    std::size_t n = 0;
    // Records dropped (erased, or not matching) are replaced: read again until the chunk is full
    // or no record is left.
    while (n < limit) {
      q.reset();
      q.bind(1, after);
      int i = bind_filter(q, 2, in_sql);
      q.bind(i, run_id).bind(i + 1, static_cast<std::int64_t>(limit - n));
      const std::size_t first = n;
      bool sealed = false;
      for (;;) {
        auto row = q.next(what);
        if (!row) {
          q.reset();
          out.clear();
          return row.error();
        }
        if (!*row) break;
        if (n == out.size()) out.emplace_back();
        stored_record& r = out[n++];
        r.record_id = q.int64(0);
        r.applicant_id = q.text_view(1);
        r.version = q.int64(2);
        r.content_hash = q.text_view(3);
        r.erased = false;
        if (q.is_null(5)) {
          r.json = q.text_view(4);
          r.sealed.clear();
        } else {
          // Opened by the batch's threads (open_record), not by this reading thread.
          r.json.clear();
          r.sealed = q.blob_view(5);
          sealed = true;
        }
      }
      q.reset();
      const std::size_t read = n - first;
      if (read != 0) after = out[n - 1].record_id;
      if (sealed) {
        if (auto st = need_key("reading records"); !st) {
          out.clear();
          return st;
        }
        if (auto st = attach_keys(out, first, n); !st) {
          out.clear();
          return st;
        }
      }
      // Erased applicants are never decided; with a filter in memory, the records are opened
      // here to be matched. Dropped records are swapped to the end (their strings keep their
      // capacity), the others keep their order.
      std::size_t kept = first;
      for (std::size_t k = first; k < n; ++k) {
        stored_record& r = out[k];
        if (r.erased) continue;
        if (in_memory != nullptr) {
          if (auto o = open_record(r); !o) {
            out.clear();
            return o;
          }
          if (!filter_matches(r.json, *in_memory)) continue;
        }
        if (kept != k) std::swap(out[kept], r);
        ++kept;
      }
      n = kept;
      if (read < limit - first) break;  // no record left
    }
    out.resize(n);
    return {};
  }

  /// How many latest records of non-erased applicants match `filter` in an encrypted store and
  /// are not decided in run `run_id` (`decided`: pending_sql's condition; run 0 decides none),
  /// each opened and matched in memory; with `any`, stops at the first (0 or 1).
  result<std::int64_t> count_in_memory(const std::vector<record_filter>& filter,
                                       std::int64_t run_id, const char* decided, bool any) {
    constexpr std::string_view what = "counting the records that match the filter";
    if (auto s = need_key("a filter (--where) on an encrypted store"); !s) return s.error();
    auto q = db_.make(pending_sql({}, pending_columns, decided, true, true), what);
    if (!q) return q.error();
    std::vector<stored_record> chunk;
    std::int64_t count = 0;
    std::int64_t after = 0;
    constexpr std::size_t limit = 1000;
    for (;;) {
      if (auto s = read_chunk(*q, run_id, {}, &filter, after, limit, chunk); !s) return s.error();
      count += static_cast<std::int64_t>(chunk.size());
      if (chunk.size() < limit || (any && count > 0)) break;
      after = chunk.back().record_id;
    }
    return any ? std::min<std::int64_t>(count, 1) : count;
  }

  /// Gives the sealed records out[first, last) their applicants' wrapped data keys, read in one
  /// ordered pass over data_keys (pseudonyms follow import order, as records do: the keys of a
  /// chunk are neighbours), and marks those of erased applicants (their key destroyed).
  /// errc::damaged for a sealed record whose applicant has no key row at all (deleted behind
  /// the tool's back; verify names it too).
  status attach_keys(std::vector<stored_record>& out, std::size_t first, std::size_t last) {
    constexpr std::string_view what = "reading the data keys of the records to decide";
    if (!keys_.ok()) {
      auto k = db_.make(
          "SELECT applicant_id, wrapped, generation FROM data_keys WHERE applicant_id >= ? "
          "ORDER BY applicant_id",
          what);
      if (!k) return k.error();
      keys_ = std::move(*k);
    }
    order_.clear();
    for (std::size_t i = first; i < last; ++i) {
      if (!out[i].sealed.empty()) order_.push_back(i);
    }
    auto by_applicant = [&](std::size_t a, std::size_t b) {
      return out[a].applicant_id < out[b].applicant_id;
    };
    // Usually already in order (a cohort's first versions): checked before sorting.
    if (!std::is_sorted(order_.begin(), order_.end(), by_applicant)) {
      std::sort(order_.begin(), order_.end(), by_applicant);
    }
    // A cursor over data_keys from the smallest applicant on: stepped forward while the keys
    // are neighbours, sought again past a gap. Each call into SQLite takes the connection's
    // mutex: the cursor's applicant is read once per row it reaches (`at`, valid until the
    // cursor moves), not at each comparison, and an erased key's NULL is asked for only when
    // no key bytes came back (four calls fewer per record: a tenth of the instructions an
    // encrypted batch adds to a plain one, by callgrind).
    constexpr int max_skip = 32;
    bool positioned = false;
    bool have_row = false;
    std::string_view at;
    auto moved = [&](result<bool> row) -> status {
      if (!row) return row.error();
      have_row = *row;
      at = have_row ? keys_.text_view(0) : std::string_view();
      return {};
    };
    auto seek = [&](const std::string& applicant) -> status {
      keys_.reset();
      keys_.bind(1, applicant);
      positioned = true;
      return moved(keys_.next(what));
    };
    status st{};
    for (std::size_t i : order_) {
      stored_record& r = out[i];
      const std::string_view id = r.applicant_id;
      int skipped = 0;
      if (!positioned || (have_row && at > id)) st = seek(r.applicant_id);
      while (st && have_row && at < id) {
        if (++skipped > max_skip) {
          st = seek(r.applicant_id);
          break;
        }
        st = moved(keys_.next(what));
      }
      if (!st) break;
      if (!have_row || at != id) {
        st = fail(errc::damaged, "record " + std::to_string(r.record_id) +
                                     " is sealed, and its applicant has no data key (the "
                                     "key row was deleted behind the tool's back)");
        break;
      }
      r.wrapped = keys_.blob_view(1);
      r.erased = r.wrapped.empty() && keys_.is_null(1);
      r.key_generation = keys_.int64(2);
    }
    keys_.reset();  // never leave a statement pending: it would hold the connection's snapshot
    return st;
  }

  status renew_lease(const run_info& run, std::string_view what) {
    auto q = db_.make("UPDATE lease SET expires=? WHERE name='writer' AND token=?", what);
    if (!q) return q.error();
    q->bind(1, unix_now() + lease_seconds).bind(2, run.lease);
    if (auto s = q->run(what); !s) return s;
    if (sqlite3_changes(db_.handle()) == 1) return {};
    std::string holder;
    if (auto l = live_lease(); l && *l) holder = " (now held by " + held_by(**l) + ")";
    return fail(errc::conflict, std::string(what) + ": the batch lost the store's lease" + holder +
                                    ": it stopped without writing this chunk");
  }

  status write_decisions(const run_info& run, const std::vector<decision_set>& sets) override {
    if (sets.empty()) return {};
    std::string what = "writing the decision sets of run " + std::to_string(run.run_id);
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    if (auto s = renew_lease(run, what); !s) return s;
    // A complete run never changes: checked once per chunk, in its transaction.
    {
      auto st = db_.make("SELECT status FROM runs WHERE run_id=?", what);
      if (!st) return st.error();
      st->bind(1, run.run_id);
      auto row = st->next(what);
      if (!row) return row.error();
      if (!*row || st->text_view(0) != "running") {
        return fail(errc::refused, what +
                                       ": the run is not running (complete, or gone): a "
                                       "complete run never changes");
      }
    }
    if (!insert_decisions_.ok()) {
      auto q = db_.make(
          "INSERT INTO decision_sets(run_id, record_id, input_hash, decisions, trace_digest, "
          "trace, format, applicant_id, sealed_decisions) VALUES(?,?,?,?,?,?,?,?,?)",
          what);
      if (!q) return q.error();
      insert_decisions_ = std::move(*q);
    }
    statement& q = insert_decisions_;
    row_digest digest;
    std::string line;
    for (const decision_set& d : sets) {
      q.reset();
      q.bind(1, run.run_id)
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
      q.bind_static(8, d.applicant_id);
      if (d.sealed_decisions.empty()) {
        q.bind_null(9);
      } else {
        q.bind_static_blob(9, d.sealed_decisions);
      }
      if (auto s = q.run(what + ", record " + std::to_string(d.record_id)); !s) return s;
      decision_line(line, d.record_id, d.applicant_id, d.input_hash, d.decisions_digest,
                    d.trace_digest, d.format, d.trace_json, {}, d.sealed_decisions);
      digest.add(d.record_id, line);
    }
    q.reset();
    const std::string details = detail::decisions_details(run.run_id, sets.front().record_id,
                                                          sets.back().record_id, digest);
    if (auto a =
            detail::append_audit(db_, "dalil", "decisions", std::to_string(run.run_id), details);
        !a) {
      return a.error();
    }
    return tx->commit(what);
  }

  result<bool> finish_run(
      const run_info& run,
      const std::vector<record_filter>& /*one shard: the batch counted*/) override {
    std::string what = "completing run " + std::to_string(run.run_id);
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    if (auto s = renew_lease(run, what); !s) return s.error();
    auto n = count_decisions(run.run_id);
    if (!n) return n.error();
    auto q = db_.make("UPDATE runs SET status='complete', finished_at=? WHERE run_id=?", what);
    if (!q) return q.error();
    std::string finished = now_utc();
    q->bind(1, finished).bind(2, run.run_id);
    if (auto s = q->run(what); !s) return s.error();
    const std::string d = detail::run_complete_details(run.run_id, *n, finished);
    if (auto a = detail::append_audit(db_, "dalil", "run_complete", std::to_string(run.run_id), d);
        !a) {
      return a.error();
    }
    auto del = db_.make("DELETE FROM lease WHERE name='writer' AND token=?", what);
    if (!del) return del.error();
    del->bind(1, run.lease);
    if (auto s = del->run(what); !s) return s.error();
    if (auto s = tx->commit(what); !s) return s.error();
    return true;
  }

  result<std::vector<shard_progress>> progress(std::int64_t) override {
    return fail(errc::refused,
                "dalil batch --status is for a PostgreSQL store: " + std::string(shards_refused));
  }

  status release_lease(const run_info& run) override {
    if (run.lease.empty()) return {};
    std::string what = "releasing the lease of run " + std::to_string(run.run_id);
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    auto del = db_.make("DELETE FROM lease WHERE name='writer' AND token=?", what);
    if (!del) return del.error();
    del->bind(1, run.lease);
    if (auto s = del->run(what); !s) return s;
    return tx->commit(what);
  }

  result<lease_info> lease() override {
    auto l = live_lease();
    if (!l) return l.error();
    if (!*l) return fail(errc::not_found, "no batch holds the store's lease");
    return **l;
  }

  result<std::int64_t> audit(const std::string& actor, const std::string& action,
                             const std::string& subject, const std::string& details) override {
    std::string what = "appending to the audit log (" + action + ")";
    if (read_only()) {
      return fail(errc::refused, path_ + " is read-only: " + what + " is impossible");
    }
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    auto seq = detail::append_audit(db_, actor, action, subject, details);
    if (!seq) return seq.error();
    if (auto s = tx->commit(what); !s) return s.error();
    return *seq;
  }

  status audited_read(const std::string& actor, const std::string& subject,
                      const std::string& details, const std::function<status()>& read) override {
    if (read_only()) {
      return fail(errc::refused,
                  path_ +
                      " is read-only: every read of decisions is recorded in the store's "
                      "audit log, so decisions, export and replay refuse a store they cannot "
                      "write (audit verify and stats work on a read-only copy)");
    }
    // The entry is committed before anything is read: nothing is read without its entry.
    auto seq = audit(actor, "read", subject, details);
    if (!seq) {
      if (seq.error().code == errc::refused) {
        return fail(errc::refused, path_ + " cannot record the read in its audit log (" +
                                       seq.error().message + "): nothing was read");
      }
      return fail(seq.error().code, seq.error().message + ": nothing was read");
    }
    // One read transaction: one snapshot for the whole read, which holds the entry.
    if (auto s = db_.run("BEGIN", "reading"); !s) return s;
    struct end_read {
      database& db;
      ~end_read() { sqlite3_exec(db.handle(), "COMMIT", nullptr, nullptr, nullptr); }
    } ender{db_};
    auto q = db_.make("SELECT count(*) FROM audit WHERE seq=?", "reading");
    if (!q) return q.error();
    q->bind(1, *seq);
    auto row = q->next("reading the audit entry of this read");
    if (!row) return row.error();
    if (!*row || q->int64(0) != 1) {
      return fail(errc::damaged, "the audit entry of this read (" + std::to_string(*seq) +
                                     ") is not in the store: nothing was read");
    }
    q->reset();
    return read();
  }

  result<audit_head> head() override {
    auto q = db_.make("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", "reading the head");
    if (!q) return q.error();
    auto row = q->next("reading the head of the audit log");
    if (!row) return row.error();
    if (!*row) return fail(errc::not_found, path_ + ": the audit log is empty");
    return audit_head{q->int64(0), q->text(1)};
  }

  result<verify_report> verify(const verify_options& options) override;

  result<stored_record> record(std::int64_t record_id) override {
    auto q = db_.make(
        "SELECT r.record_id, r.applicant_id, r.version, r.content_hash, r.json, r.sealed, "
        "k.wrapped, k.generation, k.applicant_id IS NULL FROM records r LEFT JOIN data_keys k ON "
        "k.applicant_id = r.applicant_id WHERE r.record_id=?",
        "reading a record");
    if (!q) return q.error();
    q->bind(1, record_id);
    auto row = q->next("reading record " + std::to_string(record_id));
    if (!row) return row.error();
    if (!*row) return fail(errc::not_found, "no record " + std::to_string(record_id));
    stored_record r{q->int64(0), q->text(1), q->int64(2), q->text(3), q->text(4)};
    if (q->is_null(5)) return r;
    if (auto s = need_key("reading a record"); !s) return s.error();
    if (q->int64(8) != 0) {
      return fail(errc::damaged, "record " + std::to_string(record_id) +
                                     " is sealed, and its applicant has no data key");
    }
    if (auto s = open_sealed(r, q->blob_view(5), q->blob_view(6), q->is_null(6), q->int64(7)); !s) {
      return s.error();
    }
    return r;
  }

  result<run_info> run(std::int64_t run_id) override {
    auto q = db_.make(std::string(run_columns) + "WHERE run_id=?", "reading a run");
    if (!q) return q.error();
    q->bind(1, run_id);
    auto r = read_run(*q, "reading run " + std::to_string(run_id));
    if (!r && r.error().code == errc::not_found) {
      return fail(errc::not_found, "no run " + std::to_string(run_id));
    }
    return r;
  }

  /// The columns read_set reads, from `d` (decision_sets) and `k` (its applicant's data_keys
  /// row, when there is one).
  static constexpr std::string_view set_columns =
      "SELECT d.record_id, d.input_hash, d.decisions, d.trace_digest, d.format, d.applicant_id, "
      "coalesce(d.sealed_decisions, ''), k.applicant_id IS NOT NULL, coalesce(k.wrapped, x''), "
      "coalesce(k.generation, 0)";
  static constexpr std::string_view set_from =
      " FROM decision_sets d LEFT JOIN data_keys k ON d.sealed_decisions IS NOT NULL AND "
      "k.applicant_id = d.applicant_id ";

  /// Reads a row of set_columns into `d`; opens its sealed decisions as open_decisions does.
  status read_set(statement& q, decision_set& d, std::int64_t run_id, bool open, bool quiet) {
    d.record_id = q.int64(0);
    d.input_hash = q.digest(1);
    d.decisions_json = q.text_view(2);
    d.trace_digest = q.digest(3);
    d.format = static_cast<int>(q.int64(4));
    d.applicant_id = q.text_view(5);
    d.sealed_decisions = q.blob_view(6);
    d.values_sealed = !d.sealed_decisions.empty();
    if (!open) return {};
    return open_decisions(d, run_id, q.int64(7) != 0, q.blob_view(8), q.int64(9), quiet);
  }

  result<decision_set> decisions(std::int64_t run_id, std::int64_t record_id) override {
    auto q = db_.make(std::string(set_columns) + ", d.trace" + std::string(set_from) +
                          "WHERE d.run_id=? AND d.record_id=?",
                      "reading a decision set");
    if (!q) return q.error();
    q->bind(1, run_id).bind(2, record_id);
    std::string name = std::to_string(run_id) + ":" + std::to_string(record_id);
    auto row = q->next("reading decision set " + name);
    if (!row) return row.error();
    if (!*row) return fail(errc::not_found, "no decision " + name);
    decision_set d;
    if (auto s = read_set(*q, d, run_id, true, false); !s) return s.error();
    d.decisions_digest = engine::sha256(d.decisions_json);
    d.trace_json = q->text(10);
    q->reset();
    if (auto s = open_trace(d.applicant_id, run_id, record_id, d.trace_json); !s) {
      return s.error();
    }
    return d;
  }

  result<decision_set> applicant_decisions(std::int64_t run_id,
                                           const std::string& applicant_id) override {
    std::string what = "reading the applicant's decision set in run " + std::to_string(run_id);
    auto q = db_.make(
        std::string(set_columns) + std::string(set_from) + "WHERE d.run_id=? AND d.applicant_id=?",
        what);
    if (!q) return q.error();
    q->bind(1, run_id).bind(2, applicant_id);
    auto row = q->next(what);
    if (!row) return row.error();
    if (!*row)
      return fail(errc::not_found,
                  "run " + std::to_string(run_id) + " does not decide this applicant");
    decision_set d;
    if (auto s = read_set(*q, d, run_id, true, true); !s) return s.error();
    return d;
  }

  status each_decision(std::int64_t run_id,
                       const std::function<void(const std::string&, const decision_set&)>& f,
                       bool whole) override {
    std::string what = "reading the decision sets of run " + std::to_string(run_id);
    auto q = db_.make(
        std::string(set_columns) + std::string(set_from) + "WHERE d.run_id=? ORDER BY d.record_id",
        what);
    if (!q) return q.error();
    q->bind(1, run_id);
    decision_set d;
    for (;;) {
      auto row = q->next(what);
      if (!row) return row.error();
      if (!*row) return {};
      if (auto s = read_set(*q, d, run_id, whole, true); !s) return s;
      f(d.applicant_id, d);
    }
  }

  result<std::vector<run_info>> runs() override {
    auto q = db_.make(std::string(run_columns) + "ORDER BY run_id", "reading the runs");
    if (!q) return q.error();
    std::vector<run_info> out;
    for (;;) {
      auto r = read_run(*q, "reading the runs");
      if (!r) {
        if (r.error().code == errc::not_found) return out;
        return r.error();
      }
      out.push_back(std::move(*r));
    }
  }

  result<run_info> newest_complete_run() override {
    auto q =
        db_.make(std::string(run_columns) + "WHERE status='complete' ORDER BY run_id DESC LIMIT 1",
                 "reading the runs");
    if (!q) return q.error();
    auto r = read_run(*q, "reading the runs");
    if (!r && r.error().code == errc::not_found) {
      return fail(errc::not_found, "no complete run in " + path_);
    }
    return r;
  }

  result<std::int64_t> count_decisions(std::int64_t run_id) override {
    std::string what = "counting the decision sets of run " + std::to_string(run_id);
    auto q = db_.make("SELECT count(*) FROM decision_sets WHERE run_id=?", what);
    if (!q) return q.error();
    q->bind(1, run_id);
    auto row = q->next(what);
    if (!row) return row.error();
    return *row ? q->int64(0) : 0;
  }

  result<std::int64_t> count_records() override {
    auto q = db_.make("SELECT count(*) FROM records WHERE latest=1", "counting the records");
    if (!q) return q.error();
    auto row = q->next("counting the records");
    if (!row) return row.error();
    return *row ? q->int64(0) : 0;
  }

  database& db() { return db_; }

 private:
  std::optional<crypto::master_key> key_;
  bool encrypted_ = false;
  std::int64_t generation_ = 1;  // the keyring's: data keys are wrapped under it
  std::string path_;
  open_mode mode_ = open_mode::read_write;
  database db_;
  std::string host_ = host_name();
  std::string machine_ = machine_id();
  statement insert_decisions_;
  statement pending_;
  statement keys_;                  // attach_keys' cursor over data_keys
  std::vector<std::size_t> order_;  // attach_keys: the chunk's sealed records by applicant
  std::string pending_filter_;
  std::size_t pending_size_ = 0;
};

}  // namespace

namespace {

/// The rows of a chunk that an entry of schema 5 on vouches for row by row (the import's
/// records, or the run's decision sets, of records ?2..?3; ?1 the import or run), in the
/// columns chunk_line reads: verify compares them with the entry, keys reseal vouches for them
/// again.
constexpr const char* chunk_record_rows =
    "SELECT record_id, applicant_id, version, content_hash, import_id, sealed FROM records WHERE "
    "? IS NOT NULL AND record_id BETWEEN ? AND ? ORDER BY record_id";
constexpr const char* chunk_set_rows =
    "SELECT record_id, applicant_id, input_hash, decisions, trace_digest, format, "
    "coalesce(trace, ''), CASE WHEN trace IS NULL THEN coalesce(trace_erased, '') ELSE '' END, "
    "coalesce(sealed_decisions, '') FROM decision_sets WHERE run_id=? AND record_id BETWEEN ? AND "
    "? ORDER BY record_id";

/// The line of the row `q` holds (chunk_record_rows' columns for a record, chunk_set_rows' for
/// a decision set), as an entry of schema 5 on vouches for it.
void chunk_line(std::string& line, bool records, const statement& q) {
  if (records) {
    line = record_line(q.int64(0), q.text_view(1), q.int64(2), q.text_view(3), q.int64(4),
                       q.blob_view(5));
  } else {
    decision_line(line, q.int64(0), q.text_view(1), q.digest(2), engine::sha256(q.text_view(3)),
                  q.digest(4), q.int64(5), q.text_view(6), q.text_view(7), q.blob_view(8));
  }
}

/// The digests of the entries of the older forms, over the rows as they are now: verify
/// compares them with what the entries say, and keys reseal again inside each of its
/// transactions (before it vouches for those rows in the current form).
///
/// An import's whole digest: every record of the import, in the line of its entry's form (`v3`:
/// an import entry of schema 5 on; else the counter's imports and the imports before schema 5,
/// where a sealed record is vouched for by its ciphertext's hash too: store/sqlite_counter.cpp).
result<std::string> whole_import_digest(database& db, std::int64_t import, bool v3,
                                        std::string_view what) {
  auto q = db.make(
      "SELECT record_id, applicant_id, version, content_hash, import_id, sealed FROM records "
      "WHERE import_id=? ORDER BY record_id",
      what);
  if (!q) return q.error();
  q->bind(1, import);
  engine::sha256_stream all;
  std::string line;
  for (;;) {
    auto row = q->next(what);
    if (!row) return row.error();
    if (!*row) break;
    if (v3) {
      chunk_line(line, true, *q);
    } else {
      line = std::to_string(q->int64(0)) + ':' + q->text(1) + ':' + std::to_string(q->int64(2)) +
             ':' + q->text(3);
      if (!q->is_null(5)) line += ':' + engine::sha256_hex(q->blob_view(5));
    }
    line += '\n';
    all.update(line);
  }
  return all.hex();
}

/// The digest of a chunk of decision sets written before schema 5: run `run`'s sets of records
/// from..to (legacy_chunk_digest).
result<std::string> legacy_sets_digest(database& db, std::int64_t run, std::int64_t from,
                                       std::int64_t to, std::string_view what) {
  auto q = db.make(
      "SELECT record_id, decisions, trace_digest, format FROM decision_sets WHERE run_id=? AND "
      "record_id BETWEEN ? AND ? ORDER BY record_id",
      what);
  if (!q) return q.error();
  q->bind(1, run).bind(2, from).bind(3, to);
  detail::legacy_chunk_digest sets;
  for (;;) {
    auto row = q->next(what);
    if (!row) return row.error();
    if (!*row) break;
    sets.add(q->int64(0), engine::sha256(q->text_view(1)), q->digest(2), q->int64(3));
  }
  return sets.hex();
}

/// The state the intact entries of the chain vouch for, gathered before the rows are compared.
struct vouched {
  struct import_entry {
    std::int64_t seq = 0;
    fields f;
    bool v3 = false;       // an "import" entry of schema 5 (with its records' entries)
    bool state = false;    // an "import_state" entry (the upgrade to schema 5)
    bool chunked = false;  // its records re-vouched for by chunks that replace its digest
                           // (keys_reseal): every record must be in one
  };
  using run_entry = detail::run_entry;
  struct chunk {
    std::int64_t seq = 0;
    std::int64_t owner = 0;  // the import or the run
    std::int64_t from = 0;
    std::int64_t to = 0;
    std::int64_t count = 0;
    std::string digest;
    bool v3 = false;
    std::vector<std::int64_t> ids;  // v3
    std::string tags;               // v3: 8 hex digits per id
  };
  std::map<std::string, std::int64_t> rulesets;       // hash -> seq
  std::map<std::string, std::string> ruleset_loaded;  // hash -> loaded_at (schema 5 entries)
  std::map<std::int64_t, import_entry> imports;
  std::map<std::int64_t, std::vector<chunk>> record_chunks;  // by import
  std::map<std::int64_t, run_entry> runs;
  std::map<std::int64_t, std::vector<chunk>> decision_chunks;  // by run
};

class verifier {
 public:
  verifier(database& db, const std::string& path, verify_report& report)
      : db_(db), path_(path), report_(report) {}

  /// Encryption at rest (schema 6), checked without the master key as on PostgreSQL
  /// (detail::check_key_rows): the keyring, the data keys, the pseudonyms against the entries.
  void check_keys() {
    detail::key_entries chain;
    for (const auto& e : entries_) chain.add(e.seq, e.action, e.subject, e.details);
    report_.erased = static_cast<std::int64_t>(chain.erased.size());
    detail::key_rows rows;
    each(
        "SELECT key_check FROM keyring", "reading the keyring", [](statement&) {},
        [&](statement& q) { rows.key_check = q.text(0); });
    each(
        "SELECT r.record_id, k.applicant_id IS NULL, r.applicant_id FROM records r LEFT JOIN "
        "data_keys k ON k.applicant_id = r.applicant_id WHERE r.sealed IS NOT NULL AND "
        "(k.applicant_id IS NULL OR k.wrapped IS NULL) ORDER BY r.record_id",
        "reading the data keys", [](statement&) {},
        [&](statement& q) {
          rows.unkeyed.push_back({q.int64(0), q.int64(1) != 0, q.text(2)});
        });
    each(
        "SELECT count(*) FROM pseudonyms p WHERE NOT EXISTS (SELECT 1 FROM applicants a WHERE "
        "a.applicant_id = p.applicant_id)",
        "reading the pseudonyms", [](statement&) {},
        [&](statement& q) { rows.orphan_pseudonyms = q.int64(0); });
    each(
        "SELECT DISTINCT r.applicant_id FROM records r WHERE r.sealed IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM pseudonyms p WHERE p.applicant_id = r.applicant_id)",
        "reading the pseudonyms", [](statement&) {},
        [&](statement& q) { rows.unlinked.push_back(q.text(0)); });
    if (chain.bound.empty()) {
      each(
          "SELECT count(*) FROM records WHERE sealed IS NOT NULL", "reading the records",
          [](statement&) {}, [&](statement& q) { rows.sealed = q.int64(0); });
    }
    detail::check_key_rows(chain, rows,
                           [this](std::int64_t seq, const char* kind, std::string text) {
                             problem(seq, kind, std::move(text));
                           });
  }

  /// Retention (schema 9): each period is its last retention_set entry's (or the default), and
  /// every erased trace was erased by a retention entry (their counts agree).
  void check_retention() {
    std::vector<retention_period> rows;
    each(
        "SELECT kind, days, set_by, set_at FROM retention", "reading the retention periods",
        [](statement&) {},
        [&](statement& q) {
          rows.push_back({q.text(0), q.int64(1), q.text(2), q.text(3)});
        });
    std::int64_t erased = 0;
    each(
        "SELECT count(*) FROM decision_sets WHERE trace IS NULL AND trace_erased IS NOT NULL",
        "reading the erased traces", [](statement&) {}, [&](statement& q) { erased = q.int64(0); });
    report_.traces_erased = erased;
    detail::check_retention_rows(entries_, rows, erased,
                                 [this](std::int64_t seq, const char* kind, std::string text) {
                                   problem(seq, kind, std::move(text));
                                 });
  }

  void problem(std::int64_t seq, std::string kind, std::string what) {
    if (report_.problems.size() >= max_problems) {
      ++left_out_;
      return;
    }
    report_.problems.push_back({seq, std::move(what), std::move(kind)});
  }
  std::int64_t left_out() const { return left_out_; }

  /// A read that failed: the file is damaged there (or could not be read); named, never skipped.
  void unreadable(const error& e) {
    problem(0, e.code == errc::damaged ? "damaged_file" : "unreadable", e.message);
  }

  /// Runs `sql` (bound by `bind`), calling `row` for each row; false (reported) on a failed read.
  template <class Bind, class Row>
  bool each(const std::string& sql, std::string_view what, Bind bind, Row row) {
    auto q = db_.make(sql, what);
    if (!q) {
      unreadable(q.error());
      return false;
    }
    bind(*q);
    for (;;) {
      auto r = q->next(what);
      if (!r) {
        unreadable(r.error());
        return false;
      }
      if (!*r) return true;
      row(*q);
    }
  }

  void file_check() {
    each(
        "SELECT quick_check FROM pragma_quick_check(100)", "checking the file (quick_check)",
        [](statement&) {},
        [&](statement& q) {
          std::string line = q.text(0);
          if (line != "ok") problem(0, "damaged_file", path_ + ": " + line);
        });
  }

  void chain(const verify_options& options) {
    std::string prev(64, '0');
    std::int64_t expected = 1;
    bool after_gap = false;
    std::optional<std::int64_t> head_seq;
    std::string want = options.head;
    std::optional<std::int64_t> want_seq;
    if (auto colon = want.find(':'); colon != std::string::npos) {
      want_seq = to_int(want.substr(0, colon));
      want = want.substr(colon + 1);
    }
    std::int64_t first_bad = 0;
    each(
        "SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit ORDER BY seq",
        "reading the audit log", [](statement&) {},
        [&](statement& q) {
          std::int64_t seq = q.int64(0);
          std::string hash = q.text(7);
          bool intact = true;
          if (seq != expected) {
            problem(
                expected, "chain",
                "audit entry " + std::to_string(expected) +
                    (seq > expected ? " is missing (the log jumps to " + std::to_string(seq) + ")"
                                    : " is out of order"));
            intact = false;
            after_gap = true;
          } else if (q.text(6) != prev && !after_gap) {
            problem(seq, "chain",
                    "audit entry " + std::to_string(seq) + " does not link to the entry before it");
            intact = false;
          }
          std::string h = detail::entry_hash(q.text(6), seq, q.text(1), q.text(2), q.text(3),
                                             q.text(4), q.text(5));
          if (h != hash) {
            problem(seq, "chain",
                    "audit entry " + std::to_string(seq) + " (" + q.text(3) +
                        ") was changed after it was written");
            intact = false;
          } else {
            after_gap = after_gap && !intact;
          }
          if (!intact && first_bad == 0) first_bad = seq;
          if (!want.empty() && hash == want && (!want_seq || *want_seq == seq)) head_seq = seq;
          prev = hash;  // re-anchored: one damaged entry is reported once
          expected = seq + 1;
          ++report_.entries;
          report_.head_hash = hash;
          if (intact) entries_.push_back({seq, q.text(2), q.text(3), q.text(4), q.text(5)});
        });
    if (!want.empty()) {
      if (!head_seq) {
        problem(0, "head",
                "the audit log does not reach the head " + options.head +
                    ": entries up to it were removed or rewritten (the log now ends at entry " +
                    std::to_string(expected - 1) + ", hash " + report_.head_hash + ")");
      } else if (first_bad != 0 && first_bad <= *head_seq) {
        problem(first_bad, "head",
                "the audit log reaches the head " + options.head + " (entry " +
                    std::to_string(*head_seq) + ") but not unchanged: entry " +
                    std::to_string(first_bad) + " before it is damaged");
      }
    }
  }

  /// The entries' details, gathered by what they vouch for.
  void gather() {
    auto bad = [&](const detail::audit_entry& e, const std::string& why) {
      problem(e.seq, "unreadable_entry",
              "audit entry " + std::to_string(e.seq) + " (" + e.action + "): " + why);
    };
    // Inside a reseal's transaction: right after its keys_reseal entry, only the entries that
    // vouch again for the rows it changed ("replaces") follow; any other entry ends it.
    bool in_reseal = false;
    for (const auto& e : entries_) {
      const std::string& a = e.action;
      if (a == "keys_reseal") {
        in_reseal = e.subject == "data_keys";
        continue;
      }
      if ((a != "records" && a != "decisions") ||
          detail::audit_field(e.details, "replaces").empty()) {
        in_reseal = false;
      }
      if (a == "ruleset") {
        v_.rulesets[e.subject] = e.seq;
        if (auto f = parse_details(e.details); f && f->count("loaded_at")) {
          v_.ruleset_loaded[e.subject] = text_field(*f, "loaded_at");
        }
        continue;
      }
      if (a == "keys_seal") {
        // Decision sets sealed in place (dalil keys seal): the entries that follow in the same
        // transaction vouch for every decision set again; the earlier ones are superseded.
        v_.decision_chunks.clear();
        continue;
      }
      if (a == "keys_init" && !detail::audit_field(e.details, "in_place").empty()) {
        // A plain store encrypted in place (schema 9): its records and decision sets were
        // sealed and renamed, and the entries that follow in the same transaction vouch for them
        // again, row by row; what the earlier entries vouched for is superseded.
        v_.record_chunks.clear();
        v_.decision_chunks.clear();
        for (auto& [id, ie] : v_.imports) ie.f.erase("digest");
        report_.encrypted_in_place = true;
        continue;
      }
      if (a != "import" && a != "import_state" && a != "records" && a != "run" &&
          a != "run_state" && a != "run_complete" && a != "decisions") {
        continue;  // read, schema, and actions of other parts of the store (their checkers)
      }
      auto f = parse_details(e.details);
      if (!f) {
        bad(e, "its details are not the object the store writes");
        continue;
      }
      bool v3 = int_field(*f, "v").value_or(1) >= details_version;
      if (a == "import" || a == "import_state") {
        auto id = int_field(*f, "import");
        if (!id) {
          bad(e, "no import id");
          continue;
        }
        auto& ie = v_.imports[*id];
        // An upgrade's state entry vouches for the import's row; the import entry (legacy or
        // not) for its records.
        if (a == "import_state") {
          ie.state = true;
          ie.seq = e.seq;
          for (const auto& [k, v] : *f) {
            if (k != "digest") ie.f[k] = v;
          }
        } else {
          std::string digest = text_field(*f, "digest");
          if (!ie.state) {
            ie.f = *f;
            ie.seq = e.seq;
          }
          ie.f["digest"] = digest;
          ie.v3 = v3;
          if (ie.seq == 0) ie.seq = e.seq;
        }
        continue;
      }
      if (a == "run" || a == "run_state" || a == "run_complete") {
        if (!detail::read_run_entry(v_.runs, e.seq, a, e.subject, *f)) bad(e, "no run id");
        continue;
      }
      // records, decisions: a chunk.
      vouched::chunk c;
      c.seq = e.seq;
      auto owner = int_field(*f, a == "records" ? "import" : "run");
      auto from = int_field(*f, "from");
      auto to = int_field(*f, "to");
      auto count = int_field(*f, "count");
      c.digest = text_field(*f, "digest");
      c.v3 = v3;
      if (!owner || !from || !to || !count || c.digest.empty()) {
        bad(e, "its run or import, range, count or digest cannot be read");
        continue;
      }
      c.owner = *owner;
      c.from = *from;
      c.to = *to;
      c.count = *count;
      if (v3) {
        auto ids = parse_ranges(text_field(*f, "ids"));
        c.tags = text_field(*f, "tags");
        if (!ids || ids->size() != static_cast<std::size_t>(c.count) ||
            c.tags.size() != 8 * ids->size()) {
          bad(e, "its list of rows cannot be read");
          continue;
        }
        c.ids = std::move(*ids);
      }
      auto& list = (a == "records" ? v_.record_chunks : v_.decision_chunks)[c.owner];
      if (f->count("replaces") != 0) {
        // Rows re-sealed under a new data key (dalil keys reseal): this entry vouches again for
        // the rows of the entry it names, a chunk of the same import or run (same range), or the
        // whole digest of an import that had no chunk; what that entry vouched for no longer
        // holds.
        auto replaces = int_field(*f, "replaces");
        auto old = std::find_if(list.begin(), list.end(), [&](const vouched::chunk& o) {
          return replaces && o.seq == *replaces && o.from == c.from && o.to == c.to;
        });
        auto ie = v_.imports.find(c.owner);
        bool whole =
            a == "records" && ie != v_.imports.end() && replaces && ie->second.seq == *replaces;
        if (!in_reseal) {
          bad(e,
              "it replaces an entry outside a reseal (no keys_reseal entry of this store "
              "opens the transaction it is in)");
          continue;
        }
        if (!c.v3 || (old == list.end() && !whole)) {
          bad(e, "it replaces no entry of its import or run");
          continue;
        }
        if (old != list.end() && old->v3 && old->ids != c.ids) {
          bad(e, "it lists other rows than the entry it replaces (audit entry " +
                     std::to_string(old->seq) + ")");
          continue;
        }
        if (old != list.end()) list.erase(old);
        if (a == "records" && ie != v_.imports.end()) {
          ie->second.f.erase("digest");
          ie->second.chunked = true;
        }
      }
      list.push_back(std::move(c));
    }
  }

  /// The entries of the chain that say what vouches for records and decision sets, gathered as
  /// verify gathers them, without checking the chain (for what vouches again for rows it
  /// changes, inside its transaction: keys reseal, after a verify).
  const vouched& gather_chunks() {
    each(
        "SELECT seq, actor, action, subject, details FROM audit WHERE action IN ('import', "
        "'import_state', 'records', 'decisions', 'keys_init', 'keys_seal', 'keys_reseal') ORDER "
        "BY seq",
        "reading the audit log", [](statement&) {},
        [&](statement& q) {
          entries_.push_back({q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4)});
        });
    gather();
    return v_;
  }

  void rulesets() {
    for (const auto& [hash, seq] : v_.rulesets) {
      auto q = db_.make("SELECT source, loaded_at FROM rulesets WHERE hash=?", "reading a ruleset");
      if (!q) {
        unreadable(q.error());
        return;
      }
      q->bind(1, hash);
      auto row = q->next("reading ruleset " + hash.substr(0, 12));
      if (!row) {
        unreadable(row.error());
        continue;
      }
      if (!*row) {
        problem(seq, "ruleset",
                "ruleset " + hash.substr(0, 12) + " (audit entry " + std::to_string(seq) +
                    ") was deleted");
      } else if (engine::sha256_hex(q->text_view(0)) != hash) {
        problem(seq, "ruleset",
                "ruleset " + hash.substr(0, 12) + " (audit entry " + std::to_string(seq) +
                    ") was changed: its source no longer has its hash");
      } else if (auto l = v_.ruleset_loaded.find(hash);
                 l != v_.ruleset_loaded.end() && l->second != q->text(1)) {
        problem(seq, "ruleset",
                "ruleset " + hash.substr(0, 12) + " (audit entry " + std::to_string(seq) +
                    "): its loaded_at was changed after it was written");
      }
    }
    each(
        "SELECT hash FROM rulesets", "reading the rulesets", [](statement&) {},
        [&](statement& q) {
          std::string hash = q.text(0);
          if (!v_.rulesets.count(hash)) {
            problem(0, "ruleset",
                    "ruleset " + hash.substr(0, 12) +
                        " has no audit entry: it was inserted behind the tool's back");
          }
        });
  }

  /// Compares the rows of one chunk (v3) with the ids and tags its entry lists; names each row
  /// changed, deleted or inserted. `line` gives a row's id and line; `noun` names a row.
  template <class Line>
  bool compare_chunk(const vouched::chunk& c, const std::string& sql, std::string_view what,
                     std::int64_t owner, Line line, const std::string& noun,
                     std::vector<std::int64_t>& seen) {
    std::vector<std::pair<std::int64_t, std::string>> rows;  // id, tag
    bool read = each(
        sql, what, [&](statement& q) { q.bind(1, owner).bind(2, c.from).bind(3, c.to); },
        [&](statement& q) {
          auto [id, text] = line(q);
          rows.emplace_back(id, row_digest::tag_of(text));
        });
    if (!read) return true;
    std::size_t named = report_.problems.size();
    std::size_t i = 0;
    std::size_t k = 0;
    std::string where = " (audit entry " + std::to_string(c.seq) + ")";
    while (i < c.ids.size() || k < rows.size()) {
      if (k == rows.size() || (i < c.ids.size() && c.ids[i] < rows[k].first)) {
        problem(c.seq, noun_kind(noun), noun + std::to_string(c.ids[i]) += where + " was deleted");
        ++i;
      } else if (i == c.ids.size() || rows[k].first < c.ids[i]) {
        problem(c.seq, noun_kind(noun),
                noun + std::to_string(rows[k].first) +
                    " was inserted behind the tool's back (no audit entry vouches for it)");
        seen.push_back(rows[k].first);
        ++k;
      } else {
        seen.push_back(rows[k].first);
        if (std::string_view(c.tags).substr(8 * i, 8) != rows[k].second) {
          problem(
              c.seq, noun_kind(noun),
              noun + std::to_string(rows[k].first) += where + " was changed after it was written");
        }
        ++i;
        ++k;
      }
    }
    if (report_.problems.size() == named) {
      // Same ids and tags: the digest over the full row hashes decides.
      engine::sha256_stream d;
      auto q = db_.make(sql, what);
      if (!q) return true;
      q->bind(1, owner).bind(2, c.from).bind(3, c.to);
      for (;;) {
        auto r = q->next(what);
        if (!r || !*r) break;
        d.update(line(*q).second);
        d.update("\n");
      }
      if (d.hex() != c.digest) {
        problem(c.seq, noun_kind(noun),
                "rows " + std::to_string(c.from) + ".." + std::to_string(c.to) + " of " + noun +
                    "…" + where + " were changed after they were written");
      }
    }
    return report_.problems.size() != named;
  }

  static std::string noun_kind(const std::string& noun) {
    return noun.rfind("record", 0) == 0 ? "record" : "decision_set";
  }

  void imports() {
    std::vector<std::int64_t> vouched_records;
    std::set<std::int64_t> rows;
    // The imports' rows, as their entries say.
    each(
        "SELECT import_id, file, file_hash, coalesce(rows, -1), coalesce(stored, -1), "
        "coalesce(unchanged, -1), coalesce(rejected, -1), started_at, coalesce(received, ''), "
        "coalesce(reason, ''), coalesce(corrected_by, '') FROM imports ORDER BY import_id",
        "reading the imports", [](statement&) {},
        [&](statement& q) {
          std::int64_t id = q.int64(0);
          rows.insert(id);
          auto it = v_.imports.find(id);
          if (it == v_.imports.end()) {
            problem(0, "import",
                    "import " + std::to_string(id) +
                        " has no audit entry: it was inserted behind the tool's back");
            return;
          }
          const auto& e = it->second;
          if (!e.v3 && !e.state) return;  // entries before schema 5 do not hold the row
          std::string changed;
          auto cmp = [&](const char* key, const std::string& now) {
            auto f = e.f.find(key);
            if (f != e.f.end() && f->second != now)
              changed += (changed.empty() ? "" : ", ") + std::string(key);
          };
          cmp("file", q.text(1));
          cmp("file_hash", q.text(2));
          cmp("rows", std::to_string(q.int64(3)));
          cmp("stored", std::to_string(q.int64(4)));
          cmp("unchanged", std::to_string(q.int64(5)));
          cmp("rejected", std::to_string(q.int64(6)));
          cmp("started_at", q.text(7));
          // Schema 9: an entry that names them vouches for them; a row with them that its entry
          // does not name was changed too.
          for (auto [key, col] :
               {std::pair<const char*, int>{"received", 8}, {"reason", 9}, {"by", 10}}) {
            if (e.f.count(key) != 0) {
              cmp(key, q.text(col));
            } else if (e.v3 && !q.text_view(col).empty()) {
              changed += (changed.empty() ? "" : ", ") + std::string(key);
            }
          }
          if (!changed.empty()) {
            problem(e.seq, "import",
                    "import " + std::to_string(id) + " (audit entry " + std::to_string(e.seq) +
                        "): its " + changed + " was changed after it was written");
          }
        });
    for (const auto& [id, e] : v_.imports) {
      if (!rows.count(id)) {
        problem(e.seq, "import",
                "import " + std::to_string(id) + " (audit entry " + std::to_string(e.seq) +
                    ") was deleted");
      }
    }
    // Records, row by row where the entries list them (schema 5).
    std::set<std::int64_t> named;  // imports with a row named: their whole digest says no more
    for (const auto& [import, chunks] : v_.record_chunks) {
      for (const auto& c : chunks) {
        std::string line;
        if (compare_chunk(
                c, chunk_record_rows, "reading records", import,
                [&line](statement& q) {
                  chunk_line(line, true, q);
                  return std::pair<std::int64_t, std::string>(q.int64(0), line);
                },
                "record ", vouched_records)) {
          named.insert(import);
        }
      }
    }
    std::sort(vouched_records.begin(), vouched_records.end());
    // Whole imports: their digest over every record (entries before schema 5 have only this).
    for (const auto& [id, e] : v_.imports) {
      auto digest = e.f.find("digest");
      if (digest == e.f.end() || digest->second.empty()) continue;
      if (named.count(id)) continue;
      auto now = whole_import_digest(db_, id, e.v3, "reading the records of an import");
      if (!now) {
        unreadable(now.error());
      } else if (*now != digest->second) {
        problem(e.seq, "import",
                "records of import " + std::to_string(id) + " (audit entry " +
                    std::to_string(e.seq) + ") were changed, deleted or inserted");
      }
    }
    // Every record: its content, its import, its applicant, and its latest flag.
    each(
        "SELECT r.record_id, r.import_id, r.content_hash, r.json, "
        "(SELECT count(*) FROM applicants a WHERE a.applicant_id = r.applicant_id), "
        "r.sealed IS NOT NULL FROM records r ORDER BY r.record_id",
        "reading the records", [](statement&) {},
        [&](statement& q) {
          std::int64_t id = q.int64(0);
          std::int64_t import = q.int64(1);
          auto it = v_.imports.find(import);
          if (it == v_.imports.end()) {
            problem(0, "record",
                    "record " + std::to_string(id) +
                        " belongs to no audited import: it was inserted behind the tool's back");
          } else if ((it->second.v3 || it->second.chunked) &&
                     !std::binary_search(vouched_records.begin(), vouched_records.end(), id)) {
            problem(0, "record",
                    "record " + std::to_string(id) +
                        " was inserted behind the tool's back (no audit entry vouches for it)");
          }
          // A sealed record's content is vouched for by its ciphertext's hash in the entries'
          // lines (no key needed to verify); its json is empty.
          bool sealed = q.int64(5) != 0;
          if (sealed ? !q.text_view(3).empty() : engine::sha256_hex(q.text_view(3)) != q.text(2)) {
            problem(it == v_.imports.end() ? 0 : it->second.seq, "record",
                    "record " + std::to_string(id) +
                        " does not match its content hash: its JSON was edited");
          }
          if (q.int64(4) == 0) {
            problem(0, "applicant",
                    "record " + std::to_string(id) +
                        ": its applicant is not in the applicants "
                        "table (deleted behind the tool's back)");
          }
        });
    each(
        "SELECT r.record_id, r.latest, r.version = (SELECT max(o.version) FROM records o WHERE "
        "o.applicant_id = r.applicant_id) FROM records r WHERE r.latest IS NOT (r.version = "
        "(SELECT max(o.version) FROM records o WHERE o.applicant_id = r.applicant_id)) ORDER BY "
        "r.record_id",
        "checking the latest versions", [](statement&) {},
        [&](statement& q) {
          problem(0, "latest",
                  "record " + std::to_string(q.int64(0)) + ": its latest flag was changed (it " +
                      (q.int64(2) != 0 ? "is" : "is not") +
                      " its applicant's latest version, and the flag says " +
                      std::to_string(q.int64(1)) + ")");
        });
    each(
        "SELECT count(*) FROM applicants a WHERE NOT EXISTS (SELECT 1 FROM records r WHERE "
        "r.applicant_id = a.applicant_id)",
        "reading the applicants", [](statement&) {},
        [&](statement& q) {
          if (q.int64(0) != 0) {
            problem(0, "applicant",
                    std::to_string(q.int64(0)) +
                        " applicant row(s) without any record: inserted behind the tool's back");
          }
        });
    check_keys();
    check_retention();
    // Rejections: their digest and count per import.
    for (const auto& [id, e] : v_.imports) {
      auto want = e.f.find("rejections");
      if (want == e.f.end()) continue;
      engine::sha256_stream d;
      std::int64_t n = 0;
      bool read = each(
          "SELECT row, field, reason FROM rejections WHERE import_id=? ORDER BY rowid",
          "reading the rejections", [&, id = id](statement& q) { q.bind(1, id); },
          [&](statement& q) {
            d.update(rejection_line(q.int64(0), q.text_view(1), q.text_view(2)));
            ++n;
          });
      if (read && d.hex() != want->second) {
        problem(e.seq, "rejection",
                "rejections of import " + std::to_string(id) + " (audit entry " +
                    std::to_string(e.seq) + ", " + text_field(e.f, "rejected") +
                    " rejected) were changed, deleted or inserted: the table holds " +
                    std::to_string(n));
      }
    }
    each(
        "SELECT DISTINCT import_id FROM rejections", "reading the rejections", [](statement&) {},
        [&](statement& q) {
          if (!v_.imports.count(q.int64(0))) {
            problem(0, "rejection",
                    "rejections of import " + std::to_string(q.int64(0)) +
                        " belong to no audited import: inserted behind the tool's back");
          }
        });
  }

  void runs() {
    std::map<std::int64_t, std::int64_t> counts;
    each(
        "SELECT run_id, count(*) FROM decision_sets GROUP BY run_id", "counting decision sets",
        [](statement&) {}, [&](statement& q) { counts[q.int64(0)] = q.int64(1); });
    std::vector<detail::run_row> rows;
    each(
        "SELECT run_id, ruleset_hash, as_of, filter, status, generation, started_at, "
        "coalesce(finished_at, '') FROM runs ORDER BY run_id",
        "reading the runs", [](statement&) {},
        [&](statement& q) {
          rows.push_back({q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4), q.int64(5),
                          q.text(6), q.text(7), std::nullopt});
        });
    detail::check_run_rows(v_.runs, rows, counts,
                           [this](std::int64_t seq, const char* kind, std::string text) {
                             problem(seq, kind, std::move(text));
                           });
  }

  void decision_sets() {
    std::map<std::int64_t, std::int64_t> vouched_count;
    for (const auto& [run_id, chunks] : v_.decision_chunks) {
      const std::int64_t run = run_id;  // a plain variable: lambdas below capture it
      std::vector<std::int64_t> seen;
      bool all_v3 = true;
      for (const auto& c : chunks) {
        vouched_count[run] += c.count;
        std::string noun = "decision set " + std::to_string(run) + ":";
        if (c.v3) {
          std::string line;
          compare_chunk(
              c, chunk_set_rows, "reading decision sets", run,
              [&line](statement& q) {
                chunk_line(line, false, q);
                return std::pair<std::int64_t, std::string>(q.int64(0), line);
              },
              noun, seen);
          continue;
        }
        all_v3 = false;
        auto now = legacy_sets_digest(db_, run, c.from, c.to, "reading decision sets");
        if (!now) {
          unreadable(now.error());
        } else if (*now != c.digest) {
          problem(c.seq, "decision_set",
                  "decision sets of run " + std::to_string(run) + ", records " +
                      std::to_string(c.from) + ".." + std::to_string(c.to) + " (audit entry " +
                      std::to_string(c.seq) +
                      ", written before schema 5, which names no single row) were changed, "
                      "deleted or inserted");
        }
      }
      if (all_v3) {
        std::sort(seen.begin(), seen.end());
        each(
            "SELECT record_id FROM decision_sets WHERE run_id=? ORDER BY record_id",
            "reading decision sets", [&](statement& q) { q.bind(1, run); },
            [&](statement& q) {
              if (!std::binary_search(seen.begin(), seen.end(), q.int64(0))) {
                problem(0, "decision_set",
                        "decision set " + std::to_string(run) + ":" + std::to_string(q.int64(0)) +
                            " was inserted behind the tool's back (no audit entry vouches for it)");
              }
            });
      }
    }
    each(
        "SELECT run_id, count(*) FROM decision_sets GROUP BY run_id", "counting decision sets",
        [](statement&) {},
        [&](statement& q) {
          std::int64_t run = q.int64(0);
          if (!v_.decision_chunks.count(run) && q.int64(1) != 0) {
            problem(0, "decision_set",
                    "run " + std::to_string(run) + " has " + std::to_string(q.int64(1)) +
                        " decision sets that no audit entry vouches for");
          } else if (vouched_count[run] != q.int64(1) && vouched_count[run] > 0) {
            bool named = false;
            for (const auto& c : v_.decision_chunks[run]) named = named || c.v3;
            if (!named) {
              problem(0, "decision_set",
                      "run " + std::to_string(run) +
                          " has decision sets that no audit entry "
                          "vouches for");
            }
          }
        });
    // Each set against its record: the same applicant, and the input hash of that record.
    each(
        "SELECT d.run_id, d.record_id, d.applicant_id = r.applicant_id, lower(hex(d.input_hash)) "
        "= r.content_hash OR length(r.content_hash) != 64, r.record_id IS NULL FROM "
        "decision_sets d LEFT JOIN records r ON r.record_id = d.record_id WHERE r.record_id IS "
        "NULL OR d.applicant_id != r.applicant_id OR (lower(hex(d.input_hash)) != r.content_hash "
        "AND length(r.content_hash) = 64) ORDER BY d.run_id, d.record_id",
        "comparing decision sets with their records", [](statement&) {},
        [&](statement& q) {
          std::string name =
              "decision set " + std::to_string(q.int64(0)) + ":" + std::to_string(q.int64(1));
          if (q.int64(4) != 0) {
            problem(0, "decision_set", name + ": its record no longer exists");
            return;
          }
          if (q.int64(2) == 0) {
            problem(0, "decision_set", name + ": its applicant is not its record's applicant");
          }
          if (q.int64(3) == 0) {
            problem(0, "decision_set", name + ": its input hash is not its record's content hash");
          }
        });
  }

  /// The schema's own guards: a complete run is closed by triggers, one set per applicant per run
  /// and one run per key and generation by unique indexes. Dropped or rewritten, they are damage.
  void schema_guards() {
    struct guard {
      const char* name;
      const char* type;
      const char* must_contain;
    };
    static const guard guards[] = {
        {"complete_run_frozen", "trigger", "RAISE(ABORT"},
        {"complete_run_kept", "trigger", "RAISE(ABORT"},
        {"runs_key", "index",
         "UNIQUE INDEX runs_key ON runs(ruleset_hash, as_of, filter, generation)"},
        {"decision_sets_applicant", "index",
         "UNIQUE INDEX decision_sets_applicant ON decision_sets(run_id, applicant_id)"},
    };
    for (const guard& g : guards) {
      bool ok = false;
      each(
          "SELECT sql FROM sqlite_schema WHERE name=? AND type=?", "reading the schema",
          [&](statement& q) { q.bind(1, g.name).bind(2, g.type); },
          [&](statement& q) { ok = q.text(0).find(g.must_contain) != std::string::npos; });
      if (!ok) {
        problem(0, "schema",
                std::string("the ") + g.type + " " + g.name +
                    " was dropped or rewritten behind the tool's back: the schema no longer "
                    "guards complete runs and one decision set per applicant per run");
      }
    }
  }

  void extra() {
    verify_context ctx{db_, entries_, report_.problems};
    for (const auto& check : detail::verify_checkers()) check(ctx);
  }

 private:
  using verify_context = detail::verify_context;
  static constexpr std::size_t max_problems = 1000;
  database& db_;
  const std::string& path_;
  verify_report& report_;
  std::vector<detail::audit_entry> entries_;
  vouched v_;
  std::int64_t left_out_ = 0;
};

}  // namespace

result<verify_report> sqlite_store::verify(const verify_options& options) {
  try {
    verify_report report;
    // One read transaction: every check sees the same state.
    if (auto s = db_.run("BEGIN", "verifying: starting a read"); !s) return s.error();
    struct end_read {
      database& db;
      ~end_read() { sqlite3_exec(db.handle(), "COMMIT", nullptr, nullptr, nullptr); }
    } ender{db_};
    verifier v(db_, path_, report);
    v.file_check();
    v.chain(options);
    v.gather();
    v.rulesets();
    v.imports();
    v.runs();
    v.decision_sets();
    v.schema_guards();
    v.extra();
    if (v.left_out() > 0) {
      report.problems.push_back({0, std::to_string(v.left_out()) + " more problems", "more"});
    }
    return report;
  } catch (const std::exception& e) {
    // Memory exhausted, or a bug: verify never throws; the caller reports it as a failure.
    return fail(errc::failed, std::string("verifying ") + path_ + ": " + e.what());
  }
}

namespace {

/// The rows one keys_reseal transaction changed, by import (records) or run (decision sets).
using changed_rows = std::map<std::int64_t, std::vector<std::int64_t>>;

/// One entry that vouches again for rows a keys_reseal transaction changed: a chunk of the
/// import or run `owner` over [from, to], replacing the entry `replaces` (verify's gather).
struct revouched_chunk {
  std::int64_t owner = 0;
  std::int64_t from = 0;
  std::int64_t to = 0;
  std::int64_t replaces = 0;
  std::string old_digest;  // the digest the entry replaced vouched for
  // What that entry is: a chunk row by row, a chunk before schema 5 (decision sets), or an
  // import's whole digest.
  enum class form { v3, legacy, whole };
  form kind = form::v3;
  bool v3_import = false;  // whole: the import's entry is v3
};

/// The rows of one chunk as they are now, in the form verify compares, added to `rows`.
status chunk_rows(database& db, bool records, const revouched_chunk& c, const std::string& what,
                  row_digest& rows) {
  auto q = db.make(records ? chunk_record_rows : chunk_set_rows, what);
  if (!q) return q.error();
  q->bind(1, c.owner).bind(2, c.from).bind(3, c.to);
  std::string line;
  for (;;) {
    auto row = q->next(what);
    if (!row) return row.error();
    if (!*row) break;
    chunk_line(line, records, *q);
    rows.add(q->int64(0), line);
  }
  return {};
}

/// The digest a row_digest writes ("digest" of its details).
std::string digest_of(row_digest& rows) {
  std::string d = "{";
  rows.write(d);
  d += '}';
  return detail::audit_field(d, "digest");
}

/// A review keys reseal sealed again, and the entry that vouches for it again (appended at the
/// end of its transaction, after the records' and decision sets').
struct resealed_review {
  std::string decision_id;
  std::string details;
};

/// keys reseal's step for the reviews of applicant `who` (their data key `old` replaced by
/// `next`, inside reseal's transaction, the applicants' index merged: merge_counter_index): each
/// sealed review opened and sealed again under `next` (sealing::reseal_review), and the `review`
/// entry that will vouch for it again, replacing the one that vouches for it now (the counter's
/// verify then takes that one as superseded).
status reseal_reviews(database& db, const std::string& who, const crypto::data_key& old,
                      const crypto::data_key& next, const std::string& what,
                      std::vector<resealed_review>& entries) {
  auto q = db.make(
      "SELECT v.review_id, v.decision_id, v.seq, coalesce(v.supersedes, ''), v.at, v.user, "
      "v.decisions, v.observations, v.sealed, (SELECT max(a.seq) FROM audit a WHERE "
      "a.action='review' AND a.subject=v.decision_id AND a.details LIKE '{\"review\":\"' || "
      "v.review_id || '\"%') FROM reviews v WHERE v.decision_id IN (SELECT decision_id FROM "
      "counter_applicants WHERE applicant_id=?1) AND v.sealed IS NOT NULL ORDER BY v.rowid",
      what);
  if (!q) return q.error();
  q->bind(1, who);
  std::vector<std::tuple<review, std::string, std::int64_t>> rows;
  for (;;) {
    auto row = q->next(what);
    if (!row) return row.error();
    if (!*row) break;
    review r = review_from_row(*q);
    rows.emplace_back(std::move(r), std::string(q->blob_view(8)), q->is_null(9) ? 0 : q->int64(9));
  }
  auto u = db.make("UPDATE reviews SET sealed=? WHERE review_id=?", what);
  auto entry = db.make("SELECT details FROM audit WHERE seq=?", what);
  if (!u) return u.error();
  if (!entry) return entry.error();
  std::string sealed;
  for (auto& [r, was, vouched_by] : rows) {
    // What it holds now must be what its entry vouches for: else a change made behind the
    // tool's back would be vouched for again.
    entry->reset();
    entry->bind(1, vouched_by);
    auto found = entry->next(what);
    if (!found) return found.error();
    if (!*found || !review_vouched(entry->text_view(0), r, was)) {
      return fail(errc::damaged, what + ": review " + r.review_id +
                                     " changed since it was vouched for (run dalil audit "
                                     "verify); this transaction was undone");
    }
    if (!sealing::reseal_review(old, next, who, r.review_id, was, sealed)) {
      std::string m = what;
      m += ": applicant ";
      m += who;
      m += ", review ";
      m += r.review_id;
      m += ": it does not open with its key (run dalil audit verify); this transaction was undone";
      return fail(errc::damaged, std::move(m));
    }
    u->reset();
    u->bind_static_blob(1, sealed).bind(2, r.review_id);
    if (auto st = u->run(what); !st) return st;
    entries.push_back(
        {r.decision_id,
         detail::review_details(r.review_id, r.seq, review_digest(r, sealed), true, vouched_by)});
  }
  return {};
}

}  // namespace

result<reseal_report> sqlite_store::reseal_keys(const std::string& actor,
                                                std::int64_t per_transaction) {
  std::string what = path_ + ": re-sealing applicants' data in format 2";
  if (!encrypted_) {
    return fail(errc::refused, path_ + " is not encrypted: it has no data key to re-seal");
  }
  if (auto st = need_key("re-sealing data keys"); !st) return st.error();
  if (per_transaction < 1) {
    return fail(errc::refused, what + ": at least one applicant per transaction");
  }
  auto live = live_lease();
  if (!live) return live.error();
  if (*live) {
    return fail(errc::busy, what + ": a batch holds the store's lease (" + held_by(**live) +
                                "); re-seal once it has finished");
  }
  // Vouching again for the rows it changes needs a store that verifies (keys seal, keys init).
  if (auto st = refuse_unverified(what, ""); !st) return st.error();
  // The old wrapped keys' and ciphertexts' bytes are overwritten in their pages.
  if (auto st = db_.run("PRAGMA secure_delete=ON", what); !st) return st.error();
  const std::string token =
      host_ + ":" + std::to_string(::getpid()) + ":" + std::to_string(unix_now()) + ":keys-reseal";
  const std::string since = now_utc();
  reseal_report done;
#ifdef DALIL_TEST_HOOKS
  // Tests only (tests/store/keys_reseal_test.sh): the process kills itself once it has re-sealed
  // this many applicants, inside the transaction, before it commits.
  std::int64_t kill_at = 0;
  if (const char* k = std::getenv("DALIL_TEST_RESEAL_KILL_AT")) kill_at = std::atoll(k);
#endif
  std::string plain;
  std::string sealed;
  for (;;) {
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    if (auto st = read_keyring(); !st) return st.error();  // the generation, under the lock
    // The lease, so that no batch seals a set under a key this changes; renewed each time.
    std::string held;
    auto l = live_lease(&held);
    if (!l) return l.error();
    if (*l && held != token) {
      return fail(errc::busy, what + ": a batch took the store's lease (" + held_by(**l) +
                                  ") after " + std::to_string(done.applicants) +
                                  " applicant(s) were re-sealed; run again once it has finished");
    }
    {
      auto q = db_.make(
          "INSERT OR REPLACE INTO lease(name, token, run_id, pid, host, since, expires, machine) "
          "VALUES('writer',?,0,?,?,?,?,?)",
          what);
      if (!q) return q.error();
      q->bind(1, token).bind(2, std::int64_t{::getpid()}).bind(3, host_).bind(4, since);
      q->bind(5, unix_now() + lease_seconds).bind(6, machine_);
      if (auto st = q->run(what); !st) return st.error();
    }
    // Format 1 keys are 72 bytes wrapped (crypto.hpp), format 2 61.
    std::vector<std::tuple<std::string, std::string, std::int64_t>> batch;
    {
      auto q = db_.make(
          "SELECT applicant_id, wrapped, generation FROM data_keys WHERE wrapped IS NOT NULL AND "
          "length(wrapped) = 72 ORDER BY applicant_id LIMIT ?",
          what);
      if (!q) return q.error();
      q->bind(1, per_transaction);
      for (;;) {
        auto row = q->next(what);
        if (!row) return row.error();
        if (!*row) break;
        batch.emplace_back(q->text(0), std::string(q->blob_view(1)), q->int64(2));
      }
    }
    if (batch.empty()) {
      auto q = db_.make("DELETE FROM lease WHERE name='writer' AND token=?", what);
      if (!q) return q.error();
      q->bind(1, token);
      if (auto st = q->run(what); !st) return st.error();
      auto e = db_.make("SELECT count(*) FROM data_keys WHERE wrapped IS NULL", what);
      if (!e) return e.error();
      if (auto row = e->next(what); !row) return row.error();
      done.erased = e->int64(0);
      if (auto st = tx->commit(what); !st) return st.error();
      break;
    }
    // What vouches for the rows now (the chain's entries, as verify reads them).
    verify_report scratch;
    verifier gathered(db_, path_, scratch);
    const vouched& v = gathered.gather_chunks();
    changed_rows records;
    changed_rows sets;
    std::int64_t traces = 0;
    auto read_records = db_.make(
        "SELECT record_id, version, import_id, sealed FROM records WHERE applicant_id=? AND "
        "sealed IS NOT NULL ORDER BY record_id",
        what);
    auto write_record = db_.make("UPDATE records SET sealed=? WHERE record_id=?", what);
    auto read_sets = db_.make(
        "SELECT run_id, record_id, coalesce(trace, ''), coalesce(sealed_decisions, x'') FROM "
        "decision_sets WHERE applicant_id=? AND (sealed_decisions IS NOT NULL OR trace GLOB "
        "'sealed1:*') ORDER BY run_id, record_id",
        what);
    auto write_set = db_.make(
        "UPDATE decision_sets SET trace=coalesce(?, trace), sealed_decisions=coalesce(?, "
        "sealed_decisions) WHERE run_id=? AND record_id=?",
        what);
    auto write_key =
        db_.make("UPDATE data_keys SET wrapped=?, generation=? WHERE applicant_id=?", what);
    for (auto* st : {&read_records, &write_record, &read_sets, &write_set, &write_key}) {
      if (!*st) return st->error();
    }
    // Each applicant's rows, read first: the entries that vouch for them are checked before
    // anything changes.
    struct row {
      std::int64_t id = 0;
      std::int64_t version = 0;
      std::int64_t owner = 0;
      std::string sealed;
    };
    struct set_row {
      std::int64_t run = 0;
      std::int64_t record = 0;
      std::string trace;
      std::string values;
    };
    std::vector<std::vector<row>> rows_of(batch.size());
    std::vector<std::vector<set_row>> sets_of(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::string& who = std::get<0>(batch[i]);
      read_records->reset();
      read_records->bind(1, who);
      for (;;) {
        auto r = read_records->next(what);
        if (!r) return r.error();
        if (!*r) break;
        rows_of[i].push_back({read_records->int64(0), read_records->int64(1),
                              read_records->int64(2), std::string(read_records->blob_view(3))});
        records[read_records->int64(2)].push_back(read_records->int64(0));
      }
      read_records->reset();
      read_sets->reset();
      read_sets->bind(1, who);
      for (;;) {
        auto r = read_sets->next(what);
        if (!r) return r.error();
        if (!*r) break;
        sets_of[i].push_back({read_sets->int64(0), read_sets->int64(1), read_sets->text(2),
                              std::string(read_sets->blob_view(3))});
        sets[read_sets->int64(0)].push_back(read_sets->int64(1));
      }
      read_sets->reset();
    }
    // The entries that vouch for the rows about to change: for each, its chunk (same import or
    // run, same range), to be replaced by one over the rows as they will be; an import vouched
    // for by its whole digest only (the counter's) gets chunks over all its records instead.
    std::vector<revouched_chunk> record_chunks;
    std::vector<revouched_chunk> set_chunks;
    auto chunks_of = [&](const changed_rows& changed, bool is_records,
                         std::vector<revouched_chunk>& out) -> status {
      const auto& all = is_records ? v.record_chunks : v.decision_chunks;
      for (const auto& [owner, ids] : changed) {
        auto it = all.find(owner);
        std::set<std::int64_t> picked;
        bool whole = false;
        for (std::int64_t id : ids) {
          const vouched::chunk* hit = nullptr;
          if (it != all.end()) {
            for (const auto& c : it->second) {
              if (c.from <= id && id <= c.to) hit = &c;
            }
          }
          if (hit != nullptr) {
            if (picked.insert(hit->seq).second) {
              out.push_back({owner, hit->from, hit->to, hit->seq, hit->digest,
                             hit->v3 ? revouched_chunk::form::v3 : revouched_chunk::form::legacy});
            }
            continue;
          }
          auto ie = v.imports.find(owner);
          if (!is_records || ie == v.imports.end() || ie->second.f.count("digest") == 0) {
            return fail(errc::damaged, what + ": " + (is_records ? "record " : "decision set ") +
                                           std::to_string(id) +
                                           " is vouched for by no audit entry; nothing changed");
          }
          whole = true;
        }
        if (!whole) continue;
        // Every record of the import, in chunks of rows_per_entry, replacing its whole digest.
        auto q =
            db_.make("SELECT record_id FROM records WHERE import_id=? ORDER BY record_id", what);
        if (!q) return q.error();
        q->bind(1, owner);
        std::vector<std::int64_t> all_ids;
        for (;;) {
          auto r = q->next(what);
          if (!r) return r.error();
          if (!*r) break;
          all_ids.push_back(q->int64(0));
        }
        const auto& ie = v.imports.at(owner);
        for (std::size_t i = 0; i < all_ids.size(); i += rows_per_entry) {
          std::size_t last = std::min(all_ids.size(), i + rows_per_entry) - 1;
          out.push_back({owner, all_ids[i], all_ids[last], ie.seq, ie.f.at("digest"),
                         revouched_chunk::form::whole, ie.v3});
        }
      }
      return {};
    };
    if (auto st = chunks_of(records, true, record_chunks); !st) return st.error();
    if (auto st = chunks_of(sets, false, set_chunks); !st) return st.error();
    // A chunk vouched for again must hold now what its entry vouched for: else a change made
    // behind the tool's back since the verify above (before the first transaction) would be
    // vouched for. Each form as verify checks it: row by row (v3), a chunk's digest before
    // schema 5, an import's whole digest (once per import).
    for (bool is_records : {true, false}) {
      std::int64_t whole_checked = -1;
      for (const revouched_chunk& c : is_records ? record_chunks : set_chunks) {
        std::string now;
        if (c.kind == revouched_chunk::form::v3) {
          row_digest rows;
          if (auto st = chunk_rows(db_, is_records, c, what, rows); !st) return st.error();
          now = digest_of(rows);
        } else if (c.kind == revouched_chunk::form::whole && c.replaces == whole_checked) {
          continue;
        } else {
          auto d = c.kind == revouched_chunk::form::whole
                       ? whole_import_digest(db_, c.owner, c.v3_import, what)
                       : legacy_sets_digest(db_, c.owner, c.from, c.to, what);
          if (!d) return d.error();
          now = std::move(*d);
          if (c.kind == revouched_chunk::form::whole) whole_checked = c.replaces;
        }
        if (now != c.old_digest) {
          return fail(errc::damaged,
                      what + ": " + (is_records ? "records of import " : "decision sets of run ") +
                          std::to_string(c.owner) + " (audit entry " + std::to_string(c.replaces) +
                          ") changed since they were vouched for (run dalil audit verify); "
                          "nothing changed");
        }
      }
    }
    // Each applicant's reviews are found through the applicants' index: in one part first.
    if (auto st = merge_counter_index(db_, what); !st) return st.error();
    std::vector<resealed_review> review_entries;  // appended last (reseal_reviews)
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& [who, wrapped, generation] = batch[i];
      // Where and why, by pseudonym (the store's id, never the applicant's own).
      auto damaged = [&, &who = who](std::string_view why) {
        std::string m = what;
        m += ": applicant ";
        m += who;
        m += why;
        m += " (run dalil audit verify); this transaction was undone";
        return fail(errc::damaged, std::move(m));
      };
      auto old = crypto::unwrap(*key_, wrapped, who, generation);
      if (!old) return damaged(": its data key does not open with the master key");
      crypto::data_key next = crypto::new_data_key(crypto::cipher::aes256gcm);
      if (auto st = reseal_reviews(db_, who, *old, next, what, review_entries); !st) {
        return st.error();
      }
      for (const row& r : rows_of[i]) {
        const std::string ad = record_ad(who, r.version);
        if (!crypto::open(*old, r.sealed, ad, plain)) {
          return damaged(", record " + std::to_string(r.id) + ": it does not open with its key");
        }
        crypto::seal(next, plain, ad, sealed);
        crypto::wipe(plain);
        write_record->reset();
        write_record->bind_static_blob(1, sealed).bind(2, r.id);
        if (auto st = write_record->run(what); !st) return st.error();
        ++done.records;
      }
      for (const set_row& r : sets_of[i]) {
        const std::string where =
            ", decision set " + std::to_string(r.run) + ":" + std::to_string(r.record);
        std::string trace;
        std::string values;
        if (r.trace.rfind(crypto::sealed_text_prefix, 0) == 0) {
          const std::string ad = set_ad("trace", who, r.run, r.record);
          if (!crypto::open_text(*old, r.trace, ad, plain)) {
            return damaged(where + ": its stored trace does not open with its key");
          }
          crypto::seal_text(next, plain, ad, trace);
          crypto::wipe(plain);
          ++traces;
        }
        if (!r.values.empty()) {
          const std::string ad = set_ad("decisions", who, r.run, r.record);
          if (!crypto::open(*old, r.values, ad, plain)) {
            return damaged(where + ": its sealed decisions do not open with its key");
          }
          crypto::seal(next, plain, ad, values);
          crypto::wipe(plain);
        }
        write_set->reset();
        if (trace.empty()) {
          write_set->bind_null(1);
        } else {
          write_set->bind(1, trace);
        }
        if (values.empty()) {
          write_set->bind_null(2);
        } else {
          write_set->bind_blob(2, values);
        }
        write_set->bind(3, r.run).bind(4, r.record);
        if (auto st = write_set->run(what); !st) return st.error();
        ++done.decision_sets;
      }
      // The old key is destroyed: its wrapped copy overwritten (secure_delete) by the new one's.
      write_key->reset();
      write_key->bind_blob(1, crypto::wrap(*key_, next, who, generation_))
          .bind(2, generation_)
          .bind(3, who);
      if (auto st = write_key->run(what); !st) return st.error();
      ++done.applicants;
#ifdef DALIL_TEST_HOOKS
      if (kill_at > 0 && done.applicants >= kill_at) std::raise(SIGKILL);
#endif
    }
    done.traces += traces;
    std::string d = "{";
    add_field(d, "v", details_version);
    add_field(d, "format", 2);
    add_field(d, "applicants", static_cast<std::int64_t>(batch.size()));
    add_field(d, "from", std::get<0>(batch.front()));
    add_field(d, "to", std::get<0>(batch.back()));
    std::int64_t n_records = 0;
    std::int64_t n_sets = 0;
    for (const auto& [o, ids] : records) n_records += static_cast<std::int64_t>(ids.size());
    for (const auto& [o, ids] : sets) n_sets += static_cast<std::int64_t>(ids.size());
    add_field(d, "records", n_records);
    add_field(d, "decision_sets", n_sets);
    add_field(d, "traces", traces);
    add_field(d, "at", now_utc());
    d += '}';
    // The store marked re-sealed (resealed_mark) with its first re-sealed rows: a dalil before
    // reseal refuses it instead of reading the entries below as tampering.
    const std::string mark = std::to_string(resealed_mark);
    std::string marking = "INSERT INTO schema_version SELECT ";
    marking += mark;
    marking += " WHERE NOT EXISTS (SELECT 1 FROM schema_version WHERE version = ";
    marking += mark;
    marking += ')';
    if (auto st = db_.run(marking, what); !st) {
      return st.error();
    }
    if (auto a = detail::append_audit(db_, actor, "keys_reseal", "data_keys", d); !a) {
      return a.error();
    }
    for (bool is_records : {true, false}) {
      for (const revouched_chunk& c : is_records ? record_chunks : set_chunks) {
        row_digest rows;
        if (auto st = chunk_rows(db_, is_records, c, what, rows); !st) return st.error();
        std::string e = "{";
        add_field(e, "v", details_version);
        add_field(e, is_records ? "import" : "run", c.owner);
        add_field(e, "from", c.from);
        add_field(e, "to", c.to);
        rows.write(e);
        add_field(e, "replaces", c.replaces);
        e += '}';
        if (auto a = detail::append_audit(db_, "dalil", is_records ? "records" : "decisions",
                                          std::to_string(c.owner), e);
            !a) {
          return a.error();
        }
      }
    }
    for (const resealed_review& r : review_entries) {
      if (auto a = detail::append_audit(db_, "dalil", "review", r.decision_id, r.details); !a) {
        return a.error();
      }
    }
    if (auto st = tx->commit(what); !st) return st.error();
    ++done.transactions;
#ifdef DALIL_TEST_HOOKS
    // Tests only (tests/store/crypto_test.cpp): a row edited in the file between two
    // transactions, as by hand during a long reseal (this SQL, after the first transaction).
    if (const char* edit = std::getenv("DALIL_TEST_RESEAL_EDIT_SQL");
        edit != nullptr && done.transactions == 1) {
      if (auto st = db_.run(edit, what); !st) return st.error();
    }
#endif
  }
  {
    auto q = db_.make("SELECT count(*) FROM data_keys WHERE length(wrapped) = 72", what);
    if (!q) return q.error();
    if (auto row = q->next(what); !row) return row.error();
    done.left = q->int64(0);
  }
  // Re-sealed rows are shorter (a wrapped key and each ciphertext 11 bytes) but stay in their
  // pages, as many as before, with the chunks' new entries on top: once nothing of format 1 is
  // left, the file is rebuilt from its live rows (as keys init in place and keys seal do), so
  // that a batch reads no more pages than on a store made in format 2 (docs/operations.md).
  if (done.applicants > 0 && done.left == 0) {
    if (auto st = vacuum_on_disk(what + ": compacting the file (every applicant is re-sealed, "
                                        "committed)");
        !st) {
      return st.error();
    }
  }
  // The WAL still holds the pages as they were (the old wrapped keys): copied into the file and
  // truncated now, unless another connection reads (then at a later checkpoint).
  (void)db_.run("PRAGMA wal_checkpoint(TRUNCATE)", what);
  return done;
}

std::int64_t current_schema_version() {
  return schema_version;
}

std::int64_t resealed_schema_mark() {
  return resealed_mark;
}

result<std::unique_ptr<store>> open_sqlite(const std::string& path, open_mode mode,
                                           const crypto::master_key* key) {
  // Past a file-size limit (ulimit -f) a write raises SIGXFSZ, which kills the process by default:
  // ignored, the write fails with EFBIG and the store reports it. Never overrides a handler.
  static std::once_flag xfsz;
  std::call_once(xfsz, [] {
    struct sigaction old {};
    if (sigaction(SIGXFSZ, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
      std::signal(SIGXFSZ, SIG_IGN);
    }
  });
  auto s = std::make_unique<sqlite_store>();
  if (auto o = s->open(path, mode, key); !o) return o.error();
  return std::unique_ptr<store>(std::move(s));
}

}  // namespace dalil::store
