// The KV groups `tasim serve` forms from a model's layers (sim/serve_command.h kv_layout): the
// shipped models with sliding-window and chunked layers, checked against their config.json's
// layer patterns by hand.
#include <catch2/catch.hpp>

#include <set>

#include "sim/serve_command.h"
#include "workloads/model.h"

using namespace tasim;
using Kind = serve::KvGroup::Kind;

namespace {

// The spans (window or chunk tokens) of a layout's groups of one kind.
std::set<long long> spans(const KvLayout& layout, Kind kind) {
  std::set<long long> out;
  for (const serve::KvGroup& g : layout.groups) {
    if (g.kind == kind) out.insert(g.span_tokens);
  }
  return out;
}

}  // namespace

TEST_CASE("serve KV groups: one group of every layer for a model that attends fully", "[serve][kv][groups]") {
  const KvLayout llama = kv_layout(workloads::load_model("llama-3-8b"));
  REQUIRE(llama.groups.size() == 1);
  CHECK(llama.groups[0].kind == Kind::full);
  CHECK(llama.layers_per_group == 32);
  // MLA (DeepSeek-V3): one group too.
  const KvLayout deepseek = kv_layout(workloads::load_model("deepseek-v3"));
  CHECK(deepseek.groups.size() == 1);
  CHECK(deepseek.layers_per_group == 61);
}

TEST_CASE("serve KV groups: sliding and chunked layers form groups of equal size", "[serve][kv][groups]") {
  // gpt-oss-20b: 24 layers alternating sliding (window 128) and full: one group of 12 each.
  const KvLayout oss = kv_layout(workloads::load_model("gpt-oss-20b"));
  CHECK(oss.layers_per_group == 12);
  CHECK(oss.groups_of(Kind::full) == 1);
  REQUIRE(oss.groups_of(Kind::sliding) == 1);
  CHECK(spans(oss, Kind::sliding) == std::set<long long>{128});
  // Gemma 3 27B: 62 layers, every 6th full (10), 52 sliding (window 1024): groups of gcd = 2.
  const KvLayout gemma = kv_layout(workloads::load_model("gemma-3-27b"));
  CHECK(gemma.layers_per_group == 2);
  CHECK(gemma.groups_of(Kind::full) == 5);
  CHECK(gemma.groups_of(Kind::sliding) == 26);
  CHECK(spans(gemma, Kind::sliding) == std::set<long long>{1024});
  // Mistral 7B v0.1: every layer sliding (window 4096): one sliding group of all 32.
  const KvLayout mistral = kv_layout(workloads::load_model("mistral-7b"));
  REQUIRE(mistral.groups.size() == 1);
  CHECK(mistral.groups[0].kind == Kind::sliding);
  CHECK(mistral.groups[0].span_tokens == 4096);
  CHECK(mistral.layers_per_group == 32);
  // Llama 4 Scout: 48 layers, every 4th a full-attention NoPE layer (12), the rest chunked (36,
  // chunks of 8192): groups of 12.
  const KvLayout scout = kv_layout(workloads::load_model("llama-4-scout"));
  CHECK(scout.layers_per_group == 12);
  CHECK(scout.groups_of(Kind::full) == 1);
  REQUIRE(scout.groups_of(Kind::chunked) == 3);
  CHECK(spans(scout, Kind::chunked) == std::set<long long>{8192});
}
