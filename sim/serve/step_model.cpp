#include "sim/serve/step_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "common/error.h"

namespace tasim::serve {

StepFeatures step_features(const StepShape& shape) {
  StepFeatures f;
  for (const ScheduledSeq& s : shape.seqs) {
    f.tokens += s.new_tokens;
    f.seqs += 1;
    const double ctx = static_cast<double>(s.context_tokens), n = s.new_tokens;
    if (s.new_tokens == 1) {  // the compiler's decode: one new token (whatever the scheduler calls it)
      f.decodes += 1;
      f.decode_kv += ctx + 1;
    } else {
      f.prefill_pairs += n * (ctx + (n + 1) / 2);
    }
  }
  return f;
}

int AttentionSpread::rounds(double decodes) const {
  return static_cast<int>(std::ceil(decodes * items_per_seq / workers - 1e-9));
}

int AttentionSpread::full_round_decodes(int r) const {
  return std::max(1, static_cast<int>(static_cast<long long>(r) * workers / items_per_seq));
}

namespace {

StepShape shape_of(std::initializer_list<std::tuple<long long, int, int>> groups) {  // (context, new, count)
  StepShape s;
  for (const auto& [ctx, n, count] : groups) {
    for (int i = 0; i < count; ++i) s.seqs.push_back({static_cast<int>(s.seqs.size()), n, ctx, n == 1});
  }
  return s;
}

// Piecewise linear through `points` (by x); the end values beyond them.
double clamped(const std::vector<std::pair<double, double>>& points, double x) {
  if (points.empty()) return 0.0;
  if (x <= points.front().first) return points.front().second;
  if (x >= points.back().first) return points.back().second;
  std::size_t hi = 1;
  while (points[hi].first < x) ++hi;
  const auto& [x0, y0] = points[hi - 1];
  const auto& [x1, y1] = points[hi];
  return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

// Piecewise linear through `points` (by x). Beyond the last point, the secant from the last point
// with x at most half its x (so a step just before the end does not set the slope); before the
// first, its value.
double extended(const std::vector<std::pair<double, double>>& points, double x) {
  if (points.empty()) return 0.0;
  if (points.size() == 1 || x <= points.front().first) return points.front().second;
  const auto& [xl, yl] = points.back();
  if (x > xl) {
    std::size_t k = 0;
    for (std::size_t i = 0; i + 1 < points.size(); ++i) {
      if (points[i].first <= xl / 2) k = i;
    }
    const auto& [x0, y0] = points[k];
    return yl + (yl - y0) * (x - xl) / (xl - x0);
  }
  return clamped(points, x);
}

// `curves` by a key (batch size, chunk tokens): each curve at `x`, then linear in log key between
// the two curves around `key`; the end curves beyond.
double across(const std::vector<std::pair<double, std::vector<std::pair<double, double>>>>& curves, double key,
              double x) {
  std::vector<std::pair<double, double>> at_x;
  for (const auto& [k, points] : curves) at_x.emplace_back(std::log(k), clamped(points, x));
  return clamped(at_x, std::log(key));
}

constexpr int kPairChunks[] = {16, 64, 256, 1024, 4096};          // chunk sizes of the pair probes
constexpr long long kPairContexts[] = {512, 2048, 8192, 32768};  // cached tokens before their chunks
constexpr int kDenseSizesPerOctave = 8;                           // from 128 tokens on
constexpr int kFirstContextExponent = 8;                          // decode probes at 2^k - 1 keys from k = 8

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

std::vector<StepProbe> step_probes(int max_tokens, int max_seqs, long long max_context, double max_kv_tokens,
                                   const AttentionSpread& spread) {
  if (max_tokens < 2 || max_seqs < 2 || max_context < 64) {
    throw Error(fmt::format("step probes need at least 2 tokens and sequences per step and 64 positions (got {}, {}, {})",
                            max_tokens, max_seqs, max_context));
  }
  std::vector<StepProbe> probes;
  const auto add = [&](StepProbe::Role role, StepShape shape, int base = -1) {
    StepProbe p;
    p.role = role;
    p.sequences = sequences_text(shape);
    p.shape = std::move(shape);
    p.base = base;
    probes.push_back(std::move(p));
    return static_cast<int>(probes.size()) - 1;
  };
  // dense: one chunk of T tokens from scratch, T = 1, 2, 4, ..., 128, then eight sizes an octave
  // (the linear ops' tiles and SRAM plans make steps within an octave) up to max_tokens.
  std::map<int, int> dense_of;  // tokens -> probe
  std::vector<int> sizes;
  for (int t = 1; t < 128; t *= 2) sizes.push_back(t);
  for (int k = 0;; ++k) {
    const int t = static_cast<int>(std::lround(128 * std::pow(2.0, k / static_cast<double>(kDenseSizesPerOctave))));
    sizes.push_back(std::min(t, max_tokens));
    if (t >= max_tokens) break;
  }
  for (const int t : sizes) {
    if (t <= max_tokens && t < max_context && !dense_of.count(t)) dense_of[t] = add(StepProbe::Role::dense, shape_of({{0, t, 1}}));
  }
  // pair: a chunk of n after c cached tokens, against the same chunk from scratch, on a grid of n
  // and c.
  for (const int n : kPairChunks) {
    for (const long long c : kPairContexts) {
      if (dense_of.count(n) && c + n < max_context && static_cast<double>(c + n) <= max_kv_tokens) {
        add(StepProbe::Role::pair, shape_of({{c, n, 1}}), dense_of[n]);
      }
    }
  }
  // kv: batches of 1 and of whole rounds of the decodes' op up to max_seqs, at context 1 and on
  // both sides of each power of two from 256 on and of each midway between (3 x 2^k: the key
  // blocks are powers of two), while the positions and the cache allow.
  if (spread.items_per_seq < 1 || spread.workers < 1) throw Error("internal: an attention spread without items or workers");
  std::vector<int> batches = {1};
  for (int r = 1;; r = std::min(2 * r, spread.rounds(max_seqs))) {
    batches.push_back(std::min(spread.full_round_decodes(r), max_seqs));
    if (r == spread.rounds(max_seqs)) break;
  }
  std::sort(batches.begin(), batches.end());
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
  for (const int b : batches) {
    add(StepProbe::Role::kv_base, shape_of({{1, 1, b}}));
    for (long long top = 1LL << kFirstContextExponent;; top *= 2) {
      bool added = false;
      for (const long long ctx : {top - 1, top, top + top / 2 - 1, top + top / 2}) {
        if (ctx + 1 > max_context || static_cast<double>(b) * static_cast<double>(ctx + 1) > max_kv_tokens) continue;
        add(StepProbe::Role::kv, shape_of({{ctx, 1, b}}));
        added = true;
      }
      if (!added) break;
    }
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

double StepTimeModel::chunk_seconds(long long count, long long new_tokens, long long context) const {
  if (chunk_scales.empty()) return 0.0;
  return across(chunk_scales, static_cast<double>(new_tokens), static_cast<double>(context)) *
         estimate(count, new_tokens, context + new_tokens);
}

double StepTimeModel::kv_seconds(double decodes, double mean_context) const {
  if (kv.empty()) return 0.0;
  const double ctx = std::max(1.0, mean_context);
  const auto at = [&](std::size_t j) { return extended(kv[j].second, ctx); };
  for (std::size_t j = 0; j < kv.size(); ++j) {
    if (kv[j].first == decodes) return at(j);
  }
  // Within a round, each decode adds what the first round's decodes add one by one.
  const int one_round = spread.full_round_decodes(1);
  double slope = 0;
  if (one_round > 1 && kv.size() > 1 && kv[0].first == 1 && kv[1].first == one_round) {
    slope = (at(1) - at(0)) / (one_round - 1);
  }
  // Across rounds: linear through the measured batches, each taken to its last round's end.
  std::vector<std::pair<double, double>> by_rounds;
  for (std::size_t j = 0; j < kv.size(); ++j) {
    const int r = spread.rounds(kv[j].first);
    if (!by_rounds.empty() && by_rounds.back().first == r) by_rounds.pop_back();  // keep the fuller batch
    by_rounds.emplace_back(r, at(j) + (spread.full_round_decodes(r) - kv[j].first) * slope);
  }
  const int r = spread.rounds(decodes);
  const double full = by_rounds.size() == 1 ? by_rounds.front().second * r / by_rounds.front().first
                                            : extended(by_rounds, r);
  return full - (spread.full_round_decodes(r) - decodes) * slope;
}

StepTimeModel StepTimeModel::fit(const std::vector<StepProbe>& probes, const std::vector<double>& values,
                                 const AttentionSpread& spread, AttentionEstimate estimate) {
  if (probes.size() != values.size()) throw Error("internal: step probes and times differ in number");
  for (const double s : values) {
    if (!(s > 0)) throw Error(fmt::format("a simulated step took {} s", s));
  }
  StepTimeModel m;
  m.spread = spread;
  m.estimate = std::move(estimate);
  const auto base_of = [&](std::size_t i) {
    const auto base = static_cast<std::size_t>(probes[i].base);
    if (probes[i].base < 0 || base >= probes.size()) throw Error("internal: a step probe without its base");
    return base;
  };
  // Chunk scales: for chunk n, the smallest context's difference from the chunk from scratch sets
  // the scale of its own attention (context 0); each context's then makes that probe exact.
  std::map<long long, std::vector<std::pair<long long, std::size_t>>> pairs;  // n -> (c, probe)
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (probes[i].role != StepProbe::Role::pair) continue;
    const ScheduledSeq& chunk = probes[i].shape.seqs.front();
    pairs[chunk.new_tokens].emplace_back(chunk.context_tokens, i);
  }
  for (auto& [n, list] : pairs) {
    std::sort(list.begin(), list.end());
    const double scratch = values[base_of(list.front().second)];
    const double own = m.estimate(1, n, n);
    const auto [c1, i1] = list.front();
    const double grow = m.estimate(1, n, c1 + n) - own;
    if (!(grow > 0)) continue;
    const double s0 = std::max(0.0, (values[i1] - scratch) / grow);
    std::vector<std::pair<double, double>> points = {{0.0, s0}};
    for (const auto& [c, i] : list) {
      points.emplace_back(static_cast<double>(c), std::max(0.0, (values[i] - scratch + s0 * own) / m.estimate(1, n, c + n)));
    }
    m.chunk_scales.emplace_back(static_cast<double>(n), points);
  }
  // dense: the single chunks less their own attention (the one-token chunk is a decode at context
  // 0, counted whole).
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (probes[i].role != StepProbe::Role::dense) continue;
    const auto n = static_cast<long long>(step_features(probes[i].shape).tokens);
    m.dense.emplace_back(static_cast<double>(n), values[i] - (n > 1 ? m.chunk_seconds(1, n, 0) : 0.0));
  }
  if (m.dense.empty()) throw Error("internal: no dense step probes");
  std::sort(m.dense.begin(), m.dense.end());
  // per_seq: least squares through the origin of what decodes at context 1 take beyond dense.
  double num = 0, den = 0;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (probes[i].role != StepProbe::Role::kv_base) continue;
    const StepFeatures f = step_features(probes[i].shape);
    num += (values[i] - m.dense_seconds(f.tokens)) * (f.seqs - 1);
    den += (f.seqs - 1) * (f.seqs - 1);
  }
  m.per_seq = den > 0 ? std::max(0.0, num / den) : 0.0;
  // kv: each batch's decodes less dense and per_seq, by context.
  std::map<double, std::vector<std::pair<double, double>>> by_batch;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (probes[i].role != StepProbe::Role::kv && probes[i].role != StepProbe::Role::kv_base) continue;
    const StepFeatures f = step_features(probes[i].shape);
    by_batch[f.seqs].emplace_back(static_cast<double>(probes[i].shape.seqs.front().context_tokens),
                                  values[i] - m.dense_seconds(f.tokens) - m.per_seq * (f.seqs - 1));
  }
  for (auto& [b, points] : by_batch) {
    std::sort(points.begin(), points.end());
    m.kv.emplace_back(b, points);
  }
  return m;
}

double StepTimeModel::seconds(const StepShape& shape) const {
  const StepFeatures f = step_features(shape);
  double out = dense_seconds(f.tokens) + per_seq * (f.seqs - 1);
  // The compiler's attention ops: the decodes over their mean keys (rounded up), each chunk shape.
  if (f.decodes > 0) out += kv_seconds(f.decodes, f.decode_kv / f.decodes - 1);
  std::map<std::pair<long long, long long>, long long> chunks;  // (new, context) -> count
  for (const ScheduledSeq& s : shape.seqs) {
    if (s.new_tokens > 1) ++chunks[{s.new_tokens, s.context_tokens}];
  }
  for (const auto& [key, count] : chunks) out += chunk_seconds(count, key.first, key.second);
  return out;
}

}  // namespace tasim::serve
