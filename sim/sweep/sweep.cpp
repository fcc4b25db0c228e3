#include "sim/sweep/sweep.h"

#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/error.h"
#include "common/output_file.h"
#include "sim/sweep/child.h"
#include "sim/sweep/metrics.h"
#include "sim/sweep/pareto.h"
#include "sim/sweep/spec.h"
#include "sim/sweep/table.h"

extern char** environ;

namespace po = boost::program_options;

namespace tasim::sweep {

namespace {

constexpr const char* kSweepUsage =
    R"(tasim sweep SPEC.yaml -o results.csv [-j N] [--resume] [--shard i/N] [--pareto x=M,y=M]

Runs every point of a design-space sweep, each as its own `tasim run` process, N at a time
(default: the CPUs this process may use), and writes one row per point to results.csv and
results.jsonl as points finish. The final files are sorted by point, so they do not depend on -j.
The spec (docs/sweeps.md; paths in it are relative to its own directory):

  base:                                   # the run every point starts from
    arch: sohu-like                       # preset or architecture YAML
    model: llama-3-8b                     # shipped model, config.json (or its directory) or YAML
    run: {phase: decode, batch: 64, context_len: 2048, dtype: bf16}   # any tasim run option, '-' as '_'
    set: {core.sram.capacity_mib: 64}     # architecture overrides, as --set
  axes:                                   # what varies; grid order: the first axis slowest
    arch.core.matrix.rows: [128, 256]     # arch.<key>: an architecture key (--set key=value)
    run.batch: {from: 8, to: 64, step: 8} # run.<option>: a tasim run option; linear range, inclusive
    arch.core.sram.capacity_mib: {from: 16, to: 128, factor: 2}   # geometric range, inclusive
    # also: arch (presets or files) and model (models) as axes
  mode: grid                              # grid (cartesian) | zip (axes of one length) | random
  # samples: 20                           # random: distinct grid points to draw ...
  # seed: 1                               # ... with this seed (default 0)
  constraints:                            # '<name> <op> <number>': an axis or a metric
    - area_mm2 <= 800                     # known before running (axes, area_mm2, chips, chip_peak_power_w): not run
    - tokens_per_second >= 1000           # checked after running; the row keeps its metrics

With `command: serve` at the top, every point is a `tasim serve` run instead: its options go in
base.serve and serve.<option> axes (e.g. serve.max_num_seqs: [64, 256]), and the metrics are the
serving summary's (completed, requests_per_second, ttft_p99_seconds, ..., max_rate_qps, area_mm2).

Columns: point, one per axis, status (ok | failed | skipped), error, the metrics (chips,
step_seconds, tokens_per_second, ..., area_mm2, energy_j, avg_power_w, tokens_per_joule), and pareto
with --pareto. A point that fails or crashes is recorded with its error and the sweep goes on.
Exit status: 0 all points ok or skipped, 1 some point failed, 2 bad spec or options, 128+signal
when interrupted (finished rows stay; complete the sweep with --resume).

Options)";

constexpr const char* kMergeUsage = R"(tasim sweep-merge -o merged.csv [--pareto x=M,y=M] RESULTS.csv...

Merges the results of sweep shards (tasim sweep --shard i/N) into one CSV and its JSONL, rows
ordered by point: the same bytes as the whole sweep run at once. The inputs must have the same
columns and no point twice. On one file it re-marks the Pareto front without running anything.
Exit status: 0 merged (failed rows are counted on stderr), 2 inconsistent or unreadable inputs.

Options)";

std::string status_of(const Cells& header, const Cells& row) {
  const auto it = std::find(header.begin(), header.end(), kStatusColumn);
  return it == header.end() ? "" : row[static_cast<std::size_t>(it - header.begin())];
}

// A table's header and rows without a trailing pareto column: marks are recomputed whenever
// rows are put together, so an old column says nothing.
void drop_pareto(Table& table) {
  if (table.header.empty() || table.header.back() != kParetoColumn) return;
  table.header.pop_back();
  for (auto& row : table.rows) row.pop_back();
}

struct Counts {
  std::size_t ok = 0, failed = 0, skipped = 0;
  void add(const std::string& status) {
    if (status == "ok") ++ok;
    if (status == "failed") ++failed;
    if (status == "skipped") ++skipped;
  }
  std::string text() const { return fmt::format("{} ok, {} failed, {} skipped", ok, failed, skipped); }
};

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

// Progress on stderr: a bar redrawn in place on a terminal, one line per point otherwise (logs).
// The ETA uses the wall clock, for display only; nothing in the results does.
class Progress {
 public:
  Progress(std::size_t total, std::size_t already_done, const Counts& already)
      : tty_(isatty(STDERR_FILENO) != 0),
        total_(total),
        done_(already_done),
        counts_(already),
        start_(std::chrono::steady_clock::now()) {}

  void point_finished(std::size_t index, const std::string& status, const std::string& error) {
    ++done_;
    ++finished_here_;
    counts_.add(status);
    if (!tty_) {
      std::cerr << fmt::format("sweep: point {} {}{} ({}/{}, {} failed)\n", index, status,
                               error.empty() ? "" : ": " + error, done_, total_, counts_.failed);
      return;
    }
    // A failure scrolls up above the bar, so it is not lost when the bar is redrawn.
    if (status == "failed") std::cerr << fmt::format("\r\x1b[Ksweep: point {} failed: {}\n", index, error);
    constexpr std::size_t kWidth = 30;
    const std::size_t filled = total_ ? kWidth * done_ / total_ : kWidth;
    const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta_s =
        elapsed_s / static_cast<double>(finished_here_) * static_cast<double>(total_ - done_);
    std::cerr << fmt::format("\r[{}{}] {}/{} done  {} failed  {} skipped  ETA {}\x1b[K",
                             std::string(filled, '#'), std::string(kWidth - filled, '.'), done_, total_,
                             counts_.failed, counts_.skipped, clock_text(eta_s));
    std::cerr.flush();
  }

  void end() {
    if (tty_ && finished_here_ > 0) std::cerr << "\n";
  }

 private:
  bool tty_;
  std::size_t total_, done_, finished_here_ = 0;
  Counts counts_;
  std::chrono::steady_clock::time_point start_;
};

// Runs one point (or skips it on a constraint) and returns its row; empty when the sweep was
// interrupted while it ran (the point is not done, --resume will run it).
class PointRunner {
 public:
  // `options`: the options of the spec's command; `serve_jobs`: step simulations at a time of a
  // serve point whose spec does not say (the sweep's own -j already fills the CPUs).
  PointRunner(const SweepSpec& spec, const po::options_description& options, const Cells& header,
              double timeout_s, int serve_jobs)
      : spec_(spec),
        run_options_(options),
        header_(header),
        timeout_s_(timeout_s),
        serve_jobs_(serve_jobs),
        exe_(self_executable()) {
    for (char** e = environ; *e; ++e) {
      if (std::string(*e).rfind("TASIM_SWEEP_POINT=", 0) != 0) env_.push_back(*e);
    }
    for (const auto& c : spec.constraints) {
      if (known_before_run(spec, c)) {
        before_.push_back(&c);
        need_area_ = need_area_ || c.name == kAreaMetric || c.name == kPeakPowerMetric;
      } else {
        after_.push_back(&c);
      }
    }
  }

  // The first constraint known before running that the point misses ("" if none), with the
  // metric cells known by then (area_mm2, chips, chip_peak_power_w).
  std::string check_before(const Point& p, const std::vector<std::string>& run_args, Cells& row) const {
    if (before_.empty()) return "";
    const PointEstimate estimate = estimate_point(run_args, run_options_, need_area_);
    const auto chips = estimate.chips ? fmt::format("{}", *estimate.chips) : "";
    const auto area = estimate.area_mm2 ? fmt::format("{}", *estimate.area_mm2) : "";
    const auto peak = estimate.chip_peak_power_w ? fmt::format("{}", *estimate.chip_peak_power_w) : "";
    if (!row.empty()) {
      row[*column(kChipsMetric)] = chips;
      row[*column(kAreaMetric)] = area;
      row[*column(kPeakPowerMetric)] = peak;
    }
    for (const Constraint* c : before_) {
      std::string value = c->name == kChipsMetric  ? chips
                          : c->name == kAreaMetric ? area
                          : c->name == kPeakPowerMetric ? peak
                                                   : "";
      for (std::size_t a = 0; a < spec_.axes.size(); ++a) {
        if (spec_.axes[a].path == c->name) value = p.values[a];
      }
      const auto number = parse_number(value);
      if (!number) continue;  // unknown until it runs: its own run will say what is wrong
      if (!constraint_holds(*c, *number)) return constraint_miss(*c, value);
    }
    return "";
  }

  Cells run(const Point& p) const {
    Cells row(header_.size());
    row[0] = fmt::format("{}", p.index);
    for (std::size_t a = 0; a < p.values.size(); ++a) row[1 + a] = p.values[a];
    std::string& status = row[*column(kStatusColumn)];
    std::string& error = row[*column(kErrorColumn)];
    const std::vector<std::string> args = point_run_args(spec_, p, run_options_);
    if (std::string miss = check_before(p, args, row); !miss.empty()) {
      status = "skipped";
      error = miss;
      return row;
    }
    // Known-before cells came from an estimate; a run reports its own figures.
    for (const char* m : {kChipsMetric, kAreaMetric, kPeakPowerMetric}) row[*column(m)].clear();

    std::vector<std::string> argv{command_name(spec_.command)};
    argv.insert(argv.end(), args.begin(), args.end());
    if (spec_.command == SweepCommand::serve && !sets_option("jobs")) {
      argv.insert(argv.end(), {"--jobs", fmt::format("{}", serve_jobs_)});
    }
    argv.insert(argv.end(), {"--json", "-"});
    std::vector<std::string> env = env_;
    env.push_back(fmt::format("TASIM_SWEEP_POINT={}", p.index));
    const ChildResult r = run_child(exe_, argv, env, timeout_s_);
    if (r.stopped || killed_by_stop(r)) return {};
    error = child_error(r, timeout_s_);
    if (!error.empty()) {
      status = "failed";
      return row;
    }
    std::string why;
    const auto metrics = metrics_from_report(r.out, spec_.command, &why);
    if (!metrics) {
      status = "failed";
      error = single_line(
          fmt::format("tasim {} wrote no readable JSON report: {}", command_name(spec_.command), why));
      return row;
    }
    const std::size_t first_metric = *column(metric_columns(spec_.command).front());
    std::copy(metrics->begin(), metrics->end(), row.begin() + static_cast<std::ptrdiff_t>(first_metric));
    status = "ok";
    for (const Constraint* c : after_) {
      const std::string& value = row[*column(c->name)];
      const auto number = parse_number(value);
      if (!number || !constraint_holds(*c, *number)) {
        status = "skipped";
        error = constraint_miss(*c, value);
        break;
      }
    }
    return row;
  }

 private:
  // True when base.run/base.serve or an axis gives the command's option `name`.
  bool sets_option(const std::string& name) const {
    return std::any_of(spec_.run.begin(), spec_.run.end(), [&](const RunOption& r) { return r.name == name; }) ||
           std::any_of(spec_.axes.begin(), spec_.axes.end(),
                       [&](const Axis& a) { return is_command_option(a.kind) && a.key == name; });
  }

  std::optional<std::size_t> column(const std::string& name) const {
    const auto it = std::find(header_.begin(), header_.end(), name);
    return it == header_.end() ? std::nullopt : std::optional<std::size_t>(it - header_.begin());
  }

  // A point killed by the signal that also stops the sweep (Ctrl-C at a terminal reaches the
  // whole group; scancel signals every process of the job) is not a failed point: wait a moment
  // for the sweep's own handler to see it too.
  static bool killed_by_stop(const ChildResult& r) {
    if (r.signal != SIGINT && r.signal != SIGTERM && r.signal != SIGHUP && r.signal != SIGKILL) return false;
    for (int i = 0; i < 50 && !sweep_stop_requested(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return sweep_stop_requested() != 0;
  }

  const SweepSpec& spec_;
  const po::options_description& run_options_;
  const Cells& header_;
  double timeout_s_;
  int serve_jobs_;
  std::string exe_;
  std::vector<std::string> env_;
  std::vector<const Constraint*> before_, after_;
  bool need_area_ = false;
};

// Rows of an earlier run of this spec to keep (--resume), by point. Throws when the file was
// written by another spec, another shard, or has a point twice.
std::map<std::size_t, Cells> resumed_rows(const std::string& path, const Cells& header,
                                          const std::vector<Point>& points, const Shard& shard,
                                          bool retry_failed) {
  CsvFile file = read_results_csv(path);
  drop_pareto(file.table);
  Table want{header, {}};
  drop_pareto(want);
  const auto different = [&](const std::string& why) {
    return Error(fmt::format(
        "{} was written by a different spec ({}): use another -o, or --force to overwrite it", path, why));
  };
  if (file.table.header != want.header) {
    std::size_t i = 0;
    while (i < want.header.size() && i < file.table.header.size() && want.header[i] == file.table.header[i])
      ++i;
    throw different(fmt::format("column {} is '{}' there, '{}' here", i + 1,
                                i < file.table.header.size() ? file.table.header[i] : "(none)",
                                i < want.header.size() ? want.header[i] : "(none)"));
  }
  if (file.partial_lines) std::cerr << fmt::format("sweep: {}: dropping its last row, cut short\n", path);
  std::map<std::size_t, Cells> kept;
  const std::size_t axes = points.empty() ? 0 : points.front().values.size();
  for (auto& row : file.table.rows) {
    const std::size_t index = std::stoull(row[0]);
    if (index >= points.size())
      throw different(fmt::format("point {}: this spec has {} points", index, points.size()));
    for (std::size_t a = 0; a < axes; ++a) {
      if (row[1 + a] != points[index].values[a]) {
        throw different(fmt::format("point {}: {} is {} there, {} here", index, header[1 + a], row[1 + a],
                                    points[index].values[a]));
      }
    }
    if (index % shard.count != shard.index) {
      throw Error(fmt::format("{}: point {} is not in shard {}/{}: the file was written for another shard",
                              path, index, shard.index, shard.count));
    }
    if (kept.count(index)) throw Error(fmt::format("{}: point {} is there twice", path, index));
    if (retry_failed && status_of(want.header, row) == "failed") continue;
    if (header.back() == kParetoColumn) row.push_back("");
    kept.emplace(index, std::move(row));
  }
  return kept;
}

void print_dry_run(const SweepSpec& spec, const std::vector<const Point*>& points, const PointRunner& runner,
                   const po::options_description& run_options, std::size_t total) {
  std::size_t skipped = 0;
  Cells no_row;
  for (const Point* p : points) {
    std::vector<std::string> values;
    for (std::size_t a = 0; a < spec.axes.size(); ++a)
      values.push_back(spec.axes[a].path + "=" + p->values[a]);
    const std::string miss = runner.check_before(*p, point_run_args(spec, *p, run_options), no_row);
    if (!miss.empty()) ++skipped;
    std::cout << fmt::format("point {}: {}{}\n", p->index,
                             values.empty() ? "(base)" : fmt::format("{}", fmt::join(values, " ")),
                             miss.empty() ? "" : "  skipped: " + miss);
  }
  std::cout << fmt::format("{} points{} ({} to run, {} skipped by constraints)\n", points.size(),
                           points.size() == total ? "" : fmt::format(" of {}", total),
                           points.size() - skipped, skipped);
}

}  // namespace

// Results are appended to as points finish and read back by --resume: they need regular files
// (a link to one is followed). A FIFO or a device is refused rather than replaced.
static void check_results_output(const std::string& csv_path) {
  for (const std::string& path : {csv_path, jsonl_path(csv_path)}) {
    if (!is_regular_output(path)) {
      throw Error(fmt::format("{}: sweep results need a regular file (they are appended to and read back); this "
                              "is a FIFO, a device or another special file",
                              path));
    }
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw Error(fmt::format("{}: is a directory", path));
  }
}

Shard parse_shard(const std::string& text) {
  if (text.empty()) return {};
  const auto bad = [&](const std::string& why) {
    return Error(fmt::format("--shard '{}': {} (write i/N with 0 <= i < N, e.g. 0/4)", text, why));
  };
  const auto slash = text.find('/');
  const auto whole = [&](const std::string& s) {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
      throw bad("not i/N");
    return static_cast<std::size_t>(std::stoul(s));
  };
  if (slash == std::string::npos) throw bad("not i/N");
  Shard shard{whole(text.substr(0, slash)), whole(text.substr(slash + 1))};
  if (shard.count == 0) throw bad("N must be >= 1");
  if (shard.index >= shard.count) throw bad("i must be below N; shards are numbered from 0");
  return shard;
}

int default_jobs() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

const char* sweep_usage() { return kSweepUsage; }
const char* sweep_merge_usage() { return kMergeUsage; }

int run_sweep(const SweepOptions& o, const po::options_description& run_options,
              const po::options_description* serve_options) {
  if (o.retry_failed && !o.resume) throw Error("tasim sweep: --retry-failed goes with --resume");
  if (o.resume && o.force)
    throw Error("tasim sweep: --resume keeps the rows that --force would overwrite: give one");
  if (o.jobs < 0) throw Error(fmt::format("tasim sweep: -j {} must be >= 1", o.jobs));
  if (o.timeout_s < 0) throw Error(fmt::format("tasim sweep: --timeout-s {} must be >= 0", o.timeout_s));
  const Shard shard = parse_shard(o.shard);
  const SweepSpec spec = load_sweep_spec(o.spec_path, run_options, serve_options);
  // The options of what every point runs: a serve spec's points are `tasim serve`.
  const po::options_description& options = spec.command == SweepCommand::serve ? *serve_options : run_options;
  const std::vector<Point> points = sweep_points(spec);
  const Cells header = results_header(spec, !o.pareto.empty());
  std::vector<Objective> objectives;
  if (!o.pareto.empty()) objectives = parse_objectives(o.pareto, header);
  std::vector<const Point*> mine;
  for (const auto& p : points) {
    if (p.index % shard.count == shard.index) mine.push_back(&p);
  }
  // A serve point simulates its step table with the CPUs the sweep's own -j leaves it.
  const int serve_jobs = std::max(1, default_jobs() / (o.jobs > 0 ? o.jobs : default_jobs()));
  const PointRunner runner(spec, options, header, o.timeout_s, serve_jobs);
  if (o.dry_run) {
    print_dry_run(spec, mine, runner, options, points.size());
    return 0;
  }
  if (o.output.empty()) throw Error("tasim sweep: -o results.csv is required (the JSONL goes beside it)");
  check_results_output(o.output);
  if (!objectives.empty())
    std::cerr << fmt::format("sweep: pareto objectives: {}\n", describe_objectives(objectives));

  std::error_code ec;
  const bool exists = std::filesystem::exists(o.output, ec);
  if (exists && !o.resume && !o.force) {
    throw Error(fmt::format("{} exists: --resume to complete it, or --force to overwrite it", o.output));
  }
  std::map<std::size_t, Cells> rows;
  if (o.resume && exists) rows = resumed_rows(o.output, header, points, shard, o.retry_failed);
  const auto parent = std::filesystem::path(o.output).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
    if (ec) throw Error(fmt::format("{}: cannot create the folder {}: {}", o.output, parent.string(), ec.message()));
  }
  check_output(o.output, "results CSV");
  check_output(jsonl_path(o.output), "results JSONL");
  // The header and the rows kept, sorted; a row cut short by a kill is gone from now on.
  Table table{header, {}};
  for (const auto& [index, row] : rows) table.rows.push_back(row);
  write_results(o.output, table);

  std::vector<const Point*> pending;
  Counts counts;
  for (const Point* p : mine) {
    if (!rows.count(p->index)) pending.push_back(p);
  }
  for (const auto& [index, row] : rows) counts.add(status_of(header, row));
  const int jobs =
      std::min<int>(o.jobs > 0 ? o.jobs : default_jobs(), std::max<std::size_t>(1, pending.size()));
  std::cerr << fmt::format(
      "sweep: {} points{}{}; running {} with -j {}\n", points.size(),
      shard.count > 1 ? fmt::format(", shard {}/{}: {}", shard.index, shard.count, mine.size()) : "",
      rows.empty() ? "" : fmt::format(", {} done before", rows.size()), pending.size(), jobs);

  install_stop_handlers();
  ResultsAppender appender(o.output, header);
  Progress progress(mine.size(), rows.size(), counts);
  std::mutex mutex;
  std::atomic<std::size_t> next{0};
  std::exception_ptr worker_error;
  const std::size_t error_column = *table.column(kErrorColumn);
  const auto worker = [&]() {
    try {
      while (!sweep_stop_requested()) {
        const std::size_t i = next++;
        if (i >= pending.size()) break;
        Cells row = runner.run(*pending[i]);
        if (row.empty()) break;  // interrupted
        const std::lock_guard<std::mutex> lock(mutex);
        appender.append(row);
        const std::string status = status_of(header, row);
        counts.add(status);
        progress.point_finished(pending[i]->index, status, status == "ok" ? "" : row[error_column]);
        rows.emplace(pending[i]->index, std::move(row));
      }
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex);
      if (!worker_error) worker_error = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < jobs; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  progress.end();
  if (worker_error) std::rethrow_exception(worker_error);

  if (const int sig = sweep_stop_requested()) {
    std::cerr << fmt::format(
        "sweep: interrupted by signal {} ({}): {} of {} points done and kept in {}; finish with --resume\n",
        sig, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", rows.size(), mine.size(), o.output);
    return 128 + sig;
  }
  table.rows.clear();
  for (const auto& [index, row] : rows) table.rows.push_back(row);
  if (!objectives.empty()) mark_pareto(table, objectives);
  write_results(o.output, table);
  std::cerr << fmt::format("sweep: {} points: {}; wrote {} and {}\n", mine.size(), counts.text(), o.output,
                           jsonl_path(o.output));
  return counts.failed > 0 ? 1 : 0;
}

int merge_sweeps(const MergeOptions& o) {
  if (o.output.empty()) throw Error("tasim sweep-merge: -o merged.csv is required");
  check_results_output(o.output);
  if (o.inputs.empty()) throw Error("tasim sweep-merge: give the results CSVs to merge");
  Table merged;
  std::string first;
  std::map<std::size_t, std::pair<Cells, std::string>> rows;  // point -> row, file it came from
  for (const auto& input : o.inputs) {
    CsvFile file = read_results_csv(input);
    if (file.partial_lines) {
      throw Error(
          fmt::format("{}: its last row is cut short (an interrupted sweep?): complete it with tasim sweep "
                      "--resume first",
                      input));
    }
    drop_pareto(file.table);
    if (!file.table.column(kStatusColumn) || !file.table.column(kErrorColumn)) {
      throw Error(fmt::format("{}: not a sweep results file (no status and error columns)", input));
    }
    if (first.empty()) {
      first = input;
      merged.header = file.table.header;
    } else if (file.table.header != merged.header) {
      throw Error(
          fmt::format("{}: its columns differ from those of {} (shards of one spec have the same columns)",
                      input, first));
    }
    for (auto& row : file.table.rows) {
      const std::size_t index = std::stoull(row[0]);
      const auto [it, inserted] = rows.emplace(index, std::make_pair(std::move(row), input));
      if (!inserted) throw Error(fmt::format("{}: point {} is also in {}", input, index, it->second.second));
    }
  }
  Counts counts;
  // Points without a row below the last one: counted, and the first few kept to name them (a gap
  // may be billions of points wide).
  constexpr std::size_t kNamed = 10;
  std::vector<std::size_t> missing;
  std::size_t missing_count = 0;
  std::size_t expected = 0;
  for (auto& [index, row] : rows) {
    missing_count += index - expected;
    for (; expected < index && missing.size() < kNamed; ++expected) missing.push_back(expected);
    expected = index + 1;
    counts.add(status_of(merged.header, row.first));
    merged.rows.push_back(std::move(row.first));
  }
  if (!o.pareto.empty()) {
    Cells with_pareto = merged.header;
    with_pareto.push_back(kParetoColumn);
    const auto objectives = parse_objectives(o.pareto, with_pareto);
    std::cerr << fmt::format("sweep-merge: pareto objectives: {}\n", describe_objectives(objectives));
    mark_pareto(merged, objectives);
  }
  write_results(o.output, merged);
  std::cerr << fmt::format("sweep-merge: {} rows from {} file{}: {}; wrote {} and {}\n", merged.rows.size(),
                           o.inputs.size(), o.inputs.size() == 1 ? "" : "s", counts.text(), o.output,
                           jsonl_path(o.output));
  if (missing_count > 0) {
    std::cerr << fmt::format("sweep-merge: warning: no row for {} of the points before the last: {}{}\n",
                             missing_count, fmt::join(missing, ", "), missing_count > missing.size() ? ", ..." : "");
  }
  return 0;
}

}  // namespace tasim::sweep
