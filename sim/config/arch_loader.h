// Architecture YAML -> validated ChipConfig. Every key is checked against the schema
// (arch_schema.h): unknown keys, wrong types, out-of-range values and missing required keys
// throw tasim::Error with one line naming the file, the YAML line:column and the key path.
//
// A file may start from a preset: a top-level `base: <preset name>` loads that preset (and its
// own base, and so on) first, then this file's keys override it one leaf key at a time (sections
// merge deeply). The chip's `name` is never inherited; `description` is when the file has none.
// Then the cross-field rules of the system section are checked (ports a topology needs, torus
// shape), with errors naming the keys involved.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "arch/arch_config.h"

namespace tasim {

// `preset_or_path`: a preset name (see preset_names()) or a YAML file path. `overrides`:
// "key.path=value" strings (the CLI's --set), applied on top of the file before validation.
ChipConfig load_arch(const std::string& preset_or_path, const std::vector<std::string>& overrides = {});

// The same from YAML text; `source_name` is the file name shown in error messages and the
// chip's name when the YAML gives none (without its .yaml/.yml extension).
ChipConfig load_arch_text(const std::string& yaml, const std::string& source_name,
                          const std::vector<std::string>& overrides = {});

// The chip with its `description:` (which ChipConfig does not carry).
struct ArchInfo {
  ChipConfig chip;
  std::string description;
};
ArchInfo load_arch_info(const std::string& preset_or_path, const std::vector<std::string>& overrides = {});

// What a run asks of its architecture: a preset or file, key overrides, and the system's chips
// and topology (which the CLI's --chips and --topology set). The one way every command and the
// sweeps build the chip they simulate.
struct ArchRequest {
  std::string arch = "sohu-like";       // a preset name or a YAML file
  std::vector<std::string> overrides;   // "key.path=value", applied in order
  std::optional<int> chips;             // system.chips, after the overrides
  std::optional<std::string> topology;  // system.topology, after the overrides
};
ArchInfo build_arch(const ArchRequest& request);

namespace detail {
// load_arch_text with `presets` (name -> YAML text) standing in for the embedded presets: for
// tests of base chains the shipped presets do not have (cycles).
ArchInfo load_arch_text_with_presets(const std::string& yaml, const std::string& source_name,
                                     const std::map<std::string, std::string>& presets,
                                     const std::vector<std::string>& overrides = {});
}  // namespace detail

// Presets embedded in the binary from configs/arch/*.yaml, sorted by name.
std::vector<std::string> preset_names();
bool is_preset(const std::string& name);
// The preset's YAML text; throws Error for an unknown name.
std::string preset_yaml(const std::string& name);
// "tpu-v4-like  <description>  bf16 275 TFLOP/s, fp8 275 TFLOP/s, HBM 1.20 TB/s, ..." for one
// preset (figures from arch_figures.h).
std::string describe_preset(const std::string& name);
// Every preset, one describe_preset line each, columns aligned (`tasim presets`).
std::string presets_listing();

// The chip as an architecture YAML file that loads back to the same ChipConfig (every key,
// defaults included): what a report records as the effective configuration.
std::string arch_to_yaml(const ChipConfig& chip, const std::string& description = "");

}  // namespace tasim
