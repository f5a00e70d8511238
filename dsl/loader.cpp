// Reading rule sources: POSIX open with O_NONBLOCK and fstat on the open descriptor, so that what
// is read is what was checked (a FIFO swapped in after a directory scan never blocks the reader).
#include "dsl/loader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "dsl/codes.hpp"
#include "dsl/limits.hpp"

namespace dalil::dsl {

namespace fs = std::filesystem;

namespace {

std::string mib(std::uintmax_t bytes) {
  return std::to_string(bytes >> 20U) + " MiB";
}

class loader {
 public:
  loader(source_map& sources, diagnostics& diags) : sources_(sources), diags_(diags) {}

  /// An E0005/E0006 diagnostic about `path`, at the start of an empty entry named after it.
  void refuse(const fs::path& path, const char* code, const std::string& why) {
    file_id f = sources_.add(path.string(), "");
    diags_.error(code, {f, 0, 0}, path.string() + " " + why);
  }

  /// Why `path` (a `.dalil` entry of a folder, or the root) cannot be read as a rule source,
  /// or an empty string when it is a regular file or a link to one.
  static std::string unusable(const fs::path& path) {
    std::error_code ec;
    fs::file_status own = fs::symlink_status(path, ec);
    if (ec) return "cannot be read: " + ec.message();
    fs::file_status target = own;
    if (fs::is_symlink(own)) {
      target = fs::status(path, ec);
      if (ec == std::errc::no_such_file_or_directory ||
          ec == std::errc::too_many_symbolic_link_levels) {
        return "is a dangling symbolic link";
      }
      if (ec) return "cannot be read: " + ec.message();
    }
    if (fs::is_directory(target)) return "is a directory";
    if (!fs::is_regular_file(target)) return "is not a regular file";
    return {};
  }

  /// Reads one file; false when the pack limits stop the loading.
  bool read(const fs::path& path) {
    if (files_.size() >= limits::max_pack_files) {
      refuse(path, codes::too_large,
             "is past the limit of " + std::to_string(limits::max_pack_files) +
                 " files in one rule pack");
      return false;
    }
    if (std::string why = unusable(path); !why.empty()) {
      refuse(path, codes::unreadable, why);
      return true;
    }
    regular_file file = open_regular_file(path.c_str());
    if (file.why != regular_file::failure::none) {
      refuse(path, codes::unreadable, file.reason());
      return true;
    }
    const int fd = file.fd;
    struct closer {
      int fd;
      ~closer() { ::close(fd); }
    } guard{fd};
    auto size = file.size;
    if (size > limits::max_file_bytes) {
      refuse(path, codes::too_large,
             "is " + std::to_string(size) + " bytes, past the limit of " +
                 mib(limits::max_file_bytes) + " for one rule source file");
      return true;
    }
    if (total_ + size > limits::max_pack_bytes) {
      refuse(path, codes::too_large,
             "takes the rule pack past the limit of " + mib(limits::max_pack_bytes) +
                 " for all its files together");
      return false;
    }
    // Read at most one byte past the limit: a file that grows while it is read is still bounded.
    std::string text;
    text.resize(static_cast<std::size_t>(size) + 1);
    std::size_t got = 0;
    while (true) {
      if (got == text.size()) {
        if (got > limits::max_file_bytes) break;
        text.resize(std::min<std::size_t>(text.size() * 2, limits::max_file_bytes + 1));
      }
      ssize_t n = ::read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        refuse(path, codes::unreadable, std::string("cannot be read: ") + std::strerror(errno));
        return true;
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got > limits::max_file_bytes) {
      refuse(path, codes::too_large,
             "is past the limit of " + mib(limits::max_file_bytes) + " for one rule source file");
      return true;
    }
    text.resize(got);
    total_ += got;
    files_.push_back(sources_.add(path.string(), std::move(text)));
    return true;
  }

  std::vector<file_id> load(const fs::path& root) {
    std::error_code ec;
    fs::file_status st = fs::status(root, ec);
    if (ec || !fs::is_directory(st)) {
      if (ec == std::errc::no_such_file_or_directory &&
          !fs::is_symlink(fs::symlink_status(root, ec))) {
        refuse(root, codes::unreadable, "does not exist");
      } else {
        read(root);
      }
      return files_;
    }
    std::vector<fs::path> paths;
    fs::recursive_directory_iterator it(root, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path().extension() == ".dalil") paths.push_back(it->path());
    }
    if (ec) {
      // The walk stopped at a folder it could not open: what was found so far is incomplete.
      fs::path where = it == fs::recursive_directory_iterator() ? root : it->path();
      refuse(where, codes::unreadable, "cannot be read: " + ec.message());
      return files_;
    }
    if (paths.empty()) {
      refuse(root, codes::unreadable, "holds no .dalil file");
      return files_;
    }
    std::sort(paths.begin(), paths.end());
    for (const fs::path& p : paths) {
      if (!read(p)) break;
    }
    return files_;
  }

 private:
  source_map& sources_;
  diagnostics& diags_;
  std::vector<file_id> files_;
  std::uintmax_t total_ = 0;
};

}  // namespace

std::vector<file_id> load_sources(const fs::path& root, source_map& sources, diagnostics& diags) {
  return loader(sources, diags).load(root);
}

std::string regular_file::reason() const {
  switch (why) {
    case failure::none:
      return {};
    case failure::cannot_open:
      return std::string("cannot be read: ") + std::strerror(error_number);
    case failure::directory:
      return "is a directory";
    case failure::not_regular:
      return "is not a regular file";
  }
  return {};
}

regular_file open_regular_file(const char* path) {
  regular_file out;
  int fd = ::open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    out.why = regular_file::failure::cannot_open;
    out.error_number = errno;
    return out;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    out.why = regular_file::failure::cannot_open;
    out.error_number = errno;
  } else if (S_ISDIR(st.st_mode)) {
    out.why = regular_file::failure::directory;
  } else if (!S_ISREG(st.st_mode)) {
    out.why = regular_file::failure::not_regular;
  }
  if (out.why != regular_file::failure::none) {
    ::close(fd);
    return out;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  out.fd = fd;
  out.size = static_cast<std::uintmax_t>(st.st_size);
  return out;
}

}  // namespace dalil::dsl
