#include "sim/serve_command.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <iostream>
#include <numeric>
#include <memory>
#include <sys/stat.h>

#include "arch/arch_figures.h"
#include "arch/cost_model.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/json_writer.h"
#include "common/output_file.h"
#include "sim/config/arch_loader.h"
#include "sim/options/run_options.h"
#include "sim/serve/cluster.h"
#include "sim/serve/engine.h"
#include "sim/serve/metrics.h"
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

int KvLayout::groups_of(serve::KvGroup::Kind kind) const {
  return static_cast<int>(std::count_if(groups.begin(), groups.end(),
                                        [kind](const serve::KvGroup& g) { return g.kind == kind; }));
}

KvLayout KvLayout::one_group(int layers) { return KvLayout{{serve::KvGroup{}}, std::max(1, layers)}; }

KvLayout kv_layout(const workloads::ModelConfig& model) {
  int counts[3] = {0, 0, 0};  // full, sliding, chunked (KvGroup::Kind's order)
  for (int l = 0; l < model.num_layers; ++l) {
    switch (model.attention_of(l)) {
      case workloads::LayerAttention::full: ++counts[0]; break;
      case workloads::LayerAttention::sliding: ++counts[1]; break;
      case workloads::LayerAttention::chunked: ++counts[2]; break;
    }
  }
  if (model.mla || counts[0] == model.num_layers || model.num_layers < 1) return KvLayout::one_group(model.num_layers);
  KvLayout layout;
  int unit = 0;
  for (const int c : counts) unit = std::gcd(unit, c);
  layout.layers_per_group = unit;
  const long long spans[3] = {0, model.sliding_window, model.attention_chunk_size};
  const serve::KvGroup::Kind kinds[3] = {serve::KvGroup::Kind::full, serve::KvGroup::Kind::sliding,
                                         serve::KvGroup::Kind::chunked};
  for (int k = 0; k < 3; ++k) {
    for (int g = 0; g < counts[k] / unit; ++g) layout.groups.push_back(serve::KvGroup{kinds[k], spans[k]});
  }
  return layout;
}

namespace {

// The deployment's `tasim run` options, passed to every step probe.
std::vector<std::string> deployment_args(const po::variables_map& vm, const std::string& model) {
  std::vector<std::string> args = {"--model", model, "--arch", vm["arch"].as<std::string>()};
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


// A model served on the chip: what it takes of each chip's HBM, and what the step model needs of
// the compiler (how it spreads and estimates attention).
struct ServedModel {
  workloads::ModelConfig config;
  std::string name;  // as given (a shipped name or a path)
  std::vector<std::string> deployment;  // its `tasim run` options
  double weight_bytes_per_chip = 0;
  double kv_bytes_per_token_per_chip = 0;  // K and V of every layer
  serve::AttentionSpread spread;
  serve::AttentionEstimate estimate;
};

// The text summary's words after "N blocks of B tokens": " of an L-layer group; groups: F
// full, S sliding (window W), C chunked (chunk C)", or "" for one group.
std::string kv_groups_text(const KvLayout& layout, const workloads::ModelConfig& model) {
  using Kind = serve::KvGroup::Kind;
  if (layout.groups.size() < 2) return "";
  std::vector<std::string> parts;
  if (layout.groups_of(Kind::full) > 0) parts.push_back(fmt::format("{} full", layout.groups_of(Kind::full)));
  if (layout.groups_of(Kind::sliding) > 0) {
    parts.push_back(fmt::format("{} sliding (window {})", layout.groups_of(Kind::sliding), model.sliding_window));
  }
  if (layout.groups_of(Kind::chunked) > 0) {
    parts.push_back(fmt::format("{} chunked (chunk {})", layout.groups_of(Kind::chunked), model.attention_chunk_size));
  }
  return fmt::format(" of a {}-layer group; groups: {}", layout.layers_per_group, fmt::join(parts, ", "));
}

// `mtp_draft`: the model's multi-token-prediction module (--drafter mtp), whose embedding and LM
// head are the model's own: they take no HBM of their own.
ServedModel served_model(const po::variables_map& vm, const ChipConfig& chip, const std::string& name,
                         bool mtp_draft = false) {
  ServedModel m;
  m.name = name;
  m.config = workloads::load_model(name);
  if (mtp_draft) m.config = workloads::mtp_draft_model(m.config);
  m.deployment = deployment_args(vm, name);
  if (mtp_draft) m.deployment.push_back("--mtp-draft");
  workloads::RunSpec spec;
  spec.tp = vm["tp"].as<int>();
  if (vm.count("dtype")) spec.weight_dtype = spec.act_dtype = spec.kv_dtype = parse_dtype(vm["dtype"].as<std::string>());
  if (vm.count("weight-dtype")) spec.weight_dtype = parse_dtype(vm["weight-dtype"].as<std::string>(), "--weight-dtype");
  // A dtype given by the user replaces the checkpoint's weight format (quantization_config).
  if (vm.count("dtype") || vm.count("weight-dtype")) spec.checkpoint_weights = false;
  if (vm.count("act-dtype")) spec.act_dtype = parse_dtype(vm["act-dtype"].as<std::string>(), "--act-dtype");
  if (vm.count("kv-dtype")) spec.kv_dtype = parse_dtype(vm["kv-dtype"].as<std::string>(), "--kv-dtype");
  spec.context_len = 1;
  const workloads::StepGraph graph = workloads::build_step_graph(m.config, spec);
  const int tp = std::max(1, spec.tp);
  m.weight_bytes_per_chip = static_cast<double>(graph.weight_bytes()) / tp;
  if (mtp_draft) {
    const workloads::ParamCounts c = m.config.param_counts();
    m.weight_bytes_per_chip -=
        static_cast<double>(c.embedding + c.lm_head) * isa::dtype_bytes(spec.weight_dtype) / tp;
  }
  // MLA keeps its whole latent on every chip; GQA's KV heads are split over the TP group.
  m.kv_bytes_per_token_per_chip =
      m.config.mla ? static_cast<double>(m.config.kv_bytes_per_token(isa::dtype_bytes(spec.kv_dtype)))
                   : 2.0 * m.config.num_layers * std::max(1, m.config.num_kv_heads / tp) * m.config.head_dim *
                         isa::dtype_bytes(spec.kv_dtype);
  // The compiler's estimate of a chunk's attention op of this model on this chip (its tiling).
  workloads::AttentionShape heads;
  for (const workloads::Op& op : graph.ops) {
    if (op.kind == workloads::OpKind::attention) heads = op.attention();
  }
  m.estimate = [&chip, heads, act = graph.spec.act_dtype, kv = graph.spec.kv_dtype](long long batch, long long new_tokens,
                                                                                   long long kv_len) {
    workloads::AttentionShape a = heads;
    a.batch = static_cast<int>(batch);
    a.q_len = static_cast<std::uint64_t>(new_tokens);
    a.kv_len = static_cast<std::uint64_t>(std::max(new_tokens, kv_len));
    a.causal = true;
    return workloads::choose_attention_tiling(chip, a, act, kv).estimated_cycles();
  };
  m.spread.items_per_seq = std::max(1, heads.kv_heads);  // the decodes' op: an item per (sequence, KV head)
  m.spread.workers = workloads::attention_workers(chip);
  return m;
}

// A model's step times: fitted to its step table, or (exact) each distinct step simulated.
class StepTimes {
 public:
  StepTimes(const ServedModel& m, const ChipConfig& chip, const serve::SchedulerConfig& config, double cache_tokens,
            const std::string& cache_dir, int jobs, bool exact)
      : runner_(m.deployment, jobs), exact_steps_(runner_), exact_(exact) {
    const auto start = std::chrono::steady_clock::now();  // for stderr only
    table_ = build_step_table(serve::step_probes(config.max_num_batched_tokens, config.max_num_seqs,
                                                 m.config.max_position_embeddings, cache_tokens, m.spread),
                              runner_, cache_dir, arch_to_yaml(chip) + "\n" + model_fingerprint(m.name));
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << fmt::format("tasim serve: step table of {} ({} shapes) {}\n", m.config.name, table_.probes.size(),
                             table_.from_cache ? "read from " + table_.cache_file
                             : table_.cache_file.empty()
                                 ? fmt::format("simulated in {:.1f} s", wall_s)
                                 : fmt::format("simulated in {:.1f} s and kept in {}", wall_s, table_.cache_file));
    std::vector<double> seconds, joules;
    for (const StepValues& v : table_.values) {
      seconds.push_back(v.seconds);
      joules.push_back(v.joules);
    }
    time_ = serve::StepTimeModel::fit(table_.probes, seconds, m.spread, m.estimate);
    energy_ = serve::StepTimeModel::fit(table_.probes, joules, m.spread, m.estimate);
  }
  double seconds(const serve::StepShape& shape) { return exact_ ? exact_steps_.at(shape).seconds : time_.seconds(shape); }
  double joules(const serve::StepShape& shape) { return exact_ ? exact_steps_.at(shape).joules : energy_.seconds(shape); }
  const serve::StepTimeModel& model() const { return time_; }
  const StepRunner& runner() const { return runner_; }
  std::size_t probes() const { return table_.probes.size(); }
  bool exact() const { return exact_; }
  std::size_t simulated() const { return exact_ ? exact_steps_.simulated() : table_.probes.size(); }

 private:
  StepRunner runner_;
  StepTable table_;
  serve::StepTimeModel time_, energy_;
  ExactSteps exact_steps_;
  bool exact_;
};

// The value of option `name`, one of `choices` (name as written, value); an error lists them.
template <typename T>
T one_of(const po::variables_map& vm, const char* name, const std::vector<std::pair<std::string, T>>& choices) {
  const std::string text = vm[name].as<std::string>();
  std::string names;
  for (const auto& [word, value] : choices) {
    if (word == text) return value;
    names += (names.empty() ? "" : ", ") + word;
  }
  throw Error(fmt::format("--{} '{}' is not one of: {}", name, text, names));
}

// Replicas, routing and disaggregation. A KV transfer goes from the prefill replica's chips to the
// decode replica's, each chip its shard over one of its links (the architecture's link bandwidth
// and latency unless given).
serve::ClusterConfig cluster_config(const po::variables_map& vm, const ChipConfig& chip, double kv_bytes_per_token) {
  serve::ClusterConfig c;
  c.replicas = vm["replicas"].as<int>();
  if (c.replicas < 1) throw Error(fmt::format("--replicas {} must be >= 1", c.replicas));
  c.routing = one_of<serve::ClusterConfig::Routing>(
      vm, "routing",
      {{"round-robin", serve::ClusterConfig::Routing::round_robin},
       {"least-outstanding", serve::ClusterConfig::Routing::least_outstanding},
       {"least-kv", serve::ClusterConfig::Routing::least_kv},
       {"prefix-aware", serve::ClusterConfig::Routing::prefix_aware}});
  auto& d = c.disaggregation;
  d.prefill_replicas = vm["prefill-replicas"].as<int>();
  d.decode_replicas = vm["decode-replicas"].as<int>();
  if (d.prefill_replicas < 0 || d.decode_replicas < 0 || (d.prefill_replicas > 0) != (d.decode_replicas > 0)) {
    throw Error(fmt::format("--prefill-replicas {} and --decode-replicas {}: disaggregation needs both >= 1 (or both 0)",
                            d.prefill_replicas, d.decode_replicas));
  }
  const bool disaggregated = d.prefill_replicas > 0;
  if (disaggregated && !vm["replicas"].defaulted()) {
    throw Error("tasim serve: --replicas is the replicas without disaggregation: with it, give --prefill-replicas and "
                "--decode-replicas");
  }
  if (!disaggregated && (vm.count("kv-link-gbps") || vm.count("kv-link-latency-us"))) {
    throw Error("tasim serve: --kv-link-gbps and --kv-link-latency-us apply to disaggregation (--prefill-replicas)");
  }
  const int tp = std::max(1, vm["tp"].as<int>());
  const double gbps = vm.count("kv-link-gbps") ? vm["kv-link-gbps"].as<double>() : chip.system.link.gbps_per_direction * tp;
  const double latency_us = vm.count("kv-link-latency-us") ? vm["kv-link-latency-us"].as<double>()
                                                            : chip.system.link.latency_ns / 1000.0;
  if (!(gbps > 0)) throw Error(fmt::format("--kv-link-gbps {} must be > 0", gbps));
  if (!(latency_us >= 0)) throw Error(fmt::format("--kv-link-latency-us {} must be >= 0", latency_us));
  if (disaggregated) {
    d.kv_bytes_per_token = kv_bytes_per_token;
    d.link_bytes_per_s = gbps * 1e9;
    d.link_latency_s = latency_us * 1e-6;
  }
  return c;
}

std::vector<double> parse_acceptance(const std::string& text) {
  std::vector<double> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    char* end = nullptr;
    const double a = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !(a >= 0 && a <= 1)) {
      throw Error(fmt::format("--acceptance '{}': each rate must be a number from 0 to 1 (e.g. 0.8 or 0.9,0.8,0.7)", text));
    }
    out.push_back(a);
    start = comma + 1;
  }
  return out;
}

// The requests: from a trace, or generated at `rate` requests per second.
std::vector<serve::Request> serve_requests(const po::variables_map& vm, double rate) {
  if (vm.count("trace-requests")) return serve::read_request_trace(vm["trace-requests"].as<std::string>());
  serve::WorkloadSpec w;
  w.num_requests = vm["num-requests"].as<int>();
  w.rate_qps = rate;
  w.arrival = serve::parse_arrival(vm["arrival"].as<std::string>());
  w.prompt = serve::parse_length_dist(vm["prompt-len"].as<std::string>(), "--prompt-len");
  w.output = serve::parse_length_dist(vm["output-len"].as<std::string>(), "--output-len");
  w.seed = vm["seed"].as<std::uint64_t>();
  w.shared_prefix_tokens = vm["shared-prefix-tokens"].as<int>();
  w.shared_prefix_fraction = vm["shared-prefix-fraction"].as<double>();
  w.samples = vm["samples"].as<int>();
  w.priority_classes = vm["priority-classes"].as<int>();
  w.turns = vm["turns"].as<int>();
  w.think_time_s = vm["think-time"].as<double>();
  return serve::generate_requests(w);
}

void check_positions(const std::vector<serve::Request>& requests, const workloads::ModelConfig& model) {
  const long long max_pos = model.max_position_embeddings;
  for (const serve::Request& r : requests) {
    if (r.prompt_tokens + static_cast<long long>(r.output_tokens) > max_pos) {
      throw Error(fmt::format("request {}: {} prompt and {} output tokens exceed max_position_embeddings {} of model {}",
                              r.id, r.prompt_tokens, r.output_tokens, max_pos, model.name));
    }
  }
}

}  // namespace

void add_serve_options(po::options_description& desc) {
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
      ("scheduler", po::value<std::string>()->default_value("vllm"), "vllm | sarathi | orca | static")
      ("ordering", po::value<std::string>()->default_value("fcfs"), "the waiting queue: fcfs | lpm (longest cached prefix first, SGLang)")
      ("replicas", po::value<int>()->default_value(1), "replicas of the deployment, each --tp chips")
      ("routing", po::value<std::string>()->default_value("round-robin"), "round-robin | least-outstanding | least-kv | prefix-aware")
      ("prefill-replicas", po::value<int>()->default_value(0), "disaggregation: replicas that prefill (with --decode-replicas)")
      ("decode-replicas", po::value<int>()->default_value(0), "disaggregation: replicas that decode")
      ("kv-link-gbps", po::value<double>(), "disaggregation: GB/s of a prefill-to-decode link (default: the chips' links, one per chip)")
      ("kv-link-latency-us", po::value<double>(), "disaggregation: latency of a KV transfer (default: the chips' link latency)")
      ("samples", po::value<int>()->default_value(1), "parallel samples per request (best-of-n), sharing the prompt")
      ("priority-classes", po::value<int>()->default_value(1), "priorities 0..K-1 drawn uniformly (with --policy priority)")
      ("turns", po::value<int>()->default_value(1), "turns per conversation (each prompt carries the history)")
      ("think-time", po::value<double>()->default_value(0.0), "seconds between a conversation's turns")
      ("block-size", po::value<int>()->default_value(16), "KV cache block, tokens")
      ("memory-utilization", po::value<double>()->default_value(0.9), "share of HBM for weights and KV cache")
      ("prefix-caching", po::bool_switch(), "share full prompt blocks between requests")
      ("prefix-match", po::value<std::string>()->default_value("block"), "block (vLLM) | token (SGLang's radix tree: hits need not be whole blocks)")
      ("step-check", po::value<int>()->default_value(0), "simulate this many held-out step shapes directly and report the step model's error")
      ("exact-steps", po::bool_switch(), "simulate every distinct step instead of the step model (slow; to validate it)")
      ("step-cache", po::value<std::string>(), "folder of the step tables (default $XDG_CACHE_HOME/tasim or ~/.cache/tasim)")
      ("no-step-cache", po::bool_switch(), "simulate the step table afresh and keep no copy")
      ("jobs,j", po::value<int>()->default_value(0), "step simulations at a time (0: the CPUs this process may use)")
      ("speculative-k", po::value<int>()->default_value(0), "speculative decoding: draft tokens per step (0: off)")
      ("drafter", po::value<std::string>(), "the drafter: a model (simulated on the same chips), 'mtp' (the model's own multi-token-prediction "
       "module, DeepSeek num_nextn_predict_layers) or 'ngram' (prompt lookup, free)")
      ("acceptance", po::value<std::string>(), "acceptance rate of a draft token: A, or one per position A1,A2,...")
      ("find-max-rate", po::bool_switch(), "search the highest --rate whose requests meet the SLOs at --slo-attainment")
      ("slo-attainment", po::value<double>()->default_value(90.0), "percent of requests that must meet the SLOs (--find-max-rate)");
  add_serve_output_options(desc);
  add_arch_options(desc);
}

int cmd_serve(const std::vector<std::string>& args) {
  po::options_description desc(
      "tasim serve --model M [--arch A] [--tp N] [--replicas R | --prefill-replicas P --decode-replicas D]\n"
      "            --rate QPS --num-requests N --prompt-len DIST --output-len DIST [--arrival A] [--seed S]\n"
      "            [--scheduler vllm|sarathi|orca|static] [--max-num-batched-tokens T] [--max-num-seqs B]\n"
      "            [--block-size K] [--prefix-caching] [--trace-requests FILE] [--json FILE] [--requests-out FILE.csv]\n"
      "            [--requests-jsonl FILE] [--trace FILE] [--slo-ttft S] [--slo-tpot S] [--progress]\n\n"
      "Simulates serving requests over time on replicas of a deployment: continuous batching (vLLM V1,\n"
      "Sarathi-Serve, Orca or static) over a paged KV cache, routing, optional prefill/decode\n"
      "disaggregation and speculative decoding, with step times from the cycle simulator (a table of\n"
      "step shapes simulated once and cached, a model fitted to it; or --exact-steps). docs/serving.md.\n"
      "DIST: a number, uniform:A:B, normal:MEAN:STD, lognormal:MEAN:SIGMA or zipf:S:MAX");
  add_serve_options(desc);
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

  // The deployment: the chip, the model (and a draft model) and what their weights leave of HBM
  // for the KV cache.
  const ChipConfig chip = build_arch(arch_request_from(vm)).chip;
  const ServedModel target = served_model(vm, chip, vm["model"].as<std::string>());
  const workloads::ModelConfig& model = target.config;
  const int tp = std::max(1, vm["tp"].as<int>());
  const int spec_k = vm["speculative-k"].as<int>();
  if (spec_k < 0) throw Error(fmt::format("--speculative-k {} must be >= 0", spec_k));
  if (spec_k > 0 && (!vm.count("drafter") || !vm.count("acceptance"))) {
    throw Error("tasim serve: --speculative-k needs --drafter (a model, 'mtp' or 'ngram') and --acceptance");
  }
  if (spec_k == 0 && (vm.count("drafter") || vm.count("acceptance"))) {
    throw Error("tasim serve: --drafter and --acceptance apply to speculative decoding: set --speculative-k");
  }
  const std::vector<double> acceptance =
      spec_k > 0 ? parse_acceptance(vm["acceptance"].as<std::string>()) : std::vector<double>{};
  std::unique_ptr<ServedModel> draft;
  if (spec_k > 0 && vm["drafter"].as<std::string>() == "mtp") {
    try {
      draft = std::make_unique<ServedModel>(served_model(vm, chip, target.name, true));
    } catch (const Error& e) {
      throw Error(fmt::format("--drafter mtp: {}", e.what()));
    }
  } else if (spec_k > 0 && vm["drafter"].as<std::string>() != "ngram") {
    draft = std::make_unique<ServedModel>(served_model(vm, chip, vm["drafter"].as<std::string>()));
  }
  const double util = vm["memory-utilization"].as<double>();
  if (!(util > 0 && util <= 1)) throw Error(fmt::format("--memory-utilization {} must be in (0, 1]", util));
  const int block = vm["block-size"].as<int>();
  if (block < 1) throw Error(fmt::format("--block-size {} must be >= 1", block));
  // A block holds block_size tokens of one KV group's K and V: with one group, of every layer of the
  // model (and of the draft's, which keeps its own cache). With a draft the groups are not formed
  // (the draft's layers differ from the model's): every layer keeps every token, as before.
  KvLayout layout = kv_layout(model);
  if (draft && layout.groups.size() > 1) {
    std::cerr << fmt::format("tasim serve: with a draft model, {}'s sliding-window or chunked layers keep every "
                             "token in the KV cache (one group of all layers)\n", model.name);
    layout = KvLayout::one_group(model.num_layers);
  }
  const double weights_per_chip = target.weight_bytes_per_chip + (draft ? draft->weight_bytes_per_chip : 0.0);
  const double group_share = static_cast<double>(layout.layers_per_group) / std::max(1, model.num_layers);
  const double block_bytes =
      (target.kv_bytes_per_token_per_chip * group_share + (draft ? draft->kv_bytes_per_token_per_chip : 0.0)) * block;
  const double free_bytes = static_cast<double>(chip.hbm.capacity_bytes) * util - weights_per_chip;
  if (free_bytes < block_bytes) {
    throw Error(fmt::format("{} on {}: the weights ({:.1f} GiB per chip) leave no HBM for the KV cache at "
                            "--memory-utilization {} ({:.1f} GiB per chip)",
                            model.name, chip.name, weights_per_chip / 1073741824.0, util,
                            chip.hbm.capacity_bytes / 1073741824.0));
  }
  const int total_blocks = static_cast<int>(std::min(free_bytes / block_bytes, 1e9));
  // The most context tokens the cache can hold, for the step probes: a token costs a block slot in
  // each full group; with none (every layer sliding or chunked) only the requests' count and
  // positions bound it.
  const int full_groups = layout.groups_of(serve::KvGroup::Kind::full);
  const double cache_tokens =
      full_groups > 0 ? static_cast<double>(total_blocks) * block / full_groups
                      : static_cast<double>(vm["max-num-seqs"].as<int>()) * std::max(1, model.max_position_embeddings);

  serve::SchedulerConfig config;
  config.max_num_batched_tokens = vm["max-num-batched-tokens"].as<int>();
  config.max_num_seqs = vm["max-num-seqs"].as<int>();
  config.long_prefill_token_threshold = vm["long-prefill-token-threshold"].as<int>();
  const std::string policy = vm["policy"].as<std::string>();
  if (policy != "fcfs" && policy != "priority") throw Error(fmt::format("--policy '{}' is not one of: fcfs, priority", policy));
  config.policy = policy == "priority" ? serve::SchedulerConfig::Policy::priority : serve::SchedulerConfig::Policy::fcfs;
  config.kind = one_of<serve::SchedulerConfig::Kind>(vm, "scheduler",
                                                    {{"vllm", serve::SchedulerConfig::Kind::vllm},
                                                     {"sarathi", serve::SchedulerConfig::Kind::sarathi},
                                                     {"orca", serve::SchedulerConfig::Kind::orca},
                                                     {"static", serve::SchedulerConfig::Kind::static_batch}});
  config.ordering = one_of<serve::SchedulerConfig::Ordering>(
      vm, "ordering", {{"fcfs", serve::SchedulerConfig::Ordering::fcfs}, {"lpm", serve::SchedulerConfig::Ordering::lpm}});
  const serve::PrefixMatch prefix_match = one_of<serve::PrefixMatch>(
      vm, "prefix-match", {{"block", serve::PrefixMatch::block}, {"token", serve::PrefixMatch::token}});
  const serve::ClusterConfig cluster = cluster_config(vm, chip, target.kv_bytes_per_token_per_chip * tp);

  // The requests (checked before the long work).
  const bool find_max_rate = vm["find-max-rate"].as<bool>();
  if (vm.count("trace-requests")) {
    // The trace gives the requests: an option that would generate them is a mistake.
    for (const char* other : {"rate", "num-requests", "prompt-len", "output-len", "arrival", "shared-prefix-tokens",
                              "shared-prefix-fraction", "samples", "priority-classes", "turns", "think-time"}) {
      if (!vm[other].defaulted()) {
        throw Error(fmt::format("tasim serve --trace-requests reads the requests: --{} does not apply", other));
      }
    }
    if (find_max_rate) throw Error("tasim serve --find-max-rate generates requests at each rate: not with --trace-requests");
  }
  const double attainment_goal = vm["slo-attainment"].as<double>();
  if (find_max_rate && !out.slo.any()) throw Error("tasim serve --find-max-rate needs an SLO: --slo-ttft and/or --slo-tpot");
  if (!(attainment_goal > 0 && attainment_goal <= 100)) {
    throw Error(fmt::format("--slo-attainment {} must be a percentage in (0, 100]", attainment_goal));
  }
  const double rate = vm["rate"].as<double>();
  if (!(rate > 0)) throw Error(fmt::format("--rate {} must be > 0", rate));
  std::vector<serve::Request> requests = serve_requests(vm, rate);
  check_positions(requests, model);
  if (draft) check_positions(requests, draft->config);

  // Step times: simulate the probes (or read them back), fit; or simulate every step.
  const int jobs = vm["jobs"].as<int>();
  if (jobs < 0) throw Error(fmt::format("--jobs {} must be >= 0", jobs));
  if (vm.count("step-cache") && vm["no-step-cache"].as<bool>()) {
    throw Error("tasim serve: --step-cache and --no-step-cache contradict each other");
  }
  const std::string cache_dir = vm["no-step-cache"].as<bool>() ? ""
                                : vm.count("step-cache")       ? vm["step-cache"].as<std::string>()
                                                               : default_step_cache_dir();
  const bool exact = vm["exact-steps"].as<bool>();
  const int workers = jobs > 0 ? jobs : sweep::default_jobs();
  StepTimes steps(target, chip, config, cache_tokens, cache_dir, workers, exact);
  std::unique_ptr<StepTimes> draft_steps;
  if (draft) draft_steps = std::make_unique<StepTimes>(*draft, chip, config, cache_tokens, cache_dir, workers, exact);

  const int checks = vm["step-check"].as<int>();
  if (checks < 0) throw Error(fmt::format("--step-check {} must be >= 0", checks));
  const StepCheck check =
      check_step_model(steps.model(), steps.runner(), checks, config.max_num_batched_tokens, config.max_num_seqs,
                       model.max_position_embeddings, cache_tokens, vm["seed"].as<std::uint64_t>());

  // Speculative decoding: the drafter's steps timed like the model's (an n-gram drafter's are free).
  if (spec_k > 0) {
    config.speculative.k = spec_k;
    config.speculative.acceptance = acceptance;
    config.speculative.seed = vm["seed"].as<std::uint64_t>();
    if (draft_steps) {
      config.speculative.draft_step_time = [&](const serve::StepShape& shape) { return draft_steps->seconds(shape); };
      config.speculative.draft_step_energy = [&](const serve::StepShape& shape) { return draft_steps->joules(shape); };
    } else {
      config.speculative.draft_step_time = [](const serve::StepShape&) { return 0.0; };
    }
  }
  config.step_energy = [&](const serve::StepShape& shape) { return steps.joules(shape); };
  const serve::KvBlockManager kv(total_blocks, block, vm["prefix-caching"].as<bool>(), prefix_match, layout.groups);
  if (prefix_match == serve::PrefixMatch::token && layout.groups.size() > 1 && vm["prefix-caching"].as<bool>()) {
    std::cerr << fmt::format("tasim serve: --prefix-match token matches whole blocks for {} (its layers form {} KV "
                             "groups)\n", model.name, layout.groups.size());
  }
  const auto serve_at = [&](const std::vector<serve::Request>& reqs, bool show_progress) {
    ServeProgressBar progress(show_progress && out.progress, reqs);
    serve::ServeResult r =
        serve::run_cluster(reqs, config, cluster, kv, [&](int replica, const serve::StepShape& shape) {
          const double t = steps.seconds(shape);
          progress.step(replica, shape, t);
          return t;
        });
    progress.finish();
    return r;
  };

  // --find-max-rate: the highest rate meeting the SLOs at the attainment asked for (a doubling
  // search for a rate that fails, then bisection to 1%).
  std::vector<std::pair<double, double>> searched;  // (rate, attainment %)
  double max_rate = 0;
  if (find_max_rate) {
    const auto meets = [&](double r) {
      const double a = serve::summarize(serve_at(serve_requests(vm, r), false), out.slo).slo_attainment_percent;
      searched.emplace_back(r, a);
      std::cerr << fmt::format("tasim serve: {:.4g} requests/s: {:.1f}% meet the SLOs\n", r, a);
      return a >= attainment_goal;
    };
    double lo = 0, hi = rate;
    while (meets(hi)) {
      lo = hi;
      hi *= 2;
      if (hi > 1e7) throw Error("tasim serve --find-max-rate: the SLOs are met at every rate tried (up to 1e7 requests/s)");
    }
    while (lo == 0 && hi > rate * 1e-6) {  // the first rate failed: halve until one meets
      hi /= 2;
      if (meets(hi)) lo = hi;
      if (lo == 0 && hi <= rate * 1e-6) throw Error("tasim serve --find-max-rate: no rate meets the SLOs");
      if (lo > 0) hi *= 2;
    }
    while (hi - lo > 0.01 * lo) {
      const double mid = (lo + hi) / 2;
      (meets(mid) ? lo : hi) = mid;
    }
    max_rate = lo;
    requests = serve_requests(vm, max_rate);  // the report is of the run at that rate
  }
  const serve::ServeResult result = serve_at(requests, true);
  const serve::ServeSummary s = serve::summarize(result, out.slo);

  JsonWriter j;
  j.begin_object();
  j.value("command", "serve");
  j.value("model", model.name);
  j.value("arch", chip.name);
  j.value("tp", tp);
  j.value("requests", static_cast<int>(requests.size()));
  // The replica's silicon and power budget as `tasim run` reports them, for sweeps to trade against.
  j.value("area_mm2", chip_area(chip).total_mm2() * tp);
  j.value("chip_peak_power_w", peak_power_w(chip));
  serve::summary_json(j, s);
  j.value("block_size", block);
  j.begin_object("kv_groups");
  j.value("layers_per_group", layout.layers_per_group);
  j.value("full", layout.groups_of(serve::KvGroup::Kind::full));
  j.value("sliding", layout.groups_of(serve::KvGroup::Kind::sliding));
  j.value("chunked", layout.groups_of(serve::KvGroup::Kind::chunked));
  j.end_object();
  j.value("scheduler", vm["scheduler"].as<std::string>());
  j.value("ordering", vm["ordering"].as<std::string>());
  j.value("replicas", result.replicas);
  j.value("routing", vm["routing"].as<std::string>());
  if (cluster.disaggregation.prefill_replicas > 0) {
    const auto& d = cluster.disaggregation;
    j.begin_object("disaggregation");
    j.value("prefill_replicas", d.prefill_replicas);
    j.value("decode_replicas", d.decode_replicas);
    j.value("kv_bytes_per_token", d.kv_bytes_per_token);
    j.value("link_gbps", d.link_bytes_per_s / 1e9);
    j.value("link_latency_us", d.link_latency_s * 1e6);
    std::vector<double> transfers;
    for (const serve::RequestRecord& r : result.requests) transfers.push_back(r.kv_transfer_s);
    serve::distribution_json(j, "kv_transfer_seconds", serve::distribution(transfers));
    j.end_object();
  }
  if (spec_k > 0) {
    j.begin_object("speculative_config");
    j.value("k", spec_k);
    j.value("drafter", draft ? draft->config.name : std::string("ngram"));
    j.begin_array("acceptance");
    for (const double a : config.speculative.acceptance) j.value({}, a);
    j.end_array();
    j.end_object();
  }
  if (find_max_rate) {
    j.begin_object("find_max_rate");
    j.value("max_rate_qps", max_rate);
    j.value("slo_attainment_percent", attainment_goal);
    j.begin_array("searched");
    for (const auto& [r, a] : searched) {
      j.begin_object();
      j.value("rate_qps", r);
      j.value("attainment_percent", a);
      j.end_object();
    }
    j.end_array();
    j.end_object();
  }
  j.begin_object("step_model");
  j.value("kind", exact ? "exact" : "fitted");
  j.value("probes", static_cast<std::uint64_t>(steps.probes()));
  if (exact) j.value("simulated_steps", static_cast<std::uint64_t>(steps.simulated()));
  step_model_json(j, steps.model());
  j.value("held_out_steps", check.steps);
  j.value("held_out_mean_error", check.mean_error);
  j.value("held_out_p90_error", check.p90_error);
  j.value("held_out_max_error", check.max_error);
  j.end_object();
  j.end_object();

  write_serve_files(out, result);
  if (!out.json.empty()) write_output(out.json, j.str(), "JSON summary");
  if (out.json != "-") {
    if (find_max_rate) {
      std::cout << fmt::format("tasim serve: max rate {:.4g} requests/s with {}% of requests meeting the SLOs "
                               "({} rates tried); the run at that rate:\n",
                               max_rate, attainment_goal, searched.size());
    }
    const auto& d = cluster.disaggregation;
    const std::string replicas =
        d.prefill_replicas > 0 ? fmt::format("{} prefill + {} decode replicas", d.prefill_replicas, d.decode_replicas)
        : result.replicas > 1  ? fmt::format("{} replicas, {} routing", result.replicas, vm["routing"].as<std::string>())
                               : std::string("1 replica");
    std::cout << fmt::format("tasim serve: {} on {} (tp {}, {}, {} scheduler), {} requests\n", model.name, chip.name,
                             tp, replicas, vm["scheduler"].as<std::string>(), requests.size())
              << serve::summary_text(s)
              << fmt::format("  KV cache         {} blocks of {} tokens{}\n"
                             "  step times       {} simulated steps{}\n",
                             total_blocks, block, kv_groups_text(layout, model), steps.simulated(),
                             checks > 0 ? fmt::format("; held-out error mean {:.2f}%, p90 {:.2f}%, max {:.2f}% over {} steps",
                                                      100 * check.mean_error, 100 * check.p90_error,
                                                      100 * check.max_error, checks)
                                        : std::string());
  }
  return 0;
}

}  // namespace tasim
