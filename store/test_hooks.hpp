#pragma once
// The environment variables a test build honours (test hooks), and whether this build is one.
#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace dalil::store {

/// Every variable through which the tests steer a process: the store's and the server's test
/// hooks (read only in builds configured with DALIL_TEST_HOOKS) and the store's fault-injecting
/// VFS (DALIL_FAULT_INJECTION). Both default to DALIL_BUILD_TESTS: a build for use is configured
/// with -DDALIL_BUILD_TESTS=OFF and honours none of them.
inline constexpr std::array<std::string_view, 8> test_hook_variables{
    "DALIL_TEST_CLOCK_OFFSET",        // server: the authenticator's clock shifted (seconds)
    "DALIL_TEST_STATS_CLOCK_OFFSET",  // server: the clock releasing the monthly figures
    "DALIL_TEST_PLAIN_REVIEWS",       // counter: reviews kept in plain on an encrypted store
    "DALIL_TEST_RESEAL_EDIT_SQL",     // keys reseal: SQL run between two of its transactions
    "DALIL_TEST_RESEAL_KILL_AT",      // keys reseal: the process kills itself mid-way
    "DALIL_TEST_IN_PLACE_BATCH",      // keys init in place: the size of a step
    "DALIL_TEST_PORTABLE_GCM",        // crypto: behave as a processor without AES-NI
    "DALIL_FAULT_INJECT",             // the fault-injecting VFS: a write, sync or read fails
};

/// Whether this build honours the DALIL_TEST_* variables (configured with DALIL_TEST_HOOKS).
bool test_hooks_built() noexcept;
/// Whether this build honours DALIL_FAULT_INJECT (configured with DALIL_FAULT_INJECTION).
bool fault_injection_built() noexcept;

/// One line per test-hook variable set in this process's environment: that this build has the
/// hooks that read it (a test build; whether this command acts on its value is the hook's), or
/// ignores it. It names the variable, never its value. Empty when none is
/// set, as in every use outside the tests.
std::vector<std::string> test_hook_warnings();

}  // namespace dalil::store
