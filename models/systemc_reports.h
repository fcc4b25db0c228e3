// The boundary between tasim and the SystemC kernel: SystemC reports (warnings, errors, fatal) as
// tasim sees them (warnings and infos dropped, errors and fatals thrown as sc_report and turned
// into one tasim::Error line instead of a stack dump or an abort), and errors raised inside the
// models' SystemC processes, carried out of sc_start() by hand.
#pragma once

#include <exception>
#include <string>
#include <systemc>
#include <utility>

#include "common/error.h"

namespace tasim {

inline void install_systemc_report_handler() {
  using namespace sc_core;
  sc_report_handler::set_actions(SC_WARNING, SC_DO_NOTHING);
  sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);
  sc_report_handler::set_actions(SC_ERROR, SC_THROW);
  sc_report_handler::set_actions(SC_FATAL, SC_THROW);
}

// The tasim::Error for a SystemC report (an error of the kernel itself: the models' own errors
// leave through run_simulation()), one line without SystemC's framing.
inline Error error_from_report(const sc_core::sc_report& report) {
  std::string msg = report.get_msg() ? report.get_msg() : "";
  for (char& c : msg) {
    if (c == '\n') c = ' ';
  }
  return Error("simulation error: " + msg + " (SystemC " + (report.get_msg_type() ? report.get_msg_type() : "?") + ")");
}

// The first error raised inside a process of the current simulation (one per OS process, like
// SystemC's own state).
inline std::exception_ptr& process_error() {
  static std::exception_ptr first;
  return first;
}

// Runs the body of a SystemC process (every SC_THREAD and spawned process of models/). An
// exception is kept and the simulation stopped; run_simulation() rethrows it. Letting it escape
// into the kernel instead would make SystemC report it as an "uncaught exception" and rethrow it
// from a coroutine's exit path, on a stack AddressSanitizer cannot follow (docs/reliability.md).
template <class Body>
void guard_process(Body&& body) {
  try {
    body();
  } catch (...) {
    if (!process_error()) process_error() = std::current_exception();
    sc_core::sc_stop();
  }
}

// sc_start() to the end (or to the first error): an error raised in a process, or a SystemC
// report, comes out as the tasim::Error it is.
inline void run_simulation() {
  try {
    sc_core::sc_start();
  } catch (const sc_core::sc_report& report) {
    throw error_from_report(report);
  }
  if (std::exception_ptr e = std::exchange(process_error(), nullptr)) std::rethrow_exception(e);
}

}  // namespace tasim
