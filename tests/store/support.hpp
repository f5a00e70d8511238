// Helpers of the store tests: open a store or fail the test, and read verify's findings as text.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "store/store.hpp"

/// Catch prints a store result as its outcome (boost's operator<< needs one for the value).
namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, dalil::store::error>> {
  static std::string convert(const boost::system::result<T, dalil::store::error>& r) {
    return r.has_value() ? std::string("ok") : "error: " + r.error().message;
  }
};
}  // namespace Catch

namespace dalil::testing {

/// The store at `path` (created or upgraded); the test fails with the store's message otherwise.
inline std::unique_ptr<store::store> open_store(const std::string& path) {
  auto r = store::open_sqlite(path);
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r.has_value());
  return std::move(*r);
}

/// What verify finds, one line each ("" when the store is intact); a failure to verify at all
/// reads "verify failed: …".
inline std::string verify_problems(store::store& db, const std::string& head = "") {
  store::verify_options o;
  o.head = head;
  auto r = db.verify(o);
  if (!r) return "verify failed: " + r.error().message;
  std::string out;
  for (const auto& p : r->problems) out += "[" + p.kind + "] " + p.what + "\n";
  return out;
}

}  // namespace dalil::testing
