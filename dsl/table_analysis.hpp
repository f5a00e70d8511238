// Static analysis of decision tables: overlapping rows under `unique`, and cases that no row
// covers, where rows compare one expression with constants (intervals, enum cases, booleans).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dsl/program.hpp"

namespace dalil::dsl {

struct table_report {
  /// Every row is a conjunction of comparisons of one subject with constants.
  bool analysable = true;
  /// Pairs of row indices (a < b) that can match the same case.
  std::vector<std::pair<std::size_t, std::size_t>> overlaps;
  std::map<std::pair<std::size_t, std::size_t>, std::string> overlap_examples;
  /// A case no row covers, in words ("monthly_income > 6000.00 MAD"); empty when covered.
  std::string gap;
};

/// `conditions` are the rows' condition expressions (the otherwise row excluded).
table_report analyse_table(const program& p, const std::vector<std::uint32_t>& conditions);

}  // namespace dalil::dsl
