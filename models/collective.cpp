#include "models/collective.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "isa/error.h"
#include "models/systemc_reports.h"

namespace tasim {

const char* collective_op_name(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::all_reduce:
      return "allreduce";
    case CollectiveOp::all_gather:
      return "allgather";
    case CollectiveOp::reduce_scatter:
      return "reducescatter";
    case CollectiveOp::all_to_all:
      return "alltoall";
    case CollectiveOp::send_recv:
      return "sendrecv";
  }
  return "?";
}

const char* collective_algo_name(CollectiveAlgo algo) {
  return algo == CollectiveAlgo::ring ? "ring" : "direct";
}

CollectiveAlgo effective_algo(const CollectiveSpec& spec) {
  if (spec.op == CollectiveOp::all_to_all || spec.op == CollectiveOp::send_recv)
    return CollectiveAlgo::direct;
  return spec.algo;
}

std::uint64_t shard_bytes(std::uint64_t bytes, int p, int k) {
  const auto n = static_cast<std::uint64_t>(p);
  return bytes / n + (static_cast<std::uint64_t>(k) < bytes % n ? 1 : 0);
}

namespace {

int mod(int a, int n) { return (a % n + n) % n; }

constexpr const char* kReduceScatter = "reduce_scatter";
constexpr const char* kAllGather = "all_gather";

// Ring steps: participant i sends shard chunk(i, s) to i + 1 and receives one shard.
template <typename Chunk>
void add_ring_steps(CollectiveSchedule& sched, std::uint64_t bytes, int steps, const char* phase,
                    Chunk chunk) {
  const int p = static_cast<int>(sched.steps.size());
  for (int i = 0; i < p; ++i) {
    for (int s = 0; s < steps; ++s) {
      CollectiveStep step;
      step.phase = phase;
      step.sends.push_back({mod(i + 1, p), shard_bytes(bytes, p, chunk(i, s))});
      step.receives = 1;
      sched.steps[static_cast<std::size_t>(i)].push_back(std::move(step));
    }
  }
}

// One direct step: participant i sends to every other participant j (issued i+1, i+2, ...)
// the shard chunk(i, j).
template <typename Chunk>
void add_direct_step(CollectiveSchedule& sched, std::uint64_t bytes, const char* phase, Chunk chunk) {
  const int p = static_cast<int>(sched.steps.size());
  for (int i = 0; i < p; ++i) {
    CollectiveStep step;
    step.phase = phase;
    for (int k = 1; k < p; ++k) {
      const int j = mod(i + k, p);
      step.sends.push_back({j, shard_bytes(bytes, p, chunk(i, j))});
    }
    step.receives = p - 1;
    sched.steps[static_cast<std::size_t>(i)].push_back(std::move(step));
  }
}

}  // namespace

CollectiveSchedule build_schedule(const CollectiveSpec& spec) {
  const int p = static_cast<int>(spec.chips.size());
  const char* name = collective_op_name(spec.op);
  if (p < 2) throw Error(fmt::format("{}: needs at least 2 chips, got {}", name, p));
  if (std::set<int>(spec.chips.begin(), spec.chips.end()).size() != spec.chips.size()) {
    throw Error(fmt::format("{}: a chip appears twice among the participants", name));
  }
  if (spec.op == CollectiveOp::send_recv && p != 2) {
    throw Error(fmt::format("sendrecv: needs exactly 2 chips (source, destination), got {}", p));
  }
  if (spec.bytes < 1) throw Error(fmt::format("{}: bytes must be >= 1", name));

  CollectiveSchedule sched;
  sched.steps.resize(static_cast<std::size_t>(p));
  const std::uint64_t b = spec.bytes;
  const bool ring = effective_algo(spec) == CollectiveAlgo::ring;
  // Ring chunk indices (nccl's): reduce-scatter step s sends chunk i - s - 1, leaving participant
  // i with chunk i reduced; all-gather step s sends chunk i - s, starting from chunk i.
  auto rs_chunk = [p](int i, int s) { return mod(i - s - 1, p); };
  auto ag_chunk = [p](int i, int s) { return mod(i - s, p); };
  auto to_receiver = [](int, int j) { return j; };  // shard j goes to j (reduce-scatter, all-to-all)
  auto own = [](int i, int) { return i; };          // one's own shard to everyone (all-gather)
  switch (spec.op) {
    case CollectiveOp::all_reduce:
      if (ring) {
        add_ring_steps(sched, b, p - 1, kReduceScatter, rs_chunk);
        add_ring_steps(sched, b, p - 1, kAllGather, ag_chunk);
      } else {
        add_direct_step(sched, b, kReduceScatter, to_receiver);
        add_direct_step(sched, b, kAllGather, own);
      }
      break;
    case CollectiveOp::all_gather:
      if (ring) {
        add_ring_steps(sched, b, p - 1, kAllGather, ag_chunk);
      } else {
        add_direct_step(sched, b, kAllGather, own);
      }
      break;
    case CollectiveOp::reduce_scatter:
      if (ring) {
        add_ring_steps(sched, b, p - 1, kReduceScatter, rs_chunk);
      } else {
        add_direct_step(sched, b, kReduceScatter, to_receiver);
      }
      break;
    case CollectiveOp::all_to_all:
      add_direct_step(sched, b, "all_to_all", to_receiver);
      break;
    case CollectiveOp::send_recv: {
      CollectiveStep send;
      send.phase = "send";
      send.sends.push_back({1, b});
      sched.steps[0].push_back(std::move(send));
      CollectiveStep recv;
      recv.phase = "recv";
      recv.receives = 1;
      sched.steps[1].push_back(std::move(recv));
      break;
    }
  }
  return sched;
}

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

double CollectiveEngine::now_ns() const {
  // Resolution is 1 ps (the default); value() counts resolution units.
  return static_cast<double>(sc_core::sc_time_stamp().value()) / 1000.0;
}

void CollectiveEngine::wait_until_ns(double t_ns) {
  const double delta = t_ns - now_ns();
  if (delta > 0.0) sc_core::wait(sc_core::sc_time(delta, sc_core::SC_NS));
}

void CollectiveEngine::start(int id, int chip) { start(id, chip, now_ns()); }

void CollectiveEngine::start(int id, int chip, double start_ns) {
  Collective& c = checked(id, "start");
  const int p = participant(c, id, chip);
  Part& part = c.parts[static_cast<std::size_t>(p)];
  if (part.started) throw Error(fmt::format("collective {}: chip {} started its part twice", id, chip));
  part.started = true;
  sc_core::sc_spawn_options opts;
  sc_core::sc_spawn(sc_bind(&CollectiveEngine::part_thread, this, id, p, std::max(start_ns, now_ns())),
                    fmt::format("collective{}_chip{}", id, chip).c_str(), &opts);
}

void CollectiveEngine::start_all_at(int id, double start_ns) {
  const std::vector<int> chips = checked(id, "start_all_at").spec.chips;
  for (int chip : chips) start(id, chip, start_ns);
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

void CollectiveEngine::part_thread(int id, int p, double start_ns) {
  wait_until_ns(start_ns);
  Collective& c = collectives_[static_cast<std::size_t>(id)];
  Part& part = c.parts[static_cast<std::size_t>(p)];
  const int chip = c.spec.chips[static_cast<std::size_t>(p)];
  const auto& steps = c.schedule.steps[static_cast<std::size_t>(p)];
  double t = start_ns;  // exact schedule time; SystemC time follows it to the picosecond
  double sends_arrived = t;
  part.start_ns = t;
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const CollectiveStep& step = steps[s];
    const double begin = t;
    double step_sends_arrived = t;
    for (const ScheduledSend& send : step.sends) {
      const int dst = c.spec.chips[static_cast<std::size_t>(send.to)];
      const double arrival = net_.transfer(t, chip, dst, send.bytes, observer_ ? &hops_scratch_ : nullptr);
      step_sends_arrived = std::max(step_sends_arrived, arrival);
      c.bytes_sent += send.bytes;
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
        tr.issue_ns = t;
        tr.arrival_ns = arrival;
        tr.hops = hops_scratch_;
        observer_->on_transfer(tr);
      }
    }
    sends_arrived = std::max(sends_arrived, step_sends_arrived);
    // The senders of this step's data may not have issued yet: wait for their issue, then for
    // the last byte.
    while (part.receives_issued[s] < step.receives) sc_core::wait(*part.progress);
    t = step.receives > 0 ? std::max(t, part.receive_arrival[s]) : step_sends_arrived;
    wait_until_ns(t);
    if (observer_) observer_->on_step(id, chip, static_cast<int>(s), step.phase, begin, t);
  }
  t = std::max(t, sends_arrived);
  wait_until_ns(t);
  part.done_ns = t;
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
    r.parts.push_back({chip, part.start_ns, part.done_ns});
  }
  if (!unfinished.empty()) {
    throw Error(fmt::format("collective {} ({}) did not finish on chips{}", id, collective_op_name(c.spec.op),
                            unfinished));
  }
  r.start_ns = r.parts.front().start_ns;
  r.end_ns = r.parts.front().done_ns;
  for (const auto& part : r.parts) {
    r.start_ns = std::min(r.start_ns, part.start_ns);
    r.end_ns = std::max(r.end_ns, part.done_ns);
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
    for (const auto& tc : collectives) engine.start_all_at(engine.add(tc.spec), tc.start_ns);
    sc_start();
    for (int id = 0; id < engine.collectives(); ++id) results.push_back(engine.result(id));
  } catch (const sc_report& report) {
    throw Error(fmt::format("simulation error: {}", report.what()));
  }
  return results;
}

}  // namespace tasim
