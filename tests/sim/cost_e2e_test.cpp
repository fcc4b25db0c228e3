// Area, energy and power in `tasim run`'s report and trace: consistent with each other, with the
// coefficients they are computed from, and never above the chip's peak power.
#include <catch2/catch.hpp>

#include <map>

#include "cli_util.h"
#include "power_trace.h"

using namespace tasim::testing;

namespace {

const std::string kSmallStep = "--arch tpu-v4-like --model gpt-style-1b --batch 2 --context-len 64";

double sum_of(const YAML::Node& object) {
  double sum = 0.0;
  for (const auto& kv : object) sum += kv.second.as<double>();
  return sum;
}

}  // namespace

TEST_CASE("run JSON has area energy power and tokens per joule that agree with each other", "[cost][e2e]") {
  for (const std::string& args : {kSmallStep, std::string("--arch tpu-v4-like --model gpt-style-1b --phase prefill --batch 1 --prompt-len 256"),
                                 std::string("--arch sohu-like --model gpt-style-1b --batch 8 --context-len 128")}) {
    INFO(args);
    const YAML::Node j = run_json(args);
    const double seconds = j["seconds"].as<double>();
    const double energy = j["energy_j"].as<double>();
    const double chips = j["chips"].as<double>();
    REQUIRE(seconds > 0);
    CHECK(j["area_mm2"].as<double>() == Approx(j["chip_area_mm2"].as<double>() * chips));
    CHECK(sum_of(j["chip_area_breakdown_mm2"]) == Approx(j["chip_area_mm2"].as<double>()));
    CHECK(sum_of(j["energy_breakdown_j"]) == Approx(energy));
    CHECK(j["avg_power_w"].as<double>() == Approx(energy / seconds));
    CHECK(j["tokens_per_joule"].as<double>() == Approx(j["tokens_per_second"].as<double>() * seconds / energy));
    // Physical bound: no run draws more than every unit at its peak rate at once.
    CHECK(j["avg_power_w"].as<double>() > 0);
    CHECK(j["avg_power_w"].as<double>() <= j["chip_peak_power_w"].as<double>() * chips);
    // Static power: the coefficient times the die area, over the run.
    CHECK(j["energy_breakdown_j"]["static"].as<double>() ==
          Approx(0.1 * j["chip_area_mm2"].as<double>() * seconds * chips));
    // A single chip moves nothing over links.
    CHECK(j["energy_breakdown_j"]["link"].as<double>() == 0.0);
  }
}

TEST_CASE("cost coefficients change energy and area but never timing", "[cost][e2e]") {
  const YAML::Node base = run_json(kSmallStep);
  const YAML::Node costly = run_json(kSmallStep + " --set cost.hbm.pj_per_bit=7.8 --set cost.matrix.mac_area_um2.bf16=800 "
                                                  "--set cost.static_w_per_mm2=0");
  CHECK(costly["cycles"].as<std::uint64_t>() == base["cycles"].as<std::uint64_t>());
  CHECK(costly["energy_breakdown_j"]["hbm"].as<double>() == Approx(2 * base["energy_breakdown_j"]["hbm"].as<double>()));
  CHECK(costly["energy_breakdown_j"]["matrix"].as<double>() == Approx(base["energy_breakdown_j"]["matrix"].as<double>()));
  CHECK(costly["energy_breakdown_j"]["static"].as<double>() == 0.0);
  CHECK(costly["chip_area_breakdown_mm2"]["matrix"].as<double>() ==
        Approx(2 * base["chip_area_breakdown_mm2"]["matrix"].as<double>()));
  CHECK(costly["chip_area_breakdown_mm2"]["sram"].as<double>() == Approx(base["chip_area_breakdown_mm2"]["sram"].as<double>()));
}

TEST_CASE("a tensor-parallel run pays link energy and every chip's area", "[cost][e2e][system]") {
  const YAML::Node one = run_json(kSmallStep);
  const YAML::Node two = run_json(kSmallStep + " --chips 2 --tp 2");
  CHECK(two["chips"].as<int>() == 2);
  CHECK(two["energy_breakdown_j"]["link"].as<double>() > 0);
  CHECK(two["area_mm2"].as<double>() == Approx(2 * two["chip_area_mm2"].as<double>()));
  // A chip of a 2-chip system has link PHYs; the single chip has none.
  CHECK(two["chip_area_breakdown_mm2"]["link_phy"].as<double>() > 0);
  CHECK(one["chip_area_breakdown_mm2"]["link_phy"].as<double>() == 0.0);
  CHECK(two["avg_power_w"].as<double>() <= 2 * two["chip_peak_power_w"].as<double>());
  // Doubling the link coefficient doubles exactly the link part.
  const YAML::Node costly = run_json(kSmallStep + " --chips 2 --tp 2 --set cost.link.pj_per_bit=10");
  CHECK(costly["energy_breakdown_j"]["link"].as<double>() == Approx(2 * two["energy_breakdown_j"]["link"].as<double>()));
}

TEST_CASE("the trace's power counters integrate to the report's energy", "[cost][e2e][trace]") {
  const std::string trace_path = build_path("e2e_power.pftrace");
  // Every layer simulated: under layer reuse the trace holds the simulated layers only.
  const YAML::Node j = run_json(kSmallStep + " --exact --trace " + trace_path);
  const PowerTrace power = integrate_power(trace_path);
  CHECK(power.tracks == 1);
  CHECK(power.ends_at_zero);
  // Timestamps are whole nanoseconds: allow the rounding of each window's edges.
  CHECK(power.joules == Approx(j["energy_j"].as<double>()).epsilon(0.01));
  // Every window burns at least static power, and work makes some windows draw more.
  const double static_w = j["energy_breakdown_j"]["static"].as<double>() / j["seconds"].as<double>();
  CHECK(power.min_w >= static_w * (1 - 1e-9));
  CHECK(power.peak_w > 1.01 * static_w);
}

TEST_CASE("a multi-chip trace's power counters include the links", "[cost][e2e][trace][system]") {
  const std::string trace_path = build_path("e2e_power_tp2.pftrace");
  const YAML::Node j = run_json(kSmallStep + " --exact --chips 2 --tp 2 --trace " + trace_path);
  REQUIRE(j["energy_breakdown_j"]["link"].as<double>() > 0);
  const PowerTrace power = integrate_power(trace_path);
  CHECK(power.tracks == 2);
  CHECK(power.ends_at_zero);
  // Both chips' counters together: every instruction, every link hop and both chips' static power.
  CHECK(power.joules == Approx(j["energy_j"].as<double>()).epsilon(0.01));
  // Without the links the counters would fall short by exactly the link part.
  const double without_links = j["energy_j"].as<double>() - j["energy_breakdown_j"]["link"].as<double>();
  CHECK(power.joules - without_links == Approx(j["energy_breakdown_j"]["link"].as<double>()).epsilon(0.05));
}
