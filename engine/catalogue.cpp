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
    // dalil doc: the rule pack as a document.
    {msg::doc_title, "Dalil — règles SNIA", "دليل — قواعد الاستراتيجية الوطنية للهجرة واللجوء",
     "Dalil — SNIA rules"},
    {msg::doc_pack, "Pack de règles {dir}.", "مجموعة القواعد {dir}.", "Rule pack {dir}."},
    {msg::doc_counts,
     "Modules : {modules} ; règles : {rules} ; paramètres : {parameters} ; tests : {tests} ; "
     "règles provisoires : {provisional} ; éléments non codés : {gaps}.",
     "الوحدات: {modules}؛ القواعد: {rules}؛ القيم المرجعية: {parameters}؛ الاختبارات: {tests}؛ "
     "القواعد المؤقتة: {provisional}؛ العناصر غير المُدرجة في النظام: {gaps}.",
     "Modules: {modules}; rules: {rules}; parameters: {parameters}; tests: {tests}; provisional "
     "rules: {provisional}; not encoded: {gaps}."},
    {msg::doc_notice,
     "Chaque décision de Dalil est une recommandation accompagnée de ses preuves ; l'agent décide "
     "(loi 09-08, art. 11). Ce qui repose sur une source non vérifiée est marqué {provisional}. Ce "
     "que les sources ne tranchent pas n'est pas inventé : la section « {not_encoded} » en donne "
     "la liste et les raisons.",
     "كل قرار يصدر عن «دليل» توصية مشفوعة بمبرراتها؛ ويعود القرار إلى الموظف المختص (القانون "
     "رقم " LRI "09.08" PDI
     "، المادة 11). ويُوسَم ما يستند إلى مرجع غير مؤكد بعبارة {provisional}. ولا يُختلق ما لا تحسمه "
     "المراجع: يورد قسم «{not_encoded}» قائمته وأسبابه.",
     "Every Dalil decision is a recommendation with its evidence; the official decides (Law 09-08, "
     "art. 11). What rests on an unverified source is marked {provisional}. What the sources do "
     "not settle is not made up: the section “{not_encoded}” lists it with the reasons."},
    {msg::doc_provisional, "provisoire", "مؤقت", "provisional"},
    {msg::doc_verified, "vérifiée", "مؤكَّد", "verified"},
    {msg::doc_not_encoded, "Non codé", "غير مُدرج في النظام", "Not encoded"},
    {msg::doc_contents, "Sommaire", "المحتويات", "Contents"},
    {msg::doc_toc_entry, "{name} — {title}", "{name} — {title}", "{name} — {title}"},
    {msg::doc_record, "Dossier du demandeur", "ملف المعني بالأمر", "The applicant's file"},
    {msg::doc_record_note,
     "Un champ absent est inconnu, jamais une valeur par défaut ; un champ marqué {optional} peut "
     "valoir {null} (on sait qu'il n'existe pas).",
     "الحقل الغائب مجهول القيمة، ولا تُفترض له أي قيمة تلقائيًا؛ والحقل الموسوم بـ{optional} قد تكون "
     "قيمته {null} (أي أن انعدامه معلوم).",
     "A missing field is unknown, never a default value; a field marked {optional} may be {null} "
     "(known not to exist)."},
    {msg::doc_col_field, "Champ", "الحقل", "Field"},
    {msg::doc_col_label, "Intitulé", "التسمية", "Label"},
    {msg::doc_col_type, "Type", "النوع", "Type"},
    {msg::doc_col_document, "Pièce justificative", "الوثيقة المثبِتة", "Supporting document"},
    {msg::doc_col_constraints, "Contraintes", "القيود", "Constraints"},
    {msg::doc_col_read, "Lu par les règles", "تقرؤه القواعد", "Read by the rules"},
    {msg::doc_untitled, "sans intitulé", "بدون تسمية", "no label"},
    {msg::doc_enums, "Énumérations", "قوائم القيم", "Enumerations"},
    {msg::doc_col_values, "Valeurs et intitulés", "القيم وتسمياتها", "Values and labels"},
    {msg::doc_no_field_read, "aucun champ lu", "لا تقرأ القواعد أي حقل", "no field read"},
    {msg::doc_documents, "Pièces justificatives", "الوثائق المثبِتة", "Supporting documents"},
    {msg::doc_documents_note,
     "Une décision indéterminée demande ces pièces, regroupées ; un champ sans pièce relève de la "
     "déclaration du demandeur.",
     "يُطلب عند تعذر البت الإدلاء بهذه الوثائق مجمَّعة؛ ويُعتمد في الحقل الذي لا تثبته أي وثيقة على "
     "تصريح المعني بالأمر.",
     "An undetermined decision asks for these documents, grouped; a field no document proves rests "
     "on the applicant's statement."},
    {msg::doc_col_document_name, "Pièce", "الوثيقة", "Document"},
    {msg::doc_col_proves, "Prouve (champs lus par les règles)", "تُثبت (الحقول التي تقرؤها القواعد)",
     "Proves (fields read by the rules)"},
    {msg::doc_module, "Module {name} — {title}", "الوحدة {name} — {title}",
     "Module {name} — {title}"},
    {msg::doc_module_untitled, "Module {name}", "الوحدة {name}", "Module {name}"},
    {msg::doc_field_title, "Titre", "العنوان", "Title"},
    {msg::doc_field_program, "Programme", "البرنامج", "Program"},
    {msg::doc_field_osp, "Objectif spécifique (OSP)", "الهدف الخاص", "Specific objective (OSP)"},
    {msg::doc_field_source, "Source", "المرجع", "Source"},
    {msg::doc_field_file, "Fichier", "الملف", "File"},
    {msg::doc_not_given, "aucune indication", "لا يوجد بيان", "not given"},
    {msg::doc_rules, "Règles", "القواعد", "Rules"},
    {msg::doc_parameters, "Paramètres", "القيم المرجعية", "Parameters"},
    {msg::doc_col_parameter, "Paramètre", "القيمة المرجعية", "Parameter"},
    {msg::doc_col_dated_values, "Valeurs datées", "القيم حسب التاريخ", "Dated values"},
    {msg::doc_col_confidence, "Confiance", "مستوى التحقق", "Confidence"},
    {msg::doc_from_value, "à partir du {date} : {value}", "ابتداءً من {date}: {value}",
     "from {date}: {value}"},
    {msg::doc_period_between, "du {from} au {until} inclus", "من {from} إلى غاية {until}",
     "from {from} to {until} inclusive"},
    {msg::doc_period_from, "à partir du {from}", "ابتداءً من {from}", "from {from}"},
    {msg::doc_period_until, "jusqu'au {until} inclus", "إلى غاية {until}",
     "until {until} inclusive"},
    {msg::doc_period_none, "sans période propre (les paramètres lus ont leurs propres dates)",
     "بدون فترة سريان خاصة (للقيم المرجعية التي تقرؤها تواريخها الخاصة)",
     "no period of its own (the parameters it reads have their own dates)"},
    {msg::doc_rule_heading, "{name} : {type}", "{name}: {type}", "{name}: {type}"},
    {msg::doc_field_name, "Nom", "الاسم", "Name"},
    {msg::doc_kind, "{type} {kind}", "{type} {kind}", "{type} {kind}"},
    {msg::doc_kind_intermediate, "(règle intermédiaire)", "(قاعدة وسيطة)", "(intermediate rule)"},
    {msg::doc_kind_decision, "(décision expliquée au demandeur)", "(قرار يُشرح للمعني بالأمر)",
     "(decision explained to the applicant)"},
    {msg::doc_provisional_reads, "décision provisoire : elle lit un élément provisoire",
     "قرار مؤقت: يستند إلى عنصر مؤقت", "provisional decision: it reads a provisional element"},
    {msg::doc_verified_but, "{verified} ; {note}", "{verified}؛ {note}", "{verified}; {note}"},
    {msg::doc_field_in_force, "En vigueur", "فترة السريان", "In force"},
    {msg::doc_field_outside, "Hors période", "خارج فترة السريان", "Outside its period"},
    {msg::doc_outside_value, "la décision vaut « {value} »", "يكون القرار «{value}»",
     "the decision is “{value}”"},
    {msg::doc_outside_undetermined, "indéterminée (règle non applicable)",
     "غير محسوم (القاعدة غير سارية)", "undetermined (rule not applicable)"},
    {msg::doc_outside_not_encoded,
     "indéterminée, pour ce motif :", "غير محسوم، للسبب التالي:", "undetermined, for this reason:"},
    {msg::doc_field_period_text, "Explication hors période", "الشرح خارج فترة السريان",
     "Explanation outside the period"},
    {msg::doc_field_explanation, "Explication", "الشرح", "Explanation"},
    {msg::doc_field_reads, "Lit", "تقرأ", "Reads"},
    {msg::doc_field_defined, "Définie dans", "موضع التعريف", "Defined in"},
    {msg::doc_formula, "Formule", "الصيغة", "Formula"},
    {msg::doc_field_exception, "Exception", "الاستثناء", "Exception"},
    {msg::doc_field_in_explanation, "Dans l'explication", "في الشرح", "In the explanation"},
    {msg::doc_no_own_text, "sans texte propre", "بدون نص خاص", "no text of its own"},
    {msg::doc_generic_sentence, "(la phrase générique du catalogue)",
     "(العبارة العامة من قائمة الرسائل)", "(the catalogue's generic sentence)"},
    {msg::doc_exception_caption,
     "Exception {name} : elle remplace la formule quand sa condition est vraie",
     "الاستثناء {name}: يحل محل الصيغة متى تحقق شرطه",
     "Exception {name}: it replaces the formula when its condition holds"},
    {msg::doc_not_encoded_note,
     "Critères que les sources consultées ne permettent pas d'écrire. Une décision qui les atteint "
     "est « indéterminée », avec la raison ; elle n'est jamais devinée.",
     "معايير لا تسمح المراجع المطّلع عليها بصياغتها. والقرار الذي يتوقف عليها يكون «غير محسوم» مع "
     "بيان السبب، ولا يُخمَّن أبدًا.",
     "Criteria the sources consulted do not allow to write. A decision that reaches them is "
     "“undetermined”, with the reason; it is never guessed."},
    {msg::doc_none, "Aucun.", "لا شيء.", "None."},
    {msg::doc_col_rule, "Règle", "القاعدة", "Rule"},
    {msg::doc_col_where, "Où", "الموضع", "Where"},
    {msg::doc_col_why, "Pourquoi", "السبب", "Why"},
    {msg::doc_col_position, "Position", "الموقع في المصدر", "Position"},
    {msg::doc_where_formula, "formule", "الصيغة", "formula"},
    {msg::doc_where_condition, "exception {name} (condition)", "الاستثناء {name} (الشرط)",
     "exception {name} (condition)"},
    {msg::doc_where_value, "exception {name} (valeur)", "الاستثناء {name} (القيمة)",
     "exception {name} (value)"},
    {msg::doc_at_least, "au moins {bound}", "على الأقل {bound}", "at least {bound}"},
    {msg::doc_at_most, "au plus {bound}", "على الأكثر {bound}", "at most {bound}"},
    {msg::doc_not_after_as_of, "pas après la date d'évaluation", "لا يتجاوز تاريخ التقييم",
     "not after the evaluation date"},
    {msg::doc_field_label, "{label} :", "{label}:", "{label}:"},
    {msg::doc_text_in, "{lang} : {text}", "{lang}: {text}", "{lang}: {text}"},
    {msg::doc_case, "{case} : {label}", "{case}: {label}", "{case}: {label}"},
    {msg::doc_document_cell, "{title} {name}", "{title} {name}", "{title} {name}"},
    {msg::lang_name_fr, "français", "الفرنسية", "French"},
    {msg::lang_name_ar, "arabe", "العربية", "Arabic"},
    {msg::lang_name_en, "anglais", "الإنجليزية", "English"},
    // dalil diff
    {msg::diff_heading, "Différences de sens : {old} → {new}", "الفروق في المعنى: {old} ← {new}",
     "Differences in meaning: {old} → {new}"},
    {msg::diff_scope_date, "À la date du {date}.", "بتاريخ {date}.", "As of {date}."},
    {msg::diff_scope_all, "À toute date.", "في أي تاريخ.", "On every date."},
    {msg::diff_changes, "Modifications du texte :", "تعديلات النص:", "Changes to the text:"},
    {msg::diff_no_changes, "Aucune modification du texte.", "لا تعديل في النص.",
     "No change to the text."},
    {msg::diff_added, "ajouté : {kind} {name}", "أضيف: {kind} {name}", "added: {kind} {name}"},
    {msg::diff_removed, "supprimé : {kind} {name}", "حُذف: {kind} {name}", "removed: {kind} {name}"},
    {msg::diff_changed, "modifié : {kind} {name} ({detail})", "عُدّل: {kind} {name} ({detail})",
     "changed: {kind} {name} ({detail})"},
    {msg::diff_value, "à partir du {from} : {old} → {new}", "ابتداء من {from}: {old} ← {new}",
     "from {from}: {old} → {new}"},
    {msg::diff_decisions, "Décisions :", "القرارات:", "Decisions:"},
    {msg::diff_same, "{decision} : identique", "{decision}: مطابق", "{decision}: same"},
    {msg::diff_different, "{decision} : différente", "{decision}: مختلف", "{decision}: different"},
    {msg::diff_unknown, "{decision} : non établi", "{decision}: غير محسوم", "{decision}: unknown"},
    {msg::diff_witness, "exemple vérifié, au {date} : {record}",
     "مثال تم التحقق منه، بتاريخ {date}: {record}", "checked example, as of {date}: {record}"},
    {msg::diff_outcome, "ancienne version : {old} ; nouvelle version : {new}",
     "الصيغة السابقة: {old}؛ الصيغة الجديدة: {new}", "old version: {old}; new version: {new}"},
    {msg::diff_out_of_force, "{value} (hors période d'application)", "{value} (خارج فترة السريان)",
     "{value} (outside its period in force)"},
    {msg::diff_why_proof_all,
     "prouvé pour tout dossier conforme au schéma et toute date de 1901 à 2099 (domaine de la "
     "preuve : guide des conseillers)",
     "ثبت ذلك لكل ملف مطابق للبنية ولكل تاريخ من 1901 إلى 2099 (مجال الإثبات مبين في دليل "
     "المستشارين)",
     "proved for every record of the schema and every date from 1901 to 2099 (the proof's domain: "
     "advisers' guide)"},
    {msg::diff_why_proof_date,
     "prouvé pour tout dossier conforme au schéma au {date} (domaine de la preuve : guide des "
     "conseillers)",
     "ثبت ذلك لكل ملف مطابق للبنية بتاريخ {date} (مجال الإثبات مبين في دليل المستشارين)",
     "proved for every record of the schema as of {date} (the proof's domain: advisers' guide)"},
    {msg::diff_uncompared,
     " ; les dossiers portant {cases}, valeur déclarée par une seule des deux versions, sont "
     "refusés par l'autre et ne sont pas comparés (dalil impact les compte dans une cohorte)",
     "؛ الملفات التي تحمل {cases}، وهي قيمة لا تعلنها إلا إحدى الصيغتين، ترفضها الصيغة الأخرى "
     "ولا تُقارن (تحصيها أداة قياس الأثر في فوج)",
     "; records holding {cases}, a value only one of the two versions declares, are refused by "
     "the other and not compared (dalil impact counts them in a cohort)"},
    {msg::diff_why_solver, "le solveur n'a pas conclu ({detail})",
     "لم يتوصل المحلل إلى نتيجة ({detail})", "the solver did not conclude ({detail})"},
    {msg::diff_why_encoding, "construction non traduite pour le solveur : {detail}",
     "بنية غير مترجمة للمحلل: {detail}", "construct not encoded for the solver: {detail}"},
    {msg::diff_why_witness, "exemple non confirmé par l'évaluateur : {detail}",
     "مثال لم يؤكده المقيّم: {detail}", "example not confirmed by the evaluator: {detail}"},
    {msg::diff_why_type, "le type de la décision a changé", "تغير نوع القرار",
     "the decision's type changed"},
    {msg::diff_why_added, "nouvelle décision", "قرار جديد", "a new decision"},
    {msg::diff_why_removed, "décision supprimée", "قرار محذوف", "a removed decision"},
    {msg::diff_summary, "{same} identiques, {different} différentes, {unknown} non établies",
     "{same} مطابقة، {different} مختلفة، {unknown} غير محسومة",
     "{same} same, {different} different, {unknown} unknown"},
    {msg::diff_kind_module, "module", "الوحدة", "module"},
    {msg::diff_kind_rule, "règle", "القاعدة", "rule"},
    {msg::diff_kind_parameter, "paramètre", "المعيار", "parameter"},
    {msg::diff_kind_table, "tableau", "الجدول", "table"},
    {msg::diff_kind_exception, "exception", "الاستثناء", "exception"},
    {msg::diff_kind_explanation, "explication", "الشرح", "explanation"},
    {msg::diff_kind_title, "intitulé", "العنوان", "title"},
    {msg::diff_kind_citation, "source", "المرجع", "citation"},
    {msg::diff_kind_confidence, "fiabilité", "درجة الموثوقية", "confidence"},
    {msg::diff_kind_period, "période d'application", "فترة السريان", "period in force"},
    {msg::diff_kind_schema, "schéma", "البنية", "schema"},
    {msg::doc_fixed, "fixe : ne change pas, jamais déplacé par « dalil whatif »",
     "ثابت: لا يتغير، ولا يقترح " LRI "dalil whatif" PDI " تغييره",
     "fixed: does not change, never moved by `dalil whatif`"},
    {msg::whatif_heading, "Que faudrait-il pour que « {decision} » soit {goal} au {date} ?",
     "ما الذي يلزم ليكون « {decision} » {goal} في {date}؟",
     "What would make “{decision}” {goal} as of {date}?"},
    {msg::whatif_current, "Décision actuelle : {value}", "القرار الحالي: {value}",
     "Current decision: {value}"},
    {msg::whatif_already, "La décision atteint déjà ce résultat.",
     "القرار يبلغ هذه النتيجة بالفعل.", "The decision already reaches this outcome."},
    {msg::whatif_alternative, "Possibilité {n} (vérifiée par l'évaluateur) :",
     "الإمكانية {n} (تحقق منها المقيّم):", "Alternative {n} (checked by the evaluator):"},
    {msg::whatif_change, "{fact} : {from} → {to}", "{fact}: {from} ← {to}",
     "{fact}: {from} → {to}"},
    {msg::whatif_at_least, "au moins {value}", "على الأقل {value}", "at least {value}"},
    {msg::whatif_above, "plus de {value}", "أكثر من {value}", "above {value}"},
    {msg::whatif_at_most, "au plus {value}", "على الأكثر {value}", "at most {value}"},
    {msg::whatif_below, "moins de {value}", "أقل من {value}", "below {value}"},
    {msg::whatif_between, "{low} et {high}", "{low} و{high}", "{low} and {high}"},
    {msg::whatif_time,
     "Sans changer aucun fait : à partir du {date}, quand les durées requises sont atteintes",
     "دون تغيير أي معطى: ابتداء من {date}، عند بلوغ المدد المطلوبة",
     "With no fact changed: from {date}, when the required periods are reached"},
    {msg::whatif_none, "Aucune possibilité trouvée en changeant les faits modifiables.",
     "لم يتم العثور على أي إمكانية بتغيير المعطيات القابلة للتغيير.",
     "No alternative found by changing the facts that can change."},
    {msg::whatif_fixed, "Faits fixes, jamais modifiés : {facts}",
     "معطيات ثابتة لا تُغيَّر أبدا: {facts}", "Fixed facts, never changed: {facts}"},
    {msg::whatif_ask_heading, "La décision est indéterminée. À demander d'abord :",
     "القرار غير محسوم. يُطلب أولا:", "The decision is undetermined. Ask first:"},
    {msg::whatif_ask_settles,
     "pour obtenir {value} :", "للحصول على {value}:", "to settle it as {value}:"},
    {msg::whatif_gap,
     "Attention : une partie des règles n'est pas encodée ({detail}) ; les possibilités montrées "
     "sont vérifiées, mais d'autres peuvent exister.",
     "تنبيه: جزء من القواعد غير مرمَّز ({detail})؛ الإمكانيات المعروضة متحقق منها، لكن قد توجد "
     "غيرها.",
     "Note: part of the rules is not encoded ({detail}); the alternatives shown are checked, but "
     "others may exist."},
    {msg::whatif_solver, "Le solveur s'est arrêté ({detail}) : la recherche est incomplète.",
     "توقف الحلّال ({detail}): البحث غير مكتمل.",
     "The solver stopped ({detail}): the search is incomplete."},
    {msg::whatif_unconfirmed,
     "{count} possibilité(s) du solveur non confirmée(s) par l'évaluateur, écartée(s).",
     "{count} إمكانية من الحلّال لم يؤكدها المقيّم، فاستُبعدت.",
     "{count} solver alternative(s) not confirmed by the evaluator, left out."},
    {msg::whatif_fact, "{title} ({path})", "{title} (" LRI "{path}" PDI ")", "{title} ({path})"},
    {msg::whatif_present, "renseigné", "مُدلى به", "provided"},
    {msg::whatif_one_of, "l'un de : {values}", "أحد ما يلي: {values}", "one of: {values}"},
    // dalil diff: the packs' names by their titles, the details of a change, the witness.
    {msg::diff_kind_field, "champ du dossier", "حقل الملف", "record field"},
    {msg::diff_kind_enum, "liste de valeurs", "قائمة القيم", "list of values"},
    {msg::diff_named, "« {title} » ({name})", "«{title}» (" LRI "{name}" PDI ")",
     "“{title}” ({name})"},
    {msg::diff_exception_name, "{exception} de {rule}", "{exception} في {rule}",
     "{exception} of {rule}"},
    {msg::diff_detail_value, "valeur datée", "القيمة المؤرخة", "dated value"},
    {msg::diff_detail_type, "type", "النوع", "type"},
    {msg::diff_detail_formula, "formule", "الصيغة", "formula"},
    {msg::diff_detail_table, "tableau n° {n}", "الجدول رقم {n}", "table {n}"},
    {msg::diff_detail_condition, "condition", "الشرط", "condition"},
    {msg::diff_detail_exception_value, "valeur", "القيمة", "value"},
    {msg::diff_detail_otherwise, "valeur hors période d'application", "القيمة خارج فترة السريان",
     "value outside the period in force"},
    {msg::diff_detail_program, "programme", "البرنامج", "program"},
    {msg::diff_detail_osp, "objectif spécifique (OSP)", "الهدف الخاص", "specific objective (OSP)"},
    {msg::diff_detail_cases, "valeurs possibles", "القيم الممكنة", "possible values"},
    {msg::diff_period_always, "sans période propre", "بدون فترة سريان خاصة",
     "no period of its own"},
    {msg::diff_type_boolean, "oui ou non", "نعم أو لا", "yes or no"},
    {msg::diff_type_integer, "nombre entier", "عدد صحيح", "whole number"},
    {msg::diff_type_decimal, "nombre décimal", "عدد عشري", "decimal number"},
    {msg::diff_type_money, "montant", "مبلغ", "amount"},
    {msg::diff_type_date, "date", "تاريخ", "date"},
    {msg::diff_type_duration, "durée", "مدة", "duration"},
    {msg::diff_type_text, "texte", "نص", "text"},
    {msg::diff_type_enum, "valeur de la liste {name}", "قيمة من القائمة {name}",
     "value of the list {name}"},
    {msg::diff_type_list, "liste ({type})", "قائمة ({type})", "list ({type})"},
    {msg::diff_type_record, "ensemble de renseignements {name}", "مجموعة المعطيات {name}",
     "set of information {name}"},
    {msg::diff_type_optional, "{type}, ou néant", "{type} أو لا شيء", "{type}, or none"},
    {msg::diff_witness_at, "exemple vérifié, au {date} :", "مثال تم التحقق منه، بتاريخ {date}:",
     "checked example, as of {date}:"},
    {msg::diff_witness_fact, "{fact} : {value}", "{fact}: {value}", "{fact}: {value}"},
    {msg::diff_witness_empty, "dossier sans aucun renseignement", "ملف بدون أي معطى",
     "a record with no information"},
    {msg::diff_witness_implausible,
     "aucun exemple vraisemblable n'a été trouvé : les valeurs ci-dessous sont celles du solveur",
     "لم يُعثر على مثال واقعي: القيم أدناه هي التي اقترحها المحلل",
     "no plausible example was found: the values below are the solver's"},
    {msg::diff_gap_list_fact, "le renseignement {fact} est une liste, que le solveur ne lit pas",
     "المعطى {fact} قائمة لا يقرؤها المحلل",
     "the information {fact} is a list, which the solver "
     "does not read"},
    {msg::diff_gap_field_type, "le champ {fact} n'a pas le même type dans les deux versions",
     "الحقل {fact} ليس له النوع نفسه في الصيغتين",
     "the field {fact} does not have the same type in the two versions"},
    {msg::diff_gap_list_op, "une liste ou une condition portant sur les éléments d'une liste",
     "قائمة أو شرط يتعلق بعناصر قائمة", "a list or a condition over the items of a list"},
    {msg::diff_gap_duration, "un calcul sur des durées", "عملية حسابية على المدد",
     "a computation on durations"},
    {msg::diff_gap_date_arith, "un calcul sur une date", "عملية حسابية على تاريخ",
     "a computation on a date"},
    {msg::diff_gap_big_table, "un tableau de plus de 64 lignes", "جدول يتجاوز 64 سطرا",
     "a table of more than 64 rows"},
    {msg::diff_gap_division, "une division entière", "قسمة صحيحة", "a whole-number division"},
    {msg::diff_gap_dates, "une date d'évaluation avant le {from} ou après le {until}",
     "تاريخ تقييم قبل {from} أو بعد {until}", "an as-of date before {from} or after {until}"},
    {msg::diff_gap_refused, "le solveur a refusé la traduction des règles",
     "رفض المحلل ترجمة القواعد", "the solver refused the rules' translation"},
    {msg::diff_gap_other, "une opération que le solveur ne traduit pas", "عملية لا يترجمها المحلل",
     "an operation the solver does not translate"},
    {msg::diff_solver_timeout, "délai écoulé, pour les dates du {from} au {until}",
     "انقضت المهلة، بالنسبة للتواريخ من {from} إلى {until}",
     "time limit reached, for the dates from {from} to {until}"},
    {msg::diff_solver_other, "sans réponse, pour les dates du {from} au {until}",
     "بدون جواب، بالنسبة للتواريخ من {from} إلى {until}",
     "no answer, for the dates from {from} to {until}"},
    {msg::diff_unconfirmed_refused, "la lecture du dossier refuse l'exemple (champ {fact})",
     "رفضت قراءة الملف المثال (الحقل {fact})",
     "the record reader refuses the example (field "
     "{fact})"},
    {msg::diff_unconfirmed_same, "l'évaluateur donne le même résultat aux deux versions",
     "يعطي المقيّم النتيجة نفسها للصيغتين", "the evaluator gives both versions the same outcome"},
    {msg::diff_unconfirmed_decimals,
     "la seule différence trouvée demande un nombre décimal sans fin",
     "الفرق الوحيد الذي عُثر عليه يتطلب عددا عشريا غير منته",
     "the only difference found needs a decimal with no end"},
    {msg::diff_changed_plain, "modifié : {kind} {name}", "عُدّل: {kind} {name}",
     "changed: {kind} {name}"},
    {msg::diff_unconfirmed_refused_record, "la lecture du dossier refuse l'exemple",
     "رفضت قراءة الملف المثال", "the record reader refuses the example"},
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

void append_substitute(std::string& out, std::string_view text, arguments args) {
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
}

std::string substitute(std::string_view text, arguments args) {
  std::string out;
  out.reserve(text.size() + 32);
  append_substitute(out, text, args);
  return out;
}

std::string catalogue::format(msg m, lang l, arguments args) const {
  return substitute(text(m, l), args);
}

void catalogue::append_format(std::string& out, msg m, lang l, arguments args) const {
  append_substitute(out, text(m, l), args);
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
