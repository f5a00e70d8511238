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

std::string review_ad(std::string_view applicant, std::string_view review_id) {
  std::string ad = "review\x1f";
  ad += applicant;
  ad += '\x1f';
  ad += review_id;
  return ad;
}

namespace {

/// A strict reader of the little JSON review_projection needs: it finds the raw text of
/// values (strings with their quotes and escapes, as written) and skips the others.
class json_scan {
 public:
  explicit json_scan(std::string_view s) : s_(s) {}
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }
  bool eat(char c) {
    ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool at_end() {
    ws();
    return i_ == s_.size();
  }
  /// A string token, its raw text (quotes included) in `raw`.
  bool string(std::string_view& raw) {
    ws();
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    std::size_t start = i_++;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (static_cast<unsigned char>(s_[i_]) < 0x20) return false;
      i_ += s_[i_] == '\\' ? 2 : 1;
    }
    if (i_ >= s_.size()) return false;
    ++i_;
    raw = s_.substr(start, i_ - start);
    return true;
  }
  /// Any value, skipped (nesting bounded: the server's reviews nest two deep).
  bool skip(int depth = 0) {
    ws();
    if (i_ >= s_.size() || depth > 32) return false;
    char c = s_[i_];
    std::string_view ignored;
    if (c == '"') return string(ignored);
    if (c == '[' || c == '{') {
      const char close = c == '[' ? ']' : '}';
      ++i_;
      if (eat(close)) return true;
      do {
        if (close == '}' && (!string(ignored) || !eat(':'))) return false;
        if (!skip(depth + 1)) return false;
      } while (eat(','));
      return eat(close);
    }
    std::size_t start = i_;
    while (i_ < s_.size() &&
           std::string_view("-+.0123456789eEtrufalsn").find(s_[i_]) != std::string_view::npos) {
      ++i_;
    }
    return i_ > start;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

/// The sealed payload: the decisions' length, a colon, the decisions, then the observations.
std::string review_payload(std::string_view decisions, std::string_view observations) {
  // Reserved first: growing, it would free a buffer holding the official's reasons unzeroed.
  std::string p;
  p.reserve(24 + decisions.size() + observations.size());
  p += std::to_string(decisions.size());
  p += ':';
  p += decisions;
  p += observations;
  return p;
}

}  // namespace

bool review_projection(std::string_view decisions, std::string& out) {
  out = "[";
  json_scan j(decisions);
  if (!j.eat('[')) return false;
  if (!j.eat(']')) {
    do {
      if (!j.eat('{')) return false;
      std::string_view rule;
      std::string_view outcome;
      if (!j.eat('}')) {
        do {
          std::string_view key;
          if (!j.string(key) || !j.eat(':')) return false;
          std::string_view* want = key == "\"rule\""      ? &rule
                                   : key == "\"outcome\"" ? &outcome
                                                          : nullptr;
          if (want != nullptr) {
            if (!want->empty() || !j.string(*want)) return false;
          } else if (!j.skip()) {
            return false;
          }
        } while (j.eat(','));
        if (!j.eat('}')) return false;
      }
      if (rule.empty() || outcome.empty()) return false;
      out += out.size() > 1 ? ",{\"rule\":" : "{\"rule\":";
      out += rule;
      out += ",\"outcome\":";
      out += outcome;
      out += '}';
    } while (j.eat(','));
    if (!j.eat(']')) return false;
  }
  out += ']';
  return j.at_end();
}

bool plain_review(const review& r, review& out) {
  out.review_id = r.review_id;
  out.decision_id = r.decision_id;
  out.supersedes = r.supersedes;
  out.user = r.user;
  out.at = r.at;
  out.seq = r.seq;
  out.sealed = r.sealed;
  out.erased = r.erased;
  out.observations.clear();
  return review_projection(r.decisions, out.decisions);
}

void seal_review(const crypto::data_key& dk, std::string_view applicant, std::string_view review_id,
                 std::string_view decisions, std::string_view observations, std::string& out) {
  std::string payload = review_payload(decisions, observations);
  crypto::seal(dk, payload, review_ad(applicant, review_id), out);
  crypto::wipe(payload);
}

bool reseal_review(const crypto::data_key& old, const crypto::data_key& next,
                   std::string_view applicant, std::string_view review_id, std::string_view sealed,
                   std::string& out) {
  const std::string ad = review_ad(applicant, review_id);
  std::string payload;
  if (!crypto::open(old, sealed, ad, payload)) return false;
  crypto::seal(next, payload, ad, out);
  crypto::wipe(payload);
  return true;
}

status open_review(const crypto::master_key* key, std::string_view applicant,
                   std::string_view sealed, bool has_row, bool destroyed, std::string_view wrapped,
                   std::int64_t generation, review& r) {
  r.sealed = true;
  if (has_row && destroyed) {
    r.erased = true;
    return {};
  }
  if (key == nullptr) return {};
  const std::string what = "review " + r.review_id;
  if (!has_row) return fail(errc::damaged, what + " is sealed but its applicant has no data key");
  auto dk = crypto::unwrap(*key, wrapped, applicant, generation);
  std::string payload;
  if (!dk || !crypto::open(*dk, sealed, review_ad(applicant, r.review_id), payload)) {
    return fail(errc::damaged, what +
                                   " does not open with the master key (its data key or sealed "
                                   "part was changed or moved)");
  }
  const std::size_t colon = payload.find(':');
  std::size_t length = 0;
  bool ok = colon != std::string::npos;
  if (ok) {
    auto [end, ec] = std::from_chars(payload.data(), payload.data() + colon, length);
    ok = ec == std::errc() && end == payload.data() + colon && length <= payload.size() - colon - 1;
  }
  std::string projection;
  if (!ok || !review_projection(std::string_view(payload).substr(colon + 1, length), projection) ||
      projection != r.decisions) {
    crypto::wipe(payload);
    return fail(errc::damaged, what + ": its sealed part is not the decisions it keeps in plain");
  }
  r.decisions = payload.substr(colon + 1, length);
  r.observations = payload.substr(colon + 1 + length);
  crypto::wipe(payload);
  return {};
}

}  // namespace dalil::store::sealing
