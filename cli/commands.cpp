// Implementations of the dalil subcommands.
#include "cli/commands.hpp"
#include "cli/pack.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "dsl/checker.hpp"
#include "dsl/formatter.hpp"
#include "dsl/loader.hpp"
#include "dsl/parser.hpp"
#include "dsl/source.hpp"
#include "dsl/utf8.hpp"
#include "engine/decision.hpp"
#include "engine/evaluation.hpp"
#include "engine/limits.hpp"
#include "engine/record.hpp"
#include "engine/session.hpp"
#include "engine/test_runner.hpp"

namespace dalil::cli {

namespace {

/// Loads, checks and compiles a rule pack; prints diagnostics; nullptr on errors.
std::shared_ptr<const engine::ruleset> load_rules(const std::string& path) {
  auto pack = load_pack(path);
  return pack ? pack->rules : nullptr;
}

}  // namespace

/// Reads a facts file (or standard input for "-") of at most limits::record_bytes. A directory,
/// pipe or device given by name is refused without blocking; a longer input is refused after
/// reading one byte past the limit, so memory stays bounded. On failure returns the reason.
std::optional<std::string> read_facts(const std::string& path, std::string& out) {
  constexpr std::size_t limit = engine::limits::record_bytes;
  int fd = STDIN_FILENO;
  if (path != "-") {
    dsl::regular_file file = dsl::open_regular_file(path.c_str());
    if (file.why == dsl::regular_file::failure::cannot_open) return file.reason();
    if (file.why != dsl::regular_file::failure::none) {
      return file.not_regular_reason() + " (use - for standard input)";
    }
    fd = file.fd;
  }
  out.clear();
  char buf[1 << 16];
  std::optional<std::string> failure;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failure = std::string("cannot read: ") + std::strerror(errno);
      break;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit + 3) {  // + 3: a byte order mark does not count
      failure =
          "the record is longer than " + std::to_string(limit) + " bytes (the limit of one record)";
      break;
    }
  }
  if (path != "-") ::close(fd);
  if (failure) return failure;
  if (dsl::has_bom(out)) out.erase(0, dsl::bom.size());
  if (out.size() > limit) {
    return "the record is longer than " + std::to_string(limit) +
           " bytes (the limit of one record)";
  }
  return std::nullopt;
}

namespace {

/// "line:col" of a byte offset in `text` (columns count bytes, from 1).
std::string line_col(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      start = i + 1;
    }
  }
  // Columns in code points, as rule-source diagnostics count them.
  return std::to_string(line) + ":" +
         std::to_string(dsl::code_points(text.substr(start, offset - start)) + 1);
}

}  // namespace

int run_check(const check_options& o) {
  dsl::source_map sources;
  std::vector<dsl::ast::module> modules;
  auto program = check_pack(o.path, sources, modules);
  if (!program) return 1;
  std::cout << "ok: " << program->modules.size() << " modules, " << program->rules.size()
            << " rules, " << program->parameters.size() << " parameters, " << program->tests.size()
            << " tests\n";
  return 0;
}

int run_fmt(const fmt_options& o) {
  dsl::source_map sources;
  dsl::diagnostics diags;
  std::vector<dsl::file_id> files;
  for (const std::string& path : o.paths) {
    std::vector<dsl::file_id> more = dsl::load_sources(path, sources, diags);
    files.insert(files.end(), more.begin(), more.end());
  }
  int unformatted = 0;
  for (dsl::file_id f : files) {
    std::size_t before = diags.error_count();
    auto m = dsl::parse(sources, f, diags);
    if (!m || diags.error_count() != before) continue;  // never rewrite a file that did not parse
    std::string formatted = dsl::format(sources, *m);
    if (formatted == sources.text(f)) continue;
    ++unformatted;
    if (o.check) {
      std::cout << "not formatted: " << sources.name(f) << "\n";
      continue;
    }
    // Belt and braces: what is written must parse and be a fixed point of the formatter, or
    // the file is left as it was (a formatter bug must never reach a rule pack).
    {
      dsl::source_map again;
      dsl::diagnostics again_diags;
      auto m2 = dsl::parse(again, again.add(sources.name(f), formatted), again_diags);
      if (!m2 || again_diags.has_errors() || dsl::format(again, *m2) != formatted) {
        std::cerr << "error: " << sources.name(f)
                  << ": the formatter's output does not read back the same; the file is left "
                     "unchanged (please report this)\n";
        return 1;
      }
    }
    // Through a symbolic link, the file it points to is rewritten, not the link replaced.
    std::error_code link_ec;
    std::filesystem::path target = sources.name(f);
    if (std::filesystem::is_symlink(target, link_ec)) {
      target = std::filesystem::canonical(target, link_ec);
      if (link_ec) {
        std::cerr << "error: cannot resolve " << sources.name(f) << ": " << link_ec.message()
                  << "\n";
        return 1;
      }
    }
    std::string tmp = target.string() + ".fmt-tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << formatted;
      if (!out.flush()) {
        std::cerr << "error: cannot write " << tmp << "\n";
        return 1;
      }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, target, ec);  // atomic: never a half-written rule file
    if (ec) {
      std::filesystem::remove(tmp, ec);
      std::cerr << "error: cannot replace " << sources.name(f) << ": " << ec.message() << "\n";
      return 1;
    }
    std::cout << "formatted: " << sources.name(f) << "\n";
  }
  diags.sort();
  std::cerr << dsl::render_all(sources, diags);
  if (diags.has_errors()) return 1;
  return o.check && unformatted > 0 ? 1 : 0;
}

}  // namespace dalil::cli

namespace dalil::cli {

int run_eval(const eval_options& o) {
  auto as_of = parse_date(o.as_of);
  if (!as_of) {
    std::cerr << "error: --as-of " << o.as_of << " is not a date (YYYY-MM-DD)\n";
    return 2;
  }
  auto rules = load_rules(o.rules);
  if (!rules) return 1;
  const dsl::program& p = rules->program();
  std::string text;
  if (auto failure = read_facts(o.facts, text)) {
    std::cerr << o.facts << ": error: " << *failure << "\n";
    return 2;
  }
  engine::record_reader reader(p);
  reader.set_as_of(*as_of);  // a date of a past event cannot be after the as-of date
  reader.set_intake(true);   // facts given now: no control character in a text
  engine::record rec;
  engine::record_error err;
  if (!reader.read(text, rec, err)) {
    // Where and why, never the value: the facts are an applicant's personal data.
    std::cerr << o.facts << ":" << line_col(text, err.offset)
              << ": error: " << (err.field.empty() ? std::string() : "field '" + err.field + "': ")
              << err.message << "\n";
    return 1;
  }
  std::string unknown;
  auto picked = engine::chosen_rules(p, o.only, o.all, unknown);
  if (!picked) {
    std::cerr << "error: no rule named '" << unknown << "' (write module.name)\n";
    return 2;
  }
  const std::vector<std::uint32_t>& chosen = *picked;
  auto inst = engine::instantiate(rules, *as_of);
  engine::evaluator ev(inst);
  ev.set_record(rec);
  if (o.format == "json") {
    std::string out;
    engine::evaluation_options eo;
    eo.with_trace = o.trace;
    if (!o.lang.empty()) eo.only = engine::lang_or_en(o.lang);
    engine::append_evaluation_json(out, ev, engine::input_hash(text), chosen, eo);
    out += '\n';
    std::cout << out;
    return 0;
  }
  const engine::lang l = engine::lang_or_en(o.lang.empty() ? "fr" : o.lang);
  std::string out = engine::eval_text_header(*as_of, rules->hash().substr(0, 12), l);
  for (std::uint32_t r : chosen) {
    engine::decision d = engine::decide(ev, r);
    out += '\n';
    engine::append_decision_text(out, ev, d, l);
  }
  std::cout << out;
  return 0;
}

int run_test(const test_options& o) {
  auto rules = load_rules(o.path);
  if (!rules) return 1;
  engine::test_report report = engine::run_tests(rules, o.filter, o.coverage);
  for (const auto& t : report.outcomes) {
    if (t.passed) continue;
    std::cout << "FAILED " << t.module << ": \"" << t.name << "\"\n";
    for (const auto& f : t.failures) std::cout << "    " << f << "\n";
  }
  bool uncovered = o.coverage && !report.uncovered.empty();
  if (o.coverage) {
    if (report.uncovered.empty()) {
      std::cout << "coverage: every rule, table row and exception is exercised\n";
    } else {
      std::cout << "coverage: " << report.uncovered.size() << " not exercised by any test:\n";
      for (const auto& u : report.uncovered) std::cout << "  " << u << "\n";
    }
  }
  std::cout << report.passed << " passed, " << report.failed << " failed\n";
  return report.failed > 0 || uncovered ? 1 : 0;
}

}  // namespace dalil::cli
