// Constraints of a sweep spec: `<name> <op> <number>` (`area_mm2 <= 800`), where the name is an
// axis path or a metric column. A point that misses one is `skipped`: before it runs when every
// name is known beforehand (axis values, area_mm2, chips), else after.
#pragma once

#include <string>

namespace tasim::sweep {

enum class CompareOp { le, lt, ge, gt, eq, ne };

struct Constraint {
  std::string name;  // axis path or metric column
  CompareOp op = CompareOp::le;
  double bound = 0.0;
  std::string bound_text;    // the number as written, for messages
  std::string text() const;  // "area_mm2 <= 800"
};

// Parses "<name> <op> <number>" (op one of <= < >= > == !=; spaces optional). Throws
// tasim::Error with the reason (the caller adds where the text came from).
Constraint parse_constraint(const std::string& text);

bool constraint_holds(const Constraint& c, double value);

// The `error` cell of a point that misses `c` with `value_text` ("" when the value is missing):
// "constraint area_mm2 <= 800 not met (912.4)".
std::string constraint_miss(const Constraint& c, const std::string& value_text);

}  // namespace tasim::sweep
