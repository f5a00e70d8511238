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

namespace dalil::store {

namespace detail {
struct verify_context;
}

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

/// One SQLite connection over the publications of a store that open_sqlite has created and
/// migrated. Not thread-safe: one per thread.
class publication_store {
 public:
  /// Opens a connection to the store at `path` (already migrated: errc::failed otherwise).
  static result<std::unique_ptr<publication_store>> open(const std::string& path);
  ~publication_store();
  publication_store(const publication_store&) = delete;
  publication_store& operator=(const publication_store&) = delete;

  /// Adds `p` (ruleset_hash, approved_by, effective_from, actor, note given) with its `publish`
  /// audit entry, in one transaction; fills id and published_at. errc::not_found when the store
  /// does not hold the ruleset; errc::refused for an empty approver or a date that is not
  /// YYYY-MM-DD.
  status publish(publication& p);
  /// Every publication, oldest first.
  result<std::vector<publication>> list();
  /// One publication (errc::not_found when there is none of that id).
  result<publication> get(std::int64_t id);
  /// Cheap: one indexed read, no source (what a server polls to see a new publication).
  result<publications_version> version();
  /// The canonical source of a stored ruleset (errc::not_found when it is not stored).
  result<std::string> ruleset_source(const std::string& hash);

 private:
  publication_store();
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Checks every publication row against its `publish` entry in verify's snapshot: a row changed,
/// deleted, or without an entry (inserted behind the tool's back) is reported, each by its id.
void check_publication_rows(detail::verify_context& ctx);

}  // namespace dalil::store
