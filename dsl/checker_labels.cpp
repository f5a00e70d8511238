// What officials read and what records must satisfy: field clauses (title, proof, value
// constraints), texts per language (titles, periods, reasons), and the warnings for a pack that
// declares documents but leaves a decision or a field it reads without a label.
#include "dsl/checker_passes.hpp"
#include "dsl/reason_text.hpp"

#include <charconv>
#include <compare>

namespace dalil::dsl::detail {

void checker::check_languages(const texts& t, source_span s, const std::string& what) {
  if (t.empty() || language_refused_.count({s.file, s.begin})) return;
  std::string absent;
  for (std::string_view lang : languages) {
    if (t.count(std::string(lang))) continue;
    if (!absent.empty()) absent += ", ";
    absent += lang;
  }
  if (absent.empty()) return;
  diags_.warning(codes::missing_language, s,
                 what + " has no text in " + absent + ": officials read fr, ar and en");
}

namespace {

/// The bound written in a field clause, as an exact number, if it is one.
std::optional<rational> bound_value(const ast::clause_arg& a) {
  std::string digits = a.text;
  if (a.kind == ast::literal_kind::money)
    digits = digits.substr(0, digits.find_first_of(" \t\r\nM#"));
  if (a.kind == ast::literal_kind::integer) {
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
    return rational{v, 1};
  }
  return parse_decimal(digits);
}

const char* bound_kind_name(ast::literal_kind k) {
  switch (k) {
    case ast::literal_kind::integer:
      return "a whole number";
    case ast::literal_kind::decimal:
      return "a decimal";
    case ast::literal_kind::money:
      return "an amount in MAD";
    case ast::literal_kind::date:
      return "a date";
    default:
      return "this";
  }
}

}  // namespace

void checker::read_field_clauses(const ast::field_decl& fd, file_id f, field_info& fi) {
  clause_set cs = read_clauses(
      fd.clauses, f, {"title", "proof", "at_least", "at_most", "not_after", "fixed"}, "a field");
  fi.fixed = cs.single["fixed"] != nullptr;
  fi.title = cs.text_of["title"];
  check_languages(fi.title, cs.text_span["title"], "the title of field '" + fd.name.name + "'");
  if (const ast::clause* c = cs.single["proof"]) {
    const std::string& doc = c->args.front().text;
    if (auto it = document_by_name_.find(doc); it != document_by_name_.end()) {
      fi.proof = it->second;
    } else if (!unparsed(doc)) {
      auto names = [&] {
        std::vector<std::string> out;
        for (const auto& [n, _] : document_by_name_) out.push_back(n);
        return name_index(std::move(out));
      };
      error(codes::unknown_document, span(f, c->args.front()),
            "unknown document '" + doc + "'" + suggest(document_names_, names, doc) +
                (document_by_name_.empty() ? "; declare it: document " + doc + " title fr \"…\" …"
                                           : ""));
    }
  }
  kind k = fi.t.k;
  std::string type_text = type_name(p_, fi.t);
  for (const char* which : {"at_least", "at_most"}) {
    const ast::clause* c = cs.single[which];
    if (c == nullptr || k == kind::error) continue;
    const ast::clause_arg& a = c->args.front();
    if (k != kind::integer && k != kind::decimal && k != kind::money) {
      error(codes::misplaced_constraint, span(f, *c),
            std::string("'") + which + "' bounds int, decimal and money fields, but field '" +
                fd.name.name + "' is " + type_text +
                (k == kind::date ? "; a date of a past event takes 'not_after as_of'" : ""));
      continue;
    }
    bool fits = (k == kind::integer && a.kind == ast::literal_kind::integer) ||
                (k == kind::decimal &&
                 (a.kind == ast::literal_kind::integer || a.kind == ast::literal_kind::decimal)) ||
                (k == kind::money && a.kind == ast::literal_kind::money);
    if (!fits) {
      std::string hint = k == kind::money     ? "; write an amount in MAD, such as 0 MAD"
                         : k == kind::integer ? "; write a whole number, such as 1"
                                              : "";
      std::string message = "field '" + fd.name.name + "' is " + type_text;
      message += ", but the bound of '";
      message += which;
      message += "' is ";
      message += bound_kind_name(a.kind);
      message += hint;
      error(codes::bad_bound, span(f, a), std::move(message));
      continue;
    }
    auto v = bound_value(a);
    if (!v) {
      error(codes::bad_literal, span(f, a), "number " + a.text + " is out of range");
      continue;
    }
    (std::string_view(which) == "at_least" ? fi.constraint.at_least : fi.constraint.at_most) = v;
  }
  if (fi.constraint.at_least && fi.constraint.at_most &&
      std::is_gt(compare(*fi.constraint.at_least, *fi.constraint.at_most))) {
    const ast::clause* c = cs.single["at_most"];
    diagnostic d{severity::error,
                 codes::empty_bounds,
                 span(f, *c),
                 "field '" + fd.name.name + "' has 'at_most' below its 'at_least': no value fits",
                 {}};
    d.notes.push_back({span(f, *cs.single["at_least"]), "the lower bound"});
    diags_.add(std::move(d));
  }
  if (const ast::clause* c = cs.single["not_after"]) {
    if (k == kind::date) {
      fi.constraint.not_after_as_of = true;
    } else if (k != kind::error) {
      error(codes::misplaced_constraint, span(f, *c),
            "'not_after as_of' applies to date fields, but field '" + fd.name.name + "' is " +
                type_text);
    }
  }
}

texts checker::read_reasons(std::string_view reason, source_span s) {
  texts out;
  std::vector<reason_part> parts = reason_parts(reason);
  // Diagnostics about the reason as a whole point at its first language (or text).
  const std::uint32_t base = s.begin;
  if (!parts.empty()) s.begin += static_cast<std::uint32_t>(parts.front().lang_begin);
  for (const reason_part& part : parts) {
    std::string text = unescape(part.text(reason));
    if (part.lang_begin == part.lang_end) {
      // One text serves every language.
      for (std::string_view lang : languages) out.emplace(lang, text);
      return out;
    }
    std::string lang(part.lang(reason));
    source_span ls{s.file, base + static_cast<std::uint32_t>(part.lang_begin),
                   base + static_cast<std::uint32_t>(part.lang_end)};
    if (std::find(languages.begin(), languages.end(), lang) == languages.end()) {
      error(codes::unknown_language, ls,
            "unknown language '" + lang + "'; the languages are fr, ar and en");
      language_refused_.emplace(s.file, s.begin);
      continue;
    }
    if (!out.emplace(lang, text).second) {
      error(codes::clause_twice, ls, "'not_encoded' gives language '" + lang + "' twice");
    }
  }
  check_languages(out, s, "the reason of 'not_encoded'");
  return out;
}

void checker::check_labels() {
  // Only a pack that speaks to officials in documents is held to label what it reads: older
  // packs keep checking without warnings.
  if (p_.documents.empty()) return;
  for (const rule_info& r : p_.rules) {
    if (!r.explain.empty() && r.title.empty()) {
      diags_.warning(codes::untitled_decision, r.span,
                     "decision '" + r.qualified +
                         "' has an explanation but no title: officials would read its internal "
                         "name; add title fr \"…\" ar \"…\" en \"…\"");
    }
  }
  if (p_.input_record == no_index) return;
  std::set<std::pair<std::uint32_t, std::uint32_t>> warned_title;
  std::set<std::pair<std::uint32_t, std::uint32_t>> warned_proof;
  for (const fact_info& fact : p_.facts) {
    std::uint32_t rec = p_.input_record;
    for (std::size_t i = 0; i < fact.fields.size(); ++i) {
      const field_info& fi = p_.records[rec].fields[fact.fields[i]];
      if (i + 1 == fact.fields.size()) {
        std::pair<std::uint32_t, std::uint32_t> key{rec, fact.fields[i]};
        source_span s = field_spans_[rec][fact.fields[i]];
        if (fi.title.empty() && warned_title.insert(key).second) {
          diags_.warning(codes::untitled_field, s,
                         "field '" + fi.name + "' of record '" + p_.records[rec].name +
                             "' is read by a rule but has no title: officials would read '" +
                             fact.path + "'; add title fr \"…\" ar \"…\" en \"…\"");
        }
        if (fact.proof == no_index && warned_proof.insert(key).second) {
          diags_.warning(codes::undocumented_field, s,
                         "field '" + fi.name + "' of record '" + p_.records[rec].name +
                             "' is read by a rule but no document proves it (neither it nor "
                             "the field that holds it has 'proof'); add proof DOCUMENT");
        }
      }
      if (fi.t.k != kind::record) break;
      rec = fi.t.ref;
    }
  }
}

}  // namespace dalil::dsl::detail
