#include "dsl/reason_text.hpp"

#include <cctype>

namespace dalil::dsl {

std::vector<reason_part> reason_parts(std::string_view raw) {
  std::vector<reason_part> out;
  constexpr std::string_view keyword = "not_encoded";
  std::size_t i = raw.substr(0, keyword.size()) == keyword ? keyword.size() : 0;
  auto skip = [&] {
    while (i < raw.size()) {
      if (std::isspace(static_cast<unsigned char>(raw[i]))) {
        ++i;
      } else if (raw[i] == '#') {
        while (i < raw.size() && raw[i] != '\n') ++i;
      } else {
        break;
      }
    }
  };
  while (true) {
    skip();
    if (i >= raw.size()) break;
    reason_part part;
    part.lang_begin = i;
    while (i < raw.size() && raw[i] != '"' && !std::isspace(static_cast<unsigned char>(raw[i]))) {
      ++i;
    }
    part.lang_end = i;
    skip();
    part.text_begin = i;
    for (++i; i < raw.size() && raw[i] != '"'; ++i) {
      if (raw[i] == '\\') ++i;
    }
    i = i < raw.size() ? i + 1 : raw.size();
    part.text_end = i;
    out.push_back(part);
  }
  return out;
}

}  // namespace dalil::dsl
