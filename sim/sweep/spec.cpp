#include "sim/sweep/spec.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/file_io.h"
#include "common/suggest.h"
#include "arch/cost_model.h"
#include "arch/arch_figures.h"
#include "sim/config/arch_loader.h"
#include "sim/options/run_options.h"
#include "sim/config/arch_schema.h"
#include "sim/sweep/metrics.h"
#include "workloads/model.h"
#include "common/yaml_util.h"

namespace po = boost::program_options;

namespace tasim::sweep {

namespace {

// More points than this is a spec mistake (or wants mode: random), not a sweep to start.
constexpr std::uint64_t kMaxPoints = 1'000'000;
constexpr std::size_t kMaxRangeValues = 100'000;

const std::vector<std::string> kTopKeys = {"base", "axes",        "mode",       "samples",
                                           "seed", "constraints", "description"};
// `command:` is needed only to say serve, so only a serve spec's messages list it.
const std::vector<std::string> kServeTopKeys = {"command", "base", "axes",        "mode",
                                                "samples", "seed", "constraints", "description"};
const std::vector<std::string> kBaseKeys = {"arch", "model", "run", "set"};
const std::vector<std::string> kServeBaseKeys = {"arch", "model", "serve", "set"};
const std::vector<std::string> kRangeKeys = {"from", "to", "step", "factor"};

// Run options a spec may not give: the sweep sets them for every point, or they have their own
// place in the spec. Each with what to write instead.
const std::vector<std::pair<std::string, std::string>> kReservedRunOptions = {
    {"arch", "give it as base.arch, or sweep it with an `arch` axis"},
    {"model", "give it as base.model, or sweep it with a `model` axis"},
    {"set", "give overrides as base.set, or sweep them with `arch.<key>` axes"},
    {"json", "the sweep reads every point's JSON report itself"},
    {"trace", "a sweep writes no traces (rerun one point with tasim run --trace)"},
    {"trace-format", "a sweep writes no traces (rerun one point with tasim run --trace)"},
    {"help", "not a run setting"}};

// The same for `tasim serve`: its per-request files and its progress bar would be every point's
// at once (one file overwritten by all), and the sweep shows its own progress.
const std::vector<std::pair<std::string, std::string>> kReservedServeOptions = {
    {"arch", "give it as base.arch, or sweep it with an `arch` axis"},
    {"model", "give it as base.model, or sweep it with a `model` axis"},
    {"set", "give overrides as base.set, or sweep them with `arch.<key>` axes"},
    {"json", "the sweep reads every point's JSON summary itself"},
    {"trace", "a sweep writes no traces (rerun one point with tasim serve --trace)"},
    {"trace-format", "a sweep writes no traces (rerun one point with tasim serve --trace)"},
    {"requests-out", "a sweep keeps one row per point (rerun one point with tasim serve --requests-out)"},
    {"requests-jsonl", "a sweep keeps one row per point (rerun one point with tasim serve --requests-jsonl)"},
    {"progress", "the sweep shows its own progress"},
    {"help", "not a serve setting"}};

const std::vector<std::pair<std::string, std::string>>& reserved_options(SweepCommand command) {
  return command == SweepCommand::serve ? kReservedServeOptions : kReservedRunOptions;
}

// Options whose value is a file: resolved against the spec's directory like base.arch.
const std::vector<std::string> kPathRunOptions = {"program"};
const std::vector<std::string> kPathServeOptions = {"trace-requests", "step-cache"};

const std::vector<std::string>& path_options(SweepCommand command) {
  return command == SweepCommand::serve ? kPathServeOptions : kPathRunOptions;
}

[[noreturn]] void fail(const std::string& source, const YAML::Node& node, const std::string& message) {
  throw Error(fmt::format("{}: {}", yaml_where(source, node.Mark()), message));
}

std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string best = closest_match(name, candidates);
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}

// The map's keys, each checked against `allowed` (and `unlisted`: accepted and suggested, not
// listed in messages) and for repeats; `where` names the map in messages ("" for the top level).
void check_keys(const std::string& source, const YAML::Node& map, const std::vector<std::string>& allowed,
                const std::string& where, const std::vector<std::string>& unlisted = {}) {
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar())
      fail(source, key, fmt::format("{}a key must be a plain name", where.empty() ? "" : where + ": "));
    const std::string& name = key.Scalar();
    if (!seen.insert(name).second)
      fail(source, key, fmt::format("duplicate key '{}{}'", where.empty() ? "" : where + ".", name));
    if (std::find(unlisted.begin(), unlisted.end(), name) != unlisted.end()) continue;
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::vector<std::string> known = allowed;
      known.insert(known.end(), unlisted.begin(), unlisted.end());
      const std::string hint = did_you_mean(name, known);
      fail(source, key,
           fmt::format("unknown key '{}'{}{} (keys{}: {})", name,
                       where.empty() ? " at the top level" : " in " + where, hint,
                       where.empty() ? "" : " of " + where, fmt::join(allowed, ", ")));
    }
  }
}

// A non-empty single-line scalar, as written.
std::string scalar_text(const std::string& source, const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar())
    fail(source, node, fmt::format("{} expects a value, got {}", what, yaml_node_kind(node)));
  const std::string& text = node.Scalar();
  if (text.empty()) fail(source, node, fmt::format("{} expects a value, got an empty one", what));
  if (single_line(text) != text)
    fail(source, node, fmt::format("{}: '{}' must be on one line, without tabs", what, text));
  return text;
}

std::uint64_t count_value(const std::string& source, const YAML::Node& node, const std::string& what) {
  const std::string text = scalar_text(source, node, what);
  if (text.find_first_not_of("0123456789") != std::string::npos || text.size() > 18) {
    fail(source, node, fmt::format("{} expects a whole number, got '{}'", what, text));
  }
  return std::stoull(text);
}

std::string relative_to(const std::string& dir, const std::string& path) {
  if (dir.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(dir) / path).string();
}

std::string resolve_arch(const SweepSpec& spec, const std::string& value) {
  return is_preset(value) ? value : relative_to(spec.dir, value);
}

std::string resolve_model(const SweepSpec& spec, const std::string& value) {
  const auto names = workloads::model_names();
  return std::find(names.begin(), names.end(), value) != names.end() ? value : relative_to(spec.dir, value);
}

// The option whose long name is exactly `name`, or null. Not Boost's find_nothrow: it throws
// ambiguous_option for an empty name (fuzz_sweep: an axis `run.:`).
const po::option_description* find_long_option(const po::options_description& desc, const std::string& name) {
  for (const auto& option : desc.options()) {
    if (option->long_name() == name) return option.get();
  }
  return nullptr;
}

// The long option of the command (`tasim run` or `tasim serve`, whose options `desc` are) that a
// spec's key names (`context_len` -> `context-len`); throws tasim::Error with the reason.
const po::option_description& command_option(const std::string& key, const po::options_description& desc,
                                             SweepCommand command) {
  const char* cmd = command_name(command);
  if (key.empty()) throw Error(fmt::format("no option named after '{}.'", cmd));
  std::string name = key;
  std::replace(name.begin(), name.end(), '_', '-');
  const auto& reserved_list = reserved_options(command);
  for (const auto& [reserved, instead] : reserved_list) {
    if (name == reserved)
      throw Error(fmt::format("{} option '{}' cannot be set in a sweep: {}", cmd, key, instead));
  }
  if (const auto* option = find_long_option(desc, name)) return *option;
  std::vector<std::string> names;
  for (const auto& option : desc.options()) {
    std::string spelled = option->long_name();
    const bool reserved = std::any_of(reserved_list.begin(), reserved_list.end(),
                                      [&](const auto& r) { return r.first == spelled; });
    if (reserved) continue;
    std::replace(spelled.begin(), spelled.end(), '-', '_');
    names.push_back(spelled);
  }
  std::string spelled_key = key;
  std::replace(spelled_key.begin(), spelled_key.end(), '-', '_');
  throw Error(fmt::format("unknown {} option '{}'{} (tasim {} --help lists them; write '-' as '_')", cmd, key,
                          did_you_mean(spelled_key, names), cmd));
}

bool is_switch(const po::option_description& option) { return option.semantic()->max_tokens() == 0; }

// Appends `--name value` (a switch: `--name` when true, nothing when false).
void append_run_option(std::vector<std::string>& args, const po::option_description& option,
                       const std::string& value) {
  if (is_switch(option)) {
    if (value == "true") args.push_back("--" + option.long_name());
    return;
  }
  args.push_back("--" + option.long_name());
  args.push_back(value);
}

// An option's value checked as its command parses it (type only: an int option gets an int);
// ranges are the command's own business, so a point with a bad value fails as that point.
void check_run_value(const std::string& source, const YAML::Node& node, const std::string& what,
                     const po::option_description& option, const std::string& value,
                     const po::options_description& desc, SweepCommand command) {
  if (is_switch(option)) {
    if (value != "true" && value != "false") {
      fail(source, node,
           fmt::format("{}: {} option '{}' is a switch: true or false, got '{}'", what, command_name(command),
                       option.long_name(), value));
    }
    return;
  }
  std::vector<std::string> args;
  append_run_option(args, option, value);
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(desc).run(), vm);
  } catch (po::error& e) {
    fail(source, node, fmt::format("{}: {}", what, option_error_message(e)));
  }
}

// "unknown key 'core.matrx.rows' (did you mean 'core.matrix.rows'?)": the architecture loader's
// own message for --set, so a typo gets the same hint as on the command line.
std::string unknown_arch_key_message(const std::string& key) {
  const std::string assignment = key + "=0";
  try {
    load_arch_text("", "probe", {assignment});
  } catch (const Error& e) {
    std::string message = e.what();
    const std::string prefix = "--set " + assignment + ": ";
    if (message.compare(0, prefix.size(), prefix) == 0) message = message.substr(prefix.size());
    return message;
  }
  return fmt::format("unknown architecture key '{}'", key);
}

// base.set as "key=value" strings; nested maps are joined with dots (`core: {sram: {...}}`).
void parse_sets(const std::string& source, const YAML::Node& map, const std::string& prefix,
                std::vector<std::string>& sets) {
  if (!map.IsMap())
    fail(source, map,
         fmt::format("base.set expects a mapping of architecture keys to values, got {}",
                     yaml_node_kind(map)));
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = (prefix.empty() ? "" : prefix + ".") + scalar_text(source, it->first, "base.set");
    if (it->second.IsMap() && is_arch_section(key)) {
      parse_sets(source, it->second, key, sets);
      continue;
    }
    if (!find_arch_key(key))
      fail(source, it->first, fmt::format("base.set: {}", unknown_arch_key_message(key)));
    const std::string value = scalar_text(source, it->second, "base.set." + key);
    const std::string assignment = key + "=" + value;
    if (std::any_of(sets.begin(), sets.end(),
                    [&](const std::string& s) { return s.rfind(key + "=", 0) == 0; })) {
      fail(source, it->first, fmt::format("base.set: '{}' given twice", key));
    }
    sets.push_back(assignment);
  }
}

// The key of the other command's options in a spec ("serve" in a run spec), which it may not use.
const char* other_command_name(SweepCommand command) {
  return command_name(command == SweepCommand::serve ? SweepCommand::run : SweepCommand::serve);
}

// base.run (or base.serve): the command's options by name, each checked as the command parses it.
void parse_base_options(const std::string& source, const YAML::Node& options, SweepSpec& spec,
                        const po::options_description& desc) {
  const std::string cmd = command_name(spec.command);
  const std::string where = "base." + cmd;
  if (!options.IsMap())
    fail(source, options,
         fmt::format("{} expects a mapping of tasim {} options, got {}", where, cmd, yaml_node_kind(options)));
  for (auto it = options.begin(); it != options.end(); ++it) {
    const std::string key = scalar_text(source, it->first, where);
    const po::option_description* option = nullptr;
    try {
      option = &command_option(key, desc, spec.command);
    } catch (const Error& e) {
      fail(source, it->first, fmt::format("{}: {}", where, e.what()));
    }
    if (std::any_of(spec.run.begin(), spec.run.end(),
                    [&](const RunOption& r) { return r.name == option->long_name(); })) {
      fail(source, it->first, fmt::format("{}: '{}' given twice", where, key));
    }
    const std::string value = scalar_text(source, it->second, where + "." + key);
    check_run_value(source, it->second, where + "." + key, *option, value, desc, spec.command);
    spec.run.push_back({option->long_name(), value});
  }
}

void parse_base(const std::string& source, const YAML::Node& base, SweepSpec& spec,
                const po::options_description& desc) {
  const std::string cmd = command_name(spec.command);
  if (!base.IsMap())
    fail(source, base,
         fmt::format("base expects a mapping (arch, model, {}, set), got {}", cmd, yaml_node_kind(base)));
  // base.run with command: serve (or base.serve without it) is a spec written for the other command.
  const std::string other = other_command_name(spec.command);
  for (auto it = base.begin(); it != base.end(); ++it) {
    if (!it->first.IsScalar() || it->first.Scalar() != other) continue;
    fail(source, it->first,
         spec.command == SweepCommand::serve
             ? "base.run: this spec runs tasim serve (command: serve): give its options as base.serve"
             : "base.serve: serve options go with command: serve (this spec runs tasim run: give its options as "
               "base.run)");
  }
  check_keys(source, base, spec.command == SweepCommand::serve ? kServeBaseKeys : kBaseKeys, "base");
  if (const YAML::Node arch = base["arch"]) spec.arch = scalar_text(source, arch, "base.arch");
  if (const YAML::Node model = base["model"]) spec.model = scalar_text(source, model, "base.model");
  if (const YAML::Node options = base[cmd]) parse_base_options(source, options, spec, desc);
  if (const YAML::Node set = base["set"]) parse_sets(source, set, "", spec.sets);
}

// "core.matrix.{rows,cols}" -> {"core.matrix.rows", "core.matrix.cols"}; a path without braces
// is itself; an empty result for malformed braces (unbalanced, nested, empty alternatives).
std::vector<std::string> expand_braces(const std::string& path) {
  const auto open = path.find('{');
  const auto close = path.find('}');
  if (open == std::string::npos && close == std::string::npos) return {path};
  if (open == std::string::npos || close == std::string::npos || close < open ||
      path.find_first_of("{}", open + 1) != close || path.find_first_of("{}", close + 1) != std::string::npos) {
    return {};
  }
  std::vector<std::string> keys;
  const std::string inside = path.substr(open + 1, close - open - 1);
  for (std::size_t start = 0;;) {
    const auto comma = inside.find(',', start);
    const std::string alternative = inside.substr(start, comma - start);
    if (alternative.empty()) return {};
    keys.push_back(path.substr(0, open) + alternative + path.substr(close + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return keys;
}

// A `run.*` or `serve.*` axis of the spec's own command (the other one's is an error).
void command_option_axis(const std::string& source, const YAML::Node& key_node, SweepCommand command,
                         const po::options_description& desc, Axis& axis) {
  const std::string& path = axis.path;
  const std::string prefix = path.substr(0, path.find('.'));
  if (prefix != command_name(command)) {
    fail(source, key_node,
         command == SweepCommand::serve
             ? fmt::format("axis '{}': this spec runs tasim serve (command: serve): vary its options with "
                           "serve.<option> axes",
                           path)
             : fmt::format("axis '{}': serve.<option> axes go with command: serve (this spec runs tasim run: "
                           "vary its options with run.<option> axes)",
                           path));
  }
  axis.kind = command == SweepCommand::serve ? AxisKind::serve_option : AxisKind::run_option;
  try {
    axis.key = command_option(path.substr(prefix.size() + 1), desc, command).long_name();
  } catch (const Error& e) {
    fail(source, key_node, fmt::format("axis '{}': {}", path, e.what()));
  }
}

Axis axis_of(const std::string& source, const YAML::Node& key_node, SweepCommand command,
             const po::options_description& desc) {
  Axis axis;
  axis.path = scalar_text(source, key_node, "axes");
  const std::string& path = axis.path;
  if (path == "arch") {
    axis.kind = AxisKind::arch;
  } else if (path == "model") {
    axis.kind = AxisKind::model;
  } else if (path.rfind("arch.", 0) == 0) {
    axis.kind = AxisKind::arch_key;
    axis.key = path.substr(5);
    axis.arch_keys = expand_braces(axis.key);
    if (axis.arch_keys.empty())
      fail(source, key_node,
           fmt::format("axis '{}': a braced path names its keys as prefix.{{a,b}}.suffix, e.g. "
                       "arch.core.matrix.{{rows,cols}}",
                       path));
    for (const auto& k : axis.arch_keys) {
      if (!find_arch_key(k)) fail(source, key_node, fmt::format("axis '{}': {}", path, unknown_arch_key_message(k)));
    }
  } else if (path.rfind("run.", 0) == 0 || path.rfind("serve.", 0) == 0) {
    command_option_axis(source, key_node, command, desc, axis);
  } else {
    // A bare name: say which prefix it wants when one fits.
    const std::string cmd = command_name(command);
    std::string hint;
    std::string option_name = path;
    std::replace(option_name.begin(), option_name.end(), '_', '-');
    if (find_long_option(desc, option_name)) {
      hint = fmt::format(" (did you mean '{}.{}'?)", cmd, path);
    } else if (find_arch_key(path)) {
      hint = fmt::format(" (did you mean 'arch.{}'?)", path);
    } else {
      hint = did_you_mean(path, {"arch", "model"});
    }
    fail(source, key_node,
         fmt::format("unknown axis '{}'{}: an axis is arch, model, arch.<key> (an architecture key) or "
                     "{}.<option> (a tasim {} option)",
                     path, hint, cmd, cmd));
  }
  return axis;
}

std::vector<std::string> axis_values(const std::string& source, const Axis& axis, const YAML::Node& node) {
  std::vector<std::string> values;
  if (node.IsSequence()) {
    if (node.size() == 0) fail(source, node, fmt::format("axis '{}' has no values", axis.path));
    for (const auto& v : node) {
      const std::string value = scalar_text(source, v, fmt::format("axis '{}'", axis.path));
      if (std::find(values.begin(), values.end(), value) != values.end()) {
        fail(source, v, fmt::format("axis '{}': value '{}' is given twice", axis.path, value));
      }
      values.push_back(value);
    }
    return values;
  }
  if (node.IsMap()) {
    check_keys(source, node, kRangeKeys, fmt::format("the range of axis '{}'", axis.path));
    Range range;
    const auto need = [&](const char* key) {
      if (!node[key]) fail(source, node, fmt::format("the range of axis '{}' needs {}:", axis.path, key));
      return scalar_text(source, node[key], fmt::format("axis '{}' {}", axis.path, key));
    };
    range.from = need("from");
    range.to = need("to");
    if (node["step"])
      range.step = scalar_text(source, node["step"], fmt::format("axis '{}' step", axis.path));
    if (node["factor"])
      range.factor = scalar_text(source, node["factor"], fmt::format("axis '{}' factor", axis.path));
    try {
      return expand_range(range);
    } catch (const Error& e) {
      fail(source, node, fmt::format("axis '{}': {}", axis.path, e.what()));
    }
  }
  fail(source, node,
       fmt::format(
           "axis '{}' expects a list of values or a range {{from, to, step}} / {{from, to, factor}}, got {}",
           axis.path, yaml_node_kind(node)));
}

std::string default_run_value(const po::options_description& desc, const std::string& name) {
  po::variables_map vm;
  po::store(po::command_line_parser(std::vector<std::string>{}).options(desc).run(), vm);
  return vm.count(name) ? vm[name].as<std::string>() : "";
}

// What the points give `--arch` or `--model` (`kind`): the axis's values, else base.<name>, else
// tasim run's default; with the spec node and label that messages about them point at.
struct Choices {
  std::vector<std::string> values;
  YAML::Node node;
  std::string label;
};

Choices choices_of(AxisKind kind, const std::string& name, const std::optional<std::string>& base_value,
                   const YAML::Node& root, const SweepSpec& spec, const po::options_description& desc) {
  for (const auto& a : spec.axes) {
    if (a.kind == kind) return {a.values, root["axes"][name], fmt::format("axis '{}'", name)};
  }
  const YAML::Node base = root["base"];
  return {{base_value.value_or(default_run_value(desc, name))},
          base && base[name] ? base[name] : root,
          "base." + name};
}

// Every architecture and model a point may name loads (with base.set), so a typo in a preset
// name or a bad base.set stops the sweep before anything runs.
void check_archs_and_models(const std::string& source, const YAML::Node& root, const SweepSpec& spec,
                            const po::options_description& desc) {
  const Choices archs = choices_of(AxisKind::arch, "arch", spec.arch, root, spec, desc);
  for (const auto& arch : archs.values) {
    try {
      load_arch(resolve_arch(spec, arch), spec.sets);
    } catch (const Error& e) {
      // A bad override names itself (--set key=value): point at base.set rather than the arch.
      const YAML::Node base = root["base"];
      if (std::string(e.what()).rfind("--set ", 0) == 0 && base && base["set"]) {
        fail(source, base["set"], fmt::format("base.set: {}", e.what()));
      }
      fail(source, archs.node, fmt::format("{}: {}", archs.label, e.what()));
    }
  }
  const Choices models = choices_of(AxisKind::model, "model", spec.model, root, spec, desc);
  for (const auto& model : models.values) {
    try {
      workloads::load_model(resolve_model(spec, model));
    } catch (const Error& e) {
      fail(source, models.node, fmt::format("{}: {}", models.label, e.what()));
    }
  }
}

void check_constraints(const std::string& source, const YAML::Node& list, SweepSpec& spec) {
  if (!list.IsSequence()) {
    fail(source, list,
         fmt::format("constraints expects a list such as [\"area_mm2 <= 800\"], got {}",
                     yaml_node_kind(list)));
  }
  std::vector<std::string> names;
  for (const auto& a : spec.axes) names.push_back(a.path);
  for (const auto& m : metric_columns(spec.command)) names.push_back(m);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string what = fmt::format("constraints[{}]", i);
    const std::string text = scalar_text(source, list[i], what);
    Constraint c;
    try {
      c = parse_constraint(text);
    } catch (const Error& e) {
      fail(source, list[i], fmt::format("{}: {}", what, e.what()));
    }
    if (std::find(names.begin(), names.end(), c.name) == names.end()) {
      fail(source, list[i],
           fmt::format("{}: unknown name '{}'{}: a constraint names an axis or a metric ({})", what, c.name,
                       did_you_mean(c.name, names), fmt::join(names, ", ")));
    }
    const auto axis =
        std::find_if(spec.axes.begin(), spec.axes.end(), [&](const Axis& a) { return a.path == c.name; });
    if (axis != spec.axes.end()) {
      for (const auto& v : axis->values) {
        if (!parse_number(v))
          fail(source, list[i],
               fmt::format("{}: axis '{}' has a value that is not a number: '{}'", what, c.name, v));
      }
    }
    spec.constraints.push_back(c);
  }
}

// `command:` run (the default) or serve; serve needs `tasim serve`'s options to check the spec with.
SweepCommand command_of(const std::string& source, const YAML::Node& node,
                        const po::options_description* serve_options) {
  const std::string text = scalar_text(source, node, "command");
  if (text == "run") return SweepCommand::run;
  if (text == "serve") {
    if (!serve_options) fail(source, node, "command: serve is not available here (no tasim serve options given)");
    return SweepCommand::serve;
  }
  fail(source, node, fmt::format("command '{}' is not one of: run, serve{}", text, did_you_mean(text, {"run", "serve"})));
}

bool is_integer_text(const std::string& s) {
  const std::size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
  return s.size() > start && s.size() - start <= 18 &&
         s.find_first_not_of("0123456789", start) == std::string::npos;
}

// Shortest text of a computed value, after rounding away the binary noise of the arithmetic.
std::string range_value_text(double v) {
  const double rounded = std::stod(fmt::format("{:.12g}", v));
  return fmt::format("{}", rounded == 0.0 ? 0.0 : rounded);
}

}  // namespace

std::vector<std::string> expand_range(const Range& range) {
  if (range.step && range.factor) throw Error("give step: (linear) or factor: (geometric), not both");
  if (!range.step && !range.factor) throw Error("a range needs step: (linear) or factor: (geometric)");
  const std::string& by_text = range.step ? *range.step : *range.factor;
  const auto number = [](const char* key, const std::string& text) {
    const auto v = parse_number(text);
    if (!v) throw Error(fmt::format("{}: '{}' is not a number", key, text));
    return *v;
  };
  const double from = number("from", range.from);
  const double to = number("to", range.to);
  const double by = number(range.step ? "step" : "factor", by_text);
  if (from > to) throw Error(fmt::format("from {} is above to {}", range.from, range.to));
  const bool integers = is_integer_text(range.from) && is_integer_text(range.to) && is_integer_text(by_text);
  const auto too_many = [&]() {
    return Error(fmt::format("the range gives more than {} values", kMaxRangeValues));
  };
  std::vector<std::string> values;
  if (range.step) {
    if (by <= 0) throw Error(fmt::format("step {} must be > 0", by_text));
    if ((to - from) / by >= kMaxRangeValues) throw too_many();
    if (integers) {
      const long long f = std::stoll(range.from), t = std::stoll(range.to), s = std::stoll(by_text);
      for (long long v = f; v <= t; v += s) values.push_back(fmt::format("{}", v));
    } else {
      // i x step rather than repeated addition, and a little slack so 0.1..0.3 step 0.1 ends at 0.3.
      const auto n = static_cast<std::size_t>(std::floor((to - from) / by + 1e-9));
      for (std::size_t i = 0; i <= n; ++i)
        values.push_back(range_value_text(from + static_cast<double>(i) * by));
    }
    return values;
  }
  if (by <= 1) throw Error(fmt::format("factor {} must be > 1", by_text));
  if (from <= 0) throw Error(fmt::format("a geometric range starts above 0, not at {}", range.from));
  if (integers) {
    const long long t = std::stoll(range.to), f = std::stoll(by_text);
    for (long long v = std::stoll(range.from); v <= t; v *= f) {
      values.push_back(fmt::format("{}", v));
      if (v > t / f) break;  // the next one is past `to` (and might overflow)
    }
    return values;
  }
  for (std::size_t i = 0;; ++i) {
    const double v = from * std::pow(by, static_cast<double>(i));
    if (v > to * (1 + 1e-12)) break;
    if (values.size() >= kMaxRangeValues) throw too_many();
    values.push_back(range_value_text(v));
  }
  return values;
}

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t SplitMix64::below(std::uint64_t n) {
  // Reject the top 2^64 mod n values so that every residue is equally likely.
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t r = next();
    if (r >= threshold) return r % n;
  }
}

std::vector<std::uint64_t> sample_indices(std::uint64_t population, std::uint64_t samples,
                                          std::uint64_t seed) {
  if (samples > population) {
    throw Error(fmt::format("samples: {} is more than the {} points of the grid", samples, population));
  }
  SplitMix64 rng(seed);
  std::set<std::uint64_t> chosen;
  for (std::uint64_t j = population - samples; j < population; ++j) {
    const std::uint64_t t = rng.below(j + 1);
    if (!chosen.insert(t).second) chosen.insert(j);
  }
  return {chosen.begin(), chosen.end()};
}

std::uint64_t grid_size(const SweepSpec& spec) {
  std::uint64_t n = 1;
  for (const auto& a : spec.axes) {
    const std::uint64_t len = a.values.size();
    if (n > std::numeric_limits<std::uint64_t>::max() / len) return std::numeric_limits<std::uint64_t>::max();
    n *= len;
  }
  return n;
}

std::vector<Point> sweep_points(const SweepSpec& spec) {
  // Grid index -> one value per axis, the last axis fastest.
  const auto grid_point = [&](std::uint64_t g) {
    std::vector<std::string> values(spec.axes.size());
    for (std::size_t a = spec.axes.size(); a-- > 0;) {
      const auto& axis = spec.axes[a].values;
      values[a] = axis[g % axis.size()];
      g /= axis.size();
    }
    return values;
  };
  std::vector<Point> points;
  switch (spec.mode) {
    case SweepMode::grid: {
      const std::uint64_t n = grid_size(spec);
      points.reserve(n);
      for (std::uint64_t g = 0; g < n; ++g) points.push_back({points.size(), grid_point(g)});
      break;
    }
    case SweepMode::zip: {
      const std::size_t n = spec.axes.empty() ? 1 : spec.axes.front().values.size();
      for (std::size_t i = 0; i < n; ++i) {
        Point p{i, {}};
        for (const auto& a : spec.axes) p.values.push_back(a.values[i]);
        points.push_back(p);
      }
      break;
    }
    case SweepMode::random:
      for (const std::uint64_t g : sample_indices(grid_size(spec), spec.samples, spec.seed)) {
        points.push_back({points.size(), grid_point(g)});
      }
      break;
  }
  return points;
}

SweepSpec parse_sweep_spec(const std::string& yaml, const std::string& source, const std::string& dir,
                           const po::options_description& run_options, const po::options_description* serve_options) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: malformed YAML: {}", yaml_where(source, e.mark), e.msg));
  }
  if (!root.IsMap()) {
    fail(source, root,
         fmt::format("a sweep spec is a mapping (base:, axes:, mode:, constraints:), got {}",
                     yaml_node_kind(root)));
  }
  SweepSpec spec;
  spec.source = source;
  spec.dir = dir;
  try {
    // First: the command decides which options base and the axes may name, and the metrics.
    if (const YAML::Node command = root["command"]) spec.command = command_of(source, command, serve_options);
    if (spec.command == SweepCommand::serve) {
      check_keys(source, root, kServeTopKeys, "");
    } else {
      check_keys(source, root, kTopKeys, "", {"command"});
    }
    const po::options_description& desc = spec.command == SweepCommand::serve ? *serve_options : run_options;
    if (const YAML::Node base = root["base"]) parse_base(source, base, spec, desc);
    if (const YAML::Node axes = root["axes"]) {
      if (!axes.IsMap())
        fail(source, axes,
             fmt::format("axes expects a mapping of axis paths to values, got {}", yaml_node_kind(axes)));
      std::set<std::string> targets;  // run.context_len and run.context-len are one option
      for (auto it = axes.begin(); it != axes.end(); ++it) {
        Axis axis = axis_of(source, it->first, spec.command, desc);
        std::vector<std::string> keys = axis.arch_keys;
        if (keys.empty()) keys.push_back(axis.key);
        for (const auto& k : keys) {
          const std::string target = fmt::format("{}:{}", static_cast<int>(axis.kind), k);
          if (!targets.insert(target).second)
            fail(source, it->first,
                 keys.size() == 1 ? fmt::format("axis '{}' is given twice", axis.path)
                                  : fmt::format("axis '{}' sets {} a second time", axis.path, k));
        }
        axis.values = axis_values(source, axis, it->second);
        if (is_command_option(axis.kind)) {
          const auto& option = command_option(axis.key, desc, spec.command);
          for (std::size_t i = 0; i < axis.values.size(); ++i) {
            const YAML::Node value_node = it->second.IsSequence() ? it->second[i] : it->second;
            check_run_value(source, value_node, fmt::format("axis '{}'", axis.path), option, axis.values[i],
                            desc, spec.command);
          }
        }
        spec.axes.push_back(std::move(axis));
      }
    }
    if (const YAML::Node mode = root["mode"]) {
      const std::string m = scalar_text(source, mode, "mode");
      if (m == "grid") {
        spec.mode = SweepMode::grid;
      } else if (m == "zip") {
        spec.mode = SweepMode::zip;
      } else if (m == "random") {
        spec.mode = SweepMode::random;
      } else {
        fail(source, mode,
             fmt::format("mode '{}' is not one of: grid, zip, random{}", m,
                         did_you_mean(m, {"grid", "zip", "random"})));
      }
    }
    const YAML::Node samples = root["samples"];
    const YAML::Node seed = root["seed"];
    if (spec.mode != SweepMode::random) {
      if (samples) fail(source, samples, "samples: goes with mode: random");
      if (seed) fail(source, seed, "seed: goes with mode: random");
    } else {
      if (!samples) fail(source, root["mode"], "mode: random needs samples: (how many points to draw)");
      spec.samples = count_value(source, samples, "samples");
      if (spec.samples == 0) fail(source, samples, "samples: must be >= 1");
      if (seed) spec.seed = count_value(source, seed, "seed");
    }
    const std::uint64_t grid = grid_size(spec);
    if (spec.mode == SweepMode::zip) {
      for (const auto& a : spec.axes) {
        if (a.values.size() != spec.axes.front().values.size()) {
          std::vector<std::string> lengths;
          for (const auto& b : spec.axes)
            lengths.push_back(fmt::format("{} has {}", b.path, b.values.size()));
          fail(source, root["axes"],
               fmt::format("mode: zip needs axes of one length: {}", fmt::join(lengths, ", ")));
        }
      }
    } else if (spec.mode == SweepMode::random) {
      if (spec.samples > grid) {
        fail(source, samples,
             fmt::format("samples: {} is more than the {} points of the grid", spec.samples, grid));
      }
      if (spec.samples > kMaxPoints)
        fail(source, samples, fmt::format("samples: more than {} points", kMaxPoints));
    } else if (grid > kMaxPoints) {
      fail(source, root["axes"],
           fmt::format(
               "the grid has {} points, more than {}: use mode: random with samples:",
               grid == std::numeric_limits<std::uint64_t>::max() ? "over 2^64" : fmt::format("{}", grid),
               kMaxPoints));
    }
    if (const YAML::Node constraints = root["constraints"]) check_constraints(source, constraints, spec);
    check_archs_and_models(source, root, spec, desc);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: malformed YAML: {}", yaml_where(source, e.mark), e.msg));
  }
  return spec;
}

SweepSpec load_sweep_spec(const std::string& path, const po::options_description& run_options,
                          const po::options_description* serve_options) {
  return parse_sweep_spec(read_file_bytes(path, "sweep spec"), path,
                          std::filesystem::path(path).parent_path().string(), run_options, serve_options);
}

Cells results_header(const SweepSpec& spec, bool pareto) {
  Cells header{kPointColumn};
  for (const auto& a : spec.axes) header.push_back(a.path);
  header.push_back(kStatusColumn);
  header.push_back(kErrorColumn);
  for (const auto& m : metric_columns(spec.command)) header.push_back(m);
  if (pareto) header.push_back(kParetoColumn);
  return header;
}

std::vector<std::string> point_run_args(const SweepSpec& spec, const Point& point,
                                        const po::options_description& desc) {
  const auto axis_value = [&](AxisKind kind, const std::string& key) -> const std::string* {
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      if (spec.axes[a].kind == kind && spec.axes[a].key == key) return &point.values[a];
    }
    return nullptr;
  };
  std::vector<std::string> args;
  const std::string* arch = axis_value(AxisKind::arch, "");
  if (arch || spec.arch) args.insert(args.end(), {"--arch", resolve_arch(spec, arch ? *arch : *spec.arch)});
  const std::string* model = axis_value(AxisKind::model, "");
  if (model || spec.model)
    args.insert(args.end(), {"--model", resolve_model(spec, model ? *model : *spec.model)});
  const auto add_option = [&](const std::string& name, const std::string& value) {
    const auto& paths = path_options(spec.command);
    const bool is_path = std::find(paths.begin(), paths.end(), name) != paths.end();
    // A serve drafter is a model like --model's, or 'ngram' or 'mtp' (the model's own module).
    const bool is_model =
        spec.command == SweepCommand::serve && name == "drafter" && value != "ngram" && value != "mtp";
    append_run_option(args, desc.find(name, false),
                      is_path ? relative_to(spec.dir, value) : is_model ? resolve_model(spec, value) : value);
  };
  const AxisKind option_kind = spec.command == SweepCommand::serve ? AxisKind::serve_option : AxisKind::run_option;
  for (const auto& r : spec.run) {
    const std::string* v = axis_value(option_kind, r.name);
    add_option(r.name, v ? *v : r.value);
  }
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    const Axis& axis = spec.axes[a];
    const bool in_base =
        std::any_of(spec.run.begin(), spec.run.end(), [&](const RunOption& r) { return r.name == axis.key; });
    if (is_command_option(axis.kind) && !in_base) add_option(axis.key, point.values[a]);
  }
  for (const auto& s : spec.sets) args.insert(args.end(), {"--set", s});
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    if (spec.axes[a].kind != AxisKind::arch_key) continue;
    for (const auto& key : spec.axes[a].arch_keys) args.insert(args.end(), {"--set", key + "=" + point.values[a]});
  }
  return args;
}

bool known_before_run(const SweepSpec& spec, const Constraint& c) {
  if (c.name == kAreaMetric || c.name == kChipsMetric || c.name == kPeakPowerMetric) return true;
  return std::any_of(spec.axes.begin(), spec.axes.end(), [&](const Axis& a) { return a.path == c.name; });
}

int chips_of_run(int tp, int ep, int pp) { return std::max(tp, ep) * pp; }

PointEstimate estimate_point(const std::vector<std::string>& run_args, const po::options_description& desc,
                             bool with_area) {
  PointEstimate estimate;
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(run_args).options(desc).run(), vm);
  } catch (const po::error&) {
    return estimate;
  }
  const auto count = [&](const char* name) { return vm.count(name) ? vm[name].as<int>() : 1; };
  estimate.chips = chips_of_run(count("tp"), count("ep"), count("pp"));
  if (!with_area) return estimate;
  // The architecture as `tasim run` builds it.
  try {
    const ChipConfig chip = build_arch(arch_request_from(vm)).chip;
    estimate.area_mm2 = chip_area(chip).total_mm2() * *estimate.chips;
    estimate.chip_peak_power_w = peak_power_w(chip);
  } catch (const Error&) {
    // Left unknown: the point runs and its own error says what is wrong.
  }
  return estimate;
}

}  // namespace tasim::sweep
