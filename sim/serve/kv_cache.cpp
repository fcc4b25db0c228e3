#include "sim/serve/kv_cache.h"

#include <fmt/format.h>

#include "common/error.h"

namespace tasim::serve {

KvBlockManager::KvBlockManager(int total_blocks, int block_size) : total_(total_blocks), block_size_(block_size) {
  if (block_size < 1) throw Error(fmt::format("--block-size {} must be >= 1", block_size));
  if (total_blocks < 1) throw Error(fmt::format("the KV cache has {} blocks: it needs at least one", total_blocks));
}

int KvBlockManager::blocks_for(long long tokens) const {
  return static_cast<int>((tokens + block_size_ - 1) / block_size_);
}

int KvBlockManager::held(int request) const {
  const auto it = held_.find(request);
  return it == held_.end() ? 0 : it->second;
}

bool KvBlockManager::reserve(int request, long long tokens) {
  const int have = held(request);
  const int need = blocks_for(tokens) - have;
  if (need <= 0) return true;
  if (need > free_blocks()) return false;
  held_[request] = have + need;
  used_ += need;
  return true;
}

void KvBlockManager::release(int request) {
  const auto it = held_.find(request);
  if (it == held_.end()) return;
  used_ -= it->second;
  held_.erase(it);
}

}  // namespace tasim::serve
