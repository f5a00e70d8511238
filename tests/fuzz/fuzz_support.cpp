// The SNIA pack for the record and CSV targets, loaded the way `dalil` loads it.
#include "tests/fuzz/fuzz_support.hpp"

#include "dsl/checker.hpp"
#include "dsl/utf8.hpp"
#include "engine/session.hpp"

namespace dalil::fuzz {

namespace {

struct loaded_pack {
  std::shared_ptr<const engine::ruleset> rules;
  std::string canonical;
};

const loaded_pack& snia() {
  static const loaded_pack pack = [] {
    dsl::source_map sources;
    dsl::diagnostics diags;
    std::vector<dsl::ast::module> modules;
    auto program = dsl::load_and_check(DALIL_RULES_DIR, sources, modules, diags);
    if (!program) violated("setup", "the SNIA pack does not check:\n" + render_all(sources, diags));
    std::string canonical = engine::canonical_source(sources, modules);
    return loaded_pack{engine::build_ruleset(sources, modules, std::move(*program)),
                       std::move(canonical)};
  }();
  return pack;
}

}  // namespace

std::shared_ptr<const engine::ruleset> snia_pack() {
  return snia().rules;
}

const std::string& snia_canonical_source() {
  return snia().canonical;
}

bool utf8_ok(std::string_view text) {
  return !dsl::first_invalid_utf8(text).has_value();
}

std::string reshaped(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= '0' && c <= '9') {
      c = c == '9' ? '0' : static_cast<char>(c + 1);
    } else if (c >= 'a' && c <= 'z') {
      c = c == 'z' ? 'a' : static_cast<char>(c + 1);
    } else if (c >= 'A' && c <= 'Z') {
      c = c == 'Z' ? 'A' : static_cast<char>(c + 1);
    }
  }
  return out;
}

}  // namespace dalil::fuzz
