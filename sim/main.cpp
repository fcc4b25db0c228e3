#include "sim/cli.h"

int main(int argc, char** argv) { return tasim::cli_main(argc, argv); }

// libsystemc's own main() refers to sc_main; ours takes over, so this one is never called.
extern "C" int sc_main(int, char**) { return 0; }
