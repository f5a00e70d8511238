// SHA-256 (OpenSSL): ruleset identities, record content hashes, decision and trace digests.
// A digest is 32 bytes; hex is for people and for the columns that were always text.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dalil::engine {

struct digest {
  std::array<std::uint8_t, 32> bytes{};

  /// Lowercase hex, 64 characters.
  std::string hex() const;
  /// Appends the lowercase hex form to `out` (no allocation when `out` has room).
  void append_hex(std::string& out) const;
  /// The digest written as 64 hex digits (either case); nullopt for anything else.
  static std::optional<digest> from_hex(std::string_view text);
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  friend bool operator==(const digest&, const digest&) = default;
};

/// Appends the lowercase hex form of `bytes` (two digits a byte) to `out`.
void append_hex(std::string& out, std::string_view bytes);
/// The lowercase hex form of `bytes`.
std::string hex_of(std::string_view bytes);

digest sha256(std::string_view data);
std::string sha256_hex(std::string_view data);

/// Incremental SHA-256, for data produced piece by piece (files read as a stream, chunk digests).
class sha256_stream {
 public:
  sha256_stream();
  ~sha256_stream();
  sha256_stream(const sha256_stream&) = delete;
  sha256_stream& operator=(const sha256_stream&) = delete;
  void update(std::string_view data);
  digest finish();
  std::string hex() { return finish().hex(); }  // finishes the digest

 private:
  void* ctx_;
};

}  // namespace dalil::engine
