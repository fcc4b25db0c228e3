// Request traces (sim/serve/request_trace.h) on the sample files of tests/data/serving (made by
// scripts/make_serving_samples.py) and on broken inputs.
#include <catch2/catch.hpp>

#include <cmath>

#include "common/error.h"
#include "sim/serve/engine.h"
#include "sim/serve/request_trace.h"

using namespace tasim;
using namespace tasim::serve;

namespace {

std::string sample(const std::string& name) { return std::string(TASIM_SOURCE_DIR) + "/tests/data/serving/" + name; }

}  // namespace

TEST_CASE("request traces: every format's sample reads, in arrival order from t = 0", "[serve][trace-file]") {
  for (const char* name : {"azure_sample.csv", "vidur_sample.csv", "mooncake_sample.jsonl", "tasim_sample.jsonl"}) {
    INFO(name);
    const std::vector<Request> rs = read_request_trace(sample(name));
    REQUIRE(rs.size() == 40);
    CHECK(rs.front().arrival_s == 0.0);
    for (std::size_t i = 0; i < rs.size(); ++i) {
      CHECK(rs[i].id == static_cast<int>(i));
      if (i > 0) CHECK(rs[i].arrival_s >= rs[i - 1].arrival_s);
      CHECK(rs[i].prompt_tokens >= 1);
      CHECK(rs[i].output_tokens >= 1);
    }
  }
  // The Azure and Vidur samples hold the same requests: the datetimes give the same gaps.
  const auto azure = read_request_trace(sample("azure_sample.csv"));
  const auto vidur = read_request_trace(sample("vidur_sample.csv"));
  for (std::size_t i = 0; i < azure.size(); ++i) {
    CHECK(azure[i].arrival_s == Approx(vidur[i].arrival_s).margin(2e-6));
    CHECK(azure[i].prompt_tokens == vidur[i].prompt_tokens);
    CHECK(azure[i].output_tokens == vidur[i].output_tokens);
  }
  // tasim's own keys.
  const auto own = read_request_trace(sample("tasim_sample.jsonl"));
  CHECK(own[1].priority == 1);
  CHECK(own[1].prefix_group == 0);
  CHECK(own[1].prefix_tokens == 256);
  CHECK(detect_trace_format("{\"timestamp\": 1, \"input_length\": 2, \"output_length\": 3}", "x") ==
        TraceFormat::mooncake);
}

TEST_CASE("request traces: Mooncake's hash_ids share prompt blocks in the prefix cache", "[serve][trace-file][prefix]") {
  const auto rs = read_request_trace(sample("mooncake_sample.jsonl"));
  CHECK(rs[0].content_block_tokens == 512);
  CHECK(rs[0].content_ids.front() == 1);
  // Block hashes of two requests agree over their common hash_ids (two 512-token blocks: the
  // system prompt) and differ after.
  const auto a = prompt_block_hashes(rs[0], 16), b = prompt_block_hashes(rs[1], 16);
  CHECK(a[63] == b[63]);  // the last 16-token block of the second shared 512-token block
  CHECK(a[64] != b[64]);
  SchedulerConfig config;
  const auto step = [](const StepShape& s) { return 0.001 + 1e-6 * static_cast<double>(s.tokens()); };
  const ServeResult cached = run_serving(rs, config, KvBlockManager(20000, 16, true), step);
  long long hits = 0;
  for (const RequestRecord& r : cached.requests) hits += r.prefix_hit_tokens;
  CHECK(hits >= 39 * 1024);  // every request after the first finds the system prompt at least
}

TEST_CASE("request traces: broken files get one line naming the file and line", "[serve][trace-file][errors]") {
  CHECK_THROWS_WITH(parse_request_trace("a,b\n1,2\n", "t.csv"), Catch::Contains("t.csv: not a request trace"));
  CHECK_THROWS_WITH(parse_request_trace("", "t.csv"), "t.csv: an empty request trace");
  CHECK_THROWS_WITH(parse_request_trace("arrived_at,num_prefill_tokens\n1,2\n", "v.csv"),
                    "v.csv:1: the Vidur trace header has no column num_decode_tokens");
  CHECK_THROWS_WITH(parse_request_trace("arrived_at,num_prefill_tokens,num_decode_tokens\n1,x,3\n", "v.csv"),
                    "v.csv:2: num_prefill_tokens 'x' is not a number");
  CHECK_THROWS_WITH(parse_request_trace("arrived_at,num_prefill_tokens,num_decode_tokens\n1,0,3\n", "v.csv"),
                    "v.csv:2: num_prefill_tokens 0 must be a whole number >= 1");
  CHECK_THROWS_WITH(parse_request_trace("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-13-01 00:00:00,1,1\n", "a.csv"),
                    Catch::Contains("a.csv:2: TIMESTAMP '2023-13-01 00:00:00' is not YYYY-MM-DD HH:MM:SS"));
  CHECK_THROWS_WITH(parse_request_trace("{\"arrival_s\": 0, \"prompt_tokens\": 4, \"output_tokens\": 1, \"color\": 1}\n",
                                        "r.jsonl"),
                    Catch::Contains("r.jsonl:1: unknown key \"color\""));
  CHECK_THROWS_WITH(parse_request_trace("{\"arrival_s\": 0, \"prompt_tokens\": 4}\n", "r.jsonl"),
                    "r.jsonl:1: no \"output_tokens\"");
  CHECK_THROWS_WITH(parse_request_trace("{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 1}\n[1, 2\n",
                                        "m.jsonl"),
                    Catch::Contains("m.jsonl:2: not a JSON object"));
  CHECK_THROWS_WITH(read_request_trace(sample("no-such.jsonl")), Catch::Contains("no-such.jsonl"));
}
