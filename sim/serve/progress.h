// Progress of a serving run, for a progress bar: followed from the step shapes the engine asks
// its step-time function to time (the engine has no progress hook; this needs none of its
// internals). Simulated figures only: the caller adds wall-clock rates and writes the line to
// stderr, never to an output file.
#pragma once

#include <string>
#include <vector>

#include "sim/serve/engine.h"
#include "sim/serve/request.h"

namespace tasim::serve {

class StepProgress {
 public:
  explicit StepProgress(const std::vector<Request>& requests);

  // One step of `step_s` seconds on `replica` (the target model's time; a drafter's is not seen).
  // Each replica's clock is followed: a step starts when the replica's step before ended, or,
  // after an idle gap, at the arrival of a request it schedules for the first time (exact for one
  // replica; with disaggregation a decode replica's clock runs behind, its requests coming after
  // their KV transfer).
  void on_step(const StepShape& shape, double step_s, int replica = 0);

  long long steps() const { return steps_; }
  int completed() const { return completed_; }
  int total() const { return static_cast<int>(requests_.size()); }
  double simulated_s() const;  // the furthest replica's clock
  // The share of the run's tokens computed (each request's prompt and outputs but the last,
  // recomputed tokens not counted again), from 0 to 1.
  double fraction_done() const;

 private:
  struct Seen {
    bool scheduled = false;
    long long generated = 0;      // outputs so far (one per step that catches up; speculative
                                  // steps emit more, so then this counts low)
    long long most_computed = 0;  // the furthest its cache got
  };
  std::vector<Request> requests_;
  std::vector<Seen> seen_;
  long long steps_ = 0;
  int completed_ = 0;
  std::vector<double> clock_s_;  // per replica
  long long done_tokens_ = 0, total_tokens_ = 0;
};

// "[#######.............] 37% | step 1200 | 340/1000 requests | 12.5 s simulated | ETA 0:42" (ETA from the fraction done
// over `elapsed_wall_s`; "--:--" until there is a rate).
std::string progress_line(const StepProgress& p, double elapsed_wall_s);

}  // namespace tasim::serve
