// Serve sweeps (`command: serve`, docs/sweeps.md): specs whose points are `tasim serve` runs, the
// serving summary's figures as metric columns, and one small sweep end to end.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_util.h"
#include "common/error.h"
#include "sim/options/run_options.h"
#include "sim/serve_command.h"
#include "sim/sweep/metrics.h"
#include "sim/sweep/pareto.h"
#include "sim/sweep/spec.h"
#include "sim/sweep/table.h"

using namespace tasim;
using namespace tasim::sweep;
using namespace tasim::testing;
using Strings = std::vector<std::string>;
namespace po = boost::program_options;

namespace {

const po::options_description& run_options() {
  static const auto desc = [] {
    po::options_description d;
    add_run_options(d);
    return d;
  }();
  return desc;
}

const po::options_description& serve_options() {
  static const auto desc = [] {
    po::options_description d;
    add_serve_options(d);
    return d;
  }();
  return desc;
}

SweepSpec parse(const std::string& yaml) {
  return parse_sweep_spec(yaml, "spec.yaml", "specs", run_options(), &serve_options());
}

constexpr const char* kServeSpec = R"(command: serve
base:
  arch: tpu-v4-like
  model: gpt-style-1b
  serve: {num_requests: 20, prompt_len: "uniform:32:256", slo_ttft: 0.1, find_max_rate: true,
          step_cache: cache, prefix_caching: false}
axes:
  arch.hbm.gbps_per_channel: [50, 100]
  serve.max_num_seqs: [8, 16]
constraints: [area_mm2 <= 100000, max_rate_qps >= 1, ttft_p99_seconds < 1]
)";

}  // namespace

TEST_CASE("a serve sweep spec takes tasim serve's options in base.serve and serve.* axes", "[sweep][serve]") {
  const SweepSpec spec = parse(kServeSpec);
  CHECK(spec.command == SweepCommand::serve);
  REQUIRE(spec.axes.size() == 2);
  CHECK(spec.axes[1].kind == AxisKind::serve_option);
  CHECK(spec.axes[1].key == "max-num-seqs");
  const auto points = sweep_points(spec);
  REQUIRE(points.size() == 4);
  // A path option is relative to the spec's directory; a false switch is left out.
  CHECK(point_run_args(spec, points[3], serve_options()) ==
        Strings{"--arch", "tpu-v4-like", "--model", "gpt-style-1b", "--num-requests", "20", "--prompt-len",
                "uniform:32:256", "--slo-ttft", "0.1", "--find-max-rate", "--step-cache", "specs/cache",
                "--max-num-seqs", "16", "--set", "hbm.gbps_per_channel=100"});
  // The columns: the serving summary's figures, in their fixed order.
  Strings header{"point", "arch.hbm.gbps_per_channel", "serve.max_num_seqs", "status", "error"};
  for (const auto& m : metric_columns(SweepCommand::serve)) header.push_back(m);
  CHECK(results_header(spec, false) == header);
  // Constraints name serve metrics; area_mm2 and chips are known before a point runs.
  REQUIRE(spec.constraints.size() == 3);
  CHECK(known_before_run(spec, spec.constraints[0]));
  CHECK_FALSE(known_before_run(spec, spec.constraints[1]));
  // A run spec is what it was: `command: run` is the default.
  CHECK(parse("command: run\naxes: {run.batch: [1]}").command == SweepCommand::run);
  CHECK(parse("axes: {run.batch: [1]}").command == SweepCommand::run);
}

TEST_CASE("serve sweep metric columns are a fixed list the Pareto front can use", "[sweep][serve]") {
  const Strings& columns = metric_columns(SweepCommand::serve);
  for (const char* name : {"chips", "completed", "duration_seconds", "requests_per_second", "output_tokens_per_second",
                           "ttft_p99_seconds", "tpot_mean_seconds", "e2e_p99_seconds", "slo_attainment_percent",
                           "goodput_requests_per_second", "max_rate_qps", "kv_blocks", "area_mm2",
                           "chip_peak_power_w", "energy_joules", "output_tokens_per_joule"}) {
    INFO(name);
    CHECK(std::count(columns.begin(), columns.end(), name) == 1);
  }
  CHECK(metric_columns(SweepCommand::run) == metric_columns());
  // `--pareto x=area_mm2,y=max_rate_qps` needs no :min/:max.
  CHECK(infer_direction("max_rate_qps") == Direction::max);
  CHECK(infer_direction("goodput_requests_per_second") == Direction::max);
  CHECK(infer_direction("slo_attainment_percent") == Direction::max);
  CHECK(infer_direction("ttft_p99_seconds") == Direction::min);
  CHECK(infer_direction("preemptions") == Direction::min);
}

TEST_CASE("serve sweep metrics come from the serving summary's keys, nested ones flattened", "[sweep][serve]") {
  // A hand-written `tasim serve --json` summary (its shape, docs/serving.md), numbers as written.
  const std::string json = R"({"command": "serve", "model": "gpt-style-1b", "arch": "tpu-v4-like", "tp": 2,
    "requests": 20, "area_mm2": 1234.5, "chip_peak_power_w": 250,
    "completed": 20, "preemptions": 0, "duration_seconds": 4.25, "requests_per_second": 4.70588,
    "input_tokens_per_second": 700.1, "output_tokens_per_second": 602.3,
    "ttft_seconds": {"mean": 0.012, "p50": 0.011, "p90": 0.02, "p99": 0.031},
    "tpot_seconds": {"mean": 0.004, "p50": 0.0039, "p90": 0.0045, "p99": 0.005},
    "itl_seconds": {"mean": 0.004, "p50": 0.0039, "p90": 0.0045, "p99": 0.0061},
    "e2e_seconds": {"mean": 0.5, "p50": 0.45, "p90": 0.7, "p99": 0.9},
    "slo": {"ttft_seconds": 0.1, "met": 19, "attainment_percent": 95, "goodput_requests_per_second": 4.47},
    "kv_blocks": 5120, "energy_joules": 812.5, "output_tokens_per_joule": 3.15, "mean_power_watts": 191.2,
    "find_max_rate": {"max_rate_qps": 37.5, "slo_attainment_percent": 90, "searched": []},
    "step_model": {"kind": "fitted", "probes": 40}})";
  const auto cells = metrics_from_report(json, SweepCommand::serve);
  REQUIRE(cells);
  const Strings& columns = metric_columns(SweepCommand::serve);
  REQUIRE(cells->size() == columns.size());
  const auto cell = [&](const std::string& name) {
    const auto it = std::find(columns.begin(), columns.end(), name);
    REQUIRE(it != columns.end());
    return (*cells)[static_cast<std::size_t>(it - columns.begin())];
  };
  CHECK(cell("chips") == "2");
  CHECK(cell("completed") == "20");
  CHECK(cell("requests_per_second") == "4.70588");
  CHECK(cell("ttft_mean_seconds") == "0.012");
  CHECK(cell("ttft_p99_seconds") == "0.031");
  CHECK(cell("tpot_p90_seconds") == "0.0045");
  CHECK(cell("itl_p99_seconds") == "0.0061");
  CHECK(cell("e2e_p99_seconds") == "0.9");
  CHECK(cell("slo_attainment_percent") == "95");
  CHECK(cell("goodput_requests_per_second") == "4.47");
  CHECK(cell("max_rate_qps") == "37.5");
  CHECK(cell("kv_blocks") == "5120");
  CHECK(cell("area_mm2") == "1234.5");
  CHECK(cell("chip_peak_power_w") == "250");
  CHECK(cell("energy_joules") == "812.5");
  CHECK(cell("output_tokens_per_joule") == "3.15");
  // Without SLOs or --find-max-rate (or energy) those cells are empty, not an error.
  const auto plain = metrics_from_report(R"({"tp": 1, "completed": 3, "ttft_seconds": {"p99": 0.5}})",
                                         SweepCommand::serve);
  REQUIRE(plain);
  const auto at = [&](const std::string& name) {
    return (*plain)[static_cast<std::size_t>(std::find(columns.begin(), columns.end(), name) - columns.begin())];
  };
  CHECK(at("completed") == "3");
  CHECK(at("ttft_p99_seconds") == "0.5");
  CHECK(at("max_rate_qps").empty());
  CHECK(at("slo_attainment_percent").empty());
  CHECK(at("energy_joules").empty());
  // A run report lacking a key has an empty cell there too.
  const auto run_cells = metrics_from_report(R"({"chips": 1, "utilization": {"dma": 0.5}})");
  REQUIRE(run_cells);
  CHECK(run_cells->front() == "1");
  CHECK(std::count(run_cells->begin(), run_cells->end(), "") == static_cast<long>(run_cells->size()) - 2);
  std::string why;
  CHECK_FALSE(metrics_from_report("not json {", SweepCommand::serve, &why));
  CHECK_FALSE(why.empty());
}

TEST_CASE("serve sweep spec errors name the file, line and key", "[sweep][serve]") {
  // {spec, the one error it gives}
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"command: serve\naxes: {run.batch: [1]}",
       "spec.yaml:2:8: axis 'run.batch': this spec runs tasim serve (command: serve): vary its options with "
       "serve.<option> axes"},
      {"axes: {serve.rate: [1]}",
       "spec.yaml:1:8: axis 'serve.rate': serve.<option> axes go with command: serve (this spec runs tasim run: "
       "vary its options with run.<option> axes)"},
      {"command: serve\nbase: {run: {batch: 4}}",
       "spec.yaml:2:8: base.run: this spec runs tasim serve (command: serve): give its options as base.serve"},
      {"base: {serve: {rate: 4}}",
       "spec.yaml:1:8: base.serve: serve options go with command: serve (this spec runs tasim run: give its "
       "options as base.run)"},
      {"command: serve\naxes: {serve.rat: [1]}",
       "spec.yaml:2:8: axis 'serve.rat': unknown serve option 'rat' (did you mean 'rate'?) (tasim serve --help "
       "lists them; write '-' as '_')"},
      {"command: serve\nbase: {serve: {max_num_seq: 4}}",
       "spec.yaml:2:16: base.serve: unknown serve option 'max_num_seq' (did you mean 'max_num_seqs'?) (tasim "
       "serve --help lists them; write '-' as '_')"},
      {"command: serve\naxes: {serve.requests_out: [a.csv]}",
       "spec.yaml:2:8: axis 'serve.requests_out': serve option 'requests_out' cannot be set in a sweep: a sweep "
       "keeps one row per point (rerun one point with tasim serve --requests-out)"},
      {"command: serve\naxes: {serve.max_num_seqs: [8, many]}",
       "spec.yaml:2:32: axis 'serve.max_num_seqs': the argument ('many') for option '--max-num-seqs' is invalid"},
      {"command: serve\nbase: {serve: {find_max_rate: yes please}}",
       "spec.yaml:2:31: base.serve.find_max_rate: serve option 'find-max-rate' is a switch: true or false, got "
       "'yes please'"},
      {"command: serve\naxes: {rate: [1]}",
       "spec.yaml:2:8: unknown axis 'rate' (did you mean 'serve.rate'?): an axis is arch, model, arch.<key> (an "
       "architecture key) or serve.<option> (a tasim serve option)"},
      {"command: serve\nconstraints: [tokens_per_second >= 1]",
       fmt::format("spec.yaml:2:15: constraints[0]: unknown name 'tokens_per_second': a constraint names an "
                   "axis or a metric ({})",
                   fmt::join(metric_columns(SweepCommand::serve), ", "))},
      {"command: serv", "spec.yaml:1:10: command 'serv' is not one of: run, serve (did you mean 'serve'?)"},
      {"command: serve\nbsae: {}",
       "spec.yaml:2:1: unknown key 'bsae' at the top level (did you mean 'base'?) (keys: command, base, axes, "
       "mode, samples, seed, constraints, description)"},
  };
  for (const auto& [yaml, message] : cases) {
    INFO(yaml);
    CHECK_THROWS_WITH(parse(yaml), message);
  }
  // Without tasim serve's options (a caller that only knows run) a serve spec is refused.
  CHECK_THROWS_WITH(parse_sweep_spec("command: serve", "spec.yaml", "", run_options()),
                    Catch::Contains("command: serve is not available here"));
}

TEST_CASE("tasim sweep runs serve points into serve columns", "[sweep][serve][cli]") {
  // Two points of one chip and model: the first simulates the step table into the cache folder,
  // the second (at another rate, the same table) reads it back.
  const std::string dir = build_path("sweep_tests/serve");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  write_text(dir + "/spec.yaml", fmt::format(R"(command: serve
base:
  arch: tpu-v4-like
  model: gpt-style-1b
  serve: {{num_requests: 20, prompt_len: "uniform:32:256", output_len: 16, seed: 3, slo_ttft: 0.2,
          slo_tpot: 0.05, step_cache: "{}"}}
axes:
  serve.rate: [2, 8]
)",
                                             build_path("sweep_serve_step_cache")));
  const auto r = run_command(fmt::format("cd '{}' && SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 '{}' sweep spec.yaml -o "
                                         "out.csv -j 1 --pareto x=area_mm2,y=goodput_requests_per_second 2>&1",
                                         dir, build_path("tasim")));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("sweep: 2 points: 2 ok, 0 failed, 0 skipped"));
  const Table t = read_results_csv(dir + "/out.csv").table;
  Strings header{"point", "serve.rate", "status", "error"};
  for (const auto& m : metric_columns(SweepCommand::serve)) header.push_back(m);
  header.push_back("pareto");
  CHECK(t.header == header);
  REQUIRE(t.rows.size() == 2);
  const auto cell = [&](std::size_t row, const std::string& name) { return t.rows.at(row).at(*t.column(name)); };
  for (std::size_t row = 0; row < 2; ++row) {
    INFO(row);
    CHECK(cell(row, "status") == "ok");
    CHECK(cell(row, "completed") == "20");
    CHECK(cell(row, "chips") == "1");
    for (const char* m : {"duration_seconds", "requests_per_second", "output_tokens_per_second", "ttft_p99_seconds",
                          "tpot_mean_seconds", "e2e_p99_seconds", "slo_attainment_percent",
                          "goodput_requests_per_second", "kv_blocks", "area_mm2", "chip_peak_power_w"}) {
      INFO(m);
      CHECK(parse_number(cell(row, m)));
    }
    CHECK(cell(row, "max_rate_qps").empty());  // no --find-max-rate
    CHECK_FALSE(cell(row, "pareto").empty());
  }
  // One chip: one area. Four times the rate: more requests per second.
  CHECK(cell(0, "area_mm2") == cell(1, "area_mm2"));
  CHECK(*parse_number(cell(1, "requests_per_second")) > *parse_number(cell(0, "requests_per_second")));
  // The points kept their step table in the spec's cache folder.
  CHECK_FALSE(std::filesystem::is_empty(build_path("sweep_serve_step_cache")));
}
