// Every block the process frees through C++'s operator delete is zeroed first. The processes
// that handle applicants' records (the `dalil` executable: serve, import, batch, eval; and the
// tests that run the server in their own process) link this file, which replaces the standard
// library's deallocation functions ([new.delete], replaceable). Memory a process frees keeps its
// bytes until it is reused, and a core dump, swap or a later memory-disclosure bug would hand
// them out: strings and containers that held a record, an answer, an explanation in words or an
// official's reasons are many, and a copy left behind by a buffer that grew (std::string and
// std::vector free their old buffer on growth) is invisible at the place that wrote it. Zeroing
// at the one place every such buffer is freed covers them all, present and future, without a
// size estimate at each site. glibc's own allocator soon reuses a freed block (which had hidden
// such copies from the memory-remnants tests); tcmalloc, mimalloc and jemalloc keep it as it was
// (tests/server/remnants_test.cpp runs under each).
//
// Cost (docs/operations.md): within the noise of the in-process path and of the batch.
//
// Not linked in the sanitizers' builds: their runtime replaces operator new and delete to check
// every allocation, and a delete that calls free would be reported as a mismatch. Memory that
// SQLite, OpenSSL or Z3 allocate with malloc is not covered here: the records reach SQLite sealed
// or pseudonymized on an encrypted store, OpenSSL cleanses its own buffers, and the solver holds
// only numbers.
#include <malloc.h>
#include <string.h>  // NOLINT(modernize-deprecated-headers): explicit_bzero is POSIX, not <cstring>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace {

/// Zeroes `bytes` of `p` (explicit_bzero: never optimized away, although the block is freed
/// next), then frees it.
void zero_and_free(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  explicit_bzero(p, bytes);
  std::free(p);  // NOLINT(cppcoreguidelines-no-malloc): operator new allocates with malloc
}

/// The block's whole usable size (an unsized delete: all the allocator gave).
void zero_and_free(void* p) noexcept {
  if (p == nullptr) return;
  zero_and_free(p, malloc_usable_size(p));
}

}  // namespace

// The sized forms get the size asked for at allocation ([new.delete.single]): the bytes an
// object could have written.
void operator delete(void* p) noexcept {
  zero_and_free(p);
}
void operator delete[](void* p) noexcept {
  zero_and_free(p);
}
void operator delete(void* p, std::size_t bytes) noexcept {
  zero_and_free(p, bytes);
}
void operator delete[](void* p, std::size_t bytes) noexcept {
  zero_and_free(p, bytes);
}
void operator delete(void* p, const std::nothrow_t& /*tag*/) noexcept {
  zero_and_free(p);
}
void operator delete[](void* p, const std::nothrow_t& /*tag*/) noexcept {
  zero_and_free(p);
}
void operator delete(void* p, std::align_val_t /*al*/) noexcept {
  zero_and_free(p);
}
void operator delete[](void* p, std::align_val_t /*al*/) noexcept {
  zero_and_free(p);
}
void operator delete(void* p, std::size_t bytes, std::align_val_t /*al*/) noexcept {
  zero_and_free(p, bytes);
}
void operator delete[](void* p, std::size_t bytes, std::align_val_t /*al*/) noexcept {
  zero_and_free(p, bytes);
}
void operator delete(void* p, std::align_val_t /*al*/, const std::nothrow_t& /*tag*/) noexcept {
  zero_and_free(p);
}
void operator delete[](void* p, std::align_val_t /*al*/, const std::nothrow_t& /*tag*/) noexcept {
  zero_and_free(p);
}
