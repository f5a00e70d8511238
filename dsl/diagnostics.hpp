// Diagnostics are data: collected with a stable code and a span, rendered once with a caret.
#pragma once

#include <string>
#include <vector>

#include "dsl/limits.hpp"
#include "dsl/source.hpp"

namespace dalil::dsl {

enum class severity { error, warning, note };

struct note {
  source_span span;
  std::string message;
};

struct diagnostic {
  severity level = severity::error;
  std::string code;  // stable, e.g. "E0201"; see docs/diagnostics.md
  source_span span;
  std::string message;
  std::vector<note> notes;
};

/// Diagnostics of one run. Bounded: a hostile or badly broken file cannot make millions of them.
/// Past `max_kept` diagnostics, further ones are counted (errors still make has_errors() true)
/// but not kept; render_all ends with a note saying how many were left out.
class diagnostics {
 public:
  static constexpr std::size_t max_kept = limits::max_diagnostics;

  void error(std::string code, source_span span, std::string message) {
    add({severity::error, std::move(code), span, std::move(message), {}});
  }
  void warning(std::string code, source_span span, std::string message) {
    add({severity::warning, std::move(code), span, std::move(message), {}});
  }
  void add(diagnostic d);

  const std::vector<diagnostic>& all() const { return items_; }
  bool has_errors() const { return errors_ > 0; }
  /// Counts include the diagnostics that were not kept.
  std::size_t error_count() const { return errors_; }
  std::size_t warning_count() const { return warnings_; }
  /// How many diagnostics were counted but not kept (past max_kept).
  std::size_t dropped() const { return errors_ + warnings_ + notes_ - items_.size(); }
  /// Orders diagnostics by file, position and code so that output is deterministic.
  void sort();
  /// The sources were accepted by an earlier dalil (a stored ruleset, rebuilt to replay or read
  /// the decisions it made): the checks added since (E0008, and E0204, E0301, E0306 where they
  /// refuse what was taken before) are warnings, and what the sources meant then is kept, so
  /// that no stored decision stops opening.
  void set_accepted_before(bool on) { accepted_before_ = on; }
  bool accepted_before() const { return accepted_before_; }

 private:
  std::vector<diagnostic> items_;
  std::size_t errors_ = 0;
  std::size_t warnings_ = 0;
  std::size_t notes_ = 0;
  bool accepted_before_ = false;
};

/// Renders one diagnostic as `file:line:col: error[CODE]: message`, the source line and a caret.
std::string render(const source_map& sources, const diagnostic& d);
/// Renders every diagnostic, then a summary line ("2 errors, 1 warning").
std::string render_all(const source_map& sources, const diagnostics& diags);

}  // namespace dalil::dsl
