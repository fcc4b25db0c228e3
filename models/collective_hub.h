// Collective instructions of a multi-chip system: every chip runs the same program (SPMD), so the
// instructions with the same tag (its n-th use, if tags wrap) on every chip are one collective;
// tags, not arrival order, match them, since a chip's cores reach their collectives in any order.
// The hub
// registers it with the CollectiveEngine when the first chip reaches it, checks that the others
// agree (op, bytes, algorithm, tag), and blocks each chip's DMA engine until its part is done.
#pragma once

#include <map>
#include <tuple>
#include <string>
#include <utility>
#include <vector>

#include "isa/isa.h"
#include "arch/arch_config.h"
#include "models/collective_engine.h"

namespace tasim {

// Where an instruction is, formatted only when a message needs it: a chip's unit may stay
// suspended inside the hub forever (a peer that never comes), so nothing it holds may own memory.
struct InstructionSite {
  const std::string* source = nullptr;  // the program's source name (outlives the run)
  std::uint32_t line = 0;
  isa::Opcode op = isa::Opcode::halt;
  std::string text() const;  // "file:line (mnemonic)"
};

class CollectiveHub {
 public:
  CollectiveHub(CollectiveEngine& engine, std::vector<int> ring_order);
  // From chip `chip`'s DMA engine thread: runs its next collective; returns when its part is done,
  // with the collective's id in the engine (also for point_to_point).
  int run(int chip, const isa::Instruction& inst, InstructionSite where);
  // dma.send / dma.recv: the send on chip a to b and the recv on b from a with the same tag (its
  // n-th use on that pair) are one point-to-point transfer over the links; each side returns when
  // the data has arrived.
  int point_to_point(int chip, const isa::Instruction& inst, InstructionSite where);
  // For deadlock reports: the collective a chip is in (or -1) and who has not joined it.
  int current(int chip) const { return current_[static_cast<std::size_t>(chip)]; }
  std::string describe_waiting(int chip) const;
  int collectives() const { return static_cast<int>(ids_.size()); }
  CollectiveEngine& engine() { return engine_; }

 private:
  // Registers or matches chip's collective; returns its index (run() then waits for it).
  int join(int chip, const isa::Instruction& inst, InstructionSite where);
  struct Entry {
    isa::Opcode op;
    std::uint64_t bytes, tag, algo;
    InstructionSite where;  // the first chip's instruction, for messages
  };
  CollectiveEngine& engine_;
  std::vector<int> ring_order_;
  std::vector<std::map<std::uint64_t, int>> uses_;  // per chip: times each tag was seen
  std::map<std::tuple<std::uint64_t, int, int>, int> index_;  // (tag, use, group's first chip) -> collective
  std::vector<int> group_size_;  // per collective: chips taking part
  // Point to point: (src, dst, tag) -> uses by the sender and by the receiver, and the engine ids.
  std::map<std::tuple<int, int, std::uint64_t>, std::vector<int>> p2p_ids_;
  std::map<std::tuple<int, int, std::uint64_t, bool>, int> p2p_uses_;
  std::vector<int> joined_;   // per collective: chips that reached it
  std::vector<int> current_;  // per chip: the collective it is in, -1 when none
  std::vector<int> ids_;      // collective index -> engine id
  std::vector<Entry> entries_;
};

}  // namespace tasim
