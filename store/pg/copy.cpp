// `dalil migrate`: a SQLite store copied into an empty PostgreSQL store by COPY, in one snapshot
// of the source and one transaction of the target, then read back and compared. An encrypted
// store is copied as it is: sealed bytes, wrapped keys, lookup hashes and keyring (no key read).
#include <array>
#include <span>

#include "engine/sha256.hpp"
#include "store/pg/pg_store.hpp"
#include "store/sqlite.hpp"

namespace dalil::store::pg {

namespace {

struct column {
  const char* name = nullptr;
  char type = 't';               // 'i' integer, 't' text, 'b' bytes (bytea in PostgreSQL)
  const char* source = nullptr;  // the SQLite expression read, when not the column itself
};

struct table {
  const char* name;
  std::span<const column> columns;
  const char* key;  // the columns that order its rows (all of them when it has no key)
};

// A ruleset's source is text with NUL bytes between its files: bytes in PostgreSQL.
constexpr column rulesets_cols[] = {{"hash", 't'}, {"source", 'b'}, {"loaded_at", 't'}};
constexpr column imports_cols[] = {{"import_id", 'i'},  {"file", 't'},        {"file_hash", 't'},
                                   {"started_at", 't'}, {"rows", 'i'},        {"stored", 'i'},
                                   {"unchanged", 'i'},  {"rejected", 'i'},    {"received", 't'},
                                   {"reason", 't'},     {"corrected_by", 't'}};
constexpr column applicants_cols[] = {{"applicant_id", 't'}};
constexpr column records_cols[] = {{"record_id", 'i'},    {"applicant_id", 't'}, {"version", 'i'},
                                   {"content_hash", 't'}, {"json", 't'},         {"import_id", 'i'},
                                   {"latest", 'i'},       {"sealed", 'b'}};
constexpr column rejections_cols[] = {
    {"import_id", 'i'}, {"row", 'i'}, {"field", 't'}, {"reason", 't'}};
constexpr column runs_cols[] = {{"run_id", 'i'}, {"ruleset_hash", 't'}, {"as_of", 't'},
                                {"filter", 't'}, {"started_at", 't'},   {"finished_at", 't'},
                                {"status", 't'}, {"generation", 'i'}};
constexpr column decision_sets_cols[] = {
    {"run_id", 'i'},       {"record_id", 'i'},       {"input_hash", 'b'}, {"decisions", 't'},
    {"trace_digest", 'b'}, {"trace", 't'},           {"format", 'i'},     {"applicant_id", 't'},
    {"trace_erased", 't'}, {"sealed_decisions", 'b'}};
// Encryption at rest: copied as they are (the wrapped keys and the sealed bytes are never
// opened: migrate needs no key and exposes none).
constexpr column keyring_cols[] = {
    {"id", 'i'}, {"key_check", 't'}, {"lookup_key", 'b'}, {"generation", 'i'}, {"created_at", 't'}};
constexpr column pseudonyms_cols[] = {{"lookup", 't'}, {"applicant_id", 't'}};
constexpr column data_keys_cols[] = {{"applicant_id", 't'}, {"wrapped", 'b'}, {"generation", 'i'}};
// The counter's tables: their rowid (SQLite's, a column in PostgreSQL) keeps the order of
// insertion that the reads of an applicant's decisions and of the reviews follow.
constexpr column counter_decisions_cols[] = {
    {"decision_id", 't'},   {"record_id", 'i'},      {"applicant_id", 't'},
    {"office", 't'},        {"actor", 't'},          {"at", 't'},
    {"as_of", 't'},         {"ruleset_hash", 't'},   {"input_hash", 't'},
    {"rules", 't'},         {"outcomes", 't'},       {"trace", 'i'},
    {"answer_digest", 't'}, {"publication_id", 'i'}, {"rowid", 'i'}};
constexpr column reviews_cols[] = {{"review_id", 't'},  {"decision_id", 't'},  {"seq", 'i'},
                                   {"supersedes", 't'}, {"at", 't'},           {"user", 't'},
                                   {"decisions", 't'},  {"observations", 't'}, {"rowid", 'i'},
                                   {"sealed", 'b'}};
constexpr column retention_cols[] = {
    {"kind", 't'}, {"days", 'i'}, {"set_by", 't'}, {"set_at", 't'}};
constexpr column offices_cols[] = {{"name", 't'}, {"created_at", 't'}};
constexpr column users_cols[] = {{"user_id", 'i'},  {"name", 't'},       {"role", 't'},
                                 {"office", 't'},   {"lang", 't'},       {"password_hash", 't'},
                                 {"disabled", 'i'}, {"created_at", 't'}, {"disabled_at", 't'}};
constexpr column tokens_cols[] = {{"token_id", 'i'},   {"name", 't'},       {"role", 't'},
                                  {"office", 't'},     {"token_hash", 'b'}, {"created_at", 't'},
                                  {"revoked_at", 't'}, {"expires", 'i'}};
constexpr column sessions_cols[] = {
    {"id_hash", 'b'}, {"user_id", 'i'}, {"created", 'i'}, {"last_seen", 'i'}};
constexpr column login_attempts_cols[] = {
    {"attempt_id", 'i'}, {"at", 'i'}, {"account", 'b'}, {"address", 't'}};
// SQLite keeps an account's key as its digest's bytes and an address as text in one column;
// PostgreSQL keeps both as text (the digest in hex).
constexpr column login_throttles_cols[] = {
    {"kind", 't'},
    {"key", 't', "CASE WHEN typeof(key) = 'blob' THEN lower(hex(key)) ELSE key END"},
    {"window_start", 'i'},
    {"refused", 'i'}};
constexpr column login_devices_cols[] = {{"device", 'b'}, {"account", 'b'}, {"last_login", 'i'}};
constexpr column accounts_generation_cols[] = {{"id", 'i'}, {"generation", 'i'}};
constexpr column counter_month_figures_cols[] = {{"month", 't'}, {"figures", 't'}, {"at", 't'}};
constexpr column publications_cols[] = {
    {"publication_id", 'i'}, {"ruleset_hash", 't'}, {"approved_by", 't'}, {"effective_from", 't'},
    {"published_at", 't'},   {"actor", 't'},        {"note", 't'}};
constexpr column audit_cols[] = {{"seq", 'i'},       {"at", 't'},      {"actor", 't'},
                                 {"action", 't'},    {"subject", 't'}, {"details", 't'},
                                 {"prev_hash", 't'}, {"hash", 't'}};

// In the order of their references.
constexpr table tables[] = {
    {"rulesets", rulesets_cols, "hash"},
    {"imports", imports_cols, "import_id"},
    {"applicants", applicants_cols, "applicant_id"},
    {"keyring", keyring_cols, "id"},
    {"pseudonyms", pseudonyms_cols, "lookup"},
    {"data_keys", data_keys_cols, "applicant_id"},
    {"records", records_cols, "record_id"},
    {"rejections", rejections_cols, "import_id,row,field,reason"},
    {"runs", runs_cols, "run_id"},
    {"decision_sets", decision_sets_cols, "run_id,record_id"},
    {"counter_decisions", counter_decisions_cols, "rowid"},
    {"reviews", reviews_cols, "rowid"},
    {"counter_month_figures", counter_month_figures_cols, "month"},
    {"retention", retention_cols, "kind"},
    {"offices", offices_cols, "name"},
    {"users", users_cols, "user_id"},
    {"tokens", tokens_cols, "token_id"},
    {"sessions", sessions_cols, "id_hash"},
    {"login_attempts", login_attempts_cols, "attempt_id"},
    {"login_throttles", login_throttles_cols, "kind,key,window_start"},
    {"login_devices", login_devices_cols, "device,account"},
    {"accounts_generation", accounts_generation_cols, "id"},
    {"publications", publications_cols, "publication_id"},
    {"audit", audit_cols, "seq"},
};

/// Tables the migrations create that migrate does not copy, and rows of which mean that the
/// target is in use (a batch's lease) or kept its version (schema_migrations, left out).
constexpr const char* not_copied[] = {"lease"};

/// The rows an empty store holds (put by the migrations, replaced by the source's): a table
/// holding any other is in use. Tables not named here are empty in an empty store.
struct empty_rows {
  const char* table;
  const char* condition;  // true of a row that an empty store does not hold
};
constexpr empty_rows migrations_rows[] = {
    {"retention",
     "(kind, days, set_by, set_at) NOT IN (('records', 1825, 'default', ''), ('traces', 365, "
     "'default', ''))"},
    {"accounts_generation", "generation <> 1"},
};

std::string quoted(const char* name) {
  return std::string("\"") + name + "\"";
}

/// The names of the target's tables that hold rows an empty store does not: those that
/// copy_from_sqlite copies and those of not_copied (migrated_tables()), one row each.
std::string emptiness_query() {
  std::string sql;
  for (const std::string& name : migrated_tables()) {
    std::string condition = "true";
    for (const auto& r : migrations_rows) {
      if (name == r.table) condition = r.condition;
    }
    sql += sql.empty() ? "" : " UNION ALL ";
    sql += "SELECT '";
    sql += name;
    sql += "' WHERE EXISTS(SELECT 1 FROM ";
    sql += quoted(name.c_str());
    sql += " WHERE ";
    sql += condition;
    sql += ")";
  }
  return sql;
}

/// The ORDER BY of a table: byte order for text on both sides (SQLite's BINARY, PostgreSQL "C").
std::string order_by(const table& t, bool pg) {
  std::string out;
  std::string key = t.key;
  std::size_t start = 0;
  while (start <= key.size()) {
    auto end = key.find(',', start);
    if (end == std::string::npos) end = key.size();
    std::string name = key.substr(start, end - start);
    if (!out.empty()) out += ", ";
    out += "\"" + name + "\"";
    for (const auto& c : t.columns) {
      if (pg && name == c.name && c.type == 't') out += " COLLATE \"C\"";
    }
    start = end + 1;
  }
  return out;
}

/// One value into a row's digest: its length then its bytes (NULL: a length of -1).
void digest_value(engine::sha256_stream& d, std::optional<std::string_view> v) {
  std::string len = v ? std::to_string(v->size()) : "-1";
  len += ':';
  d.update(len);
  if (v) d.update(*v);
}

struct copied {
  std::int64_t rows = 0;
  engine::digest digest;
};

/// Streams one table of the source into COPY lines, digesting each value as text (integers in
/// decimal, bytes in hex).
result<copied> copy_table(database& src, connection& dst, const table& t) {
  std::string cols;
  std::string read;
  for (const auto& c : t.columns) {
    cols += (cols.empty() ? "" : ", ") + quoted(c.name);
    read += (read.empty() ? "" : ", ") + (c.source != nullptr ? c.source : quoted(c.name));
  }
  const std::string what = std::string("copying table ") + t.name;
  auto q = src.make("SELECT " + read + " FROM " + t.name + " ORDER BY " + order_by(t, false), what);
  if (!q) return q.error();
  copied out;
  engine::sha256_stream d;
  status read_error;
  auto feed = [&](std::string& piece) -> result<bool> {
    while (piece.size() < (1U << 20)) {
      auto more = q->next(what);
      if (!more) return more.error();
      if (!*more) return false;
      ++out.rows;
      for (std::size_t i = 0; i < t.columns.size(); ++i) {
        const int col = static_cast<int>(i);
        if (i != 0) piece += '\t';
        if (q->is_null(col)) {
          piece += "\\N";
          digest_value(d, std::nullopt);
          continue;
        }
        switch (t.columns[i].type) {
          case 'i': {
            std::string v = std::to_string(q->int64(col));
            piece += v;
            digest_value(d, v);
            break;
          }
          case 'b': {
            std::string v = engine::hex_of(q->blob_view(col));
            piece += "\\\\x";
            piece += v;
            digest_value(d, v);
            break;
          }
          default: {
            auto v = q->text_view(col);
            append_copy_text(piece, v);
            digest_value(d, v);
          }
        }
      }
      piece += '\n';
    }
    return true;
  };
  if (auto s = dst.copy_in(what, "COPY " + std::string(t.name) + "(" + cols + ") FROM STDIN", feed);
      !s) {
    return s.error();
  }
  out.digest = d.finish();
  return out;
}

/// Reads a copied table back from PostgreSQL in the same order and digests it the same way.
result<copied> digest_copy(connection& c, const table& t) {
  std::string cols;
  for (const auto& col : t.columns) {
    if (!cols.empty()) cols += ", ";
    cols += col.type == 'b' ? "encode(" + quoted(col.name) + ", 'hex')" : quoted(col.name);
  }
  const std::string what = std::string("reading back table ") + t.name;
  if (auto s = c.run(what, "DECLARE dalil_copy NO SCROLL CURSOR FOR SELECT " + cols + " FROM " +
                               t.name + " ORDER BY " + order_by(t, true));
      !s) {
    return s.error();
  }
  copied out;
  engine::sha256_stream d;
  for (;;) {
    auto rows = c.query(what, "FETCH 10000 FROM dalil_copy");
    if (!rows) return rows.error();
    if (rows->size() == 0) break;
    for (int r = 0; r < rows->size(); ++r) {
      ++out.rows;
      for (int col = 0; col < static_cast<int>(t.columns.size()); ++col) {
        if (rows->null(r, col)) {
          digest_value(d, std::nullopt);
        } else {
          digest_value(d, rows->view(r, col));
        }
      }
    }
  }
  if (auto s = c.run(what, "CLOSE dalil_copy"); !s) return s.error();
  out.digest = d.finish();
  return out;
}

}  // namespace

std::vector<std::string> migrated_tables() {
  std::vector<std::string> out;
  for (const auto& t : tables) out.emplace_back(t.name);
  for (const char* name : not_copied) out.emplace_back(name);
  return out;
}

result<migrate_report> copy_from_sqlite(const std::string& sqlite_path, pg_store& to) {
  // The source must verify before anything is copied: a copy of a tampered store would carry
  // its damage under a new head.
  {
    auto source = open_sqlite(sqlite_path, open_mode::read_only);
    if (!source) return source.error();
    auto v = (*source)->verify({});
    if (!v) return v.error();
    if (!v->problems.empty()) {
      return fail(errc::damaged, sqlite_path + " does not verify (" +
                                     std::to_string(v->problems.size()) +
                                     " problem(s), the first: " + v->problems.front().what +
                                     "): run dalil audit verify on it; nothing was copied");
    }
  }
  database src;
  std::string err;
  if (!src.open_read_only(sqlite_path, err)) {
    return fail(errc::failed, "opening " + sqlite_path + ": " + err);
  }
  // One read transaction: every table from the same snapshot.
  if (auto s = src.run("BEGIN", "reading the source store"); !s) return s.error();
  {
    auto q =
        src.make("SELECT count(*) FROM lease WHERE expires > CAST(strftime('%s','now') AS INTEGER)",
                 "reading the source's lease");
    if (!q) return q.error();
    auto row = q->next("reading the source's lease");
    if (!row) return row.error();
    if (*row && q->int64(0) > 0) {
      return fail(errc::busy,
                  "a batch holds the source store's lease: migrate once it has finished or its "
                  "lease has expired; nothing was copied");
    }
  }

  connection& dst = to.conn();
  auto t = transaction::begin(dst, "copying the store");
  if (!t) return t.error();
  // No append of another process between the emptiness check and the commit.
  if (auto s = dst.run("copying the store", "SELECT pg_advisory_xact_lock($1)",
                       {std::to_string(chain_lock_key)});
      !s) {
    return s.error();
  }
  // Every table migrate copies, and every other the migrations create, must hold nothing but
  // what the migrations put there: a row of any (a login attempt, a session, a lease) would be
  // overwritten, clash with the copy, or belong to a store in use.
  auto used = dst.query("checking the target is empty", emptiness_query());
  if (!used) return used.error();
  if (used->size() != 0) {
    std::string names;
    for (int i = 0; i < used->size(); ++i) names += (i == 0 ? "" : ", ") + used->text(i, 0);
    return fail(errc::refused,
                "the target PostgreSQL database already holds a Dalil store (rows in " + names +
                    "): migrate copies into an empty one; nothing was copied");
  }
  // Rows the migrations put in an empty store, replaced by the source's.
  if (auto s = dst.run("copying the store", "DELETE FROM retention"); !s) return s.error();
  if (auto s = dst.run("copying the store", "DELETE FROM accounts_generation"); !s) {
    return s.error();
  }

  migrate_report report;
  std::vector<copied> sums;
  for (const auto& tb : tables) {
    auto c = copy_table(src, dst, tb);
    if (!c) return c.error();
    report.tables.emplace_back(tb.name, c->rows);
    sums.push_back(*c);
  }
  for (std::size_t i = 0; i < std::size(tables); ++i) {
    auto back = digest_copy(dst, tables[i]);
    if (!back) return back.error();
    if (back->rows != sums[i].rows || !(back->digest == sums[i].digest)) {
      return fail(errc::damaged, std::string("the copy of table ") + tables[i].name +
                                     " differs from the source (" + std::to_string(back->rows) +
                                     " rows read back, " + std::to_string(sums[i].rows) +
                                     " copied); nothing was kept");
    }
  }
  // The attempts' ids go on after the copied ones (an identity column: never reused).
  if (auto s = dst.run("copying the store",
                       "SELECT setval(pg_get_serial_sequence('login_attempts', 'attempt_id'), "
                       "(SELECT coalesce(max(attempt_id), 0) + 1 FROM login_attempts), false)");
      !s) {
    return s.error();
  }
  // The counter's rowids were copied: their identity goes on after the largest.
  for (const char* name : {"counter_decisions", "reviews"}) {
    if (auto s = dst.run("copying the store",
                         std::string("SELECT setval(pg_get_serial_sequence('") + name +
                             "', 'rowid'), coalesce(max(rowid), 0) + 1, false) FROM " + name);
        !s) {
      return s.error();
    }
  }
  if (auto s = t->commit("copying the store"); !s) return s.error();
  auto h = to.head();
  if (!h) return h.error();
  report.head = *h;
  return report;
}

}  // namespace dalil::store::pg
