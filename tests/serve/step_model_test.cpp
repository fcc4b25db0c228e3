// The serving step-time model (sim/serve/step_model.h): its probes, its fit on times made by a
// known formula, and the features of a step.
#include <catch2/catch.hpp>

#include <cmath>

#include "common/error.h"
#include "sim/serve/step_model.h"

using namespace tasim;
using namespace tasim::serve;

namespace {

// A made-up chip: dense time piecewise linear (flat while the weights' reads dominate, then
// linear), 20 us per extra sequence, a cache read that gets cheaper per token past 100k tokens,
// 1 ns per prefill pair.
double truth(const StepShape& shape) {
  const StepFeatures f = step_features(shape);
  const double dense = f.tokens <= 256 ? 0.004 : 0.004 + (f.tokens - 256) * 2e-6;
  const double kv = f.decode_kv <= 100000 ? f.decode_kv * 4e-8 : 0.004 + (f.decode_kv - 100000) * 2e-8;
  return dense + 2e-5 * (f.seqs - 1) + kv + 1e-9 * f.prefill_pairs;
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
  CHECK(f.decode_kv == 3 * 101);
  CHECK(f.prefill_pairs == 10 * (50 + 5.5));
  CHECK(sequences_text(shape({{100, 1, 3}, {50, 10, 1}})) == "50:10,100:1x3");
}

TEST_CASE("the step model fitted to a known formula gives it back", "[serve][step-model]") {
  const std::vector<StepProbe> probes = step_probes(8192, 256, 8192);
  std::vector<double> seconds;
  for (const StepProbe& p : probes) seconds.push_back(truth(p.shape));
  const StepTimeModel m = StepTimeModel::fit(probes, seconds);
  // (A decode's reads at context 1 are counted with its sequence, not with the cache curves.)
  CHECK(m.per_seq == Approx(2e-5 + 2 * 4e-8).epsilon(1e-3));
  CHECK(m.per_pair == Approx(1e-9).epsilon(1e-6));
  // Every probe, and steps between them, as the formula says: dense and kv are piecewise linear
  // through their points (a kv point is a batch's time less the same batch at context 1, so where
  // the cache's rate changes past those first keys a probe comes back within 0.1%, not exactly).
  for (std::size_t i = 0; i < probes.size(); ++i) CHECK(m.seconds(probes[i].shape) == Approx(seconds[i]).epsilon(1e-3));
  for (const StepShape& s : {shape({{2000, 1, 40}}), shape({{300, 1, 100}, {0, 700, 1}}), shape({{0, 3000, 1}}),
                             shape({{4000, 1, 64}, {1000, 200, 2}})}) {
    CHECK(m.seconds(s) == Approx(truth(s)).epsilon(0.05));
  }
  // Missing roles and bad times are refused.
  CHECK_THROWS_AS(StepTimeModel::fit(probes, std::vector<double>(probes.size() - 1, 1.0)), Error);
  std::vector<double> bad = seconds;
  bad[0] = 0;
  CHECK_THROWS_WITH(StepTimeModel::fit(probes, bad), Catch::Contains("a simulated step took 0 s"));
  CHECK_THROWS_AS(step_probes(1, 256, 8192), Error);
}
