// Encryption at rest (docs/operations.md): the master key kept outside the store, one data key
// per applicant wrapped by it, authenticated encryption of personal fields bound to their row,
// and keyed hashes for the applicant ids used for lookup. libsodium only; no key ever in a
// message or a log.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/result.hpp"

namespace dalil::store::crypto {

inline constexpr std::size_t key_bytes = 32;

/// 32 secret bytes, wiped when destroyed (master and data keys alike).
class secret_key {
 public:
  secret_key() = default;
  ~secret_key();
  secret_key(const secret_key& o) = default;
  secret_key& operator=(const secret_key& o) = default;
  unsigned char* data() { return bytes_.data(); }
  const unsigned char* data() const { return bytes_.data(); }
  bool operator==(const secret_key& o) const;

 private:
  std::array<unsigned char, key_bytes> bytes_{};
};

/// Overwrites the whole buffer of `s` (its capacity, not only its size) with zeros
/// (sodium_memzero: never optimized away) and empties it, keeping the buffer for reuse: for a
/// reused or temporary buffer that held a plaintext value once it is sealed.
void wipe(std::string& s);

/// The master key: only ever outside the store file (a key file or DALIL_MASTER_KEY).
struct master_key {
  secret_key wrap;    // derived: wraps the data keys
  secret_key lookup;  // keys the applicant-id hashes: the store's own (its keyring), once opened
  secret_key check;   // derived: the key check value the store keeps to refuse a wrong key
};

/// One applicant's data key: destroying its wrapped copy erases the applicant (crypto-shredding).
using data_key = secret_key;

/// The environment variable a service gives the master key in (64 hex characters).
inline constexpr const char* master_key_variable = "DALIL_MASTER_KEY";

/// Loads the master key from `key_file` when it is not empty, else from DALIL_MASTER_KEY.
/// A key file must be a regular file owned by the user running dalil, readable by nobody else
/// (mode 0600 or 0400), holding 64 hex characters (and an optional newline).
/// errc::not_found when neither is given; errc::refused for a key file others may read or one
/// owned by another user; errc::failed for an unreadable file or a malformed key. Messages name
/// the file and its mode, never the key.
result<master_key> load_master_key(const std::string& key_file);

/// Creates a new key file (mode 0600, O_EXCL) holding a fresh random key; errc::refused when the
/// file exists (a key is never overwritten: the store's data would be lost with it).
status create_key_file(const std::string& path);

/// The key check value (32 hex): what a store keeps to tell the right master key from a wrong one
/// without holding anything that helps find the key.
std::string key_check(const master_key& key);

/// The keyed hash (BLAKE2b-256 under the lookup key, 64 hex) that stands for an applicant id in
/// the store's lookup columns and audit entries.
std::string lookup_hash(const master_key& key, std::string_view applicant_id);

/// A fresh random data key.
data_key new_data_key();

/// The data key wrapped by the master key (XChaCha20-Poly1305: 24-byte nonce, then 48 bytes),
/// bound by associated data to the applicant's lookup hash and the master key's generation.
std::string wrap(const master_key& key, const data_key& dk, std::string_view applicant,
                 std::int64_t generation);
/// Unwraps a data key; errc::damaged when it does not open (another applicant's key, another
/// generation, another master key, or a changed byte).
result<data_key> unwrap(const master_key& key, std::string_view wrapped, std::string_view applicant,
                        std::int64_t generation);

/// The associated data that binds a sealed record to its row: its applicant (the store's id, a
/// pseudonym) and version. The import, the counter and every reader use this one form.
std::string record_ad(std::string_view applicant, std::int64_t version);

/// The pseudonym that follows `last` (the largest the store has given, "" when none):
/// p0000000001, p0000000002… Pseudonyms are never given twice, an erased applicant's included.
std::string next_pseudonym(std::string_view last);

/// Bytes added to a plaintext by `seal` (nonce and tag).
inline constexpr std::size_t seal_overhead = 24 + 16;

/// Encrypts `plain` under the data key into `out` (nonce, then ciphertext and tag), bound to `ad`
/// (the row it belongs to: a ciphertext moved to another row does not open).
void seal(const data_key& dk, std::string_view plain, std::string_view ad, std::string& out);
/// Decrypts into `out`; false when it does not open (wrong key, other row, changed byte).
bool open(const data_key& dk, std::string_view sealed, std::string_view ad, std::string& out);

/// The prefix of a value sealed as text (a stored trace in an encrypted store: its column is
/// TEXT), followed by the sealed bytes in base64.
inline constexpr std::string_view sealed_text_prefix = "sealed1:";
/// Seals `plain` as `seal` does, into text: sealed_text_prefix and base64.
void seal_text(const data_key& dk, std::string_view plain, std::string_view ad, std::string& out);
/// Opens what seal_text wrote; false when it is not sealed text or does not open.
bool open_text(const data_key& dk, std::string_view text, std::string_view ad, std::string& out);

}  // namespace dalil::store::crypto
