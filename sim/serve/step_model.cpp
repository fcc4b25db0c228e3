#include "sim/serve/step_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "common/error.h"

namespace tasim::serve {

StepFeatures step_features(const StepShape& shape) {
  StepFeatures f;
  for (const ScheduledSeq& s : shape.seqs) {
    f.tokens += s.new_tokens;
    f.seqs += 1;
    const double ctx = static_cast<double>(s.context_tokens), n = s.new_tokens;
    if (s.new_tokens == 1) {
      f.decode_kv += ctx + 1;
    } else {
      f.prefill_pairs += n * (ctx + (n + 1) / 2);
    }
  }
  return f;
}

namespace {

StepShape shape_of(std::initializer_list<std::tuple<long long, int, int>> groups) {  // (context, new, count)
  StepShape s;
  for (const auto& [ctx, n, count] : groups) {
    for (int i = 0; i < count; ++i) s.seqs.push_back({static_cast<int>(s.seqs.size()), n, ctx, n == 1});
  }
  return s;
}

}  // namespace

std::string sequences_text(const StepShape& shape) {
  std::map<std::pair<long long, int>, int> groups;
  for (const ScheduledSeq& s : shape.seqs) ++groups[{s.context_tokens, s.new_tokens}];
  std::string out;
  for (const auto& [key, count] : groups) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}:{}", key.first, key.second);
    if (count > 1) out += fmt::format("x{}", count);
  }
  return out;
}

std::vector<StepProbe> step_probes(int max_tokens, int max_seqs, long long max_context, double max_kv_tokens) {
  if (max_tokens < 2 || max_seqs < 2 || max_context < 64) {
    throw Error(fmt::format("step probes need at least 2 tokens and sequences per step and 64 positions (got {}, {}, {})",
                            max_tokens, max_seqs, max_context));
  }
  std::vector<StepProbe> probes;
  const auto add = [&](StepProbe::Role role, StepShape shape) {
    StepProbe p;
    p.role = role;
    p.sequences = sequences_text(shape);
    p.shape = std::move(shape);
    probes.push_back(std::move(p));
  };
  // dense: one chunk of T tokens from scratch, T = 1, 2, 4, ..., max_tokens.
  for (int t = 1;; t = std::min(2 * t, max_tokens)) {
    if (t >= max_context) break;
    add(StepProbe::Role::dense, shape_of({{0, t, 1}}));
    if (t == max_tokens) break;
  }
  // per_pair: a chunk of p after c cached tokens, against the same chunk from scratch.
  const int p = static_cast<int>(std::min<long long>({512, max_tokens, max_context / 4}));
  const long long c = std::min<long long>(2048, max_context - p);
  add(StepProbe::Role::pair_base, shape_of({{0, p, 1}}));
  add(StepProbe::Role::pair, shape_of({{c, p, 1}}));
  // kv: b decodes at several contexts, each against the same b at context 1.
  for (int b : {1, 8, 32, 128}) {
    b = std::min(b, max_seqs);
    const int base = static_cast<int>(probes.size());
    add(StepProbe::Role::kv_base, shape_of({{1, 1, b}}));
    for (long long ctx : {256LL, 1024LL, 2048LL, 4096LL, 8192LL, 16384LL, 32768LL}) {
      // Contexts the model has positions for and the cache could hold.
      if (ctx >= max_context || static_cast<double>(b) * (ctx + 1) > max_kv_tokens) break;
      add(StepProbe::Role::kv, shape_of({{ctx, 1, b}}));
      probes.back().base = base;
    }
    if (b == max_seqs) break;
  }
  // per_seq: decodes at context 1, several batch sizes.
  for (int n : {8, 64, 256}) {
    if (n <= max_seqs && n <= max_tokens) add(StepProbe::Role::seqs, shape_of({{1, 1, n}}));
  }
  return probes;
}

double StepTimeModel::dense_seconds(double tokens) const {
  if (dense.size() == 1) return dense.front().second;
  std::size_t hi = 1;
  while (hi + 1 < dense.size() && dense[hi].first < tokens) ++hi;
  const auto& [x0, y0] = dense[hi - 1];
  const auto& [x1, y1] = dense[hi];
  return y0 + (y1 - y0) * (tokens - x0) / (x1 - x0);
}

StepTimeModel StepTimeModel::fit(const std::vector<StepProbe>& probes, const std::vector<double>& seconds) {
  if (probes.size() != seconds.size()) throw Error("internal: step probes and times differ in number");
  for (const double s : seconds) {
    if (!(s > 0)) throw Error(fmt::format("a simulated step took {} s", s));
  }
  const auto find = [&](StepProbe::Role role) -> std::size_t {
    for (std::size_t i = 0; i < probes.size(); ++i) {
      if (probes[i].role == role) return i;
    }
    throw Error("internal: the step probes lack a role");
  };
  StepTimeModel m;
  // Differences of two steps that differ in one feature only.
  const std::size_t pb = find(StepProbe::Role::pair_base), pp = find(StepProbe::Role::pair);
  m.per_pair = std::max(0.0, (seconds[pp] - seconds[pb]) /
                                 (step_features(probes[pp].shape).prefill_pairs - step_features(probes[pb].shape).prefill_pairs));
  std::map<double, std::vector<std::pair<double, double>>> by_batch;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (probes[i].role != StepProbe::Role::kv) continue;
    const auto base = static_cast<std::size_t>(probes[i].base);
    if (probes[i].base < 0 || base >= probes.size()) throw Error("internal: a kv probe without its base");
    const StepShape& s = probes[i].shape;
    by_batch[static_cast<double>(s.seqs.size())].emplace_back(static_cast<double>(s.seqs.front().context_tokens),
                                                              std::max(0.0, seconds[i] - seconds[base]));
  }
  if (by_batch.empty()) throw Error("internal: no kv step probes");
  for (auto& [b, points] : by_batch) {
    std::sort(points.begin(), points.end());
    m.kv.emplace_back(b, points);
  }
  // dense: the single chunks less their attention.
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (probes[i].role != StepProbe::Role::dense) continue;
    const StepFeatures f = step_features(probes[i].shape);
    const double decodes = f.decode_kv > 0 ? 1 : 0;  // the one-token chunk: a decode at context 0
    m.dense.emplace_back(f.tokens, seconds[i] - m.per_pair * f.prefill_pairs -
                                       (decodes > 0 ? m.kv_seconds(1, f.decode_kv - 1) : 0.0));
  }
  if (m.dense.empty()) throw Error("internal: no dense step probes");
  std::sort(m.dense.begin(), m.dense.end());
  // per_seq: least squares through the origin of what the decodes take beyond dense and KV.
  double num = 0, den = 0;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (probes[i].role != StepProbe::Role::seqs && probes[i].role != StepProbe::Role::kv_base) continue;
    const StepFeatures f = step_features(probes[i].shape);
    const double extra = seconds[i] - m.dense_seconds(f.tokens) - m.kv_seconds(f.seqs, f.decode_kv / f.seqs - 1);
    num += extra * (f.seqs - 1);
    den += (f.seqs - 1) * (f.seqs - 1);
  }
  m.per_seq = den > 0 ? std::max(0.0, num / den) : 0.0;
  return m;
}

double StepTimeModel::seconds(const StepShape& shape) const {
  const StepFeatures f = step_features(shape);
  double decodes = 0;
  for (const ScheduledSeq& s : shape.seqs) decodes += s.new_tokens == 1;
  const double kv_part = decodes > 0 ? kv_seconds(decodes, f.decode_kv / decodes - 1) : 0.0;
  return dense_seconds(f.tokens) + per_seq * (f.seqs - 1) + kv_part + per_pair * f.prefill_pairs;
}

namespace {

// Piecewise linear through (1, 0) and `points` (context, seconds); the last slope beyond them.
double along_context(const std::vector<std::pair<double, double>>& points, double context) {
  double x0 = 1, y0 = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& [x1, y1] = points[i];
    if (context <= x1 || i + 1 == points.size()) return x1 > x0 ? y0 + (y1 - y0) * (context - x0) / (x1 - x0) : y1;
    x0 = x1;
    y0 = y1;
  }
  return 0.0;
}

}  // namespace

double StepTimeModel::kv_seconds(double decodes, double mean_context) const {
  if (kv.empty()) return 0.0;
  if (kv.size() == 1) return along_context(kv.front().second, mean_context);
  // Linear in the batch size between the two measured sizes around it (the nearest two beyond).
  std::size_t hi = 1;
  while (hi + 1 < kv.size() && kv[hi].first < decodes) ++hi;
  const double b0 = kv[hi - 1].first, b1 = kv[hi].first;
  const double y0 = along_context(kv[hi - 1].second, mean_context), y1 = along_context(kv[hi].second, mean_context);
  return std::max(0.0, y0 + (y1 - y0) * (decodes - b0) / (b1 - b0));
}

}  // namespace tasim::serve
