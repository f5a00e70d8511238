// The audit chain's writer (chain.hpp).
#include "store/chain.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "engine/sha256.hpp"
#include "store/store.hpp"

namespace dalil::store::detail {

std::string entry_hash(const std::string& prev, std::int64_t seq, const std::string& at,
                       const std::string& actor, const std::string& action,
                       const std::string& subject, const std::string& details) {
  std::string s = prev + '\x1f' + std::to_string(seq) + '\x1f' + at + '\x1f' + actor + '\x1f' +
                  action + '\x1f' + subject + '\x1f' + details;
  return engine::sha256_hex(s);
}

namespace {

constexpr const char* last_entry_sql = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";
constexpr const char* insert_entry_sql = "INSERT INTO audit VALUES(?,?,?,?,?,?,?,?)";

/// The append itself, on statements prepared by the caller (reset here, before and after).
result<std::int64_t> append_with(database& db, statement& last, statement& insert,
                                 const std::string& actor, const std::string& action,
                                 const std::string& subject, const std::string& details) {
  last.reset();
  std::int64_t seq = 1;
  std::string prev = std::string(64, '0');
  int rc = last.step();
  if (rc == SQLITE_ROW) {
    seq = last.int64(0) + 1;
    prev = last.text(1);
  } else if (rc != SQLITE_DONE) {
    last.reset();
    return fail(errc::failed, "reading the audit log: " + db.message());
  }
  last.reset();
  std::string at = now_utc();
  std::string hash = entry_hash(prev, seq, at, actor, action, subject, details);
  insert.reset();
  insert.bind(1, seq).bind(2, at).bind(3, actor).bind(4, action).bind(5, subject);
  insert.bind(6, details).bind(7, prev).bind(8, hash);
  rc = insert.step();
  insert.reset();
  if (rc != SQLITE_DONE) return fail(errc::failed, "appending to the audit log: " + db.message());
  return seq;
}

}  // namespace

result<std::int64_t> append_audit(database& db, const std::string& actor, const std::string& action,
                                  const std::string& subject, const std::string& details) {
  std::string error;
  auto last = db.prepare(last_entry_sql, error);
  if (!last.ok()) return fail(errc::failed, "reading the audit log: " + error);
  auto insert = db.prepare(insert_entry_sql, error);
  if (!insert.ok()) return fail(errc::failed, "appending to the audit log: " + error);
  return append_with(db, last, insert, actor, action, subject, details);
}

result<std::int64_t> audit_appender::append(database& db, const std::string& actor,
                                            const std::string& action, const std::string& subject,
                                            const std::string& details) {
  if (db_ != db.handle() || !last_.ok() || !insert_.ok()) {
    std::string error;
    last_ = db.prepare(last_entry_sql, error);
    if (!last_.ok()) return fail(errc::failed, "reading the audit log: " + error);
    insert_ = db.prepare(insert_entry_sql, error);
    if (!insert_.ok()) return fail(errc::failed, "appending to the audit log: " + error);
    db_ = db.handle();
  }
  return append_with(db, last_, insert_, actor, action, subject, details);
}

namespace {

std::mutex checkers_mutex;

std::vector<row_checker>& added_checkers() {
  static std::vector<row_checker> checkers;
  return checkers;
}

}  // namespace

void add_verify_checker(row_checker checker) {
  std::lock_guard<std::mutex> lock(checkers_mutex);
  added_checkers().push_back(std::move(checker));
}

std::vector<row_checker> builtin_checkers();  // sqlite_store.cpp: the tables it migrates

std::vector<row_checker> verify_checkers() {
  std::vector<row_checker> out = builtin_checkers();
  std::lock_guard<std::mutex> lock(checkers_mutex);
  out.insert(out.end(), added_checkers().begin(), added_checkers().end());
  return out;
}

std::string audit_field(const std::string& details, const std::string& key) {
  std::string needle = "\"" + key + "\":";
  auto pos = details.find(needle);
  if (pos == std::string::npos) return {};
  pos += needle.size();
  if (pos < details.size() && details[pos] == '"') {
    auto end = details.find('"', pos + 1);
    return end == std::string::npos ? std::string() : details.substr(pos + 1, end - pos - 1);
  }
  auto end = details.find_first_of(",}", pos);
  return details.substr(pos, end - pos);
}

std::optional<fields> parse_details(std::string_view s) {
  fields out;
  std::size_t i = 0;
  auto ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  };
  auto string = [&](std::string& v) {
    if (i >= s.size() || s[i] != '"') return false;
    ++i;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c != '\\') {
        v += c;
        continue;
      }
      if (i >= s.size()) return false;
      char e = s[i++];
      switch (e) {
        case '"':
          v += '"';
          break;
        case '\\':
          v += '\\';
          break;
        case '/':
          v += '/';
          break;
        case 'b':
          v += '\b';
          break;
        case 'f':
          v += '\f';
          break;
        case 'n':
          v += '\n';
          break;
        case 'r':
          v += '\r';
          break;
        case 't':
          v += '\t';
          break;
        case 'u': {
          if (i + 4 > s.size()) return false;
          unsigned cp = 0;
          auto [p, ec] = std::from_chars(s.data() + i, s.data() + i + 4, cp, 16);
          if (ec != std::errc() || p != s.data() + i + 4) return false;
          i += 4;
          // Control characters only (append_json_string escapes those): one byte.
          if (cp > 0x7f) return false;
          v += static_cast<char>(cp);
          break;
        }
        default:
          return false;
      }
    }
    if (i >= s.size()) return false;
    ++i;
    return true;
  };
  ws();
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  ++i;
  ws();
  if (i < s.size() && s[i] == '}') return out;
  for (;;) {
    ws();
    std::string key;
    if (!string(key)) return std::nullopt;
    ws();
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    ++i;
    ws();
    std::string value;
    if (i < s.size() && s[i] == '"') {
      if (!string(value)) return std::nullopt;
    } else {
      std::size_t start = i;
      while (i < s.size() && s[i] != ',' && s[i] != '}') ++i;
      value = std::string(s.substr(start, i - start));
      while (!value.empty() && value.back() == ' ') value.pop_back();
    }
    out[key] = std::move(value);
    ws();
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') return out;
    return std::nullopt;
  }
}

std::optional<std::int64_t> int_field(const fields& f, std::string_view key) {
  auto it = f.find(key);
  if (it == f.end()) return std::nullopt;
  std::int64_t v = 0;
  const std::string& t = it->second;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
  return v;
}

std::string text_field(const fields& f, std::string_view key) {
  auto it = f.find(key);
  return it == f.end() ? std::string() : it->second;
}

void check_retention_rows(
    const std::vector<audit_entry>& entries, const std::vector<retention_period>& rows,
    std::int64_t erased,
    const std::function<void(std::int64_t, const char*, std::string)>& problem) {
  struct period {
    std::int64_t days = 0;
    std::int64_t seq = 0;  // its retention_set entry (0: the default)
    std::string by = "default";
    std::string at;
  };
  std::map<std::string, period, std::less<>> want = {{"records", {1825, 0, "default", ""}},
                                                     {"traces", {365, 0, "default", ""}}};
  std::int64_t traces = 0;
  std::int64_t last_retention = 0;
  auto number = [](const std::string& text) -> std::optional<std::int64_t> {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return v;
  };
  for (const auto& e : entries) {
    if (e.action == "retention_set") {
      if (auto days = number(audit_field(e.details, "days"))) {
        want[e.subject] = {*days, e.seq, audit_field(e.details, "by"),
                           audit_field(e.details, "at")};
      }
    } else if (e.action == "retention") {
      traces += number(audit_field(e.details, "traces")).value_or(0);
      last_retention = e.seq;
    }
  }
  std::set<std::string, std::less<>> seen;
  for (const auto& r : rows) {
    seen.insert(r.kind);
    auto it = want.find(r.kind);
    if (it == want.end()) {
      problem(0, "retention",
              "a retention period of '" + r.kind + "' was inserted behind the tool's back");
    } else if (it->second.days != r.days) {
      problem(it->second.seq, "retention",
              "the retention period of " + r.kind + " is " + std::to_string(r.days) +
                  " days, and its last retention_set entry (or the default) says " +
                  std::to_string(it->second.days) + ": changed behind the tool's back");
    } else if (it->second.by != r.set_by || it->second.at != r.set_at) {
      problem(it->second.seq, "retention",
              "the retention period of " + r.kind +
                  ": who set it or when was changed behind the tool's back");
    }
  }
  for (const auto& [kind, w] : want) {
    if (!seen.count(kind)) {
      problem(w.seq, "retention", "the retention period of " + kind + " was deleted");
    }
  }
  if (erased != traces) {
    problem(last_retention, "trace",
            std::to_string(erased) + " stored trace(s) are erased and the retention entries " +
                "account for " + std::to_string(traces) +
                ": traces were erased (or restored) behind the tool's back");
  }
}

bool read_run_entry(std::map<std::int64_t, run_entry>& runs, std::int64_t seq,
                    std::string_view action, std::string_view subject, const fields& f) {
  auto id = int_field(f, "run");
  if (!id && action != "run_complete") {
    // Entries before schema 5 name the run as their subject.
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(subject.data(), subject.data() + subject.size(), v);
    if (ec == std::errc() && p == subject.data() + subject.size()) id = v;
  }
  if (!id) return false;
  auto& r = runs[*id];
  if (action == "run_complete") {
    r.complete = true;
    r.decision_sets = int_field(f, "decision_sets");
    r.complete_seq = seq;
    if (f.count("finished_at")) r.finished_at = text_field(f, "finished_at");
    return true;
  }
  r.seq = seq;
  r.ruleset = text_field(f, "ruleset");
  r.as_of = text_field(f, "as_of");
  if (f.count("filter")) r.filter = text_field(f, "filter");
  r.generation = int_field(f, "generation");
  r.shards = int_field(f, "shards");
  if (f.count("started_at")) r.started_at = text_field(f, "started_at");
  if (action == "run_state" && text_field(f, "status") == "complete") {
    r.finished_at = text_field(f, "finished_at");
    r.complete = true;
    r.decision_sets = int_field(f, "decision_sets");
    r.complete_seq = seq;
  }
  return true;
}

void check_run_rows(const std::map<std::int64_t, run_entry>& runs, const std::vector<run_row>& rows,
                    const std::map<std::int64_t, std::int64_t>& set_counts,
                    const std::function<void(std::int64_t, const char*, std::string)>& problem) {
  std::set<std::int64_t> seen;
  for (const run_row& row : rows) {
    seen.insert(row.id);
    const std::string name = "run " + std::to_string(row.id);
    auto it = runs.find(row.id);
    if (it == runs.end() || it->second.seq == 0) {
      problem(0, "run", name + " has no audit entry: it was inserted behind the tool's back");
      continue;
    }
    const run_entry& e = it->second;
    std::string changed;
    auto add = [&](const char* field) {
      changed += (changed.empty() ? "" : ", ") + std::string(field);
    };
    if (row.ruleset != e.ruleset) add("ruleset hash");
    if (row.as_of != e.as_of) add("as_of date");
    if (e.filter && row.filter != *e.filter) add("filter");
    if (e.generation && row.generation != *e.generation) add("generation");
    if (e.started_at && row.started_at != *e.started_at) add("started_at");
    if (e.finished_at && row.finished_at != *e.finished_at) add("finished_at");
    if (e.shards && row.shards && *row.shards != *e.shards) add("shard count");
    if ((row.status == "complete") != e.complete ||
        (row.status != "complete" && row.status != "running")) {
      add("status");
    }
    if (!changed.empty()) {
      std::string text = name + " (audit entry " + std::to_string(e.seq) + "): its ";
      text += changed;
      text += " was changed after it was written (the log says ruleset ";
      text += e.ruleset.substr(0, 12);
      text += ", as of ";
      text += e.as_of;
      text += e.complete ? ", complete)" : ", running)";
      problem(e.seq, "run", std::move(text));
    }
    auto count = set_counts.find(row.id);
    const std::int64_t held = count == set_counts.end() ? 0 : count->second;
    if (e.complete && e.decision_sets && held != *e.decision_sets) {
      problem(e.complete_seq, "run",
              name + " holds " + std::to_string(held) +
                  " decision sets; its completion (audit entry " + std::to_string(e.complete_seq) +
                  ") vouches for " + std::to_string(*e.decision_sets));
    }
  }
  for (const auto& [id, e] : runs) {
    if (e.seq != 0 && !seen.count(id)) {
      problem(
          e.seq, "run",
          "run " + std::to_string(id) + " (audit entry " + std::to_string(e.seq) + ") was deleted");
    }
  }
  for (const auto& [run, n] : set_counts) {
    if (!seen.count(run) && !runs.count(run)) {
      problem(0, "decision_set",
              "decision sets of run " + std::to_string(run) +
                  ", a run that does not exist: inserted behind the tool's back");
    }
  }
}

void key_entries::add(std::int64_t seq, std::string_view action, std::string_view subject,
                      const std::string& details) {
  if (action == "keys_init" || action == "keys_rotate") {
    bound = audit_field(details, "key_check");
    bound_seq = seq;
  } else if (action == "erase") {
    erased.emplace(subject);
  }
}

void check_key_rows(const key_entries& chain, const key_rows& rows,
                    const std::function<void(std::int64_t, const char*, std::string)>& problem) {
  if (rows.key_check && *rows.key_check != chain.bound) {
    problem(chain.bound_seq, "keyring",
            "the keyring's key check value is not the one its last keys_init or keys_rotate "
            "entry bound (changed behind the tool's back)");
  }
  if (!rows.key_check && !chain.bound.empty()) {
    problem(
        chain.bound_seq, "keyring",
        "the keyring was deleted (audit entry " + std::to_string(chain.bound_seq) + " bound it)");
  }
  for (const auto& r : rows.unkeyed) {
    // Erased (an erase entry names the pseudonym): the key is destroyed on purpose.
    if (!r.deleted && chain.erased.count(r.applicant) != 0) continue;
    problem(0, "data_key",
            "record " + std::to_string(r.record_id) + ": its applicant's data key was " +
                (r.deleted ? "deleted" : "destroyed") +
                " behind the tool's back (no erasure entry)");
  }
  if (rows.orphan_pseudonyms != 0) {
    problem(0, "pseudonym",
            std::to_string(rows.orphan_pseudonyms) +
                " pseudonym(s) of no applicant: inserted or changed behind the tool's back");
  }
  const auto unlinked =
      std::count_if(rows.unlinked.begin(), rows.unlinked.end(),
                    [&](const std::string& a) { return chain.erased.count(a) == 0; });
  if (unlinked != 0) {
    problem(0, "pseudonym",
            std::to_string(unlinked) +
                " applicant(s) with sealed records and no pseudonym, never erased: deleted behind "
                "the tool's back");
  }
  if (chain.bound.empty() && rows.sealed != 0) {
    problem(
        0, "keyring",
        std::to_string(rows.sealed) + " sealed record(s) in a store no keys_init entry encrypted");
  }
}

status refuse_unverified(const std::string& what, std::size_t problems, std::string_view why) {
  if (problems == 0) return {};
  std::string m = what + ": the store does not verify (" + std::to_string(problems) +
                  " problem(s): `dalil audit verify` names them)";
  m += why;
  m += "; nothing changed";
  return fail(errc::refused, std::move(m));
}

}  // namespace dalil::store::detail
