#include "sim/driver/simulate.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "models/chip.h"
#include "models/collective_hub.h"
#include "arch/cost_model.h"
#include "arch/interconnect.h"
#include "models/systemc_reports.h"
#include "sim/driver/collective_trace.h"
#include "sim/report/op_profile.h"
#include "sim/driver/trace_observer.h"

namespace tasim {

namespace {

bool has_collectives(const isa::Program& program) {
  return std::any_of(program.instructions.begin(), program.instructions.end(),
                     [](const isa::Instruction& i) {
                       return isa::is_chip_to_chip(i.op);
                     });
}

// The chips of a system as one: the step ends with the last chip; work, traffic and units add up.
RunStats combine(const std::vector<RunStats>& chips) {
  RunStats all = chips.front();
  for (std::size_t c = 1; c < chips.size(); ++c) {
    const RunStats& s = chips[c];
    all.cycles = std::max(all.cycles, s.cycles);
    all.instructions += s.instructions;
    all.flops += s.flops;
    all.hbm_bytes_read += s.hbm_bytes_read;
    all.hbm_bytes_written += s.hbm_bytes_written;
    all.hbm_peak_bytes_per_cycle += s.hbm_peak_bytes_per_cycle;
    all.sram_bytes_accessed += s.sram_bytes_accessed;
    all.activity += s.activity;
    all.sram_peak_bytes.insert(all.sram_peak_bytes.end(), s.sram_peak_bytes.begin(), s.sram_peak_bytes.end());
    all.units.insert(all.units.end(), s.units.begin(), s.units.end());
  }
  // Layers: each chip's figures add up, its units' counters in the order of `units`.
  std::size_t layers = 0;
  for (const RunStats& s : chips) layers = std::max(layers, s.layers.size());
  all.layers.assign(layers, LayerWork{});
  for (std::size_t l = 0; l < layers; ++l) {
    LayerWork& w = all.layers[l];
    for (const RunStats& s : chips) {
      if (l < s.layers.size() && s.layers[l].seen) {
        const LayerWork& c = s.layers[l];
        w.seen = true;
        w.end_cycle = std::max(w.end_cycle, c.end_cycle);
        w.instructions += c.instructions;
        w.activity += c.activity;
        w.units.insert(w.units.end(), c.units.begin(), c.units.end());
      } else {
        w.units.insert(w.units.end(), s.units.size(), UnitCounters{});
      }
    }
  }
  all.chips = static_cast<int>(chips.size());
  return all;
}

}  // namespace

std::vector<std::string> find_system_problems(const ChipConfig& chip, const std::vector<isa::Program>& programs) {
  if (programs.empty()) throw Error("internal: no program to check");
  const bool multi = chip.system.chips > 1 && has_collectives(programs.front());
  const int chips = multi ? chip.system.chips : 1;
  const bool shared = programs.size() == 1;
  for (int c = 0; c < chips; ++c) {
    isa::TargetLimits limits = target_limits(chip);
    limits.own_chip = c;
    std::vector<std::string> problems = isa::find_problems(programs[shared ? 0 : static_cast<std::size_t>(c)], limits);
    if (problems.empty()) continue;
    if (shared && c > 0) {
      for (std::string& p : problems) p = fmt::format("on chip {}, which runs the same program: {}", c, p);
    }
    return problems;
  }
  return {};
}

RunStats simulate(const ChipConfig& chip, const isa::Program& program, const SimOptions& options,
                  ExecutionObserver* extra) {
  return simulate(chip, std::vector<isa::Program>{program}, options, extra);
}

RunStats simulate(const ChipConfig& chip, const std::vector<isa::Program>& programs, const SimOptions& options,
                  ExecutionObserver* extra) {
  if (programs.empty()) throw Error("internal: no program to simulate");
  // A program with chip-to-chip instructions runs on every chip of the system (the same program
  // on each: tensor-parallel steps are symmetric, unless one program per chip is given); one
  // without them on a single chip.
  const bool multi = chip.system.chips > 1 && has_collectives(programs.front());
  const int chips = multi ? chip.system.chips : 1;
  if (programs.size() > 1 && static_cast<int>(programs.size()) != chips) {
    throw Error(fmt::format("internal: {} programs for {} chips", programs.size(), chips));
  }
  if (options.validate_programs) isa::throw_problems(find_system_problems(chip, programs));
  // Each chip reads its program (or the shared one) through its own source: no copy.
  std::vector<std::unique_ptr<isa::ProgramSource>> owned;
  std::vector<isa::InstructionSource*> sources;
  for (int c = 0; c < chips; ++c) {
    owned.push_back(std::make_unique<isa::ProgramSource>(programs.size() > 1 ? programs[static_cast<std::size_t>(c)]
                                                                             : programs.front()));
    sources.push_back(owned.back().get());
  }
  return simulate_sources(chip, sources, chips, options, extra);
}

RunStats simulate_sources(const ChipConfig& chip, const std::vector<isa::InstructionSource*>& given, int chips,
                          const SimOptions& options, ExecutionObserver* extra) {
  if (given.empty() || chips < 1) throw Error("internal: nothing to simulate");
  if (given.size() > 1 && static_cast<int>(given.size()) != chips) {
    throw Error(fmt::format("internal: {} instruction sources for {} chips", given.size(), chips));
  }
  const bool multi = chips > 1;
  // One source for several chips: each reads it at its own pace.
  std::unique_ptr<isa::SharedInstructionSource> shared;
  std::vector<isa::InstructionSource*> sources = given;
  if (given.size() == 1 && chips > 1) {
    shared = std::make_unique<isa::SharedInstructionSource>(*given.front(), chips);
    sources.clear();
    for (int c = 0; c < chips; ++c) sources.push_back(&shared->reader(c));
  }
  install_systemc_report_handler();

  std::unique_ptr<trace::TraceWriter> writer;
  std::vector<std::unique_ptr<TraceObserver>> tracers;
  std::vector<std::unique_ptr<ObserverFanout>> fanouts;
  std::unique_ptr<Interconnect> net;
  std::unique_ptr<CollectiveEngine> engine;
  std::unique_ptr<CollectiveHub> hub;
  CollectiveTraceRecorder link_recorder;  // link traffic for the trace (multi-chip runs)
  std::vector<std::unique_ptr<Chip>> models;
  try {
    if (multi) {
      // The chips' time base: one tick of the links is one chip cycle.
      net = std::make_unique<Interconnect>(chip.system, chip.clock_ghz);
      engine = std::make_unique<CollectiveEngine>("collectives", *net);
      hub = std::make_unique<CollectiveHub>(*engine, net->ring_order());
    }
    if (!options.trace_path.empty()) {
      writer = trace::open_trace(options.trace_path, trace::parse_trace_format(options.trace_format));
      if (engine) engine->set_observer(&link_recorder);
    }
    for (int c = 0; c < chips; ++c) {
      ChipOptions chip_options;
      chip_options.ideal_memory = options.ideal_memory;
      chip_options.chip_index = c;
      chip_options.unit_prefix = multi ? fmt::format("chip{}.", c) : "";
      chip_options.collectives = hub.get();
      if (options.account_layers) chip_options.layer_of_tag = [](const std::string& tag) { return layer_index_of_tag(tag); };
      models.push_back(std::make_unique<Chip>(fmt::format("chip{}", c).c_str(), chip, *sources[static_cast<std::size_t>(c)],
                                              chip_options, nullptr));
      auto fanout = std::make_unique<ObserverFanout>();
      if (writer) {
        tracers.push_back(std::make_unique<TraceObserver>(*writer, chip, models.back()->source(), models.back()->units(),
                                                          options.counter_window_cycles, c, options.trace_note,
                                                          options.trace_instructions));
        fanout->add(tracers.back().get());
      }
      if (c == 0) fanout->add(extra);  // per-op profiles: chips run the same program
      models.back()->set_observer(fanout.get());
      fanouts.push_back(std::move(fanout));
    }
    run_simulation();
  } catch (const sc_core::sc_report& report) {  // from elaboration
    throw error_from_report(report);
  }
  std::string deadlock;
  for (const auto& m : models) {
    if (!m->finished()) deadlock += (deadlock.empty() ? "" : "\n") + m->deadlock_report();
  }
  if (!deadlock.empty()) throw Error(deadlock);
  std::vector<RunStats> per_chip;
  for (const auto& m : models) per_chip.push_back(m->stats());
  RunStats stats = combine(per_chip);
  if (net) stats.activity.link_bytes = net->link_bytes();
  if (engine && options.account_layers) {
    // Each collective's link bytes to its layer, once (every chip in it ran its instruction).
    std::vector<bool> counted(static_cast<std::size_t>(engine->collectives()), false);
    for (const auto& m : models) {
      for (const auto& [id, layer] : m->collective_layers()) {
        if (counted[static_cast<std::size_t>(id)] || static_cast<std::size_t>(layer) >= stats.layers.size()) continue;
        counted[static_cast<std::size_t>(id)] = true;
        stats.layers[static_cast<std::size_t>(layer)].activity.link_bytes += engine->link_bytes(id);
      }
    }
  }
  if (!tracers.empty() && engine) {
    // Link energy in the power counters: each hop for the chip driving its link, over its
    // service time (the engine counts cycles). The same price as the report's energy_j.
    link_recorder.for_each_hop([&](int link, double begin, double end, std::uint64_t bytes) {
      Activity hop;
      hop.link_bytes = bytes;
      const int owner = net->links()[static_cast<std::size_t>(link)].owner_chip();
      tracers[static_cast<std::size_t>(owner)]->add_energy(begin, end, dynamic_energy(chip.cost, hop).total_j());
    });
  }
  for (auto& t : tracers) t->finish(stats.cycles);
  if (writer && engine && !link_recorder.empty()) {
    // Links, transfers and flow arrows under each chip's process; the engine counts cycles.
    std::vector<CollectiveSpec> specs;
    std::vector<CollectiveSchedule> schedules;
    for (int id = 0; id < engine->collectives(); ++id) {
      specs.push_back(engine->spec(id));
      schedules.push_back(build_schedule(specs.back()));
    }
    std::vector<trace::TrackId> processes;
    for (const auto& t : tracers) processes.push_back(t->process());
    link_recorder.write(*writer, *net, specs, schedules, processes, 1.0 / chip.clock_ghz);
  }
  if (writer) writer->close();
  return stats;
}

}  // namespace tasim
