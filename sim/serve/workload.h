// Synthetic request streams: arrivals (Poisson, Gamma with a burstiness factor as in vLLM's
// benchmark, or all at t = 0) and prompt/output lengths from a distribution. Seeded and computed
// with tasim's own generators (not std::*_distribution, whose algorithms are the library's), so
// the same spec and seed give the same requests on every machine.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sim/serve/request.h"

namespace tasim::serve {

// A token-length distribution, clipped to [min_tokens, max_tokens]:
//   "N"                 fixed
//   "uniform:A:B"       integers A..B, equally likely
//   "normal:MEAN:STD"   rounded
//   "lognormal:MEAN:SIGMA"  rounded; MEAN is the lengths' mean, SIGMA the underlying normal's
//   "zipf:S:MAX"        P(k) proportional to k^-S for k = 1..MAX
struct LengthDist {
  enum class Kind { fixed, uniform, normal, lognormal, zipf } kind = Kind::fixed;
  double a = 1.0, b = 0.0;  // by kind: N; A, B; MEAN, STD; MEAN, SIGMA; S, MAX
  std::string text;         // as written, for messages
};
// Throws tasim::Error naming `what` (e.g. "--prompt-len") and the text for a bad distribution.
LengthDist parse_length_dist(const std::string& text, const std::string& what);

struct ArrivalProcess {
  enum class Kind { poisson, gamma, burst } kind = Kind::poisson;
  double burstiness = 1.0;  // gamma: the shape; 1 is Poisson, below 1 burstier
};
// "poisson", "gamma:B" (B > 0) or "burst" (every request at t = 0).
ArrivalProcess parse_arrival(const std::string& text);

struct WorkloadSpec {
  int num_requests = 100;
  double rate_qps = 1.0;  // mean arrivals per second (unused by burst)
  ArrivalProcess arrival;
  LengthDist prompt, output;
  // A shared system prompt: this fraction of the requests (chosen at random) are one prefix
  // group whose prompts begin with the same shared_prefix_tokens tokens, before their own
  // (prompt-length) tokens.
  int shared_prefix_tokens = 0;
  double shared_prefix_fraction = 0.0;
  int min_tokens = 1;
  int max_tokens = 1 << 20;  // lengths are clipped to [min_tokens, max_tokens]
  std::uint64_t seed = 0;

  // Parallel sampling (n > 1): each request becomes n requests with the same prompt, arriving
  // together (prefix caching shares the prompt's full blocks); the first has the drawn output
  // length, the others their own draws.
  int samples = 1;
  // Priority classes: each request's priority uniform in 0..K-1 (samples of a request share it).
  int priority_classes = 1;
  // Multi-turn conversations: each of the num_requests arrivals starts a conversation of `turns`
  // requests; turn i (from 0) arrives think_time_s x i after the start (open loop: whether turn
  // i - 1 has finished or not) and its prompt is every earlier turn's prompt and output followed
  // by its own new prompt-length tokens (named so prefix caching can share them).
  int turns = 1;
  double think_time_s = 0.0;
};

// The requests in arrival order, ids 0..n-1 (num_requests x turns x samples of them; with the
// defaults of the fields above, one per arrival, the same as before those fields existed).
// Throws tasim::Error for a bad spec.
std::vector<Request> generate_requests(const WorkloadSpec& spec);

// The generator behind it: std::mt19937_64 (its output is fixed by the C++ standard), doubles
// from 53 bits, normal by Box-Muller, gamma by Marsaglia and Tsang.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  double uniform();  // [0, 1)
  double normal();   // mean 0, std 1
  double exponential(double rate);
  double gamma(double shape, double scale);

 private:
  std::mt19937_64 engine_;
  bool have_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace tasim::serve
