#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "arch/activity.h"
#include "arch/test_chips.h"
#include "workloads/lowering.h"
#include "workloads/lowering/hbm_layout.h"
#include "workloads/model.h"

using namespace tasim;
using namespace tasim::workloads;

namespace {

using tasim::testing::two_core_chip;

RunSpec decode(int batch, int context) {
  RunSpec s;
  s.phase = Phase::decode;
  s.batch = batch;
  s.context_len = context;
  return s;
}

RunSpec prefill(int batch, int prompt) {
  RunSpec s;
  s.phase = Phase::prefill;
  s.batch = batch;
  s.prompt_len = prompt;
  return s;
}

}  // namespace

TEST_CASE("lowered steps validate and do at least the graph's matmul work", "[lowering]") {
  const ChipConfig chip = two_core_chip();
  for (const char* name : {"gpt-style-1b", "llama-3-8b", "qwen3-8b", "mixtral-8x7b"}) {
    const ModelConfig model = load_model(name);
    for (const RunSpec& spec : {decode(4, 64), prefill(1, 96)}) {
      const StepGraph graph = build_step_graph(model, spec);
      const isa::Program prog = lower_step(graph, chip);
      INFO(name << (spec.phase == Phase::prefill ? " prefill" : " decode"));
      REQUIRE_NOTHROW(isa::validate(prog, target_limits(chip)));
      std::uint64_t linear_flops = 0, program_flops = 0;
      for (const auto& op : graph.ops) {
        if (op.kind == OpKind::linear) linear_flops += 2 * op.matmul().m * op.matmul().n * op.matmul().k;
      }
      for (const auto& inst : prog.instructions) program_flops += isa::matmul_flops(inst);
      CHECK(program_flops >= linear_flops);
      // Every op is tagged, in graph order.
      CHECK(prog.tags.size() == graph.ops.size());
      CHECK(prog.tags.front() == graph.ops.front().name);
    }
  }
}

TEST_CASE("a dense linear lowers to exactly its FLOPs", "[lowering]") {
  const ChipConfig chip = two_core_chip();
  const ModelConfig model = load_model("llama-3-8b");
  const StepGraph graph = build_step_graph(model, decode(3, 16));
  const isa::Program prog = lower_step(graph, chip);
  // Sum matmul FLOPs per tag and compare the linear ops to 2 m n k.
  std::vector<std::uint64_t> per_tag(prog.tags.size() + 1, 0);
  for (const auto& inst : prog.instructions) per_tag[inst.tag] += isa::matmul_flops(inst);
  for (std::size_t t = 1; t <= prog.tags.size(); ++t) {
    const Op& op = graph.ops[t - 1];
    REQUIRE(op.name == prog.tags[t - 1]);
    if (op.kind == OpKind::linear) CHECK(per_tag[t] == 2 * op.matmul().m * op.matmul().n * op.matmul().k);
  }
}

TEST_CASE("lowering is deterministic", "[lowering]") {
  const ChipConfig chip = two_core_chip();
  const StepGraph graph = build_step_graph(load_model("qwen2-7b"), decode(2, 32));
  const auto a = isa::encode(lower_step(graph, chip));
  const auto b = isa::encode(lower_step(graph, chip));
  CHECK(a == b);
}

TEST_CASE("linear tiles fit their SRAM slots and the field widths", "[lowering]") {
  const ChipConfig chip = two_core_chip();
  const SramPlan plan = plan_sram(chip);
  for (auto [m, n, k] : {std::tuple{1ull, 4096ull, 4096ull}, std::tuple{2048ull, 14336ull, 4096ull},
                         std::tuple{64ull, 128256ull, 4096ull}, std::tuple{7ull, 3ull, 5ull}}) {
    const LinearTiling t = choose_linear_tiling(chip, plan, m, n, k, isa::DType::bf16, isa::DType::bf16);
    CHECK(t.mb >= 1);
    CHECK(t.mb <= 65535);
    CHECK(t.tk * t.tn * 2 <= plan.w_slot);
    CHECK(t.mb * t.tk * 2 <= plan.x_slot);
    CHECK(t.mb * t.tn * 4 <= plan.c_slot);
  }
}

TEST_CASE("a model that does not fit in HBM is a clear error", "[lowering]") {
  ChipConfig chip = two_core_chip();
  chip.hbm.capacity_bytes = 1ull << 30;
  const StepGraph graph = build_step_graph(load_model("llama-3-8b"), decode(1, 16));
  CHECK_THROWS_WITH(lower_step(graph, chip), Catch::Contains("HBM"));
}

TEST_CASE("too few semaphores for the compiler is a clear error", "[lowering]") {
  ChipConfig chip = two_core_chip();
  chip.semaphores = 16;
  const StepGraph graph = build_step_graph(load_model("gpt-style-1b"), decode(1, 16));
  CHECK_THROWS_WITH(lower_step(graph, chip), Catch::Contains("semaphores"));
}

TEST_CASE("every semaphore of a lowered program has one waiting unit", "[lowering][sync]") {
  // Two units waiting on one counting semaphore could take each other's signals (deadlock).
  const ChipConfig chip = two_core_chip();
  for (const char* name : {"llama-3-8b", "mixtral-8x7b"}) {
    for (const RunSpec& spec : {decode(8, 300), prefill(2, 200)}) {
      const isa::Program prog = lower_step(build_step_graph(load_model(name), spec), chip);
      std::map<std::uint64_t, std::set<std::uint64_t>> waiters;  // sem -> (core, unit) codes
      for (const auto& inst : prog.instructions) {
        if (inst.op != isa::Opcode::sem_wait) continue;
        waiters[inst.get(isa::Field::sem)].insert(inst.get(isa::Field::core) << 8 | inst.get(isa::Field::unit));
      }
      REQUIRE(!waiters.empty());
      for (const auto& [sem, units] : waiters) {
        INFO(name << " semaphore " << sem);
        CHECK(units.size() == 1);
      }
    }
  }
}

TEST_CASE("expert-parallel dispatch sends each chip the share of tokens its experts get", "[lowering][ep]") {
  ChipConfig chip = two_core_chip();
  chip.system.chips = 4;
  const ModelConfig model = load_model("mixtral-8x7b");
  RunSpec spec = decode(64, 64);  // 16 tokens per chip, 32 token-expert pairs
  spec.ep = 4;
  spec.ep_rank = 1;
  // Experts 0 and 1 (chip 0's) carry 8 times the load of the others.
  spec.expert_load = {8, 8, 1, 1, 1, 1, 1, 1};
  const isa::Program prog = lower_step(build_step_graph(model, spec), chip);
  std::map<std::uint64_t, std::uint64_t> dispatch_bytes;  // destination chip -> bytes (layer 0)
  for (const auto& inst : prog.instructions) {
    if (inst.op == isa::Opcode::dma_send && prog.tag_name(inst.tag) == "layer0.mlp.dispatch") {
      dispatch_bytes[inst.get(isa::Field::chip)] += inst.get(isa::Field::bytes);
    }
  }
  REQUIRE(dispatch_bytes.size() == 3);  // chips 0, 2, 3: not to itself
  CHECK(dispatch_bytes.count(1) == 0);
  // Chip 0's share is 16/22, chip 2's 2/22: 8 times the traffic (rounded to whole rows).
  const double ratio = static_cast<double>(dispatch_bytes[0]) / static_cast<double>(dispatch_bytes[2]);
  CHECK(ratio == Approx(8.0).epsilon(0.1));
  CHECK(dispatch_bytes[2] == dispatch_bytes[3]);
}

TEST_CASE("with software.kernel_boundary_ns every op is a kernel: one barrier.kernel between each two", "[lowering]") {
  ChipConfig chip = two_core_chip();
  const StepGraph graph = build_step_graph(load_model("llama-3-8b"), decode(3, 16));
  auto boundaries = [&](const isa::Program& prog) {
    std::vector<std::uint64_t> cycles;
    for (const auto& inst : prog.instructions) {
      if (inst.op == isa::Opcode::kernel_boundary) cycles.push_back(inst.get(isa::Field::cycles));
    }
    return cycles;
  };
  CHECK(boundaries(lower_step(graph, chip)).empty());  // off by default: ASIC presets have none
  chip.software.kernel_boundary_ns = 2500;                // 2.5 us at the chip's clock, rounded up
  const isa::Program prog = lower_step(graph, chip);
  REQUIRE_NOTHROW(isa::validate(prog, target_limits(chip)));
  const auto cycles = boundaries(prog);
  CHECK(cycles.size() == graph.ops.size() - 1);
  for (const std::uint64_t c : cycles) {
    CHECK(c == static_cast<std::uint64_t>(std::ceil(2500 * chip.clock_ghz)));
  }
}

TEST_CASE("with software.unfused_elementwise, rotary and SiLU x up move eager PyTorch's bytes", "[lowering][eager]") {
  ChipConfig chip = two_core_chip();
  const StepGraph graph = build_step_graph(load_model("llama-3-8b"), decode(3, 16));
  // HBM bytes read and written by the first rope and the first activation op.
  auto bytes = [&](const ChipConfig& c, OpKind kind) {
    const isa::Program prog = lower_step(graph, c);
    REQUIRE_NOTHROW(isa::validate(prog, target_limits(c)));
    std::size_t tag = 0;
    for (std::size_t t = 1; t <= prog.tags.size() && tag == 0; ++t) {
      if (graph.ops[t - 1].kind == kind) tag = t;
    }
    REQUIRE(tag > 0);
    Activity a;
    for (const auto& inst : prog.instructions) {
      if (inst.tag == tag) a += instruction_activity(inst);
    }
    return std::pair{a.hbm_bytes_read, a.hbm_bytes_written};
  };
  // 3 rows; rope over q and k: (32 + 8) x 128 = 5120 bf16 values per row (RW = 3 x 5120 = 15360
  // values, 2 bytes each); SwiGLU: [gate | up] of 2 x 14336 in, 14336 out (RI = 3 x 14336).
  const std::uint64_t rw = 3ull * 5120 * 2, ri = 3ull * 14336 * 2;
  const auto [fused_rope_read, fused_rope_written] = bytes(chip, OpKind::rope);
  const auto [fused_act_read, fused_act_written] = bytes(chip, OpKind::activation);
  CHECK(fused_rope_written == rw);
  CHECK(fused_act_read == 2 * ri);
  CHECK(fused_act_written == ri);
  chip.software.unfused_elementwise = true;
  // Rope: x1*cos, x2*sin, x2*cos, x1*sin (half rows in, half out), a difference and a sum (two
  // halves in, one out), the concatenation (whole rows in and out): writes 4 x 1/2 + 2 x 1/2 + 1 =
  // 4 tensors, reads 4 x 1/2 + 2 x 1 + 1 = 5, plus each multiply's parameter block (cos and sin
  // for half a row: half the fused op's).
  const auto [rope_read, rope_written] = bytes(chip, OpKind::rope);
  CHECK(rope_written == 4 * rw);
  CHECK(rope_read >= 5 * rw);
  CHECK(rope_read - 5 * rw == 4 * (fused_rope_read - rw) / 2);
  // SiLU x up: silu(gate) reads and writes a half; the multiply reads it and up, writes the output.
  const auto [act_read, act_written] = bytes(chip, OpKind::activation);
  CHECK(act_read == 3 * ri);
  CHECK(act_written == 2 * ri);
}

TEST_CASE("the HBM layout holds every expert, and a sliding layer's cache only its window", "[lowering][frontier]") {
  ChipConfig chip = two_core_chip();
  const ModelConfig model = load_model("gpt-oss-20b");  // 24 layers: sliding (window 128) and full alternate
  // A decode at 4095 cached tokens (4096 positions after the step), bf16: 2 x 8 KV heads x 64 x 2
  // bytes = 2048 bytes per token and layer; 12 full layers hold 4096 tokens, 12 sliding ones 128.
  const StepGraph graph = build_step_graph(model, decode(1, 4095));
  const lowering::HbmLayout layout(graph, chip, "gpt-oss-20b");
  CHECK(layout.kv_reserved_bytes() == 12ull * 4096 * 2048 + 12ull * 128 * 2048);  // 103,809,024
  CHECK(model.kv_bytes_for_sequence(4096, 2) == 103'809'024ull);
  CHECK(model.kv_bytes_per_token(2) == 24ull * 2048);  // while the windows fill
  CHECK(graph.kv_cache_bytes() == 103'809'024ull);
  // One token decoded reaches 4 of 32 experts per layer, but all 32 are resident: the weights take
  // every parameter's bytes (norm gammas and biases at bf16 too), plus at most one 4 KiB alignment
  // per op.
  const std::uint64_t all = graph.weight_bytes();
  CHECK(layout.weights_end() >= all);
  CHECK(layout.weights_end() <= all + graph.ops.size() * 4096);
  // ...so a chip with room for the experts a step touches but not for all of them is refused.
  // (The model is 12.8 GiB with its MXFP4 experts; a step's tokens reach an eighth of them.)
  chip.hbm.capacity_bytes = all - (1ull << 30);
  CHECK_THROWS_WITH(lowering::HbmLayout(graph, chip, "gpt-oss-20b"),
                    Catch::Matchers::Contains("needs") && Catch::Matchers::Contains("HBM"));
}

TEST_CASE("a sliding layer's prefill reads the prompt's keys from a transient buffer, not its cache",
          "[lowering][frontier]") {
  const ChipConfig chip = two_core_chip();
  const ModelConfig model = load_model("gpt-oss-20b");
  const StepGraph graph = build_step_graph(model, prefill(2, 1024));
  const lowering::HbmLayout layout(graph, chip, "gpt-oss-20b");
  // Each layer's region: 2 sequences x (1024 or 128) tokens x 2048 bytes.
  CHECK(layout.kv_reserved_bytes() == 12ull * 2 * 1024 * 2048 + 12ull * 2 * 128 * 2048);
  CHECK(layout.kv_cache(1) - layout.kv_cache(0) == 2ull * 128 * 2048);  // layer 0 is sliding
  for (std::size_t i = 0; i < graph.ops.size(); ++i) {
    const Op& op = graph.ops[i];
    if (op.kind != OpKind::attention) continue;
    INFO(op.name);
    const bool sliding = model.attention_of(op.layer) == LayerAttention::sliding;
    CHECK((layout.attention_kv(i) == layout.kv_cache(op.layer)) == !sliding);
  }
  REQUIRE_NOTHROW(lower_step(graph, chip));
}

namespace {

// Every instruction a stream hands out, in order (op, fields and tag).
std::vector<std::tuple<isa::Opcode, std::array<std::uint64_t, isa::kMaxFields>, std::uint32_t>> stream_of(
    const StepGraph& graph, const ChipConfig& chip, std::size_t slice_rounds) {
  LoweringStream stream(graph, chip, -1, slice_rounds);
  std::vector<std::tuple<isa::Opcode, std::array<std::uint64_t, isa::kMaxFields>, std::uint32_t>> out;
  const isa::Instruction* first = nullptr;
  std::size_t count = 0;
  while (stream.next(first, count)) {
    for (std::size_t i = 0; i < count; ++i) out.emplace_back(first[i].op, first[i].value, first[i].tag);
  }
  return out;
}

}  // namespace

TEST_CASE("a non-causal attention op handed out in slices is the whole op's program", "[lowering][dit]") {
  // A DiT's self- and cross-attention (tiny-wan: 2 samples x 4 heads x 288 tokens) and a decode
  // (non-causal, one query) over several rounds per unit; slices of 1 and 3 rounds against the
  // whole op. A causal prefill is lowered whole either way.
  const ChipConfig chip = two_core_chip();
  RunSpec video;
  video.phase = Phase::denoise;
  video.video_frames = 9;
  video.video_height = 128;
  video.video_width = 192;
  const StepGraph dit = build_step_graph(
      load_model(std::string(TASIM_SOURCE_DIR) + "/tests/data/frontier/tiny-wan.json"), video);
  const StepGraph llm = build_step_graph(load_model("gpt-style-1b"), decode(8, 300));
  for (const StepGraph* g : {&dit, &llm}) {
    const auto whole = stream_of(*g, chip, 0);
    REQUIRE(whole.size() > 1000);
    CHECK(stream_of(*g, chip, 1) == whole);
    CHECK(stream_of(*g, chip, 3) == whole);
  }
}
