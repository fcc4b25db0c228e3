#include "sim/driver/trace_observer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "arch/cost_model.h"
#include "arch/matrix_timing.h"
#include "sim/report/op_profile.h"

namespace tasim {

using isa::Field;
using isa::Opcode;

TraceObserver::TraceObserver(trace::TraceWriter& writer, const ChipConfig& chip, const isa::InstructionSource& program,
                             const std::vector<UnitStats>& units, std::uint64_t window_cycles, int chip_index,
                             const std::string& note, bool instruction_slices)
    : writer_(&writer),
      program_(program),
      open_(units.size()),
      chip_(chip),
      window_cycles_(std::max<std::uint64_t>(1, window_cycles)),
      instruction_slices_(instruction_slices) {
  tag_layer_.push_back("");
  process_ = writer_->add_process(chip_index + 1, fmt::format("chip{} ({}{}{})", chip_index, chip.name,
                                                                note.empty() ? "" : "; ", note));
  for (const auto& u : units) unit_tracks_.push_back(writer_->add_thread(process_, u.name));
  hbm_track_ = writer_->add_counter(process_, "HBM bandwidth", "GB/s");
  matrix_track_ = writer_->add_counter(process_, "Matrix utilization", "fraction");
  power_track_ = writer_->add_counter(process_, "Power", "W");
  for (int c = 0; c < chip.cores; ++c) {
    sram_tracks_.push_back(writer_->add_counter(process_, fmt::format("core{} SRAM occupancy", c), "bytes"));
  }
  last_sram_bytes_.assign(static_cast<std::size_t>(chip.cores), 0);
}

std::uint64_t TraceObserver::ns(std::uint64_t cycle) const {
  return static_cast<std::uint64_t>(std::llround(static_cast<double>(cycle) / chip_.clock_ghz));
}

void TraceObserver::spread(std::vector<double>& bins, std::uint64_t start, std::uint64_t end, double amount) {
  if (end <= start) end = start + 1;
  const std::uint64_t last_bin = (end - 1) / window_cycles_;
  if (bins.size() <= last_bin) bins.resize(last_bin + 1, 0.0);
  const double per_cycle = amount / static_cast<double>(end - start);
  for (std::uint64_t b = start / window_cycles_; b <= last_bin; ++b) {
    const std::uint64_t lo = std::max(start, b * window_cycles_);
    const std::uint64_t hi = std::min(end, (b + 1) * window_cycles_);
    bins[b] += per_cycle * static_cast<double>(hi - lo);
  }
}

void TraceObserver::on_instruction(int unit, const isa::Instruction& inst, std::uint64_t start_cycle,
                                   std::uint64_t end_cycle, const Activity& activity) {
  // Counters, from the activity the chip counted (the same that the report prices).
  const std::uint64_t macs = activity.total_macs();
  if (macs > 0) {
    const auto dtype = static_cast<isa::DType>(inst.get(Field::dtype));
    const double ideal = static_cast<double>(macs) /
                         static_cast<double>(timing::peak_macs_per_cycle(chip_.core.matrix, dtype));
    spread(matrix_ideal_cycles_bins_, start_cycle, end_cycle, ideal);
  }
  const std::uint64_t hbm_bytes = activity.hbm_bytes();
  if (hbm_bytes > 0) spread(hbm_bytes_bins_, start_cycle, end_cycle, static_cast<double>(hbm_bytes));
  const double joules = dynamic_energy(chip_.cost, activity).total_j();
  if (joules > 0) spread(dynamic_energy_j_bins_, start_cycle, end_cycle, joules);
  const trace::TrackId track = unit_tracks_[static_cast<std::size_t>(unit)];
  OpenSlices& open = open_[static_cast<std::size_t>(unit)];
  if (inst.tag != open.tag || (!open.op_open && inst.tag != 0)) {
    // The source's tag table grows as a streamed program is compiled: catch up with it.
    const std::vector<std::string>& tags = program_.tags();
    while (tag_layer_.size() <= tags.size()) tag_layer_.push_back(layer_of_tag(tags[tag_layer_.size() - 1]));
    const std::string& layer = inst.tag < tag_layer_.size() ? tag_layer_[inst.tag] : tag_layer_[0];
    close_op(static_cast<std::size_t>(unit), layer != open.layer);
    open.tag = inst.tag;
    if (!layer.empty() && !open.layer_open) {
      writer_->begin(track, ns(start_cycle), layer);
      open.layer_open = true;
      open.layer = layer;
    }
    if (inst.tag != 0) {
      writer_->begin(track, ns(start_cycle), inst.tag <= tags.size() ? std::string_view(tags[inst.tag - 1]) : "?");
      open.op_open = true;
    }
  }
  if (instruction_slices_) {
    // The slice's arguments: the source line and what the ISA table says describes the instruction.
    trace::Arg args[1 + isa::kMaxInstructionArgs];
    isa::InstructionArg described[isa::kMaxInstructionArgs];
    const int count = isa::instruction_args(inst, described);
    std::size_t n = 0;
    args[n++] = trace::Arg::integer("line", inst.line);
    for (int i = 0; i < count; ++i) {
      const isa::InstructionArg& a = described[i];
      args[n++] = a.text ? trace::Arg::string(a.name, a.text)
                         : trace::Arg::integer(a.name, static_cast<std::int64_t>(a.value));
    }
    writer_->begin(track, ns(start_cycle), isa::mnemonic(inst.op), args, n);
    writer_->end(track, ns(end_cycle));
  }
  open.last_end_cycle = std::max(open.last_end_cycle, end_cycle);
}

void TraceObserver::close_op(std::size_t unit, bool close_layer) {
  OpenSlices& open = open_[unit];
  const trace::TrackId track = unit_tracks_[unit];
  if (open.op_open) writer_->end(track, ns(open.last_end_cycle));
  open.op_open = false;
  if (close_layer && open.layer_open) {
    writer_->end(track, ns(open.last_end_cycle));
    open.layer_open = false;
    open.layer.clear();
  }
}

void TraceObserver::add_energy(double begin_cycle, double end_cycle, double joules) {
  const auto begin = static_cast<std::uint64_t>(std::floor(std::max(0.0, begin_cycle)));
  const auto end = static_cast<std::uint64_t>(std::ceil(std::max(0.0, end_cycle)));
  spread(dynamic_energy_j_bins_, begin, end, joules);
}

void TraceObserver::on_sram_footprint(int core, std::uint64_t cycle, std::uint64_t bytes) {
  if (bytes == last_sram_bytes_[static_cast<std::size_t>(core)]) return;
  last_sram_bytes_[static_cast<std::size_t>(core)] = bytes;
  writer_->counter(sram_tracks_[static_cast<std::size_t>(core)], ns(cycle), static_cast<double>(bytes));
}

void TraceObserver::finish(std::uint64_t total_cycles) {
  for (std::size_t u = 0; u < open_.size(); ++u) close_op(u, true);
  const std::uint64_t bins = (total_cycles + window_cycles_ - 1) / window_cycles_;
  hbm_bytes_bins_.resize(std::max<std::size_t>(hbm_bytes_bins_.size(), bins), 0.0);
  matrix_ideal_cycles_bins_.resize(std::max<std::size_t>(matrix_ideal_cycles_bins_.size(), bins), 0.0);
  dynamic_energy_j_bins_.resize(std::max<std::size_t>(dynamic_energy_j_bins_.size(), bins), 0.0);
  // Power: the window's dynamic energy over its length plus static power; link hops count for the
  // chip that drives the link (add_energy).
  const double static_w = static_power_w(chip_);
  const double mxus = static_cast<double>(chip_.cores) * chip_.core.matrix.count;
  for (std::uint64_t b = 0; b < bins; ++b) {
    const std::uint64_t lo = b * window_cycles_;
    const std::uint64_t width = std::min(total_cycles, lo + window_cycles_) - lo;
    const double seconds = static_cast<double>(width) / (chip_.clock_ghz * 1e9);
    writer_->counter(hbm_track_, ns(lo), hbm_bytes_bins_[b] / seconds / 1e9);
    writer_->counter(matrix_track_, ns(lo), matrix_ideal_cycles_bins_[b] / (static_cast<double>(width) * mxus));
    writer_->counter(power_track_, ns(lo), dynamic_energy_j_bins_[b] / seconds + static_w);
  }
  writer_->counter(hbm_track_, ns(total_cycles), 0.0);
  writer_->counter(matrix_track_, ns(total_cycles), 0.0);
  writer_->counter(power_track_, ns(total_cycles), 0.0);
}

}  // namespace tasim
