// The route table: (method, route template) → handler and the roles allowed, deny by default.
// A path that matches no template is 404; one that matches with another method is 405.
#pragma once

#include <array>
#include <cstdint>
#include <ostream>  // Beast's string_view needs the stream operators declared
#include <span>
#include <string_view>

#include <boost/beast/http/verb.hpp>

namespace dalil::server {

/// What a route needs: nothing (public), or a principal of one of the roles (a bit per role,
/// in the order of server::role).
enum : std::uint8_t {
  allow_official = 1U << 0U,
  allow_adviser = 1U << 1U,
  allow_auditor = 1U << 2U,
  allow_admin = 1U << 3U,
};

enum class route_id : std::uint8_t {
  root,
  asset,
  healthz,
  openapi,
  login,
  logout,
  session,
  session_lang,
  schema,
  evaluate,
  decision,
  review,
  applicant_decisions,
  applicant_record,
  reviews,
  rules,
  stats,
  audit_verify,
  publications,  // the advisers' API (advisers_api.cpp)
  diff,
  impact,
  whatif,
};

struct route {
  boost::beast::http::verb method;
  std::string_view pattern;  // "/api/v1/decisions/{id}"; "{*}" as last segment: the rest
  route_id id;
  bool is_public;
  std::uint8_t roles;  // when not public
  bool session_only;   // a browser session is needed (logout, language)
};

/// Every route of the server, in one table (the OpenAPI document lists the same).
std::span<const route> routes();

/// Up to two path parameters, in order ({id} segments, or the rest for {*}).
struct route_match {
  const route* r = nullptr;
  std::array<std::string_view, 2> params{};
  bool path_known = false;  // some template matched the path, perhaps with another method
  std::string_view allow;   // for 405: the methods allowed on that path
};

/// Finds the route for `method` and `path` (without the query string).
route_match match(boost::beast::http::verb method, std::string_view path);

}  // namespace dalil::server
