// `tasim serve`: a serving simulation of one replica (docs/serving.md). Step times come from the
// cycle simulator: the step probes (sim/serve/step_model.h) each run as `tasim run --sequences
// ... --json -` in a child process, then the fitted model times every step the scheduler makes.
#pragma once

#include <string>
#include <vector>

namespace tasim {

int cmd_serve(const std::vector<std::string>& args);

}  // namespace tasim
