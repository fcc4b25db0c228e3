// THE schema of an architecture YAML file: one row per key path. Validation, defaults, the
// --set overrides, the YAML dump of a loaded chip and docs/configs.md all follow from it;
// adding a key is one row in arch_schema.cpp (plus the ChipConfig field it fills).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "arch/arch_config.h"

namespace tasim {

enum class ArchKeyType { integer, number, choice, text };

// A validated value of one key; which member is meaningful depends on the key's type.
struct ArchValue {
  std::int64_t integer = 0;
  double number = 0.0;  // also set for integers, so number keys may be written as 128
  int choice = 0;       // index into ArchKey::choices
  std::string text;     // the scalar as written
};

struct ArchKey {
  std::string path;  // dotted key path, e.g. "core.matrix.rows"
  ArchKeyType type = ArchKeyType::integer;
  bool required = false;
  std::string default_text;  // YAML scalar used when the key is omitted (unless required)
  double min = 0;            // inclusive range, integer and number keys
  double max = 0;
  bool power_of_two = false;  // integer keys only
  std::vector<std::string> choices;  // choice keys only
  // Choice keys whose values are a registry's names (hbm.model): read when used, so that models
  // registered at run time are accepted. Use choice_list() rather than either member.
  std::function<std::vector<std::string>()> choices_from;
  std::vector<std::string> choice_list() const { return choices_from ? choices_from() : choices; }
  std::string unit;                  // "GHz", "bytes", "cycles", ... ("-" when none)
  std::string description;
  // Where the value goes in ChipConfig (null: informational only, e.g. `description`).
  std::function<void(ChipConfig&, const ArchValue&)> set;
  // The value back out of ChipConfig as a YAML scalar (null where set is null).
  std::function<std::string(const ChipConfig&)> get;
};

// Every key, in documentation order.
const std::vector<ArchKey>& arch_schema();
// The key with this exact path, or nullptr.
const ArchKey* find_arch_key(const std::string& path);
// True when `path` names a section (a prefix of some key path, e.g. "core" or "core.matrix");
// "" is the top level.
bool is_arch_section(const std::string& path);
// Every section path (without ""), in first-use order.
std::vector<std::string> arch_sections();

// Parses a scalar as written in YAML or in --set for `key`; on failure returns false and puts
// the reason in `why`, e.g. "core.matrix.rows = 0 is out of range [1, 65536]".
bool parse_arch_value(const ArchKey& key, const std::string& text, ArchValue& out, std::string& why);

// "integer", "number", "one of ws, os, is", "text".
std::string arch_type_name(const ArchKey& key);
// "[1, 65536]" (plus ", power of 2"), or "" for choice and text keys.
std::string arch_range_text(const ArchKey& key);

// docs/configs.md: intro, the presets with their headline figures, then every key.
std::string arch_schema_markdown();

}  // namespace tasim
