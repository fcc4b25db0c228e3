// A serving run's summary: latency distributions (TTFT, TPOT, inter-token gaps, end to end),
// throughput, preemptions (docs/serving.md defines each).
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

struct ServeSummary {
  int completed = 0;
  int preemptions = 0;
  double duration_s = 0;  // from t = 0 to the last completion
  Distribution ttft_s, tpot_s, itl_s, e2e_s;  // itl: every gap between consecutive output tokens
  double requests_per_s = 0, input_tokens_per_s = 0, output_tokens_per_s = 0;
  double mean_tokens_per_step = 0, mean_running_per_step = 0;
};

ServeSummary summarize(const ServeResult& result);

}  // namespace tasim::serve
