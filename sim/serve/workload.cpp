#include "sim/serve/workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace tasim::serve {

namespace {

constexpr double kPi = 3.14159265358979323846;

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = text.find(sep, start);
    parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

// A finite number, the whole text.
bool parse_number(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(out);
}

}  // namespace

LengthDist parse_length_dist(const std::string& text, const std::string& what) {
  const auto bad = [&](const std::string& why) {
    return Error(fmt::format("{} '{}': {} (a number, uniform:A:B, normal:MEAN:STD, lognormal:MEAN:SIGMA or "
                             "zipf:S:MAX)",
                             what, text, why));
  };
  LengthDist d;
  d.text = text;
  const std::vector<std::string> parts = split(text, ':');
  double x = 0, y = 0;
  if (parts.size() == 1) {
    if (!parse_number(parts[0], x) || x < 1 || x != std::floor(x)) throw bad("a fixed length is a whole number >= 1");
    d.kind = LengthDist::Kind::fixed;
    d.a = x;
    return d;
  }
  if (parts.size() != 3 || !parse_number(parts[1], x) || !parse_number(parts[2], y)) throw bad("not a distribution");
  const std::string& kind = parts[0];
  d.a = x;
  d.b = y;
  if (kind == "uniform") {
    if (x < 1 || y < x || x != std::floor(x) || y != std::floor(y)) throw bad("needs whole numbers 1 <= A <= B");
    d.kind = LengthDist::Kind::uniform;
  } else if (kind == "normal") {
    if (x < 1 || y < 0) throw bad("needs MEAN >= 1 and STD >= 0");
    d.kind = LengthDist::Kind::normal;
  } else if (kind == "lognormal") {
    if (x < 1 || y < 0) throw bad("needs MEAN >= 1 and SIGMA >= 0");
    d.kind = LengthDist::Kind::lognormal;
  } else if (kind == "zipf") {
    if (x <= 0 || y < 1 || y > 1e7 || y != std::floor(y)) throw bad("needs S > 0 and a whole MAX from 1 to 10^7");
    d.kind = LengthDist::Kind::zipf;
  } else {
    throw bad(fmt::format("unknown distribution '{}'", kind));
  }
  return d;
}

ArrivalProcess parse_arrival(const std::string& text) {
  ArrivalProcess a;
  if (text == "poisson") return a;
  if (text == "burst") {
    a.kind = ArrivalProcess::Kind::burst;
    return a;
  }
  double b = 0;
  if (text.rfind("gamma:", 0) == 0 && parse_number(text.substr(6), b) && b > 0) {
    a.kind = ArrivalProcess::Kind::gamma;
    a.burstiness = b;
    return a;
  }
  throw Error(fmt::format("--arrival '{}' is not one of: poisson, gamma:BURSTINESS (> 0), burst", text));
}

double Rng::uniform() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }

double Rng::normal() {
  if (have_spare_) {
    have_spare_ = false;
    return spare_;
  }
  const double u1 = 1.0 - uniform();  // (0, 1]: the log is finite
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(2.0 * kPi * u2);
  have_spare_ = true;
  return r * std::cos(2.0 * kPi * u2);
}

double Rng::exponential(double rate) { return -std::log(1.0 - uniform()) / rate; }

double Rng::gamma(double shape, double scale) {
  if (shape < 1.0) {
    // Boost a shape below 1 (Marsaglia and Tsang): G(a) = G(a + 1) U^(1/a).
    const double u = 1.0 - uniform();
    return gamma(shape + 1.0, scale) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0, v = 0;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = 1.0 - uniform();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v * scale;
  }
}

namespace {

class LengthSampler {
 public:
  LengthSampler(const LengthDist& d, int lo, int hi) : d_(d), lo_(lo), hi_(hi) {
    if (d.kind == LengthDist::Kind::zipf) {
      const auto n = static_cast<std::size_t>(d.b);
      cdf_.resize(n);
      double sum = 0;
      for (std::size_t k = 1; k <= n; ++k) cdf_[k - 1] = (sum += std::pow(static_cast<double>(k), -d.a));
      for (double& c : cdf_) c /= sum;
    }
  }
  int sample(Rng& rng) const {
    double x = 0;
    switch (d_.kind) {
      case LengthDist::Kind::fixed: x = d_.a; break;
      case LengthDist::Kind::uniform: x = d_.a + std::floor(rng.uniform() * (d_.b - d_.a + 1)); break;
      case LengthDist::Kind::normal: x = std::round(d_.a + d_.b * rng.normal()); break;
      case LengthDist::Kind::lognormal: {
        const double mu = std::log(d_.a) - 0.5 * d_.b * d_.b;  // so that the mean is MEAN
        x = std::round(std::exp(mu + d_.b * rng.normal()));
        break;
      }
      case LengthDist::Kind::zipf: {
        const double u = rng.uniform();
        x = static_cast<double>(std::upper_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin() + 1);
        break;
      }
    }
    return static_cast<int>(std::clamp(x, static_cast<double>(lo_), static_cast<double>(hi_)));
  }

 private:
  LengthDist d_;
  int lo_, hi_;
  std::vector<double> cdf_;
};

}  // namespace

namespace {

void validate_spec(const WorkloadSpec& spec) {
  if (spec.num_requests < 1) throw Error(fmt::format("--num-requests {} must be >= 1", spec.num_requests));
  if (spec.arrival.kind != ArrivalProcess::Kind::burst && !(spec.rate_qps > 0 && std::isfinite(spec.rate_qps))) {
    throw Error(fmt::format("--rate {} must be a number of requests per second > 0", spec.rate_qps));
  }
  if (spec.min_tokens < 1 || spec.max_tokens < spec.min_tokens) {
    throw Error(fmt::format("token lengths clipped to [{}, {}]: need 1 <= min <= max", spec.min_tokens, spec.max_tokens));
  }
  if (spec.shared_prefix_tokens < 0 || !(spec.shared_prefix_fraction >= 0 && spec.shared_prefix_fraction <= 1)) {
    throw Error(fmt::format("shared prefix of {} tokens for a fraction {} of the requests: need tokens >= 0 and a "
                            "fraction from 0 to 1",
                            spec.shared_prefix_tokens, spec.shared_prefix_fraction));
  }
  if (spec.samples < 1) throw Error(fmt::format("--samples {} must be >= 1", spec.samples));
  if (spec.priority_classes < 1)
    throw Error(fmt::format("--priority-classes {} must be >= 1", spec.priority_classes));
  if (spec.turns < 1) throw Error(fmt::format("--turns {} must be >= 1", spec.turns));
  if (!(spec.think_time_s >= 0) || !std::isfinite(spec.think_time_s)) {
    throw Error(fmt::format("--think-time {} s must be >= 0", spec.think_time_s));
  }
}

// The generator's streams: one each for arrivals, prompts, outputs, prefix groups, priorities and
// the outputs of extra samples, so changing one leaves the others.
struct Streams {
  explicit Streams(std::uint64_t seed)
      : arrivals(seed),
        prompts(seed ^ 0x9e3779b97f4a7c15ull),
        outputs(seed ^ 0xbf58476d1ce4e5b9ull),
        groups(seed ^ 0x94d049bb133111ebull),
        priorities(seed ^ 0x2545f4914f6cdd1dull),
        samples(seed ^ 0xd6e8feb86659fd93ull) {}
  Rng arrivals, prompts, outputs, groups, priorities, samples;
};

double next_arrival_gap(const WorkloadSpec& spec, Rng& rng) {
  switch (spec.arrival.kind) {
    case ArrivalProcess::Kind::poisson:
      return rng.exponential(spec.rate_qps);
    case ArrivalProcess::Kind::gamma:
      // vLLM's benchmark: shape = burstiness, scale = 1 / (rate x burstiness): the mean gap is 1 / rate.
      return rng.gamma(spec.arrival.burstiness, 1.0 / (spec.rate_qps * spec.arrival.burstiness));
    case ArrivalProcess::Kind::burst:
      return 0.0;
  }
  return 0.0;
}

int draw_priority(const WorkloadSpec& spec, Rng& rng) {
  if (spec.priority_classes <= 1) return 0;
  return std::min(spec.priority_classes - 1, static_cast<int>(rng.uniform() * spec.priority_classes));
}

// Segment names: a tag, the conversation and the turn (distinct for up to 2^32 conversations of
// 2^24 turns).
enum : std::uint64_t { kGroupSegment = 1, kTurnPromptSegment = 2, kTurnOutputSegment = 3 };
std::uint64_t segment_id(std::uint64_t tag, std::uint64_t conversation, std::uint64_t turn) {
  return (tag << 56) ^ (conversation << 24) ^ turn;
}

// Conversations and parallel samples: requests named by segments, then put in arrival order.
std::vector<Request> generate_conversations(const WorkloadSpec& spec, Streams& rng,
                                            const LengthSampler& prompt, const LengthSampler& output) {
  std::vector<Request> out;
  double start = 0;
  for (int c = 0; c < spec.num_requests; ++c) {
    start += next_arrival_gap(spec, rng.arrivals);
    const bool member = spec.shared_prefix_tokens > 0 && rng.groups.uniform() < spec.shared_prefix_fraction;
    std::vector<Request::Segment> history;
    if (member) history.push_back({segment_id(kGroupSegment, 0, 0), spec.shared_prefix_tokens});
    for (int turn = 0; turn < spec.turns; ++turn) {
      const auto conv = static_cast<std::uint64_t>(c);
      const Request::Segment fresh{segment_id(kTurnPromptSegment, conv, static_cast<std::uint64_t>(turn)),
                                   prompt.sample(rng.prompts)};
      const int first_output = output.sample(rng.outputs);
      const int priority = draw_priority(spec, rng.priorities);
      Request r;
      r.arrival_s = start + spec.think_time_s * turn;
      r.segments = history;
      r.segments.push_back(fresh);
      r.prompt_tokens = 0;
      for (const Request::Segment& seg : r.segments) r.prompt_tokens += seg.tokens;
      r.priority = priority;
      if (member) {
        r.prefix_group = 0;
        r.prefix_tokens = spec.shared_prefix_tokens;
      }
      const std::uint64_t answer = segment_id(kTurnOutputSegment, conv, static_cast<std::uint64_t>(turn));
      for (int s = 0; s < spec.samples; ++s) {
        r.output_tokens = s == 0 ? first_output : output.sample(rng.samples);
        // The first sample's answer is the next turn's history: its blocks are worth caching.
        r.output_segment = s == 0 && spec.turns > 1 ? answer : 0;
        out.push_back(r);
      }
      // The next turn's prompt: this one's and the first sample's answer.
      history.push_back(fresh);
      history.push_back({answer, first_output});
    }
  }
  // Turns of later conversations may come before earlier ones' last turns.
  std::stable_sort(out.begin(), out.end(),
                   [](const Request& a, const Request& b) { return a.arrival_s < b.arrival_s; });
  for (std::size_t i = 0; i < out.size(); ++i) out[i].id = static_cast<int>(i);
  return out;
}

}  // namespace

std::vector<Request> generate_requests(const WorkloadSpec& spec) {
  validate_spec(spec);
  Streams rng(spec.seed);
  const LengthSampler prompt(spec.prompt, spec.min_tokens, spec.max_tokens);
  const LengthSampler output(spec.output, spec.min_tokens, spec.max_tokens);
  if (spec.samples > 1 || spec.turns > 1) return generate_conversations(spec, rng, prompt, output);
  std::vector<Request> out;
  out.reserve(static_cast<std::size_t>(spec.num_requests));
  double t = 0;
  for (int i = 0; i < spec.num_requests; ++i) {
    t += next_arrival_gap(spec, rng.arrivals);
    Request r;
    r.id = i;
    r.arrival_s = t;
    r.prompt_tokens = prompt.sample(rng.prompts);
    r.output_tokens = output.sample(rng.outputs);
    if (spec.shared_prefix_tokens > 0 && rng.groups.uniform() < spec.shared_prefix_fraction) {
      r.prefix_group = 0;
      r.prefix_tokens = spec.shared_prefix_tokens;
      r.prompt_tokens += spec.shared_prefix_tokens;
    }
    r.priority = draw_priority(spec, rng.priorities);
    out.push_back(r);
  }
  return out;
}

}  // namespace tasim::serve
