// The collectives of a run (or of a `tasim collective` study) in a trace: the engine reports
// transfers and steps as they happen; once the run is over they are written under each chip's
// process. Layout: a thread track per link a chip drives ("link 0->1"; a switch downlink sits
// under the receiving chip) with a slice per hop of each transfer, named by the step's phase;
// "recv N" lanes with a slice per arriving transfer (first byte to last byte); a track per chip
// and collective with a slice per step. A flow arrow runs from each transfer's first-hop slice to
// its receive slice.
#pragma once

#include <string>
#include <vector>

#include "models/collective_engine.h"
#include "sim/trace/trace_writer.h"

namespace tasim {

class CollectiveTraceRecorder : public CollectiveObserver {
 public:
  void on_transfer(const CollectiveTransfer& t) override { transfers_.push_back(t); }
  void on_step(int collective, int chip, int step, const char* phase, double begin_tick, double end_tick) override {
    steps_.push_back({collective, chip, step, phase, begin_tick, end_tick});
  }
  // `processes`: each chip's process track, in chip order. `ns_per_unit`: ns per engine time
  // unit (1 for a study in ns; 1 / clock_ghz in a chip run, whose engine counts cycles).
  void write(trace::TraceWriter& w, const Interconnect& net, const std::vector<CollectiveSpec>& specs,
             const std::vector<CollectiveSchedule>& schedules, const std::vector<trace::TrackId>& processes,
             double ns_per_unit) const;
  bool empty() const { return transfers_.empty() && steps_.empty(); }
  // Every hop of every transfer: the link it crossed, its service interval (engine time units)
  // and the transfer's bytes.
  template <class Visit>
  void for_each_hop(Visit&& visit) const {
    for (const auto& t : transfers_) {
      for (const auto& h : t.hops) visit(h.link, h.begin_tick, h.end_tick, t.bytes);
    }
  }

 private:
  struct StepRecord {
    int collective, chip, step;
    const char* phase;
    double begin_tick, end_tick;
  };
  std::vector<CollectiveTransfer> transfers_;
  std::vector<StepRecord> steps_;
};

}  // namespace tasim
