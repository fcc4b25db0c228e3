// Sweep specs without running anything: ranges, how axes combine into points (grid, zip,
// random), the `tasim run` arguments of a point, the chips and area known before running, and the
// one-line errors of bad specs.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "arch/cost_model.h"
#include "sim/options/run_options.h"
#include "arch/arch_figures.h"
#include "sim/config/arch_loader.h"
#include "sim/sweep/metrics.h"
#include "sim/sweep/spec.h"

using namespace tasim;
using namespace tasim::sweep;
using Strings = std::vector<std::string>;

namespace {

const boost::program_options::options_description& run_options() {
  static const auto desc = [] {
    boost::program_options::options_description d;
    add_run_options(d);
    return d;
  }();
  return desc;
}

SweepSpec parse(const std::string& yaml) { return parse_sweep_spec(yaml, "spec.yaml", "", run_options()); }

Strings values_of(const std::vector<Point>& points, std::size_t axis) {
  Strings out;
  for (const auto& p : points) out.push_back(p.values.at(axis));
  return out;
}

}  // namespace

TEST_CASE("linear ranges include both ends and keep integers", "[sweep]") {
  CHECK(expand_range({"8", "64", std::string("8"), std::nullopt}) ==
        Strings{"8", "16", "24", "32", "40", "48", "56", "64"});
  CHECK(expand_range({"1", "10", std::string("4"), std::nullopt}) == Strings{"1", "5", "9"});
  CHECK(expand_range({"5", "5", std::string("1"), std::nullopt}) == Strings{"5"});
  CHECK(expand_range({"-2", "2", std::string("2"), std::nullopt}) == Strings{"-2", "0", "2"});
  // Fractions: i x step, rounded, so binary noise neither shows nor drops the last value.
  CHECK(expand_range({"0.1", "0.3", std::string("0.1"), std::nullopt}) == Strings{"0.1", "0.2", "0.3"});
  CHECK(expand_range({"1", "2", std::string("0.25"), std::nullopt}) ==
        Strings{"1", "1.25", "1.5", "1.75", "2"});
}

TEST_CASE("geometric ranges multiply by the factor up to the end", "[sweep]") {
  CHECK(expand_range({"16", "128", std::nullopt, std::string("2")}) == Strings{"16", "32", "64", "128"});
  CHECK(expand_range({"16", "100", std::nullopt, std::string("2")}) == Strings{"16", "32", "64"});
  CHECK(expand_range({"1", "100", std::nullopt, std::string("10")}) == Strings{"1", "10", "100"});
  CHECK(expand_range({"0.5", "4", std::nullopt, std::string("2")}) == Strings{"0.5", "1", "2", "4"});
  CHECK(expand_range({"1", "9", std::nullopt, std::string("1.5")}).size() ==
        6);  // 1 1.5 2.25 3.375 5.0625 7.59375
}

TEST_CASE("bad ranges are errors naming the problem", "[sweep]") {
  const auto error = [](const Range& r) {
    try {
      expand_range(r);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error({"1", "8", std::string("0"), std::nullopt}) == "step 0 must be > 0");
  CHECK(error({"1", "8", std::string("-1"), std::nullopt}) == "step -1 must be > 0");
  CHECK(error({"9", "8", std::string("1"), std::nullopt}) == "from 9 is above to 8");
  CHECK(error({"1", "8", std::nullopt, std::string("1")}) == "factor 1 must be > 1");
  CHECK(error({"0", "8", std::nullopt, std::string("2")}) == "a geometric range starts above 0, not at 0");
  CHECK(error({"1", "8", std::string("1"), std::string("2")}) ==
        "give step: (linear) or factor: (geometric), not both");
  CHECK(error({"1", "8", std::nullopt, std::nullopt}) ==
        "a range needs step: (linear) or factor: (geometric)");
  CHECK(error({"a", "8", std::string("1"), std::nullopt}) == "from: 'a' is not a number");
  CHECK(error({"0", "1e9", std::string("1"), std::nullopt}) == "the range gives more than 100000 values");
}

TEST_CASE("grid points are the cartesian product with the first axis slowest", "[sweep]") {
  const SweepSpec spec = parse(R"(
base: {arch: small, model: gpt-style-1b}
axes:
  arch.core.matrix.rows: [16, 32]
  run.batch: {from: 1, to: 3, step: 1}
)");
  REQUIRE(spec.axes.size() == 2);
  CHECK(spec.axes[0].kind == AxisKind::arch_key);
  CHECK(spec.axes[0].key == "core.matrix.rows");
  CHECK(spec.axes[1].kind == AxisKind::run_option);
  CHECK(spec.axes[1].key == "batch");
  const auto points = sweep_points(spec);
  REQUIRE(points.size() == 6);
  for (std::size_t i = 0; i < points.size(); ++i) CHECK(points[i].index == i);
  CHECK(values_of(points, 0) == Strings{"16", "16", "16", "32", "32", "32"});
  CHECK(values_of(points, 1) == Strings{"1", "2", "3", "1", "2", "3"});
  CHECK(results_header(spec, false)[1] == "arch.core.matrix.rows");
  CHECK(results_header(spec, false)[2] == "run.batch");
}

TEST_CASE("zip points pair the axes' values and need axes of one length", "[sweep]") {
  const auto points = sweep_points(parse(R"(
axes:
  run.batch: [1, 2, 4]
  run.context_len: [128, 256, 512]
mode: zip
)"));
  REQUIRE(points.size() == 3);
  CHECK(points[2].values == Strings{"4", "512"});
  CHECK_THROWS_WITH(
      parse("axes: {run.batch: [1, 2], run.context_len: [1]}\nmode: zip"),
      "spec.yaml:1:7: mode: zip needs axes of one length: run.batch has 2, run.context_len has 1");
}

TEST_CASE("random points are distinct grid points fixed by the seed", "[sweep]") {
  const std::string spec = R"(
axes:
  run.batch: {from: 1, to: 20, step: 1}
  run.context_len: [64, 128, 256]
mode: random
samples: 10
seed: 7
)";
  const auto a = sweep_points(parse(spec));
  REQUIRE(a.size() == 10);
  std::set<Strings> distinct;
  for (const auto& p : a) distinct.insert(p.values);
  CHECK(distinct.size() == 10);
  // Same seed, same points; another seed, other points.
  const auto b = sweep_points(parse(spec));
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].values == b[i].values);
  auto other = parse(spec);
  other.seed = 8;
  const auto c = sweep_points(other);
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) differs = differs || a[i].values != c[i].values;
  CHECK(differs);
  // The draw is splitmix64's, the same on every platform: these indices are part of the format.
  CHECK(sample_indices(60, 5, 7) == sample_indices(60, 5, 7));
  CHECK(SplitMix64(0).next() == 0xe220a8397b1dcdafull);  // the published first output for seed 0
  // Every grid point when samples equals the grid.
  CHECK(sample_indices(6, 6, 3) == std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5});
  CHECK_THROWS_WITH(parse("axes: {run.batch: [1, 2]}\nmode: random\nsamples: 3"),
                    "spec.yaml:3:10: samples: 3 is more than the 2 points of the grid");
  CHECK_THROWS_WITH(parse("axes: {run.batch: [1, 2]}\nmode: random"),
                    Catch::Contains("mode: random needs samples:"));
}

TEST_CASE("an axis run. without an option name is a spec error", "[sweep][errors]") {
  // fuzz_sweep: Boost's option lookup threw ambiguous_option for the empty name, which left
  // the CLI as an internal error.
  CHECK_THROWS_WITH(parse("axes:\n  run.: [1, 2]\n"), "spec.yaml:2:3: axis 'run.': no option named after 'run.'");
  CHECK_THROWS_WITH(parse("axes:\n  run.: sohu-like\n"), Catch::Contains("axis 'run.'"));
}

TEST_CASE("a run value holding a Boost placeholder is named as written", "[sweep][errors]") {
  // fuzz_sweep (a 10 s timeout): Boost replaced %value% in its message with the value, which
  // held %value% again, forever.
  CHECK_THROWS_WITH(parse("axes:\n  run.batch: [1, \"%value%x\"]\n"),
                    "spec.yaml:2:18: axis 'run.batch': the argument ('%value%x') for option '--batch' is invalid");
  // The message comes back as written, the shield's own character (\x1f) included.
  boost::program_options::invalid_option_value e("a\x1f" "1%value%\x1f" "0%option%");
  e.set_option_name("--batch");
  CHECK(option_error_message(e) == "the argument ('a\x1f" "1%value%\x1f" "0%option%') for option 'batch' is invalid");
}

TEST_CASE("a sweep's size is known before any point runs, and bounded", "[sweep][errors]") {
  // Five axes of 10,000 values: 10^20 points, beyond 64 bits; counting must not wrap to a small
  // number that would then be expanded.
  std::string axes = "axes:\n";
  for (const char* key : {"run.batch", "run.context_len", "arch.core.matrix.rows", "arch.core.matrix.cols",
                          "arch.core.vector.lanes"})
    axes += fmt::format("  {}: {{from: 1, to: 10000, step: 1}}\n", key);
  CHECK_THROWS_WITH(parse(axes), "spec.yaml:2:3: the grid has over 2^64 points, more than 1000000: use mode: "
                                 "random with samples:");
  // Two axes: 10^8 points, counted exactly.
  CHECK_THROWS_WITH(parse("axes:\n  run.batch: {from: 1, to: 10000, step: 1}\n"
                          "  run.context_len: {from: 1, to: 10000, step: 1}\n"),
                    "spec.yaml:2:3: the grid has 100000000 points, more than 1000000: use mode: random with samples:");
  CHECK_THROWS_WITH(parse("axes:\n  run.batch: {from: 1, to: 10000, step: 1}\n"
                          "  run.context_len: {from: 1, to: 10000, step: 1}\nmode: random\nsamples: 2000000\n"),
                    "spec.yaml:5:10: samples: more than 1000000 points");
}

TEST_CASE("a point's run arguments put axes over the base", "[sweep]") {
  const SweepSpec spec = parse(R"(
base:
  arch: small
  model: gpt-style-1b
  run: {phase: decode, batch: 4, context_len: 256, ideal_memory: true}
  set: {core: {sram: {capacity_mib: 2}}, hbm.capacity_gib: 8}
axes:
  run.batch: [1, 2]
  arch.core.matrix.rows: [16]
  run.tp: [1]
)");
  const auto points = sweep_points(spec);
  CHECK(point_run_args(spec, points[1], run_options()) ==
        Strings{"--arch", "small", "--model", "gpt-style-1b", "--phase", "decode", "--batch", "2",
                "--context-len", "256", "--ideal-memory", "--tp", "1", "--set", "core.sram.capacity_mib=2",
                "--set", "hbm.capacity_gib=8", "--set", "core.matrix.rows=16"});
}

TEST_CASE("a braced arch axis sets every key it names to the same value", "[sweep]") {
  const SweepSpec spec = parse("base: {arch: small}\naxes:\n  arch.core.matrix.{rows,cols}: [16, 64]");
  REQUIRE(spec.axes.size() == 1);
  CHECK(spec.axes[0].path == "arch.core.matrix.{rows,cols}");  // the column's name
  CHECK(spec.axes[0].arch_keys == Strings{"core.matrix.rows", "core.matrix.cols"});
  const auto points = sweep_points(spec);
  REQUIRE(points.size() == 2);
  CHECK(point_run_args(spec, points[1], run_options()) ==
        Strings{"--arch", "small", "--set", "core.matrix.rows=64", "--set", "core.matrix.cols=64"});
  CHECK_THROWS_WITH(parse("axes:\n  arch.core.matrix.{rows,colz}: [16]"),
                    Catch::Contains("unknown key 'core.matrix.colz' (did you mean 'core.matrix.cols'?)"));
}

TEST_CASE("relative paths in a spec are relative to the spec's directory", "[sweep]") {
  const std::string dir = std::string(TASIM_SOURCE_DIR) + "/configs/arch";
  const SweepSpec spec = parse_sweep_spec(
      "base: {arch: small.yaml, model: ../models/gpt-style-1b.yaml}\naxes: {model: [gpt-style-1b]}",
      dir + "/spec.yaml", dir, run_options());
  const auto args = point_run_args(spec, sweep_points(spec).at(0), run_options());
  // A preset or shipped name stays a name; a file is found beside the spec.
  CHECK(args == Strings{"--arch", dir + "/small.yaml", "--model", "gpt-style-1b"});
  try {
    parse_sweep_spec("base: {arch: nowhere.yaml}", dir + "/spec.yaml", dir, run_options());
    FAIL("a missing architecture file must be an error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::StartsWith(dir + "/spec.yaml:1:14: base.arch: "));
    CHECK_THAT(e.what(), Catch::Contains("nowhere.yaml"));
  }
}

TEST_CASE("spec errors name the file and line and suggest the key meant", "[sweep]") {
  // {spec, the one error it gives}
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"axis: {run.batch: [1]}",
       "spec.yaml:1:1: unknown key 'axis' at the top level (did you mean 'axes'?) (keys: base, axes, mode, "
       "samples, seed, constraints, description)"},
      {"base: {arch: small, modle: gpt-style-1b}",
       "spec.yaml:1:21: unknown key 'modle' in base (did you mean 'model'?) (keys of base: arch, model, "
       "run, set)"},
      {"axes: {run.bach: [1]}",
       "spec.yaml:1:8: axis 'run.bach': unknown run option 'bach' (did you mean 'batch'?) (tasim run "
       "--help lists them; write '-' as '_')"},
      {"base: {run: {context_length: 5}}",
       "spec.yaml:1:14: base.run: unknown run option 'context_length' (did you mean 'context_len'?) (tasim "
       "run --help lists them; write '-' as '_')"},
      {"axes: {run.json: [a.json]}",
       "spec.yaml:1:8: axis 'run.json': run option 'json' cannot be set in a sweep: the sweep reads every "
       "point's JSON report itself"},
      {"axes: {arch.core.matrx.rows: [1]}",
       "spec.yaml:1:8: axis 'arch.core.matrx.rows': unknown key 'core.matrx.rows' (did you mean "
       "'core.matrix.rows'?)"},
      {"base: {set: {core.sram.capacity: 4}}",
       "spec.yaml:1:14: base.set: unknown key 'core.sram.capacity' (did you mean 'core.sram.capacity_mib'?)"},
      {"axes: {batch: [1]}",
       "spec.yaml:1:8: unknown axis 'batch' (did you mean 'run.batch'?): an axis is arch, model, "
       "arch.<key> (an architecture key) or run.<option> (a tasim run option)"},
      {"axes: {run.batch: {from: 1, to: 8, stp: 1}}",
       "spec.yaml:1:36: unknown key 'stp' in the range of axis 'run.batch' (did you mean 'step'?) (keys of "
       "the range of axis 'run.batch': from, to, step, factor)"},
      {"axes: {run.batch: {from: 1, to: 8, step: 0}}",
       "spec.yaml:1:19: axis 'run.batch': step 0 must be > 0"},
      {"axes: {run.batch: [1, x]}",
       "spec.yaml:1:23: axis 'run.batch': the argument ('x') for option '--batch' is invalid"},
      {"axes: {run.batch: []}", "spec.yaml:1:19: axis 'run.batch' has no values"},
      {"mode: grd", "spec.yaml:1:7: mode 'grd' is not one of: grid, zip, random (did you mean 'grid'?)"},
      {"samples: 3", "spec.yaml:1:10: samples: goes with mode: random"},
      {"base: {arch: smal}",
       "spec.yaml:1:14: base.arch: unknown architecture 'smal': not a preset (h100-like, h100-like-8x, "
       "h200-like, h200-like-8x, small, sohu-like, sohu-like-8x, tpu-v4-like) nor a file (did you mean 'small'?)"},
      {"constraints: [area <= 800]", fmt::format("spec.yaml:1:15: constraints[0]: unknown name 'area' (did "
                                                 "you mean 'area_mm2'?): a constraint names an axis or a "
                                                 "metric ({})",
                                                 fmt::join(metric_columns(), ", "))},
      {"constraints: [area_mm2 =< 800]",
       "spec.yaml:1:15: constraints[0]: 'area_mm2 =< 800' is not '<name> <op> <number>' ('=<' is not an "
       "operator: use one of <= < >= > == !=), e.g. 'area_mm2 <= 800'"},
      {"axes: {run.dtype: [bf16, fp8]}\nconstraints: [run.dtype < 2]",
       "spec.yaml:2:15: constraints[0]: axis 'run.dtype' has a value that is not a number: 'bf16'"},
      {"axes: {run.batch: [1, 1]}", "spec.yaml:1:23: axis 'run.batch': value '1' is given twice"},
      {"axes: {run.batch: [1], run.batch: [2]}", "spec.yaml:1:24: axis 'run.batch' is given twice"},
      {"axes: {run.context_len: [1], run.context-len: [2]}",
       "spec.yaml:1:30: axis 'run.context-len' is given twice"},
      {"axes:\n  arch.core.matrix.{rows,cols: [16]", "spec.yaml:2:3: axis 'arch.core.matrix.{rows,cols': a braced "
       "path names its keys as prefix.{a,b}.suffix, e.g. arch.core.matrix.{rows,cols}"},
      {"axes:\n  arch.core.matrix.{rows,}: [16]", "spec.yaml:2:3: axis 'arch.core.matrix.{rows,}': a braced "
       "path names its keys as prefix.{a,b}.suffix, e.g. arch.core.matrix.{rows,cols}"},
      {"axes:\n  arch.core.matrix.rows: [16]\n  arch.core.matrix.{rows,cols}: [32]",
       "spec.yaml:3:3: axis 'arch.core.matrix.{rows,cols}' sets core.matrix.rows a second time"},
  };
  for (const auto& [yaml, message] : cases) {
    INFO(yaml);
    CHECK_THROWS_WITH(parse(yaml), message);
  }
  CHECK_THROWS_WITH(parse("axes: {model: [gpt-style-1b, lama-3-8b]}"),
                    Catch::StartsWith("spec.yaml:1:15: axis 'model': unknown model 'lama-3-8b'"));
}

TEST_CASE("chips and area are known before a point runs", "[sweep]") {
  CHECK(chips_of_run(1, 1, 1) == 1);
  CHECK(chips_of_run(8, 1, 1) == 8);
  CHECK(chips_of_run(1, 4, 2) == 8);
  CHECK(chips_of_run(2, 2, 4) == 8);
  const PointEstimate one =
      estimate_point({"--arch", "small", "--set", "core.matrix.rows=16"}, run_options(), true);
  REQUIRE(one.chips);
  CHECK(*one.chips == 1);
  REQUIRE(one.area_mm2);
  CHECK(*one.area_mm2 == chip_area(load_arch("small", {"core.matrix.rows=16"})).total_mm2());
  const PointEstimate eight = estimate_point({"--arch", "sohu-like-8x", "--tp", "8"}, run_options(), true);
  CHECK(*eight.chips == 8);
  CHECK(*eight.area_mm2 == 8 * chip_area(load_arch("sohu-like-8x")).total_mm2());
  REQUIRE(one.chip_peak_power_w);
  CHECK(*one.chip_peak_power_w == peak_power_w(load_arch("small", {"core.matrix.rows=16"})));
  // An architecture that does not load leaves the area unknown: the point's run reports why.
  CHECK_FALSE(
      estimate_point({"--arch", "small", "--set", "core.matrix.rows=0"}, run_options(), true).area_mm2);
}

TEST_CASE("constraints on axes area and chips are checked before running", "[sweep]") {
  const SweepSpec spec = parse(R"(
axes: {run.batch: [1, 2]}
constraints: [run.batch <= 1, area_mm2 <= 800, chips == 1, tokens_per_second >= 10, mfu > 0.1,
              chip_peak_power_w <= 700]
)");
  REQUIRE(spec.constraints.size() == 6);
  CHECK(known_before_run(spec, spec.constraints[5]));
  CHECK(known_before_run(spec, spec.constraints[0]));
  CHECK(known_before_run(spec, spec.constraints[1]));
  CHECK(known_before_run(spec, spec.constraints[2]));
  CHECK_FALSE(known_before_run(spec, spec.constraints[3]));
  CHECK_FALSE(known_before_run(spec, spec.constraints[4]));
}
