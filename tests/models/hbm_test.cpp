#include <catch2/catch.hpp>

#include <numeric>

#include "models/hbm.h"
#include "test_chips.h"

using namespace tasim;

TEST_CASE("interleaving splits a range over channels exactly", "[hbm]") {
  std::vector<std::uint64_t> per(4, 0);
  // 256-byte units: [100, 1380) touches units 0..5 -> channels 0,1,2,3,0,1.
  add_interleaved_bytes(100, 1280, 256, per);
  CHECK(per[0] == (256 - 100) + 256);
  CHECK(per[1] == 256 + (1380 - 1280));
  CHECK(per[2] == 256);
  CHECK(per[3] == 256);
  CHECK(std::accumulate(per.begin(), per.end(), std::uint64_t{0}) == 1280);
}

TEST_CASE("interleaving of many rounds matches a byte-by-byte count", "[hbm]") {
  for (std::uint64_t addr : {0ull, 17ull, 255ull, 4096ull + 3}) {
    for (std::uint64_t len : {1ull, 255ull, 256ull, 1000ull, 12345ull}) {
      std::vector<std::uint64_t> fast(3, 0), slow(3, 0);
      add_interleaved_bytes(addr, len, 64, fast);
      for (std::uint64_t a = addr; a < addr + len; ++a) ++slow[(a / 64) % 3];
      CHECK(fast == slow);
    }
  }
}

TEST_CASE("one transfer takes latency plus bytes over the channels it uses", "[hbm]") {
  const ChipConfig chip = testing::tiny_chip();
  Hbm hbm(chip.hbm, chip.clock_ghz, false);
  // 64 KiB over 4 channels of 16 B/cycle: 1024 cycles, plus 100 cycles latency.
  const double done = hbm.transfer(0.0, 0, 1, 65536, 0, false);
  CHECK(done == Approx(1024.0 + 100.0));
  CHECK(hbm.bytes_read() == 65536);
}

TEST_CASE("concurrent transfers share bandwidth and never exceed peak", "[hbm]") {
  const ChipConfig chip = testing::tiny_chip();
  Hbm hbm(chip.hbm, chip.clock_ghz, false);
  double last = 0;
  for (int engine = 0; engine < 8; ++engine) {
    last = std::max(last, hbm.transfer(0.0, engine * 65536ull, 1, 65536, 0, false));
  }
  const double bytes = 8.0 * 65536;
  // Peak is 64 bytes/cycle: 8 x 64 KiB needs at least 8192 cycles of transfer.
  CHECK(last >= bytes / hbm.peak_bytes_per_cycle());
  CHECK(last == Approx(bytes / hbm.peak_bytes_per_cycle() + 100.0));
  for (int c = 0; c < hbm.channels(); ++c) {
    CHECK(hbm.channel(c).busy_cycles() <= last);
  }
}

TEST_CASE("strided rows land on the channels their addresses map to", "[hbm]") {
  const ChipConfig chip = testing::tiny_chip();
  Hbm hbm(chip.hbm, chip.clock_ghz, false);
  // 8 rows of 256 bytes, stride 1024 = 4 units: every row maps to channel 0 alone.
  const double done = hbm.transfer(0.0, 0, 8, 256, 1024, false);
  CHECK(done == Approx(8 * 256 / 16.0 + 100.0));
  CHECK(hbm.channel(0).bytes_served() == 2048);
  CHECK(hbm.channel(1).bytes_served() == 0);
}

TEST_CASE("ideal HBM costs nothing but still counts bytes", "[hbm]") {
  const ChipConfig chip = testing::tiny_chip();
  Hbm hbm(chip.hbm, chip.clock_ghz, true);
  CHECK(hbm.transfer(5.0, 0, 4, 1000, 0, true) == 5.0);
  CHECK(hbm.bytes_written() == 4000);
}
