// The route table and its matcher (router.hpp).
#include "server/router.hpp"

namespace dalil::server {

namespace http = boost::beast::http;

namespace {

constexpr std::uint8_t any_user = allow_official | allow_adviser | allow_auditor;

// Admins have no HTTP route: they act from the command line only.
constexpr route table[] = {
    {http::verb::get, "/", route_id::root, true, 0, false},
    {http::verb::get, "/assets/{*}", route_id::asset, true, 0, false},
    {http::verb::get, "/healthz", route_id::healthz, true, 0, false},
    {http::verb::get, "/api/v1/openapi.json", route_id::openapi, true, 0, false},
    {http::verb::post, "/api/v1/login", route_id::login, true, 0, false},
    {http::verb::post, "/api/v1/logout", route_id::logout, false, any_user, true},
    {http::verb::get, "/api/v1/session", route_id::session, false, any_user, true},
    {http::verb::put, "/api/v1/session/lang", route_id::session_lang, false, any_user, true},
    {http::verb::get, "/api/v1/schema", route_id::schema, false, any_user, false},
    {http::verb::post, "/api/v1/evaluate", route_id::evaluate, false, allow_official, false},
    {http::verb::get, "/api/v1/decisions/{id}", route_id::decision, false,
     allow_official | allow_auditor, false},
    {http::verb::post, "/api/v1/decisions/{id}/review", route_id::review, false, allow_official,
     false},
    {http::verb::get, "/api/v1/applicants/{id}/decisions", route_id::applicant_decisions, false,
     allow_official | allow_auditor, false},
    {http::verb::get, "/api/v1/applicants/{id}/record", route_id::applicant_record, false,
     allow_official | allow_auditor, false},
    {http::verb::get, "/api/v1/reviews", route_id::reviews, false, allow_auditor, false},
    {http::verb::get, "/api/v1/rules", route_id::rules, false, any_user, false},
    {http::verb::get, "/api/v1/stats", route_id::stats, false, allow_adviser | allow_auditor,
     false},
    {http::verb::get, "/api/v1/audit/verify", route_id::audit_verify, false, allow_auditor, false},
    // The advisers' API (advisers_api.cpp): publications, and the diff and impact between two.
    {http::verb::get, "/api/v1/publications", route_id::publications, false,
     allow_adviser | allow_auditor, false},
    {http::verb::post, "/api/v1/diff", route_id::diff, false, allow_adviser | allow_auditor, false},
    {http::verb::post, "/api/v1/impact", route_id::impact, false, allow_adviser | allow_auditor,
     false},
    // What would make one applicant's decision reach a goal (analysis::whatif), audited.
    {http::verb::post, "/api/v1/whatif", route_id::whatif, false, allow_adviser | allow_auditor,
     false},
};

/// Matches `path` against `pattern`, filling params; false if it does not match.
bool matches(std::string_view pattern, std::string_view path,
             std::array<std::string_view, 2>& params) {
  std::size_t n = 0;
  std::size_t pi = 0;
  std::size_t si = 0;
  while (pi < pattern.size()) {
    std::size_t pe = pattern.find('/', pi + 1);
    if (pe == std::string_view::npos) pe = pattern.size();
    std::string_view seg = pattern.substr(pi, pe - pi);  // with its leading '/'
    if (si >= path.size() || path[si] != '/') return false;
    if (seg == "/{*}") {
      std::string_view rest = path.substr(si + 1);
      if (rest.empty()) return false;
      params[n++] = rest;
      return true;
    }
    std::size_t se = path.find('/', si + 1);
    if (se == std::string_view::npos) se = path.size();
    std::string_view got = path.substr(si, se - si);
    if (seg == "/{id}") {
      if (got.size() < 2) return false;
      params[n++] = got.substr(1);
    } else if (seg != got) {
      return false;
    }
    pi = pe;
    si = se;
  }
  return si == path.size();
}

}  // namespace

std::span<const route> routes() {
  return table;
}

route_match match(http::verb method, std::string_view path) {
  route_match m;
  for (const route& r : table) {
    std::array<std::string_view, 2> params{};
    if (!matches(r.pattern, path, params)) continue;
    m.path_known = true;
    if (r.method == method) {
      m.r = &r;
      m.params = params;
      return m;
    }
  }
  if (m.path_known) {
    // The allowed methods of the path, for the Allow header of a 405.
    for (const route& r : table) {
      std::array<std::string_view, 2> params{};
      if (matches(r.pattern, path, params)) {
        m.allow = r.method == http::verb::get    ? "GET"
                  : r.method == http::verb::post ? "POST"
                                                 : "PUT";
      }
    }
  }
  return m;
}

}  // namespace dalil::server
