// A last-level cache shared by every core, in front of the chip's memory model: what a GPU's L2
// does for a tiled GEMM, where many cores (SMs) read the same activation and weight tiles and
// all but the first read are served on chip. Without it, every core's re-read of a shared tile
// goes to HBM (docs/validation.md: a 4096^3 GEMM on h200-like moved 12.7x its operands through
// HBM).
//
// Granularity is the transfer, not the cache line: a load hits when a load of the same region
// (address, rows, row bytes, stride) is still cached. The compiler's re-reads are whole tiles
// loaded again by another core or for another block of rows, so they hit exactly; a load that
// only overlaps a cached one misses (counted from HBM in full: an upper bound on traffic). This
// keeps the model O(1) per transfer, which a decode step streaming gigabytes of weights needs.
//
//  - Loads allocate; the least recently used regions are evicted to make room (capacity in
//    bytes). A region larger than the whole cache streams past it.
//  - A hit is served by the cache's bandwidth (one first-come-first-served server of
//    `llc.bandwidth_gbps`) plus its latency; a hit on a region whose fill from HBM is still in flight
//    waits for the fill (the miss-status merge a real cache does), so two cores asking at once
//    cost one HBM read.
//  - Stores go to the memory behind (write-through, no allocate): the cache never serves data
//    an op wrote, so an op's HBM roofline (its inputs from HBM once) still bounds it.
//
// Time in chip cycles, bandwidth in bytes per cycle, like arch/memory_model.h.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>

#include "arch/arch_config.h"
#include "arch/bandwidth_server.h"
#include "arch/memory_model.h"

namespace tasim {

class LastLevelCache : public MemoryModel {
 public:
  // `behind` is the memory misses and stores go to (the chip's HBM model).
  LastLevelCache(const LlcConfig& config, double clock_ghz, std::unique_ptr<MemoryModel> behind);

  double unloaded_end_cycle(double now_cycle, std::uint64_t bytes) const override {
    return behind_->unloaded_end_cycle(now_cycle, bytes);
  }
  double peak_bytes_per_cycle() const override { return behind_->peak_bytes_per_cycle(); }

  // The memory behind the cache: its byte counts are the HBM traffic.
  const MemoryModel& behind() const { return *behind_; }
  std::uint64_t hit_bytes() const { return hit_bytes_; }
  std::uint64_t cached_bytes() const { return cached_bytes_; }

 protected:
  double time_transfer(double now_cycle, std::uint64_t addr, std::uint64_t rows, std::uint64_t row_bytes,
                       std::uint64_t stride_bytes, bool is_write) override;

 private:
  struct Region {
    std::uint64_t addr, rows, row_bytes, stride;
    bool operator==(const Region& o) const {
      return addr == o.addr && rows == o.rows && row_bytes == o.row_bytes && stride == o.stride;
    }
  };
  struct RegionHash {
    std::size_t operator()(const Region& r) const;
  };
  struct Entry {
    Region region;
    std::uint64_t bytes;
    double ready_cycle;  // when its fill from the memory behind completes
  };

  void insert(const Region& region, std::uint64_t bytes, double ready_cycle);

  std::uint64_t capacity_bytes_;
  double latency_cycles_;
  BandwidthServer port_;
  std::unique_ptr<MemoryModel> behind_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<Region, std::list<Entry>::iterator, RegionHash> index_;
  std::uint64_t cached_bytes_ = 0;
  std::uint64_t hit_bytes_ = 0;
};

}  // namespace tasim
