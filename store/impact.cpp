// The latest stored records as a cohort source for engine::run_impact, inside one audited read.
#include "store/impact.hpp"

#include <optional>
#include <string_view>
#include <utility>

#include "dsl/program.hpp"
#include "engine/record.hpp"

namespace dalil::store {

namespace {

/// Reads the cohort chunk by chunk through store::next_latest (the batch's own record path).
class stored_cohort final : public engine::cohort_source {
 public:
  stored_cohort(store& db, const std::vector<record_filter>& filter,
                std::chrono::steady_clock::time_point deadline, bool* deadline_passed,
                const std::atomic<bool>* stop)
      : db_(db),
        filter_(filter),
        deadline_(deadline),
        deadline_passed_(deadline_passed),
        stop_(stop) {}

  ~stored_cohort() override { wipe(); }  // records a failed read opened and did not hand over
  stored_cohort(const stored_cohort&) = delete;
  stored_cohort& operator=(const stored_cohort&) = delete;

  bool next(std::size_t limit, std::vector<engine::cohort_row>& out) override {
    // The rows handed over before are done with, and the records read are applicants' personal
    // data: zeroed before their buffers are reused, shrunk or freed. (records_ holds the
    // buffers the last call swapped out of `out`, zeroed then.)
    for (engine::cohort_row& r : out) r.wipe();
    if (std::chrono::steady_clock::now() > deadline_) {
      if (deadline_passed_ != nullptr) *deadline_passed_ = true;
      error_ = fail(errc::busy,
                    "the impact passed its time limit before the whole cohort was "
                    "read: nothing is answered (narrow it with where)");
      out.clear();
      return false;
    }
    if (stop_ != nullptr && stop_->load(std::memory_order_acquire)) {
      error_ = fail(
          errc::busy,
          "stopped before the whole cohort was read (the server is stopping): nothing is answered");
      out.clear();
      return false;
    }
    if (auto s = db_.next_latest(filter_, after_, limit, records_); !s) {
      error_ = s.error();
      out.clear();
      return false;
    }
    out.resize(records_.size());
    // Swapped, not copied: the strings' capacity goes back and forth between the two vectors.
    for (std::size_t i = 0; i < records_.size(); ++i) {
      std::swap(out[i].applicant_id, records_[i].applicant_id);
      std::swap(out[i].json, records_[i].json);
    }
    if (!records_.empty()) after_ = records_.back().record_id;
    return true;
  }

  const std::optional<error>& failure() const { return error_; }

 private:
  void wipe() {
    for (stored_record& r : records_) {
      engine::wipe_text(r.applicant_id);
      engine::wipe_text(r.json);
    }
  }

  store& db_;
  const std::vector<record_filter>& filter_;
  std::chrono::steady_clock::time_point deadline_;
  bool* deadline_passed_;
  const std::atomic<bool>* stop_;
  std::int64_t after_ = 0;
  std::vector<stored_record> records_;
  std::optional<error> error_;
};

/// The filter as the impact's audit entry keeps it, which erasure never reaches: a value that is
/// a category (a yes or no, a case of an enumeration) as it is; the applicant's id as the store
/// names applicants in its entries (a pseudonym in an encrypted store); any other value (a
/// date, an amount, a text) left out, the field alone.
result<std::string> audit_filter(store& db, const dsl::program& p,
                                 const std::vector<record_filter>& filter) {
  std::string out;
  for (const record_filter& f : filter) {
    if (!out.empty()) out += " and ";
    out += f.path;
    if (f.path == "id") {
      auto key = db.applicant_key(f.value);
      if (!key) return key.error();
      out += "=" + *key;
      continue;
    }
    const dsl::field_info* field = dsl::field_at(p, f.path);
    if (field != nullptr && dsl::categorical(field->t)) out += "=" + f.value;
  }
  return out;
}

std::string group_of(const engine::decision_impact& d) {
  if (d.program.empty()) return "";
  return d.program + (d.osp.empty() ? "" : ", " + d.osp);
}

std::string_view status_of(const engine::decision_side& s) {
  return !s.in_force ? "out_of_force" : s.decided ? "decided" : "undetermined";
}

}  // namespace

status read_impact(store& db, const std::shared_ptr<const engine::ruleset>& old_rules,
                   const std::shared_ptr<const engine::ruleset>& new_rules,
                   const impact_request& request, engine::impact_sink& sink,
                   engine::impact_summary& summary) {
  if (db.read_only()) {
    // Refused before anything is counted: a store that cannot record the read is not read.
    return db.audited_read(request.actor, "cohort", "{}", [] { return status{}; });
  }
  // The entry says who read what for which comparison; never a value of a record.
  auto filter = audit_filter(db, new_rules->program(), request.filter);
  if (!filter) return filter.error();
  auto details = [&](std::int64_t records, std::string_view refused) {
    std::string d = "{\"purpose\":\"impact\",\"old_ruleset\":\"" + old_rules->hash() +
                    "\",\"new_ruleset\":\"" + new_rules->hash() + "\",\"as_of\":\"" +
                    to_string(request.options.as_of) + "\",\"filter\":";
    engine::append_json_string(d, *filter);
    d += ",\"records\":" + std::to_string(records);
    d += request.reveal_ids ? ",\"ids\":\"revealed\"" : ",\"ids\":\"pseudonymised\"";
    if (!request.by.empty()) {
      d += ",\"by\":";
      engine::append_json_string(d, request.by);
    }
    if (!refused.empty()) {
      d += ",\"refused\":";
      engine::append_json_string(d, refused);
    }
    d += "}";
    return d;
  };
  auto matching = db.count_matching(request.filter);
  if (!matching) return matching.error();
  std::optional<std::int64_t> stored;  // every record, counted when none matches
  if (*matching == 0) {
    auto all = db.count_records();
    if (!all) return all.error();
    if (*all == 0) {
      return fail(errc::refused, "the store holds no applicant record: import a cohort first");
    }
    stored = *all;
  }
  const bool too_few = request.min_records > 0 && *matching < request.min_records;
  if (too_few || *matching == 0) {
    // The same answer for none and for a few (below the threshold): neither how many match nor
    // whether any does.
    const error refusal =
        too_few
            ? fail(
                  errc::refused,
                  "fewer than " + std::to_string(request.min_records) + " stored records match" +
                      (request.filter.empty() ? std::string()
                                              : " the filter on " + filter_fields(request.filter)) +
                      ": an impact over so few would single applicants out; only their number "
                      "was read")
            : fail(errc::refused,
                   "no applicant matches the filter on " + filter_fields(request.filter) + " (of " +
                       std::to_string(*stored) + " stored): only their number was read");
    // Counting the matching records opened them (an encrypted store's are decrypted to be
    // matched): the refused attempt is on the record too, before it is answered.
    auto audited =
        db.audit(request.actor, "read", "cohort",
                 details(*matching, too_few ? "too few records match" : "no record matches"));
    if (!audited) return audited.error();
    return refusal;
  }
  return db.audited_read(request.actor, "cohort", details(*matching, ""), [&]() -> status {
    stored_cohort cohort(db, request.filter, request.deadline, request.deadline_passed,
                         request.stop);
    switch (engine::run_impact(old_rules, new_rules, cohort, sink, request.options, summary)) {
      case engine::impact_status::done:
        return {};
      case engine::impact_status::source_failed:
        if (cohort.failure()) return *cohort.failure();
        return fail(errc::failed, "reading the stored records failed");
      case engine::impact_status::sink_failed:
        return fail(errc::failed, "writing the outputs of the impact failed");
    }
    return {};
  });
}

std::string impact_summary_json(const engine::impact_summary& s, const std::string& filter,
                                bool reveal) {
  std::string out = "{\"old_ruleset\":\"" + s.old_hash + "\",\"new_ruleset\":\"" + s.new_hash +
                    "\",\"as_of\":\"" + to_string(s.as_of) + "\",\"filter\":";
  engine::append_json_string(out, filter);
  out += ",\"ids\":\"" + std::string(reveal ? "revealed" : "pseudonymised") + "\"";
  out += ",\"records\":" + std::to_string(s.records);
  out += ",\"compared\":" + std::to_string(s.compared);
  out += ",\"unreadable\":{\"old\":" + std::to_string(s.unreadable_old) +
         ",\"new\":" + std::to_string(s.unreadable_new) + "}";
  out += ",\"applicants_flipped\":" + std::to_string(s.applicants_flipped);
  out += ",\"flips\":" + std::to_string(s.flips);
  out += ",\"decisions\":[";
  for (std::size_t i = 0; i < s.decisions.size(); ++i) {
    const engine::decision_impact& d = s.decisions[i];
    if (i) out += ',';
    out += "{\"decision\":";
    engine::append_json_string(out, d.name);
    out += ",\"program\":";
    engine::append_json_string(out, d.program);
    out += ",\"osp\":";
    engine::append_json_string(out, d.osp);
    out += ",\"flips\":" + std::to_string(d.flips) + ",\"categories\":{";
    bool first = true;
    for (std::size_t c = 0; c < engine::flip_category_count; ++c) {
      if (d.by_category[c] == 0) continue;
      if (!first) out += ',';
      first = false;
      out += '"';
      out += engine::category_id(static_cast<engine::flip_category>(c));
      out += "\":" + std::to_string(d.by_category[c]);
    }
    out += "},\"transitions\":[";
    for (std::size_t t = 0; t < d.transitions.size(); ++t) {
      const engine::transition& x = d.transitions[t];
      if (t) out += ',';
      out += "{\"from\":";
      engine::append_json_string(out, x.from);
      out += ",\"to\":";
      engine::append_json_string(out, x.to);
      out += ",\"category\":";
      if (x.category) {
        out += '"';
        out += engine::category_id(*x.category);
        out += '"';
      } else {
        out += "null";
      }
      out += ",\"count\":" + std::to_string(x.count) + "}";
    }
    out += "],\"why\":[";
    for (std::size_t w = 0; w < d.why.size(); ++w) {
      if (w) out += ',';
      out += "{\"rule\":";
      engine::append_json_string(out, d.why[w].first);
      out += ",\"flips\":" + std::to_string(d.why[w].second) + "}";
    }
    out += "]}";
  }
  auto names = [&out](const std::vector<std::string>& list) {
    out += '[';
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i) out += ',';
      engine::append_json_string(out, list[i]);
    }
    out += ']';
  };
  out += "],\"only_old\":";
  names(s.only_old);
  out += ",\"only_new\":";
  names(s.only_new);
  out += "}";
  return out;
}

void append_flip_json(std::string& out, const engine::impact_flip& f,
                      const engine::decision_impact& d, std::string_view who) {
  out += "{\"applicant\":";
  engine::append_json_string(out, who);
  out += ",\"decision\":";
  engine::append_json_string(out, d.name);
  out += ",\"program\":";
  engine::append_json_string(out, group_of(d));
  out += ",\"category\":\"";
  out += engine::category_id(f.category);
  out += "\",\"before\":{\"status\":\"";
  out += status_of(f.before);
  // The values and the why are appended piece by piece: a temporary string holding them would
  // be freed without being zeroed (the server's flip list also reserves `out` so that it does
  // not grow; in the dalil executable every freed block is zeroed anyway: zero_on_free.cpp).
  out += '"';
  if (!f.before.value.empty()) {
    out += ",\"value\":";
    out += f.before.value;
  }
  out += "},\"after\":{\"status\":\"";
  out += status_of(f.after);
  out += '"';
  if (!f.after.value.empty()) {
    out += ",\"value\":";
    out += f.after.value;
  }
  out += "},\"why\":{\"rule\":";
  engine::append_json_string(out, f.why_rule);
  out += ",\"before\":";
  out += f.why_before;
  out += ",\"after\":";
  out += f.why_after;
  out += "}}";
}

}  // namespace dalil::store
