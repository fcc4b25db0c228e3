// The tasim ISA: types generated from isa_table.h, the in-memory program, and the operations
// on it (assemble, disassemble, encode, decode, validate, document).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "isa/isa_table.h"

namespace tasim::isa {

enum class Field : std::uint8_t {
#define TASIM_X(id, bits, kind, unit, desc) id,
  TASIM_ISA_FIELDS(TASIM_X)
#undef TASIM_X
};
#define TASIM_X(...) +1
constexpr int kNumFields = 0 TASIM_ISA_FIELDS(TASIM_X);
#undef TASIM_X

enum class Opcode : std::uint8_t {
#define TASIM_X(id, mnem, unit, desc, ...) id,
  TASIM_ISA_OPCODES(TASIM_X)
#undef TASIM_X
};
#define TASIM_X(...) +1
constexpr int kNumOpcodes = 0 TASIM_ISA_OPCODES(TASIM_X);
#undef TASIM_X

enum class FieldKind : std::uint8_t { uint, addr, dtype, unitref };
enum class UnitKind : std::uint8_t { dma, mxu, vpu, sync, seq };
enum class DType : std::uint8_t { bf16, fp8, int8 };
constexpr int kNumDTypes = 3;

// Vector ops are the contiguous vpu opcodes vec_add .. vec_rope.
constexpr int kNumVectorOps = static_cast<int>(Opcode::vec_rope) - static_cast<int>(Opcode::vec_add) + 1;
constexpr bool is_vector_op(Opcode op) {
  return op >= Opcode::vec_add && op <= Opcode::vec_rope;
}
constexpr int vector_op_index(Opcode op) { return static_cast<int>(op) - static_cast<int>(Opcode::vec_add); }
// Collectives are the contiguous opcodes coll_allreduce .. coll_alltoall.
constexpr bool is_collective(Opcode op) { return op >= Opcode::coll_allreduce && op <= Opcode::coll_alltoall; }
// "add", "exp", ... (the mnemonic without "vec.").
std::string_view vector_op_name(int index);

struct FieldInfo {
  const char* name;
  int bits;
  FieldKind kind;
  const char* unit;
  const char* description;
};

constexpr int kMaxFields = 10;

struct OpcodeInfo {
  const char* mnemonic;
  UnitKind unit;
  const char* description;
  int num_fields;
  std::array<Field, kMaxFields> fields;
};

const FieldInfo& field_info(Field f);
const OpcodeInfo& opcode_info(Opcode op);
// Position of a field in an opcode's field list, or -1 when the opcode has no such field.
int field_position(Opcode op, Field f);
const char* mnemonic(Opcode op);

const char* dtype_name(DType t);
int dtype_bytes(DType t);
constexpr int kAccumulatorBytes = 4;  // matmul results are fp32/int32 accumulators

// A unit reference: unit kind (dma, mxu, vpu) and its index within the core.
struct UnitRef {
  UnitKind kind;
  int index;
};
std::uint64_t encode_unitref(UnitRef u);
UnitRef decode_unitref(std::uint64_t v);
std::string unitref_name(UnitRef u);

struct Instruction {
  Opcode op = Opcode::halt;
  std::uint32_t line = 0;  // source line of the instruction (1-based), for error messages
  std::array<std::uint64_t, kMaxFields> value{};  // by position in the opcode's field list
  // Op tag: which transformer op ("layer3.attn.qkv") the instruction belongs to. 0 = untagged,
  // otherwise an index into the program's tag table: Program::tags[tag - 1] is its name.
  // Last, so that positional initialisation {op, line, value} keeps its meaning.
  std::uint32_t tag = 0;

  bool has(Field f) const { return field_position(op, f) >= 0; }
  std::uint64_t get(Field f) const;  // 0 when the opcode has no such field
  void set(Field f, std::uint64_t v);  // throws Error when the opcode has no such field
};
// The simulator walks millions of these: op + line + values took 88 bytes; the tag may add the
// 8 bytes of one alignment step (96 on 64-bit targets), no more.
static_assert(sizeof(Instruction) <= 8 + 8 * kMaxFields + 8, "keep Instruction small");

// Op tag names: 1 to kMaxTagNameLength printable ASCII characters, no spaces and no '#' (which
// starts a comment in .tasm), e.g. "layer3.attn.qkv".
constexpr std::size_t kMaxTagNameLength = 200;
bool is_valid_tag_name(std::string_view name);

struct Program {
  std::string source_name;  // file name shown in error messages
  std::vector<Instruction> instructions;
  // The tag table: tags[i - 1] is the name of tag i (Instruction::tag). Fill it with intern_tag().
  // Appending to it, clearing or shrinking it directly is fine too: intern_tag notices. After
  // entries are rewritten in place, intern_tag may miss one and append its name a second time;
  // the encoder and the disassembler merge entries of one name.
  std::vector<std::string> tags;

  // The tag of `name`: its index in `tags` (1-based), appending it when absent. Amortised O(1)
  // with a hash index kept alongside `tags` (copied with the program), and O(1) without hashing
  // when called again with the last name. Throws Error for a name that is not a valid tag name
  // (is_valid_tag_name).
  std::uint32_t intern_tag(std::string_view name);
  // The name of a tag: "" for 0; throws Error for a tag beyond the table.
  std::string_view tag_name(std::uint32_t tag) const;

 private:
  void rebuild_tag_index();
  void index_tag(std::uint32_t tag);
  std::uint32_t find_tag(std::string_view name, std::size_t hash, bool& stale) const;

  // Open addressing, linear probing: each slot holds a tag and part of its name's hash (0 =
  // empty); a hit is confirmed against tags[tag - 1], so a stale slot can miss but never lie.
  std::vector<std::uint64_t> tag_slots_;
  std::size_t tags_indexed_ = 0;  // tags[0 .. tags_indexed_) are in tag_slots_
  std::uint32_t last_tag_ = 0;    // the tag intern_tag returned last
};

// What the program runs on; filled from the architecture by sim/.
struct TargetLimits {
  int chips = 1;
  int own_chip = 0;  // the chip the program runs on (a peer of dma.send/recv must differ)
  int cores = 1;
  int dma_engines = 1;
  int mxus = 1;
  int vpus = 1;
  int semaphores = 256;
  std::uint64_t sram_bytes = 0;  // per core
  std::uint64_t hbm_bytes = 0;
};

// Text assembly (.tasm): one instruction per line, `mnemonic field=value ...`, '#' comments;
// a directive line `.op NAME` tags the instructions that follow it, `.op` alone untags them.
// The assembler interns tags in order of first use. The disassembler prints `.op` lines
// wherever the tag name changes from one instruction to the next.
Program assemble(std::string_view text, const std::string& source_name);
std::string disassemble(const Program& program);

// Binary encoding: magic "TASMBIN1", u32 count, then per instruction an opcode byte and the
// fields bit-packed LSB-first in table order, padded to a whole byte. When some instruction is
// tagged, a tag section follows: "TAGS", u32 count of names, each name as u32 length + bytes,
// then every instruction's tag as a LEB128 varint. The encoder renumbers tags by first use (and
// merges entries of equal name, drops unused ones), so equal tagging encodes to equal bytes.
std::vector<std::uint8_t> encode(const Program& program);
Program decode(const std::vector<std::uint8_t>& bytes, const std::string& source_name);
bool is_binary(const std::vector<std::uint8_t>& bytes);

// Reads a .tasm or binary program from disk (throws Error naming the file).
Program load_program(const std::string& path);

// Throws Error "file:line: reason" for the first problem (and counts the others).
void validate(const Program& program, const TargetLimits& limits);
// All problems, one "file:line: reason" string each.
std::vector<std::string> find_problems(const Program& program, const TargetLimits& limits);

// Bytes an instruction moves (DMA) or touches in SRAM; FLOPs (2 per MAC) for matmul.
std::uint64_t dma_bytes(const Instruction& inst);
std::uint64_t matmul_flops(const Instruction& inst);

// docs/isa.md, generated from the table.
std::string reference_markdown();

}  // namespace tasim::isa
