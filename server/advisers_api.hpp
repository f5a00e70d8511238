// The advisers' API: the publications of the store, and between two of them the semantic diff
// (`dalil diff`'s JSON, analysis::diff) and the impact over the stored cohort (`dalil impact`'s
// summary with the flips, pseudonymised for advisers; an audited read of the cohort); for one
// applicant's facts, what would make a decision reach a goal (`dalil whatif`'s JSON, audited).
// Routes of the adviser and auditor roles only (router.cpp); heavy work on a pool of its own,
// bounded.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>

#include "server/context.hpp"

namespace spdlog {
class logger;
}

namespace dalil::server {

struct principal;
class ruleset_choice;
class writer;

class advisers_api {
 public:
  /// `audit` is the server's writer: a what-if's audit entry goes through it (group commit).
  advisers_api(const config& c, std::shared_ptr<spdlog::logger> log, ruleset_choice& choice,
               writer& audit);
  ~advisers_api();
  /// The server stops: the work under way ends early (a diff's or a what-if's solver query is
  /// interrupted and the rest are not asked, an impact stops at its next records) and its
  /// request is answered 503; a report asked from now on too (a diff already cached is still
  /// answered). From any thread.
  void halt();
  /// halt(), asked again while an analysis runs (analysis/halt.hpp: Z3 can undo an interrupt
  /// that comes just as a query starts), then waits for the pool's work to end: a moment.
  /// Called while the I/O contexts still exist: a job's end is handed to the context of the
  /// request that waits for it, and must never reach one destroyed.
  void stop();
  advisers_api(const advisers_api&) = delete;
  advisers_api& operator=(const advisers_api&) = delete;

  /// Answers GET /api/v1/publications, POST /api/v1/diff, POST /api/v1/impact and POST
  /// /api/v1/whatif (`route` says which) for a principal the route table has already let in
  /// (roles, CSRF, content type).
  boost::asio::awaitable<reply> handle(route_id route, const request& req, const principal& who,
                                       const request_info& info);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace dalil::server
