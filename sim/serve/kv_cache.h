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
//
// KV groups (vLLM's hybrid KV cache manager): a model whose layers attend differently (full,
// sliding-window, chunked) has its layers split into groups of equal size, one attention kind
// each, and a block is one group's K and V for block_size tokens, so every block is the same size
// and all groups share the pool. A request holds, in each group, the blocks its next step's
// queries can attend: every block in a full group; in a sliding group of window W, those from the
// one holding token max(0, computed - W + 1) on; in a chunked group of chunk C, those from its
// current chunk's start on (`computed` = the tokens already cached before the step). Blocks that
// fall behind go back to the pool (with prefix caching they stay cached, free but named, like a
// finished request's). A prefix hit of h blocks needs every full group's first h blocks and each
// windowed group's blocks from its first needed one up to h cached; token-granular matching applies
// only with one full group (a model with other groups matches whole blocks). One full group (the
// default) is the plain manager above.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <unordered_map>
#include <vector>

namespace tasim::serve {

enum class PrefixMatch { block, token };

// One KV group (above): its layers' attention kind and, for sliding and chunked, its span.
struct KvGroup {
  enum class Kind { full, sliding, chunked };
  Kind kind = Kind::full;
  long long span_tokens = 0;  // sliding: the window; chunked: the chunk; full: unused
};

// Of a sequence's first `computed` tokens, those whose K and V the group's next query attends:
// all of them (full), the last W - 1 (sliding: the query's own key makes W), or those of its
// chunk (chunked). What a disaggregated prefill hands over per group.
long long attended_tokens(const KvGroup& group, long long computed);

// Token-granular matching: the name of a request's first block x block_size + t tokens, for
// t = 1..block_size-1 (partial_block_hash in request.h); computed on demand, only for the blocks
// a match or a naming looks at.
using PartialBlockName = std::function<std::uint64_t(std::size_t block, int t)>;

class KvBlockManager {
 public:
  // Throws tasim::Error for block_size < 1, total_blocks < 1, no groups, or a sliding or chunked
  // group whose span is < 1.
  KvBlockManager(int total_blocks, int block_size, bool prefix_caching = false,
                 PrefixMatch match = PrefixMatch::block, std::vector<KvGroup> groups = {KvGroup{}});
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
  const std::vector<KvGroup>& groups() const { return groups_; }
  int blocks_for(long long tokens) const;  // ceil(tokens / block_size)
  // Blocks a request of `tokens` tokens, `computed` of them cached before its step, holds over
  // every group (one full group: blocks_for(tokens)).
  int blocks_needed(long long tokens, long long computed) const;
  int held(int request) const;  // blocks the request holds, over every group

  // Lets go of the blocks the request's windowed groups no longer need (`computed` tokens cached,
  // 0: none) and grows its blocks to hold `tokens` tokens; false when the free blocks do not
  // suffice, with nothing else changed. Free cached blocks are evicted as needed.
  bool reserve(int request, long long tokens, long long computed = 0);
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
  // The longest hit over several groups (above), in whole blocks.
  std::size_t match_groups(const std::vector<std::uint64_t>& hashes, std::size_t most) const;
  // The first block of `group` a request with `computed` cached tokens still needs.
  std::size_t first_needed_block(const KvGroup& group, long long computed) const;
  // The name of token block j's block in group g: the block's hash in group 0, mixed with g after.
  static std::uint64_t group_name(std::uint64_t hash, std::size_t g);
  bool single_full_group() const { return groups_.size() == 1 && groups_[0].kind == KvGroup::Kind::full; }
  void let_go(int b);  // one holder less; the last one puts it at the end of the free list
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
  // A request's blocks in one group, in token order: blocks[j] for j in [lo, size) are held, those
  // before lo were let go (-1) or never needed.
  struct GroupHold {
    std::vector<int> blocks;
    std::size_t lo = 0;
  };
  std::vector<KvGroup> groups_;
  std::map<int, std::vector<GroupHold>> held_;  // request -> its blocks in each group
};

}  // namespace tasim::serve
