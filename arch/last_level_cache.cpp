#include "arch/last_level_cache.h"

#include <algorithm>

namespace tasim {

std::size_t LastLevelCache::RegionHash::operator()(const Region& r) const {
  // FNV-1a over the four fields: deterministic across runs and platforms.
  std::uint64_t h = 1469598103934665603ull;
  for (const std::uint64_t v : {r.addr, r.rows, r.row_bytes, r.stride}) {
    h ^= v;
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h);
}

LastLevelCache::LastLevelCache(const LlcConfig& config, double clock_ghz, std::unique_ptr<MemoryModel> behind)
    : capacity_bytes_(config.capacity_bytes),
      latency_cycles_(config.latency_ns * clock_ghz),
      port_(config.bandwidth_gbps / clock_ghz),
      behind_(std::move(behind)) {}

double LastLevelCache::time_transfer(double now_cycle, std::uint64_t addr, std::uint64_t rows,
                                     std::uint64_t row_bytes, std::uint64_t stride_bytes, bool is_write) {
  const std::uint64_t bytes = rows * row_bytes;
  if (is_write || bytes == 0) return behind_->transfer(now_cycle, addr, rows, row_bytes, stride_bytes, is_write);
  // One region, however its contiguity is written: stride 0, the row size, or any stride of one row.
  const bool contiguous = stride_bytes == row_bytes || rows == 1;
  const Region region{addr, rows, row_bytes, contiguous ? 0 : stride_bytes};
  const auto found = index_.find(region);
  if (found != index_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second);
    hit_bytes_ += bytes;
    const double ready = std::max(now_cycle, found->second->ready_cycle);
    return port_.serve(ready, bytes) + latency_cycles_;
  }
  const double done = behind_->transfer(now_cycle, addr, rows, row_bytes, stride_bytes, false);
  if (bytes <= capacity_bytes_) insert(region, bytes, done);
  return done;
}

void LastLevelCache::insert(const Region& region, std::uint64_t bytes, double ready_cycle) {
  while (cached_bytes_ + bytes > capacity_bytes_ && !lru_.empty()) {
    cached_bytes_ -= lru_.back().bytes;
    index_.erase(lru_.back().region);
    lru_.pop_back();
  }
  lru_.push_front({region, bytes, ready_cycle});
  index_.emplace(region, lru_.begin());
  cached_bytes_ += bytes;
}

}  // namespace tasim
