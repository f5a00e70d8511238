// The ruleset per as-of date (publications.hpp).
#include "server/publications.hpp"

#include <utility>

#include "engine/evaluation.hpp"
#include "store/batch.hpp"
#include "store/pg/open.hpp"

namespace dalil::server {

namespace {

/// Compiled publications kept at once, per use: a server decides with one or two at a time (the
/// one in effect today and, for back-dated requests, an earlier one); diffs and impacts may name
/// more.
constexpr std::size_t compiled_capacity = 8;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ruleset_choice::ruleset_choice(std::shared_ptr<const engine::ruleset> fixed)
    : fixed_(std::move(fixed)) {}

ruleset_choice::~ruleset_choice() = default;

store::result<std::unique_ptr<ruleset_choice>> ruleset_choice::published(
    const std::string& db, std::chrono::milliseconds poll) {
  std::unique_ptr<ruleset_choice> c(new ruleset_choice());
  auto s = store::open_publications(db);
  if (!s) return s.error();
  c->db_ = std::move(*s);
  c->poll_ = poll;
  if (auto r = c->refresh(true); !r) return r.error();
  return c;
}

store::status ruleset_choice::refresh(bool now_please) {
  std::int64_t now = now_ns();
  // Lock-free until the interval has passed (published() loads the list before any request).
  if (!now_please && now < next_poll_.load(std::memory_order_relaxed)) return {};
  std::lock_guard store_lock(store_mutex_);
  if (!now_please && loaded_ && now < next_poll_.load(std::memory_order_relaxed)) {
    return {};  // another thread polled meanwhile
  }
  auto v = db_->version();
  if (!v) return v.error();
  if (!loaded_ || !(*v == version_)) {
    auto l = db_->list();
    if (!l) return l.error();
    {
      std::lock_guard lock(mutex_);
      list_ = std::move(*l);
    }
    version_ = *v;
    loaded_ = true;
  }
  next_poll_.store(now + std::chrono::duration_cast<std::chrono::nanoseconds>(poll_).count(),
                   std::memory_order_relaxed);
  return {};
}

std::shared_ptr<const engine::ruleset> ruleset_choice::kept(const std::string& hash, bool touch,
                                                            use u) {
  std::lock_guard lock(mutex_);
  auto& mine = cache(u);
  auto& other = cache(u == use::deciding ? use::comparing : use::deciding);
  for (auto it = mine.begin(); it != mine.end(); ++it) {
    if ((*it)->hash() == hash) {
      if (touch) mine.splice(mine.begin(), mine, it);
      return *it;
    }
  }
  for (const auto& r : other) {
    if (r->hash() != hash) continue;
    if (touch) {
      mine.push_front(r);
      if (mine.size() > compiled_capacity) mine.pop_back();
    }
    return r;
  }
  return nullptr;
}

store::result<std::shared_ptr<const engine::ruleset>> ruleset_choice::compiled(
    const std::string& hash, use u) {
  if (auto hit = kept(hash, true, u)) return hit;
  std::lock_guard compile_lock(compile_mutex_);
  if (auto hit = kept(hash, true, u)) return hit;  // compiled while this thread waited
  store::result<std::string> source = [&] {
    std::lock_guard store_lock(store_mutex_);
    return db_->ruleset_source(hash);
  }();
  if (!source) return source.error();
  std::string why;
  auto rules = store::stored_ruleset(hash, *source, why);
  if (!rules) {
    // The diagnostics quote the source, never a personal value; the log gets the hash only.
    return store::fail(store::errc::damaged,
                       "the stored ruleset " + hash.substr(0, 12) + " no longer compiles");
  }
  std::lock_guard lock(mutex_);
  auto& mine = cache(u);
  mine.push_front(rules);
  if (mine.size() > compiled_capacity) mine.pop_back();
  return rules;
}

store::result<chosen_ruleset> ruleset_choice::for_date(date as_of) {
  if (fixed_) return chosen_ruleset{fixed_, 0};
  if (auto r = refresh(); !r) return r.error();
  std::string day = to_string(as_of);
  std::int64_t id = 0;
  std::string hash;
  {
    std::lock_guard lock(mutex_);
    const store::publication* p = store::in_effect(list_, day);
    if (p == nullptr) {
      return store::fail(store::errc::not_found, "no publication is in effect on " + day);
    }
    id = p->id;
    hash = p->ruleset_hash;
  }
  auto rules = compiled(hash, use::deciding);
  if (!rules) return rules.error();
  return chosen_ruleset{std::move(*rules), id};
}

store::result<std::string> ruleset_choice::ruleset_hash(std::int64_t id) {
  if (fixed_) {
    return store::fail(store::errc::not_found,
                       "this server decides with one rule pack (--rules): it has no publications");
  }
  // An id not seen yet may be a publication made since the last poll: polled again at once
  // (advisers name publications they have just listed). The poll holds the store's lock only.
  for (bool again : {false, true}) {
    if (auto r = refresh(again); !r) return r.error();
    std::lock_guard lock(mutex_);
    for (const store::publication& p : list_) {
      if (p.id == id) return p.ruleset_hash;
    }
  }
  return store::fail(store::errc::not_found, "no publication " + std::to_string(id));
}

store::result<chosen_ruleset> ruleset_choice::by_id(std::int64_t id) {
  auto hash = ruleset_hash(id);
  if (!hash) return hash.error();
  auto rules = compiled(*hash, use::comparing);
  if (!rules) return rules.error();
  return chosen_ruleset{std::move(*rules), id};
}

store::result<std::vector<store::publication>> ruleset_choice::list() {
  if (fixed_) return std::vector<store::publication>();
  if (auto r = refresh(); !r) return r.error();
  std::lock_guard lock(mutex_);
  return list_;
}

std::shared_ptr<const engine::ruleset> ruleset_choice::cached(const std::string& hash) {
  if (fixed_) return fixed_->hash() == hash ? fixed_ : nullptr;
  return kept(hash, false, use::comparing);
}

std::string decision_compact_form(const store::counter_decision& d) {
  std::string out = engine::compact_form(d.as_of, d.ruleset_hash, d.input_hash, d.outcomes);
  if (d.publication_id != 0) {
    out.pop_back();  // its closing brace
    out += ",\"publication\":" + std::to_string(d.publication_id) + '}';
  }
  return out;
}

}  // namespace dalil::server
