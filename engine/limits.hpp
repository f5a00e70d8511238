// The limits of one applicant record, in one place: the JSON and CSV readers enforce them (and the
// HTTP server will), so that a hostile or broken export costs bounded memory and time per record.
// The README's "Record limits" section lists them with their reasons; keep both in step.
#pragma once

#include <cstddef>

namespace dalil::engine::limits {

/// Bytes of one record as read: a JSONL line, a CSV record (all its physical lines), the whole
/// `eval --facts` file. A synthetic applicant takes about 700 bytes; a megabyte leaves room for
/// long free texts and lists while bounding what one bad line can make the reader hold.
inline constexpr std::size_t record_bytes = 1 << 20;

/// Objects and lists nested inside one another (the record itself is depth 1). The schema's own
/// nesting is far less; the bound keeps recursion shallow whatever the schema.
inline constexpr int nesting_depth = 16;

/// Items of one list. A household or a list of past addresses is tens of items.
inline constexpr std::size_t list_items = 1000;

/// Characters of a number (digits, sign, point): an int64 has 19 digits, a money amount at most
/// 18; longer numbers can only overflow, and a 5,000-digit number is refused before any work.
inline constexpr std::size_t number_chars = 40;

/// Bytes of one text value after unescaping (UTF-8): names, identifiers, places, notes.
inline constexpr std::size_t text_bytes = 4096;

/// Fields of one record as given: JSON members of one object (each a field of the schema, given
/// once) or CSV columns. Bounds the header checks, which compare columns pairwise.
inline constexpr std::size_t fields = 512;

/// Bytes of an unknown key or header name that is still compared with the schema's field names
/// for a "did you mean" (the name itself is never shown: it may be a value).
inline constexpr std::size_t name_bytes = 64;

}  // namespace dalil::engine::limits
