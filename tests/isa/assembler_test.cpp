// The .tasm assembler: syntax, defaults, and one clear `file:line: reason` per mistake.
#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "isa/isa.h"

using namespace tasim::isa;

namespace {

// The message of the Error that assembling `text` (as "t.tasm") throws.
std::string asm_error(const std::string& text) {
  try {
    assemble(text, "t.tasm");
  } catch (const tasim::Error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

TEST_CASE("assembler reads fields in any order, comments, blank lines and hex", "[isa][asm]") {
  const Program p = assemble(
      "# a whole-line comment\n"
      "\n"
      "   \t\n"
      "matmul k=64 m=16 n=0x20 a_addr=0x0 b_addr=0X1F00 c_addr=4096 acc=1 dtype=int8  # trailing comment\n"
      "\tsem.signal\tunit=mxu1   sem=7\r\n"
      "dma.load hbm_addr=0xFFFFFFFFFF sram_addr=0x10 rows=2 row_bytes=64 engine=1 core=0#comment right "
      "after\n"
      "halt",
      "p.tasm");
  CHECK(p.source_name == "p.tasm");
  REQUIRE(p.instructions.size() == 4);

  const Instruction& mm = p.instructions[0];
  CHECK(mm.op == Opcode::matmul);
  CHECK(mm.line == 4);
  CHECK(mm.get(Field::m) == 16);
  CHECK(mm.get(Field::n) == 32);
  CHECK(mm.get(Field::k) == 64);
  CHECK(mm.get(Field::b_addr) == 0x1f00);
  CHECK(mm.get(Field::c_addr) == 4096);
  CHECK(mm.get(Field::acc) == 1);
  CHECK(mm.get(Field::dtype) == static_cast<std::uint64_t>(DType::int8));

  const Instruction& sig = p.instructions[1];
  CHECK(sig.line == 5);
  const UnitRef u = decode_unitref(sig.get(Field::unit));
  CHECK(u.kind == UnitKind::mxu);
  CHECK(u.index == 1);
  CHECK(sig.get(Field::sem) == 7);

  const Instruction& load = p.instructions[2];
  CHECK(load.line == 6);
  CHECK(load.get(Field::hbm_addr) == 0xffffffffffull);
  CHECK(load.get(Field::engine) == 1);
  CHECK(p.instructions[3].op == Opcode::halt);
  CHECK(p.instructions[3].line == 7);
}

TEST_CASE("omitted fields take their defaults", "[isa][asm]") {
  const Program p = assemble(
      "matmul a_addr=0 b_addr=0 c_addr=0 m=1 n=1 k=1\n"
      "dma.copy src_addr=0 dst_core=0 dst_addr=0 rows=1 row_bytes=1\n"
      "vec.gelu src_addr=0 dst_addr=0 rows=1 cols=1\n",
      "d.tasm");
  const Instruction& mm = p.instructions[0];
  CHECK(mm.get(Field::core) == 0);
  CHECK(mm.get(Field::mxu) == 0);
  CHECK(mm.get(Field::acc) == 0);
  CHECK(mm.get(Field::dtype) == static_cast<std::uint64_t>(DType::bf16));
  CHECK(p.instructions[1].get(Field::src_stride) == 0);
  CHECK(p.instructions[1].get(Field::dst_stride) == 0);
  CHECK(p.instructions[2].get(Field::vpu) == 0);
  CHECK(assemble("", "empty.tasm").instructions.empty());
  CHECK(assemble("# nothing\n\n", "empty.tasm").instructions.empty());
}

TEST_CASE("unknown opcodes are reported with the closest mnemonic", "[isa][asm]") {
  CHECK(asm_error("halt\n\nmatmull a_addr=0\n") ==
        "t.tasm:3: unknown opcode 'matmull' (did you mean 'matmul'?)");
  CHECK(asm_error("vec.sofmax src_addr=0") ==
        "t.tasm:1: unknown opcode 'vec.sofmax' (did you mean 'vec.softmax'?)");
  CHECK(asm_error("dma.lod") == "t.tasm:1: unknown opcode 'dma.lod' (did you mean 'dma.load'?)");
  CHECK(asm_error("sem.post unit=dma0 sem=1") ==
        "t.tasm:1: unknown opcode 'sem.post' (did you mean 'sem.wait'?)");
  CHECK(asm_error("HALT") == "t.tasm:1: unknown opcode 'HALT' (did you mean 'halt'?)");
  CHECK(asm_error("add src_addr=0") == "t.tasm:1: unknown opcode 'add' (did you mean 'vec.add'?)");
  CHECK(asm_error("load") == "t.tasm:1: unknown opcode 'load' (did you mean 'dma.load'?)");
  CHECK(asm_error("frobnicate_the_widgets x=1") ==
        "t.tasm:1: unknown opcode 'frobnicate_the_widgets' (the instructions are listed in docs/isa.md)");
}

TEST_CASE("fields the opcode lacks are reported with the valid ones", "[isa][asm]") {
  CHECK(asm_error("halt\nmatmul a_addr=0 b_addr=0 c_addr=0 m=1 n=1 k=1 bytes=4") ==
        "t.tasm:2: matmul has no field 'bytes' (its fields: core, mxu, a_addr, b_addr, c_addr, m, n, k, acc, "
        "dtype)");
  CHECK(asm_error("halt core=0") == "t.tasm:1: halt takes no fields, got 'core=0'");
  CHECK(asm_error("sem.wait unit=dma0 sem=1 sems=2") ==
        "t.tasm:1: sem.wait has no field 'sems' (its fields: core, unit, sem)");
}

TEST_CASE("duplicate and missing fields are errors", "[isa][asm]") {
  CHECK(asm_error("vec.exp src_addr=0 dst_addr=0 rows=1 cols=1 rows=2") == "t.tasm:1: duplicate field rows");
  CHECK(asm_error("vec.exp src_addr=0 dst_addr=0 rows=1 cols=1 dtype=bf16 dtype=fp8") ==
        "t.tasm:1: duplicate field dtype");
  CHECK(asm_error("# header\nmatmul a_addr=0 b_addr=0 c_addr=0 m=1 n=1") ==
        "t.tasm:2: matmul is missing required field k");
  CHECK(asm_error("matmul a_addr=0 b_addr=0 c_addr=0 n=1") ==
        "t.tasm:1: matmul is missing required fields m, k");
  CHECK(asm_error("dma.load") ==
        "t.tasm:1: dma.load is missing required fields hbm_addr, sram_addr, rows, row_bytes");
  CHECK(asm_error("dma.copy src_addr=0 dst_addr=0 rows=1 row_bytes=1") ==
        "t.tasm:1: dma.copy is missing required field dst_core");
  CHECK(asm_error("sem.signal sem=1") == "t.tasm:1: sem.signal is missing required field unit");
}

TEST_CASE("malformed numbers are errors", "[isa][asm]") {
  const std::string prefix = "vec.exp src_addr=0 dst_addr=0 cols=1 ";
  CHECK(asm_error(prefix + "rows=12x") ==
        "t.tasm:1: malformed number '12x' for field rows (expected decimal or 0x hex)");
  CHECK(asm_error(prefix + "rows=-1") ==
        "t.tasm:1: malformed number '-1' for field rows (expected decimal or 0x hex)");
  CHECK(asm_error(prefix + "rows=") ==
        "t.tasm:1: malformed number '' for field rows (expected decimal or 0x hex)");
  CHECK(asm_error(prefix + "rows=0x") ==
        "t.tasm:1: malformed number '0x' for field rows (expected decimal or 0x hex)");
  CHECK(asm_error(prefix + "rows=0xZZ") ==
        "t.tasm:1: malformed number '0xZZ' for field rows (expected decimal or 0x hex)");
  CHECK(asm_error(prefix + "rows=1.5") ==
        "t.tasm:1: malformed number '1.5' for field rows (expected decimal or 0x hex)");
  CHECK(asm_error(prefix + "rows") == "t.tasm:1: expected field=value, got 'rows'");
  CHECK(asm_error(prefix + "=5") == "t.tasm:1: expected field=value, got '=5'");
  CHECK(asm_error(prefix + "rows = 5") == "t.tasm:1: expected field=value, got 'rows'");
}

TEST_CASE("values wider than their field are errors", "[isa][asm]") {
  CHECK(asm_error("matmul a_addr=0 b_addr=0 c_addr=0 m=70000 n=1 k=1") ==
        "t.tasm:1: field m=70000 does not fit in 16 bits (max 65535)");
  CHECK(asm_error("matmul a_addr=0 b_addr=0 c_addr=0 m=1 n=1 k=1 acc=2") ==
        "t.tasm:1: field acc=2 does not fit in 1 bits (max 1)");
  CHECK(asm_error("dma.load hbm_addr=0x10000000000 sram_addr=0 rows=1 row_bytes=1") ==
        "t.tasm:1: field hbm_addr=0x10000000000 does not fit in 40 bits (max 1099511627775)");
  CHECK(asm_error("sem.wait unit=dma0 sem=4096") ==
        "t.tasm:1: field sem=4096 does not fit in 12 bits (max 4095)");
  // Beyond 64 bits the number itself overflows: still a width error, not a wrapped value.
  CHECK(asm_error("vec.exp src_addr=0 dst_addr=0 cols=1 rows=99999999999999999999999") ==
        "t.tasm:1: field rows=99999999999999999999999 does not fit in 16 bits (max 65535)");
  CHECK(asm_error("vec.exp src_addr=0x10000000000000000 dst_addr=0 cols=1 rows=1") ==
        "t.tasm:1: field src_addr=0x10000000000000000 does not fit in 32 bits (max 4294967295)");
  // The maxima themselves are fine.
  CHECK(asm_error("matmul a_addr=0xffffffff b_addr=0 c_addr=0 m=65535 n=1 k=1 acc=1") == "<no error>");
}

TEST_CASE("dtype and unit names are checked", "[isa][asm]") {
  const std::string vec = "vec.exp src_addr=0 dst_addr=0 rows=1 cols=1 ";
  CHECK(asm_error(vec + "dtype=fp16") ==
        "t.tasm:1: unknown dtype 'fp16' for field dtype (expected bf16, fp8, int8 or fp4)");
  CHECK(asm_error(vec + "dtype=0") ==
        "t.tasm:1: unknown dtype '0' for field dtype (expected bf16, fp8, int8 or fp4)");
  CHECK(asm_error("sem.wait unit=tpu0 sem=1") ==
        "t.tasm:1: bad unit 'tpu0' for field unit (expected dmaN, mxuN or vpuN, e.g. mxu0)");
  CHECK(asm_error("sem.wait unit=mxu sem=1") ==
        "t.tasm:1: bad unit 'mxu' for field unit (expected dmaN, mxuN or vpuN, e.g. mxu0)");
  CHECK(asm_error("sem.wait unit=mxu1a sem=1") ==
        "t.tasm:1: bad unit 'mxu1a' for field unit (expected dmaN, mxuN or vpuN, e.g. mxu0)");
  CHECK(asm_error("sem.wait unit=3 sem=1") ==
        "t.tasm:1: bad unit '3' for field unit (expected dmaN, mxuN or vpuN, e.g. mxu0)");
  CHECK(asm_error("sem.wait unit=vpu64 sem=1") ==
        "t.tasm:1: unit index in 'vpu64' for field unit does not fit in 6 bits (max 63)");
  const Program p = assemble("sem.wait unit=dma63 sem=1\nsem.wait unit=vpu0 sem=1", "u.tasm");
  CHECK(unitref_name(decode_unitref(p.instructions[0].get(Field::unit))) == "dma63");
  CHECK(unitref_name(decode_unitref(p.instructions[1].get(Field::unit))) == "vpu0");
}

TEST_CASE("error lines count every line, including comments and blanks", "[isa][asm]") {
  std::string text;
  for (int i = 0; i < 41; ++i) text += i % 2 ? "# comment\n" : "\n";
  text += "halt\r\n";
  text += "barrier extra=1\n";
  CHECK(asm_error(text) == "t.tasm:43: barrier takes no fields, got 'extra=1'");
}

TEST_CASE("a large program assembles line for line", "[isa][asm]") {
  // Lowered programs reach millions of instructions (how fast: scripts/bench, docs/performance.md).
  std::string text;
  const int lines = 200000;
  text.reserve(static_cast<std::size_t>(lines) * 90);
  for (int i = 0; i < lines; ++i) {
    text +=
        "dma.load engine=1 hbm_addr=0x12345600 sram_addr=0x8000 rows=64 row_bytes=256 hbm_stride=1024  # x\n";
  }
  const Program p = assemble(text, "big.tasm");
  CHECK(p.instructions.size() == static_cast<std::size_t>(lines));
  CHECK(p.instructions.back().line == static_cast<std::uint32_t>(lines));
  CHECK(p.instructions.back().get(Field::hbm_stride) == 1024);
}
