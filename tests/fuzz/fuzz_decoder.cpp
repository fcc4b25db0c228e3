// The binary decoder: whatever decodes prints, assembles and encodes again to a program that
// decodes to the same instructions. Inputs of even size are resealed (their checksum recomputed:
// a no-op on a sealed file) so that half the mutants reach the checks behind the checksum.
#include <vector>

#include "common/crc32.h"
#include "isa/isa.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tasim;
  std::vector<std::uint8_t> bytes(data, data + size);
  if (size % 2 == 0 && size >= 16) {  // reseal: a body with a valid checksum
    bytes.resize(size - 4);
    const std::uint32_t crc = crc32(bytes.data(), bytes.size());
    for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<std::uint8_t>(crc >> (8 * b)));
  }
  fuzz::expect_error_or_ok([&] {
    const isa::Program p = isa::decode(bytes, "fuzz.bin");
    const isa::Program again = isa::assemble(isa::disassemble(p), p.source_name);  // same header line
    if (isa::disassemble(again) != isa::disassemble(p)) fuzz::broken("text round trip of a decoded program");
    if (isa::encode(isa::decode(isa::encode(p), "fuzz.bin")) != isa::encode(p)) fuzz::broken("binary round trip");
  });
  return 0;
}
