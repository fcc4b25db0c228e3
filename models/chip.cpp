#include "models/chip.h"

#include <fmt/format.h>

#include <algorithm>

#include "models/collective_hub.h"
#include "arch/matrix_timing.h"
#include "arch/vector_timing.h"

namespace tasim {

using isa::Field;
using isa::Opcode;
using isa::UnitKind;

const char* stall_reason_name(StallReason r) {
  switch (r) {
    case StallReason::semaphore: return "semaphore";
    case StallReason::barrier: return "barrier";
    case StallReason::sram_port: return "sram_port";
    case StallReason::hbm: return "hbm";
    case StallReason::starved: return "starved";
    case StallReason::noc: return "noc";
  }
  return "?";
}

static const char* kind_prefix(UnitKind k) {
  switch (k) {
    case UnitKind::dma: return "dma";
    case UnitKind::mxu: return "mxu";
    case UnitKind::vpu: return "vpu";
    default: return "seq";
  }
}

Chip::Chip(sc_core::sc_module_name name, const ChipConfig& config, const isa::Program& program,
           const ChipOptions& options, ExecutionObserver* observer)
    : sc_core::sc_module(name),
      config_(config),
      program_(program),
      options_(options),
      observer_(observer),
      cycle_(1.0, sc_core::SC_NS),
      hbm_(config.hbm, config.clock_ghz, options.ideal_memory),
      sem_count_(static_cast<std::size_t>(config.semaphores), 0),
      sem_event_(new sc_core::sc_event[static_cast<std::size_t>(config.semaphores)]),
      sram_peak_(static_cast<std::size_t>(config.cores), 0) {
  const auto& core = config.core;
  units_per_core_ = core.dma.engines + core.matrix.count + core.vector.count;
  if (config.cores > 1 && !options.ideal_memory) {
    noc_ = std::make_unique<Interconnect>(config.noc.as_system(config.cores), config.clock_ghz);  // ticks = cycles
  }
  sram_.reserve(config.cores);
  for (int c = 0; c < config.cores; ++c) {
    sram_.emplace_back(core.sram, options.ideal_memory);
    auto add = [&](UnitKind kind, int count) {
      for (int i = 0; i < count; ++i) {
        Unit& unit = units_.emplace_back();
        unit.kind = kind;
        unit.core = c;
        unit.index = i;
        UnitStats s;
        s.name = fmt::format("{}core{}.{}{}", options.unit_prefix, c, kind_prefix(kind), i);
        s.kind = kind;
        s.core = c;
        s.index = i;
        unit_stats_.push_back(std::move(s));
      }
    };
    add(UnitKind::dma, core.dma.engines);
    add(UnitKind::mxu, core.matrix.count);
    add(UnitKind::vpu, core.vector.count);
  }
  SC_THREAD(sequencer_thread);
  for (int u = 0; u < static_cast<int>(units_.size()); ++u) {
    sc_core::sc_spawn_options opts;
    sc_core::sc_spawn(sc_bind(&Chip::unit_thread, this, u), fmt::format("unit{}", u).c_str(), &opts);
  }
}

int Chip::unit_index(int core, UnitKind kind, int index) const {
  int offset = 0;
  switch (kind) {
    case UnitKind::dma: offset = 0; break;
    case UnitKind::mxu: offset = config_.core.dma.engines; break;
    case UnitKind::vpu: offset = config_.core.dma.engines + config_.core.matrix.count; break;
    default: throw Error("internal: no unit of kind seq");
  }
  return core * units_per_core_ + offset + index;
}

int Chip::target_unit(const isa::Instruction& inst) const {
  const int core = static_cast<int>(inst.get(Field::core));
  switch (isa::opcode_info(inst.op).unit) {
    case UnitKind::dma: return unit_index(core, UnitKind::dma, static_cast<int>(inst.get(Field::engine)));
    case UnitKind::mxu: return unit_index(core, UnitKind::mxu, static_cast<int>(inst.get(Field::mxu)));
    case UnitKind::vpu: return unit_index(core, UnitKind::vpu, static_cast<int>(inst.get(Field::vpu)));
    case UnitKind::sync: {
      const isa::UnitRef ref = isa::decode_unitref(inst.get(Field::unit));
      return unit_index(core, ref.kind, ref.index);
    }
    case UnitKind::seq: break;
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

std::string Chip::where(const isa::Instruction& inst) const {
  return fmt::format("{}:{} ({})", program_.source_name, inst.line, isa::mnemonic(inst.op));
}

void Chip::sequencer_thread() {
  std::uint64_t issue_cycle = 0;  // the sequencer issues at most one instruction per cycle
  const auto& code = program_.instructions;
  for (sequencer_pc_ = 0; sequencer_pc_ < code.size(); ++sequencer_pc_) {
    const isa::Instruction& inst = code[sequencer_pc_];
    if (inst.op == Opcode::halt) break;
    auto push = [&](int u) {
      Unit& unit = units_[u];
      while (static_cast<int>(unit.queue.size()) >=
             (unit.kind == UnitKind::dma ? config_.core.dma.queue_depth : config_.queue_depth)) {
        sequencer_blocked_on_ = u;
        wait(unit.popped);
      }
      sequencer_blocked_on_ = -1;
      issue_cycle = std::max(issue_cycle, now_cycle());
      unit.queue.push_back({&inst, issue_cycle});
      unit.pushed.notify(sc_core::SC_ZERO_TIME);
    };
    if (inst.op == Opcode::barrier) {
      // Every unit's queue gets the barrier, so each unit stops there in program order.
      for (int u = 0; u < static_cast<int>(units_.size()); ++u) push(u);
    } else {
      push(target_unit(inst));
    }
    ++issue_cycle;
  }
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
    unit.current = entry.inst;
    unit.state = UnitState::running;
    execute(u, *entry.inst);
    unit.current = nullptr;
    ++stats.instructions;
    ++instructions_;
  }
  unit.state = UnitState::done;
}

void Chip::execute(int u, const isa::Instruction& inst) {
  Unit& unit = units_[u];
  UnitStats& stats = unit_stats_[u];
  const std::uint64_t start = now_cycle();
  auto stall = [&](StallReason r, std::uint64_t cycles) { stats.stall_cycles[static_cast<int>(r)] += cycles; };
  // Runs a timed instruction: waits until `end` (fractional cycles rounded up) and books the
  // time beyond `unloaded_end` (what it would take with idle memory) as a memory stall.
  auto finish_timed = [&](double end, double unloaded_end, StallReason reason) {
    const std::uint64_t end_cycle = std::max<std::uint64_t>(start, ceil_cycles(end));
    const std::uint64_t unloaded = std::max<std::uint64_t>(start, ceil_cycles(unloaded_end));
    wait_cycles(end_cycle - start);
    stats.busy_cycles += end_cycle - start;
    if (end_cycle > unloaded) stall(reason, end_cycle - unloaded);
  };
  Sram& sram = sram_[unit.core];
  // What the instruction does, from the ISA table: priced by the energy model, timed below, and
  // handed to the observer with the instruction.
  const Activity work = instruction_activity(inst);
  activity_ += work;
  auto footprint = [&](int core, std::uint64_t addr, std::uint64_t bytes) {
    const std::uint64_t fp = sram_[core].mark_written(addr, bytes);
    if (fp > sram_peak_[core]) sram_peak_[core] = fp;
    if (observer_) observer_->on_sram_footprint(core, now_cycle(), fp);
  };

  switch (inst.op) {
    case Opcode::dma_load:
    case Opcode::dma_store: {
      const bool load = inst.op == Opcode::dma_load;
      const std::uint64_t rows = inst.get(Field::rows);
      const std::uint64_t row_bytes = inst.get(Field::row_bytes);
      const std::uint64_t bytes = rows * row_bytes;
      const double begin = static_cast<double>(start + config_.core.dma.setup_cycles);
      const double hbm_done = hbm_.transfer(begin, inst.get(Field::hbm_addr), rows, row_bytes,
                                            inst.get(Field::hbm_stride), /*is_write=*/!load);
      const double sram_done = sram.access(begin, bytes);
      // Unloaded: every channel free, all of them streaming; one SRAM port.
      double unloaded = begin;
      if (!options_.ideal_memory) {
        unloaded = std::max(begin + hbm_.latency_cycles() + bytes / hbm_.peak_bytes_per_cycle(),
                            begin + bytes / static_cast<double>(config_.core.sram.bytes_per_cycle_per_port));
      }
      const bool hbm_later = hbm_done >= sram_done;
      finish_timed(std::max(hbm_done, sram_done), unloaded, hbm_later ? StallReason::hbm : StallReason::sram_port);
      if (load) footprint(unit.core, inst.get(Field::sram_addr), bytes);
      break;
    }
    case Opcode::dma_copy: {
      const std::uint64_t bytes = inst.get(Field::rows) * inst.get(Field::row_bytes);
      const int dst_core = static_cast<int>(inst.get(Field::dst_core));
      const double begin = static_cast<double>(start + config_.core.dma.setup_cycles);
      const double read_done = sram.access(begin, bytes);
      const double write_done = sram_[dst_core].access(begin, bytes);
      double unloaded =
          options_.ideal_memory ? begin : begin + bytes / static_cast<double>(config_.core.sram.bytes_per_cycle_per_port);
      double noc_done = begin;
      if (noc_ && dst_core != unit.core) {
        // Into another core's SRAM: across the on-chip network (its time base is cycles).
        noc_done = noc_->transfer(begin, unit.core, dst_core, bytes);
        const double noc_unloaded = begin + bytes / noc_->link_bytes_per_tick() + noc_->route_latency_ticks(unit.core, dst_core);
        unloaded = std::max(unloaded, noc_unloaded);
      }
      const double sram_done = std::max(read_done, write_done);
      finish_timed(std::max(sram_done, noc_done), unloaded, noc_done > sram_done ? StallReason::noc : StallReason::sram_port);
      footprint(dst_core, inst.get(Field::dst_addr), bytes);
      break;
    }
    case Opcode::dma_send:
    case Opcode::dma_recv: {
      if (!options_.collectives) {
        throw Error(fmt::format("{}: chip-to-chip transfers need a multi-chip system (set system.chips)", where(inst)));
      }
      // The peer's matching recv/send makes one transfer over the links; both wait for it.
      unit.state = UnitState::waiting_collective;
      options_.collectives->point_to_point(options_.chip_index, inst, where(inst));
      stats.busy_cycles += now_cycle() - start;
      break;
    }
    case Opcode::coll_allreduce:
    case Opcode::coll_allgather:
    case Opcode::coll_reducescatter:
    case Opcode::coll_alltoall: {
      if (!options_.collectives) {
        throw Error(fmt::format("{}: collectives need a multi-chip system (set system.chips)", where(inst)));
      }
      unit.state = UnitState::waiting_collective;
      options_.collectives->run(options_.chip_index, inst, where(inst));
      stats.busy_cycles += now_cycle() - start;
      break;
    }
    case Opcode::matmul: {
      const auto dtype = static_cast<isa::DType>(inst.get(Field::dtype));
      const std::uint64_t m = inst.get(Field::m), n = inst.get(Field::n), k = inst.get(Field::k);
      const std::uint64_t compute = timing::matmul_cycles(config_.core.matrix, dtype, m, n, k);
      const std::uint64_t c_bytes = m * n * isa::kAccumulatorBytes;
      const double sram_done = sram.access(static_cast<double>(start), work.sram_bytes());
      const double compute_end = static_cast<double>(start + compute);
      finish_timed(std::max(compute_end, sram_done), compute_end, StallReason::sram_port);
      stats.ideal_compute_cycles +=
          static_cast<double>(m * n * k) / static_cast<double>(timing::peak_macs_per_cycle(config_.core.matrix, dtype));
      footprint(unit.core, inst.get(Field::c_addr), c_bytes);
      break;
    }
    case Opcode::sem_signal: {
      const auto s = inst.get(Field::sem);
      ++sem_count_[s];
      sem_event_[s].notify(sc_core::SC_ZERO_TIME);
      break;
    }
    case Opcode::sem_wait: {
      const auto s = inst.get(Field::sem);
      unit.state = UnitState::waiting_semaphore;
      while (sem_count_[s] == 0) wait(sem_event_[s]);
      --sem_count_[s];
      stall(StallReason::semaphore, now_cycle() - start);
      break;
    }
    case Opcode::barrier: {
      unit.state = UnitState::waiting_barrier;
      const std::uint64_t generation = barrier_generation_;
      if (++barrier_arrived_ == static_cast<int>(units_.size())) {
        barrier_arrived_ = 0;
        ++barrier_generation_;
        barrier_event_.notify(sc_core::SC_ZERO_TIME);
      } else {
        while (barrier_generation_ == generation) wait(barrier_event_);
      }
      stall(StallReason::barrier, now_cycle() - start);
      break;
    }
    case Opcode::halt:
      break;
    default: {
      if (!isa::is_vector_op(inst.op)) throw Error(fmt::format("{}: internal: no unit executes this opcode", where(inst)));
      const std::uint64_t rows = inst.get(Field::rows), cols = inst.get(Field::cols);
      const std::uint64_t compute = timing::vector_op_cycles(config_.core.vector, inst.op, rows, cols);
      const std::uint64_t dst_bytes = work.sram_bytes_written;
      const double sram_done = sram.access(static_cast<double>(start), work.sram_bytes());
      const double compute_end = static_cast<double>(start + compute);
      finish_timed(std::max(compute_end, sram_done), compute_end, StallReason::sram_port);
      footprint(unit.core, inst.get(Field::dst_addr), dst_bytes);
      break;
    }
  }
  const std::uint64_t end = now_cycle();
  last_end_cycle_ = std::max(last_end_cycle_, end);
  if (observer_) observer_->on_instruction(u, inst, start, end, work);
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
  if (!sequencer_done_ && sequencer_pc_ < program_.instructions.size()) {
    const auto& inst = program_.instructions[sequencer_pc_];
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
  s.cycles = last_end_cycle_;
  s.clock_ghz = config_.clock_ghz;
  s.instructions = instructions_;
  s.activity = activity_;
  s.flops = 0;
  for (const std::uint64_t macs : activity_.macs) s.flops += 2 * macs;
  s.hbm_bytes_read = hbm_.bytes_read();
  s.hbm_bytes_written = hbm_.bytes_written();
  s.hbm_peak_bytes_per_cycle = hbm_.peak_bytes_per_cycle();
  for (const auto& sram : sram_) s.sram_bytes_accessed += sram.bytes_accessed();
  s.sram_peak_bytes = sram_peak_;
  s.sram_capacity_bytes = config_.core.sram.capacity_bytes;
  s.units = unit_stats_;
  return s;
}

}  // namespace tasim
