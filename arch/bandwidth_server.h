// A first-come-first-served bandwidth server: one port of an SRAM or one HBM channel.
// Requests are served in the order they are made (which, in an event-driven simulation, is
// simulated-time order); each occupies the server for bytes / bytes_per_cycle cycles. Because a
// server never serves two requests at once, achieved bandwidth can never exceed its peak.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace tasim {

class BandwidthServer {
 public:
  explicit BandwidthServer(double bytes_per_cycle = 1.0) : bytes_per_cycle_(bytes_per_cycle) {}

  // Serves `bytes` no earlier than `now_cycle`; returns the cycle (fractional) the last byte is done.
  double serve(double now_cycle, std::uint64_t bytes) {
    const double start = std::max(now_cycle, free_at_cycle_);
    const double duration = static_cast<double>(bytes) / bytes_per_cycle_;
    free_at_cycle_ = start + duration;
    busy_cycles_ += duration;
    bytes_served_ += bytes;
    return free_at_cycle_;
  }

  double free_at_cycle() const { return free_at_cycle_; }
  double busy_cycles() const { return busy_cycles_; }
  std::uint64_t bytes_served() const { return bytes_served_; }
  double bytes_per_cycle() const { return bytes_per_cycle_; }

 private:
  double bytes_per_cycle_;
  double free_at_cycle_ = 0.0;
  double busy_cycles_ = 0.0;
  std::uint64_t bytes_served_ = 0;
};

// Cycles rounded up, tolerant of floating-point noise just above an integer.
inline std::uint64_t ceil_cycles(double cycles) {
  return static_cast<std::uint64_t>(std::ceil(cycles - 1e-9));
}

}  // namespace tasim
