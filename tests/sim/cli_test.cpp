// End-to-end tests of every tasim command through the real executable.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>

#include "cli_util.h"

using namespace tasim::testing;

namespace {

// Parses the JSON the tool wrote (JSON is valid YAML for yaml-cpp).
YAML::Node parse_json(const std::string& text) { return YAML::Load(text); }

}  // namespace

TEST_CASE("tasim --help lists the commands and an unknown command is an error", "[cli]") {
  auto r = run_tasim("--help");
  CHECK(r.exit_code == 0);
  for (const char* c : {"run", "gemm", "asm", "disasm", "validate", "presets", "arch"}) {
    CHECK_THAT(r.output, Catch::Contains(std::string("  ") + c));
  }
  r = run_tasim("frobnicate");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("unknown command 'frobnicate'"));
}

TEST_CASE("tasim presets lists the single-chip presets", "[cli]") {
  const auto r = run_tasim("presets");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("sohu-like"));
  CHECK_THAT(r.output, Catch::Contains("tpu-v4-like"));
  CHECK_THAT(r.output, Catch::Contains("small"));
}

TEST_CASE("tasim presets lists the 8-chip servers and tasim run simulates one of their chips", "[cli][system]") {
  const auto r = run_tasim("presets");
  REQUIRE(r.exit_code == 0);
  for (const char* name : {"h100-like-8x", "sohu-like-8x"}) {
    INFO(name);
    const auto at = r.output.find(std::string(name) + " ");
    REQUIRE(at != std::string::npos);
    const std::string line = r.output.substr(at, r.output.find('\n', at) - at);
    CHECK_THAT(line, Catch::Contains("8 chips, switch 450 GB/s/dir per chip"));
  }
  CHECK_THAT(r.output, Catch::Contains("bf16 989 TFLOP/s, fp8 1979 TFLOP/s, HBM 3.35 TB/s, 80 GiB"));
  // The effective configuration of a preset with a base has every key and no base.
  const auto arch = run_tasim("arch --arch sohu-like-8x", true);
  REQUIRE(arch.exit_code == 0);
  const YAML::Node y = YAML::Load(arch.output);
  CHECK_FALSE(y["base"]);
  CHECK(y["system"]["chips"].as<int>() == 8);
  CHECK(y["system"]["topology"].as<std::string>() == "switch");
  CHECK(y["core"]["matrix"]["rows"].as<int>() == 256);
  // A step runs on one chip of the system (the multi-chip compiler comes with issue 4).
  const auto run = run_tasim("run --arch h100-like-8x --model gpt-style-1b --batch 8 --context-len 256 --json -", true);
  REQUIRE(run.exit_code == 0);
  const YAML::Node j = parse_json(run.output);
  CHECK(j["arch"].as<std::string>() == "h100-like-8x");
  CHECK(j["cycles"].as<std::uint64_t>() > 0);
  CHECK(j["hbm_bandwidth_gbps"].as<double>() <= j["hbm_peak_gbps"].as<double>());
}

TEST_CASE("tasim asm and disasm round-trip an example byte for byte", "[cli][isa]") {
  const std::string bin1 = build_path("cli_rt1.bin"), bin2 = build_path("cli_rt2.bin");
  const std::string txt = build_path("cli_rt.tasm");
  REQUIRE(run_tasim("asm " + source_path("isa/examples/gemm_tile.tasm") + " -o " + bin1).exit_code == 0);
  REQUIRE(run_tasim("disasm " + bin1 + " -o " + txt).exit_code == 0);
  REQUIRE(run_tasim("asm " + txt + " -o " + bin2).exit_code == 0);
  const std::string a = read_file(bin1), b = read_file(bin2);
  REQUIRE(!a.empty());
  CHECK(a == b);
}

TEST_CASE("tasim run reports cycles, utilization and HBM traffic as JSON", "[cli][run]") {
  const auto r = run_tasim("run --arch small --program " + source_path("isa/examples/gemm_tile.tasm") + " --json -", true);
  REQUIRE(r.exit_code == 0);
  const YAML::Node j = parse_json(r.output);
  CHECK(j["cycles"].as<std::uint64_t>() > 0);
  CHECK(j["seconds"].as<double>() > 0);
  CHECK(j["hbm_bytes"].as<std::uint64_t>() > 0);
  CHECK(j["flops"].as<std::uint64_t>() > 0);
  for (const char* kind : {"matrix", "vector", "dma", "hbm"}) {
    const double u = j["utilization"][kind].as<double>();
    CHECK(u >= 0.0);
    CHECK(u <= 1.0);
  }
  // Achieved bandwidth never above peak.
  CHECK(j["hbm_bandwidth_gbps"].as<double>() <= j["hbm_peak_gbps"].as<double>());
}

TEST_CASE("tasim run gives byte-identical JSON and traces for the same inputs", "[cli][run][determinism]") {
  const std::string prog = source_path("isa/examples/gemm_tile.tasm");
  for (const char* fmt_name : {"perfetto", "json"}) {
    std::string outs[2], traces[2];
    for (int i = 0; i < 2; ++i) {
      const std::string json = build_path(fmt::format("det_{}_{}.json", fmt_name, i));
      const std::string trace = build_path(fmt::format("det_{}_{}.trace", fmt_name, i));
      REQUIRE(run_tasim(fmt::format("run --arch small --program {} --json {} --trace {} --trace-format {}", prog, json,
                                    trace, fmt_name))
                  .exit_code == 0);
      outs[i] = read_file(json);
      traces[i] = read_file(trace);
    }
    CHECK(!outs[0].empty());
    CHECK(outs[0] == outs[1]);
    CHECK(!traces[0].empty());
    CHECK(traces[0] == traces[1]);
  }
}

TEST_CASE("tasim run rejects bad input with one clear line and exit 2", "[cli][errors]") {
  const std::string bad = build_path("cli_bad.tasm");
  write_text(bad, "matmul m=16 n=16 k=16 a_addr=0 b_addr=0 c_addr=0\nfrobnicate x=1\n");
  auto r = run_tasim("run --arch small --program " + bad);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("cli_bad.tasm:2"));
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);

  r = run_tasim("run --arch small --program /nonexistent/p.tasm");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("/nonexistent/p.tasm"));

  r = run_tasim("run --arch no-such-arch --program " + source_path("isa/examples/gemm_tile.tasm"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("no-such-arch"));

  r = run_tasim("run --arch small --set core.matrx.rows=4 --program " + source_path("isa/examples/gemm_tile.tasm"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("core.matrix"));

  r = run_tasim("run --arch small --bogus-flag");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("bogus-flag"));

  // An SRAM overflow is caught by the validator before simulation.
  write_text(bad, "dma.load hbm_addr=0 sram_addr=0xFFF00 rows=1 row_bytes=4096\nhalt\n");
  r = run_tasim("run --arch small --program " + bad);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("cli_bad.tasm:1"));
  CHECK_THAT(r.output, Catch::Contains("SRAM"));
}

TEST_CASE("tasim run reports a deadlock and exits non-zero", "[cli][deadlock]") {
  const std::string prog = build_path("cli_deadlock.tasm");
  write_text(prog, "sem.wait unit=mxu0 sem=2\nsem.signal unit=mxu0 sem=2\nhalt\n");
  const auto r = run_tasim("run --arch small --program " + prog);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("deadlock"));
  CHECK_THAT(r.output, Catch::Contains("core0.mxu0 waits on semaphore 2"));
  CHECK_THAT(r.output, Catch::Contains("cli_deadlock.tasm:1"));
}

TEST_CASE("tasim gemm with ideal memory matches SCALE-Sim's formula", "[cli][gemm]") {
  const auto r = run_tasim("gemm --arch small --m 100 --n 70 --k 50 --rows 16 --cols 8 --dataflow os --ideal-memory --json -", true);
  REQUIRE(r.exit_code == 0);
  const YAML::Node j = parse_json(r.output);
  // os maps M to rows, N to columns and streams K: ceil(100/16) * ceil(70/8) = 7 * 9 folds of
  // R + C + K - 2 = 72 cycles; SCALE-Sim counts to the 0-based cycle of the last write (-1).
  CHECK(j["cycles"].as<std::uint64_t>() == 7 * 9 * 72 - 1);
  const double u = j["utilization"]["matrix"].as<double>();
  CHECK(u == Approx(100.0 * 70 * 50 / ((7.0 * 9 * 72 - 1) * 16 * 8)));
}

TEST_CASE("tasim gemm through HBM is slower than with ideal memory and stays above the roofline", "[cli][gemm]") {
  const auto ideal = run_tasim("gemm --arch small --m 512 --n 512 --k 512 --ideal-memory --json -", true);
  const auto real = run_tasim("gemm --arch small --m 512 --n 512 --k 512 --json -", true);
  REQUIRE(ideal.exit_code == 0);
  REQUIRE(real.exit_code == 0);
  const YAML::Node ji = parse_json(ideal.output), jr = parse_json(real.output);
  CHECK(jr["cycles"].as<std::uint64_t>() > ji["cycles"].as<std::uint64_t>());
  CHECK(jr["flops"].as<std::uint64_t>() == 2ull * 512 * 512 * 512);
  // Roofline: no faster than HBM bytes at peak bandwidth nor FLOPs at peak compute.
  const double seconds = jr["seconds"].as<double>();
  CHECK(seconds >= jr["hbm_bytes"].as<double>() / (jr["hbm_peak_gbps"].as<double>() * 1e9));
  CHECK(jr["utilization"]["matrix"].as<double>() <= 1.0);
  CHECK(jr["stall_cycles"]["semaphore"].as<std::uint64_t>() > 0);
}

TEST_CASE("tasim gemm rejects a non-positive size", "[cli][gemm][errors]") {
  const auto r = run_tasim("gemm --m 0 --n 4 --k 4");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("--m 0 must be >= 1"));
}

TEST_CASE("tasim validate reports every problem with file:line", "[cli][validate]") {
  const std::string prog = build_path("cli_validate.tasm");
  write_text(prog, "matmul mxu=9 m=16 n=16 k=16 a_addr=0 b_addr=0 c_addr=0\nsem.wait unit=dma0 sem=5\nhalt\n");
  const auto r = run_tasim("validate --arch small " + prog);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("cli_validate.tasm:1"));
  CHECK_THAT(r.output, Catch::Contains("cli_validate.tasm:2"));
  const auto ok = run_tasim("validate --arch small " + source_path("isa/examples/gemm_tile.tasm"));
  CHECK(ok.exit_code == 0);
}

TEST_CASE("tasim arch prints YAML that loads back with --set applied", "[cli][arch]") {
  const auto r = run_tasim("arch --arch small --set core.matrix.rows=64", true);
  REQUIRE(r.exit_code == 0);
  const YAML::Node y = YAML::Load(r.output);
  CHECK(y["core"]["matrix"]["rows"].as<int>() == 64);
  const std::string path = build_path("cli_arch.yaml");
  write_text(path, r.output);
  const auto again = run_tasim("arch --arch " + path, true);
  CHECK(again.exit_code == 0);
  CHECK(again.output == r.output);
}

TEST_CASE("output lost to a full disk or a missing folder is an error", "[cli][errors][output]") {
  // Standard output on a full device: the listing is lost, so the command fails.
  auto r = run_command("cd '" + std::string(TASIM_BINARY_DIR) + "' && ./tasim disasm " +
                       source_path("isa/examples/gemm_tile.tasm") + " > /dev/full 2> " + build_path("full.err"));
  CHECK(r.exit_code == 2);
  CHECK(read_file(build_path("full.err")) ==
        "tasim: error: standard output: cannot write the disassembly: No space left on device\n");
  r = run_command("cd '" + std::string(TASIM_BINARY_DIR) + "' && ./tasim presets > /dev/full 2>/dev/null");
  CHECK(r.exit_code == 2);
  r = run_command("cd '" + std::string(TASIM_BINARY_DIR) + "' && ./tasim gemm --arch small --m 64 --n 64 --k 64 " +
                  "--json - > /dev/full 2> " + build_path("full.err"));
  CHECK(r.exit_code == 2);
  CHECK(read_file(build_path("full.err")) ==
        "tasim: error: standard output: cannot write the JSON report: No space left on device\n");
  // A report that could not be written is refused before the simulation, not after it.
  r = run_tasim("run --json " + build_path("no-such-folder/report.json"));
  CHECK(r.exit_code == 2);
  CHECK(r.output == "tasim: error: " + build_path("no-such-folder/report.json") +
                        ": cannot write the JSON report: folder " + build_path("no-such-folder") + " does not exist\n");
}

TEST_CASE("tasim gemm --all-cores: FLOPs and HBM bytes exact, roofline never beaten", "[cli][gemm][all-cores]") {
  auto gemm = [](const std::string& args) {
    const auto r = run_tasim("gemm --all-cores " + args + " --json -", true);
    REQUIRE(r.exit_code == 0);
    return YAML::Load(r.output);
  };
  // One core (small): A, B and C each cross HBM exactly once, whatever the tiling.
  for (const auto& [m, n, k] : std::vector<std::array<int, 3>>{{1, 256, 128}, {64, 64, 64}, {100, 70, 50}, {300, 200, 100}}) {
    CAPTURE(m, n, k);
    const YAML::Node j = gemm(fmt::format("--arch small --m {} --n {} --k {}", m, n, k));
    const std::uint64_t flops = 2ull * m * n * k;
    const std::uint64_t bytes = 2ull * (1ull * m * k + 1ull * k * n + 1ull * m * n);  // bf16
    CHECK(j["gemm_flops"].as<std::uint64_t>() == flops);
    CHECK(j["flops"].as<std::uint64_t>() == flops);  // what the matrix units did
    CHECK(j["min_hbm_bytes"].as<std::uint64_t>() == bytes);
    CHECK(j["hbm_bytes"].as<std::uint64_t>() == bytes);
    CHECK(j["seconds"].as<double>() >= j["roofline_seconds"].as<double>());
    CHECK(j["tflops"].as<double>() == Approx(flops / j["seconds"].as<double>() / 1e12));
  }
  // The whole H200-like chip, bf16 and fp8: the FLOPs exact; never faster than the roofline.
  // Its 60 MiB L2 holds these operands, so the tiles the 33 cores share cross HBM exactly once
  // (A and B read, C written: the minimum); every re-read is an L2 hit. h100-like-8x has no L2:
  // there the cores' re-reads go to HBM.
  for (const char* dtype : {"bf16", "fp8"}) {
    for (const auto& [m, n, k] : std::vector<std::array<int, 3>>{{1, 6144, 4096}, {256, 4096, 4096}, {1000, 1000, 1000}}) {
      CAPTURE(dtype, m, n, k);
      const YAML::Node j = gemm(fmt::format("--arch h200-like --dtype {} --m {} --n {} --k {}", dtype, m, n, k));
      const std::uint64_t ab = std::string(dtype) == "bf16" ? 2 : 1;  // C is written in the input dtype
      CHECK(j["gemm_flops"].as<std::uint64_t>() == 2ull * m * n * k);
      CHECK(j["flops"].as<std::uint64_t>() == 2ull * m * n * k);
      CHECK(j["min_hbm_bytes"].as<std::uint64_t>() == ab * (1ull * m * k + 1ull * k * n + 1ull * m * n));
      CHECK(j["hbm_bytes"].as<std::uint64_t>() == j["min_hbm_bytes"].as<std::uint64_t>());
      CHECK(j["llc_hit_bytes"].as<std::uint64_t>() > 0);
      CHECK(j["seconds"].as<double>() >= j["roofline_seconds"].as<double>());
      CHECK(j["avg_power_w"].as<double>() <= j["power_limit_w"].as<double>());
      const YAML::Node no_l2 = gemm(fmt::format("--arch h100-like-8x --dtype {} --m {} --n {} --k {}", dtype, m, n, k));
      CHECK(no_l2["hbm_bytes"].as<std::uint64_t>() == j["hbm_bytes"].as<std::uint64_t>() + j["llc_hit_bytes"].as<std::uint64_t>());
      CHECK_FALSE(no_l2["llc_hit_bytes"]);
    }
  }
  // A long compute-bound GEMM holds h200-like's 700 W limit: it burns exactly that on average, the
  // hold shows as power stalls, and it runs longer than the same GEMM with the limit lifted.
  const YAML::Node held = gemm("--arch h200-like --m 2048 --n 4096 --k 4096");
  const YAML::Node free = gemm("--arch h200-like --m 2048 --n 4096 --k 4096 --set cost.power_limit_w=0");
  CHECK(held["power_limit_w"].as<double>() == 700.0);
  CHECK(held["avg_power_w"].as<double>() == Approx(700.0).epsilon(1e-3));
  CHECK(held["stall_cycles"]["power"].as<std::uint64_t>() > 0);
  CHECK(held["seconds"].as<double>() > free["seconds"].as<double>());
  CHECK(free["avg_power_w"].as<double>() > 700.0);
  CHECK(held["energy_j"].as<double>() > free["energy_j"].as<double>());  // static power over a longer run
  CHECK_FALSE(free["power_limit_w"]);
  const YAML::Node ideal = gemm("--arch h200-like --m 512 --n 512 --k 512 --ideal-memory");
  CHECK(ideal["roofline_bound"].as<std::string>() == "compute");
  CHECK(ideal["seconds"].as<double>() >= ideal["roofline_seconds"].as<double>());
  CHECK_THAT(run_tasim("gemm --all-cores --arch small --m 8 --n 8 --k 8 --rows 4").output,
             Catch::Matchers::Contains("--all-cores uses the architecture's arrays"));
}

TEST_CASE("a power limit holds over a step whether its layers are simulated or extrapolated", "[cli][power]") {
  auto step = [](const std::string& extra) {
    const auto r = run_tasim("run --arch sohu-like --model llama-3-8b --set cost.power_limit_w=200 --json -" + extra, true);
    REQUIRE(r.exit_code == 0);
    return YAML::Load(r.output);
  };
  // sohu-like has no kernel boundaries: the whole step is one stretch, and its decode would burn
  // about 260 W; at 200 W it is drawn out to exactly its dynamic energy / (200 W - static).
  const YAML::Node reused = step("");
  const YAML::Node exact = step(" --exact");
  CHECK(reused["simulated_layers"].as<int>() < exact["simulated_layers"].as<int>());
  CHECK(reused["seconds"].as<double>() == Approx(exact["seconds"].as<double>()).epsilon(1e-3));
  for (const YAML::Node& j : {reused, exact}) {
    CHECK(j["avg_power_w"].as<double>() <= 200.0);
    CHECK(j["avg_power_w"].as<double>() == Approx(200.0).epsilon(1e-6));
    CHECK(j["stall_cycles"]["power"].as<std::uint64_t>() > 0);
  }
}
