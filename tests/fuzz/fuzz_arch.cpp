// The architecture loader: YAML text, then (after the first NUL byte, if any) one --set override.
// Whatever loads dumps to YAML that loads back to the same dump.
#include "sim/config/arch_loader.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tasim;
  const std::string input = fuzz::text_of(data, size);
  const std::size_t nul = input.find('\0');
  const std::string yaml = input.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string::npos) overrides.push_back(input.substr(nul + 1));
  fuzz::expect_error_or_ok([&] {
    const ChipConfig chip = load_arch_text(yaml, "fuzz.yaml", overrides);
    const std::string dumped = arch_to_yaml(chip);
    if (arch_to_yaml(load_arch_text(dumped, "fuzz.yaml")) != dumped) fuzz::broken("the YAML dump does not load back");
  });
  return 0;
}
