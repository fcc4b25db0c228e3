#include <catch2/catch.hpp>

#include <memory>

#include "arch/hbm.h"
#include "arch/last_level_cache.h"
#include "arch/test_chips.h"

using namespace tasim;

namespace {

// tiny_chip's HBM (4 channels x 16 B/cycle = 64 B/cycle, 100 cycles latency) behind a cache of
// `capacity` bytes serving 256 B/cycle with 20 cycles latency (1 GHz: GB/s = bytes/cycle).
LastLevelCache cache_of(std::uint64_t capacity) {
  const ChipConfig chip = testing::tiny_chip();
  LlcConfig llc;
  llc.capacity_bytes = capacity;
  llc.bandwidth_gbps = 256.0;
  llc.latency_ns = 20.0;
  return LastLevelCache(llc, chip.clock_ghz, std::make_unique<Hbm>(chip.hbm, chip.clock_ghz));
}

}  // namespace

TEST_CASE("a first load misses to HBM, a repeat hits at the cache's bandwidth", "[llc]") {
  LastLevelCache llc = cache_of(1 << 20);
  // 64 KiB from HBM: 65536 / 64 = 1024 cycles + 100 latency.
  CHECK(llc.transfer(0.0, 0, 1, 65536, 0, false) == Approx(1124.0));
  CHECK(llc.behind().bytes_read() == 65536);
  CHECK(llc.hit_bytes() == 0);
  // The same region again at cycle 2000: 65536 / 256 = 256 cycles + 20, HBM untouched.
  CHECK(llc.transfer(2000.0, 0, 1, 65536, 0, false) == Approx(2000.0 + 256.0 + 20.0));
  CHECK(llc.behind().bytes_read() == 65536);
  CHECK(llc.hit_bytes() == 65536);
  // Every load counts at the cache; only misses at HBM.
  CHECK(llc.bytes_read() == 2 * 65536);
}

TEST_CASE("a hit on a fill still in flight waits for the fill: one HBM read for two cores", "[llc]") {
  LastLevelCache llc = cache_of(1 << 20);
  const double first = llc.transfer(0.0, 4096, 16, 1024, 8192, false);  // 16 KiB: 256 + 100 cycles
  CHECK(first == Approx(356.0));
  // A second core asks for the same tile at cycle 10: the data is there at 356, then 64 cycles.
  CHECK(llc.transfer(10.0, 4096, 16, 1024, 8192, false) == Approx(356.0 + 64.0 + 20.0));
  CHECK(llc.behind().bytes_read() == 16 * 1024);
}

TEST_CASE("only the same region hits: another shape or stride of the same bytes misses", "[llc]") {
  LastLevelCache llc = cache_of(1 << 20);
  llc.transfer(0.0, 0, 4, 256, 1024, false);
  llc.transfer(0.0, 0, 4, 256, 2048, false);  // other stride
  llc.transfer(0.0, 0, 2, 256, 1024, false);  // fewer rows
  CHECK(llc.hit_bytes() == 0);
  CHECK(llc.behind().bytes_read() == 4 * 256 + 4 * 256 + 2 * 256);
  // A contiguous region is the same whether its stride is given as 0 or as its row size.
  llc.transfer(0.0, 1 << 16, 4, 256, 0, false);
  llc.transfer(0.0, 1 << 16, 4, 256, 256, false);
  CHECK(llc.hit_bytes() == 4 * 256);
  // So is one row, whatever stride it names.
  llc.transfer(0.0, 1 << 18, 1, 512, 0, false);
  llc.transfer(0.0, 1 << 18, 1, 512, 4096, false);
  CHECK(llc.hit_bytes() == 4 * 256 + 512);
}

TEST_CASE("the least recently used region is evicted and a region larger than the cache streams past", "[llc]") {
  LastLevelCache llc = cache_of(3 * 1024);  // room for three 1 KiB regions
  for (std::uint64_t a : {0, 1024, 2048}) llc.transfer(0.0, a * 16, 1, 1024, 0, false);
  llc.transfer(0.0, 0, 1, 1024, 0, false);  // hit: region 0 becomes the most recent
  CHECK(llc.hit_bytes() == 1024);
  llc.transfer(0.0, 3072 * 16, 1, 1024, 0, false);  // a fourth: evicts region 1024 (least recent)
  CHECK(llc.cached_bytes() == 3 * 1024);
  llc.transfer(0.0, 1024 * 16, 1, 1024, 0, false);  // miss
  CHECK(llc.hit_bytes() == 1024);
  llc.transfer(0.0, 0, 1, 1024, 0, false);  // region 0 stayed: hit
  CHECK(llc.hit_bytes() == 2048);
  // 4 KiB > 3 KiB: never cached, so a repeat misses too.
  llc.transfer(0.0, 1 << 20, 1, 4096, 0, false);
  llc.transfer(0.0, 1 << 20, 1, 4096, 0, false);
  CHECK(llc.hit_bytes() == 2048);
  CHECK(llc.cached_bytes() <= 3 * 1024);
}

TEST_CASE("stores go through to HBM and are never served from the cache", "[llc]") {
  LastLevelCache llc = cache_of(1 << 20);
  llc.transfer(0.0, 0, 1, 4096, 0, true);
  CHECK(llc.behind().bytes_written() == 4096);
  llc.transfer(100000.0, 0, 1, 4096, 0, false);  // not allocated by the store: a miss
  CHECK(llc.hit_bytes() == 0);
  CHECK(llc.behind().bytes_read() == 4096);
}

TEST_CASE("many cores re-reading one tile never exceed the cache's bandwidth", "[llc]") {
  LastLevelCache llc = cache_of(1 << 20);
  llc.transfer(0.0, 0, 1, 65536, 0, false);
  double last = 0;
  for (int core = 0; core < 8; ++core) last = std::max(last, llc.transfer(2000.0, 0, 1, 65536, 0, false));
  // Eight hits of 64 KiB through one 256 B/cycle server: at least 8 x 256 cycles.
  CHECK(last >= 2000.0 + 8 * 256.0);
  CHECK(last == Approx(2000.0 + 8 * 256.0 + 20.0));
}
