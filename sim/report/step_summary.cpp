#include "sim/report/step_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "arch/cost_model.h"
#include "arch/arch_figures.h"
#include "common/json_writer.h"
#include "sim/report/report.h"

namespace tasim {

using workloads::Phase;

// The peak of the dtype a model's checkpoint-format weights multiply in (0 when it has none).
static double checkpoint_peak_flops(const ChipConfig& chip, const workloads::RunSpec& spec,
                                    const workloads::ModelConfig* model) {
  if (model == nullptr || !spec.checkpoint_weights || !model->quantization.any()) return 0.0;
  return peak_matrix_flops_per_s(chip, workloads::matmul_dtype(chip.core.matrix, model->quantization.format.compute_dtype));
}

double roofline_peak_flops(const ChipConfig& chip, const workloads::RunSpec& spec, const workloads::ModelConfig* model) {
  return std::max({peak_matrix_flops_per_s(chip, spec.weight_dtype), peak_matrix_flops_per_s(chip, spec.kv_dtype),
                   peak_matrix_flops_per_s(chip, spec.act_dtype), checkpoint_peak_flops(chip, spec, model)});
}

double roofline_seconds(const ChipConfig& chip, const workloads::RunSpec& spec, std::uint64_t flops,
                        std::uint64_t hbm_bytes, const workloads::ModelConfig* model) {
  return std::max(static_cast<double>(flops) / roofline_peak_flops(chip, spec, model),
                  static_cast<double>(hbm_bytes) / hbm_peak_bytes_per_s(chip));
}

WeightFormatSummary summarize_weight_format(const workloads::ModelConfig& model, const workloads::RunSpec& spec,
                                            const ChipConfig& chip) {
  WeightFormatSummary w;
  if (!model.quantization.any()) return w;
  w.method = model.quantization.method;
  w.applied = spec.checkpoint_weights;
  w.format = model.quantization.format;
  for (int m = 0; m < workloads::kNumWeightModules; ++m) {
    if (model.quantization.converted[m]) w.modules.push_back(workloads::weight_module_name(static_cast<workloads::WeightModule>(m)));
  }
  w.matmul_dtype = workloads::matmul_dtype(chip.core.matrix, w.format.compute_dtype);
  return w;
}

StepSummary summarize_step(const workloads::StepGraph& graph, const ChipConfig& chip, const std::vector<std::string>& tags,
                           const RunStats& stats, const OpProfiler& profile,
                           const std::vector<workloads::StepGraph>* all_chips, const LayerReuse* reuse) {
  StepSummary s;
  if (reuse) {
    s.layers = *reuse;
  } else {
    s.layers.layers = s.layers.simulated = 0;
  }
  s.model = graph.model.name;
  s.spec = graph.spec;
  s.params = graph.model.params();
  s.active_params = graph.model.active_params_per_token();
  s.kv_bytes_per_token = graph.model.kv_bytes_per_token(isa::dtype_bytes(graph.spec.kv_dtype));
  s.weight_format = summarize_weight_format(graph.model, graph.spec, chip);
  s.weight_bytes = graph.weight_bytes();
  s.kv_cache_bytes = graph.kv_cache_bytes();
  s.tokens = graph.spec.tokens();
  s.step_seconds = stats.seconds();
  s.clock_ghz = chip.clock_ghz;
  const double produced = graph.spec.phase == Phase::decode ? graph.spec.batch : static_cast<double>(s.tokens);
  s.tokens_per_second = s.step_seconds > 0 ? produced / s.step_seconds : 0.0;
  s.ttft_seconds = graph.spec.phase == Phase::prefill ? s.step_seconds : 0.0;
  if (graph.spec.phase == Phase::denoise) {
    // Every denoising step runs the same shapes (only the timestep's values change), so a
    // generation is steps x the step; the solver's update of the latents is left out.
    s.generation_seconds = s.step_seconds * graph.spec.denoise_steps;
    s.seconds_per_video = s.generation_seconds / graph.spec.batch;
    s.video_fps = s.generation_seconds > 0
                      ? static_cast<double>(graph.spec.video_frames) * graph.spec.batch / s.generation_seconds
                      : 0.0;
  }
  // The graph is one chip's share under tensor parallelism; the step's totals are every chip's.
  std::uint64_t chips = static_cast<std::uint64_t>(std::max(1, graph.spec.tp));
  s.analytic_flops = graph.flops() * chips;
  s.analytic_hbm_bytes = graph.hbm_bytes() * chips;
  if (all_chips && all_chips->size() > 1) {
    chips = all_chips->size();
    s.analytic_flops = s.analytic_hbm_bytes = 0;
    for (const auto& g : *all_chips) {
      s.analytic_flops += g.flops();
      s.analytic_hbm_bytes += g.hbm_bytes();
    }
  }
  const double peak = std::max(peak_matrix_flops_per_s(chip, graph.spec.weight_dtype),
                               checkpoint_peak_flops(chip, graph.spec, &graph.model)) *
                      static_cast<double>(chips);
  s.mfu = s.step_seconds > 0 ? static_cast<double>(s.analytic_flops) / (s.step_seconds * peak) : 0.0;
  // The roofline of the busiest chip (all chips do the same share).
  s.roofline_seconds = roofline_seconds(chip, graph.spec, graph.flops(), graph.hbm_bytes(), &graph.model);
  s.roofline_bound = static_cast<double>(graph.flops()) / roofline_peak_flops(chip, graph.spec, &graph.model) >=
                             static_cast<double>(graph.hbm_bytes()) / hbm_peak_bytes_per_s(chip)
                         ? "compute"
                         : "memory";
  s.sim_over_roofline = s.roofline_seconds > 0 ? s.step_seconds / s.roofline_seconds : 0.0;
  s.energy_j = run_energy(chip, stats.activity, s.step_seconds, stats.chips).total_j();
  s.tokens_per_joule = s.energy_j > 0 ? produced / s.energy_j : 0.0;

  // Group the graph's ops by kind name, in order of first appearance.
  const std::vector<double> attributed = profile.attributed_cycles();
  std::map<std::string, std::size_t> row_of;
  double compute_s = 0, memory_s = 0;
  std::vector<std::pair<double, double>> terms;  // per row: compute and memory seconds
  for (const auto& op : graph.ops) {
    const std::string kind = op_kind_of_tag(op.name);
    auto [it, fresh] = row_of.emplace(kind, s.ops.size());
    if (fresh) {
      s.ops.push_back(OpRow{kind});
      terms.emplace_back(0.0, 0.0);
    }
    OpRow& row = s.ops[it->second];
    ++row.instances;
    row.flops += op.flops;
    row.hbm_bytes += op.hbm_bytes();
    row.roofline_seconds += roofline_seconds(chip, graph.spec, op.flops, op.hbm_bytes(), &graph.model);
    compute_s = static_cast<double>(op.flops) / roofline_peak_flops(chip, graph.spec, &graph.model);
    memory_s = static_cast<double>(op.hbm_bytes()) / hbm_peak_bytes_per_s(chip);
    terms[it->second].first += compute_s;
    terms[it->second].second += memory_s;
  }
  // Each layer not simulated takes one period, shared among its ops as the last simulated
  // layer's time was (so the ops' times still add up to the step's).
  const int last_simulated = s.layers.applied() ? s.layers.simulated - 1 : -1;
  double last_layer_cycles = 0.0;
  for (std::size_t t = 1; t <= tags.size() && t < attributed.size(); ++t) {
    if (last_simulated >= 0 && layer_index_of_tag(tags[t - 1]) == last_simulated) last_layer_cycles += attributed[t];
  }
  const double extrapolated_cycles = s.layers.period_cycles * s.layers.extrapolated();
  for (std::size_t t = 1; t <= tags.size() && t < attributed.size(); ++t) {
    auto it = row_of.find(op_kind_of_tag(tags[t - 1]));
    if (it == row_of.end()) continue;
    double cycles = attributed[t];
    if (last_layer_cycles > 0 && layer_index_of_tag(tags[t - 1]) == last_simulated) {
      cycles += extrapolated_cycles * attributed[t] / last_layer_cycles;
    }
    s.ops[it->second].seconds += cycles / (chip.clock_ghz * 1e9);
  }
  for (std::size_t i = 0; i < s.ops.size(); ++i) {
    s.ops[i].share = s.step_seconds > 0 ? s.ops[i].seconds / s.step_seconds : 0.0;
    s.ops[i].bound = terms[i].first >= terms[i].second ? "compute" : "memory";
  }
  return s;
}

std::string weight_format_text(const WeightFormatSummary& w, const workloads::RunSpec& spec) {
  if (!w.applied) {
    return fmt::format("{} in the config, replaced by --dtype/--weight-dtype: every weight {}", w.format.name,
                       isa::dtype_name(spec.weight_dtype));
  }
  std::string out = fmt::format("{} ({:.6g} bits/value, scales included) for {}; other weights {}", w.format.name,
                                w.format.bits_per_value(), fmt::join(w.modules, ", "), isa::dtype_name(spec.weight_dtype));
  if (w.dequantized()) {
    out += fmt::format("; matmuls at {}: the arch has no {} rate, weights dequantized on the way in",
                       isa::dtype_name(w.matmul_dtype), isa::dtype_name(w.format.compute_dtype));
  } else {
    out += fmt::format("; matmuls at {}", isa::dtype_name(w.matmul_dtype));
  }
  return out;
}

using workloads::phase_name;

std::string step_report_text(const StepSummary& s) {
  std::string out;
  const auto& spec = s.spec;
  out += fmt::format("  model            {} ({:.3f} B params, {} of weights)\n", s.model, s.params / 1e9,
                     format_bytes(static_cast<double>(s.weight_bytes)));
  if (spec.phase == Phase::denoise) {
    out += fmt::format("  workload         denoise batch {} video(s) of {} frames x {}x{}, {} latent tokens each, CFG {} "
                       "({} samples), weights {} / activations {}\n",
                       spec.batch, spec.video_frames, spec.video_width, spec.video_height, spec.latent_tokens,
                       spec.cfg ? "on" : "off", spec.samples(), isa::dtype_name(spec.weight_dtype),
                       isa::dtype_name(spec.act_dtype));
  } else {
    out += fmt::format("  workload         {} batch {}, {} {}, weights {} / activations {} / KV {}\n",
                       phase_name(spec.phase), spec.batch, spec.phase == Phase::prefill ? "prompt" : "context",
                       spec.phase == Phase::prefill ? spec.prompt_len : spec.context_len,
                       isa::dtype_name(spec.weight_dtype), isa::dtype_name(spec.act_dtype), isa::dtype_name(spec.kv_dtype));
  }
  if (!s.weight_format.method.empty()) out += fmt::format("  weight format    {}\n", weight_format_text(s.weight_format, spec));
  out += fmt::format("  step latency     {}\n", format_seconds(s.step_seconds));
  if (spec.phase == Phase::denoise) {
    out += fmt::format("  generation       {} steps: {} per generation, {} per video, {:.3f} video frames/s\n",
                       spec.denoise_steps, format_seconds(s.generation_seconds), format_seconds(s.seconds_per_video),
                       s.video_fps);
  }
  if (s.layers.applied()) {
    out += fmt::format("  layers           {} of {} simulated, {} extrapolated at {} each ({}: period spread {:.2f}%; "
                       "--exact simulates every layer)\n",
                       s.layers.simulated, s.layers.layers, s.layers.extrapolated(),
                       format_seconds(s.layers.period_cycles / (s.clock_ghz * 1e9)),
                       s.layers.steady ? "steady" : "NOT steady", 100.0 * s.layers.period_spread);
  }
  if (spec.phase == Phase::prefill) out += fmt::format("  time to first token {}\n", format_seconds(s.ttft_seconds));
  out += fmt::format("  throughput       {:.1f} tokens/s, {:.1f} tokens/J\n", s.tokens_per_second, s.tokens_per_joule);
  out += fmt::format("  MFU              {:.1f}%\n", 100.0 * s.mfu);
  out += fmt::format("  roofline         {} ({}-bound{}: {:.4g} FLOPs, {} HBM); simulated / roofline = {:.2f}\n",
                     format_seconds(s.roofline_seconds), s.roofline_bound,
                     std::max({spec.tp, spec.ep, spec.pp}) > 1
                         ? fmt::format(" per chip; all {} chips", std::max({spec.tp, spec.ep, spec.pp}))
                         : std::string(),
                     static_cast<double>(s.analytic_flops), format_bytes(static_cast<double>(s.analytic_hbm_bytes)),
                     s.sim_over_roofline);
  if (spec.tp > 1) out += fmt::format("  parallelism      tensor parallel over {} chips\n", spec.tp);
  if (spec.pp > 1) {
    out += fmt::format("  parallelism      pipeline over {} chips, {} micro-batches; the per-op table is chip 0's\n",
                       spec.pp, spec.micro_batches);
  }
  if (spec.ep > 1) {
    out += fmt::format("  parallelism      expert parallel over {} chips (attention data parallel); the per-op table "
                       "is chip 0's\n",
                       spec.ep);
  }
  if (spec.phase != Phase::denoise) {
    out += fmt::format("  KV cache         {}\n", format_bytes(static_cast<double>(s.kv_cache_bytes)));
  }
  out += "  where the time goes (per op, all layers):\n";
  std::size_t name_width = 18;  // wider for long op names (a DiT's dit.cross_attn.attention)
  for (const auto& r : s.ops) name_width = std::max(name_width, r.op.size());
  out += fmt::format("    {:<{}} {:>11} {:>7} {:>11} {:>11} {:>11}  {}\n", "op", name_width, "time", "share", "FLOPs",
                     "HBM bytes", "roofline", "bound");
  std::vector<const OpRow*> rows;
  for (const auto& r : s.ops) rows.push_back(&r);
  std::stable_sort(rows.begin(), rows.end(), [](const OpRow* a, const OpRow* b) { return a->seconds > b->seconds; });
  for (const OpRow* r : rows) {
    out += fmt::format("    {:<{}} {:>11} {:>6.1f}% {:>11.4g} {:>11} {:>11}  {}\n", r->op, name_width,
                       format_seconds(r->seconds),
                       100.0 * r->share, static_cast<double>(r->flops), format_bytes(static_cast<double>(r->hbm_bytes)),
                       format_seconds(r->roofline_seconds), r->bound);
  }
  return out;
}

void step_report_json(JsonWriter& j, const StepSummary& s) {
  const auto& spec = s.spec;
  j.value("model", s.model);
  j.value("phase", phase_name(spec.phase));
  j.value("batch", spec.batch);
  j.value("prompt_len", spec.prompt_len);
  j.value("context_len", spec.context_len);
  j.value("weight_dtype", isa::dtype_name(spec.weight_dtype));
  j.value("act_dtype", isa::dtype_name(spec.act_dtype));
  j.value("kv_dtype", isa::dtype_name(spec.kv_dtype));
  j.value("tp", spec.tp);
  j.value("ep", spec.ep);
  j.value("pp", spec.pp);
  j.value("micro_batches", spec.pp > 1 ? spec.micro_batches : 1);
  j.value("params", s.params);
  j.value("active_params", s.active_params);
  j.value("kv_bytes_per_token", s.kv_bytes_per_token);
  if (!s.weight_format.method.empty()) {
    const WeightFormatSummary& w = s.weight_format;
    j.begin_object("weight_format");
    j.value("quant_method", w.method);
    j.value("name", w.format.name);
    j.value("applied", w.applied);  // false: --dtype / --weight-dtype replaced it
    j.value("bits_per_value", w.format.bits_per_value());
    j.begin_array("modules");
    for (const auto& m : w.modules) j.value("", m);
    j.end_array();
    j.value("compute_dtype", isa::dtype_name(w.format.compute_dtype));
    j.value("matmul_dtype", isa::dtype_name(w.matmul_dtype));
    j.value("dequantized", w.dequantized());
    j.end_object();
  }
  j.value("weight_bytes", s.weight_bytes);
  j.value("kv_cache_bytes", s.kv_cache_bytes);
  j.value("tokens", s.tokens);
  j.value("step_seconds", s.step_seconds);
  j.value("tokens_per_second", s.tokens_per_second);
  j.value("ttft_seconds", s.ttft_seconds);
  j.value("mfu", s.mfu);
  j.value("analytic_flops", s.analytic_flops);
  j.value("analytic_hbm_bytes", s.analytic_hbm_bytes);
  j.value("roofline_seconds", s.roofline_seconds);
  j.value("roofline_bound", s.roofline_bound);
  j.value("sim_over_roofline", s.sim_over_roofline);
  j.value("tokens_per_joule", s.tokens_per_joule);
  if (spec.phase == Phase::denoise) {
    j.value("video_frames", spec.video_frames);
    j.value("video_height", spec.video_height);
    j.value("video_width", spec.video_width);
    j.value("latent_tokens", spec.latent_tokens);
    j.value("cfg", spec.cfg);
    j.value("samples", spec.samples());
    j.value("denoise_steps", spec.denoise_steps);
    j.value("generation_seconds", s.generation_seconds);
    j.value("seconds_per_video", s.seconds_per_video);
    j.value("video_fps", s.video_fps);
  }
  if (s.layers.layers > 0) {
    j.value("layers", s.layers.layers);
    j.value("simulated_layers", s.layers.simulated);
    j.value("layer_period_seconds", s.layers.period_cycles / (s.clock_ghz * 1e9));
    j.value("layer_period_spread", s.layers.period_spread);
    j.value("layers_steady", s.layers.steady);
  }
  j.begin_array("ops");
  for (const auto& r : s.ops) {
    j.begin_object();
    j.value("op", r.op);
    j.value("instances", r.instances);
    j.value("seconds", r.seconds);
    j.value("share", r.share);
    j.value("flops", r.flops);
    j.value("hbm_bytes", r.hbm_bytes);
    j.value("roofline_seconds", r.roofline_seconds);
    j.value("bound", r.bound);
    j.end_object();
  }
  j.end_array();
}

}  // namespace tasim
