// `tasim serve`: a serving simulation (docs/serving.md). Step times come from the
// cycle simulator: the step probes (sim/serve/step_model.h) each run as `tasim run --sequences
// ... --json -` in a child process, then the fitted model times every step the scheduler makes.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <string>
#include <vector>

namespace tasim {

// Every option of `tasim serve` but --help (what a sweep's `serve.*` axes may name).
void add_serve_options(boost::program_options::options_description& desc);

int cmd_serve(const std::vector<std::string>& args);

}  // namespace tasim
