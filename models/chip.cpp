#include "models/chip.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "arch/cost_model.h"
#include "models/collective_hub.h"
#include "models/systemc_reports.h"

namespace tasim {

using isa::Field;
using isa::Opcode;
using isa::UnitKind;

Chip::Chip(sc_core::sc_module_name name, const ChipConfig& config, const isa::Program& program,
           const ChipOptions& options, ExecutionObserver* observer)
    : Chip(name, config, std::make_unique<isa::ProgramSource>(program), nullptr, options, observer) {}

Chip::Chip(sc_core::sc_module_name name, const ChipConfig& config, isa::InstructionSource& source,
           const ChipOptions& options, ExecutionObserver* observer)
    : Chip(name, config, nullptr, &source, options, observer) {}

Chip::Chip(sc_core::sc_module_name name, const ChipConfig& config, std::unique_ptr<isa::ProgramSource> owned,
           isa::InstructionSource* source, const ChipOptions& options, ExecutionObserver* observer)
    : sc_core::sc_module(name),
      config_(config),
      owned_source_(std::move(owned)),
      source_(source ? source : owned_source_.get()),
      options_(options),
      observer_(observer),
      cycle_(1.0, sc_core::SC_NS),
      sem_count_(static_cast<std::size_t>(config.semaphores), 0),
      sem_event_(new sc_core::sc_event[static_cast<std::size_t>(config.semaphores)]),
      sram_peak_(static_cast<std::size_t>(config.cores), 0) {
  // With ideal memory HBM streams without limit; otherwise the architecture's memory model.
  hbm_ = options.ideal_memory ? std::make_unique<IdealMemory>(config.hbm.peak_gbps() / config.clock_ghz)
                              : make_memory_model(config.hbm.model, config.hbm, config.clock_ghz);
  dram_ = hbm_.get();
  if (config.llc.present() && !options.ideal_memory) {
    auto llc = std::make_unique<LastLevelCache>(config.llc, config.clock_ghz, std::move(hbm_));
    llc_ = llc.get();
    hbm_ = std::move(llc);
  }
  if (config.cores > 1 && !options.ideal_memory) {
    noc_ = std::make_unique<Interconnect>(config.noc.as_system(config.cores), config.clock_ghz);  // ticks = cycles
  }
  sram_.reserve(config.cores);
  for (int c = 0; c < config.cores; ++c) sram_.emplace_back(config.core.sram, options.ideal_memory);
  resources_.reset(new ChipResources{config_, options.ideal_memory, *hbm_, sram_, noc_.get()});
  for (const UnitKindInfo& kind : unit_kinds()) {
    kind_offset_[kind.kind] = units_per_core_;
    units_per_core_ += kind.count(config);
  }
  for (int c = 0; c < config.cores; ++c) {
    for (const UnitKindInfo& kind : unit_kinds()) {
      const auto custom = options.unit_models.find(kind.kind);
      const UnitModelFactory& make = custom != options.unit_models.end() ? custom->second : kind.make;
      for (int i = 0; i < kind.count(config); ++i) {
        Unit& unit = units_.emplace_back();
        unit.kind = kind.kind;
        unit.core = c;
        unit.index = i;
        unit.queue_depth = kind.queue_depth(config);
        unit.model = make(*resources_, c, i);
        UnitStats s;
        s.name = fmt::format("{}core{}.{}{}", options.unit_prefix, c, isa::unit_kind_name(kind.kind), i);
        s.kind = kind.kind;
        s.core = c;
        s.index = i;
        unit_stats_.push_back(std::move(s));
      }
    }
  }
  counted_.assign(units_.size(), UnitCounters{});
  // Every process body under guard_process: its errors leave through run_simulation().
  sc_core::sc_spawn([this] { guard_process([this] { sequencer_thread(); }); }, "sequencer_thread");
  for (int u = 0; u < static_cast<int>(units_.size()); ++u) {
    sc_core::sc_spawn_options opts;
    sc_core::sc_spawn([this, u] { guard_process([this, u] { unit_thread(u); }); }, fmt::format("unit{}", u).c_str(),
                      &opts);
  }
}

int Chip::unit_index(int core, UnitKind kind, int index) const {
  const auto offset = kind_offset_.find(kind);
  if (offset == kind_offset_.end()) throw Error("internal: no unit of this kind");
  return core * units_per_core_ + offset->second + index;
}

int Chip::target_unit(const isa::Instruction& inst) const {
  const int core = static_cast<int>(inst.get(Field::core));
  const UnitKind kind = isa::opcode_info(inst.op).unit;
  switch (kind) {
    case UnitKind::dma:
    case UnitKind::mxu:
    case UnitKind::vpu:
      return unit_index(core, kind, static_cast<int>(inst.get(unit_kind_info(kind).index_field)));
    case UnitKind::sync: {
      const isa::UnitRef ref = isa::decode_unitref(inst.get(Field::unit));
      return unit_index(core, ref.kind, ref.index);
    }
    case UnitKind::seq:
      break;
  }
  return -1;
}

std::uint64_t Chip::now_cycle() const {
  // SystemC time resolution is 1 ps and one cycle is 1 ns.
  return sc_core::sc_time_stamp().value() / 1000;
}

void Chip::wait_cycles(std::uint64_t cycles) {
  if (cycles > 0) wait(cycle_ * static_cast<double>(cycles));
}

InstructionSite Chip::site(const isa::Instruction& inst) const { return {&source_->source_name(), inst.line, inst.op}; }

std::string Chip::where(const isa::Instruction& inst) const {
  return fmt::format("{}:{} ({})", source_->source_name(), inst.line, isa::mnemonic(inst.op));
}

void Chip::sequencer_thread() {
  std::uint64_t issue_cycle = 0;  // the sequencer issues at most one instruction per cycle
  const isa::Instruction* chunk = nullptr;
  std::size_t count = 0, i = 0;
  for (;;) {
    if (i == count) {
      i = 0;
      if (!source_->next(chunk, count)) break;
    }
    sequencer_inst_ = chunk[i++];
    sequencer_has_inst_ = true;
    const isa::Instruction& inst = sequencer_inst_;
    if (inst.op == Opcode::halt) break;
    auto push = [&](int u) {
      Unit& unit = units_[u];
      while (static_cast<int>(unit.queue.size()) >= unit.queue_depth) {
        sequencer_blocked_on_ = u;
        wait(unit.popped);
      }
      sequencer_blocked_on_ = -1;
      issue_cycle = std::max(issue_cycle, now_cycle());
      unit.queue.push_back({inst, issue_cycle});
      unit.pushed.notify(sc_core::SC_ZERO_TIME);
    };
    if (isa::is_barrier(inst.op)) {
      // Every unit's queue gets the barrier, so each unit stops there in program order.
      for (int u = 0; u < static_cast<int>(units_.size()); ++u) push(u);
    } else {
      push(target_unit(inst));
    }
    ++issue_cycle;
  }
  sequencer_has_inst_ = false;
  sequencer_done_ = true;
  for (auto& unit : units_) unit.pushed.notify(sc_core::SC_ZERO_TIME);
}

void Chip::unit_thread(int u) {
  Unit& unit = units_[u];
  UnitStats& stats = unit_stats_[u];
  for (;;) {
    if (unit.queue.empty()) {
      if (sequencer_done_) break;
      unit.state = UnitState::idle;
      const std::uint64_t idle_from = now_cycle();
      wait(unit.pushed);
      // Waiting for work counts as starvation only once the unit has had work before: the
      // first wait is the program not having reached it yet.
      if (stats.instructions > 0 && !unit.queue.empty()) {
        stats.stall_cycles[static_cast<int>(StallReason::starved)] += now_cycle() - idle_from;
      }
      continue;
    }
    const QueueEntry entry = unit.queue.front();
    unit.queue.pop_front();
    unit.popped.notify(sc_core::SC_ZERO_TIME);
    if (entry.issue_cycle > now_cycle()) wait_cycles(entry.issue_cycle - now_cycle());
    unit.current = &entry.inst;  // on this thread's stack until it has run
    unit.state = UnitState::running;
    const Activity work = execute(u, entry.inst);
    unit.current = nullptr;
    ++stats.instructions;
    ++instructions_;
    if (options_.layer_of_tag) account_layer(u, entry.inst, work);
  }
  unit.state = UnitState::done;
}

Activity Chip::execute(int u, const isa::Instruction& inst) {
  const std::uint64_t start = now_cycle();
  // What the instruction does, from the ISA table: priced by the energy model, timed by the unit
  // models, and handed to the observer with the instruction.
  Activity work = instruction_activity(inst);  // run_timed takes LLC hits off its HBM bytes
  switch (isa::category_of(inst.op)) {
    case isa::Category::hbm_transfer:
    case isa::Category::sram_copy:
    case isa::Category::matrix:
    case isa::Category::vector:
      run_timed(u, inst, start, work);
      break;
    case isa::Category::chip_transfer:
    case isa::Category::collective:
      run_chip_to_chip(u, inst, start);
      break;
    case isa::Category::semaphore:
      run_semaphore(u, inst, start);
      break;
    case isa::Category::control:
      if (isa::is_barrier(inst.op)) {
        const bool kernel = inst.op == Opcode::kernel_boundary;
        run_barrier(u, start, kernel, kernel ? inst.get(isa::Field::cycles) : 0);
      }
      break;  // halt ends the sequencer's issue; nothing runs it
  }
  activity_ += work;
  const std::uint64_t end = now_cycle();
  last_end_cycle_ = std::max(last_end_cycle_, end);
  if (observer_) observer_->on_instruction(u, inst, start, end, work);
  return work;
}

int Chip::layer_of(std::uint32_t tag) {
  // The source's tag table only grows: extend the cache to it when a newer tag comes.
  const std::vector<std::string>& tags = source_->tags();
  if (tag_layers_.empty()) tag_layers_.push_back(-1);  // tag 0: untagged
  while (tag_layers_.size() <= tag && tag_layers_.size() <= tags.size()) {
    tag_layers_.push_back(options_.layer_of_tag(tags[tag_layers_.size() - 1]));
  }
  return tag < tag_layers_.size() ? tag_layers_[tag] : -1;
}

// The unit's counters since its previous instruction (the wait for this one included) and the
// instruction's work go to its layer.
void Chip::account_layer(int u, const isa::Instruction& inst, const Activity& work) {
  const UnitCounters& now = unit_stats_[static_cast<std::size_t>(u)];
  UnitCounters& before = counted_[static_cast<std::size_t>(u)];
  const int layer = layer_of(inst.tag);
  if (layer >= 0) {
    if (static_cast<std::size_t>(layer) >= layers_.size()) layers_.resize(static_cast<std::size_t>(layer) + 1);
    LayerWork& w = layers_[static_cast<std::size_t>(layer)];
    if (!w.seen) {
      w.seen = true;
      w.units.assign(units_.size(), UnitCounters{});
    }
    w.end_cycle = std::max(w.end_cycle, now_cycle());
    ++w.instructions;
    w.activity += work;
    w.units[static_cast<std::size_t>(u)] += now.since(before);
  }
  before = now;
}

// The unit's model times the instruction; the unit is busy until then (fractional cycles rounded
// up), and the time beyond what it would take with idle memories is a stall of the model's reason.
void Chip::run_timed(int u, const isa::Instruction& inst, std::uint64_t start, Activity& work) {
  UnitStats& stats = unit_stats_[u];
  const std::uint64_t hits_before = llc_ ? llc_->hit_bytes() : 0;
  const UnitTiming t = units_[u].model->execute(inst, start, work);
  // Bytes the last-level cache served never reached HBM: neither HBM traffic nor HBM energy (a
  // hit is priced as nothing beyond the SRAM write the load does anyway).
  if (llc_) {
    const std::uint64_t hit = llc_->hit_bytes() - hits_before;
    work.hbm_bytes_read -= hit;
    work.llc_hit_bytes += hit;
  }
  const std::uint64_t end_cycle = std::max<std::uint64_t>(start, ceil_cycles(t.end_cycle));
  const std::uint64_t unloaded = std::max<std::uint64_t>(start, ceil_cycles(t.unloaded_end_cycle));
  wait_cycles(end_cycle - start);
  stats.busy_cycles += end_cycle - start;
  if (end_cycle > unloaded) stats.stall_cycles[static_cast<int>(t.stall)] += end_cycle - unloaded;
  stats.ideal_compute_cycles += t.ideal_compute_cycles;
  if (t.written_bytes > 0) {
    const auto core = static_cast<std::size_t>(t.written_core);
    const std::uint64_t fp = sram_[core].mark_written(t.written_addr, t.written_bytes);
    if (fp > sram_peak_[core]) sram_peak_[core] = fp;
    if (observer_) observer_->on_sram_footprint(t.written_core, now_cycle(), fp);
  }
}

// dma.send/recv and coll.*: the hub matches the chips' instructions and the collective engine
// times them over the links; the DMA engine is busy until its part is done.
void Chip::run_chip_to_chip(int u, const isa::Instruction& inst, std::uint64_t start) {
  if (!options_.collectives) {
    throw Error(fmt::format("{}: {} needs a multi-chip system (set system.chips)", where(inst),
                            isa::is_collective(inst.op) ? "a collective" : "a chip-to-chip transfer"));
  }
  units_[u].state = UnitState::waiting_collective;
  const int id = isa::is_collective(inst.op) ? options_.collectives->run(options_.chip_index, inst, site(inst))
                                             : options_.collectives->point_to_point(options_.chip_index, inst, site(inst));
  unit_stats_[u].busy_cycles += now_cycle() - start;
  if (options_.layer_of_tag && layer_of(inst.tag) >= 0) collective_layers_.emplace_back(id, layer_of(inst.tag));
}

void Chip::run_semaphore(int u, const isa::Instruction& inst, std::uint64_t start) {
  const auto s = inst.get(Field::sem);
  if (inst.op == Opcode::sem_signal) {
    ++sem_count_[s];
    sem_event_[s].notify(sc_core::SC_ZERO_TIME);
    return;
  }
  units_[u].state = UnitState::waiting_semaphore;
  while (sem_count_[s] == 0) wait(sem_event_[s]);
  --sem_count_[s];
  unit_stats_[u].stall_cycles[static_cast<int>(StallReason::semaphore)] += now_cycle() - start;
}

void Chip::run_barrier(int u, std::uint64_t start, bool kernel, std::uint64_t release_cycles) {
  units_[u].state = UnitState::waiting_barrier;
  const std::uint64_t generation = barrier_generation_;
  if (++barrier_arrived_ == static_cast<int>(units_.size())) {
    barrier_arrived_ = 0;
    ++barrier_generation_;
    // Every unit waits here, so the kernel's work is all done and counted in activity_.
    barrier_hold_cycles_ = kernel ? power_hold_cycles(now_cycle()) : 0;
    const std::uint64_t resume_after = barrier_hold_cycles_ + release_cycles;
    if (kernel) {
      ++kernels_;
      stretch_start_cycle_ = now_cycle() + resume_after;
      stretch_start_j_ = dynamic_energy(config_.cost, activity_).total_j();
    }
    // barrier.kernel: everyone, the last to arrive too, resumes `resume_after` cycles later.
    barrier_event_.notify(cycle_ * static_cast<double>(resume_after));
    wait_cycles(resume_after);
  } else {
    while (barrier_generation_ == generation) wait(barrier_event_);
  }
  UnitCounters& stats = unit_stats_[u];
  stats.stall_cycles[static_cast<int>(StallReason::power)] += barrier_hold_cycles_;
  stats.stall_cycles[static_cast<int>(StallReason::barrier)] += now_cycle() - start - barrier_hold_cycles_;
}

std::uint64_t Chip::power_hold_cycles(std::uint64_t end) const {
  if (!config_.cost.power_limited() || end < stretch_start_cycle_) return 0;
  const double cycle_s = 1e-9 / config_.clock_ghz;
  const double elapsed_s = static_cast<double>(end - stretch_start_cycle_) * cycle_s;
  const double dynamic_j = dynamic_energy(config_.cost, activity_).total_j() - stretch_start_j_;
  const double held_s = power_limited_seconds(config_, dynamic_j, elapsed_s);
  if (held_s <= elapsed_s) return 0;
  return static_cast<std::uint64_t>(std::ceil((held_s - elapsed_s) / cycle_s));
}

bool Chip::finished() const {
  if (!sequencer_done_) return false;
  for (const auto& unit : units_) {
    if (unit.state != UnitState::done) return false;
  }
  return true;
}

std::string Chip::deadlock_report() const {
  if (finished()) return {};
  std::string out = fmt::format("deadlock at cycle {}: no unit can make progress with instructions pending\n",
                                now_cycle());
  for (std::size_t u = 0; u < units_.size(); ++u) {
    const Unit& unit = units_[u];
    const std::string& name = unit_stats_[u].name;
    switch (unit.state) {
      case UnitState::waiting_semaphore: {
        const auto s = unit.current->get(Field::sem);
        out += fmt::format("  {} waits on semaphore {} (count {}) at {}; {} more queued\n", name, s, sem_count_[s],
                           where(*unit.current), unit.queue.size());
        break;
      }
      case UnitState::waiting_barrier:
        out += fmt::format("  {} waits at barrier {} ({} of {} units arrived); {} more queued\n", name,
                           where(*unit.current), barrier_arrived_, units_.size(), unit.queue.size());
        break;
      case UnitState::waiting_collective: {
        const std::string what = options_.collectives->describe_waiting(options_.chip_index);
        out += fmt::format("  {} waits in {} at {}\n", name,
                           what.empty() ? std::string("a chip-to-chip transfer (its peer has not joined)") : what,
                           where(*unit.current));
        break;
      }
      case UnitState::idle:
        if (!sequencer_done_) out += fmt::format("  {} idle, waiting for the sequencer\n", name);
        break;
      default:
        break;
    }
  }
  if (!sequencer_done_ && sequencer_has_inst_) {
    const auto& inst = sequencer_inst_;
    if (sequencer_blocked_on_ >= 0) {
      out += fmt::format("  sequencer blocked issuing {}: queue of {} is full ({} entries)\n", where(inst),
                         unit_stats_[sequencer_blocked_on_].name, units_[sequencer_blocked_on_].queue.size());
    } else {
      out += fmt::format("  sequencer stopped at {}\n", where(inst));
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

RunStats Chip::stats() const {
  RunStats s;
  // The work after the last kernel boundary (all of it, without one) holds the limit too.
  const std::uint64_t tail_hold = power_hold_cycles(last_end_cycle_);
  s.cycles = last_end_cycle_ + tail_hold;
  s.clock_ghz = config_.clock_ghz;
  s.instructions = instructions_;
  s.activity = activity_;
  s.flops = 0;
  for (const std::uint64_t macs : activity_.macs) s.flops += 2 * macs;
  // HBM traffic is what reaches the DRAM: behind the last-level cache when there is one.
  s.hbm_bytes_read = dram_->bytes_read();
  s.hbm_bytes_written = dram_->bytes_written();
  s.hbm_peak_bytes_per_cycle = dram_->peak_bytes_per_cycle();
  for (const auto& sram : sram_) s.sram_bytes_accessed += sram.bytes_accessed();
  s.sram_peak_bytes = sram_peak_;
  s.sram_capacity_bytes = config_.core.sram.capacity_bytes;
  s.units = unit_stats_;
  for (UnitStats& u : s.units) u.stall_cycles[static_cast<int>(StallReason::power)] += tail_hold;
  hold_host_issue(config_, s, kernels_);  // the host issues the kernels no faster than it can
  s.layers = layers_;
  for (LayerWork& w : s.layers) {
    if (!w.seen) w.units.assign(units_.size(), UnitCounters{});
  }
  return s;
}

}  // namespace tasim
