// No copy of a request's bytes stays in the server's memory once it is answered: requests carry
// applicants' records (and passwords), and memory the process freed keeps its bytes until it is
// reused; a later memory-disclosure bug, a core dump or swap would hand them out. The test sends
// a body with a random marker, over TLS and over plain HTTP on loopback, from curl (another
// process: this one must hold no copy of its own), then reads every private writable mapping of
// this process through /proc/self/mem and looks for the marker. The same for an applicant's
// record evaluated and stored on an encrypted store, then read back (its record, its history). The
// marker is kept reversed here and compared backwards, so that the only copies of it are the
// server's.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sodium.h>

#include "dsl/checker.hpp"
#include "dsl/loader.hpp"
#include "engine/session.hpp"
#include "server/server.hpp"
#include "store/crypto.hpp"
#include "tests/server/pack.hpp"
#include "tests/server/support.hpp"

namespace fs = std::filesystem;
using namespace dalil::test_support;  // NOLINT(google-build-using-namespace): test helpers

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;  // their shadow mappings are terabytes: not read here
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

/// The marker's bytes, last first: its plain order exists only in the body file and in
/// whatever the server kept.
struct reversed_marker {
  std::string rev;  // letters, so that JSON carries them as they are
  reversed_marker() {
    rev.resize(40);
    for (char& c : rev) c = static_cast<char>('a' + randombytes_uniform(26));
  }
  /// The marker's i-th byte (plain order).
  [[nodiscard]] char at(std::size_t i) const { return rev[rev.size() - 1 - i]; }
  [[nodiscard]] std::size_t size() const { return rev.size(); }
};

/// Writes `body` to `path` with the marker in place of each '@', a byte of the marker at a
/// time from its reversed copy.
void write_body(const fs::path& path, const reversed_marker& m, const std::string& body) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  std::size_t from = 0;
  for (;;) {
    std::size_t at = body.find('@', from);
    std::size_t n = (at == std::string::npos ? body.size() : at) - from;
    REQUIRE(::write(fd, body.data() + from, n) == static_cast<ssize_t>(n));
    if (at == std::string::npos) break;
    for (std::size_t i = 0; i < m.size(); ++i) {
      char c = m.at(i);
      REQUIRE(::write(fd, &c, 1) == 1);
    }
    from = at + 1;
  }
  ::close(fd);
}

struct mapping {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
  std::string name;
};

/// This process's private writable mappings (heap, thread stacks, anonymous memory, data).
std::vector<mapping> writable_mappings() {
  std::ifstream maps("/proc/self/maps");
  std::vector<mapping> out;
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range;
    std::string perms;
    in >> range >> perms;
    if (perms.size() < 4 || perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p') continue;
    std::string offset;
    std::string dev;
    std::string inode;
    mapping m;
    in >> offset >> dev >> inode;
    std::getline(in, m.name);
    m.name.erase(0, m.name.find_first_not_of(' '));
    if (m.name.find("[vvar") != std::string::npos ||
        m.name.find("[vsyscall") != std::string::npos) {
      continue;
    }
    auto dash = range.find('-');
    m.begin = std::stoull(range.substr(0, dash), nullptr, 16);
    m.end = std::stoull(range.substr(dash + 1), nullptr, 16);
    out.push_back(m);
  }
  return out;
}

/// Where the marker occurs in this process's writable memory: the mappings' names, one per
/// occurrence. The window the pages are read into is its own mapping, skipped, and zeroed after.
std::vector<std::string> occurrences(const reversed_marker& m) {
  constexpr std::size_t window = std::size_t{1} << 20;
  const std::size_t overlap = m.size() - 1;
  void* raw =
      mmap(nullptr, window + overlap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(raw != MAP_FAILED);
  auto* buf = static_cast<char*>(raw);
  const auto own = reinterpret_cast<std::uintptr_t>(raw);
  int fd = ::open("/proc/self/mem", O_RDONLY);
  REQUIRE(fd >= 0);
  std::vector<std::string> found;
  for (const mapping& map : writable_mappings()) {
    if (map.begin == own) continue;
    for (std::uintptr_t at = map.begin; at < map.end; at += window) {
      std::size_t want = std::min<std::uintptr_t>(window + overlap, map.end - at);
      ssize_t got = pread(fd, buf, want, static_cast<off_t>(at));
      if (got <= 0) continue;  // a guard page, or memory that went away
      const char* end = buf + got;
      const char* p = buf;
      for (;;) {
        p = std::search(p, end, m.rev.rbegin(), m.rev.rend());
        if (p == end) break;
        // The mapping, and the bytes around the marker (the marker itself not copied): what
        // structure held the copy.
        std::string where = map.name.empty() ? "[anonymous]" : map.name;
        auto shown = [](const char* from, const char* to) {
          std::string out;
          for (const char* c = from; c < to; ++c) out += (*c >= 32 && *c < 127) ? *c : '.';
          return out;
        };
        const char* before = p - std::min<std::ptrdiff_t>(p - buf, 48);
        const char* after = p + m.size();
        where += ": " + shown(before, p) + "<marker>" +
                 shown(after, after + std::min<std::ptrdiff_t>(end - after, 48));
        found.push_back(std::move(where));
        p += m.size();
      }
    }
  }
  ::close(fd);
  sodium_memzero(buf, window + overlap);
  munmap(raw, window + overlap);
  return found;
}

/// Waits (at most 10 s: the server wipes once the answer is written, which may come after the
/// client has read it) until the marker is nowhere in memory; the places it still was.
std::vector<std::string> remnants_after_answer(const reversed_marker& m) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::vector<std::string> found;
  do {
    found = occurrences(m);
    if (found.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  return found;
}

/// A folder of its own for one test (libsodium started for the markers).
fs::path scratch_dir() {
  REQUIRE(sodium_init() >= 0);
  char tmpl[] = "/tmp/dalil-remnants-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  return tmpl;
}

/// An encrypted store in a scratch folder (`dalil keys init`), removed at the end.
struct encrypted_store {
  const fs::path dir = scratch_dir();
  const std::string db = (dir / "store.db").string();
  const std::string key = (dir / "master.key").string();
  const std::string dalil = DALIL_BINARY;

  encrypted_store() { run(dalil + " keys init --key-file " + key + " --db " + db + " 2>&1"); }
  ~encrypted_store() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  encrypted_store(const encrypted_store&) = delete;
  encrypted_store& operator=(const encrypted_store&) = delete;

  /// A server's configuration on it (its master key, any free port, a log in the folder).
  [[nodiscard]] dalil::server::config config() const {
    dalil::server::config c;
    c.db = db;
    auto master = dalil::store::crypto::load_master_key(key);
    REQUIRE(master.has_value());
    c.master_key = std::move(*master);
    c.key_file = key;
    c.port = 0;
    c.log_file = (dir / "log").string();
    return c;
  }
};

/// `record` (a line of a cohort) with its id replaced by `id`.
/// `record` with the text of its first field named `key` replaced by `value`.
std::string with_text(std::string record, const std::string& key, const std::string& value) {
  const std::string field = "\"" + key + "\":\"";
  auto at = record.find(field);
  REQUIRE(at != std::string::npos);
  at += field.size();
  record.replace(at, record.find('"', at) - at, value);
  return record;
}

std::string with_id(std::string record, const std::string& id) {
  return with_text(std::move(record), "id", id);
}

/// The sample cohort's first record.
std::string first_sample_record() {
  return last_line(run("head -1 " + std::string(DALIL_SOURCE_DIR) + "/data/sample-cohort.jsonl"));
}

/// How many of `bytes` (at most 4,096) bytes at `address`, past the first 16 (where an
/// allocator keeps a freed block's links), are `c`: read through /proc/self/mem, never through a
/// freed pointer, into a buffer on the stack (one allocated here could be the freed block).
std::size_t bytes_equal_to(std::uintptr_t address, std::size_t bytes, char c) {
  std::array<char, 4096> buf{};
  REQUIRE(bytes <= buf.size());
  int fd = ::open("/proc/self/mem", O_RDONLY);
  REQUIRE(fd >= 0);
  ssize_t got = pread(fd, buf.data(), bytes, static_cast<off_t>(address));
  ::close(fd);
  REQUIRE(got == static_cast<ssize_t>(bytes));
  return static_cast<std::size_t>(
      std::count(buf.begin() + 16, buf.begin() + static_cast<std::ptrdiff_t>(bytes), c));
}

}  // namespace

TEST_CASE("server: a block freed through operator delete is zeroed (store/zero_on_free.cpp)",
          "[server][remnants]") {
  // The processes that handle records link store/zero_on_free.cpp: every form of delete zeroes
  // the block before freeing it, so that no buffer that held personal values (a string that grew,
  // a vector, a map's node) keeps them once freed, whatever the allocator under it.
  if (sanitized) {
    WARN("skipped under a sanitizer: its runtime owns operator delete");
    return;
  }
  constexpr std::size_t n = 4096;
  SECTION("an allocator's deallocate (the sized delete where the compiler has it)") {
    std::allocator<char> a;
    char* p = a.allocate(n);
    std::memset(p, 'x', n);
    const auto at = reinterpret_cast<std::uintptr_t>(p);
    a.deallocate(p, n);
    CHECK(bytes_equal_to(at, n, 'x') == 0);
  }
  SECTION("unsized delete of an array") {
    auto* p = new char[n];
    std::memset(p, 'x', n);
    const auto at = reinterpret_cast<std::uintptr_t>(p);
    delete[] p;
    CHECK(bytes_equal_to(at, n, 'x') == 0);
  }
  SECTION("a string's first buffer, freed as it grows") {
    std::string s(n, 'x');
    const auto at = reinterpret_cast<std::uintptr_t>(s.data());
    s.append(4 * n, 'y');
    CHECK(bytes_equal_to(at, n, 'x') == 0);
    CHECK(s.size() == 5 * n);
  }
  SECTION("a map's nodes") {
    auto texts = std::make_unique<std::map<std::string, int>>();
    const std::string key(200, 'x');
    texts->emplace(key, 1);
    const auto at = reinterpret_cast<std::uintptr_t>(texts->begin()->first.data());
    texts.reset();
    CHECK(bytes_equal_to(at, 200, 'x') == 0);
  }
}

TEST_CASE("server: no copy of a request's body stays in its memory once answered (TLS, HTTP)",
          "[server][remnants]") {
  if (sanitized) {
    WARN("skipped under a sanitizer: its shadow memory is too large to read");
    return;
  }
  const fs::path dir = scratch_dir();
  auto s = dalil::server::server::start(tls_config(dir));
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s.has_value());
  const std::string port = std::to_string((*s)->port());

  // Bodies of a few dozen bytes and of 40 KB (read in several pieces: the read buffer grows),
  // the marker ('@') near the start and near the end: POST /api/v1/evaluate without
  // credentials (401, once the body was read whole) and a failed login (a password).
  const std::string pad(40000, ' ');  // JSON whitespace
  struct exchange {
    std::string what;
    std::string url;
    std::string body;
  };
  const std::string https = "https://127.0.0.1:" + port;
  const std::string http = "http://127.0.0.1:" + port;
  const std::vector<exchange> exchanges = {
      {"a small record over TLS", https + "/api/v1/evaluate",
       R"({"as_of":"2020-01-01","applicant":{"id":"@","name":"@"}})"},
      {"a 40 KB record over TLS", https + "/api/v1/evaluate",
       R"({"as_of":"2020-01-01","applicant":{"id":"@",)" + pad + R"("name":"@"}})"},
      {"a password over TLS", https + "/api/v1/login", R"({"user":"nobody","password":"@@"})"},
      {"a small record over plain HTTP", http + "/api/v1/evaluate",
       R"({"as_of":"2020-01-01","applicant":{"id":"@","name":"@"}})"},
      {"a 40 KB record over plain HTTP", http + "/api/v1/evaluate",
       R"({"as_of":"2020-01-01","applicant":{"id":"@",)" + pad + R"("name":"@"}})"},
      {"a password over plain HTTP", http + "/api/v1/login",
       R"({"user":"nobody","password":"@@"})"},
  };
  for (const auto& e : exchanges) {
    SECTION(e.what) {
      reversed_marker m;
      fs::path body = dir / "body";
      write_body(body, m, e.body);
      std::string status =
          run("curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: "
              "application/json' --data-binary @" +
              body.string() + " " + e.url);
      fs::remove(body);
      CHECK(status == "401");
      std::vector<std::string> found = remnants_after_answer(m);
      INFO("the marker is still in: " << Catch::Detail::stringify(found));
      CHECK(found.empty());
    }
  }
  (*s)->stop();
  (*s)->wait();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_CASE(
    "server: an applicant's record leaves no copy in its memory once its decision is stored "
    "(encrypted store)",
    "[server][remnants]") {
  // On an encrypted store nothing of the record is kept in the clear: not in the file (the
  // store's own tests), and not in the server's memory once the answer is sent and the decision
  // committed. The applicant's id is the marker: it is in the body, the record, its canonical
  // JSON, the answer ("applicant") and the decision the writer stores under a pseudonym. So is
  // the applicant's nationality, a text the rules read and the explanations quote.
  if (sanitized) {
    WARN("skipped under a sanitizer: its shadow memory is too large to read");
    return;
  }
  encrypted_store st;
  const fs::path& dir = st.dir;
  const std::string& db = st.db;
  const std::string& dalil = st.dalil;
  std::string token = last_line(
      run(dalil + " token create clerk --role official --office rabat --db " + db + " 2>&1"));

  dalil::server::config c = st.config();
  c.rules = shipped_pack().rules;
  c.canonical_source = shipped_pack().canonical;
  auto s = dalil::server::server::start(c);
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s.has_value());
  const std::string url = "http://127.0.0.1:" + std::to_string((*s)->port()) + "/api/v1/evaluate";

  // The sample cohort's first applicant, under the marker's id; twice (a new record, then the
  // same one again: the stored version reused).
  std::string record = with_text(with_id(first_sample_record(), "@"), "nationality", "@");
  reversed_marker m;
  fs::path body = dir / "body";
  write_body(body, m, R"({"as_of":"2017-06-01","trace":true,"applicant":)" + record + "}");
  for (int i = 0; i < 2; ++i) {
    std::string out =
        run("curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer " + token +
            "' -H 'Content-Type: application/json' --data-binary @" + body.string() + " " + url);
    CHECK(out == "200");
  }
  fs::remove(body);
  std::vector<std::string> found = remnants_after_answer(m);
  INFO("the marker is still in: " << Catch::Detail::stringify(found));
  CHECK(found.empty());

  // The applicant's record and history read back by the official: the id in the path, the
  // record opened and sent. The URLs through a curl config file written as the bodies are.
  for (const char* what : {"record", "decisions"}) {
    fs::path config = dir / "curl.config";
    write_body(config, m,
               "url = \"http://127.0.0.1:" + std::to_string((*s)->port()) +
                   "/api/v1/applicants/@/" + what + "\"\n");
    CHECK(run("curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer " + token +
              "' -K " + config.string()) == "200");
    fs::remove(config);
    found = remnants_after_answer(m);
    INFO("after the applicant's " << what << ": " << Catch::Detail::stringify(found));
    CHECK(found.empty());
  }

  // The official's review of another decision: a reason and the applicant's observations under
  // a new marker; then the decision read back with its review, and the auditors' list of
  // reviews. None leaves a copy.
  const std::string auditor =
      last_line(run(dalil + " token create audit1 --role auditor --db " + db + " 2>&1"));
  std::string plain = record;
  plain.replace(plain.find('@'), 1, "REMNANTS-PLAIN-1");
  { std::ofstream(dir / "plain.json") << R"({"as_of":"2017-06-01","applicant":)" << plain << "}"; }
  // The decision id from the answer, in the shell: this process never holds an answer.
  const std::string decision = last_line(
      run("curl -s -H 'Authorization: Bearer " + token +
          "' -H 'Content-Type: application/json' --data-binary @" + (dir / "plain.json").string() +
          " " + url + " | grep -o '\"decision_id\":\"[0-9a-f]*\"' | cut -d'\"' -f4"));
  REQUIRE(decision.size() == 32);
  const std::string rule = last_line(run("sqlite3 " + db +
                                         " \"SELECT json_extract(rules, '$[0]') FROM "
                                         "counter_decisions WHERE decision_id = '" +
                                         decision + "'\""));
  REQUIRE_FALSE(rule.empty());
  reversed_marker words;
  fs::path review = dir / "review.json";
  write_body(review, words,
             R"({"supersedes":null,"decisions":[{"rule":")" + rule +
                 R"(","outcome":"overridden","value":null,"reason":"@"}],"observations":"@"})");
  const std::string base = "http://127.0.0.1:" + std::to_string((*s)->port()) + "/api/v1/";
  auto status_of = [&](const std::string& args) {
    return run("curl -s -o /dev/null -w '%{http_code}' " + args);
  };
  CHECK(status_of("-H 'Authorization: Bearer " + token +
                  "' -H 'Content-Type: application/json' --data-binary @" + review.string() + " " +
                  base + "decisions/" + decision + "/review") == "201");
  fs::remove(review);
  found = remnants_after_answer(words);
  INFO("after the review, the marker is still in: " << Catch::Detail::stringify(found));
  CHECK(found.empty());
  CHECK(status_of("-H 'Authorization: Bearer " + token + "' " + base + "decisions/" + decision) ==
        "200");
  found = remnants_after_answer(words);
  INFO("after the decision's read: " << Catch::Detail::stringify(found));
  CHECK(found.empty());
  CHECK(status_of("-H 'Authorization: Bearer " + auditor + "' " + base + "reviews") == "200");
  found = remnants_after_answer(words);
  INFO("after the auditors' list: " << Catch::Detail::stringify(found));
  CHECK(found.empty());
  (*s)->stop();
  (*s)->wait();
}

TEST_CASE(
    "server: the advisers' impact and what-if leave no copy of an applicant's record in its "
    "memory (encrypted store)",
    "[server][remnants]") {
  // An impact opens every stored record of the cohort (sealed: in the clear only in the
  // server's memory) and evaluates it under two publications; an auditor's answer names the
  // applicants whose decisions change. A what-if evaluates the record an adviser sends. Once
  // answered, none leaves a copy. Every applicant's id starts with the marker, so that whichever
  // decisions change, the auditor's answer holds it.
  if (sanitized) {
    WARN("skipped under a sanitizer: its shadow memory is too large to read");
    return;
  }
  encrypted_store st;
  const fs::path& dir = st.dir;
  const std::string& db = st.db;
  const std::string& dalil = st.dalil;
  const std::string rules = std::string(DALIL_SOURCE_DIR) + "/rules";

  // The sample cohort, each id made the marker and its line number ("@-1", "@-2", …), written
  // as the bodies are (the file and the server hold the only plain copies), imported by the CLI.
  reversed_marker m;
  std::string cohort;
  {
    std::ifstream in(std::string(DALIL_SOURCE_DIR) + "/data/sample-cohort.jsonl");
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      cohort += with_id(line, "@-" + std::to_string(n)) + "\n";
    }
  }
  REQUIRE(cohort.size() > 1000);
  fs::path cohort_file = dir / "cohort.jsonl";
  write_body(cohort_file, m, cohort);
  dalil::store::crypto::wipe(cohort);
  CHECK(run(dalil + " import --db " + db + " --key-file " + st.key + " --rules " + rules + " " +
            cohort_file.string() + " >/dev/null 2>&1; echo $?") == "0\n");
  fs::remove(cohort_file);

  // Two publications: the shipped pack, and a copy whose minimum wage rises in 2027.
  const fs::path smig = dir / "smig";
  fs::copy(rules, smig, fs::copy_options::recursive);
  {
    std::ifstream in(smig / "housing.dalil");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string from = "  from 2026-01-01 = 17.92 MAD\n";
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), from + "  from 2027-01-01 = 18.79 MAD\n");
    std::ofstream(smig / "housing.dalil", std::ios::trunc) << text;
  }
  const std::vector<std::pair<std::string, std::string>> publications = {
      {rules, "2017-01-01"}, {smig.string(), "2027-01-01"}};
  for (const auto& [pack, from] : publications) {
    CHECK(run(dalil + " publish --db " + db + " --rules " + pack +
              " --approved-by 'Commission SNIA' --from " + from + " >/dev/null 2>&1; echo $?") ==
          "0\n");
  }
  const std::string adviser =
      last_line(run(dalil + " token create adv1 --role adviser --db " + db + " 2>&1"));
  const std::string auditor =
      last_line(run(dalil + " token create aud1 --role auditor --db " + db + " 2>&1"));

  auto s = dalil::server::server::start(st.config());  // no rules: the publications
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s.has_value());
  const std::string base = "http://127.0.0.1:" + std::to_string((*s)->port()) + "/api/v1/";
  auto post = [&](const std::string& token, const std::string& route, const fs::path& body) {
    return run("curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer " + token +
               "' -H 'Content-Type: application/json' --data-binary @" + body.string() + " " +
               base + route);
  };

  // The impact, by an adviser (pseudonyms) and by an auditor (the ids: the marker in the
  // answer). The auditor's answer is checked to name applicants, through a shell that keeps
  // it out of this process.
  fs::path impact = dir / "impact.json";
  std::ofstream(impact) << R"({"old":1,"new":2,"as_of":"2027-06-01"})";
  CHECK(post(adviser, "impact", impact) == "200");
  std::vector<std::string> found = remnants_after_answer(m);
  INFO("after the adviser's impact, the marker is still in: " << Catch::Detail::stringify(found));
  CHECK(found.empty());
  const std::string flips =
      last_line(run("curl -s -H 'Authorization: Bearer " + auditor +
                    "' -H 'Content-Type: application/json' --data-binary @" + impact.string() +
                    " " + base + "impact | grep -o '\"flip_list\":\\[{' | wc -l"));
  CHECK(flips == "1");  // at least one applicant named
  found = remnants_after_answer(m);
  INFO("after the auditor's impact: " << Catch::Detail::stringify(found));
  CHECK(found.empty());

  // A what-if on a record carrying the marker as its id and as its nationality, a text the
  // goal's rule reads (employment: nationality in ["SN", "DZ", "TN"]), so that the solver holds
  // it among its texts.
  const std::string record = with_text(with_id(first_sample_record(), "@"), "nationality", "@");
  fs::path whatif = dir / "whatif.json";
  write_body(whatif, m,
             R"({"facts":)" + record +
                 R"(,"as_of":"2025-01-01","goal":"employment.national_preference_exempt=true"})");
  CHECK(post(adviser, "whatif", whatif) == "200");
  fs::remove(whatif);
  found = remnants_after_answer(m);
  INFO("after the what-if: " << Catch::Detail::stringify(found));
  CHECK(found.empty());

  (*s)->stop();
  (*s)->wait();
}
