// The subcommands over the store: import, batch, replay, audit, export, stats, decisions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dalil::cli {

struct import_options {
  std::string db;
  std::string rules = "rules";
  std::string file;
};
int run_import(const import_options& o);

struct batch_options {
  std::string db;
  std::string rules = "rules";
  std::string as_of;
  unsigned threads = 2;
  std::vector<std::string> where;  // FIELD=VALUE
  bool store_traces = false;
  bool quiet = false;
  std::size_t chunk = 5000;
};
int run_batch(const batch_options& o);

struct replay_options {
  std::string db;
  std::string decision;  // RUN:RECORD
  std::string actor = "cli";
};
int run_replay(const replay_options& o);

struct audit_options {
  std::string db;
};
int run_audit_verify(const audit_options& o);

struct export_options {
  std::string db;
  std::int64_t run = 0;  // 0: the latest run
  std::string format = "jsonl";
  std::string out = "-";
  std::string actor = "cli";
};
int run_export(const export_options& o);

struct stats_options {
  std::string db;
  std::string rules;            // optional: only for the names of programs and OSPs
  std::string format = "text";  // text or json
};
int run_stats(const stats_options& o);

struct show_options {
  std::string db;
  std::string applicant;
  std::string actor = "cli";
};
int run_show(const show_options& o);

}  // namespace dalil::cli
