// Encrypting a plain store in place (dalil keys init --db over plain records, docs/operations.md),
// what both stores decide alike: the pseudonyms given, which values of a decision set or a counter
// decision's outcomes stay plain (by the types of the store's own rulesets), and how a decision
// set's trace and values are sealed under its applicant's new data key. Each backend reads and
// writes its rows; the bytes they seal and keep are decided here once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/counter_store.hpp"
#include "store/crypto.hpp"
#include "store/store.hpp"

namespace dalil::engine {
class ruleset;
}

namespace dalil::store::in_place {

/// The pseudonym of the n-th applicant (from 1, in the order of their first record): `p` and 10
/// digits, as an encrypted store's import names them.
std::string pseudonym(std::int64_t n);

/// The rulesets a store keeps, each read and checked once, by hash.
class kept_rulesets {
 public:
  explicit kept_rulesets(store& s) : store_(s) {}
  /// The ruleset kept under `hash`; nullptr when the store does not keep it or it no longer
  /// checks (then every value but a flag or null is sealed: privacy first).
  std::shared_ptr<const engine::ruleset> get(const std::string& hash);
  /// Which entries of a decision set of a run under `hash` keep their value in plain
  /// (plain_value_mask of its contract rules); empty without the ruleset.
  std::vector<std::uint8_t> run_mask(const std::string& hash);
  /// The same for a counter decision's outcomes, by the names of the rules it decided
  /// (`rules_json`, a JSON array of names).
  std::vector<std::uint8_t> outcome_mask(const std::string& hash, std::string_view rules_json);

 private:
  store& store_;
  std::map<std::string, std::shared_ptr<const engine::ruleset>, std::less<>> cache_;
};

/// A decision set sealed in place: its trace sealed as text ("" when it has none), and, when a
/// value is to be sealed, its plain form and the sealed values ("" when none is).
struct sealed_set {
  std::string trace;
  std::string decisions;
  std::string sealed_decisions;
};

/// Seals decision set (run, record) of `applicant` (its pseudonym) under the applicant's data
/// key as a batch on an encrypted store seals one (sealing::seal_decisions): its stored `trace`
/// (may be empty) and the values of `decisions` that `mask` does not keep in plain. False, `out`
/// untouched, when there is nothing to seal.
bool seal_set(const crypto::data_key& dk, std::string_view applicant, std::int64_t run,
              std::int64_t record, std::string_view trace, std::string_view decisions,
              std::span<const std::uint8_t> mask, sealed_set& out);

/// What seal_again did to a decision set.
enum class sealed_again { unchanged, sealed, dropped, damaged };

/// dalil keys seal's step for one decision set of an encrypted store (run, record) of
/// `applicant`: its whole decisions (the plain form `stored` with its `sealed` values put back,
/// opened with `dk`; nullptr: the applicant was erased, their sealed values are gone) kept in
/// plain as `mask` (its run's types) says and the rest sealed under `dk`. `unchanged`: the set
/// already keeps in plain only what its types allow; `sealed`: `decisions` and `sealed_out` hold
/// its new plain form and sealed values; `dropped`: erased, the values its types seal are
/// dropped (`decisions` its new plain form, nothing sealed); `damaged`: its sealed values do not
/// open or do not fit its plain form.
sealed_again seal_again(const crypto::data_key* dk, std::string_view applicant, std::int64_t run,
                        std::int64_t record, std::string_view stored, std::string_view sealed,
                        std::span<const std::uint8_t> mask, std::string& decisions,
                        std::string& sealed_out);

/// A plain review sealed in place (keys init over a store with reviews): `r`, read as stored,
/// becomes the row an encrypted store's counter writes (its decisions' projection, no
/// observations; sealing::seal_review under the applicant's new data key `dk`, `applicant` its
/// pseudonym, in `sealed`), and `details` the `review` entry that vouches for it again (naming
/// the entry it replaces when `replaces` is not 0: keys seal). False, `r` untouched, when its
/// decisions are not a review's.
bool seal_review(const crypto::data_key& dk, std::string_view applicant, review& r,
                 std::string& sealed, std::string& details, std::int64_t replaces = 0);

}  // namespace dalil::store::in_place
