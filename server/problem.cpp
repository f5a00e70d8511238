// Problem details (problem.hpp).
#include "server/problem.hpp"

#include <utility>

#include "engine/record.hpp"

namespace dalil::server {

std::string problem_json(const problem& p, std::string_view instance) {
  std::string out = "{\"type\":\"https://dalil.ma/problems/";
  out += p.slug;
  out += "\",\"title\":";
  engine::append_json_string(out, p.title);
  out += ",\"status\":";
  out += std::to_string(p.status);
  out += ",\"detail\":";
  engine::append_json_string(out, p.detail);
  if (!instance.empty()) {
    out += ",\"instance\":";
    engine::append_json_string(out, instance);
  }
  if (!p.errors.empty()) {
    out += ",\"errors\":[";
    for (std::size_t i = 0; i < p.errors.size(); ++i) {
      if (i) out += ',';
      out += "{\"pointer\":";
      engine::append_json_string(out, p.errors[i].pointer);
      out += ",\"detail\":";
      engine::append_json_string(out, p.errors[i].detail);
      out += '}';
    }
    out += ']';
  }
  out += '}';
  return out;
}

namespace {
problem make(int status, const char* slug, const char* title, std::string detail) {
  problem p;
  p.status = status;
  p.slug = slug;
  p.title = title;
  p.detail = std::move(detail);
  return p;
}
}  // namespace

problem bad_request(std::string detail, std::vector<field_error> errors) {
  problem p = make(400, "invalid-request", "The request is not valid", std::move(detail));
  p.errors = std::move(errors);
  return p;
}
problem malformed_json(std::string detail) {
  return make(400, "malformed-json", "The body is not well-formed JSON", std::move(detail));
}
problem unauthorized(std::string detail) {
  return make(401, "unauthorized", "Authentication is required", std::move(detail));
}
problem expired_token(std::string detail) {
  return make(401, "token-expired", "The bearer token has expired", std::move(detail));
}
problem forbidden(std::string detail) {
  return make(403, "forbidden", "Not allowed for this role", std::move(detail));
}
problem csrf_refused(std::string detail) {
  return make(403, "csrf", "The request's CSRF token is missing or wrong", std::move(detail));
}
problem not_found(std::string detail) {
  return make(404, "not-found", "Not found", std::move(detail));
}
problem method_not_allowed(std::string detail) {
  return make(405, "method-not-allowed", "Method not allowed", std::move(detail));
}
problem timed_out(std::string detail) {
  return make(408, "timeout", "The request was not received in time", std::move(detail));
}
problem conflict(std::string detail) {
  return make(409, "conflict", "Written against a state that is no longer the latest",
              std::move(detail));
}
problem erased(std::string detail) {
  return make(410, "erased", "The applicant's data was erased", std::move(detail));
}
problem too_large(std::string detail) {
  return make(413, "too-large", "The body is too large", std::move(detail));
}
problem unsupported_media_type(std::string detail) {
  return make(415, "unsupported-media-type", "Unsupported media type", std::move(detail));
}
problem header_too_large(std::string detail) {
  return make(431, "header-too-large", "The request header is too large", std::move(detail));
}
problem too_many_requests(std::string detail, int retry_after) {
  problem p = make(429, "too-many-requests", "Too many attempts", std::move(detail));
  p.retry_after = retry_after;
  return p;
}
problem no_ruleset(std::string detail) {
  return make(409, "no-ruleset", "No ruleset is in effect on this date", std::move(detail));
}
problem server_error(std::string detail) {
  return make(500, "server-error", "The server failed", std::move(detail));
}
problem unavailable(std::string detail, int retry_after) {
  problem p = make(503, "unavailable", "The service is unavailable", std::move(detail));
  p.retry_after = retry_after;
  return p;
}

}  // namespace dalil::server
