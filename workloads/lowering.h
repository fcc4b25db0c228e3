// Lowers a step's op graph to a tiled ISA program for one chip.
//
// Every op reads its inputs from HBM and writes its outputs to HBM. Within an op the work is
// split across cores (and, for matmuls, across each core's matrix units); each core streams
// tiles through fixed SRAM regions organised as rings of slots, with semaphores between every
// producer and consumer, and software pipelining so DMA runs ahead of compute. Per-core streams
// are merged round-robin so the in-order sequencer keeps every core fed. Between ops, each core's
// output engine tells every core that its outputs are in HBM before any core loads them.
#pragma once

#include <cstdint>
#include <string>

#include <memory>
#include <vector>

#include "isa/instruction_source.h"
#include "isa/isa.h"
#include "arch/arch_config.h"
#include "workloads/graph.h"

namespace tasim::workloads {

struct LoweringStats {
  std::uint64_t instructions = 0;
  int semaphores_used = 0;
};

// Tiles of one linear op: an m-block of rows, tn output columns, tk reduction.
struct LinearTiling {
  std::uint64_t mb = 0, tn = 0, tk = 0;
  double estimated_cycles = 0.0;
};

// How every core's SRAM is laid out (bytes). The compiler switches between plans at op
// boundaries (with a drain and a barrier): streaming for decode and attention, accumulating for
// matmuls with many rows.
struct SramPlan {
  enum class Kind { stream, accumulate } kind = Kind::stream;
  int c_slots = 2;            // accumulator slots per matrix unit
  std::uint64_t x_slot = 0;   // activation tile (2 slots, shared by the core's matrix units)
  std::uint64_t w_slot = 0;   // weight tile (3 slots per matrix unit)
  std::uint64_t c_slot = 0;   // fp32 accumulator tile (c_slots per matrix unit)
  std::uint64_t s_slot = 0;   // attention scores and Q (1 per matrix unit)
  std::uint64_t v_slot = 0;   // vector working block (2 slots) and the parameter slot
};
// The workers of an attention op: every matrix unit of the chip, each taking (sequence, KV head,
// query block) items round-robin.
int attention_workers(const ChipConfig& chip);

// How the compiler tiles an attention op (always in the streaming SRAM plan): key blocks of bk
// keys, query blocks of bq positions, items dealt round-robin over the workers, and its estimate
// of each item's array cycles (blocks_per_item x cycles_per_block). The serving step model scales
// its measured attention times by this estimate, so they follow the op's steps in batch, query and
// key length.
struct AttentionTiling {
  std::uint64_t bk = 0, bq = 0, q_blocks = 0, items = 0;
  int workers = 1;
  double blocks_per_item = 0;   // key blocks an item sweeps (causal: on average)
  double cycles_per_block = 0;  // two matmuls and the block's issue overhead
  std::uint64_t rounds() const { return (items + static_cast<std::uint64_t>(workers) - 1) / static_cast<std::uint64_t>(workers); }
  double estimated_cycles() const { return static_cast<double>(rounds()) * blocks_per_item * cycles_per_block; }
};
AttentionTiling choose_attention_tiling(const ChipConfig& chip, const AttentionShape& shape, isa::DType act_dtype,
                                        isa::DType kv_dtype);

SramPlan plan_sram(const ChipConfig& chip);             // streaming
SramPlan plan_sram_accumulate(const ChipConfig& chip);  // accumulating

// weight_dtype: the matrix unit's input dtype; storage: how the weights sit in HBM (nullptr: plain
// weight_dtype values).
LinearTiling choose_linear_tiling(const ChipConfig& chip, const SramPlan& plan, std::uint64_t m, std::uint64_t n,
                                  std::uint64_t k, isa::DType act_dtype, isa::DType weight_dtype,
                                  const WeightFormat* storage = nullptr);

namespace lowering {
struct StepLowering;
class AttentionLowering;
}

// A step's program compiled op by op as the simulator asks for instructions: the same
// instructions, in the same order, as lower_step's (which is built on it), but never all of them
// at once, so memory does not grow with the step. `graph` must outlive it. `layers` as lower_step's.
// Rounds of a non-causal attention op that LoweringStream compiles per piece: every core's items
// of 16 rounds (4 matrix units x 8 cores x 16 = 512 items on sohu-like), a few hundred thousand
// instructions for a DiT's 75,600 keys, where the whole op is tens of millions.
constexpr std::size_t kAttentionSliceRounds = 16;

class LoweringStream : public isa::InstructionSource {
 public:
  // `attention_slice_rounds`: 0 compiles every attention op whole (the same instructions: tests).
  LoweringStream(const StepGraph& graph, const ChipConfig& chip, int layers = -1,
                 std::size_t attention_slice_rounds = kAttentionSliceRounds);
  ~LoweringStream() override;
  bool next(const isa::Instruction*& first, std::size_t& count) override;
  const std::string& source_name() const override;
  const std::vector<std::string>& tags() const override;
  std::uint64_t instructions_given() const { return given_; }

 private:
  std::unique_ptr<lowering::StepLowering> step_;
  std::unique_ptr<lowering::AttentionLowering> attention_;  // an attention op handed out in slices
  int layers_;
  std::size_t attention_slice_rounds_;
  std::size_t next_op_ = 0;
  bool halted_ = false;
  std::vector<isa::Instruction> chunk_;
  std::uint64_t given_ = 0;
};

// `layers` >= 0: only the decoder layers below it and the ops outside the layers (layer reuse);
// HBM is laid out for the whole step all the same, so the program is the exact one's prefix
// layers and its tail, with the same addresses.
isa::Program lower_step(const StepGraph& graph, const ChipConfig& chip, LoweringStats* stats = nullptr,
                        int layers = -1);

}  // namespace tasim::workloads
