// `tasim serve`: a serving simulation (docs/serving.md). Step times come from the
// cycle simulator: the step probes (sim/serve/step_model.h) each run as `tasim run --sequences
// ... --json -` in a child process, then the fitted model times every step the scheduler makes.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <string>
#include <vector>

#include "sim/serve/kv_cache.h"
#include "workloads/model.h"

namespace tasim {

// The KV groups of a served model's cache (sim/serve/kv_cache.h, vLLM's hybrid KV cache manager):
// its layers by attention kind (full, sliding window, chunked), each kind split into groups of
// `layers_per_group` layers, the greatest common divisor of the kinds' layer counts, so groups
// are equal and a block is the same size in all of them (gpt-oss-20b: 12 full and 12 sliding
// layers, one group of 12 of each; Gemma 3 27B: 10 full and 52 sliding, 5 and 26 groups of 2). A
// model whose layers all attend fully (or MLA) has one group of every layer.
struct KvLayout {
  std::vector<serve::KvGroup> groups;
  int layers_per_group = 0;
  int groups_of(serve::KvGroup::Kind kind) const;  // how many groups of that kind
  static KvLayout one_group(int layers);            // every layer in one full group
};
KvLayout kv_layout(const workloads::ModelConfig& model);

// Every option of `tasim serve` but --help (what a sweep's `serve.*` axes may name).
void add_serve_options(boost::program_options::options_description& desc);

int cmd_serve(const std::vector<std::string>& args);

}  // namespace tasim
