// The schedulers besides vLLM V1 (Sarathi-Serve, Orca, static batching), SGLang's lpm ordering,
// and several replicas on one clock (routing, prefill/decode disaggregation), against the
// invariants every serving run meets and the defining behaviour of each (docs/serving.md). Step
// times come from an affine formula, so expected figures are computed by hand.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <tuple>

#include "common/error.h"
#include "serve/serve_test_util.h"
#include "sim/serve/cluster.h"
#include "sim/serve/engine.h"
#include "sim/serve/workload.h"

using namespace tasim;
using namespace tasim::serve;
using namespace tasim::serve::testing;

namespace {

using Kind = SchedulerConfig::Kind;
using Routing = ClusterConfig::Routing;

std::vector<Request> generated(int n, double rate_qps, std::uint64_t seed,
                               const char* prompt = "lognormal:200:0.7",
                               const char* output = "uniform:1:60") {
  WorkloadSpec spec;
  spec.num_requests = n;
  spec.rate_qps = rate_qps;
  spec.prompt = parse_length_dist(prompt, "--prompt-len");
  spec.output = parse_length_dist(output, "--output-len");
  spec.max_tokens = 600;
  spec.shared_prefix_tokens = 64;
  spec.shared_prefix_fraction = 0.5;
  spec.seed = seed;
  return generate_requests(spec);
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::vllm:
      return "vllm";
    case Kind::sarathi:
      return "sarathi";
    case Kind::orca:
      return "orca";
    case Kind::static_batch:
      return "static";
  }
  return "?";
}

// The invariants of any run on any number of replicas: every request finishes once with exactly
// its outputs, causally; each replica's clock never goes back; budgets and the caches hold; at
// every step of a replica, the requests routed to it that have arrived are finished, waiting or
// running there (without disaggregation); Little's law over the whole cluster.
void check_cluster_invariants(const std::vector<Request>& requests, const SchedulerConfig& config,
                              const ServeResult& r, bool disaggregated = false) {
  REQUIRE(r.requests.size() == requests.size());
  CHECK(r.final_used_blocks == 0);
  double sum_latency = 0;
  for (const RequestRecord& rec : r.requests) {
    INFO("request " << rec.request.id);
    check_request_causality(rec);
    CHECK(rec.replica >= 0);
    CHECK(rec.replica < r.replicas);
    sum_latency += rec.completion_s - rec.request.arrival_s;
  }
  std::vector<double> clock(static_cast<std::size_t>(r.replicas), 0.0);
  for (const StepRecord& s : r.steps) {
    REQUIRE(s.replica >= 0);
    REQUIRE(s.replica < r.replicas);
    double& c = clock[static_cast<std::size_t>(s.replica)];
    CHECK(s.start_s >= c);
    CHECK(s.end_s > s.start_s);
    c = s.end_s;
    CHECK(s.tokens <= config.max_num_batched_tokens);
    CHECK(s.scheduled <= config.max_num_seqs);
    CHECK(s.running <= config.max_num_seqs);
    CHECK(s.used_blocks <= r.total_blocks);
    if (disaggregated) continue;
    int arrived = 0, finished = 0;
    for (const RequestRecord& rec : r.requests) {
      if (rec.replica != s.replica) continue;
      arrived += rec.request.arrival_s <= s.start_s;
      finished += rec.completion_s <= s.start_s;
    }
    CHECK(arrived == finished + s.waiting + s.running);
  }
  // in_system is in time order here, so the integral is a plain sum of rectangles.
  REQUIRE(!r.in_system.empty());
  CHECK(r.in_system.back().second == 0);
  double integral = 0;
  for (std::size_t i = 0; i + 1 < r.in_system.size(); ++i) {
    CHECK(r.in_system[i + 1].first >= r.in_system[i].first);
    integral += r.in_system[i].second * (r.in_system[i + 1].first - r.in_system[i].first);
  }
  CHECK(integral == Approx(sum_latency).epsilon(1e-9));
}

long long total_step_tokens(const ServeResult& r) {
  long long n = 0;
  for (const StepRecord& s : r.steps) n += s.tokens;
  return n;
}

}  // namespace

TEST_CASE("serve: every scheduler conserves requests and blocks, is causal and keeps its budgets",
          "[serve][sched]") {
  for (const Kind kind : {Kind::vllm, Kind::sarathi, Kind::orca, Kind::static_batch}) {
    for (const bool small_cache : {false, true}) {
      for (const bool prefix : {false, true}) {
        INFO(kind_name(kind) << (small_cache ? " small cache" : " large cache")
                             << (prefix ? " prefix caching" : ""));
        SchedulerConfig config;
        config.kind = kind;
        config.max_num_seqs = 16;
        config.max_num_batched_tokens =
            1024;  // > the longest prompt (600 + 64): Orca and static stay in budget
        const auto requests = generated(300, 40, 21);
        const KvBlockManager kv(small_cache ? 60 : 2000, 16, prefix);
        const ServeResult r = run_serving(requests, config, kv, affine(0.002, 2e-6, 1e-5));
        check_cluster_invariants(requests, config, r);
        // Every computed token is a prompt's (less its cache hits), an output's or a recompute's.
        long long expected = 0;
        for (const RequestRecord& rec : r.requests) {
          expected += rec.request.prompt_tokens + rec.request.output_tokens - 1 + rec.recomputed_tokens -
                      rec.prefix_hit_tokens;
        }
        CHECK(total_step_tokens(r) == expected);
        if (kind == Kind::orca || kind == Kind::static_batch) CHECK(r.preemptions == 0);
        if (small_cache && (kind == Kind::vllm || kind == Kind::sarathi)) CHECK(r.preemptions > 0);
        // The same inputs, the same run.
        const ServeResult again = run_serving(requests, config, kv, affine(0.002, 2e-6, 1e-5));
        bool same = again.steps.size() == r.steps.size();
        for (std::size_t i = 0; same && i < r.requests.size(); ++i)
          same = again.requests[i].token_s == r.requests[i].token_s;
        CHECK(same);
      }
    }
  }
}

TEST_CASE("serve: Orca prefills whole prompts and reserves every output's KV, so it never preempts",
          "[serve][sched]") {
  // The cache of the vLLM preemption test: 24 blocks of 16 tokens for 6 requests of 40 + 100.
  SchedulerConfig config;
  config.max_num_batched_tokens = 512;
  std::vector<Request> requests;
  for (int i = 0; i < 6; ++i) requests.push_back(request(i, 0.0, 40, 100));
  const ServeResult vllm = run_serving(requests, config, KvBlockManager(24, 16), affine(0.001, 1e-5));
  CHECK(vllm.preemptions > 0);
  config.kind = Kind::orca;
  const ServeResult orca = run_serving(requests, config, KvBlockManager(24, 16), affine(0.001, 1e-5));
  check_cluster_invariants(requests, config, orca);
  CHECK(orca.preemptions == 0);
  // ceil(140 / 16) = 9 blocks each: two requests at a time (18 of 24 blocks), so three rounds.
  for (const StepRecord& s : orca.steps) CHECK(s.running <= 2);
  CHECK(total_step_tokens(orca) == 6 * (40 + 100 - 1));
  // A prompt is computed in one step: 300 tokens with a budget of 100 is one step of 300, alone.
  config.max_num_batched_tokens = 100;
  const std::vector<Request> one{request(0, 0.0, 300, 3), request(1, 0.0, 20, 3)};
  const ServeResult whole = run_serving(one, config, KvBlockManager(100, 16), affine(0.001, 1e-5));
  REQUIRE(!whole.steps.empty());
  CHECK(whole.steps[0].tokens == 300);
  CHECK(whole.steps[0].scheduled == 1);
  for (std::size_t i = 1; i < whole.steps.size(); ++i) CHECK(whole.steps[i].tokens <= 100);
}

TEST_CASE("serve: static batching admits a new batch only when the last has finished", "[serve][sched]") {
  SchedulerConfig config;
  config.kind = Kind::static_batch;
  config.max_num_seqs = 4;
  config.max_num_batched_tokens = 4096;
  const auto requests = generated(60, 100, 5, "uniform:20:200", "uniform:1:40");
  const ServeResult r = run_serving(requests, config, KvBlockManager(5000, 16), affine(0.002, 1e-6));
  check_cluster_invariants(requests, config, r);
  // Batches: the requests first scheduled at one time.
  std::map<double, std::vector<int>> batches;
  for (const RequestRecord& rec : r.requests) batches[rec.first_scheduled_s].push_back(rec.request.id);
  double last_batch_end = 0;
  for (const auto& [start_s, ids] : batches) {
    CHECK(static_cast<int>(ids.size()) <= config.max_num_seqs);
    CHECK(start_s >= last_batch_end);  // nothing admitted while a batch runs
    double end = 0;
    for (const int id : ids) end = std::max(end, r.requests[static_cast<std::size_t>(id)].completion_s);
    last_batch_end = end;
  }
  CHECK(batches.size() >= 60 / 4);
  // A batch prefills in its first step and decodes together after: the steps of a batch's prefill
  // are exactly the batch starts.
  int prefill_steps = 0;
  for (const StepRecord& s : r.steps) {
    if (s.prefill_tokens > 0) {
      ++prefill_steps;
      CHECK(batches.count(s.start_s) == 1);
      CHECK(s.decodes == 0);
    }
  }
  CHECK(prefill_steps == static_cast<int>(batches.size()));
}

TEST_CASE("serve: Sarathi-Serve puts every decode first and never stalls them, where Orca's whole prompts do",
          "[serve][sched]") {
  // Request 0, a 20,000-token prompt, arrives while 100 short requests decode (40 outputs each).
  std::vector<Request> requests;
  for (int i = 0; i < 100; ++i) requests.push_back(request(i, 0.0, 8, 40));
  requests.push_back(request(100, 0.005, 20000, 2));
  SchedulerConfig config;
  config.max_num_batched_tokens = 512;
  const double a = 0.001, b = 1e-6;
  // Does every request, once decoding, get a token in every step of its replica until it ends?
  const auto stall_free = [](const ServeResult& r) {
    std::vector<double> ends;
    for (const StepRecord& s : r.steps) ends.push_back(s.end_s);
    for (const RequestRecord& rec : r.requests) {
      for (std::size_t i = 1; i < rec.token_s.size(); ++i) {
        if (rec.token_s[i] == rec.token_s[i - 1]) continue;  // accepted drafts come with their step
        const auto at = std::lower_bound(ends.begin(), ends.end(), rec.token_s[i - 1]);
        if (at + 1 == ends.end() || *(at + 1) != rec.token_s[i]) return false;
      }
    }
    return true;
  };
  const auto max_itl = [](const ServeResult& r) {
    double m = 0;
    for (const RequestRecord& rec : r.requests) {
      for (std::size_t i = 1; i < rec.token_s.size(); ++i)
        m = std::max(m, rec.token_s[i] - rec.token_s[i - 1]);
    }
    return m;
  };
  config.kind = Kind::sarathi;
  bool decodes_first = true;
  const StepTimeFn timed = [&](const StepShape& s) {
    bool seen_prefill = false;
    for (const ScheduledSeq& q : s.seqs) {
      if (q.decode && seen_prefill) decodes_first = false;
      seen_prefill = seen_prefill || !q.decode;
    }
    return a + b * static_cast<double>(s.tokens());
  };
  const ServeResult sarathi = run_serving(requests, config, KvBlockManager(10000, 16), timed);
  check_cluster_invariants(requests, config, sarathi);
  CHECK(decodes_first);
  CHECK(stall_free(sarathi));
  // No step computes more than the chunk: no gap longer than one full step.
  CHECK(max_itl(sarathi) <= a + b * 512 + 1e-12);
  // Where vLLM V1 differs: with speculative decoding (k = 3) a decode needs 4 tokens but was
  // admitted for 1. Request 0 (a long prompt, chunks of 512) is first in the running queue; 200
  // one-token prompts join it in the first step. Then V1 gives request 0 its 512 first and only
  // 128 decodes fit; Sarathi-Serve gives the 200 decodes their 800 first.
  std::vector<Request> spec_requests{request(0, 0.0, 20000, 2)};
  for (int i = 1; i <= 200; ++i) spec_requests.push_back(request(i, 0.0, 1, 9));
  SchedulerConfig spec;
  spec.max_num_batched_tokens = 1024;
  spec.long_prefill_token_threshold = 512;
  spec.speculative.k = 3;
  spec.speculative.acceptance = {1.0};
  spec.speculative.draft_step_time = affine(1e-4, 0);
  const ServeResult spec_vllm = run_serving(spec_requests, spec, KvBlockManager(10000, 16), affine(a, b));
  spec.kind = Kind::sarathi;
  const ServeResult spec_sarathi = run_serving(spec_requests, spec, KvBlockManager(10000, 16), affine(a, b));
  check_cluster_invariants(spec_requests, spec, spec_sarathi);
  CHECK_FALSE(stall_free(spec_vllm));
  CHECK(stall_free(spec_sarathi));

  // Orca (no token budget in the paper: a budget above every step here) computes the long prompt
  // in one step: the decodes running then wait for all of it.
  config.kind = Kind::orca;
  config.max_num_batched_tokens = 32768;
  const ServeResult orca = run_serving(requests, config, KvBlockManager(10000, 16), affine(a, b));
  check_cluster_invariants(requests, config, orca);
  CHECK(max_itl(orca) >= a + b * 20000);
}

TEST_CASE("serve: lpm admits the waiting request with the longest cached prefix first",
          "[serve][sched][prefix]") {
  // One request at a time. Request 0 (group 0, a 64-token shared prefix) runs; meanwhile request 1
  // (no group) and request 2 (group 0) wait. fcfs takes 1 next; lpm takes 2 (48 tokens cached:
  // three full blocks of its 65-token prompt, the last token computed).
  const std::vector<Request> requests{request(0, 0.0, 65, 5, 0, 64), request(1, 0.0001, 65, 5),
                                      request(2, 0.0002, 65, 5, 0, 64), request(3, 0.0003, 65, 5, 0, 64)};
  SchedulerConfig config;
  config.max_num_seqs = 1;
  const ServeResult fcfs = run_serving(requests, config, KvBlockManager(100, 16, true), affine(0.001, 1e-5));
  config.ordering = SchedulerConfig::Ordering::lpm;
  const ServeResult lpm = run_serving(requests, config, KvBlockManager(100, 16, true), affine(0.001, 1e-5));
  check_cluster_invariants(requests, config, lpm);
  CHECK(fcfs.requests[1].first_scheduled_s < fcfs.requests[2].first_scheduled_s);
  CHECK(lpm.requests[2].first_scheduled_s < lpm.requests[1].first_scheduled_s);
  // Equal matches keep arrival order: 2 before 3, and 1 (no match) last.
  CHECK(lpm.requests[2].first_scheduled_s < lpm.requests[3].first_scheduled_s);
  CHECK(lpm.requests[3].first_scheduled_s < lpm.requests[1].first_scheduled_s);
  CHECK(lpm.requests[2].prefix_hit_tokens == 64);
}

TEST_CASE("serve: a cluster of one replica is run_serving exactly", "[serve][cluster]") {
  const auto requests = generated(300, 60, 9);
  for (const Kind kind : {Kind::vllm, Kind::sarathi, Kind::orca, Kind::static_batch}) {
    INFO(kind_name(kind));
    SchedulerConfig config;
    config.kind = kind;
    config.max_num_seqs = 16;
    config.max_num_batched_tokens = 1024;
    const ServeResult single =
        run_serving(requests, config, KvBlockManager(300, 16, true), affine(0.002, 2e-6, 1e-5));
    for (const Routing routing : {Routing::round_robin, Routing::least_kv, Routing::prefix_aware}) {
      ClusterConfig cluster;
      cluster.routing = routing;
      const ServeResult one =
          run_cluster(requests, config, cluster, KvBlockManager(300, 16, true), affine(0.002, 2e-6, 1e-5));
      REQUIRE(one.steps.size() == single.steps.size());
      bool same = one.duration_s == single.duration_s && one.preemptions == single.preemptions;
      for (std::size_t i = 0; i < one.requests.size(); ++i) {
        same = same && one.requests[i].token_s == single.requests[i].token_s &&
               one.requests[i].first_scheduled_s == single.requests[i].first_scheduled_s &&
               one.requests[i].prefix_hit_tokens == single.requests[i].prefix_hit_tokens;
      }
      for (std::size_t i = 0; i < one.steps.size(); ++i) {
        same = same && one.steps[i].start_s == single.steps[i].start_s &&
               one.steps[i].tokens == single.steps[i].tokens &&
               one.steps[i].waiting == single.steps[i].waiting &&
               one.steps[i].used_blocks == single.steps[i].used_blocks;
      }
      CHECK(same);
      CHECK(one.replicas == 1);
    }
  }
}

TEST_CASE("serve: routing policies send each request where they say", "[serve][cluster]") {
  const auto requests = generated(400, 300, 4);
  SchedulerConfig config;
  config.max_num_seqs = 8;
  config.max_num_batched_tokens = 1024;
  ClusterConfig cluster;
  cluster.replicas = 3;

  // Round robin: exactly cyclic.
  const ServeResult rr =
      run_cluster(requests, config, cluster, KvBlockManager(400, 16), affine(0.002, 2e-6, 1e-5));
  check_cluster_invariants(requests, config, rr);
  CHECK(rr.replicas == 3);
  for (const RequestRecord& rec : rr.requests) CHECK(rec.replica == rec.request.id % 3);

  // Least outstanding: at its arrival, no replica had fewer requests routed to it and unfinished
  // (a completion at the same time counts as finished: steps finish before arrivals), and none
  // of a lower index as few.
  cluster.routing = Routing::least_outstanding;
  const ServeResult lo =
      run_cluster(requests, config, cluster, KvBlockManager(400, 16), affine(0.002, 2e-6, 1e-5));
  check_cluster_invariants(requests, config, lo);
  for (const RequestRecord& rec : lo.requests) {
    std::vector<int> outstanding(3, 0);
    for (int j = 0; j < rec.request.id; ++j) {
      const RequestRecord& o = lo.requests[static_cast<std::size_t>(j)];
      outstanding[static_cast<std::size_t>(o.replica)] += o.completion_s > rec.request.arrival_s;
    }
    const auto best = std::min_element(outstanding.begin(), outstanding.end()) - outstanding.begin();
    CHECK(rec.replica == best);
  }

  // Least KV and prefix-aware finish everything too (their choices are checked below).
  for (const Routing routing : {Routing::least_kv, Routing::prefix_aware}) {
    cluster.routing = routing;
    const ServeResult r =
        run_cluster(requests, config, cluster, KvBlockManager(400, 16, true), affine(0.002, 2e-6, 1e-5));
    check_cluster_invariants(requests, config, r);
    std::vector<int> served(3, 0);
    for (const RequestRecord& rec : r.requests) ++served[static_cast<std::size_t>(rec.replica)];
    if (routing == Routing::least_kv) CHECK(*std::min_element(served.begin(), served.end()) > 0);
  }
}

TEST_CASE("serve: least-KV routing picks the replica with the fewest blocks in use", "[serve][cluster]") {
  // Request 0 (a long prompt) goes to replica 0 and holds many blocks; request 1 (short) to
  // replica 1 (least KV: both empty at t = 0... ties by outstanding: 1 has none). Request 2 comes
  // while both run: replica 1 holds fewer blocks though both have one request outstanding.
  const std::vector<Request> requests{request(0, 0.0, 2000, 50), request(1, 0.0, 16, 50),
                                      request(2, 0.01, 16, 5)};
  SchedulerConfig config;
  ClusterConfig cluster;
  cluster.replicas = 2;
  cluster.routing = Routing::least_kv;
  const ServeResult r = run_cluster(requests, config, cluster, KvBlockManager(1000, 16), affine(0.001, 1e-6));
  check_cluster_invariants(requests, config, r);
  CHECK(r.requests[0].replica == 0);
  CHECK(r.requests[1].replica == 1);
  CHECK(r.requests[2].replica == 1);
}

TEST_CASE("serve: prefix-aware routing keeps a prefix group on the replica that has its prefix",
          "[serve][cluster]") {
  // Group 0's first request goes to replica 0, group 1's (no match anywhere) to the least loaded,
  // replica 1; later members follow their prefix whatever the load.
  std::vector<Request> requests{request(0, 0.0, 300, 200, 0, 256), request(1, 0.0, 300, 200, 1, 256)};
  for (int i = 2; i < 40; ++i)
    requests.push_back(request(i, 0.5 + 0.01 * i, 300, 20, i % 3 == 0 ? 1 : 0, 256));
  SchedulerConfig config;
  ClusterConfig cluster;
  cluster.replicas = 2;
  cluster.routing = Routing::prefix_aware;
  const ServeResult r =
      run_cluster(requests, config, cluster, KvBlockManager(1000, 16, true), affine(0.001, 1e-6));
  check_cluster_invariants(requests, config, r);
  for (const RequestRecord& rec : r.requests) {
    INFO("request " << rec.request.id);
    CHECK(rec.replica == rec.request.prefix_group);
    if (rec.request.id >= 2) CHECK(rec.prefix_hit_tokens == 256);
  }
}

TEST_CASE("serve: disaggregated, TTFT is the prefill and the first decode waits for the KV transfer",
          "[serve][cluster][disaggregation]") {
  // One request alone: prefill 1000 tokens in one step on replica 0, 1000 x 1e5 bytes over a
  // 1e9 B/s link with 2 ms latency (0.102 s), then 9 decode steps on replica 1.
  const double a = 0.001, b = 1e-5;
  const ClusterConfig cluster = disaggregated(1, 1, 1e5, 1e9, 0.002);
  SchedulerConfig config;
  const std::vector<Request> one{request(0, 1.0, 1000, 10)};
  const ServeResult r = run_cluster(one, config, cluster, KvBlockManager(1000, 16), affine(a, b));
  check_cluster_invariants(one, config, r, true);
  const RequestRecord& rec = r.requests[0];
  CHECK(r.replicas == 2);
  CHECK(rec.replica == 1);
  CHECK(rec.prefill_replica == 0);
  CHECK(rec.ttft_s() == Approx(a + 1000 * b).margin(1e-12));
  CHECK(rec.kv_transfer_s == Approx(0.002 + 0.1).margin(1e-12));
  CHECK(rec.token_s[1] == Approx(rec.first_token_s + rec.kv_transfer_s + a + b).margin(1e-12));
  CHECK(rec.tpot_s() > a + b);  // the transfer is in the first gap
  for (const StepRecord& s : r.steps) CHECK((s.replica == 0) == (s.decodes == 0));

  // Two prompts prefilled in one step share the one link to the one decode replica: the second
  // transfer waits for the first.
  const std::vector<Request> two{request(0, 0.0, 500, 4), request(1, 0.0, 500, 4)};
  const ServeResult q = run_cluster(two, config, cluster, KvBlockManager(1000, 16), affine(a, b));
  check_cluster_invariants(two, config, q, true);
  const double transfer = 0.002 + 500 * 1e5 / 1e9;
  CHECK(q.requests[0].kv_transfer_s == Approx(transfer).margin(1e-12));
  CHECK(q.requests[1].kv_transfer_s == Approx(2 * transfer).margin(1e-12));
}

TEST_CASE("serve: a disaggregated cluster under load conserves everything",
          "[serve][cluster][disaggregation]") {
  const auto requests = generated(400, 80, 13);
  SchedulerConfig config;
  config.max_num_seqs = 32;
  config.max_num_batched_tokens = 1024;
  ClusterConfig cluster = disaggregated(2, 3, 1.3e5, 5e10, 1e-4);
  cluster.routing = Routing::least_outstanding;
  const auto step = [](int replica, const StepShape& s) {
    return (replica < 2 ? 0.002 : 0.003) + 2e-6 * static_cast<double>(s.tokens()) + 1e-5 * s.decodes();
  };
  const ServeResult r = run_cluster(requests, config, cluster, KvBlockManager(300, 16, true), step);
  check_cluster_invariants(requests, config, r, true);
  CHECK(r.replicas == 5);
  std::vector<int> served(5, 0);
  for (const RequestRecord& rec : r.requests) {
    INFO("request " << rec.request.id);
    ++served[static_cast<std::size_t>(rec.replica)];
    if (rec.request.output_tokens == 1) continue;  // finished with its prefill
    CHECK(rec.replica >= 2);
    CHECK(rec.prefill_replica >= 0);
    CHECK(rec.prefill_replica < 2);
    const double link_s = 1e-4 + 1.3e5 * rec.request.prompt_tokens / 5e10;
    CHECK(rec.kv_transfer_s >= link_s - 1e-12);
    CHECK(rec.token_s[1] >= rec.first_token_s + rec.kv_transfer_s);
  }
  for (int d = 2; d < 5; ++d) CHECK(served[static_cast<std::size_t>(d)] > 0);
  // Prefill replicas only prefill, decode replicas only decode (a preempted request recomputes).
  for (const StepRecord& s : r.steps) {
    if (s.replica < 2) CHECK(s.decodes == 0);
  }
}

TEST_CASE("serve: bad cluster settings get one clear error", "[serve][cluster][errors]") {
  const std::vector<Request> one{request(0, 0.0, 10, 2)};
  SchedulerConfig config;
  ClusterConfig cluster;
  cluster.replicas = 0;
  CHECK_THROWS_WITH(run_cluster(one, config, cluster, KvBlockManager(10, 16), affine(0.001, 0)),
                    Catch::Contains("--replicas 0"));
  cluster.replicas = 1;
  cluster.disaggregation.prefill_replicas = 2;
  CHECK_THROWS_WITH(run_cluster(one, config, cluster, KvBlockManager(10, 16), affine(0.001, 0)),
                    Catch::Contains("2 prefill and 0 decode"));
  cluster.disaggregation.decode_replicas = 1;
  CHECK_THROWS_WITH(run_cluster(one, config, cluster, KvBlockManager(10, 16), affine(0.001, 0)),
                    Catch::Contains("bandwidth 0 bytes/s"));
  // A request that outgrows the whole cache while decoding is an error, not endless preemption.
  const std::vector<Request> big{request(0, 0.0, 100, 200)};
  CHECK_THROWS_WITH(run_serving(big, config, KvBlockManager(10, 16), affine(0.001, 0)),
                    Catch::Contains("request 0 (100 prompt tokens, 61 output so far) needs 11 KV blocks"));
}

TEST_CASE("serve: token-granular prefix matching hits past the last shared full block", "[serve][prefix]") {
  // N requests one after another share S = 200 tokens of P = 300. Block-granular (vLLM) hits
  // 16 x floor(200 / 16) = 192 tokens; token-granular (SGLang's radix tree) all 200: the 8 shared
  // tokens of block 12 are found in the first request's cached block 12 and copied.
  const int n = 5, s = 200, p = 300;
  std::vector<Request> rs;
  for (int i = 0; i < n; ++i) rs.push_back(request(i, 10.0 * i, p, 1, 0, s));
  SchedulerConfig config;
  const ServeResult block = run_serving(rs, config, KvBlockManager(1000, 16, true), affine(0.001, 1e-5));
  const ServeResult token =
      run_serving(rs, config, KvBlockManager(1000, 16, true, PrefixMatch::token), affine(0.001, 1e-5));
  check_cluster_invariants(rs, config, token);
  CHECK(total_step_tokens(block) == p + (n - 1) * (p - 192));
  CHECK(total_step_tokens(token) == p + (n - 1) * (p - 200));
  CHECK(token.requests[n - 1].prefix_hit_tokens == 200);
  // Where the shared prefix is a whole number of blocks the two agree. A partial match needs a
  // cached full block at that position: a 100-token prompt's last 4 tokens never fill a block, so
  // a second one hits 96 either way (SGLang's tree, caching every token, would hit 99).
  for (const auto& [shared, prompt, block_hit, token_hit] : std::vector<std::tuple<int, int, int, int>>{
           {192, 300, 192, 192}, {100, 120, 96, 100}, {100, 100, 96, 96}, {7, 50, 0, 7}}) {
    INFO("S " << shared << " P " << prompt);
    std::vector<Request> q{request(0, 0.0, prompt, 1, 0, shared), request(1, 1.0, prompt, 1, 0, shared)};
    const ServeResult b = run_serving(q, config, KvBlockManager(100, 16, true), affine(0.001, 1e-5));
    const ServeResult t =
        run_serving(q, config, KvBlockManager(100, 16, true, PrefixMatch::token), affine(0.001, 1e-5));
    CHECK(b.requests[1].prefix_hit_tokens == block_hit);
    CHECK(t.requests[1].prefix_hit_tokens == token_hit);
    CHECK(t.final_used_blocks == 0);
  }
  // The cache itself: a partial match needs a named block at that position; once it is evicted
  // the match is gone.
  KvBlockManager kv(4, 4, true, PrefixMatch::token);
  const Request a = request(0, 0.0, 8, 1, 0, 6), b = request(1, 0.0, 8, 1, 0, 6);
  const auto ha = prompt_block_hashes(a, 4), hb = prompt_block_hashes(b, 4);
  const auto names = [](const Request& r, const std::vector<std::uint64_t>& h) -> PartialBlockName {
    return [&r, &h](std::size_t block, int t) {
      return partial_block_hash(r, 4, block == 0 ? 0 : h[block - 1], static_cast<int>(block), t);
    };
  };
  const PartialBlockName pa = names(a, ha), pb = names(b, hb);
  CHECK(pa(1, 2) == pb(1, 2));  // the first 6 tokens: the shared prefix
  CHECK(pa(1, 3) != pb(1, 3));  // the 7th is each one's own
  CHECK(kv.reserve(0, 8));
  kv.cache_full_blocks(0, ha, 8, pa);
  kv.release(0);
  CHECK(kv.cached_prefix_tokens(hb, 8, pb) == 6);  // block 0, then 2 tokens of block 1
  CHECK(kv.take_cached_prefix(1, hb, 8, pb) == 6);
  CHECK(kv.held(1) == 1);  // the 2 copied tokens go in a block of its own, reserved later
  CHECK(kv.reserve(1, 8));
  CHECK(kv.used_blocks() == 2);
  kv.release(1);
  CHECK(kv.reserve(2, 16));  // every block: the cached ones are evicted
  CHECK(kv.cached_prefix_tokens(hb, 8, pb) == 0);
  CHECK(kv.used_blocks() + kv.free_blocks() == kv.total_blocks());
}
