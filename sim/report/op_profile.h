// Where the time goes, per op: an observer that records, for every op tag, when its
// instructions ran and what they did, and turns that into per-op time with overlaps shared.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isa/isa.h"
#include "arch/observer.h"

namespace tasim {

struct OpSpan {
  std::uint64_t first_cycle = UINT64_MAX;  // earliest start of the op's timed instructions
  std::uint64_t last_cycle = 0;            // latest end
  std::uint64_t flops = 0;                 // simulated (matmul) FLOPs
  std::uint64_t hbm_bytes = 0;             // simulated DMA bytes to/from HBM
  std::uint64_t instructions = 0;
  bool seen() const { return instructions > 0; }
};

class OpProfiler : public ExecutionObserver {
 public:
  OpProfiler() = default;  // tags as they come
  explicit OpProfiler(const isa::Program& program);
  void on_instruction(int unit, const isa::Instruction& inst, std::uint64_t start_cycle,
                      std::uint64_t end_cycle, const Activity& activity) override;
  // Per tag (index = tag, 0 = untagged).
  const std::vector<OpSpan>& spans() const { return spans_; }
  // Cycles attributed to each tag: every cycle covered by some op's span is shared equally by
  // the ops whose spans cover it, so the attributions add up to the covered time.
  std::vector<double> attributed_cycles() const;

 private:
  std::vector<OpSpan> spans_ = std::vector<OpSpan>(1);
};

// "layer3.attn.qkv" -> "attn.qkv" (the same op in every layer); other names unchanged.
std::string op_kind_of_tag(std::string_view tag);
// "layer3.attn.qkv" -> "layer3"; "" for names outside the layers.
std::string layer_of_tag(std::string_view tag);
// "layer3.attn.qkv" -> 3; -1 for names outside the layers.
int layer_index_of_tag(std::string_view tag);

// Forwards every call to several observers.
class ObserverFanout : public ExecutionObserver {
 public:
  void add(ExecutionObserver* o) {
    if (o) observers_.push_back(o);
  }
  void on_instruction(int unit, const isa::Instruction& inst, std::uint64_t s, std::uint64_t e,
                      const Activity& activity) override {
    for (auto* o : observers_) o->on_instruction(unit, inst, s, e, activity);
  }
  void on_sram_footprint(int core, std::uint64_t cycle, std::uint64_t bytes) override {
    for (auto* o : observers_) o->on_sram_footprint(core, cycle, bytes);
  }

 private:
  std::vector<ExecutionObserver*> observers_;
};

}  // namespace tasim
