// The advisers' API (advisers_api.hpp). The diff, the impact and the what-if run on a pool of
// their own (one thread: the I/O threads keep answering the counter), at most `max_jobs` admitted
// at once (one running, one waiting); past that a 503 with Retry-After. Diffs are cached by the
// rulesets and date they compare (a ruleset never changes), unless a solver query ran out of time;
// impacts never (the cohort does, and each is an audited read); a what-if never (each is audited).
#include "server/advisers_api.hpp"

#include <openssl/rand.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "analysis/diff.hpp"
#include "analysis/encode.hpp"
#include "analysis/whatif.hpp"
#include "engine/impact.hpp"
#include "engine/record.hpp"
#include "engine/sha256.hpp"
#include "server/admission.hpp"
#include "server/auth/auth.hpp"
#include "server/databases.hpp"
#include "server/json_input.hpp"
#include "server/publications.hpp"
#include "server/stats.hpp"
#include "server/writer.hpp"
#include "store/crypto.hpp"
#include "store/impact.hpp"
#include "store/publications.hpp"
#include "store/store.hpp"

namespace dalil::server {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

/// Each solver query of a diff (as `dalil diff --timeout-ms`): past it the decision is unknown.
constexpr unsigned diff_query_ms = 5000;
/// Flips listed in an impact's answer; the counts cover them all.
constexpr std::size_t flips_listed = 1000;
/// Diffs and impacts admitted at once (running or waiting for the pool's thread).
constexpr int max_jobs = 2;
constexpr std::size_t max_where = 16;
constexpr std::size_t max_where_length = 256;
constexpr std::size_t diff_cache_capacity = 16;
/// A what-if's bounds: each solver query (past it the search stops, saying so in
/// notes.solver), and the alternatives asked for (`max`, default 3).
constexpr unsigned whatif_query_ms = 3000;
constexpr unsigned whatif_max_alternatives = 5;
constexpr std::size_t max_goal_length = 256;

reply json_reply(std::string body) {
  reply r;
  r.body = std::move(body);
  return r;
}

/// The rulesets' hashes of a comparison's two publications.
struct compared {
  std::string old_hash;
  std::string new_hash;
};

/// What a diff or impact request names.
struct comparison {
  std::int64_t old_id = 0;
  std::int64_t new_id = 0;
  std::optional<date> as_of;
  std::vector<std::string> where;  // FIELD=VALUE
};

/// A publication id: a positive whole number, as JSON.
std::optional<std::int64_t> publication_id(std::string_view raw) {
  if (raw.empty() || raw.size() > 15 || raw[0] == '0') return std::nullopt;
  std::int64_t n = 0;
  for (char c : raw) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

/// Parses the body of a diff or impact request; a problem (400) when it is not valid.
std::optional<problem> parse(std::string_view body, bool impact, comparison& out) {
  std::vector<json_member> members;
  json_syntax_error err;
  if (!split_object(body, members, err)) {
    return malformed_json("at byte " + std::to_string(err.offset) + ": " + err.message);
  }
  std::vector<field_error> errors;
  bool seen_old = false;
  bool seen_new = false;
  for (const json_member& m : members) {
    std::string at = "/" + pointer_token(m.key);
    if (m.key == "old" || m.key == "new") {
      auto id = publication_id(m.raw);
      if (!id) {
        errors.push_back({at, "must be a publication id (a positive whole number)"});
      } else {
        (m.key == "old" ? out.old_id : out.new_id) = *id;
      }
      (m.key == "old" ? seen_old : seen_new) = true;
      continue;
    }
    boost::system::error_code ec;
    json::value v = json::parse(m.raw, ec);
    if (m.key == "as_of") {
      if (ec || !v.is_string() || !(out.as_of = parse_date(v.as_string()))) {
        errors.push_back({at, "must be a date (YYYY-MM-DD)"});
      }
    } else if (m.key == "lang" && !impact) {
      // The diff's JSON carries every language (as dalil diff --format json): checked only.
      if (ec || !v.is_string() ||
          (v.as_string() != "fr" && v.as_string() != "ar" && v.as_string() != "en")) {
        errors.push_back({at, "must be fr, ar or en"});
      }
    } else if (m.key == "where" && impact) {
      bool ok = !ec && v.is_array() && v.as_array().size() <= max_where;
      if (ok) {
        for (const json::value& w : v.as_array()) {
          ok = ok && w.is_string() && w.as_string().size() <= max_where_length &&
               w.as_string().find('=') != json::string::npos;
          if (ok) out.where.emplace_back(w.as_string());
        }
      }
      if (!ok) {
        errors.push_back({at,
                          "must be an array of at most 16 FIELD=VALUE filters (such as "
                          "status=refugee), each at most 256 bytes"});
      }
    } else {
      // The key itself is never echoed: a careless client may have put a value there.
      errors.push_back({"", impact ? "the body has a member that is not one of: old, new, "
                                     "as_of, where"
                                   : "the body has a member that is not one of: old, new, "
                                     "as_of, lang"});
    }
  }
  if (!seen_old) errors.push_back({"/old", "is required: the publication compared from"});
  if (!seen_new) errors.push_back({"/new", "is required: the publication compared to"});
  if (impact && !out.as_of && std::none_of(errors.begin(), errors.end(), [](const auto& e) {
        return e.pointer == "/as_of";
      })) {
    errors.push_back({"/as_of", "is required: the date of the decisions compared (YYYY-MM-DD)"});
  }
  if (!errors.empty()) return bad_request("the request is not valid", std::move(errors));
  return std::nullopt;
}

/// FIELD=VALUE filters on fields of the record schema (a path of record fields).
std::optional<problem> filters(const dsl::program& p, const std::vector<std::string>& where,
                               std::vector<store::record_filter>& out) {
  for (std::size_t i = 0; i < where.size(); ++i) {
    const std::string& w = where[i];
    std::string path = w.substr(0, w.find('='));
    const dsl::field_info* field = dsl::field_at(p, path);
    if (field == nullptr) {
      return bad_request("a filter names no field of the record schema",
                         {{"/where/" + std::to_string(i), "names no field of the record schema"}});
    }
    std::string value = w.substr(w.find('=') + 1);  // every filter has one (read_request)
    if (std::string why = dsl::filter_value_refusal(p, *field, path, value); !why.empty()) {
      why.insert(0, path + ": ");
      return bad_request("a filter's value is not of its field's type",
                         {{"/where/" + std::to_string(i), std::move(why)}});
    }
    out.push_back({path, value});
  }
  return std::nullopt;
}

/// Appends `add` to `to`, which holds personal data: when `to` must grow, its content moves to
/// a buffer twice as large and the old one is zeroed before it is freed.
void append_secret(std::string& to, std::string_view add) {
  if (to.size() + add.size() > to.capacity()) {
    std::string bigger;
    bigger.reserve(std::max(2 * to.capacity(), to.size() + add.size()));
    bigger.append(to);
    store::crypto::wipe(to);
    to.swap(bigger);
  }
  to.append(add);
}

/// The flips as the answer lists them: the first `flips_listed`, applicants by pseudonym (a key
/// drawn for this answer alone) or, for auditors, by id. Pseudonymised flips are listed in the
/// order of their pseudonyms, random for each answer: in the cohort's order, the flips of two
/// answers over one cohort would line up, and their pseudonyms with them.
class flip_list final : public engine::impact_sink {
 public:
  flip_list(const engine::impact_summary& summary, bool reveal, const engine::pseudonym_key& key)
      : summary_(summary), reveal_(reveal), key_(key) {}
  bool flip(const engine::impact_flip& f) override {
    if (listed_ >= flips_listed) {
      truncated_ = true;
      return true;
    }
    // An applicant's id (for auditors) and the values the why read are personal data: the
    // flip is written into a buffer reserved for it, then appended to the list through
    // append_secret, so that no buffer holding them is freed without being zeroed.
    std::string who = reveal_ ? f.applicant_id : engine::pseudonym(key_, f.applicant_id);
    one_.clear();
    one_.reserve(2 * (who.size() + f.why_before.size() + f.why_after.size()) + 4096);
    store::append_flip_json(one_, f, summary_.decisions.at(f.decision), who);
    store::crypto::wipe(who);
    if (reveal_) {
      if (listed_ != 0) append_secret(out_, ",");
      append_secret(out_, one_);
      store::crypto::wipe(one_);
    } else {
      // Each begins {"applicant":"PSEUDONYM": sorted as texts, they are in their pseudonyms'
      // order. Moved, not copied: its buffer goes with it (zeroed by the destructor).
      held_.push_back(std::move(one_));
      one_ = std::string();
    }
    ++listed_;
    return true;
  }
  ~flip_list() override {
    store::crypto::wipe(out_);
    store::crypto::wipe(one_);
    for (std::string& h : held_) store::crypto::wipe(h);
  }
  flip_list(const flip_list&) = delete;
  flip_list& operator=(const flip_list&) = delete;
  /// The list, once every flip is in (the pseudonymised ones put in order).
  const std::string& json() {
    if (!held_.empty()) {
      std::sort(held_.begin(), held_.end());
      std::size_t size = held_.size();
      for (const std::string& h : held_) size += h.size();
      out_.reserve(size);  // whole: no buffer holding flips is freed unzeroed
      for (std::string& h : held_) {
        if (!out_.empty()) out_ += ',';
        out_ += h;
        store::crypto::wipe(h);
      }
      held_.clear();
    }
    return out_;
  }
  bool truncated() const { return truncated_; }

 private:
  const engine::impact_summary& summary_;
  bool reveal_;
  const engine::pseudonym_key& key_;
  std::string out_;
  std::string one_;                // the flip being written
  std::vector<std::string> held_;  // pseudonymised flips, until json() puts them in order
  std::size_t listed_ = 0;
  bool truncated_ = false;
};

/// The halt of one diff or what-if: the server's stop, or the report's time limit counted from
/// when the pool's thread takes it up (a report waiting behind another is not on its time).
class report_halt {
 public:
  report_halt(analysis::halt* server, std::chrono::milliseconds limit)
      : server_(server), limit_(limit) {}
  /// On the pool's thread, as the report starts: the halt its analysis tests.
  analysis::halt* start() {
    own_.emplace(server_, std::chrono::steady_clock::now() + limit_);
    return &*own_;
  }
  /// Once the analysis has ended halted: whether for its time limit rather than a stop.
  bool out_of_time() const { return own_ && !server_->requested() && own_->deadline_passed(); }

 private:
  analysis::halt* server_;
  std::chrono::milliseconds limit_;
  std::optional<analysis::halt> own_;
};

/// A diff's inputs, in the frame of the request that waits for it.
struct diff_job {
  std::shared_ptr<const engine::ruleset> before;
  std::shared_ptr<const engine::ruleset> after;
  analysis::diff_options options;
  report_halt stop;
  bool timed_out = false;  // a solver query ran out of time: an answer of this moment's load
};

/// An impact's inputs, and its work on the pool's thread: the store opened there (a connection
/// of its own), the audited read (its entry committed before anything is read), the answer.
struct impact_job {
  std::string db_path;
  std::shared_ptr<const engine::ruleset> before;
  std::shared_ptr<const engine::ruleset> after;
  store::impact_request request;
  /// An encrypted store's master key is loaded afresh from where the server's came from
  /// ("" : DALIL_MASTER_KEY), so that an impact follows a key rotation as the counter does.
  bool keyed = false;
  std::string key_file;
  std::chrono::milliseconds time_limit{0};  // from when the pool's thread takes it up
  bool deadline_passed = false;             // set by the read (request.deadline_passed points here)

  /// errc::refused only when there is nothing to read (no record, none or too few matching):
  /// the store's own refusals (a key file's path and mode, a read-only store's path) describe
  /// the server's set-up, for its log, and are failures here.
  store::result<std::string> run() const {
    std::optional<store::crypto::master_key> master;
    if (keyed) {
      auto k = store::crypto::load_master_key(key_file);
      if (!k) return store::fail(store::errc::failed, k.error().message);
      master = std::move(*k);
    }
    auto db = open_database(db_path, store::open_mode::read_write, master ? &*master : nullptr);
    if (!db) {
      return store::fail(
          db.error().code == store::errc::busy ? store::errc::busy : store::errc::failed,
          db.error().message);
    }
    if ((*db)->read_only()) {
      return store::fail(store::errc::failed,
                         "the store is read-only: an impact, an audited read, cannot be recorded");
    }
    engine::pseudonym_key key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
      return store::fail(store::errc::failed, "no random bytes for the pseudonyms");
    }
    engine::impact_summary summary;
    flip_list flips(summary, request.reveal_ids, key);
    auto read = store::read_impact(**db, before, after, request, flips, summary);
    key.fill(0);  // never kept: the pseudonyms cannot be linked to another answer
    if (!read) return read.error();
    std::string out =
        store::impact_summary_json(summary, store::filter_text(request.filter), request.reveal_ids);
    out.pop_back();  // its closing brace
    // Reserved whole before the flips are appended: no buffer holding them is freed unzeroed
    // (the flip list's own is zeroed by its destructor, the answer's once it is sent).
    out.reserve(out.size() + flips.json().size() + 96);
    // Advisers get the values that are categories alone (engine::impact_options).
    out += request.options.categories_only ? ",\"flip_values\":\"categories\""
                                           : ",\"flip_values\":\"all\"";
    out += ",\"flip_list\":[";
    out += flips.json();
    out += "],\"flip_list_truncated\":";
    out += flips.truncated() ? "true}" : "false}";
    return out;
  }
};

/// What a what-if request names.
struct whatif_request {
  std::string_view facts;  // the applicant's record, as the body carries it
  std::optional<date> as_of;
  std::string decision;  // module.rule
  std::string goal;      // the value, as `dalil whatif --goal` writes it after '='
  unsigned max = 3;
  std::optional<engine::lang> lang;
};

/// Parses the body of a what-if request; a problem (400) when it is not valid. Values are never
/// echoed (the facts are personal; a goal may be mistyped personal data).
std::optional<problem> parse_whatif(std::string_view body, whatif_request& out) {
  std::vector<json_member> members;
  json_syntax_error err;
  if (!split_object(body, members, err)) {
    return malformed_json("at byte " + std::to_string(err.offset) + ": " + err.message);
  }
  std::vector<field_error> errors;
  bool seen_facts = false;
  bool seen_goal = false;
  bool seen_as_of = false;
  for (const json_member& m : members) {
    std::string at = "/" + pointer_token(m.key);
    if (m.key == "facts") {
      seen_facts = true;
      if (m.raw.empty() || m.raw.front() != '{') {
        errors.push_back({at, "must be the applicant's record (a JSON object)"});
      } else {
        out.facts = m.raw;
      }
      continue;
    }
    boost::system::error_code ec;
    json::value v = json::parse(m.raw, ec);
    if (m.key == "as_of") {
      seen_as_of = true;
      if (ec || !v.is_string() || !(out.as_of = parse_date(v.as_string()))) {
        errors.push_back({at, "must be a date (YYYY-MM-DD)"});
      } else if (*out.as_of < analysis::detail::fact_space::first_day() ||
                 *out.as_of > analysis::detail::fact_space::last_day()) {
        errors.push_back({at, "must lie in " +
                                  to_string(analysis::detail::fact_space::first_day()) + " … " +
                                  to_string(analysis::detail::fact_space::last_day()) +
                                  ", the dates the solver covers"});
      }
    } else if (m.key == "goal") {
      seen_goal = true;
      std::string_view g = !ec && v.is_string() ? std::string_view(v.as_string()) : "";
      std::size_t eq = g.find('=');
      if (g.size() > max_goal_length || eq == std::string_view::npos || eq == 0 ||
          eq + 1 == g.size()) {
        errors.push_back({at,
                          "must be DECISION=VALUE, such as health.ramed=poor (at most 256 "
                          "bytes)"});
      } else {
        out.decision = std::string(g.substr(0, eq));
        out.goal = std::string(g.substr(eq + 1));
      }
    } else if (m.key == "max") {
      if (ec || !v.is_int64() || v.as_int64() < 1 || v.as_int64() > whatif_max_alternatives) {
        errors.push_back({at, "must be a whole number from 1 to 5"});
      } else {
        out.max = static_cast<unsigned>(v.as_int64());
      }
    } else if (m.key == "lang") {
      if (ec || !v.is_string() ||
          (v.as_string() != "fr" && v.as_string() != "ar" && v.as_string() != "en")) {
        errors.push_back({at, "must be fr, ar or en"});
      } else {
        out.lang = engine::lang_or_en(std::string_view(v.as_string()));
      }
    } else {
      errors.push_back({"",
                        "the body has a member that is not one of: facts, as_of, goal, max, "
                        "lang"});
    }
  }
  if (!seen_facts) errors.push_back({"/facts", "is required: the applicant's record"});
  if (!seen_as_of)
    errors.push_back({"/as_of", "is required: the date of the decision (YYYY-MM-DD)"});
  if (!seen_goal) errors.push_back({"/goal", "is required: DECISION=VALUE"});
  if (!errors.empty()) return bad_request("the request is not valid", std::move(errors));
  return std::nullopt;
}

/// A what-if's inputs, in the frame of the request that waits for it.
struct whatif_job {
  std::shared_ptr<const engine::ruleset> rules;
  whatif_request request;
  std::string facts;
  std::string error;
  std::optional<analysis::whatif_result> result;
  report_halt stop;

  ~whatif_job() { store::crypto::wipe(facts); }  // the applicant's record

  void run() {
    analysis::whatif_options o;
    o.max = request.max;
    o.timeout_ms = whatif_query_ms;
    o.stop = stop.start();
    result =
        analysis::whatif(rules, request.decision, request.goal, *request.as_of, facts, o, error);
  }
};

problem busy() {
  return unavailable(
      "the advisers' reports are busy (a diff, an impact or a what-if runs): try again", 5);
}

problem stopping_problem() {
  return unavailable(
      "the server is stopping: the report was not finished; ask again once it is back", 5);
}

/// The same request would run as long again: no Retry-After.
problem out_of_time_problem(const std::string& what, const std::string& hint = "") {
  return unavailable(
      what + " passed its time limit before it was finished: nothing is answered" + hint, 0);
}

}  // namespace

struct advisers_api::impl {
  config cfg;
  std::shared_ptr<spdlog::logger> log;
  ruleset_choice& choice;
  writer& audit;
  asio::thread_pool pool{1};
  std::atomic<int> jobs{0};
  /// The server stops: a diff's or a what-if's solver query under way is interrupted and the
  /// rest answer at once, an impact stops at its next records (each request answered 503).
  analysis::halt halt;
  std::mutex cache_mutex;
  std::list<std::pair<std::string, std::string>> diffs;  // key -> JSON, most recent first

  impl(const config& c, std::shared_ptr<spdlog::logger> l, ruleset_choice& ch, writer& w)
      : cfg(c), log(std::move(l)), choice(ch), audit(w) {}
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl() { pool.join(); }

  /// The two publications' rulesets, or the problem (404 for an id that is not published). A
  /// ruleset not kept compiled is compiled on the pool (about 15 ms for the shipped pack), never
  /// on the I/O thread, whose connections would all wait for it; call it once admitted.
  asio::awaitable<std::optional<problem>> rulesets(const comparison& c, const compared& hashes,
                                                   chosen_ruleset& before, chosen_ruleset& after) {
    if (auto p = co_await ruleset(c.old_id, hashes.old_hash, "/old", before)) co_return p;
    co_return co_await ruleset(c.new_id, hashes.new_hash, "/new", after);
  }

  /// One publication's ruleset (rulesets), of the hash `published` found.
  asio::awaitable<std::optional<problem>> ruleset(std::int64_t id, const std::string& hash,
                                                  const char* pointer, chosen_ruleset& out) {
    if (auto kept = choice.cached(hash)) {
      out = chosen_ruleset{std::move(kept), id};
      co_return std::nullopt;
    }
    auto r = co_await asio::co_spawn(
        pool,
        [ch = &choice, id]() -> asio::awaitable<store::result<chosen_ruleset>> {
          co_return ch->by_id(id);
        },
        asio::use_awaitable);
    if (!r) co_return unloadable(r.error(), id, pointer);
    out = std::move(*r);
    co_return std::nullopt;
  }

  problem unloadable(const store::error& e, std::int64_t id, const char* pointer) {
    if (e.code == store::errc::not_found) {
      return not_found("no publication " + std::to_string(id) + " (" + pointer +
                       "): see GET /api/v1/publications");
    }
    log->error("advisers: publication {} cannot be loaded: {}", id, e.message);
    return server_error("the publication's ruleset cannot be loaded");
  }

  /// The two publication ids checked (404 for one that is not published), nothing compiled,
  /// and their rulesets' hashes: refusals that need no pool are answered before admission.
  std::optional<problem> published(const comparison& c, compared& hashes) {
    for (auto [id, pointer, out] : {std::tuple{c.old_id, "/old", &hashes.old_hash},
                                    std::tuple{c.new_id, "/new", &hashes.new_hash}}) {
      auto hash = choice.ruleset_hash(id);
      if (!hash) return unloadable(hash.error(), id, pointer);
      *out = std::move(*hash);
    }
    return std::nullopt;
  }

  /// A report's admission: refused while the server stops, or when max_jobs are admitted
  /// already (`slot` not admitted); otherwise the place is the caller's until `slot` ends.
  std::optional<problem> refusal(const admission& slot) const {
    if (halt.requested()) return stopping_problem();
    if (!slot.admitted()) return busy();
    return std::nullopt;
  }

  std::optional<std::string> cached_diff(const std::string& key) {
    std::lock_guard lock(cache_mutex);
    for (auto it = diffs.begin(); it != diffs.end(); ++it) {
      if (it->first == key) {
        diffs.splice(diffs.begin(), diffs, it);
        return diffs.front().second;
      }
    }
    return std::nullopt;
  }

  void keep_diff(std::string key, std::string json) {
    std::lock_guard lock(cache_mutex);
    diffs.emplace_front(std::move(key), std::move(json));
    while (diffs.size() > diff_cache_capacity) diffs.pop_back();
  }

  reply publications() {
    const char* route = "/api/v1/publications";
    auto list = choice.list();
    if (!list) {
      log->error("advisers: the publications cannot be read: {}", list.error().message);
      return problem_reply(unavailable("reading the publications failed"), route);
    }
    return json_reply(store::publications_json(*list, to_string(engine::utc_today())));
  }

  asio::awaitable<reply> diff(const request& req) {
    const char* route = "/api/v1/diff";
    comparison c;
    if (auto p = parse(req.body(), false, c)) co_return problem_reply(*p, route);
    compared hashes;
    if (auto p = published(c, hashes)) co_return problem_reply(*p, route);
    // Keyed by what is compared, the rulesets (a store restored from another's backup may give
    // an id another pack), and the date.
    std::string key = hashes.old_hash + ":" + hashes.new_hash + ":" +
                      (c.as_of ? to_string(*c.as_of) : std::string("all"));
    if (auto hit = cached_diff(key)) co_return json_reply(std::move(*hit));
    admission slot(jobs, max_jobs);
    if (auto refused = refusal(slot)) co_return problem_reply(*refused, route);
    chosen_ruleset before;
    chosen_ruleset after;
    if (auto p = co_await rulesets(c, hashes, before, after)) co_return problem_reply(*p, route);
    // The work's inputs live in this frame, which waits for it: the pool's coroutine gets a
    // plain pointer (GCC 12 destroys a coroutine lambda's non-trivial captures twice).
    diff_job job{before.rules, after.rules, {}, report_halt(&halt, cfg.reports_time_limit)};
    job.options.as_of = c.as_of;
    job.options.timeout_ms = diff_query_ms;
    std::optional<std::string> out = co_await asio::co_spawn(
        pool,
        [j = &job]() -> asio::awaitable<std::optional<std::string>> {
          j->options.stop = j->stop.start();
          analysis::diff_result r = analysis::diff(j->before, j->after, j->options);
          if (r.halted) co_return std::nullopt;  // incomplete: neither answered nor kept
          j->timed_out = r.timeouts != 0;
          co_return analysis::to_json(r);
        },
        asio::use_awaitable);
    if (!out) {
      co_return problem_reply(
          job.stop.out_of_time() ? out_of_time_problem("the diff") : stopping_problem(), route);
    }
    // A verdict left unknown for want of time may be found on a quieter moment: not kept.
    if (!job.timed_out) keep_diff(key, *out);
    co_return json_reply(std::move(*out));
  }

  asio::awaitable<reply> impact(const request& req, const principal& who) {
    const char* route = "/api/v1/impact";
    comparison c;
    if (auto p = parse(req.body(), true, c)) co_return problem_reply(*p, route);
    compared hashes;
    if (auto p = published(c, hashes)) co_return problem_reply(*p, route);
    if (who.r != role::auditor) {
      // An adviser's report names applicants by pseudonym: a filter on the id would undo it,
      // and a cohort of a few would single them out (the statistics' threshold applies).
      for (std::size_t i = 0; i < c.where.size(); ++i) {
        if (c.where[i].substr(0, c.where[i].find('=')) == "id") {
          co_return problem_reply(forbidden("an adviser's impact cannot filter on the "
                                            "applicant's id (/where/" +
                                            std::to_string(i) + ")"),
                                  route);
        }
      }
    }
    // The filters are read against the new pack's schema: before admission when that pack is
    // kept compiled (the one in effect usually is), so that a bad request is refused at once,
    // never told to wait (503); otherwise once it is compiled, on the pool.
    store::impact_request rq;
    const std::shared_ptr<const engine::ruleset> kept_new = choice.cached(hashes.new_hash);
    if (kept_new) {
      if (auto p = filters(kept_new->program(), c.where, rq.filter)) {
        co_return problem_reply(*p, route);
      }
    }
    admission slot(jobs, max_jobs);
    if (auto refused = refusal(slot)) co_return problem_reply(*refused, route);
    chosen_ruleset before;
    chosen_ruleset after;
    if (auto p = co_await rulesets(c, hashes, before, after)) co_return problem_reply(*p, route);
    if (!kept_new) {
      if (auto p = filters(after.rules->program(), c.where, rq.filter)) {
        co_return problem_reply(*p, route);
      }
    }
    if (who.r != role::auditor) rq.min_records = suppressed_below;
    rq.stop = &halt.flag();
    rq.actor = who.name;
    rq.reveal_ids = who.r == role::auditor;  // advisers get pseudonyms, never applicant ids
    // …and of the records' values, the categories alone: a birth date, a nationality and an
    // income beside a pseudonym would single an applicant out as well as an id.
    rq.options.categories_only = who.r != role::auditor;
    rq.options.as_of = *c.as_of;
    rq.options.threads = 1;
    impact_job job{
        cfg.db,       before.rules,          after.rules, std::move(rq), cfg.master_key.has_value(),
        cfg.key_file, cfg.reports_time_limit};
    auto outcome = co_await asio::co_spawn(
        pool,
        [j = &job]() -> asio::awaitable<store::result<std::string>> {
          // The time limit counts from when the pool's thread takes the impact up: a report
          // running before it is not this one's time.
          j->request.deadline = std::chrono::steady_clock::now() + j->time_limit;
          j->request.deadline_passed = &j->deadline_passed;
          co_return j->run();
        },
        asio::use_awaitable);
    if (!outcome) {
      const store::error& e = outcome.error();
      if (e.code == store::errc::refused) co_return problem_reply(conflict(e.message), route);
      if (e.code == store::errc::busy) {
        // In the server's own words: a busy store's message may name a batch's host and process.
        if (halt.requested()) co_return problem_reply(stopping_problem(), route);
        if (job.deadline_passed) {
          co_return problem_reply(
              out_of_time_problem("the impact", " (narrow the cohort with where)"), route);
        }
        log->warn("advisers: an impact found the store busy: {}", e.message);
        co_return problem_reply(
            unavailable("the store is busy: nothing is answered; try again shortly", 5), route);
      }
      log->error("advisers: an impact failed: {}", e.message);
      co_return problem_reply(unavailable("the impact failed; nothing is answered"), route);
    }
    co_return json_reply(std::move(*outcome));
  }

  /// POST /api/v1/whatif: `dalil whatif`'s JSON for the facts sent, under the ruleset in effect
  /// on the as-of date, with its text in the language asked. The answer leaves only once its
  /// audit entry (action whatif: the decision, the goal when it is a category, the date, the
  /// publication and the hash of the facts, never a fact) is committed.
  asio::awaitable<reply> whatif(const request& req, const principal& who) {
    const char* route = "/api/v1/whatif";
    whatif_request w;
    if (auto p = parse_whatif(req.body(), w)) co_return problem_reply(*p, route);
    auto chosen = choice.for_date(*w.as_of);
    if (!chosen) {
      if (chosen.error().code == store::errc::not_found) {
        co_return problem_reply(
            no_ruleset(chosen.error().message + ": publish a rule pack for it (dalil publish)"),
            route);
      }
      log->error("advisers: the ruleset in effect cannot be loaded: {}", chosen.error().message);
      co_return problem_reply(server_error("the ruleset in effect cannot be loaded"), route);
    }
    const dsl::program& p = chosen->rules->program();
    const std::optional<std::uint32_t> goal_rule = p.find_rule(w.decision);
    if (!goal_rule) {
      co_return problem_reply(
          bad_request("the request is not valid",
                      {{"/goal",
                        "names no decision of the pack (write module.rule=value, as GET "
                        "/api/v1/rules lists them)"}}),
          route);
    }
    {
      // The facts as the record reader reads them on that date: where and why, never a value.
      engine::record_reader reader(p);
      reader.set_as_of(*w.as_of);
      reader.set_intake(true);  // facts typed for this question
      engine::record rec;
      engine::record_error rerr;
      const bool fits = reader.read(w.facts, rec, rerr);
      rec.wipe();  // only checked here
      if (!fits) {
        co_return problem_reply(bad_request("the applicant's record does not fit the schema",
                                            {{field_pointer("/facts", rerr.field), rerr.message}}),
                                route);
      }
    }
    admission slot(jobs, max_jobs);
    if (auto refused = refusal(slot)) co_return problem_reply(*refused, route);
    whatif_job job{
        chosen->rules, w, std::string(w.facts), {}, {}, report_halt(&halt, cfg.reports_time_limit)};
    co_await asio::co_spawn(
        pool,
        [j = &job]() -> asio::awaitable<void> {
          j->run();
          co_return;
        },
        asio::use_awaitable);
    if (job.result && job.result->halted) {
      co_return problem_reply(
          job.stop.out_of_time() ? out_of_time_problem("the what-if") : stopping_problem(), route);
    }
    if (!job.result) {
      // A goal that is no value of the decision's type (named by the type and its values), or
      // a fact the solver cannot take as read (named by its field): never a value.
      bool fact = job.error.rfind("field ", 0) == 0;
      co_return problem_reply(
          bad_request("the request is not valid", {{fact ? "/facts" : "/goal", job.error}}), route);
    }
    auto entry = std::make_shared<write_job>();
    entry->what = write_job::kind::audit;
    entry->actor = who.name;
    entry->action = "whatif";
    entry->subject = "facts";
    std::string& d = entry->details;
    d = "{\"decision\":";
    engine::append_json_string(d, w.decision);
    // The goal's value only when it is a category (a yes or no, an enumeration's case): an
    // amount, a date or a number typed as a goal may be the applicant's own, and the audit
    // chain outlives erasure.
    const bool category = dsl::categorical(p.rules[*goal_rule].t);
    d += ",\"goal\":" + (category ? job.result->goal : std::string("null")) + ",\"as_of\":\"" +
         to_string(*w.as_of) + "\",\"publication\":";
    d += chosen->publication != 0 ? std::to_string(chosen->publication) : "null";
    std::string canonical = engine::canonical_json(w.facts);
    d += ",\"input\":\"" + engine::sha256_hex(canonical) + "\"}";
    store::crypto::wipe(canonical);
    co_await audit.async_write(entry, asio::use_awaitable);
    if (!entry->result) {
      log->error("advisers: a what-if's audit entry could not be written: {}",
                 entry->result.error().message);
      co_return problem_reply(
          unavailable("the audit entry could not be written; nothing is answered"), route);
    }
    engine::lang l = w.lang ? *w.lang : engine::lang_or_en(who.lang);
    std::string out = analysis::to_json(*job.result);
    out.pop_back();  // its closing brace
    out += ",\"publication\":";
    out += chosen->publication != 0 ? std::to_string(chosen->publication) : "null";
    out += ",\"lang\":\"";
    out += engine::lang_code(l);
    out += "\",\"text\":";
    engine::append_json_string(out, analysis::to_text(*job.result, p, l));
    out += '}';
    co_return json_reply(std::move(out));
  }
};

advisers_api::advisers_api(const config& c, std::shared_ptr<spdlog::logger> log,
                           ruleset_choice& choice, writer& audit)
    : impl_(std::make_unique<impl>(c, std::move(log), choice, audit)) {}

advisers_api::~advisers_api() = default;

void advisers_api::halt() {
  impl_->halt.request();
}

void advisers_api::stop() {
  // Asked again while an analysis runs: Z3 4.8 can undo an interrupt that comes just as a query
  // starts, and that query would then run without a limit (analysis/halt.hpp).
  for (impl_->halt.request(); impl_->halt.watching();) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    impl_->halt.request();
  }
  impl_->pool.join();
}

asio::awaitable<reply> advisers_api::handle(route_id route, const request& req,
                                            const principal& who, const request_info& info) {
  (void)info;
  switch (route) {
    case route_id::publications:
      co_return impl_->publications();
    case route_id::diff:
      co_return co_await impl_->diff(req);
    case route_id::impact:
      co_return co_await impl_->impact(req, who);
    case route_id::whatif:
      co_return co_await impl_->whatif(req, who);
    default:
      break;
  }
  co_return problem_reply(not_found());
}

}  // namespace dalil::server
