// Helpers shared by the isa/*.cpp files (assembler, printer, encoder, validator, doc). Not part
// of the public contract: code outside isa/ uses isa.h only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "isa/isa.h"

namespace tasim::isa::detail {

// Fields the assembler fills in when a line omits them; all defaults are 0 (bf16 for dtype,
// "contiguous" for strides). Every other field is required.
bool field_has_default(Field f);

constexpr std::uint64_t field_max(int bits) {
  return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}
inline std::uint64_t field_max(Field f) {
  return field_max(field_info(f).bits);
}

// "field m=70000 does not fit in 16 bits (max 65535)"
std::string too_wide_message(Field f, std::uint64_t value);

// "file:line" of an instruction; instructions built in code (line 0) are named by their index.
std::string location(const Program& program, std::size_t index);

// Why `name` is not a valid op tag name, or "" when it is one.
std::string tag_name_problem(std::string_view name);

// A tag name for an error message, quoted, with bytes that are not printable ASCII as \xNN and
// long names cut (a corrupt binary can hold anything).
std::string quoted_tag_name(std::string_view name);

// Appends `mnemonic field=value ...` (no newline). omit_defaults drops fields at their default,
// giving the short form used in examples. Throws Error for values that have no text form.
void append_instruction_text(std::string& out, const Instruction& inst, bool omit_defaults);

}  // namespace tasim::isa::detail
