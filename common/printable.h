// Text from an input file may hold any bytes; an error must stay readable.
#pragma once

#include <string>
#include <string_view>

namespace tasim {

// `text` with control bytes and every byte above 0x7e written as \xNN: one line of ASCII.
std::string printable(std::string_view text);
// For a whole error message: control bytes written as \xNN, but line breaks (a deadlock report's
// lines) and bytes above 0x7f (UTF-8 in a path) kept.
std::string printable_message(std::string_view text);

}  // namespace tasim
