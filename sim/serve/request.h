// What a serving simulation serves: requests arriving over time, each a prompt to prefill and a
// number of output tokens to decode (docs/serving.md).
#pragma once

#include <cstdint>
#include <vector>

namespace tasim::serve {

struct Request {
  int id = 0;                 // 0, 1, ... in arrival order
  double arrival_s = 0.0;     // seconds from the start of the run
  int prompt_tokens = 1;      // >= 1
  int output_tokens = 1;      // >= 1: the first comes with the prefill's last step
  int priority = 0;           // smaller is served first under policy priority (vLLM's convention)
};

}  // namespace tasim::serve
