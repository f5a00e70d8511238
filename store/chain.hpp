// The audit chain's one writer: every part of the store that appends an entry (the batch, the
// import, the server's counter decisions and reviews) goes through append_audit, inside the
// write transaction of the change the entry vouches for.
#pragma once

#include <cstdint>
#include <string>

#include "store/result.hpp"
#include "store/sqlite.hpp"

namespace dalil::store::detail {

/// The hash of an audit entry: SHA-256 (hex) of its fields joined by US (0x1f), the previous
/// entry's hash first.
std::string entry_hash(const std::string& prev, std::int64_t seq, const std::string& at,
                       const std::string& actor, const std::string& action,
                       const std::string& subject, const std::string& details);

/// Appends an entry linked to the last one; the caller holds the write transaction (BEGIN
/// IMMEDIATE) and commits or rolls back with the change. Returns the entry's sequence number.
result<std::int64_t> append_audit(database& db, const std::string& actor, const std::string& action,
                                  const std::string& subject, const std::string& details);

}  // namespace dalil::store::detail
