// One chip as SystemC modules: a sequencer issuing the program in order into per-unit queues,
// and per core the units of the unit kinds table (arch/unit_model.h: DMA engines, matrix units,
// vector units; one SC_THREAD each) sharing the core's SRAM, all sharing HBM (a memory model
// chosen by hbm.model). Event-driven: no clock; each unit's model computes how long its
// instruction takes and the chip waits exactly that. The chip itself only sequences, queues and
// synchronizes: semaphores, barriers and chip-to-chip transfers (through the CollectiveHub).
// One simulated cycle is 1 ns of SystemC time.
#pragma once

#ifndef SC_INCLUDE_DYNAMIC_PROCESSES
#define SC_INCLUDE_DYNAMIC_PROCESSES
#endif
#include <systemc>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <map>

#include "arch/arch_config.h"
#include "arch/interconnect.h"
#include "arch/last_level_cache.h"
#include "arch/memory_model.h"
#include "arch/observer.h"
#include "arch/run_stats.h"
#include "arch/sram.h"
#include "arch/unit_model.h"
#include "isa/instruction_source.h"
#include "isa/isa.h"

namespace tasim {

class CollectiveHub;
struct InstructionSite;

struct ChipOptions {
  bool ideal_memory = false;  // SRAM and HBM with unlimited bandwidth and no latency
  int chip_index = 0;         // in a multi-chip system
  std::string unit_prefix;    // prepended to unit names ("chip3.") in a multi-chip system
  CollectiveHub* collectives = nullptr;  // multi-chip: runs coll.* instructions over the links
  // Models in place of the unit kinds table's, by kind (studies and tests of other unit designs).
  std::map<isa::UnitKind, UnitModelFactory> unit_models;
  // Layer accounting (layer reuse): the model layer of an op tag's name, -1 outside the layers.
  // Empty: none, and no cost per instruction.
  std::function<int(const std::string&)> layer_of_tag;
};

class Chip : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Chip);
  Chip(sc_core::sc_module_name name, const ChipConfig& config, const isa::Program& program,
       const ChipOptions& options, ExecutionObserver* observer);
  // The instructions from a source, taken a chunk at a time as the sequencer issues them (a
  // program compiled as it runs). The source must outlive the simulation.
  Chip(sc_core::sc_module_name name, const ChipConfig& config, isa::InstructionSource& source,
       const ChipOptions& options, ExecutionObserver* observer);

  // Unit names/kinds in index order (valid right after construction).
  const std::vector<UnitStats>& units() const { return unit_stats_; }
  const isa::InstructionSource& source() const { return *source_; }
  // After sc_start() returned: true when every unit drained and the sequencer reached the end.
  bool finished() const;
  // Which unit waits on what, one line each (empty when finished()).
  std::string deadlock_report() const;
  RunStats stats() const;  // with layer accounting: its layers too (link bytes left to the driver)
  // With layer accounting: the engine id and layer of every chip-to-chip instruction it ran.
  const std::vector<std::pair<int, int>>& collective_layers() const { return collective_layers_; }
  void set_observer(ExecutionObserver* observer) { observer_ = observer; }

 private:
  struct QueueEntry {
    isa::Instruction inst;  // a copy: the source's chunk may be gone by the time it runs
    std::uint64_t issue_cycle;
  };
  enum class UnitState { idle, running, waiting_semaphore, waiting_barrier, waiting_collective, done };
  struct Unit {
    isa::UnitKind kind;
    int core;
    int index;
    int queue_depth;
    std::unique_ptr<UnitModel> model;
    std::deque<QueueEntry> queue;
    sc_core::sc_event pushed;
    sc_core::sc_event popped;
    UnitState state = UnitState::idle;
    const isa::Instruction* current = nullptr;
  };

  void sequencer_thread();
  void unit_thread(int u);
  Activity execute(int u, const isa::Instruction& inst);  // returns what it did
  void account_layer(int u, const isa::Instruction& inst, const Activity& work);
  int layer_of(std::uint32_t tag);  // layer_of_tag of the tag's name, cached
  // The ways an instruction runs, by its category (execute dispatches).
  void run_timed(int u, const isa::Instruction& inst, std::uint64_t start, Activity& work);
  void run_chip_to_chip(int u, const isa::Instruction& inst, std::uint64_t start);
  void run_semaphore(int u, const isa::Instruction& inst, std::uint64_t start);
  // kernel: a kernel boundary, released `release_cycles` after the last unit arrives, plus the
  // time the chip holds its power limit over the kernel that ended there.
  void run_barrier(int u, std::uint64_t start, bool kernel, std::uint64_t release_cycles);
  // Cycles the stretch of work from stretch_start_cycle_ to `end` must be drawn out by for the
  // chip's average power over it to stay within cost.power_limit_w (0 without a limit).
  std::uint64_t power_hold_cycles(std::uint64_t end) const;
  int unit_index(int core, isa::UnitKind kind, int index) const;
  int target_unit(const isa::Instruction& inst) const;
  std::uint64_t now_cycle() const;
  void wait_cycles(std::uint64_t cycles);
  std::string where(const isa::Instruction& inst) const;
  InstructionSite site(const isa::Instruction& inst) const;

  // Both public constructors: a source it owns (a whole program's) or one it is given.
  Chip(sc_core::sc_module_name name, const ChipConfig& config, std::unique_ptr<isa::ProgramSource> owned,
       isa::InstructionSource* source, const ChipOptions& options, ExecutionObserver* observer);
  ChipConfig config_;
  std::unique_ptr<isa::ProgramSource> owned_source_;  // for a whole program
  isa::InstructionSource* source_;
  ChipOptions options_;
  ExecutionObserver* observer_;
  sc_core::sc_time cycle_;

  std::unique_ptr<MemoryModel> hbm_;  // what the DMA engines reach: the LLC when there is one, else HBM
  MemoryModel* dram_ = nullptr;       // the HBM model itself (behind the LLC)
  LastLevelCache* llc_ = nullptr;
  std::vector<Sram> sram_;  // per core
  std::unique_ptr<Interconnect> noc_;  // between cores (none for a single core)
  std::unique_ptr<ChipResources> resources_;  // what the unit models share
  std::deque<Unit> units_;  // deque: Units hold sc_events, which cannot move
  std::vector<UnitStats> unit_stats_;
  int units_per_core_ = 0;
  std::map<isa::UnitKind, int> kind_offset_;  // first unit of each kind within a core

  std::vector<std::uint64_t> sem_count_;
  std::unique_ptr<sc_core::sc_event[]> sem_event_;
  int barrier_arrived_ = 0;
  std::uint64_t barrier_generation_ = 0;
  sc_core::sc_event barrier_event_;

  bool sequencer_done_ = false;
  int sequencer_blocked_on_ = -1;  // unit whose full queue blocks the sequencer
  isa::Instruction sequencer_inst_;  // the instruction the sequencer is issuing
  bool sequencer_has_inst_ = false;
  std::uint64_t last_end_cycle_ = 0;
  std::uint64_t instructions_ = 0;
  Activity activity_;  // what the units did, for the energy model
  // The power limit is held over each kernel (between kernel boundaries) and over the work after
  // the last one: where the current stretch began, and the dynamic energy burnt before it.
  std::uint64_t stretch_start_cycle_ = 0;
  double stretch_start_j_ = 0.0;
  std::uint64_t barrier_hold_cycles_ = 0;  // of the barrier being released
  std::uint64_t kernels_ = 1;  // kernel boundaries released + 1 (software.host_issue_ns)
  std::vector<std::uint64_t> sram_peak_;
  // Layer accounting (ChipOptions::layer_of_tag).
  std::vector<LayerWork> layers_;
  std::vector<int> tag_layers_;  // by tag, as far as the tags seen so far
  std::vector<UnitCounters> counted_;  // per unit: its counters when last accounted
  std::vector<std::pair<int, int>> collective_layers_;
};

}  // namespace tasim
