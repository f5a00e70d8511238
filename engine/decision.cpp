// Turning rule values into decisions an official can read and a lawyer can audit.
#include "engine/decision.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "engine/record.hpp"
#include "engine/words.hpp"

namespace dalil::engine {

namespace {

void append_quoted(std::string& out, std::string_view s) {
  append_json_string(out, s);
}

/// Texts per language as a JSON object, languages in code order, those not written left out.
void append_texts_json(std::string& out, const dsl::texts& t) {
  out += '{';
  bool first = true;
  for (const auto& [code, text] : t) {
    if (text.empty()) continue;
    if (!first) out += ',';
    first = false;
    append_json_string(out, code);
    out += ':';
    append_json_string(out, text);
  }
  out += '}';
}

}  // namespace

std::vector<std::uint32_t> evaluated_steps(const evaluator& ev, std::uint32_t rule) {
  std::vector<std::uint32_t> out;
  const std::vector<std::uint32_t>& closure = ev.rules().closure_of(rule);
  out.reserve(closure.size());  // one allocation, not one per doubling
  for (std::uint32_t r : closure) {
    if (ev.evaluated(r)) out.push_back(r);
  }
  return out;
}

decision decide(evaluator& ev, std::uint32_t r, bool with_steps) {
  decision d;
  d.rule = r;
  d.v = ev.rule(r);
  d.decided = !d.v.unknown();
  d.exception = ev.fired_exception(r);
  d.provisional = ev.provisional(r);
  d.in_force = ev.inst().in_force[r] != 0;
  if (!d.decided) {
    unknown_causes c = ev.causes(r);
    const dsl::program& p = ev.rules().program();
    for (std::uint32_t f : c.facts) d.missing.push_back(p.facts[f].path);
    std::sort(d.missing.begin(), d.missing.end());
    d.reasons.assign(c.reasons.begin(), c.reasons.end());
    sort_reasons(p, d.reasons);
  }
  if (with_steps) d.steps = evaluated_steps(ev, r);
  return d;
}

void append_value_json(std::string& out, const dsl::program& p, const dsl::type& t,
                       const value& v) {
  if (!v.known()) {
    out += "null";
    return;
  }
  switch (v.r) {
    case rep::boolean:
      out += v.b ? "true" : "false";
      return;
    case rep::integer:
      if (t.k == dsl::kind::money) {
        append_quoted(out, money_string(rational{v.i, 1}));
      } else if (t.k == dsl::kind::decimal) {
        append_quoted(out, std::to_string(v.i));
      } else {
        out += std::to_string(v.i);
      }
      return;
    case rep::ratio: {
      rational q = to_rational(v);
      append_quoted(out, t.k == dsl::kind::money ? money_string(q) : to_string(q));
      return;
    }
    case rep::date:
      append_quoted(out, to_string(date{static_cast<std::int32_t>(v.i)}));
      return;
    case rep::duration:
      append_quoted(out, to_string(v.dur));
      return;
    case rep::text:
      append_quoted(out, v.as_text());
      return;
    case rep::enumeration:
      append_quoted(out, t.k == dsl::kind::enumeration && t.ref < p.enums.size()
                             ? p.enums[t.ref].cases[static_cast<std::size_t>(v.i)]
                             : std::to_string(v.i));
      return;
    default:
      out += "null";
      return;
  }
}

std::string value_words(const dsl::program& p, const dsl::type& t, const value& v,
                        const std::string& lang) {
  return value_words(p, t, v, lang_or_en(lang), builtin_catalogue());
}

namespace {

/// A value a placeholder shows: its type and its value.
struct shown {
  dsl::type t;
  value v;
  bool fact = false;    // an unknown fact was not provided; an unknown rule is to be determined
  bool figure = false;  // a parameter: a figure the texts set, shown with all its decimals
};

/// What a placeholder of a rule's template names, resolved once per ruleset (render_index).
struct target {
  enum class kind : std::uint8_t { value, fact, rule, parameter, none } k = kind::none;
  std::uint32_t index = 0;
};

/// A template piece as the index keeps it: text (pointing into the program), or a placeholder
/// (its name, without the braces, and what it names).
struct template_piece {
  std::string_view text;
  bool is_placeholder = false;
  target to;
};

/// What a placeholder names, seen from the rule's module: `value`, a fact of the input record
/// (`applicant.path`), else a rule or a parameter of the rule's module, else of any module by
/// its qualified name. kind::none when it names nothing (the checker refuses such templates).
target resolve(const dsl::program& p, std::uint32_t rule, std::string_view name) {
  const dsl::rule_info& info = p.rules[rule];
  if (name == "value") return {target::kind::value, 0};
  if (name.size() > p.input_name.size() && name.substr(0, p.input_name.size()) == p.input_name &&
      name[p.input_name.size()] == '.') {
    std::string_view path = name.substr(p.input_name.size() + 1);
    for (std::uint32_t f = 0; f < p.facts.size(); ++f) {
      if (p.facts[f].path == path) return {target::kind::fact, f};
    }
    return {};
  }
  std::string qualified = p.modules[info.module].name;
  qualified += '.';
  qualified += name;
  for (std::string_view q : {std::string_view(qualified), name}) {
    if (auto r = p.find_rule(q)) return {target::kind::rule, *r};
    for (std::uint32_t i = 0; i < p.parameters.size(); ++i) {
      if (p.parameters[i].qualified == q) return {target::kind::parameter, i};
    }
  }
  return {};
}

std::vector<template_piece> cut_template(const dsl::program& p, std::uint32_t rule,
                                         std::string_view t) {
  std::vector<template_piece> out;
  std::size_t i = 0;
  while (i < t.size()) {
    std::size_t open = t.find('{', i);
    std::size_t close = open == std::string_view::npos ? open : t.find('}', open);
    if (close == std::string_view::npos) {
      out.push_back({t.substr(i), false, {}});
      break;
    }
    if (open > i) out.push_back({t.substr(i, open - i), false, {}});
    std::string_view name = t.substr(open + 1, close - open - 1);
    out.push_back({name, true, resolve(p, rule, name)});
    i = close + 1;
  }
  return out;
}

/// A JSON string literal of `s`, for the index.
std::string quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

/// What rendering reads of a ruleset again and again, computed once per ruleset: the templates
/// cut and their placeholders resolved (instead of a scan of every fact, rule and parameter per
/// placeholder per answer), and the JSON string literals of the names, paths and sources the
/// answers and traces repeat. Immutable once built, shared by threads.
struct render_index {
  /// Per rule, per language (lang's order): the explanation template, when the rule has one.
  std::vector<std::array<std::optional<std::vector<template_piece>>, 3>> templates;
  std::vector<std::string> rule_name;       // quoted qualified names
  std::vector<std::string> rule_source;     // quoted sources
  std::vector<std::string> fact_path;       // quoted paths
  std::vector<std::string> parameter_name;  // quoted qualified names
  std::vector<std::string> parameter_source;
  /// Per rule, the quoted names of the rules it reads, comma-separated (the trace's "reads").
  std::vector<std::string> reads;
  std::vector<std::string> rule_title;                     // per rule, its titles as a JSON object
  std::vector<std::vector<std::string>> exception_source;  // per rule, per exception, quoted
  /// The sources as the answer's "sources" lists them: each distinct text once (quoted), and
  /// for each rule, exception and parameter the id of its text (no_index: it has none).
  std::vector<std::string> source_json;
  std::vector<std::uint32_t> rule_source_id;
  std::vector<std::vector<std::uint32_t>> exception_source_id;
  std::vector<std::uint32_t> parameter_source_id;

  explicit render_index(const dsl::program& p) {
    templates.resize(p.rules.size());
    rule_name.reserve(p.rules.size());
    rule_source.reserve(p.rules.size());
    reads.reserve(p.rules.size());
    for (std::uint32_t r = 0; r < p.rules.size(); ++r) {
      const dsl::rule_info& info = p.rules[r];
      for (lang l : languages) {
        auto t = info.explain.find(std::string(lang_code(l)));
        if (t != info.explain.end()) {
          templates[r][static_cast<std::size_t>(l)] = cut_template(p, r, t->second);
        }
      }
      rule_name.push_back(quoted(info.qualified));
      rule_source.push_back(quoted(info.source));
      std::string rd;
      for (std::uint32_t x : info.rules_read) {
        if (!rd.empty()) rd += ',';
        append_json_string(rd, p.rules[x].qualified);
      }
      reads.push_back(std::move(rd));
      std::string title;
      append_texts_json(title, info.title);
      rule_title.push_back(std::move(title));
      rule_source_id.push_back(source_id(info.source));
      std::vector<std::string> xs;
      std::vector<std::uint32_t> xids;
      for (const dsl::exception_info& e : info.exceptions) {
        xs.push_back(quoted(e.source));
        xids.push_back(source_id(e.source));
      }
      exception_source.push_back(std::move(xs));
      exception_source_id.push_back(std::move(xids));
    }
    fact_path.reserve(p.facts.size());
    for (const dsl::fact_info& f : p.facts) fact_path.push_back(quoted(f.path));
    parameter_name.reserve(p.parameters.size());
    parameter_source.reserve(p.parameters.size());
    for (const dsl::parameter_info& q : p.parameters) {
      parameter_name.push_back(quoted(q.qualified));
      parameter_source.push_back(quoted(q.source));
      parameter_source_id.push_back(source_id(q.source));
    }
    source_ids_.clear();
  }

 private:
  std::map<std::string_view, std::uint32_t> source_ids_;  // while building
  std::uint32_t source_id(const std::string& s) {
    if (s.empty()) return dsl::no_index;
    auto [it, added] = source_ids_.emplace(s, static_cast<std::uint32_t>(source_json.size()));
    if (added) source_json.push_back(quoted(s));
    return it->second;
  }
};

/// The index of the evaluator's ruleset: built on first use, kept while the ruleset lives (the
/// cache holds a weak reference, whose control block also keeps its identity unique). A thread
/// remembers the last one it used, so the hot path takes no lock.
std::shared_ptr<const render_index> index_of(const evaluator& ev) {
  const std::shared_ptr<const ruleset>& rs = ev.inst().rules;
  if (!rs) return std::make_shared<const render_index>(ev.rules().program());
  auto same = [&rs](const std::weak_ptr<const ruleset>& w) {
    return !w.owner_before(rs) && !rs.owner_before(w) && !w.expired();
  };
  thread_local std::weak_ptr<const ruleset> last_key;
  thread_local std::shared_ptr<const render_index> last;
  if (last && same(last_key)) return last;
  static std::mutex mutex;
  static std::vector<std::pair<std::weak_ptr<const ruleset>, std::shared_ptr<const render_index>>>
      cache;
  std::shared_ptr<const render_index> found;
  {
    std::lock_guard lock(mutex);
    std::erase_if(cache, [](const auto& e) { return e.first.expired(); });
    for (const auto& e : cache) {
      if (same(e.first)) found = e.second;
    }
    if (!found) {
      found = std::make_shared<const render_index>(rs->program());
      cache.emplace_back(rs, found);
    }
  }
  last_key = rs;
  last = found;
  return found;
}

/// The value a resolved placeholder shows; std::nullopt when it names nothing.
std::optional<shown> placeholder(evaluator& ev, const decision& d, const target& to) {
  const dsl::program& p = ev.rules().program();
  switch (to.k) {
    case target::kind::value:
      return shown{p.rules[d.rule].t, d.v, false};
    case target::kind::fact:
      return shown{p.facts[to.index].t, ev.facts()[to.index], true};
    case target::kind::rule:
      return shown{p.rules[to.index].t, ev.rule(to.index), false};
    case target::kind::parameter:
      return shown{p.parameters[to.index].t, ev.inst().parameters[to.index].v, false, true};
    case target::kind::none:
      break;
  }
  return std::nullopt;
}

/// A shown value in words: an unknown fact reads "not provided", an unknown rule or parameter
/// "to be determined".
std::string shown_words(const dsl::program& p, const shown& s, lang l, const catalogue& c,
                        int places) {
  if (s.v.unknown() && !s.fact) return c.text(msg::undetermined_value, l);
  return value_words(p, s.t, s.v, l, c, places);
}

void append_shown_words(std::string& out, const dsl::program& p, const shown& s, lang l,
                        const catalogue& c, int places) {
  if (s.v.unknown() && !s.fact) {
    out += c.text(msg::undetermined_value, l);
  } else {
    append_value_words(out, p, s.t, s.v, l, c, places);
  }
}

std::string join(const std::vector<std::string>& xs, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (i) out += sep;
    out += xs[i];
  }
  return out;
}

std::string rule_title(const dsl::rule_info& r, lang l, const catalogue& c) {
  return label(r.title, l, c, msg::untitled_decision);
}

/// The sentence for a rule outside its period: its own `period` text, else the catalogue's.
std::string period_sentence(const dsl::rule_info& r, lang l, const catalogue& c) {
  std::string from = r.in_force_from ? date_words(*r.in_force_from, l, c) : std::string();
  std::string until = r.in_force_until ? date_words(*r.in_force_until, l, c) : std::string();
  auto own = r.period.find(std::string(lang_code(l)));
  if (own != r.period.end() && !own->second.empty()) {
    return substitute(own->second, {{"from", from}, {"until", until}});
  }
  std::string title = rule_title(r, l, c);
  if (r.in_force_from && r.in_force_until) {
    return c.format(msg::period_between, l, {{"title", title}, {"from", from}, {"until", until}});
  }
  if (r.in_force_from) return c.format(msg::period_from, l, {{"title", title}, {"from", from}});
  return c.format(msg::period_until, l, {{"title", title}, {"until", until}});
}

/// Whether `r` says that rule `rule` itself is not in force (said by the period sentence).
bool own_not_in_force(std::uint32_t rule, const reason& r) {
  return r.k == reason::kind::not_in_force && r.index == rule;
}

/// The reasons once each, as the JSON's English "reasons" lists them.
std::vector<reason> distinct_reasons(const dsl::program& p, const std::vector<reason>& reasons) {
  std::vector<reason> out;
  std::vector<std::string> seen;
  for (const reason& r : reasons) {
    std::string text = reason_english(p, r);
    if (std::find(seen.begin(), seen.end(), text) != seen.end()) continue;
    seen.push_back(std::move(text));
    out.push_back(r);
  }
  return out;
}

/// The scratch space of build_explanation, one per thread, reused from answer to answer: the
/// placeholders' values and the numbers read together (no allocation once grown).
struct explanation_scratch {
  std::vector<std::optional<shown>> values;  // per template piece (nullopt: text, or unresolved)
  std::vector<int> piece_places;             // per template piece: a number's places
  std::vector<rational> numbers;
  std::vector<std::uint8_t> figures;
  std::vector<std::size_t> owners;  // the piece of each number; the pieces' count: the value
  std::vector<int> places;
};

/// Appends to `out` the explanation of decision `d`: the explanation, then the reasons, each
/// sentence after the one before and a space. Returns the places the decision's own value needs
/// beside the others shown. `documents_below`: the rendering lists the documents to ask for
/// after the explanation, which then points to them instead of naming them a second time.
int build_explanation(evaluator& ev, const decision& d, lang l, const catalogue& c,
                      bool documents_below, std::string& out) {
  const dsl::program& p = ev.rules().program();
  const dsl::rule_info& info = p.rules[d.rule];
  const bool in_force = d.in_force;
  int value_places = 2;
  bool first_sentence = true;
  auto next_sentence = [&] {
    if (!first_sentence) out += ' ';
    first_sentence = false;
  };

  // The numbers shown together: the decision's value, and the template's placeholders.
  thread_local explanation_scratch x;
  const std::shared_ptr<const render_index> index = index_of(ev);
  const std::optional<std::vector<template_piece>>& tmpl =
      index->templates[d.rule][static_cast<std::size_t>(l)];
  const std::size_t count = in_force && tmpl ? tmpl->size() : 0;
  x.values.assign(count, std::nullopt);
  x.piece_places.assign(count, 2);
  for (std::size_t i = 0; i < count; ++i) {
    const template_piece& t = (*tmpl)[i];
    if (t.is_placeholder) x.values[i] = placeholder(ev, d, t.to);
  }
  // Figures the texts set (parameters) read exactly; the others to two places, more where
  // they would read alike or in the wrong order beside them.
  x.numbers.clear();
  x.figures.clear();
  x.owners.clear();
  if (reads_as_decimal(info.t, d.v)) {
    x.numbers.push_back(to_rational(d.v));
    x.figures.push_back(0);
    x.owners.push_back(count);
  }
  for (std::size_t i = 0; i < count; ++i) {
    const std::optional<shown>& v = x.values[i];
    if (v && reads_as_decimal(v->t, v->v)) {
      x.numbers.push_back(to_rational(v->v));
      x.figures.push_back(v->figure ? 1 : 0);
      x.owners.push_back(i);
    }
  }
  x.places.assign(x.numbers.size(), 2);
  reading_places_into(x.numbers, x.figures, x.places);
  for (std::size_t n = 0; n < x.numbers.size(); ++n) {
    if (x.owners[n] == count) {
      value_places = x.places[n];
    } else {
      x.piece_places[x.owners[n]] = x.places[n];
    }
  }

  next_sentence();
  if (!in_force) {
    out += period_sentence(info, l, c);
  } else if (tmpl) {
    for (std::size_t i = 0; i < count; ++i) {
      const template_piece& t = (*tmpl)[i];
      if (!t.is_placeholder) {
        out += t.text;
      } else if (x.values[i]) {
        append_shown_words(out, p, *x.values[i], l, c, x.piece_places[i]);
      } else {
        out += '{';
        out += t.text;
        out += '}';
      }
    }
  } else {
    c.append_format(out, msg::value_sentence, l,
                    {{"title", rule_title(info, l, c)},
                     {"value", shown_words(p, shown{info.t, d.v, false}, l, c, value_places)}});
  }
  if (d.exception >= 0) {
    const dsl::exception_info& e = info.exceptions[static_cast<std::size_t>(d.exception)];
    next_sentence();
    c.append_format(out, msg::exception_applied, l,
                    {{"text", label(e.explain, l, c, msg::exception_unlabelled)}});
  }
  if (!d.decided) {
    if (in_force) {
      std::vector<std::string> titles;
      for (const document_request& r : documents_to_ask(p, d.missing)) {
        titles.push_back(document_title(p, r.document, l, c));
      }
      next_sentence();
      if (titles.empty()) {
        out += c.text(msg::undetermined_no_ask, l);
      } else if (documents_below) {
        out += c.text(msg::undetermined_ask_below, l);
      } else {
        c.append_format(out, msg::undetermined_ask, l,
                        {{"documents", join(titles, c.text(msg::list_separator, l))}});
      }
    }
    std::vector<std::string> reasons;
    for (const reason& r : distinct_reasons(p, d.reasons)) {
      if (!in_force && own_not_in_force(d.rule, r)) continue;
      std::string w = reason_words(p, r, l, c);
      // The sentence ends the reasons itself: a reason written as a sentence loses its period.
      while (!w.empty() && (w.back() == '.' || w.back() == ' ')) w.pop_back();
      reasons.push_back(std::move(w));
    }
    if (!reasons.empty()) {
      next_sentence();
      c.append_format(out, msg::reason_sentence, l,
                      {{"reasons", join(reasons, c.text(msg::group_separator, l))}});
    }
  }
  if (d.provisional) {
    next_sentence();
    out += c.text(msg::provisional_note, l);
  }
  // The scratch space outlives the answer: it keeps no applicant's value.
  for (std::optional<shown>& v : x.values) {
    if (v) v->v = value{};
  }
  std::fill(x.numbers.begin(), x.numbers.end(), rational{0, 1});
  return value_places;
}

}  // namespace

std::string document_title(const dsl::program& p, std::uint32_t document, lang l,
                           const catalogue& c) {
  if (document >= p.documents.size()) return c.text(msg::applicant_statement, l);
  return label(p.documents[document].title, l, c, msg::untitled_document);
}

std::vector<document_request> documents_to_ask(const dsl::program& p,
                                               const std::vector<std::string>& missing) {
  std::vector<document_request> out;
  auto group = [&](std::uint32_t doc) -> document_request& {
    for (document_request& r : out) {
      if (r.document == doc) return r;
    }
    out.push_back({doc, {}});
    return out.back();
  };
  for (const std::string& path : missing) {
    for (std::uint32_t f = 0; f < p.facts.size(); ++f) {
      if (p.facts[f].path != path) continue;
      const std::uint32_t doc =
          p.facts[f].proof < p.documents.size() ? p.facts[f].proof : dsl::no_index;
      group(doc).facts.push_back(f);
      break;
    }
  }
  // The pack's order of documents; what no document proves (the applicant's word) last.
  std::stable_sort(
      out.begin(), out.end(),
      [](const document_request& a, const document_request& b) { return a.document < b.document; });
  return out;
}

std::string reason_words(const dsl::program& p, const reason& r, lang l, const catalogue& c) {
  switch (r.k) {
    case reason::kind::not_encoded: {
      if (r.index < p.expressions.size()) {
        const dsl::expression& e = p.expressions[r.index];
        auto own = e.reason.find(std::string(lang_code(l)));
        if (own != e.reason.end() && !own->second.empty()) {
          return c.format(msg::reason_not_encoded, l, {{"text", own->second}});
        }
        // The one-string form serves every language.
        if (const auto* text = std::get_if<std::string>(&e.value)) {
          return c.format(msg::reason_not_encoded, l, {{"text", isolate_auto(*text, l)}});
        }
      }
      break;
    }
    case reason::kind::not_in_force:
      if (r.index < p.rules.size()) {
        return c.format(
            msg::reason_not_in_force, l,
            {{"title", rule_title(p.rules[r.index], l, c)}, {"date", date_words(r.on, l, c)}});
      }
      break;
    case reason::kind::parameter_without_value:
      return c.format(msg::reason_parameter_without_value, l, {{"date", date_words(r.on, l, c)}});
    case reason::kind::division_by_zero:
      return c.text(msg::reason_division_by_zero, l);
    case reason::kind::date_out_of_range:
      return c.text(msg::reason_date_out_of_range, l);
    case reason::kind::arithmetic_overflow:
      return c.text(msg::reason_overflow, l);
  }
  return c.text(msg::reason_other, l);
}

std::string explain(evaluator& ev, const decision& d, lang l, const catalogue& c) {
  std::string out;
  build_explanation(ev, d, l, c, false, out);
  return out;
}

std::string explain(evaluator& ev, const decision& d, const std::string& lang) {
  return explain(ev, d, lang_or_en(lang), builtin_catalogue());
}

std::string eval_text_header(date as_of, std::string_view ruleset_hash, lang l,
                             const catalogue& c) {
  std::string out = text_line(
      c.format(msg::header_as_of, l,
               {{"date", date_words(as_of, l, c)}, {"hash", isolate_ltr(ruleset_hash, l)}}),
      l, 0);
  out += text_line(c.text(msg::header_notice, l), l, 0);
  return out;
}

std::string text_line(std::string_view s, lang l, int indent) {
  std::string out;
  // A right-to-left mark first: the line is a right-to-left paragraph whatever it starts with.
  if (l == lang::ar) out += rlm;
  out.append(static_cast<std::size_t>(indent), ' ');
  out += s;
  out += '\n';
  return out;
}

void append_decision_text(std::string& out, evaluator& ev, const decision& d, lang l,
                          const catalogue& c) {
  const dsl::program& p = ev.rules().program();
  const dsl::rule_info& info = p.rules[d.rule];
  const std::vector<document_request> docs = documents_to_ask(p, d.missing);
  // The documents are listed once, grouped with the facts each proves, after the explanation.
  std::string text;
  const int value_places = build_explanation(ev, d, l, c, !docs.empty(), text);
  std::string head =
      c.format(msg::decision_line, l,
               {{"title", rule_title(info, l, c)},
                {"value", shown_words(p, shown{info.t, d.v, false}, l, c, value_places)}});
  if (!d.decided) head += "  " + c.text(msg::tag_undetermined, l);
  if (d.provisional) head += "  " + c.text(msg::tag_provisional, l);
  if (!d.in_force) head += "  " + c.text(msg::tag_out_of_force, l);
  out += text_line(head, l, 0);
  out += text_line(text, l, 2);
  if (!docs.empty()) {
    out += text_line(c.text(msg::heading_documents, l), l, 2);
    for (const document_request& r : docs) {
      std::vector<std::string> facts;
      for (std::uint32_t f : r.facts) {
        facts.push_back(label(p.facts[f].title, l, c, msg::untitled_fact));
      }
      out += text_line(c.format(msg::document_line, l,
                                {{"document", document_title(p, r.document, l, c)},
                                 {"facts", join(facts, c.text(msg::list_separator, l))}}),
                       l, 4);
    }
  }
  std::vector<std::string> sources = sources_of(ev, d);
  if (!sources.empty()) {
    out += text_line(c.text(msg::heading_sources, l), l, 2);
    for (const std::string& s : sources) {
      out += text_line(c.format(msg::source_line, l, {{"source", isolate_auto(s, l)}}), l, 4);
    }
  }
}

namespace {

/// The sources of sources_of, as pointers into the program (no copy): the JSON writes them as
/// they are. Duplicates go by content, first seen kept; a decision has a few dozen at most.
std::vector<const std::string*> source_texts(evaluator& ev, const decision& d) {
  const dsl::program& p = ev.rules().program();
  std::vector<const std::string*> out;
  auto add = [&](const std::string& s) {
    if (s.empty()) return;
    for (const std::string* seen : out) {
      if (seen == &s || *seen == s) return;
    }
    out.push_back(&s);
  };
  const dsl::rule_info& info = p.rules[d.rule];
  add(info.source);
  if (d.exception >= 0) add(info.exceptions[static_cast<std::size_t>(d.exception)].source);
  for (auto it = d.steps.rbegin(); it != d.steps.rend(); ++it) {
    const dsl::rule_info& r = p.rules[*it];
    add(r.source);
    int x = ev.fired_exception(*it);
    if (x >= 0) add(r.exceptions[static_cast<std::size_t>(x)].source);
    for (std::uint32_t q : r.parameters_read) add(p.parameters[q].source);
  }
  return out;
}

}  // namespace

std::vector<std::string> sources_of(evaluator& ev, const decision& d) {
  std::vector<std::string> out;
  for (const std::string* s : source_texts(ev, d)) out.push_back(*s);
  return out;
}

void step_memo::reset(std::size_t rules, bool sources) {
  at.assign(rules, 0);
  size.assign(rules, 0);
  with_sources = sources;
}

void append_trace_json(std::string& out, evaluator& ev, const decision& d, bool with_sources,
                       step_memo* memo, bool categories_only) {
  const dsl::program& p = ev.rules().program();
  const std::shared_ptr<const render_index> index = index_of(ev);
  const render_index& x = *index;
  if (memo != nullptr &&
      (memo->with_sources != with_sources || memo->at.size() < p.rules.size() || categories_only)) {
    memo = nullptr;  // another kind of step, or sized for another ruleset: write every step
  }
  out += "{\"steps\":[";
  bool first = true;
  for (std::uint32_t r : d.steps) {
    const dsl::rule_info& info = p.rules[r];
    if (!first) out += ',';
    first = false;
    if (memo != nullptr && memo->size[r] != 0) {
      // Written by an earlier decision of this object: the same bytes (append copies from
      // the string itself safely, reallocating or not).
      out.append(out, memo->at[r], memo->size[r]);
      continue;
    }
    const std::size_t step_at = out.size();
    value v = ev.rule(r);
    out += "{\"rule\":";
    out += x.rule_name[r];
    if (!categories_only || dsl::categorical(info.t) || !ev.rules().reads_record(r)) {
      out += ",\"value\":";
      append_value_json(out, p, info.t, v);
    }
    out += v.unknown() ? ",\"status\":\"undetermined\",\"provisional\":"
                       : ",\"status\":\"decided\",\"provisional\":";
    // Its own confidence; out of force, also that of the period's date it rests on.
    const bool own = info.own_provisional ||
                     (ev.inst().in_force[r] == 0 && dsl::period_provisional(info, ev.inst().as_of));
    out += own ? "true" : "false";
    if (with_sources) {
      out += ",\"source\":";
      out += x.rule_source[r];
    }
    out += ev.inst().in_force[r] ? ",\"in_force\":true,\"facts\":["
                                 : ",\"in_force\":false,\"facts\":[";
    bool f1 = true;
    for (std::uint32_t f : ev.rules().facts_of(r)) {
      out += f1 ? "{\"path\":" : ",{\"path\":";
      f1 = false;
      out += x.fact_path[f];
      const value& fv = ev.facts()[f];
      if (fv.unknown()) {
        out += ",\"value\":\"(unknown)\"";
      } else if (!categories_only || dsl::categorical(p.facts[f].t)) {
        out += ",\"value\":";
        append_value_json(out, p, p.facts[f].t, fv);
      }
      out += '}';
    }
    out += "],\"parameters\":[";
    bool p1 = true;
    for (std::uint32_t q : info.parameters_read) {
      const dsl::parameter_info& pi = p.parameters[q];
      const resolved_parameter& rp = ev.inst().parameters[q];
      out += p1 ? "{\"name\":" : ",{\"name\":";
      p1 = false;
      out += x.parameter_name[q];
      out += ",\"value\":";
      append_value_json(out, p, pi.t, rp.v);
      out += ",\"from\":";
      if (rp.from) {
        out += '"';
        out += to_string(*rp.from);
        out += '"';
      } else {
        out += "null";
      }
      if (with_sources) {
        out += ",\"source\":";
        out += x.parameter_source[q];
      }
      out += pi.provisional ? ",\"confidence\":\"provisional\"}" : ",\"confidence\":\"verified\"}";
    }
    out += "],\"exception\":";
    int fired = ev.fired_exception(r);
    if (fired >= 0) {
      const dsl::exception_info& ex = info.exceptions[static_cast<std::size_t>(fired)];
      out += "{\"name\":";
      append_quoted(out, ex.name);
      if (with_sources) {
        out += ",\"source\":";
        out += x.exception_source[r][static_cast<std::size_t>(fired)];
      }
      out += '}';
    } else {
      out += "null";
    }
    out += ",\"reads\":[";
    out += x.reads[r];
    out += "]}";
    if (memo != nullptr && out.size() <= UINT32_MAX) {
      memo->at[r] = static_cast<std::uint32_t>(step_at);
      memo->size[r] = static_cast<std::uint32_t>(out.size() - step_at);
    }
  }
  out += "]}";
}

void append_decision_json(std::string& out, evaluator& ev, const decision& d, bool with_trace,
                          std::optional<lang> only, step_memo* memo) {
  const dsl::program& p = ev.rules().program();
  const dsl::rule_info& info = p.rules[d.rule];
  out += "{\"rule\":";
  const std::shared_ptr<const render_index> index = index_of(ev);
  out += index->rule_name[d.rule];
  out += ",\"title\":";
  out += index->rule_title[d.rule];
  out += ",\"status\":";
  out += d.decided ? "\"decided\"" : "\"undetermined\"";
  out += ",\"value\":";
  append_value_json(out, p, info.t, d.v);
  out += ",\"provisional\":";
  out += d.provisional ? "true" : "false";
  out += ",\"in_force\":";
  out += d.in_force ? "true" : "false";
  out += ",\"missing\":[";
  for (std::size_t i = 0; i < d.missing.size(); ++i) {
    if (i) out += ',';
    append_quoted(out, d.missing[i]);
  }
  out += "],\"documents\":[";
  bool first_doc = true;
  for (const document_request& r : documents_to_ask(p, d.missing)) {
    if (!first_doc) out += ',';
    first_doc = false;
    out += "{\"document\":";
    if (r.document < p.documents.size()) {
      append_quoted(out, p.documents[r.document].name);
    } else {
      out += "null";
    }
    out += ",\"title\":{";
    bool first_lang = true;
    for (lang l : {lang::ar, lang::en, lang::fr}) {
      if (!first_lang) out += ',';
      first_lang = false;
      append_quoted(out, lang_code(l));
      out += ':';
      append_quoted(out, document_title(p, r.document, l, builtin_catalogue()));
    }
    out += "},\"facts\":[";
    for (std::size_t i = 0; i < r.facts.size(); ++i) {
      if (i) out += ',';
      append_quoted(out, p.facts[r.facts[i]].path);
    }
    out += "]}";
  }
  out += "],\"reasons\":[";
  std::vector<std::string> reasons = reasons_english(p, d.reasons);
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    if (i) out += ',';
    append_quoted(out, reasons[i]);
  }
  out += "],\"reason_texts\":{";
  bool first_reason_lang = true;
  for (lang l : {lang::ar, lang::en, lang::fr}) {
    if (!first_reason_lang) out += ',';
    first_reason_lang = false;
    append_quoted(out, lang_code(l));
    out += ":[";
    const std::vector<reason> once = distinct_reasons(p, d.reasons);
    for (std::size_t i = 0; i < once.size(); ++i) {
      if (i) out += ',';
      append_quoted(out, reason_words(p, once[i], l, builtin_catalogue()));
    }
    out += ']';
  }
  out += "},\"sources\":[";
  {
    // source_texts' order and its duplicates by content, by the index's ids of the texts (a
    // vector the thread keeps: ids of the pack, no applicant's value).
    thread_local std::vector<std::uint32_t> seen;
    seen.clear();
    auto add = [&](std::uint32_t id) {
      if (id == dsl::no_index || std::find(seen.begin(), seen.end(), id) != seen.end()) return;
      if (!seen.empty()) out += ',';
      seen.push_back(id);
      out += index->source_json[id];
    };
    add(index->rule_source_id[d.rule]);
    if (d.exception >= 0) {
      add(index->exception_source_id[d.rule][static_cast<std::size_t>(d.exception)]);
    }
    for (auto it = d.steps.rbegin(); it != d.steps.rend(); ++it) {
      add(index->rule_source_id[*it]);
      int fired = ev.fired_exception(*it);
      if (fired >= 0) add(index->exception_source_id[*it][static_cast<std::size_t>(fired)]);
      for (std::uint32_t q : p.rules[*it].parameters_read) add(index->parameter_source_id[q]);
    }
  }
  out += "],\"explanation\":{";
  bool first = true;
  for (lang l : {lang::ar, lang::en, lang::fr}) {
    if (only && *only != l) continue;
    if (!first) out += ',';
    first = false;
    append_quoted(out, lang_code(l));
    out += ':';
    // Written into a buffer the thread keeps, then quoted into the answer.
    thread_local std::string text;
    text.clear();
    build_explanation(ev, d, l, builtin_catalogue(), false, text);
    append_quoted(out, text);
    std::fill(text.begin(), text.end(), '\0');  // the buffer outlives the answer: no value kept
  }
  out += '}';
  if (with_trace) {
    out += ",\"trace\":";
    append_trace_json(out, ev, d, true, memo);
  }
  out += '}';
}

}  // namespace dalil::engine
