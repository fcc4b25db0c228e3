#include "sim/serve/kv_cache.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"

namespace tasim::serve {

KvBlockManager::KvBlockManager(int total_blocks, int block_size, bool prefix_caching, PrefixMatch match)
    : block_size_(block_size), prefix_caching_(prefix_caching), match_(match) {
  if (block_size < 1) throw Error(fmt::format("--block-size {} must be >= 1", block_size));
  if (total_blocks < 1) throw Error(fmt::format("the KV cache has {} blocks: it needs at least one", total_blocks));
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

int KvBlockManager::held(int request) const {
  const auto it = held_.find(request);
  return it == held_.end() ? 0 : static_cast<int>(it->second.size());
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

bool KvBlockManager::reserve(int request, long long tokens) {
  const int need = blocks_for(tokens) - held(request);
  if (need <= 0) return true;
  if (need > free_blocks()) return false;
  std::vector<int>& mine = held_[request];
  for (int i = 0; i < need; ++i) mine.push_back(take_free_block());
  return true;
}

void KvBlockManager::release(int request) {
  const auto it = held_.find(request);
  if (it == held_.end()) return;
  // Last block first: a prompt's tail is the least likely to be shared, so it is evicted first.
  for (auto b = it->second.rbegin(); b != it->second.rend(); ++b) {
    Block& block = blocks_[static_cast<std::size_t>(*b)];
    if (--block.holders > 0) continue;
    --used_;
    block.in_free = free_.insert(free_.end(), *b);
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
  std::vector<int>& mine = held_[request];
  for (std::size_t j = 0; j < m.blocks; ++j) {
    const int b = by_hash_.at(hashes[j]);
    Block& block = blocks_[static_cast<std::size_t>(b)];
    if (block.holders++ == 0) {
      free_.erase(block.in_free);
      ++used_;
    }
    mine.push_back(b);
  }
  return static_cast<long long>(m.blocks) * block_size_ + m.extra_tokens;
}

void KvBlockManager::cache_full_blocks(int request, const std::vector<std::uint64_t>& hashes,
                                       long long computed, const PartialBlockName& partial) {
  if (!prefix_caching_) return;
  const auto it = held_.find(request);
  if (it == held_.end()) return;
  const auto full = static_cast<std::size_t>(computed / block_size_);
  for (std::size_t j = 0; j < full && j < hashes.size() && j < it->second.size(); ++j) {
    Block& block = blocks_[static_cast<std::size_t>(it->second[j])];
    if (block.named || by_hash_.count(hashes[j])) continue;  // named already, or another block has these tokens
    block.named = true;
    block.hash = hashes[j];
    by_hash_[hashes[j]] = it->second[j];
    if (match_ != PrefixMatch::token || !partial || block_size_ < 2) continue;
    for (int t = 1; t < block_size_; ++t) block.partial.push_back(partial(j, t));
    by_first_token_[block.partial.front()].push_back(it->second[j]);
  }
}

}  // namespace tasim::serve
