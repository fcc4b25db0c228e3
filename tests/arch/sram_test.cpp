#include <catch2/catch.hpp>

#include "arch/sram.h"
#include "arch/vector_timing.h"
#include "arch/test_chips.h"

using namespace tasim;

TEST_CASE("SRAM ports serve accesses concurrently up to the port count", "[sram]") {
  SramConfig cfg = testing::tiny_chip().core.sram;  // 4 ports x 256 B/cycle
  Sram sram(cfg, false);
  // Four accesses of 2560 bytes at once take 10 cycles each on their own ports...
  for (int i = 0; i < 4; ++i) CHECK(sram.access(0.0, 2560) == Approx(10.0));
  // ...a fifth queues behind the earliest-free port.
  CHECK(sram.access(0.0, 2560) == Approx(20.0));
  CHECK(sram.busy_port_cycles() <= 4 * 20.0);
}

TEST_CASE("fewer banks than ports limit concurrency", "[sram]") {
  SramConfig cfg = testing::tiny_chip().core.sram;
  cfg.banks = 2;
  Sram sram(cfg, false);
  CHECK(sram.peak_bytes_per_cycle() == Approx(512.0));
  sram.access(0.0, 2560);
  sram.access(0.0, 2560);
  CHECK(sram.access(0.0, 2560) == Approx(20.0));
}

TEST_CASE("SRAM footprint merges overlapping and adjacent writes", "[sram]") {
  Sram sram(testing::tiny_chip().core.sram, false);
  CHECK(sram.mark_written(0, 100) == 100);
  CHECK(sram.mark_written(50, 100) == 150);   // overlaps
  CHECK(sram.mark_written(150, 50) == 200);   // adjacent
  CHECK(sram.mark_written(1000, 10) == 210);  // disjoint
  CHECK(sram.mark_written(0, 2000) == 2000);  // covers all
  CHECK(sram.footprint_bytes() == 2000);
}

TEST_CASE("vector ops cost latency plus beats times cycles per element", "[vector]") {
  VectorUnitConfig vpu;
  vpu.lanes = 16;
  vpu.pipeline_latency_cycles = 4;
  vpu.cycles_per_element.fill(1.0);
  vpu.cycles_per_element[isa::vector_op_index(isa::Opcode::vec_exp)] = 4.0;
  CHECK(timing::vector_op_cycles(vpu, isa::Opcode::vec_add, 2, 16) == 4 + 2);
  CHECK(timing::vector_op_cycles(vpu, isa::Opcode::vec_add, 1, 17) == 4 + 2);  // partial beat is a beat
  CHECK(timing::vector_op_cycles(vpu, isa::Opcode::vec_exp, 2, 16) == 4 + 8);
  // Roofline: never fewer cycles than elements / lanes at the op's cost.
  for (std::uint64_t n : {1ull, 15ull, 16ull, 1000ull}) {
    CHECK(timing::vector_op_cycles(vpu, isa::Opcode::vec_exp, 1, n) >= 4.0 * n / 16.0);
  }
}
