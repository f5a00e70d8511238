// The evaluation object shared by `dalil eval` and the server, and its compact form
// (evaluation.hpp).
#include "engine/evaluation.hpp"

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
                            const std::vector<std::uint32_t>& rules, const evaluation_options& o,
                            std::string_view extra) {
  out += "{\"as_of\":\"";
  out += to_string(ev.inst().as_of);
  out += "\",\"ruleset\":{\"hash\":\"";
  out += ev.rules().hash();
  out += "\"},\"input_hash\":\"";
  out += input_hash;
  out += "\",\"decisions\":[";
  if (o.compact_decisions) *o.compact_decisions += '[';
  // The decisions share trace steps: each is written once, then copied (step_memo). The memo's
  // storage is kept per thread, so that an answer allocates nothing for it.
  thread_local step_memo memo;
  memo.reset(ev.rules().program().rules.size(), true);
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (i) out += ',';
    decision d = decide(ev, rules[i]);
    append_decision_json(out, ev, d, o.with_trace, o.only, &memo);
    if (o.compact_decisions) {
      if (i) *o.compact_decisions += ',';
      append_compact_decision(*o.compact_decisions, ev.rules().program(), d);
    }
  }
  if (o.compact_decisions) *o.compact_decisions += ']';
  out += ']';
  out += extra;
  out += '}';
}

void append_evaluation_json(std::string& out, evaluator& ev, std::string_view input_hash,
                            const std::vector<std::uint32_t>& rules, bool with_trace,
                            std::string_view extra) {
  evaluation_options o;
  o.with_trace = with_trace;
  append_evaluation_json(out, ev, input_hash, rules, o, extra);
}

void append_compact_decision(std::string& out, const dsl::program& p, const decision& d) {
  const dsl::rule_info& info = p.rules[d.rule];
  out += "{\"rule\":";
  append_json_string(out, info.qualified);
  out +=
      d.decided ? ",\"status\":\"decided\",\"value\":" : ",\"status\":\"undetermined\",\"value\":";
  append_value_json(out, p, info.t, d.v);
  out += ",\"missing\":[";
  for (std::size_t i = 0; i < d.missing.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, d.missing[i]);
  }
  out += "],\"in_force\":";
  out += d.in_force ? "true" : "false";
  out += ",\"provisional\":";
  out += d.provisional ? "true" : "false";
  out += '}';
}

std::string compact_decisions(evaluator& ev, const std::vector<std::uint32_t>& rules) {
  std::string out = "[";
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (i) out += ',';
    // Without steps: the compact form names no rule of the trace.
    append_compact_decision(out, ev.rules().program(), decide(ev, rules[i], false));
  }
  out += ']';
  return out;
}

std::string compact_form(std::string_view as_of, std::string_view ruleset_hash,
                         std::string_view input_hash, std::string_view decisions) {
  std::string out;
  out.reserve(decisions.size() + 200);
  out += "{\"as_of\":";
  append_json_string(out, as_of);
  out += ",\"ruleset\":";
  append_json_string(out, ruleset_hash);
  out += ",\"input_hash\":";
  append_json_string(out, input_hash);
  out += ",\"decisions\":";
  out += decisions;
  out += '}';
  return out;
}

}  // namespace dalil::engine
