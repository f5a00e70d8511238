// The server's ids (ids.hpp).
#include "server/ids.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "engine/sha256.hpp"

namespace dalil::server {

namespace {

constexpr std::size_t id_bytes = 16;

/// Fills `out` with random bytes. The generator's bytes are drawn 32 ids at a time, per thread:
/// one RAND_bytes call (its locks and its DRBG setup cost more than the bytes) per 32 ids. Each
/// byte is handed out once, then wiped.
void random_bytes(std::array<unsigned char, id_bytes>& out) {
  thread_local std::array<unsigned char, 32 * id_bytes> pool{};
  thread_local std::size_t used = pool.size();
  if (used == pool.size()) {
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) {
      throw std::runtime_error("no random bytes");
    }
    used = 0;
  }
  std::memcpy(out.data(), pool.data() + used, id_bytes);
  std::memset(pool.data() + used, 0, id_bytes);
  used += id_bytes;
}

std::string hex(const std::array<unsigned char, id_bytes>& bytes) {
  return engine::hex_of({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

}  // namespace

std::string random_id() {
  std::array<unsigned char, id_bytes> bytes{};
  random_bytes(bytes);
  return hex(bytes);
}

std::string decision_id(std::chrono::system_clock::time_point now) {
  std::array<unsigned char, id_bytes> bytes{};
  random_bytes(bytes);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  // Before 1970 (a clock set wrong) reads as 0: the id is still unique, only not in order.
  auto t = static_cast<std::uint64_t>(ms.count() < 0 ? 0 : ms.count());
  for (std::size_t i = 6; i-- > 0;) {
    bytes[i] = static_cast<unsigned char>(t & 0xffU);
    t >>= 8U;
  }
  return hex(bytes);
}

}  // namespace dalil::server
