// The built-in messages in French, Arabic (the formal administrative Arabic of Moroccan
// administration: its month names, "الإدلاء بالوثائق") and English.
#include "engine/catalogue.hpp"

#include <algorithm>
#include <iterator>

namespace dalil::engine {

namespace {

struct entry {
  msg id;
  const char* fr;
  const char* ar;
  const char* en;
};

// U+2066 LRI … U+2069 PDI: a left-to-right run inside Arabic text keeps its own order.
#define LRI "\u2066"
#define PDI "\u2069"

constexpr entry builtin_entries[] = {
    {msg::header_as_of, "Situation au {date} (règles {hash})",
     "الوضعية بتاريخ {date} (مجموعة القواعد {hash})", "As of {date} (ruleset {hash})"},
    {msg::header_notice, "Recommandation avec ses preuves ; l'agent décide (loi 09-08, art. 11).",
     "توصية مشفوعة بمبرراتها؛ ويعود القرار إلى الموظف المختص (القانون رقم " LRI "09.08" PDI
     "، المادة 11).",
     "Recommendation with its evidence; the official decides (Law 09-08, art. 11)."},
    {msg::decision_line, "{title} : {value}", "{title}: {value}", "{title}: {value}"},
    {msg::tag_undetermined, "[INDÉTERMINÉ]", "[غير محسوم]", "[UNDETERMINED]"},
    {msg::tag_provisional, "[provisoire]", "[مؤقت]", "[provisional]"},
    {msg::tag_out_of_force, "[hors période d'application]", "[خارج فترة السريان]",
     "[outside its period in force]"},
    {msg::heading_documents,
     "Documents à demander :", "الوثائق المطلوب الإدلاء بها:", "Documents to ask for:"},
    {msg::document_line, "{document} : {facts}", "{document}: {facts}", "{document}: {facts}"},
    {msg::applicant_statement, "déclaration du demandeur", "تصريح المعني بالأمر",
     "the applicant's statement"},
    {msg::heading_sources, "Sources :", "المراجع:", "Sources:"},
    {msg::source_line, "- {source}", "- {source}", "- {source}"},
    {msg::yes, "oui", "نعم", "yes"},
    {msg::no, "non", "لا", "no"},
    // Invariable whatever the label before it ("date de naissance", "prix du logement"):
    // "information", "معلومة" carry the agreement themselves.
    {msg::unknown, "information non fournie", "معلومة غير مُدلى بها", "not provided"},
    {msg::undetermined_value, "à déterminer", "لم يُحسم بعد", "to be determined"},
    {msg::none, "néant", "لا شيء", "none"},
    {msg::list_separator, ", ", "، ", ", "},
    {msg::group_separator, " ; ", "؛ ", "; "},
    {msg::undetermined_ask, "Impossible de conclure pour l'instant ; à demander : {documents}.",
     "يتعذر البت في الوقت الراهن؛ ويتعين طلب ما يلي: {documents}.",
     "Cannot decide yet; ask for: {documents}."},
    {msg::undetermined_no_ask, "Impossible de conclure pour l'instant.",
     "يتعذر البت في الوقت الراهن.", "Cannot decide yet."},
    {msg::undetermined_ask_below,
     "Impossible de conclure pour l'instant ; à demander : les documents ci-dessous.",
     "يتعذر البت في الوقت الراهن؛ ويتعين طلب الوثائق المبينة أدناه.",
     "Cannot decide yet; ask for the documents below."},
    {msg::reason_sentence, "Motif : {reasons}.", "السبب: {reasons}.", "Reason: {reasons}."},
    {msg::exception_applied, "Exception appliquée : {text}.", "استثناء مطبَّق: {text}.",
     "Exception applied: {text}."},
    {msg::exception_unlabelled, "une exception prévue par les textes",
     "استثناء منصوص عليه في النصوص", "an exception provided for by the texts"},
    {msg::provisional_note, "(décision provisoire : une source reste à confirmer)",
     "(قرار مؤقت: أحد المراجع في حاجة إلى تأكيد)",
     "(provisional decision: a source remains to be confirmed)"},
    {msg::value_sentence, "{title} : {value}.", "{title}: {value}.", "{title}: {value}."},
    {msg::period_between, "« {title} » ne s'applique que du {from} au {until}.",
     "لا يسري «{title}» إلا خلال الفترة الممتدة من {from} إلى {until}.",
     "“{title}” applies only from {from} to {until}."},
    {msg::period_from, "« {title} » ne s'applique qu'à partir du {from}.",
     "لا يسري «{title}» إلا ابتداءً من {from}.", "“{title}” applies only from {from}."},
    {msg::period_until, "« {title} » ne s'applique que jusqu'au {until}.",
     "لا يسري «{title}» إلا إلى غاية {until}.", "“{title}” applies only until {until}."},
    {msg::reason_not_in_force, "« {title} » ne s'applique pas au {date}",
     "«{title}» غير سارٍ بتاريخ {date}", "“{title}” does not apply on {date}"},
    {msg::reason_parameter_without_value,
     "une valeur fixée par les textes (barème, plafond ou montant) n'est pas connue pour le "
     "{date}",
     "إحدى القيم التي تحددها النصوص (سُلَّم أو سقف أو مبلغ) غير معروفة بتاريخ {date}",
     "a value set by the texts (scale, ceiling or amount) is not known for {date}"},
    {msg::reason_not_encoded, "{text}", "{text}", "{text}"},
    {msg::reason_division_by_zero, "un calcul prévu par la règle divise par zéro",
     "تتضمن إحدى العمليات الحسابية للقاعدة قسمة على صفر",
     "a computation of the rule divides by zero"},
    {msg::reason_date_out_of_range, "une date calculée par la règle sort du calendrier",
     "يقع تاريخ محسوب بموجب القاعدة خارج نطاق التقويم",
     "a date computed by the rule falls outside the calendar"},
    {msg::reason_overflow, "un calcul dépasse la capacité de l'outil",
     "تتجاوز إحدى العمليات الحسابية قدرة الأداة", "a computation exceeds the tool's capacity"},
    {msg::reason_other, "une cause technique empêche de conclure", "يحول سبب تقني دون البت",
     "a technical cause prevents a decision"},
    {msg::untitled_decision, "décision sans intitulé", "قرار بدون عنوان", "untitled decision"},
    {msg::untitled_value, "valeur sans libellé", "قيمة بدون تسمية", "unlabelled value"},
    {msg::untitled_fact, "renseignement sans libellé", "معطى بدون تسمية", "unlabelled information"},
    {msg::untitled_document, "pièce sans intitulé", "وثيقة بدون عنوان", "untitled document"},
    {msg::money, "{amount} MAD", "{amount} درهم", "{amount} MAD"},
    {msg::decimal_separator, ",", ",", "."},
    {msg::group_separator_digits, "\u202F", "\u202F", ","},
    {msg::date_words, "{day} {month} {year}", "{day} {month} {year}", "{day} {month} {year}"},
    {msg::first_day, "1er", "1", "1"},
    {msg::month_1, "janvier", "يناير", "January"},
    {msg::month_2, "février", "فبراير", "February"},
    {msg::month_3, "mars", "مارس", "March"},
    {msg::month_4, "avril", "أبريل", "April"},
    {msg::month_5, "mai", "ماي", "May"},
    {msg::month_6, "juin", "يونيو", "June"},
    {msg::month_7, "juillet", "يوليوز", "July"},
    {msg::month_8, "août", "غشت", "August"},
    {msg::month_9, "septembre", "شتنبر", "September"},
    {msg::month_10, "octobre", "أكتوبر", "October"},
    {msg::month_11, "novembre", "نونبر", "November"},
    {msg::month_12, "décembre", "دجنبر", "December"},
    {msg::years_one, "{n} an", "سنة واحدة", "{n} year"},
    {msg::years_two, "{n} ans", "سنتان", "{n} years"},
    {msg::years_few, "{n} ans", "{n} سنوات", "{n} years"},
    {msg::years_many, "{n} ans", "{n} سنة", "{n} years"},
    {msg::years_other, "{n} ans", "{n} سنة", "{n} years"},
    {msg::months_one, "{n} mois", "شهر واحد", "{n} month"},
    {msg::months_two, "{n} mois", "شهران", "{n} months"},
    {msg::months_few, "{n} mois", "{n} أشهر", "{n} months"},
    {msg::months_many, "{n} mois", "{n} شهرًا", "{n} months"},
    {msg::months_other, "{n} mois", "{n} شهر", "{n} months"},
    {msg::days_one, "{n} jour", "يوم واحد", "{n} day"},
    {msg::days_two, "{n} jours", "يومان", "{n} days"},
    {msg::days_few, "{n} jours", "{n} أيام", "{n} days"},
    {msg::days_many, "{n} jours", "{n} يومًا", "{n} days"},
    {msg::days_other, "{n} jours", "{n} يوم", "{n} days"},
    {msg::items_one, "{n} élément", "عنصر واحد", "{n} item"},
    {msg::items_two, "{n} éléments", "عنصران", "{n} items"},
    {msg::items_few, "{n} éléments", "{n} عناصر", "{n} items"},
    {msg::items_many, "{n} éléments", "{n} عنصرًا", "{n} items"},
    {msg::items_other, "{n} éléments", "{n} عنصر", "{n} items"},
    {msg::duration_and, " et ", " و", " and "},
    {msg::record_value, "(ensemble de renseignements)", "(مجموعة معطيات)", "(set of information)"},
};

#undef LRI
#undef PDI

constexpr std::string_view message_ids[] = {
#define DALIL_MESSAGE_NAME(id) #id,
    DALIL_MESSAGES(DALIL_MESSAGE_NAME)
#undef DALIL_MESSAGE_NAME
};

static_assert(std::size(builtin_entries) == message_count,
              "every message has its texts in the built-in catalogue");
constexpr bool entries_in_order() {
  for (std::size_t i = 0; i < std::size(builtin_entries); ++i) {
    if (static_cast<std::size_t>(builtin_entries[i].id) != i) return false;
  }
  return true;
}
static_assert(entries_in_order(), "built-in entries follow DALIL_MESSAGES");

}  // namespace

std::optional<lang> parse_lang(std::string_view code) {
  if (code == "fr") return lang::fr;
  if (code == "ar") return lang::ar;
  if (code == "en") return lang::en;
  return std::nullopt;
}

lang lang_or_en(std::string_view code) {
  return parse_lang(code).value_or(lang::en);
}

std::string_view lang_code(lang l) {
  switch (l) {
    case lang::fr:
      return "fr";
    case lang::ar:
      return "ar";
    case lang::en:
      break;
  }
  return "en";
}

std::string_view message_id(msg m) {
  return message_ids[static_cast<std::size_t>(m)];
}

plural plural_of(std::int64_t n, lang l) {
  std::int64_t a = n < 0 ? -n : n;
  switch (l) {
    case lang::fr:
      return a <= 1 ? plural::one : plural::other;
    case lang::en:
      return a == 1 ? plural::one : plural::other;
    case lang::ar:
      break;
  }
  if (a == 1) return plural::one;
  if (a == 2) return plural::two;
  std::int64_t r = a % 100;
  if (r >= 3 && r <= 10) return plural::few;
  if (r >= 11 && r <= 99) return plural::many;
  return plural::other;
}

std::string substitute(std::string_view text, arguments args) {
  std::string out;
  out.reserve(text.size() + 32);
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t open = text.find('{', i);
    if (open == std::string_view::npos) break;
    std::size_t close = text.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(text, i, open - i);
    std::string_view name = text.substr(open + 1, close - open - 1);
    bool found = false;
    for (const auto& [k, v] : args) {
      if (k == name) {
        out.append(v);
        found = true;
        break;
      }
    }
    if (!found) out.append(text, open, close - open + 1);
    i = close + 1;
  }
  out.append(text.substr(std::min(i, text.size())));
  return out;
}

std::string catalogue::format(msg m, lang l, arguments args) const {
  return substitute(text(m, l), args);
}

const catalogue& builtin_catalogue() {
  static const catalogue c = [] {
    catalogue out;
    for (const entry& e : builtin_entries) {
      out.set(e.id, lang::fr, e.fr);
      out.set(e.id, lang::ar, e.ar);
      out.set(e.id, lang::en, e.en);
    }
    return out;
  }();
  return c;
}

catalogue sentinel_catalogue() {
  catalogue out;
  const catalogue& b = builtin_catalogue();
  for (std::size_t i = 0; i < message_count; ++i) {
    msg m = static_cast<msg>(i);
    for (lang l : languages) {
      std::string text = "\u27E6";
      text += message_id(m);
      text += "\u27E7";
      // Keep the arguments, so that what they carry still shows.
      const std::string& t = b.text(m, l);
      std::size_t at = 0;
      while ((at = t.find('{', at)) != std::string::npos) {
        std::size_t close = t.find('}', at);
        if (close == std::string::npos) break;
        text.append(t, at, close - at + 1);
        at = close + 1;
      }
      out.set(m, l, std::move(text));
    }
  }
  return out;
}

}  // namespace dalil::engine
