// The model loaders: the input as a Hugging Face config.json and as a tasim model YAML; whatever
// loads builds a decode step graph (or refuses it with an Error).
#include "workloads/graph.h"
#include "workloads/model.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tasim;
  const std::string text = fuzz::text_of(data, size);
  for (const bool json : {true, false}) {
    fuzz::expect_error_or_ok([&] {
      const workloads::ModelConfig m =
          json ? workloads::parse_hf_config(text, "fuzz.json") : workloads::parse_model_yaml(text, "fuzz.yaml");
      workloads::RunSpec spec;
      spec.batch = 2;
      spec.context_len = 16;
      workloads::build_step_graph(m, spec);
    });
  }
  return 0;
}
