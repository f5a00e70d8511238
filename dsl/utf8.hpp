// Strict UTF-8 validation (RFC 3629): the one check every input boundary uses, rule sources and
// applicant records alike, so that nothing downstream ever sees an ill-formed byte sequence.
#pragma once

#include <cstddef>
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

/// The number of bytes of `text` that are not UTF-8 continuation bytes (10xxxxxx): its code
/// points when it is well formed, which is how columns are counted. Eight bytes at a time, so
/// that columns on a megabyte-long line stay cheap.
std::size_t code_points(std::string_view text) noexcept;

}  // namespace dalil::dsl
