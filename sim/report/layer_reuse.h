// Layer reuse: a model's decoder layers are the same work (or repeat it every p layers: gpt-oss
// alternates sliding and full attention, p = 2), so a step simulates its first few layers (and
// the ops outside the layers) and accounts the others from the measured per-layer periods. Layer
// k ends when the last of its instructions ends (every chip); its period is end(k) - end(k-1),
// which includes how much of the next layer's weight prefetch overlaps it. Layer 0 carries the
// start of the step and is left out. Each layer not simulated adds the mean period of the
// simulated layers of its phase (k mod p) and the work of the last simulated layer of its phase:
// instructions, FLOPs, HBM/SRAM/link bytes, energy and every unit's busy and stall cycles. Counts
// are then exactly those of the full step; the step time is within the layers' period spread
// (docs/performance.md measures it against --exact).
#pragma once

#include <cstdint>

#include "arch/run_stats.h"
#include "workloads/step.h"

namespace tasim {

using workloads::kDefaultReuseLayers;
using workloads::kMinReuseLayers;
// The periods' spread (max |period - mean| / mean) under which they count as steady.
constexpr double kSteadyPeriodSpread = 0.01;

struct LayerReuse {
  int layers = 0;                // decoder layers of the step (per chip)
  int simulated = 0;             // the first ones, simulated; layers when exact
  int period_layers = 1;         // p: the layers' kinds repeat every p layers
  double period_cycles = 0.0;    // mean period of layers 1 .. simulated-1
  double period_spread = 0.0;    // max |period - its phase's mean| / that mean over them
  bool steady = true;            // period_spread <= kSteadyPeriodSpread
  bool applied() const { return simulated < layers; }
  int extrapolated() const { return layers - simulated; }
};

// Extends `stats` of a run that simulated the first `simulated` of `layers` layers, whose kinds
// repeat every `period` layers, with layer accounting (RunStats::layers) to the whole step. With
// simulated == layers it only returns the exact description. Throws tasim::Error (internal) when a
// simulated layer left no record, or fewer than 2 x period + 1 layers were simulated.
LayerReuse extrapolate_layers(RunStats& stats, int layers, int simulated, int period = 1);

}  // namespace tasim
