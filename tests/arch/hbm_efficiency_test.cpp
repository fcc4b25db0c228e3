// The HBM efficiency formulas (arch/hbm_efficiency.h) against figures worked out by hand, and the
// bandwidth model applying them.
#include "arch/hbm_efficiency.h"

#include <catch2/catch.hpp>

#include "arch/hbm.h"
#include "test_chips.h"

using namespace tasim;

namespace {
// One stack of 16 channels at 50 GB/s (50 bytes per ns) with HBM3-style timings.
HbmConfig hbm3_like() {
  HbmConfig h;
  h.stacks = 1;
  h.channels_per_stack = 16;
  h.gbps_per_channel = 50.0;
  h.interleave_bytes = 256;
  h.refresh_interval_ns = 3900.0;
  h.refresh_ns = 350.0;
  h.turnaround_ns = 12.0;
  h.write_batch_bytes = 8192;
  h.page_bytes = 2048;
  h.activate_interval_ns = 2.0;
  return h;
}
}  // namespace

TEST_CASE("the defaults leave the pin bandwidth whole", "[hbm][efficiency]") {
  const HbmConfig h;  // the schema's defaults: no refresh, turnaround or activate limit
  CHECK(refresh_efficiency(h) == 1.0);
  CHECK(write_turnaround_efficiency(h, 32.0) == 1.0);
  CHECK(activate_efficiency(h, 32.0, 1.0) == 1.0);
  CHECK(streaming_copy_efficiency(h) == 1.0);
  CHECK(transfer_efficiency(h, 32.0, 8, 4096, true) == 1.0);
}

TEST_CASE("refresh costs tRFC of every tREFI", "[hbm][efficiency]") {
  HbmConfig h = hbm3_like();
  CHECK(refresh_efficiency(h) == Approx(1.0 - 350.0 / 3900.0));  // 0.910256
  h.refresh_interval_ns = 1950.0;  // above 85 C: refresh twice as often
  CHECK(refresh_efficiency(h) == Approx(1.0 - 350.0 / 1950.0));
}

TEST_CASE("write turnarounds: one per write batch", "[hbm][efficiency]") {
  const HbmConfig h = hbm3_like();
  // 8192 B at 50 B/ns = 163.84 ns of writes, then 12 ns of idle bus: 163.84 / 175.84.
  CHECK(write_turnaround_efficiency(h, 50.0) == Approx(163.84 / 175.84));
  // A copy: reads at refresh only, writes at refresh x turnaround; per byte pair
  // 1/0.910256 + 1/(0.910256 x 0.931756) ns-units: efficiency 0.878102.
  const double read = 1.0 - 350.0 / 3900.0;
  const double write = read * 163.84 / 175.84;
  CHECK(streaming_read_efficiency(h) == Approx(read));
  CHECK(streaming_copy_efficiency(h) == Approx(2.0 / (1.0 / read + 1.0 / write)));
  CHECK(streaming_copy_efficiency(h) == Approx(0.878102).epsilon(1e-5));
}

TEST_CASE("activates: bytes per page against the activate interval", "[hbm][efficiency]") {
  const HbmConfig h = hbm3_like();
  // Contiguous: whole 2 KiB pages, 40.96 ns of data per activate: never bound by 2 ns.
  CHECK(bytes_per_activate(h, 65536, 0) == 2048.0);
  CHECK(activate_efficiency(h, 50.0, 2048.0) == 1.0);
  // 64 B rows 1 MiB apart (beyond a 16 x 256 B period): 64 B per page, 1.28 ns of data per 2 ns.
  CHECK(bytes_per_activate(h, 64, 1 << 20) == 64.0);
  CHECK(activate_efficiency(h, 50.0, 64.0) == Approx(1.28 / 2.0));
  // 1 KiB rows far apart: each row puts one 256 B unit on a channel.
  CHECK(bytes_per_activate(h, 1024, 1 << 20) == 256.0);
  // 64 KiB rows wrap the 16 channels: 4 KiB each, capped at a page.
  CHECK(bytes_per_activate(h, 65536, 1 << 20) == 2048.0);
  // 128 B rows every 512 B (dense): a page holds a quarter of its span, 512 B.
  CHECK(bytes_per_activate(h, 128, 512) == 512.0);
  // The transfer's efficiency multiplies them: 64 B strided reads under refresh.
  CHECK(transfer_efficiency(h, 50.0, 64, 1 << 20, false) == Approx((1.0 - 350.0 / 3900.0) * 0.64));
}

TEST_CASE("the bandwidth model stretches channel time by the efficiency", "[hbm][efficiency]") {
  ChipConfig chip = testing::tiny_chip();  // 4 channels of 16 B/cycle at 1 GHz, 100 cycles latency
  chip.hbm.refresh_ns = 390.0;             // 10% refresh loss
  Hbm hbm(chip.hbm, chip.clock_ghz);
  // 64 KiB over 4 channels: 16 KiB each, 1024 cycles at the pin rate, / 0.9 = 1137.78.
  CHECK(hbm.transfer(0.0, 0, 1, 65536, 0, false) == Approx(16384.0 / 0.9 / 16.0 + 100.0).epsilon(1e-4));
  CHECK(hbm.bytes_read() == 65536);  // the bytes counted are the bytes moved
}
