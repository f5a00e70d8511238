// dalil_loadgen: an open-loop HTTP/1.1 load generator for `dalil serve` (coordinated omission
// counted: latency runs from each request's intended send time). See bench/loadgen.hpp.
//
//   dalil_loadgen --url http://127.0.0.1:8080/api/v1/evaluate --rate 10000 --duration 30s
//     --warmup 5s --connections 32 --bodies bodies.jsonl --header 'Authorization: Bearer T' --json
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <unordered_set>

#include "bench/loadgen.hpp"

namespace {

/// One body per non-empty line (a final "\r" is dropped), in file order.
bool read_bodies(const std::string& path, std::vector<std::string>& bodies, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot be opened for reading";
    return false;
  }
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) bodies.push_back(std::move(line));
  }
  if (in.bad()) {
    error = path + ": read failed";
    return false;
  }
  if (bodies.empty()) {
    error = path + ": no request body in it (one body per line is expected)";
    return false;
  }
  return true;
}

bool parse_header(const std::string& text, std::pair<std::string, std::string>& out,
                  std::string& error) {
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || text.find_first_of("\r\n") != std::string::npos ||
      text.substr(0, colon).find_first_of(" \t") != std::string::npos) {
    error = "--header must be 'Name: value' on one line (the value is not shown here)";
    return false;
  }
  std::size_t value = colon + 1;
  while (value < text.size() && (text[value] == ' ' || text[value] == '\t')) ++value;
  out = {text.substr(0, colon), text.substr(value)};
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Open-loop HTTP/1.1 load generator: a fixed request rate, latency counted from "
      "each request's intended send time (coordinated omission counted)"};
  std::string url_text;
  std::string duration = "30s";
  std::string warmup = "0s";
  std::string timeout = "2s";
  std::string bodies_path;
  std::vector<std::string> headers;
  std::size_t min_distinct = 1;
  bool json = false;
  dalil::bench::options o;
  app.add_option("--url", url_text, "http://HOST:PORT/PATH")->required();
  app.add_option("--rate", o.rate, "Requests per second (the schedule; open loop)")->required();
  app.add_option("--duration", duration, "Measured time: 30, 30s or 500ms (default 30s)");
  app.add_option("--warmup", warmup, "Time at the same rate before measuring (default 0s)");
  app.add_option("--timeout", timeout,
                 "An answer not complete this long after sending, or a request not sent this "
                 "long after it was due, is a timeout (default 2s)");
  app.add_option("--connections", o.connections, "Keep-alive connections (default 16)");
  app.add_option("--method", o.method, "POST (default) or GET (no body)")
      ->check(CLI::IsMember({"POST", "GET"}));
  app.add_option("--bodies", bodies_path, "File of request bodies, one per line, cycled");
  app.add_option("--min-distinct", min_distinct,
                 "Refuse to run with fewer distinct bodies than this (default 1)");
  app.add_option("--content-type", o.content_type, "Of the bodies (default application/json)");
  app.add_option("--header", headers, "'Name: value' added to every request; repeatable");
  app.add_option("--server-pid", o.server_pid,
                 "Also measure this process's CPU time (/proc/PID/stat) over the window");
  app.add_flag("--busy-poll", o.busy_poll,
               "Spin instead of sleeping between events (a whole core; no wake-up delay)");
  app.add_flag("--json", json, "Print one JSON object instead of text");
  std::string json_out;
  app.add_option("--json-out", json_out, "Also write the JSON object to this file");
  bool summary = false;
  app.add_flag("--summary", summary,
               "Print one line of key=value figures instead (for scripts; see bench/loadgen.hpp)");
  CLI11_PARSE(app, argc, argv);

  std::string error;
  auto target = dalil::bench::parse_url(url_text, error);
  if (!target) {
    std::cerr << "dalil_loadgen: --url: " << error << "\n";
    return 2;
  }
  o.target = *target;
  for (auto [text, field] : {std::pair{&duration, &o.duration}, std::pair{&warmup, &o.warmup},
                             std::pair{&timeout, &o.timeout}}) {
    auto d = dalil::bench::parse_duration(*text);
    if (!d) {
      std::cerr << "dalil_loadgen: '" << *text
                << "' is not a duration (a whole number of seconds, or of ms with 'ms')\n";
      return 2;
    }
    *field = *d;
  }
  if (o.timeout.count() <= 0) {
    std::cerr << "dalil_loadgen: --timeout must be positive\n";
    return 2;
  }
  for (const std::string& h : headers) {
    std::pair<std::string, std::string> header;
    if (!parse_header(h, header, error)) {
      std::cerr << "dalil_loadgen: " << error << "\n";
      return 2;
    }
    o.headers.push_back(std::move(header));
  }
  if (o.method == "GET") {
    if (!bodies_path.empty()) {
      std::cerr << "dalil_loadgen: --bodies needs --method POST (a GET carries no body)\n";
      return 2;
    }
    o.bodies.emplace_back();
  } else {
    if (bodies_path.empty()) {
      std::cerr << "dalil_loadgen: POST needs --bodies FILE (one request body per line)\n";
      return 2;
    }
    if (!read_bodies(bodies_path, o.bodies, error)) {
      std::cerr << "dalil_loadgen: --bodies " << error << "\n";
      return 2;
    }
    const std::unordered_set<std::string_view> distinct(o.bodies.begin(), o.bodies.end());
    if (distinct.size() < min_distinct) {
      std::cerr << "dalil_loadgen: --bodies " << bodies_path << " has " << distinct.size()
                << " distinct bodies, fewer than --min-distinct " << min_distinct << "\n";
      return 2;
    }
  }

  auto result = dalil::bench::run(o, error);
  if (!result) {
    std::cerr << "dalil_loadgen: " << error << "\n";
    return 1;
  }
  if (!json_out.empty()) {
    std::ofstream out(json_out, std::ios::binary | std::ios::trunc);
    out << dalil::bench::to_json(o, *result) << "\n";
    if (!out.flush()) {
      std::cerr << "dalil_loadgen: --json-out " << json_out << ": write failed\n";
      return 1;
    }
  }
  if (summary) {
    std::cout << dalil::bench::to_summary(o, *result) << "\n";
  } else if (json) {
    std::cout << dalil::bench::to_json(o, *result) << "\n";
  } else {
    std::cout << dalil::bench::to_text(o, *result);
  }
  return 0;
}
