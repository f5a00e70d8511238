// The compiled ruleset as SMT terms (Z3): each node becomes a three-valued term over the schema's
// facts (unknown, null or a known value), following engine/logic.hpp and the evaluator exactly,
// so that "can the two versions decide differently?" is one satisfiability query.
#pragma once

#include <z3++.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/halt.hpp"
#include "dsl/program.hpp"
#include "engine/ruleset.hpp"

namespace dalil::analysis::detail {

/// A solver query, or `unknown` at once when the analysis has been asked to stop (halt.hpp; `h`
/// may be null).
template <class S, class... A>
z3::check_result ask(const halt* h, S& s, A&... a) {
  if (halted(h)) {
    h->skipped();
    return z3::unknown;
  }
  return s.check(a...);
}

/// A node's value as terms: unknown (`unk`), else null (`nul`), else the value `val` (Bool for
/// booleans; Int for whole numbers, dates in days, enum cases and text ids; Real for decimals
/// and money). Durations are only ever constants (`dur`).
struct term {
  z3::expr unk;
  z3::expr nul;
  z3::expr val;
  std::optional<duration> dur;
};

/// The facts of a record, shared by the two versions: a state per field on every fact's path
/// (0 absent, 1 null, 2 present) and a value per scalar leaf, plus the as-of date.
class fact_space {
 public:
  explicit fact_space(z3::context& ctx);

  z3::context& ctx() { return ctx_; }
  /// The id of a text (literal texts get small ids; other ids stand for texts equal to none).
  int text_id(const std::string& text);
  /// The fact at `path` in `p` as a term; nullopt when the schema does not have it with the
  /// same type (the reason is then set).
  std::optional<term> fact(const dsl::program& p, std::uint32_t fact, std::string& reason);
  const z3::expr& as_of() const { return as_of_; }
  /// The dates of the domain of proofs: facts and as-of dates lie in [first_day, last_day].
  static date first_day();
  static date last_day();
  /// The civil year, month and day of a date term (one decomposition per term).
  std::array<z3::expr, 3> civil(const z3::expr& days);
  /// A fresh integer (calendar decompositions), never the same name twice.
  z3::expr fresh(const char* prefix) {
    return ctx_.int_const((std::string(prefix) + "#" + std::to_string(fresh_++)).c_str());
  }
  /// The domain of every fact created so far (enum ranges, money in centimes, bounds,
  /// `not_after as_of`), and side definitions (calendar decompositions).
  std::vector<z3::expr>& constraints() { return constraints_; }

  /// The term id of case `ordinal` of enum `e` of `p`. Enum values are encoded by the case's
  /// name, not its position (an ordinal of one version is another case, or none, in the other):
  /// each enum name has one list of the case names either version declares, and an id is an
  /// index into it, so two versions that reorder, add or rename cases still compare by name.
  int enum_case(const dsl::program& p, std::uint32_t e, std::uint32_t ordinal);

  /// Makes each enum of `b` renamed from one of `a` (same_enum) share that enum's list of
  /// names. Called before either version is encoded.
  void align_enums(const dsl::program& a, const dsl::program& b);
  /// The cases of the enum fields read so far that one of `a` and `b` does not declare at the
  /// field ("Status.protected_person"), sorted: a record holding one is refused by that version,
  /// so it lies outside a proof of `same`.
  std::vector<std::string> one_sided_cases(const dsl::program& a, const dsl::program& b) const;
  /// Restricts every enum field created so far to the cases `p`'s schema declares for it, if
  /// `p` has the field (a version that does not read a field still reads a record holding it).
  void restrict_to_schema(const dsl::program& p);

  /// Writes the record of a model: a JSON object with the facts that are present.
  std::string record_json(const z3::model& m) const;
  /// Whether every decimal of the model has a finite decimal expansion (writable in JSON).
  bool decimals_writable(const z3::model& m) const;
  /// Restricts decimals to hundredths (when a model's decimals are not writable).
  std::vector<z3::expr> hundredths() const;

  /// A field on the path of some fact read so far (tests pin them to given values).
  struct field_var {
    std::string path;  // "household.annual_income"
    dsl::type t;
    /// Enums: every case either version declares, in the order of their ids (enum_case): the
    /// fact space's list for the enum, which grows as a version adds cases.
    const std::vector<std::string>* cases = nullptr;
    std::string enum_name;  // enums
    std::string record;     // records: the record's name
    z3::expr state;
    std::optional<z3::expr> value;  // scalar leaves
    std::optional<z3::expr> centimes;
  };
  const std::vector<std::unique_ptr<field_var>>& fields() const { return fields_; }
  /// A present scalar field's value in a model, as a record writes it (JSON).
  std::string scalar_json(const z3::model& m, const field_var& f) const;
  /// The same value unquoted: "2001-02-01", "240000.01", "refugee", "true".
  std::string scalar_text(const z3::model& m, const field_var& f) const;

  /// One fact of a model's record: a value, null, or a record present with no fact inside.
  struct entry {
    enum class kind : std::uint8_t { value, null, present };
    std::string path;
    kind k = kind::value;
    std::string text;  // scalar_text for values
  };
  /// The facts of the record `record_json` writes, by path (sorted like canonical JSON).
  std::vector<entry> record_entries(const z3::model& m) const;

 private:
  void entries(const z3::model& m, std::vector<entry>& out, const std::string& prefix) const;
  field_var& field(const dsl::program& p, const std::string& path, const dsl::type& t);
  /// Makes the ids of `p`'s cases of enum `e` known; returns the enum's list of names.
  const std::vector<std::string>& enum_names(const dsl::program& p, std::uint32_t e);
  /// Restricts a known value of enum field `f` to the cases `p` declares (a record both versions
  /// read holds a case of both), once per distinct list of cases.
  void restrict_cases(field_var& f, const dsl::program& p, std::uint32_t e);
  void write(const z3::model& m, std::string& out, const std::string& prefix) const;

  z3::context& ctx_;
  z3::expr as_of_;
  std::vector<std::unique_ptr<field_var>> fields_;
  std::map<std::string, std::size_t> by_path_;
  std::map<std::string, int> texts_;
  /// The enum name a list of case names is kept under (an alias's target, or the name itself).
  const std::string& enum_key(const std::string& name) const;
  std::map<std::string, std::vector<std::string>> enum_names_;  // by enum key: every case seen
  std::map<std::string, std::string> alias_;  // a renamed enum's name -> the other version's
  std::map<std::string, std::vector<std::vector<std::string>>> restricted_;  // by field path
  std::vector<z3::expr> constraints_;
  unsigned fresh_ = 0;
  std::map<unsigned, std::array<z3::expr, 3>> civil_;
  std::vector<z3::expr> keep_;  // the terms civil_ is keyed by stay alive (ids stay unique)
};

/// One version of the pack instantiated for an interval of as-of dates (its parameters and
/// periods in force do not change inside it), as terms.
class encoder {
 public:
  encoder(fact_space& facts, std::shared_ptr<const engine::instance> inst);
  /// Rule `r`'s value; when a construct is not encoded, `unsupported()` says which.
  term rule(std::uint32_t r);
  bool in_force(std::uint32_t r) const { return inst_->in_force[r] != 0; }
  const std::string& unsupported() const { return unsupported_; }
  /// The terms of the nodes encoded so far, by node id (tests aim at comparisons' boundaries).
  const std::map<std::uint32_t, term>& nodes() const { return nodes_; }
  const engine::ruleset& rules() const { return rules_; }

 private:
  term node(std::uint32_t id);
  term encode(std::uint32_t id);
  /// `ref`: the enum of an enum constant (its type's ref).
  term constant(const engine::value& v, dsl::kind k, std::uint32_t ref);
  term unknown(dsl::kind k);
  term known(const z3::expr& v);
  term boolean(const z3::expr& t, const z3::expr& f);  // true / false conditions, else unknown
  term fail(const std::string& why, dsl::kind k);
  z3::expr zero(dsl::kind k);

  fact_space& facts_;
  z3::context& c_;
  std::shared_ptr<const engine::instance> inst_;
  const engine::ruleset& rules_;
  std::map<std::uint32_t, term> nodes_;
  std::map<std::uint32_t, term> rule_terms_;
  std::string unsupported_;
};

/// Whether enum `ea` of `a` and enum `eb` of `b` are one enum in two versions: the same name,
/// or renamed (neither name is an enum of the other version) with the same cases, in any order.
bool same_enum(const dsl::program& a, std::uint32_t ea, const dsl::program& b, std::uint32_t eb);

/// Gives two payloads one sort (Int against Real; the payload of an unknown of another type).
void unify(z3::expr& a, z3::expr& b);
/// Two terms give the same decision (logic::same): both unknown, both null, or both known and
/// equal.
z3::expr same(const term& a, const term& b);

}  // namespace dalil::analysis::detail
