// `tasim collective`: one collective on the chips of a system, simulated over its links
// (models/collective_engine.h), reported the way nccl-tests reports it (algbw, busbw) plus per-link
// traffic, with an optional Perfetto trace. JSON keys are documented in docs/outputs.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/arch_config.h"
#include "models/collective_engine.h"

namespace tasim {

struct CollectiveStudy {
  CollectiveOp op = CollectiveOp::all_reduce;
  std::optional<CollectiveAlgo> algo;  // unset: ring for allreduce/allgather/reducescatter, else direct
  std::uint64_t bytes = 0;
  std::string trace_path;  // empty: no trace
  std::string trace_format = "perfetto";
};

struct LinkReport {
  std::string name;      // "link 0->1"
  int from = 0, to = 0;  // chips; -1 = the switch
  std::uint64_t bytes = 0;
  std::uint64_t transfers = 0;
  double busy_ns = 0.0;
  double utilization = 0.0;  // busy_ns / collective time, in [0, 1]
  double gbps = 0.0;         // bytes / collective time
};

struct CollectiveReport {
  std::string arch;
  CollectiveOp op = CollectiveOp::all_reduce;
  CollectiveAlgo algo = CollectiveAlgo::ring;
  int chips = 0;
  Topology topology = Topology::ring;
  int torus_rows = 0, torus_cols = 0;
  std::uint64_t bytes = 0;
  double seconds = 0.0;
  double algbw_gbps = 0.0;  // bytes / seconds / 1e9
  double bus_factor = 0.0;  // busbw / algbw (nccl-tests)
  double busbw_gbps = 0.0;
  double link_bandwidth_gbps = 0.0;  // one link, one direction (switch: one port)
  double link_latency_ns = 0.0;      // per hop (switch: chip -> switch -> chip)
  int steps = 0;                     // steps of one chip's schedule
  std::uint64_t transfers = 0;
  std::uint64_t bytes_sent = 0;  // payload issued by all chips
  std::uint64_t link_bytes = 0;  // summed over links (a 2-hop transfer counts twice)
  double max_link_utilization = 0.0;
  double max_link_gbps = 0.0;
  std::vector<LinkReport> links;
};

// nccl-tests' bus bandwidth factor: allreduce 2(P-1)/P; allgather, reducescatter, alltoall
// (P-1)/P; sendrecv 1.
double bus_bandwidth_factor(CollectiveOp op, int chips);

// Runs the study on chip.system (chips, topology, links). SystemC elaborates once per process:
// call once. Throws tasim::Error for bad input (chips < 2, bytes < 1, a ring algorithm for
// alltoall or sendrecv, an impossible topology).
CollectiveReport run_collective(const ChipConfig& chip, const CollectiveStudy& study);

std::string collective_report_json(const CollectiveReport& report);
std::string collective_report_text(const CollectiveReport& report);

}  // namespace tasim
