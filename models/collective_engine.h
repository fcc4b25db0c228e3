// Collectives over the chip-to-chip interconnect (arch/interconnect.h), simulated step by
// step with SystemC: each participant is an SC_THREAD that issues its step's sends (each a
// transfer that reserves every link of its route), waits until the data its step expects has
// arrived, and only then starts the next step. A collective's time therefore comes from the
// link traffic it generates and the contention it meets (from itself and from any other
// collective running at the same time), never from a closed formula.
//
// Step rule: participant p's step s begins when its step s-1 ended; it issues its sends at once
// (they queue FCFS on links); the step ends when every receive of step s has arrived (a step
// with no receives, e.g. a send_recv's sender, ends when its sends have arrived). A part is
// done when its last step ended and all its sends have arrived.
//
// Time: ticks of the Interconnect's time base (arch/interconnect.h) as double, one tick being one
// SystemC ns (SystemC's resolution is 1 ps): real ns in `tasim collective`, chip cycles in a chip
// simulation (models/chip.h). The engine keeps exact doubles for the schedule and waits SystemC
// time to match.
#pragma once

#ifndef SC_INCLUDE_DYNAMIC_PROCESSES
#define SC_INCLUDE_DYNAMIC_PROCESSES
#endif
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "arch/collective_schedule.h"
#include "arch/interconnect.h"

namespace tasim {

// One transfer of a collective, as the observer sees it when it is issued.
struct CollectiveTransfer {
  int collective = 0;
  int step = 0;
  int src = 0, dst = 0;  // chips
  std::uint64_t bytes = 0;
  double issue_tick = 0.0;
  double arrival_tick = 0.0;
  std::vector<HopService> hops;  // each link's service interval
};

// Hooks for traces and reports (sim/ implements them); calls come in simulated-time order of
// issue (transfers) and of completion (steps).
class CollectiveObserver {
 public:
  virtual ~CollectiveObserver() = default;
  virtual void on_transfer(const CollectiveTransfer& transfer) {}
  virtual void on_step(int collective, int chip, int step, const char* phase, double begin_tick,
                       double end_tick) {}
};

struct CollectivePartResult {
  int chip = 0;
  double start_tick = 0.0;
  double done_tick = 0.0;
};

struct CollectiveResult {
  int id = 0;
  CollectiveSpec spec;
  int steps = 0;                 // steps of the longest participant schedule
  double start_tick = 0.0;         // first participant start
  double end_tick = 0.0;           // last participant done
  std::uint64_t bytes_sent = 0;  // payload bytes issued by all participants (not per hop)
  std::uint64_t transfers = 0;
  std::vector<CollectivePartResult> parts;  // in CollectiveSpec::chips order

  double duration_ticks() const { return end_tick - start_tick; }
};

// The engine the chips' DMA engines (and `tasim collective`) drive. Usage:
//   1. During elaboration, construct it over an Interconnect (which it mutates: link servers).
//   2. add(spec) registers a collective and returns its id (also allowed while simulating).
//   3. Each participant starts its part: start(id, chip) from any SystemC process at the
//      current time (a DMA engine executing a collective instruction), or start(id, chip, t)
//      for a later time; start_all_at(id, t) starts every participant (studies). Parts may
//      start at different times; data sent to a part that has not started yet waits for it.
//   4. done(id, chip) / done_event(id, chip) tell the participant its part is over: its data
//      received and its sends delivered. done_event is notified (delta) at that time; check
//      done() before waiting on it. run(id, chip), from an SC_THREAD, starts and waits.
//   5. After sc_start returned, result(id) gives the timing.
// Any number of collectives may run at once on overlapping chips and links: they share the
// links' FCFS servers. One engine per elaboration (SystemC elaborates once per process).
class CollectiveEngine : public sc_core::sc_module {
 public:
  CollectiveEngine(sc_core::sc_module_name name, Interconnect& net, CollectiveObserver* observer = nullptr);

  int add(const CollectiveSpec& spec);
  void start(int id, int chip);
  void start(int id, int chip, double start_tick);
  void start_all_at(int id, double start_tick);
  void run(int id, int chip);

  bool done(int id, int chip) const;
  bool done(int id) const;  // every part
  const sc_core::sc_event& done_event(int id, int chip) const;

  int collectives() const { return static_cast<int>(collectives_.size()); }
  const CollectiveSpec& spec(int id) const;
  // Bytes x links the collective's transfers have crossed so far (Interconnect::link_bytes' share).
  std::uint64_t link_bytes(int id) const;
  // Throws tasim::Error naming the unfinished parts if the collective did not complete.
  CollectiveResult result(int id) const;

  void set_observer(CollectiveObserver* observer) { observer_ = observer; }
  const Interconnect& interconnect() const { return net_; }

 private:
  struct Part {
    bool started = false;
    bool finished = false;
    double start_tick = 0.0;
    double done_tick = 0.0;
    std::vector<int> receives_issued;             // per step: transfers to this part issued so far
    std::vector<double> receive_arrival;          // per step: latest arrival among them
    std::unique_ptr<sc_core::sc_event> progress;  // a transfer to this part was issued
    std::unique_ptr<sc_core::sc_event> done;
  };
  struct Collective {
    CollectiveSpec spec;
    CollectiveSchedule schedule;
    std::deque<Part> parts;
    std::uint64_t bytes_sent = 0;
    std::uint64_t link_bytes = 0;  // bytes x links of every transfer
    std::uint64_t transfers = 0;
  };

  Collective& checked(int id, const char* what);
  const Collective& checked(int id, const char* what) const;
  int participant(const Collective& c, int id, int chip) const;
  void part_thread(int id, int p, double start_tick);
  double now_tick() const;
  void wait_until_tick(double t_tick);

  Interconnect& net_;
  CollectiveObserver* observer_;
  std::deque<Collective> collectives_;
  std::vector<HopService> hops_scratch_;
  CollectiveTransfer transfer_scratch_;
};

// A collective for simulate_collectives: every participant starts at start_tick.
struct TimedCollective {
  CollectiveSpec spec;
  double start_tick = 0.0;
};

// Elaborates one CollectiveEngine over `net`, starts each collective, runs the simulation to
// the end and returns the results in order. SystemC elaborates once per process: call once.
std::vector<CollectiveResult> simulate_collectives(Interconnect& net,
                                                   const std::vector<TimedCollective>& collectives,
                                                   CollectiveObserver* observer = nullptr);

}  // namespace tasim
