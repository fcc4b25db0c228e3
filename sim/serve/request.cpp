#include "sim/serve/request.h"

namespace tasim::serve {

namespace {

// SplitMix64's finalizer: a well-mixed 64-bit function of its input.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<std::uint64_t> prompt_block_hashes(const Request& request, int block_size) {
  std::vector<std::uint64_t> hashes;
  if (block_size < 1) return hashes;
  const int blocks = request.prompt_tokens / block_size;
  std::uint64_t h = 0;
  for (int j = 0; j < blocks; ++j) {
    const bool shared = request.prefix_group >= 0 && (j + 1) * block_size <= request.prefix_tokens;
    // The block's tokens: the group's (the same for every member) or the request's own.
    const std::uint64_t tokens = shared ? mix(0x5052454649580000ull ^ static_cast<std::uint64_t>(request.prefix_group))
                                        : mix(0x5245510000000000ull ^ static_cast<std::uint64_t>(request.id));
    h = mix(h ^ mix(tokens + static_cast<std::uint64_t>(j)));
    hashes.push_back(h);
  }
  return hashes;
}

}  // namespace tasim::serve
