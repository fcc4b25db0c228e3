// End to end: `tasim serve` (sim/serve_command.cpp): step probes simulated in child processes,
// the serving run, the summary JSON and the requests CSV; same inputs, same bytes; bad input.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include "cli_util.h"

using namespace tasim::testing;

TEST_CASE("tasim serve serves the requests and reports latency, throughput and its step model", "[cli][serve]") {
  const std::string csv = build_path("serve_requests.csv"), csv2 = build_path("serve_requests2.csv");
  const std::string args = "serve --arch tpu-v4-like --model gpt-style-1b --rate 5 --num-requests 40 "
                           "--prompt-len uniform:32:256 --output-len 16 --seed 3 --step-check 4 --json - ";
  const auto r = run_tasim(args + "--requests-out " + csv, true);
  REQUIRE(r.exit_code == 0);
  const YAML::Node j = YAML::Load(r.output);
  CHECK(j["completed"].as<int>() == 40);
  CHECK(j["requests"].as<int>() == 40);
  CHECK(j["duration_seconds"].as<double>() > 0);
  for (const char* key : {"ttft_seconds", "tpot_seconds", "e2e_seconds", "itl_seconds"}) {
    INFO(key);
    CHECK(j[key]["p50"].as<double>() <= j[key]["p99"].as<double>());
    CHECK(j[key]["mean"].as<double>() > 0);
  }
  // At 5 requests/s nothing waits long: TPOT is a decode step of a small batch.
  CHECK(j["tpot_seconds"]["mean"].as<double>() < 0.05);
  CHECK(j["output_tokens_per_second"].as<double>() == Approx(40 * 16 / j["duration_seconds"].as<double>()));
  CHECK(j["kv_blocks"].as<int>() > 0);
  CHECK(j["step_model"]["probes"].as<int>() > 10);
  CHECK(j["step_model"]["held_out_steps"].as<int>() == 4);
  // The fitted model against direct simulation of held-out steps (a regression guard; the error
  // measured is recorded in docs/serving.md).
  CHECK(j["step_model"]["held_out_max_error"].as<double>() < 0.15);
  // One CSV row per request, and the same bytes from the same inputs.
  const std::string rows = read_file(csv);
  CHECK(std::count(rows.begin(), rows.end(), '\n') == 41);
  CHECK(rows.rfind("id,arrival_s,first_scheduled_s,first_token_s,completion_s,prompt_tokens,output_tokens,ttft_s,", 0) == 0);
  const auto again = run_tasim(args + "--requests-out " + csv2, true);
  CHECK(again.output == r.output);
  CHECK(read_file(csv2) == rows);
}

TEST_CASE("tasim serve refuses bad input with one line", "[cli][serve][errors]") {
  const std::string base = "serve --arch tpu-v4-like --model gpt-style-1b --num-requests 5 ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {base + "--memory-utilization 0", "--memory-utilization 0 must be in (0, 1]"},
      {base + "--policy lifo", "--policy 'lifo' is not one of: fcfs, priority"},
      {base + "--prompt-len 2040 --output-len 20", "request 0: 2040 prompt and 20 output tokens exceed max_position_embeddings 2048"},
      {base + "--prompt-len uniform:5:1", "--prompt-len 'uniform:5:1'"},
      {base + "--arrival sometimes", "--arrival 'sometimes' is not one of"},
      {"serve --trace-requests " + source_path("tests/data/serving/no-such.csv"), "no-such.csv"},
      {base + "--frobnicate", "unrecognised option '--frobnicate'"},
      {"serve --trace-requests " + source_path("tests/data/serving/vidur_sample.csv") + " --rate 3",
       "--trace-requests reads the requests: --rate does not apply"},
      {"serve --arch small --model llama-3-70b --num-requests 1", "leave no HBM for the KV cache"},
  };
  for (const auto& [args, expected] : cases) {
    INFO(args);
    const auto r = run_tasim(args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::StartsWith("tasim: error: ") && Catch::Contains(expected));
  }
}
