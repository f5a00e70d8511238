// Declarations of the X3 grammar's entry rules. Only grammar.cpp includes the definitions
// (grammar_def.hpp), so the heavy templates are compiled in one translation unit.
#pragma once

#include <boost/spirit/home/x3.hpp>

#include <cstdint>

#include "dsl/ast.hpp"
#include "dsl/limits.hpp"

namespace dalil::dsl::grammar {

namespace x3 = boost::spirit::x3;

using iterator_type = const char*;

/// Thrown when nesting exceeds the bound; caught by the parser driver (E0003).
struct nesting_too_deep {
  iterator_type where;
};

/// Per-parse state reachable from every rule through the context.
struct parse_state {
  iterator_type base = nullptr;  // start of the file: spans are offsets from here
  int depth = 0;
  static constexpr int max_depth = limits::max_nesting;
};
struct state_tag;

// Whitespace and `#` comments, skipped between tokens.
// X3 parsers are objects at namespace scope by design; building them does not throw.
inline const auto skipper =  // NOLINT(cert-err58-cpp)
    x3::ascii::space | x3::lexeme['#' >> *(x3::char_ - x3::eol)];
using skipper_type = std::remove_const_t<decltype(skipper)>;
using phrase_context_type = x3::phrase_parse_context<skipper_type>::type;
using context_type = x3::context<state_tag, parse_state, phrase_context_type>;

struct module_header_class;
struct item_class;
struct expr_class;
using module_header_type = x3::rule<module_header_class, ast::module_header>;
using item_type = x3::rule<item_class, ast::item>;
using expr_type = x3::rule<expr_class, ast::expr>;
BOOST_SPIRIT_DECLARE(module_header_type, item_type)

module_header_type module_header_rule();
item_type item_rule();

}  // namespace dalil::dsl::grammar
