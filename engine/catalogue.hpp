// The message catalogue: every word the engine and the CLI print around a rule pack's own texts,
// in French, Arabic and English. Renderers take a catalogue, so a test can swap in one whose every
// message is a marker and prove that no UI string is written anywhere else.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace dalil::engine {

enum class lang : std::uint8_t { fr, ar, en };
inline constexpr std::array<lang, 3> languages{lang::fr, lang::ar, lang::en};
/// "fr", "ar", "en"; std::nullopt for anything else.
std::optional<lang> parse_lang(std::string_view code);
/// A language code as the pack and the JSON write it; unknown codes read as English.
lang lang_or_en(std::string_view code);
std::string_view lang_code(lang l);

// Each message: its id. The texts are in catalogue.cpp; {name} marks an argument.
#define DALIL_MESSAGES(X)                                                                 \
  X(header_as_of)  /* {date} {hash} */                                                    \
  X(header_notice) /* recommendation, the official decides (Law 09-08) */                 \
  X(decision_line) /* {title} {value} */                                                  \
  X(tag_undetermined)                                                                     \
  X(tag_provisional)                                                                      \
  X(tag_out_of_force)                                                                     \
  X(heading_documents)                                                                    \
  X(document_line)       /* {document} {facts} */                                         \
  X(applicant_statement) /* the "document" of facts no document proves */                 \
  X(heading_sources)                                                                      \
  X(source_line) /* {source} */                                                           \
  X(yes)                                                                                  \
  X(no)                                                                                   \
  X(unknown)            /* a value not provided, inside a sentence */                     \
  X(undetermined_value) /* a decision or rule value not settled yet */                    \
  X(none)               /* a null value */                                                \
  X(list_separator)                                                                       \
  X(group_separator)                                                                      \
  X(undetermined_ask) /* {documents} */                                                   \
  X(undetermined_no_ask)                                                                  \
  X(undetermined_ask_below) /* the documents are listed after the explanation */          \
  X(reason_sentence)        /* {reasons} */                                               \
  X(exception_applied)      /* {text} */                                                  \
  X(exception_unlabelled)                                                                 \
  X(provisional_note)                                                                     \
  X(value_sentence)                 /* {title} {value}: a decision without explanation */ \
  X(period_between)                 /* {title} {from} {until} */                          \
  X(period_from)                    /* {title} {from} */                                  \
  X(period_until)                   /* {title} {until} */                                 \
  X(reason_not_in_force)            /* {title} {date} */                                  \
  X(reason_parameter_without_value) /* {date} */                                          \
  X(reason_not_encoded)             /* {text} */                                          \
  X(reason_division_by_zero)                                                              \
  X(reason_date_out_of_range)                                                             \
  X(reason_overflow)                                                                      \
  X(reason_other)                                                                         \
  X(untitled_decision)                                                                    \
  X(untitled_value)                                                                       \
  X(untitled_fact)                                                                        \
  X(untitled_document)                                                                    \
  X(money) /* {amount} */                                                                 \
  X(decimal_separator)                                                                    \
  X(group_separator_digits)                                                               \
  X(date_words) /* {day} {month} {year} */                                                \
  X(first_day)  /* the 1st of a month, where the language says it apart */                \
  X(month_1)                                                                              \
  X(month_2)                                                                              \
  X(month_3)                                                                              \
  X(month_4)                                                                              \
  X(month_5)                                                                              \
  X(month_6)                                                                              \
  X(month_7)                                                                              \
  X(month_8)                                                                              \
  X(month_9)                                                                              \
  X(month_10)                                                                             \
  X(month_11)                                                                             \
  X(month_12)                                                                             \
  X(years_one) /* {n}: plural forms (fr, en: one, other; ar: all five) */                 \
  X(years_two)                                                                            \
  X(years_few)                                                                            \
  X(years_many)                                                                           \
  X(years_other)                                                                          \
  X(months_one)                                                                           \
  X(months_two)                                                                           \
  X(months_few)                                                                           \
  X(months_many)                                                                          \
  X(months_other)                                                                         \
  X(days_one)                                                                             \
  X(days_two)                                                                             \
  X(days_few)                                                                             \
  X(days_many)                                                                            \
  X(days_other)                                                                           \
  X(items_one)                                                                            \
  X(items_two)                                                                            \
  X(items_few)                                                                            \
  X(items_many)                                                                           \
  X(items_other)                                                                          \
  X(duration_and)                                                                         \
  X(record_value)                                                                         \
  X(doc_title)                                                                            \
  X(doc_pack)   /* {dir} */                                                               \
  X(doc_counts) /* {modules} {rules} {parameters} {tests} {provisional} {gaps} */         \
  X(doc_notice) /* {provisional} {not_encoded} */                                         \
  X(doc_provisional)                                                                      \
  X(doc_verified)                                                                         \
  X(doc_not_encoded)                                                                      \
  X(doc_contents)                                                                         \
  X(doc_toc_entry) /* {name} {title} */                                                   \
  X(doc_record)                                                                           \
  X(doc_record_note) /* {optional} {null} */                                              \
  X(doc_col_field)                                                                        \
  X(doc_col_label)                                                                        \
  X(doc_col_type)                                                                         \
  X(doc_col_document)                                                                     \
  X(doc_col_constraints)                                                                  \
  X(doc_col_read)                                                                         \
  X(doc_untitled)                                                                         \
  X(doc_enums)                                                                            \
  X(doc_col_values)                                                                       \
  X(doc_no_field_read)                                                                    \
  X(doc_documents)                                                                        \
  X(doc_documents_note)                                                                   \
  X(doc_col_document_name)                                                                \
  X(doc_col_proves)                                                                       \
  X(doc_module)          /* {name} {title} */                                             \
  X(doc_module_untitled) /* {name} */                                                     \
  X(doc_field_title)                                                                      \
  X(doc_field_program)                                                                    \
  X(doc_field_osp)                                                                        \
  X(doc_field_source)                                                                     \
  X(doc_field_file)                                                                       \
  X(doc_not_given)                                                                        \
  X(doc_rules)                                                                            \
  X(doc_parameters)                                                                       \
  X(doc_col_parameter)                                                                    \
  X(doc_col_dated_values)                                                                 \
  X(doc_col_confidence)                                                                   \
  X(doc_from_value)     /* {date} {value} */                                              \
  X(doc_period_between) /* {from} {until} */                                              \
  X(doc_period_from)    /* {from} */                                                      \
  X(doc_period_until)   /* {until} */                                                     \
  X(doc_period_none)                                                                      \
  X(doc_rule_heading) /* {name} {type} */                                                 \
  X(doc_field_name)                                                                       \
  X(doc_kind) /* {type} {kind} */                                                         \
  X(doc_kind_intermediate)                                                                \
  X(doc_kind_decision)                                                                    \
  X(doc_provisional_reads)                                                                \
  X(doc_verified_but) /* {verified} {note} */                                             \
  X(doc_field_in_force)                                                                   \
  X(doc_field_outside)                                                                    \
  X(doc_outside_value) /* {value} */                                                      \
  X(doc_outside_undetermined)                                                             \
  X(doc_outside_not_encoded)                                                              \
  X(doc_field_period_text)                                                                \
  X(doc_field_explanation)                                                                \
  X(doc_field_reads)                                                                      \
  X(doc_field_defined)                                                                    \
  X(doc_formula)                                                                          \
  X(doc_field_exception)                                                                  \
  X(doc_field_in_explanation)                                                             \
  X(doc_no_own_text)                                                                      \
  X(doc_generic_sentence)                                                                 \
  X(doc_exception_caption) /* {name} */                                                   \
  X(doc_not_encoded_note)                                                                 \
  X(doc_none)                                                                             \
  X(doc_col_rule)                                                                         \
  X(doc_col_where)                                                                        \
  X(doc_col_why)                                                                          \
  X(doc_col_position)                                                                     \
  X(doc_where_formula)                                                                    \
  X(doc_where_condition) /* {name} */                                                     \
  X(doc_where_value)     /* {name} */                                                     \
  X(doc_at_least)        /* {bound} */                                                    \
  X(doc_at_most)         /* {bound} */                                                    \
  X(doc_not_after_as_of)                                                                  \
  X(doc_field_label)   /* {label}: a field's name before its value */                     \
  X(doc_text_in)       /* {lang} {text}: a text in one language */                        \
  X(doc_case)          /* {case} {label} */                                               \
  X(doc_document_cell) /* {title} {name} */                                               \
  X(lang_name_fr)                                                                         \
  X(lang_name_ar)                                                                         \
  X(lang_name_en)                                                                         \
  X(diff_heading)    /* {old} {new}: dalil diff */                                        \
  X(diff_scope_date) /* {date} */                                                         \
  X(diff_scope_all)                                                                       \
  X(diff_changes)                                                                         \
  X(diff_no_changes)                                                                      \
  X(diff_added)   /* {kind} {name} */                                                     \
  X(diff_removed) /* {kind} {name} */                                                     \
  X(diff_changed) /* {kind} {name} {detail} */                                            \
  X(diff_value)   /* {from} {old} {new}: a parameter's dated value */                     \
  X(diff_decisions)                                                                       \
  X(diff_same)         /* {decision} */                                                   \
  X(diff_different)    /* {decision} */                                                   \
  X(diff_unknown)      /* {decision} */                                                   \
  X(diff_witness)      /* {date} {record} */                                              \
  X(diff_outcome)      /* {old} {new} */                                                  \
  X(diff_out_of_force) /* {value} */                                                      \
  X(diff_why_proof_all)                                                                   \
  X(diff_why_proof_date) /* {date} */                                                     \
  X(diff_uncompared)     /* {cases} */                                                    \
  X(diff_why_solver)     /* {detail} */                                                   \
  X(diff_why_encoding)   /* {detail}: a construct not encoded */                          \
  X(diff_why_witness)    /* {detail}: the witness did not reproduce or was refused */     \
  X(diff_why_type)                                                                        \
  X(diff_why_added)                                                                       \
  X(diff_why_removed)                                                                     \
  X(diff_summary) /* {same} {different} {unknown} */                                      \
  X(diff_kind_module)                                                                     \
  X(diff_kind_rule)                                                                       \
  X(diff_kind_parameter)                                                                  \
  X(diff_kind_table)                                                                      \
  X(diff_kind_exception)                                                                  \
  X(diff_kind_explanation)                                                                \
  X(diff_kind_title)                                                                      \
  X(diff_kind_citation)                                                                   \
  X(diff_kind_confidence)                                                                 \
  X(diff_kind_period)                                                                     \
  X(diff_kind_schema)                                                                     \
  X(doc_fixed)                                                                            \
  X(whatif_heading) /* {decision} {goal} {date}: dalil whatif */                          \
  X(whatif_current) /* {value} */                                                         \
  X(whatif_already)                                                                       \
  X(whatif_alternative) /* {n}: a checked alternative */                                  \
  X(whatif_change)      /* {fact} {from} {to} */                                          \
  X(whatif_at_least)    /* {value} */                                                     \
  X(whatif_above)       /* {value} */                                                     \
  X(whatif_at_most)     /* {value} */                                                     \
  X(whatif_below)       /* {value} */                                                     \
  X(whatif_between)     /* {low} {high} */                                                \
  X(whatif_time)        /* {date}: facts unchanged */                                     \
  X(whatif_none)                                                                          \
  X(whatif_fixed) /* {facts}: never moved */                                              \
  X(whatif_ask_heading)                                                                   \
  X(whatif_ask_settles) /* {value} */                                                     \
  X(whatif_gap)         /* {detail}: a construct not encoded */                           \
  X(whatif_solver)      /* {detail} */                                                    \
  X(whatif_unconfirmed) /* {count} */                                                     \
  X(whatif_fact)        /* {title} {path} */                                              \
  X(whatif_present)     /* a record that becomes provided */                              \
  X(whatif_one_of)      /* {values}: the cases of an enum that work */                    \
  X(diff_kind_field)                                                                      \
  X(diff_kind_enum)                                                                       \
  X(diff_named)          /* {title} {name}: a rule, module or field by its title */       \
  X(diff_exception_name) /* {exception} {rule} */                                         \
  X(diff_detail_value)                                                                    \
  X(diff_detail_type)                                                                     \
  X(diff_detail_formula)                                                                  \
  X(diff_detail_table) /* {n} */                                                          \
  X(diff_detail_condition)                                                                \
  X(diff_detail_exception_value)                                                          \
  X(diff_detail_otherwise)                                                                \
  X(diff_detail_program)                                                                  \
  X(diff_detail_osp)                                                                      \
  X(diff_detail_cases)                                                                    \
  X(diff_period_always)                                                                   \
  X(diff_type_boolean)                                                                    \
  X(diff_type_integer)                                                                    \
  X(diff_type_decimal)                                                                    \
  X(diff_type_money)                                                                      \
  X(diff_type_date)                                                                       \
  X(diff_type_duration)                                                                   \
  X(diff_type_text)                                                                       \
  X(diff_type_enum)     /* {name} */                                                      \
  X(diff_type_list)     /* {type} */                                                      \
  X(diff_type_record)   /* {name} */                                                      \
  X(diff_type_optional) /* {type} */                                                      \
  X(diff_witness_at)    /* {date} */                                                      \
  X(diff_witness_fact)  /* {fact} {value} */                                              \
  X(diff_witness_empty)                                                                   \
  X(diff_witness_implausible)                                                             \
  X(diff_gap_list_fact)  /* {fact} */                                                     \
  X(diff_gap_field_type) /* {fact} */                                                     \
  X(diff_gap_list_op)                                                                     \
  X(diff_gap_duration)                                                                    \
  X(diff_gap_date_arith)                                                                  \
  X(diff_gap_big_table)                                                                   \
  X(diff_gap_division)                                                                    \
  X(diff_gap_dates) /* {from} {until} */                                                  \
  X(diff_gap_refused)                                                                     \
  X(diff_gap_other)                                                                       \
  X(diff_solver_timeout)      /* {from} {until} */                                        \
  X(diff_solver_other)        /* {from} {until} */                                        \
  X(diff_unconfirmed_refused) /* {fact} */                                                \
  X(diff_unconfirmed_same)                                                                \
  X(diff_unconfirmed_decimals)                                                            \
  X(diff_changed_plain)              /* {kind} {name}: a change the kind says all of */   \
  X(diff_unconfirmed_refused_record) /* the reader refuses the whole record, no one field */

enum class msg : std::uint16_t {
#define DALIL_MESSAGE_ENUM(id) id,
  DALIL_MESSAGES(DALIL_MESSAGE_ENUM)
#undef DALIL_MESSAGE_ENUM
      count_
};
inline constexpr std::size_t message_count = static_cast<std::size_t>(msg::count_);

/// The id of a message as written in the catalogue ("header_notice").
std::string_view message_id(msg m);

/// Plural categories, CLDR-style: French and English use one and other; Arabic all five
/// (two, few: 3-10, many: 11-99 modulo 100; zero reads as other).
enum class plural : std::uint8_t { one, two, few, many, other };
plural plural_of(std::int64_t n, lang l);

using arguments = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class catalogue {
 public:
  /// An empty catalogue: every message is "".
  catalogue() = default;
  const std::string& text(msg m, lang l) const {
    return texts_[static_cast<std::size_t>(m)][static_cast<std::size_t>(l)];
  }
  void set(msg m, lang l, std::string text) {
    texts_[static_cast<std::size_t>(m)][static_cast<std::size_t>(l)] = std::move(text);
  }
  /// The message with each {name} replaced by its argument; an unknown {name} stays as written
  /// (the catalogue test guards against those).
  std::string format(msg m, lang l, arguments args = {}) const;
  /// format's text appended to `out` (no string of its own).
  void append_format(std::string& out, msg m, lang l, arguments args = {}) const;

 private:
  std::array<std::array<std::string, 3>, message_count> texts_;
};

/// The catalogue the tool ships with.
const catalogue& builtin_catalogue();
/// A catalogue whose every message is the marker "⟦id⟧" followed by the built-in message's
/// arguments ({date}{hash}…): output rendered through it shows where each word came from.
catalogue sentinel_catalogue();

/// Replaces each {name} of `text` by its argument; unknown names are kept as written.
std::string substitute(std::string_view text, arguments args);
/// substitute's text appended to `out`.
void append_substitute(std::string& out, std::string_view text, arguments args);

}  // namespace dalil::engine
