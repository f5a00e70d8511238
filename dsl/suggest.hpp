// "Did you mean": the nearest known name to an unknown one. Candidates are indexed once per kind
// of name, by length, so that a lookup computes a bounded edit distance only against names of a
// near length, and stops a comparison as soon as it exceeds the best distance found.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dalil::dsl {

/// Levenshtein distance of `a` and `b` when it is at most `limit`; otherwise `limit + 1`.
/// Works in O(min(|a|, |b|) * limit) on a band of the matrix and gives up on the first row
/// whose every cell exceeds `limit`.
std::size_t bounded_edit_distance(std::string_view a, std::string_view b, std::size_t limit);

/// Candidate names of one kind (the values visible from a module, the fields of a record, …).
class name_index {
 public:
  name_index() = default;
  explicit name_index(std::vector<std::string> names);

  /// The candidate nearest to `wrong` within |wrong| / 3 edits (at least 2, at most 4), the
  /// earliest in the given order among equals; empty when none is that near, or when `wrong` is
  /// longer than max_suggested_name (no one types such a name by hand).
  std::string_view nearest(std::string_view wrong) const;

  static constexpr std::size_t max_suggested_name = 256;

 private:
  std::vector<std::string> names_;
  std::vector<std::vector<std::uint32_t>> by_length_;  // length -> indices into names_
};

/// Gives "; did you mean 'x'?" texts: each distinct (kind, name) is computed once, and after
/// limits::max_suggestions computations no more are made (the message then has no suggestion).
class suggester {
 public:
  std::string did_you_mean(const name_index& candidates, std::string_view wrong);

 private:
  std::map<std::pair<const name_index*, std::string>, std::string, std::less<>> memo_;
  std::size_t computed_ = 0;
};

}  // namespace dalil::dsl
