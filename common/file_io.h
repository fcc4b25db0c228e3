// Reading a whole input file (architecture, model, program, sweep spec, results) with one kind of
// error: "PATH: cannot open WHAT: reason", naming the file and what tasim expected it to be.
#pragma once

#include <string>

namespace tasim {

// The file's bytes. `what` names it in errors ("architecture file", "program"); a directory or a
// missing or unreadable file throws Error.
std::string read_file_bytes(const std::string& path, const char* what);

}  // namespace tasim
