// SHA-256 through OpenSSL's EVP interface. The algorithm is fetched once per process and each
// thread keeps one context: OpenSSL 3 otherwise looks the implementation up (under a lock) and
// allocates a context on every call, which costs more than hashing a short input.
#include "engine/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace dalil::engine {

namespace {

const EVP_MD* sha256_md() {
  static EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) throw std::runtime_error("OpenSSL has no SHA-256 implementation");
    return m;
  }();
  return md;
}

struct context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  context() {
    if (ctx == nullptr) throw std::bad_alloc();
  }
  ~context() { EVP_MD_CTX_free(ctx); }
  context(const context&) = delete;
  context& operator=(const context&) = delete;
};

constexpr char hex_digits[] = "0123456789abcdef";

/// The value of each hex digit (either case); 0xFF for any other byte. A table, not branches:
/// record content hashes are decoded once per record in a batch, and their digits are random.
constexpr std::array<std::uint8_t, 256> nibbles = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(0xFF);
  for (char c = '0'; c <= '9'; ++c)
    t[static_cast<unsigned char>(c)] = static_cast<std::uint8_t>(c - '0');
  for (char c = 'a'; c <= 'f'; ++c) {
    t[static_cast<unsigned char>(c)] = static_cast<std::uint8_t>(c - 'a' + 10);
    t[static_cast<unsigned char>(c - 'a' + 'A')] = static_cast<std::uint8_t>(c - 'a' + 10);
  }
  return t;
}();

}  // namespace

void append_hex(std::string& out, std::string_view bytes) {
  std::size_t at = out.size();
  out.resize(at + 2 * bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[at + 2 * i] = hex_digits[b >> 4];
    out[at + 2 * i + 1] = hex_digits[b & 0xF];
  }
}

std::string hex_of(std::string_view bytes) {
  std::string out;
  append_hex(out, bytes);
  return out;
}

void digest::append_hex(std::string& out) const {
  engine::append_hex(out, view());
}

std::string digest::hex() const {
  std::string out;
  append_hex(out);
  return out;
}

std::optional<digest> digest::from_hex(std::string_view text) {
  digest d;
  if (text.size() != 2 * d.bytes.size()) return std::nullopt;
  std::uint8_t bad = 0;
  for (std::size_t i = 0; i < d.bytes.size(); ++i) {
    std::uint8_t hi = nibbles[static_cast<unsigned char>(text[2 * i])];
    std::uint8_t lo = nibbles[static_cast<unsigned char>(text[2 * i + 1])];
    bad |= hi | lo;
    d.bytes[i] = static_cast<std::uint8_t>(hi << 4 | (lo & 0xF));
  }
  if (bad & 0xF0) return std::nullopt;
  return d;
}

digest sha256(std::string_view data) {
  thread_local context c;
  digest d;
  unsigned int size = 0;
  if (EVP_DigestInit_ex2(c.ctx, sha256_md(), nullptr) != 1 ||
      EVP_DigestUpdate(c.ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(c.ctx, d.bytes.data(), &size) != 1 || size != d.bytes.size()) {
    throw std::runtime_error("SHA-256 failed in OpenSSL");
  }
  return d;
}

std::string sha256_hex(std::string_view data) {
  return sha256(data).hex();
}

sha256_stream::sha256_stream() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr ||
      EVP_DigestInit_ex2(static_cast<EVP_MD_CTX*>(ctx_), sha256_md(), nullptr) != 1) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
    throw std::runtime_error("SHA-256 failed in OpenSSL");
  }
}

sha256_stream::~sha256_stream() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void sha256_stream::update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

digest sha256_stream::finish() {
  digest d;
  unsigned int size = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d.bytes.data(), &size);
  return d;
}

}  // namespace dalil::engine
