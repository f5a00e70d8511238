// Function multi-versioning for the block kernels: on x86-64, GCC compiles a kernel for AVX2 and
// for baseline x86-64 and picks one when the program loads (an ifunc resolver). Elsewhere, and
// under ThreadSanitizer (whose instrumented resolver would run before its runtime starts), the
// kernels are compiled once for the build's target.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define DALIL_KERNEL_CLONES [[gnu::target_clones("avx2", "default")]]
#else
#define DALIL_KERNEL_CLONES
#endif
