// SHA-256 (OpenSSL) as lowercase hex: ruleset identities and record content hashes.
#pragma once

#include <string>
#include <string_view>

namespace dalil::engine {

std::string sha256_hex(std::string_view data);

/// Incremental SHA-256, for files read as a stream.
class sha256_stream {
 public:
  sha256_stream();
  ~sha256_stream();
  sha256_stream(const sha256_stream&) = delete;
  sha256_stream& operator=(const sha256_stream&) = delete;
  void update(std::string_view data);
  std::string hex();  // finishes the digest

 private:
  void* ctx_;
};

}  // namespace dalil::engine
