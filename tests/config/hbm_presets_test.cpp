// The presets' HBM efficiency: h200-like against the measured H200 copy, the older presets at
// their pin bandwidth (arch/hbm_efficiency.h).
#include <algorithm>

#include <catch2/catch.hpp>

#include "arch/hbm.h"
#include "arch/hbm_efficiency.h"
#include "sim/config/arch_loader.h"

using namespace tasim;

TEST_CASE("h200-like streams a copy within 3% of the measured 4,257 GB/s", "[hbm][efficiency][presets]") {
  const ChipConfig c = load_arch("h200-like");
  const double peak_gbps = c.hbm.peak_gbps();
  CHECK(peak_gbps == Approx(4800.0));
  const double copy_gbps = peak_gbps * streaming_copy_efficiency(c.hbm);
  CHECK(copy_gbps == Approx(4257.0).epsilon(0.03));
  const double read_gbps = peak_gbps * streaming_read_efficiency(c.hbm);
  CHECK(read_gbps == Approx(4255.0).epsilon(0.03));
  // Through the model itself: 96 channels kept busy by 8 engines copying 1 MiB chunks.
  Hbm hbm(c.hbm, c.clock_ghz);
  double end_cycle = 0;
  const std::uint64_t chunk = 1 << 20;
  for (std::uint64_t i = 0; i < 512; ++i) {
    end_cycle = std::max(end_cycle, hbm.transfer(0.0, i * chunk, 1, chunk, 0, false));
    end_cycle = std::max(end_cycle, hbm.transfer(0.0, (1ull << 32) + i * chunk, 1, chunk, 0, true));
  }
  const double seconds = end_cycle / (c.clock_ghz * 1e9);
  CHECK(2.0 * 512 * chunk / seconds / 1e9 == Approx(copy_gbps).epsilon(0.01));
  // The older presets set no DRAM timings: they stream at their pin bandwidth, as before.
  for (const char* name : {"sohu-like", "h100-like-8x", "tpu-v4-like", "small"}) {
    CHECK(streaming_copy_efficiency(load_arch(name).hbm) == 1.0);
  }
}
