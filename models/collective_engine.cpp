#include "models/collective_engine.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "models/systemc_reports.h"

namespace tasim {

CollectiveEngine::CollectiveEngine(sc_core::sc_module_name name, Interconnect& net,
                                   CollectiveObserver* observer)
    : sc_core::sc_module(name), net_(net), observer_(observer) {}

CollectiveEngine::Collective& CollectiveEngine::checked(int id, const char* what) {
  if (id < 0 || id >= collectives())
    throw Error(fmt::format("collective engine: {} of unknown collective {}", what, id));
  return collectives_[static_cast<std::size_t>(id)];
}

const CollectiveEngine::Collective& CollectiveEngine::checked(int id, const char* what) const {
  return const_cast<CollectiveEngine*>(this)->checked(id, what);
}

int CollectiveEngine::participant(const Collective& c, int id, int chip) const {
  const auto it = std::find(c.spec.chips.begin(), c.spec.chips.end(), chip);
  if (it == c.spec.chips.end()) {
    throw Error(fmt::format("collective {} ({}): chip {} is not a participant", id,
                            collective_op_name(c.spec.op), chip));
  }
  return static_cast<int>(it - c.spec.chips.begin());
}

int CollectiveEngine::add(const CollectiveSpec& spec) {
  for (int chip : spec.chips) {
    if (chip < 0 || chip >= net_.chips()) {
      throw Error(fmt::format("{}: chip {} does not exist (the system has chips 0..{})",
                              collective_op_name(spec.op), chip, net_.chips() - 1));
    }
  }
  Collective& c = collectives_.emplace_back();
  c.spec = spec;
  c.schedule = build_schedule(spec);
  for (const auto& steps : c.schedule.steps) {
    Part& part = c.parts.emplace_back();
    part.receives_issued.assign(steps.size(), 0);
    part.receive_arrival.assign(steps.size(), 0.0);
    part.progress = std::make_unique<sc_core::sc_event>();
    part.done = std::make_unique<sc_core::sc_event>();
  }
  return collectives() - 1;
}

double CollectiveEngine::now_tick() const {
  // Resolution is 1 ps (the default); value() counts resolution units.
  return static_cast<double>(sc_core::sc_time_stamp().value()) / 1000.0;
}

void CollectiveEngine::wait_until_tick(double t_tick) {
  const double delta = t_tick - now_tick();
  if (delta > 0.0) sc_core::wait(sc_core::sc_time(delta, sc_core::SC_NS));
}

void CollectiveEngine::start(int id, int chip) { start(id, chip, now_tick()); }

void CollectiveEngine::start(int id, int chip, double start_tick) {
  Collective& c = checked(id, "start");
  const int p = participant(c, id, chip);
  Part& part = c.parts[static_cast<std::size_t>(p)];
  if (part.started) throw Error(fmt::format("collective {}: chip {} started its part twice", id, chip));
  part.started = true;
  sc_core::sc_spawn_options opts;
  const double from_tick = std::max(start_tick, now_tick());
  sc_core::sc_spawn([this, id, p, from_tick] { guard_process([&] { part_thread(id, p, from_tick); }); },
                    fmt::format("collective{}_chip{}", id, chip).c_str(), &opts);
}

void CollectiveEngine::start_all_at(int id, double start_tick) {
  const std::vector<int> chips = checked(id, "start_all_at").spec.chips;
  for (int chip : chips) start(id, chip, start_tick);
}

void CollectiveEngine::run(int id, int chip) {
  start(id, chip);
  while (!done(id, chip)) sc_core::wait(done_event(id, chip));
}

bool CollectiveEngine::done(int id, int chip) const {
  const Collective& c = checked(id, "done");
  return c.parts[static_cast<std::size_t>(participant(c, id, chip))].finished;
}

bool CollectiveEngine::done(int id) const {
  const Collective& c = checked(id, "done");
  return std::all_of(c.parts.begin(), c.parts.end(), [](const Part& p) { return p.finished; });
}

const sc_core::sc_event& CollectiveEngine::done_event(int id, int chip) const {
  const Collective& c = checked(id, "done_event");
  return *c.parts[static_cast<std::size_t>(participant(c, id, chip))].done;
}

const CollectiveSpec& CollectiveEngine::spec(int id) const { return checked(id, "spec").spec; }

std::uint64_t CollectiveEngine::link_bytes(int id) const { return checked(id, "link_bytes").link_bytes; }

void CollectiveEngine::part_thread(int id, int p, double start_tick) {
  wait_until_tick(start_tick);
  Collective& c = collectives_[static_cast<std::size_t>(id)];
  Part& part = c.parts[static_cast<std::size_t>(p)];
  const int chip = c.spec.chips[static_cast<std::size_t>(p)];
  const auto& steps = c.schedule.steps[static_cast<std::size_t>(p)];
  double t = start_tick;  // exact schedule time; SystemC time follows it to the picosecond
  double sends_arrived = t;
  part.start_tick = t;
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const CollectiveStep& step = steps[s];
    const double begin = t;
    double step_sends_arrived = t;
    for (const ScheduledSend& send : step.sends) {
      const int dst = c.spec.chips[static_cast<std::size_t>(send.to)];
      const double arrival = net_.transfer(t, chip, dst, send.bytes, observer_ ? &hops_scratch_ : nullptr);
      step_sends_arrived = std::max(step_sends_arrived, arrival);
      c.bytes_sent += send.bytes;
      c.link_bytes += send.bytes * static_cast<std::uint64_t>(net_.hops(chip, dst));
      ++c.transfers;
      Part& receiver = c.parts[static_cast<std::size_t>(send.to)];
      ++receiver.receives_issued[s];
      receiver.receive_arrival[s] = std::max(receiver.receive_arrival[s], arrival);
      receiver.progress->notify(sc_core::SC_ZERO_TIME);
      if (observer_) {
        CollectiveTransfer& tr = transfer_scratch_;
        tr.collective = id;
        tr.step = static_cast<int>(s);
        tr.src = chip;
        tr.dst = dst;
        tr.bytes = send.bytes;
        tr.issue_tick = t;
        tr.arrival_tick = arrival;
        tr.hops = hops_scratch_;
        observer_->on_transfer(tr);
      }
    }
    sends_arrived = std::max(sends_arrived, step_sends_arrived);
    // The senders of this step's data may not have issued yet: wait for their issue, then for
    // the last byte.
    while (part.receives_issued[s] < step.receives) sc_core::wait(*part.progress);
    t = step.receives > 0 ? std::max(t, part.receive_arrival[s]) : step_sends_arrived;
    wait_until_tick(t);
    if (observer_) observer_->on_step(id, chip, static_cast<int>(s), step.phase, begin, t);
  }
  t = std::max(t, sends_arrived);
  wait_until_tick(t);
  part.done_tick = t;
  part.finished = true;
  part.done->notify(sc_core::SC_ZERO_TIME);
}

CollectiveResult CollectiveEngine::result(int id) const {
  const Collective& c = checked(id, "result");
  CollectiveResult r;
  r.id = id;
  r.spec = c.spec;
  r.bytes_sent = c.bytes_sent;
  r.transfers = c.transfers;
  std::string unfinished;
  for (std::size_t p = 0; p < c.parts.size(); ++p) {
    const Part& part = c.parts[p];
    const int chip = c.spec.chips[p];
    if (!part.finished) unfinished += fmt::format(" {}{}", chip, part.started ? "" : " (never started)");
    r.steps = std::max(r.steps, static_cast<int>(c.schedule.steps[p].size()));
    r.parts.push_back({chip, part.start_tick, part.done_tick});
  }
  if (!unfinished.empty()) {
    throw Error(fmt::format("collective {} ({}) did not finish on chips{}", id, collective_op_name(c.spec.op),
                            unfinished));
  }
  r.start_tick = r.parts.front().start_tick;
  r.end_tick = r.parts.front().done_tick;
  for (const auto& part : r.parts) {
    r.start_tick = std::min(r.start_tick, part.start_tick);
    r.end_tick = std::max(r.end_tick, part.done_tick);
  }
  return r;
}

std::vector<CollectiveResult> simulate_collectives(Interconnect& net,
                                                   const std::vector<TimedCollective>& collectives,
                                                   CollectiveObserver* observer) {
  using namespace sc_core;
  install_systemc_report_handler();  // SystemC errors become tasim::Error (below), not aborts
  std::vector<CollectiveResult> results;
  try {
    CollectiveEngine engine("collectives", net, observer);
    for (const auto& tc : collectives) engine.start_all_at(engine.add(tc.spec), tc.start_tick);
    run_simulation();
    for (int id = 0; id < engine.collectives(); ++id) results.push_back(engine.result(id));
  } catch (const sc_report& report) {  // from elaboration
    throw error_from_report(report);
  }
  return results;
}

}  // namespace tasim
