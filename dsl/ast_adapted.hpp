// Boost.Fusion adaptations of the syntax tree, so that X3 can fill the structs.
#pragma once

#include <boost/fusion/include/adapt_struct.hpp>

#include "dsl/ast.hpp"

BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::operation, op, rhs)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::expr, first, rest)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::unary, op, rhs)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::call, name, args)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::if_expr, condition, then_branch, else_branch)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::table_row, condition, value)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::table, policy, rows)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::list_expr, kind, items)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::quantifier, kind, variable, over, body)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::clause, keyword, args, otherwise)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::type_ref, is_list, name, optional)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::enum_decl, name, cases)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::enum_case, name, clauses)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::field_decl, name, type, clauses)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::document_decl, name, clauses)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::record_decl, name, fields)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::input_decl, name, type)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::dated_value, date, value)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::parameter_decl, name, type, clauses, values)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::exception_decl, name, clauses, condition, value)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::rule_decl, name, type, clauses, body, exceptions)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::json_member, key, value)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::json_object, members)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::json_array, items)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::expectation, decision, tail)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::test_decl, name, clauses, given, expects)
BOOST_FUSION_ADAPT_STRUCT(dalil::dsl::ast::module_header, name, clauses, imports)
