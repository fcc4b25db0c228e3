#include "sim/serve_command.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <boost/program_options.hpp>
#include <cmath>
#include <iostream>
#include <sys/stat.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/json_writer.h"
#include "common/output_file.h"
#include "sim/config/arch_loader.h"
#include "sim/options/run_options.h"
#include "sim/serve/engine.h"
#include "sim/serve/request_trace.h"
#include "sim/serve/serve_report.h"
#include "sim/serve/step_model.h"
#include "sim/serve/workload.h"
#include "sim/serve_steps.h"
#include "sim/sweep/sweep.h"
#include "workloads/lowering.h"
#include "sim/serve_output.h"
#include "workloads/graph.h"
#include "workloads/model.h"

namespace po = boost::program_options;

namespace tasim {

namespace {

// The deployment's `tasim run` options, passed to every step probe.
std::vector<std::string> deployment_args(const po::variables_map& vm) {
  std::vector<std::string> args = {"--model", vm["model"].as<std::string>(), "--arch", vm["arch"].as<std::string>()};
  if (vm.count("set")) {
    for (const std::string& s : vm["set"].as<std::vector<std::string>>()) args.insert(args.end(), {"--set", s});
  }
  for (const char* name : {"dtype", "weight-dtype", "act-dtype", "kv-dtype"}) {
    if (vm.count(name)) args.insert(args.end(), {std::string("--") + name, vm[name].as<std::string>()});
  }
  if (vm.count("chips")) args.insert(args.end(), {"--chips", std::to_string(vm["chips"].as<int>())});
  args.insert(args.end(), {"--tp", std::to_string(vm["tp"].as<int>())});
  return args;
}

// What a model argument stands for: a file's text (it may change under the same name), or a
// shipped name (the executable's fingerprint covers the shipped configs).
std::string model_fingerprint(const std::string& name_or_path) {
  struct stat st {};
  if (::stat(name_or_path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return read_file_bytes(name_or_path, "model");
  return "model " + name_or_path;
}

void curves_json(JsonWriter& j, const char* key, const char* by, const char* value,
                 const std::vector<std::pair<double, std::vector<std::pair<double, double>>>>& curves) {
  j.begin_array(key);
  for (const auto& [k, points] : curves) {
    for (const auto& [context, v] : points) {
      j.begin_object();
      j.value(by, k);
      j.value("context", context);
      j.value(value, v);
      j.end_object();
    }
  }
  j.end_array();
}

void step_model_json(JsonWriter& j, const serve::StepTimeModel& m) {
  j.value("per_seq_seconds", m.per_seq);
  // Per decode batch: its seconds beyond dense and per_seq, by context.
  curves_json(j, "decode_kv", "decodes", "seconds", m.kv);
  curves_json(j, "chunk_scales", "chunk_tokens", "seconds_per_cycle", m.chunk_scales);
  j.begin_array("dense");
  for (const auto& [tokens, seconds] : m.dense) {
    j.begin_object();
    j.value("tokens", tokens);
    j.value("seconds", seconds);
    j.end_object();
  }
  j.end_array();
}

}  // namespace

int cmd_serve(const std::vector<std::string>& args) {
  po::options_description desc(
      "tasim serve --model M [--arch A] [--tp N] --rate QPS --num-requests N --prompt-len DIST --output-len DIST\n"
      "            [--trace-requests FILE] [scheduler options] [--json FILE] [--requests-out FILE.csv]\n"
      "            [--requests-jsonl FILE] [--trace FILE] [--slo-ttft S] [--slo-tpot S] [--progress]\n\n"
      "Simulates serving requests over time on one replica: vLLM V1's continuous batching over a paged KV\n"
      "cache, with step times from the cycle simulator (a few step shapes simulated, a model fitted to\n"
      "them; docs/serving.md). DIST: a number, uniform:A:B, normal:MEAN:STD, lognormal:MEAN:SIGMA or\n"
      "zipf:S:MAX");
  desc.add_options()
      ("model", po::value<std::string>()->default_value("llama-3-8b"), "model: a shipped name or a config.json / YAML path")
      ("dtype", po::value<std::string>(), "weights, activations and KV cache: bf16 | fp8 | int8 (default bf16)")
      ("weight-dtype", po::value<std::string>(), "weights (overrides --dtype)")
      ("act-dtype", po::value<std::string>(), "activations (overrides --dtype)")
      ("kv-dtype", po::value<std::string>(), "KV cache (overrides --dtype)")
      ("tp", po::value<int>()->default_value(1), "tensor parallel degree of the replica")
      ("chips", po::value<int>(), "chips of the system (sets system.chips)")
      ("rate", po::value<double>()->default_value(1.0), "requests per second")
      ("num-requests", po::value<int>()->default_value(100), "requests to generate")
      ("prompt-len", po::value<std::string>()->default_value("512"), "prompt tokens: DIST")
      ("output-len", po::value<std::string>()->default_value("128"), "output tokens: DIST")
      ("arrival", po::value<std::string>()->default_value("poisson"), "poisson | gamma:BURSTINESS | burst")
      ("seed", po::value<std::uint64_t>()->default_value(0), "seed of the generated requests")
      ("shared-prefix-tokens", po::value<int>()->default_value(0), "a system prompt of this many tokens ...")
      ("shared-prefix-fraction", po::value<double>()->default_value(0.0), "... that begins this fraction of the prompts")
      ("trace-requests", po::value<std::string>(), "read the requests from a trace (Azure/Vidur CSV, Mooncake/tasim JSONL)")
      ("max-num-batched-tokens", po::value<int>()->default_value(8192), "tokens per step")
      ("max-num-seqs", po::value<int>()->default_value(256), "requests running at once")
      ("long-prefill-token-threshold", po::value<int>()->default_value(0), "a prefill's tokens per step at most (0: the budget)")
      ("policy", po::value<std::string>()->default_value("fcfs"), "fcfs | priority")
      ("block-size", po::value<int>()->default_value(16), "KV cache block, tokens")
      ("memory-utilization", po::value<double>()->default_value(0.9), "share of HBM for weights and KV cache")
      ("prefix-caching", po::bool_switch(), "share full prompt blocks between requests")
      ("step-check", po::value<int>()->default_value(0), "simulate this many held-out step shapes directly and report the step model's error")
      ("exact-steps", po::bool_switch(), "simulate every distinct step instead of the step model (slow; to validate it)")
      ("step-cache", po::value<std::string>(), "folder of the step tables (default $XDG_CACHE_HOME/tasim or ~/.cache/tasim)")
      ("no-step-cache", po::bool_switch(), "simulate the step table afresh and keep no copy")
      ("jobs,j", po::value<int>()->default_value(0), "step simulations at a time (0: the CPUs this process may use)");
  add_serve_output_options(desc);
  add_arch_options(desc);
  desc.add_options()("help,h", "show this help");
  po::variables_map vm;
  try {
    const po::positional_options_description none;  // a stray word is a mistake
    po::store(po::command_line_parser(args).options(desc).positional(none).run(), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::too_many_positional_options_error&) {
    throw Error("tasim serve: unexpected argument: options start with -- (see tasim serve --help)");
  } catch (po::error& e) {
    throw Error(fmt::format("tasim serve: {} (see tasim serve --help)", option_error_message(e)));
  }
  const ServeOutputOptions out = serve_output_options(vm);

  // The deployment: the chip, the model and what its HBM leaves for the KV cache.
  const ChipConfig chip = build_arch(arch_request_from(vm)).chip;
  const workloads::ModelConfig model = workloads::load_model(vm["model"].as<std::string>());
  workloads::RunSpec probe_spec;
  probe_spec.tp = vm["tp"].as<int>();
  if (vm.count("dtype")) {
    probe_spec.weight_dtype = probe_spec.act_dtype = probe_spec.kv_dtype = parse_dtype(vm["dtype"].as<std::string>());
  }
  if (vm.count("weight-dtype")) probe_spec.weight_dtype = parse_dtype(vm["weight-dtype"].as<std::string>(), "--weight-dtype");
  if (vm.count("kv-dtype")) probe_spec.kv_dtype = parse_dtype(vm["kv-dtype"].as<std::string>(), "--kv-dtype");
  probe_spec.context_len = 1;
  const workloads::StepGraph graph = workloads::build_step_graph(model, probe_spec);
  const int tp = std::max(1, probe_spec.tp);
  const double util = vm["memory-utilization"].as<double>();
  if (!(util > 0 && util <= 1)) throw Error(fmt::format("--memory-utilization {} must be in (0, 1]", util));
  const int block = vm["block-size"].as<int>();
  if (block < 1) throw Error(fmt::format("--block-size {} must be >= 1", block));
  const double weights_per_chip = static_cast<double>(graph.weight_bytes()) / tp;
  const double kv_heads = std::max(1, model.num_kv_heads / tp);
  const double block_bytes = 2.0 * model.num_layers * kv_heads * model.head_dim *
                             isa::dtype_bytes(probe_spec.kv_dtype) * block;
  const double free_bytes = static_cast<double>(chip.hbm.capacity_bytes) * util - weights_per_chip;
  if (free_bytes < block_bytes) {
    throw Error(fmt::format("{} on {}: the weights ({:.1f} GiB per chip) leave no HBM for the KV cache at "
                            "--memory-utilization {} ({:.1f} GiB per chip)",
                            model.name, chip.name, weights_per_chip / 1073741824.0, util,
                            chip.hbm.capacity_bytes / 1073741824.0));
  }
  const int total_blocks = static_cast<int>(std::min(free_bytes / block_bytes, 1e9));

  serve::SchedulerConfig config;
  config.max_num_batched_tokens = vm["max-num-batched-tokens"].as<int>();
  config.max_num_seqs = vm["max-num-seqs"].as<int>();
  config.long_prefill_token_threshold = vm["long-prefill-token-threshold"].as<int>();
  const std::string policy = vm["policy"].as<std::string>();
  if (policy != "fcfs" && policy != "priority") throw Error(fmt::format("--policy '{}' is not one of: fcfs, priority", policy));
  config.policy = policy == "priority" ? serve::SchedulerConfig::Policy::priority : serve::SchedulerConfig::Policy::fcfs;

  // The requests.
  std::vector<serve::Request> requests;
  if (vm.count("trace-requests")) {
    // The trace gives the requests: an option that would generate them is a mistake.
    for (const char* other : {"rate", "num-requests", "prompt-len", "output-len", "arrival", "shared-prefix-tokens",
                              "shared-prefix-fraction"}) {
      if (!vm[other].defaulted()) {
        throw Error(fmt::format("tasim serve --trace-requests reads the requests: --{} does not apply", other));
      }
    }
    requests = serve::read_request_trace(vm["trace-requests"].as<std::string>());
  } else {
    serve::WorkloadSpec w;
    w.num_requests = vm["num-requests"].as<int>();
    w.rate_qps = vm["rate"].as<double>();
    w.arrival = serve::parse_arrival(vm["arrival"].as<std::string>());
    w.prompt = serve::parse_length_dist(vm["prompt-len"].as<std::string>(), "--prompt-len");
    w.output = serve::parse_length_dist(vm["output-len"].as<std::string>(), "--output-len");
    w.seed = vm["seed"].as<std::uint64_t>();
    w.shared_prefix_tokens = vm["shared-prefix-tokens"].as<int>();
    w.shared_prefix_fraction = vm["shared-prefix-fraction"].as<double>();
    requests = serve::generate_requests(w);
  }
  const long long max_pos = model.max_position_embeddings;
  for (const serve::Request& r : requests) {
    if (r.prompt_tokens + static_cast<long long>(r.output_tokens) > max_pos) {
      throw Error(fmt::format("request {}: {} prompt and {} output tokens exceed max_position_embeddings {} of model {}",
                              r.id, r.prompt_tokens, r.output_tokens, max_pos, model.name));
    }
  }

  // Step times: simulate the probes (or read them back), fit; or simulate every step.
  const int jobs = vm["jobs"].as<int>();
  if (jobs < 0) throw Error(fmt::format("--jobs {} must be >= 0", jobs));
  if (vm.count("step-cache") && vm["no-step-cache"].as<bool>()) {
    throw Error("tasim serve: --step-cache and --no-step-cache contradict each other");
  }
  const std::string cache_dir = vm["no-step-cache"].as<bool>() ? ""
                                : vm.count("step-cache")       ? vm["step-cache"].as<std::string>()
                                                               : default_step_cache_dir();
  const StepRunner runner(deployment_args(vm), jobs > 0 ? jobs : sweep::default_jobs());
  // The compiler's estimate of an attention op of this model on this chip (its tiling).
  workloads::AttentionShape heads;
  for (const workloads::Op& op : graph.ops) {
    if (op.kind == workloads::OpKind::attention) heads = op.attention();
  }
  const serve::AttentionEstimate estimate = [&chip, heads, act = graph.spec.act_dtype, kv = graph.spec.kv_dtype](
                                                long long batch, long long new_tokens, long long kv_len) {
    workloads::AttentionShape a = heads;
    a.batch = static_cast<int>(batch);
    a.q_len = static_cast<std::uint64_t>(new_tokens);
    a.kv_len = static_cast<std::uint64_t>(std::max(new_tokens, kv_len));
    a.causal = true;
    return workloads::choose_attention_tiling(chip, a, act, kv).estimated_cycles();
  };
  serve::AttentionSpread spread;  // the decodes' op: one item per (sequence, KV head)
  spread.items_per_seq = std::max(1, heads.kv_heads);
  spread.workers = workloads::attention_workers(chip);
  const double cache_tokens = static_cast<double>(total_blocks) * block;
  const StepTable table = build_step_table(
      serve::step_probes(config.max_num_batched_tokens, config.max_num_seqs, max_pos, cache_tokens, spread), runner,
      cache_dir, arch_to_yaml(chip) + "\n" + model_fingerprint(vm["model"].as<std::string>()));
  std::cerr << fmt::format("tasim serve: step table of {} shapes {}\n", table.probes.size(),
                           table.from_cache ? "read from " + table.cache_file
                           : table.cache_file.empty() ? std::string("simulated")
                                                      : "simulated and kept in " + table.cache_file);
  std::vector<double> probe_seconds, probe_joules;
  for (const StepValues& v : table.values) {
    probe_seconds.push_back(v.seconds);
    probe_joules.push_back(v.joules);
  }
  const serve::StepTimeModel step_model = serve::StepTimeModel::fit(table.probes, probe_seconds, spread, estimate);
  const serve::StepTimeModel energy_model = serve::StepTimeModel::fit(table.probes, probe_joules, spread, estimate);

  const int checks = vm["step-check"].as<int>();
  if (checks < 0) throw Error(fmt::format("--step-check {} must be >= 0", checks));
  const StepCheck check = check_step_model(step_model, runner, checks, config.max_num_batched_tokens,
                                           config.max_num_seqs, max_pos, cache_tokens, vm["seed"].as<std::uint64_t>());

  const bool exact = vm["exact-steps"].as<bool>();
  ExactSteps exact_steps(runner);
  config.step_energy = [&](const serve::StepShape& shape) {
    return exact ? exact_steps.at(shape).joules : energy_model.seconds(shape);
  };
  ServeProgressBar progress(out.progress, requests);
  const serve::ServeResult result = serve::run_serving(
      requests, config, serve::KvBlockManager(total_blocks, block, vm["prefix-caching"].as<bool>()),
      progress.wrap([&](const serve::StepShape& shape) {
        return exact ? exact_steps.at(shape).seconds : step_model.seconds(shape);
      }));
  progress.finish();
  const serve::ServeSummary s = serve::summarize(result, out.slo);

  JsonWriter j;
  j.begin_object();
  j.value("command", "serve");
  j.value("model", model.name);
  j.value("arch", chip.name);
  j.value("tp", tp);
  j.value("requests", static_cast<int>(requests.size()));
  serve::summary_json(j, s);
  j.value("block_size", block);
  j.begin_object("step_model");
  j.value("kind", exact ? "exact" : "fitted");
  j.value("probes", static_cast<int>(table.probes.size()));
  if (exact) j.value("simulated_steps", static_cast<std::uint64_t>(exact_steps.simulated()));
  step_model_json(j, step_model);
  j.value("held_out_steps", check.steps);
  j.value("held_out_mean_error", check.mean_error);
  j.value("held_out_p90_error", check.p90_error);
  j.value("held_out_max_error", check.max_error);
  j.end_object();
  j.end_object();

  write_serve_files(out, result);
  if (!out.json.empty()) write_output(out.json, j.str(), "JSON summary");
  if (out.json != "-") {
    std::cout << fmt::format("tasim serve: {} on {} (tp {}), {} requests\n", model.name, chip.name, tp, requests.size())
              << serve::summary_text(s)
              << fmt::format("  KV cache         {} blocks of {} tokens\n"
                             "  step times       {} simulated steps{}\n",
                             total_blocks, block, exact ? exact_steps.simulated() : table.probes.size(),
                             checks > 0 ? fmt::format("; held-out error mean {:.2f}%, p90 {:.2f}%, max {:.2f}% over {} steps",
                                                      100 * check.mean_error, 100 * check.p90_error,
                                                      100 * check.max_error, checks)
                                        : std::string());
  }
  return 0;
}

}  // namespace tasim
