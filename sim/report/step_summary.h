// A model step end to end: model + run spec -> op graph -> program -> simulation -> summary
// (step time, tokens/s, MFU, roofline, where the time goes per op).
#pragma once

#include <string>
#include <vector>

#include "isa/isa.h"
#include "arch/arch_config.h"
#include "arch/run_stats.h"
#include "sim/report/layer_reuse.h"
#include "sim/report/op_profile.h"
#include "workloads/graph.h"

namespace tasim {

struct OpRow {
  std::string op;          // op kind name shared by every layer ("attn.qkv", "lm_head")
  int instances = 0;       // how many ops of the graph (one per layer for layer ops)
  double seconds = 0.0;    // simulated time attributed to it (overlaps shared)
  double share = 0.0;      // of the step time
  std::uint64_t flops = 0;       // analytic
  std::uint64_t hbm_bytes = 0;   // analytic
  double roofline_seconds = 0.0;  // max(flops / peak, bytes / bandwidth), summed over instances
  const char* bound = "memory";   // which term of the roofline dominates
};

// A model's checkpoint weight format as the run applies it.
struct WeightFormatSummary {
  std::string method;  // quant_method; "" = the config has none
  bool applied = false;  // false: --dtype / --weight-dtype put every weight at weight_dtype
  workloads::WeightFormat format;
  std::vector<std::string> modules;  // the parts stored in it
  isa::DType matmul_dtype = isa::DType::bf16;  // what the matrix unit multiplies them in on this arch
  bool dequantized() const { return applied && matmul_dtype != format.compute_dtype; }
};
WeightFormatSummary summarize_weight_format(const workloads::ModelConfig& model, const workloads::RunSpec& spec,
                                            const ChipConfig& chip);
// One line: the format, its bits per value, the parts, and whether the arch dequantizes it.
std::string weight_format_text(const WeightFormatSummary& w, const workloads::RunSpec& spec);

struct StepSummary {
  std::string model;
  workloads::RunSpec spec;
  std::uint64_t params = 0;
  std::uint64_t active_params = 0;       // parameters a token reads (MoE: its experts only)
  std::uint64_t kv_bytes_per_token = 0;  // KV cache bytes one token adds over every layer
  WeightFormatSummary weight_format;     // the config's quantization_config (method "" when none)
  std::uint64_t weight_bytes = 0;
  std::uint64_t kv_cache_bytes = 0;
  std::uint64_t tokens = 0;
  double step_seconds = 0.0;
  double tokens_per_second = 0.0;
  double ttft_seconds = 0.0;  // prefill: the step produces the first token
  // denoise (a DiT): denoise_steps x step_seconds for the batch's videos; per video (the batch's
  // time / its videos); video frames generated per second.
  double generation_seconds = 0.0;
  double seconds_per_video = 0.0;
  double video_fps = 0.0;
  double mfu = 0.0;           // analytic FLOPs / (step time x peak at the weight dtype)
  std::uint64_t analytic_flops = 0;
  std::uint64_t analytic_hbm_bytes = 0;
  double roofline_seconds = 0.0;
  const char* roofline_bound = "memory";
  double sim_over_roofline = 0.0;
  double energy_j = 0.0;          // the step's energy, every chip (arch/cost_model.h)
  double tokens_per_joule = 0.0;  // the tokens counted by tokens_per_second, per joule
  std::vector<OpRow> ops;
  double clock_ghz = 1.0;  // of the chip, for the layer period in seconds
  LayerReuse layers;  // which layers were simulated; the others extrapolated (layer_reuse.h)
};

// The peak FLOP/s a roofline may assume for this spec: the fastest dtype any of its matmuls uses.
// With `model`, its checkpoint-format weights' matmul dtype counts too (MXFP4 on an fp4 array).
double roofline_peak_flops(const ChipConfig& chip, const workloads::RunSpec& spec,
                           const workloads::ModelConfig* model = nullptr);
// max(flops / peak, bytes / HBM bandwidth) in seconds.
double roofline_seconds(const ChipConfig& chip, const workloads::RunSpec& spec, std::uint64_t flops,
                        std::uint64_t hbm_bytes, const workloads::ModelConfig* model = nullptr);

// `all_chips`: under expert parallelism, every chip's graph (their totals add up); otherwise the
// graph is one chip's share repeated spec.tp times.
// `reuse`: how the run's layers were simulated (nullptr: every layer); the per-op times of the
// layers not simulated are the last simulated layer's.
// `tags`: the program's tag table (isa::Program::tags), by which the profile's tags are named.
StepSummary summarize_step(const workloads::StepGraph& graph, const ChipConfig& chip, const std::vector<std::string>& tags,
                           const RunStats& stats, const OpProfiler& profile,
                           const std::vector<workloads::StepGraph>* all_chips = nullptr,
                           const LayerReuse* reuse = nullptr);

std::string step_report_text(const StepSummary& step);
// Adds the step's keys to a JSON object being written (see docs/outputs.md).
class JsonWriter;
void step_report_json(JsonWriter& j, const StepSummary& step);

}  // namespace tasim
