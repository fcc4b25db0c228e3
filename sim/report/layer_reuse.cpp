#include "sim/report/layer_reuse.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.h"

namespace tasim {

LayerReuse extrapolate_layers(RunStats& stats, int layers, int simulated, int period) {
  LayerReuse r;
  r.layers = layers;
  r.simulated = simulated;
  r.period_layers = std::max(1, period);
  if (simulated >= layers) {
    r.simulated = layers;
    return r;
  }
  const int p = r.period_layers;
  if (simulated < std::max(kMinReuseLayers, 2 * p + 1)) {
    throw Error(fmt::format("internal: layer reuse with a period of {} layers needs at least {} simulated layers, "
                            "got {}",
                            p, std::max(kMinReuseLayers, 2 * p + 1), simulated));
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
  // Each phase's mean period over the simulated layers 1 .. simulated-1 of that phase.
  std::vector<double> phase_sum(static_cast<std::size_t>(p), 0.0);
  std::vector<int> phase_count(static_cast<std::size_t>(p), 0);
  for (int l = 1; l < simulated; ++l) {
    phase_sum[static_cast<std::size_t>(l % p)] += end(l) - end(l - 1);
    ++phase_count[static_cast<std::size_t>(l % p)];
  }
  std::vector<double> phase_mean(static_cast<std::size_t>(p), 0.0);
  for (int f = 0; f < p; ++f) {
    phase_mean[static_cast<std::size_t>(f)] = phase_sum[static_cast<std::size_t>(f)] / phase_count[static_cast<std::size_t>(f)];
  }
  if (p == 1) phase_mean[0] = r.period_cycles;  // the same mean, without the sum's rounding
  for (int l = 1; l < simulated; ++l) {
    const double mean = phase_mean[static_cast<std::size_t>(l % p)];
    if (mean > 0) r.period_spread = std::max(r.period_spread, std::abs(end(l) - end(l - 1) - mean) / mean);
  }
  r.steady = r.period_spread <= kSteadyPeriodSpread;

  // The layers not simulated: each its phase's period more, and the work again of the last
  // simulated layer of its phase.
  std::vector<std::uint64_t> phase_more(static_cast<std::size_t>(p), 0);
  for (int l = simulated; l < layers; ++l) ++phase_more[static_cast<std::size_t>(l % p)];
  double more_cycles = 0.0;
  for (int f = 0; f < p; ++f) {
    more_cycles += phase_mean[static_cast<std::size_t>(f)] * static_cast<double>(phase_more[static_cast<std::size_t>(f)]);
  }
  stats.cycles += static_cast<std::uint64_t>(std::llround(more_cycles));
  for (int f = 0; f < p; ++f) {
    const std::uint64_t k = phase_more[static_cast<std::size_t>(f)];
    if (k == 0) continue;
    int last_of_phase = simulated - 1;
    while (last_of_phase % p != f) --last_of_phase;
    const LayerWork& last = stats.layers[static_cast<std::size_t>(last_of_phase)];
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
  }
  return r;
}

}  // namespace tasim
