// The compute units' timing: a systolic matrix unit (matmul) and a vector unit (vec.*). Each
// instruction takes its compute cycles (arch/matrix_timing.h: SCALE-Sim's formula;
// arch/vector_timing.h: lanes and per-op cost) or the time its operands need through one SRAM
// port of the core, whichever is longer; unloaded it takes its compute cycles, so a longer SRAM
// access is an SRAM port stall.
#pragma once

#include "arch/unit_model.h"

namespace tasim {

class MatrixUnitModel : public CoreUnitModel {
 public:
  using CoreUnitModel::CoreUnitModel;
  UnitTiming execute(const isa::Instruction& inst, std::uint64_t start_cycle, const Activity& work) override;
};

class VectorUnitModel : public CoreUnitModel {
 public:
  using CoreUnitModel::CoreUnitModel;
  UnitTiming execute(const isa::Instruction& inst, std::uint64_t start_cycle, const Activity& work) override;
};

}  // namespace tasim
