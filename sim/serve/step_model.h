// Step times for serving, from the cycle simulator: a few step shapes are simulated (each a
// `tasim run --sequences ...`, by the caller), and a model fitted to them gives the time (or the
// energy: any quantity the ops of a step add up to) of any step the scheduler makes
// (docs/serving.md, "Step times"):
//
//   t(step) = dense(T) + per_seq x (S - 1) + kv(D, C) + sum over prefill chunk shapes of chunk(n, c)
//
// T: the step's new tokens: dense is piecewise linear through single chunks of T tokens from
// scratch, less their own attention. S: its sequences (a head row each). The attention ops are
// the compiler's: one op for the D decodes over their mean context C, one causal op per shape of
// prefill chunk (n new tokens after c cached ones); their times step with the compiler's tiling
// (rounds of work items over the matrix units, key blocks per item). kv(D, C) is measured at
// contexts on both sides of each power of two from 255 on (where key blocks step up) and is
// piecewise linear in C; across batch sizes it is linear in the op's rounds (measured at whole
// rounds), less a within-round slope per decode. A chunk's time is the compiler's cycle estimate
// of its op times a scale measured on a grid of n and c, interpolated in log n and in c.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/serve/engine.h"

namespace tasim::serve {

struct StepFeatures {
  double tokens = 0, seqs = 0, decodes = 0, decode_kv = 0, prefill_pairs = 0;
};
StepFeatures step_features(const StepShape& shape);

// The compiler's estimate of the array cycles of a causal attention op: `batch` chunks of
// `new_tokens` queries over `kv_len` keys each (workloads::AttentionTiling). > 0.
using AttentionEstimate = std::function<double(long long batch, long long new_tokens, long long kv_len)>;

// How the compiler spreads a decode attention op: `items_per_seq` work items per sequence (its KV
// heads on the chip) dealt round-robin over `workers` (the chip's matrix units).
struct AttentionSpread {
  int items_per_seq = 1;
  int workers = 1;
  int rounds(double decodes) const;          // ceil(decodes x items_per_seq / workers)
  int full_round_decodes(int rounds) const;  // the most decodes that take `rounds` rounds
};

// A step shape to simulate and what it is for. `sequences` is tasim run's --sequences text.
struct StepProbe {
  enum class Role { dense, pair, kv_base, kv } role = Role::dense;
  StepShape shape;
  std::string sequences;
  int base = -1;  // pair: the dense probe of the same chunk
};
// The probes for steps of at most `max_tokens` tokens and `max_seqs` sequences, contexts below
// `max_context` tokens (the model's positions) and decodes reading up to `max_kv_tokens` cached
// tokens in all (what the KV cache holds).
std::vector<StepProbe> step_probes(int max_tokens, int max_seqs, long long max_context, double max_kv_tokens,
                                   const AttentionSpread& spread);

// "2048:1x32,0:512": the shape as --sequences text (sequences grouped by context and new tokens).
std::string sequences_text(const StepShape& shape);

class StepTimeModel {
 public:
  // Fits the probes' measured values (one per probe, same order). Throws Error for a probe set
  // without the roles it needs or values that are not positive.
  static StepTimeModel fit(const std::vector<StepProbe>& probes, const std::vector<double>& values,
                           const AttentionSpread& spread, AttentionEstimate estimate);
  double seconds(const StepShape& shape) const;  // (or joules, for a model fitted to energies)
  double dense_seconds(double tokens) const;     // piecewise linear; the end slopes beyond
  double kv_seconds(double decodes, double mean_context) const;  // the decodes' op
  double chunk_seconds(long long count, long long new_tokens, long long context) const;

  AttentionSpread spread;
  AttentionEstimate estimate;
  std::vector<std::pair<double, double>> dense;  // (tokens, seconds), by tokens
  // By decode batch size: (context, seconds beyond dense and per_seq) points.
  std::vector<std::pair<double, std::vector<std::pair<double, double>>>> kv;
  // By chunk tokens: (context, seconds per estimated cycle of the chunk's op beyond the same chunk
  // from scratch) points.
  std::vector<std::pair<double, std::vector<std::pair<double, double>>>> chunk_scales;
  double per_seq = 0;
};

}  // namespace tasim::serve
