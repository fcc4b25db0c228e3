// Expert parallelism: experts split over the chips, attention data parallel, all-to-all dispatch
// and combine over the links, and an uneven expert load making some chips busier.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include "cli_util.h"

using namespace tasim::testing;

namespace {

const std::string kMixtral = "--model mixtral-8x7b --batch 64 --context-len 1024";

}  // namespace

TEST_CASE("an EP=8 Mixtral decode does the single chip's FLOPs, faster, and skew slows it", "[ep]") {
  const YAML::Node one = run_json("--arch sohu-like " + kMixtral);
  const YAML::Node uniform = run_json("--arch sohu-like-8x --ep 8 " + kMixtral);
  const YAML::Node skewed = run_json("--arch sohu-like-8x --ep 8 --expert-load 8,1,1,1,1,1,1,1 " + kMixtral);
  CHECK(uniform["chips"].as<int>() == 8);
  CHECK(uniform["ep"].as<int>() == 8);
  // The same token-expert pairs and attention, split differently: the chips' FLOPs add up.
  CHECK(uniform["flops"].as<std::uint64_t>() == one["flops"].as<std::uint64_t>());
  CHECK(skewed["flops"].as<std::uint64_t>() == one["flops"].as<std::uint64_t>());
  CHECK(uniform["seconds"].as<double>() < one["seconds"].as<double>());
  // Chip 0's expert gets 8/15 of the pairs: the step waits for it.
  CHECK(skewed["seconds"].as<double>() > uniform["seconds"].as<double>());
  bool dispatch = false, combine = false;
  for (const auto& op : uniform["ops"]) {
    dispatch |= op["op"].as<std::string>() == "mlp.dispatch";
    combine |= op["op"].as<std::string>() == "mlp.combine";
  }
  CHECK(dispatch);
  CHECK(combine);
}

TEST_CASE("bad expert-parallel input gets one clear line", "[ep][errors]") {
  // The layout and load checks themselves: tests/sim/step_driver_test.cpp.
  auto r = run_tasim("run --arch sohu-like-8x --ep 8 --model mixtral-8x7b --batch 12");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("batch"));
  r = run_tasim("run --arch sohu-like-8x --ep 8 --expert-load 1,2,3 " + kMixtral);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("8 experts"));
  r = run_tasim("compile --arch sohu-like-8x --ep 8 " + kMixtral + " -o " + build_path("ep.tasm"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("--ep"));
}

TEST_CASE("expert parallel experts under tensor-parallel attention: TP=8 with EP=8", "[ep][tp]") {
  const YAML::Node one = run_json("--arch sohu-like " + kMixtral);
  const YAML::Node both = run_json("--arch sohu-like-8x --tp 8 --ep 8 " + kMixtral);
  CHECK(both["chips"].as<int>() == 8);
  CHECK(both["seconds"].as<double>() < one["seconds"].as<double>());
  // Every chip routes every token (the router is replicated): the only extra work is 7 more
  // copies of the router, 2 x 64 tokens x 4096 x 8 experts per layer, 32 layers.
  const std::uint64_t router = 2ull * 64 * 4096 * 8 * 32;
  CHECK(both["flops"].as<std::uint64_t>() == one["flops"].as<std::uint64_t>() + 7 * router);
  // No token dispatch: every chip already holds every token.
  for (const auto& op : both["ops"]) CHECK(op["op"].as<std::string>() != "mlp.dispatch");
  const auto r = run_tasim("run --arch sohu-like-8x --tp 8 --ep 4 " + kMixtral);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("must span the same chips"));
}

TEST_CASE("expert parallel groups inside pipeline stages: EP=4 x PP=2", "[ep][pp]") {
  const YAML::Node one = run_json("--arch sohu-like " + kMixtral);
  const YAML::Node staged = run_json("--arch sohu-like-8x --ep 4 --pp 2 --expert-load zipf:1.0 " + kMixtral);
  CHECK(staged["chips"].as<int>() == 8);
  CHECK(staged["ep"].as<int>() == 4);
  CHECK(staged["pp"].as<int>() == 2);
  // Data-parallel attention and whole experts split within each stage: nothing is replicated.
  CHECK(staged["flops"].as<std::uint64_t>() == one["flops"].as<std::uint64_t>());
  CHECK(staged["seconds"].as<double>() < one["seconds"].as<double>());
}

TEST_CASE("all three: TP=4 with EP=4 inside each of 2 pipeline stages", "[ep][tp][pp]") {
  const YAML::Node one = run_json("--arch sohu-like " + kMixtral);
  const YAML::Node all = run_json("--arch sohu-like-8x --tp 4 --ep 4 --pp 2 " + kMixtral);
  CHECK(all["chips"].as<int>() == 8);
  CHECK(all["tp"].as<int>() == 4);
  CHECK(all["ep"].as<int>() == 4);
  CHECK(all["pp"].as<int>() == 2);
  // Each stage's 4 chips replicate the router: 3 extra copies of 2 x 64 x 4096 x 8 per layer.
  const std::uint64_t router = 2ull * 64 * 4096 * 8 * 32;
  CHECK(all["flops"].as<std::uint64_t>() == one["flops"].as<std::uint64_t>() + 3 * router);
  CHECK(all["seconds"].as<double>() < one["seconds"].as<double>());
}
