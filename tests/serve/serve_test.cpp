// The serving core (sim/serve) against the invariants and the analytic results a serving system
// must meet (issue 12): conservation of requests and KV blocks, causality, budgets, Little's law,
// the low-load and saturation limits, M/D/1 waiting, preemption by recompute, determinism. Step
// times come from an affine formula here, so every expected figure is computed by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "common/error.h"
#include "serve/serve_test_util.h"
#include "sim/serve/engine.h"
#include "sim/serve/metrics.h"
#include "sim/serve/workload.h"

using namespace tasim;
using namespace tasim::serve;
using namespace tasim::serve::testing;

namespace {

std::vector<Request> fixed_requests(int n, double gap_s, int prompt, int output) {
  std::vector<Request> rs;
  for (int i = 0; i < n; ++i) rs.push_back(request(i, i * gap_s, prompt, output));
  return rs;
}

// Every invariant that holds for any run, checked step by step.
void check_invariants(const std::vector<Request>& requests, const SchedulerConfig& config, const ServeResult& r) {
  REQUIRE(r.requests.size() == requests.size());
  CHECK(r.final_used_blocks == 0);
  double integral = 0, sum_latency = 0;
  for (const RequestRecord& rec : r.requests) {
    INFO("request " << rec.request.id);
    check_request_causality(rec);
    sum_latency += rec.completion_s - rec.request.arrival_s;
  }
  double clock = 0;
  for (const StepRecord& s : r.steps) {
    // The clock never goes back; budgets hold; blocks stay within the cache.
    CHECK(s.start_s >= clock);
    CHECK(s.end_s > s.start_s);
    clock = s.end_s;
    CHECK(s.tokens <= config.max_num_batched_tokens);
    CHECK(s.scheduled <= config.max_num_seqs);
    CHECK(s.running <= config.max_num_seqs);
    CHECK(s.used_blocks <= r.total_blocks);
    // Conservation: arrived by the step's start = finished by then + waiting + running.
    int arrived = 0, finished = 0;
    for (const RequestRecord& rec : r.requests) {
      arrived += rec.request.arrival_s <= s.start_s;
      finished += rec.completion_s <= s.start_s;
    }
    CHECK(arrived == finished + s.waiting + s.running);
  }
  // Little's law for a run that starts and ends empty: the integral of the requests in the system
  // over time equals the sum of their times in it.
  REQUIRE(!r.in_system.empty());
  CHECK(r.in_system.back().second == 0);
  for (std::size_t i = 0; i + 1 < r.in_system.size(); ++i) {
    integral += r.in_system[i].second * (r.in_system[i + 1].first - r.in_system[i].first);
  }
  CHECK(integral == Approx(sum_latency).epsilon(1e-9));
}

}  // namespace

TEST_CASE("serve: workloads are seeded and follow their distributions", "[serve][workload]") {
  WorkloadSpec spec;
  spec.num_requests = 20000;
  spec.rate_qps = 4.0;
  spec.prompt = parse_length_dist("uniform:100:300", "--prompt-len");
  spec.output = parse_length_dist("lognormal:200:0.5", "--output-len");
  spec.seed = 7;
  const auto a = generate_requests(spec), b = generate_requests(spec);
  REQUIRE(a.size() == 20000);
  bool same = true;
  for (std::size_t i = 0; i < a.size(); ++i) {
    same = same && a[i].arrival_s == b[i].arrival_s && a[i].prompt_tokens == b[i].prompt_tokens &&
           a[i].output_tokens == b[i].output_tokens;
  }
  CHECK(same);
  spec.seed = 8;
  CHECK(generate_requests(spec)[5].arrival_s != a[5].arrival_s);
  // Poisson: mean gap 1 / rate (standard error 1/sqrt(n) = 0.7%: 3% is over 4 sigma).
  CHECK(a.back().arrival_s / a.size() == Approx(0.25).epsilon(0.03));
  double prompt_sum = 0, output_sum = 0;
  for (const Request& r : a) {
    CHECK(r.prompt_tokens >= 100);
    CHECK(r.prompt_tokens <= 300);
    prompt_sum += r.prompt_tokens;
    output_sum += r.output_tokens;
  }
  CHECK(prompt_sum / a.size() == Approx(200).epsilon(0.01));
  CHECK(output_sum / a.size() == Approx(200).epsilon(0.02));  // lognormal's MEAN is the lengths' mean
  // Gamma with burstiness 0.25: the same mean gap, squared coefficient of variation 1 / 0.25 = 4.
  spec.arrival = parse_arrival("gamma:0.25");
  const auto g = generate_requests(spec);
  double mean = g.back().arrival_s / g.size(), var = 0, prev = 0;
  for (const Request& r : g) {
    var += (r.arrival_s - prev - mean) * (r.arrival_s - prev - mean);
    prev = r.arrival_s;
  }
  var /= g.size();
  CHECK(mean == Approx(0.25).epsilon(0.05));
  CHECK(var / (mean * mean) == Approx(4.0).epsilon(0.15));
  // Burst: everything at t = 0; zipf within 1..MAX, mostly short; fixed is fixed.
  spec.arrival = parse_arrival("burst");
  spec.prompt = parse_length_dist("zipf:1.2:1000", "--prompt-len");
  spec.output = parse_length_dist("17", "--output-len");
  int ones = 0;
  for (const Request& r : generate_requests(spec)) {
    CHECK(r.arrival_s == 0.0);
    CHECK(r.prompt_tokens >= 1);
    CHECK(r.prompt_tokens <= 1000);
    CHECK(r.output_tokens == 17);
    ones += r.prompt_tokens == 1;
  }
  CHECK(ones > 20000 / 5);
}

TEST_CASE("serve: bad workload specs get one clear error", "[serve][workload][errors]") {
  CHECK_THROWS_WITH(parse_length_dist("0", "--prompt-len"), Catch::Contains("--prompt-len '0'"));
  CHECK_THROWS_WITH(parse_length_dist("uniform:9:3", "--prompt-len"), Catch::Contains("1 <= A <= B"));
  CHECK_THROWS_WITH(parse_length_dist("pareto:1:2", "--output-len"), Catch::Contains("unknown distribution 'pareto'"));
  CHECK_THROWS_WITH(parse_length_dist("normal:x:2", "--output-len"), Catch::Contains("not a distribution"));
  CHECK_THROWS_WITH(parse_arrival("gamma:0"), Catch::Contains("gamma:BURSTINESS (> 0)"));
  WorkloadSpec spec;
  spec.rate_qps = -1;
  CHECK_THROWS_WITH(generate_requests(spec), Catch::Contains("--rate -1"));
}

TEST_CASE("serve: the KV cache conserves its blocks", "[serve][kv]") {
  KvBlockManager kv(10, 16);
  CHECK(kv.blocks_for(0) == 0);
  CHECK(kv.blocks_for(1) == 1);
  CHECK(kv.blocks_for(16) == 1);
  CHECK(kv.blocks_for(17) == 2);
  CHECK(kv.reserve(0, 100));  // 7 blocks
  CHECK(kv.held(0) == 7);
  CHECK_FALSE(kv.reserve(1, 64));  // 4 more do not fit: nothing changes
  CHECK(kv.held(1) == 0);
  CHECK(kv.used_blocks() + kv.free_blocks() == kv.total_blocks());
  CHECK(kv.reserve(1, 48));
  CHECK(kv.free_blocks() == 0);
  kv.release(0);
  CHECK(kv.used_blocks() == 3);
  CHECK_THROWS_AS(KvBlockManager(0, 16), Error);
}

TEST_CASE("serve: at low load TTFT is the prompt's prefill steps and TPOT the batch-1 decode step", "[serve]") {
  // One request at a time: a 1000-token prompt in chunks of 256 (4 steps), 10 outputs.
  SchedulerConfig config;
  config.max_num_batched_tokens = 256;
  const auto requests = fixed_requests(5, 100.0, 1000, 10);
  const auto step = affine(0.001, 1e-5, 0.0);
  const ServeResult r = run_serving(requests, config, KvBlockManager(1000, 16), step);
  check_invariants(requests, config, r);
  const double prefill = 3 * (0.001 + 256e-5) + (0.001 + 232e-5);
  for (const RequestRecord& rec : r.requests) {
    // (Times are absolute, up to 400 s: compared to a nanosecond.)
    CHECK(rec.ttft_s() == Approx(prefill).margin(1e-9));
    CHECK(rec.tpot_s() == Approx(0.001 + 1e-5).margin(1e-9));
    CHECK(rec.preemptions == 0);
  }
}

TEST_CASE("serve: under saturation throughput stays under max batch / step time and the queue grows", "[serve]") {
  SchedulerConfig config;
  config.max_num_seqs = 8;
  config.max_num_batched_tokens = 2048;
  const double a = 0.01, b = 1e-4;
  // Capacity: at most 8 outputs per step of >= a + 8b seconds. Offer twice as many.
  const double capacity = 8 / (a + 8 * b);
  const int n = 400;
  // 20 outputs per request, a request every 10 / capacity seconds: twice the outputs it can make.
  const auto requests = fixed_requests(n, 10.0 / capacity, 64, 20);
  const ServeResult r = run_serving(requests, config, KvBlockManager(100000, 16), affine(a, b));
  check_invariants(requests, config, r);
  const ServeSummary s = summarize(r);
  CHECK(s.output_tokens_per_s <= capacity * (1 + 1e-9));
  // The queue grows linearly: the waiting line at the last arrival's step is about half the
  // requests that arrived (twice the capacity offered), and at half time about half as long.
  const double last_arrival = requests.back().arrival_s;
  int at_half = 0, at_end = 0;
  for (const StepRecord& st : r.steps) {
    if (st.start_s <= last_arrival / 2) at_half = st.waiting;
    if (st.start_s <= last_arrival) at_end = st.waiting;
  }
  CHECK(at_end > n / 4);
  CHECK(at_half == Approx(at_end / 2.0).epsilon(0.2));
}

TEST_CASE("serve: batch-1 prefill-only Poisson arrivals wait as M/D/1 says", "[serve]") {
  // One request at a time, one step each (prompt 512, one output): deterministic service D.
  // Pollaczek-Khinchine: mean wait = rho D / (2 (1 - rho)).
  SchedulerConfig config;
  config.max_num_seqs = 1;
  config.max_num_batched_tokens = 512;
  const double d = 0.01;
  WorkloadSpec spec;
  spec.num_requests = 40000;
  spec.rate_qps = 0.6 / d;  // rho = 0.6
  spec.prompt = parse_length_dist("512", "--prompt-len");
  spec.output = parse_length_dist("1", "--output-len");
  spec.seed = 3;
  const auto requests = generate_requests(spec);
  const ServeResult r = run_serving(requests, config, KvBlockManager(100, 16), [&](const StepShape&) { return d; });
  double wait = 0;
  for (const RequestRecord& rec : r.requests) wait += rec.first_scheduled_s - rec.request.arrival_s;
  wait /= r.requests.size();
  const double rho = 0.6, expected = rho * d / (2 * (1 - rho));
  CHECK(wait == Approx(expected).epsilon(0.05));
}

TEST_CASE("serve: a KV cache too small preempts by recompute and every request still finishes", "[serve]") {
  // 24 blocks of 16 tokens = 384 tokens; 6 requests of 40 + 100 tokens cannot all hold their
  // contexts at once.
  SchedulerConfig config;
  config.max_num_batched_tokens = 512;
  const auto requests = fixed_requests(6, 0.0, 40, 100);
  const ServeResult r = run_serving(requests, config, KvBlockManager(24, 16), affine(0.001, 1e-5));
  check_invariants(requests, config, r);
  CHECK(r.preemptions > 0);
  long long recomputed = 0;
  int preemptions = 0;
  for (const RequestRecord& rec : r.requests) {
    recomputed += rec.recomputed_tokens;
    preemptions += rec.preemptions;
  }
  CHECK(preemptions == r.preemptions);
  CHECK(recomputed > 0);
  // Every step's tokens: the prompts, the decodes and what was computed again (outputs are not
  // counted twice: each request has exactly its outputs, checked above).
  long long computed = 0;
  for (const StepRecord& st : r.steps) computed += st.tokens;
  CHECK(computed == 6 * (40 + 100 - 1) + recomputed);
}

TEST_CASE("serve: a request that can never fit is an error, not a hang", "[serve][errors]") {
  SchedulerConfig config;
  const auto requests = fixed_requests(1, 0.0, 1000, 5);
  CHECK_THROWS_WITH(run_serving(requests, config, KvBlockManager(10, 16), affine(0.001, 0)),
                    Catch::Contains("request 0 (1000 prompt tokens, 0 output so far) needs 63 KV blocks"));
  config.max_num_seqs = 0;
  CHECK_THROWS_WITH(run_serving(requests, config, KvBlockManager(10, 16), affine(0.001, 0)),
                    Catch::Contains("--max-num-seqs 0"));
}

TEST_CASE("serve: long prefills are chunked by the threshold, and priorities order admission", "[serve]") {
  SchedulerConfig config;
  config.max_num_batched_tokens = 4096;
  config.long_prefill_token_threshold = 100;
  const auto requests = fixed_requests(1, 0.0, 250, 2);
  const ServeResult r = run_serving(requests, config, KvBlockManager(100, 16), affine(0.001, 0));
  REQUIRE(r.steps.size() == 4);  // 100 + 100 + 50 prompt tokens, then one decode
  CHECK(r.steps[0].tokens == 100);
  CHECK(r.steps[2].tokens == 50);
  CHECK(r.steps[3].decodes == 1);

  // One sequence at a time; a request of priority 0 arriving last is served before the waiting
  // ones of priority 1 under policy priority, after them under fcfs.
  SchedulerConfig one;
  one.max_num_seqs = 1;
  std::vector<Request> mixed = fixed_requests(4, 0.0, 16, 4);
  for (Request& q : mixed) q.priority = 1;
  mixed[3].priority = 0;
  mixed[3].arrival_s = 0.0;
  const ServeResult fcfs = run_serving(mixed, one, KvBlockManager(100, 16), affine(0.001, 0));
  one.policy = SchedulerConfig::Policy::priority;
  const ServeResult prio = run_serving(mixed, one, KvBlockManager(100, 16), affine(0.001, 0));
  CHECK(fcfs.requests[3].first_scheduled_s > fcfs.requests[1].first_scheduled_s);
  CHECK(prio.requests[3].first_scheduled_s == 0.0);
  CHECK(prio.requests[3].completion_s < prio.requests[0].first_scheduled_s + 1e-12);
}

TEST_CASE("serve: the same inputs give the same run", "[serve]") {
  WorkloadSpec spec;
  spec.num_requests = 300;
  spec.rate_qps = 50;
  spec.prompt = parse_length_dist("lognormal:300:0.8", "--prompt-len");
  spec.output = parse_length_dist("uniform:1:200", "--output-len");
  spec.seed = 11;
  SchedulerConfig config;
  config.max_num_seqs = 32;
  config.max_num_batched_tokens = 1024;
  const auto requests = generate_requests(spec);
  const ServeResult a = run_serving(requests, config, KvBlockManager(400, 16), affine(0.002, 2e-6, 1e-5));
  const ServeResult b = run_serving(requests, config, KvBlockManager(400, 16), affine(0.002, 2e-6, 1e-5));
  check_invariants(requests, config, a);
  REQUIRE(a.steps.size() == b.steps.size());
  bool same = true;
  for (std::size_t i = 0; i < a.requests.size(); ++i) same = same && a.requests[i].token_s == b.requests[i].token_s;
  CHECK(same);
  const ServeSummary s = summarize(a);
  CHECK(s.completed == 300);
  CHECK(s.ttft_s.p50 <= s.ttft_s.p90);
  CHECK(s.ttft_s.p90 <= s.ttft_s.p99);
  CHECK(s.ttft_s.p99 <= s.ttft_s.max);
}

TEST_CASE("serve: percentiles interpolate between ranks", "[serve][metrics]") {
  const Distribution d = distribution({4, 1, 3, 2});
  CHECK(d.mean == 2.5);
  CHECK(d.p50 == 2.5);
  CHECK(d.p90 == Approx(3.7));
  CHECK(d.max == 4);
  CHECK(distribution({}).p99 == 0);
}

TEST_CASE("serve: prefix caching computes a shared prefix once", "[serve][prefix]") {
  // N requests one after the other, each a prompt of P tokens whose first S are shared: the first
  // computes P, each other P - hit with hit = block_size x floor(min(S, P - 1) / block_size).
  SchedulerConfig config;
  config.max_num_batched_tokens = 4096;
  const int n = 6, bs = 16;
  for (const auto& [s, p] : std::vector<std::pair<int, int>>{{200, 300}, {300, 300}, {64, 65}, {15, 100}}) {
    INFO("S " << s << " P " << p);
    std::vector<Request> rs = fixed_requests(n, 10.0, p, 1);
    for (Request& r : rs) {
      r.prefix_group = 0;
      r.prefix_tokens = s;
    }
    const ServeResult r = run_serving(rs, config, KvBlockManager(1000, bs, true), affine(0.001, 1e-5));
    check_invariants(rs, config, r);
    long long computed = 0;
    for (const StepRecord& st : r.steps) computed += st.tokens;
    const long long hit = bs * (std::min(s, p - 1) / bs);
    CHECK(computed == p + (n - 1) * (p - hit));
    CHECK(r.requests[0].prefix_hit_tokens == 0);
    CHECK(r.requests[n - 1].prefix_hit_tokens == hit);
    // Without prefix caching every prompt is computed whole.
    const ServeResult plain = run_serving(rs, config, KvBlockManager(1000, bs, false), affine(0.001, 1e-5));
    long long all = 0;
    for (const StepRecord& st : plain.steps) all += st.tokens;
    CHECK(all == static_cast<long long>(n) * p);
  }
}

TEST_CASE("serve: cached blocks are evicted least recently freed first, and never while held", "[serve][prefix]") {
  // 8 blocks of 4 tokens. Request 0 (a 9-token prompt of group 0: blocks A B full, then a partial
  // one) finishes and leaves A and B cached; an unrelated request then needs 7 blocks, which
  // evicts the two cached ones (the cache has 8), so a later member of group 0 hits nothing.
  KvBlockManager kv(8, 4, true);
  const Request a = request(0, 0.0, 9, 1, 0, 8);
  const auto ha = prompt_block_hashes(a, 4);
  REQUIRE(ha.size() == 2);
  CHECK(kv.take_cached_prefix(0, ha, 9) == 0);
  CHECK(kv.reserve(0, 9));
  kv.cache_full_blocks(0, ha, 9);
  CHECK(kv.cached_blocks() == 2);
  kv.release(0);
  CHECK(kv.used_blocks() == 0);
  CHECK(kv.cached_blocks() == 2);  // free, still named
  // A member of the group takes both (its prompt's last token is still computed).
  const Request b = request(1, 0.0, 9, 1, 0, 8);
  CHECK(kv.take_cached_prefix(1, prompt_block_hashes(b, 4), 9) == 8);
  CHECK(kv.used_blocks() == 2);
  // While b holds them nothing evicts them: 6 blocks free, a request of 7 blocks does not fit.
  CHECK_FALSE(kv.reserve(2, 28));
  kv.release(1);
  CHECK(kv.reserve(2, 28));  // now it fits by evicting the free cached ones
  CHECK(kv.cached_blocks() < 2);
  CHECK(kv.used_blocks() + kv.free_blocks() == kv.total_blocks());
  // Prompts that differ in their first block share nothing after it either (chained hashes).
  const Request c = request(3, 0.0, 9, 1, 1, 8);
  CHECK(prompt_block_hashes(c, 4)[1] != ha[1]);
}

TEST_CASE("serve: a shared system prompt in the workload", "[serve][workload][prefix]") {
  WorkloadSpec spec;
  spec.num_requests = 4000;
  spec.rate_qps = 10;
  spec.prompt = parse_length_dist("100", "--prompt-len");
  spec.output = parse_length_dist("5", "--output-len");
  spec.shared_prefix_tokens = 512;
  spec.shared_prefix_fraction = 0.25;
  int members = 0;
  for (const Request& r : generate_requests(spec)) {
    if (r.prefix_group == 0) {
      ++members;
      CHECK(r.prompt_tokens == 612);
      CHECK(r.prefix_tokens == 512);
    } else {
      CHECK(r.prompt_tokens == 100);
    }
  }
  CHECK(members == Approx(1000).epsilon(0.1));
  spec.shared_prefix_fraction = 1.5;
  CHECK_THROWS_WITH(generate_requests(spec), Catch::Contains("a fraction from 0 to 1"));
}

TEST_CASE("serve: speculative decoding emits (1 - a^(k+1)) / (1 - a) tokens per verify step", "[serve][speculative]") {
  // Long outputs so the cap at the end of a request hardly matters; 200 requests x ~500 verifies.
  const int k = 4;
  for (const double a : {0.0, 0.5, 0.8}) {
    INFO("acceptance " << a);
    SchedulerConfig config;
    config.max_num_seqs = 64;
    config.speculative.k = k;
    config.speculative.acceptance = {a};
    config.speculative.seed = 5;
    config.speculative.draft_step_time = affine(0.0002, 1e-6);
    const auto requests = fixed_requests(200, 0.0, 32, 2000);
    const ServeResult r = run_serving(requests, config, KvBlockManager(100000, 16), affine(0.002, 1e-5));
    check_invariants(requests, config, r);
    long long proposed = 0, accepted = 0, verifies = 0, tokens = 0;
    for (const RequestRecord& rec : r.requests) {
      proposed += rec.drafts_proposed;
      accepted += rec.drafts_accepted;
      verifies += rec.verify_steps;
      tokens += rec.request.output_tokens - 1;  // the first output comes with the prefill
    }
    const double expected = a == 0 ? 1.0 : (1 - std::pow(a, k + 1)) / (1 - a);
    CHECK(static_cast<double>(tokens) / verifies == Approx(expected).epsilon(0.02));
    CHECK(accepted <= proposed);
    if (a == 0) CHECK(accepted == 0);
    // The drafter's time is in every step that verifies.
    for (const StepRecord& st : r.steps) {
      if (st.decodes > 0) CHECK(st.draft_s >= k * 0.0002);
    }
  }
}

TEST_CASE("serve: per-position acceptance rates and bad speculative settings", "[serve][speculative]") {
  // Position rates 1, 1, 0: exactly two drafts accepted per verify: 3 tokens each time.
  SchedulerConfig config;
  config.speculative.k = 3;
  config.speculative.acceptance = {1.0, 1.0, 0.0};
  config.speculative.draft_step_time = affine(0.0001, 0);
  const auto requests = fixed_requests(3, 0.0, 16, 31);  // 1 + 30 outputs: 10 verifies of 3
  const ServeResult r = run_serving(requests, config, KvBlockManager(1000, 16), affine(0.001, 1e-6));
  check_invariants(requests, config, r);
  for (const RequestRecord& rec : r.requests) {
    CHECK(rec.verify_steps == 10);
    CHECK(rec.drafts_accepted == 20);
  }
  config.speculative.acceptance = {1.5};
  CHECK_THROWS_WITH(run_serving(requests, config, KvBlockManager(1000, 16), affine(0.001, 0)),
                    Catch::Contains("acceptance rate 1.5 must be from 0 to 1"));
}
