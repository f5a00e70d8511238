// Request bodies: the members of a JSON object with the raw text of each value, so that the
// applicant record reaches the engine's own reader byte for byte (money read exactly from its
// text), and errors that say where (a JSON pointer) and never what was sent.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dalil::server {

/// One member of a JSON object: its key (unescaped) and its value's text as sent.
struct json_member {
  std::string key;
  std::string_view raw;
  std::size_t offset = 0;  // byte offset of the value in the body
};

/// Why a body is not a JSON object: the byte offset and the reason (never the bytes).
struct json_syntax_error {
  std::size_t offset = 0;
  std::string message;
};

/// The most members a request's object has: every route's body has a handful (the record is one
/// member, read by the engine). Beyond it the body is refused at once: each member name is
/// compared with those before it (duplicates are refused), which must stay a small cost
/// whatever a client sends.
inline constexpr std::size_t max_request_members = 32;

/// Splits a JSON object into its members, checking the syntax of the whole text (strings,
/// escapes, numbers, nesting up to `max_depth`, nothing after the object). Duplicate keys are
/// refused, and objects of more than max_request_members. False and `error` otherwise.
bool split_object(std::string_view text, std::vector<json_member>& out, json_syntax_error& error,
                  int max_depth = 64);

/// A JSON pointer token for `key` (RFC 6901: ~ as ~0, / as ~1).
std::string pointer_token(std::string_view key);

/// The JSON pointer of a record field path as the engine names it ("household.size",
/// "children[2].birth_date"), under `prefix` ("/applicant"): "/applicant/household/size".
std::string field_pointer(std::string_view prefix, std::string_view field_path);

}  // namespace dalil::server
