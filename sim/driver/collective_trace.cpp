#include "sim/driver/collective_trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>

namespace tasim {

void CollectiveTraceRecorder::write(trace::TraceWriter& w, const Interconnect& net,
                                    const std::vector<CollectiveSpec>& specs,
                                    const std::vector<CollectiveSchedule>& schedules,
                                    const std::vector<trace::TrackId>& process, double ns_per_unit) const {
    const int chips = net.chips();
    auto ts = [&](double t) {
      return static_cast<std::uint64_t>(std::llround(std::max(0.0, t * ns_per_unit)));
    };
    // The phase of the sender's step that issued the transfer.
    auto phase_of = [&](const CollectiveTransfer& t) {
      const CollectiveSpec& spec = specs[static_cast<std::size_t>(t.collective)];
      const auto p = std::find(spec.chips.begin(), spec.chips.end(), t.src) - spec.chips.begin();
      return schedules[static_cast<std::size_t>(t.collective)]
          .steps[static_cast<std::size_t>(p)][static_cast<std::size_t>(t.step)]
          .phase;
    };

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
          w.begin_with_flow(link_track[l], ts(hop->begin_tick), name, i + 1, false, args, std::size(args));
        } else {
          w.begin(link_track[l], ts(hop->begin_tick), name, args, std::size(args));
        }
        w.end(link_track[l], ts(hop->end_tick));
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
      double first = t.issue_tick;
      for (const auto& h : t.hops) first = std::max(first, h.begin_tick);
      const double begin = std::min(first + net.route_latency_ticks(t.src, t.dst), t.arrival_tick);
      receives[static_cast<std::size_t>(t.dst)].push_back({begin, t.arrival_tick, i});
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
      w.begin(track, ts(s.begin_tick), s.phase, args, std::size(args));
      w.end(track, ts(s.end_tick));
    }
  }

}  // namespace tasim
