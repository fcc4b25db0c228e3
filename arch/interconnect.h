// Chip-to-chip interconnect of a multi-chip system: the links of a topology (ring, 2-D torus,
// fully connected, or a switch), shortest-path routes over them, and transfers that reserve
// every link on their route. Plain C++ (no SystemC), so it is unit-tested directly; the
// collective engine (models/collective_engine.h) drives it from SystemC threads.
//
// Units: the configuration is in GB/s (1e9 bytes/s, exactly bytes per ns) and ns. Time inside is
// counted in ticks of the user's choosing, given as ticks_per_ns at construction: 1 for a study
// in ns (`tasim collective`), the clock in GHz for a chip simulation, whose tick is one chip cycle.
// A link of G GB/s then serves G / ticks_per_ns bytes per tick, and a latency of L ns is
// L x ticks_per_ns ticks.
//
// Links are directed: every physical link is two independent FCFS BandwidthServers, one per
// direction, so traffic one way never slows traffic the other way. Because no server serves two
// transfers at once, achieved bandwidth on a link can never exceed its peak.
//
// Topologies (SystemConfig):
//  - ring: chip i linked to i+1 (mod chips); one link per neighbour pair (2 chips: one link).
//    Route: the shorter direction; a tie (chips even, distance chips/2) goes up (i, i+1, ...).
//  - torus2d: rows x cols, chip id = row * cols + col, wraparound in both dimensions (a
//    dimension of 2 has one link between its two chips). Route: dimension order, along the
//    row (column index) first, then along the column; each dimension the shorter way, ties up.
//    rows = system.torus_rows, or when 0 the largest divisor of chips <= sqrt(chips); both rows
//    and cols must be >= 2 (a 1 x n torus is a ring: use ring).
//  - fully_connected: a direct link between every pair; every route is one hop.
//  - switched: each chip has one port to a switch: an uplink (chip -> switch) and a downlink
//    (switch -> chip) at switch.gbps_per_port. A transfer crosses the source's uplink and the
//    destination's downlink; it pays switch.latency_ns once (chip -> switch -> chip).
// link.ports_per_chip is checked: a topology needing more links per chip than that (ring 2,
// torus2d up to 4, fully connected chips - 1) is refused with a message naming the key.
//
// Transfer model (cut-through): a transfer streams through every hop of its route at once; each
// hop's server is reserved for bytes / bandwidth from max(now, when that server frees up), and
// the last byte arrives at max over hops of the server completion + the route's latency
// (hops x link.latency_ns, or switch.latency_ns). No back-pressure between hops is modelled.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "arch/arch_config.h"
#include "arch/bandwidth_server.h"

namespace tasim {

// "ring", "torus2d", "fully-connected", "switch": the names the CLI and reports use.
const char* topology_name(Topology topology);

// One direction of a link (or of a chip's port to the switch).
struct DirectedLink {
  static constexpr int kSwitch = -1;  // from/to of a switch port
  int from = 0;                       // chip, or kSwitch
  int to = 0;                         // chip, or kSwitch
  std::string name;                   // "link 0->1", "link 3->switch", "link switch->3"
  BandwidthServer server;             // bytes per tick
  std::uint64_t transfers = 0;

  double bytes_per_tick() const { return server.bytes_per_cycle(); }
  std::uint64_t bytes() const { return server.bytes_served(); }
  double busy_ticks() const { return server.busy_cycles(); }
  // The chip whose trace process shows this link: the sender, or for a switch downlink the
  // receiving chip.
  int owner_chip() const { return from == kSwitch ? to : from; }
};

// One hop of a transfer: the link and the interval (ticks) its server spent on the transfer.
struct HopService {
  int link = 0;
  double begin_tick = 0.0;
  double end_tick = 0.0;
};

class Interconnect {
 public:
  // Throws tasim::Error for a system that cannot be built (chips < 2, a torus shape that does
  // not divide the chips, more links per chip than link.ports_per_chip, non-positive bandwidth).
  // ticks_per_ns: the time base of every time this object takes and returns (see above).
  explicit Interconnect(const SystemConfig& config, double ticks_per_ns = 1.0);

  int chips() const { return chips_; }
  Topology topology() const { return config_.topology; }
  const SystemConfig& config() const { return config_; }
  int torus_rows() const { return rows_; }  // torus2d only (0 otherwise)
  int torus_cols() const { return cols_; }

  // Directed links crossed from src to dst, in order (empty when src == dst).
  const std::vector<int>& route(int src, int dst) const;
  int hops(int src, int dst) const { return static_cast<int>(route(src, dst).size()); }
  // First-byte latency of the route in ticks: hops x link.latency_ns, or switch.latency_ns (0 if
  // src == dst), in the time base.
  double route_latency_ticks(int src, int dst) const;

  // Moves `bytes` from src to dst, requested at tick now; returns the tick its last byte arrives.
  // Reserves each hop's server (FCFS in call order); `hops`, if given, receives each hop's
  // service interval. src == dst costs nothing.
  double transfer(double now_tick, int src, int dst, std::uint64_t bytes,
                  std::vector<HopService>* hops = nullptr);

  // A cyclic order of all chips in which consecutive chips are as close as the topology allows,
  // for ring algorithms: 0..chips-1, except on a torus with an even number of rows (or columns),
  // where a snake (boustrophedon) makes every step one hop.
  std::vector<int> ring_order() const;

  // Peak of one link in one direction (link.gbps_per_direction, or switch.gbps_per_port), in GB/s
  // and in bytes per tick.
  double link_gbps() const;
  double link_bytes_per_tick() const { return link_bytes_per_tick_; }
  double ticks_per_ns() const { return ticks_per_ns_; }
  // Links chips need for this topology (ring 2, torus2d up to 4, fully connected chips - 1,
  // switch 1 port).
  int ports_needed() const;

  const std::vector<DirectedLink>& links() const { return links_; }
  const DirectedLink& link(int i) const { return links_[static_cast<std::size_t>(i)]; }
  // Sum over links of bytes served (a 2-hop transfer counts twice).
  std::uint64_t link_bytes() const;

 private:
  int add_link(int from, int to, double bytes_per_tick);
  int link_index(int from, int to) const;
  std::vector<int> compute_route(int src, int dst) const;

  SystemConfig config_;
  double ticks_per_ns_ = 1.0;
  double link_bytes_per_tick_ = 0.0;  // every link (or switch port), one direction
  double hop_latency_ticks_ = 0.0;    // link.latency_ns per hop, or switch.latency_ns per route
  int chips_ = 0;
  int rows_ = 0, cols_ = 0;
  std::vector<DirectedLink> links_;
  std::vector<int> link_of_pair_;       // [from * chips + to] -> directed link (-1: none)
  std::vector<int> uplink_, downlink_;  // switched: per chip
  // Routes computed on first use ([src * chips + dst]), so big systems do not pay chips^2 up front.
  mutable std::unordered_map<std::int64_t, std::vector<int>> routes_;
};

}  // namespace tasim
