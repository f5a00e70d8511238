// `dalil impact`: what a rule revision changes over the stored cohort, and why (an audited read).
// Exit codes as the store commands: 0 done; 1 failed; 2 usage; 3 refused; 4 busy.
#pragma once

#include <string>
#include <vector>

namespace dalil::cli {

struct impact_options {
  std::string db;
  std::string old_rules;
  std::string new_rules;
  std::string as_of;
  std::vector<std::string> where;  // FIELD=VALUE
  std::string out;                 // "": no files (the summary only)
  std::string format = "text";     // of the summary on the standard output: text or json
  std::string lang = "fr";         // of the text summary and of report.html
  std::string by;                  // the name of the person the read is for (audit entry)
  unsigned threads = 2;
  bool reveal_ids = false;  // applicant ids in the outputs (auditors; the audit entry says so)
};
int run_impact(const impact_options& o);

}  // namespace dalil::cli
