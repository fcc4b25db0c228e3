#include "workloads/gemm_lowering.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "common/error.h"
#include "common/int_math.h"
#include "workloads/lowering/emitter.h"

namespace tasim::workloads {

using isa::Field;
using isa::Opcode;

namespace {

constexpr std::uint64_t kMaxTileDim = 65535;  // width of the m/n/k/rows fields
constexpr std::uint64_t kAlign = 4096;


std::uint64_t sram_need(const GemmTiling& t, int elem_bytes) {
  return 2 * (t.tile_m * t.tile_k + t.tile_k * t.tile_n) * elem_bytes +
         2 * t.tile_m * t.tile_n * isa::kAccumulatorBytes;
}

// Semaphores: A/B slot s loaded (0,1), slot s free (2,3), C slot ready (4,5), C slot free (6,7).
constexpr std::uint64_t kLoaded = 0, kFree = 2, kCReady = 4, kCFree = 6;

}  // namespace

GemmTiling choose_gemm_tiling(const ChipConfig& chip, const GemmSpec& gemm) {
  const auto& mxu = chip.core.matrix;
  const int elem = isa::dtype_bytes(gemm.dtype);
  const std::uint64_t capacity = chip.core.sram.capacity_bytes;
  // Start from up to 4 array folds per dimension (long enough to amortize fill/drain), then
  // halve the largest dimension until the double-buffered working set fits.
  GemmTiling t;
  t.tile_m = std::min<std::uint64_t>({gemm.m, 4ull * std::max(mxu.rows, mxu.cols), kMaxTileDim});
  t.tile_n = std::min<std::uint64_t>({gemm.n, 4ull * mxu.cols, kMaxTileDim});
  t.tile_k = std::min<std::uint64_t>({gemm.k, 4ull * mxu.rows, kMaxTileDim});
  while (sram_need(t, elem) > capacity) {
    std::uint64_t* largest = &t.tile_m;
    if (t.tile_n > *largest) largest = &t.tile_n;
    if (t.tile_k > *largest) largest = &t.tile_k;
    if (*largest <= 1) {
      throw Error(fmt::format("GEMM tiles do not fit in {} bytes of SRAM", capacity));
    }
    *largest = (*largest + 1) / 2;
  }
  return t;
}

namespace {

// The GEMM's steps in program order: m-blocks, n-tiles, then the k-steps of each tile.
struct GemmStep {
  std::uint64_t m0, n0, k0, tm, tn, tk;
  bool first_k, last_k;
  std::uint64_t tile_index;
};

std::vector<GemmStep> gemm_steps(const GemmSpec& gemm, const GemmTiling& t) {
  std::vector<GemmStep> steps;
  std::uint64_t tile_index = 0;
  for (std::uint64_t m0 = 0; m0 < gemm.m; m0 += t.tile_m) {
    for (std::uint64_t n0 = 0; n0 < gemm.n; n0 += t.tile_n, ++tile_index) {
      for (std::uint64_t k0 = 0; k0 < gemm.k; k0 += t.tile_k) {
        steps.push_back({m0, n0, k0, std::min(t.tile_m, gemm.m - m0), std::min(t.tile_n, gemm.n - n0),
                         std::min(t.tile_k, gemm.k - k0), k0 == 0, k0 + t.tile_k >= gemm.k, tile_index});
      }
    }
  }
  return steps;
}

class GemmProgram {
 public:
  GemmProgram(const ChipConfig& chip, const GemmSpec& gemm, const GemmTiling& t)
      : gemm_(gemm), elem_(static_cast<std::uint64_t>(isa::dtype_bytes(gemm.dtype))),
        out_(chip, 8, fmt::format("gemm_{}x{}x{}", gemm.m, gemm.n, gemm.k)),
        store_engine_(chip.core.dma.engines > 1 ? 1 : 0), steps_(gemm_steps(gemm, t)) {
    b_hbm_ = align_up(gemm.m * gemm.k * elem_, kAlign);
    c_hbm_ = b_hbm_ + align_up(gemm.k * gemm.n * elem_, kAlign);
    // SRAM layout: A[2], B[2], C[2].
    const std::uint64_t a_tile = t.tile_m * t.tile_k * elem_, b_tile = t.tile_k * t.tile_n * elem_;
    const std::uint64_t c_tile = t.tile_m * t.tile_n * isa::kAccumulatorBytes;
    a_sram_[0] = 0, a_sram_[1] = a_tile;
    b_sram_[0] = 2 * a_tile, b_sram_[1] = 2 * a_tile + b_tile;
    c_sram_[0] = 2 * a_tile + 2 * b_tile, c_sram_[1] = 2 * a_tile + 2 * b_tile + c_tile;
  }

  // Software-pipelined program order: the loads of step i+1 come before the matmul of step i, so
  // the in-order sequencer lets DMA run one step ahead of the matrix unit.
  isa::Program build() {
    emit_loads(0);
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      if (i + 1 < steps_.size()) emit_loads(i + 1);
      emit_compute(i);
    }
    out_.flush();
    isa::Instruction halt;
    halt.op = Opcode::halt;
    out_.push(halt);
    return out_.take_program();
  }

 private:
  void emit_loads(std::size_t i) {
    const GemmStep& s = steps_[i];
    const std::uint64_t slot = i % 2;
    if (i >= 2) out_.wait(0, kLoader, static_cast<int>(kFree + slot));  // the matmul that used this slot is done
    out_.emit(0, Opcode::dma_load, {{Field::engine, 0}, {Field::hbm_addr, (s.m0 * gemm_.k + s.k0) * elem_},
                                    {Field::sram_addr, a_sram_[slot]}, {Field::rows, s.tm},
                                    {Field::row_bytes, s.tk * elem_}, {Field::hbm_stride, gemm_.k * elem_}});
    out_.emit(0, Opcode::dma_load, {{Field::engine, 0}, {Field::hbm_addr, b_hbm_ + (s.k0 * gemm_.n + s.n0) * elem_},
                                    {Field::sram_addr, b_sram_[slot]}, {Field::rows, s.tk},
                                    {Field::row_bytes, s.tn * elem_}, {Field::hbm_stride, gemm_.n * elem_}});
    out_.signal(0, kLoader, static_cast<int>(kLoaded + slot));
  }

  void emit_compute(std::size_t i) {
    const GemmStep& s = steps_[i];
    const std::uint64_t slot = i % 2, cslot = s.tile_index % 2;
    const isa::UnitRef matrix{isa::UnitKind::mxu, 0}, storer{isa::UnitKind::dma, store_engine_};
    out_.wait(0, matrix, static_cast<int>(kLoaded + slot));
    if (s.first_k && s.tile_index >= 2) out_.wait(0, matrix, static_cast<int>(kCFree + cslot));  // C slot stored
    out_.emit(0, Opcode::matmul, {{Field::mxu, 0}, {Field::a_addr, a_sram_[slot]}, {Field::b_addr, b_sram_[slot]},
                                  {Field::c_addr, c_sram_[cslot]}, {Field::m, s.tm}, {Field::n, s.tn}, {Field::k, s.tk},
                                  {Field::acc, s.first_k ? 0u : 1u}, {Field::dtype, static_cast<std::uint64_t>(gemm_.dtype)}});
    out_.signal(0, matrix, static_cast<int>(kFree + slot));
    if (!s.last_k) return;
    out_.signal(0, matrix, static_cast<int>(kCReady + cslot));
    out_.wait(0, storer, static_cast<int>(kCReady + cslot));
    out_.emit(0, Opcode::dma_store, {{Field::engine, static_cast<std::uint64_t>(store_engine_)},
                                     {Field::sram_addr, c_sram_[cslot]},
                                     {Field::hbm_addr, c_hbm_ + (s.m0 * gemm_.n + s.n0) * isa::kAccumulatorBytes},
                                     {Field::rows, s.tm}, {Field::row_bytes, s.tn * isa::kAccumulatorBytes},
                                     {Field::hbm_stride, gemm_.n * isa::kAccumulatorBytes}});
    out_.signal(0, storer, static_cast<int>(kCFree + cslot));
  }

  static constexpr isa::UnitRef kLoader{isa::UnitKind::dma, 0};
  const GemmSpec& gemm_;
  const std::uint64_t elem_;
  lowering::Emitter out_;
  const int store_engine_;
  const std::vector<GemmStep> steps_;
  std::uint64_t b_hbm_ = 0, c_hbm_ = 0;  // A at 0
  std::uint64_t a_sram_[2], b_sram_[2], c_sram_[2];
};

}  // namespace

isa::Program lower_gemm(const ChipConfig& chip, const GemmSpec& gemm) {
  if (gemm.m == 0 || gemm.n == 0 || gemm.k == 0) throw Error("GEMM dimensions must be >= 1");
  // Before any work: the operands must fit HBM (A, B, then fp32 C, each 4 KiB aligned; computed
  // in 128 bits, since 10^6 x 10^6 x 4 bytes overflows nothing but the chip).
  const unsigned __int128 elem = static_cast<unsigned>(isa::dtype_bytes(gemm.dtype));
  const unsigned __int128 need = (static_cast<unsigned __int128>(gemm.m) * gemm.k + static_cast<unsigned __int128>(gemm.k) * gemm.n) * elem +
                                 static_cast<unsigned __int128>(gemm.m) * gemm.n * isa::kAccumulatorBytes + 2 * kAlign;
  if (need > chip.hbm.capacity_bytes) {
    throw Error(fmt::format("a {}x{}x{} GEMM needs {:.4g} GiB of HBM for A, B and C but {} has {:.4g} GiB "
                            "(hbm.capacity_gib)",
                            gemm.m, gemm.n, gemm.k, static_cast<double>(need) / (1ull << 30), chip.name,
                            static_cast<double>(chip.hbm.capacity_bytes) / (1ull << 30)));
  }
  return GemmProgram(chip, gemm, choose_gemm_tiling(chip, gemm)).build();
}

std::uint64_t single_matmul_sram_bytes(const GemmSpec& gemm) {
  const std::uint64_t elem = isa::dtype_bytes(gemm.dtype);
  return gemm.m * gemm.k * elem + gemm.k * gemm.n * elem + gemm.m * gemm.n * isa::kAccumulatorBytes;
}

isa::Program single_matmul_program(const GemmSpec& gemm) {
  if (gemm.m > kMaxTileDim || gemm.n > kMaxTileDim || gemm.k > kMaxTileDim) {
    throw Error(fmt::format("a {}x{}x{} GEMM as one matmul instruction: each dimension must be <= {}", gemm.m, gemm.n,
                            gemm.k, kMaxTileDim));
  }
  const std::uint64_t elem = isa::dtype_bytes(gemm.dtype);
  const std::uint64_t a = gemm.m * gemm.k * elem, b = gemm.k * gemm.n * elem;
  isa::Instruction mm;
  mm.op = Opcode::matmul;
  mm.line = 1;
  mm.set(Field::a_addr, 0);
  mm.set(Field::b_addr, a);
  mm.set(Field::c_addr, a + b);
  mm.set(Field::m, gemm.m);
  mm.set(Field::n, gemm.n);
  mm.set(Field::k, gemm.k);
  mm.set(Field::dtype, static_cast<std::uint64_t>(gemm.dtype));
  isa::Instruction halt;
  halt.op = Opcode::halt;
  halt.line = 2;
  isa::Program program;
  program.source_name = fmt::format("gemm_{}x{}x{}", gemm.m, gemm.n, gemm.k);
  program.instructions = {mm, halt};
  return program;
}

StepGraph whole_chip_gemm_graph(const GemmSpec& gemm) {
  if (gemm.m == 0 || gemm.n == 0 || gemm.k == 0) throw Error("a GEMM needs M, N and K >= 1");
  if (gemm.m > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    throw Error(fmt::format("GEMM M = {} is too large (at most {})", gemm.m, std::numeric_limits<int>::max()));
  }
  StepGraph graph;
  // A model with no layers, heads or vocabulary: the layout reserves no KV cache or embedding,
  // only B (as the op's weights) and the activation arena for A and C.
  graph.model.name = fmt::format("gemm_{}x{}x{}", gemm.m, gemm.n, gemm.k);
  graph.model.model_type = "custom";
  graph.spec.phase = Phase::prefill;
  graph.spec.batch = 1;
  graph.spec.prompt_len = static_cast<int>(gemm.m);
  graph.spec.weight_dtype = graph.spec.act_dtype = graph.spec.kv_dtype = gemm.dtype;
  Op op;
  op.name = "gemm";
  op.kind = OpKind::linear;
  op.shape = MatmulShape{gemm.m, gemm.n, gemm.k, false};
  const std::uint64_t bytes = isa::dtype_bytes(gemm.dtype);
  op.flops = gemm_flops(gemm);
  op.weight_format = plain_weight_format(gemm.dtype);
  op.weight_bytes = gemm.k * gemm.n * bytes;
  op.act_bytes = (gemm.m * gemm.k + gemm.m * gemm.n) * bytes;
  graph.ops.push_back(std::move(op));
  return graph;
}

std::uint64_t gemm_flops(const GemmSpec& gemm) { return 2 * gemm.m * gemm.n * gemm.k; }

std::uint64_t gemm_min_hbm_bytes(const GemmSpec& gemm) {
  return (gemm.m * gemm.k + gemm.k * gemm.n + gemm.m * gemm.n) * isa::dtype_bytes(gemm.dtype);
}

}  // namespace tasim::workloads
