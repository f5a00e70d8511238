// What the identity tables of both stores share (accounts_check.hpp): names, roles and offices
// checked the same way, the digest an entry keeps of a row, and the check of the rows against the
// chain's entries, whichever database the rows were read from.
#include "store/accounts_check.hpp"

#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <utility>

#include "store/chain.hpp"

namespace dalil::store {

bool valid_account_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front())) return false;
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-' && c != '@') return false;
  }
  return true;
}

namespace detail {

namespace {

/// The name after "user ", "client " or "office " in an entry's subject; "" for another kind.
std::string subject_name(const std::string& subject, std::string_view kind) {
  if (subject.size() <= kind.size() || !subject.starts_with(kind)) return {};
  return subject.substr(kind.size());
}

}  // namespace

bool is_role(std::string_view r) {
  return r == "official" || r == "adviser" || r == "auditor" || r == "admin";
}

bool is_lang(std::string_view l) {
  return l == "fr" || l == "ar" || l == "en";
}

std::string account_row_digest(const account& a, std::string_view secret_hash) {
  std::string s = std::to_string(a.id) + '\x1f' + a.name + '\x1f' + a.role + '\x1f' + a.office +
                  '\x1f' + a.created_at + '\x1f';
  s += secret_hash;
  // A token's expiry (when recorded: tokens made before they expired have none) is part of
  // what grants access: extending it behind the tool's back breaks the digest.
  if (a.machine && a.expires_recorded) s += '\x1f' + std::to_string(a.expires);
  return engine::sha256_hex(s);
}

std::int64_t unix_seconds(const std::string& iso) {
  std::tm tm{};
  if (iso.size() < 19 || std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon,
                                     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm));
}

status check_principal(const account& a, bool machine) {
  std::string kind = machine ? "client" : "user";
  if (!valid_account_name(a.name)) {
    return fail(errc::refused, "the " + kind +
                                   " name must be 1 to 64 of A-Z a-z 0-9 . _ - @, starting with a "
                                   "letter or digit");
  }
  if (!is_role(a.role)) {
    return fail(errc::refused, kind + " " + a.name + ": the role must be official, adviser, " +
                                   "auditor or admin");
  }
  if (machine && a.role == "admin") {
    return fail(errc::refused, "client " + a.name +
                                   ": admin has no HTTP routes (administration is the dalil "
                                   "command line's), so no token carries it");
  }
  if (a.role == "official" && a.office.empty()) {
    return fail(errc::refused,
                kind + " " + a.name + ": an official belongs to an office: give --office");
  }
  if (a.role == "admin" && !a.office.empty()) {
    return fail(errc::refused, kind + " " + a.name + ": an admin belongs to no office");
  }
  if (!a.office.empty() && !valid_account_name(a.office)) {
    return fail(errc::refused, kind + " " + a.name +
                                   ": the office name must be 1 to 64 of A-Z a-z 0-9 . _ - @, "
                                   "starting with a letter or digit");
  }
  if (!is_lang(a.lang)) {
    return fail(errc::refused, kind + " " + a.name + ": the language must be fr, ar or en");
  }
  return {};
}

account client_row(std::int64_t id, std::string name, std::string role, std::string office,
                   std::string created_at, bool expires_recorded, std::int64_t expires) {
  account a;
  a.id = id;
  a.name = std::move(name);
  a.role = std::move(role);
  a.office = std::move(office);
  a.created_at = std::move(created_at);
  a.machine = true;
  a.expires_recorded = expires_recorded;
  a.expires = expires_recorded ? expires : unix_seconds(a.created_at) + legacy_token_lifetime;
  return a;
}

std::string throttled_details(const std::string& first, const std::string& previous,
                              const std::string& address, std::int64_t window_start,
                              std::int64_t window) {
  std::string details = "{\"limits\":[" + first + "],\"address\":";
  details += '"';
  for (char c : address) {
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) details += c;
  }
  details += "\",\"window_start\":" + std::to_string(window_start) +
             ",\"window\":" + std::to_string(window) + ",\"refused_in_previous_window\":{" +
             previous + "}}";
  return details;
}

std::vector<account_problem> check_account_rows(const account_rows& rows,
                                                const std::vector<account_entry>& entries) {
  // What the entries say each row must be, in chain order (a later entry overrides).
  struct user_state {
    std::int64_t seq = 0;  // the entry that vouches for the row (user_add, user_password)
    std::string row;
    std::string lang;
    std::int64_t status_seq = 0;  // the last user_disable or user_enable
    bool disabled = false;
    std::string disabled_at;
  };
  struct token_state {
    std::int64_t seq = 0;
    std::string row;
    std::int64_t revoke_seq = 0;  // its token_revoke (0: none)
    std::string revoked_at;
  };
  struct session_state {
    std::int64_t seq = 0;
    std::string user;
    std::string created;
    bool ended = false;
  };
  std::map<std::string, std::pair<std::int64_t, std::string>> offices_made;  // seq, at
  std::map<std::string, user_state> users_made;
  std::map<std::string, std::vector<token_state>> tokens_made;
  std::map<std::string, session_state> logins;  // by session tag
  for (const auto& e : entries) {
    std::string user = subject_name(e.subject, "user ");
    std::string client = subject_name(e.subject, "client ");
    if (e.action == "office_add") {
      offices_made[subject_name(e.subject, "office ")] = {e.seq,
                                                          detail::audit_field(e.details, "at")};
    } else if (e.action == "user_add" || e.action == "user_password") {
      auto& u = users_made[user];
      u.seq = e.seq;
      u.row = detail::audit_field(e.details, "row");
      if (e.action == "user_add") u.lang = detail::audit_field(e.details, "lang");
    } else if (e.action == "user_lang") {
      users_made[user].lang = detail::audit_field(e.details, "lang");
    } else if (e.action == "user_disable" || e.action == "user_enable") {
      auto& u = users_made[user];
      u.status_seq = e.seq;
      u.disabled = e.action == "user_disable";
      u.disabled_at = u.disabled ? detail::audit_field(e.details, "at") : std::string();
    } else if (e.action == "token_create") {
      tokens_made[client].push_back({e.seq, detail::audit_field(e.details, "row"), 0, {}});
    } else if (e.action == "token_revoke") {
      // The client's one active token: the last one created.
      auto& made = tokens_made[client];
      if (!made.empty() && made.back().revoke_seq == 0) {
        made.back().revoke_seq = e.seq;
        made.back().revoked_at = detail::audit_field(e.details, "at");
      }
    } else if (e.action == "login") {
      logins[detail::audit_field(e.details, "session")] = {
          e.seq, user, detail::audit_field(e.details, "created"), false};
    } else if (e.action == "logout") {
      logins[detail::audit_field(e.details, "session")].ended = true;
    }
  }

  std::vector<account_problem> problems;
  auto damaged = [&](std::int64_t seq, const std::string& what) {
    problems.push_back({seq, what + ": it was changed behind the tool's back"});
  };
  problems.insert(problems.end(), rows.unreadable.begin(), rows.unreadable.end());
  std::set<std::string> offices_seen;
  for (const auto& o : rows.offices) {
    offices_seen.insert(o.name);
    auto it = offices_made.find(o.name);
    if (it == offices_made.end()) {
      damaged(0, "office " + o.name + " has no audit entry that added it");
    } else if (it->second.second != o.created_at) {
      damaged(it->second.first, "office " + o.name + " does not match audit entry " +
                                    std::to_string(it->second.first));
    }
  }
  std::set<std::string> users_seen;
  for (const auto& row : rows.users) {
    const account& u = row.row;
    const std::string& disabled_at = row.disabled_at;
    users_seen.insert(u.name);
    auto it = users_made.find(u.name);
    std::string name = "user " + u.name;
    if (it == users_made.end() || it->second.seq == 0) {
      damaged(0, name + " has no audit entry that added it");
      continue;
    }
    const user_state& want = it->second;
    if (account_row_digest(u, u.password_hash) != want.row) {
      damaged(want.seq, name +
                            " (its role, office, password hash or creation time) does not "
                            "match audit entry " +
                            std::to_string(want.seq));
    } else if (u.disabled != want.disabled || disabled_at != want.disabled_at) {
      damaged(want.status_seq, name + " is " + (u.disabled ? "disabled" : "enabled") +
                                   (disabled_at.empty() ? "" : " since " + disabled_at) +
                                   " but its last audit entry says otherwise");
    } else if (u.lang != want.lang) {
      damaged(want.seq, name + " has a language its audit entries never gave it");
    }
  }
  std::map<std::string, std::size_t> tokens_seen;  // tokens of each client
  for (const auto& row : rows.tokens) {
    const account& t = row.row;
    std::size_t k = tokens_seen[t.name]++;
    const auto& made = tokens_made[t.name];
    std::string token = "token " + std::to_string(t.id) + " of client " + t.name;
    if (k >= made.size()) {
      damaged(0, token + " has no audit entry that created it");
    } else if (account_row_digest(t, row.token_hash) != made[k].row) {
      damaged(made[k].seq, token + " does not match audit entry " + std::to_string(made[k].seq));
    } else if (row.revoked_at != made[k].revoked_at) {
      damaged(made[k].revoke_seq != 0 ? made[k].revoke_seq : made[k].seq,
              token + " is " + (row.revoked_at.empty() ? "active" : "revoked") +
                  " but its audit entries say otherwise");
    }
  }
  // Rows deleted behind the tool's back: every entry that made a row still has it (sessions
  // end without an entry when they expire, so only those are not counted).
  for (const auto& [name, made] : offices_made) {
    if (!offices_seen.contains(name)) {
      damaged(made.first,
              "office " + name + " (audit entry " + std::to_string(made.first) + ") was deleted");
    }
  }
  for (const auto& [name, made] : users_made) {
    if (made.seq != 0 && !users_seen.contains(name)) {
      damaged(made.seq,
              "user " + name + " (audit entry " + std::to_string(made.seq) + ") was deleted");
    }
  }
  for (const auto& [name, made] : tokens_made) {
    std::size_t have = tokens_seen.contains(name) ? tokens_seen.at(name) : 0;
    for (std::size_t k = have; k < made.size(); ++k) {
      damaged(made[k].seq, "a token of client " + name + " (audit entry " +
                               std::to_string(made[k].seq) + ") was deleted");
    }
  }
  for (const auto& s : rows.sessions) {
    std::string tag = s.id_hash.hex().substr(0, 16);
    auto it = logins.find(tag);
    std::string session = "a session of user " + s.user + " (" + tag + ")";
    if (it == logins.end() || it->second.seq == 0 || it->second.user != s.user ||
        it->second.ended) {
      damaged(0, session + " has no login entry that opened it");
    } else if (it->second.created != std::to_string(s.created) || s.last_seen < s.created) {
      damaged(it->second.seq,
              session + " does not match its login entry " + std::to_string(it->second.seq));
    }
  }
  return problems;
}

}  // namespace detail

}  // namespace dalil::store
