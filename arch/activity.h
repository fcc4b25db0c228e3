// What the units of a chip did, counted in the quantities the energy model prices (MACs by
// dtype, vector elements, SRAM, HBM, on-chip network and link bytes). One instruction's share is
// a pure function of its fields, so the chip model's SRAM timing, the step's energy and the
// trace's power counter all use the same counts.
#pragma once

#include <array>
#include <cstdint>

#include "isa/isa.h"

namespace tasim {

struct Activity {
  std::array<std::uint64_t, isa::kNumDTypes> macs{};  // multiply-accumulates by input dtype
  std::uint64_t vector_elements = 0;   // elements processed by vector ops (rows x cols)
  std::uint64_t sram_bytes_read = 0;
  std::uint64_t sram_bytes_written = 0;
  std::uint64_t hbm_bytes_read = 0;
  std::uint64_t hbm_bytes_written = 0;
  std::uint64_t llc_hit_bytes = 0;  // loads a last-level cache served instead of HBM (not in hbm_bytes_read)
  std::uint64_t noc_bytes = 0;   // dma.copy into another core's SRAM
  std::uint64_t link_bytes = 0;  // chip-to-chip: bytes times hops (from the interconnect)

  Activity& operator+=(const Activity& o);
  Activity times(std::uint64_t k) const;  // this much work done k times
  std::uint64_t sram_bytes() const { return sram_bytes_read + sram_bytes_written; }
  std::uint64_t hbm_bytes() const { return hbm_bytes_read + hbm_bytes_written; }
  std::uint64_t total_macs() const {
    std::uint64_t sum = 0;
    for (const std::uint64_t m : macs) sum += m;
    return sum;
  }
};

// One instruction's activity, from the ISA table: MACs of a matrix instruction, elements of a
// vector one, and the bytes of each operand it accesses by memory and direction; an SRAM operand
// in another core's SRAM also crosses the on-chip network (noc_bytes), whether or not the network
// is timed (ideal memory). Chip-to-chip transfers (dma.send/recv, coll.*) count no bytes here:
// their link bytes come from the interconnect, which knows the hops.
Activity instruction_activity(const isa::Instruction& inst);

}  // namespace tasim
