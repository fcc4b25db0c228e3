#include "arch/unit_model.h"

#include <fmt/format.h>

#include "arch/compute_units.h"
#include "arch/dma_engine.h"
#include "common/error.h"

namespace tasim {

const std::vector<UnitKindInfo>& unit_kinds() {
  static const std::vector<UnitKindInfo> kinds = {
      {isa::UnitKind::dma, isa::Field::engine, [](const ChipConfig& c) { return c.core.dma.engines; },
       [](const ChipConfig& c) { return c.core.dma.queue_depth; },
       [](ChipResources& chip, int core, int) { return std::make_unique<DmaEngineModel>(chip, core); }},
      {isa::UnitKind::mxu, isa::Field::mxu, [](const ChipConfig& c) { return c.core.matrix.count; },
       [](const ChipConfig& c) { return c.queue_depth; },
       [](ChipResources& chip, int core, int) { return std::make_unique<MatrixUnitModel>(chip, core); }},
      {isa::UnitKind::vpu, isa::Field::vpu, [](const ChipConfig& c) { return c.core.vector.count; },
       [](const ChipConfig& c) { return c.queue_depth; },
       [](ChipResources& chip, int core, int) { return std::make_unique<VectorUnitModel>(chip, core); }},
  };
  return kinds;
}

const UnitKindInfo& unit_kind_info(isa::UnitKind kind) {
  for (const auto& k : unit_kinds()) {
    if (k.kind == kind) return k;
  }
  throw Error(fmt::format("internal: no unit of kind {}", static_cast<int>(kind)));
}

}  // namespace tasim
