// Encoding, decoding and printing: every opcode survives text and binary round trips, the bit
// layout is the documented one, and garbage input is rejected with a clear error.
#include <catch2/catch.hpp>

#include "error_of.h"
#include "isa/binary_util.h"
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <set>
#include <string>

#include "isa/isa.h"

using namespace tasim::isa;

namespace {

using tasim::testing::error_of;

std::uint64_t max_of(Field f) {
  const int bits = field_info(f).bits;
  return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

// Largest valid value of a field: the full width, except for the enumerated kinds.
std::uint64_t max_valid(Field f) {
  switch (field_info(f).kind) {
    case FieldKind::dtype:
      return static_cast<std::uint64_t>(DType::int8);
    case FieldKind::unitref:
      return encode_unitref({UnitKind::vpu, 63});
    default:
      return max_of(f);
  }
}

// A value with bits set at varying places, different per field, so that swapped or shifted fields show up.
std::uint64_t pattern(Field f, int salt) {
  switch (field_info(f).kind) {
    case FieldKind::dtype:
      return static_cast<std::uint64_t>((static_cast<int>(f) + salt) % kNumDTypes);
    case FieldKind::unitref:
      return encode_unitref({static_cast<UnitKind>((static_cast<int>(f) + salt) % 3), (salt * 17 + 5) % 64});
    default:
      return (0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(static_cast<int>(f) * 7 + salt + 1)) &
             max_of(f);
  }
}

// Three instructions per opcode: every field at its maximum, at a bit pattern, and at zero.
Program every_opcode_program() {
  Program program;
  program.source_name = "every_opcode";
  for (int op = 0; op < kNumOpcodes; ++op) {
    const OpcodeInfo& info = opcode_info(static_cast<Opcode>(op));
    for (int variant = 0; variant < 3; ++variant) {
      Instruction inst;
      inst.op = static_cast<Opcode>(op);
      for (int i = 0; i < info.num_fields; ++i) {
        const Field f = info.fields[i];
        inst.set(f, variant == 0 ? max_valid(f) : variant == 1 ? pattern(f, op) : 0);
      }
      program.instructions.push_back(inst);
    }
  }
  return program;
}

void require_same_instructions(const Program& a, const Program& b) {
  REQUIRE(a.instructions.size() == b.instructions.size());
  for (std::size_t i = 0; i < a.instructions.size(); ++i) {
    INFO("instruction " << i << " (" << mnemonic(a.instructions[i].op) << ")");
    REQUIRE(a.instructions[i].op == b.instructions[i].op);
    CHECK(a.instructions[i].value == b.instructions[i].value);
  }
}


using tasim::testing::header;
using tasim::testing::sealed;
using tasim::testing::unsealed;

}  // namespace

TEST_CASE("every opcode round-trips through binary and text, including maximum values", "[isa][roundtrip]") {
  const Program original = every_opcode_program();
  const std::vector<std::uint8_t> bytes = encode(original);

  // Binary: the decoded program is the original.
  const Program decoded = decode(bytes, "every_opcode.bin");
  require_same_instructions(original, decoded);

  // Text: disassemble, reassemble, re-encode to the same bytes.
  const std::string text = disassemble(decoded);
  const Program reassembled = assemble(text, "every_opcode.tasm");
  require_same_instructions(original, reassembled);
  CHECK(encode(reassembled) == bytes);
  CHECK(disassemble(reassembled).substr(disassemble(reassembled).find('\n')) == text.substr(text.find('\n')));

  // The maximum variant really hits the field widths (text carries them without loss).
  const Instruction& load_max = reassembled.instructions[0];
  CHECK(load_max.get(Field::hbm_addr) == (1ull << 40) - 1);
  CHECK(load_max.get(Field::row_bytes) == (1ull << 24) - 1);
}

TEST_CASE("encoded size is the opcode byte plus the packed fields, rounded up", "[isa][roundtrip]") {
  for (int op = 0; op < kNumOpcodes; ++op) {
    const OpcodeInfo& info = opcode_info(static_cast<Opcode>(op));
    int bits = 0;
    for (int i = 0; i < info.num_fields; ++i) bits += field_info(info.fields[i]).bits;
    Program p;
    Instruction inst;
    inst.op = static_cast<Opcode>(op);
    p.instructions = {inst, inst};
    INFO(info.mnemonic);
    CHECK(encode(p).size() == 12 + 2 * static_cast<std::size_t>(1 + (bits + 7) / 8) + 4);  // + checksum
  }
  Program empty;
  CHECK(encode(empty) == sealed(header(0)));
}

TEST_CASE("binary layout: magic, little-endian count, LSB-first fields", "[isa][roundtrip]") {
  const Program p = assemble(
      "sem.signal core=1 unit=mxu2 sem=0x123\n"
      "matmul mxu=3 a_addr=0x12345678 b_addr=0x0 c_addr=0x0 m=1 n=1 k=1\n"
      "barrier\n",
      "layout.tasm");
  const std::vector<std::uint8_t> bytes = unsealed(encode(p));
  std::vector<std::uint8_t> expected = header(3);
  // sem.signal: core (8 bits), unit (8: kind 1 in the top 2 bits, index 2), sem (12) -> 28 bits, 4 bytes.
  const std::vector<std::uint8_t> signal = {opcode_info(Opcode::sem_signal).code, 0x01, 0x42, 0x23,
                                            0x01};
  expected.insert(expected.end(), signal.begin(), signal.end());
  REQUIRE(bytes.size() > expected.size());
  CHECK(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(expected.size())) ==
        expected);

  // matmul: core (8) then mxu (4), so a_addr starts at bit 12 and straddles bytes.
  const std::size_t mm = expected.size();
  CHECK(bytes[mm] == 0x20);  // matmul's code in the table
  CHECK(bytes[mm + 1] == 0x00);  // core
  CHECK(bytes[mm + 2] == 0x83);  // mxu=3 in the low nibble, a_addr bits 0-3 (0x8) in the high nibble
  CHECK(bytes[mm + 3] == 0x67);
  CHECK(bytes[mm + 4] == 0x45);
  CHECK(bytes[mm + 5] == 0x23);
  CHECK(bytes[mm + 6] == 0x01);  // a_addr bits 28-31; b_addr (0) starts in the high nibble
  // barrier has no fields: just its opcode byte, last in the file.
  CHECK(bytes.back() == 0x70);  // barrier's code
  CHECK(is_binary(bytes));
  // Last in the file: the CRC-32 of everything before it, little-endian.
  CHECK(encode(p) == sealed(bytes));
}

TEST_CASE("disassembly is canonical text", "[isa][roundtrip]") {
  const Program p = assemble(
      "matmul k=64 n=32 m=16 c_addr=0x300 b_addr=0x200 a_addr=0xABC dtype=fp8   # any order\n"
      "sem.wait sem=9 unit=vpu0\n"
      "halt\n",
      "canon.tasm");
  CHECK(disassemble(p) ==
        "# tasim program: canon.tasm, 3 instructions\n"
        "matmul core=0 mxu=0 a_addr=0xabc b_addr=0x200 c_addr=0x300 m=16 n=32 k=64 acc=0 dtype=fp8\n"
        "sem.wait core=0 unit=vpu0 sem=9\n"
        "halt\n");
  Program one;
  one.source_name = "x";
  one.instructions.resize(1);
  CHECK(disassemble(one) == "# tasim program: x, 1 instruction\nhalt\n");
}

TEST_CASE("encode and disassemble refuse values that do not fit", "[isa][roundtrip]") {
  Program p;
  p.source_name = "built";
  Instruction inst;
  inst.op = Opcode::matmul;
  inst.value[field_position(Opcode::matmul, Field::m)] = 70000;  // bypasses set()'s check
  p.instructions = {Instruction{}, inst};
  CHECK(error_of([&] { encode(p); }) == "built:2: field m=70000 does not fit in 16 bits (max 65535)");
  CHECK(error_of([&] { disassemble(p); }) == "built:2: field m=70000 does not fit in 16 bits (max 65535)");
}

TEST_CASE("decode rejects garbage with a clear error", "[isa][decode]") {
  const Program good = assemble("vec.add src_addr=0 src2_addr=0 dst_addr=0 rows=1 cols=1\nhalt\n", "g.tasm");
  // The body; each corruption below is resealed, to reach the check behind the checksum.
  const std::vector<std::uint8_t> bytes = unsealed(encode(good));
  const std::size_t add_size = bytes.size() - 12 - 1;

  CHECK(error_of([] { decode({}, "e.bin"); }) ==
        "e.bin: not a tasim binary program: bad magic (expected \"TASMBIN\")");
  CHECK_THAT(error_of([] {
               decode({'T', 'A', 'S', 'M', 'B', 'O', 'X', '2', 0, 0, 0, 0}, "m.bin");
             }),
             Catch::Contains("bad magic"));
  CHECK(error_of([] {
          decode({'T', 'A', 'S', 'M', 'B', 'I', 'N', '2', 1}, "h.bin");
        }) == "h.bin: truncated: 9 bytes, a binary program has at least 16 (header and checksum)");

  std::vector<std::uint8_t> unknown = header(1);
  unknown.push_back(0xff);
  CHECK(error_of([&] { decode(sealed(unknown), "u.bin"); }) ==
        "u.bin: unknown opcode byte 0xff at offset 12 (instruction 1)");
  // Codes between the table's (0x06: after dma.recv) name no instruction; neither does 0.
  for (const char* code : {"00", "06", "21"}) {
    std::vector<std::uint8_t> unknown2 = bytes;
    unknown2[12 + add_size] = static_cast<std::uint8_t>(std::stoi(code, nullptr, 16));
    CHECK(error_of([&] { decode(sealed(unknown2), "u2.bin"); }) == "u2.bin: unknown opcode byte 0x" + std::string(code) +
                                                              " at offset " + std::to_string(12 + add_size) +
                                                              " (instruction 2)");
  }

  std::vector<std::uint8_t> cut(bytes.begin(), bytes.end() - 3);  // inside the vec.add
  cut.resize(12 + add_size - 2);
  CHECK_THAT(
      error_of([&] { decode(sealed(cut), "t.bin"); }),
      Catch::Contains("t.bin: truncated: vec.add at offset 12 needs " + std::to_string(add_size) + " bytes"));

  std::vector<std::uint8_t> lying = bytes;
  lying[8] = 5;  // announces 5 instructions, holds 2
  CHECK(error_of([&] { decode(sealed(lying), "c.bin"); }) ==
        "c.bin: truncated: the header announces 5 instructions, the file ends after 2");
  lying[8] = 0xff;
  lying[11] = 0xff;  // a huge count must not make decode allocate for it
  CHECK_THAT(error_of([&] { decode(sealed(lying), "c.bin"); }), Catch::Contains("truncated"));

  std::vector<std::uint8_t> trailing = bytes;
  trailing.push_back(0);
  CHECK(error_of([&] { decode(sealed(trailing), "x.bin"); }) == "x.bin: 1 trailing bytes at offset " +
                                                            std::to_string(bytes.size()) +
                                                            ", after the last of 2 instructions");

  // dtype is matmul's last field: its 2 bits set to 3 are fp4 (every code of the field is a dtype).
  const Program typed = assemble("matmul a_addr=0 b_addr=0 c_addr=0 m=1 n=1 k=1", "d.tasm");
  std::vector<std::uint8_t> fp4_dtype = unsealed(encode(typed));
  // matmul fields: 8+4+32*3+16*3+1 = 157 bits before dtype, i.e. bits 5-6 of the 20th byte after the opcode.
  fp4_dtype[12 + 1 + 19] |= 0x3 << 5;
  CHECK(decode(sealed(fp4_dtype), "d.bin").instructions.at(0).get(Field::dtype) == static_cast<std::uint64_t>(DType::fp4));

  const Program sem = assemble("sem.wait unit=dma0 sem=1", "s.tasm");
  std::vector<std::uint8_t> bad_unit = unsealed(encode(sem));
  bad_unit[12 + 2] = 0xc1;  // unit kind 3
  CHECK_THAT(error_of([&] { decode(sealed(bad_unit), "s.bin"); }), Catch::Contains("invalid unit reference 0xc1"));

  // Unsealed, any corruption or truncation is reported as such first.
  std::vector<std::uint8_t> corrupt = encode(good);
  corrupt[13] ^= 0x10;
  CHECK_THAT(error_of([&] { decode(corrupt, "k.bin"); }),
             Catch::StartsWith("k.bin: checksum mismatch (CRC-32 stored 0x") &&
                 Catch::EndsWith("): the file is corrupt or truncated"));
  const std::vector<std::uint8_t> whole = encode(good);
  CHECK_THAT(error_of([&] { decode(std::vector<std::uint8_t>(whole.begin(), whole.end() - 1), "k.bin"); }),
             Catch::Contains("checksum mismatch"));
  CHECK(error_of([] { decode(header(0), "n.bin"); }) ==
        "n.bin: truncated: 12 bytes, a binary program has at least 16 (header and checksum)");
}

TEST_CASE("decode never crashes on random or corrupted input", "[isa][decode]") {
  const std::vector<std::uint8_t> good = encode(every_opcode_program());
  std::mt19937 rng(12345);
  int accepted = 0, rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::uint8_t> bytes;
    if (trial % 3 == 0) {
      bytes = header(static_cast<std::uint32_t>(rng() % 64));
      const std::size_t n = rng() % 200;
      for (std::size_t i = 0; i < n; ++i) bytes.push_back(static_cast<std::uint8_t>(rng()));
      bytes = sealed(bytes);  // past the checksum, into the body's checks
    } else {
      bytes = unsealed(good);
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i)
        bytes[12 + rng() % (bytes.size() - 12)] ^= static_cast<std::uint8_t>(1 + rng() % 255);
      if (trial % 3 == 2) bytes.resize(12 + rng() % (bytes.size() - 12));
      if (trial % 2 == 0) bytes = sealed(bytes);  // else the checksum catches it
    }
    try {
      const Program p = decode(bytes, "fuzz.bin");
      ++accepted;
      // Whatever decodes is a well-formed program: it prints and encodes.
      CHECK_NOTHROW(assemble(disassemble(p), "fuzz.tasm"));
      CHECK(encode(p).size() == bytes.size());
    } catch (const tasim::Error& e) {
      ++rejected;
      CHECK_THAT(std::string(e.what()), Catch::StartsWith("fuzz.bin: "));
    }
  }
  CHECK(accepted > 0);
  CHECK(rejected > 0);
}

TEST_CASE("load_program reads text and binary files and names missing ones", "[isa][decode]") {
  CHECK(error_of([] { load_program("/nonexistent/dir/prog.tasm"); }) ==
        "/nonexistent/dir/prog.tasm: cannot open program: No such file or directory");

  const std::string dir = TASIM_BINARY_DIR;
  const std::string text_path = dir + "/isa_load_test.tasm";
  const std::string bin_path = dir + "/isa_load_test.bin";
  const std::string text = "vec.exp src_addr=0x0 dst_addr=0x100 rows=2 cols=64   # comment\nhalt\n";
  std::ofstream(text_path) << text;
  const Program from_text = load_program(text_path);
  CHECK(from_text.source_name == text_path);
  REQUIRE(from_text.instructions.size() == 2);
  CHECK(from_text.instructions[0].get(Field::dst_addr) == 0x100);

  const std::vector<std::uint8_t> bytes = encode(from_text);
  {
    std::ofstream out(bin_path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  const Program from_bin = load_program(bin_path);
  CHECK(from_bin.source_name == bin_path);
  CHECK(encode(from_bin) == bytes);

  // Text with an error is reported against the file's path.
  std::ofstream(text_path) << "halt\nhalt bogus\n";
  CHECK(error_of([&] { load_program(text_path); }) == text_path + ":2: expected field=value, got 'bogus'");
  std::remove(text_path.c_str());
  std::remove(bin_path.c_str());
}

namespace {
std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
}  // namespace

// tests/data/every_opcode.bin was written by `tasim asm tests/data/every_opcode.tasm` when the
// format got its version, fixed opcode codes and checksum (format version 2). It must decode to the same program for as long
// as the format is version 2, whatever instructions are added to the table: rewriting it to make
// this test pass would break every binary users have.
TEST_CASE("a committed binary keeps decoding to the same program", "[isa][roundtrip][golden]") {
  const std::string dir = std::string(TASIM_SOURCE_DIR) + "/tests/data/";
  const std::vector<std::uint8_t> golden = read_bytes(dir + "every_opcode.bin");
  REQUIRE(golden.size() > 12);
  std::ifstream text_in(dir + "every_opcode.tasm");
  const std::string text((std::istreambuf_iterator<char>(text_in)), std::istreambuf_iterator<char>());
  const Program assembled = assemble(text, "every_opcode.tasm");
  const Program decoded = decode(golden, "every_opcode.bin");
  require_same_instructions(assembled, decoded);
  CHECK(decoded.tags == assembled.tags);
  for (std::size_t i = 0; i < decoded.instructions.size(); ++i) {
    CHECK(decoded.instructions[i].tag == assembled.instructions[i].tag);
  }
  CHECK(encode(assembled) == golden);
  // It uses every opcode the table had when it was written (27); opcodes added since (barrier.kernel)
  // are round-tripped by the examples and the reference's tests, not by this frozen file.
  std::set<Opcode> used;
  for (const auto& inst : decoded.instructions) used.insert(inst.op);
  CHECK(used.size() == 27);
  CHECK(used.count(Opcode::kernel_boundary) == 0);
}

TEST_CASE("a binary of another format version is refused by name", "[isa][decode]") {
  std::vector<std::uint8_t> v1 = {'T', 'A', 'S', 'M', 'B', 'I', 'N', '1', 1, 0, 0, 0, 26};
  CHECK(error_of([&] { decode(v1, "old.bin"); }) ==
        "old.bin: tasim binary format version 1; this tasim reads version 2 only (version 1 numbered "
        "opcodes by position, so its files cannot be read safely): assemble the program again from its .tasm");
  std::vector<std::uint8_t> v3 = header(0);
  v3[7] = '3';
  CHECK(error_of([&] { decode(v3, "new.bin"); }) == "new.bin: tasim binary format version 3; this tasim reads version 2 only");
  v3[7] = 0xfe;
  CHECK_THAT(error_of([&] { decode(v3, "odd.bin"); }), Catch::Contains("format version byte 0xfe"));
  CHECK(binary_format_version() == 2);
}

TEST_CASE("every opcode has a fixed code, and codes are unique", "[isa][table]") {
  std::set<int> codes;
  for (int op = 0; op < kNumOpcodes; ++op) {
    const OpcodeInfo& info = opcode_info(static_cast<Opcode>(op));
    CHECK(info.code != 0);
    codes.insert(info.code);
    Opcode back{};
    REQUIRE(opcode_of_code(info.code, back));
    CHECK(back == static_cast<Opcode>(op));
  }
  CHECK(codes.size() == static_cast<std::size_t>(kNumOpcodes));
  Opcode none{};
  CHECK_FALSE(opcode_of_code(0x00, none));
  CHECK_FALSE(opcode_of_code(0xff, none));
  // A few codes as released in format version 2 (docs/isa.md): they never change.
  CHECK(opcode_info(Opcode::dma_load).code == 0x01);
  CHECK(opcode_info(Opcode::matmul).code == 0x20);
  CHECK(opcode_info(Opcode::vec_add).code == 0x30);
  CHECK(opcode_info(Opcode::halt).code == 0x71);
}
