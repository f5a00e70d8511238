// Strict UTF-8 validation (RFC 3629): the one check every input boundary uses, rule sources and
// applicant records alike, so that nothing downstream ever sees an ill-formed byte sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dalil::dsl {

/// The offset of the first byte that does not start a well-formed UTF-8 sequence in `text`, or
/// nothing when all of it is well formed. Overlong forms, UTF-16 surrogates (U+D800..U+DFFF),
/// code points above U+10FFFF and truncated sequences are all ill formed. ASCII runs are
/// checked eight bytes at a time.
std::optional<std::size_t> first_invalid_utf8(std::string_view text) noexcept;

/// The length of the well-formed sequence starting at `text[0]` (1 to 4), or 0 when it is ill
/// formed or `text` is empty.
std::size_t utf8_sequence_length(std::string_view text) noexcept;

/// The code point of `sequence`, one well-formed UTF-8 sequence (as utf8_sequence_length
/// measured it: 1 to 4 bytes).
constexpr std::uint32_t utf8_code_point(std::string_view sequence) noexcept {
  const auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(sequence[i]));
  };
  switch (sequence.size()) {
    case 1:
      return byte(0);
    case 2:
      return ((byte(0) & 0x1FU) << 6U) | (byte(1) & 0x3FU);
    case 3:
      return ((byte(0) & 0x0FU) << 12U) | ((byte(1) & 0x3FU) << 6U) | (byte(2) & 0x3FU);
    default:
      return ((byte(0) & 0x07U) << 18U) | ((byte(1) & 0x3FU) << 12U) | ((byte(2) & 0x3FU) << 6U) |
             (byte(3) & 0x3FU);
  }
}

/// A code point no text shown to a person should carry as it is: DEL and the C1 controls
/// (U+007F-U+009F: some terminals obey them), and the bidirectional embeddings, overrides and
/// isolates (U+202A-U+202E, U+2066-U+2069: they reorder the rest of a line). The C0 controls
/// are each caller's own (tab and line breaks are text in places).
constexpr bool hidden_control(std::uint32_t cp) noexcept {
  return (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

/// The number of bytes of `text` that are not UTF-8 continuation bytes (10xxxxxx): its code
/// points when it is well formed, which is how columns are counted. Eight bytes at a time, so
/// that columns on a megabyte-long line stay cheap.
std::size_t code_points(std::string_view text) noexcept;

}  // namespace dalil::dsl
