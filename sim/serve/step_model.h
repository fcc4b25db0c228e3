// Step times for serving, from the cycle simulator: a few step shapes are simulated (each a
// `tasim run --sequences ...`, by the caller), and a model fitted to them gives the time of any
// step the scheduler makes (docs/serving.md, "Step times"):
//
//   t(step) = dense(T) + per_seq x (S - 1) + kv(K) + per_pair x W
//
// T: the step's new tokens (the weights are read once whatever T is: dense is piecewise linear
// through measured single chunks of T tokens, less their attention); S: its sequences (a head row
// each); K: its decodes' cache reads, kv(D, C) for D decodes of mean context C (the compiler runs
// them as one attention op of D sequences of that length), interpolated linearly in C through
// decode batches at several contexts less the same batches at context 1, and linearly in D between
// the batch sizes measured; W: the (query, key) pairs of its prefill chunks, sum of
// new x (context + (new + 1) / 2).
#pragma once

#include <string>
#include <vector>

#include "sim/serve/engine.h"

namespace tasim::serve {

struct StepFeatures {
  double tokens = 0, seqs = 0, decode_kv = 0, prefill_pairs = 0;
};
StepFeatures step_features(const StepShape& shape);

// A step shape to simulate and what it is for. `sequences` is tasim run's --sequences text.
struct StepProbe {
  enum class Role { dense, pair_base, pair, kv_base, kv, seqs } role = Role::dense;
  StepShape shape;
  std::string sequences;
  int base = -1;  // kv: the index of its kv_base probe (the same batch at context 1)
};
// The probes for steps of at most `max_tokens` tokens and `max_seqs` sequences, contexts up to
// `max_context` tokens (the model's positions) and decodes reading up to `max_kv_tokens` cached
// tokens in all (what the KV cache holds).
std::vector<StepProbe> step_probes(int max_tokens, int max_seqs, long long max_context,
                                   double max_kv_tokens = 1e18);

// "2048:1x32,0:512": the shape as --sequences text (sequences grouped by context and new tokens).
std::string sequences_text(const StepShape& shape);

class StepTimeModel {
 public:
  // Fits the probes' measured seconds (one per probe, same order). Throws Error for a probe set
  // without the roles it needs or times that are not positive.
  static StepTimeModel fit(const std::vector<StepProbe>& probes, const std::vector<double>& seconds);
  double seconds(const StepShape& shape) const;
  double dense_seconds(double tokens) const;  // piecewise linear; linear beyond the ends
  double kv_seconds(double decodes, double mean_context) const;

  std::vector<std::pair<double, double>> dense;  // (tokens, seconds), by tokens
  // By decode batch size: (context, seconds) points, by context; (1, 0) implied.
  std::vector<std::pair<double, std::vector<std::pair<double, double>>>> kv;
  double per_seq = 0, per_pair = 0;
};

}  // namespace tasim::serve
