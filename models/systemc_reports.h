// SystemC reports (warnings, errors, fatal) as tasim sees them: warnings and infos are dropped,
// errors and fatals are thrown as sc_report, which each simulation entry point turns into one
// tasim::Error line instead of a stack dump or an abort.
#pragma once

#include <string>
#include <systemc>

#include "common/error.h"

namespace tasim {

inline void install_systemc_report_handler() {
  using namespace sc_core;
  sc_report_handler::set_actions(SC_WARNING, SC_DO_NOTHING);
  sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);
  sc_report_handler::set_actions(SC_ERROR, SC_THROW);
  sc_report_handler::set_actions(SC_FATAL, SC_THROW);
}

// The tasim::Error for a SystemC report, one line without SystemC's framing. An exception thrown
// inside a SystemC process (a tasim::Error from a model) reaches sc_start() as a report of type
// "uncaught exception" whose message is the original one: it is given as is.
inline Error error_from_report(const sc_core::sc_report& report) {
  std::string msg = report.get_msg() ? report.get_msg() : "";
  const std::string type = report.get_msg_type() ? report.get_msg_type() : "";
  if (type.find("uncaught exception") != std::string::npos) return Error(msg);
  for (char& c : msg) {
    if (c == '\n') c = ' ';
  }
  return Error("simulation error: " + msg + " (SystemC " + (report.get_msg_type() ? report.get_msg_type() : "?") + ")");
}

}  // namespace tasim
