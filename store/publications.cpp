// The SQLite side of publications (publications.hpp): the rows of migration 8, their `publish`
// audit entries, and the check `audit verify` runs over them.
#include "store/publications.hpp"

#include <charconv>
#include <map>
#include <system_error>
#include <utility>

#include "dsl/value.hpp"
#include "engine/record.hpp"
#include "engine/sha256.hpp"
#include "store/chain.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace dalil::store {

std::string publication_digest(const publication& p) {
  std::string s = std::to_string(p.id);
  for (const std::string* f :
       {&p.ruleset_hash, &p.approved_by, &p.effective_from, &p.published_at, &p.actor, &p.note}) {
    s += '\x1f';
    s += *f;
  }
  return engine::sha256_hex(s);
}

const publication* in_effect(const std::vector<publication>& list, const std::string& as_of) {
  const publication* best = nullptr;
  for (const publication& p : list) {
    if (p.effective_from > as_of) continue;  // YYYY-MM-DD: text order is date order
    if (best == nullptr || p.effective_from > best->effective_from ||
        (p.effective_from == best->effective_from && p.id > best->id)) {
      best = &p;
    }
  }
  return best;
}

std::string publications_json(const std::vector<publication>& list, const std::string& today) {
  std::string out = "{\"today\":";
  engine::append_json_string(out, today);
  out += ",\"in_effect\":";
  const publication* now = in_effect(list, today);
  out += now != nullptr ? std::to_string(now->id) : std::string("null");
  out += ",\"publications\":[";
  for (std::size_t i = 0; i < list.size(); ++i) {
    const publication& p = list[i];
    if (i != 0) out += ',';
    out += "{\"id\":" + std::to_string(p.id) + ",\"ruleset\":";
    engine::append_json_string(out, p.ruleset_hash);
    out += ",\"approved_by\":";
    engine::append_json_string(out, p.approved_by);
    out += ",\"effective_from\":";
    engine::append_json_string(out, p.effective_from);
    out += ",\"published_at\":";
    engine::append_json_string(out, p.published_at);
    out += ",\"actor\":";
    engine::append_json_string(out, p.actor);
    out += ",\"note\":";
    engine::append_json_string(out, p.note);
    out += '}';
  }
  out += "]}";
  return out;
}

namespace {

constexpr const char* columns =
    "SELECT publication_id, ruleset_hash, approved_by, effective_from, published_at, actor, note "
    "FROM publications ";

publication row_of(const statement& q) {
  publication p;
  p.id = q.int64(0);
  p.ruleset_hash = q.text(1);
  p.approved_by = q.text(2);
  p.effective_from = q.text(3);
  p.published_at = q.text(4);
  p.actor = q.text(5);
  p.note = q.text(6);
  return p;
}

}  // namespace

namespace detail {

status check_publication(const publication& p) {
  if (p.approved_by.empty()) {
    return fail(errc::refused, "a publication needs the name of who approved it (--approved-by)");
  }
  if (p.effective_from.size() != 10 || !parse_date(p.effective_from)) {
    return fail(errc::refused, "the date a publication takes effect must be YYYY-MM-DD (--from)");
  }
  return {};
}

std::string publish_details(const publication& p) {
  // The entry names the ruleset and the date; the row's digest covers every field.
  std::string d = "{\"publication\":" + std::to_string(p.id) + ",\"ruleset\":";
  engine::append_json_string(d, p.ruleset_hash);
  d += ",\"effective_from\":";
  engine::append_json_string(d, p.effective_from);
  d += ",\"digest\":\"" + publication_digest(p) + "\"}";
  return d;
}

}  // namespace detail

namespace {

class sqlite_publications final : public publication_store {
 public:
  status open(const std::string& path) {
    std::string e;
    if (!db_.open(path, e)) return fail(errc::failed, e);
    version_ =
        db_.prepare("SELECT count(*), coalesce(max(publication_id), 0) FROM publications", e);
    if (!version_.ok()) {
      return fail(errc::failed, path +
                                    ": the store has no publications table (open it with "
                                    "open_sqlite first, which upgrades it): " +
                                    e);
    }
    return {};
  }

  status publish(publication& p) override {
    if (auto ok = detail::check_publication(p); !ok) return ok;
    constexpr std::string_view what = "recording the publication";
    auto tx = transaction::begin(db_, what);
    if (!tx) return tx.error();
    {
      auto q = db_.make("SELECT 1 FROM rulesets WHERE hash=?", what);
      if (!q) return q.error();
      q->bind(1, p.ruleset_hash);
      auto row = q->next(what);
      if (!row) return row.error();
      if (!*row) {
        return fail(errc::not_found, "ruleset " + p.ruleset_hash.substr(0, 12) +
                                         " is not in the store: store it first");
      }
    }
    p.published_at = now_utc();
    auto q = db_.make(
        "INSERT INTO publications(ruleset_hash, approved_by, effective_from, published_at, "
        "actor, note) VALUES(?,?,?,?,?,?)",
        what);
    if (!q) return q.error();
    q->bind(1, p.ruleset_hash)
        .bind(2, p.approved_by)
        .bind(3, p.effective_from)
        .bind(4, p.published_at)
        .bind(5, p.actor)
        .bind(6, p.note);
    if (auto s = q->run(what); !s) return s;
    p.id = db_.last_insert_id();
    auto a = detail::append_audit(db_, p.actor, "publish", std::to_string(p.id),
                                  detail::publish_details(p));
    if (!a) return a.error();
    return tx->commit(what);
  }

  result<std::vector<publication>> list() override {
    auto q = db_.make(std::string(columns) + "ORDER BY publication_id", "reading the publications");
    if (!q) return q.error();
    std::vector<publication> out;
    for (;;) {
      auto row = q->next("reading the publications");
      if (!row) return row.error();
      if (!*row) return out;
      out.push_back(row_of(*q));
    }
  }

  result<publication> get(std::int64_t id) override {
    auto q = db_.make(std::string(columns) + "WHERE publication_id=?", "reading a publication");
    if (!q) return q.error();
    q->bind(1, id);
    auto row = q->next("reading publication " + std::to_string(id));
    if (!row) return row.error();
    if (!*row) return fail(errc::not_found, "no publication " + std::to_string(id));
    return row_of(*q);
  }

  result<publications_version> version() override {
    version_.reset();
    int rc = version_.step();
    if (rc != SQLITE_ROW) {
      auto e = fail(errc::failed, "reading the publications: " + db_.message());
      version_.reset();
      return e;
    }
    publications_version v{version_.int64(0), version_.int64(1)};
    version_.reset();
    return v;
  }

  result<std::string> ruleset_source(const std::string& hash) override {
    auto q = db_.make("SELECT source FROM rulesets WHERE hash=?", "reading a ruleset");
    if (!q) return q.error();
    q->bind(1, hash);
    auto row = q->next("reading ruleset " + hash.substr(0, 12));
    if (!row) return row.error();
    if (!*row) {
      return fail(errc::not_found, "ruleset " + hash.substr(0, 12) + " is not in the store");
    }
    return q->text(0);
  }

 private:
  database db_;
  statement version_;  // declared after db_: finalized before the connection closes
};

}  // namespace

result<std::unique_ptr<publication_store>> open_sqlite_publications(const std::string& path) {
  auto s = std::make_unique<sqlite_publications>();
  if (auto ok = s->open(path); !ok) return ok.error();
  return std::unique_ptr<publication_store>(std::move(s));
}

namespace detail {

void check_publications(const std::vector<publication>& rows,
                        const std::vector<audit_entry>& entries,
                        std::vector<audit_problem>& problems) {
  auto problem = [&](std::int64_t seq, const char* kind, std::string what) {
    problems.push_back({seq, std::move(what), kind});
  };
  // What the entries vouch for: each publication's digest (a row is added once, never changed).
  std::map<std::int64_t, std::pair<std::int64_t, std::string>> vouched;  // id -> seq, digest
  for (const auto& e : entries) {
    if (e.action != "publish") continue;
    std::string id = detail::audit_field(e.details, "publication");
    if (id.empty() || id != e.subject) {
      problem(e.seq, "unreadable_entry",
              "audit entry " + std::to_string(e.seq) +
                  " (publish): its details do not name the publication it vouches for");
      continue;
    }
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
    if (ec != std::errc() || end != id.data() + id.size()) {
      problem(e.seq, "unreadable_entry",
              "audit entry " + std::to_string(e.seq) +
                  " (publish): its publication id is not a number");
      continue;
    }
    vouched[n] = {e.seq, detail::audit_field(e.details, "digest")};
  }
  for (const publication& p : rows) {
    auto it = vouched.find(p.id);
    if (it == vouched.end()) {
      problem(0, "publication",
              "publication " + std::to_string(p.id) +
                  " has no audit entry: it was inserted behind the tool's back");
      continue;
    }
    if (publication_digest(p) != it->second.second) {
      problem(it->second.first, "publication",
              "publication " + std::to_string(p.id) + " (audit entry " +
                  std::to_string(it->second.first) + ") was changed after it was written");
    }
    vouched.erase(it);
  }
  for (const auto& [id, entry] : vouched) {
    problem(entry.first, "publication",
            "publication " + std::to_string(id) + " (audit entry " + std::to_string(entry.first) +
                ") was deleted");
  }
}

}  // namespace detail

void check_publication_rows(detail::verify_context& ctx) {
  auto q = ctx.db.make(std::string(columns) + "ORDER BY publication_id", "verifying");
  if (!q) {
    // A store without the table (never the case once migrated): named, never skipped.
    ctx.problem(0, "unreadable", "publications: " + q.error().message);
    return;
  }
  std::vector<publication> rows;
  for (;;) {
    auto row = q->next("reading the publications");
    if (!row) {
      ctx.problem(0, row.error().code == errc::damaged ? "damaged_file" : "unreadable",
                  "publications: " + row.error().message);
      return;
    }
    if (!*row) break;
    rows.push_back(row_of(*q));
  }
  detail::check_publications(rows, ctx.entries, ctx.problems);
}

}  // namespace dalil::store
