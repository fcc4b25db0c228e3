// The message of the tasim::Error a call throws, for tests of error messages.
#pragma once

#include <functional>
#include <string>

#include "common/error.h"

namespace tasim::testing {

// "<no error>" when the call returns.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace tasim::testing
