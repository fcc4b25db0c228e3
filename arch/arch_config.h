// Typed architecture description of one chip. Filled and validated by sim/config (from YAML);
// consumed by models/ (which never parses YAML). Field names carry their unit.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "arch/vector_op_costs.h"
#include "isa/isa.h"

namespace tasim {

enum class Dataflow { ws, os, is };  // weight-, output-, input-stationary (SCALE-Sim's names)

struct MatrixUnitConfig {
  int count = 1;            // matrix units per core
  int rows = 128;           // systolic array rows (PEs)
  int cols = 128;           // systolic array columns (PEs)
  Dataflow dataflow = Dataflow::ws;
  // The stationary operand (ws: weights, is: inputs) is double-buffered in the PEs: the next
  // fold's tile loads while the current one streams. false = SCALE-Sim v2's timing exactly.
  bool double_buffered = false;
  // Accumulators in the unit's registers (a GPU's tensor cores: Hopper's wgmma accumulates into
  // registers) instead of in SRAM: a matmul reads and writes no C through an SRAM port while it
  // accumulates; C reaches SRAM once per tile (charged to its first k-step, acc = 0).
  bool register_accumulators = false;
  // MACs one PE completes per cycle, by input dtype (index = isa::DType). A factor f > 1 models
  // dot-product PEs that consume f elements of the reduction dimension (K) per cycle. 0: the
  // array has no datapath for that dtype (fp4 by default): weights that want it are dequantized
  // to the widest dtype it has (workloads/weight_format.h matmul_dtype).
  std::array<int, isa::kNumDTypes> macs_per_pe_per_cycle{1, 2, 2, 0};
};

struct VectorUnitConfig {
  int count = 1;                    // vector units per core
  int lanes = 128;                  // elements per cycle at 1 cycle/element
  int pipeline_latency_cycles = 8;  // fill latency paid once per instruction
  // Cycles each lane spends per element, by vector op (index = isa::vector_op_index).
  std::array<double, isa::kNumVectorOps> cycles_per_element = default_vector_cycles();
};

struct SramConfig {
  std::uint64_t capacity_bytes = 8ull << 20;  // per core
  int banks = 16;
  int ports = 2;                      // concurrent accesses (shared by the units of the core)
  int bytes_per_cycle_per_port = 256;
};

struct DmaConfig {
  int engines = 2;            // per core
  int setup_cycles = 32;      // descriptor processing per transfer
  int queue_depth = 16;       // instructions the sequencer may queue per unit
};

struct HbmConfig {
  std::string model = "bandwidth";  // the memory model timing transfers (arch/memory_model.h)
  int stacks = 1;
  int channels_per_stack = 8;
  double gbps_per_channel = 32.0;     // GB/s (1e9 bytes/s) per channel, one direction
  double latency_ns = 100.0;          // access latency, paid once per transfer per channel
  std::uint64_t interleave_bytes = 256;  // consecutive addresses rotate across channels in this unit
  std::uint64_t capacity_bytes = 16ull << 30;  // whole chip
  // DRAM timing losses (arch/hbm_efficiency.h); the zero defaults leave the pin bandwidth whole.
  double refresh_interval_ns = 3900.0;    // tREFI: one all-bank refresh per interval
  double refresh_ns = 0.0;                // tRFCab: the channel serves nothing while it refreshes
  double turnaround_ns = 0.0;             // bus idle per write batch: read->write plus write->read
  std::uint64_t write_batch_bytes = 8192; // writes a channel's controller drains per turnaround
  std::uint64_t page_bytes = 2048;        // bytes one activate opens per channel (its pseudo-channels' rows)
  double activate_interval_ns = 0.0;      // least time between activates in one channel (tRRD, tFAW/4)

  int channels() const { return stacks * channels_per_stack; }
  double peak_gbps() const { return gbps_per_channel * channels(); }
};

// A last-level cache shared by the chip's cores in front of HBM (arch/last_level_cache.h); a
// capacity of 0, the default, means none: the cores' DMA engines reach HBM directly.
struct LlcConfig {
  std::uint64_t capacity_bytes = 0;
  double bandwidth_gbps = 0.0;  // GB/s (1e9 bytes/s) the cache serves hits at, all cores together
  double latency_ns = 0.0;  // a hit's latency beyond its bytes at that bandwidth

  bool present() const { return capacity_bytes > 0; }
};

// Chip-to-chip interconnect of a multi-chip system (a server of `chips` chips).
// mesh2d (a grid without wraparound) is for the on-chip network between cores.
enum class Topology { ring, torus2d, fully_connected, switched, mesh2d };

struct LinkConfig {
  double gbps_per_direction = 100.0;  // GB/s (1e9 bytes/s) of one link, one direction
  double latency_ns = 500.0;          // per hop: serialization start to first byte at the peer
  int ports_per_chip = 2;             // links a chip can drive (ring 2, torus2d 4, fully connected chips-1)
};

struct SwitchConfig {
  double gbps_per_port = 450.0;  // GB/s each chip's port to the switch, one direction
  double latency_ns = 500.0;     // chip -> switch -> chip, first byte
};

struct SystemConfig {
  int chips = 1;
  Topology topology = Topology::ring;
  int torus_rows = 0;  // torus2d: rows x (chips / rows); 0 = as square as chips allows
  LinkConfig link;
  SwitchConfig switch_;  // topology switched
};

// On-chip network between the cores of a chip: what a dma.copy into another core's SRAM crosses.
// crossbar: each core one port in and one out at gbps_per_link, non-blocking inside; mesh: a
// rows x cols grid of links (no wraparound), row-then-column routing, latency per hop.
enum class NocTopology { crossbar, mesh };
struct NocConfig {
  NocTopology topology = NocTopology::crossbar;
  double gbps_per_link = 256.0;  // GB/s per direction of one port (crossbar) or link (mesh)
  double latency_ns = 20.0;      // crossbar: core to core; mesh: per hop
  int mesh_rows = 0;             // mesh: rows x (cores / rows); 0 = as square as cores allows

  // The same network as a system of "chips" (cores) for arch/interconnect.
  SystemConfig as_system(int cores) const {
    SystemConfig s;
    s.chips = cores;
    s.topology = topology == NocTopology::crossbar ? Topology::switched : Topology::mesh2d;
    s.torus_rows = mesh_rows;
    s.link.gbps_per_direction = gbps_per_link;
    s.link.latency_ns = latency_ns;
    s.link.ports_per_chip = 4;
    s.switch_.gbps_per_port = gbps_per_link;
    s.switch_.latency_ns = latency_ns;
    return s;
  }
};

// Coefficients of the area and energy model (arch/cost_model.h). Defaults are for a 7 nm
// process; docs/cost.md gives each one's public source and how it was scaled.
// What the software stack costs beyond the hardware, for GPU-like presets whose programs run as
// kernels (docs/validation.md measures it on an H200). Zero, the default, models a compiled
// program with no kernel boundaries: what the ASIC presets describe.
struct SoftwareConfig {
  // Each barrier is a kernel boundary: every unit resumes this long after the last one reaches
  // it (launch, prologue and tail of a dependent kernel). With it set, the step compiler puts a
  // barrier between ops, so ops no longer overlap (one op = one kernel).
  double kernel_boundary_ns = 0.0;
  // Row ops run as PyTorch eager runs them: each elementwise step its own kernel, reading its
  // inputs from HBM and writing its result back (workloads/lowering/lower_rows.cpp eager_passes).
  bool unfused_elementwise = false;
  // The host issues kernels no faster than one per this long (PyTorch eager: Python, dispatch and
  // the launch), so a run of N kernels (N - 1 kernel boundaries, or one without them) lasts at
  // least N x this. 0: no host bound (a compiled program, or a step launched as one CUDA graph).
  double host_issue_ns = 0.0;

  bool kernel_boundaries() const { return kernel_boundary_ns > 0; }
};

struct CostConfig {
  double process_nm = 7.0;               // the node the coefficients describe (informational)
  // Area of one MAC of a PE's datapath for each input dtype (multiplier, accumulator share,
  // registers). A PE is as large as its widest need: max over dtypes of
  // core.matrix.macs_per_pe_per_cycle x this (arch/cost_model.h pe_area_um2).
  std::array<double, isa::kNumDTypes> mac_area_um2{400.0, 175.0, 50.0, 15.0};
  // Energy of one multiply-accumulate, by input dtype (index = isa::DType).
  std::array<double, isa::kNumDTypes> pj_per_mac{0.6, 0.25, 0.1, 0.05};
  double vector_lane_area_um2 = 400.0;   // one vector lane (fp32 FMA datapath and registers)
  double vector_pj_per_element = 1.7;    // one element of one vector op (an fp32 FMA)
  double sram_mm2_per_mib = 0.45;        // SRAM macros, periphery included
  double sram_pj_per_byte_read = 0.9;
  double sram_pj_per_byte_written = 1.0;
  double hbm_pj_per_bit = 3.9;           // DRAM core + I/O, per bit read or written
  double hbm_phy_mm2_per_stack = 10.0;   // the HBM PHY and controller on the logic die
  double link_pj_per_bit = 5.0;          // chip-to-chip SerDes, per bit per hop
  double link_phy_mm2_per_gbps = 0.025;  // SerDes area per GB/s of one port's bandwidth, one direction
  double noc_pj_per_bit = 0.5;           // a byte crossing the on-chip network between cores
  double other_area_mm2 = 50.0;          // control, host interface, clocking, pads
  double static_w_per_mm2 = 0.1;         // leakage and always-on power per mm^2 of die
  // Board power the chip holds by lowering its clock (a GPU's power limit); 0: none, the chip
  // runs at clock_ghz whatever it burns (arch/cost_model.h power_limited_seconds).
  double power_limit_w = 0.0;

  bool power_limited() const { return power_limit_w > 0; }
};

struct CoreConfig {
  MatrixUnitConfig matrix;
  VectorUnitConfig vector;
  SramConfig sram;
  DmaConfig dma;
};

struct ChipConfig {
  std::string name = "unnamed";
  double clock_ghz = 1.0;
  int cores = 1;
  int semaphores = 256;       // counting semaphores shared by the chip's units
  int queue_depth = 16;       // per-unit instruction queue depth for matrix/vector units
  CoreConfig core;
  HbmConfig hbm;
  LlcConfig llc;        // shared last-level cache in front of HBM (none by default)
  NocConfig noc;        // between this chip's cores
  SystemConfig system;  // chips = 1: a single chip, no links
  CostConfig cost;      // area and energy coefficients
  SoftwareConfig software;  // kernel boundaries (GPU-like presets); none by default

  double cycle_ns() const { return 1.0 / clock_ghz; }
};

// Limits the ISA validator checks a program against.
inline isa::TargetLimits target_limits(const ChipConfig& chip) {
  isa::TargetLimits limits;
  limits.chips = chip.system.chips;
  limits.cores = chip.cores;
  limits.dma_engines = chip.core.dma.engines;
  limits.mxus = chip.core.matrix.count;
  limits.vpus = chip.core.vector.count;
  limits.semaphores = chip.semaphores;
  limits.sram_bytes = chip.core.sram.capacity_bytes;
  limits.hbm_bytes = chip.hbm.capacity_bytes;
  return limits;
}

}  // namespace tasim
