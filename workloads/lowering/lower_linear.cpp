// Linear ops, Y (m x n) = X (m x k) W (k x n): weights are stored tile-major in HBM, so each
// weight tile is one transfer. Two schedules:
//  - tiled: (m-block, group of adjacent output tiles, one per matrix unit) items are dealt
//    round-robin over the cores; each core loads an activation tile once per k-step for all its
//    units, each unit streams its own weight tiles, loads of a step are emitted one step ahead
//    of its compute;
//  - stream-K, for few rows (decode): the whole activation block stays in SRAM, output tiles are
//    dealt to cores, and each core's (tile, k-step) units of work are split evenly over its
//    matrix units, so no unit idles when tiles do not divide evenly. A tile whose k-steps span two
//    units leaves two partial sums, which the vector unit adds before the store.
#include <fmt/format.h>

#include <cstdlib>
#include <tuple>

#include "common/int_math.h"
#include "workloads/lowering/context.h"

namespace tasim::workloads::lowering {

using isa::Opcode;

namespace {

struct MatmulWork {
  std::uint64_t m, n, k, x_hbm, w_hbm, y_hbm;
  isa::DType wdt;               // the matrix unit's input dtype
  const WeightFormat& storage;  // the weights in HBM
  // HBM bytes of a whole tk x tn weight tile: tiles sit this far apart (tile-major, padded), and
  // a tile's load is its values and their scales, rounded up to a whole byte.
  std::uint64_t tile_stride_bytes(std::uint64_t tk, std::uint64_t tn) const { return storage.bytes(tk, tn); }
};

// The tiled schedule of one core.
class TiledLinear {
 public:
  TiledLinear(StepLowering& step, const MatmulWork& s, const LinearTiling& t, int core)
      : step_(step), s_(s), t_(t), c_(core), ab_(isa::dtype_bytes(step.act_dtype())) {
    n_tiles_ = ceil_div(s.n, t.tn);
    k_steps_ = ceil_div(s.k, t.tk);
    // Work items are (m-block, group of `units` adjacent output tiles), dealt round-robin over
    // the cores, m-block major: every matrix unit of a core works on the same rows (one
    // activation tile per k-step serves them all), and when there are fewer tile groups than
    // cores the m-blocks spread over cores too instead of leaving cores idle.
    const std::uint64_t groups = ceil_div(n_tiles_, static_cast<std::uint64_t>(step.units));
    const std::uint64_t items = ceil_div(s.m, t.mb) * groups;
    for (std::uint64_t i = static_cast<std::uint64_t>(c_); i < items; i += static_cast<std::uint64_t>(step.cores))
      items_.push_back({i / groups, i % groups});
    c_slot_of_.assign(static_cast<std::size_t>(step.units), 0);
  }

  void run() {
    if (items_.empty()) return;
    std::vector<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>> order;  // (m-block, group, k-step)
    for (const auto& [mb_i, g] : items_)
      for (std::uint64_t ks = 0; ks < k_steps_; ++ks) order.emplace_back(mb_i, g, ks);
    auto loads = [&](std::size_t i) { return issue_loads(std::get<0>(order[i]), std::get<1>(order[i]), std::get<2>(order[i])); };
    StepWork current = loads(0);
    step_.out.end_step(c_);
    for (std::size_t i = 0; i < order.size(); ++i) {
      StepWork next;
      const bool has_next = i + 1 < order.size();
      if (has_next) next = loads(i + 1);
      compute(current);
      step_.out.end_step(c_);
      if (has_next) current = std::move(next);
    }
  }

 private:
  struct Pending {
    int j, w_slot;
    std::uint64_t tile, rows, tn, tk;
    bool first, last;
  };
  struct StepWork {
    int x_slot = 0;
    std::uint64_t m0 = 0, rows = 0, tk = 0;
    std::vector<Pending> units;
  };

  // The tile of unit j in group g, or n_tiles_ when the group has none for it (the last group).
  std::uint64_t tile_of(std::uint64_t g, int j) const {
    const std::uint64_t tile = g * static_cast<std::uint64_t>(step_.units) + static_cast<std::uint64_t>(j);
    return tile < n_tiles_ ? tile : n_tiles_;
  }

  // The activation tile of (m-block, k-step) for every unit with a tile in group g, and each such
  // unit's weight tile.
  StepWork issue_loads(std::uint64_t mb_i, std::uint64_t g, std::uint64_t ks) {
    Emitter& out = step_.out;
    StepWork sw;
    sw.m0 = mb_i * t_.mb;
    sw.rows = std::min(t_.mb, s_.m - sw.m0);
    const std::uint64_t k0 = ks * t_.tk;
    sw.tk = std::min(t_.tk, s_.k - k0);
    sw.x_slot = step_.x_ring_of(c_).acquire(out, c_, dma(0), step_.sems.x_free);
    out.load(c_, 0, s_.x_hbm + (sw.m0 * s_.k + k0) * ab_, step_.sram.x_slot(sw.x_slot), sw.rows, sw.tk * ab_,
             s_.k * ab_);
    for (int j = 0; j < step_.units; ++j) {
      if (tile_of(g, j) < n_tiles_) out.signal(c_, dma(0), step_.unit_sems(j).x_ready.at(sw.x_slot));
    }
    for (int j = 0; j < step_.units; ++j) {
      const std::uint64_t tile = tile_of(g, j);
      if (tile >= n_tiles_) continue;
      const std::uint64_t tn = std::min(t_.tn, s_.n - tile * t_.tn);
      const auto [ws, e] = step_.acquire_weight_slot(c_, j);
      // Tile-major weights: tile (tile, ks) is contiguous at its padded offset.
      out.load(c_, e, s_.w_hbm + (tile * k_steps_ + ks) * s_.tile_stride_bytes(t_.tk, t_.tn), step_.sram.w_slot(j, ws), 1,
               s_.storage.bytes(sw.tk, tn));
      out.signal(c_, dma(e), step_.unit_sems(j).w_ready.at(ws));
      sw.units.push_back({j, ws, tile, sw.rows, tn, sw.tk, ks == 0, ks + 1 == k_steps_});
    }
    return sw;
  }

  void compute(const StepWork& sw) {
    Emitter& out = step_.out;
    for (const auto& u : sw.units) {
      const auto& sems = step_.unit_sems(u.j);
      Ring& cr = step_.c_ring_of(c_, u.j);
      int& cs = c_slot_of_[static_cast<std::size_t>(u.j)];
      if (u.first) cs = cr.acquire(out, c_, mxu(u.j), sems.c_free);
      out.wait(c_, mxu(u.j), sems.x_ready.at(sw.x_slot));
      out.wait(c_, mxu(u.j), sems.w_ready.at(u.w_slot));
      out.matmul(c_, u.j, step_.sram.x_slot(sw.x_slot), step_.sram.w_slot(u.j, u.w_slot), step_.sram.c_slot(u.j, cs),
                 u.rows, u.tn, u.tk, !u.first, s_.wdt);
      step_.x_ring_of(c_).release(out, c_, sw.x_slot, mxu(u.j), step_.sems.x_free);
      step_.w_ring_of(c_, u.j).release(out, c_, u.w_slot, mxu(u.j), sems.w_free);
      if (!u.last) continue;
      out.signal(c_, mxu(u.j), sems.c_ready.at(cs));
      out.wait(c_, dma(0), sems.c_ready.at(cs));
      // The DMA engine converts fp32 accumulators to the activation dtype on the way out.
      out.store(c_, 0, step_.sram.c_slot(u.j, cs), s_.y_hbm + (sw.m0 * s_.n + u.tile * t_.tn) * ab_, u.rows,
                u.tn * ab_, s_.n * ab_);
      cr.release(out, c_, cs, dma(0), sems.c_free);
    }
  }

  StepLowering& step_;
  const MatmulWork& s_;
  const LinearTiling& t_;
  const int c_;
  const std::uint64_t ab_;
  std::uint64_t n_tiles_ = 0, k_steps_ = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> items_;  // this core's (m-block, tile group)
  std::vector<int> c_slot_of_;  // per unit: the accumulator slot of its current tile
};

// The stream-K schedule of one core.
class StreamKLinear {
 public:
  StreamKLinear(StepLowering& step, const MatmulWork& s, const LinearTiling& t, int core)
      : step_(step), s_(s), t_(t), c_(core), ab_(isa::dtype_bytes(step.act_dtype())) {
    k_steps_ = ceil_div(s.k, t.tk);
    for (std::uint64_t i = static_cast<std::uint64_t>(c_); i < ceil_div(s.n, t.tn); i += static_cast<std::uint64_t>(step.cores))
      tiles_.push_back(i);
    split_work();
  }

  void run() {
    if (tiles_.empty()) return;
    Emitter& out = step_.out;
    // The activation block, once per op, in both activation slots.
    Ring& xr = step_.x_ring_of(c_);
    const int xs0 = xr.acquire(out, c_, dma(0), step_.sems.x_free);
    xr.acquire(out, c_, dma(0), step_.sems.x_free);
    out.load(c_, 0, s_.x_hbm, step_.sram.x_base, s_.m, s_.k * ab_);
    for (int j = 0; j < step_.units; ++j) {
      if (pieces_[static_cast<std::size_t>(j)].empty()) continue;
      out.signal(c_, dma(0), step_.unit_sems(j).x_ready.at(xs0));
      out.wait(c_, mxu(j), step_.unit_sems(j).x_ready.at(xs0));
    }
    out.end_step(c_);
    partials_.assign(tiles_.size(), {});
    piece_index_.assign(static_cast<std::size_t>(step_.units), 0);
    ks_at_.assign(static_cast<std::size_t>(step_.units), 0);
    cslot_.assign(static_cast<std::size_t>(step_.units), -1);
    // Emit in lockstep: one k-step of every unit per step, so the units run side by side.
    for (bool any = true; any;) {
      any = false;
      for (int j = 0; j < step_.units; ++j) any = k_step(j) || any;
      out.end_step(c_);
    }
    for (int j = 0; j < step_.units; ++j) {
      if (!pieces_[static_cast<std::size_t>(j)].empty()) xr.release(out, c_, xs0, mxu(j), step_.sems.x_free);
    }
    out.end_step(c_);
  }

 private:
  struct Piece {
    std::uint64_t tile, ks_begin, ks_end;  // k-steps [begin, end) of tile tiles_[tile]
  };

  // Unit j takes work units [j*units/mxus, (j+1)*units/mxus), cut into per-tile pieces.
  void split_work() {
    const std::uint64_t work = tiles_.size() * k_steps_;
    pieces_.resize(static_cast<std::size_t>(step_.units));
    pieces_of_tile_.assign(tiles_.size(), 0);
    for (int j = 0; j < step_.units; ++j) {
      const std::uint64_t u0 = work * j / step_.units, u1 = work * (j + 1) / step_.units;
      for (std::uint64_t u = u0; u < u1;) {
        const std::uint64_t ti = u / k_steps_, ks = u % k_steps_;
        const std::uint64_t end = std::min(k_steps_, ks + (u1 - u));
        pieces_[static_cast<std::size_t>(j)].push_back({ti, ks, end});
        ++pieces_of_tile_[ti];
        u += end - ks;
      }
    }
  }

  // Unit j's next k-step, if it has one left.
  bool k_step(int j) {
    Emitter& out = step_.out;
    const auto& sems = step_.unit_sems(j);
    auto& list = pieces_[static_cast<std::size_t>(j)];
    std::size_t& pi = piece_index_[static_cast<std::size_t>(j)];
    if (pi >= list.size()) return false;
    const Piece& p = list[pi];
    std::uint64_t& ks = ks_at_[static_cast<std::size_t>(j)];
    if (ks == 0 || ks < p.ks_begin) ks = p.ks_begin;
    const std::uint64_t tile = tiles_[p.tile];
    const std::uint64_t tn = std::min(t_.tn, s_.n - tile * t_.tn);
    const std::uint64_t k0 = ks * t_.tk, tk = std::min(t_.tk, s_.k - k0);
    Ring& cr = step_.c_ring_of(c_, j);
    if (ks == p.ks_begin) cslot_[static_cast<std::size_t>(j)] = cr.acquire(out, c_, mxu(j), sems.c_free);
    const int cs = cslot_[static_cast<std::size_t>(j)];
    const auto [ws, e] = step_.acquire_weight_slot(c_, j);
    out.load(c_, e, s_.w_hbm + (tile * k_steps_ + ks) * s_.tile_stride_bytes(t_.tk, t_.tn), step_.sram.w_slot(j, ws), 1,
             s_.storage.bytes(tk, tn));
    out.signal(c_, dma(e), sems.w_ready.at(ws));
    out.wait(c_, mxu(j), sems.w_ready.at(ws));
    out.matmul(c_, j, step_.sram.x_base + k0 * ab_, step_.sram.w_slot(j, ws), step_.sram.c_slot(j, cs), s_.m, tn, tk,
               ks > p.ks_begin, s_.wdt);
    step_.w_ring_of(c_, j).release(out, c_, ws, mxu(j), sems.w_free);
    ++ks;
    if (ks < p.ks_end) return true;
    finish_piece(j, p, cs, tile * t_.tn, tn);
    ++pi;
    ks = 0;
    return true;
  }

  // A piece is done: a whole tile goes to dma0, a partial sum to the vector unit.
  void finish_piece(int j, const Piece& p, int cs, std::uint64_t n0, std::uint64_t tn) {
    Emitter& out = step_.out;
    const auto& sems = step_.unit_sems(j);
    Ring& cr = step_.c_ring_of(c_, j);
    const bool whole = pieces_of_tile_[p.tile] == 1;
    out.signal(c_, mxu(j), whole ? sems.c_ready.at(cs) : sems.r_ready.at(cs));
    if (whole) {
      out.wait(c_, dma(0), sems.c_ready.at(cs));
      out.store(c_, 0, step_.sram.c_slot(j, cs), s_.y_hbm + n0 * ab_, s_.m, tn * ab_, s_.n * ab_);
      cr.release(out, c_, cs, dma(0), sems.c_free);
      return;
    }
    cr.held[static_cast<std::size_t>(cs)] = true;
    auto& parts = partials_[p.tile];
    parts.emplace_back(j, cs);
    if (static_cast<int>(parts.size()) == pieces_of_tile_[p.tile]) reduce_partials(parts, n0, tn);
  }

  // All pieces of a tile are in: the vector unit adds them into the first, dma0 stores it.
  void reduce_partials(const std::vector<std::pair<int, int>>& parts, std::uint64_t n0, std::uint64_t tn) {
    Emitter& out = step_.out;
    const auto [j0, cs0] = parts.front();
    const std::uint64_t dst = step_.sram.c_slot(j0, cs0);
    for (const auto& [pj, pcs] : parts) out.wait(c_, vpu(), step_.unit_sems(pj).r_ready.at(pcs));
    for (std::size_t i = 1; i < parts.size(); ++i) {
      out.vec(c_, Opcode::vec_add, dst, step_.sram.c_slot(parts[i].first, parts[i].second), dst, s_.m, tn,
              step_.act_dtype());
    }
    out.signal(c_, vpu(), step_.sems.v_out.at(0));
    out.wait(c_, dma(0), step_.sems.v_out.at(0));
    out.store(c_, 0, dst, s_.y_hbm + n0 * ab_, s_.m, tn * ab_, s_.n * ab_);
    for (const auto& [pj, pcs] : parts) {
      Ring& r = step_.c_ring_of(c_, pj);
      r.held[static_cast<std::size_t>(pcs)] = false;
      r.release(out, c_, pcs, dma(0), step_.unit_sems(pj).c_free);
    }
  }

  StepLowering& step_;
  const MatmulWork& s_;
  const LinearTiling& t_;
  const int c_;
  const std::uint64_t ab_;
  std::uint64_t k_steps_ = 0;
  std::vector<std::uint64_t> tiles_;                        // this core's output tiles
  std::vector<std::vector<Piece>> pieces_;                  // per unit
  std::vector<int> pieces_of_tile_;                         // per tile
  std::vector<std::vector<std::pair<int, int>>> partials_;  // per tile: (unit, C slot) done
  std::vector<std::size_t> piece_index_;                    // per unit
  std::vector<std::uint64_t> ks_at_;                        // per unit: its next k-step
  std::vector<int> cslot_;                                  // per unit: its piece's C slot
};

}  // namespace

void lower_matmul(StepLowering& step, std::uint64_t m, std::uint64_t n, std::uint64_t k, std::uint64_t x_hbm,
                  std::uint64_t w_hbm, std::uint64_t y_hbm, const WeightFormat& storage) {
  const auto adt = step.act_dtype();
  // Weights whose dtype the array has no rate for are dequantized to the widest one it has.
  const isa::DType wdt = matmul_dtype(step.chip.core.matrix, storage.compute_dtype);
  const SramPlan& plan = step.sram.plan;
  const LinearTiling t = choose_linear_tiling(step.chip, plan, m, n, k, adt, wdt, &storage);
  if (std::getenv("TASIM_DEBUG_TILING")) {
    fmt::print(stderr, "linear {}x{}x{} plan {} mb {} tn {} tk {} est {}\n", m, n, k,
               plan.kind == SramPlan::Kind::stream ? "stream" : "accumulate", t.mb, t.tn, t.tk, t.estimated_cycles);
  }
  const MatmulWork shape{m, n, k, x_hbm, w_hbm, y_hbm, wdt, storage};
  const bool stream_k = t.mb >= m && m * k * isa::dtype_bytes(adt) <= 2 * plan.x_slot && step.units > 1 && plan.c_slots >= 2;
  for (int c = 0; c < step.cores; ++c) {
    if (stream_k) {
      StreamKLinear(step, shape, t, c).run();
    } else {
      TiledLinear(step, shape, t, c).run();
    }
  }
}

void lower_linear_op(StepLowering& step, const Op& op, std::size_t index) {
  const MatmulShape& mm = op.matmul();
  lower_matmul(step, mm.m, mm.n, mm.k, step.hbm.input(index), step.hbm.weights(index), step.hbm.output(index),
               op.weight_format);
}

}  // namespace tasim::workloads::lowering
