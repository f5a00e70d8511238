// For the tests of a halt (analysis/halt.hpp): a pack no solver can settle (its decisions hold
// exactly for a counterexample to Fermat's theorem for cubes, so that a query asking whether
// they can differ from another pack's, or reach `true`, finds no answer and runs to its limit),
// and a runner that halts an analysis while it runs.
#pragma once

#include <atomic>
#include <chrono>
#include <initializer_list>
#include <string>
#include <thread>

namespace dalil::testing {

/// a³ + b³ = c³ with a, b and c positive: never true, and the solver cannot prove it.
inline const char* const cubes_formula =
    "applicant.a > 0 and applicant.b > 0 and applicant.c > 0 and applicant.a * applicant.a * "
    "applicant.a + applicant.b * applicant.b * applicant.b == applicant.c * applicant.c * "
    "applicant.c";

/// Module m, facts a, b and c, and one boolean decision `= formula` per name.
inline std::string cubes_pack(const std::string& formula,
                              std::initializer_list<const char*> names = {"cubes"}) {
  std::string text =
      "module m\n  title fr \"M\"\n        ar \"م\"\n        en \"M\"\n\n"
      "record Applicant {\n  a : int\n  b : int\n  c : int\n}\n\ninput applicant : Applicant\n";
  for (const char* name : names) {
    text += std::string("\nrule ") + name + " : bool\n  source \"x\"\n  explain en \"" + name +
            ": {value}\"\n  = " + formula + "\n";
  }
  return text;
}

/// Runs `work` on a thread, asks `stop` (an analysis::halt) to halt after `delay`, and again every
/// 5 ms until the work has ended, as the server does (Z3 can undo an interrupt that comes just
/// as a query starts: analysis/halt.hpp). Returns how long the work took.
template <class Halt, class Work>
std::chrono::steady_clock::duration run_halted(Halt& stop, std::chrono::milliseconds delay,
                                               Work work) {
  const auto start = std::chrono::steady_clock::now();
  std::atomic<bool> done{false};
  std::thread run([&] {
    work();
    done = true;
  });
  std::this_thread::sleep_for(delay);
  while (!done) {
    stop.request();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  run.join();
  return std::chrono::steady_clock::now() - start;
}

}  // namespace dalil::testing
