#include "sim/serve_output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <iostream>

#include "common/error.h"
#include "common/output_file.h"
#include "sim/serve/serve_report.h"
#include "sim/serve/serve_trace.h"

namespace po = boost::program_options;

namespace tasim {

void add_serve_output_options(po::options_description& desc) {
  desc.add_options()
      ("json", po::value<std::string>(), "write the summary as JSON to FILE ('-' for stdout; the text summary is then omitted)")
      ("requests-out", po::value<std::string>(), "write one CSV row per request to FILE")
      ("requests-jsonl", po::value<std::string>(), "write one JSON line per request (with every inter-token gap) to FILE")
      ("trace", po::value<std::string>(), "write a trace of the run to FILE: per replica its steps, queue, KV use and requests")
      ("trace-format", po::value<std::string>()->default_value("perfetto"), "trace format: perfetto | json (Chrome JSON)")
      ("slo-ttft", po::value<double>(), "TTFT objective in seconds: report attainment and goodput")
      ("slo-tpot", po::value<double>(), "TPOT objective in seconds: report attainment and goodput")
      ("progress", po::bool_switch(), "show a progress bar with an ETA on stderr (the default when stderr is a terminal)");
}

namespace {

double slo_seconds(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) return 0;
  const double s = vm[name].as<double>();
  if (!(s > 0) || !std::isfinite(s)) throw Error(fmt::format("--{} {} must be a time in seconds > 0", name, s));
  return s;
}

std::string path_option(const po::variables_map& vm, const char* name, const char* what) {
  if (!vm.count(name)) return {};
  const std::string path = vm[name].as<std::string>();
  check_output(path, what);
  return path;
}

}  // namespace

ServeOutputOptions serve_output_options(const po::variables_map& vm) {
  ServeOutputOptions o;
  const std::string format = vm["trace-format"].as<std::string>();
  if (format != "perfetto" && format != "json") {
    throw Error(fmt::format("--trace-format '{}' is not one of: perfetto, json", format));
  }
  o.trace_format = trace::parse_trace_format(format);
  o.slo.ttft_s = slo_seconds(vm, "slo-ttft");
  o.slo.tpot_s = slo_seconds(vm, "slo-tpot");
  o.json = path_option(vm, "json", "JSON summary");
  o.requests_csv = path_option(vm, "requests-out", "requests CSV");
  o.requests_jsonl = path_option(vm, "requests-jsonl", "requests JSONL");
  o.trace = path_option(vm, "trace", "trace");
  // Two outputs on stdout would interleave into neither format.
  int on_stdout = 0;
  for (const std::string* p : {&o.json, &o.requests_csv, &o.requests_jsonl, &o.trace}) on_stdout += *p == "-";
  if (on_stdout > 1) throw Error("tasim serve: only one output may go to standard output ('-')");
  o.progress = vm["progress"].as<bool>() || isatty(STDERR_FILENO) != 0;
  return o;
}

void write_serve_files(const ServeOutputOptions& o, const serve::ServeResult& result) {
  if (!o.requests_csv.empty()) write_output(o.requests_csv, serve::requests_csv(result), "requests CSV");
  if (!o.requests_jsonl.empty()) write_output(o.requests_jsonl, serve::requests_jsonl(result), "requests JSONL");
  if (!o.trace.empty()) {
    const std::unique_ptr<trace::TraceWriter> writer = trace::open_trace(o.trace, o.trace_format);
    const int left_out = serve::write_serve_trace(result, *writer);
    writer->close();
    if (left_out > 0) {
      std::cerr << fmt::format("tasim serve: note: {} requests are not drawn in the trace: more than {} were in a "
                               "replica at once (the queue counters show them)\n",
                               left_out, serve::kDefaultMaxLanes);
    }
  }
}

ServeProgressBar::ServeProgressBar(bool enabled, const std::vector<serve::Request>& requests)
    : enabled_(enabled),
      tty_(isatty(STDERR_FILENO) != 0),
      progress_(requests),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ServeProgressBar::~ServeProgressBar() {
  if (drawn_ && tty_) std::cerr << "\n";
}

serve::StepTimeFn ServeProgressBar::wrap(serve::StepTimeFn inner) {
  if (!enabled_) return inner;
  return [this, inner = std::move(inner)](const serve::StepShape& shape) {
    const double s = inner(shape);
    step(0, shape, s);
    return s;
  };
}

void ServeProgressBar::step(int replica, const serve::StepShape& shape, double step_s) {
  if (!enabled_) return;
  progress_.on_step(shape, step_s, replica);
  draw(false);
}

void ServeProgressBar::finish() {
  if (!enabled_) return;
  draw(true);
  if (drawn_ && tty_) std::cerr << "\n";
  drawn_ = false;
}

void ServeProgressBar::draw(bool last) {
  // A terminal is redrawn a few times a second; a log gets a line every 5 s and the last one.
  const auto now = std::chrono::steady_clock::now();
  const double since_s = std::chrono::duration<double>(now - last_draw_).count();
  if (!last && since_s < (tty_ ? 0.2 : 5.0)) return;
  last_draw_ = now;
  const std::string line =
      "tasim serve: " + serve::progress_line(progress_, std::chrono::duration<double>(now - start_).count());
  if (tty_) {
    std::cerr << "\r" << line << "\x1b[K";
  } else {
    std::cerr << line << "\n";
  }
  std::cerr.flush();
  drawn_ = true;
}

}  // namespace tasim
