#include "arch/activity.h"

namespace tasim {

using isa::Field;

Activity Activity::times(std::uint64_t k) const {
  Activity m;
  for (std::size_t d = 0; d < macs.size(); ++d) m.macs[d] = macs[d] * k;
  m.vector_elements = vector_elements * k;
  m.sram_bytes_read = sram_bytes_read * k;
  m.sram_bytes_written = sram_bytes_written * k;
  m.hbm_bytes_read = hbm_bytes_read * k;
  m.hbm_bytes_written = hbm_bytes_written * k;
  m.llc_hit_bytes = llc_hit_bytes * k;
  m.noc_bytes = noc_bytes * k;
  m.link_bytes = link_bytes * k;
  return m;
}

Activity& Activity::operator+=(const Activity& o) {
  for (int d = 0; d < isa::kNumDTypes; ++d) macs[d] += o.macs[d];
  vector_elements += o.vector_elements;
  sram_bytes_read += o.sram_bytes_read;
  sram_bytes_written += o.sram_bytes_written;
  hbm_bytes_read += o.hbm_bytes_read;
  hbm_bytes_written += o.hbm_bytes_written;
  llc_hit_bytes += o.llc_hit_bytes;
  noc_bytes += o.noc_bytes;
  link_bytes += o.link_bytes;
  return *this;
}

Activity instruction_activity(const isa::Instruction& inst) {
  Activity a;
  const isa::OpcodeInfo& info = isa::opcode_info(inst.op);
  if (info.category == isa::Category::matrix) {
    a.macs[inst.get(Field::dtype)] = inst.get(Field::m) * inst.get(Field::n) * inst.get(Field::k);
  } else if (info.category == isa::Category::vector) {
    a.vector_elements = inst.get(Field::rows) * inst.get(Field::cols);
  }
  for (int i = 0; i < info.num_operands; ++i) {
    const isa::OperandInfo& o = info.operands[i];
    if (o.link_side || !isa::operand_accessed(inst, o)) continue;
    const std::uint64_t bytes = isa::operand_bytes(inst, o);
    const bool read = o.access != isa::Access::write;
    if (o.space == isa::Space::hbm) {
      (read ? a.hbm_bytes_read : a.hbm_bytes_written) += bytes;
    } else {
      (read ? a.sram_bytes_read : a.sram_bytes_written) += bytes;
      // Another core's SRAM is reached over the on-chip network.
      if (isa::operand_core(inst, o) != inst.get(Field::core)) a.noc_bytes += bytes;
    }
  }
  return a;
}

}  // namespace tasim
