// Pipeline parallelism: consecutive layers per chip, micro-batches handed on with send/recv.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include "cli_util.h"

using namespace tasim::testing;

TEST_CASE("a PP=8 prefill does the single chip's FLOPs and overlaps its micro-batches", "[pp]") {
  const std::string work = "--model llama-3-8b --phase prefill --batch 8 --prompt-len 512";
  const YAML::Node one = run_json("--arch sohu-like " + work);
  const YAML::Node eight = run_json("--arch sohu-like-8x --pp 8 " + work);
  CHECK(eight["chips"].as<int>() == 8);
  CHECK(eight["pp"].as<int>() == 8);
  CHECK(eight["micro_batches"].as<int>() == 8);
  // Every layer runs once per token, on one stage or another.
  CHECK(eight["flops"].as<std::uint64_t>() == one["flops"].as<std::uint64_t>());
  // Stages work on different micro-batches at once.
  CHECK(eight["seconds"].as<double>() < one["seconds"].as<double>());
  bool sends = false;
  for (const auto& op : eight["ops"]) sends |= op["op"].as<std::string>() == "pp.send";
  CHECK(sends);  // chip 0's table: it sends to stage 1
}

TEST_CASE("with one micro-batch the stages run one after another", "[pp]") {
  const std::string work = "--arch sohu-like-8x --model llama-3-8b --phase prefill --batch 8 --prompt-len 512 --pp 8";
  const YAML::Node overlapped = run_json(work);
  const YAML::Node serial = run_json(work + " --micro-batches 1");
  CHECK(serial["micro_batches"].as<int>() == 1);
  CHECK(serial["seconds"].as<double>() > overlapped["seconds"].as<double>());
  CHECK(serial["flops"].as<std::uint64_t>() == overlapped["flops"].as<std::uint64_t>());
}

TEST_CASE("tensor parallel groups inside pipeline stages: TP=2 x PP=4 on 8 chips", "[pp][tp]") {
  const std::string work = "--model llama-3-8b --phase prefill --batch 8 --prompt-len 512";
  const YAML::Node one = run_json("--arch sohu-like " + work);
  const YAML::Node combined = run_json("--arch sohu-like-8x --tp 2 --pp 4 " + work);
  CHECK(combined["chips"].as<int>() == 8);
  CHECK(combined["tp"].as<int>() == 2);
  CHECK(combined["pp"].as<int>() == 4);
  // Each stage's two chips split its layers' matmuls: the FLOPs still add up to one chip's.
  CHECK(combined["flops"].as<std::uint64_t>() == one["flops"].as<std::uint64_t>());
  CHECK(combined["seconds"].as<double>() < one["seconds"].as<double>());
  bool allreduce = false, send = false;
  for (const auto& op : combined["ops"]) {
    allreduce |= op["op"].as<std::string>() == "mlp.allreduce";
    send |= op["op"].as<std::string>() == "pp.send";
  }
  CHECK(allreduce);
  CHECK(send);
}
