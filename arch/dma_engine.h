// A DMA engine's timing: tiles between HBM and SRAM (dma.load, dma.store) and between SRAMs
// (dma.copy, into another core's SRAM across the on-chip network). Chip-to-chip transfers also
// run on DMA engines but are timed by the interconnect (models/collective_engine.h).
//
// A transfer starts after the engine's descriptor setup (core.dma.setup_cycles) and ends when its
// slowest side is done: HBM (the memory model), the SRAM port it takes, or the NoC. Unloaded, the
// memories are idle: HBM latency plus bytes at its peak, bytes over one SRAM port, and for the NoC
// its route latency plus bytes over one link; time beyond that is a stall of whichever side
// finished last.
#pragma once

#include "arch/unit_model.h"

namespace tasim {

class DmaEngineModel : public CoreUnitModel {
 public:
  using CoreUnitModel::CoreUnitModel;
  UnitTiming execute(const isa::Instruction& inst, std::uint64_t start_cycle, const Activity& work) override;

 private:
  UnitTiming hbm_transfer(const isa::Instruction& inst, double begin);
  UnitTiming sram_copy(const isa::Instruction& inst, double begin);
  double sram_unloaded_end(double begin, std::uint64_t bytes) const;
};

}  // namespace tasim
