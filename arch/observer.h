// Hooks through which sim/ watches a run (trace writing, counters) without models/ knowing
// about trace formats. Calls arrive in simulated-time order per unit.
#pragma once

#include <cstdint>

#include "arch/activity.h"
#include "isa/isa.h"

namespace tasim {

class ExecutionObserver {
 public:
  virtual ~ExecutionObserver() = default;
  // One instruction of unit `unit` (index into RunStats::units) ran from start to end cycle and
  // did `activity` (the counts the chip priced: the observer never recounts them).
  virtual void on_instruction(int unit, const isa::Instruction& inst, std::uint64_t start_cycle,
                              std::uint64_t end_cycle, const Activity& activity) {}
  // The SRAM footprint of `core` changed.
  virtual void on_sram_footprint(int core, std::uint64_t cycle, std::uint64_t bytes) {}
};

}  // namespace tasim
