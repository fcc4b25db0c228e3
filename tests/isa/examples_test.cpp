// isa/examples/*.tasm: hand-written programs that together exercise every opcode. They must
// assemble, round-trip exactly, and validate against the small target they were written for.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "isa/isa.h"

using namespace tasim::isa;
namespace fs = std::filesystem;

namespace {

TargetLimits small_target() {
  TargetLimits t;
  t.chips = 1;
  t.cores = 1;
  t.dma_engines = 2;
  t.mxus = 2;
  t.vpus = 1;
  t.semaphores = 256;
  t.sram_bytes = 1 << 20;
  t.hbm_bytes = 1ull << 30;
  return t;
}

// Programs that need several chips say so in their name.
bool is_multi_chip(const fs::path& path) {
  return path.filename().string().rfind("c2c_", 0) == 0;
}

std::vector<fs::path> example_paths() {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(fs::path(TASIM_SOURCE_DIR) / "isa" / "examples")) {
    if (entry.path().extension() == ".tasm") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("the examples are all there", "[isa][examples]") {
  std::set<std::string> names;
  for (const fs::path& p : example_paths()) names.insert(p.filename().string());
  for (const char* expected :
       {"gemm_tile.tasm", "softmax_row.tasm", "mlp_block.tasm", "sync.tasm", "c2c_exchange.tasm"}) {
    CHECK(names.count(expected) == 1);
  }
}

TEST_CASE("every opcode appears in some example", "[isa][examples]") {
  std::set<Opcode> used;
  for (const fs::path& path : example_paths()) {
    for (const Instruction& inst : load_program(path.string()).instructions) used.insert(inst.op);
  }
  for (int op = 0; op < kNumOpcodes; ++op) {
    INFO(mnemonic(static_cast<Opcode>(op)));
    CHECK(used.count(static_cast<Opcode>(op)) == 1);
  }
}

TEST_CASE("examples round-trip: asm -> encode -> decode -> disasm -> asm -> encode", "[isa][examples]") {
  for (const fs::path& path : example_paths()) {
    INFO(path.filename().string());
    const Program original = assemble(read_text(path), path.string());
    REQUIRE(original.instructions.size() > 5);
    const std::vector<std::uint8_t> bytes = encode(original);
    const Program decoded = decode(bytes, path.string());
    const std::string text = disassemble(decoded);
    CHECK(text.rfind("# tasim program: " + path.string() + ", " +
                         std::to_string(original.instructions.size()) + " instructions\n",
                     0) == 0);
    const Program reassembled = assemble(text, "disassembled.tasm");
    CHECK(encode(reassembled) == bytes);
    // The canonical text is a fixed point.
    const std::string again = disassemble(reassembled);
    CHECK(again.substr(again.find('\n')) == text.substr(text.find('\n')));
  }
}

TEST_CASE("examples validate against the small target", "[isa][examples]") {
  TargetLimits multi_chip = small_target();
  multi_chip.chips = 2;
  for (const fs::path& path : example_paths()) {
    INFO(path.filename().string());
    const Program program = load_program(path.string());
    CHECK(program.instructions.back().op == Opcode::halt);
    if (is_multi_chip(path)) {
      CHECK(find_problems(program, multi_chip).empty());
      const std::vector<std::string> single = find_problems(program, small_target());
      REQUIRE_FALSE(single.empty());
      CHECK_THAT(single.front(), Catch::Contains("needs a multi-chip system: this architecture has 1 chip"));
    } else {
      const std::vector<std::string> problems = find_problems(program, small_target());
      for (const std::string& p : problems) UNSCOPED_INFO(p);
      CHECK(problems.empty());
    }
  }
}

TEST_CASE("examples move and compute what their comments say", "[isa][examples]") {
  const fs::path dir = fs::path(TASIM_SOURCE_DIR) / "isa" / "examples";
  // gemm_tile: C[128 x 256] = A[128 x 512] x B[512 x 256] is 2*128*256*512 FLOPs; A and B are read once.
  const Program gemm = load_program((dir / "gemm_tile.tasm").string());
  std::uint64_t flops = 0, loaded = 0, stored = 0;
  for (const Instruction& inst : gemm.instructions) {
    flops += matmul_flops(inst);
    if (inst.op == Opcode::dma_load) loaded += dma_bytes(inst);
    if (inst.op == Opcode::dma_store) stored += dma_bytes(inst);
  }
  CHECK(flops == 2ull * 128 * 256 * 512);
  CHECK(loaded == (128 * 512 + 512 * 256) * 2);
  CHECK(stored == 128 * 256 * 4);
}
