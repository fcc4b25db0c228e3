#include "arch/compute_units.h"

#include <fmt/format.h>

#include <algorithm>

#include "arch/matrix_timing.h"
#include "arch/vector_timing.h"
#include "common/error.h"

namespace tasim {

using isa::Field;

namespace {

// Compute cycles, or the operands' bytes through one SRAM port if that takes longer.
UnitTiming compute_or_sram(Sram& sram, std::uint64_t start_cycle, std::uint64_t compute_cycles, std::uint64_t sram_bytes) {
  const double sram_done = sram.access(static_cast<double>(start_cycle), sram_bytes);
  const double compute_end = static_cast<double>(start_cycle + compute_cycles);
  UnitTiming t;
  t.end_cycle = std::max(compute_end, sram_done);
  t.unloaded_end_cycle = compute_end;
  t.stall = StallReason::sram_port;
  return t;
}

}  // namespace

UnitTiming MatrixUnitModel::execute(const isa::Instruction& inst, std::uint64_t start_cycle, const Activity& work) {
  if (isa::category_of(inst.op) != isa::Category::matrix) {
    throw Error(fmt::format("internal: a matrix unit model does not time {}", isa::mnemonic(inst.op)));
  }
  const auto& mxu = chip_.config.core.matrix;
  const auto dtype = static_cast<isa::DType>(inst.get(Field::dtype));
  const std::uint64_t m = inst.get(Field::m), n = inst.get(Field::n), k = inst.get(Field::k);
  std::uint64_t port_bytes = work.sram_bytes();
  if (mxu.register_accumulators) {
    // C stays in registers while it accumulates: only its first k-step (acc = 0) moves it, once.
    const std::uint64_t c_bytes = m * n * isa::kAccumulatorBytes;
    const bool acc = inst.get(Field::acc) != 0;
    port_bytes -= c_bytes + (acc ? c_bytes : 0);  // the C write, and the C read of an accumulating step
    if (!acc) port_bytes += c_bytes;
  }
  UnitTiming t = compute_or_sram(sram(), start_cycle, timing::matmul_cycles(mxu, dtype, m, n, k), port_bytes);
  t.ideal_compute_cycles =
      static_cast<double>(m * n * k) / static_cast<double>(timing::peak_macs_per_cycle(mxu, dtype));
  t.written_core = core_;
  t.written_addr = inst.get(Field::c_addr);
  t.written_bytes = m * n * isa::kAccumulatorBytes;
  return t;
}

UnitTiming VectorUnitModel::execute(const isa::Instruction& inst, std::uint64_t start_cycle, const Activity& work) {
  if (!isa::is_vector_op(inst.op)) {
    throw Error(fmt::format("internal: a vector unit model does not time {}", isa::mnemonic(inst.op)));
  }
  const std::uint64_t compute =
      timing::vector_op_cycles(chip_.config.core.vector, inst.op, inst.get(Field::rows), inst.get(Field::cols));
  UnitTiming t = compute_or_sram(sram(), start_cycle, compute, work.sram_bytes());
  t.written_core = core_;
  t.written_addr = inst.get(Field::dst_addr);
  t.written_bytes = work.sram_bytes_written;
  return t;
}

}  // namespace tasim
