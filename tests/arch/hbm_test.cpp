#include <catch2/catch.hpp>

#include <numeric>

#include "arch/hbm.h"
#include "arch/test_chips.h"

using namespace tasim;

TEST_CASE("interleaving splits a range over channels exactly", "[hbm]") {
  std::vector<std::uint64_t> per(4, 0);
  // 256-byte units: [100, 1380) touches units 0..5; units 4, 5 are the second period, rotated
  // by one: channels 0,1,2,3 then 1,2.
  add_interleaved_bytes(100, 1280, 256, per);
  CHECK(per[0] == (256 - 100));
  CHECK(per[1] == 256 + 256);
  CHECK(per[2] == 256 + (1380 - 1280));
  CHECK(per[3] == 256);
  CHECK(std::accumulate(per.begin(), per.end(), std::uint64_t{0}) == 1280);
}

TEST_CASE("the skewed channel map rotates each period", "[hbm]") {
  CHECK(channel_of_unit(0, 4) == 0);
  CHECK(channel_of_unit(3, 4) == 3);
  CHECK(channel_of_unit(4, 4) == 1);   // second period starts one channel later
  CHECK(channel_of_unit(16, 4) == 1);  // 16 + 4 + 1: a period of periods skews once more
  // Every period covers every channel once.
  for (std::uint64_t p = 0; p < 40; ++p) {
    std::vector<int> seen(4, 0);
    for (std::uint64_t u = p * 4; u < p * 4 + 4; ++u) ++seen[channel_of_unit(u, 4)];
    CHECK(seen == std::vector<int>(4, 1));
  }
}

TEST_CASE("interleaving of many rounds matches a byte-by-byte count", "[hbm]") {
  for (std::uint64_t addr : {0ull, 17ull, 255ull, 4096ull + 3}) {
    for (std::uint64_t len : {1ull, 255ull, 256ull, 1000ull, 12345ull}) {
      std::vector<std::uint64_t> fast(3, 0), slow(3, 0);
      add_interleaved_bytes(addr, len, 64, fast);
      for (std::uint64_t a = addr; a < addr + len; ++a) ++slow[channel_of_unit(a / 64, 3)];
      CHECK(fast == slow);
    }
  }
}

TEST_CASE("one transfer takes latency plus bytes over the channels it uses", "[hbm]") {
  const ChipConfig chip = testing::tiny_chip();
  Hbm hbm(chip.hbm, chip.clock_ghz);
  // 64 KiB over 4 channels of 16 B/cycle: 1024 cycles, plus 100 cycles latency.
  const double done = hbm.transfer(0.0, 0, 1, 65536, 0, false);
  CHECK(done == Approx(1024.0 + 100.0));
  CHECK(hbm.bytes_read() == 65536);
}

TEST_CASE("concurrent transfers share bandwidth and never exceed peak", "[hbm]") {
  const ChipConfig chip = testing::tiny_chip();
  Hbm hbm(chip.hbm, chip.clock_ghz);
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

TEST_CASE("rows strided by a whole period spread over channels", "[hbm]") {
  const ChipConfig chip = testing::tiny_chip();
  Hbm hbm(chip.hbm, chip.clock_ghz);
  // 8 rows of 256 bytes, stride 1024 = one period of 4 channels: plain round-robin would put
  // every row on channel 0; the skew puts two rows on each channel.
  const double done = hbm.transfer(0.0, 0, 8, 256, 1024, false);
  CHECK(done == Approx(2 * 256 / 16.0 + 100.0));
  for (int c = 0; c < 4; ++c) CHECK(hbm.channel(c).bytes_served() == 512);
}

TEST_CASE("ideal HBM costs nothing but still counts bytes", "[hbm]") {
  const ChipConfig chip = testing::tiny_chip();
  const auto hbm = make_memory_model("ideal", chip.hbm, chip.clock_ghz);
  CHECK(hbm->transfer(5.0, 0, 4, 1000, 0, true) == 5.0);
  CHECK(hbm->unloaded_end_cycle(5.0, 4000) == 5.0);
  CHECK(hbm->bytes_written() == 4000);
  CHECK(hbm->peak_bytes_per_cycle() == Approx(64.0));  // still the configured peak, for utilization
}

TEST_CASE("memory models are chosen by name from a registry", "[hbm][registry]") {
  const ChipConfig chip = testing::tiny_chip();
  CHECK(memory_model_names() == std::vector<std::string>{"bandwidth", "ideal"});
  const auto bandwidth = make_memory_model("bandwidth", chip.hbm, chip.clock_ghz);
  CHECK(bandwidth->transfer(0.0, 0, 1, 65536, 0, false) == Approx(1024.0 + 100.0));
  CHECK(bandwidth->unloaded_end_cycle(10.0, 6400) == Approx(10.0 + 100.0 + 100.0));
  // A model registered at run time, here one that takes a fixed 7 cycles per transfer.
  struct Fixed : MemoryModel {
    double unloaded_end_cycle(double now, std::uint64_t) const override { return now + 7; }
    double peak_bytes_per_cycle() const override { return 1.0; }
    double time_transfer(double now, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, bool) override {
      return now + 7;
    }
  };
  register_memory_model({"fixed7", "7 cycles per transfer", [](const HbmConfig&, double) {
                           return std::unique_ptr<MemoryModel>(new Fixed);
                         }});
  const auto fixed = make_memory_model("fixed7", chip.hbm, chip.clock_ghz);
  CHECK(fixed->transfer(3.0, 0, 2, 64, 0, false) == 10.0);
  CHECK(fixed->bytes_read() == 128);
  CHECK_THROWS_WITH(register_memory_model({"fixed7", "", nullptr}), "a memory model named 'fixed7' exists already");
  CHECK_THROWS_WITH(make_memory_model("bandwith", chip.hbm, chip.clock_ghz),
                    "hbm.model 'bandwith' is not a memory model (did you mean 'bandwidth'?) (models: bandwidth, ideal, "
                    "fixed7)");
}
