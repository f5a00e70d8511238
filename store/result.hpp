// The store's one error contract: every operation that can fail returns `result<T>`, which tells
// "not found" from "failed" (and a refusal or damage from both), never a bool and a string.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace dalil::store {

/// What kind of failure: callers branch on this, operators read `message`.
enum class errc : std::uint8_t {
  not_found,  // the thing asked for does not exist (a normal answer, not a fault)
  failed,     // the environment failed: I/O, full disk, SQLite error
  busy,       // another process holds what is needed (a batch's lease, a lock) past the wait
  refused,    // the store will not do it: read-only store for an audited read, a complete run…
  damaged,    // the file is damaged or was tampered with (integrity check, chain, unreadable row)
  conflict,   // written against a state that is no longer the latest (a superseded review)
};

/// A failure: its kind and a message for an operator. Messages name rows, files and fields,
/// never a personal value.
struct error {
  errc code = errc::failed;
  std::string message;
};

inline error fail(errc code, std::string message) {
  return error{code, std::move(message)};
}

/// Thrown only by result<T>::value() on a failure: a bug in the caller, caught at the boundary.
struct store_exception : std::runtime_error {
  explicit store_exception(const error& e) : std::runtime_error(e.message), code(e.code) {}
  errc code;
};

[[noreturn]] inline void throw_exception_from_error(const error& e,
                                                    const boost::source_location& /*loc*/) {
  throw store_exception(e);
}

template <class T>
using result = boost::system::result<T, error>;

/// A result without a value: `return {};` on success, `return fail(...)` otherwise.
using status = boost::system::result<void, error>;

}  // namespace dalil::store
