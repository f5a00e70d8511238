// Which runs a reader sees by default (one policy for the CLI and the server), and how a run's
// filter is named in messages.
#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "store/store.hpp"

namespace dalil::store {

std::vector<run_info> current_runs(const std::vector<run_info>& all) {
  std::map<std::tuple<std::string, std::string, std::string>, run_info> newest;
  for (const auto& r : all) {
    if (r.status != "complete") continue;
    auto key = std::make_tuple(r.ruleset_hash, r.as_of, r.filter);
    auto it = newest.find(key);
    if (it == newest.end() || it->second.generation < r.generation) newest[key] = r;
  }
  std::vector<run_info> out;
  out.reserve(newest.size());
  for (const auto& kv : newest) out.push_back(kv.second);
  std::sort(out.begin(), out.end(),
            [](const run_info& a, const run_info& b) { return a.run_id < b.run_id; });
  return out;
}

std::string filter_fields(const std::vector<record_filter>& filter) {
  std::string out;
  for (const auto& f : filter) out += (out.empty() ? "" : ", ") + f.path;
  return out;
}

std::string filter_text(const std::vector<record_filter>& filter) {
  std::string out;
  for (const auto& f : filter) out += (out.empty() ? "" : " and ") + f.path + "=" + f.value;
  return out;
}

}  // namespace dalil::store
