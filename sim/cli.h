// The tasim command line: `tasim <command> [options]`. Returns the process exit code:
// 0 success, 2 bad input (one line on stderr), 1 internal error.
#pragma once

namespace boost::program_options {
class options_description;
}

namespace tasim {

int cli_main(int argc, char** argv);

// The options of `tasim run`: also the one list of what a sweep spec's `run:` keys may name.
void add_run_options(boost::program_options::options_description& desc);

}  // namespace tasim
