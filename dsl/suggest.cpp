// Bounded edit distance over candidates bucketed by length, memoised and capped per check.
#include "dsl/suggest.hpp"

#include <algorithm>

#include "dsl/limits.hpp"

namespace dalil::dsl {

std::size_t bounded_edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
  if (a.size() > b.size()) std::swap(a, b);
  const std::size_t m = a.size();
  const std::size_t n = b.size();
  const std::size_t big = limit + 1;
  if (n - m > limit) return big;
  if (m == 0) return n;
  // Rows run over the shorter string; only cells with |i - j| <= limit can be within the limit.
  thread_local std::vector<std::size_t> prev;
  thread_local std::vector<std::size_t> cur;
  prev.assign(n + 1, big);
  cur.assign(n + 1, big);
  for (std::size_t j = 0; j <= std::min(n, limit); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= m; ++i) {
    const std::size_t lo = i > limit ? i - limit : 1;
    const std::size_t hi = std::min(n, i + limit);
    cur[lo - 1] = lo == 1 ? std::min(i, big) : big;
    std::size_t row_min = cur[lo - 1];
    for (std::size_t j = lo; j <= hi; ++j) {
      std::size_t v = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      v = std::min({v, prev[j] + 1, cur[j - 1] + 1, big});
      cur[j] = v;
      row_min = std::min(row_min, v);
    }
    if (hi < n) cur[hi + 1] = big;
    if (row_min > limit) return big;
    std::swap(prev, cur);
  }
  return std::min(prev[n], big);
}

name_index::name_index(std::vector<std::string> names) : names_(std::move(names)) {
  for (std::uint32_t i = 0; i < names_.size(); ++i) {
    std::size_t len = names_[i].size();
    if (by_length_.size() <= len) by_length_.resize(len + 1);
    by_length_[len].push_back(i);
  }
}

std::string_view name_index::nearest(std::string_view wrong) const {
  // A name is suggested for a typo, not for a rewrite: at most max_edits edits, whatever the
  // length (an unbounded third of a 100,000-character name made each comparison quadratic).
  constexpr std::size_t max_edits = 4;
  if (wrong.size() > max_suggested_name) return {};
  const std::size_t bound = std::clamp<std::size_t>(wrong.size() / 3, 2, max_edits);
  bool found = false;
  std::size_t best_d = 0;
  std::uint32_t best = 0;
  const std::size_t from = wrong.size() > bound ? wrong.size() - bound : 0;
  const std::size_t to =
      std::min(wrong.size() + bound, by_length_.empty() ? 0 : by_length_.size() - 1);
  for (std::size_t len = from; len <= to && len < by_length_.size(); ++len) {
    for (std::uint32_t i : by_length_[len]) {
      // A later candidate must be strictly nearer; an earlier one may tie.
      std::size_t limit = !found ? bound : (i < best ? best_d : best_d - 1);
      if (found && i > best && best_d == 0) continue;
      std::size_t d = bounded_edit_distance(wrong, names_[i], limit);
      if (d > limit) continue;
      found = true;
      best_d = d;
      best = i;
    }
  }
  return found ? std::string_view(names_[best]) : std::string_view();
}

std::string suggester::did_you_mean(const name_index& candidates, std::string_view wrong) {
  auto key = std::make_pair(&candidates, std::string(wrong));
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  if (computed_ >= limits::max_suggestions) return {};
  ++computed_;
  std::string_view best = candidates.nearest(wrong);
  std::string out = best.empty() ? std::string() : "; did you mean '" + std::string(best) + "'?";
  memo_.emplace(std::move(key), out);
  return out;
}

}  // namespace dalil::dsl
