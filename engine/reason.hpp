// Why a decision is undetermined, besides the facts to ask for, as data: a kind and what it is
// about, so that each language can word it (engine/words.*), with its English text, the one the
// JSON "reasons" and `dalil test` give.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include "dsl/program.hpp"
#include "dsl/value.hpp"

namespace dalil::engine {

struct reason {
  enum class kind : std::uint8_t {
    not_encoded,              // `index`: the not_encoded expression (its texts: expression::reason)
    not_in_force,             // `index`: the rule, out of its period without `otherwise`
    parameter_without_value,  // `index`: the parameter, which has no value yet on `on`
    division_by_zero,         // an operation on known operands failed: no index
    date_out_of_range,
    arithmetic_overflow,
  };
  kind k = kind::not_encoded;
  std::uint32_t index = dsl::no_index;
  date on{};  // the as-of date (not_in_force, parameter_without_value)
  // clang-tidy 14 takes the defaulted <=>'s comparison with 0 for a null pointer constant.
  friend auto operator<=>(const reason&, const reason&) = default;  // NOLINT(modernize-use-nullptr)
};

/// The English text of a reason, as decisions gave it when reasons were text: "not encoded: …"
/// (the not_encoded's one-string text, or its English one), "m.r is not in force on D",
/// "parameter m.p has no value in force on D", "division by zero", "date out of range",
/// "arithmetic overflow".
std::string reason_english(const dsl::program& p, const reason& r);
/// The English texts of `reasons`, in their order, each once.
std::vector<std::string> reasons_english(const dsl::program& p, const std::vector<reason>& reasons);
/// Sorts reasons by their English text (then by what they are about), so that the order of a
/// decision's reasons is that of their texts.
void sort_reasons(const dsl::program& p, std::vector<reason>& reasons);

}  // namespace dalil::engine
