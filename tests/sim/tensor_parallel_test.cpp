// Tensor-parallel steps: every chip runs its share with all-reduces over the simulated links.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>

#include "cli_util.h"
#include "perfetto_subset.pb.h"

using namespace tasim::testing;

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

// Every impossible layout is checked at the library (tests/sim/step_driver_test.cpp); here, that the
// command line turns one into one line and exit status 2.
TEST_CASE("an impossible parallel layout gets one clear line", "[tp][errors]") {
  const auto r = run_tasim("run --arch sohu-like --tp 8");
  CHECK(r.exit_code == 2);
  CHECK(r.output == "tasim: error: tp 8 needs a system of 8 chips; sohu-like has 1 (a multi-chip preset such as "
                    "sohu-like-8x, or system.chips = 8)\n");
}

TEST_CASE("a TP run's trace has a process per chip and its links with flow arrows", "[tp][trace]") {
  const std::string trace_path = build_path("tp_trace.pftrace");
  const auto r = run_tasim("run --arch sohu-like-8x --model llama-3-8b --batch 2 --context-len 64 --tp 8 --trace " +
                           trace_path + " --json -", true);
  REQUIRE(r.exit_code == 0);
  perfetto::protos::Trace trace;
  REQUIRE(trace.ParseFromString(read_file(trace_path)));
  std::set<int> pids;
  int link_tracks = 0;
  std::map<std::uint64_t, int> flow_starts, flow_ends;
  for (const auto& p : trace.packet()) {
    if (p.has_track_descriptor()) {
      const auto& d = p.track_descriptor();
      if (d.has_process()) pids.insert(d.process().pid());
      if (d.has_thread() && d.thread().thread_name().rfind("link ", 0) == 0) ++link_tracks;
    }
    if (p.has_track_event()) {
      for (auto id : p.track_event().flow_ids()) ++flow_starts[id];
      for (auto id : p.track_event().terminating_flow_ids()) ++flow_ends[id];
    }
  }
  CHECK(pids.size() == 8);
  CHECK(link_tracks >= 8);  // every chip drives links (switch: an uplink and a downlink each)
  REQUIRE(!flow_starts.empty());
  // Every arrow from a send ends at its receive.
  for (const auto& [id, n] : flow_starts) {
    CHECK(n == 1);
    CHECK(flow_ends[id] == 1);
  }
}
