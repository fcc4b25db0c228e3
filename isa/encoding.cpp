// Binary program format: "TASMBIN" and the format version as an ASCII digit, u32 little-endian
// instruction count, then per instruction its opcode byte (the table's code, fixed per opcode)
// and its fields bit-packed LSB-first in table order, padded to a whole byte; last, the CRC-32 of
// everything before it, so a corrupt or truncated file is reported as such.
// When some instruction is tagged, the optional tag section follows: "TAGS", u32 count of names,
// each name as u32 length + bytes, then each instruction's tag as an unsigned LEB128 varint.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "common/crc32.h"
#include "common/file_io.h"
#include "isa/isa.h"
#include "isa/isa_internal.h"

namespace tasim::isa {
namespace {

// The magic, then the version digit. Version 1 numbered opcodes by their position in the table, so
// adding an opcode renumbered later ones: its files cannot be read safely and are refused.
// Version 2 gives each opcode a fixed code (isa_table.h).
constexpr char kMagic[7] = {'T', 'A', 'S', 'M', 'B', 'I', 'N'};
constexpr char kVersion = '2';
constexpr std::size_t kHeaderBytes = sizeof(kMagic) + 1 + 4;
constexpr std::size_t kChecksumBytes = 4;  // CRC-32 of everything before it, last in the file
constexpr char kTagsMarker[4] = {'T', 'A', 'G', 'S'};
constexpr int kMaxVarintBytes = 5;  // a u32 in 7-bit groups

// Encoded size of each opcode (opcode byte + packed fields), fixed by the table.
struct EncodedSizes {
  std::array<std::size_t, kNumOpcodes> bytes{};
  EncodedSizes() {
    for (int op = 0; op < kNumOpcodes; ++op) {
      const OpcodeInfo& info = opcode_info(static_cast<Opcode>(op));
      std::size_t bits = 0;
      for (int i = 0; i < info.num_fields; ++i)
        bits += static_cast<std::size_t>(field_info(info.fields[i]).bits);
      bytes[op] = 1 + (bits + 7) / 8;
    }
  }
};
const EncodedSizes& encoded_sizes() {
  static const EncodedSizes sizes;
  return sizes;
}

void put_bits(std::uint8_t* out, std::size_t& bit, std::uint64_t v, int bits) {
  while (bits > 0) {
    const int offset = static_cast<int>(bit & 7);
    const int take = std::min(8 - offset, bits);
    out[bit >> 3] |= static_cast<std::uint8_t>((v & detail::field_max(take)) << offset);
    v >>= take;
    bits -= take;
    bit += static_cast<std::size_t>(take);
  }
}

std::uint64_t get_bits(const std::uint8_t* in, std::size_t& bit, int bits) {
  std::uint64_t v = 0;
  int done = 0;
  while (done < bits) {
    const int offset = static_cast<int>(bit & 7);
    const int take = std::min(8 - offset, bits - done);
    v |= static_cast<std::uint64_t>((in[bit >> 3] >> offset) & detail::field_max(take)) << done;
    done += take;
    bit += static_cast<std::size_t>(take);
  }
  return v;
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<std::uint8_t>(v >> (8 * b)));
}

std::uint32_t get_u32(const std::uint8_t* in) {
  std::uint32_t v = 0;
  for (int b = 0; b < 4; ++b) v |= static_cast<std::uint32_t>(in[b]) << (8 * b);
  return v;
}

void put_varint(std::vector<std::uint8_t>& out, std::uint32_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

// The tag section's content: names in order of first use, each instruction's tag renumbered.
struct CanonicalTags {
  std::vector<std::string_view> names;
  std::vector<std::uint32_t> renumbered;  // [old tag] -> new tag; 0 for untagged and unused
};

// Renumbers tags by first use, merging entries of equal name and dropping unused ones, so that
// the bytes depend only on which instruction carries which name. Empty when nothing is tagged.
CanonicalTags canonical_tags(const Program& program) {
  CanonicalTags result;
  std::unordered_map<std::string_view, std::uint32_t> by_name;
  for (std::size_t i = 0; i < program.instructions.size(); ++i) {
    const std::uint32_t tag = program.instructions[i].tag;
    if (tag == 0 || (tag < result.renumbered.size() && result.renumbered[tag] != 0)) continue;
    if (tag > program.tags.size()) {
      throw Error(fmt::format("{}: tag {} is beyond the tag table ({} name{})", detail::location(program, i),
                              tag, program.tags.size(), program.tags.size() == 1 ? "" : "s"));
    }
    if (result.renumbered.empty()) result.renumbered.assign(program.tags.size() + 1, 0);
    const std::string_view name = program.tags[tag - 1];
    if (const std::string problem = detail::tag_name_problem(name); !problem.empty()) {
      throw Error(fmt::format("{}: invalid tag name {}: {}", detail::location(program, i),
                              detail::quoted_tag_name(name), problem));
    }
    const auto [it, added] = by_name.emplace(name, static_cast<std::uint32_t>(result.names.size() + 1));
    if (added) result.names.push_back(name);
    result.renumbered[tag] = it->second;
  }
  return result;
}

// The tag section after the "TAGS" marker at `offset - 4`. Everything is checked before use: a
// corrupt file gives one clear error, never a crash or a huge allocation.
void decode_tags(const std::vector<std::uint8_t>& bytes, std::size_t offset, Program& program) {
  const std::string& name = program.source_name;
  const auto need = [&](std::size_t n, const std::string& what) {
    if (bytes.size() - offset < n) {
      throw Error(fmt::format("{}: truncated tag section: {} at offset {} needs {} bytes, only {} left", name,
                              what, offset, n, bytes.size() - offset));
    }
  };
  need(4, "the name count");
  const std::uint32_t count = get_u32(bytes.data() + offset);
  offset += 4;
  // Each name takes at least 5 bytes, so a lying count cannot make us reserve much.
  program.tags.reserve(std::min<std::size_t>(count, (bytes.size() - offset) / 5));
  for (std::uint32_t t = 1; t <= count && t != 0; ++t) {
    need(4, fmt::format("the length of tag name {} of {}", t, count));
    const std::uint32_t length = get_u32(bytes.data() + offset);
    if (length == 0 || length > kMaxTagNameLength) {
      throw Error(fmt::format(
          "{}: bad tag section: tag name {} at offset {} has length {} (names have 1 to {} bytes)", name, t,
          offset, length, kMaxTagNameLength));
    }
    offset += 4;
    need(length, fmt::format("tag name {} of {}", t, count));
    const std::string_view text(reinterpret_cast<const char*>(bytes.data() + offset), length);
    if (const std::string problem = detail::tag_name_problem(text); !problem.empty()) {
      throw Error(fmt::format("{}: bad tag section: tag name {} {} at offset {}: {}", name, t,
                              detail::quoted_tag_name(text), offset, problem));
    }
    program.tags.emplace_back(text);
    offset += length;
  }
  // Two entries of one name would split one op in reports; the encoder never writes them.
  {
    std::unordered_map<std::string_view, std::uint32_t> seen;
    seen.reserve(program.tags.size());
    for (std::uint32_t t = 1; t <= program.tags.size(); ++t) {
      const auto [it, added] = seen.emplace(program.tags[t - 1], t);
      if (!added) {
        throw Error(fmt::format("{}: bad tag section: tags {} and {} have the same name {}", name, it->second,
                                t, detail::quoted_tag_name(program.tags[t - 1])));
      }
    }
  }
  for (std::size_t i = 0; i < program.instructions.size(); ++i) {
    const std::size_t start = offset;
    std::uint64_t tag = 0;
    for (int b = 0;; ++b) {
      if (offset >= bytes.size()) {
        throw Error(
            fmt::format("{}: truncated tag section: the tags of instructions {} to {} are missing "
                        "(the file ends at offset {})",
                        name, i + 1, program.instructions.size(), bytes.size()));
      }
      const std::uint8_t byte = bytes[offset++];
      tag |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * b);
      if (!(byte & 0x80)) {
        if (byte == 0 && b > 0) {
          throw Error(
              fmt::format("{}: bad tag section: the tag of instruction {} at offset {} is an overlong varint",
                          name, i + 1, start));
        }
        break;
      }
      if (b + 1 == kMaxVarintBytes) {
        throw Error(
            fmt::format("{}: bad tag section: the tag of instruction {} at offset {} is a varint longer "
                        "than {} bytes",
                        name, i + 1, start, kMaxVarintBytes));
      }
    }
    if (tag > program.tags.size()) {
      throw Error(
          fmt::format("{}: bad tag section: instruction {} has tag {} at offset {}, beyond the tag table "
                      "({} name{})",
                      name, i + 1, tag, start, program.tags.size(), program.tags.size() == 1 ? "" : "s"));
    }
    program.instructions[i].tag = static_cast<std::uint32_t>(tag);
  }
  if (offset != bytes.size()) {
    throw Error(fmt::format("{}: {} trailing bytes at offset {}, after the tag section", name,
                            bytes.size() - offset, offset));
  }
}

}  // namespace

bool is_binary(const std::vector<std::uint8_t>& bytes) {
  return bytes.size() >= sizeof(kMagic) && std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0;
}

int binary_format_version() { return kVersion - '0'; }

namespace {
std::vector<std::uint8_t> encode_body(const Program& program) {
  const EncodedSizes& sizes = encoded_sizes();
  if (program.instructions.size() > 0xffffffffull) {
    throw Error(fmt::format("{}: {} instructions exceed the binary format's 32-bit count",
                            program.source_name, program.instructions.size()));
  }
  std::size_t total = kHeaderBytes;
  for (std::size_t i = 0; i < program.instructions.size(); ++i) {
    const auto op = static_cast<unsigned>(program.instructions[i].op);
    if (op >= static_cast<unsigned>(kNumOpcodes)) {
      throw Error(fmt::format("{}: invalid opcode number {}", detail::location(program, i), op));
    }
    total += sizes.bytes[op];
  }

  std::vector<std::uint8_t> out(total, 0);
  std::memcpy(out.data(), kMagic, sizeof(kMagic));
  out[sizeof(kMagic)] = static_cast<std::uint8_t>(kVersion);
  const auto count = static_cast<std::uint32_t>(program.instructions.size());
  for (int b = 0; b < 4; ++b) out[sizeof(kMagic) + 1 + b] = static_cast<std::uint8_t>(count >> (8 * b));

  std::uint8_t* p = out.data() + kHeaderBytes;
  for (std::size_t i = 0; i < program.instructions.size(); ++i) {
    const Instruction& inst = program.instructions[i];
    const OpcodeInfo& info = opcode_info(inst.op);
    p[0] = info.code;
    std::size_t bit = 8;
    for (int f = 0; f < info.num_fields; ++f) {
      const int bits = field_info(info.fields[f]).bits;
      // Truncating silently would hand the hardware a different program than the one validated.
      if (inst.value[f] > detail::field_max(bits)) {
        throw Error(fmt::format("{}: {}", detail::location(program, i),
                                detail::too_wide_message(info.fields[f], inst.value[f])));
      }
      put_bits(p, bit, inst.value[f], bits);
    }
    p += sizes.bytes[static_cast<int>(inst.op)];
  }

  // The tag section, only when something is tagged: untagged programs keep their old bytes.
  const CanonicalTags tags = canonical_tags(program);
  if (tags.names.empty()) return out;
  std::size_t section = sizeof(kTagsMarker) + 4 + program.instructions.size();
  for (const std::string_view name : tags.names) section += 4 + name.size();
  out.reserve(out.size() + section + 64);
  out.insert(out.end(), kTagsMarker, kTagsMarker + sizeof(kTagsMarker));
  put_u32(out, static_cast<std::uint32_t>(tags.names.size()));
  for (const std::string_view name : tags.names) {
    put_u32(out, static_cast<std::uint32_t>(name.size()));
    out.insert(out.end(), name.begin(), name.end());
  }
  for (const Instruction& inst : program.instructions) put_varint(out, tags.renumbered[inst.tag]);
  return out;
}

Program decode_body(const std::vector<std::uint8_t>& bytes, const std::string& source_name) {
  const std::string& name = source_name;
  if (!is_binary(bytes)) {
    throw Error(fmt::format("{}: not a tasim binary program: bad magic (expected \"TASMBIN\")", name));
  }
  if (bytes.size() > sizeof(kMagic) && bytes[sizeof(kMagic)] != static_cast<std::uint8_t>(kVersion)) {
    const std::uint8_t v = bytes[sizeof(kMagic)];
    const std::string version = v >= '0' && v <= '9' ? std::string(1, static_cast<char>(v))
                                                    : fmt::format("byte 0x{:02x}", v);
    throw Error(fmt::format("{}: tasim binary format version {}; this tasim reads version {} only{}", name,
                            version, kVersion,
                            v == '1' ? " (version 1 numbered opcodes by position, so its files cannot be read "
                                       "safely): assemble the program again from its .tasm"
                                     : ""));
  }
  if (bytes.size() < kHeaderBytes) {
    throw Error(
        fmt::format("{}: truncated header: {} bytes, the header needs {}", name, bytes.size(), kHeaderBytes));
  }
  std::uint32_t count = 0;
  for (int b = 0; b < 4; ++b) count |= static_cast<std::uint32_t>(bytes[sizeof(kMagic) + 1 + b]) << (8 * b);

  const EncodedSizes& sizes = encoded_sizes();
  Program program;
  program.source_name = source_name;
  // Every instruction takes at least one byte, so a lying count cannot make us reserve much.
  program.instructions.reserve(std::min<std::size_t>(count, bytes.size() - kHeaderBytes));
  std::size_t offset = kHeaderBytes;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (offset >= bytes.size()) {
      throw Error(fmt::format("{}: truncated: the header announces {} instructions, the file ends after {}",
                              name, count, i));
    }
    const std::uint8_t op_byte = bytes[offset];
    Instruction inst;
    if (!opcode_of_code(op_byte, inst.op)) {
      throw Error(fmt::format("{}: unknown opcode byte 0x{:02x} at offset {} (instruction {})", name, op_byte,
                              offset, i + 1));
    }
    inst.line = i + 1;  // binaries have no source lines: messages name the instruction number
    const OpcodeInfo& info = opcode_info(inst.op);
    const std::size_t size = sizes.bytes[static_cast<int>(inst.op)];
    if (bytes.size() - offset < size) {
      throw Error(fmt::format("{}: truncated: {} at offset {} needs {} bytes, only {} left", name,
                              info.mnemonic, offset, size, bytes.size() - offset));
    }
    std::size_t bit = 8;
    for (int f = 0; f < info.num_fields; ++f) {
      const FieldInfo& fi = field_info(info.fields[f]);
      const std::uint64_t v = get_bits(bytes.data() + offset, bit, fi.bits);
      if (fi.kind == FieldKind::dtype && v >= static_cast<std::uint64_t>(kNumDTypes)) {
        throw Error(
            fmt::format("{}: invalid dtype value {} in {} at offset {}", name, v, info.mnemonic, offset));
      }
      if (fi.kind == FieldKind::unitref && (v >> 6) > static_cast<std::uint64_t>(UnitKind::vpu)) {
        throw Error(fmt::format("{}: invalid unit reference 0x{:02x} in {} at offset {}", name, v,
                                info.mnemonic, offset));
      }
      inst.value[f] = v;
    }
    program.instructions.push_back(inst);
    offset += size;
  }
  if (offset != bytes.size()) {
    const std::size_t left = bytes.size() - offset;
    if (left < sizeof(kTagsMarker) ||
        std::memcmp(bytes.data() + offset, kTagsMarker, sizeof(kTagsMarker)) != 0) {
      throw Error(fmt::format("{}: {} trailing bytes at offset {}, after the last of {} instructions", name,
                              left, offset, count));
    }
    decode_tags(bytes, offset + sizeof(kTagsMarker), program);
  }
  return program;
}

}  // namespace

std::vector<std::uint8_t> encode(const Program& program) {
  std::vector<std::uint8_t> out = encode_body(program);
  put_u32(out, crc32(out.data(), out.size()));
  return out;
}

Program decode(const std::vector<std::uint8_t>& bytes, const std::string& source_name) {
  // Not a binary, another version: the body decoder says so.
  if (!is_binary(bytes) || bytes.size() <= sizeof(kMagic) || bytes[sizeof(kMagic)] != static_cast<std::uint8_t>(kVersion)) {
    return decode_body(bytes, source_name);
  }
  if (bytes.size() < kHeaderBytes + kChecksumBytes) {
    throw Error(fmt::format("{}: truncated: {} bytes, a binary program has at least {} (header and checksum)",
                            source_name, bytes.size(), kHeaderBytes + kChecksumBytes));
  }
  const std::size_t body = bytes.size() - kChecksumBytes;
  const std::uint32_t stored = get_u32(bytes.data() + body);
  const std::uint32_t computed = crc32(bytes.data(), body);
  if (stored != computed) {
    throw Error(fmt::format("{}: checksum mismatch (CRC-32 stored 0x{:08x}, computed 0x{:08x}): the file is "
                            "corrupt or truncated",
                            source_name, stored, computed));
  }
  return decode_body(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(body)), source_name);
}

Program load_program(const std::string& path) {
  const std::string text = read_file_bytes(path, "program");
  const std::vector<std::uint8_t> bytes(text.begin(), text.end());
  if (is_binary(bytes)) return decode(bytes, path);
  return assemble(text, path);
}

}  // namespace tasim::isa
