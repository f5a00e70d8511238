// Turning rule values into decisions an official can read and a lawyer can audit.
#include "engine/decision.hpp"

#include <algorithm>
#include <set>

#include "engine/record.hpp"

namespace dalil::engine {

namespace {

struct phrases {
  const char* yes;
  const char* no;
  const char* unknown;
  const char* none;
  const char* undetermined;
  const char* reason;
  const char* provisional;
  const char* exception;
  const char* not_in_force;
};

const phrases& words(const std::string& lang) {
  static const phrases fr{"oui",
                          "non",
                          "inconnu",
                          "aucun",
                          "Impossible de conclure pour l'instant. À demander : ",
                          "Motif : ",
                          " (règle provisoire : source à confirmer)",
                          "Exception appliquée : ",
                          "Règle non applicable à cette date : en vigueur"};
  static const phrases ar{"نعم",
                          "لا",
                          "غير معروف",
                          "لا يوجد",
                          "لا يمكن البت حاليا. المطلوب: ",
                          "السبب: ",
                          " (قاعدة مؤقتة: المصدر بحاجة إلى تأكيد)",
                          "استثناء مطبق: ",
                          "القاعدة غير سارية في هذا التاريخ: سارية"};
  static const phrases en{"yes",
                          "no",
                          "unknown",
                          "none",
                          "Cannot decide yet. Ask for: ",
                          "Reason: ",
                          " (provisional rule: source to be confirmed)",
                          "Exception applied: ",
                          "Rule not applicable on this date: in force"};
  if (lang == "fr") return fr;
  if (lang == "ar") return ar;
  return en;
}

void append_quoted(std::string& out, std::string_view s) {
  append_json_string(out, s);
}

std::string join(const std::vector<std::string>& xs, const char* sep) {
  std::string out;
  for (const auto& x : xs) out += (out.empty() ? "" : sep) + x;
  return out;
}

}  // namespace

std::vector<std::uint32_t> evaluated_steps(const evaluator& ev, std::uint32_t rule) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t r : ev.rules().closure_of(rule)) {
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
  const phrases& w = words(lang);
  if (v.unknown()) return w.unknown;
  if (v.is_null()) return w.none;
  if (v.r == rep::boolean) return v.b ? w.yes : w.no;
  std::string json;
  append_value_json(json, p, t, v);
  if (!json.empty() && json.front() == '"') json = json.substr(1, json.size() - 2);
  if (t.k == dsl::kind::money) json += " MAD";
  return json;
}

namespace {

/// The value of a placeholder name seen from the rule's module; false when it names nothing.
bool placeholder(evaluator& ev, const decision& d, const std::string& name, const std::string& lang,
                 std::string& out) {
  const dsl::program& p = ev.rules().program();
  const dsl::rule_info& info = p.rules[d.rule];
  if (name == "value") {
    out = value_words(p, info.t, d.v, lang);
    return true;
  }
  if (name.rfind(p.input_name + ".", 0) == 0) {
    std::string path = name.substr(p.input_name.size() + 1);
    for (std::uint32_t f = 0; f < p.facts.size(); ++f) {
      if (p.facts[f].path == path) {
        out = value_words(p, p.facts[f].t, ev.facts()[f], lang);
        return true;
      }
    }
    return false;
  }
  const std::string& module = p.modules[info.module].name;
  std::string qualified = module;
  qualified += '.';
  qualified += name;
  for (const std::string& q : {qualified, name}) {
    if (auto r = p.find_rule(q)) {
      out = value_words(p, p.rules[*r].t, ev.rule(*r), lang);
      return true;
    }
    for (std::uint32_t i = 0; i < p.parameters.size(); ++i) {
      if (p.parameters[i].qualified == q) {
        out = value_words(p, p.parameters[i].t, ev.inst().parameters[i].v, lang);
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::string explain(evaluator& ev, const decision& d, const std::string& lang) {
  const dsl::program& p = ev.rules().program();
  const dsl::rule_info& info = p.rules[d.rule];
  const phrases& w = words(lang);
  std::string out;
  auto tmpl = info.explain.find(lang);
  if (!ev.inst().in_force[d.rule]) {
    std::string period;
    if (info.in_force_from) period += " " + to_string(*info.in_force_from);
    period += " →";
    if (info.in_force_until) period += " " + to_string(*info.in_force_until);
    out = info.qualified + ": " + w.not_in_force + period + ".";
  } else if (tmpl == info.explain.end()) {
    out = info.qualified + ": " + value_words(p, info.t, d.v, lang);
  } else {
    const std::string& t = tmpl->second;
    std::size_t i = 0;
    while (i < t.size()) {
      std::size_t open = t.find('{', i);
      if (open == std::string::npos) {
        out += t.substr(i);
        break;
      }
      std::size_t close = t.find('}', open);
      if (close == std::string::npos) {
        out += t.substr(i);
        break;
      }
      out += t.substr(i, open - i);
      std::string v;
      out += placeholder(ev, d, t.substr(open + 1, close - open - 1), lang, v)
                 ? v
                 : t.substr(open, close - open + 1);
      i = close + 1;
    }
  }
  if (d.exception >= 0) {
    out += std::string(" ") + w.exception +
           info.exceptions[static_cast<std::size_t>(d.exception)].name + ".";
  }
  if (!d.decided && ev.inst().in_force[d.rule]) {
    if (!d.missing.empty()) out += std::string(" ") + w.undetermined + join(d.missing, ", ") + ".";
    if (!d.reasons.empty()) {
      out += std::string(" ") + w.reason + join(reasons_english(p, d.reasons), "; ") + ".";
    }
  }
  if (d.provisional) out += w.provisional;
  return out;
}

std::vector<std::string> sources_of(evaluator& ev, const decision& d) {
  const dsl::program& p = ev.rules().program();
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& s) {
    if (!s.empty() && seen.insert(s).second) out.push_back(s);
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

void append_trace_json(std::string& out, evaluator& ev, const decision& d, bool with_sources) {
  const dsl::program& p = ev.rules().program();
  out += "{\"steps\":[";
  bool first = true;
  for (std::uint32_t r : d.steps) {
    const dsl::rule_info& info = p.rules[r];
    value v = ev.rule(r);
    if (!first) out += ',';
    first = false;
    out += "{\"rule\":";
    append_quoted(out, info.qualified);
    out += ",\"value\":";
    append_value_json(out, p, info.t, v);
    out += ",\"status\":";
    out += v.unknown() ? "\"undetermined\"" : "\"decided\"";
    out += ",\"provisional\":";
    out += info.own_provisional ? "true" : "false";
    if (with_sources) {
      out += ",\"source\":";
      append_quoted(out, info.source);
    }
    out += ",\"in_force\":";
    out += ev.inst().in_force[r] ? "true" : "false";
    out += ",\"facts\":[";
    bool f1 = true;
    for (std::uint32_t f : ev.rules().facts_of(r)) {
      if (!f1) out += ',';
      f1 = false;
      out += "{\"path\":";
      append_quoted(out, p.facts[f].path);
      out += ",\"value\":";
      const value& fv = ev.facts()[f];
      if (fv.unknown()) {
        out += "\"(unknown)\"";
      } else {
        append_value_json(out, p, p.facts[f].t, fv);
      }
      out += '}';
    }
    out += "],\"parameters\":[";
    bool p1 = true;
    for (std::uint32_t q : info.parameters_read) {
      const dsl::parameter_info& pi = p.parameters[q];
      const resolved_parameter& rp = ev.inst().parameters[q];
      if (!p1) out += ',';
      p1 = false;
      out += "{\"name\":";
      append_quoted(out, pi.qualified);
      out += ",\"value\":";
      append_value_json(out, p, pi.t, rp.v);
      out += ",\"from\":";
      if (rp.from) {
        append_quoted(out, to_string(*rp.from));
      } else {
        out += "null";
      }
      if (with_sources) {
        out += ",\"source\":";
        append_quoted(out, pi.source);
      }
      out += ",\"confidence\":";
      out += pi.provisional ? "\"provisional\"" : "\"verified\"";
      out += '}';
    }
    out += "],\"exception\":";
    int x = ev.fired_exception(r);
    if (x >= 0) {
      const dsl::exception_info& ex = info.exceptions[static_cast<std::size_t>(x)];
      out += "{\"name\":";
      append_quoted(out, ex.name);
      if (with_sources) {
        out += ",\"source\":";
        append_quoted(out, ex.source);
      }
      out += '}';
    } else {
      out += "null";
    }
    out += ",\"reads\":[";
    bool r1 = true;
    for (std::uint32_t d : info.rules_read) {
      if (!r1) out += ',';
      r1 = false;
      append_quoted(out, p.rules[d].qualified);
    }
    out += "]}";
  }
  out += "]}";
}

void append_decision_json(std::string& out, evaluator& ev, const decision& d, bool with_trace) {
  const dsl::program& p = ev.rules().program();
  const dsl::rule_info& info = p.rules[d.rule];
  out += "{\"rule\":";
  append_quoted(out, info.qualified);
  out += ",\"status\":";
  out += d.decided ? "\"decided\"" : "\"undetermined\"";
  out += ",\"value\":";
  append_value_json(out, p, info.t, d.v);
  out += ",\"provisional\":";
  out += d.provisional ? "true" : "false";
  out += ",\"missing\":[";
  for (std::size_t i = 0; i < d.missing.size(); ++i) {
    if (i) out += ',';
    append_quoted(out, d.missing[i]);
  }
  out += "],\"reasons\":[";
  std::vector<std::string> reasons = reasons_english(p, d.reasons);
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    if (i) out += ',';
    append_quoted(out, reasons[i]);
  }
  out += "],\"sources\":[";
  std::vector<std::string> sources = sources_of(ev, d);
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (i) out += ',';
    append_quoted(out, sources[i]);
  }
  out += "],\"explanation\":{";
  bool first = true;
  for (const char* lang : {"ar", "en", "fr"}) {
    if (!first) out += ',';
    first = false;
    append_quoted(out, lang);
    out += ':';
    append_quoted(out, explain(ev, d, lang));
  }
  out += '}';
  if (with_trace) {
    out += ",\"trace\":";
    append_trace_json(out, ev, d);
  }
  out += '}';
}

}  // namespace dalil::engine
