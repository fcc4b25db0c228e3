// The static deadlock check (isa.h, find_wait_deadlock): the program's semaphore and barrier
// protocol played without timing. Each unit takes its instructions in program order; a signal
// always completes, a wait completes once its semaphore is positive, a barrier once every unit has
// reached it, and everything else (DMA, matmul, vector work, chip-to-chip transfers) is taken to
// complete. When the play stops with a unit still holding instructions, and every semaphore the
// stuck units wait on has that one waiting unit (so that no other order of events could hand it a
// signal the play missed), the program deadlocks whatever the timing.
#include <fmt/format.h>

#include <deque>
#include <vector>

#include "isa/isa.h"
#include "isa/isa_internal.h"

namespace tasim::isa {

namespace {

struct UnitKey {
  std::uint64_t core;
  UnitRef unit;
};

// The unit whose queue an instruction is issued to (barrier and halt: none).
bool unit_of(const Instruction& inst, UnitKey& key) {
  const OpcodeInfo& info = opcode_info(inst.op);
  key.core = inst.get(Field::core);
  switch (info.unit) {
    case UnitKind::dma: key.unit = {UnitKind::dma, static_cast<int>(inst.get(Field::engine))}; return true;
    case UnitKind::mxu: key.unit = {UnitKind::mxu, static_cast<int>(inst.get(Field::mxu))}; return true;
    case UnitKind::vpu: key.unit = {UnitKind::vpu, static_cast<int>(inst.get(Field::vpu))}; return true;
    case UnitKind::sync: key.unit = decode_unitref(inst.get(Field::unit)); return true;
    case UnitKind::seq: return false;
  }
  return false;
}

}  // namespace

std::string find_wait_deadlock(const Program& program, const TargetLimits& limits) {
  // Every unit of the target gets every barrier, even a unit the program never uses otherwise.
  // Units are numbered densely: (core, kind, index) -> id.
  constexpr int kKinds = 3, kIndexes = 64;
  std::vector<UnitKey> unit_keys;
  std::vector<int> id_of(static_cast<std::size_t>(std::max(0, limits.cores)) * kKinds * kIndexes, -1);
  const auto slot = [&](std::uint64_t core, UnitRef u) {
    return (static_cast<std::size_t>(core) * kKinds + static_cast<std::size_t>(u.kind)) * kIndexes +
           static_cast<std::size_t>(u.index);
  };
  for (int c = 0; c < limits.cores; ++c) {
    for (const auto& [kind, count] : {std::pair{UnitKind::dma, limits.dma_engines}, std::pair{UnitKind::mxu, limits.mxus},
                                      std::pair{UnitKind::vpu, limits.vpus}}) {
      for (int i = 0; i < count && i < kIndexes; ++i) {
        const UnitKey key{static_cast<std::uint64_t>(c), {kind, i}};
        id_of[slot(key.core, key.unit)] = static_cast<int>(unit_keys.size());
        unit_keys.push_back(key);
      }
    }
  }
  const int units = static_cast<int>(unit_keys.size());
  const std::size_t semaphores = detail::field_max(Field::sem) + 1;
  std::vector<std::vector<std::size_t>> queue(static_cast<std::size_t>(units));  // instruction indices
  std::vector<int> waiter_of(semaphores, -1);  // semaphore -> its waiting unit, -2 when several
  for (std::size_t i = 0; i < program.instructions.size(); ++i) {
    const Instruction& inst = program.instructions[i];
    if (inst.op == Opcode::halt) break;
    if (is_barrier(inst.op)) {
      for (auto& q : queue) q.push_back(i);
      continue;
    }
    UnitKey key{};
    if (!unit_of(inst, key)) continue;
    const std::size_t k = slot(key.core, key.unit);
    if (key.core >= static_cast<std::uint64_t>(limits.cores) || key.unit.index >= kIndexes || id_of[k] < 0) {
      return "";  // a unit the target lacks: reported elsewhere
    }
    const int u = id_of[k];
    queue[static_cast<std::size_t>(u)].push_back(i);
    if (inst.op == Opcode::sem_wait) {
      int& w = waiter_of[inst.get(Field::sem)];
      w = w == -1 || w == u ? u : -2;
    }
  }

  std::vector<std::size_t> pc(static_cast<std::size_t>(units), 0);
  std::vector<std::uint64_t> count(semaphores, 0);           // semaphore -> value
  std::vector<std::vector<int>> blocked_on(semaphores);      // semaphore -> units waiting now
  int at_barrier = 0;
  std::deque<int> ready;
  for (int u = 0; u < units; ++u) ready.push_back(u);
  while (!ready.empty()) {
    const int u = ready.front();
    ready.pop_front();
    auto& p = pc[static_cast<std::size_t>(u)];
    const auto& q = queue[static_cast<std::size_t>(u)];
    while (p < q.size()) {
      const Instruction& inst = program.instructions[q[p]];
      if (inst.op == Opcode::sem_signal) {
        const std::uint64_t s = inst.get(Field::sem);
        ++count[s];
        auto& blocked = blocked_on[s];
        for (int w : blocked) ready.push_back(w);
        blocked.clear();
      } else if (inst.op == Opcode::sem_wait) {
        const std::uint64_t s = inst.get(Field::sem);
        if (count[s] == 0) {
          blocked_on[s].push_back(u);
          break;
        }
        --count[s];
      } else if (is_barrier(inst.op)) {
        if (++at_barrier < units) break;  // the last unit to arrive releases the others
        at_barrier = 0;
        for (int w = 0; w < units; ++w) {
          if (w != u) {
            ++pc[static_cast<std::size_t>(w)];
            ready.push_back(w);
          }
        }
      }
      ++p;
    }
  }

  // Stuck units: each waiting on a semaphore (listed first: the cause) or at a barrier.
  std::vector<std::string> stuck, at_barriers;
  std::size_t first = program.instructions.size();
  for (int u = 0; u < units; ++u) {
    const UnitKey& key = unit_keys[static_cast<std::size_t>(u)];
    const auto p = pc[static_cast<std::size_t>(u)];
    const auto& q = queue[static_cast<std::size_t>(u)];
    if (p >= q.size()) continue;
    const Instruction& inst = program.instructions[q[p]];
    if (inst.op == Opcode::sem_wait) {
      // Another waiter could have taken the signal this unit needed: not certain.
      if (waiter_of[inst.get(Field::sem)] == -2) return "";
      stuck.push_back(fmt::format("core{}.{} waits on semaphore {} at {}", key.core, unitref_name(key.unit),
                                  inst.get(Field::sem), detail::location(program, q[p])));
    } else {
      at_barriers.push_back(fmt::format("core{}.{} waits at the barrier at {}", key.core, unitref_name(key.unit),
                                        detail::location(program, q[p])));
    }
    first = std::min(first, q[p]);
  }
  stuck.insert(stuck.end(), at_barriers.begin(), at_barriers.end());
  if (stuck.empty()) return "";
  constexpr std::size_t kShown = 4;
  std::string who;
  for (std::size_t i = 0; i < stuck.size() && i < kShown; ++i) who += (i ? "; " : "") + stuck[i];
  if (stuck.size() > kShown) who += fmt::format("; and {} more unit{}", stuck.size() - kShown, stuck.size() - kShown == 1 ? "" : "s");
  return fmt::format("{}: certain deadlock: the units wait on each other (every signal they need comes later "
                     "in a waiting unit's queue): {}",
                     detail::location(program, first), who);
}

}  // namespace tasim::isa
