// Terms for the compiled ruleset: the evaluator's semantics (engine/evaluator.cpp, logic.hpp)
// written once more as Z3 expressions. Every answer built from them is re-checked by the
// evaluator itself (analysis/diff.cpp), so a gap here shows as `unknown`, never as a wrong answer.
#include "analysis/encode.hpp"

#include <algorithm>
#include <set>

#include "engine/record.hpp"
#include "engine/value.hpp"

namespace dalil::analysis::detail {

using dsl::kind;
using dsl::op;

namespace {

/// Numbers in records are bounded for the proofs: |x| <= 10^12 (units, MAD for money). Inside
/// it no arithmetic of the pack overflows the evaluator's 64-bit fractions, whose overflow
/// would make a value unknown where the terms keep it exact.
constexpr std::int64_t domain_bound = 1000000000000;

bool is_real(kind k) {
  return k == kind::decimal || k == kind::money;
}

z3::expr as_real(const z3::expr& e) {
  return e.is_int() ? z3::to_real(e) : e;
}

z3::expr int_of(z3::context& c, std::int64_t v) {
  return c.int_val(static_cast<int64_t>(v));
}

z3::expr rational_of(z3::context& c, std::int64_t num, std::int64_t den) {
  std::string s = std::to_string(num) + "/" + std::to_string(den);
  return c.real_val(s.c_str());
}

// ------------------------------------------------------------------ the calendar (dsl/value.cpp)

// Dates are bounded for the proofs (docs/advisers.md): facts and as-of dates lie in 1901–2099,
// and calendar results in 1901–2199, where a year is leap when divisible by 4, 2100 excepted.
// Inside that range the arithmetic below is the Gregorian calendar exactly, with one division.
constexpr int first_year = 1901;
constexpr int last_result_year = 2199;

z3::expr leap(const z3::expr& y) {
  return z3::mod(y, 4) == 0 && y != 2100;
}

z3::expr month_end(const z3::expr& y, const z3::expr& m) {
  z3::context& c = y.ctx();
  return z3::ite(m == 2, z3::ite(leap(y), c.int_val(29), c.int_val(28)),
                 z3::ite(m == 4 || m == 6 || m == 9 || m == 11, c.int_val(30), c.int_val(31)));
}

/// Days since 1970-01-01 of a valid civil date of 1901–2199.
z3::expr days_from_civil(const z3::expr& year, const z3::expr& month, const z3::expr& day) {
  z3::context& c = year.ctx();
  static constexpr int before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  z3::expr cum = c.int_val(before[11]);
  for (int m = 11; m-- > 0;) cum = z3::ite(month == m + 1, c.int_val(before[m]), cum);
  z3::expr y = year - first_year;
  z3::expr start = -25202 + 365 * y + y / 4 - z3::ite(year > 2100, c.int_val(1), c.int_val(0));
  return start + cum + z3::ite(month > 2 && leap(year), c.int_val(1), c.int_val(0)) + day - 1;
}

z3::expr min_int(const z3::expr& a, const z3::expr& b) {
  return z3::ite(a <= b, a, b);
}

/// The greatest integer not above a real (Z3's to_int).
z3::expr floor_of(const z3::expr& e) {
  Z3_ast r = Z3_mk_real2int(e.ctx(), e);
  e.ctx().check_error();
  return z3::expr(e.ctx(), r);
}

bool is_literal(const z3::expr& e) {
  return e.is_numeral() || e.is_true() || e.is_false();
}

}  // namespace

void unify(z3::expr& a, z3::expr& b) {
  if (z3::eq(a.get_sort(), b.get_sort())) return;
  if (a.is_arith() && b.is_arith()) {
    if (a.is_int()) a = z3::to_real(a);
    if (b.is_int()) b = z3::to_real(b);
    return;
  }
  // The payload of an unknown value (not_encoded has no type of its own): any of the right sort.
  z3::context& c = a.ctx();
  if (is_literal(b)) {
    b = a.is_bool() ? c.bool_val(false) : a.is_real() ? c.real_val(0) : c.int_val(0);
  } else if (is_literal(a)) {
    a = b.is_bool() ? c.bool_val(false) : b.is_real() ? c.real_val(0) : c.int_val(0);
  }
}

z3::expr same(const term& a, const term& b) {
  z3::expr l = a.val;
  z3::expr r = b.val;
  unify(l, r);
  z3::expr payload = l == r;
  if (a.dur || b.dur) payload = a.val.ctx().bool_val(a.dur && b.dur && *a.dur == *b.dur);
  return (a.unk && b.unk) ||
         (!a.unk && !b.unk && ((a.nul && b.nul) || (!a.nul && !b.nul && payload)));
}

// ------------------------------------------------------------------ facts

date fact_space::first_day() {
  return from_civil({first_year, 1, 1});
}
date fact_space::last_day() {
  return from_civil({2099, 12, 31});
}

fact_space::fact_space(z3::context& ctx) : ctx_(ctx), as_of_(ctx.int_const("as_of")) {
  constraints_.push_back(as_of_ >= first_day().days && as_of_ <= last_day().days);
}

std::array<z3::expr, 3> fact_space::civil(const z3::expr& days) {
  // One decomposition per date term: the same term in both versions shares it, so that equal
  // rules give equal terms.
  auto it = civil_.find(days.id());
  if (it != civil_.end()) return it->second;
  z3::expr y = fresh("year");
  z3::expr m = fresh("month");
  z3::expr d = fresh("day");
  // Where `days` is not a date of the domain (an unknown value's payload) nothing is read from
  // the decomposition; it is constrained only where it is.
  z3::expr in_domain =
      days >= first_day().days && days <= from_civil({last_result_year, 12, 31}).days;
  constraints_.push_back(z3::implies(
      in_domain, y >= first_year && y <= last_result_year && m >= 1 && m <= 12 && d >= 1 &&
                     d <= month_end(y, m) && days_from_civil(y, m, d) == days));
  std::array<z3::expr, 3> out{y, m, d};
  civil_.emplace(days.id(), out);
  keep_.push_back(days);
  return out;
}

int fact_space::text_id(const std::string& text) {
  auto it = texts_.find(text);
  if (it != texts_.end()) return it->second;
  int id = static_cast<int>(texts_.size());
  texts_.emplace(text, id);
  return id;
}

const std::vector<std::string>& fact_space::enum_names(const dsl::program& p, std::uint32_t e) {
  const dsl::enum_info& info = p.enums[e];
  const std::string& key = enum_key(info.name);
  std::vector<std::string>& names = enum_names_[key];  // a map's element: fields point to it
  for (const std::string& c : info.cases) {
    if (std::find(names.begin(), names.end(), c) == names.end()) names.push_back(c);
  }
  return names;
}

bool same_enum(const dsl::program& a, std::uint32_t ea, const dsl::program& b, std::uint32_t eb) {
  const dsl::enum_info& x = a.enums[ea];
  const dsl::enum_info& y = b.enums[eb];
  if (x.name == y.name) return true;
  auto named = [](const dsl::program& p, const std::string& name) {
    return std::any_of(p.enums.begin(), p.enums.end(),
                       [&](const dsl::enum_info& e) { return e.name == name; });
  };
  if (named(b, x.name) || named(a, y.name)) return false;  // each name is another enum there
  std::vector<std::string> cx = x.cases;
  std::vector<std::string> cy = y.cases;
  std::sort(cx.begin(), cx.end());
  std::sort(cy.begin(), cy.end());
  return cx == cy;
}

void fact_space::align_enums(const dsl::program& a, const dsl::program& b) {
  for (std::uint32_t eb = 0; eb < b.enums.size(); ++eb) {
    for (std::uint32_t ea = 0; ea < a.enums.size(); ++ea) {
      if (a.enums[ea].name != b.enums[eb].name && same_enum(a, ea, b, eb)) {
        alias_[b.enums[eb].name] = a.enums[ea].name;
      }
    }
  }
}

const std::string& fact_space::enum_key(const std::string& name) const {
  auto it = alias_.find(name);
  return it == alias_.end() ? name : it->second;
}

std::vector<std::string> fact_space::one_sided_cases(const dsl::program& a,
                                                     const dsl::program& b) const {
  std::set<std::string> out;
  for (const auto& f : fields_) {
    if (f->t.k != kind::enumeration) continue;
    for (const dsl::program* p : {&a, &b}) {
      const dsl::field_info* at = dsl::field_at(*p, f->path);
      if (at == nullptr || at->t.k != kind::enumeration) continue;
      const auto& declared = p->enums[at->t.ref].cases;
      for (const std::string& c : *f->cases) {
        if (std::find(declared.begin(), declared.end(), c) == declared.end()) {
          out.insert(f->enum_name + "." + c);
        }
      }
    }
  }
  return {out.begin(), out.end()};
}

int fact_space::enum_case(const dsl::program& p, std::uint32_t e, std::uint32_t ordinal) {
  const std::vector<std::string>& names = enum_names(p, e);
  const std::string& name = p.enums[e].cases.at(ordinal);
  return static_cast<int>(std::find(names.begin(), names.end(), name) - names.begin());
}

void fact_space::restrict_cases(field_var& f, const dsl::program& p, std::uint32_t e) {
  const std::vector<std::string>& cases = p.enums[e].cases;
  auto& seen = restricted_[f.path];
  if (std::find(seen.begin(), seen.end(), cases) != seen.end()) return;
  seen.push_back(cases);
  z3::expr in = ctx_.bool_val(false);
  for (std::uint32_t i = 0; i < cases.size(); ++i) in = in || *f.value == enum_case(p, e, i);
  constraints_.push_back(in);
}

void fact_space::restrict_to_schema(const dsl::program& p) {
  for (auto& f : fields_) {
    if (f->t.k != kind::enumeration) continue;
    const dsl::field_info* at = dsl::field_at(p, f->path);
    if (at != nullptr && at->t.k == kind::enumeration &&
        enum_key(p.enums[at->t.ref].name) == f->enum_name) {
      restrict_cases(*f, p, at->t.ref);
    }
  }
}

fact_space::field_var& fact_space::field(const dsl::program& p, const std::string& path,
                                         const dsl::type& t) {
  auto it = by_path_.find(path);
  if (it != by_path_.end()) return *fields_[it->second];
  std::string name = "f:" + path;
  auto f = std::make_unique<field_var>(
      field_var{path, t, {}, {}, {}, ctx_.int_const(name.c_str()), {}, {}});
  if (t.k == kind::enumeration) {
    f->enum_name = enum_key(p.enums[t.ref].name);
    f->cases = &enum_names(p, t.ref);
  }
  if (t.k == kind::record) f->record = p.records[t.ref].name;
  constraints_.push_back(f->state >= 0 && f->state <= 2);
  if (!t.optional) constraints_.push_back(f->state != 1);
  std::string vname = "v:" + path;
  switch (t.k) {
    case kind::boolean:
      f->value = ctx_.bool_const(vname.c_str());
      break;
    case kind::integer: {
      z3::expr v = ctx_.int_const(vname.c_str());
      constraints_.push_back(v >= int_of(ctx_, -domain_bound) && v <= int_of(ctx_, domain_bound));
      f->value = v;
      break;
    }
    case kind::money: {
      // Whole centimes, as records hold them.
      z3::expr cents = ctx_.int_const(("c:" + path).c_str());
      constraints_.push_back(cents >= int_of(ctx_, -domain_bound * 100) &&
                             cents <= int_of(ctx_, domain_bound * 100));
      f->centimes = cents;
      f->value = z3::to_real(cents) / ctx_.real_val(100);
      break;
    }
    case kind::decimal: {
      z3::expr v = ctx_.real_const(vname.c_str());
      constraints_.push_back(v >= ctx_.real_val(static_cast<int64_t>(-domain_bound)) &&
                             v <= ctx_.real_val(static_cast<int64_t>(domain_bound)));
      f->value = v;
      break;
    }
    case kind::date: {
      z3::expr v = ctx_.int_const(vname.c_str());
      constraints_.push_back(v >= first_day().days && v <= last_day().days);
      f->value = v;
      break;
    }
    case kind::enumeration:
      f->value = ctx_.int_const(vname.c_str());
      break;  // its cases: restrict_cases
    case kind::text: {
      z3::expr v = ctx_.int_const(vname.c_str());
      constraints_.push_back(v >= 0);
      f->value = v;
      break;
    }
    default:
      break;  // records: the state alone
  }
  by_path_.emplace(path, fields_.size());
  fields_.push_back(std::move(f));
  return *fields_.back();  // an enum's cases: restricted by fact(), for each version
}

std::optional<term> fact_space::fact(const dsl::program& p, std::uint32_t index,
                                     std::string& reason) {
  const dsl::fact_info& fi = p.facts[index];
  if (fi.t.k == kind::list || fi.t.k == kind::duration) {
    reason = "the fact " + fi.path + " is a list (lists are not encoded)";
    return std::nullopt;
  }
  // The state along the path: the first field that is absent makes the fact unknown, the first
  // that is null makes it null (engine/record.cpp).
  z3::expr unk = ctx_.bool_val(false);
  z3::expr nul = ctx_.bool_val(false);
  std::uint32_t rec = p.input_record;
  std::string path;
  const field_var* leaf = nullptr;
  for (std::size_t i = 0; i < fi.fields.size(); ++i) {
    const dsl::field_info& fd = p.records[rec].fields[fi.fields[i]];
    path += (path.empty() ? "" : ".") + fd.name;
    field_var& f = field(p, path, fd.t);
    // The same field in both versions must have the same type (enums: the same enum; its cases
    // may differ, compared by name, a value restricted to those both versions declare).
    bool same_type = f.t.k == fd.t.k && f.t.optional == fd.t.optional;
    if (same_type && fd.t.k == kind::enumeration) {
      same_type = f.enum_name == enum_key(p.enums[fd.t.ref].name);
      if (same_type) restrict_cases(f, p, fd.t.ref);
    }
    if (same_type && fd.t.k == kind::record) {
      same_type = f.record == p.records[fd.t.ref].name;
    }
    if (!same_type) {
      reason = "the field " + path + " has another type in the other version";
      return std::nullopt;
    }
    z3::expr open = !unk && !nul;
    unk = unk || (open && f.state == 0);
    nul = nul || (open && f.state == 1);
    if (fd.t.k == kind::record) rec = fd.t.ref;
    leaf = &f;
  }
  if (leaf == nullptr) {
    reason = "the fact " + fi.path + " has no field";
    return std::nullopt;
  }
  // Constraints on known values (engine/record.cpp checks them when reading).
  const dsl::value_constraint& vc = fi.constraint;
  if (leaf->value) {
    z3::expr known = leaf->state == 2;
    z3::expr v = *leaf->value;
    if (vc.at_least) {
      z3::expr b = rational_of(ctx_, vc.at_least->num, vc.at_least->den);
      constraints_.push_back(z3::implies(known, as_real(v) >= b));
    }
    if (vc.at_most) {
      z3::expr b = rational_of(ctx_, vc.at_most->num, vc.at_most->den);
      constraints_.push_back(z3::implies(known, as_real(v) <= b));
    }
    if (vc.not_after_as_of) constraints_.push_back(z3::implies(known, v <= as_of_));
  }
  z3::expr val = leaf->value ? *leaf->value : ctx_.bool_val(true);
  return term{unk, nul, val, std::nullopt};
}

bool fact_space::decimals_writable(const z3::model& m) const {
  for (const auto& f : fields_) {
    if (f->t.k != kind::decimal || !f->value) continue;
    std::string s;
    if (!m.eval(*f->value, true).is_numeral(s)) return false;
    std::size_t slash = s.find('/');
    if (slash == std::string::npos) continue;
    // A finite decimal expansion: the denominator has no prime factor but 2 and 5.
    std::uint64_t den = std::stoull(s.substr(slash + 1));
    while (den % 2 == 0) den /= 2;
    while (den % 5 == 0) den /= 5;
    if (den != 1) return false;
  }
  return true;
}

std::vector<z3::expr> fact_space::hundredths() const {
  std::vector<z3::expr> out;
  for (const auto& f : fields_) {
    if (f->t.k != kind::decimal || !f->value) continue;
    z3::expr k = ctx_.int_const(("h:" + f->path).c_str());
    out.push_back(*f->value == z3::to_real(k) / ctx_.real_val(100));
  }
  return out;
}

namespace {

/// A model's rational as exact decimal text ("12.5", "-3").
std::string decimal_text(const z3::expr& v) {
  std::string s;
  if (!v.is_numeral(s)) return "0";
  std::size_t slash = s.find('/');
  if (slash == std::string::npos) return s;
  auto r = make_rational(std::stoll(s.substr(0, slash)), std::stoll(s.substr(slash + 1)));
  return r ? to_string(*r) : "0";
}

}  // namespace

void fact_space::write(const z3::model& m, std::string& out, const std::string& prefix) const {
  out += '{';
  bool first = true;
  for (const auto& f : fields_) {
    if (f->path.size() <= prefix.size() || f->path.compare(0, prefix.size(), prefix) != 0) {
      continue;
    }
    std::string name = f->path.substr(prefix.size());
    if (name.find('.') != std::string::npos) continue;
    std::int64_t state = m.eval(f->state, true).get_numeral_int64();
    if (state == 0) continue;
    if (!first) out += ',';
    first = false;
    engine::append_json_string(out, name);
    out += ':';
    if (state == 1) {
      out += "null";
      continue;
    }
    if (f->t.k == kind::record) {
      write(m, out, f->path + ".");
    } else {
      out += scalar_json(m, *f);
    }
  }
  out += '}';
}

std::string fact_space::scalar_text(const z3::model& m, const field_var& f) const {
  switch (f.t.k) {
    case kind::boolean:
      return m.eval(*f.value, true).is_true() ? "true" : "false";
    case kind::integer:
      return std::to_string(m.eval(*f.value, true).get_numeral_int64());
    case kind::money: {
      std::int64_t c = m.eval(*f.centimes, true).get_numeral_int64();
      auto r = make_rational(c, 100);
      return money_string(r ? *r : rational{});
    }
    case kind::decimal:
      return decimal_text(m.eval(*f.value, true));
    case kind::date: {
      date d{static_cast<std::int32_t>(m.eval(*f.value, true).get_numeral_int64())};
      return to_string(d);
    }
    case kind::enumeration: {
      auto i = static_cast<std::size_t>(m.eval(*f.value, true).get_numeral_int64());
      return f.cases->at(i);
    }
    case kind::text: {
      std::int64_t id = m.eval(*f.value, true).get_numeral_int64();
      std::string text;
      for (const auto& [t, tid] : texts_) {
        if (tid == id) text = t;
      }
      if (text.empty() && id >= static_cast<std::int64_t>(texts_.size())) {
        // A text equal to no literal of either version.
        text = "other-" + std::to_string(id);
        while (texts_.count(text) != 0) text += "-";
      }
      return text;
    }
    default:
      return {};
  }
}

std::string fact_space::scalar_json(const z3::model& m, const field_var& f) const {
  std::string out;
  switch (f.t.k) {
    case kind::boolean:
    case kind::integer:
      return scalar_text(m, f);
    case kind::money:
    case kind::decimal:
    case kind::date:
    case kind::enumeration:
    case kind::text:
      engine::append_json_string(out, scalar_text(m, f));
      return out;
    default:
      return "null";
  }
}

void fact_space::entries(const z3::model& m, std::vector<entry>& out,
                         const std::string& prefix) const {
  for (const auto& f : fields_) {
    if (f->path.size() <= prefix.size() || f->path.compare(0, prefix.size(), prefix) != 0) {
      continue;
    }
    std::string name = f->path.substr(prefix.size());
    if (name.find('.') != std::string::npos) continue;
    std::int64_t state = m.eval(f->state, true).get_numeral_int64();
    if (state == 0) continue;
    if (state == 1) {
      out.push_back(entry{f->path, entry::kind::null, {}});
    } else if (f->t.k == kind::record) {
      std::size_t before = out.size();
      entries(m, out, f->path + ".");
      if (out.size() == before) out.push_back(entry{f->path, entry::kind::present, {}});
    } else {
      out.push_back(entry{f->path, entry::kind::value, scalar_text(m, *f)});
    }
  }
}

std::vector<fact_space::entry> fact_space::record_entries(const z3::model& m) const {
  std::vector<entry> out;
  entries(m, out, "");
  std::sort(out.begin(), out.end(), [](const entry& a, const entry& b) { return a.path < b.path; });
  return out;
}

std::string fact_space::record_json(const z3::model& m) const {
  std::string out;
  write(m, out, "");
  return out;
}

// ------------------------------------------------------------------ the encoder

encoder::encoder(fact_space& facts, std::shared_ptr<const engine::instance> inst)
    : facts_(facts), c_(facts.ctx()), inst_(std::move(inst)), rules_(*inst_->rules) {}

z3::expr encoder::zero(kind k) {
  if (k == kind::boolean) return c_.bool_val(false);
  if (is_real(k)) return c_.real_val(0);
  return c_.int_val(0);
}

term encoder::unknown(kind k) {
  return term{c_.bool_val(true), c_.bool_val(false), zero(k), std::nullopt};
}

term encoder::known(const z3::expr& v) {
  return term{c_.bool_val(false), c_.bool_val(false), v, std::nullopt};
}

term encoder::boolean(const z3::expr& t, const z3::expr& f) {
  return term{!t && !f, c_.bool_val(false), t, std::nullopt};
}

term encoder::fail(const std::string& why, kind k) {
  if (unsupported_.empty()) unsupported_ = why;
  return unknown(k);
}

term encoder::constant(const engine::value& v, kind k, std::uint32_t ref) {
  using engine::rep;
  if (v.unknown()) return unknown(k);
  if (v.is_null()) return term{c_.bool_val(false), c_.bool_val(true), zero(k), std::nullopt};
  switch (v.r) {
    case rep::boolean:
      return known(c_.bool_val(v.b));
    case rep::integer:
      return known(is_real(k) ? c_.real_val(static_cast<int64_t>(v.i))
                              : c_.int_val(static_cast<int64_t>(v.i)));
    case rep::ratio:
      return known(rational_of(c_, v.q.num, v.q.den));
    case rep::date:
      return known(c_.int_val(static_cast<int64_t>(v.i)));
    case rep::enumeration:  // by the case's name (fact_space::enum_case)
      if (k != kind::enumeration || ref >= rules_.program().enums.size()) {
        return fail("an enum constant of no known enum", k);
      }
      return known(
          c_.int_val(facts_.enum_case(rules_.program(), ref, static_cast<std::uint32_t>(v.i))));
    case rep::text:
      return known(c_.int_val(facts_.text_id(std::string(v.as_text()))));
    case rep::duration: {
      term t = known(c_.int_val(0));
      t.dur = v.dur;
      return t;
    }
    default:
      return fail("a constant list or record", k);
  }
}

term encoder::node(std::uint32_t id) {
  auto it = nodes_.find(id);
  if (it != nodes_.end()) return it->second;
  term t = encode(id);
  nodes_.emplace(id, t);
  return t;
}

namespace {

z3::expr holds(const term& t) {
  return !t.unk && !t.nul && t.val;
}
z3::expr fails(const term& t) {
  return !t.unk && (t.nul || !t.val);
}
term pick(const z3::expr& c, const term& a, const term& b) {
  z3::expr x = a.val;
  z3::expr y = b.val;
  unify(x, y);
  return term{z3::ite(c, a.unk, b.unk), z3::ite(c, a.nul, b.nul), z3::ite(c, x, y),
              a.dur ? a.dur : b.dur};
}

}  // namespace

term encoder::encode(std::uint32_t id) {
  const engine::node& n = rules_.at(id);
  const std::uint32_t* a = rules_.args(n);
  const kind k = n.k;
  switch (n.o) {
    case op::constant:
      return constant(n.constant, k, rules_.program().expressions[id].t.ref);
    case op::fact: {
      std::string why;
      auto t = facts_.fact(rules_.program(), n.ref, why);
      if (!t) return fail(why, k);
      if (is_real(k) && t->val.is_int()) t->val = z3::to_real(t->val);
      return *t;
    }
    case op::parameter:
      return constant(inst_->parameters[n.ref].v, k, rules_.program().parameters[n.ref].t.ref);
    case op::rule:
      return rule(n.ref);
    case op::as_of:
      return known(facts_.as_of());
    case op::not_encoded:
      return unknown(k);
    case op::not_: {
      term x = node(a[0]);
      return boolean(fails(x), holds(x));
    }
    case op::and_:
    case op::all_of:
    case op::or_:
    case op::any_of: {
      const bool is_or = n.o == op::or_ || n.o == op::any_of;
      z3::expr any_t = c_.bool_val(false);
      z3::expr any_f = c_.bool_val(false);
      z3::expr all_t = c_.bool_val(true);
      z3::expr all_f = c_.bool_val(true);
      for (std::uint32_t i = 0; i < n.nargs; ++i) {
        term x = node(a[i]);
        any_t = any_t || holds(x);
        any_f = any_f || fails(x);
        all_t = all_t && holds(x);
        all_f = all_f && fails(x);
      }
      return is_or ? boolean(any_t, all_f) : boolean(all_t, any_f);
    }
    case op::eq:
    case op::ne: {
      term x = node(a[0]);
      term y = node(a[1]);
      if (x.dur || y.dur) return fail("a comparison of durations", k);
      z3::expr s = same(x, y);
      z3::expr u = x.unk || y.unk;
      return n.o == op::eq ? boolean(!u && s, !u && !s) : boolean(!u && !s, !u && s);
    }
    case op::lt:
    case op::le:
    case op::gt:
    case op::ge: {
      term x = node(a[0]);
      term y = node(a[1]);
      if (x.dur || y.dur) return fail("an ordering of durations", k);
      z3::expr l = x.val;
      z3::expr r = y.val;
      unify(l, r);
      z3::expr h = n.o == op::lt ? l < r : n.o == op::le ? l <= r : n.o == op::gt ? l > r : l >= r;
      z3::expr u = x.unk || y.unk;
      z3::expr kk = !u && !x.nul && !y.nul;
      return boolean(kk && h, !u && !(kk && h));
    }
    case op::in: {
      term x = node(a[0]);
      const engine::node& list = rules_.at(a[1]);
      const std::uint32_t* items = rules_.args(list);
      z3::expr found = c_.bool_val(false);
      z3::expr unknown_item = c_.bool_val(false);
      for (std::uint32_t i = 0; i < list.nargs; ++i) {
        term y = node(items[i]);
        unknown_item = unknown_item || y.unk;
        z3::expr l = x.val;
        z3::expr r = y.val;
        unify(l, r);
        found = found || (!y.unk && !y.nul && !x.nul && l == r);
      }
      // x unknown: unknown; null: false; found: true; else unknown if an item is unknown.
      z3::expr t = !x.unk && !x.nul && found;
      z3::expr f = !x.unk && (x.nul || (!found && !unknown_item));
      return boolean(t, f);
    }
    case op::add:
    case op::sub:
    case op::mul:
    case op::div: {
      term x = node(a[0]);
      term y = node(a[1]);
      z3::expr u = x.unk || y.unk;
      z3::expr nul = !u && (x.nul || y.nul);
      if (x.dur && y.dur) {
        if (n.o != op::add) return fail("arithmetic on durations", k);
        term t = known(c_.int_val(0));
        t.unk = u;
        t.nul = nul;
        t.dur = duration{x.dur->years + y.dur->years, x.dur->months + y.dur->months,
                         x.dur->days + y.dur->days};
        return t;
      }
      if (y.dur && !x.dur && k == kind::date) {
        if (n.o != op::add && n.o != op::sub) return fail("arithmetic on a date", k);
        // checked_add / checked_subtract: years and months first (day clamped), then days.
        std::int64_t months = std::int64_t{y.dur->years} * 12 + y.dur->months;
        std::int64_t days = y.dur->days;
        if (n.o == op::sub) {
          months = -months;
          days = -days;
        }
        auto [yy, mm, dd] = facts_.civil(x.val);
        z3::expr total = yy * 12 + (mm - 1) + int_of(c_, months);
        z3::expr ny = total / 12;
        z3::expr nm = total - ny * 12 + 1;
        z3::expr r1 = days_from_civil(ny, nm, min_int(dd, month_end(ny, nm)));
        z3::expr r2 = r1 + int_of(c_, days);
        auto in_range = [](const z3::expr& e) { return e >= min_date.days && e <= max_date.days; };
        // Out of 0001-01-01 … 9999-12-31 the result is no date: unknown. Results past the
        // years the terms compute exactly are outside the domain of the proof.
        facts_.constraints().push_back(
            z3::implies(!u && !nul, ny >= first_year && ny <= last_result_year));
        z3::expr ok = in_range(r1) && in_range(r2);
        return term{u || (!nul && !ok), nul, r2, std::nullopt};
      }
      if (x.dur || y.dur) return fail("arithmetic on a duration", k);
      z3::expr l = x.val;
      z3::expr r = y.val;
      z3::expr fails_op = c_.bool_val(false);
      z3::expr v = l;
      const bool whole = k == kind::integer;
      if (whole && n.o != op::div) {
        v = n.o == op::add ? l + r : n.o == op::sub ? l - r : l * r;
      } else {
        l = as_real(l);
        r = as_real(r);
        if (n.o == op::div) {
          fails_op = r == c_.real_val(0);
          v = z3::ite(fails_op, c_.real_val(0), l / r);
        } else {
          v = n.o == op::add ? l + r : n.o == op::sub ? l - r : l * r;
        }
        if (whole) return fail("a whole-number division", k);
      }
      return term{u || (!nul && fails_op), nul, v, std::nullopt};
    }
    case op::negate: {
      term x = node(a[0]);
      return term{x.unk, x.nul, -x.val, std::nullopt};
    }
    case op::if_: {
      term cnd = node(a[0]);
      term x = node(a[1]);
      term y = node(a[2]);
      if (x.dur || y.dur) return fail("a duration chosen by a condition", k);
      term both = pick(same(x, y), x, unknown(k));
      return pick(holds(cnd), x, pick(fails(cnd), y, both));
    }
    case op::table: {
      // The first row whose condition holds gives the value, unless a row before it whose
      // condition is unknown would give another; no row holding: unknown (evaluator::table).
      const std::size_t rows = n.nargs / 2;
      if (rows > 64) return fail("a table of more than 64 rows", k);
      std::vector<term> conds;
      std::vector<term> vals;
      conds.reserve(rows);
      vals.reserve(rows);
      for (std::size_t i = 0; i < rows; ++i) {
        conds.push_back(node(a[2 * i]));
        vals.push_back(node(a[2 * i + 1]));
        if (vals.back().dur) return fail("a duration in a table", k);
      }
      // The chain is built from the last row: a row is reached only when none before holds.
      term result = unknown(k);
      for (std::size_t i = rows; i-- > 0;) {
        z3::expr ok = c_.bool_val(true);
        for (std::size_t j = 0; j < i; ++j) {
          ok = ok && z3::implies(conds[j].unk, same(vals[j], vals[i]));
        }
        result = pick(holds(conds[i]), pick(ok, vals[i], unknown(k)), result);
      }
      return result;
    }
    case op::known: {
      term x = node(a[0]);
      return boolean(!x.unk, x.unk);
    }
    case op::age:
    case op::years_between:
    case op::months_between:
    case op::days_between: {
      term x = node(a[0]);
      term y = n.o == op::age ? known(facts_.as_of()) : node(a[1]);
      z3::expr u = x.unk || y.unk;
      z3::expr nul = !u && (x.nul || y.nul);
      z3::expr from = x.val;
      z3::expr to = y.val;
      if (n.o == op::days_between) return term{u, nul, to - from, std::nullopt};
      auto [ya, ma, da] = facts_.civil(from);
      auto [yb, mb, db] = facts_.civil(to);
      // years_between / months_between (dsl/value.cpp): for from <= to, the count of whole
      // periods from `from`, its day clamped to the month's end, that do not pass `to`; the
      // negation of the reverse count otherwise.
      const bool years = n.o != op::months_between;
      auto count = [&](const z3::expr& y1, const z3::expr& m1, const z3::expr& d1,
                       const z3::expr& y2, const z3::expr& m2, const z3::expr& day2) {
        z3::expr nn = years ? y2 - y1 : (y2 - y1) * 12 + m2 - m1;
        z3::expr landing = years ? days_from_civil(y2, m1, min_int(d1, month_end(y2, m1)))
                                 : days_from_civil(y2, m2, min_int(d1, month_end(y2, m2)));
        return z3::ite(nn > 0 && landing > day2, nn - 1, nn);
      };
      z3::expr forward = count(ya, ma, da, yb, mb, to);
      z3::expr backward = -count(yb, mb, db, ya, ma, from);
      return term{u, nul, z3::ite(to < from, backward, forward), std::nullopt};
    }
    case op::min:
    case op::max: {
      term x = node(a[0]);
      term y = node(a[1]);
      z3::expr u = x.unk || y.unk;
      z3::expr nul = !u && (x.nul || y.nul);
      z3::expr l = x.val;
      z3::expr r = y.val;
      unify(l, r);
      z3::expr v = n.o == op::min ? z3::ite(l <= r, l, r) : z3::ite(l <= r, r, l);
      return term{u, nul, v, std::nullopt};
    }
    case op::round:
    case op::floor: {
      term x = node(a[0]);
      if (x.val.is_int()) return x;
      if (n.o == op::floor) return term{x.unk, x.nul, z3::to_real(floor_of(x.val)), x.dur};
      std::int64_t places = std::clamp<std::int64_t>(rules_.at(a[1]).constant.i, 0, 18);
      std::string scale_text = "1" + std::string(static_cast<std::size_t>(places), '0');
      z3::expr scale = c_.real_val(scale_text.c_str());
      z3::expr s = x.val * scale;
      z3::expr half = c_.real_val(1, 2);
      // Half away from zero (dsl round_places).
      z3::expr r =
          z3::ite(s >= 0, z3::to_real(floor_of(s + half)), -z3::to_real(floor_of(-s + half)));
      return term{x.unk, x.nul, r / scale, std::nullopt};
    }
    case op::variable:
    case op::any_in:
    case op::all_in:
    case op::count:
    case op::list:
      return fail("a list or a quantifier over a list (lists are not encoded)", k);
  }
  return fail("an operation the encoder does not know", k);
}

term encoder::rule(std::uint32_t r) {
  auto it = rule_terms_.find(r);
  if (it != rule_terms_.end()) return it->second;
  const dsl::rule_info& info = rules_.program().rules[r];
  const kind k = info.t.k;
  term v = unknown(k);
  if (inst_->in_force[r]) {
    // evaluator::eval_rule: the first exception whose condition holds gives the value, else
    // the body; an exception before it whose condition is unknown and whose value differs
    // makes the decision unknown.
    term body = node(info.body);
    std::vector<term> conds;
    std::vector<term> vals;
    for (const dsl::exception_info& ex : info.exceptions) {
      conds.push_back(node(ex.condition));
      vals.push_back(node(ex.value));
    }
    term chosen = body;
    for (std::size_t x = info.exceptions.size(); x-- > 0;) {
      chosen = pick(holds(conds[x]), vals[x], chosen);
    }
    z3::expr undecided = c_.bool_val(false);
    z3::expr before = c_.bool_val(true);
    for (std::size_t x = 0; x < info.exceptions.size(); ++x) {
      undecided = undecided || (before && conds[x].unk && !same(chosen, vals[x]));
      before = before && !holds(conds[x]);
    }
    v = pick(undecided, unknown(k), chosen);
  } else if (info.outside != dsl::no_index) {
    v = node(info.outside);
  }
  rule_terms_.emplace(r, v);
  return v;
}

}  // namespace dalil::analysis::detail
