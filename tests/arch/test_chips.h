// Small chip descriptions built in code for model tests (models/ never parses YAML).
#pragma once

#include "arch/arch_config.h"

namespace tasim::testing {

inline ChipConfig tiny_chip() {
  ChipConfig chip;
  chip.name = "tiny";
  chip.clock_ghz = 1.0;
  chip.cores = 1;
  chip.semaphores = 64;
  chip.queue_depth = 8;
  chip.core.matrix.count = 2;
  chip.core.matrix.rows = 16;
  chip.core.matrix.cols = 16;
  chip.core.vector.lanes = 16;
  chip.core.vector.pipeline_latency_cycles = 4;
  chip.core.vector.cycles_per_element.fill(1.0);
  chip.core.sram.capacity_bytes = 1 << 20;
  chip.core.sram.ports = 4;
  chip.core.sram.banks = 16;
  chip.core.sram.bytes_per_cycle_per_port = 256;
  chip.core.dma.engines = 4;
  chip.core.dma.setup_cycles = 10;
  chip.core.dma.queue_depth = 8;
  chip.hbm.stacks = 1;
  chip.hbm.channels_per_stack = 4;
  chip.hbm.gbps_per_channel = 16.0;  // 16 bytes/cycle at 1 GHz, 64 for the chip
  chip.hbm.latency_ns = 100.0;
  chip.hbm.interleave_bytes = 256;
  chip.hbm.capacity_bytes = 1ull << 30;
  return chip;
}

// Two cores of two 64 x 64 arrays each: the compiler tests' chip (workloads/ lowers for it).
inline ChipConfig two_core_chip(std::uint64_t hbm_bytes = 128ull << 30) {  // mixtral-8x7b in bf16 needs ~87 GiB
  ChipConfig chip;
  chip.name = "test";
  chip.clock_ghz = 1.0;
  chip.cores = 2;
  chip.semaphores = 512;
  chip.core.matrix.count = 2;
  chip.core.matrix.rows = 64;
  chip.core.matrix.cols = 64;
  chip.core.dma.engines = 3;
  chip.core.sram.capacity_bytes = 4 << 20;
  chip.hbm.capacity_bytes = hbm_bytes;
  return chip;
}

}  // namespace tasim::testing
