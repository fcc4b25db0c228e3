// Layer reuse (sim/report/layer_reuse.h): the extrapolation itself on made-up runs, and the fast
// path against --exact end to end (each `tasim run` is its own process: SystemC elaborates once).
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iterator>

#include "cli_util.h"
#include "common/error.h"
#include "sim/report/layer_reuse.h"

using namespace tasim;
using namespace tasim::testing;

namespace {

// A run of `ends.size()` simulated layers ending at those cycles, the step ending `tail` later;
// two units, and every layer the same work.
RunStats made_up_run(const std::vector<std::uint64_t>& ends, std::uint64_t tail) {
  RunStats s;
  s.units.resize(2);
  for (std::size_t l = 0; l < ends.size(); ++l) {
    LayerWork w;
    w.seen = true;
    w.end_cycle = ends[l];
    w.instructions = 10;
    w.activity.macs[0] = 1000;
    w.activity.hbm_bytes_read = 4096;
    w.activity.hbm_bytes_written = 512;
    w.activity.sram_bytes_read = 300;
    w.activity.link_bytes = 64;
    w.units.assign(2, UnitCounters{});
    w.units[0].instructions = 6;
    w.units[0].busy_cycles = 70;
    w.units[1].instructions = 4;
    w.units[1].stall_cycles[static_cast<int>(StallReason::semaphore)] = 20;
    w.units[1].ideal_compute_cycles = 2.5;
    s.layers.push_back(w);
    s.instructions += w.instructions;
    s.activity += w.activity;
    s.units[0] += w.units[0];
    s.units[1] += w.units[1];
  }
  s.flops = 2 * s.activity.total_macs();
  s.hbm_bytes_read = s.activity.hbm_bytes_read;
  s.hbm_bytes_written = s.activity.hbm_bytes_written;
  s.sram_bytes_accessed = s.activity.sram_bytes();
  s.cycles = ends.back() + tail;
  return s;
}

}  // namespace

TEST_CASE("layer reuse adds the mean period and the last layer's work for each layer not simulated", "[reuse]") {
  RunStats s = made_up_run({150, 250, 350, 450}, 30);
  const LayerReuse r = extrapolate_layers(s, 10, 4);
  CHECK(r.applied());
  CHECK(r.extrapolated() == 6);
  CHECK(r.period_cycles == 100.0);
  CHECK(r.period_spread == 0.0);
  CHECK(r.steady);
  // The step: layer 0 (with the start), three periods, six more, the tail.
  CHECK(s.cycles == 450 + 6 * 100 + 30);
  // Counts are those of ten layers.
  CHECK(s.instructions == 100);
  CHECK(s.flops == 2 * 1000 * 10);
  CHECK(s.hbm_bytes_read == 4096 * 10);
  CHECK(s.hbm_bytes_written == 512 * 10);
  CHECK(s.sram_bytes_accessed == 300 * 10);
  CHECK(s.activity.link_bytes == 64 * 10);
  CHECK(s.units[0].instructions == 60);
  CHECK(s.units[0].busy_cycles == 700);
  CHECK(s.units[1].stall_cycles[static_cast<int>(StallReason::semaphore)] == 200);
  CHECK(s.units[1].ideal_compute_cycles == Approx(25.0));
}

TEST_CASE("layers that repeat every 2 are extrapolated phase by phase", "[reuse]") {
  // Odd layers (phase 1) take 100 cycles and 10 instructions, even ones (phase 0) 150 and 25.
  RunStats s = made_up_run({150, 250, 400, 500, 650}, 30);
  for (const int l : {2, 4}) {
    s.layers[static_cast<std::size_t>(l)].instructions = 25;
    s.instructions += 15;
  }
  const LayerReuse r = extrapolate_layers(s, 10, 5, 2);
  CHECK(r.period_layers == 2);
  CHECK(r.period_cycles == 125.0);  // (650 - 150) / 4, the mean over both phases
  CHECK(r.period_spread == 0.0);     // each phase's periods are alike
  CHECK(r.steady);
  // Layers 5, 7, 9 (phase 1) add 100 each, 6 and 8 (phase 0) 150 each.
  CHECK(s.cycles == 650 + 3 * 100 + 2 * 150 + 30);
  // Their work is the last simulated layer's of the same phase: 3 x 10 + 2 x 25 instructions.
  CHECK(s.instructions == (10 + 10 + 25 + 10 + 25) + 3 * 10 + 2 * 25);
  CHECK(s.flops == 2 * 1000 * 10);
  // With one period of 2 they would be compared across phases: 100 and 150 around 125, 20%.
  RunStats t = made_up_run({150, 250, 400, 500, 650}, 30);
  CHECK(extrapolate_layers(t, 10, 5).period_spread == Approx(0.2));
  // Two periods after layer 0 are the fewest: 2 x 2 + 1 = 5 layers.
  RunStats short_run = made_up_run({150, 250, 400, 500}, 30);
  CHECK_THROWS_AS(extrapolate_layers(short_run, 10, 4, 2), Error);
}

TEST_CASE("layer reuse says when the periods are not steady, and by how much", "[reuse]") {
  // Periods 100, 130, 70: mean 100, spread 30%.
  RunStats s = made_up_run({150, 250, 380, 450}, 0);
  const LayerReuse r = extrapolate_layers(s, 8, 4);
  CHECK(r.period_cycles == 100.0);
  CHECK(r.period_spread == Approx(0.3));
  CHECK_FALSE(r.steady);
  // Just within the tolerance: periods 100.5 and 99.5 around 100.
  RunStats t = made_up_run({0, 1005, 1000 * 2, 3000}, 0);
  CHECK(extrapolate_layers(t, 8, 4).period_spread == Approx(0.005));
  CHECK(extrapolate_layers(t, 8, 4).steady);  // (t is extended twice; only the flag matters here)
}

TEST_CASE("an exact run is left as it is, and a run without layer records is an internal error", "[reuse]") {
  RunStats s = made_up_run({150, 250, 350, 450}, 30);
  const LayerReuse r = extrapolate_layers(s, 4, 4);
  CHECK_FALSE(r.applied());
  CHECK(s.cycles == 480);
  CHECK(s.instructions == 40);
  RunStats missing = made_up_run({150, 250}, 0);
  CHECK_THROWS_AS(extrapolate_layers(missing, 8, 4), Error);
  CHECK_THROWS_AS(extrapolate_layers(missing, 8, 2), Error);
}

TEST_CASE("layer reuse is within 1% of --exact, with the same work counted", "[reuse][cli][e2e]") {
  const std::string moe = source_path("tests/data/moe-8layer.yaml");
  struct Case {
    std::string args;
    int layers, simulated;
  };
  const std::vector<Case> cases = {
      {"--arch tpu-v4-like --model gpt-style-1b --batch 8 --context-len 512", 24, 4},
      {"--arch tpu-v4-like --model gpt-style-1b --phase prefill --batch 2 --prompt-len 256", 24, 4},
      {"--arch sohu-like-8x --model gpt-style-1b --tp 8 --batch 16 --context-len 512", 24, 4},
      {"--arch sohu-like-8x --model " + moe + " --ep 8 --expert-load zipf:1.2 --batch 32", 8, 4},
      // gpt-oss-20b alternates sliding and full layers: 2 x 2 + 1 simulated, phase by phase.
      {"--arch sohu-like --model gpt-oss-20b --batch 32 --context-len 4096", 24, 5},
      // Pipeline stages interleave micro-batches: compiled whole, the same as --exact.
      {"--arch sohu-like-8x --model gpt-style-1b --pp 8 --batch 8 --context-len 256", 3, 3},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    const YAML::Node fast = run_json(c.args);
    const YAML::Node exact = run_json("--exact " + c.args);
    CHECK(fast["layers"].as<int>() == c.layers);
    CHECK(fast["simulated_layers"].as<int>() == c.simulated);
    CHECK(exact["simulated_layers"].as<int>() == c.layers);
    CHECK(fast["layers_steady"].as<bool>());
    const double fast_s = fast["step_seconds"].as<double>(), exact_s = exact["step_seconds"].as<double>();
    CHECK(std::abs(fast_s - exact_s) <= 0.01 * exact_s);
    if (c.simulated == c.layers) CHECK(fast_s == exact_s);
    // The layers do the same work: counts are equal, not close.
    for (const char* key : {"instructions", "flops", "hbm_bytes_read", "hbm_bytes_written"}) {
      INFO(key);
      CHECK(fast[key].as<std::uint64_t>() == exact[key].as<std::uint64_t>());
    }
    CHECK(fast["energy_breakdown_j"]["link"].as<double>() == Approx(exact["energy_breakdown_j"]["link"].as<double>()));
    // Still physical: utilizations in [0, 1], the ops' times add up to at most the step.
    for (const auto& u : fast["utilization"]) {
      CHECK(u.second.as<double>() >= 0.0);
      CHECK(u.second.as<double>() <= 1.0);
    }
    double shares = 0;
    for (const auto& op : fast["ops"]) shares += op["share"].as<double>();
    CHECK(shares <= 1.0 + 1e-6);  // the extrapolated step is rounded to a whole cycle
    CHECK(fast["sim_over_roofline"].as<double>() >= 1.0);
  }
}

TEST_CASE("a trace under layer reuse says which layers it holds", "[reuse][cli][trace]") {
  const std::string trace = build_path("reuse.pftrace");
  std::remove(trace.c_str());
  REQUIRE(run_tasim("run --arch tpu-v4-like --model gpt-style-1b --batch 2 --context-len 128 --trace " + trace)
              .exit_code == 0);
  std::ifstream in(trace, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_THAT(bytes, Catch::Contains("chip0 (tpu-v4-like; layers 0-3 of 24 simulated; 4-23 extrapolated, not in this trace)"));
}

TEST_CASE("programs compiled as the chips run them give the same results as whole programs", "[stream][cli][e2e]") {
  // `tasim run` feeds each chip its program op by op (workloads::LoweringStream; tensor-parallel
  // chips share one stream); --materialize compiles every program first. Same report, byte for byte.
  const std::string moe = source_path("tests/data/moe-8layer.yaml");
  for (const std::string& args :
       {std::string("--arch tpu-v4-like --model gpt-style-1b --phase prefill --batch 2 --prompt-len 256"),
        std::string("--arch sohu-like-8x --model gpt-style-1b --tp 8 --batch 16 --context-len 512"),
        "--arch sohu-like-8x --model " + moe + " --ep 8 --expert-load zipf:1.2 --batch 32",
        std::string("--arch sohu-like-8x --model gpt-style-1b --tp 2 --pp 4 --batch 8 --context-len 256")}) {
    for (const char* reuse : {"", " --exact"}) {
      INFO(args << reuse);
      const auto streamed = run_tasim("run " + args + reuse + " --json -", true);
      const auto whole = run_tasim("run " + args + reuse + " --materialize --json -", true);
      REQUIRE(streamed.exit_code == 0);
      REQUIRE(whole.exit_code == 0);
      CHECK(streamed.output == whole.output);
    }
  }
}
