// Chip-level behaviour of the SystemC models. Each TEST_CASE elaborates once: ctest runs each in
// its own process (SystemC allows one elaboration per process).
#include <catch2/catch.hpp>

#include <map>

#include <fmt/format.h>

#include "models/systemc_reports.h"
#include "models/chip.h"
#include "arch/cost_model.h"
#include "arch/matrix_timing.h"
#include "arch/test_chips.h"

using namespace tasim;

namespace {

struct Record {
  int unit;
  isa::Opcode op;
  std::uint32_t line;
  std::uint64_t start, end;
};

struct Recorder : ExecutionObserver {
  std::vector<Record> records;
  void on_instruction(int unit, const isa::Instruction& inst, std::uint64_t s, std::uint64_t e,
                      const Activity&) override {
    records.push_back({unit, inst.op, inst.line, s, e});
  }
  const Record& at_line(std::uint32_t line) const {
    for (const auto& r : records) {
      if (r.line == line) return r;
    }
    FAIL("no record for line " << line);
    return records.front();
  }
};

struct Outcome {
  RunStats stats;
  bool finished = false;
  std::string report;
  Recorder recorder;
};

Outcome run_chip(const ChipConfig& chip, const std::string& tasm, bool ideal = false,
                 const std::map<isa::UnitKind, UnitModelFactory>& unit_models = {}, bool validate = true) {
  static isa::Program program;  // outlives the simulation (the chip keeps a reference)
  program = isa::assemble(tasm, "test.tasm");
  if (validate) isa::validate(program, target_limits(chip));
  Outcome out;
  ChipOptions options;
  options.ideal_memory = ideal;
  options.unit_models = unit_models;
  static std::unique_ptr<Chip> model;
  model = std::make_unique<Chip>("chip", chip, program, options, &out.recorder);
  tasim::run_simulation();
  out.finished = model->finished();
  out.report = model->deadlock_report();
  out.stats = model->stats();
  return out;
}


}  // namespace

TEST_CASE("HBM bandwidth is capped under several concurrent DMA engines", "[chip][hbm]") {
  const ChipConfig chip = testing::tiny_chip();
  // Four engines each load 256 KiB at once from different HBM regions.
  std::string tasm;
  for (int e = 0; e < 4; ++e) {
    tasm += fmt::format("dma.load engine={} hbm_addr={} sram_addr={} rows=1 row_bytes=262144\n", e, e * 262144,
                        e * 262144);
  }
  tasm += "halt\n";
  const Outcome out = run_chip(chip, tasm);
  REQUIRE(out.finished);
  const double bytes = 4.0 * 262144;
  const double peak_bytes_per_cycle = chip.hbm.peak_gbps() / chip.clock_ghz;  // 64
  const double achieved = bytes / static_cast<double>(out.stats.cycles);
  CHECK(out.stats.hbm_bytes_read == 4 * 262144ull);
  CHECK(achieved <= peak_bytes_per_cycle);
  // Large transfers approach the peak: only setup and latency are lost.
  CHECK(achieved >= 0.95 * peak_bytes_per_cycle);
  // With the engines sharing HBM, at least one of them was slowed by contention.
  std::uint64_t hbm_stall = 0;
  for (const auto& u : out.stats.units) hbm_stall += u.stall_cycles[static_cast<int>(StallReason::hbm)];
  CHECK(hbm_stall > 0);
}

TEST_CASE("a matmul waiting on a semaphore starts after the DMA that signals it", "[chip][sync]") {
  const ChipConfig chip = testing::tiny_chip();
  const std::string tasm = R"(
dma.load engine=0 hbm_addr=0 sram_addr=0 rows=64 row_bytes=128
sem.signal unit=dma0 sem=1
sem.wait unit=mxu0 sem=1
matmul mxu=0 a_addr=0 b_addr=0x2000 c_addr=0x4000 m=64 n=64 k=64
halt
)";
  const Outcome out = run_chip(chip, tasm);
  REQUIRE(out.finished);
  const Record& load = out.recorder.at_line(2);
  const Record& mm = out.recorder.at_line(5);
  CHECK(mm.start >= load.end);
  CHECK(mm.end - mm.start >= timing::matmul_cycles(chip.core.matrix, isa::DType::bf16, 64, 64, 64));
  CHECK(out.stats.cycles == mm.end);
  // The wait shows up as a semaphore stall of the matrix unit.
  const auto& mxu0 = out.stats.units[static_cast<std::size_t>(chip.core.dma.engines)];
  CHECK(mxu0.name == "core0.mxu0");
  CHECK(mxu0.stall_cycles[static_cast<int>(StallReason::semaphore)] > 0);
}

TEST_CASE("with ideal memory a matmul takes exactly the systolic formula", "[chip][matrix]") {
  ChipConfig chip = testing::tiny_chip();
  const Outcome out = run_chip(chip, "matmul m=100 n=37 k=250 a_addr=0 b_addr=0x10000 c_addr=0x20000\nhalt\n", true);
  REQUIRE(out.finished);
  CHECK(out.stats.cycles == timing::matmul_cycles(chip.core.matrix, isa::DType::bf16, 100, 37, 250));
  CHECK(out.stats.flops == 2ull * 100 * 37 * 250);
}

TEST_CASE("a wait before its own signal on one unit is reported as a deadlock", "[chip][deadlock]") {
  const ChipConfig chip = testing::tiny_chip();
  const std::string tasm = "sem.wait unit=mxu0 sem=3\nsem.signal unit=mxu0 sem=3\nhalt\n";
  // The validator sees it statically; run anyway, the chip reports it too.
  CHECK_THAT(isa::find_wait_deadlock(isa::assemble(tasm, "test.tasm"), target_limits(chip)),
             Catch::Contains("certain deadlock"));
  const Outcome out = run_chip(chip, tasm, false, {}, false);
  CHECK_FALSE(out.finished);
  CHECK_THAT(out.report, Catch::Contains("deadlock"));
  CHECK_THAT(out.report, Catch::Contains("core0.mxu0 waits on semaphore 3 (count 0) at test.tasm:1"));
}

TEST_CASE("a full queue blocking the sequencer is reported as a deadlock", "[chip][deadlock]") {
  ChipConfig chip = testing::tiny_chip();
  chip.queue_depth = 2;
  // mxu0 waits for a signal that comes later in program order, behind more mxu0 work than its
  // queue holds: the sequencer cannot issue the signal.
  const std::string tasm = R"(sem.wait unit=mxu0 sem=1
matmul m=16 n=16 k=16 a_addr=0 b_addr=0x1000 c_addr=0x2000
matmul m=16 n=16 k=16 a_addr=0 b_addr=0x1000 c_addr=0x2000
matmul m=16 n=16 k=16 a_addr=0 b_addr=0x1000 c_addr=0x2000
sem.signal unit=dma0 sem=1
halt
)";
  const Outcome out = run_chip(chip, tasm);
  CHECK_FALSE(out.finished);
  CHECK_THAT(out.report, Catch::Contains("core0.mxu0 waits on semaphore 1"));
  CHECK_THAT(out.report, Catch::Contains("sequencer blocked issuing test.tasm:4 (matmul): queue of core0.mxu0 is full"));
}

TEST_CASE("a barrier holds every unit until the last arrives", "[chip][sync]") {
  const ChipConfig chip = testing::tiny_chip();
  const std::string tasm = R"(dma.load engine=0 hbm_addr=0 sram_addr=0 rows=1 row_bytes=65536
barrier
vec.add src_addr=0 src2_addr=0x100 dst_addr=0x200 rows=1 cols=16
halt
)";
  const Outcome out = run_chip(chip, tasm);
  REQUIRE(out.finished);
  const Record& load = out.recorder.at_line(1);
  const Record& add = out.recorder.at_line(3);
  CHECK(add.start >= load.end);
}

TEST_CASE("two matrix units sharing a narrow SRAM port take longer than one", "[chip][sram]") {
  ChipConfig chip = testing::tiny_chip();
  chip.core.sram.ports = 1;
  chip.core.sram.bytes_per_cycle_per_port = 8;  // far below what two arrays want
  const std::string tasm = R"(matmul mxu=0 m=64 n=64 k=64 a_addr=0 b_addr=0x4000 c_addr=0x8000
matmul mxu=1 m=64 n=64 k=64 a_addr=0 b_addr=0x4000 c_addr=0x10000
halt
)";
  const Outcome out = run_chip(chip, tasm);
  REQUIRE(out.finished);
  const Record& first = out.recorder.at_line(1);
  const Record& second = out.recorder.at_line(2);
  const std::uint64_t bytes = (64 * 64 + 64 * 64) * 2 + 64 * 64 * 4;
  // Both need bytes / 8 cycles of the one port: the second finishes no earlier than 2x that.
  CHECK(std::max(first.end, second.end) >= 2 * bytes / 8);
  CHECK(out.stats.units[4].stall_cycles[static_cast<int>(StallReason::sram_port)] +
            out.stats.units[5].stall_cycles[static_cast<int>(StallReason::sram_port)] >
        0);
}

TEST_CASE("SRAM footprint tracks the bytes written", "[chip][sram]") {
  const ChipConfig chip = testing::tiny_chip();
  const std::string tasm = R"(dma.load engine=0 hbm_addr=0 sram_addr=0 rows=4 row_bytes=1024
dma.load engine=1 hbm_addr=0 sram_addr=0x800 rows=4 row_bytes=1024
halt
)";
  const Outcome out = run_chip(chip, tasm);
  REQUIRE(out.finished);
  REQUIRE(out.stats.sram_peak_bytes.size() == 1);
  CHECK(out.stats.sram_peak_bytes[0] == 0x800 + 4096);  // two 4 KiB tiles overlapping by 2 KiB
}

TEST_CASE("copies into another core cross the on-chip network and contend for its ports", "[chip][noc]") {
  ChipConfig chip = testing::tiny_chip();
  chip.cores = 4;
  chip.noc.topology = NocTopology::crossbar;
  chip.noc.gbps_per_link = 16.0;  // 16 bytes per cycle at 1 GHz, below the SRAM ports
  chip.noc.latency_ns = 50.0;
  // Cores 1 and 2 each copy 16 KiB into core 3: both need core 3's one input port.
  const std::string tasm = R"(dma.copy core=1 engine=0 src_addr=0 dst_core=3 dst_addr=0 rows=1 row_bytes=16384
dma.copy core=2 engine=0 src_addr=0 dst_core=3 dst_addr=0x8000 rows=1 row_bytes=16384
halt
)";
  const Outcome out = run_chip(chip, tasm);
  REQUIRE(out.finished);
  const Record& first = out.recorder.at_line(1);
  const Record& second = out.recorder.at_line(2);
  const std::uint64_t setup = static_cast<std::uint64_t>(chip.core.dma.setup_cycles);
  // Alone: setup + 16384 / 16 cycles on the ports + 50 cycles of latency.
  CHECK(first.end - first.start == setup + 1024 + 50);
  // The second (issued a cycle later) waits for core 3's input port: it ends a whole transfer
  // after the first, and the wait is booked as a NoC stall.
  CHECK(second.end == first.start + setup + 2 * 1024 + 50);
  std::uint64_t noc_stall = 0;
  for (const auto& u : out.stats.units) noc_stall += u.stall_cycles[static_cast<int>(StallReason::noc)];
  CHECK(noc_stall == (second.end - second.start) - (setup + 1024 + 50));
  CHECK(noc_stall > 1000);
}

TEST_CASE("a chip run counts the activity its SRAM model served", "[cost][activity][chip]") {
  const ChipConfig chip = testing::tiny_chip();
  static isa::Program program;
  program = isa::assemble(
      "dma.load engine=0 hbm_addr=0 sram_addr=0 rows=16 row_bytes=64\n"
      "dma.load engine=1 hbm_addr=0x10000 sram_addr=0x1000 rows=32 row_bytes=32\n"
      "barrier\n"
      "matmul mxu=0 a_addr=0 b_addr=0x1000 c_addr=0x4000 m=16 n=16 k=32 acc=0\n"
      "barrier\n"
      "vec.exp src_addr=0x4000 dst_addr=0x8000 rows=16 cols=16\n"
      "barrier\n"
      "dma.store engine=0 hbm_addr=0x20000 sram_addr=0x8000 rows=16 row_bytes=32\n"
      "halt\n",
      "activity.tasm");
  isa::validate(program, target_limits(chip));
  Chip model("chip", chip, program, ChipOptions{}, nullptr);
  tasim::run_simulation();
  REQUIRE(model.finished());
  const RunStats s = model.stats();
  CHECK(s.activity.macs[0] == 16 * 16 * 32);
  CHECK(s.flops == 2 * 16 * 16 * 32);
  CHECK(s.activity.vector_elements == 256);
  CHECK(s.activity.hbm_bytes_read == s.hbm_bytes_read);
  CHECK(s.activity.hbm_bytes_written == s.hbm_bytes_written);
  CHECK(s.activity.hbm_bytes_read == 16 * 64 + 32 * 32);
  // The SRAM model served exactly the bytes the energy model prices.
  CHECK(s.activity.sram_bytes() == s.sram_bytes_accessed);
  CHECK(s.activity.sram_bytes() > 0);
}

// Plugging in: a memory model registered by name and chosen by hbm.model, and a unit model put in
// place of a kind's, both run under the chip without any change to it.
TEST_CASE("a memory model registered at run time times the chip's HBM by name", "[chip][hbm][registry]") {
  struct FixedLatency : MemoryModel {
    double unloaded_end_cycle(double now, std::uint64_t) const override { return now + 40; }
    double peak_bytes_per_cycle() const override { return 64.0; }
    double time_transfer(double now, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, bool) override {
      return now + 100;  // 60 cycles beyond the unloaded time: an HBM stall
    }
  };
  register_memory_model({"fixed-latency", "100 cycles per transfer, whatever its size", [](const HbmConfig&, double) {
                           return std::unique_ptr<MemoryModel>(new FixedLatency);
                         }});
  ChipConfig chip = testing::tiny_chip();
  chip.hbm.model = "fixed-latency";
  const Outcome out = run_chip(chip,
                               "dma.load engine=0 hbm_addr=0 sram_addr=0 rows=1 row_bytes=64\n"
                               "dma.store engine=1 hbm_addr=0x10000 sram_addr=0x1000 rows=2 row_bytes=4096\n"
                               "halt\n");
  REQUIRE(out.finished);
  // setup (10) + 100 cycles each, whatever the size; the bytes are counted by the interface.
  CHECK(out.recorder.at_line(1).end - out.recorder.at_line(1).start == 110);
  CHECK(out.recorder.at_line(2).end - out.recorder.at_line(2).start == 110);
  CHECK(out.stats.hbm_bytes_read == 64);
  CHECK(out.stats.hbm_bytes_written == 8192);
  std::uint64_t hbm_stall = 0;
  for (const auto& u : out.stats.units) hbm_stall += u.stall_cycles[static_cast<int>(StallReason::hbm)];
  CHECK(hbm_stall == 2 * 60);
}

TEST_CASE("a unit model put in place of the vector unit's runs every vector op", "[chip][registry]") {
  // Seven cycles per vector instruction, whatever its shape.
  struct SevenCycles : UnitModel {
    UnitTiming execute(const isa::Instruction&, std::uint64_t start, const Activity&) override {
      UnitTiming t;
      t.end_cycle = t.unloaded_end_cycle = static_cast<double>(start + 7);
      return t;
    }
  };
  const ChipConfig chip = testing::tiny_chip();
  const Outcome out = run_chip(chip,
                               "vec.exp src_addr=0 dst_addr=0x1000 rows=64 cols=64\n"
                               "vec.softmax src_addr=0 dst_addr=0x1000 rows=16 cols=512\n"
                               "matmul mxu=0 a_addr=0 b_addr=0x2000 c_addr=0x4000 m=16 n=16 k=16\n"
                               "halt\n",
                               false,
                               {{isa::UnitKind::vpu, [](ChipResources&, int, int) {
                                   return std::unique_ptr<UnitModel>(new SevenCycles);
                                 }}});
  REQUIRE(out.finished);
  CHECK(out.recorder.at_line(1).end - out.recorder.at_line(1).start == 7);
  CHECK(out.recorder.at_line(2).end - out.recorder.at_line(2).start == 7);
  // The matrix unit keeps the table's model: SCALE-Sim cycles, not 7.
  CHECK(out.recorder.at_line(3).end - out.recorder.at_line(3).start ==
        timing::matmul_cycles(chip.core.matrix, isa::DType::bf16, 16, 16, 16));
}

TEST_CASE("barrier.kernel releases every unit its cycles after the last one arrives", "[chip][barrier]") {
  const ChipConfig chip = testing::tiny_chip();
  // dma0 is busy for a while; the matmul after the boundary starts 500 cycles after dma0 is done,
  // dma1 (idle before the boundary) likewise; the run ends with the matmul.
  const std::string tasm = R"(
dma.load engine=0 hbm_addr=0 sram_addr=0 rows=64 row_bytes=1024
barrier.kernel cycles=500
matmul mxu=0 a_addr=0 b_addr=0x2000 c_addr=0x4000 m=16 n=16 k=16
dma.load engine=1 hbm_addr=0x100000 sram_addr=0x20000 rows=1 row_bytes=64
halt
)";
  const Outcome out = run_chip(chip, tasm);
  REQUIRE(out.finished);
  const Record& load = out.recorder.at_line(2);
  CHECK(out.recorder.at_line(4).start == load.end + 500);
  CHECK(out.recorder.at_line(5).start == load.end + 500);
  // Every unit waited there: the boundary is booked as barrier stalls.
  std::uint64_t barrier_stall = 0;
  for (const auto& u : out.stats.units) barrier_stall += u.stall_cycles[static_cast<int>(StallReason::barrier)];
  CHECK(barrier_stall >= 500 * out.stats.units.size());
}

namespace {
// Only the matrix units burn dynamic energy, 1 pJ per bf16 MAC; no static power. A 16^3 matmul
// is 4096 MACs = 4.096 nJ: at a 1 mW limit it must last 4.096 us = 4096 cycles at 1 GHz.
ChipConfig power_test_chip(double limit_w) {
  ChipConfig chip = testing::tiny_chip();  // 1 GHz
  chip.cost = CostConfig{};
  chip.cost.pj_per_mac.fill(0.0);
  chip.cost.pj_per_mac[static_cast<int>(isa::DType::bf16)] = 1.0;
  chip.cost.vector_pj_per_element = chip.cost.sram_pj_per_byte_read = chip.cost.sram_pj_per_byte_written = 0.0;
  chip.cost.hbm_pj_per_bit = chip.cost.noc_pj_per_bit = chip.cost.link_pj_per_bit = 0.0;
  chip.cost.static_w_per_mm2 = 0.0;
  chip.cost.power_limit_w = limit_w;
  return chip;
}

const char* const kTwoKernels = R"(
matmul mxu=0 a_addr=0 b_addr=0x2000 c_addr=0x4000 m=16 n=16 k=16
barrier.kernel cycles=100
matmul mxu=0 a_addr=0 b_addr=0x2000 c_addr=0x4000 m=16 n=16 k=16
halt
)";
}  // namespace

TEST_CASE("a power limit is held over each kernel and over the work after the last boundary", "[chip][power]") {
  const ChipConfig chip = power_test_chip(1e-3);
  const Outcome out = run_chip(chip, kTwoKernels);
  REQUIRE(out.finished);
  const std::uint64_t matmul = timing::matmul_cycles(chip.core.matrix, isa::DType::bf16, 16, 16, 16);
  REQUIRE(matmul < 4096);  // so the limit binds
  // The first kernel is drawn out to 4096 cycles, then the boundary's 100: the second matmul starts
  // at 4196 (a cycle later for rounding at most), and the run after it lasts 4096 cycles too.
  const Record& second = out.recorder.at_line(4);
  CHECK(second.start >= 4196);
  CHECK(second.start <= 4197);
  CHECK(out.stats.cycles >= second.start + 4096);
  CHECK(out.stats.cycles <= second.start + 4097);
  // Every unit waits the holds, booked as power stalls; the boundary itself stays a barrier stall.
  for (const auto& u : out.stats.units) {
    const std::uint64_t power = u.stall_cycles[static_cast<int>(StallReason::power)];
    CHECK(power >= 2 * (4096 - matmul));
    CHECK(power <= 2 * (4096 - matmul) + 2);
  }
  // What the limit is for: the run's average power stays within it.
  const double seconds = static_cast<double>(out.stats.cycles) * 1e-9;
  CHECK(run_energy(chip, out.stats.activity, seconds, 1).total_j() / seconds <= chip.cost.power_limit_w);
}

TEST_CASE("a power limit the work stays under changes nothing", "[chip][power]") {
  const Outcome out = run_chip(power_test_chip(1.0), kTwoKernels);
  REQUIRE(out.finished);
  CHECK(out.recorder.at_line(4).start == out.recorder.at_line(2).end + 100);
  CHECK(out.stats.cycles == out.recorder.at_line(4).end);
  for (const auto& u : out.stats.units) CHECK(u.stall_cycles[static_cast<int>(StallReason::power)] == 0);
}

TEST_CASE("a run of N kernels lasts at least N host issue intervals", "[chip][host]") {
  ChipConfig chip = power_test_chip(0.0);  // no power limit
  chip.software.host_issue_ns = 5000;      // 5000 cycles at 1 GHz
  const Outcome out = run_chip(chip, kTwoKernels);
  REQUIRE(out.finished);
  // Two kernels (one boundary): the host issues the second 5000 cycles after the first, so the run
  // lasts 10000 cycles, its last instruction long done; every unit waits the rest as host stalls.
  const std::uint64_t last_end = out.recorder.at_line(4).end;
  REQUIRE(last_end < 10000);
  CHECK(out.stats.cycles == 10000);
  for (const auto& u : out.stats.units) CHECK(u.stall_cycles[static_cast<int>(StallReason::host)] == 10000 - last_end);
  // Applying it again changes nothing; a longer run is not shortened by it.
  RunStats again = out.stats;
  hold_host_issue(chip, again, 2);
  CHECK(again.cycles == 10000);
  CHECK(again.units.front().stall_cycles[static_cast<int>(StallReason::host)] ==
        out.stats.units.front().stall_cycles[static_cast<int>(StallReason::host)]);
  hold_host_issue(chip, again, 1);
  CHECK(again.cycles == 10000);
  hold_host_issue(chip, again, 3);
  CHECK(again.cycles == 15000);
}

TEST_CASE("register accumulators: an accumulating matmul moves only A and B through its SRAM port", "[chip][matrix]") {
  ChipConfig chip = testing::tiny_chip();
  chip.core.sram.bytes_per_cycle_per_port = 32;  // narrow, so the port would bind
  chip.core.matrix.register_accumulators = true;
  // 64 x 16 x 16 bf16: A 2048 bytes, B 512, C 4096 (fp32). The first step (acc=0) writes C once:
  // 6656 bytes = 208 port cycles; the accumulating step moves A and B only: 2560 bytes = 80 cycles
  // (with C in SRAM it would be 10752 bytes = 336).
  const std::string tasm = R"(
matmul mxu=0 a_addr=0 b_addr=0x2000 c_addr=0x4000 m=64 n=16 k=16
matmul mxu=0 a_addr=0 b_addr=0x2000 c_addr=0x4000 m=64 n=16 k=16 acc=1
halt
)";
  const Outcome out = run_chip(chip, tasm);
  REQUIRE(out.finished);
  const std::uint64_t compute = timing::matmul_cycles(chip.core.matrix, isa::DType::bf16, 64, 16, 16);
  const Record& first = out.recorder.at_line(2);
  const Record& second = out.recorder.at_line(3);
  CHECK(first.end - first.start == std::max<std::uint64_t>(compute, 208));
  CHECK(second.end - second.start == std::max<std::uint64_t>(compute, 80));
  CHECK(second.end - second.start < 336);
}
