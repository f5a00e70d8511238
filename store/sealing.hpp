// Encryption at rest as both stores apply it (docs/operations.md): the keyring's check and
// lookup key, a record's personal fields sealed under its applicant's data key, the decision
// sets that carry them (their values and stored traces), and the refusals without the master
// key. Pure: each backend reads and writes the rows; what is sealed, and how, is decided here
// once, so that a SQLite store and a PostgreSQL store hold the same bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "store/counter_store.hpp"
#include "store/crypto.hpp"
#include "store/result.hpp"
#include "store/store.hpp"

namespace dalil::store::sealing {

/// The associated data of the keyring's wrapped lookup key.
inline constexpr std::string_view lookup_label = "keyring-lookup";

/// The associated data of what is sealed in a decision set's row (`kind`: "trace" for its
/// stored trace, "decisions" for its sealed decisions): the row and what it is.
std::string set_ad(std::string_view kind, std::string_view applicant, std::int64_t run_id,
                   std::int64_t record_id);

/// errc::refused, naming `store` (a path, or "the PostgreSQL store": never a connection
/// string) and `what`, when the store is encrypted and no master key was given.
status need_key(bool encrypted, bool has_key, std::string_view store, std::string_view what);

/// Checks that `key` is the store's (its keyring's check value `check`) and opens the
/// keyring's lookup key (`wrapped_lookup`, wrapped under `generation`) into key.lookup.
/// errc::refused for another key (both check values named, never a key); errc::damaged when
/// the lookup key does not open.
status open_keyring(crypto::master_key& key, std::string_view check,
                    std::string_view wrapped_lookup, std::int64_t generation,
                    std::string_view store);

/// Seals a record's JSON under its applicant's data key, bound to its row (applicant, version).
void seal_record(const crypto::data_key& dk, std::string_view applicant, std::int64_t version,
                 std::string_view json, std::string& out);

/// Opens the sealed content of record `r` (its applicant_id, version and record_id read) into
/// r.json, with the data key `wrapped` under `generation`; keeps the data key in `r` for
/// seal_decisions in the same thread. errc::refused when `erased` (the key destroyed);
/// errc::damaged when it does not open. Thread-safe.
status open_record(const crypto::master_key& key, stored_record& r, std::string_view sealed,
                   std::string_view wrapped, bool erased, std::int64_t generation);

/// store::seal_decisions of an encrypted store (store.hpp): the set's trace sealed as text and
/// the values plain_decisions replaces sealed, under the data key open_record kept (or `r`'s
/// wrapped one). `key` nullptr: refused (need_key) when anything needs sealing. Thread-safe.
status seal_decisions(const crypto::master_key* key, std::string_view store, const stored_record& r,
                      std::int64_t run_id, decision_set& d,
                      std::span<const std::uint8_t> plain_values);

/// Opens the sealed decisions of the set `d` of run `run_id` (decisions_json then holds them
/// whole), given its applicant's data key row (`has_row`: one exists; `wrapped` empty: the
/// key was destroyed). Without the master key, or its applicant erased, `d` stays as stored,
/// values_sealed, when `quiet`; else errc::refused. errc::damaged when they do not open or do
/// not give back what the set keeps in plain.
status open_decisions(const crypto::master_key* key, std::string_view store, decision_set& d,
                      std::int64_t run_id, bool has_row, std::string_view wrapped,
                      std::int64_t generation, bool quiet);

/// Whether a stored trace was sealed by seal_decisions.
bool sealed_trace(std::string_view trace);

/// Opens a stored trace that seal_decisions sealed (`trace` then holds it in plain), with its
/// applicant's data key (`wrapped` empty: erased, errc::refused). errc::damaged when it does not
/// open. A trace not sealed is left as it is.
status open_trace(const crypto::master_key& key, std::string_view applicant, std::int64_t run_id,
                  std::int64_t record_id, std::string_view wrapped, std::int64_t generation,
                  std::string& trace);

/// The associated data of a review's sealed part: the row it belongs to (the applicant's
/// pseudonym and the review's id), so that a sealed part moved to another review does not open.
std::string review_ad(std::string_view applicant, std::string_view review_id);

/// What an encrypted store keeps of a review's decisions in plain: per decision its rule and
/// outcome, `[{"rule":R,"outcome":O},…]`, R and O as the decisions spell them (what the
/// override rates count, without a key). False when `decisions` is not a JSON array of objects
/// each with a string rule and outcome.
bool review_projection(std::string_view decisions, std::string& out);
/// What an encrypted store keeps of `r` in plain: every field but the decisions, which become
/// their projection (review_projection), and the observations (none). No copy of the
/// official's words or the applicant's observations is made: they are sealed apart
/// (seal_review). False when the decisions are not an array of {rule, outcome, …}.
bool plain_review(const review& r, review& out);

/// Seals a review's whole decisions (reasons, values, documents) and the applicant's
/// observations together under the applicant's data key, bound to the row (review_ad).
void seal_review(const crypto::data_key& dk, std::string_view applicant, std::string_view review_id,
                 std::string_view decisions, std::string_view observations, std::string& out);

/// keys reseal's step for a sealed review (`sealed`, of `review_id` of `applicant`): opened with
/// the applicant's old data key and sealed again under the new one into `out`, bound to the same
/// row. False when it does not open.
bool reseal_review(const crypto::data_key& old, const crypto::data_key& next,
                   std::string_view applicant, std::string_view review_id, std::string_view sealed,
                   std::string& out);

/// Opens a review read back from an encrypted store (`r` as stored: the projection, no
/// observations), of the applicant `applicant` (pseudonym) whose data key row is `has_row`
/// (`destroyed`: erased; else `wrapped` under `generation`): r.decisions and r.observations
/// then hold what the official wrote. Erased: r.erased, the projection kept. Without the
/// master key (`key` nullptr): r as stored. r.sealed set in every case. errc::damaged when it
/// does not open (changed, moved, or its applicant has no data key).
status open_review(const crypto::master_key* key, std::string_view applicant,
                   std::string_view sealed, bool has_row, bool destroyed, std::string_view wrapped,
                   std::int64_t generation, review& r);

}  // namespace dalil::store::sealing
