// Collectives simulated over the interconnect. Each TEST_CASE elaborates SystemC at most once
// (ctest runs each in its own process); several collectives in one test run one after another
// (or at once) inside that one simulation.
#include "models/systemc_reports.h"
#include "models/collective_engine.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>

#include "common/error.h"

using namespace tasim;

namespace {

constexpr double kAlphaNs = 500.0;   // link latency
constexpr double kBetaGbps = 100.0;  // bytes per ns

SystemConfig system_of(int chips, Topology topology) {
  SystemConfig s;
  s.chips = chips;
  s.topology = topology;
  s.link.gbps_per_direction = kBetaGbps;
  s.link.latency_ns = kAlphaNs;
  s.link.ports_per_chip = chips;
  s.switch_.gbps_per_port = 400.0;
  s.switch_.latency_ns = 700.0;
  return s;
}

std::vector<int> all_chips(int p) {
  std::vector<int> v(static_cast<std::size_t>(p));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

CollectiveSpec spec_of(CollectiveOp op, std::uint64_t bytes, std::vector<int> chips,
                       CollectiveAlgo algo = CollectiveAlgo::ring) {
  CollectiveSpec s;
  s.op = op;
  s.algo = algo;
  s.bytes = bytes;
  s.chips = std::move(chips);
  return s;
}

double busbw_gbps(const CollectiveResult& r, double factor) {
  return static_cast<double>(r.spec.bytes) / r.duration_ticks() * factor;  // bytes per ns = GB/s
}

}  // namespace

TEST_CASE("schedules have the textbook step and byte counts", "[collective]") {
  const int p = 8;
  const std::uint64_t n = 8 * 1000 + 3;  // not a multiple of P: shards differ by one byte
  auto sent = [](const CollectiveSchedule& s) {
    std::uint64_t total = 0;
    for (const auto& steps : s.steps) {
      for (const auto& step : steps) {
        for (const auto& send : step.sends) total += send.bytes;
      }
    }
    return total;
  };
  const auto ring = build_schedule(spec_of(CollectiveOp::all_reduce, n, all_chips(p)));
  REQUIRE(ring.steps.size() == p);
  for (const auto& steps : ring.steps) {
    REQUIRE(steps.size() == 2 * (p - 1));
    for (const auto& step : steps) {
      CHECK(step.sends.size() == 1);
      CHECK(step.receives == 1);
    }
    CHECK(std::string(steps.front().phase) == "reduce_scatter");
    CHECK(std::string(steps.back().phase) == "all_gather");
  }
  CHECK(ring.steps[3][0].sends[0].to == 4);
  CHECK(ring.steps[7][0].sends[0].to == 0);
  // Every chip sends every shard but one, twice: 2 (P-1) n.
  CHECK(sent(ring) == 2 * (p - 1) * n);

  const auto direct =
      build_schedule(spec_of(CollectiveOp::all_reduce, n, all_chips(p), CollectiveAlgo::direct));
  for (const auto& steps : direct.steps) {
    REQUIRE(steps.size() == 2);
    CHECK(steps[0].sends.size() == p - 1);
    CHECK(steps[1].receives == p - 1);
  }
  CHECK(sent(direct) == 2 * (p - 1) * n);
  CHECK(sent(build_schedule(spec_of(CollectiveOp::all_gather, n, all_chips(p)))) == (p - 1) * n);
  CHECK(sent(build_schedule(spec_of(CollectiveOp::reduce_scatter, n, all_chips(p)))) == (p - 1) * n);
  CHECK(sent(build_schedule(spec_of(CollectiveOp::all_to_all, n, all_chips(p)))) == (p - 1) * n);
  const auto p2p = build_schedule(spec_of(CollectiveOp::send_recv, n, {2, 5}));
  CHECK(p2p.steps[0][0].sends[0].bytes == n);
  CHECK(p2p.steps[1][0].receives == 1);
  CHECK(shard_bytes(n, p, 0) == 1001);
  CHECK(shard_bytes(n, p, 3) == 1000);
}

TEST_CASE("bad collective specs are refused", "[collective]") {
  CHECK_THROWS_WITH(build_schedule(spec_of(CollectiveOp::all_reduce, 100, {0})),
                    Catch::Contains("at least 2 chips"));
  CHECK_THROWS_WITH(build_schedule(spec_of(CollectiveOp::all_reduce, 100, {0, 1, 1})),
                    Catch::Contains("twice"));
  CHECK_THROWS_WITH(build_schedule(spec_of(CollectiveOp::send_recv, 100, {0, 1, 2})),
                    Catch::Contains("exactly 2"));
  CHECK_THROWS_WITH(build_schedule(spec_of(CollectiveOp::all_gather, 0, {0, 1})),
                    Catch::Contains("bytes must be >= 1"));
}

TEST_CASE("a large ring all-reduce on an idle ring runs at the link bandwidth and never above",
          "[collective]") {
  Interconnect net(system_of(8, Topology::ring));
  const std::uint64_t n = 1ull << 30;
  const auto results = simulate_collectives(net, {{spec_of(CollectiveOp::all_reduce, n, all_chips(8)), 0.0}});
  REQUIRE(results.size() == 1);
  const CollectiveResult& r = results[0];
  CHECK(r.steps == 14);
  CHECK(r.transfers == 8 * 14);
  const double busbw = busbw_gbps(r, 2.0 * 7 / 8);
  INFO("busbw " << busbw << " GB/s over a " << kBetaGbps << " GB/s link");
  CHECK(busbw <= kBetaGbps);
  CHECK(busbw >= 0.95 * kBetaGbps);
  // Every link: bytes over the collective's time at most the peak; the forward ring links are
  // the ones used, each carrying 2 (P-1) shards.
  for (const auto& l : net.links()) {
    CHECK(static_cast<double>(l.bytes()) / r.duration_ticks() <= l.bytes_per_tick());
    CHECK(l.bytes() == (l.to == (l.from + 1) % 8 ? 14 * (n / 8) : 0));
  }
}

TEST_CASE("small all-reduces are latency-bound as the alpha-beta model says", "[collective]") {
  // alpha-beta for a ring all-reduce: 2 (P-1) (alpha + n/P / beta), alpha the link latency.
  // The sizes run one after another in the same simulation, each on idle links.
  const int p = 8;
  Interconnect net(system_of(p, Topology::ring));
  const std::vector<std::uint64_t> sizes{8, 64, 512, 4096, 1 << 20};
  std::vector<TimedCollective> runs;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    runs.push_back({spec_of(CollectiveOp::all_reduce, sizes[i], all_chips(p)), 1e6 * static_cast<double>(i)});
  }
  const auto results = simulate_collectives(net, runs);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const double shard = static_cast<double>((sizes[i] + p - 1) / p);
    const double model = 2.0 * (p - 1) * (kAlphaNs + shard / kBetaGbps);
    INFO(sizes[i] << " bytes: simulated " << results[i].duration_ticks() << " ns, alpha-beta " << model
                  << " ns");
    // Tolerance: 0.1% (the simulation has no other overhead on idle links).
    CHECK(results[i].duration_ticks() == Approx(model).epsilon(1e-3));
    if (sizes[i] <= 4096) CHECK(results[i].duration_ticks() < 1.1 * 2 * (p - 1) * kAlphaNs);  // latency-bound
  }
}

TEST_CASE("two collectives sharing links take longer than one alone", "[collective][contention]") {
  const int p = 8;
  Interconnect net(system_of(p, Topology::ring));
  const std::uint64_t n = 64ull << 20;  // ~1.2 ms alone
  std::vector<int> reversed = all_chips(p);
  std::reverse(reversed.begin(), reversed.end());
  const auto results = simulate_collectives(
      net, {{spec_of(CollectiveOp::all_reduce, n, all_chips(p)), 0.0},
            // Two at once on the same ring direction: they share every link.
            {spec_of(CollectiveOp::all_reduce, n, all_chips(p)), 10e6},
            {spec_of(CollectiveOp::all_reduce, n, all_chips(p)), 10e6},
            // Two at once in opposite directions: each direction of a link is its own server.
            {spec_of(CollectiveOp::all_reduce, n, all_chips(p)), 20e6},
            {spec_of(CollectiveOp::all_reduce, n, reversed), 20e6}});
  const double alone = results[0].duration_ticks();
  INFO("alone " << alone << " ns, shared " << results[1].duration_ticks() << " and "
                << results[2].duration_ticks());
  CHECK(results[1].duration_ticks() > 1.5 * alone);
  CHECK(results[2].duration_ticks() > 1.5 * alone);
  // Together they move twice the bytes over the same links: at most twice as long plus latency.
  CHECK(std::max(results[1].duration_ticks(), results[2].duration_ticks()) <= 2.0 * alone + 14 * kAlphaNs);
  CHECK(results[3].duration_ticks() == Approx(alone));
  CHECK(results[4].duration_ticks() == Approx(alone));
}

TEST_CASE("all-to-all on a fully connected system moves bytes/P over every link at once", "[collective]") {
  const int p = 4;
  Interconnect net(system_of(p, Topology::fully_connected));
  const std::uint64_t n = 4ull << 20;
  const auto r = simulate_collectives(net, {{spec_of(CollectiveOp::all_to_all, n, all_chips(p)), 0.0}})[0];
  for (const auto& l : net.links()) CHECK(l.bytes() == n / p);
  CHECK(r.duration_ticks() == Approx(static_cast<double>(n / p) / kBetaGbps + kAlphaNs));
  CHECK(r.bytes_sent == (p - 1) * n);
}

TEST_CASE("all-to-all on a ring loads the links by the routes it takes", "[collective]") {
  // 4 chips: distance 1 up and down is one hop, distance 2 is a tie and goes up (two hops), so
  // each up link carries 3 shards and each down link 1.
  const int p = 4;
  Interconnect net(system_of(p, Topology::ring));
  const std::uint64_t n = 4ull << 20, shard = n / p;
  const auto r = simulate_collectives(net, {{spec_of(CollectiveOp::all_to_all, n, all_chips(p)), 0.0}})[0];
  for (const auto& l : net.links()) CHECK(l.bytes() == (l.to == (l.from + 1) % p ? 3 * shard : shard));
  CHECK(net.link_bytes() == (4 * 3 + 4) * shard);
  // The busiest link needs 3 shards' time; the rest is latency.
  CHECK(r.duration_ticks() >= 3.0 * static_cast<double>(shard) / kBetaGbps);
  CHECK(r.duration_ticks() <= 3.0 * static_cast<double>(shard) / kBetaGbps + 2 * kAlphaNs);
}

TEST_CASE("all-gather and reduce-scatter on a ring move (P-1)/P of the buffer over each ring link",
          "[collective]") {
  const int p = 8;
  Interconnect net(system_of(p, Topology::ring));
  const std::uint64_t n = 8ull << 20, shard = n / p;
  const auto results =
      simulate_collectives(net, {{spec_of(CollectiveOp::all_gather, n, all_chips(p)), 0.0},
                                 {spec_of(CollectiveOp::reduce_scatter, n, all_chips(p)), 1e6}});
  for (const auto& l : net.links()) CHECK(l.bytes() == (l.to == (l.from + 1) % p ? 2 * (p - 1) * shard : 0));
  const double model = (p - 1) * (kAlphaNs + static_cast<double>(shard) / kBetaGbps);
  CHECK(results[0].duration_ticks() == Approx(model));
  CHECK(results[1].duration_ticks() == Approx(model));
  CHECK(results[0].steps == p - 1);
}

TEST_CASE("direct all-reduce on a fully connected system takes two steps", "[collective]") {
  const int p = 4;
  Interconnect net(system_of(p, Topology::fully_connected));
  const std::uint64_t n = 4ull << 20, shard = n / p;
  const auto r = simulate_collectives(
      net, {{spec_of(CollectiveOp::all_reduce, n, all_chips(p), CollectiveAlgo::direct), 0.0}})[0];
  CHECK(r.steps == 2);
  for (const auto& l : net.links()) CHECK(l.bytes() == 2 * shard);
  CHECK(r.duration_ticks() == Approx(2.0 * (kAlphaNs + static_cast<double>(shard) / kBetaGbps)));
}

TEST_CASE("a send-recv crosses every hop of its route once", "[collective]") {
  Interconnect net(system_of(8, Topology::ring));
  const std::uint64_t n = 1'000'000;
  const auto r = simulate_collectives(net, {{spec_of(CollectiveOp::send_recv, n, {0, 3}), 250.0}})[0];
  const double arrival = 250.0 + static_cast<double>(n) / kBetaGbps + 3 * kAlphaNs;
  CHECK(r.start_tick == Approx(250.0));
  CHECK(r.end_tick == Approx(arrival));
  REQUIRE(r.parts.size() == 2);
  CHECK(r.parts[0].done_tick == Approx(arrival));  // the sender is done once its data arrived
  CHECK(r.parts[1].done_tick == Approx(arrival));
  CHECK(net.link_bytes() == 3 * n);
}

namespace {

// Chips as a DMA engine would drive the engine: each starts its part when it gets there and
// waits for it to finish.
class ChipThreads : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(ChipThreads);
  ChipThreads(sc_core::sc_module_name name, CollectiveEngine& engine, int id, std::vector<double> start_tick)
      : sc_core::sc_module(name), engine_(engine), id_(id), start_ns_(std::move(start_tick)) {
    returned_ns.assign(start_ns_.size(), -1.0);
    for (std::size_t c = 0; c < start_ns_.size(); ++c) {
      sc_core::sc_spawn(sc_bind(&ChipThreads::chip_thread, this, static_cast<int>(c)), fmt_name(c).c_str());
    }
  }
  std::vector<double> returned_ns;

 private:
  static std::string fmt_name(std::size_t c) { return "chip" + std::to_string(c); }
  void chip_thread(int c) {
    wait(sc_core::sc_time(start_ns_[static_cast<std::size_t>(c)], sc_core::SC_NS));
    engine_.run(id_, c);
    returned_ns[static_cast<std::size_t>(c)] = static_cast<double>(sc_core::sc_time_stamp().value()) / 1000.0;
  }
  CollectiveEngine& engine_;
  int id_;
  std::vector<double> start_ns_;
};

}  // namespace

TEST_CASE("chips start their parts of a collective at different times through the engine API",
          "[collective][engine]") {
  // Ring all-gather of 4 MB on 4 chips (1 MB shards, 10 us per link at 100 GB/s): chips 1-3
  // start at 0, chip 0 only at 50 us. Chip 0's shard then needs three steps of 10.5 us to reach
  // chip 3: 50 -> 60.5 -> 71 -> 81.5 us. Chip 0's own two later sends queue on link 0->1 behind
  // its first (50-60, 60-70, 70-80 us), so it is done at 80.5 us.
  Interconnect net(system_of(4, Topology::ring));
  CollectiveEngine engine("engine", net);
  const int id = engine.add(spec_of(CollectiveOp::all_gather, 4'000'000, all_chips(4)));
  ChipThreads chips("chips", engine, id, {50'000.0, 0.0, 0.0, 0.0});
  tasim::run_simulation();
  REQUIRE(engine.done(id));
  const CollectiveResult r = engine.result(id);
  CHECK(r.start_tick == Approx(0.0));
  CHECK(r.parts[0].start_tick == Approx(50'000.0));
  CHECK(r.parts[0].done_tick == Approx(80'500.0));
  CHECK(r.parts[3].done_tick == Approx(81'500.0));
  CHECK(r.end_tick == Approx(81'500.0));
  // run() returns at the part's done time.
  for (int c = 0; c < 4; ++c)
    CHECK(chips.returned_ns[static_cast<std::size_t>(c)] ==
          Approx(r.parts[static_cast<std::size_t>(c)].done_tick));
  CHECK_THROWS_WITH(engine.start(id, 7), Catch::Contains("not a participant"));
}
