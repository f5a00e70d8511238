// Applicant records: JSON read against the rule pack's schema into fact slots, with money read
// exactly from its text, and errors that name the field; canonical JSON for content hashes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dsl/program.hpp"
#include "engine/value.hpp"

namespace dalil::engine {

/// One applicant's facts, by fact index of the program. Reused across records: `clear` keeps
/// the capacity, so that reading a stream of records does not allocate after the first ones.
struct record {
  std::vector<value> facts;
  std::string arena;  // unescaped texts; values point into it
  // Fields and items of records and lists inside; held by pointer so that values pointing into
  // them stay valid, and empty (allocation-free) for records without lists.
  std::vector<std::unique_ptr<std::vector<value>>> nested;
  std::size_t nested_used = 0;
  std::vector<std::unique_ptr<record_node>> record_nodes;
  std::vector<std::unique_ptr<list_node>> list_nodes;
  std::string scratch;            // reused buffers: reading does not allocate once warm
  std::vector<std::string> keys;  // one per nesting depth
  std::string_view id() const;
  std::uint32_t id_fact = dsl::no_index;
  void clear(std::size_t fact_count);
  /// Zeroes every byte that held the record's values (the arena's and the buffers' whole
  /// capacity, the facts and the nested values) and empties it, keeping the capacity: for a
  /// record reused by a thread, once its applicant's evaluation is done.
  void wipe();
};

/// Zeroes the whole buffer of `s` (its capacity, not only its size) and empties it, keeping the
/// capacity: for text that held personal values.
void wipe_text(std::string& s);

/// Why a record was refused: the field and the rule broken, never the value (values are personal
/// data and end up in logs).
struct record_error {
  std::string field;  // path such as "household.size" ("" for the record itself)
  std::string message;
  std::size_t offset = 0;  // byte offset in the JSON text where reading stopped
};

class record_reader {
 public:
  explicit record_reader(const dsl::program& program);
  ~record_reader();
  record_reader(const record_reader&) = delete;
  record_reader& operator=(const record_reader&) = delete;

  /// The date against which `not_after as_of` constraints are checked (the evaluation's as-of
  /// date; today's date at import). Without one (the default) those constraints are not checked;
  /// `at_least` and `at_most` always are. Not to be called while another thread reads.
  void set_as_of(std::optional<date> as_of);
  /// Whether the error for an unknown member also says where it stands in the text read (its
  /// rank and the field before it: "member 3 of the record, after 'sex'"), for a file a person
  /// mends (an import). Off by default: a stored record's members are sorted, so the place
  /// would be the stored text's, not the file's, and the error a batch stores for a record that
  /// no longer fits must stay as earlier versions wrote it (`dalil replay` compares it).
  void set_member_place(bool on);
  /// Whether the record is entering the store or the engine now (an evaluation, an import, a
  /// test, the advisers' facts): then a text fact holding a control character or a
  /// bidirectional control is refused (tab and LF or CRLF line breaks are text). On by default,
  /// so that a way in added later checks what enters; the readers of what is already stored (a
  /// batch, a replay, an impact, a stored decision read again) and of the records the analysis
  /// writes (its witnesses) turn it off, so that a record stored before that check is read as it
  /// was stored and every stored decision still opens and replays. Not to be called while
  /// another thread reads.
  void set_intake(bool on);

  /// Reads one JSON object against the schema, strictly: well-formed UTF-8 (a \u escape must
  /// be a whole character, never \u0000), each field at most once, JSON number syntax, money in
  /// whole centimes, the limits of engine/limits.hpp, and each field's value constraints
  /// (`at_least`, `at_most`, `not_after as_of`: the error names the bound, never the value). On
  /// failure returns false and fills `error`; `out` is then unusable.
  bool read(std::string_view json, record& out, record_error& error) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Today's date in UTC: the as-of date of an import, for `not_after as_of` constraints.
date utc_today();

/// The canonical form of a JSON text (keys sorted, no insignificant space, numbers as written),
/// or an empty string when the text is not valid JSON.
std::string canonical_json(std::string_view json);

/// Why `id` cannot identify an applicant, or nullptr: empty, or holding a control character (a
/// tab, a line break, an escape: an id is printed in listings and terminals, where such a byte
/// would break a line or drive the terminal). Never quotes the id.
inline const char* id_problem(std::string_view id) {
  if (id.empty()) return "every record needs an id";
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return "an id may not hold a control character (a tab, a line break, an escape)";
    }
  }
  return nullptr;
}
/// The message for a key or header name that is not a field of `info`: it never shows the name
/// (there a careless export may have put a value: an id, a name, a date), only a field of the
/// record within two edits of it, as "did you mean".
std::string no_such_field(const dsl::record_info& info, std::string_view name);
/// Appends `s` to `out` as a JSON string literal.
void append_json_string(std::string& out, std::string_view s);
/// Appends the UTF-8 encoding of the code point `cp` (at most U+10FFFF; the callers have checked
/// it, and surrogates, when they decoded a `\u` escape).
void append_utf8(std::string& out, std::uint32_t cp);

}  // namespace dalil::engine
