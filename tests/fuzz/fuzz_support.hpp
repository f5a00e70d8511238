// Shared pieces of the fuzz targets: a property failure aborts (libFuzzer keeps the input as a
// crasher; the replay runner reports the file), and the SNIA pack is loaded once per process.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "engine/ruleset.hpp"

namespace dalil::fuzz {

/// Stops the process when a property does not hold: under libFuzzer the input becomes a crash
/// file to keep in tests/fuzz/regressions/, under the replay runner the test fails.
[[noreturn]] inline void violated(const char* target, const std::string& what) {
  std::fprintf(stderr, "fuzz property violated in %s: %s\n", target, what.c_str());
  std::abort();
}

/// The shipped SNIA pack (rules/), compiled once; aborts if it does not check.
std::shared_ptr<const engine::ruleset> snia_pack();
/// Its canonical source (what the server stores by the ruleset's hash).
const std::string& snia_canonical_source();

/// True when `text` is well-formed UTF-8.
bool utf8_ok(std::string_view text);

/// `text` with every ASCII digit and letter moved to the next one of its class (9 -> 0, z -> a):
/// the same shape, other characters. A message that still holds the original text after the input
/// was changed this way took it from its own wording; one that holds the changed text echoes the
/// input.
std::string reshaped(std::string_view text);

}  // namespace dalil::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
