// Whether this build honours the test hooks, and what a process says when one is set.
#include "store/test_hooks.hpp"

#include <cstdlib>

namespace dalil::store {

bool test_hooks_built() noexcept {
#ifdef DALIL_TEST_HOOKS
  return true;
#else
  return false;
#endif
}

bool fault_injection_built() noexcept {
#ifdef DALIL_FAULT_INJECTION
  return true;
#else
  return false;
#endif
}

std::vector<std::string> test_hook_warnings() {
  std::vector<std::string> out;
  for (std::string_view name : test_hook_variables) {
    const std::string n(name);
    const char* v = std::getenv(n.c_str());
    const bool fault = name == "DALIL_FAULT_INJECT";
    if (v == nullptr || (fault && *v == '\0')) continue;  // an empty plan injects nothing
    const bool honoured = fault ? fault_injection_built() : test_hooks_built();
    if (honoured) {
      out.push_back("warning: " + n +
                    " is set: this build has the test hooks, which read it (a build with the "
                    "tests; a build for use is configured with -DDALIL_BUILD_TESTS=OFF)");
    } else {
      out.push_back("warning: " + n +
                    " is set and ignored: this build was configured without its test hooks");
    }
  }
  return out;
}

}  // namespace dalil::store
