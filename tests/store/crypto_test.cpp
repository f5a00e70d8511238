// Encryption at rest (store/crypto.hpp): key files and their permissions, the environment key,
// wrapping data keys bound to their applicant and generation, sealing bound to a row, lookup
// hashes; and (hidden, [.crypto_cost]) the cost per record of opening a cohort.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "engine/sha256.hpp"
#include "store/batch.hpp"
#include "store/chain.hpp"
#include "store/counter_store.hpp"
#include "store/crypto.hpp"
#include "store/entry_format.hpp"
#include "store/sealing.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/support/packs.hpp"

using namespace dalil::store;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    path = fs::temp_directory_path() /
           ("dalil-crypto-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
    fs::create_directories(path);
  }
  ~temp_dir() { fs::remove_all(path); }
  std::string file(const char* name) const { return (path / name).string(); }
};

/// Sets (or unsets, with nullptr) the environment key for one scope.
struct env_key {
  explicit env_key(const char* value) {
    if (value != nullptr) {
      ::setenv(crypto::master_key_variable, value, 1);
    } else {
      ::unsetenv(crypto::master_key_variable);
    }
  }
  ~env_key() { ::unsetenv(crypto::master_key_variable); }
};

crypto::master_key key_from(const std::string& file) {
  auto k = crypto::load_master_key(file);
  INFO((k ? std::string() : k.error().message));
  REQUIRE(k.has_value());
  return *k;
}

}  // namespace

TEST_CASE("a key file is created once, 0600, and read back as the same key", "[crypto]") {
  temp_dir dir;
  std::string f = dir.file("master.key");
  REQUIRE(crypto::create_key_file(f).has_value());
  struct stat st {};
  REQUIRE(::stat(f.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto a = key_from(f);
  auto b = key_from(f);
  CHECK(crypto::key_check(a) == crypto::key_check(b));
  CHECK(crypto::key_check(a).size() == 32);
  // Never overwritten.
  auto again = crypto::create_key_file(f);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == errc::refused);
  CHECK(crypto::key_check(key_from(f)) == crypto::key_check(a));
  // Another file, another key.
  std::string g = dir.file("other.key");
  REQUIRE(crypto::create_key_file(g).has_value());
  CHECK(crypto::key_check(key_from(g)) != crypto::key_check(a));
}

TEST_CASE("a key file others may read is refused, naming the file and its mode", "[crypto]") {
  temp_dir dir;
  std::string f = dir.file("master.key");
  REQUIRE(crypto::create_key_file(f).has_value());
  for (mode_t mode : {0640, 0604, 0644, 0660}) {
    REQUIRE(::chmod(f.c_str(), mode) == 0);
    auto k = crypto::load_master_key(f);
    REQUIRE_FALSE(k.has_value());
    CHECK(k.error().code == errc::refused);
    CHECK_THAT(k.error().message, Catch::Contains(f) && Catch::Contains("chmod 600"));
  }
  REQUIRE(::chmod(f.c_str(), 0400) == 0);
  CHECK(crypto::load_master_key(f).has_value());
  // A directory, a missing file, a malformed key.
  auto d = crypto::load_master_key(dir.path.string());
  CHECK_FALSE(d.has_value());
  auto m = crypto::load_master_key(dir.file("missing.key"));
  REQUIRE_FALSE(m.has_value());
  CHECK(m.error().code == errc::failed);
  std::string bad = dir.file("bad.key");
  std::ofstream(bad) << "not a key\n";
  REQUIRE(::chmod(bad.c_str(), 0600) == 0);
  auto b = crypto::load_master_key(bad);
  REQUIRE_FALSE(b.has_value());
  CHECK(b.error().code == errc::failed);
  CHECK_THAT(b.error().message, !Catch::Contains("not a key"));  // never the file's content
}

TEST_CASE("the environment key serves when no key file is given", "[crypto]") {
  const char* hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  {
    env_key e(hex);
    auto k = crypto::load_master_key("");
    REQUIRE(k.has_value());
    temp_dir dir;
    std::string f = dir.file("same.key");
    std::ofstream(f) << hex << "\n";
    REQUIRE(::chmod(f.c_str(), 0600) == 0);
    CHECK(crypto::key_check(*k) == crypto::key_check(key_from(f)));
  }
  {
    env_key e("0011");
    auto k = crypto::load_master_key("");
    REQUIRE_FALSE(k.has_value());
    CHECK(k.error().code == errc::failed);
    CHECK_THAT(k.error().message, !Catch::Contains("0011"));
  }
  {
    env_key e(nullptr);
    auto k = crypto::load_master_key("");
    REQUIRE_FALSE(k.has_value());
    CHECK(k.error().code == errc::not_found);
  }
}

/// The ciphers a data key can have: both formats on every processor (format 2 through OpenSSL
/// where libsodium has no AES-256-GCM).
std::vector<crypto::cipher> ciphers_here() {
  return {crypto::cipher::aes256gcm, crypto::cipher::xchacha20poly1305};
}

/// Takes format 2 through OpenSSL while it lives, as on a processor without AES-NI.
struct portable_gcm {
  portable_gcm() { crypto::force_portable_gcm(true); }
  ~portable_gcm() { crypto::force_portable_gcm(false); }
  portable_gcm(const portable_gcm&) = delete;
  portable_gcm& operator=(const portable_gcm&) = delete;
};

TEST_CASE("a data key unwraps only for its applicant, generation and master key", "[crypto]") {
  const crypto::cipher alg = GENERATE(from_range(ciphers_here()));
  INFO("cipher " << static_cast<int>(alg));
  temp_dir dir;
  REQUIRE(crypto::create_key_file(dir.file("a.key")).has_value());
  REQUIRE(crypto::create_key_file(dir.file("b.key")).has_value());
  auto a = key_from(dir.file("a.key"));
  auto b = key_from(dir.file("b.key"));
  std::string who = crypto::lookup_hash(a, "SYN-000001");
  std::string other = crypto::lookup_hash(a, "SYN-000002");
  auto dk = crypto::new_data_key(alg);
  std::string w = crypto::wrap(a, dk, who, 1);
  CHECK(w.size() == (alg == crypto::cipher::aes256gcm ? 61U : 72U));
  auto back = crypto::unwrap(a, w, who, 1);
  REQUIRE(back.has_value());
  CHECK(*back == dk);
  CHECK(back->alg == alg);                  // the cipher is read back from the format
  CHECK(crypto::wrap(a, dk, who, 1) != w);  // a fresh nonce each time
  struct bad_case {
    const char* name;
    const crypto::master_key* key;
    std::string applicant;
    std::int64_t generation;
    bool flip;
  };
  for (const bad_case& c : {bad_case{"another applicant", &a, other, 1, false},
                            bad_case{"another generation", &a, who, 2, false},
                            bad_case{"another master key", &b, who, 1, false},
                            bad_case{"a changed byte", &a, who, 1, true}}) {
    INFO(c.name);
    std::string x = w;
    if (c.flip) x[30] = static_cast<char>(x[30] ^ 1);
    auto r = crypto::unwrap(*c.key, x, c.applicant, c.generation);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == errc::damaged);
  }
  CHECK_FALSE(crypto::unwrap(a, w.substr(1), who, 1).has_value());
}

TEST_CASE("a sealed record hides its values and opens only in its row", "[crypto]") {
  const crypto::cipher alg = GENERATE(from_range(ciphers_here()));
  INFO("cipher " << static_cast<int>(alg));
  auto dk = crypto::new_data_key(alg);
  std::string plain = R"({"id":"SYN-000042","birth_date":"1979-09-21","serious_illness":true})";
  std::string sealed;
  crypto::seal(dk, plain, "record:42:1", sealed);
  CHECK(sealed.size() ==
        plain.size() +
            (alg == crypto::cipher::aes256gcm ? crypto::seal_overhead_gcm : crypto::seal_overhead));
  // The same key bytes under the other cipher open nothing (a key has one cipher, and its
  // format is authenticated by the wrap, not taken from the blob).
  crypto::data_key other = dk;
  other.alg = alg == crypto::cipher::aes256gcm ? crypto::cipher::xchacha20poly1305
                                               : crypto::cipher::aes256gcm;
  std::string none;
  CHECK_FALSE(crypto::open(other, sealed, "record:42:1", none));
  CHECK(none.empty());
  CHECK(sealed.find("SYN-000042") == std::string::npos);
  CHECK(sealed.find("1979-09-21") == std::string::npos);
  std::string out;
  REQUIRE(crypto::open(dk, sealed, "record:42:1", out));
  CHECK(out == plain);
  CHECK_FALSE(crypto::open(dk, sealed, "record:43:1", out));  // moved to another row
  CHECK(out.empty());
  CHECK_FALSE(crypto::open(crypto::new_data_key(alg), sealed, "record:42:1", out));  // erased
  std::string flipped = sealed;
  flipped.back() = static_cast<char>(flipped.back() ^ 1);
  CHECK_FALSE(crypto::open(dk, flipped, "record:42:1", out));
  CHECK_FALSE(crypto::open(dk, sealed.substr(0, 10), "record:42:1", out));
  std::string twice;
  crypto::seal(dk, plain, "record:42:1", twice);
  CHECK(twice != sealed);  // a fresh nonce: equal records do not show as equal
  // Empty plaintexts seal and open too.
  crypto::seal(dk, "", "x", sealed);
  REQUIRE(crypto::open(dk, sealed, "x", out));
  CHECK(out.empty());
}

TEST_CASE("a review's plain projection keeps each decision's rule and outcome only", "[crypto]") {
  struct projection_case {
    const char* name;
    std::string decisions;
    bool ok;
    std::string plain;
  };
  const projection_case cases[] = {
      {"the server's form",
       R"([{"rule":"a.b","outcome":"overridden","value":true,"reason":"Raison-7Q3","documents":["d1","d2"]},{"rule":"c.d","outcome":"accepted"}])",
       true, R"([{"rule":"a.b","outcome":"overridden"},{"rule":"c.d","outcome":"accepted"}])"},
      {"members in another order, spaces, escapes, nested values",
       R"( [ { "reason" : "x \"y\" \\ }]", "value" : {"k":[1,-2.5e3,null,false]}, "outcome" : "accepted", "rule" : "r\u00e9" } ] )",
       true, R"([{"rule":"r\u00e9","outcome":"accepted"}])"},
      {"an empty review", "[]", true, "[]"},
      {"no outcome", R"([{"rule":"a.b","reason":"x"}])", false, ""},
      {"no rule", R"([{"outcome":"accepted"}])", false, ""},
      {"a rule twice", R"([{"rule":"a","rule":"b","outcome":"accepted"}])", false, ""},
      {"a rule that is not a string", R"([{"rule":1,"outcome":"accepted"}])", false, ""},
      {"not an array", R"({"rule":"a","outcome":"accepted"})", false, ""},
      {"an item not an object", R"(["a"])", false, ""},
      {"trailing bytes", R"([{"rule":"a","outcome":"accepted"}]x)", false, ""},
      {"cut short", R"([{"rule":"a","outcome":"accepted")", false, ""},
      {"an unterminated string", R"([{"rule":"a\)", false, ""},
      {"a raw control character", "[{\"rule\":\"a\nb\",\"outcome\":\"accepted\"}]", false, ""},
  };
  for (const projection_case& c : cases) {
    INFO(c.name);
    std::string out;
    CHECK(sealing::review_projection(c.decisions, out) == c.ok);
    if (c.ok) CHECK(out == c.plain);
  }
}

TEST_CASE("a sealed review opens only in its row, and reads erased once its key is destroyed",
          "[crypto]") {
  const crypto::cipher alg = GENERATE(from_range(ciphers_here()));
  INFO("cipher " << static_cast<int>(alg));
  temp_dir dir;
  REQUIRE(crypto::create_key_file(dir.file("a.key")).has_value());
  auto key = key_from(dir.file("a.key"));
  auto dk = crypto::new_data_key(alg);
  const std::string wrapped = crypto::wrap(key, dk, "p0000000007", 1);
  const std::string decisions =
      R"([{"rule":"a.b","outcome":"overridden","value":true,"reason":"Raison-Unique-7Q3"}])";
  const std::string observations = "Observation-Privee ملاحظة سرية";
  std::string sealed;
  sealing::seal_review(dk, "p0000000007", "r1", decisions, observations, sealed);
  CHECK(sealed.find("Raison-Unique-7Q3") == std::string::npos);
  CHECK(sealed.find("Observation-Privee") == std::string::npos);
  auto stored = [] {
    review r;
    r.review_id = "r1";
    r.decisions = R"([{"rule":"a.b","outcome":"overridden"}])";
    return r;
  };
  {  // with the key: what the official and the applicant wrote
    review r = stored();
    REQUIRE(
        sealing::open_review(&key, "p0000000007", sealed, true, false, wrapped, 1, r).has_value());
    CHECK(r.sealed);
    CHECK_FALSE(r.erased);
    CHECK(r.decisions == decisions);
    CHECK(r.observations == observations);
  }
  {  // without it: as stored
    review r = stored();
    REQUIRE(sealing::open_review(nullptr, "p0000000007", sealed, true, false, wrapped, 1, r)
                .has_value());
    CHECK(r.decisions == stored().decisions);
    CHECK(r.observations.empty());
  }
  {  // erased: the key row's wrapped copy destroyed; the master key opens nothing
    review r = stored();
    REQUIRE(sealing::open_review(&key, "p0000000007", sealed, true, true, "", 1, r).has_value());
    CHECK(r.erased);
    CHECK(r.decisions == stored().decisions);
    CHECK(r.observations.empty());
  }
  struct bad_case {
    const char* name;
    std::string applicant;
    std::string review_id;
    std::string plain;
    bool has_row;
  };
  for (const bad_case& c : {
           bad_case{"moved to another review", "p0000000007", "r2", stored().decisions, true},
           bad_case{"moved to another applicant", "p0000000008", "r1", stored().decisions, true},
           bad_case{"an outcome changed in plain", "p0000000007", "r1",
                    R"([{"rule":"a.b","outcome":"accepted"}])", true},
           bad_case{"no data key row", "p0000000007", "r1", stored().decisions, false},
       }) {
    INFO(c.name);
    review r = stored();
    r.review_id = c.review_id;
    r.decisions = c.plain;
    auto st = sealing::open_review(&key, c.applicant, sealed, c.has_row, false,
                                   crypto::wrap(key, dk, c.applicant, 1), 1, r);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code == errc::damaged);
    CHECK(st.error().message.find("Raison") == std::string::npos);
  }
  // keys reseal: sealed again under a new key, the same row; the old key no longer opens it.
  auto next = crypto::new_data_key(crypto::cipher::aes256gcm);
  std::string again;
  REQUIRE(sealing::reseal_review(dk, next, "p0000000007", "r1", sealed, again));
  CHECK_FALSE(sealing::reseal_review(dk, next, "p0000000007", "r2", sealed, again));
  REQUIRE(sealing::reseal_review(dk, next, "p0000000007", "r1", sealed, again));
  review r = stored();
  REQUIRE(sealing::open_review(&key, "p0000000007", again, true, false,
                               crypto::wrap(key, next, "p0000000007", 1), 1, r)
              .has_value());
  CHECK(r.observations == observations);
  r = stored();
  CHECK_FALSE(
      sealing::open_review(&key, "p0000000007", again, true, false, wrapped, 1, r).has_value());
  // The digest of the sealed form covers the sealed bytes; verify tells the forms apart.
  const review row = stored();
  const std::string d = detail::review_details("r1", 1, review_digest(row, sealed), true);
  CHECK(review_vouched(d, row, std::string_view(sealed)));
  CHECK_FALSE(review_vouched(d, row, std::string_view(again)));
  CHECK_FALSE(review_vouched(d, row, std::nullopt));
  const std::string plain_entry = detail::review_details("r1", 1, review_digest(row), false);
  CHECK(review_vouched(plain_entry, row, std::nullopt));
  CHECK_FALSE(review_vouched(plain_entry, row, std::string_view(sealed)));
}

TEST_CASE(
    "format 2 is one AES-256-GCM on every processor: libsodium's and OpenSSL's open each "
    "other's keys and values",
    "[crypto]") {
  temp_dir dir;
  REQUIRE(crypto::create_key_file(dir.file("a.key")).has_value());
  auto a = key_from(dir.file("a.key"));
  const std::string who = crypto::lookup_hash(a, "SYN-000001");
  const std::string plain = R"({"id":"SYN-000001","birth_date":"1984-02-29"})";
  struct sealed_by {
    std::string wrapped;
    std::string sealed;
    crypto::data_key dk;
  };
  auto seal_one = [&] {
    sealed_by s{{}, {}, crypto::new_data_key(crypto::cipher::aes256gcm)};
    s.wrapped = crypto::wrap(a, s.dk, who, 3);
    crypto::seal(s.dk, plain, "record:1:1", s.sealed);
    return s;
  };
  auto opens = [&](const sealed_by& s) {
    auto dk = crypto::unwrap(a, s.wrapped, who, 3);
    if (!dk.has_value() || dk->alg != crypto::cipher::aes256gcm || !(*dk == s.dk)) return false;
    std::string out;
    return crypto::open(*dk, s.sealed, "record:1:1", out) && out == plain;
  };
  auto refuses_changes = [&](const sealed_by& s) {
    std::string bad_wrap = s.wrapped;
    bad_wrap[20] = static_cast<char>(bad_wrap[20] ^ 1);
    std::string bad_seal = s.sealed;
    bad_seal[bad_seal.size() / 2] = static_cast<char>(bad_seal[bad_seal.size() / 2] ^ 1);
    std::string out = "left";
    return !crypto::unwrap(a, bad_wrap, who, 3).has_value() &&
           !crypto::unwrap(a, s.wrapped, who, 4).has_value() &&
           !crypto::open(s.dk, bad_seal, "record:1:1", out) && out.empty() &&
           !crypto::open(s.dk, s.sealed, "record:1:2", out);
  };
  const sealed_by native = seal_one();  // libsodium's where the processor has AES-NI
  sealed_by portable;
  {
    portable_gcm p;
    CHECK(crypto::preferred_cipher() == crypto::cipher::xchacha20poly1305);  // new keys: format 1
    portable = seal_one();
    CHECK(portable.wrapped.size() == 61U);
    CHECK(portable.sealed.size() == plain.size() + crypto::seal_overhead_gcm);
    CHECK(opens(native));  // a store of format-2 keys read on a processor without AES-NI
    CHECK(opens(portable));
    CHECK(refuses_changes(native));
  }
  CHECK(opens(portable));  // and back on one with AES-NI
  CHECK(refuses_changes(portable));
}

TEST_CASE("an encrypted store's decisions keep what their rules' types mark, seal the rest",
          "[crypto]") {
  struct example {
    std::string compact;
    std::vector<std::uint8_t> mask;  // plain_value_mask: 1 for a flag or enumeration rule
    std::string plain;               // "": nothing to seal
  };
  const std::vector<example> examples = {
      {R"([["d",true,0,[]],["d","eligible",0,[]],["u",null,0,["household.size"]]])", {0, 1, 0}, ""},
      {R"([["d","2593693/1200",0,[]],["d",false,1,[],0]])",
       {0, 1},
       R"([["d","sealed",0,[]],["d",false,1,[],0]])"},
      {R"([["d",42,0,[]],["d","2017-06-01",0,[]],["d","a \"quoted\", text]",0,[]]])",
       {0, 0, 0},
       R"([["d","sealed",0,[]],["d","sealed",0,[]],["d","sealed",0,[]]])"},
      {R"([["d",["x","y"],0,[]],["d",{"a":[1,2]},0,["b"]],["d","refugee",0,[]]])",
       {0, 0, 1},
       R"([["d","sealed",0,[]],["d","sealed",0,["b"]],["d","refugee",0,[]]])"},
      // A text that looks like an enumeration's name is sealed: the rule's type decides.
      {R"([["d","abc_1",0,[]],["d","abc_1",0,[]]])",
       {0, 1},
       R"([["d","sealed",0,[]],["d","abc_1",0,[]]])"},
      {R"([["d","Eligible",0,[]]])", {0}, R"([["d","sealed",0,[]]])"},
      // Without a mask (no type known) every value but a flag or null is sealed.
      {R"([["d","eligible",0,[]],["u",null,0,["a"]],["d",false,0,[]]])",
       {},
       R"([["d","sealed",0,[]],["u",null,0,["a"]],["d",false,0,[]]])"},
      // A mask shorter than the set: the entries past it are sealed.
      {R"([["d","refugee",0,[]],["d","refugee",0,[]]])",
       {1},
       R"([["d","refugee",0,[]],["d","sealed",0,[]]])"},
      {R"([["u",null,0,["a"]],["d","sealed",0,[]],["d",7,0,[],0]])",
       {0, 1, 0},  // a case "sealed"
       R"([["u",null,0,["a"]],["d","sealed",0,[]],["d","sealed",0,[],0]])"},
      {R"({"error":{"field":"birth_date","message":"not a date"}})", {}, ""},
      {"[]", {}, ""},
      {"", {}, ""},
  };
  for (const auto& e : examples) {
    CAPTURE(e.compact);
    std::string out = "untouched";
    std::string values = "untouched";
    bool sealed = plain_decisions(e.compact, out, &values, e.mask);
    CHECK(sealed == !e.plain.empty());
    CHECK(out == (e.plain.empty() ? "untouched" : e.plain));
    if (!sealed) {
      CHECK(values == "untouched");
      continue;
    }
    // The values replaced put back give the whole set; not into another set.
    std::string whole;
    REQUIRE(whole_decisions(out, values, whole));
    CHECK(whole == e.compact);
    CHECK_FALSE(whole_decisions(R"([["d",true,0,[]]])", values, whole));
    CHECK_FALSE(whole_decisions(out, "[[99,1]]", whole));
    // The mask a stored form was sealed with gives it back (what a reader checks).
    std::string again;
    REQUIRE(plain_decisions(e.compact, again, nullptr, plain_value_mask_of(out)));
    CHECK(again == out);
    // What stats read: the same entries, statuses and missing facts.
    std::vector<decision_entry> a;
    std::vector<decision_entry> b;
    REQUIRE(read_decisions(e.compact, decision_format, {}, a));
    REQUIRE(read_decisions(out, decision_format, {}, b));
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].decided == b[i].decided);
      CHECK(a[i].missing == b[i].missing);
      CHECK(a[i].in_force == b[i].in_force);
    }
  }
}

TEST_CASE("the rules' declared types decide what stays in plain, not the values' shapes",
          "[crypto]") {
  auto pack = dalil::testing::load_pack_text(R"(module m
  source "test"

enum Status { abc_1, refugee }

record Person {
  name : text
  status : Status
  income : money
  size : int
  born : date
  flag : bool
}

input p : Person

rule label : text
  source "test"
  = p.name

rule status : Status
  source "test"
  = p.status

rule income : money
  source "test"
  = p.income

rule size : int
  source "test"
  = p.size

rule born : date
  source "test"
  = p.born

rule flag : bool
  source "test"
  = p.flag
)");
  const dalil::dsl::program& p = pack->rules->program();
  auto rule = [&](const char* name) {
    for (std::uint32_t r = 0; r < p.rules.size(); ++r) {
      if (p.rules[r].name == name) return r;
    }
    FAIL("no rule " << name);
    return dalil::dsl::no_index;
  };
  struct example {
    const char* rule;
    std::string value;  // as the compact form writes it
    bool sealed;
  };
  const std::vector<example> examples = {
      {"label", R"("abc_1")", true},  // a text shaped like an enumeration's name
      {"label", R"("Fatima Zahra")", true},
      {"label", "null", false},
      {"status", R"("abc_1")", false},
      {"status", R"("refugee")", false},
      {"income", R"("3767.50")", true},
      {"size", "4", true},
      {"born", R"("1990-01-01")", true},
      {"flag", "true", false},
      {"flag", "null", false},
  };
  std::vector<std::uint32_t> rules;
  std::string compact = "[";
  std::string outcomes = "[";
  for (const auto& e : examples) {
    rules.push_back(rule(e.rule));
    if (compact.size() > 1) compact += ',';
    compact += "[\"d\"," + e.value + ",0,[]]";
    if (outcomes.size() > 1) outcomes += ',';
    outcomes += std::string(R"({"rule":"m.)") + e.rule + R"(","status":"decided","value":)" +
                e.value + R"(,"missing":[],"in_force":true,"provisional":false})";
  }
  compact += ']';
  outcomes += ']';
  std::vector<std::uint8_t> mask = plain_value_mask(p, rules);
  REQUIRE(mask.size() == examples.size());
  // An unknown rule (a counter decision naming a rule its ruleset no longer has) is sealed.
  CHECK(plain_value_mask(p, {dalil::dsl::no_index, rule("status")}) ==
        std::vector<std::uint8_t>{0, 1});
  std::string plain;
  std::string values;
  REQUIRE(plain_decisions(compact, plain, &values, mask));
  std::vector<decision_entry> entries;
  REQUIRE(read_decisions(plain, decision_format, {}, entries));
  REQUIRE(entries.size() == examples.size());
  std::string counter = plain_outcomes(outcomes, mask);
  std::vector<std::uint8_t> counter_mask = outcome_mask_of(counter);
  REQUIRE(counter_mask.size() == examples.size());
  for (std::size_t i = 0; i < examples.size(); ++i) {
    CAPTURE(examples[i].rule, examples[i].value);
    CHECK(mask[i] == (std::string_view(examples[i].rule) == "status" ||
                      std::string_view(examples[i].rule) == "flag"));
    CHECK((entries[i].value == R"("sealed")") == examples[i].sealed);
    CHECK((counter_mask[i] == 0) == examples[i].sealed);
    if (!examples[i].sealed) CHECK(entries[i].value == examples[i].value);
  }
  // The counter's stored outcomes read back with the mask they were kept with.
  CHECK(plain_outcomes(outcomes, counter_mask) == counter);
  // Without a mask every value but a flag or null is sealed: the enumeration's too.
  CHECK(outcome_mask_of(plain_outcomes(outcomes, {})) ==
        std::vector<std::uint8_t>{0, 0, 1, 0, 0, 0, 0, 0, 1, 1});
}

TEST_CASE("lookup hashes are keyed: stable under one key, unrelated under another", "[crypto]") {
  temp_dir dir;
  REQUIRE(crypto::create_key_file(dir.file("a.key")).has_value());
  REQUIRE(crypto::create_key_file(dir.file("b.key")).has_value());
  auto a = key_from(dir.file("a.key"));
  auto b = key_from(dir.file("b.key"));
  std::string h = crypto::lookup_hash(a, "SYN-000001");
  CHECK(h.size() == 64);
  CHECK(h == crypto::lookup_hash(a, "SYN-000001"));
  CHECK(h != crypto::lookup_hash(a, "SYN-000002"));
  CHECK(h != crypto::lookup_hash(b, "SYN-000001"));
  CHECK(h.find("SYN") == std::string::npos);
}

// The cost the batch would pay per record: unwrap the applicant's data key and open the record
// (run by hand: dalil_store_tests "[.crypto_cost]"; needs DALIL_CLI to generate the cohort).
TEST_CASE("cost of opening a cohort's records", "[.crypto_cost]") {
  temp_dir dir;
  std::string cohort = dir.file("cohort.jsonl");
  std::string cmd = std::string(DALIL_CLI) + " generate --count 100000 --seed 7 --out " + cohort;
  REQUIRE(std::system(cmd.c_str()) == 0);
  REQUIRE(crypto::create_key_file(dir.file("k.key")).has_value());
  auto key = key_from(dir.file("k.key"));
  struct row {
    std::string who;
    std::string wrapped;
    std::string sealed;
  };
  std::vector<row> rows;
  std::ifstream in(cohort);
  std::string line;
  std::size_t bytes = 0;
  while (std::getline(in, line)) {
    row r;
    r.who = crypto::lookup_hash(key, std::to_string(rows.size()));
    auto dk = crypto::new_data_key();
    r.wrapped = crypto::wrap(key, dk, r.who, 1);
    crypto::seal(dk, line, r.who, r.sealed);
    bytes += line.size();
    rows.push_back(std::move(r));
  }
  auto t0 = std::chrono::steady_clock::now();
  std::string out;
  std::size_t opened = 0;
  for (const auto& r : rows) {
    auto dk = crypto::unwrap(key, r.wrapped, r.who, 1);
    if (dk && crypto::open(*dk, r.sealed, r.who, out)) ++opened;
  }
  auto t1 = std::chrono::steady_clock::now();
  CHECK(opened == rows.size());
  double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / double(rows.size());
  std::cout << rows.size() << " records (" << bytes / rows.size() << " bytes each): unwrap + open "
            << ns << " ns per record on one core\n";
}

TEST_CASE(
    "keys seal retypes the counter's outcomes an older dalil kept by their shape, keys reseal "
    "moves the counter's records to format 2",
    "[crypto]") {
  temp_dir dir;
  REQUIRE(crypto::create_key_file(dir.file("k.key")).has_value());
  crypto::master_key key = key_from(dir.file("k.key"));
  const std::string db = dir.file("s.db");
  auto s = open_sqlite(db, open_mode::read_write, &key);
  REQUIRE(s.has_value());
  REQUIRE((*s)->init_keys("test").has_value());
  // A text rule whose value looks like an enumeration's name, and a flag.
  const std::string source = "rule code : text\n  = \"ng\"\nrule ok : bool\n  = true\n";
  const std::string hash = dalil::engine::sha256_hex(source);
  REQUIRE((*s)->put_ruleset(hash, source).has_value());
  {
    auto opened = counter_store::open(db, &key);
    REQUIRE(opened.has_value());
    counter_store& cs = **opened;
    counter_decision d;
    d.decision_id = "d-1";
    d.applicant_id = "A-1";
    d.office = "rabat";
    d.actor = "agent";
    d.as_of = "2026-12-01";
    d.ruleset_hash = hash;
    d.record_json = R"({"id":"A-1"})";
    d.input_hash = dalil::engine::sha256_hex(d.record_json);
    d.rules = R"(["code","ok"])";
    d.outcomes =
        R"([{"rule":"code","status":"decided","value":"ng","missing":[],"in_force":true,)"
        R"("provisional":false},{"rule":"ok","status":"decided","value":true,"missing":[],)"
        R"("in_force":true,"provisional":false}])";
    d.answer_digest = dalil::engine::sha256_hex("answer");
    // What an older dalil stored: the value kept in plain by its shape (a name-like text).
    d.plain_values = {1, 1};
    // Its applicant's data key of format 1, as on a processor without AES-NI (or before format 2).
    crypto::force_portable_gcm(true);
    REQUIRE(cs.begin().has_value());
    auto put = cs.put_decision(d);
    crypto::force_portable_gcm(false);
    REQUIRE(put.has_value());
    REQUIRE(cs.commit().has_value());
  }
  auto stored_outcomes = [&] {
    database c;
    std::string e;
    REQUIRE(c.open(db, e));
    statement q = c.prepare("SELECT outcomes FROM counter_decisions", e);
    REQUIRE(q.ok());
    REQUIRE(q.step() == SQLITE_ROW);
    return q.text(0);
  };
  REQUIRE(stored_outcomes().find(R"("value":"ng")") != std::string::npos);
  auto before = (*s)->verify({});
  REQUIRE(before.has_value());
  REQUIRE(before->problems.empty());
  auto sealed = (*s)->seal_in_place("test");
  INFO((sealed ? std::string() : sealed.error().message));
  REQUIRE(sealed.has_value());
  CHECK(*sealed == 1);
  const std::string after = stored_outcomes();
  CHECK(after.find(R"("value":"ng")") == std::string::npos);
  CHECK(after.find(R"("rule":"code","status":"decided","value":"sealed")") != std::string::npos);
  CHECK(after.find(R"("rule":"ok","status":"decided","value":true)") != std::string::npos);
  // Vouched for again: the store's verify (the counter's rows among the rest) passes.
  auto verified = (*s)->verify({});
  REQUIRE(verified.has_value());
  for (const auto& p : verified->problems) UNSCOPED_INFO(p.what);
  CHECK(verified->problems.empty());
  auto again = (*s)->seal_in_place("test");
  REQUIRE(again.has_value());
  CHECK(*again == 0);

  // keys reseal: the counter's record (vouched for by its import's whole digest) moves to a key
  // of format 2, and reads as before; verify passes (the import's records vouched for again).
  auto key_length = [&] {
    database c;
    std::string e;
    REQUIRE(c.open(db, e));
    statement q = c.prepare("SELECT length(wrapped) FROM data_keys", e);
    REQUIRE(q.ok());
    REQUIRE(q.step() == SQLITE_ROW);
    return q.int64(0);
  };
  REQUIRE(key_length() == 72);
  auto moved = (*s)->reseal_keys("test", 10);
  INFO((moved ? std::string() : moved.error().message));
  REQUIRE(moved.has_value());
  CHECK(moved->applicants == 1);
  CHECK(moved->records == 1);
  CHECK(moved->left == 0);
  CHECK(key_length() == 61);
  auto resealed = (*s)->verify({});
  REQUIRE(resealed.has_value());
  for (const auto& p : resealed->problems) UNSCOPED_INFO(p.what);
  CHECK(resealed->problems.empty());
  auto opened = counter_store::open(db, &key);
  REQUIRE(opened.has_value());
  auto read = (*opened)->decision("d-1", "");
  INFO((read ? std::string() : read.error().message));
  REQUIRE(read.has_value());
  CHECK(read->record_json == R"({"id":"A-1"})");
}

TEST_CASE(
    "keys reseal checks an import's whole digest again inside each transaction: a record edited "
    "between two transactions is refused, not vouched for again",
    "[crypto]") {
  temp_dir dir;
  REQUIRE(crypto::create_key_file(dir.file("k.key")).has_value());
  crypto::master_key key = key_from(dir.file("k.key"));
  const std::string db = dir.file("s.db");
  auto s = open_sqlite(db, open_mode::read_write, &key);
  REQUIRE(s.has_value());
  REQUIRE((*s)->init_keys("test").has_value());
  const std::string source = "rule ok : bool\n  = true\n";
  const std::string hash = dalil::engine::sha256_hex(source);
  REQUIRE((*s)->put_ruleset(hash, source).has_value());
  {
    auto opened = counter_store::open(db, &key);
    REQUIRE(opened.has_value());
    counter_store& cs = **opened;
    // Two applicants, each in its own counter import (one per transaction), vouched for by the
    // import's whole digest; their data keys of format 1.
    for (const std::string id : {"A-1", "A-2"}) {
      counter_decision d;
      d.decision_id = "d-" + id;
      d.applicant_id = id;
      d.office = "rabat";
      d.actor = "agent";
      d.as_of = "2026-12-01";
      d.ruleset_hash = hash;
      d.record_json = R"({"id":")" + id + R"("})";
      d.input_hash = dalil::engine::sha256_hex(d.record_json);
      d.rules = R"(["ok"])";
      d.outcomes = R"([{"rule":"ok","status":"decided","value":true,"missing":[],"in_force":true,)"
                   R"("provisional":false}])";
      d.answer_digest = dalil::engine::sha256_hex("answer");
      crypto::force_portable_gcm(true);
      REQUIRE(cs.begin().has_value());
      auto put = cs.put_decision(d);
      crypto::force_portable_gcm(false);
      REQUIRE(put.has_value());
      REQUIRE(cs.commit().has_value());
    }
  }
  auto before = (*s)->verify({});
  REQUIRE(before.has_value());
  REQUIRE(before->problems.empty());
  auto one = [&](const std::string& sql) {
    database c;
    std::string e;
    REQUIRE(c.open(db, e));
    statement q = c.prepare(sql, e);
    REQUIRE(q.ok());
    REQUIRE(q.step() == SQLITE_ROW);
    return q.text(0);
  };
  REQUIRE(one("SELECT count(DISTINCT import_id) FROM records") == "2");
  const std::string last = one("SELECT max(record_id) FROM records");
  // After the first transaction (one applicant each), the second applicant's record is edited
  // in the file (its content hash, which nothing else checks in a sealed record).
  const std::string edit =
      "UPDATE records SET content_hash='" + std::string(64, '0') + "' WHERE record_id=" + last;
  ::setenv("DALIL_TEST_RESEAL_EDIT_SQL", edit.c_str(), 1);
  auto moved = (*s)->reseal_keys("test", 1);
  ::unsetenv("DALIL_TEST_RESEAL_EDIT_SQL");
  if (one("SELECT content_hash FROM records WHERE record_id=" + last) != std::string(64, '0')) {
    WARN("skipped: the build has no test hooks (DALIL_TEST_HOOKS off)");
    return;
  }
  REQUIRE_FALSE(moved.has_value());
  INFO(moved.error().message);
  CHECK(moved.error().code == errc::damaged);
  CHECK(moved.error().message.find("records of import") != std::string::npos);
  CHECK(moved.error().message.find("changed since they were vouched for") != std::string::npos);
  CHECK(moved.error().message.find("A-2") == std::string::npos);
  // Nothing re-vouched for the edited row: its key is still of format 1, and verify names it.
  CHECK(one("SELECT count(*) FROM data_keys WHERE length(wrapped) = 72") == "1");
  CHECK(one("SELECT count(*) FROM audit WHERE action='keys_reseal'") == "1");
  auto after = (*s)->verify({});
  REQUIRE(after.has_value());
  bool named = false;
  for (const auto& p : after->problems) {
    UNSCOPED_INFO(p.what);
    named = named || p.what.find("were changed, deleted or inserted") != std::string::npos;
  }
  CHECK(named);
}

TEST_CASE(
    "a resealed store is marked for older dalils, and verify accepts an entry that replaces "
    "another only inside its reseal",
    "[crypto]") {
  temp_dir dir;
  REQUIRE(crypto::create_key_file(dir.file("k.key")).has_value());
  crypto::master_key key = key_from(dir.file("k.key"));
  const std::string db = dir.file("s.db");
  {
    auto s = open_sqlite(db, open_mode::read_write, &key);
    REQUIRE(s.has_value());
    REQUIRE((*s)->init_keys("test").has_value());
    const std::string source = "rule ok : bool\n  = true\n";
    const std::string hash = dalil::engine::sha256_hex(source);
    REQUIRE((*s)->put_ruleset(hash, source).has_value());
    auto opened = counter_store::open(db, &key);
    REQUIRE(opened.has_value());
    counter_store& cs = **opened;
    for (const std::string id : {"A-1", "A-2"}) {
      counter_decision d;
      d.decision_id = "d-" + id;
      d.applicant_id = id;
      d.office = "rabat";
      d.actor = "agent";
      d.as_of = "2026-12-01";
      d.ruleset_hash = hash;
      d.record_json = R"({"id":")" + id + R"("})";
      d.input_hash = dalil::engine::sha256_hex(d.record_json);
      d.rules = R"(["ok"])";
      d.outcomes = R"([{"rule":"ok","status":"decided","value":true,"missing":[],"in_force":true,)"
                   R"("provisional":false}])";
      d.answer_digest = dalil::engine::sha256_hex("answer");
      crypto::force_portable_gcm(true);
      REQUIRE(cs.begin().has_value());
      auto put = cs.put_decision(d);
      crypto::force_portable_gcm(false);
      REQUIRE(put.has_value());
      REQUIRE(cs.commit().has_value());
    }
  }
  auto one = [&](const std::string& sql) {
    database c;
    std::string e;
    REQUIRE(c.open(db, e));
    statement q = c.prepare(sql, e);
    REQUIRE(q.ok());
    REQUIRE(q.step() == SQLITE_ROW);
    return q.text(0);
  };
  REQUIRE(one("SELECT max(version) FROM schema_version") ==
          std::to_string(current_schema_version()));
  auto s = open_sqlite(db, open_mode::read_write, &key);
  REQUIRE(s.has_value());
  auto moved = (*s)->reseal_keys("test", 1);
  INFO((moved ? std::string() : moved.error().message));
  REQUIRE(moved.has_value());
  CHECK(moved->transactions == 2);
  // Marked: a dalil that knows only the schema before reseal refuses the store as newer.
  CHECK(one("SELECT max(version) FROM schema_version") == std::to_string(resealed_schema_mark()));
  CHECK(resealed_schema_mark() > current_schema_version());
  // The schema itself is unchanged: the mark is not a migration's number.
  CHECK(one("SELECT max(version) FROM schema_version WHERE version <> " +
            std::to_string(resealed_schema_mark())) == std::to_string(current_schema_version()));
  // Accepted: each entry that replaces another follows its transaction's keys_reseal entry.
  auto resealed = (*s)->verify({});
  REQUIRE(resealed.has_value());
  for (const auto& p : resealed->problems) UNSCOPED_INFO(p.what);
  CHECK(resealed->problems.empty());
  // Opened again (read-write and read-only), as the schema it was.
  REQUIRE(open_sqlite(db, open_mode::read_write, &key).has_value());
  REQUIRE(open_sqlite(db, open_mode::read_only, &key).has_value());
  // Refused: the first entry a reseal wrote, copied after the reseal (another entry between)
  // and replacing that entry itself (same rows, same range): what it vouches for holds, but no
  // keys_reseal entry opens its transaction.
  const std::string first =
      one("SELECT min(seq) FROM audit WHERE action='records' AND details LIKE '%\"replaces\"%'");
  const std::string details = one("SELECT details FROM audit WHERE seq=" + first);
  const std::string subject = one("SELECT subject FROM audit WHERE seq=" + first);
  const auto at = details.find("\"replaces\":");
  REQUIRE(at != std::string::npos);
  const std::string forged =
      details.substr(0, at) + "\"replaces\":" + first + details.substr(details.find('}', at));
  {
    database c;
    std::string e;
    REQUIRE(c.open(db, e));
    auto tx = transaction::begin(c, "forging");
    REQUIRE(tx.has_value());
    REQUIRE(detail::append_audit(c, "dalil", "read", "export", "{}").has_value());
    REQUIRE(detail::append_audit(c, "dalil", "records", subject, forged).has_value());
    REQUIRE(tx->commit("forging").has_value());
  }
  auto after = (*s)->verify({});
  REQUIRE(after.has_value());
  bool named = false;
  for (const auto& p : after->problems) {
    UNSCOPED_INFO(p.what);
    named = named || p.what.find("it replaces an entry outside a reseal") != std::string::npos;
  }
  CHECK(named);
}

namespace {

/// One value read by SQL, on a connection of its own.
std::string read_one(const std::string& db, const std::string& sql) {
  database c;
  std::string e;
  REQUIRE(c.open(db, e));
  statement q = c.prepare(sql, e);
  INFO(sql << ": " << e);
  REQUIRE(q.ok());
  REQUIRE(q.step() == SQLITE_ROW);
  return q.text(0);
}

/// Changes the file as anyone who can write it can: `sql` run, then `entries` (action, subject,
/// details) appended to the audit chain, which has no key, in one transaction.
void forge(const std::string& db, const std::string& sql,
           const std::vector<std::array<std::string, 3>>& entries) {
  database c;
  std::string e;
  REQUIRE(c.open(db, e));
  auto tx = transaction::begin(c, "forging");
  REQUIRE(tx.has_value());
  INFO(sql << ": " << e);
  REQUIRE((sql.empty() || c.exec(sql, e)));
  for (const auto& [action, subject, details] : entries) {
    REQUIRE(detail::append_audit(c, "dalil", action, subject, details).has_value());
  }
  REQUIRE(tx->commit("forging").has_value());
}

/// What verify finds, a line each ("" when the store verifies).
std::string findings(store& s) {
  auto report = s.verify({});
  REQUIRE(report.has_value());
  std::string all;
  for (const auto& p : report->problems) all += p.what + "\n";
  return all;
}

/// The store of the release before schema 5 (tests/store/fixtures/store-v1.db, as the migration
/// tests use it: 50 records of 40 applicants in two imports, 4 runs, run 4's traces stored),
/// upgraded, then encrypted in place with data keys of format 1 (XChaCha20-Poly1305, which
/// keys reseal moves to format 2), in a folder of its own with its master key. Its records and
/// decision sets are vouched for row by row.
struct v1_encrypted_in_place {
  temp_dir dir;
  std::string db = dir.file("v1.db");
  crypto::master_key key;
  std::unique_ptr<store> s;

  v1_encrypted_in_place() {
    REQUIRE(crypto::create_key_file(dir.file("k.key")).has_value());
    key = key_from(dir.file("k.key"));
    fs::copy_file(dalil::testing::source_path("tests/store/fixtures/store-v1.db"), db);
    auto opened = open_sqlite(db, open_mode::read_write, &key);
    INFO((opened ? std::string() : opened.error().message));
    REQUIRE(opened.has_value());
    s = std::move(*opened);
    {
      portable_gcm format_1;  // new data keys in format 1, as on a processor without AES-NI
      auto init = s->init_keys("test");
      INFO((init ? std::string() : init.error().message));
      REQUIRE(init.has_value());
    }
    REQUIRE(read_one(db, "SELECT count(*) FROM data_keys WHERE length(wrapped) = 72") == "40");
    REQUIRE(findings(*s).empty());
  }
};

}  // namespace

TEST_CASE(
    "keys reseal: a chunk of decision sets written before schema 5 is checked again inside each "
    "transaction (a set edited between two transactions is refused, not vouched for again)",
    "[crypto]") {
  v1_encrypted_in_place v1;
  // Run 4's sets (their traces sealed in place, their decisions as they were: nothing of this
  // pack's is sealed) vouched for again by the entry the release before schema 5 wrote for them:
  // the in-place entry for them (the chain's last) taken off its end, that entry's details
  // appended. No dalil writes this (the in-place keys_init supersedes every older entry), but
  // the chain, which has no key, says it all the same, and verify takes it.
  const std::string last = read_one(v1.db, "SELECT max(seq) FROM audit");
  REQUIRE(read_one(v1.db, "SELECT action || ' ' || subject FROM audit WHERE seq=" + last) ==
          "decisions 4");
  const std::string old_details = read_one(
      v1.db, "SELECT details FROM audit WHERE action='decisions' AND subject='4' AND seq < 17");
  REQUIRE(old_details.find("\"v\":") == std::string::npos);
  forge(v1.db, "DELETE FROM audit WHERE seq=" + last, {{"decisions", "4", old_details}});
  const std::string legacy = read_one(v1.db, "SELECT max(seq) FROM audit");
  REQUIRE(findings(*v1.s).empty());
  REQUIRE(
      read_one(v1.db,
               "SELECT count(*) FROM decision_sets WHERE run_id=4 AND trace GLOB 'sealed1:*'") ==
      "4");
  // The first transaction (one applicant each) re-seals the first pseudonym, who has no set in
  // run 4; then one of run 4's sets is edited in the file (its form, which the old entry's digest
  // covers), as by hand during a long reseal.
  REQUIRE(read_one(v1.db,
                   "SELECT count(*) FROM decision_sets WHERE run_id=4 AND applicant_id = (SELECT "
                   "min(applicant_id) FROM data_keys)") == "0");
  const std::string edited = "SELECT max(record_id) FROM decision_sets WHERE run_id=4";
  const std::string edit =
      "UPDATE decision_sets SET format=2 WHERE run_id=4 AND record_id=(" + edited + ")";
  ::setenv("DALIL_TEST_RESEAL_EDIT_SQL", edit.c_str(), 1);
  auto moved = v1.s->reseal_keys("test", 1);
  ::unsetenv("DALIL_TEST_RESEAL_EDIT_SQL");
  const std::string set_where = " WHERE run_id=4 AND record_id=(" + edited + ")";
  if (read_one(v1.db, "SELECT format FROM decision_sets" + set_where) != "2") {
    WARN("skipped: the build has no test hooks (DALIL_TEST_HOOKS off)");
    return;
  }
  REQUIRE_FALSE(moved.has_value());
  INFO(moved.error().message);
  CHECK(moved.error().code == errc::damaged);
  CHECK(moved.error().message.find("decision sets of run 4 (audit entry " + legacy + ")") !=
        std::string::npos);
  CHECK(moved.error().message.find("changed since they were vouched for") != std::string::npos);
  CHECK(moved.error().message.find("SYN-") == std::string::npos);
  // Nothing vouched again for run 4's sets: the old entry still stands, the edited set's
  // applicant keeps a key of format 1, and verify names the chunk.
  CHECK(read_one(v1.db, "SELECT count(*) FROM audit WHERE details LIKE '%\"replaces\":" + legacy +
                            "}%'") == "0");
  CHECK(read_one(v1.db,
                 "SELECT length(wrapped) FROM data_keys WHERE applicant_id = (SELECT "
                 "applicant_id FROM decision_sets" +
                     set_where + ")") == "72");
  CHECK(read_one(v1.db, "SELECT count(*) FROM audit WHERE action='keys_reseal'") != "0");
  CHECK_THAT(findings(*v1.s),
             Catch::Contains("decision sets of run 4, records 12..33 (audit entry " + legacy +
                             ", written before schema 5"));
}

TEST_CASE(
    "verify, even inside a reseal: an entry that replaces another but lists other rows is "
    "refused (a deleted record is not vouched away)",
    "[crypto]") {
  v1_encrypted_in_place v1;
  // Record 5 is an older version (its applicant's latest is record 45, which every run decides):
  // deleted, it leaves nothing else behind. A keys_reseal entry, then an entry that replaces
  // the one of import 1 (same range) and lists its rows as they are now, without record 5.
  const std::string replaced =
      read_one(v1.db,
               "SELECT max(seq) FROM audit WHERE action='records' AND subject='1' AND details LIKE "
               "'%\"from\":1,\"to\":40,%'");
  REQUIRE(read_one(v1.db, "SELECT count(*) FROM decision_sets WHERE record_id=5") == "0");
  REQUIRE(read_one(v1.db, "SELECT latest FROM records WHERE record_id=5") == "0");
  detail::row_digest rows;
  {
    database c;
    std::string e;
    REQUIRE(c.open(v1.db, e));
    statement q = c.prepare(
        "SELECT record_id, applicant_id, version, content_hash, import_id, sealed FROM records "
        "WHERE import_id=1 AND record_id <> 5 ORDER BY record_id",
        e);
    REQUIRE(q.ok());
    while (q.step() == SQLITE_ROW) {
      rows.add(q.int64(0), detail::record_line(q.int64(0), q.text(1), q.int64(2), q.text(3),
                                               q.int64(4), q.blob_view(5)));
    }
  }
  REQUIRE(rows.size() == 39);
  std::string details = R"({"v":3,"import":1,"from":1,"to":40)";
  rows.write(details);
  details += R"(,"replaces":)" + replaced + "}";
  forge(v1.db, "DELETE FROM records WHERE record_id=5",
        {{"keys_reseal", "data_keys", R"({"v":3,"format":2,"applicants":1})"},
         {"records", "1", details}});
  // Refused, and the entry it would replace still holds: the deleted record is named.
  const std::string found = findings(*v1.s);
  CHECK_THAT(found, Catch::Contains("it lists other rows than the entry it replaces (audit entry " +
                                    replaced + ")"));
  CHECK_THAT(found, Catch::Contains("record 5 (audit entry " + replaced + ") was deleted"));
}
