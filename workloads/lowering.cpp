#include "workloads/lowering.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "arch/matrix_timing.h"

namespace tasim::workloads {

using isa::Field;
using isa::Opcode;
using isa::UnitKind;
using isa::UnitRef;

namespace {

constexpr std::uint64_t kHbmAlign = 4096;
constexpr std::uint64_t kMaxDim = 65535;   // m/n/k/rows/cols field width
constexpr std::uint64_t kMaxRowBytes = (1u << 24) - 1;
constexpr int kWSlotsPerMxu = 3;            // weight ring: two tiles in flight while one computes

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }
std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return ceil_div(v, a) * a; }

// Local semaphore numbering of one core (global id = core * per_core + local). Every semaphore
// has exactly one waiting unit: with two waiters on one counting semaphore, one could take the
// signal meant for the other.
struct SemMap {
  int mxus;
  static constexpr int kDone = 0;        // "a core's outputs of the previous op are in HBM" (dma0 waits)
  static constexpr int kXFree = 1;       // activation ring, 2 slots (dma0 waits)
  static constexpr int kVIn = 3;         // vector ring, 2 slots (vector unit waits)
  static constexpr int kVOut = 5;        // vector ring, 2 slots (dma0 waits)
  static constexpr int kParamReady = 7;  // gamma / rope table loaded (vector unit waits)
  static constexpr int kExchangeStored = 8;  // engine 1 stored an exchange's received rows (dma0 waits)
  static constexpr int kPerMxuBase = 9;
  static constexpr int kPerMxu = 18;
  int at(int j, int offset) const { return kPerMxuBase + j * kPerMxu + offset; }
  // Per matrix unit j (the waiting unit in brackets):
  int w_ready(int j, int s) const { return at(j, s); }       // weight slot loaded [matrix unit]
  int w_free(int j, int s) const { return at(j, 3 + s); }    // weight slot consumed [its DMA engine]
  int c_ready(int j, int s) const { return at(j, 6 + s); }   // accumulator done [dma0]
  int c_free(int j, int s) const { return at(j, 8 + s); }    // accumulator stored [matrix unit]
  int s_ready(int j) const { return at(j, 10); }             // scores written [vector unit]
  int p_ready(int j) const { return at(j, 11); }             // probabilities written [matrix unit]
  int q_ready(int j) const { return at(j, 12); }             // attention Q loaded [matrix unit]
  int q_free(int j) const { return at(j, 13); }              // attention Q consumed [dma0]
  int r_ready(int j, int s) const { return at(j, 14 + s); }  // partial sum done [vector unit]
  int x_ready(int j, int s) const { return at(j, 16 + s); }  // activation slot loaded [matrix unit]
  int per_core() const { return kPerMxuBase + mxus * kPerMxu; }
};

// Slots of a ring and the free signals each slot's last users still owe.
struct Ring {
  int slots = 0;
  int next = 0;
  std::vector<int> owed;
  // A held slot keeps its data past later acquisitions (a partial sum waiting for its
  // reduction): acquire skips it, so nobody waits for a release that comes later in program order.
  std::vector<bool> held;
  explicit Ring(int n = 0) : slots(n), owed(static_cast<std::size_t>(n), 0), held(static_cast<std::size_t>(n), false) {}
};

// Instructions of one core for the op being lowered, cut into steps for round-robin merging.
struct CoreStream {
  std::vector<isa::Instruction> insts;
  std::vector<std::size_t> step_ends;
};

class Lowerer {
 public:
  Lowerer(const StepGraph& graph, const ChipConfig& chip)
      : graph_(graph), chip_(chip), sems_{chip.core.matrix.count} {
    cores_ = chip.cores;
    mxus_ = chip.core.matrix.count;
    engines_ = chip.core.dma.engines;
    if (sems_.per_core() * cores_ > chip.semaphores) {
      throw Error(fmt::format("the compiler needs {} semaphores ({} per core) but the architecture has {} "
                              "(raise 'semaphores')",
                              sems_.per_core() * cores_, sems_.per_core(), chip.semaphores));
    }
    streams_.resize(static_cast<std::size_t>(cores_));
    apply_plan(plan_sram(chip));
    prog_.source_name = fmt::format("{}_{}_b{}", graph.model.name, graph.spec.phase == Phase::prefill ? "prefill" : "decode",
                                    graph.spec.batch);
  }

  isa::Program run() {
    allocate_hbm();
    for (std::size_t i = 0; i < graph_.ops.size(); ++i) lower_op(graph_.ops[i], i);
    isa::Instruction halt;
    halt.op = Opcode::halt;
    push(halt);
    return std::move(prog_);
  }

 private:
  // ---- SRAM plans ----------------------------------------------------------------------------
  // Lays every core's SRAM out for `plan` and starts its rings empty.
  void apply_plan(const SramPlan& plan) {
    plan_ = plan;
    x_ring_.assign(static_cast<std::size_t>(cores_), Ring(2));
    w_ring_.assign(static_cast<std::size_t>(cores_ * mxus_), Ring(kWSlotsPerMxu));
    c_ring_.assign(static_cast<std::size_t>(cores_ * mxus_), Ring(plan.c_slots));
    v_next_.assign(static_cast<std::size_t>(cores_), 0);
    q_used_.assign(static_cast<std::size_t>(cores_ * mxus_), false);
    std::uint64_t a = 0;
    x_base_ = a, a += 2 * plan.x_slot;
    w_base_ = a, a += static_cast<std::uint64_t>(kWSlotsPerMxu * mxus_) * plan.w_slot;
    c_base_ = a, a += static_cast<std::uint64_t>(plan.c_slots * mxus_) * plan.c_slot;
    s_base_ = a, a += static_cast<std::uint64_t>(mxus_) * plan.s_slot;
    v_base_ = a, a += 2 * plan.v_slot;
    p_base_ = a, a += plan.v_slot;
    if (a > chip_.core.sram.capacity_bytes) throw Error("internal: SRAM plan exceeds the capacity");
  }
  // Switches to another plan between ops: every signal still owed to a ring is consumed by the
  // unit that would have waited for it (so no semaphore keeps a stale count), then a barrier
  // makes sure no unit still touches the old layout.
  void switch_plan(const SramPlan& plan) {
    if (plan.kind == plan_.kind) return;
    for (int c = 0; c < cores_; ++c) {
      Ring& xr = x_ring_[static_cast<std::size_t>(c)];
      for (int s = 0; s < xr.slots; ++s)
        for (int i = 0; i < xr.owed[static_cast<std::size_t>(s)]; ++i) wait(c, dma0(), SemMap::kXFree + s);
      for (int j = 0; j < mxus_; ++j) {
        Ring& wr = w_ring_[static_cast<std::size_t>(c * mxus_ + j)];
        for (int s = 0; s < wr.slots; ++s)
          for (int i = 0; i < wr.owed[static_cast<std::size_t>(s)]; ++i)
            wait(c, {UnitKind::dma, weight_engine(j, s)}, sems_.w_free(j, s));
        Ring& cr = c_ring_[static_cast<std::size_t>(c * mxus_ + j)];
        for (int s = 0; s < cr.slots; ++s)
          for (int i = 0; i < cr.owed[static_cast<std::size_t>(s)]; ++i) wait(c, mxu(j), sems_.c_free(j, s));
        if (q_used_[static_cast<std::size_t>(c * mxus_ + j)]) wait(c, dma0(), sems_.q_free(j));
      }
      end_step(c);
    }
    flush_op();
    isa::Instruction barrier;
    barrier.op = Opcode::barrier;
    barrier.tag = tag_;
    push(barrier);
    apply_plan(plan);
  }
  const SramPlan& plan_for(const Op& op) {
    if (op.kind == OpKind::attention) return stream_plan_;
    if (op.kind != OpKind::linear) return plan_;  // vector work runs in either layout
    const auto adt = graph_.spec.act_dtype, wdt = graph_.spec.weight_dtype;
    auto estimate = [&](const SramPlan& plan) {
      try {
        return choose_linear_tiling(chip_, plan, op.m, op.n, op.k, adt, wdt).estimated_cycles;
      } catch (const Error&) {
        return std::numeric_limits<double>::infinity();  // no tile fits this plan
      }
    };
    const double stream = estimate(stream_plan_);
    const double accumulate = estimate(accumulate_plan_);
    // A switch costs a drain of the pipelines; only worth it for a clear gain.
    constexpr double kSwitchCycles = 20000;
    const bool in_stream = plan_.kind == SramPlan::Kind::stream;
    if (in_stream) return accumulate + kSwitchCycles < stream ? accumulate_plan_ : stream_plan_;
    return stream + kSwitchCycles < accumulate ? stream_plan_ : accumulate_plan_;
  }

  // ---- emission ----------------------------------------------------------------------------
  UnitRef dma0() const { return {UnitKind::dma, 0}; }
  UnitRef mxu(int j) const { return {UnitKind::mxu, j}; }
  UnitRef vpu() const { return {UnitKind::vpu, 0}; }
  // Weight/KV tiles go over the engines other than engine 0 (activations and outputs); each
  // weight slot has a fixed engine, so one engine waits on the slot's "free" semaphore.
  int weight_engine(int j, int slot) const {
    if (engines_ == 1) return 0;
    return 1 + (j * kWSlotsPerMxu + slot) % (engines_ - 1);
  }
  // Acquires unit j's next weight slot on its engine; returns (slot, engine).
  std::pair<int, int> acquire_weight_slot(int core, int j) {
    Ring& wr = w_ring_[static_cast<std::size_t>(core * mxus_ + j)];
    const int slot = wr.next;
    const int e = weight_engine(j, slot);
    const int got = acquire(core, wr, {UnitKind::dma, e}, sems_.w_free(j, 0));
    return {got, e};
  }
  int sem(int core, int local) const { return core * sems_.per_core() + local; }

  void push(isa::Instruction inst) {
    inst.line = static_cast<std::uint32_t>(prog_.instructions.size() + 1);
    prog_.instructions.push_back(inst);
  }
  void emit(int core, Opcode op, std::initializer_list<std::pair<Field, std::uint64_t>> fields) {
    isa::Instruction inst;
    inst.op = op;
    inst.tag = tag_;
    inst.set(Field::core, static_cast<std::uint64_t>(core));
    for (const auto& [f, v] : fields) inst.set(f, v);
    streams_[static_cast<std::size_t>(core)].insts.push_back(inst);
  }
  void signal(int core, UnitRef u, int local) {
    emit(core, Opcode::sem_signal, {{Field::unit, isa::encode_unitref(u)}, {Field::sem, static_cast<std::uint64_t>(sem(core, local))}});
  }
  void wait(int core, UnitRef u, int local) {
    emit(core, Opcode::sem_wait, {{Field::unit, isa::encode_unitref(u)}, {Field::sem, static_cast<std::uint64_t>(sem(core, local))}});
  }
  void end_step(int core) {
    auto& s = streams_[static_cast<std::size_t>(core)];
    if (s.step_ends.empty() || s.step_ends.back() != s.insts.size()) s.step_ends.push_back(s.insts.size());
  }
  // 2-D DMA helpers; large transfers are split so every field fits its width.
  void load(int core, int engine, std::uint64_t hbm, std::uint64_t sram, std::uint64_t rows, std::uint64_t row_bytes,
            std::uint64_t hbm_stride = 0) {
    dma2d(core, engine, Opcode::dma_load, hbm, sram, rows, row_bytes, hbm_stride);
  }
  void store(int core, int engine, std::uint64_t sram, std::uint64_t hbm, std::uint64_t rows, std::uint64_t row_bytes,
             std::uint64_t hbm_stride = 0) {
    dma2d(core, engine, Opcode::dma_store, hbm, sram, rows, row_bytes, hbm_stride);
  }
  void dma2d(int core, int engine, Opcode op, std::uint64_t hbm, std::uint64_t sram, std::uint64_t rows,
             std::uint64_t row_bytes, std::uint64_t hbm_stride) {
    if (rows == 0 || row_bytes == 0) return;
    if (hbm_stride == row_bytes) hbm_stride = 0;
    if (hbm_stride == 0 && rows > 1 && rows * row_bytes <= kMaxRowBytes) {
      row_bytes *= rows;  // contiguous: one long row
      rows = 1;
    }
    if (row_bytes > kMaxRowBytes) {
      throw Error(fmt::format("internal: DMA row of {} bytes exceeds the field width", row_bytes));
    }
    const std::uint64_t stride = hbm_stride ? hbm_stride : row_bytes;
    for (std::uint64_t r0 = 0; r0 < rows; r0 += kMaxDim) {
      const std::uint64_t n = std::min(kMaxDim, rows - r0);
      emit(core, op, {{Field::engine, static_cast<std::uint64_t>(engine)}, {Field::hbm_addr, hbm + r0 * stride},
                      {Field::sram_addr, sram + r0 * row_bytes}, {Field::rows, n}, {Field::row_bytes, row_bytes},
                      {Field::hbm_stride, hbm_stride}});
    }
  }
  void matmul(int core, int j, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t m, std::uint64_t n,
              std::uint64_t k, bool acc, isa::DType dtype) {
    for (std::uint64_t m0 = 0; m0 < m; m0 += kMaxDim) {  // rows beyond the field width: more instructions
      const std::uint64_t mm = std::min(kMaxDim, m - m0);
      emit(core, Opcode::matmul, {{Field::mxu, static_cast<std::uint64_t>(j)}, {Field::a_addr, a}, {Field::b_addr, b},
                                  {Field::c_addr, c}, {Field::m, mm}, {Field::n, n}, {Field::k, k},
                                  {Field::acc, acc ? 1u : 0u}, {Field::dtype, static_cast<std::uint64_t>(dtype)}});
    }
  }
  // C = A B computed as written or as C^T = B^T A^T, whichever the array does faster: with few
  // rows (decode attention's query group) streaming the long operand beats loading it as the
  // stationary one fold after fold. The DMA engines lay operands out either way.
  void oriented_matmul(int core, int j, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t m,
                       std::uint64_t n, std::uint64_t k, bool acc, isa::DType dtype) {
    const auto& mx = chip_.core.matrix;
    if (timing::matmul_cycles(mx, dtype, n, m, k) < timing::matmul_cycles(mx, dtype, m, n, k)) {
      matmul(core, j, b, a, c, n, m, k, acc, dtype);
    } else {
      matmul(core, j, a, b, c, m, n, k, acc, dtype);
    }
  }
  void vec(int core, Opcode op, std::uint64_t src, std::uint64_t src2, std::uint64_t dst, std::uint64_t rows,
           std::uint64_t cols, isa::DType dtype) {
    // Wide rows are processed in chunks of at most kMaxDim elements.
    for (std::uint64_t c0 = 0; c0 < cols; c0 += kMaxDim) {
      const std::uint64_t cc = std::min(kMaxDim, cols - c0);
      for (std::uint64_t r0 = 0; r0 < rows; r0 += kMaxDim) {
        const std::uint64_t rr = std::min(kMaxDim, rows - r0);
        isa::Instruction inst;
        inst.op = op;
        inst.tag = tag_;
        inst.set(Field::core, static_cast<std::uint64_t>(core));
        inst.set(Field::src_addr, src);
        if (inst.has(Field::src2_addr)) inst.set(Field::src2_addr, src2);
        inst.set(Field::dst_addr, dst);
        inst.set(Field::rows, rr);
        inst.set(Field::cols, cc);
        inst.set(Field::dtype, static_cast<std::uint64_t>(dtype));
        streams_[static_cast<std::size_t>(core)].insts.push_back(inst);
      }
    }
  }

  // Ring helpers: the producer waits for the slot's previous users before refilling it.
  int acquire(int core, Ring& ring, UnitRef producer, int free_local_base) {
    int s = ring.next;
    for (int tries = 0; ring.held[static_cast<std::size_t>(s)]; ++tries) {
      if (tries == ring.slots) throw Error("internal: every slot of a ring is held");
      s = (s + 1) % ring.slots;
    }
    ring.next = (s + 1) % ring.slots;
    for (int i = 0; i < ring.owed[static_cast<std::size_t>(s)]; ++i) wait(core, producer, free_local_base + s);
    ring.owed[static_cast<std::size_t>(s)] = 0;
    return s;
  }
  void release(int core, Ring& ring, int s, UnitRef consumer, int free_local) {
    signal(core, consumer, free_local);
    ++ring.owed[static_cast<std::size_t>(s)];
  }

  // Merges the per-core streams of the op round-robin by step, so the in-order sequencer
  // hands every core its next step before any core its one after.
  void flush_op() {
    std::vector<std::size_t> step(streams_.size(), 0), pos(streams_.size(), 0);
    for (auto& s : streams_) {
      if (s.step_ends.empty() || s.step_ends.back() != s.insts.size()) s.step_ends.push_back(s.insts.size());
    }
    bool any = true;
    while (any) {
      any = false;
      for (std::size_t c = 0; c < streams_.size(); ++c) {
        auto& s = streams_[c];
        if (step[c] >= s.step_ends.size()) continue;
        any = true;
        for (; pos[c] < s.step_ends[step[c]]; ++pos[c]) push(s.insts[pos[c]]);
        ++step[c];
      }
    }
    for (auto& s : streams_) {
      s.insts.clear();
      s.step_ends.clear();
    }
  }

  // Op boundary: a core may load the previous op's outputs only when every core has stored
  // its part. Each core's output engine (dma0) signals every core after its last store.
  void op_prologue() {
    if (!first_op_) {
      for (int c = 0; c < cores_; ++c) {
        for (int i = 0; i < cores_; ++i) wait(c, dma0(), SemMap::kDone);
        end_step(c);
      }
    }
    first_op_ = false;
  }
  void op_epilogue() {
    for (int c = 0; c < cores_; ++c) {
      for (int other = 0; other < cores_; ++other) {
        emit(c, Opcode::sem_signal, {{Field::unit, isa::encode_unitref(dma0())},
                                     {Field::sem, static_cast<std::uint64_t>(sem(other, SemMap::kDone))}});
      }
      end_step(c);
    }
    flush_op();
  }

  // ---- HBM layout ----------------------------------------------------------------------------
  std::uint64_t hbm_alloc(std::uint64_t bytes) {
    const std::uint64_t a = hbm_next_;
    hbm_next_ = align_up(hbm_next_ + bytes, kHbmAlign);
    return a;
  }
  void allocate_hbm() {
    const auto& spec = graph_.spec;
    const auto& model = graph_.model;
    // Weights of every op, then the KV cache, then a rotating activation arena.
    for (const auto& op : graph_.ops) {
      std::uint64_t bytes = op.weight_bytes;
      if (op.kind == OpKind::embedding) {
        bytes = static_cast<std::uint64_t>(model.vocab_size) * model.hidden_size * isa::dtype_bytes(spec.weight_dtype);
      }
      // One copy per op name: a pipeline stage repeats its layers per micro-batch with the same weights.
      auto it = weight_by_name_.find(op.name);
      if (it == weight_by_name_.end()) it = weight_by_name_.emplace(op.name, hbm_alloc(std::max<std::uint64_t>(bytes, 1))).first;
      weight_addr_.push_back(it->second);
    }
    const std::uint64_t positions =
        spec.phase == Phase::prefill ? spec.prompt_len : static_cast<std::uint64_t>(spec.context_len) + 1;
    // This chip's KV heads (all of them unless tensor parallel; fewer than chips are replicated).
    const std::uint64_t kv_heads =
        std::max<std::uint64_t>(1, static_cast<std::uint64_t>(model.num_kv_heads) / static_cast<std::uint64_t>(spec.tp));
    // Expert parallel chips each hold batch / ep sequences' cache.
    kv_layer_bytes_ = static_cast<std::uint64_t>(spec.batch / std::max(1, spec.ep)) * positions * 2 * kv_heads *
                      model.head_dim *
                      isa::dtype_bytes(spec.kv_dtype);
    // The layers this chip holds (a pipeline stage holds layers / pp of them).
    const int stages = std::max(1, spec.pp);
    first_layer_ = spec.pp_rank * (model.num_layers / stages);
    kv_base_ = hbm_alloc(kv_layer_bytes_ * static_cast<std::uint64_t>(model.num_layers / stages));
    std::uint64_t largest = 0;
    for (const auto& op : graph_.ops) largest = std::max(largest, output_bytes(op));
    arena_slot_ = align_up(std::max<std::uint64_t>(largest, 1), kHbmAlign);
    arena_base_ = hbm_alloc(arena_slot_ * kArenaSlots);
    if (hbm_next_ > chip_.hbm.capacity_bytes) {
      throw Error(fmt::format("{} needs {:.1f} GiB of HBM (weights, KV cache, activations) but {} has {:.1f} GiB",
                              prog_.source_name, hbm_next_ / 1073741824.0, chip_.name,
                              chip_.hbm.capacity_bytes / 1073741824.0));
    }
  }
  std::uint64_t output_bytes(const Op& op) const {
    const int ab = isa::dtype_bytes(graph_.spec.act_dtype);
    switch (op.kind) {
      case OpKind::attention:
        return static_cast<std::uint64_t>(op.batch) * op.q_len * op.heads * op.head_dim * ab;
      case OpKind::kv_append:
        return 0;
      case OpKind::activation:
        return op.m * (graph_.model.mlp == MlpKind::swiglu ? op.n / 2 : op.n) * ab;
      case OpKind::moe_experts:
        return op.m * op.k * ab;
      case OpKind::allgather:
        return op.m * op.n * ab * static_cast<std::uint64_t>(graph_.spec.tp);
      default:
        return op.m * std::max<std::uint64_t>(op.n, 1) * ab;
    }
  }
  // Activations rotate through kArenaSlots buffers: op i writes slot i % kArenaSlots, and no
  // input is older than the residual stream (a handful of ops back).
  static constexpr std::uint64_t kArenaSlots = 16;
  std::uint64_t out_addr(std::size_t op_index) const { return arena_base_ + (op_index % kArenaSlots) * arena_slot_; }
  std::uint64_t in_addr(std::size_t op_index) const { return op_index == 0 ? arena_base_ : out_addr(op_index - 1); }
  // The residual stream an add combines with: the output two "blocks" back is approximated by
  // the slot before the previous op (addresses only matter for channel interleaving).
  std::uint64_t residual_addr(std::size_t op_index) const { return op_index >= 2 ? out_addr(op_index - 2) : arena_base_; }

  // ---- ops -----------------------------------------------------------------------------------
  void lower_op(const Op& op, std::size_t index) {
    tag_ = prog_.intern_tag(op.name);
    if (op.kind == OpKind::linear || op.kind == OpKind::attention) switch_plan(plan_for(op));
    op_prologue();
    switch (op.kind) {
      case OpKind::linear:
        lower_linear(op.m, op.n, op.k, in_addr(index), weight_addr_[index], out_addr(index), graph_.spec.weight_dtype);
        break;
      case OpKind::moe_router: {
        lower_linear(op.m, op.n, op.k, in_addr(index), weight_addr_[index], out_addr(index), graph_.spec.weight_dtype);
        // Softmax over the experts and top-k selection (a row max per pick).
        RowsSpec r = rows_spec(op.m, op.n, {Opcode::vec_softmax, Opcode::vec_rowmax}, out_addr(index), out_addr(index));
        lower_rows(r);
        break;
      }
      case OpKind::moe_experts:
        lower_moe(op, index);
        break;
      case OpKind::norm:
      case OpKind::rope: {
        const Opcode v = op.kind == OpKind::rope ? Opcode::vec_rope
                         : graph_.model.norm == NormKind::rmsnorm ? Opcode::vec_rmsnorm
                                                                  : Opcode::vec_layernorm;
        RowsSpec r = rows_spec(op.m, op.n, {v}, in_addr(index), out_addr(index));
        r.param = true;
        r.aux_hbm = weight_addr_[index];
        lower_rows(r);
        break;
      }
      case OpKind::residual_add: {
        RowsSpec r = rows_spec(op.m, op.n, {Opcode::vec_add}, in_addr(index), out_addr(index));
        r.second = true;
        r.aux_hbm = residual_addr(index);
        lower_rows(r);
        break;
      }
      case OpKind::activation:
        lower_activation(op, index);
        break;
      case OpKind::sampling: {
        RowsSpec r = rows_spec(op.m, op.n, {Opcode::vec_rowmax}, in_addr(index), out_addr(index));
        r.out_cols = 1;
        lower_rows(r);
        break;
      }
      case OpKind::embedding:
        lower_embedding(op, index);
        break;
      case OpKind::allreduce:
        lower_collective(op, index, Opcode::coll_allreduce);
        break;
      case OpKind::allgather:
        lower_collective(op, index, Opcode::coll_allgather);
        break;
      case OpKind::alltoall:
        if (graph_.spec.ep > 1 && engines_ > 1) {
          lower_expert_exchange(op, index);
        } else {
          lower_collective(op, index, Opcode::coll_alltoall);
        }
        break;
      case OpKind::pp_recv:
      case OpKind::pp_send:
        lower_pipeline_transfer(op, index);
        break;
      case OpKind::kv_append:
        lower_kv_append(op, index);
        break;
      case OpKind::attention:
        lower_attention(op, index);
        break;
    }
    op_epilogue();
  }

  // Y (m x n) = X (m x k) W (k x n): output tiles are dealt round-robin over every matrix unit
  // of every core; each core loads an activation tile once per k-step for all its units, and
  // each unit streams its own weight tiles (stored tile-major in HBM, so each is one transfer).
  void lower_linear(std::uint64_t m, std::uint64_t n, std::uint64_t k, std::uint64_t x_hbm, std::uint64_t w_hbm,
                    std::uint64_t y_hbm, isa::DType wdt) {
    const auto adt = graph_.spec.act_dtype;
    const int ab = isa::dtype_bytes(adt), wb = isa::dtype_bytes(wdt);
    const LinearTiling t = choose_linear_tiling(chip_, plan_, m, n, k, adt, wdt);
    if (std::getenv("TASIM_DEBUG_TILING")) {
      fmt::print(stderr, "linear {}x{}x{} plan {} mb {} tn {} tk {} est {}\n", m, n, k, plan_.kind == SramPlan::Kind::stream ? "stream" : "accumulate", t.mb, t.tn, t.tk, t.estimated_cycles);
    }
    if (t.mb >= m && m * k * ab <= 2 * plan_.x_slot && mxus_ > 1 && plan_.c_slots >= 2) {
      lower_linear_stream_k(m, n, k, x_hbm, w_hbm, y_hbm, wdt, t);
      return;
    }
    const std::uint64_t n_tiles = ceil_div(n, t.tn), k_steps = ceil_div(k, t.tk), m_blocks = ceil_div(m, t.mb);
    const int workers = cores_ * mxus_;
    for (int c = 0; c < cores_; ++c) {
      // Tiles of this core's units: tile i goes to worker i % workers = (core, unit).
      std::vector<std::vector<std::uint64_t>> tiles(static_cast<std::size_t>(mxus_));
      for (std::uint64_t i = 0; i < n_tiles; ++i) {
        const int w = static_cast<int>(i % workers);
        if (w % cores_ == c) tiles[static_cast<std::size_t>(w / cores_)].push_back(i);
      }
      std::size_t groups = 0;
      for (const auto& l : tiles) groups = std::max(groups, l.size());
      if (groups == 0) continue;
      struct Pending {
        int j;
        int w_slot;
        int c_slot;
        std::uint64_t tile, rows, tn, tk;
        bool first, last;
      };
      // Loads of step s are emitted one step ahead of its compute (software pipelining).
      struct StepWork {
        int x_slot;
        std::uint64_t m0, rows, tk;
        std::vector<Pending> units;
      };
      auto issue_loads = [&](std::uint64_t mb_i, std::size_t g, std::uint64_t ks) {
        StepWork sw;
        sw.m0 = mb_i * t.mb;
        sw.rows = std::min(t.mb, m - sw.m0);
        const std::uint64_t k0 = ks * t.tk;
        sw.tk = std::min(t.tk, k - k0);
        int consumers = 0;
        for (int j = 0; j < mxus_; ++j) consumers += g < tiles[static_cast<std::size_t>(j)].size() ? 1 : 0;
        Ring& xr = x_ring_[static_cast<std::size_t>(c)];
        sw.x_slot = acquire(c, xr, dma0(), SemMap::kXFree);
        load(c, 0, x_hbm + (sw.m0 * k + k0) * ab, x_base_ + sw.x_slot * plan_.x_slot, sw.rows, sw.tk * ab, k * ab);
        for (int j = 0; j < mxus_; ++j) {
          if (g < tiles[static_cast<std::size_t>(j)].size()) signal(c, dma0(), sems_.x_ready(j, sw.x_slot));
        }
        (void)consumers;
        for (int j = 0; j < mxus_; ++j) {
          const auto& l = tiles[static_cast<std::size_t>(j)];
          if (g >= l.size()) continue;
          const std::uint64_t tile = l[g];
          const std::uint64_t n0 = tile * t.tn, tn = std::min(t.tn, n - n0);
          const auto [ws, e] = acquire_weight_slot(c, j);
          // Tile-major weights: tile (tile, ks) is contiguous at its padded offset.
          const std::uint64_t w_addr = w_hbm + (tile * k_steps + ks) * t.tk * t.tn * wb;
          load(c, e, w_addr, w_base_ + (j * kWSlotsPerMxu + ws) * plan_.w_slot, 1, sw.tk * tn * wb);
          signal(c, {UnitKind::dma, e}, sems_.w_ready(j, ws));
          sw.units.push_back({j, ws, -1, tile, sw.rows, tn, sw.tk, ks == 0, ks + 1 == k_steps});
        }
        return sw;
      };
      auto compute = [&](StepWork& sw) {
        for (auto& u : sw.units) {
          Ring& cr = c_ring_[static_cast<std::size_t>(c * mxus_ + u.j)];
          if (u.first) c_slot_of_[u.j] = acquire(c, cr, mxu(u.j), sems_.c_free(u.j, 0));
          const int cs = c_slot_of_[u.j];
          wait(c, mxu(u.j), sems_.x_ready(u.j, sw.x_slot));
          wait(c, mxu(u.j), sems_.w_ready(u.j, u.w_slot));
          matmul(c, u.j, x_base_ + sw.x_slot * plan_.x_slot, w_base_ + (u.j * kWSlotsPerMxu + u.w_slot) * plan_.w_slot,
                 c_base_ + (u.j * plan_.c_slots + cs) * plan_.c_slot, u.rows, u.tn, u.tk, !u.first, wdt);
          release(c, x_ring_[static_cast<std::size_t>(c)], sw.x_slot, mxu(u.j), SemMap::kXFree + sw.x_slot);
          release(c, w_ring_[static_cast<std::size_t>(c * mxus_ + u.j)], u.w_slot, mxu(u.j), sems_.w_free(u.j, u.w_slot));
          if (u.last) {
            signal(c, mxu(u.j), sems_.c_ready(u.j, cs));
            wait(c, dma0(), sems_.c_ready(u.j, cs));
            // The DMA engine converts fp32 accumulators to the activation dtype on the way out.
            store(c, 0, c_base_ + (u.j * plan_.c_slots + cs) * plan_.c_slot, y_hbm + (sw.m0 * n + u.tile * t.tn) * ab,
                  u.rows, u.tn * ab, n * ab);
            release(c, cr, cs, dma0(), sems_.c_free(u.j, cs));
          }
        }
      };
      c_slot_of_.assign(static_cast<std::size_t>(mxus_), 0);
      std::vector<std::tuple<std::uint64_t, std::size_t, std::uint64_t>> order;
      for (std::uint64_t mb_i = 0; mb_i < m_blocks; ++mb_i)
        for (std::size_t g = 0; g < groups; ++g)
          for (std::uint64_t ks = 0; ks < k_steps; ++ks) order.emplace_back(mb_i, g, ks);
      StepWork current = issue_loads(std::get<0>(order[0]), std::get<1>(order[0]), std::get<2>(order[0]));
      end_step(c);
      for (std::size_t i = 0; i < order.size(); ++i) {
        StepWork next;
        const bool has_next = i + 1 < order.size();
        if (has_next) next = issue_loads(std::get<0>(order[i + 1]), std::get<1>(order[i + 1]), std::get<2>(order[i + 1]));
        compute(current);
        end_step(c);
        if (has_next) current = std::move(next);
      }
    }
  }

  // Few rows (decode): the whole activation block stays in SRAM, output tiles are dealt to cores,
  // and each core's (tile, k-step) units are split evenly over its matrix units ("stream-K"), so
  // no unit idles when tiles do not divide evenly. A tile whose k-steps span two units leaves two
  // partial sums, which the vector unit adds before the store.
  void lower_linear_stream_k(std::uint64_t m, std::uint64_t n, std::uint64_t k, std::uint64_t x_hbm,
                             std::uint64_t w_hbm, std::uint64_t y_hbm, isa::DType wdt, const LinearTiling& t) {
    const auto adt = graph_.spec.act_dtype;
    const int ab = isa::dtype_bytes(adt), wb = isa::dtype_bytes(wdt);
    const std::uint64_t n_tiles = ceil_div(n, t.tn), k_steps = ceil_div(k, t.tk);
    struct Piece {
      std::uint64_t tile, ks_begin, ks_end;  // k-steps [begin, end) of the tile
    };
    for (int c = 0; c < cores_; ++c) {
      std::vector<std::uint64_t> tiles;
      for (std::uint64_t i = static_cast<std::uint64_t>(c); i < n_tiles; i += static_cast<std::uint64_t>(cores_)) tiles.push_back(i);
      if (tiles.empty()) continue;
      const std::uint64_t units = tiles.size() * k_steps;
      // Unit j takes units [j*units/mxus, (j+1)*units/mxus), cut into per-tile pieces.
      std::vector<std::vector<Piece>> pieces(static_cast<std::size_t>(mxus_));
      std::vector<int> pieces_of_tile(tiles.size(), 0);
      for (int j = 0; j < mxus_; ++j) {
        const std::uint64_t u0 = units * j / mxus_, u1 = units * (j + 1) / mxus_;
        for (std::uint64_t u = u0; u < u1;) {
          const std::uint64_t ti = u / k_steps, ks = u % k_steps;
          const std::uint64_t end = std::min(k_steps, ks + (u1 - u));
          pieces[static_cast<std::size_t>(j)].push_back({ti, ks, end});
          ++pieces_of_tile[ti];
          u += end - ks;
        }
      }
      int active = 0;
      for (const auto& p : pieces) active += p.empty() ? 0 : 1;
      // The activation block, once per op, in both activation slots.
      Ring& xr = x_ring_[static_cast<std::size_t>(c)];
      const int xs0 = acquire(c, xr, dma0(), SemMap::kXFree);
      const int xs1 = acquire(c, xr, dma0(), SemMap::kXFree);
      (void)xs1;
      load(c, 0, x_hbm, x_base_, m, k * ab);
      for (int j = 0; j < mxus_; ++j) {
        if (pieces[static_cast<std::size_t>(j)].empty()) continue;
        signal(c, dma0(), sems_.x_ready(j, xs0));
        wait(c, mxu(j), sems_.x_ready(j, xs0));
      }
      (void)active;
      end_step(c);
      // Partial sums waiting for their tile's other piece: (unit, C slot) per tile.
      std::vector<std::vector<std::pair<int, int>>> partials(tiles.size());
      std::vector<std::size_t> piece_index(static_cast<std::size_t>(mxus_), 0);
      std::vector<std::uint64_t> ks_at(static_cast<std::size_t>(mxus_), 0);
      std::vector<int> cslot(static_cast<std::size_t>(mxus_), -1);
      // Emit in lockstep: one k-step of every unit per step, so the units run side by side.
      for (bool any = true; any;) {
        any = false;
        for (int j = 0; j < mxus_; ++j) {
          auto& list = pieces[static_cast<std::size_t>(j)];
          std::size_t& pi = piece_index[static_cast<std::size_t>(j)];
          if (pi >= list.size()) continue;
          any = true;
          const Piece& p = list[pi];
          std::uint64_t& ks = ks_at[static_cast<std::size_t>(j)];
          if (ks == 0 || ks < p.ks_begin) ks = p.ks_begin;
          const std::uint64_t tile = tiles[p.tile];
          const std::uint64_t n0 = tile * t.tn, tn = std::min(t.tn, n - n0);
          const std::uint64_t k0 = ks * t.tk, tk = std::min(t.tk, k - k0);
          Ring& cr = c_ring_[static_cast<std::size_t>(c * mxus_ + j)];
          if (ks == p.ks_begin) cslot[static_cast<std::size_t>(j)] = acquire(c, cr, mxu(j), sems_.c_free(j, 0));
          const int cs = cslot[static_cast<std::size_t>(j)];
          Ring& wr = w_ring_[static_cast<std::size_t>(c * mxus_ + j)];
          const auto [ws, e] = acquire_weight_slot(c, j);
          load(c, e, w_hbm + (tile * k_steps + ks) * t.tk * t.tn * wb, w_base_ + (j * kWSlotsPerMxu + ws) * plan_.w_slot, 1,
               tk * tn * wb);
          signal(c, {UnitKind::dma, e}, sems_.w_ready(j, ws));
          wait(c, mxu(j), sems_.w_ready(j, ws));
          const std::uint64_t c_addr = c_base_ + (j * plan_.c_slots + cs) * plan_.c_slot;
          matmul(c, j, x_base_ + k0 * ab, w_base_ + (j * kWSlotsPerMxu + ws) * plan_.w_slot, c_addr, m, tn, tk,
                 ks > p.ks_begin, wdt);
          release(c, wr, ws, mxu(j), sems_.w_free(j, ws));
          ++ks;
          if (ks < p.ks_end) continue;
          // The piece is done: a whole tile goes to dma0, a partial sum to the vector unit.
          const bool whole = pieces_of_tile[p.tile] == 1;
          signal(c, mxu(j), whole ? sems_.c_ready(j, cs) : sems_.r_ready(j, cs));
          if (whole) {
            wait(c, dma0(), sems_.c_ready(j, cs));
            store(c, 0, c_addr, y_hbm + n0 * ab, m, tn * ab, n * ab);
            release(c, cr, cs, dma0(), sems_.c_free(j, cs));
          } else {
            cr.held[static_cast<std::size_t>(cs)] = true;
            auto& parts = partials[p.tile];
            parts.emplace_back(j, cs);
            if (static_cast<int>(parts.size()) == pieces_of_tile[p.tile]) {
              // All pieces in: the vector unit adds them into the first, dma0 stores it.
              const auto [j0, cs0] = parts.front();
              const std::uint64_t dst = c_base_ + (j0 * plan_.c_slots + cs0) * plan_.c_slot;
              for (const auto& [pj, pcs] : parts) wait(c, vpu(), sems_.r_ready(pj, pcs));
              for (std::size_t i = 1; i < parts.size(); ++i) {
                vec(c, Opcode::vec_add, dst, c_base_ + (parts[i].first * plan_.c_slots + parts[i].second) * plan_.c_slot,
                    dst, m, tn, adt);
              }
              signal(c, vpu(), SemMap::kVOut);
              wait(c, dma0(), SemMap::kVOut);
              store(c, 0, dst, y_hbm + n0 * ab, m, tn * ab, n * ab);
              for (const auto& [pj, pcs] : parts) {
                Ring& r = c_ring_[static_cast<std::size_t>(c * mxus_ + pj)];
                r.held[static_cast<std::size_t>(pcs)] = false;
                release(c, r, pcs, dma0(), sems_.c_free(pj, pcs));
              }
            }
          }
          ++pi;
          ks = 0;
        }
        end_step(c);
      }
      for (int j = 0; j < mxus_; ++j) {
        if (!pieces[static_cast<std::size_t>(j)].empty()) release(c, xr, xs0, mxu(j), SemMap::kXFree + xs0);
      }
      end_step(c);
    }
  }

  // Row-wise vector work: rows are split over cores; each core streams blocks of rows through
  // the vector ring: load (dma0) -> vector ops in place -> store (dma0). Input rows are
  // `in_cols` wide, the ops cover `op_cols` of them (swiglu: the gate half), and output rows
  // are `out_cols` wide. `param` (gamma, rope table) is loaded once per core from `aux_hbm`;
  // `second` instead loads a second operand (the residual) from `aux_hbm` beside the first.
  struct RowsSpec {
    std::uint64_t rows = 0, in_cols = 0, op_cols = 0, out_cols = 0;
    std::vector<Opcode> ops;
    std::uint64_t in_hbm = 0, aux_hbm = 0, out_hbm = 0;
    bool param = false, second = false;
  };
  void lower_rows(const RowsSpec& r) {
    const auto dt = graph_.spec.act_dtype;
    const std::uint64_t eb = static_cast<std::uint64_t>(isa::dtype_bytes(dt));
    const std::uint64_t operands = r.second ? 2 : 1;
    // Column chunks when a row is wider than the slot (e.g. logits on a small SRAM).
    const std::uint64_t chunk = std::max<std::uint64_t>(1, std::min(r.in_cols, plan_.v_slot / (operands * eb)));
    const std::uint64_t block_rows =
        std::max<std::uint64_t>(1, std::min<std::uint64_t>(kMaxDim, plan_.v_slot / (operands * chunk * eb)));
    const std::uint64_t per_core = ceil_div(r.rows, static_cast<std::uint64_t>(cores_));
    auto scaled = [&](std::uint64_t cols, std::uint64_t cc) { return std::max<std::uint64_t>(1, ceil_div(cc * cols, r.in_cols)); };
    for (int c = 0; c < cores_; ++c) {
      const std::uint64_t r_begin = std::min(r.rows, c * per_core), r_end = std::min(r.rows, r_begin + per_core);
      if (r_begin >= r_end) continue;
      if (r.param) {
        load(c, 0, r.aux_hbm, p_base_, 1, std::min<std::uint64_t>(plan_.v_slot, 2 * r.op_cols * eb));
        signal(c, dma0(), SemMap::kParamReady);
        wait(c, vpu(), SemMap::kParamReady);
      }
      struct Block {
        std::uint64_t r0, n, c0, cc;
        int slot;
      };
      std::vector<Block> blocks;
      for (std::uint64_t r0 = r_begin; r0 < r_end; r0 += block_rows)
        for (std::uint64_t c0 = 0; c0 < r.in_cols; c0 += chunk)
          blocks.push_back({r0, std::min(block_rows, r_end - r0), c0, std::min(chunk, r.in_cols - c0), 0});
      auto load_block = [&](Block& b) {
        int& next = v_next_[static_cast<std::size_t>(c)];
        b.slot = next;
        next = (next + 1) % 2;
        const std::uint64_t slot_addr = v_base_ + b.slot * plan_.v_slot;
        load(c, 0, r.in_hbm + (b.r0 * r.in_cols + b.c0) * eb, slot_addr, b.n, b.cc * eb, r.in_cols * eb);
        if (r.second) {
          load(c, 0, r.aux_hbm + (b.r0 * r.in_cols + b.c0) * eb, slot_addr + b.n * b.cc * eb, b.n, b.cc * eb,
               r.in_cols * eb);
        }
        signal(c, dma0(), SemMap::kVIn + b.slot);
      };
      auto compute_block = [&](const Block& b) {
        const std::uint64_t slot_addr = v_base_ + b.slot * plan_.v_slot;
        const std::uint64_t src2 = r.second ? slot_addr + b.n * b.cc * eb : r.param ? p_base_ : slot_addr;
        wait(c, vpu(), SemMap::kVIn + b.slot);
        for (Opcode op : r.ops) vec(c, op, slot_addr, src2, slot_addr, b.n, scaled(r.op_cols, b.cc), dt);
        signal(c, vpu(), SemMap::kVOut + b.slot);
        wait(c, dma0(), SemMap::kVOut + b.slot);
        const std::uint64_t oc = scaled(r.out_cols, b.cc), oc0 = b.c0 * r.out_cols / r.in_cols;
        store(c, 0, slot_addr, r.out_hbm + (b.r0 * r.out_cols + oc0) * eb, b.n, oc * eb, r.out_cols * eb);
      };
      load_block(blocks[0]);
      end_step(c);
      for (std::size_t i = 0; i < blocks.size(); ++i) {
        if (i + 1 < blocks.size()) load_block(blocks[i + 1]);
        compute_block(blocks[i]);
        end_step(c);
      }
    }
  }
  RowsSpec rows_spec(std::uint64_t rows, std::uint64_t cols, std::vector<Opcode> ops, std::uint64_t in_hbm,
                     std::uint64_t out_hbm) {
    RowsSpec r;
    r.rows = rows;
    r.in_cols = r.op_cols = r.out_cols = cols;
    r.ops = std::move(ops);
    r.in_hbm = in_hbm;
    r.out_hbm = out_hbm;
    return r;
  }

  // swiglu: each row holds [gate | up] (op.n = 2 x intermediate); silu(gate) * up.
  // gelu: each row is up (op.n = intermediate); gelu(up).
  void lower_activation(const Op& op, std::size_t index) {
    const bool swiglu = graph_.model.mlp == MlpKind::swiglu;
    RowsSpec r = rows_spec(op.m, op.n, swiglu ? std::vector<Opcode>{Opcode::vec_silu, Opcode::vec_mul}
                                              : std::vector<Opcode>{Opcode::vec_gelu},
                           in_addr(index), out_addr(index));
    if (swiglu) r.op_cols = r.out_cols = op.n / 2;
    lower_rows(r);
  }

  // Chips of one pipeline stage: its tensor- or expert-parallel group (1 without either).
  int chips_per_stage() const { return std::max({1, graph_.spec.tp, graph_.spec.ep}); }

  // Blocks of chip-to-chip exchanges must be cut the same way on every chip, whatever SRAM plan
  // each is in at that op: the smaller vector slot of the two plans fits both.
  std::uint64_t exchange_slot() const { return std::min(stream_plan_.v_slot, accumulate_plan_.v_slot); }

  // Tensor-parallel exchange: each core takes a share of the rows and moves them in blocks of a
  // vector slot through engine 0: load, the collective over the links, store. The engine's queue
  // keeps the three in order; every chip issues the same collectives in the same order (SPMD).
  void lower_collective(const Op& op, std::size_t index, Opcode coll) {
    const std::uint64_t eb = static_cast<std::uint64_t>(isa::dtype_bytes(graph_.spec.act_dtype));
    const std::uint64_t row_bytes = op.n * eb;
    // all-gather: each chip contributes its rows; the gathered result is chips times larger.
    const std::uint64_t gather = coll == Opcode::coll_allgather ? static_cast<std::uint64_t>(graph_.spec.tp) : 1;
    const std::uint64_t per_core = ceil_div(op.m, static_cast<std::uint64_t>(cores_));
    const std::uint64_t block = std::max<std::uint64_t>(
        1, std::min<std::uint64_t>(kMaxDim, exchange_slot() / std::max<std::uint64_t>(1, row_bytes * gather)));
    for (int c = 0; c < cores_; ++c) {
      const std::uint64_t r_begin = std::min(op.m, c * per_core), r_end = std::min(op.m, r_begin + per_core);
      for (std::uint64_t r0 = r_begin; r0 < r_end; r0 += block) {
        const std::uint64_t n = std::min(block, r_end - r0);
        load(c, 0, in_addr(index) + r0 * row_bytes, v_base_, n, row_bytes);
        // Tensor-parallel groups inside pipeline stages: the stage's tp chips; otherwise every chip.
        const std::uint64_t group = graph_.spec.pp > 1 ? static_cast<std::uint64_t>(chips_per_stage()) : 0;
        emit(c, coll, {{Field::engine, 0}, {Field::sram_addr, v_base_}, {Field::bytes, n * row_bytes * gather},
                       {Field::tag, next_collective_tag_++ % 65536}, {Field::algo, 0}, {Field::group, group}});
        store(c, 0, v_base_, out_addr(index) + r0 * row_bytes * gather, n, row_bytes * gather);
        end_step(c);
      }
    }
  }

  // Expert-parallel dispatch and combine as explicit transfers sized by the expert load: to group
  // member j, dispatch sends the pairs routed to j's experts (its share of the load), and combine
  // returns the pairs this chip's experts processed for j (this chip's share). Core 0 sends on
  // engine 0 and receives on engine 1, both in member order, so no cycle of waits can form; block b
  // of the exchange has the same tag on the sender and the receiver.
  void lower_expert_exchange(const Op& op, std::size_t index) {
    const auto& spec = graph_.spec;
    const int members = spec.ep;
    const int me = spec.ep_rank;
    const int base = spec.pp > 1 ? spec.pp_rank * chips_per_stage() : 0;
    const int experts = graph_.model.num_experts, local = experts / members;
    std::vector<double> share(static_cast<std::size_t>(members), 1.0 / members);
    if (!spec.expert_load.empty()) {
      double total = 0;
      for (double w : spec.expert_load) total += w;
      for (int j = 0; j < members; ++j) {
        double sum = 0;
        for (int e = j * local; e < (j + 1) * local; ++e) sum += spec.expert_load[static_cast<std::size_t>(e)];
        share[static_cast<std::size_t>(j)] = sum / total;
      }
    }
    const bool dispatch = op.name.size() >= 8 && op.name.compare(op.name.size() - 8, 8, "dispatch") == 0;
    auto rows = [&](int holder) {  // pairs of one chip's tokens handled by `holder`'s experts
      return static_cast<std::uint64_t>(std::llround(static_cast<double>(op.m) * share[static_cast<std::size_t>(holder)]));
    };
    const std::uint64_t eb = static_cast<std::uint64_t>(isa::dtype_bytes(spec.act_dtype));
    const std::uint64_t row_bytes = op.n * eb;
    const std::uint64_t block = std::max<std::uint64_t>(1, std::min<std::uint64_t>(kMaxDim, exchange_slot() / row_bytes));
    const std::uint64_t seq = next_exchange_++;
    const int c = 0;
    auto tag = [&](std::uint64_t b) { return (seq * 512 + b) % 65536; };
    // Sends (engine 0): dispatch to j carries rows(j); combine to j carries rows(me).
    for (int j = 0; j < members; ++j) {
      if (j == me) continue;
      const std::uint64_t n_rows = dispatch ? rows(j) : rows(me);
      for (std::uint64_t r0 = 0, b = 0; r0 < n_rows; r0 += block, ++b) {
        const std::uint64_t n = std::min(block, n_rows - r0);
        load(c, 0, in_addr(index) + r0 * row_bytes, v_base_, n, row_bytes);
        emit(c, Opcode::dma_send, {{Field::engine, 0}, {Field::chip, static_cast<std::uint64_t>(base + j)},
                                   {Field::sram_addr, v_base_}, {Field::bytes, n * row_bytes}, {Field::tag, tag(b)}});
        end_step(c);
      }
    }
    // Receives (engine 1): dispatch from j brings rows(me); combine from j brings rows(j).
    const std::uint64_t recv_slot = v_base_ + plan_.v_slot;
    for (int j = 0; j < members; ++j) {
      if (j == me) continue;
      const std::uint64_t n_rows = dispatch ? rows(me) : rows(j);
      for (std::uint64_t r0 = 0, b = 0; r0 < n_rows; r0 += block, ++b) {
        const std::uint64_t n = std::min(block, n_rows - r0);
        emit(c, Opcode::dma_recv, {{Field::engine, 1}, {Field::chip, static_cast<std::uint64_t>(base + j)},
                                   {Field::sram_addr, recv_slot}, {Field::bytes, n * row_bytes}, {Field::tag, tag(b)}});
        store(c, 1, recv_slot, out_addr(index) + r0 * row_bytes, n, row_bytes);
        end_step(c);
      }
    }
    // The op's outputs are in HBM once engine 1's stores are done: dma0 waits before its "done".
    signal(c, {UnitKind::dma, 1}, SemMap::kExchangeStored);
    wait(c, dma0(), SemMap::kExchangeStored);
    end_step(c);
  }

  // Pipeline stages hand a micro-batch's activations on: each core moves its share of the rows in
  // vector-slot blocks through engine 0, the sender loading and sending, the receiver receiving and
  // storing. The k-th send of a stage pairs with the k-th receive of the next (same tag).
  void lower_pipeline_transfer(const Op& op, std::size_t index) {
    const bool send = op.kind == OpKind::pp_send;
    // Chip = stage x tp + place in the stage's tensor-parallel group; the peer is the same place
    // in the next (or previous) stage.
    const int stage_chips = chips_per_stage();
    const int place = graph_.spec.ep > 1 ? graph_.spec.ep_rank : graph_.spec.tp_rank;
    const int own = graph_.spec.pp_rank * stage_chips + place;
    const std::uint64_t peer = static_cast<std::uint64_t>(own + (send ? stage_chips : -stage_chips));
    const std::uint64_t eb = static_cast<std::uint64_t>(isa::dtype_bytes(graph_.spec.act_dtype));
    const std::uint64_t row_bytes = op.n * eb;
    const std::uint64_t per_core = ceil_div(op.m, static_cast<std::uint64_t>(cores_));
    const std::uint64_t block =
        std::max<std::uint64_t>(1, std::min<std::uint64_t>(kMaxDim, exchange_slot() / std::max<std::uint64_t>(1, row_bytes)));
    for (int c = 0; c < cores_; ++c) {
      const std::uint64_t r_begin = std::min(op.m, c * per_core), r_end = std::min(op.m, r_begin + per_core);
      for (std::uint64_t r0 = r_begin; r0 < r_end; r0 += block) {
        const std::uint64_t n = std::min(block, r_end - r0);
        if (send) {
          load(c, 0, in_addr(index) + r0 * row_bytes, v_base_, n, row_bytes);
          emit(c, Opcode::dma_send, {{Field::engine, 0}, {Field::chip, peer}, {Field::sram_addr, v_base_},
                                     {Field::bytes, n * row_bytes}, {Field::tag, next_send_tag_++ % 65536}});
        } else {
          emit(c, Opcode::dma_recv, {{Field::engine, 0}, {Field::chip, peer}, {Field::sram_addr, v_base_},
                                     {Field::bytes, n * row_bytes}, {Field::tag, next_recv_tag_++ % 65536}});
          store(c, 0, v_base_, out_addr(index) + r0 * row_bytes, n, row_bytes);
        }
        end_step(c);
      }
    }
  }

  // Rows of the embedding table are gathered one token at a time (token ids are data; a fixed
  // stride spreads them over HBM channels like real ids would).
  void lower_embedding(const Op& op, std::size_t index) {
    const std::uint64_t row_bytes = op.n * isa::dtype_bytes(graph_.spec.weight_dtype);
    const std::uint64_t vocab = static_cast<std::uint64_t>(graph_.model.vocab_size);
    const std::uint64_t per_core = ceil_div(op.m, static_cast<std::uint64_t>(cores_));
    const std::uint64_t block = std::max<std::uint64_t>(1, plan_.v_slot / row_bytes);
    for (int c = 0; c < cores_; ++c) {
      const std::uint64_t r_begin = std::min(op.m, c * per_core), r_end = std::min(op.m, r_begin + per_core);
      for (std::uint64_t r0 = r_begin; r0 < r_end; r0 += block) {
        const std::uint64_t n = std::min(block, r_end - r0);
        for (std::uint64_t r = 0; r < n; ++r) {
          const std::uint64_t token = ((r0 + r) * 7919) % vocab;
          load(c, 0, weight_addr_[index] + token * row_bytes, v_base_ + r * row_bytes, 1, row_bytes);
        }
        store(c, 0, v_base_, out_addr(index) + r0 * row_bytes, n, row_bytes);
        end_step(c);
      }
    }
  }

  // k and v of this step's tokens go from the QKV output into the layer's KV cache.
  void lower_kv_append(const Op& op, std::size_t index) {
    const int eb = isa::dtype_bytes(graph_.spec.kv_dtype);
    const std::uint64_t row_bytes = op.n * eb;
    const std::uint64_t per_core = ceil_div(op.m, static_cast<std::uint64_t>(cores_));
    const std::uint64_t block = std::max<std::uint64_t>(1, std::min<std::uint64_t>(kMaxDim, plan_.v_slot / row_bytes));
    const std::uint64_t kv = kv_base_ + static_cast<std::uint64_t>(std::max(0, op.layer - first_layer_)) * kv_layer_bytes_;
    for (int c = 0; c < cores_; ++c) {
      const std::uint64_t r_begin = std::min(op.m, c * per_core), r_end = std::min(op.m, r_begin + per_core);
      for (std::uint64_t r0 = r_begin; r0 < r_end; r0 += block) {
        const std::uint64_t n = std::min(block, r_end - r0);
        load(c, 0, in_addr(index) + r0 * row_bytes, v_base_, n, row_bytes);
        store(c, 0, v_base_, kv + r0 * row_bytes, n, row_bytes);
        end_step(c);
      }
    }
  }

  // Attention, flash style, for a GQA group at a time: the group's query heads (G = heads /
  // kv_heads) and a block of query positions form the M rows; keys/values stream in blocks:
  // S = Q K^T (matrix) -> online softmax (vector) -> O += P V (matrix). Causal prefill skips
  // key blocks after the query block. Decode is the same with one query position.
  void lower_attention(const Op& op, std::size_t index) {
    const auto adt = graph_.spec.act_dtype, kdt = graph_.spec.kv_dtype;
    const int ab = isa::dtype_bytes(adt), kb = isa::dtype_bytes(kdt);
    const std::uint64_t d = static_cast<std::uint64_t>(op.head_dim);
    const std::uint64_t group = static_cast<std::uint64_t>(op.heads / std::max(1, op.kv_heads));
    // Blocks: a key block fits a weight slot (K or V: bk x d); a score slot holds S (rows x bk,
    // fp32) and Q (rows x d); O (rows x d, fp32) an accumulator slot. Among key blocks that are
    // powers of two times the array width (or the whole cache), take the one with the fewest
    // estimated array cycles per query position: long key blocks leave few query rows per
    // matmul, short ones pay a fill per block.
    const auto& mx = chip_.core.matrix;
    const std::uint64_t max_bk = std::max<std::uint64_t>(1, std::min<std::uint64_t>(kMaxDim, plan_.w_slot / (d * kb)));
    auto rows_for = [&](std::uint64_t bk_c) {
      std::uint64_t r = std::max<std::uint64_t>(group, plan_.s_slot / (bk_c * isa::kAccumulatorBytes + d * ab));
      return std::min<std::uint64_t>({r, plan_.c_slot / (d * isa::kAccumulatorBytes), kMaxDim});
    };
    auto best_orientation = [&](std::uint64_t m, std::uint64_t n, std::uint64_t k) {
      return std::min(timing::matmul_cycles(mx, kdt, m, n, k), timing::matmul_cycles(mx, kdt, n, m, k));
    };
    std::vector<std::uint64_t> candidates;
    for (std::uint64_t c = static_cast<std::uint64_t>(mx.cols); c < max_bk; c *= 2) candidates.push_back(c);
    candidates.push_back(max_bk);
    std::uint64_t bk = 0, bq = 0;
    double best_cost = std::numeric_limits<double>::infinity();
    for (std::uint64_t bk_c : candidates) {
      bk_c = std::min<std::uint64_t>(bk_c, op.kv_len);
      std::uint64_t bq_c = std::min<std::uint64_t>(std::max<std::uint64_t>(1, rows_for(bk_c) / group), op.q_len);
      if (op.causal && bq_c > bk_c) bq_c = bk_c;
      const std::uint64_t rows = bq_c * group;
      // Per query position: a (causal: half a) sweep over the keys, two matmuls per key block.
      // A causal sweep covers half the blocks plus the diagonal one. Each block also costs its
      // dozen instructions of issue, DMA setup and semaphore hand-offs (~200 cycles).
      const double full = static_cast<double>(ceil_div(op.kv_len, bk_c));
      const double blocks = op.causal ? (full + 1.0) / 2.0 : full;
      const double per_block =
          static_cast<double>(best_orientation(rows, bk_c, d) + best_orientation(rows, d, bk_c)) + 200.0;
      const double cost = blocks * per_block / static_cast<double>(bq_c);
      if (cost < best_cost) {
        best_cost = cost;
        bk = bk_c;
        bq = bq_c;
      }
    }
    const std::uint64_t q_blocks = ceil_div(op.q_len, bq);
    const std::uint64_t kv_cache =
        kv_base_ + static_cast<std::uint64_t>(std::max(0, op.layer - first_layer_)) * kv_layer_bytes_;
    const std::uint64_t kv_head_bytes = op.kv_len * d * kb;  // K (or V) of one head of one sequence
    struct Item {
      std::uint64_t b, h, qb;
    };
    const int workers = cores_ * mxus_;
    std::vector<std::vector<Item>> per_worker(static_cast<std::size_t>(workers));
    std::uint64_t item_index = 0;
    for (std::uint64_t b = 0; b < static_cast<std::uint64_t>(op.batch); ++b)
      for (std::uint64_t h = 0; h < static_cast<std::uint64_t>(op.kv_heads); ++h)
        for (std::uint64_t qb = 0; qb < q_blocks; ++qb) per_worker[item_index++ % workers].push_back({b, h, qb});
    // Per core, each round gives every matrix unit its next item; key blocks of the round's
    // items are emitted interleaved (block 0 of every unit, then block 1, ...) so the core's one
    // vector unit serves the units' softmaxes in turn instead of one item after another.
    struct Live {
      int j;
      Item it;
      std::uint64_t q0, nq, rows, kv_end, blocks;
      int os;
      std::uint64_t o_addr, q_addr, s_addr;
    };
    for (int c = 0; c < cores_; ++c) {
      std::size_t rounds = 0;
      for (int j = 0; j < mxus_; ++j) rounds = std::max(rounds, per_worker[static_cast<std::size_t>(j * cores_ + c)].size());
      for (std::size_t r = 0; r < rounds; ++r) {
        std::vector<Live> live;
        for (int j = 0; j < mxus_; ++j) {
          const auto& items = per_worker[static_cast<std::size_t>(j * cores_ + c)];
          if (r >= items.size()) continue;
          Live l;
          l.j = j;
          l.it = items[r];
          l.q0 = l.it.qb * bq;
          l.nq = std::min(bq, op.q_len - l.q0);
          l.rows = l.nq * group;  // M of both matmuls
          l.kv_end = op.causal ? std::min<std::uint64_t>(op.kv_len, l.q0 + l.nq) : op.kv_len;
          l.blocks = ceil_div(l.kv_end, bk);
          // The running output O takes an accumulator slot; Q (rows x d) sits after the scores in
          // the unit's score slot and is reloaded once the previous item's last S matmul is done.
          Ring& cr = c_ring_[static_cast<std::size_t>(c * mxus_ + j)];
          l.os = acquire(c, cr, mxu(j), sems_.c_free(j, 0));
          l.o_addr = c_base_ + (j * plan_.c_slots + l.os) * plan_.c_slot;
          l.s_addr = s_base_ + j * plan_.s_slot;
          l.q_addr = l.s_addr + l.rows * bk * isa::kAccumulatorBytes;
          if (q_used_[static_cast<std::size_t>(c * mxus_ + j)]) wait(c, dma0(), sems_.q_free(j));
          q_used_[static_cast<std::size_t>(c * mxus_ + j)] = true;
          const std::uint64_t q_hbm = in_addr(index) + ((l.it.b * op.q_len + l.q0) * op.heads + l.it.h * group) * d * ab;
          load(c, 0, q_hbm, l.q_addr, l.nq, group * d * ab, static_cast<std::uint64_t>(op.heads) * d * ab);
          signal(c, dma0(), sems_.q_ready(j));
          wait(c, mxu(j), sems_.q_ready(j));
          live.push_back(l);
        }
        end_step(c);
        std::uint64_t max_blocks = 0;
        for (const auto& l : live) max_blocks = std::max(max_blocks, l.blocks);
        for (std::uint64_t kb_i = 0; kb_i < max_blocks; ++kb_i) {
          for (const auto& l : live) {
            if (kb_i >= l.blocks) continue;
            const int j = l.j;
            Ring& wr = w_ring_[static_cast<std::size_t>(c * mxus_ + j)];
            const std::uint64_t k0 = kb_i * bk, nk = std::min(bk, l.kv_end - k0);
            const std::uint64_t head_base = kv_cache + (l.it.b * op.kv_heads + l.it.h) * 2 * kv_head_bytes;
            // K block (loaded transposed: the engine writes it d x nk for the matrix unit), V block.
            const auto [ks, ek] = acquire_weight_slot(c, j);
            load(c, ek, head_base + k0 * d * kb, w_base_ + (j * kWSlotsPerMxu + ks) * plan_.w_slot, 1, nk * d * kb);
            signal(c, {UnitKind::dma, ek}, sems_.w_ready(j, ks));
            const auto [vs, ev] = acquire_weight_slot(c, j);
            load(c, ev, head_base + kv_head_bytes + k0 * d * kb, w_base_ + (j * kWSlotsPerMxu + vs) * plan_.w_slot, 1,
                 nk * d * kb);
            signal(c, {UnitKind::dma, ev}, sems_.w_ready(j, vs));
            // S = Q K^T.
            wait(c, mxu(j), sems_.w_ready(j, ks));
            oriented_matmul(c, j, l.q_addr, w_base_ + (j * kWSlotsPerMxu + ks) * plan_.w_slot, l.s_addr, l.rows, nk, d,
                            false, kdt);
            release(c, wr, ks, mxu(j), sems_.w_free(j, ks));
            signal(c, mxu(j), sems_.s_ready(j));
            // Online softmax of the block, and the rescale of the running output.
            wait(c, vpu(), sems_.s_ready(j));
            vec(c, Opcode::vec_softmax, l.s_addr, 0, l.s_addr, l.rows, nk, adt);
            if (kb_i > 0) vec(c, Opcode::vec_mul, l.o_addr, l.s_addr, l.o_addr, l.rows, d, adt);
            signal(c, vpu(), sems_.p_ready(j));
            // O += P V.
            wait(c, mxu(j), sems_.p_ready(j));
            wait(c, mxu(j), sems_.w_ready(j, vs));
            oriented_matmul(c, j, l.s_addr, w_base_ + (j * kWSlotsPerMxu + vs) * plan_.w_slot, l.o_addr, l.rows, d, nk,
                            kb_i > 0, kdt);
            release(c, wr, vs, mxu(j), sems_.w_free(j, vs));
          }
          end_step(c);
        }
        for (const auto& l : live) {
          const int j = l.j;
          signal(c, mxu(j), sems_.q_free(j));
          signal(c, mxu(j), sems_.c_ready(j, l.os));
          wait(c, dma0(), sems_.c_ready(j, l.os));
          store(c, 0, l.o_addr, out_addr(index) + ((l.it.b * op.q_len + l.q0) * op.heads + l.it.h * group) * d * ab,
                l.nq, group * d * ab, static_cast<std::uint64_t>(op.heads) * d * ab);
          release(c, c_ring_[static_cast<std::size_t>(c * mxus_ + j)], l.os, dma0(), sems_.c_free(j, l.os));
        }
        end_step(c);
      }
    }
  }

  // Mixture of experts, all experts on this chip: each expert's MLP runs on the tokens routed to
  // it (uniform routing: tokens x top-k / experts each), then outputs are combined.
  void lower_moe(const Op& op, std::size_t index) {
    const auto wdt = graph_.spec.weight_dtype;
    const int wb = isa::dtype_bytes(wdt);
    const std::uint64_t experts = static_cast<std::uint64_t>(op.experts);
    const std::uint64_t routed = op.m * op.experts_per_token;
    const std::uint64_t hidden = op.k, inter = op.n;
    const bool swiglu = graph_.model.mlp == MlpKind::swiglu;
    const std::uint64_t up_cols = swiglu ? 2 * inter : inter;
    std::uint64_t w = weight_addr_[index];
    for (std::uint64_t e = 0; e < experts; ++e) {
      // Routed pairs of this expert: given by the graph (expert load), else spread uniformly.
      const std::uint64_t tokens = op.expert_tokens.empty() ? routed / experts + (e < routed % experts ? 1 : 0)
                                                            : op.expert_tokens[e];
      if (tokens == 0) {
        w += (hidden * up_cols + inter * hidden) * wb;
        continue;
      }
      lower_linear(tokens, up_cols, hidden, in_addr(index), w, out_addr(index), wdt);
      w += hidden * up_cols * wb;
      RowsSpec act = rows_spec(tokens, up_cols, swiglu ? std::vector<Opcode>{Opcode::vec_silu, Opcode::vec_mul}
                                                       : std::vector<Opcode>{Opcode::vec_gelu},
                               out_addr(index), out_addr(index));
      if (swiglu) act.op_cols = act.out_cols = inter;
      lower_rows(act);
      lower_linear(tokens, hidden, inter, out_addr(index), w, out_addr(index), wdt);
      w += inter * hidden * wb;
    }
    // Weighted sum of each token's expert outputs.
    RowsSpec combine = rows_spec(op.m, hidden * op.experts_per_token, {Opcode::vec_mul, Opcode::vec_add},
                                 out_addr(index), out_addr(index));
    combine.out_cols = hidden;
    lower_rows(combine);
  }

  const StepGraph& graph_;
  const ChipConfig& chip_;
  SramPlan plan_;
  SramPlan stream_plan_ = plan_sram(chip_);
  SramPlan accumulate_plan_ = plan_sram_accumulate(chip_);
  SemMap sems_;
  int cores_ = 1, mxus_ = 1, engines_ = 1;
  isa::Program prog_;
  std::uint32_t tag_ = 0;
  std::uint64_t next_collective_tag_ = 1;
  bool first_op_ = true;
  std::vector<CoreStream> streams_;
  std::vector<Ring> x_ring_, w_ring_, c_ring_;
  std::vector<int> v_next_, c_slot_of_;
  std::vector<bool> q_used_;  // per unit: a Q was loaded before (the next load waits q_free)
  std::uint64_t x_base_ = 0, w_base_ = 0, c_base_ = 0, s_base_ = 0, v_base_ = 0, p_base_ = 0;
  std::vector<std::uint64_t> weight_addr_;
  std::map<std::string, std::uint64_t> weight_by_name_;
  int first_layer_ = 0;
  std::uint64_t next_send_tag_ = 1, next_recv_tag_ = 1;  // pipeline: k-th send pairs with k-th recv
  std::uint64_t next_exchange_ = 1;  // expert exchanges, in the same order on every chip
  std::uint64_t hbm_next_ = 0, kv_base_ = 0, kv_layer_bytes_ = 0, arena_base_ = 0, arena_slot_ = 0;
};

}  // namespace

namespace {
std::uint64_t share_slot(const ChipConfig& chip, double share, std::uint64_t count) {
  const double cap = static_cast<double>(chip.core.sram.capacity_bytes);
  return std::max<std::uint64_t>(256, static_cast<std::uint64_t>(cap * share / count) / 256 * 256);
}
}  // namespace

SramPlan plan_sram(const ChipConfig& chip) {
  // Streaming: activations 15% (2 slots), weights 25% (3 per matrix unit), accumulators 30% (2
  // per unit), attention scores 15% (1 per unit), vector blocks 10% (2 slots), parameters 5%.
  const std::uint64_t mx = static_cast<std::uint64_t>(chip.core.matrix.count);
  SramPlan p;
  p.kind = SramPlan::Kind::stream;
  p.c_slots = 2;
  p.x_slot = share_slot(chip, 0.15, 2);
  p.w_slot = share_slot(chip, 0.25, kWSlotsPerMxu * mx);
  p.c_slot = share_slot(chip, 0.30, 2 * mx);
  p.s_slot = share_slot(chip, 0.15, mx);
  p.v_slot = share_slot(chip, 0.10, 2);
  return p;
}

SramPlan plan_sram_accumulate(const ChipConfig& chip) {
  // Accumulating (matmuls with many rows): one large fp32 accumulator per matrix unit, 61%, so a
  // weight-stationary array streams thousands of rows per fold (its fill and drain amortized);
  // activations 25% (2 slots), weights 10%, vector blocks and parameters 4%; no score slots.
  const std::uint64_t mx = static_cast<std::uint64_t>(chip.core.matrix.count);
  SramPlan p;
  p.kind = SramPlan::Kind::accumulate;
  p.c_slots = 1;
  p.x_slot = share_slot(chip, 0.25, 2);
  p.w_slot = share_slot(chip, 0.10, kWSlotsPerMxu * mx);
  p.c_slot = share_slot(chip, 0.61, mx);
  p.s_slot = 0;
  p.v_slot = share_slot(chip, 0.04, 3);
  return p;
}

LinearTiling choose_linear_tiling(const ChipConfig& chip, const SramPlan& plan, std::uint64_t m, std::uint64_t n,
                                  std::uint64_t k, isa::DType act_dtype, isa::DType weight_dtype) {
  const auto& mx = chip.core.matrix;
  const int ab = isa::dtype_bytes(act_dtype), wb = isa::dtype_bytes(weight_dtype);
  const std::uint64_t workers = static_cast<std::uint64_t>(chip.cores) * mx.count;
  const double hbm_per_core = chip.hbm.peak_gbps() / chip.clock_ghz / chip.cores;  // bytes per cycle
  const std::uint64_t f = static_cast<std::uint64_t>(mx.macs_per_pe_per_cycle[static_cast<int>(weight_dtype)]);
  LinearTiling best;
  best.estimated_cycles = std::numeric_limits<double>::infinity();
  // Candidates: array-multiple tiles in powers of two, clipped to the op and the slots.
  for (std::uint64_t tn = static_cast<std::uint64_t>(mx.cols); ; tn *= 2) {
    const std::uint64_t tn_eff = std::min(tn, n);
    for (std::uint64_t tk = static_cast<std::uint64_t>(mx.rows) * f; ; tk *= 2) {
      const std::uint64_t tk_eff = std::min({tk, k, kMaxDim});
      if (tk_eff * tn_eff * wb > plan.w_slot) break;
      std::uint64_t mb = std::min<std::uint64_t>(m, kMaxDim);
      mb = std::min(mb, plan.x_slot / (tk_eff * ab));
      mb = std::min(mb, plan.c_slot / (tn_eff * isa::kAccumulatorBytes));
      if (mb >= 1) {
        // Equal m-blocks: a short last block would pay a whole fill and drain for few rows.
        const std::uint64_t m_blocks = ceil_div(m, mb);
        mb = ceil_div(m, m_blocks);
        const std::uint64_t n_tiles = ceil_div(n, tn_eff), k_steps = ceil_div(k, tk_eff);
        const std::uint64_t tiles_per_worker = ceil_div(n_tiles, workers);
        const std::uint64_t groups_per_core = ceil_div(n_tiles, static_cast<std::uint64_t>(chip.cores) * mx.count);
        // A matmul takes its array cycles or the time its operands and fp32 accumulator
        // (read and written) need through one SRAM port, whichever is longer.
        const double port_bytes = static_cast<double>((mb * tk_eff + tk_eff * tn_eff) * wb +
                                                      2 * mb * tn_eff * isa::kAccumulatorBytes);
        const double per_matmul = std::max(static_cast<double>(timing::matmul_cycles(mx, weight_dtype, mb, tn_eff, tk_eff)),
                                           port_bytes / chip.core.sram.bytes_per_cycle_per_port);
        const double compute = static_cast<double>(m_blocks * tiles_per_worker * k_steps) * per_matmul;
        const double bytes_per_core = static_cast<double>(k * n * wb) / chip.cores * m_blocks +
                                      static_cast<double>(m * k * ab) * groups_per_core +
                                      static_cast<double>(m * n * ab) / chip.cores;
        const double steps = static_cast<double>(m_blocks * groups_per_core * k_steps);
        const double est = std::max(compute, bytes_per_core / hbm_per_core) + steps * 60.0;
        if (est < best.estimated_cycles) best = {mb, tn_eff, tk_eff, est};
      }
      if (tk_eff >= k || tk_eff >= kMaxDim) break;
    }
    if (tn_eff >= n || tn >= kMaxDim) break;
  }
  if (best.mb == 0) {
    throw Error(fmt::format("a {}x{}x{} matmul has no tile that fits this architecture's SRAM slots "
                            "(weight slot {} bytes)", m, n, k, plan.w_slot));
  }
  return best;
}

isa::Program lower_step(const StepGraph& graph, const ChipConfig& chip, LoweringStats* stats) {
  Lowerer lowerer(graph, chip);
  isa::Program prog = lowerer.run();
  if (stats) {
    stats->instructions = prog.instructions.size();
    int max_sem = 0;
    for (const auto& inst : prog.instructions) {
      if (inst.has(Field::sem)) max_sem = std::max(max_sem, static_cast<int>(inst.get(Field::sem)) + 1);
    }
    stats->semaphores_used = max_sem;
  }
  return prog;
}

}  // namespace tasim::workloads
