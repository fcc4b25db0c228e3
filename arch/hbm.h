// HBM: stacks x channels, each channel a bandwidth server; addresses interleave across channels
// in `interleave_bytes` units (skewed, see channel_of_unit), so a transfer's bytes split over the channels it touches. DMA
// engines contend for channels. Plain C++ (no SystemC) so it is unit-tested directly.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/arch_config.h"
#include "arch/bandwidth_server.h"

namespace tasim {

// The channel of interleave unit `unit` (address / interleave_bytes): round-robin, skewed by one
// channel per period and per period of periods, the way HBM controllers hash addresses so that
// power-of-two strides (a tile's rows) spread over channels instead of camping on one.
std::uint64_t channel_of_unit(std::uint64_t unit, std::uint64_t channels);
// Bytes of [addr, addr + len) that land on each channel (added to bytes_per_channel, which has
// one entry per channel).
void add_interleaved_bytes(std::uint64_t addr, std::uint64_t len, std::uint64_t interleave_bytes,
                           std::vector<std::uint64_t>& bytes_per_channel);

class Hbm {
 public:
  // ideal: unlimited bandwidth, zero latency (for SCALE-Sim-style compute-only studies).
  Hbm(const HbmConfig& config, double clock_ghz, bool ideal);

  // A 2-D transfer of `rows` rows of `row_bytes` starting at `addr`, rows `stride_bytes` apart
  // (0 = contiguous), requested at `now_cycle`. Returns the cycle its last byte arrives.
  double transfer(double now_cycle, std::uint64_t addr, std::uint64_t rows, std::uint64_t row_bytes,
                  std::uint64_t stride_bytes, bool is_write);

  int channels() const { return static_cast<int>(channels_.size()); }
  double peak_bytes_per_cycle() const { return peak_bytes_per_cycle_; }
  double latency_cycles() const { return latency_cycles_; }
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t bytes_written() const { return bytes_written_; }
  const BandwidthServer& channel(int i) const { return channels_[i]; }

 private:
  HbmConfig config_;
  bool ideal_;
  double latency_cycles_;
  double peak_bytes_per_cycle_;
  std::vector<BandwidthServer> channels_;
  std::vector<std::uint64_t> scratch_bytes_;  // per-channel split of the current transfer
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
};

}  // namespace tasim
