// Canonical source and ruleset identity.
#include "engine/session.hpp"

#include <algorithm>

#include "dsl/formatter.hpp"
#include "engine/sha256.hpp"

namespace dalil::engine {

std::string canonical_source(const dsl::source_map& sources,
                             const std::vector<dsl::ast::module>& modules) {
  std::vector<const dsl::ast::module*> order;
  order.reserve(modules.size());
  for (const auto& m : modules) order.push_back(&m);
  std::sort(order.begin(), order.end(),
            [](const auto* a, const auto* b) { return a->header.name.name < b->header.name.name; });
  std::string out;
  for (const auto* m : order) {
    out += dsl::format(sources, *m);
    out += '\0';
  }
  return out;
}

std::shared_ptr<const ruleset> build_ruleset(const dsl::source_map& sources,
                                             const std::vector<dsl::ast::module>& modules,
                                             dsl::program program) {
  return ruleset::compile(std::move(program), sha256_hex(canonical_source(sources, modules)));
}

}  // namespace dalil::engine
