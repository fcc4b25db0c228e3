// The regression net: shipped examples (and smaller versions of the slow ones) must give the same
// simulated results from one change to the next. tests/data/golden_runs.txt holds, per run, the
// headline figures of its JSON report and an FNV-1a hash of the whole report, so any change to a
// cycle count, a stall, a per-op time or a traffic figure fails here with the figures that moved.
//
// A change that is meant to alter results regenerates the file (and says why in its commit):
//   TASIM_UPDATE_GOLDEN=1 build/sim_tests '[golden]'
// Each TEST_CASE is its own process (SystemC elaborates once), so ctest runs them in parallel.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sim/cli_util.h"

namespace tasim::testing {
namespace {

const char* const kGoldenFile = "tests/data/golden_runs.txt";

// Report keys shown beside the hash, for a readable diff when a run moves.
const char* const kShownKeys[] = {"cycles",  "instructions", "hbm_bytes_read", "hbm_bytes_written",
                                  "seconds", "step_seconds", "energy_j",       "link_bytes"};

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// "cycles=123 instructions=45 ... report=0123abcd..." for one run's JSON report.
std::string summary_of(const std::string& report) {
  const YAML::Node json = YAML::Load(report);
  std::string line;
  for (const char* key : kShownKeys) {
    if (json[key] && json[key].IsScalar()) line += std::string(key) + "=" + json[key].Scalar() + " ";
  }
  char hash[17];
  std::snprintf(hash, sizeof(hash), "%016llx", static_cast<unsigned long long>(fnv1a(report)));
  return line + "report=" + hash;
}

std::map<std::string, std::string> read_golden() {
  std::map<std::string, std::string> golden;
  std::ifstream in(source_path(kGoldenFile));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find(' ');
    golden[line.substr(0, space)] = line.substr(space + 1);
  }
  return golden;
}

// Rewrites the run's line of the golden file in place (appends it when new), keeping the others.
void update_golden(const std::string& name, const std::string& summary) {
  const std::string path = source_path(kGoldenFile);
  std::vector<std::string> lines = lines_of(read_file(path));
  bool found = false;
  for (auto& line : lines) {
    if (line.rfind(name + " ", 0) == 0) {
      line = name + " " + summary;
      found = true;
    }
  }
  if (!found) lines.push_back(name + " " + summary);
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  write_text(path, text);
}

// Runs `tasim ARGS --json -` from the source directory (programs are named by relative paths,
// so reports hold no path of this machine) and compares its summary with the golden line.
void check_golden(const std::string& name, const std::string& args) {
  const CommandResult r = run_command("cd '" + std::string(TASIM_SOURCE_DIR) +
                                      "' && SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 '" + build_path("tasim") + "' " +
                                      args + " --json - 2>&1");
  INFO("tasim " << args);
  INFO(r.output.substr(0, 2000));
  REQUIRE(r.exit_code == 0);
  const std::string summary = summary_of(r.output);
  if (std::getenv("TASIM_UPDATE_GOLDEN")) {
    update_golden(name, summary);
    return;
  }
  const auto golden = read_golden();
  const auto it = golden.find(name);
  INFO("no line '" << name << "' in " << kGoldenFile << ": regenerate with TASIM_UPDATE_GOLDEN=1");
  REQUIRE(it != golden.end());
  CHECK(summary == it->second);
}

}  // namespace

TEST_CASE("golden: default decode step", "[golden]") { check_golden("default", "run --exact"); }

TEST_CASE("golden: Qwen3-8B prefill", "[golden]") {
  check_golden("qwen3-prefill", "run --exact --model qwen3-8b --phase prefill --batch 1 --prompt-len 1024");
}

TEST_CASE("golden: tpu-v4-like decode, with and without ideal memory", "[golden]") {
  check_golden("tpu-decode", "run --exact --arch tpu-v4-like --model gpt-style-1b --batch 8 --context-len 512");
  check_golden("tpu-decode-ideal",
               "run --exact --arch tpu-v4-like --model gpt-style-1b --batch 8 --context-len 512 --ideal-memory");
}

TEST_CASE("golden: tpu-v4-like prefill with SRAM plan switches", "[golden]") {
  check_golden("tpu-prefill", "run --exact --arch tpu-v4-like --model gpt-style-1b --phase prefill --batch 2 --prompt-len 512");
}

TEST_CASE("golden: Mixtral decode on one chip", "[golden]") {
  check_golden("mixtral-decode", "run --exact --model mixtral-8x7b --batch 4");
}

TEST_CASE("golden: h100-like chip with 33 cores and its on-chip network", "[golden]") {
  check_golden("h100-decode", "run --exact --arch h100-like-8x --chips 1 --model llama-3-8b --batch 8");
}

TEST_CASE("golden: GEMMs, SCALE-Sim style and through HBM", "[golden]") {
  check_golden("gemm-scalesim",
               "gemm --m 1024 --n 1024 --k 1024 --rows 128 --cols 128 --dataflow ws --ideal-memory "
               "--set core.matrix.double_buffered=false");
  check_golden("gemm-hbm", "gemm --arch tpu-v4-like --m 1024 --n 2048 --k 512");
  check_golden("gemm-os-fp8", "gemm --arch small --m 300 --n 70 --k 129 --dataflow os --dtype fp8");
}

TEST_CASE("golden: collectives on a ring, a switch and a torus", "[golden]") {
  check_golden("allreduce-ring", "collective --op allreduce --bytes 1G --chips 8 --topology ring");
  check_golden("alltoall-switch", "collective --op alltoall --bytes 64M --chips 8 --topology switch");
  check_golden("reducescatter-torus", "collective --op reducescatter --bytes 16M --chips 8 --topology torus2d --set system.link.ports_per_chip=4");
}

TEST_CASE("golden: layer reuse, the default, on one chip and on 8", "[golden]") {
  check_golden("default-reuse", "run");
  check_golden("tp8-70b-reuse", "run --arch sohu-like-8x --model llama-3-70b --dtype fp8 --batch 64 --tp 8");
  check_golden("ep8-mixtral-reuse", "run --arch sohu-like-8x --model mixtral-8x7b --ep 8 --expert-load zipf:1.2");
}

TEST_CASE("golden: tensor parallel Llama-3-70B decode on 8 chips", "[golden]") {
  check_golden("tp8-70b", "run --exact --arch sohu-like-8x --model llama-3-70b --dtype fp8 --batch 64 --tp 8");
}

TEST_CASE("golden: expert parallel Mixtral on 8 chips with a skewed load", "[golden]") {
  check_golden("ep8-mixtral", "run --exact --arch sohu-like-8x --model mixtral-8x7b --ep 8 --expert-load zipf:1.2");
}

TEST_CASE("golden: pipeline parallel prefill on 8 chips", "[golden]") {
  check_golden("pp8-prefill",
               "run --exact --arch sohu-like-8x --model gpt-style-1b --phase prefill --batch 8 --prompt-len 256 --pp 8");
}

TEST_CASE("golden: tensor parallel groups inside pipeline stages", "[golden]") {
  check_golden("tp2-pp4", "run --exact --arch sohu-like-8x --model gpt-style-1b --tp 2 --pp 4 --batch 16 --context-len 1024");
}

TEST_CASE("golden: TP, EP and PP together", "[golden]") {
  check_golden("tp4-ep4-pp2", "run --exact --arch sohu-like-8x --model mixtral-8x7b --tp 4 --ep 4 --pp 2 --batch 8");
}

TEST_CASE("golden: the example programs", "[golden]") {
  check_golden("prog-gemm-tile", "run --arch sohu-like --program isa/examples/gemm_tile.tasm");
  check_golden("prog-mlp-block", "run --arch tpu-v4-like --program isa/examples/mlp_block.tasm");
  check_golden("prog-softmax-row", "run --arch small --program isa/examples/softmax_row.tasm");
  check_golden("prog-sync", "run --arch small --program isa/examples/sync.tasm");
}

}  // namespace tasim::testing
