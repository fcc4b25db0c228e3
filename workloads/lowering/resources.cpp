#include "workloads/lowering/resources.h"

#include <fmt/format.h>

#include "common/error.h"

namespace tasim::workloads::lowering {

int SemRange::at(int i) const {
  if (i < 0 || i >= count) throw Error(fmt::format("internal: semaphore {} of a range of {}", i, count));
  return first + i;
}

CoreSemaphores allocate_core_semaphores(int matrix_units) {
  SemaphoreAllocator a;
  CoreSemaphores s;
  s.done = a.take(1);
  s.x_free = a.take(2);
  s.v_in = a.take(2);
  s.v_out = a.take(2);
  s.param_ready = a.take(1);
  s.exchange_stored = a.take(1);
  for (int j = 0; j < matrix_units; ++j) {
    CoreSemaphores::PerUnit u;
    u.w_ready = a.take(kWeightSlotsPerUnit);
    u.w_free = a.take(kWeightSlotsPerUnit);
    u.c_ready = a.take(kMaxAccumulatorSlots);
    u.c_free = a.take(kMaxAccumulatorSlots);
    u.s_ready = a.take(1);
    u.p_ready = a.take(1);
    u.q_ready = a.take(1);
    u.q_free = a.take(1);
    u.r_ready = a.take(kMaxAccumulatorSlots);
    u.x_ready = a.take(2);
    s.unit.push_back(u);
  }
  s.per_core = a.used();
  return s;
}

SramLayout layout_sram(const SramPlan& plan, int units, std::uint64_t capacity_bytes) {
  SramLayout l;
  l.plan = plan;
  l.units = units;
  const auto n = static_cast<std::uint64_t>(units);
  std::uint64_t a = 0;
  l.x_base = a, a += 2 * plan.x_slot;
  l.w_base = a, a += static_cast<std::uint64_t>(kWeightSlotsPerUnit) * n * plan.w_slot;
  l.c_base = a, a += static_cast<std::uint64_t>(plan.c_slots) * n * plan.c_slot;
  l.s_base = a, a += n * plan.s_slot;
  l.v_base = a, a += 2 * plan.v_slot;
  l.p_base = a, a += plan.v_slot;
  if (a > capacity_bytes) throw Error("internal: SRAM plan exceeds the capacity");
  return l;
}

int Ring::acquire(Emitter& out, int core, isa::UnitRef producer, const SemRange& free) {
  int s = next;
  for (int tries = 0; held[static_cast<std::size_t>(s)]; ++tries) {
    if (tries == slots) throw Error("internal: every slot of a ring is held");
    s = (s + 1) % slots;
  }
  next = (s + 1) % slots;
  for (int i = 0; i < owed[static_cast<std::size_t>(s)]; ++i) out.wait(core, producer, free.at(s));
  owed[static_cast<std::size_t>(s)] = 0;
  return s;
}

void Ring::release(Emitter& out, int core, int s, isa::UnitRef consumer, const SemRange& free) {
  out.signal(core, consumer, free.at(s));
  ++owed[static_cast<std::size_t>(s)];
}

void Ring::drain(Emitter& out, int core, const std::function<isa::UnitRef(int slot)>& producer,
                 const SemRange& free) const {
  for (int s = 0; s < slots; ++s) {
    for (int i = 0; i < owed[static_cast<std::size_t>(s)]; ++i) out.wait(core, producer(s), free.at(s));
  }
}

}  // namespace tasim::workloads::lowering
