// Encryption at rest over libsodium (crypto.hpp): key files, derived keys, wrapping, sealing.
#include "store/crypto.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace dalil::store::crypto {

namespace {

void ready() {
  static const int rc = sodium_init();  // thread-safe once; 1: already initialised
  if (rc < 0) throw std::runtime_error("libsodium cannot start (no entropy source?)");
}

/// The subkeys of a master key (libsodium's KDF, context "dalilkey").
enum subkey : std::uint64_t { wrap_id = 1, lookup_id = 2, check_id = 3, wrap_gcm_id = 4 };

static_assert(sizeof(crypto_aead_aes256gcm_state) <= sizeof(gcm_state::bytes));

/// Format 2 (AES-256-GCM) blobs open with this byte; format 1 (XChaCha20-Poly1305) blobs have
/// none (the first format: its blobs start with their random nonce). A blob's format follows
/// from its data key's cipher, and a wrapped key's from its length, never from this byte alone.
constexpr unsigned char format_gcm = 2;
constexpr std::size_t gcm_nonce = crypto_aead_aes256gcm_NPUBBYTES;
constexpr std::size_t gcm_tag = crypto_aead_aes256gcm_ABYTES;
constexpr std::size_t xc_nonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t xc_tag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t wrapped_xc = xc_nonce + key_bytes + xc_tag;
constexpr std::size_t wrapped_gcm = 1 + gcm_nonce + key_bytes + gcm_tag;
static_assert(seal_overhead == xc_nonce + xc_tag && seal_overhead_gcm == 1 + gcm_nonce + gcm_tag);
static_assert(wrapped_xc != wrapped_gcm);

/// Tests set this to take the portable path on a processor that has AES-NI.
std::atomic<bool> portable_gcm_forced{false};

/// Tests only (builds with DALIL_TEST_HOOKS, store/CMakeLists.txt): DALIL_TEST_PORTABLE_GCM=1
/// makes the process behave as on a processor where libsodium has no AES-256-GCM, as
/// force_portable_gcm(true) does in process: format 2 through OpenSSL, new data keys of format 1
/// (the fallback, end to end through the CLI: tests/store/keys_reseal_test.sh).
bool portable_by_environment() {
#ifdef DALIL_TEST_HOOKS
  const char* e = std::getenv("DALIL_TEST_PORTABLE_GCM");
  return e != nullptr && std::string_view(e) == "1";
#else
  return false;
#endif
}

/// Whether libsodium's AES-256-GCM serves here (it needs AES-NI and PCLMUL); elsewhere format 2
/// goes through OpenSSL (evp_gcm).
bool gcm_available() {
  ready();
  static const bool available =
      crypto_aead_aes256gcm_is_available() == 1 && !portable_by_environment();
  return available && !portable_gcm_forced.load(std::memory_order_relaxed);
}

/// AES-256-GCM through OpenSSL's EVP: its AES-NI, ARMv8 or constant-time software code, on any
/// processor. The same construction as libsodium's (a 12-byte nonce, the 16-byte tag after the
/// ciphertext), so what either seals the other opens: a store with format-2 keys is read on a
/// machine whose libsodium offers no AES-256-GCM (an older x86-64, an ARM server), at some cost.
/// Encrypting: `in` is the plaintext, `out` gets the ciphertext then the tag (in_len + 16).
/// Decrypting: `in` is the ciphertext then the tag, `out` gets in_len - 16 bytes; false when the
/// tag does not verify.
bool evp_gcm(bool encrypt, const unsigned char* key, const unsigned char* nonce,
             const unsigned char* in, std::size_t in_len, const unsigned char* ad,
             std::size_t ad_len, unsigned char* out) {
  constexpr std::size_t tag = crypto_aead_aes256gcm_ABYTES;
  if (!encrypt && in_len < tag) return false;
  const std::size_t text_len = encrypt ? in_len : in_len - tag;
  if (text_len > static_cast<std::size_t>(INT32_MAX) ||
      ad_len > static_cast<std::size_t>(INT32_MAX)) {
    return false;
  }
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free);
  if (!ctx) throw std::bad_alloc();
  int len = 0;
  bool ok = EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr,
                              encrypt ? 1 : 0) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN,
                                static_cast<int>(crypto_aead_aes256gcm_NPUBBYTES), nullptr) == 1 &&
            EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key, nonce, -1) == 1 &&
            (ad_len == 0 ||
             EVP_CipherUpdate(ctx.get(), nullptr, &len, ad, static_cast<int>(ad_len)) == 1) &&
            (text_len == 0 ||
             EVP_CipherUpdate(ctx.get(), out, &len, in, static_cast<int>(text_len)) == 1);
  if (!ok) throw std::runtime_error("OpenSSL's AES-256-GCM failed");
  if (encrypt) {
    if (EVP_CipherFinal_ex(ctx.get(), out + text_len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag),
                            out + text_len) != 1) {
      throw std::runtime_error("OpenSSL's AES-256-GCM failed");
    }
    return true;
  }
  // The expected tag: EVP's control takes a mutable pointer, so a copy.
  std::array<unsigned char, tag> expected{};
  std::memcpy(expected.data(), in + text_len, tag);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag),
                          expected.data()) != 1) {
    throw std::runtime_error("OpenSSL's AES-256-GCM failed");
  }
  if (EVP_CipherFinal_ex(ctx.get(), out + text_len, &len) != 1) {
    sodium_memzero(out, text_len);  // never a plaintext that did not authenticate
    return false;
  }
  return true;
}

crypto_aead_aes256gcm_state* state_of(gcm_state& s) {
  return reinterpret_cast<crypto_aead_aes256gcm_state*>(s.bytes.data());
}
const crypto_aead_aes256gcm_state* state_of(const gcm_state& s) {
  return reinterpret_cast<const crypto_aead_aes256gcm_state*>(s.bytes.data());
}

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

/// 64 hex characters (surrounding whitespace ignored) into 32 bytes.
bool parse_hex_key(std::string_view text, secret_key& out) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (text.size() != 2 * key_bytes) return false;
  std::size_t n = 0;
  const char* end = nullptr;
  return sodium_hex2bin(out.data(), key_bytes, text.data(), text.size(), nullptr, &n, &end) == 0 &&
         n == key_bytes && end == text.data() + text.size();
}

master_key derive(const secret_key& root) {
  master_key k;
  crypto_kdf_derive_from_key(k.wrap.data(), key_bytes, wrap_id, "dalilkey", root.data());
  crypto_kdf_derive_from_key(k.lookup.data(), key_bytes, lookup_id, "dalilkey", root.data());
  crypto_kdf_derive_from_key(k.check.data(), key_bytes, check_id, "dalilkey", root.data());
  crypto_kdf_derive_from_key(k.wrap_gcm.data(), key_bytes, wrap_gcm_id, "dalilkey", root.data());
  if (gcm_available()) {
    crypto_aead_aes256gcm_beforenm(state_of(k.wrap_gcm_state), k.wrap_gcm.data());
    k.wrap_gcm_state.ready = true;
  }
  return k;
}

std::string hex(const unsigned char* p, std::size_t n) {
  std::string out(2 * n + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}

std::string wrap_ad(std::string_view applicant, std::int64_t generation) {
  std::string ad = "dalil-data-key-v1";
  ad += '\x1f';
  ad += applicant;
  ad += '\x1f';
  ad += std::to_string(generation);
  return ad;
}

/// The same bytes as wrap_ad, built on the stack (the batch unwraps one key per record): the
/// view is into `buf`, or "" when the applicant id is too long for it (then wrap_ad is used).
std::string_view wrap_ad(std::string_view applicant, std::int64_t generation,
                         std::array<char, 128>& buf) {
  constexpr std::string_view prefix = "dalil-data-key-v1\x1f";
  if (prefix.size() + applicant.size() + 1 + 20 > buf.size()) return {};
  char* p = std::copy(prefix.begin(), prefix.end(), buf.data());
  p = std::copy(applicant.begin(), applicant.end(), p);
  *p++ = '\x1f';
  p = std::to_chars(p, buf.data() + buf.size(), generation).ptr;
  return {buf.data(), static_cast<std::size_t>(p - buf.data())};
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

secret_key::~secret_key() {
  sodium_memzero(bytes_.data(), bytes_.size());
}

gcm_state::~gcm_state() {
  sodium_memzero(bytes.data(), bytes.size());
}

cipher preferred_cipher() {
  return gcm_available() ? cipher::aes256gcm : cipher::xchacha20poly1305;
}

void force_portable_gcm(bool on) {
  portable_gcm_forced.store(on, std::memory_order_relaxed);
}

void wipe(std::string& s) {
  // The bytes held, then the rest of the buffer: resizing up to the capacity allocates nothing
  // and fills what it adds with zeros (one pass over each byte, not two: a counter answer is
  // 24 KB, wiped once sent).
  sodium_memzero(s.data(), s.size());
  s.resize(s.capacity());
  s.clear();
}

bool secret_key::operator==(const secret_key& o) const {
  return sodium_memcmp(bytes_.data(), o.bytes_.data(), key_bytes) == 0;
}

result<master_key> load_master_key(const std::string& key_file) {
  ready();
  secret_key root;
  if (key_file.empty()) {
    const char* env = std::getenv(master_key_variable);
    if (env == nullptr || *env == '\0') {
      return fail(errc::not_found,
                  std::string("no master key: give --key-file FILE or set ") + master_key_variable);
    }
    if (!parse_hex_key(env, root)) {
      return fail(errc::failed, std::string(master_key_variable) +
                                    " does not hold a key (64 hex characters expected)");
    }
    return derive(root);
  }
  int fd = ::open(key_file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return fail(errc::failed, "cannot read the key file " + key_file + ": " + std::strerror(errno));
  }
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_it{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return fail(errc::failed, "cannot read the key file " + key_file + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(errc::refused, "the key file " + key_file + " is not a regular file");
  }
  if (st.st_uid != ::geteuid()) {
    return fail(errc::refused,
                "the key file " + key_file + " belongs to uid " + std::to_string(st.st_uid) +
                    ", not to the user running dalil (uid " + std::to_string(::geteuid()) + ")");
  }
  if ((st.st_mode & 077) != 0) {
    return fail(errc::refused, "the key file " + key_file + " has mode " + mode_text(st.st_mode) +
                                   ": others may read it; make it 0600 (chmod 600 " + key_file +
                                   ") and consider the key exposed");
  }
  char buf[160];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) {
    return fail(errc::failed, "cannot read the key file " + key_file + ": " + std::strerror(errno));
  }
  bool ok = parse_hex_key(std::string_view(buf, static_cast<std::size_t>(n)), root);
  sodium_memzero(buf, sizeof buf);
  if (!ok) {
    return fail(errc::failed,
                "the key file " + key_file + " does not hold a key (64 hex characters expected)");
  }
  return derive(root);
}

status create_key_file(const std::string& path) {
  ready();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return fail(errc::refused, path +
                                     " exists: a key file is never overwritten (the data it "
                                     "protects would be lost with it)");
    }
    return fail(errc::failed, "cannot create the key file " + path + ": " + std::strerror(errno));
  }
  secret_key root;
  randombytes_buf(root.data(), key_bytes);
  char text[2 * key_bytes + 2];
  sodium_bin2hex(text, 2 * key_bytes + 1, root.data(), key_bytes);
  text[2 * key_bytes] = '\n';
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, text, 2 * key_bytes + 1) == static_cast<ssize_t>(2 * key_bytes + 1) &&
            ::fsync(fd) == 0;
  int e = errno;
  sodium_memzero(text, sizeof text);
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return fail(errc::failed, "cannot write the key file " + path + ": " + std::strerror(e));
  }
  return {};
}

std::string key_check(const master_key& key) {
  static constexpr std::string_view label = "dalil key check v1";
  unsigned char out[16];
  crypto_generichash(out, sizeof out, bytes(label), label.size(), key.check.data(), key_bytes);
  return hex(out, sizeof out);
}

std::string lookup_hash(const master_key& key, std::string_view applicant_id) {
  unsigned char out[32];
  crypto_generichash(out, sizeof out, bytes(applicant_id), applicant_id.size(), key.lookup.data(),
                     key_bytes);
  return hex(out, sizeof out);
}

data_key new_data_key() {
  return new_data_key(preferred_cipher());
}

data_key new_data_key(cipher alg) {
  ready();
  data_key k;
  randombytes_buf(k.data(), key_bytes);
  k.alg = alg;
  return k;
}

std::string wrap(const master_key& key, const data_key& dk, std::string_view applicant,
                 std::int64_t generation) {
  ready();
  std::string ad = wrap_ad(applicant, generation);
  unsigned long long len = 0;
  if (dk.alg == cipher::aes256gcm) {
    std::string out(wrapped_gcm, '\0');
    auto* p = reinterpret_cast<unsigned char*>(out.data());
    p[0] = format_gcm;
    randombytes_buf(p + 1, gcm_nonce);
    if (key.wrap_gcm_state.ready && gcm_available()) {
      crypto_aead_aes256gcm_encrypt_afternm(p + 1 + gcm_nonce, &len, dk.data(), key_bytes,
                                            bytes(ad), ad.size(), nullptr, p + 1,
                                            state_of(key.wrap_gcm_state));
    } else {
      evp_gcm(true, key.wrap_gcm.data(), p + 1, dk.data(), key_bytes, bytes(ad), ad.size(),
              p + 1 + gcm_nonce);
    }
    return out;
  }
  std::string out(wrapped_xc, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(p, xc_nonce);
  crypto_aead_xchacha20poly1305_ietf_encrypt(p + xc_nonce, &len, dk.data(), key_bytes, bytes(ad),
                                             ad.size(), nullptr, p, key.wrap.data());
  return out;
}

result<data_key> unwrap(const master_key& key, std::string_view wrapped, std::string_view applicant,
                        std::int64_t generation) {
  const bool gcm = wrapped.size() == wrapped_gcm && bytes(wrapped)[0] == format_gcm;
  if (!gcm && wrapped.size() != wrapped_xc) {
    return fail(errc::damaged, "a wrapped data key has the wrong length");
  }
  std::array<char, 128> buf{};
  std::string long_ad;
  std::string_view ad = wrap_ad(applicant, generation, buf);
  if (ad.empty()) ad = long_ad = wrap_ad(applicant, generation);
  data_key dk;
  unsigned long long len = 0;
  int rc = 0;
  if (gcm && key.wrap_gcm_state.ready && gcm_available()) {
    dk.alg = cipher::aes256gcm;
    rc = crypto_aead_aes256gcm_decrypt_afternm(
        dk.data(), &len, nullptr, bytes(wrapped) + 1 + gcm_nonce, wrapped.size() - 1 - gcm_nonce,
        bytes(ad), ad.size(), bytes(wrapped) + 1, state_of(key.wrap_gcm_state));
  } else if (gcm) {
    dk.alg = cipher::aes256gcm;
    const bool opened =
        evp_gcm(false, key.wrap_gcm.data(), bytes(wrapped) + 1, bytes(wrapped) + 1 + gcm_nonce,
                wrapped.size() - 1 - gcm_nonce, bytes(ad), ad.size(), dk.data());
    rc = opened ? 0 : -1;
    len = key_bytes;
  } else {
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        dk.data(), &len, nullptr, bytes(wrapped) + xc_nonce, wrapped.size() - xc_nonce, bytes(ad),
        ad.size(), bytes(wrapped), key.wrap.data());
  }
  if (rc != 0 || len != key_bytes) {
    return fail(errc::damaged,
                "a data key does not open with this master key (another key, or a changed or "
                "moved row)");
  }
  return dk;
}

std::string record_ad(std::string_view applicant, std::int64_t version) {
  std::string ad = "record";
  ad += '\x1f';
  ad += applicant;
  ad += '\x1f';
  ad += std::to_string(version);
  return ad;
}

std::string next_pseudonym(std::string_view last) {
  long long n = 0;
  if (last.size() > 1 && last.front() == 'p') {
    std::from_chars(last.data() + 1, last.data() + last.size(), n);
  }
  char name[24];
  std::snprintf(name, sizeof name, "p%010lld", n + 1);
  return name;
}

void seal(const data_key& dk, std::string_view plain, std::string_view ad, std::string& out) {
  unsigned long long len = 0;
  if (dk.alg == cipher::aes256gcm) {
    out.resize(1 + gcm_nonce + plain.size() + gcm_tag);
    auto* p = reinterpret_cast<unsigned char*>(out.data());
    p[0] = format_gcm;
    randombytes_buf(p + 1, gcm_nonce);
    if (gcm_available()) {
      crypto_aead_aes256gcm_encrypt(p + 1 + gcm_nonce, &len, bytes(plain), plain.size(), bytes(ad),
                                    ad.size(), nullptr, p + 1, dk.data());
    } else {
      evp_gcm(true, dk.data(), p + 1, bytes(plain), plain.size(), bytes(ad), ad.size(),
              p + 1 + gcm_nonce);
    }
    return;
  }
  out.resize(xc_nonce + plain.size() + xc_tag);
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(p, xc_nonce);
  crypto_aead_xchacha20poly1305_ietf_encrypt(p + xc_nonce, &len, bytes(plain), plain.size(),
                                             bytes(ad), ad.size(), nullptr, p, dk.data());
}

void seal_text(const data_key& dk, std::string_view plain, std::string_view ad, std::string& out) {
  ready();
  std::string sealed;
  seal(dk, plain, ad, sealed);
  const std::size_t n =
      sodium_base64_encoded_len(sealed.size(), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  out.assign(sealed_text_prefix);
  out.resize(sealed_text_prefix.size() + n);
  sodium_bin2base64(out.data() + sealed_text_prefix.size(), n, bytes(sealed), sealed.size(),
                    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  out.resize(out.size() - 1);  // the terminating NUL
}

bool open_text(const data_key& dk, std::string_view text, std::string_view ad, std::string& out) {
  if (text.substr(0, sealed_text_prefix.size()) != sealed_text_prefix) return false;
  text.remove_prefix(sealed_text_prefix.size());
  std::string sealed(text.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(sealed.data()), sealed.size(), text.data(),
                        text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0) {
    return false;
  }
  sealed.resize(len);
  return open(dk, sealed, ad, out);
}

bool open(const data_key& dk, std::string_view sealed, std::string_view ad, std::string& out) {
  unsigned long long len = 0;
  int rc = -1;
  if (dk.alg == cipher::aes256gcm) {
    if (sealed.size() < 1 + gcm_nonce + gcm_tag || bytes(sealed)[0] != format_gcm) {
      out.clear();
      return false;
    }
    out.resize(sealed.size() - 1 - gcm_nonce - gcm_tag);
    if (gcm_available()) {
      rc = crypto_aead_aes256gcm_decrypt(reinterpret_cast<unsigned char*>(out.data()), &len,
                                         nullptr, bytes(sealed) + 1 + gcm_nonce,
                                         sealed.size() - 1 - gcm_nonce, bytes(ad), ad.size(),
                                         bytes(sealed) + 1, dk.data());
    } else {
      rc = evp_gcm(false, dk.data(), bytes(sealed) + 1, bytes(sealed) + 1 + gcm_nonce,
                   sealed.size() - 1 - gcm_nonce, bytes(ad), ad.size(),
                   reinterpret_cast<unsigned char*>(out.data()))
               ? 0
               : -1;
      len = out.size();
    }
  } else {
    if (sealed.size() < xc_nonce + xc_tag) {
      out.clear();
      return false;
    }
    out.resize(sealed.size() - xc_nonce - xc_tag);
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        reinterpret_cast<unsigned char*>(out.data()), &len, nullptr, bytes(sealed) + xc_nonce,
        sealed.size() - xc_nonce, bytes(ad), ad.size(), bytes(sealed), dk.data());
  }
  if (rc != 0) {
    out.clear();
    return false;
  }
  out.resize(len);
  return true;
}

}  // namespace dalil::store::crypto
