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

}  // namespace tasim::testing
