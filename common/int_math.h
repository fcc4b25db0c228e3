// Integer helpers for sizes and counts (bytes, rows, tiles): one definition for every layer.
#pragma once

#include <cstdint>

namespace tasim {

// a / b rounded up (b > 0), without the overflow of (a + b - 1) / b near 2^64.
constexpr std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0); }
// v rounded up to a multiple of a (a > 0).
constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return ceil_div(v, a) * a; }

}  // namespace tasim
