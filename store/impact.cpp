// The latest stored records as a cohort source for engine::run_impact, inside one audited read.
#include "store/impact.hpp"

#include <optional>
#include <utility>

#include "engine/record.hpp"

namespace dalil::store {

namespace {

/// Reads the cohort chunk by chunk through store::next_latest (the batch's own record path).
class stored_cohort final : public engine::cohort_source {
 public:
  stored_cohort(store& db, const std::vector<record_filter>& filter) : db_(db), filter_(filter) {}

  bool next(std::size_t limit, std::vector<engine::cohort_row>& out) override {
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
  store& db_;
  const std::vector<record_filter>& filter_;
  std::int64_t after_ = 0;
  std::vector<stored_record> records_;
  std::optional<error> error_;
};

std::string filter_text(const std::vector<record_filter>& filter) {
  std::string out;
  for (const auto& f : filter) out += (out.empty() ? "" : " and ") + f.path + "=" + f.value;
  return out;
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
  auto matching = db.count_matching(request.filter);
  if (!matching) return matching.error();
  if (*matching == 0) {
    auto all = db.count_records();
    if (!all) return all.error();
    if (*all == 0) {
      return fail(errc::refused, "the store holds no applicant record: import a cohort first");
    }
    return fail(errc::refused, "no applicant matches --where " + filter_text(request.filter) +
                                   " (of " + std::to_string(*all) + " stored): nothing was read");
  }
  // The entry says who read what for which comparison; never a value of a record.
  std::string details = "{\"purpose\":\"impact\",\"old_ruleset\":\"" + old_rules->hash() +
                        "\",\"new_ruleset\":\"" + new_rules->hash() + "\",\"as_of\":\"" +
                        to_string(request.options.as_of) + "\",\"filter\":";
  engine::append_json_string(details, filter_text(request.filter));
  details += ",\"records\":" + std::to_string(*matching);
  details += request.reveal_ids ? ",\"ids\":\"revealed\"" : ",\"ids\":\"pseudonymised\"";
  if (!request.by.empty()) {
    details += ",\"by\":";
    engine::append_json_string(details, request.by);
  }
  details += "}";
  return db.audited_read(request.actor, "cohort", details, [&]() -> status {
    stored_cohort cohort(db, request.filter);
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

}  // namespace dalil::store
