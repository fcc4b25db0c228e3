// configs/arch/*.yaml compiled into the library (the .cpp is generated at build time by
// embed_presets.cmake), so `tasim` finds its presets from any working directory.
#pragma once

namespace tasim::detail {

struct EmbeddedPreset {
  const char* name;  // file name without .yaml
  const char* yaml;
};

// Sorted by name; kNumEmbeddedPresets entries (the array ends with a null sentinel).
extern const EmbeddedPreset kEmbeddedPresets[];
extern const int kNumEmbeddedPresets;

}  // namespace tasim::detail
