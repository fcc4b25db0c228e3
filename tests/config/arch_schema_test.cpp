#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>

#include <yaml-cpp/yaml.h>

#include "sim/config/arch_loader.h"
#include "sim/config/arch_schema.h"

using namespace tasim;
using Catch::Matchers::Contains;

namespace {

void collect_leaf_paths(const YAML::Node& node, const std::string& prefix, std::vector<std::string>& out) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string path = prefix.empty() ? it->first.Scalar() : prefix + "." + it->first.Scalar();
    if (it->second.IsMap())
      collect_leaf_paths(it->second, path, out);
    else
      out.push_back(path);
  }
}

const ArchKey& key(const std::string& path) {
  const ArchKey* k = find_arch_key(path);
  REQUIRE(k != nullptr);
  return *k;
}

double default_of(const std::string& path) {
  ArchValue v;
  std::string why;
  REQUIRE(parse_arch_value(key(path), key(path).default_text, v, why));
  return v.number;
}

}  // namespace

TEST_CASE("schema rows are well formed", "[schema]") {
  std::set<std::string> paths;
  for (const auto& k : arch_schema()) {
    INFO(k.path);
    CHECK(paths.insert(k.path).second);  // unique
    CHECK_FALSE(is_arch_section(k.path));  // a key is never also a section
    CHECK_FALSE(k.description.empty());
    CHECK_FALSE(k.unit.empty());
    if (k.required) {
      CHECK(k.default_text.empty());
    } else if (k.type != ArchKeyType::text) {
      ArchValue v;
      std::string why;
      CHECK(parse_arch_value(k, k.default_text, v, why));  // the default is valid
      CHECK(why.empty());
    }
    if (k.type == ArchKeyType::integer || k.type == ArchKeyType::number) CHECK(k.min <= k.max);
    if (k.type == ArchKeyType::choice) CHECK_FALSE(k.choice_list().empty());
    if (k.path != "description") {
      CHECK(k.set);
      CHECK(k.get);
    }
  }
  // Keys of one section are contiguous, so the YAML dump opens each section once.
  std::set<std::string> closed;
  std::string current;
  for (const auto& k : arch_schema()) {
    const std::string section = k.path.substr(0, k.path.rfind('.') == std::string::npos ? 0 : k.path.rfind('.'));
    if (section != current) {
      INFO(k.path);
      CHECK(closed.count(section) == 0);
      closed.insert(current);
      current = section;
    }
  }
}

TEST_CASE("every key's setter and getter reach their own ChipConfig field", "[schema]") {
  // Setting one key to a non-default value changes that key's getter and no other's.
  const ChipConfig base = load_arch("small");
  for (const auto& k : arch_schema()) {
    if (!k.set) continue;
    INFO(k.path);
    std::string text;
    switch (k.type) {
      case ArchKeyType::integer: text = k.get(base) == "1" ? "2" : "1"; break;
      case ArchKeyType::number: text = k.get(base) == "0.5" ? "0.25" : "0.5"; break;
      case ArchKeyType::choice: text = k.get(base) == k.choice_list()[0] ? k.choice_list()[1] : k.choice_list()[0]; break;
      case ArchKeyType::text: text = "changed"; break;
    }
    if (k.power_of_two || k.min > 0.5) text = std::to_string(static_cast<long long>(k.min) * 2);
    ArchValue v;
    std::string why;
    REQUIRE(parse_arch_value(k, text, v, why));
    ChipConfig changed = base;
    k.set(changed, v);
    CHECK(k.get(changed) == text);
    for (const auto& other : arch_schema()) {
      if (other.get && other.path != k.path) CHECK(other.get(changed) == other.get(base));
    }
  }
}

TEST_CASE("the schema covers every key the presets use", "[schema][presets]") {
  for (const auto& name : preset_names()) {
    std::vector<std::string> paths;
    collect_leaf_paths(YAML::Load(preset_yaml(name)), "", paths);
    const bool has_base = std::find(paths.begin(), paths.end(), "base") != paths.end();
    for (const auto& p : paths) {
      INFO(name << ": " << p);
      if (p != "base") CHECK(find_arch_key(p) != nullptr);
    }
    // Presets state every required key themselves, unless they build on another preset.
    if (has_base) continue;
    for (const auto& k : arch_schema()) {
      INFO(name << ": " << k.path);
      if (k.required) CHECK(std::find(paths.begin(), paths.end(), k.path) != paths.end());
    }
  }
}

TEST_CASE("the schema has a key for every vector op and dtype", "[schema]") {
  for (int i = 0; i < isa::kNumVectorOps; ++i) {
    const std::string path = "core.vector.cycles_per_element." + std::string(isa::vector_op_name(i));
    INFO(path);
    REQUIRE(find_arch_key(path));
    CHECK_THAT(key(path).description, !Contains("no cost model documented"));
  }
  for (int t = 0; t < isa::kNumDTypes; ++t) {
    CHECK(find_arch_key("core.matrix.macs_per_pe_per_cycle." +
                        std::string(isa::dtype_name(static_cast<isa::DType>(t)))));
  }
  CHECK(arch_sections() == std::vector<std::string>{"core", "core.matrix", "core.matrix.macs_per_pe_per_cycle",
                                                    "core.vector", "core.vector.cycles_per_element", "core.sram",
                                                    "core.dma", "hbm", "llc", "noc", "system", "system.link",
                                                    "system.switch", "software", "cost", "cost.matrix",
                                                    "cost.matrix.mac_area_um2", "cost.matrix.pj_per_mac", "cost.vector", "cost.sram", "cost.hbm",
                                                    "cost.link", "cost.noc"});
}

TEST_CASE("vector op defaults: transcendentals dearer than add, softmax several passes", "[schema]") {
  const double add = default_of("core.vector.cycles_per_element.add");
  CHECK(default_of("core.vector.cycles_per_element.mul") == add);
  for (const char* op : {"exp", "recip", "rsqrt"}) CHECK(default_of(std::string("core.vector.cycles_per_element.") + op) > add);
  const double exp = default_of("core.vector.cycles_per_element.exp");
  CHECK(default_of("core.vector.cycles_per_element.softmax") >= exp + 2 * add);  // max, exp-sum, scale passes
  CHECK(default_of("core.vector.cycles_per_element.layernorm") > default_of("core.vector.cycles_per_element.rmsnorm"));
  CHECK(default_of("core.vector.cycles_per_element.silu") > exp);
}

TEST_CASE("values parse by type", "[schema]") {
  ArchValue v;
  std::string why;
  CHECK(parse_arch_value(key("cores"), "+8", v, why));
  CHECK(v.integer == 8);
  CHECK_FALSE(parse_arch_value(key("cores"), "", v, why));
  CHECK(why == "cores expects an integer, got ''");
  CHECK_FALSE(parse_arch_value(key("cores"), "8 cores", v, why));
  CHECK(parse_arch_value(key("clock_ghz"), "1.25", v, why));
  CHECK(v.number == 1.25);
  CHECK(parse_arch_value(key("clock_ghz"), "2", v, why));
  CHECK(v.number == 2.0);
  CHECK_FALSE(parse_arch_value(key("clock_ghz"), "inf", v, why));
  CHECK(parse_arch_value(key("core.matrix.dataflow"), "is", v, why));
  CHECK(v.choice == 2);
  CHECK_FALSE(parse_arch_value(key("core.matrix.dataflow"), "WS", v, why));
  CHECK(arch_type_name(key("core.matrix.dataflow")) == "one of ws, os, is");
  CHECK(arch_range_text(key("hbm.interleave_bytes")) == "[32, 1048576], power of 2");
  CHECK(arch_range_text(key("core.sram.capacity_mib")) == "[0.0625, 4096]");
}

TEST_CASE("system keys: types, defaults, ranges and the topology names", "[schema][system]") {
  // One row per key of SystemConfig, each with a unit and its default documented.
  CHECK(key("system.chips").type == ArchKeyType::integer);
  CHECK(key("system.chips").default_text == "1");
  CHECK(arch_range_text(key("system.chips")) == "[1, 256]");  // the ISA's 8-bit chip field
  CHECK(arch_type_name(key("system.topology")) == "one of ring, torus2d, fully-connected, switch");
  CHECK(key("system.topology").default_text == "ring");
  CHECK(key("system.torus_rows").default_text == "0");
  CHECK(key("system.link.gbps_per_direction").type == ArchKeyType::number);
  CHECK(key("system.link.gbps_per_direction").unit == "GB/s");
  CHECK(key("system.link.latency_ns").unit == "ns");
  CHECK(key("system.link.ports_per_chip").type == ArchKeyType::integer);
  CHECK(key("system.switch.gbps_per_port").unit == "GB/s");
  CHECK(key("system.switch.latency_ns").unit == "ns");
  for (const char* path : {"system.link.gbps_per_direction", "system.switch.gbps_per_port"})
    CHECK_THAT(key(path).description, Contains("direction"));

  // The defaults agree with SystemConfig's own initializers.
  const SystemConfig plain;
  CHECK(default_of("system.chips") == plain.chips);
  CHECK(default_of("system.torus_rows") == plain.torus_rows);
  CHECK(default_of("system.link.gbps_per_direction") == plain.link.gbps_per_direction);
  CHECK(default_of("system.link.latency_ns") == plain.link.latency_ns);
  CHECK(default_of("system.link.ports_per_chip") == plain.link.ports_per_chip);
  CHECK(default_of("system.switch.gbps_per_port") == plain.switch_.gbps_per_port);
  CHECK(default_of("system.switch.latency_ns") == plain.switch_.latency_ns);

  // Each topology name sets its Topology and reads back.
  const std::pair<const char*, Topology> names[] = {{"ring", Topology::ring},
                                                    {"torus2d", Topology::torus2d},
                                                    {"fully-connected", Topology::fully_connected},
                                                    {"switch", Topology::switched}};
  for (const auto& [name, topology] : names) {
    INFO(name);
    ArchValue v;
    std::string why;
    REQUIRE(parse_arch_value(key("system.topology"), name, v, why));
    ChipConfig c;
    key("system.topology").set(c, v);
    CHECK(c.system.topology == topology);
    CHECK(key("system.topology").get(c) == name);
  }
  ArchValue v;
  std::string why;
  CHECK_FALSE(parse_arch_value(key("system.topology"), "fully_connected", v, why));
  CHECK(why == "system.topology = 'fully_connected' is not one of: ring, torus2d, fully-connected, switch");
  CHECK_FALSE(parse_arch_value(key("system.chips"), "257", v, why));
  CHECK(why == "system.chips = 257 is out of range [1, 256]");
  CHECK_FALSE(parse_arch_value(key("system.chips"), "0", v, why));
}

TEST_CASE("docs/configs.md is generated from the schema", "[docs]") {
  const std::string path = TASIM_SOURCE_DIR "/docs/configs.md";
  const std::string generated = arch_schema_markdown();
  const char* regenerate = std::getenv("TASIM_REGENERATE_DOCS");
  if (regenerate && std::string(regenerate) == "1") {
    std::ofstream(path) << generated;
    WARN("rewrote " << path);
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string on_disk = text.str();
  if (on_disk != generated) {
    // Name the first line that differs rather than printing both files.
    std::istringstream a(on_disk), b(generated);
    std::string line_a, line_b;
    int line = 0;
    while (true) {
      ++line;
      const bool more_a = static_cast<bool>(std::getline(a, line_a));
      const bool more_b = static_cast<bool>(std::getline(b, line_b));
      if (!more_a && !more_b) break;
      if (!more_a || !more_b || line_a != line_b) break;
    }
    FAIL(path << " is out of date (first difference at line " << line << ":\n  file:      " << line_a
              << "\n  generated: " << line_b << ")\nRegenerate it with:\n"
              << "  TASIM_REGENERATE_DOCS=1 <build dir>/config_tests \"[docs]\"");
  }
  // Every key appears in the docs.
  for (const auto& k : arch_schema()) CHECK_THAT(generated, Contains("| `" + k.path + "` |"));
}

// ChipConfig{} and the schema agree on every default, so a chip built in code behaves like one
// loaded from a YAML file that leaves the key out. (Required keys have no schema default; `name`
// defaults to the preset or file name.)
TEST_CASE("struct defaults equal the schema's defaults", "[config][schema]") {
  const ChipConfig built_in_code;
  int compared = 0;
  for (const auto& k : arch_schema()) {
    if (k.required || !k.get || k.path == "name") continue;
    INFO(k.path);
    CHECK(k.get(built_in_code) == k.default_text);
    ++compared;
  }
  CHECK(compared > 40);
  // The vector op cost table follows the ISA's vector ops, in order.
  for (int i = 0; i < isa::kNumVectorOps; ++i) {
    CHECK(std::string(kVectorOpCosts[static_cast<std::size_t>(i)].op) == std::string(isa::vector_op_name(i)));
    CHECK(built_in_code.core.vector.cycles_per_element[static_cast<std::size_t>(i)] > 0);
  }
}
