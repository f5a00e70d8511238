// Fuzz target: canonical JSON, the form whose SHA-256 identifies a stored record. Properties:
// canonical_json accepts exactly what is valid JSON (checked against Boost.JSON's parser, with
// the reader's own refusals allowed: duplicate keys, invalid UTF-8), is a fixed point, and
// always produces valid UTF-8.
#include <boost/json/src.hpp>  // Boost.JSON compiled into this target alone
#include <string>
#include <string_view>

#include "engine/record.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using dalil::fuzz::violated;
  std::string_view json(reinterpret_cast<const char*>(data), size);
  std::string canonical = dalil::engine::canonical_json(json);
  if (canonical.empty()) return 0;
  if (!dalil::fuzz::utf8_ok(canonical)) violated("json", "canonical JSON is not valid UTF-8");
  if (dalil::engine::canonical_json(canonical) != canonical) {
    violated("json", "canonical JSON is not a fixed point");
  }
  boost::system::error_code ec;
  // Boost.JSON stops at 32 levels by default; canonical_json accepts 64.
  boost::json::parse_options options;
  options.max_depth = 128;
  boost::json::parse(json, ec, {}, options);
  // Boost.JSON reads numbers into doubles and refuses exponents past their range; JSON's grammar
  // has no such bound, and canonical_json keeps numbers as written.
  if (ec == boost::json::error::exponent_overflow) return 0;
  if (ec) violated("json", "canonical_json accepted a text that is not JSON: " + ec.message());
  return 0;
}
