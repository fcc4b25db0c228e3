// Small helpers for the YAML (and JSON) readers of models and architectures: where a node is,
// for "file:line:col" error messages, and what kind of node it is, for "expected X, got Y".
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <string>

namespace tasim {

inline std::string yaml_where(const std::string& source, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return source;
  return fmt::format("{}:{}:{}", source, mark.line + 1, mark.column + 1);
}

inline const char* yaml_node_kind(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "nothing";
  return "a scalar";
}

}  // namespace tasim
