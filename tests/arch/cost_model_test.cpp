// The cost model's formulas (arch/cost_model.h) and the activity counts they price
// (arch/activity.h), checked against hand-computed figures.
#include <catch2/catch.hpp>

#include "arch/activity.h"
#include "arch/cost_model.h"
#include "arch/test_chips.h"

using namespace tasim;

namespace {

isa::Instruction one(const std::string& line) {
  static isa::Program program;
  program = isa::assemble(line + "\nhalt\n", "test.tasm");
  return program.instructions.front();
}

}  // namespace

TEST_CASE("chip area adds each block's count times its coefficient", "[cost]") {
  ChipConfig chip = testing::tiny_chip();  // 1 core, 2 arrays of 16 x 16, 16 lanes, 1 MiB SRAM, 1 stack
  chip.cost.mac_area_um2 = {500.0, 200.0, 100.0};  // the PE: max(1 x 500, 2 x 200, 2 x 100)
  chip.cost.vector_lane_area_um2 = 1000.0;
  chip.cost.sram_mm2_per_mib = 0.5;
  chip.cost.hbm_phy_mm2_per_stack = 7.0;
  chip.cost.other_area_mm2 = 20.0;
  const AreaBreakdown a = chip_area(chip);
  CHECK(a.matrix_mm2 == Approx(2 * 16 * 16 * 500.0 / 1e6));  // 0.256
  CHECK(a.vector_mm2 == Approx(16 * 1000.0 / 1e6));
  CHECK(a.sram_mm2 == Approx(0.5));
  CHECK(a.hbm_phy_mm2 == Approx(7.0));
  CHECK(a.link_phy_mm2 == 0.0);  // a single chip drives no links
  CHECK(a.other_mm2 == Approx(20.0));
  CHECK(a.total_mm2() == Approx(0.256 + 0.016 + 0.5 + 7.0 + 20.0));

  // Doubling the cores doubles every per-core block and nothing else.
  chip.cores = 2;
  const AreaBreakdown b = chip_area(chip);
  CHECK(b.matrix_mm2 == Approx(2 * a.matrix_mm2));
  CHECK(b.sram_mm2 == Approx(2 * a.sram_mm2));
  CHECK(b.hbm_phy_mm2 == Approx(a.hbm_phy_mm2));
  CHECK(b.other_mm2 == Approx(a.other_mm2));
}

TEST_CASE("a PE is as large as its widest dtype datapath", "[cost]") {
  ChipConfig chip = testing::tiny_chip();
  chip.cost.mac_area_um2 = {400.0, 150.0, 50.0};
  chip.core.matrix.macs_per_pe_per_cycle = {1, 2, 2};
  CHECK(pe_area_um2(chip) == Approx(400.0));  // bf16: 1 x 400 beats fp8's 2 x 150
  chip.core.matrix.macs_per_pe_per_cycle = {1, 4, 2};
  CHECK(pe_area_um2(chip) == Approx(600.0));  // four fp8 MACs per cycle need 4 x 150
  chip.core.matrix.macs_per_pe_per_cycle = {1, 4, 16};
  CHECK(pe_area_um2(chip) == Approx(800.0));  // sixteen int8 MACs per cycle
  CHECK(chip_area(chip).matrix_mm2 == Approx(2 * 16 * 16 * 800.0 / 1e6));
}

TEST_CASE("link PHY area follows the ports a chip drives", "[cost][system]") {
  ChipConfig chip = testing::tiny_chip();
  chip.cost.link_phy_mm2_per_gbps = 0.01;
  chip.system.chips = 8;
  chip.system.topology = Topology::ring;
  chip.system.link.ports_per_chip = 2;
  chip.system.link.gbps_per_direction = 100.0;
  CHECK(chip_area(chip).link_phy_mm2 == Approx(2 * 100.0 * 0.01));
  chip.system.topology = Topology::switched;
  chip.system.switch_.gbps_per_port = 450.0;
  CHECK(chip_area(chip).link_phy_mm2 == Approx(450.0 * 0.01));
}

TEST_CASE("dynamic energy prices every activity by its coefficient", "[cost]") {
  CostConfig c;
  c.pj_per_mac = {1.0, 0.5, 0.25};
  c.vector_pj_per_element = 2.0;
  c.sram_pj_per_byte_read = 3.0;
  c.sram_pj_per_byte_written = 4.0;
  c.hbm_pj_per_bit = 5.0;
  c.noc_pj_per_bit = 6.0;
  c.link_pj_per_bit = 7.0;
  Activity a;
  a.macs = {1000, 2000, 4000};
  a.vector_elements = 100;
  a.sram_bytes_read = 10;
  a.sram_bytes_written = 20;
  a.hbm_bytes_read = 30;
  a.hbm_bytes_written = 40;
  a.noc_bytes = 50;
  a.link_bytes = 60;
  const EnergyBreakdown e = dynamic_energy(c, a);
  CHECK(e.matrix_j == Approx((1000 * 1.0 + 2000 * 0.5 + 4000 * 0.25) * 1e-12));
  CHECK(e.vector_j == Approx(200e-12));
  CHECK(e.sram_j == Approx((10 * 3.0 + 20 * 4.0) * 1e-12));
  CHECK(e.hbm_j == Approx(70 * 8 * 5.0 * 1e-12));  // per bit
  CHECK(e.noc_j == Approx(50 * 8 * 6.0 * 1e-12));
  CHECK(e.link_j == Approx(60 * 8 * 7.0 * 1e-12));
  CHECK(e.static_j == 0.0);
  CHECK(e.total_j() == Approx(e.matrix_j + e.vector_j + e.sram_j + e.hbm_j + e.noc_j + e.link_j));
}

TEST_CASE("static energy is area times static power density times time times chips", "[cost]") {
  ChipConfig chip = testing::tiny_chip();
  chip.cost.static_w_per_mm2 = 0.2;
  const double area = chip_area(chip).total_mm2();
  CHECK(static_power_w(chip) == Approx(0.2 * area));
  const EnergyBreakdown e = run_energy(chip, Activity{}, 0.5, 4);
  CHECK(e.static_j == Approx(0.2 * area * 0.5 * 4));
  CHECK(e.dynamic_j() == 0.0);
}

TEST_CASE("a power limit makes a run last its dynamic energy over the power left above static", "[cost][power]") {
  ChipConfig chip = testing::tiny_chip();
  chip.cost.static_w_per_mm2 = 0.1;
  const double static_w = static_power_w(chip);
  // No limit: the run's own time, however much it burns.
  CHECK(power_limited_seconds(chip, 1000.0, 0.002) == 0.002);
  chip.cost.power_limit_w = static_w + 50.0;
  // 1 J in 2 ms would be 500 W of dynamic power against 50 W available: 1 / 50 = 20 ms.
  CHECK(power_limited_seconds(chip, 1.0, 0.002) == Approx(0.02));
  // 0.05 J in 2 ms is 25 W: under the limit, the run keeps its time.
  CHECK(power_limited_seconds(chip, 0.05, 0.002) == 0.002);
  // Exactly at the limit: unchanged.
  CHECK(power_limited_seconds(chip, 0.1, 0.002) == Approx(0.002));
}

TEST_CASE("instruction activity counts MACs and operand bytes", "[cost][activity]") {
  const Activity mm = instruction_activity(one("matmul mxu=0 a_addr=0 b_addr=0x10000 c_addr=0x20000 m=8 n=16 k=32 acc=1 dtype=fp8"));
  CHECK(mm.macs[static_cast<int>(isa::DType::fp8)] == 8 * 16 * 32);
  CHECK(mm.macs[static_cast<int>(isa::DType::bf16)] == 0);
  // A (8 x 32) and B (32 x 16) at 1 byte, plus the fp32 accumulator read back (acc=1); C written.
  CHECK(mm.sram_bytes_read == 8 * 32 + 32 * 16 + 8 * 16 * 4);
  CHECK(mm.sram_bytes_written == 8 * 16 * 4);
  CHECK(mm.hbm_bytes_read + mm.hbm_bytes_written == 0);

  const Activity load = instruction_activity(one("dma.load engine=0 hbm_addr=0 sram_addr=0 rows=4 row_bytes=128"));
  CHECK(load.hbm_bytes_read == 512);
  CHECK(load.sram_bytes_written == 512);
  const Activity store = instruction_activity(one("dma.store engine=0 hbm_addr=0 sram_addr=0 rows=4 row_bytes=128"));
  CHECK(store.sram_bytes_read == 512);
  CHECK(store.hbm_bytes_written == 512);

  const Activity add = instruction_activity(one("vec.add src_addr=0 src2_addr=0x8000 dst_addr=0x10000 rows=4 cols=64"));
  CHECK(add.vector_elements == 256);
  CHECK(add.sram_bytes_read == 2 * 256 * 2);  // two bf16 operands
  CHECK(add.sram_bytes_written == 256 * 2);
  const Activity rowmax = instruction_activity(one("vec.rowmax src_addr=0 dst_addr=0x10000 rows=4 cols=64"));
  CHECK(rowmax.sram_bytes_written == 4 * 2);  // one value per row

  // A copy reads and writes its tile; into another core's SRAM it also crosses the NoC.
  const Activity local = instruction_activity(one("dma.copy engine=0 src_addr=0 dst_core=0 dst_addr=0x1000 rows=2 row_bytes=64"));
  CHECK(local.sram_bytes_read == 128);
  CHECK(local.sram_bytes_written == 128);
  CHECK(local.noc_bytes == 0);
  const Activity remote = instruction_activity(one("dma.copy core=1 engine=0 src_addr=0 dst_core=0 dst_addr=0x1000 rows=2 row_bytes=64"));
  CHECK(remote.noc_bytes == 128);
  CHECK(remote.sram_bytes() == 256);
  // A strided tile counts its rows, not the gaps between them.
  CHECK(instruction_activity(one("dma.load engine=0 hbm_addr=0 sram_addr=0 rows=4 row_bytes=128 hbm_stride=4096")).hbm_bytes_read == 512);
  // Norm parameters: one row (RMSNorm gamma) or two (LayerNorm gamma and beta).
  CHECK(instruction_activity(one("vec.rmsnorm src_addr=0 src2_addr=0x8000 dst_addr=0x10000 rows=4 cols=64")).sram_bytes_read == 4 * 64 * 2 + 64 * 2);
  CHECK(instruction_activity(one("vec.layernorm src_addr=0 src2_addr=0x8000 dst_addr=0x10000 rows=4 cols=64")).sram_bytes_read == 4 * 64 * 2 + 2 * 64 * 2);
  // Chip-to-chip transfers: their bytes are link bytes, counted by the interconnect.
  CHECK(instruction_activity(one("dma.send engine=0 chip=1 sram_addr=0 bytes=4096 tag=1")).sram_bytes() == 0);
  CHECK(instruction_activity(one("matmul mxu=0 a_addr=0 b_addr=0x10000 c_addr=0x20000 m=8 n=16 k=32 acc=0")).sram_bytes_read == 8 * 32 * 2 + 32 * 16 * 2);
  CHECK(instruction_activity(one("sem.signal unit=dma0 sem=1")).sram_bytes() == 0);
}
