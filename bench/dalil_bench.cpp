// Benchmark for "bench rule set v0" (../shared/bench/peers): the rules are bench/v0/bench.dalil,
// evaluated by the engine on the peers' generated applicants. Prints one `BENCH {json}` line,
// the contract of the peers' run.sh, with extra figures for the trace modes.
//
//   dalil_bench --in data/applicants.jsonl --out out/dalil.jsonl [--rules bench/v0] [--min-time 1]
//
// eval-only: records decoded beforehand (untimed), best pass of at least 5 and --min-time s;
// end to end: read the JSONL file, decode, evaluate, write the canonical JSONL, one pass;
// trace: evaluation recording every node value; trace JSON: the trace of the 4 decisions
// serialized; decision JSON: the full `dalil eval` decision objects (explanations included).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "dsl/checker.hpp"
#include "engine/block.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "engine/session.hpp"

using namespace dalil;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename F>
void for_each_line(const std::string& text, F&& f) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    if (eol > pos) f(std::string_view(text.data() + pos, eol - pos));
    pos = eol + 1;
  }
}

/// Writes canonical output lines: "id" and the decisions, keys in sorted order. The key
/// fragments and the JSON of every enum case are built once, so a line is a few appends.
class line_writer {
 public:
  line_writer(const dsl::program& p, std::vector<std::pair<std::string, std::uint32_t>> columns)
      : p_(p), columns_(std::move(columns)) {
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      std::string key = i == 0 ? "{" : ",";
      engine::append_json_string(key, columns_[i].first);
      key += ':';
      keys_.push_back(key);
      std::vector<std::string> cases;
      if (columns_[i].second != dsl::no_index) {
        const dsl::type& t = p.rules[columns_[i].second].t;
        if (t.k == dsl::kind::enumeration) {
          for (const std::string& c : p.enums[t.ref].cases) {
            std::string q;
            engine::append_json_string(q, c);
            cases.push_back(q);
          }
        }
      }
      enum_json_.push_back(std::move(cases));
    }
  }

  void append(std::string& out, const engine::record& rec, const engine::value* values) const {
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      out += keys_[i];
      const engine::value& v = values[i];
      if (columns_[i].second == dsl::no_index) {
        engine::append_json_string(out, rec.id());
      } else if (v.known() && v.r == engine::rep::enumeration && !enum_json_[i].empty()) {
        out += enum_json_[i][static_cast<std::size_t>(v.i)];
      } else if (v.known() && v.r == engine::rep::boolean) {
        out += v.b ? "true" : "false";
      } else {
        engine::append_value_json(out, p_, p_.rules[columns_[i].second].t, v);
      }
    }
    out += "}\n";
  }

 private:
  const dsl::program& p_;
  std::vector<std::pair<std::string, std::uint32_t>> columns_;
  std::vector<std::string> keys_;
  std::vector<std::vector<std::string>> enum_json_;
};

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs.empty() ? 0 : xs[xs.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string in = "data/applicants.jsonl";
  std::string out_path = "out/dalil.jsonl";
  std::string rules_dir = DALIL_BENCH_RULES;
  double min_time = 1.0;
  int count_passes = -1;  // --count-passes K: K eval passes then exit (instruction counting)
  bool only_e2e = false;  // --only-e2e 1: skip the in-memory stages (instruction counting)
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--in")
      in = argv[i + 1];
    else if (a == "--out")
      out_path = argv[i + 1];
    else if (a == "--rules")
      rules_dir = argv[i + 1];
    else if (a == "--min-time")
      min_time = std::stod(argv[i + 1]);
    else if (a == "--count-passes")
      count_passes = std::stoi(argv[i + 1]);
    else if (a == "--only-e2e")
      only_e2e = std::string(argv[i + 1]) == "1";
  }

  dsl::source_map sources;
  dsl::diagnostics diags;
  std::vector<dsl::ast::module> modules;
  auto program = dsl::load_and_check(rules_dir, sources, modules, diags);
  if (!program) {
    std::cerr << dsl::render_all(sources, diags);
    return 1;
  }
  auto rules = engine::build_ruleset(sources, modules, std::move(*program));
  const dsl::program& p = rules->program();
  auto inst = engine::instantiate(rules, *parse_date("2024-01-01"));
  // Output columns in sorted key order; the id column has no rule.
  std::vector<std::pair<std::string, std::uint32_t>> columns = {{"id", dsl::no_index}};
  for (const char* name : {"regular_status", "ramed", "housing_tier", "training"}) {
    columns.emplace_back(name, *p.find_rule(std::string("bench.") + name));
  }
  std::sort(columns.begin(), columns.end());
  const line_writer writer(p, columns);
  std::vector<std::uint32_t> decisions;
  for (const auto& c : columns) {
    if (c.second != dsl::no_index) decisions.push_back(c.second);
  }

  // ---- decode (untimed)
  std::string text = only_e2e ? std::string() : read_file(in);
  engine::record_reader reader(p);
  std::vector<engine::record> records;
  std::size_t line_no = 0;
  bool bad = false;
  for_each_line(text, [&](std::string_view line) {
    ++line_no;
    engine::record r;
    engine::record_error err;
    if (!reader.read(line, r, err)) {
      std::cerr << in << ": record " << line_no << ": field '" << err.field << "': " << err.message
                << "\n";
      bad = true;
      return;
    }
    records.push_back(std::move(r));
  });
  if (bad) return 1;
  // File to file, block at a time: decode up to block_size records into reused buffers,
  // evaluate them together, write their lines.
  auto file_to_file = [&](const std::string& input, std::string& output) {
    constexpr std::size_t B = engine::block_evaluator::block_size;
    engine::block_evaluator block(inst, decisions);
    std::vector<engine::record> buffers(B);
    std::vector<const engine::value*> ptrs(B);
    std::vector<engine::value> values(B * decisions.size());
    std::vector<engine::value> row(columns.size());
    std::size_t k = 0;
    std::size_t line = 0;
    auto flush = [&] {
      block.run(ptrs.data(), k);
      for (std::size_t d = 0; d < decisions.size(); ++d) {
        block.get_all(decisions[d], values.data() + d, decisions.size());
      }
      for (std::size_t i = 0; i < k; ++i) {
        std::size_t d = 0;
        for (std::size_t c = 0; c < columns.size(); ++c) {
          row[c] = columns[c].second == dsl::no_index ? engine::value{}
                                                      : values[i * decisions.size() + d++];
        }
        writer.append(output, buffers[i], row.data());
      }
      k = 0;
    };
    for_each_line(input, [&](std::string_view text) {
      ++line;
      engine::record_error err;
      if (!reader.read(text, buffers[k], err)) {
        std::cerr << in << ": record " << line << ": field '" << err.field << "': " << err.message
                  << "\n";
        bad = true;
        return;
      }
      ptrs[k] = buffers[k].facts.data();
      if (++k == B) flush();
    });
    if (k > 0) flush();
  };
  if (only_e2e) {
    std::string output;
    file_to_file(read_file(in), output);
    std::ofstream(out_path, std::ios::binary) << output;
    return bad ? 1 : 0;
  }
  const std::size_t n = records.size();
  if (n == 0) {
    std::cerr << "no records in " << in << "\n";
    return 1;
  }

  // ---- eval-only: the decoded facts laid out contiguously, record after record
  const std::size_t width = records[0].facts.size();
  std::vector<engine::value> facts(n * width);
  for (std::size_t i = 0; i < n; ++i) {
    std::copy(records[i].facts.begin(), records[i].facts.end(),
              facts.begin() + static_cast<std::ptrdiff_t>(i * width));
  }
  engine::evaluator ev(inst);
  engine::block_evaluator block(inst, decisions);
  std::vector<const engine::value*> rows(n);
  for (std::size_t i = 0; i < n; ++i) rows[i] = facts.data() + i * width;
  std::vector<engine::value> results(n * decisions.size());
  // Block at a time (the engine's batch path): the rows of up to block_size records at once.
  auto eval_pass = [&] {
    for (std::size_t first = 0; first < n; first += engine::block_evaluator::block_size) {
      std::size_t count = std::min(engine::block_evaluator::block_size, n - first);
      block.run(rows.data() + first, count);
      for (std::size_t d = 0; d < decisions.size(); ++d) {
        block.get_all(decisions[d], results.data() + first * decisions.size() + d,
                      decisions.size());
      }
    }
  };
  // Record at a time (the path of `dalil eval` and of traces), for comparison.
  auto scalar_pass = [&] {
    for (std::size_t i = 0; i < n; ++i) {
      ev.set_facts(facts.data() + i * width);
      for (std::size_t d = 0; d < decisions.size(); ++d) {
        results[i * decisions.size() + d] = ev.rule(decisions[d]);
      }
    }
  };
  if (count_passes >= 0) {
    for (int k = 0; k < count_passes; ++k) eval_pass();
    return 0;
  }
  eval_pass();  // warm-up
  std::vector<double> passes;
  auto start = clock_type::now();
  while (passes.size() < 5 || seconds_since(start) < min_time) {
    auto t0 = clock_type::now();
    eval_pass();
    passes.push_back(seconds_since(t0));
  }
  double best = *std::min_element(passes.begin(), passes.end());
  const std::vector<engine::value> block_results = results;
  std::vector<double> scalar_passes;
  for (int k = 0; k < 5; ++k) {
    auto t0 = clock_type::now();
    scalar_pass();
    scalar_passes.push_back(seconds_since(t0));
  }
  double scalar_best = *std::min_element(scalar_passes.begin(), scalar_passes.end());
  for (std::size_t k = 0; k < results.size(); ++k) {
    const engine::value &a = results[k], &b = block_results[k];
    if (a.s != b.s || (a.known() && !engine::equal_values(a, b))) {
      std::cerr << "block and record-at-a-time evaluation differ at record " << k / decisions.size()
                << "\n";
      return 1;
    }
  }

  // ---- trace recorded, trace JSON, decision JSON (a bounded sample keeps it quick)
  std::size_t sample = std::min<std::size_t>(n, 50000);
  auto t_trace = clock_type::now();
  for (std::size_t i = 0; i < sample; ++i) {
    ev.set_record(records[i]);
    for (std::uint32_t d : decisions) ev.rule_recorded(d);
  }
  double trace_s = seconds_since(t_trace);
  std::string json;
  json.reserve(1 << 20);
  std::size_t json_bytes = 0;
  auto t_json = clock_type::now();
  for (std::size_t i = 0; i < sample; ++i) {
    ev.set_record(records[i]);
    json.clear();
    for (std::uint32_t d : decisions) {
      engine::decision dec;
      dec.rule = d;
      dec.v = ev.rule_recorded(d);
      dec.steps = engine::evaluated_steps(ev, d);
      engine::append_trace_json(json, ev, dec);
    }
    json_bytes += json.size();
  }
  double trace_json_s = seconds_since(t_json);
  std::size_t dsample = std::min<std::size_t>(n, 10000);
  auto t_dec = clock_type::now();
  for (std::size_t i = 0; i < dsample; ++i) {
    ev.set_record(records[i]);
    json.clear();
    for (std::uint32_t d : decisions) {
      engine::decision dec = engine::decide(ev, d);
      engine::append_decision_json(json, ev, dec, true);
    }
    json_bytes += json.size();
  }
  double decision_json_s = seconds_since(t_dec);
  records.clear();
  records.shrink_to_fit();

  // ---- end to end: file in, canonical JSONL out
  auto t_e2e = clock_type::now();
  std::string input = read_file(in);
  std::string output;
  output.reserve(input.size() / 2);
  file_to_file(input, output);
  {
    std::ofstream o(out_path, std::ios::binary | std::ios::trunc);
    o.write(output.data(), static_cast<std::streamsize>(output.size()));
    if (!o) {
      std::cerr << "cannot write " << out_path << "\n";
      return 1;
    }
  }
  double e2e = seconds_since(t_e2e);
  if (bad) return 1;

  char line[1024];
  std::snprintf(
      line, sizeof line,
      "BENCH {\"engine\":\"dalil\",\"version\":\"0.1.0\",\"mode\":\"single thread, "
      "exact "
      "rationals\",\"n\":%zu,\"eval_rps\":%.0f,\"eval_rps_median\":%.0f,\"eval_scalar_rps\":%.0f,"
      "\"e2e_rps\":%.0f,\"trace_rps\":%.0f,\"trace_json_rps\":%.0f,"
      "\"decision_json_rps\":%.0f,\"passes\":%zu}",
      n, static_cast<double>(n) / best, static_cast<double>(n) / median(passes),
      static_cast<double>(n) / scalar_best, static_cast<double>(n) / e2e,
      static_cast<double>(sample) / trace_s, static_cast<double>(sample) / trace_json_s,
      static_cast<double>(dsample) / decision_json_s, passes.size());
  std::cout << line << "\n";
  auto rate = [](std::size_t count, double seconds) {
    return static_cast<long>(static_cast<double>(count) / seconds);
  };
  std::cerr << "dalil: n=" << n << " eval-only best " << rate(n, best)
            << " rec/s (record at a time " << rate(n, scalar_best) << "), end-to-end "
            << rate(n, e2e) << " rec/s, trace " << rate(sample, trace_s) << " rec/s, trace JSON "
            << rate(sample, trace_json_s) << " rec/s, decision JSON "
            << rate(dsample, decision_json_s) << " rec/s (" << json_bytes << " bytes)\n";
  return 0;
}
