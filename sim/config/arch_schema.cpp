#include "sim/config/arch_schema.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <type_traits>

#include <fmt/format.h>

#include "arch/memory_model.h"
#include "common/printable.h"

namespace tasim {
namespace {

// Widths of the ISA fields that index units or address memory bound what a chip may have:
// a program cannot name a 17th matrix unit through a 4-bit field.
constexpr int kIsaFieldBits[] = {
#define TASIM_X(id, bits, kind, unit, desc) bits,
    TASIM_ISA_FIELDS(TASIM_X)
#undef TASIM_X
};
constexpr double isa_field_values(isa::Field f) {
  return static_cast<double>(std::uint64_t{1} << kIsaFieldBits[static_cast<int>(f)]);
}

static_assert(static_cast<int>(Dataflow::ws) == 0 && static_cast<int>(Dataflow::os) == 1 &&
                  static_cast<int>(Dataflow::is) == 2,
              "the dataflow choices below list Dataflow's enumerators in order");

static_assert(static_cast<int>(Topology::ring) == 0 && static_cast<int>(Topology::torus2d) == 1 &&
                  static_cast<int>(Topology::fully_connected) == 2 &&
                  static_cast<int>(Topology::switched) == 3,
              "the system.topology choices below list Topology's enumerators in order");

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGiB = kMiB * 1024.0;

// Shortest text that reads back as the same double ("1", "0.5", "37.5").
std::string number_text(double v) { return fmt::format("{}", v); }

ArchKey base_key(std::string path, ArchKeyType type, bool required, std::string def, double min,
                 double max, std::string unit, std::string description) {
  ArchKey k;
  k.path = std::move(path);
  k.type = type;
  k.required = required;
  k.default_text = std::move(def);
  k.min = min;
  k.max = max;
  k.unit = std::move(unit);
  k.description = std::move(description);
  return k;
}

// `access` is a generic lambda returning a reference to the field, const or not, so one
// accessor serves both the setter and the getter.
template <class Access>
ArchKey integer_key(std::string path, bool required, std::string def, double min, double max,
                    std::string unit, std::string description, Access access) {
  ArchKey k = base_key(std::move(path), ArchKeyType::integer, required, std::move(def), min, max,
                       std::move(unit), std::move(description));
  k.set = [access](ChipConfig& c, const ArchValue& v) {
    auto& field = access(c);
    field = static_cast<std::remove_reference_t<decltype(field)>>(v.integer);
  };
  k.get = [access](const ChipConfig& c) { return std::to_string(access(c)); };
  return k;
}

template <class Access>
ArchKey number_key(std::string path, bool required, std::string def, double min, double max,
                   std::string unit, std::string description, Access access) {
  ArchKey k = base_key(std::move(path), ArchKeyType::number, required, std::move(def), min, max,
                       std::move(unit), std::move(description));
  k.set = [access](ChipConfig& c, const ArchValue& v) { access(c) = v.number; };
  k.get = [access](const ChipConfig& c) { return number_text(access(c)); };
  return k;
}

// A byte count written in a larger unit (capacity_mib, capacity_gib): the YAML number times
// `scale`, rounded to whole bytes.
template <class Access>
ArchKey bytes_key(std::string path, bool required, std::string def, double min, double max,
                  std::string unit, double scale, std::string description, Access access) {
  ArchKey k = base_key(std::move(path), ArchKeyType::number, required, std::move(def), min, max,
                       std::move(unit), std::move(description));
  k.set = [access, scale](ChipConfig& c, const ArchValue& v) {
    access(c) = static_cast<std::uint64_t>(std::llround(v.number * scale));
  };
  k.get = [access, scale](const ChipConfig& c) {
    return number_text(static_cast<double>(access(c)) / scale);
  };
  return k;
}


std::vector<ArchKey> build_schema() {
  std::vector<ArchKey> s;
  const double max_cores = isa_field_values(isa::Field::core);
  const double max_units = isa_field_values(isa::Field::mxu);
  const double max_vpus = isa_field_values(isa::Field::vpu);
  const double max_engines = isa_field_values(isa::Field::engine);
  const double max_semaphores = isa_field_values(isa::Field::sem);
  const double max_sram_mib = isa_field_values(isa::Field::sram_addr) / kMiB;
  const double max_hbm_gib = isa_field_values(isa::Field::hbm_addr) / kGiB;

  s.push_back(base_key("description", ArchKeyType::text, false, "", 0, 0, "-",
                      "One line on what this chip is, shown by `tasim presets`; not used by the "
                      "models."));
  {
    ArchKey k = base_key("name", ArchKeyType::text, false, "", 0, 0, "-",
                         "Name shown in reports; when omitted (or empty), the preset name or the "
                         "file name without its extension.");
    k.set = [](ChipConfig& c, const ArchValue& v) {
      if (!v.text.empty()) c.name = v.text;
    };
    k.get = [](const ChipConfig& c) { return c.name; };
    s.push_back(k);
  }
  s.push_back(number_key("clock_ghz", true, "", 0.01, 10, "GHz",
                         "Clock of every unit of the chip; cycle counts convert to time with it.",
                         [](auto& c) -> auto& { return c.clock_ghz; }));
  s.push_back(integer_key("cores", true, "", 1, max_cores, "count",
                          "Cores per chip, each with its own matrix units, vector units, SRAM and "
                          "DMA engines (at most 2^8: the ISA's core field is 8 bits).",
                          [](auto& c) -> auto& { return c.cores; }));
  s.push_back(integer_key("semaphores", false, "256", 1, max_semaphores, "count",
                          "Counting semaphores shared by the chip's units (the ISA's sem field is "
                          "12 bits); 256 is plenty for double-buffered pipelines.",
                          [](auto& c) -> auto& { return c.semaphores; }));
  s.push_back(integer_key("queue_depth", false, "16", 1, 4096, "instructions",
                          "Instruction queue depth of each matrix and vector unit: how far the "
                          "sequencer may run ahead of a busy unit.",
                          [](auto& c) -> auto& { return c.queue_depth; }));

  // core.matrix
  s.push_back(integer_key("core.matrix.count", true, "", 1, max_units, "count",
                          "Systolic matrix units per core (the ISA's mxu field is 4 bits).",
                          [](auto& c) -> auto& { return c.core.matrix.count; }));
  s.push_back(integer_key("core.matrix.rows", true, "", 1, 65536, "PEs",
                          "Rows of each systolic array (the reduction dimension K in "
                          "weight-stationary dataflow).",
                          [](auto& c) -> auto& { return c.core.matrix.rows; }));
  s.push_back(integer_key("core.matrix.cols", true, "", 1, 65536, "PEs",
                          "Columns of each systolic array (the output dimension N in "
                          "weight-stationary dataflow).",
                          [](auto& c) -> auto& { return c.core.matrix.cols; }));
  {
    ArchKey k = base_key("core.matrix.dataflow", ArchKeyType::choice, false, "ws", 0, 0, "-",
                         "What stays in the PEs while operands stream through (SCALE-Sim's "
                         "names): ws = weight-stationary (TPU-style; weights loaded once per "
                         "fold), os = output-stationary, is = input-stationary.");
    k.choices = {"ws", "os", "is"};
    k.set = [](ChipConfig& c, const ArchValue& v) { c.core.matrix.dataflow = static_cast<Dataflow>(v.choice); };
    k.get = [](const ChipConfig& c) {
      static const char* const names[] = {"ws", "os", "is"};
      return std::string(names[static_cast<int>(c.core.matrix.dataflow)]);
    };
    s.push_back(k);
  }
  {
    ArchKey k = base_key("core.matrix.double_buffered", ArchKeyType::choice, false, "false", 0, 0, "-",
                         "true: the stationary operand (weights in ws, inputs in is) has a second "
                         "buffer in the PEs, so the next fold's tile shifts in while the current one "
                         "streams (as in TPUs, whose matrix unit holds a weight tile plus one more "
                         "for double buffering); each fold after the first saves min(rows, streamed "
                         "length) cycles. false: SCALE-Sim v2's timing exactly. No effect on os.");
    k.choices = {"false", "true"};
    k.set = [](ChipConfig& c, const ArchValue& v) { c.core.matrix.double_buffered = v.choice == 1; };
    k.get = [](const ChipConfig& c) { return std::string(c.core.matrix.double_buffered ? "true" : "false"); };
    s.push_back(k);
  }
  {
    ArchKey k = base_key("core.matrix.register_accumulators", ArchKeyType::choice, false, "false", 0, 0, "-",
                         "true: the fp32 accumulators stay in the matrix unit's registers while a tile "
                         "accumulates (a GPU's tensor cores: Hopper's wgmma accumulates in registers), so "
                         "a matmul moves only A and B through its SRAM port, and C once per tile. false: C "
                         "is read and written in SRAM at every k-step (a systolic array draining to SRAM).");
    k.choices = {"false", "true"};
    k.set = [](ChipConfig& c, const ArchValue& v) { c.core.matrix.register_accumulators = v.choice == 1; };
    k.get = [](const ChipConfig& c) { return std::string(c.core.matrix.register_accumulators ? "true" : "false"); };
    s.push_back(k);
  }
  const char* const mac_defaults[isa::kNumDTypes] = {"1", "2", "2", "0"};
  for (int t = 0; t < isa::kNumDTypes; ++t) {
    const auto dtype = static_cast<isa::DType>(t);
    const std::string name = isa::dtype_name(dtype);
    const bool fp4 = dtype == isa::DType::fp4;
    const std::string why =
        t == 0 ? "1 is a plain bf16 MAC per PE per cycle."
        : fp4  ? "0 (the default): no fp4 datapath, as on H100/H200 and TPU v4 (fp4 tensor cores arrive "
                 "with B200, whose dense FP4 peak is twice FP8); MXFP4 weights are then dequantized to the "
                 "widest dtype the array has, and the report says so."
               : "2 models a PE that packs two 8-bit MACs in the datapath of one bf16 MAC, "
                 "doubling peak (as on H100 and B200, whose dense FP8 peak is twice BF16); set 1 "
                 "for a chip that runs " + name + " at the bf16 rate.";
    s.push_back(integer_key(
        "core.matrix.macs_per_pe_per_cycle." + name, false, mac_defaults[t], fp4 ? 0 : 1, 64, "MACs",
        "MACs one PE completes per cycle on " + name +
            " inputs; f > 1 models a dot-product PE consuming f elements of K per cycle. " + why,
        [t](auto& c) -> auto& { return c.core.matrix.macs_per_pe_per_cycle[t]; }));
  }

  // core.vector
  s.push_back(integer_key("core.vector.count", false, "1", 1, max_vpus, "count",
                          "Vector units per core (the ISA's vpu field is 4 bits).",
                          [](auto& c) -> auto& { return c.core.vector.count; }));
  s.push_back(integer_key("core.vector.lanes", true, "", 1, 65536, "lanes",
                          "Elements each vector unit processes per cycle on a 1 cycle/element op.",
                          [](auto& c) -> auto& { return c.core.vector.lanes; }));
  s.push_back(integer_key("core.vector.pipeline_latency_cycles", false, "8", 0, 100000, "cycles",
                          "Pipeline fill paid once per vector instruction (operand fetch, ALU "
                          "stages, write-back, cross-lane reduction tree).",
                          [](auto& c) -> auto& { return c.core.vector.pipeline_latency_cycles; }));
  for (int i = 0; i < isa::kNumVectorOps; ++i) {
    const std::string op(isa::vector_op_name(i));
    const VectorOpCost& cost = kVectorOpCosts[static_cast<std::size_t>(i)];
    const std::string cycles = number_text(cost.cycles_per_element);
    const std::string why = cost.why;
    s.push_back(number_key("core.vector.cycles_per_element." + op, false, cycles, 0.01, 1000,
                           "cycles",
                           "Cycles each lane spends per element of vec." + op + ". Default " +
                               cycles + ": " + why + ".",
                           [i](auto& c) -> auto& { return c.core.vector.cycles_per_element[i]; }));
  }

  // core.sram
  s.push_back(bytes_key("core.sram.capacity_mib", true, "", 0.0625, max_sram_mib, "MiB", kMiB,
                        "On-chip SRAM scratchpad per core, software-managed (no cache); at most "
                        "4 GiB since SRAM addresses are 32 bits in the ISA.",
                        [](auto& c) -> auto& { return c.core.sram.capacity_bytes; }));
  s.push_back(integer_key("core.sram.banks", false, "16", 1, 4096, "count",
                          "Independent SRAM banks; a port needs a bank of its own, so min(ports, "
                          "banks) accesses proceed at once.",
                          [](auto& c) -> auto& { return c.core.sram.banks; }));
  s.push_back(integer_key("core.sram.ports", false, "2", 1, 64, "count",
                          "Concurrent accesses the SRAM serves, shared by the DMA engines, matrix "
                          "units and vector units of the core.",
                          [](auto& c) -> auto& { return c.core.sram.ports; }));
  s.push_back(integer_key("core.sram.bytes_per_cycle_per_port", false, "256", 1, 1 << 20, "bytes/cycle",
                          "Width of each SRAM port; ports x this is the core's SRAM bandwidth.",
                          [](auto& c) -> auto& { return c.core.sram.bytes_per_cycle_per_port; }));

  // core.dma
  s.push_back(integer_key("core.dma.engines", false, "2", 1, max_engines, "count",
                          "DMA engines per core moving tiles HBM <-> SRAM and SRAM <-> SRAM (the "
                          "ISA's engine field is 4 bits).",
                          [](auto& c) -> auto& { return c.core.dma.engines; }));
  s.push_back(integer_key("core.dma.setup_cycles", false, "32", 0, 1000000, "cycles",
                          "Descriptor processing paid once per transfer before data moves.",
                          [](auto& c) -> auto& { return c.core.dma.setup_cycles; }));
  s.push_back(integer_key("core.dma.queue_depth", false, "16", 1, 4096, "instructions",
                          "Instructions the sequencer may queue per DMA engine.",
                          [](auto& c) -> auto& { return c.core.dma.queue_depth; }));

  // hbm
  {
    std::string doc = "The memory model that times HBM transfers (arch/memory_model.h): ";
    for (const auto& m : builtin_memory_models()) doc += fmt::format("{} = {}; ", m.name, m.description);
    doc += "models registered by a study or test are accepted too.";
    ArchKey k = base_key("hbm.model", ArchKeyType::choice, false, "bandwidth", 0, 0, "-", doc);
    k.choices_from = memory_model_names;
    k.set = [](ChipConfig& c, const ArchValue& v) { c.hbm.model = v.text; };
    k.get = [](const ChipConfig& c) { return c.hbm.model; };
    s.push_back(k);
  }
  s.push_back(integer_key("hbm.stacks", true, "", 1, 64, "count", "HBM stacks on the package.",
                          [](auto& c) -> auto& { return c.hbm.stacks; }));
  s.push_back(integer_key("hbm.channels_per_stack", true, "", 1, 128, "count",
                          "Independent channels per stack (JEDEC: 8 for HBM2/2E, 16 for HBM3/3E, "
                          "each split in two pseudo-channels), each modelled as a bandwidth server.",
                          [](auto& c) -> auto& { return c.hbm.channels_per_stack; }));
  s.push_back(number_key("hbm.gbps_per_channel", true, "", 0.1, 10000, "GB/s",
                         "Peak bandwidth of one channel in GB/s (1e9 bytes/s); the chip's peak is "
                         "stacks x channels_per_stack x this. Interface width x pin rate / 8: a "
                         "64-bit HBM3 channel at 8 Gb/s per pin gives 64.",
                         [](auto& c) -> auto& { return c.hbm.gbps_per_channel; }));
  s.push_back(number_key("hbm.latency_ns", false, "100", 0, 100000, "ns",
                         "Access latency paid once per transfer per channel: DRAM row access "
                         "(tRCD + tCL, ~30 ns) plus controller, PHY and on-chip network; 100 ns is "
                         "a typical loaded figure.",
                         [](auto& c) -> auto& { return c.hbm.latency_ns; }));
  {
    ArchKey k = integer_key("hbm.interleave_bytes", false, "256", 32, 1 << 20, "bytes",
                            "Consecutive addresses rotate across channels in units of this many "
                            "bytes, so one large transfer uses every channel.",
                            [](auto& c) -> auto& { return c.hbm.interleave_bytes; });
    k.power_of_two = true;
    s.push_back(k);
  }
  s.push_back(bytes_key("hbm.capacity_gib", true, "", 0.0625, max_hbm_gib, "GiB", kGiB,
                        "HBM capacity of the whole chip (vendors' \"GB\" of HBM are GiB: a 24 GB "
                        "HBM3E stack holds 24 GiB); at most 1 TiB since HBM addresses are 40 bits "
                        "in the ISA.",
                        [](auto& c) -> auto& { return c.hbm.capacity_bytes; }));
  // DRAM timings behind the HBM efficiency (arch/hbm_efficiency.h). The defaults turn every loss
  // off, so presets written before these keys keep their results; a preset with a real DRAM in
  // mind sets them (h200-like quotes JEDEC HBM3-style values and where they come from).
  s.push_back(number_key("hbm.refresh_interval_ns", false, "3900", 1, 1e6, "ns",
                         "tREFI: one all-bank refresh per this interval (JEDEC HBM2/HBM3: 3.9 us below "
                         "85 C, halved above).",
                         [](auto& c) -> auto& { return c.hbm.refresh_interval_ns; }));
  s.push_back(number_key("hbm.refresh_ns", false, "0", 0, 1e6, "ns",
                         "tRFCab: the channel serves no data for this long per refresh, a loss of "
                         "refresh_ns / refresh_interval_ns (JEDEC-style figures: 260 ns for 8 Gb dies, "
                         "350 ns for 16 Gb and larger). 0 = refresh not modelled.",
                         [](auto& c) -> auto& { return c.hbm.refresh_ns; }));
  s.push_back(number_key("hbm.turnaround_ns", false, "0", 0, 1e6, "ns",
                         "Idle bus per write drain: a read-to-write switch (RL + BL/2 - WL + a guard "
                         "cycle) plus a write-to-read switch (WL + BL/2 + tWTR), about 10-15 ns for "
                         "HBM3. Charged to writes, once per write_batch_bytes. 0 = no turnaround.",
                         [](auto& c) -> auto& { return c.hbm.turnaround_ns; }));
  s.push_back(bytes_key("hbm.write_batch_bytes", false, "8192", 32, 1 << 30, "bytes", 1,
                        "Writes a channel's controller queues and drains in one go between two "
                        "turnarounds (its write queue's high watermark, both pseudo-channels).",
                        [](auto& c) -> auto& { return c.hbm.write_batch_bytes; }));
  s.push_back(bytes_key("hbm.page_bytes", false, "2048", 32, 1 << 20, "bytes", 1,
                        "Bytes one activate opens in a channel: the DRAM row (page) of each "
                        "pseudo-channel together (HBM3: 1 KiB x 2). A contiguous stream uses whole "
                        "pages; strided rows use what they put on a channel per page.",
                        [](auto& c) -> auto& { return c.hbm.page_bytes; }));
  s.push_back(number_key("hbm.activate_interval_ns", false, "0", 0, 1e6, "ns",
                         "Least time between two activates in one channel, both pseudo-channels "
                         "together: max(tRRD, tFAW / 4, tRC / banks) of one pseudo-channel, halved. "
                         "An access pattern that uses fewer bytes per page than the channel moves in "
                         "this time waits for activates. 0 = activates never limit.",
                         [](auto& c) -> auto& { return c.hbm.activate_interval_ns; }));

  // llc: a last-level cache shared by the cores, in front of HBM (arch/last_level_cache.h).
  s.push_back(bytes_key("llc.capacity_mib", false, "0", 0, 4096, "MiB", kMiB,
                        "Capacity of a last-level cache shared by every core in front of HBM (a "
                        "GPU's L2). Loads allocate (least recently used regions evicted); a load of "
                        "a region still cached is served at llc.bandwidth_gbps instead of HBM; stores go "
                        "through to HBM. 0 = no such cache (ASIC presets: each core's SRAM is all "
                        "there is).",
                        [](auto& c) -> auto& { return c.llc.capacity_bytes; }));
  s.push_back(number_key("llc.bandwidth_gbps", false, "0", 0, 1e6, "GB/s",
                         "Bandwidth the last-level cache serves hits at, all cores together, in "
                         "GB/s (1e9 bytes/s). Required above 0 when llc.capacity_mib is set.",
                         [](auto& c) -> auto& { return c.llc.bandwidth_gbps; }));
  s.push_back(number_key("llc.latency_ns", false, "0", 0, 1e5, "ns",
                         "Latency of a hit beyond its bytes at llc.bandwidth_gbps.",
                         [](auto& c) -> auto& { return c.llc.latency_ns; }));

  // noc: the network between the cores of one chip.
  {
    ArchKey k = base_key("noc.topology", ArchKeyType::choice, false, "crossbar", 0, 0, "-",
                         "On-chip network between the cores, crossed by a dma.copy into another "
                         "core's SRAM: crossbar = every core one port in and one out at "
                         "gbps_per_link, non-blocking inside; mesh = a grid of links (noc.mesh_rows), "
                         "row-then-column routing, latency per hop, contention on shared links.");
    k.choices = {"crossbar", "mesh"};
    k.set = [](ChipConfig& c, const ArchValue& v) { c.noc.topology = static_cast<NocTopology>(v.choice); };
    k.get = [](const ChipConfig& c) {
      return std::string(c.noc.topology == NocTopology::crossbar ? "crossbar" : "mesh");
    };
    s.push_back(k);
  }
  s.push_back(number_key("noc.gbps_per_link", false, "256", 0.1, 100000, "GB/s",
                         "On-chip network: bandwidth of one crossbar port or mesh link, per "
                         "direction, GB/s (1e9 bytes/s).",
                         [](auto& c) -> auto& { return c.noc.gbps_per_link; }));
  s.push_back(number_key("noc.latency_ns", false, "20", 0, 100000, "ns",
                         "On-chip network: first byte core to core (crossbar) or per hop (mesh).",
                         [](auto& c) -> auto& { return c.noc.latency_ns; }));
  s.push_back(integer_key("noc.mesh_rows", false, "0", 0, 256, "count",
                          "mesh: rows of the core grid (cores / rows columns); 0 = as square as the "
                          "core count allows.",
                          [](auto& c) -> auto& { return c.noc.mesh_rows; }));

  // system: the chips of a server and how they connect. One chip (the default) has no links and
  // ignores every other system key. Cross-field rules (ports a topology needs, torus shape) are
  // checked by the loader once every key is known.
  s.push_back(integer_key("system.chips", false, "1", 1, isa_field_values(isa::Field::chip), "count",
                          "Chips in the system (a server), each a copy of the chip above with its "
                          "own HBM; chip-to-chip transfers name the peer in the ISA's 8-bit chip "
                          "field. 1 = a single chip: no links, the other system keys are ignored.",
                          [](auto& c) -> auto& { return c.system.chips; }));
  {
    ArchKey k = base_key("system.topology", ArchKeyType::choice, false, "ring", 0, 0, "-",
                         "How the chips connect. ring: each chip links to its two neighbours "
                         "(needs 2 ports per chip when chips > 2). torus2d: a rows x cols grid "
                         "with wrap-around, 4 links per chip (TPU-style). fully-connected: a "
                         "direct link between every pair (chips - 1 ports per chip). switch: "
                         "every chip has one port into a central switch (NVSwitch-style), timed "
                         "by system.switch; the system.link keys are ignored.");
    k.choices = {"ring", "torus2d", "fully-connected", "switch"};
    k.set = [](ChipConfig& c, const ArchValue& v) { c.system.topology = static_cast<Topology>(v.choice); };
    k.get = [](const ChipConfig& c) {
      static const char* const names[] = {"ring", "torus2d", "fully-connected", "switch"};
      return std::string(names[static_cast<int>(c.system.topology)]);
    };
    s.push_back(k);
  }
  s.push_back(integer_key("system.torus_rows", false, "0", 0, isa_field_values(isa::Field::chip), "count",
                          "torus2d only: rows of the rows x (chips / rows) grid, a divisor of "
                          "chips with at least 2 rows and 2 columns. 0 = as square as chips "
                          "allows (16 chips: 4 x 4; 8 chips: 2 x 4). Ignored by other topologies.",
                          [](auto& c) -> auto& { return c.system.torus_rows; }));
  s.push_back(number_key("system.link.gbps_per_direction", false, "100", 0.1, 100000, "GB/s",
                         "Bandwidth of one chip-to-chip link in each direction, GB/s (1e9 "
                         "bytes/s); a link carries this much both ways at once. For reference, one "
                         "NVLink 4 link carries 25 GB/s per direction (18 per H100: 900 GB/s "
                         "both directions together). Used by ring, torus2d and fully-connected.",
                         [](auto& c) -> auto& { return c.system.link.gbps_per_direction; }));
  s.push_back(number_key("system.link.latency_ns", false, "500", 0, 1000000, "ns",
                         "Per hop: from the first byte leaving a chip to the first byte arriving "
                         "at its neighbour (SerDes, link layer and wire), paid once per hop a "
                         "transfer takes.",
                         [](auto& c) -> auto& { return c.system.link.latency_ns; }));
  s.push_back(integer_key("system.link.ports_per_chip", false, "2", 1, isa_field_values(isa::Field::chip), "count",
                          "Links each chip can drive at once, each at gbps_per_direction: ring needs "
                          "2 (1 for 2 chips), torus2d 4, fully-connected chips - 1. Several "
                          "physical links bundled towards one peer count as one port of their "
                          "summed bandwidth.",
                          [](auto& c) -> auto& { return c.system.link.ports_per_chip; }));
  s.push_back(number_key("system.switch.gbps_per_port", false, "450", 0.1, 100000, "GB/s",
                         "switch topology: bandwidth between one chip and the switch, per "
                         "direction, GB/s (1e9 bytes/s); the switch itself is non-blocking. An "
                         "H100 in an NVSwitch server has 450 (18 NVLink 4 links x 25 GB/s; "
                         "NVIDIA's \"900 GB/s\" counts both directions).",
                         [](auto& c) -> auto& { return c.system.switch_.gbps_per_port; }));
  s.push_back(number_key("system.switch.latency_ns", false, "500", 0, 1000000, "ns",
                         "switch topology: first byte from one chip through the switch to another "
                         "(two link traversals plus the switch's own pipeline).",
                         [](auto& c) -> auto& { return c.system.switch_.latency_ns; }));

  // software: what a GPU-like stack costs beyond the hardware (docs/validation.md).
  s.push_back(number_key("software.kernel_boundary_ns", false, "0", 0, 1e9, "ns",
                         "Cost of a kernel boundary, for GPU-like presets whose ops run as separate "
                         "kernels: every barrier releases this long after its last unit arrives, and the "
                         "step compiler puts a barrier between ops (so ops no longer overlap). 0 = a "
                         "compiled program without kernel boundaries (the ASIC presets).",
                         [](auto& c) -> auto& { return c.software.kernel_boundary_ns; }));
  s.push_back(number_key("software.host_issue_ns", false, "0", 0, 1e9, "ns",
                         "The host issues kernels no faster than one per this long (PyTorch eager: Python, "
                         "dispatch and the launch, about 12 us a call on the measured H200's host), so a run "
                         "of N kernels (N - 1 kernel boundaries; 1 without them) lasts at least N x this, "
                         "the wait booked as host stalls. 0 = no host bound (a compiled program, or a step "
                         "launched as one CUDA graph).",
                         [](auto& c) -> auto& { return c.software.host_issue_ns; }));
  {
    ArchKey k = base_key("software.unfused_elementwise", ArchKeyType::choice, false, "false", 0, 0, "-",
                         "true: the row ops run as PyTorch eager runs them, each elementwise step its own "
                         "kernel that reads its inputs from HBM and writes its result back: a gated "
                         "activation as act(gate), then x up (2 passes); rotary embedding as the "
                         "rotate-half formula's 4 multiplies and 2 adds on half rows and a concatenation "
                         "(7 passes). false: each row op is one fused pass (what a compiler emits).");
    k.choices = {"false", "true"};
    k.set = [](ChipConfig& c, const ArchValue& v) { c.software.unfused_elementwise = v.choice == 1; };
    k.get = [](const ChipConfig& c) { return std::string(c.software.unfused_elementwise ? "true" : "false"); };
    s.push_back(k);
  }

  // cost: area and energy coefficients (arch/cost_model.h). Defaults describe a 7 nm chip;
  // docs/cost.md gives each one's public source and how it was scaled to 7 nm.
  s.push_back(number_key("cost.process_nm", false, "7", 1, 1000, "nm",
                         "Process node the cost coefficients describe. Informational: the coefficients are "
                         "not rescaled from it; set them for your node.",
                         [](auto& c) -> auto& { return c.cost.process_nm; }));
  s.push_back(number_key("cost.other_area_mm2", false, "50", 0, 1e6, "mm^2",
                         "Die area outside the modelled blocks: control, host interface, clocking, pads.",
                         [](auto& c) -> auto& { return c.cost.other_area_mm2; }));
  s.push_back(number_key("cost.static_w_per_mm2", false, "0.1", 0, 1e3, "W/mm^2",
                         "Static power (leakage and always-on logic) per mm^2 of die, burnt for the whole run.",
                         [](auto& c) -> auto& { return c.cost.static_w_per_mm2; }));
  s.push_back(number_key("cost.power_limit_w", false, "0", 0, 1e6, "W",
                         "Power limit of one chip: when a run would burn more on average, the chip lowers "
                         "its clock until it burns exactly this (energy per operation unchanged), so the "
                         "run takes dynamic energy / (limit - static power). Must exceed the static power. "
                         "0 = no limit (the chip runs at clock_ghz whatever it burns).",
                         [](auto& c) -> auto& { return c.cost.power_limit_w; }));
  const char* const mac_area_defaults[isa::kNumDTypes] = {"400", "175", "50", "15"};
  for (int t = 0; t < isa::kNumDTypes; ++t) {
    const std::string name = isa::dtype_name(static_cast<isa::DType>(t));
    s.push_back(number_key("cost.matrix.mac_area_um2." + name, false, mac_area_defaults[t], 0, 1e6, "um^2",
                           "Area of one " + name + " multiply-accumulate in a PE (multiplier, its share of the "
                           "accumulator, registers). A PE's area is the largest over dtypes of "
                           "core.matrix.macs_per_pe_per_cycle x this: one datapath serves every dtype.",
                           [t](auto& c) -> auto& { return c.cost.mac_area_um2[t]; }));
  }
  const char* const pj_defaults[isa::kNumDTypes] = {"0.6", "0.25", "0.1", "0.05"};
  for (int t = 0; t < isa::kNumDTypes; ++t) {
    const std::string name = isa::dtype_name(static_cast<isa::DType>(t));
    s.push_back(number_key("cost.matrix.pj_per_mac." + name, false, pj_defaults[t], 0, 1e6, "pJ",
                           "Energy of one multiply-accumulate on " + name + " inputs (operand movement "
                           "inside the array included).",
                           [t](auto& c) -> auto& { return c.cost.pj_per_mac[t]; }));
  }
  s.push_back(number_key("cost.vector.lane_area_um2", false, "400", 0, 1e6, "um^2",
                         "Area of one vector lane (an fp32 FMA datapath and its registers).",
                         [](auto& c) -> auto& { return c.cost.vector_lane_area_um2; }));
  s.push_back(number_key("cost.vector.pj_per_element", false, "1.7", 0, 1e6, "pJ",
                         "Energy of one element of one vector op (about an fp32 FMA).",
                         [](auto& c) -> auto& { return c.cost.vector_pj_per_element; }));
  s.push_back(number_key("cost.sram.mm2_per_mib", false, "0.45", 0, 1e6, "mm^2",
                         "SRAM area per MiB of capacity, macro periphery included.",
                         [](auto& c) -> auto& { return c.cost.sram_mm2_per_mib; }));
  s.push_back(number_key("cost.sram.pj_per_byte_read", false, "0.9", 0, 1e6, "pJ",
                         "Energy per byte read from SRAM.",
                         [](auto& c) -> auto& { return c.cost.sram_pj_per_byte_read; }));
  s.push_back(number_key("cost.sram.pj_per_byte_written", false, "1", 0, 1e6, "pJ",
                         "Energy per byte written to SRAM.",
                         [](auto& c) -> auto& { return c.cost.sram_pj_per_byte_written; }));
  s.push_back(number_key("cost.hbm.pj_per_bit", false, "3.9", 0, 1e6, "pJ",
                         "HBM energy per bit read or written (DRAM core and I/O).",
                         [](auto& c) -> auto& { return c.cost.hbm_pj_per_bit; }));
  s.push_back(number_key("cost.hbm.phy_area_mm2_per_stack", false, "10", 0, 1e6, "mm^2",
                         "Die area of one stack's PHY and memory controller.",
                         [](auto& c) -> auto& { return c.cost.hbm_phy_mm2_per_stack; }));
  s.push_back(number_key("cost.link.pj_per_bit", false, "5", 0, 1e6, "pJ",
                         "Chip-to-chip energy per bit per hop (SerDes at both ends). Counts only in "
                         "multi-chip runs.",
                         [](auto& c) -> auto& { return c.cost.link_pj_per_bit; }));
  s.push_back(number_key("cost.link.phy_area_mm2_per_gbps", false, "0.025", 0, 1e6, "mm^2",
                         "SerDes area per GB/s of port bandwidth (one direction): a chip of a multi-chip "
                         "system has ports_per_chip x system.link.gbps_per_direction of it, or "
                         "system.switch.gbps_per_port behind a switch.",
                         [](auto& c) -> auto& { return c.cost.link_phy_mm2_per_gbps; }));
  s.push_back(number_key("cost.noc.pj_per_bit", false, "0.5", 0, 1e6, "pJ",
                         "Energy per bit a dma.copy moves into another core's SRAM over the on-chip network.",
                         [](auto& c) -> auto& { return c.cost.noc_pj_per_bit; }));
  return s;
}

}  // namespace

const std::vector<ArchKey>& arch_schema() {
  static const std::vector<ArchKey> schema = build_schema();
  return schema;
}

const ArchKey* find_arch_key(const std::string& path) {
  for (const auto& k : arch_schema()) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

std::vector<std::string> arch_sections() {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& k : arch_schema()) {
    for (auto dot = k.path.find('.'); dot != std::string::npos; dot = k.path.find('.', dot + 1)) {
      std::string section = k.path.substr(0, dot);
      if (seen.insert(section).second) out.push_back(section);
    }
  }
  return out;
}

bool is_arch_section(const std::string& path) {
  if (path.empty()) return true;
  for (const auto& k : arch_schema()) {
    if (k.path.size() > path.size() && k.path.compare(0, path.size(), path) == 0 &&
        k.path[path.size()] == '.')
      return true;
  }
  return false;
}

namespace {

std::string bound_text(const ArchKey& key, double v) {
  if (key.type == ArchKeyType::integer) return fmt::format("{}", static_cast<std::int64_t>(v));
  return number_text(v);
}

bool parse_double(const std::string& text, double& out) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && ptr == last && first != last && std::isfinite(out);
}

bool parse_int(const std::string& text, std::int64_t& out) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, out, 10);
  return ec == std::errc() && ptr == last && first != last;
}

}  // namespace

bool parse_arch_value(const ArchKey& key, const std::string& text, ArchValue& out, std::string& why) {
  out = ArchValue{};
  out.text = text;
  const auto out_of_range = [&](const std::string& shown) {
    why = fmt::format("{} = {} is out of range [{}, {}]", key.path, shown, bound_text(key, key.min),
                      bound_text(key, key.max));
    return false;
  };
  switch (key.type) {
    case ArchKeyType::text: {
      // Names and descriptions are one line of reports, listings and CSV cells (and dump back as
      // one line of YAML).
      const bool one_line = std::none_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
      });
      if (!one_line) {
        why = fmt::format("{} = '{}': a text value is one line without control characters", key.path,
                          printable(text));
      }
      return one_line;
    }
    case ArchKeyType::choice: {
      const std::vector<std::string> choices = key.choice_list();
      for (std::size_t i = 0; i < choices.size(); ++i) {
        if (choices[i] == text) {
          out.choice = static_cast<int>(i);
          return true;
        }
      }
      why = fmt::format("{} = '{}' is not one of: {}", key.path, text, fmt::join(choices, ", "));
      return false;
    }
    case ArchKeyType::integer: {
      if (!parse_int(text, out.integer)) {
        // 1e3 or 128.0 name an integer too; 2.5 and 'abc' do not.
        double d = 0;
        if (!parse_double(text, d) || d != std::floor(d)) {
          why = fmt::format("{} expects an integer, got '{}'", key.path, text);
          return false;
        }
        if (d < key.min || d > key.max) return out_of_range(text);
        out.integer = static_cast<std::int64_t>(d);
      }
      out.number = static_cast<double>(out.integer);
      if (out.number < key.min || out.number > key.max) return out_of_range(text);
      if (key.power_of_two && (out.integer & (out.integer - 1)) != 0) {
        why = fmt::format("{} = {} must be a power of 2", key.path, text);
        return false;
      }
      return true;
    }
    case ArchKeyType::number:
      if (!parse_double(text, out.number)) {
        why = fmt::format("{} expects a number, got '{}'", key.path, text);
        return false;
      }
      if (out.number < key.min || out.number > key.max) return out_of_range(text);
      return true;
  }
  return false;
}

std::string arch_type_name(const ArchKey& key) {
  switch (key.type) {
    case ArchKeyType::integer: return "integer";
    case ArchKeyType::number: return "number";
    case ArchKeyType::choice: return fmt::format("one of {}", fmt::join(key.choice_list(), ", "));
    case ArchKeyType::text: return "text";
  }
  return "?";
}

std::string arch_range_text(const ArchKey& key) {
  if (key.type != ArchKeyType::integer && key.type != ArchKeyType::number) return "";
  std::string r = fmt::format("[{}, {}]", bound_text(key, key.min), bound_text(key, key.max));
  if (key.power_of_two) r += ", power of 2";
  return r;
}

}  // namespace tasim
