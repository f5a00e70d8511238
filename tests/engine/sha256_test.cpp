// SHA-256 and digests: the FIPS 180-2 test vectors, one-shot and streamed, across threads, and
// the hex form both ways.
#include <cctype>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/sha256.hpp"

namespace eng = dalil::engine;

namespace {

const char* const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const char* const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const char* const two_blocks = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
const char* const two_blocks_text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

}  // namespace

TEST_CASE("sha256: FIPS 180-2 vectors, one-shot and streamed", "[engine][sha256]") {
  CHECK(eng::sha256_hex("abc") == abc);
  CHECK(eng::sha256_hex("") == empty);
  CHECK(eng::sha256_hex(two_blocks_text) == two_blocks);
  eng::sha256_stream s;
  std::string text = two_blocks_text;
  for (char c : text) s.update(std::string_view(&c, 1));
  CHECK(s.hex() == two_blocks);
  // A million 'a's: many blocks through the per-thread context.
  CHECK(eng::sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: threads hashing at once get the same digests", "[engine][sha256]") {
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (std::size_t t = 0; t < wrong.size(); ++t) {
    threads.emplace_back([&wrong, t] {
      for (int i = 0; i < 2000; ++i) {
        if (eng::sha256(i % 2 ? "abc" : "").hex() != (i % 2 ? abc : empty)) ++wrong[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong == std::vector<int>(4, 0));
}

TEST_CASE("digest: hex both ways, either case in, lowercase out", "[engine][sha256]") {
  auto d = eng::digest::from_hex(abc);
  REQUIRE(d);
  CHECK(*d == eng::sha256("abc"));
  CHECK(d->hex() == abc);
  std::string upper = abc;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto u = eng::digest::from_hex(upper);
  REQUIRE(u);
  CHECK(*u == *d);
  std::string out = "x:";
  d->append_hex(out);
  CHECK(out == std::string("x:") + abc);
}

TEST_CASE("digest: anything but 64 hex digits is refused", "[engine][sha256]") {
  std::string good = abc;
  CHECK_FALSE(eng::digest::from_hex(""));
  CHECK_FALSE(eng::digest::from_hex(good.substr(0, 63)));
  CHECK_FALSE(eng::digest::from_hex(good + "0"));
  for (char bad : {'g', 'G', ' ', ':', '/', '@', '`', '\0', '\xff'}) {
    for (std::size_t at : {std::size_t{0}, std::size_t{31}, std::size_t{63}}) {
      std::string s = good;
      s[at] = bad;
      INFO("byte " << static_cast<int>(static_cast<unsigned char>(bad)) << " at " << at);
      CHECK_FALSE(eng::digest::from_hex(s));
    }
  }
}
