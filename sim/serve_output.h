// `tasim serve`'s output options and the files it writes besides the summary: the requests CSV
// and JSONL, the trace, and the progress bar on stderr (docs/serving.md). Kept apart from
// serve_command.cpp, which sets up the deployment and the step model.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "sim/serve/engine.h"
#include "sim/serve/metrics.h"
#include "sim/serve/progress.h"
#include "sim/trace/trace_writer.h"

namespace tasim {

struct ServeOutputOptions {
  std::string json;            // summary JSON ("-": stdout); empty: none
  std::string requests_csv;    // --requests-out
  std::string requests_jsonl;  // --requests-jsonl
  std::string trace;           // --trace
  trace::Format trace_format = trace::Format::perfetto;
  serve::SloTargets slo;
  bool progress = false;  // --progress, or stderr is a terminal
};

void add_serve_output_options(boost::program_options::options_description& desc);

// Reads and checks the options; every output path is checked up front (before the long work).
ServeOutputOptions serve_output_options(const boost::program_options::variables_map& vm);

// Writes the requests CSV, the requests JSONL and the trace, those that were asked for.
void write_serve_files(const ServeOutputOptions& options, const serve::ServeResult& result);

// A progress bar on stderr, fed by the step-time function: redrawn in place on a terminal, a line
// every few seconds otherwise. The wall clock sets only what it prints.
class ServeProgressBar {
 public:
  ServeProgressBar(bool enabled, const std::vector<serve::Request>& requests);
  ~ServeProgressBar();  // ends the line if one was drawn
  // The step-time function that times with `inner` and reports the step.
  serve::StepTimeFn wrap(serve::StepTimeFn inner);
  // Reports a step of `step_s` seconds on `replica` (for step-time functions of another shape).
  void step(int replica, const serve::StepShape& shape, double step_s);
  void finish();

 private:
  void draw(bool last);

  bool enabled_, tty_;
  serve::StepProgress progress_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace tasim
