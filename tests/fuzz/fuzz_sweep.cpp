// The sweep readers: the input as a sweep spec, and as a results CSV.
#include "sim/options/run_options.h"
#include "sim/sweep/spec.h"
#include "sim/sweep/table.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tasim;
  static const boost::program_options::options_description run_options = [] {
    boost::program_options::options_description d;
    add_run_options(d);
    return d;
  }();
  const std::string text = fuzz::text_of(data, size);
  fuzz::expect_error_or_ok([&] { sweep::parse_sweep_spec(text, "fuzz.yaml", "", run_options); });
  fuzz::expect_error_or_ok([&] { sweep::parse_results_csv(text, "fuzz.csv"); });
  return 0;
}
