// `dalil impact`: parse the options, load both rule packs, run the store's audited impact read,
// and write the summary (text or JSON), and with --out the flips (CSV, JSONL) and report.html.
// Personal values go to the flip files only: never to the terminal, a log or an error.
#include "cli/impact_command.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>

#include "cli/csv.hpp"
#include "cli/doc.hpp"
#include "cli/pack.hpp"
#include "cli/store_commands.hpp"
#include "engine/catalogue.hpp"
#include "engine/decision.hpp"
#include "engine/impact.hpp"
#include "engine/record.hpp"
#include "store/impact.hpp"

namespace dalil::cli {

namespace {

constexpr int exit_failed = 1;
constexpr int exit_usage = 2;
constexpr int exit_refused = 3;
constexpr int exit_busy = 4;

int report(const store::error& e) {
  const char* prefix = e.code == store::errc::damaged   ? "error (damaged store): "
                       : e.code == store::errc::busy    ? "busy: "
                       : e.code == store::errc::refused ? "refused: "
                                                        : "error: ";
  std::cerr << prefix << e.message << "\n";
  return e.code == store::errc::refused ? exit_refused
         : e.code == store::errc::busy  ? exit_busy
                                        : exit_failed;
}

// ---- Words of the report and the text summary, per language (fr, ar, en). ----

enum class word : std::uint8_t {
  title,
  old_rules,
  new_rules,
  as_of,
  filter,
  none,
  read,
  compared,
  unreadable,
  flipped,
  flips,
  decision,
  before,
  after,
  count,
  category,
  unchanged,
  why,
  chart,
  no_change,
  removed,
  added,
  pseudonymised,
  revealed,
  yes,
  no,
  undetermined,
  out_of_force,
  decided,
  other_program,
};

std::string_view words(word w, engine::lang l) {
  struct entry {
    const char* fr;
    const char* ar;
    const char* en;
  };
  static constexpr std::array<entry, 30> table{{
      {"Impact d’une révision des règles", "أثر مراجعة القواعد", "Impact of a rule revision"},
      {"Règles d’avant", "القواعد السابقة", "Rules before"},
      {"Règles révisées", "القواعد المُراجَعة", "Revised rules"},
      {"Date d’évaluation", "تاريخ التقييم", "As of"},
      {"Filtre", "التصفية", "Filter"},
      {"aucun", "لا شيء", "none"},
      {"Demandeurs lus", "الطالبون المقروءة سجلاتهم", "Applicants read"},
      {"Comparés (dossier conforme aux deux versions)", "المقارَنون (سجل مطابق للنسختين)",
       "Compared (record fits both versions)"},
      {"Dossiers non conformes au schéma (avant / révisé)",
       "سجلات غير مطابقة للمخطط (السابق / المُراجَع)",
       "Records that do not fit the schema (before / revised)"},
      {"Demandeurs dont au moins une décision change",
       "الطالبون الذين يتغيّر قرار واحد على الأقل لهم",
       "Applicants with at least one changed decision"},
      {"Changements (demandeur × décision)", "التغييرات (طالب × قرار)",
       "Changes (applicant × decision)"},
      {"Décision", "القرار", "Decision"},
      {"Avant", "قبل", "Before"},
      {"Après", "بعد", "After"},
      {"Nombre", "العدد", "Count"},
      {"Catégorie", "الفئة", "Category"},
      {"inchangé", "دون تغيير", "unchanged"},
      {"Pourquoi (première règle dont la valeur diffère)", "السبب (أول قاعدة تختلف قيمتها)",
       "Why (the first rule whose value differs)"},
      {"Changements par décision", "التغييرات حسب القرار", "Changes per decision"},
      {"Aucun changement", "لا تغيير", "No change"},
      {"Décisions retirées", "قرارات محذوفة", "Decisions removed"},
      {"Décisions ajoutées", "قرارات مضافة", "Decisions added"},
      {"Les demandeurs sont désignés par un pseudonyme propre à ce rapport (clé aléatoire, non "
       "conservée). Le détail par demandeur est dans flips.csv et flips.jsonl.",
       "يُشار إلى الطالبين باسم مستعار خاص بهذا التقرير (مفتاح عشوائي غير محفوظ). التفاصيل لكل طالب "
       "في flips.csv و flips.jsonl.",
       "Applicants are named by a pseudonym proper to this report (a random key, never kept). The "
       "detail per applicant is in flips.csv and flips.jsonl."},
      {"Identifiants réels des demandeurs (usage d’auditeur : lecture inscrite au journal "
       "d’audit).",
       "المعرّفات الحقيقية للطالبين (استعمال المدقق: قراءة مسجّلة في سجل التدقيق).",
       "Real applicant ids (auditor use: the read is recorded in the audit log)."},
      {"oui", "نعم", "yes"},
      {"non", "لا", "no"},
      {"indéterminé", "غير محسوم", "undetermined"},
      {"hors vigueur", "غير ساري", "out of force"},
      {"décidé", "محسوم", "decided"},
      {"Autres décisions", "قرارات أخرى", "Other decisions"},
  }};
  const entry& e = table.at(static_cast<std::size_t>(w));
  return l == engine::lang::fr ? e.fr : l == engine::lang::ar ? e.ar : e.en;
}

std::string_view category_words(engine::flip_category c, engine::lang l) {
  struct entry {
    const char* fr;
    const char* ar;
    const char* en;
  };
  static constexpr std::array<entry, engine::flip_category_count> table{{
      {"oui → non", "من نعم إلى لا", "yes → no"},
      {"non → oui", "من لا إلى نعم", "no → yes"},
      {"décidé → indéterminé", "من محسوم إلى غير محسوم", "decided → undetermined"},
      {"indéterminé → décidé", "من غير محسوم إلى محسوم", "undetermined → decided"},
      {"changement de valeur", "تغيّر القيمة", "value change"},
      {"en vigueur → hors vigueur", "من ساري إلى غير ساري", "in force → out of force"},
      {"hors vigueur → en vigueur", "من غير ساري إلى ساري", "out of force → in force"},
  }};
  const entry& e = table.at(static_cast<std::size_t>(c));
  return l == engine::lang::fr ? e.fr : l == engine::lang::ar ? e.ar : e.en;
}

/// An outcome label of the transition table (engine::transition) in words: an enum case by its
/// title in the language when the pack gives one.
std::string state_words(const engine::decision_impact& d, const std::string& label,
                        engine::lang l) {
  if (auto c = d.case_titles.find(label); c != d.case_titles.end()) {
    if (auto t = c->second.find(std::string(engine::lang_code(l)));
        t != c->second.end() && !t->second.empty()) {
      return t->second;
    }
  }
  if (label == "true") return std::string(words(word::yes, l));
  if (label == "false") return std::string(words(word::no, l));
  if (label == "undetermined") return std::string(words(word::undetermined, l));
  if (label == "out of force") return std::string(words(word::out_of_force, l));
  if (label == "decided") return std::string(words(word::decided, l));
  if (label.size() >= 2 && label.front() == '"') return label.substr(1, label.size() - 2);
  return label;
}

std::string decision_title(const engine::decision_impact& d, engine::lang l) {
  auto it = d.title.find(std::string(engine::lang_code(l)));
  return it != d.title.end() && !it->second.empty() ? it->second : d.name;
}

std::string group_of(const engine::decision_impact& d) {
  if (d.program.empty()) return "";
  return d.program + (d.osp.empty() ? "" : ", " + d.osp);
}

/// Creates (or truncates) `path` readable and writable by its owner only: the flip files hold
/// personal values.
std::FILE* create_private(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  std::FILE* f = ::fdopen(fd, "wb");
  if (f == nullptr) ::close(fd);
  return f;
}

// ---- The flips: CSV and JSONL, written as they come, in the cohort's order. ----

void csv_cell(std::string& out, std::string_view text) {
  append_csv_cell(out, text);
}

std::string_view status_of(const engine::decision_side& s) {
  return !s.in_force ? "out_of_force" : s.decided ? "decided" : "undetermined";
}

/// Writes the flips to DIR/flips.csv.partial and DIR/flips.jsonl.partial (renamed when the read
/// is complete), or only counts them without --out.
class flip_files final : public engine::impact_sink {
 public:
  flip_files(std::string dir, const engine::impact_summary& summary, bool reveal,
             const engine::pseudonym_key& key)
      : dir_(std::move(dir)), summary_(summary), reveal_(reveal), key_(key) {}
  ~flip_files() override {
    close();
    if (!kept_) {
      for (const char* name : {"flips.csv", "flips.jsonl"}) {
        std::remove((dir_ + "/" + name + ".partial").c_str());
      }
    }
  }
  flip_files(const flip_files&) = delete;
  flip_files& operator=(const flip_files&) = delete;

  bool open() {
    if (dir_.empty()) return true;
    csv_ = create_private(dir_ + "/flips.csv.partial");
    jsonl_ = create_private(dir_ + "/flips.jsonl.partial");
    if (csv_ == nullptr || jsonl_ == nullptr) {
      error_ = "cannot write in " + dir_ + ": " + std::strerror(errno);
      return false;
    }
    return put(csv_,
               "applicant,decision,program,category,before_status,before_value,after_status,"
               "after_value,why_rule,why_before,why_after\n");
  }

  bool flip(const engine::impact_flip& f) override {
    if (dir_.empty()) return true;
    const engine::decision_impact& d = summary_.decisions.at(f.decision);
    std::string who = reveal_ ? f.applicant_id : engine::pseudonym(key_, f.applicant_id);
    line_.clear();
    csv_cell(line_, who);
    line_ += ',';
    csv_cell(line_, d.name);
    line_ += ',';
    csv_cell(line_, group_of(d));
    line_ += ',';
    line_ += engine::category_id(f.category);
    line_ += ',';
    line_ += status_of(f.before);
    line_ += ',';
    csv_cell(line_, f.before.value);
    line_ += ',';
    line_ += status_of(f.after);
    line_ += ',';
    csv_cell(line_, f.after.value);
    line_ += ',';
    csv_cell(line_, f.why_rule);
    line_ += ',';
    csv_cell(line_, f.why_before);
    line_ += ',';
    csv_cell(line_, f.why_after);
    line_ += '\n';
    if (!put(csv_, line_)) return false;
    line_.clear();
    store::append_flip_json(line_, f, d, who);
    line_ += '\n';
    return put(jsonl_, line_);
  }

  /// Flushes, syncs and renames the files into place.
  bool keep() {
    if (dir_.empty()) return true;
    for (auto [file, name] : {std::pair{&csv_, "flips.csv"}, std::pair{&jsonl_, "flips.jsonl"}}) {
      if (std::fflush(*file) != 0 || fsync(fileno(*file)) != 0 || std::fclose(*file) != 0) {
        *file = nullptr;
        error_ = "writing " + dir_ + "/" + name + " failed: " + std::strerror(errno);
        return false;
      }
      *file = nullptr;
      std::string path = dir_ + "/" + name;
      if (std::rename((path + ".partial").c_str(), path.c_str()) != 0) {
        error_ = "cannot write " + path + ": " + std::strerror(errno);
        return false;
      }
    }
    kept_ = true;
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  bool put(std::FILE* f, const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
      error_ = "writing the flips in " + dir_ + " failed: " + std::strerror(errno);
      return false;
    }
    return true;
  }
  void close() {
    if (csv_ != nullptr) std::fclose(csv_);
    if (jsonl_ != nullptr) std::fclose(jsonl_);
    csv_ = nullptr;
    jsonl_ = nullptr;
  }

  std::string dir_;
  const engine::impact_summary& summary_;
  bool reveal_;
  const engine::pseudonym_key& key_;
  std::FILE* csv_ = nullptr;
  std::FILE* jsonl_ = nullptr;
  bool kept_ = false;
  std::string line_;
  std::string error_;
};

// ---- The summary: JSON (summary.json, --format json) and text. No personal value in either. ----

std::string summary_json(const engine::impact_summary& s, const std::string& filter, bool reveal) {
  return store::impact_summary_json(s, filter, reveal) + "\n";
}

/// The decisions grouped by SNIA program and OSP, in the order each group first appears.
std::vector<std::pair<std::string, std::vector<const engine::decision_impact*>>> groups(
    const engine::impact_summary& s) {
  std::vector<std::pair<std::string, std::vector<const engine::decision_impact*>>> out;
  for (const auto& d : s.decisions) {
    std::string g = group_of(d);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& x) { return x.first == g; });
    if (it == out.end()) {
      out.emplace_back(g, std::vector<const engine::decision_impact*>{});
      it = out.end() - 1;
    }
    it->second.push_back(&d);
  }
  return out;
}

std::string summary_text(const engine::impact_summary& s, const std::string& filter,
                         engine::lang l) {
  std::string out;
  auto line = [&](const std::string& text, int indent) {
    out += engine::text_line(text, l, indent);
  };
  line(std::string(words(word::title, l)), 0);
  line(std::string(words(word::old_rules, l)) + ": " + s.old_hash.substr(0, 12) + "  " +
           std::string(words(word::new_rules, l)) + ": " + s.new_hash.substr(0, 12),
       2);
  line(std::string(words(word::as_of, l)) + ": " + to_string(s.as_of) + "  " +
           std::string(words(word::filter, l)) + ": " +
           (filter.empty() ? std::string(words(word::none, l)) : filter),
       2);
  line(std::string(words(word::read, l)) + ": " + std::to_string(s.records), 2);
  line(std::string(words(word::compared, l)) + ": " + std::to_string(s.compared), 2);
  if (s.unreadable_old + s.unreadable_new > 0) {
    line(std::string(words(word::unreadable, l)) + ": " + std::to_string(s.unreadable_old) + " / " +
             std::to_string(s.unreadable_new),
         2);
  }
  line(std::string(words(word::flipped, l)) + ": " + std::to_string(s.applicants_flipped), 2);
  line(std::string(words(word::flips, l)) + ": " + std::to_string(s.flips), 2);
  for (const auto& [group, list] : groups(s)) {
    bool any = false;
    for (const auto* d : list) any = any || d->flips > 0;
    if (!any) continue;
    line(group.empty() ? std::string(words(word::other_program, l)) : group, 0);
    for (const auto* d : list) {
      if (d->flips == 0) continue;
      line(decision_title(*d, l) + " (" + d->name + "): " + std::to_string(d->flips), 2);
      for (const auto& t : d->transitions) {
        if (!t.category) continue;
        // Booleans say their category by their values; the others name it.
        bool plain = *t.category == engine::flip_category::true_to_false ||
                     *t.category == engine::flip_category::false_to_true;
        // In a right-to-left line the arrow that points from the first word to the second is ←.
        line(state_words(*d, t.from, l) + (l == engine::lang::ar ? " ← " : " → ") +
                 state_words(*d, t.to, l) + ": " + std::to_string(t.count) +
                 (plain ? "" : " (" + std::string(category_words(*t.category, l)) + ")"),
             4);
      }
      for (std::size_t w = 0; w < d->why.size() && w < 5; ++w) {
        line(std::string(words(word::why, l)) + ": " + d->why[w].first + " (" +
                 std::to_string(d->why[w].second) + ")",
             4);
      }
    }
  }
  if (s.flips == 0) line(std::string(words(word::no_change, l)), 0);
  if (!s.only_old.empty()) {
    std::string names;
    for (const auto& n : s.only_old) names += (names.empty() ? "" : ", ") + n;
    line(std::string(words(word::removed, l)) + ": " + names, 0);
  }
  if (!s.only_new.empty()) {
    std::string names;
    for (const auto& n : s.only_new) names += (names.empty() ? "" : ", ") + n;
    line(std::string(words(word::added, l)) + ": " + names, 0);
  }
  return out;
}

// ---- report.html: self-contained (inline style and SVG), in one language. ----

constexpr std::array<const char*, engine::flip_category_count> colours{
    "#b2182b", "#2166ac", "#e08214", "#5aae61", "#762a83", "#636363", "#35978f"};

/// `text` cut to at most `n` characters (UTF-8 code points), with "…" when it was cut.
std::string shortened(const std::string& text, std::size_t n) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0U) == 0x80U) continue;  // inside a character
    if (chars++ == n) return text.substr(0, i) + "…";
  }
  return text;
}

/// One horizontal bar per decision that changed, stacked by category. In Arabic the labels are
/// on the right and the bars grow leftwards.
std::string chart_svg(const engine::impact_summary& s, engine::lang l) {
  std::vector<const engine::decision_impact*> rows;
  std::int64_t most = 0;
  for (const auto& d : s.decisions) {
    if (d.flips == 0) continue;
    rows.push_back(&d);
    most = std::max(most, d.flips);
  }
  if (rows.empty()) return {};
  const bool rtl = l == engine::lang::ar;
  const int width = 760;
  const int label = 300;
  const int bar = width - label - 70;
  const int row = 26;
  const int height = row * static_cast<int>(rows.size()) + 10;
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) +
                    "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
                    "\"><title>" + html_escape(words(word::chart, l)) + "</title>";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const engine::decision_impact& d = *rows[i];
    int y = static_cast<int>(i) * row + 5;
    // The direction is explicit: an SVG text otherwise takes the page's, and its anchor with it.
    out += "<text x=\"" + std::to_string(rtl ? width - 4 : 4) + "\" y=\"" + std::to_string(y + 15) +
           "\" font-size=\"12\" direction=\"" + (rtl ? "rtl" : "ltr") + "\">" +
           html_escape(shortened(decision_title(d, l), 45)) + "</text>";
    double x = rtl ? width - label : label;
    for (std::size_t c = 0; c < engine::flip_category_count; ++c) {
      if (d.by_category[c] == 0) continue;
      double w = static_cast<double>(bar) * static_cast<double>(d.by_category[c]) /
                 static_cast<double>(most);
      if (w < 1) w = 1;
      double left = rtl ? x - w : x;
      char rect[200];
      std::snprintf(rect, sizeof rect,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"><title>",
                    left, y + 2, w, colours.at(c));
      out += rect;
      out += html_escape(category_words(static_cast<engine::flip_category>(c), l)) + ": " +
             std::to_string(d.by_category[c]) + "</title></rect>";
      x = rtl ? x - w : x + w;
    }
    out += "<text x=\"" + std::to_string(static_cast<int>(rtl ? x - 4 : x + 4)) + "\" y=\"" +
           std::to_string(y + 15) + "\" font-size=\"12\" direction=\"ltr\"" +
           (rtl ? " text-anchor=\"end\"" : "") + ">" + std::to_string(d.flips) + "</text>";
  }
  out += "</svg>";
  return out;
}

std::string report_html(const engine::impact_summary& s, const std::string& filter, bool reveal,
                        engine::lang l) {
  const std::string code(engine::lang_code(l));
  std::string out = "<!DOCTYPE html>\n<html lang=\"" + code + "\" dir=\"" +
                    (l == engine::lang::ar ? "rtl" : "ltr") +
                    "\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
                    html_escape(words(word::title, l)) +
                    "</title>\n<style>\n"
                    "body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;"
                    "color:#222}\n"
                    "table{border-collapse:collapse;margin:.5rem 0}\n"
                    "td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:start}\n"
                    "td.n{text-align:end}\n"
                    "code{direction:ltr;unicode-bidi:isolate}\n"
                    ".legend span{display:inline-block;margin-inline-end:1rem}\n"
                    ".legend i{display:inline-block;width:.8rem;height:.8rem;"
                    "margin-inline-end:.3rem}\n"
                    "</style>\n</head>\n<body>\n<h1>" +
                    html_escape(words(word::title, l)) + "</h1>\n<table>\n";
  auto row = [&](word w, const std::string& value) {
    out += "<tr><th>" + html_escape(words(w, l)) + "</th><td><bdi>" + html_escape(value) +
           "</bdi></td></tr>\n";
  };
  row(word::old_rules, s.old_hash);
  row(word::new_rules, s.new_hash);
  row(word::as_of, to_string(s.as_of));
  row(word::filter, filter.empty() ? std::string(words(word::none, l)) : filter);
  row(word::read, std::to_string(s.records));
  row(word::compared, std::to_string(s.compared));
  if (s.unreadable_old + s.unreadable_new > 0) {
    row(word::unreadable,
        std::to_string(s.unreadable_old) + " / " + std::to_string(s.unreadable_new));
  }
  row(word::flipped, std::to_string(s.applicants_flipped));
  row(word::flips, std::to_string(s.flips));
  out += "</table>\n<p>" + html_escape(words(reveal ? word::revealed : word::pseudonymised, l)) +
         "</p>\n";
  if (s.flips == 0) {
    out += "<p><strong>" + html_escape(words(word::no_change, l)) + "</strong></p>\n";
  } else {
    out += "<h2>" + html_escape(words(word::chart, l)) + "</h2>\n<p class=\"legend\">";
    for (std::size_t c = 0; c < engine::flip_category_count; ++c) {
      out += "<span><i style=\"background:" + std::string(colours.at(c)) + "\"></i>" +
             html_escape(category_words(static_cast<engine::flip_category>(c), l)) + "</span>";
    }
    out += "</p>\n" + chart_svg(s, l) + "\n";
  }
  for (const auto& [group, list] : groups(s)) {
    out += "<h2>" + html_escape(group.empty() ? words(word::other_program, l) : group) + "</h2>\n";
    for (const auto* d : list) {
      out += "<h3>" + html_escape(decision_title(*d, l)) + " <code>" + html_escape(d->name) +
             "</code></h3>\n";
      out += "<table><tr><th>" + html_escape(words(word::before, l)) + "</th><th>" +
             html_escape(words(word::after, l)) + "</th><th>" + html_escape(words(word::count, l)) +
             "</th><th>" + html_escape(words(word::category, l)) + "</th></tr>\n";
      for (const auto& t : d->transitions) {
        out +=
            "<tr><td>" + html_escape(state_words(*d, t.from, l)) + "</td><td>" +
            html_escape(state_words(*d, t.to, l)) + "</td><td class=\"n\">" +
            std::to_string(t.count) + "</td><td>" +
            html_escape(t.category ? category_words(*t.category, l) : words(word::unchanged, l)) +
            "</td></tr>\n";
      }
      out += "</table>\n";
      if (!d->why.empty()) {
        out += "<p>" + html_escape(words(word::why, l)) + "</p>\n<ul>\n";
        for (const auto& [rule, n] : d->why) {
          out += "<li><code>" + html_escape(rule) + "</code>: " + std::to_string(n) + "</li>\n";
        }
        out += "</ul>\n";
      }
    }
  }
  auto names = [&](word w, const std::vector<std::string>& list) {
    if (list.empty()) return;
    out += "<h2>" + html_escape(words(w, l)) + "</h2>\n<ul>\n";
    for (const auto& n : list) out += "<li><code>" + html_escape(n) + "</code></li>\n";
    out += "</ul>\n";
  };
  names(word::removed, s.only_old);
  names(word::added, s.only_new);
  out += "</body>\n</html>\n";
  return out;
}

/// Writes `text` to `path` through a temporary file renamed into place.
bool write_file(const std::string& path, const std::string& text) {
  std::string partial = path + ".partial";
  std::FILE* f = create_private(partial);
  if (f == nullptr) {
    std::cerr << "error: cannot write " << partial << ": " << std::strerror(errno) << "\n";
    return false;
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 &&
            fsync(fileno(f)) == 0;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(partial.c_str(), path.c_str()) != 0) {
    std::cerr << "error: writing " << path << " failed: " << std::strerror(errno) << "\n";
    std::remove(partial.c_str());
    return false;
  }
  return true;
}

int impact(const impact_options& o) {
  auto as_of = parse_date(o.as_of);
  if (!as_of) {
    std::cerr << "error: --as-of " << o.as_of << " is not a date (YYYY-MM-DD)\n";
    return exit_usage;
  }
  engine::lang l = engine::lang_or_en(o.lang);
  auto before = load_pack(o.old_rules);
  if (!before) {
    std::cerr << "error: --old " << o.old_rules << " does not check (above)\n";
    return exit_failed;
  }
  auto after = load_pack(o.new_rules);
  if (!after) {
    std::cerr << "error: --new " << o.new_rules << " does not check (above)\n";
    return exit_failed;
  }
  store::impact_request request;
  request.actor = cli_actor();
  request.by = o.by;
  request.reveal_ids = o.reveal_ids;
  request.options.as_of = *as_of;
  request.options.threads = o.threads;
  if (!parse_where(after->rules->program(), o.where, request.filter)) return exit_usage;
  if (!o.out.empty()) {
    if (::mkdir(o.out.c_str(), 0700) != 0 && errno != EEXIST) {
      std::cerr << "error: cannot create " << o.out << ": " << std::strerror(errno) << "\n";
      return exit_failed;
    }
  }
  engine::pseudonym_key key{};
  if (getrandom(key.data(), key.size(), 0) != static_cast<ssize_t>(key.size())) {
    std::cerr << "error: no random bytes for the report's pseudonym key: " << std::strerror(errno)
              << "\n";
    return exit_failed;
  }
  auto db = open_store(o.db);
  if (!db) return report(db.error());
  engine::impact_summary summary;
  flip_files files(o.out, summary, o.reveal_ids, key);
  if (!files.open()) {
    std::cerr << "error: " << files.error() << "\n";
    return exit_failed;
  }
  auto read = store::read_impact(**db, before->rules, after->rules, request, files, summary);
  key.fill(0);  // never kept
  if (!read) {
    if (!files.error().empty()) std::cerr << "error: " << files.error() << "\n";
    return report(read.error());
  }
  std::string filter = store::filter_text(request.filter);
  std::string json = summary_json(summary, filter, o.reveal_ids);
  if (!o.out.empty()) {
    if (!files.keep()) {
      std::cerr << "error: " << files.error() << "\n";
      return exit_failed;
    }
    if (!write_file(o.out + "/summary.json", json) ||
        !write_file(o.out + "/report.html", report_html(summary, filter, o.reveal_ids, l))) {
      return exit_failed;
    }
  }
  std::cout << (o.format == "json" ? json : summary_text(summary, filter, l));
  std::cerr << "impact: " << summary.records << " records through both versions in "
            << summary.seconds << " s\n";
  return 0;
}

}  // namespace

int run_impact(const impact_options& o) {
  try {
    return impact(o);
  } catch (const store::store_exception& e) {
    return report(store::error{e.code, e.what()});
  } catch (const std::exception& e) {
    std::cerr << "error: dalil impact failed unexpectedly: " << e.what() << "\n";
    return exit_failed;
  }
}

}  // namespace dalil::cli
