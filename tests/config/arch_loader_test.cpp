#include <catch2/catch.hpp>

#include "error_of.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "common/error.h"
#include "arch/cost_model.h"
#include "arch/memory_model.h"
#include "arch/arch_figures.h"
#include "sim/config/arch_loader.h"
#include "sim/config/arch_schema.h"

using namespace tasim;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// The message of the tasim::Error `f` throws ("" when it throws none).
using tasim::testing::error_of;

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

TEST_CASE("the presets are embedded", "[presets]") {
  CHECK(preset_names() ==
        std::vector<std::string>{"h100-like", "h100-like-8x", "h200-like", "h200-like-8x", "small", "sohu-like",
                                 "sohu-like-8x", "tpu-v4-like"});
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
  CHECK(std::count(all.begin(), all.end(), '\n') == 8);
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
  CHECK(c.core.matrix.macs_per_pe_per_cycle == std::array<int, isa::kNumDTypes>{1, 2, 2, 0});  // no fp4 rate
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
  CHECK(c.system.chips == 1);
  CHECK(c.system.topology == Topology::ring);
  CHECK(c.system.torus_rows == 0);
  CHECK(c.system.link.gbps_per_direction == 100.0);
  CHECK(c.system.link.latency_ns == 500.0);
  CHECK(c.system.link.ports_per_chip == 2);
  CHECK(c.system.switch_.gbps_per_port == 450.0);
  CHECK(c.system.switch_.latency_ns == 500.0);
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
  CHECK_THAT(unknown, Contains("h100-like, h100-like-8x, h200-like, h200-like-8x, small, sohu-like, sohu-like-8x, tpu-v4-like"));
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
             Contains("unknown key 'hbm.bandwidth' (valid keys in 'hbm': model, stacks, channels_per_stack, "
                      "gbps_per_channel, latency_ns, interleave_bytes, capacity_gib, refresh_interval_ns, "
                      "refresh_ns, turnaround_ns, write_batch_bytes, page_bytes, activate_interval_ns)"));
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

TEST_CASE("errors: a name or description is one line", "[errors]") {
  // Found by fuzz_arch: a --set name with a line break was kept and dumped as a YAML string that
  // loads back folded to one line. Names go into one-line reports and CSV cells: refused, and the
  // error shows the bytes escaped.
  CHECK(error_loading(kMinimal, {"name=two\nlines"}) ==
        "--set name=two\\x0alines: name = 'two\\x0alines': a text value is one line without control characters");
  CHECK_THAT(error_loading(std::string(kMinimal) + "description: \"tab\\there\"\n"),
             Contains("description = 'tab\\x09here': a text value is one line without control characters"));
  // Quotes and backslashes are text like any other, and survive the dump.
  const ChipConfig chip = load_arch_text(kMinimal, "x.yaml", {"name=a \"quoted\" \\ name"});
  CHECK(chip.name == "a \"quoted\" \\ name");
  const std::string dumped = arch_to_yaml(chip);
  CHECK(load_arch_text(dumped, "dump.yaml").name == chip.name);
  CHECK(arch_to_yaml(load_arch_text(dumped, "dump.yaml")) == dumped);
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

// ---- multi-chip systems ------------------------------------------------------------------

TEST_CASE("system keys load into SystemConfig", "[system]") {
  const std::string yaml = std::string(kMinimal) + R"(system:
  chips: 16
  topology: torus2d
  torus_rows: 2
  link:
    gbps_per_direction: 50.5
    latency_ns: 250
    ports_per_chip: 6
  switch:
    gbps_per_port: 900
    latency_ns: 700
)";
  const ChipConfig c = load_arch_text(yaml, "x.yaml");
  CHECK(c.system.chips == 16);
  CHECK(c.system.topology == Topology::torus2d);
  CHECK(c.system.torus_rows == 2);
  CHECK(c.system.link.gbps_per_direction == 50.5);
  CHECK(c.system.link.latency_ns == 250.0);
  CHECK(c.system.link.ports_per_chip == 6);
  CHECK(c.system.switch_.gbps_per_port == 900.0);
  CHECK(c.system.switch_.latency_ns == 700.0);
  CHECK(target_limits(c).chips == 16);

  // Each topology by name, dotted keys and --set alike.
  CHECK(load_arch_text(std::string(kMinimal) + "system.chips: 4\nsystem.topology: fully-connected\n"
                                               "system.link.ports_per_chip: 3\n",
                       "x.yaml")
            .system.topology == Topology::fully_connected);
  CHECK(load_arch("small", {"system.chips=8", "system.topology=switch"}).system.topology == Topology::switched);
  CHECK(load_arch("small", {"system.chips=8"}).system.topology == Topology::ring);
  CHECK(load_arch("small", {"system.chips=256", "system.topology=switch"}).system.chips == 256);

  // Unknown keys in the new sections suggest the right one.
  CHECK_THAT(error_loading(std::string(kMinimal) + "system.link.gbps: 3\n"),
             Contains("unknown key 'system.link.gbps' (did you mean 'system.link.gbps_per_direction'?)"));
  CHECK_THAT(error_loading(kMinimal, {"system.swich.latency_ns=3"}),
             Contains("did you mean 'system.switch.latency_ns'?"));
  CHECK_THAT(error_loading(std::string(kMinimal) + "system.topology: mesh\n"),
             Contains("system.topology = 'mesh' is not one of: ring, torus2d, fully-connected, switch"));
  CHECK_THAT(error_loading(kMinimal, {"system.chips=0"}), Contains("system.chips = 0 is out of range [1, 256]"));
  CHECK_THAT(error_loading(kMinimal, {"system.chips=300"}), Contains("system.chips = 300 is out of range [1, 256]"));
}

TEST_CASE("system: cross-field rules name the keys involved", "[system][errors]") {
  const auto sys = [](const std::string& body) { return std::string(kMinimal) + "system:\n" + body; };

  // ring: two ports per chip beyond two chips; one suffices for two.
  CHECK(error_loading(sys("  chips: 3\n  link: {ports_per_chip: 1}\n")) ==
        "my-chip.yaml:10:26: system.topology = ring of 3 chips needs system.link.ports_per_chip >= 2 "
        "(a link to each neighbour), got 1");
  CHECK(load_arch_text(sys("  chips: 2\n  link: {ports_per_chip: 1}\n"), "x.yaml").system.chips == 2);
  CHECK(load_arch_text(sys("  chips: 3\n"), "x.yaml").system.link.ports_per_chip == 2);

  // torus2d: at least 4 chips, 4 ports, torus_rows dividing chips into a grid of at least 2 x 2.
  CHECK(error_loading(sys("  chips: 3\n  topology: torus2d\n  link: {ports_per_chip: 4}\n")) ==
        "my-chip.yaml:9:10: system.topology = torus2d needs system.chips >= 4 (a 2 x 2 grid at least), got 3; "
        "use ring");
  // The default ports (2) are not enough: the error points at the topology line.
  CHECK(error_loading(sys("  chips: 8\n  topology: torus2d\n")) ==
        "my-chip.yaml:10:13: system.topology = torus2d of 8 chips needs system.link.ports_per_chip >= 4 "
        "(north, south, east and west neighbours), got 2");
  CHECK(error_loading(sys("  chips: 8\n  topology: torus2d\n  torus_rows: 3\n  link: {ports_per_chip: 4}\n")) ==
        "my-chip.yaml:11:15: system.torus_rows = 3 must divide system.chips = 8 into a grid of at least 2 x 2 "
        "(valid: 2, 4)");
  CHECK_THAT(error_loading(sys("  chips: 8\n  topology: torus2d\n  torus_rows: 1\n  link: {ports_per_chip: 4}\n")),
             Contains("system.torus_rows = 1 must divide system.chips = 8 into a grid of at least 2 x 2"));
  CHECK_THAT(error_loading(sys("  chips: 8\n  topology: torus2d\n  torus_rows: 8\n  link: {ports_per_chip: 4}\n")),
             Contains("system.torus_rows = 8 must divide"));
  CHECK_THAT(error_loading(sys("  chips: 7\n  topology: torus2d\n  link: {ports_per_chip: 4}\n")),
             Contains("my-chip.yaml:9:10: system.topology = torus2d needs a grid of at least 2 x 2 but system.chips "
                      "= 7 is prime (7 chips form no such grid: use ring or another chip count)"));
  const ChipConfig torus =
      load_arch_text(sys("  chips: 8\n  topology: torus2d\n  link: {ports_per_chip: 4}\n"), "x.yaml");
  CHECK(torus_grid_rows(torus.system) == 2);  // as square as 8 allows: 2 x 4
  CHECK_THAT(headline_figures(torus), Contains("; 8 chips, torus2d 2 x 4, 4 links x 100 GB/s/dir per chip"));
  SystemConfig sixteen;
  sixteen.chips = 16;
  CHECK(torus_grid_rows(sixteen) == 4);
  sixteen.torus_rows = 8;
  CHECK(torus_grid_rows(sixteen) == 8);

  // fully-connected: a port to every other chip.
  CHECK(error_loading(sys("  chips: 8\n  topology: fully-connected\n  link: {ports_per_chip: 6}\n")) ==
        "my-chip.yaml:11:26: system.topology = fully-connected of 8 chips needs system.link.ports_per_chip >= 7 "
        "(a link to every other chip), got 6");
  CHECK(load_arch_text(sys("  chips: 8\n  topology: fully-connected\n  link: {ports_per_chip: 7}\n"), "x.yaml")
            .system.link.ports_per_chip == 7);

  // switch: one port per chip into the switch, whatever ports_per_chip says.
  CHECK(load_arch_text(sys("  chips: 64\n  topology: switch\n  link: {ports_per_chip: 1}\n"), "x.yaml").system.chips ==
        64);

  // One chip has no links: nothing to check, whatever the topology.
  CHECK(load_arch_text(sys("  topology: torus2d\n  torus_rows: 3\n  link: {ports_per_chip: 1}\n"), "x.yaml")
            .system.chips == 1);

  // --set can cause and fix it; the error starts at the --set that gave the blamed key.
  CHECK(error_loading(kMinimal, {"system.chips=8", "system.topology=fully-connected"}) ==
        "--set system.topology=fully-connected: system.topology = fully-connected of 8 chips needs "
        "system.link.ports_per_chip >= 7 (a link to every other chip), got 2");
  CHECK(load_arch("small", {"system.chips=8", "system.topology=fully-connected", "system.link.ports_per_chip=7"})
            .system.chips == 8);
  CHECK_THAT(error_of([] { load_arch("h100-like-8x", {"system.topology=ring", "system.link.ports_per_chip=1"}); }),
             Contains("--set system.link.ports_per_chip=1: system.topology = ring of 8 chips needs "
                      "system.link.ports_per_chip >= 2"));
}

// ---- base: building on a preset ----------------------------------------------------------

TEST_CASE("base: a file overrides its preset key by key", "[base]") {
  const ArchInfo sohu = load_arch_info("sohu-like");
  const ArchInfo derived = load_arch_info(write_temp("derived.yaml", R"(base: sohu-like
core:
  matrix:
    rows: 128
  sram: {capacity_mib: 8}
hbm.stacks: 4
)"));
  // Overridden keys.
  CHECK(derived.chip.core.matrix.rows == 128);
  CHECK(derived.chip.core.sram.capacity_bytes == 8ull << 20);
  CHECK(derived.chip.hbm.stacks == 4);
  // Deep merge: the rest of each section comes from the base.
  CHECK(derived.chip.core.matrix.cols == 256);
  CHECK(derived.chip.core.matrix.count == 4);
  CHECK(derived.chip.core.matrix.double_buffered);
  CHECK(derived.chip.core.sram.ports == sohu.chip.core.sram.ports);
  CHECK(derived.chip.hbm.channels_per_stack == 16);
  CHECK(derived.chip.clock_ghz == sohu.chip.clock_ghz);
  CHECK(derived.chip.semaphores == sohu.chip.semaphores);
  // Everything not overridden is the base's: the dumps differ only in the overridden lines.
  ChipConfig expected = sohu.chip;
  expected.name = "derived";
  expected.core.matrix.rows = 128;
  expected.core.sram.capacity_bytes = 8ull << 20;
  expected.hbm.stacks = 4;
  CHECK(arch_to_yaml(derived.chip) == arch_to_yaml(expected));
  // The name is the file's own; the description is inherited when the file has none.
  CHECK(derived.chip.name == "derived");
  CHECK(derived.description == sohu.description);

  const ArchInfo named = load_arch_info(
      write_temp("named.yaml", "base: tpu-v4-like\nname: my tpu\ndescription: mine\nclock_ghz: 2\n"));
  CHECK(named.chip.name == "my tpu");
  CHECK(named.description == "mine");
  CHECK(named.chip.clock_ghz == 2.0);
  CHECK(named.chip.cores == 2);

  // --set applies on top of the merged keys; a base may be a preset with a base of its own.
  CHECK(load_arch_text("base: sohu-like\n", "x.yaml", {"core.matrix.rows=64"}).core.matrix.rows == 64);
  const ArchInfo chained = load_arch_info(write_temp("chained.yaml", "base: sohu-like-8x\nsystem.chips: 4\n"));
  CHECK(chained.chip.system.chips == 4);
  CHECK(chained.chip.system.topology == Topology::switched);  // from sohu-like-8x
  CHECK(chained.chip.hbm.capacity_bytes == 144ull << 30);     // from sohu-like
  CHECK(chained.chip.name == "chained");
  CHECK(chained.description == load_arch_info("sohu-like-8x").description);

  // A required key may come from the base alone; values the base gives are validated with its
  // own location.
  CHECK(load_arch_text("base: small\n", "x.yaml").cores == 1);
  CHECK_THAT(error_of([] {
               detail::load_arch_text_with_presets("base: bad\n", "x.yaml",
                                                 {{"bad", "base: small\ncores: 0\n"}, {"small", preset_yaml("small")}});
             }),
             Contains("bad.yaml:2:8: cores = 0 is out of range [1, 256]"));
  // `tasim arch` of a derived file is a complete file without base that loads to the same chip.
  const std::string dump = arch_to_yaml(derived.chip, derived.description);
  CHECK_THAT(dump, !Contains("base:"));
  CHECK(arch_to_yaml(load_arch_text(dump, "derived.yaml")) == arch_to_yaml(derived.chip));
}

TEST_CASE("base: errors", "[base][errors]") {
  CHECK(error_loading("base: sohu\ncores: 2\n") ==
        "my-chip.yaml:1:7: unknown base preset 'sohu' (presets: h100-like, h100-like-8x, h200-like, h200-like-8x, "
        "small, sohu-like, sohu-like-8x, tpu-v4-like) (did you mean 'sohu-like'?)");
  CHECK_THAT(error_loading("base: tpu-v4-lke\n"), Contains("(did you mean 'tpu-v4-like'?)"));
  CHECK_THAT(error_loading("base: [small]\n"), Contains("my-chip.yaml:1:7: base expects a preset name, got a list"));
  CHECK_THAT(error_loading("base:\n"), Contains("my-chip.yaml:1:1: base expects a preset name, got nothing"));
  CHECK_THAT(error_loading("base: small\nbase: tpu-v4-like\n"), Contains("duplicate key 'base'"));
  CHECK_THAT(error_loading("bse: small\n"), Contains("my-chip.yaml:1:1: unknown key 'bse' (did you mean 'base'?)"));
  // Only at the top level, and only in files.
  CHECK_THAT(error_loading("base: small\ncore:\n  base: small\n"), Contains("unknown key 'core.base'"));
  CHECK_THAT(error_loading(kMinimal, {"base=small"}),
             Contains("--set base=small: 'base' names the preset a file builds on and can only be given in the file"));

  // Cycles, through presets that name each other (or themselves).
  const std::map<std::string, std::string> loop = {
      {"a", "base: b\n"}, {"b", "base: c\n"}, {"c", "base: a\n"}, {"self", "cores: 2\nbase: self\n"}};
  CHECK(error_of([&] { detail::load_arch_text_with_presets("base: a\n", "my-chip.yaml", loop); }) ==
        "c.yaml:1:7: base 'a' forms a cycle: a -> b -> c -> a");
  CHECK(error_of([&] { detail::load_arch_text_with_presets("base: self\n", "my-chip.yaml", loop); }) ==
        "self.yaml:2:7: base 'self' forms a cycle: self -> self");
  // An unknown base deep in a chain names the preset that gave it.
  CHECK_THAT(error_of([] { detail::load_arch_text_with_presets("base: a\n", "x.yaml", {{"a", "base: nope\n"}}); }),
             Contains("a.yaml:1:7: unknown base preset 'nope' (presets: a)"));
}

TEST_CASE("h100-like-8x matches H100 SXM's public figures", "[presets][system]") {
  const ArchInfo info = load_arch_info("h100-like-8x");
  const ChipConfig& c = info.chip;
  // Public (NVIDIA H100 datasheet): 989.4 TFLOP/s dense BF16, 1978.9 FP8, 80 GB HBM3 at 3.35 TB/s.
  CHECK(peak_matrix_tflops(c, isa::DType::bf16) == Approx(989.4).epsilon(0.01));
  CHECK(peak_matrix_tflops(c, isa::DType::fp8) == Approx(2 * peak_matrix_tflops(c, isa::DType::bf16)));
  CHECK(peak_matrix_tflops(c, isa::DType::int8) == Approx(1978.9).epsilon(0.01));
  CHECK(hbm_peak_tbps(c) == Approx(3.35).epsilon(0.01));
  CHECK(c.hbm.capacity_bytes == 80ull << 30);
  CHECK(c.hbm.stacks == 5);
  // 132 SMs in a few tens of cores; the compiler's semaphores fit (8 + 18 per matrix unit per core).
  CHECK(c.cores <= 64);
  CHECK(c.cores * (8 + 18 * c.core.matrix.count) <= c.semaphores);
  // On-chip memory of the order of H100's 50 MB L2 plus 132 x 228 KB of shared memory (~80 MiB).
  CHECK(sram_total_bytes(c) >= 70ull << 20);
  CHECK(sram_total_bytes(c) <= 100ull << 20);
  // Special functions at 1/8 of the FP32 rate: about 3.9 T exp/s (FlashAttention-3's figure).
  const double exp_per_s = vector_peak_elements_per_s(c) /
                           c.core.vector.cycles_per_element[isa::vector_op_index(isa::Opcode::vec_exp)];
  CHECK(exp_per_s == Approx(3.9e12).epsilon(0.02));
  // 8 GPUs behind NVSwitch at 900 GB/s per GPU, both directions together.
  CHECK(c.system.chips == 8);
  CHECK(c.system.topology == Topology::switched);
  CHECK(2 * c.system.switch_.gbps_per_port == Approx(900.0));
  CHECK(c.system.switch_.latency_ns >= 100.0);
  CHECK(c.system.switch_.latency_ns <= 1000.0);
  CHECK_THAT(describe_preset("h100-like-8x"),
             Contains("bf16 989 TFLOP/s, fp8 1979 TFLOP/s, HBM 3.35 TB/s, 80 GiB, SRAM 82.5 MiB,"));
  CHECK_THAT(describe_preset("h100-like-8x"), Contains("; 8 chips, switch 450 GB/s/dir per chip"));
}

TEST_CASE("sohu-like-8x is eight sohu-like chips on h100-like-8x's switch", "[presets][system]") {
  CHECK_THAT(preset_yaml("sohu-like-8x"), Contains("base: sohu-like"));
  const ArchInfo server = load_arch_info("sohu-like-8x");
  ChipConfig one = server.chip;
  one.system = SystemConfig{};
  one.name = "sohu-like";
  CHECK(arch_to_yaml(one) == arch_to_yaml(load_arch("sohu-like")));  // the chip is unchanged
  CHECK(server.chip.name == "sohu-like-8x");
  CHECK(server.chip.system.chips == 8);
  const ChipConfig h100 = load_arch("h100-like-8x");
  CHECK(server.chip.system.topology == h100.system.topology);
  CHECK(server.chip.system.switch_.gbps_per_port == h100.system.switch_.gbps_per_port);
  CHECK(server.chip.system.switch_.latency_ns == h100.system.switch_.latency_ns);
  CHECK(server.description != load_arch_info("sohu-like").description);
}

TEST_CASE("arch_to_yaml round-trips every system key", "[yaml][system]") {
  const ChipConfig c = load_arch("small", {"system.chips=12", "system.topology=torus2d", "system.torus_rows=3",
                                           "system.link.ports_per_chip=4", "system.link.gbps_per_direction=37.5",
                                           "system.link.latency_ns=123.5", "system.switch.gbps_per_port=99",
                                           "system.switch.latency_ns=7"});
  const std::string yaml = arch_to_yaml(c);
  CHECK_THAT(yaml, Contains("system:\n  chips: 12\n  topology: torus2d\n  torus_rows: 3\n  link:\n"
                            "    gbps_per_direction: 37.5\n    latency_ns: 123.5\n    ports_per_chip: 4\n"
                            "  switch:\n    gbps_per_port: 99\n    latency_ns: 7\n"));
  CHECK(arch_to_yaml(load_arch_text(yaml, "small.yaml")) == yaml);
}

TEST_CASE("peak power prices every unit at its peak rate plus static power", "[figures][cost]") {
  // small: 1 core, two 32 x 32 arrays (fp8 and int8 at 2 MACs per PE per cycle), 1 GHz.
  ChipConfig c = load_arch("small", {"cost.matrix.pj_per_mac.bf16=1", "cost.matrix.pj_per_mac.fp8=0.25",
                                     "cost.matrix.pj_per_mac.int8=0.1", "cost.vector.pj_per_element=0",
                                     "cost.sram.pj_per_byte_read=0", "cost.sram.pj_per_byte_written=0",
                                     "cost.hbm.pj_per_bit=0", "cost.static_w_per_mm2=0"});
  const double macs_per_s = 2.0 * 32 * 32 * c.cores * c.clock_ghz * 1e9;  // at 1 MAC per PE per cycle
  // bf16 costs 1 pJ per MAC at 1 MAC/cycle; fp8 2 x 0.25 = 0.5 pJ per PE-cycle: bf16 is the costliest.
  CHECK(peak_power_w(c) == Approx(macs_per_s * 1e-12).epsilon(1e-6));
  // Only HBM: its peak bandwidth at the coefficient per bit.
  c = load_arch("small", {"cost.matrix.pj_per_mac.bf16=0", "cost.matrix.pj_per_mac.fp8=0",
                          "cost.matrix.pj_per_mac.int8=0", "cost.vector.pj_per_element=0",
                          "cost.sram.pj_per_byte_read=0", "cost.sram.pj_per_byte_written=0",
                          "cost.hbm.pj_per_bit=2", "cost.static_w_per_mm2=0"});
  CHECK(peak_power_w(c) == Approx(hbm_peak_bytes_per_s(c) * 8 * 2e-12).epsilon(1e-6));
  // Only static power: area x density.
  c = load_arch("small", {"cost.matrix.pj_per_mac.bf16=0", "cost.matrix.pj_per_mac.fp8=0",
                          "cost.matrix.pj_per_mac.int8=0", "cost.vector.pj_per_element=0",
                          "cost.sram.pj_per_byte_read=0", "cost.sram.pj_per_byte_written=0",
                          "cost.hbm.pj_per_bit=0", "cost.static_w_per_mm2=0.5"});
  CHECK(peak_power_w(c) == Approx(0.5 * chip_area(c).total_mm2()));
  // Every preset's peak is above its static power and grows with the clock.
  for (const auto& name : preset_names()) {
    INFO(name);
    const ChipConfig p = load_arch(name);
    CHECK(peak_power_w(p) > static_power_w(p));
    ChipConfig faster = p;
    faster.clock_ghz *= 2;
    CHECK(peak_power_w(faster) > peak_power_w(p));
  }
}

TEST_CASE("hbm.model names a registered memory model", "[config][hbm]") {
  CHECK(load_arch("small").hbm.model == "bandwidth");
  CHECK(load_arch("small", {"hbm.model=ideal"}).hbm.model == "ideal");
  CHECK_THAT(error_of([] { load_arch("small", {"hbm.model=bandwith"}); }),
             Contains("hbm.model = 'bandwith' is not one of: bandwidth, ideal"));
  // A model registered by a study is accepted by name, and dumped back.
  register_memory_model({"study-model", "a study's own", [](const HbmConfig& hbm, double clock_ghz) {
                           return make_memory_model("bandwidth", hbm, clock_ghz);
                         }});
  const ChipConfig chip = load_arch("small", {"hbm.model=study-model"});
  CHECK(chip.hbm.model == "study-model");
  CHECK_THAT(arch_to_yaml(chip), Contains("model: study-model"));
}

TEST_CASE("no preset has an fp4 rate, and one can be set but not below 0", "[set][weight_format]") {
  // H100/H200 and TPU v4 have no fp4 tensor cores; sohu-like's fp4 rate is not public.
  for (const std::string& name : preset_names()) {
    INFO(name);
    CHECK(load_arch(name).core.matrix.macs_per_pe_per_cycle[static_cast<int>(isa::DType::fp4)] == 0);
  }
  const ChipConfig c = load_arch("sohu-like", {"core.matrix.macs_per_pe_per_cycle.fp4=4"});
  CHECK(c.core.matrix.macs_per_pe_per_cycle[static_cast<int>(isa::DType::fp4)] == 4);
  CHECK_THAT(error_of([] { load_arch("sohu-like", {"core.matrix.macs_per_pe_per_cycle.fp4=-1"}); }),
             Catch::Contains("core.matrix.macs_per_pe_per_cycle.fp4"));
  // bf16 stays at least 1: every array multiplies something.
  CHECK_THAT(error_of([] { load_arch("sohu-like", {"core.matrix.macs_per_pe_per_cycle.bf16=0"}); }),
             Catch::Contains("core.matrix.macs_per_pe_per_cycle.bf16"));
}

TEST_CASE("a power limit must exceed the chip's static power", "[arch][power]") {
  const std::string error = error_loading(kMinimal, {"cost.power_limit_w=0.001"});
  CHECK_THAT(error, Contains("--set cost.power_limit_w=0.001"));
  CHECK_THAT(error, Contains("must exceed the chip's static power"));
  CHECK(load_arch_text(kMinimal, "x.yaml", {"cost.power_limit_w=1000"}).cost.power_limit_w == 1000.0);
  // The GPU presets hold their 700 W; the ASIC presets set no limit.
  CHECK(load_arch("h200-like").cost.power_limit_w == 700.0);
  CHECK(load_arch("h100-like").cost.power_limit_w == 700.0);
  CHECK_FALSE(load_arch("sohu-like").cost.power_limited());
  CHECK_FALSE(load_arch("h100-like-8x").cost.power_limited());
}
