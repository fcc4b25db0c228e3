// Trace output for the simulator: a small interface with two streamed implementations,
// Perfetto's native protobuf format (.pftrace, the default: compact, opens in ui.perfetto.dev)
// and Chrome JSON (the fallback, 2-10x larger, readable by chrome://tracing and Perfetto).
//
// Model: a process per chip, a thread track per unit (one slice stream each: slices on one
// track must nest, overlapping work needs separate tracks), counter tracks per chip or unit.
// Both writers stream to disk through a 1 MiB buffer, so a trace never lives in memory, and
// both are deterministic: the same calls produce the same bytes.
//
// Cost: begin/end/counter/instant do no allocation once a name has been seen; names are
// interned in a hash map keyed by string_view, so callers may pass views of temporaries.
// Every distinct slice or arg name is kept for the whole run (and sent once per track), so
// names should come from a small set ("matmul", "dma_in"); per-instance detail (layer, tile,
// bytes) belongs in args. Not thread-safe (SystemC runs one thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tasim::trace {

// A track: a process (chip), a thread (unit) or a counter. Ids are dense, from 0, in creation
// order, and belong to the writer that made them.
using TrackId = std::uint64_t;

// One key/value argument of a slice, shown in the UI's details pane. Aggregate, so both
// `Arg{"bytes", 4096}` and `Arg::string("op", "matmul")` work; the views must stay valid only
// for the duration of the call.
struct Arg {
  std::string_view name;
  std::int64_t int_value = 0;
  std::string_view string_value = {};
  bool is_string = false;
  bool is_double = false;
  double double_value = 0.0;

  static constexpr Arg integer(std::string_view name, std::int64_t value) {
    return Arg{name, value, {}, false, false, 0.0};
  }
  static constexpr Arg string(std::string_view name, std::string_view value) {
    return Arg{name, 0, value, true, false, 0.0};
  }
  static constexpr Arg real(std::string_view name, double value) {
    return Arg{name, 0, {}, false, true, value};
  }
};

// Misuse (an unknown track, a slice on a counter track, end() with no open slice, a
// timestamp going backwards on a track, a call after close()) throws tasim::Error naming the
// track, so a simulator bug shows up where it happens rather than as a broken trace.
class TraceWriter {
 public:
  virtual ~TraceWriter() = default;

  // A chip. pid must be >= 1 (Perfetto reserves pid 0 for the idle process) and unique.
  virtual TrackId add_process(int pid, const std::string& name) = 0;
  // A unit of a process: one slice stream. Each gets its own tid (unique across the trace).
  virtual TrackId add_thread(TrackId process, const std::string& name) = 0;
  // A counter under a process or a thread, e.g. ("hbm_read", "GB/s").
  virtual TrackId add_counter(TrackId parent, const std::string& name,
                              const std::string& unit_name) = 0;

  // Slices on a process or thread track; timestamps in ns, non-decreasing per track.
  virtual void begin(TrackId track, std::uint64_t ts_ns, std::string_view name,
                     const Arg* args = nullptr, std::size_t num_args = 0) = 0;
  virtual void end(TrackId track, std::uint64_t ts_ns) = 0;
  virtual void counter(TrackId track, std::uint64_t ts_ns, double value) = 0;
  virtual void instant(TrackId track, std::uint64_t ts_ns, std::string_view name) = 0;

  // A begin that is also one end of a flow arrow (e.g. a send on one chip, the receive on
  // another). The first begin naming a flow_id starts the arrow; a later one with
  // terminating = false continues it, one with terminating = true ends it, after which the
  // id may be reused.
  virtual void begin_with_flow(TrackId track, std::uint64_t ts_ns, std::string_view name,
                               std::uint64_t flow_id, bool terminating,
                               const Arg* args = nullptr, std::size_t num_args = 0) = 0;

  // Flushes, closes and keeps the file (common/output_file.h: a regular file replaces the old one
  // only now); throws tasim::Error if the data cannot be written. A writer destroyed without
  // close() keeps nothing: a failed run leaves no half trace and an existing one untouched.
  virtual void close() = 0;
  // Bytes produced so far (buffered included); the file's size once closed.
  virtual std::uint64_t bytes_written() const = 0;
};

enum class Format { perfetto, json };

// Opens (truncates) path for writing; throws tasim::Error naming the path if it cannot.
std::unique_ptr<TraceWriter> open_trace(const std::string& path, Format format);

// "perfetto" | "json"; anything else throws tasim::Error listing the valid names.
Format parse_trace_format(const std::string& name);
const char* format_name(Format format);

}  // namespace tasim::trace
