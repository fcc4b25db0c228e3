// The serving loop of one replica: vLLM V1's scheduler (continuous batching, a token budget per
// step, chunked prefill, preemption by recompute; or Sarathi-Serve's, Orca's, static batching's:
// SchedulerConfig::kind) over a paged KV cache, with the time of each step from a step-time
// function (the cycle simulator's, or a formula in tests). Several replicas: cluster.h; the loop
// itself: replica.h. docs/serving.md.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/serve/kv_cache.h"
#include "sim/serve/request.h"

namespace tasim::serve {

struct SchedulerConfig {
  // Which system's scheduling (docs/serving.md, "Other schedulers"): vLLM V1 (below), Sarathi-Serve's
  // stall-free batching (decodes first, then prefill chunks in the budget), Orca's iteration-level
  // scheduling (whole prompts, KV reserved for prompt + outputs at admission: never preempts), or
  // static batching (FasterTransformer: a new batch only when the last one has finished).
  enum class Kind { vllm, sarathi, orca, static_batch } kind = Kind::vllm;
  // The waiting queue's order: arrival (fcfs), or SGLang's longest prefix match first (lpm: the
  // most prompt tokens cached in this replica's KV cache; equal matches in arrival order).
  // Under policy priority, priority still comes first.
  enum class Ordering { fcfs, lpm } ordering = Ordering::fcfs;
  int max_num_batched_tokens = 8192;  // tokens computed per step, every sequence together
  int max_num_seqs = 256;             // requests running at once
  // A prefill computes at most this many tokens in one step (0: up to the budget). vLLM's
  // long_prefill_token_threshold.
  int long_prefill_token_threshold = 0;
  enum class Policy { fcfs, priority } policy = Policy::fcfs;

  // Speculative decoding (k > 0): a drafter proposes k tokens for each decoding request, and the
  // step verifies them with the target model as a (k + 1)-token computation; draft i (1-based) is
  // accepted with probability acceptance[i - 1] (the last value repeats; one value: a fixed rate)
  // if every draft before it was, and the step emits the accepted drafts plus one token of its own.
  // The drafter's time: draft_step_time of its k decode steps over the decoding requests, plus
  // one pass over the step's prefill chunks (it keeps its own cache of every prompt).
  struct Speculative {
    int k = 0;
    std::vector<double> acceptance;
    std::function<double(const struct StepShape&)> draft_step_time;
    std::function<double(const struct StepShape&)> draft_step_energy;  // joules; empty: none
    std::uint64_t seed = 0;
  } speculative;

  // The energy of a step in joules (the cost model's, fitted like the time); empty: not reported.
  std::function<double(const struct StepShape&)> step_energy;
};

// One sequence of a step: `new_tokens` computed on top of `context_tokens` already in its cache.
struct ScheduledSeq {
  int request = 0;
  int new_tokens = 0;
  long long context_tokens = 0;
  bool decode = false;  // one token after the prompt's last (else a prefill chunk, or a recompute)
};

struct StepShape {
  std::vector<ScheduledSeq> seqs;
  long long tokens() const;
  int decodes() const;
};

using StepTimeFn = std::function<double(const StepShape&)>;  // seconds, > 0

struct RequestRecord {
  Request request;
  int replica = 0;  // the replica that served it (the decode replica under disaggregation)
  double first_scheduled_s = -1;
  double first_token_s = -1;
  double completion_s = -1;
  int preemptions = 0;
  long long recomputed_tokens = 0;  // tokens computed again after preemptions
  long long prefix_hit_tokens = 0;  // prompt tokens found in the prefix cache (every admission)
  long long drafts_proposed = 0, drafts_accepted = 0;  // speculative decoding
  int verify_steps = 0;                                 // steps that verified its drafts
  std::vector<double> token_s;      // when each output token came (output_tokens of them)
  // Disaggregation: from its first token (prefill replica) until its KV has reached the decode
  // replica (waiting for the link, its latency and bytes / bandwidth); 0 otherwise.
  double kv_transfer_s = 0;
  int prefill_replica = -1;  // the replica that prefilled it under disaggregation, else -1
  double ttft_s() const { return first_token_s - request.arrival_s; }
  double e2e_s() const { return completion_s - request.arrival_s; }
  // (e2e - TTFT) / (outputs - 1); 0 for a single output token.
  double tpot_s() const;
};

struct StepRecord {
  int replica = 0;
  double start_s = 0, end_s = 0;
  int scheduled = 0;  // requests computing tokens in the step
  int running = 0;    // requests admitted and not finished, after scheduling (some may wait for budget)
  int waiting = 0;    // arrived and not admitted (or preempted), after scheduling
  int used_blocks = 0;  // after the step
  long long tokens = 0;
  long long prefill_tokens = 0;
  int decodes = 0;
  double draft_s = 0;  // of the step's time, the drafter's (speculative decoding)
  double energy_j = 0;  // SchedulerConfig::step_energy's (0 without one)
  int preempted = 0;
};

struct ServeResult {
  std::vector<RequestRecord> requests;  // by id
  std::vector<StepRecord> steps;
  // Requests in the system (arrived, not completed) after each change: (time, count).
  std::vector<std::pair<double, int>> in_system;
  int replicas = 1;
  int total_blocks = 0;  // of each replica
  int final_used_blocks = 0;  // after the last step: 0 when every block came back
  int preemptions = 0;
  double duration_s = 0;  // the last completion
};

// Checks a configuration; throws tasim::Error naming the bad value.
void validate_scheduler(const SchedulerConfig& config);
// Checks that requests have ids 0..n-1 in arrival order and sensible lengths; throws tasim::Error.
void validate_requests(const std::vector<Request>& requests);

// Serves `requests` (in arrival order, ids 0..n-1) on one replica (the same loop as run_cluster,
// sim/serve/cluster.h, with one). Throws tasim::Error for a bad configuration and for a request
// that can never be scheduled (it needs more KV blocks than the cache has).
ServeResult run_serving(const std::vector<Request>& requests, const SchedulerConfig& config, KvBlockManager kv,
                  const StepTimeFn& step_time);

}  // namespace tasim::serve
