// On-chip SRAM of one core: capacity, banks and ports. Every unit of the core (DMA engines,
// matrix units, vector units) shares the ports; each access takes the earliest-free port and
// occupies it for bytes / bytes_per_cycle_per_port cycles. A port needs a bank of its own, so
// min(ports, banks) accesses proceed at once. Occupancy is the footprint: bytes of SRAM that
// hold data written during the run (compilers reuse buffers, so this is the working set).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "arch/arch_config.h"
#include "arch/bandwidth_server.h"

namespace tasim {

class Sram {
 public:
  Sram(const SramConfig& config, bool ideal);

  // Moves `bytes` through a port no earlier than now_cycle; returns the cycle it finishes.
  double access(double now_cycle, std::uint64_t bytes);
  // Marks [addr, addr + bytes) as holding data; returns the new footprint in bytes.
  std::uint64_t mark_written(std::uint64_t addr, std::uint64_t bytes);

  std::uint64_t footprint_bytes() const { return footprint_bytes_; }
  std::uint64_t capacity_bytes() const { return config_.capacity_bytes; }
  double peak_bytes_per_cycle() const;
  std::uint64_t bytes_accessed() const { return bytes_accessed_; }
  double busy_port_cycles() const;

 private:
  SramConfig config_;
  bool ideal_;
  std::vector<BandwidthServer> ports_;
  std::map<std::uint64_t, std::uint64_t> written_;  // disjoint [begin -> end) ranges
  std::uint64_t footprint_bytes_ = 0;
  std::uint64_t bytes_accessed_ = 0;
};

}  // namespace tasim
