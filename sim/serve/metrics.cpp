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

ServeSummary summarize(const ServeResult& result) {
  ServeSummary s;
  s.preemptions = result.preemptions;
  s.duration_s = result.duration_s;
  std::vector<double> ttft, tpot, itl, e2e;
  long long input = 0, output = 0;
  for (const RequestRecord& r : result.requests) {
    if (r.completion_s < 0) continue;
    ++s.completed;
    ttft.push_back(r.ttft_s());
    e2e.push_back(r.e2e_s());
    if (r.request.output_tokens > 1) tpot.push_back(r.tpot_s());
    for (std::size_t i = 1; i < r.token_s.size(); ++i) itl.push_back(r.token_s[i] - r.token_s[i - 1]);
    input += r.request.prompt_tokens;
    output += r.request.output_tokens;
  }
  s.ttft_s = distribution(ttft);
  s.tpot_s = distribution(tpot);
  s.itl_s = distribution(itl);
  s.e2e_s = distribution(e2e);
  if (s.duration_s > 0) {
    s.requests_per_s = s.completed / s.duration_s;
    s.input_tokens_per_s = static_cast<double>(input) / s.duration_s;
    s.output_tokens_per_s = static_cast<double>(output) / s.duration_s;
  }
  if (!result.steps.empty()) {
    double tokens = 0, running = 0;
    for (const StepRecord& st : result.steps) {
      tokens += static_cast<double>(st.tokens);
      running += st.scheduled;
    }
    s.mean_tokens_per_step = tokens / static_cast<double>(result.steps.size());
    s.mean_running_per_step = running / static_cast<double>(result.steps.size());
  }
  return s;
}

}  // namespace tasim::serve
