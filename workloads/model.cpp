#include "workloads/model.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/suggest.h"
#include "common/yaml_util.h"
#include "workloads/models_embedded.h"

namespace tasim::workloads {
namespace {

using u128 = unsigned __int128;

// Limits beyond any published model, that keep every analytic count within 64 bits for sane steps.
constexpr long long kMaxHidden = 1 << 20;
constexpr long long kMaxIntermediate = 1 << 22;
constexpr long long kMaxLayers = 4096;
constexpr long long kMaxHeads = 4096;
constexpr long long kMaxHeadDim = 4096;
constexpr long long kMaxVocab = 1 << 24;
constexpr long long kMaxPositions = 1 << 30;
constexpr long long kMaxExperts = 4096;

const char* const kHfModelTypes[] = {"llama",       "mistral",     "mixtral",  "qwen2",     "qwen3",
                                     "qwen2_moe",   "qwen3_moe",   "deepseek_v2", "deepseek_v3", "kimi_k2",
                                     "gpt_oss",     "gemma2",      "gemma3_text", "llama4_text", "t2v"};

// ---- text helpers ------------------------------------------------------------------------

std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string best = closest_match(name, candidates);
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}


bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "llama-3-8b" from "configs/models/llama-3-8b.json"; a Hugging Face snapshot's ".../Qwen3-8B/config.json"
// is named after its directory.
std::string model_name_from_source(const std::string& source) {
  const std::filesystem::path path(source);
  if (path.filename() == "config.json" && path.has_parent_path()) {
    const std::string dir = path.parent_path().filename().string();
    if (!dir.empty() && dir != "." && dir != "..") return dir;
  }
  return path.stem().string();
}

// ---- typed field access -----------------------------------------------------------------

// Reads fields of one mapping (the HF config or our YAML), with errors naming the file, the line
// and the field.
class Fields {
 public:
  // `prefix` names a nested mapping in messages ("text_config.").
  Fields(const YAML::Node& map, std::string source, std::string prefix = "")
      : map_(map), source_(std::move(source)), prefix_(std::move(prefix)) {}
  std::string name(const std::string& key) const { return prefix_ + key; }

  const std::string& source() const { return source_; }
  // Present and not null.
  bool has(const std::string& key) const {
    const YAML::Node v = map_[key];
    return v.IsDefined() && !v.IsNull();
  }

  long long integer(const std::string& key, long long lo, long long hi) const {
    const YAML::Node v = require(key);
    return integer_value(key, v, lo, hi);
  }
  long long integer_or(const std::string& key, long long fallback, long long lo, long long hi) const {
    return has(key) ? integer_value(key, map_[key], lo, hi) : fallback;
  }
  double real_or(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const YAML::Node v = scalar(key);
    reject_quoted(key, v, "a number");
    double value = 0;
    try {
      value = v.as<double>();
    } catch (const YAML::Exception&) {
      throw Error(fmt::format("{}: {}: expected a number, got '{}'", yaml_where(source_, v.Mark()), prefix_ + key, v.Scalar()));
    }
    if (!std::isfinite(value) || value <= 0) {
      throw Error(fmt::format("{}: {}: must be a positive number, got {}", yaml_where(source_, v.Mark()), prefix_ + key,
                              v.Scalar()));
    }
    return value;
  }
  bool boolean_or(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const YAML::Node v = scalar(key);
    try {
      return v.as<bool>();
    } catch (const YAML::Exception&) {
      throw Error(fmt::format("{}: {}: expected true or false, got '{}'", yaml_where(source_, v.Mark()), prefix_ + key,
                              v.Scalar()));
    }
  }
  std::string text(const std::string& key) const { return scalar(require(key), key).Scalar(); }
  std::string text_or(const std::string& key, const std::string& fallback) const {
    return has(key) ? scalar(key).Scalar() : fallback;
  }
  // One of `choices`.
  std::string choice_or(const std::string& key, const std::string& fallback,
                        const std::vector<std::string>& choices) const {
    if (!has(key)) return fallback;
    const YAML::Node v = scalar(key);
    if (std::find(choices.begin(), choices.end(), v.Scalar()) == choices.end()) {
      throw Error(fmt::format("{}: {}: expected one of {}, got '{}'{}", yaml_where(source_, v.Mark()), prefix_ + key,
                              fmt::join(choices, ", "), v.Scalar(), did_you_mean(v.Scalar(), choices)));
    }
    return v.Scalar();
  }
  YAML::Mark mark(const std::string& key) const {
    const YAML::Node v = map_[key];
    return v.IsDefined() ? v.Mark() : YAML::Mark::null_mark();
  }
  std::string at(const std::string& key) const { return yaml_where(source_, mark(key)); }
  YAML::Node node(const std::string& key) const { return map_[key]; }

 private:
  YAML::Node require(const std::string& key) const {
    const YAML::Node v = map_[key];
    if (!v.IsDefined()) throw Error(fmt::format("{}: missing required field '{}'", source_, prefix_ + key));
    if (v.IsNull()) {
      throw Error(fmt::format("{}: {}: required field is null", yaml_where(source_, v.Mark()), prefix_ + key));
    }
    return v;
  }
  YAML::Node scalar(const std::string& key) const { return scalar(map_[key], key); }
  YAML::Node scalar(const YAML::Node& v, const std::string& key) const {
    if (!v.IsScalar()) {
      throw Error(fmt::format("{}: {}: expected a single value, got {}", yaml_where(source_, v.Mark()), prefix_ + key,
                              yaml_node_kind(v)));
    }
    return v;
  }
  // A number written as a string ("256") is refused: a config that quotes it probably means
  // something else, and JSON says it is text.
  void reject_quoted(const std::string& key, const YAML::Node& v, const char* expected) const {
    if (v.Tag() == "!") {
      throw Error(fmt::format("{}: {}: expected {}, got the string \"{}\"", yaml_where(source_, v.Mark()), prefix_ + key,
                              expected, v.Scalar()));
    }
  }
  long long integer_value(const std::string& key, const YAML::Node& node, long long lo, long long hi) const {
    const YAML::Node v = scalar(node, key);
    reject_quoted(key, v, "an integer");
    const std::string& text = v.Scalar();
    long long value = 0;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr != end || text.empty()) {
      throw Error(fmt::format("{}: {}: expected an integer, got '{}'", yaml_where(source_, v.Mark()), prefix_ + key, text));
    }
    if (value < lo || value > hi) {
      throw Error(fmt::format("{}: {}: {} is out of range [{}, {}]", yaml_where(source_, v.Mark()), prefix_ + key, value, lo,
                              hi));
    }
    return value;
  }

  const YAML::Node map_;
  std::string source_;
  std::string prefix_;
};

// Parses JSON or YAML text into its top-level mapping.
// A key given twice is refused at any depth: JSON and YAML readers disagree on which one wins.
void reject_duplicate_keys(const YAML::Node& node, const std::string& source) {
  if (node.IsSequence()) {
    for (const auto& item : node) reject_duplicate_keys(item, source);
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, YAML::Mark> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.IsScalar()) {
      const std::string& name = it->first.Scalar();
      if (const auto first = seen.find(name); first != seen.end()) {
        throw Error(fmt::format("{}: duplicate key '{}' (first given at line {})", yaml_where(source, it->first.Mark()),
                                name, first->second.line + 1));
      }
      seen.emplace(name, it->first.Mark());
    }
    reject_duplicate_keys(it->second, source);
  }
}

YAML::Node load_mapping(const std::string& text, const std::string& source, const char* format) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: malformed {}: {}", yaml_where(source, e.mark), format, e.msg));
  }
  if (!root.IsMap()) {
    throw Error(fmt::format("{}: expected a mapping of model fields at the top level, got {}",
                            yaml_where(source, root.Mark()), root.IsDefined() ? yaml_node_kind(root) : "nothing"));
  }
  reject_duplicate_keys(root, source);
  return root;
}

int as_int(long long v) { return static_cast<int>(v); }

std::uint64_t checked(u128 v, const ModelConfig& m) {
  if (v > std::numeric_limits<std::uint64_t>::max()) {
    throw Error(fmt::format("model {}: parameter count overflows 64 bits", m.name));
  }
  return static_cast<std::uint64_t>(v);
}

// ---- Hugging Face config.json ------------------------------------------------------------

MlpKind hf_mlp_kind(const Fields& f, const std::string& type) {
  // Gemma names it hidden_activation and gates it (GeGLU); the others gate SiLU.
  const bool gemma = type.rfind("gemma", 0) == 0;
  const std::string key = gemma && f.has("hidden_activation") ? "hidden_activation" : "hidden_act";
  const std::string act = f.text_or(key, gemma ? "gelu_pytorch_tanh" : "silu");
  if (act == "silu" || act == "swish") return MlpKind::swiglu;
  if (act.rfind("gelu", 0) == 0) return gemma ? MlpKind::geglu : MlpKind::gelu;
  throw Error(fmt::format("{}: {}: unsupported activation '{}' (supported: silu, gelu variants)", f.at(key),
                          f.name(key), act));
}

std::string hf_rope_scaling(const Fields& f) {
  if (!f.has("rope_scaling")) return "";
  const YAML::Node v = f.node("rope_scaling");
  if (!v.IsMap()) {
    throw Error(fmt::format("{}: {}: expected null or a mapping, got {}", f.at("rope_scaling"),
                            f.name("rope_scaling"), yaml_node_kind(v)));
  }
  for (const char* key : {"rope_type", "type"}) {
    const YAML::Node t = v[key];
    if (t.IsDefined() && t.IsScalar()) return t.Scalar();
  }
  return "unspecified";
}

bool is_one_of(const std::string& s, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (s == n) return true;
  }
  return false;
}
bool is_deepseek(const std::string& t) { return is_one_of(t, {"deepseek_v2", "deepseek_v3", "kimi_k2"}); }
bool is_gemma(const std::string& t) { return is_one_of(t, {"gemma2", "gemma3_text"}); }

// A list of layer indices (mlp_only_layers, moe_layers), each checked against the layer count.
std::vector<int> layer_list(const Fields& f, const std::string& key, int layers) {
  std::vector<int> out;
  if (!f.has(key)) return out;
  const YAML::Node v = f.node(key);
  if (!v.IsSequence()) {
    throw Error(fmt::format("{}: {}: expected a list of layer indices, got {}", f.at(key), f.name(key),
                            yaml_node_kind(v)));
  }
  for (const auto& item : v) {
    int layer = -1;
    try {
      layer = item.as<int>();
    } catch (const YAML::Exception&) {
    }
    if (layer < 0 || layer >= layers) {
      throw Error(fmt::format("{}: {}: '{}' is not a layer index in [0, {})", yaml_where(f.source(), item.Mark()),
                              f.name(key), item.IsScalar() ? item.Scalar() : "?", layers));
    }
    out.push_back(layer);
  }
  return out;
}

// Llama 4's no_rope_layers: per layer 1 (RoPE, chunked attention) or 0 (NoPE, full attention);
// absent, every fourth layer is NoPE (transformers' default).
std::vector<bool> llama4_rope_layers(const Fields& f, int layers) {
  std::vector<bool> rope;
  for (int l = 0; l < layers; ++l) rope.push_back((l + 1) % 4 != 0);
  if (!f.has("no_rope_layers")) return rope;
  const YAML::Node v = f.node("no_rope_layers");
  if (v.IsSequence() && v.size() == 0) return rope;  // transformers: an empty list means the default
  if (!v.IsSequence() || static_cast<int>(v.size()) != layers) {
    throw Error(fmt::format("{}: {}: expected a list of {} entries, 0 or 1 (one per layer)", f.at("no_rope_layers"),
                            f.name("no_rope_layers"), layers));
  }
  for (int l = 0; l < layers; ++l) {
    const YAML::Node item = v[static_cast<std::size_t>(l)];
    const std::string t = item.IsScalar() ? item.Scalar() : "";
    if (t != "0" && t != "1") {
      throw Error(fmt::format("{}: {}: '{}' is not 0 or 1", yaml_where(f.source(), item.Mark()),
                              f.name("no_rope_layers"), item.IsScalar() ? t : yaml_node_kind(item)));
    }
    rope[static_cast<std::size_t>(l)] = t == "1";
  }
  return rope;
}

// layer_types (gpt-oss, Gemma 2/3 in recent transformers): one entry per layer.
std::vector<LayerAttention> hf_layer_types(const Fields& f, int layers) {
  const YAML::Node v = f.node("layer_types");
  if (!v.IsSequence() || static_cast<int>(v.size()) != layers) {
    throw Error(fmt::format("{}: {}: expected a list of {} layer types (one per layer)", f.at("layer_types"),
                            f.name("layer_types"), layers));
  }
  std::vector<LayerAttention> out;
  for (const auto& item : v) {
    const std::string t = item.IsScalar() ? item.Scalar() : "";
    if (t == "full_attention") {
      out.push_back(LayerAttention::full);
    } else if (t == "sliding_attention") {
      out.push_back(LayerAttention::sliding);
    } else if (t == "chunked_attention") {
      out.push_back(LayerAttention::chunked);
    } else {
      throw Error(fmt::format("{}: {}: layer type '{}' is not modelled (supported: full_attention, "
                              "sliding_attention, chunked_attention)",
                              yaml_where(f.source(), item.Mark()), f.name("layer_types"), t));
    }
  }
  return out;
}

// Fields that change the compute in ways tasim does not model: refused by name rather than run
// wrongly. Everything else a config may hold (dropout, token ids, init ranges, eps, routing
// details that pick experts without changing their number) does not change timing.
void reject_unmodelled_fields(const Fields& f, const std::string& type) {
  const auto refuse = [&](const std::string& key, const std::string& why) {
    throw Error(fmt::format("{}: {}: {} (not modelled for model_type {})", f.at(key), f.name(key), why, type));
  };
  if (f.boolean_or("use_sliding_window", false) && !is_one_of(type, {"mistral", "mixtral"})) {
    refuse("use_sliding_window", "sliding-window layers chosen by max_window_layers");
  }
  if (f.has("attention_chunk_size") && type != "llama4_text") refuse("attention_chunk_size", "chunked attention");
  if (f.has("cross_attention_layers")) refuse("cross_attention_layers", "cross-attention layers");
  if (f.has("linear_attn_config") || f.has("full_attn_idxs")) {
    refuse(f.has("linear_attn_config") ? "linear_attn_config" : "full_attn_idxs", "linear attention layers");
  }
  if (f.has("num_nextn_predict_layers") && f.integer_or("num_nextn_predict_layers", 0, 0, 64) > 0 &&
      !is_deepseek(type)) {
    refuse("num_nextn_predict_layers", "multi-token prediction modules");
  }
}

// The text model's mapping: the config itself, or its text_config (Gemma 3, Llama 4) whose
// model_type is the text model's (gemma3 -> gemma3_text, llama4 -> llama4_text).
struct TextConfig {
  YAML::Node map;
  std::string prefix;
  std::string model_type;
};

TextConfig text_config_of(const YAML::Node& root, const Fields& top) {
  const std::string outer = top.text("model_type");
  const YAML::Node nested = root["text_config"];
  if (!nested.IsDefined() || nested.IsNull()) return {root, "", outer};
  if (!nested.IsMap()) {
    throw Error(fmt::format("{}: text_config: expected a mapping, got {}", top.at("text_config"),
                            yaml_node_kind(nested)));
  }
  const Fields inner(nested, top.source(), "text_config.");
  std::string type = inner.text_or("model_type", outer == "gemma3" || outer == "llama4" ? outer + "_text" : outer);
  return {nested, "text_config.", type};
}

void read_attention_shape(const Fields& f, const std::string& type, ModelConfig& m) {
  m.num_heads = as_int(f.integer("num_attention_heads", 1, kMaxHeads));
  m.num_kv_heads = as_int(f.integer_or("num_key_value_heads", m.num_heads, 1, kMaxHeads));
  if (f.has("head_dim")) {
    m.head_dim = as_int(f.integer("head_dim", 1, kMaxHeadDim));
  } else if (type == "qwen3" || type == "qwen3_moe") {
    m.head_dim = 128;  // transformers' Qwen3Config default
  } else if (type == "gemma3_text" || type == "gemma2") {
    m.head_dim = 256;  // transformers' Gemma2/3 default
  } else {
    if (m.hidden_size % m.num_heads != 0) {
      throw Error(fmt::format("{}: {}: not given and hidden_size {} is not a multiple of num_attention_heads {}",
                              f.source(), f.name("head_dim"), m.hidden_size, m.num_heads));
    }
    m.head_dim = m.hidden_size / m.num_heads;
  }
  if (m.num_kv_heads > m.num_heads || m.num_heads % m.num_kv_heads != 0) {
    throw Error(fmt::format("{}: {}: {} does not divide num_attention_heads {}", f.at("num_key_value_heads"),
                            f.name("num_key_value_heads"), m.num_kv_heads, m.num_heads));
  }
}

void read_mla(const Fields& f, ModelConfig& m) {
  m.mla = true;
  MlaDims& d = m.mla_dims;
  d.q_lora_rank = as_int(f.integer_or("q_lora_rank", 0, 0, kMaxHidden));
  d.kv_lora_rank = as_int(f.integer("kv_lora_rank", 1, kMaxHidden));
  d.qk_nope_head_dim = as_int(f.integer("qk_nope_head_dim", 1, kMaxHeadDim));
  d.qk_rope_head_dim = as_int(f.integer("qk_rope_head_dim", 1, kMaxHeadDim));
  d.v_head_dim = as_int(f.integer("v_head_dim", 1, kMaxHeadDim));
  m.head_dim = d.qk_head_dim();
  m.num_kv_heads = m.num_heads;  // after the up-projection every head has its own key and value
  m.mtp_layers = as_int(f.integer_or("num_nextn_predict_layers", 0, 0, 64));
}

// Experts, per-layer MoE placement and shared experts under each family's names.
void read_moe(const Fields& f, const std::string& type, ModelConfig& m) {
  std::string experts_key;
  for (const char* key : {"num_local_experts", "num_experts", "n_routed_experts"}) {
    if (f.has(key)) experts_key = key;
  }
  if (experts_key.empty()) {
    // These families are MoE by definition: a config without its experts is a mistake.
    if (is_one_of(type, {"mixtral", "gpt_oss", "llama4_text"})) f.integer("num_local_experts", 1, kMaxExperts);
    if (is_one_of(type, {"qwen2_moe", "qwen3_moe"})) f.integer("num_experts", 1, kMaxExperts);
    return;
  }
  m.num_experts = as_int(f.integer(experts_key, 0, kMaxExperts));
  if (m.num_experts == 0) return;
  const std::string topk_key = f.has("num_experts_per_tok") ? "num_experts_per_tok" : "experts_per_token";
  m.experts_per_token = as_int(f.integer(topk_key, 1, kMaxExperts));
  if (m.experts_per_token > m.num_experts) {
    throw Error(fmt::format("{}: {}: {} exceeds {} {}", f.at(topk_key), f.name(topk_key), m.experts_per_token,
                            experts_key, m.num_experts));
  }
  if (f.has("moe_intermediate_size")) {
    m.expert_intermediate_size = as_int(f.integer("moe_intermediate_size", 1, kMaxIntermediate));
  }
  std::vector<bool> moe(static_cast<std::size_t>(m.num_layers), true);
  if (is_deepseek(type)) {
    const int first_dense = as_int(f.integer_or("first_k_dense_replace", 0, 0, m.num_layers));
    const int freq = as_int(f.integer_or("moe_layer_freq", 1, 1, m.num_layers));
    for (int l = 0; l < m.num_layers; ++l) moe[static_cast<std::size_t>(l)] = l >= first_dense && l % freq == 0;
    const int shared = as_int(f.integer_or("n_shared_experts", 0, 0, kMaxExperts));
    m.shared_expert_intermediate_size = shared * m.expert_width();
    m.router_bias = f.text_or("topk_method", "") == "noaux_tc";  // e_score_correction_bias
  } else if (type == "qwen2_moe" || type == "qwen3_moe") {
    const int step = as_int(f.integer_or("decoder_sparse_step", 1, 1, m.num_layers));
    for (int l = 0; l < m.num_layers; ++l) moe[static_cast<std::size_t>(l)] = (l + 1) % step == 0;
    for (int l : layer_list(f, "mlp_only_layers", m.num_layers)) moe[static_cast<std::size_t>(l)] = false;
    if (type == "qwen2_moe") {
      m.shared_expert_intermediate_size =
          as_int(f.integer_or("shared_expert_intermediate_size", 0, 0, kMaxIntermediate));
      m.shared_expert_gate = m.shared_expert_intermediate_size > 0;
    }
  } else if (type == "llama4_text") {
    // Experts and the shared expert are intermediate_size wide; dense layers intermediate_size_mlp.
    m.expert_intermediate_size = m.intermediate_size;
    m.shared_expert_intermediate_size = m.intermediate_size;
    m.intermediate_size = as_int(f.integer_or("intermediate_size_mlp", m.intermediate_size, 1, kMaxIntermediate));
    const std::vector<int> listed = layer_list(f, "moe_layers", m.num_layers);
    const int step = as_int(f.integer_or("interleave_moe_layer_step", 1, 1, m.num_layers));
    for (int l = 0; l < m.num_layers; ++l) moe[static_cast<std::size_t>(l)] = (l + 1) % step == 0;
    if (f.has("moe_layers")) {
      moe.assign(moe.size(), false);
      for (int l : listed) moe[static_cast<std::size_t>(l)] = true;
    }
  } else if (type == "gpt_oss") {
    m.mlp_bias = true;  // the experts' gate_up and down carry biases, as does the router
    m.router_bias = true;
  }
  if (std::find(moe.begin(), moe.end(), false) != moe.end()) m.moe_layers = moe;
}

// Sliding, chunked and full layers.
void read_attention_spans(const Fields& f, const std::string& type, ModelConfig& m) {
  const bool window_used = type == "mistral" || type == "mixtral" || type == "gpt_oss" || is_gemma(type);
  if (window_used && f.has("sliding_window")) {
    m.sliding_window = as_int(f.integer("sliding_window", 1, kMaxPositions));
  } else if (type == "gemma3_text") {
    m.sliding_window = 4096;  // transformers' Gemma3TextConfig default
  }
  if (f.has("layer_types")) {
    m.layer_attention = hf_layer_types(f, m.num_layers);
  } else if (is_gemma(type)) {
    // Gemma 2 alternates local and global layers; Gemma 3 has pattern - 1 local layers per global.
    const int pattern = type == "gemma2" ? 2 : as_int(f.integer_or("sliding_window_pattern", 6, 1, m.num_layers));
    for (int l = 0; l < m.num_layers; ++l) {
      m.layer_attention.push_back((l + 1) % pattern == 0 ? LayerAttention::full : LayerAttention::sliding);
    }
  }
  if (type == "llama4_text") {
    const std::vector<bool> rope = llama4_rope_layers(f, m.num_layers);
    if (std::find(rope.begin(), rope.end(), false) != rope.end()) {
      for (bool r : rope) m.nope_layers.push_back(!r);
    }
  }
  if (!f.has("layer_types") && type == "llama4_text" && f.has("attention_chunk_size")) {
    // RoPE layers attend within their chunk; the NoPE layers (no_rope_layers[l] == 0, every
    // fourth by default) attend every key.
    m.attention_chunk_size = as_int(f.integer("attention_chunk_size", 1, kMaxPositions));
    const std::vector<bool> rope = llama4_rope_layers(f, m.num_layers);
    for (int l = 0; l < m.num_layers; ++l) {
      m.layer_attention.push_back(rope[static_cast<std::size_t>(l)] ? LayerAttention::chunked : LayerAttention::full);
    }
  }
  const bool any_sliding = std::find(m.layer_attention.begin(), m.layer_attention.end(), LayerAttention::sliding) !=
                           m.layer_attention.end();
  if (any_sliding && m.sliding_window == 0) {
    throw Error(fmt::format("{}: {}: sliding layers need a sliding_window", f.source(), f.name("sliding_window")));
  }
}

// Biases, norms and soft-capping by family.
void read_family_details(const Fields& f, const std::string& type, ModelConfig& m) {
  if (is_one_of(type, {"llama", "qwen3", "qwen3_moe", "gpt_oss", "llama4_text", "gemma2", "gemma3_text"})) {
    const bool attention_bias = f.boolean_or("attention_bias", type == "gpt_oss");
    m.qkv_bias = attention_bias;
    m.o_bias = attention_bias;
  }
  if (type == "llama") m.mlp_bias = f.boolean_or("mlp_bias", false);
  if (type == "qwen2" || type == "qwen2_moe") m.qkv_bias = true;  // q, k, v with bias, o without
  if (is_one_of(type, {"qwen3", "qwen3_moe", "gemma3_text"})) m.qk_norm = true;
  if (type == "llama4_text" && f.boolean_or("use_qk_norm", false)) {
    m.qk_norm = true;
    m.qk_norm_weights = false;  // an L2 norm without a gamma
  }
  if (type == "gpt_oss") m.attention_sinks = true;
  if (is_gemma(type)) {
    m.norms_per_layer = 4;
    if (f.has("attn_logit_softcapping")) m.attn_logit_softcap = f.real_or("attn_logit_softcapping", 0);
    if (f.has("final_logit_softcapping")) m.final_logit_softcap = f.real_or("final_logit_softcapping", 0);
  }
}

// A modules_to_not_convert entry ("model.layers.*.self_attn", "lm_head") as the part of the model
// it names; tasim stores a part in one format, so an entry naming less than a part is refused.
WeightModule not_converted_module(const Fields& q, const std::string& entry, const std::string& key) {
  std::string rest = entry;
  // compressed-tensors' patterns: "re:.*mlp.gate$" names every layer's mlp.gate.
  if (rest.rfind("re:", 0) == 0) {
    rest = rest.substr(3);
    if (rest.rfind(".*", 0) == 0) rest = rest.substr(2);
    if (!rest.empty() && rest.back() == '$') rest.pop_back();
  }
  for (const char* prefix : {"model.language_model.", "language_model.model.", "model.", "layers.*.", "h.*."}) {
    if (rest.rfind(prefix, 0) == 0) rest = rest.substr(std::strlen(prefix));
  }
  if (rest == "self_attn" || rest == "attn" || rest == "self_attention") return WeightModule::attention;
  if (rest == "mlp" || rest == "mlp.experts" || rest == "block_sparse_moe" || rest == "block_sparse_moe.experts" ||
      rest == "feed_forward") {
    return WeightModule::mlp;
  }
  if (rest == "mlp.router" || rest == "mlp.gate" || rest == "block_sparse_moe.gate" || rest == "feed_forward.router") {
    return WeightModule::router;
  }
  if (rest == "embed_tokens") return WeightModule::embedding;
  if (rest == "lm_head") return WeightModule::lm_head;
  throw Error(fmt::format("{}: quantization_config.{}: '{}' names no whole part tasim stores "
                          "apart (self_attn, mlp, mlp.experts, mlp.router, mlp.gate, embed_tokens, lm_head)",
                          q.at(key), key, entry));
}

// llm-compressor's compressed-tensors scheme (quant_method "compressed-tensors"): every
// config_groups entry must describe the same scheme (several schemes per model are not modelled).
// Weights: int of 4 or 8 bits per group, channel or tensor (GPTQ-like scales: a 16-bit scale, and
// a zero point of the value width when not symmetric), or float of 8 bits (fp8 e4m3) per channel
// or tensor. Input activations: none (weight-only, W4A16/W8A16: multiplied in bf16), int of 8 bits
// (W4A8/W8A8: multiplied in int8) or float of 8 bits (multiplied in fp8), dynamic or static.
WeightFormat compressed_tensors_format(const Fields& q) {
  const YAML::Node groups = q.node("config_groups");
  if (!groups.IsDefined() || !groups.IsMap() || groups.size() == 0) {
    throw Error(fmt::format("{}: quantization_config.config_groups: expected a mapping of quantization schemes",
                            q.at("config_groups")));
  }
  std::string scheme_seen;
  WeightFormat out;
  for (const auto& entry : groups) {
    const std::string name = entry.first.IsScalar() ? entry.first.Scalar() : "?";
    if (!entry.second.IsMap()) {
      throw Error(fmt::format("{}: quantization_config.config_groups.{}: expected a mapping",
                              yaml_where(q.source(), entry.second.Mark()), name));
    }
    const std::string where = "quantization_config.config_groups." + name + ".";
    const Fields g(entry.second, q.source(), where);
    const YAML::Node targets = g.node("targets");
    if (targets.IsDefined() && !targets.IsNull()) {
      bool linear = targets.IsSequence() && targets.size() > 0;
      for (const YAML::Node& t : targets) linear = linear && t.IsScalar() && t.Scalar() == "Linear";
      if (!linear) {
        throw Error(fmt::format("{}: {}targets: only [\"Linear\"] (every linear layer) is modelled", g.at("targets"), where));
      }
    }
    if (!g.node("weights").IsMap()) {
      throw Error(fmt::format("{}: {}weights: expected the weights' scheme (a mapping)", g.at("weights"), where));
    }
    const Fields w(g.node("weights"), q.source(), where + "weights.");
    const std::string type = w.choice_or("type", "int", {"int", "float"});
    const int bits = static_cast<int>(w.integer("num_bits", 1, 64));
    const std::string strategy = w.choice_or("strategy", "tensor", {"tensor", "channel", "group", "block", "token"});
    if (strategy == "block" || strategy == "token") {
      throw Error(fmt::format("{}: {}weights.strategy: '{}' is not modelled (tensor, channel, group)", w.at("strategy"),
                              where, strategy));
    }
    if (type == "int" ? (bits != 4 && bits != 8) : bits != 8) {
      throw Error(fmt::format("{}: {}weights.num_bits: {}-bit {} weights are not modelled ({})", w.at("num_bits"),
                              where, bits, type, type == "int" ? "4 or 8" : "8, fp8 e4m3"));
    }
    const std::uint64_t group =
        strategy == "group" ? static_cast<std::uint64_t>(w.integer("group_size", 1, 1 << 20)) : 0;
    WeightFormat f = integer_weight_format(bits, group, !w.boolean_or("symmetric", true));
    if (strategy == "tensor") {  // one scale per matrix: a handful of bytes, not counted
      f.per_output_channel = false;
      f.scale_bits = 0;
      f.name = fmt::format("int{}-tensor", bits);
    }
    if (type == "float") f.name = "fp8" + f.name.substr(f.name.find('-'));  // e4m3 values, 16-bit scales
    // The activations: none keeps the matmul in bf16; 8-bit ones set its dtype.
    isa::DType compute = isa::DType::bf16;
    const YAML::Node acts = g.node("input_activations");
    if (acts.IsDefined() && !acts.IsNull()) {
      if (!acts.IsMap()) {
        throw Error(fmt::format("{}: {}input_activations: expected a mapping or null", g.at("input_activations"), where));
      }
      const Fields a(acts, q.source(), where + "input_activations.");
      const std::string atype = a.choice_or("type", "int", {"int", "float"});
      if (a.integer("num_bits", 1, 64) != 8) {
        throw Error(fmt::format("{}: {}input_activations.num_bits: only 8-bit activations are modelled",
                                a.at("num_bits"), where));
      }
      compute = atype == "int" ? isa::DType::int8 : isa::DType::fp8;
      f.name += atype == "int" ? "-a8" : "-afp8";
    }
    f.compute_dtype = compute;
    const std::string scheme = f.name + "/" + std::to_string(f.scale_bits);
    if (!scheme_seen.empty() && scheme != scheme_seen) {
      throw Error(fmt::format("{}: quantization_config.config_groups: schemes that differ between groups are not "
                              "modelled ({} and {})",
                              q.at("config_groups"), scheme_seen.substr(0, scheme_seen.find('/')), f.name));
    }
    scheme_seen = scheme;
    out = f;
  }
  return out;
}

// A config's quantization_config: the checkpoint's weight format and the parts stored in it.
// Methods that change the bytes or the compute and are not understood are refused by name.
WeightQuantization hf_quantization(const YAML::Node& root, const std::string& source) {
  WeightQuantization w;
  const YAML::Node node = root["quantization_config"];
  if (!node.IsDefined() || node.IsNull()) return w;
  if (!node.IsMap()) {
    throw Error(fmt::format("{}: quantization_config: expected a mapping, got {}", yaml_where(source, node.Mark()),
                            yaml_node_kind(node)));
  }
  const Fields q(node, source, "quantization_config.");
  const std::string method = q.text("quant_method");
  auto& c = w.converted;
  const auto set = [&](std::initializer_list<WeightModule> parts) {
    for (WeightModule m : parts) c[static_cast<int>(m)] = true;
  };
  if (method == "mxfp4") {
    // transformers' Mxfp4 quantizer converts the MoE experts only (gpt-oss).
    w.format = mxfp4_weight_format();
    set({WeightModule::mlp});
  } else if (method == "gptq" || method == "awq") {
    // Both convert the decoder layers' linears; embeddings and the head stay unquantized.
    const std::string bits_key = q.has("bits") || !q.has("w_bit") ? "bits" : "w_bit";  // w_bit: older AWQ configs
    const int bits = static_cast<int>(q.integer(bits_key, 1, 64));
    if (bits != 4 && !(bits == 8 && method == "gptq")) {
      throw Error(fmt::format("{}: quantization_config.{}: {}-bit {} weights are not modelled (4{})", q.at(bits_key),
                              bits_key, bits, method, method == "gptq" ? " or 8" : ""));
    }
    const std::string group_key = q.has("group_size") || !q.has("q_group_size") ? "group_size" : "q_group_size";
    const long long group = q.integer(group_key, -1, 1 << 20);
    if (group == 0) {
      throw Error(fmt::format("{}: quantization_config.{}: 0 is not a group size (a positive size, or -1 for one "
                              "scale per output channel)",
                              q.at(group_key), group_key));
    }
    // GPTQ stores a zero point per group unless symmetric; AWQ unless zero_point: false.
    const bool zero_point = method == "gptq" ? !q.boolean_or("sym", true) : q.boolean_or("zero_point", true);
    w.format = integer_weight_format(bits, group < 0 ? 0 : static_cast<std::uint64_t>(group), zero_point);
    set({WeightModule::attention, WeightModule::mlp});
  } else if (method == "fp8") {
    // transformers' fine-grained fp8 converts every linear but the head; DeepSeek's router is no
    // linear and stays unquantized too.
    if (q.has("fmt") && q.text("fmt") != "e4m3") {
      throw Error(fmt::format("{}: quantization_config.fmt: '{}' is not modelled (e4m3)", q.at("fmt"), q.text("fmt")));
    }
    const YAML::Node block = q.node("weight_block_size");
    if (block.IsDefined() && !block.IsNull()) {
      if (!block.IsSequence() || block.size() != 2) {
        throw Error(fmt::format("{}: quantization_config.weight_block_size: expected [rows, cols]",
                                q.at("weight_block_size")));
      }
      std::uint64_t dims[2] = {0, 0};
      for (std::size_t i = 0; i < 2; ++i) {
        long long v = 0;
        try {
          v = block[i].as<long long>();
        } catch (const YAML::Exception&) {
          v = 0;
        }
        if (v < 1 || v > 65536) {
          throw Error(fmt::format("{}: quantization_config.weight_block_size[{}]: expected an integer in [1, 65536], "
                                  "got '{}'",
                                  yaml_where(source, block[i].Mark()), i, block[i].IsScalar() ? block[i].Scalar() : "?"));
        }
        dims[i] = static_cast<std::uint64_t>(v);
      }
      w.format = fp8_block_weight_format(dims[0], dims[1]);
    } else {
      w.format = plain_weight_format(isa::DType::fp8);  // per-tensor scales: a few bytes per matrix
    }
    set({WeightModule::attention, WeightModule::mlp});
  } else if (method == "compressed-tensors") {
    w.format = compressed_tensors_format(q);
    // Every Linear: the decoder layers' linears, the router and the head, less `ignore`.
    set({WeightModule::attention, WeightModule::mlp, WeightModule::router, WeightModule::lm_head});
    const YAML::Node kv = q.node("kv_cache_scheme");
    if (kv.IsDefined() && !kv.IsNull()) {
      throw Error(fmt::format("{}: quantization_config.kv_cache_scheme: a quantized KV cache is set with --kv-dtype "
                              "(fp8, int8), not from the checkpoint",
                              q.at("kv_cache_scheme")));
    }
  } else {
    throw Error(fmt::format("{}: quantization_config.quant_method: '{}' is not modelled (mxfp4, gptq, awq, fp8, "
                            "compressed-tensors)",
                            q.at("quant_method"), method));
  }
  w.method = method;
  // compressed-tensors names what it leaves alone `ignore`, module names or "re:" patterns.
  const std::string skip_key = method == "compressed-tensors" ? "ignore" : "modules_to_not_convert";
  const YAML::Node skip = q.node(skip_key);
  if (skip.IsDefined() && !skip.IsNull()) {
    if (!skip.IsSequence()) {
      throw Error(fmt::format("{}: quantization_config.{}: expected a list of module names", q.at(skip_key), skip_key));
    }
    for (const YAML::Node& entry : skip) {
      if (!entry.IsScalar()) {
        throw Error(fmt::format("{}: quantization_config.{}: expected module names", q.at(skip_key), skip_key));
      }
      c[static_cast<int>(not_converted_module(q, entry.Scalar(), skip_key))] = false;
    }
  }
  return w;
}

// A list of `n` positive integers (patch_size, vae_stride), or `fallback` when absent.
std::vector<int> int_list_or(const Fields& f, const std::string& key, std::vector<int> fallback, long long hi) {
  if (!f.has(key)) return fallback;
  const YAML::Node v = f.node(key);
  if (!v.IsSequence() || v.size() != fallback.size()) {
    throw Error(fmt::format("{}: {}: expected a list of {} positive integers", f.at(key), f.name(key),
                            fallback.size()));
  }
  std::vector<int> out;
  for (const auto& item : v) {
    long long value = 0;
    try {
      value = item.as<long long>();
    } catch (const YAML::Exception&) {
      value = 0;
    }
    if (value < 1 || value > hi) {
      throw Error(fmt::format("{}: {}: '{}' is not an integer in [1, {}]", yaml_where(f.source(), item.Mark()),
                              f.name(key), item.IsScalar() ? item.Scalar() : "?", hi));
    }
    out.push_back(static_cast<int>(value));
  }
  return out;
}

// Wan2.1's WanModel config.json (model_type t2v). The published file holds what WanModel registers
// (dim, ffn_dim, freq_dim, in_dim, out_dim, num_heads, num_layers, text_len, eps); patch_size,
// qk_norm, cross_attn_norm, text_dim and window_size are left out of it (ignore_for_config) and
// take WanModel's defaults, which the 14B model uses.
ModelConfig parse_wan_config(const Fields& f, ModelConfig m) {
  constexpr long long kMaxPatch = 64;
  m.dit = true;
  DitDims& d = m.dit_dims;
  m.hidden_size = as_int(f.integer("dim", 1, kMaxHidden));
  m.intermediate_size = as_int(f.integer("ffn_dim", 1, kMaxIntermediate));
  m.num_layers = as_int(f.integer("num_layers", 1, kMaxLayers));
  m.num_heads = as_int(f.integer("num_heads", 1, kMaxHeads));
  m.num_kv_heads = m.num_heads;
  if (m.hidden_size % m.num_heads != 0 || (m.hidden_size / m.num_heads) % 2 != 0) {
    throw Error(fmt::format("{}: {}: dim {} must be num_heads {} times an even head width", f.at("dim"),
                            f.name("dim"), m.hidden_size, m.num_heads));
  }
  m.head_dim = m.hidden_size / m.num_heads;
  d.in_channels = as_int(f.integer_or("in_dim", 16, 1, kMaxHidden));
  d.out_channels = as_int(f.integer_or("out_dim", 16, 1, kMaxHidden));
  d.freq_dim = as_int(f.integer_or("freq_dim", 256, 1, kMaxHidden));
  d.text_len = as_int(f.integer_or("text_len", 512, 1, kMaxPositions));
  d.text_dim = as_int(f.integer_or("text_dim", 4096, 1, kMaxHidden));
  const std::vector<int> patch = int_list_or(f, "patch_size", {1, 2, 2}, kMaxPatch);
  d.patch_t = patch[0];
  d.patch_h = patch[1];
  d.patch_w = patch[2];
  const std::vector<int> vae = int_list_or(f, "vae_stride", {4, 8, 8}, kMaxPatch);
  d.vae_stride_t = vae[0];
  d.vae_stride_h = vae[1];
  d.vae_stride_w = vae[2];
  m.qk_norm = f.boolean_or("qk_norm", true);
  d.cross_attn_norm = f.boolean_or("cross_attn_norm", true);
  if (f.has("window_size")) {
    const YAML::Node w = f.node("window_size");
    const bool global = w.IsSequence() && w.size() == 2 && w[0].IsScalar() && w[1].IsScalar() &&
                        w[0].Scalar() == "-1" && w[1].Scalar() == "-1";
    if (!global) {
      throw Error(fmt::format("{}: {}: local attention windows are not modelled for model_type t2v (only [-1, -1], "
                              "global attention)",
                              f.at("window_size"), f.name("window_size")));
    }
  }
  // Linears carry biases; the block norms are LayerNorms (adaLN, lowered as their own op kind);
  // the q/k norms are RMSNorms over the whole width; the FFN is GELU (tanh) without a gate.
  m.qkv_bias = m.o_bias = m.mlp_bias = true;
  m.norm = NormKind::rmsnorm;
  m.mlp = MlpKind::gelu;
  m.vocab_size = 0;
  m.max_position_embeddings = 0;
  m.tie_word_embeddings = true;  // no vocabulary: no LM head apart from the DiT head counted below
  return m;
}

}  // namespace

ModelConfig parse_hf_config(const std::string& json_text, const std::string& source_name) {
  const YAML::Node root = load_mapping(json_text, source_name, "JSON");
  const Fields top(root, source_name);
  const TextConfig text = text_config_of(root, top);
  const Fields f(text.map, source_name, text.prefix);
  ModelConfig m;
  m.name = model_name_from_source(source_name);
  m.model_type = text.model_type;
  const std::vector<std::string> supported(std::begin(kHfModelTypes), std::end(kHfModelTypes));
  if (std::find(supported.begin(), supported.end(), m.model_type) == supported.end()) {
    throw Error(fmt::format("{}: {}model_type: unsupported model_type '{}' (supported: {})", top.at("model_type"),
                            text.prefix, m.model_type, fmt::join(supported, ", ")));
  }
  const std::string& type = m.model_type;
  if (type == "t2v") {
    m = parse_wan_config(f, m);
    validate_model(m, source_name);
    return m;
  }
  reject_unmodelled_fields(f, type);
  const bool gemma3 = type == "gemma3_text";

  m.hidden_size = as_int(f.integer("hidden_size", 1, kMaxHidden));
  m.intermediate_size = as_int(f.integer("intermediate_size", 1, kMaxIntermediate));
  m.num_layers = as_int(f.integer("num_hidden_layers", 1, kMaxLayers));
  read_attention_shape(f, type, m);
  // Gemma 3's published text_config leaves these at transformers' Gemma3TextConfig defaults.
  m.vocab_size = as_int(gemma3 ? f.integer_or("vocab_size", 262208, 1, kMaxVocab) : f.integer("vocab_size", 1, kMaxVocab));
  m.max_position_embeddings = as_int(gemma3 ? f.integer_or("max_position_embeddings", 131072, 1, kMaxPositions)
                                            : f.integer("max_position_embeddings", 1, kMaxPositions));
  const bool tied_default = is_gemma(type) ? true : top.boolean_or("tie_word_embeddings", false);
  m.tie_word_embeddings = f.boolean_or("tie_word_embeddings", tied_default);
  m.norm = NormKind::rmsnorm;
  m.mlp = hf_mlp_kind(f, type);
  m.rope_theta = f.real_or("rope_theta", 10000.0);
  m.rope_scaling = hf_rope_scaling(f);
  if (is_deepseek(type)) read_mla(f, m);
  read_family_details(f, type, m);
  read_moe(f, type, m);
  read_attention_spans(f, type, m);
  m.quantization = hf_quantization(root, source_name);
  validate_model(m, source_name);
  return m;
}

// ---- our YAML schema ----------------------------------------------------------------------

namespace {

const std::vector<std::string>& yaml_keys() {
  static const std::vector<std::string> keys = {
      "description", "hidden_size", "intermediate_size", "num_layers", "num_heads", "num_kv_heads", "head_dim",
      "vocab_size", "tie_word_embeddings", "qkv_bias", "o_bias", "mlp_bias", "qk_norm", "num_experts",
      "experts_per_token", "norm", "mlp", "rope_theta", "max_position_embeddings"};
  return keys;
}

}  // namespace

ModelConfig parse_model_yaml(const std::string& yaml_text, const std::string& source_name) {
  const YAML::Node root = load_mapping(yaml_text, source_name, "YAML");
  std::map<std::string, YAML::Mark> seen;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      throw Error(fmt::format("{}: a key must be a plain name, got {}", yaml_where(source_name, key.Mark()),
                              yaml_node_kind(key)));
    }
    const std::string& name = key.Scalar();
    if (const auto first = seen.find(name); first != seen.end()) {
      throw Error(fmt::format("{}: duplicate key '{}' (first given at line {})", yaml_where(source_name, key.Mark()),
                              name, first->second.line + 1));
    }
    seen.emplace(name, key.Mark());
    const auto& keys = yaml_keys();
    if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
      const std::string hint = did_you_mean(name, keys);
      throw Error(fmt::format("{}: unknown key '{}'{}", yaml_where(source_name, key.Mark()), name,
                              hint.empty() ? fmt::format(" (valid keys: {})", fmt::join(keys, ", ")) : hint));
    }
  }

  const Fields f(root, source_name);
  ModelConfig m;
  m.name = model_name_from_source(source_name);
  m.model_type = "custom";
  m.description = f.text_or("description", "");
  m.hidden_size = as_int(f.integer("hidden_size", 1, kMaxHidden));
  m.intermediate_size = as_int(f.integer("intermediate_size", 1, kMaxIntermediate));
  m.num_layers = as_int(f.integer("num_layers", 1, kMaxLayers));
  m.num_heads = as_int(f.integer("num_heads", 1, kMaxHeads));
  m.num_kv_heads = as_int(f.integer_or("num_kv_heads", m.num_heads, 1, kMaxHeads));
  if (m.num_kv_heads > m.num_heads || m.num_heads % m.num_kv_heads != 0) {
    throw Error(fmt::format("{}: num_kv_heads: {} does not divide num_heads {}", f.at("num_kv_heads"),
                            m.num_kv_heads, m.num_heads));
  }
  if (f.has("head_dim")) {
    m.head_dim = as_int(f.integer("head_dim", 1, kMaxHeadDim));
  } else {
    if (m.hidden_size % m.num_heads != 0) {
      throw Error(fmt::format("{}: head_dim: not given and hidden_size {} is not a multiple of num_heads {}",
                              source_name, m.hidden_size, m.num_heads));
    }
    m.head_dim = m.hidden_size / m.num_heads;
  }
  m.vocab_size = as_int(f.integer("vocab_size", 1, kMaxVocab));
  m.max_position_embeddings = as_int(f.integer("max_position_embeddings", 1, kMaxPositions));
  m.tie_word_embeddings = f.boolean_or("tie_word_embeddings", false);
  m.qkv_bias = f.boolean_or("qkv_bias", false);
  m.o_bias = f.boolean_or("o_bias", false);
  m.mlp_bias = f.boolean_or("mlp_bias", false);
  m.qk_norm = f.boolean_or("qk_norm", false);
  m.num_experts = as_int(f.integer_or("num_experts", 0, 0, kMaxExperts));
  if (m.num_experts > 0) {
    m.experts_per_token = as_int(f.integer("experts_per_token", 1, m.num_experts));
  } else if (f.has("experts_per_token")) {
    throw Error(fmt::format("{}: experts_per_token: given for a dense model (num_experts is 0 or absent)",
                            f.at("experts_per_token")));
  }
  m.norm = f.choice_or("norm", "rmsnorm", {"rmsnorm", "layernorm"}) == "layernorm" ? NormKind::layernorm
                                                                                   : NormKind::rmsnorm;
  m.mlp = f.choice_or("mlp", "swiglu", {"swiglu", "gelu"}) == "gelu" ? MlpKind::gelu : MlpKind::swiglu;
  m.rope_theta = f.real_or("rope_theta", 10000.0);
  validate_model(m, source_name);
  return m;
}

// ---- validation and counts ---------------------------------------------------------------

namespace {

// The MoE, attention-span and MLA fields of a model (validate_model's second half).
void validate_layout(const ModelConfig& m, const std::string& source) {
  const auto fail = [&](const char* field, const std::string& why) {
    throw Error(fmt::format("{}: {}: {}", source, field, why));
  };
  if (!m.moe_layers.empty() && static_cast<int>(m.moe_layers.size()) != m.num_layers) {
    fail("moe_layers", fmt::format("{} entries for {} layers", m.moe_layers.size(), m.num_layers));
  }
  if (!m.nope_layers.empty() && static_cast<int>(m.nope_layers.size()) != m.num_layers) {
    fail("no_rope_layers", fmt::format("{} entries for {} layers", m.nope_layers.size(), m.num_layers));
  }
  if (!m.layer_attention.empty() && static_cast<int>(m.layer_attention.size()) != m.num_layers) {
    fail("layer_types", fmt::format("{} entries for {} layers", m.layer_attention.size(), m.num_layers));
  }
  if (m.expert_intermediate_size < 0 || m.expert_intermediate_size > kMaxIntermediate) {
    fail("expert_intermediate_size", fmt::format("{} is out of range [0, {}]", m.expert_intermediate_size,
                                                 kMaxIntermediate));
  }
  if (m.shared_expert_intermediate_size < 0 || m.shared_expert_intermediate_size > kMaxIntermediate) {
    fail("shared_expert_intermediate_size", fmt::format("{} is out of range", m.shared_expert_intermediate_size));
  }
  if (!m.is_moe() && (m.shared_expert_intermediate_size > 0 || !m.moe_layers.empty())) {
    fail("num_experts", "shared experts or MoE layers given for a dense model");
  }
  if (m.sliding_window < 0 || m.attention_chunk_size < 0) fail("sliding_window", "must not be negative");
  for (int l = 0; l < m.num_layers; ++l) {
    if (m.attention_of(l) == LayerAttention::chunked && m.attention_chunk_size < 1) {
      fail("attention_chunk_size", "chunked layers need a chunk size");
    }
  }
  if (m.mla) {
    const MlaDims& d = m.mla_dims;
    if (d.kv_lora_rank < 1 || d.qk_nope_head_dim < 1 || d.qk_rope_head_dim < 1 || d.v_head_dim < 1 ||
        d.q_lora_rank < 0) {
      fail("kv_lora_rank", "MLA needs positive kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim and v_head_dim");
    }
    if (m.num_kv_heads != m.num_heads || m.head_dim != d.qk_head_dim()) {
      fail("num_key_value_heads", "MLA expands every head's key: kv heads = heads, head_dim = nope + rope");
    }
  }
}

// A DiT's own sizes (a model built in code may set anything): positive, and no LLM features.
void validate_dit(const ModelConfig& m, const std::string& source) {
  const DitDims& d = m.dit_dims;
  const auto positive = [&](const char* field, long long value, long long hi) {
    if (value < 1 || value > hi) throw Error(fmt::format("{}: {}: {} is out of range [1, {}]", source, field, value, hi));
  };
  positive("in_dim", d.in_channels, kMaxHidden);
  positive("out_dim", d.out_channels, kMaxHidden);
  positive("freq_dim", d.freq_dim, kMaxHidden);
  positive("text_len", d.text_len, kMaxPositions);
  positive("text_dim", d.text_dim, kMaxHidden);
  for (int p : {d.patch_t, d.patch_h, d.patch_w, d.vae_stride_t, d.vae_stride_h, d.vae_stride_w}) {
    positive("patch_size", p, 64);
  }
  if (m.num_kv_heads != m.num_heads) {
    throw Error(fmt::format("{}: num_heads: a DiT's keys have every head ({} kv heads for {} heads)", source,
                            m.num_kv_heads, m.num_heads));
  }
  if (m.is_moe() || m.mla || m.sliding_window > 0 || !m.layer_attention.empty() || m.attention_sinks) {
    throw Error(fmt::format("{}: a diffusion transformer with experts, MLA, windows or sinks is not modelled", source));
  }
}

}  // namespace

void validate_model(const ModelConfig& m, const std::string& source_name) {
  const std::string source = source_name.empty() ? fmt::format("model '{}'", m.name) : source_name;
  const auto in_range = [&](const char* field, long long value, long long lo, long long hi) {
    if (value < lo || value > hi) {
      throw Error(fmt::format("{}: {}: {} is out of range [{}, {}]", source, field, value, lo, hi));
    }
  };
  in_range("hidden_size", m.hidden_size, 1, kMaxHidden);
  in_range("intermediate_size", m.intermediate_size, 1, kMaxIntermediate);
  in_range("num_layers", m.num_layers, 1, kMaxLayers);
  in_range("num_heads", m.num_heads, 1, kMaxHeads);
  in_range("num_kv_heads", m.num_kv_heads, 1, m.num_heads);
  if (m.num_heads % m.num_kv_heads != 0) {
    throw Error(fmt::format("{}: num_kv_heads: {} does not divide num_heads {}", source, m.num_kv_heads,
                            m.num_heads));
  }
  in_range("head_dim", m.head_dim, 1, kMaxHeadDim);
  if (m.is_dit()) {
    validate_dit(m, source);
    return;
  }
  in_range("vocab_size", m.vocab_size, 1, kMaxVocab);
  in_range("max_position_embeddings", m.max_position_embeddings, 1, kMaxPositions);
  in_range("num_experts", m.num_experts, 0, kMaxExperts);
  if (m.num_experts > 0) {
    in_range("experts_per_token", m.experts_per_token, 1, m.num_experts);
  } else if (m.experts_per_token != 0) {
    throw Error(fmt::format("{}: experts_per_token: {} given for a dense model (num_experts 0)", source,
                            m.experts_per_token));
  }
  validate_layout(m, source);
  if (!std::isfinite(m.rope_theta) || m.rope_theta <= 0) {
    throw Error(fmt::format("{}: rope_theta: must be a positive number, got {}", source, m.rope_theta));
  }
}

bool ModelConfig::layer_is_moe(int layer) const {
  if (!is_moe()) return false;
  if (moe_layers.empty()) return true;
  return layer >= 0 && layer < static_cast<int>(moe_layers.size()) && moe_layers[static_cast<std::size_t>(layer)];
}

LayerAttention ModelConfig::attention_of(int layer) const {
  if (layer >= 0 && layer < static_cast<int>(layer_attention.size())) {
    return layer_attention[static_cast<std::size_t>(layer)];
  }
  return sliding_window > 0 ? LayerAttention::sliding : LayerAttention::full;
}

bool ModelConfig::has_dense_mlp_layers() const {
  for (int l = 0; l < num_layers; ++l) {
    if (!layer_is_moe(l)) return true;
  }
  return false;
}

int ModelConfig::layer_period() const {
  const auto same = [&](int a, int b) {
    return layer_is_moe(a) == layer_is_moe(b) && attention_of(a) == attention_of(b) && layer_has_rope(a) == layer_has_rope(b);
  };
  for (int p = 1; p < num_layers; ++p) {
    bool repeats = true;
    for (int l = p; l < num_layers && repeats; ++l) repeats = same(l, l - p);
    if (repeats) return p;
  }
  return std::max(1, num_layers);
}

std::uint64_t ModelConfig::kv_elements_per_token(int /*layer*/) const {
  if (dit) return 0;  // keys and values are recomputed every step: nothing is cached
  if (mla) return static_cast<std::uint64_t>(mla_dims.cache_width());
  return 2 * static_cast<std::uint64_t>(num_kv_heads) * static_cast<std::uint64_t>(head_dim);
}

std::uint64_t ModelConfig::kv_bytes_per_token(int kv_dtype_bytes) const {
  std::uint64_t elements = 0;
  for (int l = 0; l < num_layers; ++l) elements += kv_elements_per_token(l);
  return elements * static_cast<std::uint64_t>(kv_dtype_bytes);
}

bool ModelConfig::layer_has_rope(int layer) const {
  return layer < 0 || layer >= static_cast<int>(nope_layers.size()) || !nope_layers[static_cast<std::size_t>(layer)];
}

std::uint64_t ModelConfig::cached_tokens(int layer, std::uint64_t tokens) const {
  switch (attention_of(layer)) {
    case LayerAttention::full: return tokens;
    case LayerAttention::sliding: return std::min<std::uint64_t>(tokens, static_cast<std::uint64_t>(sliding_window));
    case LayerAttention::chunked: {
      const std::uint64_t chunk = static_cast<std::uint64_t>(attention_chunk_size);
      return tokens == 0 ? 0 : (tokens - 1) % chunk + 1;
    }
  }
  return tokens;
}

std::uint64_t ModelConfig::kv_bytes_for_sequence(std::uint64_t tokens, int kv_dtype_bytes) const {
  u128 elements = 0;
  for (int l = 0; l < num_layers; ++l) elements += u128(cached_tokens(l, tokens)) * kv_elements_per_token(l);
  const u128 bytes = elements * static_cast<std::uint64_t>(kv_dtype_bytes);
  if (bytes > std::numeric_limits<std::uint64_t>::max()) {
    throw Error(fmt::format("model {}: the KV cache of {} tokens overflows 64 bits", name, tokens));
  }
  return static_cast<std::uint64_t>(bytes);
}

namespace {

// Weights of one gated (gate, up, down) or ungated (up, down) MLP `width` wide, and its biases.
u128 mlp_weights(const ModelConfig& m, u128 width) {
  const u128 h = static_cast<std::uint64_t>(m.hidden_size);
  return h * (mlp_gated(m.mlp) ? 2 * width : width) + width * h;
}
u128 mlp_biases(const ModelConfig& m, u128 width) {
  return (mlp_gated(m.mlp) ? 2 * width : width) + static_cast<std::uint64_t>(m.hidden_size);
}

u128 norm_params(const ModelConfig& m, u128 width) { return m.norm == NormKind::layernorm ? 2 * width : width; }

// One layer's attention weights (biases and norms apart).
u128 attention_weights(const ModelConfig& m) {
  const u128 h = static_cast<std::uint64_t>(m.hidden_size);
  const u128 heads = static_cast<std::uint64_t>(m.num_heads);
  if (m.mla) {
    const MlaDims& d = m.mla_dims;
    const u128 q_out = heads * static_cast<std::uint64_t>(d.qk_head_dim());
    const u128 q_lora = static_cast<std::uint64_t>(d.q_lora_rank);
    const u128 q = d.q_lora_rank > 0 ? h * q_lora + q_lora * q_out : h * q_out;
    const u128 kv_a = h * static_cast<std::uint64_t>(d.cache_width());
    const u128 kv_b = u128(static_cast<std::uint64_t>(d.kv_lora_rank)) * heads *
                      static_cast<std::uint64_t>(d.qk_nope_head_dim + d.v_head_dim);
    const u128 o = heads * static_cast<std::uint64_t>(d.v_head_dim) * h;
    return q + kv_a + kv_b + o;
  }
  const u128 q_out = heads * static_cast<std::uint64_t>(m.head_dim);
  const u128 kv_out = u128(static_cast<std::uint64_t>(m.num_kv_heads)) * static_cast<std::uint64_t>(m.head_dim);
  return h * (q_out + 2 * kv_out) + q_out * h;
}

u128 attention_biases(const ModelConfig& m) {
  const u128 q_out = u128(static_cast<std::uint64_t>(m.num_heads)) * static_cast<std::uint64_t>(m.head_dim);
  const u128 kv_out = u128(static_cast<std::uint64_t>(m.num_kv_heads)) * static_cast<std::uint64_t>(m.head_dim);
  return (m.qkv_bias ? q_out + 2 * kv_out : 0) + (m.o_bias ? static_cast<std::uint64_t>(m.hidden_size) : 0);
}

// Norm gammas of one layer: the layer's own, q/k norms, and MLA's latent norms.
u128 layer_norms(const ModelConfig& m) {
  const u128 h = static_cast<std::uint64_t>(m.hidden_size);
  u128 n = static_cast<std::uint64_t>(m.norms_per_layer) * norm_params(m, h);
  if (m.qk_norm && m.qk_norm_weights) n += 2 * norm_params(m, static_cast<std::uint64_t>(m.head_dim));
  if (m.mla) {
    n += norm_params(m, static_cast<std::uint64_t>(m.mla_dims.kv_lora_rank));
    if (m.mla_dims.q_lora_rank > 0) n += norm_params(m, static_cast<std::uint64_t>(m.mla_dims.q_lora_rank));
  }
  return n;
}

// Parameters of one layer, by part.
struct LayerParams {
  u128 attention = 0, mlp = 0, router = 0, biases = 0, norms = 0, sinks = 0;
  u128 unselected_experts = 0;  // routed experts a token does not read (with their biases)
  u128 total() const { return attention + mlp + router + biases + norms + sinks; }
};

LayerParams layer_params(const ModelConfig& m, int layer) {
  const u128 h = static_cast<std::uint64_t>(m.hidden_size);
  LayerParams p;
  p.attention = attention_weights(m);
  p.biases = attention_biases(m);
  p.norms = layer_norms(m);
  p.sinks = m.attention_sinks ? static_cast<std::uint64_t>(m.num_heads) : 0;
  if (!m.layer_is_moe(layer)) {
    const u128 width = static_cast<std::uint64_t>(m.intermediate_size);
    p.mlp = mlp_weights(m, width);
    p.biases += m.mlp_bias ? mlp_biases(m, width) : 0;
    return p;
  }
  const u128 experts = static_cast<std::uint64_t>(m.num_experts);
  const u128 expert_width = static_cast<std::uint64_t>(m.expert_width());
  const u128 per_expert = mlp_weights(m, expert_width) + (m.mlp_bias ? mlp_biases(m, expert_width) : 0);
  const u128 shared = static_cast<std::uint64_t>(m.shared_expert_intermediate_size);
  p.mlp = experts * mlp_weights(m, expert_width) + (shared > 0 ? mlp_weights(m, shared) : 0);
  p.biases += m.mlp_bias ? experts * mlp_biases(m, expert_width) : 0;
  p.router = h * experts + (m.router_bias ? experts : 0) + (m.shared_expert_gate ? h : 0);
  p.unselected_experts = u128(static_cast<std::uint64_t>(m.num_experts - m.experts_per_token)) * per_expert;
  return p;
}

}  // namespace

namespace {

// WanModel's parameters (wan/modules/model.py): every nn.Linear has a bias.
ParamCounts dit_param_counts(const ModelConfig& m) {
  const DitDims& d = m.dit_dims;
  const u128 h = static_cast<std::uint64_t>(m.hidden_size), f = static_cast<std::uint64_t>(m.intermediate_size);
  const u128 layers = static_cast<std::uint64_t>(m.num_layers);
  const u128 patch_in = u128(static_cast<std::uint64_t>(d.in_channels)) * static_cast<std::uint64_t>(d.patch_elements());
  const u128 head_out = u128(static_cast<std::uint64_t>(d.out_channels)) * static_cast<std::uint64_t>(d.patch_elements());
  const u128 text = static_cast<std::uint64_t>(d.text_dim), freq = static_cast<std::uint64_t>(d.freq_dim);
  ParamCounts c;
  // Patch embedding (a Conv3d with kernel = stride = patch_size: a linear over each patch), the
  // text embedding (text_dim -> h, GELU, h -> h), the time embedding (freq -> h, SiLU, h -> h)
  // and the time projection (SiLU, h -> 6h); weights here, their biases with the others.
  c.embedding = checked(patch_in * h + text * h + h * h + freq * h + h * h + h * 6 * h, m);
  u128 biases = h + (h + h) + (h + h) + 6 * h;
  // Per block: self- and cross-attention q, k, v, o (h x h each, with biases), the FFN (h -> f,
  // GELU-tanh, f -> h, with biases).
  c.attention = checked(layers * 8 * h * h, m);
  c.mlp = checked(layers * 2 * h * f, m);
  biases += layers * (8 * h + f + h);
  // RMSNorm gammas of q and k over the whole width (self and cross), the cross-attention
  // LayerNorm's gamma and beta; norm1/norm2 and the head's norm have no affine parameters.
  c.norms = checked(layers * ((m.qk_norm ? 4 * h : 0) + (d.cross_attn_norm ? 2 * h : 0)), m);
  c.modulation = checked(layers * 6 * h + 2 * h, m);
  c.lm_head = checked(h * head_out, m);  // the head's linear: h -> out_dim x patch elements
  biases += head_out;
  c.biases = checked(biases, m);
  checked(u128(c.embedding) + c.attention + c.mlp + c.biases + c.norms + c.modulation + c.lm_head, m);
  return c;
}

}  // namespace

ParamCounts ModelConfig::param_counts() const {
  if (dit) return dit_param_counts(*this);
  const u128 h = static_cast<std::uint64_t>(hidden_size);
  const u128 vocab = static_cast<std::uint64_t>(vocab_size);
  LayerParams sum;
  for (int l = 0; l < num_layers; ++l) {
    const LayerParams p = layer_params(*this, l);
    sum.attention += p.attention;
    sum.mlp += p.mlp;
    sum.router += p.router;
    sum.biases += p.biases;
    sum.norms += p.norms;
    sum.sinks += p.sinks;
  }
  ParamCounts c;
  c.embedding = checked(vocab * h, *this);
  c.attention = checked(sum.attention, *this);
  c.mlp = checked(sum.mlp, *this);
  c.router = checked(sum.router, *this);
  c.biases = checked(sum.biases, *this);
  c.norms = checked(sum.norms + norm_params(*this, h), *this);
  c.sinks = checked(sum.sinks, *this);
  c.lm_head = tie_word_embeddings ? 0 : c.embedding;
  if (mtp_module) {  // enorm and hnorm, and eh_proj
    c.norms = checked(u128(c.norms) + 2 * norm_params(*this, h), *this);
    c.mtp_proj = checked(2 * h * h, *this);
  }
  checked(u128(c.embedding) + c.attention + c.mlp + c.router + c.biases + c.norms + c.lm_head + c.sinks + c.mtp_proj,
          *this);
  return c;
}

std::uint64_t ModelConfig::params() const { return param_counts().total(); }

std::uint64_t ModelConfig::active_params_per_token() const {
  u128 unread = 0;
  for (int l = 0; l < num_layers; ++l) unread += layer_params(*this, l).unselected_experts;
  return checked(u128(params()) - unread, *this);
}

std::uint64_t ModelConfig::mtp_params() const {
  if (mtp_layers == 0) return 0;
  const u128 h = static_cast<std::uint64_t>(hidden_size);
  const u128 vocab = static_cast<std::uint64_t>(vocab_size);
  // enorm, hnorm, eh_proj (2h -> h), one decoder layer (shaped like the last), the head's norm,
  // and the embedding and head the checkpoint stores again for the module.
  const u128 module = 3 * norm_params(*this, h) + 2 * h * h + layer_params(*this, num_layers - 1).total() +
                      2 * vocab * h;
  return checked(module * static_cast<std::uint64_t>(mtp_layers), *this);
}

ModelConfig mtp_draft_model(const ModelConfig& model) {
  if (model.mtp_layers == 0) {
    throw Error(fmt::format("model {} has no multi-token-prediction module (num_nextn_predict_layers is 0 or absent): "
                            "it cannot draft with it",
                            model.name));
  }
  ModelConfig d = model;
  const int last = model.num_layers - 1;
  d.name = model.name + "-mtp";
  d.num_layers = 1;
  d.mtp_layers = 0;
  d.mtp_module = true;
  // The module's decoder layer is shaped like the main model's last one (DeepSeek: an MoE layer).
  d.moe_layers.clear();
  if (model.is_moe() && !model.layer_is_moe(last)) d.moe_layers = {false};
  d.layer_attention.clear();
  if (!model.layer_attention.empty()) d.layer_attention = {model.attention_of(last)};
  d.nope_layers.clear();
  if (!model.layer_has_rope(last)) d.nope_layers = {true};
  validate_model(d, model.name);
  return d;
}

std::uint64_t dit_latent_tokens(const ModelConfig& model, int frames, int height, int width) {
  if (!model.is_dit()) throw Error(fmt::format("model {} is not a diffusion transformer", model.name));
  const DitDims& d = model.dit_dims;
  // The VAE keeps the first frame and compresses each following vae_t frames into one latent.
  if (frames < 1 || (frames - 1) % d.vae_stride_t != 0) {
    throw Error(fmt::format("frames {}: must be {} n + 1 (the VAE compresses {} frames into one latent frame after "
                            "the first)",
                            frames, d.vae_stride_t, d.vae_stride_t));
  }
  const int latent_frames = (frames - 1) / d.vae_stride_t + 1;
  if (latent_frames % d.patch_t != 0) {
    throw Error(fmt::format("frames {}: {} latent frames are not a multiple of the temporal patch {}", frames,
                            latent_frames, d.patch_t));
  }
  const int per_row = d.vae_stride_h * d.patch_h, per_column = d.vae_stride_w * d.patch_w;
  if (height < 1 || height % per_row != 0) {
    throw Error(fmt::format("height {}: must be a positive multiple of {} (VAE stride {} x patch {})", height, per_row,
                            d.vae_stride_h, d.patch_h));
  }
  if (width < 1 || width % per_column != 0) {
    throw Error(fmt::format("width {}: must be a positive multiple of {} (VAE stride {} x patch {})", width,
                            per_column, d.vae_stride_w, d.patch_w));
  }
  return static_cast<std::uint64_t>(latent_frames / d.patch_t) * static_cast<std::uint64_t>(height / per_row) *
         static_cast<std::uint64_t>(width / per_column);
}

// ---- loading by name or path -------------------------------------------------------------

namespace {

std::string stem_of(const std::string& file_name) { return std::filesystem::path(file_name).stem().string(); }

const detail::EmbeddedModelFile* find_shipped(const std::string& name) {
  for (int i = 0; i < detail::kNumEmbeddedModelFiles; ++i) {
    if (stem_of(detail::kEmbeddedModelFiles[i].file_name) == name) return &detail::kEmbeddedModelFiles[i];
  }
  return nullptr;
}

ModelConfig parse_by_extension(const std::string& text, const std::string& source) {
  if (ends_with(source, ".json")) return parse_hf_config(text, source);
  if (ends_with(source, ".yaml") || ends_with(source, ".yml")) return parse_model_yaml(text, source);
  throw Error(fmt::format("{}: unknown model file type: expected a Hugging Face config (.json) or a tasim "
                          "model (.yaml)",
                          source));
}

}  // namespace

ModelConfig load_model(const std::string& name_or_path) {
  if (const auto* shipped = find_shipped(name_or_path)) {
    return parse_by_extension(shipped->text, shipped->file_name);
  }
  std::error_code ec;
  std::string path = name_or_path;
  if (std::filesystem::is_directory(path, ec)) {
    // A Hugging Face snapshot directory: its config.json.
    const std::filesystem::path config = std::filesystem::path(path) / "config.json";
    if (!std::filesystem::exists(config, ec)) {
      throw Error(fmt::format("{}: is a directory without a config.json", name_or_path));
    }
    path = config.string();
  }
  if (!std::filesystem::exists(path, ec)) {
    const bool looks_like_path = path.find('/') != std::string::npos || ends_with(path, ".json") ||
                                 ends_with(path, ".yaml") || ends_with(path, ".yml");
    if (looks_like_path) throw Error(fmt::format("{}: no such model file", path));
    const std::vector<std::string> names = model_names();
    throw Error(fmt::format("unknown model '{}': not a shipped model ({}) nor a file{}", name_or_path,
                            fmt::join(names, ", "), did_you_mean(name_or_path, names)));
  }
  return parse_by_extension(read_file_bytes(path, "model file"), path);
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (int i = 0; i < detail::kNumEmbeddedModelFiles; ++i) {
    names.push_back(stem_of(detail::kEmbeddedModelFiles[i].file_name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace tasim::workloads
