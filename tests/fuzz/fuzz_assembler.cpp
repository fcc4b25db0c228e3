// The assembler: whatever assembles prints, assembles again to the same program, and round-trips
// through the binary format.
#include "isa/isa.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tasim;
  fuzz::expect_error_or_ok([&] {
    const isa::Program p = isa::assemble(fuzz::text_of(data, size), "fuzz.tasm");
    const std::string text = isa::disassemble(p);
    const isa::Program again = isa::assemble(text, "fuzz.tasm");
    if (isa::disassemble(again) != text) fuzz::broken("disassemble(assemble(disassemble(p))) differs");
    const isa::Program decoded = isa::decode(isa::encode(p), "fuzz.bin");
    if (isa::encode(decoded) != isa::encode(p)) fuzz::broken("the binary round trip changed the program");
  });
  return 0;
}
