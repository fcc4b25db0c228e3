#include "arch/hbm.h"

#include <algorithm>
#include <cmath>

#include "arch/hbm_efficiency.h"

namespace tasim {

std::uint64_t channel_of_unit(std::uint64_t unit, std::uint64_t channels) {
  return (unit + unit / channels + unit / (channels * channels)) % channels;
}

void add_interleaved_bytes(std::uint64_t addr, std::uint64_t len, std::uint64_t interleave_bytes,
                           std::vector<std::uint64_t>& bytes_per_channel) {
  const std::uint64_t channels = bytes_per_channel.size();
  if (len == 0 || channels == 0) return;
  const std::uint64_t g = interleave_bytes;
  std::uint64_t unit = addr / g;
  // Head: the partial unit up to the next boundary.
  const std::uint64_t head = std::min(len, (unit + 1) * g - addr);
  bytes_per_channel[channel_of_unit(unit, channels)] += head;
  len -= head;
  ++unit;
  // Whole units up to the next period boundary one by one, then whole periods (each period of
  // `channels` units is a rotation: every channel once), then the rest one by one.
  std::uint64_t whole = len / g;
  while (whole > 0 && unit % channels != 0) {
    bytes_per_channel[channel_of_unit(unit++, channels)] += g;
    --whole;
  }
  const std::uint64_t periods = whole / channels;
  if (periods > 0) {
    for (auto& b : bytes_per_channel) b += periods * g;
    unit += periods * channels;
    whole -= periods * channels;
  }
  for (; whole > 0; --whole) bytes_per_channel[channel_of_unit(unit++, channels)] += g;
  // Tail.
  const std::uint64_t tail = len % g;
  if (tail > 0) bytes_per_channel[channel_of_unit(unit, channels)] += tail;
}

Hbm::Hbm(const HbmConfig& config, double clock_ghz)
    : config_(config),
      latency_cycles_(config.latency_ns * clock_ghz),
      peak_bytes_per_cycle_(config.peak_gbps() / clock_ghz),
      channels_(static_cast<std::size_t>(config.channels()), BandwidthServer(config.gbps_per_channel / clock_ghz)),
      scratch_bytes_(static_cast<std::size_t>(config.channels()), 0) {}

double Hbm::time_transfer(double now_cycle, std::uint64_t addr, std::uint64_t rows, std::uint64_t row_bytes,
                          std::uint64_t stride_bytes, bool is_write) {
  const std::uint64_t total = rows * row_bytes;
  if (total == 0) return now_cycle;

  std::fill(scratch_bytes_.begin(), scratch_bytes_.end(), 0);
  const std::uint64_t stride = stride_bytes ? stride_bytes : row_bytes;
  const std::uint64_t units_per_row = (row_bytes + config_.interleave_bytes - 1) / config_.interleave_bytes + 1;
  if (stride == row_bytes) {
    add_interleaved_bytes(addr, total, config_.interleave_bytes, scratch_bytes_);
  } else if (rows * units_per_row > 8 * channels_.size()) {
    // Many interleave units over many rows: the skewed channel map spreads them to within a
    // unit or so per channel, so split evenly rather than walk every row on the hot path.
    const std::uint64_t per = total / channels_.size();
    for (auto& b : scratch_bytes_) b = per;
    add_interleaved_bytes(addr, total - per * channels_.size(), config_.interleave_bytes, scratch_bytes_);
  } else {
    for (std::uint64_t r = 0; r < rows; ++r) {
      add_interleaved_bytes(addr + r * stride, row_bytes, config_.interleave_bytes, scratch_bytes_);
    }
  }
  // DRAM timing losses stretch each channel's service: it is busy bytes / efficiency at its pin
  // rate (refresh, turnaround, activates; 1 when the preset sets no DRAM timings).
  const double efficiency =
      transfer_efficiency(config_, config_.gbps_per_channel, row_bytes, stride_bytes, is_write);
  double done = now_cycle;
  for (std::size_t c = 0; c < channels_.size(); ++c) {
    if (scratch_bytes_[c] == 0) continue;
    const auto busy_bytes = efficiency >= 1.0 ? scratch_bytes_[c]
                                              : static_cast<std::uint64_t>(std::ceil(scratch_bytes_[c] / efficiency));
    done = std::max(done, channels_[c].serve(now_cycle, busy_bytes));
  }
  return done + latency_cycles_;
}

}  // namespace tasim
