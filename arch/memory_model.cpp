#include "arch/memory_model.h"

#include <fmt/format.h>

#include "arch/hbm.h"
#include "common/error.h"
#include "common/suggest.h"

namespace tasim {

std::vector<MemoryModelEntry> builtin_memory_models() {
  return {
      {"bandwidth",
       "channels as bandwidth servers: addresses interleave over stacks x channels_per_stack channels, each "
       "serving gbps_per_channel first come first served, times the DRAM efficiency (refresh, write turnaround, "
       "activates: arch/hbm_efficiency.h), plus latency_ns per transfer",
       [](const HbmConfig& hbm, double clock_ghz) { return std::make_unique<Hbm>(hbm, clock_ghz); }},
      {"ideal", "unlimited bandwidth and no latency (a compute-only study of the rest of the chip)",
       [](const HbmConfig& hbm, double clock_ghz) {
         return std::make_unique<IdealMemory>(hbm.peak_gbps() / clock_ghz);
       }},
  };
}

namespace {
std::vector<MemoryModelEntry>& registry() {
  static std::vector<MemoryModelEntry> entries = builtin_memory_models();
  return entries;
}
}  // namespace

void register_memory_model(MemoryModelEntry entry) {
  if (find_memory_model(entry.name)) throw Error(fmt::format("a memory model named '{}' exists already", entry.name));
  registry().push_back(std::move(entry));
}

std::vector<std::string> memory_model_names() {
  std::vector<std::string> names;
  for (const auto& e : registry()) names.push_back(e.name);
  return names;
}

const MemoryModelEntry* find_memory_model(const std::string& name) {
  for (const auto& e : registry()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::unique_ptr<MemoryModel> make_memory_model(const std::string& name, const HbmConfig& hbm, double clock_ghz) {
  const MemoryModelEntry* entry = find_memory_model(name);
  if (!entry) {
    const std::vector<std::string> names = memory_model_names();
    const std::string hint = closest_match(name, names);
    throw Error(fmt::format("hbm.model '{}' is not a memory model{} (models: {})", name,
                            hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint), fmt::join(names, ", ")));
  }
  return entry->make(hbm, clock_ghz);
}

}  // namespace tasim
