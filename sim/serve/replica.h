// One serving replica as a steppable event source, so that several advance on one global clock
// (run_cluster, docs/serving.md "Replicas and routing"): its own paged KV cache and waiting and
// running queues, scheduled by SchedulerConfig::kind. A step is two events: it starts (the
// scheduler picks its sequences, the step-time function times it) and it finishes (its tokens are
// emitted, finished requests leave); between them arrivals may join the waiting queue.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <tuple>
#include <vector>

#include "sim/serve/engine.h"
#include "sim/serve/workload.h"

namespace tasim::serve {

// What every replica of a run shares: the requests, their progress (a request moves from a
// prefill to a decode replica under disaggregation) and the result being recorded.
struct ServingState {
  ServingState(const std::vector<Request>& requests, const SchedulerConfig& config, const KvBlockManager& kv);

  // A request's progress. Its known tokens are the prompt and the outputs so far; it has computed
  // (holds the KV of) `computed` of them; when computed reaches known, the step emits its next
  // output token. Preemption by recompute sets computed back to 0.
  struct Live {
    long long computed = 0;
    int generated = 0;
  };
  long long known(int id) const;

  const std::vector<Request>& requests;
  const SchedulerConfig& config;
  std::vector<Live> live;
  std::vector<std::vector<std::uint64_t>> hashes;  // cached_block_hashes (prefix caching)
  std::vector<PartialBlockName> partial_names;     // token-granular matching's, else empty
  Rng accept_rng;                                  // speculative decoding's draws, in event order
  ServeResult out;
  std::size_t finished = 0;
  int in_system = 0;
};

// What distinguishes the schedulers (SchedulerConfig::kind), as data: adding one is a row in
// scheduling_rules (replica.cpp) and, if it needs a new rule, a flag here.
struct SchedulingRules {
  bool decodes_first = false;          // running decodes before running prefills (Sarathi-Serve)
  bool whole_prompts = false;          // no chunked prefill: a prompt in one step (Orca, static)
  bool reserve_outputs = false;        // KV for prompt + outputs at admission: never preempts
  bool admit_when_empty_only = false;  // a new batch only when the last has finished (static)
};
SchedulingRules scheduling_rules(SchedulerConfig::Kind kind);

class Replica {
 public:
  static constexpr double kNever = std::numeric_limits<double>::infinity();

  Replica(int index, ServingState& state, KvBlockManager kv, StepTimeFn step_time);

  int index() const { return index_; }
  const KvBlockManager& kv() const { return kv_; }
  int waiting() const { return static_cast<int>(waiting_.size()); }
  int running() const { return static_cast<int>(running_.size()); }
  int outstanding() const { return waiting() + running(); }  // requests here, not finished
  // The prompt tokens of `request` this replica's cache could give it now (prefix caching).
  long long cached_prefix_tokens(int request) const;

  // A request joins the waiting queue at `at` (its arrival, or when its KV landed).
  void enqueue(int request, double at);
  // When the replica's next event is (a step finishing, or starting), kNever when idle; a
  // finishing step comes before arrivals at the same time, a starting one after them.
  double next_event_time() const;
  bool step_in_flight() const { return in_flight_; }
  // Does the next event: finishes the step in flight, or starts one.
  void advance();

  // Disaggregation: a prefill replica hands a request that has its first token and more to come
  // to `handoff` (with the time) instead of decoding it; its blocks here are freed.
  void set_handoff(std::function<void(int request, double at)> handoff) { handoff_ = std::move(handoff); }

 private:
  // The waiting queue's key: (priority, order, id); fcfs uses priority 0 and arrival order, and a
  // preempted request goes back to the front (a smaller order than any).
  using WaitKey = std::tuple<int, long long, int>;
  WaitKey wait_key(int id, long long order) const;
  bool decoding(int id) const;
  long long chunk(int id, long long budget) const;
  long long admission_tokens(int id, long long n) const;
  void preempt(std::size_t victim);
  std::size_t preemption_victim() const;
  void schedule_running();
  std::vector<WaitKey> admission_order() const;
  void admit();
  [[noreturn]] void throw_unschedulable(int id) const;
  void start_step();
  void finish_step();
  void complete(int id);

  int index_;
  ServingState& s_;
  SchedulingRules rules_;
  KvBlockManager kv_;
  StepTimeFn step_time_;
  std::function<void(int, double)> handoff_;
  std::set<WaitKey> waiting_;
  std::vector<int> running_;   // in scheduling order
  long long front_order_ = 0;  // preempted requests go before every arrival (orders >= 0)
  double t_ = 0;               // the end of the step in flight, else when the replica can next start one
  bool in_flight_ = false;
  // The step being scheduled or in flight.
  std::vector<std::pair<int, long long>> scheduled_;  // request, new tokens
  long long budget_ = 0;
  int preempted_ = 0;
  StepShape shape_;
  StepRecord step_;
};

}  // namespace tasim::serve
