// Files embedded into the binary at build time (server/embed.cmake): the page's static assets
// from server/www/ and the OpenAPI document, served from memory.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace dalil::server {

struct asset {
  std::string_view path;  // relative to server/www/ ("index.html", "app.js", "fonts/x.woff2")
  std::string_view content_type;
  const unsigned char* bytes;
  std::size_t size;
  std::string_view body() const { return {reinterpret_cast<const char*>(bytes), size}; }
};

/// Every file under server/www/, sorted by path.
std::span<const asset> www_assets();
/// The OpenAPI document (server/openapi.json), as its only entry.
std::span<const asset> openapi_assets();

/// The asset at `path` (relative, as in the URL after /assets/), or nullptr.
const asset* find_asset(std::string_view path);

}  // namespace dalil::server
