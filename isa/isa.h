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
#define TASIM_X(id, code, mnem, unit, category, operands, desc, ...) id,
  TASIM_ISA_OPCODES(TASIM_X)
#undef TASIM_X
};
#define TASIM_X(...) +1
constexpr int kNumOpcodes = 0 TASIM_ISA_OPCODES(TASIM_X);
#undef TASIM_X

enum class FieldKind : std::uint8_t { uint, addr, dtype, unitref };
enum class UnitKind : std::uint8_t { dma, mxu, vpu, sync, seq };
// fp4 (e2m1, the element of MXFP4) is a matrix-unit input only: two values share a byte.
enum class DType : std::uint8_t { bf16, fp8, int8, fp4 };
constexpr int kNumDTypes = 4;

// What an instruction does (the table's category column): it decides which unit model times it,
// what it counts (MACs, vector elements) and what the trace shows of it.
enum class Category : std::uint8_t {
  hbm_transfer,   // a DMA engine moves a tile between HBM and SRAM
  sram_copy,      // a DMA engine moves a tile between SRAMs (the same or another core)
  chip_transfer,  // point to point between chips (dma.send / dma.recv)
  collective,     // every chip of a group takes part (coll.*)
  matrix,         // a matmul on a systolic array
  vector,         // an elementwise or row-wise function on a vector unit
  semaphore,      // sem.signal / sem.wait in a unit's queue
  control,        // barrier, halt
};

namespace detail {
constexpr Category kCategoryOf[] = {
#define TASIM_X(id, code, mnem, unit, category, operands, desc, ...) Category::category,
    TASIM_ISA_OPCODES(TASIM_X)
#undef TASIM_X
};
// Index of each vector opcode among the vector opcodes, in table order (-1 for the others).
struct VectorIndexTable {
  int index[kNumOpcodes];
  int count;
};
constexpr VectorIndexTable make_vector_index_table() {
  VectorIndexTable t{};
  for (int op = 0; op < kNumOpcodes; ++op) t.index[op] = kCategoryOf[op] == Category::vector ? t.count++ : -1;
  return t;
}
constexpr VectorIndexTable kVectorIndex = make_vector_index_table();
}  // namespace detail

constexpr Category category_of(Opcode op) { return detail::kCategoryOf[static_cast<int>(op)]; }
// Vector opcodes, numbered 0..kNumVectorOps-1 in table order (per-op vector unit rates use it).
constexpr int kNumVectorOps = detail::kVectorIndex.count;
constexpr bool is_vector_op(Opcode op) { return category_of(op) == Category::vector; }
constexpr int vector_op_index(Opcode op) { return detail::kVectorIndex.index[static_cast<int>(op)]; }
constexpr bool is_collective(Opcode op) { return category_of(op) == Category::collective; }
// barrier and barrier.kernel: every unit of the chip stops there until all have reached it.
constexpr bool is_barrier(Opcode op) { return op == Opcode::barrier || op == Opcode::kernel_boundary; }
// Instructions that involve another chip (collectives and point to point).
constexpr bool is_chip_to_chip(Opcode op) {
  return category_of(op) == Category::collective || category_of(op) == Category::chip_transfer;
}
// "add", "exp", ... (the mnemonic without "vec.") of vector op `index`.
std::string_view vector_op_name(int index);
const char* category_name(Category c);
// "dma", "mxu", "vpu", "sync", "seq".
const char* unit_kind_name(UnitKind unit);

struct FieldInfo {
  const char* name;
  int bits;
  FieldKind kind;
  const char* unit;
  const char* description;
};

constexpr int kMaxFields = 10;
constexpr int kMaxOperands = 4;

// Operands (memory accesses) of an instruction, from the table's operand column.
enum class Space : std::uint8_t { sram, hbm };
enum class Access : std::uint8_t {
  read,
  write,
  read_if_acc,  // read only when the instruction's acc field is 1 (matmul accumulating into C)
};
enum class OperandSize : std::uint8_t {
  tile,            // rows x row_bytes, rows `stride` bytes apart (0 = contiguous)
  bytes,           // the `bytes` field
  a_tile,          // m x k elements of dtype
  b_tile,          // k x n elements of dtype
  c_tile,          // m x n accumulators (kAccumulatorBytes each)
  elems,           // rows x cols elements of dtype
  row_param,       // cols elements of dtype (a norm's gamma)
  two_row_params,  // 2 x cols elements of dtype (gamma then beta)
  per_row,         // rows elements of dtype (one per row: a row reduction's result)
};
struct OperandInfo {
  const char* name;  // "SRAM", "A", "src2": how the validator names it
  Space space;
  Access access;
  Field addr;         // its address field
  OperandSize size;
  Field stride;       // tile operands: the stride field (else `addr`, unused)
  Field core;         // SRAM operands: the field naming the core whose SRAM it is (usually `core`)
  // The SRAM side of a chip-to-chip transfer: the interconnect times it and prices it as link
  // bytes, so it counts no SRAM traffic of its own (the SRAM ports are not modelled for it).
  bool link_side;
};

struct OpcodeInfo {
  const char* mnemonic;
  std::uint8_t code;  // the opcode byte of the binary format
  UnitKind unit;
  Category category;
  const char* description;
  int num_fields;
  std::array<Field, kMaxFields> fields;
  int num_operands;
  std::array<OperandInfo, kMaxOperands> operands;
};

const FieldInfo& field_info(Field f);
const OpcodeInfo& opcode_info(Opcode op);
// Position of a field in an opcode's field list, or -1 when the opcode has no such field.
int field_position(Opcode op, Field f);
const char* mnemonic(Opcode op);

const char* dtype_name(DType t);
int dtype_bits(DType t);   // 16, 8, 8, 4
// Whole bytes per element; throws Error for fp4 (half a byte: sizes of fp4 data use dtype_bits).
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

// Binary encoding: magic "TASMBIN" and the format version as an ASCII digit ('2'), u32 count, then
// per instruction its opcode byte (the table's code) and the fields bit-packed LSB-first in table
// order, padded to a whole byte. A file of another version is refused with a clear error. When some instruction is
// tagged, a tag section follows: "TAGS", u32 count of names, each name as u32 length + bytes,
// then every instruction's tag as a LEB128 varint. The encoder renumbers tags by first use (and
// merges entries of equal name, drops unused ones), so equal tagging encodes to equal bytes.
std::vector<std::uint8_t> encode(const Program& program);
Program decode(const std::vector<std::uint8_t>& bytes, const std::string& source_name);
bool is_binary(const std::vector<std::uint8_t>& bytes);
// The binary format version this tasim writes and reads (2).
int binary_format_version();

// Reads a .tasm or binary program from disk (throws Error naming the file).
Program load_program(const std::string& path);

// Throws Error "file:line: reason" for the first problem (and counts the others).
void validate(const Program& program, const TargetLimits& limits);
// All problems, one "file:line: reason" string each.
std::vector<std::string> find_problems(const Program& program, const TargetLimits& limits);
// One Error for a list of problems: the first, and how many more (nothing if there are none).
void throw_problems(const std::vector<std::string>& problems);
// The program's semaphores and barriers played without timing: "" when every unit gets through,
// else "file:line: certain deadlock: ..." naming the units that wait on each other whatever the
// timing. find_problems runs it on programs with no other problem.
std::string find_wait_deadlock(const Program& program, const TargetLimits& limits);

// The opcode whose binary code is `code`, or false when no opcode has it.
bool opcode_of_code(std::uint8_t code, Opcode& op);

// Bytes of one operand (the payload: a strided tile counts its rows, not the gaps).
std::uint64_t operand_bytes(const Instruction& inst, const OperandInfo& operand);
// Bytes from the operand's address to the end of its last byte: the range it touches.
std::uint64_t operand_extent(const Instruction& inst, const OperandInfo& operand);
// The core whose SRAM an SRAM operand is in.
std::uint64_t operand_core(const Instruction& inst, const OperandInfo& operand);
// True when the operand is accessed by this instruction (read_if_acc with acc=0 is not).
bool operand_accessed(const Instruction& inst, const OperandInfo& operand);

// Bytes a transfer moves (DMA, chip to chip, collective: its first operand), 0 for the others.
std::uint64_t dma_bytes(const Instruction& inst);
// FLOPs (2 per MAC) of a matrix instruction, 0 for the others.
std::uint64_t matmul_flops(const Instruction& inst);

// A few figures that describe an instruction (the trace shows them with each slice): by category,
// the transfer's bytes, a matmul's m, n, k and dtype, a vector op's rows and cols, a semaphore.
struct InstructionArg {
  const char* name;
  std::uint64_t value;
  const char* text;  // non-null: the value is this text (a dtype name)
};
constexpr int kMaxInstructionArgs = 4;
int instruction_args(const Instruction& inst, InstructionArg (&args)[kMaxInstructionArgs]);

// docs/isa.md, generated from the table.
std::string reference_markdown();

}  // namespace tasim::isa
