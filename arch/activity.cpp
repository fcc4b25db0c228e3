#include "arch/activity.h"

namespace tasim {

using isa::Field;
using isa::Opcode;

Activity& Activity::operator+=(const Activity& o) {
  for (int d = 0; d < isa::kNumDTypes; ++d) macs[d] += o.macs[d];
  vector_elements += o.vector_elements;
  sram_bytes_read += o.sram_bytes_read;
  sram_bytes_written += o.sram_bytes_written;
  hbm_bytes_read += o.hbm_bytes_read;
  hbm_bytes_written += o.hbm_bytes_written;
  noc_bytes += o.noc_bytes;
  link_bytes += o.link_bytes;
  return *this;
}

Activity instruction_activity(const isa::Instruction& inst, bool cross_core) {
  Activity a;
  switch (inst.op) {
    case Opcode::dma_load:
    case Opcode::dma_store: {
      const std::uint64_t bytes = inst.get(Field::rows) * inst.get(Field::row_bytes);
      if (inst.op == Opcode::dma_load) {
        a.hbm_bytes_read = a.sram_bytes_written = bytes;
      } else {
        a.sram_bytes_read = a.hbm_bytes_written = bytes;
      }
      break;
    }
    case Opcode::dma_copy: {
      const std::uint64_t bytes = inst.get(Field::rows) * inst.get(Field::row_bytes);
      a.sram_bytes_read = a.sram_bytes_written = bytes;
      if (cross_core) a.noc_bytes = bytes;
      break;
    }
    case Opcode::matmul: {
      const auto dtype = static_cast<isa::DType>(inst.get(Field::dtype));
      const std::uint64_t m = inst.get(Field::m), n = inst.get(Field::n), k = inst.get(Field::k);
      const std::uint64_t c_bytes = m * n * isa::kAccumulatorBytes;
      a.macs[static_cast<int>(dtype)] = m * n * k;
      // A and B in; C out, and read first when accumulating into it.
      a.sram_bytes_read = (m * k + k * n) * isa::dtype_bytes(dtype) + (inst.get(Field::acc) ? c_bytes : 0);
      a.sram_bytes_written = c_bytes;
      break;
    }
    default: {
      if (!isa::is_vector_op(inst.op)) break;  // control, semaphores, chip-to-chip transfers
      const auto dtype = static_cast<isa::DType>(inst.get(Field::dtype));
      const std::uint64_t rows = inst.get(Field::rows), cols = inst.get(Field::cols);
      const std::uint64_t elem = isa::dtype_bytes(dtype);
      const bool row_reduce = inst.op == Opcode::vec_rowmax || inst.op == Opcode::vec_rowsum;
      a.vector_elements = rows * cols;
      a.sram_bytes_read = rows * cols * elem;
      a.sram_bytes_written = row_reduce ? rows * elem : rows * cols * elem;
      // The second operand: a norm's weight vector (layernorm: scale and bias) or a full tile.
      if (inst.has(Field::src2_addr)) {
        a.sram_bytes_read += inst.op == Opcode::vec_rmsnorm     ? cols * elem
                             : inst.op == Opcode::vec_layernorm ? 2 * cols * elem
                                                                : rows * cols * elem;
      }
      break;
    }
  }
  return a;
}

}  // namespace tasim
