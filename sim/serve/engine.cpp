#include "sim/serve/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "sim/serve/cluster.h"

namespace tasim::serve {

long long StepShape::tokens() const {
  long long n = 0;
  for (const ScheduledSeq& s : seqs) n += s.new_tokens;
  return n;
}

int StepShape::decodes() const {
  return static_cast<int>(std::count_if(seqs.begin(), seqs.end(), [](const ScheduledSeq& s) { return s.decode; }));
}

double RequestRecord::tpot_s() const {
  if (request.output_tokens <= 1) return 0.0;
  return (completion_s - first_token_s) / (request.output_tokens - 1);
}

void validate_scheduler(const SchedulerConfig& config) {
  if (config.max_num_batched_tokens < 1) {
    throw Error(fmt::format("--max-num-batched-tokens {} must be >= 1", config.max_num_batched_tokens));
  }
  if (config.max_num_seqs < 1) throw Error(fmt::format("--max-num-seqs {} must be >= 1", config.max_num_seqs));
  const SchedulerConfig::Speculative& spec = config.speculative;
  if (spec.k < 0) throw Error(fmt::format("speculative k {} must be >= 0", spec.k));
  if (spec.k > 0) {
    if (spec.acceptance.empty()) throw Error("speculative decoding needs an acceptance rate");
    for (const double a : spec.acceptance) {
      if (!(a >= 0 && a <= 1)) throw Error(fmt::format("acceptance rate {} must be from 0 to 1", a));
    }
    if (!spec.draft_step_time) throw Error("internal: speculative decoding without a draft step time");
  }
  if (config.long_prefill_token_threshold < 0) {
    throw Error(fmt::format("--long-prefill-token-threshold {} must be >= 0", config.long_prefill_token_threshold));
  }
}

void validate_requests(const std::vector<Request>& requests) {
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const Request& r = requests[i];
    if (r.id != static_cast<int>(i)) throw Error(fmt::format("request {} has id {}: ids are 0, 1, ... in order", i, r.id));
    if (i > 0 && r.arrival_s < requests[i - 1].arrival_s) {
      throw Error(fmt::format("request {} arrives at {} s, before request {} ({} s): requests come in arrival order", i,
                              r.arrival_s, i - 1, requests[i - 1].arrival_s));
    }
    if (r.prompt_tokens < 1 || r.output_tokens < 1 || !(r.arrival_s >= 0)) {
      throw Error(fmt::format("request {}: {} prompt and {} output tokens at {} s: each must be >= 1, the time >= 0", i,
                              r.prompt_tokens, r.output_tokens, r.arrival_s));
    }
  }
}

// One replica is a cluster of one: the same event loop (sim/serve/cluster.cpp, replica.cpp).
ServeResult run_serving(const std::vector<Request>& requests, const SchedulerConfig& config,
                        KvBlockManager kv, const StepTimeFn& step_time) {
  std::vector<KvBlockManager> caches;
  caches.push_back(std::move(kv));
  return detail::run_replicas(requests, config, ClusterConfig{}, std::move(caches),
                              [&step_time](int, const StepShape& s) { return step_time(s); });
}

}  // namespace tasim::serve
