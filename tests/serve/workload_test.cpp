// Generated workloads beyond single requests (docs/serving.md, "Requests and workloads"):
// parallel samples, priority classes and multi-turn conversations, seeded, and sharing their
// prompts through the prefix cache.
#include "serve/serve_test_util.h"
#include "sim/serve/workload.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "common/error.h"
#include "sim/serve/engine.h"

using namespace tasim;
using namespace tasim::serve;
using namespace tasim::serve::testing;

namespace {

WorkloadSpec fixed_spec(int n, const char* prompt, const char* output) {
  WorkloadSpec spec;
  spec.num_requests = n;
  spec.rate_qps = 5;
  spec.prompt = parse_length_dist(prompt, "--prompt-len");
  spec.output = parse_length_dist(output, "--output-len");
  spec.seed = 3;
  return spec;
}

}  // namespace

TEST_CASE("serve: n parallel samples arrive together with one prompt, shared by the prefix cache",
          "[serve][workload]") {
  WorkloadSpec spec = fixed_spec(50, "uniform:50:200", "uniform:1:30");
  spec.samples = 4;
  const auto requests = generate_requests(spec);
  REQUIRE(requests.size() == 200);
  for (std::size_t i = 0; i < requests.size(); i += 4) {
    for (std::size_t s = 1; s < 4; ++s) {
      CHECK(requests[i + s].arrival_s == requests[i].arrival_s);
      CHECK(requests[i + s].prompt_tokens == requests[i].prompt_tokens);
      CHECK(requests[i + s].priority == requests[i].priority);
      CHECK(prompt_block_hashes(requests[i + s], 16) == prompt_block_hashes(requests[i], 16));
    }
    CHECK(requests[i].id == static_cast<int>(i));
  }
  // Different requests' prompts share nothing.
  CHECK(prompt_block_hashes(requests[0], 16)[0] != prompt_block_hashes(requests[4], 16)[0]);
  // The first sample's output is the one a single-sample workload draws.
  WorkloadSpec one = spec;
  one.samples = 1;
  const auto singles = generate_requests(one);
  for (std::size_t i = 0; i < singles.size(); ++i)
    CHECK(requests[4 * i].output_tokens == singles[i].output_tokens);

  // One prompt per step (the budget is the prompt): the first sample computes 100 tokens, each
  // other takes the first 96 from the cache (floor(99 / 16) blocks) and computes 4.
  WorkloadSpec four = fixed_spec(1, "100", "3");
  four.samples = 4;
  const auto rs = generate_requests(four);
  SchedulerConfig config;
  config.max_num_batched_tokens = 100;
  const ServeResult r = run_serving(rs, config, KvBlockManager(1000, 16, true), affine(0.001, 1e-5));
  long long prefill = 0;
  for (const StepRecord& st : r.steps) prefill += st.prefill_tokens;
  CHECK(prefill == 100 + 3 * 4);
  for (int s = 1; s < 4; ++s) CHECK(r.requests[static_cast<std::size_t>(s)].prefix_hit_tokens == 96);
}

TEST_CASE("serve: priority classes are uniform and seeded, and the defaults draw none", "[serve][workload]") {
  WorkloadSpec spec = fixed_spec(9000, "10", "10");
  spec.priority_classes = 3;
  const auto a = generate_requests(spec), b = generate_requests(spec);
  std::vector<int> count(3, 0);
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].priority >= 0);
    REQUIRE(a[i].priority < 3);
    ++count[static_cast<std::size_t>(a[i].priority)];
    CHECK(a[i].priority == b[i].priority);
  }
  for (const int c : count) CHECK(c == Approx(3000).epsilon(0.06));
  // Priorities come from their own stream: arrivals and lengths are those of the default spec.
  spec.priority_classes = 1;
  const auto plain = generate_requests(spec);
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(plain[i].priority == 0);
    CHECK(plain[i].arrival_s == a[i].arrival_s);
    CHECK(plain[i].segments.empty());
  }
  spec.priority_classes = 0;
  CHECK_THROWS_WITH(generate_requests(spec), Catch::Contains("--priority-classes 0"));
}

TEST_CASE("serve: a conversation's turns carry its history, and the prefix cache reuses it",
          "[serve][workload]") {
  // One conversation of 4 turns of 100 new tokens and 20 outputs, 10 s apart: prompts of 100,
  // 220, 340 and 460 tokens; each turn finds the previous turn's full blocks cached, its prompt's
  // and its outputs' (all but the last output are computed: a turn of P prompt tokens leaves
  // 16 x floor((P + 19) / 16) tokens to the next).
  WorkloadSpec spec = fixed_spec(1, "100", "20");
  spec.turns = 4;
  spec.think_time_s = 10;
  const auto rs = generate_requests(spec);
  REQUIRE(rs.size() == 4);
  for (int i = 0; i < 4; ++i) {
    CHECK(rs[static_cast<std::size_t>(i)].prompt_tokens == 100 + 120 * i);
    CHECK(rs[static_cast<std::size_t>(i)].arrival_s == Approx(rs[0].arrival_s + 10.0 * i));
  }
  const auto h0 = prompt_block_hashes(rs[0], 16), h1 = prompt_block_hashes(rs[1], 16);
  CHECK(std::equal(h0.begin(), h0.end(), h1.begin()));  // turn 1 begins with turn 0's prompt
  SchedulerConfig config;
  const ServeResult r = run_serving(rs, config, KvBlockManager(1000, 16, true), affine(0.001, 1e-5));
  CHECK(r.requests[0].prefix_hit_tokens == 0);
  CHECK(r.requests[1].prefix_hit_tokens == 112);  // 16 x floor(119 / 16)
  CHECK(r.requests[2].prefix_hit_tokens == 224);  // 16 x floor(239 / 16)
  CHECK(r.requests[3].prefix_hit_tokens == 352);  // 16 x floor(359 / 16)
  // Only the last turn's answer is nobody's history.
  CHECK(rs[3].output_segment != 0);
  const auto c2 = cached_block_hashes(rs[2], 16), p3 = prompt_block_hashes(rs[3], 16);
  CHECK(c2.size() == 22);
  CHECK(std::equal(c2.begin(), c2.end(), p3.begin()));

  // Many conversations: turns interleave in arrival order, ids follow it, and it is seeded.
  WorkloadSpec many = fixed_spec(200, "uniform:10:100", "uniform:1:50");
  many.turns = 3;
  many.think_time_s = 2;
  many.samples = 2;
  many.shared_prefix_tokens = 32;
  many.shared_prefix_fraction = 0.5;
  const auto a = generate_requests(many), b = generate_requests(many);
  REQUIRE(a.size() == 200 * 3 * 2);
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].id == static_cast<int>(i));
    if (i > 0) CHECK(a[i].arrival_s >= a[i - 1].arrival_s);
    CHECK(a[i].arrival_s == b[i].arrival_s);
    CHECK(a[i].prompt_tokens == b[i].prompt_tokens);
    CHECK(a[i].output_tokens == b[i].output_tokens);
  }
  const ServeResult served = run_serving(a, config, KvBlockManager(4000, 16, true), affine(0.001, 1e-6));
  long long hits = 0;
  for (const RequestRecord& rec : served.requests) {
    CHECK(static_cast<int>(rec.token_s.size()) == rec.request.output_tokens);
    hits += rec.prefix_hit_tokens;
  }
  CHECK(hits > 0);
  many.turns = 0;
  CHECK_THROWS_WITH(generate_requests(many), Catch::Contains("--turns 0"));
}
