// configs/models/*.{json,yaml} compiled into the library (the .cpp is generated at build time by
// sim/config/embed_presets.cmake), so `tasim` finds its shipped models from any working directory.
#pragma once

namespace tasim::workloads::detail {

struct EmbeddedModelFile {
  const char* file_name;  // with its extension: llama-3-8b.json, gpt-style-1b.yaml
  const char* text;
};

// Sorted by file name; kNumEmbeddedModelFiles entries (the array ends with a null sentinel).
extern const EmbeddedModelFile kEmbeddedModelFiles[];
extern const int kNumEmbeddedModelFiles;

}  // namespace tasim::workloads::detail
