// Helpers shared by the serving library's tests: a step-time formula and hand-made requests.
#pragma once

#include <catch2/catch.hpp>

#include <vector>

#include "sim/serve/cluster.h"
#include "sim/serve/engine.h"
#include "sim/serve/request.h"

namespace tasim::serve::testing {

// a + b x tokens + c x decodes seconds.
inline StepTimeFn affine(double a, double b, double c = 0.0) {
  return [=](const StepShape& s) { return a + b * static_cast<double>(s.tokens()) + c * s.decodes(); };
}

// Prefill/decode disaggregation: P prefill and D decode replicas, every link of `link_bytes_per_s`
// and `latency_s`, `kv_bytes_per_token` of KV per prompt token.
inline ClusterConfig disaggregated(int prefill, int decode, double kv_bytes_per_token, double link_bytes_per_s,
                                   double latency_s) {
  ClusterConfig cluster;
  cluster.disaggregation.prefill_replicas = prefill;
  cluster.disaggregation.decode_replicas = decode;
  cluster.disaggregation.kv_bytes_per_token = kv_bytes_per_token;
  cluster.disaggregation.link_bytes_per_s = link_bytes_per_s;
  cluster.disaggregation.link_latency_s = latency_s;
  return cluster;
}

inline Request request(int id, double arrival_s, int prompt, int output, int prefix_group = -1,
                       int prefix_tokens = 0) {
  Request r;
  r.id = id;
  r.arrival_s = arrival_s;
  r.prompt_tokens = prompt;
  r.output_tokens = output;
  r.prefix_group = prefix_group;
  r.prefix_tokens = prefix_tokens;
  return r;
}

// Causality of one finished request and exactly its outputs: arrival <= first scheduled < first
// token <= completion, token times never going back (a step may emit several: speculative
// decoding), the last one at completion.
inline void check_request_causality(const RequestRecord& rec) {
  CHECK(rec.request.arrival_s <= rec.first_scheduled_s);
  CHECK(rec.first_scheduled_s < rec.first_token_s);
  CHECK(rec.first_token_s <= rec.completion_s);
  REQUIRE(static_cast<int>(rec.token_s.size()) == rec.request.output_tokens);
  for (std::size_t i = 1; i < rec.token_s.size(); ++i) CHECK(rec.token_s[i] >= rec.token_s[i - 1]);
  CHECK(rec.token_s.back() == rec.completion_s);
}

}  // namespace tasim::serve::testing
