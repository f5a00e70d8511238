// Suppressed statistics and the figures of stored runs (stats.hpp).
#include "server/stats.hpp"

#include <algorithm>
#include <string_view>
#include <tuple>

#include <boost/json.hpp>

#include "engine/record.hpp"
#include "server/databases.hpp"
#include "store/batch.hpp"

namespace dalil::server {

namespace json = boost::json;

bool values_closed(const dsl::rule_info* r) {
  return r != nullptr && dsl::categorical(r->t);
}

bool closed_value(const dsl::program& p, const dsl::rule_info* r, std::string_view value) {
  if (r == nullptr) return false;
  if (r->t.k == dsl::kind::boolean) return value == "true" || value == "false";
  if (r->t.k != dsl::kind::enumeration || r->t.ref >= p.enums.size()) return false;
  for (const std::string& c : p.enums[r->t.ref].cases) {
    // A case is a name: its JSON is the name in quotes.
    if (value.size() == c.size() + 2 && value.front() == '"' && value.back() == '"' &&
        value.substr(1, c.size()) == c) {
      return true;
    }
  }
  return false;
}

std::vector<bool> suppress(const std::vector<std::int64_t>& counts, bool hide_zero) {
  std::vector<bool> hidden(counts.size(), false);
  std::size_t hidden_nonzero = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    std::int64_t n = counts[i];
    if (n < suppressed_below && (n > 0 || hide_zero)) hidden[i] = true;
    if (hidden[i] && n > 0) ++hidden_nonzero;
  }
  if (hidden_nonzero == 1) {
    // The total minus the cells shown would give the hidden one: hide the smallest other.
    std::size_t pick = counts.size();
    for (std::size_t i = 0; i < counts.size(); ++i) {
      if (hidden[i] || counts[i] <= 0) continue;
      if (pick == counts.size() || counts[i] < counts[pick]) pick = i;
    }
    if (pick < counts.size()) hidden[pick] = true;
  }
  return hidden;
}

std::string run_filter_fields(std::string_view text, const dsl::program& p) {
  std::vector<std::string> said;
  constexpr std::string_view joint = " and ";
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t eq = text.find('=', start);
    if (eq == std::string_view::npos) break;
    const std::size_t next = text.find(joint, start);
    const std::string_view path = text.substr(start, eq - start);
    if (const dsl::field_info* f = dsl::field_at(p, path)) {
      std::string item(path);
      // A value of a closed set (a yes or no, an enumeration's case) is a category, not a
      // person's: said, so that runs on status=refugee and on status=regular can be told apart.
      const std::string_view value =
          eq < next
              ? text.substr(eq + 1, (next == std::string_view::npos ? text.size() : next) - eq - 1)
              : std::string_view();
      if (f->t.k == dsl::kind::boolean && (value == "1" || value == "true")) {
        item += "=true";  // the batch keeps a yes or no as 1 or 0
      } else if (f->t.k == dsl::kind::boolean && (value == "0" || value == "false")) {
        item += "=false";
      } else if (f->t.k == dsl::kind::enumeration && f->t.ref < p.enums.size()) {
        const std::vector<std::string>& cases = p.enums[f->t.ref].cases;
        if (std::find(cases.begin(), cases.end(), value) != cases.end()) {
          item += '=';
          item += value;
        }
      }
      if (std::find(said.begin(), said.end(), item) == said.end()) said.push_back(std::move(item));
    }
    if (next == std::string_view::npos) break;
    start = next + joint.size();
  }
  std::string out;
  for (const std::string& item : said) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

namespace {

void append_string(std::string& out, std::string_view s) {
  engine::append_json_string(out, s);
}

void append_count(std::string& out, std::int64_t n, bool hidden) {
  out += hidden ? std::string("null") : std::to_string(n);
}

/// A single count that adds up with nothing (a run's totals): hidden from 1 to 9.
bool small(std::int64_t n) {
  return n > 0 && n < suppressed_below;
}

/// The counts of one contract decision over a run, missing facts included.
struct decision_figures {
  store::outcome_counts outcomes;
  std::map<std::string, std::int64_t> missing;  // fact (JSON string) → undetermined in force
};

void append_values(std::string& out, const std::map<std::string, std::int64_t>& values,
                   const std::vector<bool>& hidden, std::size_t first, bool closed) {
  out += '[';
  std::size_t k = first;
  bool comma = false;
  for (const auto& [value, n] : values) {
    if (comma) out += ',';
    comma = true;
    out += "{\"value\":";
    out += hidden[k] && !closed ? std::string_view("null") : std::string_view(value);
    out += ",\"count\":";
    append_count(out, n, hidden[k]);
    out += hidden[k] ? ",\"suppressed\":true}" : ",\"suppressed\":false}";
    ++k;
  }
  out += ']';
}

/// One decision's row: the in-force cells and the out-of-force count add up to the decided
/// records; the out-of-force cells add up to the out-of-force count; a hidden out-of-force
/// count hides its cells too, and a hidden undetermined count hides the facts behind it.
void append_decision(std::string& out, const std::string& rule, const dsl::module_info* mi,
                     const decision_figures& f, bool closed) {
  const store::outcome_counts& c = f.outcomes;
  std::vector<std::int64_t> top;
  for (const auto& [v, n] : c.values) top.push_back(n);
  top.push_back(c.undetermined);
  top.push_back(c.out_of_force);
  std::vector<bool> top_hidden = suppress(top);
  bool oof_hidden = top_hidden.back();
  bool undetermined_hidden = top_hidden[top.size() - 2];
  std::vector<std::int64_t> oof;
  for (const auto& [v, n] : c.out_of_force_values) oof.push_back(n);
  oof.push_back(c.out_of_force_undetermined);
  std::vector<bool> oof_hidden_cells = suppress(oof);
  if (oof_hidden) oof_hidden_cells.assign(oof.size(), true);
  out += "{\"decision\":";
  append_string(out, rule);
  out += ",\"program\":";
  append_string(out, mi ? mi->program : std::string());
  out += ",\"osp\":";
  append_string(out, mi ? mi->osp : std::string());
  out += ",\"in_force\":{\"values\":";
  append_values(out, c.values, top_hidden, 0, closed);
  out += ",\"undetermined\":";
  append_count(out, c.undetermined, undetermined_hidden);
  // The facts that would settle the undetermined decisions, most often missing first. A
  // decision may miss several facts, so they need not add up to the undetermined count; they
  // are suppressed as if they did.
  out += ",\"missing\":[";
  if (!undetermined_hidden) {
    std::vector<std::pair<std::string, std::int64_t>> facts(f.missing.begin(), f.missing.end());
    std::stable_sort(facts.begin(), facts.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    std::vector<std::int64_t> counts;
    counts.reserve(facts.size());
    for (const auto& fact : facts) counts.push_back(fact.second);
    std::vector<bool> hidden = suppress(counts);
    for (std::size_t i = 0; i < facts.size(); ++i) {
      if (i) out += ',';
      out += "{\"fact\":" + facts[i].first + ",\"count\":";
      append_count(out, facts[i].second, hidden[i]);
      out += '}';
    }
  }
  out += "]},\"out_of_force\":{\"count\":";
  append_count(out, c.out_of_force, oof_hidden);
  out += ",\"values\":";
  append_values(out, c.out_of_force_values, oof_hidden_cells, 0, closed);
  out += ",\"undetermined\":";
  append_count(out, c.out_of_force_undetermined, oof_hidden_cells.back());
  out += "}}";
}

store::result<std::string> one_run(store::store& db, const store::run_info& run) {
  std::string name = "run " + std::to_string(run.run_id);
  auto as_of = parse_date(run.as_of);
  if (!as_of) return store::fail(store::errc::damaged, name + " has no valid date");
  auto source = db.ruleset_source(run.ruleset_hash);
  if (!source) return store::fail(source.error().code, name + ": " + source.error().message);
  std::string diagnostics;
  auto rules = store::stored_ruleset(run.ruleset_hash, *source, diagnostics);
  if (!rules) {
    return store::fail(store::errc::failed,
                       name + ": its ruleset " + run.ruleset_hash.substr(0, 12) +
                           " no longer checks (dalil stats --rules shows why)");
  }
  store::run_decisions described = store::describe_run(rules, *as_of);
  std::int64_t sets = 0;
  std::int64_t errors = 0;
  std::vector<decision_figures> figures;
  std::vector<store::decision_entry> entries;
  auto counted =
      db.each_decision(run.run_id, [&](const std::string&, const store::decision_set& d) {
        ++sets;
        if (!store::read_decisions(d.decisions_json, d.format, described.in_force, entries)) {
          ++errors;
          return;
        }
        if (figures.size() < entries.size()) figures.resize(entries.size());
        for (std::size_t i = 0; i < entries.size(); ++i) {
          const store::decision_entry& e = entries[i];
          store::outcome_counts& c = figures[i].outcomes;
          if (e.in_force) {
            if (e.decided) {
              ++c.values[std::string(e.value)];
            } else {
              ++c.undetermined;
              for (std::string_view fact : store::split_json_array(e.missing)) {
                ++figures[i].missing[std::string(fact)];
              }
            }
          } else {
            ++c.out_of_force;
            if (e.decided) {
              ++c.out_of_force_values[std::string(e.value)];
            } else {
              ++c.out_of_force_undetermined;
            }
          }
        }
      });
  if (!counted) return store::fail(counted.error().code, name + ": " + counted.error().message);
  const dsl::program& program = rules->program();
  std::string out = "{\"run\":" + std::to_string(run.run_id) + ",\"as_of\":";
  append_string(out, run.as_of);
  out += ",\"ruleset\":";
  append_string(out, run.ruleset_hash);
  out += ",\"filter\":";
  append_string(out, run_filter_fields(run.filter, program));
  out += ",\"status\":";
  append_string(out, run.status);
  out += ",\"generation\":" + std::to_string(run.generation);
  out += ",\"applicants\":";
  append_count(out, sets, small(sets));
  out += ",\"records_not_fitting_schema\":";
  append_count(out, errors, small(errors));
  out += ",\"decisions\":[";
  // In name order (their module first), as dalil stats lists them. A run of fewer than
  // suppressed_below applicants lists no decision: its applicants are few enough to be known
  // (a run's filter may pick out one), and the values its cells name would describe them.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < figures.size() && i < described.names.size() && !small(sets); ++i) {
    order.push_back(i);
  }
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return described.names[a] < described.names[b]; });
  bool comma = false;
  for (std::size_t i : order) {
    const std::string& rule = described.names[i];
    std::string module = rule.substr(0, rule.find('.'));
    const dsl::module_info* mi = nullptr;
    for (const auto& m : program.modules) {
      if (m.name == module) mi = &m;
    }
    if (comma) out += ',';
    comma = true;
    auto r = program.find_rule(rule);
    append_decision(out, rule, mi, figures[i], values_closed(r ? &program.rules[*r] : nullptr));
  }
  out += "]}";
  return out;
}

}  // namespace

std::optional<stats_month> parse_month(std::string_view text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  int year = 0;
  int month = 0;
  for (std::size_t i = 0; i < 7; ++i) {
    if (i == 4) continue;
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    (i < 4 ? year : month) = (i < 4 ? year : month) * 10 + (text[i] - '0');
  }
  if (year < 2000 || month < 1 || month > 12) return std::nullopt;
  return stats_month{year, month};
}

std::string to_string(const stats_month& m) {
  std::string out = std::to_string(m.year) + '-';
  if (m.month < 10) out += '0';
  return out + std::to_string(m.month);
}

stats_month next_month(const stats_month& m) {
  return m.month == 12 ? stats_month{m.year + 1, 1} : stats_month{m.year, m.month + 1};
}

std::optional<stats_month> month_of(std::string_view store_time) {
  return parse_month(store_time.substr(0, 7));
}

stats_month last_released(std::chrono::system_clock::time_point now) {
  // The month of (now - delay) is not over by the delay yet; the one before it is.
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(now - release_delay)};
  stats_month current{static_cast<int>(ymd.year()), static_cast<int>(unsigned(ymd.month()))};
  return current.month == 1 ? stats_month{current.year - 1, 12}
                            : stats_month{current.year, current.month - 1};
}

store::time_span span_of(const stats_month& m) {
  return {to_string(m) + "-01T00:00:00Z", to_string(next_month(m)) + "-01T00:00:00Z"};
}

store::status counter_figures::connect() {
  if (store_) return {};
  // Without the master key: the figures read only what the store keeps in plain (a key rotated
  // while serving would otherwise have to be read again here).
  auto c = store::counter_store::open(db_);
  if (!c) return c.error();
  store_ = std::move(*c);
  return {};
}

namespace {

/// A month's counts as kept in the store: {"total", "cells": [[rule, status, value, in_force,
/// count]], "overrides": [[rule, reviewed, overridden]]}.
std::string counts_json(const month_counts& c) {
  json::object o;
  o["total"] = c.total;
  json::array cells;
  for (const store::counter_cell& x : c.cells) {
    cells.push_back(json::array{json::string(x.rule), json::string(x.status), json::string(x.value),
                                x.in_force, x.count});
  }
  o["cells"] = std::move(cells);
  json::array overrides;
  for (const store::override_cell& x : c.overrides) {
    overrides.push_back(json::array{json::string(x.rule), x.reviewed, x.overridden});
  }
  o["overrides"] = std::move(overrides);
  return json::serialize(o);
}

std::optional<month_counts> counts_from_json(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  const json::value* total = o.if_contains("total");
  const json::value* cells = o.if_contains("cells");
  const json::value* overrides = o.if_contains("overrides");
  if (!total || !total->is_int64() || !cells || !cells->is_array() || !overrides ||
      !overrides->is_array()) {
    return std::nullopt;
  }
  month_counts c;
  c.total = total->as_int64();
  for (const json::value& x : cells->as_array()) {
    const json::array* a = x.if_array();
    if (!a || a->size() != 5 || !(*a)[0].is_string() || !(*a)[1].is_string() ||
        !(*a)[2].is_string() || !(*a)[3].is_bool() || !(*a)[4].is_int64()) {
      return std::nullopt;
    }
    c.cells.push_back({std::string((*a)[0].as_string()), std::string((*a)[1].as_string()),
                       std::string((*a)[2].as_string()), (*a)[3].as_bool(), (*a)[4].as_int64()});
  }
  for (const json::value& x : overrides->as_array()) {
    const json::array* a = x.if_array();
    if (!a || a->size() != 3 || !(*a)[0].is_string() || !(*a)[1].is_int64() ||
        !(*a)[2].is_int64()) {
      return std::nullopt;
    }
    c.overrides.push_back(
        {std::string((*a)[0].as_string()), (*a)[1].as_int64(), (*a)[2].as_int64()});
  }
  return c;
}

}  // namespace

store::result<std::shared_ptr<const month_counts>> counter_figures::counts(const stats_month& m) {
  std::lock_guard lock(mutex_);
  if (auto it = by_month_.find(m); it != by_month_.end()) return it->second;
  if (auto c = connect(); !c) return c.error();
  const std::string name = to_string(m);
  // The figures a process released first are the month's, for every process and every later
  // start: a decision stamped into the month after that (a clock behind, a slow commit) changes
  // no release, so that no two readings of a month differ.
  auto kept = store_->month_figures(name);
  if (!kept) return kept.error();
  if (kept->empty()) {
    const store::time_span span = span_of(m);
    // The three counts in one snapshot: a decision committed meanwhile is in all or none.
    auto tally = store_->tally_within(span);
    if (!tally) return tally.error();
    month_counts counted;
    counted.cells = std::move(tally->cells);
    counted.overrides = std::move(tally->overrides);
    counted.total = tally->total;
    kept = store_->keep_month_figures(name, counts_json(counted));
    if (!kept) return kept.error();
  }
  auto parsed = counts_from_json(*kept);
  if (!parsed) {
    return store::fail(store::errc::damaged,
                       "the figures kept for " + name + " are not what dalil keeps");
  }
  auto counts = std::make_shared<const month_counts>(std::move(*parsed));
  by_month_.emplace(m, counts);
  return counts;
}

store::result<std::optional<stats_month>> counter_figures::first_month() {
  std::lock_guard lock(mutex_);
  if (auto c = connect(); !c) return c.error();
  auto first = store_->first_counter_activity();
  if (!first) return first.error();
  return month_of(*first);
}

store::result<std::string> run_figures::current_runs_json() {
  std::lock_guard lock(mutex_);
  if (!db_) {
    auto db = open_database(db_path_);
    if (!db) return db.error();
    db_ = std::move(*db);
  }
  auto all = db_->runs();
  if (!all) return all.error();
  std::string out = "[";
  bool comma = false;
  for (const store::run_info& run : store::current_runs(*all)) {
    auto it = by_run_.find(run.run_id);
    if (it == by_run_.end()) {
      auto figures = one_run(*db_, run);
      if (!figures) return figures.error();
      it = by_run_.emplace(run.run_id, std::move(*figures)).first;
    }
    if (comma) out += ',';
    comma = true;
    out += it->second;
  }
  out += ']';
  return out;
}

}  // namespace dalil::server
