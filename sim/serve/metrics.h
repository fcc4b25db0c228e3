// A serving run's summary: latency distributions (TTFT, TPOT, inter-token gaps, end to end),
// throughput, goodput under SLOs, batch shapes, KV cache use, preemptions, prefix-cache hits,
// speculative acceptance and energy (docs/serving.md, "Metrics", defines each).
#pragma once

#include <vector>

#include "sim/serve/engine.h"

namespace tasim::serve {

struct Distribution {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};
// Percentiles by linear interpolation between the closest ranks (numpy's default): p of n sorted
// values is at rank p/100 x (n - 1). Empty: all 0.
Distribution distribution(std::vector<double> values);

// Service-level objectives; 0 means "not set". A request meets them when it completed, its TTFT is
// <= ttft_s (if set) and its TPOT <= tpot_s (if set; a single-output request has TPOT 0).
struct SloTargets {
  double ttft_s = 0;
  double tpot_s = 0;
  bool any() const { return ttft_s > 0 || tpot_s > 0; }
};

struct ServeSummary {
  int requests = 0;  // in the run, completed or not
  int completed = 0;
  int preemptions = 0;
  double duration_s = 0;  // from t = 0 to the last completion
  Distribution ttft_s, tpot_s, itl_s, e2e_s;  // itl: every gap between consecutive output tokens
  double requests_per_s = 0, input_tokens_per_s = 0, output_tokens_per_s = 0;
  long long prompt_tokens = 0, output_tokens = 0;  // of the completed requests

  // Goodput (only with SLOs set): requests meeting every SLO, their share of all requests in
  // percent, and their rate over the run's duration.
  SloTargets slo;
  int slo_met = 0;
  double slo_attainment_percent = 0;
  double goodput_requests_per_s = 0;

  // Per step, unweighted: requests scheduled (the batch) and tokens computed.
  int steps = 0;
  Distribution batch_size, tokens_per_step;
  double mean_tokens_per_step = 0, mean_running_per_step = 0;  // the two means above (older keys)

  // KV blocks in use, time-weighted over [0, duration] and averaged over replicas (a step's
  // used_blocks held for its duration, 0 while a replica idles); the peak over every step and
  // replica, and that peak over one replica's blocks.
  int total_blocks = 0;  // of each replica
  double kv_used_blocks_mean = 0;
  int kv_used_blocks_max = 0;
  double kv_peak_share = 0;

  // Prefix caching: hit tokens (summed over every admission) over the requests' prompt tokens.
  long long prefix_hit_tokens = 0;
  double prefix_hit_ratio = 0;

  // Speculative decoding: accepted / proposed drafts; tokens emitted per verify step.
  long long drafts_proposed = 0, drafts_accepted = 0, verify_steps = 0;
  double draft_acceptance_rate = 0;
  double tokens_per_verify_step = 0;

  // Energy: the steps' energy_j summed; output tokens per joule and mean power (0 without energy).
  double energy_j = 0;
  double output_tokens_per_j = 0;
  double mean_power_w = 0;
};

ServeSummary summarize(const ServeResult& result, const SloTargets& slo = {});

// Whether one request meets the SLOs (completed, and within each target that is set).
bool meets_slo(const RequestRecord& r, const SloTargets& slo);

}  // namespace tasim::serve
