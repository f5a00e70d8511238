// Pretty-printer: one clause per line, two-space indentation, table rows on their own lines,
// only the parentheses that precedence needs, long and/or chains broken one operand per line.
#include "dsl/formatter.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "dsl/limits.hpp"
#include "dsl/reason_text.hpp"

namespace dalil::dsl {

namespace {

constexpr std::size_t width = 100;

int precedence(const std::string& op) {
  if (op == "or") return 1;
  if (op == "and") return 2;
  if (op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=" ||
      op == "in") {
    return 4;
  }
  if (op == "+" || op == "-") return 5;
  return 6;  // * /
}

std::string squeeze(const std::string& s) {  // collapse inner whitespace to single spaces
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

/// The texts of a `not_encoded` reason as written: one quoted text (with an empty language), or
/// `fr "…" ar "…"` pairs; blanks and comments between them are dropped (comments are printed
/// before the construct by the printer).
std::vector<std::pair<std::string, std::string>> reason_pairs(std::string_view reason) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const reason_part& part : reason_parts(reason)) {
    out.emplace_back(std::string(part.lang(reason)), std::string(part.text(reason)));
  }
  return out;
}

std::string literal_text(const ast::literal& l) {
  switch (l.kind) {
    case ast::literal_kind::money:
    case ast::literal_kind::duration:
      return squeeze(l.text);
    case ast::literal_kind::not_encoded: {
      std::string s = "not_encoded";
      for (const auto& [lang, text] : reason_pairs(l.text)) {
        if (!lang.empty()) s += " " + lang;
        s += " " + text;
      }
      return s;
    }
    default:
      return l.text;
  }
}

class printer {
 public:
  explicit printer(std::vector<std::pair<std::uint32_t, std::string>> comments)
      : comments_(std::move(comments)) {}

  std::string out;

  /// Emits the comments that stand before `offset`, each on its own line at `indent`.
  void comments_before(std::uint32_t offset, int indent) {
    while (next_comment_ < comments_.size() && comments_[next_comment_].first < offset) {
      line(indent, comments_[next_comment_].second);
      ++next_comment_;
    }
  }
  void remaining_comments() {
    while (next_comment_ < comments_.size()) line(0, comments_[next_comment_++].second);
  }
  void line(int indent, const std::string& s) {
    out.append(static_cast<std::size_t>(indent), ' ');
    out += s;
    out += '\n';
  }
  void blank() {
    if (!out.empty() && out.size() >= 2 &&
        !(out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n')) {
      out += '\n';
    }
  }

  // ---------------------------------------------------------------- expressions (one line)

  // Parentheses follow the grammar (grammar_def.hpp): `or` < `and` < `not` < comparisons <
  // `+ -` < `* /` < unary `-`. A chain `a op b op c` is read from the left, so a left operand
  // of the same level needs none and a right one does (`a - (b - c)`); comparisons do not chain
  // (the checker refuses `a == b == c`), so a comparison operand of a comparison keeps them on
  // both sides (`(a == b) == c`). `before_row` is true where a table row of an enclosing table
  // follows: a table printed there without parentheses would take that row as its own.
  std::string expr(const ast::expr& e, int min_prec, bool before_row = false) const {
    if (e.rest.empty()) return operand(e.first, min_prec, before_row);
    int prec = precedence(e.rest.front().op);
    bool wrap = prec < min_prec;
    level paren(*this, wrap);
    std::string s = chain_operand(prec, e.first, true);
    for (const ast::operation& o : e.rest)
      s += " " + o.op + " " + chain_operand(prec, o.rhs, false);
    return wrap ? "(" + s + ")" : s;
  }

  /// An operand of a chain of operators of precedence `prec`, on the left of them all or not.
  std::string chain_operand(int prec, const ast::operand& o, bool leftmost) const {
    // `and` inside `or` binds tighter anyway; the parentheses are kept for the reader.
    if (prec == 1 && is_chain_of(o, "and")) {
      return optional_parens([&] { return operand(o, 2); });
    }
    int min = prec == 1 ? 2 : prec == 4 ? 5 : leftmost ? prec : prec + 1;
    return operand(o, min);
  }

  static bool is_chain_of(const ast::operand& o, const char* op) {
    const auto* inner = boost::get<ast::x3::forward_ast<ast::expr>>(&o.get());
    if (inner == nullptr) return false;
    const ast::expr* chain = as_chain(inner->get());
    return chain != nullptr && chain->rest.front().op == op;
  }

  // ---------------------------------------------------------------- nesting depth
  // The parser refuses more than limits::max_nesting levels of parentheses, `not`, `-`, calls,
  // lists, `if`, tables and quantifiers (E0003). Parentheses kept only for the reader must not
  // take a source that fits over that limit: they are printed only where the whole
  // parenthesized text, with all such parentheses inside it, still fits.

  /// One level of nesting as the parser counts it, for the time of a scope.
  struct level {
    const printer& p;
    bool on;
    explicit level(const printer& pr, bool counted = true) : p(pr), on(counted) {
      if (on) p.deepest_ = std::max(p.deepest_, ++p.depth_);
    }
    ~level() {
      if (on) --p.depth_;
    }
    level(const level&) = delete;
    level& operator=(const level&) = delete;
  };

  /// `print()` in parentheses kept for the reader, or without them where they would not fit.
  template <typename F>
  std::string optional_parens(F print) const {
    if (all_reader_parens_) {
      level paren(*this);
      return "(" + print() + ")";
    }
    int saved = deepest_;
    deepest_ = depth_;
    std::string s;
    all_reader_parens_ = true;
    {
      level paren(*this);
      s = print();
    }
    all_reader_parens_ = false;
    if (deepest_ <= limits::max_nesting) {
      deepest_ = std::max(saved, deepest_);
      return "(" + s + ")";
    }
    deepest_ = saved;
    return print();
  }

  mutable int depth_ = 0;
  mutable int deepest_ = 0;
  mutable bool all_reader_parens_ = false;

  std::string operand(const ast::operand& o, int min_prec, bool before_row = false) const {
    struct visitor {
      const printer& p;
      int min_prec;
      bool before_row;
      std::string operator()(const ast::literal& l) const { return literal_text(l); }
      std::string operator()(const ast::path& x) const { return x.text; }
      std::string operator()(const ast::unary& u) const {
        if (u.op == "not") {
          bool wrap = min_prec > 3;
          level paren(p, wrap);
          level inside(p);
          std::string s = "not " + p.operand(u.rhs, 3);
          return wrap ? "(" + s + ")" : s;
        }
        level inside(p);
        return "-" + p.operand(u.rhs, 7);
      }
      std::string operator()(const ast::call& c) const {
        level inside(p);
        std::string s = c.name.name + "(";
        for (std::size_t i = 0; i < c.args.size(); ++i) {
          s += (i ? ", " : "") + p.expr(c.args[i], 0);
        }
        return s + ")";
      }
      std::string operator()(const ast::if_expr& i) const {
        bool wrap = min_prec > 0;
        level paren(p, wrap);
        level inside(p);
        std::string s = "if " + p.expr(i.condition, 0) + " then " + p.then_branch(i.then_branch) +
                        " else " + p.expr(i.else_branch, 0, before_row && !wrap);
        return wrap ? "(" + s + ")" : s;
      }
      std::string operator()(const ast::table& t) const {
        bool wrap = min_prec > 0 || before_row;
        level paren(p, wrap);
        level inside(p);
        std::string s = "table " + t.policy;
        for (std::size_t k = 0; k < t.rows.size(); ++k) {
          const ast::table_row& r = t.rows[k];
          s += " | " + p.expr(r.condition, 0) + " => " + p.expr(r.value, 0, k + 1 < t.rows.size());
        }
        return wrap ? "(" + s + ")" : s;
      }
      std::string operator()(const ast::list_expr& l) const {
        level inside(p);
        std::string s = l.kind == "list" ? "[" : l.kind + " [";
        for (std::size_t i = 0; i < l.items.size(); ++i) {
          s += (i ? ", " : "") + p.expr(l.items[i], 0);
        }
        return s + "]";
      }
      std::string operator()(const ast::quantifier& q) const {
        bool wrap = min_prec > 0;
        level paren(p, wrap);
        level inside(p);
        std::string s = q.kind + " " + q.variable.name + " in " + q.over.text + " : " +
                        p.expr(q.body, 0, before_row && !wrap);
        return wrap ? "(" + s + ")" : s;
      }
      std::string operator()(const ast::expr& e) const { return p.expr(e, min_prec, before_row); }
    };
    return boost::apply_visitor(visitor{*this, min_prec, before_row}, o);
  }

  /// The branch after `then`: an `if`, a table or a quantifier there is parenthesized for the
  /// reader (the grammar would not need it).
  std::string then_branch(const ast::expr& e) const {
    if (as_if(e) || as_table(e) || as_quantifier(e)) {
      return optional_parens([&] { return expr(e, 0); });
    }
    return expr(e, 0);
  }

  // ---------------------------------------------------------------- expressions (block)

  static const ast::quantifier* as_quantifier(const ast::expr& e) {
    const ast::expr* cur = &e;
    while (cur->rest.empty()) {
      if (const auto* q = boost::get<ast::x3::forward_ast<ast::quantifier>>(&cur->first.get())) {
        return &q->get();
      }
      const auto* inner = boost::get<ast::x3::forward_ast<ast::expr>>(&cur->first.get());
      if (inner == nullptr) return nullptr;
      cur = &inner->get();
    }
    return nullptr;
  }

  static const ast::table* as_table(const ast::expr& e) {
    const ast::expr* cur = &e;
    while (cur->rest.empty()) {
      if (const auto* t = boost::get<ast::x3::forward_ast<ast::table>>(&cur->first.get())) {
        return &t->get();
      }
      const auto* inner = boost::get<ast::x3::forward_ast<ast::expr>>(&cur->first.get());
      if (inner == nullptr) return nullptr;
      cur = &inner->get();
    }
    return nullptr;
  }
  static const ast::if_expr* as_if(const ast::expr& e) {
    const ast::expr* cur = &e;
    while (cur->rest.empty()) {
      if (const auto* t = boost::get<ast::x3::forward_ast<ast::if_expr>>(&cur->first.get())) {
        return &t->get();
      }
      const auto* inner = boost::get<ast::x3::forward_ast<ast::expr>>(&cur->first.get());
      if (inner == nullptr) return nullptr;
      cur = &inner->get();
    }
    return nullptr;
  }
  /// The top-level and/or chain of an expression, if it has one.
  static const ast::expr* as_chain(const ast::expr& e) {
    const ast::expr* cur = &e;
    while (cur->rest.empty()) {
      const auto* inner = boost::get<ast::x3::forward_ast<ast::expr>>(&cur->first.get());
      if (inner == nullptr) return nullptr;
      cur = &inner->get();
    }
    const std::string& op = cur->rest.front().op;
    return op == "or" || op == "and" ? cur : nullptr;
  }

  /// Whether `e` ends with a table's last row (so that a `|` after it would continue that table).
  static bool ends_with_table(const ast::expr& e) {
    const ast::expr* cur = &e;
    while (cur->rest.empty()) {
      const ast::operand& o = cur->first;
      if (boost::get<ast::x3::forward_ast<ast::table>>(&o.get()) != nullptr) return true;
      if (const auto* i = boost::get<ast::x3::forward_ast<ast::if_expr>>(&o.get())) {
        cur = &i->get().else_branch;
      } else if (const auto* q = boost::get<ast::x3::forward_ast<ast::quantifier>>(&o.get())) {
        cur = &q->get().body;
      } else if (const auto* inner = boost::get<ast::x3::forward_ast<ast::expr>>(&o.get())) {
        cur = &inner->get();
      } else {
        return false;
      }
    }
    return false;
  }

  /// Prints `lead` followed by expression `e` starting at `indent`, across lines as needed.
  /// `before_row`: another row of an enclosing table follows (see expr()).
  void block(int indent, const std::string& lead, const ast::expr& e, bool before_row = false) {
    if (const ast::literal* l = ast::single_literal(e);
        l && l->kind == ast::literal_kind::not_encoded) {
      // A reason in several languages that does not fit: one language per line, aligned.
      std::string one = lead + literal_text(*l);
      auto pairs = reason_pairs(l->text);
      if (one.size() + static_cast<std::size_t>(indent) > width && pairs.size() > 1) {
        std::string first = lead + "not_encoded ";
        std::string pad(first.size(), ' ');
        for (std::size_t k = 0; k < pairs.size(); ++k) {
          line(indent, (k == 0 ? first : pad) + pairs[k].first + " " + pairs[k].second);
        }
        return;
      }
    }
    if (before_row && ends_with_table(e)) {
      // One line, the inner table in parentheses: laid out as a block, its rows and the outer
      // table's would not be told apart.
      line(indent, lead + expr(e, 0, true));
      return;
    }
    if (const ast::table* t = as_table(e)) {
      line(indent, lead + "table " + t->policy);
      level inside(*this);
      // Conditions are padded so that the arrows line up, when that keeps rows within width.
      std::size_t cond_width = 0;
      for (const ast::table_row& r : t->rows)
        cond_width = std::max(cond_width, expr(r.condition, 0).size());
      bool align = true;
      for (const ast::table_row& r : t->rows) {
        align = align &&
                static_cast<std::size_t>(indent) + 2 + cond_width + 6 + expr(r.value, 0).size() <=
                    width;
      }
      for (std::size_t k = 0; k < t->rows.size(); ++k) {
        const ast::table_row& r = t->rows[k];
        bool more = k + 1 < t->rows.size();
        comments_before(r.begin, indent + 2);
        std::string c = expr(r.condition, 0);
        if (align) c.append(cond_width - c.size(), ' ');
        std::string cond = "| " + c + " => ";
        if (as_table(r.value) || as_if(r.value)) {
          block(indent + 2, cond, r.value, more);
        } else {
          line(indent + 2, cond + expr(r.value, 0, more));
        }
      }
      return;
    }
    if (const ast::if_expr* i = as_if(e)) {
      std::string one = lead + expr(e, 0, before_row);
      bool nested = as_table(i->then_branch) || as_if(i->then_branch) || as_table(i->else_branch) ||
                    as_if(i->else_branch);
      if (!nested && one.size() + static_cast<std::size_t>(indent) <= width) {
        line(indent, one);
        return;
      }
      level inside(*this);
      line(indent, lead + "if " + expr(i->condition, 0));
      block(indent + 2, "then ", i->then_branch);
      block(indent + 2, "else ", i->else_branch, before_row);
      return;
    }
    std::string one = lead + expr(e, 0);
    const ast::expr* chain = as_chain(e);
    if (chain == nullptr || one.size() + static_cast<std::size_t>(indent) <= width) {
      line(indent, one);
      return;
    }
    int prec = precedence(chain->rest.front().op);
    // `(a and b) and c` prints as `a and b and c`, which parses as one chain: its operands go
    // one per line now, as they will when the output is formatted again.
    std::vector<const ast::expr*> chains{chain};
    while (prec == 2 && is_chain_of(chains.back()->first, "and")) {
      chains.push_back(
          as_chain(boost::get<ast::x3::forward_ast<ast::expr>>(chains.back()->first.get()).get()));
    }
    line(indent, lead + chain_operand(prec, chains.back()->first, true));
    std::string pad(lead.size(), ' ');
    for (auto c = chains.rbegin(); c != chains.rend(); ++c) {
      for (const ast::operation& o : (*c)->rest) {
        line(indent, pad + o.op + " " + chain_operand(prec, o.rhs, false));
      }
    }
  }

  // ---------------------------------------------------------------- declarations

  static std::string clause_text(const ast::clause& c) {
    std::string s = c.keyword;
    for (const ast::clause_arg& a : c.args) {
      s += " " + (a.kind == ast::literal_kind::text ? a.text : squeeze(a.text));
    }
    return s;
  }

  void clauses(const std::vector<ast::clause>& cs, int indent) {
    for (const ast::clause& c : cs) {
      comments_before(c.begin, indent);
      if (!c.otherwise.empty()) {
        block(indent, clause_text(c) + " otherwise ", c.otherwise.front());
        continue;
      }
      if ((c.keyword == "title" || c.keyword == "explain" || c.keyword == "period") &&
          c.args.size() > 2) {
        std::string pad(c.keyword.size() + 1, ' ');
        for (std::size_t i = 0; i + 1 < c.args.size(); i += 2) {
          line(indent,
               (i == 0 ? c.keyword + " " : pad) + c.args[i].text + " " + c.args[i + 1].text);
        }
        if (c.args.size() % 2) line(indent, pad + c.args.back().text);
        continue;
      }
      line(indent, clause_text(c));
    }
  }

  static std::string type_text(const ast::type_ref& t) {
    return (t.is_list ? "list " : "") + t.name.name + (t.optional ? "?" : "");
  }

  std::string json(const ast::json_value& v) const {
    if (const auto* o = boost::get<ast::x3::forward_ast<ast::json_object>>(&v.get())) {
      return json_object(o->get());
    }
    if (const auto* a = boost::get<ast::x3::forward_ast<ast::json_array>>(&v.get())) {
      std::string s = "[";
      for (std::size_t i = 0; i < a->get().items.size(); ++i) {
        s += (i ? ", " : "") + json(a->get().items[i]);
      }
      return s + "]";
    }
    return literal_text(boost::get<ast::literal>(v.get()));
  }
  std::string json_object(const ast::json_object& o) const {
    if (o.members.empty()) return "{}";
    std::string s = "{ ";
    for (std::size_t i = 0; i < o.members.size(); ++i) {
      const ast::json_member& m = o.members[i];
      bool plain =
          !m.key.name.empty() &&
          (std::isalpha(static_cast<unsigned char>(m.key.name[0])) || m.key.name[0] == '_');
      for (char c : m.key.name)
        plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      s += (i ? ", " : "") + (plain ? m.key.name : "\"" + m.key.name + "\"") + ": " + json(m.value);
    }
    return s + " }";
  }
  /// A record literal across lines, one member per line, when it does not fit on one.
  void json_block(int indent, const std::string& lead, const ast::json_object& o) {
    std::string one = lead + json_object(o);
    if (one.size() + static_cast<std::size_t>(indent) <= width || o.members.empty()) {
      line(indent, one);
      return;
    }
    line(indent, lead + "{");
    for (std::size_t i = 0; i < o.members.size(); ++i) {
      const ast::json_member& m = o.members[i];
      std::string comma = i + 1 < o.members.size() ? "," : "";
      std::string key = json_object(ast::json_object{{}, {ast::json_member{{}, m.key, {}}}});
      key = key.substr(2, key.find(':') - 2) + ": ";
      if (const auto* sub = boost::get<ast::x3::forward_ast<ast::json_object>>(&m.value.get())) {
        std::string inner = json_object(sub->get());
        if (inner.size() + key.size() + static_cast<std::size_t>(indent) + 2 > width) {
          json_block(indent + 2, key, sub->get());
          out.insert(out.size() - 1, comma);
          continue;
        }
      }
      std::string text = key;
      text += json(m.value);
      text += comma;
      line(indent + 2, text);
    }
    line(indent, "}");
  }

  void item(const ast::item& it) {
    struct visitor {
      printer& p;
      void operator()(const ast::enum_decl& e) const {
        std::string s = "enum " + e.name.name + " { ";
        bool titled = false;
        for (std::size_t i = 0; i < e.cases.size(); ++i) {
          s += (i ? ", " : "") + e.cases[i].name.name;
          titled = titled || !e.cases[i].clauses.empty();
        }
        s += " }";
        if (s.size() <= width && !titled) {
          p.line(0, s);
          return;
        }
        // One case per line; a case's title on the lines below it, the comma after its last.
        p.line(0, "enum " + e.name.name + " {");
        for (std::size_t i = 0; i < e.cases.size(); ++i) {
          p.comments_before(e.cases[i].begin, 2);
          p.line(2, e.cases[i].name.name);
          p.clauses(e.cases[i].clauses, 4);
          if (i + 1 < e.cases.size()) p.out.insert(p.out.size() - 1, ",");
        }
        p.line(0, "}");
      }
      void operator()(const ast::record_decl& r) const {
        p.line(0, "record " + r.name.name + " {");
        for (const ast::field_decl& f : r.fields) {
          p.comments_before(f.begin, 2);
          p.line(2, f.name.name + " : " + type_text(f.type));
          p.clauses(f.clauses, 4);
        }
        p.comments_before(r.end, 2);
        p.line(0, "}");
      }
      void operator()(const ast::document_decl& d) const {
        p.line(0, "document " + d.name.name);
        p.clauses(d.clauses, 2);
      }
      void operator()(const ast::input_decl& i) const {
        p.line(0, "input " + i.name.name + " : " + type_text(i.type));
      }
      void operator()(const ast::parameter_decl& d) const {
        p.line(0, "parameter " + d.name.name + " : " + type_text(d.type));
        p.clauses(d.clauses, 2);
        for (const ast::dated_value& v : d.values) {
          p.comments_before(v.begin, 2);
          p.block(2, "from " + v.date.text + " = ", v.value);
        }
      }
      void operator()(const ast::rule_decl& r) const {
        p.line(0, "rule " + r.name.name + " : " + type_text(r.type));
        p.clauses(r.clauses, 2);
        p.comments_before(r.body.begin, 2);
        p.block(2, "= ", r.body);
        for (const ast::exception_decl& x : r.exceptions) {
          p.comments_before(x.begin, 2);
          p.line(2, "exception " + x.name.name);
          p.clauses(x.clauses, 4);
          p.comments_before(x.condition.begin, 4);
          p.block(4, "when ", x.condition);
          p.comments_before(x.value.begin, 4);
          p.block(4, "= ", x.value);
        }
      }
      void operator()(const ast::test_decl& t) const {
        p.line(0, "test " + t.name.text);
        p.clauses(t.clauses, 2);
        p.comments_before(t.given.begin, 2);
        p.json_block(2, "given ", t.given);
        for (const ast::expectation& e : t.expects) {
          p.comments_before(e.begin, 2);
          std::string s = "expect " + e.decision.text;
          if (e.tail.kind == "==") {
            s += " == " + p.expr(e.tail.value, 0);
          } else if (e.tail.kind == "undetermined") {
            s += " undetermined";
          } else {
            s += " missing [";
            for (std::size_t i = 0; i < e.tail.missing.size(); ++i) {
              s += (i ? ", " : "") + e.tail.missing[i].text;
            }
            s += "]";
          }
          p.line(2, s);
        }
      }
    };
    boost::apply_visitor(visitor{*this}, it);
  }

 private:
  std::vector<std::pair<std::uint32_t, std::string>> comments_;
  std::size_t next_comment_ = 0;
};

/// Every `#` comment outside text literals, with its offset.
std::vector<std::pair<std::uint32_t, std::string>> find_comments(const std::string& text) {
  std::vector<std::pair<std::uint32_t, std::string>> out;
  bool in_text = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_text) {
      if (c == '\\') {
        ++i;
      } else if (c == '"' || c == '\n') {
        in_text = false;
      }
    } else if (c == '"') {
      in_text = true;
    } else if (c == '#') {
      std::size_t end = text.find('\n', i);
      if (end == std::string::npos) end = text.size();
      std::string comment = text.substr(i, end - i);
      while (!comment.empty() && std::isspace(static_cast<unsigned char>(comment.back()))) {
        comment.pop_back();
      }
      out.emplace_back(static_cast<std::uint32_t>(i), comment);
      i = end;
    }
  }
  return out;
}

}  // namespace

std::string format(const source_map& sources, const ast::module& m) {
  const std::string& text = sources.text(m.file);
  printer p(find_comments(text));
  p.comments_before(m.header.begin, 0);
  p.line(0, "module " + m.header.name.name);
  p.clauses(m.header.clauses, 2);
  if (!m.header.imports.empty()) {
    p.blank();
    for (const ast::identifier& i : m.header.imports) {
      p.comments_before(i.begin, 0);
      p.line(0, "import " + i.name);
    }
  }
  for (const ast::item& it : m.items) {
    p.blank();
    const auto& n = boost::apply_visitor([](const auto& x) -> const ast::node& { return x; }, it);
    p.comments_before(n.begin, 0);
    p.item(it);
  }
  if (!p.out.empty()) {
    std::size_t before = p.out.size();
    p.blank();
    p.remaining_comments();
    if (p.out.size() == before + 1) p.out.pop_back();
  }
  return p.out;
}

}  // namespace dalil::dsl
