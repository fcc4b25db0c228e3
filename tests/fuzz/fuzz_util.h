// libFuzzer harnesses (tests/fuzz/*.cpp, built with -DTASIM_FUZZ=ON by clang; scripts/sanitize
// runs them). Each feeds its input to one reader of untrusted input: a tasim::Error is the right
// answer to bad input; anything else (a crash, a sanitizer report, another exception, a broken
// round trip) is a finding.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/error.h"

namespace tasim::fuzz {

inline std::string text_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// A broken invariant: report it and stop (libFuzzer records the input).
[[noreturn]] inline void broken(const char* what) {
  std::fprintf(stderr, "fuzz: invariant broken: %s\n", what);
  std::abort();
}

// Runs f; tasim::Error is the expected refusal of bad input.
template <class F>
void expect_error_or_ok(F f) {
  try {
    f();
  } catch (const Error&) {
  }
}

}  // namespace tasim::fuzz
