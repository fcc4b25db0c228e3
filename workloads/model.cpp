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

const char* const kHfModelTypes[] = {"llama", "mistral", "mixtral", "qwen2", "qwen3"};

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
  Fields(const YAML::Node& map, std::string source) : map_(map), source_(std::move(source)) {}

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
      throw Error(fmt::format("{}: {}: expected a number, got '{}'", yaml_where(source_, v.Mark()), key, v.Scalar()));
    }
    if (!std::isfinite(value) || value <= 0) {
      throw Error(fmt::format("{}: {}: must be a positive number, got {}", yaml_where(source_, v.Mark()), key,
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
      throw Error(fmt::format("{}: {}: expected true or false, got '{}'", yaml_where(source_, v.Mark()), key,
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
      throw Error(fmt::format("{}: {}: expected one of {}, got '{}'{}", yaml_where(source_, v.Mark()), key,
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
    if (!v.IsDefined()) throw Error(fmt::format("{}: missing required field '{}'", source_, key));
    if (v.IsNull()) {
      throw Error(fmt::format("{}: {}: required field is null", yaml_where(source_, v.Mark()), key));
    }
    return v;
  }
  YAML::Node scalar(const std::string& key) const { return scalar(map_[key], key); }
  YAML::Node scalar(const YAML::Node& v, const std::string& key) const {
    if (!v.IsScalar()) {
      throw Error(fmt::format("{}: {}: expected a single value, got {}", yaml_where(source_, v.Mark()), key,
                              yaml_node_kind(v)));
    }
    return v;
  }
  // A number written as a string ("256") is refused: a config that quotes it probably means
  // something else, and JSON says it is text.
  void reject_quoted(const std::string& key, const YAML::Node& v, const char* expected) const {
    if (v.Tag() == "!") {
      throw Error(fmt::format("{}: {}: expected {}, got the string \"{}\"", yaml_where(source_, v.Mark()), key,
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
      throw Error(fmt::format("{}: {}: expected an integer, got '{}'", yaml_where(source_, v.Mark()), key, text));
    }
    if (value < lo || value > hi) {
      throw Error(fmt::format("{}: {}: {} is out of range [{}, {}]", yaml_where(source_, v.Mark()), key, value, lo,
                              hi));
    }
    return value;
  }

  const YAML::Node map_;
  std::string source_;
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

MlpKind hf_mlp_kind(const Fields& f) {
  const std::string act = f.text_or("hidden_act", "silu");
  if (act == "silu" || act == "swish") return MlpKind::swiglu;
  if (act.rfind("gelu", 0) == 0) return MlpKind::gelu;
  throw Error(fmt::format("{}: hidden_act: unsupported activation '{}' (supported: silu, gelu variants)",
                          f.at("hidden_act"), act));
}

std::string hf_rope_scaling(const Fields& f) {
  if (!f.has("rope_scaling")) return "";
  const YAML::Node v = f.node("rope_scaling");
  if (!v.IsMap()) {
    throw Error(fmt::format("{}: rope_scaling: expected null or a mapping, got {}", f.at("rope_scaling"),
                            yaml_node_kind(v)));
  }
  for (const char* key : {"rope_type", "type"}) {
    const YAML::Node t = v[key];
    if (t.IsDefined() && t.IsScalar()) return t.Scalar();
  }
  return "unspecified";
}

}  // namespace

ModelConfig parse_hf_config(const std::string& json_text, const std::string& source_name) {
  const YAML::Node root = load_mapping(json_text, source_name, "JSON");
  const Fields f(root, source_name);
  ModelConfig m;
  m.name = model_name_from_source(source_name);
  m.model_type = f.text("model_type");
  const std::vector<std::string> supported(std::begin(kHfModelTypes), std::end(kHfModelTypes));
  if (std::find(supported.begin(), supported.end(), m.model_type) == supported.end()) {
    throw Error(fmt::format("{}: model_type: unsupported model_type '{}' (supported: {})", f.at("model_type"),
                            m.model_type, fmt::join(supported, ", ")));
  }
  const std::string& type = m.model_type;

  m.hidden_size = as_int(f.integer("hidden_size", 1, kMaxHidden));
  m.intermediate_size = as_int(f.integer("intermediate_size", 1, kMaxIntermediate));
  m.num_layers = as_int(f.integer("num_hidden_layers", 1, kMaxLayers));
  m.num_heads = as_int(f.integer("num_attention_heads", 1, kMaxHeads));
  m.num_kv_heads = as_int(f.integer_or("num_key_value_heads", m.num_heads, 1, kMaxHeads));
  m.vocab_size = as_int(f.integer("vocab_size", 1, kMaxVocab));
  m.max_position_embeddings = as_int(f.integer("max_position_embeddings", 1, kMaxPositions));
  if (f.has("head_dim")) {
    m.head_dim = as_int(f.integer("head_dim", 1, kMaxHeadDim));
  } else if (type == "qwen3") {
    m.head_dim = 128;  // transformers' Qwen3Config default
  } else {
    if (m.hidden_size % m.num_heads != 0) {
      throw Error(fmt::format("{}: head_dim: not given and hidden_size {} is not a multiple of "
                              "num_attention_heads {}",
                              source_name, m.hidden_size, m.num_heads));
    }
    m.head_dim = m.hidden_size / m.num_heads;
  }
  m.tie_word_embeddings = f.boolean_or("tie_word_embeddings", false);
  m.norm = NormKind::rmsnorm;
  m.mlp = hf_mlp_kind(f);
  m.rope_theta = f.real_or("rope_theta", 10000.0);
  m.rope_scaling = hf_rope_scaling(f);

  if (type == "llama" || type == "qwen3") {
    const bool attention_bias = f.boolean_or("attention_bias", false);
    m.qkv_bias = attention_bias;
    m.o_bias = attention_bias;
  }
  if (type == "llama") m.mlp_bias = f.boolean_or("mlp_bias", false);
  if (type == "qwen2") m.qkv_bias = true;  // Qwen2Attention: q, k, v with bias, o without
  if (type == "qwen3") m.qk_norm = true;
  if (type == "mixtral") {
    m.num_experts = as_int(f.integer("num_local_experts", 1, kMaxExperts));
    m.experts_per_token = as_int(f.integer("num_experts_per_tok", 1, kMaxExperts));
    if (m.experts_per_token > m.num_experts) {
      throw Error(fmt::format("{}: num_experts_per_tok: {} exceeds num_local_experts {}",
                              f.at("num_experts_per_tok"), m.experts_per_token, m.num_experts));
    }
  }
  if (m.num_kv_heads > m.num_heads || m.num_heads % m.num_kv_heads != 0) {
    throw Error(fmt::format("{}: num_key_value_heads: {} does not divide num_attention_heads {}",
                            f.at("num_key_value_heads"), m.num_kv_heads, m.num_heads));
  }
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
  in_range("vocab_size", m.vocab_size, 1, kMaxVocab);
  in_range("max_position_embeddings", m.max_position_embeddings, 1, kMaxPositions);
  in_range("num_experts", m.num_experts, 0, kMaxExperts);
  if (m.num_experts > 0) {
    in_range("experts_per_token", m.experts_per_token, 1, m.num_experts);
  } else if (m.experts_per_token != 0) {
    throw Error(fmt::format("{}: experts_per_token: {} given for a dense model (num_experts 0)", source,
                            m.experts_per_token));
  }
  if (!std::isfinite(m.rope_theta) || m.rope_theta <= 0) {
    throw Error(fmt::format("{}: rope_theta: must be a positive number, got {}", source, m.rope_theta));
  }
}

ParamCounts ModelConfig::param_counts() const {
  const u128 h = static_cast<std::uint64_t>(hidden_size);
  const u128 inter = static_cast<std::uint64_t>(intermediate_size);
  const u128 layers = static_cast<std::uint64_t>(num_layers);
  const u128 q_out = u128(static_cast<std::uint64_t>(num_heads)) * static_cast<std::uint64_t>(head_dim);
  const u128 kv_out = u128(static_cast<std::uint64_t>(num_kv_heads)) * static_cast<std::uint64_t>(head_dim);
  const u128 vocab = static_cast<std::uint64_t>(vocab_size);
  const u128 experts = is_moe() ? static_cast<std::uint64_t>(num_experts) : 1;
  const u128 gate_up_width = mlp == MlpKind::swiglu ? 2 * inter : inter;  // gate and up, or up alone
  const auto norm_params = [&](u128 width) { return norm == NormKind::layernorm ? 2 * width : width; };

  const u128 attention_per_layer = h * (q_out + 2 * kv_out) + q_out * h;
  const u128 mlp_per_expert = h * gate_up_width + inter * h;
  const u128 bias_per_layer = (qkv_bias ? q_out + 2 * kv_out : 0) + (o_bias ? h : 0) +
                              (mlp_bias ? experts * (gate_up_width + h) : 0);
  const u128 head_norms = qk_norm ? 2 * norm_params(static_cast<std::uint64_t>(head_dim)) : 0;
  const u128 norms_per_layer = 2 * norm_params(h) + head_norms;

  ParamCounts c;
  c.embedding = checked(vocab * h, *this);
  c.attention = checked(layers * attention_per_layer, *this);
  c.mlp = checked(layers * experts * mlp_per_expert, *this);
  c.router = checked(is_moe() ? layers * h * experts : 0, *this);
  c.biases = checked(layers * bias_per_layer, *this);
  c.norms = checked(layers * norms_per_layer + norm_params(h), *this);
  c.lm_head = tie_word_embeddings ? 0 : c.embedding;
  checked(u128(c.embedding) + c.attention + c.mlp + c.router + c.biases + c.norms + c.lm_head, *this);
  return c;
}

std::uint64_t ModelConfig::params() const { return param_counts().total(); }

std::uint64_t ModelConfig::active_params_per_token() const {
  const std::uint64_t total = params();
  if (!is_moe()) return total;
  // Every expert has the same shape; the unselected experts' weights (and biases) are not read.
  const std::uint64_t h = static_cast<std::uint64_t>(hidden_size);
  const std::uint64_t inter = static_cast<std::uint64_t>(intermediate_size);
  const std::uint64_t gate_up_width = mlp == MlpKind::swiglu ? 2 * inter : inter;
  const std::uint64_t per_expert = h * gate_up_width + inter * h + (mlp_bias ? gate_up_width + h : 0);
  return total - static_cast<std::uint64_t>(num_layers) * (num_experts - experts_per_token) * per_expert;
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
