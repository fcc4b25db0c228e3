// The trace of a real run, decoded with libprotobuf against our Perfetto proto subset.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "cli_util.h"
#include "perfetto_subset.pb.h"

using namespace tasim::testing;

TEST_CASE("a run's Perfetto trace decodes, with balanced slices per unit and counters", "[trace][e2e]") {
  const std::string trace_path = build_path("e2e_run.pftrace");
  const auto r = run_tasim("run --arch small --program " + source_path("isa/examples/gemm_tile.tasm") +
                           " --json - --trace " + trace_path, true);
  REQUIRE(r.exit_code == 0);
  perfetto::protos::Trace trace;
  REQUIRE(trace.ParseFromString(read_file(trace_path)));
  std::map<std::uint64_t, std::string> track_names;
  std::set<std::uint64_t> counter_tracks;
  std::map<std::uint64_t, int> depth;
  std::map<std::uint64_t, std::uint64_t> last_ts;
  std::map<std::uint32_t, std::map<std::uint64_t, std::string>> names;  // per sequence: iid -> name
  int slices = 0, counters = 0;
  for (const auto& p : trace.packet()) {
    if (p.has_track_descriptor()) {
      const auto& d = p.track_descriptor();
      std::string name = d.has_thread() ? d.thread().thread_name() : d.has_process() ? d.process().process_name() : d.name();
      track_names[d.uuid()] = name;
      if (d.has_counter()) counter_tracks.insert(d.uuid());
    }
    if (p.has_interned_data()) {
      for (const auto& e : p.interned_data().event_names()) names[p.trusted_packet_sequence_id()][e.iid()] = e.name();
    }
    if (!p.has_track_event()) continue;
    const auto& e = p.track_event();
    REQUIRE(track_names.count(e.track_uuid()));
    CHECK(p.timestamp() >= last_ts[e.track_uuid()]);
    last_ts[e.track_uuid()] = p.timestamp();
    if (e.type() == perfetto::protos::TrackEvent::TYPE_SLICE_BEGIN) {
      ++depth[e.track_uuid()];
      ++slices;
      REQUIRE(e.has_name_iid());
      CHECK(names[p.trusted_packet_sequence_id()].count(e.name_iid()) == 1);
    } else if (e.type() == perfetto::protos::TrackEvent::TYPE_SLICE_END) {
      CHECK(depth[e.track_uuid()] > 0);
      --depth[e.track_uuid()];
    } else if (e.type() == perfetto::protos::TrackEvent::TYPE_COUNTER) {
      CHECK(counter_tracks.count(e.track_uuid()) == 1);
      ++counters;
    }
  }
  for (const auto& [track, d] : depth) CHECK(d == 0);
  CHECK(slices > 0);
  CHECK(counters > 0);
  // A track per unit and counters for HBM bandwidth, matrix utilization and SRAM occupancy.
  std::set<std::string> all;
  for (const auto& [id, n] : track_names) all.insert(n);
  CHECK(all.count("core0.mxu0") == 1);
  CHECK(all.count("core0.dma0") == 1);
  CHECK(all.count("HBM bandwidth") == 1);
  CHECK(all.count("Matrix utilization") == 1);
  CHECK(all.count("core0 SRAM occupancy") == 1);
}

namespace {

// What a model step's trace holds on its unit tracks.
struct StepTraceShape {
  bool balanced = true;       // every slice begun is ended, in order
  bool saw_layer_slice = false;
  int deepest = 0;            // slices open at once on a track
  int matmuls_inside_qkv = 0; // matmul slices inside layer0 > layer0.attn.qkv
  int matmul_slices = 0;
  std::size_t bytes = 0;
};

StepTraceShape step_trace_shape(const std::string& args, const std::string& trace_path) {
  std::remove(trace_path.c_str());
  const auto r = run_tasim("run --arch tpu-v4-like --model gpt-style-1b --batch 2 --context-len 64 --json - --trace " +
                           trace_path + args, true);
  REQUIRE(r.exit_code == 0);
  const std::string bytes = read_file(trace_path);
  perfetto::protos::Trace trace;
  REQUIRE(trace.ParseFromString(bytes));
  StepTraceShape shape;
  shape.bytes = bytes.size();
  std::map<std::uint32_t, std::map<std::uint64_t, std::string>> names;  // sequence -> iid -> name
  std::map<std::uint64_t, std::vector<std::string>> stack;              // track -> open slices
  for (const auto& p : trace.packet()) {
    if (p.has_interned_data()) {
      for (const auto& e : p.interned_data().event_names()) names[p.trusted_packet_sequence_id()][e.iid()] = e.name();
    }
    if (!p.has_track_event()) continue;
    const auto& e = p.track_event();
    auto& st = stack[e.track_uuid()];
    if (e.type() == perfetto::protos::TrackEvent::TYPE_SLICE_BEGIN) {
      const std::string name = names[p.trusted_packet_sequence_id()][e.name_iid()];
      if (name == "matmul") ++shape.matmul_slices;
      if (name == "matmul" && st.size() >= 2 && st[st.size() - 1] == "layer0.attn.qkv" && st[st.size() - 2] == "layer0") {
        ++shape.matmuls_inside_qkv;
      }
      if (name == "layer0") shape.saw_layer_slice = true;
      st.push_back(name);
      shape.deepest = std::max(shape.deepest, static_cast<int>(st.size()));
    } else if (e.type() == perfetto::protos::TrackEvent::TYPE_SLICE_END) {
      if (st.empty()) {
        shape.balanced = false;
      } else {
        st.pop_back();
      }
    }
  }
  for (const auto& [track, st] : stack) shape.balanced = shape.balanced && st.empty();
  return shape;
}

}  // namespace

TEST_CASE("a model step's trace nests layer, op and instruction slices on each unit", "[trace][e2e][step]") {
  const StepTraceShape shape = step_trace_shape(" --trace-detail instruction", build_path("e2e_step.pftrace"));
  CHECK(shape.balanced);
  CHECK(shape.saw_layer_slice);
  CHECK(shape.deepest == 3);
  CHECK(shape.matmuls_inside_qkv > 0);
}

TEST_CASE("a model step's trace at the default detail has layer and op slices only", "[trace][e2e][step]") {
  const StepTraceShape ops = step_trace_shape("", build_path("e2e_step_ops.pftrace"));
  CHECK(ops.balanced);
  CHECK(ops.saw_layer_slice);
  CHECK(ops.deepest == 2);
  CHECK(ops.matmul_slices == 0);
  const StepTraceShape all = step_trace_shape(" --trace-detail instruction", build_path("e2e_step_all.pftrace"));
  CHECK(all.matmul_slices > 0);
  CHECK(ops.bytes * 5 < all.bytes);
  // A bad level is refused before anything runs.
  const auto r = run_tasim("run --trace-detail cycles");
  CHECK(r.exit_code == 2);
  CHECK(r.output == "tasim: error: --trace-detail 'cycles' is not one of: op, instruction\n");
}
