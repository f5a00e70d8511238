// The Dalil grammar in Boost.Spirit X3. Included only by grammar.cpp.
// `>` after a keyword commits: an expectation failure there becomes an "expected …" diagnostic
// at the exact position. Leaves (identifiers, literals) are filled by small semantic actions.
#pragma once

#include <boost/fusion/include/at_c.hpp>

#include <cctype>
#include <type_traits>

#include "dsl/ast_adapted.hpp"
#include "dsl/grammar.hpp"

namespace dalil::dsl::grammar {

using x3::_attr;
using x3::_val;
using x3::lexeme;
using x3::lit;
using x3::raw;
namespace ascii = x3::ascii;

// X3 rules and parsers are objects at namespace scope by design (the grammar is data); their
// construction can fail only by running out of memory at start-up.
// NOLINTBEGIN(cert-err58-cpp)

// ------------------------------------------------------------------ annotation and depth guard

/// Records each node's byte span (without leading whitespace or comments).
struct annotate {
  template <typename T, typename Context>
  void on_success(iterator_type first, iterator_type last, T& node, const Context& ctx) const {
    if constexpr (std::is_base_of_v<ast::node, T>) {
      const parse_state& st = x3::get<state_tag>(ctx);
      while (first < last) {
        if (std::isspace(static_cast<unsigned char>(*first))) {
          ++first;
        } else if (*first == '#') {
          while (first < last && *first != '\n') ++first;
        } else {
          break;
        }
      }
      node.begin = static_cast<std::uint32_t>(first - st.base);
      node.end = static_cast<std::uint32_t>(last - st.base);
    }
  }
};

/// For the rules of the precedence levels: a level with a single operand (`a` is an `or`, an
/// `and`, a comparison, a sum and a product of one operand each) is replaced by that operand's
/// own expression, so that a leaf costs one node instead of five heap-allocated ones. Meaning is
/// unchanged: every reader of the tree already sees through an expression without operators.
struct annotate_level : annotate {
  template <typename T, typename Context>
  void on_success(iterator_type first, iterator_type last, T& node, const Context& ctx) const {
    if constexpr (std::is_same_v<T, ast::expr>) {
      if (node.rest.empty()) {
        if (auto* inner = boost::get<x3::forward_ast<ast::expr>>(&node.first.get())) {
          ast::expr only = std::move(inner->get());
          node = std::move(only);
        }
      }
    }
    annotate::on_success(first, last, node, ctx);
  }
};

/// Bounds recursion: deeply nested input is an error (E0003), never a stack overflow. A level is
/// counted only for a construct that opens here (its `Opener` matches): at the limit, a leaf or
/// another alternative is still tried, so exactly limits::max_nesting levels are accepted.
template <typename Opener, typename Subject>
struct depth_guard_parser : x3::unary_parser<Subject, depth_guard_parser<Opener, Subject>> {
  using base_type = x3::unary_parser<Subject, depth_guard_parser<Opener, Subject>>;
  static constexpr bool is_pass_through_unary = true;
  static constexpr bool handles_container = Subject::handles_container;
  constexpr depth_guard_parser(const Opener& opener, const Subject& subject)
      : base_type(subject), opener(opener) {}
  Opener opener;

  template <typename Iterator, typename Context, typename RContext, typename Attribute>
  bool parse(Iterator& first, const Iterator& last, const Context& ctx, RContext& rctx,
             Attribute& attr) const {
    parse_state& st = x3::get<state_tag>(ctx);
    if (st.depth >= parse_state::max_depth) {
      Iterator probe = first;
      x3::skip_over(probe, last, ctx);
      if (opener.parse(probe, last, ctx, rctx, x3::unused)) throw nesting_too_deep{first};
      return false;
    }
    ++st.depth;
    struct restore {
      parse_state& s;
      ~restore() { --s.depth; }
    } guard{st};
    return this->subject.parse(first, last, ctx, rctx, attr);
  }
};

template <typename Opener>
struct depth_guard_gen {
  Opener opener;
  template <typename Subject>
  constexpr auto operator[](const Subject& subject) const {
    using subject_type = typename x3::extension::as_parser<Subject>::value_type;
    return depth_guard_parser<Opener, subject_type>{opener, x3::as_parser(subject)};
  }
};
template <typename Opener>
constexpr auto guarded(const Opener& opener) {
  using opener_type = typename x3::extension::as_parser<Opener>::value_type;
  return depth_guard_gen<opener_type>{x3::as_parser(opener)};
}

// ------------------------------------------------------------------ tokens

const auto name_char = ascii::alnum | x3::char_('_');
inline auto kw(const char* word) {
  return lexeme[lit(word) >> !name_char];
}
inline auto kw_str(const char* word) {
  return lexeme[x3::string(word) >> !name_char];
}

struct reserved_words : x3::symbols<x3::unused_type> {
  reserved_words() {
    for (const char* w :
         {"module",    "import",      "enum",   "record",     "input",   "parameter",
          "rule",      "exception",   "when",   "table",      "first",   "unique",
          "otherwise", "not_encoded", "test",   "given",      "expect",  "undetermined",
          "missing",   "if",          "then",   "else",       "and",     "or",
          "not",       "in",          "any",    "all",        "true",    "false",
          "null",      "from",        "until",  "list",       "MAD",     "title",
          "program",   "osp",         "source", "confidence", "explain", "in_force",
          "document",  "proof",       "period", "at_least",   "at_most", "not_after"}) {
      add(w);
    }
  }
};
const reserved_words reserved;
const auto reserved_word = lexeme[reserved >> !name_char];
const auto name_token = lexeme[(ascii::alpha | x3::char_('_')) >> *name_char];

// Rules whose definition has a semantic action do not get on_success with their attribute,
// so the leaves set their own span from the raw[] range.
template <typename Context, typename Range>
void set_span(const Context& ctx, ast::node& n, const Range& range) {
  const parse_state& st = x3::get<state_tag>(ctx);
  n.begin = static_cast<std::uint32_t>(range.begin() - st.base);
  n.end = static_cast<std::uint32_t>(range.end() - st.base);
}

template <ast::literal_kind Kind>
struct set_literal {
  template <typename Context>
  void operator()(const Context& ctx) const {
    auto& lit_node = _val(ctx);
    lit_node.kind = Kind;
    const auto& range = _attr(ctx);
    lit_node.text.assign(range.begin(), range.end());
    set_span(ctx, lit_node, range);
  }
};

const auto set_name = [](auto& ctx) {
  const auto& range = _attr(ctx);
  _val(ctx).name.assign(range.begin(), range.end());
  set_span(ctx, _val(ctx), range);
};
const auto set_text = [](auto& ctx) {
  const auto& range = _attr(ctx);
  _val(ctx).text.assign(range.begin(), range.end());
  set_span(ctx, _val(ctx), range);
};

// ------------------------------------------------------------------ rule ids

struct identifier_class : annotate {};
struct key_class : annotate {};
struct path_class : annotate {};
struct literal_class : annotate {};
struct text_class : annotate {};
struct date_class : annotate {};
struct closing_quote_class {};
struct or_class : annotate_level {};
struct and_class : annotate_level {};
struct not_class {};
struct not_op_class : annotate {};
struct cmp_class : annotate_level {};
struct add_class : annotate_level {};
struct mul_class : annotate_level {};
struct neg_class {};
struct neg_op_class : annotate {};
struct primary_class {};
struct or_operation_class : annotate {};
struct and_operation_class : annotate {};
struct cmp_operation_class : annotate {};
struct add_operation_class : annotate {};
struct mul_operation_class : annotate {};
struct call_class : annotate {};
struct if_class : annotate {};
struct table_class : annotate {};
struct row_class : annotate {};
struct list_class : annotate {};
struct quantifier_class : annotate {};
struct clause_class : annotate {};
struct clause_arg_class : annotate {};
struct in_force_class : annotate {};
struct in_force_arg_class : annotate {};
struct type_class : annotate {};
struct enum_class : annotate {};
struct field_class : annotate {};
struct record_class : annotate {};
struct input_class : annotate {};
struct dated_class : annotate {};
struct parameter_class : annotate {};
struct exception_class : annotate {};
struct rule_class : annotate {};
struct json_value_class {};
struct json_member_class : annotate {};
struct json_object_class : annotate {};
struct json_array_class : annotate {};
struct expect_class : annotate {};
struct test_class : annotate {};
struct module_header_class : annotate {};
struct item_class : annotate {};
struct expr_class : annotate {};
// Repetitions after a commit point are named rules too, so that an error names what is missing.
struct in_force_args_class {};
struct escaped_class {};
struct table_rows_class {};
struct enum_cases_class {};
struct dated_values_class {};
struct enum_case_class : annotate {};
struct document_class : annotate {};
struct title_clause_class : annotate {};
struct field_clause_class : annotate {};
struct text_pairs_class {};
struct document_titles_class {};
struct lang_arg_class : annotate {};
struct text_arg_class : annotate {};
struct document_arg_class : annotate {};
struct bound_arg_class : annotate {};
struct as_of_arg_class : annotate {};
struct reason_class {};
struct otherwise_part_class {};
struct document_args_class {};
struct bound_args_class {};
struct as_of_args_class {};

const x3::rule<identifier_class, ast::identifier> identifier = "name";
const x3::rule<key_class, ast::identifier> json_key = "field name";
const x3::rule<path_class, ast::path> path = "name";
const x3::rule<literal_class, ast::literal> literal = "literal";
const x3::rule<text_class, ast::literal> text_literal = "text in double quotes";
const x3::rule<date_class, ast::literal> date_literal = "date (YYYY-MM-DD)";
const x3::rule<closing_quote_class> closing_quote = "closing '\"'";
const x3::rule<escaped_class, char> escaped_char = "a character after '\\'";
const x3::rule<or_class, ast::expr> or_expr = "expression";
const x3::rule<and_class, ast::expr> and_expr = "expression";
const x3::rule<not_class, ast::operand> not_expr = "expression";
const x3::rule<not_op_class, ast::unary> not_op = "expression";
const x3::rule<cmp_class, ast::expr> cmp_expr = "expression";
const x3::rule<add_class, ast::expr> add_expr = "expression";
const x3::rule<mul_class, ast::expr> mul_expr = "expression";
const x3::rule<neg_class, ast::operand> neg_expr = "expression";
const x3::rule<neg_op_class, ast::unary> neg_op = "expression";
const x3::rule<primary_class, ast::operand> primary = "expression";
const x3::rule<or_operation_class, ast::operation> or_operation = "'or' operand";
const x3::rule<and_operation_class, ast::operation> and_operation = "'and' operand";
const x3::rule<cmp_operation_class, ast::operation> cmp_operation = "comparison operand";
const x3::rule<add_operation_class, ast::operation> add_operation = "operand";
const x3::rule<mul_operation_class, ast::operation> mul_operation = "operand";
const x3::rule<call_class, ast::call> call = "function call";
const x3::rule<if_class, ast::if_expr> if_expr = "if expression";
const x3::rule<table_class, ast::table> table = "decision table";
const x3::rule<row_class, ast::table_row> table_row = "table row ('| condition => value')";
const x3::rule<table_rows_class, std::vector<ast::table_row>> table_rows =
    "table row ('| condition => value')";
const x3::rule<list_class, ast::list_expr> list_expr = "list";
const x3::rule<quantifier_class, ast::quantifier> quantifier = "quantifier";
const x3::rule<clause_class, ast::clause> clause = "clause";
const x3::rule<clause_arg_class, ast::clause_arg> clause_arg = "clause argument";
const x3::rule<in_force_arg_class, ast::clause_arg> in_force_arg =
    "'from DATE', 'until DATE' or 'provisional'";
const x3::rule<in_force_args_class, std::vector<ast::clause_arg>> in_force_args =
    "'from DATE' or 'until DATE'";
const x3::rule<in_force_class, ast::clause> in_force_clause = "in_force clause";
const x3::rule<type_class, ast::type_ref> type_ref = "type";
const x3::rule<enum_cases_class, std::vector<ast::enum_case>> enum_cases = "case name";
const x3::rule<enum_case_class, ast::enum_case> enum_case = "case name";
const x3::rule<document_class, ast::document_decl> document_decl = "document declaration";
const x3::rule<title_clause_class, ast::clause> title_clause =
    "'title' (title fr \"…\" ar \"…\" en \"…\")";
const x3::rule<document_titles_class, std::vector<ast::clause>> document_titles =
    "'title' (title fr \"…\" ar \"…\" en \"…\")";
const x3::rule<field_clause_class, ast::clause> field_clause = "field clause";
const x3::rule<text_pairs_class, std::vector<ast::clause_arg>> text_pairs =
    "a language and a text (fr \"…\")";
const x3::rule<lang_arg_class, ast::clause_arg> lang_arg = "language (fr, ar or en)";
const x3::rule<text_arg_class, ast::clause_arg> text_arg = "text in double quotes";
const x3::rule<document_arg_class, ast::clause_arg> document_arg = "document name";
const x3::rule<bound_arg_class, ast::clause_arg> bound_arg =
    "number or amount (such as 1, 0.5 or 0 MAD)";
const x3::rule<as_of_arg_class, ast::clause_arg> as_of_arg = "'as_of'";
const x3::rule<otherwise_part_class, std::vector<ast::expr>> otherwise_part = "'otherwise' value";
const x3::rule<document_args_class, std::vector<ast::clause_arg>> document_args = "document name";
const x3::rule<bound_args_class, std::vector<ast::clause_arg>> bound_args =
    "number or amount (such as 1, 0.5 or 0 MAD)";
const x3::rule<as_of_args_class, std::vector<ast::clause_arg>> as_of_args = "'as_of'";
const x3::rule<reason_class> reason = "reason (\"…\", or fr \"…\" ar \"…\" en \"…\")";
const x3::rule<enum_class, ast::enum_decl> enum_decl = "enum declaration";
const x3::rule<field_class, ast::field_decl> field_decl = "field ('name : Type')";
const x3::rule<record_class, ast::record_decl> record_decl = "record declaration";
const x3::rule<input_class, ast::input_decl> input_decl = "input declaration";
const x3::rule<dated_class, ast::dated_value> dated_value = "dated value ('from DATE = VALUE')";
const x3::rule<dated_values_class, std::vector<ast::dated_value>> dated_values =
    "dated value ('from DATE = VALUE')";
const x3::rule<parameter_class, ast::parameter_decl> parameter_decl = "parameter declaration";
const x3::rule<exception_class, ast::exception_decl> exception_decl = "exception";
const x3::rule<rule_class, ast::rule_decl> rule_decl = "rule declaration";
const x3::rule<json_value_class, ast::json_value> json_value = "value";
const x3::rule<json_member_class, ast::json_member> json_member = "'field: value'";
const x3::rule<json_object_class, ast::json_object> json_object = "record ('{ field: value, … }')";
const x3::rule<json_array_class, ast::json_array> json_array = "list ('[ … ]')";
const x3::rule<expect_class, ast::expectation> expectation = "expectation";
const x3::rule<test_class, ast::test_decl> test_decl = "test";
const module_header_type module_header = "module header ('module NAME')";
const item_type item = "declaration (enum, record, input, parameter, rule, test or document)";
const expr_type expr = "expression";

// Keywords that follow a commit point are rules, so that "expected 'then'" names them.
struct then_class {};
struct else_class {};
struct when_class {};
struct given_class {};
struct policy_class {};
const x3::rule<then_class> then_kw = "'then'";
const x3::rule<else_class> else_kw = "'else'";
const x3::rule<when_class> when_kw = "'when'";
const x3::rule<given_class> given_kw = "'given'";
const x3::rule<policy_class, std::string> table_policy = "'first' or 'unique'";
const auto then_kw_def = kw("then");
const auto else_kw_def = kw("else");
const auto when_kw_def = kw("when");
const auto given_kw_def = kw("given");
const auto table_policy_def = kw_str("first") | kw_str("unique");
BOOST_SPIRIT_DEFINE(then_kw, else_kw, when_kw, given_kw, table_policy)

// ------------------------------------------------------------------ leaves

const auto identifier_def = (!reserved_word >> raw[name_token])[set_name];
const auto json_key_def = (!reserved_word >> raw[name_token])[set_name] |
                          lexeme['"' >> raw[+(x3::char_ - '"' - '\\' - x3::eol)] >> '"'][set_name];
const auto path_def = (!reserved_word >> raw[lexeme[name_token >> *('.' >> name_token)]])[set_text];

const auto digits = lexeme[+ascii::digit];
const auto d2 = x3::repeat(2)[ascii::digit];
const auto d4 = x3::repeat(4)[ascii::digit];
const auto closing_quote_def = lit('"');
const auto escaped_char_def = x3::char_;
const auto text_body =
    lexeme[('"' >> *(('\\' > escaped_char) | (x3::char_ - '"' - '\\' - x3::eol))) > closing_quote];
const auto date_body = lexeme[d4 >> '-' >> d2 >> '-' >> d2 >> !name_char];
const auto text_literal_def = raw[text_body][set_literal<ast::literal_kind::text>{}];
const auto date_literal_def = raw[date_body][set_literal<ast::literal_kind::date>{}];
const auto duration_unit =
    kw("years") | kw("year") | kw("months") | kw("month") | kw("days") | kw("day");
const auto number_token = lexeme[+ascii::digit >> -('.' >> +ascii::digit) >> !name_char];
const auto literal_def =
    raw[date_body][set_literal<ast::literal_kind::date>{}] |
    raw[+(lexeme[+ascii::digit >> !(name_char | '.')] >> duration_unit)]
       [set_literal<ast::literal_kind::duration>{}] |
    raw[number_token >> kw("MAD")][set_literal<ast::literal_kind::money>{}] |
    raw[lexeme[+ascii::digit >> '.' >> +ascii::digit >> !name_char]]
       [set_literal<ast::literal_kind::decimal>{}] |
    raw[lexeme[+ascii::digit >> !name_char]][set_literal<ast::literal_kind::integer>{}] |
    raw[text_body][set_literal<ast::literal_kind::text>{}] |
    raw[kw("true") | kw("false")][set_literal<ast::literal_kind::boolean>{}] |
    raw[kw("null")][set_literal<ast::literal_kind::null>{}] |
    raw[kw("otherwise")][set_literal<ast::literal_kind::otherwise>{}] |
    raw[kw("not_encoded") > reason][set_literal<ast::literal_kind::not_encoded>{}];
// `"reason"`, or a text per language: `fr "…" ar "…" en "…"` (a word is a language only when a
// text follows it, so that nothing after the reason is taken for one).
const auto language_ahead = &(name_token >> lit('"'));
// fr, ar or en not followed by ':' (which would start a field so named) is a language: its text
// must follow, and "expected text" says so where it is missing.
const auto known_language = &((kw("fr") | kw("ar") | kw("en")) >> !lit(':'));
const auto reason_def = text_body | +((language_ahead >> lexeme[name_token] >> text_body) |
                                      ((known_language >> lexeme[name_token]) > text_literal));

// ------------------------------------------------------------------ expressions

const auto or_op = kw_str("or");
const auto and_op = kw_str("and");
const auto cmp_op = x3::string("==") | x3::string("!=") | x3::string("<=") | x3::string(">=") |
                    x3::string("<") | x3::string(">") | kw_str("in");
const auto add_op = x3::string("+") | x3::string("-");
const auto mul_op = x3::string("*") | x3::string("/");

const auto expr_def = or_expr;
const auto or_operation_def = or_op > and_expr;
const auto and_operation_def = and_op > not_expr;
const auto cmp_operation_def = cmp_op > add_expr;
const auto add_operation_def = add_op > mul_expr;
const auto mul_operation_def = mul_op > neg_expr;
const auto or_expr_def = and_expr >> *or_operation;
const auto and_expr_def = not_expr >> *and_operation;
const auto not_expr_def = guarded(kw("not"))[not_op] | cmp_expr;
const auto not_op_def = kw_str("not") > not_expr;
const auto cmp_expr_def = add_expr >> *cmp_operation;
const auto add_expr_def = mul_expr >> *add_operation;
const auto mul_expr_def = neg_expr >> *mul_operation;
const auto neg_expr_def = guarded(lit('-'))[neg_op] | primary;
const auto neg_op_def = x3::string("-") > neg_expr;
// Only what nests counts as a level (a leaf does not): 64 parentheses are allowed, 65 are not.
const auto primary_def =
    literal |
    guarded(lit('(') | lit('[') | kw("if") | kw("table") | kw("any") | kw("all") |
            (name_token >> lit('(')))[if_expr | table | quantifier | list_expr | call |
                                      (lit('(') > expr > lit(')'))] |
    path;
const auto call_def = (identifier >> lit('(') >> -(expr % ',')) > lit(')');
const auto if_expr_def = kw("if") > expr > then_kw > expr > else_kw > expr;
const auto table_rows_def = +table_row;
const auto table_def = kw("table") > table_policy > table_rows;
const auto table_row_def = lit('|') > expr > lit("=>") > expr;
const auto list_expr_def = ((kw_str("any") | kw_str("all") | x3::attr(std::string("list"))) >>
                            lit('[')) > -(expr % ',') > lit(']');
const auto quantifier_def = ((kw_str("any") | kw_str("all")) >> identifier >> kw("in")) > path >
                            lit(':') > expr;

// ------------------------------------------------------------------ declarations

const auto clause_keyword = kw_str("title") | kw_str("program") | kw_str("osp") | kw_str("source") |
                            kw_str("confidence") | kw_str("explain") | kw_str("as_of") |
                            kw_str("period");
const auto clause_arg_def =
    raw[text_body][set_literal<ast::literal_kind::text>{}] |
    raw[date_body][set_literal<ast::literal_kind::date>{}] |
    (!reserved_word >> !clause_keyword >> raw[name_token])[set_literal<ast::literal_kind::null>{}];
const auto in_force_arg_def =
    raw[kw("from") | kw("until") | kw("provisional")][set_literal<ast::literal_kind::null>{}] |
    raw[date_body][set_literal<ast::literal_kind::date>{}];
const auto no_otherwise = x3::attr(std::vector<ast::expr>{});
const auto clause_def = clause_keyword >> *clause_arg >> no_otherwise;
const auto in_force_args_def = +in_force_arg;
const auto otherwise_part_def = x3::repeat(0, 1)[kw("otherwise") > expr];
const auto in_force_clause_def = kw_str("in_force") > in_force_args > otherwise_part;

// Titles, and the clauses of a field. A word is taken for a language only when a text follows
// it: the next field's name, or the next case, is never read as one.
const auto lang_arg_def =
    (!reserved_word >> raw[name_token])[set_literal<ast::literal_kind::null>{}];
const auto text_arg_def = raw[text_body][set_literal<ast::literal_kind::text>{}];
const auto text_pairs_def =
    +((language_ahead >> lang_arg >> text_arg) | ((known_language >> lang_arg) > text_arg));
const auto title_clause_def = (kw_str("title") > text_pairs) >> no_otherwise;
const auto document_titles_def = +title_clause;
// A name followed by ':' starts the next field: `proof` left without its document says so.
const auto document_arg_def = (!reserved_word >> !(name_token >> lit(':')) >>
                               raw[name_token])[set_literal<ast::literal_kind::null>{}];
const auto signed_digits = lexeme[-lit('-') >> +ascii::digit];
const auto bound_arg_def =
    raw[date_body][set_literal<ast::literal_kind::date>{}] |
    raw[lexeme[signed_digits >> -('.' >> +ascii::digit) >> !name_char] >> kw("MAD")]
       [set_literal<ast::literal_kind::money>{}] |
    raw[lexeme[signed_digits >> '.' >> +ascii::digit >> !name_char]]
       [set_literal<ast::literal_kind::decimal>{}] |
    raw[lexeme[signed_digits >> !name_char]][set_literal<ast::literal_kind::integer>{}];
const auto as_of_arg_def = raw[kw("as_of")][set_literal<ast::literal_kind::null>{}];
const auto document_args_def = x3::repeat(1)[document_arg];
const auto bound_args_def = x3::repeat(1)[bound_arg];
const auto as_of_args_def = x3::repeat(1)[as_of_arg];
const auto field_clause_def =
    title_clause | ((kw_str("proof") > document_args) >> no_otherwise) |
    (((kw_str("at_least") | kw_str("at_most")) > bound_args) >> no_otherwise) |
    ((kw_str("not_after") > as_of_args) >> no_otherwise) |
    // `fixed` takes no argument; a field named `fixed` (followed by ':') is still a field.
    ((kw_str("fixed") >> !lit(':')) >> x3::attr(std::vector<ast::clause_arg>{}) >> no_otherwise);

const auto type_ref_def = x3::matches[kw("list")] >> identifier >> x3::matches[lit('?')];
const auto enum_case_def = identifier >> *title_clause;
const auto enum_cases_def = enum_case % ',';
const auto enum_decl_def = kw("enum") > identifier > lit('{') > enum_cases > lit('}');
const auto field_decl_def = identifier > lit(':') > type_ref > *field_clause;
const auto document_decl_def = kw("document") > identifier > document_titles;
const auto record_decl_def = kw("record") > identifier > lit('{') > *(field_decl >> -lit(',')) >
                             lit('}');
const auto input_decl_def = kw("input") > identifier > lit(':') > type_ref;
const auto dated_value_def = kw("from") > date_literal > lit('=') > expr;
const auto dated_values_def = +dated_value;
const auto parameter_decl_def = kw("parameter") > identifier > lit(':') > type_ref > *clause
                                > dated_values;
const auto exception_decl_def = kw("exception") > identifier > *clause > when_kw > expr >
                                lit('=') > expr;
const auto rule_decl_def = kw("rule") > identifier > lit(':') > type_ref >
                           *(in_force_clause | clause) > lit('=') > expr > *exception_decl;

const auto json_value_def = guarded(lit('{') | lit('['))[json_object | json_array] | literal;
const auto json_member_def = json_key > lit(':') > json_value;
const auto json_object_def = lit('{') > -(json_member % ',') > lit('}');
const auto json_array_def = lit('[') > -(json_value % ',') > lit(']');

const auto set_equals = [](auto& ctx) {
  _val(ctx).kind = "==";
  _val(ctx).value = _attr(ctx);
};
const auto set_undetermined = [](auto& ctx) { _val(ctx).kind = "undetermined"; };
const auto set_missing = [](auto& ctx) { _val(ctx).kind = "missing"; };
const auto push_missing = [](auto& ctx) { _val(ctx).missing.push_back(_attr(ctx)); };
struct expect_tail_class : annotate {};
const x3::rule<expect_tail_class, ast::expectation_tail> expect_tail =
    "'== VALUE', 'undetermined' or 'missing [..]'";
const auto expect_tail_def =
    (lit("==") > expr[set_equals]) | kw("undetermined")[set_undetermined] |
    (kw("missing")[set_missing] > lit('[') > -(path[push_missing] % ',') > lit(']'));
const auto expectation_def = kw("expect") > path > expect_tail;
const auto test_decl_def =
    kw("test") > text_literal > *clause > given_kw > json_object > *expectation;

const auto module_header_def = kw("module") > identifier > *clause > *(kw("import") > identifier);
const auto item_def =
    enum_decl | record_decl | input_decl | parameter_decl | rule_decl | test_decl | document_decl;

BOOST_SPIRIT_DEFINE(expect_tail)
BOOST_SPIRIT_DEFINE(or_operation, and_operation, cmp_operation, add_operation, mul_operation)
BOOST_SPIRIT_DEFINE(identifier, json_key, path, literal, text_literal, date_literal, closing_quote,
                    escaped_char, or_expr, and_expr, not_expr, not_op, cmp_expr, add_expr, mul_expr,
                    neg_expr, neg_op, primary, call, if_expr, table, table_row, table_rows,
                    list_expr, quantifier, clause, clause_arg, in_force_arg, in_force_args,
                    in_force_clause, type_ref, enum_cases, enum_decl, field_decl, record_decl,
                    input_decl, dated_value, dated_values, parameter_decl, exception_decl,
                    rule_decl, json_value, json_member, json_object, json_array, expectation,
                    test_decl, module_header, item, expr)
BOOST_SPIRIT_DEFINE(enum_case, document_decl, title_clause, document_titles, field_clause,
                    text_pairs, lang_arg, text_arg, document_arg, bound_arg, as_of_arg, reason,
                    otherwise_part, document_args, bound_args, as_of_args)

// NOLINTEND(cert-err58-cpp)

}  // namespace dalil::dsl::grammar
