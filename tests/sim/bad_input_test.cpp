// Bad input found by a hostile-user review (issue 10): each gets one clear line and exit status 2,
// fast, instead of being ignored, wrapping around, or failing late with an internal error.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "cli_util.h"

using namespace tasim::testing;

TEST_CASE("bad command lines get one clear line and exit status 2", "[cli][errors]") {
  const std::string gemm_tile = source_path("isa/examples/gemm_tile.tasm");
  const std::vector<std::pair<std::string, std::string>> cases = {
      // Stray arguments are refused, not ignored.
      {"run --arch small junk", "tasim run: unexpected argument among --arch small junk"},
      {"arch --arch small junk", "tasim arch: unexpected argument"},
      {"gemm --m 4 --n 4 --k 4 junk", "tasim gemm: unexpected argument"},
      // Options that do not apply are refused.
      {"run --arch small --program " + gemm_tile + " --batch 4",
       "tasim run --program runs the program as given: --batch does not apply to it"},
      {"run --arch small --program " + gemm_tile + " --model llama-3-8b", "--model does not apply"},
      {"run --expert-load zipf:-1", "expert load 'zipf:-1': model llama-3-8b has no experts"},
      {"run --micro-batches 0 --pp 8 --arch sohu-like-8x", "--micro-batches 0 must be >= 1"},
      // fuzz_sweep: Boost expands %value% in its message until none is left, so a value holding
      // the placeholder never finished; the text comes back as written.
      {"run --reuse-layers 2", "--reuse-layers 2 must be >= 3"},
      {"run --sequences 1:0", "--sequences '1:0': 0 is below 1"},
      {"run --sequences 2048:1x3 --batch 4", "--sequences gives every sequence's lengths: --batch does not apply"},
      {"run --sequences 2048", "--sequences '2048': '2048' has no CTX:NEW"},
      {"run --arch small --program " + gemm_tile + " --exact", "--exact does not apply"},
      // fp4 is a weight format from the config, and unknown quantization methods are named.
      {"run --weight-dtype fp4", "--weight-dtype 'fp4': fp4 is no run dtype"},
      {"run --arch small --model " + source_path("tests/data/weight_formats/unknown-quant.json"),
       "unknown-quant.json:3:42: quantization_config.quant_method: 'bitsandbytes' is not modelled"},
      {"run --batch %value%", "tasim run: the argument ('%value%') for option '--batch' is invalid"},
      {"run --%value%", "unrecognised option '--%value%'"},
      {"sweep x.yaml -o out.csv --timeout-s nan", "--timeout-s nan must be a number of seconds >= 0"},
      {"sweep x.yaml -o out.csv --timeout-s -1", "--timeout-s -1 must be a number of seconds >= 0"},
      // Numbers that would wrap around, and work that cannot fit, are refused before any work.
      {"collective --op allreduce --bytes 9999999999999999999 --chips 8",
       "--bytes 9999999999999999999 is more than a collective moves: at most 1125899906842624 (1 PiB) per chip"},
      {"gemm --arch small --m 1000000 --n 1000000 --k 1000000",
       "a 1000000x1000000x1000000 GEMM needs 7451 GiB of HBM for A, B and C but small has 1 GiB (hbm.capacity_gib)"},
      {"run --arch small --model llama-3-70b --batch 1 --context-len 16",
       "llama-3-70b_decode_b1 needs 131.4 GiB of HBM (weights, KV cache, activations) but small has 1.0 GiB"},
      // Every expert is resident, not only the 8 of 256 per layer a token reaches: DeepSeek-V3's
      // 671,026,419,200 parameters at fp8 are 624.94 GiB, plus a few MiB of KV cache and activations.
      {"run --model deepseek-v3 --dtype fp8 --batch 1 --context-len 16",
       "deepseek-v3_decode_b1 needs 624.9 GiB of HBM (weights, KV cache, activations) but sohu-like has 144.0 GiB"},
      // The compiler never emits a program that does not fit: it names the op and the key to change.
      {"compile --arch small --set core.sram.capacity_mib=0.0625 --set hbm.capacity_gib=8 --model gpt-style-1b "
       "--batch 1 --context-len 16 -o " + build_path("too_small.bin"),
       "layer0.attn.norm: the step does not fit small: vec.layernorm src2 would reach byte 0x10400 of an SRAM of "
       "0.0625 MiB per core (core.sram.capacity_mib)"},
  };
  for (const auto& [args, expected] : cases) {
    INFO("tasim " << args);
    const CommandResult r = run_tasim(args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::StartsWith("tasim: error: ") && Catch::Contains(expected));
    CHECK(lines_of(r.output).size() == 1);
  }
}

TEST_CASE("bytes of a bad input file are escaped in the error line", "[cli][errors]") {
  const std::string path = build_path("random_bytes.tasm");
  write_text(path, "dma.load \x01\xff\x80 x=1\n");
  const CommandResult r = run_tasim("validate --arch small " + path);
  CHECK(r.exit_code == 2);
  CHECK(r.output == "tasim: error: " + path + ":1: expected field=value, got '\\x01\\xff\\x80'\n");
}
