// Reading rule sources from disk: every `.dalil` file of a pack into a source_map, refusing (with
// a diagnostic naming the path) what is not a readable regular file or is past the size limits.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dsl/diagnostics.hpp"
#include "dsl/source.hpp"

namespace dalil::dsl {

/// Loads every `.dalil` file under `root` (a file, or a directory searched recursively in path
/// order) into `sources`, and returns their ids. Never blocks on a FIFO. Each of these is an
/// E0005 error naming the path: a root that does not exist, a folder without `.dalil` files, a
/// `.dalil` entry that is a directory, a dangling symbolic link or not a regular file, a file or
/// folder that cannot be read. A file past limits::max_file_bytes, or a pack past
/// limits::max_pack_bytes or limits::max_pack_files, is an E0006 error (the rest of the pack is
/// then not read).
std::vector<file_id> load_sources(const std::filesystem::path& root, source_map& sources,
                                  diagnostics& diags);

/// A file opened for reading by open_regular_file, or why it was not.
struct regular_file {
  enum class failure { none, cannot_open, directory, not_regular };
  int fd = -1;  // the caller closes it
  std::uintmax_t size = 0;
  failure why = failure::none;
  int error_number = 0;  // errno, for cannot_open
  /// "cannot be read: <reason>", "is a directory", "is not a regular file".
  std::string reason() const;
  /// For a directory or another non-regular file: "is a directory, not a regular file" or
  /// "is not a regular file".
  std::string not_regular_reason() const {
    return why == failure::directory ? "is a directory, not a regular file" : reason();
  }
};

/// Opens `path` for reading only when it is a regular file: the one way every input (rule
/// sources, imported cohorts, `eval --facts`) is opened. A directory, FIFO or device is refused
/// before any read and without blocking (opened O_NONBLOCK, then checked with fstat on the open
/// descriptor, so a path swapped in between is caught too); the descriptor returned is blocking.
regular_file open_regular_file(const char* path);

}  // namespace dalil::dsl
