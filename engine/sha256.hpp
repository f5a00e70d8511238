// SHA-256 (OpenSSL) as lowercase hex: ruleset identities and record content hashes.
#pragma once

#include <string>
#include <string_view>

namespace dalil::engine {

std::string sha256_hex(std::string_view data);

}  // namespace dalil::engine
