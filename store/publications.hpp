// Publications: a reviewed ruleset made the one in effect from a date on (`dalil publish`), with
// who approved it. The ruleset's canonical source is stored by its hash (store::put_ruleset); a
// publication row names it, and a `publish` audit entry written in the same transaction keeps
// the row's digest, so that `audit verify` detects a publication changed, deleted or inserted
// behind the tool's back (check_publication_rows). Rows are only ever added.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/result.hpp"
#include "store/store.hpp"

namespace dalil::store {

namespace detail {
struct verify_context;
struct audit_entry;
}  // namespace detail

/// One publication (migration 8, table `publications`).
struct publication {
  std::int64_t id = 0;         // publication_id: 1, 2, … in publishing order
  std::string ruleset_hash;    // a ruleset the store holds
  std::string approved_by;     // who approved the pack (a person's name, as given)
  std::string effective_from;  // YYYY-MM-DD: in effect for as-of dates from this one on
  std::string published_at;    // UTC, ISO 8601 (filled by publish)
  std::string actor;           // who ran `dalil publish` (cli_actor())
  std::string note;            // free text, "" when none
};

/// The digest a `publish` audit entry keeps of its row (SHA-256 hex of every field).
std::string publication_digest(const publication& p);

/// Of `list`, the publication in effect on `as_of` (YYYY-MM-DD): the greatest effective_from on
/// or before it, and of those the latest published (the greatest id); nullptr when none.
const publication* in_effect(const std::vector<publication>& list, const std::string& as_of);

/// {"today": DATE, "in_effect": ID|null, "publications": [{"id", "ruleset", "approved_by",
/// "effective_from", "published_at", "actor", "note"}]}: what `dalil publications --format json`
/// prints and `GET /api/v1/publications` answers (`today`: the as-of date of "in_effect").
std::string publications_json(const std::vector<publication>& list, const std::string& today);

/// What changes whenever a publication is added: the number of rows and the greatest id.
struct publications_version {
  std::int64_t count = 0;
  std::int64_t last_id = 0;
  bool operator==(const publications_version&) const = default;
};

/// The publications of a store: SQLite (open_sqlite_publications) or PostgreSQL
/// (store::pg::open_publications); store/pg/open.hpp's open_publications chooses by the --db.
/// Not thread-safe: one per thread.
class publication_store {
 public:
  virtual ~publication_store() = default;

  /// Adds `p` (ruleset_hash, approved_by, effective_from, actor, note given) with its `publish`
  /// audit entry, in one transaction; fills id and published_at. errc::not_found when the store
  /// does not hold the ruleset; errc::refused for an empty approver or a date that is not
  /// YYYY-MM-DD.
  virtual status publish(publication& p) = 0;
  /// Every publication, oldest first.
  virtual result<std::vector<publication>> list() = 0;
  /// One publication (errc::not_found when there is none of that id).
  virtual result<publication> get(std::int64_t id) = 0;
  /// Cheap: one indexed read, no source (what a server polls to see a new publication).
  virtual result<publications_version> version() = 0;
  /// The canonical source of a stored ruleset (errc::not_found when it is not stored).
  virtual result<std::string> ruleset_source(const std::string& hash) = 0;
};

/// Opens a connection to the SQLite store at `path` (already migrated by open_sqlite:
/// errc::failed otherwise).
result<std::unique_ptr<publication_store>> open_sqlite_publications(const std::string& path);

namespace detail {
/// What publish checks before writing (both stores): errc::refused, saying why.
status check_publication(const publication& p);
/// The details of `p`'s `publish` entry (its id and published_at filled).
std::string publish_details(const publication& p);
/// Every publication row (`rows`, by id) checked against the `publish` entries of `entries` (the
/// intact chain, in order): a row changed, deleted, or without an entry is reported, each by id.
void check_publications(const std::vector<publication>& rows,
                        const std::vector<audit_entry>& entries,
                        std::vector<audit_problem>& problems);
}  // namespace detail

/// Checks every publication row against its `publish` entry in verify's snapshot: a row changed,
/// deleted, or without an entry (inserted behind the tool's back) is reported, each by its id.
void check_publication_rows(detail::verify_context& ctx);

}  // namespace dalil::store
