#include "sim/serve/metrics.h"

#include <algorithm>
#include <cmath>

namespace tasim::serve {

Distribution distribution(std::vector<double> values) {
  Distribution d;
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (const double v : values) sum += v;
  d.mean = sum / static_cast<double>(values.size());
  const auto at = [&](double p) {
    const double rank = p / 100.0 * static_cast<double>(values.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(rank));
    const std::size_t hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (values[hi] - values[lo]) * (rank - static_cast<double>(lo));
  };
  d.p50 = at(50);
  d.p90 = at(90);
  d.p99 = at(99);
  d.max = values.back();
  return d;
}

bool meets_slo(const RequestRecord& r, const SloTargets& slo) {
  if (r.completion_s < 0) return false;
  if (slo.ttft_s > 0 && r.ttft_s() > slo.ttft_s) return false;
  if (slo.tpot_s > 0 && r.tpot_s() > slo.tpot_s) return false;
  return true;
}

namespace {

// Latencies, throughput, and the per-request counters (prefix hits, drafts).
void summarize_requests(const ServeResult& result, ServeSummary& s) {
  std::vector<double> ttft, tpot, itl, e2e;
  long long hit_prompt_tokens = 0;  // every request's prompt, for the hit ratio
  for (const RequestRecord& r : result.requests) {
    ++s.requests;
    hit_prompt_tokens += r.request.prompt_tokens;
    s.prefix_hit_tokens += r.prefix_hit_tokens;
    s.drafts_proposed += r.drafts_proposed;
    s.drafts_accepted += r.drafts_accepted;
    s.verify_steps += r.verify_steps;
    if (s.slo.any() && meets_slo(r, s.slo)) ++s.slo_met;
    if (r.completion_s < 0) continue;
    ++s.completed;
    ttft.push_back(r.ttft_s());
    e2e.push_back(r.e2e_s());
    if (r.request.output_tokens > 1) tpot.push_back(r.tpot_s());
    for (std::size_t i = 1; i < r.token_s.size(); ++i) itl.push_back(r.token_s[i] - r.token_s[i - 1]);
    s.prompt_tokens += r.request.prompt_tokens;
    s.output_tokens += r.request.output_tokens;
  }
  s.ttft_s = distribution(ttft);
  s.tpot_s = distribution(tpot);
  s.itl_s = distribution(itl);
  s.e2e_s = distribution(e2e);
  if (s.duration_s > 0) {
    s.requests_per_s = s.completed / s.duration_s;
    s.input_tokens_per_s = static_cast<double>(s.prompt_tokens) / s.duration_s;
    s.output_tokens_per_s = static_cast<double>(s.output_tokens) / s.duration_s;
    if (s.slo.any()) s.goodput_requests_per_s = s.slo_met / s.duration_s;
  }
  if (s.slo.any() && s.requests > 0) s.slo_attainment_percent = 100.0 * s.slo_met / s.requests;
  if (hit_prompt_tokens > 0) s.prefix_hit_ratio = static_cast<double>(s.prefix_hit_tokens) / hit_prompt_tokens;
  if (s.drafts_proposed > 0) s.draft_acceptance_rate = static_cast<double>(s.drafts_accepted) / s.drafts_proposed;
  // Each verify step emits its accepted drafts and one token of its own.
  if (s.verify_steps > 0) {
    s.tokens_per_verify_step = static_cast<double>(s.drafts_accepted + s.verify_steps) / s.verify_steps;
  }
}

// Batch shapes, KV use and energy, from the steps.
void summarize_steps(const ServeResult& result, ServeSummary& s) {
  s.steps = static_cast<int>(result.steps.size());
  s.total_blocks = result.total_blocks;
  std::vector<double> batch, tokens;
  double block_seconds = 0;  // integral of the used blocks over time, every replica together
  for (const StepRecord& st : result.steps) {
    batch.push_back(st.scheduled);
    tokens.push_back(static_cast<double>(st.tokens));
    block_seconds += st.used_blocks * (st.end_s - st.start_s);
    s.kv_used_blocks_max = std::max(s.kv_used_blocks_max, st.used_blocks);
    s.energy_j += st.energy_j;
  }
  s.batch_size = distribution(batch);
  s.tokens_per_step = distribution(tokens);
  s.mean_running_per_step = s.batch_size.mean;
  s.mean_tokens_per_step = s.tokens_per_step.mean;
  const int replicas = std::max(1, result.replicas);
  if (s.duration_s > 0) s.kv_used_blocks_mean = block_seconds / (s.duration_s * replicas);
  if (s.total_blocks > 0) s.kv_peak_share = static_cast<double>(s.kv_used_blocks_max) / s.total_blocks;
  if (s.energy_j > 0) {
    s.output_tokens_per_j = static_cast<double>(s.output_tokens) / s.energy_j;
    if (s.duration_s > 0) s.mean_power_w = s.energy_j / s.duration_s;
  }
}

}  // namespace

ServeSummary summarize(const ServeResult& result, const SloTargets& slo) {
  ServeSummary s;
  s.slo = slo;
  s.preemptions = result.preemptions;
  s.duration_s = result.duration_s;
  summarize_requests(result, s);
  summarize_steps(result, s);  // after the requests: tokens per joule needs their outputs
  return s;
}

}  // namespace tasim::serve
