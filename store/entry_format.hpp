// How audit entries describe what they vouch for (records, rejections, decision sets): the
// details' fields, the rows' lines and their digests. Shared by the SQLite and PostgreSQL stores,
// so that an entry is byte for byte the same whatever the database (and a migrated store verifies).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/record.hpp"
#include "engine/sha256.hpp"
#include "store/store.hpp"

namespace dalil::store {
/// The value of `"key":` in an audit entry's details (store/chain.hpp, which this header does not
/// include: it would bring SQLite's header to every user of the entries' format).
std::string audit_field(const std::string& details, const std::string& key);
}  // namespace dalil::store

namespace dalil::store::detail {

/// The audit details written from schema 5 on carry "v":3 (the third form of the details); the
/// entries before it, their own form.
inline constexpr int details_version = 3;
/// Records and decision sets are vouched for by entries of at most this many rows, each listing
/// the ids and a short tag per row, so that verify names the exact row that changed.
inline constexpr std::size_t rows_per_entry = 5000;

inline void add_field(std::string& out, std::string_view key, std::string_view text) {
  out += out.size() > 1 ? "," : "";
  engine::append_json_string(out, key);
  out += ':';
  engine::append_json_string(out, text);
}

inline void add_field(std::string& out, std::string_view key, std::int64_t n) {
  out += out.size() > 1 ? "," : "";
  engine::append_json_string(out, key);
  out += ':';
  out += std::to_string(n);
}

/// Sorted ids as ranges, "1-200,205,207-300": an entry's list of the rows it vouches for.
inline std::string id_ranges(const std::vector<std::int64_t>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size();) {
    std::size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(ids[i]);
    if (j > i) out += '-' + std::to_string(ids[j]);
    i = j + 1;
  }
  return out;
}

/// Rows vouched for by one entry (schema 5): each row's line hashed on its own; the entry keeps
/// the row ids, the first 4 bytes of each row's hash (its tag, to name a changed row) and the
/// digest of all the row hashes (to detect any change whatever the tags say).
class row_digest {
 public:
  /// Rows are hashed as one stream (the entry's digest: any change is detected); each row's tag
  /// is a 32-bit FNV-1a of its line, cheap, to name the row that changed (not to detect it).
  void add(std::int64_t id, std::string_view line) {
    ids_.push_back(id);
    append_tag(tags_, line);
    sha_.update(line);
    sha_.update("\n");
  }
  static void append_tag(std::string& out, std::string_view line) {
    std::uint32_t h = 2166136261U;
    for (char c : line) {
      h ^= static_cast<unsigned char>(c);
      h *= 16777619U;
    }
    static constexpr char hex[] = "0123456789abcdef";
    for (int shift = 28; shift >= 0; shift -= 4) out += hex[(h >> shift) & 0xf];
  }
  static std::string tag_of(std::string_view line) {
    std::string t;
    append_tag(t, line);
    return t;
  }
  /// Adds "ids", "tags", "count" and "digest" to `details`.
  void write(std::string& details) {
    add_field(details, "count", static_cast<std::int64_t>(ids_.size()));
    add_field(details, "ids", id_ranges(ids_));
    add_field(details, "tags", tags_);
    add_field(details, "digest", sha_.hex());
  }
  std::size_t size() const { return ids_.size(); }

 private:
  std::vector<std::int64_t> ids_;
  std::string tags_;
  engine::sha256_stream sha_;
};

/// The line of one record as entries vouch for it (the latest flag is not in it: it follows from
/// the versions, and verify checks it so).
inline std::string record_line(std::int64_t record_id, std::string_view applicant,
                               std::int64_t version, std::string_view content_hash,
                               std::int64_t import_id, std::string_view sealed = {}) {
  std::string line = std::to_string(record_id);
  line += '\x1f';
  line += applicant;
  line += '\x1f';
  line += std::to_string(version);
  line += '\x1f';
  line += content_hash;
  line += '\x1f';
  line += std::to_string(import_id);
  // A sealed record (schema 6): the entry vouches for its ciphertext, so that destroying the
  // data key never breaks verification.
  if (!sealed.empty()) {
    line += '\x1f';
    line += engine::sha256_hex(sealed);
  }
  return line;
}

/// The line of one decision set as entries vouch for it (schema 5): everything the row holds, the
/// full trace by its hash, and (schema 10, only when the row has them) the sealed decisions by
/// theirs: a line of a set without them is the line it always was.
inline void decision_line(std::string& line, std::int64_t record_id, std::string_view applicant,
                          const engine::digest& input, const engine::digest& decisions,
                          const engine::digest& trace_digest, std::int64_t format,
                          std::string_view trace, std::string_view erased_trace_hash = {},
                          std::string_view sealed_decisions = {}) {
  line.clear();
  line += std::to_string(record_id);
  line += '\x1f';
  line += applicant;
  line += '\x1f';
  input.append_hex(line);
  line += '\x1f';
  decisions.append_hex(line);
  line += '\x1f';
  trace_digest.append_hex(line);
  line += '\x1f';
  line += std::to_string(format);
  line += '\x1f';
  if (trace.empty() && !erased_trace_hash.empty()) {
    line += erased_trace_hash;  // erased by retention (schema 9): the hash it had
  } else if (trace.empty()) {
    line += '-';
  } else {
    engine::sha256(trace).append_hex(line);
  }
  if (!sealed_decisions.empty()) {
    line += '\x1f';
    engine::sha256(sealed_decisions).append_hex(line);
  }
}

/// The digest an audit entry keeps for a chunk of decision sets of entries before schema 5: one
/// line per set, "record_id:decisions digest:trace digest" in hex (":format" from decision
/// format 2 on), hashed as a stream.
class legacy_chunk_digest {
 public:
  void add(std::int64_t record_id, const engine::digest& decisions, const engine::digest& trace,
           std::int64_t format) {
    line_.clear();
    line_ += std::to_string(record_id);
    line_ += ':';
    decisions.append_hex(line_);
    line_ += ':';
    trace.append_hex(line_);
    if (format != 1) {
      line_ += ':';
      line_ += std::to_string(format);
    }
    line_ += '\n';
    sha_.update(line_);
  }
  std::string hex() { return sha_.hex(); }

 private:
  engine::sha256_stream sha_;
  std::string line_;
};

inline std::string rejection_line(std::int64_t row, std::string_view field,
                                  std::string_view reason) {
  std::string line = std::to_string(row);
  line += '\x1f';
  line += field;
  line += '\x1f';
  line += reason;
  line += '\n';
  return line;
}

/// The details of a `run` entry: a run opened (its key, generation and start).
inline std::string run_details(std::int64_t run_id, std::string_view ruleset,
                               std::string_view as_of, std::string_view filter,
                               std::int64_t generation, std::string_view started_at,
                               std::int64_t shards = 1) {
  std::string d = "{";
  add_field(d, "v", details_version);
  add_field(d, "run", run_id);
  add_field(d, "ruleset", ruleset);
  add_field(d, "as_of", as_of);
  add_field(d, "filter", filter);
  add_field(d, "generation", generation);
  add_field(d, "started_at", started_at);
  // A run in shards (PostgreSQL, dalil batch --shard I/N) names its shard count; a run of one
  // process does not (its entry is what it always was, on either backend).
  if (shards != 1) add_field(d, "shards", shards);
  d += '}';
  return d;
}

/// The details of a `decisions` entry: the decision sets of records from..to of a run, by
/// their lines' digest.
inline std::string decisions_details(std::int64_t run_id, std::int64_t from, std::int64_t to,
                                     row_digest& digest) {
  std::string d = "{";
  add_field(d, "v", details_version);
  add_field(d, "run", run_id);
  add_field(d, "from", from);
  add_field(d, "to", to);
  digest.write(d);
  d += '}';
  return d;
}

/// The details of a `records` entry: the records from..to of an import, by their lines' digest
/// (an import writes them, and so do keys init in place and keys reseal when they vouch again).
inline std::string records_details(std::int64_t import_id, std::int64_t from, std::int64_t to,
                                   row_digest& digest) {
  std::string d = "{";
  add_field(d, "v", details_version);
  add_field(d, "import", import_id);
  add_field(d, "from", from);
  add_field(d, "to", to);
  digest.write(d);
  d += '}';
  return d;
}

/// The entries that vouch again for rows rewritten in place (keys init over plain records, keys
/// seal, keys reseal), in the form import and batch write them: the rows of each import (records)
/// or run (decision sets), given in order, cut into entries of rows_per_entry rows. `append`
/// writes one entry ("records" or "decisions", its owner's id, its details). Both stores use it,
/// so that their entries agree byte for byte.
class revouch_chunks {
 public:
  using append_fn =
      std::function<status(const char* action, std::int64_t owner, const std::string& details)>;
  revouch_chunks(bool records, append_fn append) : records_(records), append_(std::move(append)) {
    chunk_.emplace();
  }
  /// Row `id` of import or run `owner`, by its line.
  status add(std::int64_t owner, std::int64_t id, std::string_view line) {
    if (owner != owner_ || chunk_->size() == rows_per_entry) {
      if (auto st = flush(); !st) return st;
      owner_ = owner;
    }
    if (chunk_->size() == 0) first_ = id;
    last_ = id;
    chunk_->add(id, line);
    return {};
  }
  /// The entry of the rows added since the last one (none when there are none).
  status flush() {
    if (chunk_->size() == 0) return {};
    const std::string d = records_ ? records_details(owner_, first_, last_, *chunk_)
                                   : decisions_details(owner_, first_, last_, *chunk_);
    chunk_.emplace();
    return append_(records_ ? "records" : "decisions", owner_, d);
  }

 private:
  bool records_;
  append_fn append_;
  std::int64_t owner_ = -1;
  std::int64_t first_ = 0;
  std::int64_t last_ = 0;
  std::optional<row_digest> chunk_;
};

/// The details of a `counter_decision` entry: the decision's record, its office and its digest
/// (store/counter_store.hpp's counter_digest).
inline std::string counter_decision_details(std::int64_t record_id, std::string_view office,
                                            std::string_view digest) {
  std::string d = "{\"record\":" + std::to_string(record_id) + ",\"office\":";
  engine::append_json_string(d, office);
  d += ",\"digest\":\"";
  d += digest;
  d += "\"}";
  return d;
}

/// The details of a `review` entry: the review, its rank among the decision's reviews and the
/// digest of its row (store/counter_store.hpp's review_digest). A review of an encrypted store
/// keeps its text sealed: its entry says so ("form":"sealed") and its digest covers the sealed
/// bytes; a plain store's entry is what it always was.
/// `replaces` (keys reseal: the review sealed again under a new data key): the entry that
/// vouched for it before, which the counter's verify then takes as superseded.
inline std::string review_details(std::string_view review_id, std::int64_t seq,
                                  std::string_view digest, bool sealed, std::int64_t replaces = 0) {
  std::string d = "{\"review\":\"";
  d += review_id;
  d += "\",\"seq\":" + std::to_string(seq);
  if (sealed) d += ",\"form\":\"sealed\"";
  d += ",\"digest\":\"";
  d += digest;
  d += '"';
  if (replaces != 0) d += ",\"replaces\":" + std::to_string(replaces);
  d += '}';
  return d;
}

/// The details of a `keys_seal` entry: how many decision sets keys seal rewrote, how many of
/// them of erased applicants (their values dropped), and, when it vouches for the counter's
/// decisions again, how many it retyped.
inline std::string keys_seal_details(std::int64_t decision_sets, std::int64_t erased,
                                     std::int64_t counter_decisions, std::string_view at,
                                     std::int64_t reviews = 0) {
  std::string d = "{";
  add_field(d, "v", details_version);
  add_field(d, "decision_sets", decision_sets);
  add_field(d, "erased", erased);
  // Present only when the counter's decisions are vouched for again: the counter's verify then
  // takes the counter_decision entries before this one as superseded.
  if (counter_decisions != 0) add_field(d, "counter_decisions", counter_decisions);
  // Present only when reviews an older dalil kept in plain were sealed (each vouched for again
  // by a review entry naming the one it replaces).
  if (reviews != 0) add_field(d, "reviews", reviews);
  add_field(d, "at", at);
  d += '}';
  return d;
}

/// The details of a `counter_figures` entry: the statistics' figures of `month` kept as first
/// released (store/counter_store.hpp's keep_month_figures), by the SHA-256 of their text, so that
/// `verify` finds a kept month changed, deleted or inserted behind the tool's back. `upgrade`:
/// figures a dalil before these entries had kept, vouched for as found when the store was
/// upgraded.
inline std::string counter_figures_details(std::string_view month, std::string_view digest,
                                           bool upgrade = false) {
  std::string d = "{";
  add_field(d, "v", details_version);
  add_field(d, "month", month);
  add_field(d, "digest", digest);
  if (upgrade) add_field(d, "upgrade", std::int64_t{1});
  d += '}';
  return d;
}

/// The digest a `counter_figures` entry keeps of a month's figures (their text as kept).
inline std::string counter_figures_digest(std::string_view figures) {
  return engine::sha256_hex(figures);
}

/// The entries after which the months' figures kept before are gone (both stores' verify): an
/// encryption in place (keys init --db over data) and keys seal retyping the counter's outcomes
/// drop them, as they hold the amounts counted, to be counted again from the sealed outcomes.
inline constexpr std::string_view figures_dropped_by =
    "(action='keys_init' AND details LIKE '%\"in_place\":%') OR (action='keys_seal' AND "
    "details LIKE '%\"counter_decisions\":%')";

/// verify's reading of the months' figures kept: the counter_figures entries since the figures
/// were last dropped, each with the row kept for its month (figures NULL: none), in order.
inline std::string kept_months_sql() {
  return "SELECT a.seq, a.subject, a.details, f.figures FROM audit a LEFT JOIN "
         "counter_month_figures f ON f.month = a.subject WHERE a.action = 'counter_figures' AND "
         "a.seq > (SELECT coalesce(max(seq), 0) FROM audit WHERE " +
         std::string(figures_dropped_by) + ") ORDER BY a.seq";
}

/// verify's check of the months' figures kept, the same on both stores: each entry of
/// kept_months_sql against the row kept for its month, then the rows counted (none that no
/// entry vouches for).
class kept_months_check {
 public:
  /// What is wrong with entry `seq` (for `month`, with its `details`) and the figures kept for
  /// that month (`figures`; nullopt: no row); nullopt when it vouches for them.
  std::optional<audit_problem> entry(std::int64_t seq, const std::string& month,
                                     const std::string& details,
                                     std::optional<std::string_view> figures) {
    auto problem = [&](const char* how) {
      return std::optional<audit_problem>(audit_problem{
          seq,
          "the figures kept for " + month + " (audit entry " + std::to_string(seq) + ") " + how});
    };
    if (!figures) return problem("were deleted");
    if (!vouched_.insert(month).second) return problem("are vouched for twice");
    if (counter_figures_digest(*figures) != audit_field(details, "digest") ||
        audit_field(details, "month") != month) {
      return problem("were changed");
    }
    return std::nullopt;
  }
  /// Whether the `kept` rows counter_month_figures holds are each vouched for by an entry seen.
  [[nodiscard]] std::optional<audit_problem> rows(std::int64_t kept) const {
    if (kept == static_cast<std::int64_t>(vouched_.size())) return std::nullopt;
    return audit_problem{0,
                         "there are months' figures that no audit entry vouches for "
                         "(counter_month_figures: inserted behind the tool's back)"};
  }

 private:
  std::set<std::string> vouched_;
};

/// Why `dalil retention --set KIND=DAYS --by BY` is refused ("" when it is not): a kind of
/// data, records 1 to 36500 days, traces 0 to 36500 (0: erased at the next apply), and who.
inline std::string retention_period_refusal(std::string_view kind, std::int64_t days,
                                            std::string_view by) {
  if (kind != "records" && kind != "traces") return "no such kind of data (records, traces)";
  if (days < (kind == "traces" ? 0 : 1) || days > 36500) {
    return std::string("the period must be ") + (kind == "traces" ? "0" : "1") + " to 36500 days";
  }
  if (by.empty()) return "say who sets it (--by)";
  return {};
}

/// The details of a `retention_set` entry: a kind's new period, the one before, who and when.
inline std::string retention_set_details(std::string_view kind, std::int64_t days,
                                         std::int64_t from, std::string_view by,
                                         std::string_view at) {
  std::string d = "{";
  add_field(d, "v", details_version);
  add_field(d, "kind", kind);
  add_field(d, "days", days);
  add_field(d, "from", from);
  add_field(d, "by", by);
  add_field(d, "at", at);
  d += '}';
  return d;
}

/// The days of `records` and of `traces` among the periods.
inline std::pair<std::int64_t, std::int64_t> retention_days(
    const std::vector<retention_period>& periods) {
  std::pair<std::int64_t, std::int64_t> days{0, 0};
  for (const auto& p : periods) (p.kind == "records" ? days.first : days.second) = p.days;
  return days;
}

/// The details of a `retention` entry: what `dalil retention --apply` erased on `today`.
inline std::string retention_details(std::string_view today, std::string_view by,
                                     std::string_view only, std::int64_t records_days,
                                     std::int64_t traces_days, const retention_applied& done,
                                     const std::vector<std::int64_t>& trace_runs) {
  std::string d = "{";
  add_field(d, "v", details_version);
  add_field(d, "as_of", today);
  add_field(d, "by", by);
  if (!only.empty()) add_field(d, "kind", only);
  add_field(d, "records_days", records_days);
  add_field(d, "traces_days", traces_days);
  add_field(d, "applicants", done.applicants);
  add_field(d, "records", done.records);
  add_field(d, "traces", done.traces);
  add_field(d, "runs", id_ranges(trace_runs));
  d += '}';
  return d;
}

/// The details of a `run_complete` entry: how many decision sets the run holds, and when.
inline std::string run_complete_details(std::int64_t run_id, std::int64_t decision_sets,
                                        std::string_view finished_at) {
  std::string d = "{";
  add_field(d, "v", details_version);
  add_field(d, "run", run_id);
  add_field(d, "decision_sets", decision_sets);
  add_field(d, "finished_at", finished_at);
  d += '}';
  return d;
}

/// The counts of an import, as its entry gives them.
struct import_counts {
  std::int64_t rows = 0;
  std::int64_t stored = 0;
  std::int64_t records = 0;
  std::int64_t unchanged = 0;
  std::int64_t rejected = 0;
};

/// The details of an `import` entry. Schema 9 added the retention clock's start and a
/// correction's reason and author, only when given: the entries of other imports keep their form.
/// The details of an `erase` entry (both stores write it; the chain hashes these bytes).
inline std::string erase_details(std::string_view reason, std::string_view by, std::int64_t records,
                                 std::string_view at) {
  std::string d = "{";
  add_field(d, "v", details_version);
  add_field(d, "reason", reason);
  add_field(d, "by", by);
  add_field(d, "records", records);
  add_field(d, "at", at);
  d += '}';
  return d;
}

/// The details of a `keys_rotate` entry (both stores write it).
inline std::string keys_rotate_details(std::string_view from, std::string_view to,
                                       std::int64_t generation, std::int64_t data_keys,
                                       std::string_view at) {
  std::string d = "{";
  add_field(d, "v", details_version);
  add_field(d, "from", from);
  add_field(d, "key_check", to);
  add_field(d, "generation", generation);
  add_field(d, "data_keys", data_keys);
  add_field(d, "at", at);
  d += '}';
  return d;
}

inline std::string import_details(std::int64_t import_id, std::string_view file,
                                  std::string_view started_at, const import_options& options,
                                  std::string_view file_hash, const import_counts& n,
                                  std::string_view records_digest,
                                  std::string_view rejections_digest) {
  std::string d = "{";
  add_field(d, "v", details_version);
  add_field(d, "import", import_id);
  add_field(d, "file", file);
  add_field(d, "started_at", started_at);
  if (!options.received.empty()) add_field(d, "received", options.received);
  if (!options.reason.empty()) add_field(d, "reason", options.reason);
  if (!options.by.empty()) add_field(d, "by", options.by);
  add_field(d, "file_hash", file_hash);
  add_field(d, "rows", n.rows);
  add_field(d, "stored", n.stored);
  add_field(d, "records", n.records);
  add_field(d, "unchanged", n.unchanged);
  add_field(d, "rejected", n.rejected);
  add_field(d, "digest", records_digest);
  add_field(d, "rejections", rejections_digest);
  d += '}';
  return d;
}

}  // namespace dalil::store::detail
