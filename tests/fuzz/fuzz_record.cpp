// Fuzz target: applicant records (JSON) read against the SNIA pack's schema, then evaluated.
// Properties beyond "no crash, no hang":
// - a refusal names a field path that is valid UTF-8 and a message that does not contain the
//   record's text values (personal data never echoed);
// - an accepted record's canonical JSON is accepted too and gives the same decisions (the content
//   hash is taken over the canonical form, so it must not change a record's meaning);
// - both evaluators agree on every rule at two dates, and every decision's JSON is valid UTF-8.
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/block.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace dalil;
using fuzz::violated;

/// Every field name of the schema: a message may name them, wherever they stand in the input.
const std::set<std::string>& schema_names(const dsl::program& p) {
  static const std::set<std::string> names = [&] {
    std::set<std::string> out;
    for (const dsl::record_info& r : p.records) {
      for (const dsl::field_info& f : r.fields) out.insert(f.name);
    }
    return out;
  }();
  return names;
}

/// The JSON string literals of the input that are long enough to be personal values rather than
/// words a message may legitimately hold (field names, types, "null").
std::vector<std::string> string_literals(std::string_view json, const std::set<std::string>& skip) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < json.size(); ++i) {
    if (json[i] != '"') continue;
    std::size_t j = i + 1;
    while (j < json.size() && json[j] != '"' && json[j] != '\\') ++j;
    if (j < json.size() && json[j] == '"') {
      // Keys are followed by ':', values are not.
      std::size_t k = j + 1;
      while (k < json.size() && (json[k] == ' ' || json[k] == '\n' || json[k] == '\t')) ++k;
      bool is_key = k < json.size() && json[k] == ':';
      std::string text(json.substr(i + 1, j - i - 1));
      if (!is_key && text.size() >= 6 && skip.count(text) == 0) out.push_back(std::move(text));
    }
    i = j;
  }
  return out;
}

std::string decisions(const std::shared_ptr<const engine::ruleset>& rules,
                      const engine::record& rec, const char* day) {
  const dsl::program& p = rules->program();
  auto inst = engine::instantiate(rules, *parse_date(day));
  engine::evaluator scalar(inst);
  scalar.set_record(rec);
  std::string out;
  for (std::uint32_t r = 0; r < p.rules.size(); ++r) {
    if (p.rules[r].explain.empty()) continue;
    engine::decision d = engine::decide(scalar, r);
    engine::append_decision_json(out, scalar, d, false);
    out += '\n';
  }
  return out;
}

void compare_evaluators(const std::shared_ptr<const engine::ruleset>& rules,
                        const engine::record& rec, const char* day) {
  const dsl::program& p = rules->program();
  auto inst = engine::instantiate(rules, *parse_date(day));
  std::vector<std::uint32_t> all(p.rules.size());
  for (std::uint32_t r = 0; r < all.size(); ++r) all[r] = r;
  engine::block_evaluator block(inst, all);
  const engine::value* row = rec.facts.data();
  block.run(&row, 1);
  engine::evaluator scalar(inst);
  scalar.set_record(rec);
  for (std::uint32_t r : block.planned()) {
    engine::value want = scalar.rule(r);
    engine::value got = block.get(r, 0);
    std::string a;
    std::string b;
    engine::append_value_json(a, p, p.rules[r].t, want);
    engine::append_value_json(b, p, p.rules[r].t, got);
    if (want.s != got.s || a != b) {
      violated("record", "the evaluators disagree on " + p.rules[r].qualified + " at " + day);
    }
  }
}

/// The record read by `reader` (an error that says where and why, never a value), then decided:
/// the checks below hold for each reader. Whether it was read (`err`: why not).
bool read_and_decide(const std::shared_ptr<const engine::ruleset>& rules,
                     const engine::record_reader& reader, std::string_view json,
                     engine::record_error& err) {
  engine::record rec;
  if (!reader.read(json, rec, err)) {
    if (!fuzz::utf8_ok(err.field) || !fuzz::utf8_ok(err.message)) {
      violated("record", "a record error is not valid UTF-8");
    }
    for (const std::string& v : string_literals(json, schema_names(rules->program()))) {
      if (err.message.find(v) == std::string::npos && err.field.find(v) == std::string::npos) {
        continue;
      }
      if (fuzz::reshaped(v) == v) continue;  // no letter or digit: punctuation, not a value
      // The message holds the text of a value: an echo, or words of its own that the value
      // happens to repeat? Read the record again with that value reshaped.
      std::string other(json);
      const std::string from = "\"" + v + "\"";
      const std::string to = "\"" + fuzz::reshaped(v) + "\"";
      for (std::size_t at = other.find(from); at != std::string::npos;
           at = other.find(from, at + to.size())) {
        other.replace(at, from.size(), to);
      }
      engine::record again;
      engine::record_error err2;
      if (!reader.read(other, again, err2) &&
          (err2.message.find(fuzz::reshaped(v)) != std::string::npos ||
           err2.field.find(fuzz::reshaped(v)) != std::string::npos)) {
        violated("record", "a record error echoes a value of the record: " + err2.message);
      }
    }
    return false;
  }
  std::string first = decisions(rules, rec, "2017-06-01");
  if (!fuzz::utf8_ok(first)) violated("record", "decision JSON is not valid UTF-8");
  std::string canonical = engine::canonical_json(json);
  if (canonical.empty()) violated("record", "an accepted record has no canonical form");
  if (engine::canonical_json(canonical) != canonical) {
    violated("record", "canonical JSON is not a fixed point");
  }
  engine::record again;
  if (!reader.read(canonical, again, err)) {
    violated("record", "the canonical form of an accepted record is refused: " + err.message);
  }
  if (decisions(rules, again, "2017-06-01") != first) {
    violated("record", "the canonical form of a record changes its decisions");
  }
  compare_evaluators(rules, rec, "2017-06-01");
  compare_evaluators(rules, rec, "2014-01-01");
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto rules = fuzz::snia_pack();
  // A record entering (the check of its texts on, the default) and a stored one (off: stored
  // before the check, read as it was stored).
  static const engine::record_reader entering(rules->program());
  static const std::unique_ptr<engine::record_reader> stored = [] {
    auto r = std::make_unique<engine::record_reader>(rules->program());
    r->set_intake(false);
    return r;
  }();
  std::string_view json(reinterpret_cast<const char*>(data), size);
  engine::record_error ea;
  engine::record_error eb;
  const bool entered = read_and_decide(rules, entering, json, ea);
  if (!read_and_decide(rules, *stored, json, eb) && entered) {
    violated("record", "a record read as it enters is refused as stored: " + eb.message);
  }
  return 0;
}
