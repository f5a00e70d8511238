// `dalil generate`: deterministic SYNTHETIC applicant records (no names, no real person) for
// load tests, demonstrations and batch runs, as JSON lines or CSV.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dalil::cli {

/// Writes `count` records drawn from `seed` to `out_path` ("-" for stdout) in `format` ("jsonl"
/// or "csv", the convention of engine/csv.hpp). The same seed gives the same records on every
/// platform, and a longer run starts with the records of a shorter one; a CSV row read back with
/// engine::csv_row_to_json gives exactly the JSON line of the same record. Returns 0, or 2 with a
/// message on std::cerr for an unknown format or a write failure.
int run_generate(std::size_t count, std::uint64_t seed, const std::string& format,
                 const std::string& out_path);

}  // namespace dalil::cli
