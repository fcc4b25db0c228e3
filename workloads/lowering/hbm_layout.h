// Where a step's data lives in HBM: every op's weights (one copy per op name: a pipeline stage
// repeats its layers per micro-batch with the same weights; every expert of this chip, not only
// those a step reaches), then the KV cache of the layers this chip holds (a sliding layer's holds
// only the window), then a rotating arena of activation buffers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/arch_config.h"
#include "workloads/graph.h"

namespace tasim::workloads::lowering {

class HbmLayout {
 public:
  // Throws Error when the step needs more HBM than the chip has.
  HbmLayout(const StepGraph& graph, const ChipConfig& chip, const std::string& program_name);

  std::uint64_t weights(std::size_t op_index) const { return weight_addr_[op_index]; }
  // The KV cache of `layer` (a layer of this chip's pipeline stage).
  std::uint64_t kv_cache(int layer) const;
  // Where attention op `op_index` reads its keys and values: its layer's cache, or the transient
  // buffer of a sliding or chunked layer's prefill (which reads more than the cache keeps).
  std::uint64_t attention_kv(std::size_t op_index) const { return attention_kv_[op_index]; }
  std::uint64_t kv_reserved_bytes() const { return kv_reserved_bytes_; }  // every held layer's region
  std::uint64_t weights_end() const { return weights_end_; }  // the weights take [0, weights_end)
  // Activations rotate through kArenaSlots buffers: op i writes slot i % kArenaSlots, and no
  // input is older than the residual stream (a handful of ops back).
  std::uint64_t output(std::size_t op_index) const { return arena_base_ + (op_index % kArenaSlots) * arena_slot_; }
  std::uint64_t input(std::size_t op_index) const { return op_index == 0 ? arena_base_ : output(op_index - 1); }
  // The residual stream an add combines with: the output two "blocks" back is approximated by
  // the slot before the previous op (addresses only matter for channel interleaving).
  std::uint64_t residual(std::size_t op_index) const { return op_index >= 2 ? output(op_index - 2) : arena_base_; }

 private:
  static constexpr std::uint64_t kArenaSlots = 16;
  static constexpr std::uint64_t kAlignBytes = 4096;
  std::uint64_t alloc(std::uint64_t bytes);
  // The rotating activation arena after everything else; throws when HBM is too small.
  void allocate_arena(const StepGraph& graph, const ChipConfig& chip, const std::string& program_name);

  std::uint64_t next_ = 0;
  std::vector<std::uint64_t> weight_addr_;
  std::map<std::string, std::uint64_t> weight_by_name_;
  int first_layer_ = 0;
  std::vector<std::uint64_t> kv_layer_base_;  // per held layer
  std::vector<std::uint64_t> attention_kv_;   // per op (attention ops only)
  std::uint64_t weights_end_ = 0, kv_reserved_bytes_ = 0, arena_base_ = 0, arena_slot_ = 0;
};

// Bytes an op writes to its output buffer (activation dtype).
std::uint64_t output_bytes(const StepGraph& graph, const Op& op);

}  // namespace tasim::workloads::lowering
