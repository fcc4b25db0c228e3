// Helpers shared by the serving library's tests: a step-time formula and hand-made requests.
#pragma once

#include <vector>

#include "sim/serve/engine.h"
#include "sim/serve/request.h"

namespace tasim::serve::testing {

// a + b x tokens + c x decodes seconds.
inline StepTimeFn affine(double a, double b, double c = 0.0) {
  return [=](const StepShape& s) { return a + b * static_cast<double>(s.tokens()) + c * s.decodes(); };
}

inline Request request(int id, double arrival_s, int prompt, int output, int prefix_group = -1,
                       int prefix_tokens = 0) {
  Request r;
  r.id = id;
  r.arrival_s = arrival_s;
  r.prompt_tokens = prompt;
  r.output_tokens = output;
  r.prefix_group = prefix_group;
  r.prefix_tokens = prefix_tokens;
  return r;
}

}  // namespace tasim::serve::testing
