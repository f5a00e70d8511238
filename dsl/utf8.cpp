// Strict UTF-8 validation after the table of well-formed byte sequences in Unicode 15, §3.9,
// table 3-7: the second byte's range depends on the first, which excludes overlong forms,
// surrogates and code points past U+10FFFF without decoding.
#include "dsl/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace dalil::dsl {

std::size_t utf8_sequence_length(std::string_view text) noexcept {
  if (text.empty()) return 0;
  const auto b0 = static_cast<unsigned char>(text[0]);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 == 0xE0) {
    n = 3;
    lo = 0xA0;  // below is an overlong form
  } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    n = 3;
  } else if (b0 == 0xED) {
    n = 3;
    hi = 0x9F;  // above are the surrogates U+D800..U+DFFF
  } else if (b0 == 0xF0) {
    n = 4;
    lo = 0x90;  // below is an overlong form
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    n = 4;
  } else if (b0 == 0xF4) {
    n = 4;
    hi = 0x8F;  // above is past U+10FFFF
  } else {
    return 0;  // a continuation byte, C0/C1 (always overlong) or F5..FF
  }
  if (text.size() < n) return 0;
  const auto b1 = static_cast<unsigned char>(text[1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if ((static_cast<unsigned char>(text[k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

std::optional<std::size_t> first_invalid_utf8(std::string_view text) noexcept {
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.size() - i >= 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, text.data() + i, 8);
      if ((w & highs) == 0) {
        i += 8;
        continue;
      }
    }
    std::size_t n = utf8_sequence_length(text.substr(i));
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::size_t code_points(std::string_view text) noexcept {
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  std::size_t continuation = 0;
  std::size_t i = 0;
  for (; text.size() - i >= 8; i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, text.data() + i, 8);
    // A continuation byte has its top bit set and the next one clear.
    continuation += static_cast<std::size_t>(__builtin_popcountll(w & highs & ~(w << 1U)));
  }
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++continuation;
  }
  return text.size() - continuation;
}

}  // namespace dalil::dsl
