#include "arch/vector_timing.h"

#include <cmath>

namespace tasim::timing {

std::uint64_t vector_op_cycles(const VectorUnitConfig& vpu, isa::Opcode op, std::uint64_t rows, std::uint64_t cols) {
  const std::uint64_t elements = rows * cols;
  const std::uint64_t beats = (elements + vpu.lanes - 1) / vpu.lanes;
  const double per_element = vpu.cycles_per_element[isa::vector_op_index(op)];
  return vpu.pipeline_latency_cycles + static_cast<std::uint64_t>(std::ceil(beats * per_element - 1e-9));
}

}  // namespace tasim::timing
