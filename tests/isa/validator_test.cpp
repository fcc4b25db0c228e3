// The validator: every check, with the message a user sees.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "isa/isa.h"

using namespace tasim::isa;

namespace {

// The small target of the examples: 1 core, 2 DMA engines, 2 matrix units, 1 vector unit, 1 MiB SRAM.
TargetLimits small_target() {
  TargetLimits t;
  t.chips = 1;
  t.cores = 1;
  t.dma_engines = 2;
  t.mxus = 2;
  t.vpus = 1;
  t.semaphores = 256;
  t.sram_bytes = 1 << 20;
  t.hbm_bytes = 1ull << 30;
  return t;
}

std::vector<std::string> problems(const std::string& text, const TargetLimits& limits = small_target()) {
  return find_problems(assemble(text, "v.tasm"), limits);
}

// The single problem of a program that has exactly one.
std::string problem(const std::string& text, const TargetLimits& limits = small_target()) {
  const std::vector<std::string> all = problems(text, limits);
  if (all.size() != 1) {
    std::string joined = std::to_string(all.size()) + " problems:";
    for (const std::string& p : all) joined += "\n  " + p;
    return joined;
  }
  return all.front();
}

}  // namespace

TEST_CASE("a correct program has no problems", "[isa][validate]") {
  const std::string text =
      "dma.load engine=1 hbm_addr=0x0 sram_addr=0x0 rows=128 row_bytes=256 hbm_stride=1024\n"
      "sem.signal unit=dma1 sem=0\n"
      "sem.wait unit=mxu1 sem=0\n"
      "matmul mxu=1 a_addr=0x0 b_addr=0x8000 c_addr=0x10000 m=128 n=128 k=128\n"
      "barrier\n"
      "halt\n";
  CHECK(problems(text).empty());
  CHECK_NOTHROW(validate(assemble(text, "ok.tasm"), small_target()));
}

TEST_CASE("an empty program is an error", "[isa][validate]") {
  CHECK(problem("# only a comment\n") == "v.tasm: the program has no instructions");
  CHECK_THROWS_WITH(validate(assemble("", "e.tasm"), small_target()),
                    "e.tasm: the program has no instructions");
}

TEST_CASE("unit indices must exist on the target", "[isa][validate]") {
  CHECK(problem("vec.exp core=1 src_addr=0 dst_addr=0 rows=1 cols=1") ==
        "v.tasm:1: core 1 absent: the architecture has 1 core");
  CHECK(problem("dma.load engine=2 hbm_addr=0 sram_addr=0 rows=1 row_bytes=1") ==
        "v.tasm:1: dma2 absent: the architecture has 2 DMA engines per core");
  CHECK(problem("matmul mxu=2 a_addr=0 b_addr=0 c_addr=0 m=1 n=1 k=1") ==
        "v.tasm:1: mxu2 absent: the architecture has 2 matrix units per core");
  CHECK(problem("vec.exp vpu=1 src_addr=0 dst_addr=0 rows=1 cols=1") ==
        "v.tasm:1: vpu1 absent: the architecture has 1 vector unit per core");
  CHECK(problem("dma.copy src_addr=0 dst_core=3 dst_addr=0 rows=1 row_bytes=1") ==
        "v.tasm:1: destination core 3 absent: the architecture has 1 core");

  TargetLimits four = small_target();
  four.mxus = 4;
  CHECK(problem("sem.signal unit=mxu5 sem=0\nsem.wait unit=mxu0 sem=0", four) ==
        "v.tasm:1: unit mxu5 absent: the architecture has 4 matrix units per core");
  CHECK(problem("sem.signal unit=dma2 sem=0\nsem.wait unit=mxu0 sem=0") ==
        "v.tasm:1: unit dma2 absent: the architecture has 2 DMA engines per core");
  CHECK(problem("sem.signal unit=vpu0 sem=0\nsem.wait unit=vpu3 sem=0") ==
        "v.tasm:2: unit vpu3 absent: the architecture has 1 vector unit per core");
}

TEST_CASE("semaphore indices must exist", "[isa][validate]") {
  CHECK(problem("sem.signal unit=dma0 sem=300\nsem.wait unit=dma0 sem=300") ==
        "2 problems:\n  v.tasm:1: semaphore 300 absent: the architecture has 256 semaphores\n"
        "  v.tasm:2: semaphore 300 absent: the architecture has 256 semaphores");
  CHECK(problems("sem.signal unit=dma0 sem=255\nsem.wait unit=dma0 sem=255").empty());
}

TEST_CASE("chip-to-chip transfers need a peer chip", "[isa][validate]") {
  const std::string send = "dma.send chip=1 sram_addr=0 bytes=64 tag=1";
  const std::string recv = "dma.recv chip=1 sram_addr=0 bytes=64 tag=1";
  CHECK(problem(send) == "v.tasm:1: dma.send needs a multi-chip system: this architecture has 1 chip");
  CHECK(problem(recv) == "v.tasm:1: dma.recv needs a multi-chip system: this architecture has 1 chip");
  TargetLimits two = small_target();
  two.chips = 2;
  CHECK(problems(send, two).empty());
  CHECK(problems(recv, two).empty());
  CHECK(problem("dma.send chip=2 sram_addr=0 bytes=64 tag=1", two) ==
        "v.tasm:1: chip 2 absent: the system has 2 chips");
  CHECK(problem("dma.recv chip=0 sram_addr=0 bytes=64 tag=1", two) ==
        "v.tasm:1: dma.recv peer chip 0 is the program's own chip (use dma.copy within a chip)");
}

TEST_CASE("sizes must be at least 1", "[isa][validate]") {
  CHECK(problem("matmul a_addr=0 b_addr=0 c_addr=0 m=0 n=1 k=1") ==
        "v.tasm:1: zero size: m=0 (must be at least 1)");
  CHECK(problem("matmul a_addr=0 b_addr=0 c_addr=0 m=1 n=0 k=1") ==
        "v.tasm:1: zero size: n=0 (must be at least 1)");
  CHECK(problem("matmul a_addr=0 b_addr=0 c_addr=0 m=1 n=1 k=0") ==
        "v.tasm:1: zero size: k=0 (must be at least 1)");
  CHECK(problem("vec.exp src_addr=0 dst_addr=0 rows=0 cols=1") ==
        "v.tasm:1: zero size: rows=0 (must be at least 1)");
  CHECK(problem("vec.exp src_addr=0 dst_addr=0 rows=1 cols=0") ==
        "v.tasm:1: zero size: cols=0 (must be at least 1)");
  CHECK(problem("dma.store sram_addr=0 hbm_addr=0 rows=1 row_bytes=0") ==
        "v.tasm:1: zero size: row_bytes=0 (must be at least 1)");
  TargetLimits two = small_target();
  two.chips = 2;
  CHECK(problem("dma.send chip=1 sram_addr=0 bytes=0 tag=1", two) ==
        "v.tasm:1: zero size: bytes=0 (must be at least 1)");
}

TEST_CASE("2-D tiles: strides, overlap and extent", "[isa][validate]") {
  // 4 rows of 256 B, 4096 B apart: the last row ends at 0xf0000 + 3 * 4096 + 256.
  CHECK(problems("dma.load hbm_addr=0 sram_addr=0xf0000 rows=4 row_bytes=256 sram_stride=4096").empty());
  const std::uint64_t fits = (1 << 20) - (3 * 4096 + 256);
  CHECK(problems("dma.load hbm_addr=0 sram_addr=" + std::to_string(fits) +
                 " rows=4 row_bytes=256 sram_stride=4096")
            .empty());
  CHECK(problem("dma.load hbm_addr=0 sram_addr=" + std::to_string(fits + 1) +
                " rows=4 row_bytes=256 sram_stride=4096") ==
        "v.tasm:1: dma.load SRAM range [0xfcf01, 0x100001) exceeds SRAM capacity 0x100000 (1 MiB) of core 0");
  // Stride 0 means contiguous rows.
  CHECK(problem("dma.load hbm_addr=0 sram_addr=0xff000 rows=17 row_bytes=256") ==
        "v.tasm:1: dma.load SRAM range [0xff000, 0x100100) exceeds SRAM capacity 0x100000 (1 MiB) of core 0");
  CHECK(problem("dma.load hbm_addr=0 sram_addr=0 rows=2 row_bytes=256 sram_stride=128") ==
        "v.tasm:1: SRAM rows overlap: sram_stride=128 < row_bytes=256 (0 means contiguous)");
  CHECK(problem("dma.store sram_addr=0 hbm_addr=0 rows=2 row_bytes=256 hbm_stride=255") ==
        "v.tasm:1: HBM rows overlap: hbm_stride=255 < row_bytes=256 (0 means contiguous)");
  CHECK(problems("dma.load hbm_addr=0 sram_addr=0 rows=1 row_bytes=256 sram_stride=128").empty());  // one row
  CHECK(problem("dma.copy src_addr=0 dst_core=0 dst_addr=0 rows=2 row_bytes=64 dst_stride=32") ==
        "v.tasm:1: destination rows overlap: dst_stride=32 < row_bytes=64 (0 means contiguous)");
}

TEST_CASE("HBM ranges are checked when the capacity is known", "[isa][validate]") {
  const std::string store =
      "dma.store sram_addr=0 hbm_addr=0x3ffff000 rows=2 row_bytes=256 hbm_stride=0x1000";
  CHECK(problem(store) ==
        "v.tasm:1: dma.store HBM range [0x3ffff000, 0x40000100) exceeds HBM capacity 0x40000000 (1 GiB)");
  TargetLimits unknown_hbm = small_target();
  unknown_hbm.hbm_bytes = 0;
  CHECK(problems(store, unknown_hbm).empty());
  CHECK(problems("dma.load hbm_addr=0x3fffff00 sram_addr=0 rows=1 row_bytes=256")
            .empty());  // ends exactly at 1 GiB
}

TEST_CASE("dma.copy and chip transfers stay in SRAM", "[isa][validate]") {
  TargetLimits big = small_target();
  big.cores = 2;
  big.chips = 2;
  big.sram_bytes = 3 << 19;  // 1.5 MiB, not a whole number of MiB
  CHECK(problem("dma.copy core=1 src_addr=0 dst_core=1 dst_addr=0x17ff00 rows=1 row_bytes=512", big) ==
        "v.tasm:1: dma.copy destination range [0x17ff00, 0x180100) exceeds SRAM capacity 0x180000 (1536 KiB) "
        "of core 1");
  CHECK(problem("dma.copy src_addr=0x17ff00 dst_core=1 dst_addr=0 rows=1 row_bytes=512", big) ==
        "v.tasm:1: dma.copy source range [0x17ff00, 0x180100) exceeds SRAM capacity 0x180000 (1536 KiB) of "
        "core 0");
  CHECK(problem("dma.send chip=1 sram_addr=0x17ff00 bytes=513 tag=1", big) ==
        "v.tasm:1: dma.send SRAM range [0x17ff00, 0x180101) exceeds SRAM capacity 0x180000 (1536 KiB) of "
        "core 0");
  CHECK(problems("dma.recv chip=1 sram_addr=0x17ff00 bytes=256 tag=1", big).empty());
  TargetLimits odd = small_target();
  odd.sram_bytes = 1000;
  CHECK(problem("dma.recv sram_addr=0 bytes=1001 tag=1 chip=1",
                [&] {
                  TargetLimits t = odd;
                  t.chips = 2;
                  return t;
                }()) ==
        "v.tasm:1: dma.recv SRAM range [0x0, 0x3e9) exceeds SRAM capacity 0x3e8 (1000 bytes) of core 0");
}

TEST_CASE("matmul operands: A and B in the input dtype, C in 4-byte accumulators", "[isa][validate]") {
  // m=n=k=256 bf16: A and B are 128 KiB each, C is 256 KiB.
  const std::string shape = " m=256 n=256 k=256";
  CHECK(problems("matmul a_addr=0xe0000 b_addr=0xe0000 c_addr=0xc0000" + shape).empty());
  CHECK(problem("matmul a_addr=0xe0001 b_addr=0 c_addr=0" + shape) ==
        "v.tasm:1: matmul A range [0xe0001, 0x100001) exceeds SRAM capacity 0x100000 (1 MiB) of core 0");
  CHECK(problem("matmul a_addr=0 b_addr=0xe0001 c_addr=0" + shape) ==
        "v.tasm:1: matmul B range [0xe0001, 0x100001) exceeds SRAM capacity 0x100000 (1 MiB) of core 0");
  CHECK(problem("matmul a_addr=0 b_addr=0 c_addr=0xc0001" + shape) ==
        "v.tasm:1: matmul C range [0xc0001, 0x100001) exceeds SRAM capacity 0x100000 (1 MiB) of core 0");
  // fp8 halves A and B but not C.
  CHECK(problems("matmul a_addr=0xf0000 b_addr=0xf0000 c_addr=0xc0000 dtype=fp8" + shape).empty());
  CHECK(problem("matmul a_addr=0 b_addr=0 c_addr=0xc0001 dtype=int8" + shape) ==
        "v.tasm:1: matmul C range [0xc0001, 0x100001) exceeds SRAM capacity 0x100000 (1 MiB) of core 0");
  // Only the target's SRAM size decides: with 8 MiB the same instruction fits.
  TargetLimits big = small_target();
  big.sram_bytes = 8 << 20;
  CHECK(problems("matmul a_addr=0 b_addr=0 c_addr=0x7c0000" + shape, big).empty());
  CHECK(problem("matmul a_addr=0 b_addr=0 c_addr=0x7c0001" + shape, big) ==
        "v.tasm:1: matmul C range [0x7c0001, 0x800001) exceeds SRAM capacity 0x800000 (8 MiB) of core 0");
}

TEST_CASE("vector operands follow each op's shape", "[isa][validate]") {
  // 64 x 128 bf16 = 16 KiB = 0x4000; the last 16 KiB of SRAM start at 0xfc000.
  const std::string tile = " rows=64 cols=128";
  CHECK(problems("vec.add src_addr=0xfc000 src2_addr=0xfc000 dst_addr=0xfc000" + tile).empty());
  CHECK(problem("vec.add src_addr=0xfc001 src2_addr=0 dst_addr=0" + tile) ==
        "v.tasm:1: vec.add src range [0xfc001, 0x100001) exceeds SRAM capacity 0x100000 (1 MiB) of core 0");
  CHECK(problem("vec.mul src_addr=0 src2_addr=0xfc001 dst_addr=0" + tile) ==
        "v.tasm:1: vec.mul src2 range [0xfc001, 0x100001) exceeds SRAM capacity 0x100000 (1 MiB) of core 0");
  CHECK(problem("vec.exp src_addr=0 dst_addr=0xfc001" + tile) ==
        "v.tasm:1: vec.exp dst range [0xfc001, 0x100001) exceeds SRAM capacity 0x100000 (1 MiB) of core 0");
  // fp8 tiles are half the size.
  CHECK(problems("vec.exp src_addr=0xfe000 dst_addr=0xfe000 dtype=fp8" + tile).empty());
  // rowmax/rowsum write one element per row: 128 B.
  CHECK(problems("vec.rowmax src_addr=0 dst_addr=0xfff80" + tile).empty());
  CHECK(
      problem("vec.rowsum src_addr=0 dst_addr=0xfff81" + tile) ==
      "v.tasm:1: vec.rowsum dst range [0xfff81, 0x100001) exceeds SRAM capacity 0x100000 (1 MiB) of core 0");
  // rmsnorm's gamma is one row (256 B); layernorm's gamma and beta two (512 B).
  CHECK(problems("vec.rmsnorm src_addr=0 src2_addr=0xfff00 dst_addr=0" + tile).empty());
  CHECK(problem("vec.rmsnorm src_addr=0 src2_addr=0xfff01 dst_addr=0" + tile) ==
        "v.tasm:1: vec.rmsnorm src2 range [0xfff01, 0x100001) exceeds SRAM capacity 0x100000 (1 MiB) of core "
        "0");
  CHECK(problems("vec.layernorm src_addr=0 src2_addr=0xffe00 dst_addr=0" + tile).empty());
  CHECK(problem("vec.layernorm src_addr=0 src2_addr=0xfff00 dst_addr=0" + tile) ==
        "v.tasm:1: vec.layernorm src2 range [0xfff00, 0x100100) exceeds SRAM capacity 0x100000 (1 MiB) of "
        "core 0");
  // rope's cos/sin table has the tile's shape.
  CHECK(problem("vec.rope src_addr=0 src2_addr=0xfc001 dst_addr=0" + tile) ==
        "v.tasm:1: vec.rope src2 range [0xfc001, 0x100001) exceeds SRAM capacity 0x100000 (1 MiB) of core 0");
}

TEST_CASE("semaphore waits must be matched by signals", "[isa][validate]") {
  CHECK(problem("sem.signal unit=dma0 sem=1\nsem.wait unit=mxu0 sem=1\nsem.wait unit=vpu0 sem=7\n") ==
        "v.tasm:3: sem.wait on semaphore 7 that is never signalled");
  // Reported once per semaphore, at its first wait.
  CHECK(problem("sem.wait unit=mxu0 sem=7\nsem.wait unit=mxu1 sem=7\n") ==
        "v.tasm:1: sem.wait on semaphore 7 that is never signalled");
  // More waits than signals: at the first wait that cannot be served.
  CHECK(problem("sem.signal unit=dma0 sem=3\nsem.signal unit=dma1 sem=3\nsem.wait unit=mxu0 sem=3\n"
                "sem.wait unit=mxu0 sem=3\nsem.wait unit=mxu0 sem=3\n") ==
        "v.tasm:5: sem.wait on semaphore 3: the program waits 3 times but signals only 2 times: certain "
        "deadlock");
  // A signal after its wait in program order is fine: the units run concurrently.
  CHECK(problems("sem.wait unit=mxu0 sem=3\nsem.signal unit=dma0 sem=3\n").empty());
  // Surplus signals are harmless.
  CHECK(
      problems("sem.signal unit=dma0 sem=3\nsem.signal unit=dma0 sem=3\nsem.wait unit=mxu0 sem=3\n").empty());
}

TEST_CASE("instructions after halt are unreachable", "[isa][validate]") {
  CHECK(problem("barrier\nhalt\n\nvec.exp src_addr=0 dst_addr=0 rows=1 cols=1\nhalt\n") ==
        "v.tasm:4: instruction after halt is unreachable (halt at v.tasm:2)");
  CHECK(problems("barrier\nhalt\n").empty());
}

TEST_CASE("validate reports the first problem and counts the others", "[isa][validate]") {
  const Program p = assemble(
      "matmul mxu=7 a_addr=0 b_addr=0 c_addr=0 m=1 n=1 k=1\n"
      "vec.exp src_addr=0 dst_addr=0 rows=0 cols=1\n"
      "sem.wait unit=mxu0 sem=9\n",
      "many.tasm");
  const std::vector<std::string> all = find_problems(p, small_target());
  REQUIRE(all.size() == 3);
  CHECK(all[1] == "many.tasm:2: zero size: rows=0 (must be at least 1)");
  CHECK_THROWS_WITH(
      validate(p, small_target()),
      "many.tasm:1: mxu7 absent: the architecture has 2 matrix units per core (and 2 more problems)");
  const Program two = assemble("vec.exp src_addr=0 dst_addr=0 rows=0 cols=0\n", "two.tasm");
  CHECK_THROWS_WITH(validate(two, small_target()),
                    "two.tasm:1: zero size: rows=0 (must be at least 1) (and 1 more problem)");
}

TEST_CASE("programs built in code are checked too", "[isa][validate]") {
  // Lowering fills value[] directly and has no source lines: messages name the instruction number.
  Program p;
  p.source_name = "lowered";
  Instruction mm;
  mm.op = Opcode::matmul;
  mm.set(Field::m, 1);
  mm.set(Field::n, 1);
  mm.set(Field::k, 1);
  Instruction wide = mm;
  wide.value[field_position(Opcode::matmul, Field::m)] = 70000;
  Instruction fp4_matmul = mm;  // fp4 is a matmul input: fine
  fp4_matmul.value[field_position(Opcode::matmul, Field::dtype)] = 3;
  Instruction bad_dtype;  // but no vector op computes on fp4
  bad_dtype.op = Opcode::vec_add;
  bad_dtype.set(Field::rows, 1);
  bad_dtype.set(Field::cols, 1);
  bad_dtype.value[field_position(Opcode::vec_add, Field::dtype)] = 3;
  Instruction bad_unit;
  bad_unit.op = Opcode::sem_signal;
  bad_unit.value[field_position(Opcode::sem_signal, Field::unit)] = 0xc0;
  Instruction bad_op;
  bad_op.op = static_cast<Opcode>(99);
  p.instructions = {mm, wide, bad_dtype, bad_unit, bad_op, fp4_matmul};
  const std::vector<std::string> all = find_problems(p, small_target());
  REQUIRE(all.size() == 4);
  CHECK(all[0] == "lowered:2: field m=70000 does not fit in 16 bits (max 65535)");
  CHECK(all[1] == "lowered:3: dtype fp4 on vec.add: fp4 is a matmul input only");
  CHECK(all[2] == "lowered:4: invalid unit reference 0xc0: its kind is none of dma, mxu, vpu");
  CHECK(all[3] == "lowered:5: invalid opcode number 99");
}

TEST_CASE("a peer chip is checked against the chip the program runs on", "[validator][c2c]") {
  using namespace tasim::isa;
  TargetLimits limits;
  limits.chips = 2;
  limits.sram_bytes = 1 << 20;
  limits.own_chip = 1;
  // On chip 1, sending to chip 0 is fine and sending to chip 1 is sending to itself.
  const Program ok = assemble("dma.send chip=0 sram_addr=0 bytes=64 tag=1\nhalt\n", "p.tasm");
  CHECK(find_problems(ok, limits).empty());
  const Program self = assemble("dma.send chip=1 sram_addr=0 bytes=64 tag=1\nhalt\n", "p.tasm");
  const auto problems = find_problems(self, limits);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Catch::Contains("own chip"));
}

TEST_CASE("a collective group must divide the system", "[validator][c2c]") {
  using namespace tasim::isa;
  TargetLimits limits;
  limits.chips = 8;
  limits.sram_bytes = 1 << 20;
  CHECK(find_problems(assemble("coll.allreduce sram_addr=0 bytes=64 tag=1 group=4\nhalt\n", "g.tasm"), limits).empty());
  const auto bad = find_problems(assemble("coll.allreduce sram_addr=0 bytes=64 tag=1 group=3\nhalt\n", "g.tasm"), limits);
  REQUIRE(bad.size() == 1);
  CHECK_THAT(bad[0], Catch::Contains("group=3"));
}

TEST_CASE("units that wait on each other in a cycle are a certain deadlock", "[isa][validate][deadlock]") {
  // dma0 waits for mxu0's signal, which mxu0 gives only after waiting for dma0's.
  CHECK(problem("sem.wait unit=dma0 sem=0\n"
                "sem.signal unit=dma0 sem=1\n"
                "sem.wait unit=mxu0 sem=1\n"
                "sem.signal unit=mxu0 sem=0\n"
                "halt\n") ==
        "v.tasm:1: certain deadlock: the units wait on each other (every signal they need comes later in a waiting "
        "unit's queue): core0.dma0 waits on semaphore 0 at v.tasm:1; core0.mxu0 waits on semaphore 1 at v.tasm:3");
  // A barrier that one unit can reach only after a wait whose signal comes after the barrier.
  CHECK_THAT(problem("sem.wait unit=vpu0 sem=2\n"
                     "barrier\n"
                     "sem.signal unit=dma0 sem=2\n"
                     "halt\n"),
             Catch::Contains("v.tasm:1: certain deadlock") &&
                 Catch::Contains("): core0.vpu0 waits on semaphore 2 at v.tasm:1; core0.dma0 waits at the barrier at "
                                 "v.tasm:2; core0.dma1 waits at the barrier at v.tasm:2;") &&
                 Catch::Contains("; and 1 more unit"));
  // The same hand-off in the right order, and a wait issued before its signal, are fine.
  CHECK(problems("sem.signal unit=mxu0 sem=0\n"
                 "sem.wait unit=dma0 sem=0\n"
                 "sem.signal unit=dma0 sem=1\n"
                 "sem.wait unit=mxu0 sem=1\n"
                 "halt\n").empty());
  CHECK(problems("sem.wait unit=mxu0 sem=0\nsem.signal unit=dma0 sem=0\nhalt\n").empty());
  // Two units waiting on one semaphore: which takes the signal depends on timing, so no verdict.
  CHECK(problems("sem.wait unit=mxu0 sem=0\n"
                 "sem.wait unit=mxu1 sem=0\n"
                 "sem.signal unit=dma0 sem=0\n"
                 "sem.signal unit=mxu0 sem=0\n"
                 "halt\n").empty());
}
