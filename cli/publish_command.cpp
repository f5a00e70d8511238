// `dalil publish` and `dalil publications` (publish_command.hpp): the pack is checked and its
// tests run as `dalil test` runs them before anything is written; its canonical source is stored
// by its hash, then the publication row with its `publish` audit entry.
#include "cli/publish_command.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "cli/pack.hpp"
#include "cli/store_commands.hpp"
#include "engine/record.hpp"
#include "engine/test_runner.hpp"
#include "store/pg/open.hpp"
#include "store/pg/pg.hpp"
#include "store/publications.hpp"

namespace dalil::cli {

struct publish_commands {
  std::string db;
  std::string rules;
  std::string approved_by;
  std::string from;
  std::string note;
  std::string format = "text";
  CLI::App* publish = nullptr;
  CLI::App* publications = nullptr;
};

namespace {

constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

/// A line of `dalil publications`: id, date in effect, ruleset, who approved, when, the note.
std::string text_line(const store::publication& p, bool now) {
  std::string out = std::to_string(p.id) + "  from " + p.effective_from + "  ruleset " +
                    p.ruleset_hash.substr(0, 12) + "  approved by " + p.approved_by +
                    "  published " + p.published_at + " by " + p.actor;
  if (!p.note.empty()) out += "  note: " + p.note;
  if (now) out += "  (in effect today)";
  return out + "\n";
}

int run_publish(const publish_commands& o) {
  auto from = parse_date(o.from);
  if (o.from.size() != 10 || !from) {
    std::cerr << "error: --from " << o.from << " is not a date (YYYY-MM-DD)\n";
    return exit_usage;
  }
  if (o.approved_by.find_first_not_of(" \t") == std::string::npos) {
    std::cerr << "error: --approved-by needs the name of who approved the pack\n";
    return exit_usage;
  }
  // The pack: it must check and pass its own tests, as `dalil test` runs them.
  auto pack = load_pack(o.rules);
  if (!pack) {
    std::cerr << "error: " << o.rules << ": the rule pack does not check (above): not published\n";
    return exit_failed;
  }
  engine::test_report tests = engine::run_tests(pack->rules, "", false);
  for (const auto& t : tests.outcomes) {
    if (t.passed) continue;
    std::cerr << "FAILED " << t.module << ": \"" << t.name << "\"\n";
    for (const auto& f : t.failures) std::cerr << "    " << f << "\n";
  }
  if (tests.failed > 0) {
    std::cerr << "error: " << o.rules << ": " << tests.failed << " of "
              << tests.passed + tests.failed << " tests fail (dalil test " << o.rules
              << "): not published\n";
    return exit_failed;
  }
  auto db = open_store(o.db, std::string());
  if (!db) return report_store_error(db.error());
  if ((*db)->read_only()) {
    return report_store_error(store::fail(
        store::errc::refused, shown_db(o.db) + " is read-only: a publication is written and "
                                               "audited, so nothing was published"));
  }
  const std::string& hash = pack->rules->hash();
  if (auto s = (*db)->put_ruleset(hash, pack->canonical); !s) {
    return report_store_error(
        store::fail(s.error().code, "storing the ruleset: " + s.error().message));
  }
  auto pubs = store::open_publications(o.db);
  if (!pubs) return report_store_error(pubs.error());
  store::publication p;
  p.ruleset_hash = hash;
  p.approved_by = o.approved_by;
  p.effective_from = o.from;
  p.actor = cli_actor();
  p.note = o.note;
  if (auto s = (*pubs)->publish(p); !s) return report_store_error(s.error());
  std::cout << "published " << p.id << ": ruleset " << hash.substr(0, 12) << " in effect from "
            << p.effective_from << ", approved by " << p.approved_by << " (" << tests.passed
            << " tests passed)\n";
  return 0;
}

int run_publications(const publish_commands& o) {
  auto db = open_store(o.db, std::string());  // opens (and upgrades) the store as the others do
  if (!db) return report_store_error(db.error());
  auto pubs = store::open_publications(o.db);
  if (!pubs) return report_store_error(pubs.error());
  auto list = (*pubs)->list();
  if (!list) return report_store_error(list.error());
  std::string today = to_string(engine::utc_today());
  if (o.format == "json") {
    std::cout << store::publications_json(*list, today) << "\n";
    return 0;
  }
  if (list->empty()) {
    std::cout << "no publication: dalil serve --db " << shown_db(o.db)
              << " (without --rules) answers no-ruleset until one is published\n";
    return 0;
  }
  const store::publication* now = store::in_effect(*list, today);
  for (const auto& p : *list) std::cout << text_line(p, &p == now);
  return 0;
}

}  // namespace

std::shared_ptr<publish_commands> add_publish_commands(CLI::App& app) {
  auto c = std::make_shared<publish_commands>();
  c->publish = app.add_subcommand(
      "publish",
      "Make a checked and tested rule pack the one `dalil serve` decides with from a date on, "
      "with who approved it (audited)");
  c->publish->add_option("--db", c->db, "SQLite file or PostgreSQL connection string")->required();
  c->publish->add_option("--rules", c->rules, "Rule pack directory")->required();
  c->publish->add_option("--approved-by", c->approved_by, "Who approved the pack")->required();
  c->publish->add_option("--from", c->from, "The first as-of date it decides (YYYY-MM-DD)")
      ->required();
  c->publish->add_option("--note", c->note, "A note kept with the publication");
  c->publications = app.add_subcommand("publications", "List the publications of a store");
  c->publications->add_option("--db", c->db, "SQLite file or PostgreSQL connection string")
      ->required();
  c->publications->add_option("--format", c->format, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  return c;
}

std::optional<int> run_publish_commands(const publish_commands& c) {
  try {
    if (c.publish != nullptr && c.publish->parsed()) return run_publish(c);
    if (c.publications != nullptr && c.publications->parsed()) return run_publications(c);
  } catch (const store::store_exception& e) {
    return report_store_error(store::error{e.code, e.what()});
  } catch (const std::exception& e) {
    std::cerr << "error: dalil " << (c.publish->parsed() ? "publish" : "publications")
              << " failed unexpectedly: " << e.what() << "\n";
    return exit_failed;
  }
  return std::nullopt;
}

}  // namespace dalil::cli
