#include "sim/sweep/constraint.h"

#include <fmt/format.h>

#include "common/error.h"
#include "sim/sweep/table.h"

namespace tasim::sweep {

namespace {

// Two-character operators first, so "<=" is not read as "<" followed by "=800".
constexpr std::pair<const char*, CompareOp> kOps[] = {{"<=", CompareOp::le}, {">=", CompareOp::ge},
                                                      {"==", CompareOp::eq}, {"!=", CompareOp::ne},
                                                      {"<", CompareOp::lt},  {">", CompareOp::gt}};

const char* op_text(CompareOp op) {
  for (const auto& [text, o] : kOps) {
    if (o == op) return text;
  }
  return "?";
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

std::string Constraint::text() const { return fmt::format("{} {} {}", name, op_text(op), bound_text); }

Constraint parse_constraint(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return Error(fmt::format("'{}' is not '<name> <op> <number>' ({}), e.g. 'area_mm2 <= 800'", text, why));
  };
  const auto at = text.find_first_of("<>=!");
  if (at == std::string::npos) throw bad("no operator: use one of <= < >= > == !=");
  Constraint c;
  bool found = false;
  for (const auto& [op, value] : kOps) {
    if (text.compare(at, std::char_traits<char>::length(op), op) == 0) {
      c.op = value;
      c.name = trim(text.substr(0, at));
      c.bound_text = trim(text.substr(at + std::char_traits<char>::length(op)));
      found = true;
      break;
    }
  }
  if (!found)
    throw bad(fmt::format("'{}' is not an operator: use one of <= < >= > == !=", text.substr(at, 2)));
  if (c.name.empty()) throw bad("no name before the operator");
  if (c.name.find_first_of(" \t") != std::string::npos)
    throw bad(fmt::format("'{}' is not one name", c.name));
  const auto bound = parse_number(c.bound_text);
  if (!bound) throw bad(fmt::format("'{}' is not a number", c.bound_text));
  c.bound = *bound;
  return c;
}

bool constraint_holds(const Constraint& c, double value) {
  switch (c.op) {
    case CompareOp::le:
      return value <= c.bound;
    case CompareOp::lt:
      return value < c.bound;
    case CompareOp::ge:
      return value >= c.bound;
    case CompareOp::gt:
      return value > c.bound;
    case CompareOp::eq:
      return value == c.bound;
    case CompareOp::ne:
      return value != c.bound;
  }
  return false;
}

std::string constraint_miss(const Constraint& c, const std::string& value_text) {
  return fmt::format("constraint {} not met ({})", c.text(), value_text.empty() ? "no value" : value_text);
}

}  // namespace tasim::sweep
