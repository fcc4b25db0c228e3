// The layers of tasim (docs/architecture.md, "Layers") are enforced here: every #include "..." of
// every source file must name a layer its own layer may use, and SystemC may be included only by
// the SystemC models and the simulation driver. A new include that reaches the wrong way fails
// this test with the file, the line and the rule it breaks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Each layer and the layers it may include (itself always). Ordered bottom up.
const std::map<std::string, std::set<std::string>>& allowed_layers() {
  static const std::map<std::string, std::set<std::string>> table = {
      {"common", {}},
      {"isa", {"common"}},
      {"arch", {"common", "isa"}},
      {"models", {"common", "isa", "arch"}},
      {"workloads", {"common", "isa", "arch"}},
      {"sim/config", {"common", "isa", "arch"}},
      {"sim/trace", {"common"}},
      {"sim/report", {"common", "isa", "arch", "workloads"}},
      {"sim/options", {"common", "isa", "arch", "workloads", "sim/config"}},
      {"sim/sweep", {"common", "isa", "arch", "workloads", "sim/config", "sim/options"}},
      {"sim/serve", {"common", "sim/trace"}},
      {"sim/driver", {"common", "isa", "arch", "models", "workloads", "sim/config", "sim/trace", "sim/report"}},
      {"sim", {"common", "isa", "arch", "models", "workloads", "sim/config", "sim/trace", "sim/report",
               "sim/driver", "sim/sweep", "sim/options", "sim/serve"}},
  };
  return table;
}

// Layers whose code may include SystemC.
const std::set<std::string> kSystemcLayers = {"models", "sim/driver"};

// The layer of a path relative to the repository root ("sim/config/arch_loader.h" ->
// "sim/config", "sim/cli.h" -> "sim"), or "" for a path outside every layer.
std::string layer_of(const std::string& path) {
  std::string best;
  for (const auto& [layer, deps] : allowed_layers()) {
    const std::string prefix = layer + "/";
    if (path.rfind(prefix, 0) == 0 && layer.size() > best.size()) best = layer;
  }
  return best;
}

// Why `from_file` may not include `included`, or "" when it may.
std::string include_problem(const std::string& from_file, const std::string& included) {
  const std::string from = layer_of(from_file);
  if (from.empty()) return "";
  if (included == "systemc" || included == "systemc.h" || included == "tlm" || included == "tlm.h") {
    return kSystemcLayers.count(from) ? "" : "SystemC is for models/ and sim/driver/ only, not " + from + "/";
  }
  const std::string to = layer_of(included);
  if (to.empty() || to == from) return "";
  if (allowed_layers().at(from).count(to)) return "";
  return from + "/ may not use " + to + "/";
}

struct Violation {
  std::string where;  // file:line
  std::string include;
  std::string rule;
};

std::vector<Violation> find_violations(const fs::path& root) {
  std::vector<Violation> out;
  for (const auto& [layer, deps] : allowed_layers()) {
    const fs::path dir = root / layer;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp")) continue;
      const std::string rel = fs::relative(entry.path(), root).generic_string();
      // sim/ holds the lower sim/ layers as subfolders: only the deepest layer judges a file.
      if (layer_of(rel) != layer) continue;
      std::ifstream in(entry.path());
      int line_no = 0;
      for (std::string line; std::getline(in, line);) {
        ++line_no;
        const auto hash = line.find_first_not_of(" \t");
        if (hash == std::string::npos || line.compare(hash, 8, "#include") != 0) continue;
        const auto open = line.find_first_of("\"<", hash + 8);
        if (open == std::string::npos) continue;
        const auto close = line.find(line[open] == '"' ? '"' : '>', open + 1);
        if (close == std::string::npos) continue;
        const std::string included = line.substr(open + 1, close - open - 1);
        const std::string rule = include_problem(rel, included);
        if (!rule.empty()) out.push_back({rel + ":" + std::to_string(line_no), included, rule});
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("every #include stays within the layers", "[layering]") {
  const std::vector<Violation> violations = find_violations(TASIM_SOURCE_DIR);
  for (const auto& v : violations) UNSCOPED_INFO(v.where << ": #include \"" << v.include << "\": " << v.rule);
  CHECK(violations.empty());
}

TEST_CASE("the layering rules refuse includes that reach the wrong way", "[layering]") {
  CHECK(layer_of("sim/config/arch_loader.h") == "sim/config");
  CHECK(layer_of("sim/cli.cpp") == "sim");
  CHECK(layer_of("arch/hbm.h") == "arch");
  CHECK(layer_of("tests/sim/cli_util.h").empty());

  CHECK(include_problem("isa/isa.cpp", "common/error.h").empty());
  CHECK(include_problem("isa/isa.cpp", "arch/arch_config.h") == "isa/ may not use arch/");
  CHECK(include_problem("workloads/lowering/emitter.cpp", "models/chip.h") == "workloads/ may not use models/");
  CHECK(include_problem("sim/sweep/spec.cpp", "sim/driver/simulate.h") == "sim/sweep/ may not use sim/driver/");
  CHECK(include_problem("arch/hbm.cpp", "systemc") == "SystemC is for models/ and sim/driver/ only, not arch/");
  CHECK(include_problem("models/chip.h", "systemc").empty());
  CHECK(include_problem("sim/cli.cpp", "sim/driver/simulate.h").empty());
  CHECK(include_problem("sim/report/report.cpp", "sim/report/metrics.h").empty());
  CHECK(include_problem("sim/serve/serve_trace.h", "sim/trace/trace_writer.h").empty());
  CHECK(include_problem("sim/serve/engine.cpp", "sim/driver/simulate.h") == "sim/serve/ may not use sim/driver/");
}
