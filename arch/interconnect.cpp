#include "arch/interconnect.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace tasim {

const char* topology_name(Topology topology) {
  switch (topology) {
    case Topology::ring:
      return "ring";
    case Topology::torus2d:
      return "torus2d";
    case Topology::fully_connected:
      return "fully-connected";
    case Topology::switched:
      return "switch";
    case Topology::mesh2d:
      return "mesh2d";
  }
  return "?";
}

namespace {

// Steps (signed) from a to b on a cycle of n: the shorter way, a tie going up.
int cyclic_steps(int a, int b, int n) {
  const int up = ((b - a) % n + n) % n;
  return up <= n - up ? up : up - n;
}

// Distinct neighbours along one dimension of size n with wraparound.
int neighbours_in_dimension(int n) { return n > 2 ? 2 : (n == 2 ? 1 : 0); }

}  // namespace

Interconnect::Interconnect(const SystemConfig& config, double ticks_per_ns)
    : config_(config), ticks_per_ns_(ticks_per_ns), chips_(config.chips) {
  const char* topo = topology_name(config.topology);
  if (chips_ < 2) {
    throw Error(fmt::format("system.chips is {}: links and collectives need at least 2 chips", chips_));
  }
  const bool switched = config.topology == Topology::switched;
  const double gbps = switched ? config.switch_.gbps_per_port : config.link.gbps_per_direction;
  if (!(gbps > 0.0) || !std::isfinite(gbps)) {
    throw Error(fmt::format("{} must be > 0 (got {})",
                            switched ? "system.switch.gbps_per_port" : "system.link.gbps_per_direction",
                            gbps));
  }
  const double latency = switched ? config.switch_.latency_ns : config.link.latency_ns;
  if (!(latency >= 0.0) || !std::isfinite(latency)) {
    throw Error(fmt::format("{} must be >= 0 (got {})",
                            switched ? "system.switch.latency_ns" : "system.link.latency_ns", latency));
  }
  link_bytes_per_tick_ = gbps / ticks_per_ns;
  hop_latency_ticks_ = latency * ticks_per_ns;
  if (config.topology == Topology::mesh2d) {
    // A grid without wraparound (an on-chip network); any shape, down to a line of cores.
    rows_ = config.torus_rows > 0 ? config.torus_rows : 1;
    if (config.torus_rows <= 0) {
      for (int r = 1; r * r <= chips_; ++r) {
        if (chips_ % r == 0) rows_ = r;
      }
    }
    if (chips_ % rows_ != 0) {
      throw Error(fmt::format("mesh: {} rows do not divide {} cores (noc.mesh_rows)", rows_, chips_));
    }
    cols_ = chips_ / rows_;
  }
  if (config.topology == Topology::torus2d) {
    if (config.torus_rows > 0) {
      rows_ = config.torus_rows;
      if (chips_ % rows_ != 0) {
        throw Error(
            fmt::format("torus2d: system.torus_rows {} does not divide system.chips {}", rows_, chips_));
      }
    } else {
      rows_ = 1;
      for (int r = 1; r * r <= chips_; ++r) {
        if (chips_ % r == 0) rows_ = r;
      }
    }
    cols_ = chips_ / rows_;
    if (rows_ < 2 || cols_ < 2) {
      throw Error(
          fmt::format("torus2d needs chips = rows x cols with rows, cols >= 2; {} chips as {} x {} is a ring "
                      "(use topology ring{})",
                      chips_, rows_, cols_, config.torus_rows > 0 ? " or another system.torus_rows" : ""));
    }
  }
  const int needed = ports_needed();
  if (!switched && needed > config.link.ports_per_chip) {
    throw Error(
        fmt::format("topology {} on {} chips needs {} link ports per chip, system.link.ports_per_chip is {} "
                    "(--set system.link.ports_per_chip={})",
                    topo, chips_, needed, config.link.ports_per_chip, needed));
  }

  link_of_pair_.assign(static_cast<std::size_t>(chips_) * chips_, -1);
  auto connect = [&](int a, int b) {  // one physical link: both directions, once
    if (a == b || link_of_pair_[static_cast<std::size_t>(a) * chips_ + b] >= 0) return;
    add_link(a, b, link_bytes_per_tick_);
    add_link(b, a, link_bytes_per_tick_);
  };
  switch (config.topology) {
    case Topology::ring:
      for (int i = 0; i < chips_; ++i) connect(i, (i + 1) % chips_);
      break;
    case Topology::torus2d:
      for (int r = 0; r < rows_; ++r) {
        for (int c = 0; c < cols_; ++c) {
          connect(r * cols_ + c, r * cols_ + (c + 1) % cols_);
          connect(r * cols_ + c, ((r + 1) % rows_) * cols_ + c);
        }
      }
      break;
    case Topology::fully_connected:
      for (int a = 0; a < chips_; ++a) {
        for (int b = a + 1; b < chips_; ++b) connect(a, b);
      }
      break;
    case Topology::switched:
      for (int i = 0; i < chips_; ++i) {
        uplink_.push_back(add_link(i, DirectedLink::kSwitch, link_bytes_per_tick_));
        downlink_.push_back(add_link(DirectedLink::kSwitch, i, link_bytes_per_tick_));
      }
      break;
    case Topology::mesh2d:
      for (int r = 0; r < rows_; ++r) {
        for (int c = 0; c < cols_; ++c) {
          if (c + 1 < cols_) connect(r * cols_ + c, r * cols_ + c + 1);
          if (r + 1 < rows_) connect(r * cols_ + c, (r + 1) * cols_ + c);
        }
      }
      break;
  }
}

int Interconnect::add_link(int from, int to, double bytes_per_tick) {
  DirectedLink l;
  l.from = from;
  l.to = to;
  auto end = [](int x) { return x == DirectedLink::kSwitch ? std::string("switch") : std::to_string(x); };
  l.name = fmt::format("link {}->{}", end(from), end(to));
  l.server = BandwidthServer(bytes_per_tick);
  links_.push_back(std::move(l));
  const int id = static_cast<int>(links_.size()) - 1;
  if (from >= 0 && to >= 0) link_of_pair_[static_cast<std::size_t>(from) * chips_ + to] = id;
  return id;
}

int Interconnect::link_index(int from, int to) const {
  const int id = link_of_pair_[static_cast<std::size_t>(from) * chips_ + to];
  if (id < 0) throw Error(fmt::format("internal: no link {}->{}", from, to));
  return id;
}

std::vector<int> Interconnect::compute_route(int src, int dst) const {
  std::vector<int> r;
  if (src == dst) return r;
  switch (config_.topology) {
    case Topology::ring: {
      const int steps = cyclic_steps(src, dst, chips_);
      const int dir = steps > 0 ? 1 : -1;
      for (int at = src, k = 0; k < std::abs(steps); ++k) {
        const int next = ((at + dir) % chips_ + chips_) % chips_;
        r.push_back(link_index(at, next));
        at = next;
      }
      break;
    }
    case Topology::torus2d: {
      int row = src / cols_, col = src % cols_;
      const int drow = dst / cols_, dcol = dst % cols_;
      const int csteps = cyclic_steps(col, dcol, cols_);
      for (int k = 0; k < std::abs(csteps); ++k) {
        const int next = ((col + (csteps > 0 ? 1 : -1)) % cols_ + cols_) % cols_;
        r.push_back(link_index(row * cols_ + col, row * cols_ + next));
        col = next;
      }
      const int rsteps = cyclic_steps(row, drow, rows_);
      for (int k = 0; k < std::abs(rsteps); ++k) {
        const int next = ((row + (rsteps > 0 ? 1 : -1)) % rows_ + rows_) % rows_;
        r.push_back(link_index(row * cols_ + col, next * cols_ + col));
        row = next;
      }
      break;
    }
    case Topology::fully_connected:
      r.push_back(link_index(src, dst));
      break;
    case Topology::switched:
      r.push_back(uplink_[static_cast<std::size_t>(src)]);
      r.push_back(downlink_[static_cast<std::size_t>(dst)]);
      break;
    case Topology::mesh2d: {
      // Along the row first, then the column; no wraparound.
      int row = src / cols_, col = src % cols_;
      const int drow = dst / cols_, dcol = dst % cols_;
      while (col != dcol) {
        const int next = col + (dcol > col ? 1 : -1);
        r.push_back(link_index(row * cols_ + col, row * cols_ + next));
        col = next;
      }
      while (row != drow) {
        const int next = row + (drow > row ? 1 : -1);
        r.push_back(link_index(row * cols_ + col, next * cols_ + col));
        row = next;
      }
      break;
    }
  }
  return r;
}

const std::vector<int>& Interconnect::route(int src, int dst) const {
  if (src < 0 || src >= chips_ || dst < 0 || dst >= chips_) {
    throw Error(fmt::format("route {}->{}: chips are 0..{}", src, dst, chips_ - 1));
  }
  const std::int64_t key = std::int64_t{src} * chips_ + dst;
  auto it = routes_.find(key);
  if (it == routes_.end()) it = routes_.emplace(key, compute_route(src, dst)).first;
  return it->second;
}

double Interconnect::route_latency_ticks(int src, int dst) const {
  if (src == dst) return 0.0;
  if (config_.topology == Topology::switched) return hop_latency_ticks_;
  return hops(src, dst) * hop_latency_ticks_;
}

double Interconnect::transfer(double now_tick, int src, int dst, std::uint64_t bytes,
                              std::vector<HopService>* hops) {
  if (hops) hops->clear();
  const std::vector<int>& r = route(src, dst);
  if (r.empty()) return now_tick;
  double last = now_tick;
  for (int l : r) {
    DirectedLink& link = links_[static_cast<std::size_t>(l)];
    const double begin = std::max(now_tick, link.server.free_at_cycle());
    const double end = link.server.serve(now_tick, bytes);
    ++link.transfers;
    last = std::max(last, end);
    if (hops) hops->push_back({l, begin, end});
  }
  return last + route_latency_ticks(src, dst);
}

std::vector<int> Interconnect::ring_order() const {
  std::vector<int> order;
  order.reserve(static_cast<std::size_t>(chips_));
  if (config_.topology == Topology::torus2d && (rows_ % 2 == 0 || cols_ % 2 == 0)) {
    // Snake along rows (even row count) or along columns: the last chip is one hop from chip 0
    // through the wraparound of the other dimension.
    const bool by_rows = rows_ % 2 == 0;
    const int outer = by_rows ? rows_ : cols_, inner = by_rows ? cols_ : rows_;
    for (int o = 0; o < outer; ++o) {
      for (int k = 0; k < inner; ++k) {
        const int i = o % 2 == 0 ? k : inner - 1 - k;
        order.push_back(by_rows ? o * cols_ + i : i * cols_ + o);
      }
    }
    return order;
  }
  for (int i = 0; i < chips_; ++i) order.push_back(i);
  return order;
}

double Interconnect::link_gbps() const {
  return config_.topology == Topology::switched ? config_.switch_.gbps_per_port
                                                : config_.link.gbps_per_direction;
}

int Interconnect::ports_needed() const {
  switch (config_.topology) {
    case Topology::ring:
      return chips_ == 2 ? 1 : 2;
    case Topology::torus2d:
      return neighbours_in_dimension(rows_) + neighbours_in_dimension(cols_);
    case Topology::fully_connected:
      return chips_ - 1;
    case Topology::switched:
      return 1;
    case Topology::mesh2d:
      return (rows_ > 1 ? 2 : 0) + (cols_ > 1 ? 2 : 0);
  }
  return 0;
}

std::uint64_t Interconnect::link_bytes() const {
  std::uint64_t total = 0;
  for (const auto& l : links_) total += l.bytes();
  return total;
}

}  // namespace tasim
