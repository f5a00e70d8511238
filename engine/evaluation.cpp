// The evaluation object shared by `dalil eval` and the server (evaluation.hpp).
#include "engine/evaluation.hpp"

#include "engine/decision.hpp"
#include "engine/record.hpp"
#include "engine/sha256.hpp"

namespace dalil::engine {

std::optional<std::vector<std::uint32_t>> chosen_rules(const dsl::program& p,
                                                       const std::vector<std::string>& names,
                                                       bool all, std::string& unknown) {
  std::vector<std::uint32_t> chosen;
  chosen.reserve(names.empty() ? p.rules.size() : names.size());
  for (const std::string& name : names) {
    auto r = p.find_rule(name);
    if (!r) {
      unknown = name;
      return std::nullopt;
    }
    chosen.push_back(*r);
  }
  if (chosen.empty()) {
    for (std::uint32_t r = 0; r < p.rules.size(); ++r) {
      if (all || !p.rules[r].explain.empty()) chosen.push_back(r);
    }
  }
  return chosen;
}

std::string input_hash(std::string_view record_json) {
  return sha256_hex(canonical_json(record_json));
}

void append_evaluation_json(std::string& out, evaluator& ev, std::string_view input_hash,
                            const std::vector<std::uint32_t>& rules, bool with_trace,
                            std::string_view extra) {
  out += "{\"as_of\":\"";
  out += to_string(ev.inst().as_of);
  out += "\",\"ruleset\":{\"hash\":\"";
  out += ev.rules().hash();
  out += "\"},\"input_hash\":\"";
  out += input_hash;
  out += "\",\"decisions\":[";
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (i) out += ',';
    decision d = decide(ev, rules[i]);
    append_decision_json(out, ev, d, with_trace);
  }
  out += ']';
  out += extra;
  out += '}';
}

}  // namespace dalil::engine
