// The language for officials: documents, titles, proofs, value constraints, periods in force
// with their value outside, reasons per language and exceptions' explanations, read into the
// checked program; each misuse with its code; the warnings only in a pack with documents; and
// `dalil fmt` keeping each construct (fixed point, same diagnostics, same hash).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "dsl/checker.hpp"
#include "dsl/formatter.hpp"
#include "dsl/parser.hpp"
#include "tests/support/fmt_property.hpp"

using namespace dalil;
using namespace dalil::dsl;

namespace {

struct result {
  source_map sources;
  diagnostics diags;
  std::vector<ast::module> modules;
  std::optional<program> prog;
  std::string rendered() const { return render_all(sources, diags); }
};

std::unique_ptr<result> check_text(const std::string& text) {
  auto r = std::make_unique<result>();
  file_id f = r->sources.add("t.dalil", text);
  auto m = parse(r->sources, f, r->diags);
  if (m) r->modules.push_back(std::move(*m));
  r->prog = check(r->sources, r->modules, r->diags);
  return r;
}

std::vector<std::string> codes(const diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& x : d.all()) out.push_back(x.code);
  return out;
}

std::string slurp(const std::string& relative) {
  std::ifstream in(std::string(DALIL_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string head = R"(module m
  title fr "t" ar "t" en "t"
)";

const std::string schema = R"(
document id_card title fr "carte" ar "بطاقة" en "card"
enum Status { regular title fr "régulier" ar "نظامي" en "regular", refugee }
record Spouse { nationality : text title fr "n" ar "n" en "n"  since : date not_after as_of }
record Applicant {
  status : Status title fr "s" ar "s" en "s" proof id_card
  size : int title fr "s" ar "s" en "s" proof id_card at_least 1
  income : money title fr "i" ar "i" en "i" proof id_card at_least 0 MAD
  score : decimal title fr "c" ar "c" en "c" proof id_card at_least 0 at_most 100
  spouse : Spouse? title fr "c" ar "c" en "c" proof id_card
  birth : date title fr "b" ar "b" en "b" proof id_card not_after as_of
  name : text title fr "b" ar "b" en "b" proof id_card
}
input applicant : Applicant
)";

std::string rule(const std::string& name, const std::string& type, const std::string& clauses,
                 const std::string& body) {
  return "rule " + name + " : " + type + "\n  source \"s\"\n" + clauses + "  = " + body + "\n";
}

}  // namespace

TEST_CASE("labels: the format golden fills every new field of the program", "[dsl][labels]") {
  auto r = check_text(slurp("tests/golden/format/35_documents_and_labels.dalil"));
  INFO(r->rendered());
  REQUIRE(r->prog);
  CHECK(r->diags.all().empty());
  const program& p = *r->prog;
  REQUIRE(p.documents.size() == 2);
  CHECK(p.documents[0].name == "marriage_certificate");
  CHECK(p.documents[0].title.at("fr") == "acte de mariage");
  CHECK(p.documents[0].title.at("ar") == "عقد الزواج");
  CHECK(p.documents[0].title.at("en") == "marriage certificate");
  const enum_info& status = p.enums[0];
  REQUIRE(status.case_titles.size() == status.cases.size());
  CHECK(status.case_titles[0].at("en") == "regular resident");
  CHECK(status.case_titles[1].at("fr") == "réfugié");
  CHECK(status.case_titles[2].empty());
  auto fact = [&](const std::string& path) -> const fact_info& {
    for (const fact_info& f : p.facts) {
      if (f.path == path) return f;
    }
    FAIL("no fact " << path);
    return p.facts.front();
  };
  const fact_info& size = fact("size");
  CHECK(size.title.at("en") == "household size");
  CHECK(p.documents[size.proof].name == "household_certificate");
  CHECK(*size.constraint.at_least == rational{1, 1});
  CHECK_FALSE(size.constraint.at_most);
  const fact_info& income = fact("income");
  CHECK(*income.constraint.at_least == rational{0, 1});
  // A field without proof takes the document of the field that holds it.
  const fact_info& nationality = fact("spouse.nationality");
  CHECK(nationality.title.at("fr") == "nationalité");
  CHECK(p.documents[nationality.proof].name == "marriage_certificate");
  const fact_info& married = fact("spouse.married_since");
  CHECK(married.constraint.not_after_as_of);
  auto rule_named = [&](const std::string& name) -> const rule_info& {
    return p.rules[*p.find_rule("labels." + name)];
  };
  const rule_info& ramed = rule_named("ramed");
  CHECK(ramed.title.at("en") == "RAMED (medical assistance scheme)");
  CHECK(ramed.period.at("en") == "RAMED was open from {from} to {until}.");
  REQUIRE(ramed.outside != no_index);
  const expression& outside = p.expressions[ramed.outside];
  CHECK(outside.o == op::constant);
  CHECK(std::get<enum_value>(outside.value) == enum_value{1, 2});
  REQUIRE(ramed.exceptions.size() == 1);
  CHECK(ramed.exceptions[0].explain.at("fr") == "critères assouplis");
  const expression& vit = p.expressions[rule_named("vit").body];
  CHECK(vit.o == op::not_encoded);
  CHECK(vit.reason.at("fr") == "plafond non sourcé");
  CHECK(vit.reason.at("ar") == "غير موثق");
  CHECK(std::get<std::string>(vit.value) == "ceiling not sourced");
  const rule_info& school = rule_named("school_access");
  REQUIRE(school.outside != no_index);
  CHECK(p.expressions[school.outside].o == op::not_encoded);
  CHECK(p.expressions[school.outside].reason.at("en") == "not encoded before that date");
  CHECK(school.period.empty());
  // The one-text form serves every language.
  const expression& old = p.expressions[rule_named("old").body];
  CHECK(std::get<std::string>(old.value) == "old form");
  CHECK(old.reason.at("fr") == "old form");
  CHECK(old.reason.at("ar") == "old form");
  CHECK(old.reason.at("en") == "old form");
  // A rule in force without `otherwise` keeps the old meaning.
  CHECK(rule_named("vit").outside == no_index);
}

TEST_CASE("labels: each misuse has its code", "[dsl][labels]") {
  struct bad {
    const char* what;
    std::string text;
    std::vector<std::string> codes;
  };
  const std::string base = head + schema;
  const std::string ok_rule = rule("r", "bool", "", "applicant.size > 1");
  std::vector<bad> cases = {
      {"proof of no document",
       head + "record A { x : int proof nothing }\ninput applicant : A\n",
       {"E1001"}},
      {"document declared twice",
       base + "document id_card title fr \"a\" ar \"b\" en \"c\"\n" + ok_rule,
       {"E0103"}},
      {"money bound on an int field", head + "record A { x : int at_least 0 MAD }\n", {"E1002"}},
      {"decimal bound on an int field", head + "record A { x : int at_most 1.5 }\n", {"E1002"}},
      {"number bound on a money field", head + "record A { x : money at_least 0 }\n", {"E1002"}},
      {"date bound on a decimal field",
       head + "record A { x : decimal at_least 2020-01-01 }\n",
       {"E1002"}},
      {"at_least on a date", head + "record A { x : date at_least 1 }\n", {"E1003"}},
      {"at_most on a text", head + "record A { x : text at_most 1 }\n", {"E1003"}},
      {"not_after on an int", head + "record A { x : int not_after as_of }\n", {"E1003"}},
      {"not_after on a record",
       head + "record B { y : int }\nrecord A { x : B not_after as_of }\n",
       {"E1003"}},
      {"at_least above at_most", head + "record A { x : int at_least 5 at_most 4 }\n", {"E1004"}},
      {"at_least twice", head + "record A { x : int at_least 5 at_least 4 }\n", {"E0403"}},
      {"proof twice", base + "record A { x : int proof id_card proof id_card }\n", {"E0403"}},
      {"period without in_force",
       base + rule("r", "bool", "  period en \"from {from}\"\n", "true"),
       {"E0504"}},
      {"unknown placeholder in period",
       base + rule("r", "bool",
                   "  in_force from 2015-01-01 otherwise false\n"
                   "  period en \"since {start}\" fr \"depuis\" ar \"منذ\"\n",
                   "true"),
       {"E0801"}},
      {"{until} without an until date",
       base + rule("r", "bool",
                   "  in_force from 2015-01-01\n"
                   "  period fr \"jusqu'au {until}\" ar \"x\" en \"y\"\n",
                   "true"),
       {"E0801"}},
      {"otherwise of the wrong type",
       base + rule("r", "bool", "  in_force from 2015-01-01 otherwise 0 MAD\n", "true"),
       {"E0305"}},
      {"otherwise reads a fact",
       base +
           rule("r", "bool", "  in_force from 2015-01-01 otherwise applicant.size > 1\n", "true"),
       {"E0505"}},
      {"otherwise reads a rule",
       base + ok_rule + rule("q", "bool", "  in_force from 2015-01-01 otherwise r\n", "true"),
       {"E0505"}},
      {"title in German", base + "record A { x : int title de \"Zahl\" }\n", {"E0802"}},
      {"case title with fr twice",
       head + "enum E { a title fr \"x\" fr \"y\" ar \"z\" en \"w\", b }\n",
       {"E0403"}},
      {"not_encoded in an unknown language",
       base + rule("r", "bool", "", "not_encoded fr \"a\" ar \"b\" es \"c\" en \"d\""),
       {"E0802"}},
      {"not_encoded with en twice",
       base + rule("r", "bool", "", "not_encoded fr \"a\" ar \"b\" en \"c\" en \"d\""),
       {"E0403"}},
      {"title on a parameter",
       base + "parameter p : int\n  source \"s\"\n  title en \"x\"\n  from 2015-01-01 = 1\n",
       {"E0001"}},
      {"explain with bad placeholder on an exception",
       base + "rule r : bool\n  source \"s\"\n  = false\n  exception x\n    source \"s\"\n"
              "    explain fr \"{nothing}\" ar \"b\" en \"c\"\n    when true\n    = true\n",
       {"E0801"}},
  };
  for (const bad& c : cases) {
    INFO(c.what << "\n" << c.text);
    auto r = check_text(c.text);
    INFO(r->rendered());
    CHECK(codes(r->diags) == c.codes);
  }
}

TEST_CASE("labels: warnings name what an official would miss, in a pack with documents only",
          "[dsl][labels]") {
  const std::string plain_schema = R"(
record Spouse { nationality : text }
record Applicant { size : int  spouse : Spouse? }
input applicant : Applicant
)";
  const std::string rules =
      rule("r", "bool", "  explain fr \"{value}\" ar \"{value}\" en \"{value}\"\n",
           "applicant.size > 1 and applicant.spouse.nationality == \"MA\"");
  SECTION("an old pack: no document, no warning") {
    auto r = check_text(head + plain_schema + rules);
    INFO(r->rendered());
    CHECK(r->diags.all().empty());
  }
  SECTION("with a document: the decision, each field's title and document") {
    auto r =
        check_text(head + "document d title fr \"d\" ar \"d\" en \"d\"\n" + plain_schema + rules);
    INFO(r->rendered());
    CHECK(r->prog);
    std::vector<std::string> got = codes(r->diags);
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<std::string>{"E0405", "E0406", "E0406", "E0407", "E0407"});
  }
  SECTION("a proof on the holding field serves the fields inside it") {
    auto r = check_text(head + "document d title fr \"d\" ar \"d\" en \"d\"\n" + R"(
record Spouse { nationality : text title fr "n" ar "n" en "n" }
record Applicant {
  size : int title fr "s" ar "s" en "s" proof d
  spouse : Spouse? title fr "c" ar "c" en "c" proof d
}
input applicant : Applicant
)" +
                        rule("r", "bool",
                             "  title fr \"r\" ar \"r\" en \"r\"\n  explain en \"{value}\"\n",
                             "applicant.size > 1 and applicant.spouse.nationality == \"MA\""));
    INFO(r->rendered());
    CHECK(r->diags.all().empty());
  }
  SECTION("a title without every language") {
    auto r = check_text(head + "document d title fr \"d\" en \"d\"\n");
    INFO(r->rendered());
    CHECK(codes(r->diags) == std::vector<std::string>{"E0404"});
  }
}

TEST_CASE("labels: syntax errors name what was expected", "[dsl][labels]") {
  struct bad {
    const char* what;
    std::string text;
    const char* message;
  };
  std::vector<bad> cases = {
      {"document without title", head + "document d\nenum E { a }\n", "expected 'title'"},
      {"proof without a document", head + "record A { x : int proof }\n",
       "expected document name, found '}'"},
      {"at_least without a bound", head + "record A { x : int at_least }\n",
       "expected number or amount"},
      {"not_after without as_of", head + "record A { x : date not_after today }\n",
       "expected 'as_of', found 'today'"},
      {"otherwise without a value",
       head + "rule r : bool\n  source \"s\"\n  in_force from 2015-01-01 otherwise\n  = true\n",
       "expected expression, found '='"},
      {"not_encoded without a reason", head + "rule r : bool\n  source \"s\"\n  = not_encoded\n",
       "expected reason"},
      {"title without a text", head + "document d title\nenum E { a }\n",
       "expected a language and a text"},
      {"a title's last language without its text",
       head + "document d title fr \"a\" ar \"b\" en\nenum E { a }\n",
       "expected text in double quotes, found 'enum'"},
      {"a reason's last language without its text",
       head + "rule r : bool\n  source \"s\"\n  = not_encoded fr \"a\" en\n",
       "expected text in double quotes, found end of file"},
  };
  for (const bad& c : cases) {
    INFO(c.what << "\n" << c.text);
    auto r = check_text(c.text);
    INFO(r->rendered());
    REQUIRE_FALSE(r->diags.all().empty());
    CHECK(r->diags.all().front().code == "E0001");
    CHECK_THAT(r->diags.all().front().message, Catch::Matchers::Contains(c.message));
  }
}

TEST_CASE("labels: a field named like a language follows a title", "[dsl][labels]") {
  auto r = check_text(head +
                      "record A {\n  x : int title fr \"a\" ar \"b\" en \"c\"\n  en : text\n"
                      "  fr : int title en \"d\" fr \"e\" ar \"f\"\n}\n");
  INFO(r->rendered());
  REQUIRE(r->prog);
  CHECK(r->prog->records[0].fields.size() == 3);
  CHECK(r->prog->records[0].fields[2].title.at("fr") == "e");
}

TEST_CASE("labels: fmt keeps each construct, across layouts", "[dsl][labels][fmt]") {
  const std::vector<std::string> sources = {
      head + schema,
      head + "document d title en \"x\"   title fr \"y\"\n",
      head + "enum E {\n  a title fr \"x\" # comment\n  ar \"y\" en \"z\", b, c title en \"w\" }\n",
      head +
          "record A {\n  x : int # count\n    at_most 5 at_least -3, y : money at_least -1.50   "
          "MAD\n}\n",
      head + schema +
          rule("r", "bool",
               "  in_force from 2015-01-01 until 2016-01-01 otherwise not_encoded fr \"a\"\n"
               "    # why\n    ar \"b\" en \"c\"\n  period fr \"{from} {until}\" en \"x\"\n",
               "not_encoded en \"a very long reason that goes on and on\" fr \"une raison très "
               "longue qui continue encore et encore\" ar \"سبب\""),
      head + schema +
          rule("r", "Status", "  in_force until 2016-01-01 otherwise Status.refugee\n", "regular"),
      head + schema +
          "rule r : bool\n  source \"s\"\n  = false\n  exception x\n    explain en \"e\" fr \"f\""
          "\n    source \"s\"\n    when true\n    = table first | true => not_encoded fr \"a\" en "
          "\"b\"\n | otherwise => false\n",
  };
  for (const std::string& s : sources) {
    INFO(s);
    auto violation = testing::fmt_property_violation(s);
    CHECK_FALSE(violation.has_value());
    if (violation) INFO(*violation);
    auto r = check_text(s);
    INFO(r->rendered());
    CHECK_FALSE(r->diags.has_errors());
  }
}

TEST_CASE("labels: a filter's value is checked against its field's type", "[dsl][labels]") {
  auto r = check_text(R"(module m
enum Status { regular, refugee }
record Spouse { nationality : text  since : date }
record Applicant {
  status : Status
  married : bool
  size : int
  income : money
  score : decimal
  spouse : Spouse?
  name : text
}
input applicant : Applicant
)");
  INFO(r->rendered());
  REQUIRE(r->prog);
  const program& p = *r->prog;
  // The reason, "" when `value` filters `path`; `value` as the stores then compare it.
  auto why = [&](std::string_view path, std::string& value) {
    const field_info* f = field_at(p, path);
    REQUIRE(f != nullptr);
    return filter_value_refusal(p, *f, path, value);
  };
  auto as = [&](std::string_view path, std::string value) {
    CHECK(why(path, value).empty());
    return value;
  };
  auto refused = [&](std::string_view path, std::string value) {
    std::string reason = why(path, value);
    CHECK_FALSE(reason.empty());
    if (!value.empty()) CHECK(reason.find(value) == std::string::npos);  // never the value
    return reason;
  };
  CHECK(as("status", "refugee") == "refugee");
  CHECK(refused("status", "refugees") == "not one of its cases (regular, refugee)");
  CHECK(refused("status", "Refugee") == "not one of its cases (regular, refugee)");
  CHECK(as("married", "true") == "1");
  CHECK(as("married", "1") == "1");
  CHECK(as("married", "false") == "0");
  CHECK(as("married", "0") == "0");
  CHECK(refused("married", "yes") == "takes true or false");
  CHECK(refused("married", "TRUE") == "takes true or false");
  CHECK(as("size", "3") == "3");
  CHECK(as("size", "007") == "7");
  CHECK(as("size", "-2") == "-2");
  for (const char* bad : {"3.0", "three", "", "-", "+3", "99999999999999999999", " 3"}) {
    CHECK(refused("size", bad) == "takes a whole number");
  }
  CHECK(as("income", "1200.50") == "1200.50");
  CHECK(as("income", "1200") == "1200");
  CHECK(as("income", "0.5") == "0.5");
  for (const char* bad : {"1,5", "1.", ".75", "1e3", "12 00", "abc", "012.5", "007", "-07.5"}) {
    CHECK(refused("income", bad).find("takes a number") == 0);
  }
  CHECK(as("score", "-0.25") == "-0.25");
  CHECK(as("spouse.since", "2016-02-29") == "2016-02-29");
  for (const char* bad : {"2017-02-29", "2016-13-01", "01/02/2016", "2016-2-1"}) {
    CHECK(refused("spouse.since", bad) == "takes a date (YYYY-MM-DD)");
  }
  CHECK(refused("spouse", "x") ==
        "is a group of fields: name one of them (such as spouse.nationality)");
  CHECK(as("name", "").empty());
  CHECK(as("spouse.nationality", "SN") == "SN");
}
