#include "arch/matrix_timing.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/int_math.h"

using tasim::Dataflow;
using tasim::MatrixUnitConfig;
using tasim::isa::DType;
namespace timing = tasim::timing;

namespace {


const Dataflow kDataflows[] = {Dataflow::ws, Dataflow::os, Dataflow::is};

const char* name(Dataflow df) {
  switch (df) {
    case Dataflow::ws: return "ws";
    case Dataflow::os: return "os";
    case Dataflow::is: return "is";
  }
  return "?";
}

Dataflow parse_dataflow(const std::string& s) {
  if (s == "ws") return Dataflow::ws;
  if (s == "os") return Dataflow::os;
  if (s == "is") return Dataflow::is;
  throw std::runtime_error("unknown dataflow '" + s + "'");
}

MatrixUnitConfig mxu(int rows, int cols, Dataflow df) {
  MatrixUnitConfig c;
  c.rows = rows;
  c.cols = cols;
  c.dataflow = df;
  c.macs_per_pe_per_cycle = {1, 2, 2};  // bf16, fp8, int8
  return c;
}

}  // namespace

TEST_CASE("systolic_gemm_cycles equals SCALE-Sim v2 on every reference GEMM", "[matrix_timing]") {
  const std::string path = std::string(TASIM_SOURCE_DIR) + "/tests/data/scalesim_gemm_reference.csv";
  std::ifstream in(path);
  REQUIRE(in.good());

  std::string line;
  bool header_seen = false;
  int cases = 0;
  int line_no = 0;
  std::set<std::string> dataflows;
  std::set<std::pair<int, int>> arrays;
  std::vector<std::string> mismatches;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    if (!header_seen) {
      REQUIRE(line == "dataflow,rows,cols,m,n,k,cycles");
      header_seen = true;
      continue;
    }
    std::istringstream fields(line);
    std::string df, rows, cols, m, n, k, cycles;
    std::getline(fields, df, ',');
    std::getline(fields, rows, ',');
    std::getline(fields, cols, ',');
    std::getline(fields, m, ',');
    std::getline(fields, n, ',');
    std::getline(fields, k, ',');
    std::getline(fields, cycles, ',');
    const std::uint64_t expected = std::stoull(cycles);
    const std::uint64_t got = timing::systolic_gemm_cycles(std::stoi(rows), std::stoi(cols), parse_dataflow(df),
                                                           std::stoull(m), std::stoull(n), std::stoull(k));
    if (got != expected) {
      mismatches.push_back("line " + std::to_string(line_no) + " '" + line + "': formula gives " +
                           std::to_string(got));
    }
    dataflows.insert(df);
    arrays.emplace(std::stoi(rows), std::stoi(cols));
    ++cases;
  }
  std::string report;
  for (const auto& s : mismatches) report += s + "\n";
  INFO(mismatches.size() << " of " << cases << " reference GEMMs differ:\n" << report);
  CHECK(mismatches.empty());
  CHECK(cases >= 300);
  CHECK(dataflows == std::set<std::string>{"ws", "os", "is"});
  CHECK(arrays.size() >= 7);
}

TEST_CASE("hand-derived systolic cycles", "[matrix_timing]") {
  // ws on 8x16, M=13 N=31 K=9: K over rows -> 2 folds, N over cols -> 2 folds;
  // per fold 2*8 + 16 + 13 - 2 = 43; 4 * 43 - 1 = 171 (SCALE-Sim: 171).
  CHECK(timing::systolic_folds(8, 16, Dataflow::ws, 13, 31, 9) == 4);
  CHECK(timing::systolic_gemm_cycles(8, 16, Dataflow::ws, 13, 31, 9) == 171);
  // A single MAC still pays the whole fill/drain of one fold: 2*8 + 16 + 1 - 2 - 1 = 30.
  CHECK(timing::systolic_gemm_cycles(8, 16, Dataflow::ws, 1, 1, 1) == 30);
  // ws 8x16, M=100 N=7 K=64: 8 row folds x 1 col fold of 130 cycles -> 1039 (SCALE-Sim: 1039).
  CHECK(timing::systolic_gemm_cycles(8, 16, Dataflow::ws, 100, 7, 64) == 1039);

  // os on 128x128, one exact fold: K + R + C - 2 - 1 = 128 + 254 - 1.
  CHECK(timing::systolic_folds(128, 128, Dataflow::os, 128, 128, 128) == 1);
  CHECK(timing::systolic_gemm_cycles(128, 128, Dataflow::os, 128, 128, 128) == 381);
  // is on 128x128, one exact fold: 2R + C + N - 2 - 1.
  CHECK(timing::systolic_gemm_cycles(128, 128, Dataflow::is, 128, 128, 128) == 509);
  // One extra element of M makes a second, almost empty, fold that costs as much as a full one.
  CHECK(timing::systolic_gemm_cycles(128, 128, Dataflow::os, 129, 128, 128) == 2 * 382 - 1);
  CHECK(timing::systolic_gemm_cycles(128, 128, Dataflow::is, 129, 128, 128) == 2 * 510 - 1);
  CHECK(timing::systolic_gemm_cycles(128, 128, Dataflow::ws, 129, 128, 128) == 510);  // M is time in ws

  // Fold counts follow each dataflow's mapping (ws: K x N, os: M x N, is: K x M).
  CHECK(timing::systolic_folds(128, 128, Dataflow::ws, 1000, 300, 200) == 2 * 3);
  CHECK(timing::systolic_folds(128, 128, Dataflow::os, 1000, 300, 200) == 8 * 3);
  CHECK(timing::systolic_folds(128, 128, Dataflow::is, 1000, 300, 200) == 2 * 8);
  // Non-square arrays: rows tile the first spatial dimension, columns the second.
  CHECK(timing::systolic_folds(4, 32, Dataflow::os, 33, 33, 1) == 9 * 2);
  CHECK(timing::systolic_folds(32, 4, Dataflow::os, 33, 33, 1) == 2 * 9);

  // 1x1 arrays, M=3 N=2 K=5 (SCALE-Sim: ws 39, is 44).
  CHECK(timing::systolic_gemm_cycles(1, 1, Dataflow::ws, 3, 2, 5) == 39);
  CHECK(timing::systolic_gemm_cycles(1, 1, Dataflow::is, 3, 2, 5) == 44);
  // In os the SCALE-Sim count (30 folds of 5 cycles, minus 1) would undercut the 30 MACs of one PE.
  CHECK(timing::systolic_gemm_cycles(1, 1, Dataflow::os, 3, 2, 5) == 30);
  CHECK(timing::systolic_gemm_cycles(1, 1, Dataflow::os, 1, 1, 1) == 1);

  // Nothing to compute.
  CHECK(timing::systolic_gemm_cycles(8, 8, Dataflow::ws, 0, 5, 5) == 0);
  CHECK(timing::systolic_gemm_cycles(8, 8, Dataflow::os, 5, 0, 5) == 0);
  CHECK(timing::systolic_gemm_cycles(8, 8, Dataflow::is, 5, 5, 0) == 0);
  CHECK(timing::matmul_utilization(mxu(8, 8, Dataflow::ws), DType::bf16, 0, 5, 5) == 0.0);
}

TEST_CASE("matrix unit dtype factor shortens the reduction", "[matrix_timing]") {
  const MatrixUnitConfig unit = mxu(128, 128, Dataflow::ws);
  CHECK(timing::peak_macs_per_cycle(unit, DType::bf16) == 128 * 128);
  CHECK(timing::peak_macs_per_cycle(unit, DType::fp8) == 2 * 128 * 128);
  // fp8 with f = 2 runs K' = ceil(K / 2): K = 257 -> 129.
  CHECK(timing::matmul_cycles(unit, DType::fp8, 512, 256, 257) ==
        timing::systolic_gemm_cycles(128, 128, Dataflow::ws, 512, 256, 129));
  CHECK(timing::matmul_cycles(unit, DType::bf16, 512, 256, 257) ==
        timing::systolic_gemm_cycles(128, 128, Dataflow::ws, 512, 256, 257));
  // Utilization of one exact os fold on the bf16 path: 128^3 / (381 * 128^2).
  const MatrixUnitConfig os_unit = mxu(128, 128, Dataflow::os);
  CHECK(timing::matmul_utilization(os_unit, DType::bf16, 128, 128, 128) == Approx(128.0 / 381.0));
}

TEST_CASE("matrix unit rejects impossible configurations", "[matrix_timing]") {
  CHECK_THROWS_AS(timing::systolic_gemm_cycles(0, 8, Dataflow::ws, 1, 1, 1), tasim::Error);
  CHECK_THROWS_AS(timing::systolic_folds(8, -1, Dataflow::os, 1, 1, 1), tasim::Error);
  MatrixUnitConfig unit = mxu(8, 8, Dataflow::ws);
  unit.macs_per_pe_per_cycle[static_cast<int>(DType::fp8)] = 0;
  CHECK_THROWS_AS(timing::matmul_cycles(unit, DType::fp8, 8, 8, 8), tasim::Error);
  CHECK_THROWS_AS(timing::peak_macs_per_cycle(unit, DType::fp8), tasim::Error);
}

TEST_CASE("systolic timing respects physical invariants", "[matrix_timing]") {
  const std::pair<int, int> arrays[] = {{1, 1}, {2, 3}, {8, 8}, {8, 16}, {16, 8}, {4, 32}, {128, 128}};
  const std::uint64_t sizes[] = {1, 2, 7, 8, 9, 31, 64, 100, 129, 257};
  for (const auto& [rows, cols] : arrays) {
    for (Dataflow df : kDataflows) {
      const MatrixUnitConfig unit = mxu(rows, cols, df);
      for (std::uint64_t m : sizes) {
        for (std::uint64_t n : sizes) {
          for (std::uint64_t k : sizes) {
            INFO(name(df) << " " << rows << "x" << cols << " m=" << m << " n=" << n << " k=" << k);
            const std::uint64_t cycles = timing::systolic_gemm_cycles(rows, cols, df, m, n, k);
            const std::uint64_t pes = static_cast<std::uint64_t>(rows) * cols;
            // Roofline: every MAC needs a PE-cycle.
            REQUIRE(cycles >= tasim::ceil_div(m * n * k, pes));
            // One more element in any dimension never makes the GEMM faster.
            REQUIRE(timing::systolic_gemm_cycles(rows, cols, df, m + 1, n, k) >= cycles);
            REQUIRE(timing::systolic_gemm_cycles(rows, cols, df, m, n + 1, k) >= cycles);
            REQUIRE(timing::systolic_gemm_cycles(rows, cols, df, m, n, k + 1) >= cycles);
            // Folds never below the perfect tiling, and the matrix unit at f = 1 is the bare array.
            REQUIRE(timing::systolic_folds(rows, cols, df, m, n, k) >= 1);
            REQUIRE(timing::matmul_cycles(unit, DType::bf16, m, n, k) == cycles);
            for (DType dt : {DType::bf16, DType::fp8, DType::int8}) {
              const double u = timing::matmul_utilization(unit, dt, m, n, k);
              REQUIRE(u > 0.0);
              REQUIRE(u <= 1.0);
              // With f = 2 the unit is never faster than its doubled roofline.
              const std::uint64_t c = timing::matmul_cycles(unit, dt, m, n, k);
              REQUIRE(c >= tasim::ceil_div(m * n * k, timing::peak_macs_per_cycle(unit, dt)));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("fp8 dot-product PEs beat bf16 on long reductions", "[matrix_timing]") {
  for (Dataflow df : kDataflows) {
    for (const auto& [rows, cols] : {std::pair<int, int>{128, 128}, {8, 16}, {32, 4}}) {
      const MatrixUnitConfig unit = mxu(rows, cols, df);
      for (std::uint64_t k : {1024u, 4096u, 8191u}) {
        INFO(name(df) << " " << rows << "x" << cols << " k=" << k);
        const std::uint64_t bf16 = timing::matmul_cycles(unit, DType::bf16, 512, 256, k);
        const std::uint64_t fp8 = timing::matmul_cycles(unit, DType::fp8, 512, 256, k);
        CHECK(fp8 < bf16);
        CHECK(fp8 >= tasim::ceil_div(512ull * 256 * k, timing::peak_macs_per_cycle(unit, DType::fp8)));
        CHECK(timing::matmul_utilization(unit, DType::fp8, 512, 256, k) <= 1.0);
      }
    }
  }
}

TEST_CASE("a double-buffered stationary operand hides each later fold's load", "[matrix][double_buffered]") {
  using namespace tasim;
  // ws on 16x16, M = 100 streamed, K = 40 (3 row folds), N = 20 (2 column folds): 6 folds.
  const std::uint64_t base = timing::systolic_gemm_cycles(16, 16, Dataflow::ws, 100, 20, 40);
  CHECK(base == 6 * (2 * 16 + 16 + 100 - 2) - 1);
  const std::uint64_t db = timing::systolic_gemm_cycles_double_buffered(16, 16, Dataflow::ws, 100, 20, 40);
  CHECK(db == base - 5 * 16);
  // A stream shorter than the load hides only the stream's length.
  CHECK(timing::systolic_gemm_cycles_double_buffered(16, 16, Dataflow::ws, 4, 20, 40) ==
        timing::systolic_gemm_cycles(16, 16, Dataflow::ws, 4, 20, 40) - 5 * 4);
  // One fold, or output stationary: nothing to overlap.
  CHECK(timing::systolic_gemm_cycles_double_buffered(16, 16, Dataflow::ws, 100, 16, 16) ==
        timing::systolic_gemm_cycles(16, 16, Dataflow::ws, 100, 16, 16));
  CHECK(timing::systolic_gemm_cycles_double_buffered(16, 16, Dataflow::os, 100, 20, 40) ==
        timing::systolic_gemm_cycles(16, 16, Dataflow::os, 100, 20, 40));
  // Never below the array's MAC roofline; matmul_cycles follows the configuration.
  MatrixUnitConfig mxu;
  mxu.rows = mxu.cols = 16;
  mxu.double_buffered = true;
  for (std::uint64_t m : {1ull, 7ull, 300ull}) {
    const std::uint64_t c = timing::matmul_cycles(mxu, isa::DType::bf16, m, 70, 90);
    CHECK(c >= (m * 70 * 90 + 255) / 256);
    CHECK(c == timing::systolic_gemm_cycles_double_buffered(16, 16, Dataflow::ws, m, 70, 90));
  }
}
