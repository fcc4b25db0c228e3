// Binary program format: "TASMBIN1", u32 little-endian instruction count, then per instruction
// an opcode byte and its fields bit-packed LSB-first in table order, padded to a whole byte.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "isa/isa.h"
#include "isa/isa_internal.h"

namespace tasim::isa {
namespace {

constexpr char kMagic[8] = {'T', 'A', 'S', 'M', 'B', 'I', 'N', '1'};
constexpr std::size_t kHeaderBytes = sizeof(kMagic) + 4;

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

}  // namespace

bool is_binary(const std::vector<std::uint8_t>& bytes) {
  return bytes.size() >= sizeof(kMagic) && std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0;
}

std::vector<std::uint8_t> encode(const Program& program) {
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
  const auto count = static_cast<std::uint32_t>(program.instructions.size());
  for (int b = 0; b < 4; ++b) out[sizeof(kMagic) + b] = static_cast<std::uint8_t>(count >> (8 * b));

  std::uint8_t* p = out.data() + kHeaderBytes;
  for (std::size_t i = 0; i < program.instructions.size(); ++i) {
    const Instruction& inst = program.instructions[i];
    const OpcodeInfo& info = opcode_info(inst.op);
    p[0] = static_cast<std::uint8_t>(inst.op);
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
  return out;
}

Program decode(const std::vector<std::uint8_t>& bytes, const std::string& source_name) {
  const std::string& name = source_name;
  if (!is_binary(bytes)) {
    throw Error(fmt::format("{}: not a tasim binary program: bad magic (expected \"TASMBIN1\")", name));
  }
  if (bytes.size() < kHeaderBytes) {
    throw Error(
        fmt::format("{}: truncated header: {} bytes, the header needs {}", name, bytes.size(), kHeaderBytes));
  }
  std::uint32_t count = 0;
  for (int b = 0; b < 4; ++b) count |= static_cast<std::uint32_t>(bytes[sizeof(kMagic) + b]) << (8 * b);

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
    if (op_byte >= kNumOpcodes) {
      throw Error(fmt::format("{}: unknown opcode byte 0x{:02x} at offset {} (instruction {})", name, op_byte,
                              offset, i + 1));
    }
    Instruction inst;
    inst.op = static_cast<Opcode>(op_byte);
    inst.line = i + 1;  // binaries have no source lines: messages name the instruction number
    const OpcodeInfo& info = opcode_info(inst.op);
    const std::size_t size = sizes.bytes[op_byte];
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
    throw Error(fmt::format("{}: {} trailing bytes at offset {}, after the last of {} instructions", name,
                            bytes.size() - offset, offset, count));
  }
  return program;
}

Program load_program(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw Error(fmt::format("cannot open program '{}': {}", path, std::strerror(errno)));
  std::vector<std::uint8_t> bytes;
  std::uint8_t buffer[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(buffer, 1, sizeof(buffer), file.get());
    bytes.insert(bytes.end(), buffer, buffer + n);
    if (n < sizeof(buffer)) break;
  }
  if (std::ferror(file.get()))
    throw Error(fmt::format("cannot read program '{}': {}", path, std::strerror(errno)));
  if (is_binary(bytes)) return decode(bytes, path);
  return assemble(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

}  // namespace tasim::isa
