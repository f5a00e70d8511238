// dalil: check, format, test and evaluate rule packs; see `dalil --help`.
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#include "cli/account_commands.hpp"
#include "cli/analysis_commands.hpp"
#include "cli/commands.hpp"
#include "cli/data_commands.hpp"
#include "cli/doc.hpp"
#include "cli/generate.hpp"
#include "cli/impact_command.hpp"
#include "cli/pg_commands.hpp"
#include "cli/publish_command.hpp"
#include "cli/server_commands.hpp"
#include "cli/store_commands.hpp"
#include "store/test_hooks.hpp"

namespace {

/// The --db of the commands that also work on a PostgreSQL store (docs/postgresql.md).
constexpr const char* db_either_help =
    "SQLite file, or a PostgreSQL connection string (docs/postgresql.md; never printed)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Dalil: SNIA eligibility rules with the evidence for every decision"};
  app.require_subcommand(1);

  dalil::cli::check_options check;
  auto* check_cmd = app.add_subcommand("check", "Parse and check a rule pack; exit 1 on errors");
  check_cmd->add_option("path", check.path, "A .dalil file or a directory of them")->required();

  dalil::cli::fmt_options fmt;
  auto* fmt_cmd = app.add_subcommand("fmt", "Rewrite .dalil files in the canonical layout");
  fmt_cmd->add_option("paths", fmt.paths, ".dalil files or directories of them")->required();
  fmt_cmd->add_flag("--check", fmt.check, "Change nothing; exit 1 if a file is not formatted");

  dalil::cli::eval_options ev;
  auto* eval_cmd = app.add_subcommand("eval", "Decide for one applicant, with the evidence");
  eval_cmd->add_option("--rules", ev.rules, "Rule pack directory")->required();
  eval_cmd->add_option("--as-of", ev.as_of, "Date of the decision (YYYY-MM-DD)")->required();
  eval_cmd->add_option("--facts", ev.facts, "Applicant record (JSON file, or - for stdin)");
  eval_cmd->add_option("--rule", ev.only, "Decide only this rule (module.name); repeatable");
  eval_cmd->add_flag("--all", ev.all,
                     "Every rule, helpers included (default: rules with an explanation)");
  eval_cmd->add_option("--format", ev.format, "json or text")
      ->check(CLI::IsMember({"json", "text"}));
  eval_cmd
      ->add_option("--lang", ev.lang,
                   "Language of the text output (default fr); with --format json, "
                   "explanations in this language alone (default: fr, ar and en)")
      ->check(CLI::IsMember({"fr", "ar", "en"}));
  eval_cmd->add_flag("!--no-trace", ev.trace, "Leave the trace out of the JSON");

  dalil::cli::test_options test;
  auto* test_cmd = app.add_subcommand("test", "Run the tests written beside the rules");
  test_cmd->add_option("path", test.path, "Rule pack directory")->required();
  test_cmd->add_option("--filter", test.filter, "Only tests whose name contains this");
  test_cmd->add_flag("--coverage", test.coverage,
                     "List rules, table rows and exceptions no test exercised");

  dalil::cli::import_options imp;
  auto* import_cmd =
      app.add_subcommand("import", "Import applicant records (JSONL or CSV) into the store");
  import_cmd->add_option("--db", imp.db, db_either_help)->required();
  import_cmd->add_option("--key-file", imp.key_file,
                         "Master key file (default: the DALIL_MASTER_KEY variable, if set)");
  import_cmd->add_option("--rules", imp.rules, "Rule pack whose schema the records must fit");
  import_cmd->add_option("file", imp.file, "cohort.jsonl or cohort.csv")->required();
  import_cmd->add_option("--received", imp.received, "When the data was collected (retention)");
  import_cmd->add_option("--reason", imp.reason, "A correction's reason (stored, audited)");
  import_cmd->add_option("--by", imp.by, "Who made the correction (default: the user)");

  dalil::cli::batch_options bat;
  auto* batch_cmd = app.add_subcommand("batch", "Evaluate every stored applicant; resumable");
  batch_cmd->add_option("--db", bat.db, db_either_help)->required();
  batch_cmd->add_option("--key-file", bat.key_file,
                        "Master key file (default: the DALIL_MASTER_KEY variable, if set)");
  batch_cmd->add_option("--rules", bat.rules, "Rule pack directory");
  batch_cmd->add_option("--as-of", bat.as_of, "Date of the decisions (YYYY-MM-DD)");
  batch_cmd->add_option("--threads", bat.threads,
                        "Evaluation threads (default 2); the reading thread helps between reads");
  batch_cmd->add_option("--where", bat.where, "Only records with FIELD=VALUE; repeatable");
  batch_cmd->add_flag("--store-traces", bat.store_traces,
                      "Keep every trace in full, not only its digest");
  batch_cmd->add_flag("--quiet", bat.quiet, "No progress output");
  batch_cmd->add_option("--chunk", bat.chunk, "Records per transaction (default 5000)");
  batch_cmd->add_option("--shard", bat.shard,
                        "I/N: decide only shard I of N of the run (PostgreSQL; N processes, on "
                        "one machine or several, complete one run)");
  batch_cmd->add_flag("--status", bat.status,
                      "Show each shard's progress of the run (--rules, --as-of, --where) or of "
                      "every unfinished run; evaluates nothing");

  dalil::cli::replay_options rep;
  auto* replay_cmd =
      app.add_subcommand("replay", "Re-evaluate a stored decision and prove it identical");
  replay_cmd->add_option("--db", rep.db, db_either_help)->required();
  replay_cmd->add_option("--key-file", rep.key_file,
                         "Master key file (default: the DALIL_MASTER_KEY variable, if set)");
  replay_cmd->add_option("decision", rep.decision, "RUN:RECORD")->required();

  dalil::cli::audit_options aud;
  auto* audit_cmd = app.add_subcommand("audit", "The hash-chained audit log");
  auto* verify_cmd =
      audit_cmd->add_subcommand("verify", "Detect any changed, deleted or inserted row");
  verify_cmd->add_option("--db", aud.db, db_either_help)->required();
  verify_cmd->add_option("--key-file", aud.key_file,
                         "Master key file (default: the DALIL_MASTER_KEY variable, if set)");
  verify_cmd->add_option("--head", aud.head,
                         "A head kept elsewhere (HASH or SEQ:HASH, from `audit head`): the log "
                         "must reach it unchanged");
  verify_cmd->add_flag("--read-only", aud.read_only,
                       "Open the store read-only (an auditor's copy); automatic when it cannot "
                       "be written");
  auto* head_cmd = audit_cmd->add_subcommand(
      "head", "Print the last entry of the audit log (SEQ HASH): keep it elsewhere");
  head_cmd->add_option("--db", aud.db, db_either_help)->required();
  head_cmd->add_option("--key-file", aud.key_file,
                       "Master key file (default: the DALIL_MASTER_KEY variable, if set)");
  head_cmd->add_flag("--read-only", aud.read_only, "Open the store read-only");
  audit_cmd->require_subcommand(1);

  dalil::cli::export_options exp;
  auto* export_cmd = app.add_subcommand("export", "Export a run's decisions (CSV or JSONL)");
  export_cmd->add_option("--db", exp.db, db_either_help)->required();
  export_cmd->add_option("--key-file", exp.key_file,
                         "Master key file (default: the DALIL_MASTER_KEY variable, if set)");
  export_cmd->add_option("--run", exp.run, "Run id (default: the newest complete run)");
  export_cmd->add_option("--format", exp.format, "jsonl or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  export_cmd->add_option("--out", exp.out,
                         "Output file, created readable by its owner only (default: stdout)");
  export_cmd->add_flag("--force", exp.force,
                       "Replace --out if it exists (never the store's own file)");

  dalil::cli::stats_options sta;
  auto* stats_cmd = app.add_subcommand("stats", "Outcome counts and rates per decision and run");
  stats_cmd->add_option("--db", sta.db, db_either_help)->required();
  stats_cmd->add_option("--key-file", sta.key_file,
                        "Master key file (default: the DALIL_MASTER_KEY variable, if set)");
  stats_cmd->add_option("--rules", sta.rules, "Rule pack (for program names)");
  stats_cmd->add_option("--format", sta.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  stats_cmd->add_option("--run", sta.run,
                        "Only this run (default: the newest complete run of each batch key)");
  stats_cmd->add_flag("--all", sta.all, "Every run, superseded and unfinished ones too");

  dalil::cli::show_options sho;
  auto* show_cmd =
      app.add_subcommand("decisions", "Show an applicant's stored decisions (audited)");
  show_cmd->add_option("--db", sho.db, db_either_help)->required();
  show_cmd->add_option("--key-file", sho.key_file,
                       "Master key file (default: the DALIL_MASTER_KEY variable, if set)");
  show_cmd->add_option("applicant", sho.applicant, "Applicant id")->required();
  show_cmd->add_option("--run", sho.run,
                       "Only this run (default: the newest complete run of each batch key)");
  show_cmd->add_flag("--all", sho.all, "Every run, superseded and unfinished ones too");

  std::string doc_rules;
  std::string doc_out = "out/doc";
  auto* doc_cmd = app.add_subcommand("doc", "The rule pack as a document (Markdown and HTML)");
  doc_cmd->add_option("rules", doc_rules, "Rule pack directory")->required();
  doc_cmd->add_option("--out", doc_out, "Output directory");
  std::string doc_lang = "fr";
  doc_cmd->add_option("--lang", doc_lang, "Language of the document: fr (default), ar or en")
      ->check(CLI::IsMember({"fr", "ar", "en"}));

  std::size_t gen_count = 300;
  std::uint64_t gen_seed = 1;
  std::string gen_format = "jsonl";
  std::string gen_out = "-";
  auto* gen_cmd = app.add_subcommand("generate", "A synthetic cohort (no real personal data)");
  gen_cmd->add_option("--count", gen_count, "Number of applicants");
  gen_cmd->add_option("--seed", gen_seed, "Seed: same seed, same cohort");
  gen_cmd->add_option("--format", gen_format, "jsonl or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  gen_cmd->add_option("--out", gen_out, "Output file (default: stdout)");

  dalil::cli::impact_options imc;
  auto* impact_cmd = app.add_subcommand(
      "impact", "What a rule revision changes over the stored cohort, and why (audited read)");
  impact_cmd->add_option("--db", imc.db, db_either_help)->required();
  impact_cmd->add_option("--old", imc.old_rules, "Rule pack before the revision")->required();
  impact_cmd->add_option("--new", imc.new_rules, "Rule pack after the revision")->required();
  impact_cmd->add_option("--as-of", imc.as_of, "Date of the decisions (YYYY-MM-DD)")->required();
  impact_cmd->add_option("--where", imc.where, "Only records with FIELD=VALUE; repeatable");
  impact_cmd->add_option("--out", imc.out,
                         "Directory for flips.csv, flips.jsonl, summary.json and report.html");
  impact_cmd->add_option("--format", imc.format, "Summary on the standard output: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  impact_cmd->add_option("--lang", imc.lang, "Language of the text summary and of report.html")
      ->check(CLI::IsMember({"fr", "ar", "en"}));
  impact_cmd->add_option("--by", imc.by, "Who the read is for (recorded in the audit entry)");
  impact_cmd->add_option("--threads", imc.threads, "Evaluation threads (default 2)")
      ->check(CLI::Range(1U, 256U));
  impact_cmd->add_flag("--reveal-ids", imc.reveal_ids,
                       "Applicant ids instead of pseudonyms in the outputs (auditors; audited)");

  auto accounts = dalil::cli::add_account_commands(app);
  auto data = dalil::cli::add_data_commands(app);
  auto analysis = dalil::cli::add_analysis_commands(app);
  auto publish = dalil::cli::add_publish_commands(app);
  auto pg = dalil::cli::add_pg_commands(app);

  dalil::cli::serve_options srv;
  auto* serve_cmd = app.add_subcommand("serve", "The HTTP API and the officials' page");
  serve_cmd->add_option("--db", srv.db, "SQLite file")->required();
  serve_cmd->add_option("--rules", srv.rules,
                        "Rule pack directory (tests, development); without it, the store's "
                        "publications (dalil publish)");
  serve_cmd->add_option("--listen", srv.listen,
                        "HOST:PORT (plain HTTP on loopback only; TLS elsewhere)");
  serve_cmd->add_option("--threads", srv.threads, "I/O and evaluation threads (default 2)")
      ->check(CLI::Range(1U, 256U));
  serve_cmd
      ->add_option("--max-connections", srv.max_connections,
                   "Connections served at once; past it new ones wait (default: the "
                   "descriptor limit less 64 and 4 a thread)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  serve_cmd->add_option("--tls-cert", srv.tls_cert, "PEM certificate chain (needed off loopback)");
  serve_cmd->add_option("--tls-key", srv.tls_key, "PEM private key");
  serve_cmd->add_option("--session-idle", srv.session_idle,
                        "Seconds a browser session may stay idle (default 1800)");
  serve_cmd->add_option("--session-absolute", srv.session_absolute,
                        "Seconds a browser session lasts at most (default 43200)");
  serve_cmd->add_option("--log", srv.log, "Access and error log file (default: standard error)");
  serve_cmd->add_option("--key-file", srv.key_file,
                        "Master key file of an encrypted store (mode 0600; default: "
                        "DALIL_MASTER_KEY)");

  dalil::cli::backup_options bak;
  auto* backup_cmd =
      app.add_subcommand("backup", "Copy the store (one consistent snapshot, even during a batch)");
  backup_cmd->add_option("--db", bak.db, "SQLite file")->required();
  backup_cmd->add_option("--out", bak.out, "The backup file (never overwritten)")->required();
  dalil::cli::restore_options res;
  auto* restore_cmd = app.add_subcommand("restore", "Restore a store from a backup");
  restore_cmd->add_option("--from", res.from, "The backup file")->required();
  restore_cmd->add_option("--db", res.db, "The store to create or replace")->required();
  restore_cmd->add_flag("--force", res.force, "Replace an existing store");

  dalil::cli::keys_options keys;
  auto* keys_cmd = app.add_subcommand("keys", "Master keys (kept outside the store)");
  auto* keys_init_cmd = keys_cmd->add_subcommand("init", "Create a master key file (mode 0600)");
  keys_init_cmd->add_option("--key-file", keys.key_file,
                            "The new key file (with --db: the key to bind, created if absent; "
                            "default DALIL_MASTER_KEY)");
  keys_init_cmd->add_option("--db", keys.db, "Bind the key to this store (it must hold no record)");
  auto* keys_check_cmd = keys_cmd->add_subcommand(
      "check", "Load the master key as every command will; print its check value");
  keys_check_cmd->add_option("--key-file", keys.key_file,
                             "Key file (default: the DALIL_MASTER_KEY variable)");
  dalil::cli::rotate_options rot;
  auto* keys_rotate_cmd = keys_cmd->add_subcommand(
      "rotate", "Re-wrap every data key under a new master key (records are not re-encrypted)");
  keys_rotate_cmd->add_option("--db", rot.db, db_either_help)->required();
  keys_rotate_cmd->add_option("--key-file", rot.key_file,
                              "The current master key (default: DALIL_MASTER_KEY)");
  keys_rotate_cmd
      ->add_option("--new-key-file", rot.new_key_file,
                   "The new master key (created, 0600, when absent)")
      ->required();
  dalil::cli::keys_options seal;
  auto* keys_seal_cmd = keys_cmd->add_subcommand(
      "seal",
      "Seal the decisions' values an older dalil left in plain in an encrypted store (audited)");
  keys_seal_cmd->add_option("--db", seal.db, "SQLite file")->required();
  keys_seal_cmd->add_option("--key-file", seal.key_file,
                            "Master key file (default: the DALIL_MASTER_KEY variable)");
  dalil::cli::reseal_options reseal;
  auto* keys_reseal_cmd = keys_cmd->add_subcommand(
      "reseal",
      "Move every applicant's data of format 1 (XChaCha20-Poly1305) to a new data key of format 2 "
      "(AES-256-GCM), in bounded transactions (audited; run again if interrupted)");
  keys_reseal_cmd->add_option("--db", reseal.db, "SQLite file")->required();
  keys_reseal_cmd->add_option("--key-file", reseal.key_file,
                              "Master key file (default: the DALIL_MASTER_KEY variable)");
  keys_reseal_cmd
      ->add_option("--per-transaction", reseal.per_transaction,
                   "Applicants re-sealed per transaction (default 5000: the rows an audit entry "
                   "vouches for)")
      ->check(CLI::Range(1, 1000000));
  keys_cmd->require_subcommand(1);

  dalil::cli::erase_options era;
  auto* erase_cmd = app.add_subcommand(
      "erase", "Erase an applicant of an encrypted store (destroy their data key), audited");
  erase_cmd->add_option("applicant", era.applicant, "Applicant id")->required();
  erase_cmd->add_option("--db", era.db, db_either_help)->required();
  erase_cmd->add_option("--key-file", era.key_file,
                        "Master key file (default: the DALIL_MASTER_KEY variable)");
  erase_cmd
      ->add_option("--reason", era.reason,
                   "Why (recorded in the audit log: never a personal value)")
      ->required();
  erase_cmd->add_option("--by", era.by, "Who asked for or decided the erasure")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version: 0; every usage error: 2, as the README's exit codes say (CLI11's own
    // codes, 104 to 109, told a script nothing it was promised).
    return app.exit(e) == 0 ? 0 : 2;
  }
  // A test hook set in the environment is said before anything runs: honoured, it changes what
  // this process does (a test build); ignored, the variable was meant for one.
  for (const std::string& w : dalil::store::test_hook_warnings()) {
    std::cerr << "dalil: " << w << '\n';
  }
  // A PostgreSQL --db (or migrate) first: what it supports runs, the rest is refused (exit 3).
  if (auto status = dalil::cli::run_pg_commands(app, pg)) return *status;
  if (erase_cmd->parsed()) return dalil::cli::run_erase(era);
  if (keys_init_cmd->parsed()) return dalil::cli::run_keys_init(keys);
  if (keys_check_cmd->parsed()) return dalil::cli::run_keys_check(keys);
  if (keys_rotate_cmd->parsed()) return dalil::cli::run_keys_rotate(rot);
  if (keys_seal_cmd->parsed()) return dalil::cli::run_keys_seal(seal);
  if (keys_reseal_cmd->parsed()) return dalil::cli::run_keys_reseal(reseal);
  if (backup_cmd->parsed()) return dalil::cli::run_backup(bak);
  if (restore_cmd->parsed()) return dalil::cli::run_restore(res);
  if (serve_cmd->parsed()) return dalil::cli::run_serve(srv);
  if (auto status = dalil::cli::run_account_commands(*accounts)) return *status;
  if (auto status = dalil::cli::run_data_commands(*data)) return *status;
  if (auto status = dalil::cli::run_analysis_commands(*analysis)) return *status;
  if (auto status = dalil::cli::run_publish_commands(*publish)) return *status;
  if (import_cmd->parsed()) return dalil::cli::run_import(imp);
  if (batch_cmd->parsed()) return dalil::cli::run_batch(bat);
  if (impact_cmd->parsed()) return dalil::cli::run_impact(imc);
  if (replay_cmd->parsed()) return dalil::cli::run_replay(rep);
  if (verify_cmd->parsed()) return dalil::cli::run_audit_verify(aud);
  if (head_cmd->parsed()) return dalil::cli::run_audit_head(aud);
  if (export_cmd->parsed()) return dalil::cli::run_export(exp);
  if (stats_cmd->parsed()) return dalil::cli::run_stats(sta);
  if (show_cmd->parsed()) return dalil::cli::run_show(sho);
  if (doc_cmd->parsed()) {
    return dalil::cli::run_doc(doc_rules, doc_out, dalil::engine::lang_or_en(doc_lang));
  }
  if (gen_cmd->parsed()) return dalil::cli::run_generate(gen_count, gen_seed, gen_format, gen_out);
  if (eval_cmd->parsed()) return dalil::cli::run_eval(ev);
  if (test_cmd->parsed()) return dalil::cli::run_test(test);
  if (check_cmd->parsed()) return dalil::cli::run_check(check);
  if (fmt_cmd->parsed()) return dalil::cli::run_fmt(fmt);
  return 2;
}
