#include "sim/serve/request.h"

#include <algorithm>

namespace tasim::serve {

namespace {

// SplitMix64's finalizer: a well-mixed 64-bit function of its input.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

constexpr std::uint64_t kOwnTokens = 0x5245510000000000ull;     // the request's own
constexpr std::uint64_t kGroupTokens = 0x5052454649580000ull;   // a prefix group's
constexpr std::uint64_t kContentTokens = 0x434f4e5400000000ull; // a trace's content block
constexpr std::uint64_t kSegmentTokens = 0x5345474d00000000ull;  // a part of a named segment

// The tokens [begin, end) of a prompt given as segments: each segment the range overlaps, with
// where the overlap starts in it and how long it is (so equal ranges of equal segments match
// wherever the segments sit), the request's own tokens past them to the prompt's end, then its
// output segment if it has one.
std::uint64_t segments_identity(const Request& r, int begin, int end) {
  std::uint64_t h = mix(kSegmentTokens);
  const auto overlap = [&](std::uint64_t id, long long at, long long tokens) {
    const long long lo = std::max<long long>(begin, at), hi = std::min<long long>(end, at + tokens);
    if (lo >= hi) return;
    h = mix(h ^ id);
    h = mix(h ^ static_cast<std::uint64_t>(lo - at));
    h = mix(h ^ static_cast<std::uint64_t>(hi - lo));
  };
  long long at = 0;
  for (const Request::Segment& seg : r.segments) {
    overlap(seg.id, at, seg.tokens);
    at += seg.tokens;
  }
  if (std::min<long long>(end, r.prompt_tokens) > std::max<long long>(begin, at)) {
    h = mix(h ^ mix(kOwnTokens ^ static_cast<std::uint64_t>(r.id)));
  }
  if (r.output_segment != 0) overlap(r.output_segment, r.prompt_tokens, r.output_tokens);
  return h;
}

// What the tokens [begin, end) of the prompt are, as one number: equal for equal tokens.
std::uint64_t tokens_identity(const Request& r, int begin, int end) {
  if (r.content_block_tokens > 0 && !r.content_ids.empty()) {
    const int cb = r.content_block_tokens;
    const auto listed = static_cast<long long>(r.content_ids.size()) * cb;
    if (end <= listed) {
      // Every content block the range touches, and where in the first one it starts.
      std::uint64_t h = mix(kContentTokens ^ static_cast<std::uint64_t>(begin % cb));
      for (int b = begin / cb; b <= (end - 1) / cb; ++b) h = mix(h ^ r.content_ids[static_cast<std::size_t>(b)]);
      return h;
    }
    return mix(kOwnTokens ^ static_cast<std::uint64_t>(r.id));
  }
  if (!r.segments.empty()) return segments_identity(r, begin, end);
  const bool shared = r.prefix_group >= 0 && end <= r.prefix_tokens;
  return shared ? mix(kGroupTokens ^ static_cast<std::uint64_t>(r.prefix_group))
                : mix(kOwnTokens ^ static_cast<std::uint64_t>(r.id));
}

}  // namespace

namespace {

// The tokens whose blocks the prefix cache may name.
int cacheable_tokens(const Request& r) {
  return r.output_segment != 0 ? r.prompt_tokens + r.output_tokens - 1 : r.prompt_tokens;
}

std::vector<std::uint64_t> block_hashes(const Request& request, int block_size, int tokens) {
  std::vector<std::uint64_t> hashes;
  if (block_size < 1) return hashes;
  const int blocks = tokens / block_size;
  std::uint64_t h = 0;
  for (int j = 0; j < blocks; ++j) {
    const std::uint64_t identity = tokens_identity(request, j * block_size, (j + 1) * block_size);
    h = mix(h ^ mix(identity + static_cast<std::uint64_t>(j)));
    hashes.push_back(h);
  }
  return hashes;
}

}  // namespace

std::vector<std::uint64_t> prompt_block_hashes(const Request& request, int block_size) {
  return block_hashes(request, block_size, request.prompt_tokens);
}

std::vector<std::uint64_t> cached_block_hashes(const Request& request, int block_size) {
  return block_hashes(request, block_size, cacheable_tokens(request));
}

std::uint64_t partial_block_hash(const Request& request, int block_size, std::uint64_t chain_before,
                                 int block, int t) {
  constexpr std::uint64_t kPartial = 0x5041525400000000ull;
  const int begin = block * block_size;
  const std::uint64_t identity = tokens_identity(request, begin, begin + t);
  return mix(chain_before ^ mix(kPartial ^ mix(identity + static_cast<std::uint64_t>(block)) ^
                                static_cast<std::uint64_t>(t)));
}

}  // namespace tasim::serve
