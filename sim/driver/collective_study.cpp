#include "sim/driver/collective_study.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <memory>

#include "common/error.h"
#include "common/json_writer.h"
#include "sim/report/report.h"
#include "sim/driver/collective_trace.h"
#include "sim/trace/trace_writer.h"

namespace tasim {

double bus_bandwidth_factor(CollectiveOp op, int chips) {
  const double p = chips;
  switch (op) {
    case CollectiveOp::all_reduce:
      return 2.0 * (p - 1.0) / p;
    case CollectiveOp::all_gather:
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::all_to_all:
      return (p - 1.0) / p;
    case CollectiveOp::send_recv:
      return 1.0;
  }
  return 1.0;
}

CollectiveReport run_collective(const ChipConfig& chip, const CollectiveStudy& study) {
  const SystemConfig& system = chip.system;
  if (system.chips < 2) {
    throw Error(fmt::format(
        "a collective needs at least 2 chips, the system has {} (--chips P or system.chips)", system.chips));
  }
  if (study.bytes < 1) throw Error("--bytes must be >= 1");
  // Link counters add bytes x hops over every chip: at most 2^50 bytes per chip keeps them far
  // from 2^64 on any system (chips are at most 2^8).
  constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 50;
  if (study.bytes > kMaxBytes) {
    throw Error(fmt::format("--bytes {} is more than a collective moves: at most {} (1 PiB) per chip", study.bytes,
                            kMaxBytes));
  }
  const bool direct_only = study.op == CollectiveOp::all_to_all || study.op == CollectiveOp::send_recv;
  const CollectiveAlgo algo =
      study.algo.value_or(direct_only ? CollectiveAlgo::direct : CollectiveAlgo::ring);
  if (direct_only && algo != CollectiveAlgo::direct) {
    throw Error(fmt::format("--algo {} is not available for {} (direct only)", collective_algo_name(algo),
                            collective_op_name(study.op)));
  }
  std::unique_ptr<trace::TraceWriter> writer;
  if (!study.trace_path.empty()) {
    writer = trace::open_trace(study.trace_path, trace::parse_trace_format(study.trace_format));
  }

  Interconnect net(system);
  const std::vector<int> order = net.ring_order();
  std::vector<TimedCollective> runs;
  if (study.op == CollectiveOp::send_recv) {
    // nccl-tests' sendrecv: every chip sends to the next one (in ring order) and receives from
    // the previous one, all at once; each pair is a point-to-point collective.
    for (std::size_t i = 0; i < order.size(); ++i) {
      CollectiveSpec spec;
      spec.op = CollectiveOp::send_recv;
      spec.algo = CollectiveAlgo::direct;
      spec.bytes = study.bytes;
      spec.chips = {order[i], order[(i + 1) % order.size()]};
      runs.push_back({spec, 0.0});
    }
  } else {
    CollectiveSpec spec;
    spec.op = study.op;
    spec.algo = algo;
    spec.bytes = study.bytes;
    spec.chips = order;
    runs.push_back({spec, 0.0});
  }
  std::vector<CollectiveSpec> specs;
  std::vector<CollectiveSchedule> schedules;
  for (const auto& r : runs) {
    specs.push_back(r.spec);
    schedules.push_back(build_schedule(r.spec));
  }
  CollectiveTraceRecorder recorder;
  const std::vector<CollectiveResult> results = simulate_collectives(net, runs, writer ? &recorder : nullptr);

  CollectiveReport rep;
  rep.arch = chip.name;
  rep.op = study.op;
  rep.algo = algo;
  rep.chips = net.chips();
  rep.topology = net.topology();
  rep.torus_rows = net.torus_rows();
  rep.torus_cols = net.torus_cols();
  rep.bytes = study.bytes;
  double start = results.front().start_tick, end = results.front().end_tick;
  for (const auto& r : results) {
    start = std::min(start, r.start_tick);
    end = std::max(end, r.end_tick);
    rep.steps = std::max(rep.steps, r.steps);
    rep.transfers += r.transfers;
    rep.bytes_sent += r.bytes_sent;
  }
  // The study's interconnect counts ticks of 1 ns (ticks_per_ns = 1).
  const double ns = (end - start) / net.ticks_per_ns();
  rep.seconds = ns * 1e-9;
  rep.algbw_gbps = rep.seconds > 0 ? static_cast<double>(rep.bytes) / rep.seconds / 1e9 : 0.0;
  rep.bus_factor = bus_bandwidth_factor(rep.op, rep.chips);
  rep.busbw_gbps = rep.algbw_gbps * rep.bus_factor;
  rep.link_bandwidth_gbps = net.link_gbps();
  rep.link_latency_ns =
      system.topology == Topology::switched ? system.switch_.latency_ns : system.link.latency_ns;
  rep.link_bytes = net.link_bytes();
  for (const auto& l : net.links()) {
    LinkReport lr;
    lr.name = l.name;
    lr.from = l.from;
    lr.to = l.to;
    lr.bytes = l.bytes();
    lr.transfers = l.transfers;
    lr.busy_ns = l.busy_ticks() / net.ticks_per_ns();
    lr.utilization = ns > 0 ? std::min(1.0, lr.busy_ns / ns) : 0.0;
    lr.gbps = ns > 0 ? static_cast<double>(l.bytes()) / ns : 0.0;
    rep.max_link_utilization = std::max(rep.max_link_utilization, lr.utilization);
    rep.max_link_gbps = std::max(rep.max_link_gbps, lr.gbps);
    rep.links.push_back(std::move(lr));
  }
  if (writer) {
    std::vector<trace::TrackId> processes;
    for (int c = 0; c < net.chips(); ++c) {
      processes.push_back(writer->add_process(c + 1, fmt::format("chip{} ({})", c, chip.name)));
    }
    recorder.write(*writer, net, specs, schedules, processes, 1.0);
    writer->close();
  }
  return rep;
}

std::string collective_report_json(const CollectiveReport& r) {
  JsonWriter j;
  j.begin_object();
  j.value("command", "collective");
  j.value("arch", r.arch);
  j.value("op", collective_op_name(r.op));
  j.value("algo", collective_algo_name(r.algo));
  j.value("chips", r.chips);
  j.value("topology", topology_name(r.topology));
  if (r.topology == Topology::torus2d) {
    j.value("torus_rows", r.torus_rows);
    j.value("torus_cols", r.torus_cols);
  }
  j.value("bytes", r.bytes);
  j.value("seconds", r.seconds);
  j.value("time_us", r.seconds * 1e6);
  j.value("algbw_gbps", r.algbw_gbps);
  j.value("busbw_gbps", r.busbw_gbps);
  j.value("bus_factor", r.bus_factor);
  j.value("link_bandwidth_gbps", r.link_bandwidth_gbps);
  j.value("link_latency_ns", r.link_latency_ns);
  j.value("steps", r.steps);
  j.value("transfers", r.transfers);
  j.value("bytes_sent", r.bytes_sent);
  j.value("link_bytes", r.link_bytes);
  j.value("max_link_utilization", r.max_link_utilization);
  j.value("max_link_gbps", r.max_link_gbps);
  j.begin_array("links");
  for (const auto& l : r.links) {
    j.begin_object();
    j.value("name", l.name);
    j.value("from", l.from);
    j.value("to", l.to);
    j.value("bytes", l.bytes);
    j.value("transfers", l.transfers);
    j.value("busy_ns", l.busy_ns);
    j.value("utilization", l.utilization);
    j.value("gbps", l.gbps);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.str();
}

std::string collective_report_text(const CollectiveReport& r) {
  std::string topo = topology_name(r.topology);
  if (r.topology == Topology::torus2d) topo += fmt::format(" {}x{}", r.torus_rows, r.torus_cols);
  std::string out = fmt::format("tasim collective: {} ({}) of {} on {} chips, {} topology ({})\n",
                                collective_op_name(r.op), collective_algo_name(r.algo),
                                format_bytes(static_cast<double>(r.bytes)), r.chips, topo, r.arch);
  out += fmt::format("  time             {}  ({} step{} per chip, {} transfers)\n", format_seconds(r.seconds),
                     r.steps, r.steps == 1 ? "" : "s", r.transfers);
  out += fmt::format("  algbw            {:.4g} GB/s  (bytes / time)\n", r.algbw_gbps);
  out += fmt::format(
      "  busbw            {:.4g} GB/s  (algbw x {:.4g}; one link carries {:g} GB/s per direction)\n",
      r.busbw_gbps, r.bus_factor, r.link_bandwidth_gbps);
  out += fmt::format("  link latency     {:g} ns {}\n", r.link_latency_ns,
                     r.topology == Topology::switched ? "(chip -> switch -> chip)" : "per hop");
  out += fmt::format("  bytes            {} sent by the chips, {} over links (each hop counts)\n",
                     format_bytes(static_cast<double>(r.bytes_sent)),
                     format_bytes(static_cast<double>(r.link_bytes)));
  // The busiest links (all that carried traffic when there are few).
  std::vector<const LinkReport*> used;
  for (const auto& l : r.links) {
    if (l.transfers > 0) used.push_back(&l);
  }
  out +=
      fmt::format("  links            {} directed, {} used; busiest {:.1f}% utilized, {:.4g} GB/s average\n",
                  r.links.size(), used.size(), 100.0 * r.max_link_utilization, r.max_link_gbps);
  std::stable_sort(used.begin(), used.end(),
                   [](const LinkReport* a, const LinkReport* b) { return a->busy_ns > b->busy_ns; });
  const std::size_t shown = std::min<std::size_t>(used.size(), 16);
  out +=
      used.size() > shown ? fmt::format("  busiest {} links:\n", shown) : std::string("  per used link:\n");
  for (std::size_t i = 0; i < shown; ++i) {
    const LinkReport& l = *used[i];
    out +=
        fmt::format("    {:<18} {:>10}  {:>5} transfers  {:>5.1f}% busy  {:>8.4g} GB/s\n", l.name,
                    format_bytes(static_cast<double>(l.bytes)), l.transfers, 100.0 * l.utilization, l.gbps);
  }
  return out;
}

}  // namespace tasim
