// The paged KV cache of a replica (vLLM's block manager): `total_blocks` blocks of `block_size`
// tokens. A request holds ceil(tokens / block_size) blocks for the tokens it has computed, grows
// block by block and gives them back when it finishes or is preempted; used + free = total at all
// times, where used counts the blocks some request holds.
//
// With prefix caching (vLLM's automatic prefix caching): a full block whose tokens are known is
// named by a chained hash of its tokens and every token before it (Request's block hashes); when
// its last holder lets it go it stays in the cache, free but still named, until a new allocation
// evicts it (least recently freed first, a request's blocks freed from its last to its first). A
// request starting from scratch takes over the longest run of cached blocks its prompt begins
// with; at least its prompt's last token is always computed, so a prompt of P tokens hits at most
// block_size x floor((P - 1) / block_size) tokens.
//
// Token-granular matching (PrefixMatch::token, SGLang's radix tree, where a hit need not be a
// multiple of the block size): past the cached full blocks, the hit goes on into the next block as
// far as some cached (named) block at that position begins with the same tokens; those tokens are
// copied into a block of the request's own (not computed), at most P - 1 tokens in all.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <unordered_map>
#include <vector>

namespace tasim::serve {

enum class PrefixMatch { block, token };

// Token-granular matching: the name of a request's first block x block_size + t tokens, for
// t = 1..block_size-1 (partial_block_hash in request.h); computed on demand, only for the blocks
// a match or a naming looks at.
using PartialBlockName = std::function<std::uint64_t(std::size_t block, int t)>;

class KvBlockManager {
 public:
  // Throws tasim::Error for block_size < 1 or total_blocks < 1.
  KvBlockManager(int total_blocks, int block_size, bool prefix_caching = false,
                 PrefixMatch match = PrefixMatch::block);
  // A copy has the same blocks, held and cached, with its own free list (each block knows its
  // place in the list: copied naively, they would point into the original's).
  KvBlockManager(const KvBlockManager& other);
  KvBlockManager& operator=(const KvBlockManager& other);
  KvBlockManager(KvBlockManager&&) = default;
  KvBlockManager& operator=(KvBlockManager&&) = default;

  int block_size() const { return block_size_; }
  bool prefix_caching() const { return prefix_caching_; }
  PrefixMatch prefix_match() const { return match_; }
  int total_blocks() const { return static_cast<int>(blocks_.size()); }
  int used_blocks() const { return used_; }
  int free_blocks() const { return total_blocks() - used_; }
  int cached_blocks() const { return static_cast<int>(by_hash_.size()); }  // named, held or free
  int blocks_for(long long tokens) const;  // ceil(tokens / block_size)
  int held(int request) const;             // blocks the request holds

  // Grows the request's blocks to hold `tokens` tokens; false (and nothing changed) when the free
  // blocks do not suffice. Free cached blocks are evicted as needed.
  bool reserve(int request, long long tokens);
  void release(int request);  // every block of the request back to the free pool

  // Prefix caching (no-ops without it). For a request that holds no blocks: takes the cached
  // blocks its prompt begins with (`hashes`: its prompt's full blocks, in order; `partial`: the
  // names of partial blocks, for token-granular matching) and returns the tokens they hold
  // (token-granular: and the tokens matched in the next block, which it will hold a block of its
  // own for).
  long long take_cached_prefix(int request, const std::vector<std::uint64_t>& hashes, long long prompt_tokens,
                               const PartialBlockName& partial = {});
  // The tokens take_cached_prefix would give a request with these hashes now, taking nothing (for
  // SGLang's longest-prefix-match ordering and prefix-aware routing).
  long long cached_prefix_tokens(const std::vector<std::uint64_t>& hashes, long long prompt_tokens,
                                 const PartialBlockName& partial = {}) const;
  // Names the request's full blocks among its first `computed` tokens with their hashes (and, for
  // token-granular matching, their partial hashes), so later requests can take them.
  void cache_full_blocks(int request, const std::vector<std::uint64_t>& hashes, long long computed,
                         const PartialBlockName& partial = {});

 private:
  struct Block {
    int holders = 0;
    bool named = false;
    std::uint64_t hash = 0;
    std::list<int>::iterator in_free;  // valid while holders == 0
    std::vector<std::uint64_t> partial;  // token matching: the names of its first 1..block_size-1 tokens
  };
  struct Match {
    std::size_t blocks = 0;      // cached full blocks
    long long extra_tokens = 0;  // token-granular: matched tokens of the next block
  };
  Match match(const std::vector<std::uint64_t>& hashes, long long prompt_tokens,
              const PartialBlockName& partial) const;
  void forget_name(Block& block);
  void relink_free_blocks();  // each free block's place in free_
  int take_free_block();  // the least recently freed; its name goes if it had one

  int block_size_;
  bool prefix_caching_;
  PrefixMatch match_;
  int used_ = 0;
  std::vector<Block> blocks_;
  std::list<int> free_;  // least recently freed first
  std::unordered_map<std::uint64_t, int> by_hash_;
  // Token matching: the named blocks by the name of their first token (and every token before
  // them): those a match of at least one token can be with, whose longer names it then compares.
  std::unordered_map<std::uint64_t, std::vector<int>> by_first_token_;
  std::map<int, std::vector<int>> held_;  // request -> its blocks, in token order
};

}  // namespace tasim::serve
