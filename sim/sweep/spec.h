// A sweep spec (YAML, docs/sweeps.md): the command every point runs (`tasim run`, or `tasim serve`
// with `command: serve`), a base run, axes that vary it, how the axes combine into
// points (grid, zip, random) and constraints. Loading checks everything that can be checked
// before a point runs (keys, run options, architecture keys, presets, models, ranges, lengths,
// constraint names) and throws tasim::Error naming the spec file, line and key.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/sweep/constraint.h"
#include "sim/sweep/metrics.h"
#include "sim/sweep/table.h"

namespace tasim::sweep {

enum class AxisKind {
  arch,        // `arch`: a preset name or architecture YAML path -> --arch
  model,       // `model`: a shipped model, config.json or YAML path -> --model
  arch_key,    // `arch.<key>` -> --set <key>=<value>
  run_option,  // `run.<option>` -> --<option> <value>
  serve_option,  // `serve.<option>` (command: serve) -> --<option> <value>
};

// True for the axes that set an option of the point's command (`run.*`, `serve.*`).
inline bool is_command_option(AxisKind kind) { return kind == AxisKind::run_option || kind == AxisKind::serve_option; }

struct Axis {
  std::string path;  // as written in the spec; also the results column's name
  AxisKind kind = AxisKind::run_option;
  std::string key;  // arch_key: the architecture key; run/serve_option: the option's long name ("context-len")
  // arch_key: every key the axis sets to its value. One, or several for a braced path:
  // `arch.core.matrix.{rows,cols}` sets rows and cols together (square arrays).
  std::vector<std::string> arch_keys;
  std::vector<std::string> values;  // as written in a list, or as a range generates them
};

enum class SweepMode { grid, zip, random };

struct RunOption {
  std::string name;   // long option name of the command (`tasim run`: "context-len")
  std::string value;  // as written
};

struct SweepSpec {
  std::string source;                // the spec file as named on the command line (for messages)
  std::string dir;                   // its directory: relative paths in the spec are resolved against it
  SweepCommand command = SweepCommand::run;  // `command:`, what every point runs
  std::optional<std::string> arch;   // base.arch as written; unset: tasim run's default
  std::optional<std::string> model;  // base.model as written; unset: tasim run's default
  std::vector<RunOption> run;        // base.run (base.serve with command: serve), in the order written
  std::vector<std::string> sets;     // base.set as "key=value"
  std::vector<Axis> axes;            // in the order written
  SweepMode mode = SweepMode::grid;
  std::uint64_t samples = 0;  // random mode
  std::uint64_t seed = 0;     // random mode
  std::vector<Constraint> constraints;
};

// One point of the sweep: its index (the row's `point`) and one value per axis.
struct Point {
  std::size_t index = 0;
  std::vector<std::string> values;
};

// `run_options`: `tasim run`'s own options, the one list of what `base.run` and `run.*` axes may
// name; `serve_options`: `tasim serve`'s (add_serve_options), for `base.serve` and `serve.*` axes
// of a `command: serve` spec (null: such a spec is refused). Paths in the spec are relative to
// the spec file's directory.
SweepSpec load_sweep_spec(const std::string& path,
                          const boost::program_options::options_description& run_options,
                          const boost::program_options::options_description* serve_options = nullptr);
// The same from text; `source` names it in messages and `dir` resolves its relative paths.
SweepSpec parse_sweep_spec(const std::string& yaml, const std::string& source, const std::string& dir,
                           const boost::program_options::options_description& run_options,
                           const boost::program_options::options_description* serve_options = nullptr);

// An axis range: `{from, to, step}` (linear) or `{from, to, factor}` (geometric), both ends
// inclusive. Integers stay integers; other values are printed in shortest form after rounding
// to 12 significant digits (0.1 + 2 x 0.1 gives 0.3). Throws tasim::Error with the reason.
struct Range {
  std::string from, to;
  std::optional<std::string> step, factor;
};
std::vector<std::string> expand_range(const Range& range);

// splitmix64 (Steele, Lea, Flood 2014): the same numbers on every platform and standard library,
// unlike std::uniform_int_distribution.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  // Uniform in [0, n), n >= 1, without modulo bias.
  std::uint64_t below(std::uint64_t n);

 private:
  std::uint64_t state_;
};

// `samples` distinct numbers in [0, population), ascending (Floyd's algorithm: work and memory
// in `samples`, not `population`). Throws tasim::Error when samples > population.
std::vector<std::uint64_t> sample_indices(std::uint64_t population, std::uint64_t samples,
                                          std::uint64_t seed);

// Points of the spec, by index. grid: the cartesian product, first axis slowest; zip: the i-th
// value of every axis; random: `samples` distinct grid points drawn with `seed`, in grid order.
std::uint64_t grid_size(const SweepSpec& spec);
std::vector<Point> sweep_points(const SweepSpec& spec);

// The results columns: point, one per axis, status, error, the metrics, and pareto if asked.
Cells results_header(const SweepSpec& spec, bool pareto);

// The arguments of a point's command, without `run` (or `serve`) and `--json -`: --arch, --model,
// the command's options (an axis overrides base.run / base.serve), then --set for base.set and the
// arch.* axes. `options`: the command's option list (`tasim run`'s or `tasim serve`'s).
std::vector<std::string> point_run_args(const SweepSpec& spec, const Point& point,
                                        const boost::program_options::options_description& options);

// True when the constraint's name is known before the point runs (an axis, area_mm2, chips).
bool known_before_run(const SweepSpec& spec, const Constraint& c);

// Chips a run uses: max(tp, ep) x pp, each 1 when not given; the `chips` that tasim run reports
// (a serve point: its replica's tp).
int chips_of_run(int tp, int ep, int pp);

// What is known of a point before it runs, from its arguments parsed as its command parses them
// (`run_options`: that command's option list): chips, and (when `with_area`) the system's die area, one chip's chip_area() x chips.
// Unset where the arguments do not parse or the architecture does not load (the point's own run
// will then report why).
struct PointEstimate {
  std::optional<int> chips;
  std::optional<double> area_mm2;
  std::optional<double> chip_peak_power_w;  // arch/arch_figures.h peak_power_w
};
PointEstimate estimate_point(const std::vector<std::string>& run_args,
                             const boost::program_options::options_description& run_options, bool with_area);

}  // namespace tasim::sweep
