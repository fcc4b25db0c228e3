#include "sim/simulate.h"

#include <fmt/format.h>

#include <memory>

#include "models/chip.h"
#include "models/systemc_reports.h"
#include "sim/op_profile.h"
#include "sim/trace_observer.h"

namespace tasim {

RunStats simulate(const ChipConfig& chip, const isa::Program& program, const SimOptions& options,
                  ExecutionObserver* extra) {
  isa::validate(program, target_limits(chip));
  install_systemc_report_handler();

  std::unique_ptr<TraceObserver> tracer;
  ObserverFanout fanout;
  std::unique_ptr<Chip> model;
  try {
    ChipOptions chip_options;
    chip_options.ideal_memory = options.ideal_memory;
    // The observer needs the unit list, which the chip builds; attach it right after.
    model = std::make_unique<Chip>("chip0", chip, program, chip_options, nullptr);
    if (!options.trace_path.empty()) {
      tracer = std::make_unique<TraceObserver>(
          trace::open_trace(options.trace_path, trace::parse_trace_format(options.trace_format)), chip, program,
          model->units(), options.counter_window_cycles);
    }
    fanout.add(tracer.get());
    fanout.add(extra);
    model->set_observer(&fanout);
    sc_core::sc_start();
  } catch (const sc_core::sc_report& report) {
    throw Error(fmt::format("simulation error: {}", report.what()));
  }
  if (!model->finished()) throw Error(model->deadlock_report());
  RunStats stats = model->stats();
  if (tracer) tracer->finish(stats.cycles);
  return stats;
}

}  // namespace tasim
