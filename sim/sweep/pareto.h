// Pareto-optimal rows of a results table: `--pareto x=area_mm2,y=tokens_per_second` marks, among
// the `ok` rows, those that no other ok row beats (at least as good in every objective and
// strictly better in one; equal rows are both optimal).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/sweep/table.h"

namespace tasim::sweep {

enum class Direction { min, max };

struct Objective {
  std::string label;   // "x", "y" (or the column when no label was given)
  std::string column;  // a numeric column of the table
  Direction direction = Direction::min;
  bool inferred = false;  // from the column's name rather than `:min` / `:max`
};

// Better-is-smaller for areas, energies, powers, times, cycles, bytes, chips, sim_over_roofline
// and preemptions; better-is-larger for throughputs, efficiencies, utilizations, bandwidths,
// serving rates (qps), goodput and SLO attainment; nullopt when the name says neither.
std::optional<Direction> infer_direction(const std::string& column);

// Parses `x=area_mm2:min,y=tokens_per_second` (labels optional: `area_mm2,tokens_per_second`)
// against the table's header. Throws tasim::Error for unknown columns (with a suggestion), the
// fixed text columns, repeats, and a direction that cannot be inferred.
std::vector<Objective> parse_objectives(const std::string& text, const Cells& header);
// "x=area_mm2 (min, inferred), y=tokens_per_second (max, inferred)"
std::string describe_objectives(const std::vector<Objective>& objectives);

// For points with every objective to be minimized: which are not dominated by another.
std::vector<bool> pareto_front(const std::vector<std::vector<double>>& points);

// Sets (adding it if missing) the `pareto` column: 1 or 0 for ok rows whose objectives are all
// numbers, empty for the others.
void mark_pareto(Table& table, const std::vector<Objective>& objectives);

}  // namespace tasim::sweep
