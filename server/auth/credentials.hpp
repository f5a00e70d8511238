// Secrets and where they come from: Argon2id password hashes, bearer tokens and session ids
// (32 random bytes, base64url), constant-time comparison, and the class of a client address.
// libsodium stays behind this header.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "engine/sha256.hpp"
#include "store/result.hpp"

namespace dalil::server {

/// Passwords: at least this many characters (Unicode code points), at most this many bytes.
inline constexpr std::size_t min_password_chars = 12;
inline constexpr std::size_t max_password_bytes = 1024;

/// Bearer tokens are this prefix and 43 base64url characters (32 random bytes): recognisable in
/// a leaked file or a secret scanner, and told from a session cookie at a glance.
inline constexpr std::string_view token_prefix = "dalil_";

/// Initialises libsodium once per process (thread-safe); false if it cannot (no entropy).
bool sodium_ready();

/// The number of code points of UTF-8 text (bytes that do not continue a sequence).
std::size_t utf8_chars(std::string_view text);

/// Why a password is refused (too short, too long, a control character), or "" when it is fine.
/// Never quotes the password.
std::string password_problem(std::string_view password);

/// crypto_pwhash_str (Argon2id, OPSLIMIT/MEMLIMIT_INTERACTIVE: 2 passes over 64 MiB, about
/// 50-100 ms on one core). errc::refused with password_problem's reason; errc::failed when
/// memory runs out.
store::result<std::string> hash_password(std::string_view password);

/// crypto_pwhash_str_verify: true when `password` matches `hash`. Takes as long as hashing.
bool verify_password(const std::string& hash, std::string_view password);

/// A hash of a random password made once per process, verified against for unknown users so
/// that their answer takes as long as a known user's.
const std::string& decoy_password_hash();

/// 32 bytes from randombytes_buf as unpadded base64url (43 characters).
std::string random_secret();
/// A new bearer token: token_prefix + random_secret().
std::string new_token();
/// Whether `text` has the form of a bearer token / a session cookie value (no secret is
/// recognised by anything but its hash).
bool token_form(std::string_view text);
bool session_form(std::string_view text);

/// SHA-256 of the token or cookie text: what the store keeps.
engine::digest secret_hash(std::string_view text);

/// The session's CSRF token: base64url(SHA-256("dalil-csrf" US cookie)). Derived from the cookie
/// value, which only the browser and the server's memory hold, so it is never stored and cannot
/// be computed from the stored hash.
std::string csrf_for(std::string_view cookie_value);

/// Constant-time equality (sodium_memcmp) of two strings of the same length; false otherwise.
bool constant_time_equal(std::string_view a, std::string_view b);

/// Overwrites a secret's bytes with zeros (sodium_memzero: not optimised away).
void wipe(std::string& secret);

/// A client address as the rate limits count it and as the audit log classes it.
struct client_address {
  std::string key;  // IPv4 address, IPv6 /64 prefix ("2001:db8:1:2::/64"), or the text as given
  std::string_view kind;  // "loopback", "private", "link-local", "public" or "unknown"
};
/// Accepts "1.2.3.4", "::1", "[::1]", "[::1]:443", "1.2.3.4:443" and IPv4-mapped IPv6.
client_address classify_address(std::string_view text);

}  // namespace dalil::server
