// What the step compiler allocates on each core: its semaphores (a named range each, in one
// numbering), the SRAM layout of the current plan, and rings of SRAM slots whose producers wait
// for the slots' previous consumers.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "workloads/lowering.h"
#include "workloads/lowering/emitter.h"

namespace tasim::workloads::lowering {

constexpr int kWeightSlotsPerUnit = 3;  // weight ring: two tiles in flight while one computes
constexpr int kMaxAccumulatorSlots = 2;

// Consecutive semaphores of one core, numbered from `first` (core-local numbers).
struct SemRange {
  int first = 0;
  int count = 0;
  int at(int i) const;  // throws Error (internal) for i outside [0, count)
};

// Hands out core-local semaphore numbers in order of request.
class SemaphoreAllocator {
 public:
  SemRange take(int count) {
    const SemRange r{next_, count};
    next_ += count;
    return r;
  }
  int used() const { return next_; }

 private:
  int next_ = 0;
};

// Every semaphore a core uses, each with exactly one waiting unit (with two waiters on one
// counting semaphore, one could take the signal meant for the other). The waiter is in brackets.
struct CoreSemaphores {
  SemRange done;             // the previous op's outputs of one core are in HBM [dma0]
  SemRange x_free;           // activation ring slots free [dma0]
  SemRange v_in;             // vector ring slot loaded [vector unit]
  SemRange v_out;            // vector ring slot computed [dma0]
  SemRange param_ready;      // gamma / rope table loaded [vector unit]
  SemRange exchange_stored;  // engine 1 stored an exchange's received rows [dma0]
  struct PerUnit {           // per matrix unit
    SemRange w_ready;        // weight slot loaded [matrix unit]
    SemRange w_free;         // weight slot consumed [its DMA engine]
    SemRange c_ready;        // accumulator done [dma0]
    SemRange c_free;         // accumulator stored [matrix unit]
    SemRange s_ready;        // attention scores written [vector unit]
    SemRange p_ready;        // attention probabilities written [matrix unit]
    SemRange q_ready;        // attention Q loaded [matrix unit]
    SemRange q_free;         // attention Q consumed [dma0]
    SemRange r_ready;        // stream-K partial sum done [vector unit]
    SemRange x_ready;        // activation slot loaded [matrix unit]
  };
  std::vector<PerUnit> unit;
  int per_core = 0;
};
CoreSemaphores allocate_core_semaphores(int matrix_units);

// Byte addresses of one core's SRAM regions under a plan.
struct SramLayout {
  SramPlan plan;
  int units = 1;
  std::uint64_t x_base = 0, w_base = 0, c_base = 0, s_base = 0, v_base = 0, p_base = 0;
  std::uint64_t x_slot(int s) const { return x_base + static_cast<std::uint64_t>(s) * plan.x_slot; }
  std::uint64_t w_slot(int unit, int s) const {
    return w_base + static_cast<std::uint64_t>(unit * kWeightSlotsPerUnit + s) * plan.w_slot;
  }
  std::uint64_t c_slot(int unit, int s) const {
    return c_base + static_cast<std::uint64_t>(unit * plan.c_slots + s) * plan.c_slot;
  }
  std::uint64_t s_slot(int unit) const { return s_base + static_cast<std::uint64_t>(unit) * plan.s_slot; }
  std::uint64_t v_slot(int s) const { return v_base + static_cast<std::uint64_t>(s) * plan.v_slot; }
};
// Throws Error (internal) when the plan exceeds the SRAM.
SramLayout layout_sram(const SramPlan& plan, int units, std::uint64_t capacity_bytes);

// Slots of a ring and the free signals each slot's last users still owe.
struct Ring {
  int slots = 0;
  int next = 0;
  std::vector<int> owed;
  // A held slot keeps its data past later acquisitions (a partial sum waiting for its
  // reduction): acquire skips it, so nobody waits for a release that comes later in program order.
  std::vector<bool> held;
  explicit Ring(int n = 0) : slots(n), owed(static_cast<std::size_t>(n), 0), held(static_cast<std::size_t>(n), false) {}

  // The producer's next slot: waits (on `producer` of core `core`) for every free signal its
  // previous users owe. `free` has one semaphore per slot.
  int acquire(Emitter& out, int core, isa::UnitRef producer, const SemRange& free);
  // The consumer is done with slot s: it signals the slot's free semaphore.
  void release(Emitter& out, int core, int s, isa::UnitRef consumer, const SemRange& free);
  // Waits, on each slot's producer, for every owed free signal (a drain before the SRAM layout
  // changes).
  void drain(Emitter& out, int core, const std::function<isa::UnitRef(int slot)>& producer, const SemRange& free) const;
};

}  // namespace tasim::workloads::lowering
