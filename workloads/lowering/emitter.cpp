#include "workloads/lowering/emitter.h"

#include <fmt/format.h>

#include <algorithm>

#include "arch/matrix_timing.h"
#include "common/error.h"

namespace tasim::workloads::lowering {

using isa::Field;
using isa::Opcode;

Emitter::Emitter(const ChipConfig& chip, int semaphores_per_core, std::string source_name)
    : streams_(static_cast<std::size_t>(chip.cores)),
      semaphores_per_core_(semaphores_per_core),
      matrix_(chip.core.matrix),
      chip_name_(chip.name),
      sram_bytes_(chip.core.sram.capacity_bytes),
      hbm_bytes_(chip.hbm.capacity_bytes) {
  program_.source_name = std::move(source_name);
}

void Emitter::append(int core, const isa::Instruction& inst) {
  const isa::OpcodeInfo& info = isa::opcode_info(inst.op);
  for (int i = 0; i < info.num_operands; ++i) {
    const isa::OperandInfo& o = info.operands[i];
    const bool sram = o.space == isa::Space::sram;
    const std::uint64_t end = inst.get(o.addr) + isa::operand_extent(inst, o);
    if (end <= (sram ? sram_bytes_ : hbm_bytes_)) continue;
    throw Error(fmt::format(
        "{}: the step does not fit {}: {} {} would reach byte {:#x} of {} {:.4g} MiB{} ({}); a larger {} or a "
        "smaller workload (batch, lengths, dtypes) fits",
        tag_ != 0 ? std::string(program_.tag_name(tag_)) : program_.source_name, chip_name_, info.mnemonic, o.name, end, sram ? "an SRAM of" : "an HBM of",
        static_cast<double>(sram ? sram_bytes_ : hbm_bytes_) / (1 << 20), sram ? " per core" : "",
        sram ? "core.sram.capacity_mib" : "hbm.capacity_gib", sram ? "SRAM" : "HBM"));
  }
  streams_[static_cast<std::size_t>(core)].insts.push_back(inst);
}

void Emitter::begin_op(const std::string& name) { tag_ = program_.intern_tag(name); }

void Emitter::push(isa::Instruction inst) {
  inst.line = static_cast<std::uint32_t>(taken_ + program_.instructions.size() + 1);  // its place in the program
  program_.instructions.push_back(inst);
}

void Emitter::emit(int core, Opcode op, std::initializer_list<std::pair<Field, std::uint64_t>> fields) {
  isa::Instruction inst;
  inst.op = op;
  inst.tag = tag_;
  inst.set(Field::core, static_cast<std::uint64_t>(core));
  for (const auto& [f, v] : fields) inst.set(f, v);
  append(core, inst);
}

void Emitter::signal_core(int core, isa::UnitRef unit, int target, int local) {
  emit(core, Opcode::sem_signal,
       {{Field::unit, isa::encode_unitref(unit)}, {Field::sem, static_cast<std::uint64_t>(semaphore(target, local))}});
}

void Emitter::wait(int core, isa::UnitRef unit, int local) {
  emit(core, Opcode::sem_wait,
       {{Field::unit, isa::encode_unitref(unit)}, {Field::sem, static_cast<std::uint64_t>(semaphore(core, local))}});
}

void Emitter::end_step(int core) {
  auto& s = streams_[static_cast<std::size_t>(core)];
  if (s.step_ends.empty() || s.step_ends.back() != s.insts.size()) s.step_ends.push_back(s.insts.size());
}

void Emitter::load(int core, int engine, std::uint64_t hbm, std::uint64_t sram, std::uint64_t rows,
                   std::uint64_t row_bytes, std::uint64_t hbm_stride) {
  dma2d(core, engine, Opcode::dma_load, hbm, sram, rows, row_bytes, hbm_stride);
}

void Emitter::store(int core, int engine, std::uint64_t sram, std::uint64_t hbm, std::uint64_t rows,
                    std::uint64_t row_bytes, std::uint64_t hbm_stride) {
  dma2d(core, engine, Opcode::dma_store, hbm, sram, rows, row_bytes, hbm_stride);
}

void Emitter::dma2d(int core, int engine, Opcode op, std::uint64_t hbm, std::uint64_t sram, std::uint64_t rows,
                    std::uint64_t row_bytes, std::uint64_t hbm_stride) {
  if (rows == 0 || row_bytes == 0) return;
  if (hbm_stride == row_bytes) hbm_stride = 0;
  if (hbm_stride == 0 && rows > 1 && rows * row_bytes <= kMaxRowBytes) {
    row_bytes *= rows;  // contiguous: one long row
    rows = 1;
  }
  if (row_bytes > kMaxRowBytes) {
    throw Error(fmt::format("internal: DMA row of {} bytes exceeds the field width", row_bytes));
  }
  const std::uint64_t stride = hbm_stride ? hbm_stride : row_bytes;
  for (std::uint64_t r0 = 0; r0 < rows; r0 += kMaxDim) {
    const std::uint64_t n = std::min(kMaxDim, rows - r0);
    emit(core, op,
         {{Field::engine, static_cast<std::uint64_t>(engine)}, {Field::hbm_addr, hbm + r0 * stride},
          {Field::sram_addr, sram + r0 * row_bytes}, {Field::rows, n}, {Field::row_bytes, row_bytes},
          {Field::hbm_stride, hbm_stride}});
  }
}

void Emitter::matmul(int core, int unit, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t m,
                     std::uint64_t n, std::uint64_t k, bool acc, isa::DType dtype) {
  for (std::uint64_t m0 = 0; m0 < m; m0 += kMaxDim) {
    const std::uint64_t mm = std::min(kMaxDim, m - m0);
    emit(core, Opcode::matmul,
         {{Field::mxu, static_cast<std::uint64_t>(unit)}, {Field::a_addr, a}, {Field::b_addr, b}, {Field::c_addr, c},
          {Field::m, mm}, {Field::n, n}, {Field::k, k}, {Field::acc, acc ? 1u : 0u},
          {Field::dtype, static_cast<std::uint64_t>(dtype)}});
  }
}

void Emitter::oriented_matmul(int core, int unit, std::uint64_t a, std::uint64_t b, std::uint64_t c,
                              std::uint64_t m, std::uint64_t n, std::uint64_t k, bool acc, isa::DType dtype) {
  if (timing::matmul_cycles(matrix_, dtype, n, m, k) < timing::matmul_cycles(matrix_, dtype, m, n, k)) {
    matmul(core, unit, b, a, c, n, m, k, acc, dtype);
  } else {
    matmul(core, unit, a, b, c, m, n, k, acc, dtype);
  }
}

void Emitter::vec(int core, Opcode op, std::uint64_t src, std::uint64_t src2, std::uint64_t dst, std::uint64_t rows,
                  std::uint64_t cols, isa::DType dtype) {
  for (std::uint64_t c0 = 0; c0 < cols; c0 += kMaxDim) {
    const std::uint64_t cc = std::min(kMaxDim, cols - c0);
    for (std::uint64_t r0 = 0; r0 < rows; r0 += kMaxDim) {
      const std::uint64_t rr = std::min(kMaxDim, rows - r0);
      isa::Instruction inst;
      inst.op = op;
      inst.tag = tag_;
      inst.set(Field::core, static_cast<std::uint64_t>(core));
      inst.set(Field::src_addr, src);
      if (inst.has(Field::src2_addr)) inst.set(Field::src2_addr, src2);
      inst.set(Field::dst_addr, dst);
      inst.set(Field::rows, rr);
      inst.set(Field::cols, cc);
      inst.set(Field::dtype, static_cast<std::uint64_t>(dtype));
      append(core, inst);
    }
  }
}

void Emitter::flush() {
  std::vector<std::size_t> step(streams_.size(), 0), pos(streams_.size(), 0);
  for (std::size_t c = 0; c < streams_.size(); ++c) end_step(static_cast<int>(c));
  bool any = true;
  while (any) {
    any = false;
    for (std::size_t c = 0; c < streams_.size(); ++c) {
      auto& s = streams_[c];
      if (step[c] >= s.step_ends.size()) continue;
      any = true;
      for (; pos[c] < s.step_ends[step[c]]; ++pos[c]) push(s.insts[pos[c]]);
      ++step[c];
    }
  }
  for (auto& s : streams_) {
    s.insts.clear();
    s.step_ends.clear();
  }
}

}  // namespace tasim::workloads::lowering
