// The serving step-time model (sim/serve/step_model.h): its probes, its fit on times made by a
// known formula, and the features of a step.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "common/error.h"
#include "sim/serve/step_model.h"

using namespace tasim;
using namespace tasim::serve;

namespace {

// A made-up chip: 32 workers, 4 KV heads on the chip (8 decodes a round), a chunk estimate of 100
// cycles per key block of 256 keys per round of items (64 queries an item); dense time piecewise
// linear (flat while the weights' reads dominate, then linear), 20 us per extra sequence, the
// decodes' cache reads 1 us per round and per 256 keys, chunks 2 ns per estimated cycle.
const AttentionSpread kSpread{4, 32};

double chunk_cycles(long long batch, long long n, long long kv_len) {
  const double rounds = std::ceil(batch * 4.0 * std::ceil(n / 64.0) / 32);
  return rounds * 100.0 * std::ceil(kv_len / 256.0);
}

double truth(const StepShape& shape) {
  const StepFeatures f = step_features(shape);
  const double dense = f.tokens <= 256 ? 0.004 : 0.004 + (f.tokens - 256) * 2e-6;
  double out = dense + 2e-5 * (f.seqs - 1);
  if (f.decodes > 0) {
    const double mean_kv = f.decode_kv / f.decodes;
    out += 1e-6 * kSpread.rounds(f.decodes) * std::ceil(mean_kv / 256.0);
  }
  for (const ScheduledSeq& s : shape.seqs) {
    if (s.new_tokens > 1) out += 2e-9 * chunk_cycles(1, s.new_tokens, s.context_tokens + s.new_tokens);
  }
  return out;
}

StepShape shape(std::initializer_list<std::tuple<long long, int, int>> groups) {
  StepShape s;
  for (const auto& [ctx, n, count] : groups) {
    for (int i = 0; i < count; ++i) s.seqs.push_back({static_cast<int>(s.seqs.size()), n, ctx, n == 1});
  }
  return s;
}

}  // namespace

TEST_CASE("step features count tokens, sequences, decode keys and prefill pairs", "[serve][step-model]") {
  const StepFeatures f = step_features(shape({{100, 1, 3}, {50, 10, 1}}));
  CHECK(f.tokens == 13);
  CHECK(f.seqs == 4);
  CHECK(f.decodes == 3);
  CHECK(f.decode_kv == 3 * 101);
  CHECK(f.prefill_pairs == 10 * (50 + 5.5));
  CHECK(sequences_text(shape({{100, 1, 3}, {50, 10, 1}})) == "50:10,100:1x3");
}

TEST_CASE("the step model fitted to a known formula gives it back", "[serve][step-model]") {
  const std::vector<StepProbe> probes = step_probes(8192, 256, 8192, 1e6, kSpread);
  std::vector<double> seconds;
  for (const StepProbe& p : probes) seconds.push_back(truth(p.shape));
  const StepTimeModel m = StepTimeModel::fit(probes, seconds, kSpread, chunk_cycles);
  // Decode batches of whole rounds up to 256 (8 decodes a round: 1, 8, 16, 32, ..., 256), each at
  // context 1 and on both sides of the powers of two and their midpoints.
  std::set<double> batches;
  for (const auto& [b, points] : m.kv) batches.insert(b);
  CHECK(batches == std::set<double>{1, 8, 16, 32, 64, 128, 256});
  CHECK(m.per_seq == Approx(2e-5).epsilon(0.05));
  // Every probe comes back (a decode batch's per-sequence share up to per_seq's least-squares
  // residue, which its context-1 point absorbs).
  for (std::size_t i = 0; i < probes.size(); ++i) {
    INFO(probes[i].sequences);
    CHECK(m.seconds(probes[i].shape) == Approx(seconds[i]).epsilon(1e-6));
  }
  // Steps between them: partial rounds, contexts between the probes (the cache's key blocks step
  // at multiples of 256, the probes catch the powers of two and their midpoints), chunks of other
  // sizes and contexts, mixed.
  for (const StepShape& s : {shape({{2000, 1, 40}}), shape({{300, 1, 100}, {0, 700, 1}}), shape({{0, 3000, 1}}),
                             shape({{4000, 1, 64}, {1000, 200, 2}}), shape({{5000, 1, 13}}), shape({{1, 1, 3}})}) {
    INFO(sequences_text(s));
    CHECK(m.seconds(s) == Approx(truth(s)).epsilon(0.03));
  }
  // Missing roles and bad times are refused.
  CHECK_THROWS_AS(StepTimeModel::fit(probes, std::vector<double>(probes.size() - 1, 1.0), kSpread, chunk_cycles), Error);
  std::vector<double> bad = seconds;
  bad[0] = 0;
  CHECK_THROWS_WITH(StepTimeModel::fit(probes, bad, kSpread, chunk_cycles), Catch::Contains("a simulated step took 0 s"));
  CHECK_THROWS_AS(step_probes(1, 256, 8192, 1e6, kSpread), Error);
}

TEST_CASE("decode rounds follow the compiler's dealing of items over workers", "[serve][step-model]") {
  CHECK(kSpread.rounds(1) == 1);
  CHECK(kSpread.rounds(8) == 1);
  CHECK(kSpread.rounds(9) == 2);
  CHECK(kSpread.full_round_decodes(3) == 24);
  const AttentionSpread wide{48, 32};  // more KV heads than workers: every decode adds rounds
  CHECK(wide.rounds(1) == 2);
  CHECK(wide.rounds(2) == 3);
  CHECK(wide.full_round_decodes(1) == 1);
}
