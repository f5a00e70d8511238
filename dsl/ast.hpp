// The syntax tree produced by the X3 grammar. Each node carries its byte span; the checker reads
// this tree and produces the resolved, typed program (checked.hpp), so no later phase sees X3.
#pragma once

#include <boost/spirit/home/x3/support/ast/variant.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace dalil::dsl::ast {

namespace x3 = boost::spirit::x3;

/// Byte offsets of a node in its file, set by the grammar's on_success annotation.
struct node {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

struct identifier : node {
  std::string name;
};

enum class literal_kind : std::uint8_t {
  integer,
  decimal,
  money,
  date,
  duration,
  text,
  boolean,
  null,
  not_encoded,
  otherwise
};

/// Every literal keeps its source text; the checker interprets it (so the formatter can print it).
struct literal : node {
  literal_kind kind = literal_kind::null;
  std::string text;
};

/// `a.b.c`, written without spaces: a fact path, a rule, a parameter, an enum case or `as_of`.
struct path : node {
  std::string text;
};

struct expr;
struct unary;
struct call;
struct if_expr;
struct table;
struct list_expr;
struct quantifier;

struct operand
    : x3::variant<literal, path, x3::forward_ast<unary>, x3::forward_ast<call>,
                  x3::forward_ast<if_expr>, x3::forward_ast<table>, x3::forward_ast<list_expr>,
                  x3::forward_ast<quantifier>, x3::forward_ast<expr>> {
  using base_type::base_type;
  using base_type::operator=;
};

struct operation : node {
  std::string op;  // "or", "and", "==", "<=", "in", "+", "*", …
  operand rhs;
};

/// One precedence level: `first op rhs op rhs …`; nested levels appear as operands.
struct expr : node {
  operand first;
  std::vector<operation> rest;
};

struct unary : node {
  std::string op;  // "not" or "-"
  operand rhs;
};

struct call : node {
  identifier name;
  std::vector<expr> args;
};

struct if_expr : node {
  expr condition;
  expr then_branch;
  expr else_branch;
};

struct table_row : node {
  expr condition;  // a literal of kind `otherwise` for the otherwise row
  expr value;
};

struct table : node {
  std::string policy;  // "first" or "unique"
  std::vector<table_row> rows;
};

/// `[a, b]`, `any [a, b]` or `all [a, b]` (kind "list", "any", "all").
struct list_expr : node {
  std::string kind;
  std::vector<expr> items;
};

/// `any c in applicant.children : body`.
struct quantifier : node {
  std::string kind;  // "any" or "all"
  identifier variable;
  path over;
  expr body;
};

// ------------------------------------------------------------------ declarations

/// A clause argument: a word (`fr`, `verified`, `from`), a text literal or a date.
struct clause_arg : node {
  literal_kind kind = literal_kind::text;  // text, date, or null for a bare word
  std::string text;
};

/// `source "…"`, `title fr "…" en "…"`, `explain …`, `confidence …`, `in_force from … until …`,
/// and on fields `proof DOC`, `at_least V`, `at_most V`, `not_after as_of`, `fixed`.
struct clause : node {
  std::string keyword;
  std::vector<clause_arg> args;
  /// `in_force … otherwise EXPR`: the expression (at most one); empty for every other clause.
  std::vector<expr> otherwise;
};

struct type_ref : node {
  bool is_list = false;
  identifier name;
  bool optional = false;
};

/// `a` or `a title fr "…" ar "…" en "…"`.
struct enum_case : node {
  identifier name;
  std::vector<clause> clauses;  // title
};

struct enum_decl : node {
  identifier name;
  std::vector<enum_case> cases;
};

struct field_decl : node {
  identifier name;
  type_ref type;
  std::vector<clause> clauses;  // title, proof, at_least, at_most, not_after, fixed
};

/// `document NAME title fr "…" ar "…" en "…"`: a document an official asks for.
struct document_decl : node {
  identifier name;
  std::vector<clause> clauses;  // title
};

struct record_decl : node {
  identifier name;
  std::vector<field_decl> fields;
};

struct input_decl : node {
  identifier name;
  type_ref type;
};

struct dated_value : node {
  literal date;
  expr value;
};

struct parameter_decl : node {
  identifier name;
  type_ref type;
  std::vector<clause> clauses;
  std::vector<dated_value> values;
};

struct exception_decl : node {
  identifier name;
  std::vector<clause> clauses;
  expr condition;
  expr value;
};

struct rule_decl : node {
  identifier name;
  type_ref type;
  std::vector<clause> clauses;
  expr body;
  std::vector<exception_decl> exceptions;
};

// JSON-like record literal for tests.
struct json_object;
struct json_array;
struct json_value
    : x3::variant<literal, x3::forward_ast<json_object>, x3::forward_ast<json_array>> {
  using base_type::base_type;
  using base_type::operator=;
};
struct json_member : node {
  identifier key;
  json_value value;
};
struct json_object : node {
  std::vector<json_member> members;
};
struct json_array : node {
  std::vector<json_value> items;
};

struct expectation_tail : node {
  std::string kind;  // "==", "undetermined" or "missing"
  expr value;        // for "=="
  std::vector<path> missing;
};

struct expectation : node {
  path decision;
  expectation_tail tail;
};

struct test_decl : node {
  literal name;
  std::vector<clause> clauses;  // as_of
  json_object given;
  std::vector<expectation> expects;
};

struct item : x3::variant<enum_decl, record_decl, input_decl, parameter_decl, rule_decl, test_decl,
                          document_decl> {
  using base_type::base_type;
  using base_type::operator=;
};

struct module_header : node {
  identifier name;
  std::vector<clause> clauses;
  std::vector<identifier> imports;
};

struct module : node {
  std::uint32_t file = 0;  // the source_map file it was parsed from
  module_header header;
  std::vector<item> items;
};

/// The literal an expression consists of, through the precedence levels, if it is one.
inline const literal* single_literal(const expr& e) {
  const expr* cur = &e;
  while (cur->rest.empty()) {
    if (const auto* lit = boost::get<literal>(&cur->first.get())) return lit;
    const auto* inner = boost::get<x3::forward_ast<expr>>(&cur->first.get());
    if (inner == nullptr) return nullptr;
    cur = &inner->get();
  }
  return nullptr;
}

}  // namespace dalil::dsl::ast
