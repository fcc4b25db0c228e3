#include "sim/sweep/metrics.h"

#include <yaml-cpp/yaml.h>

#include "sim/sweep/table.h"

namespace tasim::sweep {

const std::vector<std::string>& metric_columns() {
  static const std::vector<std::string> columns = {"chips",
                                                   "step_seconds",
                                                   "tokens_per_second",
                                                   "ttft_seconds",
                                                   "mfu",
                                                   "roofline_seconds",
                                                   "sim_over_roofline",
                                                   "tokens",
                                                   "params",
                                                   "weight_bytes",
                                                   "kv_cache_bytes",
                                                   "analytic_flops",
                                                   "cycles",
                                                   "instructions",
                                                   "hbm_bytes",
                                                   "hbm_bandwidth_gbps",
                                                   "hbm_peak_gbps",
                                                   "sram_peak_bytes",
                                                   "sram_capacity_bytes",
                                                   "utilization.matrix",
                                                   "utilization.vector",
                                                   "utilization.dma",
                                                   "utilization.hbm",
                                                   kAreaMetric,
                                                   kPeakPowerMetric,
                                                   "energy_j",
                                                   "avg_power_w",
                                                   "tokens_per_joule"};
  return columns;
}

namespace {

// A serve sweep's column and the key of `tasim serve --json` it comes from: the summary's
// distributions are objects (`ttft_seconds: {mean, p50, ...}`), flattened to one column each so
// constraints and Pareto objectives can name them.
struct ServeMetric {
  const char* column;
  const char* report_key;  // a dotted name is a key inside an object of the report
};

const std::vector<ServeMetric>& serve_metrics() {
  static const std::vector<ServeMetric> metrics = {
      {kChipsMetric, "tp"},  // a replica's chips: `tasim serve` runs one replica of tp chips
      {"completed", "completed"},
      {"preemptions", "preemptions"},
      {"duration_seconds", "duration_seconds"},
      {"requests_per_second", "requests_per_second"},
      {"output_tokens_per_second", "output_tokens_per_second"},
      {"ttft_mean_seconds", "ttft_seconds.mean"},
      {"ttft_p50_seconds", "ttft_seconds.p50"},
      {"ttft_p90_seconds", "ttft_seconds.p90"},
      {"ttft_p99_seconds", "ttft_seconds.p99"},
      {"tpot_mean_seconds", "tpot_seconds.mean"},
      {"tpot_p50_seconds", "tpot_seconds.p50"},
      {"tpot_p90_seconds", "tpot_seconds.p90"},
      {"tpot_p99_seconds", "tpot_seconds.p99"},
      {"itl_p99_seconds", "itl_seconds.p99"},
      {"e2e_mean_seconds", "e2e_seconds.mean"},
      {"e2e_p99_seconds", "e2e_seconds.p99"},
      {"slo_attainment_percent", "slo.attainment_percent"},
      {"goodput_requests_per_second", "slo.goodput_requests_per_second"},
      {"max_rate_qps", "find_max_rate.max_rate_qps"},
      {"kv_blocks", "kv_blocks"},
      {kAreaMetric, kAreaMetric},
      {kPeakPowerMetric, kPeakPowerMetric},
      {"energy_joules", "energy_joules"},
      {"mean_power_watts", "mean_power_watts"},
      {"output_tokens_per_joule", "output_tokens_per_joule"}};
  return metrics;
}

// The report's keys of a command's columns, in column order.
const std::vector<std::string>& report_keys(SweepCommand command) {
  static const std::vector<std::string> serve = [] {
    std::vector<std::string> keys;
    for (const ServeMetric& m : serve_metrics()) keys.push_back(m.report_key);
    return keys;
  }();
  return command == SweepCommand::serve ? serve : metric_columns();
}

// The report's value at a dotted key as a metric cell: a number's text exactly as written, ""
// when missing, null or not a number. ("utilization.matrix": a key of a nested object. Each level
// is a new const Node: a missing key gives an invalid node, which yaml-cpp refuses to rebind.)
std::string metric_cell(const YAML::Node& object, const std::string& key) {
  const std::size_t dot = key.find('.');
  const YAML::Node value = object[key.substr(0, dot)];
  if (!value.IsDefined()) return "";
  if (dot != std::string::npos) return value.IsMap() ? metric_cell(value, key.substr(dot + 1)) : "";
  // Objects and strings are not metrics; null (a non-finite figure) is an empty cell.
  return value.IsScalar() && is_json_number(value.Scalar()) ? value.Scalar() : "";
}

}  // namespace

const char* command_name(SweepCommand command) { return command == SweepCommand::serve ? "serve" : "run"; }

const std::vector<std::string>& metric_columns(SweepCommand command) {
  static const std::vector<std::string> serve = [] {
    std::vector<std::string> columns;
    for (const ServeMetric& m : serve_metrics()) columns.push_back(m.column);
    return columns;
  }();
  return command == SweepCommand::serve ? serve : metric_columns();
}

std::optional<std::vector<std::string>> metrics_from_report(const std::string& json_text, std::string* why) {
  return metrics_from_report(json_text, SweepCommand::run, why);
}

std::optional<std::vector<std::string>> metrics_from_report(const std::string& json_text, SweepCommand command,
                                                            std::string* why) {
  // yaml-cpp reads JSON (a subset of YAML) and keeps every scalar as its text, so numbers come
  // back exactly as written (shortest round-trip form), with nothing lost to a double in between.
  YAML::Node report;
  try {
    report = YAML::Load(json_text);
  } catch (const YAML::Exception& e) {
    if (why) *why = e.what();
    return std::nullopt;
  }
  if (!report.IsMap()) {
    if (why) *why = "the report is not a JSON object";
    return std::nullopt;
  }
  std::vector<std::string> cells;
  for (const auto& key : report_keys(command)) cells.push_back(metric_cell(report, key));
  return cells;
}

}  // namespace tasim::sweep
