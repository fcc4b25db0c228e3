// What a serving simulation serves: requests arriving over time, each a prompt to prefill and a
// number of output tokens to decode (docs/serving.md).
#pragma once

#include <cstdint>
#include <vector>

namespace tasim::serve {

struct Request {
  int id = 0;                 // 0, 1, ... in arrival order
  double arrival_s = 0.0;     // seconds from the start of the run
  int prompt_tokens = 1;      // >= 1
  int output_tokens = 1;      // >= 1: the first comes with the prefill's last step
  int priority = 0;           // smaller is served first under policy priority (vLLM's convention)
  // Requests of one prefix group (>= 0) begin with the same prefix_tokens tokens (a system
  // prompt); the rest of every prompt is its own.
  int prefix_group = -1;
  int prefix_tokens = 0;
  // Or, from a trace (Mooncake's hash_ids): the content of the prompt by blocks of
  // content_block_tokens tokens, equal ids meaning equal tokens (and equal tokens before them);
  // tokens past the listed blocks are the request's own.
  std::vector<std::uint64_t> content_ids;
  int content_block_tokens = 0;
  // Or (generated conversations and parallel samples): the prompt as segments of tokens, each
  // named by an id, equal ids meaning equal tokens; tokens past the segments are the request's
  // own. A conversation's turn lists its earlier turns' prompts and outputs, then its new tokens.
  struct Segment {
    std::uint64_t id = 0;
    int tokens = 0;
  };
  std::vector<Segment> segments;
  // Nonzero (a conversation's turn, with segments): its output tokens are this segment, which the
  // next turn's prompt repeats, so the blocks of its outputs are named in the prefix cache too.
  std::uint64_t output_segment = 0;
};

// The chained hashes of a prompt's full blocks (prefix caching): block j's hash depends on its
// tokens and on every token before it, so two prompts share block j's hash exactly when they
// share their first (j + 1) x block_size tokens.
std::vector<std::uint64_t> prompt_block_hashes(const Request& request, int block_size);

// The names of the blocks the prefix cache may keep: the prompt's full blocks, and with an
// output_segment also the full blocks of its outputs (every output but the last is computed).
std::vector<std::uint64_t> cached_block_hashes(const Request& request, int block_size);

// For token-granular prefix matching: the chained hash of the first block x block_size + t tokens
// (t = 1..block_size-1) of what cached_block_hashes names, given the hash of the blocks before
// (cached_block_hashes[block - 1], 0 for block 0). Two requests share one exactly when they share
// those tokens.
std::uint64_t partial_block_hash(const Request& request, int block_size, std::uint64_t chain_before,
                                 int block, int t);

}  // namespace tasim::serve
