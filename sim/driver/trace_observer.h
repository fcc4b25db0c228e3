// Writes a run as a Perfetto (or Chrome JSON) trace while it happens: a process per chip, a
// thread track per unit with a slice per instruction, and counter tracks for HBM bandwidth,
// matrix utilization, power and SRAM occupancy.
#pragma once

#include <memory>
#include <vector>

#include "arch/arch_config.h"
#include "arch/observer.h"
#include "arch/run_stats.h"
#include "isa/instruction_source.h"
#include "sim/trace/trace_writer.h"

namespace tasim {

class TraceObserver : public ExecutionObserver {
 public:
  // One observer per chip; chips share the writer (a process per chip, pid = chip index + 1, named
  // "chip0 (ARCH)", or "chip0 (ARCH; NOTE)" with a note such as which layers were simulated).
  TraceObserver(trace::TraceWriter& writer, const ChipConfig& chip, const isa::InstructionSource& program,
                const std::vector<UnitStats>& units, std::uint64_t window_cycles, int chip_index = 0,
                const std::string& note = "", bool instruction_slices = true);
  void on_instruction(int unit, const isa::Instruction& inst, std::uint64_t start_cycle,
                      std::uint64_t end_cycle, const Activity& activity) override;
  void on_sram_footprint(int core, std::uint64_t cycle, std::uint64_t bytes) override;
  trace::TrackId process() const { return process_; }
  // Energy spent outside the chip's instructions (a chip-to-chip link hop it drives) over
  // [begin, end) cycles, for the power counter.
  void add_energy(double begin_cycle, double end_cycle, double joules);
  // Closes the open slices and writes the binned counters (the caller closes the writer).
  void finish(std::uint64_t total_cycles);

 private:
  std::uint64_t ns(std::uint64_t cycle) const;
  // Spreads `amount` uniformly over [start, end) into the bins of `bins`.
  void spread(std::vector<double>& bins, std::uint64_t start, std::uint64_t end, double amount);

  // Runs of consecutive instructions of one op (and one layer) on a unit become enclosing
  // slices: layer > op > instruction.
  struct OpenSlices {
    std::uint32_t tag = 0;
    std::string layer;
    bool op_open = false, layer_open = false;
    std::uint64_t last_end_cycle = 0;
  };
  void close_op(std::size_t unit, bool close_layer);

  trace::TraceWriter* writer_;
  const isa::InstructionSource& program_;
  std::vector<std::string> tag_layer_;  // per tag: its layer ("" outside the layers)
  std::vector<OpenSlices> open_;
  ChipConfig chip_;
  std::uint64_t window_cycles_;
  bool instruction_slices_;  // false: layer and op slices only
  trace::TrackId process_;
  std::vector<trace::TrackId> unit_tracks_;
  std::vector<trace::TrackId> sram_tracks_;
  std::vector<std::uint64_t> last_sram_bytes_;
  trace::TrackId hbm_track_;
  trace::TrackId matrix_track_;
  trace::TrackId power_track_;
  std::vector<double> hbm_bytes_bins_;
  std::vector<double> matrix_ideal_cycles_bins_;
  std::vector<double> dynamic_energy_j_bins_;
};

}  // namespace tasim
