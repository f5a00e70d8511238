// Secrets over libsodium (credentials.hpp).
#include "server/auth/credentials.hpp"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>

namespace dalil::server {

bool sodium_ready() {
  static const int rc = sodium_init();  // thread-safe once; 1 means "already initialised"
  return rc >= 0;
}

std::size_t utf8_chars(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

std::string password_problem(std::string_view password) {
  if (utf8_chars(password) < min_password_chars) {
    return "the password must have at least " + std::to_string(min_password_chars) + " characters";
  }
  if (password.size() > max_password_bytes) {
    return "the password must have at most " + std::to_string(max_password_bytes) + " bytes";
  }
  for (char c : password) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20U || u == 0x7FU) {
      return "the password holds a control character (a tab, a carriage return…): type it "
             "again";
    }
  }
  return {};
}

store::result<std::string> hash_password(std::string_view password) {
  if (auto problem = password_problem(password); !problem.empty()) {
    return store::fail(store::errc::refused, problem);
  }
  if (!sodium_ready()) return store::fail(store::errc::failed, "libsodium cannot start");
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str(out.data(), password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return store::fail(store::errc::failed,
                       "hashing the password: out of memory (Argon2id needs 64 MiB)");
  }
  return std::string(out.data());
}

bool verify_password(const std::string& hash, std::string_view password) {
  if (!sodium_ready() || password.size() > max_password_bytes) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

const std::string& decoy_password_hash() {
  static const std::string decoy = [] {
    auto h = hash_password(random_secret());
    return h ? *h : std::string();
  }();
  return decoy;
}

std::string random_secret() {
  if (!sodium_ready()) std::abort();  // no entropy: no secret may be made
  std::array<unsigned char, 32> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::array<char, sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)> text{};
  sodium_bin2base64(text.data(), text.size(), bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(bytes.data(), bytes.size());
  return std::string(text.data());
}

std::string new_token() {
  return std::string(token_prefix) + random_secret();
}

namespace {

constexpr std::size_t secret_chars = 43;

bool base64url(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool token_form(std::string_view text) {
  return text.size() == token_prefix.size() + secret_chars && text.starts_with(token_prefix) &&
         base64url(text.substr(token_prefix.size()));
}

bool session_form(std::string_view text) {
  return text.size() == secret_chars && base64url(text);
}

engine::digest secret_hash(std::string_view text) {
  return engine::sha256(text);
}

std::string csrf_for(std::string_view cookie_value) {
  std::string input = "dalil-csrf\x1f";
  input += cookie_value;
  auto d = engine::sha256(input);
  std::array<char, sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)> text{};
  sodium_bin2base64(text.data(), text.size(), d.bytes.data(), d.bytes.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return std::string(text.data());
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(std::string& secret) {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
}

namespace {

client_address classify_v4(const std::array<unsigned char, 4>& b) {
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, b.data(), text, sizeof text);
  client_address a{text, "public"};
  if (b[0] == 127) {
    a.kind = "loopback";
  } else if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0U) == 16) || (b[0] == 192 && b[1] == 168) ||
             (b[0] == 100 && (b[1] & 0xC0U) == 64)) {
    a.kind = "private";  // RFC 1918 and the carrier-grade NAT range
  } else if (b[0] == 169 && b[1] == 254) {
    a.kind = "link-local";
  }
  return a;
}

}  // namespace

client_address classify_address(std::string_view text) {
  std::string s(text);
  // "[v6]:port" or "[v6]" → v6; "a.b.c.d:port" → a.b.c.d.
  if (s.size() > 2 && s.front() == '[') {
    auto close = s.find(']');
    if (close != std::string::npos) s = s.substr(1, close - 1);
  } else if (auto colon = s.find(':');
             colon != std::string::npos && s.find(':', colon + 1) == std::string::npos) {
    s.resize(colon);
  }
  std::array<unsigned char, 4> v4{};
  if (inet_pton(AF_INET, s.c_str(), v4.data()) == 1) return classify_v4(v4);
  std::array<unsigned char, 16> v6{};
  if (inet_pton(AF_INET6, s.c_str(), v6.data()) != 1) {
    return {s.empty() ? std::string("-") : std::string(text.substr(0, 64)), "unknown"};
  }
  static constexpr std::array<unsigned char, 12> mapped = {0, 0, 0, 0, 0,    0,
                                                           0, 0, 0, 0, 0xFF, 0xFF};
  if (std::equal(mapped.begin(), mapped.end(), v6.begin())) {
    return classify_v4({v6[12], v6[13], v6[14], v6[15]});
  }
  static constexpr std::array<unsigned char, 16> loopback = {0, 0, 0, 0, 0, 0, 0, 0,
                                                             0, 0, 0, 0, 0, 0, 0, 1};
  if (v6 == loopback) return {"::1", "loopback"};
  // One client commonly holds a whole /64: count the prefix, or changing the low bits would
  // reset the per-address limit.
  std::array<unsigned char, 16> prefix{};
  std::copy(v6.begin(), v6.begin() + 8, prefix.begin());
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, prefix.data(), out, sizeof out);
  client_address a{std::string(out) + "/64", "public"};
  if ((v6[0] & 0xFEU) == 0xFC) a.kind = "private";  // unique local fc00::/7
  if (v6[0] == 0xFE && (v6[1] & 0xC0U) == 0x80) a.kind = "link-local";
  return a;
}

}  // namespace dalil::server
