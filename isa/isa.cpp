// Tables generated from isa_table.h and the small operations on them.
#include "isa/isa.h"

#include <fmt/format.h>

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

constexpr OpcodeInfo make_opcode(const char* mnem, UnitKind unit, const char* desc,
                                 std::initializer_list<Field> fields) {
  OpcodeInfo info{mnem, unit, desc, static_cast<int>(fields.size()), {}};
  int i = 0;
  for (Field f : fields) info.fields[i++] = f;  // out of bounds here = compile error: raise kMaxFields
  return info;
}

// The opcode rows list bare field names; these constants let them stand unqualified.
namespace field_names {
#define TASIM_X(id, bits, kind, unit, desc) [[maybe_unused]] constexpr Field id = Field::id;
TASIM_ISA_FIELDS(TASIM_X)
#undef TASIM_X

constexpr OpcodeInfo kOpcodeTable[] = {
#define TASIM_X(id, mnem, unit_kind, desc, ...) make_opcode(mnem, UnitKind::unit_kind, desc, {__VA_ARGS__}),
    TASIM_ISA_OPCODES(TASIM_X)
#undef TASIM_X
};
}  // namespace field_names
using field_names::kOpcodeTable;

static_assert(sizeof(kFieldTable) / sizeof(kFieldTable[0]) == kNumFields);
static_assert(sizeof(kOpcodeTable) / sizeof(kOpcodeTable[0]) == kNumOpcodes);
static_assert(kNumOpcodes <= 256, "the binary format stores the opcode in one byte");

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
  std::string_view name = kOpcodeTable[static_cast<int>(Opcode::vec_add) + index].mnemonic;
  name.remove_prefix(4);  // "vec."
  return name;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::bf16:
      return "bf16";
    case DType::fp8:
      return "fp8";
    case DType::int8:
      return "int8";
  }
  throw Error(fmt::format("invalid dtype value {}", static_cast<int>(t)));
}

int dtype_bytes(DType t) {
  switch (t) {
    case DType::bf16:
      return 2;
    case DType::fp8:
      return 1;
    case DType::int8:
      return 1;
  }
  throw Error(fmt::format("invalid dtype value {}", static_cast<int>(t)));
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
  switch (u.kind) {
    case UnitKind::dma:
      return fmt::format("dma{}", u.index);
    case UnitKind::mxu:
      return fmt::format("mxu{}", u.index);
    case UnitKind::vpu:
      return fmt::format("vpu{}", u.index);
    default:
      break;
  }
  throw Error("a unit reference names a dma, mxu or vpu unit");
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

std::uint64_t dma_bytes(const Instruction& inst) {
  switch (inst.op) {
    case Opcode::dma_load:
    case Opcode::dma_store:
    case Opcode::dma_copy:
      return inst.get(Field::rows) * inst.get(Field::row_bytes);
    case Opcode::dma_send:
    case Opcode::dma_recv:
      return inst.get(Field::bytes);
    default:
      return 0;
  }
}

std::uint64_t matmul_flops(const Instruction& inst) {
  if (inst.op != Opcode::matmul) return 0;
  return 2 * inst.get(Field::m) * inst.get(Field::n) * inst.get(Field::k);
}

namespace detail {

bool field_has_default(Field f) {
  switch (f) {
    case Field::core:
    case Field::engine:
    case Field::mxu:
    case Field::vpu:
    case Field::acc:
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
