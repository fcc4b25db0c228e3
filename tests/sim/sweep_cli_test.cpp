// `tasim sweep` and `tasim sweep-merge` end to end: real points run as `tasim run` processes on a
// tiny model on the small preset (about 20 ms each), results read back from the files.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli_util.h"
#include "arch/cost_model.h"
#include "arch/arch_figures.h"
#include "sim/config/arch_loader.h"
#include "sim/sweep/metrics.h"
#include "sim/sweep/table.h"

using namespace tasim::testing;
using tasim::sweep::Table;
using Strings = std::vector<std::string>;
namespace fs = std::filesystem;

namespace {

// Two layers of 256: a decode step of a few thousand instructions.
constexpr const char* kTinyModel = R"(description: tiny model for sweep tests
hidden_size: 256
intermediate_size: 512
num_layers: 2
num_heads: 4
num_kv_heads: 2
head_dim: 64
vocab_size: 1024
norm: rmsnorm
mlp: swiglu
max_position_embeddings: 4096
)";

// Four points: batch 1 and 2 on 16x16 and 32x32 arrays.
constexpr const char* kGridSpec = R"(base:
  arch: small
  model: tiny.yaml
  run: {phase: decode, batch: 2, context_len: 16}
axes:
  run.batch: [1, 2]
  arch.core.matrix.rows: [16, 32]
)";

// A fresh directory under the build tree holding the tiny model; commands run inside it.
struct SweepDir {
  std::string dir;
  explicit SweepDir(const std::string& name) : dir(build_path("sweep_tests/" + name)) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    write_text(file("tiny.yaml"), kTinyModel);
  }
  std::string file(const std::string& name) const { return dir + "/" + name; }
  void spec(const std::string& name, const std::string& yaml) const { write_text(file(name), yaml); }
  // `tasim <args>` in the directory, stdout and stderr merged; `env` is prefixed (VAR=value ...).
  CommandResult tasim(const std::string& args, const std::string& env = "") const {
    return run_command(fmt::format("cd '{}' && SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 {} '{}' {} 2>&1", dir, env,
                                   build_path("tasim"), args));
  }
  // The same with the test build whose points crash on request (tests/sim/faulty_tasim_main.cpp).
  CommandResult tasim_crashing_point(const std::string& args, int point) const {
    return run_command(fmt::format("cd '{}' && SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 TASIM_SWEEP_TEST_CRASH_POINT={} '{}' {} 2>&1",
                                   dir, point, build_path("tasim_faulty"), args));
  }
  Table results(const std::string& name) const { return tasim::sweep::read_results_csv(file(name)).table; }
  std::string text(const std::string& name) const { return read_file(file(name)); }
};

std::string cell(const Table& t, std::size_t row, const std::string& column) {
  const auto c = t.column(column);
  REQUIRE(c);
  return t.rows.at(row).at(*c);
}

Strings column(const Table& t, const std::string& name) {
  Strings out;
  for (std::size_t r = 0; r < t.rows.size(); ++r) out.push_back(cell(t, r, name));
  return out;
}

}  // namespace

TEST_CASE("tasim sweep runs every point of a grid into CSV and JSONL", "[sweep][cli]") {
  const SweepDir d("grid");
  d.spec("spec.yaml", kGridSpec);
  const auto r = d.tasim("sweep spec.yaml -o results.csv -j 2");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("sweep: 4 points: 4 ok, 0 failed, 0 skipped"));
  const Table t = d.results("results.csv");
  Strings header{"point", "run.batch", "arch.core.matrix.rows", "status", "error"};
  for (const auto& m : tasim::sweep::metric_columns()) header.push_back(m);
  CHECK(t.header == header);
  REQUIRE(t.rows.size() == 4);
  CHECK(column(t, "point") == Strings{"0", "1", "2", "3"});
  CHECK(column(t, "run.batch") == Strings{"1", "1", "2", "2"});
  CHECK(column(t, "arch.core.matrix.rows") == Strings{"16", "32", "16", "32"});
  CHECK(column(t, "status") == Strings{"ok", "ok", "ok", "ok"});
  CHECK(column(t, "error") == Strings{"", "", "", ""});
  // The metrics are the point's own `tasim run --json` figures.
  CHECK(column(t, "tokens") == Strings{"1", "1", "2", "2"});
  CHECK(column(t, "chips") == Strings{"1", "1", "1", "1"});
  const auto report = run_json("--arch small --model '" + d.file("tiny.yaml") +
                               "' --phase decode --batch 2 --context-len 16 --set core.matrix.rows=32");
  CHECK(cell(t, 3, "cycles") == report["cycles"].as<std::string>());
  CHECK(cell(t, 3, "tokens_per_second") == report["tokens_per_second"].as<std::string>());
  CHECK(cell(t, 3, "utilization.matrix") == report["utilization"]["matrix"].as<std::string>());
  CHECK(cell(t, 3, "area_mm2") == report["area_mm2"].as<std::string>());
  CHECK(cell(t, 3, "tokens_per_joule") == report["tokens_per_joule"].as<std::string>());
  for (const auto& m : tasim::sweep::metric_columns()) {
    INFO(m);
    CHECK(tasim::sweep::parse_number(cell(t, 0, m)));
  }
  // The JSONL has the same rows, keys in column order.
  const auto jsonl = lines_of(d.text("results.jsonl"));
  REQUIRE(jsonl.size() == 4);
  const YAML::Node row = YAML::Load(jsonl[2]);
  std::vector<std::string> keys;
  for (const auto& kv : row) keys.push_back(kv.first.as<std::string>());
  CHECK(keys == header);
  CHECK(row["point"].as<int>() == 2);
  CHECK(row["run.batch"].as<int>() == 2);
  CHECK(row["status"].as<std::string>() == "ok");
  CHECK(row["error"].IsNull());
  CHECK(row["cycles"].as<std::string>() == cell(t, 2, "cycles"));
}

TEST_CASE("sweep results are the same bytes whatever -j is", "[sweep][cli]") {
  const SweepDir d("jobs");
  d.spec("spec.yaml", kGridSpec);
  for (int jobs : {1, 2, 4})
    REQUIRE(d.tasim(fmt::format("sweep spec.yaml -o j{0}.csv -j {0}", jobs)).exit_code == 0);
  for (const char* ext : {"csv", "jsonl"}) {
    CHECK(d.text(fmt::format("j1.{}", ext)) == d.text(fmt::format("j2.{}", ext)));
    CHECK(d.text(fmt::format("j1.{}", ext)) == d.text(fmt::format("j4.{}", ext)));
  }
}

TEST_CASE("a failing point is recorded with its error and the sweep goes on with exit status 1",
          "[sweep][cli]") {
  const SweepDir d("failing");
  d.spec("spec.yaml", R"(base: {arch: small, model: tiny.yaml, run: {context_len: 16}}
axes:
  arch.core.matrix.rows: [16, 0, 32]
)");
  const auto r = d.tasim("sweep spec.yaml -o results.csv");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("sweep: 3 points: 2 ok, 1 failed, 0 skipped"));
  const Table t = d.results("results.csv");
  CHECK(column(t, "status") == Strings{"ok", "failed", "ok"});
  CHECK(cell(t, 1, "error") ==
        "tasim: error: --set core.matrix.rows=0: core.matrix.rows = 0 is out of range [1, 65536]");
  for (const auto& m : tasim::sweep::metric_columns()) CHECK(cell(t, 1, m).empty());
  CHECK_FALSE(cell(t, 2, "cycles").empty());
}

TEST_CASE("the shipped tasim has no fault-injection hook", "[sweep][cli]") {
  const SweepDir d("no_hook");
  d.spec("spec.yaml", kGridSpec);
  const auto r = d.tasim("sweep spec.yaml -o results.csv", "TASIM_SWEEP_TEST_CRASH_POINT=1");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(column(d.results("results.csv"), "status") == Strings{"ok", "ok", "ok", "ok"});
}

TEST_CASE("a point killed by a signal is recorded as failed", "[sweep][cli]") {
  const SweepDir d("crash");
  d.spec("spec.yaml", kGridSpec);
  const auto r = d.tasim_crashing_point("sweep spec.yaml -o results.csv -j 2", 2);
  INFO(r.output);
  CHECK(r.exit_code == 1);
  const Table t = d.results("results.csv");
  CHECK(column(t, "status") == Strings{"ok", "ok", "failed", "ok"});
  CHECK(cell(t, 2, "error") == "killed by signal 11 (Segmentation fault)");
  CHECK(cell(t, 2, "cycles").empty());
  CHECK_FALSE(fs::exists(d.file("core")));
}

TEST_CASE("a point over --timeout-s is killed and recorded", "[sweep][cli]") {
  const SweepDir d("timeout");
  // A 4 x 4096-token Llama-3-8B prefill simulates for seconds; the limit kills it long before.
  d.spec("spec.yaml", R"(base: {arch: sohu-like, model: llama-3-8b, run: {phase: prefill, prompt_len: 4096}}
axes: {run.batch: [4]}
)");
  const auto r = d.tasim("sweep spec.yaml -o results.csv --timeout-s 0.1");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  const Table t = d.results("results.csv");
  CHECK(cell(t, 0, "status") == "failed");
  CHECK(cell(t, 0, "error") == "timed out after 0.1 s");
}

TEST_CASE("a peak power budget skips points before running", "[sweep][cli]") {
  const SweepDir d("power_budget");
  const double peak16_w = tasim::peak_power_w(tasim::load_arch("small", {"core.matrix.rows=16"}));
  const double peak32_w = tasim::peak_power_w(tasim::load_arch("small", {"core.matrix.rows=32"}));
  REQUIRE(peak16_w < peak32_w);
  const double budget_w = (peak16_w + peak32_w) / 2;
  d.spec("spec.yaml", fmt::format("{}constraints: [chip_peak_power_w <= {}]\n", kGridSpec, budget_w));
  const auto dry = d.tasim("sweep spec.yaml --dry-run");
  INFO(dry.output);
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.output, Catch::Contains(fmt::format("point 1: run.batch=1 arch.core.matrix.rows=32  skipped: "
                                                     "constraint chip_peak_power_w <= {} not met ({})",
                                                     budget_w, peak32_w)));
  CHECK_THAT(dry.output, Catch::Contains("4 points (2 to run, 2 skipped by constraints)"));
}

TEST_CASE("constraints skip points before running on area and after running on metrics", "[sweep][cli]") {
  const SweepDir d("constraints");
  // An area limit between the 16x16 and the 32x32 chip, and a tokens limit that batch 2 misses.
  const double area16_mm2 = tasim::chip_area(tasim::load_arch("small", {"core.matrix.rows=16"})).total_mm2();
  const double area32_mm2 = tasim::chip_area(tasim::load_arch("small", {"core.matrix.rows=32"})).total_mm2();
  REQUIRE(area16_mm2 < area32_mm2);
  d.spec("spec.yaml", fmt::format(R"({}constraints:
  - area_mm2 <= {}
  - tokens <= 1
)",
                                  kGridSpec, (area16_mm2 + area32_mm2) / 2));
  const auto dry = d.tasim("sweep spec.yaml --dry-run");
  INFO(dry.output);
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.output, Catch::Contains("point 0: run.batch=1 arch.core.matrix.rows=16\n"));
  CHECK_THAT(dry.output,
             Catch::Contains(fmt::format("point 1: run.batch=1 arch.core.matrix.rows=32  skipped: "
                                         "constraint area_mm2 <= {} not met ({})",
                                         (area16_mm2 + area32_mm2) / 2, area32_mm2)));
  CHECK_THAT(dry.output, Catch::Contains("4 points (2 to run, 2 skipped by constraints)"));
  CHECK_FALSE(fs::exists(d.file("results.csv")));

  const auto r = d.tasim("sweep spec.yaml -o results.csv");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  const Table t = d.results("results.csv");
  CHECK(column(t, "status") == Strings{"ok", "skipped", "skipped", "skipped"});
  CHECK_THAT(cell(t, 1, "error"), Catch::StartsWith("constraint area_mm2 <= "));
  // Skipped before running: only what was known is filled in.
  CHECK(cell(t, 1, "area_mm2") == fmt::format("{}", area32_mm2));
  CHECK(cell(t, 1, "chips") == "1");
  CHECK(cell(t, 1, "cycles").empty());
  // Skipped after running: the metrics stay.
  CHECK(cell(t, 2, "error") == "constraint tokens <= 1 not met (2)");
  CHECK_FALSE(cell(t, 2, "cycles").empty());
  // The estimate before running is the run's own area.
  CHECK(cell(t, 0, "area_mm2") == fmt::format("{}", area16_mm2));
}

TEST_CASE("sweep --resume after a cut-short results file runs only the missing points", "[sweep][cli]") {
  const SweepDir d("resume");
  d.spec("spec.yaml", kGridSpec);
  REQUIRE(d.tasim("sweep spec.yaml -o full.csv").exit_code == 0);
  // What a killed sweep leaves: rows in finish order, the last one cut short.
  const auto full = lines_of(d.text("full.csv"));
  REQUIRE(full.size() == 5);
  write_text(d.file("partial.csv"), full[0] + "\n" + full[3] + "\n" + full[1] + "\n" + full[4].substr(0, 20));
  write_text(d.file("partial.jsonl"), "");
  const auto r = d.tasim("sweep spec.yaml -o partial.csv --resume -j 1");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("dropping its last row, cut short"));
  CHECK_THAT(r.output, Catch::Contains("sweep: 4 points, 2 done before; running 2 with -j 1"));
  CHECK_THAT(r.output, Catch::Contains("sweep: point 1 ok (3/4"));
  CHECK_THAT(r.output, Catch::Contains("sweep: point 3 ok (4/4"));
  CHECK_THAT(r.output, !Catch::Contains("sweep: point 0 ") && !Catch::Contains("sweep: point 2 "));
  CHECK(d.text("partial.csv") == d.text("full.csv"));
  CHECK(d.text("partial.jsonl") == d.text("full.jsonl"));
  // Complete: nothing left to run.
  const auto again = d.tasim("sweep spec.yaml -o partial.csv --resume");
  CHECK_THAT(again.output, Catch::Contains("4 done before; running 0"));
  CHECK(d.text("partial.csv") == d.text("full.csv"));
}

TEST_CASE("sweep --resume keeps failed points unless --retry-failed", "[sweep][cli]") {
  const SweepDir d("retry");
  d.spec("spec.yaml", kGridSpec);
  REQUIRE(d.tasim_crashing_point("sweep spec.yaml -o results.csv", 1).exit_code == 1);
  const auto kept = d.tasim("sweep spec.yaml -o results.csv --resume");
  CHECK(kept.exit_code == 1);  // the failed row is still there
  CHECK_THAT(kept.output, Catch::Contains("running 0"));
  const auto retried = d.tasim("sweep spec.yaml -o results.csv --resume --retry-failed");
  INFO(retried.output);
  CHECK(retried.exit_code == 0);
  CHECK_THAT(retried.output, Catch::Contains("3 done before; running 1"));
  CHECK(column(d.results("results.csv"), "status") == Strings{"ok", "ok", "ok", "ok"});
}

TEST_CASE("an interrupted sweep keeps its finished rows and --resume completes it", "[sweep][cli]") {
  const SweepDir d("interrupt");
  d.spec("spec.yaml", R"(base: {arch: small, model: tiny.yaml, run: {context_len: 16}}
axes:
  run.batch: {from: 1, to: 40, step: 1}
)");
  // SIGINT once the first row is on disk, as Ctrl-C would.
  const auto r =
      run_command(fmt::format("cd '{}' && ('{}' sweep spec.yaml -o results.csv -j 1 2>err.txt & pid=$!; "
                              "for i in $(seq 3000); do [ -f results.csv ] && [ \"$(wc -l < "
                              "results.csv)\" -ge 2 ] && break; sleep 0.01; done; kill -INT $pid; wait "
                              "$pid; echo \"exit $?\")",
                              d.dir, build_path("tasim")));
  INFO(r.output << d.text("err.txt"));
  CHECK_THAT(r.output, Catch::Contains("exit 130"));
  CHECK_THAT(d.text("err.txt"), Catch::Contains("sweep: interrupted by signal 2 (INT)"));
  const std::string csv = d.text("results.csv");
  REQUIRE(!csv.empty());
  CHECK(csv.back() == '\n');  // no row cut short
  const Table t = d.results("results.csv");
  CHECK(t.rows.size() >= 1);
  CHECK(t.rows.size() < 40);
  for (const auto& s : column(t, "status")) CHECK(s == "ok");

  const auto resumed = d.tasim("sweep spec.yaml -o results.csv --resume -j 2");
  INFO(resumed.output);
  CHECK(resumed.exit_code == 0);
  REQUIRE(d.tasim("sweep spec.yaml -o full.csv -j 2").exit_code == 0);
  CHECK(d.text("results.csv") == d.text("full.csv"));
  CHECK(d.text("results.jsonl") == d.text("full.jsonl"));
}

TEST_CASE("results are not overwritten and a different spec's results are not resumed", "[sweep][cli]") {
  const SweepDir d("overwrite");
  d.spec("spec.yaml", kGridSpec);
  REQUIRE(d.tasim("sweep spec.yaml -o results.csv").exit_code == 0);
  const auto again = d.tasim("sweep spec.yaml -o results.csv");
  CHECK(again.exit_code == 2);
  CHECK(again.output ==
        "tasim: error: results.csv exists: --resume to complete it, or --force to overwrite it\n");
  CHECK(d.tasim("sweep spec.yaml -o results.csv --force").exit_code == 0);

  d.spec("other.yaml", R"(base: {arch: small, model: tiny.yaml}
axes:
  run.batch: [1, 4]
  arch.core.matrix.rows: [16, 32]
)");
  const auto other = d.tasim("sweep other.yaml -o results.csv --resume");
  CHECK(other.exit_code == 2);
  CHECK(other.output ==
        "tasim: error: results.csv was written by a different spec (point 2: run.batch is 2 there, 4 "
        "here): use another -o, or --force to overwrite it\n");
  d.spec("axes.yaml", "base: {arch: small, model: tiny.yaml}\naxes: {run.batch: [1, 2]}\n");
  const auto axes = d.tasim("sweep axes.yaml -o results.csv --resume");
  CHECK(axes.exit_code == 2);
  CHECK_THAT(axes.output, Catch::Contains("column 3 is 'arch.core.matrix.rows' there, 'status' here"));
}

TEST_CASE("shards 0/2 and 1/2 merged are the whole sweep", "[sweep][cli]") {
  const SweepDir d("shards");
  d.spec("spec.yaml", kGridSpec);
  REQUIRE(d.tasim("sweep spec.yaml -o full.csv").exit_code == 0);
  REQUIRE(d.tasim("sweep spec.yaml -o s0.csv --shard 0/2").exit_code == 0);
  REQUIRE(d.tasim("sweep spec.yaml -o s1.csv --shard 1/2").exit_code == 0);
  CHECK(column(d.results("s0.csv"), "point") == Strings{"0", "2"});
  CHECK(column(d.results("s1.csv"), "point") == Strings{"1", "3"});
  const auto m = d.tasim("sweep-merge -o merged.csv s1.csv s0.csv");
  INFO(m.output);
  CHECK(m.exit_code == 0);
  CHECK(m.output ==
        "sweep-merge: 4 rows from 2 files: 4 ok, 0 failed, 0 skipped; wrote merged.csv and merged.jsonl\n");
  CHECK(d.text("merged.csv") == d.text("full.csv"));
  CHECK(d.text("merged.jsonl") == d.text("full.jsonl"));
  // A shard with no points writes just the header, and merges as nothing.
  REQUIRE(d.tasim("sweep spec.yaml -o s5.csv --shard 5/6").exit_code == 0);
  CHECK(d.results("s5.csv").rows.empty());
  REQUIRE(d.tasim("sweep-merge -o merged2.csv s0.csv s5.csv s1.csv").exit_code == 0);
  CHECK(d.text("merged2.csv") == d.text("full.csv"));
  CHECK(d.tasim("sweep spec.yaml -o x.csv --shard 2/2").output ==
        "tasim: error: --shard '2/2': i must be below N; shards are numbered from 0 (write i/N with 0 <= i "
        "< N, e.g. 0/4)\n");
}

TEST_CASE("sweep-merge refuses duplicate points mismatched columns and cut-short files", "[sweep][cli]") {
  const SweepDir d("merge_errors");
  d.spec("spec.yaml", kGridSpec);
  d.spec("other.yaml", "base: {arch: small, model: tiny.yaml}\naxes: {run.batch: [1, 2]}\n");
  REQUIRE(d.tasim("sweep spec.yaml -o s0.csv --shard 0/2").exit_code == 0);
  REQUIRE(d.tasim("sweep other.yaml -o o.csv").exit_code == 0);
  const auto dup = d.tasim("sweep-merge -o m.csv s0.csv s0.csv");
  CHECK(dup.exit_code == 2);
  CHECK(dup.output == "tasim: error: s0.csv: point 0 is also in s0.csv\n");
  const auto cols = d.tasim("sweep-merge -o m.csv s0.csv o.csv");
  CHECK(cols.exit_code == 2);
  CHECK(cols.output ==
        "tasim: error: o.csv: its columns differ from those of s0.csv (shards of one spec have the same "
        "columns)\n");
  write_text(d.file("cut.csv"), d.text("s0.csv").substr(0, d.text("s0.csv").size() - 5));
  const auto cut = d.tasim("sweep-merge -o m.csv cut.csv");
  CHECK(cut.exit_code == 2);
  CHECK_THAT(cut.output, Catch::Contains("cut.csv: its last row is cut short"));
  CHECK_FALSE(fs::exists(d.file("m.csv")));
  // Gaps are reported but merge.
  const auto gaps = d.tasim("sweep-merge -o m.csv s0.csv");
  CHECK(gaps.exit_code == 0);
  CHECK_THAT(gaps.output, Catch::Contains("warning: no row for 1 of the points before the last: 1"));
}

TEST_CASE("sweep --pareto marks the ok rows no other ok row beats", "[sweep][cli]") {
  const SweepDir d("pareto");
  d.spec("spec.yaml", R"(base: {arch: small, model: tiny.yaml, run: {context_len: 16}}
axes:
  run.batch: [1, 4]
  arch.core.matrix.rows: [8, 16, 32, 0]
)");
  const auto r = d.tasim("sweep spec.yaml -o results.csv --pareto x=area_mm2,y=tokens_per_second");
  INFO(r.output);
  CHECK(r.exit_code == 1);  // rows 0 fail
  CHECK_THAT(
      r.output,
      Catch::Contains(
          "sweep: pareto objectives: x=area_mm2 (min, inferred), y=tokens_per_second (max, inferred)"));
  const Table t = d.results("results.csv");
  REQUIRE(t.header.back() == "pareto");
  std::size_t on_front = 0;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    INFO("point " << i);
    if (cell(t, i, "status") != "ok") {
      CHECK(cell(t, i, "pareto").empty());
      continue;
    }
    const double area = std::stod(cell(t, i, "area_mm2")), tps = std::stod(cell(t, i, "tokens_per_second"));
    bool beaten = false;
    for (std::size_t j = 0; j < t.rows.size(); ++j) {
      if (cell(t, j, "status") != "ok") continue;
      const double a = std::stod(cell(t, j, "area_mm2")), s = std::stod(cell(t, j, "tokens_per_second"));
      beaten = beaten || (a <= area && s >= tps && (a < area || s > tps));
    }
    CHECK(cell(t, i, "pareto") == (beaten ? "0" : "1"));
    on_front += !beaten;
  }
  CHECK(on_front >= 2);  // batch 4 is faster on every array; a smaller array is smaller
  // Re-marking a file without the column gives the same bytes as marking during the sweep.
  REQUIRE(d.tasim("sweep spec.yaml -o plain.csv").exit_code == 1);
  CHECK(d.tasim("sweep-merge -o marked.csv --pareto x=area_mm2,y=tokens_per_second plain.csv").exit_code ==
        0);
  CHECK(d.text("marked.csv") == d.text("results.csv"));
  CHECK(d.text("marked.jsonl") == d.text("results.jsonl"));
  const auto bad = d.tasim("sweep spec.yaml -o x.csv --pareto x=run.batch,y=mfu");
  CHECK(bad.exit_code == 2);
  CHECK(bad.output ==
        "tasim: error: --pareto: cannot tell whether run.batch is better small or large: write "
        "x=run.batch:min or x=run.batch:max\n");
}

TEST_CASE("bad sweep specs are one line and exit status 2 before anything runs", "[sweep][cli]") {
  const SweepDir d("spec_errors");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"axis: {run.batch: [1]}\n",
       "tasim: error: spec.yaml:1:1: unknown key 'axis' at the top level (did you mean 'axes'?)"},
      {"axes: {run.bach: [1]}\n",
       "tasim: error: spec.yaml:1:8: axis 'run.bach': unknown run option 'bach' (did you mean 'batch'?)"},
      {"axes: {arch.core.matrix.row: [1]}\n",
       "tasim: error: spec.yaml:1:8: axis 'arch.core.matrix.row': unknown key 'core.matrix.row' (did you "
       "mean 'core.matrix.rows'?)"},
      {"axes: {run.batch: [1, 2], run.context_len: [8]}\nmode: zip\n",
       "tasim: error: spec.yaml:1:7: mode: zip needs axes of one length: run.batch has 2, run.context_len "
       "has 1"},
      {"axes: {run.batch: [1, 2]}\nmode: random\nsamples: 5\n",
       "tasim: error: spec.yaml:3:10: samples: 5 is more than the 2 points of the grid"},
  };
  for (const auto& [yaml, message] : cases) {
    INFO(yaml);
    d.spec("spec.yaml", yaml);
    const auto r = d.tasim("sweep spec.yaml -o results.csv");
    CHECK(r.exit_code == 2);
    CHECK(lines_of(r.output).size() == 1);
    CHECK_THAT(r.output, Catch::StartsWith(message));
    CHECK_FALSE(fs::exists(d.file("results.csv")));
  }
  const auto missing = d.tasim("sweep nothing.yaml -o results.csv");
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.output, Catch::StartsWith("tasim: error: nothing.yaml: cannot open sweep spec"));
}

TEST_CASE("tasim sweep --help explains the spec format", "[sweep][cli]") {
  const auto r = run_tasim("sweep --help");
  CHECK(r.exit_code == 0);
  for (const char* s : {"base:", "axes:", "mode: grid", "samples:", "constraints:", "--resume", "--shard",
                        "--pareto", "--timeout-s", "--dry-run", "Exit status"}) {
    CHECK_THAT(r.output, Catch::Contains(s));
  }
  CHECK_THAT(run_tasim("sweep-merge --help").output, Catch::Contains("tasim sweep-merge -o merged.csv"));
  CHECK_THAT(run_tasim("--help").output, Catch::Contains("sweep-merge"));
}

TEST_CASE("the example specs in configs/sweeps load", "[sweep][cli]") {
  for (const auto& entry : fs::directory_iterator(source_path("configs/sweeps"))) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path());
    const auto r = run_tasim("sweep '" + entry.path().string() + "' --dry-run");
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains(" points"));
  }
}

TEST_CASE("sweep results follow a link and refuse a FIFO and name a folder they cannot create", "[sweep][cli][output]") {
  const SweepDir d("outputs");
  d.spec("spec.yaml", kGridSpec);
  // A link to a results file: the file is replaced, the link kept.
  write_text(d.file("kept.csv"), "old\n");
  fs::create_symlink("kept.csv", d.file("link.csv"));
  auto r = d.tasim("sweep spec.yaml -o link.csv --force");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(fs::is_symlink(fs::symlink_status(d.file("link.csv"))));
  CHECK(column(d.results("kept.csv"), "status") == Strings{"ok", "ok", "ok", "ok"});
  // A FIFO is refused, and stays a FIFO.
  REQUIRE(::mkfifo(d.file("pipe.csv").c_str(), 0600) == 0);
  r = d.tasim("sweep spec.yaml -o pipe.csv --force");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("pipe.csv: sweep results need a regular file"));
  CHECK(fs::is_fifo(fs::status(d.file("pipe.csv"))));
  r = d.tasim("sweep-merge -o pipe.csv kept.csv");
  CHECK(r.exit_code == 2);
  CHECK(fs::is_fifo(fs::status(d.file("pipe.csv"))));
  // A folder that cannot be created is named, not a temporary file.
  write_text(d.file("plain"), "a file, not a folder\n");
  r = d.tasim("sweep spec.yaml -o plain/sub/results.csv");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("cannot create the folder plain/sub"));
  CHECK_THAT(r.output, !Catch::Contains(".tmp"));
}

TEST_CASE("a row the results file cannot take stops the sweep, is never reported as done, and resumes", "[sweep][cli][output]") {
  // A file-size limit of 1 KiB (ulimit -f counts 512-byte blocks in Debian's sh; SIGXFSZ ignored so
  // that the write fails with EFBIG) stands in for a full disk: the CSV takes its header and one
  // row, not two.
  const SweepDir d("full");
  d.spec("spec.yaml", kGridSpec);
  auto r = run_command(fmt::format("cd '{}' && ulimit -f 2 && trap '' XFSZ && SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 '{}' "
                                   "sweep spec.yaml -o results.csv -j 1 2>&1",
                                   d.dir, build_path("tasim")));
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("tasim: error: results.csv: cannot write (File too large)"));
  CHECK_THAT(r.output, Catch::Contains("point 0 ok (1/4"));
  CHECK_THAT(r.output, !Catch::Contains("point 1 ok") && !Catch::Contains("wrote"));
  // What was written is kept, and --resume (no limit now) completes the sweep.
  r = d.tasim("sweep spec.yaml -o results.csv --resume");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(column(d.results("results.csv"), "status") == Strings{"ok", "ok", "ok", "ok"});
  CHECK(lines_of(d.text("results.jsonl")).size() == 4);
}

TEST_CASE("sweep-merge names a huge point index and counts a wide gap without listing it", "[sweep][cli][errors]") {
  const SweepDir d("huge_points");
  const std::string header = "point,status,error,cycles\n";
  write_text(d.file("far.csv"), header + "0,ok,,1\n399999999,ok,,2\n");
  auto r = d.tasim("sweep-merge -o merged.csv far.csv");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("no row for 399999998 of the points before the last: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ..."));
  write_text(d.file("huge.csv"), header + "18446744073709551615,ok,,1\n");
  r = d.tasim("sweep-merge -o merged.csv huge.csv");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("huge.csv:2: point 18446744073709551615 is too large for a point index"));
  write_text(d.file("beyond.csv"), header + "99999999999999999999999,ok,,1\n");
  r = d.tasim("sweep-merge -o merged.csv beyond.csv");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("is too large for a point index"));
  CHECK_THAT(r.output, !Catch::Contains("internal error"));
}
