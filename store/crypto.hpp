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

/// The authenticated cipher of a data key, of its wrapped copy and of everything sealed under it
/// (a key is only ever used with one). `aes256gcm` (format 2) wherever the processor has AES-NI
/// and PCLMUL: about four times faster than `xchacha20poly1305` (format 1, the first format: a
/// store written before keeps it and stays readable), which is the fallback elsewhere. Format 2
/// is read and written on any processor: where libsodium offers no AES-256-GCM (it needs AES-NI),
/// through OpenSSL's, the same construction (a store moves to such a machine, slower there).
enum class cipher : std::uint8_t { xchacha20poly1305 = 1, aes256gcm = 2 };

/// The cipher new data keys get: aes256gcm when this processor offers it, else xchacha20poly1305.
cipher preferred_cipher();

/// Tests only: behave as on a processor where libsodium has no AES-256-GCM (format 2 through
/// OpenSSL, new keys of format 1), or again as this one.
void force_portable_gcm(bool on);

/// libsodium's AES-256-GCM state for a key used many times (the master key's wrapping subkey):
/// its expanded key, computed once, wiped when destroyed. Unused without AES-NI.
struct alignas(16) gcm_state {
  gcm_state() = default;
  ~gcm_state();
  gcm_state(const gcm_state& o) = default;
  gcm_state& operator=(const gcm_state& o) = default;
  std::array<unsigned char, 512> bytes{};
  bool ready = false;
};

/// The master key: only ever outside the store file (a key file or DALIL_MASTER_KEY).
struct master_key {
  secret_key wrap;      // derived: wraps the data keys of format 1 (XChaCha20-Poly1305)
  secret_key lookup;    // keys the applicant-id hashes: the store's own (its keyring), once opened
  secret_key check;     // derived: the key check value the store keeps to refuse a wrong key
  secret_key wrap_gcm;  // derived: wraps the data keys of format 2 (AES-256-GCM); a subkey of its
                        // own, so that no key is used with two ciphers
  gcm_state wrap_gcm_state;  // wrap_gcm expanded once (when the processor offers AES-256-GCM)
};

/// One applicant's data key: destroying its wrapped copy erases the applicant (crypto-shredding).
/// Its cipher is fixed when it is made and read back from the format of its wrapped copy.
struct data_key : secret_key {
  cipher alg = cipher::xchacha20poly1305;
};

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

/// A fresh random data key, of the preferred cipher unless `alg` is given.
data_key new_data_key();
data_key new_data_key(cipher alg);

/// The data key wrapped by the master key, in its cipher's format, bound by associated data to
/// the applicant's lookup hash and the master key's generation: format 1, XChaCha20-Poly1305
/// (24-byte nonce, then 48 bytes: 72); format 2, AES-256-GCM (the byte 2, a 12-byte nonce, then
/// 48 bytes: 61). Format 2's random 96-bit nonces are safe for 2^32 wraps under one master key
/// (NIST SP 800-38D); a store wraps once per applicant and rotation, far below.
std::string wrap(const master_key& key, const data_key& dk, std::string_view applicant,
                 std::int64_t generation);
/// Unwraps a data key (its cipher from the format); errc::damaged when it does not open (another
/// applicant's key, another generation, another master key, or a changed byte).
result<data_key> unwrap(const master_key& key, std::string_view wrapped, std::string_view applicant,
                        std::int64_t generation);

/// The associated data that binds a sealed record to its row: its applicant (the store's id, a
/// pseudonym) and version. The import, the counter and every reader use this one form.
std::string record_ad(std::string_view applicant, std::int64_t version);

/// The pseudonym that follows `last` (the largest the store has given, "" when none):
/// p0000000001, p0000000002… Pseudonyms are never given twice, an erased applicant's included.
std::string next_pseudonym(std::string_view last);

/// Bytes added to a plaintext by `seal` under a key of each cipher (format 1: nonce and tag;
/// format 2: the byte 2, nonce and tag).
inline constexpr std::size_t seal_overhead = 24 + 16;
inline constexpr std::size_t seal_overhead_gcm = 1 + 12 + 16;

/// Encrypts `plain` under the data key into `out` in its cipher's format (format 2: the byte 2;
/// then nonce, ciphertext and tag), bound to `ad` (the row it belongs to: a ciphertext moved to
/// another row does not open). Format 2's random 96-bit nonces are safe for 2^32 messages under
/// one key; a data key seals an applicant's record versions and decision sets, far fewer.
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
