// Values for reading aloud: money and decimals to two places (half-even, more places where two
// different values would read alike), dates and durations in words, enum cases by their titles,
// and the bidi isolation that keeps numbers and dates in place inside Arabic text. Exact: every
// number is worked from its rational, never through binary floating point.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/program.hpp"
#include "engine/catalogue.hpp"
#include "engine/value.hpp"

namespace dalil::engine {

// Bidi isolates (Unicode 6.3): a run inside them is laid out apart from the text around it.
inline constexpr std::string_view lri = "\u2066";  // left-to-right isolate
inline constexpr std::string_view rli = "\u2067";  // right-to-left isolate
inline constexpr std::string_view fsi = "\u2068";  // first-strong isolate
inline constexpr std::string_view pdi = "\u2069";  // pop directional isolate
inline constexpr std::string_view rlm = "\u200F";  // right-to-left mark

/// In Arabic, `s` between LRI and PDI (numbers, hashes, Latin text); elsewhere `s` unchanged.
std::string isolate_ltr(std::string_view s, lang l);
/// In Arabic, `s` between FSI and PDI (text whose direction is not known: values as given,
/// legal sources); elsewhere `s` unchanged.
std::string isolate_auto(std::string_view s, lang l);

/// The places (at least `min_places`) each value needs so that no two different values of the
/// set read alike or in the wrong order; one entry per value, in order. Values beyond 18 places
/// are left as they are.
std::vector<int> reading_places(const std::vector<rational>& values, int min_places = 2);
/// The same where some values are figures the texts set (a ceiling, a threshold): those marked
/// `exact` show all their decimals (at least `min_places`; 9,3264284 stays 9,3264284, never
/// "9,33"), and the others take the places that keep them in their true order against them.
std::vector<int> reading_places_with_figures(const std::vector<rational>& values,
                                             const std::vector<bool>& exact, int min_places = 2);
/// reading_places_with_figures into `out` (one entry per value; `exact` one per value, non-zero
/// for a figure), allocating nothing for a few dozen values: the explanations' hot path.
void reading_places_into(std::span<const rational> values, std::span<const std::uint8_t> exact,
                         std::span<int> out, int min_places = 2);
/// The decimals `q` has when written out exactly (3767.5: 1), or -1 when it does not end within
/// 18 places (1750/3).
int exact_places(rational q);

/// `q` rounded half-even to `places` decimals, trailing zeros after `min_places` dropped, with
/// the language's decimal and thousands separators ("1 083,33", "1,083.33"). Not isolated.
std::string number_words(rational q, int places, lang l, const catalogue& c = builtin_catalogue(),
                         int min_places = 2);
/// number_words appended to `out`.
void append_number_words(std::string& out, rational q, int places, lang l, const catalogue& c,
                         int min_places = 2);
/// A whole number: separators from five digits on (a year reads 2015, a sum 12 000).
std::string integer_words(std::int64_t n, lang l, const catalogue& c = builtin_catalogue());
/// An amount with its currency ("1 083,33 MAD", in Arabic the digits isolated and "درهم").
std::string money_words(rational q, lang l, const catalogue& c = builtin_catalogue(),
                        int places = 2);
/// money_words appended to `out`.
void append_money_words(std::string& out, rational q, lang l, const catalogue& c, int places = 2);
/// "26 octobre 2015", "1er mars 2018", "26 October 2015", "26 أكتوبر 2015" (isolated in Arabic).
std::string date_words(date d, lang l, const catalogue& c = builtin_catalogue());
/// "5 ans et 6 mois", "سنتان و6 أشهر"; a zero duration reads "0 jours".
std::string duration_words(duration p, lang l, const catalogue& c = builtin_catalogue());

/// The text of `t` in `l`, else the catalogue's `fallback` (never an identifier).
std::string label(const dsl::texts& t, lang l, const catalogue& c, msg fallback);
/// The title of case `index` of enum `e`, else the catalogue's phrase for an unlabelled value.
std::string enum_words(const dsl::program& p, std::uint32_t e, std::int64_t index, lang l,
                       const catalogue& c = builtin_catalogue());

/// A figure the texts set (a parameter's dated value) in words, exactly: money and decimals
/// with all their decimals (at least two), dates and durations in words, enum cases by their
/// titles, booleans as yes/no.
std::string constant_words(const dsl::program& p, const dsl::constant& k, const dsl::type& t,
                           lang l, const catalogue& c = builtin_catalogue());
/// The name of a language in `l` ("arabe", "العربية", "Arabic").
std::string language_name(lang of, lang l, const catalogue& c = builtin_catalogue());

/// A run-time value as words: yes/no, "non renseigné" for unknown, "néant" for null, numbers
/// through number_words with `places`, dates and durations in words, enum cases by their
/// titles, text as given.
std::string value_words(const dsl::program& p, const dsl::type& t, const value& v, lang l,
                        const catalogue& c = builtin_catalogue(), int places = 2);
/// value_words with every decimal a money or decimal value has (18 at most: 1/3 as 0.333…):
/// for a value a reader is to act on or compare exactly (an adviser's example applicant, a
/// what-if range's bound), which two places could move to the other side of a threshold.
std::string exact_value_words(const dsl::program& p, const dsl::type& t, const value& v, lang l,
                              const catalogue& c = builtin_catalogue());
/// value_words appended to `out`: the numbers, yes/no and enum cases with no string of their own.
void append_value_words(std::string& out, const dsl::program& p, const dsl::type& t, const value& v,
                        lang l, const catalogue& c, int places = 2);
/// Whether value_words shows `v` of type `t` as a number with decimals (money or decimal).
bool reads_as_decimal(const dsl::type& t, const value& v);

}  // namespace dalil::engine
