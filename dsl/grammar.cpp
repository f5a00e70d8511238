// The only translation unit that instantiates the X3 grammar.
#include "dsl/grammar_def.hpp"

namespace dalil::dsl::grammar {

BOOST_SPIRIT_INSTANTIATE(module_header_type, iterator_type, context_type)
BOOST_SPIRIT_INSTANTIATE(item_type, iterator_type, context_type)

module_header_type module_header_rule() {
  return grammar::module_header;
}
item_type item_rule() {
  return grammar::item;
}

}  // namespace dalil::dsl::grammar
