// Decisions with their evidence: status, value, missing facts, sources, explanations in French,
// Arabic and English, and the deterministic JSON trace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/catalogue.hpp"
#include "engine/evaluator.hpp"

namespace dalil::engine {

struct decision {
  std::uint32_t rule = 0;
  value v;
  bool decided = false;
  bool provisional = false;  // what decided the value is (docs/language.md, "Provisional")
  bool in_force = true;      // the rule's period covers the as-of date (else: its `otherwise`)
  int exception = -1;        // index of the exception that gave the value
  std::vector<std::string> missing;  // fact paths to ask for, sorted
  std::vector<reason> reasons;       // other causes of undetermined, sorted by English text
  /// The rules evaluated to reach this decision (its closure, dependencies first), taken when it
  /// was decided: later reads of the same evaluator do not change its trace or sources.
  std::vector<std::uint32_t> steps;
};

/// Decides rule `r` for the evaluator's current record. Without steps, the decision's trace
/// snapshot is left empty (batch work that digests one trace for the whole record).
decision decide(evaluator& ev, std::uint32_t r, bool with_steps = true);

/// A value as JSON: booleans and integers as JSON, money and decimals as exact decimal strings,
/// enums, dates and durations as strings, null and unknown as null.
void append_value_json(std::string& out, const dsl::program& p, const dsl::type& t, const value& v);
/// A value as words in a language ("fr", "ar", "en"), from the built-in catalogue (see
/// engine/words.hpp for the catalogue and the places).
std::string value_words(const dsl::program& p, const dsl::type& t, const value& v,
                        const std::string& lang);

/// The explanation an official reads, in `l`: the rule's template with its placeholders in
/// words (parameters, the figures the texts set, with all their decimals; the other numbers to
/// two places, more where they would read alike or on the wrong side of a figure; outside the
/// rule's period in force, its `period` text or the catalogue's sentence naming the period),
/// the exception's own words when one gave the value, the documents to ask
/// for and the reasons when undetermined, and a note when provisional. Every fixed word comes
/// from `c`. Placeholders naming rules evaluate them on `ev`.
std::string explain(evaluator& ev, const decision& d, lang l,
                    const catalogue& c = builtin_catalogue());
/// The same with a language code ("fr", "ar", "en"; anything else reads as English).
std::string explain(evaluator& ev, const decision& d, const std::string& lang);

/// A document to ask the applicant for and the facts it proves (fact indices, in the order of
/// the missing paths). `document` is dsl::no_index for facts no document proves: the
/// applicant's own statement.
struct document_request {
  std::uint32_t document = dsl::no_index;
  std::vector<std::uint32_t> facts;
};
/// The missing facts (paths) grouped by the document that proves each, in the pack's order of
/// documents, the applicant's statement last. Paths naming no fact are left out.
std::vector<document_request> documents_to_ask(const dsl::program& p,
                                               const std::vector<std::string>& missing);
/// The title of a document in `l` (dsl::no_index: the catalogue's "applicant's statement").
std::string document_title(const dsl::program& p, std::uint32_t document, lang l,
                           const catalogue& c = builtin_catalogue());
/// One reason of an undetermined decision, worded in `l` (the not-encoded texts in that
/// language where the pack writes them, dates in words, no identifier).
std::string reason_words(const dsl::program& p, const reason& r, lang l,
                         const catalogue& c = builtin_catalogue());

/// The text rendering of `dalil eval`: the header (as-of date in words, ruleset hash, the
/// notice that the official decides), then per decision its title, value and tags, the
/// explanation (which, when documents are to be asked for, points to the list below rather than
/// naming them a second time), the documents to ask for with their facts, and the sources. In
/// Arabic every line starts with a right-to-left mark and left-to-right runs are isolated.
std::string eval_text_header(date as_of, std::string_view ruleset_hash, lang l,
                             const catalogue& c = builtin_catalogue());
void append_decision_text(std::string& out, evaluator& ev, const decision& d, lang l,
                          const catalogue& c = builtin_catalogue());
/// One line of text output: in Arabic a right-to-left mark first, then `indent` spaces.
std::string text_line(std::string_view s, lang l, int indent);

/// Legal sources behind the decision: the rule's, the exception's, and those of the rules and
/// parameters it read, without repetition.
std::vector<std::string> sources_of(evaluator& ev, const decision& d);

/// Where the trace steps already written into one output string are, by rule: a step's JSON
/// depends only on its rule, the record and the instance (a rule evaluated keeps its value and
/// its exception), so the decisions of one evaluation object that share steps (an answer lists
/// about 74 steps, 47 distinct) copy the bytes written the first time instead of writing them
/// again. Valid for one output string that is only appended to, one evaluator and one record:
/// reset() before each evaluation object. The byte offsets are 32-bit (answers are far smaller).
struct step_memo {
  void reset(std::size_t rules, bool with_sources);
  /// The step of `rule` written at out[at, at + size) (size 0: not written yet).
  std::vector<std::uint32_t> at;
  std::vector<std::uint32_t> size;
  bool with_sources = true;
};

/// Appends the decision object of the `dalil eval` JSON contract. The explanation is rendered in
/// French, Arabic and English, or in `only` alone (`"explanation":{"fr":…}`) when it is set.
/// With `memo`, the trace's steps already written into `out` are copied (see step_memo).
void append_decision_json(std::string& out, evaluator& ev, const decision& d, bool with_trace,
                          std::optional<lang> only = std::nullopt, step_memo* memo = nullptr);
/// Appends the trace alone: every rule evaluated for the decision, dependencies first. Without
/// sources, the legal texts are left out (the ruleset, stored by its hash, holds them): that is
/// the compact form whose digest the store keeps. With `memo` (whose with_sources must match),
/// the steps already written into `out` are copied instead of written again.
/// With `categories_only`, a value of a fact, or of a rule that reads the record
/// (ruleset::reads_record), that is not categorical (dsl::categorical) is left out, its "value"
/// member with it (the why of an adviser's impact); `memo` is then unused.
void append_trace_json(std::string& out, evaluator& ev, const decision& d, bool with_sources = true,
                       step_memo* memo = nullptr, bool categories_only = false);
/// The rules of `rule`'s closure that the evaluator has evaluated for the current record.
std::vector<std::uint32_t> evaluated_steps(const evaluator& ev, std::uint32_t rule);

}  // namespace dalil::engine
