// The publications on PostgreSQL (publications.hpp): the SQLite store's rows and `publish`
// entries, each publication written in one transaction holding the chain's lock (its id is max + 1
// under it, as SQLite's rowid), and the check `audit verify` runs over them.
#include <utility>

#include "store/pg/pg_checks.hpp"
#include "store/pg/pg_store.hpp"

namespace dalil::store::pg {

namespace {

constexpr const char* columns =
    "SELECT publication_id, ruleset_hash, approved_by, effective_from, published_at, actor, note "
    "FROM publications ";

publication row_at(const rows& r, int i) {
  publication p;
  p.id = r.int64(i, 0);
  p.ruleset_hash = r.text(i, 1);
  p.approved_by = r.text(i, 2);
  p.effective_from = r.text(i, 3);
  p.published_at = r.text(i, 4);
  p.actor = r.text(i, 5);
  p.note = r.text(i, 6);
  return p;
}

std::string from_hex(std::string_view hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>((nibble(hex[i]) << 4) | nibble(hex[i + 1]));
  }
  return out;
}

class pg_publications final : public publication_store {
 public:
  explicit pg_publications(std::unique_ptr<pg_store> s) : pg_(std::move(s)) {}

  status publish(publication& p) override {
    if (auto ok = dalil::store::detail::check_publication(p); !ok) return ok;
    constexpr std::string_view what = "recording the publication";
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    if (auto s =
            c().run(what, "SELECT pg_advisory_xact_lock($1)", {std::to_string(chain_lock_key)});
        !s) {
      return s;
    }
    auto have = c().query(what, "SELECT 1 FROM rulesets WHERE hash=$1", {p.ruleset_hash});
    if (!have) return have.error();
    if (have->size() == 0) {
      return fail(errc::not_found, "ruleset " + p.ruleset_hash.substr(0, 12) +
                                       " is not in the store: store it first");
    }
    p.published_at = now_utc();
    auto q = c().query(
        what,
        "INSERT INTO publications(publication_id, ruleset_hash, approved_by, "
        "effective_from, published_at, actor, note) SELECT "
        "coalesce(max(publication_id), 0) + 1, $1, $2, $3, $4, $5, $6 FROM "
        "publications RETURNING publication_id",
        {p.ruleset_hash, p.approved_by, p.effective_from, p.published_at, p.actor, p.note});
    if (!q) return q.error();
    p.id = q->int64(0, 0);
    auto a = pg_->append_in(p.actor, "publish", std::to_string(p.id),
                            dalil::store::detail::publish_details(p));
    if (!a) return a.error();
    return tx->commit(what);
  }

  result<std::vector<publication>> list() override {
    auto q =
        c().query("reading the publications", std::string(columns) + "ORDER BY publication_id");
    if (!q) return q.error();
    std::vector<publication> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) out.push_back(row_at(*q, i));
    return out;
  }

  result<publication> get(std::int64_t id) override {
    auto q = c().query("reading publication " + std::to_string(id),
                       std::string(columns) + "WHERE publication_id=$1", {std::to_string(id)});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no publication " + std::to_string(id));
    return row_at(*q, 0);
  }

  result<publications_version> version() override {
    auto q = c().query("reading the publications",
                       "SELECT count(*), coalesce(max(publication_id), 0) FROM publications");
    if (!q) return q.error();
    return publications_version{q->int64(0, 0), q->int64(0, 1)};
  }

  result<std::string> ruleset_source(const std::string& hash) override {
    auto q = c().query("reading ruleset " + hash.substr(0, 12),
                       "SELECT encode(source, 'hex') FROM rulesets WHERE hash=$1", {hash});
    if (!q) return q.error();
    if (q->size() == 0) {
      return fail(errc::not_found, "ruleset " + hash.substr(0, 12) + " is not in the store");
    }
    return from_hex(q->view(0, 0));
  }

 private:
  connection& c() { return pg_->conn(); }
  std::unique_ptr<pg_store> pg_;
};

}  // namespace

namespace detail {

status check_publications(connection& c,
                          const std::vector<dalil::store::detail::audit_entry>& entries,
                          std::vector<audit_problem>& problems) {
  auto q = c.query("reading the publications", std::string(columns) + "ORDER BY publication_id");
  if (!q) return q.error();
  std::vector<publication> rows;
  rows.reserve(static_cast<std::size_t>(q->size()));
  for (int i = 0; i < q->size(); ++i) rows.push_back(row_at(*q, i));
  dalil::store::detail::check_publications(rows, entries, problems);
  return {};
}

}  // namespace detail

result<std::unique_ptr<publication_store>> open_publications(const std::string& conninfo) {
  auto s = pg_store::open(conninfo);
  if (!s) return s.error();
  return std::unique_ptr<publication_store>(std::make_unique<pg_publications>(std::move(*s)));
}

}  // namespace dalil::store::pg
