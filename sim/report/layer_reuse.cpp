#include "sim/report/layer_reuse.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace tasim {

LayerReuse extrapolate_layers(RunStats& stats, int layers, int simulated) {
  LayerReuse r;
  r.layers = layers;
  r.simulated = simulated;
  if (simulated >= layers) {
    r.simulated = layers;
    return r;
  }
  if (simulated < kMinReuseLayers) {
    throw Error(fmt::format("internal: layer reuse needs at least {} simulated layers, got {}", kMinReuseLayers,
                            simulated));
  }
  if (stats.layers.size() < static_cast<std::size_t>(simulated)) {
    throw Error(fmt::format("internal: layer reuse: {} layers simulated but {} accounted", simulated,
                            stats.layers.size()));
  }
  for (int l = 0; l < simulated; ++l) {
    if (!stats.layers[static_cast<std::size_t>(l)].seen) throw Error(fmt::format("internal: layer {} ran nothing", l));
  }
  const auto end = [&](int l) { return static_cast<double>(stats.layers[static_cast<std::size_t>(l)].end_cycle); };
  r.period_cycles = (end(simulated - 1) - end(0)) / (simulated - 1);
  for (int l = 1; l < simulated; ++l) {
    const double period = end(l) - end(l - 1);
    if (r.period_cycles > 0) r.period_spread = std::max(r.period_spread, std::abs(period - r.period_cycles) / r.period_cycles);
  }
  r.steady = r.period_spread <= kSteadyPeriodSpread;

  // The layers not simulated: each one period more, and the last simulated layer's work again.
  const auto k = static_cast<std::uint64_t>(layers - simulated);
  const LayerWork& last = stats.layers[static_cast<std::size_t>(simulated - 1)];
  stats.cycles += static_cast<std::uint64_t>(std::llround(r.period_cycles * static_cast<double>(k)));
  stats.instructions += last.instructions * k;
  const Activity more = last.activity.times(k);
  stats.activity += more;
  stats.flops += 2 * more.total_macs();
  stats.hbm_bytes_read += more.hbm_bytes_read;
  stats.hbm_bytes_written += more.hbm_bytes_written;
  stats.sram_bytes_accessed += more.sram_bytes();
  if (last.units.size() != stats.units.size()) {
    throw Error(fmt::format("internal: layer reuse: {} unit records for {} units", last.units.size(), stats.units.size()));
  }
  for (std::size_t u = 0; u < stats.units.size(); ++u) stats.units[u] += last.units[u].times(k);
  return r;
}

}  // namespace tasim
