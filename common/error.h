// tasim::Error: the one exception type for user-facing problems (bad input, bad program,
// bad configuration). It lives in isa/ because isa/ is the bottom layer that every other
// part depends on. main() turns it into one line on stderr and exit code 2.
#pragma once

#include <stdexcept>
#include <string>

namespace tasim {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace tasim
