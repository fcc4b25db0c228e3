#include "arch/sram.h"

#include <algorithm>

namespace tasim {

Sram::Sram(const SramConfig& config, bool ideal)
    : config_(config),
      ideal_(ideal),
      ports_(static_cast<std::size_t>(std::max(1, std::min(config.ports, config.banks))),
             BandwidthServer(config.bytes_per_cycle_per_port)) {}

double Sram::access(double now_cycle, std::uint64_t bytes) {
  bytes_accessed_ += bytes;
  if (ideal_ || bytes == 0) return now_cycle;
  auto port = std::min_element(ports_.begin(), ports_.end(), [](const BandwidthServer& a, const BandwidthServer& b) {
    return a.free_at_cycle() < b.free_at_cycle();
  });
  return port->serve(now_cycle, bytes);
}

std::uint64_t Sram::mark_written(std::uint64_t addr, std::uint64_t bytes) {
  if (bytes == 0) return footprint_bytes_;
  std::uint64_t begin = addr;
  std::uint64_t end = addr + bytes;
  // Merge with every range that overlaps or touches [begin, end).
  auto it = written_.upper_bound(begin);
  if (it != written_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= begin) it = prev;
  }
  while (it != written_.end() && it->first <= end) {
    begin = std::min(begin, it->first);
    end = std::max(end, it->second);
    footprint_bytes_ -= it->second - it->first;
    it = written_.erase(it);
  }
  written_.emplace(begin, end);
  footprint_bytes_ += end - begin;
  return footprint_bytes_;
}

double Sram::peak_bytes_per_cycle() const {
  return static_cast<double>(ports_.size()) * config_.bytes_per_cycle_per_port;
}

double Sram::busy_port_cycles() const {
  double total = 0;
  for (const auto& p : ports_) total += p.busy_cycles();
  return total;
}

}  // namespace tasim
