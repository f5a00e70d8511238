// Runs the tests written beside the rules, and measures what they exercise.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/ruleset.hpp"

namespace dalil::engine {

struct test_outcome {
  std::string module;
  std::string name;
  bool passed = true;
  std::vector<std::string> failures;  // each: what was expected, what came, and the trace
};

struct test_report {
  std::vector<test_outcome> outcomes;
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::vector<std::string> uncovered;  // rules, table rows and exceptions no test exercised
};

/// Runs every test of the ruleset's program (those whose name contains `filter`, if given).
test_report run_tests(const std::shared_ptr<const ruleset>& rules, const std::string& filter,
                      bool measure_coverage);

}  // namespace dalil::engine
