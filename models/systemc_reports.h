// SystemC reports (warnings, errors, fatal) as tasim sees them: warnings and infos are dropped,
// errors and fatals are thrown as sc_report, which each simulation entry point turns into one
// tasim::Error line instead of a stack dump or an abort.
#pragma once

#include <systemc>

namespace tasim {

inline void install_systemc_report_handler() {
  using namespace sc_core;
  sc_report_handler::set_actions(SC_WARNING, SC_DO_NOTHING);
  sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);
  sc_report_handler::set_actions(SC_ERROR, SC_THROW);
  sc_report_handler::set_actions(SC_FATAL, SC_THROW);
}

}  // namespace tasim
