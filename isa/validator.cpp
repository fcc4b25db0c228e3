// Static checks of a program against the target it will run on. Everything found here would
// otherwise surface as a hang, an out-of-range access or a wrong result deep inside a simulation.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "isa/isa.h"
#include "isa/isa_internal.h"

namespace tasim::isa {
namespace {

std::string count_of(std::uint64_t n, const char* singular, const char* plural) {
  return fmt::format("{} {}", n, n == 1 ? singular : plural);
}

// "0x100000 (1 MiB)": hex to compare with the range, binary units to recognise the size.
std::string capacity_text(std::uint64_t bytes) {
  constexpr std::uint64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  std::string human;
  if (bytes != 0 && bytes % kGiB == 0)
    human = fmt::format("{} GiB", bytes / kGiB);
  else if (bytes != 0 && bytes % kMiB == 0)
    human = fmt::format("{} MiB", bytes / kMiB);
  else if (bytes != 0 && bytes % kKiB == 0)
    human = fmt::format("{} KiB", bytes / kKiB);
  else
    human = count_of(bytes, "byte", "bytes");
  return fmt::format("0x{:x} ({})", bytes, human);
}

class Validator {
 public:
  Validator(const Program& program, const TargetLimits& limits) : program_(program), limits_(limits) {}

  std::vector<std::string> run() {
    const auto& insts = program_.instructions;
    if (insts.empty()) {
      problems_.push_back(fmt::format("{}: the program has no instructions",
                                      program_.source_name.empty() ? "<program>" : program_.source_name));
      return problems_;
    }
    count_semaphore_ops();
    for (index_ = 0; index_ < insts.size(); ++index_) {
      const Instruction& inst = insts[index_];
      if (halt_index_ >= 0 && !reported_unreachable_) {
        reported_unreachable_ = true;
        report(fmt::format("instruction after halt is unreachable (halt at {})",
                           detail::location(program_, static_cast<std::size_t>(halt_index_))));
      }
      if (inst.op == Opcode::halt && halt_index_ < 0) halt_index_ = static_cast<long>(index_);
      if (inst.tag != 0) check_tag(inst.tag);
      if (!well_formed(inst)) continue;
      check_units(inst);
      if (!check_sizes(inst)) continue;
      check_ranges(inst);
      check_semaphore_balance(inst);
    }
    if (problems_.empty()) {
      const std::string deadlock = find_wait_deadlock(program_, limits_);
      if (!deadlock.empty()) problems_.push_back(deadlock);
    }
    return problems_;
  }

 private:
  void report(const std::string& reason) {
    problems_.push_back(fmt::format("{}: {}", detail::location(program_, index_), reason));
  }

  // The tag must name an entry of the tag table that prints and encodes; each name is checked
  // at the first instruction that carries it.
  void check_tag(std::uint32_t tag) {
    const std::vector<std::string>& tags = program_.tags;
    if (tag > tags.size()) {
      report(fmt::format("tag {} is beyond the tag table ({})", tag, count_of(tags.size(), "name", "names")));
      return;
    }
    if (tags_checked_.empty()) tags_checked_.assign(tags.size() + 1, false);
    if (tags_checked_[tag]) return;
    tags_checked_[tag] = true;
    if (const std::string problem = detail::tag_name_problem(tags[tag - 1]); !problem.empty()) {
      report(fmt::format("invalid tag name {} (tag {}): {}", detail::quoted_tag_name(tags[tag - 1]), tag,
                         problem));
    }
  }

  // Values the encoder could not represent; later checks would reason about nonsense.
  bool well_formed(const Instruction& inst) {
    if (static_cast<unsigned>(inst.op) >= static_cast<unsigned>(kNumOpcodes)) {
      report(fmt::format("invalid opcode number {}", static_cast<unsigned>(inst.op)));
      return false;
    }
    const OpcodeInfo& info = opcode_info(inst.op);
    bool ok = true;
    for (int i = 0; i < info.num_fields; ++i) {
      const Field f = info.fields[i];
      const FieldInfo& fi = field_info(f);
      const std::uint64_t v = inst.value[i];
      if (v > detail::field_max(fi.bits)) {
        report(detail::too_wide_message(f, v));
        ok = false;
      } else if (fi.kind == FieldKind::dtype && v >= static_cast<std::uint64_t>(kNumDTypes)) {
        report(fmt::format("invalid dtype value {} (bf16=0, fp8=1, int8=2, fp4=3)", v));
        ok = false;
      } else if (fi.kind == FieldKind::dtype && v == static_cast<std::uint64_t>(DType::fp4) && inst.op != Opcode::matmul) {
        // Vector units compute on unpacked values; fp4 exists only as a matrix-unit input.
        report(fmt::format("dtype fp4 on {}: fp4 is a matmul input only", info.mnemonic));
        ok = false;
      } else if (fi.kind == FieldKind::unitref && (v >> 6) > static_cast<std::uint64_t>(UnitKind::vpu)) {
        report(fmt::format("invalid unit reference 0x{:x}: its kind is none of dma, mxu, vpu", v));
        ok = false;
      }
    }
    return ok;
  }

  void check_index(const char* what_prefix, std::uint64_t index, int available, const char* singular,
                   const char* plural, const char* scope) {
    if (index < static_cast<std::uint64_t>(available)) return;
    report(fmt::format("{}{} absent: the architecture has {}{}", what_prefix, index,
                       count_of(static_cast<std::uint64_t>(available), singular, plural), scope));
  }

  void check_units(const Instruction& inst) {
    if (inst.has(Field::core))
      check_index("core ", inst.get(Field::core), limits_.cores, "core", "cores", "");
    if (inst.has(Field::dst_core)) {
      check_index("destination core ", inst.get(Field::dst_core), limits_.cores, "core", "cores", "");
    }
    if (inst.has(Field::engine)) {
      check_index("dma", inst.get(Field::engine), limits_.dma_engines, "DMA engine", "DMA engines",
                  " per core");
    }
    if (inst.has(Field::mxu)) {
      check_index("mxu", inst.get(Field::mxu), limits_.mxus, "matrix unit", "matrix units", " per core");
    }
    if (inst.has(Field::vpu)) {
      check_index("vpu", inst.get(Field::vpu), limits_.vpus, "vector unit", "vector units", " per core");
    }
    if (inst.has(Field::unit)) {
      const UnitRef u = decode_unitref(inst.get(Field::unit));
      const auto index = static_cast<std::uint64_t>(u.index);
      if (u.kind == UnitKind::dma) {
        check_index("unit dma", index, limits_.dma_engines, "DMA engine", "DMA engines", " per core");
      } else if (u.kind == UnitKind::mxu) {
        check_index("unit mxu", index, limits_.mxus, "matrix unit", "matrix units", " per core");
      } else {
        check_index("unit vpu", index, limits_.vpus, "vector unit", "vector units", " per core");
      }
    }
    if (inst.has(Field::sem)) {
      check_index("semaphore ", inst.get(Field::sem), limits_.semaphores, "semaphore", "semaphores", "");
    }
    if (is_collective(inst.op) && limits_.chips <= 1) {
      report(fmt::format("{} needs a multi-chip system: this architecture has {}", mnemonic(inst.op),
                         count_of(static_cast<std::uint64_t>(limits_.chips), "chip", "chips")));
    } else if (is_collective(inst.op)) {
      const std::uint64_t group = inst.get(Field::group);
      if (group == 1 || (group > 1 && static_cast<std::uint64_t>(limits_.chips) % group != 0)) {
        report(fmt::format("{} group={} must be 0 (every chip) or at least 2 chips dividing the system's {}",
                           mnemonic(inst.op), group, limits_.chips));
      }
    }
    if (inst.has(Field::chip)) {
      const std::uint64_t chip = inst.get(Field::chip);
      if (limits_.chips <= 1) {
        report(fmt::format("{} needs a multi-chip system: this architecture has {}", mnemonic(inst.op),
                           count_of(static_cast<std::uint64_t>(limits_.chips), "chip", "chips")));
      } else if (chip >= static_cast<std::uint64_t>(limits_.chips)) {
        report(fmt::format("chip {} absent: the system has {} chips", chip, limits_.chips));
      } else if (chip == static_cast<std::uint64_t>(limits_.own_chip)) {
        report(fmt::format("{} peer chip {} is the program's own chip (use dma.copy within a chip)",
                           mnemonic(inst.op), chip));
      }
    }
  }

  // Returns false when a size is zero: the ranges would then be meaningless.
  bool check_sizes(const Instruction& inst) {
    static constexpr Field kSizes[] = {Field::m,    Field::n,         Field::k,    Field::rows,
                                       Field::cols, Field::row_bytes, Field::bytes};
    bool ok = true;
    for (const Field f : kSizes) {
      if (inst.has(f) && inst.get(f) == 0) {
        report(fmt::format("zero size: {}=0 (must be at least 1)", field_info(f).name));
        ok = false;
      }
    }
    return ok;
  }

  void check_range(const char* mnem, const char* operand, std::uint64_t addr, std::uint64_t size,
                   Space space, std::uint64_t core) {
    const std::uint64_t capacity = space == Space::sram ? limits_.sram_bytes : limits_.hbm_bytes;
    // A capacity of 0 means "not known to the caller" (for example HBM when not modelled).
    if (capacity == 0) return;
    const std::uint64_t end = addr + size;
    if (end <= capacity) return;
    if (space == Space::sram) {
      report(fmt::format("{} {} range [0x{:x}, 0x{:x}) exceeds SRAM capacity {} of core {}", mnem, operand,
                         addr, end, capacity_text(capacity), core));
    } else {
      report(fmt::format("{} {} range [0x{:x}, 0x{:x}) exceeds HBM capacity {}", mnem, operand, addr, end,
                         capacity_text(capacity)));
    }
  }

  // Every operand of the table's operand column must lie in its memory; a tile's rows must not
  // overlap. An address read and written (matmul C) is checked once.
  void check_ranges(const Instruction& inst) {
    const OpcodeInfo& info = opcode_info(inst.op);
    for (int i = 0; i < info.num_operands; ++i) {
      const OperandInfo& o = info.operands[i];
      bool seen = false;
      for (int j = 0; j < i; ++j) seen = seen || info.operands[j].addr == o.addr;
      if (seen) continue;
      if (o.size == OperandSize::tile) {
        const std::uint64_t rows = inst.get(Field::rows), row_bytes = inst.get(Field::row_bytes);
        const std::uint64_t stride = inst.get(o.stride);
        if (stride != 0 && rows > 1 && stride < row_bytes) {
          report(fmt::format("{} rows overlap: {}={} < row_bytes={} (0 means contiguous)", o.name,
                             field_info(o.stride).name, stride, row_bytes));
          continue;
        }
      }
      check_range(info.mnemonic, o.name, inst.get(o.addr), operand_extent(inst, o), o.space, operand_core(inst, o));
    }
  }

  void count_semaphore_ops() {
    for (const Instruction& inst : program_.instructions) {
      if (inst.op != Opcode::sem_signal && inst.op != Opcode::sem_wait) continue;
      const std::uint64_t sem = inst.get(Field::sem);
      if (sem > detail::field_max(Field::sem)) continue;  // reported by well_formed()
      if (signals_.empty()) {
        signals_.assign(detail::field_max(Field::sem) + 1, 0);
        waits_.assign(signals_.size(), 0);
        waits_seen_.assign(signals_.size(), 0);
      }
      ++(inst.op == Opcode::sem_signal ? signals_ : waits_)[sem];
    }
  }

  // Semaphores start at 0 and only sem.signal raises them: a wait that can never be matched by a
  // signal blocks its unit forever, whatever the timing.
  void check_semaphore_balance(const Instruction& inst) {
    if (inst.op != Opcode::sem_wait) return;
    const std::uint64_t sem = inst.get(Field::sem);
    const std::uint64_t seen = ++waits_seen_[sem];
    if (signals_[sem] == 0) {
      if (seen == 1) report(fmt::format("sem.wait on semaphore {} that is never signalled", sem));
    } else if (seen == signals_[sem] + 1) {
      report(fmt::format(
          "sem.wait on semaphore {}: the program waits {} times but signals only {}: certain deadlock", sem,
          waits_[sem], count_of(signals_[sem], "time", "times")));
    }
  }

  const Program& program_;
  const TargetLimits& limits_;
  std::vector<std::string> problems_;
  std::size_t index_ = 0;
  long halt_index_ = -1;
  bool reported_unreachable_ = false;
  std::vector<bool> tags_checked_;                           // per tag: name checked
  std::vector<std::uint64_t> signals_, waits_, waits_seen_;  // per semaphore
};

}  // namespace

std::vector<std::string> find_problems(const Program& program, const TargetLimits& limits) {
  return Validator(program, limits).run();
}

void validate(const Program& program, const TargetLimits& limits) { throw_problems(find_problems(program, limits)); }

void throw_problems(const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  if (problems.size() == 1) throw Error(problems.front());
  throw Error(fmt::format("{} (and {} more problem{})", problems.front(), problems.size() - 1,
                          problems.size() == 2 ? "" : "s"));
}

}  // namespace tasim::isa
