// Encryption at rest as both stores apply it (sealing.hpp): moved from the SQLite store so that
// the PostgreSQL store seals and opens the same bytes the same way.
#include "store/sealing.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "engine/sha256.hpp"
#include "store/batch.hpp"

namespace dalil::store::sealing {

std::string set_ad(std::string_view kind, std::string_view applicant, std::int64_t run_id,
                   std::int64_t record_id) {
  std::string ad(kind);
  ad += '\x1f';
  ad += applicant;
  ad += '\x1f';
  ad += std::to_string(run_id);
  ad += '\x1f';
  ad += std::to_string(record_id);
  return ad;
}

status need_key(bool encrypted, bool has_key, std::string_view store, std::string_view what) {
  if (encrypted && !has_key) {
    return fail(errc::refused, std::string(store) + " is encrypted: " + std::string(what) +
                                   " needs its master key (--key-file FILE, or " +
                                   crypto::master_key_variable + ")");
  }
  return {};
}

status open_keyring(crypto::master_key& key, std::string_view check,
                    std::string_view wrapped_lookup, std::int64_t generation,
                    std::string_view store) {
  if (crypto::key_check(key) != check) {
    return fail(errc::refused, std::string(store) +
                                   ": the master key given is not this store's (its check "
                                   "value is " +
                                   crypto::key_check(key) + ", the store's " + std::string(check) +
                                   ": `dalil keys check` prints a key's)");
  }
  // The ids' hash key is the store's own (random at keys init, wrapped by the master key).
  auto lookup = crypto::unwrap(key, wrapped_lookup, lookup_label, generation);
  if (!lookup) {
    return fail(errc::damaged, std::string(store) +
                                   ": the keyring's lookup key does not open with the "
                                   "master key (changed behind the tool's back?)");
  }
  key.lookup = *lookup;
  return {};
}

void seal_record(const crypto::data_key& dk, std::string_view applicant, std::int64_t version,
                 std::string_view json, std::string& out) {
  crypto::seal(dk, json, crypto::record_ad(applicant, version), out);
}

status open_record(const crypto::master_key& key, stored_record& r, std::string_view sealed,
                   std::string_view wrapped, bool erased, std::int64_t generation) {
  if (erased) {
    return fail(errc::refused, "record " + std::to_string(r.record_id) +
                                   ": its applicant was erased (the data key is destroyed)");
  }
  // The associated data on the stack: the batch's threads open one record each time.
  std::array<char, 96> buf{};
  std::string long_ad;
  std::string_view ad;
  if (r.applicant_id.size() + 30 <= buf.size()) {
    constexpr std::string_view prefix = "record\x1f";
    char* p = std::copy(prefix.begin(), prefix.end(), buf.data());
    p = std::copy(r.applicant_id.begin(), r.applicant_id.end(), p);
    *p++ = '\x1f';
    p = std::to_chars(p, buf.data() + buf.size(), r.version).ptr;
    ad = {buf.data(), static_cast<std::size_t>(p - buf.data())};
  } else {
    ad = long_ad = crypto::record_ad(r.applicant_id, r.version);
  }
  auto dk = crypto::unwrap(key, wrapped, r.applicant_id, generation);
  if (!dk || !crypto::open(*dk, sealed, ad, r.json)) {
    return fail(errc::damaged, "record " + std::to_string(r.record_id) +
                                   " does not open with the master key (its data key or "
                                   "sealed content was changed or moved)");
  }
  r.data_key = *dk;
  r.opened_for = r.record_id;
  return {};
}

status seal_decisions(const crypto::master_key* key, std::string_view store, const stored_record& r,
                      std::int64_t run_id, decision_set& d,
                      std::span<const std::uint8_t> plain_values) {
  d.sealed_decisions.clear();
  // Reused by the thread from set to set; wiped once sealed (they held the plaintext values).
  thread_local std::string plain;
  thread_local std::string values;
  // A set has one entry per rule of the run's mask (the batch writes one per chosen rule):
  // when every rule's type keeps its value in plain, no value is sealed, and the set need not
  // be scanned (the shipped pack: ~2% of an encrypted batch's CPU time).
  const bool all_plain =
      !plain_values.empty() &&
      std::all_of(plain_values.begin(), plain_values.end(), [](std::uint8_t p) { return p != 0; });
  bool seal = !all_plain && plain_decisions(d.decisions_json, plain, &values, plain_values);
  if (!seal && d.trace_json.empty()) return {};
  if (auto s = need_key(true, key != nullptr, store, "storing decisions"); !s) return s;
  std::optional<crypto::data_key> dk;
  if (r.opened_for == r.record_id && r.record_id != 0) {
    dk = r.data_key;  // unwrapped by open_record, in this thread
  } else {
    auto unwrapped = crypto::unwrap(*key, r.wrapped, r.applicant_id, r.key_generation);
    if (!unwrapped) {
      return fail(errc::damaged, "record " + std::to_string(r.record_id) +
                                     ": its data key does not open with the master key");
    }
    dk = *unwrapped;
  }
  if (!d.trace_json.empty()) {
    std::string sealed;
    crypto::seal_text(*dk, d.trace_json, set_ad("trace", r.applicant_id, run_id, r.record_id),
                      sealed);
    crypto::wipe(d.trace_json);
    d.trace_json = std::move(sealed);
  }
  if (seal) {
    crypto::seal(*dk, values, set_ad("decisions", r.applicant_id, run_id, r.record_id),
                 d.sealed_decisions);
    d.decisions_json.swap(plain);  // `plain` now holds the whole decisions
    d.decisions_digest = engine::sha256(d.decisions_json);
    crypto::wipe(plain);
    crypto::wipe(values);
  }
  return {};
}

status open_decisions(const crypto::master_key* key, std::string_view store, decision_set& d,
                      std::int64_t run_id, bool has_row, std::string_view wrapped,
                      std::int64_t generation, bool quiet) {
  if (d.sealed_decisions.empty()) return {};
  std::string what = "decision set " + std::to_string(run_id) + ":" + std::to_string(d.record_id);
  d.values_sealed = true;
  if (key == nullptr) {
    if (quiet) return {};
    return need_key(true, false, store, "reading decisions whole");
  }
  if (!has_row) {  // deleted behind the tool's back (verify names it): never "erased"
    return fail(errc::damaged, what + ": its applicant has no data key");
  }
  if (wrapped.empty()) {
    if (quiet) return {};
    return fail(errc::refused,
                what + ": its applicant was erased (its decisions' values cannot be read)");
  }
  auto dk = crypto::unwrap(*key, wrapped, d.applicant_id, generation);
  std::string values;
  if (!dk || !crypto::open(*dk, d.sealed_decisions,
                           set_ad("decisions", d.applicant_id, run_id, d.record_id), values)) {
    return fail(errc::damaged, what + ": its sealed decisions do not open with the master key");
  }
  // What the chain vouches for in plain must be what the whole gives back, with the values
  // sealed where the stored form keeps "sealed" (a set of an older dalil, whose rule was the
  // value's shape, reads as it was stored).
  std::string plain;
  std::string again;
  if (!whole_decisions(d.decisions_json, values, plain) ||
      !plain_decisions(plain, again, nullptr, plain_value_mask_of(d.decisions_json)) ||
      again != d.decisions_json) {
    return fail(errc::damaged,
                what + ": its sealed decisions are not the decisions it keeps in plain");
  }
  d.decisions_json = std::move(plain);
  d.values_sealed = false;
  return {};
}

bool sealed_trace(std::string_view trace) {
  return trace.rfind(crypto::sealed_text_prefix, 0) == 0;
}

status open_trace(const crypto::master_key& key, std::string_view applicant, std::int64_t run_id,
                  std::int64_t record_id, std::string_view wrapped, std::int64_t generation,
                  std::string& trace) {
  if (!sealed_trace(trace)) return {};
  std::string what = "decision set " + std::to_string(run_id) + ":" + std::to_string(record_id);
  if (wrapped.empty()) {
    return fail(errc::refused, what + ": its applicant was erased (the trace cannot be read)");
  }
  auto dk = crypto::unwrap(key, wrapped, applicant, generation);
  std::string plain;
  if (!dk || !crypto::open_text(*dk, trace, set_ad("trace", applicant, run_id, record_id), plain)) {
    return fail(errc::damaged, what + ": its stored trace does not open with the master key");
  }
  trace = std::move(plain);
  return {};
}

}  // namespace dalil::store::sealing
