// KV groups in the block manager (vLLM's hybrid KV cache manager, sim/serve/kv_cache.h): a
// sliding-window or chunked group holds only the blocks its next step can attend, the pool is
// conserved, prefix hits need every group's blocks, and a served request's peak holding is what
// the windows say. Every expected figure is computed by hand in the comments.
#include <catch2/catch.hpp>

#include <algorithm>

#include "common/error.h"
#include "serve/serve_test_util.h"
#include "sim/serve/cluster.h"
#include "sim/serve/engine.h"
#include "sim/serve/kv_cache.h"

using namespace tasim;
using namespace tasim::serve;
using namespace tasim::serve::testing;

namespace {

const KvGroup kFull{};
KvGroup sliding(long long window) { return KvGroup{KvGroup::Kind::sliding, window}; }
KvGroup chunked(long long chunk) { return KvGroup{KvGroup::Kind::chunked, chunk}; }

}  // namespace

TEST_CASE("serve: a sliding-window group holds only the blocks its window needs", "[serve][kv][groups]") {
  // Blocks of 4 tokens; one full group and one sliding group of window 8.
  KvBlockManager kv(100, 4, false, PrefixMatch::block, {kFull, sliding(8)});
  // A 20-token prefill (nothing cached before it): its first query attends token 0, so both groups
  // hold all 5 blocks.
  CHECK(kv.blocks_needed(20, 0) == 10);
  REQUIRE(kv.reserve(0, 20, 0));
  CHECK(kv.held(0) == 10);
  // Its first decode (20 cached, 21 in all): the query at position 20 attends 13..20, blocks 3..5
  // in the sliding group (3 blocks); the full group holds blocks 0..5 (6). Blocks 0..2 of the
  // sliding group go back, one new block in each group is taken.
  CHECK(kv.blocks_needed(21, 20) == 9);
  REQUIRE(kv.reserve(0, 21, 20));
  CHECK(kv.held(0) == 9);
  CHECK(kv.used_blocks() == 9);
  // Decoding on to 200 tokens: the sliding group never holds more than 3 blocks (a window of 8
  // spans at most 3 blocks of 4), the pool is conserved at every step.
  for (long long t = 21; t < 200; ++t) {
    REQUIRE(kv.reserve(0, t + 1, t));
    const long long full = (t + 1 + 3) / 4;
    CHECK(kv.held(0) == kv.blocks_needed(t + 1, t));
    CHECK(kv.held(0) - full <= 3);
    CHECK(kv.used_blocks() + kv.free_blocks() == kv.total_blocks());
  }
  CHECK(kv.held(0) == 50 + 2);  // 199 cached: 50 full blocks; the window 192..199 is blocks 48 and 49
  kv.release(0);
  CHECK(kv.used_blocks() == 0);
  CHECK(kv.free_blocks() == 100);
}

TEST_CASE("serve: a chunked group holds its current chunk, and a window lets a long request fit", "[serve][kv][groups]") {
  // Chunks of 8 tokens, blocks of 4: with 20 tokens cached, the next query (position 20) is in
  // the chunk 16..23, blocks 4 and 5.
  KvBlockManager chunks(100, 4, false, PrefixMatch::block, {chunked(8)});
  CHECK(chunks.blocks_needed(21, 20) == 2);
  CHECK(chunks.blocks_needed(16, 0) == 4);  // a prefill from scratch holds its own tokens
  // Every layer sliding (Mistral-like), window 8, 8 blocks in all: a 1000-token request advancing
  // 4 tokens a step never holds more than 4 blocks (its window's 3 and the chunk's), so it fits
  // where a full group would need 250 blocks.
  KvBlockManager kv(8, 4, false, PrefixMatch::block, {sliding(8)});
  for (long long t = 0; t < 1000; t += 4) {
    REQUIRE(kv.reserve(0, t + 4, t));
    CHECK(kv.held(0) <= 4);
    CHECK(kv.used_blocks() + kv.free_blocks() == kv.total_blocks());
  }
  CHECK(kv.blocks_needed(1000, 0) == 250);  // all of it at once would not fit
  CHECK_FALSE(kv.reserve(1, 1000, 0));
  CHECK(kv.held(1) == 0);
  CHECK_THROWS_AS(KvBlockManager(8, 4, false, PrefixMatch::block, {sliding(0)}), Error);
  CHECK_THROWS_AS(KvBlockManager(8, 4, false, PrefixMatch::block, {}), Error);
}

TEST_CASE("serve: a prefix hit over KV groups needs every full block and the window's", "[serve][kv][groups][prefix]") {
  // 40 blocks of 4 tokens, one full and one sliding group (window 8), prefix caching. Request 0
  // (a 40-token prompt) computes in 8-token chunks, naming its blocks as they fill; the sliding
  // group lets go of blocks 0..5 on the way (free, still named), then the request finishes.
  KvBlockManager kv(40, 4, true, PrefixMatch::block, {kFull, sliding(8)});
  const Request a = request(0, 0.0, 40, 1, 0, 40);
  const auto hashes = prompt_block_hashes(a, 4);
  REQUIRE(hashes.size() == 10);
  for (long long c = 0; c < 40; c += 8) {
    REQUIRE(kv.reserve(0, c + 8, c));
    kv.cache_full_blocks(0, hashes, c + 8);
  }
  // At the last chunk (32 cached): sliding blocks from (32 - 8 + 1) / 4 = 6 on, so 6..9 held.
  CHECK(kv.held(0) == 10 + 4);
  CHECK(kv.cached_blocks() == 20);
  kv.release(0);
  CHECK(kv.used_blocks() == 0);
  // The same prompt hits 9 blocks (its last token is computed): the full group's 0..8, and the
  // sliding group's blocks from (36 - 8 + 1) / 4 = 7 to 8. It holds 9 + 2 blocks.
  CHECK(kv.cached_prefix_tokens(hashes, 40) == 36);
  {
    KvBlockManager hit = kv;
    CHECK(hit.take_cached_prefix(1, hashes, 40) == 36);
    CHECK(hit.held(1) == 11);
    // Its prefill goes on from 36 cached: the sliding group needs blocks from 7 on, so it takes
    // block 9 in each group.
    REQUIRE(hit.reserve(1, 40, 36));
    CHECK(hit.held(1) == 13);
    CHECK(hit.used_blocks() + hit.free_blocks() == hit.total_blocks());
  }
  // Free blocks are evicted least recently freed first: the 20 never used, then the sliding
  // blocks 0..5 let go during the prefill (26 in all), then the release's, from the last token
  // block down: full 9, sliding 9, full 8, ... Evicting 26 leaves the hit whole.
  // (An unrelated request in two groups takes 2 blocks per 4 tokens: 13 x 4 tokens is 26 blocks.)
  {
    KvBlockManager evicted = kv;
    REQUIRE(evicted.reserve(2, 13 * 4, 0));
    CHECK(evicted.used_blocks() == 26);
    CHECK(evicted.cached_prefix_tokens(hashes, 40) == 36);
  }
  // Evicting 30 (15 x 4 tokens) takes full 9, sliding 9, full 8 and sliding 8 too: the full group
  // has 0..7, and at 8 blocks (32 cached) the sliding group needs blocks 6 and 7, still cached.
  {
    KvBlockManager evicted = kv;
    REQUIRE(evicted.reserve(2, 15 * 4, 0));
    CHECK(evicted.cached_prefix_tokens(hashes, 40) == 32);
  }
}

TEST_CASE("serve: a served request's KV peak follows its window", "[serve][kv][groups]") {
  // One request of 64 prompt and 64 output tokens, blocks of 16, a full and a sliding group of
  // window 32, against two full groups of the same block size: 127 tokens at its last step, 8
  // blocks in each full group, 16.
  SchedulerConfig config;
  const std::vector<Request> one = {request(0, 0.0, 64, 64)};
  const auto peak = [&](std::vector<KvGroup> groups) {
    const ServeResult r = run_serving(one, config, KvBlockManager(100, 16, false, PrefixMatch::block, groups),
                                      affine(0.001, 1e-5));
    CHECK(r.final_used_blocks == 0);
    int most = 0;
    for (const StepRecord& s : r.steps) most = std::max(most, s.used_blocks);
    return most;
  };
  CHECK(peak({kFull, kFull}) == 16);
  // The prefill holds all 4 blocks of each group (8); the window group then holds at most 3 (a
  // 32-token window over blocks of 16 touches up to 3) while the full group grows to 8.
  CHECK(peak({kFull, sliding(32)}) == 8 + 3);
}

TEST_CASE("serve: a disaggregated prefill hands over a sliding group's window only", "[serve][kv][groups][cluster]") {
  CHECK(attended_tokens(kFull, 1000) == 1000);
  CHECK(attended_tokens(sliding(128), 1000) == 127);  // the first decode query's own key makes 128
  CHECK(attended_tokens(sliding(128), 100) == 100);
  CHECK(attended_tokens(chunked(256), 1000) == 1000 - 768);
  // One 1000-token request, prefill on replica 0, decode on replica 1; 1e5 bytes per token over
  // every layer, a full and a sliding group (window 128) of equal size: (1000 + 127) / 2 tokens'
  // worth over a 1e9 B/s link with 2 ms latency.
  const ClusterConfig cluster = disaggregated(1, 1, 1e5, 1e9, 0.002);
  const std::vector<Request> one{request(0, 1.0, 1000, 10)};
  const ServeResult r = run_cluster(one, SchedulerConfig{}, cluster,
                                    KvBlockManager(1000, 16, false, PrefixMatch::block, {kFull, sliding(128)}),
                                    affine(0.001, 1e-5));
  REQUIRE(r.requests.size() == 1);
  CHECK(r.requests[0].kv_transfer_s == Approx(0.002 + (1000 + 127) / 2.0 * 1e5 / 1e9).margin(1e-12));
  CHECK(r.final_used_blocks == 0);
}
