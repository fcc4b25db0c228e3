#include "common/printable.h"

#include <fmt/format.h>

#include <iterator>

namespace tasim {

namespace {
std::string escape(std::string_view text, bool keep_lines_and_utf8) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool control = (c < 0x20 && !(keep_lines_and_utf8 && c == '\n')) || c == 0x7f;
    if (control || (c > 0x7f && !keep_lines_and_utf8)) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    } else {
      out += ch;
    }
  }
  return out;
}
}  // namespace

std::string printable(std::string_view text) { return escape(text, false); }
std::string printable_message(std::string_view text) { return escape(text, true); }

}  // namespace tasim
