#include "sim/serve/kv_cache.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"

namespace tasim::serve {

long long attended_tokens(const KvGroup& group, long long computed) {
  switch (group.kind) {
    case KvGroup::Kind::full: return computed;
    case KvGroup::Kind::sliding: return std::min(computed, group.span_tokens - 1);
    case KvGroup::Kind::chunked: return computed % group.span_tokens;
  }
  return computed;
}

KvBlockManager::KvBlockManager(int total_blocks, int block_size, bool prefix_caching, PrefixMatch match,
                               std::vector<KvGroup> groups)
    : block_size_(block_size), prefix_caching_(prefix_caching), match_(match), groups_(std::move(groups)) {
  if (block_size < 1) throw Error(fmt::format("--block-size {} must be >= 1", block_size));
  if (total_blocks < 1) throw Error(fmt::format("the KV cache has {} blocks: it needs at least one", total_blocks));
  if (groups_.empty()) throw Error("the KV cache needs at least one group of layers");
  for (const KvGroup& g : groups_) {
    if (g.kind != KvGroup::Kind::full && g.span_tokens < 1) {
      throw Error(fmt::format("a {} KV group needs a span of at least one token, got {}",
                              g.kind == KvGroup::Kind::sliding ? "sliding-window" : "chunked", g.span_tokens));
    }
  }
  blocks_.resize(static_cast<std::size_t>(total_blocks));
  for (int b = 0; b < total_blocks; ++b) blocks_[static_cast<std::size_t>(b)].in_free = free_.insert(free_.end(), b);
}

KvBlockManager::KvBlockManager(const KvBlockManager& other)
    : block_size_(other.block_size_),
      prefix_caching_(other.prefix_caching_),
      match_(other.match_),
      used_(other.used_),
      blocks_(other.blocks_),
      free_(other.free_),
      by_hash_(other.by_hash_),
      by_first_token_(other.by_first_token_),
      groups_(other.groups_),
      held_(other.held_) {
  relink_free_blocks();
}

KvBlockManager& KvBlockManager::operator=(const KvBlockManager& other) {
  if (this != &other) {
    KvBlockManager copy(other);
    *this = std::move(copy);
  }
  return *this;
}

void KvBlockManager::relink_free_blocks() {
  for (auto it = free_.begin(); it != free_.end(); ++it) blocks_[static_cast<std::size_t>(*it)].in_free = it;
}

int KvBlockManager::blocks_for(long long tokens) const {
  return static_cast<int>((tokens + block_size_ - 1) / block_size_);
}

std::size_t KvBlockManager::first_needed_block(const KvGroup& group, long long computed) const {
  const long long bs = block_size_;
  switch (group.kind) {
    case KvGroup::Kind::full: return 0;
    // The step's first query (token `computed`) attends the W keys ending with its own.
    case KvGroup::Kind::sliding:
      return computed - group.span_tokens + 1 <= 0 ? 0
                                                   : static_cast<std::size_t>((computed - group.span_tokens + 1) / bs);
    // It attends the keys of its own chunk.
    case KvGroup::Kind::chunked:
      return static_cast<std::size_t>(computed / group.span_tokens * group.span_tokens / bs);
  }
  return 0;
}

int KvBlockManager::blocks_needed(long long tokens, long long computed) const {
  const auto last = static_cast<std::size_t>(blocks_for(tokens));
  std::size_t n = 0;
  for (const KvGroup& g : groups_) n += last - std::min(first_needed_block(g, computed), last);
  return static_cast<int>(n);
}

int KvBlockManager::held(int request) const {
  const auto it = held_.find(request);
  if (it == held_.end()) return 0;
  std::size_t n = 0;
  for (const GroupHold& h : it->second) n += h.blocks.size() - h.lo;
  return static_cast<int>(n);
}

std::uint64_t KvBlockManager::group_name(std::uint64_t hash, std::size_t g) {
  if (g == 0) return hash;
  // A 64-bit mix (splitmix64's finalizer) of the hash and the group index.
  std::uint64_t x = hash ^ (0x9E3779B97F4A7C15ULL * (static_cast<std::uint64_t>(g) + 1));
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

void KvBlockManager::let_go(int b) {
  Block& block = blocks_[static_cast<std::size_t>(b)];
  if (--block.holders > 0) return;
  --used_;
  block.in_free = free_.insert(free_.end(), b);
}

int KvBlockManager::take_free_block() {
  const int b = free_.front();
  free_.pop_front();
  Block& block = blocks_[static_cast<std::size_t>(b)];
  if (block.named) forget_name(block);  // evicted from the cache
  block.holders = 1;
  ++used_;
  return b;
}

void KvBlockManager::forget_name(Block& block) {
  by_hash_.erase(block.hash);
  block.named = false;
  if (block.partial.empty()) return;
  const auto it = by_first_token_.find(block.partial.front());
  std::vector<int>& same = it->second;
  same.erase(std::find(same.begin(), same.end(), static_cast<int>(&block - blocks_.data())));
  if (same.empty()) by_first_token_.erase(it);
  block.partial.clear();
}

bool KvBlockManager::reserve(int request, long long tokens, long long computed) {
  const auto last = static_cast<std::size_t>(blocks_for(tokens));
  auto it = held_.find(request);
  // Needed in group g: blocks [first, last). What windowed groups hold before first goes back.
  const auto first_in = [&](std::size_t g) { return std::min(first_needed_block(groups_[g], computed), last); };
  std::size_t need = 0;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::size_t first = first_in(g);
    if (it == held_.end()) {
      need += last - first;
      continue;
    }
    GroupHold& h = it->second[g];
    const std::size_t size = h.blocks.size();
    for (; h.lo < std::min(first, size); ++h.lo) {
      let_go(h.blocks[h.lo]);
      h.blocks[h.lo] = -1;
    }
    // Blocks let go earlier and needed again (never, while `computed` only grows), and new ones.
    if (first < h.lo) need += std::min(h.lo, last) - first;
    if (last > std::max(size, first)) need += last - std::max(size, first);
  }
  if (need == 0) return true;
  if (need > static_cast<std::size_t>(free_blocks())) return false;
  if (it == held_.end()) it = held_.emplace(request, std::vector<GroupHold>(groups_.size())).first;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::size_t first = first_in(g);
    GroupHold& h = it->second[g];
    const std::size_t size = h.blocks.size();
    if (size < last) h.blocks.resize(last, -1);
    for (std::size_t j = first; j < std::min(h.lo, last); ++j) h.blocks[j] = take_free_block();
    for (std::size_t j = std::max(size, first); j < last; ++j) h.blocks[j] = take_free_block();
    h.lo = std::min(first, h.blocks.size());
  }
  return true;
}

void KvBlockManager::release(int request) {
  const auto it = held_.find(request);
  if (it == held_.end()) return;
  // Last block first: a prompt's tail is the least likely to be shared, so it is evicted first
  // (token block by token block, each group's in group order).
  std::size_t most = 0;
  for (const GroupHold& h : it->second) most = std::max(most, h.blocks.size());
  for (std::size_t j = most; j-- > 0;) {
    for (const GroupHold& h : it->second) {
      if (j >= h.lo && j < h.blocks.size()) let_go(h.blocks[j]);
    }
  }
  held_.erase(it);
}

// The cached full blocks the prompt begins with, and (token-granular) how far into the next block
// some cached block at that position has the same tokens; at most prompt_tokens - 1 in all, so the
// last token is computed.
KvBlockManager::Match KvBlockManager::match(const std::vector<std::uint64_t>& hashes, long long prompt_tokens,
                                            const PartialBlockName& partial) const {
  Match m;
  if (!prefix_caching_ || prompt_tokens < 1) return m;
  const auto most = static_cast<std::size_t>((prompt_tokens - 1) / block_size_);
  if (!single_full_group()) {
    m.blocks = match_groups(hashes, most);
    return m;
  }
  while (m.blocks < hashes.size() && m.blocks < most && by_hash_.count(hashes[m.blocks])) ++m.blocks;
  if (match_ != PrefixMatch::token || block_size_ < 2 || !partial) return m;
  // The names of the request's first t tokens of the next block, computed once each.
  const long long base = static_cast<long long>(m.blocks) * block_size_;
  const long long most_extra = std::min<long long>(block_size_ - 1, prompt_tokens - 1 - base);
  if (most_extra < 1) return m;
  std::vector<std::uint64_t> names(static_cast<std::size_t>(most_extra), 0);
  std::vector<bool> known(names.size(), false);
  const auto name = [&](long long t) {
    const auto i = static_cast<std::size_t>(t - 1);
    if (!known[i]) {
      names[i] = partial(m.blocks, static_cast<int>(t));
      known[i] = true;
    }
    return names[i];
  };
  const auto candidates = by_first_token_.find(name(1));
  if (candidates == by_first_token_.end()) return m;
  // Against each cached block that begins with that token: the tokens matched are a run from the
  // block's start (if t match, t - 1 do), so a binary search finds the longest.
  m.extra_tokens = 1;
  for (const int b : candidates->second) {
    const std::vector<std::uint64_t>& theirs = blocks_[static_cast<std::size_t>(b)].partial;
    long long lo = m.extra_tokens, hi = most_extra;  // lo tokens match some block
    while (lo < hi) {
      const long long mid = (lo + hi + 1) / 2;
      if (theirs[static_cast<std::size_t>(mid - 1)] == name(mid)) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    m.extra_tokens = lo;
  }
  return m;
}

std::size_t KvBlockManager::match_groups(const std::vector<std::uint64_t>& hashes, std::size_t most) const {
  std::size_t h = std::min(most, hashes.size());
  const auto named = [&](std::size_t j, std::size_t g) { return by_hash_.count(group_name(hashes[j], g)) > 0; };
  // Every full group's blocks from the first.
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].kind != KvGroup::Kind::full) continue;
    std::size_t j = 0;
    while (j < h && named(j, g)) ++j;
    h = j;
  }
  // Each windowed group's: run[g][j] = its named blocks in a row ending with block j.
  std::vector<std::pair<std::size_t, std::vector<std::size_t>>> runs;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].kind == KvGroup::Kind::full) continue;
    std::vector<std::size_t> run(h, 0);
    for (std::size_t j = 0; j < h; ++j) run[j] = named(j, g) ? (j > 0 ? run[j - 1] : 0) + 1 : 0;
    runs.emplace_back(g, std::move(run));
  }
  // The longest hit whose blocks every windowed group still needs are all cached.
  for (; h > 0; --h) {
    bool all = true;
    for (const auto& [g, run] : runs) {
      const std::size_t first = first_needed_block(groups_[g], static_cast<long long>(h) * block_size_);
      if (first < h && run[h - 1] < h - first) {
        all = false;
        break;
      }
    }
    if (all) return h;
  }
  return 0;
}

long long KvBlockManager::cached_prefix_tokens(const std::vector<std::uint64_t>& hashes,
                                               long long prompt_tokens,
                                               const PartialBlockName& partial) const {
  const Match m = match(hashes, prompt_tokens, partial);
  return static_cast<long long>(m.blocks) * block_size_ + m.extra_tokens;
}

long long KvBlockManager::take_cached_prefix(int request, const std::vector<std::uint64_t>& hashes,
                                             long long prompt_tokens, const PartialBlockName& partial) {
  if (held(request) > 0) return 0;
  const Match m = match(hashes, prompt_tokens, partial);
  if (m.blocks == 0) return m.extra_tokens;  // (copied into a block reserve gives it)
  std::vector<GroupHold>& mine = held_.emplace(request, std::vector<GroupHold>(groups_.size())).first->second;
  const long long hit = static_cast<long long>(m.blocks) * block_size_;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    GroupHold& h = mine[g];
    h.blocks.assign(m.blocks, -1);
    h.lo = std::min(first_needed_block(groups_[g], hit), m.blocks);
    for (std::size_t j = h.lo; j < m.blocks; ++j) {
      const int b = by_hash_.at(group_name(hashes[j], g));
      Block& block = blocks_[static_cast<std::size_t>(b)];
      if (block.holders++ == 0) {
        free_.erase(block.in_free);
        ++used_;
      }
      h.blocks[j] = b;
    }
  }
  return hit + m.extra_tokens;
}

void KvBlockManager::cache_full_blocks(int request, const std::vector<std::uint64_t>& hashes,
                                       long long computed, const PartialBlockName& partial) {
  if (!prefix_caching_) return;
  const auto it = held_.find(request);
  if (it == held_.end()) return;
  const auto full = static_cast<std::size_t>(computed / block_size_);
  const bool token_names = match_ == PrefixMatch::token && partial && block_size_ >= 2 && single_full_group();
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const GroupHold& h = it->second[g];
    for (std::size_t j = h.lo; j < full && j < hashes.size() && j < h.blocks.size(); ++j) {
      const int b = h.blocks[j];
      Block& block = blocks_[static_cast<std::size_t>(b)];
      const std::uint64_t name = group_name(hashes[j], g);
      if (block.named || by_hash_.count(name)) continue;  // named already, or another block has these tokens
      block.named = true;
      block.hash = name;
      by_hash_[name] = b;
      if (!token_names) continue;
      for (int t = 1; t < block_size_; ++t) block.partial.push_back(partial(j, t));
      by_first_token_[block.partial.front()].push_back(b);
    }
  }
}

}  // namespace tasim::serve
