// Tables generated from isa_table.h and the small operations on them.
#include "isa/isa.h"

#include <fmt/format.h>

#include <functional>
#include <initializer_list>
#include <iterator>

#include "isa/isa_internal.h"

namespace tasim::isa {
namespace {

constexpr FieldInfo kFieldTable[] = {
#define TASIM_X(id, bits, kind, unit, desc) {#id, bits, FieldKind::kind, unit, desc},
    TASIM_ISA_FIELDS(TASIM_X)
#undef TASIM_X
};

constexpr OpcodeInfo make_opcode(const char* mnem, std::uint8_t code, UnitKind unit, Category category,
                                 std::initializer_list<OperandInfo> operands, const char* desc,
                                 std::initializer_list<Field> fields) {
  OpcodeInfo info{mnem, code, unit, category, desc, static_cast<int>(fields.size()), {}, 0, {}};
  int i = 0;
  for (Field f : fields) info.fields[i++] = f;  // out of bounds here = compile error: raise kMaxFields
  for (const OperandInfo& o : operands) info.operands[info.num_operands++] = o;  // likewise kMaxOperands
  return info;
}

// The opcode rows list bare field names; these constants let them stand unqualified.
namespace field_names {
#define TASIM_X(id, bits, kind, unit, desc) [[maybe_unused]] constexpr Field id = Field::id;
TASIM_ISA_FIELDS(TASIM_X)
#undef TASIM_X

// The operand notation of the table's operand column (isa_table.h).
constexpr OperandInfo operand(Space space, const char* name, Access access, Field addr, OperandSize size,
                              Field stride, Field core, bool link_side) {
  return OperandInfo{name, space, access, addr, size, stride, core, link_side};
}
#define READ(space, name, addr, size) \
  operand(Space::space, name, Access::read, addr, OperandSize::size, addr, Field::core, false)
#define WRITE(space, name, addr, size) \
  operand(Space::space, name, Access::write, addr, OperandSize::size, addr, Field::core, false)
#define ACC_READ(space, name, addr, size) \
  operand(Space::space, name, Access::read_if_acc, addr, OperandSize::size, addr, Field::core, false)
#define READ_TILE(space, name, addr, stride) \
  operand(Space::space, name, Access::read, addr, OperandSize::tile, stride, Field::core, false)
#define WRITE_TILE(space, name, addr, stride) \
  operand(Space::space, name, Access::write, addr, OperandSize::tile, stride, Field::core, false)
#define WRITE_TILE_AT(space, name, addr, stride, core_field) \
  operand(Space::space, name, Access::write, addr, OperandSize::tile, stride, core_field, false)
#define LINK_READ(space, name, addr, size) \
  operand(Space::space, name, Access::read, addr, OperandSize::size, addr, Field::core, true)
#define LINK_WRITE(space, name, addr, size) \
  operand(Space::space, name, Access::write, addr, OperandSize::size, addr, Field::core, true)
#define TASIM_OPERANDS(...) __VA_ARGS__

constexpr OpcodeInfo kOpcodeTable[] = {
#define TASIM_X(id, code, mnem, unit_kind, category, operands, desc, ...)                                 \
  make_opcode(mnem, code, UnitKind::unit_kind, Category::category, {TASIM_OPERANDS operands}, desc, \
              {__VA_ARGS__}),
    TASIM_ISA_OPCODES(TASIM_X)
#undef TASIM_X
};
#undef READ
#undef WRITE
#undef ACC_READ
#undef READ_TILE
#undef WRITE_TILE
#undef WRITE_TILE_AT
#undef LINK_READ
#undef LINK_WRITE
#undef TASIM_OPERANDS
}  // namespace field_names
using field_names::kOpcodeTable;

static_assert(sizeof(kFieldTable) / sizeof(kFieldTable[0]) == kNumFields);
static_assert(sizeof(kOpcodeTable) / sizeof(kOpcodeTable[0]) == kNumOpcodes);
static_assert(kNumOpcodes <= 255, "the binary format stores the opcode in one byte");

// Binary codes are unique and never 0 (a zeroed byte is no instruction); the code -> opcode map
// the decoder uses is built from them.
struct CodeTable {
  std::int16_t opcode_of[256];
};
constexpr CodeTable make_code_table() {
  CodeTable t{};
  for (auto& o : t.opcode_of) o = -1;
  for (int op = 0; op < kNumOpcodes; ++op) t.opcode_of[kOpcodeTable[op].code] = static_cast<std::int16_t>(op);
  return t;
}
constexpr CodeTable kCodes = make_code_table();
constexpr bool codes_unique_and_nonzero() {
  for (int op = 0; op < kNumOpcodes; ++op) {
    if (kOpcodeTable[op].code == 0 || kCodes.opcode_of[kOpcodeTable[op].code] != op) return false;
  }
  return true;
}
static_assert(codes_unique_and_nonzero(), "two opcodes share a binary code, or one has code 0");

// Every operand names fields its opcode has, and its category agrees with the unit kind.
constexpr bool operands_consistent() {
  for (const OpcodeInfo& info : kOpcodeTable) {
    for (int i = 0; i < info.num_operands; ++i) {
      const OperandInfo& o = info.operands[i];
      bool addr = false, stride = false, core = false;
      for (int f = 0; f < info.num_fields; ++f) {
        addr = addr || info.fields[f] == o.addr;
        stride = stride || info.fields[f] == o.stride;
        core = core || info.fields[f] == o.core;
      }
      if (!addr || !stride || (o.space == Space::sram && !core)) return false;
    }
  }
  return true;
}
static_assert(operands_consistent(), "an operand names a field its opcode does not have");

// [opcode][field] -> position in the opcode's field list, or -1. Instruction::get/set run on
// the simulator's hot path, so this is computed once at compile time.
struct PositionTable {
  std::int8_t position[kNumOpcodes][kNumFields];
};

constexpr PositionTable make_position_table() {
  PositionTable table{};
  for (int op = 0; op < kNumOpcodes; ++op) {
    for (int f = 0; f < kNumFields; ++f) table.position[op][f] = -1;
    for (int i = 0; i < kOpcodeTable[op].num_fields; ++i) {
      table.position[op][static_cast<int>(kOpcodeTable[op].fields[i])] = static_cast<std::int8_t>(i);
    }
  }
  return table;
}
constexpr PositionTable kPositions = make_position_table();

constexpr bool fields_unique_and_fit() {
  for (const OpcodeInfo& info : kOpcodeTable) {
    for (int i = 0; i < info.num_fields; ++i) {
      if (kFieldTable[static_cast<int>(info.fields[i])].bits > 64) return false;
      for (int j = 0; j < i; ++j) {
        if (info.fields[i] == info.fields[j]) return false;
      }
    }
  }
  return true;
}
static_assert(fields_unique_and_fit(), "an opcode lists a field twice, or a field is wider than 64 bits");

constexpr int kUnitIndexBits = 6;

}  // namespace

const FieldInfo& field_info(Field f) {
  const auto i = static_cast<unsigned>(f);
  if (i >= static_cast<unsigned>(kNumFields)) throw Error(fmt::format("invalid field number {}", i));
  return kFieldTable[i];
}

const OpcodeInfo& opcode_info(Opcode op) {
  const auto i = static_cast<unsigned>(op);
  if (i >= static_cast<unsigned>(kNumOpcodes)) throw Error(fmt::format("invalid opcode number {}", i));
  return kOpcodeTable[i];
}

int field_position(Opcode op, Field f) {
  const auto o = static_cast<unsigned>(op);
  const auto i = static_cast<unsigned>(f);
  if (o >= static_cast<unsigned>(kNumOpcodes) || i >= static_cast<unsigned>(kNumFields)) return -1;
  return kPositions.position[o][i];
}

const char* mnemonic(Opcode op) {
  return opcode_info(op).mnemonic;
}

std::string_view vector_op_name(int index) {
  if (index < 0 || index >= kNumVectorOps) throw Error(fmt::format("invalid vector op index {}", index));
  for (int op = 0; op < kNumOpcodes; ++op) {
    if (vector_op_index(static_cast<Opcode>(op)) != index) continue;
    std::string_view name = kOpcodeTable[op].mnemonic;
    name.remove_prefix(4);  // "vec."
    return name;
  }
  throw Error(fmt::format("invalid vector op index {}", index));
}

const char* category_name(Category c) {
  switch (c) {
    case Category::hbm_transfer: return "hbm_transfer";
    case Category::sram_copy: return "sram_copy";
    case Category::chip_transfer: return "chip_transfer";
    case Category::collective: return "collective";
    case Category::matrix: return "matrix";
    case Category::vector: return "vector";
    case Category::semaphore: return "semaphore";
    case Category::control: return "control";
  }
  throw Error(fmt::format("invalid category {}", static_cast<int>(c)));
}

bool opcode_of_code(std::uint8_t code, Opcode& op) {
  if (kCodes.opcode_of[code] < 0) return false;
  op = static_cast<Opcode>(kCodes.opcode_of[code]);
  return true;
}

const char* unit_kind_name(UnitKind unit) {
  switch (unit) {
    case UnitKind::dma: return "dma";
    case UnitKind::mxu: return "mxu";
    case UnitKind::vpu: return "vpu";
    case UnitKind::sync: return "sync";
    case UnitKind::seq: return "seq";
  }
  throw Error(fmt::format("invalid unit kind {}", static_cast<int>(unit)));
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::bf16:
      return "bf16";
    case DType::fp8:
      return "fp8";
    case DType::int8:
      return "int8";
    case DType::fp4:
      return "fp4";
  }
  throw Error(fmt::format("invalid dtype value {}", static_cast<int>(t)));
}

int dtype_bits(DType t) {
  switch (t) {
    case DType::bf16:
      return 16;
    case DType::fp8:
      return 8;
    case DType::int8:
      return 8;
    case DType::fp4:
      return 4;
  }
  throw Error(fmt::format("invalid dtype value {}", static_cast<int>(t)));
}

int dtype_bytes(DType t) {
  const int bits = dtype_bits(t);
  if (bits % 8 != 0) throw Error(fmt::format("{} packs {} bits per element: size it with dtype_bits", dtype_name(t), bits));
  return bits / 8;
}

std::uint64_t encode_unitref(UnitRef u) {
  if (u.kind != UnitKind::dma && u.kind != UnitKind::mxu && u.kind != UnitKind::vpu) {
    throw Error("a unit reference names a dma, mxu or vpu unit");
  }
  if (u.index < 0 || u.index > static_cast<int>(detail::field_max(kUnitIndexBits))) {
    throw Error(fmt::format("unit index {} does not fit in {} bits (max {})", u.index, kUnitIndexBits,
                            detail::field_max(kUnitIndexBits)));
  }
  return (static_cast<std::uint64_t>(u.kind) << kUnitIndexBits) | static_cast<std::uint64_t>(u.index);
}

UnitRef decode_unitref(std::uint64_t v) {
  const std::uint64_t kind = v >> kUnitIndexBits;
  if (kind > static_cast<std::uint64_t>(UnitKind::vpu)) {
    throw Error(fmt::format("invalid unit reference 0x{:x}: kind {} is none of dma, mxu, vpu", v, kind));
  }
  return UnitRef{static_cast<UnitKind>(kind), static_cast<int>(v & detail::field_max(kUnitIndexBits))};
}

std::string unitref_name(UnitRef u) {
  if (u.kind != UnitKind::dma && u.kind != UnitKind::mxu && u.kind != UnitKind::vpu) {
    throw Error("a unit reference names a dma, mxu or vpu unit");
  }
  return fmt::format("{}{}", unit_kind_name(u.kind), u.index);
}

std::uint64_t Instruction::get(Field f) const {
  const int pos = field_position(op, f);
  return pos < 0 ? 0 : value[pos];
}

void Instruction::set(Field f, std::uint64_t v) {
  const int pos = field_position(op, f);
  if (pos < 0) throw Error(fmt::format("{} has no field '{}'", mnemonic(op), field_info(f).name));
  // Checked here rather than at encode time so that lowering bugs surface where they happen.
  if (v > detail::field_max(f))
    throw Error(fmt::format("{}: {}", mnemonic(op), detail::too_wide_message(f, v)));
  value[pos] = v;
}

bool is_valid_tag_name(std::string_view name) { return detail::tag_name_problem(name).empty(); }

std::string_view Program::tag_name(std::uint32_t tag) const {
  if (tag == 0) return {};
  if (tag > tags.size()) {
    throw Error(fmt::format("tag {} is beyond the tag table ({} name{})", tag, tags.size(),
                            tags.size() == 1 ? "" : "s"));
  }
  return tags[tag - 1];
}

std::uint32_t Program::intern_tag(std::string_view name) {
  // The compiler tags runs of instructions with one op: the same name many times in a row.
  if (last_tag_ != 0 && last_tag_ <= tags.size() && tags[last_tag_ - 1] == name) return last_tag_;
  if (tags_indexed_ > tags.size()) rebuild_tag_index();  // shrunk (cleared, reassigned) behind our back
  while (tags_indexed_ < tags.size()) {                  // appended behind our back
    ++tags_indexed_;
    index_tag(static_cast<std::uint32_t>(tags_indexed_));
  }
  const std::size_t hash = std::hash<std::string_view>{}(name);
  bool stale = false;
  std::uint32_t tag = find_tag(name, hash, stale);
  if (stale) {  // an entry was rewritten behind our back: index the table afresh
    rebuild_tag_index();
    tag = find_tag(name, hash, stale);
  }
  if (tag == 0) {
    if (const std::string problem = detail::tag_name_problem(name); !problem.empty()) {
      throw Error(fmt::format("invalid op tag name {}: {}", detail::quoted_tag_name(name), problem));
    }
    if (tags.size() >= 0xffffffffull) throw Error("the tag table is full (2^32 - 1 names)");
    tags.emplace_back(name);
    tags_indexed_ = tags.size();
    tag = static_cast<std::uint32_t>(tags.size());
    index_tag(tag);
  }
  last_tag_ = tag;
  return tag;
}

namespace {
// A slot of the tag index: the tag in the low 32 bits (0 = empty slot), the top 32 bits of its
// name's hash above, which spares most string comparisons and reveals entries changed in place.
constexpr std::uint64_t tag_slot(std::uint32_t tag, std::size_t hash) {
  return (static_cast<std::uint64_t>(hash) & 0xffffffff00000000ull) | tag;
}
}  // namespace

std::uint32_t Program::find_tag(std::string_view name, std::size_t hash, bool& stale) const {
  if (tag_slots_.empty()) return 0;
  const std::size_t mask = tag_slots_.size() - 1;
  const std::uint64_t wanted = tag_slot(0, hash);
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const std::uint64_t slot = tag_slots_[i];
    if (slot == 0) return 0;
    if ((slot & 0xffffffff00000000ull) != wanted) continue;
    const auto tag = static_cast<std::uint32_t>(slot);
    if (tag <= tags.size() && tags[tag - 1] == name) return tag;
    // Same hash, other name: almost surely an entry rewritten since it was indexed.
    stale = true;
  }
}

void Program::index_tag(std::uint32_t tag) {
  // At most half full, so that probes stay short and always end at an empty slot.
  if (2 * (tags_indexed_ + 1) > tag_slots_.size()) {
    rebuild_tag_index();
    return;
  }
  const std::size_t mask = tag_slots_.size() - 1;
  const std::size_t hash = std::hash<std::string_view>{}(tags[tag - 1]);
  std::size_t i = hash & mask;
  while (tag_slots_[i] != 0) i = (i + 1) & mask;
  tag_slots_[i] = tag_slot(tag, hash);
}

void Program::rebuild_tag_index() {
  std::size_t size = 16;
  while (size < 2 * (tags.size() + 1)) size *= 2;
  tag_slots_.assign(size, 0);
  tags_indexed_ = 0;
  while (tags_indexed_ < tags.size()) {
    ++tags_indexed_;
    index_tag(static_cast<std::uint32_t>(tags_indexed_));
  }
}

std::uint64_t operand_bytes(const Instruction& inst, const OperandInfo& operand) {
  // Bytes of `count` elements of the dtype, rounded up to a whole byte (fp4 packs two per byte).
  const auto elems = [&](std::uint64_t count) {
    const auto bits = static_cast<std::uint64_t>(dtype_bits(static_cast<DType>(inst.get(Field::dtype))));
    return (count * bits + 7) / 8;
  };
  switch (operand.size) {
    case OperandSize::tile: return inst.get(Field::rows) * inst.get(Field::row_bytes);
    case OperandSize::bytes: return inst.get(Field::bytes);
    case OperandSize::a_tile: return elems(inst.get(Field::m) * inst.get(Field::k));
    case OperandSize::b_tile: return elems(inst.get(Field::k) * inst.get(Field::n));
    case OperandSize::c_tile: return inst.get(Field::m) * inst.get(Field::n) * kAccumulatorBytes;
    case OperandSize::elems: return elems(inst.get(Field::rows) * inst.get(Field::cols));
    case OperandSize::row_param: return elems(inst.get(Field::cols));
    case OperandSize::two_row_params: return elems(2 * inst.get(Field::cols));
    case OperandSize::per_row: return elems(inst.get(Field::rows));
  }
  throw Error(fmt::format("invalid operand size {}", static_cast<int>(operand.size)));
}

std::uint64_t operand_extent(const Instruction& inst, const OperandInfo& operand) {
  if (operand.size != OperandSize::tile) return operand_bytes(inst, operand);
  const std::uint64_t rows = inst.get(Field::rows), row_bytes = inst.get(Field::row_bytes);
  const std::uint64_t stride = inst.get(operand.stride);
  if (rows == 0) return 0;
  return (rows - 1) * (stride != 0 ? stride : row_bytes) + row_bytes;
}

std::uint64_t operand_core(const Instruction& inst, const OperandInfo& operand) { return inst.get(operand.core); }

bool operand_accessed(const Instruction& inst, const OperandInfo& operand) {
  return operand.access != Access::read_if_acc || inst.get(Field::acc) != 0;
}

std::uint64_t dma_bytes(const Instruction& inst) {
  const OpcodeInfo& info = opcode_info(inst.op);
  switch (info.category) {
    case Category::hbm_transfer:
    case Category::sram_copy:
    case Category::chip_transfer:
    case Category::collective:
      return operand_bytes(inst, info.operands[0]);
    case Category::matrix:
    case Category::vector:
    case Category::semaphore:
    case Category::control:
      return 0;
  }
  return 0;
}

std::uint64_t matmul_flops(const Instruction& inst) {
  if (category_of(inst.op) != Category::matrix) return 0;
  return 2 * inst.get(Field::m) * inst.get(Field::n) * inst.get(Field::k);
}

int instruction_args(const Instruction& inst, InstructionArg (&args)[kMaxInstructionArgs]) {
  int n = 0;
  const auto field = [&](Field f) { args[n++] = {field_info(f).name, inst.get(f), nullptr}; };
  switch (category_of(inst.op)) {
    case Category::hbm_transfer:
    case Category::sram_copy:
    case Category::chip_transfer:
      args[n++] = {"bytes", dma_bytes(inst), nullptr};
      break;
    case Category::matrix:
      field(Field::m);
      field(Field::n);
      field(Field::k);
      args[n++] = {"dtype", inst.get(Field::dtype), dtype_name(static_cast<DType>(inst.get(Field::dtype)))};
      break;
    case Category::vector:
      field(Field::rows);
      field(Field::cols);
      break;
    case Category::semaphore:
      field(Field::sem);
      break;
    case Category::collective:  // the link transfers show in the trace's link tracks
    case Category::control:
      break;
  }
  return n;
}

namespace detail {

bool field_has_default(Field f) {
  switch (f) {
    case Field::core:
    case Field::engine:
    case Field::mxu:
    case Field::vpu:
    case Field::acc:
    case Field::algo:
    case Field::group:
    case Field::dtype:
    case Field::hbm_stride:
    case Field::sram_stride:
    case Field::src_stride:
    case Field::dst_stride:
      return true;
    default:
      return false;
  }
}

std::string too_wide_message(Field f, std::uint64_t value) {
  const FieldInfo& info = field_info(f);
  return fmt::format("field {}={} does not fit in {} bits (max {})", info.name, value, info.bits,
                     field_max(info.bits));
}

std::string location(const Program& program, std::size_t index) {
  const std::uint32_t line = program.instructions[index].line;
  return fmt::format("{}:{}", program.source_name.empty() ? "<program>" : program.source_name,
                     line != 0 ? static_cast<std::uint64_t>(line) : static_cast<std::uint64_t>(index) + 1);
}

std::string tag_name_problem(std::string_view name) {
  if (name.empty()) return "the name is empty";
  if (name.size() > kMaxTagNameLength) {
    return fmt::format("the name has {} characters (at most {})", name.size(), kMaxTagNameLength);
  }
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '#') return "'#' starts a comment in .tasm, so a tag name cannot hold it";
    if (c == ' ') return "a tag name holds no spaces";
    if (c < ' ' || c > '~') {
      return fmt::format("byte 0x{:02x}: a tag name is printable ASCII, no spaces or control characters", c);
    }
  }
  return {};
}

std::string quoted_tag_name(std::string_view name) {
  constexpr std::size_t kShown = 60;
  std::string out = "'";
  for (std::size_t i = 0; i < name.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < ' ' || c > '~' || c == '\\' || c == '\'') {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += name.size() > kShown ? fmt::format("'... ({} characters)", name.size()) : "'";
  return out;
}

void append_instruction_text(std::string& out, const Instruction& inst, bool omit_defaults) {
  const OpcodeInfo& info = opcode_info(inst.op);
  out += info.mnemonic;
  for (int i = 0; i < info.num_fields; ++i) {
    const Field f = info.fields[i];
    const std::uint64_t v = inst.value[i];
    if (omit_defaults && v == 0 && field_has_default(f)) continue;
    const FieldInfo& fi = field_info(f);
    if (v > field_max(fi.bits)) throw Error(too_wide_message(f, v));
    out += ' ';
    out += fi.name;
    out += '=';
    switch (fi.kind) {
      case FieldKind::uint:
        fmt::format_to(std::back_inserter(out), "{}", v);
        break;
      case FieldKind::addr:
        fmt::format_to(std::back_inserter(out), "0x{:x}", v);
        break;
      case FieldKind::dtype:
        out += dtype_name(static_cast<DType>(v));
        break;
      case FieldKind::unitref:
        out += unitref_name(decode_unitref(v));
        break;
    }
  }
}

}  // namespace detail
}  // namespace tasim::isa
