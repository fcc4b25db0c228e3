#include "sim/collective.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <memory>

#include "isa/error.h"
#include "sim/json_writer.h"
#include "sim/report.h"
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

namespace {

std::uint64_t ts(double ns) { return static_cast<std::uint64_t>(std::llround(std::max(0.0, ns))); }

// Records what the engine reports, then writes the trace once the run is over: receive slices
// are laid out on as few lanes per chip as overlap allows, which needs every receive first.
//
// Layout: a process per chip; under it a thread track per link the chip drives ("link 0->1";
// a switch downlink sits under the receiving chip) with a slice per hop of each transfer, named
// by the step's phase; "recv N" lanes with a slice per arriving transfer (first byte to last
// byte); a track per collective ("allreduce 0 steps") with a slice per step. A flow arrow runs
// from each transfer's first-hop slice to its receive slice.
class CollectiveTraceRecorder : public CollectiveObserver {
 public:
  void on_transfer(const CollectiveTransfer& t) override { transfers_.push_back(t); }
  void on_step(int collective, int chip, int step, const char* phase, double begin_ns,
               double end_ns) override {
    steps_.push_back({collective, chip, step, phase, begin_ns, end_ns});
  }

  void write(trace::TraceWriter& w, const Interconnect& net, const std::vector<CollectiveSpec>& specs,
             const std::string& arch) {
    const int chips = net.chips();
    std::vector<trace::TrackId> process;
    for (int c = 0; c < chips; ++c)
      process.push_back(w.add_process(c + 1, fmt::format("chip{} ({})", c, arch)));

    // Tracks in display order within each chip: its collectives' steps (one track per chip and
    // collective), its links, its receive lanes.
    std::map<std::pair<int, int>, trace::TrackId> step_track;
    for (const StepRecord& s : steps_) {
      const auto key = std::make_pair(s.chip, s.collective);
      if (step_track.count(key)) continue;
      const std::string name = fmt::format(
          "{} {} steps", collective_op_name(specs[static_cast<std::size_t>(s.collective)].op), s.collective);
      step_track.emplace(key, w.add_thread(process[static_cast<std::size_t>(s.chip)], name));
    }

    // Links, each chronological on its track (FCFS servers serve in issue order).
    std::vector<trace::TrackId> link_track;
    for (const auto& l : net.links()) link_track.push_back(w.add_thread(process[l.owner_chip()], l.name));
    std::vector<std::vector<std::size_t>> per_link(net.links().size());
    for (std::size_t i = 0; i < transfers_.size(); ++i) {
      for (const auto& h : transfers_[i].hops) per_link[static_cast<std::size_t>(h.link)].push_back(i);
    }
    for (std::size_t l = 0; l < per_link.size(); ++l) {
      for (std::size_t i : per_link[l]) {
        const CollectiveTransfer& t = transfers_[i];
        const auto hop = std::find_if(t.hops.begin(), t.hops.end(),
                                      [&](const HopService& h) { return h.link == static_cast<int>(l); });
        const trace::Arg args[] = {trace::Arg::integer("bytes", static_cast<std::int64_t>(t.bytes)),
                                   trace::Arg::integer("step", t.step), trace::Arg::integer("src", t.src),
                                   trace::Arg::integer("dst", t.dst),
                                   trace::Arg::integer("collective", t.collective)};
        const char* name = phase_of(t);
        if (hop == t.hops.begin()) {
          w.begin_with_flow(link_track[l], ts(hop->begin_ns), name, i + 1, false, args, std::size(args));
        } else {
          w.begin(link_track[l], ts(hop->begin_ns), name, args, std::size(args));
        }
        w.end(link_track[l], ts(hop->end_ns));
      }
    }

    // Receives: first byte (the last hop to start, plus the route's latency) to last byte.
    struct Receive {
      double begin, end;
      std::size_t transfer;
    };
    std::vector<std::vector<Receive>> receives(static_cast<std::size_t>(chips));
    for (std::size_t i = 0; i < transfers_.size(); ++i) {
      const CollectiveTransfer& t = transfers_[i];
      double first = t.issue_ns;
      for (const auto& h : t.hops) first = std::max(first, h.begin_ns);
      const double begin = std::min(first + net.route_latency_ns(t.src, t.dst), t.arrival_ns);
      receives[static_cast<std::size_t>(t.dst)].push_back({begin, t.arrival_ns, i});
    }
    for (int c = 0; c < chips; ++c) {
      auto& rs = receives[static_cast<std::size_t>(c)];
      std::stable_sort(rs.begin(), rs.end(), [](const Receive& a, const Receive& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
      });
      std::vector<trace::TrackId> lanes;
      std::vector<std::uint64_t> lane_end;
      for (const Receive& r : rs) {
        // Compare rounded times: what the writer sees must not go backwards on a lane.
        std::size_t lane = 0;
        while (lane < lanes.size() && lane_end[lane] > ts(r.begin)) ++lane;
        if (lane == lanes.size()) {
          lanes.push_back(w.add_thread(process[static_cast<std::size_t>(c)], fmt::format("recv {}", lane)));
          lane_end.push_back(0);
        }
        const CollectiveTransfer& t = transfers_[r.transfer];
        const trace::Arg args[] = {trace::Arg::integer("bytes", static_cast<std::int64_t>(t.bytes)),
                                   trace::Arg::integer("step", t.step), trace::Arg::integer("src", t.src),
                                   trace::Arg::integer("collective", t.collective)};
        w.begin_with_flow(lanes[lane], ts(r.begin), "recv", r.transfer + 1, true, args, std::size(args));
        w.end(lanes[lane], ts(r.end));
        lane_end[lane] = ts(r.end);
      }
    }

    // Steps: slices back to back.
    for (const StepRecord& s : steps_) {
      const trace::TrackId track = step_track.at({s.chip, s.collective});
      const trace::Arg args[] = {trace::Arg::integer("step", s.step),
                                 trace::Arg::integer("collective", s.collective)};
      w.begin(track, ts(s.begin_ns), s.phase, args, std::size(args));
      w.end(track, ts(s.end_ns));
    }
  }

  void set_phases(const std::vector<CollectiveSchedule>* schedules,
                  const std::vector<CollectiveSpec>* specs) {
    schedules_ = schedules;
    specs_ = specs;
  }

 private:
  struct StepRecord {
    int collective, chip, step;
    const char* phase;
    double begin_ns, end_ns;
  };

  // The phase of the sender's step that issued the transfer.
  const char* phase_of(const CollectiveTransfer& t) const {
    const CollectiveSpec& spec = (*specs_)[static_cast<std::size_t>(t.collective)];
    const auto p = std::find(spec.chips.begin(), spec.chips.end(), t.src) - spec.chips.begin();
    return (*schedules_)[static_cast<std::size_t>(t.collective)]
        .steps[static_cast<std::size_t>(p)][static_cast<std::size_t>(t.step)]
        .phase;
  }

  std::vector<CollectiveTransfer> transfers_;
  std::vector<StepRecord> steps_;
  const std::vector<CollectiveSchedule>* schedules_ = nullptr;
  const std::vector<CollectiveSpec>* specs_ = nullptr;
};

}  // namespace

CollectiveReport run_collective(const ChipConfig& chip, const CollectiveStudy& study) {
  const SystemConfig& system = chip.system;
  if (system.chips < 2) {
    throw Error(fmt::format(
        "a collective needs at least 2 chips, the system has {} (--chips P or system.chips)", system.chips));
  }
  if (study.bytes < 1) throw Error("--bytes must be >= 1");
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
  recorder.set_phases(&schedules, &specs);
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
  double start = results.front().start_ns, end = results.front().end_ns;
  for (const auto& r : results) {
    start = std::min(start, r.start_ns);
    end = std::max(end, r.end_ns);
    rep.steps = std::max(rep.steps, r.steps);
    rep.transfers += r.transfers;
    rep.bytes_sent += r.bytes_sent;
  }
  const double ns = end - start;
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
    lr.busy_ns = l.busy_ns();
    lr.utilization = ns > 0 ? std::min(1.0, l.busy_ns() / ns) : 0.0;
    lr.gbps = ns > 0 ? static_cast<double>(l.bytes()) / ns : 0.0;
    rep.max_link_utilization = std::max(rep.max_link_utilization, lr.utilization);
    rep.max_link_gbps = std::max(rep.max_link_gbps, lr.gbps);
    rep.links.push_back(std::move(lr));
  }
  if (writer) {
    recorder.write(*writer, net, specs, chip.name);
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
