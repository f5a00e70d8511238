// The server's ids (server/ids.hpp): a decision's id sorts by the time it was made.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "server/ids.hpp"

namespace {

bool lower_hex(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

TEST_CASE("a decision's id: the time in milliseconds, then 80 random bits", "[server][ids]") {
  using std::chrono::milliseconds;
  using std::chrono::system_clock;
  // 2026-12-05T01:02:03.456Z is 1,796,432,523,456 ms after the epoch: 0x01a2 43b8 f0c0.
  const system_clock::time_point at{milliseconds{1796432523456}};
  const std::string id = dalil::server::decision_id(at);
  REQUIRE(id.size() == 32);
  REQUIRE(lower_hex(id));
  CHECK(id.substr(0, 12) == "01a243b8f0c0");
  // Made in the same millisecond: distinct, by their random part.
  std::set<std::string> same_ms;
  for (int i = 0; i < 1000; ++i) same_ms.insert(dalil::server::decision_id(at));
  CHECK(same_ms.size() == 1000);
  for (const std::string& s : same_ms) CHECK(s.substr(0, 12) == "01a243b8f0c0");
  // Made later: after, whatever their random parts.
  std::vector<std::string> in_time;
  for (int i = 0; i < 200; ++i) in_time.push_back(dalil::server::decision_id(at + milliseconds{i}));
  CHECK(std::is_sorted(in_time.begin(), in_time.end()));
  // A clock before 1970 reads as 0 and still gives distinct ids.
  const std::string early = dalil::server::decision_id(system_clock::time_point{milliseconds{-5}});
  CHECK(early.substr(0, 12) == "000000000000");
  CHECK(early != dalil::server::decision_id(system_clock::time_point{milliseconds{-5}}));
}

TEST_CASE("a review's id: 128 random bits", "[server][ids]") {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = dalil::server::random_id();
    REQUIRE(id.size() == 32);
    REQUIRE(lower_hex(id));
    ids.insert(id);
  }
  CHECK(ids.size() == 1000);
}
