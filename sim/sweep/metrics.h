// The metric columns of a sweep's results: a fixed, ordered list of keys of the points' JSON
// reports (`tasim run --json` or `tasim serve --json`), so the header is known before any point
// runs and every row has the same columns.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tasim::sweep {

// What each point of a sweep runs (the spec's `command:`): `tasim run` or `tasim serve`.
enum class SweepCommand { run, serve };
const char* command_name(SweepCommand command);  // "run", "serve"

// `chips`, `step_seconds`, `tokens_per_second`, ... `utilization.matrix` (a dotted name is a key
// inside an object of the report), ..., `area_mm2`, `energy_j`, `avg_power_w`, `tokens_per_joule`.
const std::vector<std::string>& metric_columns();
// The metric columns of a command's sweep. run: metric_columns(). serve: `chips` (the replica's
// tp), `completed`, ..., the latency percentiles (`ttft_p99_seconds` is `p99` inside
// `ttft_seconds`), the SLO figures, `max_rate_qps` (with --find-max-rate), `kv_blocks`,
// `area_mm2`, `chip_peak_power_w`, `energy_joules`, `mean_power_watts`, `output_tokens_per_joule`.
const std::vector<std::string>& metric_columns(SweepCommand command);

// Metrics known before a point runs (from its architecture and run options), so constraints on
// them are checked without simulating.
inline constexpr const char* kAreaMetric = "area_mm2";
inline constexpr const char* kChipsMetric = "chips";
inline constexpr const char* kPeakPowerMetric = "chip_peak_power_w";  // a power budget (TDP) per chip

// The metric cells of one `tasim run --json` report, in metric_columns() order: each number's
// text exactly as the report wrote it; "" for a key the report lacks (a report of an older tasim,
// or of a program run without a model) or that is null. nullopt when the text is not JSON.
std::optional<std::vector<std::string>> metrics_from_report(const std::string& json_text,
                                                            std::string* why = nullptr);
// The same for a report of `command`, in metric_columns(command) order.
std::optional<std::vector<std::string>> metrics_from_report(const std::string& json_text, SweepCommand command,
                                                            std::string* why = nullptr);

}  // namespace tasim::sweep
