// The tables generated from isa/isa_table.h and the small helpers around them.
#include <catch2/catch.hpp>

#include "error_of.h"
#include <functional>
#include <set>
#include <string>

#include "isa/isa.h"

using namespace tasim::isa;

namespace {
using tasim::testing::error_of;
}  // namespace

TEST_CASE("field_info follows the table", "[isa][table]") {
  CHECK(kNumFields == 33);
  const FieldInfo& m = field_info(Field::m);
  CHECK(std::string(m.name) == "m");
  CHECK(m.bits == 16);
  CHECK(m.kind == FieldKind::uint);
  CHECK(std::string(m.unit) == "elements");
  CHECK(field_info(Field::hbm_addr).bits == 40);
  CHECK(field_info(Field::hbm_addr).kind == FieldKind::addr);
  CHECK(field_info(Field::dtype).kind == FieldKind::dtype);
  CHECK(field_info(Field::unit).kind == FieldKind::unitref);
  CHECK(field_info(Field::acc).bits == 1);
  std::set<std::string> names;
  for (int f = 0; f < kNumFields; ++f) names.insert(field_info(static_cast<Field>(f)).name);
  CHECK(names.size() == static_cast<std::size_t>(kNumFields));
}

TEST_CASE("opcode_info lists each opcode's fields in table order", "[isa][table]") {
  CHECK(kNumOpcodes == 28);
  const OpcodeInfo& mm = opcode_info(Opcode::matmul);
  CHECK(std::string(mm.mnemonic) == "matmul");
  CHECK(mm.unit == UnitKind::mxu);
  REQUIRE(mm.num_fields == 10);
  const Field expected[] = {Field::core, Field::mxu, Field::a_addr, Field::b_addr, Field::c_addr,
                            Field::m,    Field::n,   Field::k,      Field::acc,    Field::dtype};
  for (int i = 0; i < 10; ++i) CHECK(mm.fields[i] == expected[i]);

  const OpcodeInfo& sig = opcode_info(Opcode::sem_signal);
  CHECK(sig.unit == UnitKind::sync);
  REQUIRE(sig.num_fields == 3);
  CHECK(sig.fields[1] == Field::unit);
  CHECK(opcode_info(Opcode::barrier).num_fields == 0);
  CHECK(opcode_info(Opcode::halt).num_fields == 0);
  CHECK(opcode_info(Opcode::halt).unit == UnitKind::seq);
  CHECK(opcode_info(Opcode::dma_copy).num_fields == 9);
  CHECK(std::string(mnemonic(Opcode::vec_layernorm)) == "vec.layernorm");
  CHECK_THROWS_AS(opcode_info(static_cast<Opcode>(200)), tasim::Error);
}

TEST_CASE("field_position agrees with the field lists", "[isa][table]") {
  std::set<std::string> mnemonics;
  std::set<int> used_fields;
  for (int op = 0; op < kNumOpcodes; ++op) {
    const OpcodeInfo& info = opcode_info(static_cast<Opcode>(op));
    mnemonics.insert(info.mnemonic);
    for (int f = 0; f < kNumFields; ++f) {
      int expected = -1;
      for (int i = 0; i < info.num_fields; ++i) {
        if (static_cast<int>(info.fields[i]) == f) expected = i;
      }
      INFO(info.mnemonic << " field " << field_info(static_cast<Field>(f)).name);
      CHECK(field_position(static_cast<Opcode>(op), static_cast<Field>(f)) == expected);
      if (expected >= 0) used_fields.insert(f);
    }
  }
  CHECK(mnemonics.size() == static_cast<std::size_t>(kNumOpcodes));
  CHECK(used_fields.size() == static_cast<std::size_t>(kNumFields));  // no dead field in the table
  CHECK(field_position(Opcode::matmul, Field::k) == 7);
  CHECK(field_position(Opcode::matmul, Field::bytes) == -1);
  CHECK(field_position(static_cast<Opcode>(kNumOpcodes), Field::core) == -1);
}

TEST_CASE("vector ops are the vec.* opcodes", "[isa][table]") {
  CHECK(kNumVectorOps == 13);
  for (int op = 0; op < kNumOpcodes; ++op) {
    const std::string mnem = mnemonic(static_cast<Opcode>(op));
    const bool vec = mnem.rfind("vec.", 0) == 0;
    CHECK(is_vector_op(static_cast<Opcode>(op)) == vec);
    if (vec) CHECK(std::string(vector_op_name(vector_op_index(static_cast<Opcode>(op)))) == mnem.substr(4));
  }
  CHECK(vector_op_name(0) == "add");
  CHECK(vector_op_name(vector_op_index(Opcode::vec_rope)) == "rope");
  CHECK_THROWS_AS(vector_op_name(kNumVectorOps), tasim::Error);
}

TEST_CASE("dtypes have names and sizes", "[isa][table]") {
  CHECK(std::string(dtype_name(DType::bf16)) == "bf16");
  CHECK(std::string(dtype_name(DType::fp8)) == "fp8");
  CHECK(std::string(dtype_name(DType::int8)) == "int8");
  CHECK(dtype_bytes(DType::bf16) == 2);
  CHECK(dtype_bytes(DType::fp8) == 1);
  CHECK(dtype_bytes(DType::int8) == 1);
  CHECK_THROWS_AS(dtype_bytes(static_cast<DType>(3)), tasim::Error);
}

TEST_CASE("unit references pack kind and index into 8 bits", "[isa][table]") {
  CHECK(encode_unitref({UnitKind::dma, 0}) == 0x00);
  CHECK(encode_unitref({UnitKind::mxu, 1}) == 0x41);
  CHECK(encode_unitref({UnitKind::vpu, 63}) == 0xbf);
  for (UnitKind kind : {UnitKind::dma, UnitKind::mxu, UnitKind::vpu}) {
    for (int index : {0, 1, 7, 63}) {
      const UnitRef u = decode_unitref(encode_unitref({kind, index}));
      CHECK(u.kind == kind);
      CHECK(u.index == index);
    }
  }
  CHECK(unitref_name({UnitKind::dma, 0}) == "dma0");
  CHECK(unitref_name({UnitKind::mxu, 1}) == "mxu1");
  CHECK(unitref_name({UnitKind::vpu, 12}) == "vpu12");
  CHECK_THAT(error_of([] {
               encode_unitref({UnitKind::mxu, 64});
             }),
             Catch::Contains("does not fit in 6 bits"));
  CHECK_THROWS_AS(encode_unitref({UnitKind::sync, 0}), tasim::Error);
  CHECK_THAT(error_of([] { decode_unitref(0xc0); }), Catch::Contains("invalid unit reference 0xc0"));
}

TEST_CASE("Instruction get and set go through the field positions", "[isa][table]") {
  Instruction inst;
  inst.op = Opcode::matmul;
  inst.set(Field::m, 128);
  inst.set(Field::k, 65535);
  inst.set(Field::dtype, static_cast<std::uint64_t>(DType::fp8));
  CHECK(inst.get(Field::m) == 128);
  CHECK(inst.value[field_position(Opcode::matmul, Field::k)] == 65535);
  CHECK(inst.get(Field::dtype) == 1);
  CHECK(inst.has(Field::a_addr));
  CHECK_FALSE(inst.has(Field::bytes));
  CHECK(inst.get(Field::bytes) == 0);
  CHECK(error_of([&] { inst.set(Field::bytes, 4); }) == "matmul has no field 'bytes'");
  CHECK(error_of([&] { inst.set(Field::m, 70000); }) ==
        "matmul: field m=70000 does not fit in 16 bits (max 65535)");
  CHECK(inst.get(Field::m) == 128);  // a rejected set leaves the value alone

  Instruction halt;
  CHECK(halt.op == Opcode::halt);
  CHECK(halt.get(Field::core) == 0);
  CHECK_THROWS_AS(halt.set(Field::core, 0), tasim::Error);
}

TEST_CASE("dma_bytes and matmul_flops", "[isa][table]") {
  Instruction load;
  load.op = Opcode::dma_load;
  load.set(Field::rows, 128);
  load.set(Field::row_bytes, 256);
  load.set(Field::hbm_stride, 1024);  // strides do not change the bytes moved
  CHECK(dma_bytes(load) == 32768);
  Instruction send;
  send.op = Opcode::dma_send;
  send.set(Field::bytes, 4096);
  CHECK(dma_bytes(send) == 4096);
  Instruction mm;
  mm.op = Opcode::matmul;
  mm.set(Field::m, 65535);
  mm.set(Field::n, 65535);
  mm.set(Field::k, 65535);
  CHECK(matmul_flops(mm) == 2ull * 65535 * 65535 * 65535);
  CHECK(dma_bytes(mm) == 0);
  CHECK(matmul_flops(load) == 0);
  Instruction vec;
  vec.op = Opcode::vec_add;
  vec.set(Field::rows, 8);
  vec.set(Field::cols, 8);
  CHECK(dma_bytes(vec) == 0);
}
