#include "sim/sweep/pareto.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "common/error.h"
#include "common/suggest.h"

namespace tasim::sweep {

namespace {

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// a dominates b (every coordinate to be minimized).
bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool strictly = false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (a[k] > b[k]) return false;
    if (a[k] < b[k]) strictly = true;
  }
  return strictly;
}

// Two objectives: sort by the first, sweep keeping the best second seen at a strictly smaller
// first. n log n, for sweeps of many thousands of rows.
std::vector<bool> pareto_front_2d(const std::vector<std::vector<double>>& points) {
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return points[a] < points[b]; });
  std::vector<bool> front(points.size(), false);
  bool any_before = false;
  double best_y_before = 0.0;  // smallest y among points with a strictly smaller x
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    const double x = points[order[i]][0];
    while (j < order.size() && points[order[j]][0] == x) ++j;
    // Within one x the group is sorted by y: only its smallest y can be optimal.
    const double group_y = points[order[i]][1];
    for (std::size_t k = i; k < j && points[order[k]][1] == group_y; ++k) {
      front[order[k]] = !any_before || group_y < best_y_before;
    }
    best_y_before = any_before ? std::min(best_y_before, group_y) : group_y;
    any_before = true;
    i = j;
  }
  return front;
}

}  // namespace

std::optional<Direction> infer_direction(const std::string& column) {
  for (const char* part :
       {"tokens_per_second", "tokens_per_joule", "mfu", "utilization", "bandwidth", "gbps",
        // serving: throughput, the highest rate meeting the SLOs, and how many meet them
        "requests_per_second", "qps", "goodput", "attainment"}) {
    if (contains(column, part)) return Direction::max;
  }
  for (const char* part :
       {"area", "energy", "power", "seconds", "latency", "cycles", "bytes", "chips", "sim_over_roofline",
        "preemptions"}) {
    if (contains(column, part)) return Direction::min;
  }
  return std::nullopt;
}

std::vector<Objective> parse_objectives(const std::string& text, const Cells& header) {
  std::vector<std::string> numeric;  // what may be an objective
  for (const auto& h : header) {
    if (h != kPointColumn && h != kStatusColumn && h != kErrorColumn && h != kParetoColumn)
      numeric.push_back(h);
  }
  std::vector<Objective> objectives;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    start = comma + 1;
    Objective o;
    std::string rest = item;
    if (const auto eq = item.find('='); eq != std::string::npos) {
      o.label = item.substr(0, eq);
      rest = item.substr(eq + 1);
    }
    o.column = rest;
    std::string direction;
    if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
      o.column = rest.substr(0, colon);
      direction = rest.substr(colon + 1);
    }
    if (o.label.empty()) o.label = o.column;
    if (o.column.empty()) {
      throw Error(
          fmt::format("--pareto '{}': '{}' names no column (write x=METRIC,y=METRIC, e.g. "
                      "x=area_mm2,y=tokens_per_second)",
                      text, item));
    }
    if (std::find(numeric.begin(), numeric.end(), o.column) == numeric.end()) {
      const std::string best = closest_match(o.column, numeric);
      throw Error(fmt::format("--pareto: '{}' is not a numeric column of the results{}", o.column,
                              best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best)));
    }
    if (direction == "min") {
      o.direction = Direction::min;
    } else if (direction == "max") {
      o.direction = Direction::max;
    } else if (!direction.empty()) {
      throw Error(fmt::format("--pareto: '{}': the direction is min or max, not '{}'", item, direction));
    } else if (const auto inferred = infer_direction(o.column)) {
      o.direction = *inferred;
      o.inferred = true;
    } else {
      throw Error(
          fmt::format("--pareto: cannot tell whether {} is better small or large: write {}:min or {}:max",
                      o.column, item, item));
    }
    for (const auto& other : objectives) {
      if (other.column == o.column) throw Error(fmt::format("--pareto: {} is given twice", o.column));
    }
    objectives.push_back(o);
  }
  return objectives;
}

std::string describe_objectives(const std::vector<Objective>& objectives) {
  std::vector<std::string> parts;
  for (const auto& o : objectives) {
    parts.push_back(fmt::format("{}{} ({}{})", o.label == o.column ? "" : o.label + "=", o.column,
                                o.direction == Direction::min ? "min" : "max",
                                o.inferred ? ", inferred" : ""));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::vector<bool> pareto_front(const std::vector<std::vector<double>>& points) {
  if (!points.empty() && points.front().size() == 2) return pareto_front_2d(points);
  std::vector<bool> front(points.size(), true);
  for (std::size_t i = 0; i < points.size(); ++i) {
    for (std::size_t j = 0; j < points.size() && front[i]; ++j) {
      if (j != i && dominates(points[j], points[i])) front[i] = false;
    }
  }
  return front;
}

void mark_pareto(Table& table, const std::vector<Objective>& objectives) {
  std::size_t pareto = table.header.size();
  if (const auto existing = table.column(kParetoColumn)) {
    pareto = *existing;
  } else {
    table.header.push_back(kParetoColumn);
    for (auto& row : table.rows) row.push_back("");
  }
  const auto status = table.column(kStatusColumn);
  std::vector<std::size_t> columns;
  for (const auto& o : objectives) columns.push_back(*table.column(o.column));
  std::vector<std::vector<double>> points;
  std::vector<std::size_t> rows;  // row of each point
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    auto& row = table.rows[r];
    row[pareto].clear();
    if (!status || row[*status] != "ok") continue;
    std::vector<double> p;
    for (std::size_t k = 0; k < objectives.size(); ++k) {
      const auto v = parse_number(row[columns[k]]);
      if (!v) break;
      p.push_back(objectives[k].direction == Direction::min ? *v : -*v);
    }
    if (p.size() != objectives.size()) continue;
    points.push_back(std::move(p));
    rows.push_back(r);
  }
  const std::vector<bool> front = pareto_front(points);
  for (std::size_t i = 0; i < rows.size(); ++i) table.rows[rows[i]][pareto] = front[i] ? "1" : "0";
}

}  // namespace tasim::sweep
