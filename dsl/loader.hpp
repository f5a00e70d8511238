// Reading rule sources from disk: every `.dalil` file of a pack into a source_map, refusing (with
// a diagnostic naming the path) what is not a readable regular file or is past the size limits.
#pragma once

#include <filesystem>
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

}  // namespace dalil::dsl
