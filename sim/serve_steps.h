// Where `tasim serve` gets its step times (docs/serving.md, "Step times"): step shapes simulated
// by the cycle simulator, each in a child `tasim run --sequences ... --json -` (so a failed shape
// is one clear error and the children run in parallel); the step-time model's probe table, kept
// on disk under a key that hashes everything the times depend on; `--exact-steps`, which simulates
// every distinct step the scheduler makes; and the held-out check of the model.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/serve/step_model.h"

namespace tasim {

struct StepValues {
  double seconds = 0;
  double joules = 0;
};

// Simulates step shapes (tasim run's --sequences text) for one deployment (tasim run's options).
class StepRunner {
 public:
  StepRunner(std::vector<std::string> deployment, int jobs);
  // Every shape, `jobs` children at a time; values in the same order. Throws Error naming the
  // first shape that failed.
  std::vector<StepValues> run(const std::vector<std::string>& sequences) const;
  const std::vector<std::string>& deployment() const { return deployment_; }

 private:
  std::vector<std::string> deployment_;
  int jobs_;
};

// The probes' values, simulated or read back from the cache.
struct StepTable {
  std::vector<serve::StepProbe> probes;
  std::vector<StepValues> values;
  std::string cache_file;   // "" when not cached
  bool from_cache = false;  // read back rather than simulated
};

// `cache_dir` "" disables the cache. `key_text` is everything besides the probes and the
// simulator itself that the values depend on (the chip, the model, the deployment's options).
// A cache file that is unreadable, from another key or of other probes is rebuilt, never trusted.
StepTable build_step_table(std::vector<serve::StepProbe> probes, const StepRunner& runner, const std::string& cache_dir,
                           const std::string& key_text);

// The default cache folder: $XDG_CACHE_HOME/tasim, else $HOME/.cache/tasim, else "" (none).
std::string default_step_cache_dir();

// --exact-steps: each distinct step shape simulated once, when the scheduler first makes it.
class ExactSteps {
 public:
  explicit ExactSteps(const StepRunner& runner) : runner_(runner) {}
  const StepValues& at(const serve::StepShape& shape);
  std::size_t simulated() const { return memo_.size(); }

 private:
  const StepRunner& runner_;
  std::map<std::string, StepValues> memo_;
};

// Random steps of the kind the scheduler makes (decodes of spread contexts, and every other step
// a prefill chunk), within the step budgets and what the KV cache holds, simulated directly and
// compared with the model.
struct StepCheck {
  int steps = 0;
  double mean_error = 0, max_error = 0, p90_error = 0;  // |model - simulated| / simulated
};
StepCheck check_step_model(const serve::StepTimeModel& model, const StepRunner& runner, int steps, int max_tokens,
                           int max_seqs, long long max_context, double cache_tokens, std::uint64_t seed);

}  // namespace tasim
