// The `store` interface on PostgreSQL (issue 17, second slice): rulesets, imports (records by
// COPY, deduplicated by content as on SQLite), runs under the writer lease, decision sets by COPY
// vouched for in the same transaction, and the reads an import, a batch, `runs` and `export`
// need. The audit entries are those of the SQLite store (store/entry_format.hpp), byte for byte.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <unordered_map>

#include "dsl/value.hpp"
#include "engine/sha256.hpp"
#include "store/batch.hpp"
#include "store/chain.hpp"
#include "store/counter_store.hpp"
#include "store/entry_format.hpp"
#include "store/in_place.hpp"
#include "store/lease.hpp"
#include "store/pg/pg_store.hpp"
#include "store/sealing.hpp"

namespace dalil::store::pg {

namespace {

using detail::add_field;
using detail::decision_line;
using detail::details_version;
using detail::held_by;
using detail::host_name;
using detail::lease_seconds;
using detail::machine_id;
using detail::process_alive;
using detail::record_line;
using detail::rejection_line;
using detail::row_digest;
using detail::rows_per_entry;
using detail::same_process_space;
using detail::shard_text;

/// Records written by one COPY during an import: at most this many, and at most about this
/// many bytes of COPY text (records may be up to a MiB each: the buffer stays bounded).
constexpr std::size_t import_flush_rows = 10000;
constexpr std::size_t import_flush_bytes = std::size_t{16} << 20;
/// Records an import looks up at once (pg_import::put_records): one query per batch for their
/// latest versions (and their pseudonyms and data keys), instead of one per record.
constexpr std::size_t import_batch_records = 10000;
/// Applicants that encrypting a plain store in place (keys init) seals at once: their records
/// and decision sets read, sealed and sent back by COPY, then forgotten.
constexpr std::int64_t in_place_batch = 2000;

/// in_place_batch, or in test builds DALIL_TEST_IN_PLACE_BATCH (tests/pg/keys_in_place_test.sh
/// crosses many batches with a small cohort).
std::int64_t in_place_batch_size() {
#ifdef DALIL_TEST_HOOKS
  if (const char* n = std::getenv("DALIL_TEST_IN_PLACE_BATCH"); n != nullptr && std::atoi(n) > 0) {
    return std::atoi(n);
  }
#endif
  return in_place_batch;
}

param text_or_null(const std::string& v) {
  return v.empty() ? param() : param(v);
}

/// A bytea column read as encode(…, 'hex').
engine::digest digest_of(std::string_view hex) {
  auto d = engine::digest::from_hex(hex);
  return d ? *d : engine::digest{};
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

status writer_lock(connection& c, std::string_view what) {
  return c.run(what, "SELECT pg_advisory_xact_lock($1)", {std::to_string(writer_lock_key)});
}

/// How messages name a PostgreSQL store (never by its connection string).
constexpr std::string_view pg_name = "the PostgreSQL store";

status refused(std::string_view what) {
  return fail(errc::refused, "not yet supported on a PostgreSQL store: " + std::string(what) +
                                 " (docs/postgresql.md)");
}

class pg_backend;

/// An import: one transaction holding the writer lock; records sent by COPY in pieces, the entries
/// appended at `finish`. The latest version of an applicant (for the deduplication by content),
/// and in an encrypted store their pseudonym and data key, are looked up for a whole batch of
/// records in one query each (put_records), and forgotten once the batch is sent: what the next
/// batch looks up is then in the database (this transaction's rows), so the import's memory does
/// not grow with the store or the file.
class pg_import final : public import_session {
 public:
  /// `key`: the master key of an encrypted store (records sealed, applicants named by their
  /// pseudonyms), nullptr for a plain one; `generation`: the keyring's.
  pg_import(pg_store& pg, transaction tx, std::int64_t id, std::int64_t next_record,
            std::string file, std::string started_at, import_options options,
            const crypto::master_key* key, std::int64_t generation)
      : key_(key),
        generation_(generation),
        pg_(pg),
        c_(pg.conn()),
        tx_(std::move(tx)),
        id_(id),
        next_record_(next_record),
        file_(std::move(file)),
        started_at_(std::move(started_at)),
        options_(std::move(options)) {}
  std::int64_t id() const override { return id_; }
  result<put_result> put_record(const std::string& applicant_id, const std::string& content_hash,
                                const std::string& json) override;
  std::size_t batch_size() const override {
    return options_.batch_records != 0 ? options_.batch_records : import_batch_records;
  }
  status put_records(std::span<const incoming_record> records,
                     std::vector<put_result>& out) override;
  status reject(std::int64_t row, const std::string& field, const std::string& reason) override;
  status finish(const std::string& file_hash, std::int64_t rows, std::int64_t stored,
                std::int64_t unchanged, std::int64_t rejected) override;

 private:
  struct latest_row {
    std::int64_t record_id = 0;
    std::int64_t version = 0;  // 0: the applicant has no record
    std::string content_hash;
  };
  /// Looks up what the maps do not know yet of these records' applicants: their pseudonyms and
  /// data keys (encrypted store), then their latest versions, one query each. In an encrypted
  /// store `lookups` gets each id's keyed hash, in order (computed once: `pseudonym` takes it).
  status look_up(std::span<const std::string> plain_ids, std::vector<std::string>& lookups);
  /// The largest pseudonym given, erased applicants' included (encrypted store), once.
  status load_last_pseudonym();
  /// The pseudonym of the applicant whose id has the keyed hash `lookup` (given now when the
  /// store knows none), in an encrypted store.
  std::string pseudonym(const std::string& lookup);
  /// put_record of an id whose keyed hash look_up gave (`lookup`; "" in a plain store).
  result<put_result> put_looked_up(const std::string& plain_id, const std::string& lookup,
                                   const std::string& content_hash, const std::string& json);
  /// The applicant's data key: unwrapped, or created and sent wrapped with the next flush.
  result<crypto::data_key> data_key(const std::string& who);
  status flush();
  void close_chunk();

  const crypto::master_key* key_;
  std::int64_t generation_;
  /// Encrypted: pseudonyms by the keyed hash of the id ("": none), and the data keys wrapped
  /// (with their generation; "" once erased; generation -1: none) by pseudonym, of the
  /// applicants of the batch under way (and of the records not sent yet).
  std::unordered_map<std::string, std::string> pseudonyms_;
  std::unordered_map<std::string, std::pair<std::string, std::int64_t>> keys_;
  std::string last_pseudonym_;  // the largest given, erased applicants' included
  std::string pseudonyms_copy_;
  std::string keys_copy_;
  std::string sealed_;
  pg_store& pg_;
  connection& c_;
  transaction tx_;
  std::int64_t id_;
  std::int64_t next_record_;
  std::string file_;
  std::string started_at_;
  import_options options_;
  bool last_loaded_ = false;
  bool in_batch_ = false;  // put_records: the batch is sent whole, at its end
  /// The latest versions of the applicants of the batch under way (and of the records not sent
  /// yet), by applicant id (the pseudonym in an encrypted store).
  std::unordered_map<std::string, latest_row> latest_;
  std::string records_copy_;
  std::string applicants_copy_;
  std::string unlatest_;  // record ids, a PostgreSQL array's text without its braces
  std::size_t buffered_ = 0;
  std::optional<row_digest> chunk_{std::in_place};
  std::int64_t chunk_first_ = 0;
  std::int64_t chunk_last_ = 0;
  std::vector<std::string> entries_;  // the details of the records' entries
  engine::sha256_stream all_;
  std::int64_t count_ = 0;
  engine::sha256_stream rejections_;
};

/// `ids` as a PostgreSQL array's text, each element quoted.
std::string text_array(std::span<const std::string> ids) {
  std::string a = "{";
  for (const std::string& id : ids) {
    if (a.size() > 1) a += ',';
    a += '"';
    for (char ch : id) {
      if (ch == '"' || ch == '\\') a += '\\';
      a += ch;
    }
    a += '"';
  }
  a += '}';
  return a;
}

status pg_import::load_last_pseudonym() {
  // Erased applicants' pseudonym rows are deleted and their data key rows kept: a count would
  // give an erased applicant's pseudonym again. Pseudonyms are of one width: bytewise order.
  auto m = c_.query("importing: reading the pseudonyms given",
                    "SELECT coalesce(max(applicant_id COLLATE \"C\"), '') FROM data_keys UNION ALL "
                    "SELECT coalesce(max(applicant_id COLLATE \"C\"), '') FROM pseudonyms");
  if (!m) return m.error();
  for (int i = 0; i < m->size(); ++i) {
    if (std::string who = m->text(i, 0); who > last_pseudonym_) last_pseudonym_ = who;
  }
  last_loaded_ = true;
  return {};
}

status pg_import::look_up(std::span<const std::string> plain_ids,
                          std::vector<std::string>& lookups) {
  std::vector<std::string> ids;  // applicant ids as stored, not known yet
  ids.reserve(plain_ids.size());
  lookups.clear();
  if (key_ != nullptr) {
    if (!last_loaded_) {
      if (auto s = load_last_pseudonym(); !s) return s;
    }
    constexpr std::string_view what = "importing: reading the pseudonyms and data keys";
    std::vector<std::string> unknown;  // the hashes the map does not know yet
    lookups.reserve(plain_ids.size());
    for (const std::string& plain : plain_ids) {
      std::string l = crypto::lookup_hash(*key_, plain);
      if (pseudonyms_.try_emplace(l).second) unknown.push_back(l);
      lookups.push_back(std::move(l));
    }
    if (!unknown.empty()) {
      auto p = c_.query(what, "SELECT lookup, applicant_id FROM pseudonyms WHERE lookup = ANY($1)",
                        {text_array(unknown)});
      if (!p) return p.error();
      for (int i = 0; i < p->size(); ++i) {
        std::string who = p->text(i, 1);
        if (keys_.try_emplace(who, std::string(), -1).second) ids.push_back(who);
        pseudonyms_[p->text(i, 0)] = std::move(who);
      }
    }
    if (!ids.empty()) {
      auto k = c_.query(what,
                        "SELECT applicant_id, coalesce(encode(wrapped, 'hex'), ''), generation "
                        "FROM data_keys WHERE applicant_id = ANY($1)",
                        {text_array(ids)});
      if (!k) return k.error();
      for (int i = 0; i < k->size(); ++i) {
        keys_[k->text(i, 0)] = {from_hex(k->view(i, 1)), k->int64(i, 2)};
      }
    }
    // Applicants new to the store (no pseudonym yet) have no record either: nothing to look up.
    std::erase_if(ids, [&](const std::string& who) { return !latest_.try_emplace(who).second; });
  } else {
    for (const std::string& id : plain_ids) {
      if (latest_.try_emplace(id).second) ids.push_back(id);
    }
  }
  if (ids.empty()) return {};
  auto b = c_.query("importing: reading the latest records",
                    "SELECT applicant_id, record_id, version, content_hash FROM records WHERE "
                    "latest=1 AND applicant_id = ANY($1)",
                    {text_array(ids)});
  if (!b) return b.error();
  for (int i = 0; i < b->size(); ++i) {
    latest_[b->text(i, 0)] = latest_row{b->int64(i, 1), b->int64(i, 2), b->text(i, 3)};
  }
  return {};
}

std::string pg_import::pseudonym(const std::string& lookup) {
  auto it = pseudonyms_.try_emplace(lookup).first;  // look_up ran: found, or "" (none)
  if (it->second.empty()) {
    last_pseudonym_ = crypto::next_pseudonym(last_pseudonym_);
    it->second = last_pseudonym_;
    append_copy_text(pseudonyms_copy_, lookup);
    pseudonyms_copy_ += '\t';
    append_copy_text(pseudonyms_copy_, last_pseudonym_);
    pseudonyms_copy_ += '\n';
  }
  return it->second;
}

result<crypto::data_key> pg_import::data_key(const std::string& who) {
  if (auto k = keys_.find(who); k != keys_.end() && k->second.second >= 0) {
    if (k->second.first.empty()) {
      return fail(errc::refused,
                  "importing: this applicant was erased (their data key is destroyed): a new "
                  "record for them is refused");
    }
    auto dk = crypto::unwrap(*key_, k->second.first, who, k->second.second);
    if (!dk) return fail(errc::damaged, "importing: " + dk.error().message);
    return dk;
  }
  crypto::data_key dk = crypto::new_data_key();
  std::string wrapped = crypto::wrap(*key_, dk, who, generation_);
  append_copy_text(keys_copy_, who);
  keys_copy_ += "\t\\\\x";
  engine::append_hex(keys_copy_, wrapped);
  keys_copy_ += '\t';
  keys_copy_ += std::to_string(generation_);
  keys_copy_ += '\n';
  keys_[who] = {std::move(wrapped), generation_};
  return dk;
}

result<put_result> pg_import::put_record(const std::string& plain_id,
                                         const std::string& content_hash, const std::string& json) {
  std::vector<std::string> lookup;  // alone: looked up alone
  if (auto s = look_up(std::span<const std::string>(&plain_id, 1), lookup); !s) return s.error();
  static const std::string plain_store;  // no keyed hash
  return put_looked_up(plain_id, key_ != nullptr ? lookup.front() : plain_store, content_hash,
                       json);
}

result<put_result> pg_import::put_looked_up(const std::string& plain_id, const std::string& lookup,
                                            const std::string& content_hash,
                                            const std::string& json) {
  const std::string applicant_id = key_ != nullptr ? pseudonym(lookup) : plain_id;
  latest_row& l = latest_[applicant_id];
  const bool fresh = l.version == 0;
  if (!fresh && l.content_hash == content_hash) return put_result::unchanged;
  const std::int64_t id = next_record_++;
  const std::int64_t version = l.version + 1;
  if (fresh) {
    append_copy_text(applicants_copy_, applicant_id);
    applicants_copy_ += '\n';
  } else {
    if (!unlatest_.empty()) unlatest_ += ',';
    unlatest_ += std::to_string(l.record_id);
  }
  std::string& r = records_copy_;
  r += std::to_string(id);
  r += '\t';
  append_copy_text(r, applicant_id);
  r += '\t';
  r += std::to_string(version);
  r += '\t';
  append_copy_text(r, content_hash);
  r += '\t';
  sealed_.clear();
  if (key_ != nullptr) {
    auto dk = data_key(applicant_id);
    if (!dk) return dk.error();
    sealing::seal_record(*dk, applicant_id, version, json, sealed_);
    r += '\t';  // json: '' (the content is sealed)
  } else {
    append_copy_text(r, json);
    r += '\t';
  }
  r += std::to_string(id_);
  if (sealed_.empty()) {
    r += "\t1\t\\N\n";
  } else {
    r += "\t1\t\\\\x";
    engine::append_hex(r, sealed_);
    r += '\n';
  }
  l = latest_row{id, version, content_hash};
  std::string line = record_line(id, applicant_id, version, content_hash, id_, sealed_);
  all_.update(line + '\n');
  if (chunk_->size() == 0) chunk_first_ = id;
  chunk_last_ = id;
  chunk_->add(id, line);
  ++count_;
  if (chunk_->size() == rows_per_entry) close_chunk();
  ++buffered_;
  if (!in_batch_ &&
      (buffered_ >= import_flush_rows || records_copy_.size() >= import_flush_bytes)) {
    if (auto s = flush(); !s) return s.error();
  }
  return fresh ? put_result::stored : put_result::new_version;
}

status pg_import::put_records(std::span<const incoming_record> records,
                              std::vector<put_result>& out) {
  std::vector<std::string> plain;
  plain.reserve(records.size());
  for (const incoming_record& r : records) plain.push_back(r.applicant_id);
  std::vector<std::string> lookups;  // each id's keyed hash, computed once (encrypted store)
  if (auto s = look_up(plain, lookups); !s) return s;
  out.clear();
  in_batch_ = true;
  static const std::string plain_store;  // no keyed hash
  for (std::size_t i = 0; i < records.size(); ++i) {
    const incoming_record& r = records[i];
    auto p = put_looked_up(r.applicant_id, key_ != nullptr ? lookups[i] : plain_store,
                           r.content_hash, r.json);
    if (!p) {
      in_batch_ = false;
      return p.error();
    }
    out.push_back(*p);
  }
  in_batch_ = false;
  return flush();
}

void pg_import::close_chunk() {
  if (chunk_->size() == 0) return;
  std::string d = "{";
  add_field(d, "v", details_version);
  add_field(d, "import", id_);
  add_field(d, "from", chunk_first_);
  add_field(d, "to", chunk_last_);
  chunk_->write(d);
  d += '}';
  entries_.push_back(std::move(d));
  chunk_.emplace();
}

status pg_import::flush() {
  constexpr std::string_view what = "importing: storing records";
  auto send = [&](const char* sql, std::string& data) -> status {
    if (data.empty()) return {};
    auto s = c_.copy_in(what, sql, [&](std::string& piece) -> result<bool> {
      piece.swap(data);
      return false;
    });
    data.clear();
    return s;
  };
  if (auto s = send("COPY applicants(applicant_id) FROM STDIN", applicants_copy_); !s) return s;
  if (auto s = send("COPY pseudonyms(lookup, applicant_id) FROM STDIN", pseudonyms_copy_); !s) {
    return s;
  }
  if (auto s = send("COPY data_keys(applicant_id, wrapped, generation) FROM STDIN", keys_copy_);
      !s) {
    return s;
  }
  if (auto s = send("COPY records(record_id, applicant_id, version, content_hash, json, "
                    "import_id, latest, sealed) FROM STDIN",
                    records_copy_);
      !s) {
    return s;
  }
  if (!unlatest_.empty()) {
    if (auto s = c_.run(what, "UPDATE records SET latest=0 WHERE record_id = ANY($1::bigint[])",
                        {"{" + unlatest_ + "}"});
        !s) {
      return s;
    }
    unlatest_.clear();
  }
  buffered_ = 0;
  // Everything looked up or given so far is in the database now (this transaction's rows): the
  // next records look it up there.
  latest_.clear();
  pseudonyms_.clear();
  keys_.clear();
  return {};
}

status pg_import::reject(std::int64_t row, const std::string& field, const std::string& reason) {
  if (auto s =
          c_.run("importing: storing a rejection", "INSERT INTO rejections VALUES($1,$2,$3,$4)",
                 {std::to_string(id_), std::to_string(row), field, reason});
      !s) {
    return s;
  }
  rejections_.update(rejection_line(row, field, reason));
  return {};
}

status pg_import::finish(const std::string& file_hash, std::int64_t rows, std::int64_t stored,
                         std::int64_t unchanged, std::int64_t rejected) {
  constexpr std::string_view what = "finishing the import";
  if (auto s = flush(); !s) return s;
  close_chunk();
  if (auto s = c_.run(what,
                      "UPDATE imports SET \"rows\"=$1, stored=$2, unchanged=$3, rejected=$4, "
                      "file_hash=$5 WHERE import_id=$6",
                      {std::to_string(rows), std::to_string(stored), std::to_string(unchanged),
                       std::to_string(rejected), file_hash, std::to_string(id_)});
      !s) {
    return s;
  }
  // The entries as the SQLite store writes them: the records' (rows_per_entry each), then the
  // import's own. The chain's lock is taken by the first and held to the commit.
  for (const auto& d : entries_) {
    if (auto a = pg_.append_in("dalil", "records", std::to_string(id_), d); !a) {
      return a.error();
    }
  }
  const std::string d = detail::import_details(id_, file_, started_at_, options_, file_hash,
                                               {rows, stored, count_, unchanged, rejected},
                                               all_.hex(), rejections_.hex());
  const std::string actor = options_.by.empty() ? std::string("dalil") : options_.by;
  if (auto a = pg_.append_in(actor, "import", std::to_string(id_), d); !a) return a.error();
  if (auto s = tx_.commit(what); !s) return s;
  // Fresh statistics for the planner: without them, after a bulk COPY it takes the records after
  // a batch's position for a few hundred and reads and sorts all of them for every chunk (the
  // batch was quadratic). Best effort: the import is committed whatever this says.
  (void)c_.run(what, "ANALYZE records, applicants");
  return {};
}

class pg_backend final : public store {
 public:
  pg_backend(std::unique_ptr<pg_store> pg, std::string conninfo, bool read_only,
             const crypto::master_key* key)
      : pg_(std::move(pg)), conninfo_(std::move(conninfo)), read_only_(read_only) {
    if (key != nullptr) key_ = *key;
  }

  result<std::unique_ptr<store>> reopen() override {
    return open_store(conninfo_, read_only_ ? open_mode::read_only : open_mode::read_write,
                      key_ ? &*key_ : nullptr);
  }
  bool read_only() const override { return read_only_; }

  /// Whether a master key is bound to the store, and whether the one given is it (as the
  /// SQLite store reads its keyring: the same refusals).
  status read_keyring() {
    auto q = c().query("reading the keyring",
                       "SELECT key_check, generation, encode(lookup_key, 'hex') FROM keyring "
                       "WHERE id = 1");
    if (!q) return q.error();
    encrypted_ = q->size() == 1;
    if (!encrypted_) return {};
    generation_ = q->int64(0, 1);
    if (!key_) return {};
    return sealing::open_keyring(*key_, q->view(0, 0), from_hex(q->view(0, 2)), generation_,
                                 pg_name);
  }

  /// What an operation on records needs: the master key of an encrypted store.
  status need_key(std::string_view what) const {
    return sealing::need_key(encrypted_, key_.has_value(), pg_name, what);
  }

  bool encrypted() const override { return encrypted_; }
  /// As the SQLite store binds a key (the same keyring row and keys_init entry). On a store that
  /// holds plain records, encrypts them in place in the same transaction (encrypt_in_place), as
  /// the SQLite store does: the same pseudonyms, sealed forms and entries.
  status init_keys(const std::string& actor) override {
    std::string what = std::string(pg_name) + ": binding a master key to the store";
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
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    auto locked =
        c().query(what, "SELECT pg_try_advisory_xact_lock($1)", {std::to_string(writer_lock_key)});
    if (!locked) return locked.error();
    if (locked->view(0, 0) != "t") {
      return fail(errc::busy, what +
                                  ": another process holds the store's writer lock (an import, "
                                  "a batch opening its run, a server's counter deciding): run "
                                  "it again once it has finished; nothing changed");
    }
    if (auto s = read_keyring(); !s) return s;
    if (encrypted_) {
      return fail(errc::refused,
                  "the PostgreSQL store is already encrypted under this master key (key check "
                  "value " +
                      crypto::key_check(*key_) + ")");
    }
    auto n = c().query(what, "SELECT count(*) FROM records");
    if (!n) return n.error();
    const std::int64_t plain = n->int64(0, 0);
    if (plain != 0) {
      if (auto st = can_encrypt_in_place(); !st) return st;
    }
    const std::string at = now_utc();
    crypto::data_key lookup = crypto::new_data_key();
    if (auto s =
            c().run(what, "INSERT INTO keyring VALUES(1, $1, decode($2, 'hex'), 1, $3)",
                    {crypto::key_check(*key_),
                     engine::hex_of(crypto::wrap(*key_, lookup, sealing::lookup_label, 1)), at});
        !s) {
      return s;
    }
    std::string d = "{";
    add_field(d, "v", details_version);
    add_field(d, "key_check", crypto::key_check(*key_));
    add_field(d, "generation", 1);
    add_field(d, "at", at);
    if (plain != 0) add_field(d, "in_place", plain);
    // Reviews sealed in place (encrypt_reviews_in_place), counted as the SQLite store counts
    // them: the counter's verify takes the review entries before this one as superseded.
    if (plain != 0) {
      auto reviews = c().query(what, "SELECT count(*) FROM reviews");
      if (!reviews) return reviews.error();
      if (reviews->int64(0, 0) != 0) add_field(d, "reviews", reviews->int64(0, 0));
    }
    d += '}';
    if (auto a = pg_->append_in(actor, "keys_init", "keyring", d); !a) return a.error();
    crypto::master_key bound = *key_;
    bound.lookup = lookup;
    if (plain != 0) {
      if (auto st = encrypt_in_place(bound, what); !st) return st;
      // A process that connected meanwhile (its store opened as plain) is refused too: the
      // keyring's lock holds off the check of any process that opens the store from now on
      // until the commit, when it finds the store encrypted.
      if (auto s = c().run(what, "LOCK TABLE keyring IN ACCESS EXCLUSIVE MODE"); !s) return s;
      if (auto st = refuse_other_connections(what, true); !st) return st;
    }
    if (auto s = tx->commit(what); !s) return s;
    key_ = bound;
    encrypted_ = true;
    generation_ = 1;
    if (plain != 0) {
      // The old plain row versions leave the tables' files (VACUUM FULL rewrites them from the
      // live rows), as SQLite's VACUUM does; what the WAL keeps is docs/postgresql.md's to say.
      (void)c().run(what + ": compacting the tables",
                    "VACUUM (FULL) records, decision_sets, counter_decisions, reviews, "
                    "applicants");
    }
    return {};
  }

  /// Refused, with nothing changed, unless the store verifies (as the SQLite store's).
  status refuse_unverified(const std::string& what, std::string_view why) {
    auto checked = pg_->verify_chain(verify_options{});
    if (!checked) return checked.error();
    return detail::refuse_unverified(what, checked->problems.size(), why);
  }

  /// Busy while any other process is connected to the database: a `dalil serve` (its counter
  /// checks whether the store is encrypted when it opens it, not at every write: store/pg/
  /// pg_counter.cpp), a batch or an import that opened the store as plain would go on writing
  /// plain rows into the encrypted store. `again`: the second look, inside the transaction
  /// (pg_stat_activity is read as of the transaction's first look unless cleared).
  status refuse_other_connections(const std::string& what, bool again) {
    if (again) {
      if (auto s = c().run(what, "SELECT pg_stat_clear_snapshot()"); !s) return s;
    }
    auto q = c().query(what,
                       "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND coalesce(backend_type, 'client backend') "
                       "= 'client backend'");
    if (!q) return q.error();
    if (q->int64(0, 0) == 0) return {};
    return fail(errc::busy,
                what + ": " + std::to_string(q->int64(0, 0)) +
                    " other connection(s) to the database (a running dalil serve, a batch, an "
                    "import, a psql…): a process that opened the store before it is encrypted "
                    "would go on writing plain rows; stop them and run it again; nothing changed");
  }

  /// What encrypting a plain store in place does not cover: refused (or busy), naming it.
  status can_encrypt_in_place() {
    std::string what = std::string(pg_name) + ": encrypting the store in place";
    auto live = live_leases();
    if (!live) return live.error();
    if (!live->empty()) {
      return fail(errc::busy, what + ": a batch holds the store's lease (" +
                                  held_by(live->front()) +
                                  "); encrypt once it has finished; nothing changed");
    }
    if (auto st = refuse_other_connections(what, false); !st) return st;
    auto q = c().query(what,
                       "SELECT count(*) FROM applicants WHERE applicant_id ~ '^p[0-9]' AND "
                       "length(applicant_id) = 11");
    if (!q) return q.error();
    if (q->int64(0, 0) != 0) {
      return fail(errc::refused,
                  what + ": it holds " + std::to_string(q->int64(0, 0)) +
                      " applicant id(s) of the form of a pseudonym (p and 10 digits): they would "
                      "collide with the pseudonyms; create a new store, `dalil keys init --db "
                      "NEW`, and import the cohort into it; nothing changed");
    }
    return {};
  }

  /// Seals every record of a plain store and renames its applicants to pseudonyms (in the order
  /// of their first record, as the SQLite store names them), seals the decision sets' traces and
  /// values and the counter's outcomes, then vouches for the records and decision sets again,
  /// row by row (the keys_init entry just appended, with "in_place", tells verify that these
  /// entries supersede the earlier ones). Inside init_keys' transaction, with `key` (the lookup
  /// key bound). Applicants are taken in batches of in_place_batch, each batch's rows read, sealed
  /// and sent back by COPY: memory is bounded by a batch, whatever the store holds.
  status encrypt_in_place(const crypto::master_key& key, const std::string& what) {
    if (auto s = c().script(
            "encrypting in place: preparing",
            "CREATE TEMP TABLE dalil_in_place_ids(plain text PRIMARY KEY, pseudonym text NOT NULL "
            "UNIQUE, sets bigint NOT NULL DEFAULT 0) ON COMMIT DROP; CREATE TEMP TABLE "
            "dalil_in_place_records(record_id bigint "
            "PRIMARY KEY, pseudonym text NOT NULL, sealed bytea NOT NULL) ON COMMIT DROP; CREATE "
            "TEMP TABLE dalil_in_place_sets(run_id bigint, record_id bigint, pseudonym text NOT "
            "NULL, trace text, decisions text, sealed bytea, PRIMARY KEY(run_id, record_id)) ON "
            "COMMIT DROP; INSERT INTO dalil_in_place_ids SELECT applicant_id, 'p' || "
            "lpad((row_number() OVER (ORDER BY min(record_id)))::text, 10, '0') FROM records "
            "GROUP BY applicant_id; UPDATE dalil_in_place_ids p SET sets = c.n FROM (SELECT "
            "r.applicant_id, count(*) AS n FROM decision_sets d JOIN records r ON r.record_id = "
            "d.record_id GROUP BY r.applicant_id) c WHERE c.applicant_id = p.plain; ANALYZE "
            "dalil_in_place_ids; INSERT INTO applicants SELECT pseudonym FROM dalil_in_place_ids; "
            // Every decision set by its applicant's pseudonym, in batch order (their rows are read
            // a batch at a time by their keys, below: the sort carries no trace).
            "DECLARE dalil_in_place_keys NO SCROLL CURSOR FOR SELECT p.pseudonym, d.run_id, "
            "d.record_id FROM decision_sets d JOIN records r ON r.record_id = d.record_id JOIN "
            "dalil_in_place_ids p ON p.plain = r.applicant_id ORDER BY p.pseudonym, d.run_id, "
            "d.record_id");
        !s) {
      return s;
    }
    auto count = c().query(what, "SELECT count(*) FROM dalil_in_place_ids");
    if (!count) return count.error();
    const std::int64_t applicants = count->int64(0, 0);
    // Which values of each run's decision sets stay plain: by its ruleset's types.
    std::map<std::int64_t, std::vector<std::uint8_t>> masks;
    in_place::kept_rulesets rulesets(*this);
    {
      auto runs = c().query(what, "SELECT run_id, ruleset_hash FROM runs");
      if (!runs) return runs.error();
      for (int i = 0; i < runs->size(); ++i) {
        masks[runs->int64(i, 0)] = rulesets.run_mask(runs->text(i, 1));
      }
    }
    std::string pseudonyms_copy;
    std::string keys_copy;
    std::string records_copy;
    std::string sets_copy;
    std::string sealed;
    std::unordered_map<std::string, crypto::data_key> keys;  // this batch's, by pseudonym
    const std::int64_t batch = in_place_batch_size();
    for (std::int64_t first = 1; first <= applicants; first += batch) {
      const std::string lo = in_place::pseudonym(first);
      const std::string hi = in_place::pseudonym(std::min(applicants, first + batch - 1));
      auto recs = c().query(what,
                            "SELECT p.pseudonym, p.plain, r.record_id, r.version, r.json FROM "
                            "dalil_in_place_ids p JOIN records r ON r.applicant_id = p.plain "
                            "WHERE p.pseudonym BETWEEN $1 AND $2 ORDER BY p.pseudonym, "
                            "r.record_id",
                            {lo, hi});
      if (!recs) return recs.error();
      keys.clear();
      for (int i = 0; i < recs->size(); ++i) {
        const std::string pseudonym = recs->text(i, 0);
        auto k = keys.find(pseudonym);
        if (k == keys.end()) {
          crypto::data_key dk = crypto::new_data_key();
          append_copy_text(pseudonyms_copy, crypto::lookup_hash(key, recs->view(i, 1)));
          pseudonyms_copy += '\t';
          pseudonyms_copy += pseudonym;
          pseudonyms_copy += '\n';
          keys_copy += pseudonym;
          keys_copy += "\t\\\\x";
          engine::append_hex(keys_copy, crypto::wrap(key, dk, pseudonym, 1));
          keys_copy += "\t1\n";
          k = keys.emplace(pseudonym, dk).first;
        }
        sealing::seal_record(k->second, pseudonym, recs->int64(i, 3), recs->view(i, 4), sealed);
        records_copy += recs->text(i, 2);
        records_copy += '\t';
        records_copy += pseudonym;
        records_copy += "\t\\\\x";
        engine::append_hex(records_copy, sealed);
        records_copy += '\n';
      }
      // Their decision sets, all renamed to their pseudonyms: traces sealed, and the values the
      // run's types do not keep in plain (as a batch on an encrypted store seals them), under
      // their new data keys. The next `n` keys of the cursor are this batch's sets.
      auto n = c().query(what,
                         "SELECT coalesce(sum(sets), 0) FROM dalil_in_place_ids WHERE pseudonym "
                         "BETWEEN $1 AND $2",
                         {lo, hi});
      if (!n) return n.error();
      auto set_keys =
          c().query(what, "FETCH " + std::to_string(n->int64(0, 0)) + " FROM dalil_in_place_keys");
      if (!set_keys) return set_keys.error();
      std::string runs = "{";
      std::string records = "{";
      std::vector<std::string> owners;
      for (int i = 0; i < set_keys->size(); ++i) {
        if (i != 0) {
          runs += ',';
          records += ',';
        }
        runs += set_keys->view(i, 1);
        records += set_keys->view(i, 2);
        owners.push_back(set_keys->text(i, 0));
      }
      runs += '}';
      records += '}';
      auto sets = c().query(what,
                            "SELECT d.run_id, d.record_id, coalesce(d.trace, ''), d.decisions, "
                            "u.pseudonym FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS "
                            "u(run_id, record_id, pseudonym) JOIN decision_sets d ON d.run_id = "
                            "u.run_id AND d.record_id = u.record_id",
                            {runs, records, text_array(owners)});
      if (!sets) return sets.error();
      if (sets->size() != set_keys->size()) {
        return fail(errc::damaged, what + ": the decision sets changed while they were read");
      }
      in_place::sealed_set out;
      for (int i = 0; i < sets->size(); ++i) {
        auto k = keys.find(sets->text(i, 4));
        if (k == keys.end()) return fail(errc::damaged, what + ": a decision set of no applicant");
        auto mask = masks.find(sets->int64(i, 0));
        const bool sealed_now =
            in_place::seal_set(k->second, k->first, sets->int64(i, 0), sets->int64(i, 1),
                               sets->view(i, 2), sets->view(i, 3),
                               mask == masks.end() ? std::span<const std::uint8_t>()
                                                   : std::span<const std::uint8_t>(mask->second),
                               out);
        if (!sealed_now) out = {};  // renamed only
        sets_copy += sets->text(i, 0);
        sets_copy += '\t';
        sets_copy += sets->text(i, 1);
        sets_copy += '\t';
        sets_copy += k->first;
        sets_copy += '\t';
        if (out.trace.empty()) {
          sets_copy += "\\N";
        } else {
          append_copy_text(sets_copy, out.trace);
        }
        if (out.decisions.empty()) {
          sets_copy += "\t\\N\t\\N\n";
        } else {
          sets_copy += '\t';
          append_copy_text(sets_copy, out.decisions);
          sets_copy += "\t\\\\x";
          engine::append_hex(sets_copy, out.sealed_decisions);
          sets_copy += '\n';
        }
      }
      auto send = [&](const char* sql, std::string& data) -> status {
        if (data.empty()) return {};
        auto s = c().copy_in(what, sql, [&](std::string& piece) -> result<bool> {
          piece.swap(data);
          return false;
        });
        data.clear();
        return s;
      };
      if (auto s = send("COPY pseudonyms(lookup, applicant_id) FROM STDIN", pseudonyms_copy); !s) {
        return s;
      }
      if (auto s = send("COPY data_keys(applicant_id, wrapped, generation) FROM STDIN", keys_copy);
          !s) {
        return s;
      }
      if (auto s = send("COPY dalil_in_place_records FROM STDIN", records_copy); !s) return s;
      if (auto s = send("COPY dalil_in_place_sets FROM STDIN", sets_copy); !s) return s;
      if (auto s = c().script(
              "encrypting in place: storing the sealed rows",
              "UPDATE records r SET applicant_id = s.pseudonym, json = '', sealed = s.sealed FROM "
              "dalil_in_place_records s WHERE r.record_id = s.record_id; UPDATE decision_sets d "
              "SET applicant_id = s.pseudonym, trace = coalesce(s.trace, d.trace), decisions = "
              "coalesce(s.decisions, d.decisions), sealed_decisions = CASE WHEN s.decisions IS "
              "NULL THEN d.sealed_decisions ELSE s.sealed END FROM dalil_in_place_sets s WHERE "
              "d.run_id = s.run_id AND d.record_id = s.record_id; TRUNCATE "
              "dalil_in_place_records, dalil_in_place_sets");
          !s) {
        return s;
      }
    }
    keys.clear();
    // The counter decisions renamed to their records' pseudonyms, then the plain ids' applicant
    // rows removed.
    if (auto s = c().script(
            "encrypting in place: renaming the applicants",
            "CLOSE dalil_in_place_keys; UPDATE counter_decisions c SET applicant_id = p.pseudonym "
            "FROM dalil_in_place_ids p WHERE "
            "c.applicant_id = p.plain; DELETE FROM applicants a USING dalil_in_place_ids p WHERE "
            "a.applicant_id = p.plain");
        !s) {
      return s;
    }
    if (auto st = encrypt_counter_in_place(rulesets, what); !st) return st;
    if (auto st = encrypt_reviews_in_place(key, what); !st) return st;
    return revouch(what);
  }

  /// The reviews of a store encrypted in place (their decisions renamed to the pseudonyms
  /// already): each sealed under its applicant's new data key (in_place::seal_review, as the
  /// SQLite store seals them) and vouched for again by a `review` entry of the sealed form, in
  /// the order they were stored. Read by cursor, a thousand at a time.
  status encrypt_reviews_in_place(const crypto::master_key& key, const std::string& what) {
    if (auto s = c().run(what,
                         "DECLARE dalil_in_place_reviews NO SCROLL CURSOR FOR SELECT v.review_id, "
                         "v.decision_id, v.seq, coalesce(v.supersedes, ''), v.at, v.\"user\", "
                         "v.decisions, v.observations, c.applicant_id, k.wrapped, k.generation "
                         "FROM reviews v JOIN counter_decisions c USING(decision_id) LEFT JOIN "
                         "data_keys k ON k.applicant_id = c.applicant_id ORDER BY v.rowid");
        !s) {
      return s;
    }
    std::string sealed;
    std::string details;
    for (;;) {
      auto q = c().query(what, "FETCH 1000 FROM dalil_in_place_reviews");
      if (!q) return q.error();
      if (q->size() == 0) break;
      for (int i = 0; i < q->size(); ++i) {
        review r = review_from_row(row_view{*q, i});
        const std::string applicant = q->text(i, 8);
        if (q->null(i, 9)) return fail(errc::damaged, what + ": a review of no applicant");
        auto dk = crypto::unwrap(key, bytea_value(q->view(i, 9)), applicant, q->int64(i, 10));
        if (!dk) {
          std::string m = what;
          m += ": applicant ";
          m += applicant;
          m += ": ";
          m += dk.error().message;
          return fail(errc::damaged, std::move(m));
        }
        if (!in_place::seal_review(*dk, applicant, r, sealed, details)) {
          return fail(errc::damaged, what + ": review " + r.review_id +
                                         " holds decisions that are not a review's");
        }
        if (auto s = put_sealed_review(r, sealed, details, what); !s) return s;
      }
    }
    return c().run(what, "CLOSE dalil_in_place_reviews");
  }

  /// A review sealed in place (in_place::seal_review) written back and vouched for again by its
  /// `review` entry `details`: keys init in place and keys seal.
  status put_sealed_review(const review& r, const std::string& sealed, const std::string& details,
                           const std::string& what) {
    if (auto s = c().run(what,
                         "UPDATE reviews SET decisions=$1, observations='', sealed=$2 WHERE "
                         "review_id=$3",
                         {r.decisions, bytea_param(sealed), r.review_id});
        !s) {
      return s;
    }
    if (auto a = pg_->append_in("dalil", "review", r.decision_id, details); !a) return a.error();
    return {};
  }

  /// The counter's decisions of a store encrypted in place (their records sealed with the
  /// others, their applicants renamed): their outcomes' values sealed as an encrypted store's
  /// counter keeps them (plain_outcomes, by the types of the decision's stored ruleset), each
  /// vouched for again by a `counter_decision` entry, in the order they were stored (as the
  /// SQLite store's, by rowid).
  status encrypt_counter_in_place(in_place::kept_rulesets& rulesets, const std::string& what) {
    // The statistics' months kept as released hold the values counted then, amounts among them:
    // dropped, to be counted again from the sealed outcomes (as the SQLite store's).
    if (auto s = c().run(what, "DELETE FROM counter_month_figures"); !s) return s;
    if (auto s = c().run(what,
                         "DECLARE dalil_in_place_counter NO SCROLL CURSOR FOR SELECT decision_id, "
                         "record_id, applicant_id, office, actor, at, as_of, ruleset_hash, "
                         "input_hash, rules, outcomes, trace, answer_digest, "
                         "coalesce(publication_id, 0) FROM counter_decisions ORDER BY rowid");
        !s) {
      return s;
    }
    for (;;) {
      auto q = c().query(what, "FETCH 1000 FROM dalil_in_place_counter");
      if (!q) return q.error();
      if (q->size() == 0) break;
      std::string ids = "{";
      std::string outcomes = "{";
      std::vector<counter_decision> rows;
      for (int i = 0; i < q->size(); ++i) {
        counter_decision d;
        d.decision_id = q->text(i, 0);
        d.record_id = q->int64(i, 1);
        d.applicant_id = q->text(i, 2);
        d.office = q->text(i, 3);
        d.actor = q->text(i, 4);
        d.at = q->text(i, 5);
        d.as_of = q->text(i, 6);
        d.ruleset_hash = q->text(i, 7);
        d.input_hash = q->text(i, 8);
        d.rules = q->text(i, 9);
        d.outcomes = plain_outcomes(q->view(i, 10), rulesets.outcome_mask(d.ruleset_hash, d.rules));
        d.trace = q->int64(i, 11) != 0;
        d.answer_digest = q->text(i, 12);
        d.publication_id = q->int64(i, 13);
        rows.push_back(std::move(d));
      }
      for (const counter_decision& d : rows) {
        if (auto s = c().run(what, "UPDATE counter_decisions SET outcomes=$1 WHERE decision_id=$2",
                             {d.outcomes, d.decision_id});
            !s) {
          return s;
        }
        const std::string details =
            detail::counter_decision_details(d.record_id, d.office, counter_digest(d));
        if (auto a = pg_->append_in("dalil", "counter_decision", d.decision_id, details); !a) {
          return a.error();
        }
      }
    }
    return c().run(what, "CLOSE dalil_in_place_counter");
  }

  /// The entries that vouch again for every record (per import) and every decision set (per
  /// run), rows_per_entry rows each, in the form import and batch write them (as the SQLite
  /// store's revouch: the same details, byte for byte). Read by cursor, a chunk at a time.
  status revouch(const std::string& what, bool with_records = true) {
    auto chunks = [&](const char* sql, bool records) -> status {
      if (auto s = c().run(what, std::string("DECLARE dalil_revouch NO SCROLL CURSOR FOR ") + sql);
          !s) {
        return s;
      }
      detail::revouch_chunks entries(
          records, [&](const char* action, std::int64_t owner, const std::string& d) -> status {
            if (auto a = pg_->append_in("dalil", action, std::to_string(owner), d); !a) {
              return a.error();
            }
            return {};
          });
      std::string line;
      for (;;) {
        // Decision sets carry their stored traces: fewer at a time.
        auto q = c().query(
            what, records ? "FETCH 5000 FROM dalil_revouch" : "FETCH 1000 FROM dalil_revouch");
        if (!q) return q.error();
        if (q->size() == 0) break;
        for (int i = 0; i < q->size(); ++i) {
          const std::int64_t o = q->int64(i, 0);
          const std::int64_t id = q->int64(i, 1);
          if (records) {
            line = record_line(id, q->view(i, 2), q->int64(i, 3), q->view(i, 4), o);
            // A sealed record: its ciphertext by its hash (as record_line writes it).
            if (!q->null(i, 5)) (line += '\x1f') += q->view(i, 5);
          } else {
            decision_line(line, id, q->view(i, 2), digest_of(q->view(i, 3)),
                          engine::sha256(q->view(i, 4)), digest_of(q->view(i, 5)), q->int64(i, 6),
                          q->view(i, 7), q->view(i, 8), from_hex(q->view(i, 9)));
          }
          if (auto st = entries.add(o, id, line); !st) return st;
        }
      }
      if (auto st = entries.flush(); !st) return st;
      return c().run(what, "CLOSE dalil_revouch");
    };
    if (with_records) {
      if (auto st = chunks("SELECT import_id, record_id, applicant_id, version, content_hash, "
                           "encode(sha256(sealed), 'hex') FROM records ORDER BY import_id, "
                           "record_id",
                           true);
          !st) {
        return st;
      }
    }
    return chunks(
        "SELECT run_id, record_id, applicant_id, encode(input_hash, 'hex'), decisions, "
        "encode(trace_digest, 'hex'), format, coalesce(trace, ''), coalesce(trace_erased, ''), "
        "coalesce(encode(sealed_decisions, 'hex'), '') FROM decision_sets ORDER BY run_id, "
        "record_id",
        false);
  }

  result<std::int64_t> erase_applicant(const std::string& applicant_id, const std::string& reason,
                                       const std::string& by) override {
    std::string what = std::string(pg_name) + ": erasing an applicant";
    if (!encrypted_) {
      return fail(errc::refused,
                  "the PostgreSQL store is not encrypted: erasure destroys an applicant's data "
                  "key, which a plain store does not have");
    }
    if (reason.empty() || by.empty()) {
      return fail(errc::refused, what + ": an erasure needs a reason and who asked for it");
    }
    auto who = applicant_key(applicant_id);
    if (!who) return who.error();
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    if (auto s = writer_lock(c(), what); !s) return s.error();
    auto records = erase_in(*who, reason, by, what);
    if (!records) return records.error();
    if (auto s = tx->commit(what); !s) return s.error();
    vacuum_keys(what);
    return records;
  }

  /// Destroys the data key of `who` (the store's id) and unlinks their pseudonym, with an erase
  /// entry (as the SQLite store's), inside the caller's transaction; the number of their
  /// records.
  result<std::int64_t> erase_in(const std::string& who, const std::string& reason,
                                const std::string& by, const std::string& what) {
    auto k = c().query(what,
                       "UPDATE data_keys SET wrapped=NULL WHERE applicant_id=$1 AND wrapped IS "
                       "NOT NULL RETURNING 1",
                       {who});
    if (!k) return k.error();
    if (k->size() != 1) {
      return fail(errc::not_found, what +
                                       ": the store knows no such applicant (or they were "
                                       "erased already)");
    }
    if (auto s = c().run(what, "DELETE FROM pseudonyms WHERE applicant_id=$1", {who}); !s) {
      return s.error();
    }
    auto n = c().query(what, "SELECT count(*) FROM records WHERE applicant_id=$1", {who});
    if (!n) return n.error();
    const std::int64_t records = n->int64(0, 0);
    const std::string d = detail::erase_details(reason, by, records, now_utc());
    if (auto a = pg_->append_in(by, "erase", who, d); !a) return a.error();
    return records;
  }

  result<std::int64_t> rotate_key(const crypto::master_key& next,
                                  const std::string& actor) override {
    std::string what = std::string(pg_name) + ": rotating the master key";
    if (!encrypted_) {
      return fail(errc::refused, "the PostgreSQL store is not encrypted: no key to rotate");
    }
    if (auto st = need_key("rotating the master key"); !st) return st.error();
    const std::string from = crypto::key_check(*key_);
    const std::string to = crypto::key_check(next);
    if (from == to) return fail(errc::refused, what + ": the new key is the current one");
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    if (auto s = writer_lock(c(), what); !s) return s.error();
    if (auto s = read_keyring(); !s) return s.error();  // the generation, under the lock
    const std::int64_t generation = generation_ + 1;
    std::string ids = "{";
    std::string keys = "{";
    std::int64_t count = 0;
    {
      auto q = c().query(what,
                         "SELECT applicant_id, encode(wrapped, 'hex'), generation FROM data_keys "
                         "WHERE wrapped IS NOT NULL ORDER BY applicant_id");
      if (!q) return q.error();
      for (int i = 0; i < q->size(); ++i) {
        const std::string who = q->text(i, 0);
        auto dk = crypto::unwrap(*key_, from_hex(q->view(i, 1)), who, q->int64(i, 2));
        if (!dk) {
          std::string m = what;
          m += ": the data key of applicant ";
          m += who;
          m += " does not open (run dalil audit verify); nothing was rotated";
          return fail(errc::damaged, std::move(m));
        }
        // Pseudonyms (p and digits) and hex need no quoting in an array's text.
        if (count++ != 0) {
          ids += ',';
          keys += ',';
        }
        ids += who;
        engine::append_hex(keys, crypto::wrap(next, *dk, who, generation));
      }
    }
    ids += '}';
    keys += '}';
    if (count != 0) {
      if (auto s = c().run(what,
                           "UPDATE data_keys d SET wrapped = decode(u.w, 'hex'), generation = $3 "
                           "FROM unnest($1::text[], $2::text[]) AS u(a, w) WHERE d.applicant_id "
                           "= u.a",
                           {ids, keys, std::to_string(generation)});
          !s) {
        return s.error();
      }
    }
    crypto::master_key moved = next;
    moved.lookup = key_->lookup;  // the ids keep their hashes
    crypto::data_key lookup;      // not an AEAD key: wrapped in the preferred format
    static_cast<crypto::secret_key&>(lookup) = key_->lookup;
    lookup.alg = crypto::preferred_cipher();
    if (auto s = c().run(
            what,
            "UPDATE keyring SET key_check=$1, generation=$2, lookup_key=decode($3, "
            "'hex') WHERE id=1",
            {to, std::to_string(generation),
             engine::hex_of(crypto::wrap(moved, lookup, sealing::lookup_label, generation))});
        !s) {
      return s.error();
    }
    const std::string d = detail::keys_rotate_details(from, to, generation, count, now_utc());
    if (auto a = pg_->append_in(actor, "keys_rotate", "keyring", d); !a) return a.error();
    if (auto s = tx->commit(what); !s) return s.error();
    key_ = moved;
    generation_ = generation;
    vacuum_keys(what);
    return count;
  }
  /// dalil keys seal, as the SQLite store's (docs/operations.md, "Sets an older Dalil left in
  /// plain"): every value of a decision set that its run's types do not keep in plain sealed
  /// under its applicant's data key (an erased applicant's dropped), the counter's outcomes an
  /// older dalil kept by their shape retyped; a keys_seal entry, then the entries that vouch for
  /// every set (and, when retyped, every counter decision) again. One transaction; the sets read
  /// by a cursor and written back by COPY and UPDATE … FROM, a batch at a time.
  result<std::int64_t> seal_in_place(const std::string& actor) override {
    std::string what = std::string(pg_name) + ": sealing decision sets in place";
    if (!encrypted_) {
      return fail(errc::refused,
                  "the PostgreSQL store is not encrypted: nothing to seal (dalil keys init --db "
                  "encrypts a plain store)");
    }
    if (auto st = need_key("sealing decision sets"); !st) return st.error();
    auto live = live_leases();
    if (!live) return live.error();
    if (!live->empty()) {
      return fail(errc::busy, what + ": a batch holds the store's lease (" +
                                  held_by(live->front()) + "); seal once it has finished");
    }
    // As keys init --db: vouching anew for every decision set needs a store that verifies.
    if (auto st = refuse_unverified(what, ""); !st) return st.error();
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    if (auto s = writer_lock(c(), what); !s) return s.error();
    if (auto st = read_keyring(); !st) return st.error();
    in_place::kept_rulesets rulesets(*this);
    std::map<std::int64_t, std::vector<std::uint8_t>> masks;
    {
      auto runs = c().query(what, "SELECT run_id, ruleset_hash FROM runs");
      if (!runs) return runs.error();
      for (int i = 0; i < runs->size(); ++i) {
        masks[runs->int64(i, 0)] = rulesets.run_mask(runs->text(i, 1));
      }
    }
    if (auto s = c().script(
            "sealing decision sets: preparing",
            "CREATE TEMP TABLE dalil_sealed_again(run_id bigint, record_id bigint, decisions text "
            "NOT NULL, sealed bytea, PRIMARY KEY(run_id, record_id)) ON COMMIT DROP; DECLARE "
            "dalil_seal NO SCROLL CURSOR FOR SELECT d.run_id, d.record_id, d.applicant_id, "
            "d.decisions, coalesce(encode(d.sealed_decisions, 'hex'), ''), k.applicant_id IS NOT "
            "NULL, coalesce(encode(k.wrapped, 'hex'), ''), coalesce(k.generation, 0) FROM "
            "decision_sets d LEFT JOIN data_keys k ON k.applicant_id = d.applicant_id ORDER BY "
            "d.run_id, d.record_id");
        !s) {
      return s.error();
    }
    std::int64_t changed = 0;
    std::int64_t dropped = 0;
    std::string copy;
    std::string decisions;
    std::string sealed;
    for (;;) {
      auto q = c().query(what, "FETCH 5000 FROM dalil_seal");
      if (!q) return q.error();
      if (q->size() == 0) break;
      for (int i = 0; i < q->size(); ++i) {
        const std::int64_t run = q->int64(i, 0);
        const std::int64_t record = q->int64(i, 1);
        const std::string applicant = q->text(i, 2);
        // Where and why: the set by run and record, never a value.
        auto damaged = [&](std::string_view why) {
          return fail(errc::damaged, what + ": decision set " + std::to_string(run) + ':' +
                                         std::to_string(record) + std::string(why));
        };
        if (q->view(i, 5) != "t") return damaged(": its applicant has no data key");
        std::optional<crypto::data_key> dk;
        if (!q->view(i, 6).empty()) {
          auto unwrapped =
              crypto::unwrap(*key_, from_hex(q->view(i, 6)), applicant, q->int64(i, 7));
          if (!unwrapped) return damaged(": its data key does not open with the master key");
          dk = *unwrapped;
        }
        auto mask = masks.find(run);
        const auto done = in_place::seal_again(
            dk ? &*dk : nullptr, applicant, run, record, q->view(i, 3), from_hex(q->view(i, 4)),
            mask == masks.end() ? std::span<const std::uint8_t>()
                                : std::span<const std::uint8_t>(mask->second),
            decisions, sealed);
        if (done == in_place::sealed_again::damaged) {
          return damaged(": its sealed decisions do not open with the master key");
        }
        if (done == in_place::sealed_again::unchanged) continue;
        if (done == in_place::sealed_again::dropped) ++dropped;
        ++changed;
        copy += std::to_string(run);
        copy += '\t';
        copy += std::to_string(record);
        copy += '\t';
        append_copy_text(copy, decisions);
        if (done == in_place::sealed_again::dropped) {
          copy += "\t\\N\n";
        } else {
          copy += "\t\\\\x";
          engine::append_hex(copy, sealed);
          copy += '\n';
        }
      }
      if (!copy.empty()) {
        if (auto s = c().copy_in(what, "COPY dalil_sealed_again FROM STDIN",
                                 [&](std::string& piece) -> result<bool> {
                                   piece.swap(copy);
                                   return false;
                                 });
            !s) {
          return s.error();
        }
        copy.clear();
        if (auto s = c().script("sealing decision sets: storing them",
                                "UPDATE decision_sets d SET decisions = s.decisions, "
                                "sealed_decisions = s.sealed FROM dalil_sealed_again s WHERE "
                                "d.run_id = s.run_id AND d.record_id = s.record_id; TRUNCATE "
                                "dalil_sealed_again");
            !s) {
          return s.error();
        }
      }
    }
    if (auto s = c().run(what, "CLOSE dalil_seal"); !s) return s.error();
    // The counter's decisions whose outcomes an older dalil kept by their shape (a text such as
    // "ng" in plain): retyped by their rules' declared types, as the counter stores them now.
    std::int64_t counter = 0;
    {
      auto q = c().query(what, "SELECT ruleset_hash, rules, outcomes FROM counter_decisions");
      if (!q) return q.error();
      for (int i = 0; i < q->size(); ++i) {
        const std::string_view stored = q->view(i, 2);
        if (plain_outcomes(stored, rulesets.outcome_mask(q->text(i, 0), q->text(i, 1))) != stored) {
          ++counter;
        }
      }
    }
    // Reviews an older dalil kept in plain on this encrypted store (seal_plain_reviews).
    auto plain_reviews = c().query(what, "SELECT count(*) FROM reviews WHERE sealed IS NULL");
    if (!plain_reviews) return plain_reviews.error();
    const std::int64_t reviews = plain_reviews->int64(0, 0);
    if (changed == 0 && counter == 0 && reviews == 0) {
      return 0;  // nothing written: the transaction rolls back
    }
    const std::string d = detail::keys_seal_details(changed, dropped, counter, now_utc(), reviews);
    if (auto a = pg_->append_in(actor, "keys_seal", "decision_sets", d); !a) return a.error();
    if (changed != 0) {
      if (auto st = revouch(what, false); !st) return st.error();
    }
    // Every counter decision retyped and vouched for again (as keys init --db does in place).
    if (counter != 0) {
      if (auto st = encrypt_counter_in_place(rulesets, what); !st) return st.error();
    }
    if (reviews != 0) {
      if (auto st = seal_plain_reviews(what); !st) return st.error();
    }
    if (auto s = tx->commit(what); !s) return s.error();
    // The old row versions, with their plain values, leave the tables' files.
    (void)c().run(what + ": compacting the tables",
                  "VACUUM (FULL) decision_sets, counter_decisions, reviews");
    return changed + counter + reviews;
  }

  /// keys seal's step for the reviews an older dalil kept in plain, as the SQLite store's: each,
  /// checked against the entry that vouches for it, sealed under its applicant's data key
  /// (in_place::seal_review; an erased applicant's under a key nobody keeps) and vouched for
  /// again by a review entry naming the one it replaces. Reviews are few (written by hand).
  status seal_plain_reviews(const std::string& what) {
    auto q = c().query(
        what,
        "SELECT v.review_id, v.decision_id, v.seq, coalesce(v.supersedes, ''), v.at, v.\"user\", "
        "v.decisions, v.observations, c.applicant_id, k.applicant_id IS NOT NULL, k.wrapped, "
        "coalesce(k.generation, 0), (SELECT a.seq FROM audit a WHERE a.action = 'review' AND "
        "a.subject = v.decision_id AND a.details LIKE '{\"review\":\"' || v.review_id || "
        "'\"%' ORDER BY a.seq DESC LIMIT 1), (SELECT a.details FROM audit a WHERE a.action = "
        "'review' AND a.subject = v.decision_id AND a.details LIKE '{\"review\":\"' || "
        "v.review_id || '\"%' ORDER BY a.seq DESC LIMIT 1) FROM reviews v JOIN "
        "counter_decisions c USING(decision_id) LEFT JOIN data_keys k ON k.applicant_id = "
        "c.applicant_id WHERE v.sealed IS NULL ORDER BY v.rowid");
    if (!q) return q.error();
    std::string sealed;
    std::string details;
    for (int i = 0; i < q->size(); ++i) {
      review r = review_from_row(row_view{*q, i});
      const std::string applicant = q->text(i, 8);
      const std::string where = what + ": review " + r.review_id;
      if (q->null(i, 12) || !review_vouched(q->view(i, 13), r, std::nullopt)) {
        return fail(errc::damaged, where +
                                       " changed since it was vouched for (run dalil audit "
                                       "verify); nothing changed");
      }
      if (q->view(i, 9) != "t") {
        return fail(errc::damaged, where + ": its applicant has no data key; nothing changed");
      }
      crypto::data_key dk = crypto::new_data_key();  // erased: a key nobody keeps
      if (!q->null(i, 10)) {
        auto opened =
            crypto::unwrap(*key_, bytea_value(q->view(i, 10)), applicant, q->int64(i, 11));
        if (!opened) {
          return fail(errc::damaged,
                      where + ": its applicant's data key does not open; nothing changed");
        }
        dk = *opened;
      }
      if (!in_place::seal_review(dk, applicant, r, sealed, details, q->int64(i, 12))) {
        return fail(errc::damaged,
                    where + " holds decisions that are not a review's; nothing changed");
      }
      if (auto s = put_sealed_review(r, sealed, details, what); !s) return s;
    }
    return {};
  }
  result<reseal_report> reseal_keys(const std::string&, std::int64_t) override {
    return refused("re-sealing data keys (keys reseal: reseal the SQLite store, then migrate it)")
        .error();
  }

  result<std::string> applicant_key(const std::string& applicant_id) override {
    if (!encrypted_) return applicant_id;
    if (auto s = need_key("finding an applicant"); !s) return s.error();
    std::string lookup = crypto::lookup_hash(*key_, applicant_id);
    auto q = c().query("finding an applicant",
                       "SELECT applicant_id FROM pseudonyms WHERE lookup=$1", {lookup});
    if (!q) return q.error();
    // Unknown: a key no applicant has (every read then finds nothing).
    return q->size() == 1 ? q->text(0, 0) : "unknown:" + lookup;
  }

  status put_ruleset(const std::string& hash, const std::string& source) override {
    constexpr std::string_view what = "storing the ruleset";
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    std::string at = now_utc();
    auto ins = c().query(what,
                         "INSERT INTO rulesets VALUES($1, decode($2, 'hex'), $3) ON CONFLICT DO "
                         "NOTHING RETURNING 1",
                         {hash, engine::hex_of(source), at});
    if (!ins) return ins.error();
    if (ins->size() == 0) return tx->commit(what);
    std::string d = "{";
    add_field(d, "bytes", static_cast<std::int64_t>(source.size()));
    add_field(d, "loaded_at", at);
    d += '}';
    if (auto a = pg_->append_in("dalil", "ruleset", hash, d); !a) return a.error();
    return tx->commit(what);
  }

  result<std::string> ruleset_source(const std::string& hash) override {
    auto q = c().query("reading a ruleset",
                       "SELECT encode(source, 'hex') FROM rulesets WHERE hash=$1", {hash});
    if (!q) return q.error();
    if (q->size() == 0) {
      return fail(errc::not_found, "ruleset " + hash.substr(0, 12) + " is not in the store");
    }
    return from_hex(q->view(0, 0));
  }

  result<std::unique_ptr<import_session>> begin_import(const std::string& file) override {
    return begin_import(file, import_options{});
  }

  result<std::unique_ptr<import_session>> begin_import(const std::string& file,
                                                       const import_options& options) override {
    std::string what = "importing " + file;
    if (auto s = need_key("importing"); !s) return s.error();
    if (!encrypted_ && key_) {
      return fail(errc::refused,
                  "the PostgreSQL store is not encrypted: its records would be stored in plain; "
                  "bind the key first (`dalil keys init --db`, on a store without records) or "
                  "import without it");
    }
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    if (auto s = writer_lock(c(), what); !s) return s.error();
    auto live = live_leases();
    if (!live) return live.error();
    if (!live->empty()) {
      return fail(errc::busy, "a batch holds the store's lease (" + held_by(live->front()) +
                                  "): records imported during a run would not be in it; import "
                                  "once the batch has finished (or its lease has expired)");
    }
    auto ids = c().query(what,
                         "SELECT (SELECT coalesce(max(import_id), 0) + 1 FROM imports), "
                         "(SELECT coalesce(max(record_id), 0) + 1 FROM records)");
    if (!ids) return ids.error();
    std::int64_t id = ids->int64(0, 0);
    std::string at = now_utc();
    if (auto s = c().run(what,
                         "INSERT INTO imports(import_id, file, file_hash, started_at, received, "
                         "reason, corrected_by) VALUES($1,$2,'',$3,$4,$5,$6)",
                         {std::to_string(id), file, at, text_or_null(options.received),
                          text_or_null(options.reason), text_or_null(options.by)});
        !s) {
      return s.error();
    }
    return std::unique_ptr<import_session>(
        std::make_unique<pg_import>(*pg_, std::move(*tx), id, ids->int64(0, 1), file, at, options,
                                    encrypted_ ? &*key_ : nullptr, generation_));
  }

  result<std::vector<record_version>> versions(const std::string& applicant_id) override {
    constexpr std::string_view what = "listing the applicant's record versions";
    auto who = applicant_key(applicant_id);
    if (!who) return who.error();
    auto q = c().query(what,
                       "SELECT r.record_id, r.version, r.latest, r.import_id, i.started_at, "
                       "coalesce(i.received, ''), coalesce(i.reason, ''), "
                       "coalesce(i.corrected_by, '') FROM records r JOIN imports i ON "
                       "i.import_id = r.import_id WHERE r.applicant_id=$1 ORDER BY r.version",
                       {*who});
    if (!q) return q.error();
    std::vector<record_version> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) {
      out.push_back({q->int64(i, 0), q->int64(i, 1), q->int64(i, 2) != 0, q->int64(i, 3),
                     q->text(i, 4), q->text(i, 5), q->text(i, 6), q->text(i, 7)});
    }
    if (out.empty()) {
      return fail(errc::not_found, std::string(what) + ": the store has no such applicant");
    }
    return out;
  }
  // Retention, as the SQLite store keeps it (docs/operations.md): the same periods, entries and
  // dates. A PostgreSQL store is plain: records due are refused (nothing to crypto-shred);
  // traces are erased, their hashes kept.
  result<std::vector<retention_period>> retention_periods() override {
    auto q = c().query("reading the retention periods",
                       "SELECT kind, days, set_by, set_at FROM retention ORDER BY kind COLLATE "
                       "\"C\"");
    if (!q) return q.error();
    std::vector<retention_period> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) {
      out.push_back({q->text(i, 0), q->int64(i, 1), q->text(i, 2), q->text(i, 3)});
    }
    return out;
  }

  status set_retention(const std::string& kind, std::int64_t days, const std::string& by) override {
    std::string what = "setting the retention period of " + kind;
    if (auto why = detail::retention_period_refusal(kind, days, by); !why.empty()) {
      return fail(errc::refused, what + ": " + why);
    }
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    if (auto s = writer_lock(c(), what); !s) return s.error();
    auto old = c().query(what, "SELECT days FROM retention WHERE kind=$1", {kind});
    if (!old) return old.error();
    if (old->size() == 0)
      return fail(errc::damaged, what + ": the retention table has no row for it");
    const std::int64_t from = old->int64(0, 0);
    const std::string at = now_utc();
    if (auto s = c().run(what, "UPDATE retention SET days=$1, set_by=$2, set_at=$3 WHERE kind=$4",
                         {std::to_string(days), by, at, kind});
        !s) {
      return s.error();
    }
    const std::string d = detail::retention_set_details(kind, days, from, by, at);
    if (auto a = pg_->append_in(by, "retention_set", kind, d); !a) return a.error();
    return tx->commit(what);
  }

  result<retention_due> due_for_erasure(const std::string& as_of) override { return due_on(as_of); }

  /// What is due on `as_of` (inside the caller's transaction when there is one): an applicant
  /// whose latest version was received (or imported) on or before as_of minus the records'
  /// period; a stored trace of a complete run started on or before as_of minus the traces'.
  result<retention_due> due_on(const std::string& as_of) {
    std::string what = "finding what is due for erasure on " + as_of;
    if (!dalil::parse_date(as_of)) return fail(errc::refused, what + ": not a date (YYYY-MM-DD)");
    retention_due due;
    due.as_of = as_of;
    auto periods = retention_periods();
    if (!periods) return periods.error();
    due.periods = std::move(*periods);
    const auto [records_days, traces_days] = detail::retention_days(due.periods);
    auto q = c().query(what,
                       "SELECT r.applicant_id, (SELECT count(*) FROM records x WHERE "
                       "x.applicant_id = r.applicant_id) FROM records r JOIN imports i ON "
                       "i.import_id = r.import_id LEFT JOIN data_keys k ON k.applicant_id = "
                       "r.applicant_id WHERE r.latest = 1 AND (r.sealed IS NULL OR k.wrapped IS "
                       "NOT NULL) AND coalesce(i.received, substr(i.started_at, 1, 10)) <= "
                       "to_char($1::date - $2::integer, 'YYYY-MM-DD') ORDER BY r.record_id",
                       {as_of, std::to_string(records_days)});
    if (!q) return q.error();
    for (int i = 0; i < q->size(); ++i) {
      due.applicants.push_back(q->text(i, 0));
      due.records += q->int64(i, 1);
    }
    auto t = c().query(what,
                       "SELECT d.run_id, count(*) FROM decision_sets d JOIN runs u ON u.run_id = "
                       "d.run_id WHERE d.trace IS NOT NULL AND u.status = 'complete' AND "
                       "substr(u.started_at, 1, 10) <= to_char($1::date - $2::integer, "
                       "'YYYY-MM-DD') GROUP BY d.run_id ORDER BY d.run_id",
                       {as_of, std::to_string(traces_days)});
    if (!t) return t.error();
    for (int i = 0; i < t->size(); ++i) {
      due.trace_runs.push_back(t->int64(i, 0));
      due.traces += t->int64(i, 1);
    }
    return due;
  }

  result<retention_applied> apply_retention(const std::string& by,
                                            const std::string& only) override {
    std::string what = "erasing what retention says is due";
    if (by.empty()) return fail(errc::refused, what + ": say who applies it (--by)");
    if (!only.empty() && only != "records" && only != "traces") {
      return fail(errc::refused, what + ": no such kind of data '" + only + "' (records, traces)");
    }
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    if (auto s = writer_lock(c(), what); !s) return s.error();
    const std::string today = now_utc().substr(0, 10);
    auto due = due_on(today);
    if (!due) return due.error();
    if (only == "traces") due->applicants.clear();
    if (only == "records") due->trace_runs.clear();
    if (!due->applicants.empty()) {
      if (!encrypted_) {
        return fail(errc::refused,
                    std::to_string(due->applicants.size()) +
                        " applicant(s) are due for erasure, but the store is not "
                        "encrypted: erasure destroys an applicant's data key, which a plain store "
                        "does not have (an encrypted SQLite store migrates encrypted; "
                        "docs/postgresql.md); nothing was erased (--kind traces erases the traces "
                        "due)");
      }
      if (auto st = need_key("erasing the applicants due"); !st) return st.error();
    }
    const auto [records_days, traces_days] = detail::retention_days(due->periods);
    retention_applied done;
    const std::string reason = "retention: records kept " + std::to_string(records_days) +
                               " days after they were received (Law 09-08 art. 3), due on " + today;
    for (const auto& who : due->applicants) {
      auto n = erase_in(who, reason, by, what);
      if (!n) return n.error();
      ++done.applicants;
      done.records += *n;
    }
    if (!due->trace_runs.empty()) {
      // Each trace goes; its hash stays (trace_erased) for the chain's line of its set.
      std::string runs = "{";
      for (std::int64_t r : due->trace_runs) {
        runs += (runs.size() > 1 ? "," : "") + std::to_string(r);
      }
      runs += '}';
      auto n = c().query(what,
                         "WITH u AS (UPDATE decision_sets SET trace_erased = encode(sha256("
                         "convert_to(trace, 'UTF8')), 'hex'), trace = NULL WHERE run_id = "
                         "ANY($1::bigint[]) AND trace IS NOT NULL RETURNING 1) SELECT count(*) "
                         "FROM u",
                         {runs});
      if (!n) return n.error();
      done.traces = n->int64(0, 0);
    }
    const std::string d = detail::retention_details(today, by, only, records_days, traces_days,
                                                    done, due->trace_runs);
    if (auto a = pg_->append_in(by, "retention", today, d); !a) return a.error();
    if (auto s = tx->commit(what); !s) return s.error();
    if (done.applicants != 0) vacuum_keys(what);
    return done;
  }

  /// After an erasure or a rotation: the data keys' old row versions (the destroyed or
  /// re-wrapped keys) are removed from the table's pages now rather than at the next autovacuum.
  /// Best effort: PostgreSQL does not promise to overwrite the bytes of removed rows, and its
  /// WAL (and archives, backups) keep them until they are recycled (docs/postgresql.md).
  void vacuum_keys(std::string_view what) {
    (void)c().run(what, "VACUUM data_keys, pseudonyms, keyring");
  }

  /// The latest records not decided in `run_id` (by `decided`, run 0 decides none) that match
  /// `filter`, of applicants not erased (as the SQLite store counts): counted in SQL without a
  /// filter; with one, read by pages and matched in memory as the SQLite store's filters match
  /// (filter_matches; an encrypted store's records opened first, never matched in SQL), so that
  /// both select the same records.
  result<std::int64_t> count_left(std::int64_t run_id, const char* decided,
                                  const std::vector<record_filter>& filter, bool any,
                                  std::string_view what, const shard_spec& shard = {}) {
    if (filter.empty()) {
      auto q = c().query(what,
                         std::string("SELECT count(*) FROM (SELECT 1 FROM records r WHERE "
                                     "r.latest=1 AND NOT EXISTS (SELECT 1 FROM decision_sets d "
                                     "WHERE d.run_id=$1 AND ") +
                             decided + ")" + shard_condition(shard) + not_erased +
                             (any ? " LIMIT 1" : "") + ") x",
                         {std::to_string(run_id)});
      if (!q) return q.error();
      return q->int64(0, 0);
    }
    if (auto s = need_key("a filter (--where) on an encrypted store"); !s) return s.error();
    std::int64_t n = 0;
    std::int64_t after = 0;
    std::vector<stored_record> page;
    constexpr std::size_t limit = 1000;
    for (;;) {
      if (auto s = read_left(run_id, decided, filter, shard, after, limit, page, what); !s) {
        return s.error();
      }
      n += static_cast<std::int64_t>(page.size());
      if (page.size() < limit || (any && n > 0)) break;
      after = page.back().record_id;
    }
    return any ? std::min<std::int64_t>(n, 1) : n;
  }

  /// Erased applicants are never decided (nor counted): their sealed records' data key is gone.
  static constexpr const char* not_erased =
      " AND NOT EXISTS (SELECT 1 FROM data_keys k WHERE k.applicant_id = r.applicant_id AND "
      "k.wrapped IS NULL AND r.sealed IS NOT NULL)";

  /// A record and, when it is sealed, its applicant's data key (read_record reads them).
  static constexpr const char* record_columns =
      "SELECT r.record_id, r.applicant_id, r.version, r.content_hash, r.json, encode(r.sealed, "
      "'hex'), r.sealed IS NULL, encode(k.wrapped, 'hex'), k.wrapped IS NULL, k.generation, "
      "k.applicant_id IS NULL FROM records r LEFT JOIN data_keys k ON r.sealed IS NOT NULL AND "
      "k.applicant_id = r.applicant_id ";

  /// Reads row `i` of record_columns into `r` (a plain record whole; a sealed one with its data
  /// key, still sealed). errc::damaged for a sealed record whose applicant has no data key row
  /// (deleted behind the tool's back: verify names it too); refused without the master key.
  status read_record(const rows& q, int i, stored_record& r, std::string_view what) const {
    r.record_id = q.int64(i, 0);
    r.applicant_id = q.view(i, 1);
    r.version = q.int64(i, 2);
    r.content_hash = q.view(i, 3);
    r.erased = false;
    if (q.view(i, 6) == "t") {
      r.json = q.view(i, 4);
      r.sealed.clear();
      r.wrapped.clear();
      r.key_generation = 0;
      return {};
    }
    if (auto s = need_key(what); !s) return s;
    if (q.view(i, 10) == "t") {
      return fail(errc::damaged, "record " + std::to_string(r.record_id) +
                                     " is sealed, and its applicant has no data key (the key row "
                                     "was deleted behind the tool's back)");
    }
    r.json.clear();
    r.sealed = from_hex(q.view(i, 5));
    r.erased = q.view(i, 8) == "t";
    r.wrapped = r.erased ? std::string() : from_hex(q.view(i, 7));
    r.key_generation = q.int64(i, 9);
    return {};
  }

  /// The next records (at most `limit`, record id above `after`) of the latest not decided in
  /// `run_id` (`decided`), of the shard, matching `filter`, into `out` (its records overwritten
  /// in place): those of erased applicants dropped; sealed ones left sealed with their data key
  /// for the batch's threads (open_record), or opened here when a filter must read them.
  status read_left(std::int64_t run_id, const char* decided,
                   const std::vector<record_filter>& filter, const shard_spec& shard,
                   std::int64_t after, std::size_t limit, std::vector<stored_record>& out,
                   std::string_view what) {
    std::size_t n = 0;
    while (n < limit) {
      const std::size_t want = filter.empty() ? limit - n : std::max<std::size_t>(limit, 1000);
      auto q =
          c().query(what,
                    std::string(record_columns) +
                        "WHERE r.latest=1 AND r.record_id > $1 AND NOT EXISTS (SELECT 1 "
                        "FROM decision_sets d WHERE d.run_id=$2 AND " +
                        decided + ")" + shard_condition(shard) + " ORDER BY r.record_id LIMIT $3",
                    {std::to_string(after), std::to_string(run_id), std::to_string(want)});
      if (!q) {
        out.clear();
        return q.error();
      }
      for (int i = 0; i < q->size() && n < limit; ++i) {
        if (n == out.size()) out.emplace_back();
        stored_record& r = out[n];
        if (auto s = read_record(*q, i, r, what); !s) {
          out.clear();
          return s;
        }
        after = r.record_id;
        if (r.erased) continue;
        if (!filter.empty()) {
          if (auto o = open_record(r); !o) {
            out.clear();
            return o;
          }
          if (!filter_matches(r.json, filter)) continue;
        }
        ++n;
      }
      if (static_cast<std::size_t>(q->size()) < want) break;  // no record left
    }
    out.resize(n);
    return {};
  }

  /// The SQL that keeps the records of a shard (nothing for 1/1): dalil_shard of the key each
  /// record keeps (migration 4).
  static std::string shard_condition(const shard_spec& shard) {
    if (shard.count <= 1) return {};
    return " AND dalil_shard(r.shard_key, " + std::to_string(shard.count) +
           ") = " + std::to_string(shard.index);
  }

  /// The lease's row: one per (run, shard) of a run in shards, 'writer' otherwise.
  static std::string lease_name(const shard_spec& shard) {
    return shard.count <= 1 ? std::string("writer") : "writer " + shard_text(shard);
  }

  /// The database server's clock (Unix seconds), which every lease's expiry is read and
  /// written by: the clocks of the batches' machines may differ, the server's is one.
  static constexpr const char* server_now = "extract(epoch from clock_timestamp())::bigint";

  result<std::int64_t> count_matching(const std::vector<record_filter>& filter) override {
    if (auto s = need_key("a batch"); !s) return s.error();
    return count_left(0, "d.applicant_id=r.applicant_id", filter, false,
                      "counting the records to decide");
  }

  static run_info read_run(const rows& q, int i) {
    run_info r{q.int64(i, 0), q.text(i, 1),  q.text(i, 2), q.text(i, 3),
               q.text(i, 4),  q.int64(i, 5), false,        {}};
    r.shards = q.int64(i, 6);
    return r;
  }

  static constexpr const char* run_columns =
      "SELECT run_id, ruleset_hash, as_of, filter, status, generation, shards FROM runs ";

  /// Every lease row, with whether it is live: not expired by the server's clock, and not left
  /// by a process of this machine that is gone (a holder on another machine cannot be checked:
  /// its lease expires). Ordered by run and shard.
  result<std::vector<std::pair<lease_info, bool>>> all_leases() {
    auto q = c().query("reading the store's leases",
                       std::string("SELECT run_id, pid, host, since, expires, machine, "
                                   "shard_index, shard_count, expires > ") +
                           server_now + ", total FROM lease ORDER BY run_id, shard_index");
    if (!q) return q.error();
    std::vector<std::pair<lease_info, bool>> out;
    for (int i = 0; i < q->size(); ++i) {
      lease_info l{q->int64(i, 0), q->int64(i, 1), q->text(i, 2), q->text(i, 3), q->int64(i, 4)};
      l.machine = q->text(i, 5);
      l.shard = shard_spec{q->int64(i, 6), q->int64(i, 7)};
      l.total = q->int64(i, 9);
      const bool dead = same_process_space(l.machine, machine_) && !process_alive(l.pid);
      const bool live = q->view(i, 8) == "t" && !dead;
      out.emplace_back(std::move(l), live);
    }
    return out;
  }

  /// The live leases (not expired, and not left by a dead process of this machine).
  result<std::vector<lease_info>> live_leases() {
    auto all = all_leases();
    if (!all) return all.error();
    std::vector<lease_info> out;
    for (auto& [l, live] : *all) {
      if (live) out.push_back(std::move(l));
    }
    return out;
  }

  result<run_info> open_run(const std::string& ruleset_hash, const std::string& as_of,
                            const std::vector<record_filter>& filter,
                            const shard_spec& shard) override {
    if (shard.count < 1 || shard.count > max_shards || shard.index < 1 ||
        shard.index > shard.count) {
      return fail(errc::refused, "shard " + shard_text(shard) +
                                     " is not a shard I/N with 1 <= I "
                                     "<= N <= " +
                                     std::to_string(max_shards));
    }
    std::string f = filter_text(filter);
    constexpr std::string_view what = "opening the run";
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    if (auto s = writer_lock(c(), what); !s) {
      if (s.error().code == errc::busy) {
        return fail(errc::busy,
                    "another process is writing the store (an import or a batch) and did not "
                    "finish within 30 s: run the batch once it has finished");
      }
      return s.error();
    }
    auto live = live_leases();
    if (!live) return live.error();
    if (shard.count == 1 && !live->empty()) {
      return fail(errc::busy, "another batch holds the store's lease (" + held_by(live->front()) +
                                  "): wait for it to finish, or for its lease to expire if that "
                                  "process is gone");
    }
    auto found = c().query(what,
                           std::string(run_columns) +
                               "WHERE ruleset_hash=$1 AND as_of=$2 AND filter=$3 ORDER BY "
                               "generation DESC LIMIT 1",
                           {ruleset_hash, as_of, f});
    if (!found) return found.error();
    run_info info{0, ruleset_hash, as_of, f, "running", 1, false, {}};
    if (found->size() == 1) {
      info = read_run(*found, 0);
      if (info.status == "complete") {
        auto stale = count_left(info.run_id, "d.record_id=r.record_id", filter, true,
                                "comparing the run with the latest records");
        if (!stale) return stale.error();
        if (*stale == 0) {
          info.resumed = true;
          info.shard = shard;
          return info;  // nothing to do: the transaction rolls back
        }
        info = run_info{0, ruleset_hash, as_of, f, "running", info.generation + 1, false, {}};
      } else if (info.shards != shard.count) {
        return fail(
            errc::refused,
            "run " + std::to_string(info.run_id) +
                " of this ruleset, date and filter is "
                "being decided in " +
                std::to_string(info.shards) + " shard(s), not " + std::to_string(shard.count) +
                ": finish it with " +
                (info.shards == 1 ? std::string("no --shard (or --shard 1/1)")
                                  : "--shard I/" + std::to_string(info.shards) +
                                        " for every I from 1 to " + std::to_string(info.shards)) +
                " (dalil batch --status shows what is left)");
      } else {
        info.resumed = true;
      }
    }
    info.shard = shard;
    info.shards = shard.count;
    if (shard.count > 1) {
      // Other shards of this run run beside this one; this shard, or another run, does not.
      for (const lease_info& l : *live) {
        if (l.run_id != info.run_id || l.shard.index == shard.index || l.shard.count == 1) {
          return fail(errc::busy,
                      "another batch holds " +
                          std::string(l.run_id == info.run_id ? "this shard's lease ("
                                                              : "the store's lease (") +
                          held_by(l) +
                          "): wait for it to finish, or for its lease to expire if that process "
                          "is gone");
        }
      }
    }
    if (info.run_id == 0) {
      auto id = c().query(what, "SELECT coalesce(max(run_id), 0) + 1 FROM runs");
      if (!id) return id.error();
      info.run_id = id->int64(0, 0);
      std::string started = now_utc();
      if (auto s = c().run(what,
                           "INSERT INTO runs(run_id, ruleset_hash, as_of, filter, started_at, "
                           "status, generation, shards) VALUES($1,$2,$3,$4,$5,'running',$6,$7)",
                           {std::to_string(info.run_id), ruleset_hash, as_of, f, started,
                            std::to_string(info.generation), std::to_string(shard.count)});
          !s) {
        return s.error();
      }
      const std::string d = detail::run_details(info.run_id, ruleset_hash, as_of, f,
                                                info.generation, started, shard.count);
      if (auto a = pg_->append_in("dalil", "run", std::to_string(info.run_id), d); !a) {
        return a.error();
      }
    }
    // The shard's records, decided or not, for --status.
    auto total = count_left(0, "d.applicant_id=r.applicant_id", filter, false,
                            "counting the shard's records", shard);
    if (!total) return total.error();
    info.lease = machine_ + ":" + std::to_string(::getpid()) + ":" + now_utc() + ":" +
                 std::to_string(info.run_id) + ":" + shard_text(shard);
    if (auto s = c().run(
            what,
            std::string("INSERT INTO lease(name, token, run_id, pid, host, since, "
                        "expires, machine, shard_index, shard_count, total) "
                        "VALUES($1,$2,$3,$4,$5,$6,") +
                server_now +
                " + $7,$8,$9,$10,$11) ON CONFLICT(name) DO UPDATE SET "
                "token=excluded.token, run_id=excluded.run_id, pid=excluded.pid, "
                "host=excluded.host, since=excluded.since, expires=excluded.expires, "
                "machine=excluded.machine, shard_index=excluded.shard_index, "
                "shard_count=excluded.shard_count, total=excluded.total",
            {lease_name(shard), info.lease, std::to_string(info.run_id), std::to_string(::getpid()),
             host_, now_utc(), std::to_string(lease_seconds), machine_, std::to_string(shard.index),
             std::to_string(shard.count), std::to_string(*total)});
        !s) {
      return s.error();
    }
    if (auto s = tx->commit(what); !s) return s.error();
    return info;
  }

  result<std::int64_t> count_pending(std::int64_t run_id, const std::vector<record_filter>& filter,
                                     const shard_spec& shard) override {
    return count_left(run_id, "d.applicant_id=r.applicant_id", filter, false,
                      "counting the records left to decide", shard);
  }

  status next_pending(std::int64_t run_id, const std::vector<record_filter>& filter,
                      const shard_spec& shard, std::int64_t after, std::size_t limit,
                      std::vector<stored_record>& out) override {
    return read_left(run_id, "d.applicant_id=r.applicant_id", filter, shard, after, limit, out,
                     "reading the records to decide");
  }

  status open_record(stored_record& r) const override {
    if (r.sealed.empty()) return {};
    if (auto s = need_key("reading records"); !s) return s;
    auto s = sealing::open_record(*key_, r, r.sealed, r.wrapped, r.erased, r.key_generation);
    r.sealed.clear();
    return s;
  }

  status seal_decisions(const stored_record& r, std::int64_t run_id, decision_set& d,
                        std::span<const std::uint8_t> plain_values) const override {
    if (!encrypted_ || r.wrapped.empty()) return {};
    return sealing::seal_decisions(key_ ? &*key_ : nullptr, pg_name, r, run_id, d, plain_values);
  }

  status renew_lease(const run_info& run, std::string_view what) {
    auto q = c().query(what,
                       std::string("UPDATE lease SET expires=") + server_now +
                           " + $1 WHERE name=$2 AND token=$3 RETURNING 1",
                       {std::to_string(lease_seconds), lease_name(run.shard), run.lease});
    if (!q) return q.error();
    if (q->size() == 1) return {};
    std::string holder;
    if (auto l = live_leases(); l) {
      for (const lease_info& h : *l) {
        if (h.run_id == run.run_id && h.shard.index == run.shard.index) {
          holder = " (now held by " + held_by(h) + ")";
        }
      }
    }
    return fail(errc::conflict, std::string(what) + ": the batch lost the store's lease" + holder +
                                    ": it stopped without writing this chunk");
  }

  status write_decisions(const run_info& run, const std::vector<decision_set>& sets) override {
    if (sets.empty()) return {};
    std::string what = "writing the decision sets of run " + std::to_string(run.run_id);
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    if (auto s = renew_lease(run, what); !s) return s;
    auto st =
        c().query(what, "SELECT status FROM runs WHERE run_id=$1", {std::to_string(run.run_id)});
    if (!st) return st.error();
    if (st->size() == 0 || st->view(0, 0) != "running") {
      return fail(errc::refused, what +
                                     ": the run is not running (complete, or gone): a "
                                     "complete run never changes");
    }
    // One COPY: the primary key (run, record) and UNIQUE(run, applicant) make a set written
    // twice fail the whole chunk, its entry with it.
    row_digest digest;
    std::string line;
    std::string data;
    const std::string run_id = std::to_string(run.run_id);
    for (const decision_set& d : sets) {
      data += run_id;
      data += '\t';
      data += std::to_string(d.record_id);
      data += "\t\\\\x";
      d.input_hash.append_hex(data);
      data += '\t';
      append_copy_text(data, d.decisions_json);
      data += "\t\\\\x";
      d.trace_digest.append_hex(data);
      data += '\t';
      if (d.trace_json.empty()) {
        data += "\\N";
      } else {
        append_copy_text(data, d.trace_json);
      }
      data += '\t';
      data += std::to_string(d.format);
      data += '\t';
      append_copy_text(data, d.applicant_id);
      if (d.sealed_decisions.empty()) {
        data += "\t\\N\n";
      } else {
        data += "\t\\\\x";
        engine::append_hex(data, d.sealed_decisions);
        data += '\n';
      }
      decision_line(line, d.record_id, d.applicant_id, d.input_hash, d.decisions_digest,
                    d.trace_digest, d.format, d.trace_json, {}, d.sealed_decisions);
      digest.add(d.record_id, line);
    }
    if (auto s = c().copy_in(what,
                             "COPY decision_sets(run_id, record_id, input_hash, decisions, "
                             "trace_digest, trace, format, applicant_id, sealed_decisions) FROM "
                             "STDIN",
                             [&](std::string& piece) -> result<bool> {
                               piece.swap(data);
                               return false;
                             });
        !s) {
      return s;
    }
    const std::string details = detail::decisions_details(run.run_id, sets.front().record_id,
                                                          sets.back().record_id, digest);
    if (auto a = pg_->append_in("dalil", "decisions", run_id, details); !a) return a.error();
    return tx->commit(what);
  }

  result<bool> finish_run(const run_info& run, const std::vector<record_filter>& filter) override {
    std::string what = "completing run " + std::to_string(run.run_id);
    auto tx = transaction::begin(c(), what);
    if (!tx) return tx.error();
    if (auto s = renew_lease(run, what); !s) return s.error();
    if (run.shards > 1) {
      // The shard that finishes last completes the run, once: the shards' completions are
      // serialized by the writer lock, and each sees the others' committed decision sets.
      if (auto s = writer_lock(c(), what); !s) return s.error();
      auto st =
          c().query(what, "SELECT status FROM runs WHERE run_id=$1", {std::to_string(run.run_id)});
      if (!st) return st.error();
      auto left = count_left(run.run_id, "d.applicant_id=r.applicant_id", filter, true,
                             "counting the run's records left to decide");
      if (!left) return left.error();
      if (st->size() == 0 || st->view(0, 0) != "running" || *left != 0) {
        if (auto s = c().run(what, "DELETE FROM lease WHERE name=$1 AND token=$2",
                             {lease_name(run.shard), run.lease});
            !s) {
          return s.error();
        }
        if (auto s = tx->commit(what); !s) return s.error();
        return false;
      }
    }
    auto n = count_decisions(run.run_id);
    if (!n) return n.error();
    std::string finished = now_utc();
    if (auto s = c().run(what, "UPDATE runs SET status='complete', finished_at=$1 WHERE run_id=$2",
                         {finished, std::to_string(run.run_id)});
        !s) {
      return s.error();
    }
    const std::string d = detail::run_complete_details(run.run_id, *n, finished);
    if (auto a = pg_->append_in("dalil", "run_complete", std::to_string(run.run_id), d); !a) {
      return a.error();
    }
    if (auto s = c().run(what, "DELETE FROM lease WHERE name=$1 AND token=$2",
                         {lease_name(run.shard), run.lease});
        !s) {
      return s.error();
    }
    if (auto s = tx->commit(what); !s) return s.error();
    return true;
  }

  status release_lease(const run_info& run) override {
    if (run.lease.empty()) return {};
    return c().run("releasing the lease of run " + std::to_string(run.run_id),
                   "DELETE FROM lease WHERE name=$1 AND token=$2",
                   {lease_name(run.shard), run.lease});
  }

  result<lease_info> lease() override {
    auto l = live_leases();
    if (!l) return l.error();
    if (l->empty()) return fail(errc::not_found, "no batch holds the store's lease");
    return l->front();
  }

  result<std::vector<shard_progress>> progress(std::int64_t run_id) override {
    std::string what = "reading the progress of run " + std::to_string(run_id);
    auto r = run(run_id);
    if (!r) return r.error();
    auto leases = all_leases();
    if (!leases) return leases.error();
    const std::string n = std::to_string(r->shards);
    auto q = c().query(what,
                       "SELECT dalil_shard(dalil_shard_key(applicant_id), " + n +
                           "), count(*) FROM decision_sets WHERE run_id=$1 GROUP BY 1 ORDER BY 1",
                       {std::to_string(run_id)});
    if (!q) return q.error();
    std::vector<shard_progress> out(static_cast<std::size_t>(r->shards));
    for (std::size_t i = 0; i < out.size(); ++i) {
      out[i].shard = shard_spec{static_cast<std::int64_t>(i) + 1, r->shards};
    }
    for (int i = 0; i < q->size(); ++i) {
      const std::int64_t s = q->int64(i, 0);
      if (s >= 1 && s <= r->shards) out[static_cast<std::size_t>(s - 1)].decided = q->int64(i, 1);
    }
    for (auto& [l, live] : *leases) {
      if (l.run_id != run_id || l.shard.count != r->shards || l.shard.index < 1 ||
          l.shard.index > r->shards) {
        continue;
      }
      shard_progress& p = out[static_cast<std::size_t>(l.shard.index - 1)];
      p.holder = l;
      p.has_holder = true;
      p.live = live;
    }
    // The shard's records: counted when its batch last started (a lease row), or now for a run
    // without a filter.
    for (auto& p : out) {
      if (r->filter.empty()) {
        auto t = count_left(0, "d.applicant_id=r.applicant_id", {}, false, what, p.shard);
        if (!t) return t.error();
        p.total = *t;
      } else if (p.has_holder) {
        p.total = p.holder.total;
      }
    }
    return out;
  }

  result<std::int64_t> audit(const std::string& actor, const std::string& action,
                             const std::string& subject, const std::string& details) override {
    if (read_only_) {
      return fail(errc::refused,
                  "the PostgreSQL store is open read-only: appending to the audit log (" + action +
                      ") is impossible");
    }
    return pg_->audit(actor, action, subject, details);
  }

  status audited_read(const std::string& actor, const std::string& subject,
                      const std::string& details, const std::function<status()>& read) override {
    if (read_only_) {
      return fail(errc::refused,
                  "the PostgreSQL store is open read-only: every read of decisions is recorded in "
                  "the store's audit log, so decisions, export and replay refuse a store they "
                  "cannot write");
    }
    auto seq = audit(actor, "read", subject, details);
    if (!seq) return fail(seq.error().code, seq.error().message + ": nothing was read");
    auto tx = transaction::begin(c(), "reading", "ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (!tx) return tx.error();
    auto q = c().query("reading the audit entry of this read",
                       "SELECT count(*) FROM audit WHERE seq=$1", {std::to_string(*seq)});
    if (!q) return q.error();
    if (q->int64(0, 0) != 1) {
      return fail(errc::damaged, "the audit entry of this read (" + std::to_string(*seq) +
                                     ") is not in the store: nothing was read");
    }
    return read();  // the transaction (read only) rolls back
  }

  result<verify_report> verify(const verify_options& options) override {
    return pg_->verify_chain(options);
  }

  result<audit_head> head() override {
    auto h = pg_->head();
    if (h && h->seq == 0) return fail(errc::not_found, "the audit log is empty");
    return h;
  }

  result<stored_record> record(std::int64_t record_id) override {
    constexpr std::string_view what = "reading a record";
    auto q = c().query(what, std::string(record_columns) + "WHERE r.record_id=$1",
                       {std::to_string(record_id)});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no record " + std::to_string(record_id));
    stored_record r;
    if (auto s = read_record(*q, 0, r, what); !s) return s.error();
    if (auto s = open_record(r); !s) return s.error();
    return r;
  }

  result<run_info> run(std::int64_t run_id) override {
    auto q = c().query("reading a run", std::string(run_columns) + "WHERE run_id=$1",
                       {std::to_string(run_id)});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no run " + std::to_string(run_id));
    return read_run(*q, 0);
  }

  /// A decision set (`d`) and, when it holds sealed values or a sealed trace, its applicant's
  /// data key row (`k`), as read_set reads them.
  static constexpr const char* set_columns =
      "SELECT d.record_id, encode(d.input_hash, 'hex'), d.decisions, encode(d.trace_digest, "
      "'hex'), d.format, d.applicant_id, coalesce(encode(d.sealed_decisions, 'hex'), ''), "
      "k.applicant_id IS NOT NULL, coalesce(encode(k.wrapped, 'hex'), ''), coalesce(k.generation, "
      "0)";
  static constexpr const char* set_from =
      " FROM decision_sets d LEFT JOIN data_keys k ON k.applicant_id = d.applicant_id AND "
      "(d.sealed_decisions IS NOT NULL OR d.trace LIKE 'sealed1:%') ";

  /// Reads row `i` of set_columns into `d`; with `open`, opens its sealed decisions as
  /// sealing::open_decisions does (`quiet`: left values_sealed without the key or erased).
  status read_set(const rows& q, int i, decision_set& d, std::int64_t run_id, bool open,
                  bool quiet) const {
    d.record_id = q.int64(i, 0);
    d.input_hash = digest_of(q.view(i, 1));
    d.decisions_json = q.view(i, 2);
    d.trace_digest = digest_of(q.view(i, 3));
    d.format = static_cast<int>(q.int64(i, 4));
    d.applicant_id = q.view(i, 5);
    d.sealed_decisions = from_hex(q.view(i, 6));
    d.values_sealed = !d.sealed_decisions.empty();
    if (!open) return {};
    return sealing::open_decisions(key_ ? &*key_ : nullptr, pg_name, d, run_id, q.view(i, 7) == "t",
                                   from_hex(q.view(i, 8)), q.int64(i, 9), quiet);
  }

  result<decision_set> decisions(std::int64_t run_id, std::int64_t record_id) override {
    std::string name = std::to_string(run_id) + ":" + std::to_string(record_id);
    auto q = c().query(
        "reading decision set " + name,
        std::string(set_columns) + ", d.trace" + set_from + "WHERE d.run_id=$1 AND d.record_id=$2",
        {std::to_string(run_id), std::to_string(record_id)});
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no decision " + name);
    decision_set d;
    if (auto s = read_set(*q, 0, d, run_id, true, false); !s) return s.error();
    d.decisions_digest = engine::sha256(d.decisions_json);
    d.trace_json = q->text(0, 10);
    if (sealing::sealed_trace(d.trace_json)) {
      if (auto s = need_key("reading a stored trace"); !s) return s.error();
      if (auto s = sealing::open_trace(*key_, d.applicant_id, run_id, record_id,
                                       from_hex(q->view(0, 8)), q->int64(0, 9), d.trace_json);
          !s) {
        return s.error();
      }
    }
    return d;
  }

  result<decision_set> applicant_decisions(std::int64_t run_id,
                                           const std::string& applicant_id) override {
    std::string what = "reading the applicant's decision set in run " + std::to_string(run_id);
    auto q = c().query(
        what, std::string(set_columns) + set_from + "WHERE d.run_id=$1 AND d.applicant_id=$2",
        {std::to_string(run_id), applicant_id});
    if (!q) return q.error();
    if (q->size() == 0) {
      return fail(errc::not_found,
                  "run " + std::to_string(run_id) + " does not decide this applicant");
    }
    decision_set d;
    if (auto s = read_set(*q, 0, d, run_id, true, true); !s) return s.error();
    return d;
  }

  status each_decision(std::int64_t run_id,
                       const std::function<void(const std::string&, const decision_set&)>& f,
                       bool whole) override {
    std::string what = "reading the decision sets of run " + std::to_string(run_id);
    decision_set d;
    std::int64_t after = -1;
    for (;;) {
      auto q = c().query(what,
                         std::string(set_columns) + set_from +
                             "WHERE d.run_id=$1 AND d.record_id > $2 ORDER BY d.record_id LIMIT "
                             "10000",
                         {std::to_string(run_id), std::to_string(after)});
      if (!q) return q.error();
      for (int i = 0; i < q->size(); ++i) {
        if (auto s = read_set(*q, i, d, run_id, whole, true); !s) return s;
        f(d.applicant_id, d);
        after = d.record_id;
      }
      if (q->size() < 10000) return {};
    }
  }

  result<std::vector<run_info>> runs() override {
    auto q = c().query("reading the runs", std::string(run_columns) + "ORDER BY run_id");
    if (!q) return q.error();
    std::vector<run_info> out;
    out.reserve(static_cast<std::size_t>(q->size()));
    for (int i = 0; i < q->size(); ++i) out.push_back(read_run(*q, i));
    return out;
  }

  result<run_info> newest_complete_run() override {
    auto q = c().query("reading the runs", std::string(run_columns) +
                                               "WHERE status='complete' ORDER BY run_id DESC "
                                               "LIMIT 1");
    if (!q) return q.error();
    if (q->size() == 0) return fail(errc::not_found, "no complete run in the PostgreSQL store");
    return read_run(*q, 0);
  }

  result<std::int64_t> count_decisions(std::int64_t run_id) override {
    auto q =
        c().query("counting the decision sets of run " + std::to_string(run_id),
                  "SELECT count(*) FROM decision_sets WHERE run_id=$1", {std::to_string(run_id)});
    if (!q) return q.error();
    return q->int64(0, 0);
  }

  result<std::int64_t> count_records() override {
    auto q = c().query("counting the records", "SELECT count(*) FROM records WHERE latest=1");
    if (!q) return q.error();
    return q->int64(0, 0);
  }

 private:
  connection& c() { return pg_->conn(); }

  std::optional<crypto::master_key> key_;
  bool encrypted_ = false;
  std::int64_t generation_ = 1;  // the keyring's: data keys are wrapped under it
  std::unique_ptr<pg_store> pg_;
  std::string conninfo_;  // for reopen(): never printed
  bool read_only_;
  std::string host_ = host_name();
  std::string machine_ = machine_id();
};

}  // namespace

result<std::unique_ptr<store>> open_store(const std::string& conninfo, open_mode mode,
                                          const crypto::master_key* key) {
  const bool read_only = mode == open_mode::read_only;
  auto s = pg_store::open(conninfo, read_only);
  if (!s) return s.error();
  auto b = std::make_unique<pg_backend>(std::move(*s), conninfo, read_only, key);
  if (auto k = b->read_keyring(); !k) return k.error();
  return std::unique_ptr<store>(std::move(b));
}

}  // namespace dalil::store::pg
