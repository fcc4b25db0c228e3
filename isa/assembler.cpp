// Text assembly (.tasm) in and out, `.op NAME` tag directives included. The parser is a hand-written
// tokenizer rather than regexes: lowered programs reach millions of lines and must assemble in well
// under a second.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "common/printable.h"
#include "isa/isa.h"
#include "isa/isa_internal.h"
#include "common/suggest.h"

namespace tasim::isa {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

enum class NumberStatus { ok, malformed, too_large };

// Decimal or 0x hexadecimal, unsigned.
NumberStatus parse_number(std::string_view text, std::uint64_t& out) {
  std::uint64_t v = 0;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    for (std::size_t i = 2; i < text.size(); ++i) {
      const char c = text[i];
      int digit;
      if (c >= '0' && c <= '9')
        digit = c - '0';
      else if (c >= 'a' && c <= 'f')
        digit = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        digit = c - 'A' + 10;
      else
        return NumberStatus::malformed;
      if (v >> 60) {
        // Keep scanning so that "0xffff...zz" is reported as malformed rather than too large.
        for (std::size_t j = i + 1; j < text.size(); ++j) {
          if (!std::isxdigit(static_cast<unsigned char>(text[j]))) return NumberStatus::malformed;
        }
        return NumberStatus::too_large;
      }
      v = (v << 4) | static_cast<std::uint64_t>(digit);
    }
  } else {
    if (text.empty()) return NumberStatus::malformed;
    bool overflow = false;
    for (const char c : text) {
      if (c < '0' || c > '9') return NumberStatus::malformed;
      const auto digit = static_cast<std::uint64_t>(c - '0');
      if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) overflow = true;
      v = v * 10 + digit;
    }
    if (overflow) return NumberStatus::too_large;
  }
  out = v;
  return NumberStatus::ok;
}

std::string field_list(const OpcodeInfo& info) {
  std::string s;
  for (int i = 0; i < info.num_fields; ++i) {
    if (i) s += ", ";
    s += field_info(info.fields[i]).name;
  }
  return s;
}

class Assembler {
 public:
  explicit Assembler(const std::string& source_name) : source_name_(source_name) {}

  Program run(std::string_view text) {
    Program program;
    program.source_name = source_name_;
    // A lowered program averages ~60 characters per instruction; reserving avoids regrowth.
    program.instructions.reserve(text.size() / 64 + 1);
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      ++line_;
      line(text.substr(pos, end - pos), program);
      pos = end + 1;
    }
    return program;
  }

 private:
  // The reason quotes the source, which may be any bytes: they print as \xNN.
  [[noreturn]] void fail(const std::string& reason) const {
    throw Error(fmt::format("{}:{}: {}", source_name_, line_, printable(reason)));
  }

  static std::string_view next_token(std::string_view& rest) {
    std::size_t i = 0;
    while (i < rest.size() && is_space(rest[i])) ++i;
    std::size_t j = i;
    while (j < rest.size() && !is_space(rest[j])) ++j;
    std::string_view token = rest.substr(i, j - i);
    rest.remove_prefix(j);
    return token;
  }

  void line(std::string_view text, Program& program) {
    if (const std::size_t hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
    std::string_view word = next_token(text);
    if (word.empty()) return;
    if (word[0] == '.') {
      directive(word, text);
      return;
    }

    Instruction inst;
    inst.op = opcode(word);
    inst.line = line_;
    if (tag_pending_) {
      // Interned at first use, not at the directive: the table lists used tags in first-use order.
      tag_ = pending_tag_name_.empty() ? 0 : program.intern_tag(pending_tag_name_);
      tag_pending_ = false;
    }
    inst.tag = tag_;
    const OpcodeInfo& info = opcode_info(inst.op);
    unsigned seen = 0;  // bit per field position
    static_assert(kMaxFields <= 32);

    for (word = next_token(text); !word.empty(); word = next_token(text)) {
      const std::size_t eq = word.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        fail(fmt::format("expected field=value, got '{}'", word));
      }
      const std::string_view name = word.substr(0, eq);
      const std::string_view value = word.substr(eq + 1);
      int pos = 0;
      while (pos < info.num_fields && name != field_info(info.fields[pos]).name) ++pos;
      if (pos == info.num_fields) {
        if (info.num_fields == 0) fail(fmt::format("{} takes no fields, got '{}'", info.mnemonic, word));
        fail(fmt::format("{} has no field '{}' (its fields: {})", info.mnemonic, name, field_list(info)));
      }
      if (seen & (1u << pos)) fail(fmt::format("duplicate field {}", name));
      seen |= 1u << pos;
      inst.value[pos] = field_value(info.fields[pos], value);
    }

    const unsigned all = (1u << info.num_fields) - 1;
    if (seen != all) {
      std::string missing;
      int count = 0;
      for (int pos = 0; pos < info.num_fields; ++pos) {
        if ((seen & (1u << pos)) || detail::field_has_default(info.fields[pos])) continue;
        missing += (count++ ? ", " : "");
        missing += field_info(info.fields[pos]).name;
      }
      if (count)
        fail(fmt::format("{} is missing required field{} {}", info.mnemonic, count > 1 ? "s" : "", missing));
    }
    program.instructions.push_back(inst);
  }

  // `.op NAME` tags the instructions that follow; `.op` alone untags them.
  void directive(std::string_view word, std::string_view rest) {
    if (word != ".op") {
      if (edit_distance(word, ".op") <= 2u)
        fail(fmt::format("unknown directive '{}' (did you mean '.op'?)", word));
      fail(fmt::format("unknown directive '{}' (the only directive is '.op NAME', which tags instructions)",
                       word));
    }
    const std::string_view name = next_token(rest);
    if (const std::string_view extra = next_token(rest); !extra.empty()) {
      fail(fmt::format(".op takes one name, got '{}' after '{}' (a tag name holds no spaces)", extra, name));
    }
    if (!name.empty()) {
      if (const std::string problem = detail::tag_name_problem(name); !problem.empty()) {
        fail(fmt::format("bad .op name {}: {}", detail::quoted_tag_name(name), problem));
      }
    }
    pending_tag_name_ = name;
    tag_pending_ = true;
  }

  Opcode opcode(std::string_view word) const {
    for (int op = 0; op < kNumOpcodes; ++op) {
      if (word == opcode_info(static_cast<Opcode>(op)).mnemonic) return static_cast<Opcode>(op);
    }
    const char* best = nullptr;
    int best_distance = std::numeric_limits<int>::max();
    std::string lower(word);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (int op = 0; op < kNumOpcodes; ++op) {
      const std::string_view candidate = opcode_info(static_cast<Opcode>(op)).mnemonic;
      int d = static_cast<int>(edit_distance(lower, candidate));
      // "add" or "load" is the mnemonic without its unit prefix: the obvious intent.
      const std::size_t dot = candidate.find('.');
      if (dot != std::string_view::npos && candidate.substr(dot + 1) == lower) d = 1;
      if (d < best_distance) {
        best = candidate.data();
        best_distance = d;
      }
    }
    // A hint is only useful when the word is plausibly a typo of it.
    if (best_distance <= std::max<int>(2, static_cast<int>(word.size()) / 2)) {
      fail(fmt::format("unknown opcode '{}' (did you mean '{}'?)", word, best));
    }
    fail(fmt::format("unknown opcode '{}' (the instructions are listed in docs/isa.md)", word));
  }

  std::uint64_t field_value(Field f, std::string_view text) const {
    const FieldInfo& info = field_info(f);
    switch (info.kind) {
      case FieldKind::dtype:
        for (int t = 0; t < kNumDTypes; ++t) {
          if (text == dtype_name(static_cast<DType>(t))) return static_cast<std::uint64_t>(t);
        }
        fail(fmt::format("unknown dtype '{}' for field {} (expected bf16, fp8, int8 or fp4)", text, info.name));
      case FieldKind::unitref:
        return unit_value(text, info);
      case FieldKind::uint:
      case FieldKind::addr:
        break;
    }
    std::uint64_t v = 0;
    const NumberStatus status = parse_number(text, v);
    if (status == NumberStatus::malformed) {
      fail(fmt::format("malformed number '{}' for field {} (expected decimal or 0x hex)", text, info.name));
    }
    if (status == NumberStatus::too_large || v > detail::field_max(info.bits)) {
      fail(fmt::format("field {}={} does not fit in {} bits (max {})", info.name, text, info.bits,
                       detail::field_max(info.bits)));
    }
    return v;
  }

  std::uint64_t unit_value(std::string_view text, const FieldInfo& info) const {
    static constexpr std::pair<const char*, UnitKind> kKinds[] = {
        {"dma", UnitKind::dma}, {"mxu", UnitKind::mxu}, {"vpu", UnitKind::vpu}};
    for (const auto& [prefix, kind] : kKinds) {
      const std::string_view p = prefix;
      if (text.size() <= p.size() || text.substr(0, p.size()) != p) continue;
      const std::string_view digits = text.substr(p.size());
      std::uint64_t index = 0;
      const bool digits_only =
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits_only) break;
      if (parse_number(digits, index) != NumberStatus::ok || index > 63) {
        fail(fmt::format("unit index in '{}' for field {} does not fit in 6 bits (max 63)", text, info.name));
      }
      return encode_unitref(UnitRef{kind, static_cast<int>(index)});
    }
    fail(fmt::format("bad unit '{}' for field {} (expected dmaN, mxuN or vpuN, e.g. mxu0)", text, info.name));
  }

  const std::string& source_name_;
  std::uint32_t line_ = 0;
  std::uint32_t tag_ = 0;              // tag of the instructions being read
  bool tag_pending_ = false;           // a .op line came after the last instruction
  std::string_view pending_tag_name_;  // its name (a view into the text), "" to untag
};

}  // namespace

Program assemble(std::string_view text, const std::string& source_name) {
  return Assembler(source_name).run(text);
}

std::string disassemble(const Program& program) {
  const std::size_t n = program.instructions.size();
  std::string out =
      fmt::format("# tasim program: {}, {} instruction{}\n", program.source_name, n, n == 1 ? "" : "s");
  out.reserve(out.size() + n * 96);
  std::uint32_t tag = 0;
  std::string_view tag_name;
  for (std::size_t i = 0; i < n; ++i) {
    try {
      const Instruction& inst = program.instructions[i];
      if (inst.tag != tag) {
        // Throws for a tag beyond the table. Two entries of one name are one op: no directive.
        const std::string_view name = program.tag_name(inst.tag);
        if (name != tag_name) {
          if (!name.empty()) {
            if (const std::string problem = detail::tag_name_problem(name); !problem.empty()) {
              throw Error(fmt::format("invalid tag name {}: {}", detail::quoted_tag_name(name), problem));
            }
          }
          out += name.empty() ? ".op" : ".op ";
          out += name;
          out += '\n';
        }
        tag = inst.tag;
        tag_name = name;
      }
      detail::append_instruction_text(out, inst, false);
    } catch (const Error& e) {
      throw Error(fmt::format("{}: {}", detail::location(program, i), e.what()));
    }
    out += '\n';
  }
  return out;
}

}  // namespace tasim::isa
