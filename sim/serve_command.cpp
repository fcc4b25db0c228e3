#include "sim/serve_command.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <boost/program_options.hpp>
#include <cmath>
#include <iostream>

#include "common/error.h"
#include "common/json_writer.h"
#include "common/output_file.h"
#include "sim/config/arch_loader.h"
#include "sim/options/run_options.h"
#include "sim/serve/engine.h"
#include "sim/serve/request_trace.h"
#include "sim/serve/serve_report.h"
#include "sim/serve/step_model.h"
#include "sim/serve/workload.h"
#include "sim/serve_output.h"
#include "sim/sweep/child.h"
#include "workloads/graph.h"
#include "workloads/model.h"

extern char** environ;

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

// Simulates one step shape in a child `tasim run`; its step time in seconds.
double simulate_step_seconds(const std::vector<std::string>& deployment, const std::string& sequences) {
  static const std::string exe = sweep::self_executable();
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.push_back(*e);
  std::vector<std::string> args = {"run"};
  args.insert(args.end(), deployment.begin(), deployment.end());
  args.insert(args.end(), {"--sequences", sequences, "--json", "-"});
  const sweep::ChildResult r = sweep::run_child(exe, args, env, 0);
  if (r.exit_status != 0) {
    throw Error(fmt::format("simulating the step --sequences {}: {}", sequences, sweep::child_error(r, 0)));
  }
  return YAML::Load(r.out)["step_seconds"].as<double>();
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
      ("step-check", po::value<int>()->default_value(0), "simulate this many held-out step shapes directly and report the step model's error");
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

  // Step times: simulate the probes, fit.
  const std::vector<std::string> deployment = deployment_args(vm);
  const std::vector<serve::StepProbe> probes = serve::step_probes(
      config.max_num_batched_tokens, config.max_num_seqs, max_pos, static_cast<double>(total_blocks) * block);
  std::vector<double> probe_seconds;
  for (const serve::StepProbe& p : probes) probe_seconds.push_back(simulate_step_seconds(deployment, p.sequences));
  const serve::StepTimeModel step_model = serve::StepTimeModel::fit(probes, probe_seconds);

  // The held-out check: random mixes of decodes and a chunk, simulated directly.
  const int checks = vm["step-check"].as<int>();
  if (checks < 0) throw Error(fmt::format("--step-check {} must be >= 0", checks));
  double max_error = 0, sum_error = 0;
  serve::Rng rng(vm["seed"].as<std::uint64_t>() ^ 0x5354455043484bull);
  const double cache_tokens = static_cast<double>(total_blocks) * block;
  for (int i = 0; i < checks; ++i) {
    // Up to 64 decodes whose contexts the KV cache could hold, and every other step a chunk.
    serve::StepShape shape;
    const int decodes = 1 + static_cast<int>(rng.uniform() * std::min(config.max_num_seqs - 1, 64));
    const double most = std::min(static_cast<double>(max_pos) / 2, 0.8 * cache_tokens / (decodes + 1));
    for (int d = 0; d < decodes; ++d) {
      shape.seqs.push_back({d, 1, 1 + static_cast<long long>(rng.uniform() * most), true});
    }
    if (i % 2 == 1) {
      const int n = 16 + static_cast<int>(rng.uniform() * std::min(1024, config.max_num_batched_tokens - decodes - 16));
      shape.seqs.push_back({decodes, n, static_cast<long long>(rng.uniform() * std::min(most, max_pos / 4.0)), false});
    }
    const double simulated = simulate_step_seconds(deployment, serve::sequences_text(shape));
    const double error = std::abs(step_model.seconds(shape) - simulated) / simulated;
    max_error = std::max(max_error, error);
    sum_error += error;
  }

  ServeProgressBar progress(out.progress, requests);
  const serve::ServeResult result = serve::run_serving(
      requests, config, serve::KvBlockManager(total_blocks, block, vm["prefix-caching"].as<bool>()),
      progress.wrap([&](const serve::StepShape& s) { return step_model.seconds(s); }));
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
  j.value("probes", static_cast<int>(probes.size()));
  j.value("per_seq_seconds", step_model.per_seq);
  j.begin_array("decode_kv");  // per batch size: the cache reads' seconds at each mean context
  for (const auto& [decodes, points] : step_model.kv) {
    for (const auto& [context, seconds] : points) {
      j.begin_object();
      j.value("decodes", decodes);
      j.value("context", context);
      j.value("seconds", seconds);
      j.end_object();
    }
  }
  j.end_array();
  j.value("per_prefill_pair_seconds", step_model.per_pair);
  j.begin_array("dense");
  for (const auto& [tokens, seconds] : step_model.dense) {
    j.begin_object();
    j.value("tokens", tokens);
    j.value("seconds", seconds);
    j.end_object();
  }
  j.end_array();
  j.value("held_out_steps", checks);
  j.value("held_out_max_error", max_error);
  j.value("held_out_mean_error", checks > 0 ? sum_error / checks : 0.0);
  j.end_object();
  j.end_object();

  write_serve_files(out, result);
  if (!out.json.empty()) write_output(out.json, j.str(), "JSON summary");
  if (out.json != "-") {
    std::cout << fmt::format("tasim serve: {} on {} (tp {}), {} requests\n", model.name, chip.name, tp, requests.size())
              << serve::summary_text(s)
              << fmt::format("  KV cache         {} blocks of {} tokens\n"
                             "  step model       {} simulated steps{}\n",
                             total_blocks, block, probes.size(),
                             checks > 0 ? fmt::format("; held-out error max {:.2f}%, mean {:.2f}% over {} steps",
                                                      100 * max_error, 100 * sum_error / checks, checks)
                                        : std::string());
  }
  return 0;
}

}  // namespace tasim
