// Loading rule sources from disk: what is not a readable regular `.dalil` file is an error naming
// the path and the reason (never skipped, never a hang on a FIFO), and the size limits hold.
#include "dsl/loader.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "dsl/limits.hpp"

namespace fs = std::filesystem;
using namespace dalil::dsl;

namespace {

/// A fresh folder under the system's temporary folder, removed at the end of the test.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("dalil_loader_test_" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

struct loaded {
  source_map sources;
  diagnostics diags;
  std::vector<file_id> files;
};

std::unique_ptr<loaded> load(const fs::path& root) {
  auto l = std::make_unique<loaded>();
  l->files = load_sources(root, l->sources, l->diags);
  return l;
}

/// "code: message" of every diagnostic, the path made relative to `base`.
std::vector<std::string> messages(const loaded& l, const fs::path& base) {
  std::vector<std::string> out;
  std::string prefix = base.string() + "/";
  for (const diagnostic& d : l.diags.all()) {
    std::string m = d.message;
    for (auto at = m.find(prefix); at != std::string::npos; at = m.find(prefix)) {
      m.erase(at, prefix.size());
    }
    out.push_back(d.code + ": " + m);
  }
  return out;
}

// NOLINTNEXTLINE(cert-err58-cpp)
const std::string module_text = "module m\n";

}  // namespace

TEST_CASE("loader: a directory, a FIFO or a dangling link named .dalil is an error",
          "[dsl][loader]") {
  temp_dir t;
  write(t.path / "a.dalil", module_text);
  fs::create_directory(t.path / "folder.dalil");
  REQUIRE(::mkfifo((t.path / "pipe.dalil").c_str(), 0600) == 0);
  fs::create_symlink(t.path / "nowhere", t.path / "dangling.dalil");
  fs::create_symlink(t.path / "a.dalil", t.path / "link.dalil");  // a link to a file is fine
  write(t.path / "notes.txt", "not a rule source");
  auto l = load(t.path);
  // Returns at all: the FIFO was never opened for a blocking read.
  CHECK(messages(*l, t.path) == std::vector<std::string>{
                                    "E0005: dangling.dalil is a dangling symbolic link",
                                    "E0005: folder.dalil is a directory",
                                    "E0005: pipe.dalil is not a regular file",
                                });
  REQUIRE(l->files.size() == 2);
  CHECK(l->sources.text(l->files[0]) == module_text);
  CHECK(l->sources.text(l->files[1]) == module_text);
  // The diagnostic names the path where the renderer prints positions.
  std::string rendered = render_all(l->sources, l->diags);
  CHECK(rendered.find((t.path / "pipe.dalil").string() + ":1:1: error[E0005]") !=
        std::string::npos);
}

TEST_CASE("loader: a FIFO, a dangling link or a missing path given as the root is an error",
          "[dsl][loader]") {
  temp_dir t;
  REQUIRE(::mkfifo((t.path / "pipe.dalil").c_str(), 0600) == 0);
  fs::create_symlink(t.path / "nowhere", t.path / "dangling.dalil");
  fs::create_directory(t.path / "empty");
  write(t.path / "empty" / "readme.md", "no rules here");
  CHECK(messages(*load(t.path / "pipe.dalil"), t.path) ==
        std::vector<std::string>{"E0005: pipe.dalil is not a regular file"});
  CHECK(messages(*load(t.path / "dangling.dalil"), t.path) ==
        std::vector<std::string>{"E0005: dangling.dalil is a dangling symbolic link"});
  CHECK(messages(*load(t.path / "missing"), t.path) ==
        std::vector<std::string>{"E0005: missing does not exist"});
  CHECK(messages(*load(t.path / "empty"), t.path) ==
        std::vector<std::string>{"E0005: empty holds no .dalil file"});
}

TEST_CASE("loader: an unreadable file says why", "[dsl][loader]") {
  if (::geteuid() == 0) return;  // root reads whatever the mode says
  temp_dir t;
  write(t.path / "a.dalil", module_text);
  fs::permissions(t.path / "a.dalil", fs::perms::none);
  CHECK(messages(*load(t.path), t.path) ==
        std::vector<std::string>{"E0005: a.dalil cannot be read: Permission denied"});
}

TEST_CASE("loader: a file past the size limit is refused before it is read", "[dsl][loader]") {
  temp_dir t;
  write(t.path / "a.dalil", module_text);
  // Sparse: the size is what fstat says, no disk is written and nothing need be read.
  std::ofstream(t.path / "big.dalil").close();
  fs::resize_file(t.path / "big.dalil", limits::max_file_bytes + 1);
  write(t.path / "exact.dalil", std::string(limits::max_file_bytes, ' '));
  auto l = load(t.path);
  CHECK(messages(*l, t.path) ==
        std::vector<std::string>{"E0006: big.dalil is 4194305 bytes, past the limit of 4 MiB for "
                                 "one rule source file"});
  CHECK(l->files.size() == 2);  // a.dalil, and exact.dalil at the limit
}

TEST_CASE("loader: a pack past the size limit stops loading at the file that passes it",
          "[dsl][loader]") {
  temp_dir t;
  std::size_t fit = limits::max_pack_bytes / limits::max_file_bytes;  // 8 files of 4 MiB fit
  for (std::size_t i = 0; i <= fit; ++i) {
    fs::path p = t.path / ("m" + std::to_string(i) + ".dalil");
    std::ofstream(p).close();
    fs::resize_file(p, limits::max_file_bytes);
  }
  auto l = load(t.path);
  CHECK(l->files.size() == fit);
  CHECK(messages(*l, t.path) ==
        std::vector<std::string>{"E0006: m" + std::to_string(fit) +
                                 ".dalil takes the rule pack past the limit of 32 MiB for all "
                                 "its files together"});
}
