// RFC 9457 problem details, built by one function: every error response of the API goes through
// it, so that each carries a type, a title, the status and a detail that names where and why —
// never a value the client sent.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dalil::server {

/// One field-level error: a JSON pointer into the request body and the reason.
struct field_error {
  std::string pointer;
  std::string detail;
};

struct problem {
  int status = 500;
  std::string slug;    // the type is https://dalil.ma/problems/<slug>
  std::string title;   // the same for every problem of this slug
  std::string detail;  // this occurrence
  std::vector<field_error> errors;
  int retry_after = 0;  // seconds (429, 503): also sent as the Retry-After header
};

/// The problem+json body of `p`; `instance` (the request's route template, or empty) is added
/// as "instance" when not empty.
std::string problem_json(const problem& p, std::string_view instance = {});

// The problems of the API, one constructor each (the OpenAPI document lists the slugs).
problem bad_request(std::string detail, std::vector<field_error> errors = {});
problem malformed_json(std::string detail);
problem unauthorized(std::string detail = "sign in, or send a bearer token");
/// 401 for a bearer token past its expiry (dalil token create --expires).
problem expired_token(std::string detail);
problem forbidden(std::string detail);
/// 403 for an unsafe request of a browser session without its X-CSRF-Token (or a wrong one).
problem csrf_refused(std::string detail);
problem not_found(std::string detail = "nothing here");
problem method_not_allowed(std::string detail);
problem timed_out(std::string detail);
problem conflict(std::string detail);
/// 410 erased: the decision's applicant was erased (`dalil erase`, retention; Law 09-08 art. 8):
/// their record can never be read again; the decision still counts in the figures.
problem erased(std::string detail);
problem too_large(std::string detail);
problem unsupported_media_type(std::string detail);
problem header_too_large(std::string detail);
problem too_many_requests(std::string detail, int retry_after);
problem server_error(std::string detail);
/// 409 no-ruleset: a server serving its store's publications has none in effect on the date
/// asked (dalil publish); it never guesses with another.
problem no_ruleset(std::string detail);
problem unavailable(std::string detail, int retry_after = 1);

}  // namespace dalil::server
