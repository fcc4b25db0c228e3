// Layer reuse: a model's decoder layers are the same work, so a step simulates its first few
// layers (and the ops outside the layers) and accounts the others from the measured per-layer
// period. Layer k ends when the last of its instructions ends (every chip); its period is
// end(k) - end(k-1), which includes how much of the next layer's weight prefetch overlaps it.
// Layer 0 carries the start of the step and is left out of the period. The remaining layers add
// the mean period each, and the work of the last simulated layer each: instructions, FLOPs,
// HBM/SRAM/link bytes, energy and every unit's busy and stall cycles. Counts are then exactly
// those of the full step (the layers do the same work); the step time is within the layers'
// period spread (docs/performance.md measures it against --exact).
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
  double period_cycles = 0.0;    // mean period of layers 1 .. simulated-1
  double period_spread = 0.0;    // max |period - mean| / mean over them
  bool steady = true;            // period_spread <= kSteadyPeriodSpread
  bool applied() const { return simulated < layers; }
  int extrapolated() const { return layers - simulated; }
};

// Extends `stats` of a run that simulated the first `simulated` of `layers` layers with layer
// accounting (RunStats::layers) to the whole step. With simulated == layers it only returns the
// exact description. Throws tasim::Error (internal) when a simulated layer left no record.
LayerReuse extrapolate_layers(RunStats& stats, int layers, int simulated);

}  // namespace tasim
