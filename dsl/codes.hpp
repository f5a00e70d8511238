// Every diagnostic code of the language in one place, each with its one-line meaning. The codes
// are a contract (tests and editors match them): a code never changes meaning; new checks get new
// codes. docs/diagnostics.md lists the same table (a unit test keeps the two in step).
#pragma once

#include <array>
#include <string_view>

namespace dalil::dsl::codes {

// Syntax and input.
inline constexpr const char* syntax = "E0001";             // something else was expected here
inline constexpr const char* unterminated_text = "E0002";  // text literal not closed on its line
inline constexpr const char* nesting_too_deep = "E0003";   // nesting past 64, syntax past 2,000
inline constexpr const char* bad_literal = "E0004";        // impossible date, integer out of range
inline constexpr const char* unreadable = "E0005";         // unreadable file, or not UTF-8
inline constexpr const char* too_large = "E0006";          // file or pack past its size limit
inline constexpr const char* lone_carriage_return = "E0007";  // a line break that is a lone CR
inline constexpr const char* control_character = "E0008";     // a control or bidi control character
// Declarations.
inline constexpr const char* duplicate_module = "E0101";  // two modules with the same name
inline constexpr const char* unknown_module = "E0102";    // import of a module that does not exist
inline constexpr const char* duplicate = "E0103";         // a name declared twice
inline constexpr const char* self_import = "E0104";       // a module imports itself
// Names.
inline constexpr const char* unknown_name = "E0201";   // no rule, parameter or case of that name
inline constexpr const char* unknown_field = "E0202";  // a record has no field of that name
inline constexpr const char* unknown_type = "E0203";   // no type of that name
inline constexpr const char* bad_case = "E0204";       // case of no enum, or of several
inline constexpr const char* module_not_imported = "E0205";  // name of a module not imported
// Types.
inline constexpr const char* bad_operands = "E0301";      // operator on operands of wrong types
inline constexpr const char* bad_comparison = "E0302";    // comparison between different types
inline constexpr const char* not_bool = "E0303";          // a condition that is not bool
inline constexpr const char* different_types = "E0304";   // branches or table rows disagree
inline constexpr const char* wrong_rule_type = "E0305";   // value not of the rule's declared type
inline constexpr const char* bad_arguments = "E0306";     // wrong number or types of arguments
inline constexpr const char* unknown_function = "E0307";  // no function of that name
inline constexpr const char* not_a_record = "E0308";      // field access on a non-record
inline constexpr const char* never_null = "E0309";        // null where the type is not optional
inline constexpr const char* expression_too_deep = "E0310";  // expression tree deeper than 256
// Clauses.
inline constexpr const char* no_source = "E0401";           // rule or parameter without a source
inline constexpr const char* missing_title = "E0402";       // module title missing a language
inline constexpr const char* clause_twice = "E0403";        // a clause given twice
inline constexpr const char* missing_language = "E0404";    // text in some of fr, ar, en only
inline constexpr const char* untitled_decision = "E0405";   // decision with explain, no title
inline constexpr const char* untitled_field = "E0406";      // field read by a rule, no title
inline constexpr const char* undocumented_field = "E0407";  // field read by a rule, no proof
// Parameters and periods.
inline constexpr const char* dates_not_increasing = "E0501";  // parameter dates out of order
inline constexpr const char* bad_parameter_value = "E0502";   // parameter value of wrong type
inline constexpr const char* bad_period = "E0503";            // in_force ends before it starts
inline constexpr const char* period_without_in_force =
    "E0504";  // `period` on a rule always in force
inline constexpr const char* otherwise_not_constant = "E0505";  // `otherwise` reads the record
// Decision tables.
inline constexpr const char* table_overlap = "E0601";  // unique table rows that can both match
inline constexpr const char* table_gap = "E0602";      // cases no row covers
inline constexpr const char* misplaced_otherwise = "E0603";  // otherwise not last, or twice
inline constexpr const char* table_too_large = "E0604";   // too large to analyse exactly (warning)
inline constexpr const char* table_unanalysed = "E0605";  // a unique row not analysed (warning)
// Rules.
inline constexpr const char* rule_cycle = "E0701";           // rules read each other in a cycle
inline constexpr const char* rule_chain_too_deep = "E0702";  // rules read rules too deeply
inline constexpr const char* trace_too_large = "E0703";  // closures of rules read too large in all
// Explanations.
inline constexpr const char* bad_placeholder = "E0801";   // placeholder that names nothing
inline constexpr const char* unknown_language = "E0802";  // explanation in an unknown language
// Tests.
inline constexpr const char* test_unknown_rule = "E0901";  // expects a decision that is no rule
inline constexpr const char* test_wrong_value = "E0902";   // expects a value of the wrong type
inline constexpr const char* test_bad_record = "E0903";    // given record does not fit the schema
inline constexpr const char* test_incomplete = "E0904";    // no as_of or no expect
// Documents and value constraints.
inline constexpr const char* unknown_document = "E1001";      // `proof` names no document
inline constexpr const char* bad_bound = "E1002";             // bound not of the field's type
inline constexpr const char* misplaced_constraint = "E1003";  // constraint on the wrong type
inline constexpr const char* empty_bounds = "E1004";          // at_least above at_most

struct code_info {
  std::string_view code;
  bool warning = false;
};

/// Every code above, for tests that keep docs/diagnostics.md in step.
inline constexpr std::array all = {
    code_info{syntax},
    code_info{unterminated_text},
    code_info{nesting_too_deep},
    code_info{bad_literal},
    code_info{unreadable},
    code_info{too_large},
    code_info{lone_carriage_return},
    code_info{control_character},
    code_info{duplicate_module},
    code_info{unknown_module},
    code_info{duplicate},
    code_info{self_import},
    code_info{unknown_name},
    code_info{unknown_field},
    code_info{unknown_type},
    code_info{bad_case},
    code_info{module_not_imported},
    code_info{bad_operands},
    code_info{bad_comparison},
    code_info{not_bool},
    code_info{different_types},
    code_info{wrong_rule_type},
    code_info{bad_arguments},
    code_info{unknown_function},
    code_info{not_a_record},
    code_info{never_null},
    code_info{expression_too_deep},
    code_info{no_source},
    code_info{missing_title, true},
    code_info{clause_twice},
    code_info{missing_language, true},
    code_info{untitled_decision, true},
    code_info{untitled_field, true},
    code_info{undocumented_field, true},
    code_info{dates_not_increasing},
    code_info{bad_parameter_value},
    code_info{bad_period},
    code_info{period_without_in_force},
    code_info{otherwise_not_constant},
    code_info{table_overlap},
    code_info{table_gap},
    code_info{misplaced_otherwise},
    code_info{table_too_large, true},
    code_info{table_unanalysed, true},
    code_info{rule_cycle},
    code_info{rule_chain_too_deep},
    code_info{trace_too_large},
    code_info{bad_placeholder},
    code_info{unknown_language},
    code_info{test_unknown_rule},
    code_info{test_wrong_value},
    code_info{test_bad_record},
    code_info{test_incomplete},
    code_info{unknown_document},
    code_info{bad_bound},
    code_info{misplaced_constraint},
    code_info{empty_bounds},
};

}  // namespace dalil::dsl::codes
