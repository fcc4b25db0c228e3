// The chip-to-chip interconnect without SystemC: topologies, routes, hop counts, and the FCFS
// link servers that keep every link at or below its peak.
#include "arch/interconnect.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "common/error.h"

using namespace tasim;

namespace {

SystemConfig system_of(int chips, Topology topology, int ports = 8) {
  SystemConfig s;
  s.chips = chips;
  s.topology = topology;
  s.link.gbps_per_direction = 100.0;
  s.link.latency_ns = 500.0;
  s.link.ports_per_chip = ports;
  s.switch_.gbps_per_port = 400.0;
  s.switch_.latency_ns = 700.0;
  return s;
}

// The chips a route visits, from src: each hop's link must start where the previous one ended.
std::vector<int> path(const Interconnect& net, int src, int dst) {
  std::vector<int> chips{src};
  for (int l : net.route(src, dst)) {
    const DirectedLink& link = net.link(l);
    REQUIRE(link.from == chips.back());
    chips.push_back(link.to);
  }
  return chips;
}

}  // namespace

TEST_CASE("a ring links each chip to its two neighbours and routes the shorter way", "[interconnect]") {
  Interconnect net(system_of(8, Topology::ring));
  CHECK(net.links().size() == 16);  // 8 links, two directions each
  CHECK(net.ports_needed() == 2);
  CHECK(net.link(net.route(0, 1)[0]).name == "link 0->1");
  CHECK(path(net, 0, 3) == std::vector<int>{0, 1, 2, 3});
  CHECK(path(net, 0, 5) == std::vector<int>{0, 7, 6, 5});     // down is shorter
  CHECK(path(net, 0, 4) == std::vector<int>{0, 1, 2, 3, 4});  // a tie goes up
  CHECK(path(net, 6, 1) == std::vector<int>{6, 7, 0, 1});
  CHECK(net.hops(3, 3) == 0);
  for (int a = 0; a < 8; ++a) {
    for (int b = 0; b < 8; ++b) {
      const int d = std::abs(a - b);
      CHECK(net.hops(a, b) == std::min(d, 8 - d));
    }
  }
  CHECK(net.route_latency_ticks(0, 3) == Approx(1500.0));
  CHECK(net.ring_order() == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});

  Interconnect two(system_of(2, Topology::ring, 1));
  CHECK(two.links().size() == 2);  // one link between the only two chips
  CHECK(two.hops(0, 1) == 1);
  CHECK(two.hops(1, 0) == 1);
}

TEST_CASE("a 2-D torus routes in dimension order with wraparound", "[interconnect]") {
  Interconnect net(system_of(16, Topology::torus2d));
  CHECK(net.torus_rows() == 4);
  CHECK(net.torus_cols() == 4);
  CHECK(net.links().size() == 64);  // 32 links: 4 per chip, each shared by two chips
  CHECK(net.ports_needed() == 4);
  CHECK(path(net, 0, 5) == std::vector<int>{0, 1, 5});  // along the row, then the column
  CHECK(path(net, 0, 3) == std::vector<int>{0, 3});     // wraparound in the row
  CHECK(path(net, 0, 12) == std::vector<int>{0, 12});   // wraparound in the column
  CHECK(path(net, 5, 15) == std::vector<int>{5, 6, 7, 11, 15});
  CHECK(net.hops(0, 10) == 4);  // the farthest chip: 2 + 2
  int max_hops = 0;
  for (int a = 0; a < 16; ++a) {
    for (int b = 0; b < 16; ++b) max_hops = std::max(max_hops, net.hops(a, b));
  }
  CHECK(max_hops == 4);

  // 8 chips: 2 x 4 by default; a dimension of 2 has one link between its two chips.
  Interconnect small(system_of(8, Topology::torus2d));
  CHECK(small.torus_rows() == 2);
  CHECK(small.torus_cols() == 4);
  CHECK(small.links().size() == 2 * (8 + 4));
  CHECK(small.ports_needed() == 3);
  // The snake ring order is one hop between consecutive chips, the last back to the first too.
  const std::vector<int> order = small.ring_order();
  CHECK(order == std::vector<int>{0, 1, 2, 3, 7, 6, 5, 4});
  for (std::size_t i = 0; i < order.size(); ++i)
    CHECK(small.hops(order[i], order[(i + 1) % order.size()]) == 1);

  SystemConfig tall = system_of(12, Topology::torus2d);
  tall.torus_rows = 6;
  Interconnect t(tall);
  CHECK(t.torus_cols() == 2);
  CHECK(path(t, 0, 11) == std::vector<int>{0, 1, 11});  // 6 rows: row 0 -> row 5 wraps (1 step)
}

TEST_CASE("fully connected and switch routes are one link or one port pair", "[interconnect]") {
  Interconnect fc(system_of(6, Topology::fully_connected));
  CHECK(fc.links().size() == 30);
  CHECK(fc.ports_needed() == 5);
  for (int a = 0; a < 6; ++a) {
    for (int b = 0; b < 6; ++b) CHECK(fc.hops(a, b) == (a == b ? 0 : 1));
  }

  Interconnect sw(system_of(8, Topology::switched));
  CHECK(sw.links().size() == 16);  // an uplink and a downlink per chip
  CHECK(sw.link_gbps() == 400.0);
  const auto& r = sw.route(2, 5);
  REQUIRE(r.size() == 2);
  CHECK(sw.link(r[0]).name == "link 2->switch");
  CHECK(sw.link(r[1]).name == "link switch->5");
  CHECK(sw.link(r[1]).owner_chip() == 5);
  // The switch latency is paid once for chip -> switch -> chip, not per port.
  CHECK(sw.route_latency_ticks(2, 5) == Approx(700.0));
  CHECK(sw.transfer(0.0, 2, 5, 4000) == Approx(4000.0 / 400.0 + 700.0));
}

TEST_CASE("impossible systems are refused with the key to change", "[interconnect]") {
  CHECK_THROWS_WITH(Interconnect(system_of(1, Topology::ring)), Catch::Contains("at least 2 chips"));
  CHECK_THROWS_WITH(Interconnect(system_of(7, Topology::torus2d)), Catch::Contains("rows, cols >= 2"));
  SystemConfig bad_rows = system_of(12, Topology::torus2d);
  bad_rows.torus_rows = 5;
  CHECK_THROWS_WITH(Interconnect(bad_rows), Catch::Contains("does not divide"));
  CHECK_THROWS_WITH(Interconnect(system_of(8, Topology::fully_connected, 2)),
                    Catch::Contains("system.link.ports_per_chip") && Catch::Contains("needs 7"));
  CHECK_THROWS_WITH(Interconnect(system_of(16, Topology::torus2d, 2)), Catch::Contains("needs 4"));
  CHECK_NOTHROW(Interconnect(system_of(8, Topology::ring, 2)));
  CHECK_NOTHROW(Interconnect(system_of(64, Topology::switched, 1)));  // the switch port is not a link port
}

TEST_CASE("a transfer streams through every hop: bytes over the bandwidth plus latency per hop",
          "[interconnect]") {
  Interconnect net(system_of(8, Topology::ring));
  std::vector<HopService> hops;
  // 3 hops on an idle ring: cut-through, so the bytes cross once, the latency three times.
  CHECK(net.transfer(100.0, 0, 3, 1'000'000, &hops) == Approx(100.0 + 10'000.0 + 1500.0));
  REQUIRE(hops.size() == 3);
  for (const auto& h : hops) {
    CHECK(h.begin_tick == Approx(100.0));
    CHECK(h.end_tick == Approx(10'100.0));
  }
  CHECK(net.link_bytes() == 3'000'000);
  CHECK(net.transfer(0.0, 4, 4, 1000) == 0.0);  // to itself: nothing moves
}

TEST_CASE("concurrent transfers through one link never exceed its bandwidth", "[interconnect]") {
  Interconnect net(system_of(8, Topology::ring));
  // Three transfers want link 0->1 at t = 0: 0->1, 7->2 (7, 0, 1, 2) and 0->3.
  const std::uint64_t b = 1'000'000;  // 10 us at 100 GB/s
  const double t1 = net.transfer(0.0, 0, 1, b);
  const double t2 = net.transfer(0.0, 7, 2, b);
  const double t3 = net.transfer(0.0, 0, 3, b);
  CHECK(t1 == Approx(10'000.0 + 500.0));
  CHECK(t2 == Approx(20'000.0 + 1500.0));  // queued behind the first on link 0->1
  CHECK(t3 == Approx(30'000.0 + 1500.0));
  const DirectedLink& l01 = net.link(net.route(0, 1)[0]);
  CHECK(l01.bytes() == 3 * b);
  CHECK(l01.transfers == 3);
  CHECK(l01.busy_ticks() == Approx(30'000.0));
  // Achieved over the link's busy period: exactly its peak, never more.
  CHECK(static_cast<double>(l01.bytes()) / l01.server.free_at_cycle() <= l01.bytes_per_tick() * (1 + 1e-12));
  // A link the other way is independent.
  CHECK(net.transfer(0.0, 1, 0, b) == Approx(10'500.0));

  // Many random-ish concurrent transfers: every link's bytes / busy span stays at or below peak.
  Interconnect fc(system_of(6, Topology::fully_connected));
  for (int i = 0; i < 200; ++i) fc.transfer(i * 3.0, i % 6, (i % 6 + 1 + i % 5) % 6, 1000 + 37 * i);
  for (const auto& l : fc.links()) {
    if (l.transfers == 0) continue;
    CHECK(l.busy_ticks() <= l.server.free_at_cycle() + 1e-9);
    CHECK(static_cast<double>(l.bytes()) / l.busy_ticks() == Approx(l.bytes_per_tick()));
  }
}

TEST_CASE("switch ports: two senders into one chip share its downlink, disjoint pairs do not",
          "[interconnect]") {
  const std::uint64_t b = 4'000'000;  // 10 us at 400 GB/s
  {
    Interconnect sw(system_of(4, Topology::switched));
    const double a = sw.transfer(0.0, 0, 3, b);
    const double c = sw.transfer(0.0, 1, 3, b);
    CHECK(a == Approx(10'000.0 + 700.0));
    CHECK(c == Approx(20'000.0 + 700.0));  // the downlink of chip 3 serializes them
  }
  {
    Interconnect sw(system_of(4, Topology::switched));
    const double a = sw.transfer(0.0, 0, 2, b);
    const double c = sw.transfer(0.0, 1, 3, b);
    CHECK(a == Approx(10'700.0));
    CHECK(c == Approx(10'700.0));  // a non-blocking switch: no shared port
  }
  {
    Interconnect sw(system_of(4, Topology::switched));
    const double a = sw.transfer(0.0, 0, 2, b);
    const double c = sw.transfer(0.0, 0, 3, b);
    CHECK(a == Approx(10'700.0));
    CHECK(c == Approx(20'700.0));  // one uplink out of chip 0
  }
}

TEST_CASE("a mesh routes row first then column and never wraps around", "[interconnect][noc]") {
  tasim::NocConfig noc;
  noc.topology = tasim::NocTopology::mesh;
  noc.mesh_rows = 2;  // 2 x 4 cores
  tasim::Interconnect mesh(noc.as_system(8));
  CHECK(mesh.hops(0, 1) == 1);
  CHECK(mesh.hops(0, 3) == 3);  // no wraparound: 0 -> 1 -> 2 -> 3
  CHECK(mesh.hops(0, 7) == 4);  // 3 along the row, 1 down
  CHECK(mesh.hops(7, 0) == 4);
  CHECK(mesh.route_latency_ticks(0, 7) == Approx(4 * noc.latency_ns));
  // A crossbar is one port out and one port in, one latency.
  noc.topology = tasim::NocTopology::crossbar;
  tasim::Interconnect crossbar(noc.as_system(8));
  CHECK(crossbar.hops(0, 7) == 2);
  CHECK(crossbar.route_latency_ticks(0, 7) == Approx(noc.latency_ns));
}
