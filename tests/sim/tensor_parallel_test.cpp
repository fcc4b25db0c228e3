// Tensor-parallel steps: every chip runs its share with all-reduces over the simulated links.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <set>

#include "cli_util.h"
#include "perfetto_subset.pb.h"

using namespace tasim::testing;

namespace {

YAML::Node run_json(const std::string& args) {
  const auto r = run_tasim("run " + args + " --json -", true);
  REQUIRE(r.exit_code == 0);
  return YAML::Load(r.output);
}

}  // namespace

TEST_CASE("a TP=8 Llama-3-70B decode does the single chip's FLOPs and is faster", "[tp]") {
  const std::string common = "--arch sohu-like-8x --model llama-3-70b --dtype fp8 --batch 16 --context-len 2048";
  const YAML::Node one = run_json(common + " --tp 1");
  const YAML::Node eight = run_json(common + " --tp 8");
  CHECK(one["chips"].as<int>() == 1);
  CHECK(eight["chips"].as<int>() == 8);
  CHECK(eight["tp"].as<int>() == 8);
  // Column- and row-parallel shards split every matmul exactly: the chips' FLOPs add up to one chip's.
  CHECK(eight["flops"].as<std::uint64_t>() == one["flops"].as<std::uint64_t>());
  CHECK(eight["seconds"].as<double>() < one["seconds"].as<double>());
  // The all-reduces show up as ops of their own, and the model figures are the whole model's.
  bool saw_allreduce = false;
  for (const auto& op : eight["ops"]) saw_allreduce |= op["op"].as<std::string>() == "mlp.allreduce";
  CHECK(saw_allreduce);
  CHECK(eight["params"].as<std::uint64_t>() == 70553706496ull);
  CHECK(eight["seconds"].as<double>() >= eight["roofline_seconds"].as<double>());
}

TEST_CASE("impossible parallel layouts get one clear line", "[tp][errors]") {
  auto r = run_tasim("run --arch sohu-like --tp 8");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("--tp 8 needs a system of 8 chips"));
  r = run_tasim("run --arch sohu-like --chips 3 --tp 3");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("does not divide"));
  r = run_tasim("run --arch sohu-like-8x --pp 2");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("--pp"));
  r = run_tasim("run --arch sohu-like-8x --ep 8");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("--ep"));
}

TEST_CASE("a TP run's trace has a process per chip", "[tp][trace]") {
  const std::string trace_path = build_path("tp_trace.pftrace");
  const auto r = run_tasim("run --arch sohu-like-8x --model llama-3-8b --batch 2 --context-len 64 --tp 8 --trace " +
                           trace_path + " --json -", true);
  REQUIRE(r.exit_code == 0);
  perfetto::protos::Trace trace;
  REQUIRE(trace.ParseFromString(read_file(trace_path)));
  std::set<int> pids;
  for (const auto& p : trace.packet()) {
    if (p.has_track_descriptor() && p.track_descriptor().has_process()) pids.insert(p.track_descriptor().process().pid());
  }
  CHECK(pids.size() == 8);
}
