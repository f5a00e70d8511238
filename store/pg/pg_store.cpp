// The PostgreSQL store (pg_store.hpp): migrations, the audit chain and its verification, and the
// copy of a SQLite store.
#include "store/pg/pg_store.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>

#include "engine/sha256.hpp"
#include "store/chain.hpp"
#include "store/entry_format.hpp"
#include "store/pg/migrations.hpp"
#include "store/pg/pg_checks.hpp"
#include "store/sqlite.hpp"

namespace dalil::store::pg {

namespace {

/// Serializes the migrations of processes that open the same database together.
constexpr std::int64_t migrate_lock_key = 0x64616c696c02;

using dalil::store::detail::audit_field;  // a field of an entry's details

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

/// "1-200,205" as the ids it lists, in order; nullopt when it does not parse.
std::optional<std::vector<std::int64_t>> ranges_vector(std::string_view text) {
  std::vector<std::int64_t> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    auto dash = part.find('-');
    auto a = to_int(part.substr(0, dash));
    auto b = dash == std::string_view::npos ? a : to_int(part.substr(dash + 1));
    if (!a || !b || *b < *a || *b - *a > 10'000'000) return std::nullopt;
    for (std::int64_t k = *a; k <= *b; ++k) out.push_back(k);
  }
  return out;
}

/// Every record against its content hash (a sealed one: its JSON empty) and its applicant; every
/// latest flag against the versions; every applicant against its records; every decision set
/// against its record. Computed by the server (only the rows found wrong are sent); the words
/// are the SQLite store's verify's.
template <typename Problem>
status check_records(connection& c, std::string_view what,
                     const std::map<std::string, std::int64_t, std::less<>>& import_seq,
                     const Problem& problem) {
  auto bad = c.query(what,
                     "SELECT r.record_id, r.import_id, r.sealed IS NULL AND encode(sha256("
                     "convert_to(r.json, 'UTF8')), 'hex') <> r.content_hash OR r.sealed IS NOT "
                     "NULL AND r.json <> '', a.applicant_id IS NULL FROM records r LEFT JOIN "
                     "applicants a ON a.applicant_id = r.applicant_id WHERE a.applicant_id IS NULL "
                     "OR (r.sealed IS NULL AND encode(sha256(convert_to(r.json, 'UTF8')), 'hex') "
                     "<> r.content_hash) OR (r.sealed IS NOT NULL AND r.json <> '') ORDER BY "
                     "r.record_id");
  if (!bad) return bad.error();
  for (int i = 0; i < bad->size(); ++i) {
    const std::string id = bad->text(i, 0);
    if (bad->view(i, 2) == "t") {
      auto it = import_seq.find(bad->view(i, 1));
      problem(it == import_seq.end() ? 0 : it->second, "record",
              "record " + id + " does not match its content hash: its JSON was edited");
    }
    if (bad->view(i, 3) == "t") {
      problem(0, "applicant",
              "record " + id +
                  ": its applicant is not in the applicants table (deleted behind the tool's "
                  "back)");
    }
  }
  auto latest = c.query(what,
                        "SELECT r.record_id, r.latest, r.version = m.v FROM records r JOIN "
                        "(SELECT applicant_id, max(version) AS v FROM records GROUP BY "
                        "applicant_id) m ON m.applicant_id = r.applicant_id WHERE r.latest IS "
                        "DISTINCT FROM CASE WHEN r.version = m.v THEN 1 ELSE 0 END ORDER BY "
                        "r.record_id");
  if (!latest) return latest.error();
  for (int i = 0; i < latest->size(); ++i) {
    problem(0, "latest",
            "record " + latest->text(i, 0) + ": its latest flag was changed (it " +
                (latest->view(i, 2) == "t" ? "is" : "is not") +
                " its applicant's latest version, and the flag says " + latest->text(i, 1) + ")");
  }
  auto orphans = c.query(what,
                         "SELECT count(*) FROM applicants a WHERE NOT EXISTS (SELECT 1 FROM "
                         "records r WHERE r.applicant_id = a.applicant_id)");
  if (!orphans) return orphans.error();
  if (orphans->int64(0, 0) != 0) {
    problem(0, "applicant",
            std::to_string(orphans->int64(0, 0)) +
                " applicant row(s) without any record: inserted behind the tool's back");
  }
  auto sets = c.query(
      what,
      "SELECT d.run_id, d.record_id, d.applicant_id = r.applicant_id, encode(d.input_hash, "
      "'hex') = r.content_hash OR length(r.content_hash) <> 64, r.record_id IS NULL FROM "
      "decision_sets d LEFT JOIN records r ON r.record_id = d.record_id WHERE r.record_id IS NULL "
      "OR d.applicant_id <> r.applicant_id OR (encode(d.input_hash, 'hex') <> r.content_hash AND "
      "length(r.content_hash) = 64) ORDER BY d.run_id, d.record_id");
  if (!sets) return sets.error();
  for (int i = 0; i < sets->size(); ++i) {
    const std::string name = "decision set " + sets->text(i, 0) + ":" + sets->text(i, 1);
    if (sets->view(i, 4) == "t") {
      problem(0, "decision_set", name + ": its record no longer exists");
      continue;
    }
    if (sets->view(i, 2) != "t") {
      problem(0, "decision_set", name + ": its applicant is not its record's applicant");
    }
    if (sets->view(i, 3) != "t") {
      problem(0, "decision_set", name + ": its input hash is not its record's content hash");
    }
  }
  return {};
}

/// Encryption at rest, checked without the master key as the SQLite store's verify checks it
/// (detail::check_key_rows) against `chain`, what the intact entries say of it.
template <typename Problem>
status check_keys(connection& c, std::string_view what,
                  const dalil::store::detail::key_entries& chain, const Problem& problem) {
  dalil::store::detail::key_rows rows;
  auto ring = c.query(what, "SELECT key_check FROM keyring");
  if (!ring) return ring.error();
  if (ring->size() != 0) rows.key_check = ring->text(0, 0);
  auto keys = c.query(what,
                      "SELECT r.record_id, k.applicant_id IS NULL, r.applicant_id FROM records r "
                      "LEFT JOIN data_keys k ON k.applicant_id = r.applicant_id WHERE r.sealed IS "
                      "NOT NULL AND (k.applicant_id IS NULL OR k.wrapped IS NULL) ORDER BY "
                      "r.record_id");
  if (!keys) return keys.error();
  for (int i = 0; i < keys->size(); ++i) {
    rows.unkeyed.push_back({keys->int64(i, 0), keys->view(i, 1) == "t", keys->text(i, 2)});
  }
  auto orphans = c.query(what,
                         "SELECT count(*) FROM pseudonyms p WHERE NOT EXISTS (SELECT 1 FROM "
                         "applicants a WHERE a.applicant_id = p.applicant_id)");
  if (!orphans) return orphans.error();
  rows.orphan_pseudonyms = orphans->int64(0, 0);
  auto unlinked = c.query(what,
                          "SELECT DISTINCT r.applicant_id FROM records r WHERE r.sealed IS NOT "
                          "NULL AND NOT EXISTS (SELECT 1 FROM pseudonyms p WHERE p.applicant_id "
                          "= r.applicant_id)");
  if (!unlinked) return unlinked.error();
  for (int i = 0; i < unlinked->size(); ++i) rows.unlinked.push_back(unlinked->text(i, 0));
  if (chain.bound.empty()) {
    auto sealed = c.query(what, "SELECT count(*) FROM records WHERE sealed IS NOT NULL");
    if (!sealed) return sealed.error();
    rows.sealed = sealed->int64(0, 0);
  }
  dalil::store::detail::check_key_rows(chain, rows, problem);
  return {};
}

/// Every run against its entries, as the SQLite store's verify checks them
/// (detail::check_run_rows), with the shard count PostgreSQL keeps.
template <typename Problem>
status check_runs(connection& c, std::string_view what,
                  const std::map<std::int64_t, dalil::store::detail::run_entry>& runs,
                  const Problem& problem) {
  std::map<std::int64_t, std::int64_t> counts;
  auto n = c.query(what, "SELECT run_id, count(*) FROM decision_sets GROUP BY run_id");
  if (!n) return n.error();
  for (int i = 0; i < n->size(); ++i) counts[n->int64(i, 0)] = n->int64(i, 1);
  auto rows = c.query(what,
                      "SELECT run_id, ruleset_hash, as_of, filter, status, generation, "
                      "started_at, coalesce(finished_at, ''), shards FROM runs ORDER BY run_id");
  if (!rows) return rows.error();
  std::vector<dalil::store::detail::run_row> list;
  list.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    list.push_back({rows->int64(i, 0), rows->text(i, 1), rows->text(i, 2), rows->text(i, 3),
                    rows->text(i, 4), rows->int64(i, 5), rows->text(i, 6), rows->text(i, 7),
                    rows->int64(i, 8)});
  }
  dalil::store::detail::check_run_rows(runs, list, counts, problem);
  return {};
}

/// Retention, as the SQLite store's verify checks it (detail::check_retention_rows); returns
/// how many stored traces are erased.
template <typename Problem>
result<std::int64_t> check_retention(connection& c, std::string_view what,
                                     const std::vector<dalil::store::detail::audit_entry>& entries,
                                     const Problem& problem) {
  auto rows = c.query(what, "SELECT kind, days, set_by, set_at FROM retention ORDER BY kind");
  if (!rows) return rows.error();
  std::vector<retention_period> periods;
  periods.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    periods.push_back({rows->text(i, 0), rows->int64(i, 1), rows->text(i, 2), rows->text(i, 3)});
  }
  auto n = c.query(what,
                   "SELECT count(*) FROM decision_sets WHERE trace IS NULL AND trace_erased IS "
                   "NOT NULL");
  if (!n) return n.error();
  const std::int64_t erased = n->int64(0, 0);
  dalil::store::detail::check_retention_rows(entries, periods, erased, problem);
  return erased;
}

}  // namespace

std::int64_t schema_version() {
  return static_cast<std::int64_t>(detail::migrations().size());
}

result<std::unique_ptr<pg_store>> pg_store::open(const std::string& conninfo, bool read_only) {
  auto c = connection::open(conninfo);
  if (!c) return c.error();
  std::unique_ptr<pg_store> s(new pg_store(std::move(*c)));
  if (read_only) {
    if (auto r = s->conn_.set("opening the store read-only", "default_transaction_read_only", "on");
        !r) {
      return r.error();
    }
    auto v = s->version();
    if (!v) return v.error();
    if (*v != schema_version()) {
      return fail(errc::refused, "the PostgreSQL store is at schema " + std::to_string(*v) +
                                     ", this dalil reads schema " +
                                     std::to_string(schema_version()) +
                                     " (open it read-write once to upgrade it)");
    }
    return s;
  }
  if (auto m = s->migrate(); !m) return m.error();
  return s;
}

result<std::int64_t> pg_store::version() {
  auto t = conn_.query("reading the schema version",
                       "SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!t) return t.error();
  if (t->view(0, 0) != "t") return std::int64_t{0};
  auto v = conn_.query("reading the schema version",
                       "SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!v) return v.error();
  return v->int64(0, 0);
}

result<int> pg_store::migrate() {
  const auto list = detail::migrations();
  int applied = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto number = static_cast<std::int64_t>(i + 1);
    const std::string what = "applying PostgreSQL migration " + std::to_string(number);
    auto t = transaction::begin(conn_, what);
    if (!t) return t.error();
    if (auto s =
            conn_.run(what, "SELECT pg_advisory_xact_lock($1)", {std::to_string(migrate_lock_key)});
        !s) {
      return s.error();
    }
    if (auto s = conn_.run(what,
                           "CREATE TABLE IF NOT EXISTS schema_migrations(version bigint PRIMARY "
                           "KEY, name text NOT NULL, applied_at text NOT NULL)");
        !s) {
      return s.error();
    }
    auto have = conn_.query(what, "SELECT 1 FROM schema_migrations WHERE version = $1",
                            {std::to_string(number)});
    if (!have) return have.error();
    if (have->size() == 1) continue;  // applied before (by this process or another)
    if (auto s = conn_.script(what, list[i].sql); !s) return s.error();
    if (list[i].vouch_kept_months) {
      if (auto s = vouch_kept_months(what); !s) return s.error();
    }
    if (auto s = conn_.run(what, "INSERT INTO schema_migrations VALUES($1, $2, $3)",
                           {std::to_string(number), std::string(list[i].name), now_utc()});
        !s) {
      return s.error();
    }
    if (auto s = t->commit(what); !s) return s.error();
    ++applied;
  }
  auto v = version();
  if (!v) return v.error();
  if (*v > schema_version()) {
    return fail(errc::refused, "the PostgreSQL store is at schema " + std::to_string(*v) +
                                   ", newer than this dalil's " + std::to_string(schema_version()) +
                                   ": upgrade dalil");
  }
  return applied;
}

status pg_store::vouch_kept_months(std::string_view what) {
  auto q = conn_.query(what, "SELECT month, figures FROM counter_month_figures ORDER BY month");
  if (!q) return q.error();
  for (int i = 0; i < q->size(); ++i) {
    const std::string month = q->text(i, 0);
    const std::string details = dalil::store::detail::counter_figures_details(
        month, dalil::store::detail::counter_figures_digest(q->view(i, 1)), true);
    if (auto seq = append_in("dalil", "counter_figures", month, details); !seq) return seq.error();
  }
  return {};
}

result<std::int64_t> pg_store::append_in(const std::string& actor, const std::string& action,
                                         const std::string& subject, const std::string& details) {
  constexpr std::string_view what = "appending to the audit log";
  // One round trip: dalil_append (migration 7) takes the chain's lock, reads the head after it
  // (under READ COMMITTED a new snapshot: every append committed before the lock was granted)
  // and inserts the entry hashed here against the head this connection saw last (its own last
  // append, as a group transaction's appends or a server's are). When another process appended
  // since, or a rollback undid ours, it inserts nothing and returns the head, against which
  // the entry is hashed again: the lock is held then, so the second call appends (unless
  // called outside a transaction, against append_with's rule).
  return append_with(
      what, [&](std::int64_t seq, const std::string& prev) -> result<append_attempt> {
        const std::string at = now_utc();
        std::string hash =
            dalil::store::detail::entry_hash(prev, seq, at, actor, action, subject, details);
        auto r = conn_.query(
            what,
            "SELECT appended, head_seq, head_hash FROM dalil_append($1,$2,$3,$4,$5,$6,$7,$8,$9)",
            {std::to_string(chain_lock_key), std::to_string(seq), at, actor, action, subject,
             details, prev, hash});
        if (!r) return r.error();
        return append_attempt{r->view(0, 0) == "t", {r->int64(0, 1), r->text(0, 2)}};
      });
}

result<std::int64_t> pg_store::append_with(
    std::string_view what,
    const std::function<result<append_attempt>(std::int64_t seq, const std::string& prev)>&
        attempt) {
  // Inside the caller's transaction only: there the chain's lock is held from the first call to
  // the commit, and a lost connection fails the transaction rather than running the append
  // again (outside one, a reply lost after the commit would append the entry twice).
  if (!conn_.transaction_open()) {
    return fail(errc::failed, std::string(what) + ": outside a transaction (a caller's error)");
  }
  for (int i = 0; i < 3; ++i) {
    const std::int64_t seq = seen_.seq + 1;
    const std::string prev = seen_.hash.empty() ? std::string(64, '0') : seen_.hash;
    auto r = attempt(seq, prev);
    if (!r) return r.error();
    seen_ = std::move(r->head);
    if (r->appended) return seq;
  }
  return fail(errc::busy, std::string(what) + ": the chain's head moved under each of 3 attempts");
}

result<std::int64_t> pg_store::audit(const std::string& actor, const std::string& action,
                                     const std::string& subject, const std::string& details) {
  auto t = transaction::begin(conn_, "appending to the audit log");
  if (!t) return t.error();
  auto seq = append_in(actor, action, subject, details);
  if (!seq) return seq.error();
  if (auto s = t->commit("appending to the audit log"); !s) return s.error();
  return *seq;
}

result<audit_head> pg_store::head() {
  auto last = conn_.query("reading the audit log's head",
                          "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  if (!last) return last.error();
  if (last->size() == 0) return audit_head{};
  return audit_head{last->int64(0, 0), last->text(0, 1)};
}

result<std::string> pg_store::key_check() {
  auto q = conn_.query("reading the keyring", "SELECT key_check FROM keyring WHERE id = 1");
  if (!q) return q.error();
  return q->size() == 0 ? std::string() : q->text(0, 0);
}

result<verify_report> pg_store::verify_chain(const verify_options& options) {
  constexpr std::string_view what = "reading the audit log";
  auto t = transaction::begin(conn_, what, "ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (!t) return t.error();
  if (auto s = conn_.run(what,
                         "DECLARE dalil_audit NO SCROLL CURSOR FOR SELECT seq, at, actor, action, "
                         "subject, details, prev_hash, hash FROM audit ORDER BY seq");
      !s) {
    return s.error();
  }
  verify_report report;
  auto problem = [&](std::int64_t seq, const char* kind, std::string text) {
    report.problems.push_back({seq, std::move(text), kind});
  };
  std::string want = options.head;
  std::optional<std::int64_t> want_seq;
  if (auto colon = want.find(':'); colon != std::string::npos) {
    want_seq = to_int(want.substr(0, colon));
    want = want.substr(colon + 1);
  }
  std::optional<std::int64_t> head_seq;
  std::int64_t expected = 1;
  std::int64_t first_bad = 0;
  bool after_gap = false;
  std::string prev(64, '0');
  struct vouching_entry {
    std::int64_t seq;
    std::string action;
    std::string subject;
    std::string details;
  };
  std::vector<vouching_entry> vouching;  // the intact entries that vouch for rows
  // Encryption at rest (a migrated encrypted SQLite store): the key check value the last
  // keys_init or keys_rotate entry bound, and the pseudonyms erase entries name.
  dalil::store::detail::key_entries key_chain;
  // Imports whose whole digest no longer vouches for their records: an in-place keys_init or a
  // keys_reseal entry vouched for them again.
  std::set<std::string, std::less<>> redigested;
  // The intact import entries: import id -> (entry, its details); and the import_state entries
  // of an old SQLite store's upgrade (the import's row as it was then).
  std::map<std::string, std::pair<std::int64_t, std::string>, std::less<>> imports;
  std::map<std::string, std::pair<std::int64_t, std::string>, std::less<>> import_states;
  // The intact ruleset entries: hash -> (entry, the loaded_at it vouches for: none in the
  // entries of the first SQLite stores, `{"bytes":N}`, which a migrated store keeps).
  std::map<std::string, std::pair<std::int64_t, std::optional<std::string>>, std::less<>> rulesets;
  // The intact entries of the identity tables and the publications, for their checks.
  std::vector<dalil::store::detail::audit_entry> others;
  // The intact run entries: what each run was opened with, and its completion.
  std::map<std::int64_t, dalil::store::detail::run_entry> runs;
  // The intact retention_set and retention entries, in order.
  std::vector<dalil::store::detail::audit_entry> retention;
  const std::string account_actions = dalil::store::detail::account_actions;
  for (;;) {
    auto batch = conn_.query(what, "FETCH 10000 FROM dalil_audit");
    if (!batch) return batch.error();
    if (batch->size() == 0) break;
    for (int i = 0; i < batch->size(); ++i) {
      std::int64_t seq = batch->int64(i, 0);
      std::string hash = batch->text(i, 7);
      bool intact = true;
      if (seq != expected) {
        problem(expected, "chain",
                "audit entry " + std::to_string(expected) +
                    (seq > expected ? " is missing (the log jumps to " + std::to_string(seq) + ")"
                                    : " is out of order"));
        intact = false;
        after_gap = true;
      } else if (batch->text(i, 6) != prev && !after_gap) {
        problem(seq, "chain",
                "audit entry " + std::to_string(seq) + " does not link to the entry before it");
        intact = false;
      }
      std::string h = dalil::store::detail::entry_hash(batch->text(i, 6), seq, batch->text(i, 1),
                                                       batch->text(i, 2), batch->text(i, 3),
                                                       batch->text(i, 4), batch->text(i, 5));
      if (h != hash) {
        problem(seq, "chain",
                "audit entry " + std::to_string(seq) + " (" + batch->text(i, 3) +
                    ") was changed after it was written");
        intact = false;
      } else {
        after_gap = after_gap && !intact;
      }
      if (!intact && first_bad == 0) first_bad = seq;
      const std::string_view action = batch->view(i, 3);
      if (intact) key_chain.add(seq, action, batch->view(i, 4), batch->text(i, 5));
      if (intact && action == "keys_seal") {
        // Decision sets sealed in place (keys seal): the entries that follow vouch for every
        // set again; the earlier ones are superseded (as the SQLite store's verify reads them).
        std::erase_if(vouching, [](const vouching_entry& v) { return v.action == "decisions"; });
      } else if (intact && action == "keys_init" &&
                 !audit_field(batch->text(i, 5), "in_place").empty()) {
        // A plain store encrypted in place: its rows were sealed and renamed, and the entries
        // that follow vouch for them again.
        vouching.clear();
        for (const auto& [id, ie] : imports) redigested.insert(id);
        report.encrypted_in_place = true;
      } else if (intact && (action == "records" || action == "decisions") &&
                 !audit_field(batch->text(i, 5), "replaces").empty()) {
        // Rows re-sealed under a new data key (keys reseal): this entry vouches again for the
        // rows of the entry it names (same import or run, same range), or for the records of an
        // import that had only its whole digest.
        const std::string details = batch->text(i, 5);
        const auto replaces = to_int(audit_field(details, "replaces"));
        auto old = std::find_if(vouching.begin(), vouching.end(), [&](const vouching_entry& v) {
          return replaces && v.seq == *replaces && v.action == action &&
                 v.subject == batch->view(i, 4) &&
                 audit_field(v.details, "from") == audit_field(details, "from") &&
                 audit_field(v.details, "to") == audit_field(details, "to");
        });
        auto ie = imports.find(batch->view(i, 4));
        const bool whole =
            action == "records" && ie != imports.end() && replaces && ie->second.first == *replaces;
        if (old != vouching.end()) {
          vouching.erase(old);
        } else if (whole) {
          redigested.insert(ie->first);
        } else {
          problem(seq, "chain",
                  "audit entry " + std::to_string(seq) + " (" + batch->text(i, 3) +
                      "): it replaces no entry of its import or run");
        }
        vouching.push_back({seq, batch->text(i, 3), batch->text(i, 4), details});
      } else if (intact && (action == "records" || action == "decisions")) {
        vouching.push_back({seq, batch->text(i, 3), batch->text(i, 4), batch->text(i, 5)});
      } else if (intact && batch->view(i, 3) == "import") {
        imports[batch->text(i, 4)] = {seq, batch->text(i, 5)};
      } else if (intact && batch->view(i, 3) == "import_state") {
        // An old SQLite store's upgrade to its schema 5 vouched for each import's row.
        import_states[batch->text(i, 4)] = {seq, batch->text(i, 5)};
      } else if (intact && batch->view(i, 3) == "ruleset") {
        std::optional<std::string> loaded;
        if (batch->view(i, 5).find("\"loaded_at\":") != std::string_view::npos) {
          loaded = audit_field(batch->text(i, 5), "loaded_at");
        }
        rulesets[batch->text(i, 4)] = {seq, std::move(loaded)};
      } else if (intact && (batch->view(i, 3) == "run" || batch->view(i, 3) == "run_state" ||
                            batch->view(i, 3) == "run_complete")) {
        auto f = dalil::store::detail::parse_details(batch->view(i, 5));
        if (!f || !dalil::store::detail::read_run_entry(runs, seq, batch->view(i, 3),
                                                        batch->view(i, 4), *f)) {
          problem(
              seq, "chain",
              "audit entry " + std::to_string(seq) + " (" + batch->text(i, 3) + ") names no run");
        }
      } else if (intact &&
                 (batch->view(i, 3) == "retention_set" || batch->view(i, 3) == "retention")) {
        retention.push_back(
            {seq, batch->text(i, 2), batch->text(i, 3), batch->text(i, 4), batch->text(i, 5)});
      } else if (intact &&
                 (batch->view(i, 3) == "publish" ||
                  account_actions.find("'" + batch->text(i, 3) + "'") != std::string::npos)) {
        others.push_back(
            {seq, batch->text(i, 2), batch->text(i, 3), batch->text(i, 4), batch->text(i, 5)});
      }
      if (!want.empty() && hash == want && (!want_seq || *want_seq == seq)) head_seq = seq;
      prev = hash;  // re-anchored: one damaged entry is reported once
      expected = seq + 1;
      ++report.entries;
      report.head_hash = hash;
    }
  }
  if (!want.empty()) {
    if (!head_seq) {
      problem(0, "head",
              "the audit log does not reach the head " + options.head +
                  ": entries up to it were removed or rewritten (the log now ends at entry " +
                  std::to_string(expected - 1) + ", hash " + report.head_hash + ")");
    } else if (first_bad != 0 && first_bad <= *head_seq) {
      problem(first_bad, "head",
              "the audit log reaches the head " + options.head + " (entry " +
                  std::to_string(*head_seq) + ") but not unchanged: entry " +
                  std::to_string(first_bad) + " before it is damaged");
    }
  }
  // The rulesets, in the same snapshot: each row's source still has its hash (computed by the
  // server: a source is not sent over), its loaded_at is its entry's, and an entry vouches for it.
  auto rows = conn_.query(what,
                          "SELECT hash, encode(sha256(source), 'hex'), loaded_at FROM rulesets "
                          "ORDER BY hash");
  if (!rows) return rows.error();
  for (int i = 0; i < rows->size(); ++i) {
    std::string hash = rows->text(i, 0);
    const std::string name = "ruleset " + hash.substr(0, 12);
    auto e = rulesets.find(hash);
    if (e == rulesets.end()) {
      problem(0, "ruleset", name + " has no audit entry: it was inserted behind the tool's back");
      continue;
    }
    const std::string where = " (audit entry " + std::to_string(e->second.first) + ")";
    if (rows->view(i, 1) != hash) {
      problem(e->second.first, "ruleset",
              name + where + " was changed: its source no longer has its hash");
    } else if (e->second.second && rows->view(i, 2) != *e->second.second) {
      problem(e->second.first, "ruleset",
              name + where + ": its loaded_at was changed after it was written");
    }
    rulesets.erase(e);
  }
  for (const auto& [hash, entry] : rulesets) {
    problem(entry.first, "ruleset",
            "ruleset " + hash.substr(0, 12) + " (audit entry " + std::to_string(entry.first) +
                ") was deleted");
  }
  // The imports: each row's file, counts, times and correction are those of its entry (of the
  // current form; compared as the entry writes them, so escapes compare exactly), its
  // rejections (one per rejected row, in row order) those the entry's digest vouches for.
  auto import_rows = conn_.query(
      what,
      "SELECT import_id, file, file_hash, coalesce(\"rows\", -1), coalesce(stored, -1), "
      "coalesce(unchanged, -1), coalesce(rejected, -1), started_at, coalesce(received, ''), "
      "coalesce(reason, ''), coalesce(corrected_by, '') FROM imports ORDER BY import_id");
  if (!import_rows) return import_rows.error();
  // The records of the counter's imports (and of SQLite imports before its schema 5): their
  // entry's digest over every record of the import, one line each (as sqlite_counter.cpp writes
  // them, and the SQLite store's verify recomputes them).
  // The rows the entries vouch for, to name the rows none does: record ids, and decision sets'
  // record ids by run.
  std::vector<std::int64_t> vouched_record_ids;
  std::map<std::string, std::vector<std::int64_t>, std::less<>> vouched_set_ids;
  std::map<std::string, std::int64_t, std::less<>> import_seq;  // import id -> its entry
  for (int i = 0; i < import_rows->size(); ++i) {
    const auto& r = *import_rows;
    const std::string id = r.text(i, 0);
    auto e = imports.find(id);
    if (e == imports.end()) {
      problem(0, "import",
              "import " + id + " has no audit entry: it was inserted behind the tool's back");
      continue;
    }
    std::int64_t seq = e->second.first;
    std::string details = e->second.second;
    // An import of an old SQLite store: its row vouched for by its import_state entry, named by
    // it (as SQLite's verify names it).
    auto state = import_states.find(id);
    const bool v3 = audit_field(details, "v") == "3";
    if (!v3 && state != import_states.end()) seq = state->second.first;
    import_seq[id] = seq;
    imports.erase(e);
    if (!v3) {
      // Older entries do not hold the row; a digest of the import's records, when they have one
      // (and no later entry vouched for them again).
      const std::string want_digest =
          redigested.count(id) != 0 ? std::string() : audit_field(details, "digest");
      if (!want_digest.empty()) {
        auto recs = conn_.query(what,
                                "SELECT record_id, applicant_id, version, content_hash, "
                                "encode(sha256(sealed), 'hex') FROM records WHERE import_id = $1 "
                                "ORDER BY record_id",
                                {id});
        if (!recs) return recs.error();
        engine::sha256_stream all;
        std::string line;
        for (int k = 0; k < recs->size(); ++k) {
          line = recs->text(k, 0) + ':' + recs->text(k, 1) + ':' + recs->text(k, 2) + ':' +
                 recs->text(k, 3);
          if (!recs->null(k, 4)) line += ':' + recs->text(k, 4);
          line += '\n';
          all.update(line);
        }
        for (int k = 0; k < recs->size(); ++k) vouched_record_ids.push_back(recs->int64(k, 0));
        if (all.hex() != want_digest) {
          problem(seq, "import",
                  "records of import " + id + " (audit entry " + std::to_string(seq) +
                      ") were changed, deleted or inserted");
        }
      }
      if (state == import_states.end()) continue;
      details = state->second.second;  // the row's fields, as the upgrade vouched for them
    }
    std::string changed;
    auto compare = [&](std::string_view key, auto value, bool optional) {
      std::string field = "{";
      dalil::store::detail::add_field(field, key, value);
      field.erase(0, 1);
      auto at = details.find(field);
      const bool found = at != std::string::npos && at > 0 &&
                         (details[at - 1] == ',' || details[at - 1] == '{') &&
                         at + field.size() < details.size() &&
                         (details[at + field.size()] == ',' || details[at + field.size()] == '}');
      bool fits = found;
      if constexpr (std::is_convertible_v<decltype(value), std::string_view>) {
        // Fields written only when given (schema 9): an empty one is absent from the entry.
        if (optional && std::string_view(value).empty()) {
          fits = details.find("\"" + std::string(key) + "\":") == std::string::npos;
        }
      }
      if (!fits) {
        if (!changed.empty()) changed += ", ";
        changed += key;
      }
    };
    compare("file", r.view(i, 1), false);
    compare("file_hash", r.view(i, 2), false);
    compare("rows", r.int64(i, 3), false);
    compare("stored", r.int64(i, 4), false);
    compare("unchanged", r.int64(i, 5), false);
    compare("rejected", r.int64(i, 6), false);
    compare("started_at", r.view(i, 7), false);
    compare("received", r.view(i, 8), true);
    compare("reason", r.view(i, 9), true);
    compare("by", r.view(i, 10), true);
    auto rejections = conn_.query(what,
                                  "SELECT \"row\", field, reason FROM rejections WHERE "
                                  "import_id = $1 ORDER BY \"row\"",
                                  {id});
    if (!rejections) return rejections.error();
    engine::sha256_stream digest;
    for (int k = 0; k < rejections->size(); ++k) {
      digest.update(dalil::store::detail::rejection_line(
          rejections->int64(k, 0), rejections->view(k, 1), rejections->view(k, 2)));
    }
    if (digest.hex() != audit_field(details, "rejections")) {
      changed += changed.empty() ? "rejections" : ", rejections";
    }
    if (!changed.empty()) {
      std::string text = "import " + id + " (audit entry " + std::to_string(seq) + "): its ";
      text += changed;
      text += " was changed after it was written";
      problem(seq, "import", std::move(text));
    }
  }
  for (const auto& [id, entry] : imports) {
    problem(entry.first, "import",
            "import " + id + " (audit entry " + std::to_string(entry.first) + ") was deleted");
  }
  // The rows, in the same snapshot: each records and decisions entry (of the current form,
  // "v":3) recomputed from the rows it names, and every row vouched for by one.
  // Each entry's rows compared with the ids and tags it lists, row by row (as the SQLite
  // store's verify names them), then the rows no entry vouches for.
  bool all_current = true;
  std::vector<std::pair<std::int64_t, std::string>> lines;  // id, line
  for (const auto& e : vouching) {
    if (audit_field(e.details, "v") != "3") {
      all_current = false;
      if (e.action != "decisions") continue;
      // A chunk of decision sets written before SQLite's schema 5 (a store migrated from an old
      // SQLite store): its digest over the run's sets from..to, as SQLite's verify recomputes
      // it (detail::legacy_chunk_digest), named in the same words.
      const auto run = to_int(audit_field(e.details, "run"));
      const auto from = to_int(audit_field(e.details, "from"));
      const auto upto = to_int(audit_field(e.details, "to"));
      if (!run || !from || !upto) {
        problem(e.seq, "chain", "audit entry " + std::to_string(e.seq) + " names no rows");
        continue;
      }
      auto sets = conn_.query(what,
                              "SELECT record_id, decisions, encode(trace_digest, 'hex'), format "
                              "FROM decision_sets WHERE run_id = $1 AND record_id BETWEEN $2 AND "
                              "$3 ORDER BY record_id",
                              {std::to_string(*run), std::to_string(*from), std::to_string(*upto)});
      if (!sets) return sets.error();
      dalil::store::detail::legacy_chunk_digest digest;
      for (int i = 0; i < sets->size(); ++i) {
        auto trace = engine::digest::from_hex(sets->view(i, 2));
        digest.add(sets->int64(i, 0), engine::sha256(sets->view(i, 1)),
                   trace ? *trace : engine::digest{}, sets->int64(i, 3));
      }
      if (digest.hex() != audit_field(e.details, "digest")) {
        problem(e.seq, "decision_set",
                "decision sets of run " + std::to_string(*run) + ", records " +
                    std::to_string(*from) + ".." + std::to_string(*upto) + " (audit entry " +
                    std::to_string(e.seq) +
                    ", written before schema 5, which names no single row) were changed, "
                    "deleted or inserted");
      }
      continue;
    }
    auto ids = ranges_vector(audit_field(e.details, "ids"));
    auto from = to_int(audit_field(e.details, "from"));
    auto upto = to_int(audit_field(e.details, "to"));
    if (!ids || !from || !upto) {
      problem(e.seq, "chain", "audit entry " + std::to_string(e.seq) + " names no rows");
      continue;
    }
    const bool records = e.action == "records";
    // The rows the entry lists (a row it does not list is named by the pass below, whichever
    // entry's range it falls in: the shards of a run write interleaved ranges).
    std::string listed_ids = "{";
    for (std::int64_t id : *ids) {
      if (listed_ids.size() > 1) listed_ids += ',';
      listed_ids += std::to_string(id);
    }
    listed_ids += '}';
    auto rows_of =
        records
            ? conn_.query(what,
                          "SELECT record_id, applicant_id, version, content_hash, import_id, "
                          "encode(sha256(sealed), 'hex') FROM records WHERE record_id = "
                          "ANY($1::bigint[]) ORDER BY record_id",
                          {listed_ids})
            : conn_.query(what,
                          "SELECT record_id, applicant_id, encode(input_hash, 'hex'), decisions, "
                          "encode(trace_digest, 'hex'), format, trace, trace_erased, "
                          "encode(sha256(sealed_decisions), 'hex') FROM decision_sets WHERE "
                          "run_id = $1 AND record_id = ANY($2::bigint[]) "
                          "ORDER BY record_id",
                          {e.subject, listed_ids});
    if (!rows_of) return rows_of.error();
    lines.clear();
    for (int i = 0; i < rows_of->size(); ++i) {
      const auto& r = *rows_of;
      std::string line;
      if (records) {
        line = dalil::store::detail::record_line(r.int64(i, 0), r.view(i, 1), r.int64(i, 2),
                                                 r.view(i, 3), r.int64(i, 4));
        // A sealed record: its ciphertext by its hash (as record_line writes it).
        if (!r.null(i, 5)) (line += '\x1f') += r.view(i, 5);
      } else {
        auto hex = [](std::string_view h) {
          auto d = engine::digest::from_hex(h);
          return d ? *d : engine::digest{};
        };
        dalil::store::detail::decision_line(line, r.int64(i, 0), r.view(i, 1), hex(r.view(i, 2)),
                                            engine::sha256(r.view(i, 3)), hex(r.view(i, 4)),
                                            r.int64(i, 5), r.view(i, 6), r.view(i, 7));
        // Sealed values: by their hash (as decision_line writes them).
        if (!r.null(i, 8)) (line += '\x1f') += r.view(i, 8);
      }
      lines.emplace_back(r.int64(i, 0), std::move(line));
    }
    const std::string noun = records ? std::string("record ") : "decision set " + e.subject + ":";
    const char* kind = records ? "record" : "decision_set";
    const std::string where = " (audit entry " + std::to_string(e.seq) + ")";
    const std::string tags = audit_field(e.details, "tags");
    const std::size_t named = report.problems.size();
    engine::sha256_stream listed;  // the rows the entry lists, in order
    std::size_t i = 0;
    std::size_t k = 0;
    while (i < ids->size() || k < lines.size()) {
      if (k == lines.size() || (i < ids->size() && (*ids)[i] < lines[k].first)) {
        problem(e.seq, kind, (noun + std::to_string((*ids)[i]) += where) += " was deleted");
        ++i;
      } else if (i == ids->size() || lines[k].first < (*ids)[i]) {
        ++k;  // not listed (an entry's ids out of order): named below if no entry lists it
      } else {
        (records ? vouched_record_ids : vouched_set_ids[e.subject]).push_back(lines[k].first);
        listed.update(lines[k].second);
        listed.update("\n");
        if (tags.size() < 8 * (i + 1) ||
            std::string_view(tags).substr(8 * i, 8) !=
                dalil::store::detail::row_digest::tag_of(lines[k].second)) {
          problem(e.seq, kind,
                  (noun + std::to_string(lines[k].first) += where) +=
                  " was changed after it was written");
        }
        ++i;
        ++k;
      }
    }
    if (report.problems.size() == named) {
      // Same ids and tags: the digest over the whole rows decides.
      if (listed.hex() != audit_field(e.details, "digest")) {
        std::string text = "rows " + std::to_string(*from) + ".." + std::to_string(*upto);
        text += " of ";
        text += noun;
        text += "…";
        text += where;
        text += " were changed after they were written";
        problem(e.seq, kind, std::move(text));
      }
    }
  }
  if (all_current) {
    // Every row is vouched for by an entry (or, for older imports, by its import's digest).
    std::sort(vouched_record_ids.begin(), vouched_record_ids.end());
    auto all = conn_.query(what, "SELECT record_id FROM records ORDER BY record_id");
    if (!all) return all.error();
    for (int i = 0; i < all->size(); ++i) {
      const std::int64_t id = all->int64(i, 0);
      if (!std::binary_search(vouched_record_ids.begin(), vouched_record_ids.end(), id)) {
        problem(0, "record",
                "record " + std::to_string(id) +
                    " was inserted behind the tool's back (no audit entry vouches for it)");
      }
    }
    for (auto& [run, ids] : vouched_set_ids) std::sort(ids.begin(), ids.end());
    auto sets = conn_.query(what,
                            "SELECT run_id::text, record_id FROM decision_sets ORDER BY run_id, "
                            "record_id");
    if (!sets) return sets.error();
    std::map<std::string, std::int64_t, std::less<>> unvouched_runs;  // run -> sets, no entry
    for (int i = 0; i < sets->size(); ++i) {
      const std::string run = sets->text(i, 0);
      const std::int64_t id = sets->int64(i, 1);
      auto it = vouched_set_ids.find(run);
      if (it == vouched_set_ids.end()) {
        ++unvouched_runs[run];
      } else if (!std::binary_search(it->second.begin(), it->second.end(), id)) {
        problem(0, "decision_set",
                "decision set " + run + ":" + std::to_string(id) +
                    " was inserted behind the tool's back (no audit entry vouches for it)");
      }
    }
    for (const auto& [run, n] : unvouched_runs) {
      problem(0, "decision_set",
              "run " + run + " has " + std::to_string(n) +
                  " decision sets that no audit entry vouches for");
    }
  }
  // Each record against its content hash, its applicant and its latest flag; each run against
  // its entries; each decision set against its record (as the SQLite store's verify checks
  // them, with the same words).
  if (auto s = check_records(conn_, what, import_seq, problem); !s) return s.error();
  if (auto s = check_runs(conn_, what, runs, problem); !s) return s.error();
  if (auto s = check_keys(conn_, what, key_chain, problem); !s) return s.error();
  report.erased = static_cast<std::int64_t>(key_chain.erased.size());
  auto erased = check_retention(conn_, what, retention, problem);
  if (!erased) return erased.error();
  report.traces_erased = *erased;
  // The identity tables and the publications, in the same snapshot against the same entries
  // (store/accounts_check.hpp, store/publications.hpp): as SQLite's verify checks them.
  std::vector<dalil::store::detail::account_entry> account_entries;
  for (const auto& e : others) {
    if (e.action != "publish") account_entries.push_back({e.seq, e.action, e.subject, e.details});
  }
  auto accounts = detail::check_accounts(conn_, account_entries);
  if (!accounts) return accounts.error();
  for (auto& p : *accounts) problem(p.seq, "account", std::move(p.what));
  if (auto s = detail::check_publications(conn_, others, report.problems); !s) return s.error();
  // The server's counter decisions and reviews, in the same snapshot (as the SQLite store's
  // verify runs the counter's own check).
  error failure;
  if (auto found = check_counter_rows(conn_, what, &failure)) {
    problem(found->seq, "counter", std::move(found->what));
  } else if (!failure.message.empty()) {
    return failure;
  }
  t->rollback();  // read only: nothing to keep
  return report;
}

}  // namespace dalil::store::pg
