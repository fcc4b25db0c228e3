#include "sim/config/arch_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/printable.h"
#include "common/suggest.h"
#include "common/yaml_util.h"
#include "arch/arch_figures.h"
#include "arch/cost_model.h"
#include "sim/config/arch_presets_embedded.h"
#include "sim/config/arch_schema.h"

namespace tasim {
namespace {

std::string join_path(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "." + name;
}

// Names directly under a section ("" = top level), in schema order.
std::vector<std::string> children(const std::string& section) {
  std::vector<std::string> out;
  const std::string prefix = section.empty() ? "" : section + ".";
  for (const auto& k : arch_schema()) {
    if (k.path.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = k.path.substr(prefix.size());
    const std::string child = rest.substr(0, rest.find('.'));
    if (std::find(out.begin(), out.end(), child) == out.end()) out.push_back(child);
  }
  return out;
}

// " (did you mean 'core.matrix'?)" for an unknown `name` under a known `section`; `rest` is what
// followed the unknown name in a dotted path (for --set), kept in the suggestion.
std::string unknown_key_hint(const std::string& section, const std::string& name, const std::string& rest = "") {
  // A key put in the wrong section: `rows` at the top level means core.matrix.rows.
  const std::string tail = rest.empty() ? name : name + "." + rest;
  std::string moved;
  for (const auto& k : arch_schema()) {
    if (k.path.size() > tail.size() && k.path.compare(k.path.size() - tail.size(), tail.size(), tail) == 0 &&
        k.path[k.path.size() - tail.size() - 1] == '.') {
      moved = k.path;
      break;
    }
  }
  if (moved.empty()) {
    for (const auto& s : arch_sections()) {
      if (s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0 &&
          s[s.size() - tail.size() - 1] == '.') {
        moved = s;
        break;
      }
    }
  }
  if (!moved.empty()) return fmt::format(" (did you mean '{}'?)", moved);

  auto siblings = children(section);
  if (section.empty()) siblings.push_back("base");  // not a schema key, but valid at the top level
  const std::string best = closest_match(name, siblings);
  if (!best.empty()) {
    const std::string fixed = join_path(join_path(section, best), rest);
    if (find_arch_key(fixed) || is_arch_section(fixed))
      return fmt::format(" (did you mean '{}'?)", fixed);
    return fmt::format(" (did you mean '{}'?)", join_path(section, best));
  }
  return fmt::format(" (valid keys {}: {})", section.empty() ? "at the top level" : "in '" + section + "'",
                     fmt::join(siblings, ", "));
}

std::string expected_text(const ArchKey& key) {
  switch (key.type) {
    case ArchKeyType::integer: return "an integer";
    case ArchKeyType::number: return "a number";
    case ArchKeyType::choice: return fmt::format("one of {}", fmt::join(key.choice_list(), ", "));
    case ArchKeyType::text: return "text";
  }
  return "a value";
}

// ---- YAML -> flat key/value map ----------------------------------------------------------

struct Entry {
  std::string text;
  std::string origin;  // "file:line:col" or "--set key=value", prefixed to errors about the value
};
using FlatArch = std::map<std::string, Entry>;


// The top-level key naming a preset this file builds on. Not in the schema: it is not part of
// the chip, only of how the file is written (arch_to_yaml writes every key instead).
const char* const kBaseKey = "base";

void flatten(const YAML::Node& map, const std::string& section, const std::string& source,
             std::map<std::string, YAML::Mark>& first_seen, FlatArch& flat, Entry& base) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    if (!key_node.IsScalar()) {
      throw Error(fmt::format("{}: a key must be a plain name, got {}", yaml_where(source, key_node.Mark()),
                              yaml_node_kind(key_node)));
    }
    const std::string path = join_path(section, key_node.Scalar());
    const auto seen = first_seen.find(path);
    if (seen != first_seen.end()) {
      throw Error(fmt::format("{}: duplicate key '{}' (first given at line {})", yaml_where(source, key_node.Mark()),
                              path, seen->second.line + 1));
    }
    first_seen.emplace(path, key_node.Mark());

    if (path == kBaseKey) {
      // `base: <preset>`: not a chip key; the loader reads the preset first (resolve_flat).
      if (!value.IsScalar() || value.Scalar().empty()) {
        throw Error(fmt::format("{}: base expects a preset name, got {}",
                                yaml_where(source, value.IsNull() ? key_node.Mark() : value.Mark()),
                                value.IsScalar() ? "an empty name" : yaml_node_kind(value)));
      }
      base = Entry{value.Scalar(), yaml_where(source, value.Mark())};
      continue;
    }
    if (const ArchKey* key = find_arch_key(path)) {
      if (value.IsNull() && key->type == ArchKeyType::text) {
        flat[path] = Entry{"", yaml_where(source, value.Mark())};
      } else if (!value.IsScalar()) {
        throw Error(fmt::format("{}: {} expects {}, got {}", yaml_where(source, value.IsNull() ? key_node.Mark() : value.Mark()),
                                path, expected_text(*key), yaml_node_kind(value)));
      } else {
        flat[path] = Entry{value.Scalar(), yaml_where(source, value.Mark())};
      }
    } else if (is_arch_section(path)) {
      if (value.IsNull()) continue;  // `core:` with nothing under it: all defaults
      if (!value.IsMap()) {
        throw Error(fmt::format("{}: '{}' is a section: expected its keys ({}) indented below it, got {}",
                                yaml_where(source, value.Mark()), path, fmt::join(children(path), ", "),
                                yaml_node_kind(value)));
      }
      flatten(value, path, source, first_seen, flat, base);
    } else {
      // A dotted key (`core.matrx: ...`) is checked from its first unknown component.
      std::string known = section;
      std::string name = key_node.Scalar();
      std::string rest;
      for (std::size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.')) {
        const std::string head = join_path(known, name.substr(0, dot));
        if (!is_arch_section(head) || find_arch_key(head)) break;
        known = head;
        name = name.substr(dot + 1);
      }
      if (const auto dot = name.find('.'); dot != std::string::npos) {
        rest = name.substr(dot + 1);
        name = name.substr(0, dot);
      }
      throw Error(fmt::format("{}: unknown key '{}'{}", yaml_where(source, key_node.Mark()), path,
                              unknown_key_hint(known, name, rest)));
    }
  }
}

// One file's own keys, and the preset it names as its base (text empty: none).
struct ParsedArch {
  FlatArch flat;
  Entry base;
};

ParsedArch parse_yaml(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: malformed YAML: {}", yaml_where(source, e.mark), e.msg));
  }
  ParsedArch parsed;
  if (root.IsNull()) return parsed;
  if (!root.IsMap()) {
    throw Error(fmt::format("{}: expected a mapping of architecture keys at the top level, got {}",
                            yaml_where(source, root.Mark()), yaml_node_kind(root)));
  }
  std::map<std::string, YAML::Mark> first_seen;
  try {
    flatten(root, "", source, first_seen, parsed.flat, parsed.base);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: malformed YAML: {}", yaml_where(source, e.mark), e.msg));
  }
  return parsed;
}

// ---- base: preset inheritance ------------------------------------------------------------

// Preset name -> YAML text: the embedded presets, or a stand-in set from a test.
using PresetTexts = std::map<std::string, std::string>;

std::vector<std::string> names_of(const PresetTexts& presets) {
  std::vector<std::string> names;
  for (const auto& [name, text] : presets) names.push_back(name);
  return names;
}

// The file's keys on top of its base chain's. `chain` holds the presets being resolved, outermost
// first (a preset loaded by name starts with itself), so a base naming one of them is a cycle.
// Keys merge one leaf at a time, so a file that sets core.matrix.rows keeps the base's
// core.matrix.cols: sections merge deeply. The base's `name` is dropped (a derived chip is
// reported under its own name); its `description` stays unless the file gives its own.
FlatArch resolve_flat(const std::string& yaml, const std::string& source, const PresetTexts& presets,
                      std::vector<std::string>& chain) {
  ParsedArch parsed = parse_yaml(yaml, source);
  if (parsed.base.text.empty()) return std::move(parsed.flat);
  const std::string& base = parsed.base.text;
  if (std::find(chain.begin(), chain.end(), base) != chain.end()) {
    std::vector<std::string> loop(std::find(chain.begin(), chain.end(), base), chain.end());
    loop.push_back(base);
    throw Error(fmt::format("{}: base '{}' forms a cycle: {}", parsed.base.origin, base, fmt::join(loop, " -> ")));
  }
  const auto preset = presets.find(base);
  if (preset == presets.end()) {
    const std::string best = closest_match(base, names_of(presets));
    throw Error(fmt::format("{}: unknown base preset '{}' (presets: {}){}", parsed.base.origin, base,
                            fmt::join(names_of(presets), ", "),
                            best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best)));
  }
  chain.push_back(base);
  FlatArch flat = resolve_flat(preset->second, base + ".yaml", presets, chain);
  chain.pop_back();
  flat.erase("name");
  for (auto& [path, entry] : parsed.flat) flat[path] = std::move(entry);
  return flat;
}

// ---- --set overrides ---------------------------------------------------------------------

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

void apply_override(const std::string& assignment, FlatArch& flat) {
  const auto eq = assignment.find('=');
  const std::string path = eq == std::string::npos ? "" : trim(assignment.substr(0, eq));
  if (eq == std::string::npos || path.empty() || path.find_first_of(" \t") != std::string::npos) {
    throw Error(fmt::format("--set expects key.path=value, got '{}'", printable(assignment)));
  }
  const std::string value = trim(assignment.substr(eq + 1));
  const std::string origin = "--set " + printable(assignment);
  const ArchKey* key = find_arch_key(path);
  if (!key) {
    if (path == kBaseKey) {
      throw Error(fmt::format("{}: '{}' names the preset a file builds on and can only be given in the file "
                              "(--arch names the preset to start from)",
                              origin, path));
    }
    if (is_arch_section(path)) {
      throw Error(fmt::format("{}: '{}' is a section, not a key; set one of its keys ({})", origin, path,
                              fmt::join(children(path), ", ")));
    }
    // Walk down to the first component that is not a section, and suggest a fix for it.
    std::string known;
    std::string rest = path;
    for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
      const std::string head = join_path(known, rest.substr(0, dot));
      if (!is_arch_section(head)) break;
      known = head;
      rest = rest.substr(dot + 1);
    }
    std::string name = rest;
    std::string tail;
    if (const auto dot = rest.find('.'); dot != std::string::npos) {
      name = rest.substr(0, dot);
      tail = rest.substr(dot + 1);
    }
    if (find_arch_key(join_path(known, name))) {
      throw Error(fmt::format("{}: '{}' is a key, not a section", origin, join_path(known, name)));
    }
    throw Error(fmt::format("{}: unknown key '{}'{}", origin, path, unknown_key_hint(known, name, tail)));
  }
  if (value.empty() && key->type != ArchKeyType::text) {
    throw Error(fmt::format("--set expects key.path=value, got '{}' (no value)", printable(assignment)));
  }
  flat[path] = Entry{value, origin};
}

// ---- flat map -> ChipConfig --------------------------------------------------------------

std::string strip_yaml_extension(const std::string& file_name) {
  std::string name = std::filesystem::path(file_name).filename().string();
  for (const char* ext : {".yaml", ".yml"}) {
    const std::string e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0)
      return name.substr(0, name.size() - e.size());
  }
  return name;
}

// Rules between system keys that no single key's range can express. The error starts at the
// first of `blame` the file or --set gave (else the file), and names every key involved.
void check_system(const SystemConfig& system, const FlatArch& flat, const std::string& source) {
  if (system.chips == 1) return;  // a single chip has no links: nothing to check
  const auto origin = [&](std::initializer_list<const char*> blame) {
    for (const char* path : blame) {
      if (const auto it = flat.find(path); it != flat.end()) return it->second.origin;
    }
    return source;
  };
  const int chips = system.chips;
  const int ports = system.link.ports_per_chip;
  const auto need_ports = [&](const char* topology, int need, const char* why) {
    if (ports >= need) return;
    throw Error(fmt::format("{}: system.topology = {} of {} chips needs system.link.ports_per_chip >= {} ({}), "
                            "got {}",
                            origin({"system.link.ports_per_chip", "system.topology", "system.chips"}), topology,
                            chips, need, why, ports));
  };
  switch (system.topology) {
    case Topology::mesh2d:  // on-chip networks only; the schema offers no mesh of chips
      return;
    case Topology::ring:
      need_ports("ring", chips > 2 ? 2 : 1, chips > 2 ? "a link to each neighbour" : "one link between the two");
      return;
    case Topology::torus2d: {
      if (chips < 4) {
        throw Error(fmt::format("{}: system.topology = torus2d needs system.chips >= 4 (a 2 x 2 grid at least), "
                                "got {}; use ring",
                                origin({"system.chips", "system.topology"}), chips));
      }
      need_ports("torus2d", 4, "north, south, east and west neighbours");
      const int rows = torus_grid_rows(system);
      if (chips % rows != 0 || rows < 2 || chips / rows < 2) {
        std::vector<int> divisors;
        for (int r = 2; r <= chips / 2; ++r) {
          if (chips % r == 0) divisors.push_back(r);
        }
        const std::string valid = divisors.empty()
                                      ? fmt::format("{} chips form no such grid: use ring or another chip count", chips)
                                      : fmt::format("valid: {}", fmt::join(divisors, ", "));
        if (system.torus_rows == 0) {
          throw Error(fmt::format("{}: system.topology = torus2d needs a grid of at least 2 x 2 but system.chips = "
                                  "{} is prime ({})",
                                  origin({"system.chips", "system.topology"}), chips, valid));
        }
        throw Error(fmt::format("{}: system.torus_rows = {} must divide system.chips = {} into a grid of at least "
                                "2 x 2 ({})",
                                origin({"system.torus_rows", "system.chips"}), rows, chips, valid));
      }
      return;
    }
    case Topology::fully_connected:
      need_ports("fully-connected", chips - 1, "a link to every other chip");
      return;
    case Topology::switched:
      return;  // one port per chip into the switch, whatever ports_per_chip says
  }
}

// A refresh that lasts its whole interval would leave no time for data.
void check_hbm(const HbmConfig& hbm, const FlatArch& flat, const std::string& source) {
  if (hbm.refresh_ns < hbm.refresh_interval_ns) return;
  std::string origin = source;
  for (const char* path : {"hbm.refresh_ns", "hbm.refresh_interval_ns"}) {
    if (const auto it = flat.find(path); it != flat.end()) {
      origin = it->second.origin;
      break;
    }
  }
  throw Error(fmt::format("{}: hbm.refresh_ns = {} must be below hbm.refresh_interval_ns = {} (a channel "
                          "refreshing all the time serves nothing)",
                          origin, hbm.refresh_ns, hbm.refresh_interval_ns));
}

// A cache with capacity must serve its hits at some bandwidth.
void check_llc(const LlcConfig& llc, const FlatArch& flat, const std::string& source) {
  if (!llc.present() || llc.bandwidth_gbps > 0) return;
  const auto it = flat.find("llc.capacity_mib");
  throw Error(fmt::format("{}: llc.capacity_mib = {} needs llc.bandwidth_gbps above 0 (the bandwidth its hits are served at)",
                          it != flat.end() ? it->second.origin : source,
                          static_cast<double>(llc.capacity_bytes) / (1024.0 * 1024.0)));
}

// A limit at or below the static power leaves nothing to run the chip on.
void check_power_limit(const ChipConfig& chip, const FlatArch& flat, const std::string& source) {
  if (!chip.cost.power_limited()) return;
  const double static_w = static_power_w(chip);
  if (chip.cost.power_limit_w > static_w) return;
  const auto it = flat.find("cost.power_limit_w");
  throw Error(fmt::format("{}: cost.power_limit_w = {} W must exceed the chip's static power, {:.1f} W "
                          "(cost.static_w_per_mm2 x the die area)",
                          it != flat.end() ? it->second.origin : source, chip.cost.power_limit_w, static_w));
}

ArchInfo build_chip(const FlatArch& flat, const std::string& source, const std::string& default_name) {
  ArchInfo info;
  info.chip.name = default_name;
  std::vector<std::string> missing;
  for (const auto& key : arch_schema()) {
    ArchValue value;
    std::string why;
    const auto it = flat.find(key.path);
    if (it != flat.end()) {
      if (!parse_arch_value(key, it->second.text, value, why))
        throw Error(fmt::format("{}: {}", it->second.origin, why));
    } else if (key.required) {
      missing.push_back(key.path);
      continue;
    } else if (!parse_arch_value(key, key.default_text, value, why)) {
      throw Error(fmt::format("internal error: the schema's default for {} is invalid: {}", key.path, why));
    }
    if (key.path == "description") info.description = value.text;
    if (key.set) key.set(info.chip, value);
  }
  if (missing.size() == 1) {
    const ArchKey& key = *find_arch_key(missing.front());
    throw Error(fmt::format("{}: missing required key '{}' ({}{})", source, key.path, expected_text(key),
                            key.unit == "-" ? "" : " in " + key.unit));
  }
  if (!missing.empty()) {
    throw Error(fmt::format("{}: missing required keys '{}'", source, fmt::join(missing, "', '")));
  }
  check_system(info.chip.system, flat, source);
  check_hbm(info.chip.hbm, flat, source);
  check_llc(info.chip.llc, flat, source);
  check_power_limit(info.chip, flat, source);
  return info;
}

const detail::EmbeddedPreset* find_preset(const std::string& name) {
  for (int i = 0; i < detail::kNumEmbeddedPresets; ++i) {
    if (name == detail::kEmbeddedPresets[i].name) return &detail::kEmbeddedPresets[i];
  }
  return nullptr;
}

const PresetTexts& embedded_presets() {
  static const PresetTexts presets = [] {
    PresetTexts p;
    for (int i = 0; i < detail::kNumEmbeddedPresets; ++i)
      p.emplace(detail::kEmbeddedPresets[i].name, detail::kEmbeddedPresets[i].yaml);
    return p;
  }();
  return presets;
}

// `preset`: the name when the text is a preset's (so a base chain returning to it is a cycle).
ArchInfo load_text(const std::string& yaml, const std::string& source, const std::string& default_name,
                   const std::vector<std::string>& overrides, const PresetTexts& presets = embedded_presets(),
                   const std::string& preset = "") {
  std::vector<std::string> chain;
  if (!preset.empty()) chain.push_back(preset);
  FlatArch flat = resolve_flat(yaml, source, presets, chain);
  for (const auto& o : overrides) apply_override(o, flat);
  return build_chip(flat, source, default_name);
}

ArchInfo load(const std::string& preset_or_path, const std::vector<std::string>& overrides) {
  if (const auto* preset = find_preset(preset_or_path)) {
    return load_text(preset->yaml, preset_or_path + ".yaml", preset_or_path, overrides, embedded_presets(),
                     preset_or_path);
  }
  std::error_code ec;
  const bool looks_like_path = preset_or_path.find('/') != std::string::npos ||
                               strip_yaml_extension(preset_or_path) != preset_or_path;
  if (!looks_like_path && !std::filesystem::exists(preset_or_path, ec)) {
    const std::string best = closest_match(preset_or_path, preset_names());
    throw Error(fmt::format("unknown architecture '{}': not a preset ({}) nor a file{}", preset_or_path,
                            fmt::join(preset_names(), ", "),
                            best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best)));
  }
  return load_text(read_file_bytes(preset_or_path, "architecture file"), preset_or_path, strip_yaml_extension(preset_or_path),
                   overrides);
}

std::string yaml_quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

ChipConfig load_arch(const std::string& preset_or_path, const std::vector<std::string>& overrides) {
  return load(preset_or_path, overrides).chip;
}

ArchInfo load_arch_info(const std::string& preset_or_path, const std::vector<std::string>& overrides) {
  return load(preset_or_path, overrides);
}

ArchInfo build_arch(const ArchRequest& request) {
  std::vector<std::string> overrides = request.overrides;
  if (request.chips) overrides.push_back(fmt::format("system.chips={}", *request.chips));
  if (request.topology) overrides.push_back("system.topology=" + *request.topology);
  return load(request.arch, overrides);
}

ChipConfig load_arch_text(const std::string& yaml, const std::string& source_name,
                          const std::vector<std::string>& overrides) {
  return load_text(yaml, source_name, strip_yaml_extension(source_name), overrides).chip;
}

namespace detail {

ArchInfo load_arch_text_with_presets(const std::string& yaml, const std::string& source_name,
                                     const std::map<std::string, std::string>& presets,
                                     const std::vector<std::string>& overrides) {
  return load_text(yaml, source_name, strip_yaml_extension(source_name), overrides, presets);
}

}  // namespace detail

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (int i = 0; i < detail::kNumEmbeddedPresets; ++i) names.emplace_back(detail::kEmbeddedPresets[i].name);
  std::sort(names.begin(), names.end());
  return names;
}

bool is_preset(const std::string& name) { return find_preset(name) != nullptr; }

std::string preset_yaml(const std::string& name) {
  if (const auto* preset = find_preset(name)) return preset->yaml;
  const std::string best = closest_match(name, preset_names());
  throw Error(fmt::format("unknown preset '{}' (presets: {}){}", name, fmt::join(preset_names(), ", "),
                          best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best)));
}

namespace {

std::string preset_line(const std::string& name, std::size_t name_width, std::size_t description_width) {
  preset_yaml(name);  // unknown names throw here
  const ArchInfo info = load(name, {});
  return fmt::format("{:<{}}  {:<{}}  {}", name, name_width, info.description, description_width,
                     headline_figures(info.chip));
}

}  // namespace

std::string describe_preset(const std::string& name) { return preset_line(name, 0, 0); }

std::string presets_listing() {
  std::size_t name_width = 0;
  std::size_t description_width = 0;
  for (const auto& name : preset_names()) {
    name_width = std::max(name_width, name.size());
    description_width = std::max(description_width, load(name, {}).description.size());
  }
  std::string out;
  for (const auto& name : preset_names()) out += preset_line(name, name_width, description_width) + "\n";
  return out;
}

std::string arch_to_yaml(const ChipConfig& chip, const std::string& description) {
  std::string out;
  std::vector<std::string> open;  // the sections the previous key was in
  for (const auto& key : arch_schema()) {
    std::string value;
    if (key.path == "description") {
      if (description.empty()) continue;
      value = yaml_quoted(description);
    } else if (!key.get) {
      continue;
    } else {
      value = key.get(chip);
      if (key.type == ArchKeyType::text) value = yaml_quoted(value);
    }
    std::vector<std::string> parts;
    for (std::size_t start = 0;;) {
      const auto dot = key.path.find('.', start);
      parts.push_back(key.path.substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    const std::size_t depth = parts.size() - 1;
    std::size_t common = 0;
    while (common < open.size() && common < depth && open[common] == parts[common]) ++common;
    open.resize(common);
    for (std::size_t i = common; i < depth; ++i) {
      out += std::string(2 * i, ' ') + parts[i] + ":\n";
      open.push_back(parts[i]);
    }
    out += std::string(2 * depth, ' ') + parts.back() + ": " + value + "\n";
  }
  return out;
}

}  // namespace tasim
