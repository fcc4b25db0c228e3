// The "bandwidth" memory model (hbm.model, arch/memory_model.h): stacks x channels, each channel a
// bandwidth server; addresses interleave across channels in `interleave_bytes` units (skewed, see
// channel_of_unit), so a transfer's bytes split over the channels it touches, and DMA engines
// contend for channels. Plain C++ (no SystemC) so it is unit-tested directly.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/arch_config.h"
#include "arch/bandwidth_server.h"
#include "arch/memory_model.h"

namespace tasim {

// The channel of interleave unit `unit` (address / interleave_bytes): round-robin, skewed by one
// channel per period and per period of periods, the way HBM controllers hash addresses so that
// power-of-two strides (a tile's rows) spread over channels instead of camping on one.
std::uint64_t channel_of_unit(std::uint64_t unit, std::uint64_t channels);
// Bytes of [addr, addr + len) that land on each channel (added to bytes_per_channel, which has
// one entry per channel).
void add_interleaved_bytes(std::uint64_t addr, std::uint64_t len, std::uint64_t interleave_bytes,
                           std::vector<std::uint64_t>& bytes_per_channel);

class Hbm : public MemoryModel {
 public:
  Hbm(const HbmConfig& config, double clock_ghz);

  // Every channel free and streaming at once: the latency plus bytes at the peak.
  double unloaded_end_cycle(double now_cycle, std::uint64_t bytes) const override {
    return now_cycle + latency_cycles_ + bytes / peak_bytes_per_cycle_;
  }
  double peak_bytes_per_cycle() const override { return peak_bytes_per_cycle_; }

  int channels() const { return static_cast<int>(channels_.size()); }
  double latency_cycles() const { return latency_cycles_; }
  const BandwidthServer& channel(int i) const { return channels_[i]; }

 protected:
  double time_transfer(double now_cycle, std::uint64_t addr, std::uint64_t rows, std::uint64_t row_bytes,
                       std::uint64_t stride_bytes, bool is_write) override;

 private:
  HbmConfig config_;
  double latency_cycles_;
  double peak_bytes_per_cycle_;
  std::vector<BandwidthServer> channels_;
  std::vector<std::uint64_t> scratch_bytes_;  // per-channel split of the current transfer
};

}  // namespace tasim
