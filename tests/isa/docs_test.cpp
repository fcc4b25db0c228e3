// docs/isa.md is generated from the ISA table; this test keeps the checked-in file current.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "isa/isa.h"

using namespace tasim::isa;

namespace {

const std::string kDocPath = std::string(TASIM_SOURCE_DIR) + "/docs/isa.md";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The contents of every ```tasm block, in order.
std::vector<std::string> tasm_blocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  const std::string open = "```tasm\n";
  for (std::size_t pos = markdown.find(open); pos != std::string::npos; pos = markdown.find(open, pos)) {
    pos += open.size();
    const std::size_t end = markdown.find("```", pos);
    REQUIRE(end != std::string::npos);
    blocks.push_back(markdown.substr(pos, end - pos));
    pos = end + 3;
  }
  return blocks;
}

}  // namespace

TEST_CASE("docs/isa.md is up to date", "[isa][docs]") {
  const std::string expected = reference_markdown();
  const char* regenerate = std::getenv("TASIM_REGENERATE_DOCS");
  if (regenerate != nullptr && std::string(regenerate) == "1") {
    std::ofstream(kDocPath, std::ios::binary) << expected;
    WARN("wrote " << kDocPath);
  }
  const std::string actual = read_file(kDocPath);
  if (actual != expected) {
    FAIL(kDocPath << " differs from tasim::isa::reference_markdown(). The file is generated from "
                     "isa/isa_table.h and isa/isa_doc.cpp; do not edit it by hand. Regenerate it with:\n"
                     "  TASIM_REGENERATE_DOCS=1 build/isa_tests '[docs]'");
  }
}

TEST_CASE("the reference covers every opcode and field", "[isa][docs]") {
  const std::string md = reference_markdown();
  for (int op = 0; op < kNumOpcodes; ++op) {
    INFO(mnemonic(static_cast<Opcode>(op)));
    CHECK(md.find(std::string("\n### ") + mnemonic(static_cast<Opcode>(op)) + "\n") != std::string::npos);
    CHECK(md.find(opcode_info(static_cast<Opcode>(op)).description) != std::string::npos);
  }
  for (int f = 0; f < kNumFields; ++f) {
    const FieldInfo& info = field_info(static_cast<Field>(f));
    INFO(info.name);
    CHECK(md.find(std::string("| `") + info.name + "` | " + std::to_string(info.bits) + " |") !=
          std::string::npos);
  }
  for (const char* topic : {"TASMBIN", "format version", "LSB-first", "counting semaphores", "barrier", "in order", "halt"}) {
    CHECK(md.find(topic) != std::string::npos);
  }
  CHECK(md.find("| `rows` | 16 | count | rows of the tile | required |") != std::string::npos);
  CHECK(md.find("| `dtype` | 2 | - | element type: bf16 (2 bytes), fp8 (1), int8 (1), fp4 (1/2: matmul only) | bf16 |") !=
        std::string::npos);
  CHECK(md.find("| `hbm_stride` | 40 | bytes |") != std::string::npos);
}

TEST_CASE("the reference's examples assemble and form a valid program", "[isa][docs]") {
  const std::vector<std::string> blocks = tasm_blocks(reference_markdown());
  REQUIRE(blocks.size() ==
          static_cast<std::size_t>(kNumOpcodes) + 1);  // the syntax example, then one per opcode
  std::string all;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const Program p = assemble(blocks[i], "isa.md");
    if (i > 0) {
      REQUIRE(p.instructions.size() == 1);
      CHECK(p.instructions[0].op == static_cast<Opcode>(i - 1));
    }
    all += blocks[i];
  }
  // In table order the per-opcode examples signal before they wait and end with halt.
  TargetLimits target;
  target.chips = 2;
  target.cores = 2;
  target.dma_engines = 2;
  target.mxus = 2;
  target.vpus = 1;
  target.sram_bytes = 1 << 20;
  target.hbm_bytes = 1ull << 30;
  const std::vector<std::string> problems = find_problems(assemble(all, "isa.md"), target);
  for (const std::string& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
}
