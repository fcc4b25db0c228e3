#include <catch2/catch.hpp>

#include "workloads/gemm_lowering.h"

using namespace tasim;

namespace {

ChipConfig small_chip() {
  ChipConfig chip;
  chip.cores = 1;
  chip.core.matrix.rows = 32;
  chip.core.matrix.cols = 32;
  chip.core.matrix.count = 2;
  chip.core.dma.engines = 2;
  chip.core.sram.capacity_bytes = 256 << 10;
  chip.hbm.capacity_bytes = 1ull << 30;
  return chip;
}

}  // namespace

TEST_CASE("a lowered GEMM validates and does exactly the GEMM's work", "[workloads][gemm]") {
  const ChipConfig chip = small_chip();
  for (auto [m, n, k] : {std::tuple{512, 512, 512}, std::tuple{100, 37, 250}, std::tuple{1, 4096, 1024}}) {
    workloads::GemmSpec g;
    g.m = m;
    g.n = n;
    g.k = k;
    const isa::Program p = workloads::lower_gemm(chip, g);
    REQUIRE_NOTHROW(isa::validate(p, target_limits(chip)));
    std::uint64_t flops = 0, loaded = 0, stored = 0;
    for (const auto& inst : p.instructions) {
      flops += isa::matmul_flops(inst);
      if (inst.op == isa::Opcode::dma_load) loaded += isa::dma_bytes(inst);
      if (inst.op == isa::Opcode::dma_store) stored += isa::dma_bytes(inst);
    }
    CHECK(flops == 2ull * m * n * k);
    CHECK(stored == std::uint64_t(m) * n * isa::kAccumulatorBytes);  // C written once
    CHECK(loaded >= (std::uint64_t(m) * k + std::uint64_t(k) * n) * 2);  // A and B read at least once
    CHECK(p.instructions.back().op == isa::Opcode::halt);
  }
}

TEST_CASE("GEMM tiles fit SRAM double-buffered and respect field widths", "[workloads][gemm]") {
  ChipConfig chip = small_chip();
  chip.core.sram.capacity_bytes = 64 << 10;
  workloads::GemmSpec g;
  g.m = g.n = g.k = 100000;
  const auto t = workloads::choose_gemm_tiling(chip, g);
  const std::uint64_t need = 2 * (t.tile_m * t.tile_k + t.tile_k * t.tile_n) * 2 + 2 * t.tile_m * t.tile_n * 4;
  CHECK(need <= chip.core.sram.capacity_bytes);
  CHECK(t.tile_m <= 65535);
  CHECK(t.tile_k >= 1);
}

TEST_CASE("a GEMM too large for any tile in SRAM is a clear error", "[workloads][gemm]") {
  ChipConfig chip = small_chip();
  chip.core.sram.capacity_bytes = 8;  // below even 1x1x1 double-buffered tiles (16 bytes)
  workloads::GemmSpec g;
  g.m = g.n = g.k = 64;
  CHECK_THROWS_WITH(workloads::lower_gemm(chip, g), Catch::Contains("do not fit"));
}
