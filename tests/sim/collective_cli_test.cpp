// `tasim collective` end to end: JSON keys and nccl-tests figures, the trace, bad input.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "cli_util.h"
#include "perfetto_subset.pb.h"

using namespace tasim::testing;

namespace {

YAML::Node parse_json(const std::string& text) { return YAML::Load(text); }

}  // namespace

TEST_CASE("tasim collective reports nccl-tests figures as JSON", "[cli][collective]") {
  const auto r = run_tasim("collective --op allreduce --bytes 1G --chips 8 --topology ring --json -", true);
  REQUIRE(r.exit_code == 0);
  const YAML::Node j = parse_json(r.output);
  CHECK(j["command"].as<std::string>() == "collective");
  CHECK(j["op"].as<std::string>() == "allreduce");
  CHECK(j["algo"].as<std::string>() == "ring");
  CHECK(j["chips"].as<int>() == 8);
  CHECK(j["topology"].as<std::string>() == "ring");
  CHECK(j["bytes"].as<std::uint64_t>() == (1ull << 30));
  CHECK(j["steps"].as<int>() == 14);
  const double seconds = j["seconds"].as<double>();
  const double algbw = j["algbw_gbps"].as<double>(), busbw = j["busbw_gbps"].as<double>();
  const double link = j["link_bandwidth_gbps"].as<double>();
  CHECK(algbw == Approx(static_cast<double>(1ull << 30) / seconds / 1e9));
  CHECK(busbw == Approx(algbw * 2 * 7 / 8));
  CHECK(j["bus_factor"].as<double>() == Approx(1.75));
  CHECK(link == Approx(j["link_bandwidth_gbps"].as<double>()));
  // An idle ring: within 5% of one link's bandwidth, never above it.
  CHECK(busbw <= link);
  CHECK(busbw >= 0.95 * link);
  CHECK(j["link_latency_ns"].as<double>() > 0);
  REQUIRE(j["links"].size() == 16);
  double max_util = 0;
  for (const auto& l : j["links"]) {
    const double u = l["utilization"].as<double>();
    CHECK(u >= 0.0);
    CHECK(u <= 1.0);
    CHECK(l["gbps"].as<double>() <= link);
    max_util = std::max(max_util, u);
  }
  CHECK(j["max_link_utilization"].as<double>() == Approx(max_util));
  CHECK(j["max_link_utilization"].as<double>() > 0.95);
  CHECK(j["links"][0]["name"].as<std::string>() == "link 0->1");
}

TEST_CASE("tasim collective applies nccl-tests' bus bandwidth factor per op", "[cli][collective]") {
  // On a switch every chip has its own port each way, so each op's busbw approaches the port's
  // bandwidth for large messages.
  const std::map<std::string, double> factor{{"allreduce", 2.0 * 3 / 4},
                                             {"allgather", 3.0 / 4},
                                             {"reducescatter", 3.0 / 4},
                                             {"alltoall", 3.0 / 4},
                                             {"sendrecv", 1.0}};
  for (const auto& [op, f] : factor) {
    const auto r = run_tasim(
        fmt::format("collective --op {} --bytes 256M --chips 4 --topology switch --json -", op), true);
    REQUIRE(r.exit_code == 0);
    const YAML::Node j = parse_json(r.output);
    INFO(op);
    CHECK(j["topology"].as<std::string>() == "switch");
    CHECK(j["algo"].as<std::string>() == (op == "alltoall" || op == "sendrecv" ? "direct" : "ring"));
    CHECK(j["bus_factor"].as<double>() == Approx(f));
    const double busbw = j["busbw_gbps"].as<double>(), port = j["link_bandwidth_gbps"].as<double>();
    CHECK(busbw == Approx(j["algbw_gbps"].as<double>() * f));
    CHECK(busbw <= port);
    CHECK(busbw >= 0.95 * port);
  }
}

TEST_CASE("tasim collective runs on a torus and fully connected, and the direct algorithm",
          "[cli][collective]") {
  auto r = run_tasim(
      "collective --op allreduce --bytes 64M --chips 16 --topology torus2d --set "
      "system.link.ports_per_chip=4 --json -",
      true);
  REQUIRE(r.exit_code == 0);
  YAML::Node j = parse_json(r.output);
  CHECK(j["torus_rows"].as<int>() == 4);
  CHECK(j["torus_cols"].as<int>() == 4);
  CHECK(j["busbw_gbps"].as<double>() <= j["link_bandwidth_gbps"].as<double>());
  r = run_tasim(
      "collective --op allreduce --algo direct --bytes 64M --chips 8 --topology fully-connected "
      "--set system.link.ports_per_chip=7 --json -",
      true);
  REQUIRE(r.exit_code == 0);
  j = parse_json(r.output);
  CHECK(j["algo"].as<std::string>() == "direct");
  CHECK(j["steps"].as<int>() == 2);
  CHECK(j["links"].size() == 56);
  // Each chip drives 7 links at once: busbw is normalized to a ring's, so it exceeds one link.
  CHECK(j["busbw_gbps"].as<double>() > j["link_bandwidth_gbps"].as<double>());
  CHECK(j["max_link_utilization"].as<double>() <= 1.0);
}

TEST_CASE("tasim collective writes a text report without --json -", "[cli][collective]") {
  const auto r = run_tasim("collective --op allgather --bytes 4K --chips 4");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("allgather (ring) of 4.00 KiB on 4 chips"));
  CHECK_THAT(r.output, Catch::Contains("busbw"));
  CHECK_THAT(r.output, Catch::Contains("link 0->1"));
}

TEST_CASE("a collective trace decodes with balanced slices, link tracks and matched flows",
          "[cli][collective][trace]") {
  const std::string trace_path = build_path("e2e_collective.pftrace");
  const auto r = run_tasim(
      "collective --op allreduce --bytes 1M --chips 4 --topology ring --json - --trace " + trace_path, true);
  REQUIRE(r.exit_code == 0);
  perfetto::protos::Trace trace;
  REQUIRE(trace.ParseFromString(read_file(trace_path)));
  std::map<std::uint64_t, std::string> track_names;
  std::set<std::string> processes;
  std::map<std::uint64_t, int> depth;
  std::map<std::uint64_t, std::uint64_t> last_ts;
  std::map<std::uint32_t, std::map<std::uint64_t, std::string>> names;
  std::map<std::uint64_t, int> flow_starts, flow_ends;
  std::map<std::string, int> slices_by_track;
  for (const auto& p : trace.packet()) {
    if (p.has_track_descriptor()) {
      const auto& d = p.track_descriptor();
      if (d.has_thread()) track_names[d.uuid()] = d.thread().thread_name();
      if (d.has_process()) processes.insert(d.process().process_name());
    }
    if (p.has_interned_data()) {
      for (const auto& e : p.interned_data().event_names())
        names[p.trusted_packet_sequence_id()][e.iid()] = e.name();
    }
    if (!p.has_track_event()) continue;
    const auto& e = p.track_event();
    REQUIRE(track_names.count(e.track_uuid()));
    CHECK(p.timestamp() >= last_ts[e.track_uuid()]);
    last_ts[e.track_uuid()] = p.timestamp();
    if (e.type() == perfetto::protos::TrackEvent::TYPE_SLICE_BEGIN) {
      ++depth[e.track_uuid()];
      CHECK(depth[e.track_uuid()] == 1);  // link, receive and step slices never overlap on a track
      ++slices_by_track[track_names[e.track_uuid()]];
      for (auto id : e.flow_ids()) ++flow_starts[id];
      for (auto id : e.terminating_flow_ids()) ++flow_ends[id];
    } else if (e.type() == perfetto::protos::TrackEvent::TYPE_SLICE_END) {
      CHECK(depth[e.track_uuid()] > 0);
      --depth[e.track_uuid()];
    }
  }
  for (const auto& [track, d] : depth) CHECK(d == 0);
  CHECK(processes.size() == 4);
  CHECK(processes.count("chip0 (sohu-like)") == 1);
  // A ring all-reduce on 4 chips: 6 steps, one transfer per chip per step, each a slice on its
  // link, a receive slice, and one flow arrow from the first to the second.
  CHECK(slices_by_track["link 0->1"] == 6);
  CHECK(slices_by_track["link 1->0"] == 0);
  CHECK(slices_by_track["allreduce 0 steps"] == 4 * 6);  // the name repeats on every chip
  CHECK(slices_by_track["recv 0"] == 4 * 6);
  CHECK(flow_starts.size() == 24);
  for (const auto& [id, n] : flow_starts) {
    CHECK(n == 1);
    CHECK(flow_ends[id] == 1);
  }
  CHECK(flow_ends.size() == flow_starts.size());

  // The Chrome JSON fallback is written too.
  const std::string json_trace = build_path("e2e_collective.json");
  REQUIRE(run_tasim("collective --op alltoall --bytes 1M --chips 4 --topology switch --json - --trace-format "
                    "json --trace " +
                        json_trace,
                    true)
              .exit_code == 0);
  const YAML::Node events = YAML::Load(read_file(json_trace));
  CHECK(events.size() > 0);
}

TEST_CASE("tasim collective gives identical JSON and traces for the same inputs",
          "[cli][collective][determinism]") {
  std::string json[2], traces[2];
  for (int i = 0; i < 2; ++i) {
    const std::string t = build_path(fmt::format("det_collective_{}.pftrace", i));
    const auto r = run_tasim(
        "collective --op alltoall --bytes 3M --chips 8 --topology ring --json - --trace " + t, true);
    REQUIRE(r.exit_code == 0);
    json[i] = r.output;
    traces[i] = read_file(t);
  }
  CHECK(json[0] == json[1]);
  CHECK(!traces[0].empty());
  CHECK(traces[0] == traces[1]);
}

TEST_CASE("tasim collective refuses bad input with one line and exit status 2", "[cli][collective][errors]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--op allreduce --bytes 0 --chips 8", "--bytes 0 must be >= 1"},
      {"--op allreduce --bytes=-5 --chips 8", "must be >= 1"},
      {"--op allreduce --bytes 12Q --chips 8", "is not a byte count"},
      {"--op allreduce --bytes 1M --chips 1", "--chips 1 must be >= 2"},
      {"--op allsum --bytes 1M --chips 8", "--op 'allsum' is not one of"},
      {"--op allreduce --bytes 1M --chips 8 --topology mesh", "--topology 'mesh' is not one of"},
      {"--op allreduce --bytes 1M --chips 7 --topology torus2d --set system.link.ports_per_chip=4",
       "torus2d"},
      {"--op allreduce --bytes 1M --chips 8 --topology fully-connected", "ports_per_chip"},
      {"--op alltoall --algo ring --bytes 1M --chips 8", "direct only"},
      {"--op allreduce --algo tree --bytes 1M --chips 8", "--algo 'tree' is not one of"},
      {"--bytes 1M --chips 8", "--op is required"},
      {"--op allreduce --chips 8", "--bytes N is required"},
  };
  for (const auto& [args, message] : cases) {
    const auto r = run_tasim("collective " + args);
    INFO(args << "\n" << r.output);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::StartsWith("tasim: error: ") && Catch::Contains(message));
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  }
}
