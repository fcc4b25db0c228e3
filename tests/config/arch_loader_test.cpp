#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "isa/error.h"
#include "sim/config/arch_figures.h"
#include "sim/config/arch_loader.h"
#include "sim/config/arch_schema.h"

using namespace tasim;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// The message of the tasim::Error `f` throws ("" when it throws none).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Just the required keys: the smallest valid file.
const char* const kMinimal = R"(clock_ghz: 1
cores: 1
core:
  matrix: {count: 2, rows: 32, cols: 32}
  vector: {lanes: 64}
  sram: {capacity_mib: 1}
hbm: {stacks: 1, channels_per_stack: 4, gbps_per_channel: 16, capacity_gib: 1}
)";

std::string with_line(const std::string& yaml, const std::string& from, const std::string& to) {
  std::string out = yaml;
  const auto at = out.find(from);
  REQUIRE(at != std::string::npos);
  out.replace(at, from.size(), to);
  return out;
}

std::string error_loading(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  return error_of([&] { load_arch_text(yaml, "my-chip.yaml", sets); });
}

std::string write_temp(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::path(TASIM_BINARY_DIR) / "tests" / "config_tmp";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST_CASE("the three presets are embedded", "[presets]") {
  CHECK(preset_names() == std::vector<std::string>{"small", "sohu-like", "tpu-v4-like"});
  for (const auto& name : preset_names()) {
    CHECK(is_preset(name));
    CHECK_THAT(preset_yaml(name), Contains("description:"));
    const ArchInfo info = load_arch_info(name);
    CHECK(info.chip.name == name);
    CHECK_FALSE(info.description.empty());
  }
  CHECK_FALSE(is_preset("sohu"));
}

TEST_CASE("presets load from any working directory", "[presets]") {
  const auto here = std::filesystem::current_path();
  std::filesystem::current_path(std::filesystem::temp_directory_path());
  const ChipConfig chip = load_arch("small");
  std::filesystem::current_path(here);
  CHECK(chip.cores == 1);
}

TEST_CASE("tpu-v4-like matches TPU v4's public figures", "[presets]") {
  const ChipConfig c = load_arch("tpu-v4-like");
  CHECK(c.clock_ghz == Approx(1.05));
  CHECK(c.cores == 2);
  CHECK(c.core.matrix.count == 4);
  CHECK(c.core.matrix.rows == 128);
  CHECK(c.core.matrix.cols == 128);
  // Public: 275 TFLOP/s bf16 and int8 per chip; 32 GiB HBM2 at 1200 GB/s.
  CHECK(peak_matrix_tflops(c, isa::DType::bf16) == Approx(275.0).epsilon(0.01));
  CHECK(peak_matrix_tflops(c, isa::DType::int8) == Approx(275.0).epsilon(0.01));
  CHECK(hbm_peak_tbps(c) == Approx(1.2));
  CHECK(c.hbm.capacity_bytes == 32ull << 30);
  CHECK(sram_total_bytes(c) == 32ull << 20);
}

TEST_CASE("sohu-like has the stated headline figures", "[presets]") {
  const ChipConfig c = load_arch("sohu-like");
  CHECK(c.clock_ghz == Approx(1.5));
  CHECK(c.cores == 8);
  CHECK(c.core.matrix.count == 4);
  CHECK(c.core.matrix.rows == 256);
  CHECK(c.core.matrix.dataflow == Dataflow::ws);
  CHECK(c.core.vector.lanes == 2048);
  CHECK(c.core.dma.engines == 4);
  CHECK(peak_matrix_tflops(c, isa::DType::bf16) == Approx(6291.456));
  CHECK(peak_matrix_tflops(c, isa::DType::fp8) == Approx(12582.912));
  CHECK(c.hbm.channels() == 96);
  CHECK(hbm_peak_tbps(c) == Approx(6.144));
  CHECK(c.hbm.capacity_bytes == 144ull << 30);  // public: 144 GB HBM3E
  CHECK(sram_total_bytes(c) == 128ull << 20);
  // The SRAM feeds the four arrays (1.5 KiB/cycle each) and the vector unit at once.
  CHECK(sram_bytes_per_cycle_per_core(c) >= 4 * 1536 + 2048 * 2 * 2);
}

TEST_CASE("small is tiny", "[presets]") {
  const ChipConfig c = load_arch("small");
  CHECK(c.clock_ghz == Approx(1.0));
  CHECK(c.cores == 1);
  CHECK(c.core.matrix.count == 2);
  CHECK(c.core.matrix.rows == 32);
  CHECK(c.core.vector.lanes == 64);
  CHECK(c.core.dma.engines == 2);
  CHECK(c.core.sram.capacity_bytes == 1ull << 20);
  CHECK(c.hbm.channels() == 4);
  CHECK(c.hbm.peak_gbps() == Approx(64.0));
  CHECK(c.hbm.capacity_bytes == 1ull << 30);
  CHECK(peak_matrix_tflops(c, isa::DType::bf16) == Approx(4.096));
}

TEST_CASE("presets are described with their headline figures", "[presets]") {
  const std::string line = describe_preset("tpu-v4-like");
  CHECK_THAT(line, StartsWith("tpu-v4-like  "));
  CHECK_THAT(line, Contains("TPU v4"));
  CHECK_THAT(line, Contains("bf16 275 TFLOP/s"));
  CHECK_THAT(line, Contains("HBM 1.20 TB/s, 32 GiB, SRAM 32 MiB"));
  CHECK_THAT(describe_preset("sohu-like"), Contains("bf16 6291 TFLOP/s, fp8 12583 TFLOP/s"));
  CHECK_THAT(describe_preset("sohu-like"), Contains("SRAM 128 MiB"));
  const std::string all = presets_listing();
  CHECK(std::count(all.begin(), all.end(), '\n') == 3);
  CHECK_THAT(all, Contains("small        "));  // names aligned
  CHECK_THAT(all, Contains("HBM 0.064 TB/s, 1 GiB, SRAM 1 MiB"));
  CHECK_THAT(error_of([] { describe_preset("tpu"); }), Contains("unknown preset 'tpu'"));
}

TEST_CASE("omitted keys take the schema's defaults", "[defaults]") {
  const ChipConfig c = load_arch_text(kMinimal, "configs/minimal.yaml");
  CHECK(c.name == "minimal");
  CHECK(c.semaphores == 256);
  CHECK(c.queue_depth == 16);
  CHECK(c.core.matrix.dataflow == Dataflow::ws);
  CHECK(c.core.matrix.macs_per_pe_per_cycle == std::array<int, isa::kNumDTypes>{1, 2, 2});
  CHECK(c.core.vector.count == 1);
  CHECK(c.core.vector.pipeline_latency_cycles == 8);
  const auto& cpe = c.core.vector.cycles_per_element;
  CHECK(cpe[isa::vector_op_index(isa::Opcode::vec_add)] == 1.0);
  CHECK(cpe[isa::vector_op_index(isa::Opcode::vec_exp)] == 4.0);
  CHECK(cpe[isa::vector_op_index(isa::Opcode::vec_softmax)] == 7.0);
  CHECK(c.core.sram.banks == 16);
  CHECK(c.core.sram.ports == 2);
  CHECK(c.core.sram.bytes_per_cycle_per_port == 256);
  CHECK(c.core.dma.engines == 2);
  CHECK(c.core.dma.setup_cycles == 32);
  CHECK(c.hbm.latency_ns == 100.0);
  CHECK(c.hbm.interleave_bytes == 256);
  // Every vector op has a cost: none is left at the struct's zero.
  for (int i = 0; i < isa::kNumVectorOps; ++i) CHECK(cpe[i] > 0);
  // An explicit name wins over the file name.
  CHECK(load_arch_text(std::string(kMinimal) + "name: my chip\n", "x.yaml").name == "my chip");
}

TEST_CASE("a YAML file on disk loads", "[file]") {
  const std::string path = write_temp("disk-chip.yaml", std::string(kMinimal) + "description: on disk\n");
  const ArchInfo info = load_arch_info(path);
  CHECK(info.chip.name == "disk-chip");
  CHECK(info.description == "on disk");
  CHECK(info.chip.core.matrix.rows == 32);
  CHECK(load_arch(path, {"cores=4"}).cores == 4);
}

TEST_CASE("sections may be written as dotted keys", "[file]") {
  const std::string yaml = std::string(kMinimal) + "core.matrix.dataflow: os\ncore.dma:\n  engines: 3\n";
  const ChipConfig c = load_arch_text(yaml, "x.yaml");
  CHECK(c.core.matrix.dataflow == Dataflow::os);
  CHECK(c.core.dma.engines == 3);
}

TEST_CASE("set overrides (--set) apply on top of the file", "[set]") {
  const ChipConfig c = load_arch("tpu-v4-like", {"core.matrix.rows=64", "core.matrix.dataflow=os",
                                                 "hbm.gbps_per_channel=50.5", "clock_ghz=2",
                                                 "core.vector.cycles_per_element.exp=2.5",
                                                 "core.matrix.macs_per_pe_per_cycle.fp8=4",
                                                 "core.sram.capacity_mib=0.5", "name = tweaked "});
  CHECK(c.core.matrix.rows == 64);
  CHECK(c.core.matrix.cols == 128);
  CHECK(c.core.matrix.dataflow == Dataflow::os);
  CHECK(c.hbm.gbps_per_channel == 50.5);
  CHECK(c.clock_ghz == 2.0);
  CHECK(c.core.vector.cycles_per_element[isa::vector_op_index(isa::Opcode::vec_exp)] == 2.5);
  CHECK(c.core.matrix.macs_per_pe_per_cycle[static_cast<int>(isa::DType::fp8)] == 4);
  CHECK(c.core.sram.capacity_bytes == 512u << 10);
  CHECK(c.name == "tweaked");

  // Later --set wins; an omitted key can be set; a bad file value can be fixed before validation.
  CHECK(load_arch("small", {"cores=2", "cores=3"}).cores == 3);
  CHECK(load_arch("small", {"semaphores=7"}).semaphores == 7);
  CHECK(load_arch_text(with_line(kMinimal, "rows: 32", "rows: 0"), "x.yaml", {"core.matrix.rows=16"})
            .core.matrix.rows == 16);
}

TEST_CASE("errors: missing or unreadable file", "[errors]") {
  const std::string missing = error_of([] { load_arch("configs/arch/no-such-chip.yaml"); });
  CHECK_THAT(missing, StartsWith("configs/arch/no-such-chip.yaml: cannot open architecture file"));
  CHECK_THAT(missing, Contains("No such file"));

  const std::string dir = error_of([] { load_arch(TASIM_BINARY_DIR "/"); });
  CHECK_THAT(dir, Contains("is a directory"));

  const std::string unknown = error_of([] { load_arch("sohu"); });
  CHECK_THAT(unknown, Contains("unknown architecture 'sohu'"));
  CHECK_THAT(unknown, Contains("small, sohu-like, tpu-v4-like"));
  CHECK_THAT(unknown, Contains("did you mean 'sohu-like'?"));
  CHECK_THAT(error_of([] { load_arch("tpu-v4-lik"); }), Contains("did you mean 'tpu-v4-like'?"));
}

TEST_CASE("errors: malformed YAML names line and column", "[errors]") {
  const std::string e = error_loading("clock_ghz: 1\ncores: [1\n");
  CHECK_THAT(e, StartsWith("my-chip.yaml:"));
  CHECK_THAT(e, Contains("malformed YAML"));
  CHECK(e.find('\n') == std::string::npos);

  const std::string tabs = error_loading("clock_ghz: 1\ncore:\n  matrix:\n\trows: 3\n");
  CHECK_THAT(tabs, Contains("my-chip.yaml:4:"));
  CHECK_THAT(tabs, Contains("malformed YAML"));

  CHECK_THAT(error_loading("- 1\n- 2\n"), Contains("expected a mapping of architecture keys at the top level"));
  CHECK_THAT(error_loading("just text\n"), Contains("expected a mapping"));
}

TEST_CASE("errors: unknown keys suggest the closest valid key", "[errors]") {
  const std::string typo = error_loading(with_line(kMinimal, "  matrix:", "  matrx:"));
  CHECK(typo == "my-chip.yaml:4:3: unknown key 'core.matrx' (did you mean 'core.matrix'?)");

  CHECK_THAT(error_loading(std::string(kMinimal) + "clock_mhz: 1000\n"),
             Contains("unknown key 'clock_mhz' (did you mean 'clock_ghz'?)"));
  // The unit left out of the name.
  CHECK_THAT(error_loading(with_line(kMinimal, "capacity_mib", "capacity")),
             Contains("unknown key 'core.sram.capacity' (did you mean 'core.sram.capacity_mib'?)"));
  // A key in the wrong section.
  CHECK_THAT(error_loading(std::string(kMinimal) + "rows: 8\n"),
             Contains("unknown key 'rows' (did you mean 'core.matrix.rows'?)"));
  // Nothing close: the valid keys of that section.
  CHECK_THAT(error_loading(std::string(kMinimal) + "hbm.bandwidth: 3\n"),
             Contains("unknown key 'hbm.bandwidth' (valid keys in 'hbm': stacks, channels_per_stack, "
                      "gbps_per_channel, latency_ns, interleave_bytes, capacity_gib)"));
  CHECK_THAT(error_loading(std::string(kMinimal) + "core.matrx.rows: 3\n"),
             Contains("unknown key 'core.matrx.rows' (did you mean 'core.matrix.rows'?)"));
}

TEST_CASE("errors: wrong types", "[errors]") {
  CHECK(error_loading(with_line(kMinimal, "cores: 1", "cores: two")) ==
        "my-chip.yaml:2:8: cores expects an integer, got 'two'");
  CHECK_THAT(error_loading(with_line(kMinimal, "rows: 32", "rows: 2.5")),
             Contains("core.matrix.rows expects an integer, got '2.5'"));
  CHECK_THAT(error_loading(with_line(kMinimal, "clock_ghz: 1", "clock_ghz: fast")),
             Contains("clock_ghz expects a number, got 'fast'"));
  CHECK_THAT(error_loading(with_line(kMinimal, "clock_ghz: 1", "clock_ghz: .nan")),
             Contains("clock_ghz expects a number"));
  CHECK_THAT(error_loading(with_line(kMinimal, "cores: 1", "cores: [1, 2]")),
             Contains("cores expects an integer, got a list"));
  CHECK_THAT(error_loading(with_line(kMinimal, "cores: 1", "cores:")),
             Contains("my-chip.yaml:2:1: cores expects an integer, got nothing"));
  CHECK_THAT(error_loading(with_line(kMinimal, "  vector: {lanes: 64}", "  vector: 64")),
             Contains("'core.vector' is a section: expected its keys (count, lanes, "));
  // 1e3 and 128.0 are integers.
  CHECK(load_arch_text(with_line(kMinimal, "rows: 32", "rows: 1e3"), "x.yaml").core.matrix.rows == 1000);
}

TEST_CASE("errors: out-of-range values", "[errors]") {
  CHECK(error_loading(with_line(kMinimal, "rows: 32", "rows: 0")) ==
        "my-chip.yaml:4:28: core.matrix.rows = 0 is out of range [1, 65536]");
  CHECK_THAT(error_loading(with_line(kMinimal, "clock_ghz: 1", "clock_ghz: -1")),
             Contains("clock_ghz = -1 is out of range [0.01, 10]"));
  CHECK_THAT(error_loading(with_line(kMinimal, "count: 2", "count: 17")),
             Contains("core.matrix.count = 17 is out of range [1, 16]"));
  CHECK_THAT(error_loading(with_line(kMinimal, "cores: 1", "cores: 99999999999999999999")),
             Contains("cores = 99999999999999999999 is out of range [1, 256]"));
  CHECK_THAT(error_loading(std::string(kMinimal) + "hbm.interleave_bytes: 300\n"),
             Contains("hbm.interleave_bytes = 300 must be a power of 2"));
  CHECK_THAT(error_loading(with_line(kMinimal, "capacity_gib: 1", "capacity_gib: 2048")),
             Contains("hbm.capacity_gib = 2048 is out of range [0.0625, 1024]"));
}

TEST_CASE("errors: bad enum values list the valid ones", "[errors]") {
  CHECK_THAT(error_loading(std::string(kMinimal) + "core.matrix.dataflow: rs\n"),
             Contains("my-chip.yaml:8:23: core.matrix.dataflow = 'rs' is not one of: ws, os, is"));
}

TEST_CASE("errors: missing required keys", "[errors]") {
  CHECK(error_loading(with_line(kMinimal, "gbps_per_channel: 16, ", "")) ==
        "my-chip.yaml: missing required key 'hbm.gbps_per_channel' (a number in GB/s)");
  CHECK(error_loading("clock_ghz: 1\ncores: 1\n") ==
        "my-chip.yaml: missing required keys 'core.matrix.count', 'core.matrix.rows', 'core.matrix.cols', "
        "'core.vector.lanes', 'core.sram.capacity_mib', 'hbm.stacks', 'hbm.channels_per_stack', "
        "'hbm.gbps_per_channel', 'hbm.capacity_gib'");
  CHECK_THAT(error_loading(""), Contains("missing required keys 'clock_ghz', 'cores'"));
}

TEST_CASE("errors: duplicate keys", "[errors]") {
  CHECK_THAT(error_loading(std::string(kMinimal) + "cores: 2\n"),
             Contains("my-chip.yaml:8:1: duplicate key 'cores' (first given at line 2)"));
  CHECK_THAT(error_loading(std::string(kMinimal) + "core.matrix.rows: 2\n"),
             Contains("duplicate key 'core.matrix.rows'"));
}

TEST_CASE("errors: malformed or unknown --set", "[errors][set]") {
  CHECK(error_loading(kMinimal, {"cores"}) == "--set expects key.path=value, got 'cores'");
  CHECK(error_loading(kMinimal, {"=4"}) == "--set expects key.path=value, got '=4'");
  CHECK_THAT(error_loading(kMinimal, {"cores="}), Contains("--set expects key.path=value, got 'cores=' (no value)"));
  CHECK(error_loading(kMinimal, {"core.matrx.rows=64"}) ==
        "--set core.matrx.rows=64: unknown key 'core.matrx.rows' (did you mean 'core.matrix.rows'?)");
  CHECK_THAT(error_loading(kMinimal, {"hbm.gbps=3"}), Contains("did you mean 'hbm.gbps_per_channel'?"));
  CHECK_THAT(error_loading(kMinimal, {"core.matrix=4"}),
             Contains("--set core.matrix=4: 'core.matrix' is a section, not a key"));
  CHECK_THAT(error_loading(kMinimal, {"cores.x=4"}), Contains("'cores' is a key, not a section"));
  CHECK(error_loading(kMinimal, {"core.matrix.rows=0"}) ==
        "--set core.matrix.rows=0: core.matrix.rows = 0 is out of range [1, 65536]");
  CHECK_THAT(error_loading(kMinimal, {"core.matrix.dataflow=xs"}),
             Contains("core.matrix.dataflow = 'xs' is not one of: ws, os, is"));
}

TEST_CASE("arch_to_yaml writes a file that loads back to the same chip", "[yaml]") {
  for (const auto& name : preset_names()) {
    const ArchInfo info = load_arch_info(name, {"core.sram.capacity_mib=1.5", "name=a \"quoted\" name"});
    const std::string yaml = arch_to_yaml(info.chip, info.description);
    const ArchInfo again = load_arch_info(write_temp(name + "-dump.yaml", yaml));
    CHECK(arch_to_yaml(again.chip, again.description) == yaml);
    CHECK(again.chip.name == "a \"quoted\" name");
    CHECK(again.chip.core.sram.capacity_bytes == 3ull << 19);
  }
}

TEST_CASE("no input crashes the loader (every truncation of every preset)", "[errors]") {
  for (const auto& name : preset_names()) {
    const std::string yaml = preset_yaml(name);
    for (std::size_t n = 0; n < yaml.size(); ++n) {
      try {
        load_arch_text(yaml.substr(0, n), name + ".yaml");
      } catch (const Error& e) {
        const std::string message = e.what();
        CHECK(message.find('\n') == std::string::npos);
      }
    }
  }
}
