// `tasim sweep` and `tasim sweep-merge` (docs/sweeps.md): a design-space sweep runs every point
// of a spec as its own `tasim run` process, -j at a time, and writes one row per point to CSV
// and JSONL as points finish; the final files are sorted by point, so they do not depend on -j.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <cstddef>
#include <string>
#include <vector>

namespace tasim::sweep {

struct SweepOptions {
  std::string spec_path;
  std::string output;         // results CSV; its JSONL goes beside it
  int jobs = 0;               // points at a time; 0 = the CPUs this process may use
  bool resume = false;        // keep the rows of an existing output and run only the missing points
  bool retry_failed = false;  // with resume: run failed points again too
  bool force = false;         // overwrite an existing output
  bool dry_run = false;       // list the points, run nothing
  std::string shard;          // "i/N": only points with index % N == i
  std::string pareto;         // objectives for the pareto column, e.g. "x=area_mm2,y=tokens_per_second"
  double timeout_s = 0;       // per point; 0 = none
};

// Runs the sweep; returns the exit status: 0 every point ok or skipped, 1 some point failed,
// 128 + signal when interrupted. Spec and usage errors throw tasim::Error (exit status 2).
// `run_options`: `tasim run`'s options, which the spec's run keys must name; `serve_options`:
// `tasim serve`'s, for a `command: serve` spec (null: such a spec is refused).
int run_sweep(const SweepOptions& options, const boost::program_options::options_description& run_options,
              const boost::program_options::options_description* serve_options = nullptr);

struct MergeOptions {
  std::string output;
  std::vector<std::string> inputs;
  std::string pareto;
};
// Merges results CSVs (shards) into one, rows by point, JSONL beside it; returns 0 (failed rows
// are counted on stderr, not an error of the merge). Inconsistent inputs throw tasim::Error.
int merge_sweeps(const MergeOptions& options);

struct Shard {
  std::size_t index = 0;
  std::size_t count = 1;
};
// "i/N" with 0 <= i < N; "" is the whole sweep (0/1).
Shard parse_shard(const std::string& text);

// CPUs this process may run on (sched_getaffinity: a Slurm task's share), at least 1.
int default_jobs();

// Help captions for the two commands: usage, the spec format with an example, the files.
const char* sweep_usage();
const char* sweep_merge_usage();

}  // namespace tasim::sweep
