#include "arch/run_stats.h"

namespace tasim {

const char* stall_reason_name(StallReason r) {
  switch (r) {
    case StallReason::semaphore: return "semaphore";
    case StallReason::barrier: return "barrier";
    case StallReason::sram_port: return "sram_port";
    case StallReason::hbm: return "hbm";
    case StallReason::starved: return "starved";
    case StallReason::noc: return "noc";
  }
  return "?";
}

}  // namespace tasim
