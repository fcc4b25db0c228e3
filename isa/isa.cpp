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

std::uint64_t dma_bytes(const Instruction& inst) {
  switch (inst.op) {
    case Opcode::dma_load:
    case Opcode::dma_store:
    case Opcode::dma_copy:
      return inst.get(Field::rows) * inst.get(Field::row_bytes);
    case Opcode::dma_send:
    case Opcode::dma_recv:
    case Opcode::coll_allreduce:
    case Opcode::coll_allgather:
    case Opcode::coll_reducescatter:
    case Opcode::coll_alltoall:
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
