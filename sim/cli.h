// The tasim command line: `tasim <command> [options]`. Returns the process exit code:
// 0 success, 2 bad input (one line on stderr), 1 internal error.
#pragma once

namespace tasim {

int cli_main(int argc, char** argv);

}  // namespace tasim
