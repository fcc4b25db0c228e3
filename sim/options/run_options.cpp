#include "sim/options/run_options.h"

#include <map>

#include <fmt/format.h>

#include "common/error.h"
#include "common/printable.h"

namespace po = boost::program_options;

namespace tasim {

void add_arch_options(po::options_description& desc) {
  desc.add_options()
      ("arch", po::value<std::string>()->default_value("sohu-like"), "architecture: a preset name (tasim presets) or a YAML file")
      ("set", po::value<std::vector<std::string>>()->composing(), "override an architecture key: key.path=value (repeatable)");
}

void add_output_options(po::options_description& desc) {
  desc.add_options()
      ("json", po::value<std::string>(), "write the report as JSON to FILE ('-' for stdout; the text report is then omitted)")
      ("trace", po::value<std::string>(), "write a trace to FILE (Perfetto protobuf; open it in ui.perfetto.dev)")
      ("trace-format", po::value<std::string>()->default_value("perfetto"), "trace format: perfetto | json (Chrome JSON)")
      ("trace-detail", po::value<std::string>(), "trace slices per unit: op (layers and ops; the default for model "
                                                 "steps) | instruction (every instruction in them too; the default "
                                                 "for --program and gemm)")
      ("ideal-memory", po::bool_switch(), "SRAM and HBM with unlimited bandwidth and no latency");
}

void add_model_options(po::options_description& desc) {
  desc.add_options()
      ("model", po::value<std::string>()->default_value("llama-3-8b"), "model: a shipped name (configs/models) or a config.json / YAML path")
      ("phase", po::value<std::string>()->default_value("decode"), "decode | prefill | denoise (a diffusion transformer's step)")
      ("batch", po::value<int>()->default_value(64), "sequences in the batch (denoise: videos, default 1)")
      ("prompt-len", po::value<int>()->default_value(2048), "prefill: tokens per sequence")
      ("context-len", po::value<int>()->default_value(2048), "decode: tokens already in the KV cache per sequence")
      ("sequences", po::value<std::string>(), "a ragged step instead of --phase/--batch/--prompt-len/--context-len: "
                                              "CTX:NEW[xCOUNT],... (NEW tokens on top of CTX cached ones; "
                                              "2048:1x32,0:512 is 32 decodes at context 2048 and a 512-token prefill)")
      ("dtype", po::value<std::string>(), "weights, activations and KV cache: bf16 | fp8 | int8 (default bf16)")
      ("weight-dtype", po::value<std::string>(), "weights (overrides --dtype)")
      ("act-dtype", po::value<std::string>(), "activations (overrides --dtype)")
      ("kv-dtype", po::value<std::string>(), "KV cache (overrides --dtype)")
      ("chips", po::value<int>(), "chips of the system (sets system.chips of the architecture)")
      ("tp", po::value<int>()->default_value(1), "tensor parallel degree: shards every layer over this many chips")
      ("pp", po::value<int>()->default_value(1), "pipeline parallel degree: consecutive layers on each of this many chips")
      ("micro-batches", po::value<int>(), "pipeline parallel: micro-batches the batch is split into (default: --pp, at most the batch)")
      ("ep", po::value<int>()->default_value(1), "expert parallel degree (MoE): experts split over this many chips, attention data parallel")
      ("expert-load", po::value<std::string>()->default_value("uniform"), "MoE routing: uniform | zipf:S | w1,w2,... (one weight per expert)")
      ("mtp-draft", po::bool_switch(), "run the model's multi-token-prediction module (DeepSeek num_nextn_predict_layers), "
                                       "the drafter of tasim serve --drafter mtp, instead of the model")
      ("frames", po::value<int>()->default_value(81), "denoise: video frames (Wan2.1's default 81)")
      ("height", po::value<int>()->default_value(720), "denoise: video height in pixels")
      ("width", po::value<int>()->default_value(1280), "denoise: video width in pixels")
      ("steps", po::value<int>()->default_value(50), "denoise: denoising steps of a whole generation (Wan2.1 t2v: 50)")
      ("cfg", po::value<std::string>()->default_value("on"), "denoise: classifier-free guidance, on (the batch runs twice, "
                                                             "as one batch of 2 x --batch) | off");
}

void add_layer_reuse_options(po::options_description& desc) {
  desc.add_options()
      ("exact", po::bool_switch(), "simulate every decoder layer (default: the first --reuse-layers, the others "
                                   "extrapolated from their steady per-layer period; docs/performance.md)")
      ("materialize", po::bool_switch(), "compile every chip's whole program before simulating it (by default "
                                         "the compiler feeds each chip as it runs: the same results, less memory)")
      ("reuse-layers", po::value<int>()->default_value(workloads::kDefaultReuseLayers),
       "layers simulated before the others are extrapolated (>= 3; pipeline-parallel steps are always exact)");
}

void add_run_options(po::options_description& desc) {
  desc.add_options()("program", po::value<std::string>(), "run this program (.tasm or binary) instead of compiling a model");
  add_model_options(desc);
  add_layer_reuse_options(desc);
  add_arch_options(desc);
  add_output_options(desc);
}

ArchRequest arch_request_from(const po::variables_map& vm) {
  ArchRequest r;
  r.arch = vm["arch"].as<std::string>();
  if (vm.count("set")) r.overrides = vm["set"].as<std::vector<std::string>>();
  if (vm.count("chips")) r.chips = vm["chips"].as<int>();
  return r;
}

isa::DType parse_dtype(const std::string& name, const char* option) {
  // fp4 is no run dtype: 4-bit weights come from the model's quantization_config (MXFP4).
  for (const isa::DType t : {isa::DType::bf16, isa::DType::fp8, isa::DType::int8}) {
    if (name == isa::dtype_name(t)) return t;
  }
  if (name == "fp4") {
    throw Error(fmt::format("{} 'fp4': fp4 is no run dtype; MXFP4 weights come from a config's quantization_config "
                            "(quant_method: mxfp4)",
                            option));
  }
  throw Error(fmt::format("{} '{}' is not one of: bf16, fp8, int8", option, name));
}

std::vector<workloads::SequenceShape> parse_sequences(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return Error(fmt::format("--sequences '{}': {} (CTX:NEW[xCOUNT],..., e.g. 2048:1x32,0:512)", printable(text), why));
  };
  const auto whole = [&](const std::string& part, unsigned long long min) {
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos || part.size() > 9) {
      throw bad(fmt::format("'{}' is not a whole number", printable(part)));
    }
    const unsigned long long v = std::stoull(part);
    if (v < min) throw bad(fmt::format("{} is below {}", v, min));
    return v;
  };
  std::vector<workloads::SequenceShape> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const std::size_t colon = item.find(':');
    if (colon == std::string::npos) throw bad(fmt::format("'{}' has no CTX:NEW", printable(item)));
    const std::size_t times = item.find('x', colon);
    workloads::SequenceShape s;
    s.context = whole(item.substr(0, colon), 0);
    s.new_tokens = whole(item.substr(colon + 1, times == std::string::npos ? std::string::npos : times - colon - 1), 1);
    const unsigned long long count = times == std::string::npos ? 1 : whole(item.substr(times + 1), 1);
    if (out.size() + count > 1000000) throw bad("more than 10^6 sequences");
    out.insert(out.end(), count, s);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

workloads::StepRequest step_request_from(const po::variables_map& vm) {
  workloads::StepRequest r;
  r.model = vm["model"].as<std::string>();
  workloads::RunSpec& spec = r.spec;
  const std::string phase = vm["phase"].as<std::string>();
  if (phase == "decode") {
    spec.phase = workloads::Phase::decode;
  } else if (phase == "prefill") {
    spec.phase = workloads::Phase::prefill;
  } else if (phase == "denoise") {
    spec.phase = workloads::Phase::denoise;
  } else {
    throw Error(fmt::format("--phase '{}' is not one of: decode, prefill, denoise", phase));
  }
  spec.batch = vm["batch"].as<int>();
  if (spec.phase == workloads::Phase::denoise) {
    if (vm["batch"].defaulted()) spec.batch = 1;  // one video unless asked
    spec.video_frames = vm["frames"].as<int>();
    spec.video_height = vm["height"].as<int>();
    spec.video_width = vm["width"].as<int>();
    spec.denoise_steps = vm["steps"].as<int>();
    if (spec.denoise_steps < 1) throw Error(fmt::format("--steps {} must be >= 1", spec.denoise_steps));
    const std::string cfg = vm["cfg"].as<std::string>();
    if (cfg != "on" && cfg != "off") throw Error(fmt::format("--cfg '{}' is not one of: on, off", cfg));
    spec.cfg = cfg == "on";
  } else {
    for (const char* video : {"frames", "height", "width", "steps", "cfg"}) {
      if (vm.count(video) && !vm[video].defaulted()) {
        throw Error(fmt::format("--{} applies to --phase denoise (a diffusion transformer), not {}", video, phase));
      }
    }
  }
  spec.prompt_len = vm["prompt-len"].as<int>();
  spec.context_len = vm["context-len"].as<int>();
  if (vm.count("dtype")) spec.weight_dtype = spec.act_dtype = spec.kv_dtype = parse_dtype(vm["dtype"].as<std::string>());
  if (vm.count("weight-dtype")) spec.weight_dtype = parse_dtype(vm["weight-dtype"].as<std::string>(), "--weight-dtype");
  // A dtype given by the user replaces the checkpoint's weight format (quantization_config).
  if (vm.count("dtype") || vm.count("weight-dtype")) spec.checkpoint_weights = false;
  if (vm.count("act-dtype")) spec.act_dtype = parse_dtype(vm["act-dtype"].as<std::string>(), "--act-dtype");
  if (vm.count("kv-dtype")) spec.kv_dtype = parse_dtype(vm["kv-dtype"].as<std::string>(), "--kv-dtype");
  spec.tp = vm["tp"].as<int>();
  spec.pp = vm["pp"].as<int>();
  spec.ep = vm["ep"].as<int>();
  if (vm.count("micro-batches")) {
    spec.micro_batches = vm["micro-batches"].as<int>();  // left out: as many as stages (with_defaults)
    if (spec.micro_batches < 1) throw Error(fmt::format("--micro-batches {} must be >= 1", spec.micro_batches));
  }
  r.expert_load = vm["expert-load"].as<std::string>();
  r.mtp_draft = vm.count("mtp-draft") && vm["mtp-draft"].as<bool>();
  if (vm.count("sequences")) {
    for (const char* other : {"phase", "batch", "prompt-len", "context-len"}) {
      if (vm.count(other) && !vm[other].defaulted()) {
        throw Error(fmt::format("--sequences gives every sequence's lengths: --{} does not apply with it", other));
      }
    }
    spec.sequences = parse_sequences(vm["sequences"].as<std::string>());
  }
  if (vm.count("reuse-layers")) {  // `tasim run`; `tasim compile` writes every layer
    const int reuse = vm["reuse-layers"].as<int>();
    if (reuse < workloads::kMinReuseLayers) {
      throw Error(fmt::format("--reuse-layers {} must be >= {} (layer 0 and two periods to compare)", reuse,
                              workloads::kMinReuseLayers));
    }
    r.simulated_layers = vm.count("exact") && vm["exact"].as<bool>() ? 0 : reuse;
  }
  return r;
}

namespace {

// Reads the substitutions of a Boost option error (a protected member) through a
// pointer-to-member taken in a derived class.
struct SubstitutionsOf : po::error_with_option_name {
  static const std::map<std::string, std::string>& of(const po::error_with_option_name& e) {
    return e.*(&SubstitutionsOf::m_substitutions);
  }
};

// '%' -> "\x1f1" and '\x1f' -> "\x1f0": no '%' is left for Boost to expand, and the text
// comes back exactly (Boost's own message templates have no \x1f).
constexpr char kShield = '\x1f';
std::string shield(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%') {
      out += kShield;
      out += '1';
    } else if (c == kShield) {
      out += kShield;
      out += '0';
    } else {
      out += c;
    }
  }
  return out;
}
std::string unshield(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == kShield && i + 1 < text.size() && (text[i + 1] == '0' || text[i + 1] == '1')) {
      out += text[i + 1] == '1' ? '%' : kShield;
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::string option_error_message(po::error& e) {
  auto* named = dynamic_cast<po::error_with_option_name*>(&e);
  if (named == nullptr) return e.what();
  const auto substitutions = SubstitutionsOf::of(*named);  // a copy: set_substitute changes the map
  for (const auto& [key, value] : substitutions) named->set_substitute(key, shield(value));
  return unshield(named->what());
}

}  // namespace tasim
