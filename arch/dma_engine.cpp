#include "arch/dma_engine.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"

namespace tasim {

using isa::Field;

UnitTiming DmaEngineModel::execute(const isa::Instruction& inst, std::uint64_t start_cycle, const Activity&) {
  const double begin = static_cast<double>(start_cycle + chip_.config.core.dma.setup_cycles);
  switch (isa::category_of(inst.op)) {
    case isa::Category::hbm_transfer: return hbm_transfer(inst, begin);
    case isa::Category::sram_copy: return sram_copy(inst, begin);
    case isa::Category::chip_transfer:
    case isa::Category::collective:
    case isa::Category::matrix:
    case isa::Category::vector:
    case isa::Category::semaphore:
    case isa::Category::control:
      break;
  }
  throw Error(fmt::format("internal: a DMA engine model does not time {}", isa::mnemonic(inst.op)));
}

double DmaEngineModel::sram_unloaded_end(double begin, std::uint64_t bytes) const {
  if (chip_.ideal_memory) return begin;
  return begin + bytes / static_cast<double>(chip_.config.core.sram.bytes_per_cycle_per_port);
}

UnitTiming DmaEngineModel::hbm_transfer(const isa::Instruction& inst, double begin) {
  const bool load = inst.op == isa::Opcode::dma_load;
  const std::uint64_t rows = inst.get(Field::rows), row_bytes = inst.get(Field::row_bytes);
  const std::uint64_t bytes = rows * row_bytes;
  const double hbm_done =
      chip_.hbm.transfer(begin, inst.get(Field::hbm_addr), rows, row_bytes, inst.get(Field::hbm_stride), !load);
  const double sram_done = sram().access(begin, bytes);
  UnitTiming t;
  t.end_cycle = std::max(hbm_done, sram_done);
  // Unloaded: every HBM channel free and streaming; one SRAM port.
  t.unloaded_end_cycle = chip_.ideal_memory ? begin
                                            : std::max(chip_.hbm.unloaded_end_cycle(begin, bytes),
                                                       sram_unloaded_end(begin, bytes));
  t.stall = hbm_done >= sram_done ? StallReason::hbm : StallReason::sram_port;
  if (load) {
    t.written_core = core_;
    t.written_addr = inst.get(Field::sram_addr);
    t.written_bytes = bytes;
  }
  return t;
}

UnitTiming DmaEngineModel::sram_copy(const isa::Instruction& inst, double begin) {
  const std::uint64_t bytes = inst.get(Field::rows) * inst.get(Field::row_bytes);
  const int dst_core = static_cast<int>(inst.get(Field::dst_core));
  const double read_done = sram().access(begin, bytes);
  const double write_done = chip_.sram[static_cast<std::size_t>(dst_core)].access(begin, bytes);
  double unloaded = sram_unloaded_end(begin, bytes);
  double noc_done = begin;
  if (chip_.noc && dst_core != core_) {
    // Into another core's SRAM: across the on-chip network.
    noc_done = chip_.noc->transfer(begin, core_, dst_core, bytes);
    const double noc_unloaded =
        begin + bytes / chip_.noc->link_bytes_per_tick() + chip_.noc->route_latency_ticks(core_, dst_core);
    unloaded = std::max(unloaded, noc_unloaded);
  }
  const double sram_done = std::max(read_done, write_done);
  UnitTiming t;
  t.end_cycle = std::max(sram_done, noc_done);
  t.unloaded_end_cycle = unloaded;
  t.stall = noc_done > sram_done ? StallReason::noc : StallReason::sram_port;
  t.written_core = dst_core;
  t.written_addr = inst.get(Field::dst_addr);
  t.written_bytes = bytes;
  return t;
}

}  // namespace tasim
