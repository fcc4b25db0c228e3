#include "sim/serve/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace tasim::serve {

StepProgress::StepProgress(const std::vector<Request>& requests) : requests_(requests), seen_(requests.size()) {
  for (const Request& r : requests_) total_tokens_ += r.prompt_tokens + r.output_tokens - 1;
}

void StepProgress::on_step(const StepShape& shape, double step_s, int replica) {
  ++steps_;
  const auto rep = static_cast<std::size_t>(std::max(0, replica));
  if (clock_s_.size() <= rep) clock_s_.resize(rep + 1, 0.0);
  double& clock_s = clock_s_[rep];
  for (const ScheduledSeq& s : shape.seqs) {
    if (s.request < 0 || static_cast<std::size_t>(s.request) >= seen_.size()) continue;
    Seen& seen = seen_[static_cast<std::size_t>(s.request)];
    const Request& r = requests_[static_cast<std::size_t>(s.request)];
    if (!seen.scheduled) {
      seen.scheduled = true;
      clock_s = std::max(clock_s, r.arrival_s);  // after an idle gap the clock jumped to it
    }
    // The engine's rule: a sequence whose cache catches up with its known tokens (the prompt and
    // the outputs so far) emits its next output.
    const long long computed = s.context_tokens + s.new_tokens;
    const long long useful = std::min<long long>(computed, r.prompt_tokens + r.output_tokens - 1);
    if (useful > seen.most_computed) {
      done_tokens_ += useful - seen.most_computed;
      seen.most_computed = useful;
    }
    if (computed >= r.prompt_tokens + seen.generated && seen.generated < r.output_tokens) {
      if (++seen.generated == r.output_tokens) ++completed_;
    }
  }
  clock_s += step_s;
}

double StepProgress::simulated_s() const {
  double s = 0;
  for (const double c : clock_s_) s = std::max(s, c);
  return s;
}

double StepProgress::fraction_done() const {
  if (total_tokens_ <= 0) return 1.0;
  return std::clamp(static_cast<double>(done_tokens_) / static_cast<double>(total_tokens_), 0.0, 1.0);
}

std::string progress_line(const StepProgress& p, double elapsed_wall_s) {
  const double f = p.fraction_done();
  std::string eta = "--:--";
  if (f > 0 && f < 1 && elapsed_wall_s > 0) {
    const auto left_s = static_cast<long long>(std::llround(elapsed_wall_s * (1 - f) / f));
    eta = left_s >= 3600 ? fmt::format("{}:{:02}:{:02}", left_s / 3600, left_s / 60 % 60, left_s % 60)
                         : fmt::format("{}:{:02}", left_s / 60, left_s % 60);
  } else if (f >= 1) {
    eta = "0:00";
  }
  constexpr int kWidth = 20;
  const auto filled = static_cast<int>(kWidth * f);
  return fmt::format("[{}{}] {:.0f}% | step {} | {}/{} requests | {:.1f} s simulated | ETA {}", std::string(filled, '#'),
                     std::string(kWidth - filled, '.'), 100 * f, p.steps(), p.completed(), p.total(), p.simulated_s(),
                     eta);
}

}  // namespace tasim::serve
