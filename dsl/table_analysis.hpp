// Static analysis of decision tables: overlapping rows under `unique`, and cases that no row
// covers, where rows compare one expression with constants (intervals, enum cases, booleans).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dsl/program.hpp"

namespace dalil::dsl {

/// Row `row` can match a case that the earlier row `other` also matches.
struct table_overlap {
  std::size_t row = 0;
  std::size_t other = 0;
  std::string example;  // "both match …"
};

struct table_report {
  /// Every row is a conjunction of comparisons of one subject with constants.
  bool analysable = true;
  /// The rows that are not, in order (their overlaps cannot be looked for).
  std::vector<std::size_t> unread;
  /// Rows that overlap an earlier row, each named once with one such row, in row order; at
  /// most limits::max_reports_per_construct of them.
  std::vector<table_overlap> overlaps;
  /// Rows that overlap an earlier row beyond those listed in `overlaps`.
  std::size_t more_overlaps = 0;
  /// The overlap analysis gave up past limits::max_table_comparisons (the rows compare several
  /// subjects and no sweep separates them): overlaps past those found may be missed.
  bool too_large = false;
  /// A case no row covers, in words ("monthly_income > 6000.00 MAD"); empty when covered.
  std::string gap;
};

/// `conditions` are the rows' condition expressions (the otherwise row excluded); overlaps are
/// looked for only when `find_overlaps` (for `unique` tables). Sub-quadratic where the rows
/// compare one subject: a sweep over sorted intervals, or the first row of each enum case.
table_report analyse_table(const program& p, const std::vector<std::uint32_t>& conditions,
                           bool find_overlaps);

}  // namespace dalil::dsl
