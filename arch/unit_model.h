// The units of a core as timing models: a DMA engine, a matrix unit or a vector unit takes one
// instruction at a time from the chip's sequencer and says when it is done, when it would have
// been done with every memory idle, and what the difference is (its stall reason). The SystemC
// chip (models/chip.h) only queues instructions, waits the time a unit model returns and handles
// synchronization (semaphores, barriers, chip-to-chip transfers); everything a unit does lives in
// its model. Plain C++ (no SystemC), so each model is unit-tested directly.
//
// The kinds of unit a core has come from one table (unit_kinds(): how many per core, queue
// depth, which ISA field picks one, the model that times it). A study or test may put another
// model in place of a kind's with ChipOptions::unit_models, without touching the chip.
//
// Time is in chip cycles: fractional where a model computes it, whole cycles where the chip waits.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "arch/activity.h"
#include "arch/arch_config.h"
#include "arch/interconnect.h"
#include "arch/memory_model.h"
#include "arch/run_stats.h"
#include "arch/sram.h"
#include "isa/isa.h"

namespace tasim {

// What a unit model says about one instruction.
struct UnitTiming {
  double end_cycle = 0.0;           // its last byte or result is done
  double unloaded_end_cycle = 0.0;  // the same with every memory idle (no contention)
  StallReason stall = StallReason::sram_port;  // what end - unloaded end is booked as
  double ideal_compute_cycles = 0.0;  // matrix units: MACs / peak MACs per cycle, for utilization
  // SRAM written (its footprint grows): core and byte range; bytes 0 when nothing was written.
  int written_core = 0;
  std::uint64_t written_addr = 0;
  std::uint64_t written_bytes = 0;
};

// The shared memories and networks of one chip, owned by the chip and used by its unit models.
struct ChipResources {
  const ChipConfig& config;
  bool ideal_memory;       // SRAM and HBM with unlimited bandwidth and no latency
  MemoryModel& hbm;
  std::vector<Sram>& sram;  // per core
  Interconnect* noc;       // between cores, time base cycles; null with one core or ideal memory
};

class UnitModel {
 public:
  virtual ~UnitModel() = default;
  // Times `inst` started at `start_cycle`, with `work` its activity (from the ISA table).
  virtual UnitTiming execute(const isa::Instruction& inst, std::uint64_t start_cycle, const Activity& work) = 0;
};

// A unit of one core of a chip: the base of tasim's own unit models.
class CoreUnitModel : public UnitModel {
 public:
  CoreUnitModel(ChipResources& chip, int core) : chip_(chip), core_(core) {}

 protected:
  Sram& sram() { return chip_.sram[static_cast<std::size_t>(core_)]; }
  ChipResources& chip_;
  const int core_;
};

// Builds the model of unit `index` of core `core`.
using UnitModelFactory = std::function<std::unique_ptr<UnitModel>(ChipResources& chip, int core, int index)>;

// One kind of unit of a core, a row of the unit kinds table.
struct UnitKindInfo {
  isa::UnitKind kind;          // units are named core<c>.<isa::unit_kind_name><i>
  isa::Field index_field;      // the instruction field that picks the unit within its core
  int (*count)(const ChipConfig& chip);        // units of this kind per core
  int (*queue_depth)(const ChipConfig& chip);  // instructions the sequencer may queue per unit
  UnitModelFactory make;       // the model tasim uses for this kind
};

// Every kind of unit, in the order units are numbered within a core.
const std::vector<UnitKindInfo>& unit_kinds();
// The row of `kind` (dma, mxu or vpu); throws Error for sync and seq, which are no units.
const UnitKindInfo& unit_kind_info(isa::UnitKind kind);

}  // namespace tasim
