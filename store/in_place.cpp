// What encrypting a plain store in place decides, for the SQLite and the PostgreSQL stores.
#include "store/in_place.hpp"

#include <cstdio>

#include "dsl/program.hpp"
#include "engine/ruleset.hpp"
#include "store/batch.hpp"
#include "store/entry_format.hpp"
#include "store/sealing.hpp"

namespace dalil::store::in_place {

std::string pseudonym(std::int64_t n) {
  char name[24];
  std::snprintf(name, sizeof name, "p%010lld", static_cast<long long>(n));
  return name;
}

std::shared_ptr<const engine::ruleset> kept_rulesets::get(const std::string& hash) {
  auto it = cache_.find(hash);
  if (it != cache_.end()) return it->second;
  std::shared_ptr<const engine::ruleset> rules;
  if (auto source = store_.ruleset_source(hash)) {
    std::string diagnostics;  // not shown: without the ruleset, every value is sealed
    rules = stored_ruleset(hash, *source, diagnostics);
    if (rules && rules->hash() != hash) rules = nullptr;
  }
  return cache_[hash] = rules;
}

std::vector<std::uint8_t> kept_rulesets::run_mask(const std::string& hash) {
  auto rules = get(hash);
  if (!rules) return {};
  return plain_value_mask(rules->program(), contract_rules(rules->program()));
}

std::vector<std::uint8_t> kept_rulesets::outcome_mask(const std::string& hash,
                                                      std::string_view rules_json) {
  auto rules = get(hash);
  if (!rules) return {};
  const dsl::program& p = rules->program();
  std::vector<std::uint32_t> decided;
  for (std::string_view name : split_json_array(rules_json)) {
    if (name.size() >= 2) name = name.substr(1, name.size() - 2);  // a rule name: no escapes
    decided.push_back(p.find_rule(name).value_or(dsl::no_index));
  }
  return plain_value_mask(p, decided);
}

bool seal_set(const crypto::data_key& dk, std::string_view applicant, std::int64_t run,
              std::int64_t record, std::string_view trace, std::string_view decisions,
              std::span<const std::uint8_t> mask, sealed_set& out) {
  std::string plain;
  std::string values;
  const bool seal = plain_decisions(decisions, plain, &values, mask);
  if (trace.empty() && !seal) return false;
  out = {};
  if (!trace.empty()) {
    crypto::seal_text(dk, trace, sealing::set_ad("trace", applicant, run, record), out.trace);
  }
  if (seal) {
    crypto::seal(dk, values, sealing::set_ad("decisions", applicant, run, record),
                 out.sealed_decisions);
    out.decisions = std::move(plain);
  }
  crypto::wipe(values);
  return true;
}

sealed_again seal_again(const crypto::data_key* dk, std::string_view applicant, std::int64_t run,
                        std::int64_t record, std::string_view stored, std::string_view sealed,
                        std::span<const std::uint8_t> mask, std::string& decisions,
                        std::string& sealed_out) {
  std::string whole;
  // Without sealed values, or erased (the values sealed are gone), the set is what it keeps in
  // plain; else its sealed values are put back.
  if (sealed.empty() || dk == nullptr) {
    whole.assign(stored);
  } else {
    std::string opened;
    const bool fits =
        crypto::open(*dk, sealed, sealing::set_ad("decisions", applicant, run, record), opened) &&
        whole_decisions(stored, opened, whole);
    crypto::wipe(opened);
    if (!fits) {
      crypto::wipe(whole);
      return sealed_again::damaged;
    }
  }
  std::string plain;
  std::string values;
  const bool seal = plain_decisions(whole, plain, &values, mask);
  crypto::wipe(whole);
  sealed_again done = sealed_again::unchanged;
  if (seal && plain != stored) {
    decisions = std::move(plain);
    sealed_out.clear();
    if (dk != nullptr) {
      crypto::seal(*dk, values, sealing::set_ad("decisions", applicant, run, record), sealed_out);
      done = sealed_again::sealed;
    } else {
      done = sealed_again::dropped;
    }
  }
  crypto::wipe(values);
  return done;
}

bool seal_review(const crypto::data_key& dk, std::string_view applicant, review& r,
                 std::string& sealed, std::string& details, std::int64_t replaces) {
  std::string projection;
  if (!sealing::review_projection(r.decisions, projection)) return false;
  sealing::seal_review(dk, applicant, r.review_id, r.decisions, r.observations, sealed);
  crypto::wipe(r.decisions);
  crypto::wipe(r.observations);
  r.decisions = std::move(projection);
  details = detail::review_details(r.review_id, r.seq, review_digest(r, sealed), true, replaces);
  return true;
}

}  // namespace dalil::store::in_place
