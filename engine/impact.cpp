// Impact of a rule revision over a cohort: two block evaluations per block of records, a
// comparison of the contract decisions, and the record-at-a-time evaluator for the flips only.
#include "engine/impact.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <thread>
#include <unordered_map>

#include "engine/block.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "engine/sha256.hpp"

namespace dalil::engine {

std::string_view category_id(flip_category c) {
  switch (c) {
    case flip_category::true_to_false:
      return "true_to_false";
    case flip_category::false_to_true:
      return "false_to_true";
    case flip_category::decided_to_undetermined:
      return "decided_to_undetermined";
    case flip_category::undetermined_to_decided:
      return "undetermined_to_decided";
    case flip_category::value_change:
      return "value_change";
    case flip_category::in_force_to_out_of_force:
      return "in_force_to_out_of_force";
    case flip_category::out_of_force_to_in_force:
      return "out_of_force_to_in_force";
  }
  return "value_change";
}

void cohort_row::wipe() {
  wipe_text(applicant_id);
  wipe_text(json);
}

std::string pseudonym(const pseudonym_key& key, std::string_view applicant_id) {
  // HMAC-SHA-256 (RFC 2104) with a key shorter than the block.
  std::array<char, 64> ipad{};
  std::array<char, 64> opad{};
  for (std::size_t i = 0; i < 64; ++i) {
    auto k = static_cast<std::uint8_t>(i < key.size() ? key[i] : 0);
    ipad[i] = static_cast<char>(k ^ 0x36U);
    opad[i] = static_cast<char>(k ^ 0x5cU);
  }
  sha256_stream inner;
  inner.update({ipad.data(), ipad.size()});
  inner.update(applicant_id);
  digest d = inner.finish();
  sha256_stream outer;
  outer.update({opad.data(), opad.size()});
  outer.update(d.view());
  return outer.hex().substr(0, 16);
}

namespace {

constexpr std::size_t block = block_evaluator::block_size;

/// The contract decisions of a program: rules with an explanation (as store::contract_rules).
std::vector<std::uint32_t> contract_of(const dsl::program& p) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t r = 0; r < p.rules.size(); ++r) {
    if (!p.rules[r].explain.empty()) out.push_back(r);
  }
  return out;
}

/// What both versions share, built once: the decisions matched by name, and for each the rules
/// of its closure present in both versions, in the new version's evaluation order.
struct plan {
  std::shared_ptr<const instance> old_inst;
  std::shared_ptr<const instance> new_inst;
  std::vector<std::uint32_t> old_rules;  // per decision
  std::vector<std::uint32_t> new_rules;
  std::vector<std::uint8_t> by_value;  // booleans and enums: the value is the outcome's label
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> pairs;  // (old, new)
  bool categories_only = false;  // impact_options::categories_only
};

/// One version's evaluation state in one thread: built once, reused for every block.
struct side {
  const instance* inst;
  const dsl::program* program;
  record_reader reader;
  std::vector<record> buffers;
  block_evaluator blocks;
  evaluator scalar;

  side(const std::shared_ptr<const instance>& i, const std::vector<std::uint32_t>& rules)
      : inst(i.get()),
        program(&i->rules->program()),
        reader(i->rules->program()),
        buffers(block),
        blocks(i, rules),
        scalar(i) {
    reader.set_intake(false);  // the cohort's stored records, read as they were stored
  }
  /// The records read are applicants' personal data: zeroed, not only freed.
  ~side() {
    for (record& r : buffers) r.wipe();
  }
  side(const side&) = delete;
  side& operator=(const side&) = delete;
};

/// Zeroes what a flip holds of its applicant (the id, the values its why read).
void wipe_flip(impact_flip& f) {
  wipe_text(f.applicant_id);
  wipe_text(f.before.value);
  wipe_text(f.after.value);
  wipe_text(f.why_before);
  wipe_text(f.why_after);
}

/// The trace step of rule `r` on the evaluator's current record: what it read, and its value
/// (with `categories_only`, only the values that are categories: impact_options).
std::string step_json(evaluator& ev, std::uint32_t r, bool categories_only) {
  decision d;
  d.rule = r;
  d.steps.push_back(r);
  std::string all;
  append_trace_json(all, ev, d, false, nullptr, categories_only);
  constexpr std::string_view head = "{\"steps\":[";
  // {"steps":[STEP]}: the step alone, whose "reads" names the rules it read; their values are
  // added beside, since a why is read without the rest of the trace.
  if (all.size() <= head.size() + 3) return all;
  std::string step;
  step.reserve(all.size() + 160 * (ev.rules().program().rules[r].rules_read.size() + 1));
  step.append(all, head.size(), all.size() - head.size() - 3);
  wipe_text(all);  // the values the step read
  const dsl::program& p = ev.rules().program();
  step += ",\"read_values\":[";
  bool first = true;
  for (std::uint32_t d : p.rules[r].rules_read) {
    if (!first) step += ',';
    first = false;
    step += "{\"rule\":";
    append_json_string(step, p.rules[d].qualified);
    if (!categories_only || dsl::categorical(p.rules[d].t) || !ev.rules().reads_record(d)) {
      step += ",\"value\":";
      append_value_json(step, p, p.rules[d].t, ev.rule(d));
    }
    step += '}';
  }
  step += "]}";
  return step;
}

/// One evaluation thread's state and its share of the counts, merged at the end.
struct worker {
  const plan& pl;
  side before;
  side after;
  std::vector<std::unordered_map<std::string, std::int64_t>> cells;  // per decision: key -> n
  std::vector<std::map<std::string, std::int64_t>> why;              // per decision
  std::int64_t compared = 0;
  std::int64_t unreadable_old = 0;
  std::int64_t unreadable_new = 0;
  std::int64_t applicants_flipped = 0;
  std::string key;
  std::string vo;
  std::string vn;

  explicit worker(const plan& p)
      : pl(p),
        before(p.old_inst, p.old_rules),
        after(p.new_inst, p.new_rules),
        cells(p.old_rules.size()),
        why(p.old_rules.size()) {}
  /// The last values written (a decision's, an amount) and the last key: zeroed.
  ~worker() {
    wipe_text(key);
    wipe_text(vo);
    wipe_text(vn);
  }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  /// The label of an outcome in the transition table (see `transition`).
  static void label(std::string& out, bool in_force, bool decided, bool by_value,
                    const std::string& json) {
    out += !in_force ? "out of force" : !decided ? "undetermined" : by_value ? json : "decided";
  }

  /// Evaluates rows [begin, end) of `rows`, appending the flips to `flips` in row order.
  void run(const std::vector<cohort_row>& rows, std::size_t begin, std::size_t end,
           std::vector<impact_flip>& flips) {
    const value* old_rows[block];
    const value* new_rows[block];
    std::size_t index[block];
    std::size_t k = 0;
    for (std::size_t i = begin; i < end; ++i) {
      record_error err;
      bool a = before.reader.read(rows[i].json, before.buffers[k], err);
      bool b = after.reader.read(rows[i].json, after.buffers[k], err);
      if (!a) ++unreadable_old;
      if (!b) ++unreadable_new;
      if (!a || !b) continue;
      old_rows[k] = before.buffers[k].facts.data();
      new_rows[k] = after.buffers[k].facts.data();
      index[k++] = i;
    }
    compared += static_cast<std::int64_t>(k);
    if (k == 0) return;
    before.blocks.run(old_rows, k);
    after.blocks.run(new_rows, k);
    const dsl::program& po = *before.program;
    const dsl::program& pn = *after.program;
    for (std::size_t j = 0; j < k; ++j) {
      bool scalar_ready = false;
      bool any = false;
      for (std::size_t d = 0; d < pl.old_rules.size(); ++d) {
        std::uint32_t ro = pl.old_rules[d];
        std::uint32_t rn = pl.new_rules[d];
        value a = before.blocks.get(ro, j);
        value b = after.blocks.get(rn, j);
        bool fo = before.inst->in_force[ro] != 0;
        bool fn = after.inst->in_force[rn] != 0;
        vo.clear();
        vn.clear();
        append_value_json(vo, po, po.rules[ro].t, a);
        append_value_json(vn, pn, pn.rules[rn].t, b);
        std::optional<flip_category> cat;
        if (fo != fn) {
          cat = fo ? flip_category::in_force_to_out_of_force
                   : flip_category::out_of_force_to_in_force;
        } else if (fo && a.unknown() != b.unknown()) {
          cat = a.unknown() ? flip_category::undetermined_to_decided
                            : flip_category::decided_to_undetermined;
        } else if (fo && !a.unknown() && vo != vn) {
          cat = vo == "true" && vn == "false"   ? flip_category::true_to_false
                : vo == "false" && vn == "true" ? flip_category::false_to_true
                                                : flip_category::value_change;
        }
        key.clear();
        label(key, fo, !a.unknown(), pl.by_value[d] != 0, vo);
        key += '\x1f';
        label(key, fn, !b.unknown(), pl.by_value[d] != 0, vn);
        key += '\x1f';
        if (cat) key += category_id(*cat);
        auto it = cells[d].find(key);
        if (it == cells[d].end()) {
          cells[d].emplace(key, 1);
        } else {
          ++it->second;
        }
        if (!cat) continue;
        any = true;
        impact_flip f;
        f.applicant_id = rows[index[j]].applicant_id;
        f.decision = static_cast<std::uint32_t>(d);
        f.category = *cat;
        f.before = {fo, !a.unknown(), vo};
        f.after = {fn, !b.unknown(), vn};
        if (pl.categories_only) {
          // An amount, a date, a number: left out (an empty value), as undetermined says null.
          const ruleset& rso = *before.inst->rules;
          const ruleset& rsn = *after.inst->rules;
          if (!a.unknown() && !dsl::categorical(po.rules[ro].t) && rso.reads_record(ro)) {
            wipe_text(f.before.value);  // zeroed, and empty
          }
          if (!b.unknown() && !dsl::categorical(pn.rules[rn].t) && rsn.reads_record(rn)) {
            wipe_text(f.after.value);
          }
        }
        if (!scalar_ready) {
          before.scalar.set_record(before.buffers[j]);
          after.scalar.set_record(after.buffers[j]);
          scalar_ready = true;
        }
        explain_flip(d, f);
        ++why[d][f.why_rule];
        flips.push_back(std::move(f));
      }
      if (any) ++applicants_flipped;
    }
  }

  /// The why: the first rule of the decision's closure, in evaluation order, that either version
  /// evaluated for this record and whose value or being in force differs.
  void explain_flip(std::size_t d, impact_flip& f) {
    evaluator& eo = before.scalar;
    evaluator& en = after.scalar;
    const dsl::program& po = *before.program;
    const dsl::program& pn = *after.program;
    (void)eo.rule(pl.old_rules[d]);
    (void)en.rule(pl.new_rules[d]);
    for (auto [ro, rn] : pl.pairs[d]) {
      if (!eo.evaluated(ro) && !en.evaluated(rn)) continue;
      value a = eo.rule(ro);
      value b = en.rule(rn);
      vo.clear();
      vn.clear();
      append_value_json(vo, po, po.rules[ro].t, a);
      append_value_json(vn, pn, pn.rules[rn].t, b);
      if (vo == vn && a.unknown() == b.unknown() &&
          before.inst->in_force[ro] == after.inst->in_force[rn]) {
        continue;
      }
      f.why_rule = pn.rules[rn].qualified;
      f.why_before = step_json(eo, ro, pl.categories_only);
      f.why_after = step_json(en, rn, pl.categories_only);
      return;
    }
    // Unreachable while the decision itself is the last pair; kept for safety.
    f.why_rule = pn.rules[pl.new_rules[d]].qualified;
    f.why_before = step_json(eo, pl.old_rules[d], pl.categories_only);
    f.why_after = step_json(en, pl.new_rules[d], pl.categories_only);
  }
};

plan make_plan(const std::shared_ptr<const ruleset>& old_rules,
               const std::shared_ptr<const ruleset>& new_rules, date as_of, impact_summary& out) {
  plan pl;
  pl.old_inst = instantiate(old_rules, as_of);
  pl.new_inst = instantiate(new_rules, as_of);
  const dsl::program& po = old_rules->program();
  const dsl::program& pn = new_rules->program();
  std::map<std::string, std::uint32_t, std::less<>> old_index;
  for (std::uint32_t r = 0; r < po.rules.size(); ++r) old_index.emplace(po.rules[r].qualified, r);
  std::vector<std::uint32_t> old_contract = contract_of(po);
  std::vector<std::uint8_t> matched(po.rules.size(), 0);
  for (std::uint32_t rn : contract_of(pn)) {
    const dsl::rule_info& info = pn.rules[rn];
    auto it = old_index.find(info.qualified);
    if (it == old_index.end() || po.rules[it->second].explain.empty()) {
      out.only_new.push_back(info.qualified);
      continue;
    }
    std::uint32_t ro = it->second;
    matched[ro] = 1;
    pl.old_rules.push_back(ro);
    pl.new_rules.push_back(rn);
    auto simple = [](const dsl::type& t) {
      return t.k == dsl::kind::boolean || t.k == dsl::kind::enumeration;
    };
    pl.by_value.push_back(simple(info.t) && simple(po.rules[ro].t) ? 1 : 0);
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
    for (std::uint32_t n : new_rules->closure_of(rn)) {
      auto o = old_index.find(pn.rules[n].qualified);
      if (o != old_index.end()) pairs.emplace_back(o->second, n);
    }
    pl.pairs.push_back(std::move(pairs));
    decision_impact di;
    di.name = info.qualified;
    const dsl::module_info& m = pn.modules[info.module];
    di.module = m.name;
    di.program = m.program;
    di.osp = m.osp;
    di.title = info.title;
    for (const auto* v : {&po.rules[ro], &info}) {
      const dsl::program& vp = v == &info ? pn : po;
      if (v->t.k != dsl::kind::enumeration) continue;
      const dsl::enum_info& e = vp.enums[v->t.ref];
      for (std::size_t c = 0; c < e.cases.size() && c < e.case_titles.size(); ++c) {
        std::string label;
        append_json_string(label, e.cases[c]);
        di.case_titles[label] = e.case_titles[c];
      }
    }
    out.decisions.push_back(std::move(di));
  }
  for (std::uint32_t ro : old_contract) {
    if (!matched[ro]) out.only_old.push_back(po.rules[ro].qualified);
  }
  return pl;
}

void merge(const std::vector<std::unique_ptr<worker>>& workers, impact_summary& out) {
  for (std::size_t d = 0; d < out.decisions.size(); ++d) {
    decision_impact& di = out.decisions[d];
    std::map<std::string, std::int64_t> cells;
    std::map<std::string, std::int64_t> why;
    for (const auto& w : workers) {
      for (const auto& [k, n] : w->cells[d]) cells[k] += n;
      for (const auto& [k, n] : w->why[d]) why[k] += n;
    }
    for (const auto& [k, n] : cells) {
      std::size_t a = k.find('\x1f');
      std::size_t b = k.find('\x1f', a + 1);
      transition t;
      t.from = k.substr(0, a);
      t.to = k.substr(a + 1, b - a - 1);
      t.count = n;
      std::string_view cat = std::string_view(k).substr(b + 1);
      for (std::size_t c = 0; c < flip_category_count; ++c) {
        if (category_id(static_cast<flip_category>(c)) == cat) {
          t.category = static_cast<flip_category>(c);
          di.flips += n;
          di.by_category[c] += n;
        }
      }
      di.transitions.push_back(std::move(t));
    }
    std::stable_sort(di.transitions.begin(), di.transitions.end(),
                     [](const transition& x, const transition& y) {
                       if (x.category.has_value() != y.category.has_value()) {
                         return !x.category.has_value();
                       }
                       return x.count > y.count;
                     });
    di.why.assign(why.begin(), why.end());
    std::stable_sort(di.why.begin(), di.why.end(),
                     [](const auto& x, const auto& y) { return x.second > y.second; });
    out.flips += di.flips;
  }
  for (const auto& w : workers) {
    out.compared += w->compared;
    out.unreadable_old += w->unreadable_old;
    out.unreadable_new += w->unreadable_new;
    out.applicants_flipped += w->applicants_flipped;
  }
}

}  // namespace

impact_status run_impact(const std::shared_ptr<const ruleset>& old_rules,
                         const std::shared_ptr<const ruleset>& new_rules, cohort_source& source,
                         impact_sink& sink, const impact_options& o, impact_summary& out) {
  auto t0 = std::chrono::steady_clock::now();
  out = impact_summary{};
  out.old_hash = old_rules->hash();
  out.new_hash = new_rules->hash();
  out.as_of = o.as_of;
  plan pl = make_plan(old_rules, new_rules, o.as_of, out);
  pl.categories_only = o.categories_only;
  unsigned threads = std::max(1U, o.threads);
  // Worker 0 is this thread's, which takes blocks too once it has read the next chunk.
  std::vector<std::unique_ptr<worker>> workers;
  for (unsigned t = 0; t <= threads; ++t) workers.push_back(std::make_unique<worker>(pl));
  std::vector<cohort_row> current;
  std::vector<cohort_row> next;
  std::vector<std::vector<impact_flip>> flips;  // per block of the current chunk
  std::atomic<std::size_t> next_block{0};
  bool stopping = false;
  std::barrier<> start(static_cast<std::ptrdiff_t>(threads) + 1);
  std::barrier<> done(static_cast<std::ptrdiff_t>(threads) + 1);
  auto drain = [&](worker& w) {
    for (;;) {
      std::size_t b = next_block.fetch_add(1, std::memory_order_relaxed);
      std::size_t begin = b * block;
      if (begin >= current.size()) return;
      flips[b].clear();
      w.run(current, begin, std::min(current.size(), begin + block), flips[b]);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t <= threads; ++t) {
    pool.emplace_back([&, t] {
      for (;;) {
        start.arrive_and_wait();
        if (stopping) return;
        drain(*workers[t]);
        done.arrive_and_wait();
      }
    });
  }
  impact_status status = impact_status::done;
  bool read = source.next(o.chunk, current);
  while (read && !current.empty()) {
    out.records += static_cast<std::int64_t>(current.size());
    flips.resize((current.size() + block - 1) / block);
    next_block = 0;
    start.arrive_and_wait();
    read = source.next(o.chunk, next);
    drain(*workers[0]);
    done.arrive_and_wait();
    bool sunk = true;
    for (auto& per_block : flips) {
      for (impact_flip& f : per_block) {
        if (sunk && !sink.flip(f)) sunk = false;
        wipe_flip(f);  // handed over: the sink keeps what it needs
      }
    }
    if (!sunk) {
      status = impact_status::sink_failed;
      break;
    }
    current.swap(next);
  }
  stopping = true;
  start.arrive_and_wait();
  for (auto& t : pool) t.join();
  if (!read && status == impact_status::done) status = impact_status::source_failed;
  // The rows' ids and records (the flips were zeroed once handed to the sink).
  for (auto* rows : {&current, &next}) {
    for (cohort_row& r : *rows) r.wipe();
  }
  merge(workers, out);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return status;
}

}  // namespace dalil::engine
