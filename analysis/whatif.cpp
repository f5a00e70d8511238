// `whatif`: the applicant's facts pinned in the solver, a "changed" literal per fact read, and the
// fewest changes that make the decision's term equal the goal, found by raising a bound on their
// count; each set found is blocked with its supersets. Ranges are the nearest values on each side
// that fail (Z3 Optimize, exact integers, centimes, days and rationals). The evaluator re-checks
// every answer on the applicant's own record with the changes applied.
#include "analysis/whatif.hpp"

#include <z3++.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "analysis/encode.hpp"
#include "engine/decision.hpp"
#include "engine/evaluator.hpp"
#include "engine/record.hpp"
#include "engine/words.hpp"

namespace dalil::analysis {

using detail::ask;
using detail::encoder;
using detail::fact_space;
using detail::term;
using dsl::kind;

namespace {

// ------------------------------------------------------------------ a small JSON tree

/// The applicant's record as a tree, to read its values by path and write it back with changes.
/// The record reader has accepted the text before it is parsed here.
struct jnode {
  enum class type : std::uint8_t { null, boolean, number, string, object, array };
  type t = type::null;
  std::string text;  // number: as written; string: unescaped; boolean: "true" / "false"
  std::vector<std::string> keys;  // objects: the keys, beside their values in `items`
  std::vector<jnode> items;       // arrays: the items; objects: the members' values

  // The values are an applicant's: zeroed before their memory is freed (an allocator may keep
  // a freed block as it was until it is reused).
  jnode() = default;
  jnode(const jnode&) = default;
  jnode(jnode&&) noexcept = default;
  jnode& operator=(const jnode&) = default;
  jnode& operator=(jnode&&) noexcept = default;
  ~jnode() { engine::wipe_text(text); }

  jnode* member(const std::string& key) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return &items[i];
    }
    return nullptr;
  }
};

class jparser {
 public:
  explicit jparser(std::string_view s) : s_(s) {}
  bool parse(jnode& out) {
    if (!value(out, 0)) return false;
    space();
    return i_ == s_.size();
  }

 private:
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool hex4(std::uint32_t& v) {
    if (i_ + 4 > s_.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      v <<= 4U;
      if (c >= '0' && c <= '9') {
        v |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }
  bool string(std::string& out) {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    ++i_;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && word("\\u")) {
            std::uint32_t lo = 0;
            if (!hex4(lo)) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10U) + (lo - 0xDC00);
          }
          engine::append_utf8(out, cp);
          break;
        }
        default:
          out += e;
          break;
      }
    }
    return false;
  }
  bool value(jnode& out, int depth) {
    if (depth > 64) return false;
    space();
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '{') {
      ++i_;
      out.t = jnode::type::object;
      space();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return true;
      }
      for (;;) {
        space();
        std::string key;
        if (!string(key)) return false;
        space();
        if (!word(":")) return false;
        jnode v;
        if (!value(v, depth + 1)) return false;
        out.keys.push_back(std::move(key));
        out.items.push_back(std::move(v));
        space();
        if (word(",")) continue;
        return word("}");
      }
    }
    if (c == '[') {
      ++i_;
      out.t = jnode::type::array;
      space();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return true;
      }
      for (;;) {
        jnode v;
        if (!value(v, depth + 1)) return false;
        out.items.push_back(std::move(v));
        space();
        if (word(",")) continue;
        return word("]");
      }
    }
    if (c == '"') {
      out.t = jnode::type::string;
      return string(out.text);
    }
    if (word("true") || word("false")) {
      out.t = jnode::type::boolean;
      out.text = s_[i_ - 1] == 'e' && s_[i_ - 2] == 'u' ? "true" : "false";
      return true;
    }
    if (word("null")) {
      out.t = jnode::type::null;
      return true;
    }
    std::size_t start = i_;
    while (i_ < s_.size() && std::string_view("+-.eE0123456789").find(s_[i_]) != std::string::npos)
      ++i_;
    if (i_ == start) return false;
    out.t = jnode::type::number;
    out.text = std::string(s_.substr(start, i_ - start));
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

void jwrite(const jnode& n, std::string& out) {
  switch (n.t) {
    case jnode::type::null:
      out += "null";
      break;
    case jnode::type::boolean:
    case jnode::type::number:
      out += n.text;
      break;
    case jnode::type::string:
      engine::append_json_string(out, n.text);
      break;
    case jnode::type::object: {
      out += '{';
      bool first = true;
      for (std::size_t i = 0; i < n.keys.size(); ++i) {
        if (!first) out += ',';
        first = false;
        engine::append_json_string(out, n.keys[i]);
        out += ':';
        jwrite(n.items[i], out);
      }
      out += '}';
      break;
    }
    case jnode::type::array: {
      out += '[';
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        if (i > 0) out += ',';
        jwrite(n.items[i], out);
      }
      out += ']';
      break;
    }
  }
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = path.find('.', start);
    out.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

/// The node at `path`; nullptr when a field on the way is absent or null (the fact is then
/// absent, or null through its parent: `null_parent` says which).
const jnode* find_path(const jnode& root, const std::string& path, bool& null_parent) {
  null_parent = false;
  const jnode* n = &root;
  for (const std::string& key : split_path(path)) {
    if (n->t == jnode::type::null) {
      null_parent = true;
      return nullptr;
    }
    if (n->t != jnode::type::object) return nullptr;
    n = const_cast<jnode*>(n)->member(key);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    if (n == nullptr) return nullptr;
  }
  return n;
}

/// Sets `path` to `v`, making the records on the way present.
void set_path(jnode& root, const std::string& path, const jnode& v) {
  jnode* n = &root;
  std::vector<std::string> keys = split_path(path);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (n->t != jnode::type::object) {
      *n = jnode{};
      n->t = jnode::type::object;
    }
    jnode* next = n->member(keys[i]);
    if (next == nullptr) {
      n->keys.push_back(keys[i]);
      n->items.emplace_back();
      next = &n->items.back();
    }
    n = next;
    if (i + 1 == keys.size()) {
      // A record already present stays as it is when it is only said to be present.
      if (!(v.t == jnode::type::object && v.keys.empty() && n->t == jnode::type::object)) {
        *n = v;
      }
    }
  }
}

jnode parse_value(const std::string& json) {
  jnode n;
  jparser(json).parse(n);
  return n;
}

// ------------------------------------------------------------------ the pack's side

std::optional<rational> rational_of(const z3::expr& e) {
  std::string s;
  if (!e.is_numeral(s)) return std::nullopt;
  std::size_t slash = s.find('/');
  std::int64_t num = 0;
  std::int64_t den = 1;
  auto read = [](std::string_view t, std::int64_t& v) {
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    return ec == std::errc() && ptr == t.data() + t.size();
  };
  if (slash == std::string::npos) {
    if (!read(s, num)) return std::nullopt;
  } else if (!read(std::string_view(s).substr(0, slash), num) ||
             !read(std::string_view(s).substr(slash + 1), den)) {
    return std::nullopt;
  }
  return make_rational(num, den);
}

std::string i128_text(i128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  std::string out;
  while (v != 0) {
    int d = static_cast<int>(v % 10);
    out += static_cast<char>('0' + (d < 0 ? -d : d));
    v /= 10;
  }
  if (neg) out += '-';
  std::reverse(out.begin(), out.end());
  return out;
}

z3::expr real_of(z3::context& c, i128 num, i128 den) {
  std::string s = i128_text(num) + "/" + i128_text(den);
  return c.real_val(s.c_str());
}

z3::expr real_of(z3::context& c, rational r) {
  return real_of(c, r.num, r.den);
}

/// A value of type `t` written as a record writes it, as a run-time value (`hold` keeps texts).
engine::value value_of(const dsl::program& p, const dsl::type& t, const std::string& json,
                       std::string& hold) {
  jnode n = parse_value(json);
  if (n.t == jnode::type::null) return engine::value::null_value();
  switch (t.k) {
    case kind::boolean:
      return engine::value::of_bool(n.text == "true");
    case kind::integer: {
      std::int64_t v = 0;
      std::from_chars(n.text.data(), n.text.data() + n.text.size(), v);
      return engine::value::of_int(v);
    }
    case kind::money:
    case kind::decimal: {
      auto r = parse_decimal(n.text);
      if (!r) {
        // A bound with no finite decimal expansion ("1000/3").
        std::size_t slash = n.text.find('/');
        std::int64_t num = 0;
        std::int64_t den = 1;
        if (slash != std::string::npos) {
          std::from_chars(n.text.data(), n.text.data() + slash, num);
          std::from_chars(n.text.data() + slash + 1, n.text.data() + n.text.size(), den);
        }
        return engine::value::of_ratio(num, den == 0 ? 1 : den);
      }
      return engine::value::of_ratio(r->num, r->den);
    }
    case kind::date: {
      auto d = parse_date(n.text);
      return d ? engine::value::of_date(*d) : engine::value::unknown_value();
    }
    case kind::enumeration: {
      const auto& cases = p.enums[t.ref].cases;
      auto it = std::find(cases.begin(), cases.end(), n.text);
      return it == cases.end()
                 ? engine::value::unknown_value()
                 : engine::value::of_enum(static_cast<std::uint32_t>(it - cases.begin()));
    }
    case kind::text:
      hold = n.text;
      return engine::value::of_text(hold);
    default:
      return engine::value::unknown_value();
  }
}

/// The goal as a value of the decision's type; nullopt when `text` is none.
std::optional<std::string> goal_json(const dsl::program& p, const dsl::type& t,
                                     const std::string& text) {
  std::string out;
  switch (t.k) {
    case kind::boolean:
      if (text == "true" || text == "yes") return std::string("true");
      if (text == "false" || text == "no") return std::string("false");
      return std::nullopt;
    case kind::integer: {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
      return std::to_string(v);
    }
    case kind::money:
    case kind::decimal: {
      auto r = parse_decimal(text);
      if (!r) return std::nullopt;
      engine::append_json_string(out, t.k == kind::money ? money_string(*r) : to_string(*r));
      return out;
    }
    case kind::date:
      if (!parse_date(text)) return std::nullopt;
      engine::append_json_string(out, text);
      return out;
    case kind::enumeration: {
      const dsl::enum_info& e = p.enums[t.ref];
      std::string name = text;
      if (name.rfind(e.name + ".", 0) == 0) name = name.substr(e.name.size() + 1);
      if (std::find(e.cases.begin(), e.cases.end(), name) == e.cases.end()) return std::nullopt;
      engine::append_json_string(out, name);
      return out;
    }
    case kind::text:
      engine::append_json_string(out, text);
      return out;
    default:
      return std::nullopt;
  }
}

bool same_value(const engine::value& a, const engine::value& b) {
  if (!a.known() || !b.known()) return false;
  if ((a.r == engine::rep::integer || a.r == engine::rep::ratio) &&
      (b.r == engine::rep::integer || b.r == engine::rep::ratio)) {
    return engine::compare_numbers(a, b) == 0;
  }
  return a.r == b.r && engine::equal_values(a, b);
}

/// The rule's value on `json` as of `as_of`, by the ordinary evaluator; `words` gets its JSON
/// ("null" when undetermined). False when the reader refuses the record.
bool evaluate(const std::shared_ptr<const engine::ruleset>& rules, std::uint32_t r, date as_of,
              const std::string& json, const engine::value& goal, bool& reached,
              std::string* value_json = nullptr, bool* undetermined = nullptr) {
  const dsl::program& p = rules->program();
  engine::record_reader reader(p);
  reader.set_as_of(as_of);
  reader.set_intake(false);  // a record the analysis wrote (its texts are the model's)
  engine::record rec;
  engine::record_error err;
  if (!reader.read(json, rec, err)) return false;
  engine::evaluator ev(engine::instantiate(rules, as_of));
  ev.set_record(rec);
  engine::value v = ev.rule(r);
  reached = same_value(v, goal);
  if (value_json != nullptr) {
    value_json->clear();
    if (v.unknown()) {
      *value_json = "null";
    } else {
      engine::append_value_json(*value_json, p, p.rules[r].t, v);
    }
  }
  if (undetermined != nullptr) *undetermined = v.unknown();
  return true;
}

/// The dates at which the instantiation of rule `r`'s closure changes.
void breakpoints(const engine::ruleset& rules, std::uint32_t r, std::set<date>& out) {
  const dsl::program& p = rules.program();
  for (std::uint32_t q : rules.closure_of(r)) {
    const dsl::rule_info& info = p.rules[q];
    if (info.in_force_from) out.insert(*info.in_force_from);
    if (info.in_force_until && *info.in_force_until < max_date) {
      out.insert(date{info.in_force_until->days + 1});
    }
    for (std::uint32_t param : info.parameters_read) {
      for (const dsl::dated_constant& v : p.parameters[param].values) out.insert(v.from);
    }
  }
}

// ------------------------------------------------------------------ the search

/// A field read by the decision: its current state and value, and whether a model moves it.
struct unit {
  const fact_space::field_var* f = nullptr;
  const dsl::field_info* info = nullptr;
  int state = 0;             // 0 absent, 1 null, 2 present
  bool null_parent = false;  // absent because a record on its path is null: the fact is null
  std::optional<z3::expr> value;
  std::string json;  // the current value as the record writes it ("null"; empty when absent)
  std::optional<z3::expr> changed;
};

/// The term a unit's value is compared by: centimes for money, else the value itself.
z3::expr value_var(const fact_space::field_var& f) {
  return f.centimes ? *f.centimes : *f.value;
}

class searcher {
 public:
  searcher(const std::shared_ptr<const engine::ruleset>& rules, std::uint32_t r, date as_of,
           const jnode& doc, const std::string& doc_json, const whatif_options& opt)
      : rules_(rules),
        p_(rules->program()),
        r_(r),
        as_of_(as_of),
        doc_(doc),
        doc_json_(doc_json),
        opt_(opt),
        watch_(opt.stop, ctx_) {}

  /// Encodes the decision at the as-of date and pins every field it reads to the record.
  bool prepare(std::string& error) {
    facts_ = std::make_unique<fact_space>(ctx_);
    inst_ = engine::instantiate(rules_, as_of_);
    enc_ = std::make_unique<encoder>(*facts_, inst_);
    term_ = enc_->rule(r_);
    not_encoded_ = enc_->unsupported();
    return pin(*facts_, units_, error);
  }

  const std::string& not_encoded() const { return not_encoded_; }
  const std::string& solver_stop() const { return solver_; }
  unsigned unconfirmed() const { return unconfirmed_; }
  std::vector<std::string> fixed_read() const {
    std::vector<std::string> out;
    for (const unit& u : units_) {
      if (u.info != nullptr && u.info->fixed) out.push_back(u.f->path);
    }
    return out;
  }

  /// Up to `max` minimal sets of changes reaching `goal`; `only_missing`: only facts not
  /// provided may be given (what to ask first).
  void search(const std::string& goal, unsigned max, bool only_missing,
              std::vector<alternative>& out) {
    engine::value goal_value = value_of(p_, p_.rules[r_].t, goal, goal_hold_);
    z3::expr reach = reaches(*facts_, term_, goal_value);
    z3::solver s(ctx_);
    set_timeout(s);
    add_domain(s);
    s.add(reach);
    z3::expr cost = ctx_.int_val(0);
    std::vector<std::size_t> movable;
    for (std::size_t i = 0; i < units_.size(); ++i) {
      const unit& u = units_[i];
      bool may = !(u.info != nullptr && u.info->fixed) && (!only_missing || u.state == 0);
      if (!may) {
        s.add(!*u.changed);
        continue;
      }
      movable.push_back(i);
      cost = cost + z3::ite(*u.changed, ctx_.int_val(1), ctx_.int_val(0));
    }
    std::size_t found = 0;
    for (std::size_t k = 0; k <= movable.size() && found < max; ++k) {
      z3::expr guard =
          ctx_.bool_const(("k" + std::to_string(k) + "#" + std::to_string(serial_++)).c_str());
      s.add(z3::implies(guard, cost <= static_cast<int>(k)));
      while (found < max) {
        z3::expr_vector assume(ctx_);
        assume.push_back(guard);
        z3::check_result res = ask(opt_.stop, s, assume);
        if (res == z3::unknown) {
          solver_ = s.reason_unknown();
          return;
        }
        if (res == z3::unsat) break;
        z3::model m = s.get_model();
        if (!facts_->decimals_writable(m)) {
          s.push();
          for (const z3::expr& h : facts_->hundredths()) s.add(h);
          z3::check_result again = ask(opt_.stop, s, assume);
          if (again == z3::sat) m = s.get_model();
          s.pop();
        }
        std::vector<std::size_t> set;
        z3::expr block = ctx_.bool_val(false);
        for (std::size_t i : movable) {
          if (m.eval(*units_[i].changed, true).is_true()) {
            set.push_back(i);
            block = block || !*units_[i].changed;
          }
        }
        // The set and every superset of it are done with.
        s.add(block);
        alternative alt = build(m, set, reach, goal_value);
        if (alt.verified) {
          out.push_back(std::move(alt));
          ++found;
        } else {
          ++unconfirmed_;
        }
        if (set.empty()) return;  // nothing to change: the goal is reached as things are
      }
    }
  }

  /// The earliest as-of date after the given one at which the unchanged facts reach `goal`.
  std::optional<alternative> later(const std::string& goal) {
    engine::value goal_value = value_of(p_, p_.rules[r_].t, goal, goal_hold_);
    std::set<date> points{date{as_of_.days + 1}};
    breakpoints(*rules_, r_, points);
    std::vector<date> v;
    for (date d : points) {
      if (d > as_of_ && d <= fact_space::last_day()) v.push_back(d);
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      date lo = v[i];
      date hi = i + 1 < v.size() ? date{v[i + 1].days - 1} : fact_space::last_day();
      fact_space facts(ctx_);
      encoder enc(facts, engine::instantiate(rules_, lo));
      term t = enc.rule(r_);
      std::vector<unit> units;
      std::string error;
      if (!pin(facts, units, error)) return std::nullopt;
      z3::optimize o(ctx_);
      set_timeout(o);
      for (const z3::expr& c : facts.constraints()) o.add(c);
      for (const unit& u : units) o.add(!*u.changed);
      o.add(facts.as_of() >= lo.days && facts.as_of() <= hi.days);
      o.add(reaches(facts, t, goal_value));
      z3::optimize::handle h = o.minimize(facts.as_of());
      z3::check_result res = ask(opt_.stop, o);
      if (res == z3::unknown) {
        if (solver_.empty()) solver_ = "timeout or incomplete (later as-of date)";
        return std::nullopt;
      }
      if (res != z3::sat) continue;
      auto day = rational_of(o.lower(h));
      if (!day || day->den != 1) return std::nullopt;
      alternative alt;
      alt.from_date = date{static_cast<std::int32_t>(day->num)};
      alt.record = engine::canonical_json(doc_json_);
      bool at = false;
      bool before = true;
      alt.verified =
          evaluate(rules_, r_, *alt.from_date, doc_json_, goal_value, at) && at &&
          evaluate(rules_, r_, date{alt.from_date->days - 1}, doc_json_, goal_value, before) &&
          !before;
      if (!alt.verified) {
        ++unconfirmed_;
        return std::nullopt;
      }
      return alt;
    }
    return std::nullopt;
  }

 private:
  template <class S>
  void set_timeout(S& s) {
    z3::params params(ctx_);
    params.set("timeout", opt_.timeout_ms);
    s.set(params);
  }

  void add_domain(z3::solver& s) {
    for (const z3::expr& c : facts_->constraints()) s.add(c);
    s.add(facts_->as_of() == as_of_.days);
    for (const unit& u : units_) {
      // A fact given stays given: a change sets a value (or null), never makes it unknown.
      if (u.state != 0) s.add(u.f->state != 0);
    }
  }

  /// The decision's term `t`, encoded over `facts`, is decided and equal to the goal `g`.
  z3::expr reaches(fact_space& facts, const term& t, const engine::value& g) {
    z3::expr want = ctx_.bool_val(false);
    switch (g.r) {
      case engine::rep::boolean:
        want = ctx_.bool_val(g.b);
        break;
      case engine::rep::integer:
      case engine::rep::date:
        want = ctx_.int_val(static_cast<int64_t>(g.i));
        break;
      case engine::rep::enumeration:  // the case's id in `facts`, by its name
        want =
            ctx_.int_val(facts.enum_case(p_, p_.rules[r_].t.ref, static_cast<std::uint32_t>(g.i)));
        break;
      case engine::rep::ratio: {
        auto r = make_rational(g.q.num, g.q.den);
        want = real_of(ctx_, r ? *r : rational{});
        break;
      }
      case engine::rep::text:
        want = ctx_.int_val(facts.text_id(std::string(g.as_text())));
        break;
      default:
        return ctx_.bool_val(false);
    }
    z3::expr v = t.val;
    detail::unify(v, want);
    return !t.unk && !t.nul && v == want;
  }

  /// The current state and value of every field `facts` has read, and its `changed` literal.
  bool pin(fact_space& facts, std::vector<unit>& units, std::string& error) {
    units.clear();
    for (const auto& fp : facts.fields()) {
      const fact_space::field_var& f = *fp;
      unit u;
      u.f = &f;
      u.info = dsl::field_at(p_, f.path);
      bool null_parent = false;
      const jnode* n = find_path(doc_, f.path, null_parent);
      if (n == nullptr) {
        u.state = 0;
        u.null_parent = null_parent;
      } else if (n->t == jnode::type::null) {
        u.state = 1;
        u.json = "null";
      } else {
        u.state = 2;
        if (!current(facts, f, *n, u)) {
          error =
              "field " + f.path + ": its value is not one of the type " + dsl::type_name(p_, f.t);
          return false;
        }
      }
      z3::expr same_state = f.state == u.state;
      z3::expr same = same_state;
      if (u.state == 2 && u.value) same = same && value_var(f) == *u.value;
      u.changed = !same;
      units.push_back(std::move(u));
    }
    return true;
  }

  bool current(fact_space& facts, const fact_space::field_var& f, const jnode& n, unit& u) {
    switch (f.t.k) {
      case kind::record:
        u.json = "{}";
        return n.t == jnode::type::object;
      case kind::boolean:
        if (n.t != jnode::type::boolean) return false;
        u.value = ctx_.bool_val(n.text == "true");
        u.json = n.text;
        return true;
      case kind::integer: {
        std::int64_t v = 0;
        auto [ptr, ec] = std::from_chars(n.text.data(), n.text.data() + n.text.size(), v);
        if (n.t != jnode::type::number || ec != std::errc()) return false;
        u.value = ctx_.int_val(static_cast<int64_t>(v));
        u.json = std::to_string(v);
        return true;
      }
      case kind::money: {
        auto r = parse_decimal(n.text);
        auto cents = r ? mul(*r, rational{100, 1}) : std::nullopt;
        if (!cents || cents->den != 1) return false;
        u.value = ctx_.int_val(static_cast<int64_t>(cents->num));
        engine::append_json_string(u.json, money_string(*r));
        return true;
      }
      case kind::decimal: {
        auto r = parse_decimal(n.text);
        if (!r) return false;
        u.value = real_of(ctx_, *r);
        engine::append_json_string(u.json, to_string(*r));
        return true;
      }
      case kind::date: {
        auto d = parse_date(n.text);
        if (!d || n.t != jnode::type::string) return false;
        u.value = ctx_.int_val(d->days);
        engine::append_json_string(u.json, n.text);
        return true;
      }
      case kind::enumeration: {
        auto it = std::find(f.cases->begin(), f.cases->end(), n.text);
        if (it == f.cases->end()) return false;
        u.value = ctx_.int_val(static_cast<int>(it - f.cases->begin()));
        engine::append_json_string(u.json, n.text);
        return true;
      }
      case kind::text:
        if (n.t != jnode::type::string) return false;
        u.value = ctx_.int_val(facts.text_id(n.text));
        engine::append_json_string(u.json, n.text);
        return true;
      default:
        return false;
    }
  }

  /// `u` as it is in model `m`.
  z3::expr pinned(const unit& u, const z3::model& m) {
    z3::expr st = m.eval(u.f->state, true);
    z3::expr e = u.f->state == st;
    if (u.f->value && st.get_numeral_int64() == 2) {
      z3::expr v = value_var(*u.f);
      e = e && v == m.eval(v, true);
    }
    return e;
  }

  static bool ranged_kind(kind k) {
    return k == kind::integer || k == kind::money || k == kind::decimal || k == kind::date;
  }

  /// A bound's text as the record writes it.
  std::string bound_json(const fact_space::field_var& f, rational b) {
    std::string out;
    switch (f.t.k) {
      case kind::integer:
        return std::to_string(b.num);
      case kind::money:
        engine::append_json_string(out, money_string(b));
        return out;
      case kind::date:
        engine::append_json_string(out, to_string(date{static_cast<std::int32_t>(b.num)}));
        return out;
      default:
        engine::append_json_string(out, to_string(b));
        return out;
    }
  }

  /// The facts of every unit but `i` as in `m`, unit `i` present, and the goal missed.
  std::vector<z3::expr> others_as_in(std::size_t i, const z3::model& m, const z3::expr& reach) {
    std::vector<z3::expr> out(facts_->constraints().begin(), facts_->constraints().end());
    out.push_back(facts_->as_of() == as_of_.days);
    for (std::size_t j = 0; j < units_.size(); ++j) {
      if (j != i) out.push_back(pinned(units_[j], m));
    }
    out.push_back(units_[i].f->state == 2);
    out.push_back(!reach);
    return out;
  }

  /// Whether some value of `x` satisfying `where` misses the goal (`fails` set); false when
  /// the solver gives no answer.
  bool any_failure(const std::vector<z3::expr>& base, const z3::expr& where, bool& fails) {
    z3::solver s(ctx_);
    set_timeout(s);
    for (const z3::expr& c : base) s.add(c);
    s.add(where);
    z3::check_result r = ask(opt_.stop, s);
    fails = r == z3::sat;
    return r != z3::unknown;
  }

  /// The grid of a decimal's bounds: 10^k, k the most decimal places of the value in `m`, of
  /// the record's value and of the decimal parameters in force (at least 2).
  i128 decimal_grid(const z3::expr& v) const {
    int places = 2;
    auto places_of = [&](std::int64_t den) {
      int two = 0;
      int five = 0;
      while (den % 2 == 0) {
        den /= 2;
        ++two;
      }
      while (den % 5 == 0) {
        den /= 5;
        ++five;
      }
      places = std::max(places, std::max(two, five));
    };
    if (auto r = rational_of(v)) places_of(r->den);
    for (const engine::resolved_parameter& pv : inst_->parameters) {
      if (pv.v.known() && pv.v.r == engine::rep::ratio) places_of(pv.v.q.den);
    }
    places = std::min(places, 12);
    i128 d = 1;
    for (int k = 0; k < places; ++k) d *= 10;
    return d;
  }

  /// The bound of unit `i`'s range beyond its value in `m` (above when `up`), the others as in
  /// `m`: whole numbers (integers, centimes, days) by Z3 Optimize, exactly (the nearest value
  /// that misses the goal, minus one); decimals by decimal_end. Empty when no value beyond
  /// misses the goal inside the domain; `stopped` when no bound could be given.
  struct bound {
    std::optional<rational> at;  // in the unit's own scale (MAD for money)
    bool open = false;
  };
  bound range_end(std::size_t i, const z3::model& m, const z3::expr& reach, bool up,
                  bool& stopped) {
    const unit& u = units_[i];
    z3::expr x = value_var(*u.f);
    z3::expr v = m.eval(x, true);
    std::vector<z3::expr> base = others_as_in(i, m, reach);
    if (!x.is_int()) return decimal_end(x, v, base, up, stopped);
    z3::optimize o(ctx_);
    set_timeout(o);
    for (const z3::expr& c : base) o.add(c);
    o.add(up ? x > v : x < v);
    z3::optimize::handle h = up ? o.minimize(x) : o.maximize(x);
    z3::check_result res = ask(opt_.stop, o);
    if (res == z3::unknown) {
      stopped = true;
      return {};
    }
    if (res == z3::unsat) return {};
    auto c = rational_of(up ? o.lower(h) : o.upper(h));
    if (!c || c->den != 1) {
      stopped = true;
      return {};
    }
    const std::int64_t k = c->num + (up ? -1 : 1);
    auto b = make_rational(k, u.f->t.k == kind::money ? 100 : 1);
    if (!b) stopped = true;
    return {b, false};
  }

  /// A decimal's bound, on the grid of decimal_grid: F(k) = "some value beyond v, up to the
  /// grid point k, misses the goal" is monotone in k, so the first grid point where it holds
  /// is found by doubling then halving, each step one exact solver query over the reals.
  bound decimal_end(const z3::expr& x, const z3::expr& v, const std::vector<z3::expr>& base,
                    bool up, bool& stopped) {
    auto vr = rational_of(v);
    if (!vr) {
      stopped = true;
      return {};
    }
    const i128 grid = decimal_grid(v);
    auto point = [&](i128 k) { return real_of(ctx_, k, grid); };
    auto beyond = [&](const z3::expr& e, bool strict) {
      if (up) return strict ? x > v && x < e : x > v && x <= e;
      return strict ? x < v && x > e : x < v && x >= e;
    };
    // Does any value beyond v miss the goal at all?
    bool fails = false;
    if (!any_failure(base, up ? x > v : x < v, fails)) {
      stopped = true;
      return {};
    }
    if (!fails) return {};
    // The first grid point strictly beyond v.
    const i128 scaled_num = static_cast<i128>(vr->num) * grid;
    i128 start = up ? floor_div(scaled_num, vr->den) + 1 : -floor_div(-scaled_num, vr->den) - 1;
    const i128 limit = static_cast<i128>(1000000000000) * grid;
    i128 last_clear = up ? start - 1 : start + 1;  // F false here (the range reaches it)
    i128 step = 1;
    i128 k = start;
    for (;;) {
      if (!any_failure(base, beyond(point(k), false), fails)) {
        stopped = true;
        return {};
      }
      if (fails) break;
      last_clear = k;
      if ((up && k >= limit) || (!up && k <= -limit)) {
        stopped = true;  // a failure beyond v, but past the domain's grid: no bound to give
        return {};
      }
      k = up ? std::min(start + step, limit) : std::max(start - step, -limit);
      step *= 2;
    }
    // F(last_clear) false, F(k) true: the first k with F true.
    while ((up ? k - last_clear : last_clear - k) > 1) {
      i128 mid = up ? last_clear + (k - last_clear) / 2 : last_clear - (last_clear - k) / 2;
      if (!any_failure(base, beyond(point(mid), false), fails)) {
        stopped = true;
        return {};
      }
      (fails ? k : last_clear) = mid;
    }
    // Every value strictly before the grid point k reaches the goal: an open bound at k.
    if (!any_failure(base, beyond(point(k), true), fails)) {
      stopped = true;
      return {};
    }
    auto to_rational = [&](i128 n) { return make_rational(n, grid); };
    if (!fails) return {to_rational(k), true};
    // Else the grid point before it, closed (v itself when v lies past it).
    auto closed = to_rational(last_clear);
    if (!closed) {
      stopped = true;
      return {};
    }
    if (up ? std::is_lt(compare(*closed, *vr)) : std::is_gt(compare(*closed, *vr))) closed = vr;
    return {closed, false};
  }

  static i128 floor_div(i128 a, i128 b) {
    i128 q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
  }

  alternative build(const z3::model& m, const std::vector<std::size_t>& set, const z3::expr& reach,
                    const engine::value& goal) {
    alternative alt;
    jnode doc = doc_;
    // Records first, so that the fields inside them land in them.
    std::vector<std::size_t> order = set;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return units_[a].f->path.size() < units_[b].f->path.size();
    });
    std::vector<std::pair<std::size_t, std::string>> at_model;
    for (std::size_t i : order) {
      const unit& u = units_[i];
      fact_change c;
      c.fact = u.f->path;
      c.t = u.f->t;
      // A field under a null record (no spouse) is not missing: its fact is null, "none".
      c.missing = u.state == 0 && !u.null_parent;
      c.from = u.null_parent ? "null" : u.json;
      std::int64_t st = m.eval(u.f->state, true).get_numeral_int64();
      if (st == 1) {
        c.value = "null";
      } else if (u.f->t.k == kind::record) {
        c.value = "{}";
      } else {
        c.value = facts_->scalar_json(m, *u.f);
      }
      set_path(doc, c.fact, parse_value(c.value));
      at_model.emplace_back(i, c.value);
      alt.changes.push_back(std::move(c));
    }
    std::string json;
    jwrite(doc, json);
    bool reached = false;
    alt.verified = evaluate(rules_, r_, as_of_, json, goal, reached) && reached;
    alt.record = engine::canonical_json(json);
    if (!alt.verified) return alt;
    // Ranges, each with the other changes as the solver set them; every closed end re-checked.
    for (std::size_t k = 0; k < alt.changes.size(); ++k) {
      fact_change& c = alt.changes[k];
      const unit& u = units_[at_model[k].first];
      if (u.f->t.k == kind::enumeration && c.value != "null") {
        // An enum's range: every case that works with the other changes, each evaluated.
        for (const std::string& name : *u.f->cases) {
          std::string json_case;
          engine::append_json_string(json_case, name);
          if (json_case == u.json) continue;
          jnode probe = doc;
          set_path(probe, c.fact, parse_value(json_case));
          std::string pj;
          jwrite(probe, pj);
          bool ok = false;
          if (evaluate(rules_, r_, as_of_, pj, goal, ok) && ok) c.values.push_back(json_case);
        }
        continue;
      }
      if (c.value == "null" || !ranged_kind(u.f->t.k)) continue;
      bool stopped = false;
      bound hi = range_end(at_model[k].first, m, reach, true, stopped);
      bound lo = stopped ? bound{} : range_end(at_model[k].first, m, reach, false, stopped);
      if (stopped) continue;  // the single value stays
      c.ranged = true;
      if (hi.at) {
        c.max = bound_json(*u.f, *hi.at);
        c.max_open = hi.open;
      }
      if (lo.at) {
        c.min = bound_json(*u.f, *lo.at);
        c.min_open = lo.open;
      }
      for (const auto& [end, open] : {std::pair{c.min, c.min_open}, {c.max, c.max_open}}) {
        if (end.empty() || open) continue;
        jnode probe = doc;
        set_path(probe, c.fact, parse_value(end));
        std::string pj;
        jwrite(probe, pj);
        bool ok = false;
        if (!evaluate(rules_, r_, as_of_, pj, goal, ok) || !ok) {
          alt.verified = false;
          return alt;
        }
      }
    }
    return alt;
  }

  z3::context ctx_;
  std::shared_ptr<const engine::ruleset> rules_;
  const dsl::program& p_;
  std::uint32_t r_;
  date as_of_;
  const jnode& doc_;
  const std::string& doc_json_;
  whatif_options opt_;
  std::unique_ptr<fact_space> facts_;
  std::shared_ptr<const engine::instance> inst_;
  std::unique_ptr<encoder> enc_;
  term term_{ctx_.bool_val(true), ctx_.bool_val(false), ctx_.bool_val(false), std::nullopt};
  std::vector<unit> units_;
  std::string not_encoded_;
  std::string solver_;
  std::string goal_hold_;
  unsigned unconfirmed_ = 0;
  unsigned serial_ = 0;
  halt::watch watch_;  // after ctx_: it lets go of the context first
};

}  // namespace

std::optional<whatif_result> whatif(const std::shared_ptr<const engine::ruleset>& rules,
                                    const std::string& decision, const std::string& goal,
                                    date as_of, const std::string& facts_json,
                                    const whatif_options& opt, std::string& error) {
  const dsl::program& p = rules->program();
  auto r = p.find_rule(decision);
  if (!r) {
    error = "unknown decision '" + decision + "' (write module.rule, as `dalil eval` lists them)";
    return std::nullopt;
  }
  const dsl::type& t = p.rules[*r].t;
  auto goal_value_json = goal_json(p, t, goal);
  if (!goal_value_json) {
    std::string hint;
    if (t.k == kind::enumeration) {
      for (const std::string& c : p.enums[t.ref].cases) hint += (hint.empty() ? "" : ", ") + c;
    } else if (t.k == kind::boolean) {
      hint = "true, false";
    } else {
      hint = "a value of type " + dsl::type_name(p, t);
    }
    error = "the goal of " + decision + " is not a value of its type " + dsl::type_name(p, t) +
            " (expected " + hint + ")";
    return std::nullopt;
  }
  if (as_of < fact_space::first_day() || as_of > fact_space::last_day()) {
    error = "--as-of must lie in " + to_string(fact_space::first_day()) + " … " +
            to_string(fact_space::last_day()) + ", the dates the solver covers";
    return std::nullopt;
  }
  {
    engine::record_reader reader(p);
    reader.set_as_of(as_of);
    reader.set_intake(true);  // facts given now (dalil whatif --facts): no control character
    engine::record rec;
    engine::record_error err;
    if (!reader.read(facts_json, rec, err)) {
      error = "the facts are refused" + (err.field.empty() ? std::string() : " at " + err.field) +
              ": " + err.message;
      return std::nullopt;
    }
  }
  jnode doc;
  if (!jparser(facts_json).parse(doc) || doc.t != jnode::type::object) {
    error = "the facts are not one JSON object";
    return std::nullopt;
  }

  whatif_result out;
  out.decision = decision;
  out.goal = *goal_value_json;
  out.as_of = as_of;
  std::string hold;
  engine::value goal_value = value_of(p, t, out.goal, hold);
  bool reached = false;
  evaluate(rules, *r, as_of, facts_json, goal_value, reached, &out.current, &out.undetermined);
  out.reached = reached;

  try {
    searcher s(rules, *r, as_of, doc, facts_json, opt);
    if (!s.prepare(error)) return std::nullopt;
    out.fixed = s.fixed_read();
    if (!out.reached) {
      s.search(out.goal, opt.max, false, out.alternatives);
      if (auto later = s.later(out.goal)) out.alternatives.push_back(std::move(*later));
    }
    if (out.undetermined) {
      std::vector<std::string> values;
      if (t.k == kind::boolean) {
        values = {"true", "false"};
      } else if (t.k == kind::enumeration) {
        for (const std::string& c : p.enums[t.ref].cases) {
          std::string v;
          engine::append_json_string(v, c);
          values.push_back(v);
        }
      }
      for (const std::string& v : values) {
        std::vector<alternative> found;
        s.search(v, 1, true, found);
        if (!found.empty()) out.ask_first.push_back(ask_entry{v, std::move(found.front())});
      }
    }
    out.not_encoded = s.not_encoded();
    out.solver = s.solver_stop();
    out.unconfirmed = s.unconfirmed();
  } catch (const z3::exception&) {
    // A halt's interrupt that came while no query ran leaves the context cancelled, and Z3's
    // model evaluations throw: the search is incomplete, and says so. Otherwise, as before.
    if (!halted(opt.stop)) throw;
    out.halted = true;
  }
  // A stop asked, or a query skipped or interrupted for the deadline (one that passed as the
  // last query ran cut nothing short).
  out.halted = out.halted || cut_short(opt.stop);
  return out;
}

// ------------------------------------------------------------------ JSON

namespace {

void append_changes(std::string& out, const alternative& a, date as_of) {
  out += "{\"changes\":[";
  if (a.from_date) {
    out += "{\"fact\":\"as_of\",\"from\":";
    engine::append_json_string(out, to_string(as_of));
    out += ",\"from_date\":";
    engine::append_json_string(out, to_string(*a.from_date));
    out += '}';
  }
  for (std::size_t i = 0; i < a.changes.size(); ++i) {
    const fact_change& c = a.changes[i];
    if (i > 0) out += ',';
    out += "{\"fact\":";
    engine::append_json_string(out, c.fact);
    out += ",\"from\":";
    out += c.missing ? "null" : c.from;
    if (c.missing) out += ",\"missing\":true";
    if (c.ranged) {
      out += ",\"range\":{\"min\":";
      out += c.min.empty() ? "null" : c.min;
      out += ",\"max\":";
      out += c.max.empty() ? "null" : c.max;
      out += ",\"min_open\":";
      out += c.min_open ? "true" : "false";
      out += ",\"max_open\":";
      out += c.max_open ? "true" : "false";
      out += "},\"example\":" + c.value;
    } else {
      out += ",\"value\":" + c.value;
      if (c.values.size() > 1) {
        out += ",\"values\":[";
        for (std::size_t v = 0; v < c.values.size(); ++v) out += (v > 0 ? "," : "") + c.values[v];
        out += ']';
      }
    }
    out += '}';
  }
  out += "],\"verified\":";
  out += a.verified ? "true" : "false";
  out += ",\"record\":" + (a.record.empty() ? std::string("null") : a.record);
  out += '}';
}

void note(std::string& out, std::string_view key, const std::string& v) {
  engine::append_json_string(out, key);
  out += ':';
  if (v.empty()) {
    out += "null";
  } else {
    engine::append_json_string(out, v);
  }
}

}  // namespace

std::string to_json(const whatif_result& r) {
  std::string out = "{\"decision\":";
  engine::append_json_string(out, r.decision);
  out += ",\"goal\":" + r.goal + ",\"as_of\":";
  engine::append_json_string(out, to_string(r.as_of));
  out += ",\"current\":{\"value\":" + r.current + ",\"status\":";
  out += r.undetermined ? "\"undetermined\"" : "\"decided\"";
  out += "},\"reached\":";
  out += r.reached ? "true" : "false";
  out += ",\"alternatives\":[";
  for (std::size_t i = 0; i < r.alternatives.size(); ++i) {
    if (i > 0) out += ',';
    append_changes(out, r.alternatives[i], r.as_of);
  }
  out += "],\"ask_first\":[";
  for (std::size_t i = 0; i < r.ask_first.size(); ++i) {
    if (i > 0) out += ',';
    std::string one;
    append_changes(one, r.ask_first[i].alt, r.as_of);
    out += "{\"settles\":" + r.ask_first[i].settles + "," + one.substr(1);
  }
  out += "],\"fixed\":[";
  for (std::size_t i = 0; i < r.fixed.size(); ++i) {
    if (i > 0) out += ',';
    engine::append_json_string(out, r.fixed[i]);
  }
  out += "],\"notes\":{";
  note(out, "not_encoded", r.not_encoded);
  out += ',';
  note(out, "solver", r.solver);
  out += ",\"unconfirmed\":" + std::to_string(r.unconfirmed) + "}}";
  return out;
}

// ------------------------------------------------------------------ text

namespace {

class text_writer {
 public:
  text_writer(const whatif_result& r, const dsl::program& p, engine::lang l,
              const engine::catalogue& c)
      : r_(r), p_(p), l_(l), c_(c) {}

  std::string run() {
    const dsl::rule_info& rule = p_.rules[*p_.find_rule(r_.decision)];
    std::string title = text_in(rule.title);
    if (title.empty()) title = r_.decision;
    line(c_.format(engine::msg::whatif_heading, l_,
                   {{"decision", title},
                    {"goal", words(rule.t, r_.goal)},
                    {"date", engine::date_words(r_.as_of, l_, c_)}}),
         0);
    line(c_.format(engine::msg::whatif_current, l_,
                   {{"value", r_.undetermined ? c_.text(engine::msg::undetermined_value, l_)
                                              : words(rule.t, r_.current)}}),
         0);
    if (r_.reached) line(c_.text(engine::msg::whatif_already, l_), 2);
    std::size_t n = 0;
    for (const alternative& a : r_.alternatives) {
      line(c_.format(engine::msg::whatif_alternative, l_, {{"n", std::to_string(++n)}}), 0);
      changes(a);
    }
    if (!r_.reached && r_.alternatives.empty()) line(c_.text(engine::msg::whatif_none, l_), 0);
    if (!r_.ask_first.empty()) {
      line(c_.text(engine::msg::whatif_ask_heading, l_), 0);
      for (const ask_entry& e : r_.ask_first) {
        line(c_.format(engine::msg::whatif_ask_settles, l_, {{"value", words(rule.t, e.settles)}}),
             2);
        changes(e.alt, 4);
      }
    }
    if (!r_.fixed.empty()) {
      std::string list;
      for (const std::string& f : r_.fixed) {
        if (!list.empty()) list += c_.text(engine::msg::list_separator, l_);
        list += fact_name(f);
      }
      line(c_.format(engine::msg::whatif_fixed, l_, {{"facts", list}}), 0);
    }
    if (!r_.not_encoded.empty()) {
      line(c_.format(engine::msg::whatif_gap, l_, {{"detail", r_.not_encoded}}), 0);
    }
    if (!r_.solver.empty()) {
      line(c_.format(engine::msg::whatif_solver, l_, {{"detail", r_.solver}}), 0);
    }
    if (r_.unconfirmed > 0) {
      line(c_.format(engine::msg::whatif_unconfirmed, l_,
                     {{"count", std::to_string(r_.unconfirmed)}}),
           0);
    }
    return out_;
  }

 private:
  void line(const std::string& s, int indent) { out_ += engine::text_line(s, l_, indent); }

  std::string text_in(const dsl::texts& t) const {
    auto it = t.find(std::string(engine::lang_code(l_)));
    return it == t.end() ? std::string() : it->second;
  }

  std::string fact_name(const std::string& path) const {
    const dsl::field_info* f = dsl::field_at(p_, path);
    std::string title = f == nullptr ? std::string() : text_in(f->title);
    if (title.empty()) return path;
    return c_.format(engine::msg::whatif_fact, l_, {{"title", title}, {"path", path}});
  }

  std::string words(const dsl::type& t, const std::string& json) const {
    if (json == "{}") return c_.text(engine::msg::whatif_present, l_);
    std::string hold;
    engine::value v = value_of(p_, t, json, hold);
    if (v.unknown() && json == "null") return c_.text(engine::msg::undetermined_value, l_);
    return engine::exact_value_words(p_, t, v, l_, c_);  // a bound to act on: every decimal
  }

  void changes(const alternative& a, int indent = 2) {
    if (a.from_date) {
      line(c_.format(engine::msg::whatif_time, l_,
                     {{"date", engine::date_words(*a.from_date, l_, c_)}}),
           indent);
    }
    for (const fact_change& c : a.changes) {
      std::string from = c.missing ? c_.text(engine::msg::unknown, l_) : words(c.t, c.from);
      // A record said to be present is implied by a field changed inside it.
      if (c.value == "{}" && std::any_of(a.changes.begin(), a.changes.end(), [&](const auto& o) {
            return o.fact.rfind(c.fact + ".", 0) == 0;
          })) {
        continue;
      }
      std::string to;
      if (c.ranged && !c.min.empty() && c.min == c.max && !c.min_open && !c.max_open) {
        to = words(c.t, c.min);
      } else if (c.ranged && (!c.min.empty() || !c.max.empty())) {
        std::string lo;
        std::string hi;
        if (!c.min.empty()) {
          lo = c_.format(c.min_open ? engine::msg::whatif_above : engine::msg::whatif_at_least, l_,
                         {{"value", words(c.t, c.min)}});
        }
        if (!c.max.empty()) {
          hi = c_.format(c.max_open ? engine::msg::whatif_below : engine::msg::whatif_at_most, l_,
                         {{"value", words(c.t, c.max)}});
        }
        to = lo.empty()   ? hi
             : hi.empty() ? lo
                          : c_.format(engine::msg::whatif_between, l_, {{"low", lo}, {"high", hi}});
      } else if (c.values.size() > 1) {
        std::string list;
        for (const std::string& v : c.values) {
          if (!list.empty()) list += c_.text(engine::msg::list_separator, l_);
          list += words(c.t, v);
        }
        to = c_.format(engine::msg::whatif_one_of, l_, {{"values", list}});
      } else {
        to = words(c.t, c.value);
      }
      line(c_.format(engine::msg::whatif_change, l_,
                     {{"fact", fact_name(c.fact)}, {"from", from}, {"to", to}}),
           indent);
    }
  }

  const whatif_result& r_;
  const dsl::program& p_;
  engine::lang l_;
  const engine::catalogue& c_;
  std::string out_;
};

}  // namespace

std::string to_text(const whatif_result& r, const dsl::program& p, engine::lang l,
                    const engine::catalogue& c) {
  return text_writer(r, p, l, c).run();
}

}  // namespace dalil::analysis
