// "Did you mean" hints for every kind of bad name the user can type (opcodes, config keys,
// model fields, preset names). In isa/ because isa/ is the bottom layer everything depends on.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tasim {

// Levenshtein distance (insertions, deletions, substitutions).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate `name` most likely meant: one that extends it (capacity -> capacity_mib, the
// unit forgotten), else the nearest by edit distance if near enough to be a typo; "" if none.
std::string closest_match(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace tasim
